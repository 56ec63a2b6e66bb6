/* SPDX-License-Identifier: BSD-2-Clause */
/* Litmus SB (store buffering, the Dekker shape):
 *     T0: x = 1 ; r0 = y        T1: y = 1 ; r1 = x
 * Forbidden with seq_cst operations, or with a seq_cst fence between the
 * store and the load on BOTH sides: r0 == 0 && r1 == 0. This is the shape
 * of every "announce, then re-check" handshake (lfp_ec_prepare vs
 * lfp_ec_notify_, see litmus_lib_eventcount.c for the library's own code).
 *
 * Controls (must show the outcome on x86, whose store buffer lets a load
 * pass an earlier store): relaxed, release/acquire, and a fence on only one
 * side — which is what the eventcount would be without its notifier fence.
 */
#include "litmus_xy.h"

static int r[2];

static int outcome(void) { return r[0] * 2 + r[1]; }

/* SB_THREADS(tag, store order, load order, T0 fence, T1 fence) */
#define SB_THREADS(tag, st, ld, f0, f1)                                       \
    static void tag##_t0(void)                                                \
    {                                                                         \
        atomic_store_explicit(&x, 1, st);                                     \
        if (f0)                                                               \
            atomic_thread_fence(memory_order_seq_cst);                        \
        r[0] = atomic_load_explicit(&y, ld);                                  \
    }                                                                         \
    static void tag##_t1(void)                                                \
    {                                                                         \
        atomic_store_explicit(&y, 1, st);                                     \
        if (f1)                                                               \
            atomic_thread_fence(memory_order_seq_cst);                        \
        r[1] = atomic_load_explicit(&x, ld);                                  \
    }

/* The orders are the point of each variant; each is named in its test. */
SB_THREADS(sc, memory_order_seq_cst, memory_order_seq_cst, 0, 0)
SB_THREADS(fence, memory_order_relaxed, memory_order_relaxed, 1, 1)
SB_THREADS(relaxed, memory_order_relaxed, memory_order_relaxed, 0, 0)
SB_THREADS(acqrel, memory_order_release, memory_order_acquire, 0, 0)
SB_THREADS(onefence, memory_order_relaxed, memory_order_relaxed, 1, 0)

#define SB_TEST(tag, label, is_control)                                       \
    {                                                                         \
        .name = label, .shape = "x=1; r0=y || y=1; r1=x", .nthreads = 2,     \
        .thread = { tag##_t0, tag##_t1 }, .reset = reset_xy, .outcome = outcome, \
        .noutcomes = 4,                                                       \
        .outcome_names = { "r0=0 r1=0", "r0=0 r1=1", "r0=1 r1=0", "r0=1 r1=1" }, \
        .forbidden_mask = LITMUS_BIT(0), .control = is_control,              \
    }

static const litmus_test tests[] = {
    SB_TEST(sc, "SB seq_cst", false),
    SB_TEST(fence, "SB relaxed+fences", false),
    SB_TEST(relaxed, "SB relaxed (control)", true),
    SB_TEST(acqrel, "SB rel/acq (control)", true),
    SB_TEST(onefence, "SB fence on T0 only (control)", true),
};

int main(void)
{
    lfps_init("litmus_sb");
    for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++)
        litmus_run(&tests[i]);
    return lfps_finish();
}
