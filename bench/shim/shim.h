/* SPDX-License-Identifier: BSD-2-Clause */
/* bench/shim/shim.h — google benchmark, driven from C.
 *
 * google benchmark is C++; this shim (one C++ translation unit, shim.cc)
 * exposes what lfpat's C benchmark bodies need. A benchmark file registers
 * its cases from a constructor function:
 *
 *     static void bm_add(lfpb_state *st, void *arg) {
 *         while (lfpb_keep_running_batch(st, 256))
 *             for (int i = 0; i < 256; i++) lfp_counter_add(arg, 1);
 *         lfpb_set_items(st, lfpb_iterations(st));
 *     }
 *     LFPB_REGISTER(counter) {
 *         lfpb_register("counter/add/lfp_counter", bm_add, &c, 2);
 *     }
 *
 * Naming convention, which scripts/bench_report.py relies on:
 *     "<family>/<case>/<impl>"  and google benchmark appends /threads:N.
 *   impl starting "lfp_locked_" is the mutex twin, "lfp_" an lfpat primitive,
 *   anything else a peer (ck_ring, urcu_wfcq, sem_t, pthread_once, ...).
 *   Every benchmark reports items/s (lfpb_set_items): higher is better, and
 *   ratios compare items/s of lfpat vs twin vs best peer for the same
 *   family/case/threads.
 *
 * Threads: lfpb_register(..., threads) with threads >= 1 runs the body on
 * that many threads (same iteration count each; the first and last
 * KeepRunning act as barriers), always with real (wall) time.
 * lfpb_register_manual registers a single-threaded body that times itself
 * (lfpb_set_iteration_time) — for harnesses that spawn their own threads and
 * measure one global wall clock (oversubscribed queue runs). Put
 * "/threads:N" at the end of such a name yourself.
 */
#ifndef LFPB_SHIM_H
#define LFPB_SHIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct lfpb_state lfpb_state;
typedef void (*lfpb_fn)(lfpb_state *st, void *arg);

void lfpb_register(const char *name, lfpb_fn fn, void *arg, int threads);
void lfpb_register_manual(const char *name, lfpb_fn fn, void *arg);

bool    lfpb_keep_running(lfpb_state *st);                /* one iteration */
bool    lfpb_keep_running_batch(lfpb_state *st, int64_t n); /* n iterations */
int64_t lfpb_iterations(const lfpb_state *st);   /* iterations this thread ran */
int     lfpb_thread_index(const lfpb_state *st);
int     lfpb_threads(const lfpb_state *st);
int64_t lfpb_max_iterations(const lfpb_state *st);
void    lfpb_pause_timing(lfpb_state *st);
void    lfpb_resume_timing(lfpb_state *st);
void    lfpb_set_iteration_time(lfpb_state *st, double seconds);  /* manual */
void    lfpb_set_items(lfpb_state *st, int64_t items);   /* items processed by this thread */
void    lfpb_set_counter(lfpb_state *st, const char *name, double value); /* averaged */
void    lfpb_skip_with_error(lfpb_state *st, const char *msg);
void    lfpb_do_not_optimize(void *p);

/* Run every registered benchmark with google benchmark's command line. */
int lfpb_main(int argc, char **argv);

#define LFPB_REGISTER(tag) \
    __attribute__((constructor)) static void lfpb_register_##tag(void)

#ifdef __cplusplus
}
#endif
#endif
