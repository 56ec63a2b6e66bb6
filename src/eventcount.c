/* SPDX-License-Identifier: BSD-2-Clause */
#include "lfpat/eventcount.h"

#include "cancel_watch.h"
#include "park.h"

#if defined(__linux__)
#include <linux/membarrier.h>
#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

void lfp_ec_wake_(lfp_ec *ec, int n)
{
    /* release: pairs with the acquire epoch snapshot in lfp_ec_prepare; a
     * waiter that reads the new epoch also sees the condition made true
     * before this notify. */
    atomic_fetch_add_explicit(&ec->epoch, 1, memory_order_release);
    lfp_park_wake(&ec->epoch, n);
}

int lfp_ec_wait(lfp_ec *ec, uint32_t key, int64_t deadline, lfp_cancel *cancel)
{
    if (!ec)
        return EINVAL;
    struct lfp_cancel_watch watch;
    int rc = 0;
    LFP_TEST_HOOK("ec.wait");   /* prepared, not yet parked */
    if (cancel && lfp_cancel_watch(cancel, &watch, &ec->epoch) != 0) {
        rc = ECANCELED;
    } else {
        /* A fire after the registration bumps the epoch, so this returns. */
        rc = lfp_park_wait(&ec->epoch, key, deadline);
        if (cancel) {
            lfp_cancel_unwatch(cancel, &watch);
            if (lfp_cancel_fired(cancel))
                rc = ECANCELED;
        }
    }
    lfp_ec_abort(ec);
    return rc;
}

/* Spin rounds before parking. Short: on 2 cores with oversubscription a
 * spinner steals the time slice of the thread it waits for; the rounds past
 * the pause phase yield (see lfp_spin_pause). */
#define AWAIT_SPINS 40

int lfp_ec_await(lfp_ec *ec, lfp_try_fn try_fn, void *arg,
                 int64_t deadline, lfp_cancel *cancel, bool wake_one)
{
    int rc;
    if (!ec || !try_fn)
        return EINVAL;
    for (unsigned i = 0; i < AWAIT_SPINS; i++) {
        rc = try_fn(arg);
        if (rc != EAGAIN)
            return rc;
        if (lfp_cancel_fired(cancel))
            return ECANCELED;
        lfp_spin_pause(i);
    }
    bool parked = false;
    for (;;) {
        uint32_t key = lfp_ec_prepare(ec);
        rc = try_fn(arg);
        if (rc == EAGAIN) {
            if (lfp_cancel_fired(cancel))
                rc = ECANCELED;
            else if (deadline != LFP_FOREVER && lfp_now() >= deadline)
                rc = ETIMEDOUT;
        }
        if (rc != EAGAIN) {
            lfp_ec_abort(ec);
            break;
        }
        parked = true;
        rc = lfp_ec_wait(ec, key, deadline, cancel);
        if (rc != 0) {
            /* Timed out or cancelled: one last try, success preferred. A
             * try_fn may itself give up (ETIMEDOUT/ECANCELED, the queues'
             * busy-cell path): that still passes the wake on below. */
            int last = try_fn(arg);
            if (last != EAGAIN)
                rc = last;
            break;
        }
    }
    /* A wake-one notify may have picked this thread just as it gave up;
     * pass it on so that no other waiter stays parked with the condition
     * true. */
    if (wake_one && parked && (rc == ETIMEDOUT || rc == ECANCELED))
        lfp_ec_notify_one(ec);
    return rc;
}

/* ---------------------------------------------------- asymmetric mode */

#if defined(__linux__)
static pthread_once_t asym_once = PTHREAD_ONCE_INIT;
static bool asym_ok;

static void asym_register(void)
{
    long cmds = syscall(SYS_membarrier, MEMBARRIER_CMD_QUERY, 0, 0);
    asym_ok = cmds > 0 && (cmds & MEMBARRIER_CMD_PRIVATE_EXPEDITED) &&
              syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0) == 0;
}

bool lfp_heavy_barrier_ready_(void)
{
    /* pthread_once makes asym_ok visible to every caller that returns here. */
    pthread_once(&asym_once, asym_register);
    return asym_ok;
}

bool lfp_ec_init_asym(lfp_ec *ec)
{
    lfp_ec_init(ec);
    ec->asym = lfp_heavy_barrier_ready_();
    return ec->asym;
}

void lfp_heavy_barrier_(void)
{
    /* Registered in asym_register before any ec could be asymmetric; the
     * command cannot fail then (membarrier(2): EPERM only when unregistered). */
    syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0);
}
#else
bool lfp_ec_init_asym(lfp_ec *ec)
{
    lfp_ec_init(ec);
    return false;
}

bool lfp_heavy_barrier_ready_(void) { return false; }

void lfp_heavy_barrier_(void) {}
#endif
