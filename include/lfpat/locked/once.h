/* SPDX-License-Identifier: BSD-2-Clause */
/* lfpat/locked/once.h — lfp_locked_once, the mutex twin of lfp_once
 * (lfpat/once.h).
 * What every twin promises (progress, ordering, Copying, Fork):
 * lfpat/locked.h, which includes this header. */
#ifndef LFPAT_LOCKED_ONCE_H
#define LFPAT_LOCKED_ONCE_H

#include <pthread.h>

#include "lfpat/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The twin of lfpat/once.h, same contract and codes: a state under a mutex
 * and a condition variable; fn runs without the mutex (so _done never
 * blocks), callers that find it running wait on the condvar; a failed
 * _retry attempt signals one waiter to retry. */
typedef struct lfp_locked_once {
    pthread_mutex_t lock;
    pthread_cond_t cond;   /* signalled when a run ends */
    int state;             /* 0 unset, 1 running, 2 done */
    int result;
} lfp_locked_once;

#define LFP_LOCKED_ONCE_INIT { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0 }

LFP_API int  lfp_locked_once_init(lfp_locked_once *o);      /* 0, EINVAL */
LFP_API void lfp_locked_once_destroy(lfp_locked_once *o);
LFP_API int  lfp_locked_once_call(lfp_locked_once *o, int (*fn)(void *), void *arg);
LFP_API int  lfp_locked_once_call_retry(lfp_locked_once *o, int (*fn)(void *), void *arg);
LFP_API bool lfp_locked_once_done(lfp_locked_once *o);

#ifdef __cplusplus
}
#endif
#endif
