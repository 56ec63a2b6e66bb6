/* SPDX-License-Identifier: BSD-2-Clause */
/* Stress: broadcast — per-subscriber order and exact lag accounting.
 *
 * Phase 1 (one publisher, message = its position): subscribers (one slowed
 * by extra delays, one that subscribes and unsubscribes over and over) check
 * that every message is exactly the previous one + 1 + the missed count
 * reported with it — nothing lost silently, nothing duplicated or reordered —
 * and, after close, that received + missed covers every position from their
 * subscription to the end.
 * Phase 2 (several publishers, message = publisher id and its own counter):
 * subscribers check per-publisher order and, at the end, received + missed
 * == messages published. The publishers' plain per-message payload is read
 * by subscribers, so TSan checks the publish -> receive edge.
 * Small capacity so that lag happens; oversubscribed; delay injection.
 * Quiet phase first (stress/quiet.h): publishers publish a known number of
 * messages, often to subscribers that are all caught up and parked, and
 * stop; no close until every subscriber has covered every position — one
 * left parked beside a published message fails the bounded stall check. */
#include <stdlib.h>

#include "harness.h"
#include "lfpat.h"
#include "quiet.h"

enum { CAP = 16, MAX_PUB = 4, PER_PUB = 200000, MAX_SUBS = 8 };

struct shared {
    lfp_broadcast b;
    int publishers;
    _Atomic int publishers_left;
    _Atomic uint64_t published;
    uint64_t (*payload)[PER_PUB];   /* plain: payload[p][i] written before publish */
    lfp_broadcast_sub subs[MAX_SUBS + 1];   /* [1..]: subscribed before any publish */
    uint64_t covered[MAX_SUBS + 1];
};

static uintptr_t encode(int pub, uint64_t i) { return (uintptr_t)(i * MAX_PUB + (uint64_t)pub) + 1; }

static void publisher(lfps_thread *t, struct shared *s)
{
    uint64_t i = 0;
    for (; lfps_go(t, i, PER_PUB); i++) {
        s->payload[t->id][i] = i ^ 0x5a5a;
        uintptr_t v = s->publishers == 1 ? (uintptr_t)i : encode(t->id, i);
        LFPS_CHECK(lfp_broadcast_publish(&s->b, (void *)v) == 0, "publish");
        lfps_delay(&t->rng);
        if ((i & 7) == 7)
            sched_yield();   /* let subscribers keep up part of the time */
    }
    atomic_fetch_add(&s->published, i);
    if (atomic_fetch_sub(&s->publishers_left, 1) == 1)
        lfp_broadcast_close(&s->b);
    lfps_ops(i);
}

/* Check one received message v (reported after `missed` skipped ones). */
struct checker {
    struct shared *s;
    uint64_t expect;            /* phase 1: next position */
    int64_t last[MAX_PUB];      /* phase 2: last counter per publisher */
};

static void check_msg(struct checker *c, uintptr_t v, uint64_t missed)
{
    struct shared *s = c->s;
    if (s->publishers == 1) {
        LFPS_CHECK(v == c->expect + missed, "got position %llu, expected %llu + %llu missed",
                   (unsigned long long)v, (unsigned long long)c->expect,
                   (unsigned long long)missed);
        LFPS_CHECK(s->payload[0][v] == (v ^ 0x5a5a), "payload of %llu", (unsigned long long)v);
        c->expect = v + 1;
        return;
    }
    int p = (int)((v - 1) % MAX_PUB);
    int64_t i = (int64_t)((v - 1) / MAX_PUB);
    LFPS_CHECK(i > c->last[p], "publisher %d: %lld after %lld", p, (long long)i,
               (long long)c->last[p]);
    LFPS_CHECK(s->payload[p][i] == ((uint64_t)i ^ 0x5a5a), "payload");
    c->last[p] = i;
}

/* Receive until EPIPE; returns received + missed. */
static uint64_t drain(lfps_thread *t, lfp_broadcast_sub *sub, struct checker *c, bool slow)
{
    uint64_t covered = 0, missed;
    void *v;
    int rc;
    while ((rc = lfp_broadcast_recv(sub, &v, &missed, LFP_FOREVER, NULL)) == 0) {
        check_msg(c, (uintptr_t)v, missed);
        covered += missed + 1;
        lfps_delay(&t->rng);
        if (slow && lfps_below(&t->rng, 64) == 0)
            sched_yield();
    }
    LFPS_CHECK(rc == EPIPE, "recv returned %d", rc);
    return covered + missed;
}

/* Subscribe, take a few messages, unsubscribe; repeat until closed. */
static void churner(lfps_thread *t, struct shared *s)
{
    uint64_t rounds = 0;
    for (;;) {
        lfp_broadcast_sub sub;
        LFPS_CHECK(lfp_broadcast_subscribe(&s->b, &sub) == 0, "subscribe");
        struct checker c = { .s = s, .expect = sub.next };
        for (int k = 0; k < 3; k++) {
            void *v;
            uint64_t missed;
            int rc = lfp_broadcast_recv(&sub, &v, &missed, lfp_after(1000000), NULL);
            if (rc == EPIPE) {
                lfp_broadcast_unsubscribe(&sub);
                lfps_ops(rounds);
                return;
            }
            LFPS_CHECK(rc == 0 || rc == ETIMEDOUT, "recv returned %d", rc);
            if (rc == 0 && s->publishers == 1)
                check_msg(&c, (uintptr_t)v, missed);
        }
        lfp_broadcast_unsubscribe(&sub);
        lfps_delay(&t->rng);
        rounds++;
    }
}

