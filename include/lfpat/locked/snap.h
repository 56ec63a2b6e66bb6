/* SPDX-License-Identifier: BSD-2-Clause */
/* lfpat/locked/snap.h — lfp_locked_snap, the mutex twin of lfp_snap
 * (lfpat/snap.h): a mutex, a reference count per version, and a condition
 * variable that publishers wait on until the count of the version they
 * replaced drops to zero.
 *
 * Same calls and codes as lfp_snap. Each thread remembers the versions it
 * holds in a small thread-local stack (LFP_LOCKED_SNAP_DEPTH sections deep
 * across all twins); lfp_locked_snap_enter returns NULL without entering
 * when it is full. A version whose publisher gave up (ETIMEDOUT, ECANCELED)
 * is freed by the leave that drops its last reference, or by reclaim or
 * destroy. Unlike lfp_snap, a publisher waits only for readers of the
 * version it replaced (a per-version count, not a grace period).
 * Progress: every call is blocking (mutex); readers write the shared mutex
 * and count line. Ordering: as lfp_snap (the mutex orders every call).
 * Copying and Fork: as the other twins (lfpat/locked.h).
 */
#ifndef LFPAT_LOCKED_SNAP_H
#define LFPAT_LOCKED_SNAP_H

#include "lfpat/internal/locked.h"   /* lfp_locked_sync_ */
#include "lfpat/snap.h"

#ifdef __cplusplus
extern "C" {
#endif

#define LFP_LOCKED_SNAP_DEPTH 64

typedef struct lfp_locked_snap_ver_ lfp_locked_snap_ver_;   /* src/locked/snap.c */

typedef struct lfp_locked_snap {
    lfp_locked_sync_ sync;          /* lock + condition (+ eventcount for tokens) */
    lfp_locked_snap_ver_ *cur;      /* current version and its reference count */
    lfp_locked_snap_ver_ *retired;  /* replaced versions still referenced */
    lfp_snap_free_fn free_fn;
    void *free_arg;
    struct lfp_snap_stats st;
} lfp_locked_snap;

LFP_API int  lfp_locked_snap_init(lfp_locked_snap *s, void *initial, lfp_snap_free_fn free_fn,
                                  void *arg);   /* 0, EINVAL, ENOMEM */
LFP_API void lfp_locked_snap_destroy(lfp_locked_snap *s);
/* NULL without entering if s is NULL or the thread's stack is full. */
LFP_API void *lfp_locked_snap_enter(lfp_locked_snap *s);
/* Inside a section: the version the innermost section entered with (the
 * twin pins one version per section); NULL if s is NULL or outside. */
LFP_API void *lfp_locked_snap_get(lfp_locked_snap *s);
LFP_API int  lfp_locked_snap_leave(lfp_locked_snap *s);   /* 0, EPERM, EINVAL */
LFP_API int  lfp_locked_snap_publish(lfp_locked_snap *s, void *next, int64_t deadline,
                                     lfp_cancel *cancel);
LFP_API int  lfp_locked_snap_publish_async(lfp_locked_snap *s, void *next);
LFP_API int  lfp_locked_snap_update(lfp_locked_snap *s, lfp_snap_copy_fn fn, void *arg,
                                    int64_t deadline, lfp_cancel *cancel);
LFP_API int  lfp_locked_snap_reclaim(lfp_locked_snap *s);   /* 0, EAGAIN, EINVAL */
LFP_API void lfp_locked_snap_stats(lfp_locked_snap *s, struct lfp_snap_stats *st);

#ifdef __cplusplus
}
#endif
#endif
