/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit tests for issue 15's "complete the family": waits with deadline and
 * cancel for every limiter. Oracles: the limiter's own take on a copy of
 * its state at every candidate time (the earliest admission time, by brute
 * force), and the monotonic clock for "never early". */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "lfpat.h"
#include "ratelimit_internal.h"

#define MS INT64_C(1000000)
#define SEC INT64_C(1000000000)

static uint64_t rng = 88172645463325252ull;
static uint64_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

/* ------------------------------------------------------------ ready times, by brute force */

/* The first t in [now, now + horizon] at which a copy of the limiter admits
 * n (the copy's take is the oracle); INT64_MAX if none. */
#define FIRST_ADMIT(type, take, w, n, now, horizon)                                 \
    __extension__({                                                                 \
        int64_t found_ = INT64_MAX;                                                 \
        for (int64_t t_ = (now); t_ <= (now) + (horizon); t_++) {                   \
            type c_ = *(w);                                                         \
            if (take(&c_, n, t_) == 0) {                                            \
                found_ = t_;                                                        \
                break;                                                              \
            }                                                                       \
        }                                                                           \
        found_;                                                                     \
    })

static void fwindow_ready_is_first_admission(void **state)
{
    (void)state;
    for (int round = 0; round < 2000; round++) {
        lfp_fwindow w;
        uint32_t limit = 1 + next() % 6;
        int64_t win = 1 + (int64_t)(next() % 40), base = (int64_t)(next() % 1000) - 500;
        assert_int_equal(lfp_fwindow_init(&w, limit, win), 0);
        for (int k = 0; k < 8; k++)
            lfp_fwindow_take_at(&w, 1 + next() % limit, base + (int64_t)(next() % 90));
        uint32_t n = 1 + next() % limit;
        int64_t now = base + (int64_t)(next() % 120);
        int64_t got = lfp_fwindow_ready_at_(&w, n, now);
        assert_int_equal(got, FIRST_ADMIT(lfp_fwindow, lfp_fwindow_take_at, &w, n, now, 300 + 4 * win));
    }
}

static void swindow_ready_is_first_admission(void **state)
{
    (void)state;
    for (int round = 0; round < 3000; round++) {
        lfp_swindow w;
        uint32_t limit = 1 + next() % 7;
        int64_t win = 1 + (int64_t)(next() % 50), base = (int64_t)(next() % 1000) - 500;
        assert_int_equal(lfp_swindow_init(&w, limit, win), 0);
        for (int k = 0; k < 10; k++)
            lfp_swindow_take_at(&w, 1 + next() % limit, base + (int64_t)(next() % 150));
        uint32_t n = 1 + next() % limit;
        int64_t now = base + (int64_t)(next() % 200);
        int64_t got = lfp_swindow_ready_at_(&w, n, now);
        assert_int_equal(got, FIRST_ADMIT(lfp_swindow, lfp_swindow_take_at, &w, n, now, 300 + 4 * win));
    }
}

static void bucket_ready_is_first_admission(void **state)
{
    (void)state;
    for (int round = 0; round < 2000; round++) {
        lfp_bucket b;
        uint32_t burst = 1 + next() % 5;
        assert_int_equal(lfp_bucket_init(&b, 1e9 / (double)(1 + next() % 30), burst), 0);
        int64_t base = (int64_t)(next() % 1000) - 500;
        for (int k = 0; k < 6; k++)
            lfp_bucket_take_at(&b, 1 + next() % burst, base + (int64_t)(next() % 60));
        uint32_t n = 1 + next() % burst;
        int64_t now = base + (int64_t)(next() % 80);
        int64_t got = lfp_bucket_ready_at_(&b, n, now);
        assert_int_equal(got, FIRST_ADMIT(lfp_bucket, lfp_bucket_take_at, &b, n, now, 400));
    }
}

/* The log's copy needs its own ring. */
static void slog_ready_is_first_admission(void **state)
{
    (void)state;
    for (int round = 0; round < 1000; round++) {
        lfp_slog w, c;
        uint32_t limit = 1 + next() % 6;
        int64_t win = 1 + (int64_t)(next() % 40), base = (int64_t)(next() % 1000) - 500;
        assert_int_equal(lfp_slog_init(&w, limit, win), 0);
        assert_int_equal(lfp_slog_init(&c, limit, win), 0);
        int64_t t = base;
        for (int k = 0; k < 8; k++)
            lfp_slog_take_at(&w, 1 + next() % limit, t += (int64_t)(next() % 15));
        uint32_t n = 1 + next() % limit;
        int64_t now = t + (int64_t)(next() % 20), want = INT64_MAX;
        for (int64_t at = now; at <= now + 2 * win && want == INT64_MAX; at++) {
            atomic_store(&c.head, atomic_load(&w.head));
            for (uint32_t i = 0; i < limit; i++)
                atomic_store(&c.ring[i], atomic_load(&w.ring[i]));
            if (lfp_slog_take_at(&c, n, at) == 0)
                want = at;
        }
        assert_int_equal(lfp_slog_ready_at_(&w, n, now), want);
        lfp_slog_destroy(&w);
        lfp_slog_destroy(&c);
    }
}

/* ------------------------------------------------------------ waits */

/* A fake time line far from CLOCK_MONOTONIC: waits sleep the span. */
#define FAKE (INT64_C(1) << 62)

