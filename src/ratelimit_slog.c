/* SPDX-License-Identifier: BSD-2-Clause */
/* Exact sliding log (lock-free ring of admission times) and rolling sum.
 * The algorithms' arguments are in lfpat/ratelimit.h. */
#include "park.h"
#include "ratelimit_internal.h"

#include <stdlib.h>

/* ------------------------------------------------------------ sliding log */

int lfp_slog_init(lfp_slog *w, uint32_t limit, int64_t window_ns)
{
    if (!w || limit == 0 || limit > LFP_SLOG_MAX_LIMIT || window_ns <= 0)
        return EINVAL;
    _Atomic int64_t *ring = malloc((size_t)limit * sizeof *ring);
    if (!ring)
        return ENOMEM;
    for (uint32_t i = 0; i < limit; i++)
        atomic_init(&ring[i], INT64_MIN);   /* never written: expired for any now */
    atomic_init(&w->head, 0);
    w->ring = ring;
    w->limit = limit;
    w->window = window_ns;
    atomic_init(&w->stats_, NULL);
    return 0;
}

void lfp_slog_destroy(lfp_slog *w)
{
    if (!w)
        return;
    free((void *)w->ring);
    w->ring = NULL;
    lfp_rl_stats_free_(&w->stats_);
}

int lfp_slog_stats_enable(lfp_slog *w)
{
    return w ? lfp_rl_stats_enable_(&w->stats_) : EINVAL;
}

int lfp_slog_stats(const lfp_slog *w, struct lfp_rl_stats *out)
{
    return w && out ? lfp_rl_stats_read_(&w->stats_, out) : EINVAL;
}

/* Ring positions: slot index i lives at i % limit. A take computes that
 * once and steps with wrap (next_pos): a 64-bit division per slot visited
 * was a large part of a take's cost. */
static uint32_t next_pos(const lfp_slog *w, uint32_t pos)
{
    return pos + 1 == w->limit ? 0 : pos + 1;
}

/* Are the n slots from position p all expired at `cut` (= now - W)? */
static bool all_expired(const lfp_slog *w, uint32_t p, uint32_t n, int64_t cut)
{
    for (uint32_t i = 0; i < n; i++, p = next_pos(w, p))
        /* relaxed: one value decides; the later CAS on the same slot
         * re-checks it (per-location coherence is all exactness needs). */
        if (atomic_load_explicit(&w->ring[p], memory_order_relaxed) > cut)
            return false;
    return true;
}

/* Release the n slots from position p that still hold `now` (taken by this
 * caller): set them to cut = now - W, so the next time they take is >= now,
 * exactly as if this caller's entry were still there but nobody is counted. */
static void release(const lfp_slog *w, uint32_t p, uint32_t n, int64_t now, int64_t cut)
{
    for (uint32_t i = 0; i < n; i++, p = next_pos(w, p)) {
        int64_t t = now;
        /* relaxed: a value-only decision, as in all_expired. */
        atomic_compare_exchange_strong_explicit(&w->ring[p], &t, cut, memory_order_relaxed,
                                                memory_order_relaxed);
    }
}

/* CAS the n slots from position p from their expired values to now; on a
 * lost slot release those taken and return false. */
static bool take_slots(const lfp_slog *w, uint32_t p, uint32_t n, int64_t now, int64_t cut)
{
    uint32_t first = p;
    for (uint32_t i = 0; i < n; i++, p = next_pos(w, p)) {
        _Atomic int64_t *s = &w->ring[p];
        /* relaxed: a value-only decision, as in all_expired. */
        int64_t t = atomic_load_explicit(s, memory_order_relaxed);
        if (t > cut || !atomic_compare_exchange_strong_explicit(s, &t, now, memory_order_relaxed,
                                                                memory_order_relaxed)) {
            release(w, first, i, now, cut);
            return false;
        }
    }
    return true;
}

/* Contention on head: after a lost CAS, pause 1, 2, 4 ... 64 times before
 * the next attempt (a CPU hint only: no yield, no wait for any thread).
 * Without it two cores that both keep taking lose the head line to each
 * other on every take, while the mutex twin serialises them and lets one
 * run alone for a while; with it the winner keeps the line for a few takes. */
#define SLOG_BACKOFF_MAX 64u
static unsigned slog_backoff(unsigned pauses)
{
    for (unsigned i = 0; i < pauses; i++)
        lfp_spin_pause(0);
    return pauses < SLOG_BACKOFF_MAX ? 2 * pauses : SLOG_BACKOFF_MAX;
}

/* The time an admission at `now` is recorded (and judged) at. INT64_MIN
 * marks a never-written slot, and the cut now - W saturates there, so an
 * admission at INT64_MIN itself would read as expired at INT64_MIN and
 * every take at that instant would be admitted. It is recorded at
 * INT64_MIN + 1 instead, which changes no decision (the cut of INT64_MIN +
 * 1 is INT64_MIN as well, for any W >= 1) and keeps the entry 1 ns longer
 * than the admission needs: refusing for 1 ns more, never admitting more. */
