/* SPDX-License-Identifier: BSD-2-Clause */
/* Several processes x threads contend for one lfp_rsem with random weights
 * on a real server. Checks:
 *   exclusion: the weight held never exceeds the capacity — every holder
 *              adds its weight to a server counter (INCRBY, whose reply is
 *              the total held by live holders) and removes it before it
 *              releases;
 *   liveness:  every blocking acquire succeeds before its deadline
 *              (RFIX_PATIENT_NS: a hang, not a slow machine, misses it;
 *              strict FIFO must not deadlock or starve the large weights;
 *              each thread cycles through the weights 1..CAPACITY from its
 *              own start, so every weight is asked for at once);
 *   cleanup:   afterwards nothing is held and no ticket is queued. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "fixture.h"
#include "lfpat/redis.h"

enum { PROCS = 3, THREADS = 3, CAPACITY = 4 };
#define RUN_NS INT64_C(1000000000)
/* Longer than any run: a holder starved by a loaded machine keeps its
 * lease, so a weight over the capacity is always a bug. */
#define LEASE_NS INT64_C(1000000000000)

struct job {
    struct rfix *srv;
    char name[64];
    int out;  /* pipe: a child's sums */
    int proc; /* this child's index (the job is copied at the fork) */
};

struct worker {
    struct job *j;
    lfp_rsem *s;
    int index; /* global thread index: where its weight cycle starts */
    long ops, weight_ops[CAPACITY + 1], errors, over;
};

/* Add d to the shared held-weight counter; returns the new total or -1. */
static long long add_held(redisContext *c, const char *name, long long d)
{
    redisReply *rep = redisCommand(c, "INCRBY %s:excl %lld", name, d);
    long long v = rep && rep->type == REDIS_REPLY_INTEGER ? rep->integer : -1;
    if (rep) freeReplyObject(rep);
    return v;
}

static void *contend(void *arg)
{
    struct worker *w = arg;
    redisContext *c = rfix_connect(w->j->srv);
    int64_t end = lfp_after(RUN_NS);
    while (lfp_now() < end) {
        int64_t weight = 1 + (w->ops + w->index) % CAPACITY;
        lfp_rsem_lease l;
        if (lfp_rsem_acquire(w->s, weight, &l, lfp_after(RFIX_PATIENT_NS), NULL) != 0) {
            w->errors++;
            continue;
        }
        long long total = add_held(c, w->j->name, weight);
        w->over += total < 0 || total > CAPACITY;
        w->errors += add_held(c, w->j->name, -weight) < 0;
        w->errors += lfp_rsem_release(w->s, &l) != 0;
        w->ops++;
        w->weight_ops[weight]++;
    }
    redisFree(c);
    return NULL;
}

/* One process: THREADS threads sharing one handle. Patient timeouts: the
 * checks are exclusion and liveness, not latency, and on a loaded machine
 * the default 200 ms can pass before a starved server answers (a release is
 * not retried, so it would count as an error). */
static int child(void *arg)
{
    struct job *j = arg;
    struct lfp_redis_opts o = rfix_patient;
    o.pool_size = THREADS;
    lfp_redis *r = rfix_open(j->srv, &o);
    lfp_rsem s;
    if (lfp_rsem_init(&s, r, j->name, CAPACITY, LEASE_NS)) return 2;
    struct worker w[THREADS];
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++) {
        w[i] = (struct worker){ .j = j, .s = &s, .index = j->proc * THREADS + i };
        pthread_create(&t[i], NULL, contend, &w[i]);
    }
    long sums[3 + CAPACITY] = { 0 }; /* ops, errors, over, ops per weight 1..CAPACITY */
    for (int i = 0; i < THREADS; i++) {
        pthread_join(t[i], NULL);
        sums[0] += w[i].ops;
        sums[1] += w[i].errors;
        sums[2] += w[i].over;
        for (int k = 1; k <= CAPACITY; k++) sums[2 + k] += w[i].weight_ops[k];
    }
    lfp_rsem_destroy(&s);
    lfp_redis_close(r);
    return write(j->out, sums, sizeof sums) == sizeof sums ? 0 : 4;
}

int main(void)
{
    struct rfix srv;
    rfix_start(&srv, NULL);
    int out[2];
    if (pipe(out)) return 1;
    struct job j = { .srv = &srv, .out = out[1] };
    snprintf(j.name, sizeof j.name, "rsem-hammer-%d", (int)getpid());
    pid_t pids[PROCS];
    for (int p = 0; p < PROCS; p++) {
        j.proc = p;
        pids[p] = rfix_fork(child, &j);
    }
    long total[3 + CAPACITY] = { 0 };
    for (int p = 0; p < PROCS; p++) {
        long sums[3 + CAPACITY];
        RFIX_CHECK(read(out[0], sums, sizeof sums) == sizeof sums);
        for (int k = 0; k < 3 + CAPACITY; k++) total[k] += sums[k];
    }
    for (int p = 0; p < PROCS; p++) RFIX_CHECK(rfix_join(pids[p]));

    lfp_redis *r = rfix_open(&srv, NULL);
    lfp_rsem s;
    RFIX_CHECK(lfp_rsem_init(&s, r, j.name, CAPACITY, LEASE_NS) == 0);
    printf("%d procs x %d threads, capacity %d, %.1f s: %ld acquisitions (by weight 1..4: %ld %ld %ld %ld), "
           "errors %ld, over capacity %ld, held after %lld, waiting after %lld\n",
           PROCS, THREADS, CAPACITY, RUN_NS / 1e9, total[0], total[3], total[4], total[5], total[6], total[1],
           total[2], (long long)lfp_rsem_held(&s), (long long)lfp_rsem_waiting(&s));
    RFIX_CHECK(total[1] == 0);
    RFIX_CHECK(total[2] == 0);
    for (int k = 1; k <= CAPACITY; k++) RFIX_CHECK(total[2 + k] > 0); /* every weight got through */
    RFIX_CHECK(lfp_rsem_held(&s) == 0);
    RFIX_CHECK(lfp_rsem_waiting(&s) == 0);
    lfp_rsem_destroy(&s);
    lfp_redis_close(r);
    close(out[0]);
    close(out[1]);
    rfix_stop(&srv);
    return rfix_report("test_redis_rsem_hammer");
}
