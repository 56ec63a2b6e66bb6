/* SPDX-License-Identifier: BSD-2-Clause */
/* lfpat/mpmc.h — bounded multi-producer/multi-consumer ring of void *.
 *
 * Any number of threads push and pop. NULL is a valid value. The capacity is
 * rounded up to a power of two, at least 2 (with one cell the states
 * "published for position p" and "free for p + 1" would share a sequence
 * number); no allocation after init.
 *
 * Algorithm (Vyukov's bounded MPMC queue): cell i carries a sequence number
 * seq. For position p (cell p mod capacity):
 *   seq == p      the cell is free for the push at position p;
 *   seq == p + 1  the push at p has published its value, the pop at p may take it;
 *   seq == p + capacity   the pop at p has taken it: free for the push at p + capacity.
 * A push claims position p = tail with a CAS tail: p -> p+1 (only when cell p
 * is free), then stores the value and publishes seq = p + 1 (release). A pop
 * claims p = head with a CAS head: p -> p+1 (only when cell p is published),
 * reads the value and stores seq = p + capacity (release). Producers never
 * wait for each other and consumers never wait for each other; a pop only
 * depends on the push of its own position.
 *
 * Claim vs publish — when try_pop says EAGAIN although the queue is not
 * empty: between a push's claim (its CAS on tail) and its publish (its store
 * of seq) the push is "in progress". try_pop looks only at cell[head]. It
 * returns EAGAIN exactly when, at the moment it read cell[head].seq, the
 * value at position head was not published: either no push had claimed
 * position head (the queue was empty then), or a push had claimed head but
 * not yet published it. In the second case pushes at later positions may
 * already have completed and returned 0 — lfp_mpmc_size may be > 0 — and
 * try_pop still reports EAGAIN until that one push publishes (a preempted
 * producer delays it by up to its time slice). Symmetrically, try_push
 * returns EAGAIN when cell[tail] still holds a value whose pop has claimed
 * but not finished it (tested in tests/test_queue.c,
 * mpmc_try_pop_eagain_while_push_in_progress and ..._push_eagain_while_pop_...).
 *
 * Blocking and wake-ups: a blocking call that finds its cell empty/full or
 * held by an operation in progress spins briefly (pause, then yield) and
 * then parks on the eventcount; it never spins for long behind a preempted
 * thread, so oversubscription does not collapse throughput. Both
 * eventcounts are asymmetric (eventcount.h, lfp_ec_init_asym): a thread about
 * to park pays a membarrier, so the publish and release stores of seq are
 * plain release stores and the notify after them is a compiler barrier and
 * one load — one locked instruction per push or pop (the claim CAS). Without
 * kernel membarrier the eventcounts stay symmetric and the notify issues the
 * fence (lfp_ec_notify_asym_). A blocking call that finds its cell held
 * by an operation in progress parks like one that finds the queue empty
 * (full), open or closed: it never yields without bound, which under
 * SCHED_FIFO would keep a lower-priority holder on the same CPU from ever
 * publishing. Why no wake-up is lost: "Wake-ups" below.
 *
 * Linearizability: a successful push takes effect at its claim CAS, a
 * successful pop at its claim CAS; pop p returns the value of push p, and
 * claims are totally ordered per index, so successful operations form a
 * linearizable FIFO history. EAGAIN results are linearizable only when no
 * operation is in progress on the inspected cell (see above); with one
 * in progress they are the documented spurious failures. EPIPE from try_pop
 * is exact: the closed bit and the tail are one word, so "closed and every
 * claimed position already popped" is read atomically and no push can follow.
 * Progress: try_push/try_pop/push_n/pop_n are lock-free (a CAS fails only
 * because another operation's CAS succeeded); blocking calls spin briefly and
 * park (no spinning behind a preempted thread: no collapse when
 * oversubscribed).
 * Ordering: a push happens-before the pop that returns its value; a pop
 * happens-before the push that reuses its cell.
 * Litmus: stress/litmus/litmus_lib_mpmc.c (this code: publish, cell reuse,
 * two producers; its relaxed-publish control is stress/negative/
 * relaxed_publish.c). Model checked: stress/models/mpmc_cell.pml.
 * Close: the closed bit lives in tail (qcommon.h), so a push either claimed
 * before close — and will be delivered — or fails with EPIPE.
 *
 * Copying: an lfp_mpmc must not be copied or moved after init: a copy shares
 * the ring, so destroying both frees it twice, and waiters park on the
 * eventcounts inside the object. Use it where it was initialised, through
 * pointers.
 *
 * Fork: a child of fork may call every lfp_mpmc_* call on an object that no
 * thread of the parent was using when fork() was called (lfpat's process-wide
 * locks are held across fork by atfork handlers, src/fork.c, so none is copied
 * held). An object a parent thread was inside at the fork (in a call, or
 * blocked in one) is copied in that intermediate state, with a thread the
 * child does not have: the child must not use it.
 */
