/*
 * test_strings: the string commands (GET/SET and their options, the
 * SETNX/SETEX/GETSET/GETDEL/GETEX family, MSET/MGET/MSETNX, counters,
 * APPEND/STRLEN/GETRANGE/SETRANGE), each string command on every type,
 * ranges and numbers at their edges, key expiry, binary-safe and big
 * values, through hiredis against one server started for the group.
 * Expected replies and error strings are Redis 7's: the same file passes
 * under MMCACHE_TEST_AGAINST=redis.
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
#include <time.h>

#include <cmocka.h>

#include "check.h"
#include "cmd_fixture.h"
#include "harness.h"

/* ---- strings ---- */

static void test_set_get_options(void **state)
{
    EXPECT_NIL(c, "GET k");
    EXPECT_OK(c, "SET k v1");
    EXPECT_BULK(c, "v1", "GET k");
    EXPECT_NIL(c, "SET k v2 NX");
    EXPECT_BULK(c, "v1", "GET k");
    EXPECT_OK(c, "SET k v2 XX");
    EXPECT_NIL(c, "SET other v XX");
    EXPECT_INT(c, 0, "EXISTS other");
    EXPECT_OK(c, "SET new v NX");
    EXPECT_BULK(c, "v2", "SET k v3 GET");
    EXPECT_NIL(c, "SET fresh v GET");
    EXPECT_BULK(c, "v", "GET fresh");
    EXPECT_OK(c, "SET k v4 EX 100");
    EXPECT_OK(c, "SET k v5 KEEPTTL");
    redisReply *r = CMD(c, "TTL k");
    assert_int_equal(r->type, REDIS_REPLY_INTEGER);
    assert_true(r->integer > 90 && r->integer <= 100);
    freeReplyObject(r);
    EXPECT_OK(c, "SET k v6");
    EXPECT_INT(c, -1, "TTL k");

    EXPECT_ERR(c, "ERR syntax error", "SET k v NX XX");
    EXPECT_ERR(c, "ERR syntax error", "SET k v EX 10 PX 100");
    EXPECT_ERR(c, "ERR syntax error", "SET k v EX 10 KEEPTTL");
    EXPECT_ERR(c, "ERR syntax error", "SET k v FOO");
    EXPECT_ERR(c, "ERR syntax error", "SET k v EX");
    EXPECT_ERR(c, "ERR invalid expire time in 'set' command", "SET k v EX 0");
    EXPECT_ERR(c, "ERR invalid expire time in 'set' command", "SET k v PX -5");
    EXPECT_ERR(c, "ERR value is not an integer or out of range", "SET k v EX abc");
    EXPECT_ERR(c, "ERR value is not an integer or out of range", "SET k v PX 1.5");
    EXPECT_BULK(c, "v6", "GET k");      /* failed SETs changed nothing */
}

static void test_set_px_expires(void **state)
{
    /* still there before its 200 ms, when the commands took less (a slow
     * host may not get there in time: then that part says so and waits) */
    long long t0 = harness_now_ms();
    EXPECT_OK(c, "SET k v PX 200");
    redisReply *g = CMD(c, "GET k"), *r = CMD(c, "PTTL k");
    if (harness_now_ms() - t0 < 150) {
        assert_int_equal(g->type, REDIS_REPLY_STRING);
        assert_string_equal(g->str, "v");
        assert_int_equal(r->type, REDIS_REPLY_INTEGER);
        assert_true(r->integer > 0 && r->integer <= 200);
    } else {
        fprintf(stderr, "inconclusive: SET, GET and PTTL took %lld ms\n", harness_now_ms() - t0);
    }
    freeReplyObject(g);
    freeReplyObject(r);
    EXPECT_OK(c, "SET e v EX 100");
    harness_sleep_ms(400);
    EXPECT_NIL(c, "GET k");
    EXPECT_INT(c, 0, "EXISTS k");
    EXPECT_INT(c, -2, "TTL k");
    EXPECT_INT(c, -2, "PTTL k");
    EXPECT_BULK(c, "v", "GET e");       /* the long one is still there */
    EXPECT_INT(c, 1, "DBSIZE");
}

