/* SPDX-License-Identifier: BSD-2-Clause */
/* stress_rt_handoff — notifier/waiter hand-offs under real-time priorities.
 *
 * No lfpat code may wait for another thread's progress by spinning or
 * yielding without bound: with SCHED_FIFO, a waiter at a higher priority on
 * the same CPU as the thread it waits for never lets that thread run (a
 * sched_yield only yields to threads of the same or higher priority), so an
 * unbounded spin is a livelock. Each case pins a waiter (SCHED_FIFO 2) and a
 * notifier (SCHED_FIFO 1) to CPU 0 and runs a hand-off N times, arranged so
 * that the waiter is running (it preempts the notifier) exactly when it has
 * to wait for the notifier to finish: a woken waitgroup/future waiter while
 * its notifier is still inside the notify; an lfp_sem_destroy right after
 * the acquire while the release that woke it is still notifying; spsc close while a push is
 * between its announcement and its publish; a broadcast publisher whose slot is still
 * being written by the publisher one lap earlier; a losing future set while
 * the winner has claimed but not yet published; an mpsc pop while a push is
 * between its tail CAS and its link; an mpmc pop whose head cell is claimed
 * by a push that has not published it, open and after close (mpmc_busy,
 * mpmc_close_busy), and an mpmc push whose tail cell is held by a pop that
 * has not released it (mpmc_push_busy); an acquire of an empty sem / wsem
 * granted by a release; a second lfp_once_call while fn runs; the bare
 * eventcount; an spsc pop woken by a push; an lfp_pool task whose worker
 * (SCHED_FIFO 1 on CPU 0) sets its future; a bucket reserve while set_rate
 * has marked the bucket as changing (bucket_reconfigure). Correct code
 * spins briefly, then
 * parks, and the notifier runs and wakes it.
 *
 * Watchdog: the main thread runs at SCHED_FIFO 3 (above both, not pinned)
 * and joins each pair with a deadline (LFP_RT_TIMEOUT_MS, default 5000): a
 * pair that has not finished is a failure (exit 1, the stuck threads die
 * with the process); alarm() with the default action kills the process if
 * even that fails. Priorities stay low (1..3) so that the kernel's own
 * threads keep theirs. Exit 77 (ctest SKIP_RETURN_CODE) when real-time
 * scheduling is not permitted (EPERM) or CPU 0 is not usable.
 *
 * Usage: stress_rt_handoff [case ...] (default: all); LFP_RT_ROUNDS sets N.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lfpat.h"

#define WAITER_PRIO 2
#define NOTIFIER_PRIO 1
#define WATCHDOG_PRIO 3

static int rounds = 2000;
static sem_t go, back;             /* waiter -> notifier, notifier -> waiter */
static _Atomic long progress;      /* hand-offs completed by the waiter */
static _Atomic int failures;

#define CHECK(cond, ...)                                                    \
    do {                                                                    \
        if (!(cond)) {                                                      \
            fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__);                                   \
            fputc('\n', stderr);                                            \
            atomic_fetch_add(&failures, 1);                                 \
        }                                                                   \
    } while (0)

static void sem_wait_all(sem_t *s)
{
    while (sem_wait(s) != 0 && errno == EINTR) {
    }
}

/* ------------------------------------------------------------ waitgroup */

static lfp_waitgroup wg;

static void wg_setup(void) { lfp_waitgroup_init(&wg); }

/* The waiter adds a task, lets the notifier run it and waits: it parks
 * (the notifier cannot run while it spins), the notifier's done wakes it,
 * and it preempts the notifier inside the notify. */
static void *wg_waiter(void *arg)
{
    (void)arg;
    for (int i = 0; i < rounds; i++) {
        CHECK(lfp_waitgroup_add(&wg, 1) == 0, "round %d", i);
        sem_post(&go);
        int rc = lfp_waitgroup_wait(&wg, LFP_FOREVER, NULL);
        CHECK(rc == 0 && lfp_waitgroup_count(&wg) == 0, "round %d: rc %d", i, rc);
        atomic_fetch_add(&progress, 1);
    }
    return NULL;
}

static void *wg_notifier(void *arg)
{
    (void)arg;
    for (int i = 0; i < rounds; i++) {
        sem_wait_all(&go);
        CHECK(lfp_waitgroup_done(&wg) == 0, "round %d", i);
    }
    return NULL;
}

static void wg_teardown(void) { lfp_waitgroup_destroy(&wg); }

