/* SPDX-License-Identifier: BSD-2-Clause */
/* bench/qbench/qbench.h — the pinned queue benchmark's shared pieces.
 *
 * lfpat_qbench measures queues the way their best authors do (see
 * qbench.c): threads pinned to distinct CPUs, the cross-CPU hand-off latency
 * measured before every repetition, peers in the same binary, paired ratios
 * from interleaved repetitions, every popped value summed and checked.
 *
 * An implementation is a table of functions. Its producer and consumer loops
 * are its own (the queue calls inline, no call through a pointer per item),
 * written with QB_PRODUCE / QB_CONSUME below so that every implementation —
 * C here, C++ peers in peers.cc — uses the same stop rule, the same retry
 * policy and the same checks.
 */
#ifndef LFP_QBENCH_H
#define LFP_QBENCH_H

#include <sched.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* One run's shared control words, accessed with __atomic builtins only (the
 * same code compiles as C and C++). */
struct qb_run {
    int stop;            /* set by main when the window ends: producers stop */
    int64_t remaining;   /* items not yet popped; consumers of a try queue stop at 0 */
    int consumers;
};

/* What one thread did: items moved and the sum of their values. */
struct qb_tally {
    uint64_t count, sum;
};

enum qb_role { QB_LFP, QB_TWIN, QB_PEER, QB_REF };
enum qb_kind { QB_SPSC = 1, QB_MPMC = 2 };

struct qb_impl {
    const char *name;
    enum qb_role role;      /* lfpat row, its mutex twin, a peer, a reference */
    unsigned kinds;         /* which cases it runs in (QB_SPSC | QB_MPMC) */
    bool blocking;          /* consumers stop at close(), not at remaining == 0 */
    void *(*create)(size_t capacity, int producers, int consumers);
    void (*destroy)(void *q);
    struct qb_tally (*produce)(void *q, struct qb_run *run, int id);
    struct qb_tally (*consume)(void *q, struct qb_run *run, int id);
    void (*close)(void *q, int consumers);   /* blocking only */
};

/* The implementations: impls.c (C) and peers.cc (C++). */
extern const struct qb_impl qb_c_impls[];
extern const size_t qb_c_impl_count;
extern const struct qb_impl qb_cxx_impls[];
extern const size_t qb_cxx_impl_count;

/* The retry policy of every non-blocking loop: pause 32 times, then yield
 * (what a careful user writes; it never parks). */
static inline void qb_backoff(unsigned *round)
{
    if (*round < 32) {
#if defined(__x86_64__) || defined(__i386__)
        __builtin_ia32_pause();
#elif defined(__aarch64__)
        __asm__ __volatile__("isb" ::: "memory");
#endif
    } else {
        sched_yield();
    }
    (*round)++;
}

static inline bool qb_stopped(struct qb_run *r)
{
    return __atomic_load_n(&r->stop, __ATOMIC_RELAXED);
}

/* Producer id's value number i: distinct and never 0 (0 and NULL are the
 * sentinels some queues need). */
static inline uint64_t qb_value(int id, uint64_t i) { return ((i + 1) << 6) | (uint64_t)id; }

/* Producer loop: push distinct values until the window ends. TRY_PUSH(v) is
 * a boolean expression that pushes v or fails. The stop flag is read every
 * 64 items and while a push fails. */
#define QB_PRODUCE(run, id, TRY_PUSH)                                           \
    do {                                                                        \
        for (uint64_t i_ = 0;; i_++) {                                          \
            if ((i_ & 63) == 0 && qb_stopped(run))                              \
                break;                                                          \
            uint64_t v = qb_value(id, i_);                                      \
            unsigned round_ = 0;                                                \
            bool gave_up_ = false;                                              \
            while (!(TRY_PUSH)) {                                               \
                if (qb_stopped(run)) { gave_up_ = true; break; }                \
                qb_backoff(&round_);                                            \
            }                                                                   \
            if (gave_up_)                                                       \
                break;                                                          \
            tally.count++;                                                      \
            tally.sum += v;                                                     \
        }                                                                       \
    } while (0)

/* Consumer loop of a non-blocking queue: TRY_POP(v) is a boolean expression
 * that pops into the uint64_t v or fails. Consumers count down run->remaining
 * in batches of 256 (and whenever the queue looks empty) and stop when it is
 * 0: then every produced item has been popped. */
#define QB_CONSUME(run, TRY_POP)                                                \
    do {                                                                        \
        uint64_t v, pending_ = 0;                                               \
        unsigned round_ = 0;                                                    \
        for (;;) {                                                              \
            if (TRY_POP) {                                                      \
                tally.count++;                                                  \
                tally.sum += v;                                                 \
                round_ = 0;                                                     \
                if (++pending_ == 256) {                                        \
                    __atomic_fetch_sub(&(run)->remaining, 256, __ATOMIC_RELAXED); \
                    pending_ = 0;                                               \
                }                                                               \
                continue;                                                       \
            }                                                                   \
            if (pending_) {                                                     \
                __atomic_fetch_sub(&(run)->remaining, (int64_t)pending_,        \
                                   __ATOMIC_RELAXED);                           \
                pending_ = 0;                                                   \
            }                                                                   \
            if (__atomic_load_n(&(run)->remaining, __ATOMIC_RELAXED) == 0)      \
                break;                                                          \
            qb_backoff(&round_);                                                \
        }                                                                       \
    } while (0)

#ifdef __cplusplus
}
#endif
#endif
