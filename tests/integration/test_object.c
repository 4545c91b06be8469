/*
 * test_object: OBJECT ENCODING / FREQ / IDLETIME / REFCOUNT / HELP, and
 * the LFU counter seen through OBJECT FREQ under allkeys-lfu. Replies and
 * errors are Redis 7.0's: the file passes under MMCACHE_TEST_AGAINST=redis,
 * except where mmcache keeps a small list or set of strings in a listpack
 * and says so (Redis 7.0 has no listpack encoding for them; 7.2 does).
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "check.h"
#include "cmd_fixture.h"
#include "harness.h"

#define ERR_NOT_LFU "ERR An LFU maxmemory policy is not selected, access frequency not " \
    "tracked. Please note that when switching between policies at runtime LRU and LFU " \
    "data will take some time to adjust."
#define ERR_LFU "ERR An LFU maxmemory policy is selected, idle time not tracked. Please " \
    "note that when switching between policies at runtime LRU and LFU data will take " \
    "some time to adjust."

static void policy(const char *p, const char *factor)
{
    EXPECT_OK(c, "CONFIG SET maxmemory-policy %s lfu-log-factor %s", p, factor);
}

static void test_encoding(void **state)
{
    char big[64];

    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    EXPECT_OK(c, "SET i 12345");
    EXPECT_BULK(c, "int", "OBJECT ENCODING i");
    EXPECT_OK(c, "SET e hello");
    EXPECT_BULK(c, "embstr", "OBJECT ENCODING e");
    EXPECT_OK(c, "SET r %s", big);
    EXPECT_BULK(c, "raw", "object encoding r");
    EXPECT_INT(c, 2, "RPUSH l a b");
    EXPECT_BULK(c, harness_is_redis() ? "quicklist" : "listpack", "OBJECT ENCODING l");
    EXPECT_INT(c, 2, "SADD si 1 2");
    EXPECT_BULK(c, "intset", "OBJECT ENCODING si");
    EXPECT_INT(c, 2, "SADD ss a b");
    EXPECT_BULK(c, harness_is_redis() ? "hashtable" : "listpack", "OBJECT ENCODING ss");
    EXPECT_INT(c, 1, "HSET h f v");
    EXPECT_BULK(c, "listpack", "OBJECT ENCODING h");
    EXPECT_INT(c, 1, "ZADD z 1 m");
    EXPECT_BULK(c, "listpack", "OBJECT ENCODING z");
    /* past the thresholds: the large encodings */
    EXPECT_INT(c, 1, "HSET h long %s%s", big, big);
    EXPECT_BULK(c, "hashtable", "OBJECT ENCODING h");
    EXPECT_INT(c, 1, "ZADD z 2 %s%s", big, big);
    EXPECT_BULK(c, "skiplist", "OBJECT ENCODING z");
    EXPECT_INT(c, 1, "SADD ss %s%s", big, big);
    EXPECT_BULK(c, "hashtable", "OBJECT ENCODING ss");
    for (int i = 0; i < 600; i++) {
        redisReply *r = CMD(c, "SADD si %d", 100 + i);
        freeReplyObject(r);
    }
    EXPECT_BULK(c, "hashtable", "OBJECT ENCODING si");
    for (int i = 0; i < 1000; i++) {
        redisReply *r = CMD(c, "RPUSH l %s", big);
        freeReplyObject(r);
    }
    EXPECT_BULK(c, "quicklist", "OBJECT ENCODING l");
}

/* Missing keys are nil for every subcommand, before any policy check;
 * arity and unknown subcommands are Redis's errors. */
static void test_missing_and_errors(void **state)
{
    EXPECT_NIL(c, "OBJECT ENCODING nokey");
    EXPECT_NIL(c, "OBJECT REFCOUNT nokey");
    EXPECT_NIL(c, "OBJECT FREQ nokey");
    EXPECT_NIL(c, "OBJECT IDLETIME nokey");
    policy("allkeys-lfu", "10");
    EXPECT_NIL(c, "OBJECT FREQ nokey");
    EXPECT_NIL(c, "OBJECT IDLETIME nokey");
    policy("allkeys-lru", "10");
    EXPECT_ERR(c, "ERR wrong number of arguments for 'object|encoding' command", "OBJECT ENCODING");
    EXPECT_ERR(c, "ERR wrong number of arguments for 'object|freq' command", "OBJECT FREQ a b");
    EXPECT_ERR(c, "ERR wrong number of arguments for 'object|idletime' command", "OBJECT IDLETIME");
    EXPECT_ERR(c, "ERR unknown subcommand 'nosuch'. Try OBJECT HELP.", "OBJECT nosuch k");
    EXPECT_OK(c, "SET k v");
    EXPECT_INT(c, 1, "OBJECT REFCOUNT k");
    redisReply *r = CMD(c, "OBJECT HELP");
    assert_int_equal(r->type, REDIS_REPLY_ARRAY);
    int idle = 0;
    for (size_t i = 0; i < r->elements; i++)
        idle |= strncmp(r->element[i]->str, "IDLETIME <key>", 14) == 0;
    assert_true(idle);
    freeReplyObject(r);
}

/* IDLETIME under an LRU policy, FREQ under an LFU one, and each one's
 * error under the other; OBJECT itself is not an access. */