/* ------------------------------------------------------------ future */

static lfp_future *futs;

static void fut_setup(void)
{
    futs = calloc((size_t)rounds, sizeof *futs);
    for (int i = 0; i < rounds; i++)
        lfp_future_init(&futs[i]);
}

static void *fut_waiter(void *arg)
{
    (void)arg;
    for (int i = 0; i < rounds; i++) {
        sem_post(&go);
        void *v = NULL;
        int err = -1;
        int rc = lfp_future_get(&futs[i], &v, &err, LFP_FOREVER, NULL);
        CHECK(rc == 0 && v == (void *)(intptr_t)(i + 1) && err == i, "round %d: rc %d", i, rc);
        atomic_fetch_add(&progress, 1);
    }
    return NULL;
}

static void *fut_notifier(void *arg)
{
    (void)arg;
    for (int i = 0; i < rounds; i++) {
        sem_wait_all(&go);
        CHECK(lfp_future_set(&futs[i], (void *)(intptr_t)(i + 1), i) == 0, "round %d", i);
    }
    return NULL;
}

static void fut_teardown(void)
{
    for (int i = 0; i < rounds; i++)
        lfp_future_destroy(&futs[i]);
    free(futs);
}

/* ------------------------------------------------------------ sem destroy */

static lfp_sem *sems;

static void semd_setup(void)
{
    sems = aligned_alloc(LFP_CACHELINE, (size_t)rounds * sizeof *sems);
    for (int i = 0; i < rounds; i++) {
        lfp_sem_init(&sems[i], 1);
        lfp_sem_try_acquire(&sems[i]);   /* empty: the acquire parks */
    }
}

/* The hand-off then destroy: the waiter parks in acquire, the notifier's
 * release signals it and wakes it, and the waiter preempts the notifier
 * inside the release (after the wake, before it has dropped its notifier
 * count); its lfp_sem_destroy must then park until the notifier runs. */
static void *semd_waiter(void *arg)
{
    (void)arg;
    for (int i = 0; i < rounds; i++) {
        sem_post(&go);
        int rc = lfp_sem_acquire(&sems[i], LFP_FOREVER, NULL);
        CHECK(rc == 0, "round %d: rc %d", i, rc);
        lfp_sem_destroy(&sems[i]);
        atomic_fetch_add(&progress, 1);
    }
    return NULL;
}

static void *semd_notifier(void *arg)
{
    (void)arg;
    for (int i = 0; i < rounds; i++) {
        sem_wait_all(&go);
        CHECK(lfp_sem_release(&sems[i]) == 0, "round %d", i);
    }
    return NULL;
}

static void semd_teardown(void) { free(sems); }   /* each destroyed by the waiter */

/* A losing set under SCHED_FIFO: the notifier claims futs[i] as the
 * winner's CAS does and hands the CPU to the waiter (a higher-priority
 * loser) before it publishes; the loser must not return EALREADY until the
 * value is published, and must let the winner run meanwhile. */
static void *loser_waiter(void *arg)
{
    (void)arg;
    for (int i = 0; i < rounds; i++) {
        sem_post(&go);
        sem_wait_all(&back);   /* the winner has claimed futs[i] */
        int rc = lfp_future_set(&futs[i], NULL, -1);
        int err = -1;
        int tg = lfp_future_try_get(&futs[i], NULL, &err);
        CHECK(rc == EALREADY && tg == 0 && err == i, "round %d: set %d, try_get %d", i, rc, tg);
        atomic_fetch_add(&progress, 1);
    }
    return NULL;
}

static void *winner_notifier(void *arg)
{
    (void)arg;
    for (int i = 0; i < rounds; i++) {
        lfp_future *f = &futs[i];
        sem_wait_all(&go);
        atomic_store(&f->state, LFP_FUTURE_SETTING_);   /* lfp_future_set's claim */
        sem_post(&back);                                 /* the loser preempts us here */
        f->value = (void *)(intptr_t)(i + 1);
        f->error = i;
        uint32_t s = atomic_load(&f->state);
        while (!(s & LFP_FUTURE_WAITING_) &&
               !atomic_compare_exchange_weak(&f->state, &s, LFP_FUTURE_READY_)) {
        }
        if (s & LFP_FUTURE_WAITING_)
            lfp_future_wake_(f);
    }
    return NULL;
}

/* ------------------------------------------------------------ broadcast */

