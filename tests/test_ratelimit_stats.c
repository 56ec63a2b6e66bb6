/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit tests: limiter statistics (struct lfp_rl_stats, lfpat/ratelimit.h
 * "Statistics") of lfp_bucket, lfp_fwindow, lfp_swindow, lfp_slog,
 * lfp_keyed, their twins and lfp_limit_all.
 *
 * The oracle is the outcome of each call, counted by the calling threads
 * themselves, and the numbers the scenario fixes whatever the interleaving:
 * on a fake clock standing still, a limiter of capacity C admits exactly C
 * of any number of takes; a wait whose earliest time is after its deadline
 * returns ETIMEDOUT at once, one whose token already fired ECANCELED at
 * once; and far later every one of C waits is admitted at once. Four
 * threads run each phase together (a barrier between phases), then the
 * stats must equal the threads' own tallies exactly: no lost or double
 * count (a shared counter updated non-atomically, a wait's internal
 * attempts counted as takes, an undone limit_all take counted). */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "lfpat.h"

#define THREADS 4
#define CAP 1000u             /* capacity at one instant */
#define T_NS INT64_C(1000000) /* bucket: 1 ms per token, so CAP tokens take 1 s */
#define W_NS (CAP * T_NS)     /* windows and log: 1 s */
#define TAKES 600             /* per thread: 2400 takes, CAP admitted */
#define TIMEOUTS 50           /* per thread */
#define CANCELS 70            /* per thread */
#define LATER (4 * W_NS)      /* every limiter is full again */
#define KEY 42u

/* One limiter behind uniform calls. */
typedef struct ops {
    const char *name;
    int (*take)(void *x, int64_t now);
    int (*wait)(void *x, int64_t now, int64_t deadline, lfp_cancel *c);
    int (*stats)(void *x, struct lfp_rl_stats *out);
} ops;

#define OPS(nm, type, take_e, wait_e, stats_e)                                          \
    static int nm##_take(void *x, int64_t now) { type *o = x; return take_e; }          \
    static int nm##_wait(void *x, int64_t now, int64_t deadline, lfp_cancel *c)         \
    { type *o = x; return wait_e; }                                                     \
    static int nm##_stats(void *x, struct lfp_rl_stats *out) { type *o = x; return stats_e; } \
    static const ops nm##_ops = { #nm, nm##_take, nm##_wait, nm##_stats };

OPS(bucket, lfp_bucket, lfp_bucket_take_at(o, 1, now),
    lfp_bucket_wait_at(o, 1, now, deadline, c), lfp_bucket_stats(o, out))
OPS(fwindow, lfp_fwindow, lfp_fwindow_take_at(o, 1, now),
    lfp_fwindow_wait_at(o, 1, now, deadline, c), lfp_fwindow_stats(o, out))
OPS(swindow, lfp_swindow, lfp_swindow_take_at(o, 1, now),
    lfp_swindow_wait_at(o, 1, now, deadline, c), lfp_swindow_stats(o, out))
OPS(slog, lfp_slog, lfp_slog_take_at(o, 1, now),
    lfp_slog_wait_at(o, 1, now, deadline, c), lfp_slog_stats(o, out))
OPS(keyed, lfp_keyed, lfp_keyed_take_at(o, KEY, 1, now),
    lfp_keyed_wait_at(o, KEY, 1, now, deadline, c), lfp_keyed_stats(o, out))
OPS(locked_bucket, lfp_locked_bucket, lfp_locked_bucket_take_at(o, 1, now),
    lfp_locked_bucket_wait_at(o, 1, now, deadline, c), lfp_locked_bucket_stats(o, out))
OPS(locked_slog, lfp_locked_slog, lfp_locked_slog_take_at(o, 1, now),
    lfp_locked_slog_wait_at(o, 1, now, deadline, c), lfp_locked_slog_stats(o, out))
OPS(locked_keyed, lfp_locked_keyed, lfp_locked_keyed_take_at(o, KEY, 1, now),
    lfp_locked_keyed_wait_at(o, KEY, 1, now, deadline, c), lfp_locked_keyed_stats(o, out))

