/* SPDX-License-Identifier: BSD-2-Clause */
#include "lfpat/pool.h"

#include <stdlib.h>

static void *worker_main(void *arg)
{
    lfp_pool *p = arg;
    void *v;
    /* relaxed: a hint to stop early; shutdown discards what is left. */
    while (!atomic_load_explicit(&p->abandon, memory_order_relaxed) &&
           lfp_mpmc_pop(&p->queue, &v, LFP_FOREVER, NULL) == 0) {
        lfp_pool_task *t = v;
        void *result = t->fn(t->arg);
        /* relaxed: a statistic. */
        atomic_fetch_add_explicit(&p->ran, 1, memory_order_relaxed);
        lfp_future_set(&t->done, result, 0);
    }
    lfp_waitgroup_done(&p->running);
    return NULL;
}

int lfp_pool_init(lfp_pool *p, unsigned threads, size_t capacity)
{
    if (!p || threads == 0 || threads > LFP_POOL_MAX_THREADS)
        return EINVAL;
    int rc = lfp_mpmc_init(&p->queue, capacity);
    if (rc)
        return rc;
    p->threads = calloc(threads, sizeof *p->threads);
    if (!p->threads) {
        lfp_mpmc_destroy(&p->queue);
        return ENOMEM;
    }
    p->nthreads = 0;
    lfp_waitgroup_init(&p->running);
    atomic_init(&p->abandon, false);
    atomic_init(&p->ran, 0);
    atomic_init(&p->not_run, 0);
    for (; p->nthreads < threads; p->nthreads++) {
        lfp_waitgroup_add(&p->running, 1);
        if (pthread_create(&p->threads[p->nthreads], NULL, worker_main, p) != 0) {
            lfp_waitgroup_done(&p->running);
            lfp_pool_destroy(p);
            return EAGAIN;
        }
    }
    return 0;
}

void lfp_pool_destroy(lfp_pool *p)
{
    if (!p || !p->threads)
        return;
    lfp_pool_shutdown(p, LFP_FOREVER, NULL);
    for (unsigned i = 0; i < p->nthreads; i++)
        pthread_join(p->threads[i], NULL);
    free(p->threads);
    p->threads = NULL;
    lfp_mpmc_destroy(&p->queue);
}

int lfp_pool_task_init(lfp_pool_task *t, lfp_pool_fn fn, void *arg)
{
    if (!t || !fn)
        return EINVAL;
    t->fn = fn;
    t->arg = arg;
    return lfp_future_init(&t->done);
}

int lfp_pool_try_submit(lfp_pool *p, lfp_pool_task *t)
{
    if (!p || !t || !t->fn)
        return EINVAL;
    return lfp_mpmc_try_push(&p->queue, t);
}

int lfp_pool_submit(lfp_pool *p, lfp_pool_task *t, int64_t deadline, lfp_cancel *cancel)
{
    if (!p || !t || !t->fn)
        return EINVAL;
    return lfp_mpmc_push(&p->queue, t, deadline, cancel);
}

int lfp_pool_task_wait(lfp_pool_task *t, void **result, int64_t deadline, lfp_cancel *cancel)
{
    if (!t)
        return EINVAL;
    int err = 0;
    int rc = lfp_future_get(&t->done, result, &err, deadline, cancel);
    return rc ? rc : err;
}

int lfp_pool_shutdown(lfp_pool *p, int64_t deadline, uint64_t *not_run)
{
    if (!p)
        return EINVAL;
    uint64_t discarded = 0;
    lfp_mpmc_close(&p->queue);
    int rc = lfp_waitgroup_wait(&p->running, deadline, NULL);
    if (rc == ETIMEDOUT) {
        /* relaxed: workers only use it to stop early. */
        atomic_store_explicit(&p->abandon, true, memory_order_relaxed);
        void *v;
        /* pop returns EPIPE once closed and drained; workers may take some */
        while (lfp_mpmc_pop(&p->queue, &v, LFP_FOREVER, NULL) == 0) {
            lfp_future_set(&((lfp_pool_task *)v)->done, NULL, EPIPE);
            discarded++;
        }
        /* relaxed: a statistic. */
        atomic_fetch_add_explicit(&p->not_run, discarded, memory_order_relaxed);
    }
    if (not_run)
        *not_run = discarded;
    return rc;
}
