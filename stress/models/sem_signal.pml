/* SPDX-License-Identifier: BSD-2-Clause */
/* sem_signal.pml — lfp_sem's wake protocol: no lost wake-up, no stuck signal.
 *
 * Abstracts include/lfpat/sem.h and src/sem.c. One state word holds
 *     P  free permits
 *     G  signals: wake-ups issued whose woken thread has not tried yet
 *     W  registered waiters (blocked in acquire past the spin phase)
 * and every operation below is one CAS on it (an atomic block here). The rule
 * signal(): if min(P, W) > G and G < GMAX, then G++ and the caller notifies
 * the eventcount after its CAS. Operations:
 *   try_acquire        P > 0 ? P--                       (anyone: spinners, bargers)
 *   release            P++; signal()
 *   take_or_register   P > 0 ? P-- : W++
 *   take_registered    P > 0 ? (P--, W--, G -= G > 0, signal())
 *                            : (G -= G > 0)              (a try consumes a signal)
 *   leave              W--; G -= G > 0; signal()         (timeout / cancel)
 * A registered waiter loops: prepare (ecw++, key = epoch); take_registered;
 * on failure wait(key): futex "if epoch == key, park"; woken -> ecw--, loop;
 * a waiter that may time out can give up after a failed take (it leaves at
 * once) or while waiting (it tries once more, success preferred, then
 * leaves). Waiter 0 keeps its permit (so
 * a woken waiter's own release cannot hide a missing wake-up), the others
 * give theirs back; waiter 2 may give up. The eventcount is modelled as in
 * eventcount.pml: notify = if (ecw > 0) { epoch++; unpark one }. Promela's
 * sequential consistency stands for the seq_cst CAS + seq_cst load of
 * lfp_q_notify_after_sc_ against lfp_ec_prepare's seq_cst RMW and fence.
 *
 * GMAX is tiny here (1 by default; run.sh also checks 2) so that the
 * saturation path is exercised: a waiter that takes a permit re-applies the
 * rule, chaining the wake-ups a saturated G held back.
 *
 * -DLIFETIME (sem.h, "Lifetime"): waiter 0, which keeps its permit, is the
 * hand-off acquirer that destroys and frees the semaphore as soon as every
 * other call has returned, except releases past their CAS (`live` counts
 * the calls before that point). A release that is about to signal raises
 * `notifiers` before its CAS (here in the CAS's atomic step: the raise is
 * sequenced before the CAS, so under the model's sequential consistency
 * nothing can observe the CAS without the raise), notifies after the CAS,
 * then drops `notifiers` (its
 * last access) and wakes the destroyer if DESTROYING was set in that RMW.
 * The destroy waits for `notifiers` to reach 0: it marks DESTROYING and
 * parks iff the count still equals what it read (the futex compare), and
 * is unparked only by a drop's wake. Every access to the object after a
 * CAS (the eventcount in notify, the drop) asserts it is not freed. The
 * barger is left out of this variant (a reduction: 2.5M states instead of
 * 37M; its try and release add no kind of access the holders' and waiters'
 * releases do not make).
 *
 * Checked: holders never exceed CAP; at the end every permit is free or
 * kept and W == G == 0 (no signal is left without a thread to consume it); no
 * waiter stays parked (an invalid end state = a lost wake-up); G <= W always;
 * with -DLIFETIME: no access after the free; the destroy is not left parked.
 *
 * -DNOCHAIN (negative control): take_registered does not re-apply the rule.
 * With G saturated, a release that found G == GMAX issues no wake-up and no
 * taker passes it on: a waiter stays parked next to a free permit.
 * -DLEAKSIGNAL -DGMAX=2 (negative control): leave does not consume. A release
 * may count a waiter that is already giving up (it is still in W) as one to
 * signal; that signal then outlives every consumer and suppresses the
 * wake-up a parked waiter needs.
 * -DLIFETIME -DUNCOUNTED (negative control): releases do not count
 * themselves as notifiers (the code before the fix, with the stats add
 * already moved before the CAS): the destroy frees while a release is
 * still notifying.
 * -DLIFETIME -DSTATSAFTER (negative control): every release touches the
 * object after its CAS (main's stats add): an access after the free.
 */
#ifndef GMAX
#define GMAX 1
#endif
#define CAP 2
#define NW 3

byte P = 0;          /* both permits start held by the two holders */
byte G = 0;
byte W = 0;
byte held = CAP;
byte kept = 0;       /* permits a waiter keeps to the end */
byte epoch = 0;
byte ecw = 0;        /* the eventcount's waiters count */
bool parked[NW];
byte live = 4;       /* calls before their last CAS, not counting waiter 0 */
byte notifiers = 0;  /* releases between their raise and their drop */
bool destroying = false;
bool dparked = false;
bool freed = false;

inline signal(added) {   /* inside the caller's atomic block */
    if
    :: (P < W -> P : W) > G && G < GMAX -> G++; added = true
    :: else -> skip
    fi
}

#ifdef LIFETIME
inline touch() { assert(!freed) }   /* an access to the object */
#define LIVE_DONE live--
#else
#define touch() skip
#define LIVE_DONE skip
#endif

#if defined(UNCOUNTED) || !defined(LIFETIME)
#define DROP skip
#else
#define DROP notifiers--; wake = destroying
#endif

inline unpark_one() {
    epoch++;
    if
    :: parked[0] -> parked[0] = false
    :: parked[1] -> parked[1] = false
    :: parked[2] -> parked[2] = false
    :: else -> skip
    fi
}

