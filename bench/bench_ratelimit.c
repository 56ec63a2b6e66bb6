/* SPDX-License-Identifier: BSD-2-Clause */
/* Rate limiter benchmarks at 1, 2 and 4 threads (4 = oversubscribed on the
 * 2-core reference machine), lfpat vs its mutex twins (lfp_locked_bucket,
 * lfp_locked_slog) and, for the windows, a plain pthread-mutex window as the
 * mutex peer (the library has no locked window twin).
 *
 *   ratelimit/take_at/<impl>    caller's timestamp (read once per batch of
 *                               256, as a server that already has one)
 *   ratelimit/take/<impl>       the plain call of each: lfpat's takes use
 *                               their clock (an lfp_now() reading reused
 *                               for < 256 TSC ticks), the mutex versions
 *                               read lfp_now() per take, as most code does
 *   ratelimit/take_at_refused/<impl>  every take refused (an empty bucket):
 *                               lfp_bucket refuses with loads only
 *   ratelimit/keyed_1e3/<impl>, keyed_1e6/<impl>  a lookup and a take of a
 *                               key drawn uniformly from 10^3 or 10^6 keys,
 *                               all in the table (filled before the first
 *                               case runs), at the caller's timestamp:
 *                               lfp_keyed vs lfp_locked_keyed (one mutex
 *                               around the same open-addressing map; same
 *                               capacity request, keys, draws and
 *                               timestamps); 10^6 keys: 2^21 slots, which
 *                               a take reads in 32 MB of 16-byte slots
 *                               (lfp_keyed, plus 32 MB of tenure words it
 *                               does not touch) and 48 MB of 24-byte slots
 *                               (the twin), both on transparent huge pages
 *                               where enabled: most lookups miss the cache
 *
 * The breakdown of a take (same run, same loop and batch):
 *   ratelimit/clock_read/lfp_now              the clock read alone
 *   ratelimit/one_rmw/atomic_fetch_add        one atomic RMW on a shared
 *                                             word: the floor of an admitted
 *                                             lock-free take (one CAS)
 *   ratelimit/lock_unlock/pthread_mutex       an empty critical section: the
 *                                             floor of a mutex take
 *   ratelimit/clock_and_rmw/atomic_fetch_add  a clock read then one RMW on
 *                                             the shared word: the floor of
 *                                             a lock-free take on lfp_now()
 *   ratelimit/clock_read/lfp_rl_now           the plain takes' clock alone
 *                                             (lfp_now() readings reused for
 *                                             < 256 TSC ticks; see
 *                                             src/ratelimit_internal.h)
 *   ratelimit/takes_clock_and_rmw/atomic_fetch_add  the same floor on the
 *                                             takes' clock
 *   ratelimit/take_same_clock/<impl>          lfp_bucket_take vs the mutex
 *                                             twin given the same clock
 *                                             (lfp_locked_bucket_take_at at
 *                                             lfp_rl_now_()): how much of the
 *                                             take ratio the clock accounts for
 *
 * Like with like: every limiter and its mutex version get the same n (1)
 * and the same configuration, and in every case but take/ the same
 * timestamps, so they admit and refuse the same mix (take/ compares each
 * plain call as shipped; take_same_clock/ removes the clock difference). Admitting cases are configured so that every take is
 * admitted (the CAS path is what is measured): bucket 1e9/s with a burst of
 * 1e6, windows of 1 ms with limits far above the rate reached, sliding logs
 * of 1 ns windows with 64 Ki entries. The counter "refused" reports the
 * fraction refused (expected ~0 there, 1 in take_at_refused; the sliding log
 * rightly refuses a take whose timestamp is older than another thread's
 * recent entry). 4-thread runs use a pthread harness with one wall clock
 * (bm_manual); their names end in /threads:4 without /real_time.
 *
 * The process is made multi-threaded before any case runs (see
 * bench/main.c): glibc 2.36 on x86 drops the lock prefix from
 * its mutexes while a process has never started a thread, so otherwise the
 * 1-thread mutex numbers would depend on whether an earlier benchmark had
 * started threads, and would not be those of any program that shares a
 * limiter between threads.
 */
