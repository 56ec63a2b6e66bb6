/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit tests: parking (src/park.h, futex and portable fallback) and the
 * eventcount (lfpat/eventcount.h) with deadlines and cancellation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <sched.h>

#include "lfpat.h"
#include "park.h"

typedef int (*wait_fn)(_Atomic uint32_t *, uint32_t, int64_t);
typedef void (*wake_fn)(_Atomic uint32_t *, int);

static void check_wait_returns(wait_fn wait)
{
    _Atomic uint32_t w = 5;
    assert_int_equal(wait(&w, 4, LFP_FOREVER), 0);            /* changed: at once */
    assert_int_equal(wait(&w, 5, lfp_now() - 1), ETIMEDOUT);  /* past deadline */
    assert_int_equal(wait(&w, 5, INT64_MIN), ETIMEDOUT);
    /* A short real timeout: the only outcomes are ETIMEDOUT or a spurious 0. */
    int rc = wait(&w, 5, lfp_after(1000000));
    assert_true(rc == ETIMEDOUT || rc == 0);
}

static void futex_wait_returns(void **state) { (void)state; check_wait_returns(lfp_park_wait); }
static void portable_wait_returns(void **state) { (void)state; check_wait_returns(lfp_park_wait_portable); }

struct parker { _Atomic uint32_t word; _Atomic int entered; wait_fn wait; };

static void *park_until_changed(void *p)
{
    struct parker *k = p;
    atomic_store(&k->entered, 1);
    while (atomic_load(&k->word) == 0)
        k->wait(&k->word, 0, LFP_FOREVER);
    return NULL;
}

static void check_wake(wait_fn wait, wake_fn wake)
{
    for (int i = 0; i < 100; i++) {
        struct parker k = { 0, 0, wait };
        pthread_t t;
        pthread_create(&t, NULL, park_until_changed, &k);
        while (!atomic_load(&k.entered))
            sched_yield();
        atomic_store(&k.word, 1);
        wake(&k.word, 1);
        pthread_join(t, NULL);   /* hangs (test timeout) if the wake is lost */
    }
}

static void futex_wake_wakes(void **state) { (void)state; check_wake(lfp_park_wait, lfp_park_wake); }
static void portable_wake_wakes(void **state)
{
    (void)state;
    check_wake(lfp_park_wait_portable, lfp_park_wake_portable);
}

/* 64-bit words: the futex form compares the low 32 bits, the portable one
 * all 64; a change of the low half ends a park in both. */
typedef int (*wait64_fn)(_Atomic uint64_t *, uint64_t, int64_t);
typedef void (*wake64_fn)(_Atomic uint64_t *, int);

struct parker64 { _Atomic uint64_t word; _Atomic int entered; wait64_fn wait; };

static void *park64_until_changed(void *p)
{
    struct parker64 *k = p;
    atomic_store(&k->entered, 1);
    while (atomic_load(&k->word) == ((uint64_t)7 << 32 | 3))
        k->wait(&k->word, (uint64_t)7 << 32 | 3, LFP_FOREVER);
    return NULL;
}

static void check_park64(wait64_fn wait, wake64_fn wake)
{
    _Atomic uint64_t w = (uint64_t)9 << 32 | 5;
    assert_int_equal(wait(&w, (uint64_t)9 << 32 | 4, LFP_FOREVER), 0);   /* low half differs */
    assert_int_equal(wait(&w, (uint64_t)9 << 32 | 5, lfp_now() - 1), ETIMEDOUT);
    for (int i = 0; i < 100; i++) {
        struct parker64 k = { (uint64_t)7 << 32 | 3, 0, wait };
        pthread_t t;
        pthread_create(&t, NULL, park64_until_changed, &k);
        while (!atomic_load(&k.entered))
            sched_yield();
        atomic_store(&k.word, (uint64_t)7 << 32 | 2);   /* the low half changes */
        wake(&k.word, 1);
        pthread_join(t, NULL);   /* hangs (test timeout) if the wake is lost */
    }
}

static void park64_futex(void **state) { (void)state; check_park64(lfp_park_wait64, lfp_park_wake64); }
static void park64_portable(void **state)
{
    (void)state;
    check_park64(lfp_park_wait64_portable, lfp_park_wake64_portable);
}

/* ----------------------------------------------------------- eventcount */

struct flag { lfp_ec ec; _Atomic int set; lfp_cancel *cancel; int64_t deadline; int rc; };

static int flag_try(void *p)
{
    struct flag *f = p;
    return atomic_load(&f->set) ? 0 : EAGAIN;
}

static void *await_flag(void *p)
{
    struct flag *f = p;
    f->rc = lfp_ec_await(&f->ec, flag_try, f, f->deadline, f->cancel, false);
    return NULL;
}

static void wait_until_parked(struct flag *f)
{
    while (atomic_load(&f->ec.waiters) == 0)
        sched_yield();
}

static void ec_notify_wakes_waiter(void **state)
{
    (void)state;
    for (int i = 0; i < 200; i++) {
        struct flag f = { LFP_EC_INIT, 0, NULL, LFP_FOREVER, -1 };
        pthread_t t;
        pthread_create(&t, NULL, await_flag, &f);
        if (i & 1)
            wait_until_parked(&f);
        atomic_store(&f.set, 1);
        lfp_ec_notify_all(&f.ec);
        pthread_join(t, NULL);
        assert_int_equal(f.rc, 0);
        assert_int_equal(atomic_load(&f.ec.waiters), 0);
    }
}

static void ec_await_times_out(void **state)
{
    (void)state;
    struct flag f = { LFP_EC_INIT, 0, NULL, lfp_after(2000000), -1 };
    await_flag(&f);
    assert_int_equal(f.rc, ETIMEDOUT);
    f.deadline = lfp_now() - 1;
    await_flag(&f);
    assert_int_equal(f.rc, ETIMEDOUT);
    assert_int_equal(atomic_load(&f.ec.waiters), 0);
}

