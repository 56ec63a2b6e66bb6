/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit tests: lfpat/pool.h (worker pool) and its twin lfp_locked_pool, one
 * table of operations for both; lfpat/mailbox.h (bounded actor mailbox). */
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

/* lfp_pool and its twin lfp_locked_pool behind one table. */
typedef struct pool_ops {
    int (*init)(void *p, unsigned threads, size_t capacity);
    void (*destroy)(void *p);
    int (*task_init)(void *t, lfp_pool_fn fn, void *arg);
    void (*task_destroy)(void *t);
    int (*try_submit)(void *p, void *t);
    int (*submit)(void *p, void *t, int64_t deadline, lfp_cancel *c);
    int (*task_wait)(void *t, void **result, int64_t deadline, lfp_cancel *c);
    int (*shutdown)(void *p, int64_t deadline, uint64_t *not_run);
    uint64_t (*ran)(void *p);
    uint64_t (*not_run)(void *p);
    size_t (*queued)(void *p);
} pool_ops;

static int lf_init(void *p, unsigned n, size_t c) { return lfp_pool_init(p, n, c); }
static void lf_destroy(void *p) { lfp_pool_destroy(p); }
static int lf_task_init(void *t, lfp_pool_fn fn, void *arg) { return lfp_pool_task_init(t, fn, arg); }
static void lf_task_destroy(void *t) { lfp_pool_task_destroy(t); }
static int lf_try_submit(void *p, void *t) { return lfp_pool_try_submit(p, t); }
static int lf_submit(void *p, void *t, int64_t d, lfp_cancel *c) { return lfp_pool_submit(p, t, d, c); }
static int lf_wait(void *t, void **r, int64_t d, lfp_cancel *c) { return lfp_pool_task_wait(t, r, d, c); }
static int lf_shutdown(void *p, int64_t d, uint64_t *nr) { return lfp_pool_shutdown(p, d, nr); }
static uint64_t lf_ran(void *p) { return lfp_pool_ran(p); }
static uint64_t lf_not_run(void *p) { return lfp_pool_not_run(p); }
static size_t lf_queued(void *p) { return lfp_mpmc_size(&((lfp_pool *)p)->queue); }

static int lk_init(void *p, unsigned n, size_t c) { return lfp_locked_pool_init(p, n, c); }
static void lk_destroy(void *p) { lfp_locked_pool_destroy(p); }
static int lk_task_init(void *t, lfp_pool_fn fn, void *arg)
{
    return lfp_locked_pool_task_init(t, fn, arg);
}
static void lk_task_destroy(void *t) { lfp_locked_pool_task_destroy(t); }
static int lk_try_submit(void *p, void *t) { return lfp_locked_pool_try_submit(p, t); }
static int lk_submit(void *p, void *t, int64_t d, lfp_cancel *c)
{
    return lfp_locked_pool_submit(p, t, d, c);
}
static int lk_wait(void *t, void **r, int64_t d, lfp_cancel *c)
{
    return lfp_locked_pool_task_wait(t, r, d, c);
}
static int lk_shutdown(void *p, int64_t d, uint64_t *nr) { return lfp_locked_pool_shutdown(p, d, nr); }
static uint64_t lk_ran(void *p) { return lfp_locked_pool_ran(p); }
static uint64_t lk_not_run(void *p) { return lfp_locked_pool_not_run(p); }
static size_t lk_queued(void *p) { return lfp_locked_queue_size(&((lfp_locked_pool *)p)->queue); }

static const pool_ops impls[] = {
    { lf_init, lf_destroy, lf_task_init, lf_task_destroy, lf_try_submit, lf_submit, lf_wait,
      lf_shutdown, lf_ran, lf_not_run, lf_queued },
    { lk_init, lk_destroy, lk_task_init, lk_task_destroy, lk_try_submit, lk_submit, lk_wait,
      lk_shutdown, lk_ran, lk_not_run, lk_queued },
};
#define FOR_EACH_IMPL for (const pool_ops *o = impls; o < impls + 2; o++)

typedef union { lfp_pool a; lfp_locked_pool b; } any_pool;
typedef union { lfp_pool_task a; lfp_locked_pool_task b; } any_task;

