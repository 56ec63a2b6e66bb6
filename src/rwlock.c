/* SPDX-License-Identifier: BSD-2-Clause */
/* lfp_rwlock's slow paths: the writer-preferring lock word, the revocation
 * scan and the waits. The protocol and its argument are in lfpat/rwlock.h. */
#include "lfpat/rwlock.h"

#include "park.h"

alignas(LFP_CACHELINE) _Atomic(const void *) lfp_rw_vr_[LFP_RW_VR_LINES * LFP_RW_VR_CELLS];
alignas(LFP_CACHELINE) _Atomic(unsigned) lfp_rw_vr_lines_;

/* Raise the line count to cover slot. Why a writer that scans fewer lines
 * cannot miss this thread: the raise (seq_cst RMW), this thread's seq_cst
 * load that sees it, its cell store and its bias re-check are in that order
 * in the seq_cst total order S. A writer's count load that reads a smaller
 * value precedes the raise in S; the writer's bias-clearing CAS precedes its
 * count load; so the re-check comes after the CAS and sees the bias clear. */
void lfp_rw_vr_claim_(unsigned slot)
{
    unsigned n = atomic_load_explicit(&lfp_rw_vr_lines_, memory_order_seq_cst);
    while (n <= slot &&
           !atomic_compare_exchange_weak_explicit(&lfp_rw_vr_lines_, &n, slot + 1,
                                                  memory_order_seq_cst, memory_order_seq_cst))
        ;
}

static size_t cells_in_use(void)
{
    /* seq_cst: see lfp_rw_vr_claim_. */
    return (size_t)atomic_load_explicit(&lfp_rw_vr_lines_, memory_order_seq_cst) *
           LFP_RW_VR_CELLS;
}

/* Spin before parking: pauses only (~20 ns each here, ~2.5 us in all), no
 * sched_yield: the sections a waiter waits for are short, and a yield on a
 * loaded machine hands the CPU away for a time slice; a futex park + wake
 * costs ~50 us, so the spin covers any section shorter than that. */
#define SPIN_ROUNDS 128
static inline void pause_once(void) { lfp_spin_pause(0); }
#define INHIBIT_FACTOR 9   /* BRAVO's N: bias off for ~N x the revocation time */

static inline uint32_t me(void) { return lfp_thread_slot() + 1; }
static inline uint64_t readers_of(uint64_t s) { return s >> 32; }
static inline uint64_t waiting_writers_of(uint64_t s) { return (s & LFP_RW_WW_MASK) >> 16; }

/* s with the reader bias cleared; a bias that was set leaves REVOKE behind. */
static inline uint64_t clear_bias(uint64_t s)
{
    return (s & LFP_RW_RBIAS) ? (s & ~LFP_RW_RBIAS) | LFP_RW_REVOKE : s;
}


int lfp_rwlock_init(lfp_rwlock *rw)
{
    if (!rw)
        return EINVAL;
    atomic_init(&rw->state, LFP_RW_RBIAS);
    atomic_init(&rw->inhibit_until, 0);
    atomic_init(&rw->owner, 0);
    lfp_ec_init(&rw->readers);
    lfp_ec_init(&rw->writers);
    lfp_ec_init(&rw->drain);
    return 0;
}

static bool in_table(const lfp_rwlock *rw)
{
    for (size_t i = 0, n = cells_in_use(); i < n; i++)
        /* relaxed: destroy's caller promised quiescence; this only detects misuse. */
        if (atomic_load_explicit(&lfp_rw_vr_[i], memory_order_relaxed) == (const void *)rw)
            return true;
    return false;
}

int lfp_rwlock_destroy(lfp_rwlock *rw)
{
    if (!rw)
        return EINVAL;
    /* relaxed: misuse detection on a lock that should be quiescent. */
    uint64_t s = atomic_load_explicit(&rw->state, memory_order_relaxed);
    if (s & (LFP_RW_WRITER | LFP_RW_WW_MASK | LFP_RW_R_MASK) || in_table(rw) ||
        atomic_load_explicit(&rw->readers.waiters, memory_order_relaxed) ||
        atomic_load_explicit(&rw->writers.waiters, memory_order_relaxed) ||
        atomic_load_explicit(&rw->drain.waiters, memory_order_relaxed))
        return EBUSY;
    return 0;
}

/* ------------------------------------------------------------ readers */

/* A fast reader whose re-check failed takes its cell back; a writer may be
 * scanning for it (the drain SB pair: store the cell, then load REVOKE). */
