/* SPDX-License-Identifier: BSD-2-Clause */
/* snap.pml — lfp_snap's grace period: no version is freed while a reader
 * that could see it is inside its read section, and no version is leaked.
 *
 * Abstracts include/lfpat/snap.h ("Why it is safe") and src/snap.c:
 *   reader (lfp_snap_enter .. lfp_snap_leave), per section:
 *     R1 g = gp; R2 cell = g (into the reader's store buffer); R4 p = cur;
 *     use p (two steps, each asserting p is not freed); R5 cell = 0 (into
 *     the store buffer).
 *   Store buffers: x86-TSO's, the one reordering the argument must beat. A
 *     reader's store enters its buffer (one entry; a second store waits
 *     until the first drained, so stores stay in order) and a flusher
 *     process drains it into memory at any later time. Loads read memory
 *     (the reader never loads its own cell). The writer's stores are locked
 *     RMWs (xchg, lock xadd): they drain at once.
 *   writer (lfp_snap_publish), per publish:
 *     W1 old = cur; cur = new; W2 gp++, t = gp; W3 membarrier = drain every
 *     reader's buffer (the IPI runs a full barrier on every CPU of the
 *     process); W4 for each cell: wait until cell == 0 or cell >= t
 *     (blocking: parking and its wake-up are eventcount.pml's subject);
 *     W5 free old.
 *   -DTIMEOUT: W4 may give up at any point (deadline/cancel); old stays
 *     pending and a later publish's grace period, or the final
 *     lfp_snap_reclaim (W3 + one non-blocking scan, which may also fail and
 *     leave it pending), frees it. At the end, after the readers finished,
 *     a reclaim must free every pending version (none leaked).
 *   -DQSBR: reader 0 is a quiescent-state reader instead (lfp_snap_online,
 *     lfp_snap_get, lfp_snap_quiescent, lfp_snap_offline): online is R1, R2;
 *     then, SECTIONS times, two gets (R4, R4') and their uses, then the
 *     report Q1 g2 = gp; if g2 differs from the cell's g, Q2 cell = g2 (into
 *     the store buffer; the skip otherwise); finally offline, R5.
 * Checked: a reader never uses a freed version (assert), every replaced
 * version is freed at the end (assert), no process blocks forever.
 * Controls (expected to fail):
 *   -DNOBARRIER  the writer skips W3: a buffered cell store is invisible to
 *                the scan while the reader already read the old pointer.
 *   -DWEAKENTRY  the reader loads cur before its cell store (the entry
 *                store weakened: no compiler barrier / a relaxed order the
 *                hardware may move after the load).
 *   -DTIMEOUT -DNORECLAIM  no final reclaim: a version whose publish timed
 *                out is leaked (shows the timeout path is explored).
 *   -DQSBR -DQEARLY  the report comes before the last use of what the
 *                interval read (a quiescent state reported too early).
 *   -DQSBR -DQAHEAD  the report stores g2 + 1, a g it did not read: the
 *                argument's step "g2 >= t would have acquired W1" fails.
 * (A scan that let a cell pass once it changed since its first look, a g
 * < t included, holds in this model: a store the first look missed was
 * issued after the barrier, so every get after it reads the new version.
 * lfp_snap does not rely on that: W4 waits for 0 or g >= t.)
 */
#define NR 2        /* readers */
#define SECTIONS 2  /* per reader */
#define PUBS 2      /* publishes; versions 0..PUBS */

byte gp = 1;
byte cur = 0;
bool freed[PUBS + 1];
bool pending[PUBS + 1];
byte cell[NR];          /* memory */
byte sb_val[NR];        /* the reader's store buffer (one entry) */
bool sb_full[NR];
byte readers_done = 0;

inline buffered_store(i, v) {
    atomic { !sb_full[i] -> sb_val[i] = v; sb_full[i] = true }
}

inline drain_all(k) {
    atomic {
        k = 0;
        do
        :: k < NR -> if :: sb_full[k] -> cell[k] = sb_val[k]; sb_full[k] = false
                        :: else -> skip fi; k++
        :: else -> break
        od
    }
}

proctype flusher(byte i) {
end:
    do
    :: atomic { sb_full[i] -> cell[i] = sb_val[i]; sb_full[i] = false }
    od
}

