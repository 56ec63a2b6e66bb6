/* SPDX-License-Identifier: BSD-2-Clause */
/* Hand-off then free (issue 14): for every primitive whose header lets a
 * waiter free the object as soon as its wait returns, a heap object, a
 * waiter thread that waits, destroys and frees at once, and a notifier whose
 * release / done / set / fire / run is the hand-off. Many rounds, in both
 * orders: the waiter blocked first (the notifier waits until the object says
 * so, or until the waiter announced itself and a few yields passed), and the
 * notifier first (both start together). The oracle is AddressSanitizer: any
 * access of the notifier after the waiter's free is a heap use-after-free
 * report (the asan preset); the other presets check the results and run the
 * same interleavings under TSan. LFP_HANDOFF_ROUNDS overrides the rounds per
 * order, LFP_HANDOFF_CASE selects cases (a cmocka filter pattern). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lfpat.h"
#include "park.h"

#define DEFAULT_ROUNDS 2000
#define PARKED_SPINS 20000   /* bound on the notifier's wait for a blocked waiter */
#define SKEW_YIELDS 16       /* without a probe: yields after the waiter announced */

static int sentinel;   /* the future's value */

struct ctl;

struct hcase {
    const char *name;
    size_t size;
    void (*init)(void *o, struct ctl *x);
    int (*wait)(void *o, struct ctl *x);       /* the waiter's call; its result */
    void (*destroy)(void *o);
    int (*notify)(void *o, struct ctl *x);     /* the hand-off; its result */
    bool (*parked)(void *o, struct ctl *x);    /* the waiter is blocked; NULL: no probe */
    int want_wait, want_notify;                /* expected results */
};

struct ctl {
    const struct hcase *c;
    bool waiter_first;
    int rounds;
    pthread_barrier_t start, end;
    void *_Atomic obj;
    _Atomic int waiting;     /* the waiter is about to call wait */
    _Atomic int started;     /* once: the runner has claimed */
    _Atomic int errors;      /* wrong results seen by the notifier */
    lfp_sem gate;            /* cancel cases: what the waiter blocks on */
    lfp_cancel never;        /* token cases: a token that never fires */
};

/* ------------------------------------------------------------ cases */

static void sem_init_(void *o, struct ctl *x)
{
    (void)x;
    assert_int_equal(lfp_sem_init(o, 1), 0);
    assert_int_equal(lfp_sem_try_acquire(o), 0);   /* empty: the wait blocks */
}
static int sem_wait_(void *o, struct ctl *x) { (void)x; return lfp_sem_acquire(o, LFP_FOREVER, NULL); }
static int sem_wait_tok(void *o, struct ctl *x) { return lfp_sem_acquire(o, LFP_FOREVER, &x->never); }
static void sem_destroy_(void *o) { lfp_sem_destroy(o); }
static int sem_notify(void *o, struct ctl *x) { (void)x; return lfp_sem_release(o); }
static bool sem_parked(void *o, struct ctl *x)
{
    (void)x;
    struct lfp_sem_stats st;
    lfp_sem_stats(o, &st);
    return st.waiting > 0;
}

static void lsem_init(void *o, struct ctl *x)
{
    (void)x;
    assert_int_equal(lfp_locked_sem_init(o, 1), 0);
    assert_int_equal(lfp_locked_sem_try_acquire(o), 0);
}
static int lsem_wait(void *o, struct ctl *x)
{
    (void)x;
    return lfp_locked_sem_acquire(o, LFP_FOREVER, NULL);
}
static int lsem_wait_tok(void *o, struct ctl *x)
{
    return lfp_locked_sem_acquire(o, LFP_FOREVER, &x->never);
}
static void lsem_destroy(void *o) { lfp_locked_sem_destroy(o); }
static int lsem_notify(void *o, struct ctl *x) { (void)x; return lfp_locked_sem_release(o); }
static bool lsem_parked(void *o, struct ctl *x)
{
    (void)x;
    struct lfp_sem_stats st;
    lfp_locked_sem_stats(o, &st);
    return st.waiting > 0;
}

