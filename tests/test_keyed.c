/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit tests for lfpat/keyed.h (lfp_keyed and its twin lfp_locked_keyed).
 * The oracle is the spec, not the twin: per key, an ideal GCRA model (an
 * unbounded map of exact TATs, no table, no eviction) that every decision
 * must match, and the bound "no interval of length L holds more than
 * burst + L/T admissions of a key" checked over every pair of a key's
 * admission times. Fake clocks throughout. */
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

__extension__ typedef __int128 i128;

#define SEC INT64_C(1000000000)
#define YEAR (INT64_C(365) * 24 * 3600 * SEC)

/* The two tables behind one set of calls. */
typedef struct table {
    const char *name;
    void *self;
    int (*take_at)(void *, uint64_t key, uint32_t n, int64_t now);
    size_t (*busy_at)(void *, int64_t now);
    void (*destroy)(void *);
    unsigned probe;   /* the window, for the ENOSPC check */
    int (*wait_at)(void *, uint64_t key, uint32_t n, int64_t now, int64_t deadline, lfp_cancel *c);
    int64_t (*tat_of)(void *, uint64_t key);   /* white-box: the key's TAT, INT64_MIN if absent */
} table;

static int k_take(void *k, uint64_t key, uint32_t n, int64_t now) { return lfp_keyed_take_at(k, key, n, now); }
static size_t k_busy(void *k, int64_t now) { return lfp_keyed_busy_at(k, now); }
static void k_destroy(void *k) { lfp_keyed_destroy(k); free(k); }
static int l_take(void *k, uint64_t key, uint32_t n, int64_t now) { return lfp_locked_keyed_take_at(k, key, n, now); }
static size_t l_busy(void *k, int64_t now) { return lfp_locked_keyed_busy_at(k, now); }
static void l_destroy(void *k) { lfp_locked_keyed_destroy(k); free(k); }

static int k_wait(void *k, uint64_t key, uint32_t n, int64_t now, int64_t deadline, lfp_cancel *c)
{
    return lfp_keyed_wait_at(k, key, n, now, deadline, c);
}
static int l_wait(void *k, uint64_t key, uint32_t n, int64_t now, int64_t deadline, lfp_cancel *c)
{
    return lfp_locked_keyed_wait_at(k, key, n, now, deadline, c);
}
static int64_t k_tat(void *p, uint64_t key)
{
    lfp_keyed *k = p;
    for (uint64_t i = 0; i <= k->mask; i++) {
        int64_t t = atomic_load(&k->slots[i].tat);
        if (t < INT64_MAX - 1 && atomic_load(&k->slots[i].key) == key)
            return t;
    }
    return INT64_MIN;
}
static int64_t l_tat(void *p, uint64_t key)
{
    lfp_locked_keyed *k = p;
    int64_t t = INT64_MIN;
    pthread_mutex_lock(&k->lock);
    for (uint64_t i = 0; i <= k->mask; i++)
        if (k->slots[i].tat != INT64_MAX && k->slots[i].key == key)
            t = k->slots[i].tat;
    pthread_mutex_unlock(&k->lock);
    return t;
}

static table make_table(bool locked, size_t capacity, double rate, uint32_t burst)
{
    table t;
    if (locked) {
        lfp_locked_keyed *k = malloc(sizeof *k);
        assert_non_null(k);
        assert_int_equal(lfp_locked_keyed_init(k, capacity, rate, burst), 0);
        t = (table){ "lfp_locked_keyed", k, l_take, l_busy, l_destroy, k->probe, l_wait, l_tat };
    } else {
        lfp_keyed *k = aligned_alloc(LFP_CACHELINE, sizeof *k);
        assert_non_null(k);
        assert_int_equal(lfp_keyed_init(k, capacity, rate, burst), 0);
        t = (table){ "lfp_keyed", k, k_take, k_busy, k_destroy, k->probe, k_wait, k_tat };
    }
    return t;
}

/* ------------------------------------------------------------ oracles */

/* The ideal per-key GCRA: TAT per key (INT64_MIN = never seen), interval
 * t, burst; exact 128-bit arithmetic. Admit n at now iff
 * max(TAT, now) + n*t - now <= burst*t; then TAT = max(TAT, now) + n*t. */
typedef struct model {
    int64_t *tat;
    size_t keys;
    int64_t t;
    uint32_t burst;
} model;

