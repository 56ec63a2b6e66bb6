/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit tests: lfpat/future.h and its twin lfp_locked_future, one table of
 * operations for both. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <sched.h>

#include "lfpat.h"
#include "parked.h"

typedef struct fut_ops {
    int (*init)(void *);
    void (*destroy)(void *);
    int (*set)(void *, void *, int);
    bool (*is_ready)(void *);
    int (*try_get)(void *, void **, int *);
    int (*get)(void *, void **, int *, int64_t, lfp_cancel *);
    uint32_t (*parked)(void *);   /* getters parked with a token */
} fut_ops;

static int lf_init(void *f) { return lfp_future_init(f); }
static void lf_destroy(void *f) { lfp_future_destroy(f); }
static int lf_set(void *f, void *v, int e) { return lfp_future_set(f, v, e); }
static bool lf_ready(void *f) { return lfp_future_is_ready(f); }
static int lf_try(void *f, void **v, int *e) { return lfp_future_try_get(f, v, e); }
static int lf_get(void *f, void **v, int *e, int64_t d, lfp_cancel *c)
{
    return lfp_future_get(f, v, e, d, c);
}
static uint32_t lf_parked(void *f) { return atomic_load(&((lfp_future *)f)->ready.waiters); }

static int lk_init(void *f) { return lfp_locked_future_init(f); }
static void lk_destroy(void *f) { lfp_locked_future_destroy(f); }
static int lk_set(void *f, void *v, int e) { return lfp_locked_future_set(f, v, e); }
static bool lk_ready(void *f) { return lfp_locked_future_is_ready(f); }
static int lk_try(void *f, void **v, int *e) { return lfp_locked_future_try_get(f, v, e); }
static int lk_get(void *f, void **v, int *e, int64_t d, lfp_cancel *c)
{
    return lfp_locked_future_get(f, v, e, d, c);
}
static uint32_t lk_parked(void *f)
{
    return atomic_load(&((lfp_locked_future *)f)->sync.cancel_ec.waiters);
}

static const fut_ops impls[] = {
    { lf_init, lf_destroy, lf_set, lf_ready, lf_try, lf_get, lf_parked },
    { lk_init, lk_destroy, lk_set, lk_ready, lk_try, lk_get, lk_parked },
};
#define FOR_EACH_IMPL for (const fut_ops *o = impls; o < impls + 2; o++)

typedef union { lfp_future a; lfp_locked_future b; } any_future;

static void bad_input(void **state)
{
    (void)state;
    assert_int_equal(lfp_future_init(NULL), EINVAL);
    assert_int_equal(lfp_future_set(NULL, NULL, 0), EINVAL);
    assert_int_equal(lfp_future_try_get(NULL, NULL, NULL), EINVAL);
    assert_int_equal(lfp_future_get(NULL, NULL, NULL, LFP_FOREVER, NULL), EINVAL);
    lfp_future_destroy(NULL);
    assert_int_equal(lfp_locked_future_init(NULL), EINVAL);
    assert_int_equal(lfp_locked_future_set(NULL, NULL, 0), EINVAL);
    assert_int_equal(lfp_locked_future_try_get(NULL, NULL, NULL), EINVAL);
    assert_int_equal(lfp_locked_future_get(NULL, NULL, NULL, LFP_FOREVER, NULL), EINVAL);
    lfp_locked_future_destroy(NULL);
}

static void static_init_is_empty(void **state)
{
    (void)state;
    static lfp_future f = LFP_FUTURE_INIT;
    assert_false(lfp_future_is_ready(&f));
    assert_int_equal(lfp_future_try_get(&f, NULL, NULL), EAGAIN);
}

static void first_set_wins(void **state)
{
    (void)state;
    int a, b;
    FOR_EACH_IMPL {
        any_future f;
        void *v = NULL;
        int e = -1;
        assert_int_equal(o->init(&f), 0);
        assert_false(o->is_ready(&f));
        assert_int_equal(o->try_get(&f, &v, &e), EAGAIN);
        assert_int_equal(o->set(&f, &a, 42), 0);
        assert_true(o->is_ready(&f));
        assert_int_equal(o->set(&f, &b, 0), EALREADY);
        assert_int_equal(o->set(&f, NULL, 7), EALREADY);
        assert_int_equal(o->try_get(&f, &v, &e), 0);
        assert_ptr_equal(v, &a);
        assert_int_equal(e, 42);
        assert_int_equal(o->try_get(&f, NULL, NULL), 0);   /* outputs optional */
        o->destroy(&f);
    }
}

