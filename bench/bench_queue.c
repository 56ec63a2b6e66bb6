/* SPDX-License-Identifier: BSD-2-Clause */
/* Queue benchmarks: throughput at 1P1C, 2P2C, 4P4C (oversubscribed on the
 * 2-core reference machine), 2P1C for the MPSC queues, batch-32 variants, and
 * blocking ping-pong round trips — lfpat vs the mutex twin vs ck_ring (spsc,
 * mpmc), DPDK rte_ring (spsc, mpmc; burst calls for the batch cases; used
 * without the EAL) and liburcu wfcqueue, in the same run.
 *
 * Every case uses its own pthread harness and ONE wall clock (manual time):
 * producers and consumers run for a fixed window, then the queue is closed
 * (lfpat, twin) or a stop flag is raised (peers), everyone drains and joins;
 * items/s = items popped / wall time from start to the last join. lfpat and
 * the twin use their blocking push/pop (spin briefly, then park); the peers
 * have no blocking calls, so they retry with the same bounded spin that
 * yields after 32 rounds (what a careful user writes; never parks).
 * Names: queue/<case>/<impl>/threads:N, N = producers + consumers.
 */
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <ck_ring.h>
#include <urcu/wfcqueue.h>
#ifdef LFPB_HAVE_RTE_RING
#include <rte_ring.h>
#endif

#include "lfpat.h"
#include "shim/shim.h"

#define CAP 1024
#define WINDOW_NS 50000000   /* 50 ms per iteration */
#define POOL 4096            /* intrusive nodes per producer */
#define MAXT 8

enum mode { THROUGHPUT, BATCH, PINGPONG };

struct bq;   /* one benchmark case */

struct impl {
    const char *name;
    bool spsc_only, mpsc;
    void (*init)(struct bq *);
    void (*fini)(struct bq *);
    void (*stop)(struct bq *);               /* close / raise the flag */
    uint64_t (*produce)(struct bq *, int id);
    uint64_t (*consume)(struct bq *, int id);
    uint64_t (*pingpong)(struct bq *, int side);
    unsigned rte_flags;                      /* rte_ring_init flags */
    bool peer_batch;                         /* has batch calls (lfpat: all) */
};

/* An intrusive node (lfp_mpsc and wfcq) with a "still queued" flag, so a
 * producer reuses it only after the consumer is done with it. */
struct node {
    lfp_mpsc_node lnode;
    struct cds_wfcq_node wnode;
    _Atomic int queued;
    int producer;
};

struct bq {
    const struct impl *im;
    enum mode mode;
    int producers, consumers;
    _Atomic int stop;
    lfp_spsc spsc[2];
    lfp_mpmc mpmc[2];
    lfp_mpsc mpsc;
    lfp_locked_queue locked[2];
    struct ck_ring ck[2];
    ck_ring_buffer_t *ckbuf[2];
#ifdef LFPB_HAVE_RTE_RING
    struct rte_ring *rte[2];
#endif
    struct cds_wfcq_head wh;
    struct cds_wfcq_tail wt;
    struct node *nodes[MAXT];
};

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* The peers' retry policy: pause, then yield. */
static void backoff(unsigned *round)
{
    if (*round < 32)
        __builtin_ia32_pause();
    else
        sched_yield();
    (*round)++;
}

static bool stopped(struct bq *b)
{
    return atomic_load_explicit(&b->stop, memory_order_relaxed);
}

#define ITEM ((void *)(uintptr_t)1)
#define BATCH 32

/* Producers push distinct values and consumers add up what they pop, for
 * every implementation alike: a value nobody reads lets the compiler delete
 * the consumer's slot load (it did, for ck_ring's inline dequeue, and the
 * peer looked five times faster than it is). */
