/* SPDX-License-Identifier: BSD-2-Clause */
/* Litmus CoRR + CoWW (coherence of one location, even with relaxed atomics):
 *     T0: x = 1 ; x = 2        T1: r0 = x ; r1 = x
 * Forbidden: r0 > r1 — the writes of one thread reach x in program order
 * (CoWW) and a thread's two reads never go back in x's modification order
 * (CoRR). The same shape on the library's own lfp_counter (relaxed
 * fetch-add, relaxed get): a reader never sees the counter go backwards.
 */
#include <stdatomic.h>

#include "litmus.h"
#include "lfpat/counter.h"

static _Atomic int x;
static lfp_counter ctr;
static int r[2];

static void reset(void)
{
    atomic_store_explicit(&x, 0, memory_order_relaxed);  /* relaxed: published by the round barrier */
    lfp_counter_init(&ctr, 0);
}

static int outcome(void) { return r[0] * 3 + r[1]; }

/* relaxed throughout: coherence holds for every memory order. */
static void co_t0(void)
{
    atomic_store_explicit(&x, 1, memory_order_relaxed);
    atomic_store_explicit(&x, 2, memory_order_relaxed);
}

static void co_t1(void)
{
    r[0] = atomic_load_explicit(&x, memory_order_relaxed);
    r[1] = atomic_load_explicit(&x, memory_order_relaxed);
}

static void ctr_t0(void)
{
    lfp_counter_add(&ctr, 1);
    lfp_counter_add(&ctr, 1);
}

static void ctr_t1(void)
{
    r[0] = (int)lfp_counter_get(&ctr);
    r[1] = (int)lfp_counter_get(&ctr);
}

/* Outcome r0*3+r1; forbidden where r0 > r1: (1,0)=3, (2,0)=6, (2,1)=7. */
#define CO_TEST(label, shp, a, b)                                             \
    {                                                                         \
        .name = label, .shape = shp, .nthreads = 2, .thread = { a, b },       \
        .reset = reset, .outcome = outcome, .noutcomes = 9,                   \
        .outcome_names = { "r0=0 r1=0", "r0=0 r1=1", "r0=0 r1=2", "r0=1 r1=0", \
                           "r0=1 r1=1", "r0=1 r1=2", "r0=2 r1=0", "r0=2 r1=1", \
                           "r0=2 r1=2" },                                     \
        .forbidden_mask = LITMUS_BIT(3) | LITMUS_BIT(6) | LITMUS_BIT(7),      \
    }

static const litmus_test tests[] = {
    CO_TEST("CoRR+CoWW relaxed", "x=1; x=2 || r0=x; r1=x", co_t0, co_t1),
    CO_TEST("CoRR lfp_counter", "add(1); add(1) || r0=get; r1=get", ctr_t0, ctr_t1),
};

int main(void)
{
    lfps_init("litmus_coherence");
    for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++)
        litmus_run(&tests[i]);
    return lfps_finish();
}
