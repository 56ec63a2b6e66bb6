/* SPDX-License-Identifier: BSD-2-Clause */
/* Negative control for stress_snap: lfp_snap's publish minus its grace
 * period. The writer publishes (asynchronously, so nothing waits) and frees
 * the old version itself at once, while readers inside read sections read
 * it with plain loads. AddressSanitizer must report a heap-use-after-free
 * and ThreadSanitizer a race on the freed block; scripts/test fails if not.
 * It shows that stress_snap's checks are able to see an early free. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include "lfpat.h"

typedef struct { long a[8]; } version;

static lfp_snap snap;
static atomic_int stop;
static long sink;

static void no_free(void *v, void *arg) { (void)v, (void)arg; }

static void *reader(void *arg)
{
    (void)arg;
    while (!atomic_load(&stop)) {
        const version *v = lfp_snap_enter(&snap);
        long sum = 0;
        for (int r = 0; r < 64; r++)
            for (int i = 0; i < 8; i++)
                sum += v->a[i];
        sink += sum;
        lfp_snap_leave(&snap);
    }
    return NULL;
}

int main(void)
{
    lfp_snap_init(&snap, calloc(1, sizeof(version)), no_free, NULL);
    pthread_t t;
    pthread_create(&t, NULL, reader, NULL);
    for (int i = 0; i < 2000000; i++) {
        /* The bug under test: free at once instead of after a grace period.
         * relaxed: single writer, reading its own last store. */
        version *old = atomic_load_explicit(&snap.cur, memory_order_relaxed);
        lfp_snap_publish_async(&snap, calloc(1, sizeof(version)));
        free(old);
        if (i % 64 == 0)
            lfp_snap_reclaim(&snap);   /* keep the (no-op) retire list short */
    }
    atomic_store(&stop, 1);
    pthread_join(t, NULL);
    printf("no report: the early free went unseen (sink %ld)\n", sink);
    return 0;
}
