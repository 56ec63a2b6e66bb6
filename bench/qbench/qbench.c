/* SPDX-License-Identifier: BSD-2-Clause */
/* bench/qbench/qbench.c — lfpat_qbench: queue throughput measured the way
 * the best queue authors measure it.
 *
 *   - Placement is explicit. "pinned" (the headline) puts producer and
 *     consumer threads on distinct CPUs, alternating (p0 c0 p1 c1 ... over
 *     the CPUs the process may use); "coloc" puts every thread on one CPU
 *     (then instruction counts and yields decide, not cache-line transfers);
 *     "unpinned" leaves placement to the scheduler. Each is labelled.
 *   - The regime is recorded. On the reference machine the cross-CPU
 *     cache-line hand-off switches at random between ~60-100 ns ("near") and
 *     ~220-250 ns ("far") for seconds to minutes, which changes cross-core
 *     throughput 3-5x. Before every repetition a pinned ping-pong on one
 *     line measures the one-way hand-off; results are reported per regime.
 *   - Peers run in the same binary and interleaved: each repetition runs
 *     every implementation of a case once, in a fresh random order, and the
 *     ratios ("x best peer", "x twin", and "blocking / try": a blocking
 *     lfpat row over the try row of the same queue) are paired — computed within each
 *     repetition, then the median taken — so a regime switch between
 *     repetitions does not bias them. Like is compared with like: SPSC rows
 *     with SPSC peers, MPMC rows with MPMC peers.
 *   - Every value is used: producers push distinct values, consumers add up
 *     what they pop, and the run fails if counts or sums differ.
 *   - One wall clock: a run is a fixed window (producers push until it
 *     ends), then the consumers drain; items/s = items popped / time from the
 *     start barrier to the last consumer's exit.
 *
 * Usage: lfpat_qbench [--reps N] [--ms WINDOW] [--modes "pinned coloc unpinned"]
 *                     [--filter REGEX] [--md FILE]
 * --filter selects the "<case>/<impl>" names (POSIX extended regex).
 */
#include <errno.h>
#include <pthread.h>
#include <regex.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <stdatomic.h>

#include "qbench.h"

#define NEAR_FAR_NS 150.0   /* between the two regimes measured here */
#define MAX_IMPLS 32
#define MAX_REPS 64
#define MAX_THREADS 16

struct qcase {
    const char *name;
    enum qb_kind kind;
    int producers, consumers;
    size_t capacity;
};

static const struct qcase cases[] = {
    {"spsc/cap1024", QB_SPSC, 1, 1, 1024},
    {"spsc/cap65536", QB_SPSC, 1, 1, 65536},
    {"mpmc/1p1c", QB_MPMC, 1, 1, 1024},
    {"mpmc/2p2c", QB_MPMC, 2, 2, 1024},
    {"mpmc/4p4c", QB_MPMC, 4, 4, 1024},
};

enum placement { PINNED, COLOC, UNPINNED };
static const char *const placement_names[] = {"pinned", "coloc", "unpinned"};

static int cpus[CPU_SETSIZE], ncpus;

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void die(const char *what)
{
    fprintf(stderr, "lfpat_qbench: %s\n", what);
    exit(1);
}

static void read_cpus(void)
{
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) != 0)
        die("sched_getaffinity failed");
    for (int c = 0; c < CPU_SETSIZE; c++)
        if (CPU_ISSET(c, &set))
            cpus[ncpus++] = c;
}

static void set_cpu(pthread_attr_t *attr, int cpu)
{
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(cpu, &one);
    pthread_attr_setaffinity_np(attr, sizeof one, &one);
}

/* --------------------------------------------------------- hand-off latency */

struct pingpong {
    _Alignas(64) _Atomic unsigned line;
    unsigned rounds;
};

/* Side 0 waits for even values and writes odd ones, side 1 the reverse:
 * each round trip moves the line twice. */
static void *pong(void *arg)
{
    struct pingpong *pp = arg;
    for (unsigned i = 0; i < pp->rounds; i++) {
        while (atomic_load_explicit(&pp->line, memory_order_acquire) != 2 * i + 1)
            ;
        atomic_store_explicit(&pp->line, 2 * i + 2, memory_order_release);
    }
    return NULL;
}

/* One-way cache-line hand-off between the first two CPUs, in ns (0 when
 * there is only one CPU). */