/* Capacity 1: position 2i is claimed by the notifier, which stalls (hands
 * the CPU to the waiter) between taking the slot and writing it; the
 * waiter's publish of 2i+1 needs the same slot and must wait for it. */
static lfp_broadcast bc;
static lfp_broadcast_sub bc_sub;

static void bc_setup(void)
{
    lfp_broadcast_init(&bc, 1);
    lfp_broadcast_subscribe(&bc, &bc_sub);
}

static void *bc_waiter(void *arg)
{
    (void)arg;
    for (int i = 0; i < rounds; i++) {
        sem_post(&go);
        sem_wait_all(&back);   /* position 2i is taken, not yet written */
        int rc = lfp_broadcast_publish(&bc, (void *)(intptr_t)(2 * i + 1));
        CHECK(rc == 0, "round %d: publish %d", i, rc);
        atomic_fetch_add(&progress, 1);
    }
    return NULL;
}

static void *bc_notifier(void *arg)
{
    (void)arg;
    for (int i = 0; i < rounds; i++) {
        sem_wait_all(&go);
        /* lfp_broadcast_publish's first half: claim, take the slot */
        uint64_t t = atomic_fetch_add(&bc.tail, 1);
        lfp_broadcast_slot *sl = &bc.slots[t & bc.mask];
        uint64_t seq = t > bc.mask ? 2 * (t - bc.mask - 1) + 2 : 0;
        CHECK(atomic_compare_exchange_strong(&sl->seq, &seq, 2 * t + 1), "round %d", i);
        sem_post(&back);   /* the waiter preempts us here */
        lfp_broadcast_fill_(&bc, sl, t, (void *)(intptr_t)(2 * i));
    }
    return NULL;
}

static void bc_teardown(void)
{
    CHECK(lfp_broadcast_published(&bc) == 2 * (uint64_t)rounds, "published %llu",
          (unsigned long long)lfp_broadcast_published(&bc));
    void *v = NULL;
    uint64_t missed = 0;
    /* the ring holds the last message; everything before it was missed */
    CHECK(lfp_broadcast_try_recv(&bc_sub, &v, &missed) == 0 &&
              v == (void *)(intptr_t)(2 * rounds - 1) && missed == 2 * (uint64_t)rounds - 1,
          "last message %p, missed %llu", v, (unsigned long long)missed);
    lfp_broadcast_destroy(&bc);
}

/* ------------------------------------------------------------ spsc close */

/* The notifier is a push stalled between its announcement (it read OPEN) and its
 * publish when the waiter (a higher-priority closer) runs: close must wait
 * for the push, keep the value, and let the pusher run meanwhile. */
static lfp_spsc *spsc_q;

static void spsc_setup(void)
{
    spsc_q = aligned_alloc(LFP_CACHELINE, (sizeof *spsc_q + LFP_CACHELINE - 1) /
                                              LFP_CACHELINE * LFP_CACHELINE);
}

static void *spsc_waiter(void *arg)
{
    (void)arg;
    for (int i = 0; i < rounds; i++) {
        CHECK(lfp_spsc_init(spsc_q, 4) == 0, "round %d", i);
        sem_post(&go);
        sem_wait_all(&back);   /* a push is announced, not yet published */
        lfp_spsc_close(spsc_q);
        void *v = NULL;
        int r1 = lfp_spsc_try_pop(spsc_q, &v), r2 = lfp_spsc_try_pop(spsc_q, &v);
        CHECK(r1 == 0 && r2 == EPIPE, "round %d: pops %d %d", i, r1, r2);
        sem_wait_all(&back);   /* the pusher has returned */
        lfp_spsc_destroy(spsc_q);
        atomic_fetch_add(&progress, 1);
    }
    return NULL;
}

static void *spsc_notifier(void *arg)
{
    (void)arg;
    for (int i = 0; i < rounds; i++) {
        sem_wait_all(&go);
        lfp_spsc *q = spsc_q;
        /* lfp_spsc_try_push, with the closer running after its announcement */
        size_t t = atomic_load_explicit(&q->tail, memory_order_relaxed);
        int rc = lfp_spsc_announce_(q, t);
        CHECK(rc == 0, "round %d", i);   /* it read OPEN */
        sem_post(&back);   /* the closer preempts us here */
        q->slots[t & q->mask] = (void *)(intptr_t)(i + 1);
        lfp_spsc_publish_(q, t + 1);
        sem_post(&back);
    }
    return NULL;
}

static void spsc_teardown(void) { free(spsc_q); }

