/*
 * test_multi: MULTI, EXEC, DISCARD, WATCH, UNWATCH with Redis 7.0's
 * replies (QUEUED, EXECABORT for a command refused while queueing, a
 * run-time error in its place, the nested and misplaced errors, a blocking
 * pop that does not block), WATCH broken by a write from a client on the
 * other worker (SET, DEL, RENAME onto it, FLUSHALL), by expiry, not by a
 * FLUSHALL of a key that did not exist; COMMAND GETKEYS and
 * GETKEYSANDFLAGS; and atomicity across workers and shards: an MGET never
 * sees half of an MSET or of an EXEC, a transaction racing FLUSHALL is
 * seen whole or not at all, WATCH retry loops on two workers lose no
 * increment. mmcache runs with --threads 2; the whole file passes under
 * MMCACHE_TEST_AGAINST=redis.
 *
 * Each test starts from an empty keyspace (cmd_fixture.h).
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
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

#define EXECABORT "EXECABORT Transaction discarded because of previous errors."

static void test_queue_and_exec(void **state)
{
    EXPECT_OK(c, "SET s abc");
    EXPECT_OK(c, "MULTI");
    EXPECT_STATUS(c, "QUEUED", "INCR s");
    EXPECT_STATUS(c, "QUEUED", "SET t 1");
    EXPECT_STATUS(c, "QUEUED", "GET t");
    EXPECT_STATUS(c, "QUEUED", "UNWATCH");
    /* the run-time error in its place, the rest ran */
    EXPECT_ARRAY(c, "ERR value is not an integer or out of range OK 1 OK", 0, 0, "EXEC");
    EXPECT_BULK(c, "1", "GET t");
    EXPECT_OK(c, "MULTI");
    EXPECT_ARRAY(c, "", 0, 0, "EXEC");   /* *0 */
    EXPECT_ERR(c, "ERR EXEC without MULTI", "EXEC");
    EXPECT_ERR(c, "ERR DISCARD without MULTI", "DISCARD");
    /* nested MULTI and WATCH inside MULTI: errors, the transaction goes on */
    EXPECT_OK(c, "MULTI");
    EXPECT_ERR(c, "ERR MULTI calls can not be nested", "MULTI");
    EXPECT_ERR(c, "ERR WATCH inside MULTI is not allowed", "WATCH x");
    EXPECT_STATUS(c, "QUEUED", "INCR n");
    EXPECT_ARRAY(c, "1", 0, 0, "EXEC");
    /* DISCARD drops the queue */
    EXPECT_OK(c, "MULTI");
    EXPECT_STATUS(c, "QUEUED", "INCR n");
    EXPECT_OK(c, "DISCARD");
    EXPECT_BULK(c, "1", "GET n");
    EXPECT_ERR(c, "ERR wrong number of arguments for 'watch' command", "WATCH");
    EXPECT_OK(c, "WATCH w v");
    EXPECT_OK(c, "UNWATCH");
}

/* A command refused while queueing (unknown, wrong arity, NOPERM) makes
 * EXEC answer EXECABORT and run nothing. */
