/* SPDX-License-Identifier: BSD-2-Clause */
/* test_mpmc_lostwake.c — issue 14 item 1: no blocking pop or push stays
 * parked beside a published item or a free cell. Both scenarios are made
 * deterministic by holding one operation in its claim->publish (or
 * claim->release) window: the test calls the header's internal
 * lfp_mpmc_claim_push_ / lfp_mpmc_publish_ (lfp_mpmc_claim_pop_ /
 * lfp_mpmc_release_) itself.
 *
 * pop side: consumers A and B parked on an empty queue; producer P1 claims
 * position 0 and is held; P2 publishes position 1 and wakes one of them,
 * which finds cell[0] busy and parks again; P1 publishes and wakes one, who
 * takes item 0. Item 1 is then in the queue: the other must not stay parked.
 * push side (the mirror): producers A and B parked on a full queue; consumer
 * C1 claims the head and is held; C2 takes the next cell and wakes one, who
 * finds cell[tail] still held by C1 and parks again; C1 releases and wakes
 * one, who pushes. A cell is then free: the other must not stay parked.
 * pool: the pop side with lfp_pool's workers as the consumers.
 * EPIPE pass-on (close path): consumers A and B parked behind a push held
 * between claim and publish, the queue closed meanwhile (close's wake-all
 * finds cell 0 still busy, both park again); the push stores seq and is
 * preempted before its notify; a fast try_pop takes the item; the push's
 * notify wakes one, who finds the queue closed and drained (EPIPE). The
 * queue is now closed and drained for the other too: it must not stay
 * parked (fails with pop_wait_ passing on only after a value).
 * Before the pass-on rule (src/mpmc.c, try_pop_op / try_push_op) each ends
 * with a waiter returning only at its deadline (all three fail on
 * 19c21ca~1:src/mpmc.c).
 *
 * "Parked" is read from the kernel, not guessed with a pause (tests/parked.h).
 * Waits are bounded (5 s deadlines, 5 s polls); the test never relies on
 * them to pass. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>

#include "lfpat.h"
#include "parked.h"

#define BOUND_NS PARKED_BOUND_NS

static lfp_mpmc q;
struct res {
    int rc;
    void *v;
    int64_t deadline, done;
};

static void *consumer(void *arg)
{
    struct res *r = arg;
    r->deadline = lfp_after(BOUND_NS);
    r->rc = lfp_mpmc_pop(&q, &r->v, r->deadline, NULL);
    r->done = lfp_now();
    return NULL;
}

static void *producer(void *arg)
{
    struct res *r = arg;
    r->deadline = lfp_after(BOUND_NS);
    r->rc = lfp_mpmc_push(&q, r->v, r->deadline, NULL);
    r->done = lfp_now();
    return NULL;
}

/* Neither returned at its deadline: a lost wake-up shows as a call that
 * returned only then (its last try at the deadline succeeds). */
static void assert_woken(const struct res *a, const struct res *b)
{
    assert_int_equal(a->rc, 0);
    assert_int_equal(b->rc, 0);
    assert_true(a->done < a->deadline);
    assert_true(b->done < b->deadline);
}

static void pop_side(void **state)
{
    (void)state;
    assert_int_equal(lfp_mpmc_init(&q, 4), 0);
    struct res a = { 0 }, b = { 0 };
    pthread_t ta, tb;
    pthread_create(&ta, NULL, consumer, &a);
    pthread_create(&tb, NULL, consumer, &b);
    wait_parked(&q.not_empty, 2, 2);                /* A and B parked */
    size_t p0 = 0;
    assert_int_equal(lfp_mpmc_claim_push_(&q, &p0), 0);   /* P1 claims 0, held */
    assert_int_equal(lfp_mpmc_try_push(&q, (void *)2), 0); /* P2 publishes 1, wakes one */
    wait_parked(&q.not_empty, 2, 1);   /* the woken one saw cell 0 busy, parked again */
    lfp_mpmc_publish_(&q, p0, (void *)1);   /* P1 publishes 0, wakes one */
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    assert_woken(&a, &b);
    assert_true((a.v == (void *)1 && b.v == (void *)2) || (a.v == (void *)2 && b.v == (void *)1));
    lfp_mpmc_destroy(&q);
}

