/* SPDX-License-Identifier: BSD-2-Clause */
/* Keyed rate limiter: a fixed table of per-key GCRA buckets with lock-free
 * takes on present keys and idle-key eviction. The protocol and its
 * argument are in lfpat/keyed.h. */
#include "hugemem.h"
#include "keyed_internal.h"
#include "park.h"
#include "ratelimit_internal.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

/* ------------------------------------------------------------ shared with the twin */

int lfp_keyed_params_(size_t capacity, double rate_per_s, uint32_t burst, uint64_t *slots,
                      int64_t *interval)
{
    int64_t t = lfp_rl_interval_(rate_per_s);
    if (capacity == 0 || capacity > LFP_KEYED_MAX_CAPACITY || t == 0 || !lfp_rl_span_ok_(burst, t))
        return EINVAL;
    uint64_t n = 2;
    while (n < 2 * (uint64_t)capacity)
        n <<= 1;
    *slots = n;
    *interval = t;
    return 0;
}

void lfp_keyed_seed_(uint64_t seed[3])
{
    if (getrandom(seed, 3 * sizeof seed[0], 0) == (ssize_t)(3 * sizeof seed[0]))
        return;
    /* No entropy source: still differ per table and per run. */
    uint64_t x = (uint64_t)lfp_now() ^ (uint64_t)(uintptr_t)seed;
    for (int i = 0; i < 3; i++) {
        x += UINT64_C(0x9e3779b97f4a7c15);
        seed[i] = lfp_keyed_mix_((const uint64_t[3]){ 0, 0, (uint64_t)i }, x);
    }
}

static uint64_t rotl(uint64_t x, int b) { return x << b | x >> (64 - b); }

static void sip_round(uint64_t v[4])
{
    v[0] += v[1]; v[1] = rotl(v[1], 13); v[1] ^= v[0]; v[0] = rotl(v[0], 32);
    v[2] += v[3]; v[3] = rotl(v[3], 16); v[3] ^= v[2];
    v[0] += v[3]; v[3] = rotl(v[3], 21); v[3] ^= v[0];
    v[2] += v[1]; v[1] = rotl(v[1], 17); v[1] ^= v[2]; v[2] = rotl(v[2], 32);
}

static void sip_absorb(uint64_t v[4], uint64_t m)
{
    v[3] ^= m;
    sip_round(v);   /* c = 1 compression round */
    v[0] ^= m;
}

uint64_t lfp_keyed_siphash_(const uint64_t seed[3], const void *data, size_t len)
{
    const unsigned char *p = data;
    uint64_t v[4] = { seed[0] ^ UINT64_C(0x736f6d6570736575), seed[1] ^ UINT64_C(0x646f72616e646f6d),
                      seed[0] ^ UINT64_C(0x6c7967656e657261), seed[1] ^ UINT64_C(0x7465646279746573) };
    size_t whole = len & ~(size_t)7;
    for (size_t i = 0; i < whole; i += 8) {
        uint64_t m = 0;
        for (int b = 0; b < 8; b++)   /* little-endian, whatever the host */
            m |= (uint64_t)p[i + b] << (8 * b);
        sip_absorb(v, m);
    }
    uint64_t last = (uint64_t)(len & 0xff) << 56;
    for (size_t b = 0; b < (len & 7); b++)
        last |= (uint64_t)p[whole + b] << (8 * b);
    sip_absorb(v, last);
    v[2] ^= 0xff;
    for (int r = 0; r < 3; r++)   /* d = 3 finalisation rounds */
        sip_round(v);
    return v[0] ^ v[1] ^ v[2] ^ v[3];
}

/* ------------------------------------------------------------ lfp_keyed */

/* The table's one allocation: n slots, then n tenures (lfpat/internal/keyed.h). */
static size_t table_bytes(uint64_t n)
{
    return (size_t)n * (sizeof(lfp_keyed_slot_) + sizeof(lfp_keyed_tenure_));
}

