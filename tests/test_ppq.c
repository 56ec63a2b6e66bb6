/* SPDX-License-Identifier: BSD-2-Clause */
/* test_ppq.c — lfp_ppq (per-producer FIFO queue): every call and return
 * code, capacity 1, handle misuse, per-producer order, the exact EAGAIN and
 * EPIPE rules of "Claim vs publish" and "Close" (white-box: a push held
 * between its announcement and its publish with the header's internal
 * steps), blocking calls woken by push, pop and close (parked threads read
 * from the kernel, tests/parked.h), and the symmetric fallback.
 * Waits are bounded (5 s deadlines); no test relies on them to pass. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>

#include "lfpat.h"
#include "parked.h"

#define V(x) ((void *)(uintptr_t)(x))
#define BOUND_NS PARKED_BOUND_NS

static void init_rejects_bad_arguments(void **state)
{
    (void)state;
    lfp_ppq q;
    assert_int_equal(lfp_ppq_init(NULL, 4, 2), EINVAL);
    assert_int_equal(lfp_ppq_init(&q, 0, 2), EINVAL);
    assert_int_equal(lfp_ppq_init(&q, LFP_QUEUE_MAX_CAPACITY + 1, 2), EINVAL);
    assert_int_equal(lfp_ppq_init(&q, 4, 0), EINVAL);
    assert_int_equal(lfp_ppq_init(&q, 4, LFP_PPQ_MAX_PRODUCERS + 1), EINVAL);
    assert_int_equal(lfp_ppq_init(&q, LFP_QUEUE_MAX_CAPACITY, 2), EINVAL);   /* total too big */
    assert_int_equal(lfp_ppq_init(&q, 3, 2), 0);
    assert_int_equal(lfp_ppq_capacity(&q), 4);   /* rounded up, per producer */
    assert_false(lfp_ppq_closed(&q));
    lfp_ppq_destroy(&q);
    lfp_ppq_destroy(NULL);
    lfp_ppq_close(NULL);
}

static void handle_misuse(void **state)
{
    (void)state;
    lfp_ppq q;
    lfp_ppq_producer p, p2, extra;
    lfp_ppq_consumer c;
    void *out = V(7);
    assert_int_equal(lfp_ppq_init(&q, 2, 2), 0);
    assert_int_equal(lfp_ppq_producer_init(NULL, &p), EINVAL);
    assert_int_equal(lfp_ppq_producer_init(&q, NULL), EINVAL);
    assert_int_equal(lfp_ppq_consumer_init(NULL, &c), EINVAL);
    assert_int_equal(lfp_ppq_consumer_init(&q, NULL), EINVAL);
    assert_int_equal(lfp_ppq_try_push(NULL, V(1)), EINVAL);
    assert_int_equal(lfp_ppq_push(NULL, V(1), LFP_FOREVER, NULL), EINVAL);
    assert_int_equal(lfp_ppq_try_pop(NULL, &out), EINVAL);
    assert_int_equal(lfp_ppq_pop(NULL, &out, LFP_FOREVER, NULL), EINVAL);

    assert_int_equal(lfp_ppq_producer_init(&q, &p), 0);
    assert_int_equal(lfp_ppq_producer_init(&q, &p2), 0);
    assert_int_equal(lfp_ppq_producer_init(&q, &extra), EAGAIN);   /* all rings held */
    assert_int_equal(lfp_ppq_try_push(&extra, V(1)), EINVAL);      /* never registered */
    assert_int_equal(lfp_ppq_consumer_init(&q, &c), 0);
    assert_int_equal(lfp_ppq_try_pop(&c, NULL), EINVAL);
    assert_int_equal(lfp_ppq_pop(&c, NULL, LFP_FOREVER, NULL), EINVAL);

    /* A destroyed producer: its calls fail, a second destroy is ignored,
     * its values stay and are popped before the next owner's. */
    assert_int_equal(lfp_ppq_try_push(&p, V(1)), 0);
    lfp_ppq_producer_destroy(&p);
    lfp_ppq_producer_destroy(&p);
    lfp_ppq_producer_destroy(NULL);
    assert_int_equal(lfp_ppq_try_push(&p, V(2)), EINVAL);
    assert_int_equal(lfp_ppq_push(&p, V(2), LFP_FOREVER, NULL), EINVAL);
    assert_int_equal(lfp_ppq_producer_init(&q, &extra), 0);   /* gets p's ring */
    assert_int_equal(lfp_ppq_try_push(&extra, V(3)), 0);
    assert_int_equal(lfp_ppq_try_push(&extra, V(4)), EAGAIN);   /* p's value still in it */
    assert_int_equal(lfp_ppq_try_pop(&c, &out), 0);
    assert_ptr_equal(out, V(1));
    assert_int_equal(lfp_ppq_try_pop(&c, &out), 0);
    assert_ptr_equal(out, V(3));

    lfp_ppq_consumer_destroy(&c);
    lfp_ppq_consumer_destroy(NULL);
    assert_int_equal(lfp_ppq_try_pop(&c, &out), EINVAL);
    assert_int_equal(lfp_ppq_pop(&c, &out, LFP_FOREVER, NULL), EINVAL);
    lfp_ppq_producer_destroy(&p2);
    lfp_ppq_producer_destroy(&extra);
    lfp_ppq_destroy(&q);
}

