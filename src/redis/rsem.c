/* SPDX-License-Identifier: BSD-2-Clause */
/* lfp_rsem: distributed weighted semaphore with leases, a FIFO ticket
 * queue and fencing tokens (the script and its keys are in scripts.c).
 *
 * Blocking acquire: a waiter polls the server with 'wait' (which queues or
 * refreshes its ticket) and, when queued, blocks on the server: BLPOP of
 * its ticket's wake list, which the script that makes room for it pushes
 * to (scripts.c: wake_fitting), so a hand-off costs the release, the pop
 * and one more poll. The BLPOP's timeout is the earliest of: the deadline,
 * the next lease or ticket expiry the poll reported (an expiry is seen
 * only when a script runs, and nobody may run one), and a slice
 * (LFP_RSEM_POLL_MAX_NS; CANCEL_SLICE_NS with a cancel token, which a BLPOP
 * cannot watch) that keeps the ticket refreshed. When no blocking
 * connection is free, or the poll failed (EIO, EBUSY), the waiter sleeps
 * instead on the handle's eventcount between polls (1 ms doubling to
 * 50 ms), which a release or withdrawn ticket in this process notifies;
 * the eventcount also carries the deadline and the cancel token. prepare
 * comes before the poll: a local notify between the poll's answer and the
 * park moves the epoch and the park returns at once (no lost wake-up;
 * eventcount.h). */
#include "internal.h"

#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#define POLL_MIN_NS 1000000      /* 1 ms, doubling to POLL_MAX_NS (eventcount fallback) */
#define POLL_MAX_NS 50000000     /* 50 ms: the longest sleep between polls without a BLPOP */
#define CANCEL_SLICE_NS 50000000 /* 50 ms: the longest BLPOP when a cancel token is given */

int lfp_rsem_init(lfp_rsem *s, lfp_redis *r, const char *name, int64_t capacity, int64_t lease_ns)
{
    if (!s || !r || capacity <= 0 || lease_ns <= 0 || capacity > (INT64_C(1) << 50)) return EINVAL;
    int e = lfp_redis_make_key(s->key, "lfp:rs:", name);
    if (e) return e;
    s->r = r;
    s->capacity = capacity;
    s->lease_ms = lease_ns / 1000000 + (lease_ns % 1000000 != 0); /* rounded up */
    lfp_ec_init(&s->ec);
    return 0;
}

void lfp_rsem_destroy(lfp_rsem *s)
{
    (void)s;
}

void lfp_rsem_keys(const lfp_rsem *s, char keys[LFP_RSEM_NKEYS][LFP_RSEM_KEY])
{
    static const char *const suffix[LFP_RSEM_NKEYS] = { "", ":w", ":q", ":t", ":qw", ":f" };
    for (int i = 0; i < LFP_RSEM_NKEYS; i++) snprintf(keys[i], LFP_RSEM_KEY, "%s%s", s->key, suffix[i]);
}

/* Run op on the semaphore: returns 0 with *rep, or an errno. */
static int sem_call(lfp_rsem *s, const char *op, int64_t weight, const char *id, redisReply **rep)
{
    char k[LFP_RSEM_NKEYS][LFP_RSEM_KEY], cap[24], w[24], ms[24], ticket_ms[24];
    lfp_rsem_keys(s, k);
    snprintf(cap, sizeof cap, "%lld", (long long)s->capacity);
    snprintf(w, sizeof w, "%lld", (long long)weight);
    snprintf(ms, sizeof ms, "%lld", (long long)s->lease_ms);
    snprintf(ticket_ms, sizeof ticket_ms, "%lld", (long long)(LFP_RSEM_TICKET_NS / 1000000));
    const char *argv[] = { "6", k[0], k[1], k[2], k[3], k[4], k[5], op, cap, w, id, ms, ticket_ms };
    return lfp_redis_evalsha(s->r, LFP_RS_SEM, 13, argv, 1, rep);
}

