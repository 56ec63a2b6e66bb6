/* lfpat/locked.h — the mutex twins.
 *
 * Each lfp_locked_x is the simplest correct reading of lfp_x's contract: a
 * pthread mutex (and condition variables where it blocks) around plain data.
 * They have the same call shapes and return codes as their atomics-first
 * counterparts and serve as benchmark baseline and differential-test oracle.
 *
 * Progress: every call is blocking (takes a mutex). Ordering: every call is
 * sequentially consistent with every other call on the same object (the
 * mutex orders them), which is at least as strong as the lfp_x contract.
 *
 * Copying: an lfp_locked_* object must not be copied or moved after init: each
 * holds a pthread mutex and condition variable, which POSIX forbids copying.
 * Use it where it was initialised, through pointers.
 *
 * Fork: a child of fork may call every lfp_locked_* call on an object that no
 * thread of the parent was using when fork() was called (lfpat's process-wide
 * locks are held across fork by atfork handlers, src/fork.c, so none is copied
 * held). An object a parent thread was inside at the fork (in a call, or
 * blocked in one) is copied in that intermediate state, with a thread the
 * child does not have: the child must not use it; a mutex a parent thread held
 * stays held in the child, as with any pthread mutex.
 */
#ifndef LFPAT_LOCKED_H
#define LFPAT_LOCKED_H

#include <pthread.h>

#include "lfpat/cancel.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------ counter */

typedef struct lfp_locked_counter {
    pthread_mutex_t lock;
    int64_t value;
} lfp_locked_counter;

LFP_API int     lfp_locked_counter_init(lfp_locked_counter *c, int64_t v);  /* 0, EINVAL */
LFP_API void    lfp_locked_counter_destroy(lfp_locked_counter *c);
LFP_API int64_t lfp_locked_counter_add(lfp_locked_counter *c, int64_t d);   /* new value */
LFP_API int64_t lfp_locked_counter_get(lfp_locked_counter *c);

/* ------------------------------------------------------------ queue */

#include "lfpat/qcommon.h"   /* lfp_ec, LFP_QUEUE_MAX_CAPACITY */

/* The bounded buffer: a ring of void * (NULL is a valid value) under one
 * mutex, with two condition variables (not_empty, not_full). Same calls and
 * return codes as lfp_mpmc (mpmc.h); the capacity is used as given (not
 * rounded), 1 .. LFP_QUEUE_MAX_CAPACITY. Blocking calls without a cancel
 * token wait on the condition variables (CLOCK_MONOTONIC timed waits); calls
 * with a token wait on an eventcount that every state change notifies, since
 * a token can wake a futex word but not a condition variable.
 * try_* never report spurious EAGAIN: full/empty is exact under the mutex.
 * Progress: blocking (mutex). Ordering: every call is sequentially
 * consistent with every other call on the queue. */
typedef struct lfp_locked_queue {
    pthread_mutex_t lock;
    pthread_cond_t not_empty, not_full;
    void **slots;
    size_t cap, head, count;
    bool closed;
    lfp_ec cancel_ec;   /* waiters that passed a cancel token */
} lfp_locked_queue;

LFP_API int    lfp_locked_queue_init(lfp_locked_queue *q, size_t capacity);  /* 0, EINVAL, ENOMEM */
LFP_API void   lfp_locked_queue_destroy(lfp_locked_queue *q);
LFP_API size_t lfp_locked_queue_capacity(const lfp_locked_queue *q);
LFP_API size_t lfp_locked_queue_size(lfp_locked_queue *q);
LFP_API bool   lfp_locked_queue_closed(lfp_locked_queue *q);
LFP_API int    lfp_locked_queue_try_push(lfp_locked_queue *q, void *v);    /* 0, EAGAIN, EPIPE, EINVAL */
LFP_API int    lfp_locked_queue_try_pop(lfp_locked_queue *q, void **out);  /* 0, EAGAIN, EPIPE, EINVAL */
LFP_API int    lfp_locked_queue_push(lfp_locked_queue *q, void *v, int64_t deadline, lfp_cancel *cancel);
LFP_API int    lfp_locked_queue_pop(lfp_locked_queue *q, void **out, int64_t deadline, lfp_cancel *cancel);
LFP_API size_t lfp_locked_queue_push_n(lfp_locked_queue *q, void *const *v, size_t n);
LFP_API size_t lfp_locked_queue_pop_n(lfp_locked_queue *q, void **v, size_t n);
LFP_API void   lfp_locked_queue_close(lfp_locked_queue *q);
/* ------------------------------------------------------------ once, sem, wsem */
/* The twins of lfpat/once.h and lfpat/sem.h, same contracts and codes.
 * lfp_locked_once: a state under a mutex and a condition variable; fn runs
 * without the mutex (so _done never blocks), callers that find it running
 * wait on the condvar; a failed _retry attempt signals one waiter to retry. lfp_locked_sem and lfp_locked_wsem keep
 * plain counters under a mutex; they block on an eventcount instead of a
 * condition variable so that a cancel token wakes them promptly (a condvar
 * cannot be woken by lfp_cancel_fire). lfp_locked_wsem uses the same FIFO
 * waiter queue as lfp_wsem. */
