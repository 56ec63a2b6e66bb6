/* SPDX-License-Identifier: BSD-2-Clause */
/* lfpat/internal/sem.h — internal: the inline definitions behind
 * lfpat/sem.h (its inline calls and their helpers, with the ordering
 * argument at each atomic). Not part of the API: names ending in '_'
 * may change in any release. Include <lfpat/sem.h>, not this. */
#ifndef LFPAT_INTERNAL_SEM_H
#define LFPAT_INTERNAL_SEM_H

#include "lfpat/sem.h"

#ifdef __cplusplus
extern "C" {
#endif

#define LFP_SEM_SIGNAL_ ((uint64_t)1 << 32)   /* G: bits 32-39 of the state word */
#define LFP_SEM_WAITER_ ((uint64_t)1 << 40)   /* W: bits 40-63 */
#define LFP_SEM_SIGNAL_MAX_ 255u
#define LFP_SEM_DESTROYING_ 0x80000000u      /* notifiers: lfp_sem_destroy waits */

static inline uint32_t lfp_sem_permits_(uint64_t v) { return (uint32_t)v; }
static inline uint32_t lfp_sem_signals_(uint64_t v) { return (uint32_t)(v >> 32) & 0xff; }
static inline uint32_t lfp_sem_waiters_(uint64_t v) { return (uint32_t)(v >> 40); }

/* The wake rule on a word about to be stored: one more signal if the free
 * permits that waiters can use, min(P, W), outnumber the signals in flight.
 * The caller notifies the eventcount if the word changed. */
static inline uint64_t lfp_sem_signal_(uint64_t v)
{
    uint32_t p = lfp_sem_permits_(v), w = lfp_sem_waiters_(v), g = lfp_sem_signals_(v);
    return (p < w ? p : w) > g && g < LFP_SEM_SIGNAL_MAX_ ? v + LFP_SEM_SIGNAL_ : v;
}

static inline int lfp_sem_try_acquire(lfp_sem *s)
{
    if (LFP_UNLIKELY(s == NULL))
        return EINVAL;
    /* relaxed: only the CAS's first guess; the CAS re-validates it. */
    uint64_t v = atomic_load_explicit(&s->state, memory_order_relaxed);
    do {
        if (lfp_sem_permits_(v) == 0)
            return EAGAIN;
        /* acquire: pairs with the release (seq_cst) CAS in lfp_sem_release. */
    } while (!atomic_compare_exchange_weak_explicit(&s->state, &v, v - 1, memory_order_acquire,
                                                    memory_order_relaxed));
    return 0;
}

LFP_API int lfp_sem_acquire_slow_(lfp_sem *s, int64_t deadline, lfp_cancel *cancel);

static inline int lfp_sem_acquire(lfp_sem *s, int64_t deadline, lfp_cancel *cancel)
{
    int rc = lfp_sem_try_acquire(s);
    return LFP_LIKELY(rc != EAGAIN) ? rc : lfp_sem_acquire_slow_(s, deadline, cancel);
}

LFP_API int lfp_sem_release_slow_(lfp_sem *s, uint64_t v);

static inline int lfp_sem_release(lfp_sem *s)
{
    if (LFP_UNLIKELY(s == NULL))
        return EINVAL;
    /* Counted before the CAS: once the permit is published an acquirer may
     * take it and free s (undone below if the release fails). */
    lfp_striped_add(&s->releases, 1);
    /* relaxed: only the CAS's first guess; the CAS re-validates it. */
    uint64_t v = atomic_load_explicit(&s->state, memory_order_relaxed);
    do {
        if (LFP_UNLIKELY(v >= LFP_SEM_WAITER_))   /* waiters: the wake rule */
            return lfp_sem_release_slow_(s, v);
        if (lfp_sem_permits_(v) >= s->capacity) {
            lfp_striped_add(&s->releases, -1);
            return EOVERFLOW;
        }
        /* seq_cst: a release for the next acquirer's acquire CAS (publishes
         * this holder's writes); the slow path's CAS also serves as the
         * store-load barrier before its eventcount check (lfpat/sem.h; on
         * x86 the same instruction as a release CAS). W == 0 here, so the
         * wake rule adds nothing. */
    } while (!atomic_compare_exchange_weak_explicit(&s->state, &v, v + 1, memory_order_seq_cst,
                                                    memory_order_relaxed));
    LFP_TEST_HOOK("sem.released");   /* published: an acquirer may take it and free s */
    return 0;
}

static inline unsigned lfp_sem_available(const lfp_sem *s)
{
    /* relaxed: a snapshot that orders nothing. */
    return s ? (uint32_t)atomic_load_explicit(&s->state, memory_order_relaxed) : 0;
}

#define LFP_WSEM_QUEUED_ ((uint64_t)1 << 63)

static inline int lfp_wsem_try_acquire(lfp_wsem *s, int64_t n)
{
    if (LFP_UNLIKELY(s == NULL || n <= 0 || n > s->capacity))
        return EINVAL;
    /* relaxed: only the CAS's first guess; the CAS re-validates it. */
    uint64_t v = atomic_load_explicit(&s->state, memory_order_relaxed);
    do {
        if ((v & LFP_WSEM_QUEUED_) || v < (uint64_t)n)
            return EAGAIN;
        /* acquire: pairs with the release CAS/store of free weight in
         * lfp_wsem_release / its slow path. */
    } while (!atomic_compare_exchange_weak_explicit(&s->state, &v, v - (uint64_t)n,
                                                    memory_order_acquire, memory_order_relaxed));
    return 0;
}

LFP_API int lfp_wsem_acquire_slow_(lfp_wsem *s, int64_t n, int64_t deadline, lfp_cancel *cancel);

static inline int lfp_wsem_acquire(lfp_wsem *s, int64_t n, int64_t deadline, lfp_cancel *cancel)
{
    int rc = lfp_wsem_try_acquire(s, n);
    return LFP_LIKELY(rc != EAGAIN) ? rc : lfp_wsem_acquire_slow_(s, n, deadline, cancel);
}

LFP_API int lfp_wsem_release_slow_(lfp_wsem *s, int64_t n);

static inline int lfp_wsem_release(lfp_wsem *s, int64_t n)
{
    if (LFP_UNLIKELY(s == NULL || n <= 0))
        return EINVAL;
    /* relaxed: only the CAS's first guess; the CAS re-validates it. */
    uint64_t v = atomic_load_explicit(&s->state, memory_order_relaxed);
    do {
        if (LFP_UNLIKELY(v & LFP_WSEM_QUEUED_))
            return lfp_wsem_release_slow_(s, n);
        if ((uint64_t)n > (uint64_t)s->capacity - v)
            return EOVERFLOW;
        /* release: pairs with the acquire CAS of lfp_wsem_try_acquire and
         * the slow path's loads, publishing the holder's writes. */
    } while (!atomic_compare_exchange_weak_explicit(&s->state, &v, v + (uint64_t)n,
                                                    memory_order_release, memory_order_relaxed));
    return 0;
}

static inline int64_t lfp_wsem_available(const lfp_wsem *s)
{
    /* relaxed: a snapshot that orders nothing. */
    return s ? (int64_t)(atomic_load_explicit(&s->state, memory_order_relaxed) &
                         ~LFP_WSEM_QUEUED_)
             : 0;
}

static inline int64_t lfp_wsem_capacity(const lfp_wsem *s) { return s ? s->capacity : 0; }

#ifdef __cplusplus
}
#endif
#endif
