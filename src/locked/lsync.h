/* SPDX-License-Identifier: BSD-2-Clause */
/* lsync.h — internal: the lock + condition variable (+ eventcount for
 * cancellation) that the mutex twins of the pattern families (waitgroup,
 * future, broadcast) block on.
 *
 * Without a token a blocked call waits on the condition variable (the
 * obvious mutex implementation, which is the benchmark baseline). A condition
 * variable cannot be woken by an lfp_cancel token, so with a token the call
 * waits on cancel_ec instead (which the token wakes); every state change
 * notifies both.
 */
#ifndef LFP_SRC_LOCKED_LSYNC_H
#define LFP_SRC_LOCKED_LSYNC_H

#include "lfpat/locked.h"

/* Initialise (CLOCK_MONOTONIC condition variable). Returns 0 or an errno. */
int lfp_lsync_init(lfp_locked_sync_ *s);
void lfp_lsync_destroy(lfp_locked_sync_ *s);

/* Called with the lock held: 0 / an error to finish, EAGAIN to keep waiting. */
typedef int (*lfp_lsync_fn)(void *arg);

/* Lock, call fn until it does not return EAGAIN, waiting between calls until
 * deadline or cancel; unlock. Returns fn's result, ETIMEDOUT or ECANCELED
 * (after a last call of fn still said EAGAIN). */
int lfp_lsync_wait(lfp_locked_sync_ *s, lfp_lsync_fn fn, void *arg, int64_t deadline,
                   lfp_cancel *cancel);

/* Wake every waiter after a state change and unlock (lock held on entry). */
void lfp_lsync_changed_unlock(lfp_locked_sync_ *s);

#endif
