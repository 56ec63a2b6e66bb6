/* SPDX-License-Identifier: BSD-2-Clause */
/* lfpat/internal/keyed.h — internal: the slot layout of lfp_keyed's table
 * (included by lfpat/keyed.h; not an API: names ending in '_' may change in
 * any release). The protocol over these words is in lfpat/keyed.h,
 * "Concurrency". */
#ifndef LFPAT_INTERNAL_KEYED_H
#define LFPAT_INTERNAL_KEYED_H

#include "lfpat/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* What every take reads: 16 bytes, four slots to a cache line, so a key's
 * window usually starts and ends in the one line its home slot is on. */
typedef struct lfp_keyed_slot_ {
    _Atomic(int64_t) tat;     /* TAT, or the empty / evicting marks */
    _Atomic(uint64_t) key;
} lfp_keyed_slot_;

/* The rest of a slot's state, in a second array after the slots (same
 * index): only inserts (claims) and waits read or write it, so a take on a
 * present key never touches it. */
typedef struct lfp_keyed_tenure_ {
    _Atomic(int64_t) high;    /* highest TAT a give-back lowered (INT64_MIN: none) */
    _Atomic(uint32_t) gen;    /* tenures so far (receipts of waits check it) */
    uint32_t pad_;
} lfp_keyed_tenure_;

#ifdef __cplusplus
}
#endif

#endif
