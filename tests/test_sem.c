/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit tests: lfpat/sem.h (lfp_sem, lfp_wsem) and the twins lfp_locked_sem,
 * lfp_locked_wsem. Contract tests run over the implementation tables in
 * sem_impls.h (shared with stress/stress_sem.c); a few tests check lfp_sem's
 * own layout (stats derivation, waiter count). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>

#include "sem_impls.h"

/* ------------------------------------------------------------ counting */

static void *sem_new(const struct sem_impl *im, unsigned cap)
{
    void *s = impl_alloc(im->size);
    assert_non_null(s);
    assert_int_equal(im->init(s, cap), 0);
    return s;
}

static void sem_free(const struct sem_impl *im, void *s)
{
    im->destroy(s);
    free(s);
}

static struct lfp_sem_stats stats_of(const struct sem_impl *im, void *s)
{
    struct lfp_sem_stats st;
    im->stats(s, &st);
    return st;
}

/* A thread blocked in acquire. */
struct blocker {
    const struct sem_impl *im;
    void *s;
    int64_t deadline;
    lfp_cancel *cancel;
    _Atomic int rc;        /* -1 until acquire returned */
    pthread_t tid;
};

static void *blocker_main(void *p)
{
    struct blocker *b = p;
    atomic_store(&b->rc, b->im->acquire(b->s, b->deadline, b->cancel));
    return NULL;
}

static void blocker_start(struct blocker *b, const struct sem_impl *im, void *s,
                          int64_t deadline, lfp_cancel *cancel)
{
    *b = (struct blocker){ .im = im, .s = s, .deadline = deadline, .cancel = cancel };
    atomic_init(&b->rc, -1);
    assert_int_equal(pthread_create(&b->tid, NULL, blocker_main, b), 0);
}

/* Wait (on state, not time) until `n` threads are inside a blocking acquire. */
static void wait_waiting(const struct sem_impl *im, void *s, uint64_t n)
{
    while (stats_of(im, s).waiting != n)
        sched_yield();
}

static void sem_bad_input(void **state)
{
    (void)state;
    for (size_t i = 0; i < NIMPL(sem_impls); i++) {
        const struct sem_impl *im = &sem_impls[i];
        void *s = impl_alloc(im->size);
        assert_int_equal(im->init(NULL, 1), EINVAL);
        assert_int_equal(im->init(s, 0), EINVAL);
        assert_int_equal(im->try_acquire(NULL), EINVAL);
        assert_int_equal(im->acquire(NULL, LFP_FOREVER, NULL), EINVAL);
        assert_int_equal(im->release(NULL), EINVAL);
        assert_int_equal(im->available(NULL), 0);
        struct lfp_sem_stats st = { .capacity = 99 };
        im->stats(NULL, &st);            /* ignored */
        assert_int_equal(st.capacity, 99);
        im->destroy(NULL);               /* ignored */
        free(s);
    }
}

static void sem_try_and_release(void **state)
{
    (void)state;
    for (size_t i = 0; i < NIMPL(sem_impls); i++) {
        const struct sem_impl *im = &sem_impls[i];
        void *s = sem_new(im, 3);
        assert_int_equal(im->available(s), 3);
        for (unsigned k = 0; k < 3; k++)
            assert_int_equal(im->try_acquire(s), 0);
        assert_int_equal(im->available(s), 0);
        assert_int_equal(im->try_acquire(s), EAGAIN);
        assert_int_equal(im->release(s), 0);
        assert_int_equal(im->available(s), 1);
        im->stats(s, NULL);              /* ignored */
        sem_free(im, s);
    }
}

