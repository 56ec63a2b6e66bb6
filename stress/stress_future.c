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
 * after the getter could return. */
#include <stdlib.h>
#include <string.h>

#include "handoff.h"
#include "harness.h"
#include "lfpat.h"

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

int main(void)
{
    lfps_init("stress_future");
    int n = lfps_threads(7);
    if (n < SETTERS + 1)
        n = SETTERS + 1;
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
