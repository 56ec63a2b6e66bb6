/* SPDX-License-Identifier: BSD-2-Clause */
/* Litmus: torn reads of 64-bit values.
 * A writer keeps adding 0x0000000100000001 to a 64-bit value, so its two
 * 32-bit halves are always equal; a reader checks every value it loads.
 *  - checked: the library's lfp_counter (lfp_counter_add / lfp_counter_get,
 *    both relaxed 64-bit atomics): never torn.
 *  - control: the same value kept as two 32-bit atomic halves written one
 *    after the other, which is what a 64-bit field updated by 32-bit stores
 *    looks like: the reader must catch halves that differ.
 * Not round-based: the two threads run their loops side by side.
 * (lfp_now comes through lfpat/counter.h -> lfpat/common.h.)
 */
#include <stdatomic.h>

#include "litmus.h"
#include "lfpat/counter.h"

#define STEP 0x0000000100000001ull

static lfp_counter whole;
static _Atomic uint32_t half[2];
static _Atomic bool writing;
static _Atomic bool enough;               /* the control has fired enough */
static uint64_t torn_seen[2], reads[2];   /* [0] checked, [1] control; reader-owned */

static bool torn(uint64_t v) { return (uint32_t)v != (uint32_t)(v >> 32); }

/* The control gets the same stretch as the round-based controls
 * (litmus.h), and stops once it fired enough. */
static void write_loop(int which)
{
    int64_t stretch = which ? LITMUS_CONTROL_STRETCH : 1;
    int64_t end = lfp_now() + stretch * lfps_cfg.budget_ns;
    uint64_t max = (uint64_t)stretch * lfps_scale(UINT64_C(1) << 32), i = 0;   /* time-bound */
    for (; i < max && !atomic_load(&enough) && ((i & 63) || lfp_now() < end); i++) {
        if (which == 0) {
            lfp_counter_add(&whole, (int64_t)STEP);
        } else {
            /* relaxed: the halves are deliberately not updated as a unit. */
            uint32_t h = atomic_load_explicit(&half[0], memory_order_relaxed) + 1;
            atomic_store_explicit(&half[0], h, memory_order_relaxed);
            atomic_store_explicit(&half[1], h, memory_order_relaxed);
        }
    }
    lfps_ops(i);
    atomic_store(&writing, false);
}

static void read_loop(int which)
{
    while (atomic_load(&writing)) {
        uint64_t v;
        if (which == 0) {
            v = (uint64_t)lfp_counter_get(&whole);
        } else {
            /* relaxed: reading the halves separately is the point. */
            uint64_t lo = atomic_load_explicit(&half[0], memory_order_relaxed);
            uint64_t hi = atomic_load_explicit(&half[1], memory_order_relaxed);
            v = hi << 32 | lo;
        }
        reads[which]++;
        torn_seen[which] += torn(v);
        if (which && torn_seen[which] >= LITMUS_CONTROL_ENOUGH)
            atomic_store(&enough, true);
    }
}

static void worker(lfps_thread *t)
{
    int which = *(int *)t->arg;
    if (t->id == 0)
        write_loop(which);
    else
        read_loop(which);
}

static void run(int which, const char *name)
{
    atomic_store(&writing, true);
    lfps_run(2, worker, &which);
    printf("  %-28s [%llu reads]\n    consistent %21llu\n    torn       %21llu%s\n", name,
           (unsigned long long)reads[which],
           (unsigned long long)(reads[which] - torn_seen[which]),
           (unsigned long long)torn_seen[which], which ? "  <- control" : "  <- forbidden");
}

int main(void)
{
    lfps_init("litmus_torn");
    lfp_counter_init(&whole, 0);
    run(0, "torn 64-bit lfp_counter");
    LFPS_CHECK(torn_seen[0] == 0 && reads[0] > 0, "lfp_counter read torn %llu times",
               (unsigned long long)torn_seen[0]);
    printf("    checked torn 64-bit lfp_counter: %s\n", torn_seen[0] ? "TORN READ SEEN" : "ok");
    run(1, "torn two 32-bit halves (control)");
    printf("    control torn two 32-bit halves: %s (%llu of %llu reads)\n",
           torn_seen[1] ? "fired" : "did NOT fire", (unsigned long long)torn_seen[1],
           (unsigned long long)reads[1]);
    return lfps_finish();
}
