/* SPDX-License-Identifier: BSD-2-Clause */
/* GCRA token bucket: slow paths (init, configuration, reserve, wait).
 * The fast path, lfp_bucket_take_at, is inline in lfpat/ratelimit.h with
 * the algorithm's argument. */
#include "park.h"
#include "ratelimit_internal.h"

#include <limits.h>
#include <string.h>

/* The emission interval for a rate: the smallest integer T (ns) with
 * T * rate >= 1e9 * (1 - 2^-53), computed exactly (the double rate is m / 2^s with an
 * integer m < 2^53; T = ceil(1e9 * 2^s / m) in 128-bit integers). Returns
 * 0 if the rate is out of range or T > LFP_BUCKET_MAX_SPAN. */
int64_t lfp_rl_interval_(double rate)
{
    if (!(rate >= LFP_BUCKET_MIN_RATE && rate <= LFP_BUCKET_MAX_RATE))  /* NaN fails too */
        return 0;
    /* rate = m / 2^s from the IEEE-754 bits (a normal double here: the
     * range check excludes 0, subnormals, infinities and NaN). */
    uint64_t bits;
    memcpy(&bits, &rate, sizeof bits);
    uint64_t m = (bits & ((UINT64_C(1) << 52) - 1)) | UINT64_C(1) << 52;
    int s = 1075 - (int)(bits >> 52 & 0x7ff);    /* 23 <= s <= 85 in range */
    if (s <= 0 || s > 90)
        return 0;
    lfp_u128_ num = (lfp_u128_)1000000000u << s;   /* < 2^120 */
    /* The double itself carries a relative rounding error up to 2^-53:
     * forgive that much, so 1.0 / 3600 (a hair below 1/3600) is one hour,
     * not one hour and a nanosecond. */
    num -= num >> 53;
    lfp_u128_ t = (num + m - 1) / m;
    if (t < 1 || t > (lfp_u128_)LFP_BUCKET_MAX_SPAN)
        return 0;
    return (int64_t)t;
}

/* burst * t within LFP_BUCKET_MAX_SPAN (t <= 2^62, burst < 2^32: no overflow
 * in 128 bits). */
bool lfp_rl_span_ok_(uint32_t burst, int64_t t)
{
    return burst != 0 && t > 0 && (lfp_u128_)burst * (uint64_t)t <= (lfp_u128_)LFP_BUCKET_MAX_SPAN;
}

int64_t lfp_rl_interval_of_(double rate)
{
    if (rate == __builtin_inf())
        return 0;
    int64_t t = lfp_rl_interval_(rate);
    return t ? t : -1;
}

bool lfp_rl_settings_ok_(uint32_t burst, int64_t t)
{
    return t == 0 || (t > 0 && (lfp_u128_)burst * (uint64_t)t <= (lfp_u128_)LFP_BUCKET_MAX_SPAN &&
                      t <= LFP_BUCKET_MAX_SPAN);
}

static int init_with(lfp_bucket *b, int64_t t, uint32_t burst)
{
    if (!b || !lfp_rl_settings_ok_(burst, t))
        return EINVAL;
    atomic_init(&b->tat, INT64_MIN);   /* full: max(TAT, now) == now */
    atomic_init(&b->interval, t);
    atomic_init(&b->burst, burst);
    atomic_init(&b->cfg_lock_, 0);
    atomic_init(&b->gen_, 0);
    atomic_init(&b->stats_, NULL);
    return 0;
}

int lfp_bucket_init(lfp_bucket *b, double rate_per_s, uint32_t burst)
{
    return init_with(b, lfp_rl_interval_of_(rate_per_s), burst);
}

int lfp_bucket_init_every(lfp_bucket *b, int64_t interval_ns, uint32_t burst)
{
    return init_with(b, interval_ns, burst);
}

void lfp_bucket_destroy(lfp_bucket *b)
{
    if (b)
        lfp_rl_stats_free_(&b->stats_);
}

int lfp_bucket_stats_enable(lfp_bucket *b)
{
    return b ? lfp_rl_stats_enable_(&b->stats_) : EINVAL;
}

int lfp_bucket_stats(const lfp_bucket *b, struct lfp_rl_stats *out)
{
    return b && out ? lfp_rl_stats_read_(&b->stats_, out) : EINVAL;
}

