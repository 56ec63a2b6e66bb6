/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit tests: lfpat/breaker.h and its twin lfp_locked_breaker, driven by a
 * fake clock through one table of operations; a differential run. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "lfpat.h"

#define MS 1000000LL

typedef struct brk_ops {
    int (*init)(void *, const struct lfp_breaker_config *);
    void (*destroy)(void *);
    int (*allow)(void *, int64_t, lfp_breaker_ticket *);
    int (*record)(void *, lfp_breaker_ticket, bool, int64_t);
    lfp_breaker_state (*state)(void *, uint32_t *);
} brk_ops;

static int lf_init(void *b, const struct lfp_breaker_config *c) { return lfp_breaker_init(b, c); }
static void lf_destroy(void *b) { lfp_breaker_destroy(b); }
static int lf_allow(void *b, int64_t now, lfp_breaker_ticket *t) { return lfp_breaker_allow_at(b, now, t); }
static int lf_record(void *b, lfp_breaker_ticket t, bool ok, int64_t now)
{
    return lfp_breaker_record_at(b, t, ok, now);
}
static lfp_breaker_state lf_state(void *b, uint32_t *g) { return lfp_breaker_state_of(b, g); }
static int lk_init(void *b, const struct lfp_breaker_config *c) { return lfp_locked_breaker_init(b, c); }
static void lk_destroy(void *b) { lfp_locked_breaker_destroy(b); }
static int lk_allow(void *b, int64_t now, lfp_breaker_ticket *t)
{
    return lfp_locked_breaker_allow_at(b, now, t);
}
static int lk_record(void *b, lfp_breaker_ticket t, bool ok, int64_t now)
{
    return lfp_locked_breaker_record_at(b, t, ok, now);
}
static lfp_breaker_state lk_state(void *b, uint32_t *g) { return lfp_locked_breaker_state_of(b, g); }

static const brk_ops impls[] = {
    { lf_init, lf_destroy, lf_allow, lf_record, lf_state },
    { lk_init, lk_destroy, lk_allow, lk_record, lk_state },
};
#define FOR_EACH_IMPL for (const brk_ops *o = impls; o < impls + 2; o++)

typedef union { lfp_breaker a; lfp_locked_breaker b; } any_breaker;

/* Callback log. */
struct change { lfp_breaker_state from, to; uint32_t gen; };
static struct change log_[64];
static int logged;
static void on_change(void *arg, lfp_breaker_state from, lfp_breaker_state to, uint32_t gen)
{
    (void)arg;
    if (logged < 64)
        log_[logged++] = (struct change){ from, to, gen };
}

static struct lfp_breaker_config base_cfg(void)
{
    return (struct lfp_breaker_config){ .failure_threshold = 3, .window_ns = 1000 * MS,
                                        .window_buckets = 10, .open_ns = 100 * MS,
                                        .max_probes = 2, .close_after = 3,
                                        .on_change = on_change };
}

/* For cycling fast: no callback, no pause, the first probe's success closes. */
static struct lfp_breaker_config cycle_cfg(void)
{
    struct lfp_breaker_config c = base_cfg();
    c.on_change = NULL;
    c.open_ns = 0;
    c.close_after = 1;
    return c;
}

/* Initialise b with c and an empty change log. */
static void init_logged(const brk_ops *o, any_breaker *b, const struct lfp_breaker_config *c)
{
    logged = 0;
    assert_int_equal(o->init(b, c), 0);
}

static void bad_input(void **state)
{
    (void)state;
    FOR_EACH_IMPL {
        any_breaker b;
        struct lfp_breaker_config c = base_cfg(), bad;
        lfp_breaker_ticket t;
        assert_int_equal(o->init(NULL, &c), EINVAL);
        assert_int_equal(o->init(&b, NULL), EINVAL);
#define BAD(field, value)                                                  \
        bad = c;                                                           \
        bad.field = value;                                                 \
        assert_int_equal(o->init(&b, &bad), EINVAL);
        BAD(failure_threshold, 0)
        BAD(failure_threshold, LFP_BREAKER_MAX_THRESHOLD + 1)
        BAD(window_ns, 0)
        BAD(window_ns, -5)
        BAD(window_ns, 1001)                   /* not a multiple of the buckets */
        BAD(window_buckets, 0)
        BAD(window_buckets, LFP_BREAKER_MAX_BUCKETS + 1)
        BAD(open_ns, -1)
        BAD(open_ns, INT64_MAX)
        BAD(max_probes, 0)
        BAD(max_probes, LFP_BREAKER_MAX_PROBES + 1)
        BAD(close_after, 0)
#undef BAD
        assert_int_equal(o->init(&b, &c), 0);
        assert_int_equal(o->allow(NULL, 0, &t), EINVAL);
        assert_int_equal(o->allow(&b, 0, NULL), EINVAL);
        assert_int_equal(o->record(NULL, t, true, 0), EINVAL);
        /* a ticket this breaker never issued */
        assert_int_equal(o->record(&b, (lfp_breaker_ticket){ 7, false }, false, 0), ESTALE);
        assert_int_equal(o->record(&b, (lfp_breaker_ticket){ 0, true }, false, 0), ESTALE);
        assert_int_equal(o->state(&b, NULL), LFP_BREAKER_CLOSED);
        o->destroy(&b);
        o->destroy(NULL);
    }
    assert_string_equal(lfp_breaker_state_name(LFP_BREAKER_HALF_OPEN), "HALF_OPEN");
}

