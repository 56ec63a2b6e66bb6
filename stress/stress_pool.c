/* SPDX-License-Identifier: BSD-2-Clause */
/* Stress: worker pool — exactly once, and nothing lost at shutdown.
 *
 * Submitter threads push tasks (blocking submit with short deadlines, some
 * try_submit) into a small pool queue while a shutdown thread, after a
 * random amount of accepted work, shuts the pool down with a short deadline
 * (so that queued tasks are sometimes discarded). Each task counts its runs
 * and writes plain data that the checker reads after waiting for it (TSan
 * checks the task -> wait edge). Checked: every accepted task either ran
 * exactly once (wait returns 0) or was reported not run (EPIPE) and never
 * ran; tasks refused (EAGAIN / ETIMEDOUT / EPIPE) never ran; ran + not_run
 * == accepted == the pool's own counters. Oversubscribed; delay injection.
 * Quiet phase first (stress/quiet.h): submitters submit a known number of
 * tasks, often to a pool whose workers are all idle (parked), and stop; no
 * shutdown until every task has run — a task queued beside an idle worker
 * (or a submitter parked beside a free cell) fails the bounded stall check. */
#include <stdlib.h>

#include "harness.h"
#include "lfpat.h"
#include "quiet.h"

enum { PER_SUBMITTER = 20000, MAX_SUBMITTERS = 8 };

static uint64_t total_ran, total_not_run, timeouts;

struct job {
    lfp_pool_task task;
    _Atomic int runs;
    uint64_t data;        /* plain: written by the task, read after wait */
    bool accepted;        /* written by its submitter only */
};

struct shared {
    lfp_pool pool;
    struct job *jobs;     /* [submitter * PER_SUBMITTER + i] */
    int submitters;
    _Atomic uint64_t accepted;
    uint64_t shutdown_after, not_run;
    int shutdown_rc;
};

static void *work(void *arg)
{
    struct job *j = arg;
    atomic_fetch_add(&j->runs, 1);
    j->data = (uint64_t)(uintptr_t)j * 7;
    for (volatile int k = 0; k < 50; k++) {
    }
    return j;
}

static void submitter(lfps_thread *t, struct shared *s)
{
    struct job *mine = &s->jobs[(size_t)t->id * PER_SUBMITTER];
    uint64_t i = 0;
    for (; i < PER_SUBMITTER; i++) {
        struct job *j = &mine[i];
        lfp_pool_task_init(&j->task, work, j);
        lfps_delay(&t->rng);
        int rc = (i & 3) == 0 ? lfp_pool_try_submit(&s->pool, &j->task)
                              : lfp_pool_submit(&s->pool, &j->task, lfp_after(200000), NULL);
        LFPS_CHECK(rc == 0 || rc == EAGAIN || rc == ETIMEDOUT || rc == EPIPE,
                   "submit returned %d", rc);
        if (rc == 0) {
            j->accepted = true;
            atomic_fetch_add(&s->accepted, 1);
        }
        if (rc == EPIPE)
            break;
    }
    lfps_ops(i);
}

static void shutter(lfps_thread *t, struct shared *s)
{
    while (atomic_load(&s->accepted) < s->shutdown_after) {
        lfps_delay(&t->rng);
        sched_yield();
    }
    s->shutdown_rc = lfp_pool_shutdown(&s->pool, lfp_after(100000), &s->not_run);
}

static void worker(lfps_thread *t)
{
    struct shared *s = t->arg;
    if (t->id < s->submitters)
        submitter(t, s);
    else
        shutter(t, s);
}

static void round_(int submitters, int workers, uint64_t shutdown_after)
{
    struct shared s = { .submitters = submitters, .shutdown_after = shutdown_after };
    s.jobs = calloc((size_t)submitters * PER_SUBMITTER, sizeof *s.jobs);
    LFPS_CHECK(lfp_pool_init(&s.pool, (unsigned)workers, 16) == 0, "init");
    atomic_init(&s.accepted, 0);
    lfps_run(submitters + 1, worker, &s);
    uint64_t ran = 0, not_run = 0;
    for (size_t k = 0; k < (size_t)submitters * PER_SUBMITTER; k++) {
        struct job *j = &s.jobs[k];
        if (!j->accepted) {
            LFPS_CHECK(atomic_load(&j->runs) == 0, "refused task %zu ran", k);
            continue;
        }
        void *r = NULL;
        int rc = lfp_pool_task_wait(&j->task, &r, LFP_FOREVER, NULL);
        if (rc == 0) {
            ran++;
            LFPS_CHECK(atomic_load(&j->runs) == 1 && r == j &&
                           j->data == (uint64_t)(uintptr_t)j * 7,
                       "task %zu: %d runs", k, atomic_load(&j->runs));
        } else {
            not_run++;
            LFPS_CHECK(rc == EPIPE && atomic_load(&j->runs) == 0, "task %zu: rc %d, %d runs", k,
                       rc, atomic_load(&j->runs));
        }
    }
    lfp_pool_destroy(&s.pool);
    uint64_t accepted = atomic_load(&s.accepted);
    LFPS_CHECK(ran + not_run == accepted, "ran %llu + not run %llu != accepted %llu",
               (unsigned long long)ran, (unsigned long long)not_run,
               (unsigned long long)accepted);
    LFPS_CHECK(ran == lfp_pool_ran(&s.pool) && not_run == lfp_pool_not_run(&s.pool) &&
                   not_run == s.not_run, "pool counters disagree");
    LFPS_CHECK(s.shutdown_rc == 0 || s.shutdown_rc == ETIMEDOUT, "shutdown %d", s.shutdown_rc);
    LFPS_CHECK(s.shutdown_rc == ETIMEDOUT || not_run == 0, "not run without a timeout");
    total_ran += ran;
    total_not_run += not_run;
    timeouts += s.shutdown_rc == ETIMEDOUT;
    free(s.jobs);
}

