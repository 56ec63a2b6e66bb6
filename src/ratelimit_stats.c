/* SPDX-License-Identifier: BSD-2-Clause */
/* Limiter statistics (struct lfp_rl_stats in lfpat/ratelimit.h): the
 * lock-free limiters' opt-in counts and the twins' plain ones. */
#include "ratelimit_internal.h"

#include <stdlib.h>

static void counts_free(lfp_rl_counts_ *c)
{
    lfp_striped_destroy(&c->allowed);
    lfp_striped_destroy(&c->denied);
    free(c);
}

int lfp_rl_stats_enable_(_Atomic(lfp_rl_counts_ *) *slot)
{
    /* acquire: as lfp_rl_note_ (an enable by another thread is complete). */
    if (atomic_load_explicit(slot, memory_order_acquire))
        return 0;
    lfp_rl_counts_ *c = aligned_alloc(LFP_CACHELINE, sizeof *c);
    if (!c)
        return ENOMEM;
    if (lfp_striped_init(&c->allowed, 0) != 0) {
        free(c);
        return ENOMEM;
    }
    if (lfp_striped_init(&c->denied, 0) != 0) {
        lfp_striped_destroy(&c->allowed);
        free(c);
        return ENOMEM;
    }
    atomic_init(&c->waited, 0);
    atomic_init(&c->timed_out, 0);
    atomic_init(&c->cancelled, 0);
    lfp_rl_counts_ *none = NULL;
    /* release: pairs with the acquire loads of lfp_rl_note_ and the readers:
     * whoever sees the pointer sees the initialised cells. acquire on
     * failure: the winner's counts are then complete for this caller too. */
    if (!atomic_compare_exchange_strong_explicit(slot, &none, c, memory_order_acq_rel,
                                                 memory_order_acquire))
        counts_free(c);   /* another thread enabled them first */
    return 0;
}

void lfp_rl_stats_free_(_Atomic(lfp_rl_counts_ *) *slot)
{
    /* relaxed: destroy requires a quiescent limiter (no concurrent call). */
    lfp_rl_counts_ *c = atomic_load_explicit(slot, memory_order_relaxed);
    if (c)
        counts_free(c);
    atomic_store_explicit(slot, NULL, memory_order_relaxed);   /* relaxed: as above */
}

int lfp_rl_stats_read_(_Atomic(lfp_rl_counts_ *) const *slot, struct lfp_rl_stats *out)
{
    *out = (struct lfp_rl_stats){ 0, 0, 0, 0, 0 };
    /* acquire: pairs with the enable's release CAS. */
    lfp_rl_counts_ *c = atomic_load_explicit(slot, memory_order_acquire);
    if (!c)
        return ENOENT;
    out->allowed = (uint64_t)lfp_striped_sum(&c->allowed);
    out->denied = (uint64_t)lfp_striped_sum(&c->denied);
    /* relaxed: statistics order nothing (see "Exactness" in ratelimit.h). */
    out->waited = atomic_load_explicit(&c->waited, memory_order_relaxed);
    out->timed_out = atomic_load_explicit(&c->timed_out, memory_order_relaxed);
    out->cancelled = atomic_load_explicit(&c->cancelled, memory_order_relaxed);
    return 0;
}

void lfp_rl_note_wait_(_Atomic(lfp_rl_counts_ *) const *slot, int rc, bool slept)
{
    /* acquire: as lfp_rl_note_. */
    lfp_rl_counts_ *c = atomic_load_explicit(slot, memory_order_acquire);
    if (!c)
        return;
    if (rc == 0)
        lfp_striped_add(&c->allowed, 1);
    /* relaxed: statistics order nothing; the waits' slow path may share a
     * counter (a sleep or a timeout costs far more than this RMW). */
    if (slept)
        atomic_fetch_add_explicit(&c->waited, 1, memory_order_relaxed);
    if (rc == ETIMEDOUT)
        atomic_fetch_add_explicit(&c->timed_out, 1, memory_order_relaxed);
    if (rc == ECANCELED)
        atomic_fetch_add_explicit(&c->cancelled, 1, memory_order_relaxed);
}

void lfp_rl_tally_(struct lfp_rl_stats *st, int rc)
{
    st->allowed += rc == 0;
    st->denied += rc == EAGAIN;
}

void lfp_rl_tally_wait_(struct lfp_rl_stats *st, int rc, bool slept)
{
    st->allowed += rc == 0;
    st->waited += slept;
    st->timed_out += rc == ETIMEDOUT;
    st->cancelled += rc == ECANCELED;
}
