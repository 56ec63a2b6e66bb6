/* SPDX-License-Identifier: BSD-2-Clause */
/* lfpat-redis: URL parsing, the connection pool, script calls.
 *
 * Thread safety: each pool slot's hiredis context is touched only by the
 * thread holding that slot's mutex, so hiredis (not thread-safe, not
 * TSan-instrumented) never sees two threads at once and the mutex gives TSan
 * the happens-before between successive users. Everything else in lfp_redis
 * is written in lfp_redis_open before the pool is shared and read-only after.
 */
#include "internal.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>

#define URL_PREFIX "redis://"
#define HOST_MAX 255
#define SECRET_MAX 256
#define ARGV_MAX 16

struct lfp_rconn {
    alignas(LFP_CACHELINE) pthread_mutex_t mu;
    redisContext *c;  /* NULL or broken (c->err) = reconnect on next use */
    int64_t retry_at; /* fail fast with last_err until then */
    int last_err;
};

struct lfp_redis {
    char host[HOST_MAX + 1];
    int port;
    long db;
    char user[SECRET_MAX + 1], password[SECRET_MAX + 1]; /* "" = none */
    int64_t connect_ns, command_ns; /* the timeouts (> 0) */
    char sha[LFP_RS_COUNT][41]; /* SHA1 of each script, from SCRIPT LOAD */
    int64_t backoff_ns;         /* a slot fails fast this long after a failed connect */
    _Atomic uint64_t connects;  /* statistics only: relaxed */
    _Atomic uint64_t attempts;  /* connects tried (made or failed); relaxed */
    unsigned n;
    struct lfp_rconn *conns; /* n command slots, then n blocking slots (lfp_redis_blpop) */
};

/* ------------------------------------------------------------------ URL */

/* Parse a decimal in [lo, hi] spanning exactly [s, end). */
static bool parse_num(const char *s, const char *end, long lo, long hi, long *out)
{
    if (s == end || end - s > 9) return false;
    long v = 0;
    for (const char *p = s; p < end; p++) {
        if (*p < '0' || *p > '9') return false;
        v = v * 10 + (*p - '0');
    }
    if (v < lo || v > hi) return false;
    *out = v;
    return true;
}

static bool copy_part(char *dst, size_t cap, const char *s, const char *end)
{
    size_t n = (size_t)(end - s);
    if (n >= cap) return false;
    memcpy(dst, s, n);
    dst[n] = '\0';
    return true;
}

/* redis://[[user]:password@]host[:port][/db]. No percent-decoding: the
 * password is taken literally (it may contain '@' and ':'; the last '@'
 * ends it). */
static int parse_url(lfp_redis *r, const char *url)
{
    if (strncmp(url, URL_PREFIX, strlen(URL_PREFIX)) != 0) return EINVAL;
    const char *p = url + strlen(URL_PREFIX);
    const char *at = strrchr(p, '@');
    if (at) {
        const char *colon = memchr(p, ':', (size_t)(at - p));
        if (!colon || colon + 1 == at) return EINVAL; /* "user@" or "user:@" */
        if (!copy_part(r->user, sizeof r->user, p, colon) ||
            !copy_part(r->password, sizeof r->password, colon + 1, at))
            return EINVAL;
        p = at + 1;
    }
    const char *slash = strchr(p, '/');
    const char *end = slash ? slash : p + strlen(p);
    const char *colon = memchr(p, ':', (size_t)(end - p));
    const char *host_end = colon ? colon : end;
    if (host_end == p || !copy_part(r->host, sizeof r->host, p, host_end)) return EINVAL;
    for (const char *h = r->host; *h; h++)
        if (!(*h == '.' || *h == '-' || *h == '_' || (*h >= '0' && *h <= '9') ||
              (*h >= 'a' && *h <= 'z') || (*h >= 'A' && *h <= 'Z')))
            return EINVAL;
    long port = 6379;
    if (colon && !parse_num(colon + 1, end, 1, 65535, &port)) return EINVAL;
    r->port = (int)port;
    r->db = 0;
    if (slash && slash[1] && !parse_num(slash + 1, slash + strlen(slash), 0, 1000000, &r->db))
        return EINVAL;
    return 0;
}

/* ------------------------------------------------------------ replies */

/* The error reply's code (its first word) is `code`. */
static bool has_code(const char *msg, const char *code)
{
    size_t n = strlen(code);
    return strncmp(msg, code, n) == 0 && (msg[n] == ' ' || msg[n] == '\0');
}

