/* SPDX-License-Identifier: BSD-2-Clause */
/* lfpat-redis connection handling against a real redis-server: a pooled
 * connection the server closed while it sat idle (CLIENT KILL, a restart,
 * the server's idle `timeout`) is replaced before the next command goes out on it; the connect backoff
 * follows a failed attempt on a hung server (counted, not timed); timeouts
 * under 1 us are still timeouts; the server's refusals get their own codes
 * (authentication, permission, transient refusal such as maxclients or a
 * busy script) and blocking calls retry the transient ones; a server
 * dripping its replies cannot stretch a call past its deadline. Each test
 * runs its own server (rfix_own.srv), so server-wide settings (maxclients,
 * ACL users) stay in the test. Checks depend on timing only as generous
 * upper bounds: the server acts synchronously (CLIENT KILL closes the
 * sockets before it replies) and outside state is awaited, not slept on. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fixture.h"
#include "lfpat/redis.h"

#define LONG_NS INT64_C(1000000000000) /* 1000 s: no lease expires, no token refills */

/* A command on the raw connection; asserts it did not fail in transport
 * and returns whether the server answered an error. */
static bool raw_cmd(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    redisReply *rep = redisvCommand(rfix_own.raw, fmt, ap);
    va_end(ap);
    assert_non_null(rep);
    bool err = rep->type == REDIS_REPLY_ERROR;
    if (err) fprintf(stderr, "raw command: %s\n", rep->str);
    freeReplyObject(rep);
    return !err;
}

/* Kill every normal client but the raw connection (SKIPME yes, the
 * default): the pool's connections are closed by the server while idle. */
static void kill_pool_connections(void)
{
    redisReply *rep = redisCommand(rfix_own.raw, "CLIENT KILL TYPE normal");
    assert_non_null(rep);
    assert_int_equal(rep->type, REDIS_REPLY_INTEGER);
    assert_true(rep->integer >= 1);
    freeReplyObject(rep);
}

/* ------------------------------------------- idle connections closed */

static void a_connection_killed_while_idle_is_replaced(void **state)
{
    (void)state;
    rfix_start(&rfix_own.srv, NULL);
    rfix_own.raw = rfix_connect(&rfix_own.srv);
    struct lfp_redis_opts o = rfix_patient;
    o.pool_size = 1; /* every call uses the killed connection */
    lfp_redis *r = rfix_own.pool = rfix_open(&rfix_own.srv, &o);
    lfp_rsem s;
    lfp_rsem_lease l;
    lfp_rbucket b;
    struct lfp_rbucket_opts bo = { .on_failure = LFP_RFAIL_ERROR };
    assert_int_equal(lfp_rsem_init(&s, r, "killed", 1, LONG_NS), 0);
    assert_int_equal(lfp_rbucket_init(&b, r, "killed", 1e9 / LONG_NS, 100, &bo), 0);
    uint64_t connects = lfp_redis_connects(r);

    assert_int_equal(lfp_rsem_try_acquire(&s, 1, &l), 0);
    kill_pool_connections();
    assert_int_equal(lfp_rsem_release(&s, &l), 0); /* the weight is not left held */
    assert_int_equal(lfp_rsem_held(&s), 0);
    assert_int_equal(lfp_redis_connects(r), connects + 1);

    struct lfp_rbucket_result res;
    kill_pool_connections();
    assert_int_equal(lfp_rbucket_take(&b, 1, &res), 0);
    assert_false(res.degraded);
    kill_pool_connections();
    int d[3];
    assert_int_equal(lfp_rbucket_take_pipelined(&b, 1, 3, d), 3);
    assert_int_equal(lfp_redis_connects(r), connects + 3);

    /* A restart (SIGKILL: the kernel closes the server's sockets) too. */
    assert_int_equal(lfp_rsem_try_acquire(&s, 1, &l), 0);
    rfix_restart(&rfix_own.srv);
    redisFree(rfix_own.raw);
    rfix_own.raw = rfix_connect(&rfix_own.srv);
    assert_int_equal(lfp_rbucket_take(&b, 1, &res), 0);
    assert_false(res.degraded);
    assert_int_equal(lfp_rsem_release(&s, &l), ESTALE); /* the new server never saw it */
    assert_int_equal(lfp_rsem_try_acquire(&s, 1, &l), 0);
    assert_int_equal(lfp_rsem_release(&s, &l), 0);
    lfp_rbucket_destroy(&b);
    lfp_rsem_destroy(&s);
}

