/* SPDX-License-Identifier: BSD-2-Clause */
/* lfpat/ratelimit.h — rate limiters and sliding windows.
 *
 *   lfp_bucket   token bucket as GCRA: one atomic word, exact integer-ns
 *                accounting, bursts up to `burst`; also the leaky bucket
 *   lfp_fwindow  fixed window counter: one atomic word; up to 2x the limit
 *                across a window boundary (documented below)
 *   lfp_swindow  sliding-window counter (Cloudflare's weighted estimate):
 *                one atomic word
 *   lfp_slog     exact sliding log: never more than `limit` admissions in
 *                any window of length W
 *   lfp_rolling  rolling sum over the last N time buckets (metrics, breakers)
 *   lfp_limit_all  take from several limiters all-or-nothing
 *
 * Time: every time-based call has an `_at(..., now)` form taking the caller's
 * CLOCK_MONOTONIC nanoseconds (tests drive a fake clock). The plain takes
 * (lfp_bucket_take, lfp_fwindow_take, lfp_swindow_take, lfp_slog_take,
 * lfp_limit_all) use an lfp_now() reading that the calling thread made less
 * than 256 TSC ticks earlier (<= 256 ns for any TSC of 1 GHz or more),
 * reading the clock anew only when its last reading is older: on x86-64
 * with an invariant TSC this halves the clock's cost in a busy thread
 * (src/ratelimit_internal.h has the argument); elsewhere they read lfp_now().
 * Such a take is exactly the `_at` take with a reading made a moment
 * earlier, as a thread interrupted between its clock read and its take
 * would make, so it is bound by everything below. The other plain calls
 * (wait, rolling add/sum) read lfp_now(). Time going backwards (a caller
 * passing an older `now` than an earlier call, e.g. threads whose clock reads
 * raced) never mints capacity: an older timestamp is charged as if it were
 * the newest one seen.
 *
 * Return codes of every take: 0 admitted; EAGAIN refused (rate exceeded,
 * nothing consumed); EINVAL for a NULL limiter, n == 0 or n above the burst/limit (nothing
 * consumed). A take is all-or-nothing.
 *
 * Ordering: none. Like counters, limiters carry no happens-before edge
 * between the threads they admit; they decide admissions, they do not
 * publish data. Each limiter's decisions are linearizable: every admission
 * is one successful CAS on the limiter's word, and the admission rule holds
 * in that CAS order.
 *
 * Concurrency and timestamps: a take linearizes at its CAS, but is judged
 * with the `now` its caller read earlier. Under a shared clock the bounds
 * below hold for the admitted timestamps whenever takes linearize in
 * timestamp order (stress_ratelimit checks exactly that); a straggler whose
 * timestamp is older than the limiter's newest is charged at the newest time
 * (fixed and sliding window) or at the bucket's TAT (GCRA), so it can only be
 * refused more readily, never admitted past the limit. lfp_slog judges
 * each take by its own timestamp and stays exact for any arrival order.
 *
 * Copying: an lfp_bucket, lfp_fwindow, lfp_swindow, lfp_slog or lfp_rolling
 * (lfp_bucket_reservation, lfp_limiter, struct lfp_rl_result and struct
 * lfp_rl_stats are plain values and may be copied)
 * must not be copied or moved after init: a copy of a limiter is a second
 * limiter, so admissions split between the two exceed the limit; lfp_slog and
 * lfp_rolling (and any limiter whose stats are enabled) share their buffer
 * with a copy, and destroying both frees it twice. Use it where it was initialised, through pointers.
 *
 * Fork: a child of fork may call every call of this header on an object that
 * no thread of the parent was using when fork() was called (lfpat's
 * process-wide locks are held across fork by atfork handlers, src/fork.c, so
 * none is copied held). An object a parent thread was inside at the fork (in a
 * call, or blocked in one) is copied in that intermediate state, with a thread
 * the child does not have: the child must not use it.
 */
#ifndef LFPAT_RATELIMIT_H
#define LFPAT_RATELIMIT_H

#include "lfpat/cancel.h"
#include "lfpat/counter.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------ results */

/* The outcome of a take as redis-cell's CL.THROTTLE replies, with the
 * meanings (and names) of lfpat/redis.h's lfp_rbucket_result, from
 * lfp_bucket_take_result_at, lfp_fwindow_take_result_at and
 * lfp_swindow_take_result_at:
 *   limit           the burst (bucket) or the limit per window
 *   remaining       admissions a take at `now` could still get after this
 *                   call, exactly by the limiter's own rule (>= 0;
 *                   INT64_MAX for an unlimited bucket)
 *   retry_after_ns  refused: how long from `now` until a take of n could be
 *                   admitted if nothing else happens (INT64_MAX: never, e.g.
 *                   past the time line's end); admitted: 0; a peek (n == 0):
 *                   the same for a take of 1
 *   reset_ns        how long from `now` until the limiter is back to its
 *                   full capacity (0 if it is)
 * A zero quantity is a peek: n == 0 returns 0 and the state at `now`
 * without taking (the plain takes keep refusing n == 0 with EINVAL: a take
 * of nothing there is a caller's mistake). lfp_slog has no result call:
 * its `remaining` would need a scan of up to `limit` slots per take (use
 * lfp_slog_count_at). */
struct lfp_rl_result {
    int64_t limit;
    int64_t remaining;
    int64_t retry_after_ns;
    int64_t reset_ns;
};

/* ------------------------------------------------------------ statistics */

