/* SPDX-License-Identifier: BSD-2-Clause */
/* Litmus: double-checked initialisation (the lfp_once fast path's shape).
 *     each of 3 threads: p = inst (acquire); if (!p) { lock; p = inst;
 *         if (!p) { obj = {1, 2}; inits++; inst = &obj (release) } unlock }
 *         r = p->a + p->b
 * Forbidden: any thread sees a partly initialised object (r != 3), or the
 * initialiser runs other than exactly once. obj and inits are plain data, so
 * ThreadSanitizer checks the happens-before edges as well.
 */
#include <pthread.h>
#include <stdatomic.h>

#include "litmus.h"

struct obj { int a, b; };

static struct obj storage;
static _Atomic(struct obj *) inst;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int inits;
static int r[3];

static void reset(void)
{
    storage = (struct obj){ 0, 0 };
    inits = 0;
    atomic_store_explicit(&inst, NULL, memory_order_relaxed);  /* relaxed: published by the round barrier */
}

static struct obj *get(void)
{
    /* acquire: pairs with the release below; makes *p visible. */
    struct obj *p = atomic_load_explicit(&inst, memory_order_acquire);
    if (p)
        return p;
    pthread_mutex_lock(&lock);
    /* relaxed: the mutex orders this against the store below. */
    p = atomic_load_explicit(&inst, memory_order_relaxed);
    if (!p) {
        storage = (struct obj){ 1, 2 };
        inits++;
        p = &storage;
        /* release: pairs with the acquire above in other threads. */
        atomic_store_explicit(&inst, p, memory_order_release);
    }
    pthread_mutex_unlock(&lock);
    return p;
}

static void t0(void) { struct obj *p = get(); r[0] = p->a + p->b; }
static void t1(void) { struct obj *p = get(); r[1] = p->a + p->b; }
static void t2(void) { struct obj *p = get(); r[2] = p->a + p->b; }

static int outcome(void)
{
    if (inits != 1)
        return 2;
    return r[0] == 3 && r[1] == 3 && r[2] == 3 ? 0 : 1;
}

static const litmus_test test = {
    .name = "DCL release/acquire", .shape = "3 x get(): acquire check, locked init, release publish",
    .nthreads = 3, .thread = { t0, t1, t2 }, .reset = reset, .outcome = outcome,
    .noutcomes = 3, .outcome_names = { "all see {1,2}, 1 init", "partial object seen", "inits != 1" },
    .forbidden_mask = LITMUS_BIT(1) | LITMUS_BIT(2), .rounds = 100000,
};

int main(void)
{
    lfps_init("litmus_dcl");
    litmus_run(&test);
    return lfps_finish();
}
