/* SPDX-License-Identifier: BSD-2-Clause */
/* lfpat/locked/rwlock.h — lfp_locked_rwlock, the mutex twin of lfp_rwlock
 * (lfpat/rwlock.h): a writer-preferring reader-writer lock from one mutex and
 * a condition variable (plus, for calls with a token, an eventcount the token
 * can wake; src/locked/lsync.h). Same calls, same return codes, same rules
 * (writer preference, downgrade, no upgrade, EPERM / EBUSY / EDEADLK); the
 * baseline of the benchmarks and the oracle of the differential tests.
 * State under the mutex: readers, writer (+ owner), waiting writers. A reader
 * waits while writer || waiting writers; a writer registers, then waits while
 * writer || readers. Every change notifies all waiters (lfp_lsync).
 * What every twin promises (progress, ordering, Copying, Fork):
 * lfpat/locked.h, which includes this header.
 * Lifetime: destroy only after every call on it has returned. */
#ifndef LFPAT_LOCKED_RWLOCK_H
#define LFPAT_LOCKED_RWLOCK_H

#include "lfpat/internal/locked.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct lfp_locked_rwlock {
    lfp_locked_sync_ sync;
    uint32_t readers;          /* read holds */
    uint32_t waiting_writers;
    uint32_t owner;            /* writer's thread slot + 1; 0 = no writer */
} lfp_locked_rwlock;

LFP_API int lfp_locked_rwlock_init(lfp_locked_rwlock *rw);      /* 0, EINVAL, errno */
LFP_API int lfp_locked_rwlock_destroy(lfp_locked_rwlock *rw);   /* 0, EBUSY, EINVAL */
LFP_API int lfp_locked_rwlock_rdlock(lfp_locked_rwlock *rw, int64_t deadline,
                                     lfp_cancel *cancel);
LFP_API int lfp_locked_rwlock_tryrdlock(lfp_locked_rwlock *rw);
LFP_API int lfp_locked_rwlock_rdunlock(lfp_locked_rwlock *rw);
LFP_API int lfp_locked_rwlock_wrlock(lfp_locked_rwlock *rw, int64_t deadline,
                                     lfp_cancel *cancel);
LFP_API int lfp_locked_rwlock_trywrlock(lfp_locked_rwlock *rw);
LFP_API int lfp_locked_rwlock_wrunlock(lfp_locked_rwlock *rw);
LFP_API int lfp_locked_rwlock_downgrade(lfp_locked_rwlock *rw);

#ifdef __cplusplus
}
#endif
#endif
