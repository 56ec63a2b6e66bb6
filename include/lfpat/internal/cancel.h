/* SPDX-License-Identifier: BSD-2-Clause */
/* lfpat/internal/cancel.h — internal: the inline definitions behind
 * lfpat/cancel.h (its inline calls and their helpers, with the ordering
 * argument at each atomic). Not part of the API: names ending in '_'
 * may change in any release. Include <lfpat/cancel.h>, not this. */
#ifndef LFPAT_INTERNAL_CANCEL_H
#define LFPAT_INTERNAL_CANCEL_H

#include "lfpat/cancel.h"

#ifdef __cplusplus
extern "C" {
#endif

static inline int lfp_cancel_reason(const lfp_cancel *c)
{
    /* acquire: pairs with the release store of reason in lfp_cancel_fire. */
    return c ? atomic_load_explicit(&c->reason, memory_order_acquire) : 0;
}

static inline bool lfp_cancel_fired(const lfp_cancel *c)
{
    return lfp_cancel_reason(c) != 0;
}

#ifdef __cplusplus
}
#endif
#endif
