/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit tests: lfpat/spsc.h, mpmc.h, mpsc.h and the twin lfp_locked_queue.
 *
 * One contract table (struct impl) runs the same tests against every queue;
 * then queue-specific tests (in-progress EAGAIN, the MPSC consumer guard) and
 * a differential test of lfp_mpmc against lfp_locked_queue. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "lfpat.h"

#define V(i) ((void *)(uintptr_t)(i))

/* ------------------------------------------------ the MPSC as a value queue */

/* lfp_mpsc carries nodes; the table adapts it with a pool of boxed values
 * (tests are single-threaded where the pool is used). */
#define POOL 256
struct box {
    lfp_mpsc_node node;
    void *value;
};
struct mpsc_vq {
    lfp_mpsc q;
    struct box boxes[POOL];
    struct box *free_list[POOL];
    size_t nfree;
};

static struct box *box_of(lfp_mpsc_node *n) { return (struct box *)((char *)n - offsetof(struct box, node)); }

static int mv_init(void *p, size_t cap)
{
    (void)cap;
    struct mpsc_vq *m = p;
    if (!m)
        return lfp_mpsc_init(NULL);
    m->nfree = POOL;
    for (size_t i = 0; i < POOL; i++)
        m->free_list[i] = &m->boxes[i];
    return lfp_mpsc_init(&m->q);
}
static void mv_destroy(void *p) { lfp_mpsc_destroy(p ? &((struct mpsc_vq *)p)->q : NULL); }
static int mv_try_push(void *p, void *v)
{
    struct mpsc_vq *m = p;
    if (!m)
        return lfp_mpsc_push(NULL, NULL);
    struct box *b = m->free_list[--m->nfree];
    b->value = v;
    int rc = lfp_mpsc_push(&m->q, &b->node);
    if (rc)
        m->free_list[m->nfree++] = b;   /* EPIPE: the node is still ours */
    return rc;
}
static int mv_finish_pop(struct mpsc_vq *m, int rc, lfp_mpsc_node *n, void **out)
{
    if (rc == 0) {
        *out = box_of(n)->value;
        m->free_list[m->nfree++] = box_of(n);
    }
    return rc;
}
static int mv_try_pop(void *p, void **out)
{
    struct mpsc_vq *m = p;
    lfp_mpsc_node *n = NULL;
    if (!m || !out)
        return lfp_mpsc_try_pop(m ? &m->q : NULL, out ? &n : NULL);
    int rc = lfp_mpsc_try_pop(&m->q, &n);
    return mv_finish_pop(m, rc, n, out);
}
static int mv_push(void *p, void *v, int64_t d, lfp_cancel *c)
{
    (void)d, (void)c;
    return mv_try_push(p, v);   /* unbounded: push never waits */
}
static int mv_pop(void *p, void **out, int64_t d, lfp_cancel *c)
{
    struct mpsc_vq *m = p;
    lfp_mpsc_node *n = NULL;
    if (!m || !out)
        return lfp_mpsc_pop(m ? &m->q : NULL, out ? &n : NULL, d, c);
    int rc = lfp_mpsc_pop(&m->q, &n, d, c);
    return mv_finish_pop(m, rc, n, out);
}
static size_t mv_push_n(void *p, void *const *v, size_t k)
{
    struct mpsc_vq *m = p;
    lfp_mpsc_node *nodes[POOL];
    if (!m || !v)
        return lfp_mpsc_push_n(m ? &m->q : NULL, NULL, k);
    for (size_t i = 0; i < k; i++) {
        struct box *b = m->free_list[m->nfree - 1 - i];
        b->value = v[i];
        nodes[i] = &b->node;
    }
    size_t got = lfp_mpsc_push_n(&m->q, nodes, k);
    assert_true(got == 0 || got == k);
    m->nfree -= got;
    return got;
}
static size_t mv_pop_n(void *p, void **v, size_t k)
{
    struct mpsc_vq *m = p;
    lfp_mpsc_node *nodes[POOL];
    if (!m || !v)
        return lfp_mpsc_pop_n(m ? &m->q : NULL, NULL, k);
    size_t got = lfp_mpsc_pop_n(&m->q, nodes, k);
    for (size_t i = 0; i < got; i++)
        mv_finish_pop(m, 0, nodes[i], &v[i]);
    return got;
}
static void mv_close(void *p) { lfp_mpsc_close(p ? &((struct mpsc_vq *)p)->q : NULL); }
static size_t mv_capacity(void *p) { return lfp_mpsc_capacity(&((struct mpsc_vq *)p)->q); }
static size_t mv_size(void *p) { return lfp_mpsc_size(&((struct mpsc_vq *)p)->q); }