static void test_set_exat_pxat(void **state)
{
    long long now = (long long)time(NULL);
    EXPECT_OK(c, "SET a v EXAT %lld", now + 100);
    EXPECT_INT(c, now + 100, "EXPIRETIME a");
    EXPECT_OK(c, "SET b v PXAT %lld", (now + 200) * 1000);
    EXPECT_INT(c, now + 200, "EXPIRETIME b");
    EXPECT_OK(c, "SET past v PXAT %lld", (now - 10) * 1000);
    EXPECT_NIL(c, "GET past");
    EXPECT_INT(c, -2, "EXPIRETIME missing");
}

static void test_setnx_setex_psetex_getset(void **state)
{
    EXPECT_INT(c, 1, "SETNX k a");
    EXPECT_INT(c, 0, "SETNX k b");
    EXPECT_BULK(c, "a", "GET k");
    EXPECT_OK(c, "SETEX s 100 v");
    redisReply *r = CMD(c, "TTL s");
    assert_true(r->integer > 90 && r->integer <= 100);
    freeReplyObject(r);
    EXPECT_ERR(c, "ERR invalid expire time in 'setex' command", "SETEX s 0 v");
    EXPECT_ERR(c, "ERR invalid expire time in 'setex' command", "SETEX s -1 v");
    EXPECT_ERR(c, "ERR value is not an integer or out of range", "SETEX s x v");
    EXPECT_OK(c, "PSETEX p 100000 v");
    r = CMD(c, "PTTL p");
    assert_true(r->integer > 90000 && r->integer <= 100000);
    freeReplyObject(r);
    EXPECT_ERR(c, "ERR invalid expire time in 'psetex' command", "PSETEX p 0 v");
    EXPECT_NIL(c, "GETSET g one");
    EXPECT_BULK(c, "one", "GETSET g two");
    EXPECT_BULK(c, "two", "GET g");
    EXPECT_OK(c, "SET t v EX 100");
    EXPECT_BULK(c, "v", "GETSET t w");
    EXPECT_INT(c, -1, "TTL t");         /* GETSET drops the TTL */
}

static void test_getdel_getex(void **state)
{
    EXPECT_OK(c, "SET k v");
    EXPECT_BULK(c, "v", "GETDEL k");
    EXPECT_NIL(c, "GETDEL k");
    EXPECT_INT(c, 0, "EXISTS k");

    EXPECT_OK(c, "SET k v");
    EXPECT_BULK(c, "v", "GETEX k");
    EXPECT_INT(c, -1, "TTL k");
    EXPECT_BULK(c, "v", "GETEX k EX 100");
    redisReply *r = CMD(c, "TTL k");
    assert_true(r->integer > 90 && r->integer <= 100);
    freeReplyObject(r);
    EXPECT_BULK(c, "v", "GETEX k PERSIST");
    EXPECT_INT(c, -1, "TTL k");
    EXPECT_BULK(c, "v", "GETEX k PX 200");
    EXPECT_NIL(c, "GETEX missing PERSIST");
    EXPECT_ERR(c, "ERR syntax error", "GETEX k EX 10 PX 10");
    EXPECT_ERR(c, "ERR syntax error", "GETEX k FOO");
    EXPECT_ERR(c, "ERR invalid expire time in 'getex' command", "GETEX k EX 0");
    harness_sleep_ms(400);
    EXPECT_NIL(c, "GET k");
}

static void test_mset_mget_many(void **state)
{
    enum { N = 1000 };
    const char **argv = calloc(1 + 2 * N, sizeof(*argv));
    size_t *lens = calloc(1 + 2 * N, sizeof(*lens));
    char (*keys)[32] = calloc(N, 32);
    char (*vals)[32] = calloc(N, 32);
    assert_non_null(argv);
    argv[0] = "MSET";
    lens[0] = 4;
    for (int i = 0; i < N; i++) {
        snprintf(keys[i], 32, "mkey:%d", i);
        snprintf(vals[i], 32, "val-%d", i * 7);
        argv[1 + 2 * i] = keys[i];
        lens[1 + 2 * i] = strlen(keys[i]);
        argv[2 + 2 * i] = vals[i];
        lens[2 + 2 * i] = strlen(vals[i]);
    }
    redisReply *r = redisCommandArgv(c, 1 + 2 * N, argv, lens);
    assert_non_null(r);
    assert_int_equal(r->type, REDIS_REPLY_STATUS);
    freeReplyObject(r);

    /* MGET all of them plus a missing key in the middle */
    argv[0] = "MGET";
    lens[0] = 4;
    int n = 1;
    for (int i = 0; i < N; i++) {
        argv[n] = keys[i];
        lens[n++] = strlen(keys[i]);
        if (i == N / 2) {
            argv[n] = "nosuchkey";
            lens[n++] = 9;
        }
    }
    r = redisCommandArgv(c, n, argv, lens);
    assert_non_null(r);
    assert_int_equal(r->type, REDIS_REPLY_ARRAY);
    assert_int_equal(r->elements, N + 1);
    size_t j = 0;
    for (int i = 0; i < N; i++) {
        redisReply *e = r->element[j++];
        assert_int_equal(e->type, REDIS_REPLY_STRING);
        assert_string_equal(e->str, vals[i]);
        if (i == N / 2)
            assert_int_equal(r->element[j++]->type, REDIS_REPLY_NIL);
    }
    freeReplyObject(r);
    EXPECT_INT(c, N, "DBSIZE");

    EXPECT_INT(c, 0, "MSETNX mkey:1 x brand-new y");
    EXPECT_INT(c, 0, "EXISTS brand-new");
    EXPECT_BULK(c, "val-7", "GET mkey:1");
    EXPECT_INT(c, 1, "MSETNX n1 x n2 y");
    EXPECT_BULK(c, "y", "GET n2");
    EXPECT_OK(c, "MSET same a same b");  /* last one wins */
    EXPECT_BULK(c, "b", "GET same");
    free(argv);
    free(lens);
    free(keys);
    free(vals);
}

