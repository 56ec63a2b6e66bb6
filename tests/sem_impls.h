/* SPDX-License-Identifier: BSD-2-Clause */
/* sem_impls.h — the semaphore implementation tables shared by the unit tests
 * (tests/test_sem.c) and the stress program (stress/stress_sem.c): every
 * contract check runs once per row, lfpat's primitive and its mutex twin.
 * Both programs have src/ on their include path (wsem_queue.h, for the
 * test-only queue length). Include once per program.
 */
#ifndef LFP_TESTS_SEM_IMPLS_H
#define LFP_TESTS_SEM_IMPLS_H

#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "lfpat.h"
#include "wsem_queue.h"

/* Zeroed memory for one implementation object, aligned for its cache-line
 * aligned members (lfp_sem). NULL on failure; free() it. */
static inline void *impl_alloc(size_t size)
{
    size_t rounded = (size + LFP_CACHELINE - 1) / LFP_CACHELINE * LFP_CACHELINE;
    void *p = aligned_alloc(LFP_CACHELINE, rounded);
    if (p)
        memset(p, 0, rounded);
    return p;
}

/* ------------------------------------------------------------ counting */

struct sem_impl {
    const char *name;
    size_t size;
    int (*init)(void *, unsigned);
    void (*destroy)(void *);
    int (*try_acquire)(void *);
    int (*acquire)(void *, int64_t, lfp_cancel *);
    int (*release)(void *);
    unsigned (*available)(void *);
    void (*stats)(void *, struct lfp_sem_stats *);
    /* quiescent and settled: every permit free, nobody registered as a
     * waiter, no wake-up in flight (lfp_sem: the whole word) */
    bool (*idle)(void *);
};

static inline int s_init(void *s, unsigned c) { return lfp_sem_init(s, c); }
static inline void s_destroy(void *s) { lfp_sem_destroy(s); }
static inline int s_try(void *s) { return lfp_sem_try_acquire(s); }
static inline int s_acq(void *s, int64_t d, lfp_cancel *c) { return lfp_sem_acquire(s, d, c); }
static inline int s_rel(void *s) { return lfp_sem_release(s); }
static inline unsigned s_avail(void *s) { return lfp_sem_available(s); }
static inline void s_stats(void *s, struct lfp_sem_stats *st) { lfp_sem_stats(s, st); }
static inline bool s_idle(void *s)
{
    lfp_sem *x = s;
    return atomic_load(&x->state) == x->capacity;   /* P == capacity, G == W == 0 */
}

static inline int l_init(void *s, unsigned c) { return lfp_locked_sem_init(s, c); }
static inline void l_destroy(void *s) { lfp_locked_sem_destroy(s); }
static inline int l_try(void *s) { return lfp_locked_sem_try_acquire(s); }
static inline int l_acq(void *s, int64_t d, lfp_cancel *c)
{
    return lfp_locked_sem_acquire(s, d, c);
}
static inline int l_rel(void *s) { return lfp_locked_sem_release(s); }
static inline unsigned l_avail(void *s) { return lfp_locked_sem_available(s); }
static inline void l_stats(void *s, struct lfp_sem_stats *st) { lfp_locked_sem_stats(s, st); }
static inline bool l_idle(void *s)
{
    struct lfp_sem_stats st;
    lfp_locked_sem_stats(s, &st);
    return st.available == st.capacity && st.waiting == 0;
}

static const struct sem_impl sem_impls[] = {
    { "lfp_sem", sizeof(lfp_sem), s_init, s_destroy, s_try, s_acq, s_rel, s_avail, s_stats,
      s_idle },
    { "lfp_locked_sem", sizeof(lfp_locked_sem), l_init, l_destroy, l_try, l_acq, l_rel,
      l_avail, l_stats, l_idle },
};

/* ------------------------------------------------------------ weighted */

struct wsem_impl {
    const char *name;
    size_t size;
    int (*init)(void *, int64_t);
    void (*destroy)(void *);
    int (*try_acquire)(void *, int64_t);
    int (*acquire)(void *, int64_t, int64_t, lfp_cancel *);
    int (*release)(void *, int64_t);
    int64_t (*available)(void *);
    size_t (*queued)(void *);   /* test-only: waiters in the FIFO queue */
};

static inline size_t count_queue(pthread_mutex_t *lock, struct lfp_wsem_queue *q)
{
    size_t n = 0;
    pthread_mutex_lock(lock);
    for (struct lfp_wsem_waiter *w = q->head; w; w = w->next)
        n++;
    pthread_mutex_unlock(lock);
    return n;
}

static inline int w_init(void *s, int64_t c) { return lfp_wsem_init(s, c); }
static inline void w_destroy(void *s) { lfp_wsem_destroy(s); }
static inline int w_try(void *s, int64_t n) { return lfp_wsem_try_acquire(s, n); }
static inline int w_acq(void *s, int64_t n, int64_t d, lfp_cancel *c)
{
    return lfp_wsem_acquire(s, n, d, c);
}
static inline int w_rel(void *s, int64_t n) { return lfp_wsem_release(s, n); }
static inline int64_t w_avail(void *s) { return lfp_wsem_available(s); }
static inline size_t w_queued(void *s)
{
    return count_queue(&((lfp_wsem *)s)->lock, &((lfp_wsem *)s)->queue);
}

static inline int lw_init(void *s, int64_t c) { return lfp_locked_wsem_init(s, c); }
static inline void lw_destroy(void *s) { lfp_locked_wsem_destroy(s); }
static inline int lw_try(void *s, int64_t n) { return lfp_locked_wsem_try_acquire(s, n); }
static inline int lw_acq(void *s, int64_t n, int64_t d, lfp_cancel *c)
{
    return lfp_locked_wsem_acquire(s, n, d, c);
}
static inline int lw_rel(void *s, int64_t n) { return lfp_locked_wsem_release(s, n); }
static inline int64_t lw_avail(void *s) { return lfp_locked_wsem_available(s); }
static inline size_t lw_queued(void *s)
{
    return count_queue(&((lfp_locked_wsem *)s)->lock, &((lfp_locked_wsem *)s)->queue);
}

static const struct wsem_impl wsem_impls[] = {
    { "lfp_wsem", sizeof(lfp_wsem), w_init, w_destroy, w_try, w_acq, w_rel, w_avail, w_queued },
    { "lfp_locked_wsem", sizeof(lfp_locked_wsem), lw_init, lw_destroy, lw_try, lw_acq, lw_rel,
      lw_avail, lw_queued },
};

#define NIMPL(t) (sizeof t / sizeof t[0])

#endif
