/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit tests: lfpat/ratelimit.h and the twins lfp_locked_bucket and
 * lfp_locked_slog. Fake clocks throughout (times in ms or ns as noted);
 * tables in the style of golang.org/x/time/rate's tests. */
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "lfpat.h"
#include "ratelimit_internal.h"

#define MS INT64_C(1000000)
#define SEC INT64_C(1000000000)

typedef struct step {
    int64_t t;        /* ms */
    uint32_t n;
    int rc;           /* expected return */
    double tokens;    /* bucket only: tokens available before the take; NAN = skip */
} step;

typedef int (*take_fn)(void *lim, uint32_t n, int64_t now);

static void run_table(void *lim, take_fn take, const step *s, size_t count,
                      const lfp_bucket *b)
{
    for (size_t i = 0; i < count; i++) {
        int64_t now = s[i].t * MS;
        if (b && !isnan(s[i].tokens) && fabs(lfp_bucket_tokens_at(b, now) - s[i].tokens) > 1e-9)
            fail_msg("step %zu: tokens %f, want %f", i, lfp_bucket_tokens_at(b, now), s[i].tokens);
        int rc = take(lim, s[i].n, now);
        if (rc != s[i].rc)
            fail_msg("step %zu (t=%lld ms, n=%u): rc %d, want %d", i, (long long)s[i].t,
                     s[i].n, rc, s[i].rc);
    }
}

static int bucket_take(void *l, uint32_t n, int64_t now) { return lfp_bucket_take_at(l, n, now); }
static int fwindow_take(void *l, uint32_t n, int64_t now) { return lfp_fwindow_take_at(l, n, now); }
static int swindow_take(void *l, uint32_t n, int64_t now) { return lfp_swindow_take_at(l, n, now); }
static int slog_take(void *l, uint32_t n, int64_t now) { return lfp_slog_take_at(l, n, now); }
static int lslog_take(void *l, uint32_t n, int64_t now) { return lfp_locked_slog_take_at(l, n, now); }
static int lbucket_take(void *l, uint32_t n, int64_t now)
{
    return lfp_locked_bucket_take_at(l, n, now);
}

#define TABLE(lim, fn, steps, b) run_table((lim), (fn), (steps), sizeof(steps) / sizeof(steps[0]), (b))

/* ------------------------------------------------------------ bucket */

static void bucket_table(void **state)
{
    (void)state;
    /* 2/s (T = 500 ms), burst 3. */
    static const step steps[] = {
        { 0, 1, 0, 3 },       { 0, 1, 0, 2 },         { 0, 1, 0, 1 },
        { 0, 1, EAGAIN, 0 },  { 499, 1, EAGAIN, 0.998 }, { 500, 1, 0, 1 },
        { 500, 1, EAGAIN, 0 }, { 1000, 2, EAGAIN, 1 }, { 1000, 1, 0, 1 },
        /* time jumps backwards: nothing minted */
        { 200, 1, EAGAIN, -1.6 }, { 1400, 1, EAGAIN, 0.8 },
        { 3000, 3, 0, 3 },    { 3000, 4, EINVAL, 0 }, { 3000, 0, EINVAL, 0 },
        { 4500, 3, 0, 3 },    { 4600, 1, EAGAIN, 0.2 },
    };
    lfp_bucket b;
    assert_int_equal(lfp_bucket_init(&b, 2, 3), 0);
    TABLE(&b, bucket_take, steps, &b);
    /* The locked twin decides the same (it has no tokens_at before a take
     * that is comparable for time going backwards; skip tokens). */
    lfp_locked_bucket l;
    assert_int_equal(lfp_locked_bucket_init(&l, 2, 3), 0);
    TABLE(&l, lbucket_take, steps, NULL);
    lfp_locked_bucket_destroy(&l);
}

static void bucket_tiny_and_huge_rates(void **state)
{
    (void)state;
    lfp_bucket b;
    /* one per hour */
    assert_int_equal(lfp_bucket_init(&b, 1.0 / 3600, 1), 0);
    static const step hour[] = {
        { 0, 1, 0, 1 }, { 3599999, 1, EAGAIN, NAN }, { 3600000, 1, 0, 1 },
        { 3600001, 1, EAGAIN, NAN },
    };
    TABLE(&b, bucket_take, hour, &b);
    /* one per ns: the largest rate */
    assert_int_equal(lfp_bucket_init(&b, 1e9, 1000), 0);
    assert_int_equal(lfp_bucket_take_at(&b, 1000, 0), 0);
    assert_int_equal(lfp_bucket_take_at(&b, 1, 0), EAGAIN);
    assert_int_equal(lfp_bucket_take_at(&b, 1, 1), 0);
    assert_int_equal(lfp_bucket_take_at(&b, 1, 1), EAGAIN);
    assert_int_equal(lfp_bucket_take_at(&b, 500, 501), 0);
    /* burst * T past LFP_BUCKET_MAX_SPAN is refused; the largest accepted
     * spans are exact at the start of the time line */
    assert_int_equal(lfp_bucket_init(&b, LFP_BUCKET_MIN_RATE, UINT32_MAX), EINVAL);
    assert_int_equal(lfp_bucket_init(&b, 1, UINT32_MAX), 0);
    assert_int_equal(lfp_bucket_take_at(&b, UINT32_MAX, INT64_MIN), 0);
    assert_int_equal(lfp_bucket_take_at(&b, 1, INT64_MIN), EAGAIN);
    assert_int_equal(lfp_bucket_take_at(&b, 1, INT64_MIN + SEC), 0);
    /* at the end of the time line a TAT past INT64_MAX is refused */
    assert_int_equal(lfp_bucket_init(&b, 1e9, 1), 0);
    assert_int_equal(lfp_bucket_take_at(&b, 1, INT64_MAX - 1), EAGAIN);   /* TAT would be MAX */
    assert_int_equal(lfp_bucket_take_at(&b, 1, INT64_MAX - 2), 0);
    assert_int_equal(lfp_bucket_take_at(&b, 1, INT64_MAX - 2), EAGAIN);
    assert_int_equal(lfp_bucket_take_at(&b, 1, INT64_MAX), EAGAIN);
    assert_int_equal(lfp_bucket_take_at(&b, 1, INT64_MIN), EAGAIN);
}

static void bucket_bad_input(void **state)
{
    (void)state;
    lfp_bucket b;
    /* +infinity is the unlimited rate (for the twin too) */
    const double bad[] = { 0, -1, NAN, -INFINITY, INFINITY, 2e9, 1e-12 };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (bad[i] != INFINITY)
            assert_int_equal(lfp_bucket_init(&b, bad[i], 1), EINVAL);
    assert_int_equal(lfp_bucket_init(NULL, 1, 1), EINVAL);
    assert_int_equal(lfp_bucket_init(&b, 10, 2), 0);
    assert_int_equal(lfp_bucket_set_rate(&b, NAN), EINVAL);
    assert_int_equal(lfp_bucket_set_burst(NULL, 1), EINVAL);
    assert_int_equal(lfp_bucket_give_back(&b, NULL), EINVAL);
    int64_t ready;
    assert_int_equal(lfp_bucket_reserve_at(&b, 3, 0, &ready), EINVAL);
    assert_int_equal(lfp_bucket_reserve_at(&b, 1, 0, NULL), EINVAL);
    assert_int_equal(lfp_bucket_wait(&b, 0, LFP_FOREVER, NULL), EINVAL);
    assert_int_equal(lfp_bucket_wait(&b, 3, LFP_FOREVER, NULL), EINVAL);
    /* nothing was consumed by the refusals above */
    assert_true(lfp_bucket_tokens_at(&b, 0) == 2);
    lfp_locked_bucket l;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (bad[i] != INFINITY)
            assert_int_equal(lfp_locked_bucket_init(&l, bad[i], 1), EINVAL);
    assert_int_equal(lfp_locked_bucket_init(NULL, 1, 1), EINVAL);
}

