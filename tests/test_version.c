/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit tests: lfpat/version.h, and the ABI record of every public type.
 *
 * The objects are caller-allocated and their fast paths inline, so a change
 * of any public type's size or alignment breaks programs built against the
 * previous headers. tests/abi_layout.h records them for this version; a
 * mismatch fails here with the new table printed, to be pasted into
 * abi_layout.h together with a minor-version bump (the ABI policy in
 * include/lfpat/version.h). The offset of every field of every struct in the
 * public headers is recorded the same way, in tests/abi_offsets.h: the
 * current table is generated from the headers at build time
 * (scripts/abi_fields.py), so a new field or struct is recorded without
 * anyone remembering to, and a moved, added or removed field fails. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "lfpat.h"
#include "lfpat/redis.h"

static void version_macros_match_library(void **state)
{
    (void)state;
    char expect[32];
    snprintf(expect, sizeof expect, "%d.%d.%d", LFP_VERSION_MAJOR,
             LFP_VERSION_MINOR, LFP_VERSION_PATCH);
    assert_string_equal(LFP_VERSION_STRING, expect);
    assert_string_equal(lfp_version(), LFP_VERSION_STRING);
    assert_int_equal(lfp_version_number(), LFP_VERSION_NUMBER);
}

/* Every public object type a caller allocates. */
#define LFP_PUBLIC_TYPES(X) \
    X(lfp_breaker) X(lfp_breaker_ticket) X(lfp_broadcast) X(lfp_broadcast_sub) \
    X(lfp_bucket) X(lfp_counter) X(lfp_striped) X(lfp_ec) X(lfp_future) \
    X(lfp_fwindow) X(lfp_swindow) X(lfp_slog) X(lfp_rolling) X(lfp_limiter) \
    X(lfp_mailbox) X(lfp_mpmc) X(lfp_mpsc) X(lfp_mpsc_node) X(lfp_once) \
    X(lfp_pool) X(lfp_pool_task) X(lfp_sem) X(lfp_wsem) X(lfp_spsc) \
    X(lfp_ppq) X(lfp_ppq_ring) X(lfp_ppq_producer) X(lfp_ppq_consumer) \
    X(lfp_waitgroup) \
    X(struct lfp_rl_result) X(struct lfp_rl_stats) \
    X(lfp_keyed) X(lfp_locked_keyed) \
    X(lfp_snap) X(lfp_locked_snap) X(struct lfp_snap_stats) \
    X(lfp_locked_breaker) X(lfp_locked_broadcast) X(lfp_locked_broadcast_sub) \
    X(lfp_locked_bucket) X(lfp_locked_counter) X(lfp_locked_future) \
    X(lfp_locked_once) X(lfp_locked_pool) X(lfp_locked_pool_task) \
    X(lfp_locked_queue) X(lfp_locked_sem) X(lfp_locked_slog) \
    X(lfp_locked_waitgroup) X(lfp_locked_wsem) \
    X(lfp_rwlock) X(lfp_locked_rwlock) X(struct lfp_rwlock_stats) \
    X(lfp_seqlock) X(lfp_locked_seqlock)

struct layout { const char *name; size_t size, align; };

static const struct layout current[] = {
#define CURRENT(t) { #t, sizeof(t), _Alignof(t) },
    LFP_PUBLIC_TYPES(CURRENT)
#undef CURRENT
};

static const struct layout recorded[] = {
#include "abi_layout.h"
    { NULL, 0, 0 },
};

static void public_layouts_match_the_record(void **state)
{
    (void)state;
    size_t n = sizeof current / sizeof current[0];
    int mismatches = 0;
    for (size_t i = 0; i < n; i++) {
        const struct layout *r = NULL;
        for (size_t j = 0; recorded[j].name != NULL; j++)
            if (strcmp(recorded[j].name, current[i].name) == 0) r = &recorded[j];
        if (r == NULL || r->size != current[i].size || r->align != current[i].align) {
            fprintf(stderr, "layout changed: %s is %zu bytes, align %zu (recorded %zu, %zu)\n",
                    current[i].name, current[i].size, current[i].align,
                    r ? r->size : 0, r ? r->align : 0);
            mismatches++;
        }
    }
    if (mismatches) {
        fprintf(stderr, "new tests/abi_layout.h (bump LFP_VERSION_MINOR with it):\n");
        for (size_t i = 0; i < n; i++)
            fprintf(stderr, "{ \"%s\", %zu, %zu },\n", current[i].name,
                    current[i].size, current[i].align);
    }
    assert_int_equal(mismatches, 0);
}

struct field { const char *type, *field; size_t offset; };

static const struct field current_fields[] = {
#include "abi_fields.h"
    { NULL, NULL, 0 },
};

static const struct field recorded_fields[] = {
#include "abi_offsets.h"
    { NULL, NULL, 0 },
};

/* The entry of `f` (type and field name) in table t, or NULL. */
static const struct field *field_in(const struct field *t, const struct field *f)
{
    for (; t->type != NULL; t++)
        if (strcmp(t->type, f->type) == 0 && strcmp(t->field, f->field) == 0)
            return t;
    return NULL;
}

static void public_field_offsets_match_the_record(void **state)
{
    (void)state;
    int mismatches = 0;
    for (const struct field *f = current_fields; f->type != NULL; f++) {
        const struct field *r = field_in(recorded_fields, f);
        if (r == NULL || r->offset != f->offset) {
            if (r)
                fprintf(stderr, "layout changed: %s.%s at offset %zu (recorded %zu)\n",
                        f->type, f->field, f->offset, r->offset);
            else
                fprintf(stderr, "layout changed: %s.%s at offset %zu (not recorded)\n",
                        f->type, f->field, f->offset);
            mismatches++;
        }
    }
    for (const struct field *r = recorded_fields; r->type != NULL; r++)
        if (field_in(current_fields, r) == NULL) {
            fprintf(stderr, "layout changed: %s.%s is gone\n", r->type, r->field);
            mismatches++;
        }
    if (mismatches) {
        fprintf(stderr, "new tests/abi_offsets.h (bump LFP_VERSION_MINOR with it):\n");
        for (const struct field *f = current_fields; f->type != NULL; f++)
            fprintf(stderr, "{ \"%s\", \"%s\", %zu },\n", f->type, f->field, f->offset);
    }
    assert_int_equal(mismatches, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(version_macros_match_library),
        cmocka_unit_test(public_layouts_match_the_record),
        cmocka_unit_test(public_field_offsets_match_the_record),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