/* ------------------------------------------------- connect backoff */

#define HUNG_NS INT64_C(300000000) /* the hung-server pool's timeouts and backoff */

/* A hung (frozen) server accepts connections (the kernel does) but answers
 * nothing, so a reconnect fails only when its first command times out:
 * the attempt lasts at least the timeout. The backoff must still follow
 * it: calls within the backoff after the failed attempt fail at once,
 * without trying to connect (counted by lfp_redis_connect_attempts, not
 * timed). A call that starts before t + 2 x HUNG_NS, t the start of the
 * failed call, is within the backoff: the attempt ended after t + HUNG_NS
 * (its timeout) and the backoff lasts HUNG_NS after that. */
static void the_backoff_follows_a_failed_connect_to_a_hung_server(void **state)
{
    (void)state;
    rfix_start(&rfix_own.srv, NULL);
    const struct lfp_redis_opts o = { .connect_timeout_ns = HUNG_NS, .command_timeout_ns = HUNG_NS,
                                      .backoff_ns = HUNG_NS, .pool_size = 1 };
    lfp_redis *r = rfix_own.pool = rfix_open(&rfix_own.srv, &o);
    lfp_rbucket b;
    struct lfp_rbucket_opts bo = { .on_failure = LFP_RFAIL_ERROR };
    assert_int_equal(lfp_rbucket_init(&b, r, "backoff", 1e9 / LONG_NS, 100, &bo), 0);
    assert_int_equal(lfp_redis_connect_attempts(r), 1); /* lfp_redis_open's */
    assert_int_equal(lfp_rbucket_take(&b, 1, NULL), 0);

    rfix_freeze(&rfix_own.srv, true);
    assert_int_equal(lfp_rbucket_take(&b, 1, NULL), EIO); /* the command times out */
    assert_int_equal(lfp_redis_connect_attempts(r), 1);
    int64_t t = lfp_now();
    assert_int_equal(lfp_rbucket_take(&b, 1, NULL), EIO); /* a reconnect, which times out */
    assert_int_equal(lfp_redis_connect_attempts(r), 2);
    int within = 0;
    for (int i = 0; i < 10; i++) {
        int64_t start = lfp_now();
        assert_int_equal(lfp_rbucket_take(&b, 1, NULL), EIO);
        if (start >= t + 2 * HUNG_NS) break; /* a starved machine: the backoff may be over */
        within++;
        assert_int_equal(lfp_redis_connect_attempts(r), 2);
    }
    rfix_freeze(&rfix_own.srv, false);
    printf("backoff: %d of 10 calls made within the backoff, none tried to connect%s\n", within,
           within ? "" : " (NOT CHECKED: the machine was too loaded)");
    lfp_rbucket_destroy(&b);
}

/* ------------------------------------------- sub-microsecond timeouts */

/* A listener that never accepts: the kernel completes the handshake and
 * nothing ever answers, so only a timeout ends a command sent to it. */
static int black_hole(int *port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof a;
    assert_true(fd >= 0);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(fd, 16), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    *port = ntohs(a.sin_port);
    return fd;
}

struct opener {
    char url[64];
    struct lfp_redis_opts o;
    int rc;
    _Atomic bool done;
};

static void *open_thread(void *arg)
{
    struct opener *p = arg;
    lfp_redis *r = NULL;
    p->rc = lfp_redis_open(&r, p->url, &p->o);
    lfp_redis_close(r);
    atomic_store(&p->done, true);
    return NULL;
}