/* What a limiter decided, counted per call (lfp_bucket_stats,
 * lfp_fwindow_stats, lfp_swindow_stats, lfp_slog_stats, lfp_keyed_stats and
 * the twins' lfp_locked_*_stats):
 *   allowed    calls that admitted: takes of every form (n >= 1) and
 *              reservations that returned 0, waits that returned 0, and
 *              each limiter of an admitted lfp_limit_all / _wait (a
 *              give-back or a cancelled wait's give-back does not uncount)
 *   denied     takes that returned EAGAIN (lfp_keyed: also takes and
 *              waits that returned ENOSPC, a full table); in a
 *              refused lfp_limit_all only the limiter that refused (the
 *              ones taken before it and undone count nothing)
 *   waited     waits that slept at least once (whatever they returned)
 *   timed_out  waits that returned ETIMEDOUT
 *   cancelled  waits that returned ECANCELED
 * EINVAL calls and peeks (n == 0) count nothing; the waits' own internal
 * attempts are not takes (a wait counts once, by its result); the
 * lfp_limit_all waits count only their admissions (the set has no object
 * to hold its timeouts).
 *
 * The lock-free limiters count only once lfp_<x>_stats_enable was called
 * (so a limiter nobody reads stats from pays one predictable branch):
 * admissions and refusals go to per-thread cells (lfp_striped, as lfp_sem's
 * releases: a relaxed load and store of the calling thread's own line, no
 * shared read-modify-write on any take's path), the waits' outcomes to
 * atomic counters off the limiter's line. Takes that ran before the enable
 * (or raced with it) may be missed. Exactness: each count is exact once
 * every call that began after the enable has returned (lfp_striped_sum's
 * rule: the sum taken after the adders finished is exact; while calls run,
 * each count is a value it had at some moment during the read, and the
 * counts need not be mutually consistent). The twins always count, under
 * their mutex: exact and mutually consistent at every read. */
struct lfp_rl_stats {
    uint64_t allowed;
    uint64_t denied;
    uint64_t waited;
    uint64_t timed_out;
    uint64_t cancelled;
};

/* A lock-free limiter's counts (internal, lfpat/internal/ratelimit.h),
 * allocated by its *_stats_enable. */
typedef struct lfp_rl_counts_ lfp_rl_counts_;

/* ------------------------------------------------------------ bucket (GCRA) */

/* lfp_bucket — a token bucket of `burst` tokens refilled at `rate` per
 * second, implemented as GCRA (the generic cell rate algorithm of ATM, also
 * redis-cell's and nginx's limit_req model).
 *
 * State: one atomic word, TAT (the theoretical arrival time): the instant at
 * which the bucket is full again. With emission interval T ns per token
 * (T = ceil(1e9 / rate), computed exactly once, at init/set_rate) the tokens
 * available at `now` are burst - (max(TAT, now) - now) / T. Taking n tokens
 * at `now` is admitted iff  max(TAT, now) - now <= (burst - n) * T  and then
 * sets TAT = max(TAT, now) + n * T, in one CAS.
 *
 * The bound (checked by tests/test_ratelimit_issue15.c over every pair of
 * admission times of random runs with takes, reservations and give-backs):
 * no interval of length L holds more than  burst + L / T  admissions, where
 * an admission is a token of a take at its `now` or of a reservation (not
 * given back) at its ready time. Exactness: every quantity is an integer
 * number of nanoseconds; there is no per-refill rounding, so no fractional
 * token is ever lost (the seed's bucket dropped them: polled every 0.7 s a
 * 2/s bucket admitted 1.43/s); a caller that polls often enough gets exactly
 * burst + elapsed / T.
 *
 * Rate rounding: T is rounded UP (exact integer arithmetic on the double
 * rate: T is the smallest integer with T * rate >= 1e9 * (1 - 2^-53)), so
 * the bucket is never faster than requested, beyond a relative 2^-53 =
 * 1.1e-16 that forgives the rounding of the double rate itself (1.0 / 3600
 * is one hour, not one hour and 1 ns). The effective rate is exactly 1e9 / T
 * per second (lfp_bucket_rate): requested / (1 + rate * 1e-9) < effective
 * <= requested * (1 + 2^-52), i.e. it is slower than requested by a
 * fraction below rate * 1e-9 / (1 + rate * 1e-9): exact for every rate
 * dividing 1e9 (1, 2, 1000, 1e6, 1e9 per second), under 0.1% up to 1e6 per
 * second, under 9.1% up to 1e8, and up to 50% between 5e8 and 1e9 (7e8/s
 * runs at 5e8/s: T = 2 ns). A finer fixed-point TAT would shrink that but
 * not fit: TAT and `now` need the whole int64 range of nanoseconds (fake
 * clocks use its ends), and a remainder would need a second word in the CAS.
 *
 * Accepted range (init, set_rate, set_burst return EINVAL outside it):
 * rate in [LFP_BUCKET_MIN_RATE, LFP_BUCKET_MAX_RATE] per second and
 * burst * T <= LFP_BUCKET_MAX_SPAN (2^62 ns, about 146 years), so no span
 * a take computes ever saturates (the old code let burst * T saturate and
 * then admitted without limit: 1e-9/s burst 11 admitted 10^6 at once).
 * End of the time line: a take or reservation whose new TAT would pass
 * INT64_MAX is refused (EAGAIN, nothing consumed) instead of saturating, so
 * within burst * T of INT64_MAX the bucket admits less than it could, never
 * more (TAT itself stays below INT64_MAX, the value set_* uses as a brief
 * "changing" mark).
 *
 * Time going backwards mints nothing: max(TAT, now) never moves TAT back.
 *
 * Leaky bucket: GCRA *is* the leaky bucket. As a meter (lfp_bucket_take)
 * it admits a request iff a leaky bucket of depth burst draining at `rate`
 * would not overflow; as a queue (lfp_bucket_wait / lfp_bucket_reserve_at)
 * every request is given its departure time, so requests leave spaced T
 * apart (after an initial burst) — the leaky bucket's constant output rate.
 * lfp_bucket_init(b, rate, 1) is the strict leaky bucket with no burst.
 *
 * Cost: an admitted take is one CAS and integer arithmetic (no division, no
 * floating point, no counter): one atomic read-modify-write is the floor for
 * an admission that is linearizable across threads. A refused take is loads
 * only, so refusals do not move TAT's line between cores.
 *
 * Configuration changes (set_rate_at, set_burst_at) keep the token count
 * at the instant of the change, as Go's SetLimitAt / SetBurstAt do: tokens
 * after = min(tokens before, new burst), so a change never admits more at
 * that instant than was held before; a debt (reservations queued beyond the
 * bucket) is kept in tokens, so the time to repay it rescales with the new
 * rate (rounded up to the ns: never repaid early). Receipts from before a
 * change no longer restore anything (their TAT values meant the old
 * parameters). Changes are serialised by a small spin lock (configuration
 * only); during one (a few instructions) TAT holds INT64_MAX: takes are
 * refused, reservations wait for it. The parameters are published with a
 * release store of the new TAT that every take reads with acquire, so a take
 * sees the new TAT only with the new parameters. One race remains: a take
 * that read TAT and the parameters before a change and whose CAS lands after
 * it (TAT back at the value it read: the change kept it, or later takes
 * brought it there) is judged and charged by the old parameters. Against a
 * burst change that is never more generous than the new rule; against a
 * slower rate (T' > T) it is charged n * T instead of n * T', i.e. it may be
 * under-charged by less than its own n tokens, once per such racing take.
 *
 * Unlimited rate and burst 0 (Go's x/time/rate semantics): with rate
 * LFP_RATE_INF (T = 0) every take, reservation and wait of any n >= 1
 * succeeds at once, whatever the burst, and changes nothing (no write: a
 * give-back of such a receipt returns 0 and restores nothing, as nothing
 * was consumed); lfp_bucket_tokens_at returns +infinity. With a finite rate,
 * burst 0 admits nothing: every take, reservation or wait returns EINVAL
 * (n > burst: it could never succeed), as Go's AllowN is false and WaitN
 * fails. Changing from the unlimited rate to a finite one leaves the bucket
 * full (Go: the tokens are capped at the burst).
 *
 * Progress: take/give_back are lock-free (one CAS loop on one word; a refused
 * take makes no write at all); reserve is lock-free except that it waits
 * for a configuration change in progress.
 */
