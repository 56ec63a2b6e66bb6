/* SPDX-License-Identifier: BSD-2-Clause */
/* Pattern benchmarks: wait group, future, broadcast (and, with the later
 * families, breaker), lfpat vs its mutex twin in the same run.
 *
 *   waitgroup/add_done    add(1) + done() pairs, 1/2/4 threads on one group
 *   future/set_get        init + set + try_get + destroy, 1 thread
 *   future/get_ready      get on a set future (the shared fast path), 1/2/4
 *   breaker/allow         allow() on a CLOSED breaker, 1/2/4 threads
 *   breaker/allow_record  allow() + record(success), 1/2/4 threads
 *   broadcast/1p2s        1 publisher, 2 blocking subscribers, capacity 1024;
 *                         own pthread harness, one wall clock; items =
 *                         messages delivered (both subscribers together).
 *                         The publisher keeps within half a ring of the
 *                         slower subscriber (a progress word per subscriber,
 *                         stored every 64 messages, the same for both
 *                         implementations), so the run measures lossless
 *                         delivery, not how much the scheduler lets a
 *                         free-running publisher overwrite; delivered_frac
 *                         reports the share delivered. While too far ahead
 *                         the publisher parks (lfp_ec_await) instead of
 *                         yield-spinning: 3 threads share 2 cores here, and
 *                         a spinning publisher takes the core the subscriber
 *                         it waits for needs. Throughput depends on whether
 *                         the scheduler puts all three threads on one core
 *                         (no cache-line traffic) or spreads them; compare
 *                         implementations only within one run, ideally with
 *                         --benchmark_enable_random_interleaving=true.
 *   pool/submit           worker pool of 2 workers, queue of 256: 1 or 2
 *                         submitter threads each submit rounds of 64 tiny
 *                         tasks (blocking submit) and wait for all 64
 *                         results; own pthread harness, one wall clock from
 *                         the start barrier to the last submitter's end;
 *                         items = tasks run. Pool start/stop is untimed.
 */
#include <pthread.h>

#include "lfpat.h"
#include "shim/shim.h"

#define BATCH 256

static lfp_waitgroup wg;
static lfp_locked_waitgroup lwg;
static lfp_future ready_future;
static lfp_locked_future ready_lfuture;

#define BATCH_BENCH(fname, stmt)                                         \
    static void fname(lfpb_state *st, void *arg)                         \
    {                                                                    \
        (void)arg;                                                       \
        while (lfpb_keep_running_batch(st, BATCH))                       \
            for (int i = 0; i < BATCH; i++) {                            \
                stmt;                                                    \
            }                                                            \
        lfpb_set_items(st, lfpb_iterations(st));                         \
    }

BATCH_BENCH(bm_wg, lfp_waitgroup_add(&wg, 1); lfp_waitgroup_done(&wg))
BATCH_BENCH(bm_lwg, lfp_locked_waitgroup_add(&lwg, 1); lfp_locked_waitgroup_done(&lwg))

BATCH_BENCH(bm_fut_set_get, lfp_future f; lfp_future_init(&f); lfp_future_set(&f, &f, 0);
            void *v = NULL; lfp_future_try_get(&f, &v, NULL); lfpb_do_not_optimize(v);
            lfp_future_destroy(&f))
BATCH_BENCH(bm_lfut_set_get, lfp_locked_future f; lfp_locked_future_init(&f);
            lfp_locked_future_set(&f, &f, 0); void *v = NULL; lfp_locked_future_try_get(&f, &v, NULL);
            lfpb_do_not_optimize(v); lfp_locked_future_destroy(&f))
BATCH_BENCH(bm_fut_get_ready, void *v = NULL;
            lfp_future_get(&ready_future, &v, NULL, LFP_FOREVER, NULL); lfpb_do_not_optimize(v))
BATCH_BENCH(bm_lfut_get_ready, void *v = NULL;
            lfp_locked_future_get(&ready_lfuture, &v, NULL, LFP_FOREVER, NULL);
            lfpb_do_not_optimize(v))

static lfp_breaker brk;
static lfp_locked_breaker lbrk;

/* allow() results are summed and kept once per run, so that no call into
 * the shim sits in the timed loop. */
#define ALLOW_BENCH(fname, allow_call)                                   \
    static void fname(lfpb_state *st, void *arg)                         \
    {                                                                    \
        (void)arg;                                                       \
        uint64_t sum = 0;                                                \
        while (lfpb_keep_running_batch(st, BATCH))                       \
            for (int i = 0; i < BATCH; i++) {                            \
                lfp_breaker_ticket t = { 0, false };                     \
                sum += (uint64_t)allow_call + t.gen;                     \
            }                                                            \
        lfpb_do_not_optimize(&sum);                                      \
        lfpb_set_items(st, lfpb_iterations(st));                         \
    }