static void sem_over_release_is_eoverflow_and_changes_nothing(void **state)
{
    (void)state;
    for (size_t i = 0; i < NIMPL(sem_impls); i++) {
        const struct sem_impl *im = &sem_impls[i];
        void *s = sem_new(im, 2);
        assert_int_equal(im->release(s), EOVERFLOW);
        assert_int_equal(im->try_acquire(s), 0);
        assert_int_equal(im->release(s), 0);
        struct lfp_sem_stats before = stats_of(im, s);
        assert_int_equal(im->release(s), EOVERFLOW);
        struct lfp_sem_stats after = stats_of(im, s);
        assert_memory_equal(&before, &after, sizeof before);
        assert_int_equal(after.available, 2);
        assert_int_equal(after.releases, 1);
        sem_free(im, s);
    }
}

static void sem_large_capacity(void **state)
{
    (void)state;
    for (size_t i = 0; i < NIMPL(sem_impls); i++) {
        const struct sem_impl *im = &sem_impls[i];
        void *s = sem_new(im, UINT32_MAX);
        assert_int_equal(im->available(s), UINT32_MAX);
        assert_int_equal(im->release(s), EOVERFLOW);
        assert_int_equal(im->try_acquire(s), 0);
        assert_int_equal(im->available(s), UINT32_MAX - 1);
        assert_int_equal(im->release(s), 0);
        sem_free(im, s);
    }
}

static void sem_stats_count_everything(void **state)
{
    (void)state;
    for (size_t i = 0; i < NIMPL(sem_impls); i++) {
        const struct sem_impl *im = &sem_impls[i];
        void *s = sem_new(im, 4);
        lfp_cancel fired;
        lfp_cancel_init(&fired, NULL);
        lfp_cancel_fire(&fired, 0);
        for (int k = 0; k < 3; k++)
            assert_int_equal(im->try_acquire(s), 0);
        assert_int_equal(im->acquire(s, LFP_FOREVER, NULL), 0);
        assert_int_equal(im->acquire(s, lfp_now() - 1, NULL), ETIMEDOUT);
        assert_int_equal(im->acquire(s, INT64_MIN, NULL), ETIMEDOUT);
        assert_int_equal(im->acquire(s, LFP_FOREVER, &fired), ECANCELED);
        assert_int_equal(im->release(s), 0);
        assert_int_equal(im->release(s), 0);
        struct lfp_sem_stats st = stats_of(im, s);
        assert_int_equal(st.capacity, 4);
        assert_int_equal(st.available, 2);
        assert_int_equal(st.used, 2);
        assert_int_equal(st.waiting, 0);
        assert_int_equal(st.acquires, 4);
        assert_int_equal(st.releases, 2);
        assert_int_equal(st.timeouts, 2);
        assert_int_equal(st.cancellations, 1);
        lfp_cancel_destroy(&fired);
        sem_free(im, s);
    }
}

static void sem_free_permit_wins_over_deadline_and_cancel(void **state)
{
    (void)state;
    for (size_t i = 0; i < NIMPL(sem_impls); i++) {
        const struct sem_impl *im = &sem_impls[i];
        void *s = sem_new(im, 2);
        lfp_cancel fired;
        lfp_cancel_init(&fired, NULL);
        lfp_cancel_fire(&fired, 42);
        assert_int_equal(im->acquire(s, lfp_now() - 1, NULL), 0);
        assert_int_equal(im->acquire(s, LFP_FOREVER, &fired), 0);
        assert_int_equal(stats_of(im, s).timeouts + stats_of(im, s).cancellations, 0);
        lfp_cancel_destroy(&fired);
        sem_free(im, s);
    }
}

static void sem_release_wakes_a_blocked_acquire(void **state)
{
    (void)state;
    for (size_t i = 0; i < NIMPL(sem_impls); i++) {
        const struct sem_impl *im = &sem_impls[i];
        void *s = sem_new(im, 1);
        assert_int_equal(im->try_acquire(s), 0);
        struct blocker b;
        blocker_start(&b, im, s, LFP_FOREVER, NULL);
        wait_waiting(im, s, 1);
        assert_int_equal(im->release(s), 0);
        pthread_join(b.tid, NULL);       /* hangs (test timeout) on a lost wake-up */
        assert_int_equal(atomic_load(&b.rc), 0);
        struct lfp_sem_stats st = stats_of(im, s);
        assert_int_equal(st.waiting, 0);
        assert_int_equal(st.available, 0);
        assert_int_equal(st.acquires, 2);
        sem_free(im, s);
    }
}

