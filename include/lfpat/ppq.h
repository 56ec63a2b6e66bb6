/* SPDX-License-Identifier: BSD-2-Clause */
/* lfpat/ppq.h — bounded multi-producer/multi-consumer queue of void * with
 * per-producer FIFO order (like moodycamel::ConcurrentQueue with tokens).
 *
 * Ordering guarantee — read this first. Values pushed through one producer
 * handle are popped in push order (by every consumer: a consumer that pops
 * a and later b from one producer never sees b pushed before a). There is
 * NO order across producers: a value pushed by producer P may be popped
 * after a value producer R pushed later. Use lfp_mpmc when one global FIFO
 * order is needed.
 *
 * Shape: a producer registers a handle (lfp_ppq_producer_init) and owns one
 * sub-ring: a bounded ring whose tail only it writes, with plain release
 * stores, no read-modify-write. Consumers claim from a sub-ring's head with
 * a CAS. Producers therefore never write a line another producer writes,
 * and a consumer handle (lfp_ppq_consumer_init) stays on the sub-ring that
 * last gave it a value (its cursor, and its cached copy of that ring's
 * tail), so consumers share a head line only when they drain the same ring.
 * After LFP_PPQ_QUOTA values in a row from one ring the cursor moves on, so
 * a fast producer cannot starve the others' rings (the same rule as
 * ConcurrentQueue's consumer token). Cursors of new consumers start on
 * different rings.
 *
 * Capacity is per producer: lfp_ppq_init(q, capacity, max_producers) gives
 * every one of max_producers sub-rings room for `capacity` values (rounded
 * up to a power of two, at least 1); a push fails (EAGAIN) or waits only
 * when its own producer's ring is full. At most max_producers handles are
 * registered at once; a destroyed handle's ring, with any values still in
 * it, goes to the next producer_init (its values are still popped, before
 * the new producer's).
 *
 * Claim vs publish — exactly when try_pop says EAGAIN although a value is
 * queued. A push is complete once its store of tail is done (before it
 * returns). try_pop scans the registered rings once, starting at its
 * cursor (and, after a quota, ending there), and returns EAGAIN only if for
 * every ring, when the scan read that ring's tail, every value published
 * there had been claimed. So a value whose push completed before the
 * try_pop call began (happens-before: the pusher returned and told the
 * popper through memory, or the same thread) is found — unless another
 * consumer takes it first. A value whose push had not completed when the
 * scan passed its ring is missed, even if its push returns before try_pop
 * does, and even while a ring the scan passed earlier is non-empty: the
 * scan is not a snapshot, so EAGAIN means "nothing claimable where I
 * looked, when I looked", not "empty at one instant" (tests/test_ppq.c,
 * eagain_only_for_unpublished). Also EAGAIN (not yet EPIPE) while close()
 * is between its two stores (CLOSING, SEALED: a membarrier) and while a
 * push that read "open" has not published yet, or one that read "closed"
 * has not withdrawn its announcement yet (it then wakes every popper).
 *
 * Costs, x86-64, nobody waiting: try_push loads its tail, compares with its
 * cached head (reloading head only when the cache says full), stores the
 * slot, stores `entered` (its own line), reads `closed` (read-mostly),
 * stores tail (release: a plain move) and reads the not_empty waiter count:
 * no locked instruction. try_pop on its cursor ring loads head, compares
 * with its cached tail (reloading tail only when the cache says empty),
 * loads the slot, claims with one CAS, and reads the ring's not_full waiter
 * count: one locked instruction. A pop that finds its cursor ring empty
 * scans the other registered rings (out of line).
 *
 * Close without a read-modify-write on the push path (as lfp_spsc, whose
 * argument this repeats per ring). A push at position t announces
 * `entered = t + 1` on its ring, then reads q->closed; if open it stores
 * the slot and publishes tail = t + 1, which ends the announcement; if not,
 * it withdraws (entered = t), notifies not_empty and returns EPIPE without
 * storing. close() stores CLOSING (seq_cst), runs the heavy barrier
 * (membarrier; without kernel support a seq_cst fence, and the pushes take
 * the symmetric slow path, see below), then stores SEALED. That is the
 * asymmetric SB shape: every push that read OPEN has its announcement
 * visible to whoever acquires SEALED. A pop reports EPIPE only after it saw
 * SEALED and then, for every ring, entered <= tail and head == tail: a push
 * that read OPEN and is unpublished at position t keeps entered >= t + 1 >
 * tail (later announcements and withdrawals come after its publish), so
 * nothing accepted is still to come and every accepted value was claimed.
 * A stale tail or a newer entered only says "not yet". A push that returns
 * EPIPE never stored its value. Without membarrier, q->closed carries a SYM
 * bit from init, so every push's read of it takes lfp_ppq_push_slow_,
 * which issues the seq_cst fence and reads closed again (the fast path
 * tests no mode).
 *
 * Wake-ups. Pushers: only the owner of a ring parks on that ring's
 * not_full (the handle is one thread's at a time), after lfp_ec_prepare and
 * a re-check of head and closed. Room is made by a consumer's CAS of that
 * ring's head, and every successful pop notifies the ring's not_full after
 * its CAS; close notifies every ring's not_full after storing SEALED. By
 * the SB pairing of eventcount.h either the pusher's re-check saw the
 * store or the notify saw the pusher counted and woke it (it is the only
 * waiter, so wake-one wakes it). No pusher stays parked while its ring has
 * room or the queue is closed.
 * Poppers park on one queue-wide eventcount, not_empty. A blocking pop
 * waits for C: some registered ring has a published, unclaimed value, or
 * the queue is SEALED, drained and no announced push is pending. Its try
 * (after lfp_ec_prepare) rescans every ring and the closed state; the
 * stores that can make C true are: a push's publish of tail (followed by
 * its notify of not_empty, wake one), a push's withdrawal (notify all) and
 * close's store of SEALED (notify all). A claim by another consumer never
 * makes C true for a waiter that re-checked after prepare: a waiter parks
 * only when its scan found every ring drained, and it found that with the
 * claims it saw. The pass-on rule of lfp_mpmc applies: a popper that leaves
 * the slow path with a value or EPIPE notifies not_empty once more, and
 * lfp_ec_await passes a wake on when it gives up on timeout or cancel.
 * Claim: when no thread runs (each returned or is parked), no parked popper
 * has C true. Proof (the one of mpmc.h, with "a ring Z scanned" for "cell
 * head"): pick the parked popper Z whose last try ran last; a store that
 * made C true after Z's read of that ring (or of closed) is followed by a
 * notify N; since Z's re-check missed the store, N's load of the waiter
 * count saw Z (SB), and Z's key predates N's epoch bump (reading the bumped
 * epoch, acquire, would have shown Z the store), so Z was parked when N
 * woke; N woke some W1 != Z (wake-all would have woken Z). W1 tried after
 * Z's last try, so by the choice of Z it is not parked at the end: it left
 * the slow path and passed one wake on, which saw Z counted and woke a
 * W2 != Z, and so on — an endless chain in a finished execution.
 * Contradiction. The EPIPE pass-on is needed: after close's wake-all a
 * popper may park behind an announced push; its publish wakes one, a fast
 * try_pop takes the value, and the woken popper's EPIPE must wake the
 * others. Checked: stress/models/ppq_wake.pml (spin: two rings, two
 * blocking poppers, a fast try_pop, timeouts, close; negative controls
 * that fire: scanning only the cursor ring before parking, EPIPE without
 * the announcement check, a withdrawal without notify, no pass-on with
 * close); tests/test_ppq.c and
 * stress/stress_ppq.c (phases that end without close and check, bounded,
 * that no popper stays parked beside a value).
 *
 * Linearizability: a push takes effect at its store of tail, a pop at its
 * claim CAS; per ring the pops take positions in order, so the values of
 * one producer form a FIFO history. Across rings there is no order to
 * linearize; EAGAIN is as stated above (not linearizable as "empty").
 * Progress: try_push is wait-free; try_pop is lock-free (a claim CAS fails
 * only because another consumer's succeeded; the scan visits each ring
 * once); blocking calls spin briefly, then park (never spin behind a
 * preempted thread: a pop skips a ring whose producer is preempted
 * mid-push and takes from the others). producer_init is lock-free (a CAS
 * per ring it tries); close is lock-free (a CAS, a membarrier, a store,
 * wake calls).
 * Ordering: a push happens-before the pop that returns its value; a pop
 * happens-before the push that reuses its slot; every accepted push
 * happens-before a pop's EPIPE. producer_destroy happens-before the
 * producer_init that gets the same ring.
 *
 * Handles: a producer handle is used by one thread at a time (hand it over
 * only through synchronisation); it must not be copied (a copy would be a
 * second producer on one ring). A consumer handle is one thread's at a
 * time too (it holds the cursor); any number of consumers. Calls through a
 * NULL or destroyed handle return EINVAL.
 *
 * Copying, fork, process-private: as lfp_mpmc (mpmc.h): not copied or
 * moved after init; a child of fork may use an object no parent thread was
 * inside; the membarrier and futexes are process-private.
 */