/* An unlimited rate, Go's rate.Inf: lfp_bucket_init / set_rate accept it
 * (any +infinity); lfp_bucket_init_every with interval 0 makes it too. */
#define LFP_RATE_INF (__builtin_inf())

#define LFP_BUCKET_MAX_RATE 1e9
#define LFP_BUCKET_MIN_RATE 2.2e-10
#define LFP_BUCKET_MAX_SPAN (INT64_C(1) << 62)   /* largest burst * T, ns */

typedef struct lfp_bucket {
    /* TAT and the parameters share a line: every take reads all three and
     * writes TAT, so one line moves per take; parameters rarely change. */
    alignas(LFP_CACHELINE) _Atomic(int64_t) tat;
    _Atomic(int64_t) interval;  /* T, ns per token */
    _Atomic(uint32_t) burst;
    _Atomic(uint32_t) cfg_lock_; /* serialises set_rate / set_burst */
    _Atomic(uint32_t) gen_;     /* configuration changes so far (receipts check it) */
    _Atomic(lfp_rl_counts_ *) stats_;   /* NULL until lfp_bucket_stats_enable */
} lfp_bucket;

/* A receipt for tokens a reservation (or an undoable take) consumed: when
 * its holder may act, and what lfp_bucket_give_back needs to undo exactly
 * that consumption. Caller-owned; the fields ending in _ are private. */
typedef struct lfp_bucket_reservation {
    int64_t ready;    /* the caller may act from this time on */
    int64_t end_;     /* lfp_bucket: TAT this reservation produced; twin: its number */
    int64_t start_;   /* lfp_bucket: TAT it started from; twin: the previous newest */
    uint32_t n_;      /* tokens; 0 once given back */
    uint32_t gen_;    /* lfp_bucket: configuration generation it was made in */
} lfp_bucket_reservation;

/* Initialise a full bucket: `burst` tokens, refilled at rate_per_s
 * (LFP_RATE_INF: unlimited). burst may be 0 (see "Unlimited rate and
 * burst 0").
 * Returns 0; EINVAL if b is NULL, rate is NaN, -infinity, <= 0 or outside
 * [LFP_BUCKET_MIN_RATE, LFP_BUCKET_MAX_RATE] (and not +infinity), or
 * burst * T > LFP_BUCKET_MAX_SPAN. */
LFP_API int lfp_bucket_init(lfp_bucket *b, double rate_per_s, uint32_t burst);

/* Initialise a full bucket refilled one token every interval_ns (Go's
 * rate.Every): T = interval_ns exactly, no rounding through a double rate;
 * interval_ns == 0 is the unlimited rate (as Go's Every(0) = Inf).
 * Returns 0; EINVAL if b is NULL, interval_ns < 0 or burst * interval_ns >
 * LFP_BUCKET_MAX_SPAN (also interval_ns > LFP_BUCKET_MAX_SPAN). */
LFP_API int lfp_bucket_init_every(lfp_bucket *b, int64_t interval_ns, uint32_t burst);

/* Release what the bucket holds (its stats, if enabled). The bucket must be
 * quiescent; it may be initialised again. NULL is ignored. */
LFP_API void lfp_bucket_destroy(lfp_bucket *b);

/* Start counting this bucket's calls (struct lfp_rl_stats, "Statistics"
 * above); idempotent, and safe while other threads take.
 * Returns 0; EINVAL if b is NULL; ENOMEM (nothing changed). */
LFP_API int lfp_bucket_stats_enable(lfp_bucket *b);

/* Fill *out with the counts so far (see "Exactness" above).
 * Returns 0; ENOENT (all zero) if stats were never enabled; EINVAL if b or
 * out is NULL. Progress: wait-free (one load per cell). */
LFP_API int lfp_bucket_stats(const lfp_bucket *b, struct lfp_rl_stats *out);

/* Take n tokens at time `now` if available.
 * Returns 0 (always, for any n >= 1, if the rate is unlimited); EAGAIN
 * (nothing taken; also when the new TAT would pass INT64_MAX); EINVAL if b
 * is NULL, n == 0 or n > burst (so always with burst 0 and a finite rate).
 * Progress: lock-free; a refusal is wait-free (loads only). */
static inline int lfp_bucket_take_at(lfp_bucket *b, uint32_t n, int64_t now);

/* lfp_bucket_take_at at the current time (see "Time" above). */
LFP_API int lfp_bucket_take(lfp_bucket *b, uint32_t n);