/* ------------------------------------------------------------ mpsc link */

/* The notifier is a push stalled between its tail CAS and its link store
 * when the waiter (a higher-priority consumer in a blocking pop) runs: the
 * pop must wait for the link and let the producer run meanwhile. */
static lfp_mpsc *mpsc_q;
static lfp_mpsc_node *mpsc_nodes;

static void mpsc_setup(void)
{
    mpsc_q = aligned_alloc(LFP_CACHELINE, (sizeof *mpsc_q + LFP_CACHELINE - 1) /
                                              LFP_CACHELINE * LFP_CACHELINE);
    lfp_mpsc_init(mpsc_q);
    mpsc_nodes = calloc((size_t)rounds, sizeof *mpsc_nodes);
}

static void *mpsc_waiter(void *arg)
{
    (void)arg;
    for (int i = 0; i < rounds; i++) {
        sem_post(&go);
        sem_wait_all(&back);   /* a push has swung tail, not linked yet */
        lfp_mpsc_node *n = NULL;
        int rc = lfp_mpsc_pop(mpsc_q, &n, LFP_FOREVER, NULL);
        CHECK(rc == 0 && n == &mpsc_nodes[i], "round %d: pop %d", i, rc);
        atomic_fetch_add(&progress, 1);
    }
    return NULL;
}

static void *mpsc_notifier(void *arg)
{
    (void)arg;
    for (int i = 0; i < rounds; i++) {
        sem_wait_all(&go);
        lfp_mpsc *q = mpsc_q;
        lfp_mpsc_node *n = &mpsc_nodes[i];
        /* lfp_mpsc_push / lfp_mpsc_append_, with the consumer running
         * between the CAS and the link */
        atomic_store_explicit(&n->next, NULL, memory_order_relaxed);
        uintptr_t t = atomic_load(&q->tail);
        while (!atomic_compare_exchange_weak(&q->tail, &t, (uintptr_t)n)) {
        }
        sem_post(&back);   /* the consumer preempts us here */
        atomic_store_explicit(&((lfp_mpsc_node *)t)->next, n, memory_order_release);
        atomic_signal_fence(memory_order_seq_cst);
        lfp_striped_add(&q->pushed, 1);
        lfp_q_notify_after_sc_(&q->not_empty, 1);
    }
    return NULL;
}

static void mpsc_teardown(void)
{
    lfp_mpsc_destroy(mpsc_q);
    free(mpsc_q);
    free(mpsc_nodes);
}

/* ------------------------------------------------------------ semaphores
 * The waiter acquires from an empty semaphore (it parks: the notifier cannot
 * run while it spins), the notifier's release grants it, and the waiter
 * preempts the notifier inside the release (sem.grant, wsem.grant). */

static lfp_sem sem;
static lfp_wsem wsem;

static void sem_setup(void) { lfp_sem_init(&sem, 1); (void)lfp_sem_try_acquire(&sem); }

static void *sem_waiter(void *arg)
{
    (void)arg;
    for (int i = 0; i < rounds; i++) {
        sem_post(&go);
        int rc = lfp_sem_acquire(&sem, LFP_FOREVER, NULL);
        CHECK(rc == 0, "round %d: rc %d", i, rc);
        atomic_fetch_add(&progress, 1);
    }
    return NULL;
}

static void *sem_notifier(void *arg)
{
    (void)arg;
    for (int i = 0; i < rounds; i++) {
        sem_wait_all(&go);
        CHECK(lfp_sem_release(&sem) == 0, "round %d", i);
    }
    return NULL;
}

static void sem_teardown(void) { lfp_sem_destroy(&sem); }

static void wsem_setup(void) { lfp_wsem_init(&wsem, 3); (void)lfp_wsem_try_acquire(&wsem, 3); }

static void *wsem_waiter(void *arg)
{
    (void)arg;
    for (int i = 0; i < rounds; i++) {
        sem_post(&go);
        int rc = lfp_wsem_acquire(&wsem, 2, LFP_FOREVER, NULL);
        CHECK(rc == 0, "round %d: rc %d", i, rc);
        sem_post(&go);
        rc = lfp_wsem_acquire(&wsem, 1, LFP_FOREVER, NULL);
        CHECK(rc == 0, "round %d: rc %d", i, rc);
        atomic_fetch_add(&progress, 1);
    }
    return NULL;
}

