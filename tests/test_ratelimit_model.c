/* SPDX-License-Identifier: BSD-2-Clause */
/* Ideal-model oracle for the rate limiters (issue 15): simple sequential
 * models of exact GCRA, the fixed window, the sliding-window estimate and
 * the sliding log, in 128-bit integers and written from the specification
 * (not from the lock-free code, not the mutex twin). Fake-clock
 * differential runs mix takes, reservations, give-backs in any order,
 * cancelled waits (a reservation given back), set_rate / set_burst,
 * unlimited rates and lfp_limit_all; and every interval of each run's
 * admission log is checked against the spec bound:
 *   bucket  no interval of length L holds more than burst + L / T
 *   fwindow no window [kW, (k+1)W) holds more than limit
 *   slog    no interval of length W holds more than limit
 * Idle gaps from nanoseconds to years, both ends of the int64 time line,
 * intervals at both ends of the accepted range. Concurrent runs share one
 * fake clock; a real-clock run uses lfp_now(). */
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

__extension__ typedef __int128 i128;

#define SEC INT64_C(1000000000)
#define YEAR (INT64_C(31557600) * SEC)

static _Thread_local uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint64_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

/* A time step: mostly short, sometimes seconds, days or years. */
static int64_t gap(int64_t t)
{
    switch (next() % 16) {
    case 0:  return (int64_t)(next() % (uint64_t)(3600 * SEC));
    case 1:  return (int64_t)(next() % (uint64_t)(3 * YEAR));
    case 2:  return 0;
    default: return (int64_t)(next() % (t > INT64_MAX / 8 ? (uint64_t)INT64_MAX : (uint64_t)(4 * t + 1)));
    }
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* ------------------------------------------------------------ spec checks (every interval) */

/* GCRA: for every i < j of the sorted log, (j - i + 1 - burst) * T <= a[j] -
 * a[i], i.e. (j + 1 - burst) * T - a[j] + max over i <= j of (a[i] - i * T)
 * <= 0 (pairs with j - i + 1 <= burst hold trivially): every interval, O(n). */
static void check_gcra_spec(int64_t *a, size_t n, int64_t t, uint32_t burst)
{
    qsort(a, n, sizeof *a, cmp_i64);
    i128 best = 0;
    size_t arg = 0;
    for (size_t j = 0; j < n; j++) {
        i128 v = (i128)a[j] - (i128)j * t;
        if (j == 0 || v > best)
            best = v, arg = j;
        if (((i128)j + 1 - burst) * t - a[j] + best > 0) {
            print_error("gcra: %zu admissions in [%lld, %lld], bound burst %u T %lld\n",
                        j - arg + 1, (long long)a[arg], (long long)a[j], burst, (long long)t);
            fail();
        }
    }
}

/* Sliding log: no interval (t - W, t] holds more than limit. */
static void check_window_spec(int64_t *a, size_t n, int64_t w, uint32_t limit)
{
    qsort(a, n, sizeof *a, cmp_i64);
    size_t i = 0;
    for (size_t j = 0; j < n; j++) {
        while ((i128)a[j] - a[i] >= w)
            i++;
        if (j - i + 1 > limit) {
            print_error("log: %zu admissions within %lld ns of %lld, limit %u\n", j - i + 1,
                        (long long)w, (long long)a[j], limit);
            fail();
        }
    }
}

/* ------------------------------------------------------------ GCRA model */

typedef struct gmodel {
    i128 tat;        /* theoretical arrival time; INT64_MIN: full */
    i128 t;          /* ns per token; 0: unlimited */
    i128 burst;
    unsigned gen;
} gmodel;

typedef struct grec {
    i128 start, end;
    unsigned gen;
    bool live;
} grec;

/* Admit n at now iff the debt after it fits the burst: max(tat, now) + nT -
 * now <= burst * T, and the new TAT stays below INT64_MAX. Reservations
 * (latest = +inf) are admitted whenever the TAT stays on the time line. */
static int g_take(gmodel *m, uint32_t n, int64_t now, bool reserve, grec *r, int64_t *ready)
{
    if (n == 0)
        return EINVAL;
    if (m->t == 0) {
        *r = (grec){ 0, 0, m->gen, false };
        *ready = now;
        return 0;
    }
    if (n > m->burst)
        return EINVAL;
    i128 base = m->tat > now ? m->tat : now, end = base + n * m->t;
    if (end >= INT64_MAX)
        return EAGAIN;
    i128 rd = end - m->burst * m->t;
    if (rd > now && !reserve)
        return EAGAIN;
    *ready = rd > now ? (int64_t)rd : now;
    *r = (grec){ base, end, m->gen, true };
    m->tat = end;
    return 0;
}

/* Restore only the newest consumption, made under the same parameters. */
static int g_give_back(gmodel *m, grec *r)
{
    bool live = r->live;
    r->live = false;
    if (!live)
        return m->t == 0 || r->end == r->start ? 0 : EAGAIN;
    if (m->tat != r->end || m->gen != r->gen)
        return EAGAIN;
    m->tat = r->start;
    return 0;
}

/* Keep the tokens at `now`: tokens' = min(tokens, burst'); debt rescaled
 * to the new T, rounded up; from or to unlimited: full. */
static void g_change(gmodel *m, i128 nt, i128 nb, int64_t now)
{
    if (now == INT64_MAX)
        now = INT64_MAX - 1;         /* TAT stays below INT64_MAX */
    i128 d = m->tat > now ? m->tat - now : 0;
    if (m->t == 0 || nt == 0) {
        m->tat = now;
    } else {
        i128 x = d + (nb - m->burst) * m->t;
        i128 nd = x <= 0 ? 0 : (x * nt + m->t - 1) / m->t;
        m->tat = now + nd >= INT64_MAX - 1 ? INT64_MAX - 1 : now + nd;
    }
    m->t = nt;
    m->burst = nb;
    m->gen++;
}

/* Intervals whose rate 1e9 / T is an exact double, for set_rate. */
static const int64_t exact_t[] = { 1, 2, 4, 5, 8, 10, 16, 20, 25, 100, 1000, 4096, 1000000, SEC };

#define NREC 64
#define NLOG 2000

/* One differential run: the bucket and the model see the same calls and
 * must answer the same; with fixed parameters the admission log (each
 * token at its ready time, minus given back) is checked on every interval. */
static void gcra_run(int64_t t0, int64_t start, uint32_t burst, bool change, int steps)
{
    lfp_bucket b;
    assert_int_equal(lfp_bucket_init_every(&b, t0, burst), 0);
    gmodel m = { INT64_MIN, t0, burst, 0 };
    lfp_bucket_reservation rs[NREC];
    grec mr[NREC];
    int64_t when[NREC];
    bool held[NREC] = { false };
    uint32_t hn[NREC];
    static int64_t log[NLOG];
    size_t nlog = 0;
    int64_t now = start;
    for (int s = 0; s < steps; s++) {
        int64_t step = gap(m.t ? (int64_t)m.t : 10);
        now = lfp_time_add(now, step);
        unsigned op = next() % 10, k = next() % NREC;
        uint32_t n = 1 + next() % (uint32_t)(burst + 1);
        if (op < 4) {
            grec r;
            int64_t ready;
            int want = g_take(&m, n, now, false, &r, &ready);
            assert_int_equal(lfp_bucket_take_at(&b, n, now), want);
            if (want == 0 && m.t)
                for (uint32_t i = 0; i < n && nlog < NLOG; i++)
                    log[nlog++] = now;
        } else if (op < 7 && !held[k]) {
            int64_t ready;
            int want = g_take(&m, n, now, op == 6, &mr[k], &ready);
            int got = op == 6 ? lfp_bucket_reserve_ex_at(&b, n, now, &rs[k])
                              : lfp_bucket_take_ex_at(&b, n, now, &rs[k]);
            assert_int_equal(got, want);
            if (got == 0) {
                assert_int_equal(rs[k].ready, ready);
                held[k] = true;
                when[k] = ready;
                hn[k] = n;
            }
        } else if (op < 9 && held[k]) {
            /* a cancelled wait, or a give-back in any order */
            assert_int_equal(lfp_bucket_give_back(&b, &rs[k]), g_give_back(&m, &mr[k]));
            held[k] = false;
        } else if (op == 9 && held[k]) {
            /* the holder acts: its tokens count at the ready time */
            for (uint32_t i = 0; i < hn[k] && mr[k].live && nlog < NLOG; i++)
                log[nlog++] = when[k];
            held[k] = false;
        } else if (change && op == 9) {
            if (next() % 2) {
                int64_t nt = next() % 8 == 0 ? 0 : exact_t[next() % (sizeof exact_t / sizeof exact_t[0])];
                double rate = nt ? 1e9 / (double)nt : LFP_RATE_INF;
                int want = nt == 0 || (i128)nt * m.burst <= LFP_BUCKET_MAX_SPAN ? 0 : EINVAL;
                assert_int_equal(lfp_bucket_set_rate_at(&b, rate, now), want);
                if (want == 0)
                    g_change(&m, nt, m.burst, now);
            } else {
                uint32_t nb = (uint32_t)(next() % 9);
                int want = m.t == 0 || m.t * nb <= LFP_BUCKET_MAX_SPAN ? 0 : EINVAL;
                assert_int_equal(lfp_bucket_set_burst_at(&b, nb, now), want);
                if (want == 0)
                    g_change(&m, m.t, nb, now);
            }
        }
        /* the exact whole token count agrees at every step */
        struct lfp_rl_result res;
        assert_int_equal(lfp_bucket_take_result_at(&b, 0, now, &res), 0);
        i128 d = m.tat > now ? m.tat - now : 0, full = m.burst * m.t;
        int64_t rem = m.t == 0 ? INT64_MAX : d >= full ? 0 : (int64_t)((full - d) / m.t);
        assert_int_equal(res.remaining, rem);
    }
    if (!change) {
        for (unsigned k = 0; k < NREC; k++)   /* every live reservation acts */
            if (held[k] && mr[k].live)
                for (uint32_t i = 0; i < hn[k] && nlog < NLOG; i++)
                    log[nlog++] = when[k];
        check_gcra_spec(log, nlog, t0, burst);
    }
}

static void gcra_model_differential(void **state)
{
    (void)state;
    for (int run = 0; run < 300; run++) {
        int64_t t = exact_t[next() % (sizeof exact_t / sizeof exact_t[0])];
        uint32_t burst = 1 + (uint32_t)(next() % 8);
        int64_t start = (int64_t)next();
        gcra_run(t, start, burst, false, 400);
        gcra_run(t, start, burst, true, 400);
    }
}

/* The int64 edges and both ends of the accepted interval range. */
static void gcra_model_edges(void **state)
{
    (void)state;
    for (int run = 0; run < 60; run++) {
        uint32_t burst = 1 + (uint32_t)(next() % 4);
        gcra_run(1, INT64_MIN, burst, false, 300);
        gcra_run(1, INT64_MAX - 2000, burst, false, 300);
        gcra_run(LFP_BUCKET_MAX_SPAN / burst, INT64_MIN, burst, false, 50);
        gcra_run(LFP_BUCKET_MAX_SPAN / burst, -LFP_BUCKET_MAX_SPAN, burst, false, 50);
        gcra_run(SEC, INT64_MAX - 10 * SEC, burst, true, 100);
    }
}

/* ------------------------------------------------------------ fixed window model */

static void fwindow_model_differential(void **state)
{
    (void)state;
    for (int run = 0; run < 400; run++) {
        uint32_t limit = 1 + (uint32_t)(next() % 8);
        int64_t w = 1 + (int64_t)(next() % (next() % 2 ? 100 : (uint64_t)SEC));
        w += 2 * (limit + 1);            /* exact window ids (see lfp_fwindow) */
        lfp_fwindow f;
        assert_int_equal(lfp_fwindow_init(&f, limit, w), 0);
        i128 k = 0;                      /* stored window */
        uint32_t count = 0;
        bool empty = true;
        int64_t now = next() % 3 == 0 ? INT64_MIN + (int64_t)(next() % 1000) : (int64_t)next();
        for (int s = 0; s < 500; s++) {
            int64_t step = gap(w);
            if (next() % 8 == 0)
                step = -(int64_t)(next() % (uint64_t)(4 * w));   /* time going back */
            now = lfp_time_add(now, step);
            uint32_t n = 1 + (uint32_t)(next() % limit);
            i128 kn = lfp_rl_floor_div_(now, w);
            if (empty || kn > k) {       /* a later window starts afresh */
                k = kn;
                count = 0;
            }                            /* an older `now` is charged to the stored window */
            int want = count + n <= limit ? 0 : EAGAIN;
            assert_int_equal(lfp_fwindow_take_at(&f, n, now), want);
            if (want == 0) {
                count += n;
                empty = false;
            }
            assert_true(count <= limit);  /* the spec, per window */
        }
    }
}

/* ------------------------------------------------------------ sliding window estimate model */

static void swindow_model_differential(void **state)
{
    (void)state;
    for (int run = 0; run < 400; run++) {
        uint32_t limit = 1 + (uint32_t)(next() % 8);
        int64_t w = 1 + (int64_t)(next() % (next() % 2 ? 100 : (uint64_t)SEC));
        w += 256;                        /* exact window ids: W >= 2^(2c) (see lfp_swindow) */
        lfp_swindow sw;
        assert_int_equal(lfp_swindow_init(&sw, limit, w), 0);
        i128 k = 0;
        i128 prev = 0, cur = 0;
        bool empty = true;
        int64_t now = (int64_t)next();
        for (int s = 0; s < 500; s++) {
            int64_t step = gap(w);
            if (next() % 8 == 0)
                step = -(int64_t)(next() % (uint64_t)(3 * w));
            now = lfp_time_add(now, step);
            uint32_t n = 1 + (uint32_t)(next() % limit);
            /* the state as seen at now; stored only by an admission (a
             * refusal writes nothing) */
            i128 kn = lfp_rl_floor_div_(now, w), e = (i128)now - kn * w, k2 = k, p2 = prev, c2 = cur;
            if (empty || kn > k) {
                p2 = !empty && kn == k + 1 ? cur : 0;
                c2 = 0;
                k2 = kn;
            } else if (kn < k) {
                e = 0;                   /* charged to the stored window, full weight of prev */
            }
            /* est + n <= limit, exactly: prev (W - e) / W + cur + n <= limit */
            int want = p2 * (w - e) + (c2 + n) * w <= (i128)limit * w ? 0 : EAGAIN;
            assert_int_equal(lfp_swindow_take_at(&sw, n, now), want);
            if (want == 0) {
                k = k2;
                prev = p2;
                cur = c2 + n;
                empty = false;
            }
        }
    }
}

/* ------------------------------------------------------------ sliding log model */

/* The log admits n at `now` iff the n oldest of the last `limit`
 * admissions are at or before now - W (never written: always). */
static void slog_model_differential(void **state)
{
    (void)state;
    static int64_t adm[40000];
    for (int run = 0; run < 200; run++) {
        uint32_t limit = 1 + (uint32_t)(next() % 10);
        int64_t w = 1 + (int64_t)(next() % (next() % 2 ? 100 : (uint64_t)SEC));
        lfp_slog g;
        lfp_locked_slog lg;
        assert_int_equal(lfp_slog_init(&g, limit, w), 0);
        assert_int_equal(lfp_locked_slog_init(&lg, limit, w), 0);
        size_t na = 0;
        /* from INT64_MIN itself in some runs (gap() often steps 0, so
         * several takes land exactly on it: each must count) */
        bool edge = next() % 4 == 0;
        int64_t now = edge ? INT64_MIN + (int64_t)(next() % 2) : (int64_t)(next() >> 1);
        for (int s = 0; s < 400; s++) {
            int64_t step = edge && s < 4 * (int)limit ? 0 : gap(w);
            now = lfp_time_add(now, step);
            uint32_t n = 1 + (uint32_t)(next() % limit);
            bool ok = true;
            for (uint32_t i = 0; i < n; i++) {
                size_t a = na + i;       /* admission a evicts a - limit */
                if (a >= limit && (i128)adm[a - limit] > (i128)now - w)
                    ok = false;
            }
            int want = ok ? 0 : EAGAIN;
            assert_int_equal(lfp_slog_take_at(&g, n, now), want);
            assert_int_equal(lfp_locked_slog_take_at(&lg, n, now), want);
            if (ok)
                for (uint32_t i = 0; i < n; i++)
                    adm[na++] = now;
        }
        check_window_spec(adm, na, w, limit);
        lfp_slog_destroy(&g);
        lfp_locked_slog_destroy(&lg);
    }
}

/* ------------------------------------------------------------ lfp_limit_all model */

/* A bucket, a fixed window and a log, all or nothing: admitted iff every
 * model admits; a refusal leaves every limiter exactly as able to admit as
 * before (the models did not move). */
static void limit_all_model_differential(void **state)
{
    (void)state;
    static int64_t adm[20000];
    for (int run = 0; run < 200; run++) {
        int64_t t = exact_t[next() % 10];
        uint32_t burst = 1 + (uint32_t)(next() % 6), limit = 1 + (uint32_t)(next() % 8);
        int64_t w = 20 + (int64_t)(next() % 200);
        lfp_bucket b;
        lfp_fwindow f;
        lfp_slog g;
        assert_int_equal(lfp_bucket_init_every(&b, t, burst), 0);
        assert_int_equal(lfp_fwindow_init(&f, limit, w), 0);
        assert_int_equal(lfp_slog_init(&g, limit, w), 0);
        lfp_limiter ls[3] = { { LFP_LIMITER_BUCKET, &b }, { LFP_LIMITER_FWINDOW, &f },
                              { LFP_LIMITER_SLOG, &g } };
        gmodel m = { INT64_MIN, t, burst, 0 };
        i128 k = 0;
        uint32_t count = 0;
        bool empty = true;
        size_t na = 0;
        int64_t now = (int64_t)(next() >> 2);
        for (int s = 0; s < 300; s++) {
            int64_t step = gap(w);
            now = lfp_time_add(now, step);
            uint32_t n = 1 + (uint32_t)(next() % (burst < limit ? burst : limit));
            i128 kn = lfp_rl_floor_div_(now, w);
            uint32_t c = empty || kn > k ? 0 : count;
            bool log_ok = true;
            for (uint32_t i = 0; i < n; i++)
                if (na + i >= limit && (i128)adm[na + i - limit] > (i128)now - w)
                    log_ok = false;
            gmodel m2 = m;
            grec r;
            int64_t ready;
            bool all = g_take(&m2, n, now, false, &r, &ready) == 0 && c + n <= limit && log_ok;
            assert_int_equal(lfp_limit_all_at(ls, 3, n, now), all ? 0 : EAGAIN);
            if (all) {
                m = m2;
                if (empty || kn > k)
                    k = kn;
                count = c + n;
                empty = false;
                for (uint32_t i = 0; i < n; i++)
                    adm[na++] = now;
            }
        }
        check_window_spec(adm, na, w, limit);
        lfp_slog_destroy(&g);
    }
}

/* ------------------------------------------------------------ concurrent, shared fake clock */

typedef struct shared {
    lfp_bucket *b;
    lfp_slog *g;
    lfp_fwindow *f;   /* with b in lfp_limit_all: refuses often, so b's take is undone */
    _Atomic int64_t clock;
    _Atomic size_t nb, ng;
    int64_t *blog, *glog;
} shared;

#define CONC_OPS 3000
#define PENDING 4

static void log_bucket(shared *s, int64_t at)
{
    s->blog[atomic_fetch_add(&s->nb, 1)] = at;
}

/* Takes, reservations held a while and then used or given back in any
 * order (so give-backs of receipts that are not the newest are common). */
static void *conc(void *p)
{
    shared *s = p;
    rng ^= (uint64_t)(uintptr_t)&p;
    lfp_bucket_reservation r[PENDING];
    bool held[PENDING] = { false };
    for (int i = 0; i < CONC_OPS; i++) {
        int64_t now = atomic_fetch_add(&s->clock, (int64_t)(next() % 7));
        unsigned k = next() % PENDING;
        if (next() % 2 && !held[k]) {
            held[k] = lfp_bucket_reserve_ex_at(s->b, 1, now, &r[k]) == 0;
        } else if (held[k]) {
            if (next() % 2 || lfp_bucket_give_back(s->b, &r[k]) != 0)
                log_bucket(s, r[k].ready);   /* used, or not restored: it acts */
            held[k] = false;
        } else if (next() % 2) {
            lfp_limiter ls[2] = { { LFP_LIMITER_BUCKET, s->b }, { LFP_LIMITER_FWINDOW, s->f } };
            if (lfp_limit_all_at(ls, 2, 1, now) == 0)   /* an undo must create nothing */
                log_bucket(s, now);
        } else if (lfp_bucket_take_at(s->b, 1, now) == 0) {
            log_bucket(s, now);
        }
        if (lfp_slog_take_at(s->g, 1, now) == 0)
            s->glog[atomic_fetch_add(&s->ng, 1)] = now;
    }
    for (unsigned k = 0; k < PENDING; k++)
        if (held[k])
            log_bucket(s, r[k].ready);
    return NULL;
}

static void concurrent_shared_fake_clock_within_spec(void **state)
{
    (void)state;
    enum { THREADS = 4 };
    static int64_t blog[THREADS * CONC_OPS], glog[THREADS * CONC_OPS];
    lfp_bucket b;
    lfp_slog g;
    assert_int_equal(lfp_bucket_init_every(&b, 20, 3), 0);
    assert_int_equal(lfp_slog_init(&g, 5, 100), 0);
    lfp_fwindow f;
    assert_int_equal(lfp_fwindow_init(&f, 2, 50), 0);
    shared s = { &b, &g, &f, INT64_MIN / 2, 0, 0, blog, glog };
    pthread_t th[THREADS];
    for (int i = 0; i < THREADS; i++)
        assert_int_equal(pthread_create(&th[i], NULL, conc, &s), 0);
    for (int i = 0; i < THREADS; i++)
        pthread_join(th[i], NULL);
    /* the bucket's bound holds for admissions in any arrival order (each
     * token's slot starts at or after its time), the log's exactly */
    size_t nb = atomic_load(&s.nb), ng = atomic_load(&s.ng);
    assert_true(nb > 0 && ng > 0);
    check_gcra_spec(blog, nb, 20, 3);
    check_window_spec(glog, ng, 100, 5);
    lfp_slog_destroy(&g);
}

/* ------------------------------------------------------------ modular window ids (issue 15 item 6) */

/* Settings whose window ids do not fit beside the counts (ids modulo
 * 2^bits, decoded against the limiter's era): the same ideal models, with
 * idle gaps at, just below and just above multiples of the id period and
 * far beyond, and time going back by up to the whole line. `period` is the
 * id period in windows (2^bits). */
static int64_t modular_gap(int64_t w, i128 period)
{
    i128 p = period * w;                 /* the period in ns */
    switch (next() % 8) {
    case 0:
    case 1:  return (int64_t)(p * (1 + (i128)(next() % 2)) + (i128)(next() % 5) * w - 2 * w);
    case 2:  return (int64_t)(p * (1 + (i128)(next() % 2)) - (i128)(next() % (uint64_t)(4 * w)));
    case 3:  return (int64_t)(p / 4 + (i128)(next() % 5) * w - 2 * w);   /* the old tolerance edge */
    case 4:  return (int64_t)(next() % (uint64_t)INT64_MAX);             /* far beyond */
    case 5:  return -(int64_t)(next() % (uint64_t)(p / 2 > INT64_MAX ? INT64_MAX : (int64_t)(p / 2)));
    default: return (int64_t)(next() % (uint64_t)(3 * w));
    }
}

/* The next time, or false when it would leave the int64 line (the run ends). */
static bool modular_step(int64_t *now, int64_t w, i128 period)
{
    i128 t = (i128)*now + modular_gap(w, period);
    if (t > INT64_MAX || t < INT64_MIN)
        return false;
    *now = (int64_t)t;
    return true;
}

static void fwindow_modular_run(uint32_t limit, int64_t w, i128 period)
{
    lfp_fwindow f;
    assert_int_equal(lfp_fwindow_init(&f, limit, w), 0);
    assert_false(f.ids.exact);
    i128 k = 0;
    uint32_t count = 0;
    bool empty = true;
    int64_t now = INT64_MIN + (int64_t)(next() % (uint64_t)(4 * w));
    for (int s = 0; s < 300 && modular_step(&now, w, period); s++) {
        for (int rep = 0; rep < 3; rep++) {   /* a few takes per step: fill the window */
            uint32_t n = 1 + (uint32_t)(next() % limit);
            i128 kn = lfp_rl_floor_div_(now, w);
            if (empty || kn > k) {
                k = kn;
                count = 0;
            }
            int want = count + n <= limit ? 0 : EAGAIN;
            int got = lfp_fwindow_take_at(&f, n, now);
            if (got != want)
                print_error("fwindow limit %u W %lld at %lld (window %lld, stored %lld): "
                            "got %d want %d\n", limit, (long long)w, (long long)now,
                            (long long)kn, (long long)k, got, want);
            assert_int_equal(got, want);
            if (want == 0) {
                count += n;
                empty = false;
            }
        }
    }
}

static void fwindow_modular_ids_model(void **state)
{
    (void)state;
    for (int run = 0; run < 300; run++) {
        /* c = 2 (limit 1..2, W < 4) or c = 3 (limit 3..6, W < 8): 62 / 61 id bits */
        bool c2 = next() % 2;
        uint32_t limit = c2 ? 1 + (uint32_t)(next() % 2) : 3 + (uint32_t)(next() % 4);
        int64_t w = 1 + (int64_t)(next() % (c2 ? 3 : 7));
        i128 period = (i128)1 << (c2 ? 62 : 61);
        if (period * w > (i128)INT64_MAX)
            w = 1;                       /* keep a period gap on the line */
        fwindow_modular_run(limit, w, period);
    }
}

static void swindow_modular_run(uint32_t limit, int64_t w, unsigned bits)
{
    lfp_swindow sw;
    assert_int_equal(lfp_swindow_init(&sw, limit, w), 0);
    assert_false(sw.ids.exact);
    assert_int_equal(sw.ids.mask, ((uint64_t)1 << bits) - 1);
    i128 period = (i128)1 << bits;
    i128 k = 0, prev = 0, cur = 0;
    bool empty = true;
    int64_t now = INT64_MIN + (int64_t)(next() % (uint64_t)(4 * w));
    for (int s = 0; s < 300 && modular_step(&now, w, period); s++) {
        for (int rep = 0; rep < 3; rep++) {
            /* big takes: an empty limiter must admit its full limit */
            uint32_t n = rep == 0 ? limit : 1 + (uint32_t)(next() % limit);
            i128 kn = lfp_rl_floor_div_(now, w), e = (i128)now - kn * w, k2 = k, p2 = prev, c2 = cur;
            if (empty || kn > k) {
                p2 = !empty && kn == k + 1 ? cur : 0;
                c2 = 0;
                k2 = kn;
            } else if (kn < k) {
                e = 0;
            }
            int want = p2 * (w - e) + (c2 + n) * w <= (i128)limit * w ? 0 : EAGAIN;
            int got = lfp_swindow_take_at(&sw, n, now);
            if (got != want)
                print_error("swindow limit %u W %lld at %lld (window %lld, stored %lld): "
                            "got %d want %d\n", limit, (long long)w, (long long)now,
                            (long long)kn, (long long)k, got, want);
            assert_int_equal(got, want);
            if (want == 0) {
                k = k2;
                prev = p2;
                cur = c2 + n;
                empty = false;
            }
        }
    }
}

static void swindow_modular_ids_model(void **state)
{
    (void)state;
    for (int run = 0; run < 100; run++) {
        swindow_modular_run(100000, SEC, 64 - 2 * 17);      /* 30 id bits: 34 years */
        swindow_modular_run((1u << 20) - 2, SEC, 64 - 40);  /* 24 id bits: 194 days */
        swindow_modular_run(1000, 1000, 64 - 20);           /* 44 id bits */
    }
}

/* Takers on one fake clock that jumps by about an id period now and then.
 * A take is charged to a window from its own (`now`'s) to the newest one
 * started before it returned (at or before the clock read then), so each
 * admission is logged as that range of windows; the spec (at most `limit`
 * charged to each window: the fixed window's count, the sliding window's
 * cur, est >= cur) implies that no range [a, b] of windows holds more than
 * limit * (b - a + 1) logged ranges. */
typedef struct mrange {
    int64_t lo, hi;                      /* windows */
} mrange;

typedef struct mshared {
    lfp_fwindow *f;
    lfp_swindow *sw;
    int64_t fw, sww;                     /* windows */
    i128 fperiod, swperiod;              /* id periods in ns */
    _Atomic int64_t clock;
    _Atomic size_t nf, nsw;
    _Atomic int jumps;
    mrange *flog, *swlog;
} mshared;

#define MOD_OPS 1500

static void *mconc(void *p)
{
    mshared *s = p;
    rng ^= (uint64_t)(uintptr_t)&p;
    for (int i = 0; i < MOD_OPS; i++) {
        int64_t step = (int64_t)(next() % 3);
        if (next() % 300 == 0 && atomic_fetch_add(&s->jumps, 1) < 3)   /* stay on the line */
            step = (int64_t)((next() % 2 ? s->fperiod : s->swperiod) - (i128)(next() % 3) * s->sww);
        int64_t now = atomic_fetch_add(&s->clock, step);
        if (lfp_fwindow_take_at(s->f, 1, now) == 0) {
            mrange r = { lfp_rl_floor_div_(now, s->fw),
                         lfp_rl_floor_div_(atomic_load(&s->clock), s->fw) };
            s->flog[atomic_fetch_add(&s->nf, 1)] = r;
        }
        uint32_t n = 1 + (uint32_t)(next() % 2);
        if (lfp_swindow_take_at(s->sw, n, now) == 0) {
            mrange r = { lfp_rl_floor_div_(now, s->sww),
                         lfp_rl_floor_div_(atomic_load(&s->clock), s->sww) };
            for (size_t at = atomic_fetch_add(&s->nsw, n), j = 0; j < n; j++)
                s->swlog[at + j] = r;
        }
    }
    return NULL;
}

/* Every logged range's own range [a, b] holds at most limit * (b - a + 1). */
static void check_charged_ranges(const mrange *r, size_t n, uint32_t limit)
{
    for (size_t i = 0; i < n; i++) {
        i128 in = 0;
        for (size_t j = 0; j < n; j++)
            in += r[j].lo >= r[i].lo && r[j].hi <= r[i].hi;
        if (in > (i128)limit * ((i128)r[i].hi - r[i].lo + 1)) {
            print_error("%lld admissions charged within windows [%lld, %lld], limit %u\n",
                        (long long)in, (long long)r[i].lo, (long long)r[i].hi, limit);
            fail();
        }
    }
}

static void concurrent_modular_ids_within_spec(void **state)
{
    (void)state;
    enum { THREADS = 4 };
    static mrange flog[THREADS * MOD_OPS], swlog[2 * THREADS * MOD_OPS];
    lfp_fwindow f;
    lfp_swindow sw;
    assert_int_equal(lfp_fwindow_init(&f, 2, 1), 0);       /* 62 id bits */
    assert_int_equal(lfp_swindow_init(&sw, 4, 5), 0);      /* c = 3: 58 id bits */
    assert_false(f.ids.exact || sw.ids.exact);
    mshared s = { &f, &sw, 1, 5, (i128)1 << 62, ((i128)1 << 58) * 5, INT64_MIN, 0, 0, 0, flog, swlog };
    pthread_t th[THREADS];
    for (int i = 0; i < THREADS; i++)
        assert_int_equal(pthread_create(&th[i], NULL, mconc, &s), 0);
    for (int i = 0; i < THREADS; i++)
        pthread_join(th[i], NULL);
    size_t nf = atomic_load(&s.nf), nsw = atomic_load(&s.nsw);
    assert_true(nf > 0 && nsw > 0);
    check_charged_ranges(flog, nf, 2);
    check_charged_ranges(swlog, nsw, 4);
}

/* ------------------------------------------------------------ real clock */

static void *real(void *p)
{
    shared *s = p;
    int64_t end = lfp_now() + 200 * 1000000;
    while (lfp_now() < end) {
        int64_t now = lfp_now();
        if (lfp_bucket_take_at(s->b, 1, now) == 0) {
            size_t i = atomic_fetch_add(&s->nb, 1);
            if (i < 3000)
                s->blog[i] = now;
        }
    }
    return NULL;
}

static void real_clock_within_spec(void **state)
{
    (void)state;
    static int64_t blog[3000];
    lfp_bucket b;
    assert_int_equal(lfp_bucket_init(&b, 5000, 10), 0);   /* T = 200 us */
    shared s = { &b, NULL, NULL, 0, 0, 0, blog, NULL };
    pthread_t th[3];
    for (int i = 0; i < 3; i++)
        assert_int_equal(pthread_create(&th[i], NULL, real, &s), 0);
    for (int i = 0; i < 3; i++)
        pthread_join(th[i], NULL);
    size_t n = atomic_load(&s.nb);
    assert_true(n > 10);
    check_gcra_spec(blog, n < 3000 ? n : 3000, 200000, 10);   /* those recorded */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(gcra_model_differential),
        cmocka_unit_test(gcra_model_edges),
        cmocka_unit_test(fwindow_model_differential),
        cmocka_unit_test(swindow_model_differential),
        cmocka_unit_test(slog_model_differential),
        cmocka_unit_test(limit_all_model_differential),
        cmocka_unit_test(concurrent_shared_fake_clock_within_spec),
        cmocka_unit_test(fwindow_modular_ids_model),
        cmocka_unit_test(swindow_modular_ids_model),
        cmocka_unit_test(concurrent_modular_ids_within_spec),
        cmocka_unit_test(real_clock_within_spec),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
