/* SPDX-License-Identifier: BSD-2-Clause */
/* stress/broken_queue.h — a DELIBERATELY BROKEN queue, for testing the
 * linearizability checker only (never use it).
 *
 * A "sharded FIFO": each shard is a mutex-protected ring; a thread pushes to
 * its own shard (tid % shards) and pops from its own shard first, then the
 * others. Every shard is FIFO and nothing is lost, so counting tests pass and
 * TSan is silent — but with 2+ shards it is not a FIFO queue:
 *     T0: push(1)   then   T1: push(2)   then   T1: pop() -> 2
 * although 1 was pushed first. With shards = 1 it is a correct locked FIFO,
 * which the checker must accept (no false alarms).
 */
#ifndef LFP_STRESS_BROKEN_QUEUE_H
#define LFP_STRESS_BROKEN_QUEUE_H

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#define BQ_SHARDS_MAX 4
#define BQ_CAP 64         /* max capacity per shard */

struct bq_shard {
    pthread_mutex_t lock;
    int64_t items[BQ_CAP];
    unsigned head, n;
};

typedef struct broken_queue {
    int shards;
    unsigned cap;     /* per shard, <= BQ_CAP */
    struct bq_shard shard[BQ_SHARDS_MAX];
} broken_queue;

static inline void bq_init(broken_queue *q, int shards, unsigned cap)
{
    q->shards = shards;
    q->cap = cap;
    for (int i = 0; i < shards; i++) {
        pthread_mutex_init(&q->shard[i].lock, NULL);
        q->shard[i].head = q->shard[i].n = 0;
    }
}

static inline void bq_destroy(broken_queue *q)
{
    for (int i = 0; i < q->shards; i++)
        pthread_mutex_destroy(&q->shard[i].lock);
}

static inline int bq_try_push(broken_queue *q, int tid, int64_t v)
{
    struct bq_shard *s = &q->shard[tid % q->shards];
    int rc = EAGAIN;
    pthread_mutex_lock(&s->lock);
    if (s->n < q->cap) {
        s->items[(s->head + s->n++) % BQ_CAP] = v;
        rc = 0;
    }
    pthread_mutex_unlock(&s->lock);
    return rc;
}

static inline int bq_try_pop(broken_queue *q, int tid, int64_t *v)
{
    for (int k = 0; k < q->shards; k++) {
        struct bq_shard *s = &q->shard[(tid + k) % q->shards];
        pthread_mutex_lock(&s->lock);
        bool got = s->n > 0;
        if (got) {
            *v = s->items[s->head];
            s->head = (s->head + 1) % BQ_CAP;
            s->n--;
        }
        pthread_mutex_unlock(&s->lock);
        if (got)
            return 0;
    }
    return EAGAIN;
}

#endif
