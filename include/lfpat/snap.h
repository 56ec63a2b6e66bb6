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
 * without it readers count themselves in a shared word instead (below).
 *
 * Quiescent-state flavour (opt-in, per thread; liburcu's qsbr): a thread
 * goes online once (lfp_snap_online), reads with lfp_snap_get alone — one
 * acquire load, the same instruction as a bare pointer load — and reports
 * between reads that it holds nothing any more (lfp_snap_quiescent: a load
 * and a compare while no publish came, one store otherwise), then goes
 * offline (lfp_snap_offline). Online is a read section of the whole domain;
 * the writer side is the same for both flavours and they mix freely.
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
 * The quiescent step (lfp_snap_quiescent, online at depth 1) is a leave and
 * an outermost enter fused into one store:
 *     Q1 g2 = load(gp)                    acquire   (R1 of the next section)
 *     Q2 store(cell, g2 << 16 | 1)        release   (R5 of this one, R2 of the next)
 *     Q3 compiler barrier                           (R3; the gets after it are R4)
 * skipped when the cell already holds that word: no publish bumped gp since
 * the mark, and a writer waiting for this cell has t > g, which only a store
 * of some g2 >= t can satisfy. Why skipping the leave's 0 is safe: take a
 * get before Q2 that returned old. The thread's latest mark before that get
 * (its online R2 or an earlier Q2) plays R2 in case (b): W4 sees a g < t and
 * waits until the cell changes. Every later value is a Q2 or the offline's
 * R5, a release store sequenced after every use of what the thread read
 * before it (the contract: nothing read before a report is used after it).
 * If W4 reads a g2 < t it keeps waiting, as it would for a section that
 * began before the publish; if it reads a g2 >= t (or 0), its acquire load
 * synchronises with that store, so every use of old happens-before W5, as
 * with R5's 0. A get after Q2 is R4 of a section whose R1..R3 are Q1..Q3:
 * cases (a) and (b) as written. Passed cells stay passed (a cell's g only
 * grows while it is non-zero). Liveness: an online thread that keeps
 * reporting reads gp >= t within finite time (C11 asks that a store become
 * visible to loads in finite time) and then stores it.
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
 * asymmetric SB shape litmus_lib_eventcount.c tests). A quiescent report
 * that stores (Q2) does the same after its store — compiler barrier, load
 * of the waiter count, wake — the same SB shape; one that skips its store
 * changed no cell a writer waits on, so it owes no wake.
 *
 * Threads: a thread's cell is taken on its first read section (a mutex, once
 * per thread; the cell follows lfp_thread_slot and is reused by the next
 * thread with that slot). Threads beyond the 65536 dense slots, threads
 * whose cell could not be allocated, and every thread when the kernel lacks
 * membarrier use the shared reader count instead (a seq_cst read-modify-
 * write per outermost enter and leave: lock-free, still correct; a writer
 * then also waits for such sections that began after its publish). Such a
 * thread's quiescent report is a leave and an enter on that count, so while
 * some of them stay online a writer sees the count reach 0 only if all of
 * them report at once, and may wait until its deadline: the quiescent
 * flavour needs cells to help writers. A thread must not exit inside a read
 * section or online, nor open one from a thread-exit destructor that runs
 * after lfpat's slot destructor.
 *
 * Progress: enter, get, leave, online, offline and quiescent are wait-free
 * (after a thread's first section). publish and update block (bounded by deadline and token) until a
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
    if (LFP_UNLIKELY(c == NULL || s == NULL || lfp_snap_open_(c) != 0))
        return lfp_snap_enter_slow_(s);   /* also too deep: NULL, not entered */
    LFP_TEST_HOOK("snap.enter");   /* preempted between R2 and R4 */
    /* acquire: pairs with the seq_cst exchange/CAS in lfp_snap_publish*,
     * lfp_snap_update; publishes the version's contents. */
    return atomic_load_explicit(&s->cur, memory_order_acquire);
}

