/* SPDX-License-Identifier: BSD-2-Clause */
/* Stress: a differential oracle for RCU-style reclamation (issue 18).
 *
 * One schedule of read sections and publishes runs through an adapter
 * (stress/snap_oracle.h) with several implementations: lfp_snap, its twin
 * lfp_locked_snap, liburcu memb (snap_oracle_urcu.c, the known-good peer)
 * and broken controls. The checker is the specification, shared by none of
 * them: it sees only the versions it built, the calls it made and the frees
 * the implementation performs.
 *
 * Every version carries an atomic state (published, replaced, freed) and a
 * count of the readers holding it. Rules:
 *   held-at-free       a free finds no reader holding the version;
 *   free-unpublished   a version is freed only after it was replaced (the
 *                      oracle marks it replaced when its successor's
 *                      publish call begins), never while current;
 *   double-free        each version is freed at most once (and only ours);
 *   reader-freed       a reader never holds a freed version;
 *   torn               a reader sees the version's words as written;
 *   went-back          versions never go backwards per reader, nested
 *                      sections included (publishes are ordered: the
 *                      oracle serialises them with one writer mutex);
 *   sync-left-old      a publish that returned 0 has freed what it replaced;
 *   publish-rc         publish returns 0, or ETIMEDOUT only for a writer
 *                      with a short deadline on an implementation that
 *                      honours deadlines;
 *   never-freed, drain at the end of a phase, after the final drain
 *                      (reclaim / rcu_barrier) and destroy, every version
 *                      was freed, exactly once.
 * The reader's hold and the free are the store-buffering shape with all
 * four accesses seq_cst: a reader increments holders then loads the state,
 * a free exchanges the state then loads holders, so an early free is seen
 * by at least one side whatever the interleaving.
 *
 * Versions live in a pool freed only after the phase, so an early free
 * leaves readable memory: the checker reports it, in every build (ASan's
 * view of real frees is stress_snap's job). Phases: short sections with
 * random nesting and half the writes asynchronous; long sections (readers
 * yield inside) against synchronous publishes, half of them with short
 * deadlines; asynchronous publishes only with reclaims. Every writer's
 * last write is a synchronous publish with a 10 s deadline while readers
 * still run: no close-like wake ends a phase, the readers' leaves must wake
 * it (a lost wake-up times out: publish-rc).
 *
 * Usage: stress_snap_oracle [impl...] (default lfp_snap lfp_locked_snap);
 * impls: lfp_snap lfp_locked_snap urcu_memb (when built with liburcu) and
 * the controls control_nowait (frees the old version right after the
 * exchange), control_leak (never frees it), control_freecur (frees the new
 * one), which must be rejected: each prints its rule's count, which
 * stress/CMakeLists.txt expects to be non-zero. */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "lfpat.h"
#include "snap_oracle.h"

enum oracle_state { ST_UNUSED, ST_PUBLISHED, ST_REPLACED, ST_FREED };
static const char *const state_name[] = { "unused", "published", "replaced", "freed" };

enum rule {
    R_HELD_AT_FREE, R_FREE_UNPUBLISHED, R_DOUBLE_FREE, R_READER_FREED, R_TORN, R_WENT_BACK,
    R_SYNC_LEFT_OLD, R_PUBLISH_RC, R_NEVER_FREED, R_DRAIN, R_NRULES
};
static const char *const rule_name[R_NRULES] = {
    "held-at-free", "free-unpublished", "double-free", "reader-freed", "torn", "went-back",
    "sync-left-old", "publish-rc", "never-freed", "drain",
};
static _Atomic uint64_t violations[R_NRULES];

