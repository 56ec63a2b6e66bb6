/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit tests for issue 15 (rate limiters): fake clocks throughout; the
 * oracle is never the mutex twin (it shared the bugs) but the spec itself,
 * checked by exact integer arithmetic:
 *   no interval of length L admits more than burst + L/T,
 * over EVERY pair of admission times of a run. */
#include <math.h>
#include <pthread.h>
#include <sched.h>
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


#ifdef ISSUE15_OLD_API
/* Only to watch the tests fail on the code before the fix: the receipts
 * mapped onto the old calls (give_back of n tokens to whatever TAT is). */
typedef struct { int64_t ready; uint32_t n; } lfp_bucket_reservation;
#define lfp_bucket_reserve_ex_at(b, n, now, r) ((r)->n = (n), lfp_bucket_reserve_at(b, n, now, &(r)->ready))
#define lfp_locked_bucket_reserve_ex_at(b, n, now, r) ((r)->n = (n), lfp_locked_bucket_reserve_at(b, n, now, &(r)->ready))
#define lfp_bucket_take_ex_at(b, n, now, r) ((r)->n = (n), (r)->ready = (now), lfp_bucket_take_at(b, n, now))
#define lfp_locked_bucket_take_ex_at(b, n, now, r) ((r)->n = (n), (r)->ready = (now), lfp_locked_bucket_take_at(b, n, now))
#define lfp_bucket_give_back(b, r) lfp_bucket_give_back(b, (r)->n)
#define lfp_locked_bucket_give_back(b, r) lfp_locked_bucket_give_back(b, (r)->n)
#endif
#if defined(ISSUE15_OLD_API) || defined(ISSUE15_OLD_SET)
#define lfp_bucket_set_rate_at(b, r, now) lfp_bucket_set_rate(b, r)
#define lfp_bucket_set_burst_at(b, n, now) lfp_bucket_set_burst(b, n)
#define lfp_locked_bucket_set_rate_at(b, r, now) lfp_locked_bucket_set_rate(b, r)
#define lfp_locked_bucket_set_burst_at(b, n, now) lfp_locked_bucket_set_burst(b, n)
#endif

__extension__ typedef __int128 i128;

#define MS INT64_C(1000000)
#define SEC INT64_C(1000000000)

/* ------------------------------------------------------------ the spec oracle */

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Admission times a[0..n) (one entry per token) obey the GCRA spec with
 * interval T (ns) and burst: for every i < j in sorted order,
 * (j - i + 1 - burst) * T <= a[j] - a[i]. Exact (128-bit). Returns the
 * first violating pair through *bi, *bj, or false if none. */
static bool spec_violated(int64_t *a, size_t n, int64_t t, uint32_t burst, size_t *bi, size_t *bj)
{
    qsort(a, n, sizeof *a, cmp_i64);
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + burst; j < n; j++) {   /* j - i + 1 > burst */
            i128 need = (i128)(j - i + 1 - burst) * t;
            if ((i128)a[j] - a[i] < need) {
                *bi = i;
                *bj = j;
                return true;
            }
        }
    return false;
}

static void assert_spec(int64_t *a, size_t n, int64_t t, uint32_t burst, const char *what)
{
    size_t i, j;
    if (spec_violated(a, n, t, burst, &i, &j))
        fail_msg("%s: %zu admissions in [%lld, %lld] (length %lld ns) > burst %u + L/T (T %lld)",
                 what, j - i + 1, (long long)a[i], (long long)a[j], (long long)(a[j] - a[i]),
                 burst, (long long)t);
}

/* ------------------------------------------------------------ 4: saturation */

/* Settings whose burst * T passes int64 are refused, or handled exactly:
 * never more than burst admissions at one instant. */
