/*
 * test_zrange: the sorted set commands over a range: ZRANGE (BYSCORE
 * BYLEX REV LIMIT WITHSCORES) and its older forms, ZRANGESTORE, ZCOUNT,
 * ZLEXCOUNT, ZREMRANGEBYRANK/SCORE/LEX, on both encodings; Redis 7.0's
 * errors in its order (options, conflicts, the range, the key), its
 * parsing of range ends ("(", "", " 1", "-" "+" "[" "("), a LIMIT
 * offset that is negative or past the range, a huge count; and a range
 * too big for the output limit cut there (the connection closed, the
 * server and the set fine). The whole file passes under
 * MMCACHE_TEST_AGAINST=redis.
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
#define NOTINT "ERR value is not an integer or out of range"
#define SYNTAX "ERR syntax error"
#define NOTFLOAT_RANGE "ERR min or max is not a float"
#define NOTLEX "ERR min or max not valid string range item"

/* a b c d e f g at scores 1..7 (and, for skiplist, 200 more after them) */
static void fill(int big)
{
    EXPECT_INT(c, 7, "ZADD z 1 a 2 b 3 c 4 d 5 e 6 f 7 g");
    for (int i = 0; big && i < 200; i++)
        EXPECT_INT(c, 1, "ZADD z %d x%03d", 100 + i, i);
}

static void test_by_rank(void **state)
{
    for (int big = 0; big < 2; big++) {
        EXPECT_OK(c, "FLUSHALL");
        fill(big);
        EXPECT_ARRAY(c, "a b c", 0, 0, "ZRANGE z 0 2");
        EXPECT_ARRAY(c, "a=1 b=2", 1, 0, "ZRANGE z 0 1 WITHSCORES");
        EXPECT_ARRAY(c, big ? "x199 x198" : "g f", 0, 0, "ZRANGE z 0 1 REV");
        EXPECT_ARRAY(c, big ? "x198 x199" : "f g", 0, 0, "ZRANGE z -2 -1");
        EXPECT_ARRAY(c, big ? "x199 x198" : "g f", 0, 0, "ZREVRANGE z 0 1");
        EXPECT_ARRAY(c, "", 0, 0, "ZRANGE z 5 1");
        EXPECT_ARRAY(c, "", 0, 0, "ZRANGE z 1000 2000");
        EXPECT_ARRAY(c, "a", 0, 0, "ZRANGE z -1000 0");
        EXPECT_ARRAY(c, "", 0, 0, "ZRANGE nokey 0 -1");
        EXPECT_INT(c, big ? 207 : 7, "ZCARD z");
    }
    EXPECT_ERR(c, NOTINT, "ZRANGE z a 1");
    EXPECT_ERR(c, SYNTAX, "ZRANGE z 0 -1 foo");
    EXPECT_ERR(c, SYNTAX, "ZRANGE z 0 -1 REV REV");
    EXPECT_ERR(c, SYNTAX, "ZRANGE z 0 -1 BYSCORE BYLEX");
    EXPECT_ERR(c, SYNTAX, "ZRANGE z 0 -1 LIMIT 1");
    EXPECT_ERR(c, NOTINT, "ZRANGE z 0 -1 LIMIT a b");
    EXPECT_ERR(c, "ERR syntax error, LIMIT is only supported in combination with either "
                  "BYSCORE or BYLEX", "ZRANGE z 0 1 LIMIT 0 1");
    EXPECT_ERR(c, "ERR syntax error, LIMIT is only supported in combination with either "
                  "BYSCORE or BYLEX", "ZREVRANGE z 0 1 LIMIT 0 1");
    EXPECT_ERR(c, SYNTAX, "ZREVRANGE z 0 1 REV");
    EXPECT_ERR(c, SYNTAX, "ZRANGEBYSCORE z 1 3 REV");
    EXPECT_ERR(c, "ERR syntax error, WITHSCORES not supported in combination with BYLEX",
               "ZRANGE z a b BYLEX WITHSCORES");
    EXPECT_ERR(c, ARGS("zrange"), "ZRANGE z 0");
    EXPECT_ERR(c, ARGS("zrevrange"), "ZREVRANGE z 0");
}

