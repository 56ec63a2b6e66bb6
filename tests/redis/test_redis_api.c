/* SPDX-License-Identifier: BSD-2-Clause */
/* lfpat-redis unit tests against a real redis-server: URL and password
 * errors, bad input, GCRA semantics (CL.THROTTLE-like results, key TTL,
 * NOSCRIPT reload, pipelining) and lfp_rsem leases (including a holder
 * process that exits without releasing, and renewal). No check depends on
 * how fast the machine runs the test: rates and leases are either far
 * longer than any run or waited out. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "fixture.h"
#include "lfpat/redis.h"

/* Longer than any run of this program (ctest stops it after 600 s): no
 * token refills and no lease expires within a test, however loaded the
 * machine, so the counts below are exact. */
#define LONG_NS INT64_C(1000000000000) /* 1000 s */
#define SLOW_RATE (1e9 / LONG_NS)      /* one token per LONG_NS */

static void malformed_urls_are_einval(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "", "http://127.0.0.1", "redis://", "redis://:6379", "redis://h:0", "redis://h:70000",
        "redis://h:12x", "redis://h/abc", "redis://user@h", "redis://:@h", "redis://h:1/2?x=1",
        "redis://h h", "redis://[::1]:6379",
    };
    lfp_redis *r = (lfp_redis *)&rfix_srv; /* must stay untouched */
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        assert_int_equal(lfp_redis_open(&r, bad[i], NULL), EINVAL);
        assert_ptr_equal(r, (lfp_redis *)&rfix_srv);
    }
    assert_int_equal(lfp_redis_open(NULL, rfix_srv.url, NULL), EINVAL);
    assert_int_equal(lfp_redis_open(&r, NULL, NULL), EINVAL);
    struct lfp_redis_opts o = { .connect_timeout_ns = -1 };
    assert_int_equal(lfp_redis_open(&r, rfix_srv.url, &o), EINVAL);
}

static void unreachable_is_eio_and_bad_db_is_eproto(void **state)
{
    (void)state;
    lfp_redis *r;
    char url[64];
    snprintf(url, sizeof url, "redis://127.0.0.1:%d", rfix_free_port());
    assert_int_equal(lfp_redis_open(&r, url, &rfix_patient), EIO); /* refused at once */
    snprintf(url, sizeof url, "redis://127.0.0.1:%d/99999", rfix_srv.port);
    assert_int_equal(lfp_redis_open(&r, url, &rfix_patient), EPROTO);
    snprintf(url, sizeof url, "redis://localhost:%d/3", rfix_srv.port);
    assert_int_equal(lfp_redis_open(&rfix_own.pool, url, &rfix_patient), 0);
}

static void passwords(void **state)
{
    (void)state;
    struct rfix *p = &rfix_own.srv;
    rfix_start(p, "s3cret");
    lfp_redis *r;
    char url[128];
    snprintf(url, sizeof url, "redis://127.0.0.1:%d", p->port);
    assert_int_equal(lfp_redis_open(&r, url, &rfix_patient), EACCES); /* none given */
    snprintf(url, sizeof url, "redis://:wrong@127.0.0.1:%d", p->port);
    assert_int_equal(lfp_redis_open(&r, url, &rfix_patient), EACCES);
    snprintf(url, sizeof url, "redis://default:wrong@127.0.0.1:%d", p->port);
    assert_int_equal(lfp_redis_open(&r, url, &rfix_patient), EACCES);
    /* A password the server does not want. */
    snprintf(url, sizeof url, "redis://:x@127.0.0.1:%d", rfix_srv.port);
    assert_int_equal(lfp_redis_open(&r, url, &rfix_patient), EACCES);
    assert_int_equal(lfp_redis_open(&rfix_own.pool, p->url, &rfix_patient), 0);
    lfp_rbucket b;
    assert_int_equal(lfp_rbucket_init(&b, rfix_own.pool, "pw", 10, 1, NULL), 0);
    assert_int_equal(lfp_rbucket_take(&b, 1, NULL), 0);
    lfp_rbucket_destroy(&b);
}

