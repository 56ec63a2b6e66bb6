/* SPDX-License-Identifier: BSD-2-Clause */
/* Circuit breaker around a flaky function — the Circuit Breaker article,
 * done with lfp_breaker.
 *
 * A fake service fails while it is "down" (the first ~150 ms of the run and
 * again from 400 to 450 ms) and succeeds otherwise. Four client threads call
 * it through one breaker (3 failures within 100 ms open it; 40 ms pause; 2
 * probes in flight; 3 successful probes close it). The transcript is the
 * state-change callback plus a summary. Checked: the callbacks form one
 * chain (generation +1, from == previous to), the breaker opened while the
 * service was down and is CLOSED at the end, and never more than 2 probes
 * ran at once. */
#include <pthread.h>
#include <sched.h>
#include <stdio.h>

#include "lfpat.h"

#define MS 1000000LL

static int64_t t0;
static lfp_breaker breaker;
static _Atomic int probes_running, max_probes_seen;
static _Atomic long calls, rejected, stale;
static int failures;
static lfp_breaker_state last_to = LFP_BREAKER_CLOSED;
static uint32_t last_gen, opens;

static bool service_down(void)
{
    int64_t ms = (lfp_now() - t0) / MS;
    return ms < 150 || (ms >= 400 && ms < 450);
}

/* The flaky function: takes ~1 ms, fails while the service is down. */
static int flaky_call(void)
{
    int64_t until = lfp_after(1 * MS);
    while (lfp_now() < until)
        sched_yield();
    return service_down() ? EIO : 0;
}

static void on_change(void *arg, lfp_breaker_state from, lfp_breaker_state to, uint32_t gen)
{
    (void)arg;
    printf("  %4lld ms  %-9s -> %-9s (generation %u)\n", (long long)((lfp_now() - t0) / MS),
           lfp_breaker_state_name(from), lfp_breaker_state_name(to), gen);
    if (gen != last_gen + 1 || from != last_to) {
        printf("  BROKEN: callbacks out of order\n");
        failures++;
    }
    last_gen = gen;
    last_to = to;
    opens += to == LFP_BREAKER_OPEN;
}

static void *client(void *arg)
{
    (void)arg;
    while (lfp_now() - t0 < 700 * MS) {
        lfp_breaker_ticket t;
        if (lfp_breaker_allow(&breaker, &t) != 0) {
            atomic_fetch_add(&rejected, 1);
            sched_yield();   /* fail fast; a real client would serve a fallback */
            continue;
        }
        if (t.probe) {
            int n = atomic_fetch_add(&probes_running, 1) + 1;
            int seen = atomic_load(&max_probes_seen);
            while (n > seen && !atomic_compare_exchange_weak(&max_probes_seen, &seen, n)) {
            }
        }
        atomic_fetch_add(&calls, 1);
        int err = flaky_call();
        if (t.probe)
            atomic_fetch_sub(&probes_running, 1);
        if (lfp_breaker_record(&breaker, t, err == 0) == ESTALE)
            atomic_fetch_add(&stale, 1);
    }
    return NULL;
}

int main(void)
{
    struct lfp_breaker_config cfg = {
        .failure_threshold = 3, .window_ns = 100 * MS, .window_buckets = 10,
        .open_ns = 40 * MS, .max_probes = 2, .close_after = 3, .on_change = on_change,
    };
    t0 = lfp_now();
    if (lfp_breaker_init(&breaker, &cfg) != 0)
        return 1;
    printf("service down 0-150 ms and 400-450 ms; 4 clients for 700 ms\n");
    pthread_t th[4];
    for (int i = 0; i < 4; i++)
        pthread_create(&th[i], NULL, client, NULL);
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    uint32_t gen;
    lfp_breaker_state end = lfp_breaker_state_of(&breaker, &gen);
    printf("calls made %ld, rejected fast %ld, stale results ignored %ld, "
           "most probes at once %d\n",
           atomic_load(&calls), atomic_load(&rejected), atomic_load(&stale),
           atomic_load(&max_probes_seen));
    if (opens < 1 || end != LFP_BREAKER_CLOSED || gen != last_gen ||
        atomic_load(&max_probes_seen) > 2) {
        printf("BROKEN: opened %u times, final state %s\n", opens, lfp_breaker_state_name(end));
        failures++;
    }
    lfp_breaker_destroy(&breaker);
    printf("%s\n", failures ? "FAILED" : "all invariants held");
    return failures ? 1 : 0;
}
