/* SPDX-License-Identifier: BSD-2-Clause */
/* Waiting for a rate limiter: the bucket's reserve-and-sleep, and the
 * compute-sleep-retry wait of the windows, the log and lfp_limit_all.
 *
 * Time lines: `now` and `deadline` are on the caller's clock (lfp_now() for
 * the plain waits, a fake clock for the _at forms); a sleep lasts the
 * caller-clock span it is for, measured on CLOCK_MONOTONIC, and after it
 * the caller's clock is taken as `now` plus the CLOCK_MONOTONIC time elapsed
 * since the call began. For the plain waits both are the same clock. */
#include "ratelimit_internal.h"

#include "lfpat/eventcount.h"

/* The caller's clock: `now` at CLOCK_MONOTONIC `mono`. */
typedef struct caller_clock {
    int64_t now, mono;
} caller_clock;

static caller_clock clock_start(int64_t now)
{
    return (caller_clock){ now, lfp_now() };
}

static int64_t clock_read(const caller_clock *c)
{
    return lfp_time_add(c->now, lfp_rl_until_(c->mono, lfp_now()));
}

/* Sleep until the caller's clock reads `until` (>= c->now) on a private
 * eventcount (nobody notifies it; only the deadline or the cancel token end
 * the wait). Returns 0 or ECANCELED (0 if the time was reached anyway:
 * success preferred). */
static int sleep_until(const caller_clock *c, int64_t until, lfp_cancel *cancel)
{
    int64_t mono_until = lfp_time_add(c->mono, lfp_rl_until_(c->now, until));
    lfp_ec ec;
    lfp_ec_init(&ec);
    for (;;) {
        if (lfp_now() >= mono_until)
            return 0;
        uint32_t key = lfp_ec_prepare(&ec);
        int rc = lfp_ec_wait(&ec, key, mono_until, cancel);
        if (rc == ECANCELED)
            return clock_read(c) >= until ? 0 : ECANCELED;
    }
}

/* ------------------------------------------------------------ bucket: reserve, sleep once */

int lfp_rl_wait_(const lfp_rl_waiter_ *w, void *b, uint32_t n, int64_t now, int64_t deadline,
                 lfp_cancel *cancel, bool *slept)
{
    *slept = false;
    caller_clock c = clock_start(now);
    lfp_bucket_reservation r;
    int rc = w->reserve(b, n, now, now, &r);
    if (rc != EAGAIN)
        return rc;                 /* taken at once, or EINVAL (NULL b too) */
    if (lfp_cancel_fired(cancel))
        return ECANCELED;
    rc = w->reserve(b, n, now, deadline, &r);
    if (rc == EAGAIN)
        return ETIMEDOUT;          /* ready after the deadline: nothing consumed */
    if (rc != 0 || r.ready <= now)
        return rc;
    *slept = true;
    rc = sleep_until(&c, r.ready, cancel);
    if (rc == ECANCELED)
        w->give_back(b, &r);       /* restored unless later reservations count on it */
    return rc;
}

/* ------------------------------------------------------------ others: compute, sleep, retry */

int lfp_rl_wait_retry_(const lfp_rl_retry_ *f, void *obj, uint32_t n, int64_t now,
                       int64_t deadline, lfp_cancel *cancel, bool *slept)
{
    *slept = false;
    caller_clock c = clock_start(now);
    for (;;) {
        int rc = f->take(obj, n, now);
        if (rc != EAGAIN)
            return rc;             /* admitted, or EINVAL */
        if (lfp_cancel_fired(cancel))
            return ECANCELED;
        int64_t at = f->ready(obj, n, now);
        if (at == INT64_MAX || at > deadline)
            return ETIMEDOUT;      /* nothing was taken */
        if (at > now) {
            *slept = true;
            if (sleep_until(&c, at, cancel) == ECANCELED)
                return ECANCELED;  /* nothing was taken */
        }
        int64_t later = clock_read(&c);
        now = later > at ? later : at;
    }
}

/* The waits' attempts are not counted as takes (a wait counts once). */
static int fw_take(void *w, uint32_t n, int64_t now)
{
    uint64_t charged;
    return lfp_fwindow_take_charged_(w, n, now, &charged);
}

