/*
 * test_hash: the hash commands (HSET ... HSCAN), the WRONGTYPE matrix of
 * string and hash commands, and the keyspace commands on hashes, through
 * hiredis against one server started for the group. Expected replies and
 * error strings are Redis 7.0's: the same file passes under
 * MMCACHE_TEST_AGAINST=redis. Orders a hash does not define (HGETALL,
 * HKEYS, ...) are compared sorted.
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


/* ---- HSET family ---------------------------------------------------------- */

static void test_hset_hget(void **state)
{
    EXPECT_INT(c, 2, "HSET h a 1 b 2");
    EXPECT_INT(c, 1, "HSET h a 10 c 3");          /* a updated, c added */
    EXPECT_BULK(c, "10", "HGET h a");
    EXPECT_NIL(c, "HGET h zz");
    EXPECT_NIL(c, "HGET nokey a");
    EXPECT_OK(c, "HMSET h d 4 e 5");
    EXPECT_INT(c, 0, "HSETNX h a 99");
    EXPECT_INT(c, 1, "HSETNX h f 6");
    EXPECT_BULK(c, "10", "HGET h a");
    EXPECT_INT(c, 6, "HLEN h");
    EXPECT_INT(c, 0, "HLEN nokey");
    EXPECT_INT(c, 1, "HSET h x 1 x 2");           /* the last one wins */
    EXPECT_BULK(c, "2", "HGET h x");
    EXPECT_INT(c, 0, "HSET h a 1 a 2");
    EXPECT_BULK(c, "2", "HGET h a");
    EXPECT_INT(c, 1, "HSET h %s %s", "", "");     /* empty field and value */
    EXPECT_BULK(c, "", "HGET h %s", "");
    /* binary safe */
    EXPECT_INT(c, 1, "HSET h %b %b", "k\0y", (size_t)3, "v\0\r\n", (size_t)4);
    EXPECT_BULKN(c, "v\0\r\n", 4, "HGET h %b", "k\0y", (size_t)3);
    EXPECT_INT(c, 4, "HSTRLEN h %b", "k\0y", (size_t)3);
    EXPECT_ERR(c, "ERR wrong number of arguments for 'hset' command", "HSET h a");
    EXPECT_ERR(c, "ERR wrong number of arguments for 'hset' command", "HSET h a 1 b");
    EXPECT_ERR(c, "ERR wrong number of arguments for 'hmset' command", "HMSET h a 1 b");
    EXPECT_ERR(c, "ERR wrong number of arguments for 'hsetnx' command", "HSETNX h a");
    EXPECT_ERR(c, "ERR wrong number of arguments for 'hget' command", "HGET h");
}

static void test_hmget_hgetall_hkeys_hvals(void **state)
{
    EXPECT_INT(c, 3, "HSET h a 1 b 2 c 3");
    EXPECT_ARRAY(c, "1 (nil) 3 1", 0, 0, "HMGET h a zz c a");
    EXPECT_ARRAY(c, "(nil) (nil)", 0, 0, "HMGET nokey a b");
    EXPECT_ARRAY(c, "a=1 b=2 c=3", 1, 1, "HGETALL h");
    EXPECT_ARRAY(c, "a b c", 0, 1, "HKEYS h");
    EXPECT_ARRAY(c, "1 2 3", 0, 1, "HVALS h");
    EXPECT_ARRAY(c, "", 0, 0, "HGETALL nokey");
    EXPECT_ARRAY(c, "", 0, 0, "HKEYS nokey");
    EXPECT_ARRAY(c, "", 0, 0, "HVALS nokey");
    EXPECT_ERR(c, "ERR wrong number of arguments for 'hmget' command", "HMGET h");
}

static void test_hdel_hexists_hstrlen(void **state)
{
    EXPECT_INT(c, 3, "HSET h a 1 b 22 c 333");
    EXPECT_INT(c, 1, "HEXISTS h a");
    EXPECT_INT(c, 0, "HEXISTS h zz");
    EXPECT_INT(c, 0, "HEXISTS nokey a");
    EXPECT_INT(c, 3, "HSTRLEN h c");
    EXPECT_INT(c, 0, "HSTRLEN h zz");
    EXPECT_INT(c, 0, "HSTRLEN nokey a");
    EXPECT_INT(c, 2, "HDEL h a b zz a");
    EXPECT_INT(c, 0, "HDEL nokey a");
    EXPECT_INT(c, 1, "HLEN h");
    EXPECT_INT(c, 1, "HDEL h c");                 /* the last field: the key goes */
    EXPECT_INT(c, 0, "EXISTS h");
    EXPECT_STATUS(c, "none", "TYPE h");
    EXPECT_ERR(c, "ERR wrong number of arguments for 'hdel' command", "HDEL h");
}

