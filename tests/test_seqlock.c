/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit tests: lfpat/seqlock.h and its twin lfp_locked_seqlock. Every
 * contract test runs against both through one table of operations; a
 * differential run checks them against each other and against a plain
 * model (a buffer and a write count). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>

#include "lfpat.h"

typedef struct sl_ops {
    const char *name;
    int (*init)(void *, size_t, const void *);
    void (*destroy)(void *);
    size_t (*size)(void *);
    int (*read)(void *, void *);
    int (*read_version)(void *, void *, uint64_t *);
    int (*try_read)(void *, void *);
    int (*read_n)(void *, void *, size_t);
    int (*write)(void *, const void *, int64_t, lfp_cancel *);
    int (*try_write)(void *, const void *);
    int (*begin)(void *, void *, int64_t, lfp_cancel *);
    int (*commit)(void *, const void *);
    int (*abort_)(void *);
    uint32_t (*parked)(void *);   /* writers parked with a token */
} sl_ops;

#define SL_ADAPTERS(tag, P, T)                                                                 \
    static int tag##_init(void *s, size_t n, const void *v) { return P##_init(s, n, v); }      \
    static void tag##_destroy(void *s) { P##_destroy(s); }                                     \
    static size_t tag##_size(void *s) { return P##_size(s); }                                  \
    static int tag##_read(void *s, void *d) { return P##_read(s, d); }                         \
    static int tag##_read_version(void *s, void *d, uint64_t *v)                               \
    {                                                                                          \
        return P##_read_version(s, d, v);                                                      \
    }                                                                                          \
    static int tag##_try_read(void *s, void *d) { return P##_try_read(s, d); }                 \
    static int tag##_read_n(void *s, void *d, size_t n) { return P##_read_n(s, d, n); }        \
    static int tag##_write(void *s, const void *v, int64_t dl, lfp_cancel *c)                  \
    {                                                                                          \
        return P##_write(s, v, dl, c);                                                         \
    }                                                                                          \
    static int tag##_try_write(void *s, const void *v) { return P##_try_write(s, v); }         \
    static int tag##_begin(void *s, void *b, int64_t dl, lfp_cancel *c)                        \
    {                                                                                          \
        return P##_write_begin(s, b, dl, c);                                                   \
    }                                                                                          \
    static int tag##_commit(void *s, const void *b) { return P##_write_commit(s, b); }         \
    static int tag##_abort(void *s) { return P##_write_abort(s); }
#define SL_OPS(tag, P)                                                                         \
    { #P, tag##_init, tag##_destroy, tag##_size, tag##_read, tag##_read_version,               \
      tag##_try_read, tag##_read_n, tag##_write, tag##_try_write, tag##_begin, tag##_commit,   \
      tag##_abort, tag##_parked }

SL_ADAPTERS(lf, lfp_seqlock, lfp_seqlock)
SL_ADAPTERS(lk, lfp_locked_seqlock, lfp_locked_seqlock)
static uint32_t lf_parked(void *s) { return atomic_load(&((lfp_seqlock *)s)->writers.waiters); }
static uint32_t lk_parked(void *s)
{
    return atomic_load(&((lfp_locked_seqlock *)s)->sync.cancel_ec.waiters);
}

static const sl_ops impls[] = { SL_OPS(lf, lfp_seqlock), SL_OPS(lk, lfp_locked_seqlock) };
#define FOR_EACH_IMPL for (const sl_ops *o = impls; o < impls + 2; o++)

typedef union { lfp_seqlock a; lfp_locked_seqlock b; } any_sl;

/* A value of n bytes that depends on (tag, n): byte i = tag * 31 + i. */
static void fill(unsigned char *p, size_t n, unsigned tag)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (unsigned char)(tag * 31u + i);
}

