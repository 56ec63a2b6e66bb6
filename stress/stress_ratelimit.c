/* SPDX-License-Identifier: BSD-2-Clause */
/* Stress: many threads on one limiter of each kind and one shared fake clock.
 *
 * Phase "ordered": the clock only moves while no take is in flight (takers
 * hold a shared rwlock around "read clock, take"; a thread advancing the
 * clock holds it exclusively). Takes still race with each other on every
 * limiter's word, and they linearize in timestamp order, so every documented
 * bound is checked offline on the admitted timestamps:
 *   lfp_slog     no interval (t - W, t] holds more than limit
 *   lfp_fwindow  no aligned window holds more than limit (<= 2x sliding)
 *   lfp_swindow  count * W <= limit * W + prev * e  (header's bound)
 *   lfp_bucket   admissions up to t <= burst + (t - t0) / T
 *   lfp_limit_all  all of the above for each of its limiters (never over)
 * Phase "free": the clock moves at any time (stragglers with old
 * timestamps). The bounds that hold for any arrival order are checked: the
 * sliding log's exactness, and the bucket's total <= burst + span / T.
 * Phase "plain": lfp_bucket_take on the real clock, each thread switching
 * between two shared buckets; each bucket's admissions must stay within
 * burst + (end - start) / T over the phase.
 */
#include <pthread.h>
#include <stdlib.h>

#include "harness.h"
#include "lfpat.h"

#define W 10000            /* window, fake ns */
#define LIMIT 8
#define T 1000             /* bucket interval, fake ns */
#define BURST 8
#define CAP (1 << 16)      /* admissions recorded per thread and kind */

enum { K_BUCKET, K_FWINDOW, K_SWINDOW, K_SLOG, K_ALL, KINDS };

static lfp_bucket bucket, all_bucket;
static lfp_fwindow fwindow, all_fwindow;
static lfp_swindow swindow;
static lfp_slog slog, all_slog;
static lfp_limiter all[3];

static _Atomic int64_t fake_clock;
static pthread_rwlock_t clock_lock;
static bool ordered;

typedef struct log {
    int64_t *t;
    size_t count;
} log_t;

typedef struct worker_logs {
    log_t k[KINDS];
} worker_logs;

static worker_logs *logs;

static int take(int kind, uint32_t n, int64_t now)
{
    switch (kind) {
    case K_BUCKET:  return lfp_bucket_take_at(&bucket, n, now);
    case K_FWINDOW: return lfp_fwindow_take_at(&fwindow, n, now);
    case K_SWINDOW: return lfp_swindow_take_at(&swindow, n, now);
    case K_SLOG:    return lfp_slog_take_at(&slog, n, now);
    default:        return lfp_limit_all_at(all, 3, n, now);
    }
}

static void record(log_t *l, int64_t now, uint32_t n)
{
    for (uint32_t i = 0; i < n && l->count < CAP; i++)
        l->t[l->count++] = now;
}

static void advance(lfps_thread *t)
{
    int64_t d = (int64_t)lfps_below(&t->rng, 3 * T);
    if (ordered)
        pthread_rwlock_wrlock(&clock_lock);
    /* relaxed: the fake clock's value is all that matters; in the ordered
     * phase the rwlock orders it with the takes. */
    atomic_fetch_add_explicit(&fake_clock, d, memory_order_relaxed);
    if (ordered)
        pthread_rwlock_unlock(&clock_lock);
}

static void worker(lfps_thread *t)
{
    worker_logs *wl = &logs[t->id];
    for (uint64_t i = 0; lfps_go(t, i, 2000000); i++) {
        if (lfps_below(&t->rng, 16) == 0) {
            advance(t);
            continue;
        }
        int kind = (int)lfps_below(&t->rng, KINDS);
        uint32_t n = 1 + (uint32_t)lfps_below(&t->rng, 2);
        if (ordered)
            pthread_rwlock_rdlock(&clock_lock);
        /* relaxed: see advance(). */
        int64_t now = atomic_load_explicit(&fake_clock, memory_order_relaxed);
        lfps_delay(&t->rng);
        int rc = take(kind, n, now);
        if (ordered)
            pthread_rwlock_unlock(&clock_lock);
        LFPS_CHECK(rc == 0 || rc == EAGAIN, "take rc %d", rc);
        if (rc == 0)
            record(&wl->k[kind], now, n);
        lfps_ops(1);
    }
}

