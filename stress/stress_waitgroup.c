/* SPDX-License-Identifier: BSD-2-Clause */
/* Stress: wait groups never release early.
 *
 * Phase 1 (continuous, lfp_waitgroup and the twin): workers repeatedly add a
 * task, mark it started, delay, mark it finished and call done; waiters
 * snapshot every worker's started count, wait, and check that every task
 * started before the wait had finished (a task's add precedes its start
 * mark, so the wait must cover it). Oversubscribed, with delay injection.
 * Phase 2 (rounds, plain data): the same wait group is reused round after
 * round; tasks write plain memory before done, the waiter reads it after
 * wait — ThreadSanitizer checks that done -> wait is a happens-before edge.
 * Phase 3, lifetime: the waiter keeps the wait group on its stack, hands it
 * to a worker, waits, and overwrites it with plain stores as soon as wait
 * returns — TSan reports a race if done still touched it after that.
 * Phase 4, quiet (stress/quiet.h; lfp_waitgroup and the twin): waiters block
 * in wait on a count the doners bring to zero and then simply stop — no
 * further add, no token: every wait must return, or the bounded stall check
 * fails. Round after round, so that the last done meets parked waiters. */
#include <string.h>

#include "handoff.h"
#include "harness.h"
#include "lfpat.h"
#include "quiet.h"

enum { MAX_T = 64 };

struct wg_api {
    const char *name;
    int (*add)(void *, int64_t);
    int (*wait)(void *, int64_t, lfp_cancel *);
};

static int lf_add(void *w, int64_t d) { return lfp_waitgroup_add(w, d); }
static int lf_wait(void *w, int64_t d, lfp_cancel *c) { return lfp_waitgroup_wait(w, d, c); }
static int lk_add(void *w, int64_t d) { return lfp_locked_waitgroup_add(w, d); }
static int lk_wait(void *w, int64_t d, lfp_cancel *c) { return lfp_locked_waitgroup_wait(w, d, c); }

struct cont {
    const struct wg_api *api;
    void *wg;
    int workers;
    _Atomic uint64_t started[MAX_T], finished[MAX_T];
    _Atomic int workers_left;
};

static void cont_worker(lfps_thread *t)
{
    struct cont *c = t->arg;
    uint64_t i = 0;
    for (; lfps_go(t, i, 1000000); i++) {
        LFPS_CHECK(c->api->add(c->wg, 1) == 0, "add");
        atomic_fetch_add(&c->started[t->id], 1);
        lfps_delay(&t->rng);
        atomic_fetch_add(&c->finished[t->id], 1);
        LFPS_CHECK(c->api->add(c->wg, -1) == 0, "done");
    }
    atomic_fetch_sub(&c->workers_left, 1);
    lfps_ops(i);
}

static void cont_waiter(lfps_thread *t)
{
    struct cont *c = t->arg;
    uint64_t snap[MAX_T], waits = 0;
    while (atomic_load(&c->workers_left) > 0) {
        for (int w = 0; w < c->workers; w++)
            snap[w] = atomic_load(&c->started[w]);
        /* a token that never fires half of the time: the twin's other path */
        lfp_cancel idle = LFP_CANCEL_INIT;
        int rc = c->api->wait(c->wg, LFP_FOREVER, (waits & 1) ? &idle : NULL);
        LFPS_CHECK(rc == 0, "%s wait returned %d", c->api->name, rc);
        for (int w = 0; w < c->workers; w++)
            LFPS_CHECK(atomic_load(&c->finished[w]) >= snap[w],
                       "%s released early: worker %d finished %llu < started %llu",
                       c->api->name, w, (unsigned long long)atomic_load(&c->finished[w]),
                       (unsigned long long)snap[w]);
        waits++;
    }
    lfps_ops(waits);
}

static void cont_thread(lfps_thread *t)
{
    struct cont *c = t->arg;
    if (t->id < c->workers)
        cont_worker(t);
    else
        cont_waiter(t);
}

static void continuous(const struct wg_api *api, void *wg, int threads)
{
    static struct cont c;
    int workers = threads - 2;
    c.api = api;
    c.wg = wg;
    c.workers = workers;
    for (int i = 0; i < MAX_T; i++) {
        atomic_init(&c.started[i], 0);
        atomic_init(&c.finished[i], 0);
    }
    atomic_init(&c.workers_left, workers);
    lfps_run(threads, cont_thread, &c);
}

/* Phase 2. */
struct round {
    lfp_waitgroup *wg;
    int round;
    int data[MAX_T];      /* plain: written by task i, read after wait */
};

static void round_thread(lfps_thread *t)
{
    struct round *r = t->arg;
    if (t->id == 0) {
        LFPS_CHECK(lfp_waitgroup_wait(r->wg, LFP_FOREVER, NULL) == 0, "wait");
        for (int i = 1; i < t->nthreads; i++)
            LFPS_CHECK(r->data[i] == r->round, "round %d: task %d not finished", r->round, i);
        return;
    }
    lfps_delay(&t->rng);
    r->data[t->id] = r->round;
    LFPS_CHECK(lfp_waitgroup_done(r->wg) == 0, "done");
}

