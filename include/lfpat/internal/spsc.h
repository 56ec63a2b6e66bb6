/* SPDX-License-Identifier: BSD-2-Clause */
/* lfpat/internal/spsc.h — internal: the inline definitions behind
 * lfpat/spsc.h (its inline calls and their helpers, with the ordering
 * argument at each atomic). Not part of the API: names ending in '_'
 * may change in any release. Include <lfpat/spsc.h>, not this. */
#ifndef LFPAT_INTERNAL_SPSC_H
#define LFPAT_INTERNAL_SPSC_H

#include "lfpat/spsc.h"

#ifdef __cplusplus
extern "C" {
#endif

/* lfp_spsc.closed: the state in the low bits, plus SYM_ when the kernel has
 * no membarrier. SYM_ is set at init and never cleared: it makes every push's
 * read of closed take lfp_spsc_push_slow_, which runs the symmetric form, so
 * the fast path needs no mode test of its own. */
#define LFP_SPSC_OPEN_ 0u
#define LFP_SPSC_CLOSING_ 1u   /* pushes refused; a push may still be publishing */
#define LFP_SPSC_CLOSED_ 2u    /* pushes refused and none in progress */
#define LFP_SPSC_STATE_ 3u     /* the state bits */
#define LFP_SPSC_SYM_ 4u       /* no membarrier: symmetric fences (slow path) */

/* internal: switch a freshly initialised, not yet shared q to the symmetric
 * fallback of a kernel without membarrier (lfp_spsc_init does when it must;
 * white-box tests do to run the fallback on any kernel). */
LFP_API void lfp_spsc_symmetric_(lfp_spsc *q);

/* internal: the wake call behind lfp_spsc_notify_, out of line. */
LFP_API void lfp_spsc_wake_(lfp_ec *ec, int n);

/* internal: notify after a publish (of tail or head): a compiler barrier and
 * one load of a read-mostly word while nobody waits. Without membarrier the
 * eventcount holds a phantom waiter from init (lfp_spsc_init), so every
 * notify goes to lfp_spsc_wake_, which fences before it reads the count. */
static inline void lfp_spsc_notify_(lfp_ec *ec, int n)
{
    /* compiler barrier: the light half of the asymmetric SB shape; the heavy
     * half is the membarrier in lfp_ec_prepare (eventcount.h). */
    atomic_signal_fence(memory_order_seq_cst);
    /* relaxed: ordered against the waiter's increment by that pairing. */
    if (LFP_UNLIKELY(atomic_load_explicit(&ec->waiters, memory_order_relaxed) != 0))
        lfp_spsc_wake_(ec, n);
}

/* internal: a push at position t read closed == c != OPEN after its
 * announcement: the queue is closing, or SYM_ (no membarrier). Returns 0 if
 * the push may publish, or EPIPE after taking the announcement back. */
LFP_API int lfp_spsc_push_slow_(lfp_spsc *q, size_t t, uint32_t c);

/* internal: a push's announcement that it will publish position t, then its
 * read of the closed state: the light side of the SB shape with settle() in
 * src/spsc.c ("Close" in spsc.h). Returns 0, or EPIPE (withdrawn). */
static inline int lfp_spsc_announce_(lfp_spsc *q, size_t t)
{
    /* relaxed + compiler barrier: the light half of the asymmetric SB shape;
     * pairs with the membarrier in settle() in src/spsc.c. (Without
     * membarrier SYM_ is set and lfp_spsc_push_slow_ repeats both accesses
     * seq_cst.) */
    atomic_store_explicit(&q->entered, t + 1, memory_order_relaxed);
    atomic_signal_fence(memory_order_seq_cst);
    /* relaxed: the read of the asymmetric SB shape, ordered against close's
     * CAS to CLOSING by the membarrier that follows it in settle(). */
    uint32_t c = atomic_load_explicit(&q->closed, memory_order_relaxed);
    return LFP_LIKELY(c == LFP_SPSC_OPEN_) ? 0 : lfp_spsc_push_slow_(q, t, c);
}

/* internal: a push's publish of positions up to t (exclusive), which also
 * ends its announcement (entered <= tail again), then its notify. Wake-all:
 * besides the one consumer, a close() waiting for this push parks on
 * not_empty too (at most a few threads; the call costs a load while nobody
 * waits). */
static inline void lfp_spsc_publish_(lfp_spsc *q, size_t t)
{
    LFP_TEST_HOOK("spsc.push");   /* announced, not yet published */
    /* release: publishes the slots; pairs with the acquire load of tail in
     * lfp_spsc_refill_ / pop_n and in settle(). */
    atomic_store_explicit(&q->tail, t, memory_order_release);
    lfp_spsc_notify_(&q->not_empty, 0x7fffffff);
}

/* internal: a push found the ring full: EAGAIN, or EPIPE once closed (a full
 * closed ring must not make a blocking push wait for room forever). */
static inline int lfp_spsc_full_(const lfp_spsc *q)
{
    /* relaxed: a status read; the push stores nothing either way. */
    uint32_t c = atomic_load_explicit(&q->closed, memory_order_relaxed);
    return (c & LFP_SPSC_STATE_) == LFP_SPSC_OPEN_ ? EAGAIN : EPIPE;
}

/* internal: the out-of-line part of a pop that found the ring empty and the
 * queue not open: settle if needed, then EPIPE or (a late push) 0. */
LFP_API int lfp_spsc_empty_closing_(lfp_spsc *q, size_t head);

/* internal: refresh the consumer's cache of tail at position h. Returns 0 if
 * an item is ready, EAGAIN if empty, EPIPE if closed and empty. */
static inline int lfp_spsc_refill_(lfp_spsc *q, size_t h)
{
    /* acquire: pairs with the release store of tail in the producer (try_push,
     * push_n), making the published slots visible. */
    q->tail_cache = atomic_load_explicit(&q->tail, memory_order_acquire);
    if (LFP_LIKELY(h != q->tail_cache))
        return 0;
    /* acquire: pairs with the seq_cst CAS to CLOSED in settle() in src/spsc.c. */
    uint32_t c = atomic_load_explicit(&q->closed, memory_order_acquire);
    if (LFP_LIKELY((c & LFP_SPSC_STATE_) == LFP_SPSC_OPEN_))
        return EAGAIN;
    return lfp_spsc_empty_closing_(q, h);
}

static inline int lfp_spsc_try_push(lfp_spsc *q, void *v)
{
    if (LFP_UNLIKELY(!q))
        return EINVAL;
    /* relaxed: only this thread writes tail. */
    size_t t = atomic_load_explicit(&q->tail, memory_order_relaxed);
    if (LFP_UNLIKELY(t - q->head_cache > q->mask) &&
        /* acquire: pairs with the release store of head in the consumer:
         * its read of the slot happens-before our overwrite. */
        (q->head_cache = atomic_load_explicit(&q->head, memory_order_acquire),
         t - q->head_cache > q->mask))
        return lfp_spsc_full_(q);
    if (LFP_UNLIKELY(lfp_spsc_announce_(q, t) != 0))
        return EPIPE;
    q->slots[t & q->mask] = v;
    lfp_spsc_publish_(q, t + 1);
    return 0;
}

static inline int lfp_spsc_try_pop(lfp_spsc *q, void **out)
{
    if (LFP_UNLIKELY(!q || !out))
        return EINVAL;
    /* relaxed: only this thread writes head. */
    size_t h = atomic_load_explicit(&q->head, memory_order_relaxed);
    if (LFP_UNLIKELY(h == q->tail_cache)) {
        int rc = lfp_spsc_refill_(q, h);
        if (rc != 0)
            return rc;
    }
    *out = q->slots[h & q->mask];
    /* release: pairs with the acquire load of head in the producer: our read
     * of the slot happens-before the producer reuses it. */
    atomic_store_explicit(&q->head, h + 1, memory_order_release);
    lfp_spsc_notify_(&q->not_full, 1);
    return 0;
}

/* The blocking calls: the try call inline, and only when it says EAGAIN
 * the out-of-line waiting loop (src/spsc.c). */
LFP_API int lfp_spsc_push_wait_(lfp_spsc *q, void *v, int64_t deadline, lfp_cancel *cancel);
LFP_API int lfp_spsc_pop_wait_(lfp_spsc *q, void **out, int64_t deadline, lfp_cancel *cancel);

static inline int lfp_spsc_push(lfp_spsc *q, void *v, int64_t deadline, lfp_cancel *cancel)
{
    int rc = lfp_spsc_try_push(q, v);
    return LFP_LIKELY(rc != EAGAIN) ? rc : lfp_spsc_push_wait_(q, v, deadline, cancel);
}

static inline int lfp_spsc_pop(lfp_spsc *q, void **out, int64_t deadline, lfp_cancel *cancel)
{
    int rc = lfp_spsc_try_pop(q, out);
    return LFP_LIKELY(rc != EAGAIN) ? rc : lfp_spsc_pop_wait_(q, out, deadline, cancel);
}

static inline bool lfp_spsc_closed(const lfp_spsc *q)
{
    /* relaxed: a status snapshot; orders nothing. */
    uint32_t c = atomic_load_explicit(&q->closed, memory_order_relaxed);
    return (c & LFP_SPSC_STATE_) != LFP_SPSC_OPEN_;
}

static inline size_t lfp_spsc_capacity(const lfp_spsc *q) { return q->mask + 1; }

#ifdef __cplusplus
}
#endif
#endif
