/* SPDX-License-Identifier: BSD-2-Clause */
/* lfp_snap benchmarks (issue 18), peers in the same run:
 *   snap/read_cost/<impl>        one read section (enter, load two words of
 *                                the version, leave) in a 256-op batch,
 *                                unrolled 4x, at 1 and 2 threads: the read
 *                                path's own cost. Floor: a bare acquire load
 *                                of an atomic pointer (nothing reclaimed).
 *   snap/read_cost/<impl>_qN     the quiescent-state flavours, same loop:
 *                                each read is one get (lfp_snap_get while
 *                                online; liburcu qsbr's empty read lock and
 *                                rcu_dereference) and every N-th read is
 *                                followed by a quiescent report (N = 1, 16,
 *                                1024, as liburcu's own qsbr tests report
 *                                every read or every N); lfp_snap_qsbr_qinf
 *                                never reports (the get alone).
 *   snap/<mix case>/<impl>       bench/readmostly.h's grid: write fractions
 *                                0 / 0.1 / 1 / 10 % at 1 / 2 / 4 threads, the
 *                                2-reader/1-reader ratio, a dedicated writer
 *                                (writer latency p50/p99/max, reader p99).
 * Implementations: lfp_snap (synchronous publish; _async: publish_async and
 * a reclaim every 16 writes; _qsbr: readers online, reading with
 * lfp_snap_get, reporting lfp_snap_quiescent every 64 operations as the
 * urcu_qsbr readers do, a write goes offline around its synchronous
 * publish as liburcu's synchronize_rcu does for an online thread),
 * lfp_locked_snap (the twin), liburcu memb and
 * qsbr (rcu_xchg_pointer + synchronize_rcu + free; qsbr readers announce a
 * quiescent state every 64 operations), and the bare atomic pointer (writes
 * alternate two static versions: the unreclaimed floor).
 * Versions are 4 words derived from one value; a read checks them (a torn
 * or freed version fails the case). The crossover: lfp_snap_cow4096 copies
 * a 4096-entry map per write, pthread_rwlock_inplace4096 updates one entry
 * of one map under the write lock. */
#include <stdlib.h>

#include <urcu/urcu-memb.h>
#include <urcu/urcu-qsbr.h>

#include "lfpat.h"
#include "readmostly.h"
#include "shim/shim.h"

#define BATCH 256
#define K 0x9E3779B97F4A7C15ull

/* One cache line each: a 32-byte malloc block may straddle two lines, and
 * with malloc's placement two read-cost cases with the same inner loop
 * (lfp_snap_qsbr_q16, urcu_qsbr_q16) measured 0.70 and 0.47 ns. */
typedef struct version { alignas(LFP_CACHELINE) uint64_t w[4]; } version;

static version *make(uint64_t value)
{
    version *v = aligned_alloc(LFP_CACHELINE, sizeof *v);
    if (v)
        for (int i = 0; i < 4; i++)
            v->w[i] = value ^ (K * (uint64_t)(i + 1));
    return v;
}

static int torn(const version *v)
{
    uint64_t x = v->w[0] ^ K;
    return v->w[1] != (x ^ (K * 2)) || v->w[2] != (x ^ (K * 3)) || v->w[3] != (x ^ (K * 4));
}

static void free_version(void *v, void *arg) { (void)arg; free(v); }

/* ------------------------------------------------------------ the objects */

static lfp_snap snap, snap_async;
static lfp_locked_snap locked;
static version *_Atomic urcu_ptr;   /* shared by memb and qsbr: one flavour runs at a time */
static alignas(LFP_CACHELINE) _Atomic(const version *) bare;
static version bare_v[2];   /* aligned by the type */

/* ------------------------------------------------------------ read cost */

#define READ_COST(fname, setup, enter_expr, leave_stmt, fini)                                  \
    static void fname(lfpb_state *st, void *arg)                                               \
    {                                                                                          \
        (void)arg;                                                                             \
        setup;                                                                                 \
        uint64_t acc = 0;                                                                      \
        while (lfpb_keep_running_batch(st, BATCH))                                             \
            for (int i = 0; i < BATCH; i += 4)                                                 \
                for (int u = 0; u < 4; u++) {                                                  \
                    const version *v = (enter_expr);                                           \
                    acc += v->w[0] + v->w[3];                                                  \
                    leave_stmt;                                                                \
                }                                                                              \
        uint64_t sink = acc; /* acc's address never escapes: it stays in a register */        \
        lfpb_do_not_optimize(&sink);                                                           \
        lfpb_set_items(st, lfpb_iterations(st));                                               \
        fini;                                                                                  \
    }

/* relaxed-free: the floor is one acquire load (pairs with the release
 * stores in bare_write). */