static lfp_keyed_tenure_ *tenure_of(const lfp_keyed *k, const lfp_keyed_slot_ *s)
{
    lfp_keyed_tenure_ *tenures = (lfp_keyed_tenure_ *)(k->slots + k->mask + 1);
    return &tenures[s - k->slots];
}

int lfp_keyed_init(lfp_keyed *k, size_t capacity, double rate_per_s, uint32_t burst)
{
    uint64_t n;
    int64_t t;
    if (!k || lfp_keyed_params_(capacity, rate_per_s, burst, &n, &t) != 0)
        return EINVAL;
    lfp_keyed_slot_ *slots = lfp_hugemem_alloc_(table_bytes(n));
    pthread_mutex_t *locks = malloc(LFP_KEYED_STRIPES * sizeof *locks);
    if (!slots || !locks) {
        lfp_hugemem_free_(slots, table_bytes(n));
        free(locks);
        return ENOMEM;
    }
    lfp_keyed_tenure_ *tenures = (lfp_keyed_tenure_ *)(slots + n);
    for (uint64_t i = 0; i < n; i++) {
        atomic_init(&slots[i].tat, LFP_KEYED_EMPTY_);
        atomic_init(&slots[i].key, 0);
        atomic_init(&tenures[i].high, INT64_MIN);
        atomic_init(&tenures[i].gen, 0);
    }
    for (unsigned i = 0; i < LFP_KEYED_STRIPES; i++)
        pthread_mutex_init(&locks[i], NULL);
    k->slots = slots;
    k->locks = locks;
    k->mask = n - 1;
    lfp_keyed_seed_(k->seed);
    k->interval = t;
    k->burst = burst;
    k->probe = n < LFP_KEYED_PROBE ? (uint32_t)n : LFP_KEYED_PROBE;
    atomic_init(&k->settled, 0);
    atomic_init(&k->waiters, 0);
    atomic_init(&k->horizon, INT64_MIN);
    atomic_init(&k->stats_, NULL);
    return 0;
}

void lfp_keyed_destroy(lfp_keyed *k)
{
    if (!k || !k->slots)
        return;
    for (unsigned i = 0; i < LFP_KEYED_STRIPES; i++)
        pthread_mutex_destroy(&k->locks[i]);
    free(k->locks);
    lfp_hugemem_free_(k->slots, table_bytes(k->mask + 1));
    k->slots = NULL;
    k->locks = NULL;
    lfp_rl_stats_free_(&k->stats_);
}

int lfp_keyed_stats_enable(lfp_keyed *k)
{
    return k ? lfp_rl_stats_enable_(&k->stats_) : EINVAL;
}

int lfp_keyed_stats(const lfp_keyed *k, struct lfp_rl_stats *out)
{
    return k && out ? lfp_rl_stats_read_(&k->stats_, out) : EINVAL;
}

#define KEYED_RETRY (-1)   /* the slot no longer holds the key (or is being claimed) */

/* One take or reservation: key, n, the caller's now, and the latest ready
 * time accepted (now for a take). On success r is the receipt and slot
 * says where it was consumed; for a wait's reservation (receipt set) gen
 * is the tenure it was consumed in (for a give-back). */
typedef struct keyed_op {
    uint64_t key;
    uint32_t n;
    bool receipt;
    int64_t now, latest;
    lfp_bucket_reservation r;
    lfp_keyed_slot_ *slot;
    uint32_t gen;
} keyed_op;

/* The take on slot s, which held op->key when the caller probed it: read
 * the TAT, check that the slot is not being claimed and holds the key, then
 * lfp_bucket's GCRA CAS loop on the TAT, re-checking the key after every
 * failed CAS. No pin and no other write: a CAS can only land in the tenure
 * whose key was checked, because no TAT value of a tenure ever reappears
 * in a later one (lfpat/keyed.h, "Concurrency"). Returns 0, EAGAIN or
 * KEYED_RETRY (nothing taken). */
