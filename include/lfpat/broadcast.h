/* SPDX-License-Identifier: BSD-2-Clause */
/* lfpat/broadcast.h — broadcast ring: publish/subscribe where every
 * subscriber sees every message, in publish order, or is told exactly how
 * many it missed. Never a silent drop, and publishers never wait for
 * subscribers.
 *
 * Model: messages (void *) get consecutive positions 0, 1, 2, ... in publish
 * order. The ring keeps the last `capacity` of them. Each subscriber has its
 * own cursor (the next position it will read), starting at the number of
 * messages published when it subscribed. A subscriber that falls more than
 * `capacity` behind finds its next message overwritten: it jumps to the
 * oldest message still in the ring and reports the gap. For every subscriber,
 * the messages it receives plus the counts it is told it missed add up to
 * exactly the positions between its subscription and its cursor; received
 * messages come in strictly increasing position order (hence, for each
 * publisher, in that publisher's program order).
 *
 * Algorithm. tail = number of positions claimed | CLOSED (bit 63).
 * Slot i holds position p (p mod capacity = i) with a sequence word:
 *   seq = 2p+1  while the publisher of p writes the value (odd: busy),
 *   seq = 2p+2  once the value of p is published (even: stable),
 *   seq = 0     initially (nothing).
 * Publish: claim p with a CAS on tail (fails with EPIPE once CLOSED), then
 * take slot p mod capacity by a CAS of its seq from an even value below 2p+1
 * to 2p+1; store the value (release); store 2p+2 (release). The slot CAS
 * first expects the steady-state value, 2(p - capacity) + 2 (0 in the first
 * lap), so the slot line is fetched once, for writing. A busy slot
 * (odd seq of an older position) is waited for — that happens only when the
 * ring has wrapped around a publisher stalled mid-write. If the slot already
 * holds a position >= p (this publisher stalled between claim and write
 * while the ring wrapped), the message is overtaken: it is not written and
 * counts as missed for every subscriber. Since only even values are
 * replaced, a slot's seq only grows and an odd owner is never overtaken.
 * Receive (seqlock read) at cursor r: load seq (acquire); if it is 2r+2, load
 * the value (acquire) and re-load seq; equal means the value is r's (the
 * acquire on the value load orders the re-load after it; a later publisher
 * whose value we read made its busy seq visible by then — its value store is
 * a release — so an overwrite is always detected). seq below 2r+1: r is
 * not published yet, or the stream has ended (r == the final count): that
 * is checked on `closed`, a flag that close sets before it sets CLOSED in
 * the tail (it shares the read-mostly line of `slots`), and the tail is read
 * only once the flag is seen — so a subscriber that has caught up polls its
 * slot, not the tail line that every publish writes (polling the tail made
 * each publish's claim miss in cache). seq above 2r+2: r was overwritten,
 * so the tail is at least r + capacity + 1 (the overwriter's claim
 * happens-before its seq write); jump to tail - capacity and add the
 * difference to the missed count.
 *
 * Linearizability: a publish linearizes at its tail CAS (its position);
 * positions order messages; close at its RMW on the tail. A receive
 * linearizes at its seq load; one that finds nothing and no `closed` flag
 * precedes the close (the flag store comes first in close).
 * Progress: publish is lock-free except that it waits for a publisher of the
 * same slot one lap earlier that stalled mid-write (two stores); with one
 * publisher it is wait-free. That wait spins briefly (lfp_ec_await's
 * rounds), then parks on the `arrived` eventcount, which the stalled
 * publisher notifies right after its seq store (lfp_broadcast_fill_): no
 * waiter stays parked once the slot is written (the eventcount's SB shape:
 * the waiter re-reads seq after announcing itself, the notifier reads the
 * waiter count after storing seq), and no publisher spins on another's
 * progress (under SCHED_FIFO that would be a livelock: stress_rt_handoff). try_recv is lock-free; recv blocks (spins
 * briefly, then parks on an eventcount; publish wakes parked subscribers
 * with a fence and a load when none are parked).
 * Ordering: a publish happens-before every receive that returns its message.
 *
 * Subscribers: an lfp_broadcast_sub is caller-allocated, may be created and
 * dropped at any time (publishers never look at subscribers), and is used by
 * one thread at a time.
 *
 * Copying: an lfp_broadcast or lfp_broadcast_sub must not be copied or moved
 * after init: a copy shares the slots (destroying both frees them twice),
 * subscribers point to the broadcast, and subscribers park on the eventcount
 * inside it. Use it where it was initialised, through pointers.
 *
 * Fork: a child of fork may call every lfp_broadcast_* call on an object that
 * no thread of the parent was using when fork() was called (lfpat's
 * process-wide locks are held across fork by atfork handlers, src/fork.c, so
 * none is copied held). An object a parent thread was inside at the fork (in a
 * call, or blocked in one) is copied in that intermediate state, with a thread
 * the child does not have: the child must not use it.
 */
