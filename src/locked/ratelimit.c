/* SPDX-License-Identifier: BSD-2-Clause */
#include "lfpat/locked.h"

#include <stdlib.h>

#include "ratelimit_internal.h"

/* The accepted settings are lfp_bucket's (lfp_rl_settings_ok_): interval
 * t (0: unlimited, LFP_RATE_INF) and burst (0 admits nothing). */

/* Set the rate: the refill per ns and the interval it was validated with. */
static void set_rate(lfp_locked_bucket *b, double rate_per_s, double per_ns, int64_t t)
{
    b->rate_per_s = rate_per_s;
    b->rate = per_ns;
    b->interval = t;
}

static int init_with(lfp_locked_bucket *b, double rate_per_s, double per_ns, int64_t t,
                     uint32_t burst)
{
    if (!b || !lfp_rl_settings_ok_(burst, t))
        return EINVAL;
    b->seq = 0;
    b->top = 0;
    b->tokens = burst;
    set_rate(b, rate_per_s, per_ns, t);
    b->last = INT64_MIN;
    b->burst = burst;
    b->stats = (struct lfp_rl_stats){ 0, 0, 0, 0, 0 };
    return pthread_mutex_init(&b->lock, NULL);
}

int lfp_locked_bucket_init(lfp_locked_bucket *b, double rate_per_s, uint32_t burst)
{
    return init_with(b, rate_per_s, rate_per_s / 1e9, lfp_rl_interval_of_(rate_per_s), burst);
}

/* Every(interval): the refill is 1 / interval per ns (0: unlimited). */
int lfp_locked_bucket_init_every(lfp_locked_bucket *b, int64_t interval_ns, uint32_t burst)
{
    if (interval_ns == 0)
        return init_with(b, LFP_RATE_INF, LFP_RATE_INF, 0, burst);
    return init_with(b, 1e9 / (double)interval_ns, 1.0 / (double)interval_ns, interval_ns, burst);
}

void lfp_locked_bucket_destroy(lfp_locked_bucket *b)
{
    if (b)
        pthread_mutex_destroy(&b->lock);
}

/* Unlimited (LFP_RATE_INF): every take of n >= 1 succeeds, nothing changes. */
static bool unlimited(const lfp_locked_bucket *b)
{
    return b->interval == 0;
}

/* Refill for the time since the last refill; never for time going back. */
static void refill(lfp_locked_bucket *b, int64_t now)
{
    if (!unlimited(b) && b->last != INT64_MIN && now > b->last) {
        b->tokens += (double)((uint64_t)now - (uint64_t)b->last) * b->rate;
        if (b->tokens > b->burst)
            b->tokens = b->burst;
    }
    if (now > b->last)
        b->last = now;
}

int lfp_locked_bucket_take_at(lfp_locked_bucket *b, uint32_t n, int64_t now)
{
    if (!b)
        return EINVAL;
    pthread_mutex_lock(&b->lock);
    int rc = EINVAL;
    if (n != 0 && unlimited(b)) {
        rc = 0;
        lfp_rl_tally_(&b->stats, rc);
    } else if (n != 0 && n <= b->burst) {
        refill(b, now);
        rc = b->tokens >= n ? 0 : EAGAIN;
        if (rc == 0) {
            b->tokens -= n;
            b->top = ++b->seq;   /* stacked on every earlier consumption */
        }
        lfp_rl_tally_(&b->stats, rc);
    }
    pthread_mutex_unlock(&b->lock);
    return rc;
}

int lfp_locked_bucket_take(lfp_locked_bucket *b, uint32_t n)
{
    return lfp_locked_bucket_take_at(b, n, lfp_now());
}

/* A positive duration in ns rounded up (so no caller acts early),
 * saturating at INT64_MAX. */
static int64_t ns_ceil(double ns)
{
    if (!(ns < 9e18))
        return INT64_MAX;
    int64_t r = (int64_t)ns;
    return r + ((double)r < ns);
}

