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
 * Small capacity so that lag happens; oversubscribed; delay injection. */
#include <stdlib.h>

#include "harness.h"
#include "lfpat.h"

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

int main(void)
{
    lfps_init("stress_broadcast");
    int n = lfps_threads(6);
    if (n < 4)
        n = 4;
    phase(1, n - 2 > MAX_SUBS ? MAX_SUBS : n - 2);
    phase(MAX_PUB / 2, n - 3 > MAX_SUBS ? MAX_SUBS : n - 3);
    return lfps_finish();
}
