/*
 * test_blocking: BLPOP BRPOP BLMOVE BRPOPLPUSH BLMPOP against the real
 * server (mmcache with --threads 2): clients blocked on one worker served
 * by a push on the other, in the order they blocked; timeouts; a client
 * that disconnects, is killed (CLIENT KILL) or unblocked (CLIENT UNBLOCK)
 * while blocked; BLMOVE chains; WRONGTYPE before and while blocked;
 * pipelined commands behind a blocked one; INFO blocked_clients and
 * CLIENT LIST's flags=b; SIGTERM with clients blocked. Redis 7.0's
 * behaviour throughout: the file passes under MMCACHE_TEST_AGAINST=redis
 * (where there is one worker, so placing clients is skipped).
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


/* The worker a connection is on (mmcache's CLIENT INFO worker=), -1 for
 * a server that does not say (Redis). */
static int worker_of(redisContext *x)
{
    redisReply *r = CMD(x, "CLIENT INFO");
    const char *w = r->type == REDIS_REPLY_STRING ? strstr(r->str, " worker=") : NULL;
    int n = w ? atoi(w + 8) : -1;
    freeReplyObject(r);
    return n;
}

/* A connection on worker `want` (connecting again until the acceptor's
 * round robin puts one there); any connection on a one-worker server. */
static redisContext *on_worker(int want)
{
    for (int i = 0; i < 16; i++) {
        redisContext *x = harness_connect(&srv);
        assert_non_null(x);
        int w = worker_of(x);
        if (w < 0 || w == want)
            return x;
        redisFree(x);
    }
    fail_msg("no connection landed on worker %d", want);
    return NULL;
}

static long long client_id(redisContext *x)
{
    redisReply *r = CMD(x, "CLIENT ID");
    long long id = r->integer;
    freeReplyObject(r);
    return id;
}

/* Sends a command without waiting for its reply. */
static void send_only(redisContext *x, const char *fmt, ...)
{
    va_list ap;
    int done = 0;
    va_start(ap, fmt);
    assert_int_equal(redisvAppendCommand(x, fmt, ap), REDIS_OK);
    va_end(ap);
    while (!done)
        assert_int_equal(redisBufferWrite(x, &done), REDIS_OK);
}

static redisReply *get_reply(redisContext *x)
{
    redisReply *r = NULL;
    if (redisGetReply(x, (void **)&r) != REDIS_OK)
        fail_msg("no reply: %s", x->errstr);
    return r;
}

/* "key elem" for [key, elem]; "elem" for a bulk; "(nil)". */
static void expect_popped(redisContext *x, const char *want)
{
    char got[512];
    redisReply *r = get_reply(x);
    if (r->type == REDIS_REPLY_ARRAY)
        chk_joined(r, 0, 0, got, sizeof(got));
    else if (r->type == REDIS_REPLY_NIL)
        snprintf(got, sizeof(got), "(nil)");
    else
        snprintf(got, sizeof(got), "%s%.*s", r->type == REDIS_REPLY_ERROR ? "-" : "",
                 (int)r->len, r->str);
    freeReplyObject(r);
    if (strcmp(got, want) != 0)
        fail_msg("got \"%s\", want \"%s\"", got, want);
}

/* Clients blocked on worker 0, the pusher on worker 1: served in the
 * order they blocked, one element each, the pusher's count first. */
static void test_fifo_across_workers(void **state)
{
    redisContext *b[3], *p = on_worker(1);
    for (int i = 0; i < 3; i++) {
        b[i] = on_worker(0);
        send_only(b[i], i == 1 ? "BRPOP q 0" : "BLPOP q 0");
        chk_wait_blocked(c, i + 1);
    }
    EXPECT_INT(p, 2, "RPUSH q a b");   /* the length before anyone takes */
    expect_popped(b[0], "q a");
    expect_popped(b[1], "q b");        /* BRPOP: the tail of what is left */
    chk_wait_blocked(c, 1);
    EXPECT_INT(p, 0, "LLEN q");
    EXPECT_INT(p, 2, "LPUSH q c d");   /* d c */
    expect_popped(b[2], "q d");
    EXPECT_INT(p, 1, "LLEN q");
    chk_wait_blocked(c, 0);
    for (int i = 0; i < 3; i++)
        redisFree(b[i]);
    redisFree(p);
}

/* Popped at once when a key has elements, from the first such key;
 * blocked on several, served by whichever gets a push first. */
static void test_multi_key(void **state)
{
    redisContext *b = on_worker(0);
    EXPECT_INT(c, 1, "RPUSH k2 x");
    EXPECT_ARRAY(c, "k2 x", 0, 0, "BLPOP k1 k2 k3 0");
    send_only(b, "BLPOP k1 k2 k3 0");
    chk_wait_blocked(c, 1);
    EXPECT_INT(c, 1, "RPUSH k3 y");
    expect_popped(b, "k3 y");
    EXPECT_INT(c, 1, "RPUSH k1 z");   /* nobody waits on k1 any more */
    EXPECT_INT(c, 1, "LLEN k1");
    /* BLMPOP with a count */
    send_only(b, "BLMPOP 0 2 m1 m2 RIGHT COUNT 2");
    chk_wait_blocked(c, 1);
    EXPECT_INT(c, 3, "RPUSH m2 1 2 3");
    expect_popped(b, "m2 [3 2]");
    EXPECT_ARRAY(c, "m2 [1]", 0, 0, "BLMPOP 0 2 m1 m2 LEFT COUNT 5");
    redisFree(b);
}