static void bad_input(void **state)
{
    (void)state;
    unsigned char buf[16] = { 0 };
    uint64_t v;
    FOR_EACH_IMPL {
        any_sl s;
        assert_int_equal(o->init(NULL, 8, NULL), EINVAL);
        assert_int_equal(o->init(&s, 0, NULL), EINVAL);
        assert_int_equal(o->init(&s, LFP_SEQLOCK_MAX_SIZE + 1, NULL), EINVAL);
        assert_int_equal(o->init(&s, SIZE_MAX, NULL), EINVAL);
        assert_int_equal(o->read(NULL, buf), EINVAL);
        assert_int_equal(o->read_version(NULL, buf, &v), EINVAL);
        assert_int_equal(o->try_read(NULL, buf), EINVAL);
        assert_int_equal(o->read_n(NULL, buf, 8), EINVAL);
        assert_int_equal(o->write(NULL, buf, LFP_FOREVER, NULL), EINVAL);
        assert_int_equal(o->try_write(NULL, buf), EINVAL);
        assert_int_equal(o->begin(NULL, buf, LFP_FOREVER, NULL), EINVAL);
        assert_int_equal(o->commit(NULL, buf), EINVAL);
        assert_int_equal(o->abort_(NULL), EINVAL);
        o->destroy(NULL);

        assert_int_equal(o->init(&s, 8, NULL), 0);
        assert_int_equal(o->read(&s, NULL), EINVAL);
        assert_int_equal(o->read_version(&s, NULL, &v), EINVAL);
        assert_int_equal(o->read_version(&s, buf, NULL), EINVAL);
        assert_int_equal(o->try_read(&s, NULL), EINVAL);
        assert_int_equal(o->read_n(&s, NULL, 8), EINVAL);
        assert_int_equal(o->read_n(&s, buf, 7), EINVAL);    /* not the size */
        assert_int_equal(o->read_n(&s, buf, 16), EINVAL);
        assert_int_equal(o->write(&s, NULL, LFP_FOREVER, NULL), EINVAL);
        assert_int_equal(o->try_write(&s, NULL), EINVAL);
        assert_int_equal(o->begin(&s, NULL, LFP_FOREVER, NULL), EINVAL);
        assert_int_equal(o->begin(&s, buf, LFP_FOREVER, NULL), 0);
        assert_int_equal(o->commit(&s, NULL), EINVAL);   /* the write stays open */
        assert_int_equal(o->abort_(&s), 0);
        o->destroy(&s);
    }
}

/* Every size class: a word, a partial word, a line, across lines, the
 * maximum. The bytes past size in the caller's buffer are never written. */
static void round_trip_every_size(void **state)
{
    (void)state;
    static const size_t sizes[] = { 1, 7, 8, 9, 63, 64, 65, 1000, LFP_SEQLOCK_MAX_SIZE };
    static unsigned char in[LFP_SEQLOCK_MAX_SIZE], out[LFP_SEQLOCK_MAX_SIZE + 8];
    FOR_EACH_IMPL {
        for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
            size_t n = sizes[k];
            any_sl s;
            uint64_t v = 99;
            assert_int_equal(o->init(&s, n, NULL), 0);
            assert_int_equal(o->size(&s), n);
            memset(out, 0xAA, sizeof out);
            assert_int_equal(o->read_version(&s, out, &v), 0);
            assert_int_equal(v, 0);
            for (size_t i = 0; i < n; i++)
                assert_int_equal(out[i], 0);          /* NULL initial: zero bytes */
            for (size_t i = n; i < n + 8; i++)
                assert_int_equal(out[i], 0xAA);       /* no overrun */
            for (unsigned w = 1; w <= 5; w++) {
                fill(in, n, w);
                assert_int_equal(w % 2 ? o->write(&s, in, LFP_FOREVER, NULL)
                                       : o->try_write(&s, in), 0);
                memset(out, 0xAA, sizeof out);
                assert_int_equal(o->read_version(&s, out, &v), 0);
                assert_int_equal(v, w);
                assert_memory_equal(out, in, n);
                assert_int_equal(out[n], 0xAA);
                memset(out, 0, n);
                assert_int_equal(o->try_read(&s, out), 0);   /* quiescent: never EAGAIN */
                assert_memory_equal(out, in, n);
                assert_int_equal(o->read(&s, out), 0);
                assert_memory_equal(out, in, n);
                memset(out, 0xAA, sizeof out);
                assert_int_equal(o->read_n(&s, out, n), 0);
                assert_memory_equal(out, in, n);
                assert_int_equal(out[n], 0xAA);
            }
            o->destroy(&s);
            /* an initial value is version 0 */
            fill(in, n, 77);
            assert_int_equal(o->init(&s, n, in), 0);
            assert_int_equal(o->read_version(&s, out, &v), 0);
            assert_int_equal(v, 0);
            assert_memory_equal(out, in, n);
            o->destroy(&s);
        }
    }
}

