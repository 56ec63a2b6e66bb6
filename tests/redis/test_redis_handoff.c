/* SPDX-License-Identifier: BSD-2-Clause */
/* Cross-process hand-off of an lfp_rsem of capacity 1: PROCS processes
 * (fork, one handle each, so no local wake-up helps) take turns for
 * RUN_NS. Checks, against the specification rather than a twin:
 *   exclusion: at most one holder at a time (a counter in shared memory
 *              that each holder increments after its grant and decrements
 *              before its release must read 1);
 *   fencing:   each grant's token is larger than every token granted
 *              before it (the holders are serialised by the semaphore, so
 *              the last token seen, in shared memory, is the previous
 *              holder's: what a protected resource would compare);
 *   liveness:  every acquire succeeds before its deadline (RFIX_PATIENT_NS:
 *              a lost wake-up with no poll to repair it would miss it);
 *   cleanup:   afterwards nothing is held and nothing is queued.
 * It prints the hand-offs per second (a measurement, not checked: the
 * machine may be loaded). */
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fixture.h"
#include "lfpat/redis.h"

enum { PROCS = 4 };
#define RUN_NS INT64_C(2000000000)
/* Longer than any run: a holder starved by a loaded machine keeps its
 * lease, so two holders at once is always a bug. */
#define LEASE_NS INT64_C(1000000000000)

struct shared {
    _Atomic int inside;          /* holders now */
    _Atomic uint64_t last_token; /* the latest holder's fencing token */
    _Atomic long grants, errors, overlaps, stale_tokens;
};

struct job {
    struct rfix *srv;
    struct shared *sh;
    const char *name;
};

static int take_turns(void *arg)
{
    struct job *j = arg;
    struct shared *sh = j->sh;
    lfp_redis *r = rfix_open(j->srv, NULL);
    lfp_rsem s;
    if (lfp_rsem_init(&s, r, j->name, 1, LEASE_NS) != 0) return 1;
    for (int64_t end = lfp_after(RUN_NS); lfp_now() < end;) {
        lfp_rsem_lease l;
        if (lfp_rsem_acquire(&s, 1, &l, lfp_after(RFIX_PATIENT_NS), NULL) != 0) {
            atomic_fetch_add(&sh->errors, 1);
            break;
        }
        if (atomic_fetch_add(&sh->inside, 1) != 0) atomic_fetch_add(&sh->overlaps, 1);
        uint64_t prev = atomic_exchange(&sh->last_token, l.token);
        if (l.token <= prev) atomic_fetch_add(&sh->stale_tokens, 1);
        atomic_fetch_add(&sh->grants, 1);
        atomic_fetch_sub(&sh->inside, 1);
        if (lfp_rsem_release(&s, &l) != 0) atomic_fetch_add(&sh->errors, 1);
    }
    lfp_rsem_destroy(&s);
    lfp_redis_close(r);
    return 0;
}

int main(void)
{
    struct rfix srv;
    rfix_start(&srv, NULL);
    struct shared *sh = mmap(NULL, sizeof *sh, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (sh == MAP_FAILED) {
        perror("mmap");
        return 1;
    }
    *sh = (struct shared){ 0 };
    struct job j = { &srv, sh, "handoff" };
    pid_t kids[PROCS];
    int64_t start = lfp_now();
    for (int i = 0; i < PROCS; i++) kids[i] = rfix_fork(take_turns, &j);
    for (int i = 0; i < PROCS; i++) RFIX_CHECK(rfix_join(kids[i]));
    double secs = (double)(lfp_now() - start) / 1e9;
    long grants = atomic_load(&sh->grants);
    RFIX_CHECK(grants > 0);
    RFIX_CHECK(atomic_load(&sh->errors) == 0);
    RFIX_CHECK(atomic_load(&sh->overlaps) == 0);
    RFIX_CHECK(atomic_load(&sh->stale_tokens) == 0);

    lfp_redis *r = rfix_open(&srv, NULL);
    lfp_rsem s;
    RFIX_CHECK(lfp_rsem_init(&s, r, "handoff", 1, LEASE_NS) == 0);
    RFIX_CHECK(lfp_rsem_held(&s) == 0);
    RFIX_CHECK(lfp_rsem_waiting(&s) == 0);
    lfp_rsem_destroy(&s);
    lfp_redis_close(r);
    printf("rsem hand-off: %ld grants in %.2f s across %d processes, capacity 1: %.0f grants/s\n",
           grants, secs, PROCS, (double)grants / secs);
    rfix_stop(&srv);
    return rfix_report("test_redis_handoff");
}
