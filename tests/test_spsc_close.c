/* SPDX-License-Identifier: BSD-2-Clause */
/* test_spsc_close.c — the lfp_spsc close protocol's wake-ups, white-box and
 * deterministic (spsc.h, "Close" and "Close waits by parking").
 *
 * A push is held inside its announcement window by running its steps
 * (lfp_spsc_announce_ / the slot stores / lfp_spsc_publish_, or the
 * announcement's store, the read of closed and lfp_spsc_push_slow_) from
 * the test thread; the closer and a blocking consumer are made to park
 * (read from the kernel, tests/parked.h) before the held push moves on.
 * Then every parked thread must return before its bound:
 *   publish:   a closer parked behind a push that read OPEN, and a consumer
 *              parked on the same eventcount (before close, or after: its
 *              own tries run settle); the publish (of one item, or of a
 *              push_n batch) must wake both: the consumer gets every item,
 *              then EPIPE.
 *   withdraw:  a closer parked behind a push that announced but then read
 *              CLOSING; its withdrawal must wake the closer and the
 *              consumer, who gets EPIPE.
 *   full ring: a producer parked on a full ring; close wakes it with EPIPE.
 *   one waiter: a lone consumer parked on an empty ring is woken by a
 *              try_push, a lone producer parked on a full ring by a
 *              try_pop (the fast paths' notify, lfp_spsc_notify_).
 * Each runs with the asymmetric eventcounts (membarrier) and with the
 * seq_cst fallback of a kernel without membarrier, switched on white-box
 * (lfp_spsc_symmetric_); and once more in a forked child whose membarrier
 * a seccomp filter denies (tests/nomembarrier.h), where lfp_spsc_init
 * itself must choose the fallback: init_mode checks the words it sets
 * (SYM_ in closed, the phantom waiter in each eventcount), the cases check
 * that no wake-up is lost through them.
 * Seen to fail (a thread stuck until the bound): with lfp_spsc_publish_
 * waking one thread instead of all, the *_consumer_first cases (the futex
 * wakes the consumer, who settles and returns; the closer stays parked);
 * with lfp_spsc_push_slow_'s withdrawal not notifying, withdraw_wakes. Both
 * modes. With lfp_spsc_wake_ discounting two waiters instead of the
 * fallback's one phantom, the one-waiter cases (seq_cst fallback). With
 * lfp_spsc_init not switching to the fallback when membarrier fails,
 * init_mode in the no-membarrier group. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <sched.h>
#include <time.h>

#include "lfpat.h"
#include "nomembarrier.h"
#include "parked.h"

#define V(i) ((void *)(uintptr_t)(i))
#define MAX_GOT 8

static lfp_spsc q;

struct popper {
    int rc;                 /* how the pops ended (EPIPE expected) */
    size_t n;               /* values received, in order */
    void *got[MAX_GOT];
    int64_t deadline, done;
};

/* Blocking pops until one fails; bounded by a deadline the test never
 * relies on. */
static void *consumer(void *arg)
{
    struct popper *p = arg;
    p->deadline = lfp_after(PARKED_BOUND_NS);
    void *v = NULL;
    while ((p->rc = lfp_spsc_pop(&q, &v, p->deadline, NULL)) == 0 && p->n < MAX_GOT)
        p->got[p->n++] = v;
    p->done = lfp_now();
    return NULL;
}

static void *closer(void *arg)
{
    (void)arg;
    lfp_spsc_close(&q);
    return NULL;
}

struct pusher {
    int rc;
    int64_t deadline, done;
};

static void *producer(void *arg)
{
    struct pusher *p = arg;
    p->deadline = lfp_after(PARKED_BOUND_NS);
    p->rc = lfp_spsc_push(&q, V(99), p->deadline, NULL);
    p->done = lfp_now();
    return NULL;
}

/* A fresh ring; state != NULL: the seq_cst fallback (white-box, as
 * stress/stress_spsc_close.c does for a kernel without membarrier). */
static void fresh(void **state, size_t capacity)
{
    assert_int_equal(lfp_spsc_init(&q, capacity), 0);
    if (*state)
        lfp_spsc_symmetric_(&q);
}

/* Join the closer within the bound. A closer that stays parked fails the
 * test; it is released (notify) first so that the test can tear down. */
static void join_closer(pthread_t t)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += PARKED_BOUND_NS / 1000000000;
    int rc = pthread_timedjoin_np(t, NULL, &ts);
    if (rc != 0) {
        /* unblock it for the teardown: mark no push announced, wake */
        atomic_store(&q.entered, atomic_load(&q.tail));
        lfp_ec_notify_all(&q.not_empty);
        pthread_join(t, NULL);
    }
    assert_int_equal(rc, 0);   /* ETIMEDOUT: close stayed parked */
}

