/* SPDX-License-Identifier: BSD-2-Clause */
#include "park.h"
#include "fork.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <time.h>

#ifdef __linux__
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

static struct timespec to_timespec(int64_t t)
{
    struct timespec ts = { .tv_sec = t / 1000000000, .tv_nsec = t % 1000000000 };
    return ts;
}

void lfp_spin_pause(unsigned round)
{
    if (round < 32) {
#if defined(__x86_64__) || defined(__i386__)
        __builtin_ia32_pause();
#elif defined(__aarch64__)
        /* ISB, not YIELD: YIELD is a no-op on most arm64 cores, ISB stalls
         * for a few tens of cycles, like x86's PAUSE (as Rust's spin_loop
         * and MySQL's ut_delay on arm64). */
        __asm__ __volatile__("isb" ::: "memory");
#else
        atomic_signal_fence(memory_order_seq_cst);
#endif
    } else {
        sched_yield();
    }
}

/* ---------------------------------------------------------------- portable */

#define PARK_BUCKETS 64

static struct park_bucket {
    pthread_mutex_t lock;
    pthread_cond_t cond;
} park_table[PARK_BUCKETS];

static pthread_once_t park_table_once = PTHREAD_ONCE_INIT;

static void park_table_make(void)
{
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    for (int i = 0; i < PARK_BUCKETS; i++) {
        pthread_mutex_init(&park_table[i].lock, NULL);
        pthread_cond_init(&park_table[i].cond, &attr);
    }
    pthread_condattr_destroy(&attr);
}

/* Set once the table is made; read by the fork handlers. relaxed: a
 * handler that reads 0 locks nothing and records that (locked_for_fork), so
 * a table made while a fork is under way is never unlocked unlocked. */
static _Atomic int park_table_ready;
static int locked_for_fork;            /* touched only by the forking thread */

static void park_table_init(void)
{
    park_table_make();
    atomic_store_explicit(&park_table_ready, 1, memory_order_relaxed);
    lfp_fork_register();
}

void lfp_park_fork_lock(void)
{
    locked_for_fork = atomic_load_explicit(&park_table_ready, memory_order_relaxed);
    if (!locked_for_fork)
        return;
    for (int i = 0; i < PARK_BUCKETS; i++)
        pthread_mutex_lock(&park_table[i].lock);
}

/* In the child no thread waits on the condition variables (their waiters
 * were the parent's other threads, and glibc's condvar would count them):
 * each is made anew, with its mutex held by this thread, then released. */
void lfp_park_fork_unlock(int in_child)
{
    if (!locked_for_fork)
        return;
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    for (int i = 0; i < PARK_BUCKETS; i++) {
        if (in_child)
            pthread_cond_init(&park_table[i].cond, &attr);
        pthread_mutex_unlock(&park_table[i].lock);
    }
    pthread_condattr_destroy(&attr);
}

static struct park_bucket *park_bucket_of(void *word)
{
    pthread_once(&park_table_once, park_table_init);
    uintptr_t h = (uintptr_t)word;
    h ^= h >> 7;
    h ^= h >> 13;
    return &park_table[h % PARK_BUCKETS];
}

/* The bucket mutex is the futex "hash bucket lock": a waker changes *word
 * before taking it, the waiter compares *word while holding it, so a wake
 * cannot fall between the comparison and pthread_cond_timedwait. One body
 * for 32- and 64-bit words: the bucket is keyed by the word's address. */
static int wait_portable(void *word, bool wide, uint64_t expected, int64_t deadline)
{
    struct park_bucket *b = park_bucket_of(word);
    int rc = 0, cancel_state;
    /* pthread_cond_*wait are cancellation points; lfpat's blocking calls are
     * not (a thread cancelled here would exit holding the bucket lock, its
     * cancel watch still linked). */
    pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &cancel_state);
    pthread_mutex_lock(&b->lock);
    /* acquire: pairs with the caller-side release/seq_cst store that changed
     * the word before lfp_park_wake_portable / lfp_park_wake64_portable. */
    uint64_t now = wide ? atomic_load_explicit((_Atomic uint64_t *)word, memory_order_acquire)
                        : atomic_load_explicit((_Atomic uint32_t *)word, memory_order_acquire);
    if (now == expected) {
        if (deadline == LFP_FOREVER) {
            pthread_cond_wait(&b->cond, &b->lock);
        } else {
            struct timespec ts = to_timespec(deadline < 0 ? 0 : deadline);
            if (pthread_cond_timedwait(&b->cond, &b->lock, &ts) == ETIMEDOUT)
                rc = ETIMEDOUT;
        }
    }
    pthread_mutex_unlock(&b->lock);
    pthread_setcancelstate(cancel_state, NULL);
    return rc;
}