/* Poll every `every` ns for `horizon` ns, taking until refused at each poll;
 * admitted must equal burst + rate * elapsed within one token. The burst
 * must hold what accrues between polls plus the fraction left over, or an
 * exact bucket rightly overflows. */
static void check_exact(double rate, uint32_t burst, int64_t every, int64_t horizon)
{
    assert_true(burst >= rate * (double)every / 1e9 + 1);
    lfp_bucket b;
    assert_int_equal(lfp_bucket_init(&b, rate, burst), 0);
    uint64_t admitted = 0;
    int64_t t;
    for (t = 0; t <= horizon; t += every)
        while (lfp_bucket_take_at(&b, 1, t) == 0)
            admitted++;
    t -= every;
    double ideal = burst + lfp_bucket_rate(&b) * (double)t / 1e9;
    if (fabs((double)admitted - ideal) > 1.0)
        fail_msg("rate %g every %lld ns: admitted %llu, ideal %.3f", rate, (long long)every,
                 (unsigned long long)admitted, ideal);
}

static void bucket_exact_over_hours(void **state)
{
    (void)state;
    /* The seed's bug: 2/s polled every 0.7 s admitted 1.43/s. */
    check_exact(2, 3, 700 * MS, 60 * SEC);
    check_exact(2, 2, 300 * MS, 60 * SEC);
    check_exact(3, 5, 70 * MS, 3 * 3600 * SEC);        /* T not a divisor: 333333334 ns (rounded up) */
    check_exact(1000, 10, 3700000, 3 * 3600 * SEC);    /* 3.7 ms polls, 3 h */
    check_exact(7.5, 2, 13 * MS, 3600 * SEC);
    check_exact(1e6, 1000, 777777, 10 * SEC);
    /* The effective rate is exactly 1e9 / T. */
    lfp_bucket b;
    assert_int_equal(lfp_bucket_init(&b, 3, 1), 0);
    assert_true(lfp_bucket_rate(&b) == 1e9 / 333333334.0);   /* never faster than 3/s */
}

static void locked_bucket_exact_refill(void **state)
{
    (void)state;
    lfp_locked_bucket l;
    assert_int_equal(lfp_locked_bucket_init(&l, 2, 3), 0);
    uint64_t admitted = 0;
    for (int64_t t = 0; t <= 60 * SEC; t += 700 * MS)
        while (lfp_locked_bucket_take_at(&l, 1, t) == 0)
            admitted++;
    assert_true(admitted >= 3 + 118 && admitted <= 3 + 119 + 1);   /* 59.5 s elapsed */
    assert_true(lfp_locked_bucket_tokens_at(&l, 100 * SEC) == 3);
    assert_int_equal(lfp_locked_bucket_set_rate(&l, -1), EINVAL);
    assert_int_equal(lfp_locked_bucket_set_rate(&l, 4), 0);
    lfp_locked_bucket_destroy(&l);
}

/* The reserve/give-back/wait contract, run against lfp_bucket and its twin
 * lfp_locked_bucket through one table of calls. */
typedef union any_bucket {
    lfp_bucket lfp;
    lfp_locked_bucket locked;
} any_bucket;

typedef struct bucket_ops {
    const char *name;
    int (*init)(any_bucket *b, double rate, uint32_t burst);
    void (*destroy)(any_bucket *b);
    int (*take_at)(any_bucket *b, uint32_t n, int64_t now);
    int (*take)(any_bucket *b, uint32_t n);
    int (*reserve_at)(any_bucket *b, uint32_t n, int64_t now, int64_t *ready_at);
    int (*reserve_ex_at)(any_bucket *b, uint32_t n, int64_t now, lfp_bucket_reservation *r);
    int (*give_back)(any_bucket *b, lfp_bucket_reservation *r);
    int (*wait)(any_bucket *b, uint32_t n, int64_t deadline, lfp_cancel *c);
    double (*tokens_at)(any_bucket *b, int64_t now);
} bucket_ops;

static int l_init(any_bucket *b, double r, uint32_t burst) { return lfp_bucket_init(&b->lfp, r, burst); }
static void l_destroy(any_bucket *b) { lfp_bucket_destroy(&b->lfp); }
static int l_take_at(any_bucket *b, uint32_t n, int64_t t) { return lfp_bucket_take_at(&b->lfp, n, t); }
static int l_take(any_bucket *b, uint32_t n) { return lfp_bucket_take(&b->lfp, n); }
static int l_reserve_at(any_bucket *b, uint32_t n, int64_t t, int64_t *r)
{
    return lfp_bucket_reserve_at(b ? &b->lfp : NULL, n, t, r);
}
static int l_reserve_ex_at(any_bucket *b, uint32_t n, int64_t t, lfp_bucket_reservation *r)
{
    return lfp_bucket_reserve_ex_at(&b->lfp, n, t, r);
}
static int l_give_back(any_bucket *b, lfp_bucket_reservation *r)
{
    return lfp_bucket_give_back(&b->lfp, r);
}
static int l_wait(any_bucket *b, uint32_t n, int64_t d, lfp_cancel *c)
{
    return lfp_bucket_wait(&b->lfp, n, d, c);
}
static double l_tokens_at(any_bucket *b, int64_t t) { return lfp_bucket_tokens_at(&b->lfp, t); }

static int m_init(any_bucket *b, double r, uint32_t burst)
{
    return lfp_locked_bucket_init(&b->locked, r, burst);
}
static void m_destroy(any_bucket *b) { lfp_locked_bucket_destroy(&b->locked); }
static int m_take_at(any_bucket *b, uint32_t n, int64_t t)
{
    return lfp_locked_bucket_take_at(&b->locked, n, t);
}
static int m_take(any_bucket *b, uint32_t n) { return lfp_locked_bucket_take(&b->locked, n); }
static int m_reserve_at(any_bucket *b, uint32_t n, int64_t t, int64_t *r)
{
    return lfp_locked_bucket_reserve_at(b ? &b->locked : NULL, n, t, r);
}
static int m_reserve_ex_at(any_bucket *b, uint32_t n, int64_t t, lfp_bucket_reservation *r)
{
    return lfp_locked_bucket_reserve_ex_at(&b->locked, n, t, r);
}
static int m_give_back(any_bucket *b, lfp_bucket_reservation *r)
{
    return lfp_locked_bucket_give_back(&b->locked, r);
}
static int m_wait(any_bucket *b, uint32_t n, int64_t d, lfp_cancel *c)
{
    return lfp_locked_bucket_wait(&b->locked, n, d, c);
}
static double m_tokens_at(any_bucket *b, int64_t t) { return lfp_locked_bucket_tokens_at(&b->locked, t); }

