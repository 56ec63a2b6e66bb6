/* SPDX-License-Identifier: BSD-2-Clause */
/* ppq_wake.pml — no blocking lfp_ppq pop stays parked while a sub-ring
 * holds a claimable value (or the queue is sealed, drained and no push is
 * announced); EPIPE only when nothing accepted is still to come.
 *
 * The pop side's park (prepare, rescan every ring, wait) against the push
 * side's publish (then notify), with the real per-ring condition: a popper
 * scans its cursor ring first, then the others, one ring at a time (the
 * scan is not a snapshot: a ring may fill right after the scan passed it).
 *
 * Abstracts include/lfpat/ppq.h, include/lfpat/internal/ppq.h, src/ppq.c,
 * src/eventcount.c:
 *   ring r        -> head[r], tail[r] (counts), announced[r] (entered > tail)
 *   push          -> announce (announced[r] = true; the store of entered);
 *                    read closed; OPEN: publish (tail[r]++ and the end of the
 *                    announcement: one store of tail), notify_one; else
 *                    withdraw (announced[r] = false), notify_all, EPIPE.
 *   take(r)       -> one atomic step: claim if head[r] < tail[r] (the C
 *                    code's tail read and head CAS: a failed CAS only adds
 *                    a retry)
 *   try_pop       -> take(cursor); take(other); if both failed and the
 *                    queue is SEALED: for each ring, read announced[r], then
 *                    take(r); EPIPE if no take and nothing announced
 *                    (sealed_pop), else EAGAIN.
 *   lfp_ppq_pop   -> one fast try_pop, then lfp_ec_await's loop on
 *                    not_empty: prepare (waiters++, key = epoch); try_pop;
 *                    on a result abort and leave; else futex_wait; again.
 *                    Leaving with a value or EPIPE it passes one wake on
 *                    (lfp_ppq_pop_wait_); a popper that may give up can
 *                    time out, then one last try and, if it had parked,
 *                    lfp_ec_await's pass-on.
 *   notify        -> if (waiters > 0) { epoch++; FUTEX_WAKE n }. Every step
 *                    is sequentially consistent: the SB pairing of
 *                    eventcount.h (membarrier or fences) gives exactly that
 *                    for the condition store / waiters load against
 *                    waiters++ / the re-check (eventcount.pml checks it),
 *                    and close's heavy barrier the same for the
 *                    announcement / closed read against CLOSING / SEALED.
 *   close         -> closed = CLOSING; (barrier) closed = SEALED; notify_all.
 * Left out: the spin phase (tries without a prepare), the push side's
 * not_full (one owner per ring: the eventcount shape of eventcount.pml),
 * wrap-around (capacity >= pushes), the quota rotation (it only changes
 * which ring is tried first).
 *
 * Checked (pan -DSAFETY), when the system is quiescent (`timeout`): no
 * popper parked while a ring holds a claimable value, or while the queue is
 * sealed, drained and nothing is announced; a popper that returned EPIPE
 * left no accepted value behind; values are conserved.
 * Consumers: A and B block, both with cursor ring 0 (B may give up); F is a
 * plain try_pop user (cursor ring 1). One producer per ring, one push
 * each; with -DCLOSE one push, on ring 1, and a closer (two producers and a
 * closer exceed 24 GB of states).
 *
 * Controls that spin must fail:
 *   -DCURSORONLY   a try scans only the cursor ring before parking: A and B
 *                  park beside ring 1's value.
 *   -DCLOSE -DNOPENDING        EPIPE without looking at announcements: a
 *                  popper returns EPIPE while an accepted push publishes.
 *   -DCLOSE -DNOWITHDRAWNOTIFY a refused push withdraws without a notify:
 *                  a popper that saw it announced stays parked.
 *   -DCLOSE -DNOPASS  no pass-on when leaving with a value or EPIPE: as
 *                  in mpmc_wake.pml's NOEPIPEPASS, after close's wake-all a
 *                  popper parks behind the announced push; its publish wakes
 *                  one, F takes the value, the woken one gets EPIPE and must
 *                  wake the other.
 * (-DNOPASS without close finds no error: without close a woken popper
 * that finds nothing claimable has used a wake no one else needed. The
 * pass-on stays for the close case, and the proof in ppq.h uses it.)
 * run.sh runs the model as built (2.6 M states), with -DCLOSE (27 M
 * states, ~20 s, ~3 GB) and the four controls.
 */
#define R 2
#define OPEN 0
#define CLOSING 1
#define SEALED 2

