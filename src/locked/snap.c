/* SPDX-License-Identifier: BSD-2-Clause */
/* lfp_locked_snap: a mutex and a reference count per version
 * (include/lfpat/locked/snap.h). */
#include "lfpat/locked.h"

#include "lsync.h"

#include <errno.h>
#include <stdlib.h>

struct lfp_locked_snap_ver_ {
    lfp_locked_snap_ver_ *next;   /* on the retired list */
    void *ptr;
    uint64_t refs;                /* sections holding it */
    bool waited;                  /* a publisher is waiting for refs == 0 */
};

/* The versions the calling thread holds, innermost last. */
static LFP_THREAD_LOCAL struct held {
    lfp_locked_snap *s;
    lfp_locked_snap_ver_ *v;
} held[LFP_LOCKED_SNAP_DEPTH];
static LFP_THREAD_LOCAL unsigned depth;

static lfp_locked_snap_ver_ *new_ver(void *ptr)
{
    lfp_locked_snap_ver_ *v = calloc(1, sizeof *v);
    if (v)
        v->ptr = ptr;
    return v;
}

/* Lock held: unlink v from the retired list. */
static void unlink_retired(lfp_locked_snap *s, lfp_locked_snap_ver_ *v)
{
    for (lfp_locked_snap_ver_ **pp = &s->retired; *pp; pp = &(*pp)->next)
        if (*pp == v) {
            *pp = v->next;
            s->st.pending--;
            if (v->ptr)
                s->st.freed++;
            return;
        }
}

/* Outside the lock: hand v's version to free_fn. */
static void free_ver(lfp_locked_snap *s, lfp_locked_snap_ver_ *v)
{
    if (v && v->ptr)
        s->free_fn(v->ptr, s->free_arg);
    free(v);
}

/* Lock held: make nv current and retire the old version; returns it, or NULL
 * if nobody holds it (then it is already unlinked: free it). */
static lfp_locked_snap_ver_ *swap_in(lfp_locked_snap *s, lfp_locked_snap_ver_ *nv, bool wait)
{
    lfp_locked_snap_ver_ *old = s->cur;
    s->cur = nv;
    s->st.published++;
    old->next = s->retired;
    s->retired = old;
    s->st.pending++;
    old->waited = wait;
    return old;
}

int lfp_locked_snap_init(lfp_locked_snap *s, void *initial, lfp_snap_free_fn free_fn, void *arg)
{
    if (!s || !free_fn)
        return EINVAL;
    s->cur = new_ver(initial);
    if (!s->cur)
        return ENOMEM;
    int rc = lfp_lsync_init(&s->sync);
    if (rc) {
        free(s->cur);
        return rc;
    }
    s->retired = NULL;
    s->free_fn = free_fn;
    s->free_arg = arg;
    s->st = (struct lfp_snap_stats){ 0 };
    return 0;
}

void lfp_locked_snap_destroy(lfp_locked_snap *s)
{
    if (!s)
        return;
    while (s->retired) {
        lfp_locked_snap_ver_ *v = s->retired;
        unlink_retired(s, v);
        free_ver(s, v);
    }
    free_ver(s, s->cur);
    lfp_lsync_destroy(&s->sync);
}

void *lfp_locked_snap_enter(lfp_locked_snap *s)
{
    if (!s || depth == LFP_LOCKED_SNAP_DEPTH)
        return NULL;
    pthread_mutex_lock(&s->sync.lock);
    lfp_locked_snap_ver_ *v = s->cur;
    v->refs++;
    pthread_mutex_unlock(&s->sync.lock);
    held[depth++] = (struct held){ s, v };
    return v->ptr;
}

void *lfp_locked_snap_get(lfp_locked_snap *s)
{
    for (unsigned i = depth; s && i-- > 0;)
        if (held[i].s == s)
            return held[i].v->ptr;
    return NULL;
}

int lfp_locked_snap_leave(lfp_locked_snap *s)
{
    if (!s)
        return EINVAL;
    if (depth == 0 || held[depth - 1].s != s)
        return EPERM;
    lfp_locked_snap_ver_ *v = held[--depth].v, *dead = NULL;
    pthread_mutex_lock(&s->sync.lock);
    if (--v->refs == 0 && v != s->cur && !v->waited) {
        unlink_retired(s, v);   /* its publisher gave up: the last reader frees it */
        dead = v;
    }
    lfp_lsync_changed_unlock(&s->sync);
    free_ver(s, dead);
    return 0;
}

