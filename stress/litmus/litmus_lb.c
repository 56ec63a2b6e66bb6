/* SPDX-License-Identifier: BSD-2-Clause */
/* Litmus LB (load buffering):
 *     T0: r0 = x ; y = 1        T1: r1 = y ; x = 1
 * Forbidden with acquire loads and release stores (or seq_cst):
 * r0 == 1 && r1 == 1 — each load would read a store that comes after the
 * other thread's load. (Relaxed LB is allowed by C11 but cannot show on x86,
 * whose loads are never reordered with later stores, so there is no control.)
 */
#include "litmus_xy.h"

static int r[2];

static int outcome(void) { return r[0] * 2 + r[1]; }

static void t0(void)
{
    r[0] = atomic_load_explicit(&x, memory_order_acquire);  /* acquire: pairs with t1's release of x */
    atomic_store_explicit(&y, 1, memory_order_release);     /* release: pairs with t1's acquire of y */
}

static void t1(void)
{
    r[1] = atomic_load_explicit(&y, memory_order_acquire);  /* acquire: pairs with t0's release of y */
    atomic_store_explicit(&x, 1, memory_order_release);     /* release: pairs with t0's acquire of x */
}

static const litmus_test test = {
    .name = "LB release/acquire", .shape = "r0=x; y=1 || r1=y; x=1", .nthreads = 2,
    .thread = { t0, t1 }, .reset = reset_xy, .outcome = outcome, .noutcomes = 4,
    .outcome_names = { "r0=0 r1=0", "r0=0 r1=1", "r0=1 r1=0", "r0=1 r1=1" },
    .forbidden_mask = LITMUS_BIT(3),
};

int main(void)
{
    lfps_init("litmus_lb");
    litmus_run(&test);
    return lfps_finish();
}
