/* SPDX-License-Identifier: BSD-2-Clause */
/* Stress: counting and weighted semaphores, atomics-first and twins.
 *
 * sem:  oversubscribed threads take permits by try, by blocking acquire with
 *       short deadlines, with cancel tokens fired by a canceller thread, and
 *       forever; the number of holders never exceeds capacity; at the end
 *       all permits are back, nothing is left registered or in flight
 *       (lfp_sem's signals), and the stats add up (acquires == releases,
 *       timeouts/cancellations == what the callers saw).
 * wsem: small acquirers churn with deadlines while a large one (whole
 *       capacity) acquires repeatedly: held weight never exceeds capacity
 *       and the large acquirer completes (FIFO: no starvation).
 * quiet: sem and wsem start empty, acquirers block, releasers release
 *       exactly what they need and stop: every acquire returns, no close.
 * wsem cancel-vs-grant: pairs race a waiter's deadline / cancel token
 *       against the release that grants it, thousands of times; a waiter
 *       that returns an error holds nothing, so at the end all weight is
 *       available.
 */
#include <sched.h>
#include <stdlib.h>

#include "../tests/sem_impls.h"
#include "harness.h"
#include "quiet.h"

/* ------------------------------------------------------------ cancellable
 * A token a worker uses for one acquire and a canceller thread may fire
 * meanwhile. armed: 0 idle, 1 armed (fire allowed), 2 being fired. The owner
 * destroys the token only after disarming it, so a fire never touches a
 * destroyed token. */
struct slot {
    lfp_cancel tok;
    _Atomic int armed;
};

static void slot_arm(struct slot *s)
{
    lfp_cancel_init(&s->tok, NULL);
    atomic_store(&s->armed, 1);
}

static void slot_disarm(struct slot *s)
{
    int armed = 1;
    if (!atomic_compare_exchange_strong(&s->armed, &armed, 0))
        while (atomic_load(&s->armed) != 0)
            sched_yield();   /* a fire is in progress: it stores 0 when done */
    lfp_cancel_destroy(&s->tok);
}

static void slot_fire(struct slot *s)
{
    int one = 1;
    if (atomic_compare_exchange_strong(&s->armed, &one, 2)) {
        lfp_cancel_fire(&s->tok, 0);
        atomic_store(&s->armed, 0);
    }
}

/* ------------------------------------------------------------ sem phase */

#define SEM_CAP 3

struct sem_run {
    const struct sem_impl *im;
    void *sem;
    _Atomic int holders;
    _Atomic uint64_t timeouts, cancels, acquired;
    _Atomic int workers_left;
    struct slot *slots;
};

static void sem_worker(lfps_thread *t)
{
    struct sem_run *r = t->arg;
    struct slot *slot = &r->slots[t->id];
    uint64_t i = 0, timeouts = 0, cancels = 0, acquired = 0;
    for (; lfps_go(t, i, 1u << 30); i++) {
        unsigned how = (unsigned)lfps_below(&t->rng, 4);
        int rc;
        if (how == 0) {
            rc = r->im->try_acquire(r->sem);
        } else if (how == 1) {
            rc = r->im->acquire(r->sem, lfp_after((int64_t)lfps_below(&t->rng, 50000)), NULL);
        } else if (how == 2) {
            slot_arm(slot);
            rc = r->im->acquire(r->sem, LFP_FOREVER, &slot->tok);
            slot_disarm(slot);
        } else {
            rc = r->im->acquire(r->sem, LFP_FOREVER, NULL);
        }
        timeouts += rc == ETIMEDOUT;
        cancels += rc == ECANCELED;
        if (rc != 0) {
            LFPS_CHECK(rc == EAGAIN || rc == ETIMEDOUT || rc == ECANCELED, "%s: rc %d",
                       r->im->name, rc);
            continue;
        }
        acquired++;
        int h = atomic_fetch_add(&r->holders, 1) + 1;
        LFPS_CHECK(h <= SEM_CAP, "%s: %d holders > capacity %d", r->im->name, h, SEM_CAP);
        lfps_delay(&t->rng);
        atomic_fetch_sub(&r->holders, 1);
        rc = r->im->release(r->sem);
        LFPS_CHECK(rc == 0, "%s: release rc %d", r->im->name, rc);
    }
    atomic_fetch_add(&r->timeouts, timeouts);
    atomic_fetch_add(&r->cancels, cancels);
    atomic_fetch_add(&r->acquired, acquired);
    atomic_fetch_sub(&r->workers_left, 1);
    lfps_ops(i);
}

/* Thread 0 fires random workers' tokens while they run. */
static void sem_thread(lfps_thread *t)
{
    struct sem_run *r = t->arg;
    if (t->id != 0) {
        sem_worker(t);
        return;
    }
    while (atomic_load(&r->workers_left) > 0) {
        slot_fire(&r->slots[1 + lfps_below(&t->rng, (uint64_t)t->nthreads - 1)]);
        sched_yield();
    }
}