int lfp_park_wait_portable(_Atomic uint32_t *word, uint32_t expected, int64_t deadline)
{
    return wait_portable(word, false, expected, deadline);
}

int lfp_park_wait64_portable(_Atomic uint64_t *word, uint64_t expected, int64_t deadline)
{
    return wait_portable(word, true, expected, deadline);
}

void lfp_park_wake_portable(_Atomic uint32_t *word, int n)
{
    struct park_bucket *b = park_bucket_of(word);
    pthread_mutex_lock(&b->lock);
    /* Several words share a bucket: broadcast, waiters re-check. */
    (void)n;
    pthread_cond_broadcast(&b->cond);
    pthread_mutex_unlock(&b->lock);
}

void lfp_park_wake64_portable(_Atomic uint64_t *word, int n)
{
    lfp_park_wake_portable((_Atomic uint32_t *)(void *)word, n);
}

/* ---------------------------------------------------------------- futex */

#ifdef __linux__
int lfp_park_wait(_Atomic uint32_t *word, uint32_t expected, int64_t deadline)
{
    struct timespec ts, *tsp = NULL;
    if (deadline != LFP_FOREVER) {
        ts = to_timespec(deadline < 0 ? 0 : deadline);
        tsp = &ts;
    }
    /* FUTEX_WAIT_BITSET takes an absolute CLOCK_MONOTONIC timeout (no
     * FUTEX_CLOCK_REALTIME). It compares *word with expected atomically with
     * respect to FUTEX_WAKE on the same word. */
    long r = syscall(SYS_futex, (uint32_t *)word, FUTEX_WAIT_BITSET | FUTEX_PRIVATE_FLAG,
                     expected, tsp, NULL, FUTEX_BITSET_MATCH_ANY);
    if (r == 0)
        return 0;  /* woken (or spuriously): the caller re-checks */
    /* Every caller re-checks its condition (and its deadline) in a loop
     * around this call, so returning 0 is always safe: at worst one more
     * trip round the caller's loop, never a lost wake-up. */
    switch (errno) {
    case ETIMEDOUT:
        return ETIMEDOUT;
    case EAGAIN:  /* *word != expected on entry: the condition may hold now */
    case EINTR:   /* a signal handler ran: not a wake-up, but harmless */
        return 0;
    default:
        /* EINVAL (misaligned word), EFAULT (bad address), ENOSYS or EPERM
         * (futex blocked by a sandbox): a bug or a hostile environment,
         * not a state of the word. Returning keeps the contract (the
         * caller re-checks); yielding first keeps a persistent failure
         * from turning the caller's park into a hot spin. */
        sched_yield();
        return 0;
    }
}

void lfp_park_wake(_Atomic uint32_t *word, int n)
{
    syscall(SYS_futex, (uint32_t *)word, FUTEX_WAKE | FUTEX_PRIVATE_FLAG, n, NULL, NULL, 0);
}

/* The futex word of a 64-bit atomic: its low-order 32 bits. Only the
 * kernel reads it (the address is never dereferenced here). */
static _Atomic uint32_t *low_half(_Atomic uint64_t *word)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    return (_Atomic uint32_t *)(void *)((char *)word + 4);
#else
    return (_Atomic uint32_t *)(void *)word;
#endif
}

int lfp_park_wait64(_Atomic uint64_t *word, uint64_t expected, int64_t deadline)
{
    return lfp_park_wait(low_half(word), (uint32_t)expected, deadline);
}

void lfp_park_wake64(_Atomic uint64_t *word, int n)
{
    lfp_park_wake(low_half(word), n);
}
#else
int lfp_park_wait(_Atomic uint32_t *word, uint32_t expected, int64_t deadline)
{
    return lfp_park_wait_portable(word, expected, deadline);
}

void lfp_park_wake(_Atomic uint32_t *word, int n)
{
    lfp_park_wake_portable(word, n);
}

int lfp_park_wait64(_Atomic uint64_t *word, uint64_t expected, int64_t deadline)
{
    return lfp_park_wait64_portable(word, expected, deadline);
}

void lfp_park_wake64(_Atomic uint64_t *word, int n)
{
    lfp_park_wake64_portable(word, n);
}
#endif
