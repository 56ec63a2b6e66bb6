/* SPDX-License-Identifier: BSD-2-Clause */
/* lfpat/internal/ratelimit.h — internal: the inline definitions behind
 * lfpat/ratelimit.h (its inline calls and their helpers, with the ordering
 * argument at each atomic). Not part of the API: names ending in '_'
 * may change in any release. Include <lfpat/ratelimit.h>, not this. */
#ifndef LFPAT_INTERNAL_RATELIMIT_H
#define LFPAT_INTERNAL_RATELIMIT_H

#include "lfpat/ratelimit.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Saturating a + b for time values (a, b may be negative). */
static inline int64_t lfp_rl_sat_add_(int64_t a, int64_t b) { return lfp_time_add(a, b); }

/* Saturating n * t for a non-negative span t (no division: this is on
 * every take's path). */
static inline int64_t lfp_rl_span_(uint64_t n, int64_t t)
{
    int64_t r;
    if (n > (uint64_t)INT64_MAX || __builtin_mul_overflow((int64_t)n, t, &r))
        return INT64_MAX;
    return r;
}

/* floor(now / w) for w > 0 (rounds towards minus infinity). */
static inline int64_t lfp_rl_floor_div_(int64_t now, int64_t w)
{
    int64_t q = now / w;
    return (now % w < 0) ? q - 1 : q;
}

#define LFP_BUCKET_CHANGING_ INT64_MAX   /* TAT during set_*: refuses every take */

/* A lock-free limiter's counts (struct lfp_rl_stats), allocated by its
 * *_stats_enable. */
struct lfp_rl_counts_ {
    lfp_striped allowed, denied;   /* the takes: per-thread cells */
    alignas(LFP_CACHELINE) _Atomic(uint64_t) waited;   /* the waits: slow path */
    _Atomic(uint64_t) timed_out;
    _Atomic(uint64_t) cancelled;
};

/* Count a take's result (0: allowed, EAGAIN: denied, else nothing) if
 * stats are enabled. `slot` must belong to a valid limiter. */
static inline void lfp_rl_note_(_Atomic(lfp_rl_counts_ *) const *slot, int rc)
{
    /* acquire: pairs with the release CAS of lfp_rl_stats_enable_ (the
     * counts' cells are initialised before the pointer is seen). */
    lfp_rl_counts_ *c = atomic_load_explicit(slot, memory_order_acquire);
    if (LFP_UNLIKELY(c != NULL) && (rc == 0 || rc == EAGAIN))
        lfp_striped_add(rc == 0 ? &c->allowed : &c->denied, 1);
}

/* lfp_bucket_take_at without counting (the stats' note is the caller's). */
static inline int lfp_bucket_take_at_(lfp_bucket *b, uint32_t n, int64_t now)
{
    if (LFP_UNLIKELY(!b))
        return EINVAL;
    /* acquire: pairs with the release store of TAT in set_rate_at /
     * set_burst_at: a TAT value written by a change is read with the
     * parameters it was computed for (loaded below, after it). */
    int64_t old = atomic_load_explicit(&b->tat, memory_order_acquire);
    for (;;) {
        /* relaxed: ordered after the acquire load of TAT above (or the
         * acquire failure of the CAS below). A value older than that TAT is
         * impossible; a newer one (a change racing this take) makes the CAS
         * fail, as the change moved TAT, unless the new TAT equals the old
         * one, and then the new parameters are the right ones for it. */
        int64_t t = atomic_load_explicit(&b->interval, memory_order_relaxed);
        uint32_t burst = atomic_load_explicit(&b->burst, memory_order_relaxed);
        if (LFP_UNLIKELY(n == 0 || n > burst || t == 0))
            return n != 0 && t == 0 ? 0 : EINVAL;   /* unlimited: admitted, no write */
        uint64_t slack = (uint64_t)(burst - n) * (uint64_t)t;   /* <= 2^62: no overflow */
        int64_t cost = (int64_t)n * t;
        int64_t base = old > now ? old : now;
        /* TAT stays below INT64_MAX (the "changing" mark, refused here) */
        if ((uint64_t)base - (uint64_t)now > slack || base >= INT64_MAX - cost)
            return EAGAIN;
        /* acquire on failure: as the load above (the reloaded TAT is read
         * with its parameters); on success only because C11 wants it no
         * weaker than the failure order: limiters publish nothing, and the
         * RMW is atomic on this one word, which is all admission needs. */
        if (atomic_compare_exchange_weak_explicit(&b->tat, &old, base + cost,
                                                  memory_order_acquire, memory_order_acquire))
            return 0;
    }
}

