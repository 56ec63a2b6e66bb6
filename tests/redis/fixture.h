/* Test fixture: a real redis-server on a free 127.0.0.1 port, temp dir, no
 * persistence. A missing or failing redis-server is a loud failure (exit 1),
 * never a silent skip: scripts/deps installs it. */
#ifndef LFPAT_REDIS_FIXTURE_H
#define LFPAT_REDIS_FIXTURE_H

#include <hiredis/hiredis.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

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
/* Stop the server and remove its directory. */
void rfix_stop(struct rfix *f);
/* A raw hiredis connection to the server (authenticated); exits on failure. */
redisContext *rfix_connect(struct rfix *f);
/* The server's TIME in microseconds. */
int64_t rfix_time_us(struct rfix *f);
/* A free loopback port (nothing listening). */
int rfix_free_port(void);

#endif
