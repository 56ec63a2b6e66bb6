/* lfpat/qcommon.h — definitions shared by the queue headers (spsc.h, mpmc.h,
 * mpsc.h). Not a queue itself; included by them.
 *
 * Closed bit. Every lfpat queue keeps its "closed" state in the same atomic
 * word that producers must modify to publish or claim (the tail). A push
 * checks "closed?" and makes its item visible in ONE atomic read-modify-write
 * on that word, so no push can slip an item in after a consumer has seen
 * "closed and empty" and returned EPIPE: nothing accepted is ever lost, and a
 * push that returns EPIPE never touched its item (it stays the caller's).
 */
#ifndef LFPAT_QCOMMON_H
#define LFPAT_QCOMMON_H

#include "lfpat/eventcount.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The closed flag, the top bit of a queue's tail word; positions use the
 * other bits (2^63 pushes before it could be reached). */
#define LFP_Q_CLOSED (((size_t)-1 >> 1) + 1)

/* internal result of the claim steps: the cell is held by an operation in
 * progress (claimed, not yet published/released). Public try calls report it
 * as EAGAIN; blocking calls spin briefly on it and then park on a word the
 * holder's publish/release wakes (never an unbounded yield: the holder may
 * need the CPU the caller is spinning on). */
#define LFP_Q_BUSY_ (-1)

/* Largest capacity accepted by the bounded queues; above it init returns
 * EINVAL (below it, a failed allocation returns ENOMEM). */
#define LFP_QUEUE_MAX_CAPACITY ((size_t)1 << 30)

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
     * TSan-modelled RMW pairing as lfp_ec_notify_ (eventcount.h). */
    uint32_t w = atomic_fetch_add_explicit(&ec->waiters, 0, memory_order_acq_rel);
#else
    /* seq_cst: the notifier's load in the SB shape above. */
    uint32_t w = atomic_load_explicit(&ec->waiters, memory_order_seq_cst);
#endif
    if (LFP_UNLIKELY(w != 0))
        lfp_ec_wake_(ec, n);
}

/* internal: define the blocking T##_push and T##_pop of bounded queue type
 * T (documented in its header): the try call inline, and only when it says
 * EAGAIN the out-of-line waiting loop T##_push_wait_ / T##_pop_wait_. */
#define LFP_Q_BLOCKING_CALLS_(T)                                                          \
    LFP_API int T##_push_wait_(T *q, void *v, int64_t deadline, lfp_cancel *cancel);      \
    static inline int T##_push(T *q, void *v, int64_t deadline, lfp_cancel *cancel)       \
    {                                                                                     \
        int rc = T##_try_push(q, v);                                                      \
        return LFP_LIKELY(rc != EAGAIN) ? rc : T##_push_wait_(q, v, deadline, cancel);    \
    }                                                                                     \
    LFP_API int T##_pop_wait_(T *q, void **out, int64_t deadline, lfp_cancel *cancel);    \
    static inline int T##_pop(T *q, void **out, int64_t deadline, lfp_cancel *cancel)     \
    {                                                                                     \
        int rc = T##_try_pop(q, out);                                                     \
        return LFP_LIKELY(rc != EAGAIN) ? rc : T##_pop_wait_(q, out, deadline, cancel);   \
    }

#ifdef __cplusplus
}
#endif
#endif
