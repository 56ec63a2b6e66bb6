/* Internal: the process-local token bucket behind LFP_RFAIL_LOCAL (a small
 * mutex GCRA on CLOCK_MONOTONIC). Kept behind this two-function interface
 * so it can be swapped for the core lfp_bucket (ratelimit.h) in a few lines
 * once that lands. */
#ifndef LFPAT_REDIS_LOCAL_BUCKET_H
#define LFPAT_REDIS_LOCAL_BUCKET_H

#include "lfpat/redis.h"

#include <math.h>

static inline void lfp_rb_local_init(struct lfp_rb_local *l, int64_t t_ns, uint32_t burst, double share)
{
    pthread_mutex_init(&l->mu, NULL);
    double b = floor((double)burst * share);
    l->t = (int64_t)ceil((double)t_ns / share);
    l->burst_t = (b < 1 ? 1 : (int64_t)b) * l->t;
    l->tat = INT64_MIN / 2; /* a full bucket */
}

static inline bool lfp_rb_local_take(struct lfp_rb_local *l, uint32_t n)
{
    int64_t now = lfp_now();
    pthread_mutex_lock(&l->mu);
    int64_t tat = l->tat > now ? l->tat : now;
    bool ok = (int64_t)n * l->t <= l->burst_t && tat + (int64_t)n * l->t - now <= l->burst_t;
    if (ok) l->tat = tat + (int64_t)n * l->t;
    pthread_mutex_unlock(&l->mu);
    return ok;
}

#endif
