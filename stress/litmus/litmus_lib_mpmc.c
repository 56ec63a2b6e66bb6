/* SPDX-License-Identifier: BSD-2-Clause */
/* Litmus: lfp_mpmc's cell hand-off, with the library's own code
 * (lfp_mpmc_try_push / lfp_mpmc_try_pop, include/lfpat/mpmc.h).
 * Per cell, for position pos: the push claims pos with a relaxed CAS ticket,
 * writes the plain `value` and stores seq = pos + 1 (seq_cst: its release
 * half publishes value); the pop acquire-loads seq, reads `value` and stores
 * seq = pos + capacity (release half: the read precedes the next lap's
 * overwrite); the next lap's push acquire-loads seq before writing. So it is
 * message passing (MP) twice per cell, once in each direction: the publish
 * and 2 producers shapes of litmus_lib_queue.h, and
 *   reuse      capacity 2, full with [A, B]:  push(C)  ||  pop -> v
 *              forbidden: v != A (the pop read an overwritten cell) or the
 *              pop found the full queue empty. When the push succeeds the
 *              pop freed its cell first, and its read must precede the push's
 *              overwrite of the same plain field.
 * With 2 producers the tickets are relaxed: only the cells' seq carries
 * the data.
 * The payloads and the cells' value fields are plain, so ThreadSanitizer
 * checks every hand-off too. The under-ordered control (the publish store
 * relaxed) is stress/negative/relaxed_publish.c mpmc, which TSan must
 * report; on x86 (TSO) hardware never shows an MP reordering, so no
 * hardware control is possible here.
 */
#include "litmus_lib_queue.h"
#include "lfpat/mpmc.h"

static lfp_mpmc q;
static struct lq_payload pay[LQ_PAYLOADS];

static struct lq_payload *lq_payload(int i) { return &pay[i]; }
static int lq_push(int i) { return lfp_mpmc_try_push(&q, &pay[i]); }

static int lq_pop(int *i)
{
    void *p;
    int rc = lfp_mpmc_try_pop(&q, &p);
    *i = -1;
    for (int k = 0; rc == 0 && k < LQ_PAYLOADS; k++)
        if (p == &pay[k])
            *i = k;
    return rc;
}

/* ---- reuse: pay[0] = A, pay[1] = B, pay[2] = C */

static void reuse_reset(void)
{
    lq_reset();
    lq_push(0);
    lq_push(1);
}

static void reuse_push(void) { lq_rc[0] = lq_push(2); }

static void reuse_pop(void)
{
    int i;
    lq_rc[1] = lq_pop(&i);
    lq_bad = lq_rc[1] != 0 || i != 0;
}

static int reuse_outcome(void)
{
    if (lq_bad)
        return lq_rc[1] == 0 ? 2 : 3;
    if (lq_rc[0] == 0)
        return 1;
    return lq_rc[0] == EAGAIN ? 0 : 3;
}

static const litmus_test tests[] = {
    LQ_PUBLISH_TEST("mpmc"),
    {
        .name = "mpmc cell reuse", .shape = "full [A,B]: push(C) || v=pop",
        .nthreads = 2, .thread = { reuse_push, reuse_pop }, .reset = reuse_reset,
        .outcome = reuse_outcome, .noutcomes = 4,
        .outcome_names = { "push EAGAIN, pop A", "push ok, pop A", "pop read another value",
                           "pop EAGAIN / push error" },
        .forbidden_mask = LITMUS_BIT(2) | LITMUS_BIT(3), .rounds = 100000,
    },
    LQ_TWO_PRODUCERS_TEST("mpmc"),
};

int main(void)
{
    lfps_init("litmus_lib_mpmc");
    LFPS_CHECK(lfp_mpmc_init(&q, 2) == 0 && lfp_mpmc_capacity(&q) == 2, "init");
    for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++)
        litmus_run(&tests[i]);
    lfp_mpmc_destroy(&q);
    return lfps_finish();
}
