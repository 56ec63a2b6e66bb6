/* SPDX-License-Identifier: BSD-2-Clause */
/* lfpat/internal/mpsc.h — internal: the inline definitions behind
 * lfpat/mpsc.h (its inline calls and their helpers, with the ordering
 * argument at each atomic). Not part of the API: names ending in '_'
 * may change in any release. Include <lfpat/mpsc.h>, not this. */
#ifndef LFPAT_INTERNAL_MPSC_H
#define LFPAT_INTERNAL_MPSC_H

#include "lfpat/mpsc.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The closed bit of lfp_mpsc.tail (nodes are at least pointer-aligned). */
#define LFP_MPSC_CLOSED_ ((uintptr_t)1)

/* internal: append the chain first..last (already linked) behind tail. Fails
 * with EPIPE if closed unless keep_closed (the stub re-append). */
static inline int lfp_mpsc_append_(lfp_mpsc *q, lfp_mpsc_node *first, lfp_mpsc_node *last,
                                   bool keep_closed)
{
    /* relaxed: a guess validated by the CAS. */
    uintptr_t t = atomic_load_explicit(&q->tail, memory_order_relaxed);
    uintptr_t closed;
    do {
        closed = t & LFP_MPSC_CLOSED_;
        if (closed && !keep_closed)
            return EPIPE;
        /* seq_cst: release publishes last->next = NULL to the next
         * appender, which will store into it; acquire pairs with the
         * previous appender's release so our link store below follows its
         * store of NULL; seq_cst makes it the SB write of the notify in
         * lfp_mpsc_push (the consumer parks only on tail == stub). */
    } while (!atomic_compare_exchange_weak_explicit(&q->tail, &t, (uintptr_t)last | closed,
                                                    memory_order_seq_cst, memory_order_relaxed));
    lfp_mpsc_node *prev = (lfp_mpsc_node *)(t & ~LFP_MPSC_CLOSED_);
    LFP_TEST_HOOK("mpsc.link");   /* tail swung, prev->next not yet linked */
    /* release: publishes the chain (and the producer's writes to the
     * enclosing objects) to the consumer's acquire load of prev->next. */
    atomic_store_explicit(&prev->next, first, memory_order_release);
    return 0;
}

static inline int lfp_mpsc_push(lfp_mpsc *q, lfp_mpsc_node *n)
{
    if (LFP_UNLIKELY(!q || !n))
        return EINVAL;
    /* relaxed: n is private until the release CAS in lfp_mpsc_append_. */
    atomic_store_explicit(&n->next, NULL, memory_order_relaxed);
    int rc = lfp_mpsc_append_(q, n, n, false);
    if (LFP_LIKELY(rc == 0)) {
        /* compiler barrier: keeps append_'s link store before the waiters
         * load of the notify (the consumer's heavy barrier in await_link,
         * src/mpsc.c, orders them on the CPU). */
        atomic_signal_fence(memory_order_seq_cst);
        lfp_striped_add(&q->pushed, 1);   /* a statistic for lfp_mpsc_size */
        lfp_q_notify_after_sc_(&q->not_empty, 1);
    }
    return rc;
}

/* internal: the answer when the stub's link is missing: EAGAIN if tail is the
 * stub (empty), EPIPE if also closed (nothing can follow), LFP_Q_BUSY_ if a
 * push has swung tail but not linked yet. */
static inline int lfp_mpsc_empty_(lfp_mpsc *q)
{
    /* relaxed: only the value matters; for a waiter it is ordered by
     * lfp_ec_prepare's fence (SB with the push's seq_cst CAS). */
    uintptr_t t = atomic_load_explicit(&q->tail, memory_order_relaxed);
    if ((t & ~LFP_MPSC_CLOSED_) != (uintptr_t)&q->stub)
        return LFP_Q_BUSY_;
    return t & LFP_MPSC_CLOSED_ ? EPIPE : EAGAIN;
}