static void expect_change(int i, lfp_breaker_state from, lfp_breaker_state to, uint32_t gen)
{
    assert_true(i < logged);
    assert_int_equal(log_[i].from, from);
    assert_int_equal(log_[i].to, to);
    assert_int_equal(log_[i].gen, gen);
}

static void full_cycle(void **state)
{
    (void)state;
    FOR_EACH_IMPL {
        any_breaker b;
        struct lfp_breaker_config c = base_cfg();
        lfp_breaker_ticket t, old, p1, p2, p3;
        uint32_t gen;
        init_logged(o, &b, &c);
        /* CLOSED: failures in the window; successes do not reset a window */
        assert_int_equal(o->allow(&b, 0, &old), 0);
        assert_false(old.probe);
        assert_int_equal(o->allow(&b, 0, &t), 0);
        assert_int_equal(o->record(&b, t, false, 0), 0);
        assert_int_equal(o->record(&b, t, true, 100 * MS), 0);
        assert_int_equal(o->record(&b, t, false, 200 * MS), 0);
        assert_int_equal(o->state(&b, NULL), LFP_BREAKER_CLOSED);
        assert_int_equal(o->record(&b, t, false, 300 * MS), 0);   /* third: opens */
        assert_int_equal(o->state(&b, &gen), LFP_BREAKER_OPEN);
        assert_int_equal(gen, 1);
        expect_change(0, LFP_BREAKER_CLOSED, LFP_BREAKER_OPEN, 1);
        /* OPEN: rejected until the pause ends; a stale result is ignored */
        assert_int_equal(o->allow(&b, 350 * MS, &t), EAGAIN);
        assert_int_equal(o->record(&b, old, false, 350 * MS), ESTALE);
        assert_int_equal(o->allow(&b, 300 * MS + 200 * MS, &p1), 0);
        assert_true(p1.probe);
        assert_int_equal(o->state(&b, &gen), LFP_BREAKER_HALF_OPEN);
        assert_int_equal(gen, 2);
        expect_change(1, LFP_BREAKER_OPEN, LFP_BREAKER_HALF_OPEN, 2);
        /* HALF_OPEN: at most 2 in flight; a finished probe frees its slot */
        assert_int_equal(o->allow(&b, 510 * MS, &p2), 0);
        assert_int_equal(o->allow(&b, 510 * MS, &t), EAGAIN);
        assert_int_equal(o->record(&b, p1, true, 520 * MS), 0);
        assert_int_equal(o->allow(&b, 520 * MS, &p3), 0);
        assert_int_equal(o->allow(&b, 520 * MS, &t), EAGAIN);
        assert_int_equal(o->record(&b, p2, true, 530 * MS), 0);
        assert_int_equal(o->state(&b, NULL), LFP_BREAKER_HALF_OPEN);
        assert_int_equal(o->record(&b, p3, true, 540 * MS), 0);    /* third success */
        assert_int_equal(o->state(&b, &gen), LFP_BREAKER_CLOSED);
        assert_int_equal(gen, 3);
        expect_change(2, LFP_BREAKER_HALF_OPEN, LFP_BREAKER_CLOSED, 3);
        /* the old period's failures (still inside the window) do not count */
        assert_int_equal(o->allow(&b, 600 * MS, &t), 0);
        assert_int_equal(o->record(&b, t, false, 600 * MS), 0);
        assert_int_equal(o->record(&b, t, false, 610 * MS), 0);
        assert_int_equal(o->state(&b, NULL), LFP_BREAKER_CLOSED);
        assert_int_equal(logged, 3);
        o->destroy(&b);
    }
}