typedef struct run {
    const ops *o;
    void *x;
    pthread_barrier_t phase;
    lfp_cancel fired;
} run;

/* What one thread saw, by return code. */
typedef struct tally {
    uint64_t ok, again, timedout, canceled, other;
} tally;

static void note(tally *t, int rc)
{
    t->ok += rc == 0;
    t->again += rc == EAGAIN;
    t->timedout += rc == ETIMEDOUT;
    t->canceled += rc == ECANCELED;
    t->other += rc != 0 && rc != EAGAIN && rc != ETIMEDOUT && rc != ECANCELED;
}

typedef struct worker {
    run *r;
    tally t;
} worker;

static void *work(void *arg)
{
    worker *w = arg;
    run *r = w->r;
    for (int i = 0; i < TAKES; i++)               /* CAP of them admitted */
        note(&w->t, r->o->take(r->x, 0));
    pthread_barrier_wait(&r->phase);
    for (int i = 0; i < TIMEOUTS; i++)            /* earliest time is after 1 ns */
        note(&w->t, r->o->wait(r->x, 0, 1, NULL));
    for (int i = 0; i < CANCELS; i++)             /* token fired, nothing available */
        note(&w->t, r->o->wait(r->x, 0, LFP_FOREVER, &r->fired));
    pthread_barrier_wait(&r->phase);
    for (unsigned i = 0; i < CAP / THREADS; i++)  /* full again: admitted at once */
        note(&w->t, r->o->wait(r->x, LATER, LATER, &r->fired));
    return NULL;
}

static void check_run(const ops *o, void *x)
{
    run r = { .o = o, .x = x };
    assert_int_equal(pthread_barrier_init(&r.phase, NULL, THREADS), 0);
    assert_int_equal(lfp_cancel_init(&r.fired, NULL), 0);
    lfp_cancel_fire(&r.fired, 1);
    worker w[THREADS];
    pthread_t th[THREADS];
    for (int i = 0; i < THREADS; i++) {
        w[i] = (worker){ .r = &r };
        assert_int_equal(pthread_create(&th[i], NULL, work, &w[i]), 0);
    }
    tally sum = { 0, 0, 0, 0, 0 };
    for (int i = 0; i < THREADS; i++) {
        assert_int_equal(pthread_join(th[i], NULL), 0);
        sum.ok += w[i].t.ok;
        sum.again += w[i].t.again;
        sum.timedout += w[i].t.timedout;
        sum.canceled += w[i].t.canceled;
        sum.other += w[i].t.other;
    }
    /* the scenario's numbers, whatever the interleaving */
    assert_int_equal(sum.other, 0);
    assert_int_equal(sum.ok, 2 * CAP);
    assert_int_equal(sum.again, THREADS * TAKES - CAP);
    assert_int_equal(sum.timedout, THREADS * TIMEOUTS);
    assert_int_equal(sum.canceled, THREADS * CANCELS);
    /* the stats, exactly (every adder joined) */
    struct lfp_rl_stats st;
    assert_int_equal(o->stats(x, &st), 0);
    if (st.allowed != sum.ok || st.denied != sum.again || st.timed_out != sum.timedout ||
        st.cancelled != sum.canceled || st.waited != 0)
        print_error("%s: allowed %llu denied %llu waited %llu timed_out %llu cancelled %llu\n",
                    o->name, (unsigned long long)st.allowed, (unsigned long long)st.denied,
                    (unsigned long long)st.waited, (unsigned long long)st.timed_out,
                    (unsigned long long)st.cancelled);
    assert_int_equal(st.allowed, sum.ok);
    assert_int_equal(st.denied, sum.again);
    assert_int_equal(st.waited, 0);   /* every wait returned at once */
    assert_int_equal(st.timed_out, sum.timedout);
    assert_int_equal(st.cancelled, sum.canceled);
    lfp_cancel_destroy(&r.fired);
    pthread_barrier_destroy(&r.phase);
}