static int slot_take(const lfp_keyed *k, lfp_keyed_slot_ *s, keyed_op *op)
{
    /* acquire: pairs with claim()'s release store of the TAT: the key and
     * tenure read next are those stored with this TAT or later ones. */
    int64_t t = atomic_load_explicit(&s->tat, memory_order_acquire);
    for (;;) {
        /* relaxed: ordered after the acquire load of this t (above, or the
         * CAS failure below). A later tenure's key only makes the take
         * retry or be judged by a TAT below that key's (refused more
         * readily); the CAS itself cannot land outside t's tenure. */
        if (t >= LFP_KEYED_EVICTING_ || atomic_load_explicit(&s->key, memory_order_relaxed) != op->key)
            return KEYED_RETRY;
        if (op->receipt)   /* only then: a take never touches the tenure array */
            op->gen = atomic_load_explicit(&tenure_of(k, s)->gen,
                                           memory_order_relaxed);   /* relaxed: as the key */
        op->slot = s;
        int rc = lfp_keyed_gcra_(t, op->n, op->now, op->latest, k->interval, k->burst, &op->r);
        /* acquire on failure: the key re-read above belongs to the TAT
         * read here; on success only because C11 wants it no weaker than
         * the failure order (the CAS is the admission, atomic on this word,
         * and limiters publish nothing). */
        if (rc != 0 || atomic_compare_exchange_weak_explicit(&s->tat, &t, op->r.end_,
                                                             memory_order_acquire,
                                                             memory_order_acquire))
            return rc;
    }
}

/* A claimed slot settled (restored or given its new key): wake whoever
 * parked waiting for it. */
static void settle(lfp_keyed *k)
{
    /* seq_cst: the store-load pattern with wait_settled (bump, then read
     * the waiters, against count in, then re-read the TAT). */
    atomic_fetch_add_explicit(&k->settled, 1, memory_order_seq_cst);
    if (atomic_load_explicit(&k->waiters, memory_order_seq_cst) != 0)
        lfp_park_wake(&k->settled, INT_MAX);
}

/* Wait until slot s is no longer being claimed; returns its TAT. Spins
 * briefly (a claim lasts a few instructions), then parks on `settled`,
 * which every claim bumps and wakes when it ends. */
static int64_t wait_settled(lfp_keyed *k, lfp_keyed_slot_ *s)
{
    for (unsigned spin = 0; spin < 32; spin++) {   /* pauses only (lfp_spin_pause) */
        int64_t t = atomic_load_explicit(&s->tat, memory_order_seq_cst);   /* seq_cst: see below */
        if (t != LFP_KEYED_EVICTING_)
            return t;
        lfp_spin_pause(spin);
    }
    for (;;) {
        /* seq_cst: read the counter before counting in and re-checking:
         * a settle after this read changes it, so the park returns. */
        uint32_t seen = atomic_load_explicit(&k->settled, memory_order_seq_cst);
        atomic_fetch_add_explicit(&k->waiters, 1, memory_order_seq_cst);
        int64_t t = atomic_load_explicit(&s->tat, memory_order_seq_cst);
        if (t == LFP_KEYED_EVICTING_)
            lfp_park_wait(&k->settled, seen, LFP_FOREVER);
        atomic_fetch_sub_explicit(&k->waiters, 1, memory_order_seq_cst);
        if (t != LFP_KEYED_EVICTING_)
            return t;
    }
}

/* Fold an evicted TAT into the horizon (an atomic max). */
static void raise_horizon(lfp_keyed *k, int64_t t)
{
    /* relaxed: published with the slot by claim()'s release store of the
     * TAT, which the inserter of the evicted key reads (find_take probes
     * every slot of the key's window) before it reads the horizon. */
    int64_t h = atomic_load_explicit(&k->horizon, memory_order_relaxed);
    while (h < t && !atomic_compare_exchange_weak_explicit(&k->horizon, &h, t, memory_order_relaxed,
                                                           memory_order_relaxed))
        ;
}

