/* SPDX-License-Identifier: BSD-2-Clause */
/* lfpat/locked/keyed.h — lfp_locked_keyed, the mutex twin of lfp_keyed
 * (lfpat/keyed.h).
 * What every twin promises (progress, ordering, Copying, Fork):
 * lfpat/locked.h, which includes this header. */
#ifndef LFPAT_LOCKED_KEYED_H
#define LFPAT_LOCKED_KEYED_H

#include <pthread.h>

#include "lfpat/keyed.h"

#ifdef __cplusplus
extern "C" {
#endif

/* lfp_locked_keyed: the same table as most code writes it — one mutex
 * around an open-addressing hash map of GCRA buckets, with the same
 * capacity, window, eviction rule (only idle keys) and codes as lfp_keyed.
 * Its byte keys use the same SipHash-1-3 under its own secret. Memory: 24
 * bytes per slot (2 * capacity rounded up to a power of two), in one
 * array placed on transparent huge pages as lfp_keyed's (lfpat/keyed.h,
 * "Memory"). */
typedef struct lfp_locked_keyed_slot_ {
    uint64_t key;
    int64_t tat;             /* TAT, or INT64_MAX for an empty slot */
    uint64_t gen;            /* tenures so far, as lfp_keyed's */
} lfp_locked_keyed_slot_;

typedef struct lfp_locked_keyed {
    pthread_mutex_t lock;
    lfp_locked_keyed_slot_ *slots;
    uint64_t mask;
    uint64_t seed[3];
    int64_t interval;
    uint32_t burst;
    uint32_t probe;
    int64_t horizon;         /* largest TAT evicted, as lfp_keyed's */
    struct lfp_rl_stats stats;   /* always counted, under the lock */
} lfp_locked_keyed;

/* As lfp_keyed_init / _destroy / _take_at / _take / _take_bytes_at /
 * _take_bytes / _wait_at / _wait / _hash / _busy_at, with the same codes;
 * every call holds the one mutex (blocking; the waits sleep without it). */
LFP_API int lfp_locked_keyed_init(lfp_locked_keyed *k, size_t capacity, double rate_per_s,
                                  uint32_t burst);
LFP_API void lfp_locked_keyed_destroy(lfp_locked_keyed *k);
LFP_API int lfp_locked_keyed_take_at(lfp_locked_keyed *k, uint64_t key, uint32_t n, int64_t now);
LFP_API int lfp_locked_keyed_take(lfp_locked_keyed *k, uint64_t key, uint32_t n);
LFP_API int lfp_locked_keyed_take_bytes_at(lfp_locked_keyed *k, const void *key, size_t len,
                                           uint32_t n, int64_t now);
LFP_API int lfp_locked_keyed_take_bytes(lfp_locked_keyed *k, const void *key, size_t len,
                                        uint32_t n);
LFP_API int lfp_locked_keyed_wait_at(lfp_locked_keyed *k, uint64_t key, uint32_t n, int64_t now,
                                     int64_t deadline, lfp_cancel *cancel);
LFP_API int lfp_locked_keyed_wait(lfp_locked_keyed *k, uint64_t key, uint32_t n, int64_t deadline,
                                  lfp_cancel *cancel);
LFP_API uint64_t lfp_locked_keyed_hash(const lfp_locked_keyed *k, const void *key, size_t len);
LFP_API size_t lfp_locked_keyed_busy_at(lfp_locked_keyed *k, int64_t now);
/* lfp_keyed_stats, always counted (no enable call), under the mutex: exact
 * at every read. Returns 0; EINVAL if k or out is NULL. */
LFP_API int lfp_locked_keyed_stats(lfp_locked_keyed *k, struct lfp_rl_stats *out);

#ifdef __cplusplus
}
#endif
#endif
