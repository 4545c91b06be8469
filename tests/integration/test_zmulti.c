/*
 * test_zmulti: ZUNION ZINTER ZDIFF, their STORE forms and ZINTERCARD:
 * sorted sets and sets (a set's members score 1) as sources, WEIGHTS and
 * AGGREGATE, Redis's NaN rules (inf * 0 and inf + -inf count 0), the
 * result ordered by score then member, a STORE replacing any type (or
 * deleting its destination when empty) in the encoding Redis gives, and
 * Redis 7.0's errors in its order: numkeys (0, negative, huge, past the
 * arguments), then the sources' types (WRONGTYPE wins over a bad
 * option), then the options each command takes. Also: ZUNIONSTORE on
 * keys in different shards from two clients at once leaves what one of
 * them computed, never a mix. The whole file passes under
 * MMCACHE_TEST_AGAINST=redis.
 *
 * Each test starts from an empty keyspace (cmd_fixture.h).
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
#include <unistd.h>

#include <cmocka.h>

#include "check.h"
#include "cmd_fixture.h"
#include "harness.h"

#define ARGS(cmd) "ERR wrong number of arguments for '" cmd "' command"
#define NOTINT "ERR value is not an integer or out of range"
#define SYNTAX "ERR syntax error"

static void sources(void)
{
    EXPECT_INT(c, 3, "ZADD u1 1 a 2 b 3 c");
    EXPECT_INT(c, 3, "ZADD u2 10 b 20 c 30 d");
    EXPECT_INT(c, 3, "SADD s1 a d x");
}

static void test_union_inter_diff(void **state)
{
    sources();
    EXPECT_ARRAY(c, "a=1 b=12 c=23 d=30", 1, 0, "ZUNION 2 u1 u2 WITHSCORES");
    EXPECT_ARRAY(c, "a b c d", 0, 0, "ZUNION 2 u1 u2");
    EXPECT_ARRAY(c, "a=2 b=34 c=66 d=90", 1, 0, "ZUNION 2 u1 u2 WEIGHTS 2 3 WITHSCORES");
    EXPECT_ARRAY(c, "a=1 b=10 c=20 d=30", 1, 0, "ZUNION 2 u1 u2 AGGREGATE MAX WITHSCORES");
    EXPECT_ARRAY(c, "a=1 b=2 c=3 d=30", 1, 0, "ZUNION 2 u1 u2 aggregate min withscores");
    EXPECT_ARRAY(c, "x=1 a=2 b=12 c=23 d=31", 1, 0, "ZUNION 3 u1 u2 s1 WITHSCORES");
    EXPECT_ARRAY(c, "b=12 c=23", 1, 0, "ZINTER 2 u1 u2 WITHSCORES");
    EXPECT_ARRAY(c, "", 0, 0, "ZINTER 3 u1 u2 s1 WITHSCORES");
    EXPECT_ARRAY(c, "a=2 b=4 c=6", 1, 0, "ZINTER 2 u1 u1 WITHSCORES");   /* one key twice */
    EXPECT_ARRAY(c, "a=1", 1, 0, "ZDIFF 2 u1 u2 WITHSCORES");
    EXPECT_ARRAY(c, "", 0, 0, "ZDIFF 2 u1 u1");
    EXPECT_ARRAY(c, "b=10 c=20", 1, 0, "ZDIFF 2 u2 s1 WITHSCORES");
    EXPECT_ARRAY(c, "a b c", 0, 0, "ZUNION 1 u1");
    EXPECT_ARRAY(c, "a b c", 0, 0, "ZUNION 2 u1 nokey");
    EXPECT_ARRAY(c, "", 0, 0, "ZINTER 2 u1 nokey");
    EXPECT_ARRAY(c, "", 0, 0, "ZDIFF 2 nokey u1");
    EXPECT_INT(c, 2, "ZINTERCARD 2 u1 u2");
    EXPECT_INT(c, 1, "ZINTERCARD 2 u1 u2 LIMIT 1");
    EXPECT_INT(c, 2, "ZINTERCARD 2 u1 u2 LIMIT 0");
    EXPECT_INT(c, 0, "ZINTERCARD 2 u1 nokey");
}

