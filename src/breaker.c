/* SPDX-License-Identifier: BSD-2-Clause */
#include "lfpat/breaker.h"

/* ------------------------------------------------------------ failure window */

/* Slot words: lap (40 bits) << 24 | failures (24 bits, saturating). */
#define WIN_COUNT_BITS 24
#define WIN_COUNT_MAX ((UINT64_C(1) << WIN_COUNT_BITS) - 1)
#define WIN_LAP_BITS 40
#define WIN_LAP_MASK ((UINT64_C(1) << WIN_LAP_BITS) - 1)
#define WIN_LAPS (UINT64_C(1) << WIN_LAP_BITS)
/* A failure whose lap is at most this many laps behind its slot's is late
 * (an old timestamp, or a stale generation's) and dropped. */
#define WIN_LATE_LAPS 1024u

/* The virtual clock of generation gen at now, in buckets (see breaker.h):
 * now / bucket_ns + gen * window_buckets, modulo WIN_LAPS laps. Both terms
 * are reduced first, so nothing overflows (the result is < 2^47). */
static uint64_t window_clock(const lfp_breaker *b, uint32_t gen, int64_t now)
{
    uint64_t lap = b->cfg.window_buckets, period = WIN_LAPS * lap;
    int64_t idx = lfp_rl_floor_div_(now, b->bucket_ns) % (int64_t)period;
    uint64_t at = (uint64_t)(idx < 0 ? idx + (int64_t)period : idx);
    return (at + (uint64_t)gen * lap) % period;
}

/* Count a failure of CLOSED generation gen at now; the failures in the
 * window ending there (its bucket and the window_buckets - 1 before it). */
static uint64_t window_fail(lfp_breaker *b, uint32_t gen, int64_t now)
{
    uint64_t n = b->cfg.window_buckets, period = WIN_LAPS * n;
    uint64_t v = window_clock(b, gen, now), lap = v / n;
    _Atomic uint64_t *slot = &b->window[v % n];
    /* relaxed: the window orders nothing (the breaker guards no data); the
     * CAS makes each count exact. */
    uint64_t old = atomic_load_explicit(slot, memory_order_relaxed), next;
    do {
        uint64_t ahead = ((old >> WIN_COUNT_BITS) - lap) & WIN_LAP_MASK;
        if (ahead == 0)
            next = old + ((old & WIN_COUNT_MAX) < WIN_COUNT_MAX);
        else if (ahead <= WIN_LATE_LAPS)
            break;   /* the slot holds a later lap: outside every later window */
        else
            next = lap << WIN_COUNT_BITS | 1;   /* a stale lap: start afresh */
        /* relaxed: as above. */
    } while (!atomic_compare_exchange_weak_explicit(slot, &old, next, memory_order_relaxed,
                                                    memory_order_relaxed));
    uint64_t sum = 0;
    for (uint64_t j = 0; j < n; j++) {
        uint64_t k = (v + period - j) % period;
        /* relaxed: a snapshot; concurrent adds may or may not be counted. */
        uint64_t w = atomic_load_explicit(&b->window[k % n], memory_order_relaxed);
        if (w >> WIN_COUNT_BITS == k / n)
            sum += w & WIN_COUNT_MAX;
    }
    return sum;
}

/* ------------------------------------------------------------ transitions */

static bool config_ok(const struct lfp_breaker_config *c)
{
    return c->failure_threshold >= 1 && c->failure_threshold <= LFP_BREAKER_MAX_THRESHOLD &&
           c->window_ns > 0 && c->window_buckets >= 1 &&
           c->window_buckets <= LFP_BREAKER_MAX_BUCKETS &&
           c->window_ns % c->window_buckets == 0 && c->open_ns >= 0 &&
           c->open_ns < ((int64_t)1 << 50) && c->max_probes >= 1 &&
           c->max_probes <= LFP_BREAKER_MAX_PROBES && c->close_after >= 1 &&
           c->close_after <= LFP_BREAKER_MAX_PROBES;
}

