/* SPDX-License-Identifier: BSD-2-Clause */
/* lfpat/locked/sem.h — lfp_locked_sem and lfp_locked_wsem, the mutex twins
 * of lfpat/sem.h.
 * What every twin promises (progress, ordering, Copying, Fork):
 * lfpat/locked.h, which includes this header. */
#ifndef LFPAT_LOCKED_SEM_H
#define LFPAT_LOCKED_SEM_H

#include <pthread.h>

#include "lfpat/sem.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The twins of lfpat/sem.h, same contracts and codes. lfp_locked_sem and
 * lfp_locked_wsem keep plain counters under a mutex; they block on an
 * eventcount instead of a condition variable so that a cancel token wakes
 * them promptly (a condvar cannot be woken by lfp_cancel_fire).
 * lfp_locked_wsem uses the same FIFO waiter queue as lfp_wsem. */
typedef struct lfp_locked_sem {
    pthread_mutex_t lock;
    lfp_ec ec;
    unsigned capacity, available, waiting;
    uint64_t acquires, releases, timeouts, cancellations;
} lfp_locked_sem;

LFP_API int  lfp_locked_sem_init(lfp_locked_sem *s, unsigned capacity);  /* 0, EINVAL */
LFP_API void lfp_locked_sem_destroy(lfp_locked_sem *s);
LFP_API int  lfp_locked_sem_try_acquire(lfp_locked_sem *s);              /* 0, EAGAIN, EINVAL */
LFP_API int  lfp_locked_sem_acquire(lfp_locked_sem *s, int64_t deadline, lfp_cancel *cancel);
LFP_API int  lfp_locked_sem_release(lfp_locked_sem *s);                  /* 0, EOVERFLOW, EINVAL */
LFP_API unsigned lfp_locked_sem_available(lfp_locked_sem *s);
LFP_API void lfp_locked_sem_stats(lfp_locked_sem *s, struct lfp_sem_stats *st);

typedef struct lfp_locked_wsem {
    pthread_mutex_t lock;
    int64_t capacity, free;
    struct lfp_wsem_queue queue;
} lfp_locked_wsem;

LFP_API int  lfp_locked_wsem_init(lfp_locked_wsem *s, int64_t capacity);  /* 0, EINVAL */
LFP_API void lfp_locked_wsem_destroy(lfp_locked_wsem *s);
LFP_API int  lfp_locked_wsem_try_acquire(lfp_locked_wsem *s, int64_t n);
LFP_API int  lfp_locked_wsem_acquire(lfp_locked_wsem *s, int64_t n, int64_t deadline,
                                     lfp_cancel *cancel);
LFP_API int  lfp_locked_wsem_release(lfp_locked_wsem *s, int64_t n);
LFP_API int64_t lfp_locked_wsem_available(lfp_locked_wsem *s);

#ifdef __cplusplus
}
#endif
#endif
