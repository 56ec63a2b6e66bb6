/* SPDX-License-Identifier: BSD-2-Clause */
/* The inline fast paths, wrapped in functions with C linkage so that
 * tests/cxx/check.sh can compare the code a C and a C++ compiler generate for
 * them: the same atomic instructions, in the same order. */
#include <lfpat.h>

#ifdef __cplusplus
extern "C" {
#endif
int fp_spsc_push(lfp_spsc *q, void *v) { return lfp_spsc_try_push(q, v); }
int fp_spsc_pop(lfp_spsc *q, void **v) { return lfp_spsc_try_pop(q, v); }
int fp_mpmc_push(lfp_mpmc *q, void *v) { return lfp_mpmc_try_push(q, v); }
int fp_mpmc_pop(lfp_mpmc *q, void **v) { return lfp_mpmc_try_pop(q, v); }
int fp_sem_try(lfp_sem *s) { return lfp_sem_try_acquire(s); }
int fp_sem_release(lfp_sem *s) { return lfp_sem_release(s); }
int64_t fp_counter_add(lfp_counter *c) { return lfp_counter_add(c, 1); }
void fp_striped_add(lfp_striped *c) { lfp_striped_add(c, 1); }
bool fp_once_done(const lfp_once *o) { return lfp_once_done(o); }
int fp_bucket_take(lfp_bucket *b, int64_t now) { return lfp_bucket_take_at(b, 1, now); }
int fp_future_set(lfp_future *f, void *v) { return lfp_future_set(f, v, 0); }
int fp_cancel_reason(const lfp_cancel *c) { return lfp_cancel_reason(c); }
#ifdef __cplusplus
}
#endif
