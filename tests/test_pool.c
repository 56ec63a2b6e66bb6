/* Unit tests: lfpat/pool.h (worker pool) and lfpat/mailbox.h (bounded actor
 * mailbox). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <sched.h>

#include "lfpat.h"

static void *square(void *arg)
{
    uintptr_t x = (uintptr_t)arg;
    return (void *)(x * x);
}

/* A task that blocks until its gate future is set. */
static void *gated(void *arg)
{
    lfp_future_get(arg, NULL, NULL, LFP_FOREVER, NULL);
    return arg;
}

static void pool_bad_input(void **state)
{
    (void)state;
    lfp_pool p;
    lfp_pool_task t;
    assert_int_equal(lfp_pool_init(NULL, 1, 4), EINVAL);
    assert_int_equal(lfp_pool_init(&p, 0, 4), EINVAL);
    assert_int_equal(lfp_pool_init(&p, LFP_POOL_MAX_THREADS + 1, 4), EINVAL);
    assert_int_equal(lfp_pool_init(&p, 1, 0), EINVAL);
    assert_int_equal(lfp_pool_task_init(NULL, square, NULL), EINVAL);
    assert_int_equal(lfp_pool_task_init(&t, NULL, NULL), EINVAL);
    assert_int_equal(lfp_pool_init(&p, 1, 4), 0);
    assert_int_equal(lfp_pool_try_submit(NULL, &t), EINVAL);
    assert_int_equal(lfp_pool_try_submit(&p, NULL), EINVAL);
    assert_int_equal(lfp_pool_submit(&p, NULL, 0, NULL), EINVAL);
    assert_int_equal(lfp_pool_task_wait(NULL, NULL, 0, NULL), EINVAL);
    assert_int_equal(lfp_pool_shutdown(NULL, 0, NULL), EINVAL);
    lfp_pool_destroy(&p);
    lfp_pool_destroy(NULL);
}

static void results_in_submission_order(void **state)
{
    (void)state;
    enum { N = 200 };
    lfp_pool p;
    static lfp_pool_task t[N];
    assert_int_equal(lfp_pool_init(&p, 3, 8), 0);
    for (uintptr_t i = 0; i < N; i++) {
        assert_int_equal(lfp_pool_task_init(&t[i], square, (void *)i), 0);
        assert_int_equal(lfp_pool_submit(&p, &t[i], LFP_FOREVER, NULL), 0);
    }
    for (uintptr_t i = 0; i < N; i++) {
        void *r = NULL;
        assert_int_equal(lfp_pool_task_wait(&t[i], &r, LFP_FOREVER, NULL), 0);
        assert_true((uintptr_t)r == i * i);
    }
    uint64_t not_run = 99;
    assert_int_equal(lfp_pool_shutdown(&p, LFP_FOREVER, &not_run), 0);
    assert_int_equal(not_run, 0);
    assert_int_equal(lfp_pool_ran(&p), N);
    lfp_pool_task late;
    lfp_pool_task_init(&late, square, NULL);
    assert_int_equal(lfp_pool_try_submit(&p, &late), EPIPE);      /* after shutdown */
    assert_int_equal(lfp_pool_submit(&p, &late, LFP_FOREVER, NULL), EPIPE);
    lfp_pool_destroy(&p);
}

/* One worker held by a gated task, a queue of 2: backpressure, then a
 * shutdown whose deadline passes discards the queued tasks and says so. */
