/* SPDX-License-Identifier: BSD-2-Clause */
/* lfpat/internal/waitgroup.h — internal: the inline definitions behind
 * lfpat/waitgroup.h (its inline calls and their helpers, with the ordering
 * argument at each atomic). Not part of the API: names ending in '_'
 * may change in any release. Include <lfpat/waitgroup.h>, not this. */
#ifndef LFPAT_INTERNAL_WAITGROUP_H
#define LFPAT_INTERNAL_WAITGROUP_H

#include "lfpat/waitgroup.h"

#ifdef __cplusplus
extern "C" {
#endif

/* internal: fields of the state word. */
#define LFP_WG_WAITING_ ((uint64_t)1 << 32)
#define LFP_WG_NOTIFY_ONE_ ((uint64_t)1 << 20)
#define LFP_WG_NOTIFYING_ ((uint64_t)0xfff << 20)
#define LFP_WG_PHASE_ ((uint64_t)0xfffff)
static inline uint32_t lfp_wg_count_(uint64_t s) { return (uint32_t)(s >> 33); }
static inline uint32_t lfp_wg_phase_(uint64_t s) { return (uint32_t)(s & LFP_WG_PHASE_); }

LFP_API void lfp_waitgroup_wake_(lfp_waitgroup *wg);

static inline int lfp_waitgroup_add(lfp_waitgroup *wg, int64_t delta)
{
    if (LFP_UNLIKELY(!wg))
        return EINVAL;
    if (LFP_UNLIKELY(delta < -LFP_WAITGROUP_MAX || delta > LFP_WAITGROUP_MAX))
        return EOVERFLOW;   /* (checked first: keeps count + delta in range) */
    /* relaxed: a guess validated by the CAS below. */
    uint64_t s = atomic_load_explicit(&wg->state, memory_order_relaxed);
    uint64_t next;
    do {
        int64_t count = (int64_t)lfp_wg_count_(s) + delta;
        if (count < 0 || count > LFP_WAITGROUP_MAX)
            return EOVERFLOW;
        bool ends = count == 0 && delta != 0;
        /* ending a phase: next phase number, WAITING cleared, NOTIFYING
         * raised if there are waiters to wake */
        next = ends ? (s & LFP_WG_NOTIFYING_) + (s & LFP_WG_WAITING_ ? LFP_WG_NOTIFY_ONE_ : 0) +
                          ((s + 1) & LFP_WG_PHASE_)
                    : (s & ~((uint64_t)UINT32_MAX << 33)) | (uint64_t)count << 33;
        /* acq_rel: release publishes this task's writes to the waiter whose
         * acquire load in lfp_waitgroup_try_ reads this RMW or a later one in
         * the release sequence; acquire chains the earlier adds' releases. */
    } while (!atomic_compare_exchange_weak_explicit(&wg->state, &s, next,
                                                    memory_order_acq_rel,
                                                    memory_order_relaxed));
    if (s & LFP_WG_WAITING_ && lfp_wg_count_(next) == 0)
        lfp_waitgroup_wake_(wg);   /* the last access to *wg */
    return 0;
}

static inline int lfp_waitgroup_done(lfp_waitgroup *wg) { return lfp_waitgroup_add(wg, -1); }

static inline int64_t lfp_waitgroup_count(const lfp_waitgroup *wg)
{
    /* relaxed: a snapshot; orders nothing. */
    return lfp_wg_count_(atomic_load_explicit(&wg->state, memory_order_relaxed));
}

#ifdef __cplusplus
}
#endif
#endif
