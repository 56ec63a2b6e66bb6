/* SPDX-License-Identifier: BSD-2-Clause */
/* Config hot-reload with lfp_snap — the Mutex article's "safe updates to
 * application config", without a lock on the workers' path.
 *
 * The config is an immutable struct in an lfp_snap. Half the workers open
 * a read section per request, use the config and leave: no lock, no shared
 * write. The other half use the quiescent-state flavour: they stay online,
 * read the config with lfp_snap_get alone (one load per request) and report
 * a quiescent state every 16 requests, when they hold no config.
 * A reload thread builds a new config on SIGHUP or when its timer fires
 * (sigtimedwait: the signal is taken synchronously by that thread, never in
 * a handler, so the reload may allocate and block) and publishes it; the
 * publish waits (with a deadline) until no worker can still see the old one
 * and frees it.
 *
 * The run: 4 workers; the main thread sends SIGHUP 20 times while the timer
 * reloads in between, 200 reloads in all. Checked: every worker sees
 * versions that never decrease; every config a worker sees is whole (its
 * fields derive from its version) and not freed; each retired config is
 * freed exactly once (a freed flag, and frees == reloads, then + 1 after
 * destroy). Exits non-zero if any of that does not hold. */
#define _POSIX_C_SOURCE 200809L   /* sigtimedwait, pthread_sigmask */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lfpat.h"

typedef struct config {
    uint64_t version;
    int max_conns;
    int timeout_ms;
    char name[24];
    bool freed;           /* set by the free function just before free() */
} config;

enum { WORKERS = 4, RELOADS = 200, SIGHUPS = 20 };

static lfp_snap cfg;
static atomic_int frees, failures, by_signal, by_timer;
static atomic_bool done;

static config *config_new(uint64_t version)
{
    config *c = malloc(sizeof *c);
    if (!c)
        abort();
    c->version = version;
    c->max_conns = (int)(version % 64) + 1;
    c->timeout_ms = (int)(version * 10 % 1000);
    snprintf(c->name, sizeof c->name, "config-%llu", (unsigned long long)version);
    c->freed = false;
    return c;
}

static bool config_whole(const config *c)
{
    char want[24];
    snprintf(want, sizeof want, "config-%llu", (unsigned long long)c->version);
    return !c->freed && c->max_conns == (int)(c->version % 64) + 1 &&
           c->timeout_ms == (int)(c->version * 10 % 1000) && strcmp(c->name, want) == 0;
}

static void config_free(void *p, void *arg)
{
    (void)arg;
    config *c = p;
    if (c->freed)
        atomic_fetch_add(&failures, 1);   /* freed twice */
    c->freed = true;
    atomic_fetch_add(&frees, 1);
    free(c);
}

/* One request: check the config c (whole, version never going back). */
static void handle(const config *c, uint64_t *last)
{
    if (!config_whole(c) || c->version < *last) {
        fprintf(stderr, "worker saw version %llu after %llu (or a broken config)\n",
                (unsigned long long)c->version, (unsigned long long)*last);
        atomic_fetch_add(&failures, 1);
    }
    *last = c->version;
}

static void *worker(void *arg)
{
    bool qsbr = (uintptr_t)arg % 2 == 1;
    uint64_t last = 0, requests = 0;
    if (qsbr && lfp_snap_online() != 0)
        atomic_fetch_add(&failures, 1);
    while (!atomic_load(&done)) {
        if (qsbr) {
            handle(lfp_snap_get(&cfg), &last);
            if (++requests % 16 == 0 && lfp_snap_quiescent() != 0)
                atomic_fetch_add(&failures, 1);
        } else {
            handle(lfp_snap_enter(&cfg), &last);
            lfp_snap_leave(&cfg);
            requests++;
        }
    }
    if (qsbr && lfp_snap_offline() != 0)   /* before the thread exits */
        atomic_fetch_add(&failures, 1);
    return (void *)(uintptr_t)requests;
}

static void *reloader(void *arg)
{
    sigset_t *hup = arg;
    for (uint64_t v = 1; v <= RELOADS; v++) {
        struct timespec timer = { 0, 2 * 1000000 };   /* reload every 2 ms anyway */
        int sig = sigtimedwait(hup, NULL, &timer);
        atomic_fetch_add(sig == SIGHUP ? &by_signal : &by_timer, 1);
        int rc = lfp_snap_publish(&cfg, config_new(v), lfp_after(1000000000), NULL);
        if (rc != 0 && rc != ETIMEDOUT)   /* on timeout the old one is freed later */
            atomic_fetch_add(&failures, 1);
    }
    return NULL;
}

int main(void)
{
    sigset_t hup;
    sigemptyset(&hup);
    sigaddset(&hup, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &hup, NULL);   /* every thread: only sigtimedwait takes it */
    if (lfp_snap_init(&cfg, config_new(0), config_free, NULL) != 0)
        return 1;
    pthread_t w[WORKERS], r;
    for (int i = 0; i < WORKERS; i++)
        pthread_create(&w[i], NULL, worker, (void *)(uintptr_t)i);
    pthread_create(&r, NULL, reloader, &hup);
    for (int i = 0; i < SIGHUPS; i++) {
        kill(getpid(), SIGHUP);
        struct timespec gap = { 0, 3 * 1000000 };
        nanosleep(&gap, NULL);   /* pacing of the demo's signals, not synchronisation */
    }
    pthread_join(r, NULL);
    atomic_store(&done, true);
    uint64_t requests = 0;
    for (int i = 0; i < WORKERS; i++) {
        void *n;
        pthread_join(w[i], &n);
        requests += (uintptr_t)n;
    }
    lfp_snap_reclaim(&cfg);   /* any config a timed-out publish left */
    int freed = atomic_load(&frees);
    lfp_snap_destroy(&cfg);
    printf("config: %d reloads (%d on SIGHUP, %d by timer), %llu requests by %d workers\n",
           RELOADS, atomic_load(&by_signal), atomic_load(&by_timer),
           (unsigned long long)requests, WORKERS);
    printf("config: %d retired configs freed (want %d), %d after destroy (want %d)\n", freed,
           RELOADS, atomic_load(&frees), RELOADS + 1);
    bool ok = atomic_load(&failures) == 0 && freed == RELOADS && atomic_load(&frees) == RELOADS + 1;
    printf("config: %s\n", ok ? "all checks passed" : "FAILED");
    return ok ? 0 : 1;
}