READ_COST(rc_bare, (void)0, atomic_load_explicit(&bare, memory_order_acquire), (void)0, (void)0)
READ_COST(rc_snap, (void)0, lfp_snap_enter(&snap), lfp_snap_leave(&snap), (void)0)
READ_COST(rc_locked, (void)0, lfp_locked_snap_enter(&locked), lfp_locked_snap_leave(&locked),
          (void)0)
READ_COST(rc_memb, urcu_memb_register_thread(),
          (urcu_memb_read_lock(), rcu_dereference(urcu_ptr)), urcu_memb_read_unlock(),
          urcu_memb_unregister_thread())
/* qsbr: the read lock is empty; a quiescent state per batch of 4. */
READ_COST(rc_qsbr, urcu_qsbr_register_thread(),
          (urcu_qsbr_read_lock(), rcu_dereference(urcu_ptr)),
          (urcu_qsbr_read_unlock(), u == 3 ? urcu_qsbr_quiescent_state() : (void)0),
          urcu_qsbr_unregister_thread())

/* A quiescent-state read loop: get, use, and a report after every N-th
 * read (arg = N, a power of two; 0 = never). The counter and its branch are
 * part of the reader's cost, as in any qsbr reader. */
#define READ_COST_Q(fname, setup, get_expr, report_stmt, fini)                                 \
    static void fname(lfpb_state *st, void *arg)                                               \
    {                                                                                          \
        uint64_t n = 0, mask = (uint64_t)(uintptr_t)arg - 1; /* 0 -> every bit: never */     \
        setup;                                                                                 \
        uint64_t acc = 0;                                                                      \
        while (lfpb_keep_running_batch(st, BATCH))                                             \
            for (int i = 0; i < BATCH; i += 4)                                                 \
                for (int u = 0; u < 4; u++) {                                                  \
                    const version *v = (get_expr);                                             \
                    acc += v->w[0] + v->w[3];                                                  \
                    if (LFP_UNLIKELY((++n & mask) == 0))                                       \
                        report_stmt;                                                           \
                }                                                                              \
        uint64_t sink = acc;                                                                   \
        lfpb_do_not_optimize(&sink);                                                           \
        lfpb_set_items(st, lfpb_iterations(st));                                               \
        fini;                                                                                  \
    }

READ_COST_Q(rc_snap_qsbr, lfp_snap_online(), lfp_snap_get(&snap), lfp_snap_quiescent(),
            lfp_snap_offline())
READ_COST_Q(rc_urcu_qsbr_q, urcu_qsbr_register_thread(),
            (urcu_qsbr_read_lock(), rcu_dereference(urcu_ptr)),
            (urcu_qsbr_read_unlock(), urcu_qsbr_quiescent_state()),
            urcu_qsbr_unregister_thread())

/* ------------------------------------------------------------ mixer impls */

static int snap_read(void *obj, void *ts)
{
    (void)ts;
    const version *v = lfp_snap_enter(obj);
    int bad = torn(v);
    return lfp_snap_leave(obj) | bad;
}

static int snap_write(void *obj, void *ts, uint64_t value)
{
    (void)ts;
    version *v = make(value);
    return v ? lfp_snap_publish(obj, v, LFP_FOREVER, NULL) : ENOMEM;
}

static int snap_write_async(void *obj, void *ts, uint64_t value)
{
    (void)ts;
    version *v = make(value);
    if (!v || lfp_snap_publish_async(obj, v) != 0)
        return ENOMEM;
    if (value % 16 == 0)
        lfp_snap_reclaim(obj);   /* EAGAIN (readers inside) is fine */
    return 0;
}

static int locked_read(void *obj, void *ts)
{
    (void)ts;
    const version *v = lfp_locked_snap_enter(obj);
    int bad = torn(v);
    return lfp_locked_snap_leave(obj) | bad;
}

static int locked_write(void *obj, void *ts, uint64_t value)
{
    (void)ts;
    version *v = make(value);
    return v ? lfp_locked_snap_publish(obj, v, LFP_FOREVER, NULL) : ENOMEM;
}

static void *snap_qsbr_init(void *obj, int idx) { (void)obj, (void)idx; lfp_snap_online(); return NULL; }
static void snap_qsbr_fini(void *obj, void *ts) { (void)obj, (void)ts; lfp_snap_offline(); }
static void snap_qsbr_idle(void *obj, void *ts) { (void)obj, (void)ts; lfp_snap_quiescent(); }

static int snap_qsbr_read(void *obj, void *ts)
{
    (void)ts;
    return torn(lfp_snap_get(obj));
}

/* An online thread cannot wait for a grace period (EDEADLK): it goes offline
 * around the publish (what synchronize_rcu does for an online qsbr thread). */
static int snap_qsbr_write(void *obj, void *ts, uint64_t value)
{
    lfp_snap_offline();
    int rc = snap_write(obj, ts, value);
    lfp_snap_online();
    return rc;
}