static bool opened(void *arg)
{
    return atomic_load(&((struct opener *)arg)->done);
}

/* A timeout under 1 us is a timeout (rounded up), never "no timeout": a
 * zero timeval would block forever. The open runs in a thread; if it has
 * not returned within HANG_NS, closing the listener resets the connection
 * and ends it, so the test itself never hangs. */
#define HANG_NS INT64_C(30000000000) /* 30 s: far above 1 us, however loaded the machine */
static void sub_microsecond_timeouts_do_not_block_forever(void **state)
{
    (void)state;
    const struct lfp_redis_opts opts[] = {
        { .connect_timeout_ns = RFIX_PATIENT_NS, .command_timeout_ns = 999 },
        { .connect_timeout_ns = RFIX_PATIENT_NS, .command_timeout_ns = 1 },
        { .connect_timeout_ns = 1, .command_timeout_ns = 1 },
    };
    for (size_t i = 0; i < sizeof opts / sizeof *opts; i++) {
        int port;
        int fd = black_hole(&port);
        struct opener p = { .o = opts[i] };
        snprintf(p.url, sizeof p.url, "redis://127.0.0.1:%d", port);
        pthread_t t;
        pthread_create(&t, NULL, open_thread, &p);
        bool returned = rfix_await(opened, &p, HANG_NS);
        close(fd); /* resets a connection still waiting */
        pthread_join(t, NULL);
        assert_true(returned);
        assert_int_equal(p.rc, EIO);
    }
}

/* ------------------------------------------------- server refusals */

static void acl_denials_are_eperm_and_wrong_passwords_eacces(void **state)
{
    (void)state;
    rfix_start(&rfix_own.srv, NULL);
    rfix_own.raw = rfix_connect(&rfix_own.srv);
    assert_true(raw_cmd("ACL SETUSER noscript on >pw ~* +@all -script"));
    assert_true(raw_cmd("ACL SETUSER nokeys on >pw ~other:* +@all"));
    char url[128];
    lfp_redis *r = NULL;
    snprintf(url, sizeof url, "redis://noscript:pw@127.0.0.1:%d", rfix_own.srv.port);
    assert_int_equal(lfp_redis_open(&r, url, &rfix_patient), EPERM); /* SCRIPT LOAD denied */
    snprintf(url, sizeof url, "redis://nokeys:wrong@127.0.0.1:%d", rfix_own.srv.port);
    assert_int_equal(lfp_redis_open(&r, url, &rfix_patient), EACCES);
    snprintf(url, sizeof url, "redis://nobody:pw@127.0.0.1:%d", rfix_own.srv.port);
    assert_int_equal(lfp_redis_open(&r, url, &rfix_patient), EACCES);
    snprintf(url, sizeof url, "redis://nokeys:pw@127.0.0.1:%d", rfix_own.srv.port);
    assert_int_equal(lfp_redis_open(&rfix_own.pool, url, &rfix_patient), 0);

    lfp_rbucket b;
    struct lfp_rbucket_opts bo = { .on_failure = LFP_RFAIL_ERROR };
    struct lfp_rbucket_result res;
    assert_int_equal(lfp_rbucket_init(&b, rfix_own.pool, "denied", 10, 10, &bo), 0);
    assert_int_equal(lfp_rbucket_take(&b, 1, &res), EPERM); /* the key is not the user's */
    assert_true(res.degraded);
    assert_int_equal(res.error, EPERM);
    lfp_rbucket_destroy(&b);
    lfp_rsem s;
    lfp_rsem_lease l;
    assert_int_equal(lfp_rsem_init(&s, rfix_own.pool, "denied", 1, LONG_NS), 0);
    assert_int_equal(lfp_rsem_try_acquire(&s, 1, &l), EPERM);
    /* Not transient: a blocking acquire gives up at once. */
    assert_int_equal(lfp_rsem_acquire(&s, 1, &l, LFP_FOREVER, NULL), EPERM);
    lfp_rsem_destroy(&s);

    /* The password is changed under a live pool: the reconnect is refused
     * (EACCES), and a blocking acquire does not retry it. */
    assert_true(raw_cmd("ACL SETUSER nokeys ~* resetpass >newpw"));
    assert_int_equal(lfp_rsem_init(&s, rfix_own.pool, "rotated", 1, LONG_NS), 0);
    assert_int_equal(lfp_rsem_try_acquire(&s, 1, &l), 0); /* the live connection is still authenticated */
    assert_int_equal(lfp_rsem_release(&s, &l), 0);
    kill_pool_connections();
    assert_int_equal(lfp_rsem_try_acquire(&s, 1, &l), EACCES);
    assert_int_equal(lfp_rsem_acquire(&s, 1, &l, LFP_FOREVER, NULL), EACCES);
    lfp_rsem_destroy(&s);
}

