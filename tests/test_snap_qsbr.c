/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit tests: lfp_snap's quiescent-state flavour (lfp_snap_online,
 * lfp_snap_offline, lfp_snap_quiescent; lfpat/snap.h).
 *
 * The cell group runs in this process; the shared group runs first in a
 * forked child whose membarrier(2) a seccomp filter makes fail with ENOSYS
 * before lfpat first asks for it, so every thread there uses the shared
 * reader count (the fallback lfpat/snap.h describes). Waits between
 * threads are semaphores or the kernel's view of a parked writer
 * (tests/parked.h), never a sleep. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdlib.h>

#include "lfpat.h"
#include "nomembarrier.h"
#include "parked.h"
#include "snap_versions.h"

static _Atomic int frees;

static void log_free(void *v, void *arg)
{
    (void)arg;
    poison_and_free(v);
    atomic_fetch_add(&frees, 1);
}

static void init_snap(lfp_snap *s, int v)
{
    atomic_store(&frees, 0);
    assert_int_equal(lfp_snap_init(s, ver(v), log_free, NULL), 0);
}

/* ------------------------------------------------------------ one thread */

/* Codes before, while and after online; get is the read while online. */
static void codes(void **state)
{
    (void)state;
    lfp_snap s;
    init_snap(&s, 0);
    assert_int_equal(lfp_snap_quiescent(), EPERM);   /* never entered */
    assert_int_equal(lfp_snap_offline(), EPERM);
    assert_int_equal(lfp_snap_online(), 0);
    assert_null(lfp_snap_get(NULL));
    assert_int_equal(*(int *)lfp_snap_get(&s), 0);
    assert_int_equal(lfp_snap_quiescent(), 0);
    assert_int_equal(lfp_snap_quiescent(), 0);   /* nothing new: the skip */
    /* Online is a read section: a synchronous writer would wait for itself. */
    int *v = ver(1);
    assert_int_equal(lfp_snap_publish(&s, v, LFP_FOREVER, NULL), EDEADLK);
    assert_int_equal(lfp_snap_update(&s, copy_plus_one, NULL, LFP_FOREVER, NULL), EDEADLK);
    /* publish_async is allowed; this thread's own mark holds the old one. */
    assert_int_equal(lfp_snap_publish_async(&s, v), 0);
    assert_int_equal(lfp_snap_reclaim(&s), EAGAIN);
    assert_int_equal(atomic_load(&frees), 0);
    assert_int_equal(*(int *)lfp_snap_get(&s), 1);
    assert_int_equal(lfp_snap_quiescent(), 0);   /* drops version 0 */
    assert_int_equal(lfp_snap_reclaim(&s), 0);
    assert_int_equal(atomic_load(&frees), 1);
    assert_int_equal(lfp_snap_offline(), 0);
    assert_int_equal(lfp_snap_offline(), EPERM);
    assert_int_equal(lfp_snap_quiescent(), EPERM);
    assert_int_equal(lfp_snap_publish(&s, ver(2), LFP_FOREVER, NULL), 0);   /* offline */
    assert_int_equal(atomic_load(&frees), 2);
    lfp_snap_destroy(&s);
    assert_int_equal(atomic_load(&frees), 3);
}

/* Online and sections nest both ways; quiescent refuses while a nested
 * level holds versions. */
static void nesting(void **state)
{
    (void)state;
    lfp_snap s;
    init_snap(&s, 0);
    assert_int_equal(lfp_snap_online(), 0);
    int *held = lfp_snap_enter(&s);
    assert_int_equal(lfp_snap_quiescent(), EBUSY);
    assert_int_equal(lfp_snap_publish_async(&s, ver(1)), 0);
    assert_int_equal(lfp_snap_quiescent(), EBUSY);   /* still nothing reported */
    assert_int_equal(lfp_snap_reclaim(&s), EAGAIN);
    assert_int_equal(*held, 0);
    assert_int_equal(lfp_snap_leave(&s), 0);
    assert_int_equal(lfp_snap_online(), 0);          /* online twice: two levels */
    assert_int_equal(lfp_snap_quiescent(), EBUSY);
    assert_int_equal(lfp_snap_offline(), 0);
    assert_int_equal(lfp_snap_quiescent(), 0);
    assert_int_equal(lfp_snap_reclaim(&s), 0);
    assert_int_equal(atomic_load(&frees), 1);
    assert_int_equal(lfp_snap_offline(), 0);
    /* Online inside a section: a level of that section, closed by offline. */
    assert_non_null(lfp_snap_enter(&s));
    assert_int_equal(lfp_snap_online(), 0);
    assert_int_equal(lfp_snap_quiescent(), EBUSY);
    assert_int_equal(lfp_snap_offline(), 0);
    assert_int_equal(lfp_snap_quiescent(), 0);   /* the enter's level is depth 1 */
    assert_int_equal(lfp_snap_leave(&s), 0);
    assert_int_equal(lfp_snap_leave(&s), EPERM);
    lfp_snap_destroy(&s);
    assert_int_equal(atomic_load(&frees), 2);
}

