/* Fixed window and sliding-window counter: init, plain takes, estimate,
 * give-backs. The takes with a timestamp are inline in lfpat/ratelimit.h. */
#include "ratelimit_internal.h"

/* ------------------------------------------------------------ fixed window */

int lfp_fwindow_init(lfp_fwindow *w, uint64_t limit, int64_t window_ns)
{
    if (!w || limit == 0 || limit > LFP_FWINDOW_MAX_LIMIT || window_ns <= 0)
        return EINVAL;
    w->limit = (uint32_t)limit;
    w->window = window_ns;
    atomic_init(&w->state, LFP_FWINDOW_EMPTY_);   /* replaced by the first take */
    return 0;
}

int lfp_fwindow_take(lfp_fwindow *w, uint32_t n)
{
    return lfp_fwindow_take_at(w, n, lfp_rl_now_());
}

void lfp_fwindow_give_back_(lfp_fwindow *w, uint32_t n, uint32_t charged)
{
    /* relaxed: atomic on the one word; orders nothing. */
    uint64_t old = atomic_load_explicit(&w->state, memory_order_relaxed);
    for (;;) {
        uint32_t count = (uint32_t)old;
        if ((uint32_t)(old >> 32) != charged)
            return;                    /* a later window started: nothing to undo */
        count -= n < count ? n : count;
        /* relaxed: as above. */
        if (atomic_compare_exchange_weak_explicit(&w->state, &old,
                                                  (old & ~(uint64_t)UINT32_MAX) | count,
                                                  memory_order_relaxed, memory_order_relaxed))
            return;
    }
}

/* ------------------------------------------------------------ sliding window counter */

int lfp_swindow_init(lfp_swindow *w, uint64_t limit, int64_t window_ns)
{
    if (!w || limit == 0 || limit > LFP_SWINDOW_MAX_LIMIT || window_ns <= 0)
        return EINVAL;
    w->limit = (uint32_t)limit;
    w->window = window_ns;
    atomic_init(&w->state, LFP_SW_EMPTY_);   /* replaced by the first take */
    return 0;
}

int lfp_swindow_take(lfp_swindow *w, uint32_t n)
{
    return lfp_swindow_take_at(w, n, lfp_rl_now_());
}

double lfp_swindow_estimate_at(const lfp_swindow *w, int64_t now)
{
    int64_t e;
    /* relaxed: a snapshot of the one word; orders nothing. */
    lfp_sw_state_ s = lfp_sw_at_(w, atomic_load_explicit(&((lfp_swindow *)w)->state,
                                                         memory_order_relaxed), now, &e);
    return (double)s.prev * (double)(w->window - e) / (double)w->window + s.cur;
}

void lfp_swindow_give_back_(lfp_swindow *w, uint32_t n, uint32_t charged)
{
    /* relaxed: atomic on the one word; orders nothing. */
    uint64_t old = atomic_load_explicit(&w->state, memory_order_relaxed);
    for (;;) {
        lfp_sw_state_ s = lfp_sw_unpack_(old);
        uint32_t *c = s.id == charged ? &s.cur
                    : s.id == ((charged + 1) & LFP_SW_ID_MASK_) ? &s.prev : NULL;
        if (!c)
            return;                    /* the charged window no longer counts */
        *c -= n < *c ? n : *c;
        /* relaxed: as above. */
        if (atomic_compare_exchange_weak_explicit(&w->state, &old, lfp_sw_pack_(s),
                                                  memory_order_relaxed, memory_order_relaxed))
            return;
    }
}