/* Three producers interleaved, several consumers: each producer's values
 * come out in push order, every value exactly once, NULL included. */
static void per_producer_fifo(void **state)
{
    (void)state;
    enum { P = 3, N = 40 };
    lfp_ppq q;
    lfp_ppq_producer p[P];
    lfp_ppq_consumer c[2];
    assert_int_equal(lfp_ppq_init(&q, 64, 4), 0);
    for (int i = 0; i < P; i++)
        assert_int_equal(lfp_ppq_producer_init(&q, &p[i]), 0);
    for (int i = 0; i < 2; i++)
        assert_int_equal(lfp_ppq_consumer_init(&q, &c[i]), 0);
    for (uintptr_t s = 0; s < N; s++)
        for (uintptr_t i = 0; i < P; i++)
            assert_int_equal(lfp_ppq_try_push(&p[i], V(i == 0 && s == 0 ? 0 : (i << 16) | s)), 0);
    uintptr_t next[2][P] = {{0}};
    int got = 0;
    void *out;
    for (int k = 0; got < P * N; k++) {
        /* Every push completed before these calls: no EAGAIN. */
        assert_int_equal(lfp_ppq_try_pop(&c[k & 1], &out), 0);
        uintptr_t v = (uintptr_t)out, i = v >> 16, s = v & 0xffff;
        assert_true(i < P);
        assert_true(s >= next[k & 1][i]);   /* increasing per consumer */
        next[k & 1][i] = s + 1;
        got++;
    }
    assert_int_equal(lfp_ppq_try_pop(&c[0], &out), EAGAIN);
    assert_int_equal(lfp_ppq_try_pop(&c[1], &out), EAGAIN);
    lfp_ppq_destroy(&q);
}

/* Capacity is per producer; capacity 1 works. */
static void capacity_one_per_producer(void **state)
{
    (void)state;
    lfp_ppq q;
    lfp_ppq_producer a, b;
    lfp_ppq_consumer c;
    void *out;
    assert_int_equal(lfp_ppq_init(&q, 1, 2), 0);
    assert_int_equal(lfp_ppq_capacity(&q), 1);
    assert_int_equal(lfp_ppq_producer_init(&q, &a), 0);
    assert_int_equal(lfp_ppq_producer_init(&q, &b), 0);
    assert_int_equal(lfp_ppq_consumer_init(&q, &c), 0);
    for (uintptr_t round = 0; round < 5; round++) {
        assert_int_equal(lfp_ppq_try_push(&a, V(10 + round)), 0);
        assert_int_equal(lfp_ppq_try_push(&a, V(99)), EAGAIN);        /* a's ring full */
        assert_int_equal(lfp_ppq_try_push(&b, V(20 + round)), 0);     /* b has its own */
        assert_int_equal(lfp_ppq_push(&a, V(99), lfp_after(1000000), NULL), ETIMEDOUT);
        uintptr_t sum = 0;
        for (int k = 0; k < 2; k++) {
            assert_int_equal(lfp_ppq_try_pop(&c, &out), 0);
            sum += (uintptr_t)out;
        }
        assert_int_equal(sum, 30 + 2 * round);
        assert_int_equal(lfp_ppq_try_pop(&c, &out), EAGAIN);
    }
    lfp_ppq_destroy(&q);
}