static void assert_popped(const struct popper *p, size_t n)
{
    assert_int_equal(p->rc, EPIPE);
    assert_true(p->done < p->deadline);   /* returned only at its bound: a lost wake-up */
    assert_int_equal(p->n, n);
    for (size_t i = 0; i < n; i++)
        assert_ptr_equal(p->got[i], V(i + 1));
}

/* The held push read OPEN; close parks behind it. m items (a push_n batch
 * when m > 1). consumer_first: the consumer parks before close (on an open,
 * empty ring), else after (its tries find CLOSING and run settle). */
static void publish_wakes(void **state, size_t m, bool consumer_first)
{
    fresh(state, 4);
    struct popper p = { 0 };
    pthread_t tc, tx;
    if (consumer_first) {
        pthread_create(&tc, NULL, consumer, &p);
        wait_parked(&q.not_empty, 1, 1);
    }
    assert_int_equal(lfp_spsc_announce_(&q, 0), 0);   /* push held: it read OPEN */
    pthread_create(&tx, NULL, closer, NULL);
    if (consumer_first) {
        wait_parked(&q.not_empty, 2, 2);   /* closer parked beside the consumer */
    } else {
        wait_parked(&q.not_empty, 1, 1);   /* closer parked */
        pthread_create(&tc, NULL, consumer, &p);
        wait_parked(&q.not_empty, 2, 2);   /* consumer parked too (settle said no) */
    }
    for (size_t i = 0; i < m; i++)   /* the held push's stores, as push_n */
        q.slots[i & q.mask] = V(i + 1);
    lfp_spsc_publish_(&q, m);
    join_closer(tx);
    pthread_join(tc, NULL);
    assert_popped(&p, m);
    assert_int_equal(lfp_spsc_try_push(&q, V(9)), EPIPE);
    lfp_spsc_destroy(&q);
}

static void publish_one_consumer_first(void **state) { publish_wakes(state, 1, true); }
static void publish_one_consumer_after(void **state) { publish_wakes(state, 1, false); }
static void publish_batch_consumer_first(void **state) { publish_wakes(state, 3, true); }
static void publish_batch_consumer_after(void **state) { publish_wakes(state, 3, false); }

/* The held push announced position 0, then (after close) read CLOSING. */
static void withdraw_wakes(void **state)
{
    fresh(state, 4);
    struct popper p = { 0 };
    pthread_t tc, tx;
    pthread_create(&tc, NULL, consumer, &p);
    wait_parked(&q.not_empty, 1, 1);
    /* lfp_spsc_announce_'s store, its read of closed still to come.
     * seq_cst: the stronger of its two forms. */
    atomic_store_explicit(&q.entered, 1, memory_order_seq_cst);
    pthread_create(&tx, NULL, closer, NULL);
    wait_parked(&q.not_empty, 2, 2);   /* closer parked beside the consumer */
    /* seq_cst: the announcement's read of closed */
    uint32_t c = atomic_load(&q.closed);
    assert_int_equal(c & LFP_SPSC_STATE_, LFP_SPSC_CLOSING_);
    assert_int_equal(lfp_spsc_push_slow_(&q, 0, c), EPIPE);   /* the withdrawal */
    join_closer(tx);
    pthread_join(tc, NULL);
    assert_popped(&p, 0);
    lfp_spsc_destroy(&q);
}

/* A fresh ring of 2 holding V(1) and V(2), and a producer thread parked
 * on it (its push waits for room). */
static void park_producer_on_full_ring(void **state, struct pusher *w, pthread_t *tp)
{
    fresh(state, 2);
    assert_int_equal(lfp_spsc_try_push(&q, V(1)), 0);
    assert_int_equal(lfp_spsc_try_push(&q, V(2)), 0);   /* full */
    *w = (struct pusher){ 0 };
    pthread_create(tp, NULL, producer, w);
    wait_parked(&q.not_full, 1, 1);
}

/* A producer parked on a full ring; close wakes it with EPIPE and the
 * accepted items still drain. */
static void full_ring_close(void **state)
{
    struct pusher w;
    pthread_t tp;
    park_producer_on_full_ring(state, &w, &tp);
    lfp_spsc_close(&q);
    pthread_join(tp, NULL);
    assert_int_equal(w.rc, EPIPE);
    assert_true(w.done < w.deadline);
    void *v = NULL;
    assert_int_equal(lfp_spsc_try_pop(&q, &v), 0);
    assert_ptr_equal(v, V(1));
    assert_int_equal(lfp_spsc_try_pop(&q, &v), 0);
    assert_ptr_equal(v, V(2));
    assert_int_equal(lfp_spsc_try_pop(&q, &v), EPIPE);
    lfp_spsc_destroy(&q);
}