/* k releases complete exactly k of n blocked acquires; the rest stay blocked
 * until more permits come: permits are neither lost nor duplicated. */
static void sem_releases_complete_exactly_as_many_waiters(void **state)
{
    (void)state;
    enum { N = 5, K = 2 };
    for (size_t i = 0; i < NIMPL(sem_impls); i++) {
        const struct sem_impl *im = &sem_impls[i];
        void *s = sem_new(im, N);
        for (int k = 0; k < N; k++)
            assert_int_equal(im->try_acquire(s), 0);
        struct blocker b[N];
        for (int k = 0; k < N; k++)
            blocker_start(&b[k], im, s, LFP_FOREVER, NULL);
        wait_waiting(im, s, N);
        for (int k = 0; k < K; k++)
            assert_int_equal(im->release(s), 0);
        int done = 0;
        while (done < K) {               /* wait (on state) for K completions */
            done = 0;
            for (int k = 0; k < N; k++)
                done += atomic_load(&b[k].rc) == 0;
            assert_true(done <= K);
            sched_yield();
        }
        assert_int_equal(stats_of(im, s).waiting, N - K);   /* the rest still wait */
        assert_int_equal(im->available(s), 0);
        for (int k = K; k < N; k++)
            assert_int_equal(im->release(s), 0);
        for (int k = 0; k < N; k++) {
            pthread_join(b[k].tid, NULL);
            assert_int_equal(atomic_load(&b[k].rc), 0);
        }
        assert_int_equal(stats_of(im, s).acquires, 2 * N);
        for (int k = 0; k < N; k++)
            assert_int_equal(im->release(s), 0);
        assert_true(im->idle(s));
        sem_free(im, s);
    }
}

static void sem_cancel_and_timeout_wake_a_blocked_acquire(void **state)
{
    (void)state;
    for (size_t i = 0; i < NIMPL(sem_impls); i++) {
        const struct sem_impl *im = &sem_impls[i];
        void *s = sem_new(im, 1);
        assert_int_equal(im->try_acquire(s), 0);
        lfp_cancel tok;
        lfp_cancel_init(&tok, NULL);
        struct blocker b;
        blocker_start(&b, im, s, LFP_FOREVER, &tok);
        wait_waiting(im, s, 1);
        lfp_cancel_fire(&tok, 7);
        pthread_join(b.tid, NULL);
        assert_int_equal(atomic_load(&b.rc), ECANCELED);
        /* a real (short) deadline while blocked */
        blocker_start(&b, im, s, lfp_after(20 * 1000000), NULL);
        pthread_join(b.tid, NULL);
        assert_int_equal(atomic_load(&b.rc), ETIMEDOUT);
        struct lfp_sem_stats st = stats_of(im, s);
        assert_int_equal(st.cancellations, 1);
        assert_int_equal(st.timeouts, 1);
        assert_int_equal(st.waiting, 0);
        assert_int_equal(st.available, 0);
        assert_int_equal(im->release(s), 0);
        assert_int_equal(im->release(s), EOVERFLOW);
        assert_true(im->idle(s));          /* the leavers took their signals along */
        lfp_cancel_destroy(&tok);
        sem_free(im, s);
    }
}

/* More waiters than lfp_sem's signal field counts (255): the releases that
 * find it saturated wake nobody, and every woken taker passes one wake-up on
 * (the chain of sem.h). All complete; nothing is left in flight. */
