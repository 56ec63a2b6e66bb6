/* SPDX-License-Identifier: BSD-2-Clause */
/* The clock of the rate limiters' plain takes: lfp_now() readings reused for
 * a few hundred nanoseconds, measured by the TSC. The argument (why this
 * mints and loses nothing) is in ratelimit_internal.h. */
#include "ratelimit_internal.h"

#if LFP_RL_TSC
#include <cpuid.h>
#if defined(__linux__)
#include <sys/prctl.h>
#endif
#endif

_Thread_local lfp_rl_clock_ lfp_rl_clock_tls_ LFP_RL_TLS_MODEL_;
_Atomic int lfp_rl_tsc_usable_;

#if LFP_RL_TSC
/* Invariant TSC (constant rate, counting in every idle state) that this
 * process may read. */
static bool tsc_usable(void)
{
    unsigned a, b, c, d;
    if (!__get_cpuid(0x80000007u, &a, &b, &c, &d) || !(d & (1u << 8)))
        return false;
#if defined(__linux__) && defined(PR_GET_TSC)
    int mode = 0;
    if (prctl(PR_GET_TSC, &mode, 0, 0, 0) != 0 || mode != PR_TSC_ENABLE)
        return false;
#endif
    return true;
}
#endif

int64_t lfp_rl_now_slow_(void)
{
#if LFP_RL_TSC
    /* relaxed: every thread decides the same; a race only decides twice. */
    int usable = atomic_load_explicit(&lfp_rl_tsc_usable_, memory_order_relaxed);
    if (usable == 0) {
        usable = tsc_usable() ? 1 : -1;
        atomic_store_explicit(&lfp_rl_tsc_usable_, usable, memory_order_relaxed);
    }
    if (usable > 0) {
        /* The stamp is taken before the reading, so the reuse span bounds
         * the reading's age (up to the few tens of ns by which the
         * processor may reorder rdtsc with its neighbours). */
        uint64_t stamp = __rdtsc();
        int64_t now = lfp_now();
        lfp_rl_clock_ *c = &lfp_rl_clock_tls_;
        c->ns = now;
        c->tsc = stamp;
        return now;
    }
#endif
    return lfp_now();
}
