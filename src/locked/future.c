/* SPDX-License-Identifier: BSD-2-Clause */
#include "lsync.h"

int lfp_locked_future_init(lfp_locked_future *f)
{
    if (!f)
        return EINVAL;
    f->ready = false;
    f->error = 0;
    f->value = NULL;
    return lfp_lsync_init(&f->sync);
}

void lfp_locked_future_destroy(lfp_locked_future *f)
{
    if (f)
        lfp_lsync_destroy(&f->sync);
}

int lfp_locked_future_set(lfp_locked_future *f, void *value, int error)
{
    if (!f)
        return EINVAL;
    pthread_mutex_lock(&f->sync.lock);
    if (f->ready) {
        pthread_mutex_unlock(&f->sync.lock);
        return EALREADY;
    }
    f->ready = true;
    f->value = value;
    f->error = error;
    lfp_lsync_changed_unlock(&f->sync);
    return 0;
}

bool lfp_locked_future_is_ready(lfp_locked_future *f)
{
    pthread_mutex_lock(&f->sync.lock);
    bool r = f->ready;
    pthread_mutex_unlock(&f->sync.lock);
    return r;
}

struct get_op {
    lfp_locked_future *f;
    void **value;
    int *error;
};

/* Lock held. */
static int get_locked(void *arg)
{
    struct get_op *op = arg;
    if (!op->f->ready)
        return EAGAIN;
    if (op->value)
        *op->value = op->f->value;
    if (op->error)
        *op->error = op->f->error;
    return 0;
}

int lfp_locked_future_try_get(lfp_locked_future *f, void **value, int *error)
{
    if (!f)
        return EINVAL;
    struct get_op op = { f, value, error };
    pthread_mutex_lock(&f->sync.lock);
    int rc = get_locked(&op);
    pthread_mutex_unlock(&f->sync.lock);
    return rc;
}

int lfp_locked_future_get(lfp_locked_future *f, void **value, int *error, int64_t deadline,
                          lfp_cancel *cancel)
{
    if (!f)
        return EINVAL;
    struct get_op op = { f, value, error };
    return lfp_lsync_wait(&f->sync, get_locked, &op, deadline, cancel);
}
