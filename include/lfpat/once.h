/* SPDX-License-Identifier: BSD-2-Clause */
/* lfpat/once.h — run a function exactly once (Go's sync.Once / OnceValue,
 * pthread_once with a result and a retry variant).
 *
 *     static lfp_once init_once = LFP_ONCE_INIT;
 *     int rc = lfp_once_call(&init_once, load_config, &cfg);
 *
 * The state is one 32-bit word:
 *     UNSET   nobody has completed fn and nobody is parked
 *     RUNNING one caller runs fn, nobody is parked
 *     WAITED  one caller runs fn, others are (or may be) parked on the word
 *     RETRY   unset after a failed _retry attempt that had parked waiters
 *             (some may still be parked)
 *     DONE    fn completed and returned 0
 *     FAILED  fn completed with a non-zero (sticky) result, held in `result`
 * A caller that finds UNSET claims RUNNING with a CAS and runs fn (one that
 * finds RETRY claims WAITED instead: parked waiters must be woken when it
 * finishes). One that finds RUNNING marks it WAITED and parks on the word
 * (futex via src/park.h; no spinning while fn runs); one that finds DONE
 * returns the stored result. The runner publishes DONE with an exchange and
 * wakes every parked waiter only when the old state was WAITED, so an
 * uncontended first call makes no system call.
 *
 * Why no parked waiter is forgotten: a thread parks only while the word is
 * WAITED, and the word leaves WAITED only by the runner's exchange, which
 * sees WAITED and wakes. After a failed _retry attempt the word becomes RETRY
 * (not UNSET) and ONE waiter is woken: it claims (or finds another claimant
 * and parks again). Whoever claims RETRY claims it as WAITED, so its own
 * exchange wakes again: on success everyone, on failure the next one. Failed
 * attempts are thus retried one caller at a time, never by every waiter at
 * once. DONE and FAILED are both terminal and are published by the same
 * exchange; the spin model (stress/models/once.pml) has one done state for
 * both. Two done states let the common path return the constant 0 without
 * reading `result`.
 *
 * Ordering (the happens-before edge): everything fn did (and the stored
 * result) happens-before every lfp_once_call / lfp_once_call_retry that
 * returns fn's result and every lfp_once_done that returns true. The runner
 * stores DONE or FAILED with release after fn returns (and after storing
 * `result`); the fast path loads it with acquire (and waiters re-load it
 * with acquire after waking).
 * Litmus: stress/litmus/litmus_lib_once.c (this code: done() as an MP
 * observer, three racing callers, the retry hand-over between attempts; its
 * relaxed-DONE control is stress/negative/relaxed_publish.c). Model
 * checked: stress/models/once.pml.
 *
 * Progress: after completion, a call is wait-free: after a successful one,
 * one acquire load and a branch, inline, returning the constant 0; after a
 * failed one, an out-of-line call that reads `result`. Before completion,
 * callers block (park) until the runner finishes. fn must not call lfp_once_call* on the same object (it would wait
 * for itself forever, as with pthread_once).
 *
 * Fork: in the child of a process that forked while one of its threads ran
 * fn, the object is not left RUNNING forever (the runner does not exist in
 * the child): RUNNING and WAITED carry the process's fork generation, and a
 * call in a child that finds an older generation starts over and runs fn
 * itself, as glibc's pthread_once does. A state the parent completed stays
 * complete. fn must not itself fork and then call the object in the child.
 *
 * Lifetime: once a call has returned fn's result, o may be destroyed and
 * freed as soon as no other call on o is in progress, except the call that
 * ran fn, which may still be returning: the runner touches o only up to the
 * exchange that publishes DONE or FAILED, and after it only the futex
 * address it wakes, without dereferencing it (src/park.h). A waiter still
 * inside lfp_once_call re-reads the state when it wakes, so wait for every
 * other caller to return first (tests/test_handoff_free.c).
 *
 * Reset: lfp_once_init on a quiescent object (no call in progress, none
 * concurrent) resets it to UNSET. Resetting under concurrent calls is
 * undefined, as the Go seed's ResettableOnce notes.
 *
 * Copying: an lfp_once must not be copied or moved after init: waiters park on
 * the address of its state word. Use it where it was initialised, through
 * pointers.
 *
 * Fork: the child may call lfp_once_* on any object, including one whose fn a
 * parent thread was running at the fork (see "Fork" above).
 */
#ifndef LFPAT_ONCE_H
#define LFPAT_ONCE_H

#include "lfpat/common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct lfp_once {
    _Atomic(uint32_t) state;  /* LFP_ONCE_*_, the futex word waiters park on */
    int result;               /* fn's non-zero result; written before FAILED is released */
} lfp_once;

/* Static initialiser: an object that has not run fn. */
#define LFP_ONCE_INIT { 0, 0 }

/* Initialise (or, when quiescent, reset) o. Progress: wait-free. */
static inline void lfp_once_init(lfp_once *o);

/* Nothing to free; present for symmetry. */
static inline void lfp_once_destroy(lfp_once *o);

/* Run fn(arg) if no call on o has run it yet; otherwise wait until the
 * running call finished. fn runs exactly once per object: its result is
 * sticky, including a non-zero (error) result, like Go's OnceValue.
 * Returns fn's result to every caller; EINVAL if o or fn is NULL (fn is
 * then not run).
 * Progress: wait-free after completion; blocks while fn runs in another
 * thread. Ordering: fn's effects happen-before the return (header comment). */
static inline int lfp_once_call(lfp_once *o, int (*fn)(void *), void *arg);

/* Like lfp_once_call, but a non-zero result from fn leaves o unset: that
 * caller gets the result, and a later (or waiting) caller runs fn again.
 * Callers that were waiting for a failed attempt retry one at a time, each
 * running its own fn, until one succeeds; every caller returns 0 (someone's
 * fn succeeded) or the non-zero result of its own fn. EINVAL for NULL o/fn.
 * Progress and ordering as lfp_once_call; a failed attempt publishes nothing
 * except through the next attempt's claim (acquire). */
static inline int lfp_once_call_retry(lfp_once *o, int (*fn)(void *), void *arg);

/* True once fn has completed on o (with any result for lfp_once_call, with
 * 0 for lfp_once_call_retry); false for NULL. Mixing the two calls on one
 * object is allowed: the first completion is sticky for both. Progress: wait-free.
 * Ordering: a true result happens-after everything fn did (acquire). */
static inline bool lfp_once_done(const lfp_once *o);

#ifdef __cplusplus
}
#endif

/* The inline definitions (internal, not part of the API). */
#include "lfpat/internal/once.h"
#endif
