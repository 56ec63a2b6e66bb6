/* SPDX-License-Identifier: BSD-2-Clause */
/* lfpat/internal/rwlock.h — internal: the inline definitions behind
 * lfpat/rwlock.h (the state bits, the visible-readers table, the fast read
 * path; the protocol and its argument are in lfpat/rwlock.h). Not part of
 * the API: names ending in '_' may change in any release. Include
 * <lfpat/rwlock.h>, not this. */
#ifndef LFPAT_INTERNAL_RWLOCK_H
#define LFPAT_INTERNAL_RWLOCK_H

#include "lfpat/rwlock.h"

#ifdef __cplusplus
extern "C" {
#endif

#define LFP_RW_RBIAS   ((uint64_t)1)           /* readers may take the fast path */
#define LFP_RW_REVOKE  ((uint64_t)2)           /* bias cleared, table not yet drained */
#define LFP_RW_WRITER  ((uint64_t)4)           /* a writer holds the lock */
#define LFP_RW_WW_ONE  ((uint64_t)1 << 16)     /* one waiting writer */
#define LFP_RW_WW_MASK ((uint64_t)0xffff << 16)
#define LFP_RW_R_ONE   ((uint64_t)1 << 32)     /* one slow-path reader */
#define LFP_RW_R_MASK  ((uint64_t)0xffffffff << 32)

/* The visible-readers table: line s belongs to the thread holding slot s. */
#define LFP_RW_VR_LINES 128
#define LFP_RW_VR_CELLS 8        /* pointer cells per 64-byte line */
LFP_API extern _Atomic(const void *) lfp_rw_vr_[LFP_RW_VR_LINES * LFP_RW_VR_CELLS];
/* Lines in use: 1 + the highest slot whose thread took the fast path (only
 * grows). A revoking writer scans only these lines. */
LFP_API extern _Atomic(unsigned) lfp_rw_vr_lines_;
LFP_API void lfp_rw_vr_claim_(unsigned slot);

/* The calling thread's cell for rw, or NULL if its slot has no line. */
static inline _Atomic(const void *) *lfp_rw_cell_(const lfp_rwlock *rw)
{
    unsigned slot = lfp_thread_slot();
    if (LFP_UNLIKELY(slot >= LFP_RW_VR_LINES))
        return NULL;
    /* seq_cst (a plain load on x86): ordered before this thread's seq_cst
     * cell store, so a writer whose seq_cst load of the count missed this
     * line comes before it in the total order (see lfp_rw_vr_claim_). */
    if (LFP_UNLIKELY(atomic_load_explicit(&lfp_rw_vr_lines_, memory_order_seq_cst) <= slot))
        lfp_rw_vr_claim_(slot);
    uintptr_t a = (uintptr_t)rw >> 6;   /* locks are cache-line aligned */
    return &lfp_rw_vr_[slot * LFP_RW_VR_CELLS + ((a ^ (a >> 3) ^ (a >> 6)) & 7)];
}

LFP_API void lfp_rwlock_withdraw_(lfp_rwlock *rw, _Atomic(const void *) *cell);
LFP_API int lfp_rwlock_rdlock_slow_(lfp_rwlock *rw, int64_t deadline, lfp_cancel *cancel);
LFP_API int lfp_rwlock_rdunlock_slow_(lfp_rwlock *rw);

/* The fast read: publish rw in my cell, then re-check the bias (the SB shape
 * of the header's argument). true = inside. */
static inline bool lfp_rwlock_fast_enter_(lfp_rwlock *rw)
{
    /* relaxed: a hint only; the seq_cst load after the cell store decides. */
    if (!(atomic_load_explicit(&rw->state, memory_order_relaxed) & LFP_RW_RBIAS))
        return false;
    _Atomic(const void *) *cell = lfp_rw_cell_(rw);
    /* relaxed: only this thread writes its cell. */
    if (!cell || atomic_load_explicit(cell, memory_order_relaxed) != NULL)
        return false;   /* no line, or the cell is in use (another lock, a recursion) */
    LFP_TEST_HOOK("rwlock.publish");   /* bias seen set, cell not yet published */
    /* seq_cst: the reader's store of the SB pair; pairs with the writer's
     * seq_cst CAS clearing RBIAS and its seq_cst scan load (src/rwlock.c). */
    atomic_store_explicit(cell, (const void *)rw, memory_order_seq_cst);
    LFP_TEST_HOOK("rwlock.enter");   /* published, bias not yet re-checked */
    /* seq_cst: the reader's load of the SB pair (see above); it also
     * acquires the RBIAS a re-enabling reader set after the last writer. */
    if (LFP_LIKELY(atomic_load_explicit(&rw->state, memory_order_seq_cst) & LFP_RW_RBIAS))
        return true;
    lfp_rwlock_withdraw_(rw, cell);
    return false;
}

/* The fast read unlock: true if the caller's hold was a fast one. */
static inline bool lfp_rwlock_fast_leave_(lfp_rwlock *rw)
{
    _Atomic(const void *) *cell = lfp_rw_cell_(rw);
    /* relaxed: only this thread writes its cell. */
    if (!cell || atomic_load_explicit(cell, memory_order_relaxed) != (const void *)rw)
        return false;
    /* seq_cst: releases the read section to the revoking writer's scan load,
     * and is the store of the drain SB pair (then load REVOKE). */
    atomic_store_explicit(cell, (const void *)NULL, memory_order_seq_cst);
    LFP_TEST_HOOK("rwlock.leave");   /* cleared, REVOKE not yet read */
    if (LFP_UNLIKELY(atomic_load_explicit(&rw->state, memory_order_seq_cst) & LFP_RW_REVOKE))
        lfp_ec_notify_all(&rw->drain);
    return true;
}

static inline int lfp_rwlock_rdlock(lfp_rwlock *rw, int64_t deadline, lfp_cancel *cancel)
{
    if (LFP_UNLIKELY(!rw))
        return EINVAL;
    if (lfp_rwlock_fast_enter_(rw))
        return 0;
    return lfp_rwlock_rdlock_slow_(rw, deadline, cancel);
}

static inline int lfp_rwlock_rdunlock(lfp_rwlock *rw)
{
    if (LFP_UNLIKELY(!rw))
        return EINVAL;
    if (lfp_rwlock_fast_leave_(rw))
        return 0;
    return lfp_rwlock_rdunlock_slow_(rw);
}

#ifdef __cplusplus
}
#endif
#endif
