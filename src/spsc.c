#include "lfpat/spsc.h"

#include <stdlib.h>

#include "queue_util.h"

int lfp_spsc_init(lfp_spsc *q, size_t capacity)
{
    size_t cap;
    if (!q || lfp_q_round_capacity_(capacity, 1, &cap) != 0)
        return EINVAL;
    void **slots = lfp_q_alloc_(cap, sizeof *slots);
    if (!slots)
        return ENOMEM;
    atomic_init(&q->tail, 0);
    atomic_init(&q->head, 0);
    q->head_cache = 0;
    q->tail_cache = 0;
    q->slots = slots;
    q->mask = cap - 1;
    lfp_ec_init(&q->not_empty);
    lfp_ec_init(&q->not_full);
    return 0;
}

void lfp_spsc_destroy(lfp_spsc *q)
{
    if (!q)
        return;
    free(q->slots);
    q->slots = NULL;
}

size_t lfp_spsc_push_n(lfp_spsc *q, void *const *v, size_t n)
{
    if (!q || !v || n == 0)
        return 0;
    /* relaxed: only the producer advances the position (see try_push). */
    size_t t = atomic_load_explicit(&q->tail, memory_order_relaxed);
    if (t & LFP_Q_CLOSED)
        return 0;
    size_t cap = q->mask + 1;
    if (cap - (t - q->head_cache) < n)
        /* acquire: pairs with the release store of head in the consumer. */
        q->head_cache = atomic_load_explicit(&q->head, memory_order_acquire);
    size_t room = cap - (t - q->head_cache);
    size_t m = n < room ? n : room;
    if (m == 0)
        return 0;
    for (size_t i = 0; i < m; i++)
        q->slots[(t + i) & q->mask] = v[i];
    /* seq_cst CAS: as in lfp_spsc_try_push — publishes all m slots at once. */
    if (!atomic_compare_exchange_strong_explicit(&q->tail, &t, t + m, memory_order_seq_cst,
                                                 memory_order_relaxed))
        return 0;
    lfp_q_notify_after_sc_(&q->not_empty, 1);
    return m;
}

size_t lfp_spsc_pop_n(lfp_spsc *q, void **v, size_t n)
{
    if (!q || !v || n == 0)
        return 0;
    /* relaxed: only the consumer writes head. */
    size_t h = atomic_load_explicit(&q->head, memory_order_relaxed);
    if (q->tail_cache - h < n)
        /* acquire: pairs with the producer's CAS on tail. */
        q->tail_cache = atomic_load_explicit(&q->tail, memory_order_acquire) & ~LFP_Q_CLOSED;
    size_t avail = q->tail_cache - h;
    size_t m = n < avail ? n : avail;
    if (m == 0)
        return 0;
    for (size_t i = 0; i < m; i++)
        v[i] = q->slots[(h + i) & q->mask];
    /* release: pairs with the producer's acquire load of head. */
    atomic_store_explicit(&q->head, h + m, memory_order_release);
    lfp_ec_notify_one(&q->not_full);
    return m;
}

static int try_push_op(void *arg)
{
    struct lfp_q_op *op = arg;
    return lfp_spsc_try_push(op->q, op->value);
}

static int try_pop_op(void *arg)
{
    struct lfp_q_op *op = arg;
    return lfp_spsc_try_pop(op->q, op->out);
}

int lfp_spsc_push_wait_(lfp_spsc *q, void *v, int64_t deadline, lfp_cancel *cancel)
{
    struct lfp_q_op op = { .q = q, .value = v, .deadline = deadline, .cancel = cancel };
    return lfp_q_await_(&q->not_full, try_push_op, &op);
}

int lfp_spsc_pop_wait_(lfp_spsc *q, void **out, int64_t deadline, lfp_cancel *cancel)
{
    struct lfp_q_op op = { .q = q, .out = out, .deadline = deadline, .cancel = cancel };
    return lfp_q_await_(&q->not_empty, try_pop_op, &op);
}

void lfp_spsc_close(lfp_spsc *q)
{
    if (!q)
        return;
    /* seq_cst: every later CAS on tail fails; the SB barrier for the notifies. */
    atomic_fetch_or_explicit(&q->tail, LFP_Q_CLOSED, memory_order_seq_cst);
    lfp_q_notify_after_sc_(&q->not_empty, 0x7fffffff);
    lfp_q_notify_after_sc_(&q->not_full, 0x7fffffff);
}

size_t lfp_spsc_size(const lfp_spsc *q)
{
    lfp_spsc *m = (lfp_spsc *)q;
    /* relaxed: a snapshot for statistics; orders nothing. */
    size_t h = atomic_load_explicit(&m->head, memory_order_relaxed);
    size_t t = atomic_load_explicit(&m->tail, memory_order_relaxed);
    return lfp_q_size_(t, h, q->mask + 1);
}
