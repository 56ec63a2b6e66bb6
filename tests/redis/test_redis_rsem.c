/* SPDX-License-Identifier: BSD-2-Clause */
/* lfp_rsem waiting against a real redis-server: the cancel token, FIFO
 * order of waiters across processes and among threads of one process,
 * no overtaking of a large weight by small ones, withdrawal of the ticket
 * on timeout and cancel, and expiry of a dead waiter's ticket.
 *
 * Grant order is observed through mutual exclusion: with capacity 1 each
 * waiter takes a rank (an INCR on the server, or an atomic counter in one
 * process) while it holds the semaphore, so ranks are in grant order.
 *
 * Order holds only while every waiter keeps its ticket alive: a waiter
 * (or the server) starved for LFP_RSEM_TICKET_NS by a loaded machine loses
 * its place and re-queues at the tail, as documented. The order checks
 * therefore watch the server for an expired ticket (watch_tickets) and
 * are skipped, saying so, when one expired. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fixture.h"
#include "lfpat/redis.h"

enum { WAITERS = 4 };
#define LEASE_NS INT64_C(1000000000000) /* 1000 s: no lease expires during any run */

/* A semaphore with a fresh name (stored in name[64]), of which the test
 * holds `weight` (in *held) before any waiter comes. */
static void init_held(lfp_rsem *s, char *name, const char *what, int64_t capacity, int64_t weight,
                      lfp_rsem_lease *held)
{
    rfix_unique(name, 64, what);
    assert_int_equal(lfp_rsem_init(s, rfix_pool, name, capacity, LEASE_NS), 0);
    assert_int_equal(lfp_rsem_try_acquire(s, weight, held), 0);
}

struct queued {
    lfp_rsem *s;
    int64_t n;
};

static bool has_queued(void *arg)
{
    struct queued *q = arg;
    return lfp_rsem_waiting(q->s) == q->n;
}

/* Wait until exactly n tickets are queued on the server. */
static void await_queued(lfp_rsem *s, int64_t n)
{
    assert_true(rfix_await(has_queued, &(struct queued){ s, n }, RFIX_PATIENT_NS));
}

/* ---------------------------------------------------- ticket expiry watch */

/* Watch semaphore `name`'s ticket key, from now on, on rfix_own.raw
 * (keyspace notifications; the test's teardown closes it). */
static void watch_tickets(const char *name)
{
    redisContext *c = rfix_own.raw = rfix_connect(&rfix_srv);
    redisReply *rep = redisCommand(c, "CONFIG SET notify-keyspace-events Kzx");
    assert_true(rep && rep->type == REDIS_REPLY_STATUS);
    freeReplyObject(rep);
    rep = redisCommand(c, "SUBSCRIBE __keyspace@0__:lfp:rs:{%s}:t", name);
    assert_true(rep && rep->type == REDIS_REPLY_ARRAY);
    freeReplyObject(rep);
}

/* Whether a watched ticket expired: the script drops expired tickets with
 * ZREMRANGEBYSCORE (granted and withdrawn ones with ZREM), and the key
 * itself expires with its last ticket. Reads the events up to the reply
 * of a PING sent now, so every event of an earlier command is seen. */
static bool a_ticket_expired(void)
{
    redisContext *c = rfix_own.raw;
    assert_int_equal(redisAppendCommand(c, "PING"), REDIS_OK);
    bool expired = false, pong = false;
    while (!pong) {
        redisReply *rep = NULL;
        assert_int_equal(redisGetReply(c, (void **)&rep), REDIS_OK);
        assert_true(rep->type == REDIS_REPLY_ARRAY && rep->elements >= 2);
        pong = strcmp(rep->element[0]->str, "pong") == 0;
        if (!pong && rep->elements == 3) {
            const char *event = rep->element[2]->str;
            expired |= strcmp(event, "zremrangebyscore") == 0 || strcmp(event, "expired") == 0;
        }
        freeReplyObject(rep);
    }
    if (expired) printf("    a ticket expired (a waiter or the server was starved for %.1f s): order not checked\n",
                        LFP_RSEM_TICKET_NS / 1e9);
    return expired;
}

