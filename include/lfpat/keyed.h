/* SPDX-License-Identifier: BSD-2-Clause */
/* lfpat/keyed.h — keyed rate limiters: one token bucket per key (client id,
 * IP address, tenant) in a fixed-capacity concurrent table, the way servers
 * use rate limiters. Its mutex twin lfp_locked_keyed is in lfpat/locked/keyed.h.
 *
 * Every key has its own GCRA token bucket with the table's rate and burst:
 * exactly lfp_bucket's arithmetic (lfpat/ratelimit.h: emission interval T =
 * ceil(1e9 / rate) ns, TAT per key, the same accepted range), so per key no
 * interval of length L holds more than burst + L / T admissions.
 *
 * Keys: a uint64_t, or a byte string hashed to one with SipHash-1-3 under a
 * per-table random key. Two byte strings whose 64-bit hashes are equal share
 * one bucket: they can only be refused more readily, never admitted past a
 * bound (probability about n^2 / 2^65 for n distinct strings, and not
 * targetable without the table's secret). uint64_t keys are placed in the
 * table by a seeded mixer that is fast but not a keyed PRF: keys an attacker
 * chooses (addresses, names) should go through the byte form.
 *
 * Idle keys and eviction. A key whose bucket is full again (TAT <= now) is
 * indistinguishable from a key never seen: both admit `burst` at once and
 * refill from there. So such an entry may be dropped and its slot given to
 * another key: a dropped key that comes back starts with a full bucket,
 * which is exactly what its idle entry would have given it. That is the
 * only way an entry is ever reused — a key whose bucket is not full at the
 * evicting caller's `now` is never evicted — so eviction never over-admits.
 * An entry is idle, and may be evicted, when its TAT is strictly before
 * `now` and so is its high mark (the highest TAT a cancelled wait's
 * give-back lowered it from, if any; see "Concurrency").
 * Clocks that disagree: a caller whose `now` is ahead of others' may find
 * a key idle that a caller behind it would still see busy (its TAT lies
 * between their readings). To keep "an older timestamp is charged as the
 * newest one seen" (ratelimit.h) across eviction, the table keeps its
 * horizon, the largest TAT it ever evicted, and starts a new key at
 * max(horizon, now) instead of now: a caller behind the horizon is judged
 * as if at the horizon, so a straggler of an evicted key is refused exactly
 * as its entry would have refused it (tests/test_keyed.c,
 * keyed_evicted_straggler), and a caller at or past the horizon — every
 * caller, with one clock read in order — sees a full bucket.
 *
 * Table: 2 * capacity slots rounded up to a power of two, open addressing
 * with linear probing; a key lives in one of the LFP_KEYED_PROBE slots from
 * its home slot (its window). A new key takes the first slot of its window
 * that is empty or holds an idle key. If there is none — every slot of the
 * window holds a key that is not idle — the take returns ENOSPC and records
 * nothing (the caller decides to fail open or closed). With at most
 * `capacity` keys busy at once the table is at most half full of busy keys,
 * and a window of LFP_KEYED_PROBE busy slots is then vanishingly rare
 * (linear probing at load 1/2: about 2^-35 per slot); ENOSPC means the
 * table is too small for the number of keys busy at once.
 * Memory: 32 bytes per slot, so 64 to 128 bytes per key of `capacity`,
 * plus 64 stripe locks, allocated at init. A slot's 16 hot bytes (its key
 * and TAT words, four slots to a cache line) are all a take on a present
 * key reads; the other 16 (tenure count, high mark) are in a second array
 * that only inserts and waits touch. A table of 2 MiB or more is mapped
 * 2 MiB-aligned and advised MADV_HUGEPAGE: where transparent huge pages
 * are enabled (always or madvise) a take at a random key of a large table
 * then misses the cache but rarely the TLB; elsewhere the advice fails
 * silently and the table uses small pages.
 *
 * Concurrency. Each slot holds a key word and its TAT word, and (in the
 * second array) a tenure count and a high mark. A take on a key that is
 * in the table (the hot path) is lock-free and makes one write, its CAS:
 * probe the window (loads), read the slot's TAT (acquire), check that the
 * slot holds the key and is not being claimed, then the GCRA CAS loop of
 * lfp_bucket_take_at on the TAT, re-checking the key after each failed
 * CAS (a take reads the tenure count too only for a wait's receipt). A new
 * key is inserted under a stripe lock chosen by the key, so two callers
 * can never insert the same key twice (the inserter re-probes under the
 * lock); a slot is claimed by a CAS of its TAT from "empty" or from an
 * idle value to "evicting"; the claimer then reads the high mark: if it is
 * not before `now` the slot is restored at once, else the slot gets the
 * new key (tenure + 1, mark cleared), and its TAT is stored last (release)
 * with the new key's first take already charged (before that store, the
 * evicted TAT is folded into the horizon).
 * Why a taker's CAS always lands in the tenure whose key it checked (no
 * take is ever charged to another key, none of an old key lands after its
 * entry was dropped), without pins: the CAS succeeds only if the TAT still
 * holds the value v the taker read, and no value of a tenure reappears in
 * a later tenure of the slot. Within a tenure the TAT only rises, except
 * that a give-back lowers it from a receipt's end (first recorded in the
 * high mark, before the lowering CAS, which is a release that the next
 * claim's acquire CAS reads, directly or through later takes' CASes, a
 * release sequence), so every value the tenure ever held is at most
 * max(TAT, high mark); eviction at `now` requires both strictly before
 * `now`; and every TAT value of the new tenure is at least `now` (its first
 * take starts at max(horizon, now), and each later take or give-back moves
 * the TAT to a take's start, never below the first). The key the taker
 * reads after its acquire of v is v's tenure's key or a later one's; if a
 * later one, the CAS fails (v is gone), and a refusal judged by v is right
 * at the instant of the key read, as the later tenure's TAT is above v
 * (GCRA refuses more at a larger TAT). A give-back (a cancelled wait)
 * checks key and tenure after an acquire of the TAT, and its CAS from the
 * receipt's end cannot land in a later tenure either: while the receipt is
 * outstanding the TAT stays at or above its end (later takes stack on it),
 * so the slot is not idle before that end, and the later tenure's values
 * start after it.
 * Linearizable: every admission is one successful CAS (or the insert's
 * release store) on its key's TAT word, and per key the GCRA rule holds in
 * that order, as in lfp_bucket.
 * Cost: a take on a present key reads its window's slots and makes one
 * RMW (the CAS), as lfp_bucket_take_at; the twin makes two (its mutex's
 * lock and unlock).
 * Progress: a take on a present key is lock-free, except that it waits
 * (spins briefly, then parks) while another thread is evicting that key's
 * idle entry or claiming a slot in its window (a few instructions, under
 * that thread's stripe lock); inserting a new key is blocking (a stripe
 * mutex, one window scan).
 * Ordering: none, as for every limiter: admissions publish no data.
 */