/* lfp_bucket_take_at that also fills *r, so that the take can be undone
 * with lfp_bucket_give_back (r->ready = now). Same codes; EINVAL also for
 * a NULL r. Progress: lock-free. */
LFP_API int lfp_bucket_take_ex_at(lfp_bucket *b, uint32_t n, int64_t now,
                                  lfp_bucket_reservation *r);

/* Reserve n tokens at `now` and store in *ready_at the time from which the
 * caller may act (<= now when the tokens were available at once). The
 * tokens are consumed now: later callers queue behind this one. This form
 * gives no receipt, so it cannot be given back: use lfp_bucket_reserve_ex_at
 * for that.
 * Returns 0; EAGAIN (nothing consumed) if the reservation would end past
 * INT64_MAX (see "Accepted range"); EINVAL if n == 0, n > burst or ready_at
 * is NULL. Progress: lock-free. */
LFP_API int lfp_bucket_reserve_at(lfp_bucket *b, uint32_t n, int64_t now, int64_t *ready_at);

/* lfp_bucket_reserve_at with a receipt: r->ready is the ready time. Same
 * codes; EINVAL also for a NULL r. Progress: lock-free. */
LFP_API int lfp_bucket_reserve_ex_at(lfp_bucket *b, uint32_t n, int64_t now,
                                     lfp_bucket_reservation *r);

/* Give back the tokens of reservation *r (from reserve_ex, take_ex or a
 * cancelled wait) that its holder will not use. Only what no later
 * reservation counts on is restored: if r is still the newest consumption
 * (TAT is still the value r produced), TAT moves back to where r found it;
 * otherwise a later take or reservation was stacked on r's tokens (its
 * ready time was computed with them consumed), or re-based TAT after them,
 * or a set_rate/set_burst happened since (it rescaled TAT),
 * and nothing is restored — moving TAT back then would let a newcomer act
 * at the same time as the later reservation (rate 1/s burst 1: A, B
 * reserved, A given back, C would get B's time). So a give-back never
 * admits more than the bound above; it may return less than it could (a
 * later reservation also given back does not make r's tokens reusable
 * unless the later one was given back first: give back newest first).
 * r is marked given back; a second give_back of it returns EINVAL.
 * Returns 0 if the tokens were restored; EAGAIN if nothing could be;
 * EINVAL if b or r is NULL or r was already given back.
 * Progress: lock-free (one CAS). */
LFP_API int lfp_bucket_give_back(lfp_bucket *b, lfp_bucket_reservation *r);

/* Take n tokens, waiting if needed: computes the exact time at which they
 * are available and, if that is not after `deadline`, reserves them and
 * sleeps once until then (parks with that deadline; no polling).
 * Returns 0 once the tokens are the caller's; ETIMEDOUT at once, consuming
 * nothing, if the ready time is after the deadline; ECANCELED if `cancel`
 * fires first (then the reservation is given back as lfp_bucket_give_back
 * does: restored only if no later reservation was stacked on it); EINVAL if
 * n == 0 or n > burst. Tokens available at once are taken even if the
 * deadline passed or cancel fired.
 * Progress: blocking (sleeps until the ready time). */
LFP_API int lfp_bucket_wait(lfp_bucket *b, uint32_t n, int64_t deadline, lfp_cancel *cancel);

/* lfp_bucket_wait with the caller's clock reading `now` as the starting time:
 * `now`, `deadline` and the ready time are on the caller's clock; the sleep
 * lasts ready - now of CLOCK_MONOTONIC (so a fake clock far from
 * CLOCK_MONOTONIC still sleeps only for that span). */
LFP_API int lfp_bucket_wait_at(lfp_bucket *b, uint32_t n, int64_t now, int64_t deadline,
                               lfp_cancel *cancel);

/* Tokens available at `now`: burst - D / T for the debt D = max(TAT, now) -
 * now, in double arithmetic (so within a few ulps of the exact value, not
 * exact once D passes 2^53 ns; negative while reservations queue beyond the
 * bucket; +infinity if the rate is unlimited). The exact whole number a take
 * at `now` would admit is lfp_bucket_take_result_at(b, 0, now, &r)'s
 * r.remaining. Progress: wait-free (loads only). */
LFP_API double lfp_bucket_tokens_at(const lfp_bucket *b, int64_t now);

/* lfp_bucket_take_at (n >= 1) or a peek (n == 0) that also fills *res (see
 * struct lfp_rl_result). An admitted take's result is computed from the TAT
 * its own CAS wrote (exact: later takes are not counted); a refusal's or a
 * peek's from one TAT read (during a configuration change, which lasts a few
 * instructions, it reads "retry at once"). Same codes as lfp_bucket_take_at,
 * 0 for a peek; EINVAL also for a NULL b or res. Progress: lock-free. */
LFP_API int lfp_bucket_take_result_at(lfp_bucket *b, uint32_t n, int64_t now,
                                      struct lfp_rl_result *res);
LFP_API int lfp_bucket_take_result(lfp_bucket *b, uint32_t n, struct lfp_rl_result *res);

/* The effective rate, exactly 1e9 / T tokens per second (+infinity if
 * unlimited), and the burst. */
LFP_API double lfp_bucket_rate(const lfp_bucket *b);
LFP_API uint32_t lfp_bucket_burst(const lfp_bucket *b);

/* Change the rate / burst at `now` (validated as in init, with the other
 * parameter's current value; EINVAL leaves the bucket unchanged; rate
 * LFP_RATE_INF and burst 0 are accepted, see "Unlimited rate and burst 0"). The
 * tokens held at `now` are kept (capped by a lower burst; a debt is kept in
 * tokens and its repayment time rescales): see "Configuration changes"
 * above. Progress: blocking against other changes (spin lock), lock-free
 * against takes. */
LFP_API int lfp_bucket_set_rate_at(lfp_bucket *b, double rate_per_s, int64_t now);
LFP_API int lfp_bucket_set_burst_at(lfp_bucket *b, uint32_t burst, int64_t now);
/* The same at lfp_now(). */
LFP_API int lfp_bucket_set_rate(lfp_bucket *b, double rate_per_s);
LFP_API int lfp_bucket_set_burst(lfp_bucket *b, uint32_t burst);