static void sem_more_waiters_than_signals(void **state)
{
    (void)state;
    enum { N = 300 };
    for (size_t i = 0; i < NIMPL(sem_impls); i++) {
        const struct sem_impl *im = &sem_impls[i];
        void *s = sem_new(im, N);
        for (int k = 0; k < N; k++)
            assert_int_equal(im->try_acquire(s), 0);
        struct blocker *b = calloc(N, sizeof *b);
        assert_non_null(b);
        for (int k = 0; k < N; k++)
            blocker_start(&b[k], im, s, LFP_FOREVER, NULL);
        wait_waiting(im, s, N);
        for (int k = 0; k < N; k++)
            assert_int_equal(im->release(s), 0);
        for (int k = 0; k < N; k++) {
            pthread_join(b[k].tid, NULL);    /* hangs (test timeout) on a lost wake-up */
            assert_int_equal(atomic_load(&b[k].rc), 0);
        }
        for (int k = 0; k < N; k++)
            assert_int_equal(im->release(s), 0);
        assert_true(im->idle(s));
        free(b);
        sem_free(im, s);
    }
}

/* Differential: a random single-threaded sequence gives the same results and
 * stats on every implementation. */
static void sem_matches_twin(void **state)
{
    (void)state;
    void *a = sem_new(&sem_impls[0], 5), *b = sem_new(&sem_impls[1], 5);
    uint64_t x = 88172645463325252ull;
    for (int k = 0; k < 20000; k++) {
        x ^= x << 13; x ^= x >> 7; x ^= x << 17;
        int ra, rb;
        switch (x % 3) {
        case 0: ra = sem_impls[0].try_acquire(a); rb = sem_impls[1].try_acquire(b); break;
        case 1: ra = sem_impls[0].acquire(a, 0, NULL); rb = sem_impls[1].acquire(b, 0, NULL); break;
        default: ra = sem_impls[0].release(a); rb = sem_impls[1].release(b); break;
        }
        assert_int_equal(ra, rb);
    }
    struct lfp_sem_stats sa = stats_of(&sem_impls[0], a), sb = stats_of(&sem_impls[1], b);
    assert_memory_equal(&sa, &sb, sizeof sa);
    sem_free(&sem_impls[0], a);
    sem_free(&sem_impls[1], b);
}

/* lfp_wsem_capacity (no twin counterpart). */
static void wsem_capacity(void **state)
{
    (void)state;
    lfp_wsem s;
    assert_int_equal(lfp_wsem_init(&s, 7), 0);
    assert_int_equal(lfp_wsem_capacity(&s), 7);
    assert_int_equal(lfp_wsem_capacity(NULL), 0);
    lfp_wsem_destroy(&s);
}

/* lfp_sem specifics: the fast paths touch only the state word. */
static void sem_state_word_layout(void **state)
{
    (void)state;
    lfp_sem s;
    assert_int_equal(lfp_sem_init(&s, 3), 0);
    assert_int_equal(atomic_load(&s.state), 3);
    assert_int_equal(lfp_sem_try_acquire(&s), 0);
    assert_int_equal(atomic_load(&s.state), 2);
    lfp_sem_destroy(&s);
}

/* lfp_sem's wake rule: one more signal iff min(P, W) > G, saturating. */
static void sem_wake_rule(void **state)
{
    (void)state;
    const uint64_t G = LFP_SEM_SIGNAL_, W = LFP_SEM_WAITER_, WMAX = ((uint64_t)1 << 24) - 1;
    const struct { uint64_t word; bool signals; } cases[] = {
        { 1, false },                        /* a permit, nobody waits */
        { 0 + 3 * W, false },                /* waiters, no permit */
        { 1 + 1 * W, true },                 /* one permit for one waiter */
        { 1 + 2 * W + 1 * G, false },        /* one woken already on its way */
        { 2 + 2 * W + 1 * G, true },         /* a second permit: a second wake */
        { 3 + 2 * W + 2 * G, false },        /* as many woken as waiters */
        { 300 + 300 * W + 255 * G, false },  /* saturated: takers chain it */
        { UINT32_MAX + WMAX * W + 254 * G, true },   /* fields at their tops: no carry */
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++)
        assert_int_equal(lfp_sem_signal_(cases[k].word), cases[k].word + (cases[k].signals ? G : 0));
}