/* A key of the wrong type where a limiter's key should be: the server's
 * WRONGTYPE is EPROTO (not transient: a blocking acquire returns it at
 * once), for the bucket through its failure policy. */
static void a_key_of_the_wrong_type_is_eproto(void **state)
{
    (void)state;
    rfix_start(&rfix_own.srv, NULL);
    rfix_own.raw = rfix_connect(&rfix_own.srv);
    lfp_redis *r = rfix_own.pool = rfix_open(&rfix_own.srv, NULL);
    assert_true(raw_cmd("SET lfp:rs:{typed}:w not-a-hash"));
    assert_true(raw_cmd("SET lfp:rb:{typed} not-a-hash"));
    lfp_rsem s;
    lfp_rsem_lease l;
    assert_int_equal(lfp_rsem_init(&s, r, "typed", 1, LONG_NS), 0);
    assert_int_equal(lfp_rsem_try_acquire(&s, 1, &l), EPROTO);
    assert_int_equal(lfp_rsem_acquire(&s, 1, &l, LFP_FOREVER, NULL), EPROTO);
    assert_int_equal(lfp_rsem_held(&s), -EPROTO);
    lfp_rsem_destroy(&s);
    lfp_rbucket b;
    struct lfp_rbucket_opts bo = { .on_failure = LFP_RFAIL_CLOSED };
    struct lfp_rbucket_result res;
    assert_int_equal(lfp_rbucket_init(&b, r, "typed", 10, 10, &bo), 0);
    assert_int_equal(lfp_rbucket_take(&b, 1, &res), EAGAIN); /* fail closed */
    assert_true(res.degraded);
    assert_int_equal(res.error, EPROTO);
    lfp_rbucket_destroy(&b);
}

struct acquirer {
    lfp_rsem *s;
    lfp_rsem_lease l;
    int64_t deadline;
    int rc;
    _Atomic bool done;
};

static void *acquire_thread(void *arg)
{
    struct acquirer *a = arg;
    a->rc = lfp_rsem_acquire(a->s, 1, &a->l, a->deadline, NULL);
    atomic_store(&a->done, true);
    return NULL;
}

struct attempts_reached {
    lfp_redis *r;
    uint64_t want;
    struct acquirer *a;
};

static bool attempts_reached(void *arg)
{
    struct attempts_reached *w = arg;
    return lfp_redis_connect_attempts(w->r) >= w->want || atomic_load(&w->a->done);
}

/* ------------------------------------------- the server's idle timeout */

static bool only_one_client(void *arg)
{
    (void)arg;
    redisReply *rep = redisCommand(rfix_own.raw, "INFO clients");
    bool one = rep && rep->type == REDIS_REPLY_STRING && strstr(rep->str, "connected_clients:1\r\n");
    if (rep) freeReplyObject(rep);
    return one;
}

/* A waiter blocks on the server (a blocking connection) until a release
 * through s grants it. */