static void begin_commit_abort(void **state)
{
    (void)state;
    unsigned char a[20], b[20], buf[20], out[20];
    uint64_t v;
    fill(a, sizeof a, 1);
    fill(b, sizeof b, 2);
    FOR_EACH_IMPL {
        any_sl s;
        assert_int_equal(o->init(&s, sizeof a, a), 0);
        /* nothing open */
        assert_int_equal(o->commit(&s, b), EPERM);
        assert_int_equal(o->abort_(&s), EPERM);
        assert_int_equal(o->read_version(&s, out, &v), 0);
        assert_int_equal(v, 0);
        assert_memory_equal(out, a, sizeof a);

        /* begin copies the current value; readers see it until commit */
        memset(buf, 0, sizeof buf);
        assert_int_equal(o->begin(&s, buf, LFP_FOREVER, NULL), 0);
        assert_memory_equal(buf, a, sizeof a);
        assert_int_equal(o->begin(&s, buf, LFP_FOREVER, NULL), EDEADLK);
        assert_int_equal(o->write(&s, b, LFP_FOREVER, NULL), EDEADLK);
        assert_int_equal(o->try_write(&s, b), EDEADLK);
        buf[3] ^= 0xFF;
        assert_int_equal(o->read_version(&s, out, &v), 0);
        assert_int_equal(v, 0);
        assert_memory_equal(out, a, sizeof a);
        assert_int_equal(o->commit(&s, buf), 0);
        assert_int_equal(o->read_version(&s, out, &v), 0);
        assert_int_equal(v, 1);
        assert_memory_equal(out, buf, sizeof buf);
        assert_int_equal(o->commit(&s, buf), EPERM);

        /* abort leaves value and version as they were, and frees the lock */
        assert_int_equal(o->begin(&s, buf, LFP_FOREVER, NULL), 0);
        buf[0] ^= 0xFF;
        assert_int_equal(o->abort_(&s), 0);
        assert_int_equal(o->abort_(&s), EPERM);
        assert_int_equal(o->read_version(&s, out, &v), 0);
        assert_int_equal(v, 1);
        buf[0] ^= 0xFF;
        assert_memory_equal(out, buf, sizeof buf);
        assert_int_equal(o->try_write(&s, b), 0);
        assert_int_equal(o->read_version(&s, out, &v), 0);
        assert_int_equal(v, 2);
        assert_memory_equal(out, b, sizeof b);
        o->destroy(&s);
    }
}

/* ---- another thread's write while this one holds the writer lock */

struct other {
    const sl_ops *o;
    void *s;
    const void *src;
    int64_t deadline;
    lfp_cancel *cancel;
    int rc;
    int rc_commit, rc_abort;
};

static void *other_write(void *arg)
{
    struct other *t = arg;
    t->rc = t->o->write(t->s, t->src, t->deadline, t->cancel);
    return NULL;
}

static void *other_misuse(void *arg)
{
    struct other *t = arg;
    t->rc = t->o->try_write(t->s, t->src);
    t->rc_commit = t->o->commit(t->s, t->src);
    t->rc_abort = t->o->abort_(t->s);
    return NULL;
}

/* Bounded wait (no sleep as synchronisation) until a writer is parked. */
static void await_parked(const sl_ops *o, void *s)
{
    int64_t deadline = lfp_after(20 * 1000000000LL);
    while (o->parked(s) == 0) {
        assert_true(lfp_now() < deadline);
        sched_yield();   /* the writer may need this CPU to get parked */
    }
}

