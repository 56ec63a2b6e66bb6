/* SPDX-License-Identifier: BSD-2-Clause */
/* lfpat/internal/ppq.h — internal: the inline definitions behind
 * lfpat/ppq.h (its inline calls and their helpers, with the ordering
 * argument at each atomic). Not part of the API: names ending in '_'
 * may change in any release. Include <lfpat/ppq.h>, not this. */
#ifndef LFPAT_INTERNAL_PPQ_H
#define LFPAT_INTERNAL_PPQ_H

#include "lfpat/ppq.h"

#ifdef __cplusplus
extern "C" {
#endif

/* lfp_ppq.closed: the state in the low bits, plus SYM_ when the kernel has
 * no membarrier (set at init, never cleared: it sends every push's read of
 * closed to lfp_ppq_push_slow_, which runs the symmetric form). */
#define LFP_PPQ_OPEN_ 0u
#define LFP_PPQ_CLOSING_ 1u   /* pushes refused; the heavy barrier not yet done */
#define LFP_PPQ_SEALED_ 2u    /* pushes refused; every push that read OPEN is announced */
#define LFP_PPQ_STATE_ 3u
#define LFP_PPQ_SYM_ 4u

/* internal: switch a freshly initialised, not yet shared q to the symmetric
 * fallback of a kernel without membarrier (lfp_ppq_init does when it must;
 * white-box tests do to run the fallback on any kernel). */
LFP_API void lfp_ppq_symmetric_(lfp_ppq *q);

/* internal: a push at position t of ring r read closed == c != OPEN after
 * its announcement. Returns 0 if it may publish (SYM_ and still open after
 * the fence), or EPIPE after withdrawing the announcement. */
LFP_API int lfp_ppq_push_slow_(lfp_ppq_producer *p, size_t t, uint32_t c);

/* internal: the rest of a pop whose cursor ring gave nothing: scan the
 * other rings, then the closed state. 0, EAGAIN or EPIPE. */
LFP_API int lfp_ppq_scan_(lfp_ppq_consumer *c, void **out);

/* internal: a push found its ring full: EAGAIN, or EPIPE once closed (a
 * full closed ring must not make a blocking push wait for room forever). */
static inline int lfp_ppq_full_(const lfp_ppq *q)
{
    /* relaxed: a status read; the push stores nothing either way. */
    uint32_t c = atomic_load_explicit(&q->closed, memory_order_relaxed);
    return (c & LFP_PPQ_STATE_) == LFP_PPQ_OPEN_ ? EAGAIN : EPIPE;
}

/* internal: announce the push of position t on p's ring, then read the
 * closed state: the light side of the SB shape with lfp_ppq_close ("Close"
 * in ppq.h). Returns 0 (publish next), or EPIPE (withdrawn). */
static inline int lfp_ppq_announce_(lfp_ppq_producer *p, size_t t)
{
    /* relaxed + compiler barrier: the light half of the asymmetric SB shape
     * with close() (the membarrier between its stores of CLOSING and
     * SEALED). Without membarrier SYM_ is set and lfp_ppq_push_slow_ fences. */
    atomic_store_explicit(&p->ring->entered, t + 1, memory_order_relaxed);
    atomic_signal_fence(memory_order_seq_cst);
    LFP_TEST_HOOK("ppq.announce");   /* announced, closed not yet read */
    /* relaxed: the read of that SB shape. */
    uint32_t c = atomic_load_explicit(&p->q->closed, memory_order_relaxed);
    return LFP_LIKELY(c == LFP_PPQ_OPEN_) ? 0 : lfp_ppq_push_slow_(p, t, c);
}

/* internal: store v at position t of p's ring and publish it (the store of
 * tail also ends the announcement), then notify one popper. */
static inline void lfp_ppq_publish_(lfp_ppq_producer *p, size_t t, void *v)
{
    lfp_ppq *q = p->q;
    /* relaxed: published by the release store of tail below. Atomic because
     * a consumer may read the slot of position t - capacity while it races
     * to claim it: its CAS then fails and it discards what it read. */
    atomic_store_explicit(&p->slots[t & q->mask], v, memory_order_relaxed);
    LFP_TEST_HOOK("ppq.push");   /* announced and stored, not yet published */
    /* release: pairs with the acquire loads of tail in lfp_ppq_take_ (the
     * slot) and in the sealed check (src/ppq.c); also the condition store of
     * the asymmetric SB shape with a parking popper (membarrier in
     * lfp_ec_prepare, then its re-read of this tail). */
    atomic_store_explicit(&p->ring->tail, t + 1, memory_order_release);
    lfp_ec_notify_asym_(&q->not_empty, 1);
}

static inline int lfp_ppq_try_push(lfp_ppq_producer *p, void *v)
{
    if (LFP_UNLIKELY(!p || !p->q))
        return EINVAL;
    lfp_ppq *q = p->q;
    lfp_ppq_ring *r = p->ring;
    /* relaxed: only the owner (this thread) writes tail. */
    size_t t = atomic_load_explicit(&r->tail, memory_order_relaxed);
    if (LFP_UNLIKELY(t - r->head_cache > q->mask) &&
        /* acquire: pairs with the release CAS of head in lfp_ppq_take_: the
         * consumer's read of the slot happens-before our overwrite. */
        (r->head_cache = atomic_load_explicit(&r->head, memory_order_acquire),
         t - r->head_cache > q->mask))
        return lfp_ppq_full_(q);
    if (LFP_UNLIKELY(lfp_ppq_announce_(p, t) != 0))
        return EPIPE;
    lfp_ppq_publish_(p, t, v);
    return 0;
}

/* internal: claim one value of ring r (with its slots) into *out. *seen is
 * a tail of r this thread acquired earlier (0 for none); refreshed when the
 * ring looks empty. Returns 0 or EAGAIN (every published value was claimed
 * when we read tail). */
static inline int lfp_ppq_take_(const lfp_ppq *q, lfp_ppq_ring *r, _Atomic(void *) *slots,
                                size_t *seen, void **out)
{
    /* acquire: pairs with the release CAS that stored this head, by a
     * consumer that had read a tail >= h; so our tail read below reads
     * >= h too (coherence), and h != tail means h < tail: position h is
     * published. Relaxed would let that read be older than h (C11; ARMv8
     * may satisfy this load after the tail's), and we would claim an
     * unpublished position (stress/models/ppq_claim.pml). */
    size_t h = atomic_load_explicit(&r->head, memory_order_acquire);
    for (;;) {
        if (h >= *seen) {   /* looks empty: read tail again */
            /* acquire: pairs with the release store of tail in
             * lfp_ppq_publish_: the slots below it are visible to us. */
            *seen = atomic_load_explicit(&r->tail, memory_order_acquire);
            if (h == *seen)
                return EAGAIN;
        }
        /* relaxed: the value of position h, published by the tail we
         * acquired (now or earlier); the producer rewrites this slot only
         * for position h + capacity, after head passed h, and then the CAS
         * below fails and we discard v. */
        void *v = atomic_load_explicit(&slots[h & q->mask], memory_order_relaxed);
        LFP_TEST_HOOK("ppq.take");   /* slot read, not yet claimed */
        /* release: pairs with the producer's acquire load of head in
         * try_push (our read of the slot happens-before its reuse) and with
         * other consumers' acquire reads of head (above); the condition
         * store of the asymmetric SB shape with a parked pusher (the notify
         * below). On failure h gets the current head, acquire as above. */
        if (atomic_compare_exchange_weak_explicit(&r->head, &h, h + 1, memory_order_release,
                                                  memory_order_acquire)) {
            *out = v;
            lfp_ec_notify_asym_(&r->not_full, 1);
            return 0;
        }
    }
}

static inline int lfp_ppq_try_pop(lfp_ppq_consumer *c, void **out)
{
    if (LFP_UNLIKELY(!c || !c->q || !out))
        return EINVAL;
    if (LFP_LIKELY(c->taken < LFP_PPQ_QUOTA) &&
        lfp_ppq_take_(c->q, c->ring, c->slots, &c->tail_seen, out) == 0) {
        c->taken++;
        return 0;
    }
    return lfp_ppq_scan_(c, out);
}

/* The blocking calls: the try call inline, and only when it says EAGAIN
 * the out-of-line waiting loop (src/ppq.c). */
LFP_API int lfp_ppq_push_wait_(lfp_ppq_producer *p, void *v, int64_t deadline,
                               lfp_cancel *cancel);
LFP_API int lfp_ppq_pop_wait_(lfp_ppq_consumer *c, void **out, int64_t deadline,
                              lfp_cancel *cancel);

static inline int lfp_ppq_push(lfp_ppq_producer *p, void *v, int64_t deadline,
                               lfp_cancel *cancel)
{
    int rc = lfp_ppq_try_push(p, v);
    return LFP_LIKELY(rc != EAGAIN) ? rc : lfp_ppq_push_wait_(p, v, deadline, cancel);
}

static inline int lfp_ppq_pop(lfp_ppq_consumer *c, void **out, int64_t deadline,
                              lfp_cancel *cancel)
{
    int rc = lfp_ppq_try_pop(c, out);
    return LFP_LIKELY(rc != EAGAIN) ? rc : lfp_ppq_pop_wait_(c, out, deadline, cancel);
}

static inline bool lfp_ppq_closed(const lfp_ppq *q)
{
    /* relaxed: a status snapshot; orders nothing. */
    uint32_t c = atomic_load_explicit(&q->closed, memory_order_relaxed);
    return (c & LFP_PPQ_STATE_) != LFP_PPQ_OPEN_;
}

static inline size_t lfp_ppq_capacity(const lfp_ppq *q) { return q->mask + 1; }

#ifdef __cplusplus
}
#endif
#endif
