/* SPDX-License-Identifier: BSD-2-Clause */
/* Litmus: lfp_spsc's two SB shapes with the library's own code
 * (include/lfpat/spsc.h, "Wake-ups" and "Close"), in both modes: the
 * asymmetric one (membarrier on the waiting/closing side, compiler barriers
 * on the fast paths) and the fallback of a kernel without membarrier,
 * switched on white-box (lfp_spsc_symmetric_: SYM_ in closed, a phantom
 * waiter in each eventcount).
 *
 *   notify   waiter:   key = lfp_ec_prepare(&q.not_empty); r0 = tail
 *            notifier: lfp_spsc_publish_(&q, 1)   (tail = 1; lfp_spsc_notify_)
 *            Lost wake-up = r0 == 0 and the epoch did not move. In the
 *            fallback the notify reaches lfp_spsc_wake_ only through the
 *            phantom, and must discount it and still see the real waiter.
 *   close    pusher:   r0 = lfp_spsc_try_push(&q, v)   (announce, read closed)
 *            closer:   lfp_spsc_close(&q); r1 = lfp_spsc_try_pop(&q, &p)
 *            (the consumer's role moves to the closer for the round.) After
 *            close returns the queue is CLOSED, so the pop is exact: it must
 *            return v iff the push returned 0, else EPIPE. Lost item = push
 *            accepted, pop EPIPE.
 *
 * Controls (expected to fire; not a failure if they do not):
 *   notify, no membarrier: the waiter's prepare without its membarrier;
 *   notify, fallback without fence: lfp_spsc_wake_ without its fence;
 *   close, late announcement: the push reads closed before it announces
 *     (its window widened by a spin, so that a close fits into it);
 *   close, fallback fast path only: on the fallback queue, the push's
 *     relaxed announcement and read without lfp_spsc_push_slow_'s seq_cst
 *     repeat (what a fallback without SYM_ would run): store buffering.
 *     Rare here (seen once in about a million rounds: the window is the
 *     push's store-to-load against the closer's CAS-to-load).
 */
#include <stdatomic.h>

#include "litmus.h"
#include "lfpat/spsc.h"

#define V ((void *)&q)   /* any pointer the pop can recognise */

static lfp_spsc q;
static bool sym;          /* the running test's mode: the fallback */
static uint32_t key;
static int r0, r1;

/* ------------------------------------------------------------- notify */

static void notify_reset(void)
{
    lfp_ec_abort(&q.not_empty);   /* the waiter's withdrawal */
    /* relaxed: single-threaded between rounds (the round barrier). */
    atomic_store_explicit(&q.tail, 0, memory_order_relaxed);
}

static void waiter(void)
{
    key = lfp_ec_prepare(&q.not_empty);
    /* relaxed: the SB barriers alone must order it (the try's acquire is
     * stronger). */
    r0 = atomic_load_explicit(&q.tail, memory_order_relaxed) != 0;
}

static void publisher(void)
{
    lfp_spsc_publish_(&q, 1);
}

/* lfp_ec_prepare of an asymmetric ec minus its membarrier (the control). */
static void waiter_nobarrier(void)
{
    atomic_fetch_add_explicit(&q.not_empty.waiters, 1, memory_order_seq_cst);
    /* acquire: as lfp_ec_prepare. */
    key = atomic_load_explicit(&q.not_empty.epoch, memory_order_acquire);
    /* relaxed: the bug under test. */
    r0 = atomic_load_explicit(&q.tail, memory_order_relaxed) != 0;
}

/* The fallback's publish with lfp_spsc_wake_ minus its fence (the control):
 * the phantom-discounting count read right after the store of tail; the
 * bump without a futex wake, as nobody is parked. */
static void publisher_nofence(void)
{
    /* release: as lfp_spsc_publish_. */
    atomic_store_explicit(&q.tail, 1, memory_order_release);
    /* relaxed: the bug under test. */
    if (atomic_load_explicit(&q.not_empty.waiters, memory_order_relaxed) > 1)
        atomic_fetch_add_explicit(&q.not_empty.epoch, 1, memory_order_relaxed);  /* relaxed: as a bump */
}

static int notify_outcome(void)
{
    /* relaxed: the round barrier orders the notifier's bump before this. */
    bool moved = atomic_load_explicit(&q.not_empty.epoch, memory_order_relaxed) != key;
    return r0 * 2 + moved;
}

/* -------------------------------------------------------------- close */

static void fresh(void)
{
    lfp_spsc_init(&q, 4);
    if (sym)
        lfp_spsc_symmetric_(&q);
}

static void close_reset(void)
{
    lfp_spsc_destroy(&q);
    fresh();
    r0 = r1 = -1;
}

static void pusher(void)
{
    r0 = lfp_spsc_try_push(&q, V);
}

static void closer(void)
{
    lfp_spsc_close(&q);
    void *p = NULL;
    r1 = lfp_spsc_try_pop(&q, &p);
    if (r1 == 0 && p != V)
        r1 = -2;
}

