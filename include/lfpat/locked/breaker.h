/* SPDX-License-Identifier: BSD-2-Clause */
/* lfpat/locked/breaker.h — lfp_locked_breaker, the mutex twin of lfp_breaker
 * (lfpat/breaker.h).
 * What every twin promises (progress, ordering, Copying, Fork):
 * lfpat/locked.h, which includes this header. */
#ifndef LFPAT_LOCKED_BREAKER_H
#define LFPAT_LOCKED_BREAKER_H

#include <pthread.h>

#include "lfpat/breaker.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The breaker twin: the state, counters and failure window as plain data
 * under one mutex (the seed's design, minus its bugs); allow() takes the
 * mutex on every call. Callbacks run under the mutex, hence in order. */

typedef struct lfp_locked_breaker {
    pthread_mutex_t lock;
    struct lfp_breaker_config cfg;
    int64_t bucket_ns;
    lfp_breaker_state state;
    uint32_t gen;
    int64_t retry_at;                 /* OPEN: end of the pause (tick-rounded) */
    uint32_t in_flight, successes;    /* HALF_OPEN */
    struct lfp_locked_breaker_bucket {
        uint32_t gen;
        uint64_t index;               /* bucket number, now / bucket_ns (full width) */
        uint32_t count;
        bool used;
    } bucket[LFP_BREAKER_MAX_BUCKETS];
} lfp_locked_breaker;

LFP_API int  lfp_locked_breaker_init(lfp_locked_breaker *b, const struct lfp_breaker_config *cfg);
LFP_API void lfp_locked_breaker_destroy(lfp_locked_breaker *b);
LFP_API int  lfp_locked_breaker_allow_at(lfp_locked_breaker *b, int64_t now, lfp_breaker_ticket *t);
LFP_API int  lfp_locked_breaker_allow(lfp_locked_breaker *b, lfp_breaker_ticket *t);
LFP_API int  lfp_locked_breaker_record_at(lfp_locked_breaker *b, lfp_breaker_ticket t,
                                          bool success, int64_t now);
LFP_API int  lfp_locked_breaker_record(lfp_locked_breaker *b, lfp_breaker_ticket t, bool success);
LFP_API lfp_breaker_state lfp_locked_breaker_state_of(lfp_locked_breaker *b, uint32_t *gen);

#ifdef __cplusplus
}
#endif
#endif
