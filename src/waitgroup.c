/* SPDX-License-Identifier: BSD-2-Clause */
#include "lfpat/waitgroup.h"

#include <limits.h>

#include "park.h"

int lfp_waitgroup_init(lfp_waitgroup *wg)
{
    if (!wg)
        return EINVAL;
    atomic_init(&wg->state, 0);
    lfp_ec_init(&wg->zero);
    return 0;
}

void lfp_waitgroup_destroy(lfp_waitgroup *wg) { (void)wg; }

void lfp_waitgroup_wake_(lfp_waitgroup *wg)
{
    lfp_ec_notify_all(&wg->zero);
    /* release: pairs with the waiters' acquire loads that see NOTIFYING
     * drop to zero; after this the add touches nothing. */
    atomic_fetch_sub_explicit(&wg->state, LFP_WG_NOTIFY_ONE_, memory_order_release);
    /* Wake waiters parked in wg_try until NOTIFYING drops. The wake does
     * not access *wg (park.h: "Waking after the last access"), so it is
     * safe even if a waiter has already returned and freed it. */
    lfp_park_wake64(&wg->state, INT_MAX);
}

/* Rounds a woken waiter spins (pause, then yield: lfp_spin_pause) waiting
 * for NOTIFYING to drop before it parks on the state word. Bounded: under
 * SCHED_FIFO the notifier may be a lower-priority thread on this CPU that
 * cannot run while we spin or yield. */
#define NOTIFY_SPINS 40

struct wg_wait {
    lfp_waitgroup *wg;
    uint32_t phase;   /* the phase current when the wait began */
};

static bool wg_ended(uint64_t s, uint32_t phase)
{
    return lfp_wg_count_(s) == 0 || lfp_wg_phase_(s) != phase;
}

/* Once the phase ended: wait out any add still notifying (its wake-up has
 * been issued, so parking could miss it), then 0. Else make sure WAITING is
 * set (so the ending add notifies) and return EAGAIN. */
static int wg_try(void *arg)
{
    struct wg_wait *w = arg;
    /* acquire: pairs with the acq_rel CAS in lfp_waitgroup_add that ended
     * the phase (or any later add in its release sequence), making every
     * task's writes before its done visible to the waiter; and with the
     * release in lfp_waitgroup_wake_. */
    uint64_t s = atomic_load_explicit(&w->wg->state, memory_order_acquire);
    for (unsigned round = 0;; round++) {
        if (wg_ended(s, w->phase)) {
            if (!(s & LFP_WG_NOTIFYING_))
                return 0;
            if (round < NOTIFY_SPINS)
                lfp_spin_pause(round);
            else
                /* NOTIFYING is in the low half, which the futex compares;
                 * the notifier's fetch_sub changes it before its wake, so
                 * this returns at once or is woken (no deadline: the phase
                 * has ended, only the notifier's last steps remain). */
                lfp_park_wait64(&w->wg->state, s, LFP_FOREVER);
            /* acquire: as above. */
            s = atomic_load_explicit(&w->wg->state, memory_order_acquire);
        } else if (s & LFP_WG_WAITING_) {
            return EAGAIN;
        } else if (atomic_compare_exchange_weak_explicit(&w->wg->state, &s,
                                                         s | LFP_WG_WAITING_,
                                                         memory_order_acquire,
                                                         memory_order_acquire)) {
            /* acquire on both outcomes: as the load above. The wake-up
             * argument needs only that this RMW and the ending add's are on
             * one word. */
            return EAGAIN;
        }
    }
}

int lfp_waitgroup_wait(lfp_waitgroup *wg, int64_t deadline, lfp_cancel *cancel)
{
    if (!wg)
        return EINVAL;
    /* acquire: as in wg_try (the count may already be zero). */
    uint64_t s = atomic_load_explicit(&wg->state, memory_order_acquire);
    if (lfp_wg_count_(s) == 0 && !(s & LFP_WG_NOTIFYING_))
        return 0;
    struct wg_wait w = { wg, lfp_wg_phase_(s) };
    return lfp_ec_await(&wg->zero, wg_try, &w, deadline, cancel, false);
}
