/* SPDX-License-Identifier: BSD-2-Clause */
/* lfpat/internal/future.h — internal: the inline definitions behind
 * lfpat/future.h (its inline calls and their helpers, with the ordering
 * argument at each atomic). Not part of the API: names ending in '_'
 * may change in any release. Include <lfpat/future.h>, not this. */
#ifndef LFPAT_INTERNAL_FUTURE_H
#define LFPAT_INTERNAL_FUTURE_H

#include "lfpat/future.h"

#ifdef __cplusplus
extern "C" {
#endif

enum { LFP_FUTURE_EMPTY_ = 0, LFP_FUTURE_SETTING_ = 1, LFP_FUTURE_READY_ = 2,
       LFP_FUTURE_WAITING_ = 4, LFP_FUTURE_NOTIFYING_ = 8 };

LFP_API void lfp_future_wake_(lfp_future *f);
LFP_API void lfp_future_await_winner_(lfp_future *f);

static inline int lfp_future_set(lfp_future *f, void *value, int error)
{
    if (LFP_UNLIKELY(!f))
        return EINVAL;
    /* relaxed: the claim only decides the winner; the READY CAS below
     * publishes. A losing setter reads nothing guarded by the state. */
    uint32_t s = atomic_load_explicit(&f->state, memory_order_relaxed);
    do {
        if (s & ~(uint32_t)LFP_FUTURE_WAITING_) {
            /* Lost to a winner: return only once its value is published
             * (READY), so that EALREADY is never seen while try_get says
             * EAGAIN (see "Linearizability"). */
            if (LFP_UNLIKELY(s != LFP_FUTURE_READY_))
                lfp_future_await_winner_(f);
            return EALREADY;
        }
        /* relaxed: as above (a getter may set WAITING meanwhile: retry). */
    } while (!atomic_compare_exchange_weak_explicit(&f->state, &s, s | LFP_FUTURE_SETTING_,
                                                    memory_order_relaxed, memory_order_relaxed));
    f->value = value;
    f->error = error;
    s |= LFP_FUTURE_SETTING_;
    /* Only getters change the word now (adding WAITING). With no getter
     * waiting, READY is the setter's last access to *f. */
    /* release: publishes value, error and the setter's prior writes; pairs
     * with the acquire load in lfp_future_is_ready. */
    while (!(s & LFP_FUTURE_WAITING_) &&
           !atomic_compare_exchange_weak_explicit(&f->state, &s, LFP_FUTURE_READY_,
                                                  memory_order_release, memory_order_relaxed)) {
    }
    if (LFP_UNLIKELY(s & LFP_FUTURE_WAITING_))
        lfp_future_wake_(f);
    return 0;
}

static inline bool lfp_future_is_ready(const lfp_future *f)
{
    /* acquire: pairs with the release READY store in lfp_future_set /
     * lfp_future_wake_. */
    return atomic_load_explicit(&f->state, memory_order_acquire) ==
           LFP_FUTURE_READY_;
}

static inline int lfp_future_try_get(lfp_future *f, void **value, int *error)
{
    if (LFP_UNLIKELY(!f))
        return EINVAL;
    if (!lfp_future_is_ready(f))
        return EAGAIN;
    if (value)
        *value = f->value;
    if (error)
        *error = f->error;
    return 0;
}

LFP_API int lfp_future_get_slow_(lfp_future *f, void **value, int *error,
                                 int64_t deadline, lfp_cancel *cancel);

static inline int lfp_future_get(lfp_future *f, void **value, int *error,
                                 int64_t deadline, lfp_cancel *cancel)
{
    int rc = lfp_future_try_get(f, value, error);
    if (LFP_LIKELY(rc != EAGAIN))
        return rc;
    return lfp_future_get_slow_(f, value, error, deadline, cancel);
}

#ifdef __cplusplus
}
#endif
#endif
