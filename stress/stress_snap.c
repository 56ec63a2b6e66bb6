/* SPDX-License-Identifier: BSD-2-Clause */
/* Stress: lfp_snap (and its twin) never frees a version a reader can see.
 *
 * Versions are plain structs (no atomics): a magic word, a sequence number
 * and check words derived from it. The free function checks the magic (a
 * double free fails), poisons every word with plain stores, then frees.
 * Readers check, inside their section and again after an injected delay,
 * that the version is live and consistent: a version freed early shows
 * poison here, is a heap-use-after-free under ASan and a data race (reader's
 * plain reads vs the poisoning stores) under TSan — the reclamation edge
 * must be a happens-before edge TSan sees.
 *
 * Phase 1, copy-on-write (update only): each new version is the current one
 * plus 1, so every reader sees the sequence never decrease. Half of the
 * writers give a 10 s deadline and must succeed (a parked writer that no
 * leave woke would time out: the "no close-like wake" check, as the snap has
 * no close); the others give 0..200 us deadlines, so some versions stay
 * pending and are freed by later updates or by a reclaimer thread. Readers
 * nest sections at random. Oversubscribed by default (6 threads, 2 cores).
 * Phase 2, mixed publish / publish_async / reclaim with sequence numbers
 * unique per version (no order check): the pending list under churn.
 * Phase 3, a preempted reader: one reader holds a section while a writer's
 * publishes time out (ETIMEDOUT, published, nothing freed), then leaves; a
 * reclaim frees every pending version.
 * Phase 4, the quiescent-state flavour (lfp_snap only; the twin has none):
 * phase 1's writers, readers online reading with lfp_snap_get alone and
 * reporting lfp_snap_quiescent after k reads (k drawn per report from 1..32,
 * 1 included). Every version read since the last report is checked again
 * just before the report (a free before it shows here); sometimes a reader
 * nests an enter (quiescent must say EBUSY inside it) or goes offline and
 * online again. The patient writers are woken only by reports and
 * offlines: nothing closes the snap.
 * Negative control: LFP_STRESS_SNAP_CONTROL=early runs phase 4 alone with
 * the readers reporting before that last check (the bug of a quiescent
 * state reported while versions are still in use); the checks, ASan and
 * TSan must report it (ctest negative_*_snap_qsbr_early).
 * After each phase: destroy, then every allocated version was freed exactly
 * once (allocations == frees) and stats.freed == stats.published + 1. */
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "lfpat.h"

enum { NCHECK = 6 };
#define LIVE 0x5EEDFACEull
#define DEAD 0xDEADDEADDEADDEADull

typedef struct version {
    uint64_t magic;
    uint64_t seq;
    uint64_t check[NCHECK];
} version;

static _Atomic uint64_t allocs, frees;

static version *new_version(uint64_t seq)
{
    version *v = malloc(sizeof *v);
    if (!v)
        abort();
    v->magic = LIVE;
    v->seq = seq;
    for (int i = 0; i < NCHECK; i++)
        v->check[i] = seq * 0x9E3779B97F4A7C15ull + (uint64_t)i;
    atomic_fetch_add(&allocs, 1);
    return v;
}

static void poison_free(void *p, void *arg)
{
    (void)arg;
    version *v = p;
    LFPS_CHECK(v->magic == LIVE, "free of a version that is not live (double free?)");
    v->magic = DEAD;
    v->seq = DEAD;
    for (int i = 0; i < NCHECK; i++)
        v->check[i] = DEAD;
    atomic_fetch_add(&frees, 1);
    free(v);
}

/* A reader's check of a version it holds: live and untorn. */
static bool intact(const version *v)
{
    if (v->magic != LIVE)
        return false;
    for (int i = 0; i < NCHECK; i++)
        if (v->check[i] != v->seq * 0x9E3779B97F4A7C15ull + (uint64_t)i)
            return false;
    return true;
}

static int copy_next(const void *cur, void **next, void *arg)
{
    (void)arg;
    *next = new_version(((const version *)cur)->seq + 1);
    return 0;
}

/* ------------------------------------------------------------ the two impls */

