/* SPDX-License-Identifier: BSD-2-Clause */
/* Stress: lfp_ppq (per-producer FIFO queue), with an oracle that shares
 * nothing with the queue: values are producer id << 32 | sequence number.
 *
 * quiet phases (no close until the check is done): P producers push N
 * values each (blocking push or try_push with retries, at random), C
 * consumers pop (blocking pop or try_pop, at random) until the total is
 * reached. Checked: every value exactly once (a bitmap per producer, set
 * with fetch_or: a duplicate finds its bit set); per consumer, each
 * producer's sequence numbers strictly increase (what per-producer FIFO
 * implies); the pops reach the total with the producers quiet and no close
 * (lfps_progress_wait: a popper parked beside a value stalls the phase and
 * fails it); only then close, after which every consumer gets EPIPE and
 * nothing more. Oversubscribed (4 producers + 4 consumers + checker on 2
 * CPUs) and small rings (capacity 1 and 4), so pushers and poppers park.
 *
 * close rounds: a fresh queue (capacity 2, two producers, two consumers, a
 * closer after a random delay); producers push 1, 2, ... until EPIPE;
 * consumers pop until EPIPE. Checked: each producer's accepted values
 * (those whose push returned 0) were received exactly once, nothing else
 * was, and each consumer saw each producer's values in order. Odd rounds
 * run the symmetric fallback (no membarrier).
 *
 * With the test-hook build (LFP_TEST_HOOKS) the sites ppq.announce,
 * ppq.push and ppq.take preempt inside the announce -> publish and read ->
 * claim windows (LFP_HOOK_PREEMPT, scripts/stress-sweep).
 */
#include "lfpat/ppq.h"

#include <stdlib.h>
#include <string.h>

#include "quiet.h"
#include "rounds.h"

#define MAXP 4
#define MAXC 4
#define SEQ(v) ((uint32_t)(v))
#define PID(v) ((unsigned)((v) >> 32))

/* ------------------------------------------------------------ quiet phases */

static lfp_ppq q;
static unsigned nprod, ncons;
static bool mixed;                      /* consumers also use try_pop */
static uint32_t per_producer;
static _Atomic uint64_t *seen[MAXP];    /* one bit per (producer, sequence) */
static _Atomic uint32_t popped;         /* values popped so far (the stop rule) */
static lfps_progress progress;
static int after_close_rc[MAXC];
static uint64_t after_close_extra[MAXC];

static void record(unsigned consumer, uint64_t v, uint32_t *last)
{
    unsigned p = PID(v);
    uint32_t s = SEQ(v);
    bool ok = p < nprod && s >= 1 && s <= per_producer;
    LFPS_CHECK(ok, "value %llx out of range", (unsigned long long)v);
    if (!ok)
        return;
    LFPS_CHECK(s > last[p], "consumer %u: producer %u's %u after %u (per-producer FIFO)",
               consumer, p, s, last[p]);
    last[p] = s;
    /* relaxed: the oracle's own bitmap; read after the join. */
    uint64_t old = atomic_fetch_or_explicit(&seen[p][s / 64], 1ull << (s % 64),
                                            memory_order_relaxed);
    LFPS_CHECK(!(old & (1ull << (s % 64))), "producer %u's %u popped twice", p, s);
}

static void quiet_producer(lfps_thread *t, unsigned p)
{
    lfp_ppq_producer h;
    int rc = lfp_ppq_producer_init(&q, &h);
    LFPS_CHECK(rc == 0, "producer %u: no ring (%d)", p, rc);
    if (rc != 0)
        return;
    for (uint32_t s = 1; s <= per_producer; s++) {
        void *v = (void *)(uintptr_t)(((uint64_t)p << 32) | s);
        if (lfps_below(&t->rng, 2)) {
            rc = lfp_ppq_push(&h, v, LFP_FOREVER, NULL);
        } else {
            while ((rc = lfp_ppq_try_push(&h, v)) == EAGAIN)
                lfps_delay(&t->rng);
        }
        LFPS_CHECK(rc == 0, "producer %u: push %u returned %d", p, s, rc);
        lfps_delay(&t->rng);
    }
    lfp_ppq_producer_destroy(&h);
}