static void lockfree_stats_exact_after_concurrent_run(void **state)
{
    (void)state;
    lfp_bucket b;
    assert_int_equal(lfp_bucket_init_every(&b, T_NS, CAP), 0);
    assert_int_equal(lfp_bucket_stats_enable(&b), 0);
    check_run(&bucket_ops, &b);
    lfp_bucket_destroy(&b);

    lfp_fwindow f;
    assert_int_equal(lfp_fwindow_init(&f, CAP, W_NS), 0);
    assert_int_equal(lfp_fwindow_stats_enable(&f), 0);
    check_run(&fwindow_ops, &f);
    lfp_fwindow_destroy(&f);

    lfp_swindow s;
    assert_int_equal(lfp_swindow_init(&s, CAP, W_NS), 0);
    assert_int_equal(lfp_swindow_stats_enable(&s), 0);
    check_run(&swindow_ops, &s);
    lfp_swindow_destroy(&s);

    lfp_slog g;
    assert_int_equal(lfp_slog_init(&g, CAP, W_NS), 0);
    assert_int_equal(lfp_slog_stats_enable(&g), 0);
    check_run(&slog_ops, &g);
    lfp_slog_destroy(&g);

    lfp_keyed k;
    assert_int_equal(lfp_keyed_init(&k, 16, 1e9 / (double)T_NS, CAP), 0);
    assert_int_equal(lfp_keyed_stats_enable(&k), 0);
    check_run(&keyed_ops, &k);
    lfp_keyed_destroy(&k);
}

static void twin_stats_exact_after_concurrent_run(void **state)
{
    (void)state;
    lfp_locked_bucket b;
    assert_int_equal(lfp_locked_bucket_init(&b, 1e9 / (double)T_NS, CAP), 0);
    check_run(&locked_bucket_ops, &b);
    lfp_locked_bucket_destroy(&b);

    lfp_locked_slog g;
    assert_int_equal(lfp_locked_slog_init(&g, CAP, W_NS), 0);
    check_run(&locked_slog_ops, &g);
    lfp_locked_slog_destroy(&g);

    lfp_locked_keyed k;
    assert_int_equal(lfp_locked_keyed_init(&k, 16, 1e9 / (double)T_NS, CAP), 0);
    check_run(&locked_keyed_ops, &k);
    lfp_locked_keyed_destroy(&k);
}

/* A wait that sleeps counts in `waited` once, whatever it returns; the
 * reservation and take forms count as takes. */
