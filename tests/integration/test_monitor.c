/*
 * MONITOR: Redis 7.0's line format and quoting, what is not shown (admin
 * commands, AUTH's secrets), its ACL rule, that a monitor that never
 * reads is closed at its output limit instead of growing, and (mmcache
 * only) that it sees the commands of both workers, each worker's in the
 * order it ran them. Runs against redis-server too
 * (MMCACHE_TEST_AGAINST=redis), but for the per-worker test.
 */
#define _GNU_SOURCE
#include <regex.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "check.h"
#define CMD_FIXTURE_MM_ARGS "--threads", "2",
#include "cmd_fixture.h"
#include "blocking_util.h"
#include "harness.h"

/* A connection in MONITOR mode (its +OK read). */
static redisContext *monitor_on(redisContext *m)
{
    assert_non_null(m);
    EXPECT_OK(m, "MONITOR");
    return m;
}

/* The next line the monitor is sent: its text after "<time> [0 <addr>] "
 * (the caller frees it); the head is checked against Redis's form. */
static char *next_line(redisContext *m)
{
    redisReply *r = NULL;
    regex_t re;
    regmatch_t mt[2];

    assert_int_equal(redisGetReply(m, (void **)&r), REDIS_OK);
    assert_int_equal(r->type, REDIS_REPLY_STATUS);
    assert_int_equal(regcomp(&re, "^[0-9]+\\.[0-9]{6} \\[0 127\\.0\\.0\\.1:[0-9]+\\] (.*)$",
                             REG_EXTENDED), 0);
    if (regexec(&re, r->str, 2, mt, 0) != 0)
        fail_msg("not a MONITOR line: %s", r->str);
    regfree(&re);
    char *rest = strdup(r->str + mt[1].rm_so);
    freeReplyObject(r);
    assert_non_null(rest);
    return rest;
}

static void expect_line(redisContext *m, const char *want)
{
    char *got = next_line(m);
    if (strcmp(got, want) != 0)
        fail_msg("MONITOR line: got %s, want %s", got, want);
    free(got);
}

static void test_format_and_quoting(void **state)
{
    redisContext *m = monitor_on(harness_connect(&srv));
    redisReply *r = redisCommand(c, "SET %b %b", "k", (size_t)1, "a \"q\"\\\n\r\t\x01\xff", (size_t)11);
    assert_non_null(r);
    freeReplyObject(r);
    EXPECT_NIL(c, "GET nokey");
    expect_line(m, "\"SET\" \"k\" \"a \\\"q\\\"\\\\\\n\\r\\t\\x01\\xff\"");
    expect_line(m, "\"GET\" \"nokey\"");
    /* admin commands are not shown; AUTH's secrets are redacted; a
     * command refused before it ran is not shown */
    r = CMD(c, "CONFIG GET port");
    freeReplyObject(r);
    r = CMD(c, "AUTH %s %s", "who", "secret");
    assert_int_equal(r->type, REDIS_REPLY_ERROR);
    freeReplyObject(r);
    EXPECT_ERR(c, "ERR wrong number of arguments for 'get' command", "GET");
    EXPECT_STATUS(c, "PONG", "PING");
    expect_line(m, "\"AUTH\" \"(redacted)\" \"(redacted)\"");
    expect_line(m, "\"PING\"");
    redisFree(m);
}

/* MONITOR is an admin command: a user without @admin may not run it. */
static void test_acl(void **state)
{
    EXPECT_OK(c, "ACL SETUSER watcher on nopass +@all -@admin");
    redisContext *u = harness_connect(&srv);
    assert_non_null(u);
    EXPECT_OK(u, "AUTH watcher any");
    redisReply *r = CMD(u, "MONITOR");
    assert_int_equal(r->type, REDIS_REPLY_ERROR);
    assert_true(strncmp(r->str, "NOPERM", 6) == 0);
    freeReplyObject(r);
    EXPECT_STATUS(u, "PONG", "PING");   /* still a normal client */
    redisFree(u);
    EXPECT_INT(c, 1, "ACL DELUSER watcher");
}

/* A monitor that never reads: closed at client-output-buffer-limit,
 * not grown. */
static void test_slow_monitor_closed(void **state)
{
    EXPECT_OK(c, "CONFIG SET client-output-buffer-limit %s", "normal 1mb 0 0");
    int fd = harness_raw_connect(srv.port, 3000);
    assert_true(fd >= 0);
    int small = 4096;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
    assert_int_equal(harness_write_all(fd, "MONITOR\r\n", 9), 0);
    char ok[5];
    int eof = 0;
    assert_int_equal(harness_read_until(fd, ok, 5, 3000, &eof), 5);
    /* 32 MB of lines: far past the limit and what the kernel buffers */
    char *big = malloc(64 * 1024);
    assert_non_null(big);
    memset(big, 'v', 64 * 1024);
    for (int i = 0; i < 512; i++)
        redisAppendCommand(c, "SET big%d %b", i, big, (size_t)64 * 1024);
    for (int i = 0; i < 512; i++) {
        redisReply *r = NULL;
        assert_int_equal(redisGetReply(c, (void **)&r), REDIS_OK);
        freeReplyObject(r);
    }
    free(big);
    /* its connection is gone: no client runs MONITOR any more */
    bool gone = false;
    for (int i = 0; i < HARNESS_WAIT_MS / 50 && !gone; i++) {
        redisReply *r = CMD(c, "CLIENT LIST");
        gone = strstr(r->str, "cmd=monitor") == NULL;
        freeReplyObject(r);
        if (!gone)
            usleep(50 * 1000);
    }
    assert_true(gone);
    close(fd);
    EXPECT_OK(c, "CONFIG SET client-output-buffer-limit %s", "normal 0 0 0");
}

/* Commands of both workers, each worker's in its order. */
static void test_both_workers(void **state)
{
    HARNESS_MMCACHE_ONLY("mmcache's workers");
    redisContext *m = monitor_on(on_worker(0));
    redisContext *a = on_worker(0), *b = on_worker(1);
    for (int i = 0; i < 50; i++) {
        redisAppendCommand(a, "INCR a");
        redisAppendCommand(b, "INCR b");
    }
    for (int i = 0; i < 50; i++) {
        redisReply *r = NULL;
        assert_int_equal(redisGetReply(a, (void **)&r), REDIS_OK);
        freeReplyObject(r);
        assert_int_equal(redisGetReply(b, (void **)&r), REDIS_OK);
        freeReplyObject(r);
    }
    /* on_worker's CLIENT INFO runs are admin-free: skip them */
    int na = 0, nb = 0;
    while (na < 50 || nb < 50) {
        char *l = next_line(m);
        if (strcmp(l, "\"INCR\" \"a\"") == 0)
            na++;
        else if (strcmp(l, "\"INCR\" \"b\"") == 0)
            nb++;
        free(l);
    }
    assert_int_equal(na, 50);
    assert_int_equal(nb, 50);
    redisFree(a);
    redisFree(b);
    redisFree(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_format_and_quoting, test_setup),
        cmocka_unit_test_setup(test_acl, test_setup),
        cmocka_unit_test_setup(test_slow_monitor_closed, test_setup),
        cmocka_unit_test_setup(test_both_workers, test_setup),
    };
    int failed = cmocka_run_group_tests_name("integration/monitor", tests, group_setup,
                                             group_teardown);
    return harness_finish(failed);
}
