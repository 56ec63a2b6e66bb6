/* SPDX-License-Identifier: BSD-2-Clause */
/* lfpat/snap.h — RCU-style publication of an immutable version with safe
 * reclamation (Go's atomic.Pointer plus the guarantee that an old version is
 * freed only after every reader that could see it has finished).
 *
 * A snap holds one pointer to the current version of some immutable data
 * (a config, a map, a subscriber array). Readers open a read section, read
 * the version and use it, and close the section:
 *
 *     const struct config *c = lfp_snap_enter(&snap);
 *     use(c);                       // c stays valid until the leave
 *     lfp_snap_leave(&snap);
 *
 * Writers publish a new version; the old one is handed to the snap's free
 * function (free_fn(old, arg)) once every read section that could have seen
 * it has ended (a grace period). lfp_snap_publish waits for that (with a
 * deadline and a cancel token); lfp_snap_publish_async does not wait and
 * leaves the old version for a later publish or lfp_snap_reclaim;
 * lfp_snap_update is the copy-on-write loop (copy the current version,
 * change the copy, publish it unless another writer came first).
 *
 * Read side: wait-free, no read-modify-write, no fence, and no shared cache
 * line written: every thread has a reader cell on its own line, written only
 * by that thread (as liburcu's memb flavour, whose design this follows). An
 * outermost enter is a load of the grace-period number, a store of it into
 * the own cell, a compiler barrier and the load of the version; leave stores
 * 0 into the cell and reads one shared, rarely written word (are writers
 * waiting?). Nested sections only count. The writer pays for the store-load
 * order with membarrier(2) (MEMBARRIER_CMD_PRIVATE_EXPEDITED); on a kernel
 * without it the reader's entry issues a seq_cst fence instead.
 *
 * Grace-period domain: one per process, shared by every lfp_snap (as
 * liburcu's). A writer waits for the read sections of every snap that began
 * before its publish, not only its own snap's: correct, only possibly longer.
 *
 * Why it is safe (the grace-period argument). Publish does
 *     W1 old = exchange(cur, new)         seq_cst
 *     W2 t = fetch_add(gp, 1) + 1         seq_cst (t = this publish's number)
 *     W3 membarrier()                     (full barrier on every CPU running us)
 *     W4 scan every cell: wait until its g (word >> 16) is 0 or >= t (acquire)
 *     W5 free_fn(old)
 * and an outermost enter does
 *     R1 g = load(gp)                     acquire
 *     R2 store(cell, g << 16 | 1)         release   (depth 1; nesting only counts)
 *     R3 compiler barrier
 *     R4 p = load(cur)                    acquire
 *     ... uses p ...
 *     R5 store(cell, 0)                   release   (leave)
 * Claim: if R4 returns old, W4 waits for this section's R5. membarrier makes
 * every CPU running a thread of the process execute a full memory barrier
 * between W2 and W4, cutting the reader's instruction stream at a point P.
 * (a) R4 after P: everything before W3 in the writer (W1) is visible to
 *     loads after P, so R4 reads new or newer — not old.
 * (b) R4 before P: R2 is before R4 in program order (R3 keeps the compiler
 *     from moving it), hence before P, hence visible to W4's loads after W3:
 *     W4 reads g (or a later value of the cell). g < t, because g = t' >= t
 *     would mean R1 read the value W2 (or a later bump) wrote; R1 is an
 *     acquire reading from the release sequence of W2's RMW, so W1, which
 *     precedes W2, happens-before R4, and R4 could not return old. So W4
 *     sees a cell in (0, t) and waits until the cell changes; the next value
 *     this thread writes is R5's 0 (or, after it, a new entry's g): a release
 *     store sequenced after every use of p, read by W4's acquire load, so
 *     every use of old happens-before W5. TSan sees this edge.
 * A reader that entered after the exchange reads the new version, so it is
 * neither waited for (once its cell shows g >= t) nor at risk; a section that
 * began before and is still open delays W5 (for ever if it never ends: the
 * deadline bounds the writer, and the old version waits in the snap's retire
 * list, never freed early, never leaked). gp is 64 bits: it does not wrap.
 * Without membarrier no thread gets a cell: every reader counts itself in
 * one shared counter (seq_cst fetch_add / fetch_sub) and loads cur seq_cst,
 * and the writer loads the counter seq_cst after its seq_cst exchange: the
 * store-buffering shape with all four accesses seq_cst, which C11's single
 * total order forbids from missing both ways. Correct, but readers then
 * share a line (old kernels only; lfp_snap_stats does not tell).
 * Litmus: stress/litmus/litmus_lib_snap.c (with a control without the
 * membarrier, which fires); model: stress/models/snap.pml (with controls
 * that drop the barrier or reorder the entry store); differential oracle:
 * stress/stress_snap_oracle.c (the reclamation spec, checked on lfp_snap,
 * the twin and liburcu memb, with controls it must reject).
 *
 * Waiting writers: the writer scans cells with bounded spinning, then parks
 * on the domain's eventcount (asymmetric, eventcount.h) with its deadline and
 * token. An outermost leave stores 0 and then notifies that eventcount: a
 * compiler barrier and a load of its waiter count, a futex wake only when a
 * writer is parked. No writer stays parked while its condition holds: the
 * writer increments the waiter count and issues membarrier before it
 * re-scans; a leave's 0 store is either visible to that re-scan or its load
 * of the waiter count comes after the barrier and sees the writer (the
 * asymmetric SB shape litmus_lib_eventcount.c tests).
 *
 * Threads: a thread's cell is taken on its first read section (a mutex, once
 * per thread; the cell follows lfp_thread_slot and is reused by the next
 * thread with that slot). Threads beyond the 65536 dense slots, threads
 * whose cell could not be allocated, and every thread when the kernel lacks
 * membarrier use the shared reader count instead (a seq_cst read-modify-
 * write per outermost enter and leave: lock-free, still correct; a writer
 * then also waits for such sections that began after its publish). A thread
 * must not exit inside a read section, nor open one from a thread-exit
 * destructor that runs after lfpat's slot destructor.
 *
 * Progress: enter, get and leave are wait-free (after a thread's first
 * section). publish and update block (bounded by deadline and token) until a
 * grace period ends; publish_async is wait-free apart from one malloc and a
 * short mutex section; reclaim never waits for readers.
 * Ordering: a publish happens-before every enter or get that returns its
 * version (release exchange, acquire load). Every use of a version inside a
 * read section happens-before free_fn is called on it.
 *
 * Copying: an lfp_snap must not be copied or moved after init (it holds a
 * pthread mutex). Use it where it was initialised, through pointers.
 *
 * Fork: a child of fork may use a snap that no parent thread was inside (in a
 * read section or a call) when fork() was called. A parent thread's open read
 * section is copied into the child without its thread: a publish in the child
 * then waits for it until its deadline (the old version stays pending).
 */