static void test_hincrby_hincrbyfloat(void **state)
{
    EXPECT_INT(c, 5, "HINCRBY h n 5");            /* created */
    EXPECT_INT(c, -5, "HINCRBY h n -10");
    EXPECT_INT(c, 1, "HSET h s abc");
    EXPECT_ERR(c, "ERR hash value is not an integer", "HINCRBY h s 1");
    EXPECT_ERR(c, "ERR value is not an integer or out of range", "HINCRBY h n x");
    EXPECT_INT(c, 1, "HSET h big 9223372036854775807");
    EXPECT_ERR(c, "ERR increment or decrement would overflow", "HINCRBY h big 1");
    EXPECT_INT(c, 1, "HSET h sp %s", " 1");
    EXPECT_ERR(c, "ERR hash value is not an integer", "HINCRBY h sp 1");
    EXPECT_BULK(c, "10.5", "HINCRBYFLOAT h f 10.5");
    EXPECT_BULK(c, "10.75", "HINCRBYFLOAT h f 0.25");
    EXPECT_BULK(c, "5010.75", "HINCRBYFLOAT h f 5.0e3");
    EXPECT_BULK(c, "5010.85000000000000009", "HINCRBYFLOAT h f 0.1");   /* long double */
    EXPECT_BULK(c, "-4.5", "HINCRBYFLOAT h n 0.5");   /* on an integer value */
    EXPECT_BULK(c, "3", "HINCRBYFLOAT h three 3.0");
    EXPECT_INT(c, 4, "HINCRBY h three 1");           /* "3" is an integer again */
    EXPECT_ERR(c, "ERR hash value is not a float", "HINCRBYFLOAT h s 1");
    EXPECT_ERR(c, "ERR value is not a valid float", "HINCRBYFLOAT h f abc");
    EXPECT_ERR(c, "ERR value is not a valid float", "HINCRBYFLOAT h f nan");
    EXPECT_ERR(c, "ERR value is NaN or Infinity", "HINCRBYFLOAT h f inf");
    freeReplyObject(CMD(c, "HINCRBYFLOAT h huge 1e4932"));   /* still finite */
    EXPECT_ERR(c, "ERR increment would produce NaN or Infinity", "HINCRBYFLOAT h huge 1e4932");
    /* argument errors win over WRONGTYPE, as in Redis */
    EXPECT_OK(c, "SET s v");
    EXPECT_ERR(c, "ERR value is not an integer or out of range", "HINCRBY s a x");
    EXPECT_ERR(c, "ERR value is not a valid float", "HINCRBYFLOAT s a x");
    EXPECT_ERR(c, WRONGTYPE, "HINCRBY s a 1");
    EXPECT_ERR(c, WRONGTYPE, "HINCRBYFLOAT s a 1");
}

/* ---- HRANDFIELD ------------------------------------------------------------ */

static void check_randfield(long long count, int withvalues, size_t size, int distinct)
{
    redisReply *r = withvalues ? CMD(c, "HRANDFIELD h %lld WITHVALUES", count)
                               : CMD(c, "HRANDFIELD h %lld", count);
    size_t per = withvalues ? 2 : 1;
    size_t want = count >= 0 ? ((size_t)count < size ? (size_t)count : size)
                             : (size_t)-count;
    assert_int_equal(r->type, REDIS_REPLY_ARRAY);
    assert_int_equal(r->elements, want * per);
    for (size_t i = 0; i < r->elements; i += per) {
        int idx = atoi(r->element[i]->str + 1);
        assert_true(r->element[i]->str[0] == 'f' && idx >= 0 && (size_t)idx < size);
        if (withvalues)
            assert_string_equal(r->element[i + 1]->str, r->element[i]->str + 1);
        for (size_t j = 0; distinct && j < i; j += per)
            assert_string_not_equal(r->element[j]->str, r->element[i]->str);
    }
    freeReplyObject(r);
}