#include "lfpat/sem.h"

typedef struct lfp_locked_once {
    pthread_mutex_t lock;
    pthread_cond_t cond;   /* signalled when a run ends */
    int state;             /* 0 unset, 1 running, 2 done */
    int result;
} lfp_locked_once;

#define LFP_LOCKED_ONCE_INIT { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0 }

LFP_API int  lfp_locked_once_init(lfp_locked_once *o);      /* 0, EINVAL */
LFP_API void lfp_locked_once_destroy(lfp_locked_once *o);
LFP_API int  lfp_locked_once_call(lfp_locked_once *o, int (*fn)(void *), void *arg);
LFP_API int  lfp_locked_once_call_retry(lfp_locked_once *o, int (*fn)(void *), void *arg);
LFP_API bool lfp_locked_once_done(lfp_locked_once *o);

typedef struct lfp_locked_sem {
    pthread_mutex_t lock;
    lfp_ec ec;
    unsigned capacity, available, waiting;
    uint64_t acquires, releases, timeouts, cancellations;
} lfp_locked_sem;

LFP_API int  lfp_locked_sem_init(lfp_locked_sem *s, unsigned capacity);  /* 0, EINVAL */
LFP_API void lfp_locked_sem_destroy(lfp_locked_sem *s);
LFP_API int  lfp_locked_sem_try_acquire(lfp_locked_sem *s);              /* 0, EAGAIN, EINVAL */
LFP_API int  lfp_locked_sem_acquire(lfp_locked_sem *s, int64_t deadline, lfp_cancel *cancel);
LFP_API int  lfp_locked_sem_release(lfp_locked_sem *s);                  /* 0, EOVERFLOW, EINVAL */
LFP_API unsigned lfp_locked_sem_available(lfp_locked_sem *s);
LFP_API void lfp_locked_sem_stats(lfp_locked_sem *s, struct lfp_sem_stats *st);

typedef struct lfp_locked_wsem {
    pthread_mutex_t lock;
    int64_t capacity, free;
    struct lfp_wsem_queue queue;
} lfp_locked_wsem;

LFP_API int  lfp_locked_wsem_init(lfp_locked_wsem *s, int64_t capacity);  /* 0, EINVAL */
LFP_API void lfp_locked_wsem_destroy(lfp_locked_wsem *s);
LFP_API int  lfp_locked_wsem_try_acquire(lfp_locked_wsem *s, int64_t n);
LFP_API int  lfp_locked_wsem_acquire(lfp_locked_wsem *s, int64_t n, int64_t deadline,
                                     lfp_cancel *cancel);
LFP_API int  lfp_locked_wsem_release(lfp_locked_wsem *s, int64_t n);
LFP_API int64_t lfp_locked_wsem_available(lfp_locked_wsem *s);
/* ------------------------------------------------------------ ratelimit */

#include "lfpat/ratelimit.h"   /* lfp_bucket_reservation, the accepted range */

/* lfp_locked_bucket: a token bucket as most code writes it — a mutex around
 * a double token count refilled by elapsed * rate (exact float refill: no
 * truncation to whole tokens; time going backwards refills nothing).
 * Same codes as lfp_bucket: 0, EAGAIN, EINVAL (init: rate NaN, infinite or
 * <= 0, burst 0; take: n == 0 or n > burst). Starts full. Accepts the
 * same settings as lfp_bucket (rate in [LFP_BUCKET_MIN_RATE,
 * LFP_BUCKET_MAX_RATE], burst * ceil(1e9 / rate) <= LFP_BUCKET_MAX_SPAN),
 * but refills at exactly the requested rate (lfp_bucket rounds T up). */