static void hand_off_through_a_blocked_waiter(lfp_rsem *s)
{
    lfp_rsem_lease h;
    assert_int_equal(lfp_rsem_try_acquire(s, 1, &h), 0);
    struct acquirer a = { .s = s, .deadline = lfp_after(RFIX_PATIENT_NS) };
    pthread_t t;
    pthread_create(&t, NULL, acquire_thread, &a);
    struct rfix_blpop_watch watch = { .raw = rfix_own.raw };
    bool blocked = rfix_await(rfix_blocked_in_blpop, &watch, RFIX_PATIENT_NS);
    assert_int_equal(lfp_rsem_release(s, &h), 0); /* before asserting: the thread must end */
    pthread_join(t, NULL);
    assert_true(blocked);
    assert_int_equal(a.rc, 0);
    assert_int_equal(lfp_rsem_release(s, &a.l), 0);
}

/* The server's `timeout`: it closes every client idle for that long
 * (except one blocked in BLPOP). The command connection and the blocking
 * connection are both closed while idle; the next calls find them closed,
 * reconnect, and succeed: a release is not lost, and a waiter blocks on the
 * server again. The raw connection stays busy (it polls), so it is the one
 * client left. */
static void connections_the_server_timed_out_are_replaced(void **state)
{
    (void)state;
    rfix_start(&rfix_own.srv, NULL);
    rfix_own.raw = rfix_connect(&rfix_own.srv);
    struct lfp_redis_opts o = rfix_patient;
    o.pool_size = 1;
    lfp_redis *r = rfix_own.pool = rfix_open(&rfix_own.srv, &o);
    lfp_rsem s;
    lfp_rsem_lease l;
    assert_int_equal(lfp_rsem_init(&s, r, "idle", 1, LONG_NS), 0);
    hand_off_through_a_blocked_waiter(&s); /* the blocking connection is made */
    assert_int_equal(lfp_rsem_try_acquire(&s, 1, &l), 0);
    uint64_t connects = lfp_redis_connects(r);

    assert_true(raw_cmd("CONFIG SET timeout 1"));
    assert_true(rfix_await(only_one_client, NULL, RFIX_PATIENT_NS));
    assert_int_equal(lfp_rsem_release(&s, &l), 0); /* the weight is not left held */
    assert_int_equal(lfp_rsem_held(&s), 0);
    assert_int_equal(lfp_redis_connects(r), connects + 1);
    assert_true(rfix_await(only_one_client, NULL, RFIX_PATIENT_NS));
    hand_off_through_a_blocked_waiter(&s);
    assert_int_equal(lfp_redis_connects(r), connects + 3); /* and the blocking one */
    lfp_rsem_destroy(&s);
}

/* maxclients reached: the server accepts, answers "ERR max number of
 * clients reached" and closes. That is a transient refusal (EBUSY), with a
 * password or without; a blocking acquire keeps retrying it until its
 * deadline, and succeeds once the server takes clients again. */
