/* SPDX-License-Identifier: BSD-2-Clause */
/* lfpat/internal/pool.h — internal: the inline definitions behind
 * lfpat/pool.h (its inline calls and their helpers, with the ordering
 * argument at each atomic). Not part of the API: names ending in '_'
 * may change in any release. Include <lfpat/pool.h>, not this. */
#ifndef LFPAT_INTERNAL_POOL_H
#define LFPAT_INTERNAL_POOL_H

#include "lfpat/pool.h"

#ifdef __cplusplus
extern "C" {
#endif

static inline void lfp_pool_task_destroy(lfp_pool_task *t)
{
    if (t)
        lfp_future_destroy(&t->done);
}

static inline uint64_t lfp_pool_ran(const lfp_pool *p)
{
    /* relaxed: a statistic. */
    return atomic_load_explicit(&p->ran, memory_order_relaxed);
}

static inline uint64_t lfp_pool_not_run(const lfp_pool *p)
{
    /* relaxed: a statistic. */
    return atomic_load_explicit(&p->not_run, memory_order_relaxed);
}

#ifdef __cplusplus
}
#endif
#endif