static void *wsem_notifier(void *arg)
{
    (void)arg;
    for (int i = 0; i < rounds; i++) {
        sem_wait_all(&go);
        CHECK(lfp_wsem_release(&wsem, 2) == 0, "round %d", i);
        sem_wait_all(&go);
        CHECK(lfp_wsem_release(&wsem, 1) == 0, "round %d", i);
    }
    return NULL;
}

static void wsem_teardown(void) { lfp_wsem_destroy(&wsem); }

/* ------------------------------------------------------------ once
 * The notifier runs fn, which lets the waiter go; the waiter preempts it
 * inside fn and calls the same once: it must park until fn returns. */

static lfp_once *onces;
static _Atomic int once_runs;

static void once_setup(void)
{
    onces = calloc((size_t)rounds, sizeof *onces);
    for (int i = 0; i < rounds; i++)
        lfp_once_init(&onces[i]);
    atomic_store(&once_runs, 0);
}

static int once_fn(void *arg)
{
    (void)arg;
    sem_post(&back);   /* the waiter preempts us here */
    atomic_fetch_add(&once_runs, 1);
    return 0;
}

static int once_never(void *arg)
{
    (void)arg;
    CHECK(false, "a second fn ran");
    return 0;
}

static void *once_waiter(void *arg)
{
    (void)arg;
    for (int i = 0; i < rounds; i++) {
        sem_post(&go);
        sem_wait_all(&back);
        int rc = lfp_once_call(&onces[i], once_never, NULL);
        CHECK(rc == 0 && atomic_load(&once_runs) == i + 1, "round %d: rc %d", i, rc);
        atomic_fetch_add(&progress, 1);
    }
    return NULL;
}

static void *once_notifier(void *arg)
{
    (void)arg;
    for (int i = 0; i < rounds; i++) {
        sem_wait_all(&go);
        CHECK(lfp_once_call(&onces[i], once_fn, NULL) == 0, "round %d", i);
    }
    return NULL;
}

static void once_teardown(void) { free(onces); }

/* ------------------------------------------------------------ eventcount
 * The bare protocol: the waiter awaits a flag, the notifier sets it and
 * notifies; the waiter preempts it inside the notify. */

static lfp_ec ec;
static _Atomic int ec_flag;

static void ec_setup(void) { lfp_ec_init(&ec); atomic_store(&ec_flag, -1); }

static int ec_try(void *arg)
{
    /* seq_cst: the condition load of the eventcount's SB shape */
    return atomic_load(&ec_flag) == *(int *)arg ? 0 : EAGAIN;
}

static void *ec_waiter(void *arg)
{
    (void)arg;
    for (int i = 0; i < rounds; i++) {
        sem_post(&go);
        int rc = lfp_ec_await(&ec, ec_try, &i, LFP_FOREVER, NULL, false);
        CHECK(rc == 0, "round %d: rc %d", i, rc);
        atomic_fetch_add(&progress, 1);
    }
    return NULL;
}

static void *ec_notifier(void *arg)
{
    (void)arg;
    for (int i = 0; i < rounds; i++) {
        sem_wait_all(&go);
        atomic_store(&ec_flag, i);   /* seq_cst: the condition store */
        lfp_ec_notify_all(&ec);
    }
    return NULL;
}

static void ec_teardown(void) {}

/* ------------------------------------------------------------ spsc
 * The waiter pops from an empty queue, the notifier pushes; the waiter
 * preempts it inside the push (spsc.push's announcement bracket). */

static lfp_spsc sq;

static void sq_setup(void) { lfp_spsc_init(&sq, 4); }

static void *sq_waiter(void *arg)
{
    (void)arg;
    for (int i = 0; i < rounds; i++) {
        sem_post(&go);
        void *v = NULL;
        int rc = lfp_spsc_pop(&sq, &v, LFP_FOREVER, NULL);
        CHECK(rc == 0 && v == (void *)(intptr_t)(i + 1), "round %d: rc %d", i, rc);
        atomic_fetch_add(&progress, 1);
    }
    return NULL;
}

static void *sq_notifier(void *arg)
{
    (void)arg;
    for (int i = 0; i < rounds; i++) {
        sem_wait_all(&go);
        CHECK(lfp_spsc_push(&sq, (void *)(intptr_t)(i + 1), LFP_FOREVER, NULL) == 0, "round %d", i);
    }
    return NULL;
}

static void sq_teardown(void) { lfp_spsc_destroy(&sq); }

/* ------------------------------------------------------------ pool
 * The notifier creates the pool, so its one worker inherits SCHED_FIFO 1 and
 * CPU 0; the waiter submits a task and waits for it, preempting the worker
 * inside the task's future set. */

