/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit tests: lfpat/counter.h and its twin lfp_locked_counter. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "lfpat.h"

static void counter_add_returns_new_value(void **state)
{
    (void)state;
    lfp_counter c;
    lfp_counter_init(&c, 5);
    assert_int_equal(lfp_counter_add(&c, 3), 8);
    assert_int_equal(lfp_counter_add(&c, -10), -2);
    assert_int_equal(lfp_counter_get(&c), -2);
    lfp_counter_destroy(&c);
}

static void counter_static_init(void **state)
{
    (void)state;
    static lfp_counter c = LFP_COUNTER_INIT(7);
    assert_int_equal(lfp_counter_get(&c), 7);
}

static void counter_wraps_without_ub(void **state)
{
    (void)state;
    lfp_counter c;
    lfp_counter_init(&c, INT64_MAX);
    assert_true(lfp_counter_add(&c, 1) == INT64_MIN);
    lfp_locked_counter l;
    assert_int_equal(lfp_locked_counter_init(&l, INT64_MAX), 0);
    assert_true(lfp_locked_counter_add(&l, 1) == INT64_MIN);
    lfp_locked_counter_destroy(&l);
}

static void striped_bad_input(void **state)
{
    (void)state;
    lfp_striped s;
    assert_int_equal(lfp_striped_init(NULL, 4), EINVAL);
    assert_int_equal(lfp_striped_init(&s, LFP_STRIPED_MAX_CELLS + 1), EINVAL);
    assert_int_equal(lfp_striped_init(&s, UINT32_MAX), EINVAL);
    lfp_striped_destroy(NULL);  /* ignored */
}

static void striped_rounds_cells_to_power_of_two(void **state)
{
    (void)state;
    lfp_striped s;
    assert_int_equal(lfp_striped_init(&s, 5), 0);
    assert_int_equal(lfp_striped_cells(&s), 8);
    lfp_striped_destroy(&s);
    assert_int_equal(lfp_striped_init(&s, LFP_STRIPED_MAX_CELLS), 0);
    assert_int_equal(lfp_striped_cells(&s), LFP_STRIPED_MAX_CELLS);
    lfp_striped_destroy(&s);
    assert_int_equal(lfp_striped_init(&s, 0), 0);   /* auto */
    assert_true(lfp_striped_cells(&s) >= 4);
    lfp_striped_destroy(&s);   /* LSan checks that this frees everything */
}

static void striped_sum_single_thread(void **state)
{
    (void)state;
    lfp_striped s;
    assert_int_equal(lfp_striped_init(&s, 1), 0);
    assert_int_equal(lfp_striped_sum(&s), 0);
    for (int i = 1; i <= 100; i++)
        lfp_striped_add(&s, i);
    lfp_striped_add(&s, -50);
    assert_int_equal(lfp_striped_sum(&s), 5050 - 50);
    lfp_striped_destroy(&s);
}

static void striped_cells_are_cache_line_apart(void **state)
{
    (void)state;
    lfp_striped s;
    assert_int_equal(lfp_striped_init(&s, 4), 0);
    for (unsigned i = 0; i < 4; i++)
        assert_int_equal((uintptr_t)&s.cells[i] % LFP_CACHELINE, 0);
    assert_int_equal(sizeof s.cells[0], LFP_CACHELINE);
    lfp_striped_destroy(&s);
}

static void locked_counter_matches_counter(void **state)
{
    (void)state;
    lfp_counter c;
    lfp_locked_counter l;
    lfp_counter_init(&c, 0);
    assert_int_equal(lfp_locked_counter_init(&l, 0), 0);
    uint64_t x = 88172645463325252ull;
    for (int i = 0; i < 10000; i++) {
        x ^= x << 13; x ^= x >> 7; x ^= x << 17;
        int64_t d = (int64_t)(x % 2001) - 1000;
        assert_int_equal(lfp_counter_add(&c, d), lfp_locked_counter_add(&l, d));
    }
    assert_int_equal(lfp_counter_get(&c), lfp_locked_counter_get(&l));
    assert_int_equal(lfp_locked_counter_init(NULL, 0), EINVAL);
    lfp_locked_counter_destroy(&l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(counter_add_returns_new_value),
        cmocka_unit_test(counter_static_init),
        cmocka_unit_test(counter_wraps_without_ub),
        cmocka_unit_test(striped_bad_input),
        cmocka_unit_test(striped_rounds_cells_to_power_of_two),
        cmocka_unit_test(striped_sum_single_thread),
        cmocka_unit_test(striped_cells_are_cache_line_apart),
        cmocka_unit_test(locked_counter_matches_counter),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
