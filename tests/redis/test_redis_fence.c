/* SPDX-License-Identifier: BSD-2-Clause */
/* lfp_rsem fencing tokens and lost leases, on a real server. The oracle is
 * the specification (redis.h, "Fencing tokens"): every grant's token is
 * larger than every token granted before it on the semaphore — from
 * holder to holder, after the token key expired, after the server lost
 * every key (FLUSHALL), and when the last token ran ahead of the server
 * clock; a lease the server no longer holds is ESTALE at renew and
 * release, and a resource that refuses lower tokens refuses the old
 * holder's late writes. Tests that change server state run their own
 * server (rfix_own.srv). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"
#include "lfpat/redis.h"

#define LONG_NS INT64_C(1000000000000) /* 1000 s: no lease expires during a test */
#define SHORT_NS INT64_C(20000000)     /* 20 ms */

/* A command on c; asserts it did not fail in transport and returns the reply. */
static redisReply *cmd(redisContext *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    redisReply *rep = redisvCommand(c, fmt, ap);
    va_end(ap);
    assert_non_null(rep);
    return rep;
}

static long long cmd_int(redisContext *c, const char *fmt, const char *key)
{
    redisReply *rep = cmd(c, fmt, key);
    assert_int_equal(rep->type, REDIS_REPLY_INTEGER);
    long long v = rep->integer;
    freeReplyObject(rep);
    return v;
}

/* The semaphore's token key, as src/redis builds it for a plain name. */
static void token_key(char *buf, size_t n, const char *name)
{
    snprintf(buf, n, "lfp:rs:{%s}:f", name);
}

/* A resource guarded by fencing: it refuses a token below the highest it
 * has accepted. */
static bool resource_write(uint64_t *highest, uint64_t token)
{
    if (token < *highest) return false;
    *highest = token;
    return true;
}

static void tokens_increase_from_holder_to_holder(void **state)
{
    (void)state;
    char name[64];
    rfix_unique(name, sizeof name, "fence");
    lfp_rsem s;
    assert_int_equal(lfp_rsem_init(&s, rfix_pool, name, 2, LONG_NS), 0);
    lfp_rsem_lease a, b, c;
    assert_int_equal(lfp_rsem_try_acquire(&s, 1, &a), 0);
    assert_int_equal(lfp_rsem_acquire(&s, 1, &b, LFP_FOREVER, NULL), 0);
    assert_true(b.token > a.token);
    uint64_t kept = a.token;
    assert_int_equal(lfp_rsem_renew(&s, &a), 0);
    assert_int_equal(a.token, kept); /* renew keeps the token */
    assert_int_equal(lfp_rsem_release(&s, &a), 0);
    assert_int_equal(lfp_rsem_try_acquire(&s, 1, &c), 0);
    assert_true(c.token > b.token);
    assert_int_equal(lfp_rsem_release(&s, &b), 0);
    for (int i = 0; i < 100; i++) { /* many grants: strictly increasing */
        uint64_t last = c.token;
        assert_int_equal(lfp_rsem_release(&s, &c), 0);
        assert_int_equal(lfp_rsem_try_acquire(&s, 2, &c), 0);
        assert_true(c.token > last);
    }
    assert_int_equal(lfp_rsem_release(&s, &c), 0);
    lfp_rsem_destroy(&s);
}

/* The scenario: the server loses the keys while A holds the whole
 * capacity, grants it again to B, and A learns it only at its renew. The
 * token lets the resource refuse A's late write: B's token is larger,
 * although the token key was lost with the others. */
