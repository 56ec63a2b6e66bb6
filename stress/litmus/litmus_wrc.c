/* SPDX-License-Identifier: BSD-2-Clause */
/* Litmus WRC (write-to-read causality):
 *     T0: x = 1    T1: r0 = x ; y = 1    T2: r1 = y ; r2 = x
 * Forbidden: r0=1 r1=1 r2=0. T1 saw x=1 before publishing y (acquire, then
 * release); T2 acquired y, so happens-before is transitive and T2 must see
 * x=1 too.
 */
#include "litmus_xy.h"

static int r[3];

static int outcome(void) { return r[0] * 4 + r[1] * 2 + r[2]; }

static void t0(void)
{
    atomic_store_explicit(&x, 1, memory_order_release);     /* release: pairs with t1's acquire of x */
}

static void t1(void)
{
    r[0] = atomic_load_explicit(&x, memory_order_acquire);  /* acquire: pairs with t0's release */
    if (r[0])
        atomic_store_explicit(&y, 1, memory_order_release); /* release: pairs with t2's acquire of y */
}

static void t2(void)
{
    r[1] = atomic_load_explicit(&y, memory_order_acquire);  /* acquire: pairs with t1's release */
    r[2] = atomic_load_explicit(&x, memory_order_relaxed);  /* relaxed: ordered by the acquire above */
}

static const litmus_test test = {
    .name = "WRC release/acquire", .shape = "x=1 || r0=x; if(r0) y=1 || r1=y; r2=x",
    .nthreads = 3, .thread = { t0, t1, t2 }, .reset = reset_xy, .outcome = outcome,
    .noutcomes = 8, .regs = "r0r1r2", .forbidden_mask = LITMUS_BIT(6) | LITMUS_BIT(2) | LITMUS_BIT(3),
    .rounds = 100000,
};

int main(void)
{
    lfps_init("litmus_wrc");
    litmus_run(&test);
    return lfps_finish();
}