/* ------------------------------------------------ the contract table */

struct impl {
    const char *name;
    size_t qsize;
    bool bounded, pow2, spsc;
    int (*init)(void *, size_t);
    void (*destroy)(void *);
    int (*try_push)(void *, void *);
    int (*try_pop)(void *, void **);
    int (*push)(void *, void *, int64_t, lfp_cancel *);
    int (*pop)(void *, void **, int64_t, lfp_cancel *);
    size_t (*push_n)(void *, void *const *, size_t);
    size_t (*pop_n)(void *, void **, size_t);
    void (*close)(void *);
    size_t (*capacity)(void *);
    size_t (*size)(void *);
};

#define CAPF(T) static size_t T##_capacity_(void *q) { return T##_capacity(q); }
CAPF(lfp_spsc)
CAPF(lfp_mpmc)
CAPF(lfp_locked_queue)

#define IMPL(T, bnd, p2, sp)                                                        \
    { #T, sizeof(T), bnd, p2, sp, (int (*)(void *, size_t))T##_init,                 \
      (void (*)(void *))T##_destroy, (int (*)(void *, void *))T##_try_push,          \
      (int (*)(void *, void **))T##_try_pop,                                         \
      (int (*)(void *, void *, int64_t, lfp_cancel *))T##_push,                      \
      (int (*)(void *, void **, int64_t, lfp_cancel *))T##_pop,                      \
      (size_t (*)(void *, void *const *, size_t))T##_push_n,                         \
      (size_t (*)(void *, void **, size_t))T##_pop_n, (void (*)(void *))T##_close,   \
      T##_capacity_, (size_t (*)(void *))T##_size }

static const struct impl impls[] = {
    IMPL(lfp_spsc, true, true, true),
    IMPL(lfp_mpmc, true, true, false),
    IMPL(lfp_locked_queue, true, false, false),
    { "lfp_mpsc", sizeof(struct mpsc_vq), false, false, false, mv_init, mv_destroy,
      mv_try_push, mv_try_pop, mv_push, mv_pop, mv_push_n, mv_pop_n, mv_close,
      mv_capacity, mv_size },
};
#define NIMPL (sizeof impls / sizeof impls[0])

static void *make(const struct impl *im, size_t cap)
{
    void *q = calloc(1, im->qsize);
    assert_non_null(q);
    assert_int_equal(im->init(q, cap), 0);
    return q;
}

static void drop(const struct impl *im, void *q)
{
    im->destroy(q);
    free(q);
}

#define FOR_EACH_IMPL(im) for (const struct impl *im = impls; im < impls + NIMPL; im++)

static void bad_input(void **state)
{
    (void)state;
    FOR_EACH_IMPL(im) {
        void *raw = calloc(1, im->qsize);
        assert_int_equal(im->init(NULL, 8), EINVAL);
        if (im->bounded) {
            assert_int_equal(im->init(raw, 0), EINVAL);
            assert_int_equal(im->init(raw, LFP_QUEUE_MAX_CAPACITY + 1), EINVAL);
            assert_int_equal(im->init(raw, SIZE_MAX), EINVAL);
        }
        free(raw);
        void *q = make(im, 4), *out;
        void *vals[2] = { V(1), V(2) };
        assert_int_equal(im->try_push(NULL, V(1)), EINVAL);
        assert_int_equal(im->try_pop(NULL, &out), EINVAL);
        assert_int_equal(im->try_pop(q, NULL), EINVAL);
        assert_int_equal(im->push(NULL, V(1), LFP_FOREVER, NULL), EINVAL);
        assert_int_equal(im->pop(NULL, &out, LFP_FOREVER, NULL), EINVAL);
        assert_int_equal(im->pop(q, NULL, LFP_FOREVER, NULL), EINVAL);
        assert_int_equal(im->push_n(NULL, vals, 2), 0);
        assert_int_equal(im->push_n(q, NULL, 2), 0);
        assert_int_equal(im->pop_n(NULL, &out, 1), 0);
        assert_int_equal(im->pop_n(q, NULL, 1), 0);
        im->close(NULL);     /* ignored */
        im->destroy(NULL);   /* ignored */
        drop(im, q);
    }
    lfp_mpsc mq;
    lfp_mpsc_node *n;
    assert_int_equal(lfp_mpsc_init(&mq), 0);
    assert_int_equal(lfp_mpsc_push(&mq, NULL), EINVAL);
    lfp_mpsc_node *nulls[2] = { NULL, NULL };
    assert_int_equal(lfp_mpsc_push_n(&mq, nulls, 2), 0);
    assert_int_equal(lfp_mpsc_try_pop(&mq, &n), EAGAIN);
    lfp_mpsc_destroy(&mq);
}

static void fifo_with_null_values(void **state)
{
    (void)state;
    FOR_EACH_IMPL(im) {
        void *q = make(im, 8), *out = V(99);
        assert_int_equal(im->try_pop(q, &out), EAGAIN);
        for (int round = 0; round < 5; round++) {   /* wraps around the ring */
            assert_int_equal(im->try_push(q, NULL), 0);
            for (uintptr_t i = 1; i < 6; i++)
                assert_int_equal(im->try_push(q, V(i)), 0);
            assert_int_equal(im->size(q), 6);
            assert_int_equal(im->try_pop(q, &out), 0);
            assert_null(out);
            for (uintptr_t i = 1; i < 6; i++) {
                assert_int_equal(im->try_pop(q, &out), 0);
                assert_ptr_equal(out, V(i));
            }
            assert_int_equal(im->size(q), 0);
            assert_int_equal(im->try_pop(q, &out), EAGAIN);
        }
        drop(im, q);
    }
}

static void capacity_and_full(void **state)
{
    (void)state;
    FOR_EACH_IMPL(im) {
        if (!im->bounded) {
            void *q = make(im, 0);
            assert_true(im->capacity(q) == SIZE_MAX);
            drop(im, q);
            continue;
        }
        void *q = make(im, 5), *out;
        size_t cap = im->pow2 ? 8 : 5;
        assert_int_equal(im->capacity(q), cap);
        for (size_t i = 0; i < cap; i++)
            assert_int_equal(im->try_push(q, V(i)), 0);
        assert_int_equal(im->size(q), cap);
        assert_int_equal(im->try_push(q, V(100)), EAGAIN);
        assert_int_equal(im->push(q, V(100), lfp_after(1000000), NULL), ETIMEDOUT);
        assert_int_equal(im->push(q, V(100), 0, NULL), ETIMEDOUT);   /* past deadline */
        assert_int_equal(im->try_pop(q, &out), 0);
        assert_ptr_equal(out, V(0));
        assert_int_equal(im->push(q, V(100), 0, NULL), 0);   /* room beats the deadline */
        drop(im, q);   /* non-empty destroy: LSan checks nothing leaks */
        q = make(im, 1);
        cap = im->capacity(q);   /* lfp_mpmc: at least 2 */
        assert_int_equal(cap, strcmp(im->name, "lfp_mpmc") ? 1 : 2);
        for (size_t i = 0; i < cap; i++)
            assert_int_equal(im->try_push(q, V(1)), 0);
        assert_int_equal(im->try_push(q, V(2)), EAGAIN);
        drop(im, q);
    }
}

static void deadline_and_cancel(void **state)
{
    (void)state;
    lfp_cancel fired;
    assert_int_equal(lfp_cancel_init(&fired, NULL), 0);
    lfp_cancel_fire(&fired, 42);
    FOR_EACH_IMPL(im) {
        void *q = make(im, 4), *out;
        assert_int_equal(im->pop(q, &out, lfp_after(1000000), NULL), ETIMEDOUT);
        assert_int_equal(im->pop(q, &out, LFP_FOREVER, &fired), ECANCELED);
        assert_int_equal(im->try_push(q, V(7)), 0);
        assert_int_equal(im->pop(q, &out, 0, &fired), 0);   /* a value beats both */
        assert_ptr_equal(out, V(7));
        if (im->bounded) {
            while (im->try_push(q, V(1)) == 0)
                ;
            assert_int_equal(im->push(q, V(2), LFP_FOREVER, &fired), ECANCELED);
        }
        drop(im, q);
    }
    lfp_cancel_destroy(&fired);
}

static void close_semantics(void **state)
{
    (void)state;
    FOR_EACH_IMPL(im) {
        void *q = make(im, 8), *out;
        void *vals[3] = { V(1), V(2), V(3) };
        assert_int_equal(im->try_push(q, V(10)), 0);
        assert_int_equal(im->try_push(q, V(11)), 0);
        im->close(q);
        im->close(q);   /* idempotent */
        assert_int_equal(im->try_push(q, V(12)), EPIPE);
        assert_int_equal(im->push(q, V(12), LFP_FOREVER, NULL), EPIPE);
        assert_int_equal(im->push_n(q, vals, 3), 0);
        assert_int_equal(im->size(q), 2);
        assert_int_equal(im->try_pop(q, &out), 0);     /* drains */
        assert_ptr_equal(out, V(10));
        assert_int_equal(im->pop(q, &out, LFP_FOREVER, NULL), 0);
        assert_ptr_equal(out, V(11));
        assert_int_equal(im->try_pop(q, &out), EPIPE);
        assert_int_equal(im->pop(q, &out, LFP_FOREVER, NULL), EPIPE);
        assert_int_equal(im->pop_n(q, vals, 3), 0);
        drop(im, q);
    }
}

static void batches(void **state)
{
    (void)state;
    FOR_EACH_IMPL(im) {
        void *q = make(im, 16);
        void *in[40], *out[40];
        for (uintptr_t i = 0; i < 40; i++)
            in[i] = V(i + 1);
        for (int round = 0; round < 4; round++) {
            size_t want = im->bounded ? 16 : 40;
            assert_int_equal(im->push_n(q, in, 40), want);
            assert_int_equal(im->size(q), want);
            assert_int_equal(im->pop_n(q, out, 5), 5);
            assert_int_equal(im->pop_n(q, out + 5, 40), want - 5);
            for (size_t i = 0; i < want; i++)
                assert_ptr_equal(out[i], in[i]);
            assert_int_equal(im->pop_n(q, out, 40), 0);
            assert_int_equal(im->push_n(q, in, 3), 3);   /* shifts the ring */
            assert_int_equal(im->pop_n(q, out, 3), 3);
        }
        assert_int_equal(im->push_n(q, in, 0), 0);
        drop(im, q);
    }
}

/* ------------------------------------------------ blocking, threaded */

struct blocked {
    const struct impl *im;
    void *q;
    lfp_cancel *cancel;
    void *out;
    int rc;
    bool push;
};

static void *blocked_thread(void *p)
{
    struct blocked *b = p;
    b->rc = b->push ? b->im->push(b->q, V(5), LFP_FOREVER, b->cancel)
                    : b->im->pop(b->q, &b->out, LFP_FOREVER, b->cancel);
    return NULL;
}

/* Start a blocking call on a thread, do `wake` from this one, join. Whether
 * the thread had parked yet does not matter to the result. */
static int run_blocked(const struct impl *im, void *q, bool push, lfp_cancel *c,
                       void (*wake)(const struct impl *, void *, lfp_cancel *), void **out)
{
    struct blocked b = { im, q, c, NULL, -1, push };
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, blocked_thread, &b), 0);
    wake(im, q, c);
    pthread_join(t, NULL);
    if (out)
        *out = b.out;
    return b.rc;
}

