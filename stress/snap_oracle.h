/* SPDX-License-Identifier: BSD-2-Clause */
/* stress/snap_oracle.h — the implementation side of stress_snap_oracle.
 *
 * stress_snap_oracle drives one schedule of read sections and publishes
 * through this adapter and checks the outcome against the specification of
 * RCU-style reclamation. It knows nothing of how an implementation waits;
 * it sees only the versions it built, the calls it made and the frees the
 * implementation performs (snap_oracle_free, the implementation's reclaim
 * callback). The adapters: lfp_snap and its twin (stress_snap_oracle.c),
 * liburcu memb (snap_oracle_urcu.c) and the broken controls.
 *
 * Calls are made as documented here; the oracle serialises publishes (one
 * writer mutex: publishes are ordered), so publish and publish_async never
 * run concurrently with each other, but everything else does. */
#ifndef LFP_STRESS_SNAP_ORACLE_H
#define LFP_STRESS_SNAP_ORACLE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

enum { ORACLE_NCHECK = 4 };

/* A version, owned by the oracle (a pool freed after the phase, so a
 * version freed early stays readable memory and the checker, not a
 * sanitizer, says what went wrong). */
typedef struct oracle_ver {
    _Atomic int state;       /* enum oracle_state; set by the oracle only */
    _Atomic int holders;     /* readers inside a section that hold this version */
    uint64_t seq;            /* publish order; plain, written before publish */
    uint64_t check[ORACLE_NCHECK];   /* derived from seq: a torn read shows */
} oracle_ver;

typedef struct snap_impl {
    const char *name;
    bool deadlines;          /* publish honours its deadline (else it waits until done) */
    void (*init)(oracle_ver *initial);
    /* Free every version still held (the current one), no reader inside. */
    void (*destroy)(void);
    void (*thread_init)(void);   /* every thread that calls in, before its first call */
    void (*thread_fini)(void);
    /* Open a (possibly nested) read section; return the current version. */
    oracle_ver *(*enter)(void);
    void (*leave)(void);
    /* Publish next and wait for the grace period of the version it
     * replaced, then free it. 0, or ETIMEDOUT when the deadline passed
     * (published; the old version is freed later). */
    int (*publish)(oracle_ver *next, int64_t deadline);
    /* Publish next; the old version is freed after its grace period by
     * the implementation (a later publish, reclaim, or its own thread). */
    void (*publish_async)(oracle_ver *next);
    void (*reclaim)(void);   /* free what is due, without waiting; may be NULL */
    /* After every reader has left: free every pending version. Returns 0,
     * or non-zero if something stayed pending. */
    int (*drain)(void);
} snap_impl;

/* The implementation frees version v (its reclaim callback calls this
 * instead of free). Thread-safe; checks the specification. */
void snap_oracle_free(oracle_ver *v);

#ifdef LFP_ORACLE_URCU
extern const snap_impl snap_oracle_urcu_memb;   /* snap_oracle_urcu.c */
#endif

#endif
