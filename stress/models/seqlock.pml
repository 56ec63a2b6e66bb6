/* SPDX-License-Identifier: BSD-2-Clause */
/* seqlock.pml — lfp_seqlock's two-copy protocol: an accepted snapshot is
 * exactly the version its first load names, and no reader waits for a
 * writer.
 *
 * Abstracts the reader lfp_seqlock_attempt_ (include/lfpat/internal/
 * seqlock.h) and the writer open_write / close_write / write_abort
 * (src/seqlock.c) step for step, with a value of W words:
 *   reader:  s1 = seq; n = s1 / 2; copy words of copy n % 2 one by one;
 *            s2 = seq; accept iff s2 - (s1 & ~1) < 3
 *   writer:  under the writer lock, either a write m = seq / 2 + 1:
 *              seq = 2m - 1; store m in every word of copy m % 2; seq = 2m
 *            or an aborted one: seq = 2m - 1; seq = 2m - 2
 * Each load and store is one step, sequentially consistent: the model checks
 * the protocol's logic (the copy choice, the validity rule, the abort); that
 * the fences give the C11 program the same outcomes is the litmus suite's
 * job (stress/litmus/litmus_lib_seqlock.c). Init stores 0 in both copies
 * (version 0). The writer lock is an atomic test-and-set the model blocks
 * on; its deadline, cancel and parking are the eventcount's (eventcount.pml).
 *
 * Checked with one writer process (MAXW writes or aborts; the writer lock
 * serialises writers, so more writer processes only interleave the lock,
 * not the data) and one reader reading READS times (readers write nothing,
 * so more of them only interleave independent loads): every accepted snapshot has every word
 * equal to n (its version); the versions a reader accepts never decrease;
 * a reader never blocks (every read ends; a
 * reader blocked forever would be an invalid end state — readers have no
 * blocking step at all, which the run confirms by ending).
 *
 * Negative controls (spin must find the mixed snapshot):
 *   -DOFFBYONE  accept s2 < 2n + 4: a reader overlapped by write n + 2's
 *               data stores, after its start marker, accepts.
 *   -DONECOPY   the writer fills the copy readers use (m + 1) % 2 (a
 *               one-copy seqlock with the two-copy reader rule).
 *   -DNOMARK    the writer stores no start marker.
 *   -DABORTUP   abort moves seq on to 2m instead of back to 2m - 2: readers
 *               are sent to a copy the aborted write never filled.
 */
#define W 2
#define MAXW 4
#define READS 2

byte seq = 0;
byte data[2 * W];     /* copy c, word k at data[c * W + k]; init: version 0 */
bool wlock = false;
byte writes = 0;      /* writes or aborts begun, bounded by MAXW */

inline valid(s1, s2, ok)
{
#ifdef OFFBYONE
    ok = (s2 - (s1 - s1 % 2) < 4)
#else
    ok = (s2 - (s1 - s1 % 2) < 3)
#endif
}

proctype writer()
{
    byte m, c, k;
    do
    :: atomic { writes < MAXW && !wlock -> wlock = true; writes++ }
       m = seq / 2 + 1;
#ifdef ONECOPY
       c = (m + 1) % 2;
#else
       c = m % 2;
#endif
       if
       :: /* a write (write or begin + commit) */
#ifndef NOMARK
          seq = 2 * m - 1;
#endif
          k = 0;
          do
          :: k < W -> data[c * W + k] = m; k++
          :: else -> break
          od;
          seq = 2 * m
       :: /* begin + abort */
          seq = 2 * m - 1;
#ifdef ABORTUP
          seq = 2 * m
#else
          seq = 2 * m - 2
#endif
       fi;
       wlock = false
    :: writes >= MAXW -> break
    od
}

proctype reader()
{
    byte r, s1, s2, n, c, k, v0, v, last = 0;
    bool ok, mixed;
    for (r : 1 .. READS) {
        s1 = seq;
        n = s1 / 2;
        c = n % 2;
        mixed = false;
        v0 = data[c * W];
        k = 1;
        do
        :: k < W -> v = data[c * W + k]; mixed = mixed || v != v0; k++
        :: else -> break
        od;
        s2 = seq;
        valid(s1, s2, ok);
        assert(!ok || (!mixed && v0 == n && n >= last));
        if
        :: ok -> last = n
        :: else -> skip
        fi
    }
}

init {
    atomic {
        run writer();
        run reader()
    }
}