#ifndef LFPAT_SNAP_H
#define LFPAT_SNAP_H

#include <pthread.h>

#include "lfpat/cancel.h"
#include "lfpat/internal/snap.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Frees a version that no reader can see any more (called by publish,
 * update, reclaim or destroy, in the calling thread, without any lfpat lock
 * held). Never called with NULL. */
typedef void (*lfp_snap_free_fn)(void *version, void *arg);

/* The copy step of lfp_snap_update: given the current version (maybe NULL),
 * build the next one into *next (NULL is a valid version) and return 0, or
 * return non-zero to abort the update with that code. Runs inside a read
 * section: it must not publish or update (EDEADLK). */
typedef int (*lfp_snap_copy_fn)(const void *cur, void **next, void *arg);

typedef struct lfp_snap_retired_ lfp_snap_retired_;   /* src/snap.c */

typedef struct lfp_snap {
    alignas(LFP_CACHELINE) _Atomic(void *) cur;  /* the current version */
    lfp_snap_free_fn free_fn;                    /* constant after init */
    void *free_arg;
    alignas(LFP_CACHELINE) pthread_mutex_t lock; /* guards retired (writers only) */
    lfp_snap_retired_ *retired;                  /* old versions waiting for readers */
    _Atomic(uint64_t) published;                 /* statistics, relaxed */
    _Atomic(uint64_t) freed;
    _Atomic(uint64_t) pending;
    _Atomic(uint64_t) timeouts;
} lfp_snap;

