/* SPDX-License-Identifier: BSD-2-Clause */
#include "queue_util.h"

#include "park.h"

#include <sched.h>
#include <stdlib.h>
#include <string.h>

int lfp_q_round_capacity_(size_t capacity, size_t min, size_t *rounded)
{
    if (capacity == 0 || capacity > LFP_QUEUE_MAX_CAPACITY)
        return EINVAL;
    size_t p = min;
    while (p < capacity)
        p <<= 1;
    *rounded = p;
    return 0;
}

int lfp_q_busy_yield_(const struct lfp_q_op *op)
{
    if (lfp_cancel_fired(op->cancel))
        return ECANCELED;
    if (op->deadline != LFP_FOREVER && lfp_now() >= op->deadline)
        return ETIMEDOUT;
    sched_yield();
    return 0;
}

int lfp_q_await_(lfp_ec *ec, lfp_try_fn try_fn, struct lfp_q_op *op)
{
    return lfp_q_await_spin_(ec, try_fn, op, LFP_Q_SPIN_PAUSES);
}

int lfp_q_await_spin_(lfp_ec *ec, lfp_try_fn try_fn, struct lfp_q_op *op, unsigned pauses)
{
    for (unsigned i = 0; i < pauses + LFP_Q_SPIN_YIELDS; i++) {
        int rc = try_fn(op);
        if (rc != EAGAIN)
            return rc;
        if (i < pauses) {
            if (lfp_cancel_fired(op->cancel))
                return ECANCELED;
            lfp_spin_pause(0);   /* a pause: the partner runs on another core */
        } else if ((rc = lfp_q_busy_yield_(op)) != 0) {
            return rc;
        }
    }
    return lfp_ec_await(ec, try_fn, op, op->deadline, op->cancel, true);
}

void *lfp_q_alloc_(size_t n, size_t elem)
{
    /* n <= 2^30 and elem is a small struct: no overflow; round the size up to
     * a whole number of cache lines as aligned_alloc requires. */
    size_t bytes = (n * elem + LFP_CACHELINE - 1) / LFP_CACHELINE * LFP_CACHELINE;
    void *p = aligned_alloc(LFP_CACHELINE, bytes);
    if (p)
        memset(p, 0, bytes);
    return p;
}