static void waits_that_sleep_are_counted(void **state)
{
    (void)state;
    struct lfp_rl_stats st;
    lfp_bucket b;
    assert_int_equal(lfp_bucket_init_every(&b, 20000, 1), 0);   /* 20 us per token */
    assert_int_equal(lfp_bucket_stats_enable(&b), 0);
    assert_int_equal(lfp_bucket_take_at(&b, 1, 0), 0);
    assert_int_equal(lfp_bucket_wait_at(&b, 1, 0, LFP_FOREVER, NULL), 0);   /* sleeps 20 us */
    lfp_bucket_reservation rv;
    int64_t ready;
    assert_int_equal(lfp_bucket_reserve_ex_at(&b, 1, 0, &rv), 0);
    assert_int_equal(lfp_bucket_reserve_at(&b, 1, 0, &ready), 0);
    assert_int_equal(lfp_bucket_take_ex_at(&b, 1, 0, &rv), EAGAIN);
    struct lfp_rl_result res;
    assert_int_equal(lfp_bucket_take_result_at(&b, 0, 0, &res), 0);   /* a peek: nothing */
    assert_int_equal(lfp_bucket_take_result_at(&b, 1, 0, &res), EAGAIN);
    assert_int_equal(lfp_bucket_take_at(&b, 0, 0), EINVAL);             /* nothing */
    assert_int_equal(lfp_bucket_stats(&b, &st), 0);
    assert_int_equal(st.allowed, 4);
    assert_int_equal(st.denied, 2);
    assert_int_equal(st.waited, 1);
    lfp_bucket_destroy(&b);

    lfp_fwindow f;   /* the window's wait: one sleep to the next window, then admitted */
    assert_int_equal(lfp_fwindow_init(&f, 1, 20000), 0);
    assert_int_equal(lfp_fwindow_stats_enable(&f), 0);
    assert_int_equal(lfp_fwindow_take_at(&f, 1, 0), 0);
    assert_int_equal(lfp_fwindow_wait_at(&f, 1, 0, LFP_FOREVER, NULL), 0);
    assert_int_equal(lfp_fwindow_stats(&f, &st), 0);
    assert_int_equal(st.allowed, 2);
    assert_int_equal(st.denied, 0);   /* the wait's refused attempt is not a take */
    assert_int_equal(st.waited, 1);
    lfp_fwindow_destroy(&f);

    lfp_locked_slog g;
    assert_int_equal(lfp_locked_slog_init(&g, 1, 20000), 0);
    assert_int_equal(lfp_locked_slog_take_at(&g, 1, 0), 0);
    assert_int_equal(lfp_locked_slog_wait_at(&g, 1, 0, LFP_FOREVER, NULL), 0);
    assert_int_equal(lfp_locked_slog_stats(&g, &st), 0);
    assert_int_equal(st.allowed, 2);
    assert_int_equal(st.denied, 0);
    assert_int_equal(st.waited, 1);
    lfp_locked_slog_destroy(&g);
}

/* lfp_limit_all: an admission counts in every limiter; a refusal only in
 * the limiter that refused (the ones taken and undone count nothing, the
 * ones after it were not asked); its waits count their admissions. */
static void limit_all_counts_outcomes(void **state)
{
    (void)state;
    lfp_bucket b;
    lfp_fwindow f;
    lfp_slog g;
    assert_int_equal(lfp_bucket_init_every(&b, T_NS, 10), 0);
    assert_int_equal(lfp_fwindow_init(&f, 2, W_NS), 0);
    assert_int_equal(lfp_slog_init(&g, 10, W_NS), 0);
    assert_int_equal(lfp_bucket_stats_enable(&b), 0);
    assert_int_equal(lfp_fwindow_stats_enable(&f), 0);
    assert_int_equal(lfp_slog_stats_enable(&g), 0);
    lfp_limiter ls[] = { { LFP_LIMITER_BUCKET, &b }, { LFP_LIMITER_FWINDOW, &f },
                         { LFP_LIMITER_SLOG, &g } };
    assert_int_equal(lfp_limit_all_at(ls, 3, 1, 0), 0);
    assert_int_equal(lfp_limit_all_wait_at(ls, 3, 1, 0, 1, NULL), 0);
    assert_int_equal(lfp_limit_all_at(ls, 3, 1, 0), EAGAIN);        /* the window refuses */
    assert_int_equal(lfp_limit_all_wait_at(ls, 3, 1, 0, 1, NULL), ETIMEDOUT);
    struct lfp_rl_stats sb, sf, sg;
    assert_int_equal(lfp_bucket_stats(&b, &sb), 0);
    assert_int_equal(lfp_fwindow_stats(&f, &sf), 0);
    assert_int_equal(lfp_slog_stats(&g, &sg), 0);
    assert_int_equal(sb.allowed, 2);
    assert_int_equal(sb.denied, 0);   /* taken and undone: not counted */
    assert_int_equal(sf.allowed, 2);
    assert_int_equal(sf.denied, 1);
    assert_int_equal(sg.allowed, 2);
    assert_int_equal(sg.denied, 0);   /* not asked */
    assert_int_equal(sb.timed_out + sf.timed_out + sg.timed_out, 0);
    lfp_slog_destroy(&g);
    lfp_fwindow_destroy(&f);
    lfp_bucket_destroy(&b);
}