#ifndef LFPAT_MPMC_H
#define LFPAT_MPMC_H

#include "lfpat/qcommon.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct lfp_mpmc_cell {
    _Atomic(size_t) seq;
    void *value;
} lfp_mpmc_cell;

typedef struct lfp_mpmc {
    alignas(LFP_CACHELINE) _Atomic(size_t) tail;  /* next push position | LFP_Q_CLOSED */
    alignas(LFP_CACHELINE) _Atomic(size_t) head;  /* next pop position */
    alignas(LFP_CACHELINE) lfp_mpmc_cell *cells;  /* read-mostly */
    size_t mask;                                  /* capacity - 1 */
    alignas(LFP_CACHELINE) lfp_ec not_empty;      /* poppers park here */
    alignas(LFP_CACHELINE) lfp_ec not_full;       /* pushers park here */
} lfp_mpmc;

/* Initialise with room for `capacity` values (rounded up to a power of two,
 * at least 2).
 * Returns 0; EINVAL if q is NULL, capacity is 0 or above
 * LFP_QUEUE_MAX_CAPACITY; ENOMEM. */
LFP_API int lfp_mpmc_init(lfp_mpmc *q, size_t capacity);

/* Free the cells. Legal on a non-empty, quiescent queue. Quiescent means
 * every call has returned, close included: a pop's EPIPE does not mean that
 * close() has (it still notifies both eventcounts after the closed bit is
 * visible). NULL is ignored. */
LFP_API void lfp_mpmc_destroy(lfp_mpmc *q);

/* Push v if cell[tail] is free. Returns 0; EAGAIN if full (or the pop of
 * that cell is in progress, see above); EPIPE if closed (v not stored);
 * EINVAL if q is NULL. Progress: lock-free. Ordering: happens-before the pop
 * that returns v. */
static inline int lfp_mpmc_try_push(lfp_mpmc *q, void *v);

/* Pop the oldest value into *out. Returns 0; EAGAIN if empty (or the push of
 * the oldest position is in progress, see above); EPIPE if closed and
 * drained; EINVAL if q or out is NULL. Progress: lock-free. Ordering: the
 * push of the value happens-before this returns it. */
static inline int lfp_mpmc_try_pop(lfp_mpmc *q, void **out);

/* Push up to n values from v[] at consecutive positions with one claim (so
 * they stay adjacent and in order). Returns how many (0 if full, closed, or
 * q/v NULL). Progress: lock-free. */
LFP_API size_t lfp_mpmc_push_n(lfp_mpmc *q, void *const *v, size_t n);

/* Pop up to n values into v[], oldest first, with one claim. Returns how
 * many (0 if none ready, closed and drained, or q/v NULL). Lock-free. */
LFP_API size_t lfp_mpmc_pop_n(lfp_mpmc *q, void **v, size_t n);

/* Push v, waiting for room until `deadline` (CLOCK_MONOTONIC ns, LFP_FOREVER
 * for none) or `cancel` fires (NULL for none).
 * Returns 0; EPIPE if closed (v not stored); ETIMEDOUT; ECANCELED; EINVAL if
 * q is NULL. Room is preferred over ETIMEDOUT/ECANCELED.
 * Progress: lock-free when there is room; otherwise blocks (spins briefly,
 * then parks). Ordering: as try_push. */
static inline int lfp_mpmc_push(lfp_mpmc *q, void *v, int64_t deadline, lfp_cancel *cancel);

/* Pop the oldest value, waiting until one arrives, the queue is closed and
 * drained (EPIPE), `deadline` passes (ETIMEDOUT), or `cancel` fires
 * (ECANCELED). Returns 0 and stores the value in *out; EINVAL if q or out is
 * NULL. Progress: lock-free when a value is ready; otherwise blocks (parks).
 * Ordering: the push that stored the value happens-before this pop returns it. */
