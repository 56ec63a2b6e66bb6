/* lfp_rsem: distributed weighted semaphore with leases (script in scripts.c). */
#include "internal.h"

#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

int lfp_rsem_init(lfp_rsem *s, lfp_redis *r, const char *name, int64_t capacity, int64_t lease_ns)
{
    if (!s || !r || capacity <= 0 || lease_ns <= 0 || capacity > (INT64_C(1) << 50)) return EINVAL;
    int e = lfp_redis_make_key(s->key, "lfp:rs:", name);
    if (e) return e;
    s->r = r;
    s->capacity = capacity;
    s->lease_ms = lease_ns / 1000000 + (lease_ns % 1000000 != 0); /* rounded up */
    return 0;
}

void lfp_rsem_destroy(lfp_rsem *s)
{
    (void)s;
}

/* Run op on the semaphore: returns 0 with *rep, or an errno. */
static int sem_call(lfp_rsem *s, const char *op, int64_t weight, const char *id, redisReply **rep)
{
    char wkey[LFP_REDIS_NAME_MAX + 24], cap[24], w[24], ms[24];
    snprintf(wkey, sizeof wkey, "%s:w", s->key);
    snprintf(cap, sizeof cap, "%lld", (long long)s->capacity);
    snprintf(w, sizeof w, "%lld", (long long)weight);
    snprintf(ms, sizeof ms, "%lld", (long long)s->lease_ms);
    const char *argv[] = { "2", s->key, wkey, op, cap, w, id, ms };
    return lfp_redis_evalsha(s->r, LFP_RS_SEM, 8, argv, 1, rep);
}

/* Run op; returns the reply's first integer (1 = done, 0 = not), or -errno.
 * Stores the second (the weight held) in *held when asked. */
static long long sem_op(lfp_rsem *s, const char *op, int64_t weight, const char *id, long long *held)
{
    redisReply *rep = NULL;
    int e = sem_call(s, op, weight, id, &rep);
    if (e) return -e;
    long long ok;
    if (!lfp_reply_int(rep, 0, &ok)) ok = -EPROTO;
    if (held && ok >= 0 && !lfp_reply_int(rep, 1, held)) ok = -EPROTO;
    freeReplyObject(rep);
    return ok;
}

static int new_id(char id[40])
{
    unsigned char rnd[16];
    if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd) return EIO;
    for (int i = 0; i < 16; i++) snprintf(id + 2 * i, 3, "%02x", rnd[i]);
    return 0;
}

int lfp_rsem_try_acquire(lfp_rsem *s, int64_t weight, lfp_rsem_lease *lease)
{
    if (!s || !lease || weight <= 0 || weight > s->capacity) return EINVAL;
    lfp_rsem_lease l = { .weight = weight };
    int e = new_id(l.id);
    if (e) return e;
    long long ok = sem_op(s, "acq", weight, l.id, NULL);
    if (ok < 0) return (int)-ok;
    if (!ok) return EAGAIN;
    *lease = l;
    return 0;
}

int lfp_rsem_acquire(lfp_rsem *s, int64_t weight, lfp_rsem_lease *lease, int64_t deadline)
{
    int64_t backoff = 1000000; /* 1 ms, doubling to 50 ms */
    for (;;) {
        int e = lfp_rsem_try_acquire(s, weight, lease);
        if (e != EAGAIN && e != EIO) return e;
        int64_t now = lfp_now();
        if (now >= deadline) return e == EIO ? EIO : ETIMEDOUT;
        int64_t d = deadline - now < backoff ? deadline - now : backoff;
        struct timespec ts = { .tv_sec = d / 1000000000, .tv_nsec = d % 1000000000 };
        nanosleep(&ts, NULL); /* no server-side wake-up exists to wait on */
        if (backoff < 50000000) backoff *= 2;
    }
}

static int lease_op(lfp_rsem *s, const lfp_rsem_lease *lease, const char *op)
{
    if (!s || !lease || strnlen(lease->id, sizeof lease->id) != 32) return EINVAL;
    long long ok = sem_op(s, op, 0, lease->id, NULL);
    if (ok < 0) return (int)-ok;
    return ok ? 0 : ETIMEDOUT;
}

int lfp_rsem_renew(lfp_rsem *s, const lfp_rsem_lease *lease)
{
    return lease_op(s, lease, "renew");
}

int lfp_rsem_release(lfp_rsem *s, const lfp_rsem_lease *lease)
{
    return lease_op(s, lease, "rel");
}

int64_t lfp_rsem_held(lfp_rsem *s)
{
    if (!s) return -EINVAL;
    long long held = 0;
    long long ok = sem_op(s, "held", 0, "0", &held);
    return ok < 0 ? ok : held;
}
