/* SPDX-License-Identifier: BSD-2-Clause */
/* lfpat/redis.h — limits shared across processes and hosts through Redis:
 * a GCRA token bucket (lfp_rbucket), a weighted semaphore with leases
 * (lfp_rsem), token leasing, and a caller-chosen failure policy.
 *
 * Optional component: library target lfpat::redis (liblfpat_redis), built
 * only when hiredis is found. Needs Redis >= 5 (scripts may call TIME and
 * then write, script-effects replication); lfp_rsem's server-side wake-ups
 * need Redis >= 6 (BLPOP with a fractional timeout): on Redis 5 the BLPOP
 * is refused and waiters poll instead (see lfp_rsem, "Hand-off").
 *
 * Connection. lfp_redis_open(url) parses redis://[:password@]host[:port][/db]
 * and keeps a small pool of hiredis connections. Each connection is used by
 * one thread at a time under its own mutex; a thread takes a free one
 * (trylock, starting at its own slot) or waits for its own slot's. A broken
 * connection is reconnected on its next use, and so is one the server
 * closed while it sat idle (the server's `timeout`, CLIENT KILL, a
 * restart): a non-blocking peek at the socket before each call finds the
 * closed stream, so no command is sent on it. A command that may have
 * reached the server is never resent: a connection that breaks during a
 * call fails that call (EIO). After a failed connect the slot
 * fails fast (the failed attempt's code, no network I/O) for the backoff
 * (LFP_REDIS_BACKOFF_NS by default), counted from the end of the failed
 * attempt, so an outage or a hung server costs callers a mutex, not a
 * timeout each.
 *
 * Deadline. Each call, once it holds its pool slot, runs under one deadline
 * computed when it starts: command_timeout for everything it sends, plus
 * connect_timeout for the TCP connect when it must (re)connect. AUTH,
 * SELECT, SCRIPT LOAD, the EVALSHAs and a NOSCRIPT reload all share the
 * command timeout; every socket read and write is given only the time left,
 * so a server that answers a byte at a time cannot stretch a call either.
 * So a call returns within command_timeout of getting its slot on a live
 * connection, within connect_timeout + command_timeout when it connects
 * (lfp_redis_open too), and at once during the backoff. Waiting for a pool
 * slot when every slot is busy is not in that deadline: each holder ahead
 * leaves within the bound, so give the pool at least as many connections
 * as threads that call it for a strict per-call bound. A call whose
 * deadline passes fails with EIO (not ETIMEDOUT, which lfp_rsem_acquire
 * returns for a passed acquire deadline), and its connection is
 * replaced on the next call. Host name lookup
 * (getaddrinfo) is not bounded by these timeouts: use an IP address, or a
 * name the local resolver answers at once, where that matters.
 *
 * Atomicity and time. Every decision is one Lua script run by the server
 * (atomic: Redis runs scripts one at a time). Scripts are loaded with
 * SCRIPT LOAD when a connection is made, called with EVALSHA, and reloaded
 * when the server answers NOSCRIPT (after SCRIPT FLUSH or a failover). The
 * scripts read the server's clock (TIME), never the client's, so client
 * clock skew cannot mint tokens or stretch leases. Arithmetic in the scripts is integer-exact:
 * Lua numbers are doubles, exact to 2^53; bucket times are nanoseconds
 * relative to a per-key base second that is moved forward once a day, so
 * every value stays below 2^51 (see scripts.c).
 *
 * Keys: lfp:rb:{name} (bucket), lfp:rs:{name} and lfp:rs:{name}:<suffix>
 * (semaphore); the braces keep a semaphore's keys in one cluster slot (the
 * hash tag is the name up to its first '}'). A name starting with '}' or
 * '\' is written with a '\' in front (lfp:rb:{\}x} for "}x"), so the tag is
 * never empty and different names never share a key. Names are C strings
 * (any bytes but NUL).
 * Every key carries a TTL, so idle keys vanish: a bucket key expires when it
 * is equivalent to a full bucket, a semaphore's keys when its last lease or
 * ticket ends.
 *
 * Return codes (as common.h, plus). The server-side ones (EIO, EBUSY,
 * EACCES, EPERM, EPROTO) come from lfp_redis_open and lfp_rsem_*, and from
 * lfp_rbucket_* only under LFP_RFAIL_ERROR (else the failure policy
 * answers and res->error carries the code):
 *   EIO          Redis unreachable, connection broken, or command timed out
 *   EBUSY        the server refused for now; the command did not run and the
 *                same call can succeed later: maxclients reached ("ERR max
 *                number of clients reached"), LOADING (loading its dataset),
 *                BUSY (a script or function running too long), TRYAGAIN,
 *                MASTERDOWN. Blocking calls (lfp_rsem_acquire) retry it
 *                until their deadline, like EIO.
 *   EACCES       authentication failed: the server refused the user or
 *                password (NOAUTH, WRONGPASS), or wants one and none was
 *                given, or was given one and has none
 *   EPERM        permission denied by an ACL (NOPERM): the user may not run
 *                a command lfpat needs (SCRIPT, EVALSHA) or touch the key
 *   ESTALE       lfp_rsem_renew / lfp_rsem_release: the lease is no longer
 *                held (it expired, or the server lost it)
 *   ENAMETOOLONG a key name longer than LFP_REDIS_NAME_MAX bytes
 *   EINVAL       malformed URL, NULL, rate <= 0 or not finite, rate above
 *                1e9/s, burst 0, n == 0 or n > burst, weight outside
 *                [1, capacity], lease <= 0, a negative timeout or backoff
 *   EPROTO       the server answered something unexpected (wrong database
 *                number, a key of the wrong type, any other error reply)
 *   ENOMEM       out of memory (here, not on the server)
 * EACCES, EPERM and EPROTO are not transient: blocking calls return them at
 * once.
 *
 * Copying: an lfp_rbucket or lfp_rsem must not be copied or moved after
 * init: an lfp_rbucket holds a pthread mutex (POSIX forbids copying one) and
 * its unspent leased tokens, which a copy would spend twice; lfp_rsem's
 * waiters park on the eventcount inside it. lfp_redis is opaque (used only
 * through the pointer lfp_redis_open gives); lfp_rsem_lease and the opts and
 * result structs are plain values and may be copied.
 *
 * Fork: a child of fork must not use a connection pool the parent opened, or
 * a handle on it: its sockets are shared with the parent, so the requests and
 * replies of the two processes would interleave. The child opens its own
 * (lfp_redis_open) and makes its handles on that.
 */
