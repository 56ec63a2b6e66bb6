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
 *                     sleep: nanosleep 10-200 us
 *
 * The hook synchronises with nothing (its state after the one-time read is
 * immutable, its generator per thread), so it adds no happens-before edge a
 * sanitizer could mistake for the library's.
 */
#include "lfpat/common.h"

#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum mode { MODE_MIX, MODE_YIELD, MODE_SPIN, MODE_SLEEP };

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

void lfp_test_hook_(const char *site)
{
    pthread_once(&cfg_once, read_env);
    if (cfg.permille == 0 || (cfg.site && strncmp(site, cfg.site, cfg.site_len) != 0))
        return;
    uint64_t r = next_random();
    if (r % 1000 >= cfg.permille)
        return;
    r >>= 10;
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