/* ------------------------------------------------------------ a waiter */

struct waiter {
    lfp_rsem *s;          /* in-process waiters share the test's handle */
    const char *name;     /* cross-process waiters open their own... */
    int64_t lease_ns;     /* ...with leases this long */
    int64_t weight;
    lfp_cancel *cancel;
    _Atomic int *next_rank; /* in-process rank source; NULL = INCR on the server */
    bool hold;            /* keep the lease (return it in `lease`) */
    pthread_t thread;
    int rc, rank, release_rc;
    lfp_rsem_lease lease;
};

/* The grant rank, taken while holding: an INCR of "<name>:rank". */
static int server_rank(const char *name)
{
    redisContext *c = rfix_connect(&rfix_srv);
    redisReply *rep = redisCommand(c, "INCR %s:rank", name);
    int rank = rep && rep->type == REDIS_REPLY_INTEGER ? (int)rep->integer : -1;
    if (rep) freeReplyObject(rep);
    redisFree(c);
    return rank;
}

static void *wait_thread(void *arg)
{
    struct waiter *w = arg;
    w->rc = lfp_rsem_acquire(w->s, w->weight, &w->lease, LFP_FOREVER, w->cancel);
    if (w->rc == 0 && w->next_rank) w->rank = atomic_fetch_add(w->next_rank, 1) + 1;
    if (w->rc == 0 && !w->hold) w->release_rc = lfp_rsem_release(w->s, &w->lease);
    return NULL;
}

/* Start w in a thread; return once its ticket is the n-th queued. */
static void start_queued(struct waiter *w, int64_t n)
{
    assert_int_equal(pthread_create(&w->thread, NULL, wait_thread, w), 0);
    await_queued(w->s, n);
}

static void join(struct waiter *w)
{
    assert_int_equal(pthread_join(w->thread, NULL), 0);
}

/* A waiter in its own process with its own pool: exits with its rank. */
static int wait_process(void *arg)
{
    struct waiter *w = arg;
    lfp_redis *r = rfix_open(&rfix_srv, NULL);
    lfp_rsem s;
    lfp_rsem_lease l;
    if (lfp_rsem_init(&s, r, w->name, 1, w->lease_ns) || lfp_rsem_acquire(&s, 1, &l, lfp_after(RFIX_PATIENT_NS), NULL))
        return 100;
    int rank = server_rank(w->name);
    return lfp_rsem_release(&s, &l) == 0 ? rank : 101;
}

/* Start w in its own process (wait_process) on the semaphore the test
 * knows as s; return its pid once its ticket is the n-th queued. */
static pid_t fork_queued(lfp_rsem *s, struct waiter *w, int64_t n)
{
    pid_t pid = rfix_fork(wait_process, w);
    await_queued(s, n);
    return pid;
}

/* ---------------------------------------------------------------- tests */

static void cancel_ends_a_wait_and_withdraws_the_ticket(void **state)
{
    (void)state;
    lfp_rsem s;
    char name[64];
    lfp_rsem_lease held, l;
    init_held(&s, name, "cancel", 1, 1, &held);

    lfp_cancel c;
    lfp_cancel_init(&c, NULL);
    struct waiter w = { .s = &s, .weight = 1, .cancel = &c };
    start_queued(&w, 1);
    lfp_cancel_fire(&c, 42);
    join(&w); /* no deadline: only the token can end it */
    assert_int_equal(w.rc, ECANCELED);
    assert_int_equal(lfp_cancel_reason(&c), 42);
    assert_int_equal(lfp_rsem_waiting(&s), 0); /* withdrawn before returning */
    assert_int_equal(lfp_rsem_held(&s), 1);

    /* A fired token still takes weight that is free at once; else it
     * returns without queueing. */
    assert_int_equal(lfp_rsem_acquire(&s, 1, &l, LFP_FOREVER, &c), ECANCELED);
    assert_int_equal(lfp_rsem_waiting(&s), 0);
    assert_int_equal(lfp_rsem_release(&s, &held), 0);
    assert_int_equal(lfp_rsem_acquire(&s, 1, &l, LFP_FOREVER, &c), 0);
    assert_int_equal(lfp_rsem_release(&s, &l), 0);
    /* The same for a deadline in the past. */
    assert_int_equal(lfp_rsem_acquire(&s, 1, &l, 0, NULL), 0);
    assert_int_equal(lfp_rsem_acquire(&s, 1, &held, 0, NULL), ETIMEDOUT);
    assert_int_equal(lfp_rsem_waiting(&s), 0);
    assert_int_equal(lfp_rsem_release(&s, &l), 0);
    assert_int_equal(lfp_rsem_acquire(&s, 2, &l, LFP_FOREVER, NULL), EINVAL);
    assert_int_equal(lfp_rsem_acquire(&s, 0, &l, LFP_FOREVER, NULL), EINVAL);
    assert_int_equal(lfp_rsem_acquire(NULL, 1, &l, LFP_FOREVER, NULL), EINVAL);
    assert_int_equal(lfp_rsem_acquire(&s, 1, NULL, LFP_FOREVER, NULL), EINVAL);
    lfp_cancel_destroy(&c);
    lfp_rsem_destroy(&s);
}

