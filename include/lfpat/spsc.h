/* SPDX-License-Identifier: BSD-2-Clause */
/* lfpat/spsc.h — bounded single-producer/single-consumer ring of void *.
 *
 * One producer thread pushes, one consumer thread pops (at a time; the roles
 * may move between threads if the hand-over itself synchronises). NULL is a
 * valid value. The capacity is rounded up to a power of two.
 *
 * Layout: tail (next push position) has a line of its own, which the
 * consumer reads; the producer's private line holds `entered` (read only by
 * settle: close, or a pop that finds the queue closing and empty) and its
 * cache of head, so that a push's announcement never takes
 * the line the consumer is reading; the consumer's line holds head and its
 * private cache of tail; a read-mostly line holds the slots pointer, the
 * mask and the closed state. Each side reads the other's index only when
 * its cache says full/empty, so the common case touches one shared line per
 * item (the slot) plus the index it publishes.
 *
 * Cost per item (x86-64, gcc -O3, while nobody waits): a push is a minimal
 * ring's push — load its own tail, compare with its cache of head, store
 * the slot, release-store tail (plain moves on x86) — plus one store to
 * its private line (`entered`, the close announcement), one load of
 * `closed` and one load of the not_empty eventcount's waiter count (both
 * read-mostly lines, L1 hits while nobody closes or waits), each load
 * with its test and branch: 7 instructions more than the minimal ring's.
 * A pop is the minimal ring's pop plus the waiter-count load, test and
 * branch of not_full: 3 more. No read-modify-write, no fence, no mode
 * test, no call on either path. Measured with callgrind on a
 * single-thread loop of 512 pushes then 512 pops: 35.0 instructions per
 * push+pop, the minimal ring 26.0 (bench/qbench/impls.c has it). Shared
 * lines: the slot's and the published index's, as in the minimal ring;
 * a side reads the other's index only when its cache says full/empty.
 *
 * Algorithm: the classic Lamport ring with cached indices (as in rigtorp's
 * SPSCQueue). The producer writes slot[tail] and publishes it with a release
 * store of tail; the consumer reads slot[head] and frees it with a release
 * store of head. No read-modify-write and no fence on either fast path.
 *
 * Wake-ups: both eventcounts are asymmetric (eventcount.h,
 * lfp_ec_init_asym): a side that is about to park pays a membarrier, so a
 * push or pop notifies with a compiler barrier and one load. Without kernel
 * membarrier support the fast paths keep that form and two words send
 * them to out-of-line slow paths that run the symmetric one: a SYM_ flag
 * in `closed`, set at init, makes every push's read of closed take
 * lfp_spsc_push_slow_ (announcement and read again, seq_cst), and a
 * phantom waiter counted in each eventcount from init makes every notify
 * call lfp_spsc_wake_ (seq_cst fence, then the count less the phantom).
 * So no fast path tests the mode; the fallback pays for it instead: a push
 * two calls (a seq_cst store and load, then a fence), a pop one call and a
 * fence (callgrind, the loop below: 75.0 instructions per push+pop).
 *
 * Blocking (push and pop that find the ring full or empty): each side
 * records the CPU it waits on (sched_getcpu) beside the eventcount it
 * parks on, a read-mostly line (written only when the CPU changes, never
 * on the lines the fast paths write). A waiter
 * whose partner last waited on the same CPU yields at once: the partner
 * cannot make progress while it spins. Otherwise (different CPU, or the
 * partner never waited) it retries with a pause between tries for 256
 * rounds (about 5 us: a few cross-CPU hand-offs, well below a park/wake
 * round trip), then yields LFP_Q_SPIN_YIELDS times, then parks on the
 * eventcount (lfp_ec_await: its own short spin, a membarrier, then
 * futex_wait), using no CPU
 * until the partner's notify. A stale hint (a thread that migrated) costs
 * time, never a wake-up. A push that found the ring full first waits, while
 * the consumer visibly drains, for 64 free slots (src/spsc.c,
 * await_room_batch).
 *
 * Close without a read-modify-write on the fast path, and with one store
 * per push. close() moves `closed` OPEN -> CLOSING; pushes that see CLOSING
 * fail with EPIPE. A push announces the position it will publish — entered
 * = t + 1 — before it reads closed (lfp_spsc_announce_), and its publish,
 * tail = t + m (m >= 1 items, push_n), ends the announcement. A push that
 * reads CLOSING withdraws (entered = t again) without publishing. So
 * entered > tail exactly while a push is between its announcement and its
 * publish or withdrawal. That is the asymmetric
 * SB shape, with the heavy barrier on the closing side (settle() in
 * src/spsc.c): after the barrier, settle reads entered, then tail; a push
 * that read OPEN has its announcement visible there, so entered <= tail
 * means every such push has published (and the acquire load of tail makes
 * its slot visible), and settle moves CLOSING -> CLOSED. The two loads need
 * not be one snapshot: while a push that read OPEN at position t is
 * unpublished, tail <= t and every value of entered from its announcement
 * on is >= t + 1 (later announcements and withdrawals come after its
 * publish, at positions > t), so entered <= tail needs a tail the publish
 * wrote; a stale tail or a newer entered only makes settle say "not yet". A pop reports
 * EPIPE only in CLOSED and empty: nothing accepted is lost, and a push that
 * returns EPIPE never stored its value. The consumer helps: a pop that
 * finds CLOSING and an empty ring runs settle itself. Without membarrier
 * both sides use seq_cst operations (all four accesses of the SB shape
 * seq_cst). Litmus: stress/litmus/litmus_lib_spsc.c (both SB shapes, this
 * code, in both modes), litmus_lib_eventcount.c and litmus_sb.c (the
 * shapes). Model checked:
 * stress/models/spsc_close.pml (EPIPE only when nothing accepted is to
 * come; closer and pop never stay parked; negative controls). Deterministic
 * wake-up tests: tests/test_spsc_close.c (also in a child whose membarrier
 * is denied, so that init itself picks the fallback).
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
 * waits for an announced push with a brief spin, then parks on the
 * not_empty eventcount, re-running settle after its prepare. Both ways an
 * announcement ends notify not_empty to all (the publish as every push
 * does, the withdrawal in lfp_spsc_push_slow_), after the store that ends
 * it, so by the eventcount's argument (eventcount.h) no closer stays parked
 * once entered <= tail. So close never spins on the pusher's progress
 * (under SCHED_FIFO, a closer at a higher priority than the producer on the
 * same CPU would otherwise livelock: stress/stress_rt_handoff.c).
 * Progress: try_push, try_pop, push_n, pop_n, size, capacity are wait-free;
 * blocking push/pop spin briefly, then park (lfp_ec_await). close is
 * blocking only while a push is between its announcement and its publish
 * or withdrawal (wait-free code); it spins briefly, then parks meanwhile.
 * Ordering: a push happens-before the pop that returns its value; a pop
 * happens-before the push that reuses its slot; every accepted push
 * happens-before a pop's EPIPE.
 * Close: push/try_push then return EPIPE (the value stays the caller's); pop
 * returns what was pushed before close, then EPIPE. Every blocked thread wakes.
 * Process-private (the membarrier and the futex are), like the other queues.
 */
