/* GCRA token bucket: slow paths (init, configuration, reserve, wait).
 * The fast path, lfp_bucket_take_at, is inline in lfpat/ratelimit.h with
 * the algorithm's argument. */
#include "ratelimit_internal.h"

#include "lfpat/eventcount.h"

/* Emission interval for a rate, or 0 if the rate is out of range. */
static int64_t interval_for(double rate)
{
    if (!(rate >= LFP_BUCKET_MIN_RATE && rate <= LFP_BUCKET_MAX_RATE))  /* NaN fails too */
        return 0;
    double t = 1e9 / rate + 0.5;              /* round to nearest (t > 0) */
    if (t < 1.0 || t > 4611686018427387904.0)   /* 2^62 ns */
        return 0;
    return (int64_t)t;
}

int lfp_bucket_init(lfp_bucket *b, double rate_per_s, uint32_t burst)
{
    int64_t t = interval_for(rate_per_s);
    if (!b || t == 0 || burst == 0)
        return EINVAL;
    atomic_init(&b->tat, INT64_MIN);   /* full: max(TAT, now) == now */
    atomic_init(&b->interval, t);
    atomic_init(&b->burst, burst);
    return 0;
}

int lfp_bucket_take(lfp_bucket *b, uint32_t n)
{
    return lfp_bucket_take_at(b, n, lfp_rl_now_());
}

int lfp_bucket_set_rate(lfp_bucket *b, double rate_per_s)
{
    int64_t t = interval_for(rate_per_s);
    if (!b || t == 0)
        return EINVAL;
    /* relaxed: takes read parameters relaxed (header: old or new value). */
    atomic_store_explicit(&b->interval, t, memory_order_relaxed);
    return 0;
}

int lfp_bucket_set_burst(lfp_bucket *b, uint32_t burst)
{
    if (!b || burst == 0)
        return EINVAL;
    /* relaxed: as in lfp_bucket_set_rate. */
    atomic_store_explicit(&b->burst, burst, memory_order_relaxed);
    return 0;
}

double lfp_bucket_rate(const lfp_bucket *b)
{
    /* relaxed: a parameter read; orders nothing. */
    return 1e9 / (double)atomic_load_explicit(&((lfp_bucket *)b)->interval, memory_order_relaxed);
}

uint32_t lfp_bucket_burst(const lfp_bucket *b)
{
    /* relaxed: a parameter read; orders nothing. */
    return atomic_load_explicit(&((lfp_bucket *)b)->burst, memory_order_relaxed);
}

double lfp_bucket_tokens_at(const lfp_bucket *b, int64_t now)
{
    lfp_bucket *m = (lfp_bucket *)b;
    /* relaxed: a snapshot of one word and the parameters; orders nothing. */
    int64_t tat = atomic_load_explicit(&m->tat, memory_order_relaxed);
    int64_t t = atomic_load_explicit(&m->interval, memory_order_relaxed);
    uint32_t burst = atomic_load_explicit(&m->burst, memory_order_relaxed);
    if (tat <= now)
        return burst;
    double debt = (double)((uint64_t)tat - (uint64_t)now);
    return (double)burst - debt / (double)t;
}

/* One reservation attempt loop shared by reserve and wait: consume n tokens
 * at `now` unless the ready time would be after `latest` (then EAGAIN and
 * nothing consumed). Stores the ready time. */