int lfp_bucket_take(lfp_bucket *b, uint32_t n)
{
    return lfp_bucket_take_at(b, n, lfp_rl_now_());
}

/* The configuration lock: set_rate and set_burst validate the pair, so they
 * must not interleave (configuration only; takes never touch it). A futex
 * lock (Drepper's "mutex2"): 0 free, 1 held, 2 held and someone may be
 * parked on it, a setter waiting for the lock or a reserve waiting for the
 * change the holder has in progress (wait_for_change). Waiters spin a few
 * pauses, then park; the unlock wakes them all. Never a yield loop: under
 * SCHED_FIFO a waiter above the setter's priority on its CPU would keep it
 * from finishing (stress_rt_handoff bucket_reconfigure). */
#define CFG_FREE 0u
#define CFG_HELD 1u
#define CFG_CONTENDED 2u
#define CFG_SPINS 64

static void cfg_lock(lfp_bucket *b)
{
    for (unsigned i = 0; i < CFG_SPINS; i++) {
        uint32_t z = CFG_FREE;
        /* acquire: pairs with the release exchange in cfg_unlock; orders this
         * setter's reads of the parameters after the previous setter's
         * writes. */
        if (atomic_compare_exchange_weak_explicit(&b->cfg_lock_, &z, CFG_HELD,
                                                  memory_order_acquire, memory_order_relaxed))
            return;
        lfp_spin_pause(0);   /* a CPU pause, never a yield */
    }
    /* acquire: as above. Taking it as CONTENDED may cost the unlock one
     * needless wake; it never loses one. */
    while (atomic_exchange_explicit(&b->cfg_lock_, CFG_CONTENDED, memory_order_acquire) !=
           CFG_FREE)
        lfp_park_wait(&b->cfg_lock_, CFG_CONTENDED, LFP_FOREVER);
}

static void cfg_unlock(lfp_bucket *b)
{
    _Atomic(uint32_t) *word = &b->cfg_lock_;
    /* release: pairs with the acquire in cfg_lock and wait_for_change, so
     * whoever sees the lock free also sees the TAT and parameters this
     * setter stored before it. */
    if (atomic_exchange_explicit(word, CFG_FREE, memory_order_release) == CFG_CONTENDED)
        lfp_park_wake(word, INT_MAX);
}

/* A reserve found TAT marked as changing: wait until the setter holding the
 * configuration lock has stored the new TAT (it does so before it unlocks).
 * A brief spin, then mark the lock CONTENDED and park on it: the unlock's
 * exchange either sees the mark and wakes (a wake before the park makes
 * the park return at once: the word is no longer CONTENDED), or comes
 * before the mark, whose CAS then fails on FREE and the loop re-reads TAT,
 * stored before that unlock. */
static int64_t wait_for_change(lfp_bucket *b)
{
    for (unsigned i = 0;; i++) {
        /* acquire: pairs with the release in change(), as the caller's load. */
        int64_t tat = atomic_load_explicit(&b->tat, memory_order_acquire);
        if (tat != LFP_BUCKET_CHANGING_)
            return tat;
        if (i < CFG_SPINS) {
            lfp_spin_pause(0);
            continue;
        }
        /* acquire: pairs with cfg_unlock's release exchange; then the TAT
         * load above, on the next round, sees the new TAT. */
        uint32_t l = atomic_load_explicit(&b->cfg_lock_, memory_order_acquire);
        if (l == CFG_FREE)
            continue;   /* the change is over: look again */
        if (l == CFG_HELD &&
            !atomic_compare_exchange_strong_explicit(&b->cfg_lock_, &l, CFG_CONTENDED,
                                                     memory_order_acquire,
                                                     memory_order_acquire))
            continue;   /* unlocked or marked meanwhile: look again */
        lfp_park_wait(&b->cfg_lock_, CFG_CONTENDED, LFP_FOREVER);
    }
}

/* A change at `now` (under the configuration lock): mark TAT as changing,
 * compute the TAT that keeps the token count for the new parameters,
 * publish the parameters, then the new TAT with release. `nb`/`nt` are the
 * new burst and interval (one of them unchanged). */
