/* SPDX-License-Identifier: BSD-2-Clause */
/* lfpat/locked/broadcast.h — lfp_locked_broadcast, the mutex twin of
 * lfp_broadcast (lfpat/broadcast.h).
 * What every twin promises (progress, ordering, Copying, Fork):
 * lfpat/locked.h, which includes this header. */
#ifndef LFPAT_LOCKED_BROADCAST_H
#define LFPAT_LOCKED_BROADCAST_H

#include "lfpat/internal/locked.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The twin of lfpat/broadcast.h: same calls, same return codes. Blocking calls
 * wait on a condition variable, or with a token on an eventcount the token
 * can wake (lfp_locked_sync_, internal/locked.h). */
typedef struct lfp_locked_broadcast {
    lfp_locked_sync_ sync;
    void **ring;          /* message of position p at ring[p % cap] */
    size_t cap;
    uint64_t tail;        /* positions published */
    bool closed;
} lfp_locked_broadcast;

typedef struct lfp_locked_broadcast_sub {
    lfp_locked_broadcast *b;
    uint64_t next, pending, received, missed;
} lfp_locked_broadcast_sub;

LFP_API int  lfp_locked_broadcast_init(lfp_locked_broadcast *b, size_t capacity); /* exact capacity */
LFP_API void lfp_locked_broadcast_destroy(lfp_locked_broadcast *b);
LFP_API size_t lfp_locked_broadcast_capacity(const lfp_locked_broadcast *b);
LFP_API int  lfp_locked_broadcast_publish(lfp_locked_broadcast *b, void *v);  /* 0, EPIPE */
LFP_API void lfp_locked_broadcast_close(lfp_locked_broadcast *b);
LFP_API int  lfp_locked_broadcast_subscribe(lfp_locked_broadcast *b, lfp_locked_broadcast_sub *sub);
LFP_API void lfp_locked_broadcast_unsubscribe(lfp_locked_broadcast_sub *sub);
LFP_API int  lfp_locked_broadcast_try_recv(lfp_locked_broadcast_sub *sub, void **out,
                                           uint64_t *missed);
LFP_API int  lfp_locked_broadcast_recv(lfp_locked_broadcast_sub *sub, void **out,
                                       uint64_t *missed, int64_t deadline, lfp_cancel *cancel);

#ifdef __cplusplus
}
#endif
#endif