static const bucket_ops both_buckets[] = {
    { "lfp_bucket", l_init, l_destroy, l_take_at, l_take, l_reserve_at, l_reserve_ex_at, l_give_back, l_wait,
      l_tokens_at },
    { "lfp_locked_bucket", m_init, m_destroy, m_take_at, m_take, m_reserve_at, m_reserve_ex_at, m_give_back,
      m_wait, m_tokens_at },
};

#define FOR_BOTH_BUCKETS(ops) \
    for (const bucket_ops *ops = both_buckets; ops < both_buckets + 2; ops++)

static void bucket_reserve_and_give_back(void **state)
{
    (void)state;
    FOR_BOTH_BUCKETS(o) {
        any_bucket b;
        assert_int_equal(o->init(&b, 10, 1), 0);   /* T = 100 ms */
        int64_t ready;
        lfp_bucket_reservation r1, r2, r3, r4, r5;
        assert_int_equal(o->reserve_ex_at(&b, 1, 0, &r1), 0);
        assert_true(r1.ready == 0);
        assert_int_equal(o->reserve_ex_at(&b, 1, 0, &r2), 0);
        assert_true(r2.ready == 100 * MS);
        assert_int_equal(o->reserve_ex_at(&b, 1, 50 * MS, &r3), 0);
        assert_true(r3.ready == 200 * MS);
        assert_int_equal(o->give_back(&b, &r3), 0);     /* the newest: restored */
        assert_int_equal(o->give_back(&b, &r3), EINVAL); /* only once */
        assert_int_equal(o->reserve_ex_at(&b, 1, 50 * MS, &r4), 0);
        assert_true(r4.ready == 200 * MS);          /* the slot given back was reused */
        assert_true(fabs(o->tokens_at(&b, 50 * MS) - (-1.5)) < 1e-9);
        /* not the newest: r4 counts on r2's token, nothing is restored */
        assert_int_equal(o->give_back(&b, &r2), EAGAIN);
        /* a take while reservations queue is refused until the debt is paid */
        assert_int_equal(o->take_at(&b, 1, 250 * MS), EAGAIN);
        assert_int_equal(o->reserve_ex_at(&b, 1, 250 * MS, &r5), 0);
        assert_true(r5.ready == 300 * MS);
        /* Giving back newest first restores each; the bucket never holds
         * more than burst. */
        assert_int_equal(o->give_back(&b, &r5), 0);
        assert_int_equal(o->give_back(&b, &r4), 0);
        assert_int_equal(o->give_back(&b, &r1), EAGAIN);   /* r2 still counts on it */
        assert_true(o->tokens_at(&b, 10 * SEC) == 1);
        assert_int_equal(o->take_at(&b, 1, 10 * SEC), 0);
        assert_int_equal(o->take_at(&b, 1, 10 * SEC), EAGAIN);
        /* time going back: the ready time is never before the debt is paid */
        assert_int_equal(o->reserve_at(&b, 1, 9 * SEC, &ready), 0);
        assert_true(ready == 10 * SEC + 100 * MS);
        /* bad input, nothing consumed */
        assert_int_equal(o->reserve_at(&b, 0, 11 * SEC, &ready), EINVAL);
        assert_int_equal(o->reserve_at(&b, 2, 11 * SEC, &ready), EINVAL);
        assert_int_equal(o->reserve_at(&b, 1, 11 * SEC, NULL), EINVAL);
        assert_int_equal(o->reserve_at(NULL, 1, 11 * SEC, &ready), EINVAL);
        assert_int_equal(o->give_back(&b, NULL), EINVAL);
        assert_int_equal(o->wait(&b, 0, LFP_FOREVER, NULL), EINVAL);
        assert_int_equal(o->wait(&b, 2, LFP_FOREVER, NULL), EINVAL);
        assert_true(o->tokens_at(&b, 11 * SEC) == 1);
        o->destroy(&b);
    }
}

/* Reserving past the int64 time line saturates (no overflow, no UB). */
static void bucket_reserve_saturates(void **state)
{
    (void)state;
    FOR_BOTH_BUCKETS(o) {
        any_bucket b;
        assert_int_equal(o->init(&b, LFP_BUCKET_MIN_RATE, UINT32_MAX), EINVAL);
        assert_int_equal(o->init(&b, 1, UINT32_MAX), 0);   /* burst * T ~ 2^62 */
        int64_t ready;
        assert_int_equal(o->reserve_at(&b, UINT32_MAX, 0, &ready), 0);
        assert_true(ready == 0);
        assert_int_equal(o->reserve_at(&b, UINT32_MAX, 0, &ready), 0);
        assert_true(ready >= UINT32_MAX * SEC - SEC);
        /* past the end of the time line: refused (lfp_bucket) or saturated
         * (the twin's float arithmetic); never ready early */
        int rc = o->reserve_at(&b, UINT32_MAX, INT64_MAX - 1, &ready);
        assert_true(rc == EAGAIN || (rc == 0 && ready >= INT64_MAX - 1));
        o->destroy(&b);
    }
}

static void bucket_set_rate_and_burst(void **state)
{
    (void)state;
    lfp_bucket b;
    assert_int_equal(lfp_bucket_init(&b, 1, 1), 0);
    assert_int_equal(lfp_bucket_take_at(&b, 1, 0), 0);            /* TAT = 1 s */
    /* a change keeps the token count (0 here), capped by the burst */
    assert_int_equal(lfp_bucket_set_burst_at(&b, 4, 0), 0);
    assert_int_equal(lfp_bucket_burst(&b), 4);
    assert_true(lfp_bucket_tokens_at(&b, 0) == 0);
    assert_true(lfp_bucket_tokens_at(&b, 3 * SEC) == 3);
    assert_int_equal(lfp_bucket_take_at(&b, 3, 3 * SEC), 0);     /* TAT = 7 s */
    assert_int_equal(lfp_bucket_set_rate_at(&b, 1000, 3 * SEC), 0);
    /* 0 tokens kept at 3 s, now refilled at 1000/s: full (4) at 3.004 s */
    assert_int_equal(lfp_bucket_take_at(&b, 4, 3 * SEC + 4 * MS - 1), EAGAIN);
    assert_int_equal(lfp_bucket_take_at(&b, 4, 3 * SEC + 4 * MS), 0);
    assert_int_equal(lfp_bucket_take_at(&b, 1, 3 * SEC + 5 * MS), 0);
    assert_true(lfp_bucket_rate(&b) == 1000);
    assert_int_equal(lfp_bucket_set_burst(NULL, 2), EINVAL);
    assert_int_equal(lfp_bucket_set_rate(&b, -1), EINVAL);
    /* The twin keeps the token count the same way. */
    lfp_locked_bucket l;
    assert_int_equal(lfp_locked_bucket_init(&l, 1, 1), 0);
    assert_int_equal(lfp_locked_bucket_take_at(&l, 1, 0), 0);
    assert_int_equal(lfp_locked_bucket_set_burst_at(&l, 4, 0), 0);
    assert_int_equal(lfp_locked_bucket_burst(&l), 4);
    assert_true(lfp_locked_bucket_tokens_at(&l, 0) == 0);
    assert_true(fabs(lfp_locked_bucket_tokens_at(&l, 3 * SEC) - 3) < 1e-9);
    assert_int_equal(lfp_locked_bucket_set_burst(NULL, 1), EINVAL);
    assert_int_equal(lfp_locked_bucket_set_rate_at(&l, 1000, 3 * SEC), 0);
    assert_true(lfp_locked_bucket_rate(&l) == 1000);
    lfp_locked_bucket_destroy(&l);
}