static lfp_pool pool;

static void *pool_task(void *arg) { return arg; }

static void *pool_waiter(void *arg)
{
    (void)arg;
    sem_wait_all(&back);   /* the pool exists */
    for (int i = 0; i < rounds; i++) {
        lfp_pool_task t;
        lfp_pool_task_init(&t, pool_task, (void *)(intptr_t)(i + 1));
        int rc = lfp_pool_submit(&pool, &t, LFP_FOREVER, NULL);
        void *r = NULL;
        if (rc == 0)
            rc = lfp_pool_task_wait(&t, &r, LFP_FOREVER, NULL);
        CHECK(rc == 0 && r == (void *)(intptr_t)(i + 1), "round %d: rc %d", i, rc);
        atomic_fetch_add(&progress, 1);
    }
    sem_post(&go);
    return NULL;
}

static void *pool_notifier(void *arg)
{
    (void)arg;
    CHECK(lfp_pool_init(&pool, 1, 4) == 0, "pool init");
    sem_post(&back);
    sem_wait_all(&go);
    lfp_pool_destroy(&pool);
    return NULL;
}

static void pool_setup(void) {}
static void pool_teardown(void) {}

/* ------------------------------------------------------------ mpmc busy cell */

/* One queue per round (capacity 2): the notifier holds a claim on it, the
 * waiter runs into the held cell. mpmc_close_busy hung before the busy-cell
 * path stopped yielding without bound after close (src/mpmc.c). */
static lfp_mpmc *mq;
static enum { MQ_POP, MQ_CLOSED_POP, MQ_PUSH } mq_mode;

static void mq_setup(void)
{
    mq = calloc((size_t)rounds, sizeof *mq);
    for (int i = 0; i < rounds; i++) {
        lfp_mpmc_init(&mq[i], 2);
        if (mq_mode == MQ_PUSH) {   /* full */
            lfp_mpmc_try_push(&mq[i], (void *)1);
            lfp_mpmc_try_push(&mq[i], (void *)2);
        }
    }
}
static void mq_setup_pop(void) { mq_mode = MQ_POP; mq_setup(); }
static void mq_setup_closed_pop(void) { mq_mode = MQ_CLOSED_POP; mq_setup(); }
static void mq_setup_push(void) { mq_mode = MQ_PUSH; mq_setup(); }

static void *mq_waiter(void *arg)
{
    (void)arg;
    for (int i = 0; i < rounds; i++) {
        sem_post(&go);
        sem_wait_all(&back);   /* the notifier holds cell[head] (cell[tail]) */
        void *v = NULL;
        int rc;
        if (mq_mode == MQ_PUSH) {
            rc = lfp_mpmc_push(&mq[i], (void *)3, LFP_FOREVER, NULL);
            CHECK(rc == 0, "round %d: push %d", i, rc);
        } else {
            rc = lfp_mpmc_pop(&mq[i], &v, LFP_FOREVER, NULL);
            CHECK(rc == 0 && v == (void *)(intptr_t)(i + 1), "round %d: pop %d", i, rc);
            if (mq_mode == MQ_CLOSED_POP)
                CHECK((rc = lfp_mpmc_pop(&mq[i], &v, LFP_FOREVER, NULL)) == EPIPE,
                      "round %d: pop after drain %d", i, rc);
        }
        atomic_fetch_add(&progress, 1);
    }
    return NULL;
}

static void *mq_notifier(void *arg)
{
    (void)arg;
    for (int i = 0; i < rounds; i++) {
        sem_wait_all(&go);
        size_t pos = 0;
        if (mq_mode == MQ_PUSH) {
            CHECK(lfp_mpmc_claim_pop_(&mq[i], &pos) == 0, "round %d", i);
            sem_post(&back);   /* the waiter preempts us here */
            lfp_mpmc_release_(&mq[i], pos);
        } else {
            CHECK(lfp_mpmc_claim_push_(&mq[i], &pos) == 0, "round %d", i);
            if (mq_mode == MQ_CLOSED_POP)
                lfp_mpmc_close(&mq[i]);
            sem_post(&back);   /* the waiter preempts us here */
            lfp_mpmc_publish_(&mq[i], pos, (void *)(intptr_t)(i + 1));
        }
    }
    return NULL;
}

static void mq_teardown(void)
{
    for (int i = 0; i < rounds; i++)
        lfp_mpmc_destroy(&mq[i]);
    free(mq);
}