#ifdef QSBR
/* lfp_snap_quiescent: Q1, then Q2 unless the g is the cell's already. */
inline quiescent(i, g, g2) {
#ifdef QAHEAD
    g2 = gp + 1;
#else
    g2 = gp;
#endif
    if
    :: g2 != g -> buffered_store(i, g2); g = g2
    :: else -> skip
    fi
}

proctype qreader(byte i) {
    byte n = 0, g, g2, p, q;
    g = gp;                         /* online: R1 */
    buffered_store(i, g);           /* R2 */
    do
    :: n < SECTIONS ->
        p = cur;                    /* get */
        assert(!freed[p]);
        q = cur;                    /* a second get in the same interval */
#ifdef QEARLY
        quiescent(i, g, g2);
#endif
        assert(!freed[p]);          /* every version read since the last report */
        assert(!freed[q]);
#ifndef QEARLY
        quiescent(i, g, g2);
#endif
        n++
    :: else -> break
    od;
    buffered_store(i, 0);           /* offline: R5 */
    atomic { readers_done++ }
}
#endif

proctype reader(byte i) {
    byte n = 0, g, p;
    do
    :: n < SECTIONS ->
#ifdef WEAKENTRY
        p = cur;                    /* the load overtook the entry */
        g = gp;
        buffered_store(i, g);
#else
        g = gp;                     /* R1 */
        buffered_store(i, g);       /* R2 (R3: the compiler keeps the order) */
        p = cur;                    /* R4 */
#endif
        assert(!freed[p]);          /* use ... */
        assert(!freed[p]);          /* ... and use again later */
        buffered_store(i, 0);       /* R5 */
        n++
    :: else -> break
    od;
    atomic { readers_done++ }
}

/* W4 over every cell, each once (a passed cell stays passed: entries after
 * W3 read gp >= t). With TIMEOUT, ok may come back false. */
inline scan(t, ok, j) {
    j = 0;
    ok = true;
    do
    :: j < NR ->
        if
        :: cell[j] == 0 || cell[j] >= t -> j++
#ifdef TIMEOUT
        :: ok = false; break        /* deadline or token: give up */
#endif
        fi
    :: else -> break
    od
}

/* Free every pending version covered by a grace period that ended at t:
 * version v was retired by publish v, at grace-period number v + 2 (a later
 * grace period covers earlier ones). */
inline free_upto(t, v) {
    v = 0;
    do
    :: v < PUBS + 1 -> if :: pending[v] && v + 2 <= t -> pending[v] = false; freed[v] = true
                         :: else -> skip fi; v++
    :: else -> break
    od
}

proctype writer() {
    byte k = 0, old, t, i, j, v;
    bool ok;
    do
    :: k < PUBS ->
        atomic { old = cur; cur = k + 1 }   /* W1 (version k+1; retired at t = k+2) */
        atomic { gp++; t = gp }             /* W2 */
        pending[old] = true;
#ifndef NOBARRIER
        drain_all(i);                       /* W3 */
#endif
        scan(t, ok, j);                     /* W4 */
        if
        :: ok -> free_upto(t, v)             /* W5: old and earlier pending ones */
        :: else -> skip
        fi;
        k++
    :: else -> break
    od;
    /* lfp_snap_reclaim after the readers are done: W3 + one scan. */
    (readers_done == NR);
    drain_all(i);
    j = 0;
    do
    :: j < NR -> assert(cell[j] == 0); j++
    :: else -> break
    od;
#ifndef NORECLAIM
    free_upto(gp + 1, v);
#endif
    v = 0;
    do
    :: v < PUBS -> assert(freed[v] && !pending[v]); v++   /* every replaced version freed */
    :: else -> break
    od;
    assert(!freed[PUBS])                    /* the current version is not */
}

init {
    atomic {
        byte i = 0;
        do
#ifdef QSBR
        :: i == 0 -> run qreader(i); run flusher(i); i++
        :: i > 0 && i < NR -> run reader(i); run flusher(i); i++
#else
        :: i < NR -> run reader(i); run flusher(i); i++
#endif
        :: else -> break
        od;
        run writer()
    }
}
