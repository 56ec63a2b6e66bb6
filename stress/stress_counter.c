/* SPDX-License-Identifier: BSD-2-Clause */
/* Stress: counters. N threads (more than the cores) add concurrently to an
 * lfp_counter, an lfp_striped (too few and enough cells) and the mutex twin;
 * the totals must be exact, and a reader's successive striped sums must never
 * decrease while only positive adds run. Then the seed's shape: 100 threads x
 * 1000 increments == 100000 exactly. */
#include "harness.h"
#include "lfpat.h"

struct shared {
    lfp_counter counter;
    lfp_striped striped_many;   /* cells >= threads: exclusive-cell path */
    lfp_striped striped_few;    /* 1 cell: most threads on the shared overflow cells */
    lfp_locked_counter locked;
    _Atomic uint64_t adds_done;
    _Atomic int adders_left;
    uint64_t iters;
};

static void adder(lfps_thread *t)
{
    struct shared *s = t->arg;
    uint64_t i = 0, sum = 0;
    for (; lfps_go(t, i, s->iters); i++) {
        int64_t d = (int64_t)(i % 7) + 1;
        lfp_counter_add(&s->counter, d);
        lfp_striped_add(&s->striped_many, d);
        lfp_striped_add(&s->striped_few, d);
        lfp_locked_counter_add(&s->locked, d);
        sum += (uint64_t)d;
        lfps_delay(&t->rng);
    }
    atomic_fetch_add(&s->adds_done, sum);
    atomic_fetch_sub(&s->adders_left, 1);
    lfps_ops(i * 4);
}

/* Thread 0 reads sums while the others add. */
static void adder_or_reader(lfps_thread *t)
{
    struct shared *s = t->arg;
    if (t->id != 0) {
        adder(t);
        return;
    }
    int64_t last_many = 0, last_few = 0;
    uint64_t reads = 0;
    while (atomic_load(&s->adders_left) > 0) {
        int64_t m = lfp_striped_sum(&s->striped_many), f = lfp_striped_sum(&s->striped_few);
        LFPS_CHECK(m >= last_many, "striped sum went backwards: %lld after %lld",
                   (long long)m, (long long)last_many);
        LFPS_CHECK(f >= last_few, "striped sum went backwards: %lld after %lld",
                   (long long)f, (long long)last_few);
        last_many = m;
        last_few = f;
        reads++;
    }
    lfps_ops(reads);
}

static void run_phase(int threads, uint64_t iters)
{
    struct shared s = { .iters = iters };
    lfp_counter_init(&s.counter, 0);
    LFPS_CHECK(lfp_striped_init(&s.striped_many, (unsigned)threads) == 0, "init");
    LFPS_CHECK(lfp_striped_init(&s.striped_few, 1) == 0, "init");
    lfp_locked_counter_init(&s.locked, 0);
    atomic_init(&s.adders_left, threads - 1);
    lfps_run(threads, adder_or_reader, &s);
    int64_t want = (int64_t)atomic_load(&s.adds_done);
    LFPS_CHECK(lfp_counter_get(&s.counter) == want, "counter %lld want %lld",
               (long long)lfp_counter_get(&s.counter), (long long)want);
    LFPS_CHECK(lfp_striped_sum(&s.striped_many) == want, "striped(many) %lld want %lld",
               (long long)lfp_striped_sum(&s.striped_many), (long long)want);
    LFPS_CHECK(lfp_striped_sum(&s.striped_few) == want, "striped(few) %lld want %lld",
               (long long)lfp_striped_sum(&s.striped_few), (long long)want);
    LFPS_CHECK(lfp_locked_counter_get(&s.locked) == want, "locked %lld want %lld",
               (long long)lfp_locked_counter_get(&s.locked), (long long)want);
    lfp_striped_destroy(&s.striped_many);
    lfp_striped_destroy(&s.striped_few);
    lfp_locked_counter_destroy(&s.locked);
}

/* The seed: 100 goroutines x 1000 increments. Iterations are not time
 * bounded here, so the total is known in advance. */
static lfp_striped seed_striped;
static lfp_counter seed_counter;

static void seed_worker(lfps_thread *t)
{
    (void)t;
    for (int i = 0; i < 1000; i++) {
        lfp_striped_add(&seed_striped, 1);
        lfp_counter_add(&seed_counter, 1);
    }
}

int main(void)
{
    lfps_init("stress_counter");
    int n = lfps_threads(8);
    run_phase(n, 2000000);
    run_phase(2, 2000000);
    lfp_counter_init(&seed_counter, 0);
    lfp_striped_init(&seed_striped, 0);
    lfps_run(100, seed_worker, NULL);
    LFPS_CHECK(lfp_striped_sum(&seed_striped) == 100000, "seed striped %lld",
               (long long)lfp_striped_sum(&seed_striped));
    LFPS_CHECK(lfp_counter_get(&seed_counter) == 100000, "seed counter %lld",
               (long long)lfp_counter_get(&seed_counter));
    lfp_striped_destroy(&seed_striped);
    return lfps_finish();
}