static int64_t fw_ready(void *w, uint32_t n, int64_t now)
{
    return lfp_fwindow_ready_at_(w, n, now);
}

static int sw_take(void *w, uint32_t n, int64_t now)
{
    uint64_t charged;
    return lfp_swindow_take_charged_(w, n, now, &charged);
}

static int64_t sw_ready(void *w, uint32_t n, int64_t now)
{
    return lfp_swindow_ready_at_(w, n, now);
}

static int sl_take(void *w, uint32_t n, int64_t now)
{
    uint64_t first;
    return lfp_slog_take_claim_(w, n, now, &first);
}

static int64_t sl_ready(void *w, uint32_t n, int64_t now)
{
    return lfp_slog_ready_at_(w, n, now);
}

static const lfp_rl_retry_ fw_retry = { fw_take, fw_ready };
static const lfp_rl_retry_ sw_retry = { sw_take, sw_ready };
static const lfp_rl_retry_ sl_retry = { sl_take, sl_ready };

int lfp_fwindow_wait_at(lfp_fwindow *w, uint32_t n, int64_t now, int64_t deadline,
                        lfp_cancel *cancel)
{
    if (!w)
        return EINVAL;
    bool slept;
    int rc = lfp_rl_wait_retry_(&fw_retry, w, n, now, deadline, cancel, &slept);
    lfp_rl_note_wait_(&w->stats_, rc, slept);
    return rc;
}

int lfp_fwindow_wait(lfp_fwindow *w, uint32_t n, int64_t deadline, lfp_cancel *cancel)
{
    return lfp_fwindow_wait_at(w, n, lfp_now(), deadline, cancel);
}

int lfp_swindow_wait_at(lfp_swindow *w, uint32_t n, int64_t now, int64_t deadline,
                        lfp_cancel *cancel)
{
    if (!w)
        return EINVAL;
    bool slept;
    int rc = lfp_rl_wait_retry_(&sw_retry, w, n, now, deadline, cancel, &slept);
    lfp_rl_note_wait_(&w->stats_, rc, slept);
    return rc;
}

int lfp_swindow_wait(lfp_swindow *w, uint32_t n, int64_t deadline, lfp_cancel *cancel)
{
    return lfp_swindow_wait_at(w, n, lfp_now(), deadline, cancel);
}

int lfp_slog_wait_at(lfp_slog *w, uint32_t n, int64_t now, int64_t deadline, lfp_cancel *cancel)
{
    if (!w)
        return EINVAL;
    bool slept;
    int rc = lfp_rl_wait_retry_(&sl_retry, w, n, now, deadline, cancel, &slept);
    lfp_rl_note_wait_(&w->stats_, rc, slept);
    return rc;
}

int lfp_slog_wait(lfp_slog *w, uint32_t n, int64_t deadline, lfp_cancel *cancel)
{
    return lfp_slog_wait_at(w, n, lfp_now(), deadline, cancel);
}

/* lfp_limit_all as a retry target: the set and its size. */
typedef struct limiter_set {
    const lfp_limiter *ls;
    size_t count;
} limiter_set;

static int all_take(void *set, uint32_t n, int64_t now)
{
    limiter_set *s = set;
    return lfp_limit_all_take_(s->ls, s->count, n, now, false);
}

/* The latest of the limiters' ready times: none admits before it. */
static int64_t all_ready(void *set, uint32_t n, int64_t now)
{
    limiter_set *s = set;
    int64_t at = now;
    for (size_t i = 0; i < s->count; i++) {
        int64_t t = lfp_limiter_ready_at_(&s->ls[i], n, now);
        at = t > at ? t : at;
    }
    return at;
}

static const lfp_rl_retry_ all_retry = { all_take, all_ready };

int lfp_limit_all_wait_at(const lfp_limiter *ls, size_t count, uint32_t n, int64_t now,
                          int64_t deadline, lfp_cancel *cancel)
{
    limiter_set s = { ls, count };
    bool slept;
    return lfp_rl_wait_retry_(&all_retry, &s, n, now, deadline, cancel, &slept);
}

int lfp_limit_all_wait(const lfp_limiter *ls, size_t count, uint32_t n, int64_t deadline,
                       lfp_cancel *cancel)
{
    return lfp_limit_all_wait_at(ls, count, n, lfp_now(), deadline, cancel);
}