/* Consume n tokens at `now` unless they would be ready only after `latest`
 * (EAGAIN, nothing consumed). The tokens may go negative: a debt that the
 * refill pays back, after which the caller may act. The debt is counted
 * from the last refill (never earlier: time going back mints nothing).
 * The receipt numbers this consumption and remembers the newest before it. */
static int reserve_counted(void *bucket, uint32_t n, int64_t now, int64_t latest,
                           lfp_bucket_reservation *r, bool count)
{
    lfp_locked_bucket *b = bucket;
    if (!b || n == 0 || !r)
        return EINVAL;
    pthread_mutex_lock(&b->lock);
    int rc = EINVAL;
    if (unlimited(b)) {      /* at once, nothing consumed: give_back restores nothing */
        *r = (lfp_bucket_reservation){ now, 0, 0, n, 0 };
        rc = 0;
        if (count)
            lfp_rl_tally_(&b->stats, rc);
    } else if (n <= b->burst) {
        refill(b, now);
        double debt = n - b->tokens;
        int64_t ready = debt <= 0 ? now : lfp_time_add(b->last, ns_ceil(debt / b->rate));
        rc = ready <= latest ? 0 : EAGAIN;
        if (rc == 0) {
            b->tokens -= n;
            r->ready = ready > now ? ready : now;
            r->start_ = b->top;
            r->end_ = b->top = ++b->seq;
            r->n_ = n;
        }
        if (count)
            lfp_rl_tally_(&b->stats, rc);
    }
    pthread_mutex_unlock(&b->lock);
    return rc;
}

/* The waits' reservations: a wait counts once, by its result. */
static int reserve(void *bucket, uint32_t n, int64_t now, int64_t latest,
                   lfp_bucket_reservation *r)
{
    return reserve_counted(bucket, n, now, latest, r, false);
}

int lfp_locked_bucket_reserve_at(lfp_locked_bucket *b, uint32_t n, int64_t now,
                                 int64_t *ready_at)
{
    lfp_bucket_reservation r;
    if (!ready_at)
        return EINVAL;
    int rc = reserve_counted(b, n, now, LFP_FOREVER, &r, true);
    if (rc == 0)
        *ready_at = r.ready;
    return rc;
}

int lfp_locked_bucket_reserve_ex_at(lfp_locked_bucket *b, uint32_t n, int64_t now,
                                    lfp_bucket_reservation *r)
{
    return reserve_counted(b, n, now, LFP_FOREVER, r, true);
}

int lfp_locked_bucket_take_ex_at(lfp_locked_bucket *b, uint32_t n, int64_t now,
                                 lfp_bucket_reservation *r)
{
    return reserve_counted(b, n, now, now, r, true);
}

/* Restore only the newest live consumption (lfp_bucket's rule: a later
 * reservation's ready time counted on these tokens). */
static int give_back(void *bucket, lfp_bucket_reservation *r)
{
    lfp_locked_bucket *b = bucket;
    if (!b || !r || r->n_ == 0)
        return EINVAL;
    if (r->end_ == 0) {      /* unlimited: nothing was consumed (real receipts number from 1) */
        r->n_ = 0;
        return 0;
    }
    pthread_mutex_lock(&b->lock);
    int rc = EAGAIN;
    if (b->top == r->end_) {
        b->tokens += r->n_;
        if (b->tokens > b->burst)
            b->tokens = b->burst;   /* never more than a full bucket */
        b->top = r->start_;
        rc = 0;
    }
    r->n_ = 0;
    pthread_mutex_unlock(&b->lock);
    return rc;
}

int lfp_locked_bucket_give_back(lfp_locked_bucket *b, lfp_bucket_reservation *r)
{
    return give_back(b, r);
}

static const lfp_rl_waiter_ waiter = { reserve, give_back };