void lfp_rwlock_withdraw_(lfp_rwlock *rw, _Atomic(const void *) *cell)
{
    /* seq_cst: see lfp_rwlock_fast_leave_. */
    atomic_store_explicit(cell, (const void *)NULL, memory_order_seq_cst);
    if (atomic_load_explicit(&rw->state, memory_order_seq_cst) & LFP_RW_REVOKE)
        lfp_ec_notify_all(&rw->drain);
}

/* Inside a slow read section, s the word this reader's add wrote: turn the
 * bias back on once the inhibit period after the last revocation is over
 * and no writer holds or waits. */
static void maybe_rebias(lfp_rwlock *rw, uint64_t s)
{
    if (s & (LFP_RW_RBIAS | LFP_RW_WRITER | LFP_RW_WW_MASK))
        return;
    /* The clock (~30 ns) is read on every 8th slow read of a thread only:
     * the bias comes back a few reads late, the slow path stays cheap. */
    static LFP_THREAD_LOCAL unsigned slow_reads;
    if (slow_reads++ % 8 != 0)
        return;
    /* relaxed: a time hint written by the last revoking writer. */
    if (lfp_now() < atomic_load_explicit(&rw->inhibit_until, memory_order_relaxed))
        return;
    while (!(s & (LFP_RW_RBIAS | LFP_RW_WRITER | LFP_RW_WW_MASK)))
        /* seq_cst: a fast reader's seq_cst state load that reads RBIAS
         * acquires from here (this section began after the last writer's
         * unlock); the SB argument orders it against the clearing CAS. */
        if (atomic_compare_exchange_weak_explicit(&rw->state, &s, s | LFP_RW_RBIAS,
                                                  memory_order_seq_cst,
                                                  memory_order_relaxed))
            return;
}

/* The most slow read holds. A reader adds itself before it looks, so the
 * count also holds the readers between their add and its undo, at most one
 * per thread: the limit leaves 2^31 of the 32-bit field for them (far more
 * than a process has threads), so the count never wraps. (R is the top
 * field: a wrap would lose the carry and read as few readers; it cannot
 * reach WRITER or WW.) */
#define MAX_SLOW_READERS 0x7fffffffu

/* Take one unit off the reader count with a CAS, never below 0: an
 * rdunlock without a hold finds 0 (EPERM), and so does an undo whose add a
 * stray rdunlock (misuse: a thread holding nothing) took for a hold — a
 * wrapped count would make every slow read EAGAIN and keep writers out for
 * good (tests/test_rwlock.c, stray_unlock_during_undo). Returns false if
 * the count was 0. A writer needs the count at 0 (take_write), so a
 * waiting writer may have found only this unit in its way and parked: if
 * this leaves the count at 0 with writers waiting and none holding, wake
 * them. (A holding writer's release_write notifies if it reads R == 0; if
 * it read this unit, this comes later, sees WRITER clear and notifies.)
 * order is the CAS's success order (see the callers); its failure order
 * and the first load are relaxed: guesses the CAS checks. The notify's
 * fence orders the CAS before the waiters load: the SB pair with a
 * writer's lfp_ec_prepare and re-check. */
static bool drop_reader(lfp_rwlock *rw, memory_order order)
{
    uint64_t s = atomic_load_explicit(&rw->state, memory_order_relaxed);
    do {
        if (readers_of(s) == 0)
            return false;
    } while (!atomic_compare_exchange_weak_explicit(&rw->state, &s, s - LFP_RW_R_ONE, order,
                                                    memory_order_relaxed));
    s -= LFP_RW_R_ONE;
    if (readers_of(s) == 0 && (s & LFP_RW_WW_MASK) && !(s & LFP_RW_WRITER))
        lfp_ec_notify_all(&rw->writers);
    return true;
}

/* Take back an add that did not enter (nothing to take back if a stray
 * rdunlock already did). relaxed: publishes nothing (this reader did not
 * enter); as an RMW it continues the release sequence of the unlock
 * before it, so a writer's acquire CAS that reads it still synchronises
 * with that unlock. */
static void undo_read(lfp_rwlock *rw)
{
    LFP_TEST_HOOK("rwlock.undo");   /* counted but not entered, not yet undone */
    (void)drop_reader(rw, memory_order_relaxed);
}

