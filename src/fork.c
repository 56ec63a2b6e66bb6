/* SPDX-License-Identifier: BSD-2-Clause */
/* atfork handlers for lfpat's process-wide state: see fork.h. */
#include "fork.h"

#include <pthread.h>
#include <stdatomic.h>

/* relaxed everywhere: written only by the child handler, before any thread
 * of the child exists besides the one that forked. */
static _Atomic uint32_t generation;

static void prepare(void)
{
    lfp_cancel_fork_lock();
    lfp_slot_fork_lock();
    lfp_park_fork_lock();
    lfp_snap_fork_lock();
}

static void parent(void)
{
    lfp_snap_fork_unlock();
    lfp_park_fork_unlock(0);
    lfp_slot_fork_unlock();
    lfp_cancel_fork_unlock();
}

static void child(void)
{
    /* relaxed: no other thread exists in the child yet (see above). */
    atomic_fetch_add_explicit(&generation, 1, memory_order_relaxed);
    lfp_snap_fork_unlock();
    lfp_park_fork_unlock(1);
    lfp_slot_fork_unlock();
    lfp_cancel_fork_unlock();
}

static pthread_once_t registered = PTHREAD_ONCE_INIT;

static void do_register(void)
{
    pthread_atfork(prepare, parent, child);
}

void lfp_fork_register(void)
{
    pthread_once(&registered, do_register);
}

uint32_t lfp_fork_generation(void)
{
    /* relaxed: written only before the child has other threads (above);
     * pthread_create orders that write before every later thread's reads. */
    return atomic_load_explicit(&generation, memory_order_relaxed);
}