static void get_prefers_success(void **state)
{
    (void)state;
    FOR_EACH_IMPL {
        any_future f;
        lfp_cancel fired = LFP_CANCEL_INIT, idle = LFP_CANCEL_INIT;
        lfp_cancel_fire(&fired, 3);
        void *v = &v;
        int e = -1;
        assert_int_equal(o->init(&f), 0);
        assert_int_equal(o->get(&f, &v, &e, 0, NULL), ETIMEDOUT);
        assert_int_equal(o->get(&f, &v, &e, lfp_after(2000000), &idle), ETIMEDOUT);
        assert_int_equal(o->get(&f, &v, &e, LFP_FOREVER, &fired), ECANCELED);
        assert_int_equal(o->set(&f, NULL, 0), 0);          /* NULL is a value */
        assert_int_equal(o->get(&f, &v, &e, 0, &fired), 0);
        assert_null(v);
        assert_int_equal(e, 0);
        o->destroy(&f);
    }
}

struct getter {
    const fut_ops *o;
    void *f;
    lfp_cancel *cancel;
    void *v;
    int e, rc;
};

static void *get_thread(void *arg)
{
    struct getter *g = arg;
    g->rc = g->o->get(g->f, &g->v, &g->e, LFP_FOREVER, g->cancel);
    return NULL;
}

static void parked_getters_wake_on_set_and_cancel(void **state)
{
    (void)state;
    static int payload;
    FOR_EACH_IMPL {
        any_future f;
        lfp_cancel c1 = LFP_CANCEL_INIT, c2 = LFP_CANCEL_INIT;
        assert_int_equal(o->init(&f), 0);
        struct getter g[2] = { { o, &f, &c1, NULL, 0, -1 }, { o, &f, &c2, NULL, 0, -1 } };
        pthread_t th[2];
        for (int i = 0; i < 2; i++)
            pthread_create(&th[i], NULL, get_thread, &g[i]);
        while (o->parked(&f) < 2)
            sched_yield();
        lfp_cancel_fire(&c2, 1);
        pthread_join(th[1], NULL);
        assert_int_equal(g[1].rc, ECANCELED);
        assert_int_equal(o->set(&f, &payload, 17), 0);
        pthread_join(th[0], NULL);
        assert_int_equal(g[0].rc, 0);
        assert_ptr_equal(g[0].v, &payload);
        assert_int_equal(g[0].e, 17);
        o->destroy(&f);
    }
}

struct setter {
    const fut_ops *o;
    void *f;
    pthread_barrier_t *bar;
    int id, rc;
};

static void *set_thread(void *arg)
{
    struct setter *s = arg;
    pthread_barrier_wait(s->bar);
    s->rc = s->o->set(s->f, NULL, s->id);
    return NULL;
}

static void racing_setters_exactly_one_wins(void **state)
{
    (void)state;
    enum { T = 4, ROUNDS = 50 };
    FOR_EACH_IMPL {
        for (int r = 0; r < ROUNDS; r++) {
            any_future f;
            pthread_barrier_t bar;
            pthread_barrier_init(&bar, NULL, T);
            assert_int_equal(o->init(&f), 0);
            struct setter s[T];
            pthread_t th[T];
            for (int i = 0; i < T; i++) {
                s[i] = (struct setter){ o, &f, &bar, i + 1, -1 };
                pthread_create(&th[i], NULL, set_thread, &s[i]);
            }
            int wins = 0, winner = 0, e = 0;
            for (int i = 0; i < T; i++) {
                pthread_join(th[i], NULL);
                if (s[i].rc == 0) {
                    wins++;
                    winner = s[i].id;
                } else {
                    assert_int_equal(s[i].rc, EALREADY);
                }
            }
            assert_int_equal(wins, 1);
            assert_int_equal(o->try_get(&f, NULL, &e), 0);
            assert_int_equal(e, winner);
            o->destroy(&f);
            pthread_barrier_destroy(&bar);
        }
    }
}

/* Linearizability of the observable states (issue 14 D): a set that returned
 * EALREADY comes after the winning set, so the same thread's is_ready and
 * try_get right after it must see the winner's value. */
struct loser {
    const fut_ops *o;
    void *f;
    pthread_barrier_t *bar;
    int id, rc;
    bool ready_after;   /* is_ready right after a set that returned EALREADY */
    int try_after;      /* try_get's result then */
    int err_after;
    _Atomic int returned;   /* set returned (for the white-box test) */
    _Atomic pid_t tid;      /* the setter's thread, once it runs */
};