#include <pthread.h>
#include <sched.h>
#include <stdio.h>

#include "lfpat.h"
#include "ratelimit_internal.h"   /* lfp_rl_now_, the plain takes' clock */
#include "shim/shim.h"

#define BATCH 256

/* Every limiter starts on its own cache line (the lfpat types are aligned
 * by their declarations; the mutex versions here), so that no case depends
 * on where the linker happened to put it. */
#define LINE alignas(LFP_CACHELINE)
static lfp_bucket bucket;
static LINE lfp_locked_bucket lbucket;
static lfp_fwindow fwindow;
static lfp_swindow swindow;
static lfp_slog slog;
static LINE lfp_locked_slog lslog;
static lfp_bucket empty_bucket;
static LINE lfp_locked_bucket empty_lbucket;

/* Keyed tables, filled on first use (64 MB and 48 MB for 10^6 keys: not
 * for benchmark runs that do not ask for them). */
static lfp_keyed keyed3, keyed6;
static LINE lfp_locked_keyed lkeyed3, lkeyed6;
static pthread_once_t keyed_once = PTHREAD_ONCE_INIT;

static void keyed_fill(void)
{
    lfp_keyed_init(&keyed3, 1000, 1e9, 1000000);
    lfp_keyed_init(&keyed6, 1000000, 1e9, 1000000);
    lfp_locked_keyed_init(&lkeyed3, 1000, 1e9, 1000000);
    lfp_locked_keyed_init(&lkeyed6, 1000000, 1e9, 1000000);
    int64_t now = lfp_now();
    for (uint64_t key = 0; key < 1000000; key++) {
        if (key < 1000) {
            lfp_keyed_take_at(&keyed3, key, 1, now);
            lfp_locked_keyed_take_at(&lkeyed3, key, 1, now);
        }
        lfp_keyed_take_at(&keyed6, key, 1, now);
        lfp_locked_keyed_take_at(&lkeyed6, key, 1, now);
    }
}

/* A key drawn uniformly from [0, n): a per-thread xorshift. */
static _Thread_local uint64_t key_rng;
static uint64_t next_key(uint64_t n)
{
    if (key_rng == 0)
        key_rng = (uint64_t)(uintptr_t)&key_rng | 1;
    key_rng ^= key_rng << 13;
    key_rng ^= key_rng >> 7;
    key_rng ^= key_rng << 17;
    return key_rng % n;
}

/* The breakdown's floors. relaxed: a counter bumped for its cost alone. */
static LINE _Atomic int64_t rmw_word;
static LINE pthread_mutex_t empty_lock = PTHREAD_MUTEX_INITIALIZER;

/* The mutex peers for the windows: the seed's FixedWindow, and the same
 * sliding counter as lfp_swindow, under a pthread mutex. */
typedef struct mutex_window {
    pthread_mutex_t lock;
    int64_t id;
    uint64_t cur, prev, limit;
    int64_t window;
} mutex_window;

static LINE mutex_window mfixed;
static LINE mutex_window msliding;

static int mutex_fwindow_take_at(mutex_window *w, uint32_t n, int64_t now)
{
    pthread_mutex_lock(&w->lock);
    int64_t id = now / w->window;
    if (id > w->id) {
        w->id = id;
        w->cur = 0;
    }
    int rc = w->cur + n <= w->limit ? 0 : EAGAIN;
    if (rc == 0)
        w->cur += n;
    pthread_mutex_unlock(&w->lock);
    return rc;
}

static int mutex_swindow_take_at(mutex_window *w, uint32_t n, int64_t now)
{
    pthread_mutex_lock(&w->lock);
    int64_t id = now / w->window, e = now % w->window;
    if (id > w->id) {
        w->prev = id == w->id + 1 ? w->cur : 0;
        w->cur = 0;
        w->id = id;
    }
    double est = (double)w->prev * (double)(w->window - e) / (double)w->window + (double)w->cur;
    int rc = est + n <= (double)w->limit ? 0 : EAGAIN;
    if (rc == 0)
        w->cur += n;
    pthread_mutex_unlock(&w->lock);
    return rc;
}

