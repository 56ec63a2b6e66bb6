/* SPDX-License-Identifier: BSD-2-Clause */
/* Litmus: pointer publication (how every queue hands over a value).
 *     T0: n = malloc; n->v = 42; n->w = ~42; head = n (release)
 *     T1: p = head (acquire); if (p) r = (p->v, p->w)
 * Forbidden: a published node seen with uninitialised fields. The node is
 * freed by the round's end, so ASan also checks its lifetime and TSan the
 * happens-before edge on the plain fields.
 */
#include <stdatomic.h>
#include <stdlib.h>

#include "litmus.h"

struct node { int v, w; };

static _Atomic(struct node *) head;
static int r[2];
static int seen;

static void reset(void)
{
    /* relaxed: both threads are done (round barrier). */
    free(atomic_load_explicit(&head, memory_order_relaxed));
    atomic_store_explicit(&head, NULL, memory_order_relaxed);  /* relaxed: published by the round barrier */
}

static void t0(void)
{
    struct node *n = malloc(sizeof *n);
    if (!n)
        return;
    n->v = 42;
    n->w = ~42;
    /* release: pairs with the acquire in t1; publishes n's fields. */
    atomic_store_explicit(&head, n, memory_order_release);
}

static void t1(void)
{
    /* acquire: pairs with the release in t0. */
    struct node *p = atomic_load_explicit(&head, memory_order_acquire);
    seen = p != NULL;
    if (p) {
        r[0] = p->v;
        r[1] = p->w;
    }
}

static int outcome(void)
{
    if (!seen)
        return 0;
    return r[0] == 42 && r[1] == ~42 ? 1 : 2;
}

static const litmus_test test = {
    .name = "pointer publication", .shape = "n->v=42; head=n || p=head; r=p->v",
    .nthreads = 2, .thread = { t0, t1 }, .reset = reset, .outcome = outcome, .noutcomes = 3,
    .outcome_names = { "head=NULL", "node seen, fields ok", "node seen, fields stale" },
    .forbidden_mask = LITMUS_BIT(2),
};

int main(void)
{
    lfps_init("litmus_pubptr");
    litmus_run(&test);
    return lfps_finish();
}
