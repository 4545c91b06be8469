/*
 * test_commands: every command mmcache speaks, through hiredis, against one
 * server started for the group. Expected replies and error strings are
 * Redis 7's: the same file passes under MMCACHE_TEST_AGAINST=redis.
 *
 * Each test starts from an empty keyspace (FLUSHALL in the per-test setup).
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "check.h"
#include "harness.h"

static struct harness_server srv;
static redisContext *c;

static int group_setup(void **state)
{
    static const char *const args[] = {"--maxmemory", "100mb", NULL};
    if (harness_start(&srv, args, NULL, NULL) != 0)
        return -1;
    c = harness_connect(&srv);
    return c ? 0 : -1;
}

static int group_teardown(void **state)
{
    if (c)
        redisFree(c);
    c = NULL;
    int st = harness_stop(&srv, 10000);
    if (st != 0) {
        fprintf(stderr, "server exit status %d after SIGTERM (want 0)\n", st);
        return -1;
    }
    return 0;
}

static int test_setup(void **state)
{
    /* back to db 0 even if a broken SELECT 1 succeeded in an earlier test */
    redisReply *r = redisCommand(c, "SELECT 0");
    if (r)
        freeReplyObject(r);
    r = redisCommand(c, "FLUSHALL");
    int ok = r && r->type == REDIS_REPLY_STATUS;
    if (r)
        freeReplyObject(r);
    return ok ? 0 : -1;
}

/* ---- connection, errors ---- */

static void test_ping_echo(void **state)
{
    EXPECT_STATUS(c, "PONG", "PING");
    EXPECT_BULK(c, "hello", "PING hello");
    EXPECT_ERR(c, "ERR wrong number of arguments for 'ping' command", "PING a b");
    EXPECT_BULK(c, "x y", "ECHO %s", "x y");
    EXPECT_BULK(c, "", "ECHO %s", "");
    EXPECT_ERR(c, "ERR wrong number of arguments for 'echo' command", "ECHO");
    EXPECT_ERR(c, "ERR wrong number of arguments for 'echo' command", "ECHO a b");
}

static void test_unknown_command(void **state)
{
    EXPECT_ERR(c, "ERR unknown command 'foo', with args beginning with: 'a' 'b' ",
               "foo a b");
    EXPECT_ERR(c, "ERR unknown command 'FOO', with args beginning with: ", "FOO");
    /* the connection is still usable */
    EXPECT_STATUS(c, "PONG", "PING");
}