#ifndef LFPAT_KEYED_H
#define LFPAT_KEYED_H

#include <pthread.h>
#include <stddef.h>

#include "lfpat/internal/keyed.h"
#include "lfpat/ratelimit.h"

#ifdef __cplusplus
extern "C" {
#endif

#define LFP_KEYED_MAX_CAPACITY (UINT32_C(1) << 28)
#define LFP_KEYED_PROBE 128u   /* slots in a key's window */
#define LFP_KEYED_STRIPES 64u  /* insert locks */

typedef struct lfp_keyed {
    lfp_keyed_slot_ *slots;  /* slots, then as many lfp_keyed_tenure_ (one mapping) */
    pthread_mutex_t *locks;  /* LFP_KEYED_STRIPES insert locks */
    uint64_t mask;           /* slots - 1 */
    uint64_t seed[3];        /* placement mixer, SipHash key */
    int64_t interval;        /* T, ns per token */
    uint32_t burst;
    uint32_t probe;          /* window: min(LFP_KEYED_PROBE, slots) */
    alignas(LFP_CACHELINE) _Atomic(uint32_t) settled; /* bumped when a claimed slot settles */
    _Atomic(uint32_t) waiters;                        /* threads parked on `settled` */
    _Atomic(int64_t) horizon;                         /* largest TAT evicted (INT64_MIN: none) */
    _Atomic(lfp_rl_counts_ *) stats_;                 /* NULL until lfp_keyed_stats_enable */
} lfp_keyed;

/* Initialise a table for `capacity` keys busy at once (2 * capacity slots
 * rounded up to a power of two), every key limited to `burst` tokens
 * refilled at rate_per_s (validated as lfp_bucket_init).
 * Returns 0; EINVAL if k is NULL, capacity is 0 or > LFP_KEYED_MAX_CAPACITY,
 * or rate/burst are outside lfp_bucket's accepted range; ENOMEM. */
LFP_API int lfp_keyed_init(lfp_keyed *k, size_t capacity, double rate_per_s, uint32_t burst);

/* Free the table (and its stats, if enabled). It must be quiescent. NULL is
 * ignored. */
LFP_API void lfp_keyed_destroy(lfp_keyed *k);

/* Count the table's calls, all keys together (struct lfp_rl_stats in
 * lfpat/ratelimit.h, its "Statistics"; a take or wait refused with ENOSPC
 * counts as denied): as lfp_bucket_stats_enable / lfp_bucket_stats. */
LFP_API int lfp_keyed_stats_enable(lfp_keyed *k);
LFP_API int lfp_keyed_stats(const lfp_keyed *k, struct lfp_rl_stats *out);

/* Take n tokens of `key`'s bucket at time `now` if available; a key not in
 * the table starts with a full bucket (inserted, evicting an idle key of
 * its window if needed).
 * Returns 0; EAGAIN (rate exceeded, or the new TAT would pass INT64_MAX;
 * nothing taken); ENOSPC (the key is new and its window holds no empty
 * slot and no idle key; nothing recorded); EINVAL if k is NULL, n == 0 or
 * n > burst.
 * Progress: lock-free for a key in the table (see "Concurrency" above);
 * blocking (a stripe lock) to insert a new key. */
LFP_API int lfp_keyed_take_at(lfp_keyed *k, uint64_t key, uint32_t n, int64_t now);

/* lfp_keyed_take_at at the current time (the plain takes' clock of
 * lfpat/ratelimit.h, "Time"). */
LFP_API int lfp_keyed_take(lfp_keyed *k, uint64_t key, uint32_t n);

/* lfp_keyed_take_at for the byte string key[0..len) (hashed with the
 * table's SipHash key: see "Keys" above). Same codes; EINVAL also if key is
 * NULL and len > 0. */
LFP_API int lfp_keyed_take_bytes_at(lfp_keyed *k, const void *key, size_t len, uint32_t n,
                                    int64_t now);

/* lfp_keyed_take_bytes_at at the current time. */
LFP_API int lfp_keyed_take_bytes(lfp_keyed *k, const void *key, size_t len, uint32_t n);

/* The 64-bit key lfp_keyed_take_bytes_at uses for key[0..len): SipHash-1-3
 * under the table's secret key. Returns 0 for a NULL k (or NULL key with
 * len > 0). Progress: wait-free. */
LFP_API uint64_t lfp_keyed_hash(const lfp_keyed *k, const void *key, size_t len);

/* Take n tokens of `key`'s bucket, waiting if needed: lfp_bucket_wait_at's
 * protocol on the key's bucket (one exact ready time, one sleep until it on
 * CLOCK_MONOTONIC, no polling), starting at the caller's reading `now`.
 * Returns 0 once the tokens are the caller's; ETIMEDOUT at once, consuming
 * nothing, if they would be ready only after `deadline`; ECANCELED if
 * `cancel` fires first (the reservation is given back as
 * lfp_bucket_give_back does: restored only if it is still the key's newest
 * consumption, in the same tenure of its slot — never after the key was
 * evicted and re-created); ENOSPC as lfp_keyed_take_at (nothing consumed);
 * EINVAL if k is NULL, n == 0 or n > burst. Tokens available at once are
 * taken even if the deadline passed or cancel fired.
 * Progress: blocking (sleeps until the ready time). */
LFP_API int lfp_keyed_wait_at(lfp_keyed *k, uint64_t key, uint32_t n, int64_t now,
                              int64_t deadline, lfp_cancel *cancel);

/* lfp_keyed_wait_at starting at lfp_now(). */
LFP_API int lfp_keyed_wait(lfp_keyed *k, uint64_t key, uint32_t n, int64_t deadline,
                           lfp_cancel *cancel);

/* Keys in the table whose bucket is not full at `now` (a snapshot:
 * concurrent takes may or may not be counted); 0 for a NULL k.
 * Progress: wait-free (one pass over the slots). */
LFP_API size_t lfp_keyed_busy_at(const lfp_keyed *k, int64_t now);

#ifdef __cplusplus
}
#endif

#endif
