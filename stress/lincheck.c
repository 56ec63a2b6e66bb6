/* SPDX-License-Identifier: BSD-2-Clause */
#include "lincheck.h"

#include <errno.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "lfpat/common.h"

/* ------------------------------------------------------------ recording */

lfpl_op *lfpl_begin(lfpl_log *log, int thread, int kind, int64_t arg)
{
    if (log->n >= LFPL_MAX_OPS)
        return NULL;
    lfpl_op *op = &log->ops[log->n++];
    *op = (lfpl_op){ .arg = arg, .kind = kind, .thread = thread };
    op->invoke = lfp_now();
    return op;
}

void lfpl_end(lfpl_op *op, int rc, int64_t ret)
{
    /* seq_cst fence: the op's stores become visible to every thread (on x86:
     * the store buffer drains) before the response timestamp. See "Real
     * time" in lincheck.h. Not modelled by TSan, so it adds no
     * happens-before that could hide a race. */
    atomic_thread_fence(memory_order_seq_cst);
    op->response = lfp_now();
    op->rc = rc;
    op->ret = ret;
}

/* ------------------------------------------------------------ specs */

/* May a try_pop fail now? Empty, or (busy_pops) the push of one of the
 * first busy_pops items overlaps the pop: it may still have been in
 * progress when the pop looked. Ties count as overlap. */
static bool fifo_pop_may_fail(const lfpl_fifo_state *q, const lfpl_op *op)
{
    if (q->n == 0)
        return true;
    for (int64_t i = 0; i < q->busy_pops && i < q->n; i++)
        if (q->pushed_at[i] >= op->invoke)
            return true;
    return false;
}

/* May a try_push fail now? Full, or (busy_pushes) the pop that freed the
 * cell of this push's position overlaps the push. */
static bool fifo_push_may_fail(const lfpl_fifo_state *q, const lfpl_op *op)
{
    if (q->n == q->cap)
        return true;
    return q->busy_pushes && q->pushes >= q->cap &&
           q->popped_at[q->pushes % q->cap] >= op->invoke;
}

static bool fifo_step(void *state, const lfpl_op *op)
{
    lfpl_fifo_state *q = state;
    if (q->busy_pushes && (q->cap < 1 || q->cap > LFPL_FIFO_RING))
        return false;   /* misconfigured: the ring cannot hold the pops */
    if (op->kind == LFPL_PUSH) {
        if (op->rc == EAGAIN)
            return fifo_push_may_fail(q, op);
        if (op->rc != 0 || q->n >= q->cap || q->n >= LFPL_FIFO_MAX)
            return false;
        q->items[q->n] = op->arg;
        if (q->busy_pops)
            q->pushed_at[q->n] = op->response;
        q->n++;
        q->pushes++;
        return true;
    }
    if (op->kind != LFPL_POP)
        return false;
    if (op->rc == EAGAIN)
        return fifo_pop_may_fail(q, op);
    if (op->rc != 0 || q->n == 0 || q->items[0] != op->ret)
        return false;
    if (q->busy_pushes)
        q->popped_at[(q->pushes - q->n) % q->cap] = op->response;   /* position = pops so far */
    size_t rest = (size_t)(q->n - 1);
    memmove(q->items, q->items + 1, rest * sizeof q->items[0]);
    memmove(q->pushed_at, q->pushed_at + 1, rest * sizeof q->pushed_at[0]);
    q->n--;
    q->items[q->n] = q->pushed_at[q->n] = 0;   /* keep unused slots zero: states compare by memcmp */
    return true;
}

static bool sem_step(void *state, const lfpl_op *op)
{
    lfpl_sem_state *s = state;
    if (op->kind == LFPL_ACQUIRE) {
        if (op->rc == EAGAIN)
            return s->avail == 0;
        return op->rc == 0 && s->avail > 0 && (s->avail--, true);
    }
    if (op->kind != LFPL_RELEASE)
        return false;
    if (op->rc == EOVERFLOW)
        return s->avail == s->cap;
    return op->rc == 0 && s->avail < s->cap && (s->avail++, true);
}

static bool counter_step(void *state, const lfpl_op *op)
{
    lfpl_counter_state *c = state;
    if (op->kind == LFPL_GET)
        return op->ret == c->value;
    if (op->kind != LFPL_ADD)
        return false;
    c->value = (int64_t)((uint64_t)c->value + (uint64_t)op->arg);
    return op->ret == c->value;
}

const lfpl_spec lfpl_fifo_spec = { "fifo", sizeof(lfpl_fifo_state), fifo_step };
const lfpl_spec lfpl_sem_spec = { "semaphore", sizeof(lfpl_sem_state), sem_step };
const lfpl_spec lfpl_counter_spec = { "counter", sizeof(lfpl_counter_state), counter_step };

/* ------------------------------------------------------------ memo set */

