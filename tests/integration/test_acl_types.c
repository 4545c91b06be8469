/*
 * test_acl_types: ACL key permissions on the hash, list and set commands,
 * as Redis 7.0's key specs have them. A command that names a key the user
 * may not use is refused before it runs (NOPERM, nothing changed), on
 * every key: LMOVE's destination, SINTERSTORE's destination and sources,
 * the keys behind LMPOP's / BLMPOP's / SINTERCARD's count, every key of a
 * blocking pop (refused at once, never blocked). A client blocked in a
 * pop is closed when its user is deleted; CLIENT KILL USER names ACL
 * users. The whole file passes under MMCACHE_TEST_AGAINST=redis.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include <cmocka.h>

#include "check.h"
#include "harness.h"


static struct harness_server srv;
static redisContext *adm;            /* the default user, on the group's server */

static int group_setup(void **state)
{
    (void)state;
    return chk_group_start(&srv, &adm);
}

static int group_teardown(void **state)
{
    (void)state;
    return chk_group_stop(&srv, &adm);
}

/* Each test starts with the default user only and an empty keyspace. */
static int test_setup(void **state)
{
    (void)state;
    return chk_acl_reset(adm, 0);
}

static redisContext *as(const char *user)
{
    return chk_connect_as(&srv, user, "pw");
}

/* Send cmd without waiting for its reply. */
static void send_only(redisContext *c, const char *cmd)
{
    int done = 0;

    assert_int_equal(redisAppendCommand(c, cmd), REDIS_OK);
    while (!done)
        assert_int_equal(redisBufferWrite(c, &done), REDIS_OK);
}

/* CLIENT KILL closes a client on another worker after its reply (Redis:
 * before): wait (bounded) until c's PING finds it closed. */
static void expect_closed(redisContext *c)
{
    for (int i = 0; i < 250; i++) {
        redisReply *r = redisCommand(c, "PING");
        if (r == NULL)
            return;
        freeReplyObject(r);
        harness_sleep_ms(20);
    }
    fail_msg("the connection is still open");
}

/* ~cache:* +@all: a command with one key outside the pattern is refused
 * whole, and changes nothing. */
static void test_one_key_outside(void **state)
{
    (void)state;
    EXPECT_OK(adm, "ACL SETUSER c on >pw ~cache:* +@all");
    redisContext *c = as("c");
    EXPECT_INT(adm, 2, "RPUSH cache:a x y");
    EXPECT_ERR(c, NOPERM_KEYS, "LMOVE cache:a other:b LEFT RIGHT");
    EXPECT_ERR(c, NOPERM_KEYS, "SINTERSTORE other:x cache:a");
    EXPECT_ERR(c, NOPERM_KEYS, "SMOVE other:s cache:s m");
    EXPECT_ERR(c, NOPERM_KEYS, "HSET other:h f v");
    EXPECT_INT(adm, 2, "LLEN cache:a");
    EXPECT_INT(adm, 0, "EXISTS other:b other:x other:s other:h");
    EXPECT_BULK(c, "x", "LMOVE cache:a cache:b LEFT RIGHT");
    EXPECT_INT(c, 1, "SADD cache:s m");
    EXPECT_INT(c, 1, "SINTERSTORE cache:x cache:s");
    redisFree(c);
}

/* %R~ and %W~: what each command does with each key (Redis 7.0's key
 * specs: a destination is only written, a source read and, when popped
 * from, written; HLEN and SCARD read no value). */
