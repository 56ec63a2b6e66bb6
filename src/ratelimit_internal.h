/* ratelimit_internal.h — internal: the takes with receipts and the
 * give-backs lfp_limit_all uses to undo exactly what a take did. */
#ifndef LFP_SRC_RATELIMIT_INTERNAL_H
#define LFP_SRC_RATELIMIT_INTERNAL_H

#include "lfpat/ratelimit.h"

/* Undo a take charged to window id `charged` (from
 * lfp_fwindow_take_charged_): only while that window is still stored. */
void lfp_fwindow_give_back_(lfp_fwindow *w, uint32_t n, uint32_t charged);

/* Undo a take charged to window id `charged` (from
 * lfp_swindow_take_charged_): from cur while that window is current, from
 * prev one window later. */
void lfp_swindow_give_back_(lfp_swindow *w, uint32_t n, uint32_t charged);

/* lfp_slog_take_at with the first slot index claimed; and its undo: each
 * claimed slot still holding this take's time is released (set to now - W). */
int  lfp_slog_take_claim_(lfp_slog *w, uint32_t n, int64_t now, uint64_t *first);
void lfp_slog_give_back_(lfp_slog *w, uint32_t n, int64_t now, uint64_t first);

/* The waiting protocol of lfp_bucket_wait_at, shared with its mutex twin
 * lfp_locked_bucket_wait_at. `reserve` consumes n tokens at `now` unless
 * they would be ready only after `latest` (then EAGAIN, nothing consumed)
 * and stores the ready time; `give_back` returns n tokens. */
typedef int (*lfp_rl_reserve_fn)(void *b, uint32_t n, int64_t now, int64_t latest,
                                 int64_t *ready_at);
typedef int (*lfp_rl_give_back_fn)(void *b, uint32_t n);

/* Take at once if available (whatever the deadline or token); else
 * ECANCELED if the token fired; else ETIMEDOUT, consuming nothing, if the
 * ready time is after the deadline; else reserve, sleep once until the ready
 * time and, if the token fires first, give the reservation back. */
int lfp_rl_wait_(void *b, lfp_rl_reserve_fn reserve, lfp_rl_give_back_fn give_back,
                 uint32_t n, int64_t now, int64_t deadline, lfp_cancel *cancel);

#endif
