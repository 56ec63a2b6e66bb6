/* once.pml — the once state machine: exactly-once, and no waiter left parked.
 *
 * Abstracts the natural futex design of lfp_once_call / lfp_once_call_retry
 * (include/lfpat/once.h on the once branch; the model is of the design, the
 * lead checks the C matches): one 32-bit state word,
 *     0 idle, 1 running, 2 running with waiters, 3 done.
 *   call():  if (load(state) == 3) return;               fast path (acquire)
 *            loop: CAS(state, 0 -> 1) won -> run fn:
 *                    success: old = exchange(state, 3); if (old == 2) wake_all
 *                    failure (retry variant): old = exchange(state, 0);
 *                             if (old == 2) wake_all; return the error
 *                  else s == 3 -> return
 *                       s == 1 -> CAS(state, 1 -> 2) (on failure re-read, loop)
 *                       futex_wait(state, 2); loop
 * futex_wait is "atomically: if state == 2, park"; wake_all unparks all.
 * Each step is one atomic operation (sequential consistency; the C code
 * uses acq_rel/seq_cst RMWs on the one word, which are totally ordered).
 *
 * Checked with NC callers, fn failing nondeterministically (retry variant):
 * fn succeeds at most once; a caller returns success only after fn's success
 * and with state == 3; when all callers returned, no one is parked (invalid
 * end state otherwise) and, if fn never failed, it ran exactly once.
 *
 * -DSTOREDONE (negative control): the finisher publishes done with a plain
 * store after checking for waiters (load, then store 3) instead of one
 * exchange: a waiter that registers in between is never woken. spin must
 * find the parked waiter.
 */
#define NC 3

byte state = 0;
byte runs = 0;        /* successful fn runs */
byte fails = 0;       /* failed fn runs (retry variant) */
bool parked[NC];

inline wake_all() {
    atomic { parked[0] = false; parked[1] = false; parked[2] = false }
}

inline finish(newstate) {
    byte old;
#ifdef STOREDONE
    old = state;
    state = newstate;
#else
    atomic { old = state; state = newstate }
#endif
    if
    :: old == 2 -> wake_all()
    :: else -> skip
    fi
}

proctype caller(byte id) {
    byte s;
    if
    :: state == 3 -> goto success          /* fast path */
    :: else -> skip
    fi;
loop:
    atomic {
        s = state;
        if
        :: s == 0 -> state = 1
        :: else -> skip
        fi
    }
    if
    :: s == 0 ->                           /* won: run fn */
        if
        :: fails < 1 -> fails++; finish(0); goto failed
        :: true -> runs++; finish(3); goto success
        fi
    :: s == 3 -> goto success
    :: s == 1 || s == 2 ->
        atomic {
            if
            :: state == 1 -> state = 2
            :: else -> skip
            fi
        }
        atomic {                           /* futex_wait(&state, 2) */
            if
            :: state == 2 -> parked[id] = true
            :: else -> skip
            fi
        }
        !parked[id];
        goto loop
    fi;
success:
    assert(state == 3 && runs == 1);
failed:
    skip
}

init {
    atomic { run caller(0); run caller(1); run caller(2) }
    (_nr_pr == 1);
    assert(runs <= 1);
    assert(runs == 1 || fails == 1);
    assert(!parked[0] && !parked[1] && !parked[2])
}
