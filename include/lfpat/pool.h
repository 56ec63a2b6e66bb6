/* SPDX-License-Identifier: BSD-2-Clause */
/* lfpat/pool.h — worker pool: a fixed set of threads fed by an lfp_mpmc
 * queue, with backpressure, ordered results and a graceful shutdown that
 * never loses accepted work silently.
 *
 * A task is caller-allocated (lfp_pool_task): a function, its argument and a
 * future (lfp_future) that receives the result. Submit it (try: EAGAIN when
 * the queue is full; blocking: waits for room until a deadline or token);
 * wait for its result with lfp_pool_task_wait. Waiting for tasks in
 * submission order gathers results in order (fan-out / fan-in).
 *
 * Shutdown: lfp_pool_shutdown closes the queue (later submits get EPIPE —
 * the seed's send-after-close panic), lets the workers drain what was
 * queued, and waits for them until a deadline. If the deadline passes, the
 * tasks still queued are taken off the queue and not run: each one's future
 * is set with EPIPE (lfp_pool_task_wait returns EPIPE) and they are counted
 * in *not_run. Every accepted task therefore ends exactly one way: it runs
 * (its future holds the result) or it is reported not run. Tasks already
 * running are not interrupted; lfp_pool_destroy joins the threads.
 *
 * Progress: submit/try_submit are the queue's (lock-free when there is room;
 * blocking submit parks); a worker parks on the queue when idle. Ordering: a
 * submit happens-before the task runs (the queue's push -> pop edge); the
 * task's return happens-before lfp_pool_task_wait returns its result (the
 * future's set -> get edge).
 *
 * Copying: an lfp_pool (or a task while it is submitted) must not be copied or
 * moved after init: its worker threads hold its address. Use it where it was
 * initialised, through pointers.
 *
 * Fork: a child of fork may call every lfp_pool_* call on an object that no
 * thread of the parent was using when fork() was called (lfpat's process-wide
 * locks are held across fork by atfork handlers, src/fork.c, so none is copied
 * held). An object a parent thread was inside at the fork (in a call, or
 * blocked in one) is copied in that intermediate state, with a thread the
 * child does not have: the child must not use it; the child has none of the
 * pool's worker threads either, so it must not submit to a pool the parent
 * started (it may start its own).
 */
#ifndef LFPAT_POOL_H
#define LFPAT_POOL_H

#include <pthread.h>

#include "lfpat/future.h"
#include "lfpat/mpmc.h"
#include "lfpat/waitgroup.h"

#ifdef __cplusplus
extern "C" {
#endif

#define LFP_POOL_MAX_THREADS 1024u

typedef void *(*lfp_pool_fn)(void *arg);

typedef struct lfp_pool_task {
    lfp_pool_fn fn;
    void *arg;
    lfp_future done;    /* value: fn's result; error: 0 ran, EPIPE not run */
} lfp_pool_task;

typedef struct lfp_pool {
    lfp_mpmc queue;               /* of lfp_pool_task * */
    pthread_t *threads;
    unsigned nthreads;
    lfp_waitgroup running;        /* workers not yet exited */
    _Atomic(bool) abandon;        /* shutdown's deadline passed: stop taking tasks */
    _Atomic(uint64_t) ran, not_run;
} lfp_pool;

/* Start `threads` workers with a queue of `capacity` tasks (rounded up as
 * lfp_mpmc rounds). Returns 0; EINVAL if p is NULL, threads is 0 or above
 * LFP_POOL_MAX_THREADS, or capacity is 0 or too large; ENOMEM; EAGAIN if a
 * thread could not be created (the ones started are stopped again). */
LFP_API int lfp_pool_init(lfp_pool *p, unsigned threads, size_t capacity);

/* Shut down (with no deadline) if not done yet, join every worker, free.
 * NULL is ignored. */
LFP_API void lfp_pool_destroy(lfp_pool *p);

/* Prepare t to run fn(arg). Returns 0; EINVAL if t or fn is NULL. A task may
 * be prepared and submitted again once its previous run has been waited for. */
LFP_API int lfp_pool_task_init(lfp_pool_task *t, lfp_pool_fn fn, void *arg);

/* Nothing to free (the task's future holds no resource); for symmetry with
 * lfp_locked_pool_task_destroy. The task must not be queued or running, and
 * nobody may be waiting for it. NULL is ignored. */
static inline void lfp_pool_task_destroy(lfp_pool_task *t);

/* Queue t if there is room. Returns 0; EAGAIN if the queue is full; EPIPE
 * after shutdown; EINVAL if p or t is NULL or t has no function.
 * Progress: lock-free. */
LFP_API int lfp_pool_try_submit(lfp_pool *p, lfp_pool_task *t);

/* Queue t, waiting for room until deadline (CLOCK_MONOTONIC ns, LFP_FOREVER
 * for none) or cancel (NULL for none) fires. Returns 0; ETIMEDOUT; ECANCELED;
 * EPIPE after shutdown; EINVAL as try_submit. Progress: blocks when full. */
LFP_API int lfp_pool_submit(lfp_pool *p, lfp_pool_task *t, int64_t deadline,
                            lfp_cancel *cancel);

/* Wait for a submitted task to finish. Returns 0 and stores fn's result in
 * *result (may be NULL); EPIPE if shutdown discarded it unrun; ETIMEDOUT or
 * ECANCELED if the wait itself ended first (the task is still pending);
 * EINVAL if t is NULL. */
LFP_API int lfp_pool_task_wait(lfp_pool_task *t, void **result, int64_t deadline,
                               lfp_cancel *cancel);

/* Stop accepting, drain, and wait for the workers until deadline.
 * Returns 0 when every queued task ran and every worker has exited;
 * ETIMEDOUT when the deadline passed first: the tasks still queued were
 * discarded (futures set with EPIPE); tasks running keep running. *not_run
 * (may be NULL) receives the number of tasks discarded by this call.
 * Calling it again is allowed (a later call waits again). EINVAL if p is NULL. */
LFP_API int lfp_pool_shutdown(lfp_pool *p, int64_t deadline, uint64_t *not_run);

/* Tasks run and tasks discarded so far (relaxed snapshots). */
static inline uint64_t lfp_pool_ran(const lfp_pool *p);

static inline uint64_t lfp_pool_not_run(const lfp_pool *p);

#ifdef __cplusplus
}
#endif

/* The inline definitions (internal, not part of the API). */
#include "lfpat/internal/pool.h"
#endif
