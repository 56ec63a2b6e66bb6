/* SPDX-License-Identifier: BSD-2-Clause */
/* Outages. The server is killed mid-run and restarted, once per failure
 * policy: worker threads keep taking; every degraded decision must be the
 * policy's documented answer, a call made while the server is down must
 * not wait at all (the connect is refused, then the slot fails fast), the
 * LOCAL fallback must stay within its share of the rate, and service must
 * resume (non-degraded decisions) after the restart; lfp_rsem calls return
 * EIO at once. Then the server hangs (frozen): every call ends by its
 * 100 ms timeouts, and service resumes when it thaws.
 *
 * Load: durations are checked without the time this process waited for a
 * CPU (a loaded machine stretches a call that way, not by waiting longer
 * on the network; see struct watch). Only the hung-server calls use short
 * timeouts; elsewhere patient ones, so a live server starved by the load is
 * waited for rather than taken for an outage. Every pool has a connection
 * per calling thread, so no call waits for another thread's round trip. */
#include <dirent.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "fixture.h"
#include "lfpat/redis.h"

enum { THREADS = 2 }; /* workers; the main thread calls the pool too */
#define TIMEOUT_NS INT64_C(100000000) /* the hung-server pool's connect and command timeout */
#define MARGIN_NS INT64_C(1000000000) /* the calls' own CPU time under sanitizers */
/* The bound on a call that ends in a round trip to a hung server. */
#define ROUND_TRIP_NS (2 * TIMEOUT_NS + MARGIN_NS)
#define RATE 100.0
#define BURST 10u
#define SHARE 0.5
#define LEASE_NS INT64_C(1000000000000) /* longer than any run: a holder keeps its weight */

/* ------------------------------------------------------ waits for a CPU */

/* Time a thread spent waiting for a CPU (run_delay, the second field of a
 * /proc schedstat file; 0 where the kernel does not tell). */
static int64_t run_delay_of(const char *schedstat)
{
    long long run, delay = 0;
    FILE *f = fopen(schedstat, "r");
    if (f) {
        if (fscanf(f, "%lld %lld", &run, &delay) != 2) delay = 0;
        fclose(f);
    }
    return delay;
}

/* The same for every thread of this process, summed: a call also waits
 * when another thread holding a lock it needs (in the allocator, stdio,
 * the kernel) waits for a CPU. */
static int64_t process_run_delay_ns(void)
{
    int64_t sum = 0;
    DIR *d = opendir("/proc/self/task");
    for (struct dirent *e; d && (e = readdir(d));) {
        char path[64];
        if (e->d_name[0] == '.') continue;
        snprintf(path, sizeof path, "/proc/self/task/%.16s/schedstat", e->d_name);
        sum += run_delay_of(path);
    }
    if (d) closedir(d);
    return sum;
}

/* A stopwatch for a call: wall time, and wall time less this process's
 * waits for a CPU in it (what the call slept on the network or ran; only
 * that is bounded by the timeouts). The waits are read outside the clock
 * readings, so a wait while reading them is never in the wall time alone.
 * Threads must not exit before the stop, or must add their waits (see
 * rsem_wait). */
struct watch {
    int64_t t0, d0;
};

static struct watch watch_start(void)
{
    int64_t d0 = process_run_delay_ns();
    return (struct watch){ lfp_now(), d0 };
}

static int64_t watch_wall(struct watch w)
{
    return lfp_now() - w.t0;
}

static int64_t watch_sched(struct watch w)
{
    int64_t wall = watch_wall(w);
    int64_t t = wall - (process_run_delay_ns() - w.d0);
    return t > 0 ? t : 0; /* threads that waited together count more than once */
}

/* --------------------------------------------------------------- outages */

