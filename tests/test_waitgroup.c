/* Unit tests: lfpat/waitgroup.h and its twin lfp_locked_waitgroup. Every
 * contract test runs against both through one table of operations. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <sched.h>

#include "lfpat.h"

typedef struct wg_ops {
    const char *name;
    int (*init)(void *);
    void (*destroy)(void *);
    int (*add)(void *, int64_t);
    int (*done)(void *);
    int64_t (*count)(void *);
    int (*wait)(void *, int64_t, lfp_cancel *);
    uint32_t (*parked)(void *);   /* threads parked with a token */
} wg_ops;

static int lf_init(void *w) { return lfp_waitgroup_init(w); }
static void lf_destroy(void *w) { lfp_waitgroup_destroy(w); }
static int lf_add(void *w, int64_t d) { return lfp_waitgroup_add(w, d); }
static int lf_done(void *w) { return lfp_waitgroup_done(w); }
static int64_t lf_count(void *w) { return lfp_waitgroup_count(w); }
static int lf_wait(void *w, int64_t d, lfp_cancel *c) { return lfp_waitgroup_wait(w, d, c); }
static uint32_t lf_parked(void *w) { return atomic_load(&((lfp_waitgroup *)w)->zero.waiters); }

static int lk_init(void *w) { return lfp_locked_waitgroup_init(w); }
static void lk_destroy(void *w) { lfp_locked_waitgroup_destroy(w); }
static int lk_add(void *w, int64_t d) { return lfp_locked_waitgroup_add(w, d); }
static int lk_done(void *w) { return lfp_locked_waitgroup_done(w); }
static int64_t lk_count(void *w) { return lfp_locked_waitgroup_count(w); }
static int lk_wait(void *w, int64_t d, lfp_cancel *c) { return lfp_locked_waitgroup_wait(w, d, c); }
static uint32_t lk_parked(void *w)
{
    return atomic_load(&((lfp_locked_waitgroup *)w)->sync.cancel_ec.waiters);
}

static const wg_ops impls[] = {
    { "lfp_waitgroup", lf_init, lf_destroy, lf_add, lf_done, lf_count, lf_wait, lf_parked },
    { "lfp_locked_waitgroup", lk_init, lk_destroy, lk_add, lk_done, lk_count, lk_wait, lk_parked },
};
#define FOR_EACH_IMPL for (const wg_ops *o = impls; o < impls + 2; o++)

/* Storage big enough for either type. */
typedef union { lfp_waitgroup a; lfp_locked_waitgroup b; } any_wg;

static void bad_input(void **state)
{
    (void)state;
    assert_int_equal(lfp_waitgroup_init(NULL), EINVAL);
    assert_int_equal(lfp_waitgroup_add(NULL, 1), EINVAL);
    assert_int_equal(lfp_waitgroup_done(NULL), EINVAL);
    assert_int_equal(lfp_waitgroup_wait(NULL, LFP_FOREVER, NULL), EINVAL);
    lfp_waitgroup_destroy(NULL);
    assert_int_equal(lfp_locked_waitgroup_init(NULL), EINVAL);
    assert_int_equal(lfp_locked_waitgroup_add(NULL, 1), EINVAL);
    assert_int_equal(lfp_locked_waitgroup_done(NULL), EINVAL);
    assert_int_equal(lfp_locked_waitgroup_wait(NULL, LFP_FOREVER, NULL), EINVAL);
    lfp_locked_waitgroup_destroy(NULL);
}

static void static_init(void **state)
{
    (void)state;
    static lfp_waitgroup wg = LFP_WAITGROUP_INIT;
    assert_int_equal(lfp_waitgroup_count(&wg), 0);
    assert_int_equal(lfp_waitgroup_wait(&wg, LFP_FOREVER, NULL), 0);
}

static void zero_returns_at_once(void **state)
{
    (void)state;
    FOR_EACH_IMPL {
        any_wg w;
        lfp_cancel fired = LFP_CANCEL_INIT;
        lfp_cancel_fire(&fired, 1);
        assert_int_equal(o->init(&w), 0);
        /* success is preferred over a passed deadline and a fired token */
        assert_int_equal(o->wait(&w, 0, &fired), 0);
        assert_int_equal(o->wait(&w, LFP_FOREVER, NULL), 0);
        o->destroy(&w);
    }
}

static void count_and_overflow(void **state)
{
    (void)state;
    FOR_EACH_IMPL {
        any_wg w;
        assert_int_equal(o->init(&w), 0);
        assert_int_equal(o->add(&w, 3), 0);
        assert_int_equal(o->count(&w), 3);
        assert_int_equal(o->add(&w, -4), EOVERFLOW);     /* below zero */
        assert_int_equal(o->count(&w), 3);               /* unchanged */
        assert_int_equal(o->add(&w, LFP_WAITGROUP_MAX), EOVERFLOW);
        assert_int_equal(o->add(&w, INT64_MAX), EOVERFLOW);
        assert_int_equal(o->add(&w, INT64_MIN), EOVERFLOW);
        assert_int_equal(o->count(&w), 3);
        assert_int_equal(o->add(&w, 0), 0);
        assert_int_equal(o->done(&w), 0);
        assert_int_equal(o->add(&w, -2), 0);
        assert_int_equal(o->count(&w), 0);
        assert_int_equal(o->done(&w), EOVERFLOW);        /* Go panics here */
        assert_int_equal(o->count(&w), 0);
        assert_int_equal(o->add(&w, LFP_WAITGROUP_MAX), 0);
        assert_int_equal(o->add(&w, 1), EOVERFLOW);
        assert_int_equal(o->add(&w, -LFP_WAITGROUP_MAX), 0);
        assert_int_equal(o->wait(&w, 0, NULL), 0);
        o->destroy(&w);
    }
}