ALLOW_BENCH(bm_brk_allow, lfp_breaker_allow(&brk, &t))
ALLOW_BENCH(bm_lbrk_allow, lfp_locked_breaker_allow(&lbrk, &t))
BATCH_BENCH(bm_brk_allow_record, lfp_breaker_ticket t; lfp_breaker_allow(&brk, &t);
            lfp_breaker_record(&brk, t, true))
BATCH_BENCH(bm_lbrk_allow_record, lfp_breaker_ticket t; lfp_locked_breaker_allow(&lbrk, &t);
            lfp_locked_breaker_record(&lbrk, t, true))

/* ------------------------------------------------------------ broadcast */

#define BC_MESSAGES (1 << 16)
#define BC_CAPACITY 1024

typedef struct bc_impl {
    int (*init)(void *, size_t);
    void (*destroy)(void *);
    int (*publish)(void *, void *);
    void (*close)(void *);
    int (*subscribe)(void *, void *);
    int (*recv)(void *, void **, uint64_t *, int64_t, lfp_cancel *);
} bc_impl;

static int lf_init(void *b, size_t n) { return lfp_broadcast_init(b, n); }
static void lf_destroy(void *b) { lfp_broadcast_destroy(b); }
static int lf_pub(void *b, void *v) { return lfp_broadcast_publish(b, v); }
static void lf_close(void *b) { lfp_broadcast_close(b); }
static int lf_sub(void *b, void *s) { return lfp_broadcast_subscribe(b, s); }
static int lf_recv(void *s, void **v, uint64_t *m, int64_t d, lfp_cancel *c)
{
    return lfp_broadcast_recv(s, v, m, d, c);
}
static int lk_init(void *b, size_t n) { return lfp_locked_broadcast_init(b, n); }
static void lk_destroy(void *b) { lfp_locked_broadcast_destroy(b); }
static int lk_pub(void *b, void *v) { return lfp_locked_broadcast_publish(b, v); }
static void lk_close(void *b) { lfp_locked_broadcast_close(b); }
static int lk_sub(void *b, void *s) { return lfp_locked_broadcast_subscribe(b, s); }
static int lk_recv(void *s, void **v, uint64_t *m, int64_t d, lfp_cancel *c)
{
    return lfp_locked_broadcast_recv(s, v, m, d, c);
}

static const bc_impl bc_lfp = { lf_init, lf_destroy, lf_pub, lf_close, lf_sub, lf_recv };
static const bc_impl bc_locked = { lk_init, lk_destroy, lk_pub, lk_close, lk_sub, lk_recv };

#define BC_STEP 64   /* flow-control granularity (divides BC_CAPACITY / 2) */

struct bc_run {
    const bc_impl *impl;
    union { lfp_broadcast a; lfp_locked_broadcast b; } bc;
    union { lfp_broadcast_sub a; lfp_locked_broadcast_sub b; } sub[2];
    pthread_barrier_t start;
    uint64_t delivered[2];
    /* flow control: messages received, stored every BC_STEP */
    struct { _Alignas(64) _Atomic uint64_t seen; } progress[2];
    _Alignas(64) lfp_ec room;     /* the publisher parks here while too far ahead */
};

struct bc_thread {
    struct bc_run *run;
    int id;   /* 0 publisher, 1..2 subscribers */
};

struct bc_room {
    struct bc_run *run;
    uint64_t next;   /* the position the publisher is about to publish */
};

/* EAGAIN while the publisher is more than half a ring ahead of a subscriber. */
static int bc_room_try(void *arg)
{
    struct bc_room *a = arg;
    for (int k = 0; k < 2; k++)
        /* relaxed: ordered by the eventcount's SB fences (lfp_ec_await's
         * prepare, the subscriber's notify); the value publishes nothing. */
        if (a->next - atomic_load_explicit(&a->run->progress[k].seen, memory_order_relaxed) >
            BC_CAPACITY / 2)
            return EAGAIN;
    return 0;
}

static void *bc_body(void *arg)
{
    struct bc_thread *t = arg;
    struct bc_run *r = t->run;
    pthread_barrier_wait(&r->start);
    if (t->id == 0) {
        for (uintptr_t i = 0; i < BC_MESSAGES; i++) {
            if (i % BC_STEP == 0) {   /* flow control: park while too far ahead */
                struct bc_room room = { r, i };
                lfp_ec_await(&r->room, bc_room_try, &room, LFP_FOREVER, NULL, false);
            }
            r->impl->publish(&r->bc, (void *)i);
        }
        r->impl->close(&r->bc);
        return NULL;
    }
    void *v;
    uint64_t missed, n = 0;
    while (r->impl->recv(&r->sub[t->id - 1], &v, &missed, LFP_FOREVER, NULL) == 0) {
        n++;
        if (((uintptr_t)v + 1) % BC_STEP == 0) {
            /* relaxed: the notify's fence orders it (see bc_room_try). */
            atomic_store_explicit(&r->progress[t->id - 1].seen, (uintptr_t)v + 1,
                                  memory_order_relaxed);
            lfp_ec_notify_one(&r->room);
        }
    }
    r->delivered[t->id - 1] = n;
    return NULL;
}