/* Claim slot s (TAT `t`: empty, or below `now`) for `key`, whose first
 * take makes the TAT `first` (>= now). Fails (false, the slot unchanged)
 * if the TAT moved, or if a give-back of the old key lowered the TAT from
 * a value at or after `now` (the slot's high mark): a taker of the old key
 * may still expect that value, so the new tenure, whose TAT values are all
 * >= now, could reach it. Under key's stripe lock. */
static bool claim(lfp_keyed *k, lfp_keyed_slot_ *s, int64_t t, uint64_t key, int64_t first,
                  int64_t now)
{
    /* acquire: reads the last write of the TAT or a later RMW of it (a
     * release sequence): every give-back's high-mark raise, made before its
     * lowering CAS (release), is visible below. seq_cst: the store half of
     * wait_settled's pattern is the store at the end. */
    if (!atomic_compare_exchange_strong_explicit(&s->tat, &t, LFP_KEYED_EVICTING_,
                                                 memory_order_seq_cst, memory_order_relaxed))
        return false;
    lfp_keyed_tenure_ *ten = tenure_of(k, s);
    /* relaxed: ordered after the acquire above (see there). */
    bool free_ = t == LFP_KEYED_EMPTY_ || atomic_load_explicit(&ten->high, memory_order_relaxed) < now;
    if (free_) {
        if (t != LFP_KEYED_EMPTY_)
            raise_horizon(k, t);
        /* relaxed: published by the release (seq_cst) store of the TAT below */
        atomic_store_explicit(&s->key, key, memory_order_relaxed);
        atomic_fetch_add_explicit(&ten->gen, 1, memory_order_relaxed);   /* relaxed: as the key */
        atomic_store_explicit(&ten->high, INT64_MIN, memory_order_relaxed);   /* relaxed: as the key */
    }
    /* seq_cst: a release that publishes the key to slot_take's acquire, and
     * the store half of wait_settled's store-load pattern. */
    atomic_store_explicit(&s->tat, free_ ? first : t, memory_order_seq_cst);
    settle(k);
    return free_;
}

static lfp_keyed_slot_ *slot_at(const lfp_keyed *k, uint64_t home, uint32_t d)
{
    return &k->slots[(home + d) & k->mask];
}

#define KEYED_ABSENT (-2)   /* the key is in no slot of its window */

/* Under the key's stripe lock: the take on its slot, waiting for claims in
 * progress to settle (the key's own slot may be one); KEYED_ABSENT if it is
 * in none; KEYED_RETRY if its slot was evicted between probe and take. */
static int find_take(lfp_keyed *k, uint64_t home, keyed_op *op)
{
    for (uint32_t d = 0; d < k->probe; d++) {
        lfp_keyed_slot_ *s = slot_at(k, home, d);
        int64_t t = wait_settled(k, s);
        if (t == LFP_KEYED_EMPTY_)
            return KEYED_ABSENT;
        /* relaxed: ordered after wait_settled's seq_cst (acquire) load. */
        if (atomic_load_explicit(&s->key, memory_order_relaxed) == op->key)
            return slot_take(k, s, op);
    }
    return KEYED_ABSENT;
}

/* Under the key's stripe lock, key absent: claim the first slot of its
 * window that is empty or idle at now, with the first take (op->r.end_)
 * already charged. A claim that fails leaves that slot non-empty or busy,
 * so the key still lands before every empty slot of its window. False if
 * no slot could be had. */
static bool place(lfp_keyed *k, uint64_t home, keyed_op *op)
{
    for (uint32_t d = 0; d < k->probe; d++) {
        lfp_keyed_slot_ *s = slot_at(k, home, d);
        int64_t t = wait_settled(k, s);
        if ((t == LFP_KEYED_EMPTY_ || t < op->now) &&
            claim(k, s, t, op->key, op->r.end_, op->now)) {
            op->slot = s;
            /* relaxed: this thread's own increment in claim() */
            op->gen = atomic_load_explicit(&tenure_of(k, s)->gen, memory_order_relaxed);
            return true;
        }
    }
    return false;
}

