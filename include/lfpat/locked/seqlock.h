/* SPDX-License-Identifier: BSD-2-Clause */
/* lfpat/locked/seqlock.h — lfp_locked_seqlock, the mutex twin of
 * lfp_seqlock (lfpat/seqlock.h): one copy of the value under a mutex.
 *
 * Same calls, arguments and return codes as lfp_seqlock. A read takes the
 * mutex and copies the value; a write takes it and replaces the value.
 * begin marks a write open (its thread owns it) and releases the mutex, so
 * readers keep reading the current value during an edit; other writers
 * wait (condition variable, or the eventcount when they pass a cancel
 * token) until commit or abort. lfp_locked_seqlock_try_read never returns
 * EAGAIN.
 *
 * Progress: every call is blocking (mutex); readers wait for the mutex, never
 * for an open edit. Ordering: every call is sequentially consistent with
 * every other call on the object.
 *
 * Copying, Fork: what every twin promises (lfpat/locked.h, which includes
 * this header).
 */
#ifndef LFPAT_LOCKED_SEQLOCK_H
#define LFPAT_LOCKED_SEQLOCK_H

#include "lfpat/internal/locked.h"
#include "lfpat/seqlock.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct lfp_locked_seqlock {
    lfp_locked_sync_ sync;   /* guards the fields below */
    unsigned char *value;
    size_t size;
    uint64_t version;        /* writes completed */
    unsigned owner;          /* 0 none, else the open write's thread slot + 1 */
} lfp_locked_seqlock;

LFP_API int  lfp_locked_seqlock_init(lfp_locked_seqlock *s, size_t size,
                                     const void *initial);          /* 0, EINVAL, ENOMEM */
LFP_API void lfp_locked_seqlock_destroy(lfp_locked_seqlock *s);
LFP_API size_t lfp_locked_seqlock_size(const lfp_locked_seqlock *s);
LFP_API int  lfp_locked_seqlock_read(lfp_locked_seqlock *s, void *dst);  /* 0, EINVAL */
LFP_API int  lfp_locked_seqlock_read_version(lfp_locked_seqlock *s, void *dst,
                                             uint64_t *version);   /* 0, EINVAL */
LFP_API int  lfp_locked_seqlock_read_n(lfp_locked_seqlock *s, void *dst,
                                       size_t n);                  /* 0, EINVAL */
LFP_API int  lfp_locked_seqlock_try_read(lfp_locked_seqlock *s, void *dst); /* 0, EINVAL */
LFP_API int  lfp_locked_seqlock_write(lfp_locked_seqlock *s, const void *src,
                                      int64_t deadline, lfp_cancel *cancel);
LFP_API int  lfp_locked_seqlock_try_write(lfp_locked_seqlock *s, const void *src);
LFP_API int  lfp_locked_seqlock_write_begin(lfp_locked_seqlock *s, void *buf,
                                            int64_t deadline, lfp_cancel *cancel);
LFP_API int  lfp_locked_seqlock_write_commit(lfp_locked_seqlock *s, const void *buf);
LFP_API int  lfp_locked_seqlock_write_abort(lfp_locked_seqlock *s);

#ifdef __cplusplus
}
#endif
#endif
