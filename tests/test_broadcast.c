/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit tests: lfpat/broadcast.h and its twin lfp_locked_broadcast, one table
 * of operations for both, plus a differential run against the twin. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <sched.h>

#include "lfpat.h"

typedef struct bc_ops {
    int (*init)(void *, size_t);
    void (*destroy)(void *);
    size_t (*capacity)(void *);
    int (*publish)(void *, void *);
    void (*close)(void *);
    int (*subscribe)(void *, void *);
    void (*unsubscribe)(void *);
    int (*try_recv)(void *, void **, uint64_t *);
    int (*recv)(void *, void **, uint64_t *, int64_t, lfp_cancel *);
    uint32_t (*parked)(void *);   /* receivers parked with a token */
} bc_ops;

/* The table's adapters for the implementation whose functions are named
 * P_init, P_publish, ... (tag_parked is written out: it reads each type's
 * own waiter count). */
#define BC_ADAPTERS(tag, P)                                                                    \
    static int tag##_init(void *b, size_t n) { return P##_init(b, n); }                        \
    static void tag##_destroy(void *b) { P##_destroy(b); }                                     \
    static size_t tag##_cap(void *b) { return P##_capacity(b); }                               \
    static int tag##_pub(void *b, void *v) { return P##_publish(b, v); }                       \
    static void tag##_close(void *b) { P##_close(b); }                                         \
    static int tag##_sub(void *b, void *s) { return P##_subscribe(b, s); }                     \
    static void tag##_unsub(void *s) { P##_unsubscribe(s); }                                   \
    static int tag##_try(void *s, void **v, uint64_t *m) { return P##_try_recv(s, v, m); }     \
    static int tag##_recv(void *s, void **v, uint64_t *m, int64_t d, lfp_cancel *c)            \
    {                                                                                          \
        return P##_recv(s, v, m, d, c);                                                        \
    }
#define BC_OPS(tag)                                                                            \
    {                                                                                          \
        tag##_init, tag##_destroy, tag##_cap, tag##_pub, tag##_close, tag##_sub, tag##_unsub,  \
            tag##_try, tag##_recv, tag##_parked                                                \
    }

BC_ADAPTERS(lf, lfp_broadcast)
BC_ADAPTERS(lk, lfp_locked_broadcast)
static uint32_t lf_parked(void *b) { return atomic_load(&((lfp_broadcast *)b)->arrived.waiters); }
static uint32_t lk_parked(void *b)
{
    return atomic_load(&((lfp_locked_broadcast *)b)->sync.cancel_ec.waiters);
}

static const bc_ops impls[] = { BC_OPS(lf), BC_OPS(lk) };
#define FOR_EACH_IMPL for (const bc_ops *o = impls; o < impls + 2; o++)

typedef union { lfp_broadcast a; lfp_locked_broadcast b; } any_bc;
typedef union { lfp_broadcast_sub a; lfp_locked_broadcast_sub b; } any_sub;

#define MSG(i) ((void *)(uintptr_t)(i))

/* Initialise b with capacity n and subscribe s to it. */
static void init_subscribed(const bc_ops *o, any_bc *b, size_t n, any_sub *s)
{
    assert_int_equal(o->init(b, n), 0);
    assert_int_equal(o->subscribe(b, s), 0);
}

