/* SPDX-License-Identifier: BSD-2-Clause */
/* stress/quiet.h — phases that end without close().
 *
 * close() wakes every waiter, so a run that ends by closing hides a lost
 * wake-up: the waiter that should have been woken is woken by the close
 * instead. A quiet phase stops its producers (notifiers) after a known
 * amount of work and then checks, with a bounded wait, that every waiter
 * whose condition holds returns. The workers count their completed
 * operations on a progress word; the checker waits until the count reaches
 * its target, and fails if it makes no progress for LFPS_QUIET_STALL_NS —
 * a generous bound (the phases take milliseconds) that a correct run never
 * needs: it only turns "parked forever" into a failed check. Only after
 * that may the phase close the object to shut its threads down.
 *
 * The counter is bumped after the operation returns, so it orders nothing
 * of the primitive under test; its futex is woken only when the target is
 * reached (the checker re-reads it every stall period otherwise). */
#ifndef LFP_STRESS_QUIET_H
#define LFP_STRESS_QUIET_H

#include <limits.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "harness.h"
#include "park.h"   /* src/park.h: a bounded wait that is not the code under test */

#define LFPS_QUIET_STALL_NS (10 * 1000000000LL)

typedef struct lfps_progress {
    _Atomic uint32_t n;
    uint32_t target;
} lfps_progress;

static inline void lfps_progress_init(lfps_progress *p, uint32_t target)
{
    atomic_init(&p->n, 0);
    p->target = target;
}

/* A worker completed k operations. relaxed: the count is a report; the
 * checker's verdicts on the data come after the join (or are snapshots). */
static inline void lfps_progress_add(lfps_progress *p, uint32_t k)
{
    uint32_t v = atomic_fetch_add_explicit(&p->n, k, memory_order_relaxed) + k;
    if (v >= p->target && v - k < p->target)
        lfp_park_wake(&p->n, INT_MAX);
}

static inline uint32_t lfps_progress_get(lfps_progress *p)
{
    return atomic_load_explicit(&p->n, memory_order_relaxed);
}

/* Wait until the count reaches its target. Returns true; false (after a
 * failed LFPS_CHECK naming `what`) if it stalled for LFPS_QUIET_STALL_NS. */
static inline bool lfps_progress_wait(lfps_progress *p, const char *what)
{
    uint32_t last = lfps_progress_get(p);
    int64_t deadline = lfp_after(LFPS_QUIET_STALL_NS);
    for (;;) {
        uint32_t v = lfps_progress_get(p);
        if (v >= p->target)
            return true;
        if (v != last) {
            last = v;
            deadline = lfp_after(LFPS_QUIET_STALL_NS);
        } else if (lfp_now() >= deadline) {
            LFPS_CHECK(false, "%s: stuck at %u of %u operations for %lld s without close: "
                       "a waiter stays parked while its condition holds", what, v, p->target,
                       LFPS_QUIET_STALL_NS / 1000000000LL);
            return false;
        }
        lfp_park_wait(&p->n, v, deadline);
    }
}

/* Staging, not synchronisation: poll cond (pause-spins, then 20 us naps)
 * for at most LFPS_STAGE_NS, so that a notifier acts only once its waiters
 * are (probably) parked — the moment a lost wake-up needs. Returns whether
 * cond held; a phase must be correct and its checks valid either way. */
#define LFPS_STAGE_NS (100 * 1000000LL)

static inline bool lfps_stage(bool (*cond)(void *), void *arg)
{
    int64_t deadline = lfp_after(LFPS_STAGE_NS);
    for (unsigned i = 0; !cond(arg); i++) {
        if (lfp_now() >= deadline)
            return false;
        if (i < 64) {
            lfp_spin_pause(0);
        } else {
            struct timespec ts = { 0, 20000 };
            nanosleep(&ts, NULL);
        }
    }
    return true;
}

#endif
