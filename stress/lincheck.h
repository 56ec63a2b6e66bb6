/* SPDX-License-Identifier: BSD-2-Clause */
/* stress/lincheck.h — record short concurrent histories and check that they
 * are linearizable.
 *
 * Recording: every thread owns an lfpl_log. Around each call it records the
 * operation, its argument, its return code and value, and two timestamps from
 * one clock (lfp_now, CLOCK_MONOTONIC, consistent across CPUs): invoke, taken
 * before the call, and response, taken after it returned. Op A precedes op B
 * in real time iff A.response < B.invoke.
 * Real time: C11 defines an op's effect by happens-before, not by a clock. An
 * op whose last store is a plain release store (lfp_spsc's index stores,
 * lfp_mpsc's link store: no fence or RMW after them) may return while that
 * store still sits in its CPU's store buffer; another thread invoked a few
 * ns after the response then legitimately misses it, and the history looks
 * non-linearizable although every thread that synchronises with the op sees
 * it. The recorder therefore takes the response timestamp after a seq_cst
 * fence: "A responded before B was invoked" then means A's effects were
 * visible to every thread before B started. (The cost: a store->load
 * reordering spanning two ops of one thread can no longer show here; that
 * is the litmus tests' job.)
 *
 * Checking (Wing & Gong 1993, with Lowe's memoisation): search for a total
 * order of all ops that (1) respects real-time precedence and each thread's
 * program order, and (2) replayed against a sequential specification gives
 * every op exactly its recorded result. The search linearizes, at each step,
 * one "minimal" op (no pending op responded before it was invoked), and
 * memoises (set of linearized ops, spec state) pairs already explored, which
 * keeps histories of a few dozen ops cheap. Complete histories only (every op
 * responded: the threads are joined before checking).
 *
 * Specifications (lfpl_spec): FIFO queue (push/pop with EAGAIN for full and
 * empty, optionally also while a documented operation is in progress),
 * counting semaphore (try_acquire/release with EAGAIN/EOVERFLOW), counter
 * (add returns the new value; get). Adding one: a state struct of plain
 * bytes (compared with memcmp, so keep unused parts zero) and a step
 * function.
 *
 * Stress driver (lfpl_stress_run): many rounds of N threads × K random ops
 * released together by the round runner, each history checked as it ends.
 */
#ifndef LFP_STRESS_LINCHECK_H
#define LFP_STRESS_LINCHECK_H

#include <stddef.h>

#include "rounds.h"

#define LFPL_MAX_OPS 48        /* per history (the memo key is a 64-bit mask) */
#define LFPL_MAX_THREADS 8
#define LFPL_MAX_STATE 1024    /* bytes of spec state */

enum lfpl_kind {
    LFPL_PUSH, LFPL_POP,           /* FIFO: arg = pushed value; ret = popped value */
    LFPL_ACQUIRE, LFPL_RELEASE,    /* semaphore (try_acquire / release) */
    LFPL_ADD, LFPL_GET,            /* counter: arg = delta; ret = new / current value */
};

typedef struct lfpl_op {
    int64_t invoke, response;  /* lfp_now() before the call / after it returned */
    int64_t arg, ret;
    int kind, rc, thread;
} lfpl_op;

typedef struct lfpl_log {
    int n;
    lfpl_op ops[LFPL_MAX_OPS];
} lfpl_log;

/* Record the start of an op (takes the invoke timestamp); NULL when full. */
lfpl_op *lfpl_begin(lfpl_log *log, int thread, int kind, int64_t arg);
/* Record its result (takes the response timestamp). */
void lfpl_end(lfpl_op *op, int rc, int64_t ret);

typedef struct lfpl_spec {
    const char *name;
    size_t state_size;   /* <= LFPL_MAX_STATE */
    /* Apply op to state in place; false if its recorded result is impossible
     * from this state (state is then garbage). */
    bool (*step)(void *state, const lfpl_op *op);
} lfpl_spec;

/* FIFO queue of int64 values with a capacity. With busy_pops = busy_pushes
 * = 0 every EAGAIN must be exact (empty / full at the linearization point).
 * Lock-free queues document EAGAIN while another operation on the spot they
 * inspect is in progress; the spec admits exactly that and nothing more:
 *   busy_pops = k: a try_pop may also fail while the push of one of the
 *     first k queued items is in progress (that push's response is not
 *     before the pop's invoke). lfp_mpmc: 1 (the cell at head); lfp_mpsc: 2
 *     (the head node, and the link behind it that detaching it needs).
 *   busy_pushes = 1: a try_push may also fail while the pop that frees its
 *     cell (the pop of position pushes - cap) is in progress. lfp_mpmc.
 * Set cap (<= LFPL_FIFO_RING when busy_pushes) and the two knobs in the
 * initial state; the rest is bookkeeping and starts zero. */
#define LFPL_FIFO_MAX LFPL_MAX_OPS
#define LFPL_FIFO_RING 16
typedef struct lfpl_fifo_state {
    int64_t cap, n;
    int32_t busy_pops, busy_pushes;
    int64_t pushes;                       /* successful pushes linearized so far */
    int64_t items[LFPL_FIFO_MAX];
    int64_t pushed_at[LFPL_FIFO_MAX];     /* response of items[i]'s push (busy_pops) */
    int64_t popped_at[LFPL_FIFO_RING];    /* response of the pop of position p, at p % cap (busy_pushes) */
} lfpl_fifo_state;
/* Counting semaphore: permits available out of cap. */
typedef struct lfpl_sem_state { int64_t cap, avail; } lfpl_sem_state;
/* Counter. */
typedef struct lfpl_counter_state { int64_t value; } lfpl_counter_state;

extern const lfpl_spec lfpl_fifo_spec, lfpl_sem_spec, lfpl_counter_spec;

enum lfpl_verdict { LFPL_LINEARIZABLE, LFPL_VIOLATION, LFPL_TOO_BIG };

/* Check the history formed by logs[0..nlogs) against spec from init (a
 * spec state). On a violation, prints the history to stderr when `print`. */
enum lfpl_verdict lfpl_check(const lfpl_spec *spec, const void *init,
                             const lfpl_log *logs, int nlogs, bool print);

/* The stress driver. The object under test is reached through the callbacks. */
typedef struct lfpl_stress {
    const char *name;
    const lfpl_spec *spec;
    int nthreads;
    int ops_per_thread;          /* capped so that the history fits LFPL_MAX_OPS */
    uint64_t histories;          /* rounds (before lfps_scale) */
    /* Make the object fresh and write the matching spec state to init. */
    void (*reset)(void *obj, void *init);
    /* Perform one random op on the object and record it in log. */
    void (*op)(void *obj, lfpl_log *log, int tid, lfps_rng *rng);
    void *obj;
    /* false: every history is an LFPS_CHECK that must pass; true (the
     * checker's own negative control): violations are counted, not failed. */
    bool expect_violations;
} lfpl_stress;

typedef struct lfpl_result { uint64_t histories, ops, violations, too_big; } lfpl_result;

/* Run it and print a one-line summary. Adds the ops to lfps_ops; each
 * history is one LFPS_CHECK unless expect_violations. */
lfpl_result lfpl_stress_run(const lfpl_stress *s);

#endif