static void stats_bad_input_and_disabled(void **state)
{
    (void)state;
    struct lfp_rl_stats st;
    lfp_bucket b;
    lfp_fwindow f;
    lfp_swindow s;
    lfp_slog g;
    lfp_keyed k;
    assert_int_equal(lfp_bucket_init(&b, 10, 1), 0);
    assert_int_equal(lfp_fwindow_init(&f, 1, W_NS), 0);
    assert_int_equal(lfp_swindow_init(&s, 1, W_NS), 0);
    assert_int_equal(lfp_slog_init(&g, 1, W_NS), 0);
    assert_int_equal(lfp_keyed_init(&k, 4, 10, 1), 0);
    /* never enabled: ENOENT and zeros (a take counted nowhere) */
    assert_int_equal(lfp_bucket_take_at(&b, 1, 0), 0);
    memset(&st, 0xff, sizeof st);
    assert_int_equal(lfp_bucket_stats(&b, &st), ENOENT);
    assert_int_equal(st.allowed + st.denied + st.waited + st.timed_out + st.cancelled, 0);
    assert_int_equal(lfp_fwindow_stats(&f, &st), ENOENT);
    assert_int_equal(lfp_swindow_stats(&s, &st), ENOENT);
    assert_int_equal(lfp_slog_stats(&g, &st), ENOENT);
    assert_int_equal(lfp_keyed_stats(&k, &st), ENOENT);
    /* enable is idempotent and keeps the counts */
    assert_int_equal(lfp_bucket_stats_enable(&b), 0);
    assert_int_equal(lfp_bucket_take_at(&b, 1, 0), EAGAIN);
    assert_int_equal(lfp_bucket_stats_enable(&b), 0);
    assert_int_equal(lfp_bucket_stats(&b, &st), 0);
    assert_int_equal(st.denied, 1);
    /* EINVAL for NULL */
    assert_int_equal(lfp_bucket_stats_enable(NULL), EINVAL);
    assert_int_equal(lfp_fwindow_stats_enable(NULL), EINVAL);
    assert_int_equal(lfp_swindow_stats_enable(NULL), EINVAL);
    assert_int_equal(lfp_slog_stats_enable(NULL), EINVAL);
    assert_int_equal(lfp_keyed_stats_enable(NULL), EINVAL);
    assert_int_equal(lfp_bucket_stats(NULL, &st), EINVAL);
    assert_int_equal(lfp_bucket_stats(&b, NULL), EINVAL);
    assert_int_equal(lfp_fwindow_stats(NULL, &st), EINVAL);
    assert_int_equal(lfp_fwindow_stats(&f, NULL), EINVAL);
    assert_int_equal(lfp_swindow_stats(NULL, &st), EINVAL);
    assert_int_equal(lfp_swindow_stats(&s, NULL), EINVAL);
    assert_int_equal(lfp_slog_stats(NULL, &st), EINVAL);
    assert_int_equal(lfp_slog_stats(&g, NULL), EINVAL);
    assert_int_equal(lfp_keyed_stats(NULL, &st), EINVAL);
    assert_int_equal(lfp_keyed_stats(&k, NULL), EINVAL);
    assert_int_equal(lfp_locked_bucket_stats(NULL, &st), EINVAL);
    assert_int_equal(lfp_locked_slog_stats(NULL, &st), EINVAL);
    assert_int_equal(lfp_locked_keyed_stats(NULL, &st), EINVAL);
    lfp_bucket_destroy(NULL);
    lfp_fwindow_destroy(NULL);
    lfp_swindow_destroy(NULL);
    lfp_keyed_destroy(&k);
    lfp_slog_destroy(&g);
    lfp_swindow_destroy(&s);
    lfp_fwindow_destroy(&f);
    lfp_bucket_destroy(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(lockfree_stats_exact_after_concurrent_run),
        cmocka_unit_test(twin_stats_exact_after_concurrent_run),
        cmocka_unit_test(waits_that_sleep_are_counted),
        cmocka_unit_test(limit_all_counts_outcomes),
        cmocka_unit_test(stats_bad_input_and_disabled),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