#define RULE(r, cond, ...)                                                   \
    do {                                                                     \
        bool ok_ = (cond);                                                   \
        if (!ok_)                                                            \
            atomic_fetch_add(&violations[r], 1);                             \
        lfps_check_(ok_, __FILE__, __LINE__, #cond, __VA_ARGS__);            \
    } while (0)

enum { WRITER_ITERS = 12000 };
static const int64_t PATIENT_NS = 10LL * 1000000000;

/* The oracle's view of one phase. pool[0 .. used) of cap were handed out;
 * current is the last version handed to publish. used, current: under
 * wlock. */
static struct oracle {
    const snap_impl *impl;
    oracle_ver *pool;
    uint32_t cap, used;
    oracle_ver *current;
    pthread_mutex_t wlock;
    _Atomic uint64_t frees;
} o = { .wlock = PTHREAD_MUTEX_INITIALIZER };

static uint64_t check_word(uint64_t seq, int i) { return seq * 0x9E3779B97F4A7C15ull + (uint64_t)i; }

static bool in_pool(const oracle_ver *v)
{
    return v >= o.pool && v < o.pool + o.cap;
}

void snap_oracle_free(oracle_ver *v)
{
    RULE(R_DOUBLE_FREE, v != NULL && in_pool(v), "%s freed %p, not a version of this phase",
         o.impl->name, (void *)v);
    if (v == NULL || !in_pool(v))
        return;
    /* seq_cst exchange then seq_cst load: the SB pair of hold()'s. */
    int was = atomic_exchange(&v->state, ST_FREED);
    int held = atomic_load(&v->holders);
    RULE(R_DOUBLE_FREE, was != ST_FREED, "%s freed version %llu twice", o.impl->name,
         (unsigned long long)v->seq);
    RULE(R_FREE_UNPUBLISHED, was == ST_REPLACED || was == ST_FREED,
         "%s freed version %llu while it was %s", o.impl->name, (unsigned long long)v->seq,
         state_name[was]);
    RULE(R_HELD_AT_FREE, held == 0, "%s freed version %llu held by %d readers", o.impl->name,
         (unsigned long long)v->seq, held);
    atomic_fetch_add(&o.frees, 1);
}

/* The next version (under wlock); the pool is sized for every write. */
static oracle_ver *next_version(void)
{
    if (o.used == o.cap)
        abort();
    oracle_ver *v = &o.pool[o.used];
    v->seq = o.used++;
    for (int i = 0; i < ORACLE_NCHECK; i++)
        v->check[i] = check_word(v->seq, i);
    atomic_store(&v->state, ST_PUBLISHED);
    return v;
}

/* ------------------------------------------------------------ readers */

struct phase {
    const char *name;
    bool long_holds;    /* readers yield inside their sections */
    int sync_pct;       /* share of writes that are synchronous publishes */
    bool impatient;     /* odd writers give short deadlines */
    int writers;
    _Atomic int writers_left;
};

static bool intact(const oracle_ver *v)
{
    for (int i = 0; i < ORACLE_NCHECK; i++)
        if (v->check[i] != check_word(v->seq, i))
            return false;
    return true;
}

/* Count this reader as a holder of v, then check v. */
static void hold(oracle_ver *v, uint64_t floor)
{
    /* seq_cst increment then seq_cst load: the SB pair of snap_oracle_free's. */
    atomic_fetch_add(&v->holders, 1);
    int s = atomic_load(&v->state);
    RULE(R_READER_FREED, s == ST_PUBLISHED || s == ST_REPLACED, "%s: reader holds version %llu, %s",
         o.impl->name, (unsigned long long)v->seq, state_name[s]);
    RULE(R_TORN, intact(v), "%s: reader saw version %llu torn", o.impl->name,
         (unsigned long long)v->seq);
    RULE(R_WENT_BACK, v->seq >= floor, "%s: reader went back from version %llu to %llu",
         o.impl->name, (unsigned long long)floor, (unsigned long long)v->seq);
}

static void unhold(oracle_ver *v)
{
    int s = atomic_load(&v->state);
    RULE(R_READER_FREED, s != ST_FREED, "%s: version %llu freed inside a section", o.impl->name,
         (unsigned long long)v->seq);
    atomic_fetch_sub(&v->holders, 1);
}

/* The time a reader spends inside a section. */
static void inside(struct phase *ph, lfps_thread *t, oracle_ver *v)
{
    if (!ph->long_holds) {
        lfps_delay(&t->rng);
        return;
    }
    for (uint64_t n = lfps_below(&t->rng, 16); n > 0; n--) {
        sched_yield();
        RULE(R_READER_FREED, atomic_load(&v->state) != ST_FREED,
             "%s: version %llu freed during a long section", o.impl->name,
             (unsigned long long)v->seq);
    }
}

/* One read section, maybe with sections nested inside; returns the newest
 * version seen (the reader's floor from now on). */
static uint64_t section(struct phase *ph, lfps_thread *t, uint64_t floor, int depth)
{
    oracle_ver *v = o.impl->enter();
    RULE(R_READER_FREED, v != NULL, "%s: enter returned NULL", o.impl->name);
    if (v == NULL)
        return floor;
    hold(v, floor);
    uint64_t newest = v->seq > floor ? v->seq : floor;
    if (depth < 3 && lfps_below(&t->rng, 4) == 0)
        newest = section(ph, t, newest, depth + 1);
    inside(ph, t, v);
    unhold(v);
    o.impl->leave();
    return newest;
}

/* ------------------------------------------------------------ writers */

/* Publish the next version, synchronously or not. Serialised (wlock):
 * publishes are ordered. */
static void write_one(lfps_thread *t, bool sync, bool patient)
{
    pthread_mutex_lock(&o.wlock);
    oracle_ver *next = next_version();
    oracle_ver *prev = o.current;
    atomic_store(&prev->state, ST_REPLACED);   /* from here on it may be freed */
    o.current = next;
    if (sync) {
        int64_t deadline = patient ? lfp_after(PATIENT_NS) :
                                     lfp_after((int64_t)lfps_below(&t->rng, 200) * 1000);
        int rc = o.impl->publish(next, deadline);
        RULE(R_PUBLISH_RC, rc == 0 || (rc == ETIMEDOUT && !patient && o.impl->deadlines),
             "%s: %s publish returned %d", o.impl->name, patient ? "patient" : "impatient", rc);
        if (rc == 0)
            RULE(R_SYNC_LEFT_OLD, atomic_load(&prev->state) == ST_FREED,
                 "%s: publish returned 0, version %llu is %s", o.impl->name,
                 (unsigned long long)prev->seq, state_name[atomic_load(&prev->state)]);
    } else {
        o.impl->publish_async(next);
    }
    pthread_mutex_unlock(&o.wlock);
}

static void writer(struct phase *ph, lfps_thread *t)
{
    bool impatient = ph->impatient && t->id % 2 == 1;
    uint64_t i = 0;
    for (; lfps_go(t, i, WRITER_ITERS); i++) {
        bool sync = (int)lfps_below(&t->rng, 100) < ph->sync_pct;
        write_one(t, sync, !impatient);
        if (o.impl->reclaim && i % 8 == 7)
            o.impl->reclaim();
        lfps_delay(&t->rng);
    }
    /* The quiet end: readers still run, and only their leaves can end
     * this grace period. */
    write_one(t, true, true);
    lfps_ops(i + 1);
}

static void worker(lfps_thread *t)
{
    struct phase *ph = t->arg;
    if (o.impl->thread_init)
        o.impl->thread_init();
    if (t->id < ph->writers) {
        writer(ph, t);
        atomic_fetch_sub(&ph->writers_left, 1);
    } else {
        bool reclaimer = t->id == ph->writers && o.impl->reclaim;
        uint64_t i = 0, floor = 0;
        for (; atomic_load(&ph->writers_left) > 0; i++) {
            floor = section(ph, t, floor, 0);
            if (reclaimer && i % 16 == 0)
                o.impl->reclaim();
        }
        lfps_ops(i);
    }
    if (o.impl->thread_fini)
        o.impl->thread_fini();
}

/* ------------------------------------------------------------ phases */

static void run_phase(struct phase *ph, int threads)
{
    /* Enough for every writer's iterations, its last write and the first. */
    o.cap = (uint32_t)ph->writers * (WRITER_ITERS + 1) + 1;
    o.pool = calloc(o.cap, sizeof *o.pool);
    if (!o.pool)
        abort();
    o.used = 0;
    atomic_store(&o.frees, 0);
    o.current = next_version();
    o.impl->init(o.current);
    atomic_init(&ph->writers_left, ph->writers);
    lfps_run(threads, worker, ph);

    RULE(R_DRAIN, o.impl->drain() == 0, "%s %s: something stayed pending after the drain",
         o.impl->name, ph->name);
    uint32_t unfreed = 0;
    for (uint32_t k = 0; k < o.used; k++)
        if (&o.pool[k] != o.current && atomic_load(&o.pool[k].state) != ST_FREED)
            unfreed++;
    RULE(R_NEVER_FREED, unfreed == 0, "%s %s: %u replaced versions never freed", o.impl->name,
         ph->name, unfreed);
    atomic_store(&o.current->state, ST_REPLACED);   /* destroy unpublishes it */
    o.impl->destroy();
    RULE(R_NEVER_FREED, atomic_load(&o.current->state) == ST_FREED,
         "%s %s: destroy did not free the current version", o.impl->name, ph->name);
    RULE(R_NEVER_FREED, atomic_load(&o.frees) == o.used, "%s %s: %u versions, %llu frees",
         o.impl->name, ph->name, o.used, (unsigned long long)atomic_load(&o.frees));
    printf("  %s %s: %u versions, %llu frees\n", o.impl->name, ph->name, o.used,
           (unsigned long long)atomic_load(&o.frees));
    free(o.pool);
    o.pool = NULL;
}

static void run_impl(const snap_impl *impl)
{
    int threads = lfps_threads(6);
    int writers = threads / 3 > 0 ? threads / 3 : 1;
    if (threads < writers + 1)
        threads = writers + 1;
    o.impl = impl;
    memset(violations, 0, sizeof violations);
    if (impl->thread_init)   /* the main thread drains and destroys */
        impl->thread_init();
    struct phase phases[] = {
        { .name = "short", .sync_pct = 50 },
        { .name = "long", .long_holds = true, .sync_pct = 100, .impatient = true },
        { .name = "async", .sync_pct = 0 },
    };
    for (size_t k = 0; k < sizeof phases / sizeof phases[0]; k++) {
        phases[k].writers = writers;
        run_phase(&phases[k], threads);
    }
    if (impl->thread_fini)
        impl->thread_fini();
    printf("  %s violations:", impl->name);
    for (int r = 0; r < R_NRULES; r++)
        printf(" %s %llu", rule_name[r], (unsigned long long)atomic_load(&violations[r]));
    printf("\n");
    fflush(stdout);
}

/* ------------------------------------------------------------ lfp_snap and its twin */

static void oracle_free_cb(void *v, void *arg)
{
    (void)arg;
    snap_oracle_free(v);
}

#define LFP_IMPL(tag, P, T)                                                                  \
    static T tag##_snap;                                                                     \
    static void tag##_init(oracle_ver *v)                                                    \
    {                                                                                        \
        if (P##_init(&tag##_snap, v, oracle_free_cb, NULL) != 0)                             \
            abort();                                                                         \
    }                                                                                        \
    static void tag##_destroy(void) { P##_destroy(&tag##_snap); }                            \
    static oracle_ver *tag##_enter(void) { return P##_enter(&tag##_snap); }                  \
    static void tag##_leave(void) { LFPS_CHECK(P##_leave(&tag##_snap) == 0, "leave"); }      \
    static int tag##_publish(oracle_ver *n, int64_t d) { return P##_publish(&tag##_snap, n, d, NULL); } \
    static void tag##_async(oracle_ver *n)                                                   \
    {                                                                                        \
        LFPS_CHECK(P##_publish_async(&tag##_snap, n) == 0, "publish_async");                 \
    }                                                                                        \
    static void tag##_reclaim(void) { P##_reclaim(&tag##_snap); }                            \
    static int tag##_drain(void) { return P##_reclaim(&tag##_snap); }                        \
    static const snap_impl tag##_impl = {                                                    \
        .name = #P, .deadlines = true, .init = tag##_init, .destroy = tag##_destroy,         \
        .enter = tag##_enter, .leave = tag##_leave, .publish = tag##_publish,                \
        .publish_async = tag##_async, .reclaim = tag##_reclaim, .drain = tag##_drain,        \
    };

LFP_IMPL(lf, lfp_snap, lfp_snap)
LFP_IMPL(lk, lfp_locked_snap, lfp_locked_snap)

/* ------------------------------------------------------------ broken controls */

/* A bare atomic pointer without grace periods; publish does what its
 * control is named after with the version it replaced. */
enum control { CTL_NOWAIT, CTL_LEAK, CTL_FREECUR };
static enum control ctl;
static _Atomic(oracle_ver *) ctl_cur;

static void ctl_init(oracle_ver *v) { atomic_store(&ctl_cur, v); }
static void ctl_destroy(void) { snap_oracle_free(atomic_load(&ctl_cur)); }
/* acquire: pairs with the exchange in ctl_publish (the version's words). */
static oracle_ver *ctl_enter(void) { return atomic_load_explicit(&ctl_cur, memory_order_acquire); }
static void ctl_leave(void) {}

static int ctl_publish(oracle_ver *next, int64_t deadline)
{
    (void)deadline;
    oracle_ver *old = atomic_exchange(&ctl_cur, next);
    if (ctl == CTL_NOWAIT)
        snap_oracle_free(old);    /* the bug: no grace period */
    else if (ctl == CTL_FREECUR)
        snap_oracle_free(next);   /* the bug: the wrong version */
    return 0;                     /* CTL_LEAK: the bug is doing nothing */
}

static void ctl_async(oracle_ver *next) { ctl_publish(next, 0); }
static int ctl_drain(void) { return 0; }

#define CTL_IMPL(tag, name_)                                                             \
    static const snap_impl tag = { .name = name_, .init = ctl_init, .destroy = ctl_destroy, \
        .enter = ctl_enter, .leave = ctl_leave, .publish = ctl_publish,                  \
        .publish_async = ctl_async, .drain = ctl_drain };
CTL_IMPL(ctl_nowait_impl, "control_nowait")
CTL_IMPL(ctl_leak_impl, "control_leak")
CTL_IMPL(ctl_freecur_impl, "control_freecur")

/* ------------------------------------------------------------ main */

static const struct { const snap_impl *impl; enum control ctl; } impls[] = {
    { &lf_impl, 0 }, { &lk_impl, 0 },
#ifdef LFP_ORACLE_URCU
    { &snap_oracle_urcu_memb, 0 },
#endif
    { &ctl_nowait_impl, CTL_NOWAIT }, { &ctl_leak_impl, CTL_LEAK },
    { &ctl_freecur_impl, CTL_FREECUR },
};

static bool run_named(const char *name)
{
    for (size_t k = 0; k < sizeof impls / sizeof impls[0]; k++) {
        if (strcmp(impls[k].impl->name, name) == 0) {
            ctl = impls[k].ctl;
            run_impl(impls[k].impl);
            return true;
        }
    }
    fprintf(stderr, "stress_snap_oracle: unknown implementation %s\n", name);
    return false;
}

int main(int argc, char **argv)
{
    lfps_init("stress_snap_oracle");
    if (argc == 1) {
        run_impl(&lf_impl);
        run_impl(&lk_impl);
    }
    for (int k = 1; k < argc; k++)
        if (!run_named(argv[k]))
            return 2;
    return lfps_finish();
}