static double handoff_ns(void)
{
    if (ncpus < 2)
        return 0;
    struct pingpong pp = {.rounds = 20000};
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    set_cpu(&attr, cpus[1]);
    pthread_t t;
    if (pthread_create(&t, &attr, pong, &pp) != 0)
        die("pthread_create failed");
    pthread_attr_destroy(&attr);
    cpu_set_t self, one;
    sched_getaffinity(0, sizeof self, &self);
    CPU_ZERO(&one);
    CPU_SET(cpus[0], &one);
    sched_setaffinity(0, sizeof one, &one);
    int64_t t0 = now_ns();
    for (unsigned i = 0; i < pp.rounds; i++) {
        atomic_store_explicit(&pp.line, 2 * i + 1, memory_order_release);
        while (atomic_load_explicit(&pp.line, memory_order_acquire) != 2 * i + 2)
            ;
    }
    int64_t t1 = now_ns();
    pthread_join(t, NULL);
    sched_setaffinity(0, sizeof self, &self);
    return (double)(t1 - t0) / (2.0 * pp.rounds);
}

/* --------------------------------------------------------------- one run */

struct worker {
    const struct qb_impl *im;
    void *q;
    struct qb_run *run;
    pthread_barrier_t *start;
    int id;
    bool producer;
    struct qb_tally tally;
};