/* lfp_q_notify_after_sc_: if (ecw > 0) wake one. */
inline notify() {
    if
    :: ecw > 0 -> atomic { touch(); unpark_one() }
    :: else -> touch()
    fi
}

/* A counted release: notify, then end_notify: the release fetch_sub of
 * `notifiers` (the last access), then a wake that reads nothing. The drop
 * shares the notify's last step (a reduction: only the destroy reads
 * `notifiers`, and the drop's own step, with its wake, stays separate
 * from the destroy's park). */
inline notify_counted() {
    if
    :: ecw > 0 -> atomic { touch(); unpark_one(); DROP }
    :: else -> atomic { touch(); DROP }
    fi;
    dparked = (wake -> false : dparked)
}

inline check() { assert(G <= W) }

inline release() {       /* lfp_sem_release and lfp_sem_release_slow_ */
    added = false;
    atomic {             /* the CAS; live--: the call may be treated as returned */
        assert(P < CAP); P++; held--; signal(added); check(); LIVE_DONE;
#if defined(LIFETIME) && !defined(UNCOUNTED)
        if               /* the notifier count, raised before a signalling CAS */
        :: added -> notifiers++
        :: else -> skip
        fi
#endif
    };
#ifdef STATSAFTER
    touch();
#endif
    if
#ifdef LIFETIME
    :: added -> notify_counted()
#else
    :: added -> notify()
#endif
    :: else -> skip
    fi
}

inline take_registered(ok) {
    added = false;
    atomic {
        if
        :: P > 0 ->
            P--; W--; held++;
            if
            :: G > 0 -> G--
            :: else -> skip
            fi;
#ifndef NOCHAIN
            signal(added);
#endif
            ok = true
        :: else ->
            if
            :: G > 0 -> G--
            :: else -> skip
            fi;
            ok = false
        fi;
        assert(held <= CAP);
        check()
    };
    if
    :: added -> notify()
    :: else -> skip
    fi
}

/* The hand-off acquirer's lfp_sem_destroy and free, once every other call
 * has returned (releases may still be past their CAS). */
inline destroy() {
    (live == 0);
    do
    :: notifiers == 0 -> break
    :: else ->
        atomic {         /* CAS: mark DESTROYING on a word still counting someone */
            if
            :: notifiers > 0 -> seen = notifiers; destroying = true
            :: else -> seen = 0
            fi
        };
        atomic {         /* futex_wait(word, seen | DESTROYING) */
            if
            :: seen > 0 && notifiers == seen -> dparked = true
            :: else -> skip
            fi
        };
        (!dparked)
    od;
    freed = true
}

proctype holder() {
    bool added, wake;
    release()
}

proctype barger() {      /* one try_acquire; gives back what it got */
    bool added, wake, ok = false;
    atomic {
        if
        :: P > 0 -> P--; held++; ok = true
        :: else -> LIVE_DONE
        fi
    };
    if
    :: ok -> release()
    :: else -> skip
    fi
}

proctype waiter(byte id; bool may_leave; bool keep) {
    bool added, wake, ok;
    byte key, seen;
    atomic {             /* the unregistered spin: one try stands for all */
        if
        :: P > 0 -> P--; held++; ok = true
        :: else -> ok = false
        fi
    };
    if
    :: ok -> goto got
    :: else -> skip
    fi;
    atomic {             /* take_or_register */
        if
        :: P > 0 -> P--; held++; ok = true
        :: else -> W++; ok = false
        fi
    };
    if
    :: ok -> goto got
    :: else -> skip
    fi;
loop:
    ecw++;               /* lfp_ec_prepare */
    key = epoch;
    take_registered(ok);
    if
    :: ok -> ecw--; goto got
    :: else -> skip
    fi;
    if                   /* deadline / cancel seen before parking */
    :: may_leave -> ecw--; goto leave_now
    :: true -> skip
    fi;
    atomic {             /* futex_wait(epoch, key) */
        if
        :: epoch == key -> parked[id] = true
        :: else -> skip
        fi
    };
    if
    :: !parked[id] -> ecw--; goto loop                   /* woken or epoch moved */
    :: may_leave -> parked[id] = false; ecw--; goto gave_up  /* deadline / cancel */
    fi;
gave_up:
    take_registered(ok);                                 /* success preferred */
    if
    :: ok -> goto got
    :: else -> skip
    fi;
leave_now:
    added = false;
    atomic {             /* leave: consumes a signal like a try */
        W--;
#ifndef LEAKSIGNAL
        if
        :: G > 0 -> G--
        :: else -> skip
        fi;
#endif
        signal(added);
        check()
    };
    if
    :: added -> notify()
    :: else -> skip
    fi;
#ifdef LIFETIME
    live--;
#endif
    goto out;
got:
    if
    :: keep -> kept++;
#ifdef LIFETIME
        destroy()
#else
        skip
#endif
    :: else -> release()
    fi;
out:
    skip
}

init {
    atomic {
        run holder(); run holder();
#ifndef LIFETIME
        run barger();
#endif
        run waiter(0, false, true); run waiter(1, false, false); run waiter(2, true, false)
    }
    (_nr_pr == 1);
    assert(P + kept == CAP && held == kept && W == 0 && G == 0 && ecw == 0);
#ifdef LIFETIME
    assert(freed && notifiers == 0 && live == 0)
#else
    skip
#endif
}
