/* SPDX-License-Identifier: BSD-2-Clause */
/* lfpat/locked/pool.h — lfp_locked_pool, the mutex twin of lfp_pool
 * (lfpat/pool.h).
 * What every twin promises (progress, ordering, Copying, Fork):
 * lfpat/locked.h, which includes this header. */
#ifndef LFPAT_LOCKED_POOL_H
#define LFPAT_LOCKED_POOL_H

#include <pthread.h>

#include "lfpat/pool.h"
#include "lfpat/locked/future.h"
#include "lfpat/locked/queue.h"
#include "lfpat/locked/waitgroup.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The worker-pool twin, built the obvious way: a mutex and two condition
 * variables guard the task ring (lfp_locked_queue) that feeds the workers,
 * each task's result is an lfp_locked_future (mutex + condition variable),
 * the workers are counted by an lfp_locked_waitgroup, and the shutdown flag
 * and counters sit under one more mutex. Same calls, return codes and
 * shutdown contract as lfp_pool (pool.h); the capacity is used as given.
 * A task's future holds a mutex: destroy a task
 * (lfp_locked_pool_task_destroy) once its run has been waited for, before
 * preparing it again. Progress: blocking (mutexes). */

typedef struct lfp_locked_pool_task {
    lfp_pool_fn fn;
    void *arg;
    lfp_locked_future done;       /* value: fn's result; error: 0 ran, EPIPE not run */
} lfp_locked_pool_task;

typedef struct lfp_locked_pool {
    lfp_locked_queue queue;       /* of lfp_locked_pool_task * */
    pthread_t *threads;
    unsigned nthreads;
    lfp_locked_waitgroup running; /* workers not yet exited */
    pthread_mutex_t lock;         /* guards the three fields below */
    bool abandon;                 /* shutdown's deadline passed: stop taking tasks */
    uint64_t ran, not_run;
} lfp_locked_pool;

LFP_API int  lfp_locked_pool_init(lfp_locked_pool *p, unsigned threads, size_t capacity);
LFP_API void lfp_locked_pool_destroy(lfp_locked_pool *p);
LFP_API int  lfp_locked_pool_task_init(lfp_locked_pool_task *t, lfp_pool_fn fn, void *arg);
LFP_API void lfp_locked_pool_task_destroy(lfp_locked_pool_task *t);
LFP_API int  lfp_locked_pool_try_submit(lfp_locked_pool *p, lfp_locked_pool_task *t);
LFP_API int  lfp_locked_pool_submit(lfp_locked_pool *p, lfp_locked_pool_task *t,
                                    int64_t deadline, lfp_cancel *cancel);
LFP_API int  lfp_locked_pool_task_wait(lfp_locked_pool_task *t, void **result,
                                       int64_t deadline, lfp_cancel *cancel);
LFP_API int  lfp_locked_pool_shutdown(lfp_locked_pool *p, int64_t deadline, uint64_t *not_run);
LFP_API uint64_t lfp_locked_pool_ran(lfp_locked_pool *p);
LFP_API uint64_t lfp_locked_pool_not_run(lfp_locked_pool *p);

#ifdef __cplusplus
}
#endif
#endif
