/* SPDX-License-Identifier: BSD-2-Clause */
/* Counter benchmarks: add at 1, 2 and 4 threads (4 = oversubscribed on the
 * 2-core reference machine), lfpat vs its mutex twin vs peers: ck_pr_faa_64
 * and a plain relaxed atomic_fetch_add on one shared word. */
#include <ck_pr.h>
#include <stdatomic.h>

#include "lfpat.h"
#include "shim/shim.h"

#define BATCH 256

static lfp_counter counter;
static lfp_striped striped;
static lfp_locked_counter locked;
static _Alignas(64) uint64_t ck_word;
static _Alignas(64) _Atomic int64_t plain_word;

#define ADD_BENCH(fname, stmt)                                           \
    static void fname(lfpb_state *st, void *arg)                         \
    {                                                                    \
        (void)arg;                                                       \
        while (lfpb_keep_running_batch(st, BATCH))                       \
            for (int i = 0; i < BATCH; i++)                              \
                stmt;                                                    \
        lfpb_set_items(st, lfpb_iterations(st));                         \
    }

ADD_BENCH(bm_lfp_counter, lfp_counter_add(&counter, 1))
ADD_BENCH(bm_lfp_striped, lfp_striped_add(&striped, 1))
ADD_BENCH(bm_locked, lfp_locked_counter_add(&locked, 1))
ADD_BENCH(bm_ck_faa, ck_pr_faa_64(&ck_word, 1))
ADD_BENCH(bm_stdatomic, atomic_fetch_add_explicit(&plain_word, 1, memory_order_relaxed))

LFPB_REGISTER(counter)
{
    lfp_counter_init(&counter, 0);
    lfp_striped_init(&striped, 0);
    lfp_locked_counter_init(&locked, 0);
    static const int threads[] = { 1, 2, 4 };
    for (unsigned i = 0; i < sizeof threads / sizeof threads[0]; i++) {
        int t = threads[i];
        lfpb_register("counter/add/lfp_striped", bm_lfp_striped, NULL, t);
        lfpb_register("counter/add/lfp_counter", bm_lfp_counter, NULL, t);
        lfpb_register("counter/add/lfp_locked_counter", bm_locked, NULL, t);
        lfpb_register("counter/add/ck_pr_faa_64", bm_ck_faa, NULL, t);
        lfpb_register("counter/add/stdatomic_faa_relaxed", bm_stdatomic, NULL, t);
    }
}