static void wsem_init_(void *o, struct ctl *x)
{
    (void)x;
    assert_int_equal(lfp_wsem_init(o, 3), 0);
    assert_int_equal(lfp_wsem_try_acquire(o, 3), 0);
}
static int wsem_wait_(void *o, struct ctl *x) { (void)x; return lfp_wsem_acquire(o, 2, LFP_FOREVER, NULL); }
static void wsem_destroy_(void *o) { lfp_wsem_destroy(o); }
static int wsem_notify(void *o, struct ctl *x) { (void)x; return lfp_wsem_release(o, 2); }
static bool queued(pthread_mutex_t *lock, struct lfp_wsem_queue *q)
{
    pthread_mutex_lock(lock);
    bool any = q->head != NULL;
    pthread_mutex_unlock(lock);
    return any;
}
static bool wsem_parked(void *o, struct ctl *x)
{
    (void)x;
    lfp_wsem *s = o;
    return queued(&s->lock, &s->queue);
}

static void lwsem_init(void *o, struct ctl *x)
{
    (void)x;
    assert_int_equal(lfp_locked_wsem_init(o, 3), 0);
    assert_int_equal(lfp_locked_wsem_try_acquire(o, 3), 0);
}
static int lwsem_wait(void *o, struct ctl *x)
{
    (void)x;
    return lfp_locked_wsem_acquire(o, 2, LFP_FOREVER, NULL);
}
static void lwsem_destroy(void *o) { lfp_locked_wsem_destroy(o); }
static int lwsem_notify(void *o, struct ctl *x) { (void)x; return lfp_locked_wsem_release(o, 2); }
static bool lwsem_parked(void *o, struct ctl *x)
{
    (void)x;
    lfp_locked_wsem *s = o;
    return queued(&s->lock, &s->queue);
}

static void wg_init(void *o, struct ctl *x)
{
    (void)x;
    assert_int_equal(lfp_waitgroup_init(o), 0);
    assert_int_equal(lfp_waitgroup_add(o, 1), 0);
}
static int wg_wait(void *o, struct ctl *x) { (void)x; return lfp_waitgroup_wait(o, LFP_FOREVER, NULL); }
static void wg_destroy(void *o) { lfp_waitgroup_destroy(o); }
static int wg_notify(void *o, struct ctl *x) { (void)x; return lfp_waitgroup_done(o); }
static bool wg_parked(void *o, struct ctl *x)
{
    (void)x;
    return atomic_load(&((lfp_waitgroup *)o)->zero.waiters) > 0;
}

static void lwg_init(void *o, struct ctl *x)
{
    (void)x;
    assert_int_equal(lfp_locked_waitgroup_init(o), 0);
    assert_int_equal(lfp_locked_waitgroup_add(o, 1), 0);
}
static int lwg_wait(void *o, struct ctl *x)
{
    (void)x;
    return lfp_locked_waitgroup_wait(o, LFP_FOREVER, NULL);
}
static int lwg_wait_tok(void *o, struct ctl *x)
{
    return lfp_locked_waitgroup_wait(o, LFP_FOREVER, &x->never);
}
static void lwg_destroy(void *o) { lfp_locked_waitgroup_destroy(o); }
static int lwg_notify(void *o, struct ctl *x) { (void)x; return lfp_locked_waitgroup_done(o); }

/* A getter's result: 0 only with the setter's value and error. */
static int got(int rc, void *v, int e) { return rc == 0 && (v != &sentinel || e != 7) ? -1 : rc; }

static void fut_init(void *o, struct ctl *x) { (void)x; assert_int_equal(lfp_future_init(o), 0); }
static int fut_wait(void *o, struct ctl *x)
{
    (void)x;
    void *v = NULL;
    int e = 0;
    int rc = lfp_future_get(o, &v, &e, LFP_FOREVER, NULL);   /* before got() reads v, e */
    return got(rc, v, e);
}
static void fut_destroy(void *o) { lfp_future_destroy(o); }
static int fut_notify(void *o, struct ctl *x) { (void)x; return lfp_future_set(o, &sentinel, 7); }
static bool fut_parked(void *o, struct ctl *x)
{
    (void)x;
    return atomic_load(&((lfp_future *)o)->ready.waiters) > 0;
}