static void test_hrandfield(void **state)
{
    EXPECT_NIL(c, "HRANDFIELD nokey");
    EXPECT_ARRAY(c, "", 0, 0, "HRANDFIELD nokey 5");
    EXPECT_ARRAY(c, "", 0, 0, "HRANDFIELD nokey -5 WITHVALUES");
    /* a listpack (10 fields), then a hash table (300) */
    for (int round = 0; round < 2; round++) {
        size_t size = round ? 300 : 10;
        freeReplyObject(CMD(c, "DEL h"));
        for (int i = 0; i < (int)size; i++)
            EXPECT_INT(c, 1, "HSET h f%d %d", i, i);
        redisReply *r = CMD(c, "HRANDFIELD h");
        assert_int_equal(r->type, REDIS_REPLY_STRING);
        freeReplyObject(r);
        long long counts[] = {0, 1, 5, (long long)size - 1, (long long)size,
                              (long long)size + 3, -1, -7, -(long long)size * 3};
        for (size_t k = 0; k < sizeof(counts) / sizeof(counts[0]); k++) {
            check_randfield(counts[k], 0, size, counts[k] >= 0);
            check_randfield(counts[k], 1, size, counts[k] >= 0);
        }
    }
    EXPECT_ERR(c, "ERR value is not an integer or out of range", "HRANDFIELD h x");
    EXPECT_ERR(c, "ERR value is out of range, value must between -9223372036854775807 "
                  "and 9223372036854775807", "HRANDFIELD h -9223372036854775808");
    EXPECT_ERR(c, "ERR value is out of range", "HRANDFIELD h -9223372036854775807 WITHVALUES");
    EXPECT_ERR(c, "ERR value is out of range", "HRANDFIELD h 4611686018427387904 WITHVALUES");
    EXPECT_ERR(c, "ERR syntax error", "HRANDFIELD h 1 WITHVALUES x");
    EXPECT_ERR(c, "ERR syntax error", "HRANDFIELD h 1 x");
    EXPECT_OK(c, "SET s v");
    EXPECT_ERR(c, WRONGTYPE, "HRANDFIELD s");
    EXPECT_ERR(c, WRONGTYPE, "HRANDFIELD s 0");
}

/* A huge count is bounded by the output limit, not by memory: the server
 * closes the connection (Redis: "client-output-buffer-limit"), survives,
 * and serves others. */
static void test_hrandfield_huge_count(void **state)
{
    static const char req[] = "*3\r\n$10\r\nHRANDFIELD\r\n$1\r\nh\r\n"
                              "$20\r\n-4000000000000000000\r\n";

    EXPECT_INT(c, 3, "HSET h a 1 b 2 c 3");
    /* closed by the server once about 1 MB is pending: not a reply of 4e18
     * elements built first (nor a timeout here) */
    expect_closed_by_output_limit(req, sizeof(req) - 1);
    EXPECT_INT(c, 3, "HLEN h");
}

/* ---- HSCAN ----------------------------------------------------------------- */