/* Run op; returns the reply's first integer (1 = done, 0 = not), or -errno.
 * Stores the second and third integers in *v1 and *v2 when asked. */
static long long sem_op(lfp_rsem *s, const char *op, int64_t weight, const char *id, long long *v1,
                        long long *v2)
{
    redisReply *rep = NULL;
    int e = sem_call(s, op, weight, id, &rep);
    if (e) return -e;
    long long ok;
    if (!lfp_reply_int(rep, 0, &ok)) ok = -EPROTO;
    if (v1 && ok >= 0 && !lfp_reply_int(rep, 1, v1)) ok = -EPROTO;
    if (v2 && ok >= 0 && !lfp_reply_int(rep, 2, v2)) ok = -EPROTO;
    freeReplyObject(rep);
    return ok;
}

/* An acquire-type op: 0 (granted: l->token set), EAGAIN (*next_ns: ns
 * until the next lease or ticket expiry, -1 if none), or an errno. */
static int sem_acq(lfp_rsem *s, const char *op, lfp_rsem_lease *l, int64_t *next_ns)
{
    long long held, v;
    long long ok = sem_op(s, op, l->weight, l->id, &held, &v);
    if (ok < 0) return (int)-ok;
    if (ok) l->token = (uint64_t)v;
    else *next_ns = v < 0 ? -1 : v * 1000000;
    return ok ? 0 : EAGAIN;
}

/* A fresh lease id (128 random bits, hex) for weight; 0 or EIO. */
static int new_lease(lfp_rsem *s, int64_t weight, lfp_rsem_lease *l)
{
    if (!s || weight <= 0 || weight > s->capacity) return EINVAL;
    unsigned char rnd[16];
    if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd) return EIO;
    l->weight = weight;
    for (int i = 0; i < 16; i++) snprintf(l->id + 2 * i, 3, "%02x", rnd[i]);
    return 0;
}

int lfp_rsem_try_acquire(lfp_rsem *s, int64_t weight, lfp_rsem_lease *lease)
{
    lfp_rsem_lease l;
    int e = lease ? new_lease(s, weight, &l) : EINVAL;
    int64_t next_ns;
    if (!e) e = sem_acq(s, "acq", &l, &next_ns);
    if (!e) *lease = l;
    return e;
}

/* A waiter gives up: withdraw its ticket so those behind move up, and wake
 * this process's waiters (they may fit now). Skipped when the last poll
 * failed in transport or was refused for now (EBUSY): the server is
 * unreachable or refusing (the ticket, and a grant whose reply was lost,
 * expire there by themselves) and another round trip would only stretch
 * the caller's wait past its timeout. */
static void give_up(lfp_rsem *s, const lfp_rsem_lease *l, int last)
{
    if (last == EIO || last == EBUSY) return;
    sem_op(s, "leave", 0, l->id, NULL, NULL); /* best effort: else it expires */
    lfp_ec_notify_all(&s->ec);
}

/* The latest a waiter sleeps to after a poll at `now`: the deadline, a
 * slice (shorter with a cancel token, which a BLPOP cannot watch), and
 * 1 ms past the next expiry the poll reported (next_ns, -1 for none). */
static int64_t sleep_until(int64_t now, int64_t deadline, lfp_cancel *cancel, int64_t next_ns)
{
    int64_t slice = cancel ? CANCEL_SLICE_NS : LFP_RSEM_POLL_MAX_NS;
    if (next_ns >= 0 && next_ns + POLL_MIN_NS < slice) slice = next_ns + POLL_MIN_NS;
    return deadline - now < slice ? deadline : now + slice;
}

/* Sleep until `until`: on the server (BLPOP of the ticket's wake list)
 * after a poll that queued the ticket (queued); else, or when no blocking
 * connection is free or the BLPOP failed, on the handle's eventcount
 * (armed by `key`) for at most `backoff`. Returns 0 when woken before the
 * end, ETIMEDOUT, or ECANCELED. */