static void wake_by_push(const struct impl *im, void *q, lfp_cancel *c)
{
    (void)c;
    assert_int_equal(im->push(q, V(77), LFP_FOREVER, NULL), 0);
}
static void wake_by_pop(const struct impl *im, void *q, lfp_cancel *c)
{
    (void)c;
    void *out;
    assert_int_equal(im->pop(q, &out, LFP_FOREVER, NULL), 0);
}
static void wake_by_close(const struct impl *im, void *q, lfp_cancel *c) { (void)c; im->close(q); }
static void wake_by_cancel(const struct impl *im, void *q, lfp_cancel *c)
{
    (void)im, (void)q;
    lfp_cancel_fire(c, 1);
}

static void fill(const struct impl *im, void *q)
{
    while (im->try_push(q, V(1)) == 0)
        ;
}

/* A push blocked on a full ring completes when a single slot frees, however
 * large the ring (lfp_spsc's push waits, while the consumer drains, for a
 * batch of free slots: it must give up on that when the consumer stops). */
static void blocked_push_takes_one_free_slot(void **state)
{
    (void)state;
    FOR_EACH_IMPL(im) {
        if (!im->bounded)
            continue;
        void *q = make(im, 256);
        fill(im, q);
        assert_int_equal(run_blocked(im, q, true, NULL, wake_by_pop, NULL), 0);
        assert_int_equal(im->try_push(q, V(1)), EAGAIN);   /* full again */
        drop(im, q);
    }
}

