/* SPDX-License-Identifier: BSD-2-Clause */
/* Stress: once. Oversubscribed threads race through the same sequence of
 * once objects (so most objects are contended), on lfp_once and its twin,
 * with lfp_once_call and with lfp_once_call_retry whose first attempt fails.
 * Checked: fn succeeds exactly once per object; every caller returns after
 * it finished and reads fn's plain (non-atomic) writes — TSan checks that the
 * once's happens-before edge covers them; a failed retry attempt's caller
 * gets the error and a later call succeeds. Rounds repeat on fresh objects
 * until the time budget is spent. */
#include <stdlib.h>

#include "harness.h"
#include "lfpat.h"

#define NOBJ 2048

typedef int (*once_fn)(void *);

struct impl {
    const char *name;
    int (*call)(void *, once_fn, void *);
    int (*retry)(void *, once_fn, void *);
    bool (*done)(void *);
};

static int o_call(void *o, once_fn f, void *a) { return lfp_once_call(o, f, a); }
static int o_retry(void *o, once_fn f, void *a) { return lfp_once_call_retry(o, f, a); }
static bool o_done(void *o) { return lfp_once_done(o); }
static int l_call(void *o, once_fn f, void *a) { return lfp_locked_once_call(o, f, a); }
static int l_retry(void *o, once_fn f, void *a) { return lfp_locked_once_call_retry(o, f, a); }
static bool l_done(void *o) { return lfp_locked_once_done(o); }

static const struct impl impls[] = {
    { "lfp_once", o_call, o_retry, o_done },
    { "lfp_locked_once", l_call, l_retry, l_done },
};

struct obj {
    lfp_once once;
    lfp_locked_once lonce;
    _Atomic int attempts, successes;
    int payload[4];              /* plain: written by fn only */
};

static struct obj objs[NOBJ];
static const struct impl *cur;
static bool cur_retry;
static _Thread_local lfps_rng *tl_rng;   /* the calling thread's, for delays in fn */

static int fn(void *arg)
{
    struct obj *o = arg;
    int attempt = atomic_fetch_add(&o->attempts, 1);
    if (cur_retry && attempt == 0)
        return EIO;              /* the first attempt fails: retried */
    lfps_delay(tl_rng);          /* widen the window in which others wait */
    for (int i = 0; i < 4; i++)
        o->payload[i] = (int)(o - objs) * 4 + i;
    atomic_fetch_add(&o->successes, 1);
    return 0;
}

static void *handle(struct obj *o)
{
    return cur == &impls[0] ? (void *)&o->once : (void *)&o->lonce;
}

static void racer(lfps_thread *t)
{
    tl_rng = &t->rng;
    uint64_t k = 0;
    for (; lfps_go(t, k, NOBJ); k++) {
        struct obj *o = &objs[k];
        lfps_delay(&t->rng);
        int rc = cur_retry ? cur->retry(handle(o), fn, o) : cur->call(handle(o), fn, o);
        if (rc == EIO)           /* this caller ran the failing attempt */
            rc = cur->retry(handle(o), fn, o);
        LFPS_CHECK(rc == 0, "%s: object %llu: rc %d", cur->name, (unsigned long long)k, rc);
        LFPS_CHECK(cur->done(handle(o)), "%s: not done after return", cur->name);
        LFPS_CHECK(atomic_load(&o->successes) == 1, "%s: fn succeeded %d times",
                   cur->name, atomic_load(&o->successes));
        bool seen = true;
        for (int i = 0; i < 4; i++)
            seen &= o->payload[i] == (int)k * 4 + i;   /* plain read: the edge */
        LFPS_CHECK(seen, "%s: fn's writes not visible after return", cur->name);
    }
    lfps_ops(k);
}

static void phase(const struct impl *im, bool retry, int threads)
{
    for (int k = 0; k < NOBJ; k++) {
        lfp_once_init(&objs[k].once);
        lfp_locked_once_init(&objs[k].lonce);
        atomic_init(&objs[k].attempts, 0);
        atomic_init(&objs[k].successes, 0);
        for (int i = 0; i < 4; i++)
            objs[k].payload[i] = -1;
    }
    cur = im;
    cur_retry = retry;
    lfps_run(threads, racer, NULL);
    int max_attempts = retry ? 2 : 1;
    for (int k = 0; k < NOBJ; k++) {
        int a = atomic_load(&objs[k].attempts), s = atomic_load(&objs[k].successes);
        LFPS_CHECK((a == 0 && s == 0) || (a == max_attempts && s == 1),
                   "%s%s: object %d: %d attempts, %d successes", im->name,
                   retry ? " retry" : "", k, a, s);
        lfp_locked_once_destroy(&objs[k].lonce);
    }
}

int main(void)
{
    lfps_init("stress_once");
    int threads = lfps_threads(6);   /* oversubscribed on 2 cores */
    /* Repeat the races on fresh objects for the time budget (at least once). */
    for (size_t i = 0; i < sizeof impls / sizeof impls[0]; i++)
        for (int retry = 0; retry <= 1; retry++) {
            int64_t end = lfp_now() + lfps_cfg.budget_ns / 4;
            do
                phase(&impls[i], retry, threads);
            while (lfp_now() < end);
        }
    return lfps_finish();
}