static void timeouts_and_cancel(void **state)
{
    (void)state;
    lfp_ppq q;
    lfp_ppq_producer p;
    lfp_ppq_consumer c;
    lfp_cancel fired;
    void *out;
    assert_int_equal(lfp_ppq_init(&q, 1, 1), 0);
    assert_int_equal(lfp_ppq_producer_init(&q, &p), 0);
    assert_int_equal(lfp_ppq_consumer_init(&q, &c), 0);
    assert_int_equal(lfp_cancel_init(&fired, NULL), 0);
    lfp_cancel_fire(&fired, 1);
    assert_int_equal(lfp_ppq_pop(&c, &out, lfp_after(1000000), NULL), ETIMEDOUT);
    assert_int_equal(lfp_ppq_pop(&c, &out, 0, NULL), ETIMEDOUT);   /* past deadline */
    assert_int_equal(lfp_ppq_pop(&c, &out, LFP_FOREVER, &fired), ECANCELED);
    assert_int_equal(lfp_ppq_push(&p, V(1), 0, &fired), 0);   /* room preferred */
    assert_int_equal(lfp_ppq_push(&p, V(2), lfp_after(1000000), NULL), ETIMEDOUT);
    assert_int_equal(lfp_ppq_push(&p, V(2), LFP_FOREVER, &fired), ECANCELED);
    assert_int_equal(lfp_ppq_pop(&c, &out, 0, &fired), 0);     /* value preferred */
    assert_ptr_equal(out, V(1));
    lfp_cancel_destroy(&fired);
    lfp_ppq_destroy(&q);
}

static void close_drains_then_epipe(bool symmetric)
{
    lfp_ppq q;
    lfp_ppq_producer a, b;
    lfp_ppq_consumer c;
    void *out;
    assert_int_equal(lfp_ppq_init(&q, 2, 3), 0);
    if (symmetric)
        lfp_ppq_symmetric_(&q);
    assert_int_equal(lfp_ppq_producer_init(&q, &a), 0);
    assert_int_equal(lfp_ppq_producer_init(&q, &b), 0);
    assert_int_equal(lfp_ppq_consumer_init(&q, &c), 0);
    assert_int_equal(lfp_ppq_try_push(&a, V(1)), 0);
    assert_int_equal(lfp_ppq_try_push(&a, V(2)), 0);
    assert_int_equal(lfp_ppq_try_push(&b, V(3)), 0);
    lfp_ppq_close(&q);
    lfp_ppq_close(&q);   /* idempotent */
    assert_true(lfp_ppq_closed(&q));
    assert_int_equal(lfp_ppq_try_push(&b, V(4)), EPIPE);
    assert_int_equal(lfp_ppq_push(&b, V(4), LFP_FOREVER, NULL), EPIPE);
    assert_int_equal(lfp_ppq_try_push(&a, V(4)), EPIPE);   /* full and closed */
    assert_int_equal(lfp_ppq_push(&a, V(4), LFP_FOREVER, NULL), EPIPE);
    uintptr_t sum = 0;
    for (int k = 0; k < 3; k++) {
        assert_int_equal(lfp_ppq_pop(&c, &out, LFP_FOREVER, NULL), 0);
        sum += (uintptr_t)out;
    }
    assert_int_equal(sum, 6);
    assert_int_equal(lfp_ppq_try_pop(&c, &out), EPIPE);
    assert_int_equal(lfp_ppq_pop(&c, &out, LFP_FOREVER, NULL), EPIPE);
    /* A producer registered after close is refused too. */
    lfp_ppq_producer late;
    assert_int_equal(lfp_ppq_producer_init(&q, &late), 0);
    assert_int_equal(lfp_ppq_try_push(&late, V(5)), EPIPE);
    assert_int_equal(lfp_ppq_try_pop(&c, &out), EPIPE);
    lfp_ppq_destroy(&q);
}