static void blocking_wakeups(void **state)
{
    (void)state;
    FOR_EACH_IMPL(im) {
        for (int i = 0; i < 20; i++) {
            lfp_cancel c;
            assert_int_equal(lfp_cancel_init(&c, NULL), 0);
            void *q = make(im, 1), *out = NULL;
            assert_int_equal(run_blocked(im, q, false, NULL, wake_by_push, &out), 0);
            assert_ptr_equal(out, V(77));
            assert_int_equal(run_blocked(im, q, false, &c, wake_by_cancel, NULL), ECANCELED);
            if (im->bounded) {
                fill(im, q);
                assert_int_equal(run_blocked(im, q, true, NULL, wake_by_pop, NULL), 0);
                assert_int_equal(run_blocked(im, q, true, NULL, wake_by_close, NULL), EPIPE);
            } else {
                assert_int_equal(run_blocked(im, q, false, NULL, wake_by_close, NULL), EPIPE);
            }
            lfp_cancel_destroy(&c);
            drop(im, q);
        }
    }
}

/* ------------------------------------------------ in-progress EAGAIN */

/* The header's statement: a push that claimed position head but has not
 * published makes try_pop return EAGAIN, even with later pushes complete. */
static void mpmc_try_pop_eagain_while_push_in_progress(void **state)
{
    (void)state;
    lfp_mpmc q;
    void *out;
    size_t pos = 0;
    assert_int_equal(lfp_mpmc_init(&q, 4), 0);
    assert_int_equal(lfp_mpmc_claim_push_(&q, &pos), 0);   /* producer A: claimed */
    assert_int_equal(pos, 0);
    assert_int_equal(lfp_mpmc_try_push(&q, V(2)), 0);      /* producer B: done */
    assert_int_equal(lfp_mpmc_size(&q), 2);
    assert_int_equal(lfp_mpmc_try_pop(&q, &out), EAGAIN);
    assert_int_equal(lfp_mpmc_pop(&q, &out, lfp_after(1000000), NULL), ETIMEDOUT);
    assert_int_equal(lfp_mpmc_pop_n(&q, &out, 1), 0);
    lfp_mpmc_close(&q);                                     /* A claimed before close */
    assert_int_equal(lfp_mpmc_try_pop(&q, &out), EAGAIN);  /* not EPIPE: A will deliver */
    lfp_mpmc_publish_(&q, pos, V(1));                       /* A publishes */
    assert_int_equal(lfp_mpmc_try_pop(&q, &out), 0);
    assert_ptr_equal(out, V(1));
    assert_int_equal(lfp_mpmc_try_pop(&q, &out), 0);
    assert_ptr_equal(out, V(2));
    assert_int_equal(lfp_mpmc_try_pop(&q, &out), EPIPE);
    lfp_mpmc_destroy(&q);
}