static void pool_bad_input(void **state)
{
    (void)state;
    FOR_EACH_IMPL {
        any_pool p;
        any_task t;
        assert_int_equal(o->init(NULL, 1, 4), EINVAL);
        assert_int_equal(o->init(&p, 0, 4), EINVAL);
        assert_int_equal(o->init(&p, LFP_POOL_MAX_THREADS + 1, 4), EINVAL);
        assert_int_equal(o->init(&p, 1, 0), EINVAL);
        assert_int_equal(o->task_init(NULL, square, NULL), EINVAL);
        assert_int_equal(o->task_init(&t, NULL, NULL), EINVAL);
        assert_int_equal(o->init(&p, 1, 4), 0);
        assert_int_equal(o->try_submit(NULL, &t), EINVAL);
        assert_int_equal(o->try_submit(&p, NULL), EINVAL);
        assert_int_equal(o->submit(&p, NULL, 0, NULL), EINVAL);
        assert_int_equal(o->task_wait(NULL, NULL, 0, NULL), EINVAL);
        assert_int_equal(o->shutdown(NULL, 0, NULL), EINVAL);
        o->destroy(&p);
        o->destroy(NULL);
        o->task_destroy(NULL);
    }
}

static void results_in_submission_order(void **state)
{
    (void)state;
    enum { N = 200 };
    static any_task t[N];
    FOR_EACH_IMPL {
        any_pool p;
        assert_int_equal(o->init(&p, 3, 8), 0);
        for (uintptr_t i = 0; i < N; i++) {
            assert_int_equal(o->task_init(&t[i], square, (void *)i), 0);
            assert_int_equal(o->submit(&p, &t[i], LFP_FOREVER, NULL), 0);
        }
        for (uintptr_t i = 0; i < N; i++) {
            void *r = NULL;
            assert_int_equal(o->task_wait(&t[i], &r, LFP_FOREVER, NULL), 0);
            assert_true((uintptr_t)r == i * i);
            o->task_destroy(&t[i]);
        }
        uint64_t not_run = 99;
        assert_int_equal(o->shutdown(&p, LFP_FOREVER, &not_run), 0);
        assert_int_equal(not_run, 0);
        assert_int_equal(o->ran(&p), N);
        any_task late;
        o->task_init(&late, square, NULL);
        assert_int_equal(o->try_submit(&p, &late), EPIPE);      /* after shutdown */
        assert_int_equal(o->submit(&p, &late, LFP_FOREVER, NULL), EPIPE);
        o->task_destroy(&late);
        o->destroy(&p);
    }
}

/* One worker held by a gated task, a queue of 2: backpressure, then a
 * shutdown whose deadline passes discards the queued tasks and says so. */
static void backpressure_and_shutdown_deadline(void **state)
{
    (void)state;
    FOR_EACH_IMPL {
        any_pool p;
        lfp_future gate;
        any_task hold, q[2], extra;
        lfp_future_init(&gate);
        assert_int_equal(o->init(&p, 1, 2), 0);
        o->task_init(&hold, gated, &gate);
        assert_int_equal(o->try_submit(&p, &hold), 0);
        while (o->queued(&p) != 0)   /* wait until the worker took it */
            sched_yield();
        for (int i = 0; i < 2; i++) {
            o->task_init(&q[i], square, (void *)(uintptr_t)3);
            assert_int_equal(o->try_submit(&p, &q[i]), 0);
        }
        o->task_init(&extra, square, NULL);
        assert_int_equal(o->try_submit(&p, &extra), EAGAIN);             /* full */
        assert_int_equal(o->submit(&p, &extra, lfp_after(1000000), NULL), ETIMEDOUT);
        lfp_cancel fired = LFP_CANCEL_INIT;
        lfp_cancel_fire(&fired, 1);
        assert_int_equal(o->submit(&p, &extra, LFP_FOREVER, &fired), ECANCELED);
        assert_int_equal(o->task_wait(&q[0], NULL, 0, NULL), ETIMEDOUT);   /* pending */
        uint64_t not_run = 0;
        assert_int_equal(o->shutdown(&p, lfp_after(1000000), &not_run), ETIMEDOUT);
        assert_int_equal(not_run, 2);
        for (int i = 0; i < 2; i++)
            assert_int_equal(o->task_wait(&q[i], NULL, LFP_FOREVER, NULL), EPIPE);
        lfp_future_set(&gate, NULL, 0);                 /* let the running task finish */
        void *r = NULL;
        assert_int_equal(o->task_wait(&hold, &r, LFP_FOREVER, NULL), 0);
        assert_ptr_equal(r, &gate);
        assert_int_equal(o->shutdown(&p, LFP_FOREVER, &not_run), 0);    /* again: drained */
        assert_int_equal(not_run, 0);
        assert_int_equal(o->ran(&p), 1);
        assert_int_equal(o->not_run(&p), 2);
        o->destroy(&p);
        o->task_destroy(&hold);
        o->task_destroy(&extra);
        for (int i = 0; i < 2; i++)
            o->task_destroy(&q[i]);
    }
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