static void test_hscan(void **state)
{
    EXPECT_INT(c, 3, "HSET small a 1 b 2 c 3");
    redisReply *r = CMD(c, "HSCAN small 0");
    assert_int_equal(r->elements, 2);
    assert_string_equal(r->element[0]->str, "0");   /* a listpack comes whole */
    char got[256];
    chk_joined(r->element[1], 1, 1, got, sizeof(got));
    assert_string_equal(got, "a=1 b=2 c=3");
    freeReplyObject(r);
    r = CMD(c, "HSCAN small 0 MATCH [ab]");
    chk_joined(r->element[1], 1, 1, got, sizeof(got));
    assert_string_equal(got, "a=1 b=2");
    freeReplyObject(r);

    /* a hash table: a full scan sees every field at least once */
    for (int i = 0; i < 1000; i++)
        EXPECT_INT(c, 1, "HSET big f%d v%d", i, i);
    char seen[1000] = {0};
    char cursor[32] = "0";
    int calls = 0;
    do {
        r = CMD(c, "HSCAN big %s COUNT 20", cursor);
        assert_int_equal(r->elements, 2);
        snprintf(cursor, sizeof(cursor), "%s", r->element[0]->str);
        const redisReply *a = r->element[1];
        assert_int_equal(a->elements % 2, 0);
        for (size_t i = 0; i < a->elements; i += 2) {
            int idx = atoi(a->element[i]->str + 1);
            assert_string_equal(a->element[i + 1]->str + 1, a->element[i]->str + 1);
            seen[idx] = 1;
        }
        freeReplyObject(r);
        calls++;
    } while (strcmp(cursor, "0") != 0 && calls < 10000);
    for (int i = 0; i < 1000; i++)
        assert_true(seen[i]);
    assert_true(calls > 10);

    r = CMD(c, "HSCAN nokey 0 foo");   /* missing: the empty scan, options unread */
    assert_int_equal(r->elements, 2);
    assert_string_equal(r->element[0]->str, "0");
    assert_int_equal(r->element[1]->elements, 0);
    freeReplyObject(r);
    EXPECT_ERR(c, "ERR invalid cursor", "HSCAN big x");
    EXPECT_ERR(c, "ERR invalid cursor", "HSCAN big 18446744073709551616");
    EXPECT_ERR(c, "ERR syntax error", "HSCAN big 0 COUNT 0");
    EXPECT_ERR(c, "ERR syntax error", "HSCAN big 0 TYPE string");
    EXPECT_ERR(c, "ERR syntax error", "HSCAN big 0 MATCH");
    EXPECT_ERR(c, "ERR value is not an integer or out of range", "HSCAN big 0 COUNT x");
    EXPECT_OK(c, "SET s v");
    EXPECT_ERR(c, WRONGTYPE, "HSCAN s 0 foo");
}

/* ---- encodings -------------------------------------------------------------- */

static void expect_encoding(const char *key, const char *enc)
{
    EXPECT_BULK(c, enc, "OBJECT ENCODING %s", key);
}

static void test_encodings(void **state)
{
    EXPECT_OK(c, "CONFIG SET hash-max-listpack-entries 4");
    EXPECT_OK(c, "CONFIG SET hash-max-listpack-value 8");
    EXPECT_INT(c, 4, "HSET h a 1 b 2 c 3 d 4");
    expect_encoding("h", "listpack");
    EXPECT_INT(c, 1, "HSET h e 5");
    expect_encoding("h", "hashtable");
    EXPECT_INT(c, 4, "HDEL h a b c d");
    expect_encoding("h", "hashtable");               /* never back */
    EXPECT_INT(c, 1, "HSET v f 123456789");          /* 9 > 8 bytes */
    expect_encoding("v", "hashtable");
    EXPECT_INT(c, 1, "HSET k 123456789 v");
    expect_encoding("k", "hashtable");
    EXPECT_INT(c, 1, "HSET s f 12345678");
    expect_encoding("s", "listpack");
    EXPECT_NIL(c, "OBJECT ENCODING nokey");
    EXPECT_OK(c, "CONFIG SET hash-max-listpack-entries 128");
    EXPECT_OK(c, "CONFIG SET hash-max-listpack-value 64");
    redisReply *r = CMD(c, "CONFIG GET hash-max-listpack-*");
    assert_int_equal(r->elements, 4);
    freeReplyObject(r);
}

/* ---- WRONGTYPE matrix ------------------------------------------------------- */

static void test_wrongtype_string_commands_on_hash(void **state)
{
    static const char *const wrong[] = {
        "GET h", "INCR h", "DECR h", "INCRBY h 1", "DECRBY h 1", "INCRBYFLOAT h 1",
        "APPEND h x", "SETRANGE h 0 x", "SETRANGE h 536870912 x", "GETRANGE h 0 1",
        "SUBSTR h 0 1", "STRLEN h", "GETSET h x", "GETDEL h", "GETEX h", "GETEX h EX 10",
        "GETEX h EX abc", "GETEX h PERSIST", "SET h x GET", "SET h x NX GET",
        "SET h x XX GET",
    };
    EXPECT_INT(c, 1, "HSET h f v");
    for (size_t i = 0; i < sizeof(wrong) / sizeof(wrong[0]); i++)
        EXPECT_ERR(c, WRONGTYPE, wrong[i]);
    EXPECT_STATUS(c, "hash", "TYPE h");
    EXPECT_BULK(c, "v", "HGET h f");                 /* nothing changed */
    EXPECT_INT(c, -1, "TTL h");
    EXPECT_ARRAY(c, "(nil) (nil)", 0, 0, "MGET h nokey");
    EXPECT_INT(c, 0, "SETNX h x");
    EXPECT_INT(c, 0, "MSETNX h x y z");
    EXPECT_STATUS(c, "hash", "TYPE h");
    EXPECT_OK(c, "SET h x");                         /* SET overwrites any type */
    EXPECT_BULK(c, "x", "GET h");
    EXPECT_ERR(c, WRONGTYPE, "HSET h f v");
    EXPECT_INT(c, 1, "DEL h");
    EXPECT_INT(c, 1, "HSET h f v");
    EXPECT_OK(c, "MSET h y");
    EXPECT_BULK(c, "y", "GET h");
    EXPECT_INT(c, 1, "DEL h");
    EXPECT_INT(c, 1, "HSET h f v");
    EXPECT_OK(c, "SETEX h 100 z");
    EXPECT_BULK(c, "z", "GET h");
}

