/* SPDX-License-Identifier: BSD-2-Clause */
/* ratelimit_internal.h — internal: the takes with receipts and the
 * give-backs lfp_limit_all uses to undo exactly what a take did. */
#ifndef LFP_SRC_RATELIMIT_INTERNAL_H
#define LFP_SRC_RATELIMIT_INTERNAL_H

#include "lfpat/ratelimit.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <x86intrin.h>
#define LFP_RL_TSC 1
#else
#define LFP_RL_TSC 0
#endif

/* ------------------------------------------------------------ the takes' clock
 *
 * lfp_rl_now_() is the clock of the plain takes (lfp_bucket_take,
 * lfp_fwindow_take, lfp_swindow_take, lfp_slog_take, lfp_limit_all). It
 * returns a CLOCK_MONOTONIC reading made by lfp_now() in the calling thread
 * less than LFP_RL_CLOCK_TICKS TSC ticks earlier (<= 256 ns on any TSC of
 * 1 GHz or more; 122 ns on the 2.1 GHz reference machine), reading the clock
 * anew only when that reading is older. A TSC read costs ~11 ns here and
 * lfp_now() ~28 ns, so a thread taking in a tight loop pays about half.
 *
 * Why it cannot mint or lose tokens, also when take and take_at (with
 * lfp_now()) are mixed on one limiter: every value it returns IS an
 * lfp_now() reading, made by this thread before the call. A plain take is
 * therefore exactly lfp_*_take_at(x, n, t) with t = lfp_now() read up to
 * 256 ns before the call — an execution that lfp_now() itself produces
 * whenever a thread is delayed that long between its clock read and its
 * CAS (an interrupt, a preemption). The limiters are exact in the
 * timestamps they are given and charge an older timestamp as the newest
 * they have seen (lfpat/ratelimit.h, "Concurrency and timestamps"), so a
 * reused reading can only be refused more readily, by at most 256 ns worth
 * of tokens, never admitted past a bound; nothing accumulates.
 * Monotonic: a thread's values never decrease (a reading is replaced only by
 * a later lfp_now() reading of the same thread). Consistent across threads:
 * no value is ever ahead of CLOCK_MONOTONIC; each lags it by less than the
 * reuse span.
 *
 * The TSC only decides when to read the clock again; its value never enters
 * a timestamp. So only its rate matters, and only for the lag bound: it is
 * used when the CPU reports an invariant TSC (CPUID 0x80000007 EDX bit 8:
 * constant rate, not stopped in idle states) and the process may execute
 * rdtsc (prctl PR_GET_TSC); otherwise lfp_rl_now_() is lfp_now(). A TSC
 * that steps backwards (a thread moved to a CPU whose TSC is behind) makes
 * the unsigned difference huge, so the clock is read anew; a thread's first
 * call always reads it (its stamp is 0, and any TSC has counted far past
 * LFP_RL_CLOCK_TICKS since boot). */
#define LFP_RL_CLOCK_TICKS 256u

typedef struct lfp_rl_clock_ {
    uint64_t tsc;   /* TSC when `ns` was read */
    int64_t ns;     /* an lfp_now() reading */
} lfp_rl_clock_;

#if defined(__GNUC__)
#define LFP_RL_TLS_MODEL_ __attribute__((tls_model("initial-exec")))
#else
#define LFP_RL_TLS_MODEL_
#endif

extern _Thread_local lfp_rl_clock_ lfp_rl_clock_tls_ LFP_RL_TLS_MODEL_;
/* 1: use the TSC; -1: do not; 0: not decided yet (lfp_rl_now_slow_ decides). */
extern _Atomic int lfp_rl_tsc_usable_;

/* The clock read anew (and, the first time, the TSC check). */
int64_t lfp_rl_now_slow_(void);

static inline int64_t lfp_rl_now_(void)
{
#if LFP_RL_TSC
    /* relaxed: a flag decided once; either value leads to a correct clock. */
    if (LFP_LIKELY(atomic_load_explicit(&lfp_rl_tsc_usable_, memory_order_relaxed) > 0)) {
        lfp_rl_clock_ *c = &lfp_rl_clock_tls_;
        if (LFP_LIKELY(__rdtsc() - c->tsc < LFP_RL_CLOCK_TICKS))
            return c->ns;
    }
#endif
    return lfp_rl_now_slow_();
}

/* ------------------------------------------------------------ statistics */

/* Enable a lock-free limiter's counts (idempotent; 0 or ENOMEM), free them
 * at destroy, read them (ENOENT, zeros, if never enabled), and count a
 * wait's result (`slept`: it slept at least once). */
int  lfp_rl_stats_enable_(_Atomic(lfp_rl_counts_ *) *slot);
void lfp_rl_stats_free_(_Atomic(lfp_rl_counts_ *) *slot);
int  lfp_rl_stats_read_(_Atomic(lfp_rl_counts_ *) const *slot, struct lfp_rl_stats *out);
void lfp_rl_note_wait_(_Atomic(lfp_rl_counts_ *) const *slot, int rc, bool slept);

/* lfp_limit_all_at, counting in each limiter's stats its admission and,
 * if count_denied, the refusal of the limiter that refused (the waits
 * count only admissions). */
int lfp_limit_all_take_(const lfp_limiter *ls, size_t count, uint32_t n, int64_t now,
                        bool count_denied);

/* lfp_bucket_take_ex_at without counting (lfp_limit_all counts itself). */
int lfp_bucket_take_ex_at_(lfp_bucket *b, uint32_t n, int64_t now, lfp_bucket_reservation *r);

/* The twins' counts, under their mutex: a take's result, a wait's. */
void lfp_rl_tally_(struct lfp_rl_stats *st, int rc);
void lfp_rl_tally_wait_(struct lfp_rl_stats *st, int rc, bool slept);