static void bucket_wait_returns_at_ready_time(void **state)
{
    (void)state;
    FOR_BOTH_BUCKETS(o) {
        any_bucket b;
        assert_int_equal(o->init(&b, 1000, 1), 0);   /* 1 ms apart */
        int64_t start = lfp_now();
        for (int i = 0; i < 5; i++)
            assert_int_equal(o->wait(&b, 1, lfp_after(10 * SEC), NULL), 0);
        /* the fifth token was ready 4 ms after the first: no wait returned
         * early (a lower bound on elapsed time only, never an upper one) */
        assert_true(lfp_now() - start >= 4 * MS);
        /* queue form: each wait left at its ready time, so the bucket is
         * never in debt beyond the one token just taken */
        assert_true(o->tokens_at(&b, lfp_now()) > -1);
        o->destroy(&b);
    }
}

static void bucket_wait_deadline_consumes_nothing(void **state)
{
    (void)state;
    FOR_BOTH_BUCKETS(o) {
        any_bucket b;
        assert_int_equal(o->init(&b, 1.0 / 3600, 1), 0);
        assert_int_equal(o->take(&b, 1), 0);
        /* (tokens read at later times: the twin's refill never goes back) */
        double before = o->tokens_at(&b, lfp_now());
        assert_int_equal(o->wait(&b, 1, lfp_after(10 * MS), NULL), ETIMEDOUT);
        assert_true(o->tokens_at(&b, lfp_now()) >= before);
        /* a fired token with nothing available: ECANCELED, nothing consumed */
        lfp_cancel c;
        lfp_cancel_init(&c, NULL);
        lfp_cancel_fire(&c, 7);
        assert_int_equal(o->wait(&b, 1, LFP_FOREVER, &c), ECANCELED);
        assert_true(o->tokens_at(&b, lfp_now()) >= before);
        o->destroy(&b);
        /* available at once: taken even with a past deadline and fired token */
        any_bucket f;
        assert_int_equal(o->init(&f, 1, 1), 0);
        assert_int_equal(o->wait(&f, 1, 0, &c), 0);
        assert_int_equal(o->take_at(&f, 1, lfp_now()), EAGAIN);
        o->destroy(&f);
        lfp_cancel_destroy(&c);
    }
}

struct canceller {
    const bucket_ops *o;
    any_bucket *b;
    lfp_cancel *c;
};

/* Fires the token once the waiter has reserved (its tokens went below 0):
 * waits on the state, not on time. */
static void *cancel_when_reserved(void *arg)
{
    struct canceller *k = arg;
    while (k->o->tokens_at(k->b, lfp_now()) > -0.5)
        sched_yield();
    lfp_cancel_fire(k->c, 1);
    return NULL;
}

static void bucket_wait_cancel_gives_back(void **state)
{
    (void)state;
    FOR_BOTH_BUCKETS(o) {
        any_bucket b;
        lfp_cancel c;
        assert_int_equal(o->init(&b, 1.0 / 3600, 1), 0);
        assert_int_equal(o->take(&b, 1), 0);
        lfp_cancel_init(&c, NULL);
        struct canceller k = { o, &b, &c };
        pthread_t th;
        assert_int_equal(pthread_create(&th, NULL, cancel_when_reserved, &k), 0);
        assert_int_equal(o->wait(&b, 1, LFP_FOREVER, &c), ECANCELED);
        pthread_join(th, NULL);
        /* given back: one token's debt left, not two */
        assert_true(o->tokens_at(&b, lfp_now()) > -0.01);
        lfp_cancel_destroy(&c);
        o->destroy(&b);
    }
}

/* ------------------------------------------------------------ windows */

static void fwindow_table(void **state)
{
    (void)state;
    static const step steps[] = {   /* limit 3 per 1000 ms */
        { 0, 1, 0, NAN },     { 0, 1, 0, NAN },      { 999, 1, 0, NAN },
        { 999, 1, EAGAIN, NAN },
        { 1000, 3, 0, NAN },  /* the boundary burst: 6 within 2 ms */
        { 1000, 1, EAGAIN, NAN }, { 500, 1, EAGAIN, NAN },  /* older: charged to window 1 */
        { 2000, 4, EINVAL, NAN }, { 2000, 0, EINVAL, NAN },
        { 2500, 2, 0, NAN },  { 2600, 2, EAGAIN, NAN }, { 2999, 1, 0, NAN },
        { -1, 1, EAGAIN, NAN }, { -5000, 1, EAGAIN, NAN },  /* backwards */
        { 1000000, 3, 0, NAN },
    };
    lfp_fwindow w;
    assert_int_equal(lfp_fwindow_init(&w, 3, 1000 * MS), 0);
    TABLE(&w, fwindow_take, steps, NULL);
    assert_int_equal(lfp_fwindow_init(&w, 0, 1), EINVAL);
    assert_int_equal(lfp_fwindow_init(&w, (uint64_t)UINT32_MAX + 1, 1), EINVAL);
    assert_int_equal(lfp_fwindow_init(&w, UINT32_MAX, 1), EINVAL);
    assert_int_equal(lfp_fwindow_init(&w, 1, 0), EINVAL);
    assert_int_equal(lfp_fwindow_init(&w, 1, -1), EINVAL);
    assert_int_equal(lfp_fwindow_init(NULL, 1, 1), EINVAL);
    /* negative times: windows aligned to multiples of W below 0 too */
    assert_int_equal(lfp_fwindow_init(&w, 1, 1000 * MS), 0);
    assert_int_equal(lfp_fwindow_take_at(&w, 1, -2000 * MS), 0);
    assert_int_equal(lfp_fwindow_take_at(&w, 1, -1001 * MS), EAGAIN);
    assert_int_equal(lfp_fwindow_take_at(&w, 1, -1000 * MS), 0);
}

