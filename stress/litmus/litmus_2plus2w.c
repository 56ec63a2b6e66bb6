/* SPDX-License-Identifier: BSD-2-Clause */
/* Litmus 2+2W:
 *     T0: x = 1 ; y = 2        T1: y = 1 ; x = 2
 * Forbidden with seq_cst stores: final x == 1 && y == 1 (each thread's first
 * store last in the modification order would need a cycle in the single
 * total order of seq_cst operations).
 */
#include "litmus_xy.h"

static int outcome(void)
{
    /* relaxed: the round barrier orders both threads' stores before this. */
    int fx = atomic_load_explicit(&x, memory_order_relaxed);
    int fy = atomic_load_explicit(&y, memory_order_relaxed);
    return (fx - 1) * 2 + (fy - 1);
}

static void t0(void) { atomic_store(&x, 1); atomic_store(&y, 2); }
static void t1(void) { atomic_store(&y, 1); atomic_store(&x, 2); }

static const litmus_test test = {
    .name = "2+2W seq_cst", .shape = "x=1; y=2 || y=1; x=2  (final x,y)", .nthreads = 2,
    .thread = { t0, t1 }, .reset = reset_xy, .outcome = outcome, .noutcomes = 4,
    .outcome_names = { "x=1 y=1", "x=1 y=2", "x=2 y=1", "x=2 y=2" },
    .forbidden_mask = LITMUS_BIT(0),
};

int main(void)
{
    lfps_init("litmus_2plus2w");
    litmus_run(&test);
    return lfps_finish();
}
