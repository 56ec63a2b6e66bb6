/* SPDX-License-Identifier: BSD-2-Clause */
/* mpmc_wake.pml — no blocking lfp_mpmc pop stays parked while the head cell
 * is published (or the queue is closed and drained): the eventcount wake-up
 * protocol with the real, head-only FIFO condition.
 *
 * Unlike eventcount.pml (whose woken consumer may take any item), a popper
 * here can only take cell[head], and cell[head] may be claimed by a push
 * that has not published it yet ("busy"): then try_pop says EAGAIN although
 * later cells are published, and the popper parks again, having used up the
 * wake that was meant for the item. This is the lost wake-up of issue 14
 * item 1 (consumers A, B parked; P1 claims 0; P2 publishes 1 and wakes A; A
 * sees cell 0 busy and parks; P1 publishes 0 and wakes B, who takes item 0;
 * A stays parked beside item 1).
 *
 * Abstracts include/lfpat/mpmc.h, src/mpmc.c, src/eventcount.c:
 *   push          -> claim (tail++, one step: the claim CAS); publish
 *                    (pub[pos] = true: the release store of seq); notify_one
 *   try_pop       -> one atomic step on head (the claim CAS; the C code's
 *                    separate seq load and re-read of head only add failed
 *                    tries): take cell[head] if published; else EAGAIN
 *                    (empty or busy) or EPIPE (closed and head == tail)
 *   lfp_mpmc_pop  -> one fast try_pop (inline, no notify), then the slow
 *                    path, lfp_ec_await(try_pop_op) in lfp_mpmc_pop_wait_:
 *                    prepare (waiters++, key = epoch); try_pop; on a result
 *                    abort (waiters--) and leave; else futex_wait(epoch,
 *                    key); waiters--; again. Leaving with a value or EPIPE,
 *                    lfp_mpmc_pop_wait_ passes one wake on (notify_one).
 *                    A popper that may give up can time out (or be
 *                    cancelled) before parking or in the wait, also after
 *                    it was woken; then one last try and, if that fails and
 *                    it had parked, lfp_ec_await's pass-on notify_one.
 *   notify_one    -> if (waiters > 0) { epoch++; FUTEX_WAKE 1 } in three
 *                    steps (the load, the bump, the wake). Every step is
 *                    sequentially consistent: the SB pairing of eventcount.h
 *                    (membarrier or fences) gives exactly that for the
 *                    condition store / waiters load against waiters++ / the
 *                    condition re-check; eventcount.pml checks that shape.
 *   close         -> closed = true (the closed bit in tail: no claim after
 *                    it); notify_all.
 * Left out: the spin phase (lfp_q_await_ and the first rounds of
 * lfp_ec_await: tries without a prepare; they only add tries and wakes),
 * the push side (its mirror: try_push_op on not_full, a busy cell[tail]
 * held by a pop in progress; tests/test_mpmc_lostwake.c push_side runs it),
 * and ring wrap-around (capacity >= pushes: mpmc_cell.pml checks the cells).
 *
 * Checked (pan -DSAFETY): whenever the whole system is quiescent (Promela's
 * `timeout`: every process is finished or parked), no popper is parked while
 * cell[head] is published or the queue is closed and drained — a lost
 * wake-up; values are conserved (assert). Parked poppers sit at an end
 * label, so a popper parked on a really empty queue is a valid end state.
 * The consumers: A and B block (B may give up), F is a plain try_pop user
 * (takes an item without any notify, the fast path of another popper).
 *
 * Controls that spin must fail:
 *   -DPREFIX       the protocol before 19c21ca: no pass-on after success.
 *   -DCLOSE -DNOEPIPEPASS  with close (one push): a slow-path EPIPE does
 *                  not pass on; the wake of the push that fills the busy
 *                  head is used by a popper that finds the item taken by F.
 * The default runs (as built, and -DCLOSE) must find no error; run.sh runs
 * all four. -DNP=3 (23 M states) also passes, too slow for every run.
 */
#ifndef NP
#ifdef CLOSE
#define NP 1            /* with close: one push (before or after it) */
#else
#define NP 2            /* producers, one push each */
#endif
#endif
#define NC 3            /* A, B (blocking), F (try only) */