int lfp_breaker_init(lfp_breaker *b, const struct lfp_breaker_config *cfg)
{
    if (!b || !cfg || !config_ok(cfg))
        return EINVAL;
    int rc;
    if ((rc = pthread_mutex_init(&b->cb_lock, NULL)) != 0)
        return rc;
    if ((rc = pthread_cond_init(&b->cb_turn, NULL)) != 0) {
        pthread_mutex_destroy(&b->cb_lock);
        return rc;
    }
    for (unsigned i = 0; i < LFP_BREAKER_MAX_BUCKETS; i++)
        atomic_init(&b->window[i], 0);   /* lap 0, no failures: counts nothing */
    b->cfg = *cfg;
    b->bucket_ns = cfg->window_ns / cfg->window_buckets;
    b->cb_delivered = 0;
    atomic_init(&b->state, lfp_brk_word_(LFP_BREAKER_CLOSED, 0, 0));
    atomic_init(&b->open_end, 0);   /* tag 0: generation 0 is CLOSED */
    return 0;
}

void lfp_breaker_destroy(lfp_breaker *b)
{
    if (!b)
        return;
    pthread_cond_destroy(&b->cb_turn);
    pthread_mutex_destroy(&b->cb_lock);
}

const char *lfp_breaker_state_name(lfp_breaker_state s)
{
    switch (s) {
    case LFP_BREAKER_CLOSED: return "CLOSED";
    case LFP_BREAKER_OPEN: return "OPEN";
    case LFP_BREAKER_HALF_OPEN: return "HALF_OPEN";
    }
    return "?";
}

/* Deliver the change to generation gen after the change to gen - 1 was
 * delivered (its thread made its CAS first and is on its way here). */
static void deliver(lfp_breaker *b, lfp_breaker_state from, lfp_breaker_state to, uint32_t gen)
{
    if (!b->cfg.on_change)
        return;
    pthread_mutex_lock(&b->cb_lock);
    while (b->cb_delivered != ((gen - 1) & LFP_BRK_GEN_MASK_))
        pthread_cond_wait(&b->cb_turn, &b->cb_lock);
    b->cfg.on_change(b->cfg.arg, from, to, gen);
    b->cb_delivered = gen;
    pthread_cond_broadcast(&b->cb_turn);
    pthread_mutex_unlock(&b->cb_lock);
}

/* One transition attempt from exactly *w to next; delivers on success, else
 * reloads *w. end_tick: for a move to OPEN, the full tick the pause ends at
 * (its high half goes to open_end before the callback is delivered). */
static bool transition_to(lfp_breaker *b, uint64_t *w, uint64_t next, uint64_t end_tick)
{
    uint64_t from = *w;
    /* acq_rel: release publishes the new word to allow()'s acquire load;
     * acquire: on failure, the reloaded word is read as allow() reads it. */
    if (!atomic_compare_exchange_strong_explicit(&b->state, w, next, memory_order_acq_rel,
                                                 memory_order_acquire))
        return false;
    if (lfp_brk_state_(next) == LFP_BREAKER_OPEN)
        /* relaxed: the word is self-describing (tagged with its OPEN
         * generation, read in pause_over), so it pairs with nothing: a
         * reader that sees an older tag uses the 32-bit fallback. Only the
         * thread whose CAS made this generation writes its tag. */
        atomic_store_explicit(&b->open_end,
                              (uint64_t)lfp_brk_gen_(next) << 32 | (end_tick >> 32),
                              memory_order_relaxed);
    deliver(b, lfp_brk_state_(from), lfp_brk_state_(next), lfp_brk_gen_(next));
    return true;
}

static bool transition(lfp_breaker *b, uint64_t *w, uint64_t next)
{
    return transition_to(b, w, next, 0);
}

/* The tick the pause of an OPEN period started at now ends at: now +
 * open_ns, rounded up to a tick. */
static uint64_t open_end_tick(const lfp_breaker *b, int64_t now)
{
    return lfp_brk_tick_(lfp_time_add(now, b->cfg.open_ns + LFP_BREAKER_TICK_NS - 1));
}

/* Move CLOSED/HALF_OPEN generation gen (exactly *w) to OPEN at now. */
static bool transition_open(lfp_breaker *b, uint64_t *w, uint32_t gen, int64_t now)
{
    uint64_t end = open_end_tick(b, now);
    return transition_to(b, w, lfp_brk_word_(LFP_BREAKER_OPEN, gen + 1, (uint32_t)end), end);
}

