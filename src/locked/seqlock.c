/* SPDX-License-Identifier: BSD-2-Clause */
/* locked/seqlock.c — lfp_locked_seqlock: one copy of the value under a
 * mutex (lfpat/locked/seqlock.h). */
#include "lfpat/locked/seqlock.h"
#include "lsync.h"

#include <stdlib.h>
#include <string.h>

int lfp_locked_seqlock_init(lfp_locked_seqlock *s, size_t size, const void *initial)
{
    if (!s || size == 0 || size > LFP_SEQLOCK_MAX_SIZE)
        return EINVAL;
    s->value = calloc(1, size);
    if (!s->value)
        return ENOMEM;
    if (initial)
        memcpy(s->value, initial, size);
    s->size = size;
    s->version = 0;
    s->owner = 0;
    int rc = lfp_lsync_init(&s->sync);
    if (rc != 0) {
        free(s->value);
        return rc == ENOMEM ? ENOMEM : EINVAL;
    }
    return 0;
}

void lfp_locked_seqlock_destroy(lfp_locked_seqlock *s)
{
    if (!s)
        return;
    lfp_lsync_destroy(&s->sync);
    free(s->value);
    s->value = NULL;
}

size_t lfp_locked_seqlock_size(const lfp_locked_seqlock *s) { return s->size; }

int lfp_locked_seqlock_read_version(lfp_locked_seqlock *s, void *dst, uint64_t *version)
{
    if (!s || !dst || !version)
        return EINVAL;
    pthread_mutex_lock(&s->sync.lock);
    memcpy(dst, s->value, s->size);
    *version = s->version;
    pthread_mutex_unlock(&s->sync.lock);
    return 0;
}

int lfp_locked_seqlock_read(lfp_locked_seqlock *s, void *dst)
{
    uint64_t version;
    return lfp_locked_seqlock_read_version(s, dst, dst ? &version : NULL);
}

int lfp_locked_seqlock_read_n(lfp_locked_seqlock *s, void *dst, size_t n)
{
    if (!s || !dst || n != s->size)
        return EINVAL;
    return lfp_locked_seqlock_read(s, dst);
}

int lfp_locked_seqlock_try_read(lfp_locked_seqlock *s, void *dst)
{
    return lfp_locked_seqlock_read(s, dst);
}

static unsigned my_id(void) { return lfp_thread_slot() + 1; }

/* What a writer does once no write is open (lock held). */
struct wop {
    lfp_locked_seqlock *s;
    unsigned me;
    const void *src;   /* write: the new value */
    void *buf;         /* begin: where the current value goes */
};

static int wop_try(void *arg)
{
    struct wop *w = arg;
    lfp_locked_seqlock *s = w->s;
    if (s->owner == w->me)
        return EDEADLK;
    if (s->owner != 0)
        return EAGAIN;
    if (w->src) {
        memcpy(s->value, w->src, s->size);
        s->version++;
    } else {
        memcpy(w->buf, s->value, s->size);
        s->owner = w->me;
    }
    return 0;
}

int lfp_locked_seqlock_write(lfp_locked_seqlock *s, const void *src, int64_t deadline,
                             lfp_cancel *cancel)
{
    if (!s || !src)
        return EINVAL;
    struct wop w = { s, my_id(), src, NULL };
    return lfp_lsync_wait(&s->sync, wop_try, &w, deadline, cancel);
}

int lfp_locked_seqlock_try_write(lfp_locked_seqlock *s, const void *src)
{
    if (!s || !src)
        return EINVAL;
    struct wop w = { s, my_id(), src, NULL };
    pthread_mutex_lock(&s->sync.lock);
    int rc = wop_try(&w);
    pthread_mutex_unlock(&s->sync.lock);
    return rc;
}

int lfp_locked_seqlock_write_begin(lfp_locked_seqlock *s, void *buf, int64_t deadline,
                                   lfp_cancel *cancel)
{
    if (!s || !buf)
        return EINVAL;
    struct wop w = { s, my_id(), NULL, buf };
    return lfp_lsync_wait(&s->sync, wop_try, &w, deadline, cancel);
}

/* End the calling thread's open write, publishing buf unless it is NULL. */
static int end_write(lfp_locked_seqlock *s, const void *buf)
{
    pthread_mutex_lock(&s->sync.lock);
    if (s->owner != my_id()) {
        pthread_mutex_unlock(&s->sync.lock);
        return EPERM;
    }
    if (buf) {
        memcpy(s->value, buf, s->size);
        s->version++;
    }
    s->owner = 0;
    lfp_lsync_changed_unlock(&s->sync);
    return 0;
}

int lfp_locked_seqlock_write_commit(lfp_locked_seqlock *s, const void *buf)
{
    if (!s || !buf)
        return EINVAL;
    return end_write(s, buf);
}

int lfp_locked_seqlock_write_abort(lfp_locked_seqlock *s)
{
    if (!s)
        return EINVAL;
    return end_write(s, NULL);
}
