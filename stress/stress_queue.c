/* SPDX-License-Identifier: BSD-2-Clause */
/* Stress: the queue family under contention, oversubscribed (8 threads on
 * the 2-core reference machine for the MPMC queues), with delay injection.
 *
 * For each queue: producers push (producer id, sequence) items with a mix of
 * blocking push (some with a cancel token that fires mid-run), try_push and
 * push_n, until the queue is closed; consumers pop with a mix of blocking pop
 * (some with short deadlines, some with the token), try_pop and pop_n, until
 * EPIPE. Thread 0 is a consumer that closes the queue when its time budget
 * ends, usually while producers are blocked on a full queue and consumers on
 * an empty one. Checked:
 *   - every accepted item (push returned 0) is popped exactly once, and no
 *     item that was not accepted appears (nothing lost or invented on close,
 *     timeout or cancel);
 *   - per-producer FIFO at each consumer;
 *   - size() never exceeds capacity;
 *   - every thread returns (all joined) — nobody is left blocked.
 * lfp_mpsc runs with two consumers: the second concurrent consumer must get
 * EBUSY (counted), never corrupt the queue. lfp_spsc runs twice: as init
 * made it, and in the fallback of a kernel without membarrier (switched on
 * white-box, lfp_spsc_symmetric_: every push and pop through its slow
 * paths and the phantom waiter), in the close phase and the quiet ones.
 * Quiet phases (no close until every waiter whose condition holds has
 * returned): see "quiet phases" and "one-shot rounds" below.
 */
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "lfpat.h"
#include "quiet.h"
#include "rounds.h"

#define MAXN (1u << 18)   /* items per producer */
#define MAXP 8
#define BATCH 8

struct box {
    lfp_mpsc_node node;
    uintptr_t value;
};

struct ops {
    const char *name;
    int producers, consumers;
    size_t capacity;
    void *q;
    int (*push)(void *q, uintptr_t v, int64_t deadline, lfp_cancel *c);
    int (*try_push)(void *q, uintptr_t v);
    size_t (*push_n)(void *q, const uintptr_t *v, size_t n);
    int (*pop)(void *q, uintptr_t *v, int64_t deadline, lfp_cancel *c);
    int (*try_pop)(void *q, uintptr_t *v);
    size_t (*pop_n)(void *q, uintptr_t *v, size_t n);
    void (*close)(void *q);
    size_t (*size)(void *q);
};

static struct box *boxes[MAXP];                       /* mpsc nodes, [p][seq] */
static _Atomic unsigned char seen[MAXP][MAXN];
static _Atomic uint32_t accepted[MAXP];               /* next seq per producer = count accepted */
static lfp_cancel token;                               /* fired halfway */
static const struct ops *cur;
static _Atomic uint64_t ebusy;
static _Atomic int closed_out;   /* producers stopped by EPIPE (close while active) */

static uintptr_t item(int p, uint32_t s) { return ((uintptr_t)p << 32) | s; }

