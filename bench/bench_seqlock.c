/* SPDX-License-Identifier: BSD-2-Clause */
/* Sequence-lock benchmarks (issue 18): lfp_seqlock beside its twin
 * lfp_locked_seqlock and the peer ck_sequence (Concurrency Kit's one-copy
 * seqlock, writers serialised by a pthread mutex as ck requires), on the
 * read-mostly mixer (bench/readmostly.h): a payload of WORDS 64-bit words,
 * every write stores one value in all of them, every read copies them out
 * and checks they are equal.
 *
 * seqlock/preempted_writer/<impl>/threads:N — the case the two-copy design
 * is for: one writer opens a write and sleeps inside it (HOLD_NS, the
 * stand-in for a writer preempted mid-write on an oversubscribed machine),
 * closes it, and opens the next at once; N - 1 readers read for a fixed
 * window. items = reads. ck_sequence's readers spin while the write is open,
 * so they read only in the instants between two writes; lfp_seqlock's (and
 * the twin's, whose edit runs outside its mutex) read on. */
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#include <ck_sequence.h>

#include "lfpat.h"
#include "readmostly.h"

#define WORDS 8
#define HOLD_NS 200000       /* a write held open for 200 us */
#define PW_WINDOW_NS 50000000 /* 50 ms per preempted-writer window */

static int check(const uint64_t *v)
{
    int bad = 0;
    for (int i = 1; i < WORDS; i++)
        bad |= v[i] != v[0];
    return bad;
}

/* ---------------------------------------------------------------- lfpat */

static lfp_seqlock sl;
static lfp_locked_seqlock lsl;

static int sl_read(void *obj, void *ts)
{
    (void)ts;
    uint64_t v[WORDS];
    lfp_seqlock_read_n(obj, v, sizeof v);   /* a constant size, as a caller's struct */
    return check(v);
}

static int sl_write(void *obj, void *ts, uint64_t value)
{
    (void)ts;
    uint64_t v[WORDS];
    for (int i = 0; i < WORDS; i++)
        v[i] = value;
    return lfp_seqlock_write(obj, v, LFP_FOREVER, NULL);
}

static int lsl_read(void *obj, void *ts)
{
    (void)ts;
    uint64_t v[WORDS];
    lfp_locked_seqlock_read(obj, v);
    return check(v);
}

static int lsl_write(void *obj, void *ts, uint64_t value)
{
    (void)ts;
    uint64_t v[WORDS];
    for (int i = 0; i < WORDS; i++)
        v[i] = value;
    return lfp_locked_seqlock_write(obj, v, LFP_FOREVER, NULL);
}

/* ---------------------------------------------------------------- ck_sequence */

static struct cks {
    alignas(LFP_CACHELINE) ck_sequence_t seq;
    uint64_t data[WORDS];
    alignas(LFP_CACHELINE) pthread_mutex_t writers;
} cks = { .seq = CK_SEQUENCE_INITIALIZER, .writers = PTHREAD_MUTEX_INITIALIZER };

static void cks_load(struct cks *c, uint64_t *v)
{
    unsigned version;
    do {
        version = ck_sequence_read_begin(&c->seq);
        for (int i = 0; i < WORDS; i++)
            v[i] = ck_pr_load_64(&c->data[i]);
    } while (ck_sequence_read_retry(&c->seq, version));
}

static int cks_read(void *obj, void *ts)
{
    (void)ts;
    uint64_t v[WORDS];
    cks_load(obj, v);
    return check(v);
}

static void cks_store(struct cks *c, uint64_t value)
{
    for (int i = 0; i < WORDS; i++)
        ck_pr_store_64(&c->data[i], value);
}

static int cks_write(void *obj, void *ts, uint64_t value)
{
    (void)ts;
    struct cks *c = obj;
    pthread_mutex_lock(&c->writers);
    ck_sequence_write_begin(&c->seq);
    cks_store(c, value);
    ck_sequence_write_end(&c->seq);
    pthread_mutex_unlock(&c->writers);
    return 0;
}

static rm_impl impl_sl = { .name = "lfp_seqlock", .obj = &sl, .read = sl_read,
                           .write = sl_write };
static rm_impl impl_lsl = { .name = "lfp_locked_seqlock", .obj = &lsl, .read = lsl_read,
                            .write = lsl_write };
static rm_impl impl_cks = { .name = "ck_sequence", .obj = &cks, .read = cks_read,
                            .write = cks_write };

/* ---------------------------------------------------------------- preempted writer */

/* A write held open for HOLD_NS: the implementation's own way to be inside
 * a write (begin ... commit; ck: write_begin ... write_end). */
typedef struct pw_impl {
    const char *name;
    int (*read)(void);
    void (*held_write)(uint64_t value);
} pw_impl;

static void hold(void)
{
    struct timespec ts = { 0, HOLD_NS };
    nanosleep(&ts, NULL);
}

static int pw_sl_read(void) { return sl_read(&sl, NULL); }
static int pw_lsl_read(void) { return lsl_read(&lsl, NULL); }
static int pw_cks_read(void) { return cks_read(&cks, NULL); }