/* Waiter processes queued one after another are granted in that order,
 * also when they wait longer than a ticket lives (their polls keep the
 * tickets alive). */
static void waiters_are_granted_in_fifo_order_across_processes(void **state)
{
    (void)state;
    lfp_rsem s;
    lfp_rsem_lease held;
    pid_t pids[WAITERS];
    int rank[WAITERS];
    char name[64];
    init_held(&s, name, "fifo-procs", 1, 1, &held);
    watch_tickets(name);
    struct waiter w = { .name = name, .lease_ns = LEASE_NS };
    for (int i = 0; i < WAITERS; i++)
        pids[i] = fork_queued(&s, &w, i + 1);
    /* Wait longer than a ticket lives (the duration is what is tested):
     * the waiters' polls must keep their places. */
    int64_t ns = LFP_RSEM_TICKET_NS + LFP_RSEM_TICKET_NS / 4;
    nanosleep(&(struct timespec){ ns / 1000000000, ns % 1000000000 }, NULL);
    int64_t waiting = lfp_rsem_waiting(&s);
    assert_int_equal(lfp_rsem_release(&s, &held), 0);
    for (int i = 0; i < WAITERS; i++) {
        int st;
        assert_int_equal(waitpid(pids[i], &st, 0), pids[i]);
        assert_true(WIFEXITED(st));
        rank[i] = WEXITSTATUS(st);
        assert_in_range(rank[i], 1, WAITERS); /* granted (and released) */
    }
    if (!a_ticket_expired()) {
        assert_int_equal(waiting, WAITERS);
        for (int i = 0; i < WAITERS; i++) assert_int_equal(rank[i], i + 1);
    }
    lfp_rsem_destroy(&s);
}

/* The same among the threads of one process (one handle). */
static void waiters_are_granted_in_fifo_order_among_threads(void **state)
{
    (void)state;
    _Atomic int next = 0;
    struct waiter t[WAITERS];
    lfp_rsem s;
    lfp_rsem_lease held;
    char name[64];
    init_held(&s, name, "fifo-threads", 1, 1, &held);
    watch_tickets(name);
    for (int i = 0; i < WAITERS; i++) {
        t[i] = (struct waiter){ .s = &s, .weight = 1, .next_rank = &next };
        start_queued(&t[i], i + 1);
    }
    assert_int_equal(lfp_rsem_release(&s, &held), 0);
    for (int i = 0; i < WAITERS; i++) {
        join(&t[i]);
        assert_int_equal(t[i].rc, 0);
        assert_int_equal(t[i].release_rc, 0);
    }
    assert_int_equal(lfp_rsem_held(&s), 0);
    if (!a_ticket_expired())
        for (int i = 0; i < WAITERS; i++) assert_int_equal(t[i].rank, i + 1);
    lfp_rsem_destroy(&s);
}

/* A large weight that does not fit blocks smaller ones behind it, even
 * though they would fit (no starvation of the large one). */