static void failures_age_out_of_window(void **state)
{
    (void)state;
    FOR_EACH_IMPL {
        any_breaker b;
        struct lfp_breaker_config c = base_cfg();
        lfp_breaker_ticket t;
        init_logged(o, &b, &c);
        assert_int_equal(o->allow(&b, 0, &t), 0);
        assert_int_equal(o->record(&b, t, false, 50 * MS), 0);
        assert_int_equal(o->record(&b, t, false, 900 * MS), 0);
        assert_int_equal(o->record(&b, t, false, 1500 * MS), 0);   /* the first aged out */
        assert_int_equal(o->state(&b, NULL), LFP_BREAKER_CLOSED);
        assert_int_equal(o->record(&b, t, false, 1600 * MS), 0);   /* 900, 1500, 1600 */
        assert_int_equal(o->state(&b, NULL), LFP_BREAKER_OPEN);
        o->destroy(&b);
    }
}

static void failed_probe_reopens_and_strands_others(void **state)
{
    (void)state;
    FOR_EACH_IMPL {
        any_breaker b;
        struct lfp_breaker_config c = base_cfg();
        c.failure_threshold = 1;
        c.open_ns = 0;
        lfp_breaker_ticket t, p1, p2;
        uint32_t gen;
        init_logged(o, &b, &c);
        assert_int_equal(o->allow(&b, 0, &t), 0);
        assert_int_equal(o->record(&b, t, false, 0), 0);          /* open, gen 1 */
        assert_int_equal(o->allow(&b, 0, &p1), 0);                /* open_ns 0: probe at once */
        assert_int_equal(o->allow(&b, 0, &p2), 0);
        assert_int_equal(o->record(&b, p1, false, 5 * MS), 0);     /* reopen, gen 3 */
        assert_int_equal(o->state(&b, &gen), LFP_BREAKER_OPEN);
        assert_int_equal(gen, 3);
        assert_int_equal(o->record(&b, p2, true, 6 * MS), ESTALE); /* its period ended */
        assert_int_equal(logged, 3);
        expect_change(2, LFP_BREAKER_HALF_OPEN, LFP_BREAKER_OPEN, 3);
        o->destroy(&b);
    }
}

/* Drive one CLOSED period at `now`: threshold - 1 failures leave it CLOSED
 * (so nothing from an earlier period counts), one more opens it; then probe
 * one tick later (open_ns 0: the pause ends at the next tick) and close
 * again (close_after 1). Returns the time of the probe. */
static int64_t one_cycle(const brk_ops *o, void *b, uint32_t threshold, int64_t now)
{
    lfp_breaker_ticket t, p;
    assert_int_equal(o->allow(b, now, &t), 0);
    assert_false(t.probe);
    for (uint32_t i = 0; i + 1 < threshold; i++)
        assert_int_equal(o->record(b, t, false, now), 0);
    assert_int_equal(o->state(b, NULL), LFP_BREAKER_CLOSED);
    assert_int_equal(o->record(b, t, false, now), 0);
    assert_int_equal(o->state(b, NULL), LFP_BREAKER_OPEN);
    assert_int_equal(o->record(b, t, false, now), ESTALE);     /* stale: ignored */
    now += LFP_BREAKER_TICK_NS;
    assert_int_equal(o->allow(b, now, &p), 0);
    assert_true(p.probe);
    assert_int_equal(o->record(b, p, true, now), 0);
    assert_int_equal(o->state(b, NULL), LFP_BREAKER_CLOSED);
    return now;
}

/* Many open/close cycles inside one window: each CLOSED period starts with
 * an empty window however many periods share the window's time span. */
static void many_cycles_within_one_window(void **state)
{
    (void)state;
    FOR_EACH_IMPL {
        any_breaker b;
        struct lfp_breaker_config c = cycle_cfg();
        uint32_t gen;
        assert_int_equal(o->init(&b, &c), 0);
        int64_t now = 200 * MS;
        for (int i = 0; i < 500; i++)   /* 500 ticks: about half the window */
            now = one_cycle(o, &b, c.failure_threshold, now);
        assert_int_equal(o->state(&b, &gen), LFP_BREAKER_CLOSED);
        assert_int_equal(gen, 1500);
        o->destroy(&b);
    }
}

/* Clock values far apart: long idle gaps and a clock near the end of int64;
 * the failures in one window are counted each time. */
