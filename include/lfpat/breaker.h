/* SPDX-License-Identifier: BSD-2-Clause */
/* lfpat/breaker.h — circuit breaker: stop calling a failing dependency, probe
 * it after a pause, resume when it recovers.
 *
 * States: CLOSED (calls pass; failures are counted in a rolling window and
 * `failure_threshold` failures within `window_ns` open the breaker), OPEN
 * (calls are rejected until `open_ns` has passed), HALF_OPEN (at most
 * `max_probes` calls are in flight at once; `close_after` successful probes
 * close the breaker, any failed probe opens it again).
 *
 * Usage:
 *     lfp_breaker_ticket t;
 *     if (lfp_breaker_allow(&b, &t) != 0) return fail_fast();
 *     int err = call();
 *     lfp_breaker_record(&b, t, err == 0);
 *
 * State word: one 64-bit atomic holds the state (2 bits), a generation (30
 * bits, incremented by every state change) and a payload: in OPEN the time
 * the pause ends (in units of LFP_BREAKER_TICK_NS, modulo 2^32), in
 * HALF_OPEN the probes in flight (16 bits) and the successful probes (16
 * bits). Every transition is one CAS on this word from the exact word it
 * read, so transitions are totally ordered and each happens once.
 *
 * The pause end beyond 32 bits: 2^32 ticks are only ~52 days, so the low
 * half alone cannot tell "the pause ends soon" from "it ended weeks ago"
 * (the first version compared it as a signed 32-bit difference and refused
 * calls after ~26 idle days, for ~26 more). The thread whose CAS opened the
 * breaker stores the high bits of the end tick in `open_end`, tagged with
 * the OPEN generation, right after its CAS; allow() in OPEN compares the
 * full 64-bit tick when the tag matches the state word's generation, so the
 * pause ends correctly after any idle gap. Only while the opening thread is
 * between its CAS and that store (a few instructions; the tag is still an
 * older generation's) does allow() fall back to the 32-bit difference, which
 * is exact unless that thread stalls there for 2^31 ticks (~26 days). A tag
 * can only be mistaken for the current one after 2^30 generations.
 *
 * Fixes of the seed's breaker: half-open bounds probes *in flight* (a probe
 * slot is returned when its result is recorded), not completed calls; a
 * result carries the generation of the allow() that admitted it (the ticket)
 * and is ignored (ESTALE) once the breaker has changed state since — a slow
 * call admitted while CLOSED cannot reopen a breaker that has already opened
 * and recovered, and a slow probe cannot close a later half-open period; the
 * fast path takes no lock; state-change callbacks are delivered in state
 * order (see on_change).
 *
 * Failure window: window_buckets counters (one 64-bit word each: a 40-bit
 * lap and a 24-bit saturating count, like lfp_rolling but with laps wide
 * enough for idle gaps); when a failure is recorded, the failures in its
 * bucket and the window_buckets - 1 before it are summed. The window runs
 * on a virtual clock counted in buckets,
 *     v = now / bucket_ns + gen * window_buckets,
 * reduced modulo 2^40 laps of window_buckets. Each generation thus starts
 * one lap, a whole window, further along the virtual time line, and two
 * CLOSED generations are at least three apart: a breaker that closes again
 * starts with an empty window, with no reset step to race with. A failure
 * recorded by a thread that read the state word just before it changed is
 * added at its own generation's virtual time, three laps or more before the
 * current generation's (for clocks that never read two windows back across
 * threads): it is dropped if its slot already holds a later lap (up to 1024
 * laps later), and otherwise it sits in a lap that no later sum counts (and
 * that the next current add restarts). So stale results never count.
 * Idle gaps: a slot whose lap differs from the current one by anything but
 * 0 or 1..1024 (late) is stale and restarts, so a window left idle for g
 * windows is exact unless g is within 1024 windows below or at a multiple
 * of 2^40 windows (349 years for a 10 ms window, 34,800 years for 1 s).
 * (The first version used an lfp_rolling, whose laps are 24 bits: a 10 ms
 * window idle for 1.94 days, a 1 s window for 194 days, counted old
 * failures again and opened early, or dropped new ones for up to 1024
 * windows before such a gap's end.) A result recorded by a thread that
 * slept through more than 1024 generations restarts its slot instead of
 * being dropped (it can only make the breaker under-count, never trip).
 *
 * Progress: allow() is lock-free and makes no read-modify-write in CLOSED (one
 * acquire load); in HALF_OPEN it is a CAS loop on the state word; the one
 * allow() that moves OPEN to HALF_OPEN, and the record() that makes a
 * transition, also deliver the callback if one is configured (blocking, see
 * on_change). record() is lock-free otherwise (a CAS on its window slot,
 * window_buckets loads, and a CAS on the state word). Ordering: none beyond the state word's own
 * (acquire loads, acq_rel CAS); the breaker guards no data.
 *
 * Copying: an lfp_breaker must not be copied or moved after init: it holds a
 * pthread mutex, which POSIX forbids copying, and waiters and tickets refer to
 * its address. Use it where it was initialised, through pointers.
 *
 * Fork: a child of fork may call every lfp_breaker_* call on an object that no
 * thread of the parent was using when fork() was called (lfpat's process-wide
 * locks are held across fork by atfork handlers, src/fork.c, so none is copied
 * held). An object a parent thread was inside at the fork (in a call, or
 * blocked in one) is copied in that intermediate state, with a thread the
 * child does not have: the child must not use it.
 */