int lfp_redis_error_code(const char *msg)
{
    /* Authentication: the password (or user) is wrong or missing. Redis < 6
     * says "ERR invalid password". */
    if (has_code(msg, "NOAUTH") || has_code(msg, "WRONGPASS") ||
        (has_code(msg, "ERR") && (strstr(msg, "invalid password") || strstr(msg, "invalid username"))))
        return EACCES;
    /* ACL: the user may not run the command or touch the key. */
    if (has_code(msg, "NOPERM")) return EPERM;
    /* Transient refusals: the command did not run; the same call can
     * succeed later. maxclients is refused at accept, before AUTH. BUSY is
     * a script or function running too long (not BUSYKEY). */
    if (has_code(msg, "LOADING") || has_code(msg, "BUSY") || has_code(msg, "TRYAGAIN") ||
        has_code(msg, "MASTERDOWN") || strncmp(msg, "ERR max number of clients reached", 33) == 0)
        return EBUSY;
    return EPROTO;
}

static int reply_error(const redisReply *rep)
{
    return lfp_redis_error_code(rep->str);
}

static int context_error(const redisContext *c)
{
    return c->err == REDIS_ERR_OOM ? ENOMEM : EIO;
}

/* Set c's socket timeouts to the time left before deadline, so the next
 * read or write ends by it. Out of time: c is marked broken (reconnected
 * on its next use, as after a timed-out read) and false returned. */
static bool time_left(redisContext *c, int64_t deadline)
{
    int64_t left = deadline - lfp_now();
    if (left > 0 && redisSetTimeout(c, lfp_redis_tv(left)) == REDIS_OK) return true;
    c->err = REDIS_ERR_IO;
    snprintf(c->errstr, sizeof c->errstr, "lfpat: the call's deadline passed");
    return false;
}

/* hiredis's redisGetReply, with the deadline: flush what is appended, then
 * read until one reply is complete. Every read and write is given only
 * the time left, so a server that drips its reply a byte at a time cannot
 * stretch the call past its deadline (a per-read timeout restarts with
 * every byte). Returns 0 with *out, or ENOMEM / EIO (c broken). */
static int get_reply(redisContext *c, int64_t deadline, redisReply **out)
{
    void *aux = NULL;
    if (redisGetReplyFromReader(c, &aux) != REDIS_OK) return context_error(c);
    for (int done = 0; !aux && !done;)
        if (!time_left(c, deadline) || redisBufferWrite(c, &done) != REDIS_OK) return context_error(c);
    while (!aux)
        if (!time_left(c, deadline) || redisBufferRead(c) != REDIS_OK ||
            redisGetReplyFromReader(c, &aux) != REDIS_OK)
            return context_error(c);
    *out = aux;
    return 0;
}

/* Run one command by deadline; returns 0 and the reply, or an error
 * (reply freed). */
static int command(redisContext *c, int64_t deadline, int argc, const char **argv, redisReply **out)
{
    redisReply *rep = NULL;
    if (redisAppendCommandArgv(c, argc, argv, NULL) != REDIS_OK) return context_error(c);
    int e = get_reply(c, deadline, &rep);
    if (e) return e;
    if (rep->type == REDIS_REPLY_ERROR) {
        int e = reply_error(rep);
        freeReplyObject(rep);
        return e;
    }
    *out = rep;
    return 0;
}

static int simple(redisContext *c, int64_t deadline, int argc, const char **argv)
{
    redisReply *rep = NULL;
    int e = command(c, deadline, argc, argv, &rep);
    if (!e) freeReplyObject(rep);
    return e;
}

/* SCRIPT LOAD one script; stores its SHA1 in sha if not NULL. */
static int load_script(redisContext *c, int64_t deadline, enum lfp_rscript s, char *sha)
{
    const char *argv[] = { "SCRIPT", "LOAD", lfp_rscript_text[s] };
    redisReply *rep = NULL;
    int e = command(c, deadline, 3, argv, &rep);
    if (e) return e;
    if (rep->type != REDIS_REPLY_STRING || rep->len != 40) e = EPROTO;
    else if (sha) memcpy(sha, rep->str, 41);
    freeReplyObject(rep);
    return e;
}

/* Connect, authenticate, select the database and load every script. The
 * TCP connect gets the connect timeout (and no more than *deadline leaves);
 * then *deadline becomes at most the command timeout from now, shared by
 * these commands and the ones the caller sends next. The script load
 * doubles as the check that no password is missing (NOAUTH). */