/* Phase "plain": two shared buckets on the real clock. */
#define PLAIN_T 1000       /* ns per token */
#define PLAIN_BURST 4
static lfp_bucket plain[2];
static _Atomic uint64_t plain_admitted[2];

static void plain_worker(lfps_thread *t)
{
    uint64_t admitted[2] = { 0, 0 };
    for (uint64_t i = 0; lfps_go(t, i, 2000000); i++) {
        int k = (int)lfps_below(&t->rng, 2);
        uint32_t n = 1 + (uint32_t)lfps_below(&t->rng, 2);
        lfps_delay(&t->rng);
        int rc = lfp_bucket_take(&plain[k], n);
        LFPS_CHECK(rc == 0 || rc == EAGAIN, "plain take rc %d", rc);
        if (rc == 0)
            admitted[k] += n;
        lfps_ops(1);
    }
    for (int k = 0; k < 2; k++)
        atomic_fetch_add(&plain_admitted[k], admitted[k]);
}

static void plain_phase(int nthreads)
{
    for (int k = 0; k < 2; k++) {
        lfp_bucket_init(&plain[k], 1e9 / PLAIN_T, PLAIN_BURST);
        atomic_store(&plain_admitted[k], 0);
    }
    int64_t start = lfp_now();
    lfps_run(nthreads, plain_worker, NULL);
    int64_t span = lfp_now() - start;
    for (int k = 0; k < 2; k++) {
        uint64_t a = atomic_load(&plain_admitted[k]);
        LFPS_CHECK(a <= (uint64_t)(PLAIN_BURST + span / PLAIN_T),
                   "plain bucket %d: %llu admitted in %lld ns", k, (unsigned long long)a,
                   (long long)span);
    }
}

static int cmp64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* All threads' admissions of one kind, sorted. */
static int64_t *merge(int kind, int nthreads, size_t *count)
{
    size_t c = 0;
    for (int i = 0; i < nthreads; i++)
        c += logs[i].k[kind].count;
    int64_t *all_t = malloc((c + 1) * sizeof *all_t);
    c = 0;
    for (int i = 0; i < nthreads; i++)
        for (size_t j = 0; j < logs[i].k[kind].count; j++)
            all_t[c++] = logs[i].k[kind].t[j];
    qsort(all_t, c, sizeof *all_t, cmp64);
    *count = c;
    return all_t;
}

/* Max admissions in any interval (t - W, t]: a two-pointer sweep. */
static size_t max_in_window(const int64_t *a, size_t c)
{
    size_t best = 0;
    for (size_t lo = 0, hi = 0; hi < c; hi++) {
        while (a[lo] <= a[hi] - W)
            lo++;
        if (hi + 1 == c || a[hi + 1] != a[hi])
            best = hi - lo + 1 > best ? hi - lo + 1 : best;
    }
    return best;
}

static void check_slog(const char *what, const int64_t *a, size_t c)
{
    size_t m = max_in_window(a, c);
    LFPS_CHECK(m <= LIMIT, "%s: %zu admissions in one window, limit %d", what, m, LIMIT);
}

static void check_bucket(const char *what, const int64_t *a, size_t c)
{
    if (c == 0)
        return;
    if (ordered) {
        for (size_t i = 0; i < c; i++)
            LFPS_CHECK((int64_t)(i + 1) <= BURST + (a[i] - a[0]) / T,
                       "%s: %zu admitted by %lld", what, i + 1, (long long)(a[i] - a[0]));
    } else {
        LFPS_CHECK((int64_t)c <= BURST + (a[c - 1] - a[0]) / T,
                   "%s: %zu admitted over %lld", what, c, (long long)(a[c - 1] - a[0]));
    }
}

static void check_fwindow(const char *what, const int64_t *a, size_t c)
{
    for (size_t i = 0, j; i < c; i = j) {
        for (j = i; j < c && a[j] / W == a[i] / W; j++)
            ;
        LFPS_CHECK(j - i <= LIMIT, "%s: %zu in aligned window %lld", what, j - i,
                   (long long)(a[i] / W));
    }
    LFPS_CHECK(max_in_window(a, c) <= 2 * LIMIT, "%s: above 2x", what);
}

