/* Litmus: lfp_mpsc's node hand-off, with the library's own code
 * (lfp_mpsc_push / lfp_mpsc_try_pop, include/lfpat/mpsc.h).
 * A push stores n->next = NULL (relaxed), swings tail from prev to n with a
 * seq_cst CAS, then links prev->next = n (release); the consumer
 * acquire-loads h->next and reads the node. Two shapes:
 *   publish    b = {42, ~42}; push(&b)  ||  if (try_pop(&n) == 0) r = *n
 *              MP through the link store. Forbidden: popped, payload stale.
 *   2 producers  b0 = 1; push(&b0)  ||  b1 = 2; push(&b1)  ||  pop; pop
 *              then the round's end drains the queue. The second push's
 *              link store writes b0.next, which the first push initialised
 *              to NULL: the CAS (acquire half, reading the first push's
 *              release) orders the NULL before the link (coherence, CoWW),
 *              or b1 would be lost. The consumer also races the stub
 *              re-append against the second push's CAS. Forbidden: a
 *              payload stale, a node popped twice, or a node lost (not
 *              popped by the end of the round).
 * The payloads are plain, so ThreadSanitizer checks every hand-off too. The
 * under-ordered control (the link store relaxed) is
 * stress/negative/relaxed_publish.c mpsc, which TSan must report; x86 (TSO)
 * never shows these reorderings in hardware.
 */
#include <errno.h>

#include "litmus.h"
#include "lfpat/mpsc.h"

struct box {
    lfp_mpsc_node node;   /* first: a node pointer is its box's pointer */
    int a, b;             /* plain payload */
};

static lfp_mpsc q;
static struct box boxes[2];
static int rc[2];
static int in_round, bad;   /* pops during the round; stale, duplicate or lost nodes */
static int seen[2];         /* times each box was popped (round and drain) */

static void fill(int i, int v)
{
    boxes[i].a = v;
    boxes[i].b = ~v;
}

/* The box n is, checked intact (value i + 1 for box i, 42 for publish). */
static void take(lfp_mpsc_node *n, int publish_value)
{
    struct box *b = (struct box *)n;
    int i = b == &boxes[0] ? 0 : b == &boxes[1] ? 1 : -1;
    int v = publish_value ? publish_value : i + 1;
    bad |= i < 0 || b->a != v || b->b != ~v;
    if (i >= 0)
        seen[i]++;
}

static void reset(void)
{
    lfp_mpsc_node *n;
    while (lfp_mpsc_try_pop(&q, &n) == 0)
        ;
    fill(0, 0);
    fill(1, 0);
    rc[0] = rc[1] = -1;
    in_round = bad = seen[0] = seen[1] = 0;
}

/* ---- publish */

static void publish_push(void)
{
    fill(0, 42);
    rc[0] = lfp_mpsc_push(&q, &boxes[0].node);
}

static void publish_pop(void)
{
    lfp_mpsc_node *n;
    rc[1] = lfp_mpsc_try_pop(&q, &n);
    if (rc[1] == 0)
        take(n, 42);
}

static int publish_outcome(void)
{
    if (rc[0] != 0)
        return 3;
    if (rc[1] == EAGAIN)
        return 0;
    return rc[1] == 0 && !bad ? 1 : 2;
}

/* ---- 2 producers */

static void producer(int i)
{
    fill(i, i + 1);
    rc[i] = lfp_mpsc_push(&q, &boxes[i].node);
}

static void producer0(void) { producer(0); }
static void producer1(void) { producer(1); }

static void consumer(void)
{
    for (int k = 0; k < 2; k++) {
        lfp_mpsc_node *n;
        if (lfp_mpsc_try_pop(&q, &n) == 0) {
            take(n, 0);
            in_round++;
        }
    }
}

/* Drain what the round left (every push has returned: nothing is in
 * progress, so try_pop is exact) and check each box came out once. */
static int two_outcome(void)
{
    lfp_mpsc_node *n;
    while (lfp_mpsc_try_pop(&q, &n) == 0)
        take(n, 0);
    if (bad || rc[0] != 0 || rc[1] != 0 || seen[0] != 1 || seen[1] != 1)
        return 3;
    return in_round;
}

static const litmus_test tests[] = {
    {
        .name = "mpsc publish", .shape = "b={42,~42}; push(&b) || if pop(&n)==0: r=*n",
        .nthreads = 2, .thread = { publish_push, publish_pop }, .reset = reset,
        .outcome = publish_outcome, .noutcomes = 4,
        .outcome_names = { "pop EAGAIN", "popped &b, b intact", "popped, b stale", "push failed" },
        .forbidden_mask = LITMUS_BIT(2) | LITMUS_BIT(3), .rounds = 100000,
    },
    {
        .name = "mpsc 2 producers", .shape = "b0=1; push(&b0) || b1=2; push(&b1) || pop; pop; drain",
        .nthreads = 3, .thread = { producer0, producer1, consumer }, .reset = reset,
        .outcome = two_outcome, .noutcomes = 4,
        .outcome_names = { "popped none in round", "popped 1 in round", "popped 2 in round",
                           "stale, duplicate or lost" },
        .forbidden_mask = LITMUS_BIT(3), .rounds = 100000,
    },
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
