/* SPDX-License-Identifier: BSD-2-Clause */
/* lfp_rsem wake-ups by server-side signal, on a real server: a queued
 * waiter blocks on the server (BLPOP of its wake list), and a release
 * through another pool (another handle: no local eventcount helps) grants
 * it; a holder that never releases is reclaimed at its lease expiry,
 * which no call signals; more waiters than blocking connections, and a
 * user who may not BLPOP, fall back to polling and are still granted.
 * Every wait is bounded by RFIX_PATIENT_NS (a lost wake-up with nothing
 * to repair it fails the test, a slow machine does not); nothing depends
 * on timing. Each test runs its own server (rfix_own.srv): CLIENT LIST and
 * ACL users are server-wide. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "fixture.h"
#include "internal.h" /* the semaphore script, run directly below */
#include "lfpat/redis.h"

#define LONG_NS INT64_C(1000000000000) /* 1000 s: no lease expires during a test */

struct waiter {
    lfp_rsem *s;
    lfp_rsem_lease l;
    int rc;
    _Atomic bool done;
};

static void *wait_thread(void *arg)
{
    struct waiter *w = arg;
    w->rc = lfp_rsem_acquire(w->s, 1, &w->l, lfp_after(RFIX_PATIENT_NS), NULL);
    atomic_store(&w->done, true);
    return NULL;
}

static long long raw_int(const char *fmt, const char *arg)
{
    redisReply *rep = redisCommand(rfix_own.raw, fmt, arg);
    assert_non_null(rep);
    assert_int_equal(rep->type, REDIS_REPLY_INTEGER);
    long long v = rep->integer;
    freeReplyObject(rep);
    return v;
}

static void a_queued_waiter_blocks_on_the_server_until_a_release(void **state)
{
    (void)state;
    rfix_start(&rfix_own.srv, NULL);
    rfix_own.raw = rfix_connect(&rfix_own.srv);
    lfp_redis *hr = rfix_own.pool = rfix_open(&rfix_own.srv, NULL);
    lfp_redis *wr = rfix_open(&rfix_own.srv, NULL);
    lfp_rsem hs, ws;
    lfp_rsem_lease h;
    assert_int_equal(lfp_rsem_init(&hs, hr, "wake", 1, LONG_NS), 0);
    assert_int_equal(lfp_rsem_init(&ws, wr, "wake", 1, LONG_NS), 0);
    assert_int_equal(lfp_rsem_try_acquire(&hs, 1, &h), 0);

    struct waiter w = { .s = &ws };
    pthread_t t;
    pthread_create(&t, NULL, wait_thread, &w);
    struct rfix_blpop_watch watch = { .raw = rfix_own.raw };
    bool blocked = rfix_await(rfix_blocked_in_blpop, &watch, RFIX_PATIENT_NS);
    assert_int_equal(lfp_rsem_release(&hs, &h), 0); /* before asserting: the thread must end */
    pthread_join(t, NULL);
    assert_true(blocked);
    assert_int_equal(w.rc, 0);
    assert_true(w.l.token > h.token);
    char key[128];
    snprintf(key, sizeof key, "lfp:rs:{wake}:k:%s", w.l.id);
    assert_int_equal(raw_int("EXISTS %s", key), 0); /* the grant removed its wake list */
    assert_int_equal(lfp_rsem_waiting(&hs), 0);
    assert_int_equal(lfp_rsem_release(&ws, &w.l), 0);
    lfp_rsem_destroy(&ws);
    lfp_rsem_destroy(&hs);
    lfp_redis_close(wr);
}

/* The holder never releases (as if its process died): nothing signals its
 * expiry, and the waiter is still granted, after it. */
static void an_unreleased_lease_is_reclaimed_at_its_expiry(void **state)
{
    (void)state;
    rfix_start(&rfix_own.srv, NULL);
    lfp_redis *r = rfix_own.pool = rfix_open(&rfix_own.srv, NULL);
    lfp_rsem dead, s;
    lfp_rsem_lease h, l;
    assert_int_equal(lfp_rsem_init(&dead, r, "expiry", 1, 200000000), 0); /* 200 ms */
    assert_int_equal(lfp_rsem_init(&s, r, "expiry", 1, LONG_NS), 0);
    assert_int_equal(lfp_rsem_try_acquire(&dead, 1, &h), 0);
    assert_int_equal(lfp_rsem_acquire(&s, 1, &l, lfp_after(RFIX_PATIENT_NS), NULL), 0);
    assert_true(l.token > h.token);
    assert_int_equal(lfp_rsem_release(&dead, &h), ESTALE);
    assert_int_equal(lfp_rsem_release(&s, &l), 0);
    lfp_rsem_destroy(&s);
    lfp_rsem_destroy(&dead);
}