/* Insert the key (not found by the lock-free probe) and take, under its
 * stripe lock: find it again (it may have been inserted meanwhile, or its
 * slot was being claimed), else place it. Only this lock inserts the key,
 * so it is never in two slots at once. */
static int insert_take(lfp_keyed *k, uint64_t home, keyed_op *op)
{
    pthread_mutex_t *lock = &k->locks[(home >> 58) % LFP_KEYED_STRIPES];
    pthread_mutex_lock(lock);
    int rc;
    do
        rc = find_take(k, home, op);
    while (rc == KEYED_RETRY);
    if (rc == KEYED_ABSENT) {
        /* A new key starts at the horizon (keyed.h, "Clocks that disagree").
         * relaxed: ordered after find_take's acquire loads of every slot of
         * the window, which synchronise with the claim that evicted this
         * key (raise_horizon's pairing). */
        rc = lfp_keyed_gcra_(atomic_load_explicit(&k->horizon, memory_order_relaxed), op->n,
                             op->now, op->latest, k->interval, k->burst, &op->r);
        if (rc == 0 && !place(k, home, op))
            rc = ENOSPC;
    }
    pthread_mutex_unlock(lock);
    return rc;
}

/* A take (latest == now) or a reservation: the lock-free probe, then the
 * stripe-locked insert if the key was not found in a stable slot. */
static int keyed_consume(lfp_keyed *k, keyed_op *op)
{
    if (!k || op->n == 0 || op->n > k->burst)
        return EINVAL;
    uint64_t home = lfp_keyed_mix_(k->seed, op->key);
    for (uint32_t d = 0; d < k->probe; d++) {
        lfp_keyed_slot_ *s = slot_at(k, home, d);
        /* acquire: pairs with claim()'s release store of the TAT: the key
         * read next is at least as new (a hint; slot_take re-checks). */
        int64_t t = atomic_load_explicit(&s->tat, memory_order_acquire);
        if (t == LFP_KEYED_EMPTY_)
            break;
        /* relaxed: as above. A slot being claimed holds no key for us: if
         * it was ours, the stripe-locked path waits for it. */
        if (t != LFP_KEYED_EVICTING_ &&
            atomic_load_explicit(&s->key, memory_order_relaxed) == op->key) {
            int rc = slot_take(k, s, op);
            if (rc != KEYED_RETRY)
                return rc;
            break;
        }
    }
    return insert_take(k, home, op);
}

int lfp_keyed_take_at(lfp_keyed *k, uint64_t key, uint32_t n, int64_t now)
{
    keyed_op op = { .key = key, .n = n, .now = now, .latest = now };
    int rc = keyed_consume(k, &op);
    if (rc != EINVAL)
        lfp_rl_note_(&k->stats_, rc == ENOSPC ? EAGAIN : rc);   /* a full table denies */
    return rc;
}

/* ------------------------------------------------------------ waiting */

/* lfp_rl_wait_'s view of one key: the table, the key, and where its
 * reservation was made. */
typedef struct keyed_wait {
    lfp_keyed *k;
    keyed_op op;
} keyed_wait;

static int wait_reserve(void *b, uint32_t n, int64_t now, int64_t latest, lfp_bucket_reservation *r)
{
    keyed_wait *w = b;
    w->op.n = n;
    w->op.now = now;
    w->op.latest = latest;
    int rc = keyed_consume(w->k, &w->op);
    if (rc == 0)
        *r = w->op.r;
    return rc;
}

/* Raise the slot's high mark to v (an atomic max). */
static void raise_high(lfp_keyed_tenure_ *ten, int64_t v)
{
    /* relaxed: published by the give-back's release CAS that follows (see
     * claim). */
    int64_t h = atomic_load_explicit(&ten->high, memory_order_relaxed);
    while (h < v && !atomic_compare_exchange_weak_explicit(&ten->high, &h, v, memory_order_relaxed,
                                                           memory_order_relaxed))
        ;
}