struct lfp_snap_stats {
    uint64_t published;   /* versions published (publish, async, update) */
    uint64_t freed;       /* old versions handed to free_fn (destroy included) */
    uint64_t pending;     /* old versions waiting for a grace period */
    uint64_t timeouts;    /* publish/update calls that ended by deadline or token */
};

/* Initialise s with the version `initial` (NULL is a valid version) and the
 * function that frees retired versions (arg is passed to it).
 * Returns 0; EINVAL if s or free_fn is NULL; an errno from pthread_mutex_init.
 * Progress: blocking (the first call in a process registers membarrier). */
LFP_API int lfp_snap_init(lfp_snap *s, void *initial, lfp_snap_free_fn free_fn, void *arg);

/* Free the current version and every pending one (free_fn, non-NULL only).
 * Call only when no thread is in a read section that reads s, and none calls
 * into s any more. NULL is ignored.
 * Progress: blocking (mutex). */
LFP_API void lfp_snap_destroy(lfp_snap *s);

/* Open a read section and return the current version. The returned pointer
 * (and every version lfp_snap_get returns inside the section) stays valid
 * until the matching lfp_snap_leave. Sections nest (each enter needs its
 * leave) up to 65535 deep; a thread's sections on different snaps nest with
 * each other. Returns NULL without entering if s is NULL or the nesting is
 * too deep.
 * Progress: wait-free (the thread's first section takes a mutex once).
 * Ordering: the publish of the returned version happens-before this returns. */
static inline void *lfp_snap_enter(lfp_snap *s)
{
    lfp_snap_cell_ *c = lfp_snap_self_;
    if (LFP_UNLIKELY(c == NULL || s == NULL))
        return lfp_snap_enter_slow_(s);
    /* relaxed: the cell is written only by this thread. */
    uint64_t w = atomic_load_explicit(&c->word, memory_order_relaxed);
    if (LFP_LIKELY(w == 0))
        lfp_snap_mark_(c);
    else if (LFP_UNLIKELY((w & LFP_SNAP_NEST_MAX_) == LFP_SNAP_NEST_MAX_))
        return lfp_snap_enter_slow_(s);   /* too deep: NULL, not entered */
    else   /* relaxed: nesting keeps g; only the owner reads the depth */
        atomic_store_explicit(&c->word, w + 1, memory_order_relaxed);
    LFP_TEST_HOOK("snap.enter");   /* preempted between R2 and R4 */
    /* acquire: pairs with the seq_cst exchange/CAS in lfp_snap_publish*,
     * lfp_snap_update; publishes the version's contents. */
    return atomic_load_explicit(&s->cur, memory_order_acquire);
}

/* Return the current version; call only inside a read section (the result
 * is valid until the section ends). NULL if s is NULL.
 * Progress: wait-free. Ordering: as lfp_snap_enter. */
static inline void *lfp_snap_get(lfp_snap *s)
{
    if (LFP_UNLIKELY(s == NULL))
        return NULL;
    /* acquire: as in lfp_snap_enter. */
    return atomic_load_explicit(&s->cur, memory_order_acquire);
}

/* Close the innermost read section of the calling thread.
 * Returns 0; EPERM if the thread is in no read section; EINVAL if s is NULL.
 * Progress: wait-free (one futex wake if a writer is parked).
 * Ordering: every use of a version inside the section happens-before the
 * free of that version. */