static void close_drains(void **state) { (void)state; close_drains_then_epipe(false); }
static void close_drains_symmetric(void **state) { (void)state; close_drains_then_epipe(true); }

/* "Claim vs publish", white-box: a push held between its announcement and
 * its publish (the header's internal steps) is invisible to try_pop, which
 * says EAGAIN — also after close (not EPIPE: that value is still to come);
 * once published, any consumer finds it whatever its cursor; a value whose
 * push completed before the call began is always found. */
static void eagain_only_for_unpublished_(bool symmetric)
{
    enum { P = 3 };
    lfp_ppq q;
    lfp_ppq_producer p[P];
    lfp_ppq_consumer c[P];
    void *out;
    assert_int_equal(lfp_ppq_init(&q, 4, P), 0);
    if (symmetric)
        lfp_ppq_symmetric_(&q);
    for (int i = 0; i < P; i++) {
        assert_int_equal(lfp_ppq_producer_init(&q, &p[i]), 0);
        assert_int_equal(lfp_ppq_consumer_init(&q, &c[i]), 0);   /* cursors on rings 0, 1, 2 */
    }
    /* Completed pushes are found from every cursor. */
    for (int ring = 0; ring < P; ring++) {
        for (int k = 0; k < P; k++) {
            assert_int_equal(lfp_ppq_try_push(&p[ring], V(100 + ring)), 0);
            assert_int_equal(lfp_ppq_try_pop(&c[k], &out), 0);
            assert_ptr_equal(out, V(100 + ring));
        }
    }
    /* A push in progress on ring 1: announced, not published. */
    size_t t = atomic_load_explicit(&p[1].ring->tail, memory_order_relaxed);
    assert_int_equal(lfp_ppq_announce_(&p[1], t), 0);
    for (int k = 0; k < P; k++)
        assert_int_equal(lfp_ppq_try_pop(&c[k], &out), EAGAIN);
    lfp_ppq_close(&q);
    for (int k = 0; k < P; k++)
        assert_int_equal(lfp_ppq_try_pop(&c[k], &out), EAGAIN);   /* pending, not EPIPE */
    assert_int_equal(lfp_ppq_try_push(&p[0], V(1)), EPIPE);        /* after close: refused */
    lfp_ppq_publish_(&p[1], t, V(42));                             /* it read OPEN: delivered */
    assert_int_equal(lfp_ppq_try_pop(&c[2], &out), 0);
    assert_ptr_equal(out, V(42));
    for (int k = 0; k < P; k++)
        assert_int_equal(lfp_ppq_try_pop(&c[k], &out), EPIPE);
    lfp_ppq_destroy(&q);
}

static void eagain_only_for_unpublished(void **state)
{
    (void)state;
    eagain_only_for_unpublished_(false);
    eagain_only_for_unpublished_(true);
}

/* A consumer does not starve a ring: after LFP_PPQ_QUOTA values from one
 * ring its cursor moves on even though that ring is never empty. */