static void lfut_init(void *o, struct ctl *x)
{
    (void)x;
    assert_int_equal(lfp_locked_future_init(o), 0);
}
static int lfut_wait(void *o, struct ctl *x)
{
    (void)x;
    void *v = NULL;
    int e = 0;
    int rc = lfp_locked_future_get(o, &v, &e, LFP_FOREVER, NULL);   /* before got() reads v, e */
    return got(rc, v, e);
}
static int lfut_wait_tok(void *o, struct ctl *x)
{
    void *v = NULL;
    int e = 0;
    int rc = lfp_locked_future_get(o, &v, &e, LFP_FOREVER, &x->never);   /* before got() reads v, e */
    return got(rc, v, e);
}
static void lfut_destroy(void *o) { lfp_locked_future_destroy(o); }
static int lfut_notify(void *o, struct ctl *x)
{
    (void)x;
    return lfp_locked_future_set(o, &sentinel, 7);
}

/* once: the notifier is the runner (it claims first: the waiter calls only
 * after `started`); waiter first = fn returns only once the waiter is
 * parked (lfp_once: the state says WAITED) or after a bounded wait. */
static int never_runs(void *arg) { (void)arg; return 99; }

static void once_init(void *o, struct ctl *x) { (void)x; lfp_once_init(o); }
static bool once_waited(struct ctl *x)
{
    lfp_once *o = atomic_load(&x->obj);
    return (atomic_load(&o->state) & 7u) == LFP_ONCE_WAITED_;
}
static void runner_body(struct ctl *x, bool (*parked)(struct ctl *))
{
    atomic_store(&x->started, 1);
    if (!x->waiter_first)
        return;
    if (!parked) {
        for (unsigned i = 0; i < SKEW_YIELDS; i++)
            lfp_spin_pause(1000);   /* a yield */
        return;
    }
    for (unsigned i = 0; i < PARKED_SPINS && !parked(x); i++)
        lfp_spin_pause(i);
}
static int once_fn(void *arg) { runner_body(arg, once_waited); return 5; }
static int lonce_fn(void *arg) { runner_body(arg, NULL); return 5; }
static void await_runner(struct ctl *x)
{
    for (unsigned i = 0; !atomic_load(&x->started); i++)
        lfp_spin_pause(i);
}
static int once_wait(void *o, struct ctl *x)
{
    await_runner(x);
    return lfp_once_call(o, never_runs, NULL);
}
static int once_notify(void *o, struct ctl *x) { return lfp_once_call(o, once_fn, x); }
static void once_destroy(void *o) { lfp_once_destroy(o); }

static void lonce_init(void *o, struct ctl *x)
{
    (void)x;
    assert_int_equal(lfp_locked_once_init(o), 0);
}
static int lonce_wait(void *o, struct ctl *x)
{
    await_runner(x);
    return lfp_locked_once_call(o, never_runs, NULL);
}
static int lonce_notify(void *o, struct ctl *x) { return lfp_locked_once_call(o, lonce_fn, x); }
static void lonce_destroy(void *o) { lfp_locked_once_destroy(o); }

/* cancel: the object is the token; the waiter blocks on the gate with it. */
static void tok_init(void *o, struct ctl *x) { (void)x; assert_int_equal(lfp_cancel_init(o, NULL), 0); }
static int tok_wait(void *o, struct ctl *x) { return lfp_sem_acquire(&x->gate, LFP_FOREVER, o); }
static void tok_destroy(void *o) { lfp_cancel_destroy(o); }
static int tok_notify(void *o, struct ctl *x) { (void)x; return lfp_cancel_fire(o, ECANCELED) ? 0 : -1; }
static bool tok_parked(void *o, struct ctl *x)
{
    (void)o;
    struct lfp_sem_stats st;
    lfp_sem_stats(&x->gate, &st);
    return st.waiting > 0;
}

/* cancel tree: the waiter blocks with the child, the notifier fires the
 * parent; the waiter destroys both. */
