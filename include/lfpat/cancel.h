/* SPDX-License-Identifier: BSD-2-Clause */
/* lfpat/cancel.h — cancellation tokens (the Done/Err half of Go's context).
 *
 * A token is fired at most once, with a non-zero reason; the first reason
 * wins. Firing cascades to every descendant (with the same reason) and wakes,
 * promptly, every thread blocked in an lfpat call that was passed the token or
 * one of its descendants; those calls return ECANCELED. A child initialised
 * under an already-fired parent is fired at once.
 *
 * Progress: lfp_cancel_reason / lfp_cancel_fired are wait-free (one acquire
 * load). Init, destroy, fire and the registration a blocking call makes before
 * it parks take one process-wide mutex: they are slow-path operations (a
 * thread about to park is about to make a system call anyway), and one lock
 * keeps the tree's link/unlink/cascade races simple and provably correct.
 *
 * Ordering: everything the firing thread did before lfp_cancel_fire
 * happens-before any thread that observes the token (or a descendant) as
 * fired, whether by lfp_cancel_reason or by a blocking call's ECANCELED.
 * This is the MP shape; litmus: stress/litmus/litmus_lib_cancel.c.
 *
 * Lifetime: a token is caller-allocated. Destroy a token only when no thread
 * is blocked on it. Destroying a child unlinks it from its parent; destroying
 * a parent first detaches its remaining children (they keep their own state
 * but no longer receive the parent's cancellation). Init and destroy of a
 * token must not race with each other on the same token. A thread that saw
 * the token fired (its blocking call returned ECANCELED, or
 * lfp_cancel_fired) may destroy and free it at once, while lfp_cancel_fire
 * is still returning: fire does all its work on the token under the
 * process-wide lock, which lfp_cancel_destroy takes, so free it only after
 * lfp_cancel_destroy returns.
 *
 * Copying: an lfp_cancel must not be copied or moved after init: its parent,
 * its children and the watchers of blocked threads link to its address. Use it
 * where it was initialised, through pointers.
 *
 * Fork: a child of fork may call every lfp_cancel_* call on an object that no
 * thread of the parent was using when fork() was called (lfpat's process-wide
 * locks are held across fork by atfork handlers, src/fork.c, so none is copied
 * held). An object a parent thread was inside at the fork (in a call, or
 * blocked in one) is copied in that intermediate state, with a thread the
 * child does not have: the child must not use it.
 */
#ifndef LFPAT_CANCEL_H
#define LFPAT_CANCEL_H

#include "lfpat/common.h"

#ifdef __cplusplus
extern "C" {
#endif

struct lfp_cancel_watch;

typedef struct lfp_cancel lfp_cancel;
struct lfp_cancel {
    _Atomic(int) reason;         /* 0 until fired; written once under the tree lock */
    lfp_cancel *parent;          /* the fields below are guarded by the tree lock */
    lfp_cancel *first_child;
    lfp_cancel *next_sibling;
    lfp_cancel *prev_sibling;
    struct lfp_cancel_watch *watches;  /* threads blocked on this token */
};

/* Static initialiser for a root token (same as lfp_cancel_init(c, NULL)). */
#define LFP_CANCEL_INIT { 0, NULL, NULL, NULL, NULL, NULL }

/* Initialise c as a child of parent (NULL for a root). If parent has fired, c
 * is fired at once with the parent's reason.
 * Returns 0; EINVAL if c is NULL or c == parent. */
LFP_API int lfp_cancel_init(lfp_cancel *c, lfp_cancel *parent);

/* Unlink c from its parent and detach its children. c must have no blocked
 * waiters. NULL is ignored. */
LFP_API void lfp_cancel_destroy(lfp_cancel *c);

/* Fire c with `reason` (0 is recorded as ECANCELED) and cascade to every
 * descendant not fired yet. Returns true if this call fired c, false if it had
 * already fired (its first reason is kept) or c is NULL.
 * Progress: blocking (takes the tree lock); wakes all waiters before returning. */
LFP_API bool lfp_cancel_fire(lfp_cancel *c, int reason);

/* The reason c was fired with, 0 while not fired (and for NULL).
 * Progress: wait-free. Ordering: acquire; pairs with the release store in
 * lfp_cancel_fire, so a non-zero result makes the firer's prior writes visible. */
static inline int lfp_cancel_reason(const lfp_cancel *c);

static inline bool lfp_cancel_fired(const lfp_cancel *c);

#ifdef __cplusplus
}
#endif

/* The inline definitions (internal, not part of the API). */
#include "lfpat/internal/cancel.h"
#endif
