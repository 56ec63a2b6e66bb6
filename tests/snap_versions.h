/* SPDX-License-Identifier: BSD-2-Clause */
/* snap_versions.h — the versions the lfp_snap unit tests publish: malloc'd
 * ints, poisoned when freed so that a second free or a read after the free
 * shows. Include after <cmocka.h>. */
#ifndef LFP_TEST_SNAP_VERSIONS_H
#define LFP_TEST_SNAP_VERSIONS_H

#include <stdlib.h>

#define POISON (-559038737)

static inline int *ver(int x)
{
    int *p = malloc(sizeof *p);
    assert_non_null(p);
    *p = x;
    return p;
}

/* Poison and free a version; returns the value it held. Fails the test if
 * the version was already freed. */
static inline int poison_and_free(void *v)
{
    int *p = v, x = *p;
    assert_int_not_equal(x, POISON);   /* freed twice */
    *p = POISON;
    free(p);
    return x;
}

/* lfp_snap_update's copy function: the next version is the current plus 1. */
static inline int copy_plus_one(const void *cur, void **next, void *arg)
{
    (void)arg;
    *next = ver(*(const int *)cur + 1);
    return 0;
}

#endif
