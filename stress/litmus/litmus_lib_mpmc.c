/* Litmus: lfp_mpmc's cell hand-off, with the library's own code
 * (lfp_mpmc_try_push / lfp_mpmc_try_pop, include/lfpat/mpmc.h).
 * Per cell, for position pos: the push claims pos with a relaxed CAS ticket,
 * writes the plain `value` and stores seq = pos + 1 (seq_cst: its release
 * half publishes value); the pop acquire-loads seq, reads `value` and stores
 * seq = pos + capacity (release half: the read precedes the next lap's
 * overwrite); the next lap's push acquire-loads seq before writing. So it is
 * message passing (MP) twice per cell, once in each direction:
 *   publish    d = {42, ~42}; push(&d)  ||  if (pop(&p) == 0) r = *p
 *              forbidden: popped, but *p stale.
 *   reuse      capacity 2, full with [A, B]:  push(C)  ||  pop -> v
 *              forbidden: v != A (the pop read an overwritten cell) or the
 *              pop found the full queue empty. When the push succeeds the
 *              pop freed its cell first, and its read must precede the push's
 *              overwrite of the same plain field.
 *   2 producers  d0 = 1; push(&d0)  ||  d1 = 2; push(&d1)  ||  pop; pop
 *              forbidden: a popped payload stale or popped twice. The
 *              tickets are relaxed: only the cells' seq carries the data.
 * The payloads and the cells' value fields are plain, so ThreadSanitizer
 * checks every hand-off too. The under-ordered control (the publish store
 * relaxed) is stress/negative/relaxed_publish.c mpmc, which TSan must
 * report; on x86 (TSO) hardware never shows an MP reordering, so no
 * hardware control is possible here.
 */
#include <errno.h>

#include "litmus.h"
#include "lfpat/mpmc.h"

struct payload { int a, b; };

static lfp_mpmc q;
static struct payload pay[3];
static int rc[2];
static int popped, bad;    /* pops by the consumer; stale or duplicate ones */

static void fill(int i, int v) { pay[i] = (struct payload){ v, ~v }; }
static bool intact(const struct payload *p, int v) { return p->a == v && p->b == ~v; }

static void drain(void)
{
    void *v;
    while (lfp_mpmc_try_pop(&q, &v) == 0)
        ;
}

static void reset_common(void)
{
    drain();
    for (int i = 0; i < 3; i++)
        fill(i, 0);
    rc[0] = rc[1] = -1;
    popped = bad = 0;
}

/* ---- publish */

static void publish_push(void)
{
    fill(0, 42);
    rc[0] = lfp_mpmc_try_push(&q, &pay[0]);
}

static void publish_pop(void)
{
    void *p;
    rc[1] = lfp_mpmc_try_pop(&q, &p);
    if (rc[1] == 0)
        bad = p != &pay[0] || !intact(p, 42);
}

static int publish_outcome(void)
{
    if (rc[0] != 0)
        return 3;
    if (rc[1] == EAGAIN)
        return 0;
    return rc[1] == 0 && !bad ? 1 : 2;
}

/* ---- reuse: pay[0] = A, pay[1] = B, pay[2] = C */

static void reuse_reset(void)
{
    reset_common();
    lfp_mpmc_try_push(&q, &pay[0]);
    lfp_mpmc_try_push(&q, &pay[1]);
}

static void reuse_push(void) { rc[0] = lfp_mpmc_try_push(&q, &pay[2]); }

static void reuse_pop(void)
{
    void *p;
    rc[1] = lfp_mpmc_try_pop(&q, &p);
    bad = rc[1] != 0 || p != &pay[0];
}

static int reuse_outcome(void)
{
    if (bad)
        return rc[1] == 0 ? 2 : 3;
    if (rc[0] == 0)
        return 1;
    return rc[0] == EAGAIN ? 0 : 3;
}

/* ---- 2 producers */

static void producer(int i)
{
    fill(i, i + 1);
    rc[i] = lfp_mpmc_try_push(&q, &pay[i]);
}

static void producer0(void) { producer(0); }
static void producer1(void) { producer(1); }

static void consumer(void)
{
    const void *first = NULL;
    for (int k = 0; k < 2; k++) {
        void *p;
        if (lfp_mpmc_try_pop(&q, &p) != 0)
            continue;
        int i = p == &pay[0] ? 0 : p == &pay[1] ? 1 : -1;
        bad |= i < 0 || p == first || !intact(p, i + 1);
        first = p;
        popped++;
    }
}

static int two_outcome(void)
{
    return bad || rc[0] != 0 || rc[1] != 0 ? 3 : popped;
}

static const litmus_test tests[] = {
    {
        .name = "mpmc publish", .shape = "d={42,~42}; push(&d) || if pop(&p)==0: r=*p",
        .nthreads = 2, .thread = { publish_push, publish_pop }, .reset = reset_common,
        .outcome = publish_outcome, .noutcomes = 4,
        .outcome_names = { "pop EAGAIN", "popped &d, d intact", "popped, d stale", "push failed" },
        .forbidden_mask = LITMUS_BIT(2) | LITMUS_BIT(3), .rounds = 100000,
    },
    {
        .name = "mpmc cell reuse", .shape = "full [A,B]: push(C) || v=pop",
        .nthreads = 2, .thread = { reuse_push, reuse_pop }, .reset = reuse_reset,
        .outcome = reuse_outcome, .noutcomes = 4,
        .outcome_names = { "push EAGAIN, pop A", "push ok, pop A", "pop read another value",
                           "pop EAGAIN / push error" },
        .forbidden_mask = LITMUS_BIT(2) | LITMUS_BIT(3), .rounds = 100000,
    },
    {
        .name = "mpmc 2 producers", .shape = "d0=1; push(&d0) || d1=2; push(&d1) || pop; pop",
        .nthreads = 3, .thread = { producer0, producer1, consumer }, .reset = reset_common,
        .outcome = two_outcome, .noutcomes = 4,
        .outcome_names = { "popped none", "popped 1, intact", "popped 2, intact",
                           "stale, duplicate or failed" },
        .forbidden_mask = LITMUS_BIT(3), .rounds = 100000,
    },
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