static inline int lfp_bucket_take_at(lfp_bucket *b, uint32_t n, int64_t now)
{
    int rc = lfp_bucket_take_at_(b, n, now);   /* the take, uncounted */
    if (LFP_LIKELY(rc != EINVAL))
        lfp_rl_note_(&b->stats_, rc);
    return rc;
}

static inline uint64_t lfp_rl_id_of_(const lfp_rl_ids_ *ids, int64_t now, int64_t window)
{
    /* unsigned: exact ids are k - base in [0, mask]; modular ids wrap. */
    return ((uint64_t)lfp_rl_floor_div_(now, window) - (uint64_t)ids->base) & ids->mask;
}

/* Exact ids: how many windows id a is after stored id b (negative when a
 * is before b: time going backwards). Modular ids use lfp_rl_full_id_. */
static inline int64_t lfp_rl_id_delta_(uint64_t a, uint64_t b)
{
    return (int64_t)(a - b);            /* both in [0, 2^62] */
}

/* Modular ids (see "Idle gaps and ids" in lfpat/ratelimit.h): the full
 * window number of stored id m, the one congruent to m modulo 2^bits at or
 * below era (wrapping unsigned arithmetic: era - m and the result fit). */
static inline int64_t lfp_rl_full_id_(const lfp_rl_ids_ *ids, uint64_t m, int64_t era)
{
    return (int64_t)((uint64_t)era - (((uint64_t)era - m) & ids->mask));
}

/* The era as a reader of the state word sees it. relaxed: the caller read
 * the word with acquire, which synchronizes with the release CAS of the
 * roller that stored its id (every later change of the word is an RMW, in
 * that CAS's release sequence); the roller raised era before that CAS, so
 * this load sees era at or above the stored window (coherence). */
static inline int64_t lfp_rl_era_(_Atomic(int64_t) *era)
{
    return atomic_load_explicit(era, memory_order_relaxed);
}

/* Raise era to at least window k, before the CAS that rolls the state to k.
 * relaxed: the roller's release CAS orders it (see lfp_rl_era_). */
static inline void lfp_rl_era_raise_(_Atomic(int64_t) *era, int64_t k)
{
    int64_t e = atomic_load_explicit(era, memory_order_relaxed);
    while (e < k && !atomic_compare_exchange_weak_explicit(era, &e, k, memory_order_relaxed,
                                                           memory_order_relaxed))
        ;
}

/* How window k compares with the stored window f: 2 (two or more after),
 * 1 (the next), 0 (the same) or -1 (before). */
static inline int64_t lfp_rl_cmp_(int64_t k, int64_t f)
{
    return k > f ? (k - 1 == f ? 1 : 2) : k < f ? -1 : 0;
}

#define LFP_FWINDOW_EMPTY_ UINT64_MAX   /* before the first take (count > any limit) */

/* The take for modular ids: as the exact one, with the stored id decoded
 * against era and era raised before a roll. */
static inline int lfp_fwindow_take_era_(lfp_fwindow *w, uint32_t n, int64_t now,
                                        uint64_t *charged)
{
    int64_t k = lfp_rl_floor_div_(now, w->window);
    uint64_t cmask = (UINT64_C(1) << w->cbits) - 1;
    /* acquire: pairs with the rollers' release CAS (see lfp_rl_era_). */
    uint64_t old = atomic_load_explicit(&w->state, memory_order_acquire);
    for (;;) {
        uint64_t wid = old >> w->cbits, count = old & cmask;
        bool roll = old == LFP_FWINDOW_EMPTY_ ||
                    k > lfp_rl_full_id_(&w->ids, wid, lfp_rl_era_(&w->era));
        if (roll) {
            wid = (uint64_t)k & w->ids.mask;
            count = 0;
        }
        if (count + n > w->limit)
            return EAGAIN;
        if (roll)
            lfp_rl_era_raise_(&w->era, k);
        /* release on success: publishes the era raise to readers of the
         * word (lfp_rl_era_; acq_rel as C11 wants it no weaker than the
         * failure order); acquire on failure: the reloaded word is decoded. */
        if (atomic_compare_exchange_weak_explicit(&w->state, &old, wid << w->cbits | (count + n),
                                                  memory_order_acq_rel, memory_order_acquire)) {
            *charged = wid;
            return 0;
        }
    }
}