/* The symmetric case: a pop that claimed the oldest cell but has not freed it
 * makes try_push on that cell return EAGAIN. */
static void mpmc_try_push_eagain_while_pop_in_progress(void **state)
{
    (void)state;
    lfp_mpmc q;
    void *out;
    size_t pos = 0;
    assert_int_equal(lfp_mpmc_init(&q, 2), 0);
    assert_int_equal(lfp_mpmc_try_push(&q, V(1)), 0);
    assert_int_equal(lfp_mpmc_try_push(&q, V(2)), 0);
    assert_int_equal(lfp_mpmc_claim_pop_(&q, &pos), 0);     /* consumer A: claimed */
    assert_int_equal(lfp_mpmc_try_pop(&q, &out), 0);        /* consumer B: done */
    assert_ptr_equal(out, V(2));
    assert_int_equal(lfp_mpmc_size(&q), 0);
    assert_int_equal(lfp_mpmc_try_push(&q, V(3)), EAGAIN);  /* cell 0 still A's */
    assert_ptr_equal(lfp_mpmc_release_(&q, pos), V(1));
    assert_int_equal(lfp_mpmc_try_push(&q, V(3)), 0);
    lfp_mpmc_destroy(&q);
}

/* MPSC: a push between its CAS on tail and its link hides itself and every
 * later push from try_pop. The test performs that push's two steps by hand. */
