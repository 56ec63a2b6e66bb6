/* SPDX-License-Identifier: BSD-2-Clause */
/* lfpat/internal/eventcount.h — internal: the inline definitions behind
 * lfpat/eventcount.h (its inline calls and their helpers, with the ordering
 * argument at each atomic). Not part of the API: names ending in '_'
 * may change in any release. Include <lfpat/eventcount.h>, not this. */
#ifndef LFPAT_INTERNAL_EVENTCOUNT_H
#define LFPAT_INTERNAL_EVENTCOUNT_H

#include "lfpat/eventcount.h"

#ifdef __cplusplus
extern "C" {
#endif

static inline void lfp_ec_init(lfp_ec *ec)
{
    atomic_init(&ec->epoch, 0);
    atomic_init(&ec->waiters, 0);
    ec->asym = 0;
}

/* internal: the heavy half of the asymmetric barrier (membarrier). Only
 * called when lfp_ec_init_asym (or lfp_heavy_barrier_ready_) returned true. */
LFP_API void lfp_heavy_barrier_(void);

/* internal: register for lfp_heavy_barrier_ (once per process); true if the
 * kernel supports it. */
LFP_API bool lfp_heavy_barrier_ready_(void);

static inline uint32_t lfp_ec_prepare(lfp_ec *ec)
{
    atomic_fetch_add_explicit(&ec->waiters, 1, memory_order_seq_cst);
    if (ec->asym) {
        /* heavy barrier: the waiter's half of the asymmetric SB shape; pairs
         * with the compiler barrier in lfp_ec_notify_asym_. */
        lfp_heavy_barrier_();
    } else {
#if !LFP_TSAN
        /* seq_cst fence: the waiter's half of the SB shape; orders the waiters
         * increment before the caller's re-check of its condition. Pairs with
         * the fence in lfp_ec_notify_. (Under TSan the seq_cst RMW above pairs
         * with the notifier's acq_rel RMW instead.) */
        atomic_thread_fence(memory_order_seq_cst);
#endif
    }
    /* acquire: pairs with the release bump in lfp_ec_wake_; reading the
     * bumped epoch makes the notifier's condition store visible. */
    return atomic_load_explicit(&ec->epoch, memory_order_acquire);
}

static inline void lfp_ec_abort(lfp_ec *ec)
{
    /* relaxed: the count only gates whether notifiers make a wake call; a
     * stale non-zero view costs one spurious wake, never a lost one. */
    atomic_fetch_sub_explicit(&ec->waiters, 1, memory_order_relaxed);
}

LFP_API void lfp_ec_wake_(lfp_ec *ec, int n);

/* internal: the notifier's half of the symmetric SB shape: the waiter count,
 * read after the caller's condition store. */
static inline uint32_t lfp_ec_fenced_waiters_(lfp_ec *ec)
{
#if LFP_TSAN
    /* acq_rel RMW: the TSan-visible form of the SB half below; pairs with
     * the seq_cst increment in lfp_ec_prepare (see the header comment). */
    return atomic_fetch_add_explicit(&ec->waiters, 0, memory_order_acq_rel);
#else
    /* seq_cst fence: the notifier's half of the SB shape; orders the caller's
     * condition store before the waiters load. Pairs with lfp_ec_prepare. */
    atomic_thread_fence(memory_order_seq_cst);
    /* relaxed: ordered by the fence above (C11 7.17.3p11). */
    return atomic_load_explicit(&ec->waiters, memory_order_relaxed);
#endif
}

static inline void lfp_ec_notify_(lfp_ec *ec, int n)
{
    if (LFP_UNLIKELY(lfp_ec_fenced_waiters_(ec) != 0))
        lfp_ec_wake_(ec, n);
}

/* internal: notify on an eventcount made by lfp_ec_init_asym, after the
 * caller made the condition true with any atomic store (release or
 * stronger). On an asymmetric ec it costs a compiler barrier and a load. */
static inline void lfp_ec_notify_asym_(lfp_ec *ec, int n)
{
    if (LFP_UNLIKELY(!ec->asym)) {
        lfp_ec_notify_(ec, n);
        return;
    }
    /* compiler barrier: the light half of the asymmetric SB shape; the
     * heavy half is the membarrier in lfp_ec_prepare (header comment). */
    atomic_signal_fence(memory_order_seq_cst);
    /* relaxed: ordered against the waiter's increment by that pairing. */
    uint32_t w = atomic_load_explicit(&ec->waiters, memory_order_relaxed);
    if (LFP_UNLIKELY(w != 0))
        lfp_ec_wake_(ec, n);
}

static inline void lfp_ec_notify_one(lfp_ec *ec) { lfp_ec_notify_(ec, 1); }

static inline void lfp_ec_notify_all(lfp_ec *ec) { lfp_ec_notify_(ec, 0x7fffffff); }

#ifdef __cplusplus
}
#endif
#endif