static void writers_wait_time_out_and_cancel(void **state)
{
    (void)state;
    unsigned char a[16], b[16], buf[16], out[16];
    uint64_t v;
    fill(a, sizeof a, 3);
    fill(b, sizeof b, 4);
    FOR_EACH_IMPL {
        any_sl s;
        lfp_cancel fired = LFP_CANCEL_INIT, live = LFP_CANCEL_INIT;
        lfp_cancel_fire(&fired, 9);
        assert_int_equal(o->init(&s, sizeof a, a), 0);
        assert_int_equal(o->begin(&s, buf, LFP_FOREVER, NULL), 0);

        /* another thread: EAGAIN for try, EPERM for commit/abort of a write
         * it does not own */
        struct other t = { o, &s, b, 0, NULL, -1, -1, -1 };
        pthread_t th;
        pthread_create(&th, NULL, other_misuse, &t);
        pthread_join(th, NULL);
        assert_int_equal(t.rc, EAGAIN);
        assert_int_equal(t.rc_commit, EPERM);
        assert_int_equal(t.rc_abort, EPERM);

        /* a passed deadline and a fired token, while the lock is held */
        t = (struct other){ o, &s, b, lfp_now() - 1, NULL, -1, 0, 0 };
        pthread_create(&th, NULL, other_write, &t);
        pthread_join(th, NULL);
        assert_int_equal(t.rc, ETIMEDOUT);
        t = (struct other){ o, &s, b, lfp_after(1000000), NULL, -1, 0, 0 };  /* 1 ms */
        pthread_create(&th, NULL, other_write, &t);
        pthread_join(th, NULL);
        assert_int_equal(t.rc, ETIMEDOUT);
        t = (struct other){ o, &s, b, LFP_FOREVER, &fired, -1, 0, 0 };
        pthread_create(&th, NULL, other_write, &t);
        pthread_join(th, NULL);
        assert_int_equal(t.rc, ECANCELED);

        /* a parked writer is woken by its token */
        assert_int_equal(lfp_cancel_init(&live, NULL), 0);
        t = (struct other){ o, &s, b, LFP_FOREVER, &live, -1, 0, 0 };
        pthread_create(&th, NULL, other_write, &t);
        await_parked(o, &s);
        lfp_cancel_fire(&live, 1);
        pthread_join(th, NULL);
        assert_int_equal(t.rc, ECANCELED);
        lfp_cancel_destroy(&live);

        /* nothing was written by the failed writers */
        assert_int_equal(o->read_version(&s, out, &v), 0);
        assert_int_equal(v, 0);
        assert_memory_equal(out, a, sizeof a);

        /* a parked writer proceeds once the lock is released: the commit's
         * wake-up, not a close, ends its wait */
        assert_int_equal(lfp_cancel_init(&live, NULL), 0);
        t = (struct other){ o, &s, b, LFP_FOREVER, &live, -1, 0, 0 };
        pthread_create(&th, NULL, other_write, &t);
        await_parked(o, &s);
        buf[0] ^= 1;
        assert_int_equal(o->commit(&s, buf), 0);
        pthread_join(th, NULL);
        assert_int_equal(t.rc, 0);
        assert_int_equal(o->read_version(&s, out, &v), 0);
        assert_int_equal(v, 2);
        assert_memory_equal(out, b, sizeof b);
        lfp_cancel_destroy(&live);

        /* success preferred: a free lock is taken with a passed deadline and
         * a fired token */
        assert_int_equal(o->write(&s, a, 0, &fired), 0);
        assert_int_equal(o->begin(&s, buf, 0, &fired), 0);
        assert_int_equal(o->abort_(&s), 0);
        o->destroy(&s);
    }
}

/* ---- readers never wait for an open write (the preempted writer) */

#define HELD_READS 20000

static _Atomic int held_finished;   /* readers done (the bounded wait's condition) */

struct held_reader {
    const sl_ops *o;
    void *s;
    const unsigned char *expect;
    long good;
};

static void *held_read(void *arg)
{
    struct held_reader *r = arg;
    unsigned char out[24];
    uint64_t v;
    for (int i = 0; i < HELD_READS; i++) {
        if (r->o->read_version(r->s, out, &v) == 0 && v == 0 &&
            memcmp(out, r->expect, sizeof out) == 0)
            r->good++;
    }
    atomic_fetch_add(&held_finished, 1);
    return NULL;
}

/* The writer holds its write open (begin) for as long as the readers run:
 * each reader completes all its reads, every one returning the old value.
 * A seqlock whose readers waited for the writer would hang here. */
static void readers_complete_while_write_open(void **state)
{
    (void)state;
    unsigned char a[24], buf[24];
    fill(a, sizeof a, 5);
    FOR_EACH_IMPL {
        any_sl s;
        assert_int_equal(o->init(&s, sizeof a, a), 0);
        assert_int_equal(o->begin(&s, buf, LFP_FOREVER, NULL), 0);
        buf[1] ^= 0x55;
        struct held_reader r[3];
        pthread_t th[3];
        for (int i = 0; i < 3; i++) {
            r[i] = (struct held_reader){ o, &s, a, 0 };
            pthread_create(&th[i], NULL, held_read, &r[i]);
        }
        /* bounded: a reader stuck behind the open write fails the test
         * after 20 s instead of hanging it (then the join below is never
         * reached; the process exits with the failure) */
        int64_t deadline = lfp_after(20 * 1000000000LL);
        while (atomic_load(&held_finished) < 3) {
            assert_true(lfp_now() < deadline);
            sched_yield();
        }
        for (int i = 0; i < 3; i++) {
            pthread_join(th[i], NULL);
            assert_int_equal(r[i].good, HELD_READS);
        }
        atomic_store(&held_finished, 0);
        assert_int_equal(o->commit(&s, buf), 0);
        o->destroy(&s);
    }
}