/* One slow read attempt, one fetch-add: kept if the word it replaced shows
 * no writer holding or waiting and fewer than MAX_SLOW_READERS readers,
 * else undone. 0, EBUSY (writer holds or waits), EAGAIN (too many). */
static int add_read(lfp_rwlock *rw)
{
    /* acquire: pairs with the release fetch-add of release_write
     * (wrunlock / downgrade): the writer's section happens-before this read. */
    uint64_t s = atomic_fetch_add_explicit(&rw->state, LFP_RW_R_ONE, memory_order_acquire);
    if (!(s & (LFP_RW_WRITER | LFP_RW_WW_MASK)) && readers_of(s) < MAX_SLOW_READERS) {
        maybe_rebias(rw, s + LFP_RW_R_ONE);
        return 0;
    }
    undo_read(rw);
    return s & (LFP_RW_WRITER | LFP_RW_WW_MASK) ? EBUSY : EAGAIN;
}

/* A repeated attempt: look first and add only when the word lets readers
 * in, so a waiting reader does not keep putting transient counts in the
 * way of the writer it waits for. */
static int retry_read(lfp_rwlock *rw)
{
    /* relaxed: a filter; add_read's fetch-add decides. In the eventcount
     * re-check it is ordered after the prepare by lfp_ec_prepare's fence. */
    if (atomic_load_explicit(&rw->state, memory_order_relaxed) &
        (LFP_RW_WRITER | LFP_RW_WW_MASK))
        return EBUSY;
    return add_read(rw);
}

static bool spin_read(lfp_rwlock *rw, int *rc)
{
    for (unsigned i = 0; i < SPIN_ROUNDS; i++) {
        if ((*rc = retry_read(rw)) != EBUSY)
            return true;
        pause_once();
    }
    return false;
}

int lfp_rwlock_rdlock_slow_(lfp_rwlock *rw, int64_t deadline, lfp_cancel *cancel)
{
    int rc = add_read(rw);   /* the common case: no writer, the bias is off */
    if (rc != EBUSY || spin_read(rw, &rc))
        return rc;
    for (;;) {
        uint32_t key = lfp_ec_prepare(&rw->readers);
        if ((rc = retry_read(rw)) != EBUSY || (rc = lfp_give_up_(deadline, cancel)) != 0) {
            lfp_ec_abort(&rw->readers);
            return rc;
        }
        rc = lfp_ec_wait(&rw->readers, key, deadline, cancel);
        if (rc != 0) {
            int last = retry_read(rw);
            return last == EBUSY ? rc : last;
        }
    }
}

int lfp_rwlock_tryrdlock(lfp_rwlock *rw)
{
    if (!rw)
        return EINVAL;
    if (lfp_rwlock_fast_enter_(rw))
        return 0;
    return retry_read(rw);
}

int lfp_rwlock_rdunlock_slow_(lfp_rwlock *rw)
{
    /* release: pairs with the acquire CAS of the next writer (this read
     * section happens-before its write section). A holding reader's unit
     * means no writer holds, so drop_reader's "none holding" is true here. */
    return drop_reader(rw, memory_order_release) ? 0 : EPERM;
}

/* ------------------------------------------------------------ writers */

/* Wait until no cell of the table holds rw, then clear REVOKE. With wait
 * false, EBUSY at the first occupied cell. */
static int drain_cell(lfp_rwlock *rw, _Atomic(const void *) *cell, int64_t deadline,
                      lfp_cancel *cancel)
{
    for (unsigned i = 0; i < SPIN_ROUNDS; i++) {
        /* seq_cst: see revoke(). */
        if (atomic_load_explicit(cell, memory_order_seq_cst) != (const void *)rw)
            return 0;
        pause_once();
    }
    for (;;) {
        uint32_t key = lfp_ec_prepare(&rw->drain);
        int rc;
        /* seq_cst: the re-check of the drain eventcount protocol. */
        if (atomic_load_explicit(cell, memory_order_seq_cst) != (const void *)rw) {
            lfp_ec_abort(&rw->drain);
            return 0;
        }
        if ((rc = lfp_give_up_(deadline, cancel)) != 0) {
            lfp_ec_abort(&rw->drain);
            return rc;
        }
        rc = lfp_ec_wait(&rw->drain, key, deadline, cancel);
        /* seq_cst: as above. */
        if (rc != 0 && atomic_load_explicit(cell, memory_order_seq_cst) == (const void *)rw)
            return rc;
    }
}

