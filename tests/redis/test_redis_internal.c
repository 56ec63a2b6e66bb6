/* lfpat-redis internals without a server: the timeout conversion and the
 * error-reply codes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "internal.h"

static void timeouts_round_up_to_a_microsecond(void **state)
{
    (void)state;
    static const struct {
        int64_t ns;
        long sec, usec;
    } cases[] = {
        { 1, 0, 1 },          { 999, 0, 1 },         { 1000, 0, 1 },
        { 1001, 0, 2 },       { 999999, 0, 1000 },   { 999999999, 1, 0 },
        { 1000000000, 1, 0 }, { 1000000001, 1, 1 },  { 200000000, 0, 200000 },
        { INT64_C(240000000000), 240, 0 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        struct timeval tv = lfp_redis_tv(cases[i].ns);
        assert_int_equal(tv.tv_sec, cases[i].sec);
        assert_int_equal(tv.tv_usec, cases[i].usec);
    }
    for (int64_t ns = 1; ns < 5000; ns++) { /* never zero, never below the timeout */
        struct timeval tv = lfp_redis_tv(ns);
        assert_true(tv.tv_sec > 0 || tv.tv_usec > 0);
        assert_true((int64_t)tv.tv_sec * 1000000000 + (int64_t)tv.tv_usec * 1000 >= ns);
    }
}

/* Messages as Redis 5-7 send them. */
static void error_replies_map_to_their_codes(void **state)
{
    (void)state;
    static const struct {
        const char *msg;
        int code;
    } cases[] = {
        { "NOAUTH Authentication required.", EACCES },
        { "WRONGPASS invalid username-password pair or user is disabled.", EACCES },
        { "ERR invalid password", EACCES },
        { "NOPERM this user has no permissions to run the 'script|load' command", EPERM },
        { "NOPERM this user has no permissions to access one of the keys used as arguments", EPERM },
        { "NOPERM", EPERM },
        { "ERR max number of clients reached", EBUSY },
        { "LOADING Redis is loading the dataset in memory", EBUSY },
        { "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.", EBUSY },
        { "TRYAGAIN Multiple keys request during rehashing of slot", EBUSY },
        { "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.", EBUSY },
        { "BUSYKEY Target key name already exists.", EPROTO },
        { "NOPERMS", EPROTO },
        { "ERR DB index is out of range", EPROTO },
        { "WRONGTYPE Operation against a key holding the wrong kind of value", EPROTO },
        { "NOSCRIPT No matching script. Please use EVAL.", EPROTO },
        { "", EPROTO },
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        if (lfp_redis_error_code(cases[i].msg) != cases[i].code) fprintf(stderr, "%s\n", cases[i].msg);
        assert_int_equal(lfp_redis_error_code(cases[i].msg), cases[i].code);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(timeouts_round_up_to_a_microsecond),
        cmocka_unit_test(error_replies_map_to_their_codes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
