/* SPDX-License-Identifier: BSD-2-Clause */
/* cancel_watch.h — internal: how a blocking call learns that its token fired.
 *
 * Before parking on a futex word, a blocking call registers that word on its
 * token (lfp_cancel_watch). lfp_cancel_fire, for every fired token, bumps each
 * registered word and wakes all threads parked on it, so the parked thread's
 * futex_wait returns and it sees the token fired. The registration and the
 * fire both run under the tree lock, and the watcher checks the token after
 * registering, so a fire can never fall between "checked: not fired" and
 * "parked" unnoticed (the word is bumped, so the park returns at once).
 */
#ifndef LFP_SRC_CANCEL_WATCH_H
#define LFP_SRC_CANCEL_WATCH_H

#include "lfpat/cancel.h"

struct lfp_cancel_watch {
    _Atomic uint32_t *word;
    struct lfp_cancel_watch *next, *prev;
};

/* Register w (watching word) on c. Returns 0, or ECANCELED if c has already
 * fired (then nothing is registered). c must not be NULL. */
int  lfp_cancel_watch(lfp_cancel *c, struct lfp_cancel_watch *w, _Atomic uint32_t *word);
void lfp_cancel_unwatch(lfp_cancel *c, struct lfp_cancel_watch *w);

#endif
