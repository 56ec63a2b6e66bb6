/* SPDX-License-Identifier: BSD-2-Clause */
#include "litmus.h"

#define LITMUS_DEFAULT_ROUNDS 200000
#define LITMUS_SKEW 32    /* max spin iterations before a body */

struct litmus_run {
    const litmus_test *t;
    uint64_t hist[LITMUS_MAX_OUTCOMES];   /* touched only by end(): one thread at a time */
    int bad_index;
    uint64_t forbidden;                   /* forbidden outcomes seen so far */
};

static void litmus_body(int tid, lfps_rng *rng, void *arg)
{
    struct litmus_run *run = arg;
    /* A small random skew on top of the common start time (rounds.c), so
     * that the bodies overlap in either order and at varying offsets. */
    unsigned skew = run->t->skew ? run->t->skew : LITMUS_SKEW;
    for (volatile unsigned i = 0, n = (unsigned)lfps_below(rng, skew); i < n; i++)
        ;
    run->t->thread[tid]();
}

static bool litmus_end(uint64_t round, void *arg)
{
    (void)round;
    struct litmus_run *run = arg;
    int o = run->t->outcome();
    if (o < 0 || o >= run->t->noutcomes) {
        run->bad_index = o;
    } else {
        run->hist[o]++;
        run->forbidden += (run->t->forbidden_mask & LITMUS_BIT(o)) != 0;
    }
    run->t->reset();
    if (run->t->control && run->forbidden >= LITMUS_CONTROL_ENOUGH)
        return false;   /* shown to fire: no need to go on */
    return run->bad_index == -1;
}

/* The outcome's name, or its index as bits labelled with t->regs. */
static const char *outcome_name(const litmus_test *t, int i, char *buf, size_t len)
{
    if (t->outcome_names[i])
        return t->outcome_names[i];
    int bits = 0;
    while ((1 << bits) < t->noutcomes)
        bits++;
    size_t k = (size_t)snprintf(buf, len, "%s=", t->regs ? t->regs : "");
    for (int b = bits - 1; b >= 0 && k + 1 < len; b--)
        buf[k++] = (char)('0' + ((i >> b) & 1));
    buf[k < len ? k : len - 1] = '\0';
    return buf;
}

uint64_t litmus_run(const litmus_test *t)
{
    struct litmus_run run = { .t = t, .bad_index = -1 };
    uint64_t stretch = t->control ? LITMUS_CONTROL_STRETCH : 1;
    lfps_rounds r = {
        .nthreads = t->nthreads,
        .max_rounds = stretch * lfps_scale(t->rounds ? t->rounds : LITMUS_DEFAULT_ROUNDS),
        .budget_ns = (int64_t)stretch * lfps_cfg.budget_ns,
        .body = litmus_body,
        .end = litmus_end,
        .arg = &run,
    };
    t->reset();
    uint64_t n = lfps_rounds_run(&r);
    lfps_ops(n);
    uint64_t forbidden = 0;
    printf("  %-28s %s  [%llu rounds]\n", t->name, t->shape, (unsigned long long)n);
    for (int i = 0; i < t->noutcomes; i++) {
        bool bad = t->forbidden_mask & LITMUS_BIT(i);
        if (bad)
            forbidden += run.hist[i];
        char buf[64];
        printf("    %-26s %10llu%s\n", outcome_name(t, i, buf, sizeof buf), (unsigned long long)run.hist[i],
               bad ? (t->control ? "  <- allowed by C11 here, forbidden with stronger orders"
                                 : "  <- forbidden") : "");
    }
    if (t->control) {
        printf("    control %s: %s (%llu of %llu rounds)\n", t->name,
               forbidden ? "fired" : "did NOT fire", (unsigned long long)forbidden,
               (unsigned long long)n);
    } else {
        LFPS_CHECK(forbidden == 0 && run.bad_index == -1,
                   "%s: forbidden outcome seen %llu times (bad index %d)", t->name,
                   (unsigned long long)forbidden, run.bad_index);
        printf("    checked %s: %s\n", t->name, forbidden ? "FORBIDDEN OUTCOME SEEN" : "ok");
    }
    fflush(stdout);
    return forbidden;
}