struct shared {
    lfp_rbucket *b;
    enum lfp_rfail policy;
    _Atomic bool stop, down; /* down: from after the kill to before the restart */
    _Atomic long live, degraded, degraded_allowed, wrong;
    _Atomic long slowest_ns, slowest_wall_ns; /* of the calls made while down */
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
        bool down = atomic_load(&s->down);
        struct watch w = down ? watch_start() : (struct watch){ 0 };
        int e = lfp_rbucket_take(s->b, 1, &res);
        if (down && atomic_load(&s->down)) { /* the whole call while down */
            raise_to(&s->slowest_ns, (long)watch_sched(w));
            raise_to(&s->slowest_wall_ns, (long)watch_wall(w));
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
    return rfix_await(reached, &(struct count_at_least){ v, want }, RFIX_PATIENT_NS);
}

/* lfp_rsem while the server is down: EIO without waiting (try), or at the
 * deadline (a blocking acquire keeps retrying until then). */
static void rsem_while_down(lfp_redis *r)
{
    lfp_rsem sem;
    lfp_rsem_lease l;
    RFIX_CHECK(lfp_rsem_init(&sem, r, "outage-sem", 2, LEASE_NS) == 0);
    struct watch w = watch_start();
    RFIX_CHECK(lfp_rsem_try_acquire(&sem, 1, &l) == EIO);
    RFIX_CHECK(watch_sched(w) <= MARGIN_NS);
    w = watch_start();
    RFIX_CHECK(lfp_rsem_acquire(&sem, 1, &l, lfp_after(TIMEOUT_NS), NULL) == EIO);
    RFIX_CHECK(watch_sched(w) <= TIMEOUT_NS + MARGIN_NS);
    lfp_rsem_destroy(&sem);
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

    RFIX_CHECK(await(&s.live, 5));
    int64_t down_at = lfp_now();
    rfix_kill(srv);
    atomic_store(&s.down, true);
    RFIX_CHECK(await(&s.degraded, 20));
    rsem_while_down(r);
    long live_before = atomic_load(&s.live);
    atomic_store(&s.down, false);
    rfix_restart(srv);
    RFIX_CHECK(await(&s.live, live_before + 5)); /* service resumed */
    int64_t up_at = lfp_now(); /* degraded decisions end before this */
    atomic_store(&s.stop, true);
    for (int i = 0; i < THREADS; i++) pthread_join(t[i], NULL);

    long allowed = atomic_load(&s.degraded_allowed);
    printf("policy %d lease %u: live %ld, degraded %ld (allowed %ld) over %.3f s down, wrong %ld, "
           "slowest call while down %.1f ms (%.1f ms less waits for a CPU)\n",
           (int)policy, lease, atomic_load(&s.live), atomic_load(&s.degraded), allowed,
           (double)(up_at - down_at) / 1e9, atomic_load(&s.wrong), atomic_load(&s.slowest_wall_ns) / 1e6,
           atomic_load(&s.slowest_ns) / 1e6);
    RFIX_CHECK(atomic_load(&s.wrong) == 0);
    RFIX_CHECK(atomic_load(&s.slowest_ns) <= MARGIN_NS);
    if (policy == LFP_RFAIL_OPEN) RFIX_CHECK(allowed == atomic_load(&s.degraded));
    if (policy == LFP_RFAIL_CLOSED || policy == LFP_RFAIL_ERROR) RFIX_CHECK(allowed == 0);
    if (policy == LFP_RFAIL_LOCAL) {
        /* The local bucket (full at the start, a share of burst and rate)
         * decided every degraded take since the workers started. */
        RFIX_CHECK(allowed >= 1);
        RFIX_CHECK(allowed <= (long)(BURST * SHARE + RATE * SHARE * (double)(up_at - start) / 1e9) + 1);
    }
    lfp_rbucket_destroy(&b);
}

/* ----------------------------------------------------------- hung server */

/* Redis decided a take of b (the server answers again). */
static bool answered(void *b)
{
    struct lfp_rbucket_result res;
    lfp_rbucket_take(b, 1, &res);
    return !res.degraded;
}

/* The server's waits for a CPU so far. */
static int64_t server_run_delay_ns(const struct rfix *srv)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/schedstat", (int)srv->pid);
    return run_delay_of(path);
}

struct rsem_waiter {
    lfp_rsem *s;
    lfp_cancel cancel;
    pthread_t thread;
    lfp_rsem_lease *lease; /* where the grant goes; NULL: dropped */
    int rc;
    int64_t cpu_wait_ns; /* the thread's waits for a CPU, over its life */
};

static void *rsem_wait(void *arg)
{
    struct rsem_waiter *w = arg;
    lfp_rsem_lease l;
    w->rc = lfp_rsem_acquire(w->s, 1, w->lease ? w->lease : &l, LFP_FOREVER, &w->cancel);
    w->cpu_wait_ns = run_delay_of("/proc/thread-self/schedstat");
    return NULL;
}