/* ------------------------------------------------------------ weighted */

static void *wsem_new(const struct wsem_impl *im, int64_t cap)
{
    void *s = impl_alloc(im->size);
    assert_non_null(s);
    assert_int_equal(im->init(s, cap), 0);
    return s;
}

static void wsem_free(const struct wsem_impl *im, void *s)
{
    im->destroy(s);
    free(s);
}

struct wblocker {
    const struct wsem_impl *im;
    void *s;
    int64_t n, deadline;
    lfp_cancel *cancel;
    _Atomic int rc;
    pthread_t tid;
};

static void *wblocker_main(void *p)
{
    struct wblocker *b = p;
    atomic_store(&b->rc, b->im->acquire(b->s, b->n, b->deadline, b->cancel));
    return NULL;
}

/* Start a blocked acquire of n and wait (on state) until it is queued. */
static void wblocker_start_queued(struct wblocker *b, const struct wsem_impl *im, void *s,
                                  int64_t n, lfp_cancel *cancel)
{
    size_t before = im->queued(s);
    *b = (struct wblocker){ .im = im, .s = s, .n = n, .deadline = LFP_FOREVER, .cancel = cancel };
    atomic_init(&b->rc, -1);
    assert_int_equal(pthread_create(&b->tid, NULL, wblocker_main, b), 0);
    while (im->queued(s) == before)
        sched_yield();
}

static void wsem_bad_input(void **state)
{
    (void)state;
    for (size_t i = 0; i < NIMPL(wsem_impls); i++) {
        const struct wsem_impl *im = &wsem_impls[i];
        void *s = impl_alloc(im->size);
        assert_int_equal(im->init(NULL, 1), EINVAL);
        assert_int_equal(im->init(s, 0), EINVAL);
        assert_int_equal(im->init(s, -5), EINVAL);
        assert_int_equal(im->init(s, LFP_WSEM_MAX + 1), EINVAL);
        assert_int_equal(im->init(s, 10), 0);
        assert_int_equal(im->try_acquire(NULL, 1), EINVAL);
        assert_int_equal(im->try_acquire(s, 0), EINVAL);
        assert_int_equal(im->try_acquire(s, -1), EINVAL);
        assert_int_equal(im->try_acquire(s, 11), EINVAL);
        /* would block forever in the seed: EINVAL at once */
        assert_int_equal(im->acquire(s, 11, LFP_FOREVER, NULL), EINVAL);
        assert_int_equal(im->acquire(s, 0, LFP_FOREVER, NULL), EINVAL);
        assert_int_equal(im->acquire(s, INT64_MIN, LFP_FOREVER, NULL), EINVAL);
        assert_int_equal(im->acquire(NULL, 1, LFP_FOREVER, NULL), EINVAL);
        assert_int_equal(im->release(NULL, 1), EINVAL);
        assert_int_equal(im->release(s, 0), EINVAL);
        assert_int_equal(im->release(s, -3), EINVAL);
        assert_int_equal(im->available(NULL), 0);
        assert_int_equal(im->available(s), 10);
        im->destroy(s);
        im->destroy(NULL);
        free(s);
    }
}

