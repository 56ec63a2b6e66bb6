/* SPDX-License-Identifier: BSD-2-Clause */
/* Fixed window and sliding-window counter: init, plain takes, estimate,
 * give-backs. The takes with a timestamp are inline in lfpat/ratelimit.h. */
#include "ratelimit_internal.h"

/* Bits to hold 0 .. limit with the all-ones value above limit (so the
 * all-ones word is never a state): the bit width of limit + 1. */
static unsigned count_bits(uint64_t limit)
{
    unsigned c = 0;
    while ((limit + 1) >> c)
        c++;
    return c;
}

/* Id layout for `bits` id bits: exact when every window id of the int64
 * time line, minus the lowest, fits in them. */
static lfp_rl_ids_ ids_for(int64_t window, unsigned bits)
{
    lfp_rl_ids_ ids;
    ids.mask = bits >= 64 ? UINT64_MAX : (UINT64_C(1) << bits) - 1;
    int64_t lo = lfp_rl_floor_div_(INT64_MIN, window), hi = lfp_rl_floor_div_(INT64_MAX, window);
    ids.exact = (uint64_t)hi - (uint64_t)lo <= ids.mask && bits <= 62;
    ids.base = ids.exact ? lo : 0;
    return ids;
}

/* ------------------------------------------------------------ fixed window */

int lfp_fwindow_init(lfp_fwindow *w, uint64_t limit, int64_t window_ns)
{
    if (!w || limit == 0 || limit > LFP_FWINDOW_MAX_LIMIT || window_ns <= 0)
        return EINVAL;
    w->limit = (uint32_t)limit;
    w->window = window_ns;
    w->cbits = count_bits(limit);
    w->ids = ids_for(window_ns, 64 - w->cbits);
    atomic_init(&w->state, LFP_FWINDOW_EMPTY_);   /* replaced by the first take */
    atomic_init(&w->stats_, NULL);
    atomic_init(&w->era, INT64_MIN);   /* below every window: raised by each roll */
    return 0;
}

void lfp_fwindow_destroy(lfp_fwindow *w)
{
    if (w)
        lfp_rl_stats_free_(&w->stats_);
}

int lfp_fwindow_stats_enable(lfp_fwindow *w)
{
    return w ? lfp_rl_stats_enable_(&w->stats_) : EINVAL;
}

int lfp_fwindow_stats(const lfp_fwindow *w, struct lfp_rl_stats *out)
{
    return w && out ? lfp_rl_stats_read_(&w->stats_, out) : EINVAL;
}

int lfp_fwindow_take(lfp_fwindow *w, uint32_t n)
{
    return lfp_fwindow_take_at(w, n, lfp_rl_now_());
}