struct tree {
    lfp_cancel parent, child;
};
static void tree_init(void *o, struct ctl *x)
{
    (void)x;
    struct tree *t = o;
    assert_int_equal(lfp_cancel_init(&t->parent, NULL), 0);
    assert_int_equal(lfp_cancel_init(&t->child, &t->parent), 0);
}
static int tree_wait(void *o, struct ctl *x)
{
    return lfp_sem_acquire(&x->gate, LFP_FOREVER, &((struct tree *)o)->child);
}
static void tree_destroy(void *o)
{
    struct tree *t = o;
    lfp_cancel_destroy(&t->child);
    lfp_cancel_destroy(&t->parent);
}
static int tree_notify(void *o, struct ctl *x)
{
    (void)x;
    return lfp_cancel_fire(&((struct tree *)o)->parent, ECANCELED) ? 0 : -1;
}

static const struct hcase cases[] = {
    { "lfp_sem", sizeof(lfp_sem), sem_init_, sem_wait_, sem_destroy_, sem_notify, sem_parked, 0, 0 },
    { "lfp_sem+token", sizeof(lfp_sem), sem_init_, sem_wait_tok, sem_destroy_, sem_notify,
      sem_parked, 0, 0 },
    { "lfp_locked_sem", sizeof(lfp_locked_sem), lsem_init, lsem_wait, lsem_destroy, lsem_notify,
      lsem_parked, 0, 0 },
    { "lfp_locked_sem+token", sizeof(lfp_locked_sem), lsem_init, lsem_wait_tok, lsem_destroy,
      lsem_notify, lsem_parked, 0, 0 },
    { "lfp_wsem", sizeof(lfp_wsem), wsem_init_, wsem_wait_, wsem_destroy_, wsem_notify,
      wsem_parked, 0, 0 },
    { "lfp_locked_wsem", sizeof(lfp_locked_wsem), lwsem_init, lwsem_wait, lwsem_destroy,
      lwsem_notify, lwsem_parked, 0, 0 },
    { "lfp_waitgroup", sizeof(lfp_waitgroup), wg_init, wg_wait, wg_destroy, wg_notify, wg_parked,
      0, 0 },
    { "lfp_locked_waitgroup", sizeof(lfp_locked_waitgroup), lwg_init, lwg_wait, lwg_destroy,
      lwg_notify, NULL, 0, 0 },
    { "lfp_locked_waitgroup+token", sizeof(lfp_locked_waitgroup), lwg_init, lwg_wait_tok,
      lwg_destroy, lwg_notify, NULL, 0, 0 },
    { "lfp_future", sizeof(lfp_future), fut_init, fut_wait, fut_destroy, fut_notify, fut_parked,
      0, 0 },
    { "lfp_locked_future", sizeof(lfp_locked_future), lfut_init, lfut_wait, lfut_destroy,
      lfut_notify, NULL, 0, 0 },
    { "lfp_locked_future+token", sizeof(lfp_locked_future), lfut_init, lfut_wait_tok,
      lfut_destroy, lfut_notify, NULL, 0, 0 },
    { "lfp_once", sizeof(lfp_once), once_init, once_wait, once_destroy, once_notify, NULL, 5, 5 },
    { "lfp_locked_once", sizeof(lfp_locked_once), lonce_init, lonce_wait, lonce_destroy,
      lonce_notify, NULL, 5, 5 },
    { "lfp_cancel", sizeof(lfp_cancel), tok_init, tok_wait, tok_destroy, tok_notify, tok_parked,
      ECANCELED, 0 },
    { "lfp_cancel tree", sizeof(struct tree), tree_init, tree_wait, tree_destroy, tree_notify,
      tok_parked, ECANCELED, 0 },
};

/* ------------------------------------------------------------ harness */

static void *obj_alloc(size_t size)
{
    size_t rounded = (size + LFP_CACHELINE - 1) / LFP_CACHELINE * LFP_CACHELINE;
    void *p = aligned_alloc(LFP_CACHELINE, rounded);
    assert_non_null(p);
    memset(p, 0, rounded);
    return p;
}