struct api {
    const char *name;
    int (*init)(void *, void *);
    void (*destroy)(void *);
    void *(*enter)(void *);
    int (*leave)(void *);
    int (*publish)(void *, void *, int64_t);
    int (*publish_async)(void *, void *);
    int (*update)(void *, int64_t);
    int (*reclaim)(void *);
    void (*stats)(void *, struct lfp_snap_stats *);
};

#define API(tag, P, T)                                                                         \
    static int tag##_init(void *s, void *v) { return P##_init((T *)s, v, poison_free, NULL); } \
    static void tag##_destroy(void *s) { P##_destroy((T *)s); }                                \
    static void *tag##_enter(void *s) { return P##_enter((T *)s); }                            \
    static int tag##_leave(void *s) { return P##_leave((T *)s); }                              \
    static int tag##_publish(void *s, void *v, int64_t d) { return P##_publish((T *)s, v, d, NULL); } \
    static int tag##_async(void *s, void *v) { return P##_publish_async((T *)s, v); }          \
    static int tag##_update(void *s, int64_t d) { return P##_update((T *)s, copy_next, NULL, d, NULL); } \
    static int tag##_reclaim(void *s) { return P##_reclaim((T *)s); }                          \
    static void tag##_stats(void *s, struct lfp_snap_stats *st) { P##_stats((T *)s, st); }     \
    static const struct api tag##_api = { #P, tag##_init, tag##_destroy, tag##_enter,          \
        tag##_leave, tag##_publish, tag##_async, tag##_update, tag##_reclaim, tag##_stats };

API(lf, lfp_snap, lfp_snap)
API(lk, lfp_locked_snap, lfp_locked_snap)

typedef union { lfp_snap a; lfp_locked_snap b; } any_snap;

struct run {
    const struct api *api;
    void *s;
    int writers;
    int phase;
    bool early;                  /* phase 4's negative control */
    _Atomic int writers_left;
    _Atomic uint64_t next_seq;   /* phase 2: unique sequence numbers */
};

/* One read section (nested at random), checked twice across a delay. */
static uint64_t read_once(struct run *r, lfps_thread *t, uint64_t last)
{
    const version *v = r->api->enter(r->s);
    LFPS_CHECK(v && intact(v), "%s: reader saw a freed or torn version", r->api->name);
    if (!v)
        return last;
    uint64_t seq = v->seq;
    if (r->phase == 1)
        LFPS_CHECK(seq >= last, "%s: version went back %llu -> %llu", r->api->name,
                   (unsigned long long)last, (unsigned long long)seq);
    if (lfps_below(&t->rng, 4) == 0) {   /* a nested section sees this or a newer one */
        const version *w = r->api->enter(r->s);
        LFPS_CHECK(w && intact(w), "%s: nested reader saw a freed version", r->api->name);
        LFPS_CHECK(r->api->leave(r->s) == 0, "nested leave");
    }
    lfps_delay(&t->rng);
    /* The seq too: a freed block that malloc gave the next version is intact. */
    LFPS_CHECK(intact(v) && v->seq == seq, "%s: version freed inside the section", r->api->name);
    LFPS_CHECK(r->api->leave(r->s) == 0, "leave");
    return seq;
}

/* ------------------------------------------------------------ phase 4 */

enum { QMAX = 32 };   /* most reads between two reports */

/* The versions read since the last report: intact, then the report. With
 * the control, the report comes first. */
static void report(struct run *r, lfps_thread *t, const version **held, const uint64_t *seqs,
                   int n)
{
    if (r->early) {
        /* Widen the window the bug opens (bounded waits): until the last
         * version read is replaced, then after the report until a writer
         * freed something. */
        for (int y = 0; y < 1000 && lfp_snap_get(r->s) == held[n - 1]; y++)
            sched_yield();
        struct lfp_snap_stats st;
        r->api->stats(r->s, &st);
        uint64_t freed = st.freed;
        LFPS_CHECK(lfp_snap_quiescent() == 0, "quiescent");
        for (int y = 0; y < 1000 && st.freed == freed; y++) {
            sched_yield();
            r->api->stats(r->s, &st);
        }
    }
    /* The seq too: a freed block that malloc gave the next version is intact. */
    for (int j = 0; j < n; j++)
        LFPS_CHECK(intact(held[j]) && held[j]->seq == seqs[j],
                   "qsbr: a version was freed before its reader's report");
    if (!r->early)
        LFPS_CHECK(lfp_snap_quiescent() == 0, "quiescent");
    if (lfps_below(&t->rng, 64) == 0) {   /* an offline period */
        LFPS_CHECK(lfp_snap_offline() == 0, "offline");
        lfps_delay(&t->rng);
        LFPS_CHECK(lfp_snap_online() == 0, "online");
    }
}

