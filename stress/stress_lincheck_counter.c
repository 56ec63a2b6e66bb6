/* SPDX-License-Identifier: BSD-2-Clause */
/* Linearizability of the counters: many short random histories (default 3
 * threads x 6 ops: add with a small random delta, or get) of lfp_counter and
 * of its twin lfp_locked_counter, each checked against the sequential
 * counter (add returns the new value, get the current one).
 * Ops are distinct deltas in 1..4 so that a wrong return value has few
 * chances to match some other order by accident. */
#include "lincheck.h"
#include "lfpat/counter.h"
#include "lfpat/locked.h"

static lfp_counter ctr;
static lfp_locked_counter locked;

static void reset_lfp(void *obj, void *init)
{
    lfp_counter_init(obj, 0);
    ((lfpl_counter_state *)init)->value = 0;
}

static void reset_locked(void *obj, void *init)
{
    lfp_locked_counter_destroy(obj);
    lfp_locked_counter_init(obj, 0);
    ((lfpl_counter_state *)init)->value = 0;
}

/* One random op, logged: add (2 in 3) or get, on the lock-free counter or
 * the twin. */
static void random_op(void *obj, lfpl_log *log, int tid, lfps_rng *rng, bool twin)
{
    bool add = lfps_below(rng, 3) != 0;
    int64_t d = 1 + (int64_t)lfps_below(rng, 4);
    lfpl_op *op = lfpl_begin(log, tid, add ? LFPL_ADD : LFPL_GET, d);
    int64_t v;
    if (twin)
        v = add ? lfp_locked_counter_add(obj, d) : lfp_locked_counter_get(obj);
    else
        v = add ? lfp_counter_add(obj, d) : lfp_counter_get(obj);
    lfpl_end(op, 0, v);
}

static void op_lfp(void *obj, lfpl_log *log, int tid, lfps_rng *rng) { random_op(obj, log, tid, rng, false); }
static void op_locked(void *obj, lfpl_log *log, int tid, lfps_rng *rng) { random_op(obj, log, tid, rng, true); }

int main(void)
{
    lfps_init("stress_lincheck_counter");
    int threads = lfps_threads(3);
    lfp_locked_counter_init(&locked, 0);
    const lfpl_stress runs[] = {
        { "lfp_counter", &lfpl_counter_spec, threads, 6, 20000, reset_lfp, op_lfp, &ctr, false },
        { "lfp_locked_counter", &lfpl_counter_spec, threads, 6, 20000, reset_locked, op_locked, &locked, false },
    };
    for (size_t i = 0; i < sizeof runs / sizeof runs[0]; i++) {
        lfpl_result r = lfpl_stress_run(&runs[i]);
        LFPS_CHECK(r.histories > 0, "%s: no history checked", runs[i].name);
    }
    lfp_locked_counter_destroy(&locked);
    return lfps_finish();
}
