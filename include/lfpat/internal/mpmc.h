/* SPDX-License-Identifier: BSD-2-Clause */
/* lfpat/internal/mpmc.h — internal: the inline definitions behind
 * lfpat/mpmc.h (its inline calls and their helpers, with the ordering
 * argument at each atomic). Not part of the API: names ending in '_'
 * may change in any release. Include <lfpat/mpmc.h>, not this. */
#ifndef LFPAT_INTERNAL_MPMC_H
#define LFPAT_INTERNAL_MPMC_H

#include "lfpat/mpmc.h"

#ifdef __cplusplus
extern "C" {
#endif

/* internal: claim the next push position. Returns 0 and *pos; EAGAIN if
 * full (no pop has claimed cell[tail]'s old value); LFP_Q_BUSY_ if that pop
 * is in progress; EPIPE if closed. A successful claim must be followed by
 * lfp_mpmc_publish_. */
static inline int lfp_mpmc_claim_push_(lfp_mpmc *q, size_t *pos_out)
{
    /* relaxed: a guess validated by the CAS. */
    size_t pos = atomic_load_explicit(&q->tail, memory_order_relaxed);
    for (;;) {
        if (LFP_UNLIKELY(pos & LFP_Q_CLOSED))
            return EPIPE;
        lfp_mpmc_cell *c = &q->cells[pos & q->mask];
        /* acquire: pairs with the release store of seq in lfp_mpmc_release_:
         * the previous pop's read of value happens-before our overwrite. */
        size_t seq = atomic_load_explicit(&c->seq, memory_order_acquire);
        intptr_t dif = (intptr_t)(seq - pos);
        if (dif == 0) {
            /* relaxed: the position is a ticket; the data hand-off is
             * ordered by the cell's seq (acquire above, release in publish). */
            if (atomic_compare_exchange_weak_explicit(&q->tail, &pos, pos + 1,
                                                      memory_order_relaxed, memory_order_relaxed)) {
                *pos_out = pos;
                return 0;
            }
        } else {
            /* relaxed: as above. */
            size_t now = atomic_load_explicit(&q->tail, memory_order_relaxed);
            if (dif < 0 && now == pos) {
                /* cell[pos] still holds the value of pos - capacity. relaxed:
                 * a snapshot; for a waiter, ordered by lfp_ec_prepare's barrier. */
                size_t h = atomic_load_explicit(&q->head, memory_order_relaxed);
                return pos - h > q->mask ? EAGAIN : LFP_Q_BUSY_;
            }
            pos = now;
        }
    }
}

/* internal: store v in the claimed position and publish it. */
static inline void lfp_mpmc_publish_(lfp_mpmc *q, size_t pos, void *v)
{
    LFP_TEST_HOOK("mpmc.push");   /* claimed, not yet stored */
    lfp_mpmc_cell *c = &q->cells[pos & q->mask];
    c->value = v;
    /* release: pairs with the acquire load of seq in lfp_mpmc_claim_pop_ and
     * publishes value. It is also the condition store of the asymmetric SB
     * shape with a parking popper (its membarrier in lfp_ec_prepare, then
     * its re-read of this seq); the light half is in lfp_ec_notify_asym_. */
    atomic_store_explicit(&c->seq, pos + 1, memory_order_release);
    lfp_ec_notify_asym_(&q->not_empty, 1);
}

/* internal: claim the next pop position. Returns 0 and *pos; EAGAIN if
 * empty (no push has claimed position head); LFP_Q_BUSY_ if that push is in
 * progress; EPIPE if closed and every claimed push position has been
 * claimed by a pop. */
static inline int lfp_mpmc_claim_pop_(lfp_mpmc *q, size_t *pos_out)
{
    /* relaxed: a guess validated by the CAS. */
    size_t pos = atomic_load_explicit(&q->head, memory_order_relaxed);
    for (;;) {
        lfp_mpmc_cell *c = &q->cells[pos & q->mask];
        /* acquire: pairs with the release store of seq in lfp_mpmc_publish_. */
        size_t seq = atomic_load_explicit(&c->seq, memory_order_acquire);
        intptr_t dif = (intptr_t)(seq - (pos + 1));
        if (dif == 0) {
            /* relaxed: a ticket, as in lfp_mpmc_claim_push_. */
            if (atomic_compare_exchange_weak_explicit(&q->head, &pos, pos + 1,
                                                      memory_order_relaxed, memory_order_relaxed)) {
                *pos_out = pos;
                return 0;
            }
        } else {
            /* relaxed: as above. */
            size_t now = atomic_load_explicit(&q->head, memory_order_relaxed);
            if (dif < 0 && now == pos) {
                /* relaxed: only the value matters; pos | CLOSED exists in
                 * tail's modification order only if no push ever claims pos.
                 * For a waiter, ordered by lfp_ec_prepare's barrier. */
                size_t t = atomic_load_explicit(&q->tail, memory_order_relaxed);
                if ((t & ~LFP_Q_CLOSED) != pos)
                    return LFP_Q_BUSY_;
                return t & LFP_Q_CLOSED ? EPIPE : EAGAIN;
            }
            pos = now;
        }
    }
}

/* internal: take the value of a claimed pop position and free the cell. */
static inline void *lfp_mpmc_release_(lfp_mpmc *q, size_t pos)
{
    LFP_TEST_HOOK("mpmc.pop");   /* claimed, not yet released */
    lfp_mpmc_cell *c = &q->cells[pos & q->mask];
    void *v = c->value;
    /* release: pairs with the acquire load of seq in lfp_mpmc_claim_push_
     * (our read of value happens-before the next lap's write); the condition
     * store of the asymmetric SB shape with a parking pusher, as in publish. */
    atomic_store_explicit(&c->seq, pos + q->mask + 1, memory_order_release);
    lfp_ec_notify_asym_(&q->not_full, 1);
    return v;
}

static inline int lfp_mpmc_try_push(lfp_mpmc *q, void *v)
{
    if (LFP_UNLIKELY(!q))
        return EINVAL;
    size_t pos = 0;
    int rc = lfp_mpmc_claim_push_(q, &pos);
    if (LFP_LIKELY(rc == 0))
        lfp_mpmc_publish_(q, pos, v);
    return rc == LFP_Q_BUSY_ ? EAGAIN : rc;
}

static inline int lfp_mpmc_try_pop(lfp_mpmc *q, void **out)
{
    if (LFP_UNLIKELY(!q || !out))
        return EINVAL;
    size_t pos = 0;
    int rc = lfp_mpmc_claim_pop_(q, &pos);
    if (LFP_LIKELY(rc == 0))
        *out = lfp_mpmc_release_(q, pos);
    return rc == LFP_Q_BUSY_ ? EAGAIN : rc;
}

/* The blocking calls: the try call inline, and only when it says EAGAIN
 * the out-of-line waiting loop (src/mpmc.c). */
LFP_API int lfp_mpmc_push_wait_(lfp_mpmc *q, void *v, int64_t deadline, lfp_cancel *cancel);
LFP_API int lfp_mpmc_pop_wait_(lfp_mpmc *q, void **out, int64_t deadline, lfp_cancel *cancel);

static inline int lfp_mpmc_push(lfp_mpmc *q, void *v, int64_t deadline, lfp_cancel *cancel)
{
    int rc = lfp_mpmc_try_push(q, v);
    return LFP_LIKELY(rc != EAGAIN) ? rc : lfp_mpmc_push_wait_(q, v, deadline, cancel);
}

static inline int lfp_mpmc_pop(lfp_mpmc *q, void **out, int64_t deadline, lfp_cancel *cancel)
{
    int rc = lfp_mpmc_try_pop(q, out);
    return LFP_LIKELY(rc != EAGAIN) ? rc : lfp_mpmc_pop_wait_(q, out, deadline, cancel);
}

static inline bool lfp_mpmc_closed(const lfp_mpmc *q)
{
    /* relaxed: a status snapshot; orders nothing. */
    return (atomic_load_explicit(&q->tail, memory_order_relaxed) & LFP_Q_CLOSED) != 0;
}

static inline size_t lfp_mpmc_capacity(const lfp_mpmc *q) { return q->mask + 1; }

#ifdef __cplusplus
}
#endif
#endif
