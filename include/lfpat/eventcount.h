/* SPDX-License-Identifier: BSD-2-Clause */
/* lfpat/eventcount.h — eventcount: block until a condition that other threads
 * make true, without lost wake-ups and without a system call on the
 * notifier's fast path when nobody waits.
 *
 * Waiter protocol (see lfp_ec_await for the packaged loop):
 *     uint32_t key = lfp_ec_prepare(ec);     announce, then snapshot the epoch
 *     if (condition())  { lfp_ec_abort(ec); done }
 *     lfp_ec_wait(ec, key, deadline, cancel); parks unless the epoch moved
 * Notifier protocol:
 *     make condition() true (any atomic store);
 *     lfp_ec_notify_one(ec) or lfp_ec_notify_all(ec);
 *
 * Why no wake-up is lost: this is the store-buffering (SB, Dekker) shape. The
 * waiter writes `waiters` then reads the condition; the notifier writes the
 * condition then reads `waiters`. A seq_cst fence on each side (C11 7.17.3p11)
 * forbids the outcome where both read the old value: either the notifier sees
 * the waiter and bumps the epoch, or the waiter sees the condition. When the
 * notifier bumps the epoch, the waiter's epoch snapshot either predates the
 * bump (then futex_wait on the stale key returns at once) or reads it; the
 * bump is a release and the snapshot an acquire, so in the second case the
 * condition store happens-before the waiter's re-check, which sees it.
 * Litmus: stress/litmus/litmus_sb.c (the shape) and litmus_lib_eventcount.c
 * (this code, and a fence-less control that loses wake-ups); model checked in
 * stress/models/eventcount.pml.
 *
 * Under ThreadSanitizer (LFP_TSAN) the notifier's fence + load is replaced by
 * an acq_rel fetch_add(0) on `waiters`, equally correct and modelled by TSan:
 * both RMWs on `waiters` are totally ordered; if the notifier's comes second
 * it reads the waiter's increment, otherwise the waiter's acquire RMW reads
 * from the notifier's release RMW and the condition store happens-before the
 * waiter's re-check.
 *
 * Asymmetric mode (lfp_ec_init_asym): for a notifier on a hot path (the
 * SPSC ring notifies on every push and pop) even one fence per notify is
 * most of the cost. An asymmetric eventcount moves the whole barrier to the
 * waiter, which is about to make a system call anyway: lfp_ec_prepare issues
 * membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED) (lfp_heavy_barrier_), and
 * lfp_ec_notify_asym_ needs only a compiler barrier before its load. This is
 * the asymmetric Dekker shape of membarrier(2), as liburcu's urcu-memb
 * flavour and folly's asymmetricLightBarrier use it: the heavy barrier runs
 * a full memory barrier on every CPU that runs a thread of this process, so
 * each notifier's instruction stream is cut at one point P; a condition
 * store before P is visible to the waiter's re-check, and a waiters load
 * after P sees the waiter's increment. Litmus:
 * stress/litmus/litmus_lib_eventcount.c. When the kernel lacks membarrier,
 * lfp_ec_init_asym returns false and the eventcount stays symmetric
 * (notify_asym_ then uses the fence). Process-private: like the futex, it
 * does not work for an eventcount shared between processes.
 *
 * Lifetime: a waiter's return does not mean notifiers are done with the
 * eventcount: a notifier may still be between its condition store and its
 * notify. An object that is freed right after a wait returns must not rely
 * on this protocol alone (make the futex word the condition itself, or count
 * notifiers in flight, as lfp_future, lfp_waitgroup and lfp_sem do).
 * Build mode: LFP_TSAN selects the notify form inline; compile every
 * translation unit that uses lfpat headers, and lfpat itself, in the same
 * mode (all under TSan or none), or the fence pairing is lost.
 *
 * Progress: notify is wait-free when nobody waits (a fence and a load) and
 * makes one futex wake otherwise. Waiting blocks.
 *
 * Copying: an lfp_ec must not be copied or moved after init: waiters park on
 * the address of its epoch word. Use it where it was initialised, through
 * pointers.
 *
 * Fork: a child of fork may call every lfp_ec_* call on an object that no
 * thread of the parent was using when fork() was called (lfpat's process-wide
 * locks are held across fork by atfork handlers, src/fork.c, so none is copied
 * held). An object a parent thread was inside at the fork (in a call, or
 * blocked in one) is copied in that intermediate state, with a thread the
 * child does not have: the child must not use it.
 */
#ifndef LFPAT_EVENTCOUNT_H
#define LFPAT_EVENTCOUNT_H

#include "lfpat/cancel.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct lfp_ec {
    _Atomic(uint32_t) epoch;   /* the futex word; bumped by a notify that saw waiters */
    _Atomic(uint32_t) waiters; /* threads between prepare and the end of wait/abort */
    uint32_t asym;             /* set by lfp_ec_init_asym, constant afterwards */
} lfp_ec;

#define LFP_EC_INIT { 0, 0, 0 }

static inline void lfp_ec_init(lfp_ec *ec);

/* Initialise ec in asymmetric mode (see the header comment). Returns true if
 * the kernel supports it (membarrier private expedited, registered for the
 * process on first use), false if ec was initialised symmetric instead.
 * Either way ec is ready and every notify form is correct on it. */
LFP_API bool lfp_ec_init_asym(lfp_ec *ec);

/* Announce a waiter and return the epoch key to wait on. The caller must
 * re-check its condition after this and then call lfp_ec_wait or lfp_ec_abort. */
static inline uint32_t lfp_ec_prepare(lfp_ec *ec);

/* Withdraw a prepared waiter whose condition turned out true. */
static inline void lfp_ec_abort(lfp_ec *ec);

/* Park until the epoch differs from key, a notify, the deadline, or cancel
 * fires; then withdraw the waiter. Returns 0 (woken or epoch moved, maybe
 * spuriously: re-check the condition), ETIMEDOUT, ECANCELED, or EINVAL if
 * ec is NULL. */
LFP_API int lfp_ec_wait(lfp_ec *ec, uint32_t key, int64_t deadline, lfp_cancel *cancel);

/* Wake one / every thread parked in lfp_ec_wait. Call after making the
 * condition true. Wait-free when there are no waiters. */
static inline void lfp_ec_notify_one(lfp_ec *ec);
static inline void lfp_ec_notify_all(lfp_ec *ec);

/* The packaged waiting loop every blocking lfpat call uses: call try_fn(arg)
 * until it returns something other than EAGAIN and return that; spin briefly,
 * then park on ec. Returns ETIMEDOUT once the deadline has passed and
 * ECANCELED once cancel has fired, in both cases only after a last try_fn
 * failed. wake_one says whether notifiers of ec wake one waiter (then a waiter
 * that leaves on timeout or cancel passes its possible wake-up on) or all.
 * EINVAL if ec or try_fn is NULL. */
typedef int (*lfp_try_fn)(void *arg);
LFP_API int lfp_ec_await(lfp_ec *ec, lfp_try_fn try_fn, void *arg,
                         int64_t deadline, lfp_cancel *cancel, bool wake_one);

#ifdef __cplusplus
}
#endif

/* The inline definitions (internal, not part of the API). */
#include "lfpat/internal/eventcount.h"
#endif
