/* SPDX-License-Identifier: BSD-2-Clause */
/* Test fixture shared by tests/redis and bench/bench_redis.c: a real
 * redis-server on a free 127.0.0.1 port, temp dir, no persistence, and the
 * helpers every redis test needs (a pool on it, waiting on outside state,
 * child processes, checks for the non-cmocka programs). A missing or
 * failing redis-server is a loud failure (exit 1), never a silent skip:
 * scripts/deps installs it. */
#ifndef LFPAT_REDIS_FIXTURE_H
#define LFPAT_REDIS_FIXTURE_H

#include <hiredis/hiredis.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "lfpat/redis.h"

struct rfix {
    pid_t pid;
    int port;
    char dir[64];
    char url[160];
    char password[32]; /* "" = none */
};

/* Start a server (password NULL = none); exits(1) with a message on failure. */
void rfix_start(struct rfix *f, const char *password);
/* Start a server without a password; false (with a message on stderr)
 * instead of exiting on failure. Not thread-safe (the benchmark calls it
 * once). */
bool rfix_try_start(struct rfix *f);
/* SIGKILL the server (an outage), and start it again on the same port. */
void rfix_kill(struct rfix *f);
void rfix_restart(struct rfix *f);
/* Freeze (SIGSTOP) or thaw (SIGCONT) the server: a hung, not dead, server. */
void rfix_freeze(struct rfix *f, bool frozen);
/* Stop the server (also a frozen one) and remove its directory. */
void rfix_stop(struct rfix *f);
/* A raw hiredis connection to the server (authenticated, RFIX_PATIENT_NS
 * timeouts); exits on failure. */
redisContext *rfix_connect(struct rfix *f);
/* For rfix_await(rfix_blocked_in_blpop, &watch, ...): a client of the
 * server has been seen blocked in BLPOP (CLIENT LIST on watch.raw). It
 * latches (seen), because a waiter leaves its BLPOP now and then to poll
 * and rfix_await checks once more at the end. */
struct rfix_blpop_watch {
    redisContext *raw;
    bool seen;
};
bool rfix_blocked_in_blpop(void *watch);
/* The server's TIME in microseconds. */
int64_t rfix_time_us(struct rfix *f);
/* A free loopback port (nothing listening). */
int rfix_free_port(void);

/* How long the tests wait for anything that only a busy machine delays: a
 * server to start or answer, a child to queue, a counter to move. Far above
 * any wait on an idle machine, so a loaded machine makes the tests slow, not
 * failed; below ctest's limit, so a real hang is still reported by the test. */
#define RFIX_PATIENT_NS INT64_C(240000000000) /* 240 s; ctest stops a test at 600 s */

/* Pool options for tests that do not test timeouts: RFIX_PATIENT_NS connect
 * and command timeouts (the library's default 200 ms is shorter than a
 * loaded machine can starve the server), default pool size. */
extern const struct lfp_redis_opts rfix_patient;

/* lfp_redis_open(f->url, o), o NULL = rfix_patient (not the library's
 * defaults); exits(1) with a message on failure. */
lfp_redis *rfix_open(struct rfix *f, const struct lfp_redis_opts *o);

/* For the cmocka programs, as cmocka_run_group_tests(tests,
 * rfix_group_setup, rfix_group_teardown): the setup starts rfix_srv (no
 * password) and opens rfix_pool on it (rfix_patient); the teardown
 * closes the pool and stops the server. */
extern struct rfix rfix_srv;
extern lfp_redis *rfix_pool;
int rfix_group_setup(void **state);
int rfix_group_teardown(void **state);

/* What one cmocka test makes beyond the group's server and pool, owned by
 * the test's teardown: a failed assertion longjmps out of the test, and
 * cmocka still runs the teardown, so nothing leaks (LeakSanitizer would
 * otherwise add a second, misleading report to the failure). Register the
 * test with cmocka_unit_test_teardown(test, rfix_own_teardown); the test
 * fills what it uses and frees none of it. */
struct rfix_own {
    redisContext *raw; /* e.g. rfix_connect(&rfix_srv) */
    lfp_redis *pool;   /* closed */
    struct rfix srv;   /* stopped and removed if started (also when killed) */
};
extern struct rfix_own rfix_own;
int rfix_own_teardown(void **state);

/* A key name no other test of this run uses: "<what>-<pid>-<seq>". */
void rfix_unique(char *buf, size_t n, const char *what);

/* Wait until done(arg) holds, at most timeout_ns; returns done(arg), which
 * is checked once more after the timeout. For state that another process
 * or the server changes, which offers nothing to block on: re-checks every
 * 2 ms. */
bool rfix_await(bool (*done)(void *arg), void *arg, int64_t timeout_ns);

/* Run fn(arg) in a child process that exits with fn's result (the parent's
 * stdio is flushed first; the child is killed if the parent dies). rfix_join reaps it: true iff it exited with 0. */
pid_t rfix_fork(int (*fn)(void *arg), void *arg);
bool rfix_join(pid_t pid);

/* Checks for the plain (non-cmocka) test programs: a failed check is
 * counted and printed, the program goes on; rfix_report prints
 * "<prog>: N failures" and returns the exit status. */
extern int rfix_failures;
#define RFIX_CHECK(cond)                                                                             \
    do {                                                                                             \
        if (!(cond)) {                                                                               \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);                 \
            rfix_failures++;                                                                         \
        }                                                                                            \
    } while (0)
int rfix_report(const char *prog);

#endif
