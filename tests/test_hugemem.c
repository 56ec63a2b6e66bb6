/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit tests for src/hugemem.h (white box): large tables are mapped
 * 2 MiB-aligned and advised MADV_HUGEPAGE; the memory is zeroed and usable
 * whether or not the advice succeeds (a stand-in that fails stands for a
 * kernel without transparent huge pages); small tables come from the heap
 * and are never advised. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <cmocka.h>

#include "hugemem.h"
#include "lfpat.h"

/* What the allocator asked for, and what the stand-in answered. */
static struct {
    int calls;
    void *addr;
    size_t len;
    int advice;
    int rc;
} seen;

static int advise_fails(void *addr, size_t len, int advice)
{
    seen = (__typeof__(seen)){ seen.calls + 1, addr, len, advice, -1 };
    errno = EINVAL;   /* as madvise where THP is not built in */
    return -1;
}

static int advise_real(void *addr, size_t len, int advice)
{
    int rc = madvise(addr, len, advice);
    seen = (__typeof__(seen)){ seen.calls + 1, addr, len, advice, rc };
    return rc;
}

/* Every byte reads zero, then holds what was written. */
static void assert_usable(unsigned char *p, size_t bytes)
{
    for (size_t i = 0; i < bytes; i++)
        if (p[i] != 0)
            fail_msg("byte %zu of %zu not zero", i, bytes);
    for (size_t i = 0; i < bytes; i++)
        p[i] = (unsigned char)(i * 7 + 1);
    for (size_t i = 0; i < bytes; i += 4093)
        assert_int_equal(p[i], (unsigned char)(i * 7 + 1));
    assert_int_equal(p[bytes - 1], (unsigned char)((bytes - 1) * 7 + 1));
}

static void small_from_the_heap(void **state)
{
    (void)state;
    size_t sizes[] = { 1, 100, 4096, LFP_HUGEMEM_PAGE_ - 1 };
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        seen.calls = 0;
        unsigned char *p = lfp_hugemem_alloc_with_(sizes[i], advise_fails);
        assert_non_null(p);
        assert_int_equal((uintptr_t)p % LFP_CACHELINE, 0);
        assert_int_equal(seen.calls, 0);   /* never advised */
        assert_usable(p, sizes[i]);
        lfp_hugemem_free_(p, sizes[i]);
    }
    assert_null(lfp_hugemem_alloc_(0));
    lfp_hugemem_free_(NULL, 0);
    lfp_hugemem_free_(NULL, LFP_HUGEMEM_PAGE_);
}

/* The advice fails: the mapping is used as it is (small pages). */
static void large_when_the_advice_fails(void **state)
{
    (void)state;
    size_t sizes[] = { LFP_HUGEMEM_PAGE_, 3 * LFP_HUGEMEM_PAGE_ + 12345, 8 * LFP_HUGEMEM_PAGE_ };
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        seen.calls = 0;
        unsigned char *p = lfp_hugemem_alloc_with_(sizes[i], advise_fails);
        assert_non_null(p);
        assert_int_equal((uintptr_t)p % LFP_HUGEMEM_PAGE_, 0);
        assert_int_equal(seen.calls, 1);
        assert_ptr_equal(seen.addr, p);
        assert_true(seen.len >= sizes[i] && seen.len - sizes[i] < 4096);
        assert_int_equal(seen.advice, MADV_HUGEPAGE);
        assert_usable(p, sizes[i]);
        lfp_hugemem_free_(p, sizes[i]);
    }
}

/* The VmFlags line of the mapping that holds p in /proc/self/smaps. */
static void vm_flags_of(const void *p, char *out, size_t cap)
{
    FILE *f = fopen("/proc/self/smaps", "r");
    assert_non_null(f);
    char line[512];
    bool inside = false;
    out[0] = 0;
    while (fgets(line, sizeof line, f)) {
        unsigned long lo, hi;
        if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2 && strchr(line, '-') < strchr(line, ' '))
            inside = (uintptr_t)p >= lo && (uintptr_t)p < hi;
        else if (inside && strncmp(line, "VmFlags:", 8) == 0) {
            snprintf(out, cap, "%s", line);
            break;
        }
    }
    fclose(f);
}

/* With the real madvise: where the kernel accepts the advice, the table's
 * own mapping carries it (VmFlags "hg"), whichever way THP is set. */
static void large_advised_for_real(void **state)
{
    (void)state;
    size_t bytes = 4 * LFP_HUGEMEM_PAGE_;
    seen.calls = 0;
    unsigned char *p = lfp_hugemem_alloc_with_(bytes, advise_real);
    assert_non_null(p);
    assert_int_equal(seen.calls, 1);
    char flags[512];
    vm_flags_of(p, flags, sizeof flags);
    assert_true(flags[0] != 0);
    if (seen.rc == 0 && !strstr(flags, " hg"))
        fail_msg("advised, but the mapping's flags lack hg: %s", flags);
    if (seen.rc != 0)
        print_message("madvise(MADV_HUGEPAGE) refused here (THP not built in): small pages\n");
    assert_usable(p, bytes);
    lfp_hugemem_free_(p, bytes);
}

/* Both keyed tables work on a large table (the mapped path): takes admit
 * the burst, then refuse until a token is back, for many keys. */
static void keyed_tables_on_the_mapped_path(void **state)
{
    (void)state;
    const size_t cap = 70000;   /* 2^18 slots: 8 MiB and 6 MiB */
    lfp_keyed *k = aligned_alloc(LFP_CACHELINE, sizeof *k);
    lfp_locked_keyed l;
    assert_non_null(k);
    assert_int_equal(lfp_keyed_init(k, cap, 1, 2), 0);
    assert_int_equal(lfp_locked_keyed_init(&l, cap, 1, 2), 0);
    const int64_t t0 = 1000000000;
    for (uint64_t key = 0; key < cap; key++) {
        assert_int_equal(lfp_keyed_take_at(k, key * 977, 2, t0), 0);
        assert_int_equal(lfp_locked_keyed_take_at(&l, key * 977, 2, t0), 0);
    }
    for (uint64_t key = 0; key < cap; key++) {
        assert_int_equal(lfp_keyed_take_at(k, key * 977, 1, t0), EAGAIN);
        assert_int_equal(lfp_locked_keyed_take_at(&l, key * 977, 1, t0), EAGAIN);
    }
    assert_int_equal(lfp_keyed_busy_at(k, t0), cap);
    assert_int_equal(lfp_locked_keyed_busy_at(&l, t0), cap);
    assert_int_equal(lfp_keyed_take_at(k, 977, 1, t0 + 1000000000), 0);
    assert_int_equal(lfp_locked_keyed_take_at(&l, 977, 1, t0 + 1000000000), 0);
    lfp_keyed_destroy(k);
    lfp_locked_keyed_destroy(&l);
    free(k);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(small_from_the_heap),
        cmocka_unit_test(large_when_the_advice_fails),
        cmocka_unit_test(large_advised_for_real),
        cmocka_unit_test(keyed_tables_on_the_mapped_path),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