static void mutex_window_init(mutex_window *w, uint64_t limit, int64_t window)
{
    pthread_mutex_init(&w->lock, NULL);
    w->id = INT64_MIN;
    w->cur = w->prev = 0;
    w->limit = limit;
    w->window = window;
}

/* One batch of BATCH takes; returns how many were refused. take_at reads
 * the clock once per batch (the caller's timestamp), take once per call. */
typedef int64_t (*batch_fn)(void);

/* A benchmark case: its name and batch (passed to bodies by pointer). */
typedef struct bench_case {
    const char *name;
    batch_fn batch;
    void (*setup)(void);   /* before the timed loop (NULL: none) */
} bench_case;

#define TAKE_AT_BATCH(fname, call)                                       \
    static int64_t fname(void)                                           \
    {                                                                    \
        int64_t refused = 0, now = lfp_now();                            \
        for (int i = 0; i < BATCH; i++)                                  \
            refused += (call) != 0;                                      \
        return refused;                                                  \
    }

#define TAKE_BATCH(fname, call)                                          \
    static int64_t fname(void)                                           \
    {                                                                    \
        int64_t refused = 0;                                             \
        for (int i = 0; i < BATCH; i++)                                  \
            refused += (call) != 0;                                      \
        return refused;                                                  \
    }

TAKE_AT_BATCH(at_bucket, lfp_bucket_take_at(&bucket, 1, now))
TAKE_AT_BATCH(at_lbucket, lfp_locked_bucket_take_at(&lbucket, 1, now))
TAKE_AT_BATCH(at_fwindow, lfp_fwindow_take_at(&fwindow, 1, now))
TAKE_AT_BATCH(at_mfixed, mutex_fwindow_take_at(&mfixed, 1, now))
TAKE_AT_BATCH(at_swindow, lfp_swindow_take_at(&swindow, 1, now))
TAKE_AT_BATCH(at_msliding, mutex_swindow_take_at(&msliding, 1, now))
TAKE_AT_BATCH(at_slog, lfp_slog_take_at(&slog, 1, now))
TAKE_AT_BATCH(at_lslog, lfp_locked_slog_take_at(&lslog, 1, now))

TAKE_BATCH(plain_bucket, lfp_bucket_take(&bucket, 1))
TAKE_BATCH(plain_lbucket, lfp_locked_bucket_take(&lbucket, 1))
TAKE_BATCH(plain_fwindow, lfp_fwindow_take(&fwindow, 1))
TAKE_BATCH(plain_mfixed, mutex_fwindow_take_at(&mfixed, 1, lfp_now()))
TAKE_BATCH(plain_swindow, lfp_swindow_take(&swindow, 1))
TAKE_BATCH(plain_msliding, mutex_swindow_take_at(&msliding, 1, lfp_now()))
TAKE_BATCH(plain_slog, lfp_slog_take(&slog, 1))
TAKE_BATCH(plain_lslog, lfp_locked_slog_take(&lslog, 1))
TAKE_BATCH(same_clock_lbucket, lfp_locked_bucket_take_at(&lbucket, 1, lfp_rl_now_()))
#define KEYED_BATCH(fname, call)                                         \
    static int64_t fname(void)                                           \
    {                                                                    \
        int64_t refused = 0, now = lfp_now();                            \
        for (int i = 0; i < BATCH; i++)                                  \
            refused += (call) != 0;                                      \
        return refused;                                                  \
    }

/* The tables are filled once, before the first keyed case's timed loop
 * (filling 10^6 keys inside it made that case's first repetition measure
 * the fill). */
static void keyed_setup(void) { pthread_once(&keyed_once, keyed_fill); }

KEYED_BATCH(keyed3_batch, lfp_keyed_take_at(&keyed3, next_key(1000), 1, now))
KEYED_BATCH(lkeyed3_batch, lfp_locked_keyed_take_at(&lkeyed3, next_key(1000), 1, now))
KEYED_BATCH(keyed6_batch, lfp_keyed_take_at(&keyed6, next_key(1000000), 1, now))
KEYED_BATCH(lkeyed6_batch, lfp_locked_keyed_take_at(&lkeyed6, next_key(1000000), 1, now))
TAKE_AT_BATCH(at_refused_bucket, lfp_bucket_take_at(&empty_bucket, 1, now))
TAKE_AT_BATCH(at_refused_lbucket, lfp_locked_bucket_take_at(&empty_lbucket, 1, now))

