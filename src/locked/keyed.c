/* SPDX-License-Identifier: BSD-2-Clause */
/* lfp_locked_keyed: one mutex around an open-addressing map of GCRA
 * buckets, with lfp_keyed's geometry, window and eviction rule. */
#include "lfpat/locked/keyed.h"

#include "../hugemem.h"
#include "../keyed_internal.h"
#include "../ratelimit_internal.h"

#include <stdlib.h>

int lfp_locked_keyed_init(lfp_locked_keyed *k, size_t capacity, double rate_per_s, uint32_t burst)
{
    uint64_t n;
    int64_t t;
    if (!k || lfp_keyed_params_(capacity, rate_per_s, burst, &n, &t) != 0)
        return EINVAL;
    k->slots = lfp_hugemem_alloc_(n * sizeof *k->slots);   /* on huge pages, as lfp_keyed's */
    if (!k->slots)
        return ENOMEM;
    for (uint64_t i = 0; i < n; i++)
        k->slots[i] = (lfp_locked_keyed_slot_){ .key = 0, .tat = LFP_KEYED_EMPTY_, .gen = 0 };
    k->mask = n - 1;
    lfp_keyed_seed_(k->seed);
    k->interval = t;
    k->burst = burst;
    k->probe = n < LFP_KEYED_PROBE ? (uint32_t)n : LFP_KEYED_PROBE;
    k->horizon = INT64_MIN;
    k->stats = (struct lfp_rl_stats){ 0, 0, 0, 0, 0 };
    return pthread_mutex_init(&k->lock, NULL);
}

void lfp_locked_keyed_destroy(lfp_locked_keyed *k)
{
    if (!k || !k->slots)
        return;
    pthread_mutex_destroy(&k->lock);
    lfp_hugemem_free_(k->slots, (k->mask + 1) * sizeof *k->slots);
    k->slots = NULL;
}

/* Under the lock: key's slot, else the first empty-or-idle slot of its
 * window (where it is inserted), else NULL. *found says which. */
static lfp_locked_keyed_slot_ *lookup(lfp_locked_keyed *k, uint64_t key, int64_t now, bool *found)
{
    uint64_t home = lfp_keyed_mix_(k->seed, key);
    lfp_locked_keyed_slot_ *spare = NULL;
    *found = false;
    for (uint32_t d = 0; d < k->probe; d++) {
        lfp_locked_keyed_slot_ *s = &k->slots[(home + d) & k->mask];
        bool empty = s->tat == LFP_KEYED_EMPTY_;
        if (!empty && s->key == key) {
            *found = true;
            return s;
        }
        if (!spare && (empty || s->tat < now))   /* idle: lfp_keyed's rule */
            spare = s;
        if (empty)
            break;
    }
    return spare;
}

/* A take (latest == now) or a reservation of n for key: fills *r and the
 * slot's index and tenure (for a give-back). */
static int consume(lfp_locked_keyed *k, uint64_t key, uint32_t n, int64_t now, int64_t latest,
                   lfp_bucket_reservation *r, uint64_t *where, uint64_t *gen, bool count)
{
    if (!k || n == 0 || n > k->burst)
        return EINVAL;
    pthread_mutex_lock(&k->lock);
    bool found;
    lfp_locked_keyed_slot_ *s = lookup(k, key, now, &found);
    /* a new key starts at the horizon (lfpat/keyed.h) */
    int rc = !s ? ENOSPC
                : lfp_keyed_gcra_(found ? s->tat : k->horizon, n, now, latest, k->interval,
                                  k->burst, r);
    if (rc == 0 && !found) {
        if (s->tat != LFP_KEYED_EMPTY_ && s->tat > k->horizon)
            k->horizon = s->tat;   /* evicting an idle key */
        s->key = key;
        s->gen++;
    }
    if (rc == 0) {
        s->tat = r->end_;
        *where = (uint64_t)(s - k->slots);
        *gen = s->gen;
    }
    if (count)   /* a take (a wait counts once, by its result) */
        lfp_rl_tally_(&k->stats, rc == ENOSPC ? EAGAIN : rc);
    pthread_mutex_unlock(&k->lock);
    return rc;
}