/* Return the current version; call only inside a read section (the result
 * is valid until the section ends) or while online (valid until the
 * thread's next lfp_snap_quiescent or lfp_snap_offline). NULL if s is NULL.
 * Progress: wait-free (one acquire load). Ordering: as lfp_snap_enter. */
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
    return lfp_snap_close_(c);
}

/* The quiescent-state flavour (liburcu's qsbr). A thread that reads often
 * can stay online — inside one open-ended read section of the domain, tied
 * to no snap — read with lfp_snap_get alone (one acquire load; nothing is
 * marked per read) and report now and then that it holds no version of any
 * snap any more:
 *
 *     lfp_snap_online();
 *     while (next_request(&rq)) {
 *         const struct config *c = lfp_snap_get(&snap);
 *         handle(&rq, c);            // c stays valid until the next report
 *         if (++n % 16 == 0)
 *             lfp_snap_quiescent();  // drops every version read so far
 *     }
 *     lfp_snap_offline();
 *
 * A grace period waits for every online thread to report or go offline: a
 * thread that stays online without reporting delays every synchronous
 * publish (up to its deadline) as a read section that never ends does. Go
 * offline before anything that blocks for long (I/O, a sleep, a lock) and
 * before the thread exits; publish from an online thread only with
 * lfp_snap_publish_async, or go offline first (EDEADLK otherwise). */

/* Bring the calling thread online: open a read section of the domain that
 * ends at lfp_snap_offline. Versions lfp_snap_get returns after it stay
 * valid until the thread's next lfp_snap_quiescent or lfp_snap_offline.
 * Nests with read sections: online inside a section, or enter/leave while
 * online, count one level more (each needs its offline/leave).
 * Returns 0; EOVERFLOW if the nesting is already 65535 deep (not online).
 * Progress: wait-free (the thread's first section takes a mutex once).
 * Ordering: as lfp_snap_enter for the versions read after it. */
static inline int lfp_snap_online(void)
{
    lfp_snap_cell_ *c = lfp_snap_self_;
    if (LFP_UNLIKELY(c == NULL))
        return lfp_snap_online_slow_();
    return lfp_snap_open_(c);
}

/* Take the calling thread offline: close its innermost read section, as
 * lfp_snap_leave does (online and offline are enter and leave without a
 * version). The thread may hold no version read before it.
 * Returns 0; EPERM if the thread is in no read section.
 * Progress: wait-free (one futex wake if a writer is parked).
 * Ordering: every use of a version before it happens-before the free of
 * that version. */
static inline int lfp_snap_offline(void)
{
    lfp_snap_cell_ *c = lfp_snap_self_;
    if (LFP_UNLIKELY(c == NULL))
        return lfp_snap_offline_slow_();
    return lfp_snap_close_(c);
}

/* Report a quiescent state: the calling thread, online, holds no version of
 * any snap read before this call, and stays online. Grace periods waiting
 * for it can end; versions read after it are valid until the next report.
 * A load and a compare when no publish came since the thread's last mark;
 * else one store, and a futex wake if a writer is parked.
 * Returns 0; EBUSY if a nested section is open (an lfp_snap_enter or a
 * second lfp_snap_online: its versions are still held; nothing reported);
 * EPERM if the thread is in no read section (not online).
 * Progress: wait-free.
 * Ordering: every use of a version before it happens-before the free of
 * that version; as lfp_snap_enter for the versions read after it. */
static inline int lfp_snap_quiescent(void)
{
    lfp_snap_cell_ *c = lfp_snap_self_;
    if (LFP_UNLIKELY(c == NULL))
        return lfp_snap_quiescent_slow_();
    return lfp_snap_remark_(c);
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
 * inside a read section (of any snap: it would wait for itself) or online
 * (unlike liburcu's qsbr, which goes offline for the wait: lfp_snap cannot
 * tell an online mark from an open section) — nothing published; ENOMEM
 * (nothing published); EINVAL if s is NULL.
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
