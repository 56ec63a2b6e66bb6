/* SPDX-License-Identifier: BSD-2-Clause */
/* lfpat/rwlock.h — lfp_rwlock: a reader-scalable, writer-preferring
 * reader-writer lock with deadlines, cancellation and downgrade.
 *
 * Go's sync.RWMutex semantics (a writer that waits blocks new readers) with a
 * read side that writes no shared cache line while there are no writers:
 * BRAVO (Dice & Kogan, "BRAVO — Biased Locking for Reader-Writer Locks",
 * USENIX ATC 2019) over a writer-preferring lock word. Read it as ck_brlock
 * (per-thread reader records a writer scans) that needs no registration, or
 * as folly::SharedMutex's deferred readers.
 *
 * ------------------------------------------------------------ the two paths
 * Visible readers: a process-wide table of LFP_RW_VR_LINES cache lines of 8
 * pointer cells. The thread holding dense slot s (lfp_thread_slot) owns line
 * s; inside it, lock L uses cell hash(L) % 8. Only the owner writes its line
 * (threads with s >= LFP_RW_VR_LINES always take the slow path), so two
 * readers never share a written line. A writer scans only the lines of
 * slots that have taken the fast path (a count that only grows, raised with
 * seq_cst before a thread's first cell store; lfp_rw_vr_claim_ in
 * src/rwlock.c argues why a scan that stops short cannot miss a reader).
 * State word (one 64-bit atomic, lfp_rwlock.state):
 *     RBIAS    readers may take the fast path
 *     REVOKE   the bias was cleared and no writer has yet seen the table drain
 *     WRITER   a writer holds the lock
 *     WW       writers waiting (16 bits)      R  slow-path readers (32 bits)
 * Fast read (inline, lfp_rwlock_rdlock): if RBIAS, CAS my cell NULL -> L,
 *     then re-load the state: RBIAS still set -> inside. Otherwise clear the
 *     cell (and, if REVOKE, notify the drain eventcount) and take the slow
 *     path. Unlock: store NULL to the cell, then if REVOKE notify drain.
 * Slow read: one fetch-add R+1, as ck_rwlock's reader does. If the word it
 *     replaced shows WRITER or WW > 0 (or 2^31 - 1 readers), the reader did
 *     not enter: it undoes (fetch-sub R-1), notifies the writers'
 *     eventcount if the undo left R == 0 with WW > 0 and !WRITER, and waits
 *     on the readers' eventcount; while waiting it re-checks by loading the
 *     word first and adds only when it shows neither WRITER nor WW. Having
 *     entered, a reader re-enables RBIAS (CAS, still !WRITER && WW == 0)
 *     once lfp_now() passed `inhibit_until`. So R counts the slow holds
 *     plus the readers between an add and its undo (one per thread at most).
 * Write: CAS WRITER when !WRITER && R == 0, else register WW+1 and wait on the
 *     writers' eventcount, CASing WW-1 + WRITER when it can. Every CAS that
 *     sets WRITER or WW also clears RBIAS, setting REVOKE if RBIAS was set.
 *     Holding WRITER with REVOKE set, the writer scans the table and waits
 *     (drain eventcount) for every cell holding L to clear, then clears
 *     REVOKE and sets inhibit_until = now + 9 x (the scan's duration), as
 *     BRAVO does: the bias is off for at most ~1/10 of the time.
 *
 * ------------------------------------------------------------ the argument
 * Mutual exclusion. A slow reader and a writer exclude each other through
 * the state word, whose RMWs are totally ordered: a writer's CAS sets WRITER
 * only on a word with R == 0, and a reader enters only if its fetch-add
 * replaced a word without WRITER (nor WW). If the reader's add comes first,
 * R > 0 until its unlock and no writer's CAS succeeds in between; if the
 * writer's CAS comes first, the add reads WRITER and the reader undoes
 * without entering. R > 0 and WRITER may both be set, but only by adds that
 * will be undone. Linearization points: a slow rdlock at its keeping
 * fetch-add, a wrlock at the CAS that sets WRITER (a revoking writer: at
 * that CAS too; fast readers still inside are ones that entered before
 * it), an unlock at its RMW (or a fast reader's cell store). A fast reader
 * F and a writer W: F does
 *     CAS cell := L (seq_cst);  load state, sees RBIAS
 * and W, after setting WRITER, does
 *     (some CAS cleared RBIAS, setting REVOKE);  load cell (seq_cst)
 * This is the store-buffering shape; with seq_cst on all four accesses one of
 * the loads sees the other side's store. If W's load sees the cell holding L,
 * W waits for it to clear. If it does not, W's load precedes F's CAS in the
 * seq_cst total order, so F's state load comes after the CAS that cleared
 * RBIAS and sees RBIAS clear — unless some CAS set RBIAS again in between,
 * and only a slow reader does that, inside its read section, which cannot
 * overlap W's (W holds WRITER from its scan to its unlock). So F leaves the
 * fast path. The scan is skipped only when REVOKE is clear; REVOKE is set in
 * the same CAS that clears a set RBIAS, and cleared only by a writer that
 * holds WRITER and saw every cell of L clear after that CAS; a fast reader
 * that entered later saw RBIAS set by a reader after that writer left, and
 * the next clearing CAS sets REVOKE again. Litmus:
 * stress/litmus/litmus_lib_rwlock.c (reader and writer both inside is
 * forbidden; the control without the seq_cst recheck fires). Spin model of
 * the revocation with timeout: stress/models/rwlock.pml.
 * Happens-before: a fast reader's unlock store is seq_cst (a release) and the
 * writer's scan load that sees it is an acquire; a slow reader's unlock CAS
 * is a release that the next writer's acquiring CAS reads (an undo between
 * them is a relaxed RMW, which continues that release sequence); a writer's
 * unlock fetch-add is a release read by the next reader's acquiring
 * fetch-add, and the re-enabled RBIAS a
 * fast reader loads was set by a reader that acquired after that unlock. So
 * every unlock happens-before the next conflicting lock returns.
 * Writer preference. A writer that waits has WW > 0 and has cleared RBIAS:
 * no reader enters by either path until it has entered and left (or given
 * up), except readers that were already inside (they finish). While WW > 0
 * the bias is not re-enabled. A reader's add that finds WW > 0 is undone
 * at once; an rdlock adds blindly only on its first try, and its re-checks
 * add only when a load showed no writer (while one waits: only on a stale
 * read), so waiting readers do not keep the count above 0, and the undo
 * that brings it to 0 wakes the writer. Writers are not FIFO among
 * themselves.
 * No waiter stays parked while it could enter (every wake-up): waiters use
 * lfp_ec (eventcount.h), whose prepare / re-check / wait against change /
 * notify is free of lost wake-ups, and every change that can let a waiter in
 * is followed by a notify_all of the eventcount it waits on:
 *   - a reader may enter when WRITER and WW become 0: the writer's unlock,
 *     a downgrade, and a waiting writer that gives up (timeout, cancel) as
 *     the last one all notify the readers' eventcount;
 *   - a writer may enter when WRITER clears or R drops to 0: writer unlock,
 *     the slow reader unlock that reaches R == 0, a downgraded reader's
 *     unlock, all notify the writers' eventcount when WW > 0 (they read WW in
 *     the same RMW);
 *   - the undo of a reader that did not enter lowers R too, and may be the
 *     step that lets a waiting writer in: a writer W whose last re-check
 *     ran while reader A's add was counted saw R > 0 and parked, and the
 *     slow unlock that left A's add as the only count saw R == 1 and did
 *     not notify. So the undo notifies the writers when it
 *     leaves R == 0, WW > 0 and !WRITER (read in the same fetch-sub). With
 *     WRITER set the holder's unlock is the notifier: it reads R after the
 *     undo (R == 0: it notifies) or before (then the undo sees WRITER clear
 *     and notifies). Model: stress/models/rwlock.pml, control NOUNDONOTIFY
 *     (without this notify spin finds a writer parked with R == 0);
 *   - a revoking writer waits for a cell to clear: a fast reader's unlock or
 *     withdrawal stores NULL, then loads the state and notifies drain if
 *     REVOKE is set. The reader's store-then-load and the writer's REVOKE CAS
 *     then cell load are the SB shape again (all seq_cst): either the reader
 *     sees REVOKE (and notifies) or the writer sees the cleared cell.
 * notify_all because waiters may leave by timeout: waking one that has left
 * would lose the wake-up; readers are all admitted together anyway, and
 * writers are rare.
 * Progress: the fast read and its unlock are wait-free (a CAS and a load; a
 * store and a load). A slow read while no writer holds or waits is one
 * fetch-add (plus, every 8th, a clock read and maybe the re-bias CAS); a
 * slow unlock is a CAS loop (lock-free). Everything else blocks: a short
 * spin, then parks.
 *
 * ------------------------------------------------------------ misuse
 * Returned codes: EINVAL for NULL; EPERM for wrunlock/downgrade by a thread
 * that does not hold the write lock, and for rdunlock when no read hold
 * exists at all (readers are not tracked one by one — that is what lets
 * them scale — so an rdunlock by a thread that holds nothing, while another
 * thread holds a read, is not detected, as in Go); EBUSY from destroy while
 * held or waited on; EDEADLK from wrlock by the thread that holds the write
 * lock; EAGAIN from rdlock when 2^31 - 1 slow readers hold it (the half of
 * the 32-bit count above that is the room for readers between an add and
 * its undo), or wrlock when 2^16 - 1 writers wait. An rdunlock without a
 * hold that runs while another thread's rdlock is between its add and its
 * undo takes that add for a hold (the same undetected misuse as an rdunlock
 * by a thread holding nothing while another thread holds a read); the undo
 * never takes the count below 0 (it is a CAS that finds nothing to undo),
 * so the lock stays usable.
 * Recursive read locking deadlocks when a writer waits between the two
 * rdlocks, exactly as Go's RWMutex does: the writer waits for the first hold,
 * the second rdlock waits for the writer. With a deadline the second rdlock
 * returns ETIMEDOUT instead. Do not read-lock recursively.
 * A thread must release its read holds before it exits (its fast hold lives
 * in its slot's line, which the next thread given that slot inherits).
 * No upgrade (read -> write): two readers that both try to upgrade each wait
 * for the other's read hold to end, forever. Release the read lock and
 * wrlock, then re-validate what you read.
 *
 * Copying: an lfp_rwlock must not be copied or moved after init: the readers'
 * table cells and the eventcounts refer to its address.
 * Fork: a child may use a lock that no thread held or waited on at fork();
 * one held across fork() is copied held by a thread the child does not have.
 * Lifetime: destroy (and free) only after every lock and unlock call on it
 * has returned: an unlock may still notify after another thread's lock
 * returned.
 */