#ifndef LFPAT_REDIS_H
#define LFPAT_REDIS_H

#include "lfpat/common.h"
#include "lfpat/eventcount.h"
#include "lfpat/ratelimit.h"

#include <pthread.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Longest accepted key name (the user part, bytes). Redis itself allows far
 * longer keys; long keys cost memory and bandwidth on every call, so lfpat
 * rejects them with ENAMETOOLONG. */
#define LFP_REDIS_NAME_MAX 256

/* How long a pool slot fails fast after a failed connect, by default
 * (lfp_redis_opts.backoff_ns), counted from the end of the failed attempt. */
#define LFP_REDIS_BACKOFF_NS 100000000 /* 100 ms */

typedef struct lfp_redis lfp_redis; /* opaque: the connection pool */

struct lfp_redis_opts {
    int64_t connect_timeout_ns; /* TCP connect; 0 = 200 ms; rounded up to whole us (never "none") */
    int64_t command_timeout_ns; /* all the commands of one call; 0 = 200 ms; rounded up to whole us */
    unsigned pool_size;         /* command connections; 0 = 4; plus as many for lfp_rsem
                                   waiters' BLPOPs, each made when first needed */
    int64_t backoff_ns;         /* fail fast after a failed connect; 0 = LFP_REDIS_BACKOFF_NS */
};

