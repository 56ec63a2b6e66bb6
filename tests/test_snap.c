/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit tests: lfpat/snap.h and its twin lfp_locked_snap. Every contract test
 * runs against both through one table of operations. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "lfpat.h"
#include "snap_versions.h"

typedef struct snap_ops {
    const char *name;
    int (*init)(void *, void *, lfp_snap_free_fn, void *);
    void (*destroy)(void *);
    void *(*enter)(void *);
    void *(*get)(void *);
    int (*leave)(void *);
    int (*publish)(void *, void *, int64_t, lfp_cancel *);
    int (*publish_async)(void *, void *);
    int (*update)(void *, lfp_snap_copy_fn, void *, int64_t, lfp_cancel *);
    int (*reclaim)(void *);
    void (*stats)(void *, struct lfp_snap_stats *);
} snap_ops;

#define SNAP_ADAPTERS(tag, P, T)                                                               \
    static int tag##_init(void *s, void *v, lfp_snap_free_fn f, void *a)                       \
    { return P##_init((T *)s, v, f, a); }                                                      \
    static void tag##_destroy(void *s) { P##_destroy((T *)s); }                                \
    static void *tag##_enter(void *s) { return P##_enter((T *)s); }                            \
    static void *tag##_get(void *s) { return P##_get((T *)s); }                                \
    static int tag##_leave(void *s) { return P##_leave((T *)s); }                              \
    static int tag##_publish(void *s, void *n, int64_t d, lfp_cancel *c)                       \
    { return P##_publish((T *)s, n, d, c); }                                                   \
    static int tag##_publish_async(void *s, void *n) { return P##_publish_async((T *)s, n); }  \
    static int tag##_update(void *s, lfp_snap_copy_fn f, void *a, int64_t d, lfp_cancel *c)    \
    { return P##_update((T *)s, f, a, d, c); }                                                 \
    static int tag##_reclaim(void *s) { return P##_reclaim((T *)s); }                          \
    static void tag##_stats(void *s, struct lfp_snap_stats *st) { P##_stats((T *)s, st); }
#define SNAP_OPS(tag, P)                                                                       \
    { #P, tag##_init, tag##_destroy, tag##_enter, tag##_get, tag##_leave, tag##_publish,      \
      tag##_publish_async, tag##_update, tag##_reclaim, tag##_stats }

SNAP_ADAPTERS(lf, lfp_snap, lfp_snap)
SNAP_ADAPTERS(lk, lfp_locked_snap, lfp_locked_snap)

static const snap_ops impls[] = { SNAP_OPS(lf, lfp_snap), SNAP_OPS(lk, lfp_locked_snap) };
#define FOR_EACH_IMPL for (const snap_ops *o = impls; o < impls + 2; o++)

typedef union { lfp_snap a; lfp_locked_snap b; } any_snap;

/* Versions are malloc'd ints; the free function poisons and logs them. */
typedef struct { int frees; int last; } free_log;

static void log_free(void *v, void *arg)
{
    free_log *l = arg;
    l->frees++;
    l->last = poison_and_free(v);
}

static int refuse(const void *cur, void **next, void *arg)
{
    (void)cur, (void)next, (void)arg;
    return EEXIST;
}

static void bad_input(void **state)
{
    (void)state;
    FOR_EACH_IMPL {
        any_snap s;
        free_log l = { 0 };
        assert_int_equal(o->init(NULL, NULL, log_free, &l), EINVAL);
        assert_int_equal(o->init(&s, NULL, NULL, &l), EINVAL);
        assert_null(o->enter(NULL));
        assert_null(o->get(NULL));
        assert_int_equal(o->leave(NULL), EINVAL);
        assert_int_equal(o->publish(NULL, NULL, LFP_FOREVER, NULL), EINVAL);
        assert_int_equal(o->publish_async(NULL, NULL), EINVAL);
        assert_int_equal(o->update(NULL, copy_plus_one, NULL, LFP_FOREVER, NULL), EINVAL);
        assert_int_equal(o->reclaim(NULL), EINVAL);
        o->destroy(NULL);
        o->stats(NULL, NULL);
        assert_int_equal(o->init(&s, NULL, log_free, &l), 0);
        assert_int_equal(o->update(&s, NULL, NULL, LFP_FOREVER, NULL), EINVAL);
        o->stats(&s, NULL);
        o->destroy(&s);
        assert_int_equal(l.frees, 0);   /* NULL versions are never freed */
    }
}

static void publish_frees_old(void **state)
{
    (void)state;
    FOR_EACH_IMPL {
        any_snap s;
        free_log l = { 0 };
        assert_int_equal(o->init(&s, ver(0), log_free, &l), 0);
        int *p = o->enter(&s);
        assert_int_equal(*p, 0);
        assert_ptr_equal(o->get(&s), p);
        assert_int_equal(o->leave(&s), 0);
        assert_int_equal(o->leave(&s), EPERM);
        assert_int_equal(o->publish(&s, ver(1), LFP_FOREVER, NULL), 0);
        assert_int_equal(l.frees, 1);
        assert_int_equal(l.last, 0);
        p = o->enter(&s);
        assert_int_equal(*p, 1);
        assert_int_equal(o->leave(&s), 0);
        assert_int_equal(o->publish(&s, NULL, LFP_FOREVER, NULL), 0);   /* NULL is a version */
        assert_null(o->enter(&s));
        assert_int_equal(o->leave(&s), 0);
        assert_int_equal(o->publish(&s, ver(2), LFP_FOREVER, NULL), 0);
        assert_int_equal(l.frees, 2);
        struct lfp_snap_stats st;
        o->stats(&s, &st);
        assert_int_equal(st.published, 3);
        assert_int_equal(st.freed, 2);
        assert_int_equal(st.pending, 0);
        assert_int_equal(st.timeouts, 0);
        o->destroy(&s);
        assert_int_equal(l.frees, 3);
        assert_int_equal(l.last, 2);
    }
}

static void nesting_and_misuse(void **state)
{
    (void)state;
    FOR_EACH_IMPL {
        any_snap s, t;
        free_log l = { 0 };
        assert_int_equal(o->init(&s, ver(0), log_free, &l), 0);
        assert_int_equal(o->init(&t, ver(10), log_free, &l), 0);
        assert_int_equal(o->leave(&s), EPERM);
        assert_int_equal(*(int *)o->enter(&s), 0);
        assert_int_equal(*(int *)o->enter(&s), 0);
        assert_int_equal(*(int *)o->enter(&t), 10);
        /* Inside a section (of any snap), a synchronous publish would wait
         * for itself. Nothing is published. */
        int *v = ver(1);
        assert_int_equal(o->publish(&s, v, LFP_FOREVER, NULL), EDEADLK);
        assert_int_equal(o->update(&s, copy_plus_one, NULL, LFP_FOREVER, NULL), EDEADLK);
        assert_int_equal(*(int *)o->get(&s), 0);
        /* The asynchronous publish is allowed; the old version stays valid. */
        int *held = o->get(&s);
        assert_int_equal(o->publish_async(&s, v), 0);
        assert_int_equal(*held, 0);
        assert_int_equal(o->reclaim(&s), EAGAIN);   /* we still hold it */
        assert_int_equal(*held, 0);
        assert_int_equal(o->leave(&t), 0);
        assert_int_equal(o->leave(&s), 0);
        assert_int_equal(o->leave(&s), 0);
        assert_int_equal(o->leave(&s), EPERM);
        assert_int_equal(o->reclaim(&s), 0);
        assert_int_equal(l.frees, 1);
        assert_int_equal(l.last, 0);
        assert_int_equal(o->reclaim(&s), 0);   /* nothing pending */
        o->destroy(&t);
        o->destroy(&s);
        assert_int_equal(l.frees, 3);
    }
}

static void async_then_reclaim_or_publish(void **state)
{
    (void)state;
    FOR_EACH_IMPL {
        any_snap s;
        free_log l = { 0 };
        assert_int_equal(o->init(&s, ver(0), log_free, &l), 0);
        for (int i = 1; i <= 3; i++)
            assert_int_equal(o->publish_async(&s, ver(i)), 0);
        assert_int_equal(*(int *)o->enter(&s), 3);
        assert_int_equal(o->leave(&s), 0);
        assert_int_equal(o->reclaim(&s), 0);
        assert_int_equal(l.frees, 3);
        /* A synchronous publish frees what async publishes left. */
        assert_int_equal(o->publish_async(&s, ver(4)), 0);
        assert_int_equal(o->publish(&s, ver(5), LFP_FOREVER, NULL), 0);
        assert_int_equal(l.frees, 5);
        struct lfp_snap_stats st;
        o->stats(&s, &st);
        assert_int_equal(st.pending, 0);
        assert_int_equal(st.published, 5);
        o->destroy(&s);
        assert_int_equal(l.frees, 6);
        assert_int_equal(l.last, 5);
    }
}

static void update_copy_on_write(void **state)
{
    (void)state;
    FOR_EACH_IMPL {
        any_snap s;
        free_log l = { 0 };
        assert_int_equal(o->init(&s, ver(0), log_free, &l), 0);
        for (int i = 0; i < 5; i++)
            assert_int_equal(o->update(&s, copy_plus_one, NULL, LFP_FOREVER, NULL), 0);
        assert_int_equal(*(int *)o->enter(&s), 5);
        assert_int_equal(o->leave(&s), 0);
        assert_int_equal(l.frees, 5);
        assert_int_equal(o->update(&s, refuse, NULL, LFP_FOREVER, NULL), EEXIST);
        assert_int_equal(*(int *)o->enter(&s), 5);
        assert_int_equal(o->leave(&s), 0);
        o->destroy(&s);
        assert_int_equal(l.frees, 6);
    }
}

/* A second thread holds a read section until told to leave. */
typedef struct {
    const snap_ops *o;
    void *s;
    int seen;
    lfp_sem in, out;   /* "I am inside" / "leave now" */
} holder;

static void *hold(void *arg)
{
    holder *h = arg;
    int *p = h->o->enter(h->s);
    h->seen = *p;
    lfp_sem_release(&h->in);
    assert_int_equal(lfp_sem_acquire(&h->out, LFP_FOREVER, NULL), 0);
    assert_int_equal(*p, h->seen);   /* still valid: not freed (nor poisoned) */
    assert_int_equal(h->o->leave(h->s), 0);
    return NULL;
}

static void start_holder(holder *h, pthread_t *t)
{
    assert_int_equal(lfp_sem_init(&h->in, 1), 0);
    assert_int_equal(lfp_sem_init(&h->out, 1), 0);
    assert_int_equal(lfp_sem_try_acquire(&h->in), 0);
    assert_int_equal(lfp_sem_try_acquire(&h->out), 0);
    assert_int_equal(pthread_create(t, NULL, hold, h), 0);
    assert_int_equal(lfp_sem_acquire(&h->in, LFP_FOREVER, NULL), 0);
}

static void stop_holder(holder *h, pthread_t t)
{
    lfp_sem_release(&h->out);
    pthread_join(t, NULL);
    lfp_sem_destroy(&h->in);
    lfp_sem_destroy(&h->out);
}

/* A preempted reader: publish times out (published, old pending), cancel
 * ends it too, and the old versions are freed once the reader left. */
static void reader_blocks_publish(void **state)
{
    (void)state;
    FOR_EACH_IMPL {
        any_snap s;
        free_log l = { 0 };
        assert_int_equal(o->init(&s, ver(0), log_free, &l), 0);
        holder h = { .o = o, .s = &s };
        pthread_t t;
        start_holder(&h, &t);
        assert_int_equal(h.seen, 0);
        assert_int_equal(o->publish(&s, ver(1), lfp_after(20 * 1000000), NULL), ETIMEDOUT);
        assert_int_equal(l.frees, 0);                          /* never early */
        assert_int_equal(*(int *)o->enter(&s), 1);             /* but published */
        assert_int_equal(o->leave(&s), 0);
        /* Versions 1 and 2 were never seen by the holder: lfp_snap (one grace
         * period for every section open before the publish) still waits for
         * it; the twin (a count per version) frees them at once. */
        bool grace = o == impls;
        assert_int_equal(o->publish(&s, ver(2), 0, NULL), grace ? ETIMEDOUT : 0);  /* past deadline */
        lfp_cancel c;
        assert_int_equal(lfp_cancel_init(&c, NULL), 0);
        lfp_cancel_fire(&c, 7);
        assert_int_equal(o->update(&s, copy_plus_one, NULL, LFP_FOREVER, &c),
                         grace ? ECANCELED : 0);
        lfp_cancel_destroy(&c);
        struct lfp_snap_stats st;
        o->stats(&s, &st);
        assert_int_equal(st.timeouts, grace ? 3 : 1);
        assert_int_equal(st.freed, grace ? 0 : 2);
        assert_int_equal(st.pending, grace ? 3 : 1);
        assert_int_equal(l.frees, grace ? 0 : 2);
        assert_int_equal(o->reclaim(&s), EAGAIN);
        stop_holder(&h, t);
        assert_int_equal(o->reclaim(&s), 0);
        assert_int_equal(l.frees, 3);
        o->stats(&s, &st);
        assert_int_equal(st.pending, 0);
        o->destroy(&s);
        assert_int_equal(l.frees, 4);
        assert_int_equal(l.last, 3);
    }
}

/* Wait (bounded: 10 s in 1 ms polls) until a publisher counts itself as a
 * waiter on the domain's eventcount, i.e. it parked or is about to. The
 * callers' checks hold either way; the wait only makes the park likely. */
static void await_parking_writer(void)
{
    for (int i = 0; i < 10000 && atomic_load(&lfp_snap_dom_.left.waiters) == 0; i++) {
        struct timespec ms = { 0, 1000000 };
        nanosleep(&ms, NULL);
    }
}

/* A parked publish returns 0 once the reader leaves (the leave's wake). */
typedef struct { const snap_ops *o; void *s; int rc; } pub_arg;

static void *publisher(void *arg)
{
    pub_arg *p = arg;
    p->rc = p->o->publish(p->s, ver(1), LFP_FOREVER, NULL);
    return NULL;
}

static void leave_wakes_publisher(void **state)
{
    (void)state;
    FOR_EACH_IMPL {
        any_snap s;
        free_log l = { 0 };
        assert_int_equal(o->init(&s, ver(0), log_free, &l), 0);
        holder h = { .o = o, .s = &s };
        pthread_t t, w;
        start_holder(&h, &t);
        pub_arg p = { o, &s, -1 };
        assert_int_equal(pthread_create(&w, NULL, publisher, &p), 0);
        /* Wait (bounded) until the publisher parked or is about to: either
         * way the leave must let it finish. */
        if (o == impls)
            await_parking_writer();
        stop_holder(&h, t);
        pthread_join(w, NULL);
        assert_int_equal(p.rc, 0);
        assert_int_equal(l.frees, 1);
        o->destroy(&s);
        assert_int_equal(l.frees, 2);
    }
}

/* A publish that returned 0 has freed the version it replaced: free_fn has
 * returned, whoever ran it. The reader that kept the publisher waiting
 * reclaims right after its leave, while the publisher is still waking up;
 * if that reclaim took the publisher's version, its free_fn waits (bounded)
 * for the publish to return: a return meanwhile is the violation. (The
 * differential oracle, stress_snap_oracle, found this in lfp_snap: reclaim
 * and a concurrent publish freed other publishers' versions.) */
typedef struct {
    const snap_ops *o;
    void *s;
    lfp_sem in, out, returned;
    _Atomic int early;   /* publish returned before its version's free_fn did */
    int rc;
} free_race;

static LFP_THREAD_LOCAL bool is_publisher;

static void race_free(void *v, void *arg)
{
    free_race *r = arg;
    if (*(int *)v == 0 && !is_publisher &&
        lfp_sem_acquire(&r->returned, lfp_after(100 * 1000000), NULL) == 0)
        atomic_store(&r->early, 1);
    free(v);
}

static void *race_reader(void *arg)
{
    free_race *r = arg;
    assert_non_null(r->o->enter(r->s));
    lfp_sem_release(&r->in);
    assert_int_equal(lfp_sem_acquire(&r->out, LFP_FOREVER, NULL), 0);
    assert_int_equal(r->o->leave(r->s), 0);
    r->o->reclaim(r->s);
    return NULL;
}

static void *race_publisher(void *arg)
{
    free_race *r = arg;
    is_publisher = true;
    r->rc = r->o->publish(r->s, ver(1), LFP_FOREVER, NULL);
    lfp_sem_release(&r->returned);
    return NULL;
}

static void publish_zero_means_freed(void **state)
{
    (void)state;
    FOR_EACH_IMPL {
        for (int round = 0; round < 20; round++) {
            any_snap s;
            free_race r = { .o = o, .s = &s };
            assert_int_equal(lfp_sem_init(&r.in, 1), 0);
            assert_int_equal(lfp_sem_init(&r.out, 1), 0);
            assert_int_equal(lfp_sem_init(&r.returned, 1), 0);
            assert_int_equal(lfp_sem_try_acquire(&r.in), 0);
            assert_int_equal(lfp_sem_try_acquire(&r.out), 0);
            assert_int_equal(lfp_sem_try_acquire(&r.returned), 0);
            assert_int_equal(o->init(&s, ver(0), race_free, &r), 0);
            pthread_t t, w;
            assert_int_equal(pthread_create(&t, NULL, race_reader, &r), 0);
            assert_int_equal(lfp_sem_acquire(&r.in, LFP_FOREVER, NULL), 0);
            assert_int_equal(pthread_create(&w, NULL, race_publisher, &r), 0);
            /* Bounded, as in leave_wakes_publisher: until it parked. */
            if (o == impls)
                await_parking_writer();
            lfp_sem_release(&r.out);
            pthread_join(t, NULL);
            pthread_join(w, NULL);
            assert_int_equal(r.rc, 0);
            assert_int_equal(atomic_load(&r.early), 0);
            o->destroy(&s);
            lfp_sem_destroy(&r.in);
            lfp_sem_destroy(&r.out);
            lfp_sem_destroy(&r.returned);
        }
    }
}

/* Nesting has a bound; beyond it enter returns NULL without entering. */
static void nesting_depth_bound(void **state)
{
    (void)state;
    FOR_EACH_IMPL {
        any_snap s;
        free_log l = { 0 };
        assert_int_equal(o->init(&s, ver(0), log_free, &l), 0);
        unsigned max = o == impls ? 65535u : LFP_LOCKED_SNAP_DEPTH;
        for (unsigned i = 0; i < max; i++)
            assert_non_null(o->enter(&s));
        assert_null(o->enter(&s));
        for (unsigned i = 0; i < max; i++)
            assert_int_equal(o->leave(&s), 0);
        assert_int_equal(o->leave(&s), EPERM);
        assert_int_equal(o->publish(&s, ver(1), LFP_FOREVER, NULL), 0);   /* not inside */
        o->destroy(&s);
        assert_int_equal(l.frees, 2);
    }
}

/* Many short-lived threads: cells are reused, nothing blocks or leaks. */
static void *short_reader(void *arg)
{
    const snap_ops *o = impls;
    assert_non_null(o->enter(arg));
    assert_int_equal(o->leave(arg), 0);
    return NULL;
}

static void thread_churn(void **state)
{
    (void)state;
    lfp_snap s;
    free_log l = { 0 };
    assert_int_equal(lfp_snap_init(&s, ver(0), log_free, &l), 0);
    for (int i = 0; i < 200; i++) {
        pthread_t t;
        assert_int_equal(pthread_create(&t, NULL, short_reader, &s), 0);
        pthread_join(t, NULL);
        assert_int_equal(lfp_snap_publish(&s, ver(i + 1), LFP_FOREVER, NULL), 0);
    }
    assert_int_equal(l.frees, 200);
    lfp_snap_destroy(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(bad_input),
        cmocka_unit_test(publish_frees_old),
        cmocka_unit_test(nesting_and_misuse),
        cmocka_unit_test(async_then_reclaim_or_publish),
        cmocka_unit_test(update_copy_on_write),
        cmocka_unit_test(reader_blocks_publish),
        cmocka_unit_test(leave_wakes_publisher),
        cmocka_unit_test(publish_zero_means_freed),
        cmocka_unit_test(nesting_depth_bound),
        cmocka_unit_test(thread_churn),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
