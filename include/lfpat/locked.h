/* lfpat/locked.h — the mutex twins.
 *
 * Each lfp_locked_x is the simplest correct reading of lfp_x's contract: a
 * pthread mutex (and condition variables where it blocks) around plain data.
 * They have the same call shapes and return codes as their atomics-first
 * counterparts and serve as benchmark baseline and differential-test oracle.
 *
 * Progress: every call is blocking (takes a mutex). Ordering: every call is
 * sequentially consistent with every other call on the same object (the
 * mutex orders them), which is at least as strong as the lfp_x contract.
 */
#ifndef LFPAT_LOCKED_H
#define LFPAT_LOCKED_H

#include <pthread.h>

#include "lfpat/cancel.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------ counter */

typedef struct lfp_locked_counter {
    pthread_mutex_t lock;
    int64_t value;
} lfp_locked_counter;

LFP_API int     lfp_locked_counter_init(lfp_locked_counter *c, int64_t v);  /* 0, EINVAL */
LFP_API void    lfp_locked_counter_destroy(lfp_locked_counter *c);
LFP_API int64_t lfp_locked_counter_add(lfp_locked_counter *c, int64_t d);   /* new value */
LFP_API int64_t lfp_locked_counter_get(lfp_locked_counter *c);

/* @@ locked twins of later families go above this line, one section each @@ */

#ifdef __cplusplus
}
#endif
#endif
