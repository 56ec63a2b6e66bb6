/* SPDX-License-Identifier: BSD-2-Clause */
#include "lfpat/mpmc.h"

#include <stdlib.h>

#include "queue_util.h"

int lfp_mpmc_init(lfp_mpmc *q, size_t capacity)
{
    size_t cap;
    if (!q || lfp_q_round_capacity_(capacity, 2, &cap) != 0)
        return EINVAL;
    lfp_mpmc_cell *cells = lfp_q_alloc_(cap, sizeof *cells);
    if (!cells)
        return ENOMEM;
    for (size_t i = 0; i < cap; i++)
        atomic_init(&cells[i].seq, i);   /* cell i is free for the push at i */
    atomic_init(&q->tail, 0);
    atomic_init(&q->head, 0);
    q->cells = cells;
    q->mask = cap - 1;
    /* asymmetric: the fast paths notify with a compiler barrier and a load
     * (mpmc.h); each eventcount falls back to symmetric on its own. */
    (void)lfp_ec_init_asym(&q->not_empty);
    (void)lfp_ec_init_asym(&q->not_full);
    return 0;
}

void lfp_mpmc_destroy(lfp_mpmc *q)
{
    if (!q)
        return;
    free(q->cells);
    q->cells = NULL;
}

/* How many cells from position pos on, up to n, are in the state `seq ==
 * position + offset` (offset 0: free for push; 1: published for pop). */
static size_t run_length(lfp_mpmc *q, size_t pos, size_t n, size_t offset)
{
    size_t m = 0;
    /* acquire: as the single-cell loads in lfp_mpmc_claim_push_/claim_pop_
     * (pairs with the release stores of seq). */
    while (m < n && m <= q->mask &&
           atomic_load_explicit(&q->cells[(pos + m) & q->mask].seq, memory_order_acquire) ==
               pos + m + offset)
        m++;
    return m;
}

/* Claim up to n consecutive positions of `word` (tail or head) whose cells
 * are in state `offset`; returns how many, with the first in *first. A cell
 * in that state cannot change until its position is claimed, so the run
 * counted before the CAS is still valid after it. */
static size_t claim_run(lfp_mpmc *q, _Atomic size_t *word, size_t n, size_t offset,
                        size_t *first)
{
    /* relaxed: a guess validated by the CAS; tickets only (see mpmc.h). */
    size_t pos = atomic_load_explicit(word, memory_order_relaxed);
    for (;;) {
        if (pos & LFP_Q_CLOSED)
            return 0;
        size_t m = run_length(q, pos, n, offset);
        if (m == 0) {
            /* relaxed: as above. */
            size_t now = atomic_load_explicit(word, memory_order_relaxed);
            if (now == pos)
                return 0;
            pos = now;
            continue;
        }
        /* relaxed: tickets; the cells' seq carries the data ordering. */
        if (atomic_compare_exchange_weak_explicit(word, &pos, pos + m, memory_order_relaxed,
                                                  memory_order_relaxed)) {
            *first = pos;
            return m;
        }
    }
}

size_t lfp_mpmc_push_n(lfp_mpmc *q, void *const *v, size_t n)
{
    size_t pos = 0;
    if (!q || !v || n == 0)
        return 0;
    size_t m = claim_run(q, &q->tail, n, 0, &pos);
    LFP_TEST_HOOK("mpmc.push_n");   /* claimed, not yet stored */
    for (size_t i = 0; i < m; i++) {
        lfp_mpmc_cell *c = &q->cells[(pos + i) & q->mask];
        c->value = v[i];
        /* release: pairs with the acquire loads of seq by poppers; the
         * condition store of the asymmetric SB shape (as in publish). */
        atomic_store_explicit(&c->seq, pos + i + 1, memory_order_release);
    }
    if (m)
        lfp_ec_notify_asym_(&q->not_empty, 0x7fffffff);   /* once per batch */
    return m;
}