static void change(lfp_bucket *b, uint32_t nb, int64_t nt, int64_t now)
{
    /* relaxed: ordered by the configuration lock. */
    int64_t t = atomic_load_explicit(&b->interval, memory_order_relaxed);
    uint32_t burst = atomic_load_explicit(&b->burst, memory_order_relaxed);
    /* release: a reserve that reads CHANGING (acquire) also sees this
     * setter's hold of the configuration lock, so it parks on the lock
     * rather than spinning (wait_for_change). As an RMW on TAT the exchange
     * sees every earlier take's CAS; the parameters are published by the
     * release store below. */
    int64_t old = atomic_exchange_explicit(&b->tat, LFP_BUCKET_CHANGING_, memory_order_release);
    /* The debt in ns, D = max(TAT, now) - now; tokens = burst - D / t. */
    lfp_u128_ d = old > now ? (uint64_t)old - (uint64_t)now : 0;
    if (t == 0 || nt == 0)
        d = 0, t = 1, burst = nb;   /* to or from unlimited: full (Go: capped at burst) */
    /* Keep the tokens: new debt D' with nb - D'/nt = min(burst - D/t, nb),
     * i.e. D' = max(0, D + (nb - burst) * t) * nt / t, rounded up (never
     * fewer ns of debt than the exact value: never early). */
    __extension__ __int128 x = (__int128)d + ((__int128)nb - (__int128)burst) * t;
    lfp_u128_ nd = x <= 0 ? 0 : ((lfp_u128_)x * (uint64_t)nt + (uint64_t)t - 1) / (uint64_t)t;
    lfp_u128_ room = (lfp_u128_)((uint64_t)(INT64_MAX - 1) - (uint64_t)now);  /* now < MAX */
    int64_t tat = nd >= room ? INT64_MAX - 1 : (int64_t)((uint64_t)now + (uint64_t)nd);
    /* relaxed: published by the release store of TAT below. */
    atomic_store_explicit(&b->interval, nt, memory_order_relaxed);
    atomic_store_explicit(&b->burst, nb, memory_order_relaxed);
    /* relaxed: published by the release store of TAT below (give_back
     * reads it after an acquire load of TAT). */
    atomic_fetch_add_explicit(&b->gen_, 1, memory_order_relaxed);
    /* release: pairs with the acquire loads of TAT in the takes, reserve and
     * give_back: whoever reads this TAT (or a later one) reads the new
     * parameters and generation. */
    atomic_store_explicit(&b->tat, tat, memory_order_release);
}

/* Change the interval (t, 0: unlimited) or the burst at now; a negative
 * value keeps the current one. The shared body of set_rate_at and
 * set_burst_at. */
static int reconfigure_at(lfp_bucket *b, int64_t burst, int64_t t, int64_t now)
{
    if (now == INT64_MAX)
        now = INT64_MAX - 1;
    cfg_lock(b);
    /* relaxed: ordered by the configuration lock. */
    if (burst < 0)
        burst = atomic_load_explicit(&b->burst, memory_order_relaxed);
    /* relaxed: ordered by the configuration lock. */
    if (t < 0)
        t = atomic_load_explicit(&b->interval, memory_order_relaxed);
    int rc = lfp_rl_settings_ok_((uint32_t)burst, t) ? 0 : EINVAL;
    if (rc == 0)
        change(b, (uint32_t)burst, t, now);
    cfg_unlock(b);
    return rc;
}

int lfp_bucket_set_rate_at(lfp_bucket *b, double rate_per_s, int64_t now)
{
    int64_t t = lfp_rl_interval_of_(rate_per_s);
    if (!b || t < 0)
        return EINVAL;
    return reconfigure_at(b, -1, t, now);
}

int lfp_bucket_set_burst_at(lfp_bucket *b, uint32_t burst, int64_t now)
{
    if (!b)
        return EINVAL;
    return reconfigure_at(b, burst, -1, now);
}

int lfp_bucket_set_rate(lfp_bucket *b, double rate_per_s)
{
    return lfp_bucket_set_rate_at(b, rate_per_s, lfp_now());
}

int lfp_bucket_set_burst(lfp_bucket *b, uint32_t burst)
{
    return lfp_bucket_set_burst_at(b, burst, lfp_now());
}

