/* SPDX-License-Identifier: BSD-2-Clause */
/* lfpat-redis benchmarks: rate-limit decisions per second at 1, 2 and 4
 * client threads against a redis-server this program starts itself on a
 * free loopback port (skipped with a message if none can start).
 *
 *   redis/take/lfp_rbucket            one EVALSHA round trip per decision
 *   redis/take/lfp_rbucket_pipelined  16 decisions per round trip
 *   redis/take/lfp_rbucket_leased     lease batches of 64 tokens, local CAS
 *   redis/take/hiredis_ping           a bare PING round trip (the network
 *                                     floor: what one round trip costs)
 *   redis/take/lfp_bucket             the in-process lock-free lfp_bucket
 *                                     (ratelimit.h; also the LFP_RFAIL_LOCAL
 *                                     fallback): what a decision costs
 *                                     without the network
 * The rate is set so high (1e9/s, burst 1e6) that decisions are mostly
 * "allowed": the cost measured is the decision, not the throttling.
 *
 *   redis/handoff/lfp_rsem_procs/threads:4
 *                                     an lfp_rsem of capacity 1 passed
 *                                     between 4 processes (fork, a pool and
 *                                     handle each, so only the server can
 *                                     wake a waiter): grants per second.
 *                                     Includes each round's fork and pool
 *                                     setup. On the 2-core dev machine
 *                                     (test_redis_handoff, 2 s runs), waiters
 *                                     polling (762fb4c, before the server-side
 *                                     wake): 71/s idle, 41/s at load 11; with
 *                                     BLPOP wake lists: 5300-6200/s idle,
 *                                     1400-2000/s at load 11. */
#ifdef LFP_HAVE_REDIS
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "fixture.h"
#include "lfpat/redis.h"
#include "shim/shim.h"

#define PIPE 16
#define RATE 1e9
#define BURST 1000000u

static struct rfix srv;
static lfp_redis *pool;
static lfp_rbucket plain, leased;
static lfp_bucket local;
static bool ready;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void stop_server(void)
{
    lfp_rbucket_destroy(&plain);
    lfp_rbucket_destroy(&leased);
    lfp_redis_close(pool);
    rfix_stop(&srv);
}

/* Start the server on first use (not at registration: most runs filter
 * the redis cases out). */
static void start_server(void)
{
    if (!rfix_try_start(&srv)) return;
    struct lfp_redis_opts o = { .pool_size = 4, .command_timeout_ns = 2000000000 };
    struct lfp_rbucket_opts lo = { .lease_batch = 64 };
    if (lfp_redis_open(&pool, srv.url, &o) || lfp_rbucket_init(&plain, pool, "bench", RATE, BURST, NULL) ||
        lfp_rbucket_init(&leased, pool, "bench-leased", RATE, BURST, &lo)) {
        rfix_stop(&srv);
        return;
    }
    ready = true;
    atexit(stop_server);
}

static bool need_server(lfpb_state *st)
{
    pthread_once(&once, start_server);
    if (!ready) lfpb_skip_with_error(st, "no redis-server could be started (install redis-server: scripts/deps)");
    return ready;
}

static void bm_take(lfpb_state *st, void *arg)
{
    if (!need_server(st)) return;
    lfp_rbucket *b = arg;
    int64_t errors = 0;
    while (lfpb_keep_running(st)) {
        int e = lfp_rbucket_take(b, 1, NULL);
        errors += e != 0 && e != EAGAIN;
    }
    lfpb_set_items(st, lfpb_iterations(st));
    lfpb_set_counter(st, "errors", (double)errors);
}

static void bm_pipelined(lfpb_state *st, void *arg)
{
    (void)arg;
    if (!need_server(st)) return;
    int d[PIPE];
    while (lfpb_keep_running_batch(st, PIPE)) lfpb_do_not_optimize(&(int){ lfp_rbucket_take_pipelined(&plain, 1, PIPE, d) });
    lfpb_set_items(st, lfpb_iterations(st));
}

static void bm_ping(lfpb_state *st, void *arg)
{
    (void)arg;
    if (!need_server(st)) return;
    redisContext *c = rfix_connect(&srv); /* one connection per thread */
    while (lfpb_keep_running(st)) {
        redisReply *r = redisCommand(c, "PING");
        if (r) freeReplyObject(r);
    }
    redisFree(c);
    lfpb_set_items(st, lfpb_iterations(st));
}

enum { HANDOFF_PROCS = 4, HANDOFF_TURNS = 256 };

/* One process's turns: acquire, release, HANDOFF_TURNS times. */
static int handoff_turns(void *arg)
{
    (void)arg;
    lfp_redis *r = NULL;
    lfp_rsem s;
    struct lfp_redis_opts o = { .pool_size = 1, .command_timeout_ns = 2000000000 };
    if (lfp_redis_open(&r, srv.url, &o) || lfp_rsem_init(&s, r, "bench-handoff", 1, INT64_C(60000000000))) return 1;
    int bad = 0;
    for (int i = 0; i < HANDOFF_TURNS && !bad; i++) {
        lfp_rsem_lease l;
        bad = lfp_rsem_acquire(&s, 1, &l, lfp_after(INT64_C(60000000000)), NULL) || lfp_rsem_release(&s, &l);
    }
    lfp_rsem_destroy(&s);
    lfp_redis_close(r);
    return bad;
}

static void bm_handoff(lfpb_state *st, void *arg)
{
    (void)arg;
    if (!need_server(st)) return;
    int64_t errors = 0;
    while (lfpb_keep_running(st)) {
        int64_t t0 = lfp_now();
        pid_t kids[HANDOFF_PROCS];
        for (int i = 0; i < HANDOFF_PROCS; i++) kids[i] = rfix_fork(handoff_turns, NULL);
        for (int i = 0; i < HANDOFF_PROCS; i++) errors += !rfix_join(kids[i]);
        lfpb_set_iteration_time(st, (double)(lfp_now() - t0) / 1e9);
    }
    lfpb_set_items(st, lfpb_iterations(st) * HANDOFF_PROCS * HANDOFF_TURNS);
    lfpb_set_counter(st, "errors", (double)errors);
}

static void bm_local(lfpb_state *st, void *arg)
{
    (void)arg; /* no server needed: the in-process baseline */
    while (lfpb_keep_running_batch(st, 256))
        for (int i = 0; i < 256; i++) lfpb_do_not_optimize(&(int){ lfp_bucket_take(&local, 1) });
    lfpb_set_items(st, lfpb_iterations(st));
}

LFPB_REGISTER(redis)
{
    static const int threads[] = { 1, 2, 4 };
    lfp_bucket_init(&local, RATE, BURST); /* valid constants: cannot fail */
    lfpb_register_manual("redis/handoff/lfp_rsem_procs/threads:4", bm_handoff, NULL);
    for (unsigned i = 0; i < sizeof threads / sizeof threads[0]; i++) {
        int t = threads[i];
        lfpb_register("redis/take/lfp_rbucket", bm_take, &plain, t);
        lfpb_register("redis/take/lfp_rbucket_pipelined", bm_pipelined, NULL, t);
        lfpb_register("redis/take/lfp_rbucket_leased", bm_take, &leased, t);
        lfpb_register("redis/take/hiredis_ping", bm_ping, NULL, t);
        lfpb_register("redis/take/lfp_bucket", bm_local, NULL, t);
    }
}
#else
typedef int lfpb_redis_not_built; /* hiredis not found: no redis benchmarks */
#endif