/* Holding WRITER: if a bias was revoked and not yet drained, wait for every
 * fast reader of rw to leave (the writer's load of the SB pair). Then the
 * bias stays off for INHIBIT_FACTOR x the revocation's own cost: the scan,
 * not the waits for readers inside (any reader-writer lock waits for those;
 * counting them would keep the bias off whenever sections are long). */
static int revoke(lfp_rwlock *rw, bool wait, int64_t deadline, lfp_cancel *cancel)
{
    LFP_TEST_HOOK("rwlock.revoke");   /* bias cleared, table not yet scanned */
    if (!(atomic_load_explicit(&rw->state, memory_order_seq_cst) & LFP_RW_REVOKE))
        return 0;
    int64_t t0 = lfp_now(), waited = 0;
    int rc = 0;
    for (size_t i = 0, n = cells_in_use(); i < n && rc == 0; i++) {
        _Atomic(const void *) *cell = &lfp_rw_vr_[i];
        /* seq_cst: the writer's load of the SB pair; pairs with the fast
         * reader's seq_cst cell store and state load. Reading NULL acquires
         * from the reader's unlock store: its section happens-before ours. */
        if (atomic_load_explicit(cell, memory_order_seq_cst) != (const void *)rw)
            continue;
        if (!wait) {
            rc = EBUSY;
            break;
        }
        int64_t w0 = lfp_now();
        rc = drain_cell(rw, cell, deadline, cancel);
        waited += lfp_now() - w0;
    }
    if (rc == 0)
        /* seq_cst: only a writer holding WRITER changes REVOKE; ordered
         * before the unlock's release by program order anyway. */
        atomic_fetch_and_explicit(&rw->state, ~LFP_RW_REVOKE, memory_order_seq_cst);
    int64_t now = lfp_now();
    /* relaxed: a time hint for maybe_rebias; orders nothing. */
    atomic_store_explicit(&rw->inhibit_until,
                          lfp_time_add(now, (now - t0 - waited) * INHIBIT_FACTOR),
                          memory_order_relaxed);
    return rc;
}

/* Clear WRITER (the caller holds it) and wake whoever may now enter. */
static void release_write(lfp_rwlock *rw, uint64_t add_readers)
{
    /* relaxed: owner is only compared with the caller's own id. */
    atomic_store_explicit(&rw->owner, 0, memory_order_relaxed);
    /* release: pairs with the acquire fetch-add of the next slow reader
     * (add_read) and the seq_cst CAS of the next writer. */
    uint64_t s = atomic_fetch_add_explicit(&rw->state, add_readers - LFP_RW_WRITER,
                                           memory_order_release);
    s += add_readers - LFP_RW_WRITER;
    if (s & LFP_RW_WW_MASK) {
        if (readers_of(s) == 0)
            lfp_ec_notify_all(&rw->writers);
    } else {
        lfp_ec_notify_all(&rw->readers);
    }
}

/* The next state if a writer (registered: counted in WW) takes the lock
 * now, or 0 if it cannot. */
static uint64_t take_write(uint64_t s, bool registered)
{
    if (s & LFP_RW_WRITER || readers_of(s) != 0)
        return 0;
    return clear_bias(s) + LFP_RW_WRITER - (registered ? LFP_RW_WW_ONE : 0);
}

/* Take the lock or register as a waiting writer, in one CAS. true = taken. */
static int take_or_register(lfp_rwlock *rw, bool *taken)
{
    /* relaxed: the CAS's first guess. */
    uint64_t s = atomic_load_explicit(&rw->state, memory_order_relaxed), next;
    do {
        next = take_write(s, false);
        *taken = next != 0;
        if (!next) {
            if (waiting_writers_of(s) == 0xffff)
                return EAGAIN;
            next = clear_bias(s) + LFP_RW_WW_ONE;
        }
        /* seq_cst: acquires the last unlock, and clears RBIAS as the
         * writer's store of the SB pair with fast readers. */
    } while (!atomic_compare_exchange_weak_explicit(&rw->state, &s, next,
                                                    memory_order_seq_cst,
                                                    memory_order_relaxed));
    return 0;
}

/* A registered writer's attempt: true if it took the lock. */
static bool take_registered(lfp_rwlock *rw)
{
    /* relaxed: the CAS's first guess. */
    uint64_t s = atomic_load_explicit(&rw->state, memory_order_relaxed), next;
    while ((next = take_write(s, true)) != 0)
        /* seq_cst: as in take_or_register. */
        if (atomic_compare_exchange_weak_explicit(&rw->state, &s, next, memory_order_seq_cst,
                                                  memory_order_relaxed))
            return true;
    return false;
}

