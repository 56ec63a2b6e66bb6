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
 * owner and read by writers' scans. gp is 0 outside a read section, else
 * the grace-period number the owner read at its outermost entry. nest is the
 * owner's nesting depth (owner only, never read by other threads). */
typedef struct lfp_snap_cell_ {
    alignas(LFP_CACHELINE) _Atomic(uint64_t) gp;
    uint32_t nest;
} lfp_snap_cell_;

/* The process-wide grace-period domain every lfp_snap shares (as every
 * liburcu flavour has one): one grace-period counter and one eventcount that
 * leaving readers notify when a writer waits. */
typedef struct lfp_snap_domain_ {
    alignas(LFP_CACHELINE) _Atomic(uint64_t) gp; /* bumped by every publish; starts at 1 */
    uint32_t asym;      /* membarrier available; constant after the first lfp_snap_init */
    _Atomic(uint64_t) shared_readers;   /* threads in a section without a cell (see snap.c) */
    alignas(LFP_CACHELINE) lfp_ec left; /* writers park here; leaving readers notify */
} lfp_snap_domain_;

LFP_API extern lfp_snap_domain_ lfp_snap_dom_;
/* The calling thread's cell; NULL until its first read section. */
LFP_API extern LFP_THREAD_LOCAL lfp_snap_cell_ *lfp_snap_self_;

/* Out-of-line halves: first section of a thread, threads without a cell,
 * NULL objects, misuse. */
LFP_API void *lfp_snap_enter_slow_(struct lfp_snap *s);
LFP_API int lfp_snap_leave_slow_(struct lfp_snap *s);

/* Outermost entry: record the grace period, then (in the caller) load the
 * version. The ordering argument is in lfpat/snap.h ("Why it is safe"). */
static inline void lfp_snap_mark_(lfp_snap_cell_ *c)
{
    /* acquire: pairs with the seq_cst fetch_add of gp in lfp_snap_publish;
     * reading a bumped gp makes the exchange of cur before it visible, so
     * the cur load that follows returns that version or a newer one. */
    uint64_t g = atomic_load_explicit(&lfp_snap_dom_.gp, memory_order_acquire);
    if (LFP_LIKELY(lfp_snap_dom_.asym)) {
        /* release: pairs with the acquire load of the cell in the writer's
         * scan (snap.c); reading this store orders this thread's earlier
         * sections (ended before it) before the writer's free. A plain mov
         * on x86. */
        atomic_store_explicit(&c->gp, g, memory_order_release);
        /* compiler barrier: the light half of the asymmetric store-load
         * barrier; the heavy half is the writer's membarrier before its scan
         * (eventcount.h, lfp_heavy_barrier_). Keeps the cell store before
         * the cur load in the instruction stream. */
        atomic_signal_fence(memory_order_seq_cst);
        return;
    }
#if LFP_TSAN
    /* seq_cst RMW: without membarrier, the reader's half of the SB shape in
     * the form TSan models (no fences under TSan; on x86 the xchg is the
     * same full barrier as the fence). Release as above. */
    atomic_exchange_explicit(&c->gp, g, memory_order_seq_cst);
#else
    /* release: as above. */
    atomic_store_explicit(&c->gp, g, memory_order_release);
    /* seq_cst fence: without membarrier, the reader's half of the SB shape
     * (cell store; cur load || cur exchange; fence; cell load). Pairs with
     * the fence in writer_barrier (src/snap.c). */
    atomic_thread_fence(memory_order_seq_cst);
#endif
}

#ifdef __cplusplus
}
#endif
#endif
