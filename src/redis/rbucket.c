/* SPDX-License-Identifier: BSD-2-Clause */
/* lfp_rbucket: GCRA on the server, token leasing, failure policies. */
#include "internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

/* burst * T must stay below 2^50 so the script's values stay exact. */
#define MAX_BURST_NS (INT64_C(1) << 50)

/* ----------------------------------------------------------- init */

/* Set the LFP_RFAIL_LOCAL bucket to `share` of the global rate and burst
 * (burst at least 1 token). Returns 0 or EINVAL (share outside (0, 1], or a
 * local rate below LFP_BUCKET_MIN_RATE). */
static int set_local(lfp_rbucket *b, double share)
{
    if (!(share > 0 && share <= 1)) return EINVAL;
    double burst = floor((double)b->burst * share);
    uint32_t lburst = burst < 1 ? 1 : (uint32_t)burst;
    int e = lfp_bucket_set_rate(&b->local, b->rate * share);
    if (!e) e = lfp_bucket_set_burst(&b->local, lburst);
    return e;
}

int lfp_rbucket_init(lfp_rbucket *b, lfp_redis *r, const char *name, double rate_per_s,
                     uint32_t burst, const struct lfp_rbucket_opts *opts)
{
    if (!b || !r || !(rate_per_s > 0) || !isfinite(rate_per_s) || rate_per_s > 1e9 || burst == 0)
        return EINVAL;
    struct lfp_rbucket_opts o = opts ? *opts : (struct lfp_rbucket_opts){ 0 };
    if ((unsigned)o.on_failure > LFP_RFAIL_ERROR || o.lease_batch > burst) return EINVAL;
    int64_t t = (int64_t)ceil(1e9 / rate_per_s); /* rounded up: never faster than asked */
    if (t > MAX_BURST_NS / burst) return EINVAL;
    int e = lfp_redis_make_key(b->key, "lfp:rb:", name);
    if (e) return e;
    b->r = r;
    b->rate = rate_per_s;
    b->t_ns = t;
    b->burst = burst;
    b->o = o;
    /* A full bucket at the global rate, then scaled to the share. */
    if (lfp_bucket_init(&b->local, rate_per_s, burst) != 0 ||
        (o.on_failure == LFP_RFAIL_LOCAL && set_local(b, o.local_share) != 0))
        return EINVAL;
    atomic_init(&b->lease_tokens, 0);
    pthread_mutex_init(&b->lease_mu, NULL);
    return 0;
}

int lfp_rbucket_set_local_share(lfp_rbucket *b, double share)
{
    if (!b || b->o.on_failure != LFP_RFAIL_LOCAL) return EINVAL;
    return set_local(b, share);
}

void lfp_rbucket_destroy(lfp_rbucket *b)
{
    if (!b) return;
    pthread_mutex_destroy(&b->lease_mu);
    lfp_bucket_destroy(&b->local);
}

/* ----------------------------------------------------- the decision */

struct gcra_args {
    char t[24], burst[16], need[16], want[16];
    const char *argv[6];
};

static void gcra_argv(struct gcra_args *a, const lfp_rbucket *b, uint32_t need, uint32_t want)
{
    snprintf(a->t, sizeof a->t, "%lld", (long long)b->t_ns);
    snprintf(a->burst, sizeof a->burst, "%u", b->burst);
    snprintf(a->need, sizeof a->need, "%u", need);
    snprintf(a->want, sizeof a->want, "%u", want);
    const char *v[] = { "1", b->key, a->t, a->burst, a->need, a->want };
    for (int i = 0; i < 6; i++) a->argv[i] = v[i];
}

/* Decode {granted, remaining, retry_after, reset}; returns granted or -1. */
static long long gcra_decode(const redisReply *rep, struct lfp_rbucket_result *res)
{
    long long g, rem, retry, reset;
    if (!lfp_reply_int(rep, 0, &g) || !lfp_reply_int(rep, 1, &rem) || !lfp_reply_int(rep, 2, &retry) ||
        !lfp_reply_int(rep, 3, &reset))
        return -1;
    *res = (struct lfp_rbucket_result){
        .allowed = g > 0, .remaining = rem, .retry_after_ns = retry, .reset_ns = reset
    };
    return g;
}

