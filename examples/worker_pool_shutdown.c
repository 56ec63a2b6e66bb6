/* SPDX-License-Identifier: BSD-2-Clause */
/* Graceful shutdown of a worker pool on SIGINT/SIGTERM — the Graceful
 * Shutdown article, done with lfp_pool and lfp_cancel.
 *
 * Signals are blocked in every thread; one thread waits for them (sigwait)
 * and fires a cancel token, so no work happens in a signal handler and a
 * blocked submit wakes at once. The main thread keeps submitting 2 ms jobs to 3 workers (queue of
 * 8) until the token fires; to run unattended the program sends itself
 * SIGTERM after 60 ms. Shutdown then refuses new work (EPIPE), drains the
 * queue and waits 3 ms for the workers; what could not run in time is
 * reported, not lost. Checked: every accepted job either ran exactly once
 * or is reported not run, and ran + not run == accepted. */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "lfpat.h"

enum { MAX_JOBS = 4096 };

static lfp_cancel stop;
static sigset_t signals;

static void *signal_thread(void *arg)
{
    (void)arg;
    int sig = 0;
    sigwait(&signals, &sig);
    printf("received %s: stop accepting work\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
    lfp_cancel_fire(&stop, sig);
    return NULL;
}

struct job {
    lfp_pool_task task;
    _Atomic int runs;
};

static void *do_job(void *arg)
{
    struct job *j = arg;
    struct timespec ts = { 0, 2000000 };
    nanosleep(&ts, NULL);
    atomic_fetch_add(&j->runs, 1);
    return NULL;
}

int main(void)
{
    static struct job jobs[MAX_JOBS];
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &signals, NULL);   /* inherited by every thread */
    lfp_cancel_init(&stop, NULL);
    pthread_t sig_th;
    pthread_create(&sig_th, NULL, signal_thread, NULL);
    lfp_pool pool;
    if (lfp_pool_init(&pool, 3, 8) != 0)
        return 1;

    int64_t raise_at = lfp_after(60000000);
    bool raised = false;
    int accepted = 0, rc = 0;
    while (accepted < MAX_JOBS) {
        if (!raised && lfp_now() >= raise_at) {
            kill(getpid(), SIGTERM);   /* as if an operator pressed Ctrl-C */
            raised = true;
        }
        struct job *j = &jobs[accepted];
        lfp_pool_task_init(&j->task, do_job, j);
        rc = lfp_pool_submit(&pool, &j->task, lfp_after(5000000), &stop);
        if (rc == ECANCELED)
            break;
        if (rc == 0)
            accepted++;
    }
    pthread_join(sig_th, NULL);
    uint64_t not_run = 0;
    int64_t t0 = lfp_now();
    int sr = lfp_pool_shutdown(&pool, lfp_after(3000000), &not_run);
    printf("shutdown after %lld us: %s; %d accepted, %llu not run (reported)\n",
           (long long)((lfp_now() - t0) / 1000), sr == 0 ? "drained" : "deadline passed",
           accepted, (unsigned long long)not_run);
    lfp_pool_task late;
    lfp_pool_task_init(&late, do_job, &jobs[0]);
    int late_rc = lfp_pool_try_submit(&pool, &late);
    printf("submit after shutdown: %s\n", late_rc == EPIPE ? "EPIPE" : "?");

    int ran = 0, discarded = 0, broken = 0;
    for (int i = 0; i < accepted; i++) {
        int w = lfp_pool_task_wait(&jobs[i].task, NULL, LFP_FOREVER, NULL);
        int runs = atomic_load(&jobs[i].runs);
        ran += w == 0;
        discarded += w == EPIPE;
        broken += !((w == 0 && runs == 1) || (w == EPIPE && runs == 0));
    }
    lfp_pool_destroy(&pool);
    printf("ran %d + not run %d = %d accepted\n", ran, discarded, ran + discarded);
    bool ok = rc == ECANCELED && broken == 0 && ran + discarded == accepted &&
              (uint64_t)discarded == not_run && late_rc == EPIPE &&
              lfp_cancel_reason(&stop) == SIGTERM;
    lfp_cancel_destroy(&stop);
    printf("%s\n", ok ? "all invariants held" : "FAILED");
    return ok ? 0 : 1;
}