static void bad_input(void **state)
{
    (void)state;
    FOR_EACH_IMPL {
        any_bc b;
        any_sub s;
        void *v;
        uint64_t m;
        assert_int_equal(o->init(NULL, 4), EINVAL);
        assert_int_equal(o->init(&b, 0), EINVAL);
        assert_int_equal(o->init(&b, LFP_BROADCAST_MAX_CAPACITY + 1), EINVAL);
        assert_int_equal(o->init(&b, SIZE_MAX), EINVAL);
        assert_int_equal(o->publish(NULL, NULL), EINVAL);
        assert_int_equal(o->init(&b, 4), 0);
        assert_int_equal(o->subscribe(NULL, &s), EINVAL);
        assert_int_equal(o->subscribe(&b, NULL), EINVAL);
        assert_int_equal(o->subscribe(&b, &s), 0);
        assert_int_equal(o->try_recv(NULL, &v, &m), EINVAL);
        assert_int_equal(o->try_recv(&s, NULL, &m), EINVAL);
        assert_int_equal(o->try_recv(&s, &v, NULL), EINVAL);
        assert_int_equal(o->recv(&s, NULL, &m, 0, NULL), EINVAL);
        assert_int_equal(o->recv(&s, &v, NULL, 0, NULL), EINVAL);
        o->unsubscribe(&s);
        assert_int_equal(o->try_recv(&s, &v, &m), EINVAL);   /* dropped */
        o->unsubscribe(NULL);
        o->close(NULL);
        o->destroy(&b);
        o->destroy(NULL);
    }
}

static void capacity_rounding(void **state)
{
    (void)state;
    lfp_broadcast b;
    assert_int_equal(lfp_broadcast_init(&b, 5), 0);
    assert_int_equal(lfp_broadcast_capacity(&b), 8);
    lfp_broadcast_destroy(&b);
    assert_int_equal(lfp_broadcast_init(&b, 1), 0);
    assert_int_equal(lfp_broadcast_capacity(&b), 1);
    lfp_broadcast_destroy(&b);
    lfp_locked_broadcast l;
    assert_int_equal(lfp_locked_broadcast_init(&l, 5), 0);
    assert_int_equal(lfp_locked_broadcast_capacity(&l), 5);   /* exact */
    lfp_locked_broadcast_destroy(&l);
}

static void every_subscriber_in_order(void **state)
{
    (void)state;
    FOR_EACH_IMPL {
        any_bc b;
        any_sub s1, s2, late;
        void *v;
        uint64_t m = 99;
        init_subscribed(o, &b, 8, &s1);
        assert_int_equal(o->subscribe(&b, &s2), 0);
        assert_int_equal(o->try_recv(&s1, &v, &m), EAGAIN);
        assert_int_equal(m, 0);
        for (uintptr_t i = 0; i < 5; i++)
            assert_int_equal(o->publish(&b, MSG(i)), 0);
        assert_int_equal(o->subscribe(&b, &late), 0);   /* sees only later ones */
        assert_int_equal(o->publish(&b, NULL), 0);      /* NULL is a message */
        for (uintptr_t i = 0; i < 5; i++) {
            assert_int_equal(o->try_recv(&s1, &v, &m), 0);
            assert_ptr_equal(v, MSG(i));
            assert_int_equal(m, 0);
            assert_int_equal(o->recv(&s2, &v, &m, 0, NULL), 0);
            assert_ptr_equal(v, MSG(i));
        }
        assert_int_equal(o->try_recv(&late, &v, &m), 0);
        assert_null(v);
        assert_int_equal(o->try_recv(&late, &v, &m), EAGAIN);
        assert_int_equal(o->try_recv(&s1, &v, &m), 0);
        assert_null(v);
        assert_int_equal(o->recv(&s1, &v, &m, 0, NULL), ETIMEDOUT);
        o->destroy(&b);
    }
}

