/* SPDX-License-Identifier: BSD-2-Clause */
/* lfp_sem and lfp_wsem slow paths. The algorithms and their arguments are
 * in lfpat/sem.h; the FIFO waiter queue is src/wsem_queue.c. */
#include "lfpat/sem.h"

#include <limits.h>

#include "lfpat/qcommon.h"
#include "park.h"
#include "wsem_queue.h"

/* The unregistered spin before parking: the first SPIN_QUICK looks at the
 * word one CPU pause apart, then at doubling intervals (2, 4, ...
 * SPIN_GAP_MAX pauses), SPIN_PAUSES pauses in all: about 10 microseconds at
 * ~20 ns per pause (AMD Zen 3). */
#define SPIN_QUICK 8
#define SPIN_GAP_MAX 128
#define SPIN_PAUSES 512

/* ------------------------------------------------------------ lfp_sem */

int lfp_sem_init(lfp_sem *s, unsigned capacity)
{
    if (!s || capacity == 0)
        return EINVAL;
    int rc = lfp_striped_init(&s->releases, 0);
    if (rc != 0)
        return rc;
    atomic_init(&s->state, capacity);
    s->capacity = capacity;
    lfp_ec_init(&s->ec);
    atomic_init(&s->notifiers, 0);
    atomic_init(&s->timeouts, 0);
    atomic_init(&s->cancellations, 0);
    return 0;
}

/* Rounds lfp_sem_destroy spins (CPU pauses) for notifying releases before
 * it parks: a notifier's remaining work is an eventcount check and perhaps
 * one futex wake. */
#define DESTROY_SPINS 64

/* Wait until no release is notifying (sem.h, "Lifetime"). */
static void await_notifiers(lfp_sem *s)
{
    /* acquire: pairs with the release fetch_sub in end_notify, so the
     * notifiers' accesses to s happen-before the destroy; the count was
     * raised before the CAS that the caller's hand-off read (sem.h). */
    uint32_t n = atomic_load_explicit(&s->notifiers, memory_order_acquire);
    for (unsigned round = 0; n & ~LFP_SEM_DESTROYING_; round++) {
        if (round < DESTROY_SPINS) {
            lfp_spin_pause(0);   /* a CPU pause, never a yield */
        } else if (n & LFP_SEM_DESTROYING_ ||
                   atomic_compare_exchange_weak_explicit(&s->notifiers, &n,
                                                         n | LFP_SEM_DESTROYING_,
                                                         memory_order_acquire,
                                                         memory_order_acquire)) {
            /* DESTROYING is set (acquire on both CAS outcomes: as the load
             * above): every end_notify from now on changes the word and
             * then wakes it, so this returns at once or is woken. No
             * deadline: only a notifier's last steps remain. */
            lfp_park_wait(&s->notifiers, n | LFP_SEM_DESTROYING_, LFP_FOREVER);
        } else {
            continue;   /* the CAS failed and re-read n */
        }
        /* acquire: as above. */
        n = atomic_load_explicit(&s->notifiers, memory_order_acquire);
    }
}

void lfp_sem_destroy(lfp_sem *s)
{
    if (!s)
        return;
    await_notifiers(s);
    lfp_striped_destroy(&s->releases);
}

static void sem_wake(lfp_sem *s)
{
    LFP_TEST_HOOK("sem.grant");   /* signalled by the CAS, not yet woken */
    /* The caller's CAS that added the signal was seq_cst: no fence needed. */
    lfp_q_notify_after_sc_(&s->ec, 1);
}

/* A release that may signal is done with s: the release fetch_sub is its
 * last access, and the wake reads no memory (park.h, "Waking after the last
 * access"), so a destroy that returned and freed s is not touched. */
static void end_notify(lfp_sem *s)
{
    _Atomic(uint32_t) *word = &s->notifiers;
    /* release: pairs with the acquire loads in await_notifiers: everything
     * this release did to s happens-before the destroy. */
    if (atomic_fetch_sub_explicit(word, 1, memory_order_release) & LFP_SEM_DESTROYING_)
        lfp_park_wake(word, INT_MAX);
}

/* lfp_sem_release with waiters registered (seen in v): the wake rule. A
 * release that will signal is counted as a notifier in flight from before
 * its CAS to after its notify, so that lfp_sem_destroy waits for it (sem.h,
 * "Lifetime"); one that does not signal ends with its CAS. The stats add is
 * done; undone on EOVERFLOW. */
