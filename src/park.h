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

#include "lfpat/common.h"

int  lfp_park_wait(_Atomic uint32_t *word, uint32_t expected, int64_t deadline);
void lfp_park_wake(_Atomic uint32_t *word, int n);

int  lfp_park_wait_portable(_Atomic uint32_t *word, uint32_t expected, int64_t deadline);
void lfp_park_wake_portable(_Atomic uint32_t *word, int n);

/* One step of a bounded spin: a CPU pause hint for the first rounds, then
 * sched_yield (on 2 cores with more runnable threads than cores, yielding lets
 * the thread we wait for run). */
void lfp_spin_pause(unsigned round);

#endif
