/* SPDX-License-Identifier: BSD-2-Clause */
/* Linearizability of the semaphores: many short random histories (default 3
 * threads x 6 ops: try_acquire or release at random, capacity 2) checked
 * against the sequential counting semaphore (lincheck.h): try_acquire takes
 * a permit or says EAGAIN exactly when none is free; release returns one or
 * says EOVERFLOW exactly when all are free. Releases are not paired with
 * acquires (a semaphore has no owner), so both bounds are exercised.
 *   lfp_locked_sem  the oracle;
 *   lfp_sem         the atomic word's fast paths (one CAS each);
 *   lfp_wsem        with weight 1: its lock-free fast paths (nobody queues,
 *                   as only try_acquire is used).
 */
#include "lincheck.h"
#include "lfpat.h"

#define CAPACITY 2

struct subject {
    const char *name;
    void *s;
    int (*init)(void *s);
    void (*destroy)(void *s);
    int (*try_acquire)(void *s);
    int (*release)(void *s);
};

static int lsem_init(void *s) { return lfp_locked_sem_init(s, CAPACITY); }
static void lsem_destroy(void *s) { lfp_locked_sem_destroy(s); }
static int lsem_try(void *s) { return lfp_locked_sem_try_acquire(s); }
static int lsem_release(void *s) { return lfp_locked_sem_release(s); }

static int asem_init(void *s) { return lfp_sem_init(s, CAPACITY); }
static void asem_destroy(void *s) { lfp_sem_destroy(s); }
static int asem_try(void *s) { return lfp_sem_try_acquire(s); }
static int asem_release(void *s) { return lfp_sem_release(s); }

static int wsem_init(void *s) { return lfp_wsem_init(s, CAPACITY); }
static void wsem_destroy(void *s) { lfp_wsem_destroy(s); }
static int wsem_try(void *s) { return lfp_wsem_try_acquire(s, 1); }
static int wsem_release(void *s) { return lfp_wsem_release(s, 1); }

static void reset(void *obj, void *init)
{
    struct subject *x = obj;
    x->destroy(x->s);
    LFPS_CHECK(x->init(x->s) == 0, "%s: init failed", x->name);
    *(lfpl_sem_state *)init = (lfpl_sem_state){ .cap = CAPACITY, .avail = CAPACITY };
}

static void sem_op(void *obj, lfpl_log *log, int tid, lfps_rng *rng)
{
    struct subject *x = obj;
    bool acquire = lfps_below(rng, 2) != 0;
    lfpl_op *op = lfpl_begin(log, tid, acquire ? LFPL_ACQUIRE : LFPL_RELEASE, 0);
    lfpl_end(op, acquire ? x->try_acquire(x->s) : x->release(x->s), 0);
}

int main(void)
{
    lfps_init("stress_lincheck_sem");
    int threads = lfps_threads(3);
    lfp_locked_sem locked;
    lfp_sem sem;
    lfp_wsem wsem;
    struct subject subjects[] = {
        { "lfp_locked_sem", &locked, lsem_init, lsem_destroy, lsem_try, lsem_release },
        { "lfp_sem", &sem, asem_init, asem_destroy, asem_try, asem_release },
        { "lfp_wsem (weight 1)", &wsem, wsem_init, wsem_destroy, wsem_try, wsem_release },
    };
    for (size_t i = 0; i < sizeof subjects / sizeof subjects[0]; i++) {
        struct subject *x = &subjects[i];
        LFPS_CHECK(x->init(x->s) == 0, "%s: init failed", x->name);
        lfpl_stress run = { x->name, &lfpl_sem_spec, threads, 6, 20000, reset, sem_op, x, false };
        lfpl_result r = lfpl_stress_run(&run);
        LFPS_CHECK(r.histories > 0, "%s: no history checked", x->name);
        x->destroy(x->s);
    }
    return lfps_finish();
}