static void rounds(int threads)
{
    lfp_waitgroup wg;
    lfp_waitgroup_init(&wg);
    static struct round r;
    r.wg = &wg;
    int64_t end = lfp_after(lfps_cfg.budget_ns);
    for (int n = 1; n <= 300 && lfp_now() < end; n++) {
        r.round = n;
        LFPS_CHECK(lfp_waitgroup_add(&wg, threads - 1) == 0, "add");
        lfps_run(threads, round_thread, &r);
        lfps_ops(1);
    }
    LFPS_CHECK(lfp_waitgroup_count(&wg) == 0, "count %lld", (long long)lfp_waitgroup_count(&wg));
    lfp_waitgroup_destroy(&wg);
}

/* Phase 3: the lifetime hand-off (handoff.h) of a wait group. */
static void request(lfps_handoff *h, int round)
{
    (void)round;
    lfp_waitgroup wg;
    lfp_waitgroup_init(&wg);
    lfp_waitgroup_add(&wg, 1);
    lfps_handoff_post(h, &wg);
    LFPS_CHECK(lfp_waitgroup_wait(&wg, LFP_FOREVER, NULL) == 0, "wait");
    memset(&wg, 0xa5, sizeof wg);   /* ours again at once */
}

static void respond(void *wg, int n)
{
    (void)n;
    LFPS_CHECK(lfp_waitgroup_done(wg) == 0, "done");
}

/* Phase 4: thread 0 checks, threads 1..QUIET_DONERS call done, the rest
 * wait once per round. The token is fired only after a failed check, to
 * shut the stuck waiters down. */
enum { QUIET_DONERS = 2, QUIET_DONES = 8, QUIET_ROUNDS = 200 };

struct quiet {
    const struct wg_api *api;
    void *wg;
    lfp_cancel stop;
    lfps_progress progress;   /* waits returned this round */
    bool stuck;
};

static void quiet_thread(lfps_thread *t)
{
    struct quiet *q = t->arg;
    if (t->id == 0) {
        if (!lfps_progress_wait(&q->progress, q->api->name)) {
            q->stuck = true;
            lfp_cancel_fire(&q->stop, ECANCELED);
        }
    } else if (t->id <= QUIET_DONERS) {
        for (int i = 0; i < QUIET_DONES; i++) {
            lfps_delay(&t->rng);
            LFPS_CHECK(q->api->add(q->wg, -1) == 0, "%s: quiet done", q->api->name);
        }
    } else {
        int rc = q->api->wait(q->wg, LFP_FOREVER, &q->stop);
        LFPS_CHECK(rc == 0, "%s: quiet wait rc %d", q->api->name, rc);
        lfps_progress_add(&q->progress, 1);
    }
}

static void quiet_phase(const struct wg_api *api, void *wg, int threads)
{
    static struct quiet q;
    q.api = api;
    q.wg = wg;
    q.stuck = false;
    lfp_cancel_init(&q.stop, NULL);
    int waiters = threads - 1 - QUIET_DONERS, r = 0;
    int64_t end = lfp_after(lfps_cfg.budget_ns);
    for (; r < QUIET_ROUNDS && !q.stuck && lfp_now() < end; r++) {
        LFPS_CHECK(api->add(wg, QUIET_DONERS * QUIET_DONES) == 0, "%s: quiet add", api->name);
        lfps_progress_init(&q.progress, (uint32_t)waiters);
        lfps_run(threads, quiet_thread, &q);
        lfps_ops(1);
    }
    lfp_cancel_destroy(&q.stop);
    printf("  %s: quiet phase, %d rounds of %d waiters released by the last done, no close\n",
           api->name, r, waiters);
}

int main(void)
{
    lfps_init("stress_waitgroup");
    int n = lfps_threads(6);
    if (n < 3)
        n = 3;
    if (n > MAX_T)
        n = MAX_T;
    static const struct wg_api lf = { "lfp_waitgroup", lf_add, lf_wait };
    static const struct wg_api lk = { "lfp_locked_waitgroup", lk_add, lk_wait };
    lfp_waitgroup wg;
    lfp_locked_waitgroup lwg;
    lfp_waitgroup_init(&wg);
    lfp_locked_waitgroup_init(&lwg);
    /* quiet first: a lost wake-up fails its bounded check, where the
     * phases after it would hang */
    quiet_phase(&lf, &wg, n < 5 ? 5 : n);   /* at least two waiters */
    quiet_phase(&lk, &lwg, n < 5 ? 5 : n);
    continuous(&lf, &wg, n);
    continuous(&lk, &lwg, n);
    LFPS_CHECK(lfp_waitgroup_count(&wg) == 0, "final count");
    LFPS_CHECK(lfp_locked_waitgroup_count(&lwg) == 0, "final count (twin)");
    lfp_locked_waitgroup_destroy(&lwg);
    rounds(n);
    lfps_handoff_run(request, respond);
    return lfps_finish();
}
