/* lfpat/locked.h — the mutex twins.
 *
 * Each lfp_locked_x is the simplest correct reading of lfp_x's contract: a
 * pthread mutex (and condition variables where it blocks) around plain data.
 * They have the same call shapes and return codes as their atomics-first
 * counterparts and serve as benchmark baseline and differential-test oracle.
 *
 * Progress: every call is blocking (takes a mutex). Ordering: every call is
 * sequentially consistent with every other call on the same object (the
 * mutex orders them), which is at least as strong as the lfp_x contract.
 */
#ifndef LFPAT_LOCKED_H
#define LFPAT_LOCKED_H

#include <pthread.h>

#include "lfpat/cancel.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------ counter */

typedef struct lfp_locked_counter {
    pthread_mutex_t lock;
    int64_t value;
} lfp_locked_counter;

LFP_API int     lfp_locked_counter_init(lfp_locked_counter *c, int64_t v);  /* 0, EINVAL */
LFP_API void    lfp_locked_counter_destroy(lfp_locked_counter *c);
LFP_API int64_t lfp_locked_counter_add(lfp_locked_counter *c, int64_t d);   /* new value */
LFP_API int64_t lfp_locked_counter_get(lfp_locked_counter *c);

/* ------------------------------------------------------------ ratelimit */

/* lfp_locked_bucket: a token bucket as most code writes it — a mutex around
 * a double token count refilled by elapsed * rate (exact float refill: no
 * truncation to whole tokens; time going backwards refills nothing).
 * Same codes as lfp_bucket: 0, EAGAIN, EINVAL (init: rate NaN, infinite or
 * <= 0, burst 0; take: n == 0 or n > burst). Starts full. */
typedef struct lfp_locked_bucket {
    pthread_mutex_t lock;
    double tokens, rate;   /* rate in tokens per ns */
    int64_t last;          /* time of the last refill; INT64_MIN before any */
    uint32_t burst;
} lfp_locked_bucket;

LFP_API int    lfp_locked_bucket_init(lfp_locked_bucket *b, double rate_per_s, uint32_t burst);
LFP_API void   lfp_locked_bucket_destroy(lfp_locked_bucket *b);
LFP_API int    lfp_locked_bucket_take_at(lfp_locked_bucket *b, uint32_t n, int64_t now);
LFP_API int    lfp_locked_bucket_take(lfp_locked_bucket *b, uint32_t n);
LFP_API double lfp_locked_bucket_tokens_at(lfp_locked_bucket *b, int64_t now);
LFP_API int    lfp_locked_bucket_set_rate(lfp_locked_bucket *b, double rate_per_s);

/* lfp_locked_slog: the exact sliding log under a mutex (ring of the last
 * `limit` admission times; admit n iff the n oldest are at or before
 * now - W). Same codes as lfp_slog; init returns ENOMEM too. */
typedef struct lfp_locked_slog {
    pthread_mutex_t lock;
    int64_t *ring;
    uint64_t head;         /* admissions so far */
    uint32_t limit;
    int64_t window;
} lfp_locked_slog;

LFP_API int  lfp_locked_slog_init(lfp_locked_slog *w, uint32_t limit, int64_t window_ns);
LFP_API void lfp_locked_slog_destroy(lfp_locked_slog *w);
LFP_API int  lfp_locked_slog_take_at(lfp_locked_slog *w, uint32_t n, int64_t now);
LFP_API int  lfp_locked_slog_take(lfp_locked_slog *w, uint32_t n);

/* @@ locked twins of later families go above this line, one section each @@ */

#ifdef __cplusplus
}
#endif
#endif