static int64_t slog_time(int64_t now)
{
    return now == INT64_MIN ? INT64_MIN + 1 : now;
}

int lfp_slog_take_claim_(lfp_slog *w, uint32_t n, int64_t now, uint64_t *first)
{
    if (!w || n == 0 || n > w->limit)
        return EINVAL;
    now = slog_time(now);
    int64_t cut = lfp_rl_sat_add_(now, -w->window);
    /* relaxed: head is a hint for where the oldest slots are; it publishes
     * nothing (the slots' CASes decide). */
    uint64_t h = atomic_load_explicit(&w->head, memory_order_relaxed);
    for (unsigned backoff = 1;;) {
        uint32_t p = (uint32_t)(h % w->limit);
        if (!all_expired(w, p, n, cut)) {
            /* Final only if head did not move meanwhile: then the slots read
             * were the next to be claimed (the oldest, for in-order
             * timestamps) while they were read, as head only grows. If it
             * moved, others claimed them (possibly a whole lap): look again
             * at the new head. relaxed: as above. */
            uint64_t now_h = atomic_load_explicit(&w->head, memory_order_relaxed);
            if (now_h == h)
                return EAGAIN;
            h = now_h;
            continue;
        }
        /* relaxed: reserves slot indices only, as above. */
        if (!atomic_compare_exchange_weak_explicit(&w->head, &h, h + n, memory_order_relaxed,
                                                   memory_order_relaxed)) {
            backoff = slog_backoff(backoff);
            continue;
        }
        if (take_slots(w, p, n, now, cut)) {
            *first = h;
            return 0;
        }
        /* Lapped by a faster taker: start over from the current head. */
        h = atomic_load_explicit(&w->head, memory_order_relaxed);   /* relaxed: as above */
    }
}

int lfp_slog_take_at(lfp_slog *w, uint32_t n, int64_t now)
{
    uint64_t first;
    int rc = lfp_slog_take_claim_(w, n, now, &first);   /* uncounted */
    if (rc != EINVAL)
        lfp_rl_note_(&w->stats_, rc);
    return rc;
}

int lfp_slog_take(lfp_slog *w, uint32_t n)
{
    return lfp_slog_take_at(w, n, lfp_rl_now_());
}

void lfp_slog_give_back_(lfp_slog *w, uint32_t n, int64_t now, uint64_t first)
{
    now = slog_time(now);   /* the value take_claim_ stored */
    release(w, (uint32_t)(first % w->limit), n, now, lfp_rl_sat_add_(now, -w->window));
    /* If nobody claimed since, move the hint back so that the released
     * slots are reused at once (else when the ring comes round to them).
     * relaxed: a hint, as in lfp_slog_take_claim_. */
    uint64_t h = first + n;
    atomic_compare_exchange_strong_explicit(&w->head, &h, first, memory_order_relaxed,
                                            memory_order_relaxed);
}

uint32_t lfp_slog_count_at(const lfp_slog *w, int64_t now)
{
    uint32_t count = 0;
    now = slog_time(now);   /* counts admissions made at INT64_MIN */
    int64_t cut = lfp_rl_sat_add_(now, -w->window);
    for (uint32_t i = 0; i < w->limit; i++) {
        /* relaxed: a snapshot of each slot; orders nothing. */
        int64_t t = atomic_load_explicit(&w->ring[i], memory_order_relaxed);
        count += t > cut && t <= now;
    }
    return count;
}

/* ------------------------------------------------------------ rolling sum */

#define RL_LAP_BITS 24
#define RL_LAP_MASK ((UINT64_C(1) << RL_LAP_BITS) - 1)
#define RL_VAL_BITS 40
#define RL_VAL_MASK ((UINT64_C(1) << RL_VAL_BITS) - 1)

static uint64_t rl_pack(uint64_t lap, int64_t v)
{
    return (lap & RL_LAP_MASK) << RL_VAL_BITS | ((uint64_t)v & RL_VAL_MASK);
}

/* An empty slot: the value -2^39, outside the value range. */
#define RL_EMPTY (UINT64_C(1) << (RL_VAL_BITS - 1))

static uint64_t rl_lap(uint64_t word) { return word >> RL_VAL_BITS; }

static int64_t rl_value(uint64_t word)
{
    uint64_t v = word & RL_VAL_MASK;   /* sign-extend 40 bits */
    return (int64_t)(v ^ (UINT64_C(1) << (RL_VAL_BITS - 1))) - (INT64_C(1) << (RL_VAL_BITS - 1));
}

