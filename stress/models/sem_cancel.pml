/* sem_cancel.pml — semaphore grant-vs-cancel race: no leaked permit.
 *
 * Abstracts the direct-handoff (FIFO) design of lfp_wsem_acquire /
 * lfp_wsem_release (lfp_sem hands no permit to a waiter: its wake protocol
 * is sem_signal.pml): the waiter queue is guarded by a small lock
 * (one atomic block here), and each queued waiter has a state word:
 *     WAITING -> GRANTED   by release (the permit moves to the waiter)
 *     WAITING -> CANCELLED by the waiter itself on timeout/cancel
 * both by CAS, so exactly one wins. A waiter whose cancel CAS loses has been
 * granted: it prefers success and returns 0 (-DGIVEBACK: it returns
 * ECANCELED and releases the permit, which re-dispatches it to the next
 * waiter; both are leak-free). release skips cancelled waiters; with none
 * waiting the permit returns to the pool.
 *
 * Checked: at the end avail + held == CAP (no permit leaked or created),
 * never more than CAP held at once, and no waiter parked forever while a
 * permit is free (invalid end state).
 *
 * -DLEAK (negative control, the seed's bug): a waiter cancelled at the moment
 * it was granted returns ECANCELED without giving the permit back. spin must
 * find the leak.
 */
#define CAP 1
#define NW 2            /* waiters; one more thread holds the permit first */
#define WAITING 1
#define GRANTED 2
#define CANCELLED 3

byte avail = CAP;
byte held = 0;
byte wstate[NW];
chan q = [NW] of { byte };   /* FIFO of waiting ids, under the lock */

inline release() {
    byte w;
    bool given = false;
    atomic {
        do
        :: nempty(q) ->
            q?w;
            if
            :: wstate[w] == WAITING -> wstate[w] = GRANTED; given = true; break
            :: else -> skip              /* cancelled: skip it */
            fi
        :: empty(q) -> break
        od;
        if
        :: !given -> avail++
        :: else -> skip
        fi
    }
}

inline hold() {
    atomic { held++; assert(held <= CAP) }
}

inline unhold() {
    held--
}

proctype holder() {
    atomic { avail > 0 -> avail-- };
    hold();
    unhold();
    release()
}

proctype waiter(byte id) {
    bool got = false;
    atomic {                                  /* try, else enqueue (under the lock) */
        if
        :: avail > 0 && empty(q) -> avail--; got = true
        :: else -> wstate[id] = WAITING; q!id
        fi
    }
    if
    :: got -> goto use
    :: else -> skip
    fi;
    if
    :: wstate[id] == GRANTED -> goto use       /* woken by the grant */
    :: atomic { wstate[id] == WAITING -> wstate[id] = CANCELLED } -> goto out   /* cancel won */
    :: wstate[id] == GRANTED ->                /* cancel lost the CAS: it was granted */
#ifdef LEAK
        goto out
#elif defined(GIVEBACK)
        release(); goto out
#else
        goto use
#endif
    fi;
use:
    hold();
    unhold();
    release();
out:
    skip
}

init {
    atomic { run holder(); run waiter(0); run waiter(1) }
    (_nr_pr == 1);
    assert(held == 0 && avail == CAP)
}
