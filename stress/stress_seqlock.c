/* SPDX-License-Identifier: BSD-2-Clause */
/* Stress: lfp_seqlock and its twin lfp_locked_seqlock.
 *
 * Phase 1, snapshots never torn: writers (2) and readers (4: oversubscribed
 * on 2 cores) with delay injection. Writer w's k-th successful write stores
 * the token (w + 1) << 40 | k in every word, by write, try_write, begin +
 * commit (after checking that begin copied a consistent value), begin +
 * abort, write with a short deadline, write with a fired or live token.
 * Readers (read_version and try_read) check, from the specification of a
 * linearizable register with monotone reads, on every snapshot: every word
 * equal (not torn); the version never decreases; each writer's count never
 * decreases (its writes are ordered, and a later snapshot cannot be older).
 * At the end: the version equals the successful writes, the final value is
 * consistent, no writer is parked and the writer lock is free. Every
 * writer's wait ends by an unlock's wake-up, a deadline or a token: nothing
 * like close() exists, so a lost wake-up shows as a stuck writer.
 *
 * Phase 2, a writer held inside its write: the writer opens a write
 * (write_begin) and keeps it open until the readers have completed
 * HELD_READS reads each (a bounded wait, quiet.h: a stall fails the check
 * instead of hanging), then commits. Readers of lfp_seqlock (and of the
 * twin, whose readers do not wait for an edit either) must complete while
 * the write is open; each read returns a consistent value no older than
 * the round's. With LFP_TEST_HOOKS the library also preempts writers inside
 * their data copy (sites seqlock.copy, seqlock.publish).
 */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "lfpat.h"
#include "quiet.h"

enum { WORDS = 20, WRITERS = 2, OPS = 200000, HELD_ROUNDS = 40, HELD_READS = 200 };

typedef struct impl {
    const char *name;
    int (*init)(void *, size_t, const void *);
    void (*destroy)(void *);
    int (*read_version)(void *, void *, uint64_t *);
    int (*try_read)(void *, void *);
    int (*write)(void *, const void *, int64_t, lfp_cancel *);
    int (*try_write)(void *, const void *);
    int (*begin)(void *, void *, int64_t, lfp_cancel *);
    int (*commit)(void *, const void *);
    int (*abort_)(void *);
    bool (*idle)(void *);   /* no writer parked, lock free */
} impl;

#define IMPL_ADAPTERS(tag, P)                                                                  \
    static int tag##_init(void *s, size_t n, const void *v) { return P##_init(s, n, v); }      \
    static void tag##_destroy(void *s) { P##_destroy(s); }                                     \
    static int tag##_rv(void *s, void *d, uint64_t *v) { return P##_read_version(s, d, v); }   \
    static int tag##_tr(void *s, void *d) { return P##_try_read(s, d); }                       \
    static int tag##_w(void *s, const void *v, int64_t dl, lfp_cancel *c)                      \
    {                                                                                          \
        return P##_write(s, v, dl, c);                                                         \
    }                                                                                          \
    static int tag##_tw(void *s, const void *v) { return P##_try_write(s, v); }                \
    static int tag##_b(void *s, void *b, int64_t dl, lfp_cancel *c)                            \
    {                                                                                          \
        return P##_write_begin(s, b, dl, c);                                                   \
    }                                                                                          \
    static int tag##_c(void *s, const void *b) { return P##_write_commit(s, b); }              \
    static int tag##_a(void *s) { return P##_write_abort(s); }

IMPL_ADAPTERS(lf, lfp_seqlock)
IMPL_ADAPTERS(lk, lfp_locked_seqlock)

static bool lf_idle(void *p)
{
    lfp_seqlock *s = p;
    return atomic_load(&s->writers.waiters) == 0 && atomic_load(&s->owner) == 0 &&
           (atomic_load(&s->seq) & 1) == 0;
}

static bool lk_idle(void *p)
{
    lfp_locked_seqlock *s = p;
    pthread_mutex_lock(&s->sync.lock);
    bool idle = s->owner == 0;
    pthread_mutex_unlock(&s->sync.lock);
    return idle && atomic_load(&s->sync.cancel_ec.waiters) == 0;
}

