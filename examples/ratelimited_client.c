/* SPDX-License-Identifier: BSD-2-Clause */
/* Rate-limited API client — the Rate Limiter article's RateLimitedService,
 * done with lfp_bucket_wait.
 *
 * The seed's service asked its limiters Allow() and refused the request when
 * they said no, and its Wait() polled every 10 ms. Here three worker threads
 * call one fake API through one lfp_bucket (GCRA, 10 requests/s, burst 3).
 * Each request may wait for its token until a deadline 250 ms after it was
 * made: lfp_bucket_wait computes when the token will be ready and sleeps
 * once until then, or, if that is after the deadline, fails at once with
 * ETIMEDOUT and consumes nothing (the request is shed instead of joining a
 * queue it cannot leave in time). At 1 s a shutdown token fires: workers
 * stop making requests and a wait in progress ends with ECANCELED, giving
 * its token back.
 *
 * Checked (exit status), with no timing lower bound that could flake:
 *  1. the API never saw more calls than burst + rate * elapsed + 1 at any
 *     call (elapsed since before the bucket was created, read at the call);
 *  2. on a quiescent bucket, a wait whose token is ready 1 ns after its
 *     deadline returns ETIMEDOUT and leaves the bucket's tokens unchanged,
 *     and the same wait with the deadline at the ready time is admitted. */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdio.h>
#include <time.h>

#include "lfpat.h"

#define MS 1000000LL
#define RATE 10.0                 /* requests per second */
#define BURST 3
#define WORKERS 3
#define EVERY (150 * MS)          /* each worker makes a request this often */
#define PATIENCE (250 * MS)       /* a request's deadline, after it was made */
#define SHUTDOWN_AT (1000 * MS)

static int64_t t0;
static lfp_bucket bucket;
static lfp_cancel shutdown_token = LFP_CANCEL_INIT;

/* The transcript and the API's own call log (one lock, so lines stay in
 * time order; it is not part of the limiting). */
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static int api_calls, over_bound, timed_out, cancelled;
static double worst_margin = 1e9;   /* smallest bound - calls seen */

static long ms_since_start(int64_t t) { return (long)((t - t0) / MS); }

static void sleep_until(int64_t t)
{
    struct timespec ts = { (time_t)(t / 1000000000), (long)(t % 1000000000) };
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) != 0) {
    }
}

/* The fake API: logs the call, checks the limiter's bound, takes 2 ms. */
static void api_call(int worker, int req, int64_t waited)
{
    pthread_mutex_lock(&log_lock);
    int64_t now = lfp_now();
    double bound = BURST + RATE * (double)(now - t0) / 1e9 + 1;
    api_calls++;
    if (bound - api_calls < worst_margin)
        worst_margin = bound - api_calls;
    over_bound += api_calls > bound;
    printf("%5ld ms  w%d  #%d  sent after waiting %3ld ms   (API calls %2d, bound %4.1f)\n",
           ms_since_start(now), worker, req, (long)(waited / MS), api_calls, bound);
    pthread_mutex_unlock(&log_lock);
    sleep_until(lfp_after(2 * MS));
}

static void note(int worker, int req, const char *what, int *counter)
{
    pthread_mutex_lock(&log_lock);
    printf("%5ld ms  w%d  #%d  %s\n", ms_since_start(lfp_now()), worker, req, what);
    (*counter)++;
    pthread_mutex_unlock(&log_lock);
}

static void *worker(void *arg)
{
    int w = (int)(intptr_t)arg;
    int64_t next = t0 + w * (EVERY / WORKERS);   /* staggered starts */
    for (int req = 1;; req++, next += EVERY) {
        sleep_until(next);                        /* request pacing, not synchronisation */
        if (lfp_cancel_fired(&shutdown_token))
            return NULL;                          /* no new requests after shutdown */
        int64_t made = lfp_now();
        int rc = lfp_bucket_wait(&bucket, 1, made + PATIENCE, &shutdown_token);
        if (rc == 0)
            api_call(w, req, lfp_now() - made);
        else if (rc == ETIMEDOUT)
            note(w, req, "ETIMEDOUT at once: its token comes after its deadline; none used",
                 &timed_out);
        else if (rc == ECANCELED)
            note(w, req, "ECANCELED while waiting (shutdown); token given back", &cancelled);
    }
}

/* Check 2, on the quiescent bucket: drain it, reserve one token to learn
 * the next ready time exactly, then wait with deadlines on either side. */
static bool deadline_check(void)
{
    int64_t now = lfp_now(), ready, interval = (int64_t)(1e9 / lfp_bucket_rate(&bucket) + 0.5);
    while (lfp_bucket_take_at(&bucket, 1, now) == 0) {
    }
    if (lfp_bucket_reserve_at(&bucket, 1, now, &ready) != 0)
        return false;
    int64_t next_ready = ready + interval;   /* GCRA: one emission interval later */
    double before = lfp_bucket_tokens_at(&bucket, now);
    int late = lfp_bucket_wait_at(&bucket, 1, now, next_ready - 1, NULL);
    double after = lfp_bucket_tokens_at(&bucket, now);
    printf("deadline 1 ns before the token is ready (+%lld ms): %s, tokens %.3f -> %.3f\n",
           (long long)((next_ready - now) / MS), late == ETIMEDOUT ? "ETIMEDOUT" : "WRONG",
           before, after);
    /* the same request with the deadline at the ready time is admitted
     * (this one sleeps until then, about 2 * interval) */
    int in_time = lfp_bucket_wait_at(&bucket, 1, now, next_ready, NULL);
    printf("deadline at the ready time: %s after %lld ms\n", in_time == 0 ? "admitted" : "WRONG",
           (long long)((lfp_now() - now) / MS));
    return late == ETIMEDOUT && before == after && in_time == 0;
}

int main(void)
{
    t0 = lfp_now();
    if (lfp_bucket_init(&bucket, RATE, BURST) != 0)
        return 1;
    printf("%d workers, a request each every %lld ms; one lfp_bucket of %.0f/s, burst %d;\n"
           "each request waits for its token at most %lld ms; shutdown at %lld ms.\n\n",
           WORKERS, EVERY / MS, RATE, BURST, PATIENCE / MS, SHUTDOWN_AT / MS);
    pthread_t th[WORKERS];
    for (int i = 0; i < WORKERS; i++)
        pthread_create(&th[i], NULL, worker, (void *)(intptr_t)i);
    sleep_until(t0 + SHUTDOWN_AT);
    pthread_mutex_lock(&log_lock);
    printf("%5ld ms  shutdown: cancel token fired\n", ms_since_start(lfp_now()));
    pthread_mutex_unlock(&log_lock);
    lfp_cancel_fire(&shutdown_token, ECANCELED);
    for (int i = 0; i < WORKERS; i++)
        pthread_join(th[i], NULL);

    printf("\n%d sent, %d shed with ETIMEDOUT, %d cancelled; closest approach to the bound "
           "burst + rate * elapsed + 1: %.2f\n",
           api_calls, timed_out, cancelled, worst_margin);
    bool bound_ok = over_bound == 0;
    printf("check 1: API calls never above the bound: %s\n", bound_ok ? "ok" : "FAILED");
    bool deadline_ok = deadline_check();
    printf("check 2: a wait that would pass its deadline fails at once, consuming nothing: %s\n",
           deadline_ok ? "ok" : "FAILED");
    lfp_cancel_destroy(&shutdown_token);
    return bound_ok && deadline_ok ? 0 : 1;
}