int lfp_locked_bucket_wait_at(lfp_locked_bucket *b, uint32_t n, int64_t now, int64_t deadline,
                              lfp_cancel *cancel)
{
    bool slept;
    int rc = lfp_rl_wait_(&waiter, b, n, now, deadline, cancel, &slept);
    if (rc != EINVAL) {
        pthread_mutex_lock(&b->lock);
        lfp_rl_tally_wait_(&b->stats, rc, slept);
        pthread_mutex_unlock(&b->lock);
    }
    return rc;
}

int lfp_locked_bucket_wait(lfp_locked_bucket *b, uint32_t n, int64_t deadline,
                           lfp_cancel *cancel)
{
    return lfp_locked_bucket_wait_at(b, n, lfp_now(), deadline, cancel);
}

int lfp_locked_bucket_stats(lfp_locked_bucket *b, struct lfp_rl_stats *out)
{
    if (!b || !out)
        return EINVAL;
    pthread_mutex_lock(&b->lock);
    *out = b->stats;
    pthread_mutex_unlock(&b->lock);
    return 0;
}

double lfp_locked_bucket_tokens_at(lfp_locked_bucket *b, int64_t now)
{
    pthread_mutex_lock(&b->lock);
    refill(b, now);
    double t = unlimited(b) ? LFP_RATE_INF : b->tokens;
    pthread_mutex_unlock(&b->lock);
    return t;
}

int lfp_locked_bucket_set_rate_at(lfp_locked_bucket *b, double rate_per_s, int64_t now)
{
    int64_t t = lfp_rl_interval_of_(rate_per_s);
    if (!b || t < 0)
        return EINVAL;
    pthread_mutex_lock(&b->lock);
    int rc = EINVAL;
    if (lfp_rl_settings_ok_(b->burst, t)) {
        refill(b, now);          /* the time so far at the old rate */
        if (unlimited(b) || t == 0) {
            b->tokens = b->burst;   /* to or from unlimited: full (Go: capped at burst) */
            if (now > b->last)
                b->last = now;
        }
        set_rate(b, rate_per_s, rate_per_s / 1e9, t);
        b->top = 0;              /* earlier receipts restore nothing */
        rc = 0;
    }
    pthread_mutex_unlock(&b->lock);
    return rc;
}

int lfp_locked_bucket_set_burst_at(lfp_locked_bucket *b, uint32_t burst, int64_t now)
{
    if (!b)
        return EINVAL;
    pthread_mutex_lock(&b->lock);
    int rc = EINVAL;
    if (lfp_rl_settings_ok_(burst, b->interval)) {
        refill(b, now);
        if (b->tokens > burst)
            b->tokens = burst;   /* keep the count, capped: never more than before */
        b->burst = burst;
        b->top = 0;
        rc = 0;
    }
    pthread_mutex_unlock(&b->lock);
    return rc;
}

int lfp_locked_bucket_set_rate(lfp_locked_bucket *b, double rate_per_s)
{
    return lfp_locked_bucket_set_rate_at(b, rate_per_s, lfp_now());
}

int lfp_locked_bucket_set_burst(lfp_locked_bucket *b, uint32_t burst)
{
    return lfp_locked_bucket_set_burst_at(b, burst, lfp_now());
}

double lfp_locked_bucket_rate(lfp_locked_bucket *b)
{
    pthread_mutex_lock(&b->lock);
    double r = b->rate_per_s;
    pthread_mutex_unlock(&b->lock);
    return r;
}

uint32_t lfp_locked_bucket_burst(lfp_locked_bucket *b)
{
    pthread_mutex_lock(&b->lock);
    uint32_t burst = b->burst;
    pthread_mutex_unlock(&b->lock);
    return burst;
}

int lfp_locked_slog_init(lfp_locked_slog *w, uint32_t limit, int64_t window_ns)
{
    if (!w || limit == 0 || limit > LFP_SLOG_MAX_LIMIT || window_ns <= 0)
        return EINVAL;   /* lfp_slog's accepted range */
    w->ring = malloc((size_t)limit * sizeof *w->ring);
    if (!w->ring)
        return ENOMEM;
    w->head = 0;
    w->limit = limit;
    w->window = window_ns;
    w->stats = (struct lfp_rl_stats){ 0, 0, 0, 0, 0 };
    return pthread_mutex_init(&w->lock, NULL);
}