static void test_execabort(void **state)
{
    EXPECT_OK(c, "MULTI");
    EXPECT_STATUS(c, "QUEUED", "SET a 1");
    EXPECT_ERR(c, "ERR unknown command 'NOSUCH', with args beginning with: '1' ", "NOSUCH 1");
    EXPECT_ERR(c, EXECABORT, "EXEC");
    EXPECT_NIL(c, "GET a");
    EXPECT_ERR(c, "ERR EXEC without MULTI", "EXEC");
    EXPECT_OK(c, "MULTI");
    EXPECT_STATUS(c, "QUEUED", "SET a 1");
    EXPECT_ERR(c, "ERR wrong number of arguments for 'get' command", "GET");
    EXPECT_ERR(c, EXECABORT, "EXEC");
    EXPECT_NIL(c, "GET a");
    /* NOPERM */
    EXPECT_OK(c, "ACL SETUSER tx on nopass +@all -get ~*");
    redisContext *u = harness_connect(&srv);
    assert_non_null(u);
    EXPECT_OK(u, "AUTH tx x");
    EXPECT_OK(u, "MULTI");
    EXPECT_STATUS(u, "QUEUED", "SET a 1");
    redisReply *r = CMD(u, "GET a");
    assert_int_equal(r->type, REDIS_REPLY_ERROR);
    assert_non_null(strstr(r->str, "NOPERM"));
    freeReplyObject(r);
    EXPECT_ERR(u, EXECABORT, "EXEC");
    EXPECT_NIL(c, "GET a");
    /* rules that change between MULTI and EXEC: checked again at EXEC,
     * the refusal in its place */
    EXPECT_OK(c, "ACL SETUSER tx +get");
    EXPECT_OK(u, "MULTI");
    EXPECT_STATUS(u, "QUEUED", "SET a 1");
    EXPECT_STATUS(u, "QUEUED", "GET a");
    EXPECT_OK(c, "ACL SETUSER tx -get");
    r = CMD(u, "EXEC");
    assert_int_equal(r->type, REDIS_REPLY_ARRAY);
    assert_int_equal(r->elements, 2);
    assert_string_equal(r->element[0]->str, "OK");
    assert_int_equal(r->element[1]->type, REDIS_REPLY_ERROR);
    assert_string_equal(r->element[1]->str,
                        "NOPERM ACLs rules changed between the moment the transaction was "
                        "accumulated and the EXEC call. This command is no longer allowed for "
                        "the following reason: no permission to execute the command or "
                        "subcommand");
    freeReplyObject(r);
    redisFree(u);
    EXPECT_INT(c, 1, "ACL DELUSER tx");
}

/* Inside EXEC a blocking pop answers as its timeout would, at once. */
static void test_blocking_in_multi(void **state)
{
    long long t0 = harness_now_ms();
    EXPECT_OK(c, "MULTI");
    EXPECT_STATUS(c, "QUEUED", "BLPOP nolist 0");
    EXPECT_STATUS(c, "QUEUED", "BLMOVE nolist dst LEFT RIGHT 0");
    EXPECT_STATUS(c, "QUEUED", "BZPOPMIN noz 0");
    EXPECT_STATUS(c, "QUEUED", "RPUSH l x");
    EXPECT_STATUS(c, "QUEUED", "BLPOP l 0");
    EXPECT_ARRAY(c, "(nil) (nil) (nil) 1 [l x]", 0, 0, "EXEC");
    assert_true(harness_now_ms() - t0 < HARNESS_WAIT_MS);
}

/* RESET leaves MULTI and forgets WATCH. */
static void test_reset(void **state)
{
    redisContext *x = harness_connect(&srv);
    assert_non_null(x);
    EXPECT_OK(x, "WATCH k");
    EXPECT_OK(x, "MULTI");
    EXPECT_STATUS(x, "QUEUED", "SET k 1");
    EXPECT_STATUS(x, "RESET", "RESET");
    EXPECT_ERR(x, "ERR EXEC without MULTI", "EXEC");
    EXPECT_OK(c, "SET k 2");
    EXPECT_OK(x, "MULTI");
    EXPECT_STATUS(x, "QUEUED", "GET k");
    EXPECT_ARRAY(x, "2", 0, 0, "EXEC");   /* the old WATCH is gone */
    redisFree(x);
}

/* WATCH k on worker 0; `change` from a client on worker 1; EXEC: nil when
 * broken (and the queued SET did not run), else it runs. */
static void watch_case(const char *setup, const char *change, bool broken)
{
    redisContext *a = on_worker(0), *b = on_worker(1);

    print_message("WATCH k after %s; %s from the other worker\n", setup ? setup : "nothing",
                  change);
    EXPECT_OK(c, "FLUSHALL");
    if (setup != NULL)
        freeReplyObject(CMD(a, setup));
    EXPECT_OK(a, "WATCH k");
    freeReplyObject(CMD(b, change));
    EXPECT_OK(a, "MULTI");
    EXPECT_STATUS(a, "QUEUED", "SET done 1");
    if (broken) {
        EXPECT_NIL(a, "EXEC");
        EXPECT_INT(a, 0, "EXISTS done");
    } else {
        EXPECT_ARRAY(a, "OK", 0, 0, "EXEC");
        EXPECT_INT(a, 1, "EXISTS done");
    }
    redisFree(a);
    redisFree(b);
}

