/* SPDX-License-Identifier: BSD-2-Clause */
/* eventcount.pml — no lost wake-up in the eventcount park/unpark protocol.
 *
 * Abstracts include/lfpat/eventcount.h and src/eventcount.c:
 *   lfp_ec_prepare  -> waiters++ ; key = epoch        (one step each; the
 *                      seq_cst fence is modelled by Promela's sequential
 *                      consistency: no step is reordered)
 *   lfp_ec_abort    -> waiters--
 *   lfp_ec_wait     -> futex_wait(epoch, key): atomically "if epoch == key,
 *                      park"; returns when a wake clears parked[] or on its
 *                      own timeout/cancel (nondeterministic, for the waiter
 *                      that may give up); then waiters--
 *   lfp_ec_notify_one -> (fence) if (waiters > 0) { epoch++; wake one parked }
 *   lfp_ec_await    -> the loop: prepare; try; abort on success or on
 *                      cancel; else wait; after a timeout/cancel one last try,
 *                      then, if it had parked, pass a wake-one on.
 * The condition is a count of items (a semaphore-like try: take one if any);
 * producers add one item and notify_one. The spin phase of lfp_ec_await is
 * only extra failed tries and is left out.
 * What this abstracts away: a woken consumer may take ANY item, so a wake
 * is never wasted on an item the consumer cannot take. A FIFO queue's
 * consumer can take only the head cell, which may be claimed but not yet
 * published; that lost wake-up (issue 14 item 1) is invisible here and is
 * checked with the head-only condition in mpmc_wake.pml.
 *
 * Checked: no waiter stays parked while an item it could take is left (an
 * invalid end state = a lost wake-up), and items are conserved (assert).
 * Consumer 0 never gives up; consumer 1 may time out or be cancelled at any
 * wait, which exercises the pass-on.
 *
 * -DNOFENCE (negative control): the notifier without its fence. Under C11 its
 * item store may become visible after its waiters load (store->load
 * reordering, what x86's store buffer does); modelled by doing the load
 * first. spin must find the lost wake-up.
 */
#define NP 2    /* producers, one item each */
#define NC 2    /* consumers */

byte items = 0;
byte taken = 0;
byte epoch = 0;
byte waiters = 0;
bool parked[NC];

inline wake_one() {             /* lfp_ec_wake_(ec, 1): epoch++, FUTEX_WAKE 1 */
    atomic {
        epoch++;
        if
        :: parked[0] -> parked[0] = false
        :: parked[1] -> parked[1] = false
        :: else -> skip
        fi
    }
}

inline notify_one() {           /* lfp_ec_notify_one with its fence */
    if
    :: waiters > 0 -> wake_one()
    :: else -> skip
    fi
}

inline try_take(ok) {           /* the try function: an atomic take */
    atomic {
        if
        :: items > 0 -> items--; taken++; ok = true
        :: else -> ok = false
        fi
    }
}

proctype producer() {
#ifdef NOFENCE
    bool saw;
    saw = (waiters > 0);        /* the load overtook the store */
    items++;
    if
    :: saw -> wake_one()
    :: else -> skip
    fi
#else
    items++;
    notify_one()
#endif
}

proctype consumer(byte id; bool may_give_up) {
    bool ok = false;
    bool was_parked = false;
    bool gave_up = false;
    byte key;
again:
    waiters++;                  /* lfp_ec_prepare */
    key = epoch;
    try_take(ok);
    if
    :: ok -> waiters--; goto done             /* lfp_ec_abort */
    :: !ok && may_give_up -> waiters--; goto last_try   /* cancel seen before parking */
    :: !ok -> skip
    fi;
    was_parked = true;
    atomic {                    /* futex_wait(&epoch, key) */
        if
        :: epoch == key -> parked[id] = true
        :: else -> skip
        fi
    }
    if
    :: atomic { !parked[id] -> skip }                       /* woken / epoch moved */
    :: may_give_up -> atomic { parked[id] = false; gave_up = true }   /* timeout */
    :: may_give_up -> atomic { !parked[id] -> gave_up = true }        /* woken, then cancel seen */
    fi;
    waiters--;                  /* end of lfp_ec_wait */
    if
    :: !gave_up -> goto again
    :: else -> skip
    fi;
last_try:
    try_take(ok);
    if
    :: !ok && was_parked -> notify_one()      /* pass the possible wake-up on */
    :: else -> skip
    fi;
done:
    skip
}

init {
    atomic {
        run consumer(0, false);
        run consumer(1, true);
        run producer();
        run producer()
    }
    (_nr_pr == 1);
    assert(items + taken == NP);
    assert(taken >= 1)          /* consumer 0 never gives up */
}