static bool model_take(model *m, size_t key, uint32_t n, int64_t now)
{
    i128 base = m->tat[key] > now ? m->tat[key] : now;
    if (base + (i128)n * m->t - now > (i128)m->burst * m->t)
        return false;
    m->tat[key] = (int64_t)(base + (i128)n * m->t);
    return true;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Admission times a[0..n) of one key (one entry per token) obey the bound:
 * for sorted i < j, (j - i + 1 - burst) * T <= a[j] - a[i]. With
 * b_i = a[i] - i*T that is b_j >= b_i - (burst - 1) * T for all
 * i <= j - burst: one pass with the prefix maximum of b, exact in 128 bits,
 * so it covers every pair (every interval) of the run. */
static void assert_spec(int64_t *a, size_t n, int64_t t, uint32_t burst, const char *what, size_t key)
{
    if (n == 0)
        return;   /* a key never admitted (qsort wants a non-NULL array) */
    qsort(a, n, sizeof *a, cmp_i64);
    i128 best = 0;
    size_t arg = 0;
    for (size_t j = burst; j < n; j++) {
        size_t i = j - burst;
        i128 bi = (i128)a[i] - (i128)i * t;
        if (i == 0 || bi > best) {
            best = bi;
            arg = i;
        }
        if ((i128)a[j] - (i128)j * t < best - (i128)(burst - 1) * t)
            fail_msg("%s key %zu: %zu admissions in [%lld, %lld] > burst %u + L/T (T %lld)",
                     what, key, j - arg + 1, (long long)a[arg], (long long)a[j], burst,
                     (long long)t);
    }
}

/* Per-key admission logs. */
typedef struct logs {
    int64_t **at;
    size_t *len, *cap;
    size_t keys;
} logs;

static logs logs_new(size_t keys)
{
    logs l = { calloc(keys, sizeof(int64_t *)), calloc(keys, sizeof(size_t)),
               calloc(keys, sizeof(size_t)), keys };
    assert_true(l.at && l.len && l.cap);
    return l;
}

static void logs_add(logs *l, size_t key, int64_t now, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) {
        if (l->len[key] == l->cap[key]) {
            l->cap[key] = l->cap[key] ? 2 * l->cap[key] : 16;
            l->at[key] = realloc(l->at[key], l->cap[key] * sizeof(int64_t));
            assert_non_null(l->at[key]);
        }
        l->at[key][l->len[key]++] = now;
    }
}

static void logs_check_free(logs *l, int64_t t, uint32_t burst, const char *what)
{
    for (size_t k = 0; k < l->keys; k++) {
        assert_spec(l->at[k], l->len[k], t, burst, what, k);
        free(l->at[k]);
    }
    free(l->at);
    free(l->len);
    free(l->cap);
}

/* A user key for key index i: spread over the whole uint64 range. */
static uint64_t ukey(size_t i) { return (uint64_t)i * UINT64_C(0x9e3779b97f4a7c15) + 7; }

