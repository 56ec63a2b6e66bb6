/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit tests: lfpat in the child of a multithreaded fork (src/fork.h).
 *
 * Every child runs under alarm(): a child that would block forever (the bug
 * these tests catch) is killed by SIGALRM and reported, never hangs the run.
 * The pipes are the test's own synchronisation with the thread it parks
 * inside fn; nothing waits by sleeping. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lfpat.h"

#define CHILD_LIMIT_S 20

/* Run body in a forked child under alarm; return its exit status (0 = ok),
 * or 128 + signal if it was killed. */
static int in_child(int (*body)(void *), void *arg)
{
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        alarm(CHILD_LIMIT_S);
        _exit(body(arg));
    }
    int st = 0;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    if (WIFSIGNALED(st)) {
        print_error("child killed by signal %d (%s)\n", WTERMSIG(st),
                    WTERMSIG(st) == SIGALRM ? "blocked for good" : "crash");
        return 128 + WTERMSIG(st);
    }
    return WEXITSTATUS(st);
}

/* ------------------------------------------------ once, fork while running */

struct blocker { int started[2], release[2]; atomic_int runs; };

static int fn_blocks(void *p)
{
    struct blocker *b = p;
    atomic_fetch_add(&b->runs, 1);
    char c = 's';
    assert_true(write(b->started[1], &c, 1) == 1);
    assert_true(read(b->release[0], &c, 1) == 1);   /* until the parent lets go */
    return 0;
}

static lfp_once shared_once = LFP_ONCE_INIT;
static struct blocker blk;

static void *runner(void *p)
{
    (void)p;
    assert_int_equal(lfp_once_call(&shared_once, fn_blocks, &blk), 0);
    return NULL;
}

static int fn_child(void *p)
{
    *(int *)p += 1;
    return 0;
}

static int child_calls_once(void *p)
{
    (void)p;
    int ran = 0;
    if (lfp_once_call(&shared_once, fn_child, &ran) != 0)
        return 2;
    if (lfp_once_call(&shared_once, fn_child, &ran) != 0 || ran != 1)
        return 3;                      /* ran in the child exactly once */
    return lfp_once_done(&shared_once) ? 0 : 4;
}

static void once_in_child_of_fork_while_fn_runs(void **state)
{
    (void)state;
    assert_int_equal(pipe(blk.started), 0);
    assert_int_equal(pipe(blk.release), 0);
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, runner, NULL), 0);
    char c;
    assert_true(read(blk.started[0], &c, 1) == 1);   /* fn is running now */
    assert_int_equal(in_child(child_calls_once, NULL), 0);
    assert_true(write(blk.release[1], &c, 1) == 1);
    assert_int_equal(pthread_join(t, NULL), 0);
    assert_int_equal(atomic_load(&blk.runs), 1);     /* the parent ran it once */
    assert_true(lfp_once_done(&shared_once));
}

/* ----------------------------- internal locks held by another thread at fork */

static atomic_bool stop_hammer;

static void *hammer(void *p)
{
    (void)p;
    lfp_cancel root;
    assert_int_equal(lfp_cancel_init(&root, NULL), 0);
    while (!atomic_load_explicit(&stop_hammer, memory_order_relaxed)) {
        lfp_cancel c;                  /* every call takes the cancel tree lock */
        assert_int_equal(lfp_cancel_init(&c, &root), 0);
        lfp_cancel_fire(&c, 1);
        lfp_cancel_destroy(&c);
    }
    lfp_cancel_destroy(&root);
    return NULL;
}

static void *slot_user(void *p)
{
    lfp_striped_add(p, 1);             /* takes and, at exit, frees a slot */
    return NULL;
}

static void *slot_hammer(void *p)
{
    while (!atomic_load_explicit(&stop_hammer, memory_order_relaxed)) {
        pthread_t t;
        assert_int_equal(pthread_create(&t, NULL, slot_user, p), 0);
        assert_int_equal(pthread_join(t, NULL), 0);
    }
    return NULL;
}

static int child_uses_locks(void *p)
{
    lfp_cancel a, b;
    if (lfp_cancel_init(&a, NULL) != 0 || lfp_cancel_init(&b, &a) != 0)
        return 2;
    lfp_cancel_fire(&a, 7);
    if (lfp_cancel_reason(&b) != 7)
        return 3;
    lfp_cancel_destroy(&b);
    lfp_cancel_destroy(&a);
#if defined(__SANITIZE_ADDRESS__)
#define SANITIZER_FORK_LIMIT 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANITIZER_FORK_LIMIT 1
#endif
#endif
#if !LFP_TSAN && !defined(SANITIZER_FORK_LIMIT)
    /* A new thread takes a slot. Not under the sanitizers, whose runtimes
     * cannot start threads in the child of a multithreaded fork: TSan says so
     * ("starting new threads after multi-threaded fork is not supported"),
     * and ASan's thread registry lock can be copied held by the parent's
     * thread-creating hammer, so the child's pthread_create blocks in the
     * tool, not in lfpat (a tool limitation). */
    pthread_t t;
    if (pthread_create(&t, NULL, slot_user, p) != 0 || pthread_join(t, NULL) != 0)
        return 4;
#else
    lfp_striped_add(p, 1);             /* this thread's slot, taken in the parent */
#endif
    return 0;
}

static void internal_locks_usable_in_child(void **state)
{
    (void)state;
    lfp_striped s;
    assert_int_equal(lfp_striped_init(&s, 0), 0);
    pthread_t h1, h2;
    atomic_store(&stop_hammer, false);
    assert_int_equal(pthread_create(&h1, NULL, hammer, NULL), 0);
    assert_int_equal(pthread_create(&h2, NULL, slot_hammer, &s), 0);
    int bad = 0;
    for (int i = 0; i < 200; i++)
        bad += in_child(child_uses_locks, &s) != 0;
    atomic_store(&stop_hammer, true);
    assert_int_equal(pthread_join(h1, NULL), 0);
    assert_int_equal(pthread_join(h2, NULL), 0);
    lfp_striped_destroy(&s);
    assert_int_equal(bad, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(once_in_child_of_fork_while_fn_runs),
        cmocka_unit_test(internal_locks_usable_in_child),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