static int64_t elapsed_since(int64_t t0) { return lfp_now() - t0; }

static void fwindow_wait_sleeps_until_next_window(void **state)
{
    (void)state;
    lfp_fwindow w;
    int64_t win = 40 * MS, k0 = FAKE / win * win;
    assert_int_equal(lfp_fwindow_init(&w, 2, win), 0);
    assert_int_equal(lfp_fwindow_take_at(&w, 2, k0 + 10 * MS), 0);
    /* ready at k0 + win, after the deadline: at once, nothing taken */
    assert_int_equal(lfp_fwindow_wait_at(&w, 1, k0 + 10 * MS, k0 + win - 1, NULL), ETIMEDOUT);
    assert_int_equal(lfp_fwindow_take_at(&w, 1, k0 + win - 1), EAGAIN);
    /* within the deadline: sleeps the 30 ms to the next window, never less */
    int64_t t0 = lfp_now();
    assert_int_equal(lfp_fwindow_wait_at(&w, 1, k0 + 10 * MS, k0 + win, NULL), 0);
    assert_true(elapsed_since(t0) >= 30 * MS);
    /* it was charged to the new window: one of two left there */
    assert_int_equal(lfp_fwindow_take_at(&w, 2, k0 + win), EAGAIN);
    assert_int_equal(lfp_fwindow_take_at(&w, 1, k0 + win), 0);
}

static void swindow_wait_sleeps_until_estimate_allows(void **state)
{
    (void)state;
    lfp_swindow w;
    int64_t win = 40 * MS, k0 = FAKE / win * win;
    assert_int_equal(lfp_swindow_init(&w, 4, win), 0);
    assert_int_equal(lfp_swindow_take_at(&w, 4, k0 + win - 1), 0);
    /* next window: est = 4 (W - e) / W + 0, admits 1 from e = W / 4 */
    int64_t now = k0 + win, t0 = lfp_now();
    assert_int_equal(lfp_swindow_ready_at_(&w, 1, now), k0 + win + win / 4);
    assert_int_equal(lfp_swindow_wait_at(&w, 1, now, now + win / 4 - 1, NULL), ETIMEDOUT);
    assert_int_equal(lfp_swindow_wait_at(&w, 1, now, LFP_FOREVER, NULL), 0);
    assert_true(elapsed_since(t0) >= win / 4);
}

static void slog_wait_sleeps_until_oldest_expires(void **state)
{
    (void)state;
    lfp_slog w;
    lfp_locked_slog l;
    int64_t win = 30 * MS;
    assert_int_equal(lfp_slog_init(&w, 2, win), 0);
    assert_int_equal(lfp_locked_slog_init(&l, 2, win), 0);
    assert_int_equal(lfp_slog_take_at(&w, 1, FAKE), 0);
    assert_int_equal(lfp_slog_take_at(&w, 1, FAKE + 10 * MS), 0);
    assert_int_equal(lfp_locked_slog_take_at(&l, 1, FAKE), 0);
    assert_int_equal(lfp_locked_slog_take_at(&l, 1, FAKE + 10 * MS), 0);
    int64_t now = FAKE + 10 * MS;
    /* 2 need both entries gone: from FAKE + 40 ms */
    assert_int_equal(lfp_slog_wait_at(&w, 2, now, FAKE + 40 * MS - 1, NULL), ETIMEDOUT);
    assert_int_equal(lfp_locked_slog_wait_at(&l, 2, now, FAKE + 40 * MS - 1, NULL), ETIMEDOUT);
    assert_int_equal(lfp_slog_count_at(&w, now), 2);
    int64_t t0 = lfp_now();
    assert_int_equal(lfp_slog_wait_at(&w, 1, now, FAKE + 30 * MS, NULL), 0);
    assert_true(elapsed_since(t0) >= 20 * MS);
    t0 = lfp_now();
    assert_int_equal(lfp_locked_slog_wait_at(&l, 1, now, FAKE + 30 * MS, NULL), 0);
    assert_true(elapsed_since(t0) >= 20 * MS);
    lfp_slog_destroy(&w);
    lfp_locked_slog_destroy(&l);
}

/* The bucket's _at wait sleeps ready - now, not until `ready` read as a
 * CLOCK_MONOTONIC time (it returned at once for a fake clock behind it). */
static void bucket_wait_at_sleeps_the_span(void **state)
{
    (void)state;
    lfp_bucket b;
    assert_int_equal(lfp_bucket_init(&b, 20, 1), 0);   /* T = 50 ms */
    assert_int_equal(lfp_bucket_take_at(&b, 1, 1000), 0);
    int64_t t0 = lfp_now();
    assert_int_equal(lfp_bucket_wait_at(&b, 1, 1000, LFP_FOREVER, NULL), 0);
    assert_true(elapsed_since(t0) >= 50 * MS);
}