double lfp_bucket_rate(const lfp_bucket *b)
{
    /* relaxed: a parameter read; orders nothing. */
    int64_t t = atomic_load_explicit(&((lfp_bucket *)b)->interval, memory_order_relaxed);
    return t ? 1e9 / (double)t : __builtin_inf();
}

uint32_t lfp_bucket_burst(const lfp_bucket *b)
{
    /* relaxed: a parameter read; orders nothing. */
    return atomic_load_explicit(&((lfp_bucket *)b)->burst, memory_order_relaxed);
}

double lfp_bucket_tokens_at(const lfp_bucket *b, int64_t now)
{
    lfp_bucket *m = (lfp_bucket *)b;
    /* acquire: pairs with the release in change(), so the parameters read
     * below (relaxed, after it) belong to this TAT or a later change; during
     * a change (TAT = CHANGING) the bucket reads as deeply in debt. */
    int64_t tat = atomic_load_explicit(&m->tat, memory_order_acquire);
    int64_t t = atomic_load_explicit(&m->interval, memory_order_relaxed);
    uint32_t burst = atomic_load_explicit(&m->burst, memory_order_relaxed);
    if (t == 0)
        return __builtin_inf();
    if (tat <= now)
        return burst;
    double debt = (double)((uint64_t)tat - (uint64_t)now);
    return (double)burst - debt / (double)t;
}

/* One reservation attempt loop shared by reserve, take_ex and wait: consume
 * n tokens at `now` unless the ready time would be after `latest` or the
 * new TAT past INT64_MAX (then EAGAIN and nothing consumed). Fills *r. */
static int reserve(void *bucket, uint32_t n, int64_t now, int64_t latest,
                   lfp_bucket_reservation *r)
{
    lfp_bucket *b = bucket;
    if (!b || !r)
        return EINVAL;
    /* acquire: as in lfp_bucket_take_at (pairs with the release in change()). */
    int64_t old = atomic_load_explicit(&b->tat, memory_order_acquire);
    for (;;) {
        if (old == LFP_BUCKET_CHANGING_) {   /* a change in progress: wait it out */
            old = wait_for_change(b);
            continue;
        }
        /* relaxed: ordered after the acquire of TAT (lfp_bucket_take_at). */
        int64_t t = atomic_load_explicit(&b->interval, memory_order_relaxed);
        uint32_t burst = atomic_load_explicit(&b->burst, memory_order_relaxed);
        /* relaxed: read after TAT's acquire; a later value makes the CAS fail. */
        uint32_t gen = atomic_load_explicit(&b->gen_, memory_order_relaxed);
        if (n != 0 && t == 0) {          /* unlimited: at once, nothing consumed */
            *r = (lfp_bucket_reservation){ now, 0, 0, n, gen };
            return 0;
        }
        if (n == 0 || n > burst)
            return EINVAL;
        int64_t cost = (int64_t)n * t, full = (int64_t)burst * t;   /* <= 2^62 */
        int64_t base = old > now ? old : now;
        if (base >= INT64_MAX - cost)
            return EAGAIN;               /* would end past the time line */
        int64_t next = base + cost;
        /* Ready when the bucket's depth after this take fits the burst:
         * next - ready <= burst * T. */
        int64_t ready = lfp_rl_sat_add_(next, -full);
        if (ready < now)
            ready = now;
        if (ready > latest)
            return EAGAIN;
        /* acquire on failure: as the load above; on success only because
         * C11 wants it no weaker than the failure order (publishes nothing). */
        if (atomic_compare_exchange_weak_explicit(&b->tat, &old, next,
                                                  memory_order_acquire, memory_order_acquire)) {
            r->ready = ready;
            r->end_ = next;
            r->start_ = base;
            r->n_ = n;
            r->gen_ = gen;
            return 0;
        }
    }
}

int lfp_bucket_reserve_at(lfp_bucket *b, uint32_t n, int64_t now, int64_t *ready_at)
{
    lfp_bucket_reservation r;
    if (!ready_at)
        return EINVAL;
    int rc = lfp_bucket_reserve_ex_at(b, n, now, &r);
    if (rc == 0)
        *ready_at = r.ready;
    return rc;
}

/* A counted call's result (b is valid unless rc is EINVAL). */
static int counted(lfp_bucket *b, int rc)
{
    if (rc != EINVAL)
        lfp_rl_note_(&b->stats_, rc);
    return rc;
}