size_t lfp_mpmc_pop_n(lfp_mpmc *q, void **v, size_t n)
{
    size_t pos = 0;
    if (!q || !v || n == 0)
        return 0;
    size_t m = claim_run(q, &q->head, n, 1, &pos);
    LFP_TEST_HOOK("mpmc.pop_n");   /* claimed, not yet released */
    for (size_t i = 0; i < m; i++) {
        lfp_mpmc_cell *c = &q->cells[(pos + i) & q->mask];
        v[i] = c->value;
        /* release: pairs with the acquire loads of seq by pushers; the
         * condition store of the asymmetric SB shape (as in release_). */
        atomic_store_explicit(&c->seq, pos + i + q->mask + 1, memory_order_release);
    }
    if (m)
        lfp_ec_notify_asym_(&q->not_full, 0x7fffffff);   /* once per batch */
    return m;
}

/* The blocking calls' try functions (the wake-up argument is in mpmc.h,
 * "Wake-ups"). A cell held by an operation in progress (LFP_Q_BUSY_) is
 * EAGAIN, open or closed: the caller spins briefly (lfp_q_await_) and then
 * parks, and the holder's publish (release) notifies. No yield loop of its
 * own: under SCHED_FIFO the holder may be a lower-priority thread on the
 * same CPU, which runs only once the caller parks. */

/* The pass-on rule: a waiter that leaves the slow path with a result
 * passes one wake on to another parked waiter of the same eventcount. Here,
 * after lfp_ec_await has withdrawn the caller from `waiters`, so it is one
 * load when nobody else waits (inside the try function the caller would
 * count itself and always make a futex call). Timeouts and cancels pass
 * on inside lfp_ec_await. */
static int pass_on(lfp_ec *ec, int rc)
{
    lfp_ec_notify_asym_(ec, 1);
    return rc;
}

static int try_push_op(void *arg)
{
    struct lfp_q_op *op = arg;
    return lfp_mpmc_try_push(op->q, op->value);
}

static int try_pop_op(void *arg)
{
    struct lfp_q_op *op = arg;
    return lfp_mpmc_try_pop(op->q, op->out);
}

int lfp_mpmc_push_wait_(lfp_mpmc *q, void *v, int64_t deadline, lfp_cancel *cancel)
{
    struct lfp_q_op op = { .q = q, .value = v, .deadline = deadline, .cancel = cancel };
    int rc = lfp_q_await_(&q->not_full, try_push_op, &op);
    /* EPIPE needs no pass-on: close wakes every pusher. */
    return rc == 0 ? pass_on(&q->not_full, rc) : rc;
}

int lfp_mpmc_pop_wait_(lfp_mpmc *q, void **out, int64_t deadline, lfp_cancel *cancel)
{
    struct lfp_q_op op = { .q = q, .out = out, .deadline = deadline, .cancel = cancel };
    int rc = lfp_q_await_(&q->not_empty, try_pop_op, &op);
    /* EPIPE too: "closed and drained" can become true by a fast-path pop
     * after close's wake-all; each popper woken then passes it on. */
    return rc == 0 || rc == EPIPE ? pass_on(&q->not_empty, rc) : rc;
}

void lfp_mpmc_close(lfp_mpmc *q)
{
    if (!q)
        return;
    /* seq_cst: later claim CASes fail; the condition store of the SB shape
     * with parked waiters (light half in lfp_ec_notify_asym_). */
    atomic_fetch_or_explicit(&q->tail, LFP_Q_CLOSED, memory_order_seq_cst);
    lfp_ec_notify_asym_(&q->not_empty, 0x7fffffff);
    lfp_ec_notify_asym_(&q->not_full, 0x7fffffff);
}

size_t lfp_mpmc_size(const lfp_mpmc *q)
{
    lfp_mpmc *m = (lfp_mpmc *)q;
    /* relaxed: a snapshot for statistics; orders nothing. */
    size_t h = atomic_load_explicit(&m->head, memory_order_relaxed);
    size_t t = atomic_load_explicit(&m->tail, memory_order_relaxed);
    return lfp_q_size_(t, h, q->mask + 1);
}