static inline int lfp_mpmc_pop(lfp_mpmc *q, void **out, int64_t deadline, lfp_cancel *cancel);
/* Wake-ups: no blocking call stays parked while its condition holds, for
 * any interleaving.
 * A blocking pop waits for C: cell[head] published, or closed and drained
 * (head == tail). A blocking push waits for cell[tail] released, or closed.
 * The protocol (src/mpmc.c, lfp_ec_await in src/eventcount.c): a waiter
 * loops { lfp_ec_prepare (waiters++, key = epoch); try; on a result: abort,
 * return it; else futex-wait while epoch == key }. Every publish (release)
 * notifies one waiter of not_empty (not_full), close notifies all. The
 * pass-on rule: a waiter that leaves the slow path passes one wake on as it
 * leaves, when it got a value, when a pop got EPIPE (lfp_mpmc_pop_wait_ /
 * _push_wait_), and, if it had parked, on ETIMEDOUT / ECANCELED
 * (lfp_ec_await). (A push's EPIPE needs none: close woke every pusher, and
 * "closed" stays true.) The fast paths, try_push / try_pop and
 * the first try of push / pop, never notify their own side: they take
 * items (cells), never wakes, so the argument below does not count them.
 *
 * Claim: when no thread runs (each has returned or is parked), no parked
 * popper has C true. (Pushers: the same with tail for head and release for
 * publish.) lfp_pool's workers are plain blocking pops (src/pool.c), so no
 * worker idles beside a queued task.
 * Proof. Suppose not; among the poppers parked at the end pick Z whose
 * last try (after its last prepare) ran last, at time t. That try saw cell
 * h = head not published (empty, or claimed by a push in progress: busy)
 * and not "closed and drained".
 * 1. A store after t made C true: the publish of cell h (if C holds with
 *    head > h, cell h was popped, so published, after t; if head == h, it
 *    is published now) or, if the queue is now closed and drained at h,
 *    close (at t it was open: Z saw no EPIPE). Its notify N follows the
 *    store; by the SB pairing of eventcount.h, since Z's re-check missed
 *    the store, N's load of waiters counted Z, and N bumped the epoch.
 *    Z's key predates the bump (reading the bumped epoch, acquire, would
 *    have shown Z the store), so Z was already parked when N woke: had it
 *    not been, its futex wait would have returned at once and Z tried
 *    again after t. N woke one parked thread W1 (FUTEX_WAKE 1 with Z in
 *    the queue) other than Z; close wakes all, Z included: impossible.
 * 2. W1 tries again after its wake, so after t: by the choice of Z it is
 *    not parked at the end, and it returned from the slow path, passing one
 *    wake on. That notify happens after N (W1 was woken by it), so it reads
 *    waiters >= 1 (Z stays counted until it leaves its wait) and wakes a
 *    parked W2 != Z, which by the same reasoning returns and passes on,
 *    and so on: an endless chain of returning pops in a finished execution.
 *    Contradiction.
 * Each rule is used: the publish notify in 1; the pass-on in 2 (without it,
 * the case of issue 14: consumers A, B parked; P1 claims position 0; P2
 * publishes 1 and wakes A; A sees cell 0 busy and parks again; P1 publishes
 * and wakes B, which takes item 0 and returns; A = Z stays parked beside
 * item 1). The EPIPE pass-on: after close a popper may park behind a busy
 * head; the publish wakes W1, a fast pop takes the item, W1 gets EPIPE and
 * must wake the others, for whom C now holds.
 * Checked: stress/models/mpmc_wake.pml (spin, the head-only condition, a
 * busy head, a fast try_pop user, timeouts, close; the protocol without the
 * pass-on and close without the EPIPE pass-on are negative controls that
 * fail); tests/test_mpmc_lostwake.c (pop and push side and lfp_pool,
 * deterministic, fail before the pass-on); stress/stress_rt_handoff.c
 * mpmc_busy, mpmc_close_busy, mpmc_push_busy (held cells under SCHED_FIFO).
 * Cost: the pass-on is one load of `waiters` on the slow path only. */
/* Close: later pushes fail with EPIPE; pushes that claimed before close are
 * delivered; pops drain, then return EPIPE; every blocked thread wakes.
 * Idempotent. Progress: lock-free (one RMW, then wake calls). */
LFP_API void lfp_mpmc_close(lfp_mpmc *q);

static inline bool lfp_mpmc_closed(const lfp_mpmc *q);

static inline size_t lfp_mpmc_capacity(const lfp_mpmc *q);

/* Claimed pushes minus claimed pops, clamped to [0, capacity]: approximate
 * while operations run (it counts in-progress pushes). Wait-free. */
LFP_API size_t lfp_mpmc_size(const lfp_mpmc *q);

#ifdef __cplusplus
}
#endif

/* The inline definitions (internal, not part of the API). */
#include "lfpat/internal/mpmc.h"
#endif
