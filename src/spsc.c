/* SPDX-License-Identifier: BSD-2-Clause */
#include "lfpat/spsc.h"

#include <sched.h>
#include <stdlib.h>

#include "park.h"
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
    atomic_init(&q->entered, 0);
    atomic_init(&q->head, 0);
    q->head_cache = 0;
    q->tail_cache = 0;
    atomic_init(&q->producer_cpu, -1);
    atomic_init(&q->consumer_cpu, -1);
    q->slots = slots;
    q->mask = cap - 1;
    /* Both succeed or fail alike (one process-wide registration). */
    bool asym = lfp_ec_init_asym(&q->not_empty);
    asym &= lfp_ec_init_asym(&q->not_full);
    q->asym = asym;
    atomic_init(&q->closed, LFP_SPSC_OPEN_);
    if (!asym)
        lfp_spsc_symmetric_(q);
    return 0;
}

void lfp_spsc_symmetric_(lfp_spsc *q)
{
    q->asym = 0;
    q->not_empty.asym = 0;
    q->not_full.asym = 0;
    /* The fast paths keep their asymmetric form; these words send them to
     * the slow paths, which fence: SYM_ sends every push's announcement to
     * lfp_spsc_push_slow_, a phantom waiter every notify to lfp_spsc_wake_
     * (which discounts it). relaxed: q is not shared yet. */
    atomic_store_explicit(&q->closed, LFP_SPSC_SYM_, memory_order_relaxed);
    atomic_store_explicit(&q->not_empty.waiters, 1, memory_order_relaxed);
    atomic_store_explicit(&q->not_full.waiters, 1, memory_order_relaxed);
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
    /* relaxed: only the producer writes tail (see try_push). */
    size_t t = atomic_load_explicit(&q->tail, memory_order_relaxed);
    size_t cap = q->mask + 1;
    if (cap - (t - q->head_cache) < n)
        /* acquire: pairs with the release store of head in the consumer. */
        q->head_cache = atomic_load_explicit(&q->head, memory_order_acquire);
    size_t room = cap - (t - q->head_cache);
    size_t m = n < room ? n : room;
    if (m == 0)
        return 0;
    if (lfp_spsc_announce_(q, t) != 0)
        return 0;
    for (size_t i = 0; i < m; i++)
        q->slots[(t + i) & q->mask] = v[i];
    lfp_spsc_publish_(q, t + m);   /* all m slots at once */
    return m;
}

int lfp_spsc_push_slow_(lfp_spsc *q, size_t t, uint32_t c)
{
    if (c & LFP_SPSC_SYM_) {
        /* seq_cst: without membarrier, the SB shape with all four accesses
         * seq_cst (pairs with close's CAS and settle's load of entered). */
        atomic_store_explicit(&q->entered, t + 1, memory_order_seq_cst);
        c = atomic_load_explicit(&q->closed, memory_order_seq_cst);
        if ((c & LFP_SPSC_STATE_) == LFP_SPSC_OPEN_)
            return 0;
    }
    /* The withdrawal. relaxed (asymmetric): settle reads it after its heavy
     * barrier, as the announcement; seq_cst: the symmetric form. */
    atomic_store_explicit(&q->entered, t,
                          q->asym ? memory_order_relaxed : memory_order_seq_cst);
    /* A closer (or a consumer) may wait on not_empty for this push to end. */
    lfp_spsc_notify_(&q->not_empty, 0x7fffffff);
    return EPIPE;
}

void lfp_spsc_wake_(lfp_ec *ec, int n)
{
    /* Symmetric: the notifier's half of the SB shape with lfp_ec_prepare, as
     * lfp_ec_notify_ does it; the count includes init's phantom. */
    if (!ec->asym && lfp_ec_fenced_waiters_(ec) <= 1)
        return;
    lfp_ec_wake_(ec, n);
}

