/* SPDX-License-Identifier: BSD-2-Clause */
/* Semaphore benchmarks, lfpat vs its mutex twin vs glibc sem_t:
 *   sem/uncontended   try_acquire + release pairs on one thread (of a
 *                     multi-threaded process, see bench/main.c)
 *   sem/contended     acquire + release on a 1-permit semaphore by 1, 2 and
 *                     4 threads (4 = oversubscribed on 2 cores; 1 = the
 *                     same loop uncontended, the harness's ceiling); one
 *                     global wall clock over a fixed window (own pthread
 *                     harness), each worker pinned to a CPU (below)
 *   sem/handoff       two threads pass a permit back and forth through two
 *                     semaphores; items = round trips
 *   wsem/uncontended  try_acquire(3) + release(3) on one thread
 *   wsem/contended    acquire(2) + release(2), capacity 3, 1, 2 and 4 threads
 * The floors of an uncontended pair (same loop, same batch):
 *   sem/two_rmw/atomic_cas, sem/two_rmw/atomic_fetch_add
 *                     two atomic read-modify-writes on one word (a load and
 *                     CAS, as lfp_sem does, or a fetch-add): what any
 *                     lock-free try_acquire + release pair costs at least
 *   sem/two_lock_unlock/pthread_mutex
 *                     two empty critical sections: the twin's pair without
 *                     its counters
 *
 * Like with like: every semaphore and mutex starts on its own cache line (no
 * case depends on where the linker put it, and the two semaphores of a
 * handoff never share a line); every call's result is checked (a failure
 * fails the case), so nothing is optimised away.
 * Contended workers are pinned, worker i to the i-th CPU the process may use
 * (round robin): unpinned, the scheduler sometimes put both workers of a
 * 2-thread window on one CPU, where they take turns instead of contending;
 * such windows ran 2-3x faster for every implementation, so the median
 * measured placement luck rather than contention. */
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <stdio.h>
#include <time.h>

#include "lfpat.h"
#include "shim/shim.h"

#define BATCH 256
#define LINE alignas(LFP_CACHELINE)

static LINE lfp_sem lsem;
static LINE lfp_locked_sem tsem;
static LINE sem_t psem;
static LINE lfp_wsem lwsem;
static LINE lfp_locked_wsem twsem;

/* The floors: the word holds 1 between pairs (one "permit"). */
static LINE _Atomic uint64_t rmw_word = 1;
static LINE pthread_mutex_t empty_lock = PTHREAD_MUTEX_INITIALIZER;

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

/* One load + CAS adding d to the word (lfp_sem's RMW); returns the value
 * it replaced. seq_cst as lfp_sem_release's CAS (on x86 the same
 * instruction as any CAS). */
static inline uint64_t cas_add(_Atomic uint64_t *w, uint64_t d)
{
    /* relaxed: only the CAS's first guess. */
    uint64_t v = atomic_load_explicit(w, memory_order_relaxed);
    while (!atomic_compare_exchange_weak_explicit(w, &v, v + d, memory_order_seq_cst,
                                                  memory_order_relaxed))
        ;
    return v;
}

static inline int empty_section(void)
{
    return pthread_mutex_lock(&empty_lock) | pthread_mutex_unlock(&empty_lock);
}

/* Each RMW's result is checked, as the semaphores' return codes are. */
PAIR_BENCH(bm_two_cas, cas_add(&rmw_word, (uint64_t)-1) != 1, cas_add(&rmw_word, 1) != 0)
/* seq_cst: as the CAS above (a locked instruction on x86 either way). */
PAIR_BENCH(bm_two_xadd, atomic_fetch_sub(&rmw_word, 1) != 1, atomic_fetch_add(&rmw_word, 1) != 0)
PAIR_BENCH(bm_two_lock, empty_section(), empty_section())

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

static LINE lfp_sem c_lsem;
static LINE lfp_locked_sem c_tsem;
static LINE sem_t c_psem;
static LINE lfp_wsem c_lwsem;
static LINE lfp_locked_wsem c_twsem;

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
    _Atomic int bad;
};

static void *contend_worker(void *p)
{
    struct window *w = p;
    uint64_t n = 0;
    int bad = 0;
    pthread_barrier_wait(&w->start);
    while (!atomic_load_explicit(&w->stop, memory_order_relaxed)) {
        for (int i = 0; i < 64; i++) {
            bad |= w->ops->take(w->ops->obj);
            bad |= w->ops->give(w->ops->obj);
        }
        n += 64;
    }
    atomic_fetch_add(&w->total, n);
    atomic_fetch_or(&w->bad, bad);
    return NULL;
}

/* Pin the thread made with attr to the i-th CPU (round robin) of those the
 * process may run on; leave it unpinned if they cannot be read. */
