/* SPDX-License-Identifier: BSD-2-Clause */
#include "lfpat/common.h"

#include "fork.h"

#include <limits.h>
#include <pthread.h>
#include <stdlib.h>

/* Dense thread slots: a bitmap of held slots under one mutex (only touched on
 * a thread's first use and at its exit). A pthread key's destructor gives the
 * slot back at thread exit. The mutex orders a slot's release before its
 * next assignment (the happens-before promised in common.h). */

_Thread_local unsigned lfp_thread_slot_;

#define SLOT_WORDS 1024                 /* 65536 slots; beyond that, slots are shared */
static uint64_t held[SLOT_WORDS];
static pthread_mutex_t slot_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t key_once = PTHREAD_ONCE_INIT;
static pthread_key_t slot_key;
static unsigned overflow_next;

static void release_slot(void *p)
{
    unsigned s = (unsigned)(uintptr_t)p - 1;
    /* A later use during this thread's exit (from another key's destructor)
     * must not take a new slot: glibc runs destructors a bounded number of
     * rounds, so a slot taken in the last round would never be released.
     * The sentinel is above every cell count, so such adds go to the shared
     * fetch-add cells. */
    lfp_thread_slot_ = UINT_MAX;
    if (s >= SLOT_WORDS * 64u)
        return;                        /* an overflow slot was never marked held */
    pthread_mutex_lock(&slot_lock);
    held[s / 64] &= ~(1ull << (s % 64));
    pthread_mutex_unlock(&slot_lock);
}

static void make_key(void)
{
    pthread_key_create(&slot_key, release_slot);
    lfp_fork_register();
}

void lfp_slot_fork_lock(void) { pthread_mutex_lock(&slot_lock); }
void lfp_slot_fork_unlock(void) { pthread_mutex_unlock(&slot_lock); }

unsigned lfp_thread_slot_assign_(void)
{
    pthread_once(&key_once, make_key);
    unsigned s = SLOT_WORDS * 64u;
    pthread_mutex_lock(&slot_lock);
    for (unsigned w = 0; w < SLOT_WORDS; w++) {
        if (held[w] != UINT64_MAX) {
            unsigned b = (unsigned)__builtin_ctzll(~held[w]);
            held[w] |= 1ull << b;
            s = w * 64 + b;
            break;
        }
    }
    if (s == SLOT_WORDS * 64u)         /* all taken: hand out shared high slots */
        s += overflow_next++ % 65536u;
    pthread_mutex_unlock(&slot_lock);
    lfp_thread_slot_ = s + 1;
    pthread_setspecific(slot_key, (void *)(uintptr_t)(s + 1));
    return s + 1;
}