static void quota_rotates_cursor(void **state)
{
    (void)state;
    lfp_ppq q;
    lfp_ppq_producer a, b;
    lfp_ppq_consumer c;
    void *out;
    assert_int_equal(lfp_ppq_init(&q, 4, 2), 0);
    assert_int_equal(lfp_ppq_producer_init(&q, &a), 0);
    assert_int_equal(lfp_ppq_producer_init(&q, &b), 0);
    assert_int_equal(lfp_ppq_consumer_init(&q, &c), 0);
    assert_int_equal(lfp_ppq_try_push(&b, V(2)), 0);
    bool got_b = false;
    for (unsigned k = 0; k <= LFP_PPQ_QUOTA && !got_b; k++) {
        assert_int_equal(lfp_ppq_try_push(&a, V(1)), 0);   /* a's ring never empty */
        assert_int_equal(lfp_ppq_try_pop(&c, &out), 0);
        got_b = out == V(2);
    }
    assert_true(got_b);
    lfp_ppq_destroy(&q);
}

/* ---------------------------------------------------- blocking, threads */

static lfp_ppq bq;
struct res {
    lfp_ppq_producer *p;
    lfp_ppq_consumer c;
    int rc;
    void *v;
    int64_t deadline, done;
};

static void *blocked_pop(void *arg)
{
    struct res *r = arg;
    r->deadline = lfp_after(BOUND_NS);
    r->rc = lfp_ppq_pop(&r->c, &r->v, r->deadline, NULL);
    r->done = lfp_now();
    return NULL;
}

static void *blocked_push(void *arg)
{
    struct res *r = arg;
    r->deadline = lfp_after(BOUND_NS);
    r->rc = lfp_ppq_push(r->p, r->v, r->deadline, NULL);
    r->done = lfp_now();
    return NULL;
}

static void assert_woken(const struct res *r, int rc)
{
    assert_int_equal(r->rc, rc);
    assert_true(r->done < r->deadline);
}

/* Two poppers parked; two producers each push one value on their own ring:
 * both poppers return with the two values (no one stays parked beside a
 * value), then a parked pusher on a full ring is woken by a pop. */
static void blocking_wakeups(void **state)
{
    (void)state;
    lfp_ppq_producer a, b;
    struct res r[2] = {{0}};
    pthread_t th[2];
    assert_int_equal(lfp_ppq_init(&bq, 1, 2), 0);
    assert_int_equal(lfp_ppq_producer_init(&bq, &a), 0);
    assert_int_equal(lfp_ppq_producer_init(&bq, &b), 0);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(lfp_ppq_consumer_init(&bq, &r[i].c), 0);
        assert_int_equal(pthread_create(&th[i], NULL, blocked_pop, &r[i]), 0);
    }
    wait_parked(&bq.not_empty, 2, 0);
    assert_int_equal(lfp_ppq_try_push(&a, V(1)), 0);
    assert_int_equal(lfp_ppq_try_push(&b, V(2)), 0);
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    assert_woken(&r[0], 0);
    assert_woken(&r[1], 0);
    assert_int_equal((uintptr_t)r[0].v + (uintptr_t)r[1].v, 3);

    /* pusher parked on a full ring, woken by a pop */
    assert_int_equal(lfp_ppq_try_push(&a, V(3)), 0);
    r[0].p = &a;
    r[0].v = V(4);
    assert_int_equal(pthread_create(&th[0], NULL, blocked_push, &r[0]), 0);
    wait_parked(&a.ring->not_full, 1, 0);
    void *out;
    assert_int_equal(lfp_ppq_try_pop(&r[1].c, &out), 0);
    assert_ptr_equal(out, V(3));
    pthread_join(th[0], NULL);
    assert_woken(&r[0], 0);
    assert_int_equal(lfp_ppq_try_pop(&r[1].c, &out), 0);
    assert_ptr_equal(out, V(4));
    lfp_ppq_destroy(&bq);
}

