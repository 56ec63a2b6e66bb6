/* SPDX-License-Identifier: BSD-2-Clause */
/* keyed_internal.h — internal: what lfp_keyed and its twin lfp_locked_keyed
 * share (sizing, seeds, key placement, SipHash-1-3, the per-key GCRA step),
 * so that the two tables decide alike. */
#ifndef LFP_SRC_KEYED_INTERNAL_H
#define LFP_SRC_KEYED_INTERNAL_H

#include "lfpat/keyed.h"

/* TAT marks. A real TAT stays below LFP_KEYED_EVICTING_ (a take whose new
 * TAT would reach it is refused), so the marks never look like a time. */
#define LFP_KEYED_EMPTY_ INT64_MAX          /* slot never used */
#define LFP_KEYED_EVICTING_ (INT64_MAX - 1) /* slot being claimed by an inserter */

/* The table's geometry and parameters, validated: slots = 2 * capacity
 * rounded up to a power of two; T from the rate as lfp_bucket computes it.
 * Returns 0 or EINVAL. */
int lfp_keyed_params_(size_t capacity, double rate_per_s, uint32_t burst, uint64_t *slots,
                      int64_t *interval);

/* Three random words (getrandom, or the clock and addresses if it fails):
 * the placement mixer's seed and the SipHash key. */
void lfp_keyed_seed_(uint64_t seed[3]);

/* SipHash-1-3 of data[0..len) under the key (seed[0], seed[1]). */
uint64_t lfp_keyed_siphash_(const uint64_t seed[3], const void *data, size_t len);

/* A key's home slot: a seeded 64-bit mixer (murmur3's finaliser of
 * key ^ seed[2]; a bijection, so distinct keys spread like random). */
static inline uint64_t lfp_keyed_mix_(const uint64_t seed[3], uint64_t key)
{
    uint64_t x = key ^ seed[2];
    x ^= x >> 33;
    x *= UINT64_C(0xff51afd7ed558ccd);
    x ^= x >> 33;
    x *= UINT64_C(0xc4ceb9fe1a85ec53);
    x ^= x >> 33;
    return x;
}

/* One GCRA step (lfp_bucket's rule) on a key's TAT `tat` at `now`: consume
 * n tokens if they are ready by `latest` (latest == now: a take, admitted
 * iff max(TAT, now) - now <= (burst - n) * T; later: a reservation whose
 * holder waits until r->ready). Returns 0 and fills r (ready, start_ =
 * max(TAT, now), end_ = the new TAT, n_); EAGAIN if not ready by latest, or
 * if the new TAT would reach the marks above. n <= burst (checked by the
 * caller); burst * T <= LFP_BUCKET_MAX_SPAN (checked at init), so the
 * products fit. */
static inline int lfp_keyed_gcra_(int64_t tat, uint32_t n, int64_t now, int64_t latest, int64_t t,
                                  uint32_t burst, lfp_bucket_reservation *r)
{
    int64_t cost = (int64_t)n * t;
    int64_t base = tat > now ? tat : now;
    if (base >= LFP_KEYED_EVICTING_ - cost)
        return EAGAIN;
    /* ready when the depth after this take fits the burst: next - ready
     * <= burst * T (saturating: near INT64_MIN it is simply "now") */
    int64_t ready = lfp_time_add(base + cost, -(int64_t)burst * t);
    if (ready > latest)
        return EAGAIN;
    r->ready = ready > now ? ready : now;
    r->start_ = base;
    r->end_ = base + cost;
    r->n_ = n;
    return 0;
}

#endif
