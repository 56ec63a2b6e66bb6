/* SPDX-License-Identifier: BSD-2-Clause */
#include "lfpat/locked.h"

int lfp_locked_breaker_init(lfp_locked_breaker *b, const struct lfp_breaker_config *cfg)
{
    /* the same validation as the lock-free breaker: init a scratch one */
    lfp_breaker probe;
    int rc = lfp_breaker_init(&probe, cfg);
    if (rc)
        return rc;
    lfp_breaker_destroy(&probe);
    if (!b)
        return EINVAL;
    *b = (lfp_locked_breaker){ .cfg = *cfg, .bucket_ns = cfg->window_ns / cfg->window_buckets };
    return pthread_mutex_init(&b->lock, NULL);
}

void lfp_locked_breaker_destroy(lfp_locked_breaker *b)
{
    if (b)
        pthread_mutex_destroy(&b->lock);
}

/* Lock held. */
static void change(lfp_locked_breaker *b, lfp_breaker_state to, int64_t now)
{
    lfp_breaker_state from = b->state;
    b->state = to;
    b->gen = (b->gen + 1) & LFP_BRK_GEN_MASK_;
    b->in_flight = b->successes = 0;
    if (to == LFP_BREAKER_OPEN) {
        int64_t end = lfp_time_add(now, b->cfg.open_ns + LFP_BREAKER_TICK_NS - 1);
        b->retry_at = end - end % LFP_BREAKER_TICK_NS;   /* tick-rounded like lfp_breaker */
    }
    if (b->cfg.on_change)
        b->cfg.on_change(b->cfg.arg, from, to, b->gen);
}

/* now == NULL: read the clock only if needed (as lfp_breaker_allow does). */
static int allow_impl(lfp_locked_breaker *b, const int64_t *now, lfp_breaker_ticket *t)
{
    if (!b || !t)
        return EINVAL;
    int rc = 0;
    pthread_mutex_lock(&b->lock);
    if (b->state == LFP_BREAKER_OPEN) {
        if ((now ? *now : lfp_now()) < b->retry_at)
            rc = EAGAIN;
        else
            change(b, LFP_BREAKER_HALF_OPEN, 0);
    }
    if (rc == 0 && b->state == LFP_BREAKER_HALF_OPEN) {
        if (b->in_flight >= b->cfg.max_probes)
            rc = EAGAIN;
        else
            b->in_flight++;
    }
    if (rc == 0)
        *t = (lfp_breaker_ticket){ b->gen, b->state == LFP_BREAKER_HALF_OPEN };
    pthread_mutex_unlock(&b->lock);
    return rc;
}

int lfp_locked_breaker_allow_at(lfp_locked_breaker *b, int64_t now, lfp_breaker_ticket *t)
{
    return allow_impl(b, &now, t);
}

int lfp_locked_breaker_allow(lfp_locked_breaker *b, lfp_breaker_ticket *t)
{
    return allow_impl(b, NULL, t);
}

/* Lock held: count a failure and return the failures in the window. */
static uint64_t window_fail(lfp_locked_breaker *b, int64_t now)
{
    uint64_t idx = (uint64_t)(now < 0 ? 0 : now) / (uint64_t)b->bucket_ns;   /* no wrap */
    unsigned n = b->cfg.window_buckets;
    struct lfp_locked_breaker_bucket *k = &b->bucket[idx % n];
    if (k->used && k->gen == b->gen && k->index == idx)
        k->count += k->count < 0xffffff;
    else
        *k = (struct lfp_locked_breaker_bucket){ b->gen, idx, 1, true };
    uint64_t sum = 0;
    for (unsigned i = 0; i < n; i++)
        if (b->bucket[i].used && b->bucket[i].gen == b->gen && idx - b->bucket[i].index < n)
            sum += b->bucket[i].count;
    return sum;
}

/* now == NULL: read the clock only if needed (as lfp_breaker_record does). */
static int record_impl(lfp_locked_breaker *b, lfp_breaker_ticket t, bool success,
                       const int64_t *now_p)
{
    if (!b)
        return EINVAL;
    int64_t now = now_p ? *now_p : success && !t.probe ? 0 : lfp_now();
    int rc = 0;
    pthread_mutex_lock(&b->lock);
    if (t.gen != b->gen || t.probe != (b->state == LFP_BREAKER_HALF_OPEN) ||
        b->state == LFP_BREAKER_OPEN) {
        rc = ESTALE;
    } else if (!t.probe) {
        if (!success && window_fail(b, now) >= b->cfg.failure_threshold)
            change(b, LFP_BREAKER_OPEN, now);
    } else if (!success) {
        change(b, LFP_BREAKER_OPEN, now);
    } else {
        b->in_flight--;
        if (++b->successes >= b->cfg.close_after)
            change(b, LFP_BREAKER_CLOSED, now);
    }
    pthread_mutex_unlock(&b->lock);
    return rc;
}

int lfp_locked_breaker_record_at(lfp_locked_breaker *b, lfp_breaker_ticket t, bool success,
                                 int64_t now)
{
    return record_impl(b, t, success, &now);
}

int lfp_locked_breaker_record(lfp_locked_breaker *b, lfp_breaker_ticket t, bool success)
{
    return record_impl(b, t, success, NULL);
}

lfp_breaker_state lfp_locked_breaker_state_of(lfp_locked_breaker *b, uint32_t *gen)
{
    pthread_mutex_lock(&b->lock);
    lfp_breaker_state s = b->state;
    if (gen)
        *gen = b->gen;
    pthread_mutex_unlock(&b->lock);
    return s;
}
