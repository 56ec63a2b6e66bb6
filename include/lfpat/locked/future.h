/* SPDX-License-Identifier: BSD-2-Clause */
/* lfpat/locked/future.h — lfp_locked_future, the mutex twin of lfp_future
 * (lfpat/future.h).
 * What every twin promises (progress, ordering, Copying, Fork):
 * lfpat/locked.h, which includes this header. */
#ifndef LFPAT_LOCKED_FUTURE_H
#define LFPAT_LOCKED_FUTURE_H

#include "lfpat/internal/locked.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The twin of lfpat/future.h: same calls, same return codes. Blocking calls
 * wait on a condition variable, or with a token on an eventcount the token
 * can wake (lfp_locked_sync_, internal/locked.h). */
typedef struct lfp_locked_future {
    lfp_locked_sync_ sync;
    bool ready;
    int error;
    void *value;
} lfp_locked_future;

LFP_API int  lfp_locked_future_init(lfp_locked_future *f);             /* 0, EINVAL */
LFP_API void lfp_locked_future_destroy(lfp_locked_future *f);
LFP_API int  lfp_locked_future_set(lfp_locked_future *f, void *value, int error); /* 0, EALREADY */
LFP_API bool lfp_locked_future_is_ready(lfp_locked_future *f);
LFP_API int  lfp_locked_future_try_get(lfp_locked_future *f, void **value, int *error);
LFP_API int  lfp_locked_future_get(lfp_locked_future *f, void **value, int *error,
                                   int64_t deadline, lfp_cancel *cancel);

#ifdef __cplusplus
}
#endif
#endif
