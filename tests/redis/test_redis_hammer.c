/* Several processes x threads hammer one lfp_rbucket key on a real server.
 * Elapsed time is taken from the server's TIME just before the workers are
 * released and just after they all finished. Checks:
 *   plain:   burst + rate*E + 1 >= admitted >= 0.99 * (burst + rate*E)
 *   leasing: the same upper bound (every leased token was admitted by the
 *            server); lower bound minus the documented slack P*lease_batch
 *            (tokens leased but unspent at the end). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fixture.h"
#include "lfpat/redis.h"

enum { PROCS = 3, THREADS = 3 };
#define RATE 400.0
#define BURST 20u
#define RUN_NS 2000000000

static int failures;
#define CHECK(cond)                                                                                  \
    do {                                                                                             \
        if (!(cond)) {                                                                               \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);                 \
            failures++;                                                                              \
        }                                                                                            \
    } while (0)

struct worker {
    lfp_rbucket *b;
    pthread_barrier_t *go;
    long admitted, errors;
};

static void *hammer(void *arg)
{
    struct worker *w = arg;
    pthread_barrier_wait(w->go);
    int64_t end = lfp_after(RUN_NS);
    while (lfp_now() < end) {
        struct lfp_rbucket_result res;
        int e = lfp_rbucket_take(w->b, 1, &res);
        if (e == 0) w->admitted++;
        else if (e != EAGAIN || res.degraded) w->errors++;
    }
    return NULL;
}

/* One client process: THREADS threads on one pool, released by the parent. */
static void child(const char *url, const char *key, uint32_t lease, int ready, int go, int out)
{
    lfp_redis *r;
    lfp_rbucket b;
    struct lfp_rbucket_opts o = { .on_failure = LFP_RFAIL_ERROR, .lease_batch = lease };
    struct lfp_redis_opts ro = { .pool_size = THREADS, .command_timeout_ns = 2000000000 };
    if (lfp_redis_open(&r, url, &ro) || lfp_rbucket_init(&b, r, key, RATE, BURST, &o)) _exit(2);
    pthread_barrier_t bar;
    pthread_barrier_init(&bar, NULL, THREADS + 1);
    struct worker w[THREADS];
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++) {
        w[i] = (struct worker){ .b = &b, .go = &bar };
        pthread_create(&t[i], NULL, hammer, &w[i]);
    }
    char c = 'r';
    if (write(ready, &c, 1) != 1 || read(go, &c, 1) != 1) _exit(3);
    pthread_barrier_wait(&bar);
    long sums[2] = { 0, 0 };
    for (int i = 0; i < THREADS; i++) {
        pthread_join(t[i], NULL);
        sums[0] += w[i].admitted;
        sums[1] += w[i].errors;
    }
    if (write(out, sums, sizeof sums) != sizeof sums) _exit(4);
    pthread_barrier_destroy(&bar);
    lfp_rbucket_destroy(&b);
    lfp_redis_close(r);
    _exit(0);
}

static void run(const struct rfix *srv, uint32_t lease)
{
    char key[64];
    snprintf(key, sizeof key, "hammer-%d-%u", (int)getpid(), lease);
    int ready[2], go[2], out[2];
    if (pipe(ready) || pipe(go) || pipe(out)) exit(1);
    pid_t pids[PROCS];
    for (int p = 0; p < PROCS; p++) {
        pids[p] = fork();
        if (pids[p] == 0) child(srv->url, key, lease, ready[1], go[0], out[1]);
    }
    char c;
    for (int p = 0; p < PROCS; p++) CHECK(read(ready[0], &c, 1) == 1);
    int64_t t0 = rfix_time_us(srv);
    for (int p = 0; p < PROCS; p++) CHECK(write(go[1], "g", 1) == 1);
    long admitted = 0, errors = 0;
    for (int p = 0; p < PROCS; p++) {
        long sums[2];
        CHECK(read(out[0], sums, sizeof sums) == sizeof sums);
        admitted += sums[0];
        errors += sums[1];
    }
    int64_t t1 = rfix_time_us(srv);
    for (int p = 0; p < PROCS; p++) {
        int st;
        CHECK(waitpid(pids[p], &st, 0) == pids[p] && WIFEXITED(st) && WEXITSTATUS(st) == 0);
    }
    for (int i = 0; i < 2; i++) {
        close(ready[i]);
        close(go[i]);
        close(out[i]);
    }
    double bound = BURST + RATE * (double)(t1 - t0) / 1e6;
    double slack = (double)PROCS * lease;
    printf("lease %u: %d procs x %d threads, %.3f s (server TIME): admitted %ld, bound %.1f, "
           "lower %.1f, errors %ld\n",
           lease, PROCS, THREADS, (double)(t1 - t0) / 1e6, admitted, bound + 1, 0.99 * bound - slack, errors);
    CHECK(errors == 0);
    CHECK(admitted <= bound + 1);
    CHECK(admitted >= 0.99 * bound - slack);
}

int main(void)
{
    struct rfix srv;
    rfix_start(&srv, NULL);
    run(&srv, 0);
    run(&srv, 8);
    rfix_stop(&srv);
    printf("test_redis_hammer: %d failures\n", failures);
    return failures ? 1 : 0;
}