/* lfp_fwindow_take_at, also telling which window id the take was charged
 * to (lfp_limit_all gives back to exactly that window). */
static inline int lfp_fwindow_take_charged_(lfp_fwindow *w, uint32_t n, int64_t now,
                                            uint64_t *charged)
{
    if (LFP_UNLIKELY(!w || n == 0 || n > w->limit))
        return EINVAL;
    if (LFP_UNLIKELY(!w->ids.exact))
        return lfp_fwindow_take_era_(w, n, now, charged);
    uint64_t id = lfp_rl_id_of_(&w->ids, now, w->window);
    uint64_t cmask = (UINT64_C(1) << w->cbits) - 1;
    /* relaxed: the decision depends on this word alone; the CAS checks it. */
    uint64_t old = atomic_load_explicit(&w->state, memory_order_relaxed);
    for (;;) {
        uint64_t wid = old >> w->cbits, count = old & cmask;
        if (old == LFP_FWINDOW_EMPTY_ || lfp_rl_id_delta_(id, wid) > 0) {
            wid = id;
            count = 0;
        }
        if (count + n > w->limit)
            return EAGAIN;
        /* relaxed: limiters publish nothing; atomicity on the word suffices. */
        if (atomic_compare_exchange_weak_explicit(&w->state, &old, wid << w->cbits | (count + n),
                                                  memory_order_relaxed, memory_order_relaxed)) {
            *charged = wid;
            return 0;
        }
    }
}

static inline int lfp_fwindow_take_at(lfp_fwindow *w, uint32_t n, int64_t now)
{
    uint64_t charged;
    int rc = lfp_fwindow_take_charged_(w, n, now, &charged);   /* uncounted */
    if (LFP_LIKELY(rc != EINVAL))
        lfp_rl_note_(&w->stats_, rc);
    return rc;
}


/* Internal, for the inline take: the word's fields, the state as seen at
 * `now`, and the admission test. */
#define LFP_SW_EMPTY_ UINT64_MAX   /* before the first take (cur above every limit) */

__extension__ typedef unsigned __int128 lfp_u128_;

typedef struct lfp_sw_state_ {
    uint64_t id;
    uint32_t prev, cur;
    int64_t k;        /* the window's number: set by lfp_sw_at_ only */
} lfp_sw_state_;

static inline lfp_sw_state_ lfp_sw_unpack_(const lfp_swindow *w, uint64_t v)
{
    uint64_t cmask = (UINT64_C(1) << w->cbits) - 1;
    lfp_sw_state_ s = { v >> (2 * w->cbits), (uint32_t)((v >> w->cbits) & cmask),
                        (uint32_t)(v & cmask), 0 };   /* no compound literal: C++ has none */
    return s;
}

static inline uint64_t lfp_sw_pack_(const lfp_swindow *w, lfp_sw_state_ s)
{
    return s.id << (2 * w->cbits) | (uint64_t)s.prev << w->cbits | s.cur;
}

/* The state as seen at `now` (window k, offset e): rolled forward when k is
 * after the stored window; the stored window (offset 0: full weight of prev,
 * the conservative choice) when `now` is older. Stores the offset to use.
 * With modular ids the caller read `word` with acquire (lfp_rl_era_). */
static inline lfp_sw_state_ lfp_sw_at_(lfp_swindow *w, uint64_t word, int64_t now,
                                       int64_t *e)
{
    lfp_sw_state_ s = lfp_sw_unpack_(w, word);
    int64_t k = lfp_rl_floor_div_(now, w->window);
    uint64_t id = lfp_rl_id_of_(&w->ids, now, w->window);
    *e = (int64_t)((uint64_t)now - (uint64_t)k * (uint64_t)w->window);  /* no overflow */
    int64_t d = 2;
    if (word == LFP_SW_EMPTY_) {
    } else if (LFP_LIKELY(w->ids.exact)) {
        d = lfp_rl_id_delta_(id, s.id);
        s.k = (int64_t)((uint64_t)k - (uint64_t)d);   /* the stored window, exactly */
    } else {
        s.k = lfp_rl_full_id_(&w->ids, s.id, lfp_rl_era_(&w->era));
        d = lfp_rl_cmp_(k, s.k);
    }
    if (d > 0) {
        s.prev = d == 1 ? s.cur : 0;
        s.cur = 0;
        s.id = id;
        s.k = k;
    } else if (d < 0) {
        *e = 0;
    }
    return s;
}

