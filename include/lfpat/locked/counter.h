/* SPDX-License-Identifier: BSD-2-Clause */
/* lfpat/locked/counter.h — lfp_locked_counter, the mutex twin of lfp_counter
 * (lfpat/counter.h).
 * What every twin promises (progress, ordering, Copying, Fork):
 * lfpat/locked.h, which includes this header. */
#ifndef LFPAT_LOCKED_COUNTER_H
#define LFPAT_LOCKED_COUNTER_H

#include <pthread.h>

#include "lfpat/common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct lfp_locked_counter {
    pthread_mutex_t lock;
    int64_t value;
} lfp_locked_counter;

LFP_API int     lfp_locked_counter_init(lfp_locked_counter *c, int64_t v);  /* 0, EINVAL */
LFP_API void    lfp_locked_counter_destroy(lfp_locked_counter *c);
LFP_API int64_t lfp_locked_counter_add(lfp_locked_counter *c, int64_t d);   /* new value */
LFP_API int64_t lfp_locked_counter_get(lfp_locked_counter *c);

#ifdef __cplusplus
}
#endif
#endif