static int reserve(void *bucket, uint32_t n, int64_t now, int64_t latest, int64_t *ready_at)
{
    lfp_bucket *b = bucket;
    if (!b || !ready_at)
        return EINVAL;
    /* relaxed: parameters order nothing (header comment). */
    int64_t t = atomic_load_explicit(&b->interval, memory_order_relaxed);
    uint32_t burst = atomic_load_explicit(&b->burst, memory_order_relaxed);
    if (n == 0 || n > burst)
        return EINVAL;
    int64_t cost = lfp_rl_span(n, t), full = lfp_rl_span(burst, t);
    /* relaxed: the decision depends on this word alone; the CAS checks it. */
    int64_t old = atomic_load_explicit(&b->tat, memory_order_relaxed);
    for (;;) {
        int64_t base = old > now ? old : now;
        int64_t next = lfp_rl_sat_add(base, cost);
        /* Ready when the bucket's depth after this take fits the burst:
         * next - ready <= burst * T. */
        int64_t ready = lfp_rl_sat_add(next, -full);
        if (ready < now)
            ready = now;
        if (ready > latest)
            return EAGAIN;
        /* relaxed: limiters publish nothing; atomicity suffices. */
        if (atomic_compare_exchange_weak_explicit(&b->tat, &old, next,
                                                  memory_order_relaxed, memory_order_relaxed)) {
            *ready_at = ready;
            return 0;
        }
    }
}

int lfp_bucket_reserve_at(lfp_bucket *b, uint32_t n, int64_t now, int64_t *ready_at)
{
    return reserve(b, n, now, LFP_FOREVER, ready_at);
}

static int give_back(void *bucket, uint32_t n)
{
    lfp_bucket *b = bucket;
    if (!b || n == 0)
        return EINVAL;
    /* relaxed: a parameter read. */
    int64_t cost = lfp_rl_span(n, atomic_load_explicit(&b->interval, memory_order_relaxed));
    /* relaxed: atomic on the one word; orders nothing. */
    int64_t old = atomic_load_explicit(&b->tat, memory_order_relaxed);
    while (!atomic_compare_exchange_weak_explicit(&b->tat, &old, lfp_rl_sat_add(old, -cost),
                                                  memory_order_relaxed, memory_order_relaxed))
        ;
    return 0;
}

int lfp_bucket_give_back(lfp_bucket *b, uint32_t n)
{
    return give_back(b, n);
}

static const lfp_rl_waiter_ waiter = { reserve, give_back };

int lfp_bucket_wait_at(lfp_bucket *b, uint32_t n, int64_t now, int64_t deadline,
                       lfp_cancel *cancel)
{
    return lfp_rl_wait_(&waiter, b, n, now, deadline, cancel);
}

int lfp_bucket_wait(lfp_bucket *b, uint32_t n, int64_t deadline, lfp_cancel *cancel)
{
    return lfp_rl_wait_(&waiter, b, n, lfp_now(), deadline, cancel);
}

/* ------------------------------------------------------------ waiting (shared) */

/* Sleep until `until` on a private eventcount (nobody notifies it; only the
 * deadline or the cancel token end the wait). Returns 0 or ECANCELED. */
static int sleep_until(int64_t until, lfp_cancel *cancel)
{
    lfp_ec ec;
    lfp_ec_init(&ec);
    for (;;) {
        if (lfp_now() >= until)
            return 0;
        uint32_t key = lfp_ec_prepare(&ec);
        int rc = lfp_ec_wait(&ec, key, until, cancel);
        if (rc == ECANCELED)
            return lfp_now() >= until ? 0 : ECANCELED;   /* success preferred */
    }
}

int lfp_rl_wait_(const lfp_rl_waiter_ *w, void *b, uint32_t n, int64_t now, int64_t deadline,
                 lfp_cancel *cancel)
{
    int64_t ready;
    int rc = w->reserve(b, n, now, now, &ready);
    if (rc != EAGAIN)
        return rc;                 /* taken at once, or EINVAL (NULL b too) */
    if (lfp_cancel_fired(cancel))
        return ECANCELED;
    rc = w->reserve(b, n, now, deadline, &ready);
    if (rc == EAGAIN)
        return ETIMEDOUT;          /* ready after the deadline: nothing consumed */
    if (rc != 0 || ready <= now)
        return rc;
    rc = sleep_until(ready, cancel);
    if (rc == ECANCELED)
        w->give_back(b, n);        /* do not slow the callers queued behind */
    return rc;
}
