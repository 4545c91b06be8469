/*
 * test_list: the list commands (LPUSH ... LPOS, LMOVE, RPOPLPUSH, LMPOP)
 * and the keyspace commands on lists, through hiredis against one server
 * started for the group. Expected replies and error strings are Redis
 * 7.0's: the file passes under MMCACHE_TEST_AGAINST=redis, except what
 * is marked mmcache's (OBJECT ENCODING: Redis 7.0 says "quicklist" for
 * every list, mmcache "listpack" for a small one, as Redis 7.2 does).
 * The exact RESP2 nil shapes (null bulk or null array) are checked on a
 * raw socket.
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

#define NOTINT "ERR value is not an integer or out of range"
#define EXPECT_LIST(c, want, ...) EXPECT_ARRAY(c, want, 0, 0, __VA_ARGS__)

static void test_push_pop(void **state)
{
    EXPECT_INT(c, 3, "RPUSH l a b c");
    EXPECT_INT(c, 5, "LPUSH l y z");              /* z y a b c */
    EXPECT_LIST(c, "z y a b c", "LRANGE l 0 -1");
    EXPECT_INT(c, 6, "LPUSHX l w");
    EXPECT_INT(c, 7, "RPUSHX l d");
    EXPECT_INT(c, 0, "LPUSHX nokey a");
    EXPECT_INT(c, 0, "RPUSHX nokey a b");
    EXPECT_INT(c, 0, "EXISTS nokey");
    EXPECT_BULK(c, "w", "LPOP l");
    EXPECT_BULK(c, "d", "RPOP l");
    EXPECT_LIST(c, "z y", "LPOP l 2");
    EXPECT_LIST(c, "c b", "RPOP l 2");
    EXPECT_LIST(c, "", "LPOP l 0");               /* count 0: the empty array */
    EXPECT_LIST(c, "a", "RPOP l 10");             /* more than there is */
    EXPECT_INT(c, 0, "EXISTS l");                 /* emptied: gone */
    EXPECT_NIL(c, "LPOP l");
    EXPECT_NIL(c, "LPOP l 3");
    EXPECT_NIL(c, "RPOP l 0");
    EXPECT_ERR(c, "ERR value is out of range, must be positive", "LPOP l -1");
    EXPECT_ERR(c, "ERR value is out of range, must be positive", "RPOP l x");
    EXPECT_ERR(c, "ERR wrong number of arguments for 'lpop' command", "LPOP l 1 2");
    EXPECT_ERR(c, "ERR wrong number of arguments for 'lpush' command", "LPUSH l");
    EXPECT_ERR(c, "ERR wrong number of arguments for 'rpushx' command", "RPUSHX l");
    /* binary safe, integers kept as their text */
    EXPECT_INT(c, 1, "RPUSH b %b", "a\0\r\nb", (size_t)5);
    EXPECT_INT(c, 4, "RPUSH b 12 -7 007");
    EXPECT_BULKN(c, "a\0\r\nb", 5, "LPOP b");
    EXPECT_LIST(c, "12 -7 007", "LRANGE b 0 -1");
    EXPECT_INT(c, 3, "LLEN b");
    EXPECT_INT(c, 0, "LLEN nokey");
}