/* Open-addressing set of (mask, state) pairs already explored without
 * success. Each slot: 8 bytes mask+1 (0 = empty), then the state bytes.
 * Bounded in bytes (states are up to LFPL_MAX_STATE): past it, a history is
 * reported too big to check rather than eating the machine's memory. */
#define MEMO_MAX_BYTES ((size_t)64 << 20)

struct memo {
    unsigned char *slots;
    size_t slot_size, cap, used;
};

/* FNV-1a over 64-bit words (states are up to 1 KiB: bytewise is slow). */
static uint64_t memo_hash(uint64_t mask, const unsigned char *state, size_t n)
{
    uint64_t h = 1469598103934665603ull ^ mask;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, state + i, sizeof w);
        h = (h ^ w) * 1099511628211ull;
    }
    for (; i < n; i++)
        h = (h ^ state[i]) * 1099511628211ull;
    return h ^ (h >> 29);
}

/* Insert; returns false if it was already there. Grows at 50% load; sets
 * *full when the table may not grow any more. */
static bool memo_insert(struct memo *m, uint64_t mask, const void *state, size_t n, bool *full);

static bool memo_grow(struct memo *m, size_t n)
{
    struct memo old = *m;
    size_t cap = old.cap ? old.cap * 2 : 64;
    if (cap * m->slot_size > MEMO_MAX_BYTES)
        return false;
    m->slots = calloc(cap, m->slot_size);
    if (!m->slots) {
        *m = old;
        return false;
    }
    m->cap = cap;
    m->used = 0;
    bool full = false;
    for (size_t i = 0; i < old.cap; i++) {
        unsigned char *s = old.slots + i * old.slot_size;
        uint64_t key;
        memcpy(&key, s, sizeof key);
        if (key)
            memo_insert(m, key - 1, s + sizeof key, n, &full);
    }
    free(old.slots);
    return true;
}

static bool memo_insert(struct memo *m, uint64_t mask, const void *state, size_t n, bool *full)
{
    if (2 * (m->used + 1) > m->cap && !memo_grow(m, n)) {
        *full = true;
        return true;   /* cannot remember: explore again (correct, slower) */
    }
    uint64_t key = mask + 1;   /* masks never are all-ones: at most 48 ops */
    for (size_t i = memo_hash(mask, state, n) & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
        unsigned char *s = m->slots + i * m->slot_size;
        uint64_t k;
        memcpy(&k, s, sizeof k);
        if (k == 0) {
            memcpy(s, &key, sizeof key);
            memcpy(s + sizeof key, state, n);
            m->used++;
            return true;
        }
        if (k == key && memcmp(s + sizeof key, state, n) == 0)
            return false;
    }
}

/* ------------------------------------------------------------ search */

struct search {
    const lfpl_spec *spec;
    const lfpl_op *ops[LFPL_MAX_OPS];
    int prev[LFPL_MAX_OPS];    /* index of the same thread's previous op, -1 none */
    int n;
    uint64_t all;
    struct memo memo;
    bool full;
    alignas(max_align_t) unsigned char states[LFPL_MAX_OPS + 1][LFPL_MAX_STATE];  /* rows stay aligned: 1024 bytes */
};

/* Can op i be linearized next, given the linearized set `done`? */
static bool minimal(const struct search *s, uint64_t done, int i, int64_t min_response)
{
    if (done & (1ull << i))
        return false;
    if (s->prev[i] >= 0 && !(done & (1ull << s->prev[i])))
        return false;
    /* Ties count as overlap: a shared nanosecond proves no order. */
    return s->ops[i]->invoke <= min_response;
}

static bool search(struct search *s, uint64_t done, int depth)
{
    if (done == s->all)
        return true;
    const unsigned char *state = s->states[depth];
    if (!memo_insert(&s->memo, done, state, s->spec->state_size, &s->full))
        return false;   /* explored before from this very configuration */
    int64_t min_response = INT64_MAX;
    for (int i = 0; i < s->n; i++)
        if (!(done & (1ull << i)) && s->ops[i]->response < min_response)
            min_response = s->ops[i]->response;
    for (int i = 0; i < s->n; i++) {
        if (!minimal(s, done, i, min_response))
            continue;
        unsigned char *next = s->states[depth + 1];
        memcpy(next, state, s->spec->state_size);
        if (s->spec->step(next, s->ops[i]) && search(s, done | (1ull << i), depth + 1))
            return true;
    }
    return false;
}

static const char *kind_name(int kind)
{
    static const char *names[] = { "push", "pop", "acquire", "release", "add", "get" };
    return kind >= 0 && kind <= LFPL_GET ? names[kind] : "?";
}