#ifndef LFPAT_RWLOCK_H
#define LFPAT_RWLOCK_H

#include "lfpat/eventcount.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct lfp_rwlock {
    alignas(LFP_CACHELINE) _Atomic(uint64_t) state;   /* see the header comment */
    _Atomic(int64_t) inhibit_until;   /* no re-bias before this lfp_now() */
    _Atomic(uint32_t) owner;          /* writer's thread slot + 1; 0 = none */
    alignas(LFP_CACHELINE) lfp_ec readers;   /* slow readers wait here */
    lfp_ec writers;                          /* writers wait here */
    lfp_ec drain;                            /* a revoking writer waits here */
} lfp_rwlock;

/* Initialise rw unlocked, reader bias on. Returns 0, EINVAL if rw is NULL. */
LFP_API int lfp_rwlock_init(lfp_rwlock *rw);

/* Returns 0; EBUSY if rw is held or waited on (rw is left as it was); EINVAL
 * if rw is NULL. */
LFP_API int lfp_rwlock_destroy(lfp_rwlock *rw);

/* Take a read hold, waiting while a writer holds or waits, until `deadline`
 * (CLOCK_MONOTONIC ns, LFP_FOREVER for none) or `cancel` fires (NULL: none).
 * Returns 0; ETIMEDOUT; ECANCELED; EAGAIN (2^31 - 1 slow readers); EINVAL.
 * A hold obtained is kept even if the deadline passed meanwhile.
 * Progress: wait-free while the reader bias is on; lock-free while no
 * writer holds or waits (one fetch-add); otherwise blocks.
 * Ordering: the last write unlock before it happens-before it returns. */
