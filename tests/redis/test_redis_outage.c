/* The server is killed mid-run and restarted, once per failure policy.
 * Worker threads keep taking; every degraded decision must be the policy's
 * documented answer, no call may outlast connect + command timeout (plus a
 * scheduling margin), the LOCAL fallback must stay within its share of the
 * rate, and service must resume (non-degraded decisions) after the restart.
 * Also: lfp_rsem calls return EIO promptly while the server is down. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "fixture.h"
#include "lfpat/redis.h"

enum { THREADS = 2 };
#define TIMEOUT_NS 100000000           /* connect and command timeout */
#define MARGIN_NS 1000000000           /* scheduling margin under sanitizers */
#define RATE 100.0
#define BURST 10u
#define SHARE 0.5

struct shared {
    lfp_rbucket *b;
    enum lfp_rfail policy;
    _Atomic bool stop;
    _Atomic long live, degraded, degraded_allowed, wrong, slowest_ns;
};

static int expected(enum lfp_rfail p)
{
    return p == LFP_RFAIL_OPEN ? 0 : p == LFP_RFAIL_ERROR ? EIO : EAGAIN;
}

static void *worker(void *arg)
{
    struct shared *s = arg;
    while (!atomic_load(&s->stop)) {
        struct lfp_rbucket_result res;
        int64_t t0 = lfp_now();
        int e = lfp_rbucket_take(s->b, 1, &res);
        long took = (long)(lfp_now() - t0);
        long prev = atomic_load(&s->slowest_ns);
        while (took > prev && !atomic_compare_exchange_weak(&s->slowest_ns, &prev, took)) {
        }
        if (!res.degraded) {
            atomic_fetch_add(&s->live, 1);
            if (e != 0 && e != EAGAIN) atomic_fetch_add(&s->wrong, 1);
        } else {
            atomic_fetch_add(&s->degraded, 1);
            bool ok = s->policy == LFP_RFAIL_LOCAL ? (e == 0 || e == EAGAIN) : e == expected(s->policy);
            if (!ok || res.error == 0) atomic_fetch_add(&s->wrong, 1);
            if (e == 0) atomic_fetch_add(&s->degraded_allowed, 1);
        }
        struct timespec pace = { 0, 1000000 }; /* pacing, not synchronisation */
        nanosleep(&pace, NULL);
    }
    return NULL;
}

struct count_at_least {
    _Atomic long *v;
    long want;
};

static bool reached(void *arg)
{
    struct count_at_least *c = arg;
    return atomic_load(c->v) >= c->want;
}

/* Wait (bounded) until the workers' counter *v reaches want. */
static bool await(_Atomic long *v, long want)
{
    return rfix_await(reached, &(struct count_at_least){ v, want }, 10000000000);
}