static void quiet_consumer(lfps_thread *t, unsigned id)
{
    lfp_ppq_consumer c;
    uint32_t last[MAXP] = {0};
    uint32_t total = nprod * per_producer;
    lfp_ppq_consumer_init(&q, &c);
    void *v;
    /* relaxed: the stop rule; the values themselves come through the queue. */
    while (atomic_load_explicit(&popped, memory_order_relaxed) < total) {
        int rc = !mixed || lfps_below(&t->rng, 2) ? lfp_ppq_pop(&c, &v, LFP_FOREVER, NULL)
                                        : lfp_ppq_try_pop(&c, &v);
        if (rc == EAGAIN) {
            lfps_delay(&t->rng);
            continue;
        }
        if (rc == EPIPE)   /* closed by the checker: the total was reached */
            break;
        LFPS_CHECK(rc == 0, "consumer %u: pop returned %d", id, rc);
        record(id, (uint64_t)(uintptr_t)v, last);
        atomic_fetch_add_explicit(&popped, 1, memory_order_relaxed);
        lfps_progress_add(&progress, 1);
        lfps_delay(&t->rng);
    }
    /* After close: nothing more, then EPIPE (blocking: the checker closes
     * only once every value was popped). */
    int rc;
    while ((rc = lfp_ppq_pop(&c, &v, LFP_FOREVER, NULL)) == 0)
        after_close_extra[id]++;
    after_close_rc[id] = rc;
}

static void quiet_worker(lfps_thread *t)
{
    if (t->id == 0) {   /* the checker */
        lfps_progress_wait(&progress, "stress_ppq quiet phase");
        lfp_ppq_close(&q);
    } else if ((unsigned)t->id <= nprod) {
        quiet_producer(t, (unsigned)t->id - 1);
    } else {
        quiet_consumer(t, (unsigned)t->id - 1 - nprod);
    }
}

static void quiet_phase(unsigned p, unsigned c, size_t cap, uint32_t n, bool symmetric,
                        bool mixed_pops)
{
    mixed = mixed_pops;
    nprod = p;
    ncons = c;
    per_producer = n;
    LFPS_CHECK(lfp_ppq_init(&q, cap, MAXP) == 0, "init");
    if (symmetric)
        lfp_ppq_symmetric_(&q);
    for (unsigned i = 0; i < p; i++)
        seen[i] = calloc(n / 64 + 1, sizeof *seen[i]);
    atomic_store(&popped, 0);
    lfps_progress_init(&progress, p * n);
    lfps_run((int)(1 + p + c), quiet_worker, NULL);
    for (unsigned i = 0; i < c; i++) {
        LFPS_CHECK(after_close_rc[i] == EPIPE, "consumer %u ended with %d", i,
                   after_close_rc[i]);
        LFPS_CHECK(after_close_extra[i] == 0, "consumer %u popped %llu after the total", i,
                   (unsigned long long)after_close_extra[i]);
        after_close_extra[i] = 0;
    }
    for (unsigned i = 0; i < p; i++) {
        for (uint32_t s = 1; s <= n; s++)
            if (!(atomic_load(&seen[i][s / 64]) & (1ull << (s % 64)))) {
                LFPS_CHECK(false, "producer %u's %u never popped", i, s);
                break;
            }
        free(seen[i]);
    }
    lfps_ops((uint64_t)p * n);
    lfp_ppq_destroy(&q);
}

/* ------------------------------------------------------------- close rounds */

#define CN 32
static lfp_ppq cq;
static uint32_t accepted[2];             /* per producer: pushes that returned 0 */
static uint32_t got[2][2][CN + 1];       /* [consumer][producer] values in pop order */
static uint32_t ngot[2][2];
static int crc[2];                       /* consumers' final codes */

static void fresh(uint64_t round)
{
    lfp_ppq_init(&cq, 2, 2);
    if (round & 1)
        lfp_ppq_symmetric_(&cq);
    memset(accepted, 0, sizeof accepted);
    memset(ngot, 0, sizeof ngot);
}

