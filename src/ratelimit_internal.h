/* ratelimit_internal.h — internal: the takes with receipts and the
 * give-backs lfp_limit_all uses to undo exactly what a take did. */
#ifndef LFP_SRC_RATELIMIT_INTERNAL_H
#define LFP_SRC_RATELIMIT_INTERNAL_H

#include "lfpat/ratelimit.h"

/* Undo a take charged to window id `charged` (from
 * lfp_fwindow_take_charged_): only while that window is still stored. */
void lfp_fwindow_give_back_(lfp_fwindow *w, uint32_t n, uint32_t charged);

/* lfp_swindow_take_at with the charged window id; and its undo (from cur
 * while that window is current, from prev one window later). */
int  lfp_swindow_take_charged_(lfp_swindow *w, uint32_t n, int64_t now, uint32_t *charged);
void lfp_swindow_give_back_(lfp_swindow *w, uint32_t n, uint32_t charged);

/* lfp_slog_take_at with the first slot index claimed; and its undo: each
 * claimed slot still holding this take's time is released (set to now - W). */
int  lfp_slog_take_claim_(lfp_slog *w, uint32_t n, int64_t now, uint64_t *first);
void lfp_slog_give_back_(lfp_slog *w, uint32_t n, int64_t now, uint64_t first);

#endif
