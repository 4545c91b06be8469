/*
 * test_zset: the sorted set commands on one key (ZADD ZINCRBY ZREM ZCARD
 * ZSCORE ZMSCORE ZRANK ZREVRANK ZPOPMIN ZPOPMAX ZRANDMEMBER ZSCAN), their
 * errors in Redis's order, scores printed as Redis 7.0 prints them
 * ("%.17g": 1.1 is 1.1000000000000001; inf, -inf; -0 in a listpack is 0,
 * in a skiplist -0), the encodings and their settings, the keyspace
 * commands on sorted sets, and the keyspace hits and misses. The ranges
 * are test_zrange.c, the commands on several keys test_zmulti.c, the
 * blocking pops test_zblocking.c. Expected replies are redis-server
 * 7.0.15's: the whole file passes under MMCACHE_TEST_AGAINST=redis.
 *
 * Each test starts from an empty keyspace (cmd_fixture.h).
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "check.h"
#include "cmd_fixture.h"
#include "harness.h"

#define ARGS(cmd) "ERR wrong number of arguments for '" cmd "' command"
#define NOTFLOAT "ERR value is not a valid float"
#define NOTINT "ERR value is not an integer or out of range"
#define SYNTAX "ERR syntax error"

/* ---- ZADD, ZINCRBY, ZSCORE, ZMSCORE, ZCARD, ZREM ------------------------ */

static void test_zadd_and_scores(void **state)
{
    EXPECT_INT(c, 3, "ZADD z 1 a 2 b 3 c");
    EXPECT_INT(c, 6, "ZADD z 1.1 d 1e20 e -0 f inf g -inf h 0.1 i");
    EXPECT_ARRAY(c, "h=-inf f=0 i=0.10000000000000001 a=1 d=1.1000000000000001 b=2 c=3 "
                    "e=1e+20 g=inf", 1, 0, "ZRANGE z 0 -1 WITHSCORES");
    EXPECT_BULK(c, "1.1000000000000001", "ZSCORE z d");
    EXPECT_BULK(c, "0", "ZSCORE z f");                    /* -0 in a listpack: 0 */
    EXPECT_NIL(c, "ZSCORE z nope");
    EXPECT_NIL(c, "ZSCORE nokey a");
    EXPECT_ARRAY(c, "1 (nil) 1.1000000000000001", 0, 0, "ZMSCORE z a nope d");
    EXPECT_ARRAY(c, "(nil) (nil)", 0, 0, "ZMSCORE nokey a b");
    EXPECT_INT(c, 9, "ZCARD z");
    EXPECT_INT(c, 0, "ZCARD nokey");
    EXPECT_INT(c, 2, "ZREM z a b nope");
    EXPECT_INT(c, 0, "ZREM nokey a");
    /* members: binary, empty, integers (not equal to "01") */
    EXPECT_INT(c, 1, "ZADD b 1 %b", "a\0b\r\n", (size_t)5);
    EXPECT_BULK(c, "1", "ZSCORE b %b", "a\0b\r\n", (size_t)5);
    EXPECT_INT(c, 2, "ZADD b 2 %s 3 1", "");
    EXPECT_NIL(c, "ZSCORE b 01");
    EXPECT_BULK(c, "3", "ZSCORE b 1");
    EXPECT_INT(c, 3, "ZREM b %b 1 %s", "a\0b\r\n", (size_t)5, "");
    EXPECT_INT(c, 0, "EXISTS b");                         /* the last member: the key goes */
    /* scores as strtod reads them, whole */
    EXPECT_INT(c, 1, "ZADD s 0x10 hex");
    EXPECT_BULK(c, "16", "ZSCORE s hex");
    EXPECT_INT(c, 1, "ZADD s +inf pinf");
    EXPECT_INT(c, 1, "ZADD s 4.9e-324 tiny");
    EXPECT_BULK(c, "4.9406564584124654e-324", "ZSCORE s tiny");
    EXPECT_ERR(c, NOTFLOAT, "ZADD s abc a");
    EXPECT_ERR(c, NOTFLOAT, "ZADD s nan a");
    EXPECT_ERR(c, NOTFLOAT, "ZADD s %s a", " 1");
    EXPECT_ERR(c, NOTFLOAT, "ZADD s 1e400 a");
    EXPECT_ERR(c, NOTFLOAT, "ZADD s 1e-400 a");
    EXPECT_ERR(c, NOTFLOAT, "ZADD s %s a", "");
    EXPECT_ERR(c, NOTFLOAT, "ZADD s 1 a x b");           /* nothing added then */
    EXPECT_NIL(c, "ZSCORE s a");
    EXPECT_ERR(c, ARGS("zadd"), "ZADD s 1");
    EXPECT_ERR(c, ARGS("zscore"), "ZSCORE s");
    EXPECT_ERR(c, ARGS("zmscore"), "ZMSCORE s");
    EXPECT_ERR(c, ARGS("zcard"), "ZCARD");
    EXPECT_ERR(c, ARGS("zrem"), "ZREM s");
}

