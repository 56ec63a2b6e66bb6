/* SPDX-License-Identifier: BSD-2-Clause */
/* Litmus: lfp_mpsc's node hand-off, with the library's own code
 * (lfp_mpsc_push / lfp_mpsc_try_pop, include/lfpat/mpsc.h).
 * A push stores n->next = NULL (relaxed), swings tail from prev to n with a
 * seq_cst CAS, then links prev->next = n (release); the consumer
 * acquire-loads h->next and reads the node. The shapes of
 * litmus_lib_queue.h:
 *   publish      MP through the link store.
 *   2 producers  The second push's link store writes d0's next, which the
 *                first push initialised to NULL: the CAS (acquire half,
 *                reading the first push's release) orders the NULL before
 *                the link (coherence, CoWW), or d1 would be lost. The
 *                consumer also races the stub re-append against the second
 *                push's CAS.
 * The under-ordered control (the link store relaxed) is
 * stress/negative/relaxed_publish.c mpsc, which TSan must report; x86 (TSO)
 * never shows these reorderings in hardware.
 */
#include "litmus_lib_queue.h"
#include "lfpat/mpsc.h"

struct box {
    lfp_mpsc_node node;
    struct lq_payload pay;
};

static lfp_mpsc q;
static struct box boxes[LQ_PAYLOADS];

static struct lq_payload *lq_payload(int i) { return &boxes[i].pay; }
static int lq_push(int i) { return lfp_mpsc_push(&q, &boxes[i].node); }

static int lq_pop(int *i)
{
    lfp_mpsc_node *n;
    int rc = lfp_mpsc_try_pop(&q, &n);
    *i = -1;
    for (int k = 0; rc == 0 && k < LQ_PAYLOADS; k++)
        if (n == &boxes[k].node)
            *i = k;
    return rc;
}

static const litmus_test tests[] = {
    LQ_PUBLISH_TEST("mpsc"),
    LQ_TWO_PRODUCERS_TEST("mpsc"),
};

int main(void)
{
    lfps_init("litmus_lib_mpsc");
    LFPS_CHECK(lfp_mpsc_init(&q) == 0, "init");
    for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++)
        litmus_run(&tests[i]);
    lfp_mpsc_destroy(&q);
    return lfps_finish();
}