static void wsem_try_release_overflow(void **state)
{
    (void)state;
    for (size_t i = 0; i < NIMPL(wsem_impls); i++) {
        const struct wsem_impl *im = &wsem_impls[i];
        void *s = wsem_new(im, 10);
        assert_int_equal(im->release(s, 1), EOVERFLOW);
        assert_int_equal(im->try_acquire(s, 10), 0);
        assert_int_equal(im->try_acquire(s, 1), EAGAIN);
        assert_int_equal(im->release(s, 4), 0);
        assert_int_equal(im->available(s), 4);
        assert_int_equal(im->release(s, 7), EOVERFLOW);   /* beyond held: unchanged */
        assert_int_equal(im->available(s), 4);
        assert_int_equal(im->release(s, INT64_MAX), EOVERFLOW);
        assert_int_equal(im->try_acquire(s, 3), 0);
        assert_int_equal(im->available(s), 1);
        assert_int_equal(im->release(s, 9), 0);
        assert_int_equal(im->available(s), 10);
        wsem_free(im, s);
        s = wsem_new(im, LFP_WSEM_MAX);
        assert_int_equal(im->try_acquire(s, LFP_WSEM_MAX), 0);
        assert_int_equal(im->release(s, LFP_WSEM_MAX), 0);
        assert_int_equal(im->release(s, INT64_MAX), EOVERFLOW);
        assert_int_equal(im->available(s), LFP_WSEM_MAX);
        wsem_free(im, s);
    }
}

static void wsem_deadline_and_cancel_without_waiting(void **state)
{
    (void)state;
    for (size_t i = 0; i < NIMPL(wsem_impls); i++) {
        const struct wsem_impl *im = &wsem_impls[i];
        void *s = wsem_new(im, 10);
        lfp_cancel fired;
        lfp_cancel_init(&fired, NULL);
        lfp_cancel_fire(&fired, 0);
        assert_int_equal(im->acquire(s, 6, lfp_now() - 1, NULL), 0);   /* fits: success wins */
        assert_int_equal(im->acquire(s, 2, LFP_FOREVER, &fired), 0);
        assert_int_equal(im->acquire(s, 3, lfp_now() - 1, NULL), ETIMEDOUT);
        assert_int_equal(im->acquire(s, 3, LFP_FOREVER, &fired), ECANCELED);
        assert_int_equal(im->acquire(s, 3, lfp_after(10 * 1000000), NULL), ETIMEDOUT);
        assert_int_equal(im->available(s), 2);   /* nothing leaked by the failures */
        assert_int_equal(im->try_acquire(s, 2), 0);   /* and nothing left queued */
        assert_int_equal(im->release(s, 10), 0);
        lfp_cancel_destroy(&fired);
        wsem_free(im, s);
    }
}

/* Strict FIFO: a waiter that does not fit blocks the smaller ones behind it.
 * Every check here is on state that release changes synchronously. */
static void wsem_strict_fifo(void **state)
{
    (void)state;
    for (size_t i = 0; i < NIMPL(wsem_impls); i++) {
        const struct wsem_impl *im = &wsem_impls[i];
        void *s = wsem_new(im, 10);
        assert_int_equal(im->try_acquire(s, 8), 0);
        struct wblocker big, small;
        wblocker_start_queued(&big, im, s, 5, NULL);
        assert_int_equal(im->try_acquire(s, 1), EAGAIN);     /* 2 free, but queue first */
        wblocker_start_queued(&small, im, s, 1, NULL);
        assert_int_equal(im->queued(s), 2);
        assert_int_equal(im->release(s, 2), 0);               /* 4 free: big 5 does not fit */
        assert_int_equal(im->available(s), 4);                /* and small did not jump it */
        assert_int_equal(im->queued(s), 2);
        assert_int_equal(im->release(s, 1), 0);               /* 5 free: big granted, 0 left */
        pthread_join(big.tid, NULL);
        assert_int_equal(atomic_load(&big.rc), 0);
        assert_int_equal(im->available(s), 0);
        assert_int_equal(im->queued(s), 1);
        assert_int_equal(im->release(s, 5), 0);               /* main's rest: small granted */
        pthread_join(small.tid, NULL);
        assert_int_equal(atomic_load(&small.rc), 0);
        assert_int_equal(im->available(s), 4);
        assert_int_equal(im->queued(s), 0);
        assert_int_equal(im->release(s, 5 + 1), 0);           /* big's and small's */
        assert_int_equal(im->available(s), 10);
        wsem_free(im, s);
    }
}

