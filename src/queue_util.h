/* SPDX-License-Identifier: BSD-2-Clause */
/* queue_util.h — internal helpers shared by the queue implementations. */
#ifndef LFP_SRC_QUEUE_UTIL_H
#define LFP_SRC_QUEUE_UTIL_H

#include "lfpat/qcommon.h"

/* Validate a requested capacity and round it up to a power of two, at least
 * `min`. Returns 0 and *rounded; EINVAL for 0 or above LFP_QUEUE_MAX_CAPACITY. */
int lfp_q_round_capacity_(size_t capacity, size_t min, size_t *rounded);

/* Allocate n elements of size elem, cache-line aligned, zeroed.
 * Returns NULL on failure. */
void *lfp_q_alloc_(size_t n, size_t elem);

/* Items between head and the tail word's position, clamped to [0, cap]: both
 * words are read at different moments, so the raw difference may be stale. */
static inline size_t lfp_q_size_(size_t tail_word, size_t head, size_t cap)
{
    size_t t = tail_word & ~LFP_Q_CLOSED;
    if (t <= head)
        return 0;
    return t - head > cap ? cap : t - head;
}

/* The argument of the try functions that blocking calls hand to lfp_ec_await. */
struct lfp_q_op {
    void *q;
    void *value;     /* push */
    void **out;      /* pop */
    int64_t deadline;
    lfp_cancel *cancel;
};

/* A blocking call's claim found its cell held by an operation in progress
 * (LFP_Q_BUSY_): yield so the holder can finish, unless the deadline passed
 * or the token fired. Returns 0 to retry, ETIMEDOUT or ECANCELED. */
int lfp_q_busy_yield_(const struct lfp_q_op *op);

/* The queues' blocking loop: lfp_ec_await, preceded by a brief spin —
 * LFP_Q_SPIN_PAUSES rounds of try + pause (a microsecond or two: when the
 * partner runs on another core it usually acts within that, and a pause
 * costs far less than a sched_yield system call), then LFP_Q_SPIN_YIELDS
 * rounds of try + sched_yield (a yield, unlike a pause, gives the CPU away
 * when threads outnumber cores). This saves a futex park/wake pair per item
 * in producer/consumer hand-offs without stealing time from preempted
 * threads. The deadline is checked from the yield phase on. */
#define LFP_Q_SPIN_PAUSES 32
#define LFP_Q_SPIN_YIELDS 64
int lfp_q_await_(lfp_ec *ec, lfp_try_fn try_fn, struct lfp_q_op *op);
/* The same loop with `pauses` pause rounds instead of LFP_Q_SPIN_PAUSES (0:
 * yield at once; lfp_spsc chooses by where its partner runs). */
int lfp_q_await_spin_(lfp_ec *ec, lfp_try_fn try_fn, struct lfp_q_op *op, unsigned pauses);

#endif
