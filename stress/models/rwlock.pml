/* SPDX-License-Identifier: BSD-2-Clause */
/* rwlock.pml — lfp_rwlock's writer revocation with timeout: mutual exclusion
 * between fast readers, slow readers and writers, and no waiter left parked
 * while it could enter, when writers give up at any moment.
 *
 * Abstracts include/lfpat/internal/rwlock.h (fast path) and src/rwlock.c,
 * step for step, in sequential consistency (every access there that this
 * model relies on is seq_cst, or an RMW on the state word; the hint loads
 * are modelled as the real loads they precede):
 *   state word: bias, revoke, writer, ww (waiting writers), r (slow readers),
 *   changed together in one atomic step (one CAS in C).
 *   fast read:  if bias: cell[me] = 1; if bias: inside (fast) else withdraw
 *               (cell[me] = 0; if revoke: notify drain). leave: cell[me] = 0;
 *               if revoke: notify drain.
 *   slow read:  one fetch-add r+1; if the word it replaced shows writer or
 *               ww > 0, undo: r-1, and if that leaves r == 0 && ww > 0 &&
 *               !writer (the count a waiting writer waits for), notify
 *               writers; then wait on `readers` (prepare, re-check, park).
 *               The first attempt adds blindly; a re-check first loads the
 *               word and adds only if it shows neither writer nor ww.
 *               Inside, may set bias if !bias && !writer && ww == 0 (the
 *               inhibit period is a nondeterministic choice). leave: r-1;
 *               if r == 0 && ww > 0: notify writers.
 *   write:      take (if !writer && r == 0: writer, clear bias -> revoke) or
 *               register (ww+1, clear bias -> revoke) in one CAS; registered:
 *               wait on `writers` for the take (ww-1 + writer); an impatient
 *               writer may give up at any wait: ww-1, and if ww == 0 and
 *               !writer notify readers. Holding writer with revoke: for each
 *               cell, wait on `drain` while it is set (may give up: release);
 *               then clear revoke. release: writer = 0; if ww > 0 { if r == 0
 *               notify writers } else notify readers.
 * Eventcounts (lfp_ec): waiters++, key = epoch, re-check, park until epoch !=
 * key, waiters--; notify: if waiters > 0, epoch++ (SC: the SB fences hold).
 *
 * Processes: two readers (each one read, fast or slow as the bias says),
 * a patient writer, an impatient writer. Checked: never a writer inside
 * with anyone else (assert); at the end nobody parked (invalid end state),
 * the lock free, no cell set. An impatient waiter can always give up, so a
 * lost wake-up is found only when the patient writer or a reader is the
 * one left parked.
 * Variants (each must pass):
 *   -DSPLITNOTIFY    each notify is separate steps after the state change
 *                    (decided from the RMW's result; then the waiters load,
 *                    then the epoch bump), as in the C code, instead of one
 *                    atomic step with it.
 *   -DDOWNGRADE      the impatient writer, once inside, downgrades (writer
 *                    cleared and one read hold counted in one RMW), reads,
 *                    and unlocks as a slow reader; slow readers' adds and
 *                    undos race it and the patient writer may wait behind it.
 *   -DTWOPATIENT     both writers patient (lost wake-ups of either found).
 * Not modelled: trywrlock / tryrdlock, the EAGAIN limits, the spin phases
 * (the same re-checks as the eventcount loop), the table's line count, the
 * inhibit clock (a nondeterministic choice), readers' deadlines (a reader
 * that gives up changes no state word), memory orders weaker than SC (the
 * argument at each such access in src/rwlock.c reduces it to SC here).
 * Negative controls (spin must find each):
 *   -DNORECHECK      the fast reader does not re-check the bias after
 *                    publishing its cell: reader and writer both inside.
 *   -DNODRAINNOTIFY  a fast reader's leave does not notify drain: the
 *                    revoking writer stays parked.
 *   -DNOLEAVENOTIFY  a writer that gives up does not let readers in: a
 *                    reader stays parked.
 *   -DCLEARONGIVEUP  a writer that gives up during the revocation clears
 *                    revoke: the next writer skips the scan of a reader
 *                    still inside.
 *   -DNOUNDONOTIFY   a slow reader's undo does not notify the writers: a
 *                    waiting writer whose last obstacle was that transient
 *                    count stays parked.
 *   -DDOWNGRADE -DNODOWNNOTIFY  the downgraded reader's unlock does not
 *                    notify: the patient writer waiting behind it stays
 *                    parked (the downgrade path reaches a waiting writer).
 */