static void pw_sl_write(uint64_t value)
{
    uint64_t v[WORDS];
    lfp_seqlock_write_begin(&sl, v, LFP_FOREVER, NULL);
    hold();
    for (int i = 0; i < WORDS; i++)
        v[i] = value;
    lfp_seqlock_write_commit(&sl, v);
}

static void pw_lsl_write(uint64_t value)
{
    uint64_t v[WORDS];
    lfp_locked_seqlock_write_begin(&lsl, v, LFP_FOREVER, NULL);
    hold();
    for (int i = 0; i < WORDS; i++)
        v[i] = value;
    lfp_locked_seqlock_write_commit(&lsl, v);
}

static void pw_cks_write(uint64_t value)
{
    pthread_mutex_lock(&cks.writers);
    ck_sequence_write_begin(&cks.seq);
    hold();
    cks_store(&cks, value);
    ck_sequence_write_end(&cks.seq);
    pthread_mutex_unlock(&cks.writers);
}

static const pw_impl pw_impls[] = {
    { "lfp_seqlock", pw_sl_read, pw_sl_write },
    { "lfp_locked_seqlock", pw_lsl_read, pw_lsl_write },
    { "ck_sequence", pw_cks_read, pw_cks_write },
};

typedef struct pw_window {
    const pw_impl *impl;
    pthread_barrier_t start;
    _Atomic int stop;
    _Atomic uint64_t reads, writes;
    _Atomic int bad;
} pw_window;

static void *pw_writer(void *p)
{
    pw_window *w = p;
    uint64_t n = 0;
    pthread_barrier_wait(&w->start);
    /* relaxed: the flag only ends the loop; the join orders the counts. */
    while (!atomic_load_explicit(&w->stop, memory_order_relaxed))
        w->impl->held_write(++n);
    atomic_store(&w->writes, n);
    return NULL;
}

static void *pw_reader(void *p)
{
    pw_window *w = p;
    uint64_t n = 0;
    int bad = 0;
    pthread_barrier_wait(&w->start);
    while (!atomic_load_explicit(&w->stop, memory_order_relaxed)) {   /* relaxed: as above */
        for (int i = 0; i < RM_BATCH; i++)
            bad |= w->impl->read();
        n += RM_BATCH;
    }
    atomic_fetch_add(&w->reads, n);
    atomic_fetch_or(&w->bad, bad);
    return NULL;
}

typedef struct pw_case {
    const pw_impl *impl;
    int readers;
} pw_case;

/* One window: the writer and c->readers readers; returns its wall ns. */
static uint64_t pw_window_run(const pw_case *c, pw_window *w)
{
    pthread_t tid[RM_MAX_THREADS];
    pthread_barrier_init(&w->start, NULL, (unsigned)c->readers + 2);
    for (int i = 0; i <= c->readers; i++) {
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        rm_pin(&attr, i);
        if (pthread_create(&tid[i], &attr, i == 0 ? pw_writer : pw_reader, w) != 0)
            abort();   /* no threads, no result */
        pthread_attr_destroy(&attr);
    }
    pthread_barrier_wait(&w->start);
    uint64_t t0 = rm_clock();
    struct timespec ts = { 0, PW_WINDOW_NS };
    nanosleep(&ts, NULL);
    atomic_store(&w->stop, 1);
    for (int i = 0; i <= c->readers; i++)
        pthread_join(tid[i], NULL);
    uint64_t ns = rm_clock() - t0;
    pthread_barrier_destroy(&w->start);
    return ns;
}

static void pw_bench(lfpb_state *st, void *arg)
{
    const pw_case *c = arg;
    int64_t items = 0;
    uint64_t writes = 0;
    int bad = 0;
    while (lfpb_keep_running(st)) {
        pw_window w = { .impl = c->impl };
        uint64_t ns = pw_window_run(c, &w);
        lfpb_set_iteration_time(st, (double)ns * 1e-9);
        items += (int64_t)atomic_load(&w.reads);
        writes += atomic_load(&w.writes);
        bad |= atomic_load(&w.bad);
    }
    if (bad) {
        lfpb_skip_with_error(st, "inconsistent read");
        return;
    }
    lfpb_set_items(st, items);
    lfpb_set_counter(st, "writes", (double)writes);
}

LFPB_REGISTER(seqlock)
{
    if (lfp_seqlock_init(&sl, sizeof(uint64_t) * WORDS, NULL) != 0 ||
        lfp_locked_seqlock_init(&lsl, sizeof(uint64_t) * WORDS, NULL) != 0)
        abort();   /* a benchmark without its object has no result */
    rm_register_grid("seqlock", &impl_sl);
    rm_register_grid("seqlock", &impl_lsl);
    rm_register_grid("seqlock", &impl_cks);
    static pw_case cases[3][2];
    for (int i = 0; i < 3; i++) {
        for (int r = 1; r <= 2; r++) {
            cases[i][r - 1] = (pw_case){ &pw_impls[i], r };
            char name[128];
            snprintf(name, sizeof name, "seqlock/preempted_writer/%s/threads:%d",
                     pw_impls[i].name, r + 1);
            lfpb_register_manual(name, pw_bench, &cases[i][r - 1]);
        }
    }
}
