/* SPDX-License-Identifier: BSD-2-Clause */
/* lfp_limit_all: all-or-nothing takes across several limiters. */
#include "ratelimit_internal.h"

/* What one take did, so that it can be undone exactly. */
typedef struct receipt {
    lfp_bucket_reservation rsv;   /* bucket: what its CAS did */
    uint64_t first;     /* slog: first admission number */
    uint64_t charged;   /* windows: the window id charged */
} receipt;

static bool valid(const lfp_limiter *l, uint32_t n)
{
    if (!l->obj || n == 0)
        return false;
    switch (l->kind) {
    case LFP_LIMITER_BUCKET:  return lfp_bucket_valid_n_(l->obj, n);
    case LFP_LIMITER_FWINDOW: return n <= ((lfp_fwindow *)l->obj)->limit;
    case LFP_LIMITER_SWINDOW: return n <= ((lfp_swindow *)l->obj)->limit;
    case LFP_LIMITER_SLOG:    return n <= ((lfp_slog *)l->obj)->limit;
    }
    return false;
}

static int take(const lfp_limiter *l, uint32_t n, int64_t now, receipt *r)
{
    switch (l->kind) {
    case LFP_LIMITER_BUCKET:  return lfp_bucket_take_ex_at_(l->obj, n, now, &r->rsv);
    case LFP_LIMITER_FWINDOW: return lfp_fwindow_take_charged_(l->obj, n, now, &r->charged);
    case LFP_LIMITER_SWINDOW: return lfp_swindow_take_charged_(l->obj, n, now, &r->charged);
    case LFP_LIMITER_SLOG:    return lfp_slog_take_claim_(l->obj, n, now, &r->first);
    }
    return EINVAL;
}

/* Undo exactly what take() did, or nothing (lfp_bucket_give_back restores
 * a bucket take only while no later take was stacked on it or re-based
 * TAT: an undo never creates tokens). */
static void give_back(const lfp_limiter *l, uint32_t n, int64_t now, receipt *r)
{
    switch (l->kind) {
    case LFP_LIMITER_BUCKET:  lfp_bucket_give_back(l->obj, &r->rsv); break;
    case LFP_LIMITER_FWINDOW: lfp_fwindow_give_back_(l->obj, n, r->charged); break;
    case LFP_LIMITER_SWINDOW: lfp_swindow_give_back_(l->obj, n, r->charged); break;
    case LFP_LIMITER_SLOG:    lfp_slog_give_back_(l->obj, n, now, r->first); break;
    }
}

int64_t lfp_limiter_ready_at_(const lfp_limiter *l, uint32_t n, int64_t now)
{
    switch (l->kind) {
    case LFP_LIMITER_BUCKET:  return lfp_bucket_ready_at_(l->obj, n, now);
    case LFP_LIMITER_FWINDOW: return lfp_fwindow_ready_at_(l->obj, n, now);
    case LFP_LIMITER_SWINDOW: return lfp_swindow_ready_at_(l->obj, n, now);
    case LFP_LIMITER_SLOG:    return lfp_slog_ready_at_(l->obj, n, now);
    }
    return now;
}

/* The log is taken after every other limiter: undoing a log's claim
 * cannot always restore it (when another take moved head meanwhile, the
 * released slots sit behind head until the ring comes round, and in-order
 * takes are refused meanwhile), whereas the other undos are exact. So the
 * one log a call may hold is claimed only once all the others admitted,
 * and never undone; a second log would have to be undone when the first
 * refused, so calls with two are refused with EINVAL. */
static bool in_pass(const lfp_limiter *l, bool logs)
{
    return (l->kind == LFP_LIMITER_SLOG) == logs;
}

/* Receipts live on the stack in chunks; more limiters recurse. */
#define CHUNK 16

/* Take from ls[from .. count) the limiters of this pass (logs or not),
 * then the rest of the pass and, after the first pass, the second; if any
 * refuses, undo this chunk's takes and return its code. */
static int take_pass(const lfp_limiter *ls, size_t count, size_t from, bool logs, uint32_t n,
                     int64_t now, const lfp_limiter **refuser)
{
    receipt r[CHUNK];
    size_t at[CHUNK], k = 0, i = from;
    int rc = 0;
    for (; i < count && k < CHUNK && rc == 0; i++)
        if (in_pass(&ls[i], logs) && (rc = take(&ls[i], n, now, &r[k])) == 0)
            at[k++] = i;
    if (rc != 0)
        *refuser = &ls[i - 1];
    else if (i < count)
        rc = take_pass(ls, count, i, logs, n, now, refuser);
    else if (!logs)
        rc = take_pass(ls, count, 0, true, n, now, refuser);
    if (rc != 0)
        while (k-- > 0)
            give_back(&ls[at[k]], n, now, &r[k]);
    return rc;
}

/* The stats of the limiter l refers to (struct lfp_rl_stats). */
static _Atomic(lfp_rl_counts_ *) *stats_of(const lfp_limiter *l)
{
    switch (l->kind) {
    case LFP_LIMITER_BUCKET:  return &((lfp_bucket *)l->obj)->stats_;
    case LFP_LIMITER_FWINDOW: return &((lfp_fwindow *)l->obj)->stats_;
    case LFP_LIMITER_SWINDOW: return &((lfp_swindow *)l->obj)->stats_;
    case LFP_LIMITER_SLOG:    return &((lfp_slog *)l->obj)->stats_;
    }
    return NULL;
}

int lfp_limit_all_take_(const lfp_limiter *ls, size_t count, uint32_t n, int64_t now,
                        bool count_denied)
{
    if (!ls || count == 0)
        return EINVAL;
    size_t logs = 0;
    for (size_t i = 0; i < count; i++) {
        if (!valid(&ls[i], n))
            return EINVAL;            /* checked first: nothing is taken */
        logs += ls[i].kind == LFP_LIMITER_SLOG;
    }
    if (logs > 1)
        return EINVAL;   /* a second log's undo could not be exact (in_pass) */
    const lfp_limiter *refuser = NULL;
    int rc = take_pass(ls, count, 0, false, n, now, &refuser);
    if (rc == 0)
        for (size_t i = 0; i < count; i++)
            lfp_rl_note_(stats_of(&ls[i]), 0);
    else if (count_denied)
        lfp_rl_note_(stats_of(refuser), rc);
    return rc;
}

int lfp_limit_all_at(const lfp_limiter *ls, size_t count, uint32_t n, int64_t now)
{
    return lfp_limit_all_take_(ls, count, n, now, true);
}

int lfp_limit_all(const lfp_limiter *ls, size_t count, uint32_t n)
{
    return lfp_limit_all_at(ls, count, n, lfp_rl_now_());
}