/* The seqlock's try_read is one attempt: with a write opened, completed
 * and the next one opened between a reader's two loads of seq it fails.
 * White-box: the validity rule itself, at every distance. */
static void validity_rule(void **state)
{
    (void)state;
    for (uint64_t n = 0; n < 6; n++) {
        for (uint64_t odd = 0; odd < 2; odd++) {
            uint64_t s1 = 2 * n + odd;
            for (uint64_t s2 = s1; s2 < s1 + 6; s2++)
                assert_int_equal(lfp_seqlock_valid_(s1, s2), s2 < 2 * n + 3);
        }
    }
}

/* Differential: a random single-threaded sequence of every call on both
 * implementations and a plain model; every read and version agrees. */
static void differential(void **state)
{
    (void)state;
    enum { N = 37 };
    lfp_seqlock a;
    lfp_locked_seqlock b;
    unsigned char model[N], x[N], y[N], bx[N], by[N];
    uint64_t version = 0, va, vb;
    bool open = false;
    unsigned seed = 12345;
    memset(model, 0, sizeof model);
    assert_int_equal(lfp_seqlock_init(&a, N, NULL), 0);
    assert_int_equal(lfp_locked_seqlock_init(&b, N, NULL), 0);
    for (int step = 0; step < 20000; step++) {
        seed = seed * 1103515245u + 12345u;
        unsigned op = (seed >> 16) % 6;
        fill(x, N, seed >> 8);
        int ra, rb;
        switch (op) {
        case 0:
            ra = lfp_seqlock_write(&a, x, LFP_FOREVER, NULL);
            rb = lfp_locked_seqlock_write(&b, x, LFP_FOREVER, NULL);
            if (!open) {
                memcpy(model, x, N);
                version++;
            }
            assert_int_equal(ra, open ? EDEADLK : 0);
            break;
        case 1:
            ra = lfp_seqlock_try_write(&a, x);
            rb = lfp_locked_seqlock_try_write(&b, x);
            if (!open) {
                memcpy(model, x, N);
                version++;
            }
            assert_int_equal(ra, open ? EDEADLK : 0);
            break;
        case 2:
            ra = lfp_seqlock_write_begin(&a, bx, LFP_FOREVER, NULL);
            rb = lfp_locked_seqlock_write_begin(&b, by, LFP_FOREVER, NULL);
            assert_int_equal(ra, open ? EDEADLK : 0);
            if (!open) {
                assert_memory_equal(bx, model, N);
                assert_memory_equal(by, model, N);
            }
            open = true;
            break;
        case 3:
            ra = lfp_seqlock_write_commit(&a, x);
            rb = lfp_locked_seqlock_write_commit(&b, x);
            assert_int_equal(ra, open ? 0 : EPERM);
            if (open) {
                memcpy(model, x, N);
                version++;
            }
            open = false;
            break;
        case 4:
            ra = lfp_seqlock_write_abort(&a);
            rb = lfp_locked_seqlock_write_abort(&b);
            assert_int_equal(ra, open ? 0 : EPERM);
            open = false;
            break;
        default:
            ra = lfp_seqlock_read_version(&a, x, &va);
            rb = lfp_locked_seqlock_read_version(&b, y, &vb);
            assert_int_equal(ra, 0);
            assert_memory_equal(x, model, N);
            assert_memory_equal(y, model, N);
            assert_int_equal(va, version);
            assert_int_equal(vb, version);
            break;
        }
        assert_int_equal(ra, rb);
    }
    if (open)
        assert_int_equal(lfp_seqlock_write_abort(&a), lfp_locked_seqlock_write_abort(&b));
    lfp_seqlock_destroy(&a);
    lfp_locked_seqlock_destroy(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(bad_input),
        cmocka_unit_test(round_trip_every_size),
        cmocka_unit_test(begin_commit_abort),
        cmocka_unit_test(writers_wait_time_out_and_cancel),
        cmocka_unit_test(readers_complete_while_write_open),
        cmocka_unit_test(validity_rule),
        cmocka_unit_test(differential),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