int lfp_rolling_init(lfp_rolling *r, unsigned buckets, int64_t bucket_ns)
{
    if (!r || buckets == 0 || buckets > LFP_ROLLING_MAX_BUCKETS || bucket_ns <= 0)
        return EINVAL;
    _Atomic uint64_t *slots = malloc(buckets * sizeof *slots);
    if (!slots)
        return ENOMEM;
    for (unsigned i = 0; i < buckets; i++)
        atomic_init(&slots[i], RL_EMPTY);
    r->slots = slots;
    r->buckets = buckets;
    r->bucket_ns = bucket_ns;
    return 0;
}

void lfp_rolling_destroy(lfp_rolling *r)
{
    if (!r)
        return;
    free((void *)r->slots);
    r->slots = NULL;
}

/* Bucket number k's slot and lap. */
static void rl_locate_k(const lfp_rolling *r, int64_t k, unsigned *slot, uint64_t *lap)
{
    int64_t q = lfp_rl_floor_div_(k, (int64_t)r->buckets);
    *slot = (unsigned)(k - q * (int64_t)r->buckets);
    *lap = (uint64_t)q & RL_LAP_MASK;
}

/* Bucket number k of `now`, its slot and its lap. */
static void rl_locate(const lfp_rolling *r, int64_t now, unsigned *slot, uint64_t *lap)
{
    rl_locate_k(r, lfp_rl_floor_div_(now, r->bucket_ns), slot, lap);
}

int lfp_rolling_add_at(lfp_rolling *r, int64_t v, int64_t now)
{
    if (!r)
        return EINVAL;
    unsigned i;
    uint64_t lap;
    rl_locate(r, now, &i, &lap);
    /* relaxed: a metric orders nothing; the CAS makes the update atomic. */
    uint64_t old = atomic_load_explicit(&r->slots[i], memory_order_relaxed);
    for (;;) {
        uint64_t ahead = (rl_lap(old) - lap) & RL_LAP_MASK;
        int64_t cur = rl_value(old);
        if (old == RL_EMPTY) {
            cur = 0;                   /* never used: this bucket starts here */
        } else if (ahead != 0 && ahead <= LFP_ROLLING_LATE_LAPS) {
            return 0;                  /* the slot holds a later lap: v is out of range */
        } else if (ahead != 0) {
            cur = 0;                   /* stale lap: this bucket starts afresh */
        }
        if ((v > 0 && cur > LFP_ROLLING_VALUE_MAX - v) ||
            (v < 0 && cur < -LFP_ROLLING_VALUE_MAX - v))
            return EOVERFLOW;
        /* relaxed: as above. */
        if (atomic_compare_exchange_weak_explicit(&r->slots[i], &old, rl_pack(lap, cur + v),
                                                  memory_order_relaxed, memory_order_relaxed))
            return 0;
    }
}

int lfp_rolling_add(lfp_rolling *r, int64_t v)
{
    return lfp_rolling_add_at(r, v, lfp_now());
}

int64_t lfp_rolling_sum_at(lfp_rolling *r, int64_t now)
{
    int64_t sum = 0;
    /* Step bucket numbers, not times: near INT64_MIN a time step would
     * saturate and count the first bucket of the time line again. Buckets
     * before that first one do not exist. */
    int64_t k = lfp_rl_floor_div_(now, r->bucket_ns);
    int64_t first = lfp_rl_floor_div_(INT64_MIN, r->bucket_ns);
    uint64_t before = (uint64_t)k - (uint64_t)first;   /* buckets before k: no overflow */
    for (unsigned j = 0; j < r->buckets && j <= before; j++) {
        unsigned i;
        uint64_t lap;
        rl_locate_k(r, k - (int64_t)j, &i, &lap);
        /* relaxed: see "Sum consistency" in the header. */
        uint64_t word = atomic_load_explicit(&r->slots[i], memory_order_relaxed);
        if (word != RL_EMPTY && rl_lap(word) == lap)
            sum += rl_value(word);
    }
    return sum;
}

int64_t lfp_rolling_sum(lfp_rolling *r)
{
    return lfp_rolling_sum_at(r, lfp_now());
}

/* ------------------------------------------------------------ sliding log: ready time */

/* An in-order take of n needs the n slots from head expired: the newest of
 * them plus W (a snapshot: the take re-checks). */
int64_t lfp_slog_ready_at_(const lfp_slog *w, uint32_t n, int64_t now)
{
    /* relaxed: a hint, as in lfp_slog_take_claim_. */
    uint64_t h = atomic_load_explicit(&w->head, memory_order_relaxed);
    int64_t newest = INT64_MIN;
    uint32_t p = (uint32_t)(h % w->limit);
    for (uint32_t i = 0; i < n; i++, p = next_pos(w, p)) {
        /* relaxed: a snapshot of each slot, as in all_expired. */
        int64_t t = atomic_load_explicit(&w->ring[p], memory_order_relaxed);
        newest = t > newest ? t : newest;
    }
    int64_t at = lfp_time_add(newest, w->window);
    return at > now ? at : now;
}