/* The quiet phase: thread 0 checks, the others submit QUIET_TASKS each. The
 * token is fired only after a failed check, to stop the submitters. */
enum { QUIET_TASKS = 400, QUIET_CAP = 4 };

struct quiet {
    lfp_pool pool;
    unsigned workers;
    lfp_cancel stop;
    lfps_progress progress;   /* tasks run */
};

static void *quiet_work(void *arg)
{
    lfps_progress_add(arg, 1);
    return NULL;
}

/* Staging: every worker idle in its pop (white-box: the queue's waiters). */
static bool workers_idle(void *arg)
{
    struct quiet *q = arg;
    /* relaxed: a staging hint only. */
    return atomic_load_explicit(&q->pool.queue.not_empty.waiters, memory_order_relaxed) >=
           q->workers;
}

static void quiet_thread(lfps_thread *t)
{
    struct quiet *q = t->arg;
    if (t->id == 0) {
        if (!lfps_progress_wait(&q->progress, "lfp_pool"))
            lfp_cancel_fire(&q->stop, ECANCELED);
        return;
    }
    lfp_pool_task *tasks = calloc(QUIET_TASKS, sizeof *tasks);
    for (int i = 0; i < QUIET_TASKS; i++) {
        lfp_pool_task_init(&tasks[i], quiet_work, &q->progress);
        if (i % 4 == 0)
            lfps_stage(workers_idle, q);
        int rc = lfp_pool_submit(&q->pool, &tasks[i], LFP_FOREVER, &q->stop);
        LFPS_CHECK(rc == 0, "lfp_pool: quiet submit rc %d", rc);
        if (rc != 0)
            break;
        lfps_delay(&t->rng);
    }
    for (int i = 0; i < QUIET_TASKS; i++)   /* returns at once: ran, or the token fired */
        (void)lfp_pool_task_wait(&tasks[i], NULL, LFP_FOREVER, &q->stop);
    free(tasks);
}

static void quiet_phase(int submitters, unsigned workers)
{
    static struct quiet q;
    q.workers = workers;
    LFPS_CHECK(lfp_pool_init(&q.pool, workers, QUIET_CAP) == 0, "quiet init");
    lfp_cancel_init(&q.stop, NULL);
    lfps_progress_init(&q.progress, (uint32_t)(submitters * QUIET_TASKS));
    lfps_run(1 + submitters, quiet_thread, &q);
    lfp_pool_destroy(&q.pool);
    lfp_cancel_destroy(&q.stop);
    lfps_ops(lfp_pool_ran(&q.pool));
    printf("  quiet phase: %d submitters, %u workers, %llu tasks run before the shutdown\n",
           submitters, workers, (unsigned long long)lfp_pool_ran(&q.pool));
}

int main(void)
{
    lfps_init("stress_pool");
    int n = lfps_threads(4);
    if (n > MAX_SUBMITTERS)
        n = MAX_SUBMITTERS;
    quiet_phase(n < 2 ? 2 : n, 2);
    quiet_phase(n < 2 ? 2 : n, 3);
    int64_t end = lfp_after(lfps_cfg.budget_ns);
    lfps_rng rng;
    lfps_rng_seed(&rng, 99);
    for (int r = 0; r < 40 && lfp_now() < end; r++)
        round_(n, 1 + r % 3, lfps_below(&rng, 2000));
    printf("  %llu tasks ran, %llu reported not run, %llu shutdowns hit their deadline\n",
           (unsigned long long)total_ran, (unsigned long long)total_not_run,
           (unsigned long long)timeouts);
    return lfps_finish();
}