static void bucket_saturation_never_unbounded(void **state)
{
    (void)state;
    lfp_bucket b;
    int rc = lfp_bucket_init(&b, 1e-9, 11);   /* T = 1e18 ns: burst * T = 1.1e19 */
    if (rc == 0) {
        unsigned admitted = 0;
        for (int i = 0; i < 1000000; i++)
            admitted += lfp_bucket_take_at(&b, 1, 0) == 0;
        if (admitted > 11)
            fail_msg("rate 1e-9/s burst 11 admitted %u at one instant", admitted);
    } else {
        assert_int_equal(rc, EINVAL);
    }
    /* the same through set_burst and set_rate */
    assert_int_equal(lfp_bucket_init(&b, 1e-9, 1), 0);
    rc = lfp_bucket_set_burst(&b, 11);
    if (rc == 0) {
        unsigned admitted = 0;
        for (int i = 0; i < 1000; i++)
            admitted += lfp_bucket_take_at(&b, 1, 0) == 0;
        assert_true(admitted <= 11);
    } else {
        assert_int_equal(rc, EINVAL);
        assert_int_equal(lfp_bucket_burst(&b), 1);   /* unchanged */
    }
    assert_int_equal(lfp_bucket_init(&b, 1, 11), 0);
    rc = lfp_bucket_set_rate(&b, 1e-9);
    if (rc == 0) {
        unsigned admitted = 0;
        for (int i = 0; i < 1000; i++)
            admitted += lfp_bucket_take_at(&b, 1, 0) == 0;
        assert_true(admitted <= 11);
    } else {
        assert_int_equal(rc, EINVAL);
        assert_true(lfp_bucket_rate(&b) == 1);
    }
    /* now + burst * T past INT64_MAX: at most burst at one instant */
    const int64_t ends[] = { INT64_MAX - 1, INT64_MAX - SEC, INT64_MAX - 3 * SEC - 1, INT64_MAX };
    for (size_t k = 0; k < sizeof ends / sizeof ends[0]; k++) {
        assert_int_equal(lfp_bucket_init(&b, 1, 4), 0);
        unsigned admitted = 0;
        for (int i = 0; i < 1000; i++)
            admitted += lfp_bucket_take_at(&b, 1, ends[k]) == 0;
        if (admitted > 4)
            fail_msg("at now = INT64_MAX - %lld: %u admitted at one instant, burst 4",
                     (long long)(INT64_MAX - ends[k]), admitted);
        int64_t ready;
        admitted = 0;
        assert_int_equal(lfp_bucket_init(&b, 1, 4), 0);
        for (int i = 0; i < 1000; i++)
            if (lfp_bucket_reserve_at(&b, 1, ends[k], &ready) == 0 && ready <= ends[k])
                admitted++;
        assert_true(admitted <= 4);
    }
    /* the largest accepted settings work exactly */
    assert_int_equal(lfp_bucket_init(&b, LFP_BUCKET_MIN_RATE, 1), 0);
    assert_int_equal(lfp_bucket_take_at(&b, 1, 0), 0);
    assert_int_equal(lfp_bucket_take_at(&b, 1, 0), EAGAIN);
}

/* ------------------------------------------------------------ 7: interval rounding */

/* Exact check of T against the requested rate (a double m * 2^e): the
 * bucket is never faster than requested (beyond the 2^-53 relative rounding
 * of the double itself), T * rate >= 1e9 (1 - 2^-53), and T is the
 * smallest such integer (so it is slower by less than one ns per token). */
static void check_interval(double rate)
{
    lfp_bucket b;
    assert_int_equal(lfp_bucket_init(&b, rate, 1), 0);
    int64_t t = atomic_load(&b.interval);
    uint64_t bits;                               /* rate = m / 2^s exactly */
    memcpy(&bits, &rate, sizeof bits);
    uint64_t m = (bits & ((UINT64_C(1) << 52) - 1)) | UINT64_C(1) << 52;
    int s = 1075 - (int)(bits >> 52 & 0x7ff);
    assert_true(s > 0 && s < 127 - 30);
    /* T * m / 2^s >= 1e9  <=>  T * m >= 1e9 * 2^s */
    lfp_u128_ rhs = (lfp_u128_)1000000000u << s;
    rhs -= rhs >> 53;   /* the rate's own double rounding (documented) */
    if ((lfp_u128_)t * m < rhs)
        fail_msg("rate %.17g: T = %lld ns runs at %.17g/s, faster than requested", rate,
                 (long long)t, 1e9 / (double)t);
    if ((lfp_u128_)(t - 1) * m >= rhs)
        fail_msg("rate %.17g: T = %lld is not the smallest admissible interval", rate,
                 (long long)t);
    /* the documented bound: effective rate > rate / (1 + rate * 1e-9) */
    assert_true(lfp_bucket_rate(&b) <= rate * (1 + 1e-15));
    assert_true(lfp_bucket_rate(&b) > rate / (1 + rate * 1e-9) * (1 - 1e-15));
}

static void bucket_never_faster_than_requested(void **state)
{
    (void)state;
    const double rates[] = { 7e8, 1e9, 5e8, 6e8, 3e8, 1.5e8, 1e8, 3, 7, 0.7, 1.0 / 3, 1e6 / 7,
                             999999999.0, 500000001.0, 1e9 / 3, 1e9 / 7, LFP_BUCKET_MIN_RATE };
    for (size_t i = 0; i < sizeof rates / sizeof rates[0]; i++)
        check_interval(rates[i]);
    srand(15);
    for (int i = 0; i < 20000; i++) {
        double r = 1e9 * (rand() / (double)RAND_MAX);   /* a random decade below 1e9 */
        for (int d = rand() % 19; d > 0 && r / 10 >= LFP_BUCKET_MIN_RATE; d--)
            r /= 10;
        if (r < LFP_BUCKET_MIN_RATE)
            r = LFP_BUCKET_MIN_RATE;
        check_interval(r);
    }
    /* behaviour: 7e8/s polled every ns for 1 ms admits at most burst + 700000 */
    lfp_bucket b;
    assert_int_equal(lfp_bucket_init(&b, 7e8, 10), 0);
    int64_t admitted = 0;
    for (int64_t now = 0; now <= MS; now++)
        while (lfp_bucket_take_at(&b, 1, now) == 0)
            admitted++;
    if (admitted > 10 + 700000)
        fail_msg("7e8/s admitted %lld in 1 ms (ideal at most %d)", (long long)admitted,
                 10 + 700000);
}