/* One parked consumer, woken by the notify of a try_push. */
static void push_wakes_lone_pop(void **state)
{
    fresh(state, 4);
    struct popper p = { 0 };
    pthread_t tc;
    pthread_create(&tc, NULL, consumer, &p);
    wait_parked(&q.not_empty, 1, 1);
    uint32_t e0 = atomic_load(&q.not_empty.epoch);
    assert_int_equal(lfp_spsc_try_push(&q, V(1)), 0);
    /* Only the push's notify moves the epoch; bounded, never relied on. */
    int64_t end = lfp_after(PARKED_BOUND_NS);
    while (atomic_load(&q.not_empty.epoch) == e0 && lfp_now() < end)
        sched_yield();
    assert_int_not_equal(atomic_load(&q.not_empty.epoch), e0);   /* else a lost wake-up */
    wait_parked(&q.not_empty, 1, 1);   /* it took the item and parked again */
    lfp_spsc_close(&q);
    pthread_join(tc, NULL);
    assert_popped(&p, 1);
    lfp_spsc_destroy(&q);
}

/* One parked producer on a full ring, woken by the notify of a try_pop. */
static void pop_wakes_lone_push(void **state)
{
    struct pusher w;
    pthread_t tp;
    park_producer_on_full_ring(state, &w, &tp);
    void *v = NULL;
    assert_int_equal(lfp_spsc_try_pop(&q, &v), 0);
    assert_ptr_equal(v, V(1));
    pthread_join(tp, NULL);
    assert_int_equal(w.rc, 0);
    assert_true(w.done < w.deadline);   /* returned only at its bound: a lost wake-up */
    assert_int_equal(lfp_spsc_try_pop(&q, &v), 0);
    assert_ptr_equal(v, V(2));
    assert_int_equal(lfp_spsc_try_pop(&q, &v), 0);
    assert_ptr_equal(v, V(99));
    lfp_spsc_destroy(&q);
}

/* lfp_spsc_init chose the mode of this process: asymmetric with membarrier,
 * else the fallback's words (lfp_spsc_symmetric_). In the no-membarrier
 * child the fallback is required (else the filter did not take). */
static bool want_fallback;

static void init_mode(void **state)
{
    (void)state;
    bool asym = lfp_heavy_barrier_ready_();
    assert_true(!want_fallback || !asym);
    assert_int_equal(lfp_spsc_init(&q, 4), 0);
    assert_int_equal(q.asym, asym);
    assert_int_equal(q.not_empty.asym, asym);
    assert_int_equal(q.not_full.asym, asym);
    assert_int_equal(atomic_load(&q.closed), asym ? LFP_SPSC_OPEN_ : LFP_SPSC_SYM_);
    assert_int_equal(atomic_load(&q.not_empty.waiters), asym ? 0 : 1);   /* the phantom */
    assert_int_equal(atomic_load(&q.not_full.waiters), asym ? 0 : 1);
    assert_false(lfp_spsc_closed(&q));
    lfp_spsc_destroy(&q);
}

/* The cases, listed once for both groups below. */
#define CLOSE_CASES(X)                                                                  \
    X(publish_one_consumer_first), X(publish_one_consumer_after),                       \
    X(publish_batch_consumer_first), X(publish_batch_consumer_after),                   \
    X(withdraw_wakes), X(full_ring_close),                                              \
    X(push_wakes_lone_pop), X(pop_wakes_lone_push)

/* Each case once, as lfp_spsc_init made the ring (state NULL): in the child
 * without membarrier, init's own fallback. */
#define INIT(fn) { #fn " (no membarrier: init's fallback)", fn, NULL, NULL, NULL }

static int nomembarrier_group(void)
{
    want_fallback = true;
    const struct CMUnitTest tests[] = { INIT(init_mode), CLOSE_CASES(INIT) };
    return cmocka_run_group_tests_name("spsc_close_nomembarrier", tests, NULL, NULL);
}

/* Each case twice: membarrier (state NULL), then the seq_cst fallback. */
#define BOTH(fn)                                                                        \
    { #fn " (membarrier)", fn, NULL, NULL, NULL },                                      \
    { #fn " (seq_cst fallback)", fn, NULL, NULL, (void *)1 }

int main(void)
{
    int rc = run_without_membarrier(nomembarrier_group);   /* before anything asks for it */
    const struct CMUnitTest tests[] = { cmocka_unit_test(init_mode), CLOSE_CASES(BOTH) };
    return cmocka_run_group_tests_name("spsc_close", tests, NULL, NULL) | rc;
}
