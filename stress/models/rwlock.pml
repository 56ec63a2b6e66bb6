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
 * the lock free, no cell set.
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

/* The slow reader's undo of an add that found a writer holding or waiting. */
inline undo_read() {
    atomic {
        r--;
#ifndef NOUNDONOTIFY
        if :: (r == 0 && ww > 0 && !writer) -> notify(wr_epoch, wr_waiters) :: else -> skip fi
#endif
    }
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

inline release_write() {
    atomic {
        writer = false;
        if
        :: (ww > 0) ->
            if
            :: (r == 0) -> notify(wr_epoch, wr_waiters)
            :: else -> skip
            fi
        :: else -> notify(rd_epoch, rd_waiters)
        fi
    }
}

proctype Reader(byte me)
{
    byte key;
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
            atomic { cell[me] = false; if :: revoke -> notify(dr_epoch, dr_waiters) :: else -> skip fi }
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
        atomic { cell[me] = false; if :: revoke -> notify(dr_epoch, dr_waiters) :: else -> skip fi }
#endif
    :: else ->
        atomic { r--; if :: (r == 0 && ww > 0) -> notify(wr_epoch, wr_waiters) :: else -> skip fi }
    fi
}

/* A registered writer gives up. */
inline leave_writers() {
    atomic {
        ww--;
#ifndef NOLEAVENOTIFY
        if :: (ww == 0 && !writer) -> notify(rd_epoch, rd_waiters) :: else -> skip fi
#endif
    }
}

proctype Writer(bool impatient)
{
    byte key, i;
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
                    release_write(); goto done
                fi
            fi
        od;
        revoke = false
    :: else -> skip
    fi;
    atomic { writers_in++; assert(writers_in == 1 && readers_in == 0) };
    writers_in--;
    release_write();
done:
    skip
}

init {
    atomic {
        run Reader(0); run Reader(1); run Writer(false); run Writer(true)
    };
    (_nr_pr == 1);
    assert(!writer && ww == 0 && r == 0 && !cell[0] && !cell[1]);
    assert(rd_waiters == 0 && wr_waiters == 0 && dr_waiters == 0)
}