static void ec_await_prefers_success(void **state)
{
    (void)state;
    lfp_cancel c = LFP_CANCEL_INIT;
    lfp_cancel_fire(&c, 1);
    struct flag f = { LFP_EC_INIT, 1, &c, lfp_now() - 1, -1 };
    await_flag(&f);
    assert_int_equal(f.rc, 0);   /* ready beats expired and cancelled */
}

static void ec_await_fired_token(void **state)
{
    (void)state;
    lfp_cancel c = LFP_CANCEL_INIT;
    lfp_cancel_fire(&c, 1);
    struct flag f = { LFP_EC_INIT, 0, &c, LFP_FOREVER, -1 };
    await_flag(&f);
    assert_int_equal(f.rc, ECANCELED);
}

static void ec_cancel_wakes_parked_waiter(void **state)
{
    (void)state;
    for (int i = 0; i < 200; i++) {
        lfp_cancel root, child;
        lfp_cancel_init(&root, NULL);
        lfp_cancel_init(&child, &root);
        struct flag f = { LFP_EC_INIT, 0, &child, LFP_FOREVER, -1 };
        pthread_t t;
        pthread_create(&t, NULL, await_flag, &f);
        if (i & 1)
            wait_until_parked(&f);
        lfp_cancel_fire(&root, 77);   /* the parent: cascades to child */
        pthread_join(t, NULL);       /* hangs if the fire did not wake it */
        assert_int_equal(f.rc, ECANCELED);
        assert_int_equal(lfp_cancel_reason(&child), 77);
        assert_null(child.watches);  /* the waiter unregistered itself */
        lfp_cancel_destroy(&child);
        lfp_cancel_destroy(&root);
    }
}

/* Time far away for deadlines: a deadline decades ahead (and the largest
 * one short of LFP_FOREVER) is a real deadline that a wake-up beats — not
 * overflowed into the past (ETIMEDOUT at once) — for the futex and portable
 * parks, the eventcount and a semaphore acquire; a deadline decades ago
 * times out at once. */
#define CENTURY (INT64_C(100) * 365 * 86400 * 1000000000)

struct far_parker {
    _Atomic uint32_t word;
    _Atomic int entered;
    wait_fn wait;
    int64_t deadline;
    int rc;
};

static void *far_park(void *p)
{
    struct far_parker *k = p;
    atomic_store(&k->entered, 1);
    k->rc = 0;
    while (atomic_load(&k->word) == 0 && k->rc == 0)
        k->rc = k->wait(&k->word, 0, k->deadline);
    return NULL;
}

static void *far_release(void *p)
{
    lfp_sem *s = p;
    lfp_sem_release(s);
    return NULL;
}

static void far_deadlines(void **state)
{
    (void)state;
    const wait_fn waits[] = { lfp_park_wait, lfp_park_wait_portable };
    const wake_fn wakes[] = { lfp_park_wake, lfp_park_wake_portable };
    for (int i = 0; i < 2; i++) {
        const int64_t deadlines[] = { lfp_after(CENTURY), LFP_FOREVER - 1 };
        for (int d = 0; d < 2; d++) {
            struct far_parker k = { 0, 0, waits[i], deadlines[d], -1 };
            pthread_t t;
            pthread_create(&t, NULL, far_park, &k);
            while (!atomic_load(&k.entered))
                sched_yield();
            atomic_store(&k.word, 1);
            wakes[i](&k.word, 1);
            pthread_join(t, NULL);
            assert_int_equal(k.rc, 0);   /* woken, not timed out */
        }
        _Atomic uint32_t w = 5;
        assert_int_equal(waits[i](&w, 5, lfp_now() - CENTURY), ETIMEDOUT);
    }
    lfp_sem s;
    assert_int_equal(lfp_sem_init(&s, 1), 0);
    assert_int_equal(lfp_sem_try_acquire(&s), 0);
    pthread_t t;
    pthread_create(&t, NULL, far_release, &s);
    assert_int_equal(lfp_sem_acquire(&s, lfp_after(CENTURY), NULL), 0);
    pthread_join(t, NULL);
    assert_int_equal(lfp_sem_acquire(&s, lfp_now() - CENTURY, NULL), ETIMEDOUT);
    lfp_sem_destroy(&s);
}

static void time_helpers(void **state)
{
    (void)state;
    int64_t a = lfp_now(), b = lfp_now();
    assert_true(a > 0 && b >= a);
    assert_true(lfp_after(INT64_MAX) == LFP_FOREVER);
    int64_t past = lfp_after(-1), later = lfp_now();
    assert_true(past < later);
    assert_true(lfp_time_add(INT64_MAX - 5, 10) == INT64_MAX);
    assert_true(lfp_time_add(INT64_MIN + 5, -10) == INT64_MIN);
    assert_true(lfp_time_add(10, -3) == 7);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(futex_wait_returns),
        cmocka_unit_test(far_deadlines),
        cmocka_unit_test(portable_wait_returns),
        cmocka_unit_test(futex_wake_wakes),
        cmocka_unit_test(portable_wake_wakes),
        cmocka_unit_test(park64_futex),
        cmocka_unit_test(park64_portable),
        cmocka_unit_test(ec_notify_wakes_waiter),
        cmocka_unit_test(ec_await_times_out),
        cmocka_unit_test(ec_await_prefers_success),
        cmocka_unit_test(ec_await_fired_token),
        cmocka_unit_test(ec_cancel_wakes_parked_waiter),
        cmocka_unit_test(time_helpers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