static void limit_all_wait_waits_for_the_latest(void **state)
{
    (void)state;
    lfp_bucket b;
    lfp_fwindow f;
    int64_t win = 60 * MS, k0 = FAKE / win * win;
    assert_int_equal(lfp_bucket_init(&b, 50, 1), 0);   /* T = 20 ms */
    assert_int_equal(lfp_fwindow_init(&f, 1, win), 0);
    lfp_limiter ls[2] = { { LFP_LIMITER_BUCKET, &b }, { LFP_LIMITER_FWINDOW, &f } };
    assert_int_equal(lfp_limit_all_at(ls, 2, 1, k0), 0);
    /* bucket ready at k0 + 20 ms, window at k0 + 60 ms: the latter */
    assert_int_equal(lfp_limit_all_wait_at(ls, 2, 1, k0, k0 + win - 1, NULL), ETIMEDOUT);
    assert_int_equal(lfp_bucket_take_at(&b, 1, k0 + 20 * MS), 0);   /* untouched by the wait */
    int64_t t0 = lfp_now();
    assert_int_equal(lfp_limit_all_wait_at(ls, 2, 1, k0 + 20 * MS, LFP_FOREVER, NULL), 0);
    assert_true(elapsed_since(t0) >= 40 * MS);
    assert_int_equal(lfp_fwindow_take_at(&f, 1, k0 + win), EAGAIN);
}

/* A wait parked until a ready time 20 s away returns ECANCELED when the
 * token fires, having taken nothing (a lost cancel would return 0 after
 * 20 s: the test fails, it does not hang). */
typedef struct canceller {
    lfp_cancel *c;
    _Atomic int go;
} canceller;

static void *fire(void *p)
{
    canceller *k = p;
    while (!atomic_load(&k->go))
        ;
    lfp_cancel_fire(k->c, 1);
    return NULL;
}

typedef int (*wait_fn)(void *obj, int64_t now, lfp_cancel *c);

static void cancel_case(wait_fn wait, void *obj, int64_t now)
{
    lfp_cancel c;
    assert_int_equal(lfp_cancel_init(&c, NULL), 0);
    canceller k = { &c, 0 };
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, fire, &k), 0);
    atomic_store(&k.go, 1);
    assert_int_equal(wait(obj, now, &c), ECANCELED);
    pthread_join(th, NULL);
    /* already fired: at once */
    assert_int_equal(wait(obj, now, &c), ECANCELED);
    lfp_cancel_destroy(&c);
}

#define WIN20 (20 * SEC)
static int fw_wait(void *w, int64_t now, lfp_cancel *c)
{
    return lfp_fwindow_wait_at(w, 1, now, LFP_FOREVER, c);
}
static int sw_wait(void *w, int64_t now, lfp_cancel *c)
{
    return lfp_swindow_wait_at(w, 1, now, LFP_FOREVER, c);
}
static int sl_wait(void *w, int64_t now, lfp_cancel *c)
{
    return lfp_slog_wait_at(w, 1, now, LFP_FOREVER, c);
}
static int lsl_wait(void *w, int64_t now, lfp_cancel *c)
{
    return lfp_locked_slog_wait_at(w, 1, now, LFP_FOREVER, c);
}
static int all_wait(void *ls, int64_t now, lfp_cancel *c)
{
    return lfp_limit_all_wait_at(ls, 2, 1, now, LFP_FOREVER, c);
}

static void waits_cancel_taking_nothing(void **state)
{
    (void)state;
    int64_t k0 = FAKE / WIN20 * WIN20;
    lfp_fwindow f;
    lfp_swindow s;
    lfp_slog g;
    lfp_locked_slog lg;
    assert_int_equal(lfp_fwindow_init(&f, 1, WIN20), 0);
    assert_int_equal(lfp_swindow_init(&s, 1, WIN20), 0);
    assert_int_equal(lfp_slog_init(&g, 1, WIN20), 0);
    assert_int_equal(lfp_locked_slog_init(&lg, 1, WIN20), 0);
    assert_int_equal(lfp_fwindow_take_at(&f, 1, k0), 0);
    assert_int_equal(lfp_swindow_take_at(&s, 1, k0), 0);
    assert_int_equal(lfp_slog_take_at(&g, 1, k0), 0);
    assert_int_equal(lfp_locked_slog_take_at(&lg, 1, k0), 0);
    cancel_case(fw_wait, &f, k0);
    cancel_case(sw_wait, &s, k0);
    cancel_case(sl_wait, &g, k0);
    cancel_case(lsl_wait, &lg, k0);
    /* nothing was taken: each admits again exactly when it would have */
    assert_int_equal(lfp_fwindow_take_at(&f, 1, k0 + WIN20), 0);
    assert_int_equal(lfp_slog_take_at(&g, 1, k0 + WIN20), 0);
    assert_int_equal(lfp_locked_slog_take_at(&lg, 1, k0 + WIN20), 0);

    lfp_bucket b;
    lfp_fwindow f2;
    assert_int_equal(lfp_bucket_init(&b, 1, 1), 0);
    assert_int_equal(lfp_fwindow_init(&f2, 1, WIN20), 0);
    lfp_limiter ls[2] = { { LFP_LIMITER_BUCKET, &b }, { LFP_LIMITER_FWINDOW, &f2 } };
    assert_int_equal(lfp_limit_all_at(ls, 2, 1, k0), 0);
    cancel_case(all_wait, ls, k0);
    assert_int_equal(lfp_bucket_take_at(&b, 1, k0 + SEC), 0);   /* the wait held nothing */
    lfp_slog_destroy(&g);
    lfp_locked_slog_destroy(&lg);
}

/* Real clock, several threads: each wait that returns 0 was admitted, so
 * the windows never admit past their limits per window (the spec), and no
 * waiter stays parked while capacity exists (all finish within their
 * generous deadline). */