static void sem_phase(const struct sem_impl *im, int threads)
{
    struct sem_run r = { .im = im, .sem = impl_alloc(im->size),
                         .slots = calloc((size_t)threads, sizeof(struct slot)) };
    atomic_init(&r.workers_left, threads - 1);
    LFPS_CHECK(im->init(r.sem, SEM_CAP) == 0, "%s: init", im->name);
    lfps_run(threads, sem_thread, &r);
    struct lfp_sem_stats st;
    im->stats(r.sem, &st);
    LFPS_CHECK(st.available == SEM_CAP && st.used == 0 && st.waiting == 0,
               "%s: permits not conserved: available %llu used %llu waiting %llu", im->name,
               (unsigned long long)st.available, (unsigned long long)st.used,
               (unsigned long long)st.waiting);
    LFPS_CHECK(im->idle(r.sem), "%s: not settled: a waiter or a wake-up left in flight",
               im->name);
    LFPS_CHECK(st.acquires == st.releases && st.acquires == atomic_load(&r.acquired),
               "%s: acquires %llu releases %llu, callers saw %llu", im->name,
               (unsigned long long)st.acquires, (unsigned long long)st.releases,
               (unsigned long long)atomic_load(&r.acquired));
    LFPS_CHECK(st.timeouts == atomic_load(&r.timeouts) &&
               st.cancellations == atomic_load(&r.cancels),
               "%s: timeouts %llu/%llu cancellations %llu/%llu", im->name,
               (unsigned long long)st.timeouts, (unsigned long long)atomic_load(&r.timeouts),
               (unsigned long long)st.cancellations, (unsigned long long)atomic_load(&r.cancels));
    printf("  %s: %llu acquires, %llu timeouts, %llu cancellations\n", im->name,
           (unsigned long long)st.acquires, (unsigned long long)st.timeouts,
           (unsigned long long)st.cancellations);
    im->destroy(r.sem);
    free(r.sem);
    free(r.slots);
}

/* ------------------------------------------------------------ wsem churn */

#define WCAP 10
#define LARGE_ROUNDS 20

struct wsem_run {
    const struct wsem_impl *im;
    void *sem;
    _Atomic int64_t held;
    _Atomic int large_done;
};

static void hold(struct wsem_run *r, int64_t n, lfps_rng *rng)
{
    int64_t h = atomic_fetch_add(&r->held, n) + n;
    LFPS_CHECK(h <= WCAP, "%s: held %lld > capacity", r->im->name, (long long)h);
    lfps_delay(rng);
    atomic_fetch_sub(&r->held, n);
    int rc = r->im->release(r->sem, n);
    LFPS_CHECK(rc == 0, "%s: release rc %d", r->im->name, rc);
}

static void wsem_thread(lfps_thread *t)
{
    struct wsem_run *r = t->arg;
    uint64_t i = 0;
    if (t->id == 0) {   /* the large acquirer: whole capacity, no deadline */
        for (; i < LARGE_ROUNDS; i++) {
            int rc = r->im->acquire(r->sem, WCAP, LFP_FOREVER, NULL);
            LFPS_CHECK(rc == 0, "%s: large acquire rc %d", r->im->name, rc);
            hold(r, WCAP, &t->rng);
        }
        atomic_store(&r->large_done, 1);
    } else {            /* small ones churn until the large one is done */
        for (; !atomic_load(&r->large_done); i++) {
            int64_t n = 1 + (int64_t)lfps_below(&t->rng, 3);
            int64_t deadline = (i & 1) ? LFP_FOREVER : lfp_after((int64_t)lfps_below(&t->rng, 20000));
            int rc = r->im->acquire(r->sem, n, deadline, NULL);
            if (rc == 0)
                hold(r, n, &t->rng);
            else
                LFPS_CHECK(rc == ETIMEDOUT, "%s: small acquire rc %d", r->im->name, rc);
        }
    }
    lfps_ops(i);
}

static void wsem_churn_phase(const struct wsem_impl *im, int threads)
{
    struct wsem_run r = { .im = im, .sem = impl_alloc(im->size) };
    LFPS_CHECK(im->init(r.sem, WCAP) == 0, "%s: init", im->name);
    lfps_run(threads, wsem_thread, &r);
    LFPS_CHECK(atomic_load(&r.large_done) == 1, "%s: large acquirer starved", im->name);
    LFPS_CHECK(im->available(r.sem) == WCAP, "%s: weight leaked: %lld available", im->name,
               (long long)im->available(r.sem));
    im->destroy(r.sem);
    free(r.sem);
}