static void test_zadd_options(void **state)
{
    EXPECT_INT(c, 2, "ZADD z 1 a 2 b");
    EXPECT_ERR(c, SYNTAX, "ZADD z 1 a 2");
    EXPECT_ERR(c, SYNTAX, "ZADD z nx ch");
    EXPECT_ERR(c, "ERR XX and NX options at the same time are not compatible", "ZADD z nx xx 1 a");
    EXPECT_ERR(c, "ERR GT, LT, and/or NX options at the same time are not compatible",
               "ZADD z gt lt 1 a");
    EXPECT_ERR(c, "ERR GT, LT, and/or NX options at the same time are not compatible",
               "ZADD z GT NX 1 a");
    EXPECT_ERR(c, "ERR INCR option supports a single increment-element pair",
               "ZADD z incr 1 a 2 b");
    EXPECT_ERR(c, SYNTAX, "ZADD z xx nx");                /* the pairs are checked first */
    EXPECT_INT(c, 2, "ZADD z CH 5 a 6 newm");             /* a updated, newm added */
    EXPECT_INT(c, 1, "ZADD z xx ch 7 a 8 zz");            /* XX: zz not added */
    EXPECT_NIL(c, "ZSCORE z zz");
    EXPECT_INT(c, 0, "ZADD z nx 100 a");
    EXPECT_BULK(c, "7", "ZSCORE z a");
    EXPECT_INT(c, 0, "ZADD z gt ch 0 a");                 /* not greater */
    EXPECT_INT(c, 1, "ZADD z lt ch 0 a");
    EXPECT_INT(c, 1, "ZADD z gt 1 new2");                 /* GT adds new members */
    EXPECT_BULK(c, "10", "ZADD z incr 10 a");
    EXPECT_NIL(c, "ZADD z incr nx 10 a");
    EXPECT_NIL(c, "ZADD z incr xx 10 nope");
    EXPECT_NIL(c, "ZADD z incr gt -1 a");
    EXPECT_INT(c, 0, "ZADD nokey xx 1 a");                /* creates nothing */
    EXPECT_INT(c, 0, "EXISTS nokey");
    EXPECT_BULK(c, "12.5", "ZINCRBY z 2.5 a");
    EXPECT_BULK(c, "1", "ZINCRBY z 1 brandnew");
    EXPECT_ERR(c, SYNTAX, "ZINCRBY z nx a");              /* Redis reads options here too */
    EXPECT_ERR(c, NOTFLOAT, "ZINCRBY z abc a");
    EXPECT_ERR(c, ARGS("zincrby"), "ZINCRBY z 1");
    /* NaN: inf + -inf, nothing changes */
    EXPECT_INT(c, 2, "ZADD inf 1 x inf a");
    EXPECT_ERR(c, "ERR resulting score is not a number (NaN)", "ZINCRBY inf -inf a");
    EXPECT_ERR(c, "ERR resulting score is not a number (NaN)", "ZADD inf incr -inf a");
    EXPECT_BULK(c, "inf", "ZSCORE inf a");
    EXPECT_BULK(c, "-inf", "ZINCRBY inf -inf x");
}

/* ---- ZRANK, ZPOPMIN, ZPOPMAX --------------------------------------------- */

