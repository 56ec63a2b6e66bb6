/* SPDX-License-Identifier: BSD-2-Clause */
/* Example: the seed's weighted task processor on lfp_wsem.
 *
 * Tasks need different amounts of a 10-unit resource. Grants are strict
 * FIFO, so the large tasks are not starved by the small ones behind them
 * (the seed woke any waiter that fit). A task asking for more than the
 * capacity gets EINVAL at once (the seed blocked it forever), and an
 * impatient task gives up with ETIMEDOUT holding nothing.
 *
 * Checked (exit 1 otherwise): held weight never exceeds the capacity, every
 * task either completes or fails with the expected code, and all 10 units
 * are available at the end.
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdio.h>
#include <time.h>

#include "lfpat.h"

#define CAPACITY 10

struct task {
    const char *id;
    int64_t weight;
    int start_ms, work_ms, patience_ms;   /* patience 0: wait forever */
    int rc;
};

static struct task tasks[] = {
    { "Small-1", 2, 0, 200, 0, -1 },    { "Medium-1", 4, 20, 300, 0, -1 },
    { "Large-1", 6, 40, 400, 0, -1 },   { "Small-2", 1, 60, 100, 0, -1 },
    { "Small-3", 2, 80, 200, 0, -1 },   { "Medium-2", 5, 100, 300, 0, -1 },
    { "Large-2", 8, 120, 500, 0, -1 },  { "Impatient", 9, 140, 100, 50, -1 },
    { "Huge", 12, 160, 100, 0, -1 },
};
#define NTASKS (int)(sizeof tasks / sizeof tasks[0])

static lfp_wsem sem;
static _Atomic int64_t held;
static _Atomic int broken;
static int64_t t0;

static void say(const struct task *t, const char *what)
{
    static pthread_mutex_t out = PTHREAD_MUTEX_INITIALIZER;
    pthread_mutex_lock(&out);
    printf("[%4lld ms] %-9s (%2lld units) %-28s free %lld/%d\n",
           (long long)((lfp_now() - t0) / 1000000), t->id, (long long)t->weight, what,
           (long long)lfp_wsem_available(&sem), CAPACITY);
    pthread_mutex_unlock(&out);
}

static void sleep_ms(int ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };
    nanosleep(&ts, NULL);
}

static void *task_main(void *p)
{
    struct task *t = p;
    sleep_ms(t->start_ms);
    say(t, "requests");
    int64_t deadline = t->patience_ms ? lfp_after((int64_t)t->patience_ms * 1000000) : LFP_FOREVER;
    t->rc = lfp_wsem_acquire(&sem, t->weight, deadline, NULL);
    if (t->rc != 0) {
        say(t, t->rc == EINVAL ? "rejected: EINVAL (> capacity)" : "gave up: ETIMEDOUT");
        return NULL;
    }
    if (atomic_fetch_add(&held, t->weight) + t->weight > CAPACITY)
        atomic_store(&broken, 1);
    say(t, "acquired, working");
    sleep_ms(t->work_ms);
    atomic_fetch_sub(&held, t->weight);
    if (lfp_wsem_release(&sem, t->weight) != 0)
        atomic_store(&broken, 1);
    say(t, "completed, released");
    return NULL;
}

int main(void)
{
    t0 = lfp_now();
    if (lfp_wsem_init(&sem, CAPACITY) != 0)
        return 1;
    printf("=== weighted tasks: capacity %d units, strict FIFO ===\n", CAPACITY);
    pthread_t tid[NTASKS];
    for (int i = 0; i < NTASKS; i++)
        pthread_create(&tid[i], NULL, task_main, &tasks[i]);
    for (int i = 0; i < NTASKS; i++)
        pthread_join(tid[i], NULL);

    bool ok = !atomic_load(&broken) && lfp_wsem_available(&sem) == CAPACITY;
    int done = 0;
    for (int i = 0; i < NTASKS; i++) {
        const struct task *t = &tasks[i];
        int expected_fail = t->weight > CAPACITY ? EINVAL : t->patience_ms ? ETIMEDOUT : 0;
        ok &= t->rc == 0 || t->rc == expected_fail;
        done += t->rc == 0;
    }
    printf("=== %d of %d tasks completed; free %lld/%d ===\n", done, NTASKS,
           (long long)lfp_wsem_available(&sem), CAPACITY);
    printf("%s\n", ok ? "OK: never over capacity, no weight leaked"
                      : "BROKEN: an invariant failed");
    lfp_wsem_destroy(&sem);
    return ok ? 0 : 1;
}