/* The rest of a push that read closed == c after announcing position 0. */
static void push_rest(uint32_t c)
{
    if ((c & LFP_SPSC_STATE_) != LFP_SPSC_OPEN_) {
        /* seq_cst: the withdrawal, the stronger of its two forms. */
        atomic_store_explicit(&q.entered, 0, memory_order_seq_cst);
        lfp_spsc_notify_(&q.not_empty, 0x7fffffff);
        r0 = EPIPE;
        return;
    }
    q.slots[0] = V;
    lfp_spsc_publish_(&q, 1);
    r0 = 0;
}

/* The push reading closed before its announcement (the control). */
static void pusher_late(void)
{
    /* relaxed: the bug under test (the read before the announcement). */
    uint32_t c = atomic_load_explicit(&q.closed, memory_order_relaxed);
    for (volatile int i = 0; i < 4000; i++)   /* a close fits in here */
        ;
    /* relaxed: as lfp_spsc_announce_. */
    atomic_store_explicit(&q.entered, 1, memory_order_relaxed);
    push_rest(c);
}

/* On the fallback queue: lfp_spsc_announce_'s accesses, but the state bits
 * taken at their word, without lfp_spsc_push_slow_'s seq_cst repeat (the
 * control). */
static void pusher_fastonly(void)
{
    /* relaxed: as lfp_spsc_announce_; without a membarrier in settle
     * nothing orders it: the bug under test. */
    atomic_store_explicit(&q.entered, 1, memory_order_relaxed);
    atomic_signal_fence(memory_order_seq_cst);
    /* relaxed: as above. */
    push_rest(atomic_load_explicit(&q.closed, memory_order_relaxed));
}

static int close_outcome(void)
{
    if (r0 == EPIPE && r1 == EPIPE)
        return 0;
    if (r0 == 0 && r1 == 0)
        return 1;
    if (r0 == 0 && r1 == EPIPE)
        return 2;
    return 3;
}

/* ------------------------------------------------------------- table */

#define NOTIFY_TEST(label, wait_fn, notify_fn, is_control)                    \
    {                                                                         \
        .name = label,                                                        \
        .shape = "prepare; r0=tail || publish(tail=1; notify)  (epoch moved?)", \
        .nthreads = 2, .thread = { wait_fn, notify_fn }, .reset = notify_reset, \
        .outcome = notify_outcome, .noutcomes = 4,                            \
        .outcome_names = { "missed tail, no wake", "missed tail, woken",      \
                           "saw tail, no wake", "saw tail, woken" },          \
        .forbidden_mask = LITMUS_BIT(0), .control = is_control,               \
        .skew = 128,  /* the waiter's locked RMW + barrier is slow */         \
    }

#define CLOSE_TEST(label, push_fn, is_control)                                \
    {                                                                         \
        .name = label,                                                        \
        .shape = "r0=try_push || close; r1=try_pop",                          \
        .nthreads = 2, .thread = { push_fn, closer }, .reset = close_reset,   \
        .outcome = close_outcome, .noutcomes = 4,                             \
        .outcome_names = { "refused, EPIPE", "accepted, popped",              \
                           "accepted, EPIPE (lost)", "other" },               \
        .forbidden_mask = LITMUS_BIT(2) | LITMUS_BIT(3), .control = is_control, \
        .rounds = 50000,  /* a membarrier per round */                        \
        .skew = 8,  /* close starts with its CAS: tight offsets */             \
    }

struct mode_test {
    litmus_test t;
    bool sym;          /* on the fallback queue */
    bool notify;       /* a notify test (else close) */
};

static const struct mode_test tests[] = {
    { NOTIFY_TEST("spsc notify (membarrier)", waiter, publisher, false), false, true },
    { NOTIFY_TEST("spsc notify (fallback)", waiter, publisher, false), true, true },
    { NOTIFY_TEST("spsc notify no membarrier (control)", waiter_nobarrier, publisher, true),
      false, true },
    { NOTIFY_TEST("spsc notify fallback without fence (control)", waiter, publisher_nofence,
                  true), true, true },
    { CLOSE_TEST("spsc close (membarrier)", pusher, false), false, false },
    { CLOSE_TEST("spsc close (fallback)", pusher, false), true, false },
    { CLOSE_TEST("spsc close late announcement (control)", pusher_late, true), false, false },
    { CLOSE_TEST("spsc close fallback fast path only (control)", pusher_fastonly, true), true,
      false },
};

int main(void)
{
    lfps_init("litmus_lib_spsc");
    if (!lfp_heavy_barrier_ready_())
        printf("litmus_lib_spsc: no membarrier: the membarrier cases run the fallback\n");
    for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++) {
        sym = tests[i].sym;
        fresh();
        /* relaxed: single-threaded here. */
        uint32_t phantom = atomic_load_explicit(&q.not_empty.waiters, memory_order_relaxed);
        if (tests[i].notify)
            lfp_ec_prepare(&q.not_empty);   /* litmus_run's first reset() withdraws it */
        litmus_run(&tests[i].t);
        if (tests[i].notify)   /* relaxed: as above. Every round's prepare was withdrawn. */
            LFPS_CHECK(atomic_load_explicit(&q.not_empty.waiters, memory_order_relaxed) == phantom,
                       "waiter count drifted");
        lfp_spsc_destroy(&q);
    }
    return lfps_finish();
}
