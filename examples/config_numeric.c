/* SPDX-License-Identifier: BSD-2-Clause */
/* Config hot-reload, the numeric fields — the Mutex article's "safe updates
 * to application config" (an RWMutex around a config struct), done with
 * lfp_seqlock. (The whole config, strings and all, is the lfp_snap half of
 * this seed: examples of lfp_snap.)
 *
 * A handful of numbers every request reads (limits, timeouts, a rate) live
 * in one lfp_seqlock. Worker threads read a snapshot per request: no lock,
 * no shared write, and never a wait for the reloader, even when the
 * reloader is descheduled in the middle of a reload. A reloader thread
 * reloads on SIGHUP or every RELOAD_MS (sigtimedwait), writing a whole new
 * record; an operator's in-place edit ("raise the connection limit by 10")
 * is a begin/commit pair on the current record.
 *
 * Checked, exit non-zero otherwise: every snapshot a worker reads is whole
 * (its fields all come from one generation: the checksum matches); the
 * versions each worker sees never decrease; the final version equals the
 * reloads plus the edits; the final record is the last one written. */
#define _POSIX_C_SOURCE 200809L   /* sigtimedwait, pthread_sigmask, nanosleep */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <time.h>

#include "lfpat.h"

#define WORKERS 4
#define RELOADS 300
#define RELOAD_MS 1
#define EDIT_EVERY 25   /* an operator edit after every 25th reload */

struct numeric_config {
    uint64_t generation;
    uint32_t max_conns;
    uint32_t timeout_ms;
    double rate_per_s;
    uint64_t checksum;   /* over the fields above */
};

static uint64_t checksum_of(const struct numeric_config *c)
{
    uint64_t h = 1469598103934665603ull;
    uint64_t f[4] = { c->generation, c->max_conns, c->timeout_ms, (uint64_t)(c->rate_per_s * 1000) };
    for (int i = 0; i < 4; i++)
        h = (h ^ f[i]) * 1099511628211ull;
    return h;
}

/* The config file's contents for a generation. */
static struct numeric_config load_generation(uint64_t gen)
{
    struct numeric_config c = { gen, (uint32_t)(100 + gen), (uint32_t)(1000 + 2 * gen),
                                0.5 * (double)gen, 0 };
    c.checksum = checksum_of(&c);
    return c;
}

static lfp_seqlock config;
static _Atomic bool stop;
static _Atomic int failures;

struct worker {
    uint64_t requests, last_version;
};

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
        struct numeric_config c;
        uint64_t version;
        lfp_seqlock_read_version(&config, &c, &version);
        if (c.checksum != checksum_of(&c) || version < w->last_version) {
            fprintf(stderr, "worker: torn or older config (version %llu after %llu)\n",
                    (unsigned long long)version, (unsigned long long)w->last_version);
            atomic_fetch_add(&failures, 1);
        }
        w->last_version = version;
        w->requests++;   /* ... serve a request with c ... */
    }
    return NULL;
}

/* Raise max_conns by 10 in place: read-modify-write under the writer lock. */
static void operator_edit(void)
{
    struct numeric_config c;
    if (lfp_seqlock_write_begin(&config, &c, lfp_after(1000000000), NULL) != 0)
        return;
    c.max_conns += 10;
    c.checksum = checksum_of(&c);
    lfp_seqlock_write_commit(&config, &c);
}

/* Reload on SIGHUP or every RELOAD_MS, RELOADS times. */
static void *reloader_main(void *arg)
{
    (void)arg;
    sigset_t hup;
    sigemptyset(&hup);
    sigaddset(&hup, SIGHUP);
    struct timespec tick = { 0, RELOAD_MS * 1000000L };
    unsigned edits = 0, hups = 0;
    for (uint64_t gen = 1; gen <= RELOADS; gen++) {
        if (sigtimedwait(&hup, NULL, &tick) == SIGHUP)
            hups++;
        struct numeric_config c = load_generation(gen);
        if (lfp_seqlock_write(&config, &c, lfp_after(1000000000), NULL) != 0)
            atomic_fetch_add(&failures, 1);
        if (gen % EDIT_EVERY == 0) {
            operator_edit();
            edits++;
        }
    }
    printf("reloader: %d reloads (%u on SIGHUP), %u operator edits\n", RELOADS, hups, edits);
    return (void *)(uintptr_t)edits;
}

int main(void)
{
    /* SIGHUP is taken by sigtimedwait in the reloader, blocked everywhere. */
    sigset_t hup;
    sigemptyset(&hup);
    sigaddset(&hup, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &hup, NULL);

    struct numeric_config initial = load_generation(0);
    if (lfp_seqlock_init(&config, sizeof initial, &initial) != 0)
        return 1;
    pthread_t workers[WORKERS], reloader;
    struct worker w[WORKERS] = { { 0, 0 } };
    for (int i = 0; i < WORKERS; i++)
        pthread_create(&workers[i], NULL, worker_main, &w[i]);
    pthread_create(&reloader, NULL, reloader_main, NULL);
    for (int i = 0; i < 20; i++) {   /* an operator sends a few SIGHUPs */
        struct timespec ts = { 0, 5000000 };
        nanosleep(&ts, NULL);
        pthread_kill(reloader, SIGHUP);
    }
    void *edits;
    pthread_join(reloader, &edits);
    atomic_store(&stop, true);
    uint64_t requests = 0;
    for (int i = 0; i < WORKERS; i++) {
        pthread_join(workers[i], NULL);
        requests += w[i].requests;
    }

    struct numeric_config last, expect = load_generation(RELOADS);
    uint64_t version;
    lfp_seqlock_read_version(&config, &last, &version);
    uint64_t writes = RELOADS + (uint64_t)(uintptr_t)edits;
    bool ok = atomic_load(&failures) == 0 && version == writes &&
              last.generation == RELOADS && last.max_conns == expect.max_conns + 10 * (RELOADS % EDIT_EVERY == 0);
    printf("workers: %llu requests, each on a whole config; final version %llu (%llu writes), "
           "generation %llu, max_conns %u: %s\n",
           (unsigned long long)requests, (unsigned long long)version,
           (unsigned long long)writes, (unsigned long long)last.generation, last.max_conns,
           ok ? "ok" : "FAILED");
    lfp_seqlock_destroy(&config);
    return ok ? 0 : 1;
}