static void test_read_write_per_key(void **state)
{
    (void)state;
    EXPECT_OK(adm, "ACL SETUSER rw on >pw +@all %s %s %s", "%R~r:*", "%W~w:*", "%RW~rw:*");
    redisContext *rw = as("rw");
    EXPECT_INT(adm, 2, "SADD r:a 1 2");
    EXPECT_INT(adm, 3, "RPUSH rw:l a b c");
    EXPECT_INT(adm, 1, "HSET w:h f v");

    EXPECT_INT(rw, 2, "SINTERSTORE w:dst r:a");
    EXPECT_ERR(rw, NOPERM_KEYS, "SUNIONSTORE r:dst r:a");   /* the destination is written */
    EXPECT_ERR(rw, NOPERM_KEYS, "SDIFFSTORE w:dst w:h");    /* a source is read */
    EXPECT_ERR(rw, NOPERM_KEYS, "SINTER w:dst");
    EXPECT_INT(rw, 2, "SCARD w:dst");                       /* reads no value */
    EXPECT_INT(rw, 1, "HLEN w:h");
    EXPECT_ERR(rw, NOPERM_KEYS, "HGET w:h f");
    EXPECT_INT(rw, 1, "HSET w:h g v");

    EXPECT_BULK(rw, "a", "LMOVE rw:l w:l LEFT RIGHT");      /* destination: write only */
    EXPECT_ERR(rw, NOPERM_KEYS, "LMOVE r:a w:l LEFT RIGHT"); /* the source is popped */
    EXPECT_ERR(rw, NOPERM_KEYS, "RPOPLPUSH rw:l r:l");
    EXPECT_ERR(rw, NOPERM_KEYS, "SMOVE r:a w:s 1");
    EXPECT_ERR(rw, NOPERM_KEYS, "LMPOP 2 rw:l r:l LEFT");   /* every key after the count */
    EXPECT_ERR(rw, NOPERM_KEYS, "LMPOP 2 w:l rw:l LEFT");
    EXPECT_ERR(rw, NOPERM_KEYS, "SINTERCARD 2 r:a w:dst");
    EXPECT_INT(rw, 2, "SINTERCARD 1 r:a");
    EXPECT_INT(adm, 2, "LLEN rw:l");
    EXPECT_INT(adm, 1, "LLEN w:l");
    EXPECT_INT(adm, 2, "SCARD r:a");
    EXPECT_INT(adm, 0, "EXISTS r:dst w:s r:l");
    redisFree(rw);
}

/* A blocking pop naming a key the user may not pop from is refused at
 * once (the timeouts are short so that a pop let through fails the test
 * with a nil rather than hangs it). */
static void test_blocking_pops_refused(void **state)
{
    (void)state;
    EXPECT_OK(adm, "ACL SETUSER rw on >pw +@all %s %s %s", "%R~r:*", "%W~w:*", "%RW~rw:*");
    redisContext *rw = as("rw");
    EXPECT_ERR(rw, NOPERM_KEYS, "BLPOP rw:q w:q 0.2");
    EXPECT_ERR(rw, NOPERM_KEYS, "BRPOP r:q 0.2");
    EXPECT_ERR(rw, NOPERM_KEYS, "BLMOVE rw:q r:d LEFT RIGHT 0.2");
    EXPECT_ERR(rw, NOPERM_KEYS, "BRPOPLPUSH w:q rw:d 0.2");
    EXPECT_ERR(rw, NOPERM_KEYS, "BLMPOP 0.2 2 rw:q w:q LEFT");
    EXPECT_NIL(rw, "BLMOVE rw:q w:d LEFT RIGHT 0.01");      /* allowed: times out */
    EXPECT_INT(adm, 0, "EXISTS rw:q w:q r:q r:d rw:d w:d");
    redisFree(rw);
}

/* A client blocked in a pop goes when its user is deleted, and CLIENT
 * KILL USER closes an ACL user's clients, blocked or not. */
static void test_blocked_client_of_user(void **state)
{
    (void)state;
    EXPECT_OK(adm, "ACL SETUSER gone on >pw +@all ~*");
    EXPECT_OK(adm, "ACL SETUSER k on >pw +@all ~*");
    redisContext *g = as("gone"), *k1 = as("k"), *k2 = as("k");
    redisContext *other = harness_connect(&srv);   /* the default user's */
    assert_non_null(other);
    struct timeval tv = { 10, 0 };
    void *reply = NULL;

    assert_int_equal(redisSetTimeout(g, tv), REDIS_OK);
    send_only(g, "BLPOP q 0");
    send_only(k1, "BLPOP q 0");
    chk_wait_blocked(adm, 2);
    EXPECT_INT(adm, 1, "ACL DELUSER gone");
    assert_int_equal(redisGetReply(g, &reply), REDIS_ERR);   /* closed, no reply */

    EXPECT_ERR(adm, "ERR No such user 'nobody'", "CLIENT KILL USER nobody");
    EXPECT_INT(adm, 2, "CLIENT KILL USER k");
    expect_closed(k2);
    assert_int_equal(redisGetReply(k1, &reply), REDIS_ERR);
    EXPECT_STATUS(other, "PONG", "PING");
    EXPECT_INT(adm, 1, "CLIENT KILL USER default");          /* SKIPME: not the caller */
    expect_closed(other);
    EXPECT_INT(adm, 1, "RPUSH q x");                         /* no one took it */
    EXPECT_INT(adm, 1, "LLEN q");
    redisFree(g);
    redisFree(k1);
    redisFree(k2);
    redisFree(other);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup(f, test_setup)
        T(test_one_key_outside),
        T(test_read_write_per_key),
        T(test_blocking_pops_refused),
        T(test_blocked_client_of_user),
#undef T
    };
    int failed = cmocka_run_group_tests_name("integration/acl_types", tests, group_setup,
                                             group_teardown);
    return harness_finish(failed);
}