/* Parse `url` (redis://[:password@]host[:port][/db]; port 6379 and db 0 by
 * default; host is a name or an IPv4 address; IPv6 literals are not
 * supported), make the pool (opts NULL = defaults) and connect one connection
 * to check the URL, the password and the database at once.
 *
 * Returns 0 and stores the pool in *out; EINVAL for a malformed URL, NULL,
 * or a negative timeout or backoff; EACCES if the server rejected the user
 * or password or needs one; EPERM if the user may not load scripts (ACL);
 * EBUSY if the server refused for now (maxclients, LOADING, ...); EIO if
 * the server cannot be reached within the timeouts; EPROTO if SELECT db
 * failed; ENOMEM. On error *out is untouched and nothing is leaked.
 * Progress: blocking (network), bounded by the timeouts. */
LFP_API int lfp_redis_open(lfp_redis **out, const char *url, const struct lfp_redis_opts *opts);

/* Close every connection and free the pool. Every object made on it must be
 * destroyed first, and no call may be in flight. NULL is ignored. */
LFP_API void lfp_redis_close(lfp_redis *r);

/* Connections made so far (successful connects, including reconnects). */
LFP_API uint64_t lfp_redis_connects(const lfp_redis *r);

/* Connects tried so far, made or failed (lfp_redis_open's included): a
 * call that fails fast during the backoff tries none. A statistic. */
LFP_API uint64_t lfp_redis_connect_attempts(const lfp_redis *r);

/* ----------------------------------------------------------- failure policy
 *
 * What a limiter decision does when Redis cannot answer (unreachable, broken
 * connection, command timeout, an unexpected reply):
 *
 *   LFP_RFAIL_CLOSED  deny: the call returns EAGAIN. Nothing is over-admitted
 *                     during an outage; the service sheds all limited work.
 *   LFP_RFAIL_OPEN    allow: the call returns 0. Availability first; the
 *                     limit is not enforced at all during the outage.
 *   LFP_RFAIL_LOCAL   decide with this process's own lock-free lfp_bucket
 *                     (ratelimit.h) at `local_share` x rate, burst
 *                     floor(local_share x burst) but at least 1 token; a
 *                     take above that local burst is denied. With N
 *                     processes each given share 1/N the cluster stays near
 *                     its limit (change the share as N changes:
 *                     lfp_rbucket_set_local_share). The local bucket starts
 *                     full, keeps its own state across outages, is used only
 *                     while Redis does not answer and is not synchronised
 *                     with Redis. Its interval is 1e9/(share x rate) rounded
 *                     to the nearest ns (lfp_bucket's rule).
 *   LFP_RFAIL_ERROR   return the error (EIO, EBUSY, EPERM, EACCES, EPROTO)
 *                     and let the caller decide.
 *
 * In every case the result says `degraded` and carries the error, and
 * service resumes by itself once Redis answers again (reconnect and script
 * reload are automatic). The caller waits at most connect + command timeout.
 */
enum lfp_rfail { LFP_RFAIL_CLOSED = 0, LFP_RFAIL_OPEN, LFP_RFAIL_LOCAL, LFP_RFAIL_ERROR };