static void test_watch_other_worker(void **state)
{
    watch_case("SET k 1", "SET k 2", true);
    watch_case("SET k 1", "DEL k", true);
    watch_case("SET k 1", "INCR k", true);
    watch_case(NULL, "SET k 1", true);                 /* created */
    watch_case("SET j 1", "RENAME j k", true);         /* renamed onto it */
    watch_case("SET k 1", "FLUSHALL", true);
    watch_case("SET k 1", "EXPIRE k 100", true);
    watch_case("RPUSH k a", "LPUSH k b", true);
    watch_case("SET k 1", "SET other 1", false);       /* another key */
    watch_case("SET k 1", "GET k", false);             /* a read */
    watch_case(NULL, "FLUSHALL", false);               /* Redis: only keys that existed */
}

/* Its own write breaks a client's WATCH too; UNWATCH and EXEC forget it. */
static void test_watch_own_write(void **state)
{
    EXPECT_OK(c, "WATCH k");
    EXPECT_OK(c, "SET k 1");
    EXPECT_OK(c, "MULTI");
    EXPECT_STATUS(c, "QUEUED", "GET k");
    EXPECT_NIL(c, "EXEC");
    EXPECT_OK(c, "MULTI");                    /* EXEC unwatched: this one runs */
    EXPECT_STATUS(c, "QUEUED", "GET k");
    EXPECT_ARRAY(c, "1", 0, 0, "EXEC");
    EXPECT_OK(c, "WATCH k");
    EXPECT_OK(c, "SET k 2");
    EXPECT_OK(c, "UNWATCH");
    EXPECT_OK(c, "MULTI");
    EXPECT_STATUS(c, "QUEUED", "GET k");
    EXPECT_ARRAY(c, "2", 0, 0, "EXEC");
    EXPECT_OK(c, "WATCH k");                  /* DISCARD unwatches */
    EXPECT_OK(c, "SET k 3");
    EXPECT_OK(c, "MULTI");
    EXPECT_OK(c, "DISCARD");
    EXPECT_OK(c, "MULTI");
    EXPECT_STATUS(c, "QUEUED", "GET k");
    EXPECT_ARRAY(c, "3", 0, 0, "EXEC");
}

/* A watched key that expires before EXEC breaks it (whether it was
 * reaped or not); one already expired when watched does not. */
static void test_watch_expiry(void **state)
{
    EXPECT_OK(c, "SET ex1 1 PX 300");
    EXPECT_OK(c, "WATCH ex1");
    usleep(600 * 1000);
    EXPECT_OK(c, "MULTI");
    EXPECT_STATUS(c, "QUEUED", "PING");
    EXPECT_NIL(c, "EXEC");
    EXPECT_OK(c, "SET ex2 1 PX 50");
    usleep(200 * 1000);
    EXPECT_OK(c, "WATCH ex2");
    EXPECT_OK(c, "MULTI");
    EXPECT_STATUS(c, "QUEUED", "PING");
    EXPECT_ARRAY(c, "PONG", 0, 0, "EXEC");
}

