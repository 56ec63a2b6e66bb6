/* SPDX-License-Identifier: BSD-2-Clause */
#include "lfpat/locked.h"

enum { UNSET, RUNNING, DONE };

int lfp_locked_once_init(lfp_locked_once *o)
{
    if (!o)
        return EINVAL;
    o->state = UNSET;
    o->result = 0;
    int rc = pthread_mutex_init(&o->lock, NULL);
    if (rc == 0 && (rc = pthread_cond_init(&o->cond, NULL)) != 0)
        pthread_mutex_destroy(&o->lock);
    return rc;
}

void lfp_locked_once_destroy(lfp_locked_once *o)
{
    if (!o)
        return;
    pthread_cond_destroy(&o->cond);
    pthread_mutex_destroy(&o->lock);
}

static int call(lfp_locked_once *o, int (*fn)(void *), void *arg, bool retry)
{
    if (!o || !fn)
        return EINVAL;
    pthread_mutex_lock(&o->lock);
    while (o->state == RUNNING)
        pthread_cond_wait(&o->cond, &o->lock);
    if (o->state == DONE) {
        int r = o->result;
        pthread_mutex_unlock(&o->lock);
        return r;
    }
    o->state = RUNNING;
    pthread_mutex_unlock(&o->lock);
    int r = fn(arg);
    pthread_mutex_lock(&o->lock);
    if (r != 0 && retry) {
        o->state = UNSET;
        pthread_cond_signal(&o->cond);     /* one waiter retries */
    } else {
        o->state = DONE;
        o->result = r;
        pthread_cond_broadcast(&o->cond);
    }
    pthread_mutex_unlock(&o->lock);
    return r;
}

int lfp_locked_once_call(lfp_locked_once *o, int (*fn)(void *), void *arg)
{
    return call(o, fn, arg, false);
}

int lfp_locked_once_call_retry(lfp_locked_once *o, int (*fn)(void *), void *arg)
{
    return call(o, fn, arg, true);
}

bool lfp_locked_once_done(lfp_locked_once *o)
{
    if (!o)
        return false;
    pthread_mutex_lock(&o->lock);
    bool d = o->state == DONE;
    pthread_mutex_unlock(&o->lock);
    return d;
}