/* The RESP2 bytes where hiredis shows both nils alike. */
static void test_nil_shapes(void **state)
{
    static const struct { const char *cmd, *want; } cases[] = {
        {"*2\r\n$4\r\nLPOP\r\n$2\r\nnk\r\n", "$-1\r\n"},
        {"*3\r\n$4\r\nLPOP\r\n$2\r\nnk\r\n$1\r\n0\r\n", "*-1\r\n"},
        {"*3\r\n$4\r\nRPOP\r\n$2\r\nnk\r\n$1\r\n2\r\n", "*-1\r\n"},
        {"*3\r\n$6\r\nLINDEX\r\n$2\r\nnk\r\n$1\r\n0\r\n", "$-1\r\n"},
        {"*3\r\n$4\r\nLPOS\r\n$2\r\nnk\r\n$1\r\na\r\n", "$-1\r\n"},
        {"*5\r\n$4\r\nLPOS\r\n$2\r\nnk\r\n$1\r\na\r\n$5\r\nCOUNT\r\n$1\r\n0\r\n", "*0\r\n"},
        {"*4\r\n$6\r\nLRANGE\r\n$2\r\nnk\r\n$1\r\n0\r\n$2\r\n-1\r\n", "*0\r\n"},
        {"*3\r\n$9\r\nRPOPLPUSH\r\n$2\r\nnk\r\n$1\r\nx\r\n", "$-1\r\n"},
        {"*5\r\n$5\r\nLMOVE\r\n$2\r\nnk\r\n$1\r\nx\r\n$4\r\nLEFT\r\n$5\r\nRIGHT\r\n", "$-1\r\n"},
        {"*4\r\n$5\r\nLMPOP\r\n$1\r\n1\r\n$2\r\nnk\r\n$4\r\nLEFT\r\n", "*-1\r\n"},
    };
    int fd = harness_raw_connect(srv.port, 3000);
    assert_true(fd >= 0);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char buf[64] = {0};
        int eof = 0;
        assert_int_equal(harness_write_all(fd, cases[i].cmd, strlen(cases[i].cmd)), 0);
        size_t n = harness_read_until(fd, buf, strlen(cases[i].want), 3000, &eof);
        if (n != strlen(cases[i].want) || memcmp(buf, cases[i].want, n) != 0)
            fail_msg("case %zu: got \"%.*s\", want \"%s\"", i, (int)n, buf, cases[i].want);
    }
    close(fd);
}

static void test_lrange_lindex_lset(void **state)
{
    EXPECT_INT(c, 5, "RPUSH l a b c d e");
    EXPECT_LIST(c, "b c d", "LRANGE l 1 3");
    EXPECT_LIST(c, "d e", "LRANGE l -2 -1");
    EXPECT_LIST(c, "a b c d e", "LRANGE l -100 100");
    EXPECT_LIST(c, "", "LRANGE l 3 1");
    EXPECT_LIST(c, "", "LRANGE l 5 10");
    EXPECT_LIST(c, "a", "LRANGE l 0 0");
    EXPECT_LIST(c, "", "LRANGE nokey 0 -1");
    EXPECT_ERR(c, NOTINT, "LRANGE l x 1");
    EXPECT_ERR(c, NOTINT, "LRANGE nokey 0 1.5");
    EXPECT_BULK(c, "a", "LINDEX l 0");
    EXPECT_BULK(c, "e", "LINDEX l -1");
    EXPECT_NIL(c, "LINDEX l 5");
    EXPECT_NIL(c, "LINDEX l -6");
    EXPECT_NIL(c, "LINDEX nokey x");              /* the key before the index */
    EXPECT_ERR(c, NOTINT, "LINDEX l x");
    EXPECT_OK(c, "LSET l 1 B");
    EXPECT_OK(c, "LSET l -1 E");
    EXPECT_LIST(c, "a B c d E", "LRANGE l 0 -1");
    EXPECT_ERR(c, "ERR index out of range", "LSET l 5 x");
    EXPECT_ERR(c, "ERR index out of range", "LSET l -6 x");
    EXPECT_ERR(c, "ERR no such key", "LSET nokey 0 x");
    EXPECT_ERR(c, "ERR no such key", "LSET nokey x x");
    EXPECT_ERR(c, NOTINT, "LSET l x x");
}

static void test_linsert_lrem_ltrim(void **state)
{
    EXPECT_INT(c, 7, "RPUSH l a b c a b c a");
    EXPECT_INT(c, 8, "LINSERT l BEFORE b X");     /* the first b */
    EXPECT_INT(c, 9, "LINSERT l after c Y");
    EXPECT_LIST(c, "a X b c Y a b c a", "LRANGE l 0 -1");
    EXPECT_INT(c, -1, "LINSERT l before nope Z");
    EXPECT_INT(c, 0, "LINSERT nokey before a Z");
    EXPECT_ERR(c, "ERR syntax error", "LINSERT l middle a Z");
    EXPECT_INT(c, 2, "LREM l 2 a");               /* from the head */
    EXPECT_LIST(c, "X b c Y b c a", "LRANGE l 0 -1");
    EXPECT_INT(c, 1, "LREM l -1 c");              /* from the tail */
    EXPECT_LIST(c, "X b c Y b a", "LRANGE l 0 -1");
    EXPECT_INT(c, 2, "LREM l 0 b");               /* all */
    EXPECT_INT(c, 0, "LREM l 0 nope");
    EXPECT_INT(c, 0, "LREM nokey 0 a");
    EXPECT_ERR(c, NOTINT, "LREM l x a");
    EXPECT_OK(c, "LTRIM l 1 -2");
    EXPECT_LIST(c, "c Y", "LRANGE l 0 -1");
    EXPECT_OK(c, "LTRIM l 0 100");
    EXPECT_INT(c, 2, "LLEN l");
    EXPECT_OK(c, "LTRIM nokey 0 1");
    EXPECT_ERR(c, NOTINT, "LTRIM l x 1");
    EXPECT_OK(c, "LTRIM l 1 0");                  /* empty range: the key goes */
    EXPECT_INT(c, 0, "EXISTS l");
    EXPECT_INT(c, 3, "RPUSH r a a a");
    EXPECT_INT(c, 3, "LREM r -9223372036854775808 a");   /* Redis's wrap: all */
}

