/* SPDX-License-Identifier: BSD-2-Clause */
/* Example: the seed's semaphore-based connection pool, done right.
 *
 * The seed picked "the" connection with resources[Used()-1]: two users that
 * acquire together read the same Used() and share one connection, and a
 * release in between hands out one still in use. Here a counting semaphore
 * (lfp_sem) bounds the users, and the free connections themselves live in a
 * small mutex-protected stack: whoever holds a permit pops a connection that
 * is guaranteed to be there and pushes it back before releasing the permit.
 *
 * Six users with staggered starts share three connections; some give up
 * after a short deadline. The program checks that no connection is ever used
 * by two users at once, that at most three are in use, and that every permit
 * and connection is back at the end (exit 1 otherwise).
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdio.h>
#include <time.h>

#include "lfpat.h"

#define POOL 3
#define USERS 6

struct conn {
    int id;
    _Atomic int in_use;        /* checked: never two users at once */
};

static struct conn conns[POOL];
static struct {
    pthread_mutex_t lock;
    struct conn *free[POOL];
    int n;
} free_list = { .lock = PTHREAD_MUTEX_INITIALIZER };

static lfp_sem permits;
static _Atomic int in_use_now, broken, timed_out;
static int64_t t0;

static void say(const char *who, const char *fmt, int a)
{
    static pthread_mutex_t out = PTHREAD_MUTEX_INITIALIZER;
    pthread_mutex_lock(&out);
    printf("[%4lld ms] %-8s ", (long long)((lfp_now() - t0) / 1000000), who);
    printf(fmt, a);
    putchar('\n');
    pthread_mutex_unlock(&out);
}

static void sleep_ms(int ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };
    nanosleep(&ts, NULL);
}

/* Holding a permit guarantees a free connection. */
static struct conn *pool_get(int64_t deadline)
{
    if (lfp_sem_acquire(&permits, deadline, NULL) != 0)
        return NULL;
    pthread_mutex_lock(&free_list.lock);
    struct conn *c = free_list.n > 0 ? free_list.free[--free_list.n] : NULL;
    pthread_mutex_unlock(&free_list.lock);
    if (!c)
        atomic_store(&broken, 1);
    return c;
}

static void pool_put(struct conn *c)
{
    pthread_mutex_lock(&free_list.lock);
    free_list.free[free_list.n++] = c;
    pthread_mutex_unlock(&free_list.lock);
    if (lfp_sem_release(&permits) != 0)
        atomic_store(&broken, 1);
}

struct user {
    const char *name;
    int start_ms, query_ms, patience_ms;
};

static const struct user users[USERS] = {
    { "Alice", 0, 400, 2000 },   { "Bob", 30, 500, 2000 },  { "Charlie", 60, 450, 2000 },
    { "Diana", 90, 300, 100 },   { "Eve", 120, 200, 2000 }, { "Frank", 150, 350, 2000 },
};

static void *user_main(void *p)
{
    const struct user *u = p;
    sleep_ms(u->start_ms);
    say(u->name, "requests a connection (patience %d ms)", u->patience_ms);
    struct conn *c = pool_get(lfp_after((int64_t)u->patience_ms * 1000000));
    if (!c) {
        atomic_fetch_add(&timed_out, 1);
        say(u->name, "gave up: no connection within %d ms (ETIMEDOUT)", u->patience_ms);
        return NULL;
    }
    if (atomic_exchange(&c->in_use, 1) != 0)
        atomic_store(&broken, 1);                 /* shared connection: the seed's bug */
    if (atomic_fetch_add(&in_use_now, 1) + 1 > POOL)
        atomic_store(&broken, 1);
    say(u->name, "runs its query on connection %d", c->id);
    sleep_ms(u->query_ms);
    atomic_fetch_sub(&in_use_now, 1);
    atomic_store(&c->in_use, 0);
    say(u->name, "returns connection %d", c->id);
    pool_put(c);
    return NULL;
}

int main(void)
{
    t0 = lfp_now();
    if (lfp_sem_init(&permits, POOL) != 0)
        return 1;
    for (int i = 0; i < POOL; i++) {
        conns[i].id = i + 1;
        free_list.free[free_list.n++] = &conns[i];
    }
    printf("=== connection pool: %d connections, %d users ===\n", POOL, USERS);
    pthread_t tid[USERS];
    for (int i = 0; i < USERS; i++)
        pthread_create(&tid[i], NULL, user_main, (void *)&users[i]);
    for (int i = 0; i < USERS; i++)
        pthread_join(tid[i], NULL);

    struct lfp_sem_stats st;
    lfp_sem_stats(&permits, &st);
    printf("=== stats: capacity %llu, available %llu, acquires %llu, releases %llu, "
           "timeouts %llu ===\n",
           (unsigned long long)st.capacity, (unsigned long long)st.available,
           (unsigned long long)st.acquires, (unsigned long long)st.releases,
           (unsigned long long)st.timeouts);
    bool ok = !atomic_load(&broken) && st.available == POOL && free_list.n == POOL &&
              st.acquires == st.releases && st.acquires + st.timeouts == USERS &&
              st.timeouts == (uint64_t)atomic_load(&timed_out);
    printf("%s\n", ok ? "OK: no connection shared, all permits and connections returned"
                      : "BROKEN: an invariant failed");
    lfp_sem_destroy(&permits);
    return ok ? 0 : 1;
}
