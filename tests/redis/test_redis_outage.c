/* The server is killed mid-run and restarted, once per failure policy.
 * Worker threads keep taking; every degraded decision must be the policy's
 * documented answer, no call may outlast connect + command timeout (plus a
 * margin for its own CPU time), the LOCAL fallback must stay within its
 * share of the rate, and service must resume (non-degraded decisions) after
 * the restart. Also: lfp_rsem calls return EIO promptly while the server is
 * down, and every call ends by its timeout while the server hangs.
 *
 * Durations are checked without the time the calling thread waited for a
 * CPU (a loaded machine stretches a call that way, not by waiting longer
 * on the network; see struct watch). Every pool has a connection per
 * calling thread, so no call waits for another thread's round trip. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "fixture.h"
#include "lfpat/redis.h"

enum { THREADS = 2 }; /* workers; the main thread calls the pool too */
#define TIMEOUT_NS INT64_C(100000000)          /* connect and command timeout */
#define MARGIN_NS INT64_C(1000000000)          /* the calls' own CPU time under sanitizers */
/* The bound on a call that ends in a round trip to a dead or hung server. */
#define ROUND_TRIP_NS (2 * TIMEOUT_NS + MARGIN_NS)
#define RATE 100.0
#define BURST 10u
#define SHARE 0.5
#define LEASE_NS INT64_C(1000000000000) /* longer than any run: the hung server's holder keeps it */

/* This thread's time spent waiting for a CPU (run_delay in
 * /proc/thread-self/schedstat; 0 where the kernel does not tell). */
static int64_t run_delay_ns(void)
{
    long long run, delay = 0;
    FILE *f = fopen("/proc/thread-self/schedstat", "r");
    if (f) {
        if (fscanf(f, "%lld %lld", &run, &delay) != 2) delay = 0;
        fclose(f);
    }
    return delay;
}

/* A stopwatch for one thread's call: wall time, and the part of it the
 * thread did not spend waiting for a CPU (sleeping on the network, or
 * running). Only the latter is bounded by the timeouts. */
struct watch {
    int64_t t0, d0;
};

static struct watch watch_start(void)
{
    return (struct watch){ lfp_now(), run_delay_ns() };
}

static int64_t watch_wall(struct watch w)
{
    return lfp_now() - w.t0;
}

static int64_t watch_sched(struct watch w)
{
    return watch_wall(w) - (run_delay_ns() - w.d0);
}

struct shared {
    lfp_rbucket *b;
    enum lfp_rfail policy;
    _Atomic bool stop;
    _Atomic long live, degraded, degraded_allowed, wrong, slowest_ns, slowest_wall_ns;
};

static void raise_to(_Atomic long *max, long v)
{
    long prev = atomic_load(max);
    while (v > prev && !atomic_compare_exchange_weak(max, &prev, v)) {
    }
}

static int expected(enum lfp_rfail p)
{
    return p == LFP_RFAIL_OPEN ? 0 : p == LFP_RFAIL_ERROR ? EIO : EAGAIN;
}

