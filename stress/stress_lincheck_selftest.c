/* SPDX-License-Identifier: BSD-2-Clause */
/* The linearizability checker checked.
 *  1. Hand-written histories with a known answer, for each spec: the checker
 *     must accept the linearizable ones and reject the others — including
 *     the FIFO spec's in-progress windows (busy_pops/busy_pushes), which must
 *     admit an EAGAIN exactly while the operation it depends on overlaps.
 *  2. A correct locked FIFO (broken_queue.h with one shard) under random
 *     concurrent histories: every history must be accepted (no false alarm).
 *  3. The deliberately broken sharded queue (two shards): the checker must
 *     reject at least one history — it is caught, typically in most runs of
 *     a few thousand histories.
 */
#include <errno.h>

#include "broken_queue.h"
#include "lincheck.h"

/* ------------------------------------------------------------ known histories */

typedef struct hop { int thread, kind; int64_t invoke, response, arg; int rc; int64_t ret; } hop;

/* Build per-thread logs from a list of ops (in each thread's order). */
static void load(lfpl_log *logs, const hop *h, int n)
{
    for (int t = 0; t < 3; t++)
        logs[t].n = 0;
    for (int i = 0; i < n; i++) {
        lfpl_log *l = &logs[h[i].thread];
        l->ops[l->n++] = (lfpl_op){ .invoke = h[i].invoke, .response = h[i].response,
                                    .arg = h[i].arg, .ret = h[i].ret, .kind = h[i].kind,
                                    .rc = h[i].rc, .thread = h[i].thread };
    }
}

static void expect(const char *what, const lfpl_spec *spec, const void *init,
                   const hop *h, int n, enum lfpl_verdict want)
{
    lfpl_log logs[3];
    load(logs, h, n);
    enum lfpl_verdict got = lfpl_check(spec, init, logs, 3, false);
    LFPS_CHECK(got == want, "%s: verdict %d, expected %d", what, got, want);
    printf("  known history %-47s %s\n", what,
           got == want ? (want == LFPL_LINEARIZABLE ? "accepted" : "rejected") : "WRONG VERDICT");
}

#define N(a) ((int)(sizeof(a) / sizeof((a)[0])))