static void test_incr_family(void **state)
{
    EXPECT_INT(c, 1, "INCR n");
    EXPECT_INT(c, 11, "INCRBY n 10");
    EXPECT_INT(c, 10, "DECR n");
    EXPECT_INT(c, -5, "DECRBY n 15");
    EXPECT_INT(c, -5, "INCRBY n 0");
    EXPECT_BULK(c, "-5", "GET n");
    EXPECT_INT(c, -1, "DECR fresh");
    EXPECT_OK(c, "SET s abc");
    EXPECT_ERR(c, "ERR value is not an integer or out of range", "INCR s");
    EXPECT_OK(c, "SET s %s", " 1");
    EXPECT_ERR(c, "ERR value is not an integer or out of range", "INCR s");
    EXPECT_OK(c, "SET s 1.5");
    EXPECT_ERR(c, "ERR value is not an integer or out of range", "DECR s");
    EXPECT_ERR(c, "ERR value is not an integer or out of range", "INCRBY n x");
    EXPECT_ERR(c, "ERR value is not an integer or out of range",
               "INCRBY n 9223372036854775808");
    EXPECT_OK(c, "SET max 9223372036854775807");
    EXPECT_ERR(c, "ERR increment or decrement would overflow", "INCR max");
    EXPECT_ERR(c, "ERR increment or decrement would overflow", "INCRBY max 1");
    EXPECT_OK(c, "SET min -9223372036854775808");
    EXPECT_ERR(c, "ERR increment or decrement would overflow", "DECR min");
    EXPECT_ERR(c, "ERR increment or decrement would overflow", "INCRBY min -1");
    EXPECT_BULK(c, "9223372036854775807", "GET max");  /* unchanged */
    /* INCR keeps the TTL */
    EXPECT_OK(c, "SET t 5 EX 100");
    EXPECT_INT(c, 6, "INCR t");
    redisReply *r = CMD(c, "TTL t");
    assert_true(r->integer > 90 && r->integer <= 100);
    freeReplyObject(r);
}

static void test_incrbyfloat(void **state)
{
    EXPECT_BULK(c, "10.5", "INCRBYFLOAT f 10.5");
    EXPECT_BULK(c, "10.6", "INCRBYFLOAT f 0.1");
    EXPECT_BULK(c, "5.6", "INCRBYFLOAT f -5");
    EXPECT_OK(c, "SET g 5.0e3");
    EXPECT_BULK(c, "5200", "INCRBYFLOAT g 2.0e2");
    EXPECT_BULK(c, "5200", "GET g");
    EXPECT_OK(c, "SET s abc");
    EXPECT_ERR(c, "ERR value is not a valid float", "INCRBYFLOAT s 1");
    EXPECT_ERR(c, "ERR value is not a valid float", "INCRBYFLOAT f abc");
    EXPECT_ERR(c, "ERR increment would produce NaN or Infinity", "INCRBYFLOAT f inf");
}

