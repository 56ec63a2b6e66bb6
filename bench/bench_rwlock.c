/* SPDX-License-Identifier: BSD-2-Clause */
/* Reader-writer lock benchmarks (issue 18) on the read-mostly mixer,
 * bench/readmostly.h (its header lists the cases and counters): lfp_rwlock
 * against its twin lfp_locked_rwlock and the peers pthread_rwlock (glibc's
 * default, reader-preferring, and PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP),
 * ck_rwlock (one reader counter, writer-preferring, pure spin), ck_brlock
 * (per-thread registered reader records, pure spin) and ck_bytelock (a byte
 * per slotted reader, pure spin). Every lock guards the same payload: four
 * words that each write sets to one value; a read checks they are equal
 * (a torn payload fails the case). Each lock and payload has its own lines.
 * The ck locks spin without bound: oversubscribed (4 threads on 2 cores)
 * with writers their numbers measure the scheduler as much as the lock. */
#include <ck_brlock.h>
#include <ck_bytelock.h>
#include <ck_rwlock.h>
#include <pthread.h>
#include <stdlib.h>

#include "lfpat.h"
#include "readmostly.h"

#define WORDS 4
#define LINE alignas(LFP_CACHELINE)

typedef struct payload {
    LINE uint64_t w[WORDS];
} payload;

static inline int check(const payload *p)
{
    int bad = 0;
    for (int i = 1; i < WORDS; i++)
        bad |= p->w[i] != p->w[0];
    return bad;
}

static inline void fill(payload *p, uint64_t v)
{
    for (int i = 0; i < WORDS; i++)
        p->w[i] = v;
}

/* One implementation: lock type L, its read/write lock/unlock statements on
 * `l` (the lock) and `ts` (per-thread state). */
#define RW_IMPL(tag, L, rlock, runlock, wlock, wunlock)                          \
    static struct { LINE L lock; payload data; } tag##_obj;                      \
    static int tag##_read(void *obj, void *ts)                                   \
    {                                                                            \
        (void)ts;                                                                \
        L *l = &((__typeof__(tag##_obj) *)obj)->lock;                            \
        (void)l;                                                                 \
        rlock;                                                                   \
        int bad = check(&tag##_obj.data);                                        \
        runlock;                                                                 \
        return bad;                                                              \
    }                                                                            \
    static int tag##_write(void *obj, void *ts, uint64_t v)                      \
    {                                                                            \
        (void)ts;                                                                \
        L *l = &((__typeof__(tag##_obj) *)obj)->lock;                            \
        (void)l;                                                                 \
        wlock;                                                                   \
        fill(&tag##_obj.data, v);                                                \
        wunlock;                                                                 \
        return 0;                                                                \
    }

static int lfp_ok(int rc)
{
    if (rc != 0)
        abort();   /* FOREVER, no token: a failure is a bug */
    return rc;
}

RW_IMPL(lfp, lfp_rwlock, lfp_ok(lfp_rwlock_rdlock(l, LFP_FOREVER, NULL)),
        lfp_ok(lfp_rwlock_rdunlock(l)), lfp_ok(lfp_rwlock_wrlock(l, LFP_FOREVER, NULL)),
        lfp_ok(lfp_rwlock_wrunlock(l)))
RW_IMPL(twin, lfp_locked_rwlock, lfp_ok(lfp_locked_rwlock_rdlock(l, LFP_FOREVER, NULL)),
        lfp_ok(lfp_locked_rwlock_rdunlock(l)),
        lfp_ok(lfp_locked_rwlock_wrlock(l, LFP_FOREVER, NULL)),
        lfp_ok(lfp_locked_rwlock_wrunlock(l)))
RW_IMPL(prw, pthread_rwlock_t, pthread_rwlock_rdlock(l), pthread_rwlock_unlock(l),
        pthread_rwlock_wrlock(l), pthread_rwlock_unlock(l))
RW_IMPL(prww, pthread_rwlock_t, pthread_rwlock_rdlock(l), pthread_rwlock_unlock(l),
        pthread_rwlock_wrlock(l), pthread_rwlock_unlock(l))
RW_IMPL(ckrw, ck_rwlock_t, ck_rwlock_read_lock(l), ck_rwlock_read_unlock(l),
        ck_rwlock_write_lock(l), ck_rwlock_write_unlock(l))
RW_IMPL(ckbr, ck_brlock_t, ck_brlock_read_lock(l, ts), ck_brlock_read_unlock(ts),
        ck_brlock_write_lock(l), ck_brlock_write_unlock(l))
/* ck_bytelock's slots are 1-based; ts carries the thread's slot. */
RW_IMPL(ckby, ck_bytelock_t, ck_bytelock_read_lock(l, (unsigned)(uintptr_t)ts),
        ck_bytelock_read_unlock(l, (unsigned)(uintptr_t)ts),
        ck_bytelock_write_lock(l, (unsigned)(uintptr_t)ts), ck_bytelock_write_unlock(l))

/* ck_brlock: a registered reader record per thread. */
static void *ckbr_enter(void *obj, int idx)
{
    (void)idx;
    struct ck_brlock_reader *r = aligned_alloc(LFP_CACHELINE, LFP_CACHELINE);
    if (!r)
        abort();
    ck_brlock_read_register(&((__typeof__(ckbr_obj) *)obj)->lock, r);
    return r;
}

static void ckbr_leave(void *obj, void *ts)
{
    ck_brlock_read_unregister(&((__typeof__(ckbr_obj) *)obj)->lock, ts);
    free(ts);
}

static void *ckby_enter(void *obj, int idx)
{
    (void)obj;
    return (void *)(uintptr_t)(idx + 1);
}

static rm_impl impls[] = {
    { .name = "lfp_rwlock", .obj = &lfp_obj, .read = lfp_read, .write = lfp_write },
    { .name = "lfp_locked_rwlock", .obj = &twin_obj, .read = twin_read, .write = twin_write },
    { .name = "pthread_rwlock", .obj = &prw_obj, .read = prw_read, .write = prw_write },
    { .name = "pthread_rwlock_wpref", .obj = &prww_obj, .read = prww_read,
      .write = prww_write },
    { .name = "ck_rwlock", .obj = &ckrw_obj, .read = ckrw_read, .write = ckrw_write },
    { .name = "ck_brlock", .obj = &ckbr_obj, .thread_init = ckbr_enter,
      .thread_fini = ckbr_leave, .read = ckbr_read, .write = ckbr_write },
    { .name = "ck_bytelock", .obj = &ckby_obj, .thread_init = ckby_enter,
      .read = ckby_read, .write = ckby_write },
};

LFPB_REGISTER(rwlock)
{
    lfp_rwlock_init(&lfp_obj.lock);
    lfp_locked_rwlock_init(&twin_obj.lock);
    pthread_rwlock_init(&prw_obj.lock, NULL);
    pthread_rwlockattr_t attr;
    pthread_rwlockattr_init(&attr);
    pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    pthread_rwlock_init(&prww_obj.lock, &attr);
    pthread_rwlockattr_destroy(&attr);
    ck_rwlock_init(&ckrw_obj.lock);
    ck_brlock_init(&ckbr_obj.lock);
    ck_bytelock_init(&ckby_obj.lock);
    for (size_t i = 0; i < sizeof impls / sizeof impls[0]; i++)
        rm_register_grid("rwlock", &impls[i]);
}