#ifndef LFPAT_BROADCAST_H
#define LFPAT_BROADCAST_H

#include "lfpat/eventcount.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Largest accepted capacity (2^30 slots, 16 GiB). */
#define LFP_BROADCAST_MAX_CAPACITY ((size_t)1 << 30)

typedef struct lfp_broadcast_slot {
    _Atomic(uint64_t) seq;       /* 0, 2p+1 (busy), 2p+2 (holds position p) */
    _Atomic(void *) value;
} lfp_broadcast_slot;

typedef struct lfp_broadcast {
    alignas(LFP_CACHELINE) _Atomic(uint64_t) tail;   /* positions claimed | CLOSED */
    alignas(LFP_CACHELINE) lfp_broadcast_slot *slots;
    uint64_t mask;                                   /* capacity - 1 */
    _Atomic(bool) closed;                            /* set once, before CLOSED */
    alignas(LFP_CACHELINE) lfp_ec arrived;           /* subscribers park here */
} lfp_broadcast;

typedef struct lfp_broadcast_sub {
    lfp_broadcast *b;
    uint64_t next;       /* the next position to read */
    uint64_t pending;    /* missed, not yet reported */
    uint64_t received;   /* total messages received */
    uint64_t missed;     /* total messages reported missed */
} lfp_broadcast_sub;

/* Initialise with room for `capacity` messages, rounded up to a power of
 * two. Returns 0; EINVAL if b is NULL, capacity is 0 or above
 * LFP_BROADCAST_MAX_CAPACITY; ENOMEM. */
LFP_API int lfp_broadcast_init(lfp_broadcast *b, size_t capacity);

/* Free the ring. No thread may be using it. NULL is ignored. */
LFP_API void lfp_broadcast_destroy(lfp_broadcast *b);

static inline size_t lfp_broadcast_capacity(const lfp_broadcast *b);

/* The number of messages published (positions claimed) so far. */
static inline uint64_t lfp_broadcast_published(const lfp_broadcast *b);

/* Publish v (any pointer, NULL included) to every current subscriber.
 * Returns 0; EPIPE if closed; EINVAL if b is NULL. Never waits for
 * subscribers: one that is too slow loses the oldest messages and is told.
 * Progress: lock-free (see the header comment for the one wait).
 * Ordering: happens-before every receive that returns v. */
static inline int lfp_broadcast_publish(lfp_broadcast *b, void *v);

/* Close: later publishes return EPIPE; subscribers receive what was
 * published before, then EPIPE; parked subscribers wake. Idempotent; NULL is
 * ignored. */
LFP_API void lfp_broadcast_close(lfp_broadcast *b);

/* Subscribe: sub will receive the messages published after this call.
 * Subscribing to a closed broadcast is allowed (receives then say EPIPE).
 * Returns 0; EINVAL if b or sub is NULL. Progress: wait-free. */
LFP_API int lfp_broadcast_subscribe(lfp_broadcast *b, lfp_broadcast_sub *sub);

/* Drop a subscription. Nothing is shared, so this only clears sub; the
 * broadcast must outlive every subscription in use. NULL is ignored. */
LFP_API void lfp_broadcast_unsubscribe(lfp_broadcast_sub *sub);

/* Receive the next message without waiting.
 * Returns 0 and stores it in *out; EAGAIN if none is published yet; EPIPE if
 * closed and every message before the close was received or missed; EINVAL
 * if sub, out or missed is NULL.
 * Every call (whatever it returns, EINVAL aside) stores in *missed how many
 * messages this subscriber skipped since the previous call, because it fell
 * more than the capacity behind — usually 0; on return 0 they are the
 * messages just before *out.
 * Progress: lock-free. Ordering: the publish happens-before the return. */
LFP_API int lfp_broadcast_try_recv(lfp_broadcast_sub *sub, void **out, uint64_t *missed);

/* Receive the next message, waiting until one is published, the broadcast
 * is closed and drained (EPIPE), the deadline (CLOCK_MONOTONIC ns,
 * LFP_FOREVER for none) passes (ETIMEDOUT) or cancel (NULL for none) fires
 * (ECANCELED). *missed as for try_recv. EINVAL as for try_recv.
 * Progress: blocks. Ordering: as try_recv. */
LFP_API int lfp_broadcast_recv(lfp_broadcast_sub *sub, void **out, uint64_t *missed,
                               int64_t deadline, lfp_cancel *cancel);

#ifdef __cplusplus
}
#endif

/* The inline definitions (internal, not part of the API). */
#include "lfpat/internal/broadcast.h"
#endif