static void bm_broadcast(lfpb_state *st, void *arg)
{
    static struct bc_run r;
    int64_t items = 0;
    r.impl = arg;
    while (lfpb_keep_running(st)) {
        r.impl->init(&r.bc, BC_CAPACITY);
        atomic_store(&r.progress[0].seen, 0);
        atomic_store(&r.progress[1].seen, 0);
        lfp_ec_init(&r.room);
        for (int i = 0; i < 2; i++)
            r.impl->subscribe(&r.bc, &r.sub[i]);
        pthread_barrier_init(&r.start, NULL, 4);
        pthread_t th[3];
        struct bc_thread args[3];
        for (int i = 0; i < 3; i++) {
            args[i] = (struct bc_thread){ &r, i };
            pthread_create(&th[i], NULL, bc_body, &args[i]);
        }
        pthread_barrier_wait(&r.start);
        int64_t t0 = lfp_now();
        for (int i = 0; i < 3; i++)
            pthread_join(th[i], NULL);
        lfpb_set_iteration_time(st, (double)(lfp_now() - t0) * 1e-9);
        items += (int64_t)(r.delivered[0] + r.delivered[1]);
        pthread_barrier_destroy(&r.start);
        r.impl->destroy(&r.bc);
    }
    lfpb_set_items(st, items);
    lfpb_set_counter(st, "delivered_frac",
                     (double)items / (2.0 * BC_MESSAGES * (double)lfpb_iterations(st)));
}

/* ------------------------------------------------------------ worker pool */

#define POOL_WORKERS 2
#define POOL_CAPACITY 256
#define POOL_ROUND 64                 /* tasks in flight per submitter */
#define POOL_TASKS (1 << 14)          /* per submitter per iteration */

typedef struct pool_impl {
    int (*init)(void *, unsigned, size_t);
    void (*destroy)(void *);
    int (*task_init)(void *, lfp_pool_fn, void *);
    void (*task_destroy)(void *);
    int (*submit)(void *, void *, int64_t, lfp_cancel *);
    int (*task_wait)(void *, void **, int64_t, lfp_cancel *);
} pool_impl;

static int pl_init(void *p, unsigned n, size_t c) { return lfp_pool_init(p, n, c); }
static void pl_destroy(void *p) { lfp_pool_destroy(p); }
static int pl_task_init(void *t, lfp_pool_fn fn, void *a) { return lfp_pool_task_init(t, fn, a); }
static void pl_task_destroy(void *t) { lfp_pool_task_destroy(t); }
static int pl_submit(void *p, void *t, int64_t d, lfp_cancel *c) { return lfp_pool_submit(p, t, d, c); }
static int pl_wait(void *t, void **r, int64_t d, lfp_cancel *c) { return lfp_pool_task_wait(t, r, d, c); }
static int lpl_init(void *p, unsigned n, size_t c) { return lfp_locked_pool_init(p, n, c); }
static void lpl_destroy(void *p) { lfp_locked_pool_destroy(p); }
static int lpl_task_init(void *t, lfp_pool_fn fn, void *a)
{
    return lfp_locked_pool_task_init(t, fn, a);
}
static void lpl_task_destroy(void *t) { lfp_locked_pool_task_destroy(t); }
static int lpl_submit(void *p, void *t, int64_t d, lfp_cancel *c)
{
    return lfp_locked_pool_submit(p, t, d, c);
}
static int lpl_wait(void *t, void **r, int64_t d, lfp_cancel *c)
{
    return lfp_locked_pool_task_wait(t, r, d, c);
}

static const pool_impl pool_lfp = { pl_init, pl_destroy, pl_task_init, pl_task_destroy,
                                    pl_submit, pl_wait };
static const pool_impl pool_locked = { lpl_init, lpl_destroy, lpl_task_init, lpl_task_destroy,
                                       lpl_submit, lpl_wait };

struct pool_run {
    const pool_impl *impl;
    union { lfp_pool a; lfp_locked_pool b; } pool;
    pthread_barrier_t start;
    _Atomic uint64_t bad;             /* results that were not the task's argument */
};

/* The tiny task: hand its argument back. */
static void *pool_echo(void *arg) { return arg; }