static void pin_attr(pthread_attr_t *attr, int i)
{
    cpu_set_t allowed, one;
    if (sched_getaffinity(0, sizeof allowed, &allowed) != 0)
        return;
    int k = i % CPU_COUNT(&allowed);
    CPU_ZERO(&one);
    for (int cpu = 0; cpu < CPU_SETSIZE; cpu++)
        if (CPU_ISSET(cpu, &allowed) && k-- == 0) {
            CPU_SET(cpu, &one);
            pthread_attr_setaffinity_np(attr, sizeof one, &one);
            return;
        }
}

#define WINDOW_NS 20000000   /* 20 ms per measured window */

static void bm_contended(lfpb_state *st, void *arg)
{
    struct contend_case *c = arg;
    int64_t items = 0;
    int bad = 0;
    while (lfpb_keep_running(st)) {
        struct window w = { .ops = c->ops };
        pthread_barrier_init(&w.start, NULL, (unsigned)c->threads + 1);
        pthread_t tid[8];
        for (int i = 0; i < c->threads; i++) {
            pthread_attr_t attr;
            pthread_attr_init(&attr);
            pin_attr(&attr, i);
            pthread_create(&tid[i], &attr, contend_worker, &w);
            pthread_attr_destroy(&attr);
        }
        pthread_barrier_wait(&w.start);
        int64_t t0 = lfp_now();
        struct timespec ts = { 0, WINDOW_NS };
        nanosleep(&ts, NULL);
        atomic_store(&w.stop, 1);
        for (int i = 0; i < c->threads; i++)
            pthread_join(tid[i], NULL);
        lfpb_set_iteration_time(st, (double)(lfp_now() - t0) * 1e-9);
        items += (int64_t)atomic_load(&w.total);
        bad |= atomic_load(&w.bad);
        pthread_barrier_destroy(&w.start);
    }
    if (bad)
        lfpb_skip_with_error(st, "unexpected failure");
    lfpb_set_items(st, items);
}

/* ------------------------------------------------------------ handoff */

/* Two semaphores each, every one on its own line. */
static struct { LINE lfp_sem s; } h_lfp[2];
static struct { LINE lfp_locked_sem s; } h_locked[2];
static struct { LINE sem_t s; } h_semt[2];

#define HANDOFF_BENCH(fname, sems, take, give)                           \
    static void fname(lfpb_state *st, void *arg)                         \
    {                                                                    \
        (void)arg;                                                       \
        int me = lfpb_thread_index(st), bad = 0;                         \
        while (lfpb_keep_running(st)) {                                  \
            if (me == 0) {                                               \
                bad |= give(&sems[0].s);                                 \
                bad |= take(&sems[1].s);                                 \
            } else {                                                     \
                bad |= take(&sems[0].s);                                 \
                bad |= give(&sems[1].s);                                 \
            }                                                            \
        }                                                                \
        if (bad)                                                         \
            lfpb_skip_with_error(st, "unexpected failure");              \
        lfpb_set_items(st, me == 0 ? lfpb_iterations(st) : 0);           \
    }

HANDOFF_BENCH(bm_handoff_lfp, h_lfp, lfp_take, lfp_give)
HANDOFF_BENCH(bm_handoff_locked, h_locked, locked_take, locked_give)
HANDOFF_BENCH(bm_handoff_semt, h_semt, semt_take, semt_give)

/* ------------------------------------------------------------ register */

static struct contend_case cases[3][5];

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
        lfp_sem_init(&h_lfp[i].s, 1);
        lfp_sem_try_acquire(&h_lfp[i].s);
        lfp_locked_sem_init(&h_locked[i].s, 1);
        lfp_locked_sem_try_acquire(&h_locked[i].s);
        sem_init(&h_semt[i].s, 0, 0);
    }

    lfpb_register("sem/uncontended/lfp_sem", bm_sem_lfp, NULL, 1);
    lfpb_register("sem/uncontended/lfp_locked_sem", bm_sem_locked, NULL, 1);
    lfpb_register("sem/uncontended/sem_t", bm_sem_t, NULL, 1);
    lfpb_register("wsem/uncontended/lfp_wsem", bm_wsem_lfp, NULL, 1);
    lfpb_register("wsem/uncontended/lfp_locked_wsem", bm_wsem_locked, NULL, 1);
    lfpb_register("sem/two_rmw/atomic_cas", bm_two_cas, NULL, 1);
    lfpb_register("sem/two_rmw/atomic_fetch_add", bm_two_xadd, NULL, 1);
    lfpb_register("sem/two_lock_unlock/pthread_mutex", bm_two_lock, NULL, 1);

    static const struct { const char *name; struct ops *ops; } impls[5] = {
        { "sem/contended/lfp_sem", &ops_lfp },
        { "sem/contended/lfp_locked_sem", &ops_locked },
        { "sem/contended/sem_t", &ops_semt },
        { "wsem/contended/lfp_wsem", &ops_wlfp },
        { "wsem/contended/lfp_locked_wsem", &ops_wlocked },
    };
    static const int threads[3] = { 1, 2, 4 };
    for (int t = 0; t < 3; t++)
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
