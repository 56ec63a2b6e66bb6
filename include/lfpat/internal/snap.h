/* SPDX-License-Identifier: BSD-2-Clause */
/* lfpat/internal/snap.h — inline internals of lfp_snap (included by
 * lfpat/snap.h; not an API). The read-section protocol and its argument are
 * in lfpat/snap.h. */
#ifndef LFPAT_INTERNAL_SNAP_H
#define LFPAT_INTERNAL_SNAP_H

#include "lfpat/eventcount.h"

#ifdef __cplusplus
extern "C" {
#endif

struct lfp_snap;

/* One reader cell per thread, on its own cache line, written only by its
 * owner and read by writers' scans. Its word is 0 outside a read section;
 * inside, (g << LFP_SNAP_NEST_BITS_) | depth, where g is the grace-period
 * number the owner read at its outermost entry and depth the nesting depth
 * (1 .. LFP_SNAP_NEST_MAX_). Cells exist only when membarrier works (see
 * take_cell in src/snap.c); otherwise every reader uses the shared count. */
typedef struct lfp_snap_cell_ {
    alignas(LFP_CACHELINE) _Atomic(uint64_t) word;
} lfp_snap_cell_;

#define LFP_SNAP_NEST_BITS_ 16
#define LFP_SNAP_NEST_MAX_ ((1u << LFP_SNAP_NEST_BITS_) - 1)

/* The process-wide grace-period domain every lfp_snap shares (as every
 * liburcu flavour has one): one grace-period counter and one eventcount that
 * leaving readers notify when a writer waits. */
typedef struct lfp_snap_domain_ {
    alignas(LFP_CACHELINE) _Atomic(uint64_t) gp; /* bumped by every publish; starts at 1 */
    _Atomic(uint64_t) shared_readers;   /* threads in a section without a cell (see snap.c) */
    uint32_t asym;      /* membarrier available; constant after the first lfp_snap_init */
    alignas(LFP_CACHELINE) lfp_ec left; /* writers park here; leaving readers notify */
} lfp_snap_domain_;

LFP_API extern lfp_snap_domain_ lfp_snap_dom_;
/* The calling thread's cell; NULL until its first read section, and for
 * ever for a thread without a cell. */
LFP_API extern LFP_THREAD_LOCAL lfp_snap_cell_ *lfp_snap_self_;

/* Out-of-line halves: first section of a thread, threads without a cell,
 * NULL objects, misuse, nesting beyond LFP_SNAP_NEST_MAX_. */
LFP_API void *lfp_snap_enter_slow_(struct lfp_snap *s);
LFP_API int lfp_snap_leave_slow_(struct lfp_snap *s);
LFP_API int lfp_snap_online_slow_(void);
LFP_API int lfp_snap_offline_slow_(void);
LFP_API int lfp_snap_quiescent_slow_(void);

/* Outermost entry into the own cell c: R1..R3 of the argument in
 * lfpat/snap.h ("Why it is safe"); the caller then loads the version. */
static inline void lfp_snap_mark_(lfp_snap_cell_ *c)
{
    /* acquire: pairs with the seq_cst fetch_add of gp in lfp_snap_publish;
     * reading a bumped gp makes the exchange of cur before it visible, so
     * the cur load that follows returns that version or a newer one. */
    uint64_t g = atomic_load_explicit(&lfp_snap_dom_.gp, memory_order_acquire);
    /* release: pairs with the acquire load of the cell in the writer's scan
     * (src/snap.c); reading this store orders this thread's earlier
     * sections (ended before it) before the writer's free. A plain mov on
     * x86. */
    atomic_store_explicit(&c->word, g << LFP_SNAP_NEST_BITS_ | 1, memory_order_release);
    /* compiler barrier: the light half of the asymmetric store-load barrier;
     * the heavy half is the writer's membarrier before its scan
     * (eventcount.h, lfp_heavy_barrier_). Keeps the cell store before the
     * cur load in the instruction stream; the CPU's own reordering is what
     * the membarrier cuts. */
    atomic_signal_fence(memory_order_seq_cst);
}

/* Outermost leave from the own cell c: R5, then the wake of parked writers
 * (lfp_ec_notify_asym_'s light half, without its mode test: cells exist
 * only in asymmetric mode). */
static inline void lfp_snap_unmark_(lfp_snap_cell_ *c)
{
    /* release: R5; pairs with the acquire load of the cell in the writer's
     * scan: the section's reads of the version happen-before its free. */
    atomic_store_explicit(&c->word, 0, memory_order_release);
    /* compiler barrier: the light half of the asymmetric SB shape with a
     * parking writer (its membarrier in lfp_ec_prepare, then its re-scan). */
    atomic_signal_fence(memory_order_seq_cst);
    /* relaxed: ordered against the writer's increment by that pairing. */
    if (LFP_UNLIKELY(atomic_load_explicit(&lfp_snap_dom_.left.waiters, memory_order_relaxed) != 0))
        lfp_ec_wake_(&lfp_snap_dom_.left, 0x7fffffff);
}

/* Open a section in the own cell c: mark it (outermost) or count one more
 * level. Returns 0, or EOVERFLOW (nothing changed) at LFP_SNAP_NEST_MAX_. */
static inline int lfp_snap_open_(lfp_snap_cell_ *c)
{
    /* relaxed: the cell is written only by this thread. */
    uint64_t w = atomic_load_explicit(&c->word, memory_order_relaxed);
    if (LFP_LIKELY(w == 0))
        lfp_snap_mark_(c);
    else if (LFP_UNLIKELY((w & LFP_SNAP_NEST_MAX_) == LFP_SNAP_NEST_MAX_))
        return EOVERFLOW;
    else   /* relaxed: nesting keeps g; only the owner reads the depth */
        atomic_store_explicit(&c->word, w + 1, memory_order_relaxed);
    return 0;
}

/* Close the innermost section in the own cell c. Returns 0, or EPERM if the
 * thread is in no section. */
static inline int lfp_snap_close_(lfp_snap_cell_ *c)
{
    /* relaxed: the cell is written only by this thread. */
    uint64_t w = atomic_load_explicit(&c->word, memory_order_relaxed);
    if (LFP_LIKELY((w & LFP_SNAP_NEST_MAX_) == 1))
        lfp_snap_unmark_(c);
    else if (LFP_UNLIKELY(w == 0))
        return EPERM;
    else   /* relaxed: as in lfp_snap_open_ */
        atomic_store_explicit(&c->word, w - 1, memory_order_relaxed);
    return 0;
}

/* The quiescent step in the own cell c: Q1..Q3 of the argument in
 * lfpat/snap.h, a leave and an enter fused into one store, then the wake of
 * parked writers as in lfp_snap_unmark_. Returns 0, EBUSY (nested) or EPERM
 * (in no section), as lfp_snap_quiescent. */
static inline int lfp_snap_remark_(lfp_snap_cell_ *c)
{
    /* acquire: Q1, as R1 in lfp_snap_mark_ (pairs with the seq_cst
     * fetch_add of gp in lfp_snap_publish). */
    uint64_t mark = atomic_load_explicit(&lfp_snap_dom_.gp, memory_order_acquire)
                    << LFP_SNAP_NEST_BITS_ | 1;
    /* relaxed: the cell is written only by this thread. */
    uint64_t w = atomic_load_explicit(&c->word, memory_order_relaxed);
    /* Depth 1 and no publish bumped gp since the mark: no writer waits for
     * this cell (a waiting writer has t > g and needs a store of some g2 >=
     * t), so there is nothing to report (liburcu's qsbr skips the same way). */
    if (LFP_LIKELY(w == mark))
        return 0;
    if (LFP_UNLIKELY((w & LFP_SNAP_NEST_MAX_) != 1))
        return w == 0 ? EPERM : EBUSY;
    /* release: Q2, ends the old section as R5 and opens the new one as R2;
     * pairs with the acquire load of the cell in the writer's scan. */
    atomic_store_explicit(&c->word, mark, memory_order_release);
    /* compiler barrier: Q3, as R3 (the next lfp_snap_get stays after Q2)
     * and as in lfp_snap_unmark_ (Q2 stays before the waiter-count load). */
    atomic_signal_fence(memory_order_seq_cst);
    /* relaxed: as in lfp_snap_unmark_. */
    if (LFP_UNLIKELY(atomic_load_explicit(&lfp_snap_dom_.left.waiters, memory_order_relaxed) != 0))
        lfp_ec_wake_(&lfp_snap_dom_.left, 0x7fffffff);
    return 0;
}

#ifdef __cplusplus
}
#endif
#endif
