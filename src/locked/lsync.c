/* SPDX-License-Identifier: BSD-2-Clause */
#include "lsync.h"

#include <time.h>

int lfp_lsync_init(lfp_locked_sync_ *s)
{
    pthread_condattr_t attr;
    int rc = pthread_condattr_init(&attr);
    if (rc)
        return rc;
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    rc = pthread_mutex_init(&s->lock, NULL);
    if (rc == 0 && (rc = pthread_cond_init(&s->cond, &attr)) != 0)
        pthread_mutex_destroy(&s->lock);
    pthread_condattr_destroy(&attr);
    lfp_ec_init(&s->cancel_ec);
    return rc;
}

void lfp_lsync_destroy(lfp_locked_sync_ *s)
{
    pthread_cond_destroy(&s->cond);
    pthread_mutex_destroy(&s->lock);
}

/* Both wakes happen under the lock, so the unlock is the last access: a
 * waiter that returns (after taking the lock) may free the object at once. */
void lfp_lsync_changed_unlock(lfp_locked_sync_ *s)
{
    pthread_cond_broadcast(&s->cond);
    lfp_ec_notify_all(&s->cancel_ec);
    pthread_mutex_unlock(&s->lock);
}

struct locked_try {
    lfp_locked_sync_ *s;
    lfp_lsync_fn fn;
    void *arg;
};

static int locked_try(void *arg)
{
    struct locked_try *t = arg;
    pthread_mutex_lock(&t->s->lock);
    int rc = t->fn(t->arg);
    pthread_mutex_unlock(&t->s->lock);
    return rc;
}

int lfp_lsync_wait(lfp_locked_sync_ *s, lfp_lsync_fn fn, void *arg, int64_t deadline,
                   lfp_cancel *cancel)
{
    if (cancel) {
        struct locked_try t = { s, fn, arg };
        return lfp_ec_await(&s->cancel_ec, locked_try, &t, deadline, cancel, false);
    }
    int64_t d = deadline < 0 ? 0 : deadline;
    struct timespec ts = { (time_t)(d / 1000000000), (long)(d % 1000000000) };
    pthread_mutex_lock(&s->lock);
    int rc;
    while ((rc = fn(arg)) == EAGAIN) {
        if (deadline == LFP_FOREVER) {
            pthread_cond_wait(&s->cond, &s->lock);
        } else if (pthread_cond_timedwait(&s->cond, &s->lock, &ts) == ETIMEDOUT) {
            if ((rc = fn(arg)) == EAGAIN)
                rc = ETIMEDOUT;
            break;
        }
    }
    pthread_mutex_unlock(&s->lock);
    return rc;
}