/* inf * 0 is NaN: it counts 0; so does inf + -inf; a weight of inf. */
static void test_nan_rules(void **state)
{
    EXPECT_INT(c, 1, "ZADD w 1 a");
    EXPECT_INT(c, 1, "ZADD ninf -inf a");
    EXPECT_INT(c, 1, "ZADD pinf inf a");
    EXPECT_ARRAY(c, "a=inf", 1, 0, "ZUNION 2 w w WEIGHTS inf 0 WITHSCORES");
    EXPECT_ARRAY(c, "a=0", 1, 0, "ZUNION 2 ninf pinf WITHSCORES");
    EXPECT_ARRAY(c, "a=0", 1, 0, "ZINTER 2 ninf pinf WITHSCORES");
    EXPECT_ARRAY(c, "a=inf", 1, 0, "ZUNION 2 pinf pinf WEIGHTS 0 1 WITHSCORES");
    EXPECT_ARRAY(c, "a=-inf", 1, 0, "ZUNION 2 ninf pinf AGGREGATE MIN WITHSCORES");
    EXPECT_ARRAY(c, "a=1.5", 1, 0, "ZUNION 1 w WEIGHTS 1.5 WITHSCORES");
}

static void test_store(void **state)
{
    sources();
    EXPECT_INT(c, 4, "ZUNIONSTORE d 2 u1 u2");
    EXPECT_ARRAY(c, "a=1 b=12 c=23 d=30", 1, 0, "ZRANGE d 0 -1 WITHSCORES");
    EXPECT_INT(c, 2, "ZINTERSTORE d 2 u1 u2 WEIGHTS 1 -1 AGGREGATE SUM");
    EXPECT_ARRAY(c, "c=-17 b=-8", 1, 0, "ZRANGE d 0 -1 WITHSCORES");
    EXPECT_INT(c, 1, "ZDIFFSTORE d 2 u1 u2");
    EXPECT_ARRAY(c, "a=1", 1, 0, "ZRANGE d 0 -1 WITHSCORES");
    EXPECT_INT(c, 0, "ZDIFFSTORE d 2 u1 u1");              /* empty: the destination goes */
    EXPECT_INT(c, 0, "EXISTS d");
    EXPECT_OK(c, "SET str x");
    EXPECT_INT(c, 1, "EXPIRE str 1000");
    EXPECT_INT(c, 3, "ZUNIONSTORE str 1 u1");              /* any type, its TTL gone */
    EXPECT_INT(c, -1, "TTL str");
    EXPECT_STATUS(c, "zset", "TYPE str");
    EXPECT_INT(c, 3, "ZUNIONSTORE u1 2 u1 u1");            /* onto its own source */
    EXPECT_ARRAY(c, "a=2 b=4 c=6", 1, 0, "ZRANGE u1 0 -1 WITHSCORES");
    EXPECT_BULK(c, "listpack", "OBJECT ENCODING u1");
    for (int i = 0; i < 200; i++)
        EXPECT_INT(c, 1, "ZADD big %d m%d", i, i);
    EXPECT_INT(c, 200, "ZUNIONSTORE d 1 big");
    EXPECT_BULK(c, "skiplist", "OBJECT ENCODING d");
    EXPECT_ERR(c, SYNTAX, "ZUNIONSTORE d 2 u1 u2 WITHSCORES");
}

