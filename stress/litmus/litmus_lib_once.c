/* SPDX-License-Identifier: BSD-2-Clause */
/* Litmus: lfp_once's completion publication, with the library's own code
 * (lfp_once_call / lfp_once_call_retry / lfp_once_done, include/lfpat/once.h,
 * src/once.c). The runner runs fn, stores the result (plain) and publishes
 * DONE (FAILED for a non-zero result, as init_fn's) with a release exchange;
 * the fast path and woken waiters load the state with acquire. It is message passing (MP), and the double-checked
 * initialisation shape (litmus_dcl.c) with a futex instead of a mutex:
 *   done MP    call(fn) || if (done()) r = data
 *              fn: data = {1, 2}. Forbidden: done, but data stale.
 *   3 callers  each: rc = call(fn); r = data
 *              Forbidden: fn ran other than once, a caller returned another
 *              result than fn's (7), or saw data stale (it may have taken the
 *              fast path, parked and been woken, or run fn itself).
 *   retry      each of 3: rc = call_retry(fn2); fn2: attempts++ (plain);
 *              the first attempt fails (EIO), the second writes data.
 *              Forbidden: other than exactly one EIO and two attempts, or a
 *              caller returning 0 with data stale. The attempts are
 *              serialised only by the failed attempt's release CAS and the
 *              next claim's acquire CAS, which TSan checks on `attempts`.
 * data, result and attempts are plain: ThreadSanitizer checks each edge.
 * The under-ordered control (DONE stored by a relaxed exchange) is
 * stress/negative/relaxed_publish.c once, which TSan must report; x86 (TSO)
 * never shows an MP reordering in hardware.
 */
#include <errno.h>

#include "litmus.h"
#include "lfpat/once.h"

#define RESULT 7

static lfp_once once;
static struct { int a, b; } data;
static int runs, attempts;
static int rc[3], seen[3];   /* per thread: return code, data intact */

static void reset(void)
{
    lfp_once_init(&once);   /* legal: quiescent between rounds */
    data.a = data.b = 0;
    runs = attempts = 0;
    for (int i = 0; i < 3; i++)
        rc[i] = seen[i] = -1;
}

static bool intact(void) { return data.a == 1 && data.b == 2; }

static int init_fn(void *arg)
{
    (void)arg;
    runs++;
    data.a = 1;
    data.b = 2;
    return RESULT;
}

static int retry_fn(void *arg)
{
    (void)arg;
    if (++attempts == 1)
        return EIO;
    data.a = 1;
    data.b = 2;
    return 0;
}

/* ---- done MP */

static void runner(void) { rc[0] = lfp_once_call(&once, init_fn, NULL); }

static void observer(void)
{
    rc[1] = lfp_once_done(&once);
    seen[1] = rc[1] && intact();
}

static int done_outcome(void)
{
    if (rc[0] != RESULT || runs != 1)
        return 3;
    if (!rc[1])
        return 0;
    return seen[1] ? 1 : 2;
}

/* ---- 3 callers */

static void caller(int i)
{
    rc[i] = lfp_once_call(&once, init_fn, NULL);
    seen[i] = intact();
}

static void caller0(void) { caller(0); }
static void caller1(void) { caller(1); }
static void caller2(void) { caller(2); }

static int callers_outcome(void)
{
    for (int i = 0; i < 3; i++)
        if (rc[i] != RESULT || !seen[i])
            return 1;
    return runs == 1 ? 0 : 1;
}

/* ---- retry */

static void retrier(int i)
{
    rc[i] = lfp_once_call_retry(&once, retry_fn, NULL);
    seen[i] = rc[i] == 0 && intact();
}

static void retrier0(void) { retrier(0); }
static void retrier1(void) { retrier(1); }
static void retrier2(void) { retrier(2); }

static int retry_outcome(void)
{
    int failed = 0;
    for (int i = 0; i < 3; i++) {
        if (rc[i] == EIO)
            failed++;
        else if (rc[i] != 0 || !seen[i])
            return 1;
    }
    return failed == 1 && attempts == 2 ? 0 : 1;
}

static const litmus_test tests[] = {
    {
        .name = "once done MP", .shape = "call(fn: data={1,2}) || if done(): r=data",
        .nthreads = 2, .thread = { runner, observer }, .reset = reset,
        .outcome = done_outcome, .noutcomes = 4,
        .outcome_names = { "not done yet", "done, data intact", "done, data stale",
                           "fn ran != 1 or wrong result" },
        .forbidden_mask = LITMUS_BIT(2) | LITMUS_BIT(3), .rounds = 100000,
    },
    {
        .name = "once 3 callers", .shape = "3 x { rc=call(fn); r=data }",
        .nthreads = 3, .thread = { caller0, caller1, caller2 }, .reset = reset,
        .outcome = callers_outcome, .noutcomes = 2,
        .outcome_names = { "fn once, all got 7 and data", "stale, wrong result or fn != 1" },
        .forbidden_mask = LITMUS_BIT(1), .rounds = 100000,
    },
    {
        .name = "once retry", .shape = "3 x { rc=call_retry(fn2: 1st EIO, 2nd data={1,2}) }",
        .nthreads = 3, .thread = { retrier0, retrier1, retrier2 }, .reset = reset,
        .outcome = retry_outcome, .noutcomes = 2,
        .outcome_names = { "1 EIO, 2 attempts, data ok", "other" },
        .forbidden_mask = LITMUS_BIT(1), .rounds = 100000,
    },
};

int main(void)
{
    lfps_init("litmus_lib_once");
    for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++)
        litmus_run(&tests[i]);
    return lfps_finish();
}
