/* SPDX-License-Identifier: BSD-2-Clause */
/* lfpat/internal/mailbox.h — internal: the inline definitions behind
 * lfpat/mailbox.h (its inline calls and their helpers, with the ordering
 * argument at each atomic). Not part of the API: names ending in '_'
 * may change in any release. Include <lfpat/mailbox.h>, not this. */
#ifndef LFPAT_INTERNAL_MAILBOX_H
#define LFPAT_INTERNAL_MAILBOX_H

#include "lfpat/mailbox.h"

#ifdef __cplusplus
extern "C" {
#endif

static inline int lfp_mailbox_try_send(lfp_mailbox *m, lfp_mpsc_node *n)
{
    if (LFP_UNLIKELY(!m || !n))
        return EINVAL;
    /* relaxed: the count only bounds; the mpsc push carries the ordering. */
    size_t c = atomic_load_explicit(&m->count, memory_order_relaxed);
    do {
        if (c >= m->capacity)
            return lfp_mpsc_closed(&m->q) ? EPIPE : EAGAIN;   /* closed wins */
        /* relaxed: as above. */
    } while (!atomic_compare_exchange_weak_explicit(&m->count, &c, c + 1, memory_order_relaxed,
                                                    memory_order_relaxed));
    int rc = lfp_mpsc_push(&m->q, n);
    if (rc)
        /* relaxed: give back the slot of a refused (closed) send. */
        atomic_fetch_sub_explicit(&m->count, 1, memory_order_relaxed);
    return rc;
}

/* internal: a message left the mailbox. */
static inline void lfp_mailbox_received_(lfp_mailbox *m)
{
    /* relaxed: as in try_send. */
    atomic_fetch_sub_explicit(&m->count, 1, memory_order_relaxed);
}

static inline int lfp_mailbox_try_recv(lfp_mailbox *m, lfp_mpsc_node **out)
{
    if (LFP_UNLIKELY(!m))
        return EINVAL;
    int rc = lfp_mpsc_try_pop(&m->q, out);
    if (rc == 0)
        lfp_mailbox_received_(m);
    return rc;
}

static inline size_t lfp_mailbox_size(const lfp_mailbox *m)
{
    /* relaxed: a snapshot. */
    return atomic_load_explicit(&m->count, memory_order_relaxed);
}

#ifdef __cplusplus
}
#endif
#endif
