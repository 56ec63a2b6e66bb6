/* SPDX-License-Identifier: BSD-2-Clause */
/* lfpat/internal/locked.h — internal: the state the pattern twins share
 * (lfpat/locked/waitgroup.h, future.h, broadcast.h). Not part of the API:
 * names ending in '_' may change in any release. Include <lfpat/locked.h>
 * (or the twin's header), not this. */
#ifndef LFPAT_INTERNAL_LOCKED_H
#define LFPAT_INTERNAL_LOCKED_H

#include <pthread.h>

#include "lfpat/eventcount.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A mutex, the condition variable its waiters without a token wait on, and
 * the eventcount of those with one (a token can wake a futex word but not a
 * condition variable). */
typedef struct lfp_locked_sync_ {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    lfp_ec cancel_ec;
} lfp_locked_sync_;

#ifdef __cplusplus
}
#endif
#endif
