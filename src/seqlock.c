/* SPDX-License-Identifier: BSD-2-Clause */
/* seqlock.c — the writer side of lfp_seqlock (include/lfpat/seqlock.h has
 * the protocol and its argument).
 *
 * Writer lock: `owner` is 0 when free, else the owner's thread slot + 1. A
 * writer takes it with a CAS from 0 (acquire) and releases it with a
 * release store of 0, then notifies one parked writer on the `writers`
 * eventcount. Waiting is lfp_ec_await (spin briefly, then park), whose SB
 * protocol guarantees that no writer stays parked while the lock is free:
 * a waiter re-checks the lock after announcing itself, and the unlocking
 * writer's notify (after its store of 0) sees the announcement and wakes
 * one; a waiter that gives up on timeout or cancel passes a wake-up it may
 * have taken on (wake_one). The owner field also lets commit and abort
 * refuse a thread that has no write open (EPERM) and write/begin refuse a
 * thread that already has one (EDEADLK).
 */
#include "lfpat/seqlock.h"

#include <stdlib.h>

/* Whole cache lines per copy, so that the two copies share no line. */
static size_t stride_of(size_t size)
{
    size_t per_line = LFP_CACHELINE / sizeof(uint64_t);
    size_t words = (size + 7) / 8;
    return (words + per_line - 1) / per_line * per_line;
}

/* Store the first `size` bytes of src into the words at dst (the bytes of
 * the last word past size are zero). */
static void store_words(_Atomic(uint64_t) *dst, const void *src, size_t size)
{
    const unsigned char *in = src;
    size_t full = size / 8;
    for (size_t i = 0; i < full; i++) {
        uint64_t w;
        memcpy(&w, in + 8 * i, 8);
        /* relaxed (release under TSan): ordered after the start store by
         * the release fence in open_write; pairs with the reader's acquire
         * fence in lfp_seqlock_attempt_. */
        atomic_store_explicit(&dst[i], w, LFP_SEQLOCK_STORE_ORDER_);
        LFP_TEST_HOOK("seqlock.copy");   /* preempted with the write open */
    }
    if (size % 8) {
        uint64_t w = 0;
        memcpy(&w, in + 8 * full, size % 8);
        /* relaxed: as above. */
        atomic_store_explicit(&dst[full], w, LFP_SEQLOCK_STORE_ORDER_);
    }
}

int lfp_seqlock_init(lfp_seqlock *s, size_t size, const void *initial)
{
    if (!s || size == 0 || size > LFP_SEQLOCK_MAX_SIZE)
        return EINVAL;
    size_t stride = stride_of(size);
    _Atomic(uint64_t) *data = aligned_alloc(LFP_CACHELINE, 2 * stride * sizeof *data);
    if (!data)
        return ENOMEM;
    for (size_t i = 0; i < 2 * stride; i++)
        atomic_init(&data[i], 0);
    if (initial) {
        store_words(data, initial, size);
        store_words(data + stride, initial, size);
    }
    s->copy[0] = data;
    s->copy[1] = data + stride;
    s->size = size;
    atomic_init(&s->seq, 0);
    atomic_init(&s->owner, 0);
    lfp_ec_init(&s->writers);
    return 0;
}

void lfp_seqlock_destroy(lfp_seqlock *s)
{
    if (!s)
        return;
    free(s->copy[0]);
    s->copy[0] = s->copy[1] = NULL;
}

/* ------------------------------------------------------------ writer lock */

struct lock_try {
    lfp_seqlock *s;
    uint32_t me;
};

static int try_lock(void *arg)
{
    struct lock_try *t = arg;
    uint32_t free_ = 0;
    /* acquire: pairs with the release store of 0 in unlock; the previous
     * writer's stores (data and seq) happen-before this writer's. */
    return atomic_compare_exchange_strong_explicit(&t->s->owner, &free_, t->me,
                                                   memory_order_acquire,
                                                   memory_order_relaxed)
               ? 0
               : EAGAIN;
}

static bool held_by_me(const lfp_seqlock *s, uint32_t me)
{
    /* relaxed: only the owner itself stores its own id, so reading it
     * is decided by this thread's program order. */
    return atomic_load_explicit(&s->owner, memory_order_relaxed) == me;
}