/* A hung (frozen, not dead) server, called through a pool with 100 ms
 * timeouts: every call ends by its timeouts (it waited, and not long), the
 * policy answers, lfp_redis_open fails with EIO, a blocking lfp_rsem_acquire
 * ends by its deadline (EIO) or its cancel token (ECANCELED), and service
 * resumes when the server thaws. The weight the waiter wants is held
 * through a patient pool. */
static void hung_server(struct rfix *srv)
{
    const struct lfp_redis_opts ro = { .connect_timeout_ns = TIMEOUT_NS, .command_timeout_ns = TIMEOUT_NS,
                                       .pool_size = 2 }; /* the main thread and the waiter */
    lfp_redis *r = rfix_open(srv, &ro), *patient = rfix_open(srv, NULL);
    lfp_rbucket b;
    RFIX_CHECK(lfp_rbucket_init(&b, r, "hung", RATE, BURST, NULL) == 0); /* fail closed */
    lfp_rsem sem, holder;
    lfp_rsem_lease held, l;
    RFIX_CHECK(lfp_rsem_init(&sem, r, "hung-sem", 1, LEASE_NS) == 0);
    RFIX_CHECK(lfp_rsem_init(&holder, patient, "hung-sem", 1, LEASE_NS) == 0);
    RFIX_CHECK(lfp_rsem_try_acquire(&holder, 1, &held) == 0);

    rfix_freeze(srv, true);
    struct rsem_waiter w = { .s = &sem };
    lfp_cancel_init(&w.cancel, NULL);
    pthread_create(&w.thread, NULL, rsem_wait, &w); /* polls the hung server until cancelled */
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
    RFIX_CHECK(lfp_redis_open(&r2, srv->url, &ro) == EIO && r2 == NULL);
    int64_t open_took = watch_sched(t);
    RFIX_CHECK(open_took <= ROUND_TRIP_NS);
    t = watch_start();
    lfp_cancel_fire(&w.cancel, ECANCELED);
    pthread_join(w.thread, NULL);
    int64_t cancel_took = watch_sched(t) - w.cpu_wait_ns; /* the exited waiter's waits too */
    RFIX_CHECK(w.rc == ECANCELED);
    RFIX_CHECK(cancel_took <= 2 * ROUND_TRIP_NS);
    rfix_freeze(srv, false);

    /* A server that spent half the time since the thaw waiting for a CPU
     * cannot be relied on to answer within 100 ms timeouts. */
    t = watch_start();
    int64_t server_d0 = server_run_delay_ns(srv);
    bool resumed = rfix_await(answered, &b, RFIX_PATIENT_NS);
    if (!resumed && 2 * (server_run_delay_ns(srv) - server_d0) >= watch_wall(t))
        printf("hung server: resumption NOT CHECKED: the server spent half the time since the thaw "
               "waiting for a CPU, too starved to answer within 100 ms timeouts\n");
    else RFIX_CHECK(resumed);
    RFIX_CHECK(lfp_rsem_release(&holder, &held) == 0);
    printf("hung server (less waits for a CPU): take %.1f ms (wall %.1f ms), rsem acquire (deadline %.0f ms) "
           "%.1f ms, open %.1f ms, cancel of a waiter %.1f ms (timeouts %.0f ms); resumed: %s\n",
           took / 1e6, took_wall / 1e6, TIMEOUT_NS / 1e6, sem_took / 1e6, open_took / 1e6, cancel_took / 1e6,
           TIMEOUT_NS / 1e6, resumed ? "yes" : "no");
    lfp_cancel_destroy(&w.cancel);
    lfp_rsem_destroy(&holder);
    lfp_rsem_destroy(&sem);
    lfp_rbucket_destroy(&b);
    lfp_redis_close(patient);
    lfp_redis_close(r);
}

/* A waiter blocked on the server (BLPOP, on its pool's blocking
 * connection) when the server hangs: the cancel still ends it, within one
 * BLPOP slice and one round trip to the hung server. And when the server
 * is killed and restarted (losing every key: no persistence), the waiter
 * blocked there is granted on the new server, with a larger fencing token
 * than the holder whose lease the restart lost (ESTALE at its renew). */
