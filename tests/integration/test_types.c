/*
 * test_types: the typed value model across all its types, which each
 * type's own file tests only against strings and its own kind: every
 * command of each family (strings, hashes, lists, sets, sorted sets, the
 * blocking pops) on a key of every other type answers Redis's exact
 * WRONGTYPE and
 * leaves the key as it was; TYPE, EXISTS, SCAN TYPE, RENAME and COPY on
 * one key of each type side by side; a multi-key command that meets a key
 * of another type among its sources changes nothing; who frees a large
 * value, by the lazyfree-lazy-* settings. Redis 7.0's replies:
 * the file passes under MMCACHE_TEST_AGAINST=redis.
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

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* Each family's commands on key k (a second key, where one is named, is
 * missing or of the family's own type). */
static const char *const string_cmds[] = {
    "GET k", "GETSET k x", "GETDEL k", "GETEX k", "GETRANGE k 0 1", "STRLEN k", "APPEND k x",
    "SETRANGE k 0 x", "INCR k", "DECRBY k 2", "INCRBYFLOAT k 1.5", "SET k x GET",
};
static const char *const hash_cmds[] = {
    "HSET k f v", "HSETNX k f v", "HGET k f", "HMGET k f g", "HGETALL k", "HDEL k f",
    "HEXISTS k f", "HLEN k", "HKEYS k", "HVALS k", "HSTRLEN k f", "HINCRBY k f 1",
    "HINCRBYFLOAT k f 1", "HRANDFIELD k", "HRANDFIELD k -2 WITHVALUES", "HSCAN k 0",
};
static const char *const list_cmds[] = {
    "LPUSH k a", "RPUSH k a", "LPUSHX k a", "RPUSHX k a", "LPOP k", "RPOP k 2", "LLEN k",
    "LRANGE k 0 -1", "LINDEX k 0", "LSET k 0 x", "LINSERT k BEFORE a b", "LREM k 0 a",
    "LTRIM k 0 1", "LPOS k a", "LMOVE k dst LEFT RIGHT", "RPOPLPUSH k dst", "LMPOP 1 k LEFT",
    "BLPOP k 0.01", "BRPOP k 0.01", "BLMOVE k dst LEFT RIGHT 0.01", "BRPOPLPUSH k dst 0.01",
    "BLMPOP 0.01 1 k LEFT",
};
static const char *const set_cmds[] = {
    "SADD k m", "SREM k m", "SMEMBERS k", "SISMEMBER k m", "SMISMEMBER k m n", "SCARD k",
    "SPOP k", "SPOP k 2", "SRANDMEMBER k", "SRANDMEMBER k -2", "SMOVE k dst m", "SINTER k",
    "SUNION k", "SDIFF k", "SINTERSTORE dst k", "SUNIONSTORE dst k", "SDIFFSTORE dst k",
    "SINTERCARD 1 k", "SSCAN k 0",
};

/* (ZUNION and the other commands on several keys take sets too: they are
 * in test_multikey_wrongtype.) */
static const char *const zset_cmds[] = {
    "ZADD k 1 m", "ZINCRBY k 1 m", "ZREM k m", "ZCARD k", "ZSCORE k m", "ZMSCORE k m n",
    "ZRANK k m", "ZREVRANK k m", "ZCOUNT k 0 1", "ZLEXCOUNT k - +", "ZRANGE k 0 -1",
    "ZRANGE k 0 1 BYSCORE REV", "ZREVRANGE k 0 -1", "ZRANGEBYSCORE k 0 1",
    "ZREVRANGEBYSCORE k 1 0", "ZRANGEBYLEX k - +", "ZREVRANGEBYLEX k + -",
    "ZRANGESTORE dst k 0 -1", "ZREMRANGEBYRANK k 0 1", "ZREMRANGEBYSCORE k 0 1",
    "ZREMRANGEBYLEX k - +", "ZPOPMIN k", "ZPOPMAX k 2", "ZRANDMEMBER k",
    "ZRANDMEMBER k -2 WITHSCORES", "ZSCAN k 0", "ZMPOP 1 k MIN", "BZPOPMIN k 0.01",
    "BZPOPMAX k 0.01", "BZMPOP 0.01 1 k MAX",
};

enum { T_STRING, T_HASH, T_LIST, T_SET, T_ZSET, NTYPES };
static const char *const type_name[NTYPES] = {"string", "hash", "list", "set", "zset"};