static int conn_open(lfp_redis *r, int64_t *deadline_p, redisContext **out, char (*sha)[41])
{
    /* relaxed: a statistic; orders nothing. */
    atomic_fetch_add_explicit(&r->attempts, 1, memory_order_relaxed);
    int64_t left = *deadline_p - lfp_now();
    if (left <= 0) return EIO;
    redisContext *c = redisConnectWithTimeout(r->host, r->port,
                                              lfp_redis_tv(left < r->connect_ns ? left : r->connect_ns));
    if (!c) return ENOMEM;
    int64_t commands_end = lfp_now() + r->command_ns;
    if (commands_end < *deadline_p) *deadline_p = commands_end;
    int64_t deadline = *deadline_p;
    int e = c->err ? EIO : 0;
    if (!e && r->password[0]) {
        const char *auth[] = { "AUTH", r->user, r->password };
        e = r->user[0] ? simple(c, deadline, 3, auth)
                       : simple(c, deadline, 2, (const char *[]){ "AUTH", r->password });
        /* "ERR ... no password is set" / "called without any password
         * configured" and the like; a transient refusal (maxclients) stays
         * EBUSY, a transport error EIO. */
        if (e == EPROTO) e = EACCES;
    }
    if (!e && r->db != 0) {
        char db[16];
        snprintf(db, sizeof db, "%ld", r->db);
        e = simple(c, deadline, 2, (const char *[]){ "SELECT", db });
    }
    for (int s = 0; !e && s < LFP_RS_COUNT; s++)
        e = load_script(c, deadline, (enum lfp_rscript)s, sha ? sha[s] : NULL);
    if (e) {
        redisFree(c);
        return e;
    }
    /* relaxed: a statistic; orders nothing. */
    atomic_fetch_add_explicit(&r->connects, 1, memory_order_relaxed);
    *out = c;
    return 0;
}

/* ------------------------------------------------------------------ pool */

struct timeval lfp_redis_tv(int64_t ns)
{
    /* Rounded UP to whole microseconds: truncation would make a timeout
     * under 1 us a zero timeval, which means "no timeout" to setsockopt. */
    int64_t us = ns <= 0 ? 1 : ns / 1000 + (ns % 1000 != 0);
    return (struct timeval){ .tv_sec = (time_t)(us / 1000000), .tv_usec = (suseconds_t)(us % 1000000) };
}

int lfp_redis_open(lfp_redis **out, const char *url, const struct lfp_redis_opts *opts)
{
    if (!out || !url) return EINVAL;
    struct lfp_redis_opts o = opts ? *opts : (struct lfp_redis_opts){ 0 };
    if (o.connect_timeout_ns < 0 || o.command_timeout_ns < 0 || o.backoff_ns < 0 || o.pool_size > 1024)
        return EINVAL;
    lfp_redis *r = calloc(1, sizeof *r);
    if (!r) return ENOMEM;
    int e = parse_url(r, url);
    if (e) goto fail;
    r->connect_ns = o.connect_timeout_ns ? o.connect_timeout_ns : 200000000;
    r->command_ns = o.command_timeout_ns ? o.command_timeout_ns : 200000000;
    r->backoff_ns = o.backoff_ns ? o.backoff_ns : LFP_REDIS_BACKOFF_NS;
    r->n = o.pool_size ? o.pool_size : 4;
    atomic_init(&r->connects, 0);
    atomic_init(&r->attempts, 0);
    r->conns = aligned_alloc(LFP_CACHELINE, 2 * r->n * sizeof *r->conns);
    if (!r->conns) {
        e = ENOMEM;
        goto fail;
    }
    for (unsigned i = 0; i < 2 * r->n; i++) {
        r->conns[i] = (struct lfp_rconn){ .c = NULL };
        pthread_mutex_init(&r->conns[i].mu, NULL);
    }
    int64_t deadline = lfp_now() + r->connect_ns + r->command_ns;
    e = conn_open(r, &deadline, &r->conns[0].c, r->sha);
    if (e) goto fail;
    *out = r;
    return 0;
fail:
    lfp_redis_close(r);
    return e;
}

void lfp_redis_close(lfp_redis *r)
{
    if (!r) return;
    for (unsigned i = 0; r->conns && i < 2 * r->n; i++) {
        if (r->conns[i].c) redisFree(r->conns[i].c);
        pthread_mutex_destroy(&r->conns[i].mu);
    }
    free(r->conns);
    free(r);
}

uint64_t lfp_redis_connects(const lfp_redis *r)
{
    /* relaxed: a statistic. */
    return r ? atomic_load_explicit(&r->connects, memory_order_relaxed) : 0;
}