static uint64_t rng_next(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* ------------------------------------------------------------ bad input */

static void keyed_einval(void **state)
{
    (void)state;
    lfp_keyed k;
    lfp_locked_keyed l;
    assert_int_equal(lfp_keyed_init(NULL, 10, 1, 1), EINVAL);
    assert_int_equal(lfp_keyed_init(&k, 0, 1, 1), EINVAL);
    assert_int_equal(lfp_keyed_init(&k, (size_t)LFP_KEYED_MAX_CAPACITY + 1, 1, 1), EINVAL);
    assert_int_equal(lfp_keyed_init(&k, 10, 0, 1), EINVAL);
    assert_int_equal(lfp_keyed_init(&k, 10, -1, 1), EINVAL);
    assert_int_equal(lfp_keyed_init(&k, 10, 0.0 / 0.0, 1), EINVAL);
    assert_int_equal(lfp_keyed_init(&k, 10, 1e10, 1), EINVAL);
    assert_int_equal(lfp_keyed_init(&k, 10, 1, 0), EINVAL);
    assert_int_equal(lfp_keyed_init(&k, 10, 1e-9, 11), EINVAL);   /* burst * T > 2^62 */
    assert_int_equal(lfp_locked_keyed_init(NULL, 10, 1, 1), EINVAL);
    assert_int_equal(lfp_locked_keyed_init(&l, 0, 1, 1), EINVAL);
    assert_int_equal(lfp_locked_keyed_init(&l, (size_t)LFP_KEYED_MAX_CAPACITY + 1, 1, 1), EINVAL);
    assert_int_equal(lfp_locked_keyed_init(&l, 10, 0.0 / 0.0, 1), EINVAL);
    assert_int_equal(lfp_locked_keyed_init(&l, 10, 1, 0), EINVAL);
    assert_int_equal(lfp_locked_keyed_init(&l, 10, 1e-9, 11), EINVAL);

    assert_int_equal(lfp_keyed_init(&k, 10, 1, 3), 0);
    assert_int_equal(lfp_locked_keyed_init(&l, 10, 1, 3), 0);
    assert_int_equal(lfp_keyed_take_at(NULL, 1, 1, 0), EINVAL);
    assert_int_equal(lfp_keyed_take(NULL, 1, 1), EINVAL);
    assert_int_equal(lfp_keyed_take_at(&k, 1, 0, 0), EINVAL);
    assert_int_equal(lfp_keyed_take_at(&k, 1, 4, 0), EINVAL);
    assert_int_equal(lfp_keyed_take_bytes_at(NULL, "a", 1, 1, 0), EINVAL);
    assert_int_equal(lfp_keyed_take_bytes_at(&k, NULL, 1, 1, 0), EINVAL);
    assert_int_equal(lfp_keyed_take_bytes(&k, NULL, 1, 1), EINVAL);
    assert_int_equal(lfp_keyed_take_bytes_at(&k, "a", 1, 0, 0), EINVAL);
    assert_int_equal(lfp_locked_keyed_take_at(NULL, 1, 1, 0), EINVAL);
    assert_int_equal(lfp_locked_keyed_take(NULL, 1, 1), EINVAL);
    assert_int_equal(lfp_locked_keyed_take_at(&l, 1, 0, 0), EINVAL);
    assert_int_equal(lfp_locked_keyed_take_at(&l, 1, 4, 0), EINVAL);
    assert_int_equal(lfp_locked_keyed_take_bytes_at(NULL, "a", 1, 1, 0), EINVAL);
    assert_int_equal(lfp_locked_keyed_take_bytes_at(&l, NULL, 1, 1, 0), EINVAL);
    assert_int_equal(lfp_locked_keyed_take_bytes(&l, NULL, 1, 1), EINVAL);
    assert_int_equal(lfp_keyed_busy_at(NULL, 0), 0);
    assert_int_equal(lfp_locked_keyed_busy_at(NULL, 0), 0);
    assert_int_equal(lfp_keyed_hash(NULL, "a", 1), 0);
    assert_int_equal(lfp_locked_keyed_hash(NULL, "a", 1), 0);
    /* nothing was recorded by the refused calls */
    assert_int_equal(lfp_keyed_busy_at(&k, 0), 0);
    assert_int_equal(lfp_locked_keyed_busy_at(&l, 0), 0);
    /* the empty string is a key */
    assert_int_equal(lfp_keyed_take_bytes_at(&k, NULL, 0, 3, 0), 0);
    assert_int_equal(lfp_keyed_take_bytes_at(&k, "", 0, 1, 0), EAGAIN);
    lfp_keyed_destroy(&k);
    lfp_keyed_destroy(NULL);
    lfp_locked_keyed_destroy(&l);
    lfp_locked_keyed_destroy(NULL);
}

/* Byte keys: equal strings share a bucket, different ones (almost surely)
 * not; the hash is SipHash-1-3 (a published test vector of SipHash-1-3 is
 * not at hand, so check determinism, length sensitivity and spread). */
static void keyed_bytes(void **state)
{
    (void)state;
    lfp_keyed k;
    assert_int_equal(lfp_keyed_init(&k, 64, 1, 2), 0);
    char a[] = "tenant-42", b[] = "tenant-42", c[] = "tenant-43";
    assert_int_equal(lfp_keyed_take_bytes_at(&k, a, 9, 2, 0), 0);
    assert_int_equal(lfp_keyed_take_bytes_at(&k, b, 9, 1, 0), EAGAIN);   /* same key */
    assert_int_equal(lfp_keyed_take_bytes_at(&k, c, 9, 2, 0), 0);        /* another */
    assert_int_equal(lfp_keyed_take_bytes_at(&k, a, 8, 2, 0), 0);        /* a prefix */
    assert_true(lfp_keyed_hash(&k, a, 9) == lfp_keyed_hash(&k, b, 9));
    unsigned char buf[64] = { 0 };
    uint64_t seen[65];
    for (size_t len = 0; len <= 64; len++) {
        seen[len] = lfp_keyed_hash(&k, buf, len);
        for (size_t j = 0; j < len; j++)
            assert_true(seen[j] != seen[len]);
    }
    lfp_keyed_destroy(&k);
}

/* ------------------------------------------------------------ the model, single thread */

/* Random single-threaded runs on a non-decreasing fake clock: every
 * decision equals the ideal model's, except ENOSPC (a new or idle key whose
 * window is full of busy keys: only when the table holds at least `probe`
 * busy keys); per-key admissions obey the bound. Small tables force
 * eviction; big ones never need it. */
static void run_model(bool locked, size_t capacity, size_t keys, double rate, uint32_t burst,
                      int64_t max_step, unsigned ops, uint64_t seed)
{
    table tb = make_table(locked, capacity, rate, burst);
    int64_t t = (int64_t)(1e9 / rate + 0.5);
    model m = { malloc(keys * sizeof(int64_t)), keys, t, burst };
    for (size_t i = 0; i < keys; i++)
        m.tat[i] = INT64_MIN;
    logs lg = logs_new(keys);
    int64_t now = -5 * SEC;
    unsigned enospc = 0, admitted = 0;
    for (unsigned i = 0; i < ops; i++) {
        now += (int64_t)(rng_next(&seed) % (uint64_t)(max_step + 1));
        size_t key = (size_t)(rng_next(&seed) % keys);
        uint32_t n = 1 + (uint32_t)(rng_next(&seed) % burst);
        int rc = tb.take_at(tb.self, ukey(key), n, now);
        if (rc == ENOSPC) {
            enospc++;
            if (tb.busy_at(tb.self, now) < tb.probe)
                fail_msg("%s: ENOSPC with %zu busy keys (window %u)", tb.name,
                         tb.busy_at(tb.self, now), tb.probe);
            continue;
        }
        bool ok = model_take(&m, key, n, now);
        if ((rc == 0) != ok)
            fail_msg("%s op %u key %zu n %u now %lld: rc %d, model %s", tb.name, i, key, n,
                     (long long)now, rc, ok ? "admits" : "refuses");
        if (rc == 0) {
            admitted++;
            logs_add(&lg, key, now, n);
        }
    }
    logs_check_free(&lg, t, burst, tb.name);
    assert_true(admitted > 0);
    (void)enospc;
    free(m.tat);
    tb.destroy(tb.self);
}

static void keyed_matches_model(void **state)
{
    (void)state;
    for (int locked = 0; locked < 2; locked++) {
        /* no pressure: 1000 keys in a table for 4096 */
        run_model(locked, 4096, 1000, 1000, 5, 2000000, 200000, 1);
        /* pressure: 300 keys through a table of 16 slots (window 16),
         * keys mostly idle between their takes: constant eviction */
        run_model(locked, 8, 300, 1000, 3, 400000, 200000, 2);
        /* heavy pressure: busy keys fill the window, ENOSPC happens */
        run_model(locked, 4, 64, 100, 4, 100000, 100000, 3);
        /* many rates */
        run_model(locked, 64, 100, 1e6, 100, 3000, 100000, 4);
        run_model(locked, 64, 100, 0.5, 2, 2 * SEC, 50000, 5);
        /* a table of 2 MiB and more: mapped on its own (src/hugemem.h) */
        run_model(locked, 70000, 100000, 1000, 3, 2000000, 300000, 6);
    }
}

/* ------------------------------------------------------------ far times */

/* Idle gaps of seconds to years, and the two ends of the time line: a key
 * idle for any gap admits exactly its burst again, then is limited. */
static void keyed_far_times(void **state)
{
    (void)state;
    for (int locked = 0; locked < 2; locked++) {
        table tb = make_table(locked, 4, 10, 3);
        const int64_t gaps[] = { SEC, 3600 * SEC, 40 * 24 * 3600 * SEC, YEAR, 100 * YEAR };
        int64_t now = INT64_MIN;
        for (int round = 0; round < 20; round++) {
            for (int g = 0; g < 5; g++) {
                if (now > INT64_MAX - gaps[g] - SEC)
                    break;
                now += gaps[g];
                for (uint64_t key = 0; key < 8; key++) {   /* 8 keys, 8 slots: evictions */
                    assert_int_equal(tb.take_at(tb.self, key, 3, now), 0);
                    assert_int_equal(tb.take_at(tb.self, key, 1, now), EAGAIN);
                    assert_int_equal(tb.take_at(tb.self, key, 1, now + 100000000 - 1), EAGAIN);
                    assert_int_equal(tb.take_at(tb.self, key, 1, now + 100000000), 0);
                }
            }
            if (round == 9)
                now = INT64_MAX - 100 * SEC;
        }
        /* the end of the time line: a take whose TAT would pass INT64_MAX is
         * refused, never saturated into an unlimited bucket */
        now = INT64_MAX - 150000000;   /* 1.5 T before the end: one token fits */
        unsigned admitted = 0;
        for (int i = 0; i < 1000; i++)
            admitted += tb.take_at(tb.self, 99, 1, now) == 0;
        assert_true(admitted <= 1);
        assert_int_equal(tb.take_at(tb.self, 98, 1, INT64_MAX), EAGAIN);
        tb.destroy(tb.self);
    }
}

/* ------------------------------------------------------------ eviction and stragglers */

/* A key evicted as idle at a caller's `now`, then taken by a caller whose
 * clock is behind (a straggler): without eviction the straggler is judged
 * at the key's TAT and refused; with eviction it must not be admitted
 * either (the table charges fresh keys at the newest TAT it evicted). */
static void keyed_evicted_straggler(void **state)
{
    (void)state;
    for (int locked = 0; locked < 2; locked++)
        for (int rep = 0; rep < 32; rep++) {   /* placements differ per table (seeds) */
            table tb = make_table(locked, 2, 1, 1);   /* 4 slots, window 4; T = 1 s */
            assert_int_equal(tb.take_at(tb.self, 4, 1, -10 * SEC), 0);   /* idle from -9 s */
            for (uint64_t key = 1; key <= 3; key++)
                assert_int_equal(tb.take_at(tb.self, key, 1, 0), 0);     /* TAT 1 s */
            /* key 5 at 1 s: key 4's slot is idle (TAT before now); it is evicted */
            assert_int_equal(tb.take_at(tb.self, 5, 1, SEC), 0);
            /* stragglers at 0.5 s: each of keys 1..3 holds a take at 0, so
             * none may be admitted, also the evicted one (key 4's slot, if
             * still there, is idle at 0.5 s and would take it) */
            for (uint64_t key = 1; key <= 3; key++) {
                int rc = tb.take_at(tb.self, key, 1, SEC / 2);
                if (rc == 0)
                    fail_msg("%s: key %llu admitted at 0.5 s after a take at 0 (burst 1, 1/s)",
                             tb.name, (unsigned long long)key);
            }
            tb.destroy(tb.self);
        }
}

/* ------------------------------------------------------------ concurrency */

#define CTHREADS 4
#define CKEYS 48

struct crun {
    table tb;
    _Atomic int64_t clock;
    unsigned ops;
    int64_t max_step;
    uint32_t burst;
    _Atomic unsigned enospc;
};

struct cthread {
    struct crun *r;
    uint64_t seed;
    size_t len, cap;
    struct { uint32_t key, n; int64_t now; } *log;
};

static void *hammer(void *arg)
{
    struct cthread *c = arg;
    struct crun *r = c->r;
    for (unsigned i = 0; i < r->ops; i++) {
        int64_t step = (int64_t)(rng_next(&c->seed) % (uint64_t)(r->max_step + 1));
        /* relaxed: the shared fake clock; each op gets its own reading */
        int64_t now = atomic_fetch_add_explicit(&r->clock, step, memory_order_relaxed) + step;
        uint32_t key = (uint32_t)(rng_next(&c->seed) % CKEYS);
        uint32_t n = 1 + (uint32_t)(rng_next(&c->seed) % r->burst);
        int rc = r->tb.take_at(r->tb.self, ukey(key), n, now);
        if (rc == ENOSPC)
            atomic_fetch_add(&r->enospc, 1);
        else if (rc != 0 && rc != EAGAIN)
            fail_msg("rc %d", rc);
        if (rc == 0) {
            if (c->len == c->cap) {
                c->cap = c->cap ? 2 * c->cap : 1024;
                c->log = realloc(c->log, c->cap * sizeof *c->log);
                assert_non_null(c->log);
            }
            c->log[c->len].key = key;
            c->log[c->len].n = n;
            c->log[c->len++].now = now;
        }
    }
    return NULL;
}

/* Threads hammer overlapping keys on a shared fake clock; per key, every
 * interval of admission times obeys the bound (GCRA charges a straggler at
 * the key's TAT, and the table a re-created key at the newest evicted TAT,
 * so this holds for any arrival order). */
static void run_concurrent(bool locked, size_t capacity, double rate, uint32_t burst,
                           int64_t max_step, unsigned ops)
{
    struct crun r = { .tb = make_table(locked, capacity, rate, burst), .ops = ops,
                      .max_step = max_step, .burst = burst };
    atomic_init(&r.clock, 0);
    atomic_init(&r.enospc, 0);
    struct cthread c[CTHREADS];
    pthread_t th[CTHREADS];
    for (int i = 0; i < CTHREADS; i++) {
        c[i] = (struct cthread){ .r = &r, .seed = 0x1234567u + 77u * (uint64_t)i };
        assert_int_equal(pthread_create(&th[i], NULL, hammer, &c[i]), 0);
    }
    for (int i = 0; i < CTHREADS; i++)
        pthread_join(th[i], NULL);
    logs lg = logs_new(CKEYS);
    size_t total = 0;
    for (int i = 0; i < CTHREADS; i++) {
        for (size_t j = 0; j < c[i].len; j++)
            logs_add(&lg, c[i].log[j].key, c[i].log[j].now, c[i].log[j].n);
        total += c[i].len;
        free(c[i].log);
    }
    assert_true(total > 0);
    logs_check_free(&lg, (int64_t)(1e9 / rate + 0.5), burst, r.tb.name);
    r.tb.destroy(r.tb.self);
}

static void keyed_concurrent_within_spec(void **state)
{
    (void)state;
    for (int locked = 0; locked < 2; locked++) {
        /* no pressure: contended keys, every take's CAS races */
        run_concurrent(locked, 1024, 1e6, 4, 40, 30000);
        /* pressure: 48 keys through 16 slots, evictions race with takes */
        run_concurrent(locked, 8, 1e6, 3, 60, 30000);
        /* heavy pressure: 48 keys through 4 slots */
        run_concurrent(locked, 2, 2e6, 2, 30, 30000);
    }
}

/* ------------------------------------------------------------ wait */

static void keyed_wait_einval(void **state)
{
    (void)state;
    assert_int_equal(lfp_keyed_wait(NULL, 1, 1, LFP_FOREVER, NULL), EINVAL);
    assert_int_equal(lfp_keyed_wait_at(NULL, 1, 1, 0, LFP_FOREVER, NULL), EINVAL);
    assert_int_equal(lfp_locked_keyed_wait(NULL, 1, 1, LFP_FOREVER, NULL), EINVAL);
    assert_int_equal(lfp_locked_keyed_wait_at(NULL, 1, 1, 0, LFP_FOREVER, NULL), EINVAL);
    for (int locked = 0; locked < 2; locked++) {
        table tb = make_table(locked, 4, 1, 2);
        assert_int_equal(tb.wait_at(tb.self, 1, 0, 0, LFP_FOREVER, NULL), EINVAL);
        assert_int_equal(tb.wait_at(tb.self, 1, 3, 0, LFP_FOREVER, NULL), EINVAL);
        assert_int_equal(tb.busy_at(tb.self, 0), 0);
        tb.destroy(tb.self);
    }
}

/* Ready at once, after a sleep (never before the ready time), timed out
 * (nothing consumed), cancelled before (nothing consumed). */
static void keyed_wait_outcomes(void **state)
{
    (void)state;
    for (int locked = 0; locked < 2; locked++) {
        /* 100/s, burst 1: T = 10 ms */
        table tb = make_table(locked, 4, 100, 1);
        int64_t t0 = lfp_now();
        assert_int_equal(tb.wait_at(tb.self, 7, 1, t0, lfp_after(10 * SEC), NULL), 0);
        assert_int_equal(tb.wait_at(tb.self, 7, 1, t0, lfp_after(10 * SEC), NULL), 0);
        assert_true(lfp_now() >= t0 + 10000000);   /* ready at t0 + T, not before */
        assert_int_equal(tb.tat_of(tb.self, 7), t0 + 20000000);
        tb.destroy(tb.self);

        /* 1/s: ready 1 s after t0, deadline before that */
        tb = make_table(locked, 4, 1, 1);
        assert_int_equal(tb.take_at(tb.self, 7, 1, t0), 0);
        assert_int_equal(tb.wait_at(tb.self, 7, 1, t0, t0 + SEC / 2, NULL), ETIMEDOUT);
        lfp_cancel c;
        assert_int_equal(lfp_cancel_init(&c, NULL), 0);
        lfp_cancel_fire(&c, 1);
        assert_int_equal(tb.wait_at(tb.self, 7, 1, t0, LFP_FOREVER, &c), ECANCELED);
        assert_int_equal(tb.wait_at(tb.self, 8, 1, t0, LFP_FOREVER, &c), 0);   /* at once */
        assert_int_equal(tb.take_at(tb.self, 7, 1, t0 + SEC), 0);   /* nothing was consumed */
        lfp_cancel_destroy(&c);
        tb.destroy(tb.self);
    }
}

struct waiter_arg {
    table *tb;
    uint64_t key;
    int64_t now;
    lfp_cancel *c;
    int rc;
};

static void *waiter(void *p)
{
    struct waiter_arg *a = p;
    a->rc = a->tb->wait_at(a->tb->self, a->key, 1, a->now, LFP_FOREVER, a->c);
    return NULL;
}

/* Wait (bounded: 10 s, then fail) until key's TAT is `tat`: the waiter
 * thread has reserved and is asleep (its ready time is 100 s away). */
static void await_tat(table *tb, uint64_t key, int64_t tat)
{
    int64_t give_up = lfp_after(10 * SEC);
    while (tb->tat_of(tb->self, key) != tat) {
        if (lfp_now() > give_up)
            fail_msg("%s: the waiter never reserved", tb->name);
        sched_yield();
    }
}

/* A waiter cancelled while asleep gives its reservation back: restored
 * while it is still the key's newest consumption; not restored once its
 * slot went to another key (eviction at a later `now`), where moving the
 * new tenant's TAT back would mint tokens. T = 100 s, so the waiter is
 * certainly asleep when cancelled (no timing is relied on: await_tat). */
static void keyed_wait_cancel_gives_back(void **state)
{
    (void)state;
    const int64_t T = 100 * SEC;
    for (int locked = 0; locked < 2; locked++) {
        table tb = make_table(locked, 1, 0.01, 1);   /* 2 slots */
        int64_t t0 = lfp_now();
        assert_int_equal(tb.take_at(tb.self, 1, 1, t0), 0);   /* TAT t0 + T */
        lfp_cancel c;
        assert_int_equal(lfp_cancel_init(&c, NULL), 0);
        struct waiter_arg a = { &tb, 1, t0, &c, -1 };
        pthread_t th;
        assert_int_equal(pthread_create(&th, NULL, waiter, &a), 0);
        await_tat(&tb, 1, t0 + 2 * T);
        lfp_cancel_fire(&c, 1);
        pthread_join(th, NULL);
        assert_int_equal(a.rc, ECANCELED);
        assert_int_equal(tb.tat_of(tb.self, 1), t0 + T);   /* restored */
        lfp_cancel_destroy(&c);

        /* the same, but key 1 is evicted while its waiter sleeps */
        assert_int_equal(lfp_cancel_init(&c, NULL), 0);
        a = (struct waiter_arg){ &tb, 1, t0, &c, -1 };
        assert_int_equal(pthread_create(&th, NULL, waiter, &a), 0);
        await_tat(&tb, 1, t0 + 2 * T);
        /* at t0 + 3T key 1 is idle: keys 2 and 3 take both slots */
        assert_int_equal(tb.take_at(tb.self, 2, 1, t0 + 3 * T), 0);
        assert_int_equal(tb.take_at(tb.self, 3, 1, t0 + 3 * T), 0);
        assert_true(tb.tat_of(tb.self, 1) == INT64_MIN);
        lfp_cancel_fire(&c, 1);
        pthread_join(th, NULL);
        assert_int_equal(a.rc, ECANCELED);
        assert_int_equal(tb.tat_of(tb.self, 2), t0 + 4 * T);   /* untouched */
        assert_int_equal(tb.tat_of(tb.self, 3), t0 + 4 * T);
        lfp_cancel_destroy(&c);
        tb.destroy(tb.self);
    }
}

/* The tenure protocol, white-box: no TAT value of a slot's tenure ever
 * reappears in a later tenure, so the CAS of a taker of key J that read J's
 * TAT and was preempted before its CAS (made by hand here) cannot land on
 * the next key's bucket. The hard case: a cancelled wait lowered J's TAT
 * from a later value, which a taker may still expect; the slot keeps that
 * value as its high mark and is not given to another key before it. */
static void keyed_stale_taker_cannot_land_on_next_tenure(void **state)
{
    (void)state;
    const int64_t T = 100 * SEC;
    table tb = make_table(false, 1, 0.01, 1);   /* 2 slots, T = 100 s */
    lfp_keyed *k = tb.self;
    int64_t t0 = lfp_now();
    assert_int_equal(tb.take_at(tb.self, 10, 1, t0), 0);   /* J: TAT t0 + T */
    lfp_keyed_slot_ *j = atomic_load(&k->slots[0].key) == 10 ? &k->slots[0] : &k->slots[1];
    assert_int_equal(atomic_load(&j->key), 10);
    /* its high mark and tenure count: the array after the slots */
    lfp_keyed_tenure_ *jt = (lfp_keyed_tenure_ *)(k->slots + k->mask + 1) + (j - k->slots);
    lfp_cancel c;
    assert_int_equal(lfp_cancel_init(&c, NULL), 0);
    struct waiter_arg a = { &tb, 10, t0, &c, -1 };
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, waiter, &a), 0);
    await_tat(&tb, 10, t0 + 2 * T);
    const int64_t stale = t0 + 2 * T;   /* a TAT a taker of J may have read */
    lfp_cancel_fire(&c, 1);
    pthread_join(th, NULL);
    assert_int_equal(a.rc, ECANCELED);
    assert_int_equal(atomic_load(&j->tat), t0 + T);      /* given back */
    assert_int_equal(atomic_load(&jt->high), stale);      /* and remembered */
    assert_int_equal(tb.take_at(tb.self, 20, 1, t0), 0);   /* L: the other slot */
    /* at t0 + 1.5T J's TAT is past but its high mark is not: K gets L's slot */
    assert_int_equal(tb.take_at(tb.self, 30, 1, t0 + 3 * T / 2), 0);
    assert_int_equal(atomic_load(&j->key), 10);
    assert_int_equal(tb.take_at(tb.self, 40, 1, t0 + 3 * T / 2), ENOSPC);
    /* at t0 + 2.5T the mark is past: M gets J's slot, every TAT of M's
     * tenure is after t0 + 2.5T, and the stale taker's CAS fails */
    assert_int_equal(tb.take_at(tb.self, 40, 1, t0 + 5 * T / 2), 0);
    assert_int_equal(atomic_load(&j->key), 40);
    assert_int_equal(atomic_load(&j->tat), t0 + 7 * T / 2);
    assert_int_equal(atomic_load(&jt->high), INT64_MIN);
    int64_t expect = stale;
    assert_false(atomic_compare_exchange_strong(&j->tat, &expect, stale + T));
    /* a key whose TAT is exactly now is not evicted (strictly before now:
     * a tenure's values start at its eviction time, after every value of
     * the tenure before) */
    assert_int_equal(tb.take_at(tb.self, 30, 1, t0 + 5 * T / 2), 0);   /* K: TAT t0 + 3.5T */
    assert_int_equal(tb.take_at(tb.self, 50, 1, t0 + 7 * T / 2), ENOSPC);
    assert_int_equal(tb.take_at(tb.self, 50, 1, t0 + 7 * T / 2 + 1), 0);
    lfp_cancel_destroy(&c);
    tb.destroy(tb.self);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(keyed_einval),
        cmocka_unit_test(keyed_bytes),
        cmocka_unit_test(keyed_matches_model),
        cmocka_unit_test(keyed_far_times),
        cmocka_unit_test(keyed_evicted_straggler),
        cmocka_unit_test(keyed_wait_einval),
        cmocka_unit_test(keyed_wait_outcomes),
        cmocka_unit_test(keyed_wait_cancel_gives_back),
        cmocka_unit_test(keyed_stale_taker_cannot_land_on_next_tenure),
        cmocka_unit_test(keyed_concurrent_within_spec),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