TAKE_BATCH(clock_only, lfp_now() < 0)
TAKE_BATCH(one_rmw, (atomic_fetch_add_explicit(&rmw_word, 1, memory_order_relaxed), 0))
/* The RMW adds the clock's low bit: it depends on the read, as a take's CAS. */
TAKE_BATCH(clock_and_rmw, (atomic_fetch_add_explicit(&rmw_word, lfp_now() & 1, memory_order_relaxed), 0))
TAKE_BATCH(takes_clock_only, lfp_rl_now_() < 0)
TAKE_BATCH(takes_clock_and_rmw,
           (atomic_fetch_add_explicit(&rmw_word, lfp_rl_now_() & 1, memory_order_relaxed), 0))
TAKE_BATCH(lock_unlock, (pthread_mutex_lock(&empty_lock), pthread_mutex_unlock(&empty_lock)))

static void report(lfpb_state *st, int64_t items, int64_t refused)
{
    lfpb_set_items(st, items);
    lfpb_set_counter(st, "refused", (double)refused / (double)(items + 1));
}

/* 1 and 2 threads: google benchmark's threads (each runs the body). */
static void bm_threads(lfpb_state *st, void *arg)
{
    const bench_case *c = arg;
    batch_fn batch = c->batch;
    int64_t refused = 0;
    if (c->setup)
        c->setup();
    while (lfpb_keep_running_batch(st, BATCH))
        refused += batch();
    report(st, lfpb_iterations(st), refused);
}

/* 4 threads (oversubscribed on 2 cores): a pthread harness timed by one
 * wall clock over a fixed window, so time-sliced threads do not inflate the
 * throughput (google benchmark averages per-thread times). */
#define MANUAL_THREADS 4
#define MANUAL_WINDOW_NS (20 * 1000000)

struct manual_run {
    batch_fn batch;
    _Atomic bool stop;
    _Atomic int64_t done, refused;
};

static void *manual_worker(void *arg)
{
    struct manual_run *r = arg;
    int64_t done = 0, refused = 0;
    /* relaxed: a stop flag; the join publishes the counts. */
    while (!atomic_load_explicit(&r->stop, memory_order_relaxed)) {
        refused += r->batch();
        done += BATCH;
    }
    atomic_fetch_add(&r->done, done);
    atomic_fetch_add(&r->refused, refused);
    return NULL;
}

static void bm_manual(lfpb_state *st, void *arg)
{
    const bench_case *c = arg;
    int64_t items = 0, refused = 0;
    if (c->setup)
        c->setup();
    while (lfpb_keep_running(st)) {
        struct manual_run r = { .batch = c->batch };
        atomic_init(&r.stop, false);
        atomic_init(&r.done, 0);
        atomic_init(&r.refused, 0);
        pthread_t th[MANUAL_THREADS];
        int64_t t0 = lfp_now();
        for (int i = 0; i < MANUAL_THREADS; i++)
            pthread_create(&th[i], NULL, manual_worker, &r);
        while (lfp_now() - t0 < MANUAL_WINDOW_NS)
            sched_yield();
        atomic_store(&r.stop, true);
        for (int i = 0; i < MANUAL_THREADS; i++)
            pthread_join(th[i], NULL);
        lfpb_set_iteration_time(st, (double)(lfp_now() - t0) / 1e9);
        items += atomic_load(&r.done);
        refused += atomic_load(&r.refused);
    }
    report(st, items, refused);
}