uint64_t lfp_redis_connect_attempts(const lfp_redis *r)
{
    /* relaxed: a statistic. */
    return r ? atomic_load_explicit(&r->attempts, memory_order_relaxed) : 0;
}

/* Lock a slot: any free one, starting at this thread's own; else wait for
 * this thread's own (its holder leaves within the timeouts). */
static struct lfp_rconn *conn_lock(lfp_redis *r)
{
    unsigned s = lfp_thread_slot() % r->n;
    for (unsigned i = 0; i < r->n; i++) {
        struct lfp_rconn *k = &r->conns[(s + i) % r->n];
        if (pthread_mutex_trylock(&k->mu) == 0) return k;
    }
    pthread_mutex_lock(&r->conns[s].mu);
    return &r->conns[s];
}

/* A pooled connection the server closed while it sat idle (its `timeout`,
 * CLIENT KILL, a restart): the end of stream or a reset is already waiting
 * on the socket. A non-blocking peek (one syscall, no network traffic)
 * finds it before a command is sent on the connection, so the command is
 * never lost on a dead connection, and nothing is ever resent. Bytes
 * waiting on an idle connection (no reply is outstanding: every call reads
 * all of its replies) mean the stream is out of step: also replaced. */
static bool conn_closed(const redisContext *c)
{
    char byte;
    ssize_t n = recv(c->fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n >= 0) return true; /* 0: EOF; > 0: unsolicited bytes */
    return errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR;
}

/* With k locked: make sure k has a live context (reconnecting at most once
 * per backoff period). The backoff runs from the END of the failed attempt:
 * an attempt against a hung server lasts a whole timeout, which would use
 * up a backoff counted from its start. A call that connects gets the
 * connect timeout added to its deadline for the TCP connect (conn_open). */
static int conn_ready(lfp_redis *r, struct lfp_rconn *k, int64_t *deadline)
{
    if (k->c && !k->c->err && !conn_closed(k->c)) return 0;
    if (k->c) {
        redisFree(k->c);
        k->c = NULL;
    }
    if (lfp_now() < k->retry_at) return k->last_err;
    *deadline += r->connect_ns;
    int e = conn_open(r, deadline, &k->c, NULL);
    if (e) {
        k->retry_at = lfp_now() + r->backoff_ns;
        k->last_err = e;
    }
    return e;
}

/* ------------------------------------------------------------- EVALSHA */

static void free_replies(redisReply **rep, unsigned count)
{
    for (unsigned i = 0; i < count; i++) {
        if (rep[i]) freeReplyObject(rep[i]);
        rep[i] = NULL;
    }
}

/* Pipeline the command for every i with todo[i]; replies into rep[i].
 * Returns 0 (replies may be NOSCRIPT errors, left in rep) or a transport
 * error. */
static int pipeline(redisContext *c, int64_t deadline, int argc, const char **argv, unsigned count,
                    const bool *todo, redisReply **rep)
{
    for (unsigned i = 0; i < count; i++)
        if (todo[i] && redisAppendCommandArgv(c, argc, argv, NULL) != REDIS_OK) return context_error(c);
    for (unsigned i = 0; i < count; i++) {
        if (!todo[i]) continue;
        int e = get_reply(c, deadline, &rep[i]);
        if (e) return e;
    }
    return 0;
}

static bool is_noscript(const redisReply *rep)
{
    return rep && rep->type == REDIS_REPLY_ERROR && strncmp(rep->str, "NOSCRIPT", 8) == 0;
}

/* Run the pipeline; on NOSCRIPT reload the script and rerun only the
 * commands that did not run. Then map error replies. */
static int evalsha_on(redisContext *c, int64_t deadline, enum lfp_rscript script, int argc,
                      const char **argv, unsigned count, redisReply **rep, bool *todo)
{
    for (unsigned i = 0; i < count; i++) todo[i] = true;
    int e = pipeline(c, deadline, argc, argv, count, todo, rep);
    bool again = false;
    for (unsigned i = 0; !e && i < count; i++) {
        todo[i] = is_noscript(rep[i]);
        if (todo[i]) {
            freeReplyObject(rep[i]);
            rep[i] = NULL;
            again = true;
        }
    }
    if (!e && again) e = load_script(c, deadline, script, NULL);
    if (!e && again) e = pipeline(c, deadline, argc, argv, count, todo, rep);
    for (unsigned i = 0; !e && i < count; i++)
        if (rep[i]->type == REDIS_REPLY_ERROR) e = reply_error(rep[i]);
        else if (rep[i]->type != REDIS_REPLY_ARRAY) e = EPROTO;
    return e;
}

