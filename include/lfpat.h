/* SPDX-License-Identifier: BSD-2-Clause */
/* lfpat.h — umbrella header: every public lfpat header. */
#ifndef LFPAT_H
#define LFPAT_H

#include "lfpat/common.h"
#include "lfpat/version.h"
#include "lfpat/cancel.h"
#include "lfpat/eventcount.h"
#include "lfpat/counter.h"
#include "lfpat/locked.h"
#include "lfpat/spsc.h"
#include "lfpat/mpmc.h"
#include "lfpat/ppq.h"
#include "lfpat/mpsc.h"
#include "lfpat/once.h"
#include "lfpat/sem.h"
#include "lfpat/ratelimit.h"
#include "lfpat/keyed.h"
#include "lfpat/waitgroup.h"
#include "lfpat/future.h"
#include "lfpat/broadcast.h"
#include "lfpat/breaker.h"
#include "lfpat/pool.h"
#include "lfpat/mailbox.h"
#include "lfpat/rwlock.h"
#include "lfpat/seqlock.h"
#include "lfpat/snap.h"
/* @@ headers of later families go above this line @@ */

#endif
