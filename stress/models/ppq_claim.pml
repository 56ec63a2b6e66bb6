/* SPDX-License-Identifier: BSD-2-Clause */
/* ppq_claim.pml — a consumer's claim in lfp_ppq_take_ (include/lfpat/
 * internal/ppq.h) takes only published positions, each exactly once, with
 * the value its push stored, across laps of a small ring.
 *
 * Unlike ppq_wake.pml (where a take is one atomic step), this model has the
 * C code's separate steps: load head; if h >= seen re-read tail (EAGAIN if
 * h == seen); load slot[h]; CAS head h -> h + 1 (on failure h = head, again).
 * `seen` persists across calls (the consumer handle's tail_seen).
 *
 * Weak memory, abstracted: tail only grows and takes every value in turn,
 * so a tail load may return any value between a lower bound and the current
 * tail. The bound is what C11 guarantees: this thread's earlier tail reads
 * (read-read coherence), and, when the head load is acquire, the tail the
 * consumer that stored that head had read (>= h: it claimed h - 1 only
 * after reading a tail > h - 1). With the head load relaxed nothing relates
 * the two, so the tail read may be older than h. Every other step reads
 * the current value (allowed, and all the claim needs). The producer's
 * full check reads the current head.
 *
 * Checked (pan -DSAFETY): a successful CAS claims a position below the
 * current tail, whose slot holds that position's value; values are taken
 * once each (head never passes tail).
 * Control that spin must fail:
 *   -DRELAXEDHEAD  the head load relaxed (the tail read's bound is only this
 *                  thread's own earlier reads): a consumer that reads a head
 *                  another advanced, then an older tail, claims the
 *                  unpublished position h.
 * run.sh runs it as built and the control.
 */
#define C 2          /* capacity */
#define N 3          /* pushes: one more than a lap */
#define EMPTY 255

byte head, tail;
byte slot[C];
byte taken;          /* successful claims */

proctype producer()
{
    byte t = 0;
    do
    :: t < N ->
end_room:
        (t - head < C);              /* room (acquire load of head); may wait forever: consumers stop */
        slot[t % C] = t;             /* relaxed store of the slot */
        tail = t + 1;                /* release store of tail */
        t++
    :: else -> break
    od
}

/* K calls of take_ on the one ring. */
proctype consumer(byte K)
{
    byte seen = 0, h, v, k = 0;
    do
    :: k < K ->
        h = head;
again:
        if
        :: h >= seen ->
            atomic {
#ifndef RELAXEDHEAD
                if :: seen < h -> seen = h :: else -> skip fi;
#endif
                do                   /* any tail value in [bound, tail] */
                :: seen < tail -> seen++
                :: break
                od
            }
            if
            :: h == seen -> goto next    /* EAGAIN */
            :: else -> skip
            fi
        :: else -> skip
        fi;
        v = slot[h % C];
        atomic {
            if
            :: head == h ->
                head = h + 1;
                assert(h < tail && v == h);
                taken++
            :: else ->
                h = head;
                goto again
            fi
        }
next:
        k++
    :: else -> break
    od
}

init
{
    byte i;
    for (i : 0 .. C - 1) { slot[i] = EMPTY }
    atomic {
        run producer();
        run consumer(2);
        run consumer(2)
    }
}
