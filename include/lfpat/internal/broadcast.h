/* SPDX-License-Identifier: BSD-2-Clause */
/* lfpat/internal/broadcast.h — internal: the inline definitions behind
 * lfpat/broadcast.h (its inline calls and their helpers, with the ordering
 * argument at each atomic). Not part of the API: names ending in '_'
 * may change in any release. Include <lfpat/broadcast.h>, not this. */
#ifndef LFPAT_INTERNAL_BROADCAST_H
#define LFPAT_INTERNAL_BROADCAST_H

#include "lfpat/broadcast.h"

#ifdef __cplusplus
extern "C" {
#endif

#define LFP_BROADCAST_CLOSED_ ((uint64_t)1 << 63)

static inline size_t lfp_broadcast_capacity(const lfp_broadcast *b)
{
    return (size_t)b->mask + 1;
}

static inline uint64_t lfp_broadcast_published(const lfp_broadcast *b)
{
    /* relaxed: a snapshot; orders nothing. */
    return atomic_load_explicit(&b->tail, memory_order_relaxed) &
           ~LFP_BROADCAST_CLOSED_;
}

/* internal: the slot of position p is ours (seq == 2p+1): write it. */
static inline void lfp_broadcast_fill_(lfp_broadcast *b, lfp_broadcast_slot *s, uint64_t p,
                                       void *v)
{
    LFP_TEST_HOOK("broadcast.claim");   /* slot marked busy, not yet written */
    /* release: a subscriber whose acquire load of value reads this store
     * also sees our busy seq, so its re-load detects the overwrite. */
    atomic_store_explicit(&s->value, v, memory_order_release);
    /* release: publishes the value; pairs with the subscriber's acquire
     * load of seq in lfp_broadcast_try_recv. */
    atomic_store_explicit(&s->seq, 2 * p + 2, memory_order_release);
    lfp_ec_notify_all(&b->arrived);
}

LFP_API int lfp_broadcast_publish_slow_(lfp_broadcast *b, uint64_t p, uint64_t seq, void *v);

static inline int lfp_broadcast_publish(lfp_broadcast *b, void *v)
{
    if (LFP_UNLIKELY(!b))
        return EINVAL;
    /* relaxed: a guess validated by the CAS. */
    uint64_t t = atomic_load_explicit(&b->tail, memory_order_relaxed);
    do {
        if (t & LFP_BROADCAST_CLOSED_)
            return EPIPE;
        /* acq_rel: release orders the claim before this publisher's seq
         * writes (a subscriber that sees them reads a tail past p, see the
         * header); acquire pairs with close's RMW. */
    } while (!atomic_compare_exchange_weak_explicit(&b->tail, &t, t + 1, memory_order_acq_rel,
                                                    memory_order_relaxed));
    lfp_broadcast_slot *s = &b->slots[t & b->mask];
    /* the slot's seq in steady state: the previous lap's position published */
    uint64_t seq = t > b->mask ? 2 * (t - b->mask - 1) + 2 : 0;
    /* acq_rel: acquire orders our value store after the previous owner's
     * (slot handover, value's modification order); release orders the claim
     * above before the busy mark. relaxed on failure: seq is re-examined. */
    if (LFP_UNLIKELY(!atomic_compare_exchange_strong_explicit(&s->seq, &seq, 2 * t + 1,
                                                              memory_order_acq_rel,
                                                              memory_order_relaxed)))
        return lfp_broadcast_publish_slow_(b, t, seq, v);
    lfp_broadcast_fill_(b, s, t, v);
    return 0;
}

#ifdef __cplusplus
}
#endif
#endif