static void mpsc_try_pop_eagain_while_push_in_progress(void **state)
{
    (void)state;
    lfp_mpsc q;
    lfp_mpsc_node a, b, *out;
    assert_int_equal(lfp_mpsc_init(&q), 0);
    atomic_store(&a.next, NULL);
    uintptr_t prev = atomic_exchange(&q.tail, (uintptr_t)&a);   /* A's CAS */
    assert_int_equal(lfp_mpsc_push(&q, &b), 0);                  /* B: complete */
    assert_int_equal(lfp_mpsc_try_pop(&q, &out), EAGAIN);
    lfp_mpsc_close(&q);
    assert_int_equal(lfp_mpsc_try_pop(&q, &out), EAGAIN);        /* not EPIPE */
    atomic_store(&((lfp_mpsc_node *)prev)->next, &a);            /* A's link */
    assert_int_equal(lfp_mpsc_try_pop(&q, &out), 0);
    assert_ptr_equal(out, &a);
    assert_int_equal(lfp_mpsc_try_pop(&q, &out), 0);
    assert_ptr_equal(out, &b);
    assert_int_equal(lfp_mpsc_try_pop(&q, &out), EPIPE);
    assert_int_equal(lfp_mpsc_size(&q), 0);
    lfp_mpsc_destroy(&q);
}

/* A second consumer inside a pop is refused with EBUSY, and the queue is
 * intact afterwards. The test holds the guard as "the other consumer". */
static void mpsc_second_consumer_gets_ebusy(void **state)
{
    (void)state;
    lfp_mpsc q;
    lfp_mpsc_node a, *out, *outs[2];
    assert_int_equal(lfp_mpsc_init(&q), 0);
    assert_int_equal(lfp_mpsc_push(&q, &a), 0);
    assert_true(lfp_mpsc_enter_(&q));                     /* consumer 1 is popping */
    assert_int_equal(lfp_mpsc_try_pop(&q, &out), EBUSY);  /* consumer 2 */
    assert_int_equal(lfp_mpsc_pop(&q, &out, LFP_FOREVER, NULL), EBUSY);
    assert_int_equal(lfp_mpsc_pop_n(&q, outs, 2), 0);
    lfp_mpsc_leave_(&q);
    assert_int_equal(lfp_mpsc_try_pop(&q, &out), 0);
    assert_ptr_equal(out, &a);
    lfp_mpsc_destroy(&q);
}

static void mpsc_push_n_keeps_order_and_close_leaves_node(void **state)
{
    (void)state;
    lfp_mpsc q;
    lfp_mpsc_node n[5], *v[5], *out;
    assert_int_equal(lfp_mpsc_init(&q), 0);
    for (int i = 0; i < 5; i++)
        v[i] = &n[i];
    assert_int_equal(lfp_mpsc_push(&q, &n[4]), 0);
    assert_int_equal(lfp_mpsc_push_n(&q, v, 4), 4);
    assert_int_equal(lfp_mpsc_size(&q), 5);
    assert_int_equal(lfp_mpsc_try_pop(&q, &out), 0);
    assert_ptr_equal(out, &n[4]);
    for (int i = 0; i < 4; i++) {
        assert_int_equal(lfp_mpsc_try_pop(&q, &out), 0);
        assert_ptr_equal(out, &n[i]);
    }
    lfp_mpsc_close(&q);
    assert_true(lfp_mpsc_closed(&q));
    assert_int_equal(lfp_mpsc_push(&q, &n[0]), EPIPE);
    assert_int_equal(lfp_mpsc_try_pop(&q, &out), EPIPE);
    lfp_mpsc_destroy(&q);
}

/* ------------------------------------------------ differential */

