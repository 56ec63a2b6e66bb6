/* SPDX-License-Identifier: BSD-2-Clause */
#include <stdlib.h>

#include "lfpat/locked.h"

/* Run tasks until the queue is closed and drained, or shutdown abandons it.
 * The flag and the counter share one critical section per task. */
static void *worker_main(void *arg)
{
    lfp_locked_pool *p = arg;
    void *v;
    pthread_mutex_lock(&p->lock);
    bool stop = p->abandon;
    pthread_mutex_unlock(&p->lock);
    while (!stop && lfp_locked_queue_pop(&p->queue, &v, LFP_FOREVER, NULL) == 0) {
        lfp_locked_pool_task *t = v;
        void *result = t->fn(t->arg);
        pthread_mutex_lock(&p->lock);
        p->ran++;
        stop = p->abandon;
        pthread_mutex_unlock(&p->lock);
        lfp_locked_future_set(&t->done, result, 0);
    }
    lfp_locked_waitgroup_done(&p->running);
    return NULL;
}

int lfp_locked_pool_init(lfp_locked_pool *p, unsigned threads, size_t capacity)
{
    if (!p || threads == 0 || threads > LFP_POOL_MAX_THREADS)
        return EINVAL;
    int rc = lfp_locked_queue_init(&p->queue, capacity);
    if (rc)
        return rc;
    p->threads = calloc(threads, sizeof *p->threads);
    if (!p->threads) {
        lfp_locked_queue_destroy(&p->queue);
        return ENOMEM;
    }
    p->nthreads = 0;
    p->abandon = false;
    p->ran = p->not_run = 0;
    pthread_mutex_init(&p->lock, NULL);
    lfp_locked_waitgroup_init(&p->running);
    for (; p->nthreads < threads; p->nthreads++) {
        lfp_locked_waitgroup_add(&p->running, 1);
        if (pthread_create(&p->threads[p->nthreads], NULL, worker_main, p) != 0) {
            lfp_locked_waitgroup_done(&p->running);
            lfp_locked_pool_destroy(p);
            return EAGAIN;
        }
    }
    return 0;
}

void lfp_locked_pool_destroy(lfp_locked_pool *p)
{
    if (!p || !p->threads)
        return;
    lfp_locked_pool_shutdown(p, LFP_FOREVER, NULL);
    for (unsigned i = 0; i < p->nthreads; i++)
        pthread_join(p->threads[i], NULL);
    free(p->threads);
    p->threads = NULL;
    lfp_locked_waitgroup_destroy(&p->running);
    pthread_mutex_destroy(&p->lock);
    lfp_locked_queue_destroy(&p->queue);
}

int lfp_locked_pool_task_init(lfp_locked_pool_task *t, lfp_pool_fn fn, void *arg)
{
    if (!t || !fn)
        return EINVAL;
    t->fn = fn;
    t->arg = arg;
    return lfp_locked_future_init(&t->done);
}

void lfp_locked_pool_task_destroy(lfp_locked_pool_task *t)
{
    if (t)
        lfp_locked_future_destroy(&t->done);
}

int lfp_locked_pool_try_submit(lfp_locked_pool *p, lfp_locked_pool_task *t)
{
    if (!p || !t || !t->fn)
        return EINVAL;
    return lfp_locked_queue_try_push(&p->queue, t);
}

int lfp_locked_pool_submit(lfp_locked_pool *p, lfp_locked_pool_task *t, int64_t deadline,
                           lfp_cancel *cancel)
{
    if (!p || !t || !t->fn)
        return EINVAL;
    return lfp_locked_queue_push(&p->queue, t, deadline, cancel);
}

int lfp_locked_pool_task_wait(lfp_locked_pool_task *t, void **result, int64_t deadline,
                              lfp_cancel *cancel)
{
    if (!t)
        return EINVAL;
    int err = 0;
    int rc = lfp_locked_future_get(&t->done, result, &err, deadline, cancel);
    return rc ? rc : err;
}

int lfp_locked_pool_shutdown(lfp_locked_pool *p, int64_t deadline, uint64_t *not_run)
{
    if (!p)
        return EINVAL;
    uint64_t discarded = 0;
    lfp_locked_queue_close(&p->queue);
    int rc = lfp_locked_waitgroup_wait(&p->running, deadline, NULL);
    if (rc == ETIMEDOUT) {
        pthread_mutex_lock(&p->lock);
        p->abandon = true;
        pthread_mutex_unlock(&p->lock);
        void *v;
        /* pop returns EPIPE once closed and drained; workers may take some */
        while (lfp_locked_queue_pop(&p->queue, &v, LFP_FOREVER, NULL) == 0) {
            lfp_locked_future_set(&((lfp_locked_pool_task *)v)->done, NULL, EPIPE);
            discarded++;
        }
        pthread_mutex_lock(&p->lock);
        p->not_run += discarded;
        pthread_mutex_unlock(&p->lock);
    }
    if (not_run)
        *not_run = discarded;
    return rc;
}

static uint64_t read_locked(lfp_locked_pool *p, const uint64_t *field)
{
    pthread_mutex_lock(&p->lock);
    uint64_t v = *field;
    pthread_mutex_unlock(&p->lock);
    return v;
}

uint64_t lfp_locked_pool_ran(lfp_locked_pool *p) { return read_locked(p, &p->ran); }
uint64_t lfp_locked_pool_not_run(lfp_locked_pool *p) { return read_locked(p, &p->not_run); }
