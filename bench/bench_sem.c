/* Semaphore benchmarks, lfpat vs its mutex twin vs glibc sem_t:
 *   sem/uncontended   try_acquire + release pairs on one thread (of a
 *                     multi-threaded process, see bench/main.c)
 *   sem/contended     acquire + release on a 1-permit semaphore by 2 and 4
 *                     threads (4 = oversubscribed on 2 cores); one global
 *                     wall clock over a fixed window (own pthread harness)
 *   sem/handoff       two threads pass a permit back and forth through two
 *                     semaphores; items = round trips
 *   wsem/uncontended  try_acquire(3) + release(3) on one thread
 *   wsem/contended    acquire(2) + release(2), capacity 3, 2 and 4 threads */
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <time.h>

#include "lfpat.h"
#include "shim/shim.h"

#define BATCH 256

static lfp_sem lsem;
static lfp_locked_sem tsem;
static sem_t psem;
static lfp_wsem lwsem;
static lfp_locked_wsem twsem;

/* ------------------------------------------------------------ uncontended */

/* The process is multi-threaded before any case runs (bench/main.c), so
 * the twins' mutexes use their locked instructions, as in real use. */

#define PAIR_BENCH(fname, take, give)                                    \
    static void fname(lfpb_state *st, void *arg)                         \
    {                                                                    \
        (void)arg;                                                       \
        int bad = 0;                                                     \
        while (lfpb_keep_running_batch(st, BATCH))                       \
            for (int i = 0; i < BATCH; i++) {                            \
                bad |= (take);                                           \
                bad |= (give);                                           \
            }                                                            \
        if (bad)                                                         \
            lfpb_skip_with_error(st, "unexpected failure");              \
        lfpb_set_items(st, lfpb_iterations(st));                         \
    }

PAIR_BENCH(bm_sem_lfp, lfp_sem_try_acquire(&lsem), lfp_sem_release(&lsem))
PAIR_BENCH(bm_sem_locked, lfp_locked_sem_try_acquire(&tsem), lfp_locked_sem_release(&tsem))
PAIR_BENCH(bm_sem_t, sem_trywait(&psem), sem_post(&psem))
PAIR_BENCH(bm_wsem_lfp, lfp_wsem_try_acquire(&lwsem, 3), lfp_wsem_release(&lwsem, 3))
PAIR_BENCH(bm_wsem_locked, lfp_locked_wsem_try_acquire(&twsem, 3),
           lfp_locked_wsem_release(&twsem, 3))

/* ------------------------------------------------------------ contended */

struct ops {
    int (*take)(void *);
    int (*give)(void *);
    void *obj;
};

static int lfp_take(void *s) { return lfp_sem_acquire(s, LFP_FOREVER, NULL); }
static int lfp_give(void *s) { return lfp_sem_release(s); }
static int locked_take(void *s) { return lfp_locked_sem_acquire(s, LFP_FOREVER, NULL); }
static int locked_give(void *s) { return lfp_locked_sem_release(s); }
static int semt_take(void *s) { return sem_wait(s); }
static int semt_give(void *s) { return sem_post(s); }
static int wlfp_take(void *s) { return lfp_wsem_acquire(s, 2, LFP_FOREVER, NULL); }
static int wlfp_give(void *s) { return lfp_wsem_release(s, 2); }
static int wlocked_take(void *s) { return lfp_locked_wsem_acquire(s, 2, LFP_FOREVER, NULL); }
static int wlocked_give(void *s) { return lfp_locked_wsem_release(s, 2); }

static lfp_sem c_lsem;
static lfp_locked_sem c_tsem;
static sem_t c_psem;
static lfp_wsem c_lwsem;
static lfp_locked_wsem c_twsem;

static struct ops ops_lfp = { lfp_take, lfp_give, &c_lsem };
static struct ops ops_locked = { locked_take, locked_give, &c_tsem };
static struct ops ops_semt = { semt_take, semt_give, &c_psem };
static struct ops ops_wlfp = { wlfp_take, wlfp_give, &c_lwsem };
static struct ops ops_wlocked = { wlocked_take, wlocked_give, &c_twsem };

struct contend_case {
    struct ops *ops;
    int threads;
};

struct window {
    struct ops *ops;
    pthread_barrier_t start;
    _Atomic int stop;
    _Atomic uint64_t total;
};

static void *contend_worker(void *p)
{
    struct window *w = p;
    uint64_t n = 0;
    pthread_barrier_wait(&w->start);
    while (!atomic_load_explicit(&w->stop, memory_order_relaxed)) {
        for (int i = 0; i < 64; i++) {
            w->ops->take(w->ops->obj);
            w->ops->give(w->ops->obj);
        }
        n += 64;
    }
    atomic_fetch_add(&w->total, n);
    return NULL;
}

#define WINDOW_NS 20000000   /* 20 ms per measured window */

