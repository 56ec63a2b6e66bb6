/* SPDX-License-Identifier: BSD-2-Clause */
/* Stress: cancellation trees. Each round builds a small token tree, parks
 * waiter threads on its leaves (in lfp_ec_await on conditions that never
 * come true), and fires random nodes from several threads at once, while
 * other threads create and destroy extra children under the same tree. Every
 * waiter must return ECANCELED (a lost wake-up hangs the join, and ctest's
 * timeout fails the run); every leaf must carry the reason of the nearest
 * fired ancestor that fired first; all threads are joined each round. */
#include "harness.h"
#include "lfpat.h"

enum { FANOUT = 3, NODES = 1 + FANOUT + FANOUT * FANOUT };

struct round {
    lfp_cancel node[NODES];     /* 0 root, 1..3 children, 4..12 grandchildren */
    lfp_ec ec;                  /* waiters park here; nothing ever notifies it */
    int waiters;
    _Atomic int results[NODES];
};

static int never(void *arg) { (void)arg; return EAGAIN; }

static int parent_of(int i) { return i == 0 ? -1 : i <= FANOUT ? 0 : 1 + (i - 1 - FANOUT) / FANOUT; }

static void worker(lfps_thread *t)
{
    struct round *r = t->arg;
    if (t->id < r->waiters) {
        int leaf = 1 + FANOUT + t->id % (FANOUT * FANOUT);
        int rc = lfp_ec_await(&r->ec, never, NULL, LFP_FOREVER, &r->node[leaf], false);
        LFPS_CHECK(rc == ECANCELED, "waiter on leaf %d returned %d", leaf, rc);
        lfps_ops(1);
        return;
    }
    if (t->id == r->waiters) {
        /* churn: short-lived children of random nodes */
        for (int i = 0; i < 50; i++) {
            lfp_cancel extra;
            int p = (int)lfps_below(&t->rng, NODES);
            lfp_cancel_init(&extra, &r->node[p]);
            lfps_delay(&t->rng);
            lfp_cancel_destroy(&extra);
        }
        lfps_ops(50);
        return;
    }
    /* firers: random nodes, then the root so every waiter is released */
    for (int i = 0; i < 3; i++) {
        lfps_delay(&t->rng);
        int n = (int)lfps_below(&t->rng, NODES);
        if (lfp_cancel_fire(&r->node[n], 100 + n))
            atomic_store(&r->results[n], 1);
    }
    if (lfp_cancel_fire(&r->node[0], 100))
        atomic_store(&r->results[0], 1);
    lfps_ops(4);
}

/* The reason a node must carry: its own if it was fired directly before any
 * ancestor reached it, else its parent's. Fired directly == results[i]. */
static int expected_reason(struct round *r, int i)
{
    if (atomic_load(&r->results[i]))
        return 100 + i;
    return i == 0 ? 0 : expected_reason(r, parent_of(i));
}

int main(void)
{
    lfps_init("stress_cancel");
    int threads = lfps_threads(8);
    int64_t stop = lfp_now() + lfps_cfg.budget_ns;
    int rounds = 0;
    do {
        struct round r;
        lfp_cancel_init(&r.node[0], NULL);
        for (int i = 1; i < NODES; i++)
            lfp_cancel_init(&r.node[i], &r.node[parent_of(i)]);
        lfp_ec_init(&r.ec);
        r.waiters = threads - 3 > 1 ? threads - 3 : 1;
        for (int i = 0; i < NODES; i++)
            atomic_init(&r.results[i], 0);
        lfps_run(r.waiters + 3, worker, &r);
        for (int i = 0; i < NODES; i++) {
            int got = lfp_cancel_reason(&r.node[i]);
            LFPS_CHECK(got == expected_reason(&r, i), "node %d reason %d want %d", i, got,
                       expected_reason(&r, i));
            LFPS_CHECK(r.node[i].watches == NULL, "node %d still has watchers", i);
        }
        LFPS_CHECK(atomic_load(&r.ec.waiters) == 0, "ec waiters left: %u",
                   atomic_load(&r.ec.waiters));
        for (int i = NODES - 1; i >= 0; i--)
            lfp_cancel_destroy(&r.node[i]);
        rounds++;
    } while (lfp_now() < stop && rounds < 2000);
    printf("stress_cancel: %d rounds\n", rounds);
    return lfps_finish();
}
