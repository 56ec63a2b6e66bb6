/* SPDX-License-Identifier: BSD-2-Clause */
/* stress_keyed — lfp_keyed and lfp_locked_keyed under oversubscription:
 * threads take from overlapping keys of a table far too small for them (so
 * idle keys are evicted all the time, racing with takes), with random
 * delays between each thread's clock read and its take (stragglers). The
 * invariant, per key, over every interval of its admission times: no
 * interval of length L holds more than burst + L/T admissions (the spec;
 * not the twin). Phases: a shared fake clock; the real clock (plain takes,
 * byte keys). */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "lfpat.h"

__extension__ typedef __int128 i128;

#define KEYS 64
#define MAX_LOG 400000          /* admissions recorded per thread */
#define RATE 1e6                /* T = 1000 ns */
#define T 1000
#define BURST 3

typedef struct entry { uint32_t key; int64_t at; } entry;

static struct {
    bool locked, real, bytes;
    lfp_keyed k;
    lfp_locked_keyed l;
    _Atomic int64_t clock;
    entry *log[64];
    size_t len[64];
} g;

static int take(uint32_t key, int64_t now)
{
    char name[16];
    if (g.bytes) {
        int len = snprintf(name, sizeof name, "key-%u", key);
        return g.locked ? lfp_locked_keyed_take_bytes(&g.l, name, (size_t)len, 1)
                        : lfp_keyed_take_bytes(&g.k, name, (size_t)len, 1);
    }
    if (g.real)
        return g.locked ? lfp_locked_keyed_take(&g.l, key, 1) : lfp_keyed_take(&g.k, key, 1);
    return g.locked ? lfp_locked_keyed_take_at(&g.l, key, 1, now) : lfp_keyed_take_at(&g.k, key, 1, now);
}

static void worker(lfps_thread *t)
{
    entry *log = g.log[t->id];
    size_t len = 0;
    for (uint64_t i = 0; lfps_go(t, i, MAX_LOG) && len < MAX_LOG; i++) {
        uint32_t key = (uint32_t)lfps_below(&t->rng, KEYS);
        int64_t step = (int64_t)lfps_below(&t->rng, 2 * T / KEYS * 8);
        /* relaxed: the shared fake clock; each take gets its own reading */
        int64_t now = g.real ? lfp_now()
                             : atomic_fetch_add_explicit(&g.clock, step, memory_order_relaxed) + step;
        lfps_delay(&t->rng);   /* a straggler: its reading ages */
        int rc = take(key, now);   /* the real-clock phases read their own clock */
        LFPS_CHECK(rc == 0 || rc == EAGAIN || rc == ENOSPC, "rc %d", rc);
        if (rc == 0)
            log[len++] = (entry){ key, now };
        lfps_ops(1);
    }
    g.len[t->id] = len;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Every interval of one key's sorted admission times (fake clock: the
 * times the takes were judged by): with b_i = a_i - i*T,
 * b_j >= max_{i <= j - burst} b_i - (burst - 1) * T. */
static void check_key(int64_t *a, size_t n, uint32_t key)
{
    qsort(a, n, sizeof *a, cmp_i64);
    i128 best = 0;
    bool ok = true;
    for (size_t j = BURST; j < n && ok; j++) {
        i128 bi = (i128)a[j - BURST] - (i128)(j - BURST) * T;
        best = j == BURST || bi > best ? bi : best;
        ok = (i128)a[j] - (i128)j * T >= best - (i128)(BURST - 1) * T;
    }
    LFPS_CHECK(ok, "%s key %u: more than burst + L/T in some interval", g.locked ? "locked" : "keyed", key);
}

static void phase(int nthreads, bool locked, bool real, bool bytes)
{
    g.locked = locked;
    g.real = real;
    g.bytes = bytes;
    atomic_store(&g.clock, 0);
    if (locked)
        LFPS_CHECK(lfp_locked_keyed_init(&g.l, 8, RATE, BURST) == 0, "init");
    else
        LFPS_CHECK(lfp_keyed_init(&g.k, 8, RATE, BURST) == 0, "init");
    int64_t start = lfp_now();
    lfps_run(nthreads, worker, NULL);
    int64_t end = lfp_now();
    int64_t *a = malloc((size_t)nthreads * MAX_LOG * sizeof *a);
    LFPS_CHECK(a != NULL, "malloc");
    for (uint32_t key = 0; key < KEYS && a; key++) {
        size_t n = 0;
        for (int t = 0; t < nthreads; t++)
            for (size_t i = 0; i < g.len[t]; i++)
                if (g.log[t][i].key == key)
                    a[n++] = g.log[t][i].at;
        if (!real) {
            check_key(a, n, key);
            continue;
        }
        /* The real clock: a plain take is judged by a reading made at most
         * 256 ns before the call (ratelimit.h, "Time"), so every judged time
         * lies in [start - 256 ns, end]: a total bound only. */
        int64_t span = end - start + 256;
        LFPS_CHECK((int64_t)n <= BURST + span / T, "%s key %u: %zu admissions in %lld ns",
                   g.locked ? "locked" : "keyed", key, n, (long long)span);
    }
    free(a);
    if (locked)
        lfp_locked_keyed_destroy(&g.l);
    else
        lfp_keyed_destroy(&g.k);
}

int main(void)
{
    lfps_init("stress_keyed");
    int nthreads = lfps_threads(6);   /* oversubscribed on 2 cores */
    if (nthreads > 64)
        nthreads = 64;
    for (int t = 0; t < nthreads; t++)
        g.log[t] = malloc(MAX_LOG * sizeof(entry));
    for (int locked = 0; locked < 2; locked++)
        phase(nthreads, locked, false, false);
    lfps_cfg.delay_level = 0;   /* the real-clock phases: no injected ages */
    for (int locked = 0; locked < 2; locked++)
        phase(nthreads, locked, true, locked);
    for (int t = 0; t < nthreads; t++)
        free(g.log[t]);
    return lfps_finish();
}
