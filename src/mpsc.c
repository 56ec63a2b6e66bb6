/* SPDX-License-Identifier: BSD-2-Clause */
#include "lfpat/mpsc.h"

#include "queue_util.h"

int lfp_mpsc_init(lfp_mpsc *q)
{
    if (!q)
        return EINVAL;
    int rc = lfp_striped_init(&q->pushed, 0);
    if (rc != 0)
        return rc;
    atomic_init(&q->stub.next, NULL);
    atomic_init(&q->tail, (uintptr_t)&q->stub);
    atomic_init(&q->popped, 0);
    atomic_init(&q->consumer, 0);
    q->head = &q->stub;
    lfp_ec_init(&q->not_empty);
    return 0;
}

void lfp_mpsc_destroy(lfp_mpsc *q)
{
    if (q)
        lfp_striped_destroy(&q->pushed);
}

size_t lfp_mpsc_push_n(lfp_mpsc *q, lfp_mpsc_node *const *v, size_t n)
{
    if (!q || !v || n == 0)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!v[i])
            return 0;
    for (size_t i = 0; i < n; i++)
        /* relaxed: the chain is private until the release CAS in append_. */
        atomic_store_explicit(&v[i]->next, i + 1 < n ? v[i + 1] : NULL, memory_order_relaxed);
    if (lfp_mpsc_append_(q, v[0], v[n - 1], false) != 0)
        return 0;
    /* compiler barrier: keeps the link store before the waiters load below
     * (the heavy barrier in await_link orders them on the CPU). */
    atomic_signal_fence(memory_order_seq_cst);
    lfp_striped_add(&q->pushed, (int64_t)n);   /* a statistic */
    lfp_q_notify_after_sc_(&q->not_empty, 1);
    return n;
}

size_t lfp_mpsc_pop_n(lfp_mpsc *q, lfp_mpsc_node **v, size_t n)
{
    if (!q || !v || n == 0 || !lfp_mpsc_enter_(q))
        return 0;
    size_t m = 0;
    while (m < n && lfp_mpsc_take_(q, &v[m]) == 0)
        m++;
    lfp_mpsc_leave_(q);
    return m;
}

/* Yield rounds a blocking pop spends on a missing link before it parks. */
#define LINK_YIELDS 32
/* Without membarrier: the longest park between re-checks of the link. */
#define LINK_POLL_NS 1000000

/* A link is missing (a push between its CAS and its link store): the link
 * the consumer waits for is always q->head->next (lfp_mpsc_take_ leaves
 * head at the node whose successor is missing). Park on not_empty until it
 * appears. The push stores the link (release) and then reads the waiter
 * count (lfp_q_notify_after_sc_), with no fence between them, so the
 * store-load order the eventcount's SB shape needs comes from the waiter's
 * side: after announcing itself, the consumer issues the heavy barrier
 * (membarrier), which cuts every producer's instruction stream at one
 * point: a link store before it is visible to the re-check below, and a
 * producer past it reads our waiter count and wakes us. Without membarrier
 * (an old kernel or a sandbox) nothing orders the producer's two accesses,
 * so the park is bounded (LINK_POLL_NS) and the link re-checked: a poll,
 * but one that lets a preempted producer run (never a spin). Returns 0 to
 * retry the take, ETIMEDOUT or ECANCELED. Guard held. */
static int await_link(lfp_mpsc *q, const struct lfp_q_op *op)
{
    lfp_mpsc_node *h = q->head;
    bool heavy = lfp_heavy_barrier_ready_();
    uint32_t key = lfp_ec_prepare(&q->not_empty);
    if (heavy)
        lfp_heavy_barrier_();
    /* acquire: pairs with the release link store in lfp_mpsc_append_. */
    if (atomic_load_explicit(&h->next, memory_order_acquire) != NULL) {
        lfp_ec_abort(&q->not_empty);
        return 0;
    }
    int64_t deadline = op->deadline;
    if (!heavy) {
        int64_t poll = lfp_after(LINK_POLL_NS);
        deadline = poll < deadline ? poll : deadline;
    }
    int rc = lfp_ec_wait(&q->not_empty, key, deadline, op->cancel);
    if (rc == ETIMEDOUT && deadline != op->deadline)
        rc = 0;   /* the poll's own bound, not the caller's deadline */
    return rc;
}

/* The blocking pop's try function: a link still missing (a push between its
 * CAS and its link) is waited out: a few yields (the producer is past all
 * its checks and finishes as soon as it runs), then parking (await_link),
 * never an unbounded spin or yield loop: under SCHED_FIFO the producer may
 * be a lower-priority thread on this CPU. */
static int try_pop_op(void *arg)
{
    struct lfp_q_op *op = arg;
    lfp_mpsc *q = op->q;
    if (!lfp_mpsc_enter_(q))
        return EBUSY;
    int rc;
    for (unsigned round = 0; (rc = lfp_mpsc_take_(q, (lfp_mpsc_node **)op->out)) ==
                             LFP_Q_BUSY_;
         round++) {
        rc = round < LINK_YIELDS ? lfp_q_busy_yield_(op) : await_link(q, op);
        if (rc != 0)
            break;
    }
    lfp_mpsc_leave_(q);
    return rc;
}

int lfp_mpsc_pop_wait_(lfp_mpsc *q, lfp_mpsc_node **out, int64_t deadline, lfp_cancel *cancel)
{
    struct lfp_q_op op = { .q = q, .out = (void **)out, .deadline = deadline, .cancel = cancel };
    return lfp_q_await_(&q->not_empty, try_pop_op, &op);
}

void lfp_mpsc_close(lfp_mpsc *q)
{
    if (!q)
        return;
    /* seq_cst: later pushes' CASes see the bit; the SB write for the notify. */
    atomic_fetch_or_explicit(&q->tail, LFP_MPSC_CLOSED_, memory_order_seq_cst);
    lfp_q_notify_after_sc_(&q->not_empty, 0x7fffffff);
}

size_t lfp_mpsc_size(const lfp_mpsc *q)
{
    lfp_mpsc *m = (lfp_mpsc *)q;
    /* relaxed: a snapshot for statistics; orders nothing. */
    size_t popped = atomic_load_explicit(&m->popped, memory_order_relaxed);
    size_t pushed = (size_t)lfp_striped_sum(&m->pushed);
    return pushed > popped ? pushed - popped : 0;
}