static void blocked_waiter_on_a_hung_or_restarted_server(struct rfix *srv)
{
    const struct lfp_redis_opts ro = { .connect_timeout_ns = TIMEOUT_NS, .command_timeout_ns = TIMEOUT_NS,
                                       .pool_size = 1 };
    lfp_redis *r = rfix_open(srv, &ro), *patient = rfix_open(srv, NULL);
    redisContext *raw = rfix_connect(srv);
    lfp_rsem sem, holder;
    lfp_rsem_lease held;
    RFIX_CHECK(lfp_rsem_init(&sem, r, "blocked-sem", 1, LEASE_NS) == 0);
    RFIX_CHECK(lfp_rsem_init(&holder, patient, "blocked-sem", 1, LEASE_NS) == 0);
    RFIX_CHECK(lfp_rsem_try_acquire(&holder, 1, &held) == 0);

    struct rsem_waiter w = { .s = &sem };
    lfp_cancel_init(&w.cancel, NULL);
    pthread_create(&w.thread, NULL, rsem_wait, &w);
    RFIX_CHECK(rfix_await(rfix_blocked_in_blpop, &(struct rfix_blpop_watch){ .raw = raw },
                          RFIX_PATIENT_NS));
    rfix_freeze(srv, true);
    struct watch t = watch_start();
    lfp_cancel_fire(&w.cancel, ECANCELED);
    pthread_join(w.thread, NULL);
    int64_t cancel_took = watch_sched(t) - w.cpu_wait_ns;
    RFIX_CHECK(w.rc == ECANCELED);
    RFIX_CHECK(cancel_took <= 2 * ROUND_TRIP_NS);
    rfix_freeze(srv, false);
    lfp_cancel_destroy(&w.cancel);

    /* The restart: a waiter with a patient deadline, blocked, then the
     * server is killed under it and started again. */
    struct rsem_waiter w2 = { .s = &sem };
    lfp_cancel_init(&w2.cancel, NULL);
    lfp_rsem_lease got = { .token = 0 };
    w2.lease = &got;
    pthread_create(&w2.thread, NULL, rsem_wait, &w2);
    RFIX_CHECK(rfix_await(rfix_blocked_in_blpop, &(struct rfix_blpop_watch){ .raw = raw },
                          RFIX_PATIENT_NS));
    redisFree(raw);
    rfix_restart(srv);
    pthread_join(w2.thread, NULL);
    RFIX_CHECK(w2.rc == 0);
    RFIX_CHECK(got.token > held.token);
    RFIX_CHECK(lfp_rsem_renew(&holder, &held) == ESTALE);
    RFIX_CHECK(lfp_rsem_release(&sem, &got) == 0);
    printf("blocked waiter: cancel on a hung server %.1f ms (timeouts %.0f ms); granted after a restart: %s\n",
           cancel_took / 1e6, TIMEOUT_NS / 1e6, w2.rc == 0 ? "yes" : "no");
    lfp_cancel_destroy(&w2.cancel);
    lfp_rsem_destroy(&holder);
    lfp_rsem_destroy(&sem);
    lfp_redis_close(patient);
    lfp_redis_close(r);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0); /* each result line, also if ctest stops the test */
    struct rfix srv;
    rfix_start(&srv, NULL);
    struct lfp_redis_opts ro = rfix_patient;
    ro.pool_size = THREADS + 1; /* a connection per calling thread */
    lfp_redis *r = rfix_open(&srv, &ro);
    const enum lfp_rfail policies[] = { LFP_RFAIL_CLOSED, LFP_RFAIL_OPEN, LFP_RFAIL_LOCAL, LFP_RFAIL_ERROR };
    for (size_t i = 0; i < sizeof policies / sizeof *policies; i++) outage(&srv, r, policies[i], 0);
    outage(&srv, r, LFP_RFAIL_LOCAL, 4); /* leasing: the lease drains, then the policy */
    RFIX_CHECK(lfp_redis_connects(r) > 4); /* reconnected after every restart */
    lfp_redis_close(r);
    hung_server(&srv);
    blocked_waiter_on_a_hung_or_restarted_server(&srv);
    rfix_stop(&srv);
    return rfix_report("test_redis_outage");
}