static void swindow_table(void **state)
{
    (void)state;
    static const step steps[] = {   /* limit 10 per 1000 ms */
        { 0, 10, 0, NAN },    { 999, 1, EAGAIN, NAN },
        { 1000, 1, EAGAIN, NAN },   /* est = 10 * 1000/1000 */
        { 1500, 5, 0, NAN },  { 1500, 1, EAGAIN, NAN },   /* est = 5 + 5 */
        { 1900, 4, 0, NAN },  { 1900, 1, EAGAIN, NAN },   /* est = 1 + 9 */
        { 2000, 1, 0, NAN },  { 2000, 1, EAGAIN, NAN },   /* prev 9 */
        { 1200, 1, EAGAIN, NAN },   /* backwards: charged at window 2, offset 0 */
        { 3500, 9, 0, NAN },  { 3500, 1, EAGAIN, NAN },   /* est = 0.5 + 9 */
        { 10000, 10, 0, NAN }, { 10000, 11, EINVAL, NAN }, { 10000, 0, EINVAL, NAN },
    };
    lfp_swindow w;
    assert_int_equal(lfp_swindow_init(&w, 10, 1000 * MS), 0);
    TABLE(&w, swindow_take, steps, NULL);
    assert_true(fabs(lfp_swindow_estimate_at(&w, 10500 * MS) - 10) < 1e-9);
    assert_true(fabs(lfp_swindow_estimate_at(&w, 11500 * MS) - 5) < 1e-9);
    assert_int_equal(lfp_swindow_init(&w, 0, 1), EINVAL);
    assert_int_equal(lfp_swindow_init(&w, LFP_SWINDOW_MAX_LIMIT + 1, 1), EINVAL);
    assert_int_equal(lfp_swindow_init(&w, 1, 0), EINVAL);
    assert_int_equal(lfp_swindow_init(NULL, 1, 1), EINVAL);
    assert_int_equal(lfp_swindow_init(&w, LFP_SWINDOW_MAX_LIMIT, INT64_MAX), 0);
    assert_int_equal(lfp_swindow_take_at(&w, LFP_SWINDOW_MAX_LIMIT, INT64_MIN), 0);
    assert_int_equal(lfp_swindow_take_at(&w, 1, INT64_MAX), 0);   /* 3 windows later */
}

static void slog_table(void **state)
{
    (void)state;
    static const step steps[] = {   /* limit 3 per 1000 ms */
        { 0, 1, 0, NAN },     { 10, 1, 0, NAN },     { 20, 1, 0, NAN },
        { 999, 1, EAGAIN, NAN }, { 1000, 1, 0, NAN },   /* 0 left the window */
        { 1005, 1, EAGAIN, NAN }, { 1010, 1, 0, NAN },  { 1020, 1, 0, NAN },
        { 1500, 1, EAGAIN, NAN }, { 500, 1, EAGAIN, NAN },  /* backwards */
        { 2009, 2, EAGAIN, NAN }, { 2020, 3, 0, NAN },
        { 5000, 4, EINVAL, NAN }, { 5000, 0, EINVAL, NAN },
    };
    lfp_slog w;
    assert_int_equal(lfp_slog_init(&w, 3, 1000 * MS), 0);
    TABLE(&w, slog_take, steps, NULL);
    assert_int_equal(lfp_slog_count_at(&w, 2020 * MS), 3);
    assert_int_equal(lfp_slog_count_at(&w, 3020 * MS), 0);
    lfp_slog_destroy(&w);
    lfp_locked_slog l;
    assert_int_equal(lfp_locked_slog_init(&l, 3, 1000 * MS), 0);
    TABLE(&l, lslog_take, steps, NULL);
    lfp_locked_slog_destroy(&l);
    assert_int_equal(lfp_slog_init(&w, 0, 1), EINVAL);
    assert_int_equal(lfp_slog_init(&w, LFP_SLOG_MAX_LIMIT + 1, 1), EINVAL);
    assert_int_equal(lfp_slog_init(&w, 1, 0), EINVAL);
    assert_int_equal(lfp_slog_init(NULL, 1, 1), EINVAL);
    assert_int_equal(lfp_locked_slog_init(&l, 0, 1), EINVAL);
    lfp_slog_destroy(NULL);
}

/* The first take may come at any time: a fresh limiter never mistakes its
 * initial state for a window ahead of `now` (regression: a fixed initial id
 * once looked like a future window for ids just below it). */
static void windows_first_take_at_any_time(void **state)
{
    (void)state;
    const int64_t w = 1000;
    const int64_t starts[] = { 0, -5 * w, ((INT64_C(1) << 23) - 3) * w,
                               ((INT64_C(1) << 31) - 3) * w, ((INT64_C(1) << 22) + 7) * w,
                               INT64_C(1) << 60 };
    for (size_t i = 0; i < sizeof starts / sizeof starts[0]; i++) {
        int64_t t = starts[i];
        lfp_fwindow f;
        lfp_swindow s;
        lfp_rolling r;
        assert_int_equal(lfp_fwindow_init(&f, 4, w), 0);
        assert_int_equal(lfp_swindow_init(&s, 4, w), 0);
        assert_int_equal(lfp_rolling_init(&r, 2, w), 0);
        assert_int_equal(lfp_fwindow_take_at(&f, 4, t), 0);
        assert_int_equal(lfp_fwindow_take_at(&f, 4, t + w), 0);
        assert_int_equal(lfp_swindow_take_at(&s, 4, t), 0);
        assert_int_equal(lfp_swindow_take_at(&s, 4, t + 2 * w), 0);
        assert_int_equal(lfp_rolling_add_at(&r, 3, t), 0);
        assert_int_equal(lfp_rolling_sum_at(&r, t), 3);
        assert_int_equal(lfp_rolling_sum_at(&r, t + 2 * w), 0);
        lfp_rolling_destroy(&r);
    }
}

/* Time far away for lfp_rolling: idle gaps from a second to ten years on a
 * fake clock, checked against an ideal model (the adds whose bucket index,
 * floor(t / bucket_ns), is one of the N ending at now's) — not against the
 * twin. Gaps that put a slot's lap difference where the header documents
 * aliasing ("Lap arithmetic": a multiple of 2^24, or within
 * LFP_ROLLING_LATE_LAPS below one) are skipped; every other gap must be
 * exact. */
struct roll_add {
    int64_t t, v;
};

static int64_t floor_div(int64_t a, int64_t b) { return a / b - (a % b != 0 && (a < 0) != (b < 0)); }

static int64_t roll_model(const struct roll_add *a, int n, int64_t now, int64_t w, unsigned nb)
{
    int64_t k = floor_div(now, w), sum = 0;
    for (int i = 0; i < n; i++) {
        int64_t ki = floor_div(a[i].t, w);
        if (ki <= k && ki > k - (int64_t)nb)
            sum += a[i].v;
    }
    return sum;
}

/* May a gap of g ns alias a slot's lap (header, "Lap arithmetic")? */
static bool roll_gap_aliases(int64_t g, int64_t w, unsigned nb)
{
    const int64_t wrap = INT64_C(1) << 24;
    int64_t laps = g / w / (int64_t)nb;
    for (int64_t d = laps - 1; d <= laps + 1; d++) {
        int64_t m = ((d % wrap) + wrap) % wrap;
        if (d > 0 && (m == 0 || m >= wrap - (int64_t)LFP_ROLLING_LATE_LAPS - 1))
            return true;
    }
    return false;
}