static inline int lfp_rwlock_rdlock(lfp_rwlock *rw, int64_t deadline, lfp_cancel *cancel);

/* Take a read hold only if that needs no waiting: 0, EBUSY (a writer holds
 * or waits), EAGAIN (too many readers), EINVAL. */
LFP_API int lfp_rwlock_tryrdlock(lfp_rwlock *rw);

/* Release a read hold. Returns 0; EPERM if no read hold exists; EINVAL.
 * Progress: wait-free (a fast hold: a store and a load, plus a notify when a
 * writer is revoking). Ordering: happens-before the next writer's lock. */
static inline int lfp_rwlock_rdunlock(lfp_rwlock *rw);

/* Take the write hold, waiting for readers and writers, until `deadline` or
 * `cancel`. A writer that waits blocks new readers from then on. Returns 0;
 * ETIMEDOUT, ECANCELED (nothing held, readers that were blocked by this
 * writer are let in); EDEADLK if the caller holds the write lock; EAGAIN
 * (2^16 - 1 writers waiting); EINVAL.
 * Progress: blocks. Ordering: every earlier unlock happens-before it returns. */
LFP_API int lfp_rwlock_wrlock(lfp_rwlock *rw, int64_t deadline, lfp_cancel *cancel);

/* Take the write hold only if no reader or writer holds it: 0, EBUSY,
 * EDEADLK, EINVAL. It does not wait: when it finds a fast reader inside it
 * returns EBUSY, leaving the reader bias off (re-enabled later as after any
 * revocation). It may also return EBUSY because of a slow reader that is
 * between its add and its undo (it does not enter), as ck_rwlock's
 * write_trylock does. */