typedef struct racer {
    lfp_fwindow *f;
    lfp_slog *g;
    int got_f, got_g;
} racer;

static void *race(void *p)
{
    racer *r = p;
    int64_t deadline = lfp_after(10 * SEC);
    for (int i = 0; i < 3; i++) {
        r->got_f += lfp_fwindow_wait(r->f, 1, deadline, NULL) == 0;
        r->got_g += lfp_slog_wait(r->g, 1, deadline, NULL) == 0;
    }
    return NULL;
}

static void waits_race_real_clock(void **state)
{
    (void)state;
    lfp_fwindow f;
    lfp_slog g;
    assert_int_equal(lfp_fwindow_init(&f, 4, 20 * MS), 0);
    assert_int_equal(lfp_slog_init(&g, 4, 20 * MS), 0);
    racer r[4];
    pthread_t th[4];
    for (int i = 0; i < 4; i++) {
        r[i] = (racer){ &f, &g, 0, 0 };
        assert_int_equal(pthread_create(&th[i], NULL, race, &r[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(r[i].got_f, 3);   /* 12 waits, 4 per 20 ms: well inside 10 s */
        assert_int_equal(r[i].got_g, 3);
    }
    lfp_slog_destroy(&g);
}

static void waits_bad_input(void **state)
{
    (void)state;
    lfp_fwindow f;
    lfp_swindow s;
    lfp_slog g;
    lfp_locked_slog lg;
    assert_int_equal(lfp_fwindow_init(&f, 2, SEC), 0);
    assert_int_equal(lfp_swindow_init(&s, 2, SEC), 0);
    assert_int_equal(lfp_slog_init(&g, 2, SEC), 0);
    assert_int_equal(lfp_locked_slog_init(&lg, 2, SEC), 0);
    assert_int_equal(lfp_fwindow_wait(NULL, 1, LFP_FOREVER, NULL), EINVAL);
    assert_int_equal(lfp_fwindow_wait_at(&f, 0, 0, LFP_FOREVER, NULL), EINVAL);
    assert_int_equal(lfp_fwindow_wait(&f, 3, LFP_FOREVER, NULL), EINVAL);
    assert_int_equal(lfp_swindow_wait(NULL, 1, LFP_FOREVER, NULL), EINVAL);
    assert_int_equal(lfp_swindow_wait_at(&s, 0, 0, LFP_FOREVER, NULL), EINVAL);
    assert_int_equal(lfp_swindow_wait(&s, 3, LFP_FOREVER, NULL), EINVAL);
    assert_int_equal(lfp_slog_wait(NULL, 1, LFP_FOREVER, NULL), EINVAL);
    assert_int_equal(lfp_slog_wait_at(&g, 0, 0, LFP_FOREVER, NULL), EINVAL);
    assert_int_equal(lfp_slog_wait(&g, 3, LFP_FOREVER, NULL), EINVAL);
    assert_int_equal(lfp_locked_slog_wait(NULL, 1, LFP_FOREVER, NULL), EINVAL);
    assert_int_equal(lfp_locked_slog_wait(&lg, 0, LFP_FOREVER, NULL), EINVAL);
    assert_int_equal(lfp_locked_slog_wait(&lg, 3, LFP_FOREVER, NULL), EINVAL);
    lfp_limiter ls[1] = { { LFP_LIMITER_FWINDOW, &f } }, bad[1] = { { LFP_LIMITER_FWINDOW, NULL } };
    assert_int_equal(lfp_limit_all_wait(NULL, 1, 1, LFP_FOREVER, NULL), EINVAL);
    assert_int_equal(lfp_limit_all_wait(ls, 0, 1, LFP_FOREVER, NULL), EINVAL);
    assert_int_equal(lfp_limit_all_wait(ls, 1, 0, LFP_FOREVER, NULL), EINVAL);
    assert_int_equal(lfp_limit_all_wait(ls, 1, 3, LFP_FOREVER, NULL), EINVAL);
    assert_int_equal(lfp_limit_all_wait_at(bad, 1, 1, 0, LFP_FOREVER, NULL), EINVAL);
    /* nothing was taken by any of them */
    assert_int_equal(lfp_fwindow_take_at(&f, 2, 0), 0);
    assert_int_equal(lfp_swindow_take_at(&s, 2, 0), 0);
    assert_int_equal(lfp_slog_take_at(&g, 2, 0), 0);
    lfp_slog_destroy(&g);
    lfp_locked_slog_destroy(&lg);
}

/* The end of the time line: a window after INT64_MAX never comes. */
static void waits_at_time_line_end(void **state)
{
    (void)state;
    lfp_fwindow f;
    assert_int_equal(lfp_fwindow_init(&f, 1, SEC), 0);
    assert_int_equal(lfp_fwindow_take_at(&f, 1, INT64_MAX), 0);
    assert_int_equal(lfp_fwindow_ready_at_(&f, 1, INT64_MAX), INT64_MAX);
    assert_int_equal(lfp_fwindow_wait_at(&f, 1, INT64_MAX, LFP_FOREVER, NULL), ETIMEDOUT);
    lfp_bucket b;
    assert_int_equal(lfp_bucket_init(&b, 1, 1), 0);
    assert_int_equal(lfp_bucket_take_at(&b, 1, INT64_MAX - 2 * SEC), 0);
    /* the next take's TAT would reach INT64_MAX: never */
    assert_int_equal(lfp_bucket_ready_at_(&b, 1, INT64_MAX - 2 * SEC), INT64_MAX);
    assert_int_equal(lfp_bucket_take_at(&b, 1, INT64_MAX - SEC), EAGAIN);
    lfp_limiter ls[1] = { { LFP_LIMITER_BUCKET, &b } };
    assert_int_equal(lfp_limit_all_wait_at(ls, 1, 1, INT64_MAX - SEC, LFP_FOREVER, NULL), ETIMEDOUT);
}


/* ------------------------------------------------------------ x/time/rate parity */

static void bucket_unlimited_rate_admits_everything(void **state)
{
    (void)state;
    lfp_bucket b;
    assert_int_equal(lfp_bucket_init(&b, LFP_RATE_INF, 0), 0);
    assert_true(lfp_bucket_rate(&b) == LFP_RATE_INF);
    assert_true(lfp_bucket_tokens_at(&b, 0) == LFP_RATE_INF);
    for (int i = 0; i < 1000; i++)
        assert_int_equal(lfp_bucket_take_at(&b, 1 + (uint32_t)(next() % UINT32_MAX),
                                            (int64_t)next()), 0);
    assert_int_equal(lfp_bucket_take_at(&b, 0, 0), EINVAL);
    assert_int_equal(atomic_load(&b.tat), INT64_MIN);   /* no write at all */
    lfp_bucket_reservation r;
    assert_int_equal(lfp_bucket_reserve_ex_at(&b, 7, 5, &r), 0);
    assert_int_equal(r.ready, 5);
    assert_int_equal(lfp_bucket_give_back(&b, &r), 0);
    assert_int_equal(lfp_bucket_give_back(&b, &r), EINVAL);
    assert_int_equal(lfp_bucket_wait(&b, 1000, 0, NULL), 0);
    lfp_limiter ls[1] = { { LFP_LIMITER_BUCKET, &b } };
    assert_int_equal(lfp_limit_all_at(ls, 1, 99, 0), 0);
    assert_int_equal(lfp_bucket_init_every(&b, 0, 3), 0);   /* Every(0) = Inf */
    assert_int_equal(lfp_bucket_take_at(&b, 4, 0), 0);
}

/* Drained at a finite rate, unlimited, finite again: full at the change
 * (Go caps the tokens at the burst), never more than burst at one instant. */
static void bucket_unlimited_and_back(void **state)
{
    (void)state;
    lfp_bucket b;
    assert_int_equal(lfp_bucket_init(&b, 1, 3), 0);
    assert_int_equal(lfp_bucket_take_at(&b, 3, 10 * SEC), 0);
    assert_int_equal(lfp_bucket_take_at(&b, 1, 10 * SEC), EAGAIN);
    assert_int_equal(lfp_bucket_set_rate_at(&b, LFP_RATE_INF, 10 * SEC), 0);
    assert_int_equal(lfp_bucket_take_at(&b, 50, 10 * SEC), 0);
    assert_int_equal(lfp_bucket_set_rate_at(&b, 1, 11 * SEC), 0);
    assert_int_equal(lfp_bucket_take_at(&b, 3, 11 * SEC), 0);
    assert_int_equal(lfp_bucket_take_at(&b, 1, 11 * SEC), EAGAIN);
    assert_int_equal(lfp_bucket_take_at(&b, 1, 12 * SEC), 0);
}

static void bucket_burst_zero(void **state)
{
    (void)state;
    lfp_bucket b;
    int64_t ready;
    assert_int_equal(lfp_bucket_init(&b, 1, 0), 0);
    assert_int_equal(lfp_bucket_take_at(&b, 1, 0), EINVAL);          /* never succeeds */
    assert_int_equal(lfp_bucket_reserve_at(&b, 1, 0, &ready), EINVAL);
    assert_int_equal(lfp_bucket_wait(&b, 1, LFP_FOREVER, NULL), EINVAL);
    /* full bucket of 5 -> burst 0 -> burst 5 at one instant: 0 tokens kept */
    assert_int_equal(lfp_bucket_init(&b, 1, 5), 0);
    assert_int_equal(lfp_bucket_set_burst_at(&b, 0, SEC), 0);
    assert_int_equal(lfp_bucket_take_at(&b, 1, 2 * SEC), EINVAL);
    assert_int_equal(lfp_bucket_set_burst_at(&b, 5, 2 * SEC), 0);
    assert_int_equal(lfp_bucket_take_at(&b, 1, 2 * SEC), EAGAIN);
    assert_int_equal(lfp_bucket_take_at(&b, 1, 3 * SEC), 0);
    assert_int_equal(lfp_bucket_take_at(&b, 1, 3 * SEC), EAGAIN);
}

/* Every(interval): T is the interval to the ns, for intervals whose rate
 * 1e9 / interval no double holds exactly. */
static void bucket_init_every_is_exact(void **state)
{
    (void)state;
    lfp_bucket b;
    for (int i = 0; i < 2000; i++) {
        int64_t t = 1 + (int64_t)(next() % (UINT64_C(1) << (1 + next() % 61)));
        int64_t now = (int64_t)(next() >> 2) - (INT64_C(1) << 61);
        assert_int_equal(lfp_bucket_init_every(&b, t, 1), 0);
        assert_int_equal(lfp_bucket_take_at(&b, 1, now), 0);
        assert_int_equal(lfp_bucket_take_at(&b, 1, now + t - 1), EAGAIN);
        assert_int_equal(lfp_bucket_take_at(&b, 1, now + t), 0);
    }
    assert_int_equal(lfp_bucket_init_every(&b, LFP_BUCKET_MAX_SPAN, 1), 0);
    assert_int_equal(lfp_bucket_init_every(&b, LFP_BUCKET_MAX_SPAN, 2), EINVAL);
    assert_int_equal(lfp_bucket_init_every(&b, LFP_BUCKET_MAX_SPAN + 1, 0), EINVAL);
    assert_int_equal(lfp_bucket_init_every(&b, -1, 1), EINVAL);
    assert_int_equal(lfp_bucket_init_every(NULL, 1, 1), EINVAL);
}

/* The twin accepts and means the same settings (Go's Inf, burst 0,
 * Every(interval)): the contract tests above, on lfp_locked_bucket. */
static void twin_unlimited_rate_admits_everything(void **state)
{
    (void)state;
    lfp_locked_bucket b;
    assert_int_equal(lfp_locked_bucket_init(&b, LFP_RATE_INF, 0), 0);
    assert_true(lfp_locked_bucket_rate(&b) == LFP_RATE_INF);
    assert_true(lfp_locked_bucket_tokens_at(&b, 0) == LFP_RATE_INF);
    for (int i = 0; i < 1000; i++)
        assert_int_equal(lfp_locked_bucket_take_at(&b, 1 + (uint32_t)(next() % UINT32_MAX),
                                                   (int64_t)next()), 0);
    assert_int_equal(lfp_locked_bucket_take_at(&b, 0, 0), EINVAL);
    lfp_bucket_reservation r;
    assert_int_equal(lfp_locked_bucket_reserve_ex_at(&b, 7, 5, &r), 0);
    assert_int_equal(r.ready, 5);
    assert_int_equal(lfp_locked_bucket_give_back(&b, &r), 0);
    assert_int_equal(lfp_locked_bucket_give_back(&b, &r), EINVAL);
    assert_int_equal(lfp_locked_bucket_wait(&b, 1000, 0, NULL), 0);
    lfp_locked_bucket_destroy(&b);
    assert_int_equal(lfp_locked_bucket_init_every(&b, 0, 3), 0);   /* Every(0) = Inf */
    assert_int_equal(lfp_locked_bucket_take_at(&b, 4, 0), 0);
    lfp_locked_bucket_destroy(&b);
}

static void twin_unlimited_and_back(void **state)
{
    (void)state;
    lfp_locked_bucket b;
    assert_int_equal(lfp_locked_bucket_init(&b, 1, 3), 0);
    assert_int_equal(lfp_locked_bucket_take_at(&b, 3, 10 * SEC), 0);
    assert_int_equal(lfp_locked_bucket_take_at(&b, 1, 10 * SEC), EAGAIN);
    assert_int_equal(lfp_locked_bucket_set_rate_at(&b, LFP_RATE_INF, 10 * SEC), 0);
    assert_int_equal(lfp_locked_bucket_take_at(&b, 50, 10 * SEC), 0);
    assert_int_equal(lfp_locked_bucket_set_rate_at(&b, 1, 11 * SEC), 0);
    assert_int_equal(lfp_locked_bucket_take_at(&b, 3, 11 * SEC), 0);
    assert_int_equal(lfp_locked_bucket_take_at(&b, 1, 11 * SEC), EAGAIN);
    assert_int_equal(lfp_locked_bucket_take_at(&b, 1, 12 * SEC), 0);
    lfp_locked_bucket_destroy(&b);
}

static void twin_burst_zero(void **state)
{
    (void)state;
    lfp_locked_bucket b;
    int64_t ready;
    assert_int_equal(lfp_locked_bucket_init(&b, 1, 0), 0);
    assert_int_equal(lfp_locked_bucket_take_at(&b, 1, 0), EINVAL);
    assert_int_equal(lfp_locked_bucket_reserve_at(&b, 1, 0, &ready), EINVAL);
    assert_int_equal(lfp_locked_bucket_wait(&b, 1, LFP_FOREVER, NULL), EINVAL);
    lfp_locked_bucket_destroy(&b);
    assert_int_equal(lfp_locked_bucket_init(&b, 1, 5), 0);
    assert_int_equal(lfp_locked_bucket_set_burst_at(&b, 0, SEC), 0);
    assert_int_equal(lfp_locked_bucket_take_at(&b, 1, 2 * SEC), EINVAL);
    assert_int_equal(lfp_locked_bucket_set_burst_at(&b, 5, 2 * SEC), 0);
    assert_int_equal(lfp_locked_bucket_take_at(&b, 1, 2 * SEC), EAGAIN);
    assert_int_equal(lfp_locked_bucket_take_at(&b, 1, 3 * SEC), 0);
    assert_int_equal(lfp_locked_bucket_take_at(&b, 1, 3 * SEC), EAGAIN);
    lfp_locked_bucket_destroy(&b);
}

/* Every(interval) on the twin: one token per interval (its refill is in
 * doubles, so intervals whose rate is a binary fraction are exact), and
 * exactly lfp_bucket_init_every's accepted range. */
static void twin_init_every(void **state)
{
    (void)state;
    lfp_locked_bucket b;
    for (int i = 0; i < 200; i++) {
        int64_t t = INT64_C(1) << (next() % 40);
        int64_t now = (int64_t)(next() % (UINT64_C(1) << 40));
        assert_int_equal(lfp_locked_bucket_init_every(&b, t, 1), 0);
        assert_int_equal(lfp_locked_bucket_take_at(&b, 1, now), 0);
        assert_int_equal(lfp_locked_bucket_take_at(&b, 1, now + t - 1), EAGAIN);
        assert_int_equal(lfp_locked_bucket_take_at(&b, 1, now + 2 * t), 0);
        lfp_locked_bucket_destroy(&b);
    }
    assert_int_equal(lfp_locked_bucket_init_every(&b, LFP_BUCKET_MAX_SPAN, 1), 0);
    lfp_locked_bucket_destroy(&b);
    assert_int_equal(lfp_locked_bucket_init_every(&b, LFP_BUCKET_MAX_SPAN, 2), EINVAL);
    assert_int_equal(lfp_locked_bucket_init_every(&b, LFP_BUCKET_MAX_SPAN + 1, 0), EINVAL);
    assert_int_equal(lfp_locked_bucket_init_every(&b, -1, 1), EINVAL);
    assert_int_equal(lfp_locked_bucket_init_every(NULL, 1, 1), EINVAL);
    /* the log's twin: lfp_slog's range */
    lfp_locked_slog lg;
    assert_int_equal(lfp_locked_slog_init(&lg, LFP_SLOG_MAX_LIMIT + 1, 1), EINVAL);
    assert_int_equal(lfp_locked_slog_init(&lg, 0, 1), EINVAL);
    assert_int_equal(lfp_locked_slog_init(&lg, 1, 0), EINVAL);
    /* the same rates and bursts as lfp_bucket, accepted or not */
    static const double rates[] = { LFP_RATE_INF, -LFP_RATE_INF, 0, -1, 1e-12,
                                    LFP_BUCKET_MIN_RATE, 1, 1e9, 1.5e9 };
    static const uint32_t bursts[] = { 0, 1, 1000, UINT32_MAX };
    for (size_t i = 0; i < sizeof rates / sizeof rates[0]; i++)
        for (size_t j = 0; j < sizeof bursts / sizeof bursts[0]; j++) {
            lfp_bucket g;
            int want = lfp_bucket_init(&g, rates[i], bursts[j]);
            assert_int_equal(lfp_locked_bucket_init(&b, rates[i], bursts[j]), want);
            if (want == 0)
                lfp_locked_bucket_destroy(&b);
        }
}

/* ------------------------------------------------------------ results (redis-cell style) */

/* Each field against the limiter's own take on copies of its state after
 * the call: remaining = the largest m a take at now admits; retry_after =
 * the first admission time of n (1 for a peek) minus now, 0 if this call
 * admitted; reset = the first time a take of the whole limit is admitted. */
#define CHECK_RESULT(type, take, take_result, w, lim, n, now, horizon)                     \
    do {                                                                                 \
        type before_ = *(w);                                                             \
        struct lfp_rl_result res_;                                                       \
        int rc_ = take_result(w, n, now, &res_);                                         \
        if ((n) == 0)                                                                    \
            assert_int_equal(rc_, 0);                                                    \
        else                                                                             \
            assert_int_equal(rc_, take(&before_, n, now));                               \
        assert_int_equal(res_.limit, lim);                                               \
        int64_t m_ = 0;                                                                  \
        for (uint32_t j_ = 1; j_ <= (lim); j_++) {                                       \
            type c_ = *(w);                                                              \
            if (take(&c_, j_, now) == 0)                                                 \
                m_ = j_;                                                                 \
        }                                                                                \
        assert_int_equal(res_.remaining, m_);                                            \
        int64_t want_ = rc_ == 0 && (n) != 0                                             \
                            ? 0                                                          \
                            : FIRST_ADMIT(type, take, w, (n) ? (n) : 1, now, horizon) - (now); \
        assert_int_equal(res_.retry_after_ns, want_);                                    \
        assert_int_equal(res_.reset_ns, FIRST_ADMIT(type, take, w, lim, now, horizon) - (now)); \
    } while (0)

static void results_match_the_takes(void **state)
{
    (void)state;
    for (int round = 0; round < 1500; round++) {
        int64_t base = (int64_t)(next() % 1000) - 500;
        lfp_bucket b;
        uint32_t burst = 1 + next() % 5;
        assert_int_equal(lfp_bucket_init_every(&b, 1 + (int64_t)(next() % 30), burst), 0);
        lfp_fwindow f;
        lfp_swindow w;
        uint32_t limit = 1 + next() % 6;
        int64_t win = 1 + (int64_t)(next() % 40);
        assert_int_equal(lfp_fwindow_init(&f, limit, win), 0);
        assert_int_equal(lfp_swindow_init(&w, limit, win), 0);
        for (int k = 0; k < 6; k++) {
            int64_t t = base + (int64_t)(next() % 100);
            lfp_bucket_take_at(&b, 1 + next() % burst, t);
            lfp_fwindow_take_at(&f, 1 + next() % limit, t);
            lfp_swindow_take_at(&w, 1 + next() % limit, t);
        }
        int64_t now = base + (int64_t)(next() % 130);
        uint32_t nb = next() % (burst + 1), nl = next() % (limit + 1);
        CHECK_RESULT(lfp_bucket, lfp_bucket_take_at, lfp_bucket_take_result_at, &b, burst, nb, now,
                     1000);
        CHECK_RESULT(lfp_fwindow, lfp_fwindow_take_at, lfp_fwindow_take_result_at, &f, limit, nl,
                     now, 300 + 4 * win);
        CHECK_RESULT(lfp_swindow, lfp_swindow_take_at, lfp_swindow_take_result_at, &w, limit, nl,
                     now, 300 + 4 * win);
    }
}

static void results_edges_and_bad_input(void **state)
{
    (void)state;
    struct lfp_rl_result r;
    lfp_bucket b;
    lfp_fwindow f;
    lfp_swindow w;
    assert_int_equal(lfp_bucket_init(&b, 1, 2), 0);
    assert_int_equal(lfp_fwindow_init(&f, 2, SEC), 0);
    assert_int_equal(lfp_swindow_init(&w, 2, SEC), 0);
    assert_int_equal(lfp_bucket_take_result_at(NULL, 1, 0, &r), EINVAL);
    assert_int_equal(lfp_bucket_take_result_at(&b, 1, 0, NULL), EINVAL);
    assert_int_equal(lfp_bucket_take_result_at(&b, 3, 0, &r), EINVAL);
    assert_int_equal(lfp_fwindow_take_result_at(NULL, 1, 0, &r), EINVAL);
    assert_int_equal(lfp_fwindow_take_result_at(&f, 1, 0, NULL), EINVAL);
    assert_int_equal(lfp_fwindow_take_result(&f, 3, &r), EINVAL);
    assert_int_equal(lfp_swindow_take_result_at(NULL, 1, 0, &r), EINVAL);
    assert_int_equal(lfp_swindow_take_result_at(&w, 1, 0, NULL), EINVAL);
    assert_int_equal(lfp_swindow_take_result(&w, 3, &r), EINVAL);
    /* fresh: a peek shows everything available */
    assert_int_equal(lfp_bucket_take_result_at(&b, 0, 0, &r), 0);
    assert_true(r.limit == 2 && r.remaining == 2 && r.retry_after_ns == 0 && r.reset_ns == 0);
    /* the time line's end: never */
    assert_int_equal(lfp_bucket_take_result_at(&b, 2, INT64_MAX - 2 * SEC - 1, &r), 0);
    assert_int_equal(lfp_bucket_take_result_at(&b, 1, INT64_MAX - 2 * SEC - 1, &r), EAGAIN);
    assert_true(r.remaining == 0 && r.retry_after_ns == INT64_MAX);
    /* unlimited and burst 0 */
    assert_int_equal(lfp_bucket_init(&b, LFP_RATE_INF, 1), 0);
    assert_int_equal(lfp_bucket_take_result_at(&b, 5, 0, &r), 0);
    assert_true(r.remaining == INT64_MAX && r.retry_after_ns == 0 && r.reset_ns == 0);
    assert_int_equal(lfp_bucket_init(&b, 1, 0), 0);
    assert_int_equal(lfp_bucket_take_result_at(&b, 0, 0, &r), 0);
    assert_true(r.limit == 0 && r.remaining == 0 && r.retry_after_ns == INT64_MAX);
    /* a window at the end of the time line */
    assert_int_equal(lfp_fwindow_take_result_at(&f, 2, INT64_MAX, &r), 0);
    assert_int_equal(lfp_fwindow_take_result_at(&f, 1, INT64_MAX, &r), EAGAIN);
    assert_true(r.remaining == 0 && r.retry_after_ns == INT64_MAX);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fwindow_ready_is_first_admission),
        cmocka_unit_test(swindow_ready_is_first_admission),
        cmocka_unit_test(bucket_ready_is_first_admission),
        cmocka_unit_test(slog_ready_is_first_admission),
        cmocka_unit_test(fwindow_wait_sleeps_until_next_window),
        cmocka_unit_test(swindow_wait_sleeps_until_estimate_allows),
        cmocka_unit_test(slog_wait_sleeps_until_oldest_expires),
        cmocka_unit_test(bucket_wait_at_sleeps_the_span),
        cmocka_unit_test(limit_all_wait_waits_for_the_latest),
        cmocka_unit_test(waits_cancel_taking_nothing),
        cmocka_unit_test(waits_race_real_clock),
        cmocka_unit_test(waits_bad_input),
        cmocka_unit_test(waits_at_time_line_end),
        cmocka_unit_test(bucket_unlimited_rate_admits_everything),
        cmocka_unit_test(bucket_unlimited_and_back),
        cmocka_unit_test(bucket_burst_zero),
        cmocka_unit_test(bucket_init_every_is_exact),
        cmocka_unit_test(twin_unlimited_rate_admits_everything),
        cmocka_unit_test(twin_unlimited_and_back),
        cmocka_unit_test(twin_burst_zero),
        cmocka_unit_test(twin_init_every),
        cmocka_unit_test(results_match_the_takes),
        cmocka_unit_test(results_edges_and_bad_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