/* ----------------------------------------------------------- lfp_rbucket
 *
 * GCRA (the leaky bucket as a meter, as redis-cell's CL.THROTTLE): the key
 * stores the theoretical arrival time TAT. A take of n at server time now is
 * allowed iff max(TAT, now) + n*T - now <= burst*T, where T is the emission
 * interval 1/rate rounded UP to whole nanoseconds (so the enforced rate is
 * never above the requested one); an allowed take stores the new TAT.
 * Guarantee: from any start, the takes allowed by the server during an
 * interval of length E total at most burst + E*rate tokens (+1 for the
 * rounding of the interval ends), however many clients there are.
 *
 * Token leasing (lease_batch > 0): a thread that finds the process-local
 * lease empty takes up to lease_batch tokens at once from the server (one
 * EVALSHA, as many as are available, at least the n it needs), and later takes
 * are served from the local lease with one atomic CAS and no round trip.
 * The lease is a plain atomic count of server-admitted tokens, deliberately
 * not an lfp_bucket: a bucket refills with time, and a local refill would
 * mint tokens the server never granted. (The lfp_bucket is the LOCAL
 * fallback's.) Every leased token was admitted by the server's GCRA when it was leased, so
 * the total ever admitted by all clients still never exceeds
 * burst + rate*elapsed. The slack is in time: tokens leased before an interval
 * may be spent inside it, so over any interval the admitted count is at most
 * burst + rate*E + P*lease_batch for P leasing processes (a process never
 * holds more than lease_batch unspent tokens); and tokens still unspent when
 * a process stops are lost, at most P*lease_batch (under-admission). Leasing
 * trades this slack for throughput on hot keys.
 */
struct lfp_rbucket_opts {
    enum lfp_rfail on_failure; /* default (0) LFP_RFAIL_CLOSED */
    double local_share;        /* LFP_RFAIL_LOCAL: fraction of rate and burst, (0, 1] */
    uint32_t lease_batch;      /* 0 = no leasing; else tokens per lease, <= burst */
};

/* The result of one decision, like CL.THROTTLE's reply. */
struct lfp_rbucket_result {
    bool allowed;
    int64_t remaining;      /* tokens left in the bucket after this call (>= 0) */
    int64_t retry_after_ns; /* denied: wait at least this long before retrying; else 0 */
    int64_t reset_ns;       /* time until the bucket is full again */
    bool degraded;          /* Redis did not decide: the failure policy did */
    bool leased;            /* served from the local lease without a round trip */
    int error;              /* degraded: why (EIO, EPROTO, ...); else 0 */
};

typedef struct lfp_rbucket {
    lfp_redis *r;
    char key[LFP_REDIS_NAME_MAX + 16];
    double rate;    /* as given to init */
    int64_t t_ns;   /* emission interval sent to the script (rounded up) */
    uint32_t burst;
    struct lfp_rbucket_opts o;
    alignas(LFP_CACHELINE) _Atomic(int64_t) lease_tokens; /* unspent leased tokens */
    pthread_mutex_t lease_mu;                              /* one refill at a time */
    lfp_bucket local; /* LFP_RFAIL_LOCAL: this process's share (own line) */
} lfp_rbucket;

/* Make a bucket handle for key `name` (rate tokens/s, at most `burst` at
 * once; opts NULL = fail closed, no leasing). No network I/O: every process
 * naming the same key shares the same bucket, and a key that does not exist
 * is a full bucket. Handles with the same name must agree on rate and burst.
 *
 * Returns 0; EINVAL (NULL, rate <= 0, NaN, infinite or > 1e9, burst 0,
 * lease_batch > burst, bad policy, empty name, burst/rate (the time to
 * refill an empty bucket) of 2^50 ns (13 days) or more, which the script
 * could not compute exactly; with LFP_RFAIL_LOCAL also local_share outside
 * (0, 1] or local_share x rate below LFP_BUCKET_MIN_RATE); ENAMETOOLONG
 * (name longer than LFP_REDIS_NAME_MAX). The handle is safe to use from many threads at once.
 * Progress: wait-free. */
LFP_API int lfp_rbucket_init(lfp_rbucket *b, lfp_redis *r, const char *name, double rate_per_s,
                             uint32_t burst, const struct lfp_rbucket_opts *opts);