static void *pool_submitter(void *arg)
{
    struct pool_run *r = arg;
    union { lfp_pool_task a; lfp_locked_pool_task b; } task[POOL_ROUND];
    uint64_t bad = 0;
    pthread_barrier_wait(&r->start);
    for (int done = 0; done < POOL_TASKS; done += POOL_ROUND) {
        for (uintptr_t i = 0; i < POOL_ROUND; i++) {
            r->impl->task_init(&task[i], pool_echo, (void *)i);
            r->impl->submit(&r->pool, &task[i], LFP_FOREVER, NULL);
        }
        for (uintptr_t i = 0; i < POOL_ROUND; i++) {
            void *v = NULL;
            bad += r->impl->task_wait(&task[i], &v, LFP_FOREVER, NULL) != 0 || v != (void *)i;
            r->impl->task_destroy(&task[i]);
        }
    }
    atomic_fetch_add(&r->bad, bad);
    return NULL;
}

static void bm_pool(lfpb_state *st, void *arg, int submitters)
{
    static struct pool_run r;
    r.impl = arg;
    atomic_store(&r.bad, 0);
    while (lfpb_keep_running(st)) {
        r.impl->init(&r.pool, POOL_WORKERS, POOL_CAPACITY);
        pthread_barrier_init(&r.start, NULL, (unsigned)submitters + 1);
        pthread_t th[2];
        for (int i = 0; i < submitters; i++)
            pthread_create(&th[i], NULL, pool_submitter, &r);
        pthread_barrier_wait(&r.start);
        int64_t t0 = lfp_now();
        for (int i = 0; i < submitters; i++)
            pthread_join(th[i], NULL);
        lfpb_set_iteration_time(st, (double)(lfp_now() - t0) * 1e-9);
        pthread_barrier_destroy(&r.start);
        r.impl->destroy(&r.pool);
    }
    if (atomic_load(&r.bad) != 0)
        lfpb_skip_with_error(st, "a task returned the wrong result");
    lfpb_set_items(st, lfpb_iterations(st) * submitters * POOL_TASKS);
}

static void bm_pool_1(lfpb_state *st, void *arg) { bm_pool(st, arg, 1); }
static void bm_pool_2(lfpb_state *st, void *arg) { bm_pool(st, arg, 2); }

LFPB_REGISTER(patterns)
{
    lfp_waitgroup_init(&wg);
    lfp_locked_waitgroup_init(&lwg);
    lfp_future_init(&ready_future);
    lfp_future_set(&ready_future, &ready_future, 0);
    lfp_locked_future_init(&ready_lfuture);
    lfp_locked_future_set(&ready_lfuture, &ready_lfuture, 0);
    struct lfp_breaker_config bc = { .failure_threshold = 5, .window_ns = 1000000000,
                                     .window_buckets = 10, .open_ns = 1000000000,
                                     .max_probes = 1, .close_after = 1 };
    lfp_breaker_init(&brk, &bc);
    lfp_locked_breaker_init(&lbrk, &bc);
    static const int threads[] = { 1, 2, 4 };
    for (unsigned i = 0; i < sizeof threads / sizeof threads[0]; i++) {
        int t = threads[i];
        lfpb_register("waitgroup/add_done/lfp_waitgroup", bm_wg, NULL, t);
        lfpb_register("waitgroup/add_done/lfp_locked_waitgroup", bm_lwg, NULL, t);
        lfpb_register("future/get_ready/lfp_future", bm_fut_get_ready, NULL, t);
        lfpb_register("future/get_ready/lfp_locked_future", bm_lfut_get_ready, NULL, t);
        lfpb_register("breaker/allow/lfp_breaker", bm_brk_allow, NULL, t);
        lfpb_register("breaker/allow/lfp_locked_breaker", bm_lbrk_allow, NULL, t);
        lfpb_register("breaker/allow_record/lfp_breaker", bm_brk_allow_record, NULL, t);
        lfpb_register("breaker/allow_record/lfp_locked_breaker", bm_lbrk_allow_record, NULL, t);
    }
    lfpb_register("future/set_get/lfp_future", bm_fut_set_get, NULL, 1);
    lfpb_register("future/set_get/lfp_locked_future", bm_lfut_set_get, NULL, 1);
    lfpb_register_manual("broadcast/1p2s/lfp_broadcast/threads:3", bm_broadcast,
                         (void *)&bc_lfp);
    lfpb_register_manual("broadcast/1p2s/lfp_locked_broadcast/threads:3", bm_broadcast,
                         (void *)&bc_locked);
    lfpb_register_manual("pool/submit/lfp_pool/workers:2/threads:1", bm_pool_1,
                         (void *)&pool_lfp);
    lfpb_register_manual("pool/submit/lfp_locked_pool/workers:2/threads:1", bm_pool_1,
                         (void *)&pool_locked);
    lfpb_register_manual("pool/submit/lfp_pool/workers:2/threads:2", bm_pool_2,
                         (void *)&pool_lfp);
    lfpb_register_manual("pool/submit/lfp_locked_pool/workers:2/threads:2", bm_pool_2,
                         (void *)&pool_locked);
}
