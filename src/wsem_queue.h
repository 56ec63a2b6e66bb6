/* SPDX-License-Identifier: BSD-2-Clause */
/* wsem_queue.h — internal: the FIFO waiter queue shared by lfp_wsem and its
 * twin lfp_locked_wsem. Every function is called with the owner's mutex
 * held, except that lfp_wq_block drops it while the thread waits.
 *
 * A waiter node lives on the waiting thread's stack. A granter (under the
 * mutex) unlinks the node, stores `granted` with release and notifies the
 * node's own eventcount — still under the mutex. The waiter, whatever woke
 * it, re-takes the mutex before it returns, so the granter has finished
 * touching the node before the node's stack frame can go away.
 */
#ifndef LFP_SRC_WSEM_QUEUE_H
#define LFP_SRC_WSEM_QUEUE_H

#include <pthread.h>

#include "lfpat/sem.h"

struct lfp_wsem_waiter {
    int64_t n;                   /* weight asked for */
    _Atomic uint32_t granted;    /* set (release) by the granter */
    lfp_ec ec;                   /* only this waiter parks here */
    struct lfp_wsem_waiter *next, *prev;
};

/* Append w (asking for n) at the tail. */
void lfp_wq_enqueue(struct lfp_wsem_queue *q, struct lfp_wsem_waiter *w, int64_t n);

/* Drop *lock, wait until w is granted, the deadline or cancel, re-take
 * *lock. Returns 0 (granted), ETIMEDOUT or ECANCELED. */
int lfp_wq_block(pthread_mutex_t *lock, struct lfp_wsem_waiter *w, int64_t deadline,
                 lfp_cancel *cancel);

/* Grant waiters from the head, in order, while the head fits in `free`;
 * returns the free weight left. */
int64_t lfp_wq_grant(struct lfp_wsem_queue *q, int64_t free);

/* Whether w was granted. Mutex held. */
bool lfp_wq_granted(struct lfp_wsem_waiter *w);

/* Unlink the ungranted waiter w (it timed out or was cancelled); if it was
 * the head, the waiters behind it may fit now: run the grant loop. Returns
 * the free weight left. */
int64_t lfp_wq_leave(struct lfp_wsem_queue *q, struct lfp_wsem_waiter *w, int64_t free);

#endif