static void maxclients_is_ebusy_and_blocking_calls_retry(void **state)
{
    (void)state;
    rfix_start(&rfix_own.srv, "pw");
    rfix_own.raw = rfix_connect(&rfix_own.srv);
    struct lfp_redis_opts o = rfix_patient;
    o.pool_size = 1;
    lfp_redis *r = rfix_own.pool = rfix_open(&rfix_own.srv, &o);
    lfp_rsem s;
    lfp_rsem_lease l;
    lfp_rbucket b;
    struct lfp_rbucket_opts bo = { .on_failure = LFP_RFAIL_ERROR };
    struct lfp_rbucket_result res;
    assert_int_equal(lfp_rsem_init(&s, r, "maxclients", 1, LONG_NS), 0);
    assert_int_equal(lfp_rbucket_init(&b, r, "maxclients", 10, 10, &bo), 0);

    assert_true(raw_cmd("CONFIG SET maxclients 1")); /* the raw connection is the one */
    lfp_redis *r2 = NULL;
    assert_int_equal(lfp_redis_open(&r2, rfix_own.srv.url, &rfix_patient), EBUSY); /* AUTH refused */
    kill_pool_connections();
    assert_int_equal(lfp_rsem_try_acquire(&s, 1, &l), EBUSY); /* the reconnect is refused */
    assert_int_equal(lfp_rbucket_take(&b, 1, &res), EBUSY);   /* within the backoff */
    assert_true(res.degraded);
    assert_int_equal(res.error, EBUSY);

    /* A blocking acquire retries until its deadline (not before). */
    int64_t deadline = lfp_after(300000000);
    assert_int_equal(lfp_rsem_acquire(&s, 1, &l, deadline, NULL), EBUSY);
    assert_true(lfp_now() >= deadline);

    /* ... and is granted once the server takes clients again: it has
     * retried (a connect attempt after its start) when the limit goes. */
    struct acquirer a = { .s = &s, .deadline = LFP_FOREVER };
    pthread_t t;
    pthread_create(&t, NULL, acquire_thread, &a);
    struct attempts_reached w = { r, lfp_redis_connect_attempts(r) + 2, &a };
    assert_true(rfix_await(attempts_reached, &w, RFIX_PATIENT_NS));
    assert_false(atomic_load(&a.done));
    assert_true(raw_cmd("CONFIG SET maxclients 1000"));
    pthread_join(t, NULL);
    assert_int_equal(a.rc, 0);
    assert_int_equal(lfp_rsem_release(&s, &a.l), 0);

    /* Without a password the refusal comes as the reply to SCRIPT LOAD. */
    assert_true(raw_cmd("CONFIG SET requirepass %s", ""));
    assert_true(raw_cmd("CONFIG SET maxclients 1"));
    char url[64];
    snprintf(url, sizeof url, "redis://127.0.0.1:%d", rfix_own.srv.port);
    assert_int_equal(lfp_redis_open(&r2, url, &rfix_patient), EBUSY);
    assert_true(raw_cmd("CONFIG SET maxclients 1000"));
    assert_int_equal(lfp_redis_open(&r2, url, &rfix_patient), 0);
    lfp_redis_close(r2);
    lfp_rbucket_destroy(&b);
    lfp_rsem_destroy(&s);
}

static redisContext *busy_conn; /* runs the endless script */

static int busy_teardown(void **state)
{
    if (busy_conn) redisFree(busy_conn);
    busy_conn = NULL;
    rfix_kill(&rfix_own.srv); /* a server still in the script ignores SIGTERM */
    return rfix_own_teardown(state);
}

/* A script running past busy-reply-threshold: the server answers BUSY to
 * everyone else, a transient refusal (EBUSY) that blocking calls retry. */
static void a_busy_server_is_ebusy(void **state)
{
    (void)state;
    rfix_start(&rfix_own.srv, NULL);
    rfix_own.raw = rfix_connect(&rfix_own.srv);
    lfp_redis *r = rfix_own.pool = rfix_open(&rfix_own.srv, NULL);
    lfp_rsem s;
    lfp_rsem_lease l;
    assert_int_equal(lfp_rsem_init(&s, r, "busy", 1, LONG_NS), 0);
    assert_int_equal(lfp_rsem_try_acquire(&s, 1, &l), 0);
    assert_int_equal(lfp_rsem_release(&s, &l), 0);
    assert_true(raw_cmd("CONFIG SET busy-reply-threshold 10"));
    busy_conn = rfix_connect(&rfix_own.srv);
    int done = 0;
    assert_int_equal(redisAppendCommand(busy_conn, "EVAL %s 0", "while true do end"), REDIS_OK);
    while (!done) assert_int_equal(redisBufferWrite(busy_conn, &done), REDIS_OK);
    /* Running (and past the threshold) once the raw connection is answered
     * BUSY: the server reads no other client while the script is younger. */
    bool busy = false;
    for (int64_t end = lfp_after(RFIX_PATIENT_NS); !busy && lfp_now() < end;) {
        redisReply *rep = redisCommand(rfix_own.raw, "PING");
        assert_non_null(rep);
        busy = rep->type == REDIS_REPLY_ERROR && strncmp(rep->str, "BUSY ", 5) == 0;
        freeReplyObject(rep);
    }
    assert_true(busy);
    assert_int_equal(lfp_rsem_try_acquire(&s, 1, &l), EBUSY);
    int64_t deadline = lfp_after(100000000);
    assert_int_equal(lfp_rsem_acquire(&s, 1, &l, deadline, NULL), EBUSY);
    assert_true(lfp_now() >= deadline);
    assert_true(raw_cmd("SCRIPT KILL"));
    void *rep = NULL;
    assert_int_equal(redisGetReply(busy_conn, &rep), REDIS_OK); /* the killed script's error */
    freeReplyObject(rep);
    assert_int_equal(lfp_rsem_try_acquire(&s, 1, &l), 0);
    assert_int_equal(lfp_rsem_release(&s, &l), 0);
    lfp_rsem_destroy(&s);
}