static void test_append_strlen_ranges(void **state)
{
    EXPECT_INT(c, 5, "APPEND k Hello");
    EXPECT_INT(c, 11, "APPEND k %s", " World");
    EXPECT_INT(c, 11, "STRLEN k");
    EXPECT_INT(c, 0, "STRLEN missing");
    EXPECT_BULK(c, "Hello", "GETRANGE k 0 4");
    EXPECT_BULK(c, "World", "GETRANGE k -5 -1");
    EXPECT_BULK(c, "Hello World", "GETRANGE k 0 -1");
    EXPECT_BULK(c, "Hello World", "GETRANGE k 0 1000");
    EXPECT_BULK(c, "", "GETRANGE k 5 3");
    EXPECT_BULK(c, "H", "GETRANGE k 0 -100");
    EXPECT_BULK(c, "", "GETRANGE k -100 -200");
    EXPECT_BULK(c, "", "GETRANGE missing 0 -1");
    EXPECT_ERR(c, "ERR value is not an integer or out of range", "GETRANGE k a 1");

    EXPECT_INT(c, 11, "SETRANGE k 6 Redis");
    EXPECT_BULK(c, "Hello Redis", "GET k");
    EXPECT_INT(c, 13, "SETRANGE k 11 !!");
    EXPECT_INT(c, 6, "SETRANGE pad 5 x");
    EXPECT_BULKN(c, "\0\0\0\0\0x", 6, "GET pad");
    EXPECT_INT(c, 0, "SETRANGE empty 3 %s", "");   /* no key created */
    EXPECT_INT(c, 0, "EXISTS empty");
    EXPECT_ERR(c, "ERR offset is out of range", "SETRANGE k -1 x");
    EXPECT_ERR(c, "ERR string exceeds maximum allowed size (proto-max-bulk-len)",
               "SETRANGE k 536870912 x");
}

/* SET ... GET and the other string reads on every type; SET without GET
 * replaces any type. Redis 7.0.15's answers, byte for byte. */
static void test_every_type(void **state)
{
    EXPECT_INT(c, 1, "HSET h f v");
    EXPECT_INT(c, 1, "RPUSH l a");
    EXPECT_INT(c, 1, "SADD s m");
    const char *keys[] = {"h", "l", "s"}, *types[] = {"hash", "list", "set"};
    for (int i = 0; i < 3; i++) {
        const char *k = keys[i];
        EXPECT_ERR(c, WRONGTYPE, "SET %s v GET", k);
        EXPECT_ERR(c, WRONGTYPE, "SET %s v NX GET", k);
        EXPECT_ERR(c, WRONGTYPE, "SET %s v XX GET", k);
        EXPECT_ERR(c, WRONGTYPE, "GETSET %s v", k);
        EXPECT_ERR(c, WRONGTYPE, "GETDEL %s", k);
        EXPECT_ERR(c, WRONGTYPE, "GETEX %s PERSIST", k);
        EXPECT_ERR(c, WRONGTYPE, "GETEX %s EX 0", k);       /* the type before the time */
        EXPECT_ERR(c, WRONGTYPE, "GET %s", k);
        EXPECT_ERR(c, WRONGTYPE, "STRLEN %s", k);
        EXPECT_ERR(c, WRONGTYPE, "APPEND %s x", k);
        EXPECT_ERR(c, WRONGTYPE, "GETRANGE %s 0 1", k);
        EXPECT_ERR(c, WRONGTYPE, "SETRANGE %s 0 %s", k, "");
        EXPECT_ERR(c, WRONGTYPE, "SETRANGE %s 536870912 x", k);   /* before the size */
        EXPECT_ERR(c, WRONGTYPE, "INCR %s", k);
        EXPECT_ERR(c, WRONGTYPE, "INCRBYFLOAT %s 1", k);
        EXPECT_ERR(c, WRONGTYPE, "INCRBYFLOAT %s x", k);     /* the type before the increment */
        EXPECT_INT(c, 0, "SETNX %s v", k);
        EXPECT_INT(c, 0, "MSETNX %s v fresh v", k);
        EXPECT_STATUS(c, types[i], "TYPE %s", k);            /* nothing changed */
        EXPECT_OK(c, "SET %s v", k);                         /* replaced, whatever it was */
        EXPECT_BULK(c, "v", "GET %s", k);
    }
    EXPECT_INT(c, 0, "EXISTS fresh");
    EXPECT_ERR(c, "ERR value is not a valid float", "INCRBYFLOAT h x");
    EXPECT_NIL(c, "GETEX missing EX x");                     /* a missing key: nil first */
    EXPECT_NIL(c, "GETEX missing EX 0");
    EXPECT_ERR(c, "ERR syntax error", "GETEX missing FOO");
    EXPECT_ERR(c, "ERR syntax error", "GETEX h EX 10 PERSIST");
    EXPECT_ERR(c, "ERR syntax error", "GETEX h PERSIST EX 10");
    EXPECT_ERR(c, "ERR invalid expire time in 'getex' command", "GETEX h EX 9223372036854775807");
    EXPECT_ERR(c, "ERR invalid expire time in 'getex' command", "GETEX h PX 9223372036854775807");
    EXPECT_BULK(c, "v", "GETEX h EXAT 1");                   /* in the past: deleted */
    EXPECT_INT(c, 0, "EXISTS h");
}