static void test_by_score(void **state)
{
    for (int big = 0; big < 2; big++) {
        EXPECT_OK(c, "FLUSHALL");
        fill(big);
        EXPECT_ARRAY(c, "b c", 0, 0, "ZRANGE z (1 3 BYSCORE");
        EXPECT_ARRAY(c, "b=2", 1, 0, "ZRANGEBYSCORE z (1 (3 WITHSCORES");
        EXPECT_ARRAY(c, "c b", 0, 0, "ZRANGE z 3 (1 BYSCORE REV");
        EXPECT_ARRAY(c, "c b", 0, 0, "ZREVRANGEBYSCORE z 3 (1");
        EXPECT_ARRAY(c, "b c d", 0, 0, "ZRANGE z -inf +inf BYSCORE LIMIT 1 3");
        EXPECT_ARRAY(c, "f e", 0, 0, "ZRANGE z 6 -inf BYSCORE REV LIMIT 0 2");
        EXPECT_ARRAY(c, "", 0, 0, "ZRANGE z -inf +inf BYSCORE LIMIT -1 3");   /* negative offset */
        EXPECT_ARRAY(c, "", 0, 0, "ZRANGE z -inf 7 BYSCORE LIMIT 7 3");       /* past the range */
        EXPECT_ARRAY(c, "", 0, 0, "ZRANGE z -inf 7 BYSCORE LIMIT 0 0");
        EXPECT_ARRAY(c, "f g", 0, 0, "ZRANGE z 6 7 BYSCORE LIMIT 0 -1");      /* no limit */
        EXPECT_ARRAY(c, "a b", 0, 0, "ZRANGE z -inf 2 BYSCORE LIMIT 0 9223372036854775807");
        EXPECT_ARRAY(c, "", 0, 0, "ZRANGE z 3 1 BYSCORE");
        EXPECT_ARRAY(c, "", 0, 0, "ZRANGE z (3 3 BYSCORE");
        EXPECT_ARRAY(c, "c", 0, 0, "ZRANGE z 3 3 BYSCORE");
        EXPECT_ARRAY(c, "", 0, 0, "ZRANGE z %s 0 BYSCORE", "");   /* "" is 0, as strtod reads it */
        EXPECT_ARRAY(c, "a", 0, 0, "ZRANGE z %s 1 BYSCORE", " 1");
        EXPECT_ARRAY(c, "a b", 0, 0, "ZRANGE z ( 2 BYSCORE");
        EXPECT_INT(c, 2, "ZCOUNT z (1 3");
        EXPECT_INT(c, big ? 207 : 7, "ZCOUNT z -inf +inf");
        EXPECT_INT(c, 0, "ZCOUNT z 10 1");
        EXPECT_INT(c, 0, "ZCOUNT nokey 0 1");
    }
    EXPECT_ERR(c, NOTFLOAT_RANGE, "ZRANGE z x 1 BYSCORE");
    EXPECT_ERR(c, NOTFLOAT_RANGE, "ZRANGEBYSCORE z 1 nan");
    EXPECT_ERR(c, NOTFLOAT_RANGE, "ZCOUNT z %s 1", "1 ");
    EXPECT_ERR(c, NOTFLOAT_RANGE, "ZCOUNT z ((1 1");
    EXPECT_ERR(c, ARGS("zcount"), "ZCOUNT z 1");
}

