/* SPDX-License-Identifier: BSD-2-Clause */
/* lfpat-redis internals without a server: the timeout conversion, the
 * error-reply codes, and the keys' Redis Cluster slots. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "internal.h"

static void timeouts_round_up_to_a_microsecond(void **state)
{
    (void)state;
    static const struct {
        int64_t ns;
        long sec, usec;
    } cases[] = {
        { 1, 0, 1 },          { 999, 0, 1 },         { 1000, 0, 1 },
        { 1001, 0, 2 },       { 999999, 0, 1000 },   { 999999999, 1, 0 },
        { 1000000000, 1, 0 }, { 1000000001, 1, 1 },  { 200000000, 0, 200000 },
        { INT64_C(240000000000), 240, 0 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        struct timeval tv = lfp_redis_tv(cases[i].ns);
        assert_int_equal(tv.tv_sec, cases[i].sec);
        assert_int_equal(tv.tv_usec, cases[i].usec);
    }
    for (int64_t ns = 1; ns < 5000; ns++) { /* never zero, never below the timeout */
        struct timeval tv = lfp_redis_tv(ns);
        assert_true(tv.tv_sec > 0 || tv.tv_usec > 0);
        assert_true((int64_t)tv.tv_sec * 1000000000 + (int64_t)tv.tv_usec * 1000 >= ns);
    }
}

/* Messages as Redis 5-7 send them. */
static void error_replies_map_to_their_codes(void **state)
{
    (void)state;
    static const struct {
        const char *msg;
        int code;
    } cases[] = {
        { "NOAUTH Authentication required.", EACCES },
        { "WRONGPASS invalid username-password pair or user is disabled.", EACCES },
        { "ERR invalid password", EACCES },
        { "NOPERM this user has no permissions to run the 'script|load' command", EPERM },
        { "NOPERM this user has no permissions to access one of the keys used as arguments", EPERM },
        { "NOPERM", EPERM },
        { "ERR max number of clients reached", EBUSY },
        { "LOADING Redis is loading the dataset in memory", EBUSY },
        { "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.", EBUSY },
        { "TRYAGAIN Multiple keys request during rehashing of slot", EBUSY },
        { "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.", EBUSY },
        { "BUSYKEY Target key name already exists.", EPROTO },
        { "NOPERMS", EPROTO },
        { "ERR DB index is out of range", EPROTO },
        { "WRONGTYPE Operation against a key holding the wrong kind of value", EPROTO },
        { "NOSCRIPT No matching script. Please use EVAL.", EPROTO },
        { "", EPROTO },
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        if (lfp_redis_error_code(cases[i].msg) != cases[i].code) fprintf(stderr, "%s\n", cases[i].msg);
        assert_int_equal(lfp_redis_error_code(cases[i].msg), cases[i].code);
    }
}

/* ------------------------------------------------------ cluster slots */

/* CRC16-CCITT (XMODEM: poly 0x1021, init 0, no reflection), Redis
 * Cluster's key hash. */
static uint16_t crc16(const char *p, size_t n)
{
    uint16_t crc = 0;
    for (size_t i = 0; i < n; i++) {
        crc ^= (uint16_t)((unsigned char)p[i] << 8);
        for (int b = 0; b < 8; b++) crc = crc & 0x8000 ? (uint16_t)(crc << 1 ^ 0x1021) : (uint16_t)(crc << 1);
    }
    return crc;
}

/* Redis Cluster's HASH_SLOT: hash only the part between the first '{' and
 * the first '}' after it, if that part is not empty; else the whole key. */
static unsigned key_slot(const char *key)
{
    size_t n = strlen(key);
    const char *open = strchr(key, '{');
    if (open) {
        const char *close = strchr(open + 1, '}');
        if (close && close > open + 1) return crc16(open + 1, (size_t)(close - open - 1)) & 16383;
    }
    return crc16(key, n) & 16383;
}