#ifndef LFPAT_SPSC_H
#define LFPAT_SPSC_H

#include "lfpat/qcommon.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct lfp_spsc {
    alignas(LFP_CACHELINE) _Atomic(size_t) tail;  /* next push position */
    alignas(LFP_CACHELINE) _Atomic(size_t) entered; /* tail + 1 while a push is announced */
    size_t head_cache;                           /* producer-private: a past head */
    alignas(LFP_CACHELINE) _Atomic(size_t) head;  /* next pop position; consumer writes */
    size_t tail_cache;                           /* consumer-private: a past tail */
    alignas(LFP_CACHELINE) void **slots;         /* read-mostly from here */
    size_t mask;                                 /* capacity - 1 */
    _Atomic(uint32_t) closed;                     /* LFP_SPSC_OPEN_ / CLOSING_ / CLOSED_, SYM_ */
    uint32_t asym;                               /* eventcounts asymmetric; constant */
    alignas(LFP_CACHELINE) lfp_ec not_empty;     /* consumers park here */
    _Atomic(int) consumer_cpu;                   /* CPU a blocked pop last waited on */
    alignas(LFP_CACHELINE) lfp_ec not_full;      /* producers park here */
    _Atomic(int) producer_cpu;                   /* CPU a blocked push last waited on */
} lfp_spsc;