/* ------------------------------------------------------------ runner */

/* ------------------------------------------------------------ bucket reconfiguration */

/* The notifier reconfigures the bucket in a loop (set_rate marks TAT as
 * changing while it computes the new one); the waiter wakes from a short
 * sleep at arbitrary points of that loop, often while TAT reads "changing",
 * and reserves: it must wait for the change without keeping the
 * lower-priority setter off the CPU. */
static lfp_bucket rl_bucket;
static _Atomic int rl_done;

static void rl_setup(void)
{
    lfp_bucket_init(&rl_bucket, 1e9, 1000000);
    atomic_store(&rl_done, 0);
}

static void *rl_waiter(void *arg)
{
    (void)arg;
    for (int i = 0; i < rounds; i++) {
        struct timespec ts = { 0, 20000 };   /* the setter runs meanwhile */
        nanosleep(&ts, NULL);
        int64_t ready = 0;
        int rc = lfp_bucket_reserve_at(&rl_bucket, 1, 0, &ready);
        CHECK(rc == 0, "round %d: reserve %d", i, rc);
        atomic_fetch_add(&progress, 1);
    }
    atomic_store(&rl_done, 1);
    return NULL;
}

static void *rl_notifier(void *arg)
{
    (void)arg;
    for (unsigned i = 0; !atomic_load(&rl_done); i++)
        CHECK(lfp_bucket_set_rate_at(&rl_bucket, i & 1 ? 1e9 : 5e8, 0) == 0, "set_rate");
    return NULL;
}

static void rl_teardown(void) { lfp_bucket_destroy(&rl_bucket); }

struct rt_case {
    const char *name;
    void (*setup)(void);
    void *(*waiter)(void *);
    void *(*notifier)(void *);
    void (*teardown)(void);
};

static const struct rt_case cases[] = {
    { "waitgroup", wg_setup, wg_waiter, wg_notifier, wg_teardown },
    { "future", fut_setup, fut_waiter, fut_notifier, fut_teardown },
    { "future_set", fut_setup, loser_waiter, winner_notifier, fut_teardown },
    { "sem_destroy", semd_setup, semd_waiter, semd_notifier, semd_teardown },
    { "broadcast", bc_setup, bc_waiter, bc_notifier, bc_teardown },
    { "spsc_close", spsc_setup, spsc_waiter, spsc_notifier, spsc_teardown },
    { "mpsc_link", mpsc_setup, mpsc_waiter, mpsc_notifier, mpsc_teardown },
    { "mpmc_busy", mq_setup_pop, mq_waiter, mq_notifier, mq_teardown },
    { "mpmc_close_busy", mq_setup_closed_pop, mq_waiter, mq_notifier, mq_teardown },
    { "mpmc_push_busy", mq_setup_push, mq_waiter, mq_notifier, mq_teardown },
    { "sem", sem_setup, sem_waiter, sem_notifier, sem_teardown },
    { "wsem", wsem_setup, wsem_waiter, wsem_notifier, wsem_teardown },
    { "once", once_setup, once_waiter, once_notifier, once_teardown },
    { "ec", ec_setup, ec_waiter, ec_notifier, ec_teardown },
    { "spsc", sq_setup, sq_waiter, sq_notifier, sq_teardown },
    { "pool", pool_setup, pool_waiter, pool_notifier, pool_teardown },
    { "bucket_reconfigure", rl_setup, rl_waiter, rl_notifier, rl_teardown },
};

static int start(pthread_t *t, void *(*fn)(void *), int prio)
{
    pthread_attr_t a;
    cpu_set_t cpu0;
    struct sched_param sp = { .sched_priority = prio };
    CPU_ZERO(&cpu0);
    CPU_SET(0, &cpu0);
    pthread_attr_init(&a);
    pthread_attr_setinheritsched(&a, PTHREAD_EXPLICIT_SCHED);
    pthread_attr_setschedpolicy(&a, SCHED_FIFO);
    pthread_attr_setschedparam(&a, &sp);
    pthread_attr_setaffinity_np(&a, sizeof cpu0, &cpu0);
    int rc = pthread_create(t, &a, fn, NULL);
    pthread_attr_destroy(&a);
    return rc;
}

static int64_t timeout_ms(void)
{
    const char *e = getenv("LFP_RT_TIMEOUT_MS");
    return e && atol(e) > 0 ? atol(e) : 5000;
}

