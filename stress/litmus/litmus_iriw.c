/* SPDX-License-Identifier: BSD-2-Clause */
/* Litmus IRIW (independent reads of independent writes):
 *     T0: x = 1    T1: y = 1    T2: r0 = x ; r1 = y    T3: r2 = y ; r3 = x
 * Forbidden with seq_cst: r0=1 r1=0 r2=1 r3=0 — the two readers would
 * disagree on the order of the two independent writes. seq_cst gives one
 * total order every thread agrees on. (With acquire loads C11 allows it, but
 * x86 is multi-copy atomic and never shows it, so there is no control.)
 * Four threads on two cores: fewer rounds, most of them not overlapping.
 */
#include "litmus_xy.h"

static int r[4];

static int outcome(void) { return r[0] * 8 + r[1] * 4 + r[2] * 2 + r[3]; }

static void t0(void) { atomic_store(&x, 1); }
static void t1(void) { atomic_store(&y, 1); }
static void t2(void) { r[0] = atomic_load(&x); r[1] = atomic_load(&y); }
static void t3(void) { r[2] = atomic_load(&y); r[3] = atomic_load(&x); }

static const litmus_test test = {
    .name = "IRIW seq_cst", .shape = "x=1 || y=1 || r0=x; r1=y || r2=y; r3=x",
    .nthreads = 4, .thread = { t0, t1, t2, t3 }, .reset = reset_xy, .outcome = outcome,
    .noutcomes = 16, .regs = "r0r1r2r3", .forbidden_mask = LITMUS_BIT(10),
    .rounds = 40000,
};

int main(void)
{
    lfps_init("litmus_iriw");
    litmus_run(&test);
    return lfps_finish();
}
