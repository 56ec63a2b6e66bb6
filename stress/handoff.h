/* SPDX-License-Identifier: BSD-2-Clause */
/* stress/handoff.h — the lifetime hand-off, for the primitives a waiter may
 * free the moment its wait returns (Go's WaitGroup and reply channels are
 * used this way).
 *
 * Thread 0, the requester, runs `rounds` rounds of request(h, round): put an
 * object on its own stack, lfps_handoff_post() it, wait on it, and overwrite
 * it with plain stores as soon as the wait returns. Thread 1, the
 * responder, takes each posted object and, after an injected delay, calls
 * respond(obj, n) with n = 1, 2, ... (the round's number plus one). If the
 * completing call still touched the object after the waiter could return,
 * ThreadSanitizer reports a race on the overwrite (and ASan a use of a dead
 * stack slot). */
#ifndef LFP_STRESS_HANDOFF_H
#define LFP_STRESS_HANDOFF_H

#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "harness.h"

typedef struct lfps_handoff {
    int rounds;
    void (*request)(struct lfps_handoff *h, int round);
    void (*respond)(void *obj, int n);
    _Atomic(void *) slot;   /* the posted object, until the responder takes it */
    _Atomic bool done;      /* the requester finished its rounds */
} lfps_handoff;

static inline void lfps_handoff_post(lfps_handoff *h, void *obj)
{
    atomic_store(&h->slot, obj);
}

static inline void lfps_handoff_worker_(lfps_thread *t)
{
    lfps_handoff *h = t->arg;
    if (t->id == 0) {
        for (int r = 0; r < h->rounds; r++)
            h->request(h, r);
        atomic_store(&h->done, true);
        lfps_ops((uint64_t)h->rounds);
        return;
    }
    for (int n = 0; !atomic_load(&h->done);) {
        void *obj = atomic_exchange(&h->slot, NULL);
        if (!obj) {
            sched_yield();
            continue;
        }
        lfps_delay(&t->rng);
        h->respond(obj, ++n);
    }
}

/* Run the hand-off on two threads; fewer rounds under delay injection. */
static inline void lfps_handoff_run(void (*request)(lfps_handoff *h, int round),
                                    void (*respond)(void *obj, int n))
{
    lfps_handoff h = { .rounds = lfps_cfg.delay_level ? 2000 : 10000, .request = request,
                       .respond = respond };
    lfps_run(2, lfps_handoff_worker_, &h);
}

#endif