int lfp_redis_evalsha(lfp_redis *r, enum lfp_rscript script, int argc, const char *const *argv,
                      unsigned count, redisReply **rep)
{
    if (argc + 2 > ARGV_MAX || count == 0) return EINVAL;
    const char *av[ARGV_MAX];
    av[0] = "EVALSHA";
    av[1] = r->sha[script];
    memcpy(av + 2, argv, (size_t)argc * sizeof *argv);
    bool stack_todo[64];
    bool *todo = count <= 64 ? stack_todo : malloc(count * sizeof *todo);
    if (!todo) return ENOMEM;
    for (unsigned i = 0; i < count; i++) rep[i] = NULL;

    struct lfp_rconn *k = conn_lock(r);
    /* One deadline for everything the call does once it holds its slot:
     * the command timeout, plus the connect timeout if it must connect
     * (conn_ready adds it), covering the reconnect, AUTH, SELECT, SCRIPT
     * LOAD, the EVALSHAs and a NOSCRIPT reload. */
    int64_t deadline = lfp_now() + r->command_ns;
    int e = conn_ready(r, k, &deadline);
    if (!e) e = evalsha_on(k->c, deadline, script, argc + 2, av, count, rep, todo);
    pthread_mutex_unlock(&k->mu);

    if (todo != stack_todo) free(todo);
    if (e) free_replies(rep, count);
    return e;
}

bool lfp_reply_int(const redisReply *rep, size_t i, long long *v)
{
    if (!rep || rep->type != REDIS_REPLY_ARRAY || i >= rep->elements) return false;
    const redisReply *el = rep->element[i];
    if (el->type != REDIS_REPLY_INTEGER) return false;
    *v = el->integer;
    return true;
}

int lfp_redis_make_key(char *key, const char *prefix, const char *name)
{
    if (!name || !name[0]) return EINVAL;
    size_t n = strnlen(name, LFP_REDIS_NAME_MAX + 1);
    if (n > LFP_REDIS_NAME_MAX) return ENAMETOOLONG;
    /* The braces make the name (up to its first '}') the Cluster hash tag,
     * so every key "<prefix>{name}<suffix>" of a limiter is in one slot. A
     * name starting with '}' would make the tag empty, and Redis would
     * hash each whole key instead: such a name gets a '\' in front, and so
     * does a name starting with '\', which keeps the keys of different
     * names different. Other names are used as they are. */
    const char *esc = name[0] == '}' || name[0] == '\\' ? "\\" : "";
    snprintf(key, LFP_REDIS_NAME_MAX + 16, "%s{%s%s}", prefix, esc, name);
    return 0;
}

/* Blocking slots: a BLPOP holds its connection until it returns, so it
 * never takes a command slot (a release in another thread must not wait
 * behind a blocked waiter) and never waits for a blocking slot (trylock
 * only: the caller falls back to polling). A blocking slot connects when
 * first used and follows the same reconnect and backoff rules. */
int lfp_redis_blpop(lfp_redis *r, const char *key, int64_t timeout_ns)
{
    if (timeout_ns <= 0) return ETIMEDOUT;
    struct lfp_rconn *k = NULL;
    unsigned s = lfp_thread_slot() % r->n;
    for (unsigned i = 0; !k && i < r->n; i++) {
        struct lfp_rconn *t = &r->conns[r->n + (s + i) % r->n];
        if (pthread_mutex_trylock(&t->mu) == 0) k = t;
    }
    if (!k) return EAGAIN;
    /* Seconds with decimals (Redis >= 6), rounded up to whole ms (the
     * server's resolution), never 0 (which would block forever). */
    int64_t ms = timeout_ns / 1000000 + (timeout_ns % 1000000 != 0);
    char secs[32];
    snprintf(secs, sizeof secs, "%lld.%03lld", (long long)(ms / 1000), (long long)(ms % 1000));
    /* One deadline for the call: the BLPOP's own timeout plus the command
     * timeout (plus the connect timeout if it must connect). */
    int64_t deadline = lfp_now() + r->command_ns + ms * 1000000;
    redisReply *rep = NULL;
    int e = conn_ready(r, k, &deadline);
    if (!e) e = command(k->c, deadline, 3, (const char *[]){ "BLPOP", key, secs }, &rep);
    pthread_mutex_unlock(&k->mu);
    if (e) return e;
    e = rep->type == REDIS_REPLY_NIL ? ETIMEDOUT : rep->type == REDIS_REPLY_ARRAY ? 0 : EPROTO;
    freeReplyObject(rep);
    return e;
}
