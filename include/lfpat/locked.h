/* SPDX-License-Identifier: BSD-2-Clause */
/* lfpat/locked.h — the mutex twins.
 *
 * Each lfp_locked_x is the simplest correct reading of lfp_x's contract: a
 * pthread mutex (and condition variables where it blocks) around plain data.
 * They have the same call shapes and return codes as their atomics-first
 * counterparts and serve as benchmark baseline and differential-test oracle.
 *
 * Progress: every call is blocking (takes a mutex). Ordering: every call is
 * sequentially consistent with every other call on the same object (the
 * mutex orders them), which is at least as strong as the lfp_x contract.
 *
 * Lifetime: wherever lfp_x lets a waiter that returned destroy and free the
 * object at once (sem, wsem, waitgroup, future, once), so does its twin:
 * every notifier makes its wake-ups with the mutex held, so its unlock is
 * its last access, and a woken waiter returns only after taking the mutex
 * again (POSIX lets a mutex be destroyed once it is unlocked, and a
 * condition variable once no thread is blocked on it). Checked under ASan
 * by tests/test_handoff_free.c.
 *
 * Copying: an lfp_locked_* object must not be copied or moved after init: each
 * holds a pthread mutex and condition variable, which POSIX forbids copying.
 * Use it where it was initialised, through pointers.
 *
 * Fork: a child of fork may call every lfp_locked_* call on an object that no
 * thread of the parent was using when fork() was called (lfpat's process-wide
 * locks are held across fork by atfork handlers, src/fork.c, so none is copied
 * held). An object a parent thread was inside at the fork (in a call, or
 * blocked in one) is copied in that intermediate state, with a thread the
 * child does not have: the child must not use it; a mutex a parent thread held
 * stays held in the child, as with any pthread mutex.
 */
#ifndef LFPAT_LOCKED_H
#define LFPAT_LOCKED_H

/* One header per twin, each usable alone. */
#include "lfpat/locked/counter.h"
#include "lfpat/locked/queue.h"
#include "lfpat/locked/once.h"
#include "lfpat/locked/sem.h"
#include "lfpat/locked/ratelimit.h"
#include "lfpat/locked/waitgroup.h"
#include "lfpat/locked/future.h"
#include "lfpat/locked/broadcast.h"
#include "lfpat/locked/breaker.h"
#include "lfpat/locked/pool.h"
#include "lfpat/locked/keyed.h"
#include "lfpat/locked/rwlock.h"
#include "lfpat/locked/seqlock.h"
#include "lfpat/locked/snap.h"
/* @@ twin headers of later families (lfpat/locked/<family>.h) go above this line @@ */

#endif
