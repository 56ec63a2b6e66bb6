/* SPDX-License-Identifier: BSD-2-Clause */
/* stress_rwlock: lfp_rwlock and its twin lfp_locked_rwlock under
 * oversubscription (default 6 threads on 2 cores) and injected delays
 * (LFP_STRESS_DELAY; the hooks build adds preemption at the rwlock.* sites).
 *
 * The oracle is the specification itself, checked on every operation:
 * inside counters (readers in, writers in) updated right after each lock
 * returns and right before each unlock — a reader never sees a writer in,
 * a writer never sees anyone else in — and a payload of plain words that a
 * writer fills one word at a time with delays between, so a reader that
 * overlaps a writer sees mixed words (and TSan reports the plain race).
 *
 *   mixed   (20 % and 2 % writes) readers and writers with random deadlines (some already past),
 *           random cancel tokens fired by a canceller thread, trylocks and
 *           downgrades (after a downgrade the payload must be unchanged: no
 *           writer got in between). Ends by time: the workers stop on their
 *           own (no close, no extra wake), and the canceller checks that
 *           every one returns (a waiter left parked with no deadline and no
 *           token fails there, named, instead of hanging the join: with the
 *           slow reader's undo notify removed, this is where it shows).
 *           Then the lock must be free: no holder, no waiter, no
 *           fast-reader cell (destroy == 0).
 *   quiet   no deadline, no token that fires in a correct run: every thread
 *           does a fixed number of blocking reads and writes (and writers
 *           that hold long, so others park); a checker thread waits for the
 *           exact count (stress/quiet.h). A lost wake-up stalls it — the
 *           only wake-up that ends the phase is each operation's own.
 * The bias is exercised both ways: phases with many reads keep it on
 * (fast path), writers revoke it, slow readers turn it back on. */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "lfpat.h"
#include "quiet.h"

#define WORDS 8
#define TOKENS 1024   /* tokens per worker in the mixed phase; a fired one is replaced */

typedef struct impl {
    const char *name;
    size_t size;
    int (*init)(void *);
    int (*destroy)(void *);
    int (*rdlock)(void *, int64_t, lfp_cancel *);
    int (*tryrdlock)(void *);
    int (*rdunlock)(void *);
    int (*wrlock)(void *, int64_t, lfp_cancel *);
    int (*trywrlock)(void *);
    int (*wrunlock)(void *);
    int (*downgrade)(void *);
} impl;

#define IMPL(P)                                                                                \
    static int P##_init_(void *r) { return P##_init(r); }                                      \
    static int P##_destroy_(void *r) { return P##_destroy(r); }                                \
    static int P##_rdlock_(void *r, int64_t d, lfp_cancel *c) { return P##_rdlock(r, d, c); }  \
    static int P##_tryrdlock_(void *r) { return P##_tryrdlock(r); }                            \
    static int P##_rdunlock_(void *r) { return P##_rdunlock(r); }                              \
    static int P##_wrlock_(void *r, int64_t d, lfp_cancel *c) { return P##_wrlock(r, d, c); }  \
    static int P##_trywrlock_(void *r) { return P##_trywrlock(r); }                            \
    static int P##_wrunlock_(void *r) { return P##_wrunlock(r); }                              \
    static int P##_downgrade_(void *r) { return P##_downgrade(r); }