static void close_body(int tid, lfps_rng *rng, void *arg)
{
    (void)arg;
    if (tid < 2) {
        lfp_ppq_producer h;
        if (lfp_ppq_producer_init(&cq, &h) != 0)
            return;
        for (uint32_t s = 1; s <= CN; s++) {
            void *v = (void *)(uintptr_t)(((uint64_t)tid << 32) | s);
            if (lfp_ppq_push(&h, v, LFP_FOREVER, NULL) != 0)
                break;
            accepted[tid] = s;
            lfps_delay(rng);
        }
        lfp_ppq_producer_destroy(&h);
    } else if (tid < 4) {
        int k = tid - 2, rc;
        lfp_ppq_consumer c;
        lfp_ppq_consumer_init(&cq, &c);
        void *v;
        while ((rc = lfp_ppq_pop(&c, &v, LFP_FOREVER, NULL)) == 0) {
            uint64_t x = (uint64_t)(uintptr_t)v;
            unsigned p = PID(x) & 1;
            if (ngot[k][p] < CN + 1)
                got[k][p][ngot[k][p]++] = SEQ(x);
            lfps_delay(rng);
        }
        crc[k] = rc;
    } else {
        for (uint64_t i = lfps_below(rng, 256); i > 0; i--)
            __asm__ __volatile__("" ::: "memory");
        lfp_ppq_close(&cq);
    }
}

static bool close_end(uint64_t round, void *arg)
{
    (void)arg;
    for (int p = 0; p < 2; p++) {
        uint8_t count[CN + 2] = {0};
        for (int k = 0; k < 2; k++) {
            uint32_t prev = 0;
            for (uint32_t i = 0; i < ngot[k][p]; i++) {
                uint32_t s = got[k][p][i];
                LFPS_CHECK(s > prev && s <= CN, "round %llu: consumer %d got %u after %u of %d",
                           (unsigned long long)round, k, s, prev, p);
                if (s <= CN)
                    count[s]++;
                prev = s;
            }
        }
        for (uint32_t s = 1; s <= CN; s++)
            LFPS_CHECK(count[s] == (s <= accepted[p]),
                       "round %llu: producer %d's %u received %u times, %u accepted",
                       (unsigned long long)round, p, s, count[s], accepted[p]);
    }
    for (int k = 0; k < 2; k++)
        LFPS_CHECK(crc[k] == EPIPE, "round %llu: consumer %d ended with %d",
                   (unsigned long long)round, k, crc[k]);
    lfps_ops(accepted[0] + accepted[1] + 1);
    lfp_ppq_destroy(&cq);
    fresh(round + 1);
    return true;
}

/* The quiet phases have a fixed size (the consumers stop at the known
 * total), so they do not end at the harness budget. In the hooks build every
 * hook call may hold up to 500 us for a passer (LFP_HOOK_MODE=hold,
 * src/test_hook.c), and with one producer nobody passes its sites: 20000
 * values per producer then take over a minute a phase, past the sweep's
 * per-run timeout. There the phases are a tenth as long. */
static uint64_t hooks_scale(uint64_t n)
{
#ifdef LFP_TEST_HOOKS
    n /= 10;
#endif
    return n ? n : 1;
}

int main(void)
{
    lfps_init("stress_ppq");
    uint32_t n = (uint32_t)hooks_scale(lfps_scale(20000));
    /* producers, consumers, capacity, values, symmetric, try_pop mixed in */
    quiet_phase(1, 1, 4, n, false, false);
    quiet_phase(2, 2, 1, n, false, false);
    quiet_phase(4, 4, 4, n, false, true);
    quiet_phase(4, 4, 1, n, false, false);
    quiet_phase(4, 2, 1, n, true, false);
    quiet_phase(2, 4, 64, n, false, true);
    fresh(0);
    lfps_rounds r = { .nthreads = 5, .max_rounds = lfps_scale(10000), .body = close_body,
                      .end = close_end };
    uint64_t rounds = lfps_rounds_run(&r);
    lfp_ppq_destroy(&cq);
    printf("stress_ppq: 6 quiet phases of %u values per producer, %llu close rounds\n", n,
           (unsigned long long)rounds);
    return lfps_finish();
}