/* ------------------------------------------------------------ fixed window */

/* Window ids of the fixed and sliding windows (internal). A limiter whose
 * counts need c bits each keeps its window id in the other bits of its one
 * word. When those bits hold the id of every window of the int64 time line
 * (`exact_`: ids are k - floor(INT64_MIN / W), compared as integers), ids
 * never alias: any idle gap and any straggler is read exactly. Otherwise
 * (only for limits that are huge for their window, see each type) ids are
 * k modulo 2^bits, decoded against the limiter's `era` (see lfp_fwindow). */
typedef struct lfp_rl_ids_ {
    int64_t base;     /* floor(INT64_MIN / W) when exact, else 0 */
    uint64_t mask;    /* 2^bits - 1 */
    bool exact;
} lfp_rl_ids_;

/* lfp_fwindow — at most `limit` admissions per window [k*W, (k+1)*W)
 * (windows aligned to multiples of W since time 0).
 *
 * State: one atomic word, window id (high bits) and count (the low c bits,
 * c = the bits of limit + 1); a take is one CAS that either adds to the
 * count of the current window or starts a new one.
 *
 * Boundary burst (kept, documented, not hidden): `limit` admissions at the
 * end of one window and `limit` more at the start of the next are both
 * allowed, so a sliding interval of length W can hold up to 2 * limit
 * admissions. Use lfp_swindow (bounded by the weighted estimate) or lfp_slog
 * (exact) when that matters; examples/ratelimit_accuracy.c shows the burst.
 *
 * Idle gaps and ids: when window_ns >= 2^c (the smallest power of two above
 * limit + 1; always when window_ns >= 2 * (limit + 1)) the word holds the
 * exact id of every window of the int64 time line: after an idle gap of any
 * length the limiter starts a fresh window at once, and a take with an older
 * timestamp (time going backwards by any amount) is charged to the stored
 * window. (The old 32-bit ids aliased: a 1 ms window idle 40 days refused
 * everything for 9.75 days.) Larger limits (more than one admission per
 * 2 ns on average) keep the id modulo 2^b (b = 64 - c >= 32 bits) and read
 * it exactly with `era`, as follows; so after any idle gap the limiter
 * starts a fresh window at once and time going backwards by any amount is
 * charged to the stored window, for every accepted setting.
 *
 * Modular ids and era: era (on the state's cache line, written once per
 * window) is the newest window any take has rolled to. A take that rolls
 * the state to its window k first raises era to max(era, k), then CASes the
 * state (release). Rolls only go forward, so era >= the stored window T,
 * and era > T only while a roller is between its raise and its CAS (or
 * failed it). A take reads the state (acquire, so it sees that roller's
 * raise) and then era, and decodes the stored id m as F = era - ((era - m)
 * mod 2^b), the window = m at or below era: F = T unless era - T >= 2^b
 * (a roller still racing after an idle gap of 2^b windows or more), and
 * F >= T always. Its window k is then compared with F as in the exact
 * case: k > F rolls (to k > T: forward), otherwise it is charged to the
 * stored window's count, which may refuse (F > T) but never admits more.
 * Left open: a roll whose CAS succeeds on an ABA of the word (another take
 * rolled it 2^b or more windows ahead with the same count in between) can
 * go back; that needs two concurrent takes with timestamps 2^b windows
 * apart (2^32 windows at least).
 *
 * Progress: lock-free; a refusal makes no write.
 */
#define LFP_FWINDOW_MAX_LIMIT (UINT32_MAX - 1)

typedef struct lfp_fwindow {
    alignas(LFP_CACHELINE) _Atomic(uint64_t) state; /* id << cbits | count */
    uint32_t limit;
    unsigned cbits;     /* count bits */
    int64_t window;
    lfp_rl_ids_ ids;
    _Atomic(lfp_rl_counts_ *) stats_;   /* NULL until lfp_fwindow_stats_enable */
    _Atomic(int64_t) era;   /* modular ids: newest window rolled to (on the state's line) */
} lfp_fwindow;

/* Returns 0; EINVAL if w is NULL, limit is 0 or > LFP_FWINDOW_MAX_LIMIT, or
 * window_ns <= 0. */
LFP_API int lfp_fwindow_init(lfp_fwindow *w, uint64_t limit, int64_t window_ns);
/* Release its stats, if enabled (quiescent; NULL is ignored). */
LFP_API void lfp_fwindow_destroy(lfp_fwindow *w);
/* As lfp_bucket_stats_enable / lfp_bucket_stats. */
LFP_API int lfp_fwindow_stats_enable(lfp_fwindow *w);
LFP_API int lfp_fwindow_stats(const lfp_fwindow *w, struct lfp_rl_stats *out);

/* Take n admissions in the window holding `now` (or in the stored window if
 * `now` is older). Returns 0; EAGAIN; EINVAL if w is NULL, n == 0 or n > limit.
 * Progress: lock-free; a refusal makes no write. */
static inline int lfp_fwindow_take_at(lfp_fwindow *w, uint32_t n, int64_t now);

LFP_API int lfp_fwindow_take(lfp_fwindow *w, uint32_t n);

/* lfp_fwindow_take_at (n >= 1) or a peek (n == 0) that also fills *res (see
 * struct lfp_rl_result) from the limiter's word read just after the take (a
 * take racing with it may be counted; exact single-threaded). Same codes as
 * the take, 0 for a peek; EINVAL also for a NULL w or res.
 * Progress: lock-free. */
LFP_API int lfp_fwindow_take_result_at(lfp_fwindow *w, uint32_t n, int64_t now,
                                       struct lfp_rl_result *res);
LFP_API int lfp_fwindow_take_result(lfp_fwindow *w, uint32_t n, struct lfp_rl_result *res);

