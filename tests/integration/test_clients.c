/*
 * CLIENT KILL (each filter, and a connection on the other worker), CLIENT
 * LIST's buffer figures for connections of the other worker, CLIENT
 * NO-EVICT, CLIENT PAUSE/UNPAUSE. Against redis-server too
 * (MMCACHE_TEST_AGAINST=redis), where on_worker() gives any connection,
 * except what is mmcache's own (MAXAGE is Redis 7.4's; UNPAUSE under
 * PAUSE ALL; worker placement).
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "check.h"
#define CMD_FIXTURE_MM_ARGS "--threads", "2",
#include "cmd_fixture.h"
#include "blocking_util.h"
#include "harness.h"

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait (bounded) until x's PING finds its connection closed. */
static void expect_closed(redisContext *x)
{
    for (int i = 0; i < 250; i++) {
        redisReply *r = redisCommand(x, "PING");
        if (r == NULL)
            return;
        freeReplyObject(r);
        usleep(20 * 1000);
    }
    fail_msg("the connection is still open");
}

/* A field of x's CLIENT INFO line ("addr", "laddr", ...) into out. */
static void info_field(redisContext *x, const char *name, char *out, size_t cap)
{
    char key[64];
    redisReply *r = CMD(x, "CLIENT INFO");
    snprintf(key, sizeof(key), " %s=", name);
    const char *p = strstr(r->str, key);
    assert_non_null(p);
    p += strlen(key);
    snprintf(out, cap, "%.*s", (int)strcspn(p, " \n"), p);
    freeReplyObject(r);
}

static void test_kill_other_worker(void **state)
{
    redisContext *a = on_worker(0), *b = on_worker(1), *d = on_worker(1), *e = on_worker(1);
    char addr[80], laddr[80];
    EXPECT_INT(a, 1, "CLIENT KILL ID %lld", client_id(b));
    expect_closed(b);
    /* the old form, ip:port */
    info_field(d, "addr", addr, sizeof(addr));
    EXPECT_OK(a, "CLIENT KILL %s", addr);
    expect_closed(d);
    EXPECT_ERR(a, "ERR No such client", "CLIENT KILL %s", addr);
    /* ADDR and LADDR (with ID, since every client has this laddr) */
    info_field(e, "laddr", laddr, sizeof(laddr));
    EXPECT_INT(a, 1, "CLIENT KILL LADDR %s ID %lld", laddr, client_id(e));
    expect_closed(e);
    EXPECT_INT(a, 0, "CLIENT KILL ADDR 10.9.9.9:1");
    EXPECT_ERR(a, "ERR client-id should be greater than 0", "CLIENT KILL ID 0");
    EXPECT_ERR(a, "ERR No such client", "CLIENT KILL ID");   /* the old form */
    EXPECT_STATUS(a, "PONG", "PING");
    redisFree(a);
    redisFree(b);
    redisFree(d);
    redisFree(e);
}

static void test_kill_maxage(void **state)
{
    HARNESS_MMCACHE_ONLY("MAXAGE is Redis 7.4's");
    redisContext *old = on_worker(1);
    usleep(2100 * 1000);
    redisContext *young = on_worker(1);
    EXPECT_ERR(c, "ERR syntax error", "CLIENT KILL MAXAGE -1");
    redisReply *r = CMD(c, "CLIENT KILL MAXAGE 1");   /* SKIPME yes: not c */
    assert_int_equal(r->type, REDIS_REPLY_INTEGER);
    assert_true(r->integer >= 1);
    freeReplyObject(r);
    expect_closed(old);
    EXPECT_STATUS(young, "PONG", "PING");
    EXPECT_STATUS(c, "PONG", "PING");
    redisFree(old);
    redisFree(young);
}

/* The value of `field` in a CLIENT LIST line (-1 when absent). */
static long long line_field(const char *line, const char *field)
{
    char key[64];
    snprintf(key, sizeof(key), " %s=", field);
    const char *p = strstr(line, key);
    return p ? atoll(p + strlen(key)) : -1;
}

