/* SPDX-License-Identifier: BSD-2-Clause */
/* lfpat/sem.h — a counting semaphore (lfp_sem) and a weighted FIFO
 * semaphore (lfp_wsem), both with deadlines and cancellation.
 *
 * ------------------------------------------------------------ lfp_sem
 * Go's buffered-channel semaphore with the seed's bugs fixed: a release
 * beyond capacity returns EOVERFLOW (the seed blocked forever), capacity 0 is
 * EINVAL, and stats are exact counters instead of a mutex-guarded guess.
 *
 * State: one 64-bit atomic word, three fields, every change one CAS:
 *     P  free permits (bits 0-31, 0..capacity)
 *     G  signals (bits 32-39): wake-ups issued whose woken thread has not
 *        looked at the word yet
 *     W  waiters (bits 40-63): threads registered in a blocking acquire
 *   try_acquire: P-1 if P > 0.                             (one CAS, inline)
 *   release:     P+1 if P < capacity, then the wake rule.  (one CAS, inline;
 *                out of line when W > 0, counted as a notifier: "Lifetime")
 *   wake rule:   if min(P, W) > G (and G < 255), G+1 in the same CAS, and
 *                after it notify ONE thread parked on the eventcount.
 *   acquire:     try, then spin ~10 microseconds unregistered, looking
 *                at the word often at first, then at doubling intervals
 *                (the cheap handoff between two running threads: the
 *                releases see W == 0; sparse looks leave a busy holder's
 *                line alone), ending the spin early when a CAS is lost to
 *                another taker (a contended semaphore: parking leaves the
 *                holder running alone instead of trading the permit and
 *                its cache line between cores); then take a permit or register
 *                (W+1) in one CAS, and park on the eventcount, retrying:
 *   take as a waiter: P > 0: P-1, W-1, G-1 if G > 0, then the wake rule;
 *                P == 0: G-1 if G > 0 (a look at the word consumes a signal);
 *   leave:       (timeout/cancel, after a last failed take) W-1, G-1 if
 *                G > 0, then the wake rule.
 * Linearizability: every successful try/acquire/release is one successful
 * CAS on the word, its linearization point; P never leaves [0, capacity]
 * because each CAS re-validates the bound on the exact value it replaces.
 * Exact wake-ups, no herd: G counts the woken threads still on their way, so
 * a release wakes a thread only if the free permits outnumber them (and
 * there is someone to wake): while one woken waiter is being scheduled, the
 * releases that follow make no system call; k releases to k parked waiters
 * wake k threads. G saturates at 255: then each thread that takes a permit
 * re-applies the rule and passes the wake-up on.
 * No lost wake-up (model checked in stress/models/sem_signal.pml, with its
 * negative controls): (1) invariant: after every CAS, G >= min(P, W) or G is
 * saturated, and G <= W. (2) every signal finds a consumer: each CAS that
 * adds one is followed by a notify. If the eventcount counts no prepared
 * waiter, every registered waiter looks at the word again after the signal
 * (its next take, or its leave), and there are W >= G of them. Otherwise the
 * notify bumps the epoch: prepared waiters that have not parked do not park,
 * and the futex wakes one that has; a waiter with a signal still owed to it
 * is never parked (it looks at the word before it parks again), so the woken
 * one is a new consumer. So once the releases stop, G drains to 0 and by (1)
 * min(P, W) == 0: no waiter stays parked next to a free permit.
 * The notify needs no fence: the releasing CAS is seq_cst and doubles as the
 * notifier's store-load barrier of the eventcount's SB handshake (the
 * argument is lfp_q_notify_after_sc_'s in internal/qcommon.h).
 * Lifetime (the POSIX hand-off; glibc had this bug in sem_post, bug 12674):
 * an acquirer that took a permit may destroy the semaphore at once, while
 * the release that returned the permit is still returning, and free it once
 * lfp_sem_destroy returns. So after its CAS a release touches s only in ways
 * destroy waits for. The stats add comes before the CAS. A release that
 * does not signal (always so when no waiter is registered: W == 0 in the
 * word its CAS replaces, the inline path) ends with its CAS. One that is
 * about to signal raises `notifiers` first, then CASes, notifies the
 * eventcount if it signalled (a retried CAS may not), and drops
 * `notifiers` with a release RMW as its last access; if destroy
 * has marked the word DESTROYING it then wakes the word with a futex wake
 * that reads no memory (src/park.h, "Waking after the last access").
 * lfp_sem_destroy waits until `notifiers` counts nobody. Why that suffices:
 * the raise is sequenced before the release's CAS, and every change of the
 * state word is an RMW (in that CAS's release sequence), so the raise
 * happens-before anything that follows a hand-off reading that CAS or a
 * later value: the destroyer sees the raise or the drop, and its acquire
 * load that sees the count drop orders every access of the release before
 * the destroy. The wait spins briefly, then sets DESTROYING (CAS) and parks
 * on the word; every drop after the mark changes the word before its wake,
 * so the destroyer returns at once or is woken (under SCHED_FIFO a
 * higher-priority destroyer on the notifier's CPU parks and lets it finish,
 * stress_rt_handoff). Takes and leaves re-apply the wake rule after their
 * own CAS too; they are inside their caller's call, which must have
 * returned before destroy. Model: stress/models/sem_signal.pml (destroy
 * process and the access-after-CAS control).
 * Not FIFO: like sem_t, a try_acquire may take a permit a woken waiter was
 * about to take (the waiter consumes its signal and parks again); use
 * lfp_wsem for strict FIFO. At most 2^24 - 1 threads may block on one
 * semaphore at once (Linux caps a process at pid_max <= 2^22 threads).
 * Stats: releases are counted in an lfp_striped (per-thread cells: no shared
 * RMW on the fast path), just before the CAS ("Lifetime"; a failed release
 * takes its count back); acquires are derived as releases + (capacity -
 * permits), exact because permits change only by successful acquires and
 * releases; waiting is W; timeouts/cancellations are counted on the slow
 * path.
 *
 * ------------------------------------------------------------ lfp_wsem
 * golang.org/x/sync/semaphore semantics: acquire(n) takes n units of weight;
 * waiters are granted in strict FIFO order of entry into the queue, and a
 * waiter that does not fit blocks the ones behind it (a caller still in its
 * ~10 microsecond spin before queueing has not entered it: like a caller
 * that has not arrived yet, it can be overtaken by one that queues
 * meanwhile), so a large request is never starved by a stream
 * of small ones (the seed's notifyWaiters woke any waiter that fit).
 *
 * State: one 64-bit atomic word, `free | QUEUED`, QUEUED (bit 63) set while
 * the waiter queue is non-empty. The queue itself is guarded by a small
 * pthread mutex — the slow path only; the fast path never touches it:
 *   try_acquire(n): CAS free-n if QUEUED is clear and free >= n (inline).
 *   release(n):     CAS free+n if QUEUED is clear (inline); with QUEUED set,
 *                   under the mutex: add n, then grant the queue's head while
 *                   it fits, in order, and wake exactly the granted waiters.
 *   acquire(n):     try; else spin ~10 microseconds on lfp_sem's schedule,
 *                   retrying the try while nobody is queued (FIFO: the try
 *                   never jumps a queued waiter; the spin ends when anyone
 *                   queues or a take is lost to another thread); else, under
 *                   the mutex, either take (QUEUED clear and it fits) or set
 *                   QUEUED in the same CAS loop and enqueue.
 * While QUEUED is set, the word changes only under the mutex: a fast-path
 * CAS that read the word without QUEUED fails (the word changed), re-reads it
 * and goes to the slow path. So "free weight + queue" is consistent under the
 * mutex, and the invariant "the queue's head does not fit in free" is kept by
 * running the grant loop after every change to either.
 * Cancelled at the moment of the grant: a waiter whose deadline passes or
 * whose token fires re-takes the mutex; if it finds it was granted in the
 * meantime it gives the weight back (and the grant loop wakes the waiters
 * behind it) and returns ETIMEDOUT/ECANCELED; a cancelled waiter at the head
 * also runs the grant loop when it leaves. Weight is never leaked: a call
 * that returns non-zero holds nothing.
 * Progress: try_acquire and a release with no waiters are lock-free; acquire
 * with waiters and release to waiters take the mutex (blocking).
 * Lifetime: a waiter that returned from lfp_wsem_acquire may destroy and free
 * s at once, while the release that granted it is still returning: a release
 * to waiters grants and wakes under the mutex, and the waiter returns only
 * after taking the mutex again, so the releaser's unlock is its last access
 * (pthread_mutex_unlock is safe against that, as POSIX requires for a mutex
 * destroyed once unlocked); a release with nobody queued ends with its CAS.
 *
 * Ordering (both): a release happens-before the acquire (try or blocking)
 * that takes the permit/weight it returned (release CAS / acquire CAS, or the
 * mutex plus the waiter's acquire load of its grant flag).
 *
 * Copying: an lfp_sem or lfp_wsem must not be copied or moved after init:
 * waiters park on words inside the object and queue behind its address. Use it
 * where it was initialised, through pointers.
 *
 * Fork: a child of fork may call every lfp_sem_* and lfp_wsem_* call on an
 * object that no thread of the parent was using when fork() was called
 * (lfpat's process-wide locks are held across fork by atfork handlers,
 * src/fork.c, so none is copied held). An object a parent thread was inside at
 * the fork (in a call, or blocked in one) is copied in that intermediate
 * state, with a thread the child does not have: the child must not use it.
 */
