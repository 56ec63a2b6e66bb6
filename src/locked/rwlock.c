/* SPDX-License-Identifier: BSD-2-Clause */
/* lfp_locked_rwlock: the mutex twin of lfp_rwlock (lfpat/locked/rwlock.h). */
#include "lfpat/locked/rwlock.h"

#include "lsync.h"

static uint32_t me(void) { return lfp_thread_slot() + 1; }

int lfp_locked_rwlock_init(lfp_locked_rwlock *rw)
{
    if (!rw)
        return EINVAL;
    rw->readers = rw->waiting_writers = rw->owner = 0;
    return lfp_lsync_init(&rw->sync);
}

int lfp_locked_rwlock_destroy(lfp_locked_rwlock *rw)
{
    if (!rw)
        return EINVAL;
    pthread_mutex_lock(&rw->sync.lock);
    bool busy = rw->readers || rw->waiting_writers || rw->owner;
    pthread_mutex_unlock(&rw->sync.lock);
    if (busy)
        return EBUSY;
    lfp_lsync_destroy(&rw->sync);
    return 0;
}

/* Under the lock: a read hold if no writer holds or waits. EAGAIN = keep
 * waiting (lsync's convention); E2BIG = too many readers (the caller's EAGAIN). */
static int read_now(void *arg)
{
    lfp_locked_rwlock *rw = arg;
    if (rw->owner || rw->waiting_writers)
        return EAGAIN;
    if (rw->readers == UINT32_MAX)
        return E2BIG;
    rw->readers++;
    return 0;
}

int lfp_locked_rwlock_rdlock(lfp_locked_rwlock *rw, int64_t deadline, lfp_cancel *cancel)
{
    if (!rw)
        return EINVAL;
    int rc = lfp_lsync_wait(&rw->sync, read_now, rw, deadline, cancel);
    return rc == E2BIG ? EAGAIN : rc;
}

int lfp_locked_rwlock_tryrdlock(lfp_locked_rwlock *rw)
{
    if (!rw)
        return EINVAL;
    pthread_mutex_lock(&rw->sync.lock);
    int rc = read_now(rw);
    pthread_mutex_unlock(&rw->sync.lock);
    return rc == EAGAIN ? EBUSY : rc == E2BIG ? EAGAIN : rc;
}

int lfp_locked_rwlock_rdunlock(lfp_locked_rwlock *rw)
{
    if (!rw)
        return EINVAL;
    pthread_mutex_lock(&rw->sync.lock);
    if (rw->readers == 0) {
        pthread_mutex_unlock(&rw->sync.lock);
        return EPERM;
    }
    rw->readers--;
    lfp_lsync_changed_unlock(&rw->sync);
    return 0;
}

/* Under the lock: a registered writer takes the lock if it is free. */
static int write_now(void *arg)
{
    lfp_locked_rwlock *rw = arg;
    if (rw->owner || rw->readers)
        return EAGAIN;
    rw->waiting_writers--;
    rw->owner = me();
    return 0;
}

int lfp_locked_rwlock_wrlock(lfp_locked_rwlock *rw, int64_t deadline, lfp_cancel *cancel)
{
    if (!rw)
        return EINVAL;
    pthread_mutex_lock(&rw->sync.lock);
    if (rw->owner == me()) {
        pthread_mutex_unlock(&rw->sync.lock);
        return EDEADLK;
    }
    if (rw->waiting_writers == 0xffff) {
        pthread_mutex_unlock(&rw->sync.lock);
        return EAGAIN;
    }
    rw->waiting_writers++;   /* from here on new readers wait */
    pthread_mutex_unlock(&rw->sync.lock);
    int rc = lfp_lsync_wait(&rw->sync, write_now, rw, deadline, cancel);
    if (rc != 0) {
        pthread_mutex_lock(&rw->sync.lock);
        rw->waiting_writers--;
        lfp_lsync_changed_unlock(&rw->sync);   /* readers it blocked may enter */
    }
    return rc;
}

int lfp_locked_rwlock_trywrlock(lfp_locked_rwlock *rw)
{
    if (!rw)
        return EINVAL;
    pthread_mutex_lock(&rw->sync.lock);
    int rc = rw->owner == me() ? EDEADLK : rw->owner || rw->readers ? EBUSY : 0;
    if (rc == 0)
        rw->owner = me();
    pthread_mutex_unlock(&rw->sync.lock);
    return rc;
}

/* Under the lock: end the caller's write hold, leaving `readers` read holds. */
static int end_write(lfp_locked_rwlock *rw, uint32_t readers)
{
    pthread_mutex_lock(&rw->sync.lock);
    if (rw->owner != me()) {
        pthread_mutex_unlock(&rw->sync.lock);
        return EPERM;
    }
    rw->owner = 0;
    rw->readers += readers;
    lfp_lsync_changed_unlock(&rw->sync);
    return 0;
}

int lfp_locked_rwlock_wrunlock(lfp_locked_rwlock *rw)
{
    return rw ? end_write(rw, 0) : EINVAL;
}

int lfp_locked_rwlock_downgrade(lfp_locked_rwlock *rw)
{
    return rw ? end_write(rw, 1) : EINVAL;
}
