/* SPDX-License-Identifier: BSD-2-Clause */
/* test_hook.c — the LFP_TEST_HOOK preemption points (lfpat/common.h).
 *
 * Compiled only with the CMake option LFP_TEST_HOOKS. A stress run widens
 * the windows between a claim and its publish/release, where lost wake-ups
 * and orderings that only a preempted thread exposes live, by preempting the
 * calling thread there at random. Driven by the environment, read once:
 *
 *   LFP_HOOK_PREEMPT  permille of hook calls that preempt (default 0: off)
 *   LFP_HOOK_SITE     only sites whose name starts with this (default all)
 *   LFP_HOOK_MODE     mix (default): a random one of the three below;
 *                     yield: sched_yield; spin: 0-2047 pause-spins;
 *                     sleep: nanosleep 10-200 us;
 *                     hold: see below (not part of mix)
 *
 * hold orders two operations instead of delaying one: the thread becomes
 * the holder (one at a time per site name) and waits until another thread
 * passes a site of the same name, or HOLD_NS; once passed, it naps
 * HOLD_SETTLE_NS more, so the passer publishes (or releases), its wake-up
 * lands, and a waiter it woke that finds the holder's cell still claimed
 * parks again — all before the holder publishes. That is the interleaving of
 * issue 14's lost wake-up (P1 claims, P2 publishes and wakes A, A parks
 * again, P1 publishes and wakes one): random delays rarely produce it, hold
 * does every time two operations meet at a site. A hold is bounded, and a
 * site alone in its window is delayed by at most HOLD_NS. hold leaves the
 * waiters' window ec.wait (prepared, not yet parked) alone: holding it
 * would keep a woken waiter from parking again, the step the lost wake-up
 * needs.
 *
 * The hook synchronises with nothing the library uses: its configuration is
 * immutable after the one-time read, its generator per thread, and the hold
 * state is its own (holder slots and pass counters, relaxed),
 * so it adds no happens-before edge a sanitizer could mistake for the
 * library's. (The futex wake of a passer is not an edge to TSan.)
 */
#include "lfpat/common.h"

#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "park.h"

enum mode { MODE_MIX, MODE_YIELD, MODE_SPIN, MODE_SLEEP, MODE_HOLD };

static struct {
    unsigned permille;
    enum mode mode;
    const char *site;   /* prefix filter, or NULL */
    size_t site_len;
} cfg;
static pthread_once_t cfg_once = PTHREAD_ONCE_INIT;

static void read_env(void)
{
    const char *p = getenv("LFP_HOOK_PREEMPT");
    long n = p ? strtol(p, NULL, 10) : 0;
    cfg.permille = n < 0 ? 0 : n > 1000 ? 1000 : (unsigned)n;
    const char *m = getenv("LFP_HOOK_MODE");
    cfg.mode = !m                     ? MODE_MIX
             : !strcmp(m, "yield")    ? MODE_YIELD
             : !strcmp(m, "spin")     ? MODE_SPIN
             : !strcmp(m, "sleep")    ? MODE_SLEEP
             : !strcmp(m, "hold")     ? MODE_HOLD
                                      : MODE_MIX;
    cfg.site = getenv("LFP_HOOK_SITE");
    cfg.site_len = cfg.site ? strlen(cfg.site) : 0;
}

/* xorshift64, one per thread, seeded from the clock and the thread. */
static uint64_t next_random(void)
{
    static _Thread_local uint64_t s;
    if (s == 0)
        s = ((uint64_t)lfp_now() ^ (uint64_t)(uintptr_t)&s) * 0x9e3779b97f4a7c15ull | 1;
    s ^= s << 13;
    s ^= s >> 7;
    s ^= s << 17;
    return s;
}

static void spin(unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
#if defined(__x86_64__)
        __builtin_ia32_pause();
#elif defined(__aarch64__)
        __asm__ __volatile__("yield");
#endif
        atomic_signal_fence(memory_order_seq_cst);
    }
}

#define HOLD_NS 500000LL          /* at most, waiting for a passer */
#define HOLD_SETTLE_NS 100000L    /* after the pass: 100-300 us */

/* One holder per site name (a site hashes to a slot; two names sharing a
 * slot take turns), so a hold at one window does not stop holds at another,
 * e.g. a waiter held before it parks (ec.wait) while a producer is held
 * before it publishes (mpmc.push). */
#define HOLD_SLOTS 16

static struct hold_slot {
    _Atomic(const char *) site;   /* the holder's site, or NULL */
    _Atomic uint32_t passes;      /* futex word: passes of the holder's site */
} holds[HOLD_SLOTS];

static struct hold_slot *slot_of(const char *site)
{
    unsigned h = 5381;
    for (const char *c = site; *c; c++)
        h = h * 33 + (unsigned char)*c;
    return &holds[h % HOLD_SLOTS];
}

/* Become the holder of the site's slot (if nobody is) and wait for a pass;
 * or, if another thread holds this site, count a pass and wake it. relaxed
 * throughout: the hold only shapes timing, it must publish nothing. */
static void hold_or_pass(const char *site, uint64_t r)
{
    struct hold_slot *h = slot_of(site);
    const char *none = NULL;
    uint32_t p0 = atomic_load_explicit(&h->passes, memory_order_relaxed);
    if (!atomic_compare_exchange_strong_explicit(&h->site, &none, site, memory_order_relaxed,
                                                 memory_order_relaxed)) {
        if (none != site && strcmp(none, site) != 0)
            return;
        atomic_fetch_add_explicit(&h->passes, 1, memory_order_relaxed);
        lfp_park_wake(&h->passes, INT_MAX);
        return;
    }
    int64_t deadline = lfp_after(HOLD_NS);
    uint32_t p;
    while ((p = atomic_load_explicit(&h->passes, memory_order_relaxed)) == p0 &&
           lfp_now() < deadline)
        lfp_park_wait(&h->passes, p0, deadline);
    atomic_store_explicit(&h->site, NULL, memory_order_relaxed);
    if (p != p0) {
        struct timespec ts = { 0, HOLD_SETTLE_NS + (long)(r % (2 * HOLD_SETTLE_NS + 1)) };
        nanosleep(&ts, NULL);
    }
}

void lfp_test_hook_(const char *site)
{
    pthread_once(&cfg_once, read_env);
    if (cfg.permille == 0 || (cfg.site && strncmp(site, cfg.site, cfg.site_len) != 0))
        return;
    uint64_t r = next_random();
    if (r % 1000 >= cfg.permille)
        return;
    r >>= 10;
    if (cfg.mode == MODE_HOLD) {
        if (strncmp(site, "ec.", 3) != 0)
            hold_or_pass(site, r);
        return;
    }
    enum mode m = cfg.mode == MODE_MIX ? (enum mode)(1 + r % 3) : cfg.mode;
    r >>= 2;
    switch (m) {
    case MODE_YIELD:
        sched_yield();
        break;
    case MODE_SPIN:
        spin((unsigned)(r % 2048));
        break;
    default: {
        struct timespec ts = { 0, 10000 + (long)(r % 190001) };   /* 10-200 us */
        nanosleep(&ts, NULL);
        break;
    }
    }
}