typedef struct lfp_locked_bucket {
    pthread_mutex_t lock;
    double tokens, rate;   /* rate in tokens per ns (the refill) */
    int64_t last;          /* time of the last refill; INT64_MIN before any */
    uint32_t burst;
    double rate_per_s;     /* as given (ready times: debt * 1e9 / rate_per_s) */
    int64_t seq;           /* consumptions so far (numbers the receipts) */
    int64_t top;           /* number of the newest live consumption (0: none) */
} lfp_locked_bucket;

LFP_API int    lfp_locked_bucket_init(lfp_locked_bucket *b, double rate_per_s, uint32_t burst);
LFP_API void   lfp_locked_bucket_destroy(lfp_locked_bucket *b);
LFP_API int    lfp_locked_bucket_take_at(lfp_locked_bucket *b, uint32_t n, int64_t now);
LFP_API int    lfp_locked_bucket_take(lfp_locked_bucket *b, uint32_t n);
LFP_API double lfp_locked_bucket_tokens_at(lfp_locked_bucket *b, int64_t now);
/* set_rate_at / set_burst_at refill up to `now` at the old rate, then keep
 * the token count (capped by a lower burst; a debt stays a debt in tokens),
 * as lfp_bucket's (and Go's SetLimitAt / SetBurstAt); earlier receipts no
 * longer restore anything. The plain forms use lfp_now(). */
LFP_API int    lfp_locked_bucket_set_rate_at(lfp_locked_bucket *b, double rate_per_s, int64_t now);
LFP_API int    lfp_locked_bucket_set_burst_at(lfp_locked_bucket *b, uint32_t burst, int64_t now);
LFP_API int    lfp_locked_bucket_set_rate(lfp_locked_bucket *b, double rate_per_s);
LFP_API int    lfp_locked_bucket_set_burst(lfp_locked_bucket *b, uint32_t burst);
LFP_API double lfp_locked_bucket_rate(lfp_locked_bucket *b);
LFP_API uint32_t lfp_locked_bucket_burst(lfp_locked_bucket *b);
/* reserve_at, reserve_ex_at, take_ex_at, give_back, wait and wait_at as
 * lfp_bucket's (same contract and codes): the tokens go negative while
 * reservations queue, and the ready time is when the refill brings them
 * back to 0 (rounded up to a ns). give_back restores a receipt's tokens
 * only while it is the newest live consumption (no later take or
 * reservation was made, or all later ones were given back first), exactly
 * lfp_bucket's rule. */
LFP_API int    lfp_locked_bucket_reserve_at(lfp_locked_bucket *b, uint32_t n, int64_t now,
                                            int64_t *ready_at);
LFP_API int    lfp_locked_bucket_reserve_ex_at(lfp_locked_bucket *b, uint32_t n, int64_t now,
                                               lfp_bucket_reservation *r);
LFP_API int    lfp_locked_bucket_take_ex_at(lfp_locked_bucket *b, uint32_t n, int64_t now,
                                            lfp_bucket_reservation *r);
LFP_API int    lfp_locked_bucket_give_back(lfp_locked_bucket *b, lfp_bucket_reservation *r);
LFP_API int    lfp_locked_bucket_wait(lfp_locked_bucket *b, uint32_t n, int64_t deadline,
                                      lfp_cancel *cancel);
LFP_API int    lfp_locked_bucket_wait_at(lfp_locked_bucket *b, uint32_t n, int64_t now,
                                         int64_t deadline, lfp_cancel *cancel);

/* lfp_locked_slog: the exact sliding log under a mutex (ring of the last
 * `limit` admission times; admit n iff the n oldest are at or before
 * now - W). Same codes as lfp_slog; init returns ENOMEM too. */
typedef struct lfp_locked_slog {
    pthread_mutex_t lock;
    int64_t *ring;
    uint64_t head;         /* admissions so far */
    uint32_t limit;
    int64_t window;
} lfp_locked_slog;

