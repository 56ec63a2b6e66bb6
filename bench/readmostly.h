/* SPDX-License-Identifier: BSD-2-Clause */
/* bench/readmostly.h — the read-mostly mixer of issue 18, shared byte for byte
 * by bench_rwlock.c, bench_seqlock.c and bench_snap.c. Header-only; include it
 * from one benchmark file (every function is static).
 *
 * What it measures. An implementation (rm_impl: a lock, a seqlock, an RCU
 * pointer, a peer) guards a payload. Worker threads run a mix of read-side
 * operations (enter, read and check the payload, leave) and writes (replace
 * the payload) over a fixed window of wall time; one global wall clock per
 * window, workers pinned round robin to the CPUs the process may use (as
 * bench_sem.c's contended cases, for the same reason: unpinned, two workers
 * sometimes share a CPU and take turns instead of contending).
 *
 * Cases, registered by rm_register_grid(family, impl) as
 * "<family>/<case>/<impl>/threads:N" (manual time, scripts/bench_report.py's
 * naming):
 *   mix_w0, mix_w0.1, mix_w1, mix_w10   write fraction 0 / 0.1 / 1 / 10 % of
 *                    every thread's operations, at 1, 2 and 4 threads (4 =
 *                    oversubscribed on this 2-core machine). items = all
 *                    operations (reads + writes). mix_w0 at 1 thread is the
 *                    read-side cost (counter ns_per_op).
 *   scale_2v1        0 % writes; every iteration runs one 1-thread and one
 *                    2-thread window, interleaved (paired). Counter
 *                    ratio_2v1 = per-op time of a reader with 2 readers /
 *                    per-op time with 1 reader, over all pairs: a read side
 *                    that writes no shared line stays near 1.0; one shared
 *                    counter line makes it several times larger. items =
 *                    operations of the 2-thread windows. Registered as
 *                    threads:2.
 *   writer           thread 0 writes back to back, the others only read, at
 *                    2 and 4 threads: read throughput (items = reads only)
 *                    and reader p99 beside a writer that never stops, and
 *                    when oversubscribed a writer that is preempted inside
 *                    its write section.
 * Writes are spread evenly: a thread writes every P-th operation (P = 1000,
 * 100, 10), the threads' phases staggered by P / threads, so the schedule is
 * the same for every implementation.
 *
 * Counters (every case): ns_per_op (wall ns per counted operation per thread
 * that counts them: in writer, per read per reader thread), reads,
 * writes, read_p50_ns / read_p99_ns (every 64th read is timed on its own),
 * write_p50_ns / write_p99_ns / write_max_ns (every write is timed; max is
 * exact, percentiles are from a log-linear histogram with 1/32 relative
 * resolution, reported as the upper edge of their bucket). Latencies include
 * one clock_gettime pair (~25-30 ns here, TOOLCHAIN.md): the floor of a
 * sampled read, not the read's own cost — compare ns_per_op for that.
 * Percentiles merge every window of the case (all repetitions' iterations
 * of one benchmark run).
 *
 * Checks: read() returns non-zero when it saw an inconsistent payload (torn
 * or mixed words); any such read, or a write() that fails, fails the case
 * (lfpb_skip_with_error), so nothing is optimised away unseen and a broken
 * implementation cannot report a number.
 *
 * An implementation supplies:
 *     static rm_impl my = { .name = "lfp_rwlock", .obj = &lock,
 *                           .read = my_read, .write = my_write };
 *     LFPB_REGISTER(rwlock) { ...init lock...; rm_register_grid("rwlock", &my); }
 * thread_init / thread_fini (optional) run on each worker thread before and
 * after its window (rcu_register_thread, a ck_brlock reader record), and
 * their per-thread pointer is passed to every call; idle (optional) runs
 * every 64 operations outside any read section (a qsbr quiescent state).
 * The rm_impl and its obj must outlive the benchmark run. */
#ifndef LFPB_READMOSTLY_H
#define LFPB_READMOSTLY_H

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "shim/shim.h"