#define NR 2

bool bias = true, revoke = false, writer = false;
byte ww = 0, r = 0;
bool cell[NR];
byte readers_in = 0, writers_in = 0;
byte rd_epoch = 0, rd_waiters = 0;
byte wr_epoch = 0, wr_waiters = 0;
byte dr_epoch = 0, dr_waiters = 0;

inline notify(epoch, waiters) {
    if
    :: (waiters > 0) -> epoch++
    :: else -> skip
    fi
}

/* NOTE(e, w, k) inside a state change's atomic step, then FLUSH after it:
 * by default the notify is part of that step; with -DSPLITNOTIFY, as in the
 * C code, the step only decides (from the RMW's result) which eventcount to
 * notify, and the notify's load of its waiters and its epoch bump are later,
 * separate steps (lfp_ec_notify_all after the RMW), so waiters can prepare,
 * re-check and park in between. */
#ifdef SPLITNOTIFY
#define NOTE(e, w, k) wk = k
#define FLUSH ; do_notify()
#else
#define NOTE(e, w, k) notify(e, w)
#define FLUSH
#endif
inline do_notify() {
    if
    :: (wk == 1) -> if :: (rd_waiters > 0) -> rd_epoch++ :: else -> skip fi
    :: (wk == 2) -> if :: (wr_waiters > 0) -> wr_epoch++ :: else -> skip fi
    :: (wk == 3) -> if :: (dr_waiters > 0) -> dr_epoch++ :: else -> skip fi
    :: else -> skip
    fi;
    wk = 0
}

/* The slow reader's undo of an add that found a writer holding or waiting. */
inline undo_read() {
    atomic {
        r--;
#ifndef NOUNDONOTIFY
        if :: (r == 0 && ww > 0 && !writer) -> NOTE(wr_epoch, wr_waiters, 2) :: else -> skip fi
#endif
    } FLUSH
}

/* One fetch-add r+1: entered if the replaced word showed no writer. */
inline add_read(entered) {
    atomic { entered = !writer && ww == 0; r++ };
    if :: entered -> skip :: else -> undo_read() fi
}

inline clear_bias() {
    if
    :: bias -> bias = false; revoke = true
    :: else -> skip
    fi
}

/* release_write(rw, add_readers): add is 1 for a downgrade (the write hold
 * becomes a slow read hold in the same RMW), 0 for an unlock. */
inline release_write(add) {
    atomic {
        writer = false;
        r = r + add;
        if
        :: (ww > 0) ->
            if
            :: (r == 0) -> NOTE(wr_epoch, wr_waiters, 2)
            :: else -> skip
            fi
        :: else -> NOTE(rd_epoch, rd_waiters, 1)
        fi
    } FLUSH
}