static void lag_is_reported_exactly(void **state)
{
    (void)state;
    FOR_EACH_IMPL {
        any_bc b;
        any_sub s;
        void *v;
        uint64_t m;
        init_subscribed(o, &b, 4, &s);
        for (uintptr_t i = 0; i < 10; i++)
            assert_int_equal(o->publish(&b, MSG(i)), 0);
        /* positions 6..9 are kept; 0..5 were overwritten */
        assert_int_equal(o->try_recv(&s, &v, &m), 0);
        assert_ptr_equal(v, MSG(6));
        assert_int_equal(m, 6);
        for (uintptr_t i = 7; i < 10; i++) {
            assert_int_equal(o->recv(&s, &v, &m, LFP_FOREVER, NULL), 0);
            assert_ptr_equal(v, MSG(i));
            assert_int_equal(m, 0);
        }
        /* lag found at close is reported with EPIPE */
        for (uintptr_t i = 10; i < 15; i++)
            assert_int_equal(o->publish(&b, MSG(i)), 0);
        o->close(&b);
        uint64_t total = 0;
        int rc;
        while ((rc = o->try_recv(&s, &v, &m)) == 0)
            total += m + 1;
        assert_int_equal(rc, EPIPE);
        total += m;
        assert_int_equal(total, 5);
        o->destroy(&b);
    }
}

static void close_semantics(void **state)
{
    (void)state;
    FOR_EACH_IMPL {
        any_bc b;
        any_sub s, after;
        void *v;
        uint64_t m;
        lfp_cancel fired = LFP_CANCEL_INIT;
        lfp_cancel_fire(&fired, 1);
        init_subscribed(o, &b, 4, &s);
        assert_int_equal(o->publish(&b, MSG(1)), 0);
        o->close(&b);
        o->close(&b);   /* idempotent */
        assert_int_equal(o->publish(&b, MSG(2)), EPIPE);
        /* what was published before close is still delivered, even with a
         * fired token and a passed deadline */
        assert_int_equal(o->recv(&s, &v, &m, 0, &fired), 0);
        assert_ptr_equal(v, MSG(1));
        assert_int_equal(o->recv(&s, &v, &m, LFP_FOREVER, NULL), EPIPE);
        assert_int_equal(o->subscribe(&b, &after), 0);
        assert_int_equal(o->try_recv(&after, &v, &m), EPIPE);
        o->destroy(&b);
    }
}

struct receiver {
    const bc_ops *o;
    void *sub;
    lfp_cancel *cancel;
    pthread_t th;
    void *v;      /* the message received, once th is joined */
    int rc;       /* the recv's result, once th is joined */
};

static void *recv_thread(void *arg)
{
    struct receiver *r = arg;
    uint64_t m;
    r->rc = r->o->recv(r->sub, &r->v, &m, LFP_FOREVER, r->cancel);
    return NULL;
}

/* Start a thread receiving on sub with token c (no deadline). */
static void start_receiver(struct receiver *r, const bc_ops *o, any_sub *sub, lfp_cancel *c)
{
    *r = (struct receiver){ .o = o, .sub = sub, .cancel = c, .rc = -1 };
    pthread_create(&r->th, NULL, recv_thread, r);
}

static void parked_receivers_wake(void **state)
{
    (void)state;
    FOR_EACH_IMPL {
        any_bc b;
        any_sub s[3];
        lfp_cancel c[3];
        struct receiver r[3];
        assert_int_equal(o->init(&b, 4), 0);
        for (int i = 0; i < 3; i++) {
            lfp_cancel_init(&c[i], NULL);
            assert_int_equal(o->subscribe(&b, &s[i]), 0);
            start_receiver(&r[i], o, &s[i], &c[i]);
        }
        while (o->parked(&b) < 3)
            sched_yield();
        lfp_cancel_fire(&c[0], 1);                       /* token */
        pthread_join(r[0].th, NULL);
        assert_int_equal(r[0].rc, ECANCELED);
        assert_int_equal(o->publish(&b, MSG(7)), 0);     /* message */
        pthread_join(r[1].th, NULL);
        assert_int_equal(r[1].rc, 0);
        assert_ptr_equal(r[1].v, MSG(7));
        pthread_join(r[2].th, NULL);
        assert_int_equal(r[2].rc, 0);
        /* close wakes a parked receiver with EPIPE */
        start_receiver(&r[2], o, &s[2], &c[2]);
        while (o->parked(&b) < 1)
            sched_yield();
        o->close(&b);
        pthread_join(r[2].th, NULL);
        assert_int_equal(r[2].rc, EPIPE);
        for (int i = 0; i < 3; i++)
            lfp_cancel_destroy(&c[i]);
        o->destroy(&b);
    }
}