static void extreme_clocks(void **state)
{
    (void)state;
    const int64_t day = 86400 * 1000 * MS;
    const int64_t at[] = { 0, 100 * day, 101 * day + 7, INT64_MAX - 2000 * MS };
    FOR_EACH_IMPL {
        any_breaker b;
        struct lfp_breaker_config c = cycle_cfg();
        assert_int_equal(o->init(&b, &c), 0);
        for (size_t i = 0; i < sizeof at / sizeof at[0]; i++)
            one_cycle(o, &b, c.failure_threshold, at[i]);
        o->destroy(&b);
    }
}

/* The generation wraps at 2^30: the failure window stays per generation
 * across the wrap (white box: the state word is set just below it). */
static void generation_wrap(void **state)
{
    (void)state;
    lfp_breaker b;
    struct lfp_breaker_config c = cycle_cfg();
    assert_int_equal(lfp_breaker_init(&b, &c), 0);
    atomic_store(&b.state, lfp_brk_word_(LFP_BREAKER_CLOSED, LFP_BRK_GEN_MASK_ - 4, 0));
    int64_t now = 300 * MS;
    for (int i = 0; i < 4; i++)
        now = one_cycle(&impls[0], &b, c.failure_threshold, now);
    uint32_t gen;
    assert_int_equal(lfp_breaker_state_of(&b, &gen), LFP_BREAKER_CLOSED);
    assert_int_equal(gen, (LFP_BRK_GEN_MASK_ - 4 + 12) & LFP_BRK_GEN_MASK_);
    lfp_breaker_destroy(&b);
}

/* Fake-clock idle gaps from a second to ten years, checked against the
 * specification (not the twin): once open_ns has passed since the breaker
 * opened (plus the tick the pause end is rounded up to), the next allow() is
 * admitted as a HALF_OPEN probe; before open_ns has passed it is refused.
 * Each gap is tried from several opening times (0, just before a 2^31-tick
 * boundary of the tick counter, far along the clock) and pause lengths (0,
 * 100 ms, the largest allowed). The old code kept the pause end as a 32-bit
 * tick compared as a signed 32-bit difference: after about 26 days idle
 * (2^31 ticks of 2^20 ns) it refused calls for about 26 more. */
static const int64_t SEC = 1000 * MS;
#define DAY (86400 * SEC)
static const int64_t idle_gaps[] = {
    1000 * MS, 3600 * 1000 * MS, 26 * DAY, 27 * DAY, 50 * DAY,
    365 * DAY, 3652 * DAY,
};
static const int64_t open_times[] = {
    0, 7 * SEC, ((int64_t)1 << 51) - 3 * SEC, 1000 * DAY + 12345,
};

static void open_pause_ends_after_any_idle_gap(void **state)
{
    (void)state;
    const int64_t pauses[] = { 0, 100 * MS, ((int64_t)1 << 50) - 1 };
    FOR_EACH_IMPL {
        for (size_t pi = 0; pi < sizeof pauses / sizeof pauses[0]; pi++)
            for (size_t ti = 0; ti < sizeof open_times / sizeof open_times[0]; ti++)
                for (size_t gi = 0; gi < sizeof idle_gaps / sizeof idle_gaps[0]; gi++) {
                    any_breaker b;
                    struct lfp_breaker_config c = cycle_cfg();
                    c.failure_threshold = 1;
                    c.open_ns = pauses[pi];
                    lfp_breaker_ticket t, p;
                    int64_t t0 = open_times[ti], gap = idle_gaps[gi];
                    assert_int_equal(o->init(&b, &c), 0);
                    assert_int_equal(o->allow(&b, t0, &t), 0);
                    assert_int_equal(o->record(&b, t, false, t0), 0);
                    assert_int_equal(o->state(&b, NULL), LFP_BREAKER_OPEN);
                    int64_t at = t0 + gap;
                    int expect = gap >= c.open_ns + LFP_BREAKER_TICK_NS ? 0
                               : gap < c.open_ns                   ? EAGAIN
                                                                   : -1;   /* within the rounding tick */
                    int rc = o->allow(&b, at, &p);
                    if (expect >= 0 && rc != expect)
                        fail_msg("open_ns %lld, opened at %lld ns, idle %lld s: allow %d, want %d",
                                 (long long)c.open_ns, (long long)t0,
                                 (long long)(gap / SEC), rc, expect);
                    if (rc == 0) {
                        assert_true(p.probe);
                        assert_int_equal(o->state(&b, NULL), LFP_BREAKER_HALF_OPEN);
                    }
                    o->destroy(&b);
                }
    }
}

