/* SPDX-License-Identifier: BSD-2-Clause */
#include "lfpat/future.h"

#include <limits.h>

#include "park.h"

int lfp_future_init(lfp_future *f)
{
    if (!f)
        return EINVAL;
    atomic_init(&f->state, LFP_FUTURE_EMPTY_);
    f->error = 0;
    f->value = NULL;
    lfp_ec_init(&f->ready);
    return 0;
}

void lfp_future_destroy(lfp_future *f) { (void)f; }

/* Getters are waiting (the setter saw WAITING): announce NOTIFYING, wake
 * them, then READY — the setter's last access to *f (see future.h). */
void lfp_future_wake_(lfp_future *f)
{
    /* release: publishes value and error (as READY does); getters do not
     * return on this value. */
    atomic_store_explicit(&f->state, LFP_FUTURE_READY_ | LFP_FUTURE_NOTIFYING_,
                          memory_order_release);
    lfp_ec_notify_all(&f->ready);
    /* release: pairs with the getters' acquire load of READY. */
    atomic_store_explicit(&f->state, LFP_FUTURE_READY_, memory_order_release);
    /* Wake getters parked in future_try until NOTIFYING clears. The wake
     * reads no memory (park.h: "Waking after the last access"): a getter
     * that saw READY may already have freed *f. */
    lfp_park_wake(&f->state, INT_MAX);
}

/* Rounds a woken getter spins (pause, then yield: lfp_spin_pause) waiting
 * for NOTIFYING to clear before it parks on the state word. Bounded: under
 * SCHED_FIFO the setter may be a lower-priority thread on this CPU that
 * cannot run while we spin or yield. */
#define NOTIFY_SPINS 40

/* 0 once READY; else make sure WAITING is set (so the setter notifies)
 * and return EAGAIN. While the setter is notifying, spin until it is done
 * (its wake has already been issued, so parking could miss it). */
static int future_try(void *arg)
{
    lfp_future *f = arg;
    /* acquire: pairs with the release READY store in lfp_future_wake_ /
     * lfp_future_set. */
    uint32_t s = atomic_load_explicit(&f->state, memory_order_acquire);
    for (unsigned round = 0; s & LFP_FUTURE_NOTIFYING_; round++) {
        if (round < NOTIFY_SPINS)
            lfp_spin_pause(round);
        else
            /* The setter's READY store changes the word before its wake:
             * this returns at once or is woken. No deadline: the future
             * is set, only the setter's last steps remain. */
            lfp_park_wait(&f->state, s, LFP_FOREVER);
        /* acquire: as above. */
        s = atomic_load_explicit(&f->state, memory_order_acquire);
    }
    while (!(s & LFP_FUTURE_READY_)) {
        if (s & LFP_FUTURE_WAITING_)
            return EAGAIN;
        /* acquire on both outcomes: as the load above. The wake-up argument
         * needs only that this RMW and the setter's CAS are on one word. */
        if (atomic_compare_exchange_weak_explicit(&f->state, &s, s | LFP_FUTURE_WAITING_,
                                                  memory_order_acquire, memory_order_acquire))
            return EAGAIN;
    }
    return 0;
}

void lfp_future_await_winner_(lfp_future *f)
{
    /* No deadline or token: the winner is past all its checks (two plain
     * stores and a CAS, or the notify) and finishes as soon as it runs. */
    (void)lfp_ec_await(&f->ready, future_try, f, LFP_FOREVER, NULL, false);
}

int lfp_future_get_slow_(lfp_future *f, void **value, int *error, int64_t deadline,
                         lfp_cancel *cancel)
{
    int rc = lfp_ec_await(&f->ready, future_try, f, deadline, cancel, false);
    if (rc == 0)
        rc = lfp_future_try_get(f, value, error);
    return rc;
}