static void test_lpos(void **state)
{
    EXPECT_INT(c, 7, "RPUSH l a b c a b c a");
    EXPECT_INT(c, 0, "LPOS l a");
    EXPECT_INT(c, 3, "LPOS l a RANK 2");
    EXPECT_INT(c, 6, "LPOS l a RANK -1");
    EXPECT_LIST(c, "3 0", "LPOS l a RANK -2 COUNT 0");
    EXPECT_LIST(c, "0", "LPOS l a COUNT 0 MAXLEN 3");
    EXPECT_LIST(c, "0 3 6", "LPOS l a COUNT 0");
    EXPECT_LIST(c, "0 3", "LPOS l a COUNT 2");
    EXPECT_LIST(c, "0", "LPOS l a COUNT 2 COUNT 1");   /* the last wins */
    EXPECT_INT(c, 6, "LPOS l a RANK -9223372036854775808");
    EXPECT_NIL(c, "LPOS l a RANK 9223372036854775807");
    EXPECT_INT(c, 0, "LPOS l a MAXLEN 0");
    EXPECT_NIL(c, "LPOS l z");
    EXPECT_LIST(c, "", "LPOS l z COUNT 2");
    EXPECT_NIL(c, "LPOS nokey a");
    EXPECT_LIST(c, "", "LPOS nokey a COUNT 1");
    EXPECT_ERR(c, "ERR RANK can't be zero: use 1 to start from the first match, 2 from "
                  "the second ... or use negative to start from the end of the list",
               "LPOS l a RANK 0");
    EXPECT_ERR(c, "ERR COUNT can't be negative", "LPOS l a COUNT -1");
    EXPECT_ERR(c, "ERR COUNT can't be negative", "LPOS l a COUNT x");
    EXPECT_ERR(c, "ERR MAXLEN can't be negative", "LPOS l a MAXLEN -1");
    EXPECT_ERR(c, NOTINT, "LPOS l a RANK x");
    EXPECT_ERR(c, "ERR syntax error", "LPOS l a RANK");
    EXPECT_ERR(c, "ERR syntax error", "LPOS l a FOO 1");
}

static void test_lmove_rpoplpush_lmpop(void **state)
{
    EXPECT_INT(c, 3, "RPUSH s a b c");
    EXPECT_BULK(c, "c", "RPOPLPUSH s d");
    EXPECT_BULK(c, "a", "LMOVE s d LEFT RIGHT");
    EXPECT_LIST(c, "c a", "LRANGE d 0 -1");
    EXPECT_BULK(c, "b", "LMOVE s s left right");  /* one element onto itself */
    EXPECT_LIST(c, "b", "LRANGE s 0 -1");
    EXPECT_BULK(c, "b", "LMOVE s d right left");
    EXPECT_INT(c, 0, "EXISTS s");
    EXPECT_NIL(c, "LMOVE s d left left");
    EXPECT_NIL(c, "RPOPLPUSH s d");
    EXPECT_ERR(c, "ERR syntax error", "LMOVE d s up left");
    EXPECT_ERR(c, "ERR wrong number of arguments for 'lmove' command", "LMOVE a b left");
    EXPECT_INT(c, 3, "RPUSH k2 x y z");
    EXPECT_ARRAY(c, "k2 [x y]", 0, 0, "LMPOP 2 nokey k2 LEFT COUNT 2");
    EXPECT_ARRAY(c, "k2 [z]", 0, 0, "LMPOP 2 k2 d RIGHT COUNT 10");
    EXPECT_ARRAY(c, "d [b]", 0, 0, "LMPOP 1 d LEFT");
    EXPECT_NIL(c, "LMPOP 1 nokey LEFT");
    EXPECT_ERR(c, "ERR numkeys should be greater than 0", "LMPOP 0 k LEFT");
    EXPECT_ERR(c, "ERR numkeys should be greater than 0", "LMPOP x k LEFT");
    EXPECT_ERR(c, "ERR syntax error", "LMPOP 2 k LEFT");
    EXPECT_ERR(c, "ERR syntax error", "LMPOP 9999999999 k LEFT");
    EXPECT_ERR(c, "ERR syntax error", "LMPOP 1 k UP");
    EXPECT_ERR(c, "ERR count should be greater than 0", "LMPOP 1 k LEFT COUNT 0");
    EXPECT_ERR(c, "ERR syntax error", "LMPOP 1 k LEFT COUNT 1 COUNT 2");
    EXPECT_ERR(c, "ERR syntax error", "LMPOP 1 k LEFT COUNT 1 extra");
}