static void rbucket_bad_input(void **state)
{
    (void)state;
    lfp_rbucket b;
    char longname[LFP_REDIS_NAME_MAX + 2];
    memset(longname, 'k', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    assert_int_equal(lfp_rbucket_init(&b, rfix_pool, longname, 10, 1, NULL), ENAMETOOLONG);
    longname[LFP_REDIS_NAME_MAX] = '\0'; /* exactly the maximum is fine */
    assert_int_equal(lfp_rbucket_init(&b, rfix_pool, longname, 10, 1, NULL), 0);
    lfp_rbucket_destroy(&b);
    const double rates[] = { 0, -1, NAN, INFINITY, 2e9 };
    for (size_t i = 0; i < sizeof rates / sizeof *rates; i++)
        assert_int_equal(lfp_rbucket_init(&b, rfix_pool, "x", rates[i], 1, NULL), EINVAL);
    assert_int_equal(lfp_rbucket_init(&b, rfix_pool, "x", 10, 0, NULL), EINVAL);
    assert_int_equal(lfp_rbucket_init(&b, rfix_pool, "", 10, 1, NULL), EINVAL);
    assert_int_equal(lfp_rbucket_init(&b, rfix_pool, NULL, 10, 1, NULL), EINVAL);
    assert_int_equal(lfp_rbucket_init(&b, NULL, "x", 10, 1, NULL), EINVAL);
    /* burst * T too long */
    assert_int_equal(lfp_rbucket_init(&b, rfix_pool, "x", 1e-9, UINT32_MAX, NULL), EINVAL);
    struct lfp_rbucket_opts o = { .lease_batch = 5 };
    assert_int_equal(lfp_rbucket_init(&b, rfix_pool, "x", 10, 4, &o), EINVAL);
    o = (struct lfp_rbucket_opts){ .on_failure = LFP_RFAIL_LOCAL, .local_share = 0 };
    assert_int_equal(lfp_rbucket_init(&b, rfix_pool, "x", 10, 4, &o), EINVAL);
    o = (struct lfp_rbucket_opts){ .on_failure = (enum lfp_rfail)7 };
    assert_int_equal(lfp_rbucket_init(&b, rfix_pool, "x", 10, 4, &o), EINVAL);
    assert_int_equal(lfp_rbucket_init(&b, rfix_pool, "x", 10, 4, NULL), 0);
    assert_int_equal(lfp_rbucket_take(&b, 0, NULL), EINVAL);
    assert_int_equal(lfp_rbucket_take(&b, 5, NULL), EINVAL);
    assert_int_equal(lfp_rbucket_take(NULL, 1, NULL), EINVAL);
    int d[2];
    assert_int_equal(lfp_rbucket_take_pipelined(&b, 1, 0, d), -EINVAL);
    assert_int_equal(lfp_rbucket_take_pipelined(&b, 1, 2, NULL), -EINVAL);
    lfp_rbucket_destroy(&b);
}

/* The integer reply of a command on the raw connection (-1 if none). */
static long long raw_int(const char *fmt, const char *arg)
{
    redisReply *rep = redisCommand(rfix_own.raw, fmt, arg);
    long long v = rep && rep->type == REDIS_REPLY_INTEGER ? rep->integer : -1;
    if (rep) freeReplyObject(rep);
    return v;
}

/* Exact results: one token per T = LONG_NS, so no token refills during the
 * test (every elapsed time d below is < T). */
static void rbucket_throttle_results_and_ttl(void **state)
{
    (void)state;
    char name[64];
    rfix_unique(name, sizeof name, "gcra");
    lfp_rbucket b;
    assert_int_equal(lfp_rbucket_init(&b, rfix_pool, name, SLOW_RATE, 5, NULL), 0);
    const int64_t t = b.t_ns; /* T as the handle rounded it */
    assert_true(t >= LONG_NS);
    struct lfp_rbucket_result res;
    /* A new key is a full bucket: 3 of 5 pass, and it is full again 3T later. */
    assert_int_equal(lfp_rbucket_take(&b, 3, &res), 0);
    assert_true(res.allowed && !res.degraded && res.remaining == 2 && res.retry_after_ns == 0);
    assert_int_equal(res.reset_ns, 3 * t);
    /* d after the first take: the last 2 pass; full again 5T - d later. */
    assert_int_equal(lfp_rbucket_take(&b, 2, &res), 0);
    assert_true(res.allowed && res.remaining == 0);
    assert_true(res.reset_ns > 4 * t && res.reset_ns <= 5 * t);
    /* Empty: 2 more are due in 2T - d (more than T: no token is back yet). */
    assert_int_equal(lfp_rbucket_take(&b, 2, &res), EAGAIN);
    assert_true(!res.allowed && !res.degraded && res.remaining == 0);
    assert_true(res.retry_after_ns > t && res.retry_after_ns <= 2 * t);
    assert_true(res.reset_ns > 4 * t && res.reset_ns <= 5 * t);

    /* The key lives until the bucket would be full (5T - d), no longer. */
    rfix_own.raw = rfix_connect(&rfix_srv);
    long long pttl = raw_int("PTTL lfp:rb:{%s}", name);
    assert_true(pttl > 4 * t / 1000000 && pttl <= 5 * t / 1000000 + 1);

    /* The script cache is flushed (as by a restart): NOSCRIPT -> reload,
     * and the server decides (not the failure policy): still empty, the
     * next token is due in T - d. */
    freeReplyObject(redisCommand(rfix_own.raw, "SCRIPT FLUSH"));
    assert_int_equal(lfp_rbucket_take(&b, 1, &res), EAGAIN);
    assert_true(!res.degraded && res.remaining == 0);
    assert_true(res.retry_after_ns > 0 && res.retry_after_ns <= t);
    lfp_rbucket_destroy(&b);
}

static void rbucket_pipelined_is_exact(void **state)
{
    (void)state;
    char name[64];
    rfix_unique(name, sizeof name, "pipe");
    lfp_rbucket b;
    assert_int_equal(lfp_rbucket_init(&b, rfix_pool, name, SLOW_RATE, 7, NULL), 0); /* no refill */
    /* Flushed script cache: the pipeline reloads and reruns only the
     * commands that did not run (all of them here). */
    rfix_own.raw = rfix_connect(&rfix_srv);
    freeReplyObject(redisCommand(rfix_own.raw, "SCRIPT FLUSH"));
    int d[20];
    assert_int_equal(lfp_rbucket_take_pipelined(&b, 1, 20, d), 7);
    for (int i = 0; i < 20; i++) assert_int_equal(d[i], i < 7 ? 0 : EAGAIN);
    lfp_rbucket_destroy(&b);
}

static void rbucket_leasing_counts_every_token(void **state)
{
    (void)state;
    char name[64];
    rfix_unique(name, sizeof name, "lease");
    struct lfp_rbucket_opts o = { .lease_batch = 4 };
    lfp_rbucket b, plain;
    /* no refill during the test: exact counts */
    assert_int_equal(lfp_rbucket_init(&b, rfix_pool, name, SLOW_RATE, 10, &o), 0);
    assert_int_equal(lfp_rbucket_init(&plain, rfix_pool, name, SLOW_RATE, 10, NULL), 0);
    struct lfp_rbucket_result res;
    assert_int_equal(lfp_rbucket_take(&b, 1, &res), 0); /* leases 4 */
    assert_false(res.leased);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(lfp_rbucket_take(&b, 1, &res), 0);
        assert_true(res.leased);
    }
    /* The server counted all 4 leased tokens: 6 remain. */
    assert_int_equal(lfp_rbucket_take(&plain, 6, &res), 0);
    assert_int_equal(lfp_rbucket_take(&b, 1, &res), EAGAIN);
    lfp_rbucket_destroy(&b);
    lfp_rbucket_destroy(&plain);
}

