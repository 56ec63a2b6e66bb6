/* SPDX-License-Identifier: BSD-2-Clause */
/* lfpat/internal/once.h — internal: the inline definitions behind
 * lfpat/once.h (its inline calls and their helpers, with the ordering
 * argument at each atomic). Not part of the API: names ending in '_'
 * may change in any release. Include <lfpat/once.h>, not this. */
#ifndef LFPAT_INTERNAL_ONCE_H
#define LFPAT_INTERNAL_ONCE_H

#include "lfpat/once.h"

#ifdef __cplusplus
extern "C" {
#endif

enum { LFP_ONCE_UNSET_ = 0, LFP_ONCE_RUNNING_ = 1, LFP_ONCE_WAITED_ = 2, LFP_ONCE_DONE_ = 3,
       LFP_ONCE_RETRY_ = 4, LFP_ONCE_FAILED_ = 5 };

static inline void lfp_once_init(lfp_once *o)
{
    atomic_init(&o->state, LFP_ONCE_UNSET_);
    o->result = 0;
}

static inline void lfp_once_destroy(lfp_once *o) { (void)o; }

LFP_API int lfp_once_call_slow_(lfp_once *o, int (*fn)(void *), void *arg, bool retry);

static inline int lfp_once_call(lfp_once *o, int (*fn)(void *), void *arg)
{
    /* acquire: pairs with the release exchange that stores DONE in
     * lfp_once_call_slow_ after fn returned; makes fn's writes visible. */
    if (LFP_LIKELY(o != NULL && fn != NULL &&
                   atomic_load_explicit(&o->state, memory_order_acquire) == LFP_ONCE_DONE_))
        return 0;
    return lfp_once_call_slow_(o, fn, arg, false);
}

static inline int lfp_once_call_retry(lfp_once *o, int (*fn)(void *), void *arg)
{
    /* acquire: pairs with the release exchange storing DONE in the slow path. */
    if (LFP_LIKELY(o != NULL && fn != NULL &&
                   atomic_load_explicit(&o->state, memory_order_acquire) == LFP_ONCE_DONE_))
        return 0;
    /* FAILED (lfp_once_call completed o with an error) is read there too. */
    return lfp_once_call_slow_(o, fn, arg, true);
}

static inline bool lfp_once_done(const lfp_once *o)
{
    if (o == NULL)
        return false;
    /* acquire: pairs with the release exchange storing DONE/FAILED in the
     * slow path. */
    uint32_t s = atomic_load_explicit(&o->state, memory_order_acquire);
    return s == LFP_ONCE_DONE_ || s == LFP_ONCE_FAILED_;
}

#ifdef __cplusplus
}
#endif
#endif