size_t lfp_spsc_pop_n(lfp_spsc *q, void **v, size_t n)
{
    if (!q || !v || n == 0)
        return 0;
    /* relaxed: only the consumer writes head. */
    size_t h = atomic_load_explicit(&q->head, memory_order_relaxed);
    if (q->tail_cache - h < n && lfp_spsc_refill_(q, h) != 0)
        return 0;
    size_t avail = q->tail_cache - h;
    size_t m = n < avail ? n : avail;
    for (size_t i = 0; i < m; i++)
        v[i] = q->slots[(h + i) & q->mask];
    /* release: pairs with the producer's acquire load of head. */
    atomic_store_explicit(&q->head, h + m, memory_order_release);
    lfp_spsc_notify_(&q->not_full, 1);
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

/* How much room a push that found the ring full waits for (while the
 * consumer is visibly draining): 64 slots, 8 cache lines, or half a small
 * ring. */
#define ROOM_BATCH 64

/* A push found the ring full. Refilling it one slot at a time keeps the
 * producer writing the cache line the consumer is reading (and reloading
 * head, the consumer's line, per item): both cores then miss on every item.
 * So, while the consumer is visibly making progress, wait (a few pauses,
 * at most LFP_Q_SPIN_PAUSES) until ROOM_BATCH slots are free; the next
 * ROOM_BATCH pushes then touch neither head nor the consumer's lines. If
 * head stops moving (the consumer is not running, e.g. it shares our CPU)
 * stop at once: waiting for it would only delay the yield that lets it run.
 * This delays nothing but a push that could not complete anyway, by about
 * a microsecond at most; pushes are still accepted one by one, in order. */
static void await_room_batch(lfp_spsc *q)
{
    size_t cap = q->mask + 1;
    size_t want = cap / 2 < ROOM_BATCH ? cap / 2 : ROOM_BATCH;
    /* relaxed: only the producer (this thread) writes tail. */
    size_t t = atomic_load_explicit(&q->tail, memory_order_relaxed);
    size_t last = q->head_cache;
    unsigned still = 0;
    for (unsigned i = 0; i < LFP_Q_SPIN_PAUSES && still < 2; i++) {
        lfp_spin_pause(0);
        /* acquire: pairs with the consumer's release store of head (as in
         * try_push): its reads of the freed slots happen-before our reuse. */
        size_t h = atomic_load_explicit(&q->head, memory_order_acquire);
        q->head_cache = h;
        if (cap - (t - h) >= want)
            return;
        still = h == last ? still + 1 : 0;
        last = h;
    }
}

/* Pause rounds a blocked push or pop spins, retrying, while its partner last
 * ran on another CPU: about 5 us (a pause is ~20 ns here), a few cross-CPU
 * hand-offs even in the slow placement (~250 ns each) and far below a
 * park/wake round trip (~50 us); eight times the other queues' spin
 * (LFP_Q_SPIN_PAUSES), which yields too early here (issue 17: blocking at
 * 0.67-0.83x of the try path, pinned, far). */
#define SPIN_APART 256

/* The wait policy of the blocking calls ("Blocking" in spsc.h). `mine` and
 * `partner` are the two sides' CPU hints: each side records the CPU it
 * waits on; a side whose partner last waited on the same CPU yields at once
 * (the partner needs this CPU to make progress), otherwise it spins
 * SPIN_APART pauses first. Then LFP_Q_SPIN_YIELDS yields, then it parks. A
 * stale hint costs time, never a wake-up: parking is the eventcount's. */
static int await_partner(lfp_ec *ec, _Atomic(int) *mine, _Atomic(int) *partner,
                         lfp_try_fn try_fn, struct lfp_q_op *op)
{
    int cpu = sched_getcpu();
    /* relaxed: a hint; orders nothing. Stored only when it changes, so the
     * line stays shared (the notifies read it). */
    if (atomic_load_explicit(mine, memory_order_relaxed) != cpu)
        atomic_store_explicit(mine, cpu, memory_order_relaxed);
    /* relaxed: a hint. */
    bool apart = cpu < 0 || atomic_load_explicit(partner, memory_order_relaxed) != cpu;
    return lfp_q_await_spin_(ec, try_fn, op, apart ? SPIN_APART : 0);
}

int lfp_spsc_push_wait_(lfp_spsc *q, void *v, int64_t deadline, lfp_cancel *cancel)
{
    struct lfp_q_op op = { .q = q, .value = v, .deadline = deadline, .cancel = cancel };
    await_room_batch(q);
    return await_partner(&q->not_full, &q->producer_cpu, &q->consumer_cpu, try_push_op, &op);
}

int lfp_spsc_pop_wait_(lfp_spsc *q, void **out, int64_t deadline, lfp_cancel *cancel)
{
    struct lfp_q_op op = { .q = q, .out = out, .deadline = deadline, .cancel = cancel };
    return await_partner(&q->not_empty, &q->consumer_cpu, &q->producer_cpu, try_pop_op, &op);
}

/* Move CLOSING -> CLOSED once no push is announced. Returns true when the
 * queue is CLOSED. The heavy side of the SB shape with lfp_spsc_announce_
 * (spsc.h, "Close"): after the barrier, a push that read OPEN has its
 * announcement (entered = t + 1) visible here, so entered <= tail means it
 * has published too. */
static bool settle(lfp_spsc *q)
{
    uint32_t sym = q->asym ? 0 : LFP_SPSC_SYM_;
    /* acquire: pairs with the CAS below (by another settler). */
    if (atomic_load_explicit(&q->closed, memory_order_acquire) == (sym | LFP_SPSC_CLOSED_))
        return true;
    if (q->asym)
        lfp_heavy_barrier_();
    /* seq_cst: the read of the SB shape (pairs with the announcement's store). */
    size_t entered = atomic_load_explicit(&q->entered, memory_order_seq_cst);
    /* acquire: pairs with the publish's release store of tail: the pushes
     * counted here happen-before CLOSED. */
    size_t tail = atomic_load_explicit(&q->tail, memory_order_acquire);
    if (entered > tail)
        return false;
    uint32_t closing = sym | LFP_SPSC_CLOSING_;
    /* seq_cst: release half publishes every push published before it to the
     * acquire loads of closed in lfp_spsc_refill_ and above. acquire on
     * failure: CLOSED already, by another settler's CAS, which this pairs
     * with (its pushes happen-before our true, as after the load above). */
    atomic_compare_exchange_strong_explicit(&q->closed, &closing, sym | LFP_SPSC_CLOSED_,
                                            memory_order_seq_cst, memory_order_acquire);
    return true;
}

int lfp_spsc_empty_closing_(lfp_spsc *q, size_t head)
{
    if (!settle(q))
        return EAGAIN;   /* a push is publishing: blocking pop yields/parks */
    /* acquire: pairs with the producer's release store of tail; after
     * CLOSED no push can follow, so this value is final. */
    q->tail_cache = atomic_load_explicit(&q->tail, memory_order_acquire);
    return head == q->tail_cache ? EPIPE : 0;
}

/* Pause rounds close spins before it parks. */
#define CLOSE_SPINS 40

void lfp_spsc_close(lfp_spsc *q)
{
    if (!q)
        return;
    uint32_t sym = q->asym ? 0 : LFP_SPSC_SYM_, open = sym | LFP_SPSC_OPEN_;
    /* seq_cst: the write of the SB shape with lfp_spsc_announce_; pushes
     * that read closed after this refuse. acquire on failure: orders
     * nothing we rely on (settle reads closed again, with its own). */
    atomic_compare_exchange_strong_explicit(&q->closed, &open, sym | LFP_SPSC_CLOSING_,
                                            memory_order_seq_cst, memory_order_acquire);
    /* An announced push: wait-free code that finishes as soon as it runs.
     * Spin briefly, then park on not_empty, which the push's publish or
     * withdrawal notifies ("Close waits by parking" in spsc.h). */
    for (unsigned round = 0; !settle(q); round++) {
        if (round < CLOSE_SPINS) {
            lfp_spin_pause(round);
            continue;
        }
        uint32_t key = lfp_ec_prepare(&q->not_empty);
        if (settle(q)) {
            lfp_ec_abort(&q->not_empty);
            break;
        }
        lfp_ec_wait(&q->not_empty, key, LFP_FOREVER, NULL);
    }
    /* settle's seq_cst CAS (or the one it read) made the condition true; the
     * waiters' prepare is a membarrier or a fence, so the fenced notify pairs. */
    lfp_ec_notify_all(&q->not_empty);
    lfp_ec_notify_all(&q->not_full);
}

size_t lfp_spsc_size(const lfp_spsc *q)
{
    lfp_spsc *m = (lfp_spsc *)q;
    /* relaxed: a snapshot for statistics; orders nothing. */
    size_t h = atomic_load_explicit(&m->head, memory_order_relaxed);
    size_t t = atomic_load_explicit(&m->tail, memory_order_relaxed);
    return lfp_q_size_(t, h, q->mask + 1);   /* tail has no closed bit here */
}
