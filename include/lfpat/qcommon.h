/* SPDX-License-Identifier: BSD-2-Clause */
/* lfpat/qcommon.h — definitions shared by the queue headers (spsc.h, mpmc.h,
 * mpsc.h). Not a queue itself; included by them.
 *
 * Closed bit. lfp_mpmc and lfp_mpsc keep their "closed" state in the same
 * atomic word that producers must modify to publish or claim (the tail). A
 * push checks "closed?" and makes its item visible in ONE atomic
 * read-modify-write on that word, so no push can slip an item in after a
 * consumer has seen "closed and empty" and returned EPIPE: nothing accepted
 * is ever lost, and a push that returns EPIPE never touched its item (it
 * stays the caller's). lfp_spsc gives the same guarantee without a
 * read-modify-write on its push: an announcement that close waits for
 * (spsc.h, "Close").
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

/* Largest capacity accepted by the bounded queues; above it init returns
 * EINVAL (below it, a failed allocation returns ENOMEM). */
#define LFP_QUEUE_MAX_CAPACITY ((size_t)1 << 30)

#ifdef __cplusplus
}
#endif

/* The inline definitions (internal, not part of the API). */
#include "lfpat/internal/qcommon.h"
#endif