static void print_history(const struct search *s)
{
    int64_t t0 = INT64_MAX;
    for (int i = 0; i < s->n; i++)
        t0 = s->ops[i]->invoke < t0 ? s->ops[i]->invoke : t0;
    fprintf(stderr, "  non-linearizable %s history (ns from first invoke):\n", s->spec->name);
    for (int i = 0; i < s->n; i++) {
        const lfpl_op *op = s->ops[i];
        fprintf(stderr, "    T%d [%7lld, %7lld] %-7s arg=%lld -> rc=%d ret=%lld\n", op->thread,
                (long long)(op->invoke - t0), (long long)(op->response - t0), kind_name(op->kind),
                (long long)op->arg, op->rc, (long long)op->ret);
    }
}

enum lfpl_verdict lfpl_check(const lfpl_spec *spec, const void *init,
                             const lfpl_log *logs, int nlogs, bool print)
{
    struct search *s = calloc(1, sizeof *s);
    if (!s || spec->state_size > LFPL_MAX_STATE) {
        free(s);
        return LFPL_TOO_BIG;
    }
    s->spec = spec;
    s->memo.slot_size = sizeof(uint64_t) + spec->state_size;
    for (int t = 0; t < nlogs; t++) {
        for (int k = 0; k < logs[t].n; k++) {
            if (s->n == LFPL_MAX_OPS) {
                free(s);
                return LFPL_TOO_BIG;
            }
            s->prev[s->n] = k ? s->n - 1 : -1;
            s->ops[s->n++] = &logs[t].ops[k];
        }
    }
    s->all = s->n == 64 ? ~0ull : (1ull << s->n) - 1;
    memcpy(s->states[0], init, spec->state_size);
    enum lfpl_verdict v = search(s, 0, 0) ? LFPL_LINEARIZABLE
                        : s->full ? LFPL_TOO_BIG : LFPL_VIOLATION;
    if (v == LFPL_VIOLATION && print)
        print_history(s);
    free(s->memo.slots);
    free(s);
    return v;
}

/* ------------------------------------------------------------ stress driver */

struct stress_run {
    const lfpl_stress *s;
    int ops_per_thread;
    lfpl_log logs[LFPL_MAX_THREADS];
    alignas(max_align_t) unsigned char init[LFPL_MAX_STATE];
    lfpl_result res;
};

static void stress_body(int tid, lfps_rng *rng, void *arg)
{
    struct stress_run *run = arg;
    for (int k = 0; k < run->ops_per_thread; k++) {
        lfps_delay(rng);
        run->s->op(run->s->obj, &run->logs[tid], tid, rng);
    }
}

static bool stress_end(uint64_t round, void *arg)
{
    (void)round;
    struct stress_run *run = arg;
    const lfpl_stress *s = run->s;
    /* Print the first violation only. */
    enum lfpl_verdict v = lfpl_check(s->spec, run->init, run->logs, s->nthreads,
                                     run->res.violations == 0);
    if (!s->expect_violations)
        LFPS_CHECK(v == LFPL_LINEARIZABLE, "%s: history %llu %s", s->name,
                   (unsigned long long)run->res.histories,
                   v == LFPL_VIOLATION ? "is not linearizable" : "too big to check");
    run->res.histories++;
    run->res.violations += v == LFPL_VIOLATION;
    run->res.too_big += v == LFPL_TOO_BIG;
    for (int t = 0; t < s->nthreads; t++) {
        run->res.ops += (uint64_t)run->logs[t].n;
        run->logs[t].n = 0;
    }
    memset(run->init, 0, sizeof run->init);
    s->reset(s->obj, run->init);
    return true;
}

lfpl_result lfpl_stress_run(const lfpl_stress *s)
{
    struct stress_run *run = calloc(1, sizeof *run);
    if (!run || s->nthreads < 1 || s->nthreads > LFPL_MAX_THREADS) {
        free(run);
        fprintf(stderr, "%s: bad lincheck setup\n", s->name);
        return (lfpl_result){ .violations = 1 };
    }
    run->s = s;
    run->ops_per_thread = s->ops_per_thread;
    if (run->ops_per_thread * s->nthreads > LFPL_MAX_OPS)
        run->ops_per_thread = LFPL_MAX_OPS / s->nthreads;
    s->reset(s->obj, run->init);
    lfps_rounds r = {
        .nthreads = s->nthreads,
        .max_rounds = lfps_scale(s->histories),
        .body = stress_body,
        .end = stress_end,
        .arg = run,
    };
    lfps_rounds_run(&r);
    lfpl_result res = run->res;
    int per_thread = run->ops_per_thread;
    free(run);
    lfps_ops(res.ops);
    printf("  lincheck %-28s %d threads x %d ops: %llu histories, %llu ops, "
           "%llu non-linearizable, %llu too big to check\n",
           s->name, s->nthreads, per_thread,
           (unsigned long long)res.histories, (unsigned long long)res.ops,
           (unsigned long long)res.violations, (unsigned long long)res.too_big);
    fflush(stdout);
    return res;
}
