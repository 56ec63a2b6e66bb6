/* SPDX-License-Identifier: BSD-2-Clause */
/* Litmus MP (message passing):
 *     T0: data = 42 ; flag = 1        T1: r0 = flag ; r1 = data
 * Forbidden: r0 == 1 && r1 == 0 (the flag seen, the data not). Checked with
 * a release store / acquire load of the flag and seq_cst; the data is a
 * plain int, so ThreadSanitizer also checks the happens-before edge.
 * The under-ordered control (plain flag) is a data race: it lives in
 * stress/negative/mp_plain_race.c, where TSan must report it.
 */
#include <stdatomic.h>

#include "litmus.h"

static _Atomic int flag;
static int data;
static int r[2];

static void reset(void)
{
    data = 0;
    atomic_store_explicit(&flag, 0, memory_order_relaxed);  /* relaxed: published by the round barrier */
}

static int outcome(void) { return r[0] * 2 + (r[1] == 42); }

static void ra_t0(void)
{
    data = 42;
    /* release: pairs with the acquire in ra_t1, publishes data. */
    atomic_store_explicit(&flag, 1, memory_order_release);
}

static void ra_t1(void)
{
    /* acquire: pairs with the release in ra_t0. */
    r[0] = atomic_load_explicit(&flag, memory_order_acquire);
    r[1] = r[0] ? data : 0;
}

static void sc_t0(void)
{
    data = 42;
    atomic_store(&flag, 1);
}

static void sc_t1(void)
{
    r[0] = atomic_load(&flag);
    r[1] = r[0] ? data : 0;
}

#define MP_TEST(label, a, b)                                                  \
    {                                                                         \
        .name = label, .shape = "data=42; flag=1 || r0=flag; r1=data",       \
        .nthreads = 2, .thread = { a, b }, .reset = reset, .outcome = outcome, \
        .noutcomes = 4,                                                       \
        .outcome_names = { "flag=0", "flag=0 (n/a)", "flag=1 data=stale", "flag=1 data=42" }, \
        .forbidden_mask = LITMUS_BIT(2) | LITMUS_BIT(1),                     \
    }

static const litmus_test tests[] = {
    MP_TEST("MP release/acquire", ra_t0, ra_t1),
    MP_TEST("MP seq_cst", sc_t0, sc_t1),
};

int main(void)
{
    lfps_init("litmus_mp");
    for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++)
        litmus_run(&tests[i]);
    return lfps_finish();
}
