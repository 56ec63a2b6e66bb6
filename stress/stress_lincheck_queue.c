/* SPDX-License-Identifier: BSD-2-Clause */
/* Linearizability of the queues: many short random histories of try_push /
 * try_pop, each checked against the sequential FIFO queue (lincheck.h):
 *   lfp_locked_queue  the oracle: 3 threads, each op a push or a pop at
 *                     random; capacity 3 (not a power of two);
 *   lfp_mpmc          the same; capacity 2, the smallest, so that cells are
 *                     reused every other op and both in-progress windows
 *                     (below) are exercised;
 *   lfp_spsc          thread 0 pushes, thread 1 pops; capacity 2;
 *   lfp_mpsc          thread 0 pops, the others push caller-owned nodes
 *                     (unbounded: push never fails).
 * Every EAGAIN must be exact (empty / full at the linearization point),
 * except in the windows the headers document, and only there: lfp_mpmc's
 * try_pop while the push of the head cell is in progress and try_push while
 * the pop of its cell is (busy_pops 1, busy_pushes 1); lfp_mpsc's try_pop
 * while the head node's push or the one linked behind it is (busy_pops 2).
 * Values are unique per history (thread * 100 + op index), so a lost,
 * duplicated, invented or reordered item is a violation. The mpsc node's
 * payload is a plain field written before the push: TSan checks that the
 * push happens-before the pop that returns it.
 * Thread counts follow LFP_STRESS_THREADS (spsc always 2; mpsc at least 2).
 */
#include "lincheck.h"
#include "lfpat.h"

enum roles {
    ANY_OP,         /* every thread pushes or pops at random */
    ONE_PRODUCER,   /* thread 0 pushes, thread 1 pops */
    ONE_CONSUMER,   /* thread 0 pops, the others push */
};

struct subject {
    const char *name;
    enum roles roles;
    size_t capacity;                  /* as given to init; 0 = unbounded */
    int busy_pops, busy_pushes;       /* documented windows, lincheck.h */
    void *q;
    int (*init)(void *q, size_t capacity);
    void (*destroy)(void *q);
    size_t (*real_capacity)(void *q);
    int (*try_push)(void *q, int64_t v);
    int (*try_pop)(void *q, int64_t *v);
};

/* ---- adapters: the void * queues carry the value itself */
#define VQ_ADAPT(T)                                                                     \
    static int T##_init_a(void *q, size_t cap) { return T##_init(q, cap); }             \
    static void T##_destroy_a(void *q) { T##_destroy(q); }                              \
    static size_t T##_capacity_a(void *q) { return T##_capacity(q); }                   \
    static int T##_push_a(void *q, int64_t v) { return T##_try_push(q, (void *)(intptr_t)v); } \
    static int T##_pop_a(void *q, int64_t *v)                                           \
    {                                                                                   \
        void *p = NULL;                                                                 \
        int rc = T##_try_pop(q, &p);                                                    \
        *v = (int64_t)(intptr_t)p;                                                      \
        return rc;                                                                      \
    }
VQ_ADAPT(lfp_locked_queue)
VQ_ADAPT(lfp_mpmc)
VQ_ADAPT(lfp_spsc)
#define VQ_OPS(T) T##_init_a, T##_destroy_a, T##_capacity_a, T##_push_a, T##_pop_a

/* ---- lfp_mpsc: intrusive; one caller-owned node per (thread, op index) */
struct box {
    lfp_mpsc_node node;   /* first: a node pointer is its box's pointer */
    int64_t value;        /* plain: published by the push */
};
static struct box boxes[LFPL_MAX_THREADS][LFPL_MAX_OPS];

static int mpsc_init_a(void *q, size_t cap) { (void)cap; return lfp_mpsc_init(q); }
static void mpsc_destroy_a(void *q) { lfp_mpsc_destroy(q); }   /* the nodes are ours, static */

static int mpsc_push_a(void *q, int64_t v)
{
    struct box *b = &boxes[v / 100][v % 100];
    b->value = v;
    return lfp_mpsc_push(q, &b->node);
}

static int mpsc_pop_a(void *q, int64_t *v)
{
    lfp_mpsc_node *n = NULL;
    int rc = lfp_mpsc_try_pop(q, &n);
    *v = rc == 0 ? ((struct box *)n)->value : 0;
    return rc;
}

/* ---- the lincheck callbacks */

static void reset(void *obj, void *init)
{
    struct subject *s = obj;
    s->destroy(s->q);
    LFPS_CHECK(s->init(s->q, s->capacity) == 0, "%s: init failed", s->name);
    lfpl_fifo_state *st = init;
    st->cap = s->capacity ? (int64_t)s->real_capacity(s->q) : LFPL_FIFO_MAX;
    st->busy_pops = s->busy_pops;
    st->busy_pushes = s->busy_pushes;
}

static bool pushes(const struct subject *s, int tid, lfps_rng *rng)
{
    switch (s->roles) {
    case ONE_PRODUCER: return tid == 0;
    case ONE_CONSUMER: return tid != 0;
    default:           return lfps_below(rng, 2) != 0;
    }
}

static void queue_op(void *obj, lfpl_log *log, int tid, lfps_rng *rng)
{
    struct subject *s = obj;
    if (pushes(s, tid, rng)) {
        int64_t v = (int64_t)tid * 100 + log->n;
        lfpl_op *op = lfpl_begin(log, tid, LFPL_PUSH, v);
        lfpl_end(op, s->try_push(s->q, v), 0);
    } else {
        int64_t v = 0;
        lfpl_op *op = lfpl_begin(log, tid, LFPL_POP, 0);
        int rc = s->try_pop(s->q, &v);
        lfpl_end(op, rc, v);
    }
}

static int threads_for(const struct subject *s, int threads)
{
    switch (s->roles) {
    case ONE_PRODUCER: return 2;
    case ONE_CONSUMER: return threads < 2 ? 2 : threads;
    default:           return threads;
    }
}

int main(void)
{
    lfps_init("stress_lincheck_queue");
    int threads = lfps_threads(3);
    lfp_locked_queue locked;
    lfp_mpmc mpmc;
    lfp_spsc spsc;
    lfp_mpsc mpsc;
    struct subject subjects[] = {
        { "lfp_locked_queue", ANY_OP, 3, 0, 0, &locked, VQ_OPS(lfp_locked_queue) },
        { "lfp_mpmc", ANY_OP, 2, 1, 1, &mpmc, VQ_OPS(lfp_mpmc) },
        { "lfp_spsc", ONE_PRODUCER, 2, 0, 0, &spsc, VQ_OPS(lfp_spsc) },
        { "lfp_mpsc", ONE_CONSUMER, 0, 2, 0, &mpsc,
          mpsc_init_a, mpsc_destroy_a, NULL, mpsc_push_a, mpsc_pop_a },
    };
    for (size_t i = 0; i < sizeof subjects / sizeof subjects[0]; i++) {
        struct subject *s = &subjects[i];
        LFPS_CHECK(s->init(s->q, s->capacity) == 0, "%s: init failed", s->name);
        int n = threads_for(s, threads);
        /* ~18 ops per history (16 with two threads); at least 3 per thread
         * when oversubscribed (the search grows fast with overlapping ops). */
        int ops = n <= 2 ? 8 : 18 / n < 3 ? 3 : 18 / n;
        lfpl_stress run = { s->name, &lfpl_fifo_spec, n, ops, 20000, reset, queue_op, s, false };
        lfpl_result r = lfpl_stress_run(&run);
        LFPS_CHECK(r.histories > 0, "%s: no history checked", s->name);
        s->destroy(s->q);
    }
    return lfps_finish();
}
