/* SPDX-License-Identifier: BSD-2-Clause */
/* stress/rounds.h — many short rounds, all threads released together.
 *
 * Litmus tests and linearizability histories need the same thing: run a tiny
 * per-thread body on N threads, all starting at (nearly) the same instant,
 * then let one thread inspect and reset the shared state, and repeat — tens of
 * thousands of times per second. A pthread barrier per round costs two futex
 * round trips; this runner instead spins on an atomic generation counter:
 *
 *   every thread: wait until gen == round   (acquire: sees the reset state)
 *                 body(tid)
 *                 arrive (acq_rel fetch-add): the LAST arriver calls end(),
 *                 which sees every body's writes, then bumps gen (release).
 *
 * Spinning threads yield after a short while, so oversubscribed runs (more
 * threads than cores) still make progress. Rounds stop at max_rounds, when
 * end() returns false, or when the harness time budget (LFP_STRESS_MS) runs
 * out — whichever comes first. Under ThreadSanitizer (~10x slower) callers
 * scale their round counts with lfps_scale().
 */
#ifndef LFP_STRESS_ROUNDS_H
#define LFP_STRESS_ROUNDS_H

#include "harness.h"

typedef struct lfps_rounds {
    int nthreads;
    uint64_t max_rounds;
    /* One thread's part of a round; tid in [0, nthreads). */
    void (*body)(int tid, lfps_rng *rng, void *arg);
    /* Called by exactly one thread after every body of the round returned
     * (everything they wrote is visible) and before the next round starts:
     * record, check, reset. Return false to stop early. */
    bool (*end)(uint64_t round, void *arg);
    void *arg;
    int64_t budget_ns;   /* time budget; 0 = the harness's (LFP_STRESS_MS) */
} lfps_rounds;

/* Run the rounds; returns how many completed. */
uint64_t lfps_rounds_run(const lfps_rounds *r);

/* n, divided by 10 under ThreadSanitizer (at least 1). */
uint64_t lfps_scale(uint64_t n);

#endif