proctype Reader(byte me)
{
    byte key, wk = 0;
    bool fast = false, got = false;
    if
    :: bias ->
        cell[me] = true;
#ifdef NORECHECK
        fast = true;
#else
        if
        :: bias -> fast = true
        :: else ->
            atomic { cell[me] = false; if :: revoke -> NOTE(dr_epoch, dr_waiters, 3) :: else -> skip fi } FLUSH
        fi
#endif
    :: else -> skip
    fi;
    if
    :: fast -> skip
    :: else ->
        /* slow: one blind add (undone if a writer holds or waits), else
         * wait on the readers' eventcount; the re-check loads first. */
        add_read(got);
        do
        :: got -> break
        :: else ->
            atomic { rd_waiters++; key = rd_epoch };
            if
            :: atomic { (!writer && ww == 0) -> skip }; add_read(got);
                if
                :: got -> rd_waiters--; break
                :: else -> atomic { (rd_epoch != key) -> rd_waiters-- }
                fi
            :: atomic { else -> skip };
                atomic { (rd_epoch != key) -> rd_waiters-- }
            fi
        od;
        atomic { if :: (!bias && !writer && ww == 0) -> bias = true :: true -> skip fi }
    fi;
    atomic { readers_in++; assert(writers_in == 0) };
    readers_in--;
    if
    :: fast ->
#ifdef NODRAINNOTIFY
        cell[me] = false
#else
        atomic { cell[me] = false; if :: revoke -> NOTE(dr_epoch, dr_waiters, 3) :: else -> skip fi } FLUSH
#endif
    :: else ->
        atomic { r--; if :: (r == 0 && ww > 0) -> NOTE(wr_epoch, wr_waiters, 2) :: else -> skip fi } FLUSH
    fi
}

/* A registered writer gives up. */
inline leave_writers() {
    atomic {
        ww--;
#ifndef NOLEAVENOTIFY
        if :: (ww == 0 && !writer) -> NOTE(rd_epoch, rd_waiters, 1) :: else -> skip fi
#endif
    } FLUSH
}

proctype Writer(bool impatient)
{
    byte key, i, wk = 0;
    bool taken;
    atomic {
        if
        :: (!writer && r == 0) -> writer = true; clear_bias(); taken = true
        :: else -> ww++; clear_bias(); taken = false
        fi
    };
    do
    :: taken -> break
    :: else ->
        atomic { wr_waiters++; key = wr_epoch };
        if
        :: atomic { (!writer && r == 0) -> writer = true; ww--; clear_bias(); wr_waiters-- }; break
        :: atomic { else -> skip };
            if
            :: atomic { (wr_epoch != key) -> wr_waiters-- }
            :: impatient -> atomic { wr_waiters-- }; leave_writers(); goto done
            fi
        fi
    od;
    /* revoke: wait for every cell to clear */
    if
    :: revoke ->
        i = 0;
        do
        :: (i == NR) -> break
        :: (i < NR && !cell[i]) -> i++
        :: (i < NR && cell[i]) ->
            atomic { dr_waiters++; key = dr_epoch };
            if
            :: atomic { !cell[i] -> dr_waiters-- }; i++
            :: atomic { else -> skip };
                if
                :: atomic { (dr_epoch != key) -> dr_waiters-- }
                :: impatient -> atomic { dr_waiters-- };
#ifdef CLEARONGIVEUP
                    revoke = false;
#endif
                    release_write(0); goto done
                fi
            fi
        od;
        revoke = false
    :: else -> skip
    fi;
    atomic { writers_in++; assert(writers_in == 1 && readers_in == 0) };
    writers_in--;
#ifdef DOWNGRADE
    /* the impatient writer, if it got in, downgrades, reads, then unlocks
     * as a slow reader (the patient writer may wait behind that hold: an
     * impatient waiter can always give up, so only the patient one can be
     * found parked) */
    if
    :: impatient ->
        atomic { readers_in++; assert(writers_in == 0) }; release_write(1);
        readers_in--;
#ifdef NODOWNNOTIFY
        r--
#else
        atomic { r--; if :: (r == 0 && ww > 0) -> NOTE(wr_epoch, wr_waiters, 2) :: else -> skip fi } FLUSH
#endif
    :: else -> release_write(0)
    fi;
#else
    release_write(0);
#endif
done:
    skip
}

init {
    atomic {
        run Reader(0); run Reader(1); run Writer(false);
#ifdef TWOPATIENT
        run Writer(false)
#else
        run Writer(true)
#endif
    };
    (_nr_pr == 1);
    assert(!writer && ww == 0 && r == 0 && !cell[0] && !cell[1]);
    assert(rd_waiters == 0 && wr_waiters == 0 && dr_waiters == 0)
}
