/* SPDX-License-Identifier: BSD-2-Clause */
#include "lfpat/locked.h"

#include "wsem_queue.h"

/* ------------------------------------------------------------ counting */

int lfp_locked_sem_init(lfp_locked_sem *s, unsigned capacity)
{
    if (!s || capacity == 0)
        return EINVAL;
    *s = (lfp_locked_sem){ .capacity = capacity, .available = capacity };
    lfp_ec_init(&s->ec);
    return pthread_mutex_init(&s->lock, NULL);
}

void lfp_locked_sem_destroy(lfp_locked_sem *s)
{
    if (s)
        pthread_mutex_destroy(&s->lock);
}

static int sem_try(void *arg)
{
    lfp_locked_sem *s = arg;
    int rc = EAGAIN;
    pthread_mutex_lock(&s->lock);
    if (s->available > 0) {
        s->available--;
        s->acquires++;
        rc = 0;
    }
    pthread_mutex_unlock(&s->lock);
    return rc;
}

int lfp_locked_sem_try_acquire(lfp_locked_sem *s)
{
    return s ? sem_try(s) : EINVAL;
}

int lfp_locked_sem_acquire(lfp_locked_sem *s, int64_t deadline, lfp_cancel *cancel)
{
    if (!s)
        return EINVAL;
    pthread_mutex_lock(&s->lock);
    if (s->available > 0) {
        s->available--;
        s->acquires++;
        pthread_mutex_unlock(&s->lock);
        return 0;
    }
    s->waiting++;
    pthread_mutex_unlock(&s->lock);
    int rc = lfp_ec_await(&s->ec, sem_try, s, deadline, cancel, true);
    pthread_mutex_lock(&s->lock);
    s->waiting--;
    if (rc == ETIMEDOUT)
        s->timeouts++;
    else if (rc == ECANCELED)
        s->cancellations++;
    pthread_mutex_unlock(&s->lock);
    return rc;
}

int lfp_locked_sem_release(lfp_locked_sem *s)
{
    if (!s)
        return EINVAL;
    pthread_mutex_lock(&s->lock);
    int rc = EOVERFLOW;
    if (s->available < s->capacity) {
        s->available++;
        s->releases++;
        rc = 0;
    }
    /* Notify under the lock, so the unlock is the last access: a woken
     * waiter takes the permit under the lock and may free s as soon as it
     * returns (pthread_mutex_unlock is safe against that, as POSIX requires
     * for a mutex destroyed once unlocked). */
    if (rc == 0 && s->waiting > 0)
        lfp_ec_notify_one(&s->ec);
    pthread_mutex_unlock(&s->lock);
    return rc;
}

unsigned lfp_locked_sem_available(lfp_locked_sem *s)
{
    if (!s)
        return 0;
    pthread_mutex_lock(&s->lock);
    unsigned a = s->available;
    pthread_mutex_unlock(&s->lock);
    return a;
}

void lfp_locked_sem_stats(lfp_locked_sem *s, struct lfp_sem_stats *st)
{
    if (!s || !st)
        return;
    pthread_mutex_lock(&s->lock);
    *st = (struct lfp_sem_stats){
        .capacity = s->capacity, .available = s->available,
        .used = s->capacity - s->available, .waiting = s->waiting,
        .acquires = s->acquires, .releases = s->releases,
        .timeouts = s->timeouts, .cancellations = s->cancellations,
    };
    pthread_mutex_unlock(&s->lock);
}

/* ------------------------------------------------------------ weighted */

int lfp_locked_wsem_init(lfp_locked_wsem *s, int64_t capacity)
{
    if (!s || capacity <= 0 || capacity > LFP_WSEM_MAX)
        return EINVAL;
    *s = (lfp_locked_wsem){ .capacity = capacity, .free = capacity };
    return pthread_mutex_init(&s->lock, NULL);
}

void lfp_locked_wsem_destroy(lfp_locked_wsem *s)
{
    if (s)
        pthread_mutex_destroy(&s->lock);
}

static bool bad_weight(lfp_locked_wsem *s, int64_t n)
{
    return !s || n <= 0 || n > s->capacity;
}

/* Mutex held: take n if nobody is queued and it fits (strict FIFO). */
static bool take_locked(lfp_locked_wsem *s, int64_t n)
{
    if (s->queue.head || s->free < n)
        return false;
    s->free -= n;
    return true;
}

int lfp_locked_wsem_try_acquire(lfp_locked_wsem *s, int64_t n)
{
    if (bad_weight(s, n))
        return EINVAL;
    pthread_mutex_lock(&s->lock);
    bool ok = take_locked(s, n);
    pthread_mutex_unlock(&s->lock);
    return ok ? 0 : EAGAIN;
}

int lfp_locked_wsem_acquire(lfp_locked_wsem *s, int64_t n, int64_t deadline, lfp_cancel *cancel)
{
    if (bad_weight(s, n))
        return EINVAL;
    pthread_mutex_lock(&s->lock);
    int rc = 0;
    if (!take_locked(s, n)) {
        struct lfp_wsem_waiter w;
        lfp_wq_enqueue(&s->queue, &w, n);
        rc = lfp_wq_block(&s->lock, &w, deadline, cancel);
        if (!lfp_wq_granted(&w))
            s->free = lfp_wq_leave(&s->queue, &w, s->free);
        else if (rc != 0)   /* granted as it gave up: give the weight back */
            s->free = lfp_wq_grant(&s->queue, s->free + n);
    }
    pthread_mutex_unlock(&s->lock);
    return rc;
}

int lfp_locked_wsem_release(lfp_locked_wsem *s, int64_t n)
{
    if (!s || n <= 0)
        return EINVAL;
    pthread_mutex_lock(&s->lock);
    int rc = EOVERFLOW;
    if (n <= s->capacity - s->free) {
        s->free = lfp_wq_grant(&s->queue, s->free + n);
        rc = 0;
    }
    pthread_mutex_unlock(&s->lock);
    return rc;
}

int64_t lfp_locked_wsem_available(lfp_locked_wsem *s)
{
    if (!s)
        return 0;
    pthread_mutex_lock(&s->lock);
    int64_t f = s->free;
    pthread_mutex_unlock(&s->lock);
    return f;
}