static void test_timeout(void **state)
{
    redisContext *b = on_worker(0);
    long long t0 = harness_now_ms();
    EXPECT_NIL(b, "BLPOP nokey 0.2");
    long long dt = harness_now_ms() - t0;
    if (dt < 190 || dt > 3000)
        fail_msg("BLPOP 0.2 answered after %lld ms", dt);
    EXPECT_NIL(b, "BRPOPLPUSH nokey dst 0.05");
    EXPECT_NIL(b, "BLMOVE nokey dst LEFT RIGHT 0.05");
    EXPECT_NIL(b, "BLMPOP 0.05 1 nokey LEFT");
    /* a timeout's nil is the null array, for the moves too */
    int fd = harness_raw_connect(srv.port, 3000);
    static const char cmd[] = "*4\r\n$10\r\nBRPOPLPUSH\r\n$2\r\nnk\r\n$1\r\nx\r\n$4\r\n0.05\r\n";
    char buf[16] = {0};
    int eof;
    assert_int_equal(harness_write_all(fd, cmd, sizeof(cmd) - 1), 0);
    assert_int_equal(harness_read_until(fd, buf, 5, 3000, &eof), 5);
    assert_string_equal(buf, "*-1\r\n");
    close(fd);
    EXPECT_ERR(b, "ERR timeout is negative", "BLPOP k -1");
    EXPECT_ERR(b, "ERR timeout is negative", "BLPOP k 1e30");
    EXPECT_ERR(b, "ERR timeout is negative", "BLPOP k inf");
    EXPECT_ERR(b, "ERR timeout is not a float or out of range", "BLPOP k abc");
    EXPECT_ERR(b, "ERR timeout is not a float or out of range", "BLPOP k nan");
    EXPECT_ERR(b, "ERR timeout is not a float or out of range", "BLMOVE a b LEFT LEFT x");
    EXPECT_ERR(b, "ERR syntax error", "BLMOVE a b LEFT UP 1");
    EXPECT_ERR(b, "ERR numkeys should be greater than 0", "BLMPOP 1 0 k LEFT");
    EXPECT_ERR(b, "ERR syntax error", "BLMPOP 1 2 k LEFT");
    EXPECT_ERR(b, "ERR count should be greater than 0", "BLMPOP 1 1 k LEFT COUNT 0");
    /* numkeys is checked before the timeout, as Redis does */
    EXPECT_ERR(b, "ERR numkeys should be greater than 0", "BLMPOP x 0 k LEFT");
    EXPECT_ERR(b, "ERR wrong number of arguments for 'blpop' command", "BLPOP k");
    assert_int_equal(harness_info_ll(c, "blocked_clients"), 0);
    redisFree(b);
}

/* A client gone while blocked leaves nothing behind: no waiter to take
 * the next element, which stays in the list. */
static void test_disconnect_while_blocked(void **state)
{
    redisContext *b1 = on_worker(0), *b2 = on_worker(0);
    send_only(b1, "BLPOP d 0");
    chk_wait_blocked(c, 1);
    send_only(b2, "BLPOP d 0");
    chk_wait_blocked(c, 2);
    redisFree(b1);
    chk_wait_blocked(c, 1);
    EXPECT_INT(c, 2, "RPUSH d x y");
    expect_popped(b2, "d x");
    EXPECT_INT(c, 1, "LLEN d");
    redisFree(b2);
    chk_wait_blocked(c, 0);
}

/* CLIENT KILL of a blocked client on the other worker: closed, its wait
 * gone; CLIENT UNBLOCK: a nil, or -UNBLOCKED; then it goes on. */
static void test_kill_and_unblock(void **state)
{
    redisContext *ctl = on_worker(1), *b = on_worker(0);
    long long id = client_id(b);
    send_only(b, "BLPOP kq 0");
    chk_wait_blocked(c, 1);
    redisReply *r = CMD(ctl, "CLIENT LIST ID %lld", id);
    assert_non_null(strstr(r->str, "flags=b"));
    assert_non_null(strstr(r->str, "cmd=blpop"));
    freeReplyObject(r);
    EXPECT_INT(ctl, 1, "CLIENT KILL ID %lld", id);
    redisReply *gone = NULL;
    assert_int_not_equal(redisGetReply(b, (void **)&gone), REDIS_OK);   /* closed */
    redisFree(b);
    chk_wait_blocked(c, 0);
    EXPECT_INT(ctl, 1, "RPUSH kq x");
    EXPECT_INT(ctl, 1, "LLEN kq");
    b = on_worker(0);
    id = client_id(b);
    send_only(b, "BLMOVE nokey d LEFT LEFT 0");
    send_only(b, "PING");   /* pipelined behind it: runs after */
    chk_wait_blocked(c, 1);
    EXPECT_INT(ctl, 1, "CLIENT UNBLOCK %lld", id);
    expect_popped(b, "(nil)");
    expect_popped(b, "PONG");
    EXPECT_INT(ctl, 0, "CLIENT UNBLOCK %lld", id);   /* not blocked now */
    send_only(b, "BRPOP nokey 0");
    chk_wait_blocked(c, 1);
    EXPECT_INT(ctl, 1, "CLIENT UNBLOCK %lld ERROR", id);
    expect_popped(b, "-UNBLOCKED client unblocked via CLIENT UNBLOCK");
    EXPECT_ERR(ctl, "ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR",
               "CLIENT UNBLOCK %lld FOO", id);
    chk_wait_blocked(c, 0);
    redisFree(b);
    redisFree(ctl);
}

