/* SPDX-License-Identifier: BSD-2-Clause */
/* stress/harness.h — the shared helper for lfpat's stress programs.
 *
 * A stress program: parses its environment (lfps_init), starts N threads
 * released together by a barrier (lfps_run), each running a loop bounded by
 * an iteration count and a wall-clock budget (lfps_go), injects random delays
 * between steps when asked (lfps_delay), checks invariants (LFPS_CHECK) and
 * prints what it checked (lfps_finish, which is also the exit status).
 *
 * Environment:
 *   LFP_STRESS_MS       time budget per phase in ms (default 300)
 *   LFP_STRESS_THREADS  override the program's thread count (0 = its default)
 *   LFP_STRESS_DELAY    delay injection level: 0 off (default), 1 sometimes,
 *                       2 often — random sched_yield or short spins
 *   LFP_STRESS_SEED     seed (default: from the clock; always printed)
 */
#ifndef LFP_STRESS_HARNESS_H
#define LFP_STRESS_HARNESS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

typedef struct lfps_config {
    int64_t budget_ns;
    int threads_override;
    int delay_level;
    uint64_t seed;
} lfps_config;

extern lfps_config lfps_cfg;

/* Read the environment and print a header line. */
void lfps_init(const char *program);

/* Threads to use: the override if set, else dflt. */
int lfps_threads(int dflt);

/* xorshift64* generator; seeded per thread from the global seed and an id. */
typedef struct lfps_rng { uint64_t s; } lfps_rng;
void     lfps_rng_seed(lfps_rng *r, uint64_t id);
uint64_t lfps_rand(lfps_rng *r);
static inline uint64_t lfps_below(lfps_rng *r, uint64_t n) { return n ? lfps_rand(r) % n : 0; }

/* Maybe delay (yield or spin), per LFP_STRESS_DELAY. */
void lfps_delay(lfps_rng *r);

/* Per-thread context handed to a worker. */
typedef struct lfps_thread {
    int id;            /* 0 .. nthreads-1 */
    int nthreads;
    void *arg;
    lfps_rng rng;
    int64_t stop_at;   /* wall-clock budget end, set when the barrier opens */
} lfps_thread;

/* Run fn on n threads, released together; join them all. */
void lfps_run(int n, void (*fn)(lfps_thread *), void *arg);

/* Loop condition: true while i < max_iters and the time budget lasts (the
 * clock is read every 64 iterations). */
bool lfps_go(lfps_thread *t, uint64_t i, uint64_t max_iters);

/* Count an invariant check; on failure print it and remember. Thread-safe. */
void lfps_check_(bool ok, const char *file, int line, const char *expr, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
#define LFPS_CHECK(cond, ...) lfps_check_((cond), __FILE__, __LINE__, #cond, __VA_ARGS__)

/* Add to the printed operation count. */
void lfps_ops(uint64_t n);

/* Print "<program>: N checks, N failures, N ops" and return the exit status. */
int lfps_finish(void);

#endif