static void differential_mpmc_vs_locked(void **state)
{
    (void)state;
    lfp_mpmc m;
    lfp_locked_queue l;
    assert_int_equal(lfp_mpmc_init(&m, 8), 0);
    assert_int_equal(lfp_locked_queue_init(&l, 8), 0);
    uint64_t x = 88172645463325252ull;
    void *bm[12], *bl[12], *om, *ol;
    for (int i = 0; i < 200000; i++) {
        x ^= x << 13; x ^= x >> 7; x ^= x << 17;
        unsigned k = (unsigned)(x >> 40) % 12 + 1;
        for (unsigned j = 0; j < k; j++)
            bm[j] = V(x + j);
        switch ((x >> 8) % 6) {
        case 0: case 1:
            assert_int_equal(lfp_mpmc_try_push(&m, V(x)), lfp_locked_queue_try_push(&l, V(x)));
            break;
        case 2: case 3:
            om = ol = NULL;
            assert_int_equal(lfp_mpmc_try_pop(&m, &om), lfp_locked_queue_try_pop(&l, &ol));
            assert_ptr_equal(om, ol);
            break;
        case 4:
            assert_int_equal(lfp_mpmc_push_n(&m, bm, k), lfp_locked_queue_push_n(&l, bm, k));
            break;
        default: {
            size_t a = lfp_mpmc_pop_n(&m, bm, k);
            assert_int_equal(a, lfp_locked_queue_pop_n(&l, bl, k));
            for (size_t j = 0; j < a; j++)
                assert_ptr_equal(bm[j], bl[j]);
        }
        }
        assert_int_equal(lfp_mpmc_size(&m), lfp_locked_queue_size(&l));
        if (i == 190000) {
            lfp_mpmc_close(&m);
            lfp_locked_queue_close(&l);
        }
    }
    assert_int_equal(lfp_mpmc_closed(&m), lfp_locked_queue_closed(&l));
    lfp_mpmc_destroy(&m);
    lfp_locked_queue_destroy(&l);
}

/* White-box: close while a push is between its closed check and its
 * publish (announced, not yet published). close must wait for it; pop must
 * say EAGAIN (not EPIPE) meanwhile, and deliver the value afterwards. */
static void *spsc_closer(void *q)
{
    lfp_spsc_close(q);
    return NULL;
}

static void spsc_close_waits_for_push_in_progress(void **state)
{
    (void)state;
    lfp_spsc q;
    void *out = NULL;
    assert_int_equal(lfp_spsc_init(&q, 4), 0);
    assert_int_equal(lfp_spsc_announce_(&q, 0), 0);   /* the push saw OPEN */
    pthread_t closer;
    assert_int_equal(pthread_create(&closer, NULL, spsc_closer, &q), 0);
    while (!lfp_spsc_closed(&q))   /* wait for CLOSING (state, not time) */
        sched_yield();
    assert_int_equal(lfp_spsc_try_pop(&q, &out), EAGAIN);   /* not EPIPE yet */
    /* the push publishes as try_push does */
    q.slots[0] = V(7);
    lfp_spsc_publish_(&q, 1);
    assert_int_equal(pthread_join(closer, NULL), 0);
    assert_int_equal(lfp_spsc_try_pop(&q, &out), 0);
    assert_ptr_equal(out, V(7));
    assert_int_equal(lfp_spsc_try_pop(&q, &out), EPIPE);
    assert_int_equal(lfp_spsc_try_push(&q, V(8)), EPIPE);
    lfp_spsc_destroy(&q);
}

static void spsc_layout(void **state)
{
    (void)state;
    assert_true(offsetof(lfp_spsc, head) - offsetof(lfp_spsc, tail) >= LFP_CACHELINE);
    /* a push's announcement stays off the line the consumer reads (tail) */
    assert_true(offsetof(lfp_spsc, entered) - offsetof(lfp_spsc, tail) >= LFP_CACHELINE);
    assert_true(offsetof(lfp_mpmc, head) - offsetof(lfp_mpmc, tail) >= LFP_CACHELINE);
    assert_true(offsetof(lfp_mpsc, head) - offsetof(lfp_mpsc, tail) >= LFP_CACHELINE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(bad_input),
        cmocka_unit_test(fifo_with_null_values),
        cmocka_unit_test(capacity_and_full),
        cmocka_unit_test(deadline_and_cancel),
        cmocka_unit_test(close_semantics),
        cmocka_unit_test(batches),
        cmocka_unit_test(blocking_wakeups),
        cmocka_unit_test(blocked_push_takes_one_free_slot),
        cmocka_unit_test(mpmc_try_pop_eagain_while_push_in_progress),
        cmocka_unit_test(mpmc_try_push_eagain_while_pop_in_progress),
        cmocka_unit_test(mpsc_try_pop_eagain_while_push_in_progress),
        cmocka_unit_test(mpsc_second_consumer_gets_ebusy),
        cmocka_unit_test(mpsc_push_n_keeps_order_and_close_leaves_node),
        cmocka_unit_test(differential_mpmc_vs_locked),
        cmocka_unit_test(spsc_close_waits_for_push_in_progress),
        cmocka_unit_test(spsc_layout),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