static void test_getkeys(void **state)
{
    EXPECT_ARRAY(c, "a b", 0, 0, "COMMAND GETKEYS MSET a 1 b 2");
    EXPECT_ARRAY(c, "k", 0, 0, "COMMAND GETKEYS GET k");
    EXPECT_ARRAY(c, "a b", 0, 0, "COMMAND GETKEYS LMPOP 2 a b LEFT");
    EXPECT_ARRAY(c, "a b", 0, 0, "COMMAND GETKEYS SINTERCARD 2 a b");
    EXPECT_ARRAY(c, "d a b", 0, 0, "COMMAND GETKEYS ZUNIONSTORE d 2 a b");
    EXPECT_ARRAY(c, "a b", 0, 0, "COMMAND GETKEYS WATCH a b");
    EXPECT_ERR(c, "ERR wrong number of arguments for 'command|getkeys' command",
               "COMMAND GETKEYS");
    EXPECT_ERR(c, "ERR wrong number of arguments for 'command|getkeys' command",
               "COMMAND GETKEYS GET");
    EXPECT_ERR(c, "ERR The command has no key arguments", "COMMAND GETKEYS PING x");
    EXPECT_ERR(c, "ERR Invalid number of arguments specified for command",
               "COMMAND GETKEYS GET a b");
    EXPECT_ERR(c, "ERR Invalid command specified", "COMMAND GETKEYS NOSUCH x");
    EXPECT_ARRAY(c, "[k [OW update]]", 0, 0, "COMMAND GETKEYSANDFLAGS SET k v");
    EXPECT_ARRAY(c, "[k [RW access update]]", 0, 0, "COMMAND GETKEYSANDFLAGS SET k v GET");
    EXPECT_ARRAY(c, "[a [RO access]] [b [RO access]]", 0, 0, "COMMAND GETKEYSANDFLAGS MGET a b");
    EXPECT_ARRAY(c, "[a [RM delete]] [b [RM delete]]", 0, 0, "COMMAND GETKEYSANDFLAGS DEL a b");
    EXPECT_ARRAY(c, "[a [RW access delete]] [b [OW update]]", 0, 0,
                 "COMMAND GETKEYSANDFLAGS RENAME a b");
    EXPECT_ARRAY(c, "[a [RW access delete]] [b [RW insert]]", 0, 0,
                 "COMMAND GETKEYSANDFLAGS LMOVE a b LEFT RIGHT");
    EXPECT_ARRAY(c, "[a [RW insert]]", 0, 0, "COMMAND GETKEYSANDFLAGS LPUSH a x");
    EXPECT_ARRAY(c, "[z [RW update]]", 0, 0, "COMMAND GETKEYSANDFLAGS ZADD z 1 m");
    EXPECT_ARRAY(c, "[a [RO]]", 0, 0, "COMMAND GETKEYSANDFLAGS EXISTS a");
}

/* ---- atomicity across workers ------------------------------------------ */

#define NKEYS 16
#define ROUNDS 2000

struct writer {
    int mode;                     /* 0: MSET, 1: MULTI INCR x16 EXEC, 2: FLUSHALL */
    _Atomic int stop;             /* set by the reader when done */
};

static void *write_loop(void *arg)
{
    struct writer *w = arg;
    redisContext *x = harness_connect(&srv);

    for (long v = 1; x && !atomic_load(&w->stop); v++) {
        redisReply *r = NULL;
        if (w->mode == 0) {
            const char *argv[1 + 2 * NKEYS];
            char keys[NKEYS][8], val[24];
            argv[0] = "MSET";
            snprintf(val, sizeof(val), "%ld", v);
            for (int i = 0; i < NKEYS; i++) {
                snprintf(keys[i], sizeof(keys[i]), "k%d", i);
                argv[1 + 2 * i] = keys[i];
                argv[2 + 2 * i] = val;
            }
            r = redisCommandArgv(x, 1 + 2 * NKEYS, argv, NULL);
        } else if (w->mode == 1) {
            redisAppendCommand(x, "MULTI");
            for (int i = 0; i < NKEYS; i++)
                redisAppendCommand(x, "INCR k%d", i);
            redisAppendCommand(x, "EXEC");
            for (int i = 0; i < NKEYS + 2; i++) {
                freeReplyObject(r);
                r = NULL;
                if (redisGetReply(x, (void **)&r) != REDIS_OK)
                    break;
            }
        } else {
            r = redisCommand(x, "FLUSHALL");
            usleep(1000);
        }
        if (r == NULL)
            break;
        freeReplyObject(r);
    }
    if (x)
        redisFree(x);
    return NULL;
}

/* The NKEYS values one read saw are all equal (or all missing). */
static int torn(const redisReply *r)
{
    assert_int_equal(r->type, REDIS_REPLY_ARRAY);
    assert_int_equal(r->elements, NKEYS);
    for (size_t i = 1; i < r->elements; i++) {
        const redisReply *a = r->element[0], *b = r->element[i];
        if (a->type != b->type || (a->type == REDIS_REPLY_STRING &&
                                   (a->len != b->len || memcmp(a->str, b->str, a->len))))
            return 1;
    }
    return 0;
}

static const char *mget_cmd(void)
{
    static char buf[256];
    size_t n = (size_t)snprintf(buf, sizeof(buf), "MGET");
    for (int i = 0; i < NKEYS; i++)
        n += (size_t)snprintf(buf + n, sizeof(buf) - n, " k%d", i);
    return buf;
}

