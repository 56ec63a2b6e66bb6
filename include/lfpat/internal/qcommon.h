/* SPDX-License-Identifier: BSD-2-Clause */
/* lfpat/internal/qcommon.h — internal: the inline definitions behind
 * lfpat/qcommon.h (its inline calls and their helpers, with the ordering
 * argument at each atomic). Not part of the API: names ending in '_'
 * may change in any release. Include <lfpat/qcommon.h>, not this. */
#ifndef LFPAT_INTERNAL_QCOMMON_H
#define LFPAT_INTERNAL_QCOMMON_H

#include "lfpat/qcommon.h"

#ifdef __cplusplus
extern "C" {
#endif

/* internal result of the claim steps: the cell is held by an operation in
 * progress (claimed, not yet published/released). Public try calls report it
 * as EAGAIN; blocking calls spin briefly on it and then park on a word the
 * holder's publish/release wakes (never an unbounded yield: the holder may
 * need the CPU the caller is spinning on). */
#define LFP_Q_BUSY_ (-1)

/* internal: notify `ec` after the caller made a waiter's condition true with a
 * seq_cst atomic store or read-modify-write (a CAS or exchange).
 *
 * SB argument (as in eventcount.h, without the notifier's fence): the
 * notifier does [seq_cst store/RMW of condition word M; seq_cst load of waiters],
 * the waiter does [seq_cst RMW of waiters; seq_cst fence F (lfp_ec_prepare);
 * load of M]. If the waiters load comes after F in the single total order S,
 * it sees the waiter's increment (C11 7.17.3p10). Otherwise the write of M
 * precedes the waiters load, hence F, in S, and the waiter's load of M after
 * F sees it or a later value (7.17.3p9). Either the notifier wakes or the
 * waiter sees the condition: no lost wake-up, and no fence on the notifier's
 * fast path (the seq_cst write is the full barrier). */
static inline void lfp_q_notify_after_sc_(lfp_ec *ec, int n)
{
#if LFP_TSAN
    /* acq_rel RMW: under TSan lfp_ec_prepare has no fence; use the same
     * TSan-modelled RMW pairing as lfp_ec_notify_ (internal/eventcount.h). */
    uint32_t w = atomic_fetch_add_explicit(&ec->waiters, 0, memory_order_acq_rel);
#else
    /* seq_cst: the notifier's load in the SB shape above. */
    uint32_t w = atomic_load_explicit(&ec->waiters, memory_order_seq_cst);
#endif
    if (LFP_UNLIKELY(w != 0))
        lfp_ec_wake_(ec, n);
}

#ifdef __cplusplus
}
#endif
#endif