static void test_rank_and_pops(void **state)
{
    EXPECT_INT(c, 4, "ZADD p 1 a 2 b 3 c 4 d");
    EXPECT_INT(c, 2, "ZRANK p c");
    EXPECT_INT(c, 1, "ZREVRANK p c");
    EXPECT_NIL(c, "ZRANK p nope");
    EXPECT_NIL(c, "ZREVRANK nokey a");
    EXPECT_ERR(c, ARGS("zrank"), "ZRANK p");
    EXPECT_ARRAY(c, "a 1", 0, 0, "ZPOPMIN p");
    EXPECT_ARRAY(c, "d 4", 0, 0, "ZPOPMAX p");
    EXPECT_ARRAY(c, "", 0, 0, "ZPOPMIN p 0");
    EXPECT_ERR(c, "ERR value is out of range, must be positive", "ZPOPMIN p abc");
    EXPECT_ERR(c, "ERR value is out of range, must be positive", "ZPOPMIN p -1");
    EXPECT_ERR(c, SYNTAX, "ZPOPMIN p 1 2");
    EXPECT_ARRAY(c, "b 2 c 3", 0, 0, "ZPOPMIN p 10");
    EXPECT_INT(c, 0, "EXISTS p");
    EXPECT_ARRAY(c, "", 0, 0, "ZPOPMIN p");
    EXPECT_ARRAY(c, "", 0, 0, "ZPOPMAX nokey 5");
    EXPECT_ERR(c, ARGS("zpopmin"), "ZPOPMIN");
    /* a skiplist pops from its ends too */
    for (int i = 0; i < 200; i++)
        EXPECT_INT(c, 1, "ZADD big %d m%03d", i % 7, i);
    EXPECT_ARRAY(c, "m000 0 m007 0", 0, 0, "ZPOPMIN big 2");
    EXPECT_ARRAY(c, "m195 6 m188 6", 0, 0, "ZPOPMAX big 2");
    EXPECT_INT(c, 196, "ZCARD big");
    EXPECT_INT(c, 0, "ZRANK big m014");
}

/* ---- ZRANDMEMBER, ZSCAN ---------------------------------------------------- */

static void test_randmember(void **state)
{
    EXPECT_NIL(c, "ZRANDMEMBER nokey");
    EXPECT_ARRAY(c, "", 0, 0, "ZRANDMEMBER nokey 5");
    EXPECT_ARRAY(c, "", 0, 0, "ZRANDMEMBER nokey 5 WITHSCORES");
    EXPECT_INT(c, 1, "ZADD one 5 only");
    EXPECT_BULK(c, "only", "ZRANDMEMBER one");
    EXPECT_ARRAY(c, "only=5", 1, 0, "ZRANDMEMBER one 3 WITHSCORES");
    EXPECT_ARRAY(c, "only=5 only=5 only=5", 1, 0, "ZRANDMEMBER one -3 WITHSCORES");
    EXPECT_ARRAY(c, "only only", 0, 0, "ZRANDMEMBER one -2");
    EXPECT_ARRAY(c, "", 0, 0, "ZRANDMEMBER one 0");
    EXPECT_ERR(c, "ERR value is out of range, value must between -9223372036854775807 and "
                  "9223372036854775807", "ZRANDMEMBER one -9223372036854775808");
    EXPECT_ERR(c, SYNTAX, "ZRANDMEMBER one 1 withscore");
    EXPECT_ERR(c, SYNTAX, "ZRANDMEMBER one 1 withscores extra");
    EXPECT_ERR(c, "ERR value is out of range", "ZRANDMEMBER one 9223372036854775807 WITHSCORES");
    EXPECT_ERR(c, NOTINT, "ZRANDMEMBER one x");
    for (int round = 0; round < 2; round++) {            /* a listpack, then a skiplist */
        int size = round ? 300 : 20;
        for (int i = 0; i < size; i++)
            freeReplyObject(CMD(c, "ZADD r %d m%d", i, i));
        long long counts[] = {1, 5, size / 2, size - 1, size + 10, -5, -(size * 3)};
        for (size_t k = 0; k < sizeof(counts) / sizeof(counts[0]); k++) {
            redisReply *r = CMD(c, "ZRANDMEMBER r %lld WITHSCORES", counts[k]);
            long long n = counts[k] >= 0 ? (counts[k] < size ? counts[k] : size) : -counts[k];
            assert_int_equal(r->type, REDIS_REPLY_ARRAY);
            assert_int_equal(r->elements, 2 * (size_t)n);
            for (size_t i = 0; i < r->elements; i += 2) {   /* each with its own score */
                for (size_t j = 0; counts[k] > 0 && j < i; j += 2)
                    assert_string_not_equal(r->element[i]->str, r->element[j]->str);
                assert_string_equal(r->element[i]->str + 1, r->element[i + 1]->str);
            }
            freeReplyObject(r);
        }
    }
    /* a huge negative count: bounded by the output limit, not computed first */
    const char req[] = "*3\r\n$11\r\nZRANDMEMBER\r\n$1\r\nr\r\n$20\r\n-4000000000000000000\r\n";
    expect_closed_by_output_limit(req, sizeof(req) - 1);
    EXPECT_INT(c, 300, "ZCARD r");
}

