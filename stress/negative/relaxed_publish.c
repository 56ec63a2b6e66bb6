/* SPDX-License-Identifier: BSD-2-Clause */
/* Negative control: the library's publication shapes with the publisher's
 * release dropped (relaxed), each handing over a plain payload. The reader
 * keeps its acquire, but an acquire that reads a relaxed store synchronises
 * with nothing, so its read of the payload is a data race that
 * ThreadSanitizer MUST report. (x86 is TSO: the hardware would never show
 * these reorderings, so TSan is the tool that proves the release matters.)
 *
 *   mpmc  lfp_mpmc_publish_:  value = &payload; seq = pos + 1 (relaxed, not seq_cst)
 *         lfp_mpmc_claim_pop_ + release_: seq == pos + 1 (acquire); read *value
 *   mpsc  lfp_mpsc_append_:   n->next = NULL; CAS tail prev -> n (seq_cst);
 *                             prev->next = n (relaxed, not release)
 *         lfp_mpsc_take_:     stub.next (acquire) != NULL; read the node's payload
 *   once  run() in src/once.c: data = 42; exchange(state, DONE) (relaxed, not release)
 *         lfp_once_done:      state == DONE (acquire); read data
 * Usage: relaxed_publish mpmc|mpsc|once — one shape per process, since TSan
 * halts at its first report under scripts/test. Checked versions of the
 * same shapes: stress/litmus/litmus_lib_{mpmc,mpsc,once}.c.
 */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static int payload;   /* deliberately handed over without happens-before */

/* ---- mpmc: one cell at position 0 */
static struct { _Atomic size_t seq; int *value; } cell;

static void *mpmc_publish(void *arg)
{
    (void)arg;
    payload = 42;
    cell.value = &payload;
    atomic_store_explicit(&cell.seq, 1, memory_order_relaxed);  /* relaxed: the bug under test */
    return NULL;
}

static int mpmc_read(void)
{
    /* acquire: as the library's pop; there is no release to pair with. */
    while (atomic_load_explicit(&cell.seq, memory_order_acquire) != 1)
        sched_yield();
    return *cell.value;
}

/* ---- mpsc: the stub and one node */
struct node { _Atomic(struct node *) next; int payload; };
static struct node stub, node;
static _Atomic(struct node *) tail = &stub;

static void *mpsc_publish(void *arg)
{
    (void)arg;
    node.payload = 42;
    /* relaxed: node is private until the CAS. */
    atomic_store_explicit(&node.next, NULL, memory_order_relaxed);
    struct node *prev = atomic_load_explicit(&tail, memory_order_relaxed);  /* relaxed: CAS guess */
    while (!atomic_compare_exchange_weak_explicit(&tail, &prev, &node, memory_order_seq_cst,
                                                  memory_order_relaxed))
        ;
    atomic_store_explicit(&prev->next, &node, memory_order_relaxed);  /* relaxed: the bug under test */
    return NULL;
}

static int mpsc_read(void)
{
    struct node *n;
    /* acquire: as lfp_mpsc_take_; there is no release to pair with. */
    while ((n = atomic_load_explicit(&stub.next, memory_order_acquire)) == NULL)
        sched_yield();
    return n->payload;
}

/* ---- once: the state word */
static _Atomic uint32_t state;
enum { DONE = 3 };

static void *once_publish(void *arg)
{
    (void)arg;
    payload = 42;
    atomic_exchange_explicit(&state, DONE, memory_order_relaxed);  /* relaxed: the bug under test */
    return NULL;
}

static int once_read(void)
{
    /* acquire: as lfp_once_done; there is no release to pair with. */
    while (atomic_load_explicit(&state, memory_order_acquire) != DONE)
        sched_yield();
    return payload;
}

static const struct shape {
    const char *name;
    void *(*publish)(void *);
    int (*read)(void);
} shapes[] = {
    { "mpmc", mpmc_publish, mpmc_read },
    { "mpsc", mpsc_publish, mpsc_read },
    { "once", once_publish, once_read },
};

int main(int argc, char **argv)
{
    for (size_t i = 0; argc == 2 && i < sizeof shapes / sizeof shapes[0]; i++) {
        if (strcmp(argv[1], shapes[i].name) != 0)
            continue;
        pthread_t t;
        pthread_create(&t, NULL, shapes[i].publish, NULL);
        int v = shapes[i].read();
        pthread_join(t, NULL);
        printf("relaxed publish (%s): payload %d (expected a TSan report)\n", shapes[i].name, v);
        return 0;
    }
    fprintf(stderr, "usage: relaxed_publish mpmc|mpsc|once\n");
    return 2;
}