int lfp_bucket_reserve_ex_at(lfp_bucket *b, uint32_t n, int64_t now, lfp_bucket_reservation *r)
{
    return counted(b, reserve(b, n, now, LFP_FOREVER, r));
}

int lfp_bucket_take_ex_at_(lfp_bucket *b, uint32_t n, int64_t now, lfp_bucket_reservation *r)
{
    return reserve(b, n, now, now, r);
}

int lfp_bucket_take_ex_at(lfp_bucket *b, uint32_t n, int64_t now, lfp_bucket_reservation *r)
{
    return counted(b, reserve(b, n, now, now, r));
}

/* The give-back rule and why it never over-admits. Give every consumed
 * token the slot (end - T, end] of the TAT line that its CAS claimed. Slots
 * are disjoint (each CAS claims [base, base + n*T) with base >= TAT), and a
 * token that acts at time a has its slot within [a, a + burst*T] (a =
 * max(now, end - burst*T) and base >= now). So the tokens acting in an
 * interval [t1, t2] have disjoint slots of length T inside [t1, t2 +
 * burst*T]: at most burst + (t2 - t1)/T of them — the bound. Invariant
 * kept: TAT >= the end of every live (not given back) slot. Giving back r
 * with TAT == r.end moves TAT to r.start: every other live slot ends at or
 * before r.start (none can lie above r.end since TAT bounds them, and none
 * overlaps r's), so the invariant holds and newcomers' slots, which start at
 * >= TAT, stay disjoint from every live one. With TAT != r.end some later
 * CAS moved TAT (a stacked take or reservation, possibly a re-base at a
 * later `now`): restoring would overlap a live slot (the A/B/C case), so
 * nothing is restored. TAT == r.end can recur (a later reservation given
 * back moves TAT back to exactly r.end); the rule is still right then, since
 * it depends only on the invariant, not on history (no ABA hazard). */
static int give_back(void *bucket, lfp_bucket_reservation *r)
{
    lfp_bucket *b = bucket;
    if (!b || !r || r->n_ == 0)
        return EINVAL;
    r->n_ = 0;
    if (r->end_ == r->start_)
        return 0;                  /* unlimited: nothing was consumed */
    /* acquire: pairs with the release store of TAT in change(): if TAT is
     * (or follows) a value a change wrote, the gen_ load below sees that
     * change's increment. */
    int64_t expect = atomic_load_explicit(&b->tat, memory_order_acquire);
    if (expect != r->end_)
        return EAGAIN;
    /* A change since the receipt rescaled TAT: its values mean nothing now.
     * relaxed: ordered after the acquire above. (A change between here and
     * the CAS leaves TAT at CHANGING or a new value: the CAS then fails
     * unless the new TAT equals r's end to the ns; see the header.) */
    if (atomic_load_explicit(&b->gen_, memory_order_relaxed) != r->gen_)
        return EAGAIN;
    /* relaxed: limiters publish nothing; the CAS is atomic on the word. */
    return atomic_compare_exchange_strong_explicit(&b->tat, &expect, r->start_,
                                                   memory_order_relaxed, memory_order_relaxed)
               ? 0 : EAGAIN;
}

int lfp_bucket_give_back(lfp_bucket *b, lfp_bucket_reservation *r)
{
    return give_back(b, r);
}

static const lfp_rl_waiter_ waiter = { reserve, give_back };

int lfp_bucket_wait_at(lfp_bucket *b, uint32_t n, int64_t now, int64_t deadline,
                       lfp_cancel *cancel)
{
    bool slept;
    int rc = lfp_rl_wait_(&waiter, b, n, now, deadline, cancel, &slept);
    if (rc != EINVAL)
        lfp_rl_note_wait_(&b->stats_, rc, slept);
    return rc;
}

int lfp_bucket_wait(lfp_bucket *b, uint32_t n, int64_t deadline, lfp_cancel *cancel)
{
    return lfp_bucket_wait_at(b, n, lfp_now(), deadline, cancel);
}

/* ------------------------------------------------------------ ready time (lfp_limit_all_wait) */