static void *memb_init(void *obj, int idx) { (void)obj, (void)idx; urcu_memb_register_thread(); return NULL; }
static void memb_fini(void *obj, void *ts) { (void)obj, (void)ts; urcu_memb_unregister_thread(); }

static int memb_read(void *obj, void *ts)
{
    (void)obj, (void)ts;
    urcu_memb_read_lock();
    int bad = torn(rcu_dereference(urcu_ptr));
    urcu_memb_read_unlock();
    return bad;
}

static int memb_write(void *obj, void *ts, uint64_t value)
{
    (void)obj, (void)ts;
    version *v = make(value);
    if (!v)
        return ENOMEM;
    version *old = rcu_xchg_pointer(&urcu_ptr, v);
    urcu_memb_synchronize_rcu();
    free(old);
    return 0;
}

static void *qsbr_init(void *obj, int idx) { (void)obj, (void)idx; urcu_qsbr_register_thread(); return NULL; }
static void qsbr_fini(void *obj, void *ts) { (void)obj, (void)ts; urcu_qsbr_unregister_thread(); }
static void qsbr_idle(void *obj, void *ts) { (void)obj, (void)ts; urcu_qsbr_quiescent_state(); }

static int qsbr_read(void *obj, void *ts)
{
    (void)obj, (void)ts;
    urcu_qsbr_read_lock();
    int bad = torn(rcu_dereference(urcu_ptr));
    urcu_qsbr_read_unlock();
    return bad;
}

static int qsbr_write(void *obj, void *ts, uint64_t value)
{
    (void)obj, (void)ts;
    version *v = make(value);
    if (!v)
        return ENOMEM;
    version *old = rcu_xchg_pointer(&urcu_ptr, v);
    urcu_qsbr_synchronize_rcu();
    free(old);
    return 0;
}

static int bare_read(void *obj, void *ts)
{
    (void)obj, (void)ts;
    /* acquire: pairs with the release store in bare_write. */
    return torn(atomic_load_explicit(&bare, memory_order_acquire));
}

static int bare_write(void *obj, void *ts, uint64_t value)
{
    (void)obj, (void)ts;
    /* release: pairs with the acquire load in bare_read (static versions). */
    atomic_store_explicit(&bare, &bare_v[value & 1], memory_order_release);
    return 0;
}

/* ------------------------------------------------------------ the crossover
 * A 4096-entry map (64 KiB): copy-on-write under lfp_snap (every write
 * copies the map) against pthread_rwlock around one map updated in place.
 * A read looks up one entry (a per-thread stride walk) and checks it. */

#define MAPN 4096
typedef struct bigmap { uint64_t a[MAPN], b[MAPN]; } bigmap;
static lfp_snap snap_map;
static pthread_rwlock_t map_lock = PTHREAD_RWLOCK_INITIALIZER;
static bigmap rw_map;

static void *walk_init(void *obj, int idx)
{
    (void)obj;
    uint64_t *pos = malloc(sizeof *pos);
    if (pos)
        *pos = (uint64_t)idx * 977;
    return pos;
}

static void walk_fini(void *obj, void *ts) { (void)obj; free(ts); }

static unsigned walk_next(void *ts)
{
    uint64_t *pos = ts;
    return (unsigned)((*pos += 2654435761u) % MAPN);
}

static int map_bad(const bigmap *m, unsigned i) { return m->b[i] != (m->a[i] ^ K); }

static int cow_read(void *obj, void *ts)
{
    const bigmap *m = lfp_snap_enter(obj);
    int bad = map_bad(m, walk_next(ts));
    return lfp_snap_leave(obj) | bad;
}

static int cow_copy(const void *cur, void **next, void *arg)
{
    uint64_t value = *(const uint64_t *)arg;
    bigmap *m = malloc(sizeof *m);
    if (!m)
        return ENOMEM;
    memcpy(m, cur, sizeof *m);
    unsigned j = (unsigned)(value % MAPN);
    m->a[j] = value;
    m->b[j] = value ^ K;
    *next = m;
    return 0;
}

static int cow_write(void *obj, void *ts, uint64_t value)
{
    (void)ts;
    return lfp_snap_update(obj, cow_copy, &value, LFP_FOREVER, NULL);
}

static int rw_read(void *obj, void *ts)
{
    (void)obj;
    pthread_rwlock_rdlock(&map_lock);
    int bad = map_bad(&rw_map, walk_next(ts));
    pthread_rwlock_unlock(&map_lock);
    return bad;
}

static int rw_write(void *obj, void *ts, uint64_t value)
{
    (void)obj, (void)ts;
    unsigned j = (unsigned)(value % MAPN);
    pthread_rwlock_wrlock(&map_lock);
    rw_map.a[j] = value;
    rw_map.b[j] = value ^ K;
    pthread_rwlock_unlock(&map_lock);
    return 0;
}