/* Take n, waiting if needed, until `deadline` (LFP_FOREVER: none) or until
 * `cancel` (NULL: none) fires. Computes from the limiter's state the
 * earliest time at which the take could be admitted (the start of the window after the full one),
 * sleeps once until then (parks with that deadline; no polling) and tries
 * again, recomputing, since other callers may have taken the capacity
 * meanwhile. Nothing is held while sleeping, so nothing is given back.
 * Returns 0 once admitted; ETIMEDOUT, taking nothing, as soon as the
 * earliest time is after the deadline (or past the time line's end);
 * ECANCELED, taking nothing, if `cancel` fires first; EINVAL if w is
 * NULL, n == 0 or n > limit. Admitted at once if it can be, even if the
 * deadline passed or cancel fired. The _at form starts from the caller's
 * clock reading `now` (a fake clock): `now` and `deadline` are on that
 * clock, which is taken to advance with CLOCK_MONOTONIC while sleeping.
 * Progress: blocking (sleeps until the computed time). */
LFP_API int lfp_fwindow_wait(lfp_fwindow *w, uint32_t n, int64_t deadline, lfp_cancel *cancel);
LFP_API int lfp_fwindow_wait_at(lfp_fwindow *w, uint32_t n, int64_t now, int64_t deadline,
                            lfp_cancel *cancel);


/* ------------------------------------------------------------ sliding window counter */

/* lfp_swindow — sliding-window counter as Cloudflare describes it: counts of
 * the current aligned window k and the previous window k-1, and the estimate
 *     est(now) = prev * (W - e) / W + cur,   e = now - k*W,
 * which assumes the previous window's admissions were spread evenly. A take
 * of n is admitted iff est + n <= limit.
 *
 * State: one atomic word: window id (64 - 2c bits), prev and cur counts (c
 * bits each, c = the bits of limit + 1; limit <= LFP_SWINDOW_MAX_LIMIT =
 * 2^20 - 2, so at least 24 id bits; the all-ones word marks "no take yet").
 *
 * Error bound (checked by the property test): in any interval (t - W, t]
 * the admissions number at most
 *     limit + prev_k * e / W   (< 2 * limit),
 * where k is the aligned window holding t, e = t - k*W and prev_k the count
 * of window k-1. The excess appears only when the previous window's
 * admissions bunch at its end (the estimate assumed them spread out); for
 * steady traffic the estimate is close to exact (Cloudflare measured 0.003%
 * of requests wrongly allowed). Compare: lfp_fwindow's excess is up to limit
 * at any offset, lfp_slog's is 0.
 *
 * Idle gaps and ids: when window_ns >= 2^(2c) (always when window_ns >=
 * 4 * (limit + 1)^2: e.g. limit <= 16382 for a 1 s window, any limit from an
 * 18.3-minute window on) the word holds the exact id of every window of the
 * int64 time line: after an idle gap of any length an empty window is seen at
 * once (and the previous window's count only for a gap of one window), and
 * time going backwards by any amount is charged to the stored window (the
 * old 24-bit ids aliased: a 1 s window idle 150 days refused for 44 days).
 * Larger limits keep 64 - 2c >= 24 id bits modulo 2^(64-2c) and read them
 * exactly with `era`, as lfp_fwindow does (there: "Modular ids and era"),
 * so the above holds for every accepted setting (e.g. limit 100000 per 1 s).
 *
 * Progress: lock-free; a refusal makes no write.
 */
#define LFP_SWINDOW_MAX_LIMIT ((1u << 20) - 2)

typedef struct lfp_swindow {
    alignas(LFP_CACHELINE) _Atomic(uint64_t) state; /* id | prev | cur */
    uint32_t limit;
    unsigned cbits;     /* bits of each count */
    int64_t window;
    lfp_rl_ids_ ids;
    _Atomic(lfp_rl_counts_ *) stats_;   /* NULL until lfp_swindow_stats_enable */
    _Atomic(int64_t) era;   /* modular ids: newest window rolled to (on the state's line) */
} lfp_swindow;

/* Returns 0; EINVAL if w is NULL, limit is 0 or > LFP_SWINDOW_MAX_LIMIT, or
 * window_ns <= 0. */
LFP_API int lfp_swindow_init(lfp_swindow *w, uint64_t limit, int64_t window_ns);
/* Release its stats, if enabled (quiescent; NULL is ignored). */
LFP_API void lfp_swindow_destroy(lfp_swindow *w);
/* As lfp_bucket_stats_enable / lfp_bucket_stats. */
LFP_API int lfp_swindow_stats_enable(lfp_swindow *w);
LFP_API int lfp_swindow_stats(const lfp_swindow *w, struct lfp_rl_stats *out);

/* Take n at `now`. Returns 0; EAGAIN; EINVAL if n == 0 or n > limit.
 * Progress: lock-free; a refusal makes no write. */
static inline int lfp_swindow_take_at(lfp_swindow *w, uint32_t n, int64_t now);

LFP_API int lfp_swindow_take(lfp_swindow *w, uint32_t n);

/* lfp_swindow_take_at (n >= 1) or a peek (n == 0) that also fills *res (see
 * struct lfp_rl_result) from the limiter's word read just after the take (a
 * take racing with it may be counted; exact single-threaded). Same codes as
 * the take, 0 for a peek; EINVAL also for a NULL w or res.
 * Progress: lock-free. */
LFP_API int lfp_swindow_take_result_at(lfp_swindow *w, uint32_t n, int64_t now,
                                       struct lfp_rl_result *res);
LFP_API int lfp_swindow_take_result(lfp_swindow *w, uint32_t n, struct lfp_rl_result *res);

/* Take n, waiting if needed, until `deadline` (LFP_FOREVER: none) or until
 * `cancel` (NULL: none) fires. Computes from the limiter's state the
 * earliest time at which the take could be admitted (the first time at which est + n <= limit, in this window as
 * the previous one's weight falls, or in the next two),
 * sleeps once until then (parks with that deadline; no polling) and tries
 * again, recomputing, since other callers may have taken the capacity
 * meanwhile. Nothing is held while sleeping, so nothing is given back.
 * Returns 0 once admitted; ETIMEDOUT, taking nothing, as soon as the
 * earliest time is after the deadline (or past the time line's end);
 * ECANCELED, taking nothing, if `cancel` fires first; EINVAL if w is
 * NULL, n == 0 or n > limit. Admitted at once if it can be, even if the
 * deadline passed or cancel fired. The _at form starts from the caller's
 * clock reading `now` (a fake clock): `now` and `deadline` are on that
 * clock, which is taken to advance with CLOCK_MONOTONIC while sleeping.
 * Progress: blocking (sleeps until the computed time). */