/* One read while online, maybe with a nested section around it. */
static const version *read_online(struct run *r, lfps_thread *t, uint64_t *last)
{
    bool nest = lfps_below(&t->rng, 8) == 0;
    if (nest)
        LFPS_CHECK(lfp_snap_enter(r->s) != NULL, "nested enter");
    const version *v = lfp_snap_get(r->s);
    LFPS_CHECK(v && intact(v), "qsbr: reader saw a freed or torn version");
    LFPS_CHECK(v->seq >= *last, "qsbr: version went back %llu -> %llu",
               (unsigned long long)*last, (unsigned long long)v->seq);
    *last = v->seq;
    if (nest) {
        LFPS_CHECK(lfp_snap_quiescent() == EBUSY, "quiescent inside a nested section");
        LFPS_CHECK(lfp_snap_leave(r->s) == 0, "nested leave");
    }
    lfps_delay(&t->rng);
    return v;
}

static uint64_t qsbr_reader(struct run *r, lfps_thread *t)
{
    const version *held[QMAX];
    uint64_t seqs[QMAX], i = 0, last = 0;
    LFPS_CHECK(lfp_snap_online() == 0, "online");
    while (atomic_load(&r->writers_left) > 0) {
        int k = 1 + (int)lfps_below(&t->rng, QMAX);
        for (int j = 0; j < k; j++, i++) {
            held[j] = read_online(r, t, &last);
            seqs[j] = last;
        }
        report(r, t, held, seqs, k);
    }
    LFPS_CHECK(lfp_snap_offline() == 0, "offline");
    return i;
}

static void writer_step(struct run *r, lfps_thread *t, uint64_t i)
{
    /* Writers with an even id must never time out (10 s): a lost wake-up
     * from a leave would show here. The others use short deadlines. */
    bool patient = t->id % 2 == 0;
    int64_t deadline = patient ? lfp_after(10LL * 1000000000) :
                                 lfp_after((int64_t)lfps_below(&t->rng, 200) * 1000);
    int rc;
    if (r->phase == 1 || r->phase == 4) {
        rc = r->api->update(r->s, deadline);
    } else {
        version *v = new_version(atomic_fetch_add(&r->next_seq, 1));
        rc = i % 3 == 0 ? r->api->publish_async(r->s, v) : r->api->publish(r->s, v, deadline);
        if (i % 7 == 0)
            LFPS_CHECK(r->api->reclaim(r->s) != EINVAL, "reclaim");
    }
    LFPS_CHECK(rc == 0 || (!patient && rc == ETIMEDOUT), "%s: %s writer got %d", r->api->name,
               patient ? "patient" : "impatient", rc);
}

static void worker(lfps_thread *t)
{
    struct run *r = t->arg;
    uint64_t i = 0, last = 0;
    if (t->id < r->writers) {
        for (; lfps_go(t, i, 20000); i++) {
            writer_step(r, t, i);
            lfps_delay(&t->rng);
        }
        atomic_fetch_sub(&r->writers_left, 1);
    } else if (r->phase == 4) {
        i = qsbr_reader(r, t);
    } else if (t->id == r->writers) {   /* the reclaimer, also a reader */
        for (; atomic_load(&r->writers_left) > 0; i++) {
            last = read_once(r, t, last);
            if (i % 16 == 0)
                LFPS_CHECK(r->api->reclaim(r->s) != EINVAL, "reclaim");
        }
    } else {
        for (; atomic_load(&r->writers_left) > 0; i++)
            last = read_once(r, t, last);
    }
    lfps_ops(i);
}

