/* SPDX-License-Identifier: BSD-2-Clause */
/* lfp_once slow path: claim, run, publish, park. The state machine and the
 * argument for why no parked waiter is forgotten are in lfpat/once.h. */
#include "lfpat/once.h"

#include <limits.h>

#include "fork.h"
#include "park.h"

enum { UNSET = LFP_ONCE_UNSET_, RUNNING = LFP_ONCE_RUNNING_, WAITED = LFP_ONCE_WAITED_,
       DONE = LFP_ONCE_DONE_, RETRY = LFP_ONCE_RETRY_, FAILED = LFP_ONCE_FAILED_ };

/* RUNNING and WAITED carry the fork generation of the process whose thread
 * runs fn in the bits above the state (see once.h, "fork"). */
#define KIND_BITS 3u
#define KIND(s) ((s) & ((1u << KIND_BITS) - 1))

static uint32_t generation_bits(void)
{
    return lfp_fork_generation() & (UINT32_MAX >> KIND_BITS);   /* wraps after 2^29 forks */
}

static uint32_t with_generation(uint32_t kind)
{
    return kind | (generation_bits() << KIND_BITS);
}

/* Run fn as the claimed runner and publish the outcome. */
static int run(lfp_once *o, int (*fn)(void *), void *arg, bool retry)
{
    int r = fn(arg);
    if (r != 0 && retry) {
        /* release: pairs with the acquire CAS of the next claimer, so the
         * retry sees what this failed attempt did. With parked waiters, go
         * to RETRY and wake one of them to retry; the others stay parked
         * until a claimant of RETRY (as WAITED) finishes. */
        /* relaxed: the CAS's first guess (RUNNING or WAITED); re-validated. */
        uint32_t prev = atomic_load_explicit(&o->state, memory_order_relaxed);
        uint32_t next;
        do
            next = KIND(prev) == WAITED ? RETRY : UNSET;
        while (!atomic_compare_exchange_weak_explicit(&o->state, &prev, next,
                                                      memory_order_release,
                                                      memory_order_relaxed));
        if (next == RETRY)
            lfp_park_wake(&o->state, 1);
        return r;
    }
    o->result = r;
    /* release: the happens-before edge of once.h; publishes fn's effects and
     * result to the acquire loads of DONE/FAILED (fast path, woken waiters). */
    if (KIND(atomic_exchange_explicit(&o->state, r == 0 ? DONE : FAILED,
                                      memory_order_release)) == WAITED)
        lfp_park_wake(&o->state, INT_MAX);
    return r;
}

int lfp_once_call_slow_(lfp_once *o, int (*fn)(void *), void *arg, bool retry)
{
    if (!o || !fn)
        return EINVAL;
    lfp_fork_register();
    for (;;) {
        /* acquire: pairs with the release exchanges in run(). */
        uint32_t s = atomic_load_explicit(&o->state, memory_order_acquire);
        if (s == DONE || s == FAILED)
            return o->result;
        if (s == UNSET || s == RETRY) {
            /* acquire: pairs with the release CAS of a failed attempt. */
            if (atomic_compare_exchange_strong_explicit(&o->state, &s,
                                                        with_generation(s == RETRY ? WAITED : RUNNING),
                                                        memory_order_acquire,
                                                        memory_order_relaxed))
                return run(o, fn, arg, retry);
            continue;
        }
        if (s >> KIND_BITS != generation_bits()) {
            /* fn was being run by a thread of an ancestor process, which this
             * child does not have: nobody will finish it here. Start over, as
             * glibc's pthread_once does. relaxed: as the claim CAS above, which
             * gives the acquire when this thread then claims UNSET. */
            atomic_compare_exchange_strong_explicit(&o->state, &s, UNSET,
                                                    memory_order_relaxed,
                                                    memory_order_relaxed);
            continue;
        }
        /* relaxed: marking WAITED publishes nothing; the runner's exchange
         * reads it (RMWs on one word are totally ordered), which is all the
         * wake decision needs. */
        uint32_t waited = with_generation(WAITED);
        if (KIND(s) == RUNNING &&
            !atomic_compare_exchange_strong_explicit(&o->state, &s, waited,
                                                     memory_order_relaxed,
                                                     memory_order_relaxed))
            continue;
        /* Returns at once if the state already moved on; re-check either way. */
        lfp_park_wait(&o->state, waited, LFP_FOREVER);
    }
}