/* A registered writer gives up: WW-1; the last one lets readers in. */
static void leave_writers(lfp_rwlock *rw)
{
    uint64_t s = atomic_fetch_sub_explicit(&rw->state, LFP_RW_WW_ONE, memory_order_seq_cst);
    s -= LFP_RW_WW_ONE;
    if (!(s & (LFP_RW_WW_MASK | LFP_RW_WRITER)))
        lfp_ec_notify_all(&rw->readers);
}

static int wait_registered(lfp_rwlock *rw, int64_t deadline, lfp_cancel *cancel)
{
    for (unsigned i = 0; i < SPIN_ROUNDS; i++) {
        if (take_registered(rw))
            return 0;
        pause_once();
    }
    for (;;) {
        uint32_t key = lfp_ec_prepare(&rw->writers);
        int rc = 0;
        if (take_registered(rw) || (rc = lfp_give_up_(deadline, cancel)) != 0) {
            lfp_ec_abort(&rw->writers);
            return rc;
        }
        rc = lfp_ec_wait(&rw->writers, key, deadline, cancel);
        if (rc != 0)
            return take_registered(rw) ? 0 : rc;
    }
}

static bool holds_write(lfp_rwlock *rw)
{
    /* relaxed: only the holder stores its own id; anyone else reads another
     * value (or 0). The state bit is re-read for a cleared holder. */
    return atomic_load_explicit(&rw->owner, memory_order_relaxed) == me() &&
           (atomic_load_explicit(&rw->state, memory_order_relaxed) & LFP_RW_WRITER);
}

int lfp_rwlock_wrlock(lfp_rwlock *rw, int64_t deadline, lfp_cancel *cancel)
{
    if (!rw)
        return EINVAL;
    if (holds_write(rw))
        return EDEADLK;
    bool taken;
    int rc = take_or_register(rw, &taken);
    if (rc != 0)
        return rc;
    LFP_TEST_HOOK("rwlock.wait");   /* registered (or holding), not yet parked */
    if (!taken && (rc = wait_registered(rw, deadline, cancel)) != 0) {
        leave_writers(rw);
        return rc;
    }
    /* relaxed: see holds_write. */
    atomic_store_explicit(&rw->owner, me(), memory_order_relaxed);
    if ((rc = revoke(rw, true, deadline, cancel)) != 0)
        release_write(rw, 0);
    return rc;
}

int lfp_rwlock_trywrlock(lfp_rwlock *rw)
{
    if (!rw)
        return EINVAL;
    if (holds_write(rw))
        return EDEADLK;
    /* relaxed: the CAS's first guess. */
    uint64_t s = atomic_load_explicit(&rw->state, memory_order_relaxed), next;
    do {
        if ((next = take_write(s, false)) == 0)
            return EBUSY;
        /* seq_cst: as in take_or_register. */
    } while (!atomic_compare_exchange_weak_explicit(&rw->state, &s, next, memory_order_seq_cst,
                                                    memory_order_relaxed));
    /* relaxed: see holds_write. */
    atomic_store_explicit(&rw->owner, me(), memory_order_relaxed);
    int rc = revoke(rw, false, LFP_FOREVER, NULL);
    if (rc != 0)
        release_write(rw, 0);
    return rc;
}

int lfp_rwlock_wrunlock(lfp_rwlock *rw)
{
    if (!rw)
        return EINVAL;
    if (!holds_write(rw))
        return EPERM;
    release_write(rw, 0);
    return 0;
}

int lfp_rwlock_downgrade(lfp_rwlock *rw)
{
    if (!rw)
        return EINVAL;
    if (!holds_write(rw))
        return EPERM;
    release_write(rw, LFP_RW_R_ONE);
    return 0;
}

int lfp_rwlock_stats(const lfp_rwlock *rw, struct lfp_rwlock_stats *st)
{
    if (!rw || !st)
        return EINVAL;
    /* relaxed: a snapshot for monitoring, documented as possibly stale. */
    uint64_t s = atomic_load_explicit(&((lfp_rwlock *)rw)->state, memory_order_relaxed);
    st->writer = s & LFP_RW_WRITER;
    st->bias = s & LFP_RW_RBIAS;
    st->waiting_writers = (uint32_t)waiting_writers_of(s);
    st->slow_readers = (uint32_t)readers_of(s);
    return 0;
}
