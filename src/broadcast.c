/* SPDX-License-Identifier: BSD-2-Clause */
#include "lfpat/broadcast.h"

#include <stdlib.h>

#include "park.h"

int lfp_broadcast_init(lfp_broadcast *b, size_t capacity)
{
    if (!b || capacity == 0 || capacity > LFP_BROADCAST_MAX_CAPACITY)
        return EINVAL;
    size_t n = 1;
    while (n < capacity)
        n <<= 1;
    lfp_broadcast_slot *s = aligned_alloc(LFP_CACHELINE, n * sizeof *s < LFP_CACHELINE
                                                             ? LFP_CACHELINE
                                                             : n * sizeof *s);
    if (!s)
        return ENOMEM;
    for (size_t i = 0; i < n; i++) {
        atomic_init(&s[i].seq, 0);
        atomic_init(&s[i].value, NULL);
    }
    atomic_init(&b->tail, 0);
    atomic_init(&b->closed, false);
    b->slots = s;
    b->mask = n - 1;
    lfp_ec_init(&b->arrived);
    return 0;
}

void lfp_broadcast_destroy(lfp_broadcast *b)
{
    if (!b)
        return;
    free(b->slots);
    b->slots = NULL;
}

/* The publish cases the inline path left (seq is the slot's value when its
 * CAS failed): the slot is busy with an older position (wait for its
 * publisher's two stores), holds an older position than the previous lap's
 * (that publisher was overtaken), is already taken by a newer one
 * (overtaken: the message counts as missed for everyone), or the CAS lost a
 * race. */
struct busy_slot {
    lfp_broadcast_slot *s;
    uint64_t seq;   /* the odd (busy) value seen */
};

/* lfp_ec_await's condition: the busy slot's owner has written it. */
static int slot_written(void *arg)
{
    struct busy_slot *w = arg;
    /* relaxed: only compared; the CAS in publish_slow_ (acq_rel) orders the
     * slot handover. For the wake-up, the eventcount's SB shape orders this
     * load after lfp_ec_prepare's fence. */
    return atomic_load_explicit(&w->s->seq, memory_order_relaxed) != w->seq ? 0 : EAGAIN;
}

int lfp_broadcast_publish_slow_(lfp_broadcast *b, uint64_t p, uint64_t seq, void *v)
{
    lfp_broadcast_slot *s = &b->slots[p & b->mask];
    while (seq < 2 * p + 1) {
        /* acq_rel: as in lfp_broadcast_publish. */
        if (!(seq & 1) && atomic_compare_exchange_strong_explicit(&s->seq, &seq, 2 * p + 1,
                                                                  memory_order_acq_rel,
                                                                  memory_order_relaxed)) {
            lfp_broadcast_fill_(b, s, p, v);
            return 0;
        }
        if (seq & 1) {
            /* Busy with an older position whose publisher is between its
             * slot CAS and its seq store. Spin briefly, then park on
             * `arrived`: that publisher's lfp_broadcast_fill_ stores seq,
             * then notifies it (never a wait on its progress by spinning:
             * under SCHED_FIFO it may be a lower-priority thread on this
             * CPU). */
            struct busy_slot w = { s, seq };
            (void)lfp_ec_await(&b->arrived, slot_written, &w, LFP_FOREVER, NULL, false);
            /* relaxed: re-read for the CAS above. */
            seq = atomic_load_explicit(&s->seq, memory_order_relaxed);
        }
    }
    return 0;   /* overtaken */
}

void lfp_broadcast_close(lfp_broadcast *b)
{
    if (!b)
        return;
    /* release: pairs with the acquire load in stream_ended; the flag comes
     * first, so a subscriber that does not see it precedes the close. */
    atomic_store_explicit(&b->closed, true, memory_order_release);
    /* acq_rel: release pairs with the acquire tail load of subscribers that
     * see CLOSED; acquire orders it after every claim before it. */
    atomic_fetch_or_explicit(&b->tail, LFP_BROADCAST_CLOSED_, memory_order_acq_rel);
    lfp_ec_notify_all(&b->arrived);
}