static void outage(struct rfix *srv, lfp_redis *r, enum lfp_rfail policy, uint32_t lease)
{
    char name[32];
    snprintf(name, sizeof name, "outage-%d-%u", (int)policy, lease);
    lfp_rbucket b;
    struct lfp_rbucket_opts o = { .on_failure = policy, .local_share = SHARE, .lease_batch = lease };
    RFIX_CHECK(lfp_rbucket_init(&b, r, name, RATE, BURST, &o) == 0);
    struct shared s = { .b = &b, .policy = policy };
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++) pthread_create(&t[i], NULL, worker, &s);

    RFIX_CHECK(await(&s.live, 20));
    int64_t down_at = lfp_now();
    rfix_kill(srv);
    RFIX_CHECK(await(&s.degraded, 200));
    lfp_rsem sem;
    lfp_rsem_lease l;
    RFIX_CHECK(lfp_rsem_init(&sem, r, "outage-sem", 2, 1000000000) == 0);
    int64_t t0 = lfp_now();
    RFIX_CHECK(lfp_rsem_try_acquire(&sem, 1, &l) == EIO);
    RFIX_CHECK(lfp_now() - t0 <= 2 * TIMEOUT_NS + MARGIN_NS);
    long live_before = atomic_load(&s.live);
    rfix_restart(srv);
    RFIX_CHECK(await(&s.live, live_before + 20)); /* service resumed */
    int64_t up_at = lfp_now(); /* degraded decisions end before this */
    atomic_store(&s.stop, true);
    for (int i = 0; i < THREADS; i++) pthread_join(t[i], NULL);

    double down_s = (double)(up_at - down_at) / 1e9;
    long allowed = atomic_load(&s.degraded_allowed);
    printf("policy %d lease %u: live %ld, degraded %ld (allowed %ld) over %.3f s down, wrong %ld, slowest %.1f ms\n",
           (int)policy, lease, atomic_load(&s.live), atomic_load(&s.degraded), allowed, down_s,
           atomic_load(&s.wrong), atomic_load(&s.slowest_ns) / 1e6);
    RFIX_CHECK(atomic_load(&s.wrong) == 0);
    RFIX_CHECK(atomic_load(&s.slowest_ns) <= 2 * TIMEOUT_NS + MARGIN_NS);
    if (policy == LFP_RFAIL_OPEN) RFIX_CHECK(allowed == atomic_load(&s.degraded));
    if (policy == LFP_RFAIL_CLOSED || policy == LFP_RFAIL_ERROR) RFIX_CHECK(allowed == 0);
    if (policy == LFP_RFAIL_LOCAL) {
        /* local bucket: share of burst and rate while down */
        RFIX_CHECK(allowed >= 1);
        RFIX_CHECK(allowed <= (long)(BURST * SHARE + RATE * SHARE * down_s) + 1);
    }
    lfp_rsem_destroy(&sem);
    lfp_rbucket_destroy(&b);
}

/* Redis decided a take of b (the server answers again). */
static bool answered(void *b)
{
    struct lfp_rbucket_result res;
    lfp_rbucket_take(b, 1, &res);
    return !res.degraded;
}

/* A hung (frozen, not dead) server: the command timeout bounds the call,
 * the policy answers, and service resumes when it thaws. */
static void hung_server(struct rfix *srv, lfp_redis *r)
{
    lfp_rbucket b;
    RFIX_CHECK(lfp_rbucket_init(&b, r, "hung", RATE, BURST, NULL) == 0); /* fail closed */
    struct lfp_rbucket_result res;
    RFIX_CHECK(lfp_rbucket_take(&b, 1, &res) == 0 && !res.degraded);
    rfix_freeze(srv, true);
    int64_t t0 = lfp_now();
    RFIX_CHECK(lfp_rbucket_take(&b, 1, &res) == EAGAIN);
    int64_t took = lfp_now() - t0;
    RFIX_CHECK(res.degraded && res.error == EIO);
    RFIX_CHECK(took >= TIMEOUT_NS / 2 && took <= 2 * TIMEOUT_NS + MARGIN_NS);
    rfix_freeze(srv, false);
    RFIX_CHECK(rfix_await(answered, &b, 10000000000));
    printf("hung server: the take returned after %.1f ms (command timeout %.0f ms), then resumed\n",
           took / 1e6, TIMEOUT_NS / 1e6);
    lfp_rbucket_destroy(&b);
}

int main(void)
{
    struct rfix srv;
    rfix_start(&srv, NULL);
    struct lfp_redis_opts ro = { .connect_timeout_ns = TIMEOUT_NS, .command_timeout_ns = TIMEOUT_NS,
                                 .pool_size = 2 };
    lfp_redis *r = rfix_open(&srv, &ro);
    const enum lfp_rfail policies[] = { LFP_RFAIL_CLOSED, LFP_RFAIL_OPEN, LFP_RFAIL_LOCAL, LFP_RFAIL_ERROR };
    for (size_t i = 0; i < sizeof policies / sizeof *policies; i++) outage(&srv, r, policies[i], 0);
    outage(&srv, r, LFP_RFAIL_LOCAL, 4); /* leasing: the lease drains, then the policy */
    hung_server(&srv, r);
    RFIX_CHECK(lfp_redis_connects(r) > 4); /* reconnected after every restart */
    lfp_redis_close(r);
    rfix_stop(&srv);
    return rfix_report("test_redis_outage");
}
