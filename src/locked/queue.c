/* SPDX-License-Identifier: BSD-2-Clause */
#include <stdlib.h>
#include <time.h>

#include "lfpat/locked.h"

int lfp_locked_queue_init(lfp_locked_queue *q, size_t capacity)
{
    if (!q || capacity == 0 || capacity > LFP_QUEUE_MAX_CAPACITY)
        return EINVAL;
    q->slots = calloc(capacity, sizeof *q->slots);
    if (!q->slots)
        return ENOMEM;
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_mutex_init(&q->lock, NULL);
    pthread_cond_init(&q->not_empty, &attr);
    pthread_cond_init(&q->not_full, &attr);
    pthread_condattr_destroy(&attr);
    q->cap = capacity;
    q->head = q->count = 0;
    q->closed = false;
    lfp_ec_init(&q->cancel_ec);
    return 0;
}

void lfp_locked_queue_destroy(lfp_locked_queue *q)
{
    if (!q)
        return;
    pthread_cond_destroy(&q->not_empty);
    pthread_cond_destroy(&q->not_full);
    pthread_mutex_destroy(&q->lock);
    free(q->slots);
    q->slots = NULL;
}

size_t lfp_locked_queue_capacity(const lfp_locked_queue *q) { return q->cap; }

size_t lfp_locked_queue_size(lfp_locked_queue *q)
{
    pthread_mutex_lock(&q->lock);
    size_t n = q->count;
    pthread_mutex_unlock(&q->lock);
    return n;
}

bool lfp_locked_queue_closed(lfp_locked_queue *q)
{
    pthread_mutex_lock(&q->lock);
    bool c = q->closed;
    pthread_mutex_unlock(&q->lock);
    return c;
}

/* The operations under the lock; they signal the opposite condition. */
static int push_locked(lfp_locked_queue *q, void *v)
{
    if (q->closed)
        return EPIPE;
    if (q->count == q->cap)
        return EAGAIN;
    q->slots[(q->head + q->count) % q->cap] = v;
    q->count++;
    pthread_cond_signal(&q->not_empty);
    return 0;
}

static int pop_locked(lfp_locked_queue *q, void **out)
{
    if (q->count == 0)
        return q->closed ? EPIPE : EAGAIN;
    *out = q->slots[q->head];
    q->head = (q->head + 1) % q->cap;
    q->count--;
    pthread_cond_signal(&q->not_full);
    return 0;
}

/* Unlock after a state change and wake token-holding waiters. */
static void unlock_changed(lfp_locked_queue *q, bool changed)
{
    pthread_mutex_unlock(&q->lock);
    if (changed)
        lfp_ec_notify_all(&q->cancel_ec);
}

int lfp_locked_queue_try_push(lfp_locked_queue *q, void *v)
{
    if (!q)
        return EINVAL;
    pthread_mutex_lock(&q->lock);
    int rc = push_locked(q, v);
    unlock_changed(q, rc == 0);
    return rc;
}

int lfp_locked_queue_try_pop(lfp_locked_queue *q, void **out)
{
    if (!q || !out)
        return EINVAL;
    pthread_mutex_lock(&q->lock);
    int rc = pop_locked(q, out);
    unlock_changed(q, rc == 0);
    return rc;
}

size_t lfp_locked_queue_push_n(lfp_locked_queue *q, void *const *v, size_t n)
{
    if (!q || !v)
        return 0;
    pthread_mutex_lock(&q->lock);
    size_t m = 0;
    while (m < n && push_locked(q, v[m]) == 0)
        m++;
    unlock_changed(q, m > 0);
    return m;
}

size_t lfp_locked_queue_pop_n(lfp_locked_queue *q, void **v, size_t n)
{
    if (!q || !v)
        return 0;
    pthread_mutex_lock(&q->lock);
    size_t m = 0;
    while (m < n && pop_locked(q, &v[m]) == 0)
        m++;
    unlock_changed(q, m > 0);
    return m;
}

void lfp_locked_queue_close(lfp_locked_queue *q)
{
    if (!q)
        return;
    pthread_mutex_lock(&q->lock);
    q->closed = true;
    pthread_cond_broadcast(&q->not_empty);
    pthread_cond_broadcast(&q->not_full);
    unlock_changed(q, true);
}

struct op {
    lfp_locked_queue *q;
    void *value;
    void **out;
};

static int op_push(struct op *op) { return push_locked(op->q, op->value); }
static int op_pop(struct op *op) { return pop_locked(op->q, op->out); }

/* The condition-variable wait: retry `fn` under the lock until it is not
 * EAGAIN or the deadline passes. A waiter that gives up passes a signal on, in
 * case it consumed one meant for a waiter that can proceed. */
static int wait_cond(struct op *op, int (*fn)(struct op *), pthread_cond_t *cond,
                     int64_t deadline)
{
    lfp_locked_queue *q = op->q;
    int64_t d = deadline < 0 ? 0 : deadline;
    struct timespec ts = { (time_t)(d / 1000000000), (long)(d % 1000000000) };
    pthread_mutex_lock(&q->lock);
    int rc;
    while ((rc = fn(op)) == EAGAIN) {
        if (deadline == LFP_FOREVER) {
            pthread_cond_wait(cond, &q->lock);
        } else if (pthread_cond_timedwait(cond, &q->lock, &ts) == ETIMEDOUT) {
            if ((rc = fn(op)) == EAGAIN) {
                rc = ETIMEDOUT;
                pthread_cond_signal(cond);
            }
            break;
        }
    }
    unlock_changed(q, rc == 0);
    return rc;
}

static int try_op(void *arg)
{
    struct op *op = arg;
    int (*fn)(struct op *) = op->out ? op_pop : op_push;
    pthread_mutex_lock(&op->q->lock);
    int rc = fn(op);
    unlock_changed(op->q, rc == 0);
    return rc;
}

static int wait_op(struct op *op, pthread_cond_t *cond, int64_t deadline, lfp_cancel *cancel)
{
    if (cancel)
        return lfp_ec_await(&op->q->cancel_ec, try_op, op, deadline, cancel, false);
    return wait_cond(op, op->out ? op_pop : op_push, cond, deadline);
}

int lfp_locked_queue_push(lfp_locked_queue *q, void *v, int64_t deadline, lfp_cancel *cancel)
{
    if (!q)
        return EINVAL;
    struct op op = { q, v, NULL };
    return wait_op(&op, &q->not_full, deadline, cancel);
}

int lfp_locked_queue_pop(lfp_locked_queue *q, void **out, int64_t deadline, lfp_cancel *cancel)
{
    if (!q || !out)
        return EINVAL;
    struct op op = { q, NULL, out };
    return wait_op(&op, &q->not_empty, deadline, cancel);
}