static int sleep_on(lfp_rsem *s, const char *wake, bool queued, uint32_t key, int64_t until,
                    int64_t backoff, lfp_cancel *cancel)
{
    int b = queued ? lfp_redis_blpop(s->r, wake, until - lfp_now()) : EAGAIN;
    if (b == 0 || b == ETIMEDOUT) {
        lfp_ec_abort(&s->ec);
        return lfp_cancel_fired(cancel) ? ECANCELED : b;
    }
    int64_t poll_at = lfp_now() + backoff;
    return lfp_ec_wait(&s->ec, key, poll_at < until ? poll_at : until, cancel);
}

int lfp_rsem_acquire(lfp_rsem *s, int64_t weight, lfp_rsem_lease *lease, int64_t deadline,
                     lfp_cancel *cancel)
{
    lfp_rsem_lease l;
    int e = lease ? new_lease(s, weight, &l) : EINVAL;
    if (e) return e;
    char wake[LFP_RSEM_KEY + 48];
    snprintf(wake, sizeof wake, "%s:k:%s", s->key, l.id); /* scripts.c: wake_key */
    int64_t backoff = POLL_MIN_NS;
    for (;;) {
        uint32_t key = lfp_ec_prepare(&s->ec);
        int64_t next_ns = -1;
        e = sem_acq(s, "wait", &l, &next_ns);
        /* EIO (unreachable) and EBUSY (a transient refusal) are retried
         * until the deadline like EAGAIN (no room yet). */
        if (e != EAGAIN && e != EIO && e != EBUSY) { /* granted, or an error a retry cannot fix */
            lfp_ec_abort(&s->ec);
            if (!e) *lease = l;
            return e;
        }
        int64_t now = lfp_now();
        int stop = now >= deadline ? ETIMEDOUT : lfp_cancel_fired(cancel) ? ECANCELED : 0;
        if (stop) {
            lfp_ec_abort(&s->ec);
        } else {
            int64_t until = sleep_until(now, deadline, cancel, next_ns);
            int w = sleep_on(s, wake, e == EAGAIN, key, until, backoff, cancel);
            if (w == ECANCELED) stop = ECANCELED;
            /* Woken (a release): poll at once and soon again. */
            backoff = w == 0 ? POLL_MIN_NS : backoff * 2 > POLL_MAX_NS ? POLL_MAX_NS : backoff * 2;
        }
        if (stop) {
            give_up(s, &l, e);
            return stop == ETIMEDOUT && (e == EIO || e == EBUSY) ? e : stop;
        }
    }
}

static int lease_op(lfp_rsem *s, const lfp_rsem_lease *lease, const char *op)
{
    if (!s || !lease || strnlen(lease->id, sizeof lease->id) != 32) return EINVAL;
    long long ok = sem_op(s, op, 0, lease->id, NULL, NULL);
    if (ok < 0) return (int)-ok;
    return ok ? 0 : ESTALE;
}

int lfp_rsem_renew(lfp_rsem *s, const lfp_rsem_lease *lease)
{
    return lease_op(s, lease, "renew");
}

int lfp_rsem_release(lfp_rsem *s, const lfp_rsem_lease *lease)
{
    int e = lease_op(s, lease, "rel");
    if (e == 0 || e == ESTALE) lfp_ec_notify_all(&s->ec); /* weight is free: local waiters re-poll */
    return e;
}

/* The 'held' op's reply element i (1 = held weight, 2 = queued waiters). */
static int64_t held_reply(lfp_rsem *s, int i)
{
    if (!s) return -EINVAL;
    long long v[2] = { 0, 0 };
    long long ok = sem_op(s, "held", 0, "0", &v[0], &v[1]);
    return ok < 0 ? ok : v[i - 1];
}

int64_t lfp_rsem_held(lfp_rsem *s)
{
    return held_reply(s, 1);
}

int64_t lfp_rsem_waiting(lfp_rsem *s)
{
    return held_reply(s, 2);
}
