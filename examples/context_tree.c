/* SPDX-License-Identifier: BSD-2-Clause */
/* Context tree with deadlines — the Context article, done with lfpat.
 *
 * Go's context carries two things: a Done/Err signal that cascades from a
 * parent to its children, and a deadline that a child inherits as the minimum
 * of its own and its parent's. lfp_cancel is the first; the deadline is an
 * int64_t passed next to the token into every blocking call. `struct ctx`
 * below is the ten-line glue.
 *
 * The run: a request context (deadline 2 s) under a server context;
 * a "db" child with a 30 ms timeout times out on its own; an "api" child
 * asking for 5 s gets the request's 2 s; three workers block on a wait
 * group, a broadcast and a future under the request and are all released by
 * one cancel of the request, with its reason; a sibling request is untouched
 * and completes. Exits non-zero if any of that does not hold. */
#include <pthread.h>
#include <stdio.h>

#include "lfpat.h"

struct ctx {
    lfp_cancel token;
    int64_t deadline;
};

static void ctx_root(struct ctx *c)
{
    lfp_cancel_init(&c->token, NULL);
    c->deadline = LFP_FOREVER;
}

/* A child: cancelled with its parent; deadline = min(parent's, now + timeout). */
static void ctx_child(struct ctx *c, struct ctx *parent, int64_t timeout_ns)
{
    lfp_cancel_init(&c->token, &parent->token);
    int64_t own = timeout_ns == LFP_FOREVER ? LFP_FOREVER : lfp_after(timeout_ns);
    c->deadline = own < parent->deadline ? own : parent->deadline;
}

static int failures;
#define CHECK(cond, ...)                                                   \
    do {                                                                   \
        if (!(cond)) {                                                     \
            failures++;                                                    \
            printf("  BROKEN: " __VA_ARGS__);                              \
            printf("\n");                                                  \
        }                                                                  \
    } while (0)

static const char *rcname(int rc)
{
    switch (rc) {
    case 0: return "ok";
    case ETIMEDOUT: return "ETIMEDOUT";
    case ECANCELED: return "ECANCELED";
    case EPIPE: return "EPIPE";
    default: return "other";
    }
}

/* Shared objects the workers block on. */
static lfp_waitgroup never_done;
static lfp_broadcast quiet;
static lfp_future unset;

struct worker {
    const char *what;
    struct ctx ctx;
    int rc;
};

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    void *v;
    uint64_t missed;
    lfp_broadcast_sub sub;
    if (w->what[0] == 'w') {
        w->rc = lfp_waitgroup_wait(&never_done, w->ctx.deadline, &w->ctx.token);
    } else if (w->what[0] == 'b') {
        lfp_broadcast_subscribe(&quiet, &sub);
        w->rc = lfp_broadcast_recv(&sub, &v, &missed, w->ctx.deadline, &w->ctx.token);
    } else {
        w->rc = lfp_future_get(&unset, &v, NULL, w->ctx.deadline, &w->ctx.token);
    }
    return NULL;
}

int main(void)
{
    enum { REASON_CLIENT_GONE = 1001 };
    struct ctx server, request, db, api, sibling;
    int64_t t0 = lfp_now();
    ctx_root(&server);
    ctx_child(&request, &server, 2000 * 1000000LL);
    lfp_waitgroup_init(&never_done);
    lfp_waitgroup_add(&never_done, 1);
    lfp_broadcast_init(&quiet, 8);
    lfp_future_init(&unset);
    printf("server ctx: no deadline; request ctx: deadline +2 s\n");

    /* 1. a child's own, shorter timeout */
    ctx_child(&db, &request, 30 * 1000000LL);
    lfp_future reply;
    lfp_future_init(&reply);
    int rc = lfp_future_get(&reply, NULL, NULL, db.deadline, &db.token);
    printf("db query (30 ms timeout, nobody answers): %s after %lld ms\n", rcname(rc),
           (long long)((lfp_now() - t0) / 1000000));
    CHECK(rc == ETIMEDOUT, "db query should time out, got %d", rc);
    CHECK(!lfp_cancel_fired(&request.token), "a child's timeout must not cancel its parent");

    /* 2. a child cannot outlive its parent's deadline */
    ctx_child(&api, &request, 5000 * 1000000LL);
    printf("api call asks for 5 s, gets the request's deadline: %s\n",
           api.deadline == request.deadline ? "yes" : "no");
    CHECK(api.deadline == request.deadline, "child deadline must be min(own, parent)");

    /* 3. one cancel releases every blocked call under the request */
    ctx_child(&sibling, &server, LFP_FOREVER);
    struct worker w[3] = { { .what = "waitgroup" }, { .what = "broadcast" },
                           { .what = "future" } };
    pthread_t th[3];
    for (int i = 0; i < 3; i++) {
        ctx_child(&w[i].ctx, i == 0 ? &api : &request, LFP_FOREVER);
        pthread_create(&th[i], NULL, worker_main, &w[i]);
    }
    lfp_future sibling_reply;
    lfp_future_init(&sibling_reply);
    CHECK(lfp_cancel_fire(&request.token, REASON_CLIENT_GONE), "first fire wins");
    CHECK(!lfp_cancel_fire(&request.token, ECANCELED), "second fire must lose");
    printf("request cancelled (client gone)\n");
    for (int i = 0; i < 3; i++) {
        pthread_join(th[i], NULL);
        int reason = lfp_cancel_reason(&w[i].ctx.token);
        printf("  worker blocked on %-9s -> %s, reason %d\n", w[i].what, rcname(w[i].rc), reason);
        CHECK(w[i].rc == ECANCELED, "worker %s: %d", w[i].what, w[i].rc);
        CHECK(reason == REASON_CLIENT_GONE, "reason must cascade unchanged");
    }
    CHECK(lfp_cancel_fired(&db.token) && lfp_cancel_fired(&api.token), "cascade to children");
    CHECK(!lfp_cancel_fired(&server.token), "never upwards");

    /* 4. the sibling request is untouched */
    lfp_future_set(&sibling_reply, &sibling, 0);
    void *v = NULL;
    rc = lfp_future_get(&sibling_reply, &v, NULL, sibling.deadline, &sibling.token);
    printf("sibling request: %s\n", rcname(rc));
    CHECK(rc == 0 && v == &sibling && !lfp_cancel_fired(&sibling.token), "sibling must complete");

    for (int i = 0; i < 3; i++)
        lfp_cancel_destroy(&w[i].ctx.token);
    lfp_cancel_destroy(&db.token);
    lfp_cancel_destroy(&api.token);
    lfp_cancel_destroy(&sibling.token);
    lfp_cancel_destroy(&request.token);
    lfp_cancel_destroy(&server.token);
    lfp_broadcast_destroy(&quiet);
    printf("%s\n", failures ? "FAILED" : "all invariants held");
    return failures ? 1 : 0;
}