static void *work(void *arg)
{
    struct worker *w = arg;
    pthread_barrier_wait(w->start);
    w->tally = w->producer ? w->im->produce(w->q, w->run, w->id)
                           : w->im->consume(w->q, w->run, w->id);
    return NULL;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* Items/s of one run; exits on a count or sum mismatch. */
static double run_once(const struct qb_impl *im, const struct qcase *c, enum placement where,
                       int window_ms)
{
    int n = c->producers + c->consumers;
    void *q = im->create(c->capacity, c->producers, c->consumers);
    if (!q)
        die("queue creation failed");
    /* remaining starts far above any count and is lowered to the true total
     * once the producers are done, so consumers cannot stop early. */
    const int64_t big = INT64_MAX / 2;
    struct qb_run run = {.stop = 0, .remaining = big, .consumers = c->consumers};
    pthread_barrier_t start;
    pthread_barrier_init(&start, NULL, (unsigned)n + 1);
    struct worker w[MAX_THREADS];
    pthread_t th[MAX_THREADS];
    for (int i = 0; i < n; i++) {
        /* Order p0 c0 p1 c1 ... (every case has as many producers as
         * consumers): pinned, a producer and its consumer land on distinct
         * CPUs. */
        bool producer = i % 2 == 0;
        int id = i / 2;
        w[i] = (struct worker){im, q, &run, &start, id, producer, {0, 0}};
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        if (where == PINNED)
            set_cpu(&attr, cpus[i % ncpus]);
        else if (where == COLOC)
            set_cpu(&attr, cpus[0]);
        if (pthread_create(&th[i], &attr, work, &w[i]) != 0)
            die("pthread_create failed");
        pthread_attr_destroy(&attr);
    }
    pthread_barrier_wait(&start);
    int64_t t0 = now_ns();
    sleep_ms(window_ms);
    __atomic_store_n(&run.stop, 1, __ATOMIC_RELAXED);
    struct qb_tally pushed = {0, 0}, popped = {0, 0};
    for (int i = 0; i < n; i++)
        if (w[i].producer) {
            pthread_join(th[i], NULL);
            pushed.count += w[i].tally.count;
            pushed.sum += w[i].tally.sum;
        }
    if (im->blocking)
        im->close(q, c->consumers);
    else
        __atomic_fetch_add(&run.remaining, (int64_t)pushed.count - big, __ATOMIC_RELAXED);
    for (int i = 0; i < n; i++)
        if (!w[i].producer) {
            pthread_join(th[i], NULL);
            popped.count += w[i].tally.count;
            popped.sum += w[i].tally.sum;
        }
    int64_t t1 = now_ns();
    pthread_barrier_destroy(&start);
    im->destroy(q);
    if (pushed.count != popped.count || pushed.sum != popped.sum) {
        fprintf(stderr, "lfpat_qbench: %s %s: pushed %llu (sum %llu), popped %llu (sum %llu)\n",
                im->name, c->name, (unsigned long long)pushed.count,
                (unsigned long long)pushed.sum, (unsigned long long)popped.count,
                (unsigned long long)popped.sum);
        exit(1);
    }
    return (double)popped.count * 1e9 / (double)(t1 - t0);
}

/* ------------------------------------------------------------- statistics */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Median of v[i] for the i with mask[i] (all when mask is NULL); 0 if none. */
static double median_of(const double *v, const bool *mask, int n)
{
    double tmp[MAX_REPS];
    int m = 0;
    for (int i = 0; i < n; i++)
        if (!mask || mask[i])
            tmp[m++] = v[i];
    if (m == 0)
        return 0;
    qsort(tmp, (size_t)m, sizeof tmp[0], cmp_double);
    return m % 2 ? tmp[m / 2] : (tmp[m / 2 - 1] + tmp[m / 2]) / 2;
}

static double min_of(const double *v, int n)
{
    double m = v[0];
    for (int i = 1; i < n; i++)
        m = v[i] < m ? v[i] : m;
    return m;
}

struct table {
    const struct qb_impl *impl[MAX_IMPLS];
    int nimpl, reps;
    double x[MAX_IMPLS][MAX_REPS];   /* items/s */
    double handoff[MAX_REPS];
};

/* Paired ratio of row i: per repetition, row i over the best of the rows
 * with role `role` (other than i), then the median. 0 if there is none. */
static double paired_ratio(const struct table *t, int i, enum qb_role role)
{
    double r[MAX_REPS];
    for (int k = 0; k < t->reps; k++) {
        double best = 0;
        for (int j = 0; j < t->nimpl; j++)
            if (j != i && t->impl[j]->role == role && t->x[j][k] > best)
                best = t->x[j][k];
        if (best == 0)
            return 0;
        r[k] = t->x[i][k] / best;
    }
    return median_of(r, NULL, t->reps);
}

/* Row i is a blocking lfpat row (name "<T>_blocking"): paired ratio to the
 * try row of the same queue (name "<T>"), or 0 if there is none. */
static double blocking_over_try(const struct table *t, int i)
{
    const struct qb_impl *im = t->impl[i];
    const char *suffix = strstr(im->name, "_blocking");
    if (im->role != QB_LFP || !im->blocking || !suffix || suffix[9] != '\0')
        return 0;
    size_t len = (size_t)(suffix - im->name);
    for (int j = 0; j < t->nimpl; j++) {
        const struct qb_impl *tr = t->impl[j];
        if (j == i || tr->role != QB_LFP || tr->blocking || strlen(tr->name) != len ||
            strncmp(tr->name, im->name, len) != 0)
            continue;
        double r[MAX_REPS];
        for (int k = 0; k < t->reps; k++) {
            if (t->x[j][k] == 0)
                return 0;
            r[k] = t->x[i][k] / t->x[j][k];
        }
        return median_of(r, NULL, t->reps);
    }
    return 0;
}

/* A cell: the value with fmt, or a dash when there is none (0). */
static void cell(FILE *f, const char *fmt, double v)
{
    if (v > 0)
        fprintf(f, fmt, v);
    else
        fprintf(f, " — |");
}

static void report(FILE *f, const struct qcase *c, enum placement where, const struct table *t)
{
    bool near[MAX_REPS], far[MAX_REPS];
    int nnear = 0;
    for (int k = 0; k < t->reps; k++) {
        near[k] = t->handoff[k] > 0 && t->handoff[k] < NEAR_FAR_NS;
        far[k] = t->handoff[k] >= NEAR_FAR_NS;
        nnear += near[k];
    }
    int nfar = 0;
    for (int k = 0; k < t->reps; k++)
        nfar += far[k];
    fprintf(f, "\n### %s — %s, %d reps: %d near (median one-way hand-off %.0f ns), "
               "%d far (%.0f ns)\n\n", c->name, placement_names[where], t->reps,
            nnear, median_of(t->handoff, near, t->reps), nfar, median_of(t->handoff, far, t->reps));
    fprintf(f, "| impl | M items/s | near | far | slowest ÷ median | × best peer | × twin | "
               "blocking ÷ try |%s\n", c->kind == QB_SPSC ? " × minimal ring |" : "");
    fprintf(f, "|---|---:|---:|---:|---:|---:|---:|---:|%s\n", c->kind == QB_SPSC ? "---:|" : "");
    static const char *const role_tag[] = {"", " (twin)", " (peer)", " (reference)"};
    for (int i = 0; i < t->nimpl; i++) {
        const struct qb_impl *im = t->impl[i];
        double med = median_of(t->x[i], NULL, t->reps);
        fprintf(f, "| %s%s | %.1f |", im->name, role_tag[im->role], med / 1e6);
        cell(f, " %.1f |", median_of(t->x[i], near, t->reps) / 1e6);
        cell(f, " %.1f |", median_of(t->x[i], far, t->reps) / 1e6);
        cell(f, " %.2f |", med > 0 ? min_of(t->x[i], t->reps) / med : 0);
        bool ours = im->role == QB_LFP;
        cell(f, " %.2f |", ours ? paired_ratio(t, i, QB_PEER) : 0);
        cell(f, " %.2f |", ours ? paired_ratio(t, i, QB_TWIN) : 0);
        cell(f, " %.2f |", blocking_over_try(t, i));
        if (c->kind == QB_SPSC)
            cell(f, " %.2f |", ours ? paired_ratio(t, i, QB_REF) : 0);
        fprintf(f, "\n");
    }
    fflush(f);
}

/* ------------------------------------------------------------------ main */

static uint64_t rng_state;
static unsigned rnd(unsigned n)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (unsigned)(rng_state % n);
}