/* Initialise with room for `capacity` values (rounded up to a power of two).
 * Returns 0; EINVAL if q is NULL, capacity is 0 or above
 * LFP_QUEUE_MAX_CAPACITY; ENOMEM. */
LFP_API int lfp_spsc_init(lfp_spsc *q, size_t capacity);

/* Free the ring. Legal on a non-empty, quiescent queue (the values are the
 * caller's; the queue frees only its own memory). Quiescent means every
 * call has returned, close included: a pop's EPIPE does not mean that
 * close() has (it still notifies both eventcounts after CLOSED is visible),
 * nor that a push which read CLOSING has left its withdrawal's notify.
 * NULL is ignored. */
LFP_API void lfp_spsc_destroy(lfp_spsc *q);

/* Push v if there is room. Producer thread only.
 * Returns 0; EAGAIN if full; EPIPE if closed (v not stored); EINVAL if q is
 * NULL. Progress: wait-free. Ordering: happens-before the pop returning v. */
static inline int lfp_spsc_try_push(lfp_spsc *q, void *v);

/* Pop the oldest value into *out. Consumer thread only.
 * Returns 0; EAGAIN if empty; EPIPE if closed and empty; EINVAL if q or out
 * is NULL. Progress: wait-free. Ordering: the push of the value
 * happens-before this returns it. */
static inline int lfp_spsc_try_pop(lfp_spsc *q, void **out);

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
static inline int lfp_spsc_push(lfp_spsc *q, void *v, int64_t deadline, lfp_cancel *cancel);

/* Pop the oldest value, waiting until one arrives, the queue is closed and
 * drained (EPIPE), `deadline` passes (ETIMEDOUT) or `cancel` fires
 * (ECANCELED). Consumer only. Returns 0 and stores the value in *out; EINVAL
 * if q or out is NULL. Progress: wait-free when a value is ready; otherwise
 * blocks. Ordering: as try_pop. */
static inline int lfp_spsc_pop(lfp_spsc *q, void **out, int64_t deadline, lfp_cancel *cancel);

/* Close: later pushes fail with EPIPE, pops drain then return EPIPE, and
 * every blocked push/pop wakes. Idempotent; callable from any thread.
 * Progress: one RMW, then it waits (spin briefly, then park) for a push in progress to
 * finish, then wake calls; a membarrier system call per attempt (none in the
 * fallback without membarrier). */
LFP_API void lfp_spsc_close(lfp_spsc *q);

/* True once lfp_spsc_close has been called. Wait-free. */
static inline bool lfp_spsc_closed(const lfp_spsc *q);

static inline size_t lfp_spsc_capacity(const lfp_spsc *q);

/* Number of values in the queue: exact when called by the producer or the
 * consumer while the other side is idle; otherwise a value the queue held
 * during the call, approximately. Wait-free. */
LFP_API size_t lfp_spsc_size(const lfp_spsc *q);

#ifdef __cplusplus
}
#endif

/* The inline definitions (internal, not part of the API). */
#include "lfpat/internal/spsc.h"
#endif
