/*
 * test_zblocking: BZPOPMIN BZPOPMAX BZMPOP and ZMPOP against the real
 * server (mmcache with --threads 2), on the blocking pops' machinery:
 * clients blocked on one worker served by a write on the other (ZADD,
 * ZINCRBY, a STORE's destination, RENAME, COPY), in the order they
 * blocked; a BLPOP waiting on a key that becomes a sorted set keeps
 * waiting (and a BZPOPMIN on one that becomes a list); timeouts; WRONGTYPE
 * at once; a client gone while blocked takes nothing; Redis 7.0's
 * argument errors and reply shapes. The file passes under
 * MMCACHE_TEST_AGAINST=redis (one worker there: placing is skipped).
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
#define CMD_FIXTURE_MM_ARGS "--threads", "2",
#include "cmd_fixture.h"
#include "harness.h"
#include "blocking_util.h"

#define SYNTAX "ERR syntax error"

static void test_pop_at_once(void **state)
{
    EXPECT_INT(c, 3, "ZADD z 1 a 2 b 3 c");
    EXPECT_ARRAY(c, "z a 1", 0, 0, "BZPOPMIN nokey z 0");
    EXPECT_ARRAY(c, "z c 3", 0, 0, "BZPOPMAX z 0");
    EXPECT_ARRAY(c, "z [[b 2]]", 0, 0, "BZMPOP 0 2 nokey z MIN COUNT 10");
    EXPECT_INT(c, 0, "EXISTS z");
    EXPECT_INT(c, 3, "ZADD z 1 a 2 b 3 c");
    EXPECT_ARRAY(c, "z [[c 3] [b 2]]", 0, 0, "ZMPOP 1 z MAX COUNT 2");
    EXPECT_ARRAY(c, "z [[a 1]]", 0, 0, "ZMPOP 2 nokey z MIN");
    redisReply *r = CMD(c, "ZMPOP 1 z MIN");
    assert_int_equal(r->type, REDIS_REPLY_NIL);          /* nothing: the null array */
    freeReplyObject(r);
    r = CMD(c, "BZPOPMIN nokey 0.01");
    assert_int_equal(r->type, REDIS_REPLY_NIL);          /* the timeout */
    freeReplyObject(r);
    r = CMD(c, "BZMPOP 0.01 1 nokey MIN");
    assert_int_equal(r->type, REDIS_REPLY_NIL);
    freeReplyObject(r);
    EXPECT_OK(c, "SET str x");
    EXPECT_ERR(c, WRONGTYPE, "BZPOPMIN nokey str 0");
    EXPECT_ERR(c, WRONGTYPE, "ZMPOP 2 nokey str MIN");
    EXPECT_ERR(c, WRONGTYPE, "BZMPOP 0 1 str MAX");
    EXPECT_INT(c, 1, "RPUSH l x");
    EXPECT_ERR(c, WRONGTYPE, "BZPOPMIN l 0");             /* a list is not popped */
}

static void test_errors(void **state)
{
    EXPECT_ERR(c, "ERR timeout is negative", "BZPOPMIN z -1");
    EXPECT_ERR(c, "ERR timeout is not a float or out of range", "BZPOPMIN z abc");
    EXPECT_ERR(c, "ERR numkeys should be greater than 0", "ZMPOP 0 z MIN");
    EXPECT_ERR(c, "ERR numkeys should be greater than 0", "BZMPOP 0 0 z MIN");
    EXPECT_ERR(c, "ERR numkeys should be greater than 0", "ZMPOP x z MIN");
    EXPECT_ERR(c, SYNTAX, "ZMPOP 2 z MIN");
    EXPECT_ERR(c, SYNTAX, "ZMPOP 1 z LEFT");
    EXPECT_ERR(c, SYNTAX, "ZMPOP 1 z MIN COUNT");
    EXPECT_ERR(c, SYNTAX, "ZMPOP 1 z MIN COUNT 1 COUNT 1");
    EXPECT_ERR(c, "ERR count should be greater than 0", "ZMPOP 1 z MIN COUNT 0");
    EXPECT_ERR(c, "ERR timeout is not a float or out of range", "BZMPOP x 1 z MAX");
    EXPECT_ERR(c, SYNTAX, "BZMPOP x 1 z MAXX");           /* the options before the timeout */
    EXPECT_ERR(c, "ERR wrong number of arguments for 'bzpopmin' command", "BZPOPMIN z");
}

