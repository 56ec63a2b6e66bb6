/* test_mpmc_lostwake.c — issue 14 item 1, the A/B/P1/P2 scenario, made
 * deterministic by holding P1 in its claim->publish window (the test calls
 * the header's internal lfp_mpmc_claim_push_ / lfp_mpmc_publish_ itself).
 * Waits are bounded (2 s pop deadline); the polls below only wait for
 * consumers to be parked, they do not order the protocol. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <sched.h>

#include "lfpat.h"

static lfp_mpmc q;
struct res { int rc; void *v; int64_t deadline, done; };

static void *consumer(void *arg)
{
    struct res *r = arg;
    r->deadline = lfp_after(2000000000);
    r->rc = lfp_mpmc_pop(&q, &r->v, r->deadline, NULL);
    r->done = lfp_now();
    return NULL;
}

static void wait_waiters(uint32_t n)
{
    int64_t end = lfp_after(2000000000);
    /* relaxed: a test-side snapshot of the parked count. */
    while (atomic_load_explicit(&q.not_empty.waiters, memory_order_relaxed) != n && lfp_now() < end)
        sched_yield();
}

static void a_b_p1_p2(void **state)
{
    (void)state;
    assert_int_equal(lfp_mpmc_init(&q, 4), 0);
    struct res a = { -1, 0, 0, 0 }, b = { -1, 0, 0, 0 };
    pthread_t ta, tb;
    pthread_create(&ta, NULL, consumer, &a);
    pthread_create(&tb, NULL, consumer, &b);
    wait_waiters(2);                       /* A and B parked */
    size_t p0 = 0;
    assert_int_equal(lfp_mpmc_claim_push_(&q, &p0), 0);   /* P1 claims 0, "preempted" */
    assert_int_equal(lfp_mpmc_try_push(&q, (void *)2), 0); /* P2 publishes 1, wakes one */
    /* the woken consumer sees cell 0 busy and parks again */
    int64_t end = lfp_after(100000000);
    while (lfp_now() < end)
        sched_yield();
    wait_waiters(2);
    lfp_mpmc_publish_(&q, p0, (void *)1);   /* P1 publishes 0, wakes one */
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    assert_int_equal(a.rc, 0);
    assert_int_equal(b.rc, 0);
    /* A timed-out pop makes one last try and would succeed: the lost wake-up
     * shows as a pop that returned only at its deadline. */
    assert_true(a.done < a.deadline);
    assert_true(b.done < b.deadline);
    assert_true((a.v == (void *)1 && b.v == (void *)2) || (a.v == (void *)2 && b.v == (void *)1));
    lfp_mpmc_destroy(&q);
}

int main(void)
{
    const struct CMUnitTest tests[] = { cmocka_unit_test(a_b_p1_p2) };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
