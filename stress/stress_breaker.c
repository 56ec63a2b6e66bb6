/* SPDX-License-Identifier: BSD-2-Clause */
/* Stress: circuit breaker under a flaky dependency.
 *
 * Threads (more than the cores) call allow(); admitted calls "run" (delay
 * injection) against a dependency whose failure rate flips every few
 * milliseconds, so the breaker cycles through all its states, and record the
 * result. Checked:
 *  - in each HALF_OPEN generation, never more than max_probes probes in
 *    flight (a per-generation counter, decremented before the record that
 *    frees the slot);
 *  - callbacks form one chain: generation +1 each time, each `from` is the
 *    previous `to`, only legal transitions (plain data under the callback
 *    lock: TSan checks that it is one);
 *  - at the end (quiescent) a HALF_OPEN breaker has no probe slot leaked,
 *    and the last callback matches the final state and generation;
 *  - every CLOSED generation that opened saw at least failure_threshold
 *    failures of its own (tickets of that generation): failures of an
 *    earlier CLOSED period (the window is 10 open periods long) and stale
 *    results never count towards a later one. */
#include "harness.h"
#include "lfpat.h"

enum { MAX_PROBES = 2, THRESHOLD = 5, GEN_SLOTS = 4096 };

static lfp_breaker brk;
static _Atomic int probes_in_flight[GEN_SLOTS];
static _Atomic uint32_t failures_of[GEN_SLOTS];   /* CLOSED-ticket failures per generation */
static bool opened_from[GEN_SLOTS];               /* CLOSED gen g opened (callback) */
static _Atomic uint64_t admitted, rejected, stale;

/* callback chain (guarded by the breaker's callback lock) */
static lfp_breaker_state last_to = LFP_BREAKER_CLOSED;
static uint32_t last_gen;
static uint64_t changes;

static bool legal(lfp_breaker_state from, lfp_breaker_state to)
{
    return (from == LFP_BREAKER_CLOSED && to == LFP_BREAKER_OPEN) ||
           (from == LFP_BREAKER_OPEN && to == LFP_BREAKER_HALF_OPEN) ||
           (from == LFP_BREAKER_HALF_OPEN && to != LFP_BREAKER_HALF_OPEN);
}

static void on_change(void *arg, lfp_breaker_state from, lfp_breaker_state to, uint32_t gen)
{
    (void)arg;
    LFPS_CHECK(gen == last_gen + 1, "callback gen %u after %u", gen, last_gen);
    LFPS_CHECK(from == last_to, "callback from %d, previous to %d", from, last_to);
    LFPS_CHECK(legal(from, to), "illegal transition %d -> %d", from, to);
    if (from == LFP_BREAKER_CLOSED && gen < GEN_SLOTS)
        opened_from[gen - 1] = true;
    last_gen = gen;
    last_to = to;
    changes++;
}

/* The dependency fails mostly during odd 4 ms periods. */
static bool dependency_ok(lfps_thread *t)
{
    bool bad_period = (lfp_now() >> 22) & 1;
    return lfps_below(&t->rng, 100) >= (bad_period ? 80u : 5u);
}

static void caller(lfps_thread *t)
{
    uint64_t i = 0;
    for (; lfps_go(t, i, 2000000); i++) {
        lfp_breaker_ticket tk;
        if (lfp_breaker_allow(&brk, &tk) != 0) {
            atomic_fetch_add_explicit(&rejected, 1, memory_order_relaxed);
            lfps_delay(&t->rng);
            continue;
        }
        atomic_fetch_add_explicit(&admitted, 1, memory_order_relaxed);
        _Atomic int *slot = &probes_in_flight[tk.gen % GEN_SLOTS];
        if (tk.probe) {
            int n = atomic_fetch_add(slot, 1) + 1;
            LFPS_CHECK(n <= MAX_PROBES, "gen %u: %d probes in flight", tk.gen, n);
        }
        lfps_delay(&t->rng);
        bool ok = dependency_ok(t);
        if (tk.probe)
            atomic_fetch_sub(slot, 1);
        else if (!ok)
            atomic_fetch_add(&failures_of[tk.gen % GEN_SLOTS], 1);
        if (lfp_breaker_record(&brk, tk, ok) == ESTALE)
            atomic_fetch_add_explicit(&stale, 1, memory_order_relaxed);
    }
    lfps_ops(i);
}

int main(void)
{
    lfps_init("stress_breaker");
    struct lfp_breaker_config cfg = {
        .failure_threshold = THRESHOLD, .window_ns = 10000000, .window_buckets = 10,
        .open_ns = 1000000, .max_probes = MAX_PROBES, .close_after = 3,
        .on_change = on_change,
    };
    LFPS_CHECK(lfp_breaker_init(&brk, &cfg) == 0, "init");
    lfps_run(lfps_threads(6), caller, NULL);
    uint32_t gen;
    lfp_breaker_state st = lfp_breaker_state_of(&brk, &gen);
    LFPS_CHECK(gen == last_gen && st == last_to, "final %d/%u, last callback %d/%u", st, gen,
               last_to, last_gen);
    for (uint32_t g = 0; g < GEN_SLOTS && g < gen; g++)
        LFPS_CHECK(!opened_from[g] || failures_of[g] >= THRESHOLD,
                   "gen %u opened after %u failures of its own", g, failures_of[g]);
    if (st == LFP_BREAKER_HALF_OPEN)
        LFPS_CHECK((lfp_brk_payload_(atomic_load(&brk.state)) & 0xffff) == 0,
                   "probe slots leaked");
    printf("  %llu admitted, %llu rejected, %llu stale results, %llu state changes\n",
           (unsigned long long)admitted, (unsigned long long)rejected,
           (unsigned long long)stale, (unsigned long long)changes);
    lfp_breaker_destroy(&brk);
    return lfps_finish();
}
