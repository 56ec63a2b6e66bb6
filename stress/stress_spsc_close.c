/* SPDX-License-Identifier: BSD-2-Clause */
/* Stress: lfp_spsc close racing a push, from a third thread.
 *
 * lfp_spsc has no read-modify-write on its push path; close relies on the
 * enter/exit bracket and settle (include/lfpat/spsc.h). Each round: a fresh
 * ring of capacity 4; the producer pushes 1, 2, 3, ... (blocking) until
 * EPIPE or LFPS_N; the consumer pops (blocking) until EPIPE; a third thread
 * closes after a random delay. Checked every round:
 *   - the consumer received exactly 1..accepted, in order, where accepted is
 *     the number of pushes that returned 0 (nothing accepted is lost, the
 *     value of a push that returned EPIPE never appears);
 *   - every thread returned (the rounds runner joins them).
 * Odd rounds run the symmetric fallback (no membarrier: the eventcounts and
 * the push bracket use seq_cst operations), as on a kernel without it.
 */
#include "lfpat/spsc.h"

#include "rounds.h"

#define LFPS_N 24

static lfp_spsc q;
static uintptr_t accepted;             /* producer's count of 0 returns */
static uintptr_t got[LFPS_N + 1];      /* consumer's values, in pop order */
static size_t ngot;
static int producer_rc, consumer_rc;   /* how each ended */
static uint64_t checks;

static void fresh(uint64_t round)
{
    lfp_spsc_init(&q, 4);
    if (round & 1) {   /* white-box: the fallback path of a kernel without membarrier */
        lfp_spsc_symmetric_(&q);
    }
    accepted = 0;
    ngot = 0;
}

static void body(int tid, lfps_rng *rng, void *arg)
{
    (void)arg;
    if (tid == 0) {
        producer_rc = 0;
        for (uintptr_t v = 1; v <= LFPS_N; v++) {
            int rc = lfp_spsc_push(&q, (void *)v, LFP_FOREVER, NULL);
            if (rc != 0) {
                producer_rc = rc;
                return;
            }
            accepted = v;
            lfps_delay(rng);
        }
    } else if (tid == 1) {
        void *v;
        int rc;
        while ((rc = lfp_spsc_pop(&q, &v, LFP_FOREVER, NULL)) == 0) {
            if (ngot <= LFPS_N)
                got[ngot] = (uintptr_t)v;
            ngot++;
            lfps_delay(rng);
        }
        consumer_rc = rc;
    } else {
        for (uint64_t i = lfps_below(rng, 64); i > 0; i--)
            __asm__ __volatile__("" ::: "memory");
        lfp_spsc_close(&q);
    }
}

static bool end(uint64_t round, void *arg)
{
    (void)arg;
    LFPS_CHECK(consumer_rc == EPIPE, "round %llu: consumer ended with %d",
               (unsigned long long)round, consumer_rc);
    LFPS_CHECK(producer_rc == 0 || producer_rc == EPIPE, "round %llu: producer ended with %d",
               (unsigned long long)round, producer_rc);
    LFPS_CHECK(ngot == accepted, "round %llu: %zu received, %zu accepted",
               (unsigned long long)round, ngot, (size_t)accepted);
    for (size_t i = 0; i < ngot && i <= LFPS_N; i++)
        LFPS_CHECK(got[i] == i + 1, "round %llu: item %zu is %zu",
                   (unsigned long long)round, i, (size_t)got[i]);
    checks++;
    lfps_ops(ngot + 1);
    lfp_spsc_destroy(&q);
    fresh(round + 1);
    return true;
}

int main(void)
{
    lfps_init("stress_spsc_close");
    fresh(0);
    lfps_rounds r = { .nthreads = 3, .max_rounds = lfps_scale(20000), .body = body,
                      .end = end };
    uint64_t n = lfps_rounds_run(&r);
    lfp_spsc_destroy(&q);
    printf("stress_spsc_close: %llu rounds of push/pop/close, half in fallback mode\n",
           (unsigned long long)n);
    return lfps_finish();
}
