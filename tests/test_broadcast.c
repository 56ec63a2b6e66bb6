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

static int lf_init(void *b, size_t n) { return lfp_broadcast_init(b, n); }
static void lf_destroy(void *b) { lfp_broadcast_destroy(b); }
static size_t lf_cap(void *b) { return lfp_broadcast_capacity(b); }
static int lf_pub(void *b, void *v) { return lfp_broadcast_publish(b, v); }
static void lf_close(void *b) { lfp_broadcast_close(b); }
static int lf_sub(void *b, void *s) { return lfp_broadcast_subscribe(b, s); }
static void lf_unsub(void *s) { lfp_broadcast_unsubscribe(s); }
static int lf_try(void *s, void **v, uint64_t *m) { return lfp_broadcast_try_recv(s, v, m); }
static int lf_recv(void *s, void **v, uint64_t *m, int64_t d, lfp_cancel *c)
{
    return lfp_broadcast_recv(s, v, m, d, c);
}
static uint32_t lf_parked(void *b) { return atomic_load(&((lfp_broadcast *)b)->arrived.waiters); }

static int lk_init(void *b, size_t n) { return lfp_locked_broadcast_init(b, n); }
static void lk_destroy(void *b) { lfp_locked_broadcast_destroy(b); }
static size_t lk_cap(void *b) { return lfp_locked_broadcast_capacity(b); }
static int lk_pub(void *b, void *v) { return lfp_locked_broadcast_publish(b, v); }
static void lk_close(void *b) { lfp_locked_broadcast_close(b); }
static int lk_sub(void *b, void *s) { return lfp_locked_broadcast_subscribe(b, s); }
static void lk_unsub(void *s) { lfp_locked_broadcast_unsubscribe(s); }
static int lk_try(void *s, void **v, uint64_t *m) { return lfp_locked_broadcast_try_recv(s, v, m); }
static int lk_recv(void *s, void **v, uint64_t *m, int64_t d, lfp_cancel *c)
{
    return lfp_locked_broadcast_recv(s, v, m, d, c);
}
static uint32_t lk_parked(void *b)
{
    return atomic_load(&((lfp_locked_broadcast *)b)->sync.cancel_ec.waiters);
}

static const bc_ops impls[] = {
    { lf_init, lf_destroy, lf_cap, lf_pub, lf_close, lf_sub, lf_unsub, lf_try, lf_recv, lf_parked },
    { lk_init, lk_destroy, lk_cap, lk_pub, lk_close, lk_sub, lk_unsub, lk_try, lk_recv, lk_parked },
};
#define FOR_EACH_IMPL for (const bc_ops *o = impls; o < impls + 2; o++)

typedef union { lfp_broadcast a; lfp_locked_broadcast b; } any_bc;
typedef union { lfp_broadcast_sub a; lfp_locked_broadcast_sub b; } any_sub;

#define MSG(i) ((void *)(uintptr_t)(i))

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
        assert_int_equal(o->init(&b, 8), 0);
        assert_int_equal(o->subscribe(&b, &s1), 0);
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
        assert_int_equal(o->init(&b, 4), 0);
        assert_int_equal(o->subscribe(&b, &s), 0);
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
        assert_int_equal(o->init(&b, 4), 0);
        assert_int_equal(o->subscribe(&b, &s), 0);
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
    void *v;
    int rc;
};

static void *recv_thread(void *arg)
{
    struct receiver *r = arg;
    uint64_t m;
    r->rc = r->o->recv(r->sub, &r->v, &m, LFP_FOREVER, r->cancel);
    return NULL;
}

static void parked_receivers_wake(void **state)
{
    (void)state;
    FOR_EACH_IMPL {
        any_bc b;
        any_sub s[3];
        lfp_cancel c[3];
        struct receiver r[3];
        pthread_t th[3];
        assert_int_equal(o->init(&b, 4), 0);
        for (int i = 0; i < 3; i++) {
            lfp_cancel_init(&c[i], NULL);
            assert_int_equal(o->subscribe(&b, &s[i]), 0);
            r[i] = (struct receiver){ o, &s[i], &c[i], NULL, -1 };
            pthread_create(&th[i], NULL, recv_thread, &r[i]);
        }
        while (o->parked(&b) < 3)
            sched_yield();
        lfp_cancel_fire(&c[0], 1);                       /* token */
        pthread_join(th[0], NULL);
        assert_int_equal(r[0].rc, ECANCELED);
        assert_int_equal(o->publish(&b, MSG(7)), 0);     /* message */
        pthread_join(th[1], NULL);
        assert_int_equal(r[1].rc, 0);
        assert_ptr_equal(r[1].v, MSG(7));
        pthread_join(th[2], NULL);
        assert_int_equal(r[2].rc, 0);
        /* close wakes a parked receiver with EPIPE */
        r[2] = (struct receiver){ o, &s[2], &c[2], NULL, -1 };
        pthread_create(&th[2], NULL, recv_thread, &r[2]);
        while (o->parked(&b) < 1)
            sched_yield();
        o->close(&b);
        pthread_join(th[2], NULL);
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
