/* SPDX-License-Identifier: BSD-2-Clause */
/* test_wsem_cancel_grant.c — a lfp_wsem waiter granted at the moment it
 * gives up (sem.h, "Cancelled at the moment of the grant"), deterministic,
 * for lfp_wsem and its twin lfp_locked_wsem.
 *
 * Waiter W (asks for the whole capacity) and X (asks for 1, behind W) are
 * queued. The test takes the semaphore's mutex; W's token fires (or its
 * deadline passes); W's wait ends with a failed last look and W blocks on
 * the mutex (read from the kernel, tests/parked.h). Still holding the
 * mutex, the test releases the capacity it held the way release does under
 * the mutex: the grant loop grants W. Then W gets the mutex, finds itself
 * granted as it gave up: it must return ECANCELED/ETIMEDOUT holding
 * nothing, and give the weight back so that X (parked, bounded wait) is
 * granted: nothing leaks, no grant is lost. stress_sem's cancel-vs-grant
 * phase reported 0 timed out/cancelled in every run, so nothing else
 * exercised this path.
 * Seen to fail (X returned ETIMEDOUT at its bound, 0 available): with the
 * give-back removed from lfp_wsem_acquire_slow_. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <time.h>

#include "lfpat.h"
#include "parked.h"
#include "wsem_queue.h"

#define CAP 4

struct impl {
    const char *name;
    int (*acquire)(void *s, int64_t n, int64_t deadline, lfp_cancel *cancel);
    int (*release)(void *s, int64_t n);
    int64_t (*available)(void *s);
    pthread_mutex_t *(*lock)(void *s);
    struct lfp_wsem_queue *(*queue)(void *s);
    void (*release_locked)(void *s, int64_t n);   /* release's body, mutex held */
};

static int w_acq(void *s, int64_t n, int64_t d, lfp_cancel *c) { return lfp_wsem_acquire(s, n, d, c); }
static int w_rel(void *s, int64_t n) { return lfp_wsem_release(s, n); }
static int64_t w_avail(void *s) { return lfp_wsem_available(s); }
static pthread_mutex_t *w_lock(void *s) { return &((lfp_wsem *)s)->lock; }
static struct lfp_wsem_queue *w_queue(void *s) { return &((lfp_wsem *)s)->queue; }

/* lfp_wsem_release_slow_ with the mutex held (src/sem.c): QUEUED is set,
 * the word is stable; grant, then store what is left and QUEUED. */
static void w_release_locked(void *p, int64_t n)
{
    lfp_wsem *s = p;
    int64_t free = (int64_t)(atomic_load(&s->state) & ~LFP_WSEM_QUEUED_);
    int64_t left = lfp_wq_grant(&s->queue, free + n);
    atomic_store(&s->state, (uint64_t)left | (s->queue.head ? LFP_WSEM_QUEUED_ : 0));
}

static int l_acq(void *s, int64_t n, int64_t d, lfp_cancel *c)
{
    return lfp_locked_wsem_acquire(s, n, d, c);
}
static int l_rel(void *s, int64_t n) { return lfp_locked_wsem_release(s, n); }
static int64_t l_avail(void *s) { return lfp_locked_wsem_available(s); }
static pthread_mutex_t *l_lock(void *s) { return &((lfp_locked_wsem *)s)->lock; }
static struct lfp_wsem_queue *l_queue(void *s) { return &((lfp_locked_wsem *)s)->queue; }

static void l_release_locked(void *p, int64_t n)
{
    lfp_locked_wsem *s = p;
    s->free = lfp_wq_grant(&s->queue, s->free + n);
}

static const struct impl impls[] = {
    { "lfp_wsem", w_acq, w_rel, w_avail, w_lock, w_queue, w_release_locked },
    { "lfp_locked_wsem", l_acq, l_rel, l_avail, l_lock, l_queue, l_release_locked },
};

struct waiter {
    const struct impl *im;
    void *s;
    int64_t n, deadline;
    lfp_cancel *cancel;
    int rc;
    int64_t done;
};

static void *waiter_main(void *arg)
{
    struct waiter *w = arg;
    w->rc = w->im->acquire(w->s, w->n, w->deadline, w->cancel);
    w->done = lfp_now();
    return NULL;
}