int lfp_sem_release_slow_(lfp_sem *s, uint64_t v)
{
    bool counted = false;
    uint64_t n;
    do {
        if (lfp_sem_permits_(v) >= s->capacity) {
            lfp_striped_add(&s->releases, -1);
            if (counted)
                end_notify(s);
            return EOVERFLOW;
        }
        n = lfp_sem_signal_(v + 1);
        if (n != v + 1 && !counted) {
            /* relaxed: ordered before the CAS below, and so before every
             * acquirer and destroyer that synchronises with that CAS, by
             * the CAS's release (the count needs no ordering of its own). */
            atomic_fetch_add_explicit(&s->notifiers, 1, memory_order_relaxed);
            counted = true;
        }
        /* seq_cst: as in lfp_sem_release; also the store-load barrier
         * before the eventcount check in sem_wake. */
    } while (!atomic_compare_exchange_weak_explicit(&s->state, &v, n, memory_order_seq_cst,
                                                    memory_order_relaxed));
    if (!counted)
        return 0;   /* no signal: the CAS was the last access */
    if (n - v != 1)   /* this release signalled a waiter */
        sem_wake(s);
    end_notify(s);
    return 0;
}

/* A waiter's look at the word consumes a signal, if any (sem.h). */
static uint64_t consume_signal(uint64_t v)
{
    return lfp_sem_signals_(v) ? v - LFP_SEM_SIGNAL_ : v;
}

/* CAS s's word from *v to the wake rule applied to `next`; on success
 * notify if the rule added a signal. Returns false (with *v re-read) if the
 * word changed. seq_cst: a successful CAS that signals precedes the
 * notify's eventcount check (lfp_q_notify_after_sc_); it is also an acquire
 * for a take (pairs with the release CAS in lfp_sem_release). */
static bool cas_and_wake(lfp_sem *s, uint64_t *v, uint64_t next)
{
    uint64_t n = lfp_sem_signal_(next);
    if (!atomic_compare_exchange_weak_explicit(&s->state, v, n, memory_order_seq_cst,
                                               memory_order_relaxed))
        return false;
    if (n != next)
        sem_wake(s);
    return true;
}

/* A registered waiter's try: take a permit and withdraw the waiter in one
 * CAS, or consume a signal and fail. */
static int take_registered(lfp_sem *s)
{
    /* relaxed: only the CAS's first guess. */
    uint64_t v = atomic_load_explicit(&s->state, memory_order_relaxed);
    for (;;) {
        if (lfp_sem_permits_(v) > 0) {
            if (cas_and_wake(s, &v, consume_signal(v) - 1 - LFP_SEM_WAITER_))
                return 0;
        } else if (lfp_sem_signals_(v) == 0) {
            return EAGAIN;   /* nothing to take, nothing to consume */
        } else if (cas_and_wake(s, &v, consume_signal(v))) {
            return EAGAIN;
        }
    }
}

/* A registered waiter gives up (its last take failed). */
static void leave(lfp_sem *s)
{
    /* relaxed: only the CAS's first guess. */
    uint64_t v = atomic_load_explicit(&s->state, memory_order_relaxed);
    while (!cas_and_wake(s, &v, consume_signal(v) - LFP_SEM_WAITER_))
        ;
}

/* Take a permit now, or register as a waiter (W+1), in one CAS. */
static bool take_or_register(lfp_sem *s)
{
    /* relaxed: only the CAS's first guess. */
    uint64_t v = atomic_load_explicit(&s->state, memory_order_relaxed);
    uint64_t n;
    do
        n = lfp_sem_permits_(v) > 0 ? v - 1 : v + LFP_SEM_WAITER_;
    /* acquire: a take pairs with the release CAS in lfp_sem_release. The
     * registration needs no ordering of its own: a release's CAS reads it or
     * precedes it in the word's modification order (then this thread's
     * tries see that release's permit). */
    while (!atomic_compare_exchange_weak_explicit(&s->state, &v, n, memory_order_acquire,
                                                  memory_order_relaxed));
    return lfp_sem_permits_(v) > 0;
}

/* Spin for a permit without registering: releases see no waiter and make
 * no wake-up, the cheap handoff between two running threads. A CAS lost to
 * another taker ends the spin: others are taking permits as fast as they
 * come (a contended semaphore), where spinning only trades the permit and
 * its cache line back and forth between cores; parking leaves the holder
 * running alone until a release wakes this thread. After SPIN_QUICK quick
 * looks (about the wait of a handoff between two running threads: the
 * other thread's release comes within a few hundred nanoseconds; each
 * later look is at most one gap late) the looks come at doubling
 * intervals: each one pulls the word's line out of the cache of a thread
 * that is busy taking and releasing (its next CAS must fetch it back), so a
 * spinner that looked every pause for 10 microseconds slowed that thread
 * down (sparse looks give 30-50% more contended throughput,
 * docs/sem-performance.md).
 * Pause only, no sched_yield: a yield may hand the CPU to another process
 * for a whole time slice, while a parked thread is woken as soon as a
 * permit comes. */
