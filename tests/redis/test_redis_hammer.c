/* Several processes x threads hammer one lfp_rbucket key on a real server.
 * Upper bound: E is the server's TIME from before the workers are released
 * to after they all finished (it covers every take). Lower bound: E' is the
 * window in which every thread was demanding (latest first-take return to
 * earliest last-take end, CLOCK_MONOTONIC, one host), so start-up and
 * shut-down lag of the processes does not count. Checks:
 *   plain:   admitted <= burst + rate*E + 1, admitted >= 0.99*(burst + rate*E')
 *   leasing: the same upper bound (every leased token was admitted by the
 *            server); lower bound minus the documented slack P*lease_batch
 *            (tokens leased but unspent at the end). */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fixture.h"
#include "lfpat/redis.h"

enum { PROCS = 3, THREADS = 3 };
#define RATE 400.0
/* The bucket only loses tokens while full, i.e. after burst/rate = 250 ms in
 * which nobody could take (every client and the server descheduled): the
 * burst is sized so that scheduling stalls of an overloaded 2-core machine
 * under TSan do not cost the 1% the lower bound allows. */
#define BURST 100u
#define RUN_NS 2000000000

struct worker {
    lfp_rbucket *b, *warm;
    pthread_barrier_t *go;
    long admitted, errors;
    /* CLOCK_MONOTONIC: after the first take returned (the thread's pool
     * connection is made, and the server has taken from the bucket, so it
     * is no longer full and idle), and after the last. */
    int64_t first, last;
};

static void *hammer(void *arg)
{
    struct worker *w = arg;
    /* Connect this thread's pool slot before the start (other key). */
    if (lfp_rbucket_take(w->warm, 1, NULL) != 0) w->errors++;
    pthread_barrier_wait(w->go);
    int64_t end = lfp_after(RUN_NS);
    w->first = 0;
    while ((w->last = lfp_now()) < end) {
        struct lfp_rbucket_result res;
        int e = lfp_rbucket_take(w->b, 1, &res);
        if (!w->first) w->first = lfp_now();
        if (e == 0) w->admitted++;
        else if (e != EAGAIN || res.degraded) w->errors++;
    }
    return NULL;
}

struct job {
    struct rfix *srv;
    char key[64];
    uint32_t lease;
    int ready, go, out; /* pipes: child -> parent, parent -> child, sums */
};

/* One client process: THREADS threads on one pool, released by the parent. */
static int child(void *arg)
{
    struct job *j = arg;
    lfp_rbucket b, warm;
    struct lfp_rbucket_opts o = { .on_failure = LFP_RFAIL_ERROR, .lease_batch = j->lease };
    struct lfp_redis_opts ro = { .pool_size = THREADS, .command_timeout_ns = 2000000000 };
    lfp_redis *r = rfix_open(j->srv, &ro);
    if (lfp_rbucket_init(&b, r, j->key, RATE, BURST, &o) || lfp_rbucket_init(&warm, r, "warm-up", 1e6, 1000, NULL))
        return 2;
    pthread_barrier_t bar;
    pthread_barrier_init(&bar, NULL, THREADS + 1);
    struct worker w[THREADS];
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++) {
        w[i] = (struct worker){ .b = &b, .warm = &warm, .go = &bar };
        pthread_create(&t[i], NULL, hammer, &w[i]);
    }
    char c = 'r';
    if (write(j->ready, &c, 1) != 1 || read(j->go, &c, 1) != 1) return 3;
    pthread_barrier_wait(&bar);
    long sums[4] = { 0, 0, 0, INT64_MAX }; /* admitted, errors, max first, min last */
    for (int i = 0; i < THREADS; i++) {
        pthread_join(t[i], NULL);
        sums[0] += w[i].admitted;
        sums[1] += w[i].errors;
        sums[2] = w[i].first > sums[2] ? w[i].first : sums[2];
        sums[3] = w[i].last < sums[3] ? w[i].last : sums[3];
    }
    if (write(j->out, sums, sizeof sums) != sizeof sums) return 4;
    pthread_barrier_destroy(&bar);
    lfp_rbucket_destroy(&b);
    lfp_rbucket_destroy(&warm);
    lfp_redis_close(r);
    return 0;
}

static void run(struct rfix *srv, uint32_t lease)
{
    int ready[2], go[2], out[2];
    if (pipe(ready) || pipe(go) || pipe(out)) exit(1);
    struct job j = { .srv = srv, .lease = lease, .ready = ready[1], .go = go[0], .out = out[1] };
    snprintf(j.key, sizeof j.key, "hammer-%d-%u", (int)getpid(), lease);
    pid_t pids[PROCS];
    for (int p = 0; p < PROCS; p++) pids[p] = rfix_fork(child, &j);
    char c;
    for (int p = 0; p < PROCS; p++) RFIX_CHECK(read(ready[0], &c, 1) == 1);
    int64_t t0 = rfix_time_us(srv);
    for (int p = 0; p < PROCS; p++) RFIX_CHECK(write(go[1], "g", 1) == 1);
    long admitted = 0, errors = 0, first = 0, last = INT64_MAX;
    for (int p = 0; p < PROCS; p++) {
        long sums[4];
        RFIX_CHECK(read(out[0], sums, sizeof sums) == sizeof sums);
        admitted += sums[0];
        errors += sums[1];
        first = sums[2] > first ? sums[2] : first;
        last = sums[3] < last ? sums[3] : last;
    }
    int64_t t1 = rfix_time_us(srv);
    for (int p = 0; p < PROCS; p++) RFIX_CHECK(rfix_join(pids[p]));
    for (int i = 0; i < 2; i++) {
        close(ready[i]);
        close(go[i]);
        close(out[i]);
    }
    double bound = BURST + RATE * (double)(t1 - t0) / 1e6;
    double lower = 0.99 * (BURST + RATE * (double)(last - first) / 1e9) - (double)PROCS * lease;
    printf("lease %u: %d procs x %d threads, %.3f s (server TIME), %.3f s all demanding: "
           "admitted %ld, upper bound %.1f, lower bound %.1f, errors %ld\n",
           lease, PROCS, THREADS, (double)(t1 - t0) / 1e6, (double)(last - first) / 1e9, admitted,
           bound + 1, lower, errors);
    fflush(stdout);
    RFIX_CHECK(errors == 0);
    RFIX_CHECK(last > first);
    RFIX_CHECK(admitted <= bound + 1);
    RFIX_CHECK(admitted >= lower);
}

int main(void)
{
    struct rfix srv;
    rfix_start(&srv, NULL);
    run(&srv, 0);
    run(&srv, 8);
    rfix_stop(&srv);
    return rfix_report("test_redis_hammer");
}