static void a_large_waiter_is_not_overtaken(void **state)
{
    (void)state;
    lfp_rsem s;
    char name[64];
    lfp_rsem_lease two, one;
    init_held(&s, name, "large", 3, 2, &two);
    watch_tickets(name);
    struct waiter big = { .s = &s, .weight = 3, .hold = true };
    start_queued(&big, 1);
    /* 1 is free, but big is ahead (unless its ticket expired: then a
     * weight taken here is given back, so big fits later). */
    int tried = lfp_rsem_try_acquire(&s, 1, &one);
    if (tried == 0) assert_int_equal(lfp_rsem_release(&s, &one), 0);
    int waited = lfp_rsem_acquire(&s, 1, &one, lfp_after(30000000), NULL);
    if (waited == 0) assert_int_equal(lfp_rsem_release(&s, &one), 0);
    int64_t waiting = lfp_rsem_waiting(&s); /* the timed-out ticket is withdrawn */
    if (!a_ticket_expired()) {
        assert_int_equal(tried, EAGAIN);
        assert_int_equal(waited, ETIMEDOUT);
        assert_int_equal(waiting, 1);
    }
    assert_int_equal(lfp_rsem_held(&s), 2);
    assert_int_equal(lfp_rsem_release(&s, &two), 0);
    join(&big);
    assert_int_equal(big.rc, 0);
    assert_int_equal(lfp_rsem_held(&s), 3);
    assert_int_equal(lfp_rsem_release(&s, &big.lease), 0);
    assert_int_equal(lfp_rsem_try_acquire(&s, 1, &one), 0);
    assert_int_equal(lfp_rsem_release(&s, &one), 0);
    lfp_rsem_destroy(&s);
}

/* A waiter process killed while queued stops blocking the queue once its
 * ticket expires (LFP_RSEM_TICKET_NS after its last poll), or, when its last
 * poll reached a slow server only after its death and was granted, once
 * that lease ends (short here). */
static void a_dead_waiters_ticket_expires(void **state)
{
    (void)state;
    lfp_rsem s;
    char name[64];
    lfp_rsem_lease held, l;
    init_held(&s, name, "dead-waiter", 1, 1, &held);
    struct waiter w = { .name = name, .lease_ns = LFP_RSEM_TICKET_NS };
    int64_t forked = lfp_now(); /* before the ticket's first and last refresh */
    pid_t pid = fork_queued(&s, &w, 1);
    assert_int_equal(kill(pid, SIGKILL), 0);
    assert_false(rfix_join(pid));
    assert_int_equal(lfp_rsem_release(&s, &held), 0);
    int e = lfp_rsem_try_acquire(&s, 1, &l);
    /* The dead ticket is ahead, if less than its lifetime passed since it
     * was last refreshed (the waiter may have been starved before the
     * kill: count from the fork)... */
    if (lfp_now() - forked < LFP_RSEM_TICKET_NS / 2) assert_int_equal(e, EAGAIN);
    if (e == 0) assert_int_equal(lfp_rsem_release(&s, &l), 0);
    /* ...and expires (or its posthumous lease ends): a waiter behind it
     * gets the weight. */
    assert_int_equal(lfp_rsem_acquire(&s, 1, &l, lfp_after(RFIX_PATIENT_NS), NULL), 0);
    assert_int_equal(lfp_rsem_waiting(&s), 0);
    assert_int_equal(lfp_rsem_release(&s, &l), 0);
    lfp_rsem_destroy(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(cancel_ends_a_wait_and_withdraws_the_ticket),
        cmocka_unit_test_teardown(waiters_are_granted_in_fifo_order_across_processes, rfix_own_teardown),
        cmocka_unit_test_teardown(waiters_are_granted_in_fifo_order_among_threads, rfix_own_teardown),
        cmocka_unit_test_teardown(a_large_waiter_is_not_overtaken, rfix_own_teardown),
        cmocka_unit_test(a_dead_waiters_ticket_expires),
    };
    return cmocka_run_group_tests(tests, rfix_group_setup, rfix_group_teardown);
}
