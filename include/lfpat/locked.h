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
        uint32_t gen, index, count;
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

/* @@ locked twins of later families go above this line, one section each @@ */

#ifdef __cplusplus
}
#endif
#endif