/* A cancelled head waiter leaves and the waiters behind it that fit are
 * granted; a timed-out one likewise. No weight leaks. */
static void wsem_cancelled_head_unblocks_the_rest(void **state)
{
    (void)state;
    for (size_t i = 0; i < NIMPL(wsem_impls); i++) {
        const struct wsem_impl *im = &wsem_impls[i];
        void *s = wsem_new(im, 10);
        lfp_cancel tok;
        lfp_cancel_init(&tok, NULL);
        assert_int_equal(im->try_acquire(s, 8), 0);
        struct wblocker big, small;
        wblocker_start_queued(&big, im, s, 5, &tok);
        wblocker_start_queued(&small, im, s, 2, NULL);   /* 2 free, but behind big */
        assert_int_equal(im->available(s), 2);
        lfp_cancel_fire(&tok, 0);
        pthread_join(big.tid, NULL);
        assert_int_equal(atomic_load(&big.rc), ECANCELED);
        pthread_join(small.tid, NULL);
        assert_int_equal(atomic_load(&small.rc), 0);
        assert_int_equal(im->available(s), 0);
        assert_int_equal(im->release(s, 10), 0);
        assert_int_equal(im->available(s), 10);
        lfp_cancel_destroy(&tok);
        wsem_free(im, s);
    }
}

static void wsem_matches_twin(void **state)
{
    (void)state;
    const struct wsem_impl *A = &wsem_impls[0], *B = &wsem_impls[1];
    void *a = wsem_new(A, 100), *b = wsem_new(B, 100);
    uint64_t x = 88172645463325252ull;
    for (int k = 0; k < 20000; k++) {
        x ^= x << 13; x ^= x >> 7; x ^= x << 17;
        int64_t n = (int64_t)(x >> 8) % 120 - 10;
        int ra, rb;
        switch (x % 3) {
        case 0: ra = A->try_acquire(a, n); rb = B->try_acquire(b, n); break;
        case 1: ra = A->acquire(a, n, 0, NULL); rb = B->acquire(b, n, 0, NULL); break;
        default: ra = A->release(a, n); rb = B->release(b, n); break;
        }
        assert_int_equal(ra, rb);
        assert_int_equal(A->available(a), B->available(b));
    }
    wsem_free(A, a);
    wsem_free(B, b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sem_bad_input),
        cmocka_unit_test(sem_try_and_release),
        cmocka_unit_test(sem_over_release_is_eoverflow_and_changes_nothing),
        cmocka_unit_test(sem_large_capacity),
        cmocka_unit_test(sem_stats_count_everything),
        cmocka_unit_test(sem_free_permit_wins_over_deadline_and_cancel),
        cmocka_unit_test(sem_release_wakes_a_blocked_acquire),
        cmocka_unit_test(sem_releases_complete_exactly_as_many_waiters),
        cmocka_unit_test(sem_cancel_and_timeout_wake_a_blocked_acquire),
        cmocka_unit_test(sem_more_waiters_than_signals),
        cmocka_unit_test(sem_matches_twin),
        cmocka_unit_test(sem_state_word_layout),
        cmocka_unit_test(sem_wake_rule),
        cmocka_unit_test(wsem_capacity),
        cmocka_unit_test(wsem_bad_input),
        cmocka_unit_test(wsem_try_release_overflow),
        cmocka_unit_test(wsem_deadline_and_cancel_without_waiting),
        cmocka_unit_test(wsem_strict_fifo),
        cmocka_unit_test(wsem_cancelled_head_unblocks_the_rest),
        cmocka_unit_test(wsem_matches_twin),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
