/* SPDX-License-Identifier: BSD-2-Clause */
/* Litmus: the eventcount's SB handshake with the library's own code.
 *     waiter:   key = lfp_ec_prepare(&ec)  (waiters++ seq_cst; seq_cst fence; load epoch)
 *               r0 = cond                  (relaxed: the try function's re-check)
 *               ... stays registered, as lfp_ec_wait would be parked ...
 *     notifier: cond = 1                   (relaxed: the primitive's state change)
 *               lfp_ec_notify_one(&ec)     (seq_cst fence; load waiters; bump epoch if > 0)
 * Lost wake-up = the waiter missed the condition AND the notifier did not
 * move the epoch (so futex_wait on key would sleep): r0 == 0 && epoch == key.
 * Forbidden by the two fences (include/lfpat/eventcount.h). The waiter
 * withdraws (lfp_ec_abort) at the round's end instead of parking.
 *
 * Control: the notifier without its fence (a copy of lfp_ec_notify_ with the
 * fence removed) loses wake-ups on x86 — the fence is load-bearing.
 *
 * Asymmetric mode (lfp_ec_init_asym, used by lfp_spsc): the waiter's prepare
 * issues membarrier and the notifier (lfp_ec_notify_asym_) has only a
 * compiler barrier. Same forbidden outcome. Its control is the waiter
 * without the membarrier (its locked increment alone is a full barrier on
 * x86, yet one-sided): the notifier's store-buffered condition is missed.
 */
#include <stdatomic.h>

#include "litmus.h"
#include "lfpat/eventcount.h"

static lfp_ec sym_ec, asym_ec;
static lfp_ec *cur = &sym_ec;   /* the eventcount of the running test */
#define ec (*cur)
static _Atomic int cond;
static uint32_t key;
static int r0;

static void reset(void)
{
    lfp_ec_abort(&ec);   /* the waiter's withdrawal */
    atomic_store_explicit(&cond, 0, memory_order_relaxed);  /* relaxed: published by the round barrier */
}

static void waiter(void)
{
    key = lfp_ec_prepare(&ec);
    /* relaxed: the SB fences alone must order it (weakest a try fn could use). */
    r0 = atomic_load_explicit(&cond, memory_order_relaxed);
}

static void notifier(void)
{
    /* relaxed: as above; the notify fence orders it before the waiters load. */
    atomic_store_explicit(&cond, 1, memory_order_relaxed);
    lfp_ec_notify_one(&ec);
}

static void notifier_asym(void)
{
    /* relaxed: as above; the waiter's membarrier orders it. */
    atomic_store_explicit(&cond, 1, memory_order_relaxed);
    lfp_ec_notify_asym_(&ec, 1);
}

/* lfp_ec_prepare of an asymmetric ec minus its membarrier (the control). */
static void waiter_nobarrier(void)
{
    atomic_fetch_add_explicit(&ec.waiters, 1, memory_order_seq_cst);
    /* acquire: as lfp_ec_prepare. */
    key = atomic_load_explicit(&ec.epoch, memory_order_acquire);
    /* relaxed: the bug under test. */
    r0 = atomic_load_explicit(&cond, memory_order_relaxed);
}

/* lfp_ec_notify_ minus its fence (the control); the bump without a futex
 * wake, as nobody is parked. */
static void notifier_nofence(void)
{
    atomic_store_explicit(&cond, 1, memory_order_relaxed);  /* relaxed: deliberately unfenced */
    if (atomic_load_explicit(&ec.waiters, memory_order_relaxed) != 0)  /* relaxed: the bug under test */
        atomic_fetch_add_explicit(&ec.epoch, 1, memory_order_relaxed);  /* relaxed: as lfp_ec_wake_ */
}

static int outcome(void)
{
    /* relaxed: the round barrier orders the notifier's bump before this. */
    bool moved = atomic_load_explicit(&ec.epoch, memory_order_relaxed) != key;
    return r0 * 2 + moved;
}

#define EC_TEST(label, wait_fn, notify_fn, is_control)                        \
    {                                                                         \
        .name = label,                                                        \
        .shape = "prepare; r0=cond || cond=1; notify  (epoch moved?)",        \
        .nthreads = 2, .thread = { wait_fn, notify_fn }, .reset = reset,      \
        .outcome = outcome, .noutcomes = 4,                                   \
        .outcome_names = { "missed cond, no wake", "missed cond, woken",      \
                           "saw cond, no wake", "saw cond, woken" },          \
        .forbidden_mask = LITMUS_BIT(0), .control = is_control,               \
        .skew = 128,  /* the waiter's locked RMW + fence is slow: wider offsets */ \
    }

static const litmus_test tests[] = {
    EC_TEST("eventcount SB (lfp_ec_*)", waiter, notifier, false),
    EC_TEST("eventcount SB no fence (control)", waiter, notifier_nofence, true),
    EC_TEST("eventcount asymmetric SB (lfp_ec_init_asym)", waiter, notifier_asym, false),
    EC_TEST("eventcount asymmetric SB no membarrier (control)", waiter_nobarrier, notifier_asym,
            true),
};
static lfp_ec *const test_ec[] = { &sym_ec, &sym_ec, &asym_ec, &asym_ec };

int main(void)
{
    lfps_init("litmus_lib_eventcount");
    lfp_ec_init(&sym_ec);
    if (!lfp_ec_init_asym(&asym_ec))
        printf("litmus_lib_eventcount: no membarrier: the asymmetric ec runs symmetric\n");
    for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++) {
        cur = test_ec[i];
        lfp_ec_prepare(&ec);   /* litmus_run's first reset() withdraws it */
        litmus_run(&tests[i]);
        /* relaxed: single-threaded here. Every round's prepare was withdrawn. */
        LFPS_CHECK(atomic_load_explicit(&ec.waiters, memory_order_relaxed) == 0,
                   "waiter count drifted");
    }
    return lfps_finish();
}
