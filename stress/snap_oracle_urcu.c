/* SPDX-License-Identifier: BSD-2-Clause */
/* stress_snap_oracle's liburcu memb adapter: the known-good implementation
 * the checker must accept. Built only where liburcu is found and the build
 * is not TSan's (liburcu 0.13's grace period is inline asm and futexes TSan
 * cannot see: it would report every free as a race; see TOOLCHAIN.md).
 *
 * Readers: rcu_read_lock / rcu_dereference / rcu_read_unlock (nested
 * sections nest). Writers: rcu_xchg_pointer, then synchronize_rcu and the
 * free (publish), or call_rcu (publish_async); drain is rcu_barrier. Every
 * thread registers (call_rcu wants a registered caller). The library's
 * calls, not its inlined fast paths (no _LGPL_SOURCE): the oracle tests
 * liburcu's behaviour, not its speed. */
#include <stdlib.h>

#include <urcu/urcu-memb.h>

#include "harness.h"
#include "snap_oracle.h"

static oracle_ver *cur;   /* the rcu-protected pointer */

/* call_rcu's link, beside the version (the oracle owns the version). */
struct retired {
    struct rcu_head head;
    oracle_ver *v;
};

static void init(oracle_ver *initial) { rcu_assign_pointer(cur, initial); }

static void destroy(void)
{
    snap_oracle_free(cur);
    cur = NULL;
}

static void thread_init(void) { urcu_memb_register_thread(); }
static void thread_fini(void) { urcu_memb_unregister_thread(); }

static oracle_ver *enter(void)
{
    urcu_memb_read_lock();
    return rcu_dereference(cur);
}

static void leave(void) { urcu_memb_read_unlock(); }

static int publish(oracle_ver *next, int64_t deadline)
{
    (void)deadline;   /* synchronize_rcu has none */
    oracle_ver *old = rcu_xchg_pointer(&cur, next);
    urcu_memb_synchronize_rcu();
    snap_oracle_free(old);
    return 0;
}

static void free_retired(struct rcu_head *head)
{
    struct retired *r = caa_container_of(head, struct retired, head);
    snap_oracle_free(r->v);
    free(r);
}

static void publish_async(oracle_ver *next)
{
    struct retired *r = malloc(sizeof *r);
    if (!r)
        abort();
    r->v = rcu_xchg_pointer(&cur, next);
    urcu_memb_call_rcu(&r->head, free_retired);
}

static int drain(void)
{
    urcu_memb_barrier();
    return 0;
}

const snap_impl snap_oracle_urcu_memb = {
    .name = "urcu_memb", .deadlines = false, .init = init, .destroy = destroy,
    .thread_init = thread_init, .thread_fini = thread_fini, .enter = enter, .leave = leave,
    .publish = publish, .publish_async = publish_async, .reclaim = NULL, .drain = drain,
};