typedef struct rm_impl {
    const char *name;   /* the <impl> part of the benchmark name */
    void *obj;          /* the shared object, set up by the benchmark file */
    void *(*thread_init)(void *obj, int idx);          /* optional */
    void (*thread_fini)(void *obj, void *ts);          /* optional */
    int (*read)(void *obj, void *ts);                  /* 0 = consistent payload */
    int (*write)(void *obj, void *ts, uint64_t value); /* 0 = done */
    void (*idle)(void *obj, void *ts);                 /* optional, outside reads */
} rm_impl;

enum { RM_MIXED, RM_SCALE, RM_WRITER };

#define RM_MAX_THREADS 8
#define RM_WINDOW_NS 20000000   /* 20 ms per measured window */
#define RM_BATCH 64             /* ops between stop checks, idle calls, read samples */
#define RM_SUB 32               /* histogram: 32 sub-buckets per power of two */
#define RM_BUCKETS (2 * RM_SUB + 58 * RM_SUB)

typedef struct rm_hist {
    uint64_t n[RM_BUCKETS];
    uint64_t count, max;
} rm_hist;

static inline unsigned rm_bucket(uint64_t v)
{
    if (v < 2 * RM_SUB)
        return (unsigned)v;
    unsigned msb = 63u - (unsigned)__builtin_clzll(v);
    unsigned shift = msb - 5;   /* keeps the top 6 bits: 32 + sub-bucket */
    return 2 * RM_SUB + (msb - 6) * RM_SUB + (unsigned)((v >> shift) - RM_SUB);
}

/* The largest value bucket b holds. */
static inline uint64_t rm_bucket_top(unsigned b)
{
    if (b < 2 * RM_SUB)
        return b;
    unsigned k = b - 2 * RM_SUB, msb = k / RM_SUB + 6, shift = msb - 5;
    uint64_t top = RM_SUB + k % RM_SUB;
    return ((top + 1) << shift) - 1;
}

static inline void rm_hist_add(rm_hist *h, uint64_t v)
{
    h->n[rm_bucket(v)]++;
    h->count++;
    if (v > h->max)
        h->max = v;
}

static void rm_hist_merge(rm_hist *into, const rm_hist *h)
{
    for (unsigned b = 0; b < RM_BUCKETS; b++)
        into->n[b] += h->n[b];
    into->count += h->count;
    if (h->max > into->max)
        into->max = h->max;
}

/* The q-quantile (0 < q <= 1) as its bucket's upper edge; 0 if empty. */
static uint64_t rm_hist_quantile(const rm_hist *h, double q)
{
    if (h->count == 0)
        return 0;
    uint64_t want = (uint64_t)(q * (double)h->count + 0.5), seen = 0;
    if (want == 0)
        want = 1;
    for (unsigned b = 0; b < RM_BUCKETS; b++) {
        seen += h->n[b];
        if (seen >= want)
            return rm_bucket_top(b) < h->max ? rm_bucket_top(b) : h->max;
    }
    return h->max;
}