#ifndef LFPAT_PPQ_H
#define LFPAT_PPQ_H

#include "lfpat/qcommon.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Largest max_producers lfp_ppq_init accepts. */
#define LFP_PPQ_MAX_PRODUCERS 1024u

/* Values a consumer takes in a row from one ring before its cursor moves on. */
#define LFP_PPQ_QUOTA 256u

/* One producer's sub-ring (internal layout; four cache lines). */
typedef struct lfp_ppq_ring {
    alignas(LFP_CACHELINE) _Atomic(size_t) tail;    /* next push position; owner writes */
    alignas(LFP_CACHELINE) _Atomic(size_t) entered; /* tail + 1 while a push is announced */
    size_t head_cache;                             /* owner-private: a past head */
    alignas(LFP_CACHELINE) _Atomic(size_t) head;    /* next pop position; consumers CAS */
    alignas(LFP_CACHELINE) lfp_ec not_full;         /* the owner parks here; read-mostly */
    _Atomic(uint32_t) owned;                        /* 1 while a handle holds the ring */
} lfp_ppq_ring;

typedef struct lfp_ppq {
    alignas(LFP_CACHELINE) lfp_ppq_ring *rings;   /* read-mostly from here */
    _Atomic(void *) *slots;                       /* ring i: slots + i * stride */
    size_t mask;                                  /* per-producer capacity - 1 */
    size_t stride;                                /* slots per ring, whole cache lines */
    unsigned max_producers;
    _Atomic(unsigned) nrings;                     /* rings ever registered (high-water) */
    _Atomic(unsigned) next_consumer;              /* spreads new consumers' cursors */
    _Atomic(uint32_t) closed;                     /* LFP_PPQ_OPEN_ / CLOSING_ / SEALED_, SYM_ */
    alignas(LFP_CACHELINE) lfp_ec not_empty;      /* poppers park here */
} lfp_ppq;

