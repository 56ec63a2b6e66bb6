/* SPDX-License-Identifier: BSD-2-Clause */
/* lfpat/internal/counter.h — internal: the inline definitions behind
 * lfpat/counter.h (its inline calls and their helpers, with the ordering
 * argument at each atomic). Not part of the API: names ending in '_'
 * may change in any release. Include <lfpat/counter.h>, not this. */
#ifndef LFPAT_INTERNAL_COUNTER_H
#define LFPAT_INTERNAL_COUNTER_H

#include "lfpat/counter.h"

#ifdef __cplusplus
extern "C" {
#endif

static inline void lfp_counter_init(lfp_counter *c, int64_t v)
{
    atomic_init(&c->value, v);
}

static inline int64_t lfp_counter_add(lfp_counter *c, int64_t d)
{
    /* relaxed: a counter orders nothing (see the header comment); the RMW
     * itself is atomic and totally ordered on this one word. */
    uint64_t old = (uint64_t)atomic_fetch_add_explicit(&c->value, d, memory_order_relaxed);
    return (int64_t)(old + (uint64_t)d);
}

static inline int64_t lfp_counter_get(const lfp_counter *c)
{
    /* relaxed: a counter orders nothing. */
    return atomic_load_explicit(&c->value, memory_order_relaxed);
}

static inline void lfp_counter_destroy(lfp_counter *c) { (void)c; }

static inline unsigned lfp_striped_cells(const lfp_striped *c) { return c->mask + 1; }

static inline void lfp_striped_add(lfp_striped *c, int64_t d)
{
    unsigned slot = lfp_thread_slot();
    if (LFP_LIKELY(slot <= c->mask)) {
        _Atomic(int64_t) *v = &c->cells[slot].value;
        /* relaxed: this thread is the cell's only writer (slot ownership);
         * sum's relaxed loads read it coherently. Pairs with nothing. */
        uint64_t old = (uint64_t)atomic_load_explicit(v, memory_order_relaxed);
        atomic_store_explicit(v, (int64_t)(old + (uint64_t)d), memory_order_relaxed);
    } else {
        /* relaxed: a counter orders nothing; the RMW makes sharing safe. */
        atomic_fetch_add_explicit(&c->cells[c->mask + 1 + (slot & c->mask)].value, d,
                                  memory_order_relaxed);
    }
}

#ifdef __cplusplus
}
#endif
#endif
