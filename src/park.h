/* SPDX-License-Identifier: BSD-2-Clause */
/* park.h — internal: block a thread on a 32-bit word (futex semantics).
 *
 * lfp_park_wait returns 0 when woken or when *word != expected on entry (the
 * caller re-checks its condition; spurious returns are allowed: after a
 * signal, and after a futex error that is a bug, see park.c), ETIMEDOUT
 * when the absolute CLOCK_MONOTONIC deadline passes. Callers therefore
 * always wait in a loop that re-checks their condition. lfp_park_wake wakes up
 * to n threads parked on word. On Linux this is FUTEX_WAIT_BITSET (absolute
 * monotonic timeout) / FUTEX_WAKE, private to the process. The portable
 * fallback, compiled everywhere so the tests exercise it, is a hashed table of
 * mutex + condition variable pairs (CLOCK_MONOTONIC condvars).
 */
#ifndef LFP_SRC_PARK_H
#define LFP_SRC_PARK_H

#include "lfpat/cancel.h"
#include "lfpat/common.h"

int  lfp_park_wait(_Atomic uint32_t *word, uint32_t expected, int64_t deadline);
void lfp_park_wake(_Atomic uint32_t *word, int n);

int  lfp_park_wait_portable(_Atomic uint32_t *word, uint32_t expected, int64_t deadline);
void lfp_park_wake_portable(_Atomic uint32_t *word, int n);

/* The same on a 64-bit word: lfp_park_wait64 returns at once if *word !=
 * expected. The futex compares only the low 32 bits of the word (its
 * low-order half in memory), so a caller may rely on being woken or not
 * parking only for changes of those bits; changes of the high bits alone
 * need not end a park. The portable form compares all 64 bits. */
int  lfp_park_wait64(_Atomic uint64_t *word, uint64_t expected, int64_t deadline);
void lfp_park_wake64(_Atomic uint64_t *word, int n);
int  lfp_park_wait64_portable(_Atomic uint64_t *word, uint64_t expected, int64_t deadline);
void lfp_park_wake64_portable(_Atomic uint64_t *word, int n);

/* Waking after the last access. lfp_park_wake and lfp_park_wake64 never
 * read or write *word: FUTEX_WAKE on a private futex only hashes the
 * address (the portable form hashes it to pick a bucket). So a notifier may
 * call them after its last access to an object that a woken waiter may
 * already have freed: the worst case is a spurious wake-up of whoever parks
 * at that address later, which every caller tolerates (they re-check). */

/* One step of a bounded spin: a CPU pause hint for the first rounds, then
 * sched_yield (on 2 cores with more runnable threads than cores, yielding lets
 * the thread we wait for run). */
void lfp_spin_pause(unsigned round);

/* ECANCELED or ETIMEDOUT if a blocking call must give up now (cancel
 * fired, or the CLOCK_MONOTONIC `deadline` passed), else 0. */
static inline int lfp_give_up_(int64_t deadline, lfp_cancel *cancel)
{
    if (lfp_cancel_fired(cancel))
        return ECANCELED;
    if (deadline != LFP_FOREVER && lfp_now() >= deadline)
        return ETIMEDOUT;
    return 0;
}

#endif