/* The spin's schedule, shared by lfp_sem and lfp_wsem: each call pauses for
 * the next gap (SPIN_QUICK gaps of one pause, then doubling up to
 * SPIN_GAP_MAX) and returns false once SPIN_PAUSES have been spent. */
struct spin_schedule {
    unsigned look, spent, gap;
};
#define SPIN_SCHEDULE_INIT {0, 0, 1}

static bool spin_next(struct spin_schedule *sp)
{
    if (sp->spent >= SPIN_PAUSES)
        return false;
    if (sp->look >= SPIN_QUICK && sp->gap < SPIN_GAP_MAX)
        sp->gap *= 2;
    for (unsigned i = 0; i < sp->gap; i++)
        lfp_spin_pause(0);   /* round 0: a CPU pause, never a yield */
    sp->look++;
    sp->spent += sp->gap;
    return true;
}

static bool spin_take(lfp_sem *s)
{
    struct spin_schedule sp = SPIN_SCHEDULE_INIT;
    while (spin_next(&sp)) {
        /* relaxed: only the CAS's first guess. */
        uint64_t v = atomic_load_explicit(&s->state, memory_order_relaxed);
        if (lfp_sem_permits_(v) > 0)
            /* acquire: pairs with the release CAS in lfp_sem_release. */
            return atomic_compare_exchange_strong_explicit(&s->state, &v, v - 1,
                                                           memory_order_acquire,
                                                           memory_order_relaxed);
    }
    return false;
}


/* A registered waiter: park on the eventcount until a take succeeds, the
 * deadline passes or cancel fires (a last take then, success preferred).
 * The eventcount's waiter protocol directly, not lfp_ec_await: its spin
 * phase would undo spin_take's decision to park, and passing a wake-up on
 * is leave()'s job here. */
static int wait_registered(lfp_sem *s, int64_t deadline, lfp_cancel *cancel)
{
    for (;;) {
        uint32_t key = lfp_ec_prepare(&s->ec);
        int rc = take_registered(s);
        if (rc == 0 || (rc = lfp_give_up_(deadline, cancel)) != 0) {
            lfp_ec_abort(&s->ec);
            return rc;
        }
        rc = lfp_ec_wait(&s->ec, key, deadline, cancel);
        if (rc != 0)
            return take_registered(s) == 0 ? 0 : rc;
    }
}

int lfp_sem_acquire_slow_(lfp_sem *s, int64_t deadline, lfp_cancel *cancel)
{
    if (!s)
        return EINVAL;
    if ((lfp_give_up_(deadline, cancel) == 0 && spin_take(s)) || take_or_register(s))
        return 0;
    int rc = wait_registered(s, deadline, cancel);
    if (rc != 0) {
        leave(s);
        /* relaxed: statistics order nothing. */
        atomic_fetch_add_explicit(rc == ETIMEDOUT ? &s->timeouts : &s->cancellations, 1,
                                  memory_order_relaxed);
    }
    return rc;
}

void lfp_sem_stats(const lfp_sem *s, struct lfp_sem_stats *st)
{
    if (!s || !st)
        return;
    /* relaxed: statistics order nothing (see lfp_sem_stats in sem.h). */
    uint64_t v = atomic_load_explicit(&((lfp_sem *)s)->state, memory_order_relaxed);
    uint64_t releases = (uint64_t)lfp_striped_sum(&s->releases);
    st->capacity = s->capacity;
    st->available = lfp_sem_permits_(v);
    st->used = st->capacity - st->available;
    st->waiting = lfp_sem_waiters_(v);
    st->releases = releases;
    st->acquires = releases + st->used;   /* permits change only by these two */
    /* relaxed: statistics order nothing. */
    st->timeouts = atomic_load_explicit(&((lfp_sem *)s)->timeouts, memory_order_relaxed);
    st->cancellations = atomic_load_explicit(&((lfp_sem *)s)->cancellations,
                                             memory_order_relaxed);
}

/* ------------------------------------------------------------ lfp_wsem */

int lfp_wsem_init(lfp_wsem *s, int64_t capacity)
{
    if (!s || capacity <= 0 || capacity > LFP_WSEM_MAX)
        return EINVAL;
    int rc = pthread_mutex_init(&s->lock, NULL);
    if (rc != 0)
        return rc;
    atomic_init(&s->state, (uint64_t)capacity);
    s->capacity = capacity;
    s->queue.head = s->queue.tail = NULL;
    return 0;
}

void lfp_wsem_destroy(lfp_wsem *s)
{
    if (s)
        pthread_mutex_destroy(&s->lock);
}

/* Store the free weight and the QUEUED bit. Mutex held, and QUEUED was set
 * (so nobody else changes the word: see "While QUEUED is set" in sem.h). */
