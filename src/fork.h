/* SPDX-License-Identifier: BSD-2-Clause */
/* fork.h — internal: lfpat in the child of a multithreaded fork.
 *
 * POSIX lets a child of a multithreaded process call only async-signal-safe
 * functions; glibc goes further for its own objects (pthread_once, malloc),
 * and so does lfpat for its internal state:
 *   - the process-wide locks (the cancel tree lock, the thread-slot lock,
 *     the portable park table) are taken by an atfork prepare handler and
 *     released in the parent and the child, so a fork never copies one of
 *     them held by a thread the child does not have;
 *   - lfp_fork_generation() grows by one in every child. An lfp_once that a
 *     thread of the parent was running when the fork happened is marked with
 *     the parent's generation; the child sees the mismatch and runs fn itself
 *     (as glibc's pthread_once does).
 * The handlers are registered on the first use of any of these (one
 * pthread_once), so a program that never touches them pays nothing. */
#ifndef LFP_SRC_FORK_H
#define LFP_SRC_FORK_H

#include <stdint.h>

/* Register the atfork handlers (idempotent; cheap after the first call). */
void lfp_fork_register(void);

/* The number of forks between the process's first ancestor that loaded
 * lfpat and this process (0 there, 1 in its children, ...). */
uint32_t lfp_fork_generation(void);

/* Each module's share of the handlers (called in this order: tree, slots,
 * park, snap cells — the order in which code that holds one may take the
 * next; the snap cell registry's lock is a leaf). */
void lfp_cancel_fork_lock(void);
void lfp_cancel_fork_unlock(void);
void lfp_slot_fork_lock(void);
void lfp_slot_fork_unlock(void);
void lfp_park_fork_lock(void);
void lfp_park_fork_unlock(int in_child);
void lfp_snap_fork_lock(void);
void lfp_snap_fork_unlock(void);

#endif
