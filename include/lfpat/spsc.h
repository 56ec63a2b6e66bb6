/* lfpat/spsc.h — bounded single-producer/single-consumer ring of void *.
 *
 * One producer thread pushes, one consumer thread pops (at a time; the roles
 * may move between threads if the hand-over itself synchronises). NULL is a
 * valid value. The capacity is rounded up to a power of two.
 *
 * Layout: tail (next push position) has a line of its own, which the
 * consumer reads; the producer's private line holds the `pushing` flag
 * (read only by close) and its cache of head, so that the two flag stores
 * of a push never take the line the consumer is reading; the consumer's
 * line holds head and its private cache of tail; a read-mostly line holds
 * the slots pointer, the mask and the closed state. Each side reads the
 * other's index only when its cache says full/empty, so the common case
 * touches one shared line per item (the slot) plus the index it publishes.
 *
 * Algorithm: the classic Lamport ring with cached indices (as in rigtorp's
 * SPSCQueue). The producer writes slot[tail] and publishes it with a release
 * store of tail; the consumer reads slot[head] and frees it with a release
 * store of head. No read-modify-write and no fence on either fast path.
 *
 * Wake-ups: both eventcounts are asymmetric (eventcount.h,
 * lfp_ec_init_asym): a side that is about to park pays a membarrier, so a
 * push or pop notifies with a compiler barrier and one load. Without kernel
 * membarrier support they fall back to the symmetric fence.
 *
 * Close without a read-modify-write on the fast path. close() moves `closed`
 * OPEN -> CLOSING; pushes that see CLOSING fail with EPIPE. A push brackets
 * its closed check and its publish with pushing = 1 ... pushing = 0
 * (lfp_spsc_enter_ / exit): the asymmetric SB shape again, with the heavy
 * barrier on the closing side (settle() in src/spsc.c): after the barrier,
 * pushing == 0 means every push either saw CLOSING or has published, so
 * settle moves CLOSING -> CLOSED. A pop reports EPIPE only in CLOSED and
 * empty: nothing accepted is lost, and a push that returns EPIPE never
 * stored its value. The consumer helps: a pop that finds CLOSING and an
 * empty ring runs settle itself. Without membarrier both sides use seq_cst
 * operations (all four accesses of the SB shape seq_cst).
 * Litmus: stress/litmus/litmus_lib_eventcount.c (asymmetric SB, library
 * code) and litmus_sb.c (the shape).
 *
 * Linearizability: a push takes effect at its store of tail, a pop at its
 * store of head; with one producer and one consumer the ring holds exactly
 * the items in [head, tail), so try_pop's EAGAIN is exact (empty at the
 * moment it read tail) and try_push's EAGAIN is exact (full at the moment
 * it read head) — no spurious failures, with one exception: between close
 * and the end of settle (a push in progress finishing, a few instructions
 * unless its thread is preempted) try_pop on an empty ring says EAGAIN,
 * not yet EPIPE; blocking pop waits it out.
 * Real time: like every queue whose publish is a plain release store (ck_ring,
 * rigtorp's), a push may return while its store of tail still sits in its
 * core's store buffer. Any thread that learns of that return through memory
 * (happens-before, or any later synchronisation) sees the item; only an
 * observer comparing wall-clock timestamps can see try_pop's EAGAIN "after"
 * the push returned. The linearizability stress
 * (stress/stress_lincheck_queue.c) fences before taking each response
 * timestamp for this reason.
 * Close waits by parking: close() (and only close; a pop that finds a push
 * in progress returns EAGAIN or parks on not_empty, which close notifies)
 * waits for a push between its enter and exit with a brief spin, then parks
 * on `pushing` itself (futex, expecting 1). A push's exit stores pushing =
 * 0, re-reads closed, and if it is not OPEN wakes every thread parked on
 * `pushing`. No closer stays parked while pushing is 0: it parks only if
 * the word is still 1 (the futex compares atomically with the wake), and
 * every push that clears it after close began sees CLOSING (SB, at
 * lfp_spsc_exit_) and wakes. So close never spins on the pusher's progress
 * (under SCHED_FIFO, a closer at a higher priority than the producer on
 * the same CPU would otherwise livelock: stress/stress_rt_handoff.c). The
 * fast path pays one load of `closed` (the read-mostly line enter already
 * read) and a predictable branch at exit.
 * Progress: try_push, try_pop, push_n, pop_n, size, capacity are wait-free;
 * blocking push/pop spin briefly, then park (lfp_ec_await). close is
 * blocking only while a push is between its enter and exit (wait-free
 * code); it spins briefly, then parks meanwhile.
 * Ordering: a push happens-before the pop that returns its value; a pop
 * happens-before the push that reuses its slot; every accepted push
 * happens-before a pop's EPIPE.
 * Close: push/try_push then return EPIPE (the value stays the caller's); pop
 * returns what was pushed before close, then EPIPE. Every blocked thread wakes.
 * Process-private (the membarrier and the futex are), like the other queues.
 *
 * Copying: an lfp_spsc must not be copied or moved after init: a copy shares
 * the ring, so destroying both frees it twice, and waiters park on the
 * eventcounts inside the object. Use it where it was initialised, through
 * pointers.
 *
 * Fork: a child of fork may call every lfp_spsc_* call on an object that no
 * thread of the parent was using when fork() was called (lfpat's process-wide
 * locks are held across fork by atfork handlers, src/fork.c, so none is copied
 * held). An object a parent thread was inside at the fork (in a call, or
 * blocked in one) is copied in that intermediate state, with a thread the
 * child does not have: the child must not use it.
 */
