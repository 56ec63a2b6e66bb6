/* SPDX-License-Identifier: BSD-2-Clause */
/* lfpat/waitgroup.h — wait group: wait until a count of outstanding tasks
 * drops to zero (Go's sync.WaitGroup, with deadlines, cancellation and
 * errors instead of panics).
 *
 * State: one 64-bit atomic word: the outstanding count (bits 63..33), a
 * WAITING bit (bit 32), a NOTIFYING count (bits 31..20) and a phase number
 * (bits 19..0). A phase ends when an add brings the count to zero; that same
 * read-modify-write increments the phase and clears WAITING. A waiter sets WAITING (CAS) before it parks on an
 * eventcount; the add that ends the phase reads the bit in its own RMW and
 * notifies only if it was set — a done with nobody waiting is one CAS, no
 * fence. No wake-up is lost: both RMWs are on the one word, so either the
 * waiter's CAS comes first and the ending add sees WAITING (and notifies
 * through the eventcount, whose SB protocol covers the waiter's re-check), or
 * the add comes first and the waiter's CAS fails and it re-reads the ended
 * phase.
 *
 * Lifetime: a waiter that returned may free the wait group at once (it is
 * often on the waiter's stack) even while the add that ended the phase is
 * still returning. So that add's last access must come before any waiter can
 * return: an add that ends a phase with WAITING set also raises NOTIFYING in
 * its CAS, wakes the waiters, and lowers NOTIFYING (release) as its last
 * access; waiters return only when NOTIFYING is zero. Other adds do not
 * touch the object after their CAS.
 *
 * Waiting for NOTIFYING to drop is bounded spin, then park: a woken waiter
 * that finds NOTIFYING set spins a few rounds (pause, then yield), then
 * parks on the state word itself (futex on its low 32 bits, which hold
 * NOTIFYING). The notifier, after its fetch_sub, wakes every thread parked
 * on that word with a futex wake that reads no memory (src/park.h), so it
 * does not touch a wait group that a returned waiter has freed. No waiter
 * stays parked while NOTIFYING is zero: it parks only if the word still
 * equals the value it read with NOTIFYING set (the futex compares
 * atomically with the wake), and every notifier's fetch_sub changes that
 * word before its wake. So a waiter never spins on another thread's
 * progress: under SCHED_FIFO, a waiter at a higher priority than the
 * notifier on the same CPU parks and lets it finish (stress_rt_handoff).
 *
 * Wait: returns when the count is zero, or once the phase that was current
 * when the wait began has ended (the phase number moved). So a wait never
 * returns while the tasks it waited for are outstanding, and it does not miss
 * a phase's end even if new work was added again before it woke.
 *
 * Linearizability: every add is one CAS on the state word (its linearization
 * point); the count is exact. wait linearizes at the load that finds the count
 * zero or the phase moved.
 *
 * Reuse rules (checked where they can be): unlike Go, a wait group may be
 * reused at any time. An add that raises the count from zero starts a new
 * phase; a wait that began before it still returns for the old phase's end,
 * a wait that begins after it waits for the new phase. (Go panics with
 * "WaitGroup is reused before previous Wait has returned" here; the phase
 * number makes it safe.) What cannot be checked stays the caller's duty, as
 * in Go: an add that must be waited for has to happen before the wait starts,
 * or the wait may return for an earlier zero. A waiter parked through 2^20
 * complete phases (wrap-around of the phase number) could miss one; that
 * takes 2^20 add/done cycles during one park. At most 4095 threads may be
 * ending phases at one time (the NOTIFYING field).
 *
 * Errors instead of panics: a count driven below zero (more done than add)
 * or above LFP_WAITGROUP_MAX returns EOVERFLOW and leaves the state unchanged.
 *
 * Progress: add/done are lock-free (a CAS loop that fails only when another
 * add succeeded) and wake waiters only on the transition to zero; wait is
 * wait-free when the count is zero, otherwise it blocks (spins briefly, then
 * parks on the eventcount).
 * Ordering: every add/done happens-before any wait that returns 0 because of
 * the phase end that add/done took part in (each add is an acq_rel RMW on the
 * state word, so they form one release sequence; the waiter's acquire load
 * reads its end or later).
 *
 * Copying: an lfp_waitgroup must not be copied or moved after init: waiters
 * park on the address of its state word. Use it where it was initialised,
 * through pointers.
 *
 * Fork: a child of fork may call every lfp_waitgroup_* call on an object that
 * no thread of the parent was using when fork() was called (lfpat's
 * process-wide locks are held across fork by atfork handlers, src/fork.c, so
 * none is copied held). An object a parent thread was inside at the fork (in a
 * call, or blocked in one) is copied in that intermediate state, with a thread
 * the child does not have: the child must not use it.
 */
#ifndef LFPAT_WAITGROUP_H
#define LFPAT_WAITGROUP_H

#include "lfpat/eventcount.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The largest outstanding count. */
#define LFP_WAITGROUP_MAX ((int64_t)INT32_MAX)

typedef struct lfp_waitgroup {
    alignas(LFP_CACHELINE) _Atomic(uint64_t) state; /* count | WAITING | NOTIFYING | phase */
    lfp_ec zero;                                    /* waiters park here */
} lfp_waitgroup;

#define LFP_WAITGROUP_INIT { 0, LFP_EC_INIT }

/* Initialise with count zero. Returns 0; EINVAL if wg is NULL. */
LFP_API int lfp_waitgroup_init(lfp_waitgroup *wg);

/* Nothing to free. The wait group must have no waiters. NULL is ignored. */
LFP_API void lfp_waitgroup_destroy(lfp_waitgroup *wg);

/* Add delta (which may be negative) to the outstanding count. When the count
 * reaches zero the current phase ends and every waiter is woken.
 * Returns 0; EOVERFLOW if the count would go below zero or above
 * LFP_WAITGROUP_MAX (nothing changes); EINVAL if wg is NULL.
 * Progress: lock-free. Ordering: happens-before every wait that returns for
 * the phase end this add takes part in (see the header comment). */
static inline int lfp_waitgroup_add(lfp_waitgroup *wg, int64_t delta);

/* Mark one task finished: lfp_waitgroup_add(wg, -1). */
static inline int lfp_waitgroup_done(lfp_waitgroup *wg);

/* The outstanding count (a relaxed snapshot, for diagnostics). */
static inline int64_t lfp_waitgroup_count(const lfp_waitgroup *wg);

/* Wait until the count is zero or the phase current at the call has ended,
 * the deadline passes (CLOCK_MONOTONIC ns, LFP_FOREVER for none) or cancel
 * fires (NULL for none).
 * Returns 0; ETIMEDOUT; ECANCELED; EINVAL if wg is NULL. Returns 0 at once
 * when the count is zero, whatever the deadline and token.
 * Progress: wait-free when the count is zero; otherwise blocks.
 * Ordering: see the header comment. */
LFP_API int lfp_waitgroup_wait(lfp_waitgroup *wg, int64_t deadline, lfp_cancel *cancel);

#ifdef __cplusplus
}
#endif

/* The inline definitions (internal, not part of the API). */
#include "lfpat/internal/waitgroup.h"
#endif