#ifndef LFPAT_SEM_H
#define LFPAT_SEM_H

#include <pthread.h>

#include "lfpat/cancel.h"
#include "lfpat/counter.h"
#include "lfpat/eventcount.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Statistics of lfp_sem and lfp_locked_sem. */
struct lfp_sem_stats {
    uint64_t capacity;       /* permits given at init */
    uint64_t available;      /* free permits */
    uint64_t used;           /* capacity - available: permits held */
    uint64_t waiting;        /* threads blocked in acquire (past the first spin) */
    uint64_t acquires;       /* successful acquisitions, try or blocking */
    uint64_t releases;       /* successful releases */
    uint64_t timeouts;       /* blocking acquires that returned ETIMEDOUT */
    uint64_t cancellations;  /* blocking acquires that returned ECANCELED */
};

/* ------------------------------------------------------------ lfp_sem */

typedef struct lfp_sem {
    /* the fast paths' line: the word and what they read beside it */
    alignas(LFP_CACHELINE) _Atomic(uint64_t) state;  /* P | G << 32 | W << 40 */
    uint32_t capacity;
    lfp_striped releases;            /* per-thread cells: no shared RMW */
    /* the slow path's line: parking waiters write here, not on `state` */
    alignas(LFP_CACHELINE) lfp_ec ec;
    _Atomic(uint32_t) notifiers;     /* releases still notifying | DESTROYING */
    _Atomic(uint64_t) timeouts;
    _Atomic(uint64_t) cancellations;
} lfp_sem;

