/* lfpat/spsc.h — bounded single-producer/single-consumer ring of void *.
 *
 * One producer thread pushes, one consumer thread pops (at a time; the roles
 * may move between threads if the hand-over itself synchronises). NULL is a
 * valid value. The capacity is rounded up to a power of two.
 *
 * Layout: the producer's line holds tail (next push position, plus the
 * LFP_Q_CLOSED bit) and its private cache of head; the consumer's line holds
 * head and its private cache of tail. Each side reads the other's index only
 * when its cache says full/empty, so the common case touches one shared line
 * per item (the slot) plus its own index.
 *
 * Algorithm: the classic Lamport ring. The producer writes slot[tail] and
 * publishes it by advancing tail with a seq_cst CAS; the CAS can fail only
 * when close set the closed bit, so it is wait-free, and it doubles as the
 * full barrier that lets the producer skip the eventcount fence (qcommon.h).
 * The consumer reads slot[head] and advances head with a release store, then
 * notifies not_full (one seq_cst fence, lfp_ec_notify_one). Batch calls copy
 * up to n slots and publish once.
 *
 * Linearizability: a push takes effect at its successful CAS on tail, a pop
 * at its store of head; with one producer and one consumer the ring holds
 * exactly the items in [head, tail), so try_pop's EAGAIN is exact (empty at
 * the moment it read tail) and try_push's EAGAIN is exact (full at the moment
 * it read head) — no spurious failures.
 * Progress: try_push, try_pop, push_n, pop_n, size, capacity are wait-free;
 * blocking push/pop spin briefly, then park (lfp_ec_await).
 * Ordering: a push happens-before the pop that returns its value; a pop
 * happens-before the push that reuses its slot.
 * Close: push/try_push then return EPIPE (the value stays the caller's); pop
 * returns what was pushed before close, then EPIPE. Every blocked thread wakes.
 */
#ifndef LFPAT_SPSC_H
#define LFPAT_SPSC_H

#include "lfpat/qcommon.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct lfp_spsc {
    alignas(LFP_CACHELINE) _Atomic size_t tail;  /* next push position | LFP_Q_CLOSED */
    size_t head_cache;                           /* producer-private: a past head */
    alignas(LFP_CACHELINE) _Atomic size_t head;  /* next pop position; consumer writes */
    size_t tail_cache;                           /* consumer-private: a past tail */
    alignas(LFP_CACHELINE) void **slots;         /* read-mostly */
    size_t mask;                                 /* capacity - 1 */
    alignas(LFP_CACHELINE) lfp_ec not_empty;     /* consumers park here */
    alignas(LFP_CACHELINE) lfp_ec not_full;      /* producers park here */
} lfp_spsc;

/* Initialise with room for `capacity` values (rounded up to a power of two).
 * Returns 0; EINVAL if q is NULL, capacity is 0 or above
 * LFP_QUEUE_MAX_CAPACITY; ENOMEM. */
LFP_API int lfp_spsc_init(lfp_spsc *q, size_t capacity);

/* Free the ring. Legal on a non-empty, quiescent queue (the values are the
 * caller's; the queue frees only its own memory). NULL is ignored. */
LFP_API void lfp_spsc_destroy(lfp_spsc *q);

/* Push v if there is room. Producer thread only.
 * Returns 0; EAGAIN if full; EPIPE if closed (v not stored); EINVAL if q is
 * NULL. Progress: wait-free. Ordering: happens-before the pop returning v. */
static inline int lfp_spsc_try_push(lfp_spsc *q, void *v)
{
    if (LFP_UNLIKELY(!q))
        return EINVAL;
    /* relaxed: only this thread advances the position; the closed bit that
     * close may set is re-checked by the CAS below. */
    size_t t = atomic_load_explicit(&q->tail, memory_order_relaxed);
    if (LFP_UNLIKELY(t & LFP_Q_CLOSED))
        return EPIPE;
    if (LFP_UNLIKELY(t - q->head_cache > q->mask)) {
        /* acquire: pairs with the release store of head in lfp_spsc_try_pop
         * (and pop_n): the consumer's read of the slot happens-before our
         * overwrite. */
        q->head_cache = atomic_load_explicit(&q->head, memory_order_acquire);
        if (t - q->head_cache > q->mask)
            return EAGAIN;
    }
    q->slots[t & q->mask] = v;
    /* seq_cst CAS: release half publishes the slot to the acquire load of
     * tail in lfp_spsc_try_pop; fails only if close set the bit (the slot is
     * then never read); seq_cst makes it the SB barrier of
     * lfp_q_notify_after_sc_. */
    if (LFP_UNLIKELY(!atomic_compare_exchange_strong_explicit(
            &q->tail, &t, t + 1, memory_order_seq_cst, memory_order_relaxed)))
        return EPIPE;
    lfp_q_notify_after_sc_(&q->not_empty, 1);
    return 0;
}

