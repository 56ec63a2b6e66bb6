/* SPDX-License-Identifier: BSD-2-Clause */
/* Litmus: lfp_snap's read-section entry against the writer's barrier and
 * scan, with the library's own code (include/lfpat/snap.h, "Why it is safe").
 *     reader: lfp_snap_mark_(cell)       R1 g = gp (acquire); R2 cell = g|1
 *                                        (release); R3 compiler barrier
 *             r0 = cur                   R4 (acquire, as lfp_snap_enter)
 *     writer: exchange(cur, NEW)         W1 seq_cst
 *             t = fetch_add(gp, 1) + 1   W2 seq_cst
 *             lfp_heavy_barrier_()       W3 membarrier
 *             r1 = cell                  W4 (acquire, as the scan)
 * The writer frees OLD unless r1 is in (0, t). Forbidden: the reader got
 * OLD while the scan found its cell idle (r1 == 0) or entered after the bump
 * (r1 >= t): the writer would free a version the reader holds.
 *
 * Control: the writer without W3 (its locked RMWs are full barriers on x86,
 * yet one-sided): the reader's cell store still sits in its store buffer
 * when the writer loads the cell, while its load of cur already returned
 * OLD — the outcome fires, so the membarrier is load-bearing. */
#include <stdatomic.h>

#include "litmus.h"
#include "lfpat/snap.h"

static int old_v, new_v;
static lfp_snap snap;
static lfp_snap_cell_ cell;     /* the reader's cell (not in the registry) */
static void *r0;
static uint64_t r1, t;

static void no_free(void *v, void *arg) { (void)v, (void)arg; }

static void reset(void)
{
    /* relaxed: the round barrier orders these before the next round. */
    atomic_store_explicit(&cell.word, 0, memory_order_relaxed);
    atomic_store_explicit(&snap.cur, (void *)&old_v, memory_order_relaxed);
}

static void reader(void)
{
    lfp_snap_mark_(&cell);
    /* acquire: as in lfp_snap_enter. */
    r0 = atomic_load_explicit(&snap.cur, memory_order_acquire);
}

static void writer_common(bool barrier)
{
    /* seq_cst: W1 and W2, as in lfp_snap_publish / retire (src/snap.c). */
    atomic_exchange_explicit(&snap.cur, (void *)&new_v, memory_order_seq_cst);
    t = atomic_fetch_add_explicit(&lfp_snap_dom_.gp, 1, memory_order_seq_cst) + 1;
    if (barrier)
        lfp_heavy_barrier_();
    /* acquire: as cell_gp in src/snap.c. */
    r1 = atomic_load_explicit(&cell.word, memory_order_acquire) >> LFP_SNAP_NEST_BITS_;
}

static void writer(void) { writer_common(true); }
static void writer_nobarrier(void) { writer_common(false); }

static int outcome(void)
{
    int cls = r1 == 0 ? 0 : r1 < t ? 1 : 2;   /* idle, waited for, entered after */
    return (r0 == &old_v) * 3 + cls;
}

#define SNAP_TEST(label, shp, wfn, is_control)                                                 \
    {                                                                                          \
        .name = label, .shape = shp,                                                           \
        .nthreads = 2, .thread = { reader, wfn }, .reset = reset, .outcome = outcome,          \
        .noutcomes = 6,                                                                        \
        .outcome_names = { "new, cell idle", "new, cell waited for", "new, cell after bump",  \
                           "OLD, cell idle (freed early)", "OLD, cell waited for",             \
                           "OLD, cell after bump (freed early)" },                             \
        .forbidden_mask = LITMUS_BIT(3) | LITMUS_BIT(5), .control = is_control,               \
        .skew = 128, /* the writer's membarrier is slow: wider offsets */                      \
    }

static const litmus_test tests[] = {
    SNAP_TEST("snap entry vs membarrier + scan (lfp_snap_mark_)",
              "g=gp; cell=g|1; r0=cur || cur=NEW; gp++; membarrier; r1=cell", writer, false),
    SNAP_TEST("snap entry vs scan without membarrier (control)",
              "g=gp; cell=g|1; r0=cur || cur=NEW; gp++; r1=cell", writer_nobarrier, true),
};

int main(void)
{
    lfps_init("litmus_lib_snap");
    if (lfp_snap_init(&snap, &old_v, no_free, NULL) != 0)
        return 1;
    if (!lfp_snap_dom_.asym)
        printf("litmus_lib_snap: no membarrier: lfp_snap uses its shared count (the cells' "
               "entry is not used); the checked test is expected to fail here\n");
    for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++)
        litmus_run(&tests[i]);
    atomic_store_explicit(&snap.cur, NULL, memory_order_relaxed);  /* relaxed: single-threaded */
    lfp_snap_destroy(&snap);
    return lfps_finish();
}