void lfp_locked_slog_destroy(lfp_locked_slog *w)
{
    if (!w)
        return;
    pthread_mutex_destroy(&w->lock);
    free(w->ring);
    w->ring = NULL;
}

/* Admission a evicts a - limit; allowed iff that one is at or before
 * now - W, compared exactly (a saturated now - W would read an admission
 * at INT64_MIN as expired at INT64_MIN). */
static bool evictable(const lfp_locked_slog *w, uint64_t a, int64_t now)
{
    if (a < w->limit)
        return true;
    int64_t t = w->ring[a % w->limit];
    return t <= now && (uint64_t)now - (uint64_t)t >= (uint64_t)w->window;
}

static int slog_take(lfp_locked_slog *w, uint32_t n, int64_t now, bool count)
{
    if (!w || n == 0 || n > w->limit)
        return EINVAL;
    pthread_mutex_lock(&w->lock);
    int rc = 0;
    for (uint64_t a = w->head; a < w->head + n && rc == 0; a++)
        if (!evictable(w, a, now))
            rc = EAGAIN;
    for (uint64_t a = w->head; a < w->head + n && rc == 0; a++)
        w->ring[a % w->limit] = now;
    if (rc == 0)
        w->head += n;
    if (count)   /* a take (a wait counts once, by its result) */
        lfp_rl_tally_(&w->stats, rc);
    pthread_mutex_unlock(&w->lock);
    return rc;
}

int lfp_locked_slog_take_at(lfp_locked_slog *w, uint32_t n, int64_t now)
{
    return slog_take(w, n, now, true);
}

int lfp_locked_slog_take(lfp_locked_slog *w, uint32_t n)
{
    return lfp_locked_slog_take_at(w, n, lfp_now());
}

/* The time from which the n oldest entries are at or before now - W. */
static int64_t locked_slog_ready(void *log, uint32_t n, int64_t now)
{
    lfp_locked_slog *w = log;
    pthread_mutex_lock(&w->lock);
    int64_t at = now;
    for (uint64_t a = w->head; a < w->head + n; a++)
        if (a >= w->limit) {
            int64_t t = lfp_time_add(w->ring[a % w->limit], w->window);
            at = t > at ? t : at;
        }
    pthread_mutex_unlock(&w->lock);
    return at;
}

static int locked_slog_take(void *log, uint32_t n, int64_t now)
{
    return slog_take(log, n, now, false);
}

static const lfp_rl_retry_ slog_retry = { locked_slog_take, locked_slog_ready };

int lfp_locked_slog_wait_at(lfp_locked_slog *w, uint32_t n, int64_t now, int64_t deadline,
                            lfp_cancel *cancel)
{
    if (!w)
        return EINVAL;
    bool slept;
    int rc = lfp_rl_wait_retry_(&slog_retry, w, n, now, deadline, cancel, &slept);
    if (rc != EINVAL) {
        pthread_mutex_lock(&w->lock);
        lfp_rl_tally_wait_(&w->stats, rc, slept);
        pthread_mutex_unlock(&w->lock);
    }
    return rc;
}

int lfp_locked_slog_wait(lfp_locked_slog *w, uint32_t n, int64_t deadline, lfp_cancel *cancel)
{
    return lfp_locked_slog_wait_at(w, n, lfp_now(), deadline, cancel);
}

int lfp_locked_slog_stats(lfp_locked_slog *w, struct lfp_rl_stats *out)
{
    if (!w || !out)
        return EINVAL;
    pthread_mutex_lock(&w->lock);
    *out = w->stats;
    pthread_mutex_unlock(&w->lock);
    return 0;
}