static void publish_locked(lfp_wsem *s, int64_t free)
{
    uint64_t v = (uint64_t)free | (s->queue.head ? LFP_WSEM_QUEUED_ : 0);
    /* release: pairs with the acquire CAS of lfp_wsem_try_acquire, which may
     * take this weight once QUEUED is clear. */
    atomic_store_explicit(&s->state, v, memory_order_release);
}

/* Mutex held, QUEUED set: the word is stable; return its free weight. */
static int64_t free_locked(lfp_wsem *s)
{
    /* acquire: pairs with the release CAS of fast-path releases made before
     * QUEUED was set. */
    return (int64_t)(atomic_load_explicit(&s->state, memory_order_acquire) & ~LFP_WSEM_QUEUED_);
}

/* Mutex held. Take n now if nobody is queued and n fits (returns true), or
 * set QUEUED so the word freezes for the enqueue (returns false). */
static bool take_or_mark_queued(lfp_wsem *s, int64_t n)
{
    /* acquire: pairs with release CASes; the CASes below re-validate. */
    uint64_t v = atomic_load_explicit(&s->state, memory_order_acquire);
    for (;;) {
        if (v & LFP_WSEM_QUEUED_)
            return false;
        uint64_t next = v >= (uint64_t)n ? v - (uint64_t)n : v | LFP_WSEM_QUEUED_;
        /* acquire: pairs with the release CAS of fast-path releases. */
        if (atomic_compare_exchange_weak_explicit(&s->state, &v, next, memory_order_acquire,
                                                  memory_order_acquire))
            return v >= (uint64_t)n;
    }
}

/* Spin for n units before queueing, on lfp_sem's schedule and for the same
 * reasons (spin_take): the cheap handoff between two running threads, where
 * taking the mutex and parking would cost two context switches. FIFO is
 * kept: the spinner takes only through lfp_wsem_try_acquire, which never
 * jumps a queued waiter, and stops as soon as anybody is queued (it would
 * have to queue behind them anyway) or a take is lost to another thread
 * (a contended semaphore: park rather than trade the line). */
static bool wsem_spin_take(lfp_wsem *s, int64_t n)
{
    struct spin_schedule sp = SPIN_SCHEDULE_INIT;
    while (spin_next(&sp)) {
        /* relaxed: a look; lfp_wsem_try_acquire's CAS re-validates it. */
        uint64_t v = atomic_load_explicit(&s->state, memory_order_relaxed);
        if (v & LFP_WSEM_QUEUED_)
            return false;
        if (v >= (uint64_t)n)
            return lfp_wsem_try_acquire(s, n) == 0;
    }
    return false;
}

int lfp_wsem_acquire_slow_(lfp_wsem *s, int64_t n, int64_t deadline, lfp_cancel *cancel)
{
    if (!s || n <= 0 || n > s->capacity)
        return EINVAL;
    if (lfp_give_up_(deadline, cancel) == 0 && wsem_spin_take(s, n))
        return 0;
    pthread_mutex_lock(&s->lock);
    if (take_or_mark_queued(s, n)) {
        pthread_mutex_unlock(&s->lock);
        return 0;
    }
    struct lfp_wsem_waiter w;
    lfp_wq_enqueue(&s->queue, &w, n);
    int rc = lfp_wq_block(&s->lock, &w, deadline, cancel);
    if (lfp_wq_granted(&w)) {
        /* The granter unlinked w and may have cleared QUEUED: the word is
         * not ours to store. Granted as it gave up: give the weight back
         * through the ordinary release (it grants the waiters behind). */
        pthread_mutex_unlock(&s->lock);
        if (rc != 0)
            lfp_wsem_release(s, n);
        return rc;
    }
    /* w is still queued, so QUEUED is set and the word is stable. */
    publish_locked(s, lfp_wq_leave(&s->queue, &w, free_locked(s)));
    pthread_mutex_unlock(&s->lock);
    return rc;
}

int lfp_wsem_release_slow_(lfp_wsem *s, int64_t n)
{
    pthread_mutex_lock(&s->lock);
    /* relaxed: re-checked under the mutex; if QUEUED is still set the word is
     * stable and free_locked's acquire load reads it. */
    if (!(atomic_load_explicit(&s->state, memory_order_relaxed) & LFP_WSEM_QUEUED_)) {
        pthread_mutex_unlock(&s->lock);   /* the queue drained meanwhile */
        return lfp_wsem_release(s, n);
    }
    int64_t free = free_locked(s);
    int rc = EOVERFLOW;
    if (n <= s->capacity - free) {
        publish_locked(s, lfp_wq_grant(&s->queue, free + n));
        rc = 0;
    }
    pthread_mutex_unlock(&s->lock);
    return rc;
}