/* ------------------------------------------------------------ 1, 2: give-backs */

/* Both buckets through one set of calls with receipts. */
typedef struct rsv_ {
    lfp_bucket_reservation r;
} rsv_;

typedef struct any_ {
    bool locked;
    lfp_bucket b;
    lfp_locked_bucket l;
} any_;

static int a_init(any_ *a, bool locked, double rate, uint32_t burst)
{
    a->locked = locked;
    return locked ? lfp_locked_bucket_init(&a->l, rate, burst) : lfp_bucket_init(&a->b, rate, burst);
}
static void a_destroy(any_ *a)
{
    if (a->locked)
        lfp_locked_bucket_destroy(&a->l);
}
static int a_take(any_ *a, uint32_t n, int64_t now)
{
    return a->locked ? lfp_locked_bucket_take_at(&a->l, n, now) : lfp_bucket_take_at(&a->b, n, now);
}
static int a_take_ex(any_ *a, uint32_t n, int64_t now, rsv_ *r)
{
    return a->locked ? lfp_locked_bucket_take_ex_at(&a->l, n, now, &r->r)
                     : lfp_bucket_take_ex_at(&a->b, n, now, &r->r);
}
static int a_reserve(any_ *a, uint32_t n, int64_t now, rsv_ *r)
{
    return a->locked ? lfp_locked_bucket_reserve_ex_at(&a->l, n, now, &r->r)
                     : lfp_bucket_reserve_ex_at(&a->b, n, now, &r->r);
}
static int a_give_back(any_ *a, rsv_ *r)
{
    return a->locked ? lfp_locked_bucket_give_back(&a->l, &r->r) : lfp_bucket_give_back(&a->b, &r->r);
}
static int64_t ready_of(const rsv_ *r) { return r->r.ready; }

/* Rate 1/s burst 1: A and B reserved at 0; A gives back; newcomer C must
 * not get B's time (B and C would both act at 1 s). */
static void bucket_give_back_not_newest(void **state)
{
    (void)state;
    for (int k = 0; k < 2; k++) {
        any_ a;
        assert_int_equal(a_init(&a, k, 1, 1), 0);
        rsv_ A, B, C;
        assert_int_equal(a_reserve(&a, 1, 0, &A), 0);
        assert_true(ready_of(&A) == 0);
        assert_int_equal(a_reserve(&a, 1, 0, &B), 0);
        assert_true(ready_of(&B) == SEC);
        a_give_back(&a, &A);
        assert_int_equal(a_reserve(&a, 1, 0, &C), 0);
        if (ready_of(&C) < 2 * SEC)
            fail_msg("%s: B acts at %lld ns, C at %lld ns (burst 1, 1/s)",
                     k ? "lfp_locked_bucket" : "lfp_bucket", (long long)ready_of(&B),
                     (long long)ready_of(&C));
        /* giving back the newest one restores it exactly */
        assert_int_equal(a_give_back(&a, &C), 0);
        rsv_ D;
        assert_int_equal(a_reserve(&a, 1, 0, &D), 0);
        assert_true(ready_of(&D) == 2 * SEC);
        assert_int_equal(a_give_back(&a, &D), 0);
        assert_int_equal(a_give_back(&a, &B), 0);   /* newest again: restored */
        assert_int_equal(a_reserve(&a, 1, 0, &D), 0);
        assert_true(ready_of(&D) == SEC);           /* A's slot stays consumed */
        a_destroy(&a);
    }
}

/* Item 2: an undo after another take re-based TAT creates nothing. */
static void bucket_undo_after_rebase(void **state)
{
    (void)state;
    for (int k = 0; k < 2; k++) {
        any_ a;
        assert_int_equal(a_init(&a, k, 1, 1), 0);
        rsv_ A;
        assert_int_equal(a_take_ex(&a, 1, 0, &A), 0);
        assert_int_equal(a_take(&a, 1, 10 * SEC), 0);   /* re-bases TAT at 10 s */
        a_give_back(&a, &A);
        if (a_take(&a, 1, 10 * SEC) == 0)
            fail_msg("%s: two admissions at 10 s with burst 1 after an undo",
                     k ? "lfp_locked_bucket" : "lfp_bucket");
        a_destroy(&a);
    }
}

/* lfp_limit_all's undo gives back exactly what its own take consumed. A
 * window refuses after the bucket took; the undo must restore the bucket
 * exactly (nothing more, nothing less). */