/* internal: the consumer's step (guard held). */
static inline int lfp_mpsc_take_(lfp_mpsc *q, lfp_mpsc_node **out)
{
    lfp_mpsc_node *h = q->head;
    /* acquire: pairs with the release link store in lfp_mpsc_append_. */
    lfp_mpsc_node *next = atomic_load_explicit(&h->next, memory_order_acquire);
    if (h == &q->stub) {
        if (!next)
            return lfp_mpsc_empty_(q);
        q->head = h = next;
        /* acquire: as above. */
        next = atomic_load_explicit(&h->next, memory_order_acquire);
    }
    if (!next) {
        /* h is the last linked node. If tail is still h, re-append the stub
         * behind it so h can be detached; otherwise a push is between its CAS
         * and its link. */
        /* relaxed: compared only; the link loads carry the ordering. */
        uintptr_t t = atomic_load_explicit(&q->tail, memory_order_relaxed);
        if ((t & ~LFP_MPSC_CLOSED_) != (uintptr_t)h)
            return LFP_Q_BUSY_;
        /* relaxed: the stub is private to the consumer while detached; the
         * CAS in append_ publishes it. */
        atomic_store_explicit(&q->stub.next, NULL, memory_order_relaxed);
        lfp_mpsc_append_(q, &q->stub, &q->stub, true);
        /* acquire: as above. */
        next = atomic_load_explicit(&h->next, memory_order_acquire);
        if (!next)
            return LFP_Q_BUSY_;   /* a push got in before the stub; its link is pending */
    }
    q->head = next;
    /* relaxed: single writer (the guard holder); read by lfp_mpsc_size. */
    atomic_store_explicit(&q->popped, atomic_load_explicit(&q->popped, memory_order_relaxed) + 1,
                          memory_order_relaxed);
    *out = h;
    return 0;
}

/* internal: take / drop the single-consumer guard. */
static inline bool lfp_mpsc_enter_(lfp_mpsc *q)
{
    /* acquire: pairs with the release in lfp_mpsc_leave_; the previous
     * consumer's writes to head/stub happen-before ours. */
    return atomic_exchange_explicit(&q->consumer, 1, memory_order_acquire) == 0;
}

static inline void lfp_mpsc_leave_(lfp_mpsc *q)
{
    /* release: pairs with the acquire exchange in lfp_mpsc_enter_. */
    atomic_store_explicit(&q->consumer, 0, memory_order_release);
}

static inline int lfp_mpsc_try_pop(lfp_mpsc *q, lfp_mpsc_node **out)
{
    if (LFP_UNLIKELY(!q || !out))
        return EINVAL;
    if (LFP_UNLIKELY(!lfp_mpsc_enter_(q)))
        return EBUSY;
    int rc = lfp_mpsc_take_(q, out);
    lfp_mpsc_leave_(q);
    return rc == LFP_Q_BUSY_ ? EAGAIN : rc;
}

LFP_API int lfp_mpsc_pop_wait_(lfp_mpsc *q, lfp_mpsc_node **out, int64_t deadline,
                               lfp_cancel *cancel);

static inline int lfp_mpsc_pop(lfp_mpsc *q, lfp_mpsc_node **out, int64_t deadline,
                               lfp_cancel *cancel)
{
    int rc = lfp_mpsc_try_pop(q, out);
    return LFP_LIKELY(rc != EAGAIN) ? rc : lfp_mpsc_pop_wait_(q, out, deadline, cancel);
}

static inline bool lfp_mpsc_closed(const lfp_mpsc *q)
{
    /* relaxed: a status snapshot; orders nothing. */
    return (atomic_load_explicit(&q->tail, memory_order_relaxed) & LFP_MPSC_CLOSED_) != 0;
}

static inline size_t lfp_mpsc_capacity(const lfp_mpsc *q) { (void)q; return SIZE_MAX; }

#ifdef __cplusplus
}
#endif
#endif