static void worker(lfps_thread *t)
{
    struct shared *s = t->arg;
    int role = t->id - s->publishers;
    if (role < 0) {
        publisher(t, s);
    } else if (role == 0) {
        churner(t, s);
    } else {
        struct checker c = { .s = s, .expect = 0, .last = { -1, -1, -1, -1 } };
        s->covered[role] = drain(t, &s->subs[role], &c, role == 1);
        lfps_ops(s->subs[role].received);
    }
}

static void phase(int publishers, int subscribers)
{
    static struct shared s;
    LFPS_CHECK(lfp_broadcast_init(&s.b, CAP) == 0, "init");
    s.publishers = publishers;
    atomic_init(&s.publishers_left, publishers);
    atomic_init(&s.published, 0);
    s.payload = calloc(MAX_PUB, sizeof *s.payload);
    for (int i = 1; i <= subscribers; i++)
        lfp_broadcast_subscribe(&s.b, &s.subs[i]);
    lfps_run(publishers + 1 + subscribers, worker, &s);
    uint64_t total = atomic_load(&s.published);
    LFPS_CHECK(lfp_broadcast_published(&s.b) == total, "positions %llu, published %llu",
               (unsigned long long)lfp_broadcast_published(&s.b), (unsigned long long)total);
    uint64_t lagged = 0;
    for (int i = 1; i <= subscribers; i++) {
        LFPS_CHECK(s.covered[i] == total, "subscriber %d: received + missed = %llu of %llu", i,
                   (unsigned long long)s.covered[i], (unsigned long long)total);
        LFPS_CHECK(s.subs[i].received + s.subs[i].missed == total, "subscriber %d totals", i);
        lagged += s.subs[i].missed;
    }
    printf("  %d publisher(s), %d subscribers: %llu messages, %llu missed in total\n",
           publishers, subscribers, (unsigned long long)total, (unsigned long long)lagged);
    free(s.payload);
    lfp_broadcast_destroy(&s.b);
}

/* The quiet phase: thread 0 checks, then QUIET_PUB publishers, then the
 * subscribers. The token is fired only after a failed check. */
enum { QUIET_PUB = 2, QUIET_MSGS = 500 };

struct quiet {
    lfp_broadcast b;
    uint32_t subs;
    lfp_cancel stop;
    lfps_progress progress;   /* positions covered (received + missed), all subscribers */
    lfp_broadcast_sub sub[MAX_SUBS];
};

/* Staging: every subscriber parked (white-box: the eventcount's waiters). */
static bool subs_parked(void *arg)
{
    struct quiet *q = arg;
    /* relaxed: a staging hint only. */
    return atomic_load_explicit(&q->b.arrived.waiters, memory_order_relaxed) >= q->subs;
}

static void quiet_thread(lfps_thread *t)
{
    struct quiet *q = t->arg;
    if (t->id == 0) {
        if (!lfps_progress_wait(&q->progress, "lfp_broadcast"))
            lfp_cancel_fire(&q->stop, ECANCELED);
    } else if (t->id <= QUIET_PUB) {
        for (int i = 0; i < QUIET_MSGS; i++) {
            if (i % 4 == 0)
                lfps_stage(subs_parked, q);
            LFPS_CHECK(lfp_broadcast_publish(&q->b, (void *)(uintptr_t)i) == 0, "quiet publish");
            lfps_delay(&t->rng);
        }
    } else {
        lfp_broadcast_sub *sub = &q->sub[t->id - 1 - QUIET_PUB];
        for (uint64_t covered = 0; covered < QUIET_PUB * QUIET_MSGS;) {
            void *v;
            uint64_t missed = 0;
            int rc = lfp_broadcast_recv(sub, &v, &missed, LFP_FOREVER, &q->stop);
            LFPS_CHECK(rc == 0, "lfp_broadcast: quiet recv rc %d", rc);
            if (rc != 0)
                return;
            covered += missed + 1;
            lfps_progress_add(&q->progress, (uint32_t)(missed + 1));
        }
    }
}

static void quiet_phase(int subs)
{
    static struct quiet q;
    LFPS_CHECK(lfp_broadcast_init(&q.b, CAP) == 0, "quiet init");
    q.subs = (uint32_t)subs;
    for (int i = 0; i < subs; i++)
        lfp_broadcast_subscribe(&q.b, &q.sub[i]);
    lfp_cancel_init(&q.stop, NULL);
    lfps_progress_init(&q.progress, (uint32_t)(subs * QUIET_PUB * QUIET_MSGS));
    lfps_run(1 + QUIET_PUB + subs, quiet_thread, &q);
    for (int i = 0; i < subs; i++)
        lfp_broadcast_unsubscribe(&q.sub[i]);
    lfp_broadcast_destroy(&q.b);
    lfp_cancel_destroy(&q.stop);
    lfps_ops((uint64_t)subs * QUIET_PUB * QUIET_MSGS);
    printf("  quiet phase: %d publishers, %d subscribers, %d messages, no close\n", QUIET_PUB,
           subs, QUIET_PUB * QUIET_MSGS);
}

int main(void)
{
    lfps_init("stress_broadcast");
    int n = lfps_threads(6);
    if (n < 4)
        n = 4;
    quiet_phase(n - 3 > MAX_SUBS ? MAX_SUBS : n - 3 < 2 ? 2 : n - 3);
    phase(1, n - 2 > MAX_SUBS ? MAX_SUBS : n - 2);
    phase(MAX_PUB / 2, n - 3 > MAX_SUBS ? MAX_SUBS : n - 3);
    return lfps_finish();
}