/* close wakes a parked popper (EPIPE) and a parked pusher (EPIPE). */
static void close_wakes_everyone(void **state)
{
    (void)state;
    lfp_ppq_producer a;
    struct res r[2] = {{0}};
    pthread_t th[2];
    assert_int_equal(lfp_ppq_init(&bq, 1, 2), 0);
    assert_int_equal(lfp_ppq_producer_init(&bq, &a), 0);
    assert_int_equal(lfp_ppq_consumer_init(&bq, &r[0].c), 0);
    assert_int_equal(pthread_create(&th[0], NULL, blocked_pop, &r[0]), 0);
    wait_parked(&bq.not_empty, 1, 0);
    lfp_ppq_close(&bq);
    pthread_join(th[0], NULL);
    assert_woken(&r[0], EPIPE);
    lfp_ppq_destroy(&bq);

    assert_int_equal(lfp_ppq_init(&bq, 1, 2), 0);
    assert_int_equal(lfp_ppq_producer_init(&bq, &a), 0);
    assert_int_equal(lfp_ppq_try_push(&a, V(1)), 0);
    r[1].p = &a;
    r[1].v = V(2);
    assert_int_equal(pthread_create(&th[1], NULL, blocked_push, &r[1]), 0);
    wait_parked(&a.ring->not_full, 1, 0);
    lfp_ppq_close(&bq);
    pthread_join(th[1], NULL);
    assert_woken(&r[1], EPIPE);
    lfp_ppq_destroy(&bq);
}

/* A popper parked behind an announced push after close: the publish wakes
 * it with the value, and it then sees EPIPE; a withdrawal (a push that read
 * closed) wakes a popper waiting for it with EPIPE. */
static void close_pending_push_wakes(void **state)
{
    (void)state;
    lfp_ppq_producer a;
    struct res r = {0};
    pthread_t th;
    void *out;
    assert_int_equal(lfp_ppq_init(&bq, 2, 1), 0);
    assert_int_equal(lfp_ppq_producer_init(&bq, &a), 0);
    assert_int_equal(lfp_ppq_consumer_init(&bq, &r.c), 0);
    size_t t = atomic_load_explicit(&a.ring->tail, memory_order_relaxed);
    assert_int_equal(lfp_ppq_announce_(&a, t), 0);
    lfp_ppq_close(&bq);
    assert_int_equal(pthread_create(&th, NULL, blocked_pop, &r), 0);
    wait_parked(&bq.not_empty, 1, 0);
    lfp_ppq_publish_(&a, t, V(9));
    pthread_join(th, NULL);
    assert_woken(&r, 0);
    assert_ptr_equal(r.v, V(9));
    assert_int_equal(lfp_ppq_try_pop(&r.c, &out), EPIPE);
    lfp_ppq_destroy(&bq);

    /* The withdrawal: announce while open, then find the queue closed. */
    assert_int_equal(lfp_ppq_init(&bq, 2, 1), 0);
    assert_int_equal(lfp_ppq_producer_init(&bq, &a), 0);
    assert_int_equal(lfp_ppq_consumer_init(&bq, &r.c), 0);
    /* relaxed: single-threaded set-up. Announced as a push that will read
     * closed below. */
    atomic_store_explicit(&a.ring->entered, 1, memory_order_relaxed);
    lfp_ppq_close(&bq);
    assert_int_equal(pthread_create(&th, NULL, blocked_pop, &r), 0);
    wait_parked(&bq.not_empty, 1, 0);
    assert_int_equal(lfp_ppq_push_slow_(&a, 0, LFP_PPQ_SEALED_), EPIPE);   /* withdraws */
    pthread_join(th, NULL);
    assert_woken(&r, EPIPE);
    lfp_ppq_destroy(&bq);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(init_rejects_bad_arguments),
        cmocka_unit_test(handle_misuse),
        cmocka_unit_test(per_producer_fifo),
        cmocka_unit_test(capacity_one_per_producer),
        cmocka_unit_test(timeouts_and_cancel),
        cmocka_unit_test(close_drains),
        cmocka_unit_test(close_drains_symmetric),
        cmocka_unit_test(eagain_only_for_unpublished),
        cmocka_unit_test(quota_rotates_cursor),
        cmocka_unit_test(blocking_wakeups),
        cmocka_unit_test(close_wakes_everyone),
        cmocka_unit_test(close_pending_push_wakes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
