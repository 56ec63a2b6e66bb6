/* SPDX-License-Identifier: BSD-2-Clause */
/* lfpat/internal/seqlock.h — internal: the inline definitions behind
 * lfpat/seqlock.h (its read path, with the ordering at each atomic; the
 * argument is in lfpat/seqlock.h). Not part of the API: names ending in '_'
 * may change in any release. Include <lfpat/seqlock.h>, not this. */
#ifndef LFPAT_INTERNAL_SEQLOCK_H
#define LFPAT_INTERNAL_SEQLOCK_H

#include <string.h>

#include "lfpat/seqlock.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The order of the data word accesses. Normally relaxed, with the two
 * fences of the header comment. ThreadSanitizer does not model fences, so
 * under LFP_TSAN each data load is an acquire and each data store a release
 * (the fences are then left out): a load that returns a value of write m
 * synchronises with write m's store, which follows its start store, with
 * the same consequence as the fence pairing. Build mode: compile lfpat and
 * every translation unit that reads a seqlock in the same mode. */
#if LFP_TSAN
#define LFP_SEQLOCK_LOAD_ORDER_ memory_order_acquire
#define LFP_SEQLOCK_STORE_ORDER_ memory_order_release
#else
#define LFP_SEQLOCK_LOAD_ORDER_ memory_order_relaxed
#define LFP_SEQLOCK_STORE_ORDER_ memory_order_relaxed
#endif

/* Copy the first `size` bytes of the words at src into dst: four words
 * per round (the loop's branch once per four words), then the words left,
 * then the bytes of a last partial word. Each word goes to dst as it is
 * loaded (8-byte stores, which a reader's later 8-byte loads of dst forward
 * from). */
static inline void lfp_seqlock_load_words_(const _Atomic(uint64_t) *src, void *dst, size_t size)
{
    unsigned char *out = (unsigned char *)dst;
    size_t full = size / 8, i = 0;
    for (; i + 4 <= full; i += 4) {
        /* relaxed (acquire under TSan): ordered by the acquire fence in
         * lfp_seqlock_attempt_; pairs with the writer's release fence in
         * open_write (src/seqlock.c). */
        uint64_t a = atomic_load_explicit(&src[i], LFP_SEQLOCK_LOAD_ORDER_);
        uint64_t b = atomic_load_explicit(&src[i + 1], LFP_SEQLOCK_LOAD_ORDER_);
        uint64_t c = atomic_load_explicit(&src[i + 2], LFP_SEQLOCK_LOAD_ORDER_);
        uint64_t d = atomic_load_explicit(&src[i + 3], LFP_SEQLOCK_LOAD_ORDER_);
        memcpy(out + 8 * i, &a, 8);
        memcpy(out + 8 * i + 8, &b, 8);
        memcpy(out + 8 * i + 16, &c, 8);
        memcpy(out + 8 * i + 24, &d, 8);
    }
    for (; i < full; i++) {
        /* relaxed: as above. */
        uint64_t w = atomic_load_explicit(&src[i], LFP_SEQLOCK_LOAD_ORDER_);
        memcpy(out + 8 * i, &w, 8);
    }
    if (size % 8) {
        /* relaxed: as above. */
        uint64_t w = atomic_load_explicit(&src[full], LFP_SEQLOCK_LOAD_ORDER_);
        memcpy(out + 8 * full, &w, size % 8);
    }
}

/* Whether a snapshot read at first load s1 = 2n or 2n + 1 is still valid
 * when the second load reads s2: write n + 2, the next one to fill copy
 * n & 1, had not begun (s2 < 2n + 3). s2 >= 2n: seq never drops below the
 * even value of a completed write. */
static inline bool lfp_seqlock_valid_(uint64_t s1, uint64_t s2)
{
    return s2 - (s1 & ~(uint64_t)1) < 3;
}

/* One read attempt (the reader of the header comment); size is s->size,
 * passed in so that a caller with a constant size gets the copy unrolled. */
static inline bool lfp_seqlock_attempt_(const lfp_seqlock *s, void *dst, size_t size,
                                        uint64_t *version)
{
    /* acquire: pairs with the release stores of seq in src/seqlock.c (the
     * end of write n, or the start or abort of write n + 1); makes write
     * n's data stores visible. */
    uint64_t s1 = atomic_load_explicit(&s->seq, memory_order_acquire);
    uint64_t n = s1 >> 1;
    /* A branch, not an index: the copy readers use changes only with a
     * write, so the branch is predicted and the data loads issue without
     * waiting for the value of s1 (an index would make their addresses
     * depend on it). The acquire load still orders them after s1. */
    if (LFP_UNLIKELY(n & 1))
        lfp_seqlock_load_words_(s->copy[1], dst, size);
    else
        lfp_seqlock_load_words_(s->copy[0], dst, size);
#if !LFP_TSAN
    /* acquire fence: orders the data loads before the second load of seq;
     * pairs with the release fence after a writer's start store, so a load
     * that saw a later write's data makes that write's start visible. */
    atomic_thread_fence(memory_order_acquire);
#endif
    /* relaxed: ordered after the data loads by the fence above (under TSan,
     * by the acquire data loads). */
    uint64_t s2 = atomic_load_explicit(&s->seq, memory_order_relaxed);
    *version = n;
    return lfp_seqlock_valid_(s1, s2);
}

static inline size_t lfp_seqlock_size(const lfp_seqlock *s) { return s->size; }

static inline int lfp_seqlock_read(const lfp_seqlock *s, void *dst)
{
    uint64_t version;
    if (LFP_UNLIKELY(!s || !dst))
        return EINVAL;
    while (!lfp_seqlock_attempt_(s, dst, s->size, &version)) {
        /* retry at once: a failed attempt means writes completed meanwhile
         * (lock-free); there is no writer to wait for */
    }
    return 0;
}

static inline int lfp_seqlock_read_version(const lfp_seqlock *s, void *dst, uint64_t *version)
{
    if (LFP_UNLIKELY(!s || !dst || !version))
        return EINVAL;
    while (!lfp_seqlock_attempt_(s, dst, s->size, version)) {
        /* retry at once, as lfp_seqlock_read */
    }
    return 0;
}

static inline int lfp_seqlock_read_n(const lfp_seqlock *s, void *dst, size_t n)
{
    uint64_t version;
    if (LFP_UNLIKELY(!s || !dst || n != s->size))
        return EINVAL;
    while (!lfp_seqlock_attempt_(s, dst, n, &version)) {
        /* retry at once, as lfp_seqlock_read */
    }
    return 0;
}

static inline int lfp_seqlock_try_read(const lfp_seqlock *s, void *dst)
{
    uint64_t version;
    if (LFP_UNLIKELY(!s || !dst))
        return EINVAL;
    return lfp_seqlock_attempt_(s, dst, s->size, &version) ? 0 : EAGAIN;
}

#ifdef __cplusplus
}
#endif
#endif
