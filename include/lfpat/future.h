/* SPDX-License-Identifier: BSD-2-Clause */
/* lfpat/future.h — future: a single-assignment cell holding a value and an
 * error code (the reply slot of the Request/Response pattern).
 *
 * The first lfp_future_set wins; later sets return EALREADY and change
 * nothing. Getters wait (with deadline and token) until the future is set and
 * then all see the same value and error.
 *
 * State machine in one atomic word: EMPTY -> SETTING (claimed by the one
 * winning setter's CAS) -> READY (the setter's release CAS from SETTING
 * after writing value and error), plus a WAITING bit that a getter sets
 * (CAS) before it parks. value and error are plain fields: they are written
 * only by the winner, between its claim and READY, and read only after an
 * acquire load that saw READY, so every access is ordered (no data race).
 * The setter's CAS to READY fails if WAITING appeared: the setter wakes
 * getters only if WAITING is set, so a set nobody waits for makes no fence
 * and no call. No wake-up is lost: the getter's CAS and the setter's CAS are
 * RMWs on one word; if the getter's is first the setter sees WAITING and
 * notifies the eventcount (whose SB protocol covers the getter's re-check),
 * otherwise the getter's CAS fails and it re-reads READY.
 *
 * Lifetime: a getter that returned may free or reuse the future at once —
 * typical for a reply slot on the requester's stack — even while the setter
 * is still returning from set. So the setter's last access must come before
 * any getter can return: with getters waiting, the setter publishes
 * READY|NOTIFYING, wakes them, and only then stores READY; getters treat
 * NOTIFYING as not ready yet and return only on READY. Without waiters
 * READY is the last access. (Losing setters are not covered: free the
 * future only after every set call on it has returned.)
 *
 * Waiting for NOTIFYING to clear is bounded spin, then park: a woken getter
 * that finds NOTIFYING spins a few rounds (pause, then yield), then parks on
 * the state word itself. After its READY store the setter wakes every
 * thread parked on that word with a futex wake that reads no memory
 * (src/park.h), so it does not touch a future a returned getter freed. No
 * getter stays parked once NOTIFYING is clear: it parks only while the word
 * still equals the READY|NOTIFYING it read (the futex compares atomically
 * with the wake), and the READY store changes the word before the wake. So
 * under SCHED_FIFO a getter at a higher priority than the setter on the
 * same CPU parks and lets the setter finish (stress_rt_handoff).
 *
 * Linearizability: a set that wins linearizes at its READY store (the last
 * one, after NOTIFYING); get/try_get/is_ready linearize at their load of
 * the state, and read "not set" until READY. A set that loses its claim
 * CAS does not return until the future is READY: it waits (the getters'
 * path: spin briefly, set WAITING, park on the eventcount; the winner
 * notifies) and linearizes at its load that sees READY, after the winner.
 * So EALREADY is never returned while is_ready is false or try_get says
 * EAGAIN, for any observer that the loser's return happens-before.
 * Progress: a winning set, try_get and is_ready are wait-free; a losing set
 * is wait-free when the winner has published, else blocks until it has
 * (the winner never waits, so this is bounded by the winner's scheduling;
 * it parks, never spins on it); get blocks until set.
 * Ordering: a set happens-before every get/try_get that returns its value
 * (and every is_ready that returns true); everything the setter wrote before
 * set is visible to such a getter.
 *
 * Reuse: re-initialise with lfp_future_init only when no thread uses it.
 *
 * Copying: an lfp_future must not be copied or moved after init: waiters park
 * on the address of its state word. Use it where it was initialised, through
 * pointers.
 *
 * Fork: a child of fork may call every lfp_future_* call on an object that no
 * thread of the parent was using when fork() was called (lfpat's process-wide
 * locks are held across fork by atfork handlers, src/fork.c, so none is copied
 * held). An object a parent thread was inside at the fork (in a call, or
 * blocked in one) is copied in that intermediate state, with a thread the
 * child does not have: the child must not use it.
 */
#ifndef LFPAT_FUTURE_H
#define LFPAT_FUTURE_H

#include "lfpat/eventcount.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct lfp_future {
    _Atomic(uint32_t) state;  /* EMPTY_ / SETTING_ / READY_, | WAITING_ */
    int error;                /* written by the winning setter only */
    void *value;              /* written by the winning setter only */
    lfp_ec ready;             /* getters park here */
} lfp_future;

#define LFP_FUTURE_INIT { LFP_FUTURE_EMPTY_, 0, NULL, LFP_EC_INIT }

/* Initialise an empty future. Returns 0; EINVAL if f is NULL. */
LFP_API int lfp_future_init(lfp_future *f);

/* Nothing to free (the value is the caller's). No thread may be waiting.
 * NULL is ignored. */
LFP_API void lfp_future_destroy(lfp_future *f);

/* Set the value and an error code (0 for success; any int, the future only
 * carries it). The first set wins.
 * Returns 0; EALREADY if the future was already set (nothing changes; the
 * winner's value is published by then); EINVAL if f is NULL.
 * Progress: wait-free for the winner (one CAS, two plain stores, one CAS,
 * and two wake calls only when getters are parked); a loser blocks until
 * the winner has published (see "Linearizability").
 * Ordering: happens-before every get that returns the value. */
static inline int lfp_future_set(lfp_future *f, void *value, int error);

/* True once the future is set and the setter no longer touches it (READY).
 * Progress: wait-free.
 * Ordering: a true result makes the setter's writes visible (acquire). */
static inline bool lfp_future_is_ready(const lfp_future *f);

/* If set, store the value in *value and the error in *error (either pointer
 * may be NULL) and return 0; else EAGAIN. EINVAL if f is NULL.
 * Progress: wait-free. Ordering: as lfp_future_get. */
static inline int lfp_future_try_get(lfp_future *f, void **value, int *error);

/* Wait until the future is set, then store value and error as try_get does.
 * Returns 0 (the future's own error is in *error, not the return value);
 * ETIMEDOUT if the deadline (CLOCK_MONOTONIC ns, LFP_FOREVER for none) passed
 * first; ECANCELED if cancel (NULL for none) fired first; EINVAL if f is NULL.
 * A set future is returned at once, whatever the deadline and token.
 * Progress: wait-free when set; otherwise blocks (spins briefly, parks).
 * Ordering: the set happens-before this get returns its value. */
static inline int lfp_future_get(lfp_future *f, void **value, int *error,
                                 int64_t deadline, lfp_cancel *cancel);

#ifdef __cplusplus
}
#endif

/* The inline definitions (internal, not part of the API). */
#include "lfpat/internal/future.h"
#endif