/* The same gaps for a pause that is still running: opened at t0 with a pause
 * longer than the gap, it must refuse (the end is not wrapped into the past),
 * and admit once the pause has passed. */
static void open_pause_holds_until_it_ends(void **state)
{
    (void)state;
    FOR_EACH_IMPL {
        for (size_t ti = 0; ti < sizeof open_times / sizeof open_times[0]; ti++) {
            any_breaker b;
            struct lfp_breaker_config c = cycle_cfg();
            c.failure_threshold = 1;
            c.open_ns = ((int64_t)1 << 50) - 1;   /* about 13 days */
            lfp_breaker_ticket t, p;
            int64_t t0 = open_times[ti];
            assert_int_equal(o->init(&b, &c), 0);
            assert_int_equal(o->allow(&b, t0, &t), 0);
            assert_int_equal(o->record(&b, t, false, t0), 0);
            assert_int_equal(o->allow(&b, t0 + SEC, &p), EAGAIN);
            assert_int_equal(o->allow(&b, t0 + 12 * DAY, &p), EAGAIN);
            assert_int_equal(o->allow(&b, t0 + c.open_ns - 1, &p), EAGAIN);
            assert_int_equal(o->allow(&b, t0 + c.open_ns + LFP_BREAKER_TICK_NS, &p), 0);
            assert_true(p.probe);
            o->destroy(&b);
        }
    }
}

/* The failure window after the same idle gaps (the breaker counts failures
 * in an lfp_rolling on a virtual clock): failures from before a gap longer
 * than the window never count after it, and the failures after it count
 * exactly (threshold - 1 leave it CLOSED, one more opens it). */
static void failure_window_after_idle_gaps(void **state)
{
    (void)state;
    const int64_t windows[] = { 100 * MS, 1000 * MS, 60 * SEC };
    FOR_EACH_IMPL {
        for (size_t wi = 0; wi < sizeof windows / sizeof windows[0]; wi++)
        for (size_t ti = 0; ti < sizeof open_times / sizeof open_times[0]; ti++)
            for (size_t gi = 0; gi < sizeof idle_gaps / sizeof idle_gaps[0]; gi++) {
                any_breaker b;
                struct lfp_breaker_config c = base_cfg();   /* 3 in the window, 10 buckets */
                c.on_change = NULL;
                c.window_ns = windows[wi];
                if (idle_gaps[gi] < 2 * c.window_ns)
                    continue;   /* the old failures are still in the window */
                lfp_breaker_ticket t;
                int64_t t0 = open_times[ti], at = t0 + idle_gaps[gi];
                assert_int_equal(o->init(&b, &c), 0);
                assert_int_equal(o->allow(&b, t0, &t), 0);
                assert_int_equal(o->record(&b, t, false, t0), 0);
                assert_int_equal(o->record(&b, t, false, t0 + 5 * MS), 0);
                assert_int_equal(o->state(&b, NULL), LFP_BREAKER_CLOSED);
                assert_int_equal(o->allow(&b, at, &t), 0);
                assert_int_equal(o->record(&b, t, false, at), 0);
                assert_int_equal(o->record(&b, t, false, at + 1 * MS), 0);
                if (o->state(&b, NULL) != LFP_BREAKER_CLOSED)
                    fail_msg("window %lld ms, idle %lld s after t0 %lld: old failures counted",
                             (long long)(c.window_ns / MS), (long long)(idle_gaps[gi] / SEC),
                             (long long)t0);
                assert_int_equal(o->record(&b, t, false, at + 2 * MS), 0);
                assert_int_equal(o->state(&b, NULL), LFP_BREAKER_OPEN);
                o->destroy(&b);
            }
    }
}

/* The failure window's own wrap-arounds: a 10 ms window (1 ms buckets)
 * idle for exactly 2^24 windows (1.94 days: the 24-bit laps of lfp_rolling,
 * which the breaker used first, read the old failures as current and opened
 * after two new ones), just short of it (new failures were dropped: it did
 * not open after three), and 2^32 buckets (49.7 days: the twin's 32-bit
 * bucket numbers). Checked against the spec: two old failures never count,
 * two new ones leave it CLOSED, a third opens it. */