#ifndef LFPAT_BREAKER_H
#define LFPAT_BREAKER_H

#include <pthread.h>

#include "lfpat/ratelimit.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum lfp_breaker_state {
    LFP_BREAKER_CLOSED = 0,
    LFP_BREAKER_OPEN = 1,
    LFP_BREAKER_HALF_OPEN = 2,
} lfp_breaker_state;

/* Granularity of the open period: 2^20 ns (~1.05 ms). */
#define LFP_BREAKER_TICK_NS ((int64_t)1 << 20)
#define LFP_BREAKER_MAX_BUCKETS 64u
#define LFP_BREAKER_MAX_PROBES 0xffffu
#define LFP_BREAKER_MAX_THRESHOLD 0xffffffu

struct lfp_breaker_config {
    uint32_t failure_threshold;  /* failures within window_ns that open it: 1 .. MAX_THRESHOLD */
    int64_t window_ns;           /* > 0 */
    unsigned window_buckets;     /* 1 .. LFP_BREAKER_MAX_BUCKETS; window_ns must be a multiple */
    int64_t open_ns;             /* >= 0: pause before probing; under 2^50 ns */
    uint32_t max_probes;         /* probes in flight in HALF_OPEN: 1 .. MAX_PROBES */
    uint32_t close_after;        /* successful probes that close it: 1 .. MAX_PROBES */
    /* Optional: called once per state change, in generation order: the call
     * for generation g+1 starts after the call for g returned. It runs in
     * the thread whose allow()/record() made the change, under the
     * breaker's callback mutex (that thread may first wait for the previous
     * change's callback). It must not call lfp_breaker_allow or
     * lfp_breaker_record on the same breaker (lfp_breaker_state is fine). */
    void (*on_change)(void *arg, lfp_breaker_state from, lfp_breaker_state to, uint32_t gen);
    void *arg;
};

/* What allow() admitted: pass it to record(). */
typedef struct lfp_breaker_ticket {
    uint32_t gen;    /* the generation it was admitted in */
    bool probe;      /* admitted as a HALF_OPEN probe */
} lfp_breaker_ticket;

typedef struct lfp_breaker {
    alignas(LFP_CACHELINE) _Atomic(uint64_t) state;  /* see the header comment */
    _Atomic(uint64_t) open_end;    /* OPEN generation << 32 | end tick >> 32 */
    alignas(LFP_CACHELINE) _Atomic(uint64_t) window[LFP_BREAKER_MAX_BUCKETS]; /* see above */
    struct lfp_breaker_config cfg;
    int64_t bucket_ns;
    pthread_mutex_t cb_lock;       /* callback delivery, only with on_change */
    pthread_cond_t cb_turn;
    uint32_t cb_delivered;         /* generation of the last delivered change */
} lfp_breaker;

/* Initialise CLOSED, generation 0, with a copy of cfg.
 * Returns 0; EINVAL if b or cfg is NULL or a field is out of range (see
 * struct lfp_breaker_config); ENOMEM; or the error of pthread_mutex_init. */
LFP_API int lfp_breaker_init(lfp_breaker *b, const struct lfp_breaker_config *cfg);

/* No thread may be using it. NULL is ignored. */
LFP_API void lfp_breaker_destroy(lfp_breaker *b);

/* May a call proceed at time now? Returns 0 and fills *t (pass it to
 * record); EAGAIN if OPEN and the pause has not ended, or HALF_OPEN with
 * max_probes probes in flight; EINVAL if b or t is NULL.
 * Progress: lock-free (see the header comment for the callback); in CLOSED
 * one load. lfp_breaker_allow reads the clock only when not CLOSED. */
static inline int lfp_breaker_allow_at(lfp_breaker *b, int64_t now, lfp_breaker_ticket *t);

static inline int lfp_breaker_allow(lfp_breaker *b, lfp_breaker_ticket *t);

/* Record the outcome of a call admitted with ticket t, at time now.
 * Returns 0 if it was counted; ESTALE if the breaker changed state since t
 * was issued (the result is ignored; a probe's slot belongs to a period that
 * has ended, or t was not issued by this breaker); EINVAL if b is NULL.
 * A failure in CLOSED may open the breaker; a probe's failure reopens it; a
 * probe's success frees its slot and may close it; a success in CLOSED
 * changes nothing (lfp_breaker_record checks it with one load and reads no
 * clock).
 * Progress: lock-free (see the header comment for the callback). */
LFP_API int lfp_breaker_record_at(lfp_breaker *b, lfp_breaker_ticket t, bool success,
                                  int64_t now);

static inline int lfp_breaker_record(lfp_breaker *b, lfp_breaker_ticket t, bool success);

/* The current state and generation (*gen may be NULL). An OPEN breaker
 * whose pause has ended reads OPEN until an allow() moves it to HALF_OPEN.
 * Progress: wait-free. */
static inline lfp_breaker_state lfp_breaker_state_of(const lfp_breaker *b, uint32_t *gen);

/* "CLOSED", "OPEN", "HALF_OPEN". */
LFP_API const char *lfp_breaker_state_name(lfp_breaker_state s);

#ifdef __cplusplus
}
#endif

/* The inline definitions (internal, not part of the API). */
#include "lfpat/internal/breaker.h"
#endif
