/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit tests: lfpat/once.h and its twin lfp_locked_once, over one table of
 * implementations. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>

#include "lfpat.h"

typedef int (*once_fn)(void *);

struct once_impl {
    const char *name;
    size_t size;
    void (*init)(void *);
    int (*call)(void *, once_fn, void *);
    int (*call_retry)(void *, once_fn, void *);
    bool (*done)(void *);
    void (*destroy)(void *);
};

static void o_init(void *o) { lfp_once_init(o); }
static int o_call(void *o, once_fn f, void *a) { return lfp_once_call(o, f, a); }
static int o_retry(void *o, once_fn f, void *a) { return lfp_once_call_retry(o, f, a); }
static bool o_done(void *o) { return lfp_once_done(o); }
static void o_destroy(void *o) { lfp_once_destroy(o); }

static void l_init(void *o) { assert_int_equal(lfp_locked_once_init(o), 0); }
static int l_call(void *o, once_fn f, void *a) { return lfp_locked_once_call(o, f, a); }
static int l_retry(void *o, once_fn f, void *a) { return lfp_locked_once_call_retry(o, f, a); }
static bool l_done(void *o) { return lfp_locked_once_done(o); }
static void l_destroy(void *o) { lfp_locked_once_destroy(o); }

static const struct once_impl impls[] = {
    { "lfp_once", sizeof(lfp_once), o_init, o_call, o_retry, o_done, o_destroy },
    { "lfp_locked_once", sizeof(lfp_locked_once), l_init, l_call, l_retry, l_done, l_destroy },
};
#define NIMPL (sizeof impls / sizeof impls[0])

static void *once_new(const struct once_impl *im)
{
    void *o = calloc(1, im->size);
    assert_non_null(o);
    im->init(o);
    return o;
}

static void once_free(const struct once_impl *im, void *o)
{
    im->destroy(o);
    free(o);
}

/* fn: counts its runs and returns the value stored in `ret`. */
struct counted {
    _Atomic int runs;
    int ret;
};

static int counted_fn(void *arg)
{
    struct counted *c = arg;
    atomic_fetch_add(&c->runs, 1);
    return c->ret;
}

static void once_static_initialisers(void **state)
{
    (void)state;
    static lfp_once o = LFP_ONCE_INIT;
    static lfp_locked_once l = LFP_LOCKED_ONCE_INIT;
    struct counted c = { 0, 3 };
    assert_false(lfp_once_done(&o));
    assert_int_equal(lfp_once_call(&o, counted_fn, &c), 3);
    assert_true(lfp_once_done(&o));
    assert_false(lfp_locked_once_done(&l));
    assert_int_equal(lfp_locked_once_call(&l, counted_fn, &c), 3);
    assert_true(lfp_locked_once_done(&l));
    assert_int_equal(atomic_load(&c.runs), 2);
}

static void once_bad_input(void **state)
{
    (void)state;
    for (size_t i = 0; i < NIMPL; i++) {
        const struct once_impl *im = &impls[i];
        void *o = once_new(im);
        struct counted c = { 0, 0 };
        assert_int_equal(im->call(NULL, counted_fn, &c), EINVAL);
        assert_int_equal(im->call(o, NULL, &c), EINVAL);
        assert_int_equal(im->call_retry(NULL, counted_fn, &c), EINVAL);
        assert_int_equal(im->call_retry(o, NULL, &c), EINVAL);
        assert_false(im->done(NULL));
        assert_false(im->done(o));          /* bad calls ran nothing */
        assert_int_equal(atomic_load(&c.runs), 0);
        im->destroy(NULL);                   /* ignored */
        once_free(im, o);
    }
    assert_int_equal(lfp_locked_once_init(NULL), EINVAL);
}

static void once_runs_exactly_once_and_result_is_sticky(void **state)
{
    (void)state;
    for (size_t i = 0; i < NIMPL; i++) {
        const struct once_impl *im = &impls[i];
        for (int ret = 0; ret <= 5; ret += 5) {   /* success, then a sticky error */
            void *o = once_new(im);
            struct counted c = { 0, ret }, other = { 0, 99 };
            assert_int_equal(im->call(o, counted_fn, &c), ret);
            assert_true(im->done(o));
            assert_int_equal(im->call(o, counted_fn, &other), ret);
            assert_int_equal(im->call_retry(o, counted_fn, &other), ret);   /* sticky for both */
            assert_int_equal(atomic_load(&c.runs), 1);
            assert_int_equal(atomic_load(&other.runs), 0);
            once_free(im, o);
        }
    }
}

