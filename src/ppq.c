/* SPDX-License-Identifier: BSD-2-Clause */
#include "lfpat/ppq.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "queue_util.h"

/* The rings, aligned to a pair of cache lines: CPUs that fetch lines in
 * 128-byte pairs (the adjacent-line prefetcher) then pair each ring's tail
 * with its entered line (both the producer's) and its head with its
 * not_full line (the consumers'), never entered with head. */
static lfp_ppq_ring *alloc_rings(unsigned n)
{
    size_t pair = 2 * LFP_CACHELINE;
    size_t bytes = (n * sizeof(lfp_ppq_ring) + pair - 1) / pair * pair;
    lfp_ppq_ring *r = aligned_alloc(pair, bytes);
    if (r)
        memset(r, 0, bytes);
    return r;
}

int lfp_ppq_init(lfp_ppq *q, size_t capacity, unsigned max_producers)
{
    size_t cap;
    if (!q || max_producers == 0 || max_producers > LFP_PPQ_MAX_PRODUCERS ||
        lfp_q_round_capacity_(capacity, 1, &cap) != 0)
        return EINVAL;
    /* Each ring's slots start on a cache line of their own. */
    size_t per_line = LFP_CACHELINE / sizeof(void *);
    size_t stride = (cap + per_line - 1) / per_line * per_line;
    if (stride > LFP_QUEUE_MAX_CAPACITY / max_producers)
        return EINVAL;
    lfp_ppq_ring *rings = alloc_rings(max_producers);
    _Atomic(void *) *slots = lfp_q_alloc_(stride * max_producers, sizeof *slots);
    if (!rings || !slots) {
        free(rings);
        free(slots);
        return ENOMEM;
    }
    bool asym = true;
    for (unsigned i = 0; i < max_producers; i++) {
        lfp_ppq_ring *r = &rings[i];
        atomic_init(&r->tail, 0);
        atomic_init(&r->entered, 0);
        atomic_init(&r->head, 0);
        atomic_init(&r->owned, 0);
        r->head_cache = 0;
        asym &= lfp_ec_init_asym(&r->not_full);
    }
    asym &= lfp_ec_init_asym(&q->not_empty);   /* all alike: one process-wide registration */
    q->rings = rings;
    q->slots = slots;
    q->mask = cap - 1;
    q->stride = stride;
    q->max_producers = max_producers;
    atomic_init(&q->nrings, 0);
    atomic_init(&q->next_consumer, 0);
    atomic_init(&q->closed, LFP_PPQ_OPEN_);
    if (!asym)
        lfp_ppq_symmetric_(q);
    return 0;
}

void lfp_ppq_symmetric_(lfp_ppq *q)
{
    q->not_empty.asym = 0;
    for (unsigned i = 0; i < q->max_producers; i++)
        q->rings[i].not_full.asym = 0;
    /* relaxed: q is not shared yet. SYM_ sends every push's read of closed
     * to lfp_ppq_push_slow_, which fences (ppq.h, "Close"). */
    atomic_store_explicit(&q->closed, LFP_PPQ_SYM_, memory_order_relaxed);
}

void lfp_ppq_destroy(lfp_ppq *q)
{
    if (!q)
        return;
    free(q->rings);
    free(q->slots);
    q->rings = NULL;
    q->slots = NULL;
}

int lfp_ppq_producer_init(lfp_ppq *q, lfp_ppq_producer *p)
{
    if (!q || !p)
        return EINVAL;
    p->q = NULL;
    for (unsigned i = 0; i < q->max_producers; i++) {
        uint32_t free_ring = 0;
        /* acquire: pairs with the release store in lfp_ppq_producer_destroy:
         * the previous owner's tail, entered and head_cache are ours now. */
        if (!atomic_compare_exchange_strong_explicit(&q->rings[i].owned, &free_ring, 1,
                                                     memory_order_acquire, memory_order_relaxed))
            continue;
        /* relaxed: the high-water mark of the rings pops scan. Sequenced
         * before our first publish (a release store), so a pop that sees
         * that publish — by happens-before, or after the barrier of
         * lfp_ec_prepare — reads a count that includes ring i. */
        unsigned n = atomic_load_explicit(&q->nrings, memory_order_relaxed);
        while (n <= i && !atomic_compare_exchange_weak_explicit(&q->nrings, &n, i + 1,
                                                                memory_order_relaxed,
                                                                memory_order_relaxed)) {
        }
        p->q = q;
        p->ring = &q->rings[i];
        p->slots = q->slots + (size_t)i * q->stride;
        return 0;
    }
    return EAGAIN;
}

