#include "lfpat/waitgroup.h"

int lfp_waitgroup_init(lfp_waitgroup *wg)
{
    if (!wg)
        return EINVAL;
    atomic_init(&wg->state, 0);
    lfp_ec_init(&wg->zero);
    return 0;
}

void lfp_waitgroup_destroy(lfp_waitgroup *wg) { (void)wg; }

struct wg_wait {
    lfp_waitgroup *wg;
    uint32_t phase;   /* the phase current when the wait began */
};

static bool wg_ended(uint64_t s, uint32_t phase)
{
    return lfp_wg_count_(s) == 0 || lfp_wg_phase_(s) != phase;
}

/* 0 once the count is zero or the phase has moved on; else make sure
 * WAITING is set (so the ending add notifies) and return EAGAIN. */
static int wg_try(void *arg)
{
    struct wg_wait *w = arg;
    /* acquire: pairs with the acq_rel CAS in lfp_waitgroup_add that ended
     * the phase (or any later add in its release sequence), making every
     * task's writes before its done visible to the waiter. */
    uint64_t s = atomic_load_explicit(&w->wg->state, memory_order_acquire);
    while (!wg_ended(s, w->phase)) {
        if (s & LFP_WG_WAITING_)
            return EAGAIN;
        /* acquire on both outcomes: as the load above. The wake-up argument
         * needs only that this RMW and the ending add's are on one word. */
        if (atomic_compare_exchange_weak_explicit(&w->wg->state, &s, s | LFP_WG_WAITING_,
                                                  memory_order_acquire, memory_order_acquire))
            return EAGAIN;
    }
    return 0;
}

int lfp_waitgroup_wait(lfp_waitgroup *wg, int64_t deadline, lfp_cancel *cancel)
{
    if (!wg)
        return EINVAL;
    /* acquire: as in wg_try (the count may already be zero). */
    uint64_t s = atomic_load_explicit(&wg->state, memory_order_acquire);
    if (lfp_wg_count_(s) == 0)
        return 0;
    struct wg_wait w = { wg, lfp_wg_phase_(s) };
    return lfp_ec_await(&wg->zero, wg_try, &w, deadline, cancel, false);
}
