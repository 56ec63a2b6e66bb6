/* SPDX-License-Identifier: BSD-2-Clause */
/* The hand-off shapes that litmus_lib_mpmc.c and litmus_lib_mpsc.c both run
 * on the library's own queue code (each file's header comment says which
 * orderings carry them in its queue):
 *   publish      d = {42, ~42}; push(&d)  ||  if (pop(&p) == 0) r = *p
 *                MP through the queue. Forbidden: popped, but *p stale (or
 *                not d); the push failed.
 *   2 producers  d0 = 1; push(&d0)  ||  d1 = 2; push(&d1)  ||  pop; pop
 *                then the round's end drains the queue (every push has
 *                returned: nothing is in progress, so a pop is exact).
 *                Forbidden: a push failed, a payload stale or foreign, one
 *                popped twice, or one lost (not popped by the end).
 * The payloads are plain, so ThreadSanitizer checks every hand-off too.
 *
 * The including file defines, for its queue (static; one operation at a
 * time per thread):
 *   struct lq_payload *lq_payload(int i)  payload i, 0 <= i < LQ_PAYLOADS
 *   int lq_push(int i)                    push payload i: 0 or the error
 *   int lq_pop(int *i)                    pop: 0 and the payload's index
 *                                         (-1: not a payload), or the error
 * and puts LQ_PUBLISH_TEST(name) and LQ_TWO_PRODUCERS_TEST(name) in its
 * table of litmus tests.
 */
#ifndef LFP_LITMUS_LIB_QUEUE_H
#define LFP_LITMUS_LIB_QUEUE_H

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "litmus.h"

#define LQ_PAYLOADS 3

struct lq_payload { int a, b; };

static struct lq_payload *lq_payload(int i);
static int lq_push(int i);
static int lq_pop(int *i);

static int lq_rc[2];                /* the two threads' push/pop results */
static int lq_in_round;             /* pops by the consumer during the round */
static bool lq_bad;                 /* a stale or foreign payload was popped */
static int lq_seen[LQ_PAYLOADS];    /* times each payload was popped */

static void lq_fill(int i, int v)
{
    *lq_payload(i) = (struct lq_payload){ v, ~v };
}

/* Before the first round and after each: empty queue, zeroed payloads. */
static void lq_reset(void)
{
    int i;
    while (lq_pop(&i) == 0)
        ;
    for (i = 0; i < LQ_PAYLOADS; i++)
        lq_fill(i, 0);
    lq_rc[0] = lq_rc[1] = -1;
    lq_in_round = 0;
    lq_bad = false;
    memset(lq_seen, 0, sizeof lq_seen);
}

/* Pop once; a popped payload is counted and must be intact with value v
 * (v == 0: payload i holds i + 1). Returns the pop's result. */
static int lq_pop_checked(int v)
{
    int i;
    int rc = lq_pop(&i);
    if (rc != 0)
        return rc;
    if (i < 0) {
        lq_bad = true;
        return rc;
    }
    const struct lq_payload *p = lq_payload(i);
    int want = v ? v : i + 1;
    lq_bad |= p->a != want || p->b != ~want;
    lq_seen[i]++;
    return rc;
}

/* ---- publish */

static void lq_publish_push(void)
{
    lq_fill(0, 42);
    lq_rc[0] = lq_push(0);
}

static void lq_publish_pop(void)
{
    lq_rc[1] = lq_pop_checked(42);
}

static int lq_publish_outcome(void)
{
    if (lq_rc[0] != 0)
        return 3;
    if (lq_rc[1] == EAGAIN)
        return 0;
    return lq_rc[1] == 0 && !lq_bad ? 1 : 2;
}

#define LQ_PUBLISH_TEST(queue)                                                                     \
    {                                                                                              \
        .name = queue " publish", .shape = "d={42,~42}; push(&d) || if pop(&p)==0: r=*p",          \
        .nthreads = 2, .thread = { lq_publish_push, lq_publish_pop }, .reset = lq_reset,           \
        .outcome = lq_publish_outcome, .noutcomes = 4,                                             \
        .outcome_names = { "pop EAGAIN", "popped &d, d intact", "popped, d stale", "push failed" }, \
        .forbidden_mask = LITMUS_BIT(2) | LITMUS_BIT(3), .rounds = 100000,                         \
    }

/* ---- 2 producers */

static void lq_producer(int i)
{
    lq_fill(i, i + 1);
    lq_rc[i] = lq_push(i);
}

static void lq_producer0(void) { lq_producer(0); }
static void lq_producer1(void) { lq_producer(1); }

static void lq_consumer(void)
{
    for (int k = 0; k < 2; k++)
        if (lq_pop_checked(0) == 0)
            lq_in_round++;
}

/* Drain what the round left and check each payload came out once. */
static int lq_two_outcome(void)
{
    while (lq_pop_checked(0) == 0)
        ;
    if (lq_bad || lq_rc[0] != 0 || lq_rc[1] != 0 || lq_seen[0] != 1 || lq_seen[1] != 1)
        return 3;
    return lq_in_round;
}

#define LQ_TWO_PRODUCERS_TEST(queue)                                                               \
    {                                                                                              \
        .name = queue " 2 producers",                                                              \
        .shape = "d0=1; push(&d0) || d1=2; push(&d1) || pop; pop; drain", .nthreads = 3,          \
        .thread = { lq_producer0, lq_producer1, lq_consumer }, .reset = lq_reset,                  \
        .outcome = lq_two_outcome, .noutcomes = 4,                                                 \
        .outcome_names = { "popped none in round", "popped 1 in round", "popped 2 in round",       \
                           "lost, twice, stale or failed" },                                   \
        .forbidden_mask = LITMUS_BIT(3), .rounds = 100000,                                         \
    }

#endif