/* Join t by deadline; on timeout report the case as livelocked and exit
 * (the stuck real-time threads end with the process). */
static void join_or_die(pthread_t t, const char *name, const char *role, int64_t deadline)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t left = deadline - lfp_now();
    if (left < 0)
        left = 0;
    ts.tv_sec += left / 1000000000;
    ts.tv_nsec += left % 1000000000;
    if (ts.tv_nsec >= 1000000000) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000;
    }
    int rc = pthread_timedjoin_np(t, NULL, &ts);
    if (rc == ETIMEDOUT) {
        fprintf(stderr,
                "FAIL %s: the %s did not finish within %lld ms (%ld of %d hand-offs done): "
                "livelock under SCHED_FIFO\n",
                name, role, (long long)timeout_ms(), atomic_load(&progress), rounds);
        fflush(stderr);
        _exit(1);
    }
}

static int run_case(const struct rt_case *c)
{
    pthread_t w, n;
    atomic_store(&progress, 0);
    sem_init(&go, 0, 0);
    sem_init(&back, 0, 0);
    c->setup();
    int64_t t0 = lfp_now();
    int rc = start(&n, c->notifier, NOTIFIER_PRIO);
    if (rc == 0 && (rc = start(&w, c->waiter, WAITER_PRIO)) != 0) {
        fprintf(stderr, "%s: cannot start the waiter: %s\n", c->name, strerror(rc));
        _exit(1);   /* the notifier is blocked on go */
    }
    if (rc == EPERM || rc == EINVAL) {
        printf("stress_rt_handoff: SKIP: real-time threads on CPU 0 not permitted (%s)\n",
               strerror(rc));
        exit(77);
    }
    if (rc != 0) {
        fprintf(stderr, "%s: pthread_create: %s\n", c->name, strerror(rc));
        exit(1);
    }
    int64_t deadline = t0 + timeout_ms() * 1000000;
    join_or_die(w, c->name, "waiter", deadline);
    join_or_die(n, c->name, "notifier", deadline);
    c->teardown();
    sem_destroy(&go);
    sem_destroy(&back);
    printf("stress_rt_handoff: %-10s %d hand-offs in %.1f ms\n", c->name, rounds,
           (double)(lfp_now() - t0) / 1e6);
    return 0;
}

int main(int argc, char **argv)
{
    const char *r = getenv("LFP_RT_ROUNDS");
    if (r && atoi(r) > 0)
        rounds = atoi(r);
    setvbuf(stdout, NULL, _IOLBF, 0);
    cpu_set_t cpu0;
    CPU_ZERO(&cpu0);
    CPU_SET(0, &cpu0);
    if (sched_setaffinity(0, sizeof cpu0, &cpu0) != 0) {
        printf("stress_rt_handoff: SKIP: cannot use CPU 0 (%s)\n", strerror(errno));
        return 77;
    }
    /* back to every CPU: the watchdog must not depend on CPU 0 */
    cpu_set_t all;
    CPU_ZERO(&all);
    for (int i = 0; i < CPU_SETSIZE; i++)
        CPU_SET(i, &all);
    sched_setaffinity(0, sizeof all, &all);
    struct sched_param sp = { .sched_priority = WATCHDOG_PRIO };
    if (sched_setscheduler(0, SCHED_FIFO, &sp) != 0) {
        printf("stress_rt_handoff: SKIP: sched_setscheduler(SCHED_FIFO): %s\n",
               strerror(errno));
        return errno == EPERM ? 77 : 1;
    }
    int ncases = (int)(sizeof cases / sizeof cases[0]);
    /* last resort: the default SIGALRM action ends the process in the kernel */
    alarm((unsigned)((timeout_ms() * (ncases + 1)) / 1000 + 30));
    int ran = 0;
    for (int i = 0; i < ncases; i++) {
        bool want = argc < 2;
        for (int a = 1; a < argc; a++)
            want |= strcmp(argv[a], cases[i].name) == 0;
        if (want) {
            run_case(&cases[i]);
            ran++;
        }
    }
    if (ran == 0) {
        fprintf(stderr, "no such case\n");
        return 2;
    }
    int f = atomic_load(&failures);
    /* The closing line every stress program prints (scripts/stress-sweep
     * reads it): a check per case, an op per hand-off. */
    printf("stress_rt_handoff: %d checks, %d failures, %lld ops\n", ran, f,
           (long long)ran * rounds);
    return f ? 1 : 0;
}
