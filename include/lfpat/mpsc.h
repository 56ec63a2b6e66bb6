/* SPDX-License-Identifier: BSD-2-Clause */
/* lfpat/mpsc.h — unbounded intrusive multi-producer/single-consumer queue
 * (the actor mailbox).
 *
 * Intrusive: the caller embeds an lfp_mpsc_node in its own object and pushes
 * the node; the queue never allocates, and push never blocks. The node
 * belongs to the queue from a successful push until the pop that returns it.
 *
 * Algorithm: Vyukov's intrusive node-based MPSC queue with a stub node. The
 * consumer owns `head`; producers append at `tail`. A push sets n->next =
 * NULL, swings tail from t to n with a CAS, then links t->next = n. The CAS
 * (rather than Vyukov's exchange) lets the closed bit live in tail: a push
 * fails with EPIPE exactly when its CAS sees the bit, so a push either is
 * accepted before close (and delivered) or never touches the queue.
 * The consumer pops head when head->next is linked; to pop the last node it
 * re-appends the stub behind it.
 *
 * When try_pop says EAGAIN with a push in progress: between a push's CAS and
 * its link store, the chain is broken at that node. try_pop returns EAGAIN if
 * the node at the head of the chain is the one whose successor link is still
 * missing — i.e. when the oldest not-yet-popped push (in link order) has done
 * its CAS but not its link. Pushes that CASed after it (and may already have
 * returned 0) stay invisible until it links. A blocking pop parks only when
 * tail is the stub (truly empty); the push notifies right after its CAS, and
 * a pop that finds a link missing yields a few times, then parks on the
 * eventcount until the link appears (the push notifies after its link
 * store; the consumer makes that store-then-load order hold with a
 * membarrier after announcing itself, see await_link in src/mpsc.c). No
 * consumer stays parked once the link is stored: either its re-check after
 * the membarrier sees the link, or the producer's waiters load comes after
 * the membarrier and sees the consumer, and wakes it. Without kernel
 * membarrier support that park is bounded (1 ms) and re-checks, so a
 * preempted producer still gets the CPU. Never a spin on the producer: a
 * consumer at a higher SCHED_FIFO priority on the producer's CPU would
 * livelock (stress/stress_rt_handoff.c, mpsc_link). Tested in tests/test_queue.c (mpsc_try_pop_eagain_while_push_in_progress).
 *
 * Linearizability: pushes take effect at their CAS on tail (a total order,
 * and each producer's pushes in program order: per-producer FIFO); pops
 * return nodes in exactly that order. EAGAIN is exact except in the window
 * above. Progress: push is lock-free (its CAS fails only when another push,
 * a stub re-append or close succeeded) and never blocks; try_pop is
 * wait-free in steps (it never waits for a producer), at the price of the
 * EAGAIN above while a producer sits between CAS and link; blocking pop
 * yields briefly on that state, then parks (see above).
 * Ordering: a push happens-before the pop that returns its node (everything
 * the producer wrote into the enclosing object before pushing is visible).
 * Litmus: stress/litmus/litmus_lib_mpsc.c (this code: publish through the
 * link store, and two producers whose links must not be lost; its
 * relaxed-link control is stress/negative/relaxed_publish.c).
 *
 * Single consumer, checked: every pop takes a consumer guard (one exchange on
 * a consumer-owned word). A second thread popping concurrently gets EBUSY
 * and touches nothing — instead of silently corrupting the chain. Consumers
 * may change over time; the guard hands the consumer state over
 * (release/acquire).
 *
 * Close: push returns EPIPE afterwards (the node stays the caller's; push may
 * have cleared its next field); pops drain what was accepted, then EPIPE;
 * blocked pops wake.
 *
 * Copying: an lfp_mpsc (or a node while it is queued) must not be copied or
 * moved after init: the stub node lives inside the object and the producers'
 * tail points into it, so a copy links into the original. Use it where it was
 * initialised, through pointers.
 *
 * Fork: a child of fork may call every lfp_mpsc_* call on an object that no
 * thread of the parent was using when fork() was called (lfpat's process-wide
 * locks are held across fork by atfork handlers, src/fork.c, so none is copied
 * held). An object a parent thread was inside at the fork (in a call, or
 * blocked in one) is copied in that intermediate state, with a thread the
 * child does not have: the child must not use it.
 */