static void rolling_idle_gaps(void **state)
{
    (void)state;
    const int64_t DAY = 86400 * SEC, YEAR = 365 * DAY;
    const int64_t widths[] = { 1000000, 10000000, SEC };
    const unsigned nbs[] = { 1, 4, 60 };
    const int64_t gaps[] = { SEC, 59 * SEC, 3600 * SEC, DAY, 26 * DAY, 40 * DAY,
                             194 * DAY, 200 * DAY, YEAR, 3 * YEAR, 10 * YEAR };
    srand(14);
    for (size_t wi = 0; wi < sizeof widths / sizeof *widths; wi++)
        for (size_t ni = 0; ni < sizeof nbs / sizeof *nbs; ni++) {
            int64_t w = widths[wi];
            unsigned nb = nbs[ni];
            lfp_rolling r;
            assert_int_equal(lfp_rolling_init(&r, nb, w), 0);
            struct roll_add adds[64];
            int n = 0, checked = 0;
            int64_t t = 12345 * SEC + 678;
            for (int step = 0; step < 48; step++) {
                int64_t gap = step % 2 ? gaps[(step / 2) % (sizeof gaps / sizeof *gaps)]
                                       : (int64_t)(rand() % 5) * w / 2;   /* within the window */
                if (step % 5 == 4)   /* random gaps, 1 s to 10 years */
                    gap = SEC + (int64_t)((double)rand() / RAND_MAX * (double)(10 * YEAR));
                if (roll_gap_aliases(gap, w, nb))
                    continue;
                t += gap;
                int64_t v = 1 + rand() % 100;
                assert_int_equal(lfp_rolling_add_at(&r, v, t), 0);
                adds[n++] = (struct roll_add){ t, v };
                if (n == 64)
                    n = 0, t += 2 * w * (int64_t)nb;   /* the model forgets; so must the ring */
                assert_int_equal(lfp_rolling_sum_at(&r, t), roll_model(adds, n, t, w, nb));
                checked++;
            }
            assert_true(checked > 24);
            lfp_rolling_destroy(&r);
        }
}

static void rolling_sums(void **state)
{
    (void)state;
    lfp_rolling r;
    assert_int_equal(lfp_rolling_init(&r, 5, 100), 0);
    assert_int_equal(lfp_rolling_add_at(&r, 1, 0), 0);
    assert_int_equal(lfp_rolling_add_at(&r, 2, 150), 0);
    assert_int_equal(lfp_rolling_add_at(&r, 3, 499), 0);
    assert_int_equal(lfp_rolling_sum_at(&r, 499), 6);
    assert_int_equal(lfp_rolling_sum_at(&r, 500), 5);     /* bucket 0 left */
    assert_int_equal(lfp_rolling_sum_at(&r, 650), 3);
    assert_int_equal(lfp_rolling_add_at(&r, -4, 650), 0);
    assert_int_equal(lfp_rolling_sum_at(&r, 650), -1);
    assert_int_equal(lfp_rolling_sum_at(&r, 1000), -4);
    assert_int_equal(lfp_rolling_sum_at(&r, 1100), 0);
    /* slot 0 reused by bucket 10; a late add for bucket 0 is dropped */
    assert_int_equal(lfp_rolling_add_at(&r, 7, 1000), 0);
    assert_int_equal(lfp_rolling_add_at(&r, 100, 0), 0);
    assert_int_equal(lfp_rolling_sum_at(&r, 1000), 3);
    assert_int_equal(lfp_rolling_sum_at(&r, 0), 0);       /* bucket 0's slot moved on */
    /* a long idle gap (160 days of 1 s windows, 0.82 * 2^24 laps) starts the
     * slot afresh instead of reading its old lap as a later one */
    lfp_rolling idle;
    const int64_t ms = 1000000, day = 86400 * INT64_C(1000000000);
    for (int64_t d = 100; d <= 200; d += 20) {
        assert_int_equal(lfp_rolling_init(&idle, 10, 100 * ms), 0);
        assert_int_equal(lfp_rolling_add_at(&idle, 1, 0), 0);
        assert_int_equal(lfp_rolling_add_at(&idle, 1, d * day), 0);
        assert_int_equal(lfp_rolling_sum_at(&idle, d * day), 1);
        lfp_rolling_destroy(&idle);
    }
    assert_int_equal(lfp_rolling_init(&idle, 10, 100 * ms), 0);
    /* a late add, LFP_ROLLING_LATE_LAPS laps behind its slot, is dropped */
    int64_t now = 300 * day, lap = 1000 * ms;
    assert_int_equal(lfp_rolling_add_at(&idle, 2, now), 0);
    assert_int_equal(lfp_rolling_add_at(&idle, 5, now - LFP_ROLLING_LATE_LAPS * lap), 0);
    assert_int_equal(lfp_rolling_sum_at(&idle, now), 2);
    lfp_rolling_destroy(&idle);
    /* negative times */
    lfp_rolling neg;
    assert_int_equal(lfp_rolling_init(&neg, 5, 100), 0);
    assert_int_equal(lfp_rolling_add_at(&neg, 5, -1), 0);
    assert_int_equal(lfp_rolling_sum_at(&neg, -1), 5);
    assert_int_equal(lfp_rolling_sum_at(&neg, 399), 5);
    assert_int_equal(lfp_rolling_sum_at(&neg, 400), 0);
    lfp_rolling_destroy(&neg);
    /* value range */
    assert_int_equal(lfp_rolling_add_at(&r, LFP_ROLLING_VALUE_MAX, 5000), 0);
    assert_int_equal(lfp_rolling_add_at(&r, 1, 5000), EOVERFLOW);
    assert_int_equal(lfp_rolling_add_at(&r, -2 * LFP_ROLLING_VALUE_MAX, 5000), 0);
    assert_int_equal(lfp_rolling_add_at(&r, -1, 5000), EOVERFLOW);
    assert_true(lfp_rolling_sum_at(&r, 5000) == -LFP_ROLLING_VALUE_MAX);
    lfp_rolling_destroy(&r);
    assert_int_equal(lfp_rolling_init(&r, 0, 1), EINVAL);
    assert_int_equal(lfp_rolling_init(&r, LFP_ROLLING_MAX_BUCKETS + 1, 1), EINVAL);
    assert_int_equal(lfp_rolling_init(&r, 1, 0), EINVAL);
    assert_int_equal(lfp_rolling_add_at(NULL, 1, 0), EINVAL);
    lfp_rolling_destroy(NULL);
}

/* The plain forms use the current time: with hour-long windows two takes
 * in a row fall in the same window. */
static void plain_forms_use_the_clock(void **state)
{
    (void)state;
    const int64_t hour = 3600 * SEC;
    lfp_bucket b;
    lfp_fwindow f;
    lfp_swindow s;
    lfp_slog g;
    lfp_rolling r;
    lfp_locked_bucket lb;
    lfp_locked_slog lg;
    assert_int_equal(lfp_bucket_init(&b, 1.0 / 3600, 1), 0);
    assert_int_equal(lfp_fwindow_init(&f, 1, hour), 0);
    assert_int_equal(lfp_swindow_init(&s, 1, hour), 0);
    assert_int_equal(lfp_slog_init(&g, 1, hour), 0);
    assert_int_equal(lfp_rolling_init(&r, 2, hour), 0);
    assert_int_equal(lfp_locked_bucket_init(&lb, 1.0 / 3600, 1), 0);
    assert_int_equal(lfp_locked_slog_init(&lg, 1, hour), 0);
    for (int i = 0; i < 2; i++) {
        int want = i == 0 ? 0 : EAGAIN;
        assert_int_equal(lfp_bucket_take(&b, 1), want);
        assert_int_equal(lfp_fwindow_take(&f, 1), want);
        assert_int_equal(lfp_swindow_take(&s, 1), want);
        assert_int_equal(lfp_slog_take(&g, 1), want);
        assert_int_equal(lfp_locked_bucket_take(&lb, 1), want);
        assert_int_equal(lfp_locked_slog_take(&lg, 1), want);
        assert_int_equal(lfp_rolling_add(&r, 5), 0);
    }
    assert_int_equal(lfp_rolling_sum(&r), 10);
    lfp_limiter ls[] = { { LFP_LIMITER_BUCKET, &b } };
    assert_int_equal(lfp_limit_all(ls, 1, 1), EAGAIN);
    lfp_slog_destroy(&g);
    lfp_rolling_destroy(&r);
    lfp_locked_bucket_destroy(&lb);
    lfp_locked_slog_destroy(&lg);
}

