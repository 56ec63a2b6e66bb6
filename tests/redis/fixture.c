/* SPDX-License-Identifier: BSD-2-Clause */
#include "fixture.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static bool die_on_failure = true;

/* Report a failure: fatal for tests (they never skip), an error return for
 * the benchmark (rfix_try_start). */
static bool die(struct rfix *f, const char *what)
{
    fprintf(stderr, "redis fixture: %s: %s (port %d, dir %s). redis-server must be installed "
                    "(scripts/deps installs it)%s\n",
            die_on_failure ? "FATAL" : "error", what, f->port, f->dir,
            die_on_failure ? "; these tests never skip." : ".");
    if (f->pid > 0) {
        kill(f->pid, SIGKILL);
        waitpid(f->pid, NULL, 0);
    }
    f->pid = 0;
    if (die_on_failure) exit(1);
    return false;
}

int rfix_free_port(void)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof a;
    if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof a) != 0 ||
        getsockname(s, (struct sockaddr *)&a, &len) != 0) {
        perror("rfix_free_port");
        exit(1);
    }
    close(s);
    return ntohs(a.sin_port);
}

static void pause_ms(int ms)
{
    struct timespec ts = { 0, ms * 1000000L };
    nanosleep(&ts, NULL);
}

/* The server answering on f->port is the one we forked: another test
 * process may have picked the same free port at the same moment, and then
 * our server exits (address in use) while theirs answers our PING. */
static bool is_our_server(struct rfix *f, redisContext *c)
{
    if (f->password[0]) {
        redisReply *a = redisCommand(c, "AUTH %s", f->password);
        if (!a) return false;
        freeReplyObject(a);
    }
    redisReply *r = redisCommand(c, "INFO server");
    if (!r) return false;
    const char *p = r->type == REDIS_REPLY_STRING ? strstr(r->str, "process_id:") : NULL;
    bool ours = p && atol(p + strlen("process_id:")) == (long)f->pid;
    freeReplyObject(r);
    return ours;
}

/* The server's log says its port was taken: another process bound the
 * free port between rfix_free_port's probe and the server's bind. */
static bool port_was_taken(const struct rfix *f)
{
    char path[160], line[512];
    snprintf(path, sizeof path, "%s/redis.log", f->dir);
    FILE *log = fopen(path, "r");
    bool taken = false;
    while (log && !taken && fgets(line, sizeof line, log))
        taken = strstr(line, "Address already in use") != NULL;
    if (log)
        fclose(log);
    return taken;
}

enum spawn_result { SPAWN_OK, SPAWN_PORT_TAKEN, SPAWN_FAILED };

static enum spawn_result spawn(struct rfix *f)
{
    char port[16], log[128];
    snprintf(port, sizeof port, "%d", f->port);
    snprintf(log, sizeof log, "%s/redis.log", f->dir);
    unlink(log);   /* port_was_taken reads this start's log only */
    const char *argv[] = { "redis-server", "--port", port, "--bind", "127.0.0.1", "--dir", f->dir,
                           "--save", "", "--appendonly", "no", "--daemonize", "no",
                           "--logfile", log, "--requirepass", f->password, NULL };
    if (!f->password[0]) argv[15] = NULL; /* no --requirepass */
    pid_t parent = getpid();
    f->pid = fork();
    if (f->pid < 0) return die(f, "fork failed"), SPAWN_FAILED;
    if (f->pid == 0) {
        /* The server dies with the test, even if the test crashes. */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent) _exit(126);
        execvp("redis-server", (char *const *)argv);
        _exit(127);
    }
    /* Wait (bounded) until it answers PING: an external process's
     * readiness has no state to wait on but the socket. */
    for (int64_t deadline = lfp_after(RFIX_PATIENT_NS); lfp_now() < deadline;) {
        int st;
        if (waitpid(f->pid, &st, WNOHANG) == f->pid) {
            f->pid = 0;
            if (port_was_taken(f))
                return SPAWN_PORT_TAKEN;
            die(f, WIFEXITED(st) && WEXITSTATUS(st) == 127 ? "redis-server not found in PATH"
                                                          : "redis-server exited at start");
            return SPAWN_FAILED;
        }
        redisContext *c = redisConnectWithTimeout("127.0.0.1", f->port, (struct timeval){ 0, 100000 });
        if (c && !c->err) {
            bool ours = is_our_server(f, c);
            redisFree(c);
            if (ours) return SPAWN_OK;
        } else if (c) {
            redisFree(c);
        }
        pause_ms(10);
    }
    die(f, "redis-server did not answer within RFIX_PATIENT_NS (240 s)");
    return SPAWN_FAILED;
}

/* Attempts at a fresh free port when another process took ours. */
#define SPAWN_ATTEMPTS 8

static bool start(struct rfix *f, const char *password)
{
    memset(f, 0, sizeof *f);
    snprintf(f->password, sizeof f->password, "%s", password ? password : "");
    strcpy(f->dir, "/tmp/lfpat-redis-XXXXXX");
    if (!mkdtemp(f->dir)) return die(f, "mkdtemp failed");
    enum spawn_result r = SPAWN_PORT_TAKEN;
    for (int attempt = 0; r == SPAWN_PORT_TAKEN && attempt < SPAWN_ATTEMPTS; attempt++) {
        f->port = rfix_free_port();
        snprintf(f->url, sizeof f->url, "redis://%s%s%s127.0.0.1:%d/0",
                 f->password[0] ? ":" : "", f->password, f->password[0] ? "@" : "", f->port);
        r = spawn(f);
    }
    if (r == SPAWN_OK) return true;
    if (r == SPAWN_PORT_TAKEN) die(f, "every free port was taken before redis-server bound it");
    rmdir(f->dir);
    return false;
}