static void test_zscan(void **state)
{
    char got[8192], want[8192];
    size_t used = 0;

    EXPECT_ARRAY(c, "0 []", 0, 0, "ZSCAN nokey 0");
    EXPECT_INT(c, 2, "ZADD one 5 only 1.5 x");
    EXPECT_ARRAY(c, "0 [x 1.5 only 5]", 0, 0, "ZSCAN one 0");
    EXPECT_ARRAY(c, "0 [only 5]", 0, 0, "ZSCAN one 0 MATCH o*");
    EXPECT_ARRAY(c, "0 []", 0, 0, "ZSCAN one 0 MATCH zz*");
    EXPECT_ERR(c, SYNTAX, "ZSCAN one 0 COUNT 0");
    EXPECT_ERR(c, "ERR invalid cursor", "ZSCAN one abc");
    EXPECT_ERR(c, SYNTAX, "ZSCAN one 0 foo");
    /* a skiplist: every member, with its score, over the whole scan */
    for (int i = 0; i < 500; i++) {
        freeReplyObject(CMD(c, "ZADD big %d.5 m%03d", i, i));
        used += (size_t)snprintf(want + used, sizeof(want) - used, "%sm%03d=%d.5", i ? " " : "",
                                 i, i);
    }
    char cursor[32] = "0", *items[1000];
    size_t n = 0;
    do {
        redisReply *r = CMD(c, "ZSCAN big %s COUNT 50", cursor);
        assert_int_equal(r->type, REDIS_REPLY_ARRAY);
        snprintf(cursor, sizeof(cursor), "%s", r->element[0]->str);
        for (size_t i = 0; i < r->element[1]->elements; i += 2)
            assert_true(asprintf(&items[n++], "%s=%s", r->element[1]->element[i]->str,
                                 r->element[1]->element[i + 1]->str) > 0);
        freeReplyObject(r);
    } while (strcmp(cursor, "0") != 0 && n < 990);
    qsort(items, n, sizeof(items[0]), chk_cmp_str);
    used = 0;
    for (size_t i = 0; i < n; i++) {
        if (i == 0 || strcmp(items[i], items[i - 1]) != 0)   /* SCAN may repeat one */
            used += (size_t)snprintf(got + used, sizeof(got) - used, "%s%s", used ? " " : "",
                                     items[i]);
    }
    for (size_t i = 0; i < n; i++)
        free(items[i]);
    assert_string_equal(got, want);
}

/* ---- types, encodings, the keyspace --------------------------------------------- */

static void test_wrongtype(void **state)
{
    EXPECT_OK(c, "SET str x");
    EXPECT_ERR(c, WRONGTYPE, "ZADD str 1 a");
    EXPECT_ERR(c, WRONGTYPE, "ZINCRBY str 1 a");
    EXPECT_ERR(c, WRONGTYPE, "ZREM str a");
    EXPECT_ERR(c, WRONGTYPE, "ZSCORE str a");
    EXPECT_ERR(c, WRONGTYPE, "ZMSCORE str a");
    EXPECT_ERR(c, WRONGTYPE, "ZCARD str");
    EXPECT_ERR(c, WRONGTYPE, "ZRANK str a");
    EXPECT_ERR(c, WRONGTYPE, "ZPOPMIN str 0");
    EXPECT_ERR(c, WRONGTYPE, "ZRANDMEMBER str");
    EXPECT_ERR(c, WRONGTYPE, "ZRANDMEMBER str 0");
    EXPECT_ERR(c, WRONGTYPE, "ZSCAN str 0");
    EXPECT_ERR(c, NOTFLOAT, "ZADD str x a");              /* the score first */
    EXPECT_INT(c, 1, "ZADD z 1 a");
    EXPECT_ERR(c, WRONGTYPE, "GET z");
    EXPECT_ERR(c, WRONGTYPE, "SADD z a");
    EXPECT_ERR(c, WRONGTYPE, "LPUSH z a");
    EXPECT_ERR(c, WRONGTYPE, "HSET z a b");
    EXPECT_STATUS(c, "zset", "TYPE z");
    EXPECT_BULK(c, "x", "GET str");
    EXPECT_BULK(c, "1", "ZSCORE z a");
}