/* Has the pause of OPEN word w ended at now? See "The pause end beyond 32
 * bits" in breaker.h. */
static bool pause_over(lfp_breaker *b, uint64_t w, int64_t now)
{
    uint64_t tick = lfp_brk_tick_(now);
    uint32_t lo = lfp_brk_payload_(w);
    /* relaxed: see the store in transition_to (self-describing word). */
    uint64_t e = atomic_load_explicit(&b->open_end, memory_order_relaxed);
    if ((uint32_t)(e >> 32) == lfp_brk_gen_(w))
        return tick >= ((e & 0xffffffffu) << 32 | lo);
    /* the opener has not stored the high half yet: it opened just now */
    return (int32_t)((uint32_t)tick - lo) >= 0;
}

#define PROBE_ONE ((uint64_t)1 << 32)        /* one probe in flight */
#define PROBE_SUCCESS ((uint64_t)1 << 48)    /* one successful probe */

int lfp_breaker_allow_slow_(lfp_breaker *b, uint64_t w, int64_t now, lfp_breaker_ticket *t)
{
    for (;;) {
        uint32_t gen = lfp_brk_gen_(w), payload = lfp_brk_payload_(w);
        switch (lfp_brk_state_(w)) {
        case LFP_BREAKER_CLOSED:
            *t = (lfp_breaker_ticket){ gen, false };
            return 0;
        case LFP_BREAKER_OPEN:
            if (!pause_over(b, w, now))
                return EAGAIN;
            if (transition(b, &w, lfp_brk_word_(LFP_BREAKER_HALF_OPEN, gen + 1, 0) + PROBE_ONE)) {
                *t = (lfp_breaker_ticket){ (gen + 1) & LFP_BRK_GEN_MASK_, true };
                return 0;
            }
            break;
        default:   /* HALF_OPEN */
            if ((payload & 0xffff) >= b->cfg.max_probes)
                return EAGAIN;
            /* acq_rel / acquire: as in transition(); not a state change. */
            if (atomic_compare_exchange_weak_explicit(&b->state, &w, w + PROBE_ONE,
                                                      memory_order_acq_rel,
                                                      memory_order_acquire)) {
                *t = (lfp_breaker_ticket){ gen, true };
                return 0;
            }
            break;
        }
    }
}

/* A probe's result in HALF_OPEN generation t.gen. */
static int record_probe(lfp_breaker *b, uint64_t w, lfp_breaker_ticket t, bool success,
                        int64_t now)
{
    for (;;) {
        if (lfp_brk_gen_(w) != t.gen || lfp_brk_state_(w) != LFP_BREAKER_HALF_OPEN)
            return ESTALE;
        if (!success) {
            if (transition_open(b, &w, t.gen, now))
                return 0;
            continue;
        }
        uint64_t next = w - PROBE_ONE + PROBE_SUCCESS;
        if ((lfp_brk_payload_(next) >> 16) >= b->cfg.close_after) {
            if (transition(b, &w, lfp_brk_word_(LFP_BREAKER_CLOSED, t.gen + 1, 0)))
                return 0;
        } else if (atomic_compare_exchange_weak_explicit(&b->state, &w, next,
                                                         memory_order_acq_rel,
                                                         memory_order_acquire)) {
            /* acq_rel / acquire: as in transition(); not a state change. */
            return 0;
        }
    }
}

int lfp_breaker_record_at(lfp_breaker *b, lfp_breaker_ticket t, bool success, int64_t now)
{
    if (!b)
        return EINVAL;
    /* acquire: as in lfp_breaker_allow_at. */
    uint64_t w = atomic_load_explicit(&b->state, memory_order_acquire);
    if (lfp_brk_gen_(w) != t.gen)
        return ESTALE;
    if (t.probe)
        return record_probe(b, w, t, success, now);
    if (lfp_brk_state_(w) != LFP_BREAKER_CLOSED)
        return ESTALE;   /* not issued by this breaker in this generation */
    if (success)
        return 0;
    if (window_fail(b, t.gen, now) >= b->cfg.failure_threshold)
        /* One attempt: a CLOSED word changes only by a transition, so a
         * failed CAS means another thread already moved it on. */
        transition_open(b, &w, t.gen, now);
    return 0;
}
