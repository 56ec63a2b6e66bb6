/* SPDX-License-Identifier: BSD-2-Clause */
/* lfpat/locked/ratelimit.h — lfp_locked_bucket and lfp_locked_slog, the
 * mutex twins of lfp_bucket and
 * lfp_slog (lfpat/ratelimit.h).
 * What every twin promises (progress, ordering, Copying, Fork):
 * lfpat/locked.h, which includes this header. */
#ifndef LFPAT_LOCKED_RATELIMIT_H
#define LFPAT_LOCKED_RATELIMIT_H

#include <pthread.h>

#include "lfpat/ratelimit.h"   /* lfp_bucket_reservation, the accepted range */

#ifdef __cplusplus
extern "C" {
#endif

/* lfp_locked_bucket: a token bucket as most code writes it — a mutex around
 * a double token count refilled by elapsed * rate (exact float refill: no
 * truncation to whole tokens; time going backwards refills nothing).
 * Same codes as lfp_bucket: 0, EAGAIN, EINVAL (take: n == 0 or n > burst).
 * Starts full. Accepts exactly lfp_bucket's settings (rate in
 * [LFP_BUCKET_MIN_RATE, LFP_BUCKET_MAX_RATE] or LFP_RATE_INF, burst * ceil(1e9
 * / rate) <= LFP_BUCKET_MAX_SPAN, burst 0 included) with their meanings
 * ("Unlimited rate and burst 0" in lfpat/ratelimit.h: unlimited admits
 * every n >= 1 at once and changes nothing; burst 0 at a finite rate admits
 * nothing), but refills at exactly the requested rate in doubles
 * (lfp_bucket rounds T up). */
typedef struct lfp_locked_bucket {
    pthread_mutex_t lock;
    double tokens, rate;   /* rate in tokens per ns (the refill) */
    int64_t last;          /* time of the last refill; INT64_MIN before any */
    uint32_t burst;
    double rate_per_s;     /* as given (ready times: debt * 1e9 / rate_per_s) */
    int64_t seq;           /* consumptions so far (numbers the receipts) */
    int64_t top;           /* number of the newest live consumption (0: none) */
    int64_t interval;      /* lfp_bucket's T for these settings (0: unlimited) */
    struct lfp_rl_stats stats;   /* always counted, under the lock */
} lfp_locked_bucket;

LFP_API int    lfp_locked_bucket_init(lfp_locked_bucket *b, double rate_per_s, uint32_t burst);
/* lfp_bucket_init_every's twin: a refill of 1 / interval_ns per ns (0:
 * unlimited), the same accepted range and codes. */
LFP_API int    lfp_locked_bucket_init_every(lfp_locked_bucket *b, int64_t interval_ns,
                                            uint32_t burst);
LFP_API void   lfp_locked_bucket_destroy(lfp_locked_bucket *b);
LFP_API int    lfp_locked_bucket_take_at(lfp_locked_bucket *b, uint32_t n, int64_t now);
LFP_API int    lfp_locked_bucket_take(lfp_locked_bucket *b, uint32_t n);
LFP_API double lfp_locked_bucket_tokens_at(lfp_locked_bucket *b, int64_t now);
/* set_rate_at / set_burst_at refill up to `now` at the old rate, then keep
 * the token count (capped by a lower burst; a debt stays a debt in tokens),
 * as lfp_bucket's (and Go's SetLimitAt / SetBurstAt); earlier receipts no
 * longer restore anything. The plain forms use lfp_now(). */
LFP_API int    lfp_locked_bucket_set_rate_at(lfp_locked_bucket *b, double rate_per_s, int64_t now);
LFP_API int    lfp_locked_bucket_set_burst_at(lfp_locked_bucket *b, uint32_t burst, int64_t now);
LFP_API int    lfp_locked_bucket_set_rate(lfp_locked_bucket *b, double rate_per_s);
LFP_API int    lfp_locked_bucket_set_burst(lfp_locked_bucket *b, uint32_t burst);
LFP_API double lfp_locked_bucket_rate(lfp_locked_bucket *b);
LFP_API uint32_t lfp_locked_bucket_burst(lfp_locked_bucket *b);
/* reserve_at, reserve_ex_at, take_ex_at, give_back, wait and wait_at as
 * lfp_bucket's (same contract and codes): the tokens go negative while
 * reservations queue, and the ready time is when the refill brings them
 * back to 0 (rounded up to a ns). give_back restores a receipt's tokens
 * only while it is the newest live consumption (no later take or
 * reservation was made, or all later ones were given back first), exactly
 * lfp_bucket's rule. */
LFP_API int    lfp_locked_bucket_reserve_at(lfp_locked_bucket *b, uint32_t n, int64_t now,
                                            int64_t *ready_at);
LFP_API int    lfp_locked_bucket_reserve_ex_at(lfp_locked_bucket *b, uint32_t n, int64_t now,
                                               lfp_bucket_reservation *r);
LFP_API int    lfp_locked_bucket_take_ex_at(lfp_locked_bucket *b, uint32_t n, int64_t now,
                                            lfp_bucket_reservation *r);
LFP_API int    lfp_locked_bucket_give_back(lfp_locked_bucket *b, lfp_bucket_reservation *r);
LFP_API int    lfp_locked_bucket_wait(lfp_locked_bucket *b, uint32_t n, int64_t deadline,
                                      lfp_cancel *cancel);
LFP_API int    lfp_locked_bucket_wait_at(lfp_locked_bucket *b, uint32_t n, int64_t now,
                                         int64_t deadline, lfp_cancel *cancel);
/* lfp_bucket_stats, always counted (no enable call), under the mutex:
 * exact and mutually consistent at every read. Returns 0; EINVAL if b or
 * out is NULL. */
LFP_API int    lfp_locked_bucket_stats(lfp_locked_bucket *b, struct lfp_rl_stats *out);

/* lfp_locked_slog: the exact sliding log under a mutex (ring of the last
 * `limit` admission times; admit n iff the n oldest are at or before
 * now - W). Same codes as lfp_slog; init returns ENOMEM too. */
typedef struct lfp_locked_slog {
    pthread_mutex_t lock;
    int64_t *ring;
    uint64_t head;         /* admissions so far */
    uint32_t limit;
    int64_t window;
    struct lfp_rl_stats stats;   /* always counted, under the lock */
} lfp_locked_slog;

LFP_API int  lfp_locked_slog_init(lfp_locked_slog *w, uint32_t limit, int64_t window_ns);
LFP_API void lfp_locked_slog_destroy(lfp_locked_slog *w);
LFP_API int  lfp_locked_slog_take_at(lfp_locked_slog *w, uint32_t n, int64_t now);
LFP_API int  lfp_locked_slog_take(lfp_locked_slog *w, uint32_t n);
/* lfp_slog_wait / lfp_slog_wait_at under the mutex: same contract and codes. */
LFP_API int  lfp_locked_slog_wait(lfp_locked_slog *w, uint32_t n, int64_t deadline,
                                  lfp_cancel *cancel);
LFP_API int  lfp_locked_slog_wait_at(lfp_locked_slog *w, uint32_t n, int64_t now,
                                     int64_t deadline, lfp_cancel *cancel);
/* lfp_slog_stats as lfp_locked_bucket_stats: always counted, exact. */
LFP_API int  lfp_locked_slog_stats(lfp_locked_slog *w, struct lfp_rl_stats *out);

#ifdef __cplusplus
}
#endif
#endif
