/* SPDX-License-Identifier: BSD-2-Clause */
/* spsc_close.pml — lfp_spsc's close protocol (include/lfpat/spsc.h, "Close"
 * and "Close waits by parking"; src/spsc.c settle/close): no pop returns
 * EPIPE while an accepted push's item is still to come, no push that
 * returns EPIPE published, close never stays parked, and no blocking pop
 * stays parked once the queue is closed and drained.
 *
 * Abstracts include/lfpat/spsc.h, src/spsc.c, src/eventcount.c:
 *   push (try_push, push_n) -> t = tail; entered = t + 1 (the announcement);
 *                  read closed; OPEN: tail = t + M (the publish, M items:
 *                  -DBATCH makes each push a push_n of 2), notify not_empty
 *                  to all; else entered = t (the withdrawal), notify all,
 *                  EPIPE (the producer stops). The ring never fills
 *                  (capacity >= every push; the full-ring wait is
 *                  tests/test_spsc_close.c full_ring_close).
 *   settle      -> CLOSED? done; else read entered, then tail (two steps);
 *                  entered > tail: not yet; else CAS CLOSING -> CLOSED.
 *   close       -> CAS OPEN -> CLOSING; settle until it succeeds, parking on
 *                  not_empty between tries (prepare; settle; futex_wait);
 *                  then notify not_empty to all. The spin rounds before
 *                  parking only add tries: left out.
 *   pop (blocking, until EPIPE) -> try_pop: head < tail: take; else closed
 *                  OPEN: EAGAIN; else settle: not yet: EAGAIN; else re-read
 *                  tail: EPIPE if still empty, else take. Slow path:
 *                  lfp_ec_await (prepare, try, futex_wait), its spin
 *                  phase left out.
 *   notify      -> if (waiters > 0) { epoch++; FUTEX_WAKE n } (three steps).
 *                  -DPHANTOM: the fallback without membarrier
 *                  (lfp_spsc_symmetric_): waiters starts at 1, a phantom
 *                  that no thread removes, and the notify (lfp_spsc_wake_)
 *                  wakes only if waiters > 1.
 * Every step is sequentially consistent: that is what the asymmetric SB
 * shapes give (the membarrier in settle against the announcement's store
 * and read of closed; in lfp_ec_prepare against the notifies), or their
 * seq_cst fallback; stress/litmus/litmus_lib_eventcount.c checks those
 * shapes on the library's code.
 *
 * Checked (pan -DSAFETY): at a pop's EPIPE, every push that read OPEN has
 * published and everything published was popped (assert); at the end every
 * accepted item was popped; every process ends (a parked closer or pop at
 * the end is an invalid end state).
 * Controls that spin must fail:
 *   -DLATEANNOUNCE  the push reads closed before it announces (no SB):
 *                   a pop says EPIPE with an accepted item to come.
 *   -DPUBLISHONE    the publish wakes one waiter, not all: the consumer
 *                   takes the wake, the closer stays parked.
 *   -DNOWITHDRAWNOTIFY  the withdrawal does not notify: the closer parked
 *                   behind the withdrawing push stays parked.
 *   -DPHANTOM -DOVERDISCOUNT  the fallback's notify discounts two waiters,
 *                   not its one phantom: a lone parked waiter is not woken.
 * Variants that pass: -DBATCH, -DPHANTOM (run.sh), -DNPUSH=3, and -DTWOCLOSERS (two
 * closers park side by side; 15 M states, 25 M with -DBATCH: too slow for
 * every run).
 */
#ifndef NPUSH
#define NPUSH 2
#endif
#ifdef BATCH
#define M 2
#else
#define M 1
#endif

#define OPEN 0
#define CLOSING 1
#define CLOSED 2

#ifdef PHANTOM
#define PH 1             /* lfp_spsc_symmetric_'s phantom waiter */
#else
#define PH 0
#endif
#ifdef OVERDISCOUNT
#define DISCOUNT (PH + 1)
#else
#define DISCOUNT PH      /* lfp_spsc_wake_ discounts the phantom */
#endif

byte tail = 0, entered = 0, head = 0;
byte closed = OPEN;
byte epoch = 0, waiters = PH;
#ifdef TWOCLOSERS
#define NCLOSE 2
#else
#define NCLOSE 1
#endif
bool parked[1 + NCLOSE]; /* 0: the consumer, 1..: the closers */
byte accepted = 0;       /* items of pushes that returned 0 */
byte pending = 0;        /* pushes that read OPEN and have not published */

