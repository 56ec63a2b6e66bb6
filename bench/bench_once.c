/* SPDX-License-Identifier: BSD-2-Clause */
/* Once benchmarks: the already-done call (the path every caller takes after
 * initialisation), lfpat vs its mutex twin vs pthread_once, at 1 and 2
 * threads (read-only: it should scale).
 * The call under test can cost under a cycle, as much as the batch loop's
 * own counter and branch, so every implementation runs the same loop
 * unrolled 4x and sums into a register (only the final sum escapes): what is
 * timed is the calls, not the harness. */
#include <pthread.h>

#include "lfpat.h"
#include "shim/shim.h"

#define BATCH 256

static int nop(void *arg) { (void)arg; return 0; }
static void pthread_nop(void) {}

/* Each on its own cache line (none shares a line with another's writes). */
static alignas(LFP_CACHELINE) lfp_once once = LFP_ONCE_INIT;
static alignas(LFP_CACHELINE) lfp_locked_once locked = LFP_LOCKED_ONCE_INIT;
static alignas(LFP_CACHELINE) pthread_once_t ponce = PTHREAD_ONCE_INIT;

#define DONE_BENCH(fname, expr)                                          \
    static void fname(lfpb_state *st, void *arg)                         \
    {                                                                    \
        (void)arg;                                                       \
        int acc = 0;                                                     \
        while (lfpb_keep_running_batch(st, BATCH))                       \
            for (int i = 0; i < BATCH; i += 4) {                         \
                acc += (expr);                                           \
                acc += (expr);                                           \
                acc += (expr);                                           \
                acc += (expr);                                           \
            }                                                            \
        int sink = acc;                                                  \
        lfpb_do_not_optimize(&sink);                                     \
        lfpb_set_items(st, lfpb_iterations(st));                         \
    }

DONE_BENCH(bm_lfp_once, lfp_once_call(&once, nop, NULL))
DONE_BENCH(bm_locked_once, lfp_locked_once_call(&locked, nop, NULL))
DONE_BENCH(bm_pthread_once, pthread_once(&ponce, pthread_nop))

LFPB_REGISTER(once)
{
    lfp_once_call(&once, nop, NULL);
    lfp_locked_once_call(&locked, nop, NULL);
    pthread_once(&ponce, pthread_nop);
    static const int threads[] = { 1, 2 };
    for (unsigned i = 0; i < sizeof threads / sizeof threads[0]; i++) {
        lfpb_register("once/done/lfp_once", bm_lfp_once, NULL, threads[i]);
        lfpb_register("once/done/lfp_locked_once", bm_locked_once, NULL, threads[i]);
        lfpb_register("once/done/pthread_once", bm_pthread_once, NULL, threads[i]);
    }
}
