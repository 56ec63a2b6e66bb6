/* lfpat-redis internals without a server: the timeout conversion. */
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(timeouts_round_up_to_a_microsecond),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