void rfix_start(struct rfix *f, const char *password)
{
    start(f, password);
}

bool rfix_try_start(struct rfix *f)
{
    die_on_failure = false;
    bool ok = start(f, NULL);
    die_on_failure = true;
    return ok;
}

void rfix_kill(struct rfix *f)
{
    if (f->pid > 0) {
        kill(f->pid, SIGKILL);
        waitpid(f->pid, NULL, 0);
    }
    f->pid = 0;
}

void rfix_restart(struct rfix *f)
{
    rfix_kill(f);
    /* Same port: the clients under test hold its URL. */
    if (spawn(f) == SPAWN_PORT_TAKEN)
        die(f, "the port was taken while the server was down");
}

void rfix_freeze(struct rfix *f, bool frozen)
{
    if (f->pid > 0) kill(f->pid, frozen ? SIGSTOP : SIGCONT);
}

void rfix_stop(struct rfix *f)
{
    if (f->pid > 0) {
        kill(f->pid, SIGTERM);
        kill(f->pid, SIGCONT); /* a frozen server (a failed test) must still end */
        waitpid(f->pid, NULL, 0);
    }
    f->pid = 0;
    char log[128];
    snprintf(log, sizeof log, "%s/redis.log", f->dir);
    unlink(log);
    rmdir(f->dir);
}

static const struct timeval patient_tv = { RFIX_PATIENT_NS / 1000000000, 0 };

redisContext *rfix_connect(struct rfix *f)
{
    redisContext *c = redisConnectWithTimeout("127.0.0.1", f->port, patient_tv);
    if (!c || c->err || redisSetTimeout(c, patient_tv) != REDIS_OK) die(f, "cannot connect");
    if (f->password[0]) {
        redisReply *r = redisCommand(c, "AUTH %s", f->password);
        if (!r || r->type == REDIS_REPLY_ERROR) die(f, "AUTH failed");
        freeReplyObject(r);
    }
    return c;
}

bool rfix_blocked_in_blpop(void *watch)
{
    struct rfix_blpop_watch *w = watch;
    /* One line per client; cmd= is its last command, so "flags=b" (blocked
     * now) must be on the same line. */
    redisReply *rep = w->seen ? NULL : redisCommand(w->raw, "CLIENT LIST");
    if (rep && rep->type == REDIS_REPLY_STRING)
        for (char *line = strtok(rep->str, "\n"); line && !w->seen; line = strtok(NULL, "\n"))
            w->seen = strstr(line, " flags=b ") && strstr(line, " cmd=blpop ");
    if (rep) freeReplyObject(rep);
    return w->seen;
}

int64_t rfix_time_us(struct rfix *f)
{
    redisContext *c = rfix_connect(f);
    redisReply *r = redisCommand(c, "TIME");
    if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 2) die(f, "TIME failed");
    int64_t us = strtoll(r->element[0]->str, NULL, 10) * 1000000 + strtoll(r->element[1]->str, NULL, 10);
    freeReplyObject(r);
    redisFree(c);
    return us;
}

const struct lfp_redis_opts rfix_patient = { .connect_timeout_ns = RFIX_PATIENT_NS,
                                              .command_timeout_ns = RFIX_PATIENT_NS };

lfp_redis *rfix_open(struct rfix *f, const struct lfp_redis_opts *o)
{
    if (!o) o = &rfix_patient;
    lfp_redis *r = NULL;
    int e = lfp_redis_open(&r, f->url, o);
    if (e) {
        fprintf(stderr, "redis fixture: lfp_redis_open(%s): %s\n", f->url, strerror(e));
        exit(1);
    }
    return r;
}

struct rfix rfix_srv;
lfp_redis *rfix_pool;

int rfix_group_setup(void **state)
{
    (void)state;
    rfix_start(&rfix_srv, NULL);
    rfix_pool = rfix_open(&rfix_srv, NULL); /* rfix_patient */
    return 0;
}

int rfix_group_teardown(void **state)
{
    (void)state;
    lfp_redis_close(rfix_pool);
    rfix_stop(&rfix_srv);
    return 0;
}

struct rfix_own rfix_own;

int rfix_own_teardown(void **state)
{
    (void)state;
    lfp_redis_close(rfix_own.pool);
    if (rfix_own.raw) redisFree(rfix_own.raw);
    if (rfix_own.srv.dir[0]) rfix_stop(&rfix_own.srv); /* also when killed */
    rfix_own = (struct rfix_own){ 0 };
    return 0;
}

void rfix_unique(char *buf, size_t n, const char *what)
{
    static int seq;
    snprintf(buf, n, "%s-%d-%d", what, (int)getpid(), ++seq);
}

bool rfix_await(bool (*done)(void *arg), void *arg, int64_t timeout_ns)
{
    int64_t deadline = lfp_after(timeout_ns);
    while (!done(arg) && lfp_now() < deadline) pause_ms(2);
    return done(arg);
}

pid_t rfix_fork(int (*fn)(void *arg), void *arg)
{
    fflush(NULL);
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        perror("rfix_fork");
        exit(1);
    }
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL); /* no orphan outlives a failed test */
        if (getppid() != parent) _exit(126);
        _exit(fn(arg));
    }
    return pid;
}

bool rfix_join(pid_t pid)
{
    int st;
    return waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

int rfix_failures;

int rfix_report(const char *prog)
{
    printf("%s: %d failures\n", prog, rfix_failures);
    return rfix_failures ? 1 : 0;
}