static rm_impl impl_cow4096 = { .name = "lfp_snap_cow4096", .obj = &snap_map,
                                .thread_init = walk_init, .thread_fini = walk_fini,
                                .read = cow_read, .write = cow_write };
static rm_impl impl_rw4096 = { .name = "pthread_rwlock_inplace4096", .thread_init = walk_init,
                               .thread_fini = walk_fini, .read = rw_read, .write = rw_write };

static rm_impl impl_snap = { .name = "lfp_snap", .obj = &snap, .read = snap_read,
                             .write = snap_write };
static rm_impl impl_snap_async = { .name = "lfp_snap_async", .obj = &snap_async,
                                   .read = snap_read, .write = snap_write_async };
static rm_impl impl_snap_qsbr = { .name = "lfp_snap_qsbr", .obj = &snap,
                                  .thread_init = snap_qsbr_init, .thread_fini = snap_qsbr_fini,
                                  .read = snap_qsbr_read, .write = snap_qsbr_write,
                                  .idle = snap_qsbr_idle };
static rm_impl impl_locked = { .name = "lfp_locked_snap", .obj = &locked, .read = locked_read,
                               .write = locked_write };
static rm_impl impl_memb = { .name = "urcu_memb", .thread_init = memb_init,
                             .thread_fini = memb_fini, .read = memb_read, .write = memb_write };
static rm_impl impl_qsbr = { .name = "urcu_qsbr", .thread_init = qsbr_init,
                             .thread_fini = qsbr_fini, .read = qsbr_read, .write = qsbr_write,
                             .idle = qsbr_idle };
static rm_impl impl_bare = { .name = "atomic_ptr", .read = bare_read, .write = bare_write };

LFPB_REGISTER(snap)
{
    for (int i = 0; i < 2; i++)
        for (int w = 0; w < 4; w++)
            bare_v[i].w[w] = (uint64_t)i ^ (K * (uint64_t)(w + 1));
    atomic_store(&bare, &bare_v[0]);
    if (lfp_snap_init(&snap, make(0), free_version, NULL) ||
        lfp_snap_init(&snap_async, make(0), free_version, NULL) ||
        lfp_locked_snap_init(&locked, make(0), free_version, NULL))
        abort();
    urcu_ptr = make(0);
    bigmap *m0 = malloc(sizeof *m0);
    if (!m0 || lfp_snap_init(&snap_map, m0, free_version, NULL))
        abort();
    for (unsigned i = 0; i < MAPN; i++) {
        m0->a[i] = rw_map.a[i] = i;
        m0->b[i] = rw_map.b[i] = i ^ K;
    }
    static const int threads[] = { 1, 2 };
    for (unsigned i = 0; i < sizeof threads / sizeof threads[0]; i++) {
        lfpb_register("snap/read_cost/atomic_ptr", rc_bare, NULL, threads[i]);
        lfpb_register("snap/read_cost/lfp_snap", rc_snap, NULL, threads[i]);
        lfpb_register("snap/read_cost/urcu_memb", rc_memb, NULL, threads[i]);
        lfpb_register("snap/read_cost/urcu_qsbr", rc_qsbr, NULL, threads[i]);
        lfpb_register("snap/read_cost/lfp_locked_snap", rc_locked, NULL, threads[i]);
        lfpb_register("snap/read_cost/lfp_snap_qsbr_q1", rc_snap_qsbr, (void *)1, threads[i]);
        lfpb_register("snap/read_cost/lfp_snap_qsbr_q16", rc_snap_qsbr, (void *)16, threads[i]);
        lfpb_register("snap/read_cost/lfp_snap_qsbr_q1024", rc_snap_qsbr, (void *)1024, threads[i]);
        lfpb_register("snap/read_cost/lfp_snap_qsbr_qinf", rc_snap_qsbr, (void *)0, threads[i]);
        lfpb_register("snap/read_cost/urcu_qsbr_q1", rc_urcu_qsbr_q, (void *)1, threads[i]);
        lfpb_register("snap/read_cost/urcu_qsbr_q16", rc_urcu_qsbr_q, (void *)16, threads[i]);
        lfpb_register("snap/read_cost/urcu_qsbr_q1024", rc_urcu_qsbr_q, (void *)1024, threads[i]);
    }
    rm_register_grid("snap", &impl_bare);
    rm_register_grid("snap", &impl_snap);
    rm_register_grid("snap", &impl_snap_async);
    rm_register_grid("snap", &impl_snap_qsbr);
    rm_register_grid("snap", &impl_memb);
    rm_register_grid("snap", &impl_qsbr);
    rm_register_grid("snap", &impl_locked);
    rm_register_grid("snap", &impl_cow4096);
    rm_register_grid("snap", &impl_rw4096);
}