LFP_API int  lfp_locked_slog_init(lfp_locked_slog *w, uint32_t limit, int64_t window_ns);
LFP_API void lfp_locked_slog_destroy(lfp_locked_slog *w);
LFP_API int  lfp_locked_slog_take_at(lfp_locked_slog *w, uint32_t n, int64_t now);
LFP_API int  lfp_locked_slog_take(lfp_locked_slog *w, uint32_t n);
/* lfp_slog_wait / lfp_slog_wait_at under the mutex: same contract and codes. */
LFP_API int  lfp_locked_slog_wait(lfp_locked_slog *w, uint32_t n, int64_t deadline,
                                  lfp_cancel *cancel);
LFP_API int  lfp_locked_slog_wait_at(lfp_locked_slog *w, uint32_t n, int64_t now,
                                     int64_t deadline, lfp_cancel *cancel);
/* ------------------------------------------------------------ patterns:
 * waitgroup, future, broadcast (the twins of waitgroup.h, future.h,
 * broadcast.h; same calls, same return codes). Blocking calls wait on a
 * condition variable, or with a token on an eventcount the token can wake. */
#include "lfpat/eventcount.h"

typedef struct lfp_locked_sync_ {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    lfp_ec cancel_ec;
} lfp_locked_sync_;

typedef struct lfp_locked_waitgroup {
    lfp_locked_sync_ sync;
    int64_t count;
    uint64_t phase;
} lfp_locked_waitgroup;

LFP_API int  lfp_locked_waitgroup_init(lfp_locked_waitgroup *wg);     /* 0, EINVAL */
LFP_API void lfp_locked_waitgroup_destroy(lfp_locked_waitgroup *wg);
LFP_API int  lfp_locked_waitgroup_add(lfp_locked_waitgroup *wg, int64_t delta); /* 0, EOVERFLOW, EINVAL */
LFP_API int  lfp_locked_waitgroup_done(lfp_locked_waitgroup *wg);
LFP_API int64_t lfp_locked_waitgroup_count(lfp_locked_waitgroup *wg);
LFP_API int  lfp_locked_waitgroup_wait(lfp_locked_waitgroup *wg, int64_t deadline,
                                       lfp_cancel *cancel);

typedef struct lfp_locked_future {
    lfp_locked_sync_ sync;
    bool ready;
    int error;
    void *value;
} lfp_locked_future;

LFP_API int  lfp_locked_future_init(lfp_locked_future *f);             /* 0, EINVAL */
LFP_API void lfp_locked_future_destroy(lfp_locked_future *f);
LFP_API int  lfp_locked_future_set(lfp_locked_future *f, void *value, int error); /* 0, EALREADY */
LFP_API bool lfp_locked_future_is_ready(lfp_locked_future *f);
LFP_API int  lfp_locked_future_try_get(lfp_locked_future *f, void **value, int *error);
LFP_API int  lfp_locked_future_get(lfp_locked_future *f, void **value, int *error,
                                   int64_t deadline, lfp_cancel *cancel);

typedef struct lfp_locked_broadcast {
    lfp_locked_sync_ sync;
    void **ring;          /* message of position p at ring[p % cap] */
    size_t cap;
    uint64_t tail;        /* positions published */
    bool closed;
} lfp_locked_broadcast;

typedef struct lfp_locked_broadcast_sub {
    lfp_locked_broadcast *b;
    uint64_t next, pending, received, missed;
} lfp_locked_broadcast_sub;

LFP_API int  lfp_locked_broadcast_init(lfp_locked_broadcast *b, size_t capacity); /* exact capacity */
LFP_API void lfp_locked_broadcast_destroy(lfp_locked_broadcast *b);
LFP_API size_t lfp_locked_broadcast_capacity(const lfp_locked_broadcast *b);
LFP_API int  lfp_locked_broadcast_publish(lfp_locked_broadcast *b, void *v);  /* 0, EPIPE */
LFP_API void lfp_locked_broadcast_close(lfp_locked_broadcast *b);
LFP_API int  lfp_locked_broadcast_subscribe(lfp_locked_broadcast *b, lfp_locked_broadcast_sub *sub);
LFP_API void lfp_locked_broadcast_unsubscribe(lfp_locked_broadcast_sub *sub);
LFP_API int  lfp_locked_broadcast_try_recv(lfp_locked_broadcast_sub *sub, void **out,
                                           uint64_t *missed);
LFP_API int  lfp_locked_broadcast_recv(lfp_locked_broadcast_sub *sub, void **out,
                                       uint64_t *missed, int64_t deadline, lfp_cancel *cancel);

