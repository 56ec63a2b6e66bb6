/* SPDX-License-Identifier: BSD-2-Clause */
/* lfpat/locked/waitgroup.h — lfp_locked_waitgroup, the mutex twin of
 * lfp_waitgroup (lfpat/waitgroup.h).
 * What every twin promises (progress, ordering, Copying, Fork):
 * lfpat/locked.h, which includes this header. */
#ifndef LFPAT_LOCKED_WAITGROUP_H
#define LFPAT_LOCKED_WAITGROUP_H

#include "lfpat/internal/locked.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The twin of lfpat/waitgroup.h: same calls, same return codes. Blocking calls
 * wait on a condition variable, or with a token on an eventcount the token
 * can wake (lfp_locked_sync_, internal/locked.h). */
typedef struct lfp_locked_waitgroup {
    lfp_locked_sync_ sync;
    int64_t count;
    uint64_t phase;
} lfp_locked_waitgroup;

LFP_API int  lfp_locked_waitgroup_init(lfp_locked_waitgroup *wg);     /* 0, EINVAL */
LFP_API void lfp_locked_waitgroup_destroy(lfp_locked_waitgroup *wg);
LFP_API int  lfp_locked_waitgroup_add(lfp_locked_waitgroup *wg, int64_t delta); /* 0, EOVERFLOW, EINVAL */
LFP_API int  lfp_locked_waitgroup_done(lfp_locked_waitgroup *wg);
LFP_API int64_t lfp_locked_waitgroup_count(lfp_locked_waitgroup *wg);
LFP_API int  lfp_locked_waitgroup_wait(lfp_locked_waitgroup *wg, int64_t deadline,
                                       lfp_cancel *cancel);

#ifdef __cplusplus
}
#endif
#endif