#ifndef LFPAT_SPSC_H
#define LFPAT_SPSC_H

#include "lfpat/qcommon.h"

#ifdef __cplusplus
extern "C" {
#endif

/* lfp_spsc.closed */
#define LFP_SPSC_OPEN_ 0u
#define LFP_SPSC_CLOSING_ 1u   /* pushes refused; a push may still be publishing */
#define LFP_SPSC_CLOSED_ 2u    /* pushes refused and none in progress */

typedef struct lfp_spsc {
    alignas(LFP_CACHELINE) _Atomic(size_t) tail; /* next push position */
    alignas(LFP_CACHELINE) _Atomic(uint32_t) pushing; /* 1 from a push's enter to its exit */
    size_t head_cache;                           /* producer-private: a past head */
    alignas(LFP_CACHELINE) _Atomic(size_t) head; /* next pop position; consumer writes */
    size_t tail_cache;                           /* consumer-private: a past tail */
    alignas(LFP_CACHELINE) void **slots;         /* read-mostly from here */
    size_t mask;                                 /* capacity - 1 */
    _Atomic(uint32_t) closed;                    /* LFP_SPSC_OPEN_ / CLOSING_ / CLOSED_ */
    uint32_t asym;                               /* eventcounts asymmetric; constant */
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

/* internal: a push's entry. Announces the push, then reads the closed
 * state: the light side of the SB shape with settle() in src/spsc.c. */
static inline uint32_t lfp_spsc_enter_(lfp_spsc *q)
{
    if (LFP_LIKELY(q->asym)) {
        /* relaxed + compiler barrier: the light half of the asymmetric SB
         * shape; pairs with the membarrier in settle() in src/spsc.c. */
        atomic_store_explicit(&q->pushing, 1, memory_order_relaxed);
        atomic_signal_fence(memory_order_seq_cst);
    } else {
        /* seq_cst RMW: without membarrier, the SB shape with all four
         * accesses seq_cst (pairs with settle's seq_cst load). */
        atomic_exchange_explicit(&q->pushing, 1, memory_order_seq_cst);
    }
    /* seq_cst (a plain load on x86): the read of the SB shape. */
    return atomic_load_explicit(&q->closed, memory_order_seq_cst);
}

LFP_API void lfp_spsc_wake_closer_(lfp_spsc *q);

/* internal: a push's exit: pushing = 0, then a re-read of closed; a push
 * that finds the queue closing wakes a close() parked on `pushing` (see
 * "Close waits by parking" above). This is the SB shape once more, the
 * other way round: the push writes pushing and reads closed, close wrote
 * closed and (after its membarrier, or seq_cst) read pushing == 1 before
 * parking; so either close sees pushing == 0 or the push sees CLOSING. */
static inline void lfp_spsc_exit_(lfp_spsc *q)
{
    LFP_TEST_HOOK("spsc.push");   /* inside the push bracket */
    if (LFP_LIKELY(q->asym)) {
        /* release: pairs with the acquire half of the seq_cst load of
         * pushing in settle() in src/spsc.c: a published push
         * happens-before CLOSED, hence before every EPIPE from pop. */
        atomic_store_explicit(&q->pushing, 0, memory_order_release);
        /* compiler barrier: the light half of the asymmetric SB shape; the
         * heavy half is the membarrier in settle(). */
        atomic_signal_fence(memory_order_seq_cst);
    } else {
        /* seq_cst: without membarrier, the SB shape with all four accesses
         * seq_cst (its release half as above). */
        atomic_store_explicit(&q->pushing, 0, memory_order_seq_cst);
    }
    /* seq_cst (a plain load on x86): the read of that SB shape; pairs with
     * close's seq_cst CAS to CLOSING. */
    if (LFP_UNLIKELY(atomic_load_explicit(&q->closed, memory_order_seq_cst) !=
                     LFP_SPSC_OPEN_))
        lfp_spsc_wake_closer_(q);
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
    if (LFP_LIKELY(atomic_load_explicit(&q->closed, memory_order_acquire) == LFP_SPSC_OPEN_))
        return EAGAIN;
    return lfp_spsc_empty_closing_(q, h);
}

/* Push v if there is room. Producer thread only.
 * Returns 0; EAGAIN if full; EPIPE if closed (v not stored); EINVAL if q is
 * NULL. Progress: wait-free. Ordering: happens-before the pop returning v. */
static inline int lfp_spsc_try_push(lfp_spsc *q, void *v)
{
    if (LFP_UNLIKELY(!q))
        return EINVAL;
    int rc = 0;
    uint32_t closed = lfp_spsc_enter_(q);
    /* relaxed: only this thread writes tail. */
    size_t t = atomic_load_explicit(&q->tail, memory_order_relaxed);
    if (LFP_UNLIKELY(closed != LFP_SPSC_OPEN_)) {
        rc = EPIPE;
    } else if (LFP_UNLIKELY(t - q->head_cache > q->mask) &&
               /* acquire: pairs with the release store of head in the
                * consumer: its read of the slot happens-before our overwrite. */
               (q->head_cache = atomic_load_explicit(&q->head, memory_order_acquire),
                t - q->head_cache > q->mask)) {
        rc = EAGAIN;
    } else {
        q->slots[t & q->mask] = v;
        /* release: publishes the slot; pairs with the acquire load of tail
         * in lfp_spsc_refill_. */
        atomic_store_explicit(&q->tail, t + 1, memory_order_release);
    }
    lfp_spsc_exit_(q);
    if (LFP_LIKELY(rc == 0))
        lfp_ec_notify_asym_(&q->not_empty, 1);
    return rc;
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
        int rc = lfp_spsc_refill_(q, h);
        if (rc != 0)
            return rc;
    }
    *out = q->slots[h & q->mask];
    /* release: pairs with the acquire load of head in the producer: our read
     * of the slot happens-before the producer reuses it. */
    atomic_store_explicit(&q->head, h + 1, memory_order_release);
    lfp_ec_notify_asym_(&q->not_full, 1);
    return 0;
}

/* Push up to n values from v[], in order, publishing them at once. Producer
 * only. Returns how many were pushed (0 if full, closed, or q/v NULL).
 * Progress: wait-free. */
LFP_API size_t lfp_spsc_push_n(lfp_spsc *q, void *const *v, size_t n);

/* Pop up to n values into v[], oldest first. Consumer only. Returns how many
 * (0 if empty, closed and drained, or q/v NULL). Progress: wait-free. */
LFP_API size_t lfp_spsc_pop_n(lfp_spsc *q, void **v, size_t n);

/* int lfp_spsc_push(lfp_spsc *q, void *v, int64_t deadline, lfp_cancel *cancel)
 * Push v, waiting for room until `deadline` (CLOCK_MONOTONIC ns, LFP_FOREVER
 * for none) or until `cancel` fires (NULL for none). Producer only.
 * Returns 0; EPIPE if closed (also when closed while waiting; v not stored);
 * ETIMEDOUT; ECANCELED; EINVAL if q is NULL. Room is preferred: a push that
 * can complete does, even past its deadline.
 * Progress: wait-free when there is room; otherwise blocks (spins briefly,
 * then parks). Ordering: as try_push. */

/* int lfp_spsc_pop(lfp_spsc *q, void **out, int64_t deadline, lfp_cancel *cancel)
 * Pop the oldest value, waiting until one arrives, the queue is closed and
 * drained (EPIPE), `deadline` passes (ETIMEDOUT) or `cancel` fires
 * (ECANCELED). Consumer only. Returns 0 and stores the value in *out; EINVAL
 * if q or out is NULL. Progress: wait-free when a value is ready; otherwise
 * blocks. Ordering: as try_pop. */
/* Both defined here, inline (see qcommon.h): */
LFP_Q_BLOCKING_CALLS_(lfp_spsc)

/* Close: later pushes fail with EPIPE, pops drain then return EPIPE, and
 * every blocked push/pop wakes. Idempotent; callable from any thread.
 * Progress: one RMW, then it waits (spin briefly, then park) for a push in progress to
 * finish, then wake calls; a membarrier system call per attempt. */
LFP_API void lfp_spsc_close(lfp_spsc *q);

/* True once lfp_spsc_close has been called. Wait-free. */
static inline bool lfp_spsc_closed(const lfp_spsc *q)
{
    /* relaxed: a status snapshot; orders nothing. */
    return atomic_load_explicit(&q->closed, memory_order_relaxed) != LFP_SPSC_OPEN_;
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
