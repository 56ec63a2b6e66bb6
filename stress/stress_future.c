/* SPDX-License-Identifier: BSD-2-Clause */
/* Stress: futures are set once and the set publishes its data.
 *
 * An array of futures, one per round. Setter threads race through the
 * rounds: each writes a plain message (round, its id) and tries to set the
 * round's future to it; exactly one set per round may return 0, the others
 * EALREADY. Getter threads get every round's future (blocking) and read the
 * message through the returned pointer with plain loads: it must be the
 * round's, written by the winner, and every getter must see the same winner.
 * ThreadSanitizer checks the set -> get edge on the plain message. Rounds are
 * bounded by count (every setter finishes every round, so no getter waits
 * forever); oversubscribed, with delay injection.
 * Phase 2, lifetime: a requester keeps its reply future on its stack, hands
 * it to a responder, waits, and overwrites the future with plain stores the
 * moment get returns — TSan reports a race if set still touched the future
 * after the getter could return.
 * Phase 3, quiet (stress/quiet.h; lfp_future and the twin): getters block
 * in get on a row of futures that setters set and then simply stop — the
 * set is the only wake: every get must return, or the bounded stall check
 * fails (before this phase a lost wake-up hung the program instead). */
#include <stdlib.h>
#include <string.h>

#include "handoff.h"
#include "harness.h"
#include "lfpat.h"
#include "quiet.h"

enum { SETTERS = 3, MAX_ROUNDS = 20000 };

struct msg {
    int round, setter;
};

struct shared {
    int rounds;
    lfp_future fut[MAX_ROUNDS];
    struct msg msg[MAX_ROUNDS][SETTERS];     /* plain */
    _Atomic int wins[MAX_ROUNDS];
    _Atomic int seen_winner[MAX_ROUNDS];     /* 0 = none yet, else setter + 1 */
};

static void setter(lfps_thread *t, struct shared *s)
{
    for (int r = 0; r < s->rounds; r++) {
        struct msg *m = &s->msg[r][t->id];
        m->round = r;
        m->setter = t->id;
        lfps_delay(&t->rng);
        int rc = lfp_future_set(&s->fut[r], m, t->id);
        LFPS_CHECK(rc == 0 || rc == EALREADY, "set returned %d", rc);
        if (rc == 0)
            atomic_fetch_add(&s->wins[r], 1);
    }
    lfps_ops((uint64_t)s->rounds);
}

static void getter(lfps_thread *t, struct shared *s)
{
    for (int r = 0; r < s->rounds; r++) {
        void *v = NULL;
        int err = -1;
        lfps_delay(&t->rng);
        /* a third of the gets go through is_ready + try_get */
        int rc = (r % 3 == 0 && lfp_future_is_ready(&s->fut[r]))
                     ? lfp_future_try_get(&s->fut[r], &v, &err)
                     : lfp_future_get(&s->fut[r], &v, &err, LFP_FOREVER, NULL);
        LFPS_CHECK(rc == 0, "get returned %d", rc);
        const struct msg *m = v;
        LFPS_CHECK(m && m->round == r && m->setter == err,
                   "round %d: got message of round %d setter %d, error %d", r,
                   m ? m->round : -1, m ? m->setter : -1, err);
        int expect = 0;
        if (!atomic_compare_exchange_strong(&s->seen_winner[r], &expect, err + 1))
            LFPS_CHECK(expect == err + 1, "round %d: winners %d and %d", r, expect - 1, err);
    }
    lfps_ops((uint64_t)s->rounds);
}

static void worker(lfps_thread *t)
{
    if (t->id < SETTERS)
        setter(t, t->arg);
    else
        getter(t, t->arg);
}

/* Phase 2: the lifetime hand-off (handoff.h) of a reply future. */
static void request(lfps_handoff *h, int round)
{
    lfp_future f;
    lfp_future_init(&f);
    lfps_handoff_post(h, &f);
    void *v = NULL;
    LFPS_CHECK(lfp_future_get(&f, &v, NULL, LFP_FOREVER, NULL) == 0, "get");
    LFPS_CHECK(v == (void *)(uintptr_t)(round + 1), "round %d: reply %p", round, v);
    memset(&f, 0xa5, sizeof f);   /* the slot is ours again at once */
}

static void respond(void *f, int n)
{
    LFPS_CHECK(lfp_future_set(f, (void *)(uintptr_t)n, 0) == 0, "set");
}

/* Phase 3. Thread 0 checks; SETTERS setters; the rest get every future.
 * The token is fired only after a failed check, to shut the getters down. */
enum { QUIET_FUTURES = 500 };

struct fut_api {
    const char *name;
    size_t size;
    int (*init)(void *);
    void (*destroy)(void *);
    int (*set)(void *, void *, int);
    int (*get)(void *, void **, int *, int64_t, lfp_cancel *);
    bool (*is_ready)(void *);
    uint32_t (*waiting)(void *);   /* getters in the wait protocol, or NULL */
};