/* Blocked on worker 0, written on worker 1: in the order they blocked. */
static void test_served_in_order(void **state)
{
    redisContext *b[3], *p = on_worker(1);

    for (int i = 0; i < 3; i++) {
        b[i] = on_worker(0);
        send_only(b[i], i == 1 ? "BZPOPMAX z 0" : "BZPOPMIN z 0");
        chk_wait_blocked(c, i + 1);
    }
    EXPECT_INT(p, 3, "ZADD z 1 a 2 b 3 c");               /* the count before anyone takes */
    expect_popped(b[0], "z a 1");
    expect_popped(b[1], "z c 3");
    expect_popped(b[2], "z b 2");
    EXPECT_INT(p, 0, "EXISTS z");
    chk_wait_blocked(c, 0);
    /* BZMPOP with a count, served by ZINCRBY */
    send_only(b[0], "BZMPOP 0 2 y1 y2 MIN COUNT 5");
    chk_wait_blocked(c, 1);
    EXPECT_BULK(p, "2.5", "ZINCRBY y2 2.5 m");
    expect_popped(b[0], "y2 [[m 2.5]]");
    for (int i = 0; i < 3; i++)
        redisFree(b[i]);
    redisFree(p);
}

/* A STORE, RENAME or COPY that makes the key a sorted set serves it. */
static void test_store_rename_copy_serve(void **state)
{
    redisContext *b = on_worker(0);

    EXPECT_INT(c, 2, "ZADD src 1 a 2 b");
    send_only(b, "BZPOPMIN dst 0");
    chk_wait_blocked(c, 1);
    EXPECT_INT(c, 2, "ZUNIONSTORE dst 1 src WEIGHTS 10");
    expect_popped(b, "dst a 10");
    EXPECT_INT(c, 1, "ZCARD dst");
    send_only(b, "BZPOPMAX d2 0");
    chk_wait_blocked(c, 1);
    EXPECT_INT(c, 1, "ZRANGESTORE d2 src 0 0");
    expect_popped(b, "d2 a 1");
    send_only(b, "BZPOPMAX d3 0");
    chk_wait_blocked(c, 1);
    EXPECT_INT(c, 1, "COPY src d3");
    expect_popped(b, "d3 b 2");
    send_only(b, "BZPOPMIN d4 0");
    chk_wait_blocked(c, 1);
    EXPECT_OK(c, "RENAME src d4");
    expect_popped(b, "d4 a 1");
    EXPECT_ARRAY(c, "b", 0, 0, "ZRANGE d4 0 -1");
    redisFree(b);
}

/* Each kind waits for its own type. */
static void test_type_of_wait(void **state)
{
    redisContext *l = on_worker(0), *z = on_worker(1);

    send_only(l, "BLPOP k 0");
    send_only(z, "BZPOPMIN k2 0");
    chk_wait_blocked(c, 2);
    EXPECT_INT(c, 1, "ZADD k 1 a");                       /* a sorted set: BLPOP waits on */
    EXPECT_INT(c, 1, "RPUSH k2 x");                       /* a list: BZPOPMIN waits on */
    chk_wait_blocked(c, 2);
    EXPECT_INT(c, 1, "ZCARD k");
    EXPECT_INT(c, 1, "LLEN k2");
    EXPECT_INT(c, 2, "DEL k k2");
    EXPECT_INT(c, 1, "RPUSH k y");
    EXPECT_INT(c, 1, "ZADD k2 5 m");
    expect_popped(l, "k y");
    expect_popped(z, "k2 m 5");
    redisFree(l);
    redisFree(z);
}

/* A client that goes while blocked takes nothing: the next one gets it. */
static void test_gone_while_blocked(void **state)
{
    redisContext *gone = on_worker(0), *b = on_worker(0);

    send_only(gone, "BZPOPMIN q 0");
    chk_wait_blocked(c, 1);
    redisFree(gone);
    chk_wait_blocked(c, 0);
    send_only(b, "BZPOPMIN q 0");
    chk_wait_blocked(c, 1);
    EXPECT_INT(c, 2, "ZADD q 1 a 2 b");
    expect_popped(b, "q a 1");
    EXPECT_ARRAY(c, "b", 0, 0, "ZRANGE q 0 -1");
    redisFree(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup(f, test_setup)
        T(test_pop_at_once),
        T(test_errors),
        T(test_served_in_order),
        T(test_store_rename_copy_serve),
        T(test_type_of_wait),
        T(test_gone_while_blocked),
#undef T
    };
    int failed = cmocka_run_group_tests_name("integration/zblocking", tests, group_setup,
                                             group_teardown);
    return harness_finish(failed);
}