/* Makes k a value of type t (and nothing else in the keyspace). */
static void make(int t)
{
    switch (t) {
    case T_STRING: EXPECT_OK(c, "SET k v"); break;
    case T_HASH: EXPECT_INT(c, 2, "HSET k f v g w"); break;
    case T_LIST: EXPECT_INT(c, 2, "RPUSH k a b"); break;
    case T_SET: EXPECT_INT(c, 2, "SADD k m n"); break;
    default: EXPECT_INT(c, 2, "ZADD k 1 m 2.5 n"); break;
    }
}

/* k still holds what make(t) put there. */
static void unchanged(int t)
{
    EXPECT_STATUS(c, type_name[t], "TYPE k");
    switch (t) {
    case T_STRING: EXPECT_BULK(c, "v", "GET k"); break;
    case T_HASH: EXPECT_ARRAY(c, "f=v g=w", 1, 1, "HGETALL k"); break;
    case T_LIST: EXPECT_ARRAY(c, "a b", 0, 0, "LRANGE k 0 -1"); break;
    case T_SET: EXPECT_ARRAY(c, "m n", 0, 1, "SMEMBERS k"); break;
    default: EXPECT_ARRAY(c, "m=1 n=2.5", 1, 0, "ZRANGE k 0 -1 WITHSCORES"); break;
    }
    EXPECT_INT(c, 0, "EXISTS dst");   /* no destination was made either */
}

/* Every family's commands against a key of each other type. */
static void test_wrongtype_matrix(void **state)
{
    static const struct {
        int type;
        const char *const *cmds;
        size_t n;
    } fam[] = {
        {T_STRING, string_cmds, N(string_cmds)}, {T_HASH, hash_cmds, N(hash_cmds)},
        {T_LIST, list_cmds, N(list_cmds)}, {T_SET, set_cmds, N(set_cmds)},
        {T_ZSET, zset_cmds, N(zset_cmds)},
    };
    for (int t = 0; t < NTYPES; t++) {
        for (size_t f = 0; f < N(fam); f++) {
            if (fam[f].type == t)
                continue;
            EXPECT_OK(c, "FLUSHALL");
            make(t);
            for (size_t i = 0; i < fam[f].n; i++)
                EXPECT_ERR(c, WRONGTYPE, fam[f].cmds[i]);
            unchanged(t);
        }
    }
}

/* One key of each type side by side: the keyspace commands see each as
 * what it is. */
static void test_keyspace_across_types(void **state)
{
    EXPECT_OK(c, "SET s v");
    EXPECT_INT(c, 1, "HSET h f v");
    EXPECT_INT(c, 1, "RPUSH l a");
    EXPECT_INT(c, 1, "SADD z m");
    EXPECT_INT(c, 1, "ZADD zz 1 m");
    EXPECT_STATUS(c, "zset", "TYPE zz");
    EXPECT_STATUS(c, "string", "TYPE s");
    EXPECT_STATUS(c, "hash", "TYPE h");
    EXPECT_STATUS(c, "list", "TYPE l");
    EXPECT_STATUS(c, "set", "TYPE z");
    EXPECT_STATUS(c, "none", "TYPE nokey");
    EXPECT_INT(c, 5, "EXISTS s h l z zz nokey");
    EXPECT_INT(c, 5, "DBSIZE");
    char got[256];
    static const char *const scans[][2] = {
        {"TYPE string", "s"}, {"TYPE hash", "h"}, {"TYPE list", "l"}, {"TYPE set", "z"},
        {"TYPE zset", "zz"}, {"", "h l s z zz"},
    };
    for (size_t i = 0; i < N(scans); i++) {
        chk_scan_all(c, scans[i][0], got, sizeof(got));
        assert_string_equal(got, scans[i][1]);
    }
    /* RENAME and COPY move and copy any type; REPLACE overwrites another */
    EXPECT_OK(c, "RENAME l l2");
    EXPECT_STATUS(c, "list", "TYPE l2");
    EXPECT_INT(c, 0, "COPY z h");                       /* h exists */
    EXPECT_INT(c, 1, "COPY z h REPLACE");
    EXPECT_STATUS(c, "set", "TYPE h");
    EXPECT_INT(c, 1, "SADD h extra");
    EXPECT_INT(c, 1, "SCARD z");                        /* a deep copy */
    EXPECT_OK(c, "RENAME s l2");                        /* over a list */
    EXPECT_STATUS(c, "string", "TYPE l2");
    EXPECT_INT(c, 1, "COPY zz l2 REPLACE");             /* a sorted set over a string */
    EXPECT_STATUS(c, "zset", "TYPE l2");
    EXPECT_INT(c, 4, "DEL l2 h z zz");
    EXPECT_INT(c, 0, "DBSIZE");
}