#ifndef LFPAT_MPSC_H
#define LFPAT_MPSC_H

#include "lfpat/counter.h"
#include "lfpat/qcommon.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct lfp_mpsc_node {
    _Atomic(struct lfp_mpsc_node *) next;
} lfp_mpsc_node;

typedef struct lfp_mpsc {
    alignas(LFP_CACHELINE) _Atomic(uintptr_t) tail; /* last node | LFP_MPSC_CLOSED_ */
    alignas(LFP_CACHELINE) lfp_mpsc_node *head;     /* consumer-owned */
    _Atomic(size_t) popped;                         /* consumer-written */
    _Atomic(int) consumer;                          /* the single-consumer guard */
    alignas(LFP_CACHELINE) lfp_mpsc_node stub;      /* linked by producers */
    lfp_striped pushed;                             /* pushes, for lfp_mpsc_size */
    alignas(LFP_CACHELINE) lfp_ec not_empty;        /* the consumer parks here */
} lfp_mpsc;

/* Initialise an empty, open queue. Returns 0; EINVAL if q is NULL; ENOMEM
 * (the push count for lfp_mpsc_size is a striped counter, so that producers
 * share no counter line). */
LFP_API int lfp_mpsc_init(lfp_mpsc *q);

/* Free the queue's own memory (never the nodes: they are the caller's);
 * legal on a non-empty, quiescent queue. Quiescent means every call has
 * returned, close included: a pop's EPIPE does not mean that close() has
 * (it still wakes the consumer after the closed bit is visible). NULL is
 * ignored. */
LFP_API void lfp_mpsc_destroy(lfp_mpsc *q);

/* Push node n. Returns 0; EPIPE if closed; EINVAL if q or n is NULL.
 * n must not be in any queue. Never blocks, never allocates.
 * Progress: lock-free. Ordering: happens-before the pop that returns n. */
static inline int lfp_mpsc_push(lfp_mpsc *q, lfp_mpsc_node *n);

/* Pop the oldest node into *out. Returns 0; EAGAIN if empty (or a push in
 * progress, see above); EPIPE if closed and drained; EBUSY if another thread
 * is popping right now; EINVAL if q or out is NULL.
 * Progress: wait-free for the consumer (it never waits for a producer).
 * Ordering: the push of the node happens-before this returns it. */
static inline int lfp_mpsc_try_pop(lfp_mpsc *q, lfp_mpsc_node **out);

/* Push the n nodes of v[] in order as one chain with one CAS (they stay
 * adjacent). Returns n, or 0 if closed or q/v NULL or any v[i] NULL.
 * Never blocks. Progress: lock-free. */
LFP_API size_t lfp_mpsc_push_n(lfp_mpsc *q, lfp_mpsc_node *const *v, size_t n);

/* Pop up to n nodes into v[], oldest first, under one guard. Returns how many
 * (0 also when another consumer holds the guard or q/v NULL). */
LFP_API size_t lfp_mpsc_pop_n(lfp_mpsc *q, lfp_mpsc_node **v, size_t n);

/* Pop, waiting until a node arrives, the queue is closed and drained (EPIPE),
 * `deadline` passes (ETIMEDOUT) or `cancel` fires (ECANCELED). Returns 0 and
 * *out; EBUSY if another consumer is popping; EINVAL if q or out is NULL.
 * Progress: blocks (spins briefly, then parks). */
static inline int lfp_mpsc_pop(lfp_mpsc *q, lfp_mpsc_node **out, int64_t deadline,
                               lfp_cancel *cancel);

/* Close: later pushes fail with EPIPE; the consumer drains, then gets EPIPE;
 * a blocked pop wakes. Idempotent; any thread. Progress: lock-free. */
LFP_API void lfp_mpsc_close(lfp_mpsc *q);

static inline bool lfp_mpsc_closed(const lfp_mpsc *q);

/* Unbounded: SIZE_MAX. */
static inline size_t lfp_mpsc_capacity(const lfp_mpsc *q);

/* Pushes minus pops (approximate while they run; exact when quiescent). */
LFP_API size_t lfp_mpsc_size(const lfp_mpsc *q);

#ifdef __cplusplus
}
#endif

/* The inline definitions (internal, not part of the API). */
#include "lfpat/internal/mpsc.h"
#endif