enum { THREADS = 4, ROUNDS = 25 };

struct turn {
    lfp_rsem *s;
    _Atomic int *inside;
    int errors, overlaps;
};

static void *take_turns(void *arg)
{
    struct turn *t = arg;
    for (int i = 0; i < ROUNDS; i++) {
        lfp_rsem_lease l;
        if (lfp_rsem_acquire(t->s, 1, &l, lfp_after(RFIX_PATIENT_NS), NULL) != 0) {
            t->errors++;
            return NULL;
        }
        if (atomic_fetch_add(t->inside, 1) != 0) t->overlaps++;
        atomic_fetch_sub(t->inside, 1);
        if (lfp_rsem_release(t->s, &l) != 0) t->errors++;
    }
    return NULL;
}

/* THREADS waiters share a pool with one blocking connection: one blocks on
 * the server, the others poll on the handle's eventcount; all are served. */
static void more_waiters_than_blocking_connections_are_served(void **state)
{
    (void)state;
    rfix_start(&rfix_own.srv, NULL);
    struct lfp_redis_opts o = rfix_patient;
    o.pool_size = 1;
    lfp_redis *r = rfix_own.pool = rfix_open(&rfix_own.srv, &o);
    lfp_rsem s;
    assert_int_equal(lfp_rsem_init(&s, r, "few", 1, LONG_NS), 0);
    _Atomic int inside = 0;
    struct turn turns[THREADS];
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++) {
        turns[i] = (struct turn){ .s = &s, .inside = &inside };
        pthread_create(&t[i], NULL, take_turns, &turns[i]);
    }
    for (int i = 0; i < THREADS; i++) pthread_join(t[i], NULL);
    for (int i = 0; i < THREADS; i++) {
        assert_int_equal(turns[i].errors, 0);
        assert_int_equal(turns[i].overlaps, 0);
    }
    assert_int_equal(lfp_rsem_held(&s), 0);
    assert_int_equal(lfp_rsem_waiting(&s), 0);
    lfp_rsem_destroy(&s);
}

static bool one_waiting(void *s)
{
    return lfp_rsem_waiting(s) == 1;
}

/* A user the ACL forbids BLPOP: the waiter's BLPOP is refused (EPERM),
 * it polls instead, and is granted after the release. */
static void a_user_who_may_not_block_polls_instead(void **state)
{
    (void)state;
    rfix_start(&rfix_own.srv, NULL);
    rfix_own.raw = rfix_connect(&rfix_own.srv);
    redisReply *rep = redisCommand(rfix_own.raw, "ACL SETUSER noblock on >pw ~* +@all -blpop");
    assert_non_null(rep);
    assert_int_not_equal(rep->type, REDIS_REPLY_ERROR);
    freeReplyObject(rep);
    char url[128];
    snprintf(url, sizeof url, "redis://noblock:pw@127.0.0.1:%d", rfix_own.srv.port);
    lfp_redis *wr = NULL;
    assert_int_equal(lfp_redis_open(&wr, url, &rfix_patient), 0);
    lfp_redis *hr = rfix_own.pool = rfix_open(&rfix_own.srv, NULL);
    lfp_rsem hs, ws;
    lfp_rsem_lease h;
    assert_int_equal(lfp_rsem_init(&hs, hr, "noblock", 1, LONG_NS), 0);
    assert_int_equal(lfp_rsem_init(&ws, wr, "noblock", 1, LONG_NS), 0);
    assert_int_equal(lfp_rsem_try_acquire(&hs, 1, &h), 0);
    struct waiter w = { .s = &ws };
    pthread_t t;
    pthread_create(&t, NULL, wait_thread, &w);
    bool queued = rfix_await(one_waiting, &hs, RFIX_PATIENT_NS);
    assert_int_equal(lfp_rsem_release(&hs, &h), 0);
    pthread_join(t, NULL);
    assert_true(queued);
    assert_int_equal(w.rc, 0);
    assert_int_equal(lfp_rsem_release(&ws, &w.l), 0);
    lfp_rsem_destroy(&ws);
    lfp_rsem_destroy(&hs);
    lfp_redis_close(wr);
}

/* ---------------------------------------- the script's pushes, exactly */

/* Run the semaphore script (EVAL, on the raw connection) on semaphore
 * "pushes" of capacity 3; returns its first integer. */
