/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit tests: lfpat/cancel.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdlib.h>

#include "lfpat.h"

static void bad_input(void **state)
{
    (void)state;
    lfp_cancel c;
    assert_int_equal(lfp_cancel_init(NULL, NULL), EINVAL);
    assert_int_equal(lfp_cancel_init(&c, &c), EINVAL);
    assert_false(lfp_cancel_fire(NULL, 1));
    assert_int_equal(lfp_cancel_reason(NULL), 0);
    lfp_cancel_destroy(NULL);
}

static void first_reason_wins(void **state)
{
    (void)state;
    lfp_cancel c;
    assert_int_equal(lfp_cancel_init(&c, NULL), 0);
    assert_int_equal(lfp_cancel_reason(&c), 0);
    assert_false(lfp_cancel_fired(&c));
    assert_true(lfp_cancel_fire(&c, ETIMEDOUT));
    assert_false(lfp_cancel_fire(&c, ECANCELED));
    assert_int_equal(lfp_cancel_reason(&c), ETIMEDOUT);
    lfp_cancel_destroy(&c);
}

static void zero_reason_becomes_ecanceled(void **state)
{
    (void)state;
    lfp_cancel c = LFP_CANCEL_INIT;
    assert_true(lfp_cancel_fire(&c, 0));
    assert_int_equal(lfp_cancel_reason(&c), ECANCELED);
}

static void cascade_to_all_descendants(void **state)
{
    (void)state;
    lfp_cancel root, a, b, a1, a2, b1;
    lfp_cancel_init(&root, NULL);
    lfp_cancel_init(&a, &root);
    lfp_cancel_init(&b, &root);
    lfp_cancel_init(&a1, &a);
    lfp_cancel_init(&a2, &a);
    lfp_cancel_init(&b1, &b);
    assert_true(lfp_cancel_fire(&a, 42));
    assert_int_equal(lfp_cancel_reason(&a1), 42);
    assert_int_equal(lfp_cancel_reason(&a2), 42);
    assert_int_equal(lfp_cancel_reason(&root), 0);  /* never upwards */
    assert_int_equal(lfp_cancel_reason(&b1), 0);
    assert_true(lfp_cancel_fire(&root, 7));
    assert_int_equal(lfp_cancel_reason(&b), 7);
    assert_int_equal(lfp_cancel_reason(&b1), 7);
    assert_int_equal(lfp_cancel_reason(&a1), 42);   /* first reason kept */
    lfp_cancel_destroy(&b1);
    lfp_cancel_destroy(&a2);
    lfp_cancel_destroy(&a1);
    lfp_cancel_destroy(&b);
    lfp_cancel_destroy(&a);
    lfp_cancel_destroy(&root);
}

static void child_of_fired_parent_fires_at_once(void **state)
{
    (void)state;
    lfp_cancel p, c;
    lfp_cancel_init(&p, NULL);
    lfp_cancel_fire(&p, 9);
    lfp_cancel_init(&c, &p);
    assert_int_equal(lfp_cancel_reason(&c), 9);
    lfp_cancel_destroy(&c);
    lfp_cancel_destroy(&p);
}

static void destroyed_child_is_unlinked(void **state)
{
    (void)state;
    lfp_cancel p, c1, c2, c3;
    lfp_cancel_init(&p, NULL);
    lfp_cancel_init(&c1, &p);
    lfp_cancel_init(&c2, &p);
    lfp_cancel_init(&c3, &p);
    lfp_cancel_destroy(&c2);            /* middle of the sibling list */
    c2.reason = 0;                      /* poison: must not be touched */
    lfp_cancel_fire(&p, 3);
    assert_int_equal(lfp_cancel_reason(&c1), 3);
    assert_int_equal(lfp_cancel_reason(&c3), 3);
    assert_int_equal(lfp_cancel_reason(&c2), 0);
    lfp_cancel_destroy(&c1);
    lfp_cancel_destroy(&c3);
    lfp_cancel_destroy(&p);
}

static void destroyed_parent_detaches_children(void **state)
{
    (void)state;
    lfp_cancel p, c, g;
    lfp_cancel_init(&p, NULL);
    lfp_cancel_init(&c, &p);
    lfp_cancel_init(&g, &c);
    lfp_cancel_destroy(&p);
    assert_null(c.parent);
    assert_true(lfp_cancel_fire(&c, 5));   /* c still works, and cascades */
    assert_int_equal(lfp_cancel_reason(&g), 5);
    lfp_cancel_destroy(&g);
    lfp_cancel_destroy(&c);
}

static void deep_chain_does_not_recurse(void **state)
{
    (void)state;
    enum { DEPTH = 100000 };
    lfp_cancel *chain = malloc(DEPTH * sizeof *chain);
    assert_non_null(chain);
    lfp_cancel_init(&chain[0], NULL);
    for (int i = 1; i < DEPTH; i++)
        lfp_cancel_init(&chain[i], &chain[i - 1]);
    lfp_cancel_fire(&chain[0], 11);
    assert_int_equal(lfp_cancel_reason(&chain[DEPTH - 1]), 11);
    for (int i = DEPTH - 1; i >= 0; i--)
        lfp_cancel_destroy(&chain[i]);
    free(chain);
}

struct fire_race { lfp_cancel *c; int reason; _Atomic int *wins; pthread_barrier_t *b; };

static void *fire_thread(void *p)
{
    struct fire_race *f = p;
    pthread_barrier_wait(f->b);
    if (lfp_cancel_fire(f->c, f->reason))
        atomic_fetch_add(f->wins, 1);
    return NULL;
}

static void concurrent_fire_has_one_winner(void **state)
{
    (void)state;
    enum { T = 4 };
    for (int round = 0; round < 200; round++) {
        lfp_cancel c, child;
        lfp_cancel_init(&c, NULL);
        lfp_cancel_init(&child, &c);
        _Atomic int wins = 0;
        pthread_barrier_t b;
        pthread_barrier_init(&b, NULL, T);
        pthread_t t[T];
        struct fire_race f[T];
        for (int i = 0; i < T; i++) {
            f[i] = (struct fire_race){ &c, i + 1, &wins, &b };
            pthread_create(&t[i], NULL, fire_thread, &f[i]);
        }
        for (int i = 0; i < T; i++)
            pthread_join(t[i], NULL);
        assert_int_equal(atomic_load(&wins), 1);
        int r = lfp_cancel_reason(&c);
        assert_true(r >= 1 && r <= T);
        assert_int_equal(lfp_cancel_reason(&child), r);
        pthread_barrier_destroy(&b);
        lfp_cancel_destroy(&child);
        lfp_cancel_destroy(&c);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(bad_input),
        cmocka_unit_test(first_reason_wins),
        cmocka_unit_test(zero_reason_becomes_ecanceled),
        cmocka_unit_test(cascade_to_all_descendants),
        cmocka_unit_test(child_of_fired_parent_fires_at_once),
        cmocka_unit_test(destroyed_child_is_unlinked),
        cmocka_unit_test(destroyed_parent_detaches_children),
        cmocka_unit_test(deep_chain_does_not_recurse),
        cmocka_unit_test(concurrent_fire_has_one_winner),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