/* Ranges and numbers at their edges. */
static void test_edges(void **state)
{
    EXPECT_INT(c, 0, "SETRANGE missing 536870912 %s", "");   /* writes nothing, creates nothing */
    EXPECT_INT(c, 0, "EXISTS missing");
    EXPECT_ERR(c, "ERR offset is out of range", "SETRANGE missing -1 %s", "");
    EXPECT_ERR(c, "ERR value is not an integer or out of range", "SETRANGE missing x %s", "");
    EXPECT_OK(c, "SET k hello");
    EXPECT_INT(c, 5, "SETRANGE k 536870912 %s", "");
    EXPECT_BULK(c, "", "GETRANGE k 9223372036854775807 9223372036854775807");
    EXPECT_BULK(c, "h", "GETRANGE k -9223372036854775808 -9223372036854775808");
    EXPECT_BULK(c, "", "GETRANGE k 3 -9223372036854775808");
    EXPECT_BULK(c, "", "GETRANGE k -1 -5");
    EXPECT_BULK(c, "el", "SUBSTR k 1 2");
    EXPECT_ERR(c, "ERR value is not an integer or out of range", "GETRANGE missing x 1");
    EXPECT_OK(c, "SET e %s", "");
    EXPECT_BULK(c, "", "GETRANGE e 0 -1");
    EXPECT_INT(c, 0, "APPEND a %s", "");                     /* created, empty */
    EXPECT_INT(c, 1, "EXISTS a");
    EXPECT_BULK(c, "16", "INCRBYFLOAT f 0x10");
    EXPECT_ERR(c, "ERR value is not a valid float", "INCRBYFLOAT f nan");
    EXPECT_ERR(c, "ERR value is not a valid float", "INCRBYFLOAT f 1e");
    EXPECT_OK(c, "SET sp %s", " 1");
    EXPECT_ERR(c, "ERR value is not a valid float", "INCRBYFLOAT sp 1");
    EXPECT_ERR(c, "ERR decrement would overflow", "DECRBY n -9223372036854775808");
    EXPECT_INT(c, -9223372036854775807LL, "DECRBY n 9223372036854775807");
    EXPECT_INT(c, INT64_MIN, "DECR n");
    EXPECT_ERR(c, "ERR increment or decrement would overflow", "DECR n");
    EXPECT_INT(c, 1, "MSETNX m 1 m 2");                      /* the last one wins */
    EXPECT_BULK(c, "2", "GET m");
    EXPECT_ERR(c, "ERR wrong number of arguments for 'msetnx' command", "MSETNX m");
    EXPECT_ERR(c, "ERR invalid expire time in 'setex' command", "SETEX k 9223372036854775 v");
    EXPECT_ERR(c, "ERR value is not an integer or out of range", "SETEX k 1.5 v");
    EXPECT_OK(c, "SET k v PXAT 9223372036854775807");
    EXPECT_ERR(c, "ERR invalid expire time in 'set' command", "SET k v EXAT 9223372036854775807");
    EXPECT_BULK(c, "v", "SET k w KEEPTTL GET NX");
    EXPECT_OK(c, "SET k v EX 10 EX 20");                     /* the last one wins */
    redisReply *r = CMD(c, "TTL k");
    assert_true(r->integer > 10 && r->integer <= 20);
    freeReplyObject(r);
}

/* ---- expiry ---- */