static void push_side(void **state)
{
    (void)state;
    assert_int_equal(lfp_mpmc_init(&q, 2), 0);
    assert_int_equal(lfp_mpmc_try_push(&q, (void *)1), 0);
    assert_int_equal(lfp_mpmc_try_push(&q, (void *)2), 0);   /* full */
    struct res a = { .v = (void *)3 }, b = { .v = (void *)4 };
    pthread_t ta, tb;
    pthread_create(&ta, NULL, producer, &a);
    pthread_create(&tb, NULL, producer, &b);
    wait_parked(&q.not_full, 2, 2);                 /* A and B parked */
    size_t h0 = 0;
    void *v = NULL;
    assert_int_equal(lfp_mpmc_claim_pop_(&q, &h0), 0);    /* C1 claims the head, held */
    assert_int_equal(lfp_mpmc_try_pop(&q, &v), 0);        /* C2 frees cell 1, wakes one */
    assert_ptr_equal(v, (void *)2);
    wait_parked(&q.not_full, 2, 1);   /* the woken one saw cell[tail] busy, parked again */
    assert_ptr_equal(lfp_mpmc_release_(&q, h0), (void *)1);   /* C1 frees cell 0, wakes one */
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    assert_woken(&a, &b);
    void *x = NULL, *y = NULL;
    assert_int_equal(lfp_mpmc_try_pop(&q, &x), 0);
    assert_int_equal(lfp_mpmc_try_pop(&q, &y), 0);
    assert_true((x == (void *)3 && y == (void *)4) || (x == (void *)4 && y == (void *)3));
    lfp_mpmc_destroy(&q);
}

/* lfp_pool inherits the queue: two idle workers; a submit is held between
 * claim and publish while a second one is published (its wake goes to a
 * worker that finds the held cell busy and parks again); then the held
 * task is published and wakes one worker. That task waits for the other
 * one, so the other worker must not idle beside it. */
static lfp_pool_task second;

static void *first_fn(void *arg)
{
    (void)arg;
    void *r = NULL;
    int rc = lfp_pool_task_wait(&second, &r, lfp_after(BOUND_NS), NULL);
    return (void *)(intptr_t)(rc == 0 ? 1 : 2);
}

static void *second_fn(void *arg) { return arg; }

static void pool_workers(void **state)
{
    (void)state;
    lfp_pool p;
    lfp_pool_task first;
    assert_int_equal(lfp_pool_init(&p, 2, 4), 0);
    assert_int_equal(lfp_pool_task_init(&first, first_fn, NULL), 0);
    assert_int_equal(lfp_pool_task_init(&second, second_fn, (void *)7), 0);
    wait_parked(&p.queue.not_empty, 2, 2);                  /* both workers idle */
    size_t p0 = 0;
    assert_int_equal(lfp_mpmc_claim_push_(&p.queue, &p0), 0);   /* submit of first, held */
    assert_int_equal(lfp_pool_try_submit(&p, &second), 0);     /* wakes one worker */
    wait_parked(&p.queue.not_empty, 2, 1);   /* it saw the held cell busy, parked again */
    lfp_mpmc_publish_(&p.queue, p0, &first);
    void *r = NULL;
    assert_int_equal(lfp_pool_task_wait(&first, &r, lfp_after(2 * BOUND_NS), NULL), 0);
    assert_ptr_equal(r, (void *)1);   /* 2: second sat queued beside an idle worker */
    assert_int_equal(lfp_pool_task_wait(&second, &r, LFP_FOREVER, NULL), 0);
    assert_ptr_equal(r, (void *)7);
    lfp_pool_destroy(&p);
}

static void pop_side_epipe(void **state)
{
    (void)state;
    assert_int_equal(lfp_mpmc_init(&q, 4), 0);
    size_t p0 = 0;
    assert_int_equal(lfp_mpmc_claim_push_(&q, &p0), 0);   /* P claims 0, held */
    struct res a = { 0 }, b = { 0 };
    pthread_t ta, tb;
    pthread_create(&ta, NULL, consumer, &a);
    pthread_create(&tb, NULL, consumer, &b);
    wait_parked(&q.not_empty, 2, 2);   /* A and B parked behind the busy cell 0 */
    lfp_mpmc_close(&q);                /* wakes both; cell 0 still busy */
    wait_parked(&q.not_empty, 2, 2);   /* both parked again, after the close */
    /* P's publish (lfp_mpmc_publish_), preempted between its store of seq
     * and its notify. release: as in publish_. */
    q.cells[p0 & q.mask].value = (void *)1;
    atomic_store_explicit(&q.cells[p0 & q.mask].seq, p0 + 1, memory_order_release);
    void *v = NULL;
    assert_int_equal(lfp_mpmc_try_pop(&q, &v), 0);   /* a fast pop takes item 0 */
    assert_ptr_equal(v, (void *)1);
    lfp_ec_notify_asym_(&q.not_empty, 1);   /* P's notify: wakes one, who gets EPIPE */
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    assert_int_equal(a.rc, EPIPE);
    assert_int_equal(b.rc, EPIPE);
    assert_true(a.done < a.deadline);   /* returned at its deadline: a lost wake-up */
    assert_true(b.done < b.deadline);
    lfp_mpmc_destroy(&q);
}

int main(void)
{
    const struct CMUnitTest tests[] = { cmocka_unit_test(pop_side), cmocka_unit_test(push_side),
                                        cmocka_unit_test(pool_workers),
                                        cmocka_unit_test(pop_side_epipe) };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