/* Take the writer lock for the calling thread (id me). */
static int lock(lfp_seqlock *s, uint32_t me, int64_t deadline, lfp_cancel *cancel)
{
    if (held_by_me(s, me))
        return EDEADLK;
    struct lock_try t = { s, me };
    if (try_lock(&t) == 0)
        return 0;
    return lfp_ec_await(&s->writers, try_lock, &t, deadline, cancel, true);
}

static void unlock(lfp_seqlock *s)
{
    /* release: pairs with the acquire CAS in try_lock. */
    atomic_store_explicit(&s->owner, 0, memory_order_release);
    lfp_ec_notify_one(&s->writers);
}

static uint32_t my_id(void) { return lfp_thread_slot() + 1; }

/* ------------------------------------------------------------ the write */

/* Open write n + 1 (lock held): mark it, so that readers of copy (n+1) & 1
 * (the previous version's, read by readers that began before write n
 * completed) retry from now on. */
static void open_write(lfp_seqlock *s)
{
    /* relaxed: the lock holder is the only writer of seq. */
    uint64_t q = atomic_load_explicit(&s->seq, memory_order_relaxed);
    /* release: pairs with the reader's first (acquire) load of seq; a reader
     * that reads 2n + 1 sees write n's data (header comment, (a)). */
    atomic_store_explicit(&s->seq, q + 1, memory_order_release);
#if !LFP_TSAN
    /* release fence: orders the start store before the data stores that
     * follow; pairs with the reader's acquire fence (header comment, (b)). */
    atomic_thread_fence(memory_order_release);
#endif
}

/* Fill the open write's copy with src and complete it. */
static void close_write(lfp_seqlock *s, const void *src)
{
    /* relaxed: as in open_write. */
    uint64_t q = atomic_load_explicit(&s->seq, memory_order_relaxed);   /* 2n + 1 */
    uint64_t m = (q >> 1) + 1;                                           /* write m */
    store_words(s->copy[m & 1], src, s->size);
    LFP_TEST_HOOK("seqlock.publish");
    /* release: pairs with the reader's first (acquire) load of seq; publishes
     * this write's data. */
    atomic_store_explicit(&s->seq, q + 1, memory_order_release);
}

static int write_locked(lfp_seqlock *s, const void *src, int rc)
{
    if (rc != 0)
        return rc;
    open_write(s);
    close_write(s, src);
    unlock(s);
    return 0;
}

int lfp_seqlock_write(lfp_seqlock *s, const void *src, int64_t deadline, lfp_cancel *cancel)
{
    if (!s || !src)
        return EINVAL;
    return write_locked(s, src, lock(s, my_id(), deadline, cancel));
}

int lfp_seqlock_try_write(lfp_seqlock *s, const void *src)
{
    if (!s || !src)
        return EINVAL;
    uint32_t me = my_id();
    if (held_by_me(s, me))
        return EDEADLK;
    struct lock_try t = { s, me };
    return write_locked(s, src, try_lock(&t));
}

int lfp_seqlock_write_begin(lfp_seqlock *s, void *buf, int64_t deadline, lfp_cancel *cancel)
{
    if (!s || !buf)
        return EINVAL;
    int rc = lock(s, my_id(), deadline, cancel);
    if (rc != 0)
        return rc;
    /* relaxed: the lock holder is the only writer of seq and of the data;
     * the previous writer's stores happen-before via the lock. */
    uint64_t n = atomic_load_explicit(&s->seq, memory_order_relaxed) >> 1;
    lfp_seqlock_load_words_(s->copy[n & 1], buf, s->size);
    open_write(s);
    return 0;
}

int lfp_seqlock_write_commit(lfp_seqlock *s, const void *buf)
{
    if (!s || !buf)
        return EINVAL;
    if (!held_by_me(s, my_id()))
        return EPERM;
    close_write(s, buf);
    unlock(s);
    return 0;
}

int lfp_seqlock_write_abort(lfp_seqlock *s)
{
    if (!s)
        return EINVAL;
    if (!held_by_me(s, my_id()))
        return EPERM;
    /* relaxed: as in open_write. */
    uint64_t q = atomic_load_explicit(&s->seq, memory_order_relaxed);   /* 2n + 1 */
    /* release: pairs with the reader's first load; back to 2n, the aborted
     * write stored no data (header comment). */
    atomic_store_explicit(&s->seq, q - 1, memory_order_release);
    unlock(s);
    return 0;
}