static void backpressure_and_shutdown_deadline(void **state)
{
    (void)state;
    lfp_pool p;
    lfp_future gate;
    lfp_pool_task hold, q[2], extra;
    lfp_future_init(&gate);
    assert_int_equal(lfp_pool_init(&p, 1, 2), 0);
    lfp_pool_task_init(&hold, gated, &gate);
    assert_int_equal(lfp_pool_try_submit(&p, &hold), 0);
    while (lfp_mpmc_size(&p.queue) != 0)   /* wait until the worker took it */
        sched_yield();
    for (int i = 0; i < 2; i++) {
        lfp_pool_task_init(&q[i], square, (void *)(uintptr_t)3);
        assert_int_equal(lfp_pool_try_submit(&p, &q[i]), 0);
    }
    lfp_pool_task_init(&extra, square, NULL);
    assert_int_equal(lfp_pool_try_submit(&p, &extra), EAGAIN);             /* full */
    assert_int_equal(lfp_pool_submit(&p, &extra, lfp_after(1000000), NULL), ETIMEDOUT);
    lfp_cancel fired = LFP_CANCEL_INIT;
    lfp_cancel_fire(&fired, 1);
    assert_int_equal(lfp_pool_submit(&p, &extra, LFP_FOREVER, &fired), ECANCELED);
    assert_int_equal(lfp_pool_task_wait(&q[0], NULL, 0, NULL), ETIMEDOUT);   /* pending */
    uint64_t not_run = 0;
    assert_int_equal(lfp_pool_shutdown(&p, lfp_after(1000000), &not_run), ETIMEDOUT);
    assert_int_equal(not_run, 2);
    for (int i = 0; i < 2; i++)
        assert_int_equal(lfp_pool_task_wait(&q[i], NULL, LFP_FOREVER, NULL), EPIPE);
    lfp_future_set(&gate, NULL, 0);                 /* let the running task finish */
    void *r = NULL;
    assert_int_equal(lfp_pool_task_wait(&hold, &r, LFP_FOREVER, NULL), 0);
    assert_ptr_equal(r, &gate);
    lfp_pool_destroy(&p);
    assert_int_equal(lfp_pool_ran(&p), 1);
    assert_int_equal(lfp_pool_not_run(&p), 2);
}

struct msg {
    lfp_mpsc_node node;
    int v;
};

static void mailbox_bounded(void **state)
{
    (void)state;
    lfp_mailbox m;
    struct msg a = { .v = 1 }, b = { .v = 2 }, c = { .v = 3 };
    lfp_mpsc_node *n;
    assert_int_equal(lfp_mailbox_init(NULL, 2), EINVAL);
    assert_int_equal(lfp_mailbox_init(&m, 0), EINVAL);
    assert_int_equal(lfp_mailbox_init(&m, 2), 0);
    assert_int_equal(lfp_mailbox_try_send(NULL, &a.node), EINVAL);
    assert_int_equal(lfp_mailbox_try_send(&m, NULL), EINVAL);
    assert_int_equal(lfp_mailbox_try_recv(&m, &n), EAGAIN);
    assert_int_equal(lfp_mailbox_try_send(&m, &a.node), 0);
    assert_int_equal(lfp_mailbox_try_send(&m, &b.node), 0);
    assert_int_equal(lfp_mailbox_try_send(&m, &c.node), EAGAIN);   /* full */
    assert_int_equal(lfp_mailbox_size(&m), 2);
    assert_int_equal(lfp_mailbox_recv(&m, &n, 0, NULL), 0);
    assert_int_equal(((struct msg *)n)->v, 1);                      /* FIFO */
    assert_int_equal(lfp_mailbox_try_send(&m, &c.node), 0);         /* room again */
    lfp_mailbox_close(&m);
    assert_int_equal(lfp_mailbox_try_send(&m, &a.node), EPIPE);
    assert_int_equal(lfp_mailbox_size(&m), 2);                      /* refused send gave back */
    assert_int_equal(lfp_mailbox_try_recv(&m, &n), 0);
    assert_int_equal(((struct msg *)n)->v, 2);
    assert_int_equal(lfp_mailbox_recv(&m, &n, LFP_FOREVER, NULL), 0);
    assert_int_equal(((struct msg *)n)->v, 3);
    assert_int_equal(lfp_mailbox_recv(&m, &n, LFP_FOREVER, NULL), EPIPE);
    assert_int_equal(lfp_mailbox_recv(&m, &n, 0, NULL), EPIPE);
    lfp_mailbox_destroy(&m);
    lfp_mailbox_destroy(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(pool_bad_input),
        cmocka_unit_test(results_in_submission_order),
        cmocka_unit_test(backpressure_and_shutdown_deadline),
        cmocka_unit_test(mailbox_bounded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