static void check_swindow(const int64_t *a, size_t c)
{
    for (size_t hi = 0, lo = 0, ps = 0, pe = 0; hi < c; hi++) {
        int64_t k = a[hi] / W, e = a[hi] % W;
        while (a[lo] <= a[hi] - W)
            lo++;
        while (ps < c && a[ps] / W < k - 1)   /* [ps, pe): window k - 1 */
            ps++;
        if (pe < ps)
            pe = ps;
        while (pe < c && a[pe] / W == k - 1)
            pe++;
        uint64_t prev = pe - ps;
        size_t cnt = hi - lo + 1;
        while (hi + 1 < c && a[hi + 1] == a[hi])   /* count ties at a[hi] */
            cnt++, hi++;
        LFPS_CHECK((uint64_t)cnt * W <= (uint64_t)LIMIT * W + prev * (uint64_t)e,
                   "swindow: %zu in window ending %lld (prev %llu)", cnt, (long long)a[hi],
                   (unsigned long long)prev);
    }
}

static void check(int nthreads)
{
    size_t c;
    int64_t *a = merge(K_SLOG, nthreads, &c);
    check_slog("slog", a, c);
    free(a);
    a = merge(K_BUCKET, nthreads, &c);
    check_bucket("bucket", a, c);
    free(a);
    a = merge(K_ALL, nthreads, &c);
    check_slog("limit_all slog", a, c);
    check_bucket("limit_all bucket", a, c);
    if (ordered)
        check_fwindow("limit_all fwindow", a, c);
    free(a);
    if (ordered) {
        a = merge(K_FWINDOW, nthreads, &c);
        check_fwindow("fwindow", a, c);
        free(a);
        a = merge(K_SWINDOW, nthreads, &c);
        check_swindow(a, c);
        free(a);
    }
}

static void setup(void)
{
    lfp_bucket_init(&bucket, 1e9 / T, BURST);
    lfp_bucket_init(&all_bucket, 1e9 / T, BURST);
    lfp_fwindow_init(&fwindow, LIMIT, W);
    lfp_fwindow_init(&all_fwindow, LIMIT, W);
    lfp_swindow_init(&swindow, LIMIT, W);
    lfp_slog_init(&slog, LIMIT, W);
    lfp_slog_init(&all_slog, LIMIT, W);
    all[0] = (lfp_limiter){ LFP_LIMITER_BUCKET, &all_bucket };
    all[1] = (lfp_limiter){ LFP_LIMITER_FWINDOW, &all_fwindow };
    all[2] = (lfp_limiter){ LFP_LIMITER_SLOG, &all_slog };
    atomic_store(&fake_clock, 0);
}

static void phase(bool is_ordered, int nthreads)
{
    ordered = is_ordered;
    setup();
    for (int i = 0; i < nthreads; i++)
        for (int k = 0; k < KINDS; k++)
            logs[i].k[k].count = 0;
    lfps_run(nthreads, worker, NULL);
    check(nthreads);
    lfp_slog_destroy(&slog);
    lfp_slog_destroy(&all_slog);
}

int main(void)
{
    lfps_init("stress_ratelimit");
    int nthreads = lfps_threads(6);   /* oversubscribed on 2 cores */
    pthread_rwlockattr_t attr;
    pthread_rwlockattr_init(&attr);
    /* writer-preferring: the clock advances even under a stream of readers */
    pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    pthread_rwlock_init(&clock_lock, &attr);
    logs = calloc((size_t)nthreads, sizeof *logs);
    for (int i = 0; i < nthreads; i++)
        for (int k = 0; k < KINDS; k++)
            logs[i].k[k].t = malloc(CAP * sizeof(int64_t));
    phase(true, nthreads);
    phase(false, nthreads);
    plain_phase(nthreads);
    for (int i = 0; i < nthreads; i++)
        for (int k = 0; k < KINDS; k++)
            free(logs[i].k[k].t);
    free(logs);
    pthread_rwlock_destroy(&clock_lock);
    pthread_rwlockattr_destroy(&attr);
    return lfps_finish();
}