/* ---- adapters: void * queues carry the item directly */
#define VQ_ADAPT(T)                                                                         \
    static int T##_push_a(void *q, uintptr_t v, int64_t d, lfp_cancel *c)                  \
    { return T##_push(q, (void *)v, d, c); }                                                \
    static int T##_try_push_a(void *q, uintptr_t v) { return T##_try_push(q, (void *)v); }  \
    static size_t T##_push_n_a(void *q, const uintptr_t *v, size_t n)                       \
    { return T##_push_n(q, (void *const *)v, n); }                                          \
    static int T##_pop_a(void *q, uintptr_t *v, int64_t d, lfp_cancel *c)                  \
    { return T##_pop(q, (void **)v, d, c); }                                                \
    static int T##_try_pop_a(void *q, uintptr_t *v) { return T##_try_pop(q, (void **)v); }  \
    static size_t T##_pop_n_a(void *q, uintptr_t *v, size_t n)                              \
    { return T##_pop_n(q, (void **)v, n); }                                                 \
    static void T##_close_a(void *q) { T##_close(q); }                                      \
    static size_t T##_size_a(void *q) { return T##_size(q); }
VQ_ADAPT(lfp_spsc)
VQ_ADAPT(lfp_mpmc)
VQ_ADAPT(lfp_locked_queue)
#define VQ_OPS(T)                                                                     \
    T##_push_a, T##_try_push_a, T##_push_n_a, T##_pop_a, T##_try_pop_a, T##_pop_n_a, \
        T##_close_a, T##_size_a

/* ---- lfp_mpsc: items travel in preallocated boxes */
static lfp_mpsc_node *node_of(uintptr_t v) { return &boxes[v >> 32][(uint32_t)v].node; }
static uintptr_t value_of(lfp_mpsc_node *n) { return ((struct box *)n)->value; }

static int mpsc_try_push_a(void *q, uintptr_t v) { return lfp_mpsc_push(q, node_of(v)); }
static int mpsc_push_a(void *q, uintptr_t v, int64_t d, lfp_cancel *c)
{
    (void)d, (void)c;
    return lfp_mpsc_push(q, node_of(v));
}
static size_t mpsc_push_n_a(void *q, const uintptr_t *v, size_t n)
{
    lfp_mpsc_node *nodes[BATCH];
    for (size_t i = 0; i < n; i++)
        nodes[i] = node_of(v[i]);
    return lfp_mpsc_push_n(q, nodes, n);
}
static int mpsc_finish(int rc, lfp_mpsc_node *n, uintptr_t *v)
{
    if (rc == EBUSY) {
        atomic_fetch_add_explicit(&ebusy, 1, memory_order_relaxed);
        sched_yield();
        return EAGAIN;
    }
    if (rc == 0)
        *v = value_of(n);
    return rc;
}
static int mpsc_pop_a(void *q, uintptr_t *v, int64_t d, lfp_cancel *c)
{
    lfp_mpsc_node *n = NULL;
    int rc = lfp_mpsc_pop(q, &n, d, c);
    return mpsc_finish(rc, n, v);
}
static int mpsc_try_pop_a(void *q, uintptr_t *v)
{
    lfp_mpsc_node *n = NULL;
    int rc = lfp_mpsc_try_pop(q, &n);
    return mpsc_finish(rc, n, v);
}
static size_t mpsc_pop_n_a(void *q, uintptr_t *v, size_t n)
{
    lfp_mpsc_node *nodes[BATCH];
    size_t m = lfp_mpsc_pop_n(q, nodes, n);
    for (size_t i = 0; i < m; i++)
        v[i] = value_of(nodes[i]);
    return m;
}
static void mpsc_close_a(void *q) { lfp_mpsc_close(q); }
static size_t mpsc_size_a(void *q) { return lfp_mpsc_size(q); }

/* ---- producers */

/* Try to push seq..seq+k-1 of producer p in one of the ways; returns how many
 * were accepted, or -1 once the queue is closed. */
static int produce(lfps_thread *t, int p, uint32_t seq, uint32_t k)
{
    uintptr_t v[BATCH];
    for (uint32_t i = 0; i < k; i++)
        v[i] = item(p, seq + i);
    int rc;
    switch (lfps_below(&t->rng, 8)) {
    case 0:
        rc = cur->try_push(cur->q, v[0]);
        break;
    case 1: {
        size_t m = cur->push_n(cur->q, v, k);
        if (m)
            return (int)m;
        rc = cur->try_push(cur->q, v[0]);   /* tells full from closed */
        break;
    }
    case 2:
        rc = cur->push(cur->q, v[0], LFP_FOREVER, &token);
        break;
    case 3:
        rc = cur->push(cur->q, v[0], lfp_after((int64_t)lfps_below(&t->rng, 50000)), NULL);
        break;
    default:
        rc = cur->push(cur->q, v[0], LFP_FOREVER, NULL);
    }
    if (rc == EPIPE)
        return -1;
    LFPS_CHECK(rc == 0 || rc == EAGAIN || rc == ETIMEDOUT || rc == ECANCELED, "push rc %d", rc);
    return rc == 0;
}

static void producer(lfps_thread *t, int p)
{
    uint32_t seq = 0;
    while (seq < MAXN) {
        uint32_t k = 1 + (uint32_t)lfps_below(&t->rng, BATCH);
        if (k > MAXN - seq)
            k = MAXN - seq;
        int got = produce(t, p, seq, k);
        if (got < 0) {
            atomic_fetch_add(&closed_out, 1);
            break;
        }
        seq += (uint32_t)got;
        /* release: the count is read after the join; ordering comes from join. */
        atomic_store_explicit(&accepted[p], seq, memory_order_relaxed);
        lfps_delay(&t->rng);
    }
    lfps_ops(seq);
}

/* ---- consumers */

struct consumer {
    int64_t last[MAXP];
    uint64_t got;
};

static void take(struct consumer *c, uintptr_t v)
{
    int p = (int)(v >> 32);
    uint32_t s = (uint32_t)v;
    if (p >= cur->producers || s >= MAXN) {
        LFPS_CHECK(false, "invented item %#lx", (unsigned long)v);
        return;
    }
    LFPS_CHECK((int64_t)s > c->last[p], "producer %d FIFO: %u after %lld", p, s,
               (long long)c->last[p]);
    c->last[p] = s;
    unsigned char n = atomic_fetch_add_explicit(&seen[p][s], 1, memory_order_relaxed);
    if (n != 0)
        LFPS_CHECK(false, "item %d/%u delivered twice", p, s);
    c->got++;
}

/* One pop in one of the ways, blocking at most until `until`; returns false
 * at EPIPE. */
static bool consume(lfps_thread *t, struct consumer *c, int64_t until)
{
    uintptr_t v[BATCH];
    int rc;
    switch (lfps_below(&t->rng, 8)) {
    case 0:
        rc = cur->try_pop(cur->q, v);
        break;
    case 1: {
        size_t m = cur->pop_n(cur->q, v, 1 + lfps_below(&t->rng, BATCH));
        for (size_t i = 0; i < m; i++)
            take(c, v[i]);
        if (m)
            return true;
        rc = cur->try_pop(cur->q, v);
        break;
    }
    case 2:
        rc = cur->pop(cur->q, v, until, &token);
        break;
    case 3:
        rc = cur->pop(cur->q, v, lfp_after((int64_t)lfps_below(&t->rng, 50000)), NULL);
        break;
    default:
        rc = cur->pop(cur->q, v, until, NULL);
    }
    if (rc == EPIPE)
        return false;
    LFPS_CHECK(rc == 0 || rc == EAGAIN || rc == ETIMEDOUT || rc == ECANCELED, "pop rc %d", rc);
    if (rc == 0)
        take(c, v[0]);
    return true;
}

static void consumer(lfps_thread *t, bool closer)
{
    struct consumer c;
    for (int p = 0; p < MAXP; p++)
        c.last[p] = -1;
    c.got = 0;
    bool fired = false;
    int64_t half = t->stop_at - lfps_cfg.budget_ns / 2;
    for (uint64_t i = 0;; i++) {
        if (closer && !fired && lfp_now() >= half)
            fired = lfp_cancel_fire(&token, ECANCELED) || true;
        if (closer && !lfps_go(t, i, UINT64_MAX)) {
            cur->close(cur->q);
            closer = false;
        }
        /* The closer never blocks past its budget: it must close. */
        if (!consume(t, &c, closer ? t->stop_at : LFP_FOREVER))
            break;
        if (cur->capacity)
            LFPS_CHECK(cur->size(cur->q) <= cur->capacity, "size above capacity");
        lfps_delay(&t->rng);
    }
}

static void worker(lfps_thread *t)
{
    if (t->id == 0)
        consumer(t, true);
    else if (t->id <= cur->producers)
        producer(t, t->id - 1);
    else
        consumer(t, false);
}

static void run(const struct ops *o)
{
    cur = o;
    memset(seen, 0, sizeof seen);
    for (int p = 0; p < MAXP; p++)
        atomic_store(&accepted[p], 0);
    lfp_cancel_init(&token, NULL);
    atomic_store(&closed_out, 0);
    lfps_run(1 + o->producers + (o->consumers - 1), worker, NULL);
    uint64_t total = 0;
    for (int p = 0; p < o->producers; p++) {
        uint32_t n = atomic_load(&accepted[p]);
        total += n;
        for (uint32_t s = 0; s < MAXN; s++) {
            unsigned char k = atomic_load_explicit(&seen[p][s], memory_order_relaxed);
            if (k != (s < n))
                LFPS_CHECK(false, "%s: item %d/%u accepted=%d seen %u times", o->name, p, s,
                           s < n, k);
        }
    }
    LFPS_CHECK(o->size(o->q) == 0, "%s: not drained", o->name);
    lfp_cancel_destroy(&token);
    printf("%s: %dP/%dC, %llu items exactly once, %d producers stopped by close\n", o->name,
           o->producers, o->consumers, (unsigned long long)total, atomic_load(&closed_out));
}

/* ---- quiet phases: no close() until every waiter whose condition holds
 * has returned (stress/quiet.h) */

#define QUIET_N 2000      /* items per producer */
#define QUIET_CAP 8       /* small: producers block on full, consumers on empty */

static lfps_progress progress;
static _Atomic int32_t quota;   /* pop tickets left (phase "push") */

/* Push seq 0..QUIET_N-1 of producer p, every one with a blocking call (a
 * push_n that takes none falls back to push), then stop. */
static void quiet_producer(lfps_thread *t, int p)
{
    for (uint32_t seq = 0; seq < QUIET_N;) {
        uintptr_t v[BATCH];
        uint32_t k = 1 + (uint32_t)lfps_below(&t->rng, BATCH);
        if (k > QUIET_N - seq)
            k = QUIET_N - seq;
        for (uint32_t i = 0; i < k; i++)
            v[i] = item(p, seq + i);
        size_t m = lfps_below(&t->rng, 4) == 0 ? cur->push_n(cur->q, v, k) : 0;
        if (m == 0) {
            int rc = cur->push(cur->q, v[0], LFP_FOREVER, NULL);
            LFPS_CHECK(rc == 0, "%s quiet push rc %d", cur->name, rc);
            if (rc != 0)
                return;
            m = 1;
        }
        seq += (uint32_t)m;
        lfps_progress_add(&progress, (uint32_t)m);
        lfps_delay(&t->rng);
    }
}

/* Pop with blocking calls until EPIPE, or (ticketed) until the tickets run
 * out. */
static void quiet_consumer(lfps_thread *t, bool ticketed)
{
    struct consumer c;
    for (int p = 0; p < MAXP; p++)
        c.last[p] = -1;
    c.got = 0;
    for (;;) {
        if (ticketed && atomic_fetch_sub(&quota, 1) <= 0)
            return;
        uintptr_t v[BATCH];
        size_t m = !ticketed && lfps_below(&t->rng, 4) == 0
                       ? cur->pop_n(cur->q, v, 1 + lfps_below(&t->rng, BATCH))
                       : 0;
        if (m == 0) {
            int rc = cur->pop(cur->q, v, LFP_FOREVER, NULL);
            if (rc == EPIPE)
                return;
            LFPS_CHECK(rc == 0, "%s quiet pop rc %d", cur->name, rc);
            if (rc != 0)
                return;
            m = 1;
        }
        for (size_t i = 0; i < m; i++)
            take(&c, v[i]);
        lfps_progress_add(&progress, (uint32_t)m);
        lfps_delay(&t->rng);
    }
}

static bool quiet_ticketed;

/* Thread 0 checks; then producers; then consumers. */
static void quiet_worker(lfps_thread *t)
{
    if (t->id == 0) {
        const char *what = quiet_ticketed ? "pushers blocked on full, poppers stop"
                                          : "poppers blocked on empty, pushers stop";
        if (!lfps_progress_wait(&progress, what))
            printf("%s quiet (%s): size %zu\n", cur->name, what, cur->size(cur->q));
        cur->close(cur->q);   /* only now: shut the idle consumers down */
    } else if (t->id <= cur->producers) {
        quiet_producer(t, t->id - 1);
    } else {
        quiet_consumer(t, quiet_ticketed);
    }
}

/* Phase "pop" (ticketed false): consumers pop until EPIPE; the producers'
 * P*N pushes must all be popped before the close. Phase "push" (ticketed,
 * bounded queues only): consumers take exactly P*N - capacity items and
 * stop, so every blocked push must complete; the rest is drained after. */
static void quiet(const struct ops *o, void *q, bool ticketed)
{
    struct ops local = *o;
    local.q = q;
    cur = &local;
    memset(seen, 0, sizeof seen);
    uint32_t total = (uint32_t)o->producers * QUIET_N;
    uint32_t pops = ticketed ? total - QUIET_CAP : total;
    atomic_store(&quota, (int32_t)pops);
    quiet_ticketed = ticketed;
    lfps_progress_init(&progress, total + pops);
    lfps_run(1 + o->producers + o->consumers, quiet_worker, NULL);
    struct consumer c;
    for (int p = 0; p < MAXP; p++)
        c.last[p] = -1;
    uintptr_t v;
    while (local.try_pop(q, &v) == 0)   /* closed: drains what is left */
        take(&c, v);
    for (int p = 0; p < o->producers; p++)
        for (uint32_t s = 0; s < QUIET_N; s++) {
            unsigned char k = atomic_load_explicit(&seen[p][s], memory_order_relaxed);
            if (k != 1)
                LFPS_CHECK(false, "%s quiet: item %d/%u seen %u times", o->name, p, s, k);
        }
    lfps_ops(total);
    printf("%s: quiet %s phase, %dP/%dC, %u items, no close until all %u operations done\n",
           o->name, ticketed ? "push" : "pop", o->producers, o->consumers, total,
           total + pops);
}

/* ---- one-shot rounds (lfp_mpmc): issue 14's lost wake-up needs a waiter
 * that will not come back for more — a consumer that loops heals a missed
 * wake with its next fast-path pop. Each round two waiters make exactly one
 * blocking call each and two actors, once both waiters are in the wait
 * protocol (staged), make the two operations that satisfy them:
 *   pop side:  empty queue, the waiters pop, the actors push one each;
 *   push side: full queue, the waiters push, the actors pop one each.
 * Every waiter must return before its deadline (LFPS_QUIET_STALL_NS). Under the hooks
 * preset with LFP_HOOK_MODE=hold the first actor at mpmc.push / mpmc.pop
 * holds its claimed cell until the second has published, which is the
 * scenario of the issue: without the pass-on rule (src/mpmc.c) a waiter is
 * left parked beside an item or a free cell. */
enum { SHOT_WAITERS = 2, SHOT_ACTORS = 2, SHOT_CAP = 4, SHOT_ROUNDS = 2000 };

struct shot {
    lfp_mpmc q;
    bool push_side;
    int rc[SHOT_WAITERS + SHOT_ACTORS];
    uint64_t stuck;
};

/* Staging: both waiters between lfp_ec_prepare and the end of their wait. */
static bool shot_waiting(void *arg)
{
    struct shot *s = arg;
    lfp_ec *ec = s->push_side ? &s->q.not_full : &s->q.not_empty;
    /* relaxed: a staging hint only. */
    return atomic_load_explicit(&ec->waiters, memory_order_relaxed) >= SHOT_WAITERS;
}

static void shot_body(int tid, lfps_rng *rng, void *arg)
{
    (void)rng;
    struct shot *s = arg;
    void *v = NULL;
    int64_t d = lfp_after(LFPS_QUIET_STALL_NS);
    if (tid >= SHOT_WAITERS)
        lfps_stage(shot_waiting, s);
    bool push = s->push_side == (tid < SHOT_WAITERS);
    int rc = push ? lfp_mpmc_push(&s->q, (void *)(uintptr_t)(tid + 1), d, NULL)
                  : lfp_mpmc_pop(&s->q, &v, d, NULL);
    /* at the deadline, the last try succeeds beside the item it missed */
    s->rc[tid] = rc == 0 && lfp_now() >= d ? ETIMEDOUT : rc;
}

static bool shot_end(uint64_t round, void *arg)
{
    struct shot *s = arg;
    for (int i = 0; i < SHOT_WAITERS + SHOT_ACTORS; i++)
        if (s->rc[i] != 0) {
            s->stuck++;
            LFPS_CHECK(false, "lfp_mpmc one-shot %s round %llu: %s %d returned %d: a waiter "
                       "stayed parked beside %s", s->push_side ? "push" : "pop",
                       (unsigned long long)round, i < SHOT_WAITERS ? "waiter" : "actor", i,
                       s->rc[i], s->push_side ? "a free cell" : "a queued item");
        }
    size_t want = s->push_side ? SHOT_CAP : 0;
    LFPS_CHECK(lfp_mpmc_size(&s->q) == want, "one-shot: size %zu, expected %zu",
               lfp_mpmc_size(&s->q), want);
    lfps_ops(1);
    return s->stuck == 0;
}

static void one_shot(bool push_side)
{
    static struct shot s;
    s.push_side = push_side;
    s.stuck = 0;
    LFPS_CHECK(lfp_mpmc_init(&s.q, SHOT_CAP) == 0, "one-shot init");
    for (int i = 0; push_side && i < SHOT_CAP; i++)
        LFPS_CHECK(lfp_mpmc_try_push(&s.q, NULL) == 0, "one-shot fill");
    lfps_rounds r = { .nthreads = SHOT_WAITERS + SHOT_ACTORS, .max_rounds = lfps_scale(SHOT_ROUNDS),
                      .body = shot_body, .end = shot_end, .arg = &s };
    uint64_t n = lfps_rounds_run(&r);
    lfp_mpmc_close(&s.q);
    lfp_mpmc_destroy(&s.q);
    printf("lfp_mpmc: one-shot %s rounds: %llu, %s\n", push_side ? "push" : "pop",
           (unsigned long long)n, s.stuck ? "a waiter was left parked" : "every waiter returned");
}

int main(void)
{
    lfps_init("stress_queue");
    /* first: a lost wake-up fails their bounded check (the phases below
     * heal one, or end in a close that hides it) */
    one_shot(false);
    one_shot(true);
    int p = lfps_threads(4);
    if (p > MAXP)
        p = MAXP;
    for (int i = 0; i < MAXP; i++) {
        boxes[i] = calloc(MAXN, sizeof *boxes[i]);
        for (uint32_t s = 0; s < MAXN; s++)
            boxes[i][s].value = item(i, s);
    }
    lfp_spsc spsc, spsc_sym;
    lfp_mpmc mpmc;
    lfp_mpsc mpsc;
    lfp_locked_queue locked;
    lfp_spsc_init(&spsc, 64);
    lfp_spsc_init(&spsc_sym, 64);
    lfp_spsc_symmetric_(&spsc_sym);
    lfp_mpmc_init(&mpmc, 64);
    lfp_mpsc_init(&mpsc);
    lfp_locked_queue_init(&locked, 50);
    const struct ops all[] = {
        { "lfp_spsc", 1, 1, 64, &spsc, VQ_OPS(lfp_spsc) },
        { "lfp_mpmc", p, p, 64, &mpmc, VQ_OPS(lfp_mpmc) },
        { "lfp_mpsc", p, 2, 0, &mpsc, mpsc_push_a, mpsc_try_push_a, mpsc_push_n_a, mpsc_pop_a,
          mpsc_try_pop_a, mpsc_pop_n_a, mpsc_close_a, mpsc_size_a },
        { "lfp_locked_queue", p, p, 50, &locked, VQ_OPS(lfp_locked_queue) },
        { "lfp_spsc (fallback)", 1, 1, 64, &spsc_sym, VQ_OPS(lfp_spsc) },
    };
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        run(&all[i]);
    for (int ticketed = 0; ticketed < 2; ticketed++) {
        lfp_spsc qs, qf;
        lfp_mpmc qm;
        lfp_mpsc qc;
        lfp_locked_queue ql;
        lfp_spsc_init(&qs, QUIET_CAP);
        lfp_spsc_init(&qf, QUIET_CAP);
        lfp_spsc_symmetric_(&qf);
        lfp_mpmc_init(&qm, QUIET_CAP);
        lfp_mpsc_init(&qc);
        lfp_locked_queue_init(&ql, QUIET_CAP);
        quiet(&all[0], &qs, ticketed);
        quiet(&all[4], &qf, ticketed);
        quiet(&all[1], &qm, ticketed);
        if (!ticketed) {   /* unbounded: pushes never block */
            struct ops one = all[2];
            one.consumers = 1;
            quiet(&one, &qc, false);
        }
        quiet(&all[3], &ql, ticketed);
        lfp_spsc_destroy(&qs);
        lfp_spsc_destroy(&qf);
        lfp_mpmc_destroy(&qm);
        lfp_mpsc_destroy(&qc);
        lfp_locked_queue_destroy(&ql);
    }
    printf("lfp_mpsc: second consumer refused with EBUSY %llu times\n",
           (unsigned long long)atomic_load(&ebusy));
    lfp_spsc_destroy(&spsc);
    lfp_spsc_destroy(&spsc_sym);
    lfp_mpmc_destroy(&mpmc);
    lfp_mpsc_destroy(&mpsc);
    lfp_locked_queue_destroy(&locked);
    for (int i = 0; i < MAXP; i++)
        free(boxes[i]);
    return lfps_finish();
}