static void churn_phase(const struct api *a, int phase, int threads, bool early)
{
    any_snap s;
    atomic_store(&allocs, 0);
    atomic_store(&frees, 0);
    LFPS_CHECK(a->init(&s, new_version(0)) == 0, "init");
    int writers = threads / 3 > 0 ? threads / 3 : 1;
    struct run r = { .api = a, .s = &s, .writers = writers, .phase = phase, .early = early };
    atomic_init(&r.writers_left, writers);
    atomic_init(&r.next_seq, 1);
    lfps_run(writers + 1 > threads ? writers + 1 : threads, worker, &r);
    struct lfp_snap_stats st;
    a->stats(&s, &st);
    uint64_t freed_before = st.freed, published = st.published, pending = st.pending;
    a->destroy(&s);
    /* Every publish retired one version: it is freed or pending. Destroy
     * freed the pending ones and the current one. */
    LFPS_CHECK(freed_before + pending == published, "%s: freed %llu + pending %llu != published %llu",
               a->name, (unsigned long long)freed_before, (unsigned long long)pending,
               (unsigned long long)published);
    LFPS_CHECK(atomic_load(&allocs) == atomic_load(&frees), "%s: %llu versions allocated, %llu freed",
               a->name, (unsigned long long)atomic_load(&allocs),
               (unsigned long long)atomic_load(&frees));
}

/* ------------------------------------------------------------ phase 3 */

struct hold {
    const struct api *api;
    void *s;
    lfp_sem in, out;
};

static void *holder(void *arg)
{
    struct hold *h = arg;
    const version *v = h->api->enter(h->s);
    lfp_sem_release(&h->in);
    lfp_sem_acquire(&h->out, LFP_FOREVER, NULL);
    LFPS_CHECK(intact(v), "%s: held version freed", h->api->name);
    LFPS_CHECK(h->api->leave(h->s) == 0, "leave");
    return NULL;
}

static void preempted_reader_phase(const struct api *a)
{
    any_snap s;
    atomic_store(&allocs, 0);
    atomic_store(&frees, 0);
    LFPS_CHECK(a->init(&s, new_version(0)) == 0, "init");
    struct hold h = { .api = a, .s = &s };
    lfp_sem_init(&h.in, 1);
    lfp_sem_init(&h.out, 1);
    lfp_sem_try_acquire(&h.in);
    lfp_sem_try_acquire(&h.out);
    pthread_t t;
    pthread_create(&t, NULL, holder, &h);
    lfp_sem_acquire(&h.in, LFP_FOREVER, NULL);
    /* The holder's version (0) must not be freed while it is inside. */
    int rc = a->publish(&s, new_version(1), lfp_after(2 * 1000000));
    LFPS_CHECK(rc == ETIMEDOUT, "%s: publish past a held section returned %d", a->name, rc);
    for (uint64_t i = 2; i < 50; i++)
        a->publish(&s, new_version(i), lfp_after(100 * 1000));
    LFPS_CHECK(a->reclaim(&s) == EAGAIN, "%s: reclaim with a held section", a->name);
    lfp_sem_release(&h.out);
    pthread_join(t, NULL);
    LFPS_CHECK(a->reclaim(&s) == 0, "%s: reclaim after the holder left", a->name);
    struct lfp_snap_stats st;
    a->stats(&s, &st);
    LFPS_CHECK(st.pending == 0 && st.freed == 49, "%s: pending %llu freed %llu", a->name,
               (unsigned long long)st.pending, (unsigned long long)st.freed);
    a->destroy(&s);
    LFPS_CHECK(atomic_load(&allocs) == atomic_load(&frees), "%s: leak or double free", a->name);
    lfp_sem_destroy(&h.in);
    lfp_sem_destroy(&h.out);
    lfps_ops(50);
}

int main(void)
{
    lfps_init("stress_snap");
    int threads = lfps_threads(6);
    const char *control = getenv("LFP_STRESS_SNAP_CONTROL");
    if (control && strcmp(control, "early") == 0) {
        churn_phase(&lf_api, 4, threads, true);
        return lfps_finish();
    }
    const struct api *apis[] = { &lf_api, &lk_api };
    for (int k = 0; k < 2; k++) {
        churn_phase(apis[k], 1, threads, false);
        churn_phase(apis[k], 2, threads, false);
        preempted_reader_phase(apis[k]);
    }
    churn_phase(&lf_api, 4, threads, false);
    return lfps_finish();
}