static void test_freq_idletime(void **state)
{
    EXPECT_OK(c, "SET k v");
    EXPECT_ERR(c, ERR_NOT_LFU, "OBJECT FREQ k");
    redisReply *r = CMD(c, "OBJECT IDLETIME k");
    assert_int_equal(r->type, REDIS_REPLY_INTEGER);
    assert_in_range(r->integer, 0, 2);
    freeReplyObject(r);

    /* factor 0: every access counts one */
    policy("allkeys-lfu", "0");
    EXPECT_ERR(c, ERR_LFU, "OBJECT IDLETIME k");
    EXPECT_OK(c, "SET hot v");
    for (int i = 0; i < 30; i++)
        EXPECT_BULK(c, "v", "GET hot");
    r = CMD(c, "OBJECT FREQ hot");
    assert_int_equal(r->type, REDIS_REPLY_INTEGER);
    long long f = r->integer;   /* 5 + 30 + the SET, less a minute's decay at most */
    assert_in_range(f, 30, 36);
    freeReplyObject(r);
    EXPECT_INT(c, f, "OBJECT FREQ hot");   /* OBJECT did not count */
    EXPECT_INT(c, f, "OBJECT FREQ hot");
    /* the attacker's settings: Redis's ranges, and the counter stays sane */
    EXPECT_OK(c, "CONFIG SET lfu-log-factor 2147483647 lfu-decay-time 2147483647");
    for (int i = 0; i < 30; i++)
        EXPECT_BULK(c, "v", "GET hot");
    r = CMD(c, "OBJECT FREQ hot");
    assert_in_range(r->integer, f, f + 1);
    freeReplyObject(r);
    r = CMD(c, "CONFIG SET lfu-log-factor -1");
    assert_int_equal(r->type, REDIS_REPLY_ERROR);
    freeReplyObject(r);
    r = CMD(c, "CONFIG SET lfu-decay-time -1");
    assert_int_equal(r->type, REDIS_REPLY_ERROR);
    freeReplyObject(r);
    r = CMD(c, "CONFIG SET maxmemory-samples 0");
    assert_int_equal(r->type, REDIS_REPLY_ERROR);
    freeReplyObject(r);
    EXPECT_OK(c, "CONFIG SET lfu-decay-time 1 maxmemory-samples 5");
    policy("allkeys-lru", "10");
}

/* Under allkeys-lfu a small cache keeps the keys that are read and evicts
 * the ones that are not: 50 read keys, in 1 MB (about one key per shard
 * of mmcache's 1024, so a victim taken from the writer's own shard would
 * often be a read one). */
#define HOT 50
static char val[1024];

/* allkeys-lfu, factor 0, 10 samples; HOT keys of 1 KB read 50 times. */
static void fill_hot(void)
{
    memset(val, 'v', sizeof(val) - 1);
    val[sizeof(val) - 1] = '\0';
    policy("allkeys-lfu", "0");
    EXPECT_OK(c, "CONFIG SET maxmemory-samples 10");
    for (int i = 0; i < HOT; i++) {
        EXPECT_OK(c, "SET hot%d %s", i, val);
        for (int j = 0; j < 50; j++) {
            redisReply *r = CMD(c, "GET hot%d", i);
            freeReplyObject(r);
        }
    }
}

static void test_lfu_eviction(void **state)
{
    fill_hot();
    /* 1 MB for data on top of what is used now (Redis counts its own
     * ~1 MB of overhead, mmcache its data only) */
    long long base = harness_info_ll(c, "used_memory");
    assert_true(base > 0);
    EXPECT_OK(c, "CONFIG SET maxmemory %lld", base + 1024 * 1024);
    for (int i = 0; i < 8000; i++) {
        redisReply *r = CMD(c, "SET cold%d %s", i, val);
        assert_int_equal(r->type, REDIS_REPLY_STATUS);
        freeReplyObject(r);
    }
    assert_true(harness_info_ll(c, "evicted_keys") > 1000);
    for (int i = 0; i < HOT; i++)
        EXPECT_BULK(c, val, "GET hot%d", i);
    EXPECT_OK(c, "CONFIG SET maxmemory 100mb maxmemory-samples 5");
    policy("allkeys-lru", "10");
}

/* CONFIG SET maxmemory below the use evicts down to it by the policy:
 * the read keys stay. (mmcache's evictor once ran with its clock at 0
 * here, every counter decayed, and 1 of 50 stayed.) */
static void test_lfu_lower_maxmemory(void **state)
{
    long long base = harness_info_ll(c, "used_memory");

    fill_hot();
    for (int i = 0; i < 2000; i++)
        EXPECT_OK(c, "SET cold%d %s", i, val);
    long long used = harness_info_ll(c, "used_memory");
    EXPECT_OK(c, "CONFIG SET maxmemory %lld", base + (used - base) / 4);
    assert_true(harness_info_ll(c, "evicted_keys") > 1000);
    for (int i = 0; i < HOT; i++)
        EXPECT_BULK(c, val, "GET hot%d", i);
    EXPECT_OK(c, "CONFIG SET maxmemory 100mb maxmemory-samples 5");
    policy("allkeys-lru", "10");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup(f, test_setup)
        T(test_encoding),
        T(test_missing_and_errors),
        T(test_freq_idletime),
        T(test_lfu_eviction),
        T(test_lfu_lower_maxmemory),
#undef T
    };
    int failed = cmocka_run_group_tests_name("integration/object", tests,
                                             group_setup, group_teardown);
    return harness_finish(failed);
}
