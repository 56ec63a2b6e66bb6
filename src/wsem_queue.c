/* SPDX-License-Identifier: BSD-2-Clause */
#include "wsem_queue.h"

void lfp_wq_enqueue(struct lfp_wsem_queue *q, struct lfp_wsem_waiter *w, int64_t n)
{
    w->n = n;
    atomic_init(&w->granted, 0);
    lfp_ec_init(&w->ec);
    w->next = NULL;
    w->prev = q->tail;
    if (q->tail)
        q->tail->next = w;
    else
        q->head = w;
    q->tail = w;
}

static void unlink_waiter(struct lfp_wsem_queue *q, struct lfp_wsem_waiter *w)
{
    if (w->prev)
        w->prev->next = w->next;
    else
        q->head = w->next;
    if (w->next)
        w->next->prev = w->prev;
    else
        q->tail = w->prev;
    w->next = w->prev = NULL;
}

static int granted_try(void *arg)
{
    struct lfp_wsem_waiter *w = arg;
    /* acquire: pairs with the release store of granted in lfp_wq_grant. */
    return atomic_load_explicit(&w->granted, memory_order_acquire) ? 0 : EAGAIN;
}

int lfp_wq_block(pthread_mutex_t *lock, struct lfp_wsem_waiter *w, int64_t deadline,
                 lfp_cancel *cancel)
{
    pthread_mutex_unlock(lock);
    int rc = lfp_ec_await(&w->ec, granted_try, w, deadline, cancel, false);
    pthread_mutex_lock(lock);
    return rc;
}

int64_t lfp_wq_grant(struct lfp_wsem_queue *q, int64_t free)
{
    struct lfp_wsem_waiter *w;
    while ((w = q->head) != NULL && w->n <= free) {
        free -= w->n;
        unlink_waiter(q, w);
        /* release: pairs with the acquire load in granted_try; the waiter
         * sees everything done before this grant (the releases it builds on). */
        atomic_store_explicit(&w->granted, 1, memory_order_release);
        LFP_TEST_HOOK("wsem.grant");   /* granted, not yet woken */
        lfp_ec_notify_one(&w->ec);
    }
    return free;
}

bool lfp_wq_granted(struct lfp_wsem_waiter *w)
{
    /* relaxed: granted is only stored under the mutex, which we hold. */
    return atomic_load_explicit(&w->granted, memory_order_relaxed) != 0;
}

int64_t lfp_wq_leave(struct lfp_wsem_queue *q, struct lfp_wsem_waiter *w, int64_t free)
{
    bool was_head = q->head == w;
    unlink_waiter(q, w);
    return was_head ? lfp_wq_grant(q, free) : free;
}
