/* SPDX-License-Identifier: BSD-2-Clause */
/* Internal interface of lfpat-redis: the connection pool and script calls. */
#ifndef LFPAT_REDIS_INTERNAL_H
#define LFPAT_REDIS_INTERNAL_H

#include "lfpat/redis.h"

#include <hiredis/hiredis.h>
#include <sys/time.h>

/* The Lua scripts, by index (scripts.c). */
enum lfp_rscript { LFP_RS_GCRA = 0, LFP_RS_SEM, LFP_RS_COUNT };
extern const char *const lfp_rscript_text[LFP_RS_COUNT];

/* Run EVALSHA of `script` with argv (numkeys, keys..., args...; argc <= 14)
 * `count` times in one pipelined round trip; replies[i] gets the i-th reply
 * (an array; the caller frees each with freeReplyObject). Reloads the script
 * and retries once on NOSCRIPT. Returns 0, or EIO / EACCES / EPERM / EBUSY /
 * EPROTO / ENOMEM (as in redis.h) with every replies[i] NULL. */
int lfp_redis_evalsha(lfp_redis *r, enum lfp_rscript script, int argc, const char *const *argv,
                      unsigned count, redisReply **replies);

/* BLPOP key with a timeout of timeout_ns (rounded up to whole ms) on one
 * of the pool's blocking connections, under one deadline: the timeout plus
 * the command timeout (plus the connect timeout if it must connect).
 * Returns 0 (an element was popped), ETIMEDOUT (none within the timeout,
 * or timeout_ns <= 0: nothing sent), EAGAIN (every blocking connection is
 * in use: nothing sent), or EIO / EACCES / EPERM / EBUSY / EPROTO / ENOMEM. */
int lfp_redis_blpop(lfp_redis *r, const char *key, int64_t timeout_ns);

/* The errno for an error reply's message: EACCES (NOAUTH, WRONGPASS),
 * EPERM (NOPERM), EBUSY (maxclients, LOADING, BUSY, TRYAGAIN, MASTERDOWN),
 * else EPROTO. */
int lfp_redis_error_code(const char *msg);

/* A timeout in ns as a socket timeval, rounded up to whole microseconds
 * and at least 1 us (a zero timeval would mean no timeout at all). */
struct timeval lfp_redis_tv(int64_t ns);

/* Integer element i of an array reply, or false if it is not one. */
bool lfp_reply_int(const redisReply *rep, size_t i, long long *v);

/* Check a user key name; build "<prefix>{name}" into key (size
 * LFP_REDIS_NAME_MAX + 16), "<prefix>{\name}" for a name starting with '}'
 * or '\' (a non-empty hash tag). Returns 0, EINVAL, ENAMETOOLONG. */
int lfp_redis_make_key(char *key, const char *prefix, const char *name);

/* Every key of semaphore s, as its script is called with: the holders
 * (s->key), then :w, :q, :t, :qw, :f (the fencing token). */
enum { LFP_RSEM_NKEYS = 6, LFP_RSEM_KEY = LFP_REDIS_NAME_MAX + 24 };
void lfp_rsem_keys(const lfp_rsem *s, char keys[LFP_RSEM_NKEYS][LFP_RSEM_KEY]);

#endif