static void limit_all_undo_exact(void **state)
{
    (void)state;
    lfp_bucket b;
    lfp_fwindow f;
    assert_int_equal(lfp_bucket_init(&b, 1, 2), 0);
    assert_int_equal(lfp_fwindow_init(&f, 1, 100 * SEC), 0);
    assert_int_equal(lfp_fwindow_take_at(&f, 1, 0), 0);    /* window full */
    lfp_limiter ls[] = { { LFP_LIMITER_BUCKET, &b }, { LFP_LIMITER_FWINDOW, &f } };
    assert_int_equal(lfp_limit_all_at(ls, 2, 1, 0), EAGAIN);
    assert_true(lfp_bucket_tokens_at(&b, 0) == 2);          /* restored */
    assert_int_equal(lfp_bucket_take_at(&b, 2, 0), 0);
    assert_int_equal(lfp_bucket_take_at(&b, 1, 0), EAGAIN);
}

/* Item 3: a refused lfp_limit_all must leave a sliding log exactly as able
 * to admit as before. Undoing a log's claim cannot promise that: when
 * another take moved head meanwhile, the released slots sit behind it and
 * in-order takes are refused while the log holds fewer than `limit`
 * admissions, until the ring comes round. So limit_all takes the logs
 * after every other limiter, and a call with one log never claims from it
 * unless everything else admitted: a refusal by another limiter leaves the
 * log untouched (white-box: its never-written slot still reads INT64_MIN;
 * an undo would have written now - W there), whatever the order given. */
static void limit_all_refusal_leaves_log_untouched(void **state)
{
    (void)state;
    lfp_slog g;
    lfp_fwindow f;
    lfp_bucket b;
    assert_int_equal(lfp_slog_init(&g, 4, SEC), 0);
    assert_int_equal(lfp_fwindow_init(&f, 1, 100 * SEC), 0);
    assert_int_equal(lfp_bucket_init(&b, 1, 1), 0);
    assert_int_equal(lfp_fwindow_take_at(&f, 1, 0), 0);    /* refuses */
    lfp_limiter ls[] = { { LFP_LIMITER_SLOG, &g }, { LFP_LIMITER_BUCKET, &b },
                         { LFP_LIMITER_FWINDOW, &f } };
    assert_int_equal(lfp_limit_all_at(ls, 3, 1, 5 * SEC), EAGAIN);
    assert_true(atomic_load(&g.ring[0]) == INT64_MIN);
    assert_true(atomic_load(&g.head) == 0);
    assert_true(lfp_bucket_tokens_at(&b, 5 * SEC) == 1);   /* undone exactly */
    /* with the window free, all three admit, the log included */
    assert_int_equal(lfp_limit_all_at(ls, 3, 1, 200 * SEC), 0);
    assert_true(atomic_load(&g.ring[0]) == 200 * SEC);
    assert_int_equal(lfp_slog_count_at(&g, 200 * SEC), 1);
    /* a second log could not be taken last as well, so its undo could not
     * be exact: two logs in one call are refused, nothing taken */
    lfp_slog g2;
    assert_int_equal(lfp_slog_init(&g2, 4, SEC), 0);
    lfp_limiter two[] = { { LFP_LIMITER_SLOG, &g }, { LFP_LIMITER_SLOG, &g2 } };
    assert_int_equal(lfp_limit_all_at(two, 2, 1, 300 * SEC), EINVAL);
    assert_int_equal(lfp_limit_all_wait_at(two, 2, 1, 300 * SEC, 300 * SEC, NULL), EINVAL);
    assert_int_equal(lfp_slog_count_at(&g, 300 * SEC), 0);
    assert_int_equal(lfp_slog_count_at(&g2, 300 * SEC), 0);
    lfp_slog_destroy(&g2);
    lfp_slog_destroy(&g);
}

/* lfp_slog's refusals are exact for in-order timestamps also under
 * contention: a log whose entries have all expired admits exactly `limit`
 * takes at one instant, however the takers interleave. (A taker that
 * judged the slot at a head it had read earlier, after others had already
 * filled that slot, refused while the log still had room: seen as 1999 of
 * 2000 admissions in test_ratelimit_stats under ASan.) */
enum { SX_LIMIT = 64, SX_THREADS = 4 };

typedef struct sx_ {
    lfp_slog g;
    pthread_barrier_t go;
    _Atomic unsigned admitted;
} sx_;

static void *sx_taker(void *arg)
{
    sx_ *x = arg;
    pthread_barrier_wait(&x->go);
    for (int i = 0; i < SX_LIMIT / SX_THREADS; i++)
        if (lfp_slog_take_at(&x->g, 1, 10 * SEC) == 0)
            atomic_fetch_add(&x->admitted, 1);
    return NULL;
}