/* LFP_RFAIL_LOCAL decides with this process's lfp_bucket at the share of
 * rate and burst; set_local_share rescales it. Exact counts: at SLOW_RATE
 * nothing refills during the test. */
static void rbucket_local_fallback_share(void **state)
{
    (void)state;
    struct rfix *dead = &rfix_own.srv;
    rfix_start(dead, NULL);
    /* Patient timeouts: once the server is killed, calls fail at once
     * (connection refused), no timeout is involved. */
    lfp_redis *r = rfix_own.pool = rfix_open(dead, NULL);
    struct lfp_rbucket_opts o = { .on_failure = LFP_RFAIL_LOCAL, .local_share = 0.25 };
    lfp_rbucket quarter, rescaled, closed;
    assert_int_equal(lfp_rbucket_init(&quarter, r, "q", SLOW_RATE, 8, &o), 0);
    assert_int_equal(lfp_rbucket_init(&rescaled, r, "r", SLOW_RATE, 8, &o), 0);
    assert_int_equal(lfp_rbucket_init(&closed, r, "c", SLOW_RATE, 8, NULL), 0);
    assert_int_equal(lfp_rbucket_set_local_share(&closed, 0.5), EINVAL); /* not LOCAL */
    const double bad[] = { 0, -0.5, 1.01, NAN };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        assert_int_equal(lfp_rbucket_set_local_share(&rescaled, bad[i]), EINVAL);
    assert_int_equal(lfp_rbucket_set_local_share(NULL, 0.5), EINVAL);
    assert_int_equal(lfp_rbucket_set_local_share(&rescaled, 1), 0);
    rfix_kill(dead);

    struct lfp_rbucket_result res;
    for (int i = 0; i < 2; i++) { /* a quarter of burst 8 */
        assert_int_equal(lfp_rbucket_take(&quarter, 1, &res), 0);
        assert_true(res.degraded && res.error == EIO);
    }
    assert_int_equal(lfp_rbucket_take(&quarter, 1, &res), EAGAIN);
    assert_true(res.degraded);
    /* Raising the share raises the burst but mints nothing: the rescaled
     * lease keeps the quarter's 2 tokens (lfp_bucket_set_burst keeps the
     * token count, issue 15 item 5), with no refill at SLOW_RATE. */
    assert_int_equal(lfp_rbucket_take(&rescaled, 3, &res), EAGAIN);
    assert_int_equal(lfp_rbucket_take(&rescaled, 2, &res), 0);
    assert_int_equal(lfp_rbucket_take(&rescaled, 1, &res), EAGAIN);
    assert_int_equal(lfp_rbucket_take(&closed, 1, &res), EAGAIN);
    assert_true(res.degraded);
    lfp_rbucket_destroy(&quarter);
    lfp_rbucket_destroy(&rescaled);
    lfp_rbucket_destroy(&closed);
}