/* qbuf and omem of a client on the other worker are its true figures. */
static void test_list_other_worker_buffers(void **state)
{
    HARNESS_MMCACHE_ONLY("mmcache's workers");
    redisContext *a = on_worker(0), *b = on_worker(1);
    long long id = client_id(b);
    int fd = b->fd;
    char *val = malloc(4 << 20);
    assert_non_null(val);
    memset(val, 'v', 4 << 20);
    redisReply *r = redisCommand(a, "SET big %b", val, (size_t)4 << 20);
    freeReplyObject(r);
    free(val);
    /* b: half a command (its query buffer), then replies it never reads */
    static const char part[] = "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$100000\r\n";
    char *req = malloc(sizeof(part) + 8 * 10 + 50000);
    size_t n = 0;
    for (int i = 0; i < 8; i++)
        n += (size_t)sprintf(req + n, "GET big\r\n");
    memcpy(req + n, part, sizeof(part) - 1);
    n += sizeof(part) - 1;
    memset(req + n, 'x', 50000);
    n += 50000;
    int small = 4096;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
    assert_int_equal(harness_write_all(fd, req, n), 0);
    free(req);
    long long qbuf = -1, omem = -1, tot = -1;
    for (int i = 0; i < HARNESS_WAIT_MS / 50; i++) {
        r = CMD(a, "CLIENT LIST ID %lld", id);   /* one line: its figures of one moment */
        qbuf = line_field(r->str, "qbuf");
        omem = line_field(r->str, "omem");
        tot = line_field(r->str, "tot-mem");
        freeReplyObject(r);
        if (qbuf >= 50000 && omem >= (1 << 20))
            break;
        usleep(50 * 1000);
    }
    assert_true(qbuf >= 50000);
    assert_true(omem >= (1 << 20));
    assert_true(tot >= omem + qbuf);
    redisFree(a);
    redisFree(b);
}

static void test_no_evict(void **state)
{
    char flags[16];
    EXPECT_OK(c, "CLIENT NO-EVICT on");
    info_field(c, "flags", flags, sizeof(flags));
    assert_non_null(strchr(flags, 'e'));
    EXPECT_OK(c, "CLIENT NO-EVICT off");
    info_field(c, "flags", flags, sizeof(flags));
    assert_null(strchr(flags, 'e'));
    EXPECT_ERR(c, "ERR syntax error", "CLIENT NO-EVICT maybe");
}

static void test_pause(void **state)
{
    EXPECT_ERR(c, "ERR timeout is negative", "CLIENT PAUSE -1");
    EXPECT_ERR(c, "ERR timeout is not an integer or out of range", "CLIENT PAUSE abc");
    EXPECT_ERR(c, "ERR CLIENT PAUSE mode must be WRITE or ALL", "CLIENT PAUSE 10 foo");
    /* accepted (Redis 7.0 too); UNPAUSE ends it */
    EXPECT_OK(c, "CLIENT PAUSE 9223372036854775807 WRITE");
    EXPECT_OK(c, "CLIENT UNPAUSE");
    redisContext *a = on_worker(0), *b = on_worker(1);
    /* WRITE: reads go on, a write waits for the end (a lower bound) */
    EXPECT_OK(c, "CLIENT PAUSE 400 WRITE");
    long long t0 = now_ms();
    EXPECT_NIL(a, "GET nokey");
    EXPECT_OK(b, "SET k v");
    assert_true(now_ms() - t0 >= 300);
    /* ALL: a read waits too */
    EXPECT_OK(c, "CLIENT PAUSE 400 ALL");
    t0 = now_ms();
    EXPECT_BULK(a, "v", "GET k");
    assert_true(now_ms() - t0 >= 300);
    redisFree(a);
    redisFree(b);
}

/* A pause of 317 years ends with UNPAUSE, which it does not hold. */
static void test_unpause(void **state)
{
    HARNESS_MMCACHE_ONLY("Redis 7.0 holds UNPAUSE under PAUSE ALL");
    redisContext *a = on_worker(0), *b = on_worker(1);
    EXPECT_OK(c, "CLIENT PAUSE 9999999999999 ALL");
    redisAppendCommand(a, "SET k1 v");
    redisAppendCommand(b, "SET k2 v");
    int done = 0;
    while (!done)
        assert_int_equal(redisBufferWrite(a, &done), REDIS_OK);
    done = 0;
    while (!done)
        assert_int_equal(redisBufferWrite(b, &done), REDIS_OK);
    usleep(200 * 1000);
    EXPECT_OK(c, "CLIENT UNPAUSE");
    redisReply *r = NULL;
    assert_int_equal(redisGetReply(a, (void **)&r), REDIS_OK);
    assert_string_equal(r->str, "OK");
    freeReplyObject(r);
    assert_int_equal(redisGetReply(b, (void **)&r), REDIS_OK);
    assert_string_equal(r->str, "OK");
    freeReplyObject(r);
    redisFree(a);
    redisFree(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_kill_other_worker, test_setup),
        cmocka_unit_test_setup(test_kill_maxage, test_setup),
        cmocka_unit_test_setup(test_list_other_worker_buffers, test_setup),
        cmocka_unit_test_setup(test_no_evict, test_setup),
        cmocka_unit_test_setup(test_pause, test_setup),
        cmocka_unit_test_setup(test_unpause, test_setup),
    };
    int failed = cmocka_run_group_tests_name("integration/clients", tests, group_setup,
                                             group_teardown);
    return harness_finish(failed);
}
