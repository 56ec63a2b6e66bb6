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

/* The blocking pop's try function: a link still missing (a push between its
 * CAS and its link) is waited out by yielding, not parking. */
static int try_pop_op(void *arg)
{
    struct lfp_q_op *op = arg;
    lfp_mpsc *q = op->q;
    if (!lfp_mpsc_enter_(q))
        return EBUSY;
    int rc;
    while ((rc = lfp_mpsc_take_(q, (lfp_mpsc_node **)op->out)) == LFP_Q_BUSY_)
        if ((rc = lfp_q_busy_yield_(op)) != 0)
            break;
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