/* ------------------------------------------------ one deadline per call */

/* A proxy on 127.0.0.1 in front of the fixture server: requests go through
 * at once; replies too, or (drip) one byte per DRIP_NS, so every socket
 * read gets a byte well within any per-read timeout and only a deadline
 * for the whole call can end it. A thread per connection (at most
 * PROXY_CONNS), all polling with 10 ms timeouts so a stop ends them. */
#define DRIP_NS 50000000L /* 50 ms */
enum { PROXY_CONNS = 8 };

struct proxy {
    int listen_fd, port, upstream;
    _Atomic bool drip, stop;
    pthread_t acceptor, conn[PROXY_CONNS];
    int fds[PROXY_CONNS][2];
    int nconn;
};

struct proxy_link {
    struct proxy *p;
    int client, server;
};

static void *proxy_conn(void *arg)
{
    struct proxy_link *l = arg;
    struct pollfd pf[2] = { { .fd = l->client, .events = POLLIN }, { .fd = l->server, .events = POLLIN } };
    char buf[4096];
    while (!atomic_load(&l->p->stop)) {
        if (poll(pf, 2, 10) < 0) break;
        if (pf[0].revents) { /* requests: at once */
            ssize_t n = recv(l->client, buf, sizeof buf, 0);
            if (n <= 0 || send(l->server, buf, (size_t)n, MSG_NOSIGNAL) != n) break;
        }
        if (pf[1].revents) { /* replies: all, or one byte per DRIP_NS */
            bool drip = atomic_load(&l->p->drip);
            ssize_t n = recv(l->server, buf, drip ? 1 : sizeof buf, 0);
            if (n <= 0 || send(l->client, buf, (size_t)n, MSG_NOSIGNAL) != n) break;
            if (drip) nanosleep(&(struct timespec){ 0, DRIP_NS }, NULL); /* pacing */
        }
    }
    close(l->client);
    close(l->server);
    free(l);
    return NULL;
}

static void *proxy_accept(void *arg)
{
    struct proxy *p = arg;
    struct pollfd pf = { .fd = p->listen_fd, .events = POLLIN };
    while (!atomic_load(&p->stop) && p->nconn < PROXY_CONNS) {
        if (poll(&pf, 1, 10) <= 0) continue;
        int c = accept(p->listen_fd, NULL, NULL);
        if (c < 0) continue;
        int s = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
                                 .sin_port = htons((uint16_t)p->upstream) };
        if (s < 0 || connect(s, (struct sockaddr *)&a, sizeof a) != 0) {
            close(c);
            if (s >= 0) close(s);
            continue;
        }
        struct proxy_link *l = malloc(sizeof *l);
        *l = (struct proxy_link){ p, c, s };
        pthread_create(&p->conn[p->nconn++], NULL, proxy_conn, l);
    }
    return NULL;
}

static struct proxy proxy;

static void proxy_start(struct proxy *p, int upstream)
{
    *p = (struct proxy){ .upstream = upstream };
    p->listen_fd = black_hole(&p->port); /* a listener; this one accepts */
    pthread_create(&p->acceptor, NULL, proxy_accept, p);
}

