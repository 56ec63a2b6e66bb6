/* SPDX-License-Identifier: BSD-2-Clause */
/* Rate limiter accuracy on a fake clock: steady, bursty and boundary-aligned
 * traffic through every lfpat limiter and the locked twins, with admitted
 * counts against the budget and the worst interval of length W against each
 * limiter's documented bound. Prints a Markdown table; exits 0 only if every
 * limiter stayed within its bound.
 *
 *   example_ratelimit_accuracy [--plot DIR]
 *
 * --plot DIR also writes the table to DIR/ratelimit-accuracy.md and renders
 * DIR/ratelimit-accuracy.png with gnuplot: for each traffic pattern, the
 * admissions in the trailing 1 s over time, the fixed window's 2x boundary
 * burst next to the sliding log, the sliding counter and GCRA. The copies in
 * docs/ are made with `--plot docs`.
 */
#define _POSIX_C_SOURCE 200809L   /* popen, pclose */
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

/* The plotted limiters: the fixed window's boundary burst next to the exact
 * log, the sliding counter and GCRA; the first column is the offered load. */
static const int plotted[] = { L_FWINDOW, L_SLOG, L_SWINDOW, L_BUCKET };
#define NPLOT (sizeof plotted / sizeof plotted[0])

/* One gnuplot datablock $dK: time, offered and each plotted limiter's
 * admissions in the trailing window, every STEP. */
static void write_block(FILE *g, int k, const traffic *tr)
{
    static int64_t adm[NPLOT][MAXREQ];
    size_t count[NPLOT];
    for (size_t w = 0; w < NPLOT; w++)
        count[w] = run(tr, plotted[w], adm[w]).admitted;
    fprintf(g, "$d%d << EOD\n", k);
    for (int64_t i = 0; i <= NSTEPS; i++) {
        int64_t s = i * STEP;
        fprintf(g, "%.3f %u", (double)s / 1e9, in_window_at(tr->t, tr->n, s));
        for (size_t w = 0; w < NPLOT; w++)
            fprintf(g, " %u", in_window_at(adm[w], count[w], s));
        fprintf(g, "\n");
    }
    fprintf(g, "EOD\n");
}

/* Render DIR/ratelimit-accuracy.png: one panel per traffic pattern, the
 * admissions in the trailing 1 s over time (the data go to gnuplot inline;
 * no other file is written). */
static int plot(const char *dir, const traffic tr[3])
{
    FILE *g = popen("gnuplot", "w");
    if (!g)
        return perror("gnuplot"), 1;
    for (int k = 0; k < 3; k++)
        write_block(g, k, &tr[k]);
    fprintf(g,
            "set terminal pngcairo size 1000,1150 noenhanced font ',10'\n"
            "set output '%s/ratelimit-accuracy.png'\n"
            "set multiplot layout 3,1 title 'Admissions in the trailing 1 s (limit 100 per 1 s "
            "window; GCRA 100/s, burst 10); fake clock'\n"
            "set xlabel 'time (s)'\nset ylabel 'admitted in (t - 1 s, t]'\n"
            "set xrange [0:10]\nset yrange [0:260]\nset grid ytics\nset style data steps\n"
            "set key outside right top vertical\n",
            dir);
    for (int k = 0; k < 3; k++)
        fprintf(g,
                "set title '%s'\n"
                "plot $d%d using 1:2 title 'offered' lc rgb '#bbbbbb' lw 1, \\\n"
                "     '' using 1:3 title 'lfp_fwindow' lc rgb '#d62728' lw 4, \\\n"
                "     '' using 1:4 title 'lfp_slog (exact)' lc rgb '#1f77b4' lw 2, \\\n"
                "     '' using 1:5 title 'lfp_swindow' lc rgb '#2ca02c' lw 1 dt 2, \\\n"
                "     '' using 1:6 title 'lfp_bucket (GCRA)' lc rgb '#ff7f0e' lw 2, \\\n"
                "     100 title 'limit' lc rgb 'black' dt 3\n",
                tr[k].name, k);
    fprintf(g, "unset multiplot\n");
    if (pclose(g) != 0) {
        fprintf(stderr, "gnuplot failed\n");
        return 1;
    }
    printf("\nplot: %s/ratelimit-accuracy.png\n", dir);
    return 0;
}

/* The accuracy table (Markdown) for the three traffic patterns; returns
 * whether every limiter stayed within its bound. */
static bool table(FILE *f, const traffic tr[3])
{
    static int64_t adm[MAXREQ];
    fprintf(f, "Limit 100 per 1 s window (bucket: 100/s, burst 10); %d s of fake-clock "
               "traffic.\n\n", (int)(DURATION / SEC));
    fprintf(f, "| traffic | limiter | offered | admitted | budget | max in any 1 s | bound | ok |\n");
    fprintf(f, "|---|---|---:|---:|---:|---:|---:|---|\n");
    bool all_ok = true;
    for (int t = 0; t < 3; t++)
        for (int w = 0; w < NLIM; w++) {
            result r = run(&tr[t], w, adm);
            all_ok &= r.ok;
            fprintf(f, "| %s | %s | %zu | %zu | %zu | %zu | %zu | %s |\n", tr[t].name,
                    lim_name[w], tr[t].n, r.admitted, budget(w), r.max_w, r.bound,
                    r.ok ? "yes" : "NO");
        }
    fprintf(f, "\nbound: GCRA burst + (W-1ns)/T; fixed window 2x limit (boundary burst); "
               "sliding counter limit + prev*e/W (< 2x), checked at every admission; sliding "
               "log limit.\n");
    return all_ok;
}

/* DIR/ratelimit-accuracy.md: the table, as printed. */
static int write_table(const char *dir, const traffic tr[3])
{
    char path[4096];
    snprintf(path, sizeof path, "%s/ratelimit-accuracy.md", dir);
    FILE *f = fopen(path, "w");
    if (!f)
        return perror(path), 1;
    fprintf(f, "# Rate limiter accuracy\n\nGenerated by `example_ratelimit_accuracy --plot "
               "docs` (examples/ratelimit_accuracy.c).\n\n![admissions in the trailing 1 s]"
               "(ratelimit-accuracy.png)\n\n");
    table(f, tr);
    return fclose(f) != 0;
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
    make_traffic(tr);
    bool all_ok = table(stdout, tr);
    if (plot_dir && (write_table(plot_dir, tr) != 0 || plot(plot_dir, tr) != 0))
        return 1;
    return all_ok ? 0 : 1;
}