static int unreferenced(void *arg)
{
    return ((lfp_locked_snap_ver_ *)arg)->refs == 0 ? 0 : EAGAIN;
}

/* Wait for old's readers, then free it (or leave it to its last reader). */
static int wait_and_free(lfp_locked_snap *s, lfp_locked_snap_ver_ *old, int64_t deadline,
                         lfp_cancel *cancel)
{
    int rc = lfp_lsync_wait(&s->sync, unreferenced, old, deadline, cancel);
    lfp_locked_snap_ver_ *dead = NULL;
    pthread_mutex_lock(&s->sync.lock);
    old->waited = false;
    if (old->refs == 0) {
        unlink_retired(s, old);
        dead = old;
        rc = 0;
    } else {
        s->st.timeouts++;
    }
    pthread_mutex_unlock(&s->sync.lock);
    free_ver(s, dead);
    return rc;
}

int lfp_locked_snap_publish(lfp_locked_snap *s, void *next, int64_t deadline, lfp_cancel *cancel)
{
    if (!s)
        return EINVAL;
    if (depth)
        return EDEADLK;
    lfp_locked_snap_ver_ *nv = new_ver(next);
    if (!nv)
        return ENOMEM;
    pthread_mutex_lock(&s->sync.lock);
    lfp_locked_snap_ver_ *old = swap_in(s, nv, true);
    pthread_mutex_unlock(&s->sync.lock);
    return wait_and_free(s, old, deadline, cancel);
}

int lfp_locked_snap_publish_async(lfp_locked_snap *s, void *next)
{
    if (!s)
        return EINVAL;
    lfp_locked_snap_ver_ *nv = new_ver(next), *dead = NULL;
    if (!nv)
        return ENOMEM;
    pthread_mutex_lock(&s->sync.lock);
    lfp_locked_snap_ver_ *old = swap_in(s, nv, false);
    if (old->refs == 0) {
        unlink_retired(s, old);
        dead = old;
    }
    pthread_mutex_unlock(&s->sync.lock);
    free_ver(s, dead);
    return 0;
}

/* fn runs under the twin's mutex: the simplest reading of "no other
 * publish between the read and the swap" (it must not call the twin). */
int lfp_locked_snap_update(lfp_locked_snap *s, lfp_snap_copy_fn fn, void *arg, int64_t deadline,
                           lfp_cancel *cancel)
{
    if (!s || !fn)
        return EINVAL;
    if (depth)
        return EDEADLK;
    lfp_locked_snap_ver_ *nv = new_ver(NULL);
    if (!nv)
        return ENOMEM;
    pthread_mutex_lock(&s->sync.lock);
    int rc = fn(s->cur->ptr, &nv->ptr, arg);
    lfp_locked_snap_ver_ *old = rc ? NULL : swap_in(s, nv, true);
    pthread_mutex_unlock(&s->sync.lock);
    if (rc) {
        free(nv);
        return rc;
    }
    return wait_and_free(s, old, deadline, cancel);
}

int lfp_locked_snap_reclaim(lfp_locked_snap *s)
{
    if (!s)
        return EINVAL;
    for (;;) {
        lfp_locked_snap_ver_ *dead = NULL;
        pthread_mutex_lock(&s->sync.lock);
        for (lfp_locked_snap_ver_ *v = s->retired; v; v = v->next)
            if (v->refs == 0 && !v->waited) {
                dead = v;
                break;
            }
        if (dead)
            unlink_retired(s, dead);
        int rc = s->retired ? EAGAIN : 0;
        pthread_mutex_unlock(&s->sync.lock);
        if (!dead)
            return rc;
        free_ver(s, dead);
    }
}

void lfp_locked_snap_stats(lfp_locked_snap *s, struct lfp_snap_stats *st)
{
    if (!s || !st)
        return;
    pthread_mutex_lock(&s->sync.lock);
    *st = s->st;
    pthread_mutex_unlock(&s->sync.lock);
}