#define IMPL(tag, P)                                                                           \
    { #P, tag##_init, tag##_destroy, tag##_rv, tag##_tr, tag##_w, tag##_tw, tag##_b,           \
      tag##_c, tag##_a, tag##_idle }
static const impl impls[] = { IMPL(lf, lfp_seqlock), IMPL(lk, lfp_locked_seqlock) };

struct shared {
    const impl *o;
    union { lfp_seqlock a; lfp_locked_seqlock b; } obj;
    _Atomic uint64_t successes;        /* phase 1: writes that changed the value */
    _Atomic int round;                 /* phase 2: the round whose write is open */
    _Atomic bool done;
    lfps_progress held[HELD_ROUNDS];   /* phase 2: reads completed per round */
};

static bool consistent(const uint64_t *v)
{
    for (int k = 1; k < WORDS; k++)
        if (v[k] != v[0])
            return false;
    return true;
}

/* ---- phase 1 */

static int write_one(struct shared *s, lfps_thread *t, const uint64_t *v)
{
    void *o = &s->obj;
    uint64_t buf[WORDS];
    lfp_cancel tok;
    int rc;
    switch (lfps_below(&t->rng, 7)) {
    case 0:
        return s->o->try_write(o, v);
    case 1:
        rc = s->o->begin(o, buf, LFP_FOREVER, NULL);
        if (rc == 0) {
            LFPS_CHECK(consistent(buf), "begin copied a torn value");
            lfps_delay(&t->rng);   /* readers go on meanwhile */
            rc = s->o->commit(o, v);
        }
        return rc;
    case 2:
        rc = s->o->begin(o, buf, LFP_FOREVER, NULL);
        LFPS_CHECK(rc == 0, "begin %d", rc);
        return rc == 0 ? (s->o->abort_(o) == 0 ? EAGAIN : EINVAL) : rc;
    case 3:
        return s->o->write(o, v, lfp_after((int64_t)lfps_below(&t->rng, 20000)), NULL);
    case 4:
        lfp_cancel_init(&tok, NULL);
        if (lfps_below(&t->rng, 2))
            lfp_cancel_fire(&tok, 1);
        rc = s->o->write(o, v, LFP_FOREVER, &tok);
        lfp_cancel_destroy(&tok);
        return rc;
    default:
        return s->o->write(o, v, LFP_FOREVER, NULL);
    }
}

static void writer(lfps_thread *t, struct shared *s)
{
    uint64_t v[WORDS], k = 0, i;
    for (i = 0; lfps_go(t, i, OPS); i++) {
        for (int j = 0; j < WORDS; j++)
            v[j] = (uint64_t)(t->id + 1) << 40 | (k + 1);
        int rc = write_one(s, t, v);
        LFPS_CHECK(rc == 0 || rc == EAGAIN || rc == ETIMEDOUT || rc == ECANCELED,
                   "write returned %d", rc);
        if (rc == 0) {
            k++;
            atomic_fetch_add_explicit(&s->successes, 1, memory_order_relaxed);
        }
        lfps_delay(&t->rng);
    }
    lfps_ops(i);
}

static void reader(lfps_thread *t, struct shared *s)
{
    uint64_t v[WORDS], version, last_version = 0, last[WRITERS + 1] = { 0 }, i;
    for (i = 0; !atomic_load_explicit(&s->done, memory_order_relaxed); i++) {
        if (lfps_below(&t->rng, 4) == 0) {
            int rc = s->o->try_read(&s->obj, v);
            LFPS_CHECK(rc == 0 || rc == EAGAIN, "try_read %d", rc);
            if (rc == 0)
                LFPS_CHECK(consistent(v), "try_read returned a torn snapshot");
            continue;
        }
        LFPS_CHECK(s->o->read_version(&s->obj, v, &version) == 0, "read");
        if (!consistent(v)) {
            LFPS_CHECK(false, "torn snapshot at version %llu", (unsigned long long)version);
            continue;
        }
        unsigned w = (unsigned)(v[0] >> 40);
        uint64_t k = v[0] & ((UINT64_C(1) << 40) - 1);
        LFPS_CHECK(version >= last_version, "version went back %llu -> %llu",
                   (unsigned long long)last_version, (unsigned long long)version);
        LFPS_CHECK(w <= WRITERS && k >= last[w], "writer %u's count went back", w);
        LFPS_CHECK((version == 0) == (v[0] == 0), "version %llu with value %llx",
                   (unsigned long long)version, (unsigned long long)v[0]);
        last_version = version;
        if (w <= WRITERS)
            last[w] = k;
        lfps_delay(&t->rng);
    }
    lfps_ops(i);
}

static void phase1_worker(lfps_thread *t)
{
    struct shared *s = t->arg;
    if (t->id < WRITERS) {
        writer(t, s);
        /* the last writer out stops the readers (a flag, not a wake-up) */
        static _Atomic int writers_left;
        if (atomic_fetch_add(&writers_left, 1) % WRITERS == WRITERS - 1)
            atomic_store(&s->done, true);
    } else {
        reader(t, s);
    }
}

static void phase1(const impl *o, int nthreads)
{
    struct shared *s = calloc(1, sizeof *s);
    s->o = o;
    LFPS_CHECK(o->init(&s->obj, sizeof(uint64_t) * WORDS, NULL) == 0, "init");
    lfps_run(nthreads, phase1_worker, s);
    uint64_t v[WORDS], version;
    LFPS_CHECK(o->read_version(&s->obj, v, &version) == 0 && consistent(v), "final read");
    LFPS_CHECK(version == atomic_load(&s->successes), "%s: version %llu after %llu writes",
               o->name, (unsigned long long)version,
               (unsigned long long)atomic_load(&s->successes));
    LFPS_CHECK(o->idle(&s->obj), "%s: a writer is parked or the lock is held at the end",
               o->name);
    printf("  phase 1 %-20s %llu writes\n", o->name, (unsigned long long)version);
    o->destroy(&s->obj);
    free(s);
}

/* ---- phase 2 */

static void held_writer(struct shared *s)
{
    uint64_t buf[WORDS];
    for (int r = 0; r < HELD_ROUNDS; r++) {
        LFPS_CHECK(s->o->begin(&s->obj, buf, LFP_FOREVER, NULL) == 0, "begin");
        /* release: the readers' acquire load of round follows the begin */
        atomic_store_explicit(&s->round, r, memory_order_release);
        lfps_progress_wait(&s->held[r], s->o->name);   /* the write stays open */
        for (int j = 0; j < WORDS; j++)
            buf[j] = (uint64_t)r + 1;
        LFPS_CHECK(s->o->commit(&s->obj, buf) == 0, "commit");
    }
    atomic_store(&s->done, true);
}

static void held_reader(lfps_thread *t, struct shared *s)
{
    uint64_t v[WORDS], version, i = 0;
    int counted = -1, in_round = 0;
    while (!atomic_load_explicit(&s->done, memory_order_relaxed)) {
        /* acquire: pairs with the release store in held_writer */
        int r = atomic_load_explicit(&s->round, memory_order_acquire);
        LFPS_CHECK(s->o->read_version(&s->obj, v, &version) == 0, "read");
        LFPS_CHECK(consistent(v) && v[0] == version && (r < 0 || version >= (uint64_t)r),
                   "round %d: read version %llu value %llu", r, (unsigned long long)version,
                   (unsigned long long)v[0]);
        i++;
        if (r < 0)
            continue;
        if (r != counted) {
            counted = r;
            in_round = 0;
        }
        if (++in_round == HELD_READS)
            lfps_progress_add(&s->held[r], 1);
        lfps_delay(&t->rng);
    }
    lfps_ops(i);
}

static void phase2_worker(lfps_thread *t)
{
    struct shared *s = t->arg;
    if (t->id == 0)
        held_writer(s);
    else
        held_reader(t, s);
}

static void phase2(const impl *o, int nthreads)
{
    struct shared *s = calloc(1, sizeof *s);
    s->o = o;
    atomic_init(&s->round, -1);
    for (int r = 0; r < HELD_ROUNDS; r++)
        lfps_progress_init(&s->held[r], (uint32_t)(nthreads - 1));
    LFPS_CHECK(o->init(&s->obj, sizeof(uint64_t) * WORDS, NULL) == 0, "init");
    /* round -1: readers wait for nothing; the writer opens round 0 at once */
    lfps_run(nthreads, phase2_worker, s);
    LFPS_CHECK(o->idle(&s->obj), "%s: lock held after phase 2", o->name);
    printf("  phase 2 %-20s %d rounds held open while %d readers read %d times each\n",
           o->name, HELD_ROUNDS, nthreads - 1, HELD_READS);
    o->destroy(&s->obj);
    free(s);
}

int main(void)
{
    lfps_init("stress_seqlock");
    int n = lfps_threads(6);
    if (n < WRITERS + 1)
        n = WRITERS + 1;
    for (int i = 0; i < 2; i++) {
        phase1(&impls[i], n);
        phase2(&impls[i], n - 1);
    }
    return lfps_finish();
}
