/* SPDX-License-Identifier: BSD-2-Clause */
/* lfpat/counter.h — counters: one atomic word, or striped across cache lines.
 *
 * lfp_counter is a single 64-bit atomic: every add is one relaxed fetch-add,
 * wait-free, linearizable, and the returned value is exact. Under contention
 * every add moves the same cache line between cores.
 *
 * lfp_striped spreads adds over cells, each on its own cache line. Every live
 * thread holds a dense slot (lfp_thread_slot, common.h). A thread whose slot
 * is below `cells` owns exclusive cell [slot]: it is that cell's only writer,
 * so its add is a relaxed load and a relaxed store — no locked instruction,
 * no shared line, a fraction of a nanosecond. Threads beyond `cells` add with
 * a fetch-add to one of `cells` shared overflow cells. A slot (and its cell)
 * passes to a new thread only after its previous holder exited, and that exit
 * happens-before the reassignment, so no update is lost. lfp_striped_sum
 * reads every cell. Size `cells` to the number of threads that add.
 *
 * Ordering: none. Counters carry no happens-before edge: an add publishes
 * only its own increment. Use them for statistics and totals, not to signal
 * that other data is ready (use a queue, a future or a wait group for that).
 * Evidence: coherence (CoRR) in stress/litmus/litmus_coherence.c, no torn
 * 64-bit reads in litmus_torn.c, linearizability of add/get in
 * stress/stress_lincheck_counter.c.
 *
 * Sum semantics: lfp_striped_sum is not a linearizable snapshot while adds run
 * concurrently: it returns the sum of each cell's value at some moment during
 * the call. When every concurrent add is positive, successive sums taken by
 * one thread never decrease, and a sum taken after every adder has been
 * joined is exact.
 *
 * Copying: an lfp_counter or lfp_striped must not be copied or moved after
 * init: a copy of a counter is a separate counter, updates to one are lost to
 * the other; a copy of an lfp_striped shares its cells, and destroying both
 * frees them twice. Use it where it was initialised, through pointers.
 *
 * Fork: a child of fork may call every call of this header on any counter,
 * even one parent threads were updating at the fork: each update is a single
 * atomic store or read-modify-write, which the fork copied either done or not
 * begun (the thread-slot table lfp_striped uses is held across fork by
 * lfpat's atfork handlers, src/fork.c, so it is never copied locked).
 */
#ifndef LFPAT_COUNTER_H
#define LFPAT_COUNTER_H

#include "lfpat/common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct lfp_counter {
    _Atomic(int64_t) value;
} lfp_counter;

#define LFP_COUNTER_INIT(v) { (v) }

/* Progress: wait-free. */
static inline void lfp_counter_init(lfp_counter *c, int64_t v);

/* Add d and return the new value (wraps modulo 2^64 like unsigned
 * arithmetic; no undefined behaviour). Progress: wait-free. */
static inline int64_t lfp_counter_add(lfp_counter *c, int64_t d);

/* Progress: wait-free. */
static inline int64_t lfp_counter_get(const lfp_counter *c);

static inline void lfp_counter_destroy(lfp_counter *c);

/* ------------------------------------------------------------ striped */

/* Largest accepted cell count (256 KiB of cells). */
#define LFP_STRIPED_MAX_CELLS 4096u

typedef struct lfp_striped_cell {
    alignas(LFP_CACHELINE) _Atomic(int64_t) value;
} lfp_striped_cell;

typedef struct lfp_striped {
    lfp_striped_cell *cells;    /* [0, n): exclusive by slot; [n, 2n): shared */
    unsigned mask;              /* n - 1; n is a power of two */
} lfp_striped;

/* Initialise with `cells` cells, rounded up to a power of two; 0 chooses
 * twice the number of online CPUs (at least 4). Returns 0; EINVAL if c is
 * NULL or cells > LFP_STRIPED_MAX_CELLS; ENOMEM. */
LFP_API int lfp_striped_init(lfp_striped *c, unsigned cells);

/* Free the cells. The counter must be quiescent. NULL is ignored. */
LFP_API void lfp_striped_destroy(lfp_striped *c);

/* The number of exclusive cells chosen at init. */
static inline unsigned lfp_striped_cells(const lfp_striped *c);

/* Add d (wrapping). Progress: wait-free; contended only when more threads
 * than cells add at once. */
static inline void lfp_striped_add(lfp_striped *c, int64_t d);

/* The sum of all cells (wrapping); see "Sum semantics" above.
 * Progress: wait-free (one relaxed load per cell). */
LFP_API int64_t lfp_striped_sum(const lfp_striped *c);

#ifdef __cplusplus
}
#endif

/* The inline definitions (internal, not part of the API). */
#include "lfpat/internal/counter.h"
#endif
