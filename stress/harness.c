/* SPDX-License-Identifier: BSD-2-Clause */
#include "harness.h"

#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

lfps_config lfps_cfg;

static const char *prog;
static _Atomic uint64_t checks, failures, ops;

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static long env_long(const char *name, long dflt)
{
    const char *v = getenv(name);
    return v && *v ? strtol(v, NULL, 0) : dflt;
}

void lfps_init(const char *program)
{
    prog = program;
    lfps_cfg.budget_ns = env_long("LFP_STRESS_MS", 300) * 1000000;
    lfps_cfg.threads_override = (int)env_long("LFP_STRESS_THREADS", 0);
    lfps_cfg.delay_level = (int)env_long("LFP_STRESS_DELAY", 0);
    const char *seed = getenv("LFP_STRESS_SEED");
    lfps_cfg.seed = seed && *seed ? strtoull(seed, NULL, 0) : (uint64_t)now_ns();
    printf("%s: seed=%llu budget=%lldms delay=%d\n", prog,
           (unsigned long long)lfps_cfg.seed, (long long)(lfps_cfg.budget_ns / 1000000),
           lfps_cfg.delay_level);
    fflush(stdout);
}

int lfps_threads(int dflt)
{
    return lfps_cfg.threads_override > 0 ? lfps_cfg.threads_override : dflt;
}

void lfps_rng_seed(lfps_rng *r, uint64_t id)
{
    uint64_t z = lfps_cfg.seed + 0x9e3779b97f4a7c15ull * (id + 1);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    r->s = (z ^ (z >> 31)) | 1;
}

uint64_t lfps_rand(lfps_rng *r)
{
    r->s ^= r->s >> 12;
    r->s ^= r->s << 25;
    r->s ^= r->s >> 27;
    return r->s * 0x2545f4914f6cdd1dull;
}

void lfps_delay(lfps_rng *r)
{
    if (lfps_cfg.delay_level <= 0)
        return;
    unsigned roll = (unsigned)lfps_below(r, 64);
    unsigned threshold = lfps_cfg.delay_level >= 2 ? 16 : 3;
    if (roll >= threshold)
        return;
    if (roll & 1) {
        sched_yield();
    } else {
        for (volatile unsigned i = 0, n = (unsigned)lfps_below(r, 2000); i < n; i++)
            ;
    }
}

struct run {
    pthread_barrier_t barrier;
    void (*fn)(lfps_thread *);
};

struct start {
    struct run *run;
    lfps_thread t;
};

static void *trampoline(void *p)
{
    struct start *s = p;
    pthread_barrier_wait(&s->run->barrier);
    s->t.stop_at = now_ns() + lfps_cfg.budget_ns;
    s->run->fn(&s->t);
    return NULL;
}

void lfps_run(int n, void (*fn)(lfps_thread *), void *arg)
{
    struct run run = { .fn = fn };
    pthread_t *tids = calloc((size_t)n, sizeof *tids);
    struct start *st = calloc((size_t)n, sizeof *st);
    if (!tids || !st) {
        fprintf(stderr, "%s: out of memory\n", prog);
        exit(2);
    }
    pthread_barrier_init(&run.barrier, NULL, (unsigned)n);
    for (int i = 0; i < n; i++) {
        st[i].run = &run;
        st[i].t = (lfps_thread){ .id = i, .nthreads = n, .arg = arg };
        lfps_rng_seed(&st[i].t.rng, (uint64_t)i);
        if (pthread_create(&tids[i], NULL, trampoline, &st[i]) != 0) {
            fprintf(stderr, "%s: pthread_create failed\n", prog);
            exit(2);
        }
    }
    for (int i = 0; i < n; i++)
        pthread_join(tids[i], NULL);
    pthread_barrier_destroy(&run.barrier);
    free(tids);
    free(st);
}

bool lfps_go(lfps_thread *t, uint64_t i, uint64_t max_iters)
{
    if (i >= max_iters)
        return false;
    if ((i & 63) == 0 && now_ns() >= t->stop_at)
        return false;
    return true;
}

void lfps_check_(bool ok, const char *file, int line, const char *expr, const char *fmt, ...)
{
    atomic_fetch_add(&checks, 1);
    if (ok)
        return;
    if (atomic_fetch_add(&failures, 1) < 20) {
        va_list ap;
        va_start(ap, fmt);
        fprintf(stderr, "%s: CHECK FAILED %s:%d: %s: ", prog, file, line, expr);
        vfprintf(stderr, fmt, ap);
        fputc('\n', stderr);
        va_end(ap);
    }
}

void lfps_ops(uint64_t n)
{
    atomic_fetch_add(&ops, n);
}

int lfps_finish(void)
{
    unsigned long long c = atomic_load(&checks), f = atomic_load(&failures), o = atomic_load(&ops);
    printf("%s: %llu checks, %llu failures, %llu ops\n", prog, c, f, o);
    if (c == 0) {
        printf("%s: FAIL: no invariant was checked\n", prog);
        return 1;
    }
    return f ? 1 : 0;
}