/* Initialise s with `capacity` free permits.
 * Returns 0; EINVAL if s is NULL or capacity is 0; ENOMEM. */
LFP_API int lfp_sem_init(lfp_sem *s, unsigned capacity);

/* Free what init allocated. NULL is ignored. Call it once no thread is in
 * or will enter a call on s, except releases that may still be returning
 * (the hand-off: an acquirer that took a permit may destroy at once); it
 * waits until those are done with s. Free s only after it returns (as with
 * POSIX sem_destroy). Progress: blocks only while a release is notifying
 * (spins briefly, then parks; the release wakes it). */
LFP_API void lfp_sem_destroy(lfp_sem *s);

/* Take a permit if one is free. Returns 0; EAGAIN if none; EINVAL if s is
 * NULL. Progress: lock-free (one CAS). Ordering: acquire; the release that
 * returned this permit happens-before. */
static inline int lfp_sem_try_acquire(lfp_sem *s);

/* Take a permit, waiting until one is released, `deadline` passes
 * (CLOCK_MONOTONIC ns, LFP_FOREVER for none) or `cancel` fires (NULL for
 * none). A free permit is taken even if the deadline has passed or the token
 * has fired. Returns 0; ETIMEDOUT; ECANCELED; EINVAL if s is NULL.
 * Progress: lock-free when a permit is free (inline, one CAS); otherwise
 * spins briefly, then blocks (parks). Ordering: as lfp_sem_try_acquire. */
static inline int lfp_sem_acquire(lfp_sem *s, int64_t deadline, lfp_cancel *cancel);

