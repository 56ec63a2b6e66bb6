/* SPDX-License-Identifier: BSD-2-Clause */
/* Request/response batch processor — the Request/Response article, done
 * with lfp_mpmc and lfp_future.
 *
 * Clients put requests (a number and a reply future) on one queue and wait
 * for the reply with a deadline. A processor thread takes what is queued in
 * batches of up to 16 (one blocking pop, then pop_n), answers each request
 * by setting its future (after which the request is its client's again: the
 * processor must not touch it), and stops when the queue is closed and
 * drained. A client trying to answer its own request again gets EALREADY. Checked: every client got the
 * right answer for its own request, every reply came in time, every second
 * set was refused; the transcript shows the batch sizes reached. */
#include <pthread.h>
#include <stdio.h>

#include "lfpat.h"

enum { CLIENTS = 4, PER_CLIENT = 2000, BATCH = 16 };

struct request {
    int64_t x;
    lfp_future reply;     /* value: x * x */
};

static lfp_mpmc queue;
static long batches, answered;
static _Atomic long double_sets;

static void *processor(void *arg)
{
    (void)arg;
    void *batch[BATCH];
    while (lfp_mpmc_pop(&queue, &batch[0], LFP_FOREVER, NULL) == 0) {
        size_t n = 1 + lfp_mpmc_pop_n(&queue, batch + 1, BATCH - 1);
        for (size_t i = 0; i < n; i++) {
            struct request *r = batch[i];
            /* after this set the request belongs to its client again */
            lfp_future_set(&r->reply, (void *)(intptr_t)(r->x * r->x), 0);
        }
        batches++;
        answered += (long)n;
    }
    return NULL;
}

struct client {
    int id, wrong, late;
};

static void *client_main(void *arg)
{
    struct client *c = arg;
    for (int i = 0; i < PER_CLIENT; i++) {
        struct request r = { .x = c->id * 100000 + i };
        lfp_future_init(&r.reply);
        if (lfp_mpmc_push(&queue, &r, LFP_FOREVER, NULL) != 0) {
            c->wrong++;
            continue;
        }
        void *v;
        int err;
        if (lfp_future_get(&r.reply, &v, &err, lfp_after(2000000000), NULL) != 0) {
            c->late++;   /* cannot leave: the processor still holds &r */
            lfp_future_get(&r.reply, &v, &err, LFP_FOREVER, NULL);
        }
        c->wrong += (intptr_t)v != r.x * r.x || err != 0;
        /* a second answer is refused: the first set won */
        double_sets += lfp_future_set(&r.reply, NULL, 1) == EALREADY;
    }
    return NULL;
}

int main(void)
{
    if (lfp_mpmc_init(&queue, 64) != 0)
        return 1;
    pthread_t proc, th[CLIENTS];
    pthread_create(&proc, NULL, processor, NULL);
    struct client c[CLIENTS];
    for (int i = 0; i < CLIENTS; i++) {
        c[i] = (struct client){ .id = i };
        pthread_create(&th[i], NULL, client_main, &c[i]);
    }
    int wrong = 0, late = 0;
    for (int i = 0; i < CLIENTS; i++) {
        pthread_join(th[i], NULL);
        wrong += c[i].wrong;
        late += c[i].late;
    }
    lfp_mpmc_close(&queue);
    pthread_join(proc, NULL);
    printf("%d clients x %d requests: %ld answered in %ld batches (%.1f per batch)\n", CLIENTS,
           PER_CLIENT, answered, batches, (double)answered / (double)(batches ? batches : 1));
    printf("wrong answers %d, late replies %d, second sets refused %ld\n", wrong, late,
           atomic_load(&double_sets));
    bool ok = wrong == 0 && late == 0 && answered == CLIENTS * PER_CLIENT &&
              atomic_load(&double_sets) == answered && batches <= answered;
    lfp_mpmc_destroy(&queue);
    printf("%s\n", ok ? "all invariants held" : "FAILED");
    return ok ? 0 : 1;
}