static void slog_refusals_exact_under_contention(void **state)
{
    (void)state;
    for (int round = 0; round < 3000; round++) {
        sx_ x;
        assert_int_equal(lfp_slog_init(&x.g, SX_LIMIT, SEC), 0);
        for (int i = 0; i < SX_LIMIT; i++)
            assert_int_equal(lfp_slog_take_at(&x.g, 1, 0), 0);   /* full, expired by 1 s */
        atomic_init(&x.admitted, 0);
        assert_int_equal(pthread_barrier_init(&x.go, NULL, SX_THREADS), 0);
        pthread_t th[SX_THREADS];
        for (int i = 0; i < SX_THREADS; i++)
            assert_int_equal(pthread_create(&th[i], NULL, sx_taker, &x), 0);
        for (int i = 0; i < SX_THREADS; i++)
            assert_int_equal(pthread_join(th[i], NULL), 0);
        if (atomic_load(&x.admitted) != SX_LIMIT)
            print_error("round %d: %u of %d admitted\n", round, atomic_load(&x.admitted), SX_LIMIT);
        assert_int_equal(atomic_load(&x.admitted), SX_LIMIT);
        pthread_barrier_destroy(&x.go);
        lfp_slog_destroy(&x.g);
    }
}

/* Random reservations, takes and give-backs on a fake clock; every
 * admission (takes at their time, reservations not given back at their
 * ready time) checked against the spec over every pair. */
static void random_give_backs(bool locked, unsigned seed)
{
    enum { OPS = 1500, MAXP = 64 };
    const uint32_t burst = 1 + seed % 4;
    const int64_t t = 100 * MS;   /* 10/s */
    any_ a;
    assert_int_equal(a_init(&a, locked, 10, burst), 0);
    static int64_t adm[OPS * 4];
    size_t na = 0;
    rsv_ pend[MAXP];
    uint32_t pn[MAXP];
    size_t np = 0;
    int64_t now = 0;
    srand(seed);
    for (int i = 0; i < OPS; i++) {
        int r = rand() % 10;
        if (r < 3)
            now += (rand() % 4) * 25 * MS;
        uint32_t n = 1 + (uint32_t)rand() % burst;
        if (r < 5) {
            if (a_take(&a, n, now) == 0)
                for (uint32_t j = 0; j < n; j++)
                    adm[na++] = now;
        } else if (r < 8 && np < MAXP) {
            if (rand() % 2) {
                assert_int_equal(a_reserve(&a, n, now, &pend[np]), 0);
            } else if (a_take_ex(&a, n, now, &pend[np]) != 0) {
                continue;
            }
            pn[np++] = n;
        } else if (np > 0) {
            size_t k = (size_t)rand() % np;
            if (ready_of(&pend[k]) > now || rand() % 4 == 0) {   /* not acted yet */
                a_give_back(&a, &pend[k]);
                pend[k] = pend[np - 1];
                pn[k] = pn[np - 1];
                np--;
            }
        }
    }
    for (size_t k = 0; k < np; k++)
        for (uint32_t j = 0; j < pn[k]; j++)
            adm[na++] = ready_of(&pend[k]);
    char what[64];
    snprintf(what, sizeof what, "%s seed %u", locked ? "lfp_locked_bucket" : "lfp_bucket", seed);
    assert_spec(adm, na, t, burst, what);
    a_destroy(&a);
}

static void bucket_random_give_backs_within_spec(void **state)
{
    (void)state;
    for (unsigned seed = 1; seed <= 60; seed++) {
        random_give_backs(false, seed);
        random_give_backs(true, seed);
    }
}

/* ------------------------------------------------------------ 6: idle gaps */

#define DAY (86400 * SEC)
#define YEAR (365 * DAY)

/* Fill the limiter at t0 (stale counts at their limit), stay idle for
 * `gap`, then poll every W/4: an admission must come within two windows. */
static void check_idle_gap(bool sliding, uint32_t limit, int64_t w, int64_t t0, int64_t gap)
{
    lfp_fwindow f;
    lfp_swindow s;
    if (sliding)
        assert_int_equal(lfp_swindow_init(&s, limit, w), 0);
    else
        assert_int_equal(lfp_fwindow_init(&f, limit, w), 0);
    for (uint32_t i = 0; i < limit; i++)
        assert_int_equal(sliding ? lfp_swindow_take_at(&s, 1, t0) : lfp_fwindow_take_at(&f, 1, t0), 0);
    int64_t t1 = t0 + gap;
    for (int64_t t = t1; t <= t1 + 2 * w; t += w / 4 > 0 ? w / 4 : 1)
        if ((sliding ? lfp_swindow_take_at(&s, 1, t) : lfp_fwindow_take_at(&f, 1, t)) == 0)
            return;
    fail_msg("%s limit %u window %lld ns: after an idle gap of %lld ns (%.2f days) from t0 %lld "
             "nothing admitted within two windows", sliding ? "lfp_swindow" : "lfp_fwindow",
             limit, (long long)w, (long long)gap, (double)gap / (double)DAY, (long long)t0);
}

