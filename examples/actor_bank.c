/* SPDX-License-Identifier: BSD-2-Clause */
/* Actor bank account — the Actor Model article, done with lfp_mailbox and
 * lfp_future.
 *
 * One actor thread owns the balance; nobody else touches it. Clients send it
 * requests (deposit, withdraw, balance) through a bounded mailbox of 8 and
 * wait for each reply on the request's future; then a burst of 64 deposits
 * is sent without waiting. A full mailbox says EAGAIN
 * (the client backs off and retries) instead of growing without bound; a
 * withdrawal beyond the balance is refused in the reply. Checked: the final
 * balance equals the initial one plus every accepted deposit minus every
 * accepted withdrawal, the balance never went negative, every request got
 * exactly one reply, and sends after close get EPIPE. */
#include <pthread.h>
#include <sched.h>
#include <stdio.h>

#include "lfpat.h"

enum { CLIENTS = 4, OPS = 3000, INSUFFICIENT = 1 };
enum op { DEPOSIT, WITHDRAW, BALANCE };

struct request {
    lfp_mpsc_node node;     /* first: the mailbox hands back this node */
    enum op op;
    int64_t amount;
    lfp_future reply;       /* value: balance after; error: 0 or INSUFFICIENT */
};

static lfp_mailbox mailbox;
static _Atomic long mailbox_full, refused;
static bool went_negative;

static void *account_actor(void *arg)
{
    int64_t balance = (int64_t)(intptr_t)arg;
    lfp_mpsc_node *n;
    while (lfp_mailbox_recv(&mailbox, &n, LFP_FOREVER, NULL) == 0) {
        struct request *r = (struct request *)n;
        int err = 0;
        if (r->op == DEPOSIT)
            balance += r->amount;
        else if (r->op == WITHDRAW && r->amount <= balance)
            balance -= r->amount;
        else if (r->op == WITHDRAW)
            err = INSUFFICIENT;
        went_negative |= balance < 0;
        lfp_future_set(&r->reply, (void *)(intptr_t)balance, err);
    }
    return NULL;
}

/* Send r, backing off while the mailbox is full. */
static int tell(struct request *r)
{
    lfp_future_init(&r->reply);
    int rc;
    while ((rc = lfp_mailbox_try_send(&mailbox, &r->node)) == EAGAIN) {
        atomic_fetch_add(&mailbox_full, 1);
        sched_yield();
    }
    return rc;
}

/* Send r and wait for its reply; returns the future's error. */
static int ask(struct request *r, int64_t *balance)
{
    int rc = tell(r);
    if (rc != 0)
        return rc;
    void *v;
    int err;
    if (lfp_future_get(&r->reply, &v, &err, lfp_after(2000000000), NULL) != 0)
        return ETIMEDOUT;
    if (balance)
        *balance = (intptr_t)v;
    return err;
}

struct client {
    unsigned seed;
    int64_t net;      /* accepted deposits - accepted withdrawals */
    int failures;
};

static void *client_main(void *arg)
{
    struct client *c = arg;
    struct request r;
    for (int i = 0; i < OPS; i++) {
        c->seed = c->seed * 1103515245u + 12345u;
        r.op = (c->seed >> 16) % 2 ? DEPOSIT : WITHDRAW;
        r.amount = 1 + (c->seed >> 8) % 100;
        int err = ask(&r, NULL);
        if (err == 0)
            c->net += r.op == DEPOSIT ? r.amount : -r.amount;
        else if (err == INSUFFICIENT)
            atomic_fetch_add(&refused, 1);
        else
            c->failures++;
    }
    return NULL;
}

int main(void)
{
    const int64_t initial = 500;
    if (lfp_mailbox_init(&mailbox, 8) != 0)
        return 1;
    pthread_t actor, th[CLIENTS];
    pthread_create(&actor, NULL, account_actor, (void *)(intptr_t)initial);
    struct client c[CLIENTS];
    for (int i = 0; i < CLIENTS; i++) {
        c[i] = (struct client){ .seed = 17u + (unsigned)i };
        pthread_create(&th[i], NULL, client_main, &c[i]);
    }
    int64_t net = 0;
    int failures = 0;
    for (int i = 0; i < CLIENTS; i++) {
        pthread_join(th[i], NULL);
        net += c[i].net;
        failures += c[i].failures;
    }
    /* a burst of 64 deposits sent without waiting: the mailbox fills up */
    static struct request burst[64];
    for (int i = 0; i < 64; i++) {
        burst[i] = (struct request){ .op = DEPOSIT, .amount = 10 };
        failures += tell(&burst[i]) != 0;
    }
    for (int i = 0; i < 64; i++) {
        int e = -1;
        lfp_future_get(&burst[i].reply, NULL, &e, LFP_FOREVER, NULL);
        failures += e != 0;
        net += 10;
    }
    struct request q = { .op = BALANCE };
    int64_t balance = -1;
    int err = ask(&q, &balance);
    lfp_mailbox_close(&mailbox);
    struct request late = { .op = DEPOSIT, .amount = 1 };
    int late_rc = lfp_mailbox_try_send(&mailbox, &late.node);
    pthread_join(actor, NULL);
    printf("%d clients x %d requests to one account actor (mailbox of 8)\n", CLIENTS, OPS);
    printf("mailbox full, client backed off: %ld times\n", atomic_load(&mailbox_full));
    printf("withdrawals refused for insufficient funds: %ld\n", atomic_load(&refused));
    printf("balance %lld = initial %lld + net %lld\n", (long long)balance, (long long)initial,
           (long long)net);
    printf("send after close: %s\n", late_rc == EPIPE ? "EPIPE" : "?");
    bool ok = err == 0 && balance == initial + net && !went_negative && failures == 0 &&
              late_rc == EPIPE;
    lfp_mailbox_destroy(&mailbox);
    printf("%s\n", ok ? "all invariants held" : "FAILED");
    return ok ? 0 : 1;
}