LFPB_REGISTER(ratelimit)
{
    lfp_bucket_init(&bucket, 1e9, 1000000);
    lfp_locked_bucket_init(&lbucket, 1e9, 1000000);
    lfp_fwindow_init(&fwindow, LFP_FWINDOW_MAX_LIMIT, 1000000);
    lfp_swindow_init(&swindow, LFP_SWINDOW_MAX_LIMIT, 1000000);
    lfp_slog_init(&slog, 1 << 16, 1);
    lfp_locked_slog_init(&lslog, 1 << 16, 1);
    mutex_window_init(&mfixed, LFP_FWINDOW_MAX_LIMIT, 1000000);
    mutex_window_init(&msliding, LFP_SWINDOW_MAX_LIMIT, 1000000);
    /* Empty after the first take: one token per ~144 years. */
    lfp_bucket_init(&empty_bucket, LFP_BUCKET_MIN_RATE, 1);
    lfp_locked_bucket_init(&empty_lbucket, LFP_BUCKET_MIN_RATE, 1);
    lfp_bucket_take_at(&empty_bucket, 1, lfp_now());
    lfp_locked_bucket_take_at(&empty_lbucket, 1, lfp_now());
    static const bench_case cases[] = {
        { "ratelimit/take_at/lfp_bucket", at_bucket, NULL },
        { "ratelimit/take_at/lfp_locked_bucket", at_lbucket, NULL },
        { "ratelimit/take_at_fwindow/lfp_fwindow", at_fwindow, NULL },
        { "ratelimit/take_at_fwindow/pthread_mutex_fwindow", at_mfixed, NULL },
        { "ratelimit/take_at_swindow/lfp_swindow", at_swindow, NULL },
        { "ratelimit/take_at_swindow/pthread_mutex_swindow", at_msliding, NULL },
        { "ratelimit/take_at_slog/lfp_slog", at_slog, NULL },
        { "ratelimit/take_at_slog/lfp_locked_slog", at_lslog, NULL },
        { "ratelimit/take/lfp_bucket", plain_bucket, NULL },
        { "ratelimit/take/lfp_locked_bucket", plain_lbucket, NULL },
        { "ratelimit/take_fwindow/lfp_fwindow", plain_fwindow, NULL },
        { "ratelimit/take_fwindow/pthread_mutex_fwindow", plain_mfixed, NULL },
        { "ratelimit/take_swindow/lfp_swindow", plain_swindow, NULL },
        { "ratelimit/take_swindow/pthread_mutex_swindow", plain_msliding, NULL },
        { "ratelimit/take_slog/lfp_slog", plain_slog, NULL },
        { "ratelimit/take_slog/lfp_locked_slog", plain_lslog, NULL },
        { "ratelimit/take_same_clock/lfp_bucket", plain_bucket, NULL },
        { "ratelimit/take_same_clock/lfp_locked_bucket", same_clock_lbucket, NULL },
        { "ratelimit/take_at_refused/lfp_bucket", at_refused_bucket, NULL },
        { "ratelimit/take_at_refused/lfp_locked_bucket", at_refused_lbucket, NULL },
        { "ratelimit/keyed_1e3/lfp_keyed", keyed3_batch, keyed_setup },
        { "ratelimit/keyed_1e3/lfp_locked_keyed", lkeyed3_batch, keyed_setup },
        { "ratelimit/keyed_1e6/lfp_keyed", keyed6_batch, keyed_setup },
        { "ratelimit/keyed_1e6/lfp_locked_keyed", lkeyed6_batch, keyed_setup },
        { "ratelimit/clock_read/lfp_now", clock_only, NULL },
        { "ratelimit/one_rmw/atomic_fetch_add", one_rmw, NULL },
        { "ratelimit/lock_unlock/pthread_mutex", lock_unlock, NULL },
        { "ratelimit/clock_and_rmw/atomic_fetch_add", clock_and_rmw, NULL },
        { "ratelimit/clock_read/lfp_rl_now", takes_clock_only, NULL },
        { "ratelimit/takes_clock_and_rmw/atomic_fetch_add", takes_clock_and_rmw, NULL },
    };
    const size_t ncases = sizeof cases / sizeof cases[0];
    for (int t = 1; t <= 2; t++)
        for (size_t c = 0; c < ncases; c++)
            lfpb_register(cases[c].name, bm_threads, (void *)&cases[c], t);
    for (size_t c = 0; c < ncases; c++) {
        char name[128];
        snprintf(name, sizeof name, "%s/threads:%d", cases[c].name, MANUAL_THREADS);
        lfpb_register_manual(name, bm_manual, (void *)&cases[c]);
    }
}