LFP_API int lfp_rwlock_trywrlock(lfp_rwlock *rw);

/* Release the write hold. Returns 0; EPERM if the caller does not hold it;
 * EINVAL. Wakes waiting writers and readers. */
LFP_API int lfp_rwlock_wrunlock(lfp_rwlock *rw);

/* Turn the caller's write hold into a read hold, atomically: no writer gets
 * in between. Returns 0; EPERM if the caller does not hold the write lock;
 * EINVAL. Readers waiting are let in unless another writer waits (writer
 * preference holds after a downgrade too). Release with lfp_rwlock_rdunlock. */
LFP_API int lfp_rwlock_downgrade(lfp_rwlock *rw);

/* A snapshot for tests and monitoring (relaxed, may be stale at once). */
struct lfp_rwlock_stats {
    bool writer;          /* a writer holds it */
    bool bias;            /* readers take the fast path */
    uint32_t waiting_writers;
    uint32_t slow_readers; /* read holds taken on the slow path (and readers
                              between an add and its undo) */
};
LFP_API int lfp_rwlock_stats(const lfp_rwlock *rw, struct lfp_rwlock_stats *st);

#ifdef __cplusplus
}
#endif

/* The inline definitions (internal, not part of the API). */
#include "lfpat/internal/rwlock.h"
#endif