static void test_by_lex(void **state)
{
    EXPECT_INT(c, 7, "ZADD l 0 a 0 b 0 c 0 d 0 e 0 f 0 g");
    for (int big = 0; big < 2; big++) {
        if (big)
            for (int i = 0; i < 200; i++)
                EXPECT_INT(c, 1, "ZADD l 0 h%03d", i);
        EXPECT_ARRAY(c, "b c d", 0, 0, "ZRANGEBYLEX l [b (e");
        EXPECT_ARRAY(c, "d e", 0, 0, "ZRANGEBYLEX l (b [e LIMIT 1 2");
        EXPECT_ARRAY(c, "", 0, 0, "ZRANGEBYLEX l + -");
        EXPECT_ARRAY(c, "", 0, 0, "ZRANGEBYLEX l - -");
        EXPECT_ARRAY(c, "a b", 0, 0, "ZRANGE l - (c BYLEX");
        EXPECT_ARRAY(c, "e d c", 0, 0, "ZREVRANGEBYLEX l [e [c");
        EXPECT_ARRAY(c, "e d", 0, 0, "ZRANGE l [e [b BYLEX REV LIMIT 0 2");
        EXPECT_ARRAY(c, big ? "h199" : "g", 0, 0, "ZREVRANGEBYLEX l + - LIMIT 0 1");
        EXPECT_INT(c, big ? 205 : 5, "ZLEXCOUNT l [c +");
        EXPECT_INT(c, 0, "ZLEXCOUNT l (c (c");
        EXPECT_INT(c, 1, "ZLEXCOUNT l [c [c");
    }
    EXPECT_ERR(c, NOTLEX, "ZRANGEBYLEX l b c");
    EXPECT_ERR(c, NOTLEX, "ZRANGEBYLEX l %s +", "");
    EXPECT_ERR(c, NOTLEX, "ZRANGEBYLEX l [a +x");
    EXPECT_ERR(c, NOTLEX, "ZLEXCOUNT l x y");
    EXPECT_ERR(c, NOTLEX, "ZREMRANGEBYLEX l x y");
    EXPECT_ARRAY(c, "a", 0, 0, "ZRANGEBYLEX l - %b LIMIT 0 1", "+\0x", (size_t)3);   /* "+", a NUL */
}

static void test_remrange(void **state)
{
    for (int big = 0; big < 2; big++) {
        EXPECT_OK(c, "FLUSHALL");
        fill(big);
        EXPECT_INT(c, 1, "ZREMRANGEBYRANK z 0 0");
        EXPECT_INT(c, 1, "ZREMRANGEBYRANK z -1 -1");
        EXPECT_INT(c, 0, "ZREMRANGEBYRANK z 5 1");
        EXPECT_INT(c, 2, "ZREMRANGEBYSCORE z (2 4");
        EXPECT_ARRAY(c, "b e", 0, 0, "ZRANGE z 0 1");
        EXPECT_INT(c, big ? 202 : 2, "ZREMRANGEBYRANK z 1 100000");
        EXPECT_INT(c, 1, "ZREMRANGEBYSCORE z -inf +inf");
        EXPECT_INT(c, 0, "EXISTS z");                      /* emptied: gone */
    }
    EXPECT_INT(c, 4, "ZADD l 0 a 0 b 0 c 0 d");
    EXPECT_INT(c, 2, "ZREMRANGEBYLEX l [a (c");
    EXPECT_ARRAY(c, "c d", 0, 0, "ZRANGE l 0 -1");
    EXPECT_INT(c, 0, "ZREMRANGEBYRANK nokey 0 -1");
    EXPECT_ERR(c, NOTINT, "ZREMRANGEBYRANK l a 1");
    EXPECT_ERR(c, NOTFLOAT_RANGE, "ZREMRANGEBYSCORE l x 3");
    EXPECT_OK(c, "SET str x");
    EXPECT_ERR(c, WRONGTYPE, "ZREMRANGEBYRANK str 0 1");
    EXPECT_ERR(c, NOTINT, "ZREMRANGEBYRANK str a 1");      /* the range before the key */
    EXPECT_ERR(c, WRONGTYPE, "ZRANGE str 0 -1");
    EXPECT_ERR(c, WRONGTYPE, "ZCOUNT str 0 1");
    EXPECT_ERR(c, NOTFLOAT_RANGE, "ZCOUNT str x 1");
    EXPECT_ERR(c, ARGS("zremrangebyrank"), "ZREMRANGEBYRANK l 0");
}

