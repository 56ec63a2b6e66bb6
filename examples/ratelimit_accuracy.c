/* Rate limiter accuracy on a fake clock: steady, bursty and boundary-aligned
 * traffic through every lfpat limiter and the locked twins, with admitted
 * counts against the budget and the worst interval of length W against each
 * limiter's documented bound. Prints a Markdown table; exits 0 only if every
 * limiter stayed within its bound.
 *
 *   example_ratelimit_accuracy [--plot DIR]
 *
 * --plot DIR also writes DIR/ratelimit_accuracy.dat and .gp and renders
 * DIR/ratelimit_accuracy.png with gnuplot: admissions in the trailing 1 s
 * under the boundary-aligned traffic, the fixed window's 2x burst next to
 * the sliding log, the sliding counter and GCRA.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lfpat.h"

#define SEC INT64_C(1000000000)
#define MS INT64_C(1000000)
#define W SEC               /* window */
#define LIMIT 100           /* per window */
#define RATE 100.0          /* bucket: tokens per second */
#define BURST 10
#define DURATION (10 * SEC)
#define MAXREQ 4096

typedef struct traffic {
    const char *name;
    int64_t t[MAXREQ];
    size_t n;
} traffic;

enum { L_BUCKET, L_LBUCKET, L_FWINDOW, L_SWINDOW, L_SLOG, L_LSLOG, NLIM };
static const char *const lim_name[NLIM] = {
    "lfp_bucket (GCRA)", "lfp_locked_bucket", "lfp_fwindow", "lfp_swindow",
    "lfp_slog", "lfp_locked_slog",
};

typedef struct limiters {
    lfp_bucket bucket;
    lfp_locked_bucket lbucket;
    lfp_fwindow fwindow;
    lfp_swindow swindow;
    lfp_slog slog;
    lfp_locked_slog lslog;
} limiters;

static void add(traffic *tr, int64_t t, int count)
{
    for (int i = 0; i < count && tr->n < MAXREQ; i++)
        tr->t[tr->n++] = t;
}

static void make_traffic(traffic tr[3])
{
    tr[0].name = "steady 250/s";
    for (int64_t t = 0; t < DURATION; t += 4 * MS)
        add(&tr[0], t, 1);
    tr[1].name = "bursts of 60 every 700 ms";
    for (int64_t t = 0; t < DURATION; t += 700 * MS)
        add(&tr[1], t, 60);
    /* 100 just before and 100 at every other boundary (odd seconds): the
     * fixed window admits both halves each time. */
    tr[2].name = "boundary-aligned 2x100";
    for (int64_t k = 1; k < DURATION / W; k += 2) {
        add(&tr[2], k * W - MS, LIMIT);
        add(&tr[2], k * W, LIMIT);
    }
}

static int init_limiters(limiters *l)
{
    return lfp_bucket_init(&l->bucket, RATE, BURST) | lfp_locked_bucket_init(&l->lbucket, RATE, BURST) |
           lfp_fwindow_init(&l->fwindow, LIMIT, W) | lfp_swindow_init(&l->swindow, LIMIT, W) |
           lfp_slog_init(&l->slog, LIMIT, W) | lfp_locked_slog_init(&l->lslog, LIMIT, W);
}

static void destroy_limiters(limiters *l)
{
    lfp_locked_bucket_destroy(&l->lbucket);
    lfp_slog_destroy(&l->slog);
    lfp_locked_slog_destroy(&l->lslog);
}

static int take(limiters *l, int which, int64_t now)
{
    switch (which) {
    case L_BUCKET:  return lfp_bucket_take_at(&l->bucket, 1, now);
    case L_LBUCKET: return lfp_locked_bucket_take_at(&l->lbucket, 1, now);
    case L_FWINDOW: return lfp_fwindow_take_at(&l->fwindow, 1, now);
    case L_SWINDOW: return lfp_swindow_take_at(&l->swindow, 1, now);
    case L_SLOG:    return lfp_slog_take_at(&l->slog, 1, now);
    default:        return lfp_locked_slog_take_at(&l->lslog, 1, now);
    }
}

/* Most admissions in any interval (t - W, t] (a is sorted). */
static size_t max_in_window(const int64_t *a, size_t c)
{
    size_t best = 0;
    for (size_t lo = 0, hi = 0; hi < c; hi++) {
        while (a[lo] <= a[hi] - W)
            lo++;
        best = hi - lo + 1 > best ? hi - lo + 1 : best;
    }
    return best;
}

/* The sliding counter's documented bound, checked at every admission:
 * count(t - W, t] * W <= LIMIT * W + prev_k * e. */
static bool swindow_within_bound(const int64_t *a, size_t c)
{
    for (size_t hi = 0; hi < c; hi++) {
        int64_t k = a[hi] / W, e = a[hi] % W;
        uint64_t prev = 0, cnt = 0;
        for (size_t j = 0; j <= hi; j++) {
            prev += a[j] / W == k - 1;
            cnt += a[j] > a[hi] - W;
        }
        for (size_t j = hi + 1; j < c && a[j] == a[hi]; j++)
            cnt++;
        if (cnt * (uint64_t)W > (uint64_t)LIMIT * W + prev * (uint64_t)e)
            return false;
    }
    return true;
}

typedef struct result {
    size_t admitted, max_w, bound;
    bool ok;
} result;

/* GCRA / token bucket: any interval of length < W holds at most
 * burst + (W - 1) / T admissions (+1 for the float twin's rounding). */