static int proxy_teardown(void **state)
{
    if (proxy.listen_fd > 0) {
        atomic_store(&proxy.stop, true);
        pthread_join(proxy.acceptor, NULL);
        for (int i = 0; i < proxy.nconn; i++) pthread_join(proxy.conn[i], NULL);
        close(proxy.listen_fd);
    }
    proxy = (struct proxy){ 0 };
    return rfix_own_teardown(state);
}

#define CALL_NS INT64_C(200000000) /* the dripped pool's connect and command timeouts */
#define SLACK 5                    /* a generous bound: correctness, not speed */

/* Replies dripped a byte at a time: a call ends by its deadline (command
 * timeout for a live connection, connect + command timeout when it must
 * connect), not after a whole reply has trickled in. */
static void a_dripping_server_cannot_stretch_a_call(void **state)
{
    (void)state;
    rfix_start(&rfix_own.srv, NULL);
    proxy_start(&proxy, rfix_own.srv.port);
    char url[64];
    snprintf(url, sizeof url, "redis://127.0.0.1:%d", proxy.port);
    const struct lfp_redis_opts o = { .connect_timeout_ns = CALL_NS, .command_timeout_ns = CALL_NS,
                                      .pool_size = 1 };
    assert_int_equal(lfp_redis_open(&rfix_own.pool, url, &o), 0); /* not dripped yet */
    lfp_rbucket b;
    struct lfp_rbucket_opts bo = { .on_failure = LFP_RFAIL_ERROR };
    assert_int_equal(lfp_rbucket_init(&b, rfix_own.pool, "drip", 1e9 / LONG_NS, 100, &bo), 0);
    assert_int_equal(lfp_rbucket_take(&b, 1, NULL), 0);

    atomic_store(&proxy.drip, true);
    int64_t t0 = lfp_now();
    assert_int_equal(lfp_rbucket_take(&b, 1, NULL), EIO); /* a ~30-byte reply: 1.5 s of drip */
    int64_t took = lfp_now() - t0;
    t0 = lfp_now();
    assert_int_equal(lfp_rbucket_take(&b, 1, NULL), EIO); /* reconnects: AUTH-less SCRIPT LOADs dripped */
    int64_t re_took = lfp_now() - t0;
    t0 = lfp_now();
    lfp_redis *r = NULL;
    int e = lfp_redis_open(&r, url, &o); /* connect, then SCRIPT LOADs: seconds of drip */
    int64_t open_took = lfp_now() - t0;
    lfp_redis_close(r);
    printf("dripped replies: take %.0f ms (command timeout %.0f ms), take that reconnects %.0f ms and "
           "open %.0f ms (connect + command %.0f ms)\n",
           took / 1e6, CALL_NS / 1e6, re_took / 1e6, open_took / 1e6, 2 * CALL_NS / 1e6);
    assert_int_equal(e, EIO);
    assert_true(took <= SLACK * CALL_NS);
    assert_true(re_took <= SLACK * 2 * CALL_NS);
    assert_true(open_took <= SLACK * 2 * CALL_NS);
    lfp_rbucket_destroy(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(a_connection_killed_while_idle_is_replaced, rfix_own_teardown),
        cmocka_unit_test_teardown(the_backoff_follows_a_failed_connect_to_a_hung_server, rfix_own_teardown),
        cmocka_unit_test(sub_microsecond_timeouts_do_not_block_forever),
        cmocka_unit_test_teardown(acl_denials_are_eperm_and_wrong_passwords_eacces, rfix_own_teardown),
        cmocka_unit_test_teardown(a_key_of_the_wrong_type_is_eproto, rfix_own_teardown),
        cmocka_unit_test_teardown(maxclients_is_ebusy_and_blocking_calls_retry, rfix_own_teardown),
        cmocka_unit_test_teardown(connections_the_server_timed_out_are_replaced, rfix_own_teardown),
        cmocka_unit_test_teardown(a_busy_server_is_ebusy, busy_teardown),
        cmocka_unit_test_teardown(a_dripping_server_cannot_stretch_a_call, proxy_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
