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
#define TIMEOUT_NS INT64_C(100000000)          /* connect and command timeout */
#define MARGIN_NS INT64_C(1000000000)          /* scheduling margin under sanitizers */
/* The bound on a call that ends in a round trip to a dead or hung server. */
#define ROUND_TRIP_NS (2 * TIMEOUT_NS + MARGIN_NS)
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
    RFIX_CHECK(lfp_now() - t0 <= ROUND_TRIP_NS);
    t0 = lfp_now();
    RFIX_CHECK(lfp_rsem_acquire(&sem, 1, &l, lfp_after(TIMEOUT_NS), NULL) == EIO);
    RFIX_CHECK(lfp_now() - t0 <= TIMEOUT_NS + 2 * ROUND_TRIP_NS);
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
    RFIX_CHECK(atomic_load(&s.slowest_ns) <= ROUND_TRIP_NS);
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

struct rsem_waiter {
    lfp_rsem *s;
    lfp_cancel cancel;
    pthread_t thread;
    int rc;
};

static void *rsem_wait(void *arg)
{
    struct rsem_waiter *w = arg;
    lfp_rsem_lease l;
    w->rc = lfp_rsem_acquire(w->s, 1, &l, LFP_FOREVER, &w->cancel);
    return NULL;
}

static bool queued(void *s)
{
    return lfp_rsem_waiting(s) == 1;
}

/* A hung (frozen, not dead) server: the command timeout bounds every call,
 * the policy answers, a blocking lfp_rsem_acquire ends by its deadline
 * (EIO) or its cancel token (ECANCELED) within a round trip or two, and
 * service resumes when it thaws. */
static void hung_server(struct rfix *srv, lfp_redis *r)
{
    lfp_rbucket b;
    RFIX_CHECK(lfp_rbucket_init(&b, r, "hung", RATE, BURST, NULL) == 0); /* fail closed */
    struct lfp_rbucket_result res;
    RFIX_CHECK(lfp_rbucket_take(&b, 1, &res) == 0 && !res.degraded);
    lfp_rsem sem;
    lfp_rsem_lease held, l;
    RFIX_CHECK(lfp_rsem_init(&sem, r, "hung-sem", 1, 10000000000) == 0);
    RFIX_CHECK(lfp_rsem_try_acquire(&sem, 1, &held) == 0);
    struct rsem_waiter w = { .s = &sem };
    lfp_cancel_init(&w.cancel, NULL);
    pthread_create(&w.thread, NULL, rsem_wait, &w);
    RFIX_CHECK(rfix_await(queued, &sem, 10000000000));

    rfix_freeze(srv, true);
    int64_t t0 = lfp_now();
    RFIX_CHECK(lfp_rbucket_take(&b, 1, &res) == EAGAIN);
    int64_t took = lfp_now() - t0;
    RFIX_CHECK(res.degraded && res.error == EIO);
    RFIX_CHECK(took >= TIMEOUT_NS / 2 && took <= ROUND_TRIP_NS);

    t0 = lfp_now();
    RFIX_CHECK(lfp_rsem_acquire(&sem, 1, &l, lfp_after(TIMEOUT_NS), NULL) == EIO);
    int64_t sem_took = lfp_now() - t0;
    RFIX_CHECK(sem_took <= TIMEOUT_NS + 2 * ROUND_TRIP_NS);
    lfp_redis *r2 = NULL;
    t0 = lfp_now();
    struct lfp_redis_opts ro = { .connect_timeout_ns = TIMEOUT_NS, .command_timeout_ns = TIMEOUT_NS };
    RFIX_CHECK(lfp_redis_open(&r2, srv->url, &ro) == EIO && r2 == NULL);
    int64_t open_took = lfp_now() - t0;
    RFIX_CHECK(open_took <= ROUND_TRIP_NS);
    t0 = lfp_now();
    lfp_cancel_fire(&w.cancel, ECANCELED);
    pthread_join(w.thread, NULL);
    int64_t cancel_took = lfp_now() - t0;
    RFIX_CHECK(w.rc == ECANCELED);
    RFIX_CHECK(cancel_took <= 2 * ROUND_TRIP_NS);

    rfix_freeze(srv, false);
    RFIX_CHECK(rfix_await(answered, &b, 10000000000));
    RFIX_CHECK(lfp_rsem_release(&sem, &held) == 0);
    printf("hung server: take %.1f ms, rsem acquire (deadline %.0f ms) %.1f ms, open %.1f ms, "
           "cancel of a waiter %.1f ms (timeouts %.0f ms); then resumed\n",
           took / 1e6, TIMEOUT_NS / 1e6, sem_took / 1e6, open_took / 1e6, cancel_took / 1e6, TIMEOUT_NS / 1e6);
    lfp_cancel_destroy(&w.cancel);
    lfp_rsem_destroy(&sem);
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