/* Undo a take charged to window id `charged` (from
 * lfp_fwindow_take_charged_): only while that window is still stored. */
void lfp_fwindow_give_back_(lfp_fwindow *w, uint32_t n, uint64_t charged);

/* Undo a take charged to window id `charged` (from
 * lfp_swindow_take_charged_): from cur while that window is current, from
 * prev one window later. */
void lfp_swindow_give_back_(lfp_swindow *w, uint32_t n, uint64_t charged);

/* lfp_slog_take_at with the first slot index claimed; and its undo: each
 * claimed slot still holding this take's time is released (set to now - W). */
int  lfp_slog_take_claim_(lfp_slog *w, uint32_t n, int64_t now, uint64_t *first);
void lfp_slog_give_back_(lfp_slog *w, uint32_t n, int64_t now, uint64_t first);

/* The waiting protocol of lfp_bucket_wait_at, shared with its mutex twin
 * lfp_locked_bucket_wait_at. `reserve` consumes n tokens at `now` unless
 * they would be ready only after `latest` (then EAGAIN, nothing consumed)
 * and fills the receipt; `give_back` undoes a receipt as
 * lfp_bucket_give_back does. */
typedef struct lfp_rl_waiter_ {
    int (*reserve)(void *b, uint32_t n, int64_t now, int64_t latest, lfp_bucket_reservation *r);
    int (*give_back)(void *b, lfp_bucket_reservation *r);
} lfp_rl_waiter_;

/* The emission interval for a rate: the smallest T (ns) with T * rate >=
 * 1e9, exactly; 0 if the rate is outside [LFP_BUCKET_MIN_RATE,
 * LFP_BUCKET_MAX_RATE]. And whether burst * T fits LFP_BUCKET_MAX_SPAN.
 * Shared by lfp_bucket and its twin (same accepted range). */
int64_t lfp_rl_interval_(double rate);
bool lfp_rl_span_ok_(uint32_t burst, int64_t t);

/* lfp_bucket's accepted settings, shared with its twin: the interval for a
 * rate (0 for +infinity, unlimited; -1 if the rate is not accepted), and
 * whether a pair is accepted (unlimited with any burst, or burst * t within
 * LFP_BUCKET_MAX_SPAN, burst 0 included: it admits nothing). */
int64_t lfp_rl_interval_of_(double rate);
bool lfp_rl_settings_ok_(uint32_t burst, int64_t t);

/* EINVAL if b is NULL. Take at once if available (whatever the deadline or
 * token); else ECANCELED if the token fired; else ETIMEDOUT, consuming
 * nothing, if the ready time is after the deadline; else reserve, sleep
 * once until the ready time and, if the token fires first, give the
 * reservation back. */
int lfp_rl_wait_(const lfp_rl_waiter_ *w, void *b, uint32_t n, int64_t now, int64_t deadline,
                 lfp_cancel *cancel, bool *slept);

/* The wait of the limiters without reservations (windows, log,
 * lfp_limit_all): `take` is the limiter's take at `now`; `ready` the
 * earliest time >= now at which a take of n could be admitted if nothing
 * else changed (now when it could be at once; INT64_MAX when not before the
 * end of the time line). */
typedef struct lfp_rl_retry_ {
    int (*take)(void *obj, uint32_t n, int64_t now);
    int64_t (*ready)(void *obj, uint32_t n, int64_t now);
} lfp_rl_retry_;

/* Take at once if admitted (whatever the deadline or token); else
 * ECANCELED if the token fired; else ETIMEDOUT if the ready time is after
 * the deadline; else sleep until the ready time and try again (others may
 * have taken the capacity meanwhile). Nothing is taken unless it returns 0. */
int lfp_rl_wait_retry_(const lfp_rl_retry_ *f, void *obj, uint32_t n, int64_t now,
                       int64_t deadline, lfp_cancel *cancel, bool *slept);

/* n admissible by the bucket's settings: 1 <= n <= burst, any n >= 1 if
 * unlimited. */
bool lfp_bucket_valid_n_(const lfp_bucket *b, uint32_t n);

/* The ready times (see lfp_rl_retry_) of each limiter, for a valid n. */
int64_t lfp_bucket_ready_at_(const lfp_bucket *b, uint32_t n, int64_t now);
int64_t lfp_fwindow_ready_at_(const lfp_fwindow *w, uint32_t n, int64_t now);
int64_t lfp_swindow_ready_at_(const lfp_swindow *w, uint32_t n, int64_t now);
int64_t lfp_slog_ready_at_(const lfp_slog *w, uint32_t n, int64_t now);
int64_t lfp_limiter_ready_at_(const lfp_limiter *l, uint32_t n, int64_t now);

__extension__ typedef __int128 lfp_i128_;

/* t - now for t >= now, saturating (the operands may span the int64 line);
 * 0 for t < now. */
static inline int64_t lfp_rl_until_(int64_t now, int64_t t)
{
    if (t < now)
        return 0;
    uint64_t d = (uint64_t)t - (uint64_t)now;
    return d > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)d;
}

/* A result's retry_after_ns for ready time `at` (INT64_MAX: never). */
static inline int64_t lfp_rl_retry_after_(int64_t now, int64_t at)
{
    return at == INT64_MAX ? INT64_MAX : lfp_rl_until_(now, at);
}

/* k * w, saturating at INT64_MIN / INT64_MAX: the start of window k. */
static inline int64_t lfp_rl_window_start_(lfp_i128_ k, int64_t w)
{
    lfp_i128_ t = k * w;
    return t > INT64_MAX ? INT64_MAX : t < INT64_MIN ? INT64_MIN : (int64_t)t;
}

#endif