/* ------------------------------------------------------------ cancel vs grant */

#define RACE_CAP 4

struct pair {
    void *sem;
    struct slot slot;
    _Atomic uint64_t go, done;   /* round numbers */
    _Atomic uint64_t granted, failed;
};

struct race_run {
    const struct wsem_impl *im;
    struct pair *pairs;
    uint64_t rounds;
};

static void race_waiter(struct race_run *r, struct pair *p, lfps_thread *t, uint64_t round)
{
    bool by_cancel = round & 1;
    int rc;
    if (by_cancel) {
        rc = r->im->acquire(p->sem, RACE_CAP, LFP_FOREVER, &p->slot.tok);
    } else {
        rc = r->im->acquire(p->sem, RACE_CAP, lfp_after((int64_t)lfps_below(&t->rng, 30000)), NULL);
    }
    if (rc == 0) {
        atomic_fetch_add(&p->granted, 1);
        LFPS_CHECK(r->im->release(p->sem, RACE_CAP) == 0, "%s: release", r->im->name);
    } else {
        atomic_fetch_add(&p->failed, 1);
        LFPS_CHECK(rc == (by_cancel ? ECANCELED : ETIMEDOUT), "%s: rc %d", r->im->name, rc);
    }
    atomic_store(&p->done, round);
}

static void race_releaser(struct race_run *r, struct pair *p, lfps_thread *t, uint64_t round)
{
    int rc = r->im->acquire(p->sem, RACE_CAP, LFP_FOREVER, NULL);   /* hold everything */
    LFPS_CHECK(rc == 0, "%s: releaser acquire rc %d", r->im->name, rc);
    if (round & 1)
        slot_arm(&p->slot);
    atomic_store(&p->go, round);
    lfps_delay(&t->rng);
    for (volatile uint64_t spin = lfps_below(&t->rng, 3000); spin > 0; spin--)
        ;
    if (round & 1) {   /* fire and release as close together as we can */
        if (lfps_below(&t->rng, 2))
            slot_fire(&p->slot);
        LFPS_CHECK(r->im->release(p->sem, RACE_CAP) == 0, "%s: release", r->im->name);
        slot_fire(&p->slot);
    } else {
        LFPS_CHECK(r->im->release(p->sem, RACE_CAP) == 0, "%s: release", r->im->name);
    }
    while (atomic_load(&p->done) != round)
        sched_yield();
    if (round & 1)
        slot_disarm(&p->slot);
}

/* Thread 2k waits, thread 2k+1 holds and releases; pair k shares one wsem.
 * Rounds run in lockstep inside a pair; the releaser decides when to stop
 * (its budget) and tells the waiter with go = UINT64_MAX. */
static void race_thread(lfps_thread *t)
{
    struct race_run *r = t->arg;
    struct pair *p = &r->pairs[t->id / 2];
    uint64_t round = 1;
    if (t->id & 1) {
        for (; lfps_go(t, round, r->rounds); round++)
            race_releaser(r, p, t, round);
        atomic_store(&p->go, UINT64_MAX);
    } else {
        for (;; round++) {
            while (atomic_load(&p->go) < round)
                sched_yield();
            if (atomic_load(&p->go) == UINT64_MAX)
                break;
            race_waiter(r, p, t, round);
        }
    }
    lfps_ops(round);
}

static void race_phase(const struct wsem_impl *im, int pairs)
{
    struct race_run r = { .im = im, .pairs = calloc((size_t)pairs, sizeof(struct pair)),
                          .rounds = 5000 };
    for (int k = 0; k < pairs; k++) {
        r.pairs[k].sem = impl_alloc(im->size);
        LFPS_CHECK(im->init(r.pairs[k].sem, RACE_CAP) == 0, "%s: init", im->name);
    }
    lfps_run(2 * pairs, race_thread, &r);
    uint64_t granted = 0, failed = 0;
    for (int k = 0; k < pairs; k++) {
        LFPS_CHECK(im->available(r.pairs[k].sem) == RACE_CAP,
                   "%s: cancel-vs-grant leaked weight: %lld of %d available", im->name,
                   (long long)im->available(r.pairs[k].sem), RACE_CAP);
        granted += atomic_load(&r.pairs[k].granted);
        failed += atomic_load(&r.pairs[k].failed);
        im->destroy(r.pairs[k].sem);
        free(r.pairs[k].sem);
    }
    printf("  %s cancel-vs-grant: %llu rounds granted, %llu timed out/cancelled\n", im->name,
           (unsigned long long)granted, (unsigned long long)failed);
    free(r.pairs);
}

/* ------------------------------------------------------------ quiet
 * No lost wake-up without close (stress/quiet.h): the semaphore starts
 * empty, acquirers block (deadline LFP_FOREVER) for exactly their share,
 * two releasers release exactly the total and stop; every acquire must
 * return. The token is fired only after a failed check, to shut down. */