static void known_histories(void)
{
    lfpl_fifo_state q = { .cap = 2 };
    /* push(1) then push(2) strictly before pop: pop must return 1. */
    const hop fifo_bad[] = { { 0, LFPL_PUSH, 0, 10, 1, 0, 0 }, { 1, LFPL_PUSH, 20, 30, 2, 0, 0 },
                             { 1, LFPL_POP, 40, 50, 0, 0, 2 } };
    const hop fifo_good[] = { { 0, LFPL_PUSH, 0, 30, 1, 0, 0 }, { 1, LFPL_PUSH, 10, 20, 2, 0, 0 },
                              { 1, LFPL_POP, 40, 50, 0, 0, 2 } };   /* pushes overlap */
    const hop fifo_lost[] = { { 0, LFPL_PUSH, 0, 10, 1, 0, 0 }, { 1, LFPL_POP, 20, 30, 0, EAGAIN, 0 } };
    const hop fifo_full[] = { { 0, LFPL_PUSH, 0, 10, 1, 0, 0 }, { 0, LFPL_PUSH, 20, 30, 2, 0, 0 },
                              { 1, LFPL_PUSH, 5, 40, 3, EAGAIN, 0 }, { 2, LFPL_POP, 50, 60, 0, 0, 1 } };
    const hop fifo_dup[] = { { 0, LFPL_PUSH, 0, 10, 7, 0, 0 }, { 1, LFPL_POP, 20, 30, 0, 0, 7 },
                             { 2, LFPL_POP, 20, 30, 0, 0, 7 } };
    expect("fifo: later push popped first", &lfpl_fifo_spec, &q, fifo_bad, N(fifo_bad), LFPL_VIOLATION);
    expect("fifo: overlapping pushes, either order", &lfpl_fifo_spec, &q, fifo_good, N(fifo_good), LFPL_LINEARIZABLE);
    expect("fifo: empty after a completed push", &lfpl_fifo_spec, &q, fifo_lost, N(fifo_lost), LFPL_VIOLATION);
    expect("fifo: full while overlapping 2 pushes (cap 2)", &lfpl_fifo_spec, &q, fifo_full, N(fifo_full), LFPL_LINEARIZABLE);
    expect("fifo: one item popped twice", &lfpl_fifo_spec, &q, fifo_dup, N(fifo_dup), LFPL_VIOLATION);

    /* Documented in-progress failures (lfp_mpmc, lfp_mpsc): admitted exactly
     * while the operation they depend on overlaps, rejected otherwise. */
    lfpl_fifo_state busy1 = { .cap = 2, .busy_pops = 1, .busy_pushes = 1 };
    lfpl_fifo_state busy2 = { .cap = 4, .busy_pops = 2 };
    /* push(1) still running, push(2) done: pop finds the head unpublished. */
    const hop head_busy[] = { { 0, LFPL_PUSH, 0, 100, 1, 0, 0 }, { 1, LFPL_PUSH, 10, 20, 2, 0, 0 },
                              { 2, LFPL_POP, 30, 40, 0, EAGAIN, 0 }, { 2, LFPL_POP, 110, 120, 0, 0, 1 } };
    /* push(1) done, push(2) behind it still running. */
    const hop second_busy[] = { { 0, LFPL_PUSH, 0, 10, 1, 0, 0 }, { 1, LFPL_PUSH, 20, 100, 2, 0, 0 },
                                { 2, LFPL_POP, 30, 40, 0, EAGAIN, 0 } };
    /* cap 2: the pop of position 0 (value 1) still running when the push of
     * position 2 finds its cell; pop_end = that pop's response. */
#define CELL_BUSY(pop_end)                                                                     \
    { { 0, LFPL_PUSH, 0, 10, 1, 0, 0 }, { 0, LFPL_PUSH, 20, 30, 2, 0, 0 },                    \
      { 1, LFPL_POP, 40, pop_end, 0, 0, 1 }, { 2, LFPL_POP, 50, 60, 0, 0, 2 },                \
      { 0, LFPL_PUSH, 70, 80, 3, EAGAIN, 0 } }
    const hop cell_busy[] = CELL_BUSY(200), cell_free[] = CELL_BUSY(65);
    expect("fifo: empty while the head push runs", &lfpl_fifo_spec, &q, head_busy, N(head_busy), LFPL_VIOLATION);
    expect("busy_pops 1: empty while the head push runs", &lfpl_fifo_spec, &busy1, head_busy, N(head_busy), LFPL_LINEARIZABLE);
    expect("busy_pops 1: empty after a completed push", &lfpl_fifo_spec, &busy1, fifo_lost, N(fifo_lost), LFPL_VIOLATION);
    expect("busy_pops 1: empty while the 2nd push runs", &lfpl_fifo_spec, &busy1, second_busy, N(second_busy), LFPL_VIOLATION);
    expect("busy_pops 2: empty while the 2nd push runs", &lfpl_fifo_spec, &busy2, second_busy, N(second_busy), LFPL_LINEARIZABLE);
    expect("busy_pops 2: later push popped first", &lfpl_fifo_spec, &busy2, fifo_bad, N(fifo_bad), LFPL_VIOLATION);
    expect("fifo: full while a pop of its cell runs", &lfpl_fifo_spec, &q, cell_busy, N(cell_busy), LFPL_VIOLATION);
    expect("busy_pushes: full while a pop of its cell runs", &lfpl_fifo_spec, &busy1, cell_busy, N(cell_busy), LFPL_LINEARIZABLE);
    expect("busy_pushes: full after that pop returned", &lfpl_fifo_spec, &busy1, cell_free, N(cell_free), LFPL_VIOLATION);
#undef CELL_BUSY

    lfpl_sem_state s = { .cap = 1, .avail = 1 };
    const hop sem_bad[] = { { 0, LFPL_ACQUIRE, 0, 10, 0, 0, 0 }, { 1, LFPL_ACQUIRE, 5, 15, 0, 0, 0 } };
    const hop sem_good[] = { { 0, LFPL_ACQUIRE, 0, 10, 0, 0, 0 }, { 1, LFPL_ACQUIRE, 5, 30, 0, 0, 0 },
                             { 0, LFPL_RELEASE, 20, 25, 0, 0, 0 } };
    const hop sem_over[] = { { 0, LFPL_RELEASE, 0, 10, 0, 0, 0 } };
    expect("sem: two permits out of one", &lfpl_sem_spec, &s, sem_bad, N(sem_bad), LFPL_VIOLATION);
    expect("sem: acquire overlapping a release", &lfpl_sem_spec, &s, sem_good, N(sem_good), LFPL_LINEARIZABLE);
    expect("sem: release beyond capacity returned 0", &lfpl_sem_spec, &s, sem_over, N(sem_over), LFPL_VIOLATION);

    lfpl_counter_state c = { 0 };
    const hop ctr_bad[] = { { 0, LFPL_ADD, 0, 10, 1, 0, 1 }, { 1, LFPL_ADD, 5, 15, 1, 0, 1 } };
    const hop ctr_good[] = { { 0, LFPL_ADD, 0, 10, 1, 0, 2 }, { 1, LFPL_ADD, 5, 15, 1, 0, 1 },
                             { 2, LFPL_GET, 3, 20, 0, 0, 1 } };
    const hop ctr_stale[] = { { 0, LFPL_ADD, 0, 10, 1, 0, 1 }, { 1, LFPL_GET, 20, 30, 0, 0, 0 } };
    expect("counter: two adds return the same value", &lfpl_counter_spec, &c, ctr_bad, N(ctr_bad), LFPL_VIOLATION);
    expect("counter: overlapping adds and get", &lfpl_counter_spec, &c, ctr_good, N(ctr_good), LFPL_LINEARIZABLE);
    expect("counter: get misses a completed add", &lfpl_counter_spec, &c, ctr_stale, N(ctr_stale), LFPL_VIOLATION);
}

