/* SPDX-License-Identifier: BSD-2-Clause */
/* lfpat/mailbox.h — bounded actor mailbox: lfp_mpsc (any number of
 * senders, one receiver, per-sender FIFO, EPIPE once closed) with a capacity
 * that senders cannot exceed: a send to a full mailbox returns EAGAIN
 * instead of growing the queue without bound.
 *
 * The bound is a count of accepted, not yet received messages, raised by a
 * sender's CAS before it pushes (only while below capacity) and lowered by
 * the receiver after each pop, so the number of messages in the mailbox
 * never exceeds the capacity. EAGAIN is exact at the sender's load of the
 * count (a receive that is lowering it at that moment may make room just
 * after). Messages are intrusive lfp_mpsc_node, as in lfp_mpsc.
 *
 * Progress: try_send is lock-free (CAS on the count, then the mpsc push);
 * try_recv is the mpsc's; recv blocks (parks) while empty.
 * Ordering: a send happens-before the receive that returns its node.
 *
 * Copying: an lfp_mailbox must not be copied or moved after init: its queue
 * and its waiters refer to addresses inside the object. Use it where it was
 * initialised, through pointers.
 *
 * Fork: a child of fork may call every lfp_mailbox_* call on an object that no
 * thread of the parent was using when fork() was called (lfpat's process-wide
 * locks are held across fork by atfork handlers, src/fork.c, so none is copied
 * held). An object a parent thread was inside at the fork (in a call, or
 * blocked in one) is copied in that intermediate state, with a thread the
 * child does not have: the child must not use it.
 */
#ifndef LFPAT_MAILBOX_H
#define LFPAT_MAILBOX_H

#include "lfpat/mpsc.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct lfp_mailbox {
    lfp_mpsc q;
    alignas(LFP_CACHELINE) _Atomic(size_t) count;  /* accepted, not yet received */
    size_t capacity;
} lfp_mailbox;

/* Initialise an open mailbox holding at most capacity messages.
 * Returns 0; EINVAL if m is NULL or capacity is 0. */
LFP_API int lfp_mailbox_init(lfp_mailbox *m, size_t capacity);

/* Nothing to free (nodes are the caller's). NULL is ignored. */
LFP_API void lfp_mailbox_destroy(lfp_mailbox *m);

/* Send n. Returns 0; EAGAIN if the mailbox is full; EPIPE if closed (also
 * when full); EINVAL if m or n is NULL. Progress: lock-free. */
static inline int lfp_mailbox_try_send(lfp_mailbox *m, lfp_mpsc_node *n);

/* Receive without waiting (single receiver). Returns 0 and *out; EAGAIN if
 * empty; EPIPE if closed and drained; EBUSY if another thread is receiving;
 * EINVAL if m or out is NULL. */
static inline int lfp_mailbox_try_recv(lfp_mailbox *m, lfp_mpsc_node **out);

/* Receive, waiting until a message arrives, the mailbox is closed and
 * drained (EPIPE), the deadline passes (ETIMEDOUT) or cancel fires
 * (ECANCELED). Other codes as try_recv. */
LFP_API int lfp_mailbox_recv(lfp_mailbox *m, lfp_mpsc_node **out, int64_t deadline,
                             lfp_cancel *cancel);

/* Close: later sends return EPIPE; the receiver drains what was accepted,
 * then gets EPIPE. NULL is ignored. */
LFP_API void lfp_mailbox_close(lfp_mailbox *m);

/* Messages accepted and not yet received (a relaxed snapshot). */
static inline size_t lfp_mailbox_size(const lfp_mailbox *m);

#ifdef __cplusplus
}
#endif

/* The inline definitions (internal, not part of the API). */
#include "lfpat/internal/mailbox.h"
#endif
