/*
 * test_keyspace: commands on keys rather than values (DEL/UNLINK/EXISTS/
 * TOUCH, TYPE/RENAME/COPY, KEYS, SCAN, RANDOMKEY/DBSIZE/FLUSH*), pipelining
 * and many concurrent clients, through hiredis against one server started
 * for the group. Expected replies and error strings are Redis 7's: the
 * same file passes under MMCACHE_TEST_AGAINST=redis.
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

#include <cmocka.h>

#include "check.h"
#include "cmd_fixture.h"
#include "harness.h"

/* ---- keys ---- */

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

/* ---- pipelining, concurrency ---- */

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
/* connected: all 200 have had a reply; counted: the main thread has read
 * connected_clients. The second keeps any worker from doing its INCRs
 * and leaving before the count (seen in CI: a worker scheduled first
 * finished and closed while the INFO was on its way). */
static pthread_barrier_t connected, counted;

static void *incr_worker(void *arg)
{
    long errors = 0;
    redisContext *cc = harness_connect(&srv);
    redisReply *r;
    if (!cc || !(r = redisCommand(cc, "PING"))) {
        pthread_barrier_wait(&connected);
        pthread_barrier_wait(&counted);
        if (cc)
            redisFree(cc);
        return (void *)(long)INCRS_EACH;
    }
    freeReplyObject(r);
    pthread_barrier_wait(&connected);   /* all 200 connected at once */
    pthread_barrier_wait(&counted);     /* then all 200 INCR together */
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
    pthread_barrier_init(&connected, NULL, NCLIENTS + 1);
    pthread_barrier_init(&counted, NULL, NCLIENTS + 1);
    for (int i = 0; i < NCLIENTS; i++)
        assert_int_equal(pthread_create(&t[i], NULL, incr_worker, NULL), 0);
    pthread_barrier_wait(&connected);
    long long clients = harness_info_ll(c, "connected_clients");
    pthread_barrier_wait(&counted);
    for (int i = 0; i < NCLIENTS; i++) {
        void *ret;
        pthread_join(t[i], &ret);
        errors += (long)ret;
    }
    pthread_barrier_destroy(&connected);
    pthread_barrier_destroy(&counted);
    assert_int_equal(errors, 0);
    assert_true(clients >= NCLIENTS + 1);
    EXPECT_BULK(c, "10000", "GET shared");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup(f, test_setup)
        T(test_del_unlink_exists_touch),
        T(test_type_rename_copy),
        T(test_keys_pattern),
        T(test_scan_10000),
        T(test_randomkey_dbsize_flush),
        T(test_pipeline_1000),
        T(test_many_clients_incr),
#undef T
    };
    int failed = cmocka_run_group_tests_name("integration/keyspace", tests,
                                             group_setup, group_teardown);
    return harness_finish(failed);
}