static void timeout_and_cancel_when_outstanding(void **state)
{
    (void)state;
    FOR_EACH_IMPL {
        any_wg w;
        lfp_cancel fired = LFP_CANCEL_INIT, idle = LFP_CANCEL_INIT;
        lfp_cancel_fire(&fired, 5);
        assert_int_equal(o->init(&w), 0);
        assert_int_equal(o->add(&w, 1), 0);
        assert_int_equal(o->wait(&w, 0, NULL), ETIMEDOUT);
        assert_int_equal(o->wait(&w, lfp_after(2000000), NULL), ETIMEDOUT);
        assert_int_equal(o->wait(&w, lfp_after(2000000), &idle), ETIMEDOUT);
        assert_int_equal(o->wait(&w, LFP_FOREVER, &fired), ECANCELED);
        assert_int_equal(o->done(&w), 0);
        o->destroy(&w);
    }
}

struct waiter {
    const wg_ops *o;
    void *w;
    lfp_cancel *cancel;
    int rc;
};

static void *wait_thread(void *arg)
{
    struct waiter *t = arg;
    t->rc = t->o->wait(t->w, LFP_FOREVER, t->cancel);
    return NULL;
}

/* Start a waiter with a token and return once it is parked. */
static void start_parked_waiter(pthread_t *th, struct waiter *t)
{
    pthread_create(th, NULL, wait_thread, t);
    while (t->o->parked(t->w) == 0)
        sched_yield();
}

static void cancel_wakes_parked_waiter(void **state)
{
    (void)state;
    FOR_EACH_IMPL {
        any_wg w;
        lfp_cancel c = LFP_CANCEL_INIT;
        assert_int_equal(o->init(&w), 0);
        assert_int_equal(o->add(&w, 1), 0);
        struct waiter t = { o, &w, &c, -1 };
        pthread_t th;
        start_parked_waiter(&th, &t);
        lfp_cancel_fire(&c, 9);
        pthread_join(th, NULL);
        assert_int_equal(t.rc, ECANCELED);
        assert_int_equal(o->count(&w), 1);
        o->destroy(&w);
    }
}

/* A waiter parked in one phase returns for its end even if new work is
 * added before it runs again (Go calls this reuse a panic). */
static void reuse_does_not_strand_old_waiter(void **state)
{
    (void)state;
    FOR_EACH_IMPL {
        any_wg w;
        lfp_cancel c = LFP_CANCEL_INIT;
        assert_int_equal(o->init(&w), 0);
        assert_int_equal(o->add(&w, 1), 0);
        struct waiter t = { o, &w, &c, -1 };
        pthread_t th;
        start_parked_waiter(&th, &t);
        assert_int_equal(o->done(&w), 0);
        assert_int_equal(o->add(&w, 1), 0);   /* next phase at once */
        pthread_join(th, NULL);
        assert_int_equal(t.rc, 0);
        assert_int_equal(o->count(&w), 1);
        /* a wait that starts now waits for the new phase */
        assert_int_equal(o->wait(&w, 0, NULL), ETIMEDOUT);
        assert_int_equal(o->done(&w), 0);
        o->destroy(&w);
    }
}

struct task {
    const wg_ops *o;
    void *w;
    int *slot;
};

static void *task_thread(void *arg)
{
    struct task *t = arg;
    *t->slot = 1;            /* plain write, published by done */
    t->o->done(t->w);
    return NULL;
}

static void wait_sees_every_task(void **state)
{
    (void)state;
    enum { N = 8 };
    FOR_EACH_IMPL {
        any_wg w;
        int slots[N] = { 0 };
        struct task tasks[N];
        pthread_t th[N];
        assert_int_equal(o->init(&w), 0);
        assert_int_equal(o->add(&w, N), 0);
        for (int i = 0; i < N; i++) {
            tasks[i] = (struct task){ o, &w, &slots[i] };
            pthread_create(&th[i], NULL, task_thread, &tasks[i]);
        }
        assert_int_equal(o->wait(&w, LFP_FOREVER, NULL), 0);
        for (int i = 0; i < N; i++)
            assert_int_equal(slots[i], 1);
        for (int i = 0; i < N; i++)
            pthread_join(th[i], NULL);
        o->destroy(&w);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(bad_input),
        cmocka_unit_test(static_init),
        cmocka_unit_test(zero_returns_at_once),
        cmocka_unit_test(count_and_overflow),
        cmocka_unit_test(timeout_and_cancel_when_outstanding),
        cmocka_unit_test(cancel_wakes_parked_waiter),
        cmocka_unit_test(reuse_does_not_strand_old_waiter),
        cmocka_unit_test(wait_sees_every_task),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
