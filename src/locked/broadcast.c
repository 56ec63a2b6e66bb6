/* SPDX-License-Identifier: BSD-2-Clause */
#include <stdlib.h>

#include "lfpat/broadcast.h"
#include "lsync.h"

int lfp_locked_broadcast_init(lfp_locked_broadcast *b, size_t capacity)
{
    if (!b || capacity == 0 || capacity > LFP_BROADCAST_MAX_CAPACITY)
        return EINVAL;
    b->ring = calloc(capacity, sizeof *b->ring);
    if (!b->ring)
        return ENOMEM;
    b->cap = capacity;
    b->tail = 0;
    b->closed = false;
    int rc = lfp_lsync_init(&b->sync);
    if (rc) {
        free(b->ring);
        b->ring = NULL;
    }
    return rc;
}

void lfp_locked_broadcast_destroy(lfp_locked_broadcast *b)
{
    if (!b)
        return;
    lfp_lsync_destroy(&b->sync);
    free(b->ring);
    b->ring = NULL;
}

size_t lfp_locked_broadcast_capacity(const lfp_locked_broadcast *b) { return b->cap; }

int lfp_locked_broadcast_publish(lfp_locked_broadcast *b, void *v)
{
    if (!b)
        return EINVAL;
    pthread_mutex_lock(&b->sync.lock);
    if (b->closed) {
        pthread_mutex_unlock(&b->sync.lock);
        return EPIPE;
    }
    b->ring[b->tail % b->cap] = v;
    b->tail++;
    lfp_lsync_changed_unlock(&b->sync);
    return 0;
}

void lfp_locked_broadcast_close(lfp_locked_broadcast *b)
{
    if (!b)
        return;
    pthread_mutex_lock(&b->sync.lock);
    b->closed = true;
    lfp_lsync_changed_unlock(&b->sync);
}

int lfp_locked_broadcast_subscribe(lfp_locked_broadcast *b, lfp_locked_broadcast_sub *sub)
{
    if (!b || !sub)
        return EINVAL;
    pthread_mutex_lock(&b->sync.lock);
    *sub = (lfp_locked_broadcast_sub){ .b = b, .next = b->tail };
    pthread_mutex_unlock(&b->sync.lock);
    return 0;
}

void lfp_locked_broadcast_unsubscribe(lfp_locked_broadcast_sub *sub)
{
    if (sub)
        *sub = (lfp_locked_broadcast_sub){ 0 };
}

struct recv_op {
    lfp_locked_broadcast_sub *sub;
    void **out;
};

/* Lock held. A subscriber more than cap behind jumps to the oldest kept
 * message and counts the gap. */
static int recv_locked(void *arg)
{
    struct recv_op *op = arg;
    lfp_locked_broadcast_sub *sub = op->sub;
    lfp_locked_broadcast *b = sub->b;
    if (b->tail - sub->next > b->cap) {
        sub->pending += b->tail - b->cap - sub->next;
        sub->next = b->tail - b->cap;
    }
    if (sub->next == b->tail)
        return b->closed ? EPIPE : EAGAIN;
    *op->out = b->ring[sub->next % b->cap];
    sub->next++;
    sub->received++;
    return 0;
}

static void report_missed(lfp_locked_broadcast_sub *sub, uint64_t *missed)
{
    *missed = sub->pending;
    sub->missed += sub->pending;
    sub->pending = 0;
}

int lfp_locked_broadcast_try_recv(lfp_locked_broadcast_sub *sub, void **out, uint64_t *missed)
{
    if (!sub || !sub->b || !out || !missed)
        return EINVAL;
    struct recv_op op = { sub, out };
    pthread_mutex_lock(&sub->b->sync.lock);
    int rc = recv_locked(&op);
    pthread_mutex_unlock(&sub->b->sync.lock);
    report_missed(sub, missed);
    return rc;
}

int lfp_locked_broadcast_recv(lfp_locked_broadcast_sub *sub, void **out, uint64_t *missed,
                              int64_t deadline, lfp_cancel *cancel)
{
    if (!sub || !sub->b || !out || !missed)
        return EINVAL;
    struct recv_op op = { sub, out };
    int rc = lfp_lsync_wait(&sub->b->sync, recv_locked, &op, deadline, cancel);
    report_missed(sub, missed);
    return rc;
}