static void test_rangestore(void **state)
{
    EXPECT_INT(c, 4, "ZADD s 10 b 20 c 30 d 1.5 a");
    EXPECT_INT(c, 4, "ZRANGESTORE d s 0 -1");
    EXPECT_ARRAY(c, "a=1.5 b=10 c=20 d=30", 1, 0, "ZRANGE d 0 -1 WITHSCORES");
    EXPECT_INT(c, 2, "ZRANGESTORE d s +inf (10 BYSCORE REV");
    EXPECT_ARRAY(c, "c=20 d=30", 1, 0, "ZRANGE d 0 -1 WITHSCORES");
    EXPECT_INT(c, 1, "ZRANGESTORE d s - + BYLEX LIMIT 1 1");
    EXPECT_ARRAY(c, "b", 0, 0, "ZRANGE d 0 -1");
    EXPECT_INT(c, 0, "ZRANGESTORE d nokey 0 -1");          /* empty: the destination goes */
    EXPECT_INT(c, 0, "EXISTS d");
    EXPECT_OK(c, "SET str x");
    EXPECT_INT(c, 4, "ZRANGESTORE str s 0 -1");            /* any type is replaced */
    EXPECT_STATUS(c, "zset", "TYPE str");
    EXPECT_INT(c, 2, "ZRANGESTORE s s 1 2");               /* onto its own source */
    EXPECT_ARRAY(c, "b c", 0, 0, "ZRANGE s 0 -1");
    EXPECT_OK(c, "SET str2 x");
    EXPECT_ERR(c, WRONGTYPE, "ZRANGESTORE d str2 0 -1");
    EXPECT_ERR(c, SYNTAX, "ZRANGESTORE d s 0 -1 WITHSCORES");
    EXPECT_ERR(c, "ERR syntax error, LIMIT is only supported in combination with either "
                  "BYSCORE or BYLEX", "ZRANGESTORE d s 0 -1 LIMIT 0 1");
    EXPECT_ERR(c, ARGS("zrangestore"), "ZRANGESTORE d s 0");
    /* the encoding Redis gives the result */
    for (int i = 0; i < 200; i++)
        EXPECT_INT(c, 1, "ZADD big %d m%d", i, i);
    EXPECT_INT(c, 128, "ZRANGESTORE d big 0 127");
    EXPECT_BULK(c, "listpack", "OBJECT ENCODING d");
    EXPECT_INT(c, 129, "ZRANGESTORE d big 0 128");
    EXPECT_BULK(c, "skiplist", "OBJECT ENCODING d");
}

/* ZRANGE 0 -1 of a set bigger than the output limit: the connection is
 * closed (the reply cut there), the server and the set are fine. */
static void test_huge_range_cut(void **state)
{
    char m[64];
    redisReply *r;

    for (int i = 0; i < 20000; i++) {
        snprintf(m, sizeof(m), "member-%040d", i);
        redisAppendCommand(c, "ZADD huge %d %s", i, m);
    }
    for (int i = 0; i < 20000; i++) {
        assert_int_equal(redisGetReply(c, (void **)&r), REDIS_OK);
        freeReplyObject(r);
    }
    const char req[] = "*5\r\n$6\r\nZRANGE\r\n$4\r\nhuge\r\n$1\r\n0\r\n$2\r\n-1\r\n"
                       "$10\r\nWITHSCORES\r\n";
    expect_closed_by_output_limit(req, sizeof(req) - 1);
    const char lim[] = "*8\r\n$6\r\nZRANGE\r\n$4\r\nhuge\r\n$4\r\n-inf\r\n$4\r\n+inf\r\n"
                       "$7\r\nBYSCORE\r\n$5\r\nLIMIT\r\n$1\r\n0\r\n$19\r\n9223372036854775807\r\n";
    expect_closed_by_output_limit(lim, sizeof(lim) - 1);
    EXPECT_INT(c, 20000, "ZCARD huge");
    EXPECT_ARRAY(c, m, 0, 0, "ZRANGE huge -1 -1");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup(f, test_setup)
        T(test_by_rank),
        T(test_by_score),
        T(test_by_lex),
        T(test_remrange),
        T(test_rangestore),
        T(test_huge_range_cut),
#undef T
    };
    int failed = cmocka_run_group_tests_name("integration/zrange", tests, group_setup,
                                             group_teardown);
    return harness_finish(failed);
}