static void windows_admit_after_any_idle_gap(void **state)
{
    (void)state;
    const int64_t gaps[] = { SEC, 60 * SEC, 3600 * SEC, DAY, 40 * DAY, 50 * DAY, 100 * DAY,
                             150 * DAY, 194 * DAY, 200 * DAY, YEAR, 3 * YEAR, 10 * YEAR };
    const int64_t windows[] = { 1000, MS, 10 * MS, SEC, 60 * SEC };
    const int64_t t0s[] = { 0, 12345 * SEC + 678, -5 * YEAR, INT64_MIN / 2 };
    for (int sl = 0; sl < 2; sl++)
        for (size_t wi = 0; wi < sizeof windows / sizeof windows[0]; wi++)
            for (size_t ti = 0; ti < sizeof t0s / sizeof t0s[0]; ti++) {
                for (size_t g = 0; g < sizeof gaps / sizeof gaps[0]; g++)
                    if (gaps[g] >= windows[wi])
                        check_idle_gap(sl, 10, windows[wi], t0s[ti], gaps[g]);
                /* every gap near the old aliasing points: multiples of 2^32
                 * (fixed) and 2^24 (sliding) windows, minus a few windows
                 * up to a quarter period */
                int shift = sl ? 24 : 32;
                if (windows[wi] > (10 * YEAR) >> shift)
                    continue;                      /* first aliasing point past 10 years */
                int64_t per = windows[wi] << shift;
                for (int64_t m = 1; m * per <= 10 * YEAR; m = m < 4 ? m + 1 : m * 3)
                    for (int64_t back = 1; back <= (INT64_C(1) << (sl ? 22 : 30)); back *= 7)
                        check_idle_gap(sl, 10, windows[wi], t0s[ti], m * per - back * windows[wi]);
            }
    /* random gaps from 1 s to 10 years */
    srand(6);
    for (int i = 0; i < 4000; i++) {
        int64_t w = windows[rand() % 5];
        int64_t gap = SEC + (int64_t)((double)rand() / RAND_MAX * (double)(10 * YEAR));
        check_idle_gap(i % 2, 1 + (uint32_t)rand() % 100, w, (int64_t)rand() * MS, gap);
    }
}

/* ------------------------------------------------------------ 8: rolling sum at INT64_MIN */

/* sum_at covers the bucket holding `now` and the buckets - 1 before it that
 * exist: near INT64_MIN there are fewer, and none may be counted twice. */
static void rolling_sum_near_int64_min(void **state)
{
    (void)state;
    const int64_t widths[] = { 1, 3, 100, SEC, INT64_MAX / 2, INT64_MAX };
    for (size_t i = 0; i < sizeof widths / sizeof widths[0]; i++) {
        int64_t bw = widths[i];
        lfp_rolling r;
        assert_int_equal(lfp_rolling_init(&r, 5, bw), 0);
        assert_int_equal(lfp_rolling_add_at(&r, 7, INT64_MIN), 0);
        int64_t got = lfp_rolling_sum_at(&r, INT64_MIN);
        if (got != 7)
            fail_msg("bucket_ns %lld: sum_at(INT64_MIN) = %lld after adding 7 once", (long long)bw,
                     (long long)got);
        /* one bucket later both are in range, each once */
        int64_t k0 = lfp_rl_floor_div_(INT64_MIN, bw);
        if (k0 < lfp_rl_floor_div_(INT64_MAX, bw)) {
            int64_t next = (k0 + 1) * bw;   /* start of the next bucket (representable) */
            assert_int_equal(lfp_rolling_add_at(&r, 1, next), 0);
            assert_true(lfp_rolling_sum_at(&r, next) == 8);
            assert_true(lfp_rolling_sum_at(&r, INT64_MIN) == 7);
        }
        lfp_rolling_destroy(&r);
    }
}

/* ------------------------------------------------------------ 5: set_rate / set_burst */

static int a_set_rate(any_ *a, double r, int64_t now)
{
    return a->locked ? lfp_locked_bucket_set_rate_at(&a->l, r, now) : lfp_bucket_set_rate_at(&a->b, r, now);
}
static int a_set_burst(any_ *a, uint32_t n, int64_t now)
{
    return a->locked ? lfp_locked_bucket_set_burst_at(&a->l, n, now)
                     : lfp_bucket_set_burst_at(&a->b, n, now);
}
static double a_tokens(any_ *a, int64_t now)
{
    return a->locked ? lfp_locked_bucket_tokens_at(&a->l, now) : lfp_bucket_tokens_at(&a->b, now);
}

/* How many single tokens are admitted at `now` (consumes them). */
static unsigned drain(any_ *a, int64_t now)
{
    unsigned k = 0;
    while (k < 100000 && a_take(a, 1, now) == 0)
        k++;
    return k;
}

#define NEAR(x, y) (fabs((x) - (y)) < 1e-6)

/* The ideal (Go's SetLimitAt / SetBurstAt): a change keeps the token count
 * at that instant (debt included), capped by the new burst. */