static void *worker(void *arg)
{
    struct shared *s = arg;
    while (!atomic_load(&s->stop)) {
        struct lfp_rbucket_result res;
        struct watch w = watch_start();
        int e = lfp_rbucket_take(s->b, 1, &res);
        raise_to(&s->slowest_ns, (long)watch_sched(w));
        raise_to(&s->slowest_wall_ns, (long)watch_wall(w));
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
    return rfix_await(reached, &(struct count_at_least){ v, want }, RFIX_PATIENT_NS);
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
    int64_t start = lfp_now(); /* before any decision */
    for (int i = 0; i < THREADS; i++) pthread_create(&t[i], NULL, worker, &s);

    RFIX_CHECK(await(&s.live, 20));
    int64_t down_at = lfp_now();
    rfix_kill(srv);
    RFIX_CHECK(await(&s.degraded, 50));
    lfp_rsem sem;
    lfp_rsem_lease l;
    RFIX_CHECK(lfp_rsem_init(&sem, r, "outage-sem", 2, 1000000000) == 0);
    struct watch w = watch_start();
    RFIX_CHECK(lfp_rsem_try_acquire(&sem, 1, &l) == EIO);
    RFIX_CHECK(watch_sched(w) <= ROUND_TRIP_NS);
    w = watch_start();
    RFIX_CHECK(lfp_rsem_acquire(&sem, 1, &l, lfp_after(TIMEOUT_NS), NULL) == EIO);
    RFIX_CHECK(watch_sched(w) <= TIMEOUT_NS + 2 * ROUND_TRIP_NS);
    long live_before = atomic_load(&s.live);
    rfix_restart(srv);
    RFIX_CHECK(await(&s.live, live_before + 20)); /* service resumed */
    int64_t up_at = lfp_now(); /* degraded decisions end before this */
    atomic_store(&s.stop, true);
    for (int i = 0; i < THREADS; i++) pthread_join(t[i], NULL);

    long allowed = atomic_load(&s.degraded_allowed);
    printf("policy %d lease %u: live %ld, degraded %ld (allowed %ld) over %.3f s down, wrong %ld, "
           "slowest %.1f ms (%.1f ms less waits for a CPU)\n",
           (int)policy, lease, atomic_load(&s.live), atomic_load(&s.degraded), allowed,
           (double)(up_at - down_at) / 1e9, atomic_load(&s.wrong), atomic_load(&s.slowest_wall_ns) / 1e6,
           atomic_load(&s.slowest_ns) / 1e6);
    RFIX_CHECK(atomic_load(&s.wrong) == 0);
    RFIX_CHECK(atomic_load(&s.slowest_ns) <= ROUND_TRIP_NS);
    if (policy == LFP_RFAIL_OPEN) RFIX_CHECK(allowed == atomic_load(&s.degraded));
    if (policy == LFP_RFAIL_CLOSED || policy == LFP_RFAIL_ERROR) RFIX_CHECK(allowed == 0);
    if (policy == LFP_RFAIL_LOCAL) {
        /* The local bucket (full at the start, a share of burst and rate)
         * decided every degraded take: also those that timed out on a
         * starved server before the kill, so count from the start. */
        RFIX_CHECK(allowed >= 1);
        RFIX_CHECK(allowed <= (long)(BURST * SHARE + RATE * SHARE * (double)(up_at - start) / 1e9) + 1);
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
    int64_t cpu_wait_ns; /* the thread's waits for a CPU, over its life */
};

static void *rsem_wait(void *arg)
{
    struct rsem_waiter *w = arg;
    int64_t d0 = run_delay_ns();
    lfp_rsem_lease l;
    w->rc = lfp_rsem_acquire(w->s, 1, &l, LFP_FOREVER, &w->cancel);
    w->cpu_wait_ns = run_delay_ns() - d0;
    return NULL;
}

static bool queued(void *s)
{
    return lfp_rsem_waiting(s) == 1;
}

/* A hung (frozen, not dead) server: the command timeout bounds every call,
 * the policy answers, a blocking lfp_rsem_acquire ends by its deadline
 * (EIO) or its cancel token (ECANCELED) within a round trip or two, and
 * service resumes when it thaws. Calls that must succeed on the live
 * server (setting up, cleaning up) go through a patient pool: with 100 ms
 * timeouts a starved server could fail them. */
static void hung_server(struct rfix *srv, lfp_redis *r)
{
    lfp_redis *patient = rfix_open(srv, NULL);
    lfp_rbucket b;
    RFIX_CHECK(lfp_rbucket_init(&b, r, "hung", RATE, BURST, NULL) == 0); /* fail closed */
    RFIX_CHECK(rfix_await(answered, &b, RFIX_PATIENT_NS));
    lfp_rsem sem, setup;
    lfp_rsem_lease held, l;
    RFIX_CHECK(lfp_rsem_init(&sem, r, "hung-sem", 1, LEASE_NS) == 0);
    RFIX_CHECK(lfp_rsem_init(&setup, patient, "hung-sem", 1, LEASE_NS) == 0);
    RFIX_CHECK(lfp_rsem_try_acquire(&setup, 1, &held) == 0);
    struct rsem_waiter w = { .s = &sem };
    lfp_cancel_init(&w.cancel, NULL);
    pthread_create(&w.thread, NULL, rsem_wait, &w);
    RFIX_CHECK(rfix_await(queued, &setup, RFIX_PATIENT_NS));

    rfix_freeze(srv, true);
    struct lfp_rbucket_result res;
    struct watch t = watch_start();
    RFIX_CHECK(lfp_rbucket_take(&b, 1, &res) == EAGAIN);
    int64_t took = watch_sched(t), took_wall = watch_wall(t);
    RFIX_CHECK(res.degraded && res.error == EIO);
    RFIX_CHECK(took_wall >= TIMEOUT_NS / 2 && took <= ROUND_TRIP_NS); /* it waited, and not for long */

    t = watch_start();
    RFIX_CHECK(lfp_rsem_acquire(&sem, 1, &l, lfp_after(TIMEOUT_NS), NULL) == EIO);
    int64_t sem_took = watch_sched(t);
    RFIX_CHECK(sem_took <= TIMEOUT_NS + 2 * ROUND_TRIP_NS);
    lfp_redis *r2 = NULL;
    t = watch_start();
    struct lfp_redis_opts ro = { .connect_timeout_ns = TIMEOUT_NS, .command_timeout_ns = TIMEOUT_NS };
    RFIX_CHECK(lfp_redis_open(&r2, srv->url, &ro) == EIO && r2 == NULL);
    int64_t open_took = watch_sched(t);
    RFIX_CHECK(open_took <= ROUND_TRIP_NS);
    t = watch_start();
    lfp_cancel_fire(&w.cancel, ECANCELED);
    pthread_join(w.thread, NULL);
    int64_t cancel_took = watch_sched(t) - w.cpu_wait_ns; /* the waiter's waits too */
    RFIX_CHECK(w.rc == ECANCELED);
    RFIX_CHECK(cancel_took <= 2 * ROUND_TRIP_NS);

    rfix_freeze(srv, false);
    RFIX_CHECK(rfix_await(answered, &b, RFIX_PATIENT_NS));
    RFIX_CHECK(lfp_rsem_release(&setup, &held) == 0);
    printf("hung server (less waits for a CPU): take %.1f ms (wall %.1f ms), rsem acquire (deadline %.0f ms) "
           "%.1f ms, open %.1f ms, cancel of a waiter %.1f ms (timeouts %.0f ms); then resumed\n",
           took / 1e6, took_wall / 1e6, TIMEOUT_NS / 1e6, sem_took / 1e6, open_took / 1e6, cancel_took / 1e6,
           TIMEOUT_NS / 1e6);
    lfp_cancel_destroy(&w.cancel);
    lfp_rsem_destroy(&setup);
    lfp_rsem_destroy(&sem);
    lfp_rbucket_destroy(&b);
    lfp_redis_close(patient);
}

int main(void)
{
    struct rfix srv;
    rfix_start(&srv, NULL);
    struct lfp_redis_opts ro = { .connect_timeout_ns = TIMEOUT_NS, .command_timeout_ns = TIMEOUT_NS,
                                 .pool_size = THREADS + 1 }; /* a connection per calling thread */
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