/* lfp_bucket_give_back's rule on the reservation's slot (its argument is
 * in src/ratelimit_bucket.c): restore TAT from r's end to r's start only if
 * TAT is still r's end, in the same tenure of the slot (same key and tenure
 * count; and the CAS cannot land in a later tenure: while r is outstanding
 * the TAT stays >= r's end, so the slot is not evicted before r's end, and
 * a later tenure's TAT values all lie after its eviction). The value the
 * TAT is lowered from is first recorded in the slot's high mark (see
 * claim: a taker may still expect it). */
static int wait_give_back(void *b, lfp_bucket_reservation *r)
{
    keyed_wait *w = b;
    lfp_keyed_slot_ *s = w->op.slot;
    if (!s || r->n_ == 0)
        return EINVAL;
    r->n_ = 0;
    /* acquire: as slot_take's load (the key and tenure read next). */
    int64_t t = atomic_load_explicit(&s->tat, memory_order_acquire);
    lfp_keyed_tenure_ *ten = tenure_of(w->k, s);
    /* relaxed: ordered after the acquire above. */
    if (t != r->end_ || atomic_load_explicit(&s->key, memory_order_relaxed) != w->op.key ||
        atomic_load_explicit(&ten->gen, memory_order_relaxed) != w->op.gen)
        return EAGAIN;
    raise_high(ten, t);
    /* release: publishes the high mark to the claim whose acquire CAS reads
     * this TAT (or a later RMW of it). */
    return atomic_compare_exchange_strong_explicit(&s->tat, &t, r->start_, memory_order_release,
                                                   memory_order_relaxed)
               ? 0 : EAGAIN;
}

static const lfp_rl_waiter_ keyed_waiter = { wait_reserve, wait_give_back };

int lfp_keyed_wait_at(lfp_keyed *k, uint64_t key, uint32_t n, int64_t now, int64_t deadline,
                      lfp_cancel *cancel)
{
    if (!k)
        return EINVAL;
    keyed_wait w = { .k = k, .op = { .key = key, .receipt = true } };
    bool slept;
    int rc = lfp_rl_wait_(&keyed_waiter, &w, n, now, deadline, cancel, &slept);
    if (rc == ENOSPC)
        lfp_rl_note_(&k->stats_, EAGAIN);   /* a full table denies */
    else if (rc != EINVAL)
        lfp_rl_note_wait_(&k->stats_, rc, slept);
    return rc;
}

int lfp_keyed_wait(lfp_keyed *k, uint64_t key, uint32_t n, int64_t deadline, lfp_cancel *cancel)
{
    return lfp_keyed_wait_at(k, key, n, lfp_now(), deadline, cancel);
}

int lfp_keyed_take(lfp_keyed *k, uint64_t key, uint32_t n)
{
    return lfp_keyed_take_at(k, key, n, lfp_rl_now_());
}

uint64_t lfp_keyed_hash(const lfp_keyed *k, const void *key, size_t len)
{
    if (!k || (!key && len > 0))
        return 0;
    return lfp_keyed_siphash_(k->seed, key, len);
}

int lfp_keyed_take_bytes_at(lfp_keyed *k, const void *key, size_t len, uint32_t n, int64_t now)
{
    if (!k || (!key && len > 0))
        return EINVAL;
    return lfp_keyed_take_at(k, lfp_keyed_siphash_(k->seed, key, len), n, now);
}

int lfp_keyed_take_bytes(lfp_keyed *k, const void *key, size_t len, uint32_t n)
{
    return lfp_keyed_take_bytes_at(k, key, len, n, lfp_rl_now_());
}

size_t lfp_keyed_busy_at(const lfp_keyed *k, int64_t now)
{
    if (!k)
        return 0;
    size_t busy = 0;
    for (uint64_t i = 0; i <= k->mask; i++) {
        /* relaxed: a snapshot of each slot; orders nothing. */
        int64_t t = atomic_load_explicit(&k->slots[i].tat, memory_order_relaxed);
        busy += t > now && t < LFP_KEYED_EVICTING_;
    }
    return busy;
}