void lfp_ppq_producer_destroy(lfp_ppq_producer *p)
{
    if (!p || !p->q)
        return;
    /* release: pairs with the acquire CAS in lfp_ppq_producer_init: our
     * stores of tail, entered and head_cache happen-before the next owner's. */
    atomic_store_explicit(&p->ring->owned, 0, memory_order_release);
    p->q = NULL;
    p->ring = NULL;
    p->slots = NULL;
}

/* Point c's cursor at ring i; `seen` is a tail of it c acquired (or 0). */
static void set_cursor(lfp_ppq_consumer *c, unsigned i, size_t seen)
{
    c->cursor = i;
    c->ring = &c->q->rings[i];
    c->slots = c->q->slots + (size_t)i * c->q->stride;
    c->tail_seen = seen;
}

/* Claim one value of ring i for c; on success ring i becomes c's cursor.
 * *seen: the tail the claim compared head with (on EAGAIN, == head). */
static int take_at(lfp_ppq_consumer *c, unsigned i, size_t *seen, void **out)
{
    lfp_ppq *q = c->q;
    *seen = 0;
    if (lfp_ppq_take_(q, &q->rings[i], q->slots + (size_t)i * q->stride, seen, out) != 0)
        return EAGAIN;
    set_cursor(c, i, *seen);
    c->taken = 1;
    return 0;
}

int lfp_ppq_consumer_init(lfp_ppq *q, lfp_ppq_consumer *c)
{
    if (!q || !c)
        return EINVAL;
    /* relaxed: a spreading hint; orders nothing. */
    unsigned k = atomic_fetch_add_explicit(&q->next_consumer, 1, memory_order_relaxed);
    c->q = q;
    set_cursor(c, k % q->max_producers, 0);
    c->taken = 0;
    return 0;
}

void lfp_ppq_consumer_destroy(lfp_ppq_consumer *c)
{
    if (c)
        c->q = NULL;
}

int lfp_ppq_push_slow_(lfp_ppq_producer *p, size_t t, uint32_t c)
{
    lfp_ppq *q = p->q;
    if (c & LFP_PPQ_SYM_) {
        /* seq_cst fence: the symmetric form of the SB shape with close():
         * orders our announcement (entered = t + 1) before the re-read of
         * closed; pairs with the fence in lfp_ppq_close. */
        atomic_thread_fence(memory_order_seq_cst);
        /* relaxed: ordered by the fence above. */
        c = atomic_load_explicit(&q->closed, memory_order_relaxed);
        if ((c & LFP_PPQ_STATE_) == LFP_PPQ_OPEN_)
            return 0;
    }
    /* relaxed: withdraws the announcement (entered <= tail again); the
     * notify below tells a popper waiting on it (its re-read after
     * lfp_ec_prepare pairs with the notify). */
    atomic_store_explicit(&p->ring->entered, t, memory_order_relaxed);
    lfp_ec_notify_asym_(&q->not_empty, INT_MAX);
    return EPIPE;
}

/* After SEALED: take from any ring, or decide EPIPE. Reading entered
 * before the ring's tail (in lfp_ppq_take_) makes the check sound: a push
 * that read OPEN and has not published keeps entered > tail ("Close" in
 * ppq.h). */
static int sealed_pop(lfp_ppq_consumer *c, void **out)
{
    lfp_ppq *q = c->q;
    bool pending = false;
    for (unsigned i = 0; i < q->max_producers; i++) {
        /* relaxed: after the acquire load of SEALED, which follows close's
         * heavy barrier: every announcement of a push that read OPEN, or a
         * later value, is visible here. */
        size_t e = atomic_load_explicit(&q->rings[i].entered, memory_order_relaxed);
        size_t seen;
        if (take_at(c, i, &seen, out) == 0)
            return 0;
        /* seen: the tail that take_at found equal to head, read after e. A
         * newer tail read here instead could count a push that published
         * after that check: EPIPE beside its value. */
        pending |= e > seen;   /* announced, not yet published */
    }
    return pending ? EAGAIN : EPIPE;
}