/* Readers on the other worker read all NKEYS keys by MGET and by MULTI of
 * GETs while writers on both workers write them all in one command (MSET)
 * or one EXEC (INCRs), optionally with FLUSHALLs between: no read sees a
 * mix. */
static void race(int mode, bool flush)
{
    struct writer w[3] = { { mode, 0 }, { mode, 0 }, { 2, 0 } };
    pthread_t t[3];
    int nw = flush ? 3 : 2, bad = 0;
    redisContext *r = on_worker(1);

    for (int i = 0; i < nw; i++)
        assert_int_equal(pthread_create(&t[i], NULL, write_loop, &w[i]), 0);
    for (int k = 0; k < ROUNDS && bad == 0; k++) {
        redisReply *rep;
        if (k % 2) {
            rep = CMD(r, mget_cmd());
        } else {
            redisAppendCommand(r, "MULTI");
            for (int i = 0; i < NKEYS; i++)
                redisAppendCommand(r, "GET k%d", i);
            redisAppendCommand(r, "EXEC");
            for (int i = 0; i < NKEYS + 1; i++) {
                assert_int_equal(redisGetReply(r, (void **)&rep), REDIS_OK);
                freeReplyObject(rep);
            }
            assert_int_equal(redisGetReply(r, (void **)&rep), REDIS_OK);
        }
        bad += torn(rep);
        freeReplyObject(rep);
    }
    for (int i = 0; i < nw; i++)
        atomic_store(&w[i].stop, 1);
    for (int i = 0; i < nw; i++)
        pthread_join(t[i], NULL);
    redisFree(r);
    if (bad)
        fail_msg("a read saw part of a %s (mode %d%s)", mode ? "transaction" : "MSET", mode,
                 flush ? ", with FLUSHALL" : "");
}

static void test_mget_never_half_mset(void **state) { race(0, false); }
static void test_exec_seen_whole(void **state) { race(1, false); }
static void test_exec_racing_flushall(void **state) { race(1, true); }

struct incr {
    int n;
    int given_up;
};

/* The WATCH retry loop: n increments of counter by GET and SET. */
static void *watch_incr(void *arg)
{
    struct incr *in = arg;
    redisContext *x = harness_connect(&srv);

    for (int i = 0; x && i < in->n; i++) {
        int tries = 0;
        for (;;) {
            redisReply *r = redisCommand(x, "WATCH counter");
            freeReplyObject(r);
            r = redisCommand(x, "GET counter");
            long v = r && r->type == REDIS_REPLY_STRING ? atol(r->str) : 0;
            freeReplyObject(r);
            freeReplyObject(redisCommand(x, "MULTI"));
            freeReplyObject(redisCommand(x, "SET counter %ld", v + 1));
            r = redisCommand(x, "EXEC");
            bool done = r && r->type == REDIS_REPLY_ARRAY;
            freeReplyObject(r);
            if (done)
                break;
            if (++tries > 10000) {
                in->given_up = 1;
                break;
            }
        }
    }
    if (x)
        redisFree(x);
    return NULL;
}

static void test_watch_retry_loops(void **state)
{
    struct incr in[2] = { { 500, 0 }, { 500, 0 } };
    pthread_t t[2];

    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&t[i], NULL, watch_incr, &in[i]), 0);
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    assert_int_equal(in[0].given_up + in[1].given_up, 0);
    EXPECT_BULK(c, "1000", "GET counter");
}

/* A test that failed inside MULTI leaves the next one a clean client. */
static int multi_setup(void **state)
{
    freeReplyObject(redisCommand(c, "DISCARD"));
    freeReplyObject(redisCommand(c, "UNWATCH"));
    return test_setup(state);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup(f, multi_setup)
        T(test_queue_and_exec),
        T(test_execabort),
        T(test_blocking_in_multi),
        T(test_reset),
        T(test_watch_other_worker),
        T(test_watch_own_write),
        T(test_watch_expiry),
        T(test_getkeys),
        T(test_mget_never_half_mset),
        T(test_exec_seen_whole),
        T(test_exec_racing_flushall),
        T(test_watch_retry_loops),
#undef T
    };
    int failed = cmocka_run_group_tests_name("integration/multi", tests, group_setup,
                                             group_teardown);
    return harness_finish(failed);
}