static size_t bound_of(int which)
{
    switch (which) {
    case L_BUCKET:  return BURST + (size_t)((W - 1) / (int64_t)(1e9 / RATE));
    case L_LBUCKET: return BURST + (size_t)((W - 1) / (int64_t)(1e9 / RATE)) + 1;
    case L_FWINDOW: return 2 * LIMIT;
    case L_SWINDOW: return 2 * LIMIT - 1;   /* and the per-offset bound, checked */
    default:        return LIMIT;
    }
}

static result run(const traffic *tr, int which, int64_t *adm)
{
    limiters l;
    result r = { 0, 0, bound_of(which), true };
    if (init_limiters(&l) != 0) {
        r.ok = false;
        return r;
    }
    for (size_t i = 0; i < tr->n; i++)
        if (take(&l, which, tr->t[i]) == 0)
            adm[r.admitted++] = tr->t[i];
    destroy_limiters(&l);
    r.max_w = max_in_window(adm, r.admitted);
    r.ok = r.max_w <= r.bound && (which != L_SWINDOW || swindow_within_bound(adm, r.admitted));
    return r;
}

/* Budget over the run: what the limiter's long-run rate allows. */
static size_t budget(int which)
{
    if (which == L_BUCKET || which == L_LBUCKET)
        return BURST + (size_t)(RATE * (double)DURATION / 1e9);
    return LIMIT * (size_t)(DURATION / W);
}

#define STEP (5 * MS)
#define NSTEPS (DURATION / STEP)

/* Admissions in (s - W, s] (a sorted). */
static unsigned in_window_at(const int64_t *a, size_t c, int64_t s)
{
    unsigned n = 0;
    for (size_t i = 0; i < c; i++)
        n += a[i] > s - W && a[i] <= s;
    return n;
}

static int plot(const char *dir, const traffic *tr)
{
    static const int which[] = { L_FWINDOW, L_SLOG, L_BUCKET, L_SWINDOW };
    static int64_t adm[4][MAXREQ];
    size_t count[4];
    for (int w = 0; w < 4; w++)
        count[w] = run(tr, which[w], adm[w]).admitted;
    char path[4096];
    snprintf(path, sizeof path, "%s/ratelimit_accuracy.dat", dir);
    FILE *f = fopen(path, "w");
    if (!f)
        return perror(path), 1;
    fprintf(f, "# t_s fwindow slog gcra swindow (admissions in the last 1 s)\n");
    for (int64_t k = 0; k < NSTEPS; k++) {
        fprintf(f, "%.3f", (double)(k * STEP) / 1e9);
        for (int w = 0; w < 4; w++)
            fprintf(f, " %u", in_window_at(adm[w], count[w], k * STEP));
        fprintf(f, "\n");
    }
    fclose(f);
    snprintf(path, sizeof path, "%s/ratelimit_accuracy.gp", dir);
    if (!(f = fopen(path, "w")))
        return perror(path), 1;
    fprintf(f,
            "set terminal pngcairo size 1000,500 noenhanced\n"
            "set output '%s/ratelimit_accuracy.png'\n"
            "set title 'Boundary-aligned traffic (100 just before and 100 at odd seconds): "
            "admissions in the trailing 1 s, limit 100/s'\n"
            "set xlabel 'time (s)'\nset ylabel 'admitted in (t - 1 s, t]'\n"
            "set key outside bottom center horizontal\n"
            "set xrange [0:10]\nset yrange [0:220]\nset style data steps\n"
            "plot '%s/ratelimit_accuracy.dat' using 1:2 title 'lfp_fwindow (200 per boundary)' lw 2, \\\n"
            "     '' using 1:3 title 'lfp_slog (exact, 100)' lw 2, \\\n"
            "     '' using 1:5 title 'lfp_swindow' lw 1 dt 2, \\\n"
            "     '' using 1:4 title 'lfp_bucket GCRA (burst 10, 100/s)' lw 2, \\\n"
            "     100 title 'limit' lc rgb 'gray' dt 3\n",
            dir, dir);
    fclose(f);
    char cmd[8300];
    snprintf(cmd, sizeof cmd, "gnuplot '%s'", path);
    if (system(cmd) != 0) {
        fprintf(stderr, "gnuplot failed (data and script are in %s)\n", dir);
        return 1;
    }
    printf("\nplot: %s/ratelimit_accuracy.png\n", dir);
    return 0;
}

int main(int argc, char **argv)
{
    const char *plot_dir = NULL;
    if (argc == 3 && strcmp(argv[1], "--plot") == 0) {
        plot_dir = argv[2];
    } else if (argc != 1) {
        fprintf(stderr, "usage: %s [--plot DIR]\n", argv[0]);
        return 2;
    }
    static traffic tr[3];
    static int64_t adm[MAXREQ];
    make_traffic(tr);
    printf("Limit 100 per 1 s window (bucket: 100/s, burst 10); %d s of fake-clock traffic.\n\n",
           (int)(DURATION / SEC));
    printf("| traffic | limiter | offered | admitted | budget | max in any 1 s | bound | ok |\n");
    printf("|---|---|---:|---:|---:|---:|---:|---|\n");
    bool all_ok = true;
    for (int t = 0; t < 3; t++)
        for (int w = 0; w < NLIM; w++) {
            result r = run(&tr[t], w, adm);
            all_ok &= r.ok;
            printf("| %s | %s | %zu | %zu | %zu | %zu | %zu | %s |\n", tr[t].name, lim_name[w],
                   tr[t].n, r.admitted, budget(w), r.max_w, r.bound, r.ok ? "yes" : "NO");
        }
    printf("\nbound: GCRA burst + (W-1ns)/T; fixed window 2x limit (boundary burst); sliding "
           "counter limit + prev*e/W (< 2x), checked at every admission; sliding log limit.\n");
    if (plot_dir && plot(plot_dir, &tr[2]) != 0)
        return 1;
    return all_ok ? 0 : 1;
}
