/* SPDX-License-Identifier: BSD-2-Clause */
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

/* The table's adapters for the implementation whose functions are named
 * P_init, P_add, ... (tag_parked is written out: it reads each type's own
 * waiter count). */
#define WG_ADAPTERS(tag, P)                                                                    \
    static int tag##_init(void *w) { return P##_init(w); }                                     \
    static void tag##_destroy(void *w) { P##_destroy(w); }                                     \
    static int tag##_add(void *w, int64_t d) { return P##_add(w, d); }                         \
    static int tag##_done(void *w) { return P##_done(w); }                                     \
    static int64_t tag##_count(void *w) { return P##_count(w); }                               \
    static int tag##_wait(void *w, int64_t d, lfp_cancel *c) { return P##_wait(w, d, c); }
#define WG_OPS(tag, P)                                                                         \
    { #P, tag##_init, tag##_destroy, tag##_add, tag##_done, tag##_count, tag##_wait, tag##_parked }

WG_ADAPTERS(lf, lfp_waitgroup)
WG_ADAPTERS(lk, lfp_locked_waitgroup)
static uint32_t lf_parked(void *w) { return atomic_load(&((lfp_waitgroup *)w)->zero.waiters); }
static uint32_t lk_parked(void *w)
{
    return atomic_load(&((lfp_locked_waitgroup *)w)->sync.cancel_ec.waiters);
}

static const wg_ops impls[] = { WG_OPS(lf, lfp_waitgroup), WG_OPS(lk, lfp_locked_waitgroup) };
#define FOR_EACH_IMPL for (const wg_ops *o = impls; o < impls + 2; o++)

/* Storage big enough for either type. */
typedef union { lfp_waitgroup a; lfp_locked_waitgroup b; } any_wg;

static void bad_input(void **state)
{
    (void)state;
    FOR_EACH_IMPL {
        assert_int_equal(o->init(NULL), EINVAL);
        assert_int_equal(o->add(NULL, 1), EINVAL);
        assert_int_equal(o->done(NULL), EINVAL);
        assert_int_equal(o->wait(NULL, LFP_FOREVER, NULL), EINVAL);
        o->destroy(NULL);
    }
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

/* A group with one outstanding task and a thread waiting on it with a
 * token. */
struct parked {
    const wg_ops *o;
    any_wg w;
    lfp_cancel cancel;
    pthread_t th;
    int rc;       /* the wait's result, once th is joined */
};

static void *wait_thread(void *arg)
{
    struct parked *p = arg;
    p->rc = p->o->wait(&p->w, LFP_FOREVER, &p->cancel);
    return NULL;
}

/* Set up *p and return once its waiter is parked. */
static void start_parked_waiter(struct parked *p, const wg_ops *o)
{
    *p = (struct parked){ .o = o, .cancel = LFP_CANCEL_INIT, .rc = -1 };
    assert_int_equal(o->init(&p->w), 0);
    assert_int_equal(o->add(&p->w, 1), 0);
    pthread_create(&p->th, NULL, wait_thread, p);
    while (o->parked(&p->w) == 0)
        sched_yield();
}

static void cancel_wakes_parked_waiter(void **state)
{
    (void)state;
    FOR_EACH_IMPL {
        struct parked p;
        start_parked_waiter(&p, o);
        lfp_cancel_fire(&p.cancel, 9);
        pthread_join(p.th, NULL);
        assert_int_equal(p.rc, ECANCELED);
        assert_int_equal(o->count(&p.w), 1);
        o->destroy(&p.w);
    }
}

/* A waiter parked in one phase returns for its end even if new work is
 * added before it runs again (Go calls this reuse a panic). */
static void reuse_does_not_strand_old_waiter(void **state)
{
    (void)state;
    FOR_EACH_IMPL {
        struct parked p;
        start_parked_waiter(&p, o);
        assert_int_equal(o->done(&p.w), 0);
        assert_int_equal(o->add(&p.w, 1), 0);   /* next phase at once */
        pthread_join(p.th, NULL);
        assert_int_equal(p.rc, 0);
        assert_int_equal(o->count(&p.w), 1);
        /* a wait that starts now waits for the new phase */
        assert_int_equal(o->wait(&p.w, 0, NULL), ETIMEDOUT);
        assert_int_equal(o->done(&p.w), 0);
        o->destroy(&p.w);
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