static void bucket_set_keeps_tokens(void **state)
{
    (void)state;
    for (int k = 0; k < 2; k++) {
        const char *name = k ? "lfp_locked_bucket" : "lfp_bucket";
        any_ a;
        /* raising the burst of an empty bucket mints nothing */
        assert_int_equal(a_init(&a, k, 1, 10), 0);
        assert_int_equal(drain(&a, 0), 10);
        assert_int_equal(a_set_burst(&a, 20, 0), 0);
        if (!NEAR(a_tokens(&a, 0), 0))
            fail_msg("%s: empty, burst 10 -> 20: %f tokens", name, a_tokens(&a, 0));
        assert_int_equal(drain(&a, 0), 0);
        assert_true(NEAR(a_tokens(&a, 5 * SEC), 5));     /* refills at the rate */
        a_destroy(&a);
        /* lowering the burst caps the tokens; raising it again mints nothing */
        assert_int_equal(a_init(&a, k, 1, 10), 0);
        assert_int_equal(a_take(&a, 4, 0), 0);           /* 6 left */
        assert_int_equal(a_set_burst(&a, 3, 0), 0);
        assert_true(NEAR(a_tokens(&a, 0), 3));
        assert_int_equal(a_set_burst(&a, 10, 0), 0);
        if (!NEAR(a_tokens(&a, 0), 3))
            fail_msg("%s: 3 tokens, burst 3 -> 10: %f tokens", name, a_tokens(&a, 0));
        assert_int_equal(drain(&a, 0), 3);
        a_destroy(&a);
        /* debt is kept in tokens: the time to repay it rescales */
        assert_int_equal(a_init(&a, k, 1, 1), 0);
        rsv_ r;
        for (int i = 0; i < 5; i++)
            assert_int_equal(a_reserve(&a, 1, 0, &r), 0);   /* tokens 1 - 5 = -4 */
        assert_true(NEAR(a_tokens(&a, 0), -4));
        assert_int_equal(a_set_rate(&a, 2, 0), 0);
        if (!NEAR(a_tokens(&a, 0), -4))
            fail_msg("%s: debt -4 at 1/s -> 2/s: %f tokens", name, a_tokens(&a, 0));
        assert_int_equal(a_take(&a, 1, 2500 * MS - 1), EAGAIN);
        assert_int_equal(a_take(&a, 1, 2500 * MS), 0);
        assert_int_equal(a_take(&a, 1, 2500 * MS), EAGAIN);
        a_destroy(&a);
        /* slowing down keeps the tokens accrued so far (no mint) */
        assert_int_equal(a_init(&a, k, 1, 5), 0);
        assert_int_equal(drain(&a, 0), 5);
        assert_true(NEAR(a_tokens(&a, 2 * SEC), 2));
        assert_int_equal(a_set_rate(&a, 0.001, 2 * SEC), 0);
        if (!NEAR(a_tokens(&a, 2 * SEC), 2))
            fail_msg("%s: 2 tokens at 1/s -> 0.001/s: %f tokens", name, a_tokens(&a, 2 * SEC));
        assert_int_equal(drain(&a, 2 * SEC), 2);
        /* speeding up keeps them too, then refills at the new rate */
        assert_int_equal(a_set_rate(&a, 1000, 3 * SEC), 0);
        assert_true(a_tokens(&a, 3 * SEC) < 0.01);
        assert_int_equal(drain(&a, 3 * SEC), 0);
        assert_int_equal(drain(&a, 3 * SEC + 5 * MS), 5);
        a_destroy(&a);
    }
}

/* Random changes: at the instant of a change, the admissions afterwards
 * never exceed the tokens held before (measured on a copy of the bucket)
 * nor the new burst. */
static void bucket_set_never_mints_random(void **state)
{
    (void)state;
    srand(5);
    const double rates[] = { 0.5, 1, 3, 10, 1000, 7e8 };
    for (int run = 0; run < 3000; run++) {
        lfp_bucket b;
        assert_int_equal(lfp_bucket_init(&b, rates[rand() % 6], 1 + (uint32_t)rand() % 20), 0);
        int64_t now = 0;
        for (int step = 0; step < 20; step++) {
            now += (rand() % 5) * 100 * MS;
            int64_t ready;
            if (rand() % 3 == 0)
                lfp_bucket_reserve_at(&b, 1, now, &ready);
            else
                lfp_bucket_take_at(&b, 1 + (uint32_t)rand() % lfp_bucket_burst(&b), now);
            lfp_bucket copy;
            memcpy(&copy, &b, sizeof copy);   /* single-threaded: a plain snapshot */
            any_ ca = { .locked = false };
            ca.b = copy;
            unsigned before = drain(&ca, now);
            int rc;
            uint32_t nb = lfp_bucket_burst(&b);
            if (rand() % 2) {
                nb = 1 + (uint32_t)rand() % 20;
                rc = lfp_bucket_set_burst_at(&b, nb, now);
            } else {
                rc = lfp_bucket_set_rate_at(&b, rates[rand() % 6], now);
            }
            assert_int_equal(rc, 0);
            memcpy(&copy, &b, sizeof copy);
            ca.b = copy;
            unsigned after = drain(&ca, now);
            if (after > before || after > nb)
                fail_msg("run %d step %d: %u admitted after a change, %u before (burst %u)", run,
                         step, after, before, nb);
        }
    }
}

/* ------------------------------------------------------------ concurrent give-backs */