static void test_errors(void **state)
{
    sources();
    EXPECT_OK(c, "SET str x");
    EXPECT_ERR(c, "ERR at least 1 input key is needed for 'zunion' command", "ZUNION 0 u1");
    EXPECT_ERR(c, "ERR at least 1 input key is needed for 'zunionstore' command",
               "ZUNIONSTORE d -1 u1");
    EXPECT_ERR(c, "ERR at least 1 input key is needed for 'zintercard' command",
               "ZINTERCARD 0 u1");
    EXPECT_ERR(c, "ERR at least 1 input key is needed for 'zdiffstore' command",
               "ZDIFFSTORE d 0 u1");
    EXPECT_ERR(c, NOTINT, "ZUNION abc u1");
    EXPECT_ERR(c, NOTINT, "ZINTERSTORE d 99999999999999999999 u1");
    EXPECT_ERR(c, SYNTAX, "ZUNION 3 u1 u2");               /* more keys than arguments */
    EXPECT_ERR(c, SYNTAX, "ZINTERCARD 3 u1 u2");
    EXPECT_ERR(c, SYNTAX, "ZUNIONSTORE d 2147483648 u1");
    EXPECT_ERR(c, SYNTAX, "ZINTER 2 u1 u2 WEIGHTS 1");
    EXPECT_ERR(c, "ERR weight value is not a float", "ZINTER 2 u1 u2 WEIGHTS 1 x");
    EXPECT_ERR(c, "ERR weight value is not a float", "ZINTER 2 u1 u2 WEIGHTS 1 nan");
    EXPECT_ERR(c, SYNTAX, "ZINTER 2 u1 u2 AGGREGATE avg");
    EXPECT_ERR(c, SYNTAX, "ZINTER 2 u1 u2 AGGREGATE");
    EXPECT_ERR(c, SYNTAX, "ZDIFF 1 u1 WEIGHTS 1");          /* ZDIFF takes neither */
    EXPECT_ERR(c, SYNTAX, "ZDIFF 1 u1 AGGREGATE SUM");
    EXPECT_ERR(c, SYNTAX, "ZINTERCARD 2 u1 u2 WITHSCORES");
    EXPECT_ERR(c, "ERR LIMIT can't be negative", "ZINTERCARD 2 u1 u2 LIMIT -1");
    EXPECT_ERR(c, "ERR LIMIT can't be negative", "ZINTERCARD 2 u1 u2 LIMIT x");
    EXPECT_ERR(c, SYNTAX, "ZINTERCARD 2 u1 u2 LIMIT");
    /* the sources' types before the options */
    EXPECT_ERR(c, WRONGTYPE, "ZUNION 1 str");
    EXPECT_ERR(c, WRONGTYPE, "ZUNION 2 u1 str WEIGHTS x");
    EXPECT_ERR(c, WRONGTYPE, "ZINTERCARD 2 u1 str LIMIT -1");
    EXPECT_ERR(c, WRONGTYPE, "ZUNIONSTORE d 2 nokey str");
    EXPECT_ERR(c, SYNTAX, "ZUNION 2 u1 nokey WEIGHTS 1");
    EXPECT_INT(c, 0, "EXISTS d");
    EXPECT_ERR(c, ARGS("zunion"), "ZUNION 1");
    /* COMMAND INFO (but the key specs, which mmcache leaves empty): the
     * destination is the key Redis names, its sources move */
    static const char *const want[] = {
        "zunionstore -4 [write denyoom movablekeys] 1 1 1 [@write @sortedset @slow]",
        "zunion -3 [readonly movablekeys] 0 0 0 [@read @sortedset @slow]",
        "bzpopmin -3 [write noscript blocking fast] 1 -2 1 [@write @sortedset @fast @blocking]",
    };
    redisReply *r = CMD(c, "COMMAND INFO zunionstore zunion bzpopmin");
    assert_int_equal(r->elements, 3);
    for (size_t i = 0; i < 3; i++) {
        char got[512];
        redisReply head = *r->element[i];
        head.elements = 7;                            /* name .. categories */
        chk_joined(&head, 0, 0, got, sizeof(got));
        assert_string_equal(got, want[i]);
    }
    freeReplyObject(r);
    EXPECT_ERR(c, ARGS("zunionstore"), "ZUNIONSTORE d 1");
}

/* Two clients ZUNIONSTORE into one key from sources that change in
 * between: the destination always holds one whole result. */
struct racer {
    int id;
};

static void *store_loop(void *arg)
{
    struct racer *r = arg;
    redisContext *x = harness_connect(&srv);

    for (int i = 0; i < 500 && x; i++) {
        redisReply *rep = redisCommand(x, "ZUNIONSTORE dst 1 %s", r->id ? "src1" : "src0");
        if (rep)
            freeReplyObject(rep);
    }
    if (x)
        redisFree(x);
    return NULL;
}

static void test_store_atomic(void **state)
{
    pthread_t t[2];
    struct racer r[2] = {{0}, {1}};

    for (int i = 0; i < 100; i++) {
        EXPECT_INT(c, 1, "ZADD src0 %d a%d", i, i);
        EXPECT_INT(c, 1, "ZADD src1 %d b%d", i, i);
    }
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&t[i], NULL, store_loop, &r[i]), 0);
    for (int k = 0; k < 300; k++) {
        redisReply *rep = CMD(c, "ZRANGE dst 0 -1");
        if (rep->elements) {
            assert_int_equal(rep->elements, 100);
            char first = rep->element[0]->str[0];
            for (size_t i = 0; i < rep->elements; i++)
                assert_int_equal(rep->element[i]->str[0], first);
        }
        freeReplyObject(rep);
    }
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup(f, test_setup)
        T(test_union_inter_diff),
        T(test_nan_rules),
        T(test_store),
        T(test_errors),
        T(test_store_atomic),
#undef T
    };
    int failed = cmocka_run_group_tests_name("integration/zmulti", tests, group_setup,
                                             group_teardown);
    return harness_finish(failed);
}