static inline void *item(uint64_t n) { return (void *)(uintptr_t)(n + 1); }
static inline uintptr_t sum_items(void *const *v, size_t m)
{
    uintptr_t s = 0;
    for (size_t i = 0; i < m; i++)
        s += (uintptr_t)v[i];
    return s;
}
static uint64_t use_sum(uintptr_t sum, uint64_t n)
{
    lfpb_do_not_optimize(&sum);
    return n;
}

/* ---------------------------------------------------- lfpat bounded queues */

/* One generic body per operation for the three void * queues of lfpat and
 * the twin; T is the type prefix, Q the queue in struct bq. */
#define LFP_BODIES(T, Q)                                                            \
    static void T##_init_b(struct bq *b)                                           \
    {                                                                              \
        T##_init(&b->Q[0], CAP);                                                   \
        T##_init(&b->Q[1], CAP);                                                   \
    }                                                                              \
    static void T##_fini_b(struct bq *b)                                           \
    {                                                                              \
        T##_destroy(&b->Q[0]);                                                     \
        T##_destroy(&b->Q[1]);                                                     \
    }                                                                              \
    static void T##_stop_b(struct bq *b)                                           \
    {                                                                              \
        T##_close(&b->Q[0]);                                                       \
        T##_close(&b->Q[1]);                                                       \
    }                                                                              \
    static uint64_t T##_produce_b(struct bq *b, int id)                            \
    {                                                                              \
        (void)id;                                                                  \
        uint64_t n = 0;                                                            \
        void *v[BATCH] = { 0 };                                                    \
        for (;;) {                                                                 \
            size_t m = b->mode == BATCH ? T##_push_n(&b->Q[0], v, BATCH) : 0;      \
            if (m == 0 && T##_push(&b->Q[0], item(n), LFP_FOREVER, NULL) != 0)     \
                return n;                                                          \
            n += m ? m : 1;                                                        \
        }                                                                          \
    }                                                                              \
    static uint64_t T##_consume_b(struct bq *b, int id)                            \
    {                                                                              \
        (void)id;                                                                  \
        uint64_t n = 0;                                                            \
        uintptr_t sum = 0;                                                         \
        void *v[BATCH];                                                            \
        for (;;) {                                                                 \
            size_t m = b->mode == BATCH ? T##_pop_n(&b->Q[0], v, BATCH) : 0;       \
            if (m == 0 && T##_pop(&b->Q[0], v, LFP_FOREVER, NULL) != 0)            \
                return use_sum(sum, n);                                            \
            sum += sum_items(v, m ? m : 1);                                        \
            n += m ? m : 1;                                                        \
        }                                                                          \
    }                                                                              \
    static uint64_t T##_pingpong_b(struct bq *b, int side)                         \
    {                                                                              \
        uint64_t n = 0;                                                            \
        void *v = ITEM;                                                            \
        for (;; n++) {                                                             \
            if (side == 0 && T##_push(&b->Q[0], v, LFP_FOREVER, NULL) != 0)        \
                return n;                                                          \
            if (T##_pop(&b->Q[side ^ 1], &v, LFP_FOREVER, NULL) != 0)              \
                return n;                                                          \
            if (side == 1 && T##_push(&b->Q[1], v, LFP_FOREVER, NULL) != 0)        \
                return n;                                                          \
        }                                                                          \
    }
LFP_BODIES(lfp_spsc, spsc)
LFP_BODIES(lfp_mpmc, mpmc)
LFP_BODIES(lfp_locked_queue, locked)
#define LFP_IMPL(T, spsc_only) \
    { #T, spsc_only, false, T##_init_b, T##_fini_b, T##_stop_b, T##_produce_b, T##_consume_b, \
      T##_pingpong_b, 0, true }

/* ---------------------------------------------------- peers: ck_ring, rte_ring */

/* The bounded peers, each in its single-producer/consumer or multi form. */
enum peer { CK_SPSC, CK_MPMC, RTE_SPSC, RTE_MPMC };

static void peer_init_b(struct bq *b)
{
    for (int i = 0; i < 2; i++) {
        b->ckbuf[i] = aligned_alloc(64, CAP * sizeof *b->ckbuf[i]);
        ck_ring_init(&b->ck[i], CAP);
#ifdef LFPB_HAVE_RTE_RING
        /* rte_ring without the EAL: caller memory and rte_ring_init (as
         * DPDK's docs allow); capacity CAP - 1 (one slot kept empty). */
        size_t bytes = ((size_t)rte_ring_get_memsize(CAP) + 63) / 64 * 64;
        b->rte[i] = aligned_alloc(64, bytes);
        rte_ring_init(b->rte[i], i ? "lfpb1" : "lfpb0", CAP, b->im->rte_flags);
#endif
    }
}
static void peer_fini_b(struct bq *b)
{
    for (int i = 0; i < 2; i++) {
        free(b->ckbuf[i]);
#ifdef LFPB_HAVE_RTE_RING
        free(b->rte[i]);
#endif
    }
}
static void flag_stop_b(struct bq *b) { atomic_store(&b->stop, 1); }

/* One attempt; p is a constant at every call site, so the switch folds. */
static inline bool peer_try_put(struct bq *b, int q, enum peer p, void *v)
{
    switch (p) {
    case CK_SPSC: return ck_ring_enqueue_spsc(&b->ck[q], b->ckbuf[q], v);
    case CK_MPMC: return ck_ring_enqueue_mpmc(&b->ck[q], b->ckbuf[q], v);
#ifdef LFPB_HAVE_RTE_RING
    case RTE_SPSC: return rte_ring_sp_enqueue(b->rte[q], v) == 0;
    case RTE_MPMC: return rte_ring_mp_enqueue(b->rte[q], v) == 0;
#endif
    default: return false;
    }
}
static inline bool peer_try_get(struct bq *b, int q, enum peer p, void **v)
{
    switch (p) {
    case CK_SPSC: return ck_ring_dequeue_spsc(&b->ck[q], b->ckbuf[q], v);
    case CK_MPMC: return ck_ring_dequeue_mpmc(&b->ck[q], b->ckbuf[q], v);
#ifdef LFPB_HAVE_RTE_RING
    case RTE_SPSC: return rte_ring_sc_dequeue(b->rte[q], v) == 0;
    case RTE_MPMC: return rte_ring_mc_dequeue(b->rte[q], v) == 0;
#endif
    default: return false;
    }
}
/* Batch calls: only rte_ring has them (burst: as many as fit, up to n). */
static inline unsigned peer_put_n(struct bq *b, enum peer p, void *const *v, unsigned n)
{
#ifdef LFPB_HAVE_RTE_RING
    if (p == RTE_SPSC)
        return rte_ring_sp_enqueue_burst(b->rte[0], v, n, NULL);
    if (p == RTE_MPMC)
        return rte_ring_mp_enqueue_burst(b->rte[0], v, n, NULL);
#endif
    (void)b, (void)p, (void)v, (void)n;
    return 0;
}
static inline unsigned peer_get_n(struct bq *b, enum peer p, void **v, unsigned n)
{
#ifdef LFPB_HAVE_RTE_RING
    if (p == RTE_SPSC)
        return rte_ring_sc_dequeue_burst(b->rte[0], v, n, NULL);
    if (p == RTE_MPMC)
        return rte_ring_mc_dequeue_burst(b->rte[0], v, n, NULL);
#endif
    (void)b, (void)p, (void)v, (void)n;
    return 0;
}

/* Retried with backoff until stop. */
static inline bool peer_put(struct bq *b, int q, enum peer p, void *v)
{
    unsigned r = 0;
    while (!peer_try_put(b, q, p, v))
        if (stopped(b))
            return false;
        else
            backoff(&r);
    return true;
}
static inline bool peer_get(struct bq *b, int q, enum peer p, void **v)
{
    unsigned r = 0;
    while (!peer_try_get(b, q, p, v))
        if (stopped(b))
            return false;
        else
            backoff(&r);
    return true;
}

/* The batch cases: bursts of up to BATCH, backoff when none moved. */
static inline uint64_t peer_batch_loop(struct bq *b, enum peer p, bool put)
{
    uint64_t n = 0;
    uintptr_t sum = 0;
    void *v[BATCH] = { 0 };
    unsigned r = 0;
    for (;;) {
        unsigned m = put ? peer_put_n(b, p, v, BATCH) : peer_get_n(b, p, v, BATCH);
        if (m == 0 && stopped(b))
            return use_sum(sum, n);
        if (!put)
            sum += sum_items(v, m);
        n += m;
        if (m == 0)
            backoff(&r);
        else
            r = 0;
    }
}

#define PEER_BODIES(name, p)                                                         \
    static uint64_t name##_produce_b(struct bq *b, int id)                          \
    {                                                                               \
        (void)id;                                                                   \
        if (b->mode == BATCH)                                                       \
            return peer_batch_loop(b, p, true);                                     \
        uint64_t n = 0;                                                             \
        while (peer_put(b, 0, p, item(n)))                                          \
            n++;                                                                    \
        return n;                                                                   \
    }                                                                               \
    static uint64_t name##_consume_b(struct bq *b, int id)                          \
    {                                                                               \
        (void)id;                                                                   \
        if (b->mode == BATCH)                                                       \
            return peer_batch_loop(b, p, false);                                    \
        uint64_t n = 0;                                                             \
        uintptr_t sum = 0;                                                          \
        void *v;                                                                    \
        while (peer_get(b, 0, p, &v)) {                                             \
            sum += (uintptr_t)v;                                                    \
            n++;                                                                    \
        }                                                                           \
        return use_sum(sum, n);                                                     \
    }                                                                               \
    static uint64_t name##_pingpong_b(struct bq *b, int side)                       \
    {                                                                               \
        uint64_t n = 0;                                                             \
        void *v = ITEM;                                                             \
        for (;; n++) {                                                              \
            if (side == 0 && !peer_put(b, 0, p, v))                                 \
                return n;                                                           \
            if (!peer_get(b, side ^ 1, p, &v))                                      \
                return n;                                                           \
            if (side == 1 && !peer_put(b, 1, p, v))                                 \
                return n;                                                           \
        }                                                                           \
    }
PEER_BODIES(ck_spsc, CK_SPSC)
PEER_BODIES(ck_mpmc, CK_MPMC)
#ifdef LFPB_HAVE_RTE_RING
PEER_BODIES(rte_spsc, RTE_SPSC)
PEER_BODIES(rte_mpmc, RTE_MPMC)
#endif
#define PEER_IMPL(name, label, spsc_only, flags, batch)                              \
    { label, spsc_only, false, peer_init_b, peer_fini_b, flag_stop_b, name##_produce_b, \
      name##_consume_b, name##_pingpong_b, flags, batch }

/* ---------------------------------------------------- intrusive: lfp_mpsc, wfcq */

static void nodes_init(struct bq *b)
{
    for (int p = 0; p < MAXT; p++) {
        b->nodes[p] = calloc(POOL, sizeof(struct node));
        for (int i = 0; i < POOL; i++)
            b->nodes[p][i].producer = p;
    }
}
static void nodes_fini(struct bq *b)
{
    for (int p = 0; p < MAXT; p++)
        free(b->nodes[p]);
}

/* The producer's next node: wait (backoff) until the consumer released it. */
static struct node *next_node(struct bq *b, int id, uint64_t i, bool (*quit)(struct bq *))
{
    struct node *n = &b->nodes[id][i % POOL];
    unsigned r = 0;
    /* acquire: pairs with the consumer's release store of queued = 0. */
    while (atomic_load_explicit(&n->queued, memory_order_acquire))
        if (quit(b))
            return NULL;
        else
            backoff(&r);
    /* relaxed: published by the queue's own push. */
    atomic_store_explicit(&n->queued, 1, memory_order_relaxed);
    return n;
}
static void release_node(struct node *n)
{
    /* release: pairs with the acquire in next_node. */
    atomic_store_explicit(&n->queued, 0, memory_order_release);
}

static void mpsc_init_b(struct bq *b) { lfp_mpsc_init(&b->mpsc); nodes_init(b); }
static void mpsc_fini_b(struct bq *b) { lfp_mpsc_destroy(&b->mpsc); nodes_fini(b); }
static void mpsc_stop_b(struct bq *b) { lfp_mpsc_close(&b->mpsc); }
static bool mpsc_quit(struct bq *b) { return lfp_mpsc_closed(&b->mpsc); }
static uint64_t mpsc_produce_b(struct bq *b, int id)
{
    uint64_t n = 0;
    for (struct node *x; (x = next_node(b, id, n, mpsc_quit)); n++)
        if (lfp_mpsc_push(&b->mpsc, &x->lnode) != 0)
            break;
    return n;
}
static uint64_t mpsc_consume_b(struct bq *b, int id)
{
    (void)id;
    uint64_t n = 0;
    lfp_mpsc_node *ln;
    while (lfp_mpsc_pop(&b->mpsc, &ln, LFP_FOREVER, NULL) == 0) {
        release_node((struct node *)((char *)ln - offsetof(struct node, lnode)));
        n++;
    }
    return n;
}

static void wfcq_init_b(struct bq *b) { cds_wfcq_init(&b->wh, &b->wt); nodes_init(b); }
static void wfcq_fini_b(struct bq *b) { cds_wfcq_destroy(&b->wh, &b->wt); nodes_fini(b); }
static uint64_t wfcq_produce_b(struct bq *b, int id)
{
    uint64_t n = 0;
    for (struct node *x; (x = next_node(b, id, n, stopped)); n++) {
        cds_wfcq_node_init(&x->wnode);
        cds_wfcq_enqueue(&b->wh, &b->wt, &x->wnode);
    }
    return n;
}
static uint64_t wfcq_consume_b(struct bq *b, int id)
{
    (void)id;
    uint64_t n = 0;
    unsigned r = 0;
    for (;;) {
        /* single consumer, no lock; the non-blocking form, because the
         * blocking one sleeps 10 ms (poll) when it meets an enqueue in
         * progress. WOULDBLOCK and empty are retried with our backoff. */
        struct cds_wfcq_node *w = __cds_wfcq_dequeue_nonblocking(&b->wh, &b->wt);
        if (w && w != CDS_WFCQ_WOULDBLOCK) {
            release_node((struct node *)((char *)w - offsetof(struct node, wnode)));
            n++;
            r = 0;
        } else if (stopped(b)) {
            return n;
        } else {
            backoff(&r);
        }
    }
}

static const struct impl impls[] = {
    LFP_IMPL(lfp_spsc, true),
    LFP_IMPL(lfp_mpmc, false),
    LFP_IMPL(lfp_locked_queue, false),
    PEER_IMPL(ck_spsc, "ck_ring_spsc", true, 0, false),
    PEER_IMPL(ck_mpmc, "ck_ring_mpmc", false, 0, false),
#ifdef LFPB_HAVE_RTE_RING
    PEER_IMPL(rte_spsc, "rte_ring_spsc", true, RING_F_SP_ENQ | RING_F_SC_DEQ, true),
    PEER_IMPL(rte_mpmc, "rte_ring_mpmc", false, 0, true),
#endif
    { "lfp_mpsc", false, true, mpsc_init_b, mpsc_fini_b, mpsc_stop_b, mpsc_produce_b,
      mpsc_consume_b, NULL, 0, false },
    { "urcu_wfcq", false, true, wfcq_init_b, wfcq_fini_b, flag_stop_b, wfcq_produce_b,
      wfcq_consume_b, NULL, 0, false },
};

/* ---------------------------------------------------- the harness */

struct worker {
    struct bq *b;
    int id;          /* < producers: producer id; else consumer (or ping-pong side) */
    uint64_t items;
    pthread_barrier_t *start;
};

static void *worker_main(void *p)
{
    struct worker *w = p;
    struct bq *b = w->b;
    pthread_barrier_wait(w->start);
    if (b->mode == PINGPONG)
        w->items = b->im->pingpong(b, w->id);
    else if (w->id < b->producers)
        w->items = b->im->produce(b, w->id);
    else
        w->items = b->im->consume(b, w->id - b->producers);
    return NULL;
}

/* One window; returns items popped (round trips for ping-pong), *secs the wall time. */
static uint64_t run_window(struct bq *b, double *secs)
{
    int n = b->mode == PINGPONG ? 2 : b->producers + b->consumers;
    struct worker w[MAXT];
    pthread_t tid[MAXT];
    pthread_barrier_t start;
    pthread_barrier_init(&start, NULL, (unsigned)n + 1);
    atomic_store(&b->stop, 0);
    b->im->init(b);
    for (int i = 0; i < n; i++) {
        w[i] = (struct worker){ b, i, 0, &start };
        pthread_create(&tid[i], NULL, worker_main, &w[i]);
    }
    pthread_barrier_wait(&start);
    int64_t t0 = now_ns();
    struct timespec ts = { 0, WINDOW_NS };
    nanosleep(&ts, NULL);
    b->im->stop(b);
    for (int i = 0; i < n; i++)
        pthread_join(tid[i], NULL);
    *secs = (double)(now_ns() - t0) * 1e-9;
    b->im->fini(b);
    pthread_barrier_destroy(&start);
    uint64_t items = 0;
    for (int i = b->mode == PINGPONG ? 0 : b->producers; i < n; i++)
        items += w[i].items;
    return b->mode == PINGPONG ? w[0].items : items;
}

static void bm_queue(lfpb_state *st, void *arg)
{
    struct bq *b = arg;
    int64_t items = 0;
    while (lfpb_keep_running(st)) {
        double secs;
        items += (int64_t)run_window(b, &secs);
        lfpb_set_iteration_time(st, secs);
    }
    lfpb_set_items(st, items);
}

static void add_case(const struct impl *im, const char *cname, enum mode mode, int p, int c)
{
    struct bq *b = aligned_alloc(64, sizeof *b);
    *b = (struct bq){ .im = im, .mode = mode, .producers = p, .consumers = c };
    char name[128];
    snprintf(name, sizeof name, "queue/%s/%s/threads:%d", cname, im->name,
             mode == PINGPONG ? 2 : p + c);
    lfpb_register_manual(name, bm_queue, b);
}

LFPB_REGISTER(queue)
{
    static const struct { const char *name; enum mode mode; int p, c; } cases[] = {
        { "1p1c", THROUGHPUT, 1, 1 },      { "2p2c", THROUGHPUT, 2, 2 },
        { "4p4c", THROUGHPUT, 4, 4 },      { "2p1c", THROUGHPUT, 2, 1 },
        { "1p1c_batch32", BATCH, 1, 1 },   { "2p2c_batch32", BATCH, 2, 2 },
        { "pingpong", PINGPONG, 1, 1 },
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        for (size_t i = 0; i < sizeof impls / sizeof impls[0]; i++) {
            const struct impl *im = &impls[i];
            bool single_c = cases[k].c == 1, single_p = cases[k].p == 1;
            if (im->spsc_only && !(single_c && single_p))
                continue;
            if (im->mpsc && (!single_c || cases[k].mode != THROUGHPUT))
                continue;
            if (cases[k].mode == BATCH && !im->peer_batch)
                continue;   /* ck_ring and wfcqueue have no batch calls */
            add_case(im, cases[k].name, cases[k].mode, cases[k].p, cases[k].c);
        }
    }
}
