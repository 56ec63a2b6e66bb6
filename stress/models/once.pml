/* SPDX-License-Identifier: BSD-2-Clause */
/* once.pml — the lfp_once state machine: exactly-once, one runner at a time,
 * no caller returns before completion, and no waiter left parked.
 *
 * Abstracts lfp_once_call / lfp_once_call_retry (include/lfpat/once.h, the
 * inline fast path) and lfp_once_call_slow_ / run() (src/once.c), step for
 * step. One state word: UNSET 0, RUNNING 1, WAITED 2, DONE 3, RETRY 4.
 *   fast path:  if (load(state) == DONE) return result
 *   loop:       s = load(state)
 *               DONE            -> return result
 *               UNSET or RETRY  -> CAS(state, s -> s == RETRY ? WAITED : RUNNING)
 *                                  won: run;  lost: loop
 *               RUNNING         -> CAS(state, RUNNING -> WAITED); lost: loop
 *               (RUNNING marked, or WAITED) -> park(state, WAITED); loop
 *   run:        r = fn()
 *               failed, retry variant: CAS loop WAITED -> RETRY, RUNNING -> UNSET
 *                   (one atomic step here: only markers change the word
 *                   meanwhile, and a failed CAS just re-reads); if it wrote
 *                   RETRY, wake ONE; return r
 *               otherwise: result = r; old = exchange(state, DONE);
 *                   if (old == WAITED) wake ALL; return r
 * park(w, v) is futex_wait: atomically "if w == v, sleep" (lfp_park_wait);
 * wake one / all unparks one / every sleeper (lfp_park_wake; the portable
 * fallback broadcasts, which only adds re-checks). Each atomic
 * operation is one step, sequentially consistent: all of them act on the one
 * word, whose RMWs are totally ordered in C too; the release/acquire edge
 * that publishes fn's effects is the litmus suite's job
 * (stress/litmus/litmus_lib_once.c).
 *
 * Checked with NC callers, each independently lfp_once_call or
 * lfp_once_call_retry, and fn failing nondeterministically (at most MAXFAIL
 * times): at most one caller runs fn at a time; nobody runs fn after it
 * completed; a caller that returns the stored result finds DONE and one
 * completion; when every caller returned, nobody is parked (a parked caller
 * left behind is an invalid end state), fn completed at most once, and it
 * did complete if any caller used the sticky lfp_once_call.
 *
 * Negative controls (spin must find the parked waiter):
 *   -DSTOREDONE    the finisher checks for waiters, then stores DONE (two
 *                  steps instead of one exchange): a waiter that marks
 *                  WAITED in between is never woken.
 *   -DRETRYRUNNING a claimant of RETRY claims it as RUNNING instead of
 *                  WAITED: when it succeeds, its exchange sees RUNNING and
 *                  wakes nobody, though earlier waiters are still parked.
 */
#define NC 3
#define MAXFAIL 2

#define UNSET 0
#define RUNNING 1
#define WAITED 2
#define DONE 3
#define RETRY 4

byte state = UNSET;
byte running = 0;      /* callers inside fn */
byte completions = 0;  /* runs that published DONE */
byte fails = 0;        /* failed fn runs */
bool sticky_used = false;
bool parked[NC];

inline wake_one() {
    atomic {
        if
        :: parked[0] -> parked[0] = false
        :: parked[1] -> parked[1] = false
        :: parked[2] -> parked[2] = false
        :: else -> skip
        fi
    }
}

inline wake_all() {
    atomic { parked[0] = false; parked[1] = false; parked[2] = false }
}

proctype caller(byte id; bool retry) {
    byte s, old;
    bool won, failed;
    if
    :: state == DONE -> goto done          /* the inline fast path */
    :: else -> skip
    fi;
loop:
    s = state;
    if
    :: s == DONE -> goto done
    :: s == UNSET || s == RETRY ->
        atomic {
            won = (state == s);
            if
#ifdef RETRYRUNNING
            :: won -> state = RUNNING
#else
            :: won && s == RETRY -> state = WAITED
            :: won && s == UNSET -> state = RUNNING
#endif
            :: else -> skip
            fi
        };
        if
        :: won -> goto claimed
        :: else -> goto loop
        fi
    :: s == RUNNING ->
        atomic {
            won = (state == RUNNING);
            if
            :: won -> state = WAITED
            :: else -> skip
            fi
        };
        if
        :: won -> goto sleep
        :: else -> goto loop
        fi
    :: s == WAITED -> goto sleep
    fi;
sleep:
    atomic {                               /* lfp_park_wait(&state, WAITED) */
        if
        :: state == WAITED -> parked[id] = true
        :: else -> skip
        fi
    };
    !parked[id];
    goto loop;
claimed:
    atomic { running++; assert(running == 1 && completions == 0) };
    if
    :: fails < MAXFAIL -> failed = true; fails++
    :: true -> failed = false
    fi;
    running--;
    if
    :: failed && retry ->
        atomic {
            assert(state == RUNNING || state == WAITED);
            if
            :: state == WAITED -> state = RETRY; won = true
            :: else -> state = UNSET; won = false
            fi
        };
        if
        :: won -> wake_one()
        :: else -> skip
        fi;
        goto out                           /* returns its own error */
    :: else ->
        completions++;                     /* result = r, before the exchange */
#ifdef STOREDONE
        old = state;
        state = DONE;
#else
        atomic { old = state; state = DONE }
#endif
        if
        :: old == WAITED -> wake_all()
        :: else -> skip
        fi;
        goto out                           /* returns its own result, now stored */
    fi;
done:
    assert(state == DONE && completions == 1);
out:
    skip
}

init {
    bool r0, r1, r2;
    if :: r0 = true :: r0 = false fi;
    if :: r1 = true :: r1 = false fi;
    if :: r2 = true :: r2 = false fi;
    sticky_used = !r0 || !r1 || !r2;
    atomic { run caller(0, r0); run caller(1, r1); run caller(2, r2) }
    (_nr_pr == 1);
    assert(!parked[0] && !parked[1] && !parked[2]);
    assert(completions <= 1);
    assert((completions == 1) == (state == DONE));
    assert(!sticky_used || state == DONE)
}