byte head[R];
byte tail[R];
bool announced[R];
byte closed = OPEN;
byte taken = 0;
byte epoch = 0;
byte waiters = 0;
bool parked[2];
bool epiped = false;

inline wake_one() {                 /* FUTEX_WAKE 1 */
    atomic {
        if
        :: parked[0] -> parked[0] = false
        :: parked[1] -> parked[1] = false
        :: else -> skip
        fi
    }
}

inline notify_one() {
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

inline take(r, rc) {
    atomic {
        if
        :: head[r] < tail[r] -> head[r]++; taken++; rc = 0
        :: else -> skip
        fi
    }
}

/* rc: 0 taken, 1 EAGAIN, 2 EPIPE */
inline try_pop(rc, cur, pend) {
    rc = 1;
    take(cur, rc);
#ifndef CURSORONLY
    if
    :: rc != 0 -> take(1 - cur, rc)
    :: else -> skip
    fi;
#endif
    if
    :: rc != 0 && closed == SEALED ->        /* sealed_pop */
        pend = false;
#ifndef NOPENDING
        pend = pend || announced[0];
#endif
        take(0, rc);
        if
        :: rc != 0 ->
#ifndef NOPENDING
            pend = pend || announced[1];
#endif
            take(1, rc)
        :: else -> skip
        fi;
        if
        :: rc != 0 && !pend -> rc = 2
        :: else -> skip
        fi
    :: else -> skip
    fi
}

proctype producer(byte r) {
    announced[r] = true;                    /* entered = t + 1 */
    if
    :: closed == OPEN ->
        atomic { tail[r]++; announced[r] = false }   /* publish: tail = t + 1 */
        notify_one()
    :: else ->
        announced[r] = false;               /* withdraw: entered = t */
#ifndef NOWITHDRAWNOTIFY
        notify_all()
#endif
    fi
}

#ifdef CLOSE
proctype closer() {
    closed = CLOSING;
    closed = SEALED;                        /* after the heavy barrier */
    notify_all()
}
#endif

inline pass_on(rc) {                        /* lfp_ppq_pop_wait_ */
#ifdef NOPASS
    skip
#else
    if
    :: rc == 0 || rc == 2 -> notify_one()
    :: else -> skip
    fi
#endif
}

proctype popper(byte id; bool may_give_up) {
    byte rc, key;
    bool pend;
    bool was_parked = false, gave_up = false;
    try_pop(rc, 0, pend);                         /* the inline fast path */
    if
    :: rc != 1 -> goto done
    :: else -> skip
    fi;
again:
    waiters++;                              /* lfp_ec_prepare */
    key = epoch;
    try_pop(rc, 0, pend);
    if
    :: rc != 1 -> waiters--; goto leave     /* lfp_ec_abort */
    :: rc == 1 && may_give_up -> waiters--; goto passon
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
    :: atomic { !parked[id] -> skip }
    :: atomic { may_give_up && parked[id] -> parked[id] = false; gave_up = true }
    :: atomic { may_give_up && !parked[id] -> gave_up = true }
    fi;
    waiters--;
    if
    :: !gave_up -> goto again
    :: else -> skip
    fi;
    try_pop(rc, 0, pend);                         /* the last try */
    if
    :: rc != 1 -> goto leave
    :: else -> skip
    fi;
passon:
    if
    :: was_parked -> notify_one()
    :: else -> skip
    fi;
    goto done;
leave:
    pass_on(rc);
done:
    if
    :: rc == 2 -> epiped = true
    :: else -> skip
    fi
}

proctype try_popper() {                     /* lfp_ppq_try_pop: no notify */
    byte rc;
    bool pend;
    try_pop(rc, 1, pend);
    if
    :: rc == 2 -> epiped = true
    :: else -> skip
    fi
}

init {
    atomic {
        run popper(0, false);
        run popper(1, true);
        run try_popper();
#ifdef CLOSE
        run producer(1);                    /* one push, on the ring no cursor is on */
        run closer();
#else
        run producer(0);
        run producer(1);
#endif
    }
    timeout ->                              /* quiescent: all done or parked */
    assert(!((parked[0] || parked[1]) &&
             (head[0] < tail[0] || head[1] < tail[1] ||
              (closed == SEALED && !announced[0] && !announced[1]))));
    assert(!(epiped && taken != tail[0] + tail[1]));
    assert(taken == head[0] + head[1] && head[0] <= tail[0] && head[1] <= tail[1])
}
