/* SPDX-License-Identifier: BSD-2-Clause */
/* sem_cancel.pml — the weighted FIFO semaphore's grant-vs-cancel race: no
 * weight leaked or created, the capacity never exceeded, no waiter left
 * parked while it fits.
 *
 * Abstracts lfp_wsem_try_acquire / lfp_wsem_release (include/lfpat/sem.h,
 * inline fast paths), lfp_wsem_acquire_slow_ / lfp_wsem_release_slow_ (src/sem.c)
 * and the waiter queue (src/wsem_queue.c), step for step:
 *   word = free | QUEUED (one atomic word; `free` and `queued` here, always
 *   changed together in one atomic step, as one CAS or store in C).
 *   try_acquire(n): if !QUEUED && free >= n: free -= n            (CAS loop:
 *                   one step — a failed CAS only re-reads)
 *   release(n):     if QUEUED: slow path; else free += n           (CAS loop)
 *   release slow:   lock; if !QUEUED (drained meanwhile): unlock, release(n)
 *                   again; else free' = free + n, grant loop, publish; unlock
 *   acquire(n):     try_acquire; else lock; take_or_mark_queued (one CAS:
 *                   take if !QUEUED && fits, else set QUEUED); taken: unlock,
 *                   done; else enqueue, unlock, wait for `granted` (a
 *                   deadline or cancel may end the wait; the last check
 *                   prefers the grant: lfp_ec_await), lock;
 *                   granted: unlock; if the wait had ended in timeout/cancel,
 *                        give the weight back with release(n); return
 *                   not granted: leave (unlink; if it was the head, run the
 *                        grant loop), publish; unlock; return the error
 *   grant loop:     while the head fits in free: free -= head.n, unlink it,
 *                   granted = 1 (release store + notify in C)
 *   publish:        word = free | (queue non-empty ? QUEUED : 0)
 * The mutex is `lock`; steps under it are separate steps (the fast paths
 * run concurrently with them). Sequentially consistent: the data hand-off
 * (release/acquire of the word and of `granted`) is not modelled here.
 * lfp_sem (the counting semaphore) has no waiter queue and never hands a
 * permit to a particular waiter, so it has no grant to leak; what it needs —
 * a waiter that gives up passes a wake-up it may have received on — is
 * checked by sem_signal.pml.
 *
 * Threads: H takes 1 unit; W0 asks for 2 (the whole capacity), W1 for 1;
 * each of W0/W1 is patient (waits until granted) or impatient (may give up
 * at any moment). Checked: never more than CAP units held (assert); at every
 * unlock, the queue's head does not fit in free and QUEUED matches the
 * queue (the sem.h invariant; a fitting head left waiting is a lost grant);
 * at the end every unit is free again, the queue empty, and nobody is still
 * waiting (a parked patient waiter is an invalid end state).
 *
 * Negative controls (spin must find each):
 *   -DLEAK        a waiter granted as it gave up returns its error without
 *                 giving the weight back (the seed's bug): weight leaks.
 *   -DNOHEADGRANT a waiter leaving from the head of the queue does not run
 *                 the grant loop: the waiter behind it may fit and stay
 *                 parked.
 */
#define CAP 2
#define NT 3            /* H = 0, W0 = 1, W1 = 2 */

byte free = CAP;
bool queued = false;
bool lock = false;
byte held = 0;
byte need[NT];
bool granted[NT];
chan q = [NT] of { byte };   /* FIFO of waiting ids, under the lock */

inline take_lock() {
    atomic { !lock -> lock = true }
}

/* The sem.h invariant, true whenever the mutex is free. */
inline drop_lock() {
    atomic {
        assert(queued == (len(q) > 0));
        if
        :: (len(q) > 0) -> q?<h>; assert(need[h] > free)
        :: else -> skip
        fi;
        lock = false
    }
}

inline grant_loop() {
    do
    :: (len(q) > 0) ->
        q?<h>;
        if
        :: need[h] <= f -> f = f - need[h]; q?h; granted[h] = true
        :: else -> break
        fi
    :: (len(q) == 0) -> break
    od
}

inline publish() {
    atomic { free = f; queued = (len(q) > 0) }
}

inline release(n) {
    do
    :: atomic {                                /* the inline CAS loop */
           slow = queued;
           if
           :: !slow -> assert(free + n <= CAP); free = free + n
           :: else -> skip
           fi
       };
       if
       :: !slow -> break
       :: else ->                              /* lfp_wsem_release_slow_ */
           take_lock();
           if
           :: !queued -> drop_lock()           /* drained meanwhile: fast path again */
           :: else ->
               f = free + n;
               assert(f <= CAP);
               grant_loop();
               publish();
               drop_lock();
               break
           fi
       fi
    od
}

inline use(n) {
    atomic { held = held + n; assert(held <= CAP) };
    held = held - n;
    release(n)
}

proctype thread(byte id; byte n; bool patient) {
    byte h, f;
    bool ok, slow, gave_up, was_head;
    need[id] = n;
    atomic {                                   /* try_acquire */
        ok = !queued && free >= n;
        if
        :: ok -> free = free - n
        :: else -> skip
        fi
    };
    if
    :: ok -> goto got
    :: else -> skip
    fi;
    take_lock();
    atomic {                                   /* take_or_mark_queued */
        ok = !queued && free >= n;
        if
        :: ok -> free = free - n
        :: !ok && !queued -> queued = true
        :: else -> skip
        fi
    };
    if
    :: ok -> drop_lock(); goto got
    :: else -> skip
    fi;
    granted[id] = false;
    q!id;
    drop_lock();
    if                                         /* lfp_ec_await on granted */
    :: granted[id] -> gave_up = false
    :: !patient -> gave_up = !granted[id]      /* deadline/cancel; last check prefers the grant */
    fi;
    take_lock();
    if
    :: granted[id] ->
        drop_lock();
        if
        :: gave_up ->                          /* granted as it gave up */
#ifndef LEAK
            release(n);
#endif
            goto out
        :: else -> goto got
        fi
    :: else ->                                 /* still queued: leave */
        assert(gave_up);
        f = free;
        q?<h>;
        was_head = (h == id);
        q??eval(id);
#ifndef NOHEADGRANT
        if
        :: was_head -> grant_loop()
        :: else -> skip
        fi;
#endif
        publish();
        drop_lock();
        goto out
    fi;
got:
    use(n);
out:
    skip
}

init {
    bool p1, p2;
    if :: p1 = true :: p1 = false fi;
    if :: p2 = true :: p2 = false fi;
    atomic { run thread(0, 1, true); run thread(1, 2, p1); run thread(2, 1, p2) }
    (_nr_pr == 1);
    assert(free == CAP && held == 0 && !queued && (len(q) == 0))
}