typedef struct lfp_ppq_producer {
    lfp_ppq *q;               /* NULL once destroyed */
    lfp_ppq_ring *ring;
    _Atomic(void *) *slots;   /* the ring's slots */
} lfp_ppq_producer;

typedef struct lfp_ppq_consumer {
    lfp_ppq *q;               /* NULL once destroyed */
    lfp_ppq_ring *ring;       /* the cursor ring, tried first */
    _Atomic(void *) *slots;   /* its slots */
    size_t tail_seen;         /* a past tail of the cursor ring (acquired) */
    unsigned cursor;          /* its index */
    unsigned taken;           /* values in a row from it */
} lfp_ppq_consumer;

/* Initialise with max_producers sub-rings of `capacity` values each
 * (rounded up to a power of two). Returns 0; EINVAL if q is NULL, capacity
 * is 0 or above LFP_QUEUE_MAX_CAPACITY, max_producers is 0 or above
 * LFP_PPQ_MAX_PRODUCERS, or the rings together would exceed
 * LFP_QUEUE_MAX_CAPACITY slots; ENOMEM. */
LFP_API int lfp_ppq_init(lfp_ppq *q, size_t capacity, unsigned max_producers);

/* Free the rings. Legal on a non-empty, quiescent queue (every call has
 * returned, close included); handles must not be used afterwards. A pop's
 * value does not mean its push has returned (it still notifies not_empty
 * after publishing), nor a push's room that the pop that made it has (it
 * notifies not_full after its claim), nor a pop's EPIPE that close() or a
 * refused push has (their notifies follow). NULL is ignored. */