LFP_API int lfp_swindow_wait(lfp_swindow *w, uint32_t n, int64_t deadline, lfp_cancel *cancel);
LFP_API int lfp_swindow_wait_at(lfp_swindow *w, uint32_t n, int64_t now, int64_t deadline,
                            lfp_cancel *cancel);

/* The estimate at `now` (prev weighted + cur), as a take would compute it. */
LFP_API double lfp_swindow_estimate_at(const lfp_swindow *w, int64_t now);

/* ------------------------------------------------------------ exact sliding log */

/* lfp_slog — exact sliding log: a ring of the last `limit` admission times.
 * Admitting n at `now` replaces the n oldest entries of the ring, which is
 * allowed iff each of them is at or before now - W (or never written). So no
 * interval (t - W, t] ever holds more than `limit` admissions — exactly, with
 * no estimate — also when timestamps arrive out of order.
 *
 * Why exact, for any arrival order and any interleaving: every change of a
 * slot is a CAS from a time <= now - W to `now`. So the admission times a
 * slot holds, one after another, grow by at least W each: no interval of
 * length W contains two of them, and with `limit` slots no interval holds
 * more than `limit` admissions.
 *
 * Lock-free protocol: `head` only says where the oldest entries are (a hint;
 * it counts slot claims). A take reads head h and the slots [h, h + n)
 * (mod limit); if all are expired it reserves them with a CAS of head from h
 * to h + n, then CASes each slot from the value it read to `now`. A slot CAS
 * fails only if a thread that reserved the same slot a lap later wrote it
 * first (this one was preempted for a whole lap); then the slots taken so
 * far are released (set to now - W, which keeps the argument above) and the
 * take starts over. No thread ever waits for another: a preempted taker
 * holds no slot that others need (its slots are claimed by value), so the
 * design is lock-free, and single-threaded it decides exactly like
 * lfp_locked_slog. Refusals are exact for in-order timestamps (the slot at
 * head is the oldest), also under contention: a refusal is final only if
 * head did not move while its slots were read (head only grows, so they
 * were the next to be claimed throughout); otherwise the take looks again at
 * the new head. Out-of-order timestamps may be refused while an older slot
 * elsewhere is expired (never over-admitted).
 *
 * Memory: `limit` 8-byte slots, allocated at init; destroy frees them.
 * Progress: lock-free.
 */
#define LFP_SLOG_MAX_LIMIT (1u << 26)

typedef struct lfp_slog {
    alignas(LFP_CACHELINE) _Atomic(uint64_t) head;  /* slot claims so far */
    _Atomic(int64_t) *ring;                         /* admission times */
    uint32_t limit;
    int64_t window;
    _Atomic(lfp_rl_counts_ *) stats_;               /* NULL until lfp_slog_stats_enable */
} lfp_slog;

/* Returns 0; EINVAL if w is NULL, limit is 0 or > LFP_SLOG_MAX_LIMIT, or
 * window_ns <= 0; ENOMEM. */
LFP_API int lfp_slog_init(lfp_slog *w, uint32_t limit, int64_t window_ns);
/* Free the ring (and the stats, if enabled). The log must be quiescent.
 * NULL is ignored. */
LFP_API void lfp_slog_destroy(lfp_slog *w);
/* As lfp_bucket_stats_enable / lfp_bucket_stats. */
LFP_API int lfp_slog_stats_enable(lfp_slog *w);
LFP_API int lfp_slog_stats(const lfp_slog *w, struct lfp_rl_stats *out);

/* Take n at `now`. Returns 0; EAGAIN; EINVAL if n == 0 or n > limit.
 * Progress: lock-free. */
LFP_API int lfp_slog_take_at(lfp_slog *w, uint32_t n, int64_t now);
LFP_API int lfp_slog_take(lfp_slog *w, uint32_t n);

/* Take n, waiting if needed, until `deadline` (LFP_FOREVER: none) or until
 * `cancel` (NULL: none) fires. Computes from the limiter's state the
 * earliest time at which the take could be admitted (W after the newest of the n oldest
 * admissions),
 * sleeps once until then (parks with that deadline; no polling) and tries
 * again, recomputing, since other callers may have taken the capacity
 * meanwhile. Nothing is held while sleeping, so nothing is given back.
 * Returns 0 once admitted; ETIMEDOUT, taking nothing, as soon as the
 * earliest time is after the deadline (or past the time line's end);
 * ECANCELED, taking nothing, if `cancel` fires first; EINVAL if w is
 * NULL, n == 0 or n > limit. Admitted at once if it can be, even if the
 * deadline passed or cancel fired. The _at form starts from the caller's
 * clock reading `now` (a fake clock): `now` and `deadline` are on that
 * clock, which is taken to advance with CLOCK_MONOTONIC while sleeping.
 * Progress: blocking (sleeps until the computed time). */
LFP_API int lfp_slog_wait(lfp_slog *w, uint32_t n, int64_t deadline, lfp_cancel *cancel);
LFP_API int lfp_slog_wait_at(lfp_slog *w, uint32_t n, int64_t now, int64_t deadline,
                            lfp_cancel *cancel);

/* Admissions recorded in (now - W, now] among the last `limit` (a snapshot:
 * concurrent takes may or may not be counted). Progress: wait-free. */
LFP_API uint32_t lfp_slog_count_at(const lfp_slog *w, int64_t now);

/* ------------------------------------------------------------ rolling sum */