/* WRONGTYPE both ways, and the keyspace commands on lists. */
static void test_wrongtype_and_keyspace(void **state)
{
    EXPECT_OK(c, "SET s v");
    EXPECT_INT(c, 1, "HSET h f v");
    EXPECT_INT(c, 2, "RPUSH l a b");
    static const char *const on_string[] = {
        "LPUSH s a", "RPUSH s a", "LPUSHX s a", "RPUSHX s a", "LPOP s", "RPOP s",
        "LPOP s 0", "LLEN s", "LRANGE s 0 -1", "LINDEX s 0", "LINDEX s x", "LSET s 0 x",
        "LINSERT s BEFORE a b", "LREM s 0 a", "LTRIM s 0 1", "LPOS s a", "LMOVE s l left left",
        "RPOPLPUSH l s", "LMPOP 2 nokey s LEFT", "LPOP h", "LRANGE h 0 1",
    };
    for (size_t i = 0; i < sizeof(on_string) / sizeof(on_string[0]); i++)
        EXPECT_ERR(c, WRONGTYPE, on_string[i]);
    EXPECT_LIST(c, "a b", "LRANGE l 0 -1");       /* the failed RPOPLPUSH moved nothing */
    EXPECT_ERR(c, WRONGTYPE, "GET l");
    EXPECT_ERR(c, WRONGTYPE, "INCR l");
    EXPECT_ERR(c, WRONGTYPE, "HGET l a");
    EXPECT_ERR(c, WRONGTYPE, "APPEND l x");
    EXPECT_STATUS(c, "list", "TYPE l");
    EXPECT_INT(c, 1, "EXPIRE l 100");
    EXPECT_INT(c, 1, "EXISTS l");
    EXPECT_OK(c, "RENAME l l2");
    EXPECT_INT(c, 1, "COPY l2 l3");
    EXPECT_INT(c, 3, "LPUSH l3 z");
    EXPECT_LIST(c, "a b", "LRANGE l2 0 -1");
    EXPECT_LIST(c, "z a b", "LRANGE l3 0 -1");
    EXPECT_ARRAY(c, "l2 l3", 0, 1, "KEYS l*");
    /* SCAN TYPE hash: not the lists */
    char seen[256];
    chk_scan_all(c, "TYPE hash COUNT 1000", seen, sizeof(seen));
    assert_string_equal(seen, "h");
    EXPECT_INT(c, 1, "UNLINK l2");
    EXPECT_OK(c, "SET l3 str");                    /* SET overwrites any type */
    EXPECT_STATUS(c, "string", "TYPE l3");
    redisReply *r = CMD(c, "MEMORY USAGE s");
    assert_int_equal(r->type, REDIS_REPLY_INTEGER);
    freeReplyObject(r);
    EXPECT_INT(c, 3, "RPUSH m 1 2 3");
    r = CMD(c, "MEMORY USAGE m");
    assert_int_equal(r->type, REDIS_REPLY_INTEGER);
    assert_true(r->integer > 0);
    freeReplyObject(r);
}

/* A small list is one listpack and becomes a quicklist past one node of
 * list-max-listpack-size (Redis 7.2's conversion; 7.0 always answers
 * quicklist). */