static void test_wrong_arity(void **state)
{
    static const char *const cases[][2] = {
        {"GET", "get"},          {"GET a b", "get"},     {"SET k", "set"},
        {"MSET a", "mset"},      {"MSET a b c", "mset"}, {"DEL", "del"},
        {"INCR", "incr"},        {"INCRBY k", "incrby"}, {"EXPIRE k", "expire"},
        {"TTL", "ttl"},          {"MGET", "mget"},       {"SETEX k 10", "setex"},
        {"GETRANGE k 0", "getrange"}, {"RENAME a", "rename"},
        {"STRLEN", "strlen"},    {"APPEND k", "append"}, {"EXISTS", "exists"},
        {"DBSIZE x", "dbsize"},  {"SELECT", "select"},   {"MSETNX a", "msetnx"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char want[128];
        snprintf(want, sizeof(want),
                 "ERR wrong number of arguments for '%s' command", cases[i][1]);
        EXPECT_ERR(c, want, cases[i][0]);
    }
}

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
    EXPECT_OK(c, "SET k v PX 200");
    EXPECT_BULK(c, "v", "GET k");
    redisReply *r = CMD(c, "PTTL k");
    assert_int_equal(r->type, REDIS_REPLY_INTEGER);
    assert_true(r->integer > 0 && r->integer <= 200);
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

static void test_del_unlink_exists_touch(void **state)
{
    EXPECT_OK(c, "MSET a 1 b 2 c 3 d 4");
    EXPECT_INT(c, 2, "EXISTS a a");     /* counted per argument */
    EXPECT_INT(c, 3, "EXISTS a b zz c");
    EXPECT_INT(c, 2, "TOUCH a b zz");
    EXPECT_INT(c, 2, "DEL a b zz");
    EXPECT_INT(c, 0, "DEL a");
    EXPECT_INT(c, 1, "UNLINK c zz");
    EXPECT_INT(c, 0, "EXISTS a b c");
    EXPECT_INT(c, 1, "DBSIZE");
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

/* ---- keys and expiry ---- */

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

static void test_type_rename_copy(void **state)
{
    EXPECT_OK(c, "SET a 1");
    EXPECT_STATUS(c, "string", "TYPE a");
    EXPECT_STATUS(c, "none", "TYPE missing");
    EXPECT_OK(c, "RENAME a b");
    EXPECT_INT(c, 0, "EXISTS a");
    EXPECT_BULK(c, "1", "GET b");
    EXPECT_ERR(c, "ERR no such key", "RENAME missing x");
    EXPECT_ERR(c, "ERR no such key", "RENAMENX missing x");
    EXPECT_OK(c, "SET c 3");
    EXPECT_INT(c, 0, "RENAMENX b c");
    EXPECT_BULK(c, "3", "GET c");
    EXPECT_INT(c, 1, "RENAMENX b d");
    EXPECT_OK(c, "SET t v EX 100");
    EXPECT_OK(c, "RENAME t t2");        /* keeps the TTL */
    redisReply *r = CMD(c, "TTL t2");
    assert_true(r->integer > 90 && r->integer <= 100);
    freeReplyObject(r);
    EXPECT_OK(c, "RENAME c c");         /* same name: OK, no change */
    EXPECT_BULK(c, "3", "GET c");

    EXPECT_INT(c, 1, "COPY c cc");
    EXPECT_BULK(c, "3", "GET cc");
    EXPECT_INT(c, 0, "COPY d cc");      /* destination exists */
    EXPECT_BULK(c, "3", "GET cc");
    EXPECT_INT(c, 1, "COPY d cc REPLACE");
    EXPECT_BULK(c, "1", "GET cc");
    EXPECT_INT(c, 0, "COPY missing x");
    EXPECT_INT(c, 1, "COPY t2 t3");     /* copies the TTL too */
    r = CMD(c, "TTL t3");
    assert_true(r->integer > 90 && r->integer <= 100);
    freeReplyObject(r);
    EXPECT_ERR(c, "ERR syntax error", "COPY c x FOO");
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* KEYS reply as a sorted, comma-joined string, for exact comparison */
static void keys_joined(const char *pattern, char *out, size_t cap)
{
    redisReply *r = CMD(c, "KEYS %s", pattern);
    assert_int_equal(r->type, REDIS_REPLY_ARRAY);
    char **v = calloc(r->elements + 1, sizeof(char *));
    for (size_t i = 0; i < r->elements; i++)
        v[i] = r->element[i]->str;
    qsort(v, r->elements, sizeof(char *), cmp_str);
    out[0] = '\0';
    for (size_t i = 0; i < r->elements; i++) {
        strncat(out, v[i], cap - strlen(out) - 2);
        if (i + 1 < r->elements)
            strcat(out, ",");
    }
    free(v);
    freeReplyObject(r);
}

static void test_keys_pattern(void **state)
{
    char got[1024];
    EXPECT_OK(c, "MSET user:1 a user:2 b user:10 c other x hello 1 hallo 2 hxllo 3 h*llo 4");
    keys_joined("user:*", got, sizeof(got));
    assert_string_equal(got, "user:1,user:10,user:2");
    keys_joined("user:?", got, sizeof(got));
    assert_string_equal(got, "user:1,user:2");
    keys_joined("h[ae]llo", got, sizeof(got));
    assert_string_equal(got, "hallo,hello");
    keys_joined("h[^e]llo", got, sizeof(got));
    assert_string_equal(got, "h*llo,hallo,hxllo");
    keys_joined("h\\*llo", got, sizeof(got));
    assert_string_equal(got, "h*llo");
    keys_joined("nomatch*", got, sizeof(got));
    assert_string_equal(got, "");
    keys_joined("*", got, sizeof(got));
    assert_string_equal(got, "h*llo,hallo,hello,hxllo,other,user:1,user:10,user:2");
}

static void test_scan_10000(void **state)
{
    enum { N = 10000 };
    for (int i = 0; i < N; i++)
        redisAppendCommand(c, "SET scan:%d %d", i, i);
    for (int i = 0; i < N; i++) {
        redisReply *r = NULL;
        assert_int_equal(redisGetReply(c, (void **)&r), REDIS_OK);
        freeReplyObject(r);
    }
    EXPECT_INT(c, N, "DBSIZE");

    unsigned char *seen = calloc(N, 1);
    char cursor[32] = "0";
    int calls = 0, total = 0;
    do {
        redisReply *r = CMD(c, "SCAN %s COUNT 100", cursor);
        assert_int_equal(r->type, REDIS_REPLY_ARRAY);
        assert_int_equal(r->elements, 2);
        snprintf(cursor, sizeof(cursor), "%s", r->element[0]->str);
        redisReply *ks = r->element[1];
        for (size_t i = 0; i < ks->elements; i++) {
            int idx = -1;
            assert_int_equal(sscanf(ks->element[i]->str, "scan:%d", &idx), 1);
            assert_true(idx >= 0 && idx < N);
            if (seen[idx])
                fail_msg("SCAN returned scan:%d twice", idx);
            seen[idx] = 1;
            total++;
        }
        freeReplyObject(r);
        assert_true(++calls < 100000);  /* bounded */
    } while (strcmp(cursor, "0") != 0);
    assert_int_equal(total, N);
    free(seen);

    /* MATCH filters; every key matching scan:99* comes back once */
    int matched = 0;
    strcpy(cursor, "0");
    do {
        redisReply *r = CMD(c, "SCAN %s MATCH scan:99* COUNT 1000", cursor);
        snprintf(cursor, sizeof(cursor), "%s", r->element[0]->str);
        for (size_t i = 0; i < r->element[1]->elements; i++) {
            assert_memory_equal(r->element[1]->element[i]->str, "scan:99", 7);
            matched++;
        }
        freeReplyObject(r);
    } while (strcmp(cursor, "0") != 0);
    assert_int_equal(matched, 1 + 10 + 100); /* 99, 990-999, 9900-9999 */

    EXPECT_ERR(c, "ERR invalid cursor", "SCAN abc");
    EXPECT_ERR(c, "ERR syntax error", "SCAN 0 FOO");
}

static void test_randomkey_dbsize_flush(void **state)
{
    EXPECT_NIL(c, "RANDOMKEY");
    EXPECT_INT(c, 0, "DBSIZE");
    EXPECT_OK(c, "SET only v");
    EXPECT_BULK(c, "only", "RANDOMKEY");
    EXPECT_OK(c, "MSET a 1 b 2");
    EXPECT_INT(c, 3, "DBSIZE");
    EXPECT_OK(c, "FLUSHDB");
    EXPECT_INT(c, 0, "DBSIZE");
    EXPECT_OK(c, "MSET a 1 b 2");
    EXPECT_OK(c, "FLUSHALL");
    EXPECT_INT(c, 0, "DBSIZE");
    EXPECT_NIL(c, "GET a");
}

static void test_select(void **state)
{
    EXPECT_OK(c, "SELECT 0");
    EXPECT_ERR(c, "ERR DB index is out of range", "SELECT 1");
    EXPECT_ERR(c, "ERR value is not an integer or out of range", "SELECT abc");
    EXPECT_OK(c, "SET k v");            /* still on db 0 */
    EXPECT_BULK(c, "v", "GET k");
}

/* ---- binary safety, size, pipelining, concurrency ---- */

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

static void test_pipeline_1000(void **state)
{
    enum { N = 1000 };
    for (int i = 0; i < N; i++) {
        switch (i % 4) {
        case 0: redisAppendCommand(c, "SET p:%d v%d", i, i); break;
        case 1: redisAppendCommand(c, "GET p:%d", i - 1); break;
        case 2: redisAppendCommand(c, "INCR pcount"); break;
        case 3: redisAppendCommand(c, "ECHO e%d", i); break;
        }
    }
    int incrs = 0;
    for (int i = 0; i < N; i++) {
        redisReply *r = NULL;
        char want[32];
        assert_int_equal(redisGetReply(c, (void **)&r), REDIS_OK);
        switch (i % 4) {
        case 0:
            assert_int_equal(r->type, REDIS_REPLY_STATUS);
            assert_string_equal(r->str, "OK");
            break;
        case 1:
            snprintf(want, sizeof(want), "v%d", i - 1);
            assert_int_equal(r->type, REDIS_REPLY_STRING);
            assert_string_equal(r->str, want);
            break;
        case 2:
            assert_int_equal(r->type, REDIS_REPLY_INTEGER);
            assert_int_equal(r->integer, ++incrs);
            break;
        case 3:
            snprintf(want, sizeof(want), "e%d", i);
            assert_string_equal(r->str, want);
            break;
        }
        freeReplyObject(r);
    }
    EXPECT_BULK(c, "250", "GET pcount");
}

enum { NCLIENTS = 200, INCRS_EACH = 50 };
static pthread_barrier_t barrier;

static void *incr_worker(void *arg)
{
    long errors = 0;
    redisContext *cc = harness_connect(&srv);
    redisReply *r;
    if (!cc || !(r = redisCommand(cc, "PING"))) {
        pthread_barrier_wait(&barrier);
        if (cc)
            redisFree(cc);
        return (void *)(long)INCRS_EACH;
    }
    freeReplyObject(r);
    pthread_barrier_wait(&barrier);     /* all 200 connected at once */
    for (int i = 0; i < INCRS_EACH; i++) {
        r = redisCommand(cc, "INCR shared");
        if (!r || r->type != REDIS_REPLY_INTEGER)
            errors++;
        if (r)
            freeReplyObject(r);
    }
    redisFree(cc);
    return (void *)errors;
}

static void test_many_clients_incr(void **state)
{
    pthread_t t[NCLIENTS];
    long errors = 0;
    pthread_barrier_init(&barrier, NULL, NCLIENTS + 1);
    for (int i = 0; i < NCLIENTS; i++)
        assert_int_equal(pthread_create(&t[i], NULL, incr_worker, NULL), 0);
    pthread_barrier_wait(&barrier);
    long long clients = harness_info_ll(c, "connected_clients");
    for (int i = 0; i < NCLIENTS; i++) {
        void *ret;
        pthread_join(t[i], &ret);
        errors += (long)ret;
    }
    pthread_barrier_destroy(&barrier);
    assert_int_equal(errors, 0);
    assert_true(clients >= NCLIENTS + 1);
    EXPECT_BULK(c, "10000", "GET shared");
}

/* ---- server and connection commands ---- */

static int info_has(const char *info, const char *field)
{
    size_t fl = strlen(field);
    for (const char *p = info; p && *p;) {
        if (strncmp(p, field, fl) == 0 && p[fl] == ':')
            return 1;
        p = strchr(p, '\n');
        if (p)
            p++;
    }
    return 0;
}

static void test_info_fields(void **state)
{
    static const char *const fields[] = {
        "redis_version", "process_id", "tcp_port", "connected_clients",
        "used_memory", "maxmemory", "mem_allocator",
        "total_commands_processed", "instantaneous_ops_per_sec",
        "keyspace_hits", "keyspace_misses", "evicted_keys", "expired_keys",
    };
    EXPECT_OK(c, "MSET a 1 b 2 c 3");
    EXPECT_OK(c, "SET t v EX 100");
    redisReply *r = CMD(c, "INFO");
    assert_true(r->type == REDIS_REPLY_STRING);
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
        if (!info_has(r->str, fields[i]))
            fail_msg("INFO lacks %s", fields[i]);
    assert_non_null(strstr(r->str, "\r\ndb0:keys=4,expires=1,"));
    freeReplyObject(r);
    assert_int_equal(harness_info_ll(c, "process_id"), srv.pid);
    assert_int_equal(harness_info_ll(c, "tcp_port"), srv.port);
    assert_int_equal(harness_info_ll(c, "maxmemory"), 100LL * 1024 * 1024);
    assert_true(harness_info_ll(c, "used_memory") > 0);
    assert_true(harness_info_ll(c, "connected_clients") >= 1);
    long long cmds = harness_info_ll(c, "total_commands_processed");
    EXPECT_STATUS(c, "PONG", "PING");
    EXPECT_STATUS(c, "PONG", "PING");
    /* the INFO itself counts once it has run: at least 2 more, at most 3 */
    long long cmds2 = harness_info_ll(c, "total_commands_processed");
    assert_true(cmds2 - cmds >= 2 && cmds2 - cmds <= 3);

    /* sections */
    r = CMD(c, "INFO keyspace");
    assert_non_null(strstr(r->str, "# Keyspace"));
    assert_null(strstr(r->str, "used_memory:"));
    freeReplyObject(r);
    r = CMD(c, "INFO server");
    assert_non_null(strstr(r->str, "redis_version:"));
    freeReplyObject(r);
}

static void test_info_hits_misses(void **state)
{
    EXPECT_OK(c, "MSET h1 a h2 b");
    long long hits = harness_info_ll(c, "keyspace_hits");
    long long misses = harness_info_ll(c, "keyspace_misses");
    assert_true(hits >= 0 && misses >= 0);
    EXPECT_BULK(c, "a", "GET h1");
    EXPECT_BULK(c, "a", "GET h1");
    EXPECT_BULK(c, "b", "GET h2");
    EXPECT_NIL(c, "GET nope1");
    EXPECT_NIL(c, "GET nope2");
    assert_int_equal(harness_info_ll(c, "keyspace_hits") - hits, 3);
    assert_int_equal(harness_info_ll(c, "keyspace_misses") - misses, 2);
    /* writes and PINGs move neither */
    EXPECT_OK(c, "SET h3 c");
    EXPECT_STATUS(c, "PONG", "PING");
    assert_int_equal(harness_info_ll(c, "keyspace_hits") - hits, 3);
    assert_int_equal(harness_info_ll(c, "keyspace_misses") - misses, 2);
}

static void test_expired_keys_counter(void **state)
{
    long long before = harness_info_ll(c, "expired_keys");
    EXPECT_OK(c, "SET x1 v PX 50");
    EXPECT_OK(c, "SET x2 v PX 50");
    harness_sleep_ms(200);
    EXPECT_NIL(c, "GET x1");
    EXPECT_NIL(c, "GET x2");
    assert_int_equal(harness_info_ll(c, "expired_keys") - before, 2);
}

static void test_client_commands(void **state)
{
    redisContext *c2 = harness_connect(&srv);
    assert_non_null(c2);
    EXPECT_NIL(c2, "CLIENT GETNAME");
    EXPECT_OK(c2, "CLIENT SETNAME worker-7");
    EXPECT_BULK(c2, "worker-7", "CLIENT GETNAME");
    EXPECT_ERR(c2, "ERR Client names cannot contain spaces, newlines or special characters.",
               "CLIENT SETNAME %s", "a b");
    EXPECT_BULK(c2, "worker-7", "CLIENT GETNAME");
    redisReply *r = CMD(c2, "CLIENT ID");
    assert_int_equal(r->type, REDIS_REPLY_INTEGER);
    long long id = r->integer;
    assert_true(id > 0);
    freeReplyObject(r);
    r = CMD(c, "CLIENT ID");
    assert_true(r->integer != id);
    freeReplyObject(r);

    r = CMD(c, "CLIENT LIST");
    assert_int_equal(r->type, REDIS_REPLY_STRING);
    char want[64];
    snprintf(want, sizeof(want), "id=%lld addr=127.0.0.1:", id);
    char *line = strstr(r->str, want);
    assert_non_null(line);
    char *eol = strchr(line, '\n');
    assert_non_null(eol);
    *eol = '\0';
    assert_non_null(strstr(line, " name=worker-7 "));
    freeReplyObject(r);
    /* empty name clears it */
    EXPECT_OK(c2, "CLIENT SETNAME %s", "");
    EXPECT_NIL(c2, "CLIENT GETNAME");
    redisFree(c2);
}

static void test_hello(void **state)
{
    redisReply *r = CMD(c, "HELLO 2");
    assert_int_equal(r->type, REDIS_REPLY_ARRAY);
    assert_true(r->elements >= 10 && r->elements % 2 == 0);
    int have_proto = 0, have_id = 0, have_version = 0;
    for (size_t i = 0; i + 1 < r->elements; i += 2) {
        const char *k = r->element[i]->str;
        redisReply *v = r->element[i + 1];
        if (strcmp(k, "proto") == 0) {
            assert_int_equal(v->type, REDIS_REPLY_INTEGER);
            assert_int_equal(v->integer, 2);
            have_proto = 1;
        } else if (strcmp(k, "id") == 0) {
            assert_int_equal(v->type, REDIS_REPLY_INTEGER);
            have_id = 1;
        } else if (strcmp(k, "version") == 0) {
            have_version = 1;
        }
    }
    assert_true(have_proto && have_id && have_version);
    freeReplyObject(r);
    EXPECT_ERR(c, "NOPROTO unsupported protocol version", "HELLO 4");
    EXPECT_STATUS(c, "PONG", "PING");   /* still RESP2 */
}

static void test_config_get(void **state)
{
    redisReply *r = CMD(c, "CONFIG GET maxmemory");
    assert_int_equal(r->type, REDIS_REPLY_ARRAY);
    assert_int_equal(r->elements, 2);
    assert_string_equal(r->element[0]->str, "maxmemory");
    assert_string_equal(r->element[1]->str, "104857600");
    freeReplyObject(r);
    r = CMD(c, "CONFIG GET maxmemory-policy");
    assert_int_equal(r->elements, 2);
    freeReplyObject(r);
    r = CMD(c, "CONFIG GET no-such-setting");
    assert_int_equal(r->type, REDIS_REPLY_ARRAY);
    assert_int_equal(r->elements, 0);
    freeReplyObject(r);
    EXPECT_ERR(c, "ERR wrong number of arguments for 'config|get' command", "CONFIG GET");
}

static void test_command_time_debug_memory(void **state)
{
    redisReply *r = CMD(c, "COMMAND");
    assert_int_equal(r->type, REDIS_REPLY_ARRAY);
    size_t ncmds = r->elements;
    int have_get = 0;
    for (size_t i = 0; i < r->elements; i++) {
        redisReply *e = r->element[i];
        assert_int_equal(e->type, REDIS_REPLY_ARRAY);
        if (strcmp(e->element[0]->str, "get") == 0) {
            have_get = 1;
            assert_int_equal(e->element[1]->integer, 2);     /* arity */
        }
    }
    assert_true(have_get && ncmds >= 50);
    freeReplyObject(r);
    EXPECT_INT(c, (long long)ncmds, "COMMAND COUNT");

    r = CMD(c, "TIME");
    assert_int_equal(r->type, REDIS_REPLY_ARRAY);
    assert_int_equal(r->elements, 2);
    long long secs = atoll(r->element[0]->str);
    long long usecs = atoll(r->element[1]->str);
    assert_true(llabs(secs - (long long)time(NULL)) <= 2);
    assert_true(usecs >= 0 && usecs < 1000000);
    freeReplyObject(r);

    long long t0 = harness_now_ms();
    EXPECT_OK(c, "DEBUG SLEEP 0.2");
    assert_true(harness_now_ms() - t0 >= 190);
    EXPECT_OK(c, "DEBUG SLEEP 0");

    EXPECT_OK(c, "SET m %s", "0123456789012345678901234567890123456789");
    r = CMD(c, "MEMORY USAGE m");
    assert_int_equal(r->type, REDIS_REPLY_INTEGER);
    assert_true(r->integer >= 40 && r->integer < 4096);
    freeReplyObject(r);
    EXPECT_NIL(c, "MEMORY USAGE missing");
}

static void test_quit(void **state)
{
    redisContext *c2 = harness_connect(&srv);
    assert_non_null(c2);
    EXPECT_OK(c2, "QUIT");
    redisReply *r = redisCommand(c2, "PING");
    assert_null(r);                     /* the server closed it */
    assert_true(c2->err == REDIS_ERR_EOF || c2->err == REDIS_ERR_IO);
    redisFree(c2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup(f, test_setup)
        T(test_ping_echo),
        T(test_unknown_command),
        T(test_wrong_arity),
        T(test_set_get_options),
        T(test_set_px_expires),
        T(test_set_exat_pxat),
        T(test_setnx_setex_psetex_getset),
        T(test_getdel_getex),
        T(test_mset_mget_many),
        T(test_del_unlink_exists_touch),
        T(test_incr_family),
        T(test_incrbyfloat),
        T(test_append_strlen_ranges),
        T(test_expire_family),
        T(test_type_rename_copy),
        T(test_keys_pattern),
        T(test_scan_10000),
        T(test_randomkey_dbsize_flush),
        T(test_select),
        T(test_binary_safe),
        T(test_big_value_10mb),
        T(test_pipeline_1000),
        T(test_many_clients_incr),
        T(test_info_fields),
        T(test_info_hits_misses),
        T(test_expired_keys_counter),
        T(test_client_commands),
        T(test_hello),
        T(test_config_get),
        T(test_command_time_debug_memory),
        T(test_quit),
#undef T
    };
    int failed = cmocka_run_group_tests_name("integration/commands", tests,
                                             group_setup, group_teardown);
    harness_finish(failed);
    return failed ? 1 : 0;
}