/* est + n <= limit, exactly: prev * (W - e) + (cur + n) * W <= limit * W.
 * As 0 <= e < W, est <= prev + cur: when prev + cur + n <= limit the take is
 * admitted without the products (the common case, well below the limit;
 * 9% faster a take in the 1-thread benchmark). */
static inline bool lfp_sw_admits_(const lfp_swindow *w, lfp_sw_state_ s, int64_t e, uint32_t n)
{
    if ((uint64_t)s.prev + s.cur + n <= w->limit)
        return true;
    lfp_u128_ wnd = (lfp_u128_)(uint64_t)w->window;
    return (lfp_u128_)s.prev * (uint64_t)(w->window - e) + (lfp_u128_)(s.cur + n) * wnd
           <= (lfp_u128_)w->limit * wnd;
}

/* lfp_swindow_take_at, also telling which window id the take was charged
 * to (lfp_limit_all gives back to exactly that window). */
/* The take for modular ids: as the exact one, with era raised before a
 * roll (lfp_sw_at_ decodes the stored id against it). */
static inline int lfp_swindow_take_era_(lfp_swindow *w, uint32_t n, int64_t now,
                                        uint64_t *charged)
{
    /* acquire: pairs with the rollers' release CAS (see lfp_rl_era_). */
    uint64_t old = atomic_load_explicit(&w->state, memory_order_acquire);
    for (;;) {
        int64_t e;
        lfp_sw_state_ s = lfp_sw_at_(w, old, now, &e);
        if (!lfp_sw_admits_(w, s, e, n))
            return EAGAIN;
        s.cur += n;   /* <= limit: est >= cur */
        /* a no-op unless this rolls: else now's window is at or before the
         * stored one, at or below era */
        lfp_rl_era_raise_(&w->era, lfp_rl_floor_div_(now, w->window));
        /* release on success (acq_rel as C11 wants it no weaker than the
         * failure order): publishes the era raise; acquire on failure: the
         * reloaded word is decoded. */
        if (atomic_compare_exchange_weak_explicit(&w->state, &old, lfp_sw_pack_(w, s),
                                                  memory_order_acq_rel, memory_order_acquire)) {
            *charged = s.id;
            return 0;
        }
    }
}

static inline int lfp_swindow_take_charged_(lfp_swindow *w, uint32_t n, int64_t now,
                                            uint64_t *charged)
{
    if (LFP_UNLIKELY(!w || n == 0 || n > w->limit))
        return EINVAL;
    if (LFP_UNLIKELY(!w->ids.exact))
        return lfp_swindow_take_era_(w, n, now, charged);
    /* relaxed: the decision depends on this word alone; the CAS checks it. */
    uint64_t old = atomic_load_explicit(&w->state, memory_order_relaxed);
    for (;;) {
        int64_t e;
        lfp_sw_state_ s = lfp_sw_at_(w, old, now, &e);
        if (!lfp_sw_admits_(w, s, e, n))
            return EAGAIN;
        s.cur += n;   /* <= limit: est >= cur */
        /* relaxed: limiters publish nothing; atomicity on the word suffices. */
        if (atomic_compare_exchange_weak_explicit(&w->state, &old, lfp_sw_pack_(w, s),
                                                  memory_order_relaxed, memory_order_relaxed)) {
            *charged = s.id;
            return 0;
        }
    }
}

static inline int lfp_swindow_take_at(lfp_swindow *w, uint32_t n, int64_t now)
{
    uint64_t charged;
    int rc = lfp_swindow_take_charged_(w, n, now, &charged);   /* uncounted */
    if (LFP_LIKELY(rc != EINVAL))
        lfp_rl_note_(&w->stats_, rc);
    return rc;
}

#ifdef __cplusplus
}
#endif
#endif