#define QUIET_K 300   /* acquires per acquirer */

struct quiet_run {
    const struct sem_impl *sim;    /* counting: weight 1 */
    const struct wsem_impl *wim;   /* or weighted */
    const char *name;
    void *sem;
    int64_t total;                 /* weight acquired = weight released */
    _Atomic int64_t to_release;
    lfps_progress progress;
    lfp_cancel stop;
};

static int quiet_acquire(struct quiet_run *r, int64_t n)
{
    return r->sim ? r->sim->acquire(r->sem, LFP_FOREVER, &r->stop)
                  : r->wim->acquire(r->sem, n, LFP_FOREVER, &r->stop);
}

static int quiet_release(struct quiet_run *r, int64_t n)
{
    return r->sim ? r->sim->release(r->sem) : r->wim->release(r->sem, n);
}

static int64_t quiet_weight(const struct quiet_run *r, int acquirer)
{
    return r->sim ? 1 : 1 + acquirer % 3;
}

static void quiet_thread(lfps_thread *t)
{
    struct quiet_run *r = t->arg;
    if (t->id == 0) {
        if (!lfps_progress_wait(&r->progress, r->name))
            lfp_cancel_fire(&r->stop, ECANCELED);
    } else if (t->id <= 2) {   /* releasers: chunks until the total is out */
        for (;;) {
            int64_t n = r->sim ? 1 : 1 + (int64_t)lfps_below(&t->rng, 4);
            int64_t left = atomic_fetch_sub(&r->to_release, n);
            if (left <= 0)
                break;
            if (n > left)
                n = left;
            LFPS_CHECK(quiet_release(r, n) == 0, "%s: quiet release", r->name);
            lfps_progress_add(&r->progress, (uint32_t)n);
            lfps_delay(&t->rng);
        }
    } else {
        int64_t w = quiet_weight(r, t->id - 3);
        for (int i = 0; i < QUIET_K; i++) {
            int rc = quiet_acquire(r, w);
            LFPS_CHECK(rc == 0, "%s: quiet acquire rc %d", r->name, rc);
            if (rc != 0)
                break;
            lfps_progress_add(&r->progress, (uint32_t)w);
        }
    }
    lfps_ops(1);
}

static void quiet_phase(const struct sem_impl *sim, const struct wsem_impl *wim, int threads)
{
    if (threads < 4)
        threads = 4;   /* checker, two releasers, acquirers */
    struct quiet_run r = { .sim = sim, .wim = wim, .name = sim ? sim->name : wim->name };
    for (int a = 0; a < threads - 3; a++)
        r.total += QUIET_K * quiet_weight(&r, a);
    r.sem = impl_alloc(sim ? sim->size : wim->size);
    int rc = sim ? sim->init(r.sem, (unsigned)r.total) : wim->init(r.sem, r.total);
    LFPS_CHECK(rc == 0, "%s: init", r.name);
    if (sim)   /* start empty: take every permit */
        for (int64_t i = 0; i < r.total; i++)
            LFPS_CHECK(sim->try_acquire(r.sem) == 0, "%s: drain", r.name);
    else
        LFPS_CHECK(wim->try_acquire(r.sem, r.total) == 0, "%s: drain", r.name);
    atomic_init(&r.to_release, r.total);
    lfps_progress_init(&r.progress, (uint32_t)(2 * r.total));
    lfp_cancel_init(&r.stop, NULL);
    lfps_run(threads, quiet_thread, &r);
    int64_t avail = sim ? (int64_t)sim->available(r.sem) : wim->available(r.sem);
    LFPS_CHECK(avail == 0, "%s: quiet: %lld available after the exact releases", r.name,
               (long long)avail);
    printf("  %s: quiet phase, %d acquirers blocked for %lld weight, released exactly, "
           "no close\n", r.name, threads - 3, (long long)r.total);
    lfp_cancel_destroy(&r.stop);
    if (sim)
        sim->destroy(r.sem);
    else
        wim->destroy(r.sem);
    free(r.sem);
}

int main(void)
{
    lfps_init("stress_sem");
    int threads = lfps_threads(6);   /* oversubscribed on 2 cores */
    for (size_t i = 0; i < NIMPL(sem_impls); i++) {
        sem_phase(&sem_impls[i], threads);
        quiet_phase(&sem_impls[i], NULL, threads);
    }
    for (size_t i = 0; i < NIMPL(wsem_impls); i++) {
        wsem_churn_phase(&wsem_impls[i], threads);
        race_phase(&wsem_impls[i], threads / 2 > 1 ? threads / 2 : 2);
        quiet_phase(NULL, &wsem_impls[i], threads);
    }
    return lfps_finish();
}
