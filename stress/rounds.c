/* SPDX-License-Identifier: BSD-2-Clause */
#include "rounds.h"

#include <sched.h>
#include <stdatomic.h>
#include <time.h>
#include <unistd.h>

#include "lfpat/common.h"

struct rounds_run {
    const lfps_rounds *spec;
    alignas(LFP_CACHELINE) _Atomic uint64_t gen;    /* round now allowed to run */
    alignas(LFP_CACHELINE) _Atomic int arrived;     /* bodies finished this round */
    _Atomic bool stop;
    _Atomic int64_t start_at;   /* lfp_now() at which this round's bodies start */
    unsigned spin_polls;        /* polls before each yield */
    int64_t stop_at;            /* lfp_now() at which the budget ends */
};

/* How far ahead the opener schedules the next round's start: long enough for
 * every spinning thread to see the new generation, so that all bodies start
 * within a clock read (~30 ns) of each other instead of the opener always
 * going first. */
#define ROUND_LEAD_NS 1500

uint64_t lfps_scale(uint64_t n)
{
    uint64_t s = LFP_TSAN ? n / 10 : n;
    return s ? s : 1;
}

/* Spin until gen moves past `seen`, yielding every spin_polls polls so that
 * a descheduled thread can run (2 cores, often shared). */
static uint64_t wait_gen(struct rounds_run *run, uint64_t seen)
{
    unsigned polls = 0;
    uint64_t g;
    /* acquire: pairs with the release store of gen in finish_round, so the
     * end() callback's reset of the shared state is visible to the body. */
    while ((g = atomic_load_explicit(&run->gen, memory_order_acquire)) == seen) {
        if (++polls % run->spin_polls == 0)
            sched_yield();
    }
    return g;
}

/* The last arriver: inspect/reset, then open the next round. */
static void finish_round(struct rounds_run *run, uint64_t round)
{
    const lfps_rounds *s = run->spec;
    bool more = s->end(round, s->arg) && round + 1 < s->max_rounds;
    if (more && (round & 63) == 63)
        more = lfp_now() < run->stop_at;
    if (!more)
        atomic_store_explicit(&run->stop, true, memory_order_relaxed);  /* relaxed: published by the gen release below */
    atomic_store_explicit(&run->arrived, 0, memory_order_relaxed);     /* relaxed: published by the gen release below */
    /* relaxed: published by the gen release below. */
    atomic_store_explicit(&run->start_at, lfp_now() + ROUND_LEAD_NS, memory_order_relaxed);
    /* release: pairs with the acquire in wait_gen; publishes the reset. */
    atomic_store_explicit(&run->gen, round + 1, memory_order_release);
}

static void worker(lfps_thread *t)
{
    struct rounds_run *run = t->arg;
    const lfps_rounds *s = run->spec;
    for (uint64_t round = 0;; round++) {
        /* relaxed: written before the gen release that wait_gen acquired. */
        int64_t start = atomic_load_explicit(&run->start_at, memory_order_relaxed);
        while (lfp_now() < start)
            ;
        s->body(t->id, &t->rng, s->arg);
        /* acq_rel: release publishes this body's writes to the last arriver;
         * acquire (in the last arriver) collects every earlier arriver's. */
        if (atomic_fetch_add_explicit(&run->arrived, 1, memory_order_acq_rel) == s->nthreads - 1)
            finish_round(run, round);
        wait_gen(run, round);
        /* relaxed: written before the gen release that wait_gen acquired. */
        if (atomic_load_explicit(&run->stop, memory_order_relaxed))
            return;
    }
}

uint64_t lfps_rounds_run(const lfps_rounds *r)
{
    struct rounds_run run = { .spec = r };
    atomic_init(&run.gen, 0);
    atomic_init(&run.arrived, 0);
    atomic_init(&run.stop, false);
    atomic_init(&run.start_at, 0);
    /* Spin longer when every thread has a CPU (the round's bodies then
     * start together); yield soon when oversubscribed or under TSan, where
     * a spinning thread only steals the time slice of the one it waits for. */
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    run.spin_polls = LFP_TSAN || r->nthreads > cpus ? 64 : 2048;
    if (r->max_rounds == 0)
        return 0;
    run.stop_at = lfp_now() + (r->budget_ns ? r->budget_ns : lfps_cfg.budget_ns);
    lfps_run(r->nthreads, worker, &run);
    return atomic_load(&run.gen);
}