/* Set the LFP_RFAIL_LOCAL fallback to `share` (0, 1] of the rate and burst
 * (e.g. 1/N when the number N of processes changes). Takes racing with the
 * change use the old or the new rate and burst; the local bucket's state is
 * kept (lfp_bucket_set_rate). Returns 0; EINVAL (NULL, share outside (0, 1],
 * share x rate below LFP_BUCKET_MIN_RATE, or the policy is not
 * LFP_RFAIL_LOCAL). Progress: wait-free. */
LFP_API int lfp_rbucket_set_local_share(lfp_rbucket *b, double share);

/* Destroy the handle (the key lives on in Redis until its TTL). Unspent
 * leased tokens are dropped. */
LFP_API void lfp_rbucket_destroy(lfp_rbucket *b);

/* Take n tokens, all or nothing, now. res may be NULL.
 *
 * Returns 0 if allowed; EAGAIN if denied (res->retry_after_ns says when to
 * retry); EINVAL (NULL, n == 0 or n > burst); only under LFP_RFAIL_ERROR,
 * when Redis did not decide, its error: EIO, EBUSY, EPERM, EACCES, EPROTO. When Redis did not answer, the failure policy
 * decided and res->degraded is set.
 * Progress: blocking (one round trip, bounded by the timeouts), or one CAS
 * when served from a lease. Ordering: none beyond the decision. */
LFP_API int lfp_rbucket_take(lfp_rbucket *b, uint32_t n, struct lfp_rbucket_result *res);

/* Make `count` (1..4096) takes of n each in one pipelined round trip, for
 * callers that decide for a batch of requests at once: decisions[i] gets
 * the i-th take's answer (0, EAGAIN, or the failure policy's answer), in
 * the order the server applied them. Returns the number allowed, or a
 * negative errno (-EINVAL, -ENOMEM; -EIO, -EBUSY, -EPERM, -EACCES, -EPROTO
 * under LFP_RFAIL_ERROR). Does
 * not use the lease. Progress: blocking (one round trip). */
LFP_API int lfp_rbucket_take_pipelined(lfp_rbucket *b, uint32_t n, unsigned count, int *decisions);

