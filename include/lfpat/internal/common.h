/* SPDX-License-Identifier: BSD-2-Clause */
/* lfpat/internal/common.h — internal: the inline definitions behind
 * lfpat/common.h (its inline calls and their helpers) and the test-hook
 * machinery. Not part of the API: names ending in '_' may change in any
 * release. Include <lfpat/common.h>, not this. */
#ifndef LFPAT_INTERNAL_COMMON_H
#define LFPAT_INTERNAL_COMMON_H

#include "lfpat/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* LFP_TEST_HOOK(site): a preemption point at a window where an operation has
 * claimed but not yet published or released (mpmc, spsc, mpsc, broadcast,
 * sem/wsem grants, eventcount prepare->wait). Nothing at all unless the
 * library is built with the CMake option LFP_TEST_HOOKS (a test build, which
 * defines LFP_TEST_HOOKS for the library and everything linking it); then it
 * calls lfp_test_hook_, which may yield, spin or sleep as the environment
 * says (src/test_hook.c). site is a static string naming the window. */
#ifdef LFP_TEST_HOOKS
LFP_API void lfp_test_hook_(const char *site);
#define LFP_TEST_HOOK(site) lfp_test_hook_(site)
#else
#define LFP_TEST_HOOK(site) ((void)0)
#endif

static inline int64_t lfp_time_add(int64_t t, int64_t d)
{
    if (d > 0 && t > INT64_MAX - d) return INT64_MAX;
    if (d < 0 && t < INT64_MIN - d) return INT64_MIN;
    return t + d;
}

LFP_API extern LFP_THREAD_LOCAL unsigned lfp_thread_slot_;   /* slot + 1; 0 = none */
LFP_API unsigned lfp_thread_slot_assign_(void);

static inline unsigned lfp_thread_slot(void)
{
    unsigned s = lfp_thread_slot_;
    if (LFP_UNLIKELY(s == 0))
        s = lfp_thread_slot_assign_();
    return s - 1;
}

#ifdef __cplusplus
}
#endif
#endif