static long long sem(const char *op, const char *id, int weight, int lease_ms)
{
    char w[16], ms[16];
    snprintf(w, sizeof w, "%d", weight);
    snprintf(ms, sizeof ms, "%d", lease_ms);
    const char *argv[] = { "EVAL", lfp_rscript_text[LFP_RS_SEM], "6", "lfp:rs:{pushes}", "lfp:rs:{pushes}:w",
                           "lfp:rs:{pushes}:q", "lfp:rs:{pushes}:t", "lfp:rs:{pushes}:qw", "lfp:rs:{pushes}:f",
                           op, "3", w, id, ms, "100000" };
    redisReply *rep = redisCommandArgv(rfix_own.raw, 15, argv, NULL);
    assert_non_null(rep);
    if (rep->type == REDIS_REPLY_ERROR) fprintf(stderr, "script: %s\n", rep->str);
    assert_int_equal(rep->type, REDIS_REPLY_ARRAY);
    long long v = rep->element[0]->integer;
    freeReplyObject(rep);
    return v;
}

/* Pushes waiting in ticket id's wake list. */
static long long pushed(const char *id)
{
    char key[64];
    snprintf(key, sizeof key, "lfp:rs:{pushes}:k:%s", id);
    return raw_int("LLEN %s", key);
}

/* A release pushes to the wake list of every queued ticket that fits now
 * (its weight, the weight ahead and the weight held within the capacity)
 * and of no other; so does a withdrawn ticket and an expiry that any call
 * observes; an admitted ticket's list is gone. Each state is checked, not
 * waited for: the script is atomic. */
static void wake_lists_are_pushed_exactly_when_a_ticket_fits(void **state)
{
    (void)state;
    rfix_start(&rfix_own.srv, NULL);
    rfix_own.raw = rfix_connect(&rfix_own.srv);
    const int lease = 100000000; /* ms: never expires here */
    assert_int_equal(sem("acq", "H", 3, lease), 1);
    assert_int_equal(sem("wait", "A", 2, lease), 0); /* queue: A(2) B(1) C(1) */
    assert_int_equal(sem("wait", "B", 1, lease), 0);
    assert_int_equal(sem("wait", "C", 1, lease), 0);
    assert_int_equal(pushed("A") + pushed("B") + pushed("C"), 0);
    assert_int_equal(sem("rel", "H", 0, lease), 1); /* 0 held: A and B fit, C not (2+1+1 > 3) */
    assert_int_equal(pushed("A"), 1);
    assert_int_equal(pushed("B"), 1);
    assert_int_equal(pushed("C"), 0);
    assert_int_equal(sem("wait", "B", 1, lease), 1); /* B fits behind A: admitted */
    assert_int_equal(pushed("B"), 0);                /* its list is gone */
    assert_int_equal(sem("wait", "A", 2, lease), 1);
    assert_int_equal(pushed("C"), 0); /* 3 held */
    assert_int_equal(sem("rel", "A", 0, lease), 1);
    assert_int_equal(pushed("C"), 1);
    assert_int_equal(sem("wait", "C", 1, lease), 1);

    /* A withdrawn ticket ahead: D(3) blocks E(1) behind it (1 held by B,
     * C hold 2). */
    assert_int_equal(sem("rel", "C", 0, lease), 1);
    assert_int_equal(sem("wait", "D", 3, lease), 0);
    assert_int_equal(sem("wait", "E", 1, lease), 0);
    assert_int_equal(pushed("E"), 0);
    assert_int_equal(sem("leave", "D", 0, lease), 1);
    assert_int_equal(pushed("E"), 1);
    assert_int_equal(sem("wait", "E", 1, lease), 1);

    /* An expiry: F holds everything, G is queued behind it; F's lease is
     * then made to have ended (its expiry set in the past, by hand), and
     * the next call, whatever it is, observes it and pushes G. */
    assert_int_equal(sem("rel", "B", 0, lease), 1);
    assert_int_equal(sem("rel", "E", 0, lease), 1);
    assert_int_equal(sem("acq", "F", 3, lease), 1);
    assert_int_equal(sem("wait", "G", 1, lease), 0);
    assert_int_equal(raw_int("ZADD %s XX CH 1 F", "lfp:rs:{pushes}"), 1);
    assert_int_equal(pushed("G"), 0);
    assert_int_equal(sem("held", "0", 0, 0), 1);
    assert_int_equal(pushed("G"), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(a_queued_waiter_blocks_on_the_server_until_a_release, rfix_own_teardown),
        cmocka_unit_test_teardown(an_unreleased_lease_is_reclaimed_at_its_expiry, rfix_own_teardown),
        cmocka_unit_test_teardown(more_waiters_than_blocking_connections_are_served, rfix_own_teardown),
        cmocka_unit_test_teardown(a_user_who_may_not_block_polls_instead, rfix_own_teardown),
        cmocka_unit_test_teardown(wake_lists_are_pushed_exactly_when_a_ticket_fits, rfix_own_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