void lfp_fwindow_give_back_(lfp_fwindow *w, uint32_t n, uint64_t charged)
{
    uint64_t cmask = (UINT64_C(1) << w->cbits) - 1;
    /* relaxed: atomic on the one word; orders nothing. */
    uint64_t old = atomic_load_explicit(&w->state, memory_order_relaxed);
    for (;;) {
        uint64_t count = old & cmask;
        if (old == LFP_FWINDOW_EMPTY_ || old >> w->cbits != charged)
            return;                    /* a later window started: nothing to undo */
        count -= n < count ? n : count;
        /* relaxed: as above. */
        if (atomic_compare_exchange_weak_explicit(&w->state, &old, (old & ~cmask) | count,
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
    w->cbits = count_bits(limit);
    w->ids = ids_for(window_ns, 64 - 2 * w->cbits);
    atomic_init(&w->state, LFP_SW_EMPTY_);   /* replaced by the first take */
    atomic_init(&w->stats_, NULL);
    atomic_init(&w->era, INT64_MIN);   /* below every window: raised by each roll */
    return 0;
}

void lfp_swindow_destroy(lfp_swindow *w)
{
    if (w)
        lfp_rl_stats_free_(&w->stats_);
}

int lfp_swindow_stats_enable(lfp_swindow *w)
{
    return w ? lfp_rl_stats_enable_(&w->stats_) : EINVAL;
}

int lfp_swindow_stats(const lfp_swindow *w, struct lfp_rl_stats *out)
{
    return w && out ? lfp_rl_stats_read_(&w->stats_, out) : EINVAL;
}

int lfp_swindow_take(lfp_swindow *w, uint32_t n)
{
    return lfp_swindow_take_at(w, n, lfp_rl_now_());
}

double lfp_swindow_estimate_at(const lfp_swindow *w, int64_t now)
{
    int64_t e;
    /* acquire: a snapshot of the one word, decoded with era (lfp_rl_era_). */
    lfp_swindow *m = (lfp_swindow *)w;   /* the loads write nothing */
    lfp_sw_state_ s = lfp_sw_at_(m, atomic_load_explicit(&m->state, memory_order_acquire), now, &e);
    return (double)s.prev * (double)(w->window - e) / (double)w->window + s.cur;
}

void lfp_swindow_give_back_(lfp_swindow *w, uint32_t n, uint64_t charged)
{
    /* relaxed: atomic on the one word; orders nothing. */
    uint64_t old = atomic_load_explicit(&w->state, memory_order_relaxed);
    for (;;) {
        if (old == LFP_SW_EMPTY_)
            return;
        lfp_sw_state_ s = lfp_sw_unpack_(w, old);
        uint32_t *c = s.id == charged ? &s.cur
                    : s.id == ((charged + 1) & w->ids.mask) ? &s.prev : NULL;
        if (!c)
            return;                    /* the charged window no longer counts */
        *c -= n < *c ? n : *c;
        /* relaxed: as above. */
        if (atomic_compare_exchange_weak_explicit(&w->state, &old, lfp_sw_pack_(w, s),
                                                  memory_order_relaxed, memory_order_relaxed))
            return;
    }
}

/* ------------------------------------------------------------ ready times (waits) */

/* Window number of the stored id `stored`, as seen from `now`: the id
 * arithmetic of the takes (exact ids, or modular ones read with era). */
static int64_t stored_k(const lfp_rl_ids_ *ids, const _Atomic(int64_t) *era, uint64_t stored,
                        int64_t now, int64_t window)
{
    if (!ids->exact)   /* cast: the load writes nothing */
        return lfp_rl_full_id_(ids, stored, lfp_rl_era_((_Atomic(int64_t) *)era));
    int64_t k = lfp_rl_floor_div_(now, window);
    return k + lfp_rl_id_delta_(stored, lfp_rl_id_of_(ids, now, window));
}

/* A take of n waits for the window after the stored one (a later `now`
 * starts a fresh window, which admits any n <= limit). */
int64_t lfp_fwindow_ready_at_(const lfp_fwindow *w, uint32_t n, int64_t now)
{
    uint64_t cmask = (UINT64_C(1) << w->cbits) - 1;
    /* acquire: a snapshot of the one word, decoded with era (lfp_rl_era_);
     * the take re-checks it. */
    uint64_t v = atomic_load_explicit(&((lfp_fwindow *)w)->state, memory_order_acquire);
    if (v == LFP_FWINDOW_EMPTY_ || (v & cmask) + n <= w->limit)
        return now;
    int64_t k = stored_k(&w->ids, &w->era, v >> w->cbits, now, w->window);
    if (k < lfp_rl_floor_div_(now, w->window))
        return now;                 /* `now` is already in a later window */
    return lfp_rl_window_start_((lfp_i128_)k + 1, w->window);
}

/* With prev and cur fixed, est + n <= limit holds in window k from offset
 * e = W - floor((limit - cur - n) * W / prev) on (prev * (W - e) <= (limit -
 * cur - n) * W); in window k + 1 (prev' = cur, cur' = 0) from e' = W -
 * floor((limit - n) * W / cur); in window k + 2 always. The first such time
 * not before `now`. */
int64_t lfp_swindow_ready_at_(const lfp_swindow *w, uint32_t n, int64_t now)
{
    /* acquire: a snapshot of the one word, decoded with era (lfp_rl_era_);
     * the take re-checks it. */
    uint64_t v = atomic_load_explicit(&((lfp_swindow *)w)->state, memory_order_acquire);
    if (v == LFP_SW_EMPTY_)
        return now;
    int64_t e;
    lfp_sw_state_ s = lfp_sw_at_((lfp_swindow *)w, v, now, &e);   /* the loads write nothing */
    if (lfp_sw_admits_(w, s, e, n))
        return now;
    lfp_i128_ k = s.k, wnd = w->window;
    if ((uint64_t)s.cur + n <= w->limit && s.prev) {
        lfp_i128_ off = wnd - ((lfp_i128_)(w->limit - s.cur - n) * wnd) / s.prev;
        if (off < wnd)
            return lfp_time_add(lfp_rl_window_start_(k, w->window), (int64_t)off);
    }
    lfp_i128_ off = s.cur ? wnd - ((lfp_i128_)(w->limit - n) * wnd) / s.cur : 0;
    if (off < 0)
        off = 0;
    if (off < wnd)
        return lfp_time_add(lfp_rl_window_start_(k + 1, w->window), (int64_t)off);
    return lfp_rl_window_start_(k + 2, w->window);
}

/* ------------------------------------------------------------ results (redis-cell style) */

/* The state read after the call (a snapshot: takes racing with it may be
 * counted); retry_after for n (1 for a peek) unless this call admitted. */
int lfp_fwindow_take_result_at(lfp_fwindow *w, uint32_t n, int64_t now, struct lfp_rl_result *res)
{
    if (!w || !res)
        return EINVAL;
    int rc = n ? lfp_fwindow_take_at(w, n, now) : 0;
    if (rc == EINVAL)
        return rc;
    uint64_t cmask = (UINT64_C(1) << w->cbits) - 1;
    /* acquire: a snapshot of the one word, decoded with era (lfp_rl_era_). */
    uint64_t v = atomic_load_explicit(&w->state, memory_order_acquire);
    int64_t k = v == LFP_FWINDOW_EMPTY_ ? INT64_MIN : stored_k(&w->ids, &w->era, v >> w->cbits, now, w->window);
    uint64_t count = k < lfp_rl_floor_div_(now, w->window) ? 0 : v & cmask;
    res->limit = w->limit;
    res->remaining = (int64_t)(w->limit - count);
    res->reset_ns = count ? lfp_rl_until_(now, lfp_rl_window_start_((lfp_i128_)k + 1, w->window)) : 0;
    res->retry_after_ns = rc == 0 && n != 0
                              ? 0
                              : lfp_rl_retry_after_(now, lfp_fwindow_ready_at_(w, n ? n : 1, now));
    return rc;
}

int lfp_fwindow_take_result(lfp_fwindow *w, uint32_t n, struct lfp_rl_result *res)
{
    return lfp_fwindow_take_result_at(w, n, lfp_rl_now_(), res);
}

/* remaining: the largest m with prev * (W - e) + (cur + m) * W <= limit * W
 * (lfp_sw_admits_). Full again when prev's weight and cur are gone: at the
 * end of window k (only prev counts) or of k + 1. */
int lfp_swindow_take_result_at(lfp_swindow *w, uint32_t n, int64_t now, struct lfp_rl_result *res)
{
    if (!w || !res)
        return EINVAL;
    int rc = n ? lfp_swindow_take_at(w, n, now) : 0;
    if (rc == EINVAL)
        return rc;
    /* acquire: a snapshot of the one word, decoded with era (lfp_rl_era_). */
    uint64_t v = atomic_load_explicit(&w->state, memory_order_acquire);
    int64_t e;
    lfp_sw_state_ s = v == LFP_SW_EMPTY_ ? (lfp_sw_state_){ 0, 0, 0, 0 } : lfp_sw_at_(w, v, now, &e);
    lfp_i128_ wnd = w->window, k = v == LFP_SW_EMPTY_ ? 0 : s.k;
    lfp_i128_ room = v == LFP_SW_EMPTY_ ? (lfp_i128_)w->limit * wnd
                   : ((lfp_i128_)w->limit - s.cur) * wnd - (lfp_i128_)s.prev * (wnd - e);
    res->limit = w->limit;
    res->remaining = room <= 0 ? 0 : (int64_t)(room / wnd);
    res->reset_ns = s.cur ? lfp_rl_until_(now, lfp_rl_window_start_(k + 2, w->window))
                  : s.prev ? lfp_rl_until_(now, lfp_rl_window_start_(k + 1, w->window)) : 0;
    res->retry_after_ns = rc == 0 && n != 0
                              ? 0
                              : lfp_rl_retry_after_(now, lfp_swindow_ready_at_(w, n ? n : 1, now));
    return rc;
}

int lfp_swindow_take_result(lfp_swindow *w, uint32_t n, struct lfp_rl_result *res)
{
    return lfp_swindow_take_result_at(w, n, lfp_rl_now_(), res);
}