/* Threads take, reserve and give back on one bucket under a shared fake
 * clock that moves only while no operation is in flight (a rwlock, as in
 * stress_ratelimit), so operations linearize in timestamp order; every
 * admission is checked against the spec afterwards. Under TSan this also
 * checks the memory orders (a set_burst_at thread changes the burst and
 * back, which must not mint either: checked only for the run without it). */
enum { CT_THREADS = 3, CT_OPS = 1500 };
static lfp_bucket ct_bucket;
static pthread_rwlock_t ct_lock = PTHREAD_RWLOCK_INITIALIZER;
static _Atomic int64_t ct_clock;
static _Atomic int ct_done;
static bool ct_change;
typedef struct ct_log {
    int64_t adm[CT_OPS * 2];
    size_t n;
    unsigned seed;
} ct_log;
static ct_log ct_logs[CT_THREADS];

static void *ct_worker(void *arg)
{
    ct_log *lg = arg;
    lfp_bucket_reservation pend[8];
    size_t np = 0;
    for (int i = 0; i < CT_OPS; i++) {
        int r = rand_r(&lg->seed) % 10;
        pthread_rwlock_rdlock(&ct_lock);
        int64_t now = atomic_load(&ct_clock);
        if (r < 4) {
            if (lfp_bucket_take_at(&ct_bucket, 1, now) == 0)
                lg->adm[lg->n++] = now;
        } else if (r < 7 && np < 8) {
            if (lfp_bucket_reserve_ex_at(&ct_bucket, 1, now, &pend[np]) == 0)
                np++;
        } else if (np > 0) {
            size_t k = (size_t)rand_r(&lg->seed) % np;
            if (pend[k].ready > now) {
                lfp_bucket_give_back(&ct_bucket, &pend[k]);
                pend[k] = pend[--np];
            }
        }
        pthread_rwlock_unlock(&ct_lock);
    }
    for (size_t k = 0; k < np; k++)
        lg->adm[lg->n++] = pend[k].ready;
    return NULL;
}

static void *ct_ticker(void *arg)
{
    unsigned seed = 77;
    (void)arg;
    while (!atomic_load(&ct_done)) {
        pthread_rwlock_wrlock(&ct_lock);
        atomic_fetch_add(&ct_clock, (rand_r(&seed) % 3) * 50 * MS);
        pthread_rwlock_unlock(&ct_lock);
        if (ct_change) {
            /* outside the lock: races the takes (memory orders under TSan) */
            int64_t now = atomic_load(&ct_clock);
            lfp_bucket_set_burst_at(&ct_bucket, 1 + (uint32_t)rand_r(&seed) % 3, now);
            lfp_bucket_set_rate_at(&ct_bucket, rand_r(&seed) % 2 ? 10 : 20, now);
        }
        sched_yield();
    }
    return NULL;
}

static void concurrent_run(bool change)
{
    assert_int_equal(lfp_bucket_init(&ct_bucket, 10, 3), 0);
    atomic_store(&ct_clock, 0);
    atomic_store(&ct_done, 0);
    ct_change = change;
    pthread_t th[CT_THREADS], tk;
    for (int i = 0; i < CT_THREADS; i++) {
        ct_logs[i].n = 0;
        ct_logs[i].seed = 1234u + (unsigned)i;
        assert_int_equal(pthread_create(&th[i], NULL, ct_worker, &ct_logs[i]), 0);
    }
    assert_int_equal(pthread_create(&tk, NULL, ct_ticker, NULL), 0);
    for (int i = 0; i < CT_THREADS; i++)
        pthread_join(th[i], NULL);
    atomic_store(&ct_done, 1);
    pthread_join(tk, NULL);
    if (change)
        return;   /* the bound mixes parameters then; this run is for TSan */
    static int64_t all[CT_THREADS * CT_OPS * 2];
    size_t n = 0;
    for (int i = 0; i < CT_THREADS; i++)
        for (size_t j = 0; j < ct_logs[i].n; j++)
            all[n++] = ct_logs[i].adm[j];
    assert_spec(all, n, 100 * MS, 3, "concurrent lfp_bucket");
}

static void bucket_concurrent_give_backs_within_spec(void **state)
{
    (void)state;
    concurrent_run(false);
    concurrent_run(true);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(bucket_saturation_never_unbounded),
        cmocka_unit_test(bucket_never_faster_than_requested),
        cmocka_unit_test(bucket_give_back_not_newest),
        cmocka_unit_test(bucket_undo_after_rebase),
        cmocka_unit_test(limit_all_undo_exact),
        cmocka_unit_test(limit_all_refusal_leaves_log_untouched),
        cmocka_unit_test(slog_refusals_exact_under_contention),
        cmocka_unit_test(bucket_random_give_backs_within_spec),
        cmocka_unit_test(windows_admit_after_any_idle_gap),
        cmocka_unit_test(rolling_sum_near_int64_min),
        cmocka_unit_test(bucket_set_keeps_tokens),
        cmocka_unit_test(bucket_set_never_mints_random),
        cmocka_unit_test(bucket_concurrent_give_backs_within_spec),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
