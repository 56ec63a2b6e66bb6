/* SPDX-License-Identifier: BSD-2-Clause */
/* lfpat/locked/queue.h — lfp_locked_queue, the mutex twin of lfp_mpmc
 * (lfpat/mpmc.h).
 * What every twin promises (progress, ordering, Copying, Fork):
 * lfpat/locked.h, which includes this header. */
#ifndef LFPAT_LOCKED_QUEUE_H
#define LFPAT_LOCKED_QUEUE_H

#include <pthread.h>

#include "lfpat/qcommon.h"   /* lfp_ec, LFP_QUEUE_MAX_CAPACITY */

#ifdef __cplusplus
extern "C" {
#endif

/* The bounded buffer: a ring of void * (NULL is a valid value) under one
 * mutex, with two condition variables (not_empty, not_full). Same calls and
 * return codes as lfp_mpmc (mpmc.h); the capacity is used as given (not
 * rounded), 1 .. LFP_QUEUE_MAX_CAPACITY. Blocking calls without a cancel
 * token wait on the condition variables (CLOCK_MONOTONIC timed waits); calls
 * with a token wait on an eventcount that every state change notifies, since
 * a token can wake a futex word but not a condition variable.
 * try_* never report spurious EAGAIN: full/empty is exact under the mutex.
 * Progress: blocking (mutex). Ordering: every call is sequentially
 * consistent with every other call on the queue. */
typedef struct lfp_locked_queue {
    pthread_mutex_t lock;
    pthread_cond_t not_empty, not_full;
    void **slots;
    size_t cap, head, count;
    bool closed;
    lfp_ec cancel_ec;   /* waiters that passed a cancel token */
} lfp_locked_queue;

LFP_API int    lfp_locked_queue_init(lfp_locked_queue *q, size_t capacity);  /* 0, EINVAL, ENOMEM */
LFP_API void   lfp_locked_queue_destroy(lfp_locked_queue *q);
LFP_API size_t lfp_locked_queue_capacity(const lfp_locked_queue *q);
LFP_API size_t lfp_locked_queue_size(lfp_locked_queue *q);
LFP_API bool   lfp_locked_queue_closed(lfp_locked_queue *q);
LFP_API int    lfp_locked_queue_try_push(lfp_locked_queue *q, void *v);    /* 0, EAGAIN, EPIPE, EINVAL */
LFP_API int    lfp_locked_queue_try_pop(lfp_locked_queue *q, void **out);  /* 0, EAGAIN, EPIPE, EINVAL */
LFP_API int    lfp_locked_queue_push(lfp_locked_queue *q, void *v, int64_t deadline, lfp_cancel *cancel);
LFP_API int    lfp_locked_queue_pop(lfp_locked_queue *q, void **out, int64_t deadline, lfp_cancel *cancel);
LFP_API size_t lfp_locked_queue_push_n(lfp_locked_queue *q, void *const *v, size_t n);
LFP_API size_t lfp_locked_queue_pop_n(lfp_locked_queue *q, void **v, size_t n);
LFP_API void   lfp_locked_queue_close(lfp_locked_queue *q);

#ifdef __cplusplus
}
#endif
#endif