static int lf_init(void *f) { return lfp_future_init(f); }
static void lf_destroy(void *f) { lfp_future_destroy(f); }
static int lf_set(void *f, void *v, int e) { return lfp_future_set(f, v, e); }
static bool lf_ready(void *f) { return lfp_future_is_ready(f); }
static int lf_get(void *f, void **v, int *e, int64_t d, lfp_cancel *c)
{
    return lfp_future_get(f, v, e, d, c);
}
/* White-box: getters between lfp_ec_prepare and the end of their wait. */
static uint32_t lf_waiting(void *f)
{
    /* relaxed: a staging hint only. */
    return atomic_load_explicit(&((lfp_future *)f)->ready.waiters, memory_order_relaxed);
}
static int lk_init(void *f) { return lfp_locked_future_init(f); }
static void lk_destroy(void *f) { lfp_locked_future_destroy(f); }
static int lk_set(void *f, void *v, int e) { return lfp_locked_future_set(f, v, e); }
static bool lk_ready(void *f) { return lfp_locked_future_is_ready(f); }
static int lk_get(void *f, void **v, int *e, int64_t d, lfp_cancel *c)
{
    return lfp_locked_future_get(f, v, e, d, c);
}

struct quiet {
    const struct fut_api *api;
    char *futs;               /* QUIET_FUTURES objects of api->size */
    int getters;
    lfp_cancel stop;
    lfps_progress progress;   /* gets returned */
};

static void *quiet_fut(struct quiet *q, int i) { return q->futs + (size_t)i * q->api->size; }

/* Staging: future i is set already (a racing setter won), or every getter
 * is done with the futures before i and (where the future tells) waiting
 * on future i. */
struct stage {
    struct quiet *q;
    int i;
};

static bool getters_parked(void *arg)
{
    const struct stage *st = arg;
    struct quiet *q = st->q;
    if (q->api->is_ready(quiet_fut(q, st->i)))
        return true;
    if (lfps_progress_get(&q->progress) < (uint32_t)(q->getters * st->i))
        return false;
    return !q->api->waiting || q->api->waiting(quiet_fut(q, st->i)) >= (uint32_t)q->getters;
}

static void quiet_thread(lfps_thread *t)
{
    struct quiet *q = t->arg;
    if (t->id == 0) {
        if (!lfps_progress_wait(&q->progress, q->api->name))
            lfp_cancel_fire(&q->stop, ECANCELED);
    } else if (t->id <= SETTERS) {
        for (int i = 0; i < QUIET_FUTURES; i++) {
            struct stage st = { q, i };
            lfps_stage(getters_parked, &st);
            lfps_delay(&t->rng);
            int rc = q->api->set(quiet_fut(q, i), (void *)(uintptr_t)(i + 1), t->id);
            LFPS_CHECK(rc == 0 || rc == EALREADY, "%s: quiet set rc %d", q->api->name, rc);
        }
    } else {
        for (int i = 0; i < QUIET_FUTURES; i++) {
            void *v = NULL;
            int rc = q->api->get(quiet_fut(q, i), &v, NULL, LFP_FOREVER, &q->stop);
            LFPS_CHECK(rc == 0 && v == (void *)(uintptr_t)(i + 1), "%s: quiet get %d: rc %d",
                       q->api->name, i, rc);
            if (rc != 0)
                return;
            lfps_progress_add(&q->progress, 1);
        }
    }
}

static void quiet_phase(const struct fut_api *api, int threads)
{
    static struct quiet q;
    q.api = api;
    q.futs = calloc(QUIET_FUTURES, api->size);
    for (int i = 0; i < QUIET_FUTURES; i++)
        LFPS_CHECK(api->init(quiet_fut(&q, i)) == 0, "%s: init", api->name);
    lfp_cancel_init(&q.stop, NULL);
    int getters = threads - 1 - SETTERS;
    q.getters = getters;
    lfps_progress_init(&q.progress, (uint32_t)(getters * QUIET_FUTURES));
    lfps_run(threads, quiet_thread, &q);
    for (int i = 0; i < QUIET_FUTURES; i++)
        api->destroy(quiet_fut(&q, i));
    free(q.futs);
    lfp_cancel_destroy(&q.stop);
    lfps_ops((uint64_t)getters * QUIET_FUTURES);
    printf("  %s: quiet phase, %d getters blocked on %d futures, set and no more\n", api->name,
           getters, QUIET_FUTURES);
}

int main(void)
{
    lfps_init("stress_future");
    int n = lfps_threads(7);
    if (n < SETTERS + 1)
        n = SETTERS + 1;
    /* quiet first: a lost wake-up fails its bounded check, where the
     * phase after it would hang */
    static const struct fut_api lf = { "lfp_future", sizeof(lfp_future), lf_init, lf_destroy,
                                       lf_set, lf_get, lf_ready, lf_waiting };
    static const struct fut_api lk = { "lfp_locked_future", sizeof(lfp_locked_future), lk_init,
                                       lk_destroy, lk_set, lk_get, lk_ready, NULL };
    int nq = n < SETTERS + 3 ? SETTERS + 3 : n;   /* at least two getters */
    quiet_phase(&lf, nq);
    quiet_phase(&lk, nq);
    struct shared *s = calloc(1, sizeof *s);
    s->rounds = lfps_cfg.delay_level ? MAX_ROUNDS / 4 : MAX_ROUNDS;
    for (int r = 0; r < s->rounds; r++)
        lfp_future_init(&s->fut[r]);
    lfps_run(n, worker, s);
    for (int r = 0; r < s->rounds; r++) {
        LFPS_CHECK(atomic_load(&s->wins[r]) == 1, "round %d: %d sets won", r,
                   atomic_load(&s->wins[r]));
        lfp_future_destroy(&s->fut[r]);
    }
    free(s);
    lfps_handoff_run(request, respond);
    return lfps_finish();
}
