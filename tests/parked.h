/* SPDX-License-Identifier: BSD-2-Clause */
/* parked.h — test helper: which threads of this process are parked on an
 * eventcount, read from the kernel rather than guessed with a pause.
 *
 * A thread is parked when /proc/self/task/TID/syscall shows it sleeping in
 * futex on the eventcount's epoch word (its third field is the expected
 * value, the key). Include after <cmocka.h>: wait_parked asserts. Waits are
 * bounded (PARKED_BOUND_NS); a test never relies on the bound to pass. */
#ifndef LFP_TESTS_PARKED_H
#define LFP_TESTS_PARKED_H

#include <dirent.h>
#include <inttypes.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "lfpat.h"

#define PARKED_BOUND_NS 5000000000LL

/* Is thread tid asleep in futex on word? Sets *expected to the value it
 * waits for (the epoch key it parked with). */
static inline bool parked_on(pid_t tid, _Atomic uint32_t *word, uint32_t *expected)
{
    char path[64], state = 0;
    snprintf(path, sizeof path, "/proc/self/task/%d/stat", (int)tid);
    FILE *f = fopen(path, "r");
    if (!f)
        return false;
    /* the state follows the command name in parentheses */
    int ok = fscanf(f, "%*d (%*[^)]) %c", &state) == 1;
    fclose(f);
    if (!ok || state != 'S')
        return false;
    snprintf(path, sizeof path, "/proc/self/task/%d/syscall", (int)tid);
    long nr = -1;
    uintptr_t addr = 0, op = 0, val = 0;
    if (!(f = fopen(path, "r")))
        return false;
    ok = fscanf(f, "%ld %" SCNxPTR " %" SCNxPTR " %" SCNxPTR, &nr, &addr, &op, &val) == 4;
    fclose(f);
    if (!ok || nr != SYS_futex || addr != (uintptr_t)word)
        return false;
    *expected = (uint32_t)val;
    return true;
}

/* How many threads of this process sleep in futex on word, and how many of
 * them with `now` as the expected value. */
static inline void count_on(const void *word, uint32_t now, int *all, int *fresh)
{
    *all = *fresh = 0;
    DIR *d = opendir("/proc/self/task");
    assert_non_null(d);
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        uint32_t key = 0;
        if (e->d_name[0] != '.' &&
            parked_on((pid_t)atoi(e->d_name), (_Atomic uint32_t *)word, &key)) {
            ++*all;
            *fresh += key == now;
        }
    }
    closedir(d);
}

/* How many threads of this process are parked on ec, and how many of them
 * with the current epoch as key (parked after the last notify). */
static inline void count_parked(lfp_ec *ec, int *all, int *fresh)
{
    /* relaxed: a test-side snapshot; the kernel's view is what counts. */
    count_on(&ec->epoch, atomic_load_explicit(&ec->epoch, memory_order_relaxed), all, fresh);
}

/* Wait (bounded) until n threads are parked on ec, at least `fresh` of them
 * after the last notify. */
static inline void wait_parked(lfp_ec *ec, int n, int fresh)
{
    int64_t end = lfp_after(PARKED_BOUND_NS);
    for (;;) {
        int all = 0, f = 0;
        count_parked(ec, &all, &f);
        if (all == n && f >= fresh)
            return;
        assert_true(lfp_now() < end);   /* a waiter never parked: a test setup failure */
        sched_yield();
    }
}

/* Wait (bounded) until n threads sleep in futex on word (any futex user:
 * a contended pthread mutex sleeps on its first word with glibc). */
static inline void wait_blocked_on(const void *word, int n)
{
    int64_t end = lfp_after(PARKED_BOUND_NS);
    for (;;) {
        int all = 0, f = 0;
        count_on(word, 0, &all, &f);
        if (all == n)
            return;
        assert_true(lfp_now() < end);
        sched_yield();
    }
}

#endif