static void run_case(const struct qcase *c, enum placement where, int reps, int window_ms,
                     const regex_t *filter, FILE *md)
{
    static struct table t;
    memset(&t, 0, sizeof t);
    t.reps = reps;
    char full[128];
    const struct qb_impl *lists[] = {qb_c_impls, qb_cxx_impls};
    const size_t counts[] = {qb_c_impl_count, qb_cxx_impl_count};
    for (int l = 0; l < 2; l++)
        for (size_t i = 0; i < counts[l]; i++) {
            const struct qb_impl *im = &lists[l][i];
            snprintf(full, sizeof full, "%s/%s", c->name, im->name);
            if ((im->kinds & c->kind) && regexec(filter, full, 0, NULL, 0) == 0 &&
                t.nimpl < MAX_IMPLS)
                t.impl[t.nimpl++] = im;
        }
    if (t.nimpl == 0)
        return;
    for (int k = 0; k < reps; k++) {
        t.handoff[k] = handoff_ns();
        int order[MAX_IMPLS];
        for (int i = 0; i < t.nimpl; i++)
            order[i] = i;
        for (int i = t.nimpl - 1; i > 0; i--) {   /* Fisher-Yates */
            int j = (int)rnd((unsigned)i + 1), tmp = order[i];
            order[i] = order[j];
            order[j] = tmp;
        }
        for (int i = 0; i < t.nimpl; i++)
            t.x[order[i]][k] = run_once(t.impl[order[i]], c, where, window_ms);
    }
    report(stdout, c, where, &t);
    if (md)
        report(md, c, where, &t);
}

/* Whether the space-separated list contains word. */
static bool has_word(const char *list, const char *word)
{
    size_t n = strlen(word);
    for (const char *p = list; (p = strstr(p, word)) != NULL; p += n)
        if ((p == list || p[-1] == ' ') && (p[n] == ' ' || p[n] == 0))
            return true;
    return false;
}

int main(int argc, char **argv)
{
    int reps = 10, window_ms = 100;
    const char *modes = "pinned", *filter = ".", *md_path = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--reps") && i + 1 < argc)
            reps = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--ms") && i + 1 < argc)
            window_ms = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--modes") && i + 1 < argc)
            modes = argv[++i];
        else if (!strcmp(argv[i], "--filter") && i + 1 < argc)
            filter = argv[++i];
        else if (!strcmp(argv[i], "--md") && i + 1 < argc)
            md_path = argv[++i];
        else {
            fprintf(stderr, "usage: %s [--reps N] [--ms WINDOW] [--modes \"pinned coloc "
                            "unpinned\"] [--filter REGEX] [--md FILE]\n", argv[0]);
            return 2;
        }
    }
    if (reps < 1 || reps > MAX_REPS || window_ms < 1)
        die("--reps must be 1..64 and --ms positive");
    regex_t re;
    if (regcomp(&re, filter, REG_EXTENDED | REG_NOSUB) != 0)
        die("bad --filter regex");
    read_cpus();
    rng_state = (uint64_t)now_ns() | 1;
    FILE *md = md_path ? fopen(md_path, "w") : NULL;
    if (md_path && !md)
        die("cannot write the --md file");
    const char *head = "## Queues, placed and paired (lfpat_qbench)\n\n"
                       "Items/s medians over interleaved repetitions; near/far split by the "
                       "one-way cache-line hand-off measured before each repetition "
                       "(threshold 150 ns); ratios are paired per repetition, then the median; "
                       "× best peer compares with the best peer of the same kind in the same "
                       "repetition. Every popped value is summed and checked.\n";
    printf("%s", head);
    if (md)
        fprintf(md, "%s", head);
    if (ncpus < 2)
        printf("\n(only one CPU available: \"pinned\" means all threads on it)\n");
    for (enum placement p = PINNED; p <= UNPINNED; p++) {
        if (!has_word(modes, placement_names[p]))
            continue;
        for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++)
            run_case(&cases[c], p, reps, window_ms, &re, md);
    }
    if (md)
        fclose(md);
    regfree(&re);
    return 0;
}