static void test_list_encoding(void **state)
{
    HARNESS_MMCACHE_ONLY("OBJECT ENCODING listpack for a small list (Redis 7.0: quicklist)");
    EXPECT_INT(c, 3, "RPUSH m 1 2 3");
    EXPECT_BULK(c, "listpack", "OBJECT ENCODING m");
    EXPECT_OK(c, "CONFIG SET list-max-listpack-size 2");
    EXPECT_INT(c, 4, "RPUSH m 4");
    EXPECT_BULK(c, "quicklist", "OBJECT ENCODING m");
    EXPECT_LIST(c, "1 2 3 4", "LRANGE m 0 -1");
    EXPECT_OK(c, "CONFIG SET list-max-listpack-size -2");
}

/* An LRANGE whose reply passes the output limit closes the connection
 * (Redis: client-output-buffer-limit), the server copying no more than
 * the limit's worth under the lock; the list is left as it was. */
static void test_lrange_output_limit(void **state)
{
    char val[100];
    const char *argv[1002];
    size_t lens[1002];
    memset(val, 'v', sizeof(val));
    argv[0] = "RPUSH";
    lens[0] = 5;
    argv[1] = "big";
    lens[1] = 3;
    for (int i = 2; i < 1002; i++) {
        argv[i] = val;
        lens[i] = sizeof(val);
    }
    for (int n = 0; n < 20; n++) {   /* 20,000 elements of 100 bytes: 2 MB */
        redisReply *r = redisCommandArgv(c, 1002, argv, lens);
        assert_non_null(r);
        assert_int_equal(r->type, REDIS_REPLY_INTEGER);
        freeReplyObject(r);
    }
    static const char req[] = "*4\r\n$6\r\nLRANGE\r\n$3\r\nbig\r\n$1\r\n0\r\n$2\r\n-1\r\n";
    expect_closed_by_output_limit(req, sizeof(req) - 1);
    EXPECT_INT(c, 20000, "LLEN big");
}

/* A long list over many nodes, through every command that walks it. */
static void test_long_list(void **state)
{
    char buf[64];
    for (int i = 0; i < 5000; i += 500) {
        redisAppendCommand(c, "DEL nothing");
        for (int j = i; j < i + 500; j++) {
            snprintf(buf, sizeof(buf), "element-%d", j);
            redisAppendCommand(c, "RPUSH big %s", buf);
        }
        for (int j = i; j <= i + 500; j++) {
            redisReply *r;
            assert_int_equal(redisGetReply(c, (void **)&r), REDIS_OK);
            freeReplyObject(r);
        }
    }
    EXPECT_INT(c, 5000, "LLEN big");
    EXPECT_BULK(c, "element-2500", "LINDEX big 2500");
    EXPECT_BULK(c, "element-4999", "LINDEX big -1");
    EXPECT_OK(c, "LSET big 3000 changed");
    EXPECT_INT(c, 3000, "LPOS big changed");
    EXPECT_INT(c, 5001, "LINSERT big AFTER element-10 inserted");
    EXPECT_INT(c, 11, "LPOS big inserted");
    EXPECT_LIST(c, "element-9 element-10 inserted element-11", "LRANGE big 9 12");
    EXPECT_INT(c, 1, "LREM big 0 inserted");
    EXPECT_OK(c, "LTRIM big 1000 -1001");
    EXPECT_INT(c, 3000, "LLEN big");
    EXPECT_BULK(c, "element-1000", "LINDEX big 0");
    EXPECT_BULK(c, "element-3999", "LINDEX big -1");
    EXPECT_LIST(c, "element-3999 element-3998", "RPOP big 2");
    EXPECT_INT(c, 2998, "LLEN big");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_push_pop, test_setup),
        cmocka_unit_test_setup(test_nil_shapes, test_setup),
        cmocka_unit_test_setup(test_lrange_lindex_lset, test_setup),
        cmocka_unit_test_setup(test_linsert_lrem_ltrim, test_setup),
        cmocka_unit_test_setup(test_lpos, test_setup),
        cmocka_unit_test_setup(test_lmove_rpoplpush_lmpop, test_setup),
        cmocka_unit_test_setup(test_wrongtype_and_keyspace, test_setup),
        cmocka_unit_test_setup(test_list_encoding, test_setup),
        cmocka_unit_test_setup(test_long_list, test_setup),
        cmocka_unit_test_setup(test_lrange_output_limit, test_setup),
    };
    int failed = cmocka_run_group_tests(tests, group_setup, group_teardown);
    return harness_finish(failed);
}