/* ----------------------------------------------------------- lfp_rsem
 *
 * Distributed weighted semaphore with leases, FIFO waiting and fencing
 * tokens. Keys (one cluster slot): lfp:rs:{name} a sorted set holder ->
 * lease expiry (server ms) and lfp:rs:{name}:w a hash holder -> weight; the
 * waiters' ticket queue lfp:rs:{name}:q (ticket -> position), :t (ticket ->
 * expiry) and :qw (ticket -> weight); :f the last fencing token; :k:<ticket>
 * a waiter's wake list. One script, run atomically by the server, drops
 * expired holders and tickets and decides. A holder that dies without
 * releasing frees its weight when its lease expires; a live holder renews
 * before then.
 *
 * Fairness (strict FIFO across processes and threads, like lfp_wsem):
 * a blocking acquire that cannot be served at once queues a ticket on the
 * server, so waiters are ordered by the time their first attempt reached
 * the server. A waiter is admitted only when its weight, the weight of
 * every live ticket ahead of it and the weight held all fit in the
 * capacity: nobody ever takes weight that a waiter ahead of it needs, so a
 * large weight is never starved by a stream of small ones, and a waiter
 * that does not fit blocks those behind it. (Waiters that fit together may
 * be admitted in any order among themselves; each finds its weight
 * reserved.) lfp_rsem_try_acquire never queues and succeeds only when the
 * weight fits behind every queued waiter.
 *
 * Abandoned tickets: a waiter refreshes its ticket with every poll (at
 * least every LFP_RSEM_POLL_MAX_NS plus a round trip); a ticket not refreshed for
 * LFP_RSEM_TICKET_NS expires, so a waiter process that died stops blocking
 * the queue within that time. A live waiter cut off from Redis for that
 * long loses its place and re-queues at the tail. A waiter that times out
 * or is cancelled withdraws its ticket at once.
 *
 * Hand-off: a queued waiter blocks on the server (BLPOP of its ticket's
 * wake list), and every script that makes room — a release, a withdrawn
 * ticket, or any call that finds an expired lease or ticket — pushes to
 * the wake list of each queued waiter that fits now, in any process. The
 * push is kept in the list, so a release between a waiter's poll and its
 * BLPOP is not lost: a hand-off takes the release, the pop and one more
 * poll, about one round trip after the release (across processes as
 * within one). The script writes the wake lists without declaring them
 * in KEYS (they are named by tickets); they share the semaphore's hash
 * tag, so they are in its Cluster slot, and an ACL user needs only the
 * lfp:* keys (and BLPOP, without which its waiters poll). The BLPOP uses one of the pool's blocking connections
 * (pool_size more, connected when first needed, never one a command
 * waits for); a waiter that finds none free, or whose BLPOP fails, polls
 * instead (1 ms doubling to 50 ms) on the handle's eventcount, which
 * releases through the same handle notify.
 *
 * No push signals an expiry that no call observes (a holder that died):
 * each poll reports when the next lease or ticket expires, and a waiter's
 * BLPOP times out 1 ms after that, so a dead holder's weight is reclaimed
 * within about 1 ms of its expiry (of a lease granted after the waiter's
 * last poll, within LFP_RSEM_POLL_MAX_NS). A waiter blocks at most
 * LFP_RSEM_POLL_MAX_NS (50 ms with a cancel token, which the server cannot
 * watch: the cancel is noticed within that; no waiter polls more often than
 * the 50 ms of the polling design this replaced) before it polls again,
 * which also refreshes its ticket. A waiter polls at most once per wake-up or
 * slice, so waiting costs the server O(queue) work per hand-off, not per
 * millisecond.
 *
 * Fencing tokens: each grant returns lease->token, larger than every
 * token granted before it on this semaphore (it is issued by the granting
 * script). A lease can be lost without its holder knowing — it expired
 * while the holder was paused, or the server lost the keys (FLUSHALL, a
 * restart without persistence, a failover to a replica that had not
 * received the grant) and granted the weight again — so the holder learns
 * it only at its next renew (ESTALE). A resource the semaphore protects
 * should therefore be given the token with each request and refuse a
 * token lower than the highest it has seen (Kleppmann's fencing): the old
 * holder's late writes are refused once a newer holder has written.
 * Tokens are max(last + 1, server time in microseconds), and the last is
 * kept (:f) until the server clock has passed it, so a token still
 * exceeds the ones before it after :f expired or was lost — unless the
 * server's clock is behind (a failover to a host whose clock lags, or a
 * clock stepped back), or grants on the semaphore outpaced one per
 * microsecond just before the loss. To rely on tokens across failovers,
 * keep the server clocks in sync (NTP, slewing, not stepping), and
 * persist and replicate the keys (appendonly, WAIT) if the counter itself
 * must survive. Tokens stay below 2^53 until the year 2255.
 *
 * Transport failures return EIO and transient refusals EBUSY: the caller
 * decides (there is no safe default for mutual exclusion).
 */
#define LFP_RSEM_TICKET_NS INT64_C(1000000000) /* 1 s: an unrefreshed ticket expires */
#define LFP_RSEM_POLL_MAX_NS INT64_C(250000000) /* 250 ms: the longest a waiter waits between polls */

typedef struct lfp_rsem {
    lfp_redis *r;
    char key[LFP_REDIS_NAME_MAX + 16];
    int64_t capacity;
    int64_t lease_ms;
    lfp_ec ec; /* local waiters sleep here between polls */
} lfp_rsem;

/* A held lease: the holder id (unique per acquisition), its weight, and
 * its fencing token (see "Fencing tokens" above). */
typedef struct lfp_rsem_lease {
    char id[40];
    int64_t weight;
    uint64_t token; /* larger than every token granted before on this semaphore */
} lfp_rsem_lease;