int lfp_broadcast_subscribe(lfp_broadcast *b, lfp_broadcast_sub *sub)
{
    if (!b || !sub)
        return EINVAL;
    /* acquire: pairs with the publishers' tail CAS; the cursor starts at the
     * positions claimed so far (later ones are this subscriber's). */
    uint64_t t = atomic_load_explicit(&b->tail, memory_order_acquire);
    *sub = (lfp_broadcast_sub){ .b = b, .next = t & ~LFP_BROADCAST_CLOSED_ };
    return 0;
}

void lfp_broadcast_unsubscribe(lfp_broadcast_sub *sub)
{
    if (sub)
        *sub = (lfp_broadcast_sub){ 0 };
}

/* Position r was overwritten: jump to the oldest position still in the ring
 * and count the skipped ones. */
static void jump_ahead(lfp_broadcast_sub *sub, uint64_t r)
{
    lfp_broadcast *b = sub->b;
    /* acquire: pairs with the overwriter's tail CAS (release), which
     * happens-before its seq write that we saw: tail > r + capacity. */
    uint64_t t = atomic_load_explicit(&b->tail, memory_order_acquire) & ~LFP_BROADCAST_CLOSED_;
    uint64_t oldest = t - (b->mask + 1);
    if (oldest <= r)
        oldest = r + 1;   /* cannot happen (see the header); stay exact anyway */
    sub->pending += oldest - r;
    sub->next = oldest;
}

/* Nothing is published at position r: has the stream ended there? Reads
 * the tail only once close has begun (see the header). */
static bool stream_ended(lfp_broadcast *b, uint64_t r)
{
    /* acquire: pairs with the release store in lfp_broadcast_close. */
    if (LFP_LIKELY(!atomic_load_explicit(&b->closed, memory_order_acquire)))
        return false;
    /* acquire: pairs with close's release RMW. */
    uint64_t t = atomic_load_explicit(&b->tail, memory_order_acquire);
    return (t & LFP_BROADCAST_CLOSED_) && r == (t & ~LFP_BROADCAST_CLOSED_);
}

/* One receive attempt; lag goes to sub->pending. */
static int recv_step(lfp_broadcast_sub *sub, void **out)
{
    lfp_broadcast *b = sub->b;
    for (;;) {
        uint64_t r = sub->next;
        lfp_broadcast_slot *s = &b->slots[r & b->mask];
        /* acquire: pairs with the release seq store in lfp_broadcast_fill_. */
        uint64_t seq = atomic_load_explicit(&s->seq, memory_order_acquire);
        if (seq == 2 * r + 2) {
            /* acquire: orders the re-load below after this load, and pairs
             * with the release value store of a later overwriter. */
            void *v = atomic_load_explicit(&s->value, memory_order_acquire);
            /* relaxed: ordered after the value load by its acquire. */
            if (atomic_load_explicit(&s->seq, memory_order_relaxed) == seq) {
                *out = v;
                sub->next = r + 1;
                sub->received++;
                return 0;
            }
        } else if (seq < 2 * r + 2) {
            return stream_ended(b, r) ? EPIPE : EAGAIN;
        } else {
            jump_ahead(sub, r);
        }
    }
}

/* Hand over the missed count accumulated since the last call. */
static void report_missed(lfp_broadcast_sub *sub, uint64_t *missed)
{
    *missed = sub->pending;
    sub->missed += sub->pending;
    sub->pending = 0;
}

int lfp_broadcast_try_recv(lfp_broadcast_sub *sub, void **out, uint64_t *missed)
{
    if (!sub || !sub->b || !out || !missed)
        return EINVAL;
    int rc = recv_step(sub, out);
    report_missed(sub, missed);
    return rc;
}

struct recv_op {
    lfp_broadcast_sub *sub;
    void **out;
};

static int recv_try(void *arg)
{
    struct recv_op *op = arg;
    return recv_step(op->sub, op->out);
}

int lfp_broadcast_recv(lfp_broadcast_sub *sub, void **out, uint64_t *missed,
                       int64_t deadline, lfp_cancel *cancel)
{
    if (!sub || !sub->b || !out || !missed)
        return EINVAL;
    struct recv_op op = { sub, out };
    int rc = lfp_ec_await(&sub->b->arrived, recv_try, &op, deadline, cancel, false);
    report_missed(sub, missed);
    return rc;
}