static void test_expire_family(void **state)
{
    long long now = (long long)time(NULL);
    redisReply *r;
    EXPECT_OK(c, "MSET a 1 b 2 c 3 d 4");
    EXPECT_INT(c, -1, "TTL a");
    EXPECT_INT(c, -1, "PTTL a");
    EXPECT_INT(c, -1, "EXPIRETIME a");
    EXPECT_INT(c, -2, "TTL missing");
    EXPECT_INT(c, -2, "EXPIRETIME missing");
    EXPECT_INT(c, 1, "EXPIRE a 100");
    r = CMD(c, "TTL a");
    assert_true(r->integer > 90 && r->integer <= 100);
    freeReplyObject(r);
    EXPECT_INT(c, 1, "PEXPIRE b 100000");
    r = CMD(c, "PTTL b");
    assert_true(r->integer > 90000 && r->integer <= 100000);
    freeReplyObject(r);
    EXPECT_INT(c, 1, "EXPIREAT c %lld", now + 500);
    EXPECT_INT(c, now + 500, "EXPIRETIME c");
    EXPECT_INT(c, 1, "PEXPIREAT d %lld", (now + 600) * 1000);
    EXPECT_INT(c, now + 600, "EXPIRETIME d");
    EXPECT_INT(c, 0, "EXPIRE missing 10");
    EXPECT_ERR(c, "ERR value is not an integer or out of range", "EXPIRE a abc");
    EXPECT_INT(c, 1, "PERSIST a");
    EXPECT_INT(c, 0, "PERSIST a");
    EXPECT_INT(c, 0, "PERSIST missing");
    EXPECT_INT(c, -1, "TTL a");
    /* a non-positive TTL deletes */
    EXPECT_INT(c, 1, "EXPIRE a -1");
    EXPECT_INT(c, 0, "EXISTS a");
    EXPECT_INT(c, 1, "EXPIREAT b %lld", now - 100);
    EXPECT_INT(c, 0, "EXISTS b");
    /* and one that runs out */
    EXPECT_OK(c, "SET e v");
    EXPECT_INT(c, 1, "PEXPIRE e 200");
    harness_sleep_ms(400);
    EXPECT_NIL(c, "GET e");
    EXPECT_INT(c, -2, "PTTL e");
}

/* ---- binary safety, size ---- */

static void test_binary_safe(void **state)
{
    static const char key[] = "bin\0key\r\nx";
    static const char val[] = "a\0b\r\nc\r\n\0\r\n$3\r\n";
    size_t kl = sizeof(key) - 1, vl = sizeof(val) - 1;
    EXPECT_OK(c, "SET %b %b", key, kl, val, vl);
    EXPECT_BULKN(c, val, vl, "GET %b", key, kl);
    EXPECT_INT(c, (long long)vl, "STRLEN %b", key, kl);
    EXPECT_INT(c, (long long)vl + 3, "APPEND %b %b", key, kl, "\0\r\n", (size_t)3);
    EXPECT_BULKN(c, "\0\r\n", 3, "GETRANGE %b -3 -1", key, kl);
    EXPECT_NIL(c, "GET %b", "bin", (size_t)3);   /* the \0 is part of the key */
    EXPECT_BULKN(c, "\r\n", 2, "ECHO %b", "\r\n", (size_t)2);
}

static void test_big_value_10mb(void **state)
{
    size_t n = 10 * 1024 * 1024;
    char *v = malloc(n);
    assert_non_null(v);
    for (size_t i = 0; i < n; i++)
        v[i] = (char)('a' + (i * 7 + i / 4096) % 26);
    v[12345] = '\0';
    v[n - 1] = '\n';
    EXPECT_OK(c, "SET big %b", v, n);
    EXPECT_INT(c, (long long)n, "STRLEN big");
    redisReply *r = CMD(c, "GET big");
    assert_int_equal(r->type, REDIS_REPLY_STRING);
    assert_int_equal(r->len, n);
    assert_true(memcmp(r->str, v, n) == 0);
    freeReplyObject(r);
    EXPECT_BULKN(c, v + n - 10, 10, "GETRANGE big -10 -1");
    EXPECT_INT(c, 1, "DEL big");
    free(v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup(f, test_setup)
        T(test_set_get_options),
        T(test_set_px_expires),
        T(test_set_exat_pxat),
        T(test_setnx_setex_psetex_getset),
        T(test_getdel_getex),
        T(test_mset_mget_many),
        T(test_incr_family),
        T(test_incrbyfloat),
        T(test_append_strlen_ranges),
        T(test_every_type),
        T(test_edges),
        T(test_expire_family),
        T(test_binary_safe),
        T(test_big_value_10mb),
#undef T
    };
    int failed = cmocka_run_group_tests_name("integration/strings", tests,
                                             group_setup, group_teardown);
    return harness_finish(failed);
}