/* The failure policy's answer to a take of n that Redis could not decide. */
static int degrade(lfp_rbucket *b, uint32_t n, int err, struct lfp_rbucket_result *res)
{
    enum lfp_rfail p = b->o.on_failure;
    /* LOCAL: a take above the local burst (EINVAL from lfp_bucket) is denied. */
    bool ok = p == LFP_RFAIL_OPEN || (p == LFP_RFAIL_LOCAL && lfp_bucket_take(&b->local, n) == 0);
    *res = (struct lfp_rbucket_result){ .allowed = ok, .degraded = true, .error = err };
    if (p == LFP_RFAIL_ERROR) return err;
    return ok ? 0 : EAGAIN;
}

/* One round trip: take need..want tokens. Returns granted (>= 0; 0 =
 * denied) with *res filled, or a negative errno. */
static long long server_take(lfp_rbucket *b, uint32_t need, uint32_t want, struct lfp_rbucket_result *res)
{
    struct gcra_args a;
    gcra_argv(&a, b, need, want);
    redisReply *rep = NULL;
    int e = lfp_redis_evalsha(b->r, LFP_RS_GCRA, 6, a.argv, 1, &rep);
    if (e) return -e;
    long long g = gcra_decode(rep, res);
    freeReplyObject(rep);
    return g < 0 ? -EPROTO : g;
}

/* Take n from the local lease if it holds n. Lock-free (CAS loop). */
static bool lease_take(lfp_rbucket *b, uint32_t n)
{
    int64_t have = atomic_load(&b->lease_tokens);
    while (have >= (int64_t)n)
        if (atomic_compare_exchange_weak(&b->lease_tokens, &have, have - (int64_t)n)) return true;
    return false;
}

/* Leasing path: serve from the lease, or refill it. One refill at a time
 * (lease_mu); a thread that finds a refill in progress goes to the server for
 * its own n instead of waiting, so no caller waits on another's round trip
 * (which could last a whole timeout during an outage). The lease never holds
 * more than lease_batch tokens: at refill it holds < n, and n of the granted
 * tokens are used at once. */
static long long leased_take(lfp_rbucket *b, uint32_t n, struct lfp_rbucket_result *res)
{
    if (lease_take(b, n)) {
        *res = (struct lfp_rbucket_result){ .allowed = true, .leased = true };
        return n;
    }
    if (pthread_mutex_trylock(&b->lease_mu) != 0) return server_take(b, n, n, res);
    long long g;
    if (lease_take(b, n)) {
        *res = (struct lfp_rbucket_result){ .allowed = true, .leased = true };
        g = n;
    } else {
        uint32_t want = b->o.lease_batch > n ? b->o.lease_batch : n;
        g = server_take(b, n, want, res);
        if (g > 0) {
            atomic_fetch_add(&b->lease_tokens, g - (long long)n);
            res->remaining += atomic_load(&b->lease_tokens);
        }
    }
    pthread_mutex_unlock(&b->lease_mu);
    return g;
}

int lfp_rbucket_take(lfp_rbucket *b, uint32_t n, struct lfp_rbucket_result *res)
{
    struct lfp_rbucket_result scratch;
    if (!res) res = &scratch;
    if (!b || n == 0 || n > b->burst) return EINVAL;
    long long g = b->o.lease_batch ? leased_take(b, n, res) : server_take(b, n, n, res);
    if (g < 0) return degrade(b, n, (int)-g, res);
    return g > 0 ? 0 : EAGAIN;
}

int lfp_rbucket_take_pipelined(lfp_rbucket *b, uint32_t n, unsigned count, int *decisions)
{
    if (!b || !decisions || n == 0 || n > b->burst || count == 0 || count > 4096) return -EINVAL;
    redisReply **rep = malloc(count * sizeof *rep);
    if (!rep) return -ENOMEM;
    struct gcra_args a;
    gcra_argv(&a, b, n, n);
    int e = lfp_redis_evalsha(b->r, LFP_RS_GCRA, 6, a.argv, count, rep);
    int allowed = 0;
    for (unsigned i = 0; i < count; i++) {
        struct lfp_rbucket_result res;
        long long g = e ? -1 : gcra_decode(rep[i], &res);
        if (!e) freeReplyObject(rep[i]);
        decisions[i] = g < 0 ? degrade(b, n, e ? e : EPROTO, &res) : g > 0 ? 0 : EAGAIN;
        allowed += decisions[i] == 0;
    }
    free(rep);
    if (e && b->o.on_failure == LFP_RFAIL_ERROR) return -e;
    return allowed;
}