static void a_lost_lease_is_stale_and_fenced_off(void **state)
{
    (void)state;
    rfix_start(&rfix_own.srv, NULL);
    rfix_own.raw = rfix_connect(&rfix_own.srv);
    lfp_redis *r = rfix_own.pool = rfix_open(&rfix_own.srv, NULL);
    lfp_rsem s;
    lfp_rsem_lease a, b;
    assert_int_equal(lfp_rsem_init(&s, r, "lost", 3, LONG_NS), 0);
    uint64_t highest = 0;
    assert_int_equal(lfp_rsem_try_acquire(&s, 3, &a), 0);
    assert_true(resource_write(&highest, a.token));

    freeReplyObject(cmd(rfix_own.raw, "FLUSHALL"));
    assert_int_equal(lfp_rsem_try_acquire(&s, 3, &b), 0); /* the capacity is granted twice */
    assert_true(b.token > a.token);
    assert_true(resource_write(&highest, b.token));
    assert_false(resource_write(&highest, a.token)); /* A's late write is refused */
    assert_int_equal(lfp_rsem_renew(&s, &a), ESTALE);
    assert_int_equal(lfp_rsem_release(&s, &a), ESTALE);
    assert_int_equal(lfp_rsem_release(&s, &b), 0);
    assert_int_equal(lfp_rsem_release(&s, &b), ESTALE);
    lfp_rsem_destroy(&s);
}

static bool key_gone(void *key)
{
    redisContext *c = rfix_connect(&rfix_srv);
    redisReply *rep = redisCommand(c, "EXISTS %s", (const char *)key);
    bool gone = rep && rep->type == REDIS_REPLY_INTEGER && rep->integer == 0;
    if (rep) freeReplyObject(rep);
    redisFree(c);
    return gone;
}

/* Idle, the token key expires like every key; the next token is still
 * larger (its time part). */
static void tokens_increase_after_the_token_key_expired(void **state)
{
    (void)state;
    char name[64], key[128];
    rfix_unique(name, sizeof name, "fence-expired");
    token_key(key, sizeof key, name);
    lfp_rsem s;
    lfp_rsem_lease a, b;
    assert_int_equal(lfp_rsem_init(&s, rfix_pool, name, 1, SHORT_NS), 0);
    assert_int_equal(lfp_rsem_try_acquire(&s, 1, &a), 0);
    assert_int_equal(lfp_rsem_release(&s, &a), 0);
    assert_true(rfix_await(key_gone, key, RFIX_PATIENT_NS));
    assert_int_equal(lfp_rsem_try_acquire(&s, 1, &b), 0);
    assert_true(b.token > a.token);
    assert_int_equal(lfp_rsem_release(&s, &b), 0);
    lfp_rsem_destroy(&s);
}

/* Tokens that ran ahead of the server clock (here set far ahead by hand):
 * the next one follows the last, and the key is kept until the clock has
 * passed it, so an expiry cannot make the tokens go back. */
static void a_token_ahead_of_the_clock_is_kept_until_the_clock_passes_it(void **state)
{
    (void)state;
    char name[64], key[128];
    rfix_unique(name, sizeof name, "fence-ahead");
    token_key(key, sizeof key, name);
    redisContext *c = rfix_own.raw = rfix_connect(&rfix_srv);
    long long ahead = (long long)rfix_time_us(&rfix_srv) + INT64_C(1000000000000); /* + 11.6 days */
    freeReplyObject(cmd(c, "SET %s %lld", key, ahead));
    lfp_rsem s;
    lfp_rsem_lease a;
    assert_int_equal(lfp_rsem_init(&s, rfix_pool, name, 1, SHORT_NS), 0);
    assert_int_equal(lfp_rsem_try_acquire(&s, 1, &a), 0);
    assert_int_equal(a.token, (uint64_t)ahead + 1);
    /* The key lives until the clock passes the token: ~1e9 ms, far more
     * than the 20 ms lease. */
    assert_true(cmd_int(c, "PTTL %s", key) > INT64_C(999000000));
    assert_int_equal(lfp_rsem_release(&s, &a), 0);
    lfp_rsem_destroy(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(tokens_increase_from_holder_to_holder),
        cmocka_unit_test_teardown(a_lost_lease_is_stale_and_fenced_off, rfix_own_teardown),
        cmocka_unit_test(tokens_increase_after_the_token_key_expired),
        cmocka_unit_test_teardown(a_token_ahead_of_the_clock_is_kept_until_the_clock_passes_it,
                                  rfix_own_teardown),
    };
    return cmocka_run_group_tests(tests, rfix_group_setup, rfix_group_teardown);
}