static void once_retry_after_failure(void **state)
{
    (void)state;
    for (size_t i = 0; i < NIMPL; i++) {
        const struct once_impl *im = &impls[i];
        void *o = once_new(im);
        struct counted fail = { 0, ENOENT }, ok = { 0, 0 };
        assert_int_equal(im->call_retry(o, counted_fn, &fail), ENOENT);
        assert_false(im->done(o));
        assert_int_equal(im->call_retry(o, counted_fn, &fail), ENOENT);
        assert_false(im->done(o));
        assert_int_equal(im->call_retry(o, counted_fn, &ok), 0);
        assert_true(im->done(o));
        assert_int_equal(im->call_retry(o, counted_fn, &fail), 0);
        assert_int_equal(im->call(o, counted_fn, &fail), 0);
        assert_int_equal(atomic_load(&fail.runs), 2);
        assert_int_equal(atomic_load(&ok.runs), 1);
        once_free(im, o);
    }
}

static void once_init_resets_a_quiescent_object(void **state)
{
    (void)state;
    for (size_t i = 0; i < NIMPL; i++) {
        const struct once_impl *im = &impls[i];
        void *o = once_new(im);
        struct counted c = { 0, 1 };
        assert_int_equal(im->call(o, counted_fn, &c), 1);
        im->destroy(o);
        im->init(o);
        assert_false(im->done(o));
        assert_int_equal(im->call(o, counted_fn, &c), 1);
        assert_int_equal(atomic_load(&c.runs), 2);
        once_free(im, o);
    }
}

/* ---------------------------------------------------------- concurrency */

/* fn that holds every caller until the test opens the gate; it checks that
 * no two runs overlap and counts runs. Fails (returns EIO) until
 * `fail_first` runs have happened. */
struct gated {
    _Atomic int entered, gate, running, runs, overlaps;
    int fail_first;
    int data;   /* plain: written by fn, read by callers after return */
};

static int gated_fn(void *arg)
{
    struct gated *g = arg;
    if (atomic_fetch_add(&g->running, 1) != 0)
        atomic_fetch_add(&g->overlaps, 1);
    atomic_fetch_add(&g->entered, 1);
    while (!atomic_load(&g->gate))
        sched_yield();
    int run = atomic_fetch_add(&g->runs, 1);
    g->data = 1234;
    atomic_fetch_sub(&g->running, 1);
    return run < g->fail_first ? EIO : 0;
}

struct caller {
    const struct once_impl *im;
    void *o;
    struct gated *g;
    bool retry;
    int rc, data;
    pthread_t tid;
};

static void *caller_main(void *p)
{
    struct caller *c = p;
    c->rc = c->retry ? c->im->call_retry(c->o, gated_fn, c->g) : c->im->call(c->o, gated_fn, c->g);
    if (c->rc == 0)
        c->data = c->g->data;   /* fn's plain write must be visible (TSan checks) */
    return NULL;
}

static void run_callers(const struct once_impl *im, bool retry, int fail_first, int nthreads)
{
    void *o = once_new(im);
    struct gated g = { .fail_first = fail_first };
    struct caller c[8];
    for (int k = 0; k < nthreads; k++) {
        c[k] = (struct caller){ .im = im, .o = o, .g = &g, .retry = retry };
        assert_int_equal(pthread_create(&c[k].tid, NULL, caller_main, &c[k]), 0);
    }
    while (atomic_load(&g.entered) == 0)   /* one runner is inside fn */
        sched_yield();
    assert_false(im->done(o));
    atomic_store(&g.gate, 1);
    int ok = 0, failed = 0;
    for (int k = 0; k < nthreads; k++) {
        pthread_join(c[k].tid, NULL);
        if (c[k].rc == 0) {
            ok++;
            assert_int_equal(c[k].data, 1234);
        } else {
            assert_int_equal(c[k].rc, EIO);
            failed++;
        }
    }
    assert_int_equal(atomic_load(&g.overlaps), 0);
    /* fn ran once per failed attempt plus once successfully; each failed
     * attempt's caller got EIO, everyone else success (nthreads > fail_first) */
    assert_int_equal(atomic_load(&g.runs), fail_first + 1);
    assert_int_equal(failed, fail_first);
    assert_int_equal(ok, nthreads - fail_first);
    once_free(im, o);
}

static void once_concurrent_callers_wait_for_the_runner(void **state)
{
    (void)state;
    for (size_t i = 0; i < NIMPL; i++) {
        run_callers(&impls[i], false, 0, 8);
        run_callers(&impls[i], true, 0, 8);
    }
}

/* Failures are retried one caller at a time (no overlap), never by all
 * waiters at once, and the callers that did not run a failing attempt
 * succeed. */
static void once_retry_waiters_retry_one_at_a_time(void **state)
{
    (void)state;
    for (size_t i = 0; i < NIMPL; i++)
        for (int rep = 0; rep < 20; rep++)
            run_callers(&impls[i], true, 3, 8);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(once_static_initialisers),
        cmocka_unit_test(once_bad_input),
        cmocka_unit_test(once_runs_exactly_once_and_result_is_sticky),
        cmocka_unit_test(once_retry_after_failure),
        cmocka_unit_test(once_init_resets_a_quiescent_object),
        cmocka_unit_test(once_concurrent_callers_wait_for_the_runner),
        cmocka_unit_test(once_retry_waiters_retry_one_at_a_time),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