static void test_wrongtype_hash_commands_on_string(void **state)
{
    static const char *const wrong[] = {
        "HSET s f v", "HSETNX s f v", "HMSET s f v", "HGET s f", "HMGET s f", "HGETALL s",
        "HKEYS s", "HVALS s", "HDEL s f", "HEXISTS s f", "HLEN s", "HSTRLEN s f",
        "HINCRBY s f 1", "HINCRBYFLOAT s f 1", "HRANDFIELD s", "HRANDFIELD s 2",
        "HRANDFIELD s -2 WITHVALUES", "HSCAN s 0",
    };
    EXPECT_OK(c, "SET s v");
    for (size_t i = 0; i < sizeof(wrong) / sizeof(wrong[0]); i++)
        EXPECT_ERR(c, WRONGTYPE, wrong[i]);
    EXPECT_BULK(c, "v", "GET s");
}

/* ---- keyspace commands on hashes -------------------------------------------- */

static void test_keyspace_on_hashes(void **state)
{
    EXPECT_INT(c, 2, "HSET h a 1 b 2");
    for (int i = 0; i < 200; i++)
        EXPECT_INT(c, 1, "HSET big f%d v", i);
    EXPECT_OK(c, "SET s v");
    EXPECT_STATUS(c, "hash", "TYPE big");
    EXPECT_INT(c, 3, "EXISTS h big s");
    EXPECT_INT(c, 2, "TOUCH h big nokey");
    EXPECT_INT(c, 3, "DBSIZE");
    EXPECT_ARRAY(c, "big h s", 0, 1, "KEYS *");
    char got[256];
    chk_scan_all(c, "COUNT 100 TYPE hash", got, sizeof(got));
    assert_string_equal(got, "big h");
    chk_scan_all(c, "COUNT 100 TYPE HASH", got, sizeof(got));
    assert_string_equal(got, "big h");
    chk_scan_all(c, "COUNT 100 TYPE string", got, sizeof(got));
    assert_string_equal(got, "s");
    chk_scan_all(c, "COUNT 100 TYPE nosuchtype", got, sizeof(got));
    assert_string_equal(got, "");
    redisReply *r = CMD(c, "RANDOMKEY");
    assert_int_equal(r->type, REDIS_REPLY_STRING);
    freeReplyObject(r);

    /* TTLs */
    EXPECT_INT(c, 1, "EXPIRE big 100");
    r = CMD(c, "TTL big");
    assert_true(r->integer > 90 && r->integer <= 100);
    freeReplyObject(r);
    EXPECT_INT(c, 1, "PERSIST big");
    EXPECT_INT(c, -1, "TTL big");
    EXPECT_INT(c, 1, "PEXPIRE h 50");
    harness_sleep_ms(120);
    EXPECT_INT(c, 0, "EXISTS h");
    EXPECT_NIL(c, "HGET h a");

    /* RENAME moves it with its TTL; COPY is deep */
    EXPECT_INT(c, 1, "EXPIRE big 100");
    EXPECT_OK(c, "RENAME big big2");
    EXPECT_STATUS(c, "hash", "TYPE big2");
    EXPECT_INT(c, 200, "HLEN big2");
    r = CMD(c, "TTL big2");
    assert_true(r->integer > 90);
    freeReplyObject(r);
    EXPECT_INT(c, 1, "COPY big2 big3");
    EXPECT_INT(c, 0, "HSET big3 f1 changed");
    EXPECT_BULK(c, "v", "HGET big2 f1");
    EXPECT_BULK(c, "changed", "HGET big3 f1");
    r = CMD(c, "TTL big3");
    assert_true(r->integer > 90);
    freeReplyObject(r);
    EXPECT_INT(c, 0, "COPY s big3");
    EXPECT_INT(c, 1, "COPY s big3 REPLACE");
    EXPECT_STATUS(c, "string", "TYPE big3");
    EXPECT_OK(c, "RENAME s big2");                   /* over a hash */
    EXPECT_STATUS(c, "string", "TYPE big2");
    EXPECT_INT(c, 1, "HSET h2 a 1");
    EXPECT_INT(c, 0, "RENAMENX h2 big2");
    EXPECT_INT(c, 1, "RENAMENX h2 h3");

    /* MEMORY USAGE grows with the hash */
    EXPECT_INT(c, 1, "HSET m f0 v");
    r = CMD(c, "MEMORY USAGE m");
    long long small = r->integer;
    freeReplyObject(r);
    for (int i = 1; i < 1000; i++)
        EXPECT_INT(c, 1, "HSET m f%d some-value-of-some-length", i);
    r = CMD(c, "MEMORY USAGE m");
    assert_true(r->integer > small + 1000 * 20);
    freeReplyObject(r);
    r = CMD(c, "MEMORY USAGE m SAMPLES 0");
    assert_int_equal(r->type, REDIS_REPLY_INTEGER);
    freeReplyObject(r);

    /* DEL, UNLINK, FLUSHALL ASYNC / SYNC */
    EXPECT_INT(c, 1, "UNLINK m");
    EXPECT_INT(c, 1, "DEL h3");
    EXPECT_INT(c, 1, "HSET x a 1");
    EXPECT_OK(c, "FLUSHALL ASYNC");
    EXPECT_INT(c, 0, "DBSIZE");
    EXPECT_INT(c, 1, "HSET x a 1");
    EXPECT_OK(c, "FLUSHALL SYNC");
    EXPECT_INT(c, 0, "DBSIZE");
    EXPECT_ERR(c, "ERR syntax error", "FLUSHALL ASYNC SYNC");
}

