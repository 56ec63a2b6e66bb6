/* SPDX-License-Identifier: BSD-2-Clause */
/* Litmus: cancel token fire/reason is message passing (MP).
 *     T0: data = 42 ; lfp_cancel_fire(&tok, 7)
 *     T1: r0 = lfp_cancel_reason(&tok) ; if (r0) r1 = data
 * Forbidden: the token seen fired with data stale, or with another reason.
 * lfp_cancel.h promises: everything before the fire happens-before any
 * thread that observes the token fired (release store in fire, acquire load
 * in reason). data is a plain int, so TSan checks the edge too. A child
 * token observes the same through the cascade (second test).
 */
#include <errno.h>

#include "litmus.h"
#include "lfpat/cancel.h"

static lfp_cancel root, child;
static int data;
static int r[2];

static void reset(void)
{
    lfp_cancel_destroy(&child);
    lfp_cancel_destroy(&root);
    lfp_cancel_init(&root, NULL);
    lfp_cancel_init(&child, &root);
    data = 0;
}

static void firer(void)
{
    data = 42;
    lfp_cancel_fire(&root, 7);
}

static void observe(lfp_cancel *c)
{
    r[0] = lfp_cancel_reason(c);
    r[1] = r[0] ? data : 0;
}

static void observe_root(void) { observe(&root); }
static void observe_child(void) { observe(&child); }

static int outcome(void)
{
    if (r[0] == 0)
        return 0;
    if (r[0] != 7)
        return 3;
    return r[1] == 42 ? 1 : 2;
}

#define CANCEL_TEST(label, obs)                                               \
    {                                                                         \
        .name = label, .shape = "data=42; fire(7) || r0=reason; r1=data",     \
        .nthreads = 2, .thread = { firer, obs }, .reset = reset,              \
        .outcome = outcome, .noutcomes = 4,                                   \
        .outcome_names = { "not fired", "fired(7), data=42", "fired, data stale", \
                           "fired, wrong reason" },                           \
        .forbidden_mask = LITMUS_BIT(2) | LITMUS_BIT(3), .rounds = 100000,    \
    }

static const litmus_test tests[] = {
    CANCEL_TEST("cancel MP (root)", observe_root),
    CANCEL_TEST("cancel MP (child, cascade)", observe_child),
};

int main(void)
{
    lfps_init("litmus_lib_cancel");
    lfp_cancel_init(&root, NULL);
    lfp_cancel_init(&child, &root);
    for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++)
        litmus_run(&tests[i]);
    lfp_cancel_destroy(&child);
    lfp_cancel_destroy(&root);
    return lfps_finish();
}