static void failure_window_wraps(void **state)
{
    (void)state;
    const int64_t w = 10 * MS;
    const int64_t gaps[] = {
        ((int64_t)1 << 24) * w, (((int64_t)1 << 24) - 100) * w, ((int64_t)1 << 24) * w + 3 * MS,
        ((int64_t)1 << 32) * MS, 2 * ((int64_t)1 << 24) * w,
    };
    FOR_EACH_IMPL {
        for (size_t gi = 0; gi < sizeof gaps / sizeof gaps[0]; gi++) {
            any_breaker b;
            struct lfp_breaker_config c = base_cfg();   /* 3 in the window, 10 buckets */
            c.on_change = NULL;
            c.window_ns = w;
            lfp_breaker_ticket t;
            int64_t at = gaps[gi];
            assert_int_equal(o->init(&b, &c), 0);
            assert_int_equal(o->allow(&b, 0, &t), 0);
            assert_int_equal(o->record(&b, t, false, 0), 0);
            assert_int_equal(o->record(&b, t, false, 1 * MS), 0);
            assert_int_equal(o->allow(&b, at, &t), 0);
            assert_int_equal(o->record(&b, t, false, at), 0);
            assert_int_equal(o->record(&b, t, false, at + 1 * MS), 0);
            if (o->state(&b, NULL) != LFP_BREAKER_CLOSED)
                fail_msg("%s: idle %lld ms: old failures counted",
                         o == impls ? "lfp_breaker" : "twin", (long long)(at / MS));
            assert_int_equal(o->record(&b, t, false, at + 2 * MS), 0);
            if (o->state(&b, NULL) != LFP_BREAKER_OPEN)
                fail_msg("%s: idle %lld ms: new failures not counted",
                         o == impls ? "lfp_breaker" : "twin", (long long)(at / MS));
            o->destroy(&b);
        }
    }
}

/* Random allows and results at an advancing fake clock: the breaker and its
 * twin must agree on every answer. */
static void differential_against_twin(void **state)
{
    (void)state;
    lfp_breaker a;
    lfp_locked_breaker l;
    struct lfp_breaker_config c = base_cfg();
    c.on_change = NULL;
    c.failure_threshold = 4;
    c.open_ns = 30 * MS;
    assert_int_equal(lfp_breaker_init(&a, &c), 0);
    assert_int_equal(lfp_locked_breaker_init(&l, &c), 0);
    lfp_breaker_ticket held[8];
    int nheld = 0, transitions = 0;
    uint32_t last_gen = 0;
    int64_t now = 0;
    uint64_t x = 88172645463325252ull;
    for (int step = 0; step < 100000; step++) {
        x ^= x << 13; x ^= x >> 7; x ^= x << 17;
        now += (int64_t)(x % 4) * MS;
        if (x % 3 != 0 || nheld == 0) {
            lfp_breaker_ticket t1, t2;
            int r1 = lfp_breaker_allow_at(&a, now, &t1);
            assert_int_equal(r1, lfp_locked_breaker_allow_at(&l, now, &t2));
            if (r1 == 0) {
                assert_int_equal(t1.gen, t2.gen);
                assert_int_equal(t1.probe, t2.probe);
                if (nheld < 8)
                    held[nheld++] = t1;
            }
        } else {
            int k = (int)((x >> 8) % (uint64_t)nheld);
            bool ok = (x >> 16) % 5 < 3;
            assert_int_equal(lfp_breaker_record_at(&a, held[k], ok, now),
                             lfp_locked_breaker_record_at(&l, held[k], ok, now));
            held[k] = held[--nheld];
        }
        uint32_t g1, g2;
        assert_int_equal(lfp_breaker_state_of(&a, &g1), lfp_locked_breaker_state_of(&l, &g2));
        assert_int_equal(g1, g2);
        transitions += g1 != last_gen;
        last_gen = g1;
    }
    assert_true(transitions > 100);   /* the run exercised every state */
    lfp_breaker_destroy(&a);
    lfp_locked_breaker_destroy(&l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(bad_input),
        cmocka_unit_test(full_cycle),
        cmocka_unit_test(failures_age_out_of_window),
        cmocka_unit_test(failed_probe_reopens_and_strands_others),
        cmocka_unit_test(many_cycles_within_one_window),
        cmocka_unit_test(extreme_clocks),
        cmocka_unit_test(generation_wrap),
        cmocka_unit_test(differential_against_twin),
        cmocka_unit_test(open_pause_ends_after_any_idle_gap),
        cmocka_unit_test(open_pause_holds_until_it_ends),
        cmocka_unit_test(failure_window_after_idle_gaps),
        cmocka_unit_test(failure_window_wraps),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