byte tail = 0;          /* positions claimed */
byte head = 0;          /* positions claimed by pops */
bool pub[NP];           /* cell published */
bool closed = false;
byte taken = 0;
byte epoch = 0;
byte waiters = 0;
bool parked[NC];

inline wake_one() {                 /* FUTEX_WAKE 1 */
    atomic {
        if
        :: parked[0] -> parked[0] = false
        :: parked[1] -> parked[1] = false
        :: else -> skip
        fi
    }
}

inline notify_one() {               /* lfp_ec_notify_asym_(ec, 1) */
    if
    :: waiters > 0 -> epoch++; wake_one()
    :: else -> skip
    fi
}

inline notify_all() {
    if
    :: waiters > 0 -> epoch++; atomic { parked[0] = false; parked[1] = false }
    :: else -> skip
    fi
}

/* rc: 0 taken, 1 EAGAIN (empty or busy), 2 EPIPE */
inline try_pop(rc) {
    atomic {
        if
        :: head < tail && pub[head] -> head++; taken++; rc = 0
        :: head < tail && !pub[head] -> rc = 1            /* busy */
        :: head == tail && closed -> rc = 2
        :: head == tail && !closed -> rc = 1              /* empty */
        fi
    }
}

inline pass_on(rc) {                /* lfp_mpmc_pop_wait_, after lfp_ec_await */
#ifdef PREFIX
    skip
#else
    if
    :: rc == 0 -> notify_one()
#ifndef NOEPIPEPASS
    :: rc == 2 -> notify_one()
#endif
    :: else -> skip
    fi
#endif
}

proctype producer() {
    byte pos;
    atomic {
        if
        :: closed -> goto out               /* EPIPE */
        :: else -> pos = tail; tail++       /* the claim CAS */
        fi
    }
    pub[pos] = true;                        /* publish: release store of seq */
    notify_one();
out:
    skip
}

#ifdef CLOSE
proctype closer() {
    closed = true;
    notify_all()
}
#endif

proctype popper(byte id; bool may_give_up) {
    byte rc, key;
    bool was_parked = false, gave_up = false;
    try_pop(rc);                            /* the inline fast path */
    if
    :: rc != 1 -> goto done
    :: else -> skip
    fi;
again:
    waiters++;                              /* lfp_ec_prepare */
    key = epoch;
    try_pop(rc);
    if
    :: rc != 1 -> waiters--; goto leave     /* lfp_ec_abort */
    :: rc == 1 && may_give_up -> waiters--; goto passon   /* deadline seen */
    :: rc == 1 -> skip
    fi;
    was_parked = true;
    atomic {                                /* futex_wait(&epoch, key) */
        if
        :: epoch == key -> parked[id] = true
        :: else -> skip
        fi
    }
end_parked:
    if
    :: atomic { !parked[id] -> skip }                                 /* woken */
    :: atomic { may_give_up && parked[id] -> parked[id] = false; gave_up = true }  /* timeout */
    :: atomic { may_give_up && !parked[id] -> gave_up = true }        /* woken, then timeout */
    fi;
    waiters--;                              /* end of lfp_ec_wait */
    if
    :: !gave_up -> goto again
    :: else -> skip
    fi;
    try_pop(rc);                            /* the last try */
    if
    :: rc != 1 -> goto leave
    :: else -> skip
    fi;
passon:
    if
    :: was_parked -> notify_one()           /* lfp_ec_await's pass-on */
    :: else -> skip
    fi;
    goto done;
leave:
    pass_on(rc);
done:
    skip
}

proctype try_popper() {                     /* lfp_mpmc_try_pop: no notify */
    byte rc;
    try_pop(rc)
}

init {
    atomic {
        run popper(0, false);
        run popper(1, true);
        run try_popper();
        byte i;
        for (i : 1 .. NP) { run producer() }
#ifdef CLOSE
        run closer();
#endif
    }
    timeout ->                              /* quiescent: all done or parked */
    assert(!((parked[0] || parked[1]) &&
             ((head < tail && pub[head]) || (closed && head == tail))));
    assert(taken == head && head <= tail)
}