int lfp_locked_keyed_take_at(lfp_locked_keyed *k, uint64_t key, uint32_t n, int64_t now)
{
    lfp_bucket_reservation r;
    uint64_t where, gen;
    return consume(k, key, n, now, now, &r, &where, &gen, true);
}

typedef struct locked_wait {
    lfp_locked_keyed *k;
    uint64_t key, where, gen;
} locked_wait;

static int wait_reserve(void *b, uint32_t n, int64_t now, int64_t latest, lfp_bucket_reservation *r)
{
    locked_wait *w = b;
    return consume(w->k, w->key, n, now, latest, r, &w->where, &w->gen, false);
}

/* lfp_bucket_give_back's rule: restore only if the reservation is still
 * the newest consumption of the same tenure of its slot. */
static int wait_give_back(void *b, lfp_bucket_reservation *r)
{
    locked_wait *w = b;
    if (r->n_ == 0)
        return EINVAL;
    r->n_ = 0;
    pthread_mutex_lock(&w->k->lock);
    lfp_locked_keyed_slot_ *s = &w->k->slots[w->where];
    int rc = s->key == w->key && s->gen == w->gen && s->tat == r->end_ ? 0 : EAGAIN;
    if (rc == 0)
        s->tat = r->start_;
    pthread_mutex_unlock(&w->k->lock);
    return rc;
}

static const lfp_rl_waiter_ locked_waiter = { wait_reserve, wait_give_back };

int lfp_locked_keyed_wait_at(lfp_locked_keyed *k, uint64_t key, uint32_t n, int64_t now,
                             int64_t deadline, lfp_cancel *cancel)
{
    if (!k)
        return EINVAL;
    locked_wait w = { .k = k, .key = key };
    bool slept;
    int rc = lfp_rl_wait_(&locked_waiter, &w, n, now, deadline, cancel, &slept);
    if (rc != EINVAL) {
        pthread_mutex_lock(&k->lock);
        if (rc == ENOSPC)
            lfp_rl_tally_(&k->stats, EAGAIN);   /* a full table denies */
        else
            lfp_rl_tally_wait_(&k->stats, rc, slept);
        pthread_mutex_unlock(&k->lock);
    }
    return rc;
}

int lfp_locked_keyed_stats(lfp_locked_keyed *k, struct lfp_rl_stats *out)
{
    if (!k || !out)
        return EINVAL;
    pthread_mutex_lock(&k->lock);
    *out = k->stats;
    pthread_mutex_unlock(&k->lock);
    return 0;
}

int lfp_locked_keyed_wait(lfp_locked_keyed *k, uint64_t key, uint32_t n, int64_t deadline,
                          lfp_cancel *cancel)
{
    return lfp_locked_keyed_wait_at(k, key, n, lfp_now(), deadline, cancel);
}

int lfp_locked_keyed_take(lfp_locked_keyed *k, uint64_t key, uint32_t n)
{
    return lfp_locked_keyed_take_at(k, key, n, lfp_now());
}

uint64_t lfp_locked_keyed_hash(const lfp_locked_keyed *k, const void *key, size_t len)
{
    if (!k || (!key && len > 0))
        return 0;
    return lfp_keyed_siphash_(k->seed, key, len);
}

int lfp_locked_keyed_take_bytes_at(lfp_locked_keyed *k, const void *key, size_t len, uint32_t n,
                                   int64_t now)
{
    if (!k || (!key && len > 0))
        return EINVAL;
    return lfp_locked_keyed_take_at(k, lfp_keyed_siphash_(k->seed, key, len), n, now);
}

int lfp_locked_keyed_take_bytes(lfp_locked_keyed *k, const void *key, size_t len, uint32_t n)
{
    return lfp_locked_keyed_take_bytes_at(k, key, len, n, lfp_now());
}

size_t lfp_locked_keyed_busy_at(lfp_locked_keyed *k, int64_t now)
{
    if (!k)
        return 0;
    size_t busy = 0;
    pthread_mutex_lock(&k->lock);
    for (uint64_t i = 0; i <= k->mask; i++)
        busy += k->slots[i].tat > now && k->slots[i].tat != LFP_KEYED_EMPTY_;
    pthread_mutex_unlock(&k->lock);
    return busy;
}