/* The breaker twin: the state, counters and failure window as plain data
 * under one mutex (the seed's design, minus its bugs); allow() takes the
 * mutex on every call. Callbacks run under the mutex, hence in order. */
#include "lfpat/breaker.h"

typedef struct lfp_locked_breaker {
    pthread_mutex_t lock;
    struct lfp_breaker_config cfg;
    int64_t bucket_ns;
    lfp_breaker_state state;
    uint32_t gen;
    int64_t retry_at;                 /* OPEN: end of the pause (tick-rounded) */
    uint32_t in_flight, successes;    /* HALF_OPEN */
    struct lfp_locked_breaker_bucket {
        uint32_t gen;
        uint64_t index;               /* bucket number, now / bucket_ns (full width) */
        uint32_t count;
        bool used;
    } bucket[LFP_BREAKER_MAX_BUCKETS];
} lfp_locked_breaker;

LFP_API int  lfp_locked_breaker_init(lfp_locked_breaker *b, const struct lfp_breaker_config *cfg);
LFP_API void lfp_locked_breaker_destroy(lfp_locked_breaker *b);
LFP_API int  lfp_locked_breaker_allow_at(lfp_locked_breaker *b, int64_t now, lfp_breaker_ticket *t);
LFP_API int  lfp_locked_breaker_allow(lfp_locked_breaker *b, lfp_breaker_ticket *t);
LFP_API int  lfp_locked_breaker_record_at(lfp_locked_breaker *b, lfp_breaker_ticket t,
                                          bool success, int64_t now);
LFP_API int  lfp_locked_breaker_record(lfp_locked_breaker *b, lfp_breaker_ticket t, bool success);
LFP_API lfp_breaker_state lfp_locked_breaker_state_of(lfp_locked_breaker *b, uint32_t *gen);

/* The worker-pool twin, built the obvious way: a mutex and two condition
 * variables guard the task ring (lfp_locked_queue) that feeds the workers,
 * each task's result is an lfp_locked_future (mutex + condition variable),
 * the workers are counted by an lfp_locked_waitgroup, and the shutdown flag
 * and counters sit under one more mutex. Same calls, return codes and
 * shutdown contract as lfp_pool (pool.h); the capacity is used as given.
 * A task's future holds a mutex: destroy a task
 * (lfp_locked_pool_task_destroy) once its run has been waited for, before
 * preparing it again. Progress: blocking (mutexes). */
#include "lfpat/pool.h"

typedef struct lfp_locked_pool_task {
    lfp_pool_fn fn;
    void *arg;
    lfp_locked_future done;       /* value: fn's result; error: 0 ran, EPIPE not run */
} lfp_locked_pool_task;

typedef struct lfp_locked_pool {
    lfp_locked_queue queue;       /* of lfp_locked_pool_task * */
    pthread_t *threads;
    unsigned nthreads;
    lfp_locked_waitgroup running; /* workers not yet exited */
    pthread_mutex_t lock;         /* guards the three fields below */
    bool abandon;                 /* shutdown's deadline passed: stop taking tasks */
    uint64_t ran, not_run;
} lfp_locked_pool;

LFP_API int  lfp_locked_pool_init(lfp_locked_pool *p, unsigned threads, size_t capacity);
LFP_API void lfp_locked_pool_destroy(lfp_locked_pool *p);
LFP_API int  lfp_locked_pool_task_init(lfp_locked_pool_task *t, lfp_pool_fn fn, void *arg);
LFP_API void lfp_locked_pool_task_destroy(lfp_locked_pool_task *t);
LFP_API int  lfp_locked_pool_try_submit(lfp_locked_pool *p, lfp_locked_pool_task *t);
LFP_API int  lfp_locked_pool_submit(lfp_locked_pool *p, lfp_locked_pool_task *t,
                                    int64_t deadline, lfp_cancel *cancel);
LFP_API int  lfp_locked_pool_task_wait(lfp_locked_pool_task *t, void **result,
                                       int64_t deadline, lfp_cancel *cancel);
LFP_API int  lfp_locked_pool_shutdown(lfp_locked_pool *p, int64_t deadline, uint64_t *not_run);
LFP_API uint64_t lfp_locked_pool_ran(lfp_locked_pool *p);
LFP_API uint64_t lfp_locked_pool_not_run(lfp_locked_pool *p);

/* @@ locked twins of later families go above this line, one section each @@ */

#ifdef __cplusplus
}
#endif
#endif