int lfp_ppq_scan_(lfp_ppq_consumer *c, void **out)
{
    lfp_ppq *q = c->q;
    /* relaxed: see lfp_ppq_producer_init (a ring whose push happens-before
     * this call is counted). */
    unsigned n = atomic_load_explicit(&q->nrings, memory_order_relaxed);
    unsigned base = n ? c->cursor % n : 0;
    for (unsigned k = 1; k <= n; k++) {   /* the others first; the cursor ring last */
        unsigned i = base + k < n ? base + k : base + k - n;
        size_t seen;
        if (take_at(c, i, &seen, out) == 0)
            return 0;
    }
    /* acquire: pairs with the store of SEALED in lfp_ppq_close (then every
     * announcement of a push that read OPEN is visible: sealed_pop). */
    uint32_t st = atomic_load_explicit(&q->closed, memory_order_acquire) & LFP_PPQ_STATE_;
    return st == LFP_PPQ_SEALED_ ? sealed_pop(c, out) : EAGAIN;
}

static int try_push_op(void *arg)
{
    struct lfp_q_op *op = arg;
    return lfp_ppq_try_push(op->q, op->value);
}

static int try_pop_op(void *arg)
{
    struct lfp_q_op *op = arg;
    return lfp_ppq_try_pop(op->q, op->out);
}

int lfp_ppq_push_wait_(lfp_ppq_producer *p, void *v, int64_t deadline, lfp_cancel *cancel)
{
    struct lfp_q_op op = { .q = p, .value = v, .deadline = deadline, .cancel = cancel };
    /* The ring's owner is its only pusher: no pass-on (ppq.h, "Wake-ups"). */
    return lfp_q_await_(&p->ring->not_full, try_push_op, &op);
}

int lfp_ppq_pop_wait_(lfp_ppq_consumer *c, void **out, int64_t deadline, lfp_cancel *cancel)
{
    struct lfp_q_op op = { .q = c, .out = out, .deadline = deadline, .cancel = cancel };
    lfp_ec *ec = &c->q->not_empty;
    int rc = lfp_q_await_(ec, try_pop_op, &op);
    /* The pass-on rule (mpmc.h, "Wake-ups"): leaving with a value or EPIPE,
     * pass one wake on. Timeouts and cancels pass on inside lfp_ec_await. */
    if (rc == 0 || rc == EPIPE)
        lfp_ec_notify_asym_(ec, 1);
    return rc;
}

void lfp_ppq_close(lfp_ppq *q)
{
    if (!q)
        return;
    /* relaxed: SYM_ is constant after init. */
    uint32_t sym = atomic_load_explicit(&q->closed, memory_order_relaxed) & LFP_PPQ_SYM_;
    uint32_t open = sym | LFP_PPQ_OPEN_;
    /* seq_cst: the write of the SB shape with the pushes' announcements. A
     * second closer's failed CAS reads CLOSING (or SEALED) before its own
     * barrier below, which is all the argument needs. */
    atomic_compare_exchange_strong_explicit(&q->closed, &open, sym | LFP_PPQ_CLOSING_,
                                            memory_order_seq_cst, memory_order_seq_cst);
    if (sym)
        /* seq_cst fence: pairs with the fence in lfp_ppq_push_slow_. */
        atomic_thread_fence(memory_order_seq_cst);
    else
        lfp_heavy_barrier_();   /* pairs with the compiler barrier in try_push */
    /* seq_cst: SEALED; its release half pairs with the acquire load in
     * lfp_ppq_scan_; the condition store for the notifies below. */
    atomic_store_explicit(&q->closed, sym | LFP_PPQ_SEALED_, memory_order_seq_cst);
    lfp_ec_notify_asym_(&q->not_empty, INT_MAX);
    for (unsigned i = 0; i < q->max_producers; i++)
        lfp_ec_notify_asym_(&q->rings[i].not_full, INT_MAX);
}