static inline int lfp_snap_leave(lfp_snap *s)
{
    lfp_snap_cell_ *c = lfp_snap_self_;
    if (LFP_UNLIKELY(c == NULL || s == NULL))
        return lfp_snap_leave_slow_(s);
    /* relaxed: the cell is written only by this thread. */
    uint64_t w = atomic_load_explicit(&c->word, memory_order_relaxed);
    if (LFP_LIKELY((w & LFP_SNAP_NEST_MAX_) == 1))
        lfp_snap_unmark_(c);
    else if (LFP_UNLIKELY(w == 0))
        return EPERM;
    else   /* relaxed: as in lfp_snap_enter */
        atomic_store_explicit(&c->word, w - 1, memory_order_relaxed);
    return 0;
}

/* Publish `next` (NULL is a valid version) and wait, until `deadline`
 * (CLOCK_MONOTONIC ns, LFP_FOREVER for none) or until `cancel` fires (NULL
 * for none), for every read section that could see the old version to end;
 * then free the old version, and every version that earlier publishes of s
 * left pending and that this grace period covers.
 * Returns 0 (old version freed: free_fn ran in this call and returned);
 * ETIMEDOUT or ECANCELED: next IS published,
 * the old version stays pending and a later publish, update or
 * lfp_snap_reclaim frees it (never early); EDEADLK if the calling thread is
 * inside a read section (of any snap: it would wait for itself) — nothing
 * published; ENOMEM (nothing published); EINVAL if s is NULL.
 * Concurrent publishers are allowed: each frees the version it replaced.
 * Progress: blocking (spins briefly, then parks; one membarrier per call).
 * Ordering: the publish happens-before every enter/get that returns next. */
LFP_API int lfp_snap_publish(lfp_snap *s, void *next, int64_t deadline, lfp_cancel *cancel);

/* Publish `next` without waiting (call_rcu's role): the old version becomes
 * pending and is freed by a later publish, update or lfp_snap_reclaim of s
 * once its grace period has ended (or by destroy). Allowed inside a read
 * section. Pending versions accumulate until one of those calls runs.
 * Returns 0; ENOMEM (nothing published); EINVAL if s is NULL.
 * Progress: wait-free apart from one malloc and a short mutex section. */
LFP_API int lfp_snap_publish_async(lfp_snap *s, void *next);

/* Copy-on-write update: in a read section, read the current version cur,
 * call fn(cur, &next, arg), and publish next only if cur is still current
 * (compare-and-swap inside the section, so cur cannot have been freed and
 * reused meanwhile); if another writer came first, free next (free_fn: it
 * was never visible) and repeat with the newer version. Then wait for the
 * grace period as lfp_snap_publish does and free cur.
 * Returns 0; fn's non-zero result (nothing published, fn must free what it
 * built); ETIMEDOUT / ECANCELED as lfp_snap_publish (published, cur pending);
 * EDEADLK inside a read section; ENOMEM; EINVAL if s or fn is NULL.
 * Progress: lock-free loop (a retry means another publish succeeded), then
 * blocking as lfp_snap_publish. */
LFP_API int lfp_snap_update(lfp_snap *s, lfp_snap_copy_fn fn, void *arg, int64_t deadline,
                            lfp_cancel *cancel);

/* Free every pending version of s whose grace period has ended, without
 * waiting for readers (one membarrier if anything is pending). A version
 * that a publish or update is still waiting for is left to that call (it
 * frees it before it returns 0).
 * Returns 0 if nothing is pending any more, EAGAIN if some version still
 * waits for a read section or a waiting publish; EINVAL if s is NULL.
 * Progress: blocking (mutex), never waits for readers. */
LFP_API int lfp_snap_reclaim(lfp_snap *s);

/* Relaxed snapshot of the counters (each exact, not mutually atomic).
 * NULL s or st is ignored. Progress: wait-free. */
LFP_API void lfp_snap_stats(const lfp_snap *s, struct lfp_snap_stats *st);

#ifdef __cplusplus
}
#endif
#endif
