/* SPDX-License-Identifier: BSD-2-Clause */
/* stress/litmus.h — memory-model litmus tests on the round runner.
 *
 * A litmus test is a handful of threads, each a few loads and stores on
 * shared atomics, run many times with the threads released together; after
 * every round the outcome (the values the loads returned, or the final
 * state) is classified and counted. The histogram is printed.
 *
 * Two kinds:
 *  - CHECKED: the orderings forbid some outcomes (forbidden_mask). Seeing one
 *    is a failing check: the compiler, the hardware or the library broke the
 *    memory model.
 *  - CONTROL: deliberately under-ordered; the forbidden outcome is allowed by
 *    C11 and the hardware is expected to show it. Seeing it proves the test
 *    can catch the failure it guards against ("control fired"); not seeing it
 *    is reported ("control did NOT fire") but is not a failure, since it
 *    depends on timing and hardware.
 *
 * Usage: fill a litmus_test (the threads write their observations into the
 * test's own globals; outcome() reads them and returns an index), call
 * litmus_run() for each, end main with lfps_finish().
 */
#ifndef LFP_STRESS_LITMUS_H
#define LFP_STRESS_LITMUS_H

#include "rounds.h"

#define LITMUS_MAX_THREADS 4
#define LITMUS_MAX_OUTCOMES 16

typedef struct litmus_test {
    const char *name;
    const char *shape;          /* one line: the program, e.g. "x=1 ; y=1 || r0=y ; r1=x" */
    int nthreads;
    void (*thread[LITMUS_MAX_THREADS])(void);
    void (*reset)(void);        /* before the first round and after each */
    int (*outcome)(void);       /* index in [0, noutcomes) */
    int noutcomes;
    const char *outcome_names[LITMUS_MAX_OUTCOMES];  /* or all NULL: print the index */
    const char *regs;           /* with NULL names: the index's bits, e.g. "r0 r1" */
    unsigned forbidden_mask;    /* bit i set: outcome i is forbidden */
    bool control;               /* negative control: the forbidden outcome may show */
    uint64_t rounds;            /* before lfps_scale; 0 = default */
    unsigned skew;              /* max random spin before a body; 0 = default */
    /* A control runs up to LITMUS_CONTROL_STRETCH times longer than a
     * checked test (so that it fires on a busy machine too) and stops as
     * soon as it fired LITMUS_CONTROL_ENOUGH times. */
} litmus_test;

/* Run t, print its histogram and verdict. A checked test adds one
 * LFPS_CHECK (no forbidden outcome). Returns how many forbidden outcomes
 * were seen. */
uint64_t litmus_run(const litmus_test *t);

#define LITMUS_CONTROL_STRETCH 5
#define LITMUS_CONTROL_ENOUGH 20

/* Bit for outcome i in forbidden_mask. */
#define LITMUS_BIT(i) (1u << (i))

#endif