/* ------------------------------------------------------------ properties */

static uint64_t rng_next(uint64_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    return *x;
}

#define PROP_N 4000

/* Admissions in (t - w, t] and in [lo, hi) by binary search (a sorted). */
static size_t upper(const int64_t *a, size_t c, int64_t t)   /* first index with a[i] > t */
{
    size_t lo = 0, hi = c;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (a[mid] <= t)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static uint64_t in_window(const int64_t *ts, size_t count, int64_t t, int64_t w)
{
    return upper(ts, count, t) - upper(ts, count, t - w);
}

/* Admissions in the aligned window [k*w, (k+1)*w) (non-negative times). */
static uint64_t in_aligned(const int64_t *ts, size_t count, int64_t k, int64_t w)
{
    return upper(ts, count, (k + 1) * w - 1) - upper(ts, count, k * w - 1);
}

static int cmp64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* A random arrival stream: bursts, gaps, ties; backwards jumps if asked.
 * Feeds `take`; records each admitted unit's timestamp. */
static size_t random_stream(uint64_t seed, void *lim, take_fn take, int64_t w, bool back,
                            uint32_t max_n, int64_t *adm)
{
    size_t count = 0;
    int64_t t = 0;
    for (int i = 0; i < PROP_N; i++) {
        uint64_t r = rng_next(&seed);
        if (r % 8 == 0)
            t += (int64_t)(rng_next(&seed) % (uint64_t)(2 * w));   /* gap */
        else if (r % 8 < 6)
            t += (int64_t)(rng_next(&seed) % (uint64_t)(w / 16 + 1));
        if (back && r % 29 == 0)
            t -= (int64_t)(rng_next(&seed) % (uint64_t)w);
        uint32_t n = 1 + (uint32_t)(rng_next(&seed) % max_n);
        if (take(lim, n, t) == 0)
            for (uint32_t k = 0; k < n; k++)
                adm[count++] = t;
    }
    qsort(adm, count, sizeof *adm, cmp64);
    return count;
}

/* The plain takes' clock (src/ratelimit_internal.h): every value is an
 * lfp_now() reading made earlier by this thread, so it is never ahead of a
 * reading made after it, never decreases, and does advance. Returns the
 * number of violations (cmocka asserts only on the main thread). */
static void *takes_clock_checks(void *arg)
{
    (void)arg;
    intptr_t bad = 0;
    int64_t prev = INT64_MIN;
    for (int i = 0; i < 200000; i++) {
        int64_t t = lfp_rl_now_();
        bad += t > lfp_now() || t < prev;
        prev = t;
    }
    int64_t later = lfp_now();
    int64_t give_up = later + 10 * SEC;   /* a broken clock fails instead of hanging */
    while (lfp_rl_now_() <= later && lfp_now() < give_up)
        ;
    bad += lfp_rl_now_() <= later;
    return (void *)bad;
}

static void takes_clock_is_a_past_reading(void **state)
{
    (void)state;
    pthread_t th[2];
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&th[i], NULL, takes_clock_checks, NULL), 0);
    assert_int_equal((intptr_t)takes_clock_checks(NULL), 0);
    for (int i = 0; i < 2; i++) {
        void *bad;
        assert_int_equal(pthread_join(th[i], &bad), 0);
        assert_int_equal((intptr_t)bad, 0);
    }
}

static void slog_never_over_limit(void **state)
{
    (void)state;
    int64_t *adm = malloc(PROP_N * 4 * sizeof *adm);
    for (uint64_t seed = 1; seed <= 40; seed++) {
        uint32_t limit = 1 + (uint32_t)(seed % 7);
        int64_t w = 1000;
        lfp_slog s;
        lfp_locked_slog l;
        assert_int_equal(lfp_slog_init(&s, limit, w), 0);
        assert_int_equal(lfp_locked_slog_init(&l, limit, w), 0);
        size_t c = random_stream(seed * 7919, &s, slog_take, w, true, limit < 3 ? limit : 3, adm);
        for (size_t i = 0; i < c; i++)
            if (in_window(adm, c, adm[i], w) > limit)
                fail_msg("seed %llu: %llu admissions in (%lld - W, %lld], limit %u",
                         (unsigned long long)seed,
                         (unsigned long long)in_window(adm, c, adm[i], w),
                         (long long)adm[i], (long long)adm[i], limit);
        /* the twin decides identically on the same stream */
        int64_t *adm2 = malloc(PROP_N * 4 * sizeof *adm2);
        size_t c2 = random_stream(seed * 7919, &l, lslog_take, w, true, limit < 3 ? limit : 3, adm2);
        assert_int_equal(c, c2);
        assert_memory_equal(adm, adm2, c * sizeof *adm);
        free(adm2);
        lfp_slog_destroy(&s);
        lfp_locked_slog_destroy(&l);
    }
    free(adm);
}

static void swindow_within_documented_error(void **state)
{
    (void)state;
    int64_t *adm = malloc(PROP_N * 4 * sizeof *adm);
    for (uint64_t seed = 1; seed <= 40; seed++) {
        uint32_t limit = 1 + (uint32_t)(seed % 9) * 3;
        int64_t w = 1000;
        lfp_swindow s;
        assert_int_equal(lfp_swindow_init(&s, limit, w), 0);
        size_t c = random_stream(seed * 104729, &s, swindow_take, w, false, 3, adm);
        for (size_t i = 0; i < c; i++) {
            int64_t t = adm[i], k = t / w, e = t - k * w;
            uint64_t prev = k > 0 ? in_aligned(adm, c, k - 1, w) : 0;
            /* count * W <= limit * W + prev * e */
            uint64_t cnt = in_window(adm, c, t, w);
            if (cnt * (uint64_t)w > (uint64_t)limit * (uint64_t)w + prev * (uint64_t)e)
                fail_msg("seed %llu t %lld: %llu in window, limit %u prev %llu e %lld",
                         (unsigned long long)seed, (long long)t, (unsigned long long)cnt,
                         limit, (unsigned long long)prev, (long long)e);
            assert_true(cnt < 2 * (uint64_t)limit);
        }
    }
    free(adm);
}