/* The commands on several keys check every source's type first: one of
 * another type fails the command and nothing moves or is stored. */
static void test_multikey_wrongtype(void **state)
{
    EXPECT_INT(c, 2, "SADD s1 a b");
    EXPECT_INT(c, 1, "RPUSH l x");
    EXPECT_ERR(c, WRONGTYPE, "SINTERSTORE dst s1 l");
    EXPECT_ERR(c, WRONGTYPE, "SUNIONSTORE dst s1 l");
    EXPECT_ERR(c, WRONGTYPE, "SDIFF s1 l");
    EXPECT_ERR(c, WRONGTYPE, "SMOVE s1 l a");           /* a list as SMOVE's dst */
    EXPECT_ERR(c, WRONGTYPE, "LMOVE l s1 LEFT LEFT");   /* a set as LMOVE's dst */
    EXPECT_ERR(c, WRONGTYPE, "RPOPLPUSH l s1");
    EXPECT_ERR(c, WRONGTYPE, "LMPOP 2 s1 l LEFT");      /* the first key is a set */
    EXPECT_ERR(c, WRONGTYPE, "ZUNIONSTORE dst 2 s1 l"); /* a set is a source, a list not */
    EXPECT_ERR(c, WRONGTYPE, "ZINTER 2 s1 l");
    EXPECT_ERR(c, WRONGTYPE, "ZDIFFSTORE dst 2 s1 l");
    EXPECT_ERR(c, WRONGTYPE, "ZINTERCARD 2 s1 l");
    EXPECT_ERR(c, WRONGTYPE, "ZMPOP 2 s1 l MIN");       /* the first key is a set */
    EXPECT_ERR(c, WRONGTYPE, "ZRANGESTORE dst s1 0 -1");
    EXPECT_ARRAY(c, "a b", 0, 1, "SMEMBERS s1");
    EXPECT_ARRAY(c, "x", 0, 0, "LRANGE l 0 -1");
    EXPECT_INT(c, 0, "EXISTS dst");
}

/* HLEN, LLEN, SCARD and ZCARD are reads: a keyspace hit for a key found
 * (of the wrong type too: Redis finds it, then refuses it), a miss for
 * none. */
static void test_card_counts_lookups(void **state)
{
    static const char *const cmds[] = {"HLEN", "LLEN", "SCARD", "ZCARD"};
    EXPECT_INT(c, 1, "HSET h f v");
    EXPECT_INT(c, 1, "RPUSH l x");
    EXPECT_INT(c, 1, "SADD s m");
    EXPECT_INT(c, 1, "ZADD z 1 m");
    EXPECT_OK(c, "CONFIG RESETSTAT");
    EXPECT_INT(c, 1, "HLEN h");
    EXPECT_INT(c, 1, "LLEN l");
    EXPECT_INT(c, 1, "SCARD s");
    EXPECT_INT(c, 1, "ZCARD z");
    for (size_t i = 0; i < N(cmds); i++) {
        EXPECT_INT(c, 0, "%s missing", cmds[i]);
        EXPECT_ERR(c, WRONGTYPE, "%s %s", cmds[i], i == 0 ? "l" : "h");
    }
    assert_int_equal(harness_info_ll(c, "keyspace_hits"), 8);
    assert_int_equal(harness_info_ll(c, "keyspace_misses"), 4);
}

/* Lazy free: who frees a large value (a hash of 600 fields: a hash table
 * in both servers, whose compiled-in hash-max-listpack-entries differ,
 * 128 and 512, and more than the 64 allocations of Redis's
 * LAZYFREE_THRESHOLD) follows the
 * lazyfree-lazy-* settings, seen in INFO's lazyfreed_objects. The defaults
 * differ on purpose: yes in mmcache (Valkey 8.0's), no in Redis 7.0. */
static void big_hash(const char *key)
{
    for (int i = 0; i < 600; i++)
        EXPECT_INT(c, 1, "HSET %s f%d v", key, i);
}

