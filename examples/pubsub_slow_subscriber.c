/* SPDX-License-Identifier: BSD-2-Clause */
/* Pub/sub with a slow subscriber — the Pub/Sub article, done with
 * lfp_broadcast.
 *
 * The seed dropped messages silently when a subscriber's channel was full.
 * Here a publisher sends 2000 price ticks through a 64-slot broadcast ring to
 * three subscribers: two keep up, one ("audit") sleeps 2 ms every 100
 * messages. The publisher never waits for anyone. Every subscriber checks
 * that ticks arrive in order and that each gap is exactly the missed count
 * the ring reported; at the end received + missed must be 2000 for each.
 * The slow one is told how much it lost instead of losing it silently. */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdio.h>
#include <time.h>

#include "lfpat.h"

enum { TICKS = 2000, SUBSCRIBERS = 3 };

static lfp_broadcast prices;

struct subscriber {
    const char *name;
    bool slow;
    lfp_broadcast_sub sub;
    uint64_t received, missed, gaps;
    bool in_order;
};

static void nap(long ns)
{
    struct timespec ts = { 0, ns };
    nanosleep(&ts, NULL);
}

static void *subscriber_main(void *arg)
{
    struct subscriber *s = arg;
    uint64_t expect = 1, missed;
    void *msg;
    s->in_order = true;
    while (lfp_broadcast_recv(&s->sub, &msg, &missed, LFP_FOREVER, NULL) == 0) {
        uint64_t tick = (uintptr_t)msg;
        if (missed) {
            s->gaps++;
            if (s->gaps <= 3)
                printf("  %-6s missed %3llu ticks before tick %llu\n", s->name,
                       (unsigned long long)missed, (unsigned long long)tick);
        }
        s->in_order &= tick == expect + missed;
        expect = tick + 1;
        s->received++;
        s->missed += missed;
        if (s->slow && s->received % 100 == 0)
            nap(2000000);
    }
    s->missed += missed;   /* a gap found at the end is reported with EPIPE */
    return NULL;
}

int main(void)
{
    struct subscriber subs[SUBSCRIBERS] = {
        { .name = "ui" }, { .name = "risk" }, { .name = "audit", .slow = true },
    };
    if (lfp_broadcast_init(&prices, 64) != 0)
        return 1;
    pthread_t th[SUBSCRIBERS];
    for (int i = 0; i < SUBSCRIBERS; i++) {
        lfp_broadcast_subscribe(&prices, &subs[i].sub);
        pthread_create(&th[i], NULL, subscriber_main, &subs[i]);
    }
    printf("publishing %d ticks into a 64-slot ring; 'audit' is slow\n", TICKS);
    for (uintptr_t tick = 1; tick <= TICKS; tick++) {
        lfp_broadcast_publish(&prices, (void *)tick);
        if (tick % 16 == 0)
            nap(20000);   /* a tick burst every 20 us */
    }
    lfp_broadcast_close(&prices);
    int failures = 0;
    for (int i = 0; i < SUBSCRIBERS; i++) {
        pthread_join(th[i], NULL);
        struct subscriber *s = &subs[i];
        bool exact = s->received + s->missed == TICKS;
        printf("%-6s received %4llu, told it missed %4llu (in %llu gaps): %s\n", s->name,
               (unsigned long long)s->received, (unsigned long long)s->missed,
               (unsigned long long)s->gaps,
               exact && s->in_order ? "accounted for exactly" : "BROKEN");
        failures += !(exact && s->in_order);
    }
    if (subs[2].missed == 0)
        printf("(the slow subscriber happened to keep up this time)\n");
    lfp_broadcast_destroy(&prices);
    printf("%s\n", failures ? "FAILED" : "all invariants held");
    return failures ? 1 : 0;
}