static void fwindow_at_most_twice_at_boundary(void **state)
{
    (void)state;
    int64_t *adm = malloc(PROP_N * 4 * sizeof *adm);
    bool reached_twice = false;
    for (uint64_t seed = 1; seed <= 40; seed++) {
        uint32_t limit = 1 + (uint32_t)(seed % 5);
        int64_t w = 1000;
        lfp_fwindow f;
        assert_int_equal(lfp_fwindow_init(&f, limit, w), 0);
        size_t c = random_stream(seed * 15485863, &f, fwindow_take, w, false, limit, adm);
        for (size_t i = 0; i < c; i++) {
            uint64_t cnt = in_window(adm, c, adm[i], w);
            uint64_t aligned = in_aligned(adm, c, adm[i] / w, w);
            assert_true(aligned <= limit);
            assert_true(cnt <= 2 * (uint64_t)limit);
            reached_twice |= cnt == 2 * (uint64_t)limit;
        }
    }
    /* the documented worst case is real: a boundary-aligned burst */
    lfp_fwindow f;
    assert_int_equal(lfp_fwindow_init(&f, 5, 1000), 0);
    assert_int_equal(lfp_fwindow_take_at(&f, 5, 999), 0);
    assert_int_equal(lfp_fwindow_take_at(&f, 5, 1000), 0);
    (void)reached_twice;
    free(adm);
}

static void bucket_never_over_ideal(void **state)
{
    (void)state;
    int64_t *adm = malloc(PROP_N * 8 * sizeof *adm);
    for (uint64_t seed = 1; seed <= 20; seed++) {
        uint32_t burst = 1 + (uint32_t)(seed % 6);
        lfp_bucket b;
        assert_int_equal(lfp_bucket_init(&b, 1e9 / 250, burst), 0);   /* T = 250 ns */
        size_t c = random_stream(seed * 31337, &b, bucket_take, 1000, true, burst, adm);
        /* admissions at or before t <= burst + (t - first) / T */
        for (size_t i = 0; i < c; i++)
            assert_true((int64_t)(i + 1) <= (int64_t)burst + (adm[i] - adm[0]) / 250);
    }
    free(adm);
}

/* ------------------------------------------------------------ limit_all */

static void limit_all_gives_back(void **state)
{
    (void)state;
    lfp_bucket b;
    lfp_fwindow f;
    lfp_swindow s;
    lfp_slog g;
    assert_int_equal(lfp_bucket_init(&b, 1, 5), 0);
    assert_int_equal(lfp_fwindow_init(&f, 3, SEC), 0);
    assert_int_equal(lfp_swindow_init(&s, 4, SEC), 0);
    assert_int_equal(lfp_slog_init(&g, 2, SEC), 0);
    lfp_limiter all[] = { { LFP_LIMITER_BUCKET, &b }, { LFP_LIMITER_FWINDOW, &f },
                          { LFP_LIMITER_SWINDOW, &s }, { LFP_LIMITER_SLOG, &g } };
    assert_int_equal(lfp_limit_all_at(all, 4, 1, 0), 0);
    assert_int_equal(lfp_limit_all_at(all, 4, 1, 0), 0);
    assert_int_equal(lfp_limit_all_at(all, 4, 1, 0), EAGAIN);   /* slog refuses */
    /* everything before the slog was given back: 3 tokens, 1 fixed, 2 sliding */
    assert_true(lfp_bucket_tokens_at(&b, 0) == 3);
    assert_int_equal(lfp_fwindow_take_at(&f, 1, 0), 0);
    assert_int_equal(lfp_fwindow_take_at(&f, 1, 0), EAGAIN);
    assert_true(lfp_swindow_estimate_at(&s, 0) == 2);
    /* slog first, bucket refusing: the slog entry is given back */
    lfp_bucket one;
    assert_int_equal(lfp_bucket_init(&one, 1, 1), 0);
    assert_int_equal(lfp_bucket_take_at(&one, 1, 0), 0);
    lfp_slog g2;
    assert_int_equal(lfp_slog_init(&g2, 1, SEC), 0);
    lfp_limiter rev[] = { { LFP_LIMITER_SLOG, &g2 }, { LFP_LIMITER_SWINDOW, &s },
                          { LFP_LIMITER_BUCKET, &one } };
    assert_int_equal(lfp_limit_all_at(rev, 3, 1, 0), EAGAIN);
    assert_true(lfp_swindow_estimate_at(&s, 0) == 2);
    assert_int_equal(lfp_slog_take_at(&g2, 1, 0), 0);
    assert_int_equal(lfp_slog_take_at(&g2, 1, 0), EAGAIN);
    /* bad input: nothing taken */
    assert_int_equal(lfp_limit_all_at(all, 4, 3, 0), EINVAL);   /* above slog's limit */
    assert_int_equal(lfp_limit_all_at(all, 4, 0, 0), EINVAL);
    assert_int_equal(lfp_limit_all_at(NULL, 1, 1, 0), EINVAL);
    assert_int_equal(lfp_limit_all_at(all, 0, 1, 0), EINVAL);
    lfp_limiter bad = { (lfp_limiter_kind)99, &b };
    assert_int_equal(lfp_limit_all_at(&bad, 1, 1, 0), EINVAL);
    assert_true(lfp_bucket_tokens_at(&b, 0) == 3);
    lfp_slog_destroy(&g);
    lfp_slog_destroy(&g2);
}

static void limit_all_many_limiters(void **state)
{
    (void)state;
    enum { N = 40 };
    lfp_fwindow f[N];
    lfp_limiter ls[N];
    for (int i = 0; i < N; i++) {
        assert_int_equal(lfp_fwindow_init(&f[i], 2, SEC), 0);
        ls[i] = (lfp_limiter){ LFP_LIMITER_FWINDOW, &f[i] };
    }
    assert_int_equal(lfp_fwindow_take_at(&f[N - 1], 2, 0), 0);   /* the last one is full */
    assert_int_equal(lfp_limit_all_at(ls, N, 1, 0), EAGAIN);
    for (int i = 0; i < N - 1; i++)
        assert_int_equal(lfp_fwindow_take_at(&f[i], 2, 0), 0);   /* all given back */
    assert_int_equal(lfp_limit_all(ls, N, 1), 0);                /* a later window */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(bucket_table),
        cmocka_unit_test(bucket_tiny_and_huge_rates),
        cmocka_unit_test(bucket_bad_input),
        cmocka_unit_test(bucket_exact_over_hours),
        cmocka_unit_test(locked_bucket_exact_refill),
        cmocka_unit_test(bucket_reserve_and_give_back),
        cmocka_unit_test(bucket_reserve_saturates),
        cmocka_unit_test(bucket_set_rate_and_burst),
        cmocka_unit_test(bucket_wait_returns_at_ready_time),
        cmocka_unit_test(bucket_wait_deadline_consumes_nothing),
        cmocka_unit_test(bucket_wait_cancel_gives_back),
        cmocka_unit_test(fwindow_table),
        cmocka_unit_test(swindow_table),
        cmocka_unit_test(slog_table),
        cmocka_unit_test(windows_first_take_at_any_time),
        cmocka_unit_test(rolling_sums),
        cmocka_unit_test(rolling_idle_gaps),
        cmocka_unit_test(plain_forms_use_the_clock),
        cmocka_unit_test(takes_clock_is_a_past_reading),
        cmocka_unit_test(slog_never_over_limit),
        cmocka_unit_test(swindow_within_documented_error),
        cmocka_unit_test(fwindow_at_most_twice_at_boundary),
        cmocka_unit_test(bucket_never_over_ideal),
        cmocka_unit_test(limit_all_gives_back),
        cmocka_unit_test(limit_all_many_limiters),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
