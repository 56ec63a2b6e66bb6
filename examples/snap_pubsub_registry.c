/* SPDX-License-Identifier: BSD-2-Clause */
/* Pub/sub subscriber registry with lfp_snap — the event bus's
 * map-of-subscribers under an RWMutex, without the read lock.
 *
 * The registry is an immutable array of subscriber pointers in an lfp_snap.
 * A publish opens a read section and calls every subscriber's handler on the
 * array it sees. Subscribe and unsubscribe are copy-on-write updates
 * (lfp_snap_update). Unsubscribe is synchronous: when it returns, no publish
 * is still walking an array that holds the subscriber, so no later call can
 * reach its handler and the caller may free the subscriber's state at once.
 *
 * The run: 2 publisher threads publish continuously to 8 subscribers while
 * the main thread replaces subscribers one at a time (unsubscribe, free the
 * state, subscribe a new one), 200 times. Checked: after an unsubscribe
 * returned, no handler call reaches that subscriber (a "gone" flag kept
 * outside the freed state); its state is freed right away, so under ASan a
 * late call would also be a heap-use-after-free; every subscriber that
 * stayed long enough was called; registry arrays: allocated == freed.
 * Exits non-zero if any of that does not hold. */
#define _POSIX_C_SOURCE 200809L   /* nanosleep */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lfpat.h"

enum { LIVE = 8, REPLACEMENTS = 200, MAX_SUBS = LIVE + REPLACEMENTS, PUBLISHERS = 2 };

typedef struct subscriber {
    int id;
    _Atomic long received;
} subscriber;

typedef struct subs { size_t n; subscriber *s[]; } subs;

static lfp_snap registry;
static atomic_bool gone[MAX_SUBS];   /* set once unsubscribe returned */
static atomic_int late_calls, arrays_alloc, arrays_freed;
static atomic_bool stop;

static subs *subs_new(size_t n)
{
    subs *a = malloc(sizeof *a + n * sizeof a->s[0]);
    if (a) {
        a->n = n;
        atomic_fetch_add(&arrays_alloc, 1);
    }
    return a;
}

static void subs_free(void *a, void *arg)
{
    (void)arg;
    atomic_fetch_add(&arrays_freed, 1);
    free(a);
}

static void handler(subscriber *s, long msg)
{
    (void)msg;
    if (atomic_load(&gone[s->id]))
        atomic_fetch_add(&late_calls, 1);
    atomic_fetch_add(&s->received, 1);   /* the state a late call would touch after free */
}

static int with_added(const void *cur, void **next, void *arg)
{
    const subs *a = cur;
    subs *b = subs_new(a->n + 1);
    if (!b)
        return ENOMEM;
    memcpy(b->s, a->s, a->n * sizeof a->s[0]);
    b->s[a->n] = arg;
    *next = b;
    return 0;
}

static int without(const void *cur, void **next, void *arg)
{
    const subs *a = cur;
    subs *b = subs_new(a->n);   /* room for all; one fewer used */
    if (!b)
        return ENOMEM;
    size_t k = 0;
    for (size_t i = 0; i < a->n; i++)
        if (a->s[i] != arg)
            b->s[k++] = a->s[i];
    if (k == a->n) {
        subs_free(b, NULL);
        return ENOENT;   /* not subscribed: nothing to publish */
    }
    b->n = k;
    *next = b;
    return 0;
}

static int subscribe(subscriber *s)
{
    return lfp_snap_update(&registry, with_added, s, LFP_FOREVER, NULL);
}

/* Returns once no publish can reach s any more. */
static int unsubscribe(subscriber *s)
{
    return lfp_snap_update(&registry, without, s, LFP_FOREVER, NULL);
}

static void *publisher(void *arg)
{
    (void)arg;
    long msg = 0;
    while (!atomic_load(&stop)) {
        const subs *a = lfp_snap_enter(&registry);
        for (size_t i = 0; i < a->n; i++)
            handler(a->s[i], msg);
        lfp_snap_leave(&registry);
        msg++;
    }
    return NULL;
}

static subscriber *new_sub(int id)
{
    subscriber *s = malloc(sizeof *s);
    if (!s)
        abort();
    s->id = id;
    atomic_init(&s->received, 0);
    return s;
}

int main(void)
{
    if (lfp_snap_init(&registry, subs_new(0), subs_free, NULL) != 0)
        return 1;
    subscriber *live[LIVE];
    int next_id = 0, failures = 0, never_called = 0;
    for (int i = 0; i < LIVE; i++)
        failures += subscribe(live[i] = new_sub(next_id++)) != 0;
    pthread_t p[PUBLISHERS];
    for (int i = 0; i < PUBLISHERS; i++)
        pthread_create(&p[i], NULL, publisher, NULL);
    for (int r = 0; r < REPLACEMENTS; r++) {
        int k = r % LIVE;
        subscriber *old = live[k];
        /* Wait (bounded, 1 s) until the subscriber was called once, so the
         * check below is not vacuous; not needed for correctness. */
        for (int t = 0; t < 10000 && atomic_load(&old->received) == 0; t++) {
            struct timespec tick = { 0, 100000 };
            nanosleep(&tick, NULL);
        }
        never_called += atomic_load(&old->received) == 0;
        failures += unsubscribe(old) != 0;
        atomic_store(&gone[old->id], true);
        free(old);   /* no publish can reach it now (ASan checks) */
        failures += subscribe(live[k] = new_sub(next_id++)) != 0;
    }
    atomic_store(&stop, true);
    for (int i = 0; i < PUBLISHERS; i++)
        pthread_join(p[i], NULL);
    for (int i = 0; i < LIVE; i++) {
        failures += unsubscribe(live[i]) != 0;
        failures += unsubscribe(live[i]) != ENOENT;   /* twice: not subscribed */
        free(live[i]);
    }
    lfp_snap_destroy(&registry);
    printf("pubsub: %d subscribers replaced under %d publishers; %d late handler calls "
           "(want 0); %d never called\n", REPLACEMENTS, PUBLISHERS, atomic_load(&late_calls),
           never_called);
    printf("pubsub: %d registry arrays allocated, %d freed\n", atomic_load(&arrays_alloc),
           atomic_load(&arrays_freed));
    bool ok = failures == 0 && atomic_load(&late_calls) == 0 &&
              atomic_load(&arrays_alloc) == atomic_load(&arrays_freed);
    printf("pubsub: %s\n", ok ? "all checks passed" : "FAILED");
    return ok ? 0 : 1;
}