static void *set_then_look(void *arg)
{
    struct loser *s = arg;
    atomic_store(&s->tid, (pid_t)syscall(SYS_gettid));
    if (s->bar)
        pthread_barrier_wait(s->bar);
    s->rc = s->o->set(s->f, (void *)(intptr_t)s->id, s->id);
    atomic_store(&s->returned, 1);
    s->ready_after = s->o->is_ready(s->f);
    s->err_after = -1;
    s->try_after = s->o->try_get(s->f, NULL, &s->err_after);
    return NULL;
}

static void losing_setter_sees_the_winner(void **state)
{
    (void)state;
    enum { T = 3, ROUNDS = 300 };
    FOR_EACH_IMPL {
        for (int r = 0; r < ROUNDS; r++) {
            any_future f;
            pthread_barrier_t bar;
            pthread_barrier_init(&bar, NULL, T);
            assert_int_equal(o->init(&f), 0);
            struct loser s[T];
            pthread_t th[T];
            for (int i = 0; i < T; i++) {
                s[i] = (struct loser){ o, &f, &bar, i + 1, -1, false, -1, -1, 0, 0 };
                pthread_create(&th[i], NULL, set_then_look, &s[i]);
            }
            int winner = 0;
            for (int i = 0; i < T; i++) {
                pthread_join(th[i], NULL);
                if (s[i].rc == 0)
                    winner = s[i].id;
            }
            assert_int_not_equal(winner, 0);
            for (int i = 0; i < T; i++) {
                assert_true(s[i].ready_after);
                assert_int_equal(s[i].try_after, 0);
                assert_int_equal(s[i].err_after, winner);
            }
            o->destroy(&f);
            pthread_barrier_destroy(&bar);
        }
    }
}

/* White box: a winner that has claimed the future (SETTING) but not yet
 * published it, simulated by this thread. A second set must not return
 * EALREADY while try_get still says EAGAIN: it waits until the winner
 * publishes, then returns EALREADY and sees the winner's value. */
static void losing_setter_waits_for_claimed_winner(void **state)
{
    (void)state;
    for (int parked_getter = 0; parked_getter < 2; parked_getter++) {
        lfp_future f;
        assert_int_equal(lfp_future_init(&f), 0);
        atomic_store(&f.state, LFP_FUTURE_SETTING_);   /* the claim CAS */
        struct getter g = { &impls[0], &f, NULL, NULL, -1, -1 };
        pthread_t gt, lt;
        if (parked_getter)
            pthread_create(&gt, NULL, get_thread, &g);
        struct loser s = { &impls[0], &f, NULL, 9, -1, false, -1, -1, 0, 0 };
        pthread_create(&lt, NULL, set_then_look, &s);
        /* the loser waits, parked on the eventcount (bounded: 5 s), and has
         * not returned: the future is not published. A loser that returns
         * EALREADY at once (the old bug) ends the wait and fails below. */
        int64_t end = lfp_after(5000000000LL);
        uint32_t key;
        while (!atomic_load(&s.returned) &&
               !(atomic_load(&s.tid) && parked_on(atomic_load(&s.tid), &f.ready.epoch, &key))) {
            assert_true(lfp_now() < end);
            sched_yield();
        }
        assert_int_equal(atomic_load(&s.returned), 0);
        assert_false(lfp_future_is_ready(&f));
        assert_int_equal(lfp_future_try_get(&f, NULL, NULL), EAGAIN);
        /* publish as the winner does (lfp_future_set after its claim) */
        f.value = (void *)(intptr_t)5;
        f.error = 5;
        uint32_t st = atomic_load(&f.state);
        while (!(st & LFP_FUTURE_WAITING_) &&
               !atomic_compare_exchange_weak(&f.state, &st, LFP_FUTURE_READY_)) {
        }
        if (st & LFP_FUTURE_WAITING_)
            lfp_future_wake_(&f);
        pthread_join(lt, NULL);
        assert_int_equal(s.rc, EALREADY);
        assert_true(s.ready_after);
        assert_int_equal(s.try_after, 0);
        assert_int_equal(s.err_after, 5);
        if (parked_getter) {
            pthread_join(gt, NULL);
            assert_int_equal(g.rc, 0);
            assert_int_equal(g.e, 5);
        }
        lfp_future_destroy(&f);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(bad_input),
        cmocka_unit_test(static_init_is_empty),
        cmocka_unit_test(first_set_wins),
        cmocka_unit_test(get_prefers_success),
        cmocka_unit_test(parked_getters_wake_on_set_and_cancel),
        cmocka_unit_test(racing_setters_exactly_one_wins),
        cmocka_unit_test(losing_setter_sees_the_winner),
        cmocka_unit_test(losing_setter_waits_for_claimed_winner),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