/* Pop the oldest value into *out. Consumer thread only.
 * Returns 0; EAGAIN if empty; EPIPE if closed and empty; EINVAL if q or out
 * is NULL. Progress: wait-free. Ordering: the push of the value
 * happens-before this returns it. */
static inline int lfp_spsc_try_pop(lfp_spsc *q, void **out)
{
    if (LFP_UNLIKELY(!q || !out))
        return EINVAL;
    /* relaxed: only this thread writes head. */
    size_t h = atomic_load_explicit(&q->head, memory_order_relaxed);
    if (LFP_UNLIKELY(h == q->tail_cache)) {
        /* acquire: pairs with the CAS on tail in lfp_spsc_try_push (and
         * push_n), making the published slots visible. */
        size_t t = atomic_load_explicit(&q->tail, memory_order_acquire);
        q->tail_cache = t & ~LFP_Q_CLOSED;
        if (h == q->tail_cache)
            return (t & LFP_Q_CLOSED) ? EPIPE : EAGAIN;
    }
    *out = q->slots[h & q->mask];
    /* release: pairs with the acquire load of head in lfp_spsc_try_push:
     * our read of the slot happens-before the producer reuses it. */
    atomic_store_explicit(&q->head, h + 1, memory_order_release);
    lfp_ec_notify_one(&q->not_full);
    return 0;
}

/* Push up to n values from v[], in order, publishing them at once. Producer
 * only. Returns how many were pushed (0 if full, closed, or q/v NULL).
 * Progress: wait-free. */
LFP_API size_t lfp_spsc_push_n(lfp_spsc *q, void *const *v, size_t n);

/* Pop up to n values into v[], oldest first. Consumer only. Returns how many
 * (0 if empty, closed and drained, or q/v NULL). Progress: wait-free. */
LFP_API size_t lfp_spsc_pop_n(lfp_spsc *q, void **v, size_t n);

/* Push v, waiting for room until `deadline` (CLOCK_MONOTONIC ns, LFP_FOREVER
 * for none) or until `cancel` fires (NULL for none). Producer only.
 * Returns 0; EPIPE if closed (also when closed while waiting; v not stored);
 * ETIMEDOUT; ECANCELED; EINVAL if q is NULL. Room is preferred: a push that
 * can complete does, even past its deadline.
 * Progress: wait-free when there is room; otherwise blocks (spins briefly,
 * then parks). Ordering: as try_push. */
LFP_API int lfp_spsc_push_wait_(lfp_spsc *q, void *v, int64_t deadline, lfp_cancel *cancel);
static inline int lfp_spsc_push(lfp_spsc *q, void *v, int64_t deadline, lfp_cancel *cancel)
{
    int rc = lfp_spsc_try_push(q, v);
    return LFP_LIKELY(rc != EAGAIN) ? rc : lfp_spsc_push_wait_(q, v, deadline, cancel);
}

/* Pop the oldest value, waiting until one arrives, the queue is closed and
 * drained (EPIPE), `deadline` passes (ETIMEDOUT) or `cancel` fires
 * (ECANCELED). Consumer only. Returns 0 and stores the value in *out; EINVAL
 * if q or out is NULL. Progress: wait-free when a value is ready; otherwise
 * blocks. Ordering: as try_pop. */
LFP_API int lfp_spsc_pop_wait_(lfp_spsc *q, void **out, int64_t deadline, lfp_cancel *cancel);
static inline int lfp_spsc_pop(lfp_spsc *q, void **out, int64_t deadline, lfp_cancel *cancel)
{
    int rc = lfp_spsc_try_pop(q, out);
    return LFP_LIKELY(rc != EAGAIN) ? rc : lfp_spsc_pop_wait_(q, out, deadline, cancel);
}

/* Close: later pushes fail with EPIPE, pops drain then return EPIPE, and
 * every blocked push/pop wakes. Idempotent; callable from any thread.
 * Progress: lock-free (one RMW, then wake calls). */
LFP_API void lfp_spsc_close(lfp_spsc *q);

/* True once lfp_spsc_close has been called. Wait-free. */
static inline bool lfp_spsc_closed(const lfp_spsc *q)
{
    /* relaxed: a status snapshot; orders nothing. */
    return (atomic_load_explicit(&((lfp_spsc *)q)->tail, memory_order_relaxed) & LFP_Q_CLOSED) != 0;
}

static inline size_t lfp_spsc_capacity(const lfp_spsc *q) { return q->mask + 1; }

/* Number of values in the queue: exact when called by the producer or the
 * consumer while the other side is idle; otherwise a value the queue held
 * during the call, approximately. Wait-free. */
LFP_API size_t lfp_spsc_size(const lfp_spsc *q);

#ifdef __cplusplus
}
#endif
#endif