static size_t queued(const struct impl *im, void *s)
{
    size_t n = 0;
    pthread_mutex_lock(im->lock(s));
    for (struct lfp_wsem_waiter *w = im->queue(s)->head; w; w = w->next)
        n++;
    pthread_mutex_unlock(im->lock(s));
    return n;
}

static void start_queued(struct waiter *w, pthread_t *t, const struct impl *im, void *s)
{
    size_t before = queued(im, s);
    assert_int_equal(pthread_create(t, NULL, waiter_main, w), 0);
    int64_t end = lfp_after(PARKED_BOUND_NS);
    while (queued(im, s) == before) {
        assert_true(lfp_now() < end);
        sched_yield();
    }
}

/* by_cancel: W's token fires; else W's deadline passes. */
static void granted_as_it_gives_up(const struct impl *im, void *s, bool by_cancel)
{
    lfp_cancel tok;
    lfp_cancel_init(&tok, NULL);
    assert_int_equal(im->acquire(s, CAP, LFP_FOREVER, NULL), 0);   /* the test holds all */
    /* W's deadline only has to outlast the setup below (two threads queue,
     * the test takes the mutex); checked after taking it. */
    struct waiter w = { .im = im, .s = s, .n = CAP, .cancel = by_cancel ? &tok : NULL,
                        .deadline = by_cancel ? LFP_FOREVER : lfp_after(PARKED_BOUND_NS / 2) };
    struct waiter x = { .im = im, .s = s, .n = 1, .deadline = lfp_after(PARKED_BOUND_NS) };
    pthread_t tw, tx;
    start_queued(&w, &tw, im, s);
    start_queued(&x, &tx, im, s);
    pthread_mutex_lock(im->lock(s));
    assert_non_null(im->queue(s)->head);
    assert_int_equal(im->queue(s)->head->n, CAP);   /* W still queued: setup in time */
    if (by_cancel) {
        lfp_cancel_fire(&tok, 0);
    } else {
        /* W cannot give up before its deadline: no point polling until then
         * (the poll below still confirms the state) */
        struct timespec ts = { (time_t)(w.deadline / 1000000000),
                               (long)(w.deadline % 1000000000) };
        while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) != 0)
            ;
    }
    wait_blocked_on(im->lock(s), 1);   /* W gave up and waits for the mutex */
    im->release_locked(s, CAP);        /* the grant loop grants W */
    assert_non_null(im->queue(s)->head);   /* X alone is left queued (0 free) */
    assert_int_equal(im->queue(s)->head->n, 1);
    assert_null(im->queue(s)->head->next);
    pthread_mutex_unlock(im->lock(s));
    pthread_join(tw, NULL);
    pthread_join(tx, NULL);
    assert_int_equal(w.rc, by_cancel ? ECANCELED : ETIMEDOUT);
    assert_int_equal(x.rc, 0);
    assert_true(x.done < x.deadline);   /* W's give-back granted X, not X's deadline */
    assert_int_equal(im->available(s), CAP - 1);   /* W holds nothing */
    assert_int_equal(queued(im, s), 0);
    assert_int_equal(im->release(s, 1), 0);
    assert_int_equal(im->available(s), CAP);
    lfp_cancel_destroy(&tok);
}

static void run(bool by_cancel)
{
    lfp_wsem a;
    lfp_locked_wsem b;
    assert_int_equal(lfp_wsem_init(&a, CAP), 0);
    assert_int_equal(lfp_locked_wsem_init(&b, CAP), 0);
    granted_as_it_gives_up(&impls[0], &a, by_cancel);
    granted_as_it_gives_up(&impls[1], &b, by_cancel);
    lfp_wsem_destroy(&a);
    lfp_locked_wsem_destroy(&b);
}

static void cancelled_at_grant(void **state)
{
    (void)state;
    run(true);
}

static void timed_out_at_grant(void **state)
{
    (void)state;
    run(false);
}

int main(void)
{
    const struct CMUnitTest tests[] = { cmocka_unit_test(cancelled_at_grant),
                                        cmocka_unit_test(timed_out_at_grant) };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