/* A publisher that claimed a position and stalled while the ring wrapped
 * past it must not overwrite the newer message (internal entry point). */
static void overtaken_publisher_writes_nothing(void **state)
{
    (void)state;
    lfp_broadcast b;
    lfp_broadcast_sub s;
    void *v;
    uint64_t m;
    assert_int_equal(lfp_broadcast_init(&b, 2), 0);
    assert_int_equal(lfp_broadcast_subscribe(&b, &s), 0);
    for (uintptr_t i = 0; i < 4; i++)
        assert_int_equal(lfp_broadcast_publish(&b, MSG(i)), 0);
    uint64_t seq = atomic_load(&b.slots[1].seq);         /* holds position 3 */
    assert_int_equal(lfp_broadcast_publish_slow_(&b, 1, seq, MSG(100)), 0);
    assert_int_equal(atomic_load(&b.slots[1].seq), seq);
    assert_int_equal(lfp_broadcast_try_recv(&s, &v, &m), 0);
    assert_ptr_equal(v, MSG(2));
    assert_int_equal(m, 2);
    assert_int_equal(lfp_broadcast_try_recv(&s, &v, &m), 0);
    assert_ptr_equal(v, MSG(3));
    lfp_broadcast_destroy(&b);
}

/* Random publishes and receives on three subscribers: lfp_broadcast and the
 * twin (same power-of-two capacity) must answer identically. */
static void differential_against_twin(void **state)
{
    (void)state;
    lfp_broadcast b;
    lfp_locked_broadcast l;
    lfp_broadcast_sub s[3];
    lfp_locked_broadcast_sub ls[3];
    assert_int_equal(lfp_broadcast_init(&b, 8), 0);
    assert_int_equal(lfp_locked_broadcast_init(&l, 8), 0);
    for (int i = 0; i < 3; i++) {
        lfp_broadcast_subscribe(&b, &s[i]);
        lfp_locked_broadcast_subscribe(&l, &ls[i]);
    }
    uint64_t x = 88172645463325252ull;
    for (uintptr_t step = 0; step < 20000; step++) {
        x ^= x << 13; x ^= x >> 7; x ^= x << 17;
        unsigned k = (unsigned)(x % 8);
        if (step == 19000) {
            lfp_broadcast_close(&b);
            lfp_locked_broadcast_close(&l);
        }
        if (k < 3) {
            assert_int_equal(lfp_broadcast_publish(&b, MSG(step)),
                             lfp_locked_broadcast_publish(&l, MSG(step)));
        } else {
            unsigned i = k % 3;
            void *v1 = NULL, *v2 = NULL;
            uint64_t m1, m2;
            int rc = lfp_broadcast_try_recv(&s[i], &v1, &m1);
            assert_int_equal(rc, lfp_locked_broadcast_try_recv(&ls[i], &v2, &m2));
            assert_int_equal(m1, m2);
            assert_ptr_equal(v1, v2);
        }
    }
    for (int i = 0; i < 3; i++) {
        assert_int_equal(s[i].received, ls[i].received);
        assert_int_equal(s[i].missed, ls[i].missed);
    }
    lfp_broadcast_destroy(&b);
    lfp_locked_broadcast_destroy(&l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(bad_input),
        cmocka_unit_test(capacity_rounding),
        cmocka_unit_test(every_subscriber_in_order),
        cmocka_unit_test(lag_is_reported_exactly),
        cmocka_unit_test(close_semantics),
        cmocka_unit_test(parked_receivers_wake),
        cmocka_unit_test(overtaken_publisher_writes_nothing),
        cmocka_unit_test(differential_against_twin),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