IMPL(lfp_rwlock)
IMPL(lfp_locked_rwlock)
#define IMPL_ROW(P)                                                                            \
    { #P, sizeof(P), P##_init_, P##_destroy_, P##_rdlock_, P##_tryrdlock_, P##_rdunlock_,     \
      P##_wrlock_, P##_trywrlock_, P##_wrunlock_, P##_downgrade_ }
static const impl impls[] = { IMPL_ROW(lfp_rwlock), IMPL_ROW(lfp_locked_rwlock) };

typedef struct run {
    const impl *im;
    void *rw;
    _Atomic int readers_in, writers_in;
    uint64_t data[WORDS];   /* plain: guarded by the lock under test */
    _Atomic int stop;
    lfp_cancel (*tokens)[TOKENS];     /* mixed: per worker, fired by the canceller */
    int workers;
    unsigned write_pct;               /* mixed: share of write operations */
    lfps_progress progress;           /* quiet: operations; mixed: workers returned */
    lfp_cancel quiet_stop;            /* fired only if the quiet phase stalls */
    _Atomic uint64_t reads, writes, timeouts, cancels, downgrades;
} run;

/* ------------------------------------------------------------ sections */

static void read_section(run *r, lfps_thread *t)
{
    atomic_fetch_add(&r->readers_in, 1);
    LFPS_CHECK(atomic_load(&r->writers_in) == 0, "%s: reader inside with a writer", r->im->name);
    uint64_t first = r->data[0];
    lfps_delay(&t->rng);
    for (int i = 1; i < WORDS; i++)
        LFPS_CHECK(r->data[i] == first, "%s: mixed payload word %d: %llu vs %llu",
                   r->im->name, i, (unsigned long long)r->data[i], (unsigned long long)first);
    atomic_fetch_sub(&r->readers_in, 1);
}

/* Inside the write hold: fill the payload with v, a word at a time. */
static void write_section(run *r, lfps_thread *t, uint64_t v)
{
    LFPS_CHECK(atomic_fetch_add(&r->writers_in, 1) == 0, "%s: two writers inside", r->im->name);
    LFPS_CHECK(atomic_load(&r->readers_in) == 0, "%s: writer inside with readers",
               r->im->name);
    for (int i = 0; i < WORDS; i++) {
        r->data[i] = v;
        if (i == WORDS / 2)
            lfps_delay(&t->rng);
    }
    atomic_fetch_sub(&r->writers_in, 1);
}

static uint64_t next_value(lfps_thread *t, uint64_t i)
{
    return ((uint64_t)(t->id + 1) << 40) | i;
}

/* ------------------------------------------------------------ mixed */

static int64_t random_deadline(lfps_thread *t)
{
    switch (lfps_below(&t->rng, 4)) {
    case 0: return lfp_now() - 1;                                    /* already past */
    case 1: return lfp_after((int64_t)lfps_below(&t->rng, 200000));  /* up to 200 us */
    default: return LFP_FOREVER;
    }
}

static void count_fail(run *r, int rc, const char *what)
{
    if (rc == ETIMEDOUT)
        atomic_fetch_add(&r->timeouts, 1);
    else if (rc == ECANCELED)
        atomic_fetch_add(&r->cancels, 1);
    else
        LFPS_CHECK(false, "%s: %s returned %d", r->im->name, what, rc);
}

static void mixed_op(run *r, lfps_thread *t, uint64_t i, lfp_cancel *tok)
{
    const impl *im = r->im;
    unsigned kind = (unsigned)lfps_below(&t->rng, 100);
    int rc;
    if (kind >= r->write_pct) {                /* reads, some try */
        rc = kind % 10 == 0 ? im->tryrdlock(r->rw) : im->rdlock(r->rw, random_deadline(t), tok);
        if (rc == EBUSY)
            return;
        if (rc != 0) {
            count_fail(r, rc, "rdlock");
            return;
        }
        read_section(r, t);
        LFPS_CHECK(im->rdunlock(r->rw) == 0, "%s: rdunlock", im->name);
        atomic_fetch_add(&r->reads, 1);
        return;
    }
    rc = kind % 5 == 0 ? im->trywrlock(r->rw) : im->wrlock(r->rw, random_deadline(t), tok);
    if (rc == EBUSY)
        return;
    if (rc != 0) {
        count_fail(r, rc, "wrlock");
        return;
    }
    uint64_t v = next_value(t, i);
    write_section(r, t, v);
    atomic_fetch_add(&r->writes, 1);
    if (kind % 3 != 0) {
        LFPS_CHECK(im->wrunlock(r->rw) == 0, "%s: wrunlock", im->name);
        return;
    }
    LFPS_CHECK(im->downgrade(r->rw) == 0, "%s: downgrade", im->name);
    read_section(r, t);
    LFPS_CHECK(r->data[0] == v, "%s: a writer got in during a downgrade", im->name);
    LFPS_CHECK(im->rdunlock(r->rw) == 0, "%s: rdunlock after downgrade", im->name);
    atomic_fetch_add(&r->downgrades, 1);
}

static void mixed_thread(lfps_thread *t)
{
    run *r = t->arg;
    if (t->id == 0) {   /* the canceller: fires random tokens now and then */
        for (uint64_t i = 0; !atomic_load(&r->stop) && lfps_go(t, i, UINT64_MAX); i++) {
        {
            /* the token a random worker is using now: its first unfired one */
            lfp_cancel *mine = r->tokens[1 + lfps_below(&t->rng, (uint64_t)r->workers)];
            for (int k = 0; k < TOKENS; k++)
                if (lfp_cancel_fire(&mine[k], ECANCELED))
                    break;
            /* pace: one fire per ~100 us (a timed park on a private word) */
            _Atomic uint32_t pace = 0;
            lfp_park_wait(&pace, 0, lfp_after(100000));
        }
            lfps_delay(&t->rng);
        }
        /* A worker parked forever cannot be joined: report, then end here. */
        char what[96];
        snprintf(what, sizeof what, "%s: mixed, workers returned after the stop", r->im->name);
        if (!lfps_progress_wait(&r->progress, what))
            _exit(lfps_finish());
        return;
    }
    unsigned cur = 0;   /* the first of my tokens not yet fired */
    uint64_t i = 0;
    for (; lfps_go(t, i, UINT64_MAX); i++) {
        while (cur < TOKENS && lfp_cancel_fired(&r->tokens[t->id][cur]))
            cur++;
        lfp_cancel *tok = cur < TOKENS && lfps_below(&t->rng, 4) == 0 ? &r->tokens[t->id][cur]
                                                                       : NULL;
        mixed_op(r, t, i, tok);
    }
    atomic_store(&r->stop, 1);
    lfps_progress_add(&r->progress, 1);
    lfps_ops(i);
}

static void check_free(run *r, const char *phase)
{
    LFPS_CHECK(r->im->trywrlock(r->rw) == 0, "%s: %s: not free at the end", r->im->name, phase);
    LFPS_CHECK(r->im->wrunlock(r->rw) == 0, "%s: %s: wrunlock", r->im->name, phase);
    LFPS_CHECK(r->im->destroy(r->rw) == 0, "%s: %s: destroy busy at the end", r->im->name,
               phase);
}

static void mixed_phase(const impl *im, int threads, unsigned write_pct)
{
    run *r = calloc(1, sizeof *r);
    r->im = im;
    r->write_pct = write_pct;
    r->rw = aligned_alloc(LFP_CACHELINE, (im->size + LFP_CACHELINE - 1) / LFP_CACHELINE *
                                             LFP_CACHELINE);
    r->workers = threads - 1;
    lfps_progress_init(&r->progress, (uint32_t)r->workers);
    r->tokens = calloc((size_t)threads, sizeof *r->tokens);
    for (int w = 0; w < threads; w++)
        for (int k = 0; k < TOKENS; k++)
            lfp_cancel_init(&r->tokens[w][k], NULL);
    LFPS_CHECK(im->init(r->rw) == 0, "%s: init", im->name);
    lfps_run(threads, mixed_thread, r);
    check_free(r, "mixed");
    printf("  %s: mixed %u%% writes, %d threads: %llu reads, %llu writes, %llu downgrades, "
           "%llu timeouts, %llu cancels\n", im->name, write_pct, threads,
           (unsigned long long)r->reads, (unsigned long long)r->writes,
           (unsigned long long)r->downgrades, (unsigned long long)r->timeouts,
           (unsigned long long)r->cancels);
    for (int w = 0; w < threads; w++)
        for (int k = 0; k < TOKENS; k++)
            lfp_cancel_destroy(&r->tokens[w][k]);
    free(r->tokens);
    free(r->rw);
    free(r);
}

/* ------------------------------------------------------------ quiet */

#define QUIET_OPS 400

static void quiet_thread(lfps_thread *t)
{
    run *r = t->arg;
    const impl *im = r->im;
    if (t->id == 0) {
        if (!lfps_progress_wait(&r->progress, im->name))
            lfp_cancel_fire(&r->quiet_stop, ECANCELED);   /* let the stuck threads out */
        return;
    }
    for (uint64_t i = 0; i < QUIET_OPS; i++) {
        /* every third worker writes one op in 4, holding it across delays */
        bool write = t->id % 3 == 0 && i % 4 == 0;
        int rc = write ? im->wrlock(r->rw, LFP_FOREVER, &r->quiet_stop)
                       : im->rdlock(r->rw, LFP_FOREVER, &r->quiet_stop);
        LFPS_CHECK(rc == 0, "%s: quiet %s returned %d", im->name, write ? "wrlock" : "rdlock",
                   rc);
        if (rc != 0)
            return;
        if (write) {
            write_section(r, t, next_value(t, i));
            lfps_delay(&t->rng);
            LFPS_CHECK(im->wrunlock(r->rw) == 0, "%s: quiet wrunlock", im->name);
        } else {
            read_section(r, t);
            LFPS_CHECK(im->rdunlock(r->rw) == 0, "%s: quiet rdunlock", im->name);
        }
        lfps_progress_add(&r->progress, 1);
    }
    lfps_ops(QUIET_OPS);
}

static void quiet_phase(const impl *im, int threads)
{
    run *r = calloc(1, sizeof *r);
    r->im = im;
    r->rw = aligned_alloc(LFP_CACHELINE, (im->size + LFP_CACHELINE - 1) / LFP_CACHELINE *
                                             LFP_CACHELINE);
    lfp_cancel_init(&r->quiet_stop, NULL);
    lfps_progress_init(&r->progress, (uint32_t)((threads - 1) * QUIET_OPS));
    LFPS_CHECK(im->init(r->rw) == 0, "%s: init", im->name);
    lfps_run(threads, quiet_thread, r);
    if (!lfp_cancel_fired(&r->quiet_stop))
        check_free(r, "quiet");
    printf("  %s: quiet, %d threads x %d blocking ops, no deadline, no close-like wake\n",
           im->name, threads - 1, QUIET_OPS);
    lfp_cancel_destroy(&r->quiet_stop);
    free(r->rw);
    free(r);
}

int main(void)
{
    lfps_init("stress_rwlock");
    int threads = lfps_threads(6);   /* oversubscribed on 2 cores */
    if (threads < 3)
        threads = 3;
    for (size_t i = 0; i < sizeof impls / sizeof impls[0]; i++) {
        mixed_phase(&impls[i], threads, 20);
        mixed_phase(&impls[i], threads, 2);   /* read-mostly: the bias is on often */
        quiet_phase(&impls[i], threads);
    }
    return lfps_finish();
}