/* BLMOVE a->b, BLMOVE b->c, BLPOP c: one push runs the chain. */
static void test_blmove_chain(void **state)
{
    redisContext *w1 = on_worker(0), *w2 = on_worker(1), *w3 = on_worker(0);
    send_only(w1, "BLMOVE ca cb RIGHT LEFT 0");
    chk_wait_blocked(c, 1);
    send_only(w2, "BRPOPLPUSH cb cc 0");
    chk_wait_blocked(c, 2);
    send_only(w3, "BLPOP cc 0");
    chk_wait_blocked(c, 3);
    EXPECT_INT(c, 1, "LPUSH ca x");
    expect_popped(w1, "x");
    expect_popped(w2, "x");
    expect_popped(w3, "cc x");
    EXPECT_INT(c, 0, "EXISTS ca cb cc");
    /* a served BLMOVE whose destination became a string: WRONGTYPE for it,
     * the element stays for the next */
    send_only(w1, "BLMOVE wa ws LEFT LEFT 0");
    chk_wait_blocked(c, 1);
    send_only(w2, "BLPOP wa 0");
    chk_wait_blocked(c, 2);
    EXPECT_OK(c, "SET ws str");
    EXPECT_INT(c, 1, "RPUSH wa e");
    expect_popped(w1, "-" WRONGTYPE);
    expect_popped(w2, "wa e");
    EXPECT_ERR(c, WRONGTYPE, "BLPOP ws 0");        /* before blocking */
    EXPECT_INT(c, 1, "RPUSH wa f");
    EXPECT_ERR(c, WRONGTYPE, "BLMOVE wa ws LEFT LEFT 0");
    EXPECT_INT(c, 1, "LLEN wa");                   /* nothing moved */
    redisFree(w1);
    redisFree(w2);
    redisFree(w3);
}

/* A list renamed onto a key serves the clients blocked on it. */
static void test_rename_serves(void **state)
{
    redisContext *b = on_worker(0);
    send_only(b, "BLPOP rk 0");
    chk_wait_blocked(c, 1);
    EXPECT_INT(c, 2, "RPUSH src 1 2");
    EXPECT_OK(c, "RENAME src rk");
    expect_popped(b, "rk 1");
    EXPECT_INT(c, 1, "LLEN rk");
    redisFree(b);
}

/* SIGTERM with clients blocked: the server exits (status 0) promptly and
 * the blocked clients see their connection closed. */
static void test_shutdown_with_blocked(void **state)
{
    struct harness_server s2;
    static const char *const mm[] = {"--threads", "2", NULL};
    assert_int_equal(harness_start(&s2, NULL, mm, NULL), 0);
    redisContext *b1 = harness_connect(&s2), *b2 = harness_connect(&s2);
    send_only(b1, "BLPOP x 0");
    send_only(b2, "BLMOVE x y LEFT LEFT 0");
    redisContext *ctl = harness_connect(&s2);
    for (int i = 0; i < 500 && harness_info_ll(ctl, "blocked_clients") != 2; i++)
        harness_sleep_ms(10);
    assert_int_equal(harness_info_ll(ctl, "blocked_clients"), 2);
    redisFree(ctl);
    long long t0 = harness_now_ms();
    assert_int_equal(harness_stop(&s2, 10000), 0);
    long long dt = harness_now_ms() - t0;
    if (dt > 5000)
        fail_msg("shutdown took %lld ms with clients blocked", dt);
    redisReply *r = NULL;
    assert_int_not_equal(redisGetReply(b1, (void **)&r), REDIS_OK);
    assert_int_not_equal(redisGetReply(b2, (void **)&r), REDIS_OK);
    redisFree(b1);
    redisFree(b2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_fifo_across_workers, test_setup),
        cmocka_unit_test_setup(test_multi_key, test_setup),
        cmocka_unit_test_setup(test_timeout, test_setup),
        cmocka_unit_test_setup(test_disconnect_while_blocked, test_setup),
        cmocka_unit_test_setup(test_kill_and_unblock, test_setup),
        cmocka_unit_test_setup(test_blmove_chain, test_setup),
        cmocka_unit_test_setup(test_rename_serves, test_setup),
        cmocka_unit_test_setup(test_shutdown_with_blocked, test_setup),
    };
    int failed = cmocka_run_group_tests(tests, group_setup, group_teardown);
    return harness_finish(failed);
}
