#include "lfpat/locked.h"

int lfp_locked_once_init(lfp_locked_once *o)
{
    if (!o)
        return EINVAL;
    o->done = false;
    o->result = 0;
    return pthread_mutex_init(&o->lock, NULL);
}

void lfp_locked_once_destroy(lfp_locked_once *o)
{
    if (o)
        pthread_mutex_destroy(&o->lock);
}

/* The mutex is held while fn runs: callers that arrive meanwhile block on it
 * and then find the outcome. */
static int call(lfp_locked_once *o, int (*fn)(void *), void *arg, bool retry)
{
    if (!o || !fn)
        return EINVAL;
    pthread_mutex_lock(&o->lock);
    int r = o->result;
    if (!o->done) {
        r = fn(arg);
        if (r == 0 || !retry) {
            o->result = r;
            o->done = true;
        }
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
    bool d = o->done;
    pthread_mutex_unlock(&o->lock);
    return d;
}