static inline uint64_t rm_clock(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

typedef struct rm_case {
    const rm_impl *impl;
    int mode, threads;
    unsigned period;     /* RM_MIXED: write every period-th op; 0 = never */
    /* accumulated over the case's windows, under lock */
    pthread_mutex_t lock;
    rm_hist reads, writes;
    uint64_t nreads, nwrites;
    double ns_1, ops_1, ns_2, ops_2;   /* RM_SCALE: per-thread ns and ops */
    int bad;
} rm_case;

typedef struct rm_window {
    rm_case *c;
    int threads;
    pthread_barrier_t start;
    _Atomic int stop;
    _Atomic uint64_t ops;   /* counted operations of the window */
} rm_window;

typedef struct rm_worker {
    rm_window *w;
    int idx;
} rm_worker;

/* One thread's share of a window: a schedule of reads and writes until stop. */
static void rm_run_ops(rm_window *w, int idx, void *ts, rm_hist *rh, rm_hist *wh,
                       uint64_t *nr, uint64_t *nw, int *bad)
{
    const rm_impl *im = w->c->impl;
    int writer_only = w->c->mode == RM_WRITER && idx == 0;
    int reader_only = w->c->mode == RM_SCALE || (w->c->mode == RM_WRITER && idx != 0);
    unsigned period = w->c->mode == RM_MIXED ? w->c->period : 0;
    /* The first write of thread idx comes after a staggered phase. */
    unsigned left = period ? period - (unsigned)((uint64_t)period * (unsigned)idx /
                                                 (unsigned)w->threads) : 0;
    uint64_t value = (uint64_t)(idx + 1) << 48;
    /* relaxed: the stop flag only ends the loop; the join orders the rest. */
    while (!atomic_load_explicit(&w->stop, memory_order_relaxed)) {
        for (int i = 0; i < RM_BATCH; i++) {
            int write = writer_only || (!reader_only && period && --left == 0);
            if (write) {
                left = period;
                uint64_t t0 = rm_clock();
                *bad |= im->write(im->obj, ts, ++value) != 0;
                rm_hist_add(wh, rm_clock() - t0);
                (*nw)++;
            } else if (i == 0) {
                uint64_t t0 = rm_clock();
                *bad |= im->read(im->obj, ts) != 0;
                rm_hist_add(rh, rm_clock() - t0);
                (*nr)++;
            } else {
                *bad |= im->read(im->obj, ts) != 0;
                (*nr)++;
            }
        }
        if (im->idle)
            im->idle(im->obj, ts);
    }
}

static void *rm_worker_main(void *p)
{
    rm_worker *wk = p;
    rm_window *w = wk->w;
    rm_case *c = w->c;
    const rm_impl *im = c->impl;
    rm_hist *rh = calloc(2, sizeof *rh), *wh = rh ? rh + 1 : NULL;
    uint64_t nr = 0, nw = 0;
    int bad = rh == NULL;
    void *ts = im->thread_init ? im->thread_init(im->obj, wk->idx) : NULL;
    pthread_barrier_wait(&w->start);
    if (rh)
        rm_run_ops(w, wk->idx, ts, rh, wh, &nr, &nw, &bad);
    if (im->thread_fini)
        im->thread_fini(im->obj, ts);
    int count_writes = !(c->mode == RM_WRITER);
    atomic_fetch_add(&w->ops, nr + (count_writes ? nw : 0));
    pthread_mutex_lock(&c->lock);
    if (rh) {
        rm_hist_merge(&c->reads, rh);
        rm_hist_merge(&c->writes, wh);
    }
    c->nreads += nr;
    c->nwrites += nw;
    c->bad |= bad;
    pthread_mutex_unlock(&c->lock);
    free(rh);
    return NULL;
}

/* Pin the thread made with attr to the i-th CPU (round robin) of those the
 * process may run on; leave it unpinned if they cannot be read. */
static void rm_pin(pthread_attr_t *attr, int i)
{
    cpu_set_t allowed, one;
    if (sched_getaffinity(0, sizeof allowed, &allowed) != 0)
        return;
    int k = i % CPU_COUNT(&allowed);
    CPU_ZERO(&one);
    for (int cpu = 0; cpu < CPU_SETSIZE; cpu++)
        if (CPU_ISSET(cpu, &allowed) && k-- == 0) {
            CPU_SET(cpu, &one);
            pthread_attr_setaffinity_np(attr, sizeof one, &one);
            return;
        }
}

/* One window of `threads` workers; returns its wall time in ns and stores
 * the operations it counted in *ops. */
static uint64_t rm_window_run(rm_case *c, int threads, uint64_t *ops)
{
    rm_window w = { .c = c, .threads = threads };
    rm_worker wk[RM_MAX_THREADS];
    pthread_t tid[RM_MAX_THREADS];
    pthread_barrier_init(&w.start, NULL, (unsigned)threads + 1);
    for (int i = 0; i < threads; i++) {
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        rm_pin(&attr, i);
        wk[i] = (rm_worker){ &w, i };
        if (pthread_create(&tid[i], &attr, rm_worker_main, &wk[i]) != 0)
            abort();   /* a benchmark that cannot start its threads has no result */
        pthread_attr_destroy(&attr);
    }
    pthread_barrier_wait(&w.start);
    uint64_t t0 = rm_clock();
    struct timespec ts = { 0, RM_WINDOW_NS };
    nanosleep(&ts, NULL);
    atomic_store(&w.stop, 1);
    for (int i = 0; i < threads; i++)
        pthread_join(tid[i], NULL);
    uint64_t ns = rm_clock() - t0;
    pthread_barrier_destroy(&w.start);
    *ops = atomic_load(&w.ops);
    return ns;
}

static void rm_bench(lfpb_state *st, void *arg)
{
    rm_case *c = arg;
    pthread_mutex_lock(&c->lock);
    memset(&c->reads, 0, sizeof c->reads);
    memset(&c->writes, 0, sizeof c->writes);
    c->nreads = c->nwrites = 0;
    c->ns_1 = c->ops_1 = c->ns_2 = c->ops_2 = 0;
    c->bad = 0;
    pthread_mutex_unlock(&c->lock);

    int64_t items = 0;
    double ns_total = 0;
    while (lfpb_keep_running(st)) {
        uint64_t ops;
        if (c->mode == RM_SCALE) {
            uint64_t ns1 = rm_window_run(c, 1, &ops);
            c->ns_1 += (double)ns1;
            c->ops_1 += (double)ops;
        }
        uint64_t ns = rm_window_run(c, c->threads, &ops);
        if (c->mode == RM_SCALE) {
            c->ns_2 += (double)ns;
            c->ops_2 += (double)ops / 2;
        }
        lfpb_set_iteration_time(st, (double)ns * 1e-9);
        items += (int64_t)ops;
        ns_total += (double)ns;
    }
    if (c->bad) {
        lfpb_skip_with_error(st, "inconsistent read or failed write");
        return;
    }
    lfpb_set_items(st, items);
    int counted = c->mode == RM_WRITER ? c->threads - 1 : c->threads;   /* the readers */
    if (items > 0)
        lfpb_set_counter(st, "ns_per_op", ns_total * counted / (double)items);
    lfpb_set_counter(st, "reads", (double)c->nreads);
    lfpb_set_counter(st, "writes", (double)c->nwrites);
    lfpb_set_counter(st, "read_p50_ns", (double)rm_hist_quantile(&c->reads, 0.50));
    lfpb_set_counter(st, "read_p99_ns", (double)rm_hist_quantile(&c->reads, 0.99));
    if (c->writes.count) {
        lfpb_set_counter(st, "write_p50_ns", (double)rm_hist_quantile(&c->writes, 0.50));
        lfpb_set_counter(st, "write_p99_ns", (double)rm_hist_quantile(&c->writes, 0.99));
        lfpb_set_counter(st, "write_max_ns", (double)c->writes.max);
    }
    if (c->mode == RM_SCALE && c->ops_1 > 0 && c->ops_2 > 0)
        lfpb_set_counter(st, "ratio_2v1", (c->ns_2 / c->ops_2) / (c->ns_1 / c->ops_1));
}

static void rm_register_case(const char *family, const char *cname, const rm_impl *impl,
                             int mode, int threads, unsigned period)
{
    rm_case *c = calloc(1, sizeof *c);
    if (!c)
        abort();
    c->impl = impl;
    c->mode = mode;
    c->threads = threads;
    c->period = period;
    pthread_mutex_init(&c->lock, NULL);
    char name[160];
    snprintf(name, sizeof name, "%s/%s/%s/threads:%d", family, cname, impl->name, threads);
    lfpb_register_manual(name, rm_bench, c);
}

/* Every case of the grid above for one implementation. */
static void rm_register_grid(const char *family, const rm_impl *impl)
{
    static const struct { const char *name; unsigned period; } mixes[] = {
        { "mix_w0", 0 }, { "mix_w0.1", 1000 }, { "mix_w1", 100 }, { "mix_w10", 10 },
    };
    static const int threads[] = { 1, 2, 4 };
    for (size_t m = 0; m < sizeof mixes / sizeof mixes[0]; m++)
        for (size_t t = 0; t < sizeof threads / sizeof threads[0]; t++)
            rm_register_case(family, mixes[m].name, impl, RM_MIXED, threads[t],
                             mixes[m].period);
    rm_register_case(family, "scale_2v1", impl, RM_SCALE, 2, 0);
    rm_register_case(family, "writer", impl, RM_WRITER, 2, 0);
    rm_register_case(family, "writer", impl, RM_WRITER, 4, 0);
}

#endif