/* Handle for semaphore `name` with `capacity` weight and leases of lease_ns
 * (rounded up to ms). Handles with the same name must agree on capacity.
 * Returns 0; EINVAL (NULL, empty name, capacity <= 0, lease_ns <= 0);
 * ENAMETOOLONG. No network I/O. */
LFP_API int lfp_rsem_init(lfp_rsem *s, lfp_redis *r, const char *name, int64_t capacity,
                          int64_t lease_ns);
LFP_API void lfp_rsem_destroy(lfp_rsem *s);

/* Try to acquire `weight` now, without queueing: succeeds only if it fits
 * behind every queued waiter. Returns 0 and fills *lease (with its fencing
 * token); EAGAIN (not
 * enough free weight, or waiters ahead); EINVAL (weight outside
 * [1, capacity], NULL); EIO, EBUSY, EACCES, EPERM, EPROTO, ENOMEM (see the
 * codes above). Progress: blocking (one round trip). */
LFP_API int lfp_rsem_try_acquire(lfp_rsem *s, int64_t weight, lfp_rsem_lease *lease);

/* Acquire `weight`, waiting in FIFO order (see above) until it is granted,
 * `deadline` (CLOCK_MONOTONIC ns, LFP_FOREVER for none) passes, or `cancel`
 * fires (NULL for none).
 *
 * Returns 0 and fills *lease (with its fencing token); ETIMEDOUT;
 * ECANCELED; EINVAL (weight outside [1, capacity], NULL); EIO when Redis was unreachable, or EBUSY when it
 * refused for now (maxclients, LOADING, BUSY, ...), at the last attempt
 * before the deadline (while it is unreachable or refusing the call keeps
 * retrying until the deadline or cancel); EACCES/EPERM/EPROTO/ENOMEM at
 * once. Weight
 * available at the first attempt is taken even if the deadline passed or
 * cancel fired. On ETIMEDOUT and ECANCELED the ticket is withdrawn (one
 * more round trip) and nothing is held; if a grant's reply was lost in
 * transport, that lease is held by nobody until it expires.
 * Progress: blocking. A round trip cannot be interrupted: the call returns
 * within deadline (or the cancel, noticed within 50 ms) + 3 x (connect +
 * command timeout) in the worst case (a blocked BLPOP's reply, a last poll
 * and the withdrawal; each ends by its own one-deadline bound). Ordering: none beyond the
 * decision (the server orders the holders). */
LFP_API int lfp_rsem_acquire(lfp_rsem *s, int64_t weight, lfp_rsem_lease *lease, int64_t deadline,
                             lfp_cancel *cancel);

/* Extend the lease to lease_ns from now (server time); lease->token is
 * kept. Returns 0; ESTALE if the lease is no longer held — it expired, or
 * the server lost it (FLUSHALL, restart, failover) — so its weight may be
 * held by others now: stop the protected work (the fencing token lets the
 * resource refuse late writes, see above); EINVAL; EIO, EBUSY, EACCES,
 * EPERM, EPROTO, ENOMEM. */
LFP_API int lfp_rsem_renew(lfp_rsem *s, const lfp_rsem_lease *lease);

/* Release the lease and wake the waiters that fit now (in every process).
 * Returns 0; ESTALE if it was no longer held (expired and freed, or lost
 * by the server); EINVAL; EIO, EBUSY, EACCES, EPERM, EPROTO, ENOMEM (the lease is then
 * still held until released again or expired). */
LFP_API int lfp_rsem_release(lfp_rsem *s, const lfp_rsem_lease *lease);

/* Weight currently held by live (unexpired) leases, or a negative errno. */
LFP_API int64_t lfp_rsem_held(lfp_rsem *s);

/* Waiters currently queued (live tickets, all processes), or a negative
 * errno. */
LFP_API int64_t lfp_rsem_waiting(lfp_rsem *s);

#ifdef __cplusplus
}
#endif

#endif /* LFPAT_REDIS_H */