static void test_encodings(void **state)
{
    EXPECT_INT(c, 1, "ZADD e 1 a");
    EXPECT_BULK(c, "listpack", "OBJECT ENCODING e");
    EXPECT_OK(c, "CONFIG SET zset-max-listpack-entries 2");
    EXPECT_ARRAY(c, "zset-max-listpack-entries 2", 0, 0, "CONFIG GET zset-max-listpack-entries");
    EXPECT_INT(c, 1, "ZADD e 2 b");
    EXPECT_BULK(c, "listpack", "OBJECT ENCODING e");
    EXPECT_INT(c, 1, "ZADD e 3 c");                       /* a 3rd: skiplist */
    EXPECT_BULK(c, "skiplist", "OBJECT ENCODING e");
    EXPECT_INT(c, 2, "ZREM e a b");
    EXPECT_BULK(c, "skiplist", "OBJECT ENCODING e");      /* never back */
    EXPECT_OK(c, "CONFIG SET zset-max-listpack-entries 128");
    EXPECT_OK(c, "CONFIG SET zset-max-listpack-value 4");
    EXPECT_INT(c, 1, "ZADD v 1 abcde");                   /* the first member too long */
    EXPECT_BULK(c, "skiplist", "OBJECT ENCODING v");
    EXPECT_INT(c, 1, "ZADD w 1 abcd");
    EXPECT_INT(c, 1, "ZADD w 1 abcdef");
    EXPECT_BULK(c, "skiplist", "OBJECT ENCODING w");
    EXPECT_OK(c, "CONFIG SET zset-max-listpack-value 64");
    EXPECT_OK(c, "CONFIG SET zset-max-listpack-entries 0");
    EXPECT_INT(c, 1, "ZADD neg -0 a");                    /* a skiplist keeps -0 */
    EXPECT_BULK(c, "-0", "ZSCORE neg a");
    EXPECT_BULK(c, "-0", "ZINCRBY neg -0 a");             /* -0 + -0 */
    EXPECT_BULK(c, "skiplist", "OBJECT ENCODING neg");
    EXPECT_OK(c, "CONFIG SET zset-max-listpack-entries 128");
}

/* TYPE, SCAN TYPE, COPY, RENAME, MEMORY USAGE, DEL on both encodings. */
static void test_keyspace(void **state)
{
    char got[4096];

    EXPECT_INT(c, 2, "ZADD small 1.5 x 2.5 y");
    for (int i = 0; i < 200; i++)
        freeReplyObject(CMD(c, "ZADD big %d m%d", i, i));
    EXPECT_INT(c, 1, "SADD s a");
    EXPECT_STATUS(c, "zset", "TYPE big");
    chk_scan_all(c, "COUNT 1000 TYPE zset", got, sizeof(got));
    assert_string_equal(got, "big small");
    EXPECT_INT(c, 1, "COPY small small2");
    EXPECT_INT(c, 1, "COPY big big2");
    EXPECT_INT(c, 1, "ZADD small2 9 z");                  /* the copy is its own */
    EXPECT_INT(c, 2, "ZCARD small");
    EXPECT_ARRAY(c, "m198 m199", 0, 0, "ZRANGE big2 -2 -1");
    EXPECT_BULK(c, "skiplist", "OBJECT ENCODING big2");
    EXPECT_OK(c, "RENAME big2 big3");
    EXPECT_INT(c, 200, "ZCARD big3");
    EXPECT_OK(c, "RENAME small big3");                    /* over a sorted set */
    EXPECT_ARRAY(c, "x y", 0, 0, "ZRANGE big3 0 -1");
    redisReply *r = CMD(c, "MEMORY USAGE big");
    assert_int_equal(r->type, REDIS_REPLY_INTEGER);
    assert_true(r->integer > 200 * 10);
    freeReplyObject(r);
    EXPECT_INT(c, 2, "DEL big big3");
    EXPECT_INT(c, 1, "UNLINK small2");
    EXPECT_INT(c, 1, "DBSIZE");
}

/* Reads count a keyspace hit or miss (WRONGTYPE is a hit); writes none. */
static void test_keyspace_hits(void **state)
{
    EXPECT_INT(c, 1, "ZADD z 1 a");
    EXPECT_OK(c, "SET str x");
    EXPECT_OK(c, "CONFIG RESETSTAT");
    freeReplyObject(CMD(c, "ZSCORE z a"));
    freeReplyObject(CMD(c, "ZSCORE nokey a"));
    freeReplyObject(CMD(c, "ZCARD str"));
    freeReplyObject(CMD(c, "ZRANGE nokey 0 -1"));
    freeReplyObject(CMD(c, "ZADD z 2 b"));
    freeReplyObject(CMD(c, "ZPOPMIN nokey"));
    freeReplyObject(CMD(c, "ZUNION 3 z nokey str"));      /* each source up to str's type */
    assert_int_equal(harness_info_ll(c, "keyspace_hits"), 4);
    assert_int_equal(harness_info_ll(c, "keyspace_misses"), 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup(f, test_setup)
        T(test_zadd_and_scores),
        T(test_zadd_options),
        T(test_rank_and_pops),
        T(test_randmember),
        T(test_zscan),
        T(test_wrongtype),
        T(test_encodings),
        T(test_keyspace),
        T(test_keyspace_hits),
#undef T
    };
    int failed = cmocka_run_group_tests_name("integration/zset", tests, group_setup,
                                             group_teardown);
    return harness_finish(failed);
}
