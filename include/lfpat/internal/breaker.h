/* SPDX-License-Identifier: BSD-2-Clause */
/* lfpat/internal/breaker.h — internal: the inline definitions behind
 * lfpat/breaker.h (its inline calls and their helpers, with the ordering
 * argument at each atomic). Not part of the API: names ending in '_'
 * may change in any release. Include <lfpat/breaker.h>, not this. */
#ifndef LFPAT_INTERNAL_BREAKER_H
#define LFPAT_INTERNAL_BREAKER_H

#include "lfpat/breaker.h"

#ifdef __cplusplus
extern "C" {
#endif

/* internal: the state word. */
#define LFP_BRK_GEN_MASK_ 0x3fffffffu
static inline lfp_breaker_state lfp_brk_state_(uint64_t w) { return (lfp_breaker_state)(w & 3); }
static inline uint32_t lfp_brk_gen_(uint64_t w) { return (uint32_t)(w >> 2) & LFP_BRK_GEN_MASK_; }
static inline uint32_t lfp_brk_payload_(uint64_t w) { return (uint32_t)(w >> 32); }
static inline uint64_t lfp_brk_word_(lfp_breaker_state s, uint32_t gen, uint32_t payload)
{
    return (uint64_t)payload << 32 | (uint64_t)(gen & LFP_BRK_GEN_MASK_) << 2 | (uint64_t)s;
}

/* internal: the full tick count of now (< 2^43; negative times count as 0). */
static inline uint64_t lfp_brk_tick_(int64_t now)
{
    return (uint64_t)(now < 0 ? 0 : now) / (uint64_t)LFP_BREAKER_TICK_NS;
}

LFP_API int lfp_breaker_allow_slow_(lfp_breaker *b, uint64_t w, int64_t now,
                                    lfp_breaker_ticket *t);

/* internal: the CLOSED fast path shared by allow and allow_at; *w gets the
 * word read. */
static inline bool lfp_brk_allow_closed_(lfp_breaker *b, lfp_breaker_ticket *t, uint64_t *w)
{
    /* acquire: pairs with the acq_rel transition CAS, so the generation
     * read belongs to the state read. */
    *w = atomic_load_explicit(&b->state, memory_order_acquire);
    if (LFP_UNLIKELY(lfp_brk_state_(*w) != LFP_BREAKER_CLOSED))
        return false;
    t->gen = lfp_brk_gen_(*w);
    t->probe = false;
    return true;
}

static inline int lfp_breaker_allow_at(lfp_breaker *b, int64_t now, lfp_breaker_ticket *t)
{
    uint64_t w;
    if (LFP_UNLIKELY(!b || !t))
        return EINVAL;
    if (LFP_LIKELY(lfp_brk_allow_closed_(b, t, &w)))
        return 0;
    return lfp_breaker_allow_slow_(b, w, now, t);
}

static inline int lfp_breaker_allow(lfp_breaker *b, lfp_breaker_ticket *t)
{
    uint64_t w;
    if (LFP_UNLIKELY(!b || !t))
        return EINVAL;
    if (LFP_LIKELY(lfp_brk_allow_closed_(b, t, &w)))
        return 0;
    return lfp_breaker_allow_slow_(b, w, lfp_now(), t);
}

static inline int lfp_breaker_record(lfp_breaker *b, lfp_breaker_ticket t, bool success)
{
    if (LFP_LIKELY(b && success && !t.probe)) {
        /* acquire: as in lfp_brk_allow_closed_. */
        uint64_t w = atomic_load_explicit(&b->state, memory_order_acquire);
        return lfp_brk_state_(w) == LFP_BREAKER_CLOSED && lfp_brk_gen_(w) == t.gen ? 0
                                                                                  : ESTALE;
    }
    return lfp_breaker_record_at(b, t, success, lfp_now());
}

static inline lfp_breaker_state lfp_breaker_state_of(const lfp_breaker *b, uint32_t *gen)
{
    /* acquire: as in lfp_breaker_allow_at. */
    uint64_t w = atomic_load_explicit(&b->state, memory_order_acquire);
    if (gen)
        *gen = lfp_brk_gen_(w);
    return lfp_brk_state_(w);
}

#ifdef __cplusplus
}
#endif
#endif
