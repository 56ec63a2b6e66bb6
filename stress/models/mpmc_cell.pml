/* SPDX-License-Identifier: BSD-2-Clause */
/* mpmc_cell.pml — the bounded MPMC cell protocol (Vyukov): no item lost or
 * duplicated, none read before it was written.
 *
 * Abstracts lfp_mpmc_try_push / lfp_mpmc_try_pop (include/lfpat/mpmc.h), the
 * per-cell sequence-number design: cell i starts with seq = i;
 *   try_push: pos = tail; loop { c = cell[pos % CAP]; d = c.seq - pos;
 *             d == 0: CAS(tail, pos, pos+1) won -> c.val = v; c.seq = pos+1
 *                     lost -> pos = tail (the CAS returns it)
 *             d < 0: full (EAGAIN);  d > 0: pos = tail }
 *   try_pop:  pos = head; loop { c = cell[pos % CAP]; d = c.seq - (pos+1);
 *             d == 0: CAS(head, pos, pos+1) won -> v = c.val; c.seq = pos+CAP
 *             d < 0: empty (EAGAIN);  d > 0: pos = head }
 * Each load, store and CAS is one step (sequential consistency; in C the seq
 * store is a release store — it orders the value before the seq — and the
 * seq load acquire: the MP shape of stress/litmus/litmus_lib_mpmc.c). The C code
 * re-reads tail/head before answering EAGAIN (and retries if they moved);
 * answering EAGAIN at once, as here, only adds failed tries. Positions are small integers: the model runs
 * NP producers x NI items through CAP = 2 cells, so they wrap the ring twice.
 *
 * Checked: every popped value is one that was pushed and not popped before
 * (assert), at the end every value was popped exactly once; the retry loops
 * (callers retrying EAGAIN) make progress: a non-progress-cycle search under
 * weak fairness (run.sh) finds no cycle without a successful push or pop.
 *
 * -DNOSEQ (negative control): pop trusts head < tail instead of the cell's
 * sequence number, so it can take a cell whose producer has reserved it but
 * not written it yet. spin must find the empty read.
 */
#define CAP 2
#define NP 2
#define NI 2                      /* items per producer */
#define TOTAL (NP * NI)

byte tail = 0;
byte head = 0;
byte seq[CAP];
byte val[CAP];                    /* 0 = never written */
bool popped[TOTAL + 1];
byte npopped = 0;

inline try_push(v, ok) {
    byte pos, s;
    pos = tail;
    ok = false;
    do
    :: s = seq[pos % CAP];
       if
       :: s == pos ->
           atomic {
               if
               :: tail == pos -> tail = pos + 1; ok = true
               :: else -> pos = tail
               fi
           }
           if
           :: ok -> val[pos % CAP] = v; seq[pos % CAP] = pos + 1; break
           :: else -> skip
           fi
       :: s < pos -> break                        /* full */
       :: s > pos -> pos = tail
       fi
    od
}

inline try_pop(v, ok) {
    byte pos, s;
    pos = head;
    ok = false;
    do
    :: s = seq[pos % CAP];
#ifdef NOSEQ
       s = (tail > pos -> pos + 1 : pos);
#endif
       if
       :: s == pos + 1 ->
           atomic {
               if
               :: head == pos -> head = pos + 1; ok = true
               :: else -> pos = head
               fi
           }
           if
           :: ok -> v = val[pos % CAP]; val[pos % CAP] = 0; seq[pos % CAP] = pos + CAP; break
           :: else -> skip
           fi
       :: s < pos + 1 -> break                    /* empty */
       :: s > pos + 1 -> pos = head
       fi
    od
}

proctype producer(byte base) {
    byte i = 0;
    bool ok;
    do
    :: i < NI ->
        try_push(base + i, ok);
        if
        :: ok -> progress_push: i++
        :: else -> skip                           /* EAGAIN: retry */
        fi
    :: else -> break
    od
}

proctype consumer(byte quota) {
    byte got = 0, v;
    bool ok;
    do
    :: got < quota ->
        try_pop(v, ok);
        if
        :: ok ->
            atomic {
                assert(v >= 1 && v <= TOTAL && !popped[v]);
                popped[v] = true;
                npopped++
            }
            progress_pop: got++
        :: else -> skip
        fi
    :: else -> break
    od
}

init {
    atomic {
        seq[0] = 0; seq[1] = 1;
        run producer(1); run producer(1 + NI);
        run consumer(TOTAL / 2); run consumer(TOTAL / 2)
    }
    (_nr_pr == 1);
    assert(npopped == TOTAL && head == TOTAL && tail == TOTAL)
}
