/* SPDX-License-Identifier: BSD-2-Clause */
/* bench/qbench/impls.c — lfpat_qbench's C implementations: lfpat's queues
 * (try, blocking, batch), the mutex twin, Concurrency Kit's ck_ring, DPDK's
 * rte_ring (without the EAL) and a minimal cached-index Lamport ring, the
 * reference an SPSC ring cannot beat by much (issue 17: lfp_spsc's target is
 * 0.9x of it).
 */
#include <stdlib.h>

#include <ck_ring.h>
#ifdef LFPB_HAVE_RTE_RING
#include <rte_ring.h>
#endif

#include "lfpat.h"
#include "qbench.h"

#define BATCH 32

static inline void *as_ptr(uint64_t v) { return (void *)(uintptr_t)v; }

/* -------------------------------------------------- lfpat try and blocking */

/* The try rows call lfp_<T>_try_push/_try_pop with the common retry policy;
 * the blocking rows call lfp_<T>_push/_pop (spin briefly, then park) and
 * stop at close. T is lfp_spsc, lfp_mpmc or the twin lfp_locked_queue (whose
 * try rows are not measured: unused). */
#define LFP_QUEUE_FUNCS(T)                                                            \
    static void *T##_create(size_t cap, int p, int c)                                \
    {                                                                                \
        (void)p; (void)c;                                                            \
        T *q = malloc(sizeof *q);                                                    \
        if (q && T##_init(q, cap) != 0) { free(q); q = NULL; }                       \
        return q;                                                                    \
    }                                                                                \
    static void T##_free(void *q) { T##_destroy(q); free(q); }                       \
    __attribute__((unused))                                                          \
    static struct qb_tally T##_try_produce(void *q, struct qb_run *run, int id)      \
    {                                                                                \
        struct qb_tally tally = {0, 0};                                              \
        QB_PRODUCE(run, id, T##_try_push(q, as_ptr(v)) == 0);                        \
        return tally;                                                                \
    }                                                                                \
    __attribute__((unused))                                                          \
    static struct qb_tally T##_try_consume(void *q, struct qb_run *run, int id)      \
    {                                                                                \
        (void)id;                                                                    \
        struct qb_tally tally = {0, 0};                                              \
        void *p;                                                                     \
        QB_CONSUME(run, T##_try_pop(q, &p) == 0 && ((v = (uintptr_t)p), true));      \
        return tally;                                                                \
    }                                                                                \
    static struct qb_tally T##_block_produce(void *q, struct qb_run *run, int id)    \
    {                                                                                \
        struct qb_tally tally = {0, 0};                                              \
        for (uint64_t i = 0;; i++) {                                                 \
            if ((i & 63) == 0 && qb_stopped(run))                                    \
                break;                                                               \
            uint64_t v = qb_value(id, i);                                            \
            if (T##_push(q, as_ptr(v), LFP_FOREVER, NULL) != 0)                      \
                abort();                                                             \
            tally.count++;                                                           \
            tally.sum += v;                                                          \
        }                                                                            \
        return tally;                                                                \
    }                                                                                \
    static struct qb_tally T##_block_consume(void *q, struct qb_run *run, int id)    \
    {                                                                                \
        (void)run; (void)id;                                                         \
        struct qb_tally tally = {0, 0};                                              \
        void *p;                                                                     \
        while (T##_pop(q, &p, LFP_FOREVER, NULL) == 0) {                             \
            tally.count++;                                                           \
            tally.sum += (uintptr_t)p;                                               \
        }                                                                            \
        return tally;                                                                \
    }                                                                                \
    static void T##_close_all(void *q, int consumers) { (void)consumers; T##_close(q); }

LFP_QUEUE_FUNCS(lfp_spsc)
LFP_QUEUE_FUNCS(lfp_mpmc)
LFP_QUEUE_FUNCS(lfp_locked_queue)

/* lfp_ppq: per-producer FIFO. Capacity is per producer (each of the
 * `producers` rings holds `cap` values), as moodycamel ConcurrentQueue's
 * constructor (minCapacity, maxExplicitProducers) lets every explicit
 * producer hold about `cap`. Each thread registers its handle first. */
static void *ppq_create(size_t cap, int p, int c)
{
    (void)c;
    lfp_ppq *q = malloc(sizeof *q);
    if (q && lfp_ppq_init(q, cap, (unsigned)p) != 0) { free(q); q = NULL; }
    return q;
}

static void ppq_free(void *q) { lfp_ppq_destroy(q); free(q); }

static void ppq_close_all(void *q, int consumers) { (void)consumers; lfp_ppq_close(q); }

static struct qb_tally ppq_try_produce(void *q, struct qb_run *run, int id)
{
    struct qb_tally tally = {0, 0};
    lfp_ppq_producer p;
    if (lfp_ppq_producer_init(q, &p) != 0)
        abort();
    QB_PRODUCE(run, id, lfp_ppq_try_push(&p, as_ptr(v)) == 0);
    lfp_ppq_producer_destroy(&p);
    return tally;
}

static struct qb_tally ppq_try_consume(void *q, struct qb_run *run, int id)
{
    (void)id;
    struct qb_tally tally = {0, 0};
    lfp_ppq_consumer c;
    void *p;
    lfp_ppq_consumer_init(q, &c);
    QB_CONSUME(run, lfp_ppq_try_pop(&c, &p) == 0 && ((v = (uintptr_t)p), true));
    return tally;
}

static struct qb_tally ppq_block_produce(void *q, struct qb_run *run, int id)
{
    struct qb_tally tally = {0, 0};
    lfp_ppq_producer p;
    if (lfp_ppq_producer_init(q, &p) != 0)
        abort();
    for (uint64_t i = 0;; i++) {
        if ((i & 63) == 0 && qb_stopped(run))
            break;
        uint64_t v = qb_value(id, i);
        if (lfp_ppq_push(&p, as_ptr(v), LFP_FOREVER, NULL) != 0)
            abort();
        tally.count++;
        tally.sum += v;
    }
    lfp_ppq_producer_destroy(&p);
    return tally;
}

static struct qb_tally ppq_block_consume(void *q, struct qb_run *run, int id)
{
    (void)run; (void)id;
    struct qb_tally tally = {0, 0};
    lfp_ppq_consumer c;
    void *p;
    lfp_ppq_consumer_init(q, &c);
    while (lfp_ppq_pop(&c, &p, LFP_FOREVER, NULL) == 0) {
        tally.count++;
        tally.sum += (uintptr_t)p;
    }
    return tally;
}

/* Batches of 32 through lfp_spsc_push_n / lfp_spsc_pop_n. */
static struct qb_tally spsc_n32_produce(void *q, struct qb_run *run, int id)
{
    struct qb_tally tally = {0, 0};
    void *buf[BATCH];
    for (uint64_t i = 0; !qb_stopped(run); i += BATCH) {
        for (int k = 0; k < BATCH; k++)
            buf[k] = as_ptr(qb_value(id, i + (uint64_t)k));
        unsigned round = 0;
        for (size_t done = 0; done < BATCH;) {
            size_t m = lfp_spsc_push_n(q, buf + done, BATCH - done);
            for (size_t k = done; k < done + m; k++) {
                tally.count++;
                tally.sum += (uintptr_t)buf[k];
            }
            done += m;
            if (m) {
                round = 0;
            } else {
                if (qb_stopped(run))
                    return tally;
                qb_backoff(&round);
            }
        }
    }
    return tally;
}

static struct qb_tally spsc_n32_consume(void *q, struct qb_run *run, int id)
{
    (void)id;
    struct qb_tally tally = {0, 0};
    void *buf[BATCH];
    unsigned round = 0;
    for (;;) {
        size_t m = lfp_spsc_pop_n(q, buf, BATCH);
        if (m) {
            for (size_t k = 0; k < m; k++)
                tally.sum += (uintptr_t)buf[k];
            tally.count += m;
            __atomic_fetch_sub(&run->remaining, (int64_t)m, __ATOMIC_RELAXED);
            round = 0;
        } else if (__atomic_load_n(&run->remaining, __ATOMIC_RELAXED) == 0) {
            return tally;
        } else {
            qb_backoff(&round);
        }
    }
}

/* ------------------------------------------------------------------ ck_ring */

struct ckq {
    struct ck_ring ring;
    ck_ring_buffer_t *buf;
};

static void *ck_create(size_t cap, int p, int c)
{
    (void)p; (void)c;
    struct ckq *q = aligned_alloc(64, (sizeof(struct ckq) + 63) & ~(size_t)63);
    if (!q)
        return NULL;
    q->buf = aligned_alloc(64, cap * sizeof *q->buf);
    ck_ring_init(&q->ring, (unsigned)cap);   /* holds cap - 1 */
    return q;
}
static void ck_free(void *qv)
{
    struct ckq *q = qv;
    free(q->buf);
    free(q);
}

#define CK_FUNCS(MODE)                                                              \
    static struct qb_tally ck_##MODE##_produce(void *qv, struct qb_run *run, int id) \
    {                                                                              \
        struct ckq *q = qv;                                                        \
        struct qb_tally tally = {0, 0};                                            \
        QB_PRODUCE(run, id, ck_ring_enqueue_##MODE(&q->ring, q->buf, as_ptr(v)));  \
        return tally;                                                              \
    }                                                                              \
    static struct qb_tally ck_##MODE##_consume(void *qv, struct qb_run *run, int id) \
    {                                                                              \
        (void)id;                                                                  \
        struct ckq *q = qv;                                                        \
        struct qb_tally tally = {0, 0};                                            \
        void *p;                                                                   \
        QB_CONSUME(run, ck_ring_dequeue_##MODE(&q->ring, q->buf, &p) &&            \
                            ((v = (uintptr_t)p), true));                           \
        return tally;                                                              \
    }
CK_FUNCS(spsc)
CK_FUNCS(mpmc)

/* ----------------------------------------------------------------- rte_ring */
#ifdef LFPB_HAVE_RTE_RING
/* rte_ring without the EAL: caller memory and rte_ring_init, as DPDK's docs
 * allow; capacity cap - 1 (one slot kept empty). */
static struct rte_ring *rte_create(size_t cap, unsigned flags)
{
    size_t bytes = ((size_t)rte_ring_get_memsize((unsigned)cap) + 63) / 64 * 64;
    struct rte_ring *r = aligned_alloc(64, bytes);
    if (r && rte_ring_init(r, "qbench", (unsigned)cap, flags) != 0) {
        free(r);
        r = NULL;
    }
    return r;
}
static void *rte_spsc_create(size_t cap, int p, int c)
{
    (void)p; (void)c;
    return rte_create(cap, RING_F_SP_ENQ | RING_F_SC_DEQ);
}
static void *rte_mpmc_create(size_t cap, int p, int c)
{
    (void)p; (void)c;
    return rte_create(cap, 0);
}

#define RTE_FUNCS(MODE, ENQ, DEQ)                                                   \
    static struct qb_tally rte_##MODE##_produce(void *q, struct qb_run *run, int id) \
    {                                                                              \
        struct qb_tally tally = {0, 0};                                            \
        QB_PRODUCE(run, id, ENQ(q, as_ptr(v)) == 0);                               \
        return tally;                                                              \
    }                                                                              \
    static struct qb_tally rte_##MODE##_consume(void *q, struct qb_run *run, int id) \
    {                                                                              \
        (void)id;                                                                  \
        struct qb_tally tally = {0, 0};                                            \
        void *p;                                                                   \
        QB_CONSUME(run, DEQ(q, &p) == 0 && ((v = (uintptr_t)p), true));            \
        return tally;                                                              \
    }
RTE_FUNCS(spsc, rte_ring_sp_enqueue, rte_ring_sc_dequeue)
RTE_FUNCS(mpmc, rte_ring_mp_enqueue, rte_ring_mc_dequeue)
#endif

/* ----------------------------------------- minimal cached-index Lamport ring */

/* Each side owns one cache line: its index and its cached copy of the other
 * side's index, refreshed only when the cached copy says full or empty. The
 * slot accesses are plain: the release store of an index publishes them and
 * the acquire load of that index (refreshing the cache) pairs with it. */
struct minring {
    _Alignas(64) _Atomic size_t tail;   /* producer's line */
    size_t head_cache;
    _Alignas(64) _Atomic size_t head;   /* consumer's line */
    size_t tail_cache;
    _Alignas(64) size_t mask;
    uint64_t *slot;
};

static void *minring_create(size_t cap, int p, int c)
{
    (void)p; (void)c;
    struct minring *r = aligned_alloc(64, sizeof *r);
    if (!r)
        return NULL;
    *r = (struct minring){.mask = cap - 1, .slot = aligned_alloc(64, cap * sizeof(uint64_t))};
    return r;
}
static void minring_free(void *rv)
{
    struct minring *r = rv;
    free(r->slot);
    free(r);
}
static inline bool minring_push(struct minring *r, uint64_t v)
{
    size_t t = atomic_load_explicit(&r->tail, memory_order_relaxed);   /* own index */
    if (t - r->head_cache > r->mask) {
        /* acquire: pairs with the consumer's release of head (slot is free). */
        r->head_cache = atomic_load_explicit(&r->head, memory_order_acquire);
        if (t - r->head_cache > r->mask)
            return false;
    }
    r->slot[t & r->mask] = v;
    /* release: pairs with the consumer's acquire of tail (slot written). */
    atomic_store_explicit(&r->tail, t + 1, memory_order_release);
    return true;
}
static inline bool minring_pop(struct minring *r, uint64_t *v)
{
    size_t h = atomic_load_explicit(&r->head, memory_order_relaxed);   /* own index */
    if (h == r->tail_cache) {
        /* acquire: pairs with the producer's release of tail. */
        r->tail_cache = atomic_load_explicit(&r->tail, memory_order_acquire);
        if (h == r->tail_cache)
            return false;
    }
    *v = r->slot[h & r->mask];
    /* release: pairs with the producer's acquire of head (slot read). */
    atomic_store_explicit(&r->head, h + 1, memory_order_release);
    return true;
}
static struct qb_tally minring_produce(void *r, struct qb_run *run, int id)
{
    struct qb_tally tally = {0, 0};
    QB_PRODUCE(run, id, minring_push(r, v));
    return tally;
}
static struct qb_tally minring_consume(void *r, struct qb_run *run, int id)
{
    (void)id;
    struct qb_tally tally = {0, 0};
    QB_CONSUME(run, minring_pop(r, &v));
    return tally;
}

/* -------------------------------------------------------------------- table */

#define TRY(T, name, role, kinds) \
    {name, role, kinds, false, T##_create, T##_free, T##_try_produce, T##_try_consume, NULL}
#define BLOCKING(T, name, role, kinds) \
    {name, role, kinds, true, T##_create, T##_free, T##_block_produce, T##_block_consume, T##_close_all}

const struct qb_impl qb_c_impls[] = {
    TRY(lfp_spsc, "lfp_spsc", QB_LFP, QB_SPSC),
    BLOCKING(lfp_spsc, "lfp_spsc_blocking", QB_LFP, QB_SPSC),
    {"lfp_spsc_n32", QB_LFP, QB_SPSC, false, lfp_spsc_create, lfp_spsc_free, spsc_n32_produce,
     spsc_n32_consume, NULL},
    TRY(lfp_mpmc, "lfp_mpmc", QB_LFP, QB_MPMC),
    BLOCKING(lfp_mpmc, "lfp_mpmc_blocking", QB_LFP, QB_MPMC),
    {"lfp_ppq", QB_LFP, QB_MPMC, false, ppq_create, ppq_free, ppq_try_produce, ppq_try_consume, NULL},
    {"lfp_ppq_blocking", QB_LFP, QB_MPMC, true, ppq_create, ppq_free, ppq_block_produce,
     ppq_block_consume, ppq_close_all},
    BLOCKING(lfp_locked_queue, "lfp_locked_queue", QB_TWIN, QB_SPSC | QB_MPMC),
    {"ck_ring_spsc", QB_PEER, QB_SPSC, false, ck_create, ck_free, ck_spsc_produce, ck_spsc_consume, NULL},
    {"ck_ring_mpmc", QB_PEER, QB_MPMC, false, ck_create, ck_free, ck_mpmc_produce, ck_mpmc_consume, NULL},
#ifdef LFPB_HAVE_RTE_RING
    {"rte_ring_spsc", QB_PEER, QB_SPSC, false, rte_spsc_create, free, rte_spsc_produce,
     rte_spsc_consume, NULL},
    {"rte_ring_mpmc", QB_PEER, QB_MPMC, false, rte_mpmc_create, free, rte_mpmc_produce,
     rte_mpmc_consume, NULL},
#endif
    {"minimal_ring", QB_REF, QB_SPSC, false, minring_create, minring_free, minring_produce,
     minring_consume, NULL},
};

const size_t qb_c_impl_count = sizeof qb_c_impls / sizeof qb_c_impls[0];