/* Online at the nesting bound is refused without entering. */
static void depth_bound(void **state)
{
    (void)state;
    lfp_snap s;
    init_snap(&s, 0);
    assert_int_equal(lfp_snap_online(), 0);
    for (unsigned i = 1; i < 65535u; i++)
        assert_non_null(lfp_snap_enter(&s));
    assert_int_equal(lfp_snap_online(), EOVERFLOW);
    assert_null(lfp_snap_enter(&s));
    for (unsigned i = 1; i < 65535u; i++)
        assert_int_equal(lfp_snap_leave(&s), 0);
    assert_int_equal(lfp_snap_quiescent(), 0);
    assert_int_equal(lfp_snap_offline(), 0);
    assert_int_equal(lfp_snap_offline(), EPERM);
    lfp_snap_destroy(&s);
}

/* ------------------------------------------------------------ two threads */

/* An online reader driven step by step: each step is one command. */
enum { CMD_QUIESCENT, CMD_OFFLINE };
typedef struct {
    lfp_snap *s;
    int seen;          /* the version the reader last read */
    int cmd;
    lfp_sem go, done;
} reader;

static void *reader_main(void *arg)
{
    reader *r = arg;
    assert_int_equal(lfp_snap_online(), 0);
    int *p = lfp_snap_get(r->s);
    r->seen = *p;
    lfp_sem_release(&r->done);
    for (;;) {
        assert_int_equal(lfp_sem_acquire(&r->go, LFP_FOREVER, NULL), 0);
        assert_int_equal(*p, r->seen);   /* held since the last report: not freed */
        int cmd = r->cmd;
        if (cmd == CMD_OFFLINE) {
            assert_int_equal(lfp_snap_offline(), 0);
            lfp_sem_release(&r->done);
            return NULL;
        }
        assert_int_equal(lfp_snap_quiescent(), 0);
        p = lfp_snap_get(r->s);
        r->seen = *p;
        lfp_sem_release(&r->done);
    }
}

static void start_reader(reader *r, lfp_snap *s, pthread_t *t)
{
    r->s = s;
    assert_int_equal(lfp_sem_init(&r->go, 1), 0);
    assert_int_equal(lfp_sem_init(&r->done, 1), 0);
    assert_int_equal(lfp_sem_try_acquire(&r->go), 0);
    assert_int_equal(lfp_sem_try_acquire(&r->done), 0);
    assert_int_equal(pthread_create(t, NULL, reader_main, r), 0);
    assert_int_equal(lfp_sem_acquire(&r->done, LFP_FOREVER, NULL), 0);
}

/* Tell the reader to do cmd; with wait, until it did. */
static void command(reader *r, int cmd, bool wait)
{
    r->cmd = cmd;
    lfp_sem_release(&r->go);
    if (wait)
        assert_int_equal(lfp_sem_acquire(&r->done, LFP_FOREVER, NULL), 0);
}

static void stop_reader(reader *r, pthread_t t)
{
    command(r, CMD_OFFLINE, true);
    pthread_join(t, NULL);
    lfp_sem_destroy(&r->go);
    lfp_sem_destroy(&r->done);
}

/* A writer's grace period ends only after the online reader reports: until
 * then publish times out (published, old pending), after it the old one is
 * freed; every later publish waits for the next report. */
static void writer_waits_for_report(void **state)
{
    (void)state;
    lfp_snap s;
    init_snap(&s, 0);
    reader r = { 0 };
    pthread_t t;
    start_reader(&r, &s, &t);
    assert_int_equal(r.seen, 0);
    assert_int_equal(lfp_snap_publish(&s, ver(1), lfp_after(20 * 1000000), NULL), ETIMEDOUT);
    assert_int_equal(lfp_snap_reclaim(&s), EAGAIN);
    assert_int_equal(atomic_load(&frees), 0);   /* never early */
    command(&r, CMD_QUIESCENT, true);
    assert_int_equal(r.seen, 1);                /* the report read the new gp */
    assert_int_equal(lfp_snap_reclaim(&s), 0);
    assert_int_equal(atomic_load(&frees), 1);
    /* Still online: the next grace period waits for the next report. */
    assert_int_equal(lfp_snap_publish(&s, ver(2), 0, NULL), ETIMEDOUT);
    command(&r, CMD_QUIESCENT, true);
    assert_int_equal(r.seen, 2);
    assert_int_equal(lfp_snap_publish(&s, ver(3), 0, NULL), ETIMEDOUT);
    stop_reader(&r, t);                         /* offline drops version 2 */
    assert_int_equal(lfp_snap_reclaim(&s), 0);
    assert_int_equal(atomic_load(&frees), 3);
    assert_int_equal(lfp_snap_publish(&s, ver(4), 0, NULL), 0);   /* nobody online */
    lfp_snap_destroy(&s);
    assert_int_equal(atomic_load(&frees), 5);
}

