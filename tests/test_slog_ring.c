/* SPDX-License-Identifier: BSD-2-Clause */
/* lfp_slog's ring walk: takes of several slots that cross the end of the
 * ring (limits that are not powers of two), checked decision by decision
 * against the ideal sliding log (in-order timestamps: admit n at `now` iff
 * the admissions in (now - W, now] plus n are at most `limit`), and the
 * exact bound over every window of the run. Single-threaded, fake clock. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "lfpat.h"

static uint64_t rng_next(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static void run(uint32_t limit, int64_t window, int64_t max_step, unsigned ops, uint64_t seed)
{
    lfp_slog w;
    assert_int_equal(lfp_slog_init(&w, limit, window), 0);
    int64_t *log = malloc((size_t)ops * limit * sizeof *log);   /* one entry per token */
    assert_non_null(log);
    size_t len = 0, oldest = 0;   /* log[oldest..len) may still be in the window */
    int64_t now = -1000;
    for (unsigned i = 0; i < ops; i++) {
        now += (int64_t)(rng_next(&seed) % (uint64_t)(max_step + 1));
        uint32_t n = 1 + (uint32_t)(rng_next(&seed) % limit);
        while (oldest < len && log[oldest] <= now - window)
            oldest++;
        bool ideal = (len - oldest) + n <= limit;
        int rc = lfp_slog_take_at(&w, n, now);
        if ((rc == 0) != ideal)
            fail_msg("limit %u op %u n %u now %lld: rc %d, ideal %s (%zu in window)", limit, i, n,
                     (long long)now, rc, ideal ? "admits" : "refuses", len - oldest);
        for (uint32_t j = 0; rc == 0 && j < n; j++)
            log[len++] = now;
        /* the log counts exactly the admissions in (now - W, now] */
        while (oldest < len && log[oldest] <= now - window)
            oldest++;
        assert_int_equal(lfp_slog_count_at(&w, now), len - oldest);
    }
    /* exact over every window of the run: for sorted times, the entry
     * `limit` places later is at least W later */
    for (size_t j = limit; j < len; j++)
        assert_true(log[j] - log[j - limit] >= window);
    free(log);
    lfp_slog_destroy(&w);
}

static void slog_ring_wraps_match_ideal(void **state)
{
    (void)state;
    const uint32_t limits[] = { 1, 2, 3, 7, 13, 64, 100 };
    for (size_t i = 0; i < sizeof limits / sizeof limits[0]; i++) {
        run(limits[i], 1000, 150, 20000, 1 + i);
        run(limits[i], 1000, 20, 20000, 100 + i);   /* mostly refused: full log */
        run(limits[i], 1, 3, 20000, 200 + i);       /* 1 ns window */
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(slog_ring_wraps_match_ideal),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
