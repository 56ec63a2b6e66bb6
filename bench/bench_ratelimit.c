/* Rate limiter benchmarks at 1, 2 and 4 threads (4 = oversubscribed on the
 * 2-core reference machine), lfpat vs its mutex twins (lfp_locked_bucket,
 * lfp_locked_slog) and, for the windows, a plain pthread-mutex window as the
 * mutex peer (the library has no locked window twin).
 *
 *   ratelimit/take_at/<impl>    caller's timestamp (read once per batch of
 *                               256, as a server that already has one)
 *   ratelimit/take/<impl>       the plain call: reads CLOCK_MONOTONIC per take
 *   ratelimit/clock_read/lfp_now  the clock read alone: the breakdown of take
 *
 * Limiters are configured so that every take is admitted (the CAS path is
 * what is measured; a refusal makes no write and is cheaper): bucket 1e9/s
 * with a burst of 1e6, windows of 1 ms with limits far above the rate
 * reached, sliding logs of 1 ns windows with 64 Ki entries. The counter
 * "refused" reports the fraction refused (expected 0).
 */
#include <pthread.h>

#include "lfpat.h"
#include "shim/shim.h"

#define BATCH 256

static lfp_bucket bucket;
static lfp_locked_bucket lbucket;
static lfp_fwindow fwindow;
static lfp_swindow swindow;
static lfp_slog slog;
static lfp_locked_slog lslog;

/* The mutex peers for the windows: the seed's FixedWindow, and the same
 * sliding counter as lfp_swindow, under a pthread mutex. */
typedef struct mutex_window {
    pthread_mutex_t lock;
    int64_t id;
    uint64_t cur, prev, limit;
    int64_t window;
} mutex_window;

static mutex_window mfixed, msliding;

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

static void finish(lfpb_state *st, int64_t refused)
{
    lfpb_set_items(st, lfpb_iterations(st));
    lfpb_set_counter(st, "refused", (double)refused / (double)(lfpb_iterations(st) + 1));
}

/* take_at: one timestamp per batch (the caller's). */
#define TAKE_AT_BENCH(fname, call)                                       \
    static void fname(lfpb_state *st, void *arg)                         \
    {                                                                    \
        (void)arg;                                                       \
        int64_t refused = 0;                                             \
        while (lfpb_keep_running_batch(st, BATCH)) {                     \
            int64_t now = lfp_now();                                     \
            for (int i = 0; i < BATCH; i++)                              \
                refused += (call) != 0;                                  \
        }                                                                \
        finish(st, refused);                                             \
    }

/* take: the plain call, one clock read per take. */
#define TAKE_BENCH(fname, call)                                          \
    static void fname(lfpb_state *st, void *arg)                         \
    {                                                                    \
        (void)arg;                                                       \
        int64_t refused = 0;                                             \
        while (lfpb_keep_running_batch(st, BATCH))                       \
            for (int i = 0; i < BATCH; i++)                              \
                refused += (call) != 0;                                  \
        finish(st, refused);                                             \
    }

TAKE_AT_BENCH(bm_at_bucket, lfp_bucket_take_at(&bucket, 1, now))
TAKE_AT_BENCH(bm_at_lbucket, lfp_locked_bucket_take_at(&lbucket, 1, now))
TAKE_AT_BENCH(bm_at_fwindow, lfp_fwindow_take_at(&fwindow, 1, now))
TAKE_AT_BENCH(bm_at_mfixed, mutex_fwindow_take_at(&mfixed, 1, now))
TAKE_AT_BENCH(bm_at_swindow, lfp_swindow_take_at(&swindow, 1, now))
TAKE_AT_BENCH(bm_at_msliding, mutex_swindow_take_at(&msliding, 1, now))
TAKE_AT_BENCH(bm_at_slog, lfp_slog_take_at(&slog, 1, now))
TAKE_AT_BENCH(bm_at_lslog, lfp_locked_slog_take_at(&lslog, 1, now))

TAKE_BENCH(bm_bucket, lfp_bucket_take(&bucket, 1))
TAKE_BENCH(bm_lbucket, lfp_locked_bucket_take(&lbucket, 1))
TAKE_BENCH(bm_fwindow, lfp_fwindow_take(&fwindow, 1))
TAKE_BENCH(bm_mfixed, mutex_fwindow_take_at(&mfixed, 1, lfp_now()))
TAKE_BENCH(bm_swindow, lfp_swindow_take(&swindow, 1))
TAKE_BENCH(bm_msliding, mutex_swindow_take_at(&msliding, 1, lfp_now()))
TAKE_BENCH(bm_slog, lfp_slog_take(&slog, 1))
TAKE_BENCH(bm_lslog, lfp_locked_slog_take(&lslog, 1))

static void bm_clock(lfpb_state *st, void *arg)
{
    (void)arg;
    int64_t sum = 0;
    while (lfpb_keep_running_batch(st, BATCH))
        for (int i = 0; i < BATCH; i++)
            sum += lfp_now();
    lfpb_do_not_optimize(&sum);
    lfpb_set_items(st, lfpb_iterations(st));
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
    static const struct {
        const char *name;
        lfpb_fn fn;
    } cases[] = {
        { "ratelimit/take_at/lfp_bucket", bm_at_bucket },
        { "ratelimit/take_at/lfp_locked_bucket", bm_at_lbucket },
        { "ratelimit/take_at_fwindow/lfp_fwindow", bm_at_fwindow },
        { "ratelimit/take_at_fwindow/pthread_mutex_fwindow", bm_at_mfixed },
        { "ratelimit/take_at_swindow/lfp_swindow", bm_at_swindow },
        { "ratelimit/take_at_swindow/pthread_mutex_swindow", bm_at_msliding },
        { "ratelimit/take_at_slog/lfp_slog", bm_at_slog },
        { "ratelimit/take_at_slog/lfp_locked_slog", bm_at_lslog },
        { "ratelimit/take/lfp_bucket", bm_bucket },
        { "ratelimit/take/lfp_locked_bucket", bm_lbucket },
        { "ratelimit/take_fwindow/lfp_fwindow", bm_fwindow },
        { "ratelimit/take_fwindow/pthread_mutex_fwindow", bm_mfixed },
        { "ratelimit/take_swindow/lfp_swindow", bm_swindow },
        { "ratelimit/take_swindow/pthread_mutex_swindow", bm_msliding },
        { "ratelimit/take_slog/lfp_slog", bm_slog },
        { "ratelimit/take_slog/lfp_locked_slog", bm_lslog },
        { "ratelimit/clock_read/lfp_now", bm_clock },
    };
    static const int threads[] = { 1, 2, 4 };
    for (unsigned t = 0; t < sizeof threads / sizeof threads[0]; t++)
        for (unsigned c = 0; c < sizeof cases / sizeof cases[0]; c++)
            lfpb_register(cases[c].name, cases[c].fn, NULL, threads[t]);
}