typedef struct { lfp_snap *s; int rc; } pub_arg;

static void *publisher(void *arg)
{
    pub_arg *p = arg;
    p->rc = lfp_snap_publish(p->s, ver(1), LFP_FOREVER, NULL);
    return NULL;
}

/* A writer parked on the online reader is woken by its report (cmd
 * CMD_QUIESCENT) or by its offline. */
static void report_wakes_parked_writer(int cmd)
{
    lfp_snap s;
    init_snap(&s, 0);
    reader r = { 0 };
    pthread_t t, w;
    start_reader(&r, &s, &t);
    pub_arg p = { &s, -1 };
    assert_int_equal(pthread_create(&w, NULL, publisher, &p), 0);
    wait_parked(&lfp_snap_dom_.left, 1, 1);   /* bumped gp, scanned, parked */
    command(&r, cmd, true);
    wait_parked(&lfp_snap_dom_.left, 0, 0);   /* woken (a lost wake fails here) */
    pthread_join(w, NULL);
    assert_int_equal(p.rc, 0);
    assert_int_equal(atomic_load(&frees), 1);
    if (cmd == CMD_QUIESCENT) {
        assert_int_equal(r.seen, 1);
        stop_reader(&r, t);
    } else {
        pthread_join(t, NULL);
        lfp_sem_destroy(&r.go);
        lfp_sem_destroy(&r.done);
    }
    lfp_snap_destroy(&s);
    assert_int_equal(atomic_load(&frees), 2);
}

static void quiescent_wakes_writer(void **state)
{
    (void)state;
    report_wakes_parked_writer(CMD_QUIESCENT);
}

static void offline_wakes_writer(void **state)
{
    (void)state;
    report_wakes_parked_writer(CMD_OFFLINE);
}

/* ------------------------------------------------------------ shared count */

/* Without cells the calls mean the same; a writer is let through by an
 * offline (a report only reopens the shared count). */
static void shared_codes_and_offline(void **state)
{
    (void)state;
    assert_false(lfp_snap_dom_.asym);   /* the filter worked: no cells here */
    lfp_snap s;
    init_snap(&s, 0);
    assert_int_equal(lfp_snap_quiescent(), EPERM);
    assert_int_equal(lfp_snap_offline(), EPERM);
    assert_int_equal(lfp_snap_online(), 0);
    assert_null(lfp_snap_self_);
    assert_int_equal(*(int *)lfp_snap_get(&s), 0);
    assert_int_equal(lfp_snap_quiescent(), 0);
    int *v = ver(1);
    assert_int_equal(lfp_snap_publish(&s, v, LFP_FOREVER, NULL), EDEADLK);
    free(v);   /* not published */
    assert_non_null(lfp_snap_enter(&s));
    assert_int_equal(lfp_snap_quiescent(), EBUSY);
    assert_int_equal(lfp_snap_leave(&s), 0);
    assert_int_equal(lfp_snap_offline(), 0);
    assert_int_equal(lfp_snap_quiescent(), EPERM);
    reader r = { 0 };
    pthread_t t;
    start_reader(&r, &s, &t);
    assert_int_equal(lfp_snap_publish(&s, ver(1), lfp_after(20 * 1000000), NULL), ETIMEDOUT);
    command(&r, CMD_QUIESCENT, true);
    assert_int_equal(r.seen, 1);
    assert_int_equal(atomic_load(&frees), 0);
    stop_reader(&r, t);
    assert_int_equal(lfp_snap_reclaim(&s), 0);
    assert_int_equal(atomic_load(&frees), 1);
    lfp_snap_destroy(&s);
    assert_int_equal(atomic_load(&frees), 2);
}

/* The shared group, in a child without membarrier (nothing in this
 * process has asked for it yet, so the child's first lfp_snap_init sees it
 * fail). */
static int shared_group(void)
{
    const struct CMUnitTest tests[] = { cmocka_unit_test(shared_codes_and_offline) };
    return cmocka_run_group_tests_name("snap_qsbr_shared", tests, NULL, NULL);
}

int main(void)
{
    int rc = run_without_membarrier(shared_group);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(codes),
        cmocka_unit_test(nesting),
        cmocka_unit_test(depth_bound),
        cmocka_unit_test(writer_waits_for_report),
        cmocka_unit_test(quiescent_wakes_writer),
        cmocka_unit_test(offline_wakes_writer),
    };
    return cmocka_run_group_tests_name("snap_qsbr", tests, NULL, NULL) | rc;
}