LFP_API void lfp_ppq_destroy(lfp_ppq *q);

/* Register p as a producer of q: it gets a free sub-ring. Returns 0; EAGAIN
 * if max_producers handles are registered; EINVAL if q or p is NULL.
 * Progress: lock-free. Ordering: the destroy that freed the ring
 * happens-before this returns. */
LFP_API int lfp_ppq_producer_init(lfp_ppq *q, lfp_ppq_producer *p);

/* Give p's ring back (values in it are still popped). Later calls through p
 * return EINVAL; a second destroy is ignored, as is NULL. Wait-free. */
LFP_API void lfp_ppq_producer_destroy(lfp_ppq_producer *p);

/* Make c a consumer of q (a cursor; no registration limit). Returns 0;
 * EINVAL if q or c is NULL. Wait-free. */
LFP_API int lfp_ppq_consumer_init(lfp_ppq *q, lfp_ppq_consumer *c);

/* Later calls through c return EINVAL. NULL is ignored. Wait-free. */
LFP_API void lfp_ppq_consumer_destroy(lfp_ppq_consumer *c);

/* Push v on p's ring if it has room. Returns 0; EAGAIN if the ring is full;
 * EPIPE if closed (v not stored); EINVAL if p is NULL or destroyed.
 * Progress: wait-free. Ordering: happens-before the pop that returns v. */
static inline int lfp_ppq_try_push(lfp_ppq_producer *p, void *v);

/* Pop a value into *out (from the cursor ring, else the first other ring
 * with one). Returns 0; EAGAIN if the scan found nothing claimable (exactly
 * when: "Claim vs publish" in lfp_ppq(3), the header comment); EPIPE if
 * closed and drained; EINVAL if c is NULL or destroyed, or out is NULL.
 * Progress: lock-free. Ordering: the push of the value happens-before this
 * returns it. */
static inline int lfp_ppq_try_pop(lfp_ppq_consumer *c, void **out);

/* Push v, waiting for room in p's ring until `deadline` (CLOCK_MONOTONIC
 * ns, LFP_FOREVER for none) or `cancel` fires (NULL for none). Returns 0;
 * EPIPE if closed (also while waiting; v not stored); ETIMEDOUT; ECANCELED;
 * EINVAL as try_push. Room is preferred over ETIMEDOUT/ECANCELED.
 * Progress: wait-free when there is room; otherwise blocks (spins briefly,
 * then parks on the ring's not_full). Ordering: as try_push. */
static inline int lfp_ppq_push(lfp_ppq_producer *p, void *v, int64_t deadline,
                               lfp_cancel *cancel);

/* Pop a value, waiting until one arrives, the queue is closed and drained
 * (EPIPE), `deadline` passes (ETIMEDOUT) or `cancel` fires (ECANCELED).
 * Returns 0 and stores the value in *out; EINVAL as try_pop. Progress:
 * lock-free when a value is ready; otherwise blocks (parks on not_empty).
 * Ordering: as try_pop. */
static inline int lfp_ppq_pop(lfp_ppq_consumer *c, void **out, int64_t deadline,
                              lfp_cancel *cancel);

/* Close: later pushes fail with EPIPE; every push that returned 0 is
 * delivered; pops drain, then return EPIPE; every blocked thread wakes.
 * Idempotent; callable from any thread. Progress: lock-free (a CAS, a
 * membarrier system call, a store, then wake calls). */
LFP_API void lfp_ppq_close(lfp_ppq *q);

/* True once lfp_ppq_close has begun. Wait-free. */
static inline bool lfp_ppq_closed(const lfp_ppq *q);

/* The per-producer capacity. Wait-free. */
static inline size_t lfp_ppq_capacity(const lfp_ppq *q);

#ifdef __cplusplus
}
#endif

/* The inline definitions (internal, not part of the API). */
#include "lfpat/internal/ppq.h"
#endif