/* Waits (at most 5 s) until lazyfreed_objects reaches want; returns it. */
static long long lazyfreed_reaches(long long want)
{
    long long n = harness_info_ll(c, "lazyfreed_objects");
    for (int i = 0; i < 500 && n < want; i++) {
        harness_sleep_ms(10);
        n = harness_info_ll(c, "lazyfreed_objects");
    }
    return n;
}

/* lazyfreed_objects once nothing is queued for the lazy-free thread and
 * the count held still for 20 ms (at most 5 s): what earlier tests queued
 * (a FLUSHALL's values) can still be in flight when this test starts, and
 * on a starved machine it was freed between the baseline and the DEL
 * (23 for 21). */
static long long lazyfreed_settled(void)
{
    long long prev = -1, n = harness_info_ll(c, "lazyfreed_objects");
    for (int i = 0; i < 250; i++) {
        if (harness_info_ll(c, "lazyfree_pending_objects") == 0 && n == prev)
            break;
        harness_sleep_ms(20);
        prev = n;
        n = harness_info_ll(c, "lazyfreed_objects");
    }
    return n;
}

static void test_lazyfree_settings(void **state)
{
    static const char *const names[] = {"lazyfree-lazy-eviction", "lazyfree-lazy-expire",
                                        "lazyfree-lazy-server-del", "lazyfree-lazy-user-del",
                                        "lazyfree-lazy-user-flush"};
    const char *def = harness_is_redis() ? "no" : "yes";
    for (size_t i = 0; i < N(names); i++) {
        redisReply *r = CMD(c, "CONFIG GET %s", names[i]);
        assert_int_equal(r->type, REDIS_REPLY_ARRAY);
        assert_int_equal(r->elements, 2);
        assert_string_equal(r->element[1]->str, def);
        freeReplyObject(r);
    }
    /* Frees in flight when the baseline is read: a FLUSHALL ASYNC of
     * 100,000 values, every run (the control: reading the baseline at
     * once, as before, fails here). */
    assert_int_equal(harness_fill(c, "lz", 100000, 8, NULL, 0, NULL, 0), 0);
    EXPECT_OK(c, "FLUSHALL ASYNC");
    long long n0 = lazyfreed_settled();
    assert_true(n0 >= 0);
    /* DEL at yes: the lazy-free thread frees it */
    EXPECT_OK(c, "CONFIG SET lazyfree-lazy-user-del yes");
    big_hash("h");
    EXPECT_INT(c, 1, "DEL h");
    assert_int_equal(lazyfreed_reaches(n0 + 1), n0 + 1);
    /* DEL at no: the deleting thread does (the count stays) */
    EXPECT_OK(c, "CONFIG SET lazyfree-lazy-user-del no");
    big_hash("h");
    EXPECT_INT(c, 1, "DEL h");
    harness_sleep_ms(100);
    assert_int_equal(harness_info_ll(c, "lazyfreed_objects"), n0 + 1);
    /* an overwrite at yes (lazyfree-lazy-server-del) */
    EXPECT_OK(c, "CONFIG SET lazyfree-lazy-server-del yes");
    big_hash("h");
    EXPECT_OK(c, "SET h v");
    assert_int_equal(lazyfreed_reaches(n0 + 2), n0 + 2);
    /* an expiry at yes (lazyfree-lazy-expire), found by the next access */
    EXPECT_OK(c, "CONFIG SET lazyfree-lazy-expire yes");
    big_hash("e");
    EXPECT_INT(c, 1, "PEXPIRE e 1");
    harness_sleep_ms(20);
    EXPECT_INT(c, 0, "EXISTS e");
    assert_int_equal(lazyfreed_reaches(n0 + 3), n0 + 3);
    for (size_t i = 0; i < N(names); i++)
        EXPECT_OK(c, "CONFIG SET %s %s", names[i], def);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_wrongtype_matrix, test_setup),
        cmocka_unit_test_setup(test_keyspace_across_types, test_setup),
        cmocka_unit_test_setup(test_multikey_wrongtype, test_setup),
        cmocka_unit_test_setup(test_lazyfree_settings, test_setup),
        cmocka_unit_test_setup(test_card_counts_lookups, test_setup),
    };
    int failed = cmocka_run_group_tests_name("integration/types", tests, group_setup,
                                             group_teardown);
    return harness_finish(failed);
}