/* ------------------------------------------------------------ random queue histories */

static void bq_reset(void *obj, void *init)
{
    broken_queue *q = obj;
    int shards = q->shards;
    unsigned cap = q->cap;
    bq_destroy(q);
    bq_init(q, shards, cap);
    lfpl_fifo_state *st = init;
    st->cap = cap;
    st->n = 0;
}

static void bq_op(void *obj, lfpl_log *log, int tid, lfps_rng *rng)
{
    /* Values unique per history: thread id and the op's index in its log. */
    int64_t v = (int64_t)tid * 100 + log->n;
    if (lfps_below(rng, 2)) {
        lfpl_op *op = lfpl_begin(log, tid, LFPL_PUSH, v);
        lfpl_end(op, bq_try_push(obj, tid, v), 0);
    } else {
        int64_t out = 0;
        lfpl_op *op = lfpl_begin(log, tid, LFPL_POP, 0);
        int rc = bq_try_pop(obj, tid, &out);
        lfpl_end(op, rc, out);
    }
}

/* cap: per shard. With one shard it is the queue's capacity (small, so that
 * full is exercised); with two, large enough never to fill. */
static lfpl_result run_queue(const char *name, int shards, unsigned cap, int threads)
{
    broken_queue q;
    bq_init(&q, shards, cap);
    lfpl_stress s = { name, &lfpl_fifo_spec, threads, 6, 20000, bq_reset, bq_op, &q, shards > 1 };
    lfpl_result r = lfpl_stress_run(&s);
    bq_destroy(&q);
    return r;
}

int main(void)
{
    lfps_init("stress_lincheck_selftest");
    known_histories();
    int threads = lfps_threads(3);
    lfpl_result good = run_queue("locked FIFO (1 shard)", 1, 4, threads);
    LFPS_CHECK(good.histories > 0, "no history checked");
    if (threads >= 2) {
        lfpl_result bad = run_queue("BROKEN sharded queue", 2, BQ_CAP, threads);
        LFPS_CHECK(bad.violations > 0, "the broken queue was not caught in %llu histories",
                   (unsigned long long)bad.histories);
        printf("  broken queue %s: rejected %llu of %llu histories\n",
               bad.violations ? "caught" : "NOT caught", (unsigned long long)bad.violations,
               (unsigned long long)bad.histories);
    }
    return lfps_finish();
}