/* lfp_rolling — a rolling sum over the last N buckets of bucket_ns each,
 * aligned to multiples of bucket_ns since time 0: sum_at(now) covers the
 * bucket holding `now` and the N - 1 before it (those of them that exist:
 * near INT64_MIN fewer, each counted once).
 *
 * State: N atomic words, one per bucket, each packing the bucket's lap
 * (k / N modulo 2^24, k = now / bucket_ns) and its 40-bit signed value. An
 * add is one CAS on its bucket's word (resetting the value when the lap is
 * stale); so no add is lost and none is counted in the wrong bucket.
 *
 * Sum consistency: sum_at reads each bucket once (relaxed): every add that
 * completed before sum_at started is counted if its bucket is in range;
 * adds concurrent with sum_at may or may not be; the result is not an atomic
 * snapshot across buckets (like lfp_striped_sum). Each bucket's value is
 * exact.
 *
 * Lap arithmetic (24 bits, modulo 2^24): an add whose bucket is at most
 * LFP_ROLLING_LATE_LAPS laps older than the lap its slot holds is a late add
 * (a caller with an old timestamp) and is dropped; any other lap difference
 * means the slot is stale and the add starts it afresh. So a bucket left
 * idle for g laps is reused correctly unless g mod 2^24 falls in the last
 * LFP_ROLLING_LATE_LAPS laps before a multiple of 2^24 (then the add is
 * dropped), or is exactly a multiple (then the stale value may be read as
 * current) — for a 1 s window, idle gaps within about 17 minutes before a
 * multiple of 194 days.
 *
 * Progress: add is lock-free; sum is wait-free (N loads).
 */
#define LFP_ROLLING_MAX_BUCKETS 4096u
#define LFP_ROLLING_VALUE_MAX ((INT64_C(1) << 39) - 1)
#define LFP_ROLLING_LATE_LAPS 1024u   /* see "Lap arithmetic" above */

typedef struct lfp_rolling {
    _Atomic(uint64_t) *slots;
    unsigned buckets;
    int64_t bucket_ns;
} lfp_rolling;

/* Returns 0; EINVAL if r is NULL, buckets is 0 or > LFP_ROLLING_MAX_BUCKETS,
 * or bucket_ns <= 0; ENOMEM. */
LFP_API int lfp_rolling_init(lfp_rolling *r, unsigned buckets, int64_t bucket_ns);
LFP_API void lfp_rolling_destroy(lfp_rolling *r);

/* Add v to the bucket holding `now`. Returns 0; EOVERFLOW (nothing added) if
 * the bucket's value would leave [-LFP_ROLLING_VALUE_MAX,
 * LFP_ROLLING_VALUE_MAX]; EINVAL for a NULL r. An add for a bucket older
 * than the slot's current lap is dropped (returns 0: it is outside every
 * future sum). Progress: lock-free. */
LFP_API int lfp_rolling_add_at(lfp_rolling *r, int64_t v, int64_t now);
LFP_API int lfp_rolling_add(lfp_rolling *r, int64_t v);

/* Sum of the bucket holding `now` and the buckets - 1 before it.
 * Progress: wait-free. */
LFP_API int64_t lfp_rolling_sum_at(lfp_rolling *r, int64_t now);
LFP_API int64_t lfp_rolling_sum(lfp_rolling *r);

/* ------------------------------------------------------------ all-or-nothing */

typedef enum lfp_limiter_kind {
    LFP_LIMITER_BUCKET,
    LFP_LIMITER_FWINDOW,
    LFP_LIMITER_SWINDOW,
    LFP_LIMITER_SLOG,
} lfp_limiter_kind;

/* A reference to one limiter: its kind and a pointer to it. */
typedef struct lfp_limiter {
    lfp_limiter_kind kind;
    void *obj;
} lfp_limiter;

/* Take n from every limiter in ls[0 .. count), all or nothing: takes them in
 * order, except that the sliding logs come after all the others (see
 * below); if one refuses, gives back what the earlier ones took and returns
 * its code. So no limiter ever admits past its own limit (each take is that
 * limiter's own all-or-nothing take), and a refused call returns the
 * capacity it took, exactly or not at all: a bucket take is undone as
 * lfp_bucket_give_back does (TAT back to where this take found it if no
 * other take moved TAT since, else nothing: an undo never creates tokens
 * for a TAT another take re-based); fixed and sliding window
 * counts decremented while the charged window still counts; sliding-log
 * At most one sliding log per call: a log's claim cannot always be undone
 * exactly (when a concurrent take moved the log's head meanwhile, released
 * slots would sit behind head, refusing in-order takes while the log holds
 * fewer than `limit` admissions, until the ring came round to them), so
 * the log is claimed last, only once every other limiter admitted, and is
 * never undone. Hence a refused call leaves every limiter exactly as able
 * to admit as before. Concurrent callers may see the transient
 * consumption of the others and be refused (never over-admitted).
 * Returns 0; EAGAIN; EINVAL (NULL, count 0, unknown kind, more than one
 * lfp_slog, n == 0 or above some limiter's burst/limit — nothing is taken
 * then).
 * Progress: lock-free (a bounded number of lock-free takes and give-backs). */
LFP_API int lfp_limit_all_at(const lfp_limiter *ls, size_t count, uint32_t n, int64_t now);
LFP_API int lfp_limit_all(const lfp_limiter *ls, size_t count, uint32_t n);

/* lfp_limit_all, waiting if needed: sleeps until the latest of the
 * limiters' earliest admission times (a bucket's is when its TAT allows n,
 * the others' as for their own waits), then tries the all-or-nothing take
 * again, recomputing. Nothing is held while sleeping: an attempt that fails
 * gives back as lfp_limit_all does, so a timeout or cancel leaves every
 * limiter as it found it. Returns 0; ETIMEDOUT (the earliest time is after
 * `deadline`); ECANCELED; EINVAL as lfp_limit_all. Admitted at once if it
 * can be, even if the deadline passed or cancel fired. The _at form: as
 * lfp_fwindow_wait_at. Progress: blocking. */
LFP_API int lfp_limit_all_wait(const lfp_limiter *ls, size_t count, uint32_t n,
                               int64_t deadline, lfp_cancel *cancel);
LFP_API int lfp_limit_all_wait_at(const lfp_limiter *ls, size_t count, uint32_t n, int64_t now,
                                  int64_t deadline, lfp_cancel *cancel);

#ifdef __cplusplus
}
#endif

/* The inline definitions (internal, not part of the API). */
#include "lfpat/internal/ratelimit.h"
#endif
