/* SPDX-License-Identifier: BSD-2-Clause */
/* Litmus: lfp_rwlock's bias re-check against the writer's revocation, with
 * the library's own code (include/lfpat/internal/rwlock.h, src/rwlock.c):
 *     reader: lfp_rwlock_fast_enter_   (bias set? store cell := L seq_cst;
 *                                       r0 = state has RBIAS, seq_cst load)
 *     writer: r1 = lfp_rwlock_trywrlock == 0   (seq_cst CAS: WRITER, RBIAS
 *                                       cleared, REVOKE set; scan: load
 *                                       every cell seq_cst; EBUSY if L found)
 * Forbidden: r0 && r1 — a fast reader and a writer both inside. It is the
 * store-buffering shape; the two seq_cst pairs forbid it (the argument in
 * lfpat/rwlock.h). The holds are not released in the round: reset() clears
 * the reader's cell and re-initialises the lock (quiescent between rounds).
 *
 * Control: the fast path with its store and re-check weakened to release /
 * acquire (no store-load barrier): x86 lets the re-check pass the cell store
 * in the store buffer, so the reader sees the bias still set while the
 * writer's scan misses its cell — both inside. It must fire.
 */
#include <stdatomic.h>

#include "litmus.h"
#include "lfpat/rwlock.h"

static lfp_rwlock rw;
static _Atomic(const void *) *cell;   /* the reader thread's cell for rw */
static int r0, r1;

static void reset(void)
{
    if (cell)
        /* relaxed: quiescent; the round barrier publishes it. */
        atomic_store_explicit(cell, (const void *)NULL, memory_order_relaxed);
    lfp_rwlock_init(&rw);
    r0 = r1 = 0;
}

static void reader(void)
{
    cell = lfp_rw_cell_(&rw);
    r0 = lfp_rwlock_fast_enter_(&rw);
}

/* lfp_rwlock_fast_enter_ with the SB pair weakened (the control). */
static void reader_weak(void)
{
    cell = lfp_rw_cell_(&rw);
    /* relaxed: as the real fast path's hint. */
    if (!(atomic_load_explicit(&rw.state, memory_order_relaxed) & LFP_RW_RBIAS))
        return;
    /* release / acquire: the bug under test (no store-load order). */
    atomic_store_explicit(cell, (const void *)&rw, memory_order_release);
    r0 = (atomic_load_explicit(&rw.state, memory_order_acquire) & LFP_RW_RBIAS) != 0;
}

static void writer(void) { r1 = lfp_rwlock_trywrlock(&rw) == 0; }

static int outcome(void) { return r0 * 2 + r1; }

#define RW_TEST(label, read_fn, is_control)                                        \
    {                                                                              \
        .name = label,                                                             \
        .shape = "cell=L; r0=bias || bias=0; r1=(cell!=L)",                        \
        .nthreads = 2, .thread = { read_fn, writer }, .reset = reset,              \
        .outcome = outcome, .noutcomes = 4,                                        \
        .outcome_names = { "neither inside", "writer inside", "reader inside",     \
                           "both inside" },                                        \
        .forbidden_mask = LITMUS_BIT(3), .control = is_control, .skew = 128,       \
    }

static const litmus_test tests[] = {
    RW_TEST("rwlock bias re-check SB (lfp_rwlock_fast_enter_ / trywrlock)", reader, false),
    RW_TEST("rwlock bias re-check release/acquire (control)", reader_weak, true),
};

int main(void)
{
    lfps_init("litmus_lib_rwlock");
    for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++)
        litmus_run(&tests[i]);
    return lfps_finish();
}