inline notify_all() {
    if
    :: waiters > DISCOUNT -> epoch++; atomic { parked[0] = false; parked[1] = false; parked[NCLOSE] = false }
    :: else -> skip
    fi
}

inline notify_publish() {
#ifdef PUBLISHONE
    if
    :: waiters > DISCOUNT ->
        epoch++;
        atomic {
            if
            :: parked[0] -> parked[0] = false
            :: parked[1] -> parked[1] = false
            :: parked[NCLOSE] -> parked[NCLOSE] = false
            :: else -> skip
            fi
        }
    :: else -> skip
    fi
#else
    notify_all()
#endif
}

/* ok: the queue is CLOSED (this settle or an earlier one moved it) */
inline settle(ok) {
    if
    :: closed == CLOSED -> ok = true
    :: else ->
        e = entered;
        t = tail;
        if
        :: e > t -> ok = false
        :: else -> atomic { if :: closed == CLOSING -> closed = CLOSED :: else -> skip fi };
                   ok = true
        fi
    fi
}

proctype producer() {
    byte t, i, c;
    for (i : 1 .. NPUSH) {
        t = tail;
#ifdef LATEANNOUNCE
        atomic { c = closed; if :: c == OPEN -> pending++ :: else -> skip fi };
        entered = t + 1;
#else
        entered = t + 1;                 /* lfp_spsc_announce_ */
        /* the read of closed (pending: the oracle's count, not the code's) */
        atomic { c = closed; if :: c == OPEN -> pending++ :: else -> skip fi };
#endif
        if
        :: c == OPEN ->
            atomic { tail = t + M; pending-- }   /* lfp_spsc_publish_ */
            notify_publish();
            accepted = accepted + M
        :: else ->
            entered = t;                 /* lfp_spsc_withdraw_ */
#ifndef NOWITHDRAWNOTIFY
            notify_all();
#endif
            break                        /* EPIPE */
        fi
    }
}

proctype closer(byte id) {
    byte e, t, key;
    bool ok;
    atomic { if :: closed == OPEN -> closed = CLOSING :: else -> skip fi };
again:
    settle(ok);
    if
    :: ok -> goto done
    :: else -> skip
    fi;
    waiters++;                           /* lfp_ec_prepare(not_empty) */
    key = epoch;
    settle(ok);
    if
    :: ok -> waiters--; goto done        /* lfp_ec_abort */
    :: else -> skip
    fi;
    atomic { if :: epoch == key -> parked[id] = true :: else -> skip fi };
    !parked[id];
    waiters--;                           /* the end of lfp_ec_wait */
    goto again;
done:
    notify_all()
}

/* rc: 0 taken, 1 EAGAIN, 2 EPIPE */
inline try_pop(rc) {
    t = tail;
    if
    :: head < t -> head++; rc = 0
    :: else ->
        if
        :: closed == OPEN -> rc = 1
        :: else ->
            settle(ok);                  /* lfp_spsc_empty_closing_ */
            if
            :: !ok -> rc = 1
            :: else ->
                t = tail;
                if
                :: head < t -> head++; rc = 0
                :: else ->
                    assert(pending == 0 && head == tail);   /* nothing accepted to come */
                    rc = 2
                fi
            fi
        fi
    fi
}

proctype consumer() {
    byte e, t, key, rc;
    bool ok;
next:
    try_pop(rc);                         /* the inline try */
    if
    :: rc == 0 -> goto next
    :: rc == 2 -> goto done
    :: else -> skip
    fi;
slow:
    waiters++;                           /* lfp_ec_prepare(not_empty) */
    key = epoch;
    try_pop(rc);
    if
    :: rc == 0 -> waiters--; goto next
    :: rc == 2 -> waiters--; goto done
    :: else -> skip
    fi;
    atomic { if :: epoch == key -> parked[0] = true :: else -> skip fi };
    !parked[0];
    waiters--;
    goto slow;
done:
    skip
}

init {
    atomic {
        run producer();
        run consumer();
        run closer(1);
#ifdef TWOCLOSERS
        run closer(2);
#endif
    }
    timeout ->                           /* quiescent: every process ended */
    assert(head == tail && head == accepted)
}