/* Return a permit and, if a parked waiter can use it and no woken one is
 * already on its way for it, wake one. Returns 0; EOVERFLOW if all
 * `capacity` permits are already free (more releases than acquires; the
 * state is unchanged); EINVAL if s is NULL.
 * Progress: lock-free (one CAS); plus one futex wake when it signals a
 * parked waiter (the wake rule in the header comment).
 * Ordering: release; happens-before the acquire that takes this permit.
 * Lifetime: with no waiter registered the CAS is the last access to s;
 * otherwise see "Lifetime" in the header comment. */
static inline int lfp_sem_release(lfp_sem *s);

/* Free permits now (a snapshot). 0 for NULL. Progress: wait-free. */
static inline unsigned lfp_sem_available(const lfp_sem *s);

/* Fill *st. Each field is read at some moment during the call (not one
 * atomic snapshot under concurrency); exact when s is quiescent. Does nothing
 * if s or st is NULL. Progress: wait-free. */
LFP_API void lfp_sem_stats(const lfp_sem *s, struct lfp_sem_stats *st);

/* ------------------------------------------------------------ lfp_wsem */

/* Largest capacity (free weight lives in the word's low 63 bits; 2^62 keeps
 * free + n from overflowing before the capacity check). */
#define LFP_WSEM_MAX ((int64_t)1 << 62)

/* FIFO waiter queue (nodes live on the waiting threads' stacks). */
struct lfp_wsem_waiter;
struct lfp_wsem_queue {
    struct lfp_wsem_waiter *head, *tail;
};

typedef struct lfp_wsem {
    _Atomic(uint64_t) state;    /* free | LFP_WSEM_QUEUED_ */
    int64_t capacity;
    pthread_mutex_t lock;       /* guards queue; slow path only */
    struct lfp_wsem_queue queue;
} lfp_wsem;

/* Initialise s with `capacity` units of free weight.
 * Returns 0; EINVAL if s is NULL, capacity <= 0 or > LFP_WSEM_MAX. */
LFP_API int lfp_wsem_init(lfp_wsem *s, int64_t capacity);

/* Destroy s once no thread is in or will enter a call on it, except a
 * release that may still be returning after a grant ("Lifetime" in the
 * header comment). NULL is ignored. */
LFP_API void lfp_wsem_destroy(lfp_wsem *s);

/* Take n units if nobody is queued and n fit now (FIFO: never jumps the
 * queue). Returns 0; EAGAIN; EINVAL if s is NULL, n <= 0 or n > capacity.
 * Progress: lock-free (one CAS). Ordering: acquire (see header comment). */
static inline int lfp_wsem_try_acquire(lfp_wsem *s, int64_t n);

/* Take n units, waiting in FIFO order until they are granted, `deadline`
 * passes or `cancel` fires. Returns 0; ETIMEDOUT or ECANCELED (holding
 * nothing, even if a grant raced with the timeout: it is given back); EINVAL
 * at once if s is NULL, n <= 0 or n > capacity (it could never be granted).
 * Progress: lock-free when nobody is queued and n fit (inline, one CAS);
 * otherwise takes the queue mutex and blocks (spins briefly, then parks). */
static inline int lfp_wsem_acquire(lfp_wsem *s, int64_t n, int64_t deadline, lfp_cancel *cancel);

/* Return n units and grant queued waiters, in order, while the head fits.
 * Returns 0; EOVERFLOW if free weight would exceed capacity (more released
 * than acquired; state unchanged); EINVAL if s is NULL or n <= 0.
 * Progress: lock-free (one CAS) with nobody queued; takes the queue mutex
 * otherwise. Ordering: release (see header comment). */
static inline int lfp_wsem_release(lfp_wsem *s, int64_t n);

/* Free weight now (a snapshot; weight granted to waiters is not free).
 * 0 for NULL. Progress: wait-free. */
static inline int64_t lfp_wsem_available(const lfp_wsem *s);

/* Capacity given at init; 0 for NULL. */
static inline int64_t lfp_wsem_capacity(const lfp_wsem *s);

#ifdef __cplusplus
}
#endif

/* The inline definitions (internal, not part of the API). */
#include "lfpat/internal/sem.h"
#endif