/* Waiter first: until the probe says the waiter is blocked (bounded: the
 * order is a preference, not something the oracle relies on). Without a
 * probe, a few yields after the waiter announced itself. */
static void let_waiter_block(struct ctl *x, void *o)
{
    const struct hcase *c = x->c;
    if (c->parked) {
        for (unsigned i = 0; i < PARKED_SPINS && !c->parked(o, x); i++)
            lfp_spin_pause(i);
        return;
    }
    for (unsigned i = 0; !atomic_load(&x->waiting); i++)
        lfp_spin_pause(i);
    for (unsigned i = 0; i < SKEW_YIELDS; i++)
        lfp_spin_pause(1000);   /* a yield */
}

static void *notifier_main(void *arg)
{
    struct ctl *x = arg;
    for (int r = 0; r < x->rounds; r++) {
        pthread_barrier_wait(&x->start);
        void *o = atomic_load(&x->obj);
        if (x->waiter_first && x->c->notify != once_notify && x->c->notify != lonce_notify)
            let_waiter_block(x, o);
        if (x->c->notify(o, x) != x->c->want_notify)
            atomic_fetch_add(&x->errors, 1);
        /* o may be freed from here on: the notifier does not look at it. */
        pthread_barrier_wait(&x->end);
    }
    return NULL;
}

static void run_order(const struct hcase *c, bool waiter_first, int rounds)
{
    struct ctl *x = calloc(1, sizeof *x);
    assert_non_null(x);
    *x = (struct ctl){ .c = c, .waiter_first = waiter_first, .rounds = rounds };
    assert_int_equal(lfp_sem_init(&x->gate, 1), 0);
    assert_int_equal(lfp_sem_try_acquire(&x->gate), 0);
    assert_int_equal(lfp_cancel_init(&x->never, NULL), 0);
    pthread_barrier_init(&x->start, NULL, 2);
    pthread_barrier_init(&x->end, NULL, 2);
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, notifier_main, x), 0);
    int bad = 0;
    for (int r = 0; r < rounds; r++) {
        void *o = obj_alloc(c->size);
        c->init(o, x);
        atomic_store(&x->obj, o);
        atomic_store(&x->waiting, 0);
        atomic_store(&x->started, 0);
        pthread_barrier_wait(&x->start);
        atomic_store(&x->waiting, 1);
        bad += c->wait(o, x) != c->want_wait;
        c->destroy(o);   /* at once: the notifier may still be returning */
        free(o);
        pthread_barrier_wait(&x->end);
    }
    pthread_join(t, NULL);
    print_message("%-28s %s first: %d rounds\n", c->name, waiter_first ? "waiter" : "notifier",
                  rounds);
    assert_int_equal(bad, 0);
    assert_int_equal(atomic_load(&x->errors), 0);
    pthread_barrier_destroy(&x->start);
    pthread_barrier_destroy(&x->end);
    lfp_cancel_destroy(&x->never);
    lfp_sem_destroy(&x->gate);
    free(x);
}

static int rounds_per_order(void)
{
    const char *e = getenv("LFP_HANDOFF_ROUNDS");
    int n = e ? atoi(e) : DEFAULT_ROUNDS;
    return n > 0 ? n : DEFAULT_ROUNDS;
}

static void handoff_case(void **state)
{
    const struct hcase *c = *state;
    run_order(c, true, rounds_per_order());
    run_order(c, false, rounds_per_order());
}

#define NCASES (sizeof cases / sizeof cases[0])

int main(void)
{
    struct CMUnitTest tests[NCASES];
    for (size_t i = 0; i < NCASES; i++)
        tests[i] = (struct CMUnitTest){ .name = cases[i].name, .test_func = handoff_case,
                                        .initial_state = (void *)&cases[i] };
    /* LFP_HANDOFF_CASE: run only the cases matching this pattern. */
    if (getenv("LFP_HANDOFF_CASE"))
        cmocka_set_test_filter(getenv("LFP_HANDOFF_CASE"));
    return cmocka_run_group_tests(tests, NULL, NULL);
}