bool lfp_bucket_valid_n_(const lfp_bucket *b, uint32_t n)
{
    lfp_bucket *m = (lfp_bucket *)b;
    /* relaxed: parameter reads; the take re-checks them. */
    return n != 0 && (n <= atomic_load_explicit(&m->burst, memory_order_relaxed) ||
                      atomic_load_explicit(&m->interval, memory_order_relaxed) == 0);
}

/* A take of n is admitted from max(TAT, now) - (burst - n) * T on (the
 * admission rule of lfp_bucket_take_at solved for now); INT64_MAX when
 * never (n > burst, or its TAT would pass the time line's end). */
static int64_t ready_from(int64_t tat, int64_t t, uint32_t burst, uint32_t n, int64_t now)
{
    if (t == 0)
        return now;
    if (n > burst)
        return INT64_MAX;
    int64_t base = tat > now ? tat : now, cost = (int64_t)n * t;
    uint64_t slack = (uint64_t)(burst - n) * (uint64_t)t;   /* <= 2^62 */
    if (base >= INT64_MAX - cost)
        return INT64_MAX;
    if ((uint64_t)base - (uint64_t)now <= slack)
        return now;
    return base - (int64_t)slack;   /* > now: no overflow */
}

/* TAT (acquire: pairs with the release in change(), as in
 * lfp_bucket_take_at) and the parameters read after it. */
static int64_t load(const lfp_bucket *b, int64_t *t, uint32_t *burst)
{
    lfp_bucket *m = (lfp_bucket *)b;
    int64_t tat = atomic_load_explicit(&m->tat, memory_order_acquire);
    /* relaxed: ordered after the acquire of TAT (lfp_bucket_take_at). */
    *t = atomic_load_explicit(&m->interval, memory_order_relaxed);
    *burst = atomic_load_explicit(&m->burst, memory_order_relaxed);
    return tat;
}

/* `now` during a change (the retry waits it out). */
int64_t lfp_bucket_ready_at_(const lfp_bucket *b, uint32_t n, int64_t now)
{
    int64_t t;
    uint32_t burst;
    int64_t tat = load(b, &t, &burst);
    return tat == LFP_BUCKET_CHANGING_ ? now : ready_from(tat, t, burst, n, now);
}

/* ------------------------------------------------------------ result (redis-cell style) */

/* The result for TAT `tat` at `now`, after a call that took n (rc 0) or
 * was refused (EAGAIN), n == 0 for a peek. With debt D = max(TAT, now) -
 * now: a take of m is admitted iff D <= (burst - m) * T, i.e. m <=
 * floor((burst * T - D) / T), the exact remaining count. */
static void result_of(int64_t tat, int64_t t, uint32_t burst, uint32_t n, int rc, int64_t now,
                      struct lfp_rl_result *res)
{
    if (t == 0 || tat == LFP_BUCKET_CHANGING_) {   /* unlimited; or changing: retry at once */
        *res = (struct lfp_rl_result){ burst, t == 0 ? INT64_MAX : 0, 0, 0 };
        return;
    }
    res->limit = burst;
    int64_t d = lfp_rl_until_(now, tat);
    lfp_i128_ full = (lfp_i128_)burst * t;
    res->remaining = d >= full ? 0 : (int64_t)((full - d) / t);
    res->reset_ns = d;
    res->retry_after_ns = rc == 0 && n != 0 ? 0
                        : lfp_rl_retry_after_(now, ready_from(tat, t, burst, n ? n : 1, now));
}

int lfp_bucket_take_result_at(lfp_bucket *b, uint32_t n, int64_t now, struct lfp_rl_result *res)
{
    if (!b || !res)
        return EINVAL;
    lfp_bucket_reservation r = { 0, 0, 0, 0, 0 };
    int rc = n ? counted(b, reserve(b, n, now, now, &r)) : 0;
    if (rc == EINVAL)
        return rc;
    int64_t t;
    uint32_t burst;
    int64_t tat = load(b, &t, &burst);
    if (rc == 0 && n != 0)
        tat = r.end_;   /* the TAT this take's CAS wrote (later takes not counted) */
    result_of(tat, t, burst, n, rc, now, res);
    return rc;
}

int lfp_bucket_take_result(lfp_bucket *b, uint32_t n, struct lfp_rl_result *res)
{
    return lfp_bucket_take_result_at(b, n, lfp_rl_now_(), res);
}