static void the_slot_function_matches_redis(void **state)
{
    (void)state;
    assert_int_equal(crc16("123456789", 9), 0x31C3); /* the XMODEM check value */
    assert_int_equal(key_slot("foo"), 12182);        /* CLUSTER KEYSLOT answers */
    assert_int_equal(key_slot("bar"), 5061);
    assert_int_equal(key_slot("{user1000}.following"), key_slot("user1000"));
    assert_int_equal(key_slot("foo{}{bar}"), crc16("foo{}{bar}", 10) & 16383); /* empty tag: all */
    assert_int_equal(key_slot("foo{{bar}}zap"), key_slot("{bar"));
    assert_int_equal(key_slot("foo{bar}{zap}"), key_slot("bar"));
}

/* Every key one limiter uses is in one slot, whatever its name, and no two
 * names share a key. */
static void every_key_of_a_limiter_is_in_one_slot(void **state)
{
    (void)state;
    static const char *const names[] = {
        "}", "}{", "{}", "a}b", "{x}", "}}", "{", "{{", "}a", "}a{b}", "x", "a{b}c", "{}x", "\\", "\\}",
        "\\\\}", ":w", "}:w", "x}:w", "\x01\x7f\x80\xff", "}\xff{\x80}", "\xc3\xa9}",
    };
    enum { N = sizeof names / sizeof *names };
    static char all[N * (LFP_RSEM_NKEYS + 1)][LFP_RSEM_KEY];
    size_t nall = 0;
    lfp_redis *r = (lfp_redis *)&nall; /* never used: init makes no network call */
    for (size_t i = 0; i < N; i++) {
        lfp_rbucket b;
        lfp_rsem s;
        assert_int_equal(lfp_rbucket_init(&b, r, names[i], 10, 10, NULL), 0);
        assert_int_equal(lfp_rsem_init(&s, r, names[i], 10, 1000000000), 0);
        char k[LFP_RSEM_NKEYS][LFP_RSEM_KEY];
        lfp_rsem_keys(&s, k);
        unsigned slot = key_slot(k[0]);
        for (int j = 0; j < LFP_RSEM_NKEYS; j++) {
            if (key_slot(k[j]) != slot) fprintf(stderr, "name \"%s\": %s is in slot %u, %s in %u\n", names[i], k[j], key_slot(k[j]), k[0], slot);
            assert_int_equal(key_slot(k[j]), slot);
            memcpy(all[nall++], k[j], LFP_RSEM_KEY);
        }
        memcpy(all[nall++], b.key, sizeof b.key);
        lfp_rbucket_destroy(&b);
        lfp_rsem_destroy(&s);
    }
    for (size_t i = 0; i < nall; i++)
        for (size_t j = i + 1; j < nall; j++) {
            if (strcmp(all[i], all[j]) == 0) fprintf(stderr, "two names share key %s\n", all[i]);
            assert_int_not_equal(strcmp(all[i], all[j]), 0);
        }
    /* The longest name still fits with its escape. */
    char longest[LFP_REDIS_NAME_MAX + 1];
    memset(longest, '}', LFP_REDIS_NAME_MAX);
    longest[LFP_REDIS_NAME_MAX] = '\0';
    lfp_rsem s;
    assert_int_equal(lfp_rsem_init(&s, r, longest, 10, 1000000000), 0);
    char k[LFP_RSEM_NKEYS][LFP_RSEM_KEY];
    lfp_rsem_keys(&s, k);
    for (int j = 0; j < LFP_RSEM_NKEYS; j++) assert_int_equal(key_slot(k[j]), key_slot(k[0]));
    assert_int_equal(strlen(k[4]), strlen("lfp:rs:{") + LFP_REDIS_NAME_MAX + strlen("}:qw") + 1);
    lfp_rsem_destroy(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(timeouts_round_up_to_a_microsecond),
        cmocka_unit_test(error_replies_map_to_their_codes),
        cmocka_unit_test(the_slot_function_matches_redis),
        cmocka_unit_test(every_key_of_a_limiter_is_in_one_slot),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
