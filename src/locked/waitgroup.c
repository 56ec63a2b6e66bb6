/* SPDX-License-Identifier: BSD-2-Clause */
#include "lfpat/waitgroup.h"
#include "lsync.h"

int lfp_locked_waitgroup_init(lfp_locked_waitgroup *wg)
{
    if (!wg)
        return EINVAL;
    wg->count = 0;
    wg->phase = 0;
    return lfp_lsync_init(&wg->sync);
}

void lfp_locked_waitgroup_destroy(lfp_locked_waitgroup *wg)
{
    if (wg)
        lfp_lsync_destroy(&wg->sync);
}

int lfp_locked_waitgroup_add(lfp_locked_waitgroup *wg, int64_t delta)
{
    if (!wg)
        return EINVAL;
    if (delta < -LFP_WAITGROUP_MAX || delta > LFP_WAITGROUP_MAX)
        return EOVERFLOW;
    pthread_mutex_lock(&wg->sync.lock);
    int64_t count = wg->count + delta;
    if (count < 0 || count > LFP_WAITGROUP_MAX) {
        pthread_mutex_unlock(&wg->sync.lock);
        return EOVERFLOW;
    }
    wg->count = count;
    if (count == 0 && delta != 0) {
        wg->phase++;
        lfp_lsync_changed_unlock(&wg->sync);
    } else {
        pthread_mutex_unlock(&wg->sync.lock);
    }
    return 0;
}

int lfp_locked_waitgroup_done(lfp_locked_waitgroup *wg) { return lfp_locked_waitgroup_add(wg, -1); }

int64_t lfp_locked_waitgroup_count(lfp_locked_waitgroup *wg)
{
    pthread_mutex_lock(&wg->sync.lock);
    int64_t c = wg->count;
    pthread_mutex_unlock(&wg->sync.lock);
    return c;
}

struct wg_wait {
    lfp_locked_waitgroup *wg;
    uint64_t phase;
    bool started;
};

/* Lock held. The first call records the phase, as the lock-free wait does. */
static int wg_try(void *arg)
{
    struct wg_wait *w = arg;
    if (!w->started) {
        w->started = true;
        w->phase = w->wg->phase;
    }
    return w->wg->count == 0 || w->wg->phase != w->phase ? 0 : EAGAIN;
}

int lfp_locked_waitgroup_wait(lfp_locked_waitgroup *wg, int64_t deadline, lfp_cancel *cancel)
{
    if (!wg)
        return EINVAL;
    struct wg_wait w = { wg, 0, false };
    return lfp_lsync_wait(&wg->sync, wg_try, &w, deadline, cancel);
}