static void bm_contended(lfpb_state *st, void *arg)
{
    struct contend_case *c = arg;
    int64_t items = 0;
    while (lfpb_keep_running(st)) {
        struct window w = { .ops = c->ops };
        pthread_barrier_init(&w.start, NULL, (unsigned)c->threads + 1);
        pthread_t tid[8];
        for (int i = 0; i < c->threads; i++)
            pthread_create(&tid[i], NULL, contend_worker, &w);
        pthread_barrier_wait(&w.start);
        int64_t t0 = lfp_now();
        struct timespec ts = { 0, WINDOW_NS };
        nanosleep(&ts, NULL);
        atomic_store(&w.stop, 1);
        for (int i = 0; i < c->threads; i++)
            pthread_join(tid[i], NULL);
        lfpb_set_iteration_time(st, (double)(lfp_now() - t0) * 1e-9);
        items += (int64_t)atomic_load(&w.total);
        pthread_barrier_destroy(&w.start);
    }
    lfpb_set_items(st, items);
}

/* ------------------------------------------------------------ handoff */

static lfp_sem h_lfp[2];
static lfp_locked_sem h_locked[2];
static sem_t h_semt[2];

#define HANDOFF_BENCH(fname, sems, take, give)                           \
    static void fname(lfpb_state *st, void *arg)                         \
    {                                                                    \
        (void)arg;                                                       \
        int me = lfpb_thread_index(st);                                  \
        while (lfpb_keep_running(st)) {                                  \
            if (me == 0) {                                               \
                give(&sems[0]);                                          \
                take(&sems[1]);                                          \
            } else {                                                     \
                take(&sems[0]);                                          \
                give(&sems[1]);                                          \
            }                                                            \
        }                                                                \
        lfpb_set_items(st, me == 0 ? lfpb_iterations(st) : 0);           \
    }

HANDOFF_BENCH(bm_handoff_lfp, h_lfp, lfp_take, lfp_give)
HANDOFF_BENCH(bm_handoff_locked, h_locked, locked_take, locked_give)
HANDOFF_BENCH(bm_handoff_semt, h_semt, semt_take, semt_give)

/* ------------------------------------------------------------ register */

static struct contend_case cases[2][5];

LFPB_REGISTER(sem)
{
    lfp_sem_init(&lsem, 1);
    lfp_locked_sem_init(&tsem, 1);
    sem_init(&psem, 0, 1);
    lfp_wsem_init(&lwsem, 3);
    lfp_locked_wsem_init(&twsem, 3);
    lfp_sem_init(&c_lsem, 1);
    lfp_locked_sem_init(&c_tsem, 1);
    sem_init(&c_psem, 0, 1);
    lfp_wsem_init(&c_lwsem, 3);
    lfp_locked_wsem_init(&c_twsem, 3);
    for (int i = 0; i < 2; i++) {   /* capacity 1, no free permit: the first give starts */
        lfp_sem_init(&h_lfp[i], 1);
        lfp_sem_try_acquire(&h_lfp[i]);
        lfp_locked_sem_init(&h_locked[i], 1);
        lfp_locked_sem_try_acquire(&h_locked[i]);
        sem_init(&h_semt[i], 0, 0);
    }

    lfpb_register("sem/uncontended/lfp_sem", bm_sem_lfp, NULL, 1);
    lfpb_register("sem/uncontended/lfp_locked_sem", bm_sem_locked, NULL, 1);
    lfpb_register("sem/uncontended/sem_t", bm_sem_t, NULL, 1);
    lfpb_register("wsem/uncontended/lfp_wsem", bm_wsem_lfp, NULL, 1);
    lfpb_register("wsem/uncontended/lfp_locked_wsem", bm_wsem_locked, NULL, 1);

    static const struct { const char *name; struct ops *ops; } impls[5] = {
        { "sem/contended/lfp_sem", &ops_lfp },
        { "sem/contended/lfp_locked_sem", &ops_locked },
        { "sem/contended/sem_t", &ops_semt },
        { "wsem/contended/lfp_wsem", &ops_wlfp },
        { "wsem/contended/lfp_locked_wsem", &ops_wlocked },
    };
    static const int threads[2] = { 2, 4 };
    for (int t = 0; t < 2; t++)
        for (int i = 0; i < 5; i++) {
            char name[96];
            snprintf(name, sizeof name, "%s/threads:%d", impls[i].name, threads[t]);
            cases[t][i] = (struct contend_case){ impls[i].ops, threads[t] };
            lfpb_register_manual(name, bm_contended, &cases[t][i]);
        }

    lfpb_register("sem/handoff/lfp_sem", bm_handoff_lfp, NULL, 2);
    lfpb_register("sem/handoff/lfp_locked_sem", bm_handoff_locked, NULL, 2);
    lfpb_register("sem/handoff/sem_t", bm_handoff_semt, NULL, 2);
}