/* What a pipelined burst of HSETs of one key looks like from another
 * client: every HINCRBY of two clients on shared fields counted. */
static void test_hincrby_two_clients(void **state)
{
    redisContext *c2 = harness_connect(&srv);
    assert_non_null(c2);
    for (int i = 0; i < 2000; i++) {
        redisAppendCommand(c, "HINCRBY ctr f%d 1", i % 7);
        redisAppendCommand(c2, "HINCRBY ctr f%d 1", i % 7);
    }
    for (int i = 0; i < 2000; i++) {
        redisReply *r;
        assert_int_equal(redisGetReply(c, (void **)&r), REDIS_OK);
        freeReplyObject(r);
        assert_int_equal(redisGetReply(c2, (void **)&r), REDIS_OK);
        freeReplyObject(r);
    }
    long long total = 0;
    for (int f = 0; f < 7; f++) {
        redisReply *r = CMD(c, "HGET ctr f%d", f);
        total += atoll(r->str);
        freeReplyObject(r);
    }
    assert_int_equal(total, 4000);
    redisFree(c2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_hset_hget, test_setup),
        cmocka_unit_test_setup(test_hmget_hgetall_hkeys_hvals, test_setup),
        cmocka_unit_test_setup(test_hdel_hexists_hstrlen, test_setup),
        cmocka_unit_test_setup(test_hincrby_hincrbyfloat, test_setup),
        cmocka_unit_test_setup(test_hrandfield, test_setup),
        cmocka_unit_test_setup(test_hrandfield_huge_count, test_setup),
        cmocka_unit_test_setup(test_hscan, test_setup),
        cmocka_unit_test_setup(test_encodings, test_setup),
        cmocka_unit_test_setup(test_wrongtype_string_commands_on_hash, test_setup),
        cmocka_unit_test_setup(test_wrongtype_hash_commands_on_string, test_setup),
        cmocka_unit_test_setup(test_keyspace_on_hashes, test_setup),
        cmocka_unit_test_setup(test_hincrby_two_clients, test_setup),
    };
    int failed = cmocka_run_group_tests_name("integration/hash", tests, group_setup,
                                             group_teardown);
    return harness_finish(failed);
}
