/* SPDX-License-Identifier: BSD-2-Clause */
/* The two shared locations of the classic two-variable shapes (2+2W, IRIW,
 * LB, SB, WRC): x and y, both 0 at the start of every round (reset_xy is
 * the test's reset). */
#ifndef LFP_LITMUS_XY_H
#define LFP_LITMUS_XY_H

#include <stdatomic.h>

#include "litmus.h"

static _Atomic int x, y;

static void reset_xy(void)
{
    atomic_store_explicit(&x, 0, memory_order_relaxed);  /* relaxed: published by the round barrier */
    atomic_store_explicit(&y, 0, memory_order_relaxed);  /* relaxed: published by the round barrier */
}

#endif