static void rsem_weights_and_bad_input(void **state)
{
    (void)state;
    char name[64];
    rfix_unique(name, sizeof name, "sem");
    lfp_rsem s;
    assert_int_equal(lfp_rsem_init(&s, rfix_pool, name, 0, 1000000000), EINVAL);
    assert_int_equal(lfp_rsem_init(&s, rfix_pool, name, 3, 0), EINVAL);
    assert_int_equal(lfp_rsem_init(&s, rfix_pool, "", 3, 1), EINVAL);
    char longname[LFP_REDIS_NAME_MAX + 2];
    memset(longname, 's', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    assert_int_equal(lfp_rsem_init(&s, rfix_pool, longname, 3, 1), ENAMETOOLONG);
    assert_int_equal(lfp_rsem_init(&s, rfix_pool, name, 3, LONG_NS), 0); /* no lease expires */
    lfp_rsem_lease a, b, c;
    assert_int_equal(lfp_rsem_try_acquire(&s, 0, &a), EINVAL);
    assert_int_equal(lfp_rsem_try_acquire(&s, 4, &a), EINVAL);
    assert_int_equal(lfp_rsem_try_acquire(&s, 2, &a), 0);
    assert_int_equal(lfp_rsem_try_acquire(&s, 2, &b), EAGAIN);
    assert_int_equal(lfp_rsem_acquire(&s, 2, &b, lfp_after(20000000), NULL), ETIMEDOUT);
    assert_int_equal(lfp_rsem_try_acquire(&s, 1, &c), 0);
    assert_int_equal(lfp_rsem_held(&s), 3);
    assert_int_equal(lfp_rsem_renew(&s, &a), 0);
    assert_int_equal(lfp_rsem_release(&s, &a), 0);
    assert_int_equal(lfp_rsem_release(&s, &a), ESTALE); /* not held any more */
    assert_int_equal(lfp_rsem_renew(&s, &a), ESTALE);
    assert_int_equal(lfp_rsem_held(&s), 1);
    assert_int_equal(lfp_rsem_acquire(&s, 2, &b, lfp_after(1000000000), NULL), 0);
    assert_int_equal(lfp_rsem_release(&s, &b), 0);
    assert_int_equal(lfp_rsem_release(&s, &c), 0);
    assert_int_equal(lfp_rsem_held(&s), 0);
    lfp_rsem_lease junk = { .id = "short", .weight = 1 };
    assert_int_equal(lfp_rsem_release(&s, &junk), EINVAL);
    lfp_rsem_destroy(&s);
}

static bool nothing_held(void *s)
{
    return lfp_rsem_held(s) == 0;
}

#define SHORT_NS 300000000 /* 300 ms: a lease the tests wait out */

/* A holder that exits without releasing (its SHORT_NS lease runs on). */
static int dying_holder(void *name)
{
    lfp_rsem s;
    lfp_rsem_lease l;
    lfp_redis *r = rfix_open(&rfix_srv, NULL);
    return lfp_rsem_init(&s, r, name, 3, SHORT_NS) == 0 && lfp_rsem_try_acquire(&s, 3, &l) == 0 ? 0 : 1;
}

static void rsem_dead_holder_expires(void **state)
{
    (void)state;
    char name[64];
    rfix_unique(name, sizeof name, "dead");
    assert_true(rfix_join(rfix_fork(dying_holder, name)));

    lfp_rsem s; /* the test's own leases do not end during the test */
    assert_int_equal(lfp_rsem_init(&s, rfix_pool, name, 3, LONG_NS), 0);
    lfp_rsem_lease l;
    int e = lfp_rsem_try_acquire(&s, 1, &l);
    /* Full while the dead holder's lease runs (unless it already ended on
     * a slow machine), free after it: the last check of the wait comes
     * long after the lease's end. */
    if (e == 0) assert_int_equal(lfp_rsem_release(&s, &l), 0);
    else assert_int_equal(e, EAGAIN);
    assert_true(rfix_await(nothing_held, &s, RFIX_PATIENT_NS));
    assert_int_equal(lfp_rsem_try_acquire(&s, 3, &l), 0);
    assert_int_equal(lfp_rsem_release(&s, &l), 0);
    lfp_rsem_destroy(&s);
}

/* A renewal sets the lease to the renewing handle's lease_ns from now: a
 * LONG_NS lease renewed through a SHORT_NS handle ends SHORT_NS later (it
 * neither keeps its old end nor adds to it), and an ended lease can no
 * longer be renewed or released. No step depends on how fast the test
 * runs: the long lease cannot end during the test, the short one is
 * waited for. */
static void rsem_renew_sets_the_lease_from_now(void **state)
{
    (void)state;
    char name[64];
    rfix_unique(name, sizeof name, "renew");
    lfp_rsem forever, brief;
    assert_int_equal(lfp_rsem_init(&forever, rfix_pool, name, 3, LONG_NS), 0);
    assert_int_equal(lfp_rsem_init(&brief, rfix_pool, name, 3, SHORT_NS), 0);
    lfp_rsem_lease l;
    assert_int_equal(lfp_rsem_try_acquire(&forever, 3, &l), 0);
    assert_int_equal(lfp_rsem_renew(&forever, &l), 0);
    assert_int_equal(lfp_rsem_held(&forever), 3); /* a live holder keeps its weight */
    assert_int_equal(lfp_rsem_renew(&brief, &l), 0);
    assert_true(rfix_await(nothing_held, &forever, RFIX_PATIENT_NS));
    assert_int_equal(lfp_rsem_renew(&forever, &l), ESTALE);
    assert_int_equal(lfp_rsem_release(&forever, &l), ESTALE);
    lfp_rsem_destroy(&brief);
    lfp_rsem_destroy(&forever);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(malformed_urls_are_einval),
        cmocka_unit_test_teardown(unreachable_is_eio_and_bad_db_is_eproto, rfix_own_teardown),
        cmocka_unit_test_teardown(passwords, rfix_own_teardown),
        cmocka_unit_test(rbucket_bad_input),
        cmocka_unit_test_teardown(rbucket_throttle_results_and_ttl, rfix_own_teardown),
        cmocka_unit_test_teardown(rbucket_pipelined_is_exact, rfix_own_teardown),
        cmocka_unit_test(rbucket_leasing_counts_every_token),
        cmocka_unit_test_teardown(rbucket_local_fallback_share, rfix_own_teardown),
        cmocka_unit_test(rsem_weights_and_bad_input),
        cmocka_unit_test(rsem_dead_holder_expires),
        cmocka_unit_test(rsem_renew_sets_the_lease_from_now),
    };
    return cmocka_run_group_tests(tests, rfix_group_setup, rfix_group_teardown);
}
