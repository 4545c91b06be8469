/*
 * test_lifecycle: limits and the server's life: maxclients, idle timeout,
 * maxmemory (allkeys-lru and noeviction), SIGTERM with a pipelined batch
 * in flight, a client that never reads, SHUTDOWN. Each test starts its
 * own server with the settings it needs and stops it by PID.
 *
 * Settings whose spelling differs go to mmcache and Redis separately
 * (client-output-buffer-limit). Every expectation here holds for Redis 7.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "check.h"
#include "harness.h"
#include "server_fixture.h"

/* Poll INFO until connected_clients == want (server-side closes are
 * asynchronous). Returns the last value seen. */
static long long wait_clients(redisContext *c, long long want, int bound_ms)
{
    long long deadline = harness_now_ms() + bound_ms, v = -1;
    while (harness_now_ms() < deadline) {
        v = harness_info_ll(c, "connected_clients");
        if (v == want)
            break;
        harness_sleep_ms(20);
    }
    return v;
}

static void test_maxclients(void **state)
{
    static const char *const args[] = {"--maxclients", "5", NULL};
    static const char full[] = "-ERR max number of clients reached\r\n";
    redisContext *cl[5];
    start(args, NULL, NULL);

    cl[0] = harness_connect(&srv);
    assert_non_null(cl[0]);
    /* the harness's readiness probe may still be counted for a moment */
    assert_int_equal(wait_clients(cl[0], 1, HARNESS_WAIT_MS), 1);
    for (int i = 1; i < 5; i++) {
        cl[i] = harness_connect(&srv);
        assert_non_null(cl[i]);
        EXPECT_STATUS(cl[i], "PONG", "PING");
    }
    /* the 6th gets the error and is closed */
    int fd = harness_raw_connect(srv.port, HARNESS_WAIT_MS);
    assert_true(fd >= 0);
    char buf[128];
    int eof;
    size_t got = harness_read_until(fd, buf, sizeof(full) - 1, HARNESS_WAIT_MS, &eof);
    assert_int_equal(got, sizeof(full) - 1);
    assert_memory_equal(buf, full, got);
    size_t more = 0;
    assert_true(harness_wait_closed(fd, HARNESS_WAIT_MS, &more));
    assert_int_equal(more, 0);
    close(fd);
    /* the first five still work */
    for (int i = 0; i < 5; i++) {
        EXPECT_STATUS(cl[i], "PONG", "PING");
        EXPECT_OK(cl[i], "SET k%d v", i);
    }
    assert_int_equal(harness_info_ll(cl[0], "connected_clients"), 5);
    /* a slot freed is a slot usable again */
    redisFree(cl[4]);
    assert_int_equal(wait_clients(cl[0], 4, HARNESS_WAIT_MS), 4);
    cl[4] = harness_connect(&srv);
    assert_non_null(cl[4]);
    EXPECT_BULK(cl[4], "v", "GET k1");
    for (int i = 0; i < 5; i++)
        redisFree(cl[i]);
    stop_ok();
}

static void test_idle_timeout(void **state)
{
    static const char *const args[] = {"--timeout", "1", NULL};
    start(args, NULL, NULL);
    redisContext *busy = harness_connect(&srv);
    assert_non_null(busy);
    int idle = harness_idle_client(srv.port);
    assert_true(idle >= 0);

    /* the busy client talks every 200 ms until then: it must survive;
     * the idle one is closed without a word */
    long long took = harness_wait_idle_closed(busy, idle, HARNESS_WAIT_MS);
    assert_true(took >= 0);
    assert_true(took >= 900);           /* idle for at least the timeout */
    close(idle);
    EXPECT_STATUS(busy, "PONG", "PING");
    redisFree(busy);
    stop_ok();
}

static void test_maxmemory_allkeys_lru(void **state)
{
    static const char *const args[] = {"--maxmemory", "16mb",
                                       "--maxmemory-policy", "allkeys-lru", NULL};
    const long long maxmem = 16LL * 1024 * 1024;
    start(args, NULL, NULL);
    redisContext *c = harness_connect(&srv);
    assert_non_null(c);
    assert_int_equal(harness_info_ll(c, "maxmemory"), maxmem);
    long long max_used = 0;
    char err[256] = "";
    /* 5x the limit: 80k keys of 1 KiB */
    long errors = harness_fill(c, "lru", 80000, 1024, err, sizeof(err), &max_used, maxmem);
    if (errors)
        fprintf(stderr, "first error: %s\n", err);
    assert_int_equal(errors, 0);        /* allkeys-lru never refuses a SET */
    fprintf(stderr, "max used_memory %lld of maxmemory %lld\n", max_used, maxmem);
    assert_true(max_used > 0 && max_used <= maxmem + HARNESS_MEM_SLACK);
    assert_true(harness_info_ll(c, "evicted_keys") > 0);
    redisReply *r = CMD(c, "DBSIZE");
    assert_true(r->integer > 1000 && r->integer < 80000);
    freeReplyObject(r);
    /* the newest key survives; the server still serves */
    r = CMD(c, "GET lru:79999");
    assert_int_equal(r->type, REDIS_REPLY_STRING);
    assert_int_equal(r->len, 1024);
    freeReplyObject(r);
    redisFree(c);
    stop_ok();
}

static void test_maxmemory_noeviction(void **state)
{
    static const char *const args[] = {"--maxmemory", "8mb",
                                       "--maxmemory-policy", "noeviction", NULL};
    static const char oom[] = "OOM command not allowed when used memory > 'maxmemory'.";
    start(args, NULL, NULL);
    redisContext *c = harness_connect(&srv);
    assert_non_null(c);
    char err[256] = "";
    /* 3x the limit: it has to refuse somewhere */
    long errors = harness_fill(c, "ne", 24000, 1024, err, sizeof(err), NULL, 0);
    assert_true(errors > 0);
    assert_string_equal(err, oom);
    assert_int_equal(harness_info_ll(c, "evicted_keys"), 0);
    /* writes refused, reads and deletes still work */
    EXPECT_ERR(c, oom, "SET another v");
    EXPECT_ERR(c, oom, "INCR counter");
    EXPECT_ERR(c, oom, "APPEND ne:0 x");
    redisReply *r = CMD(c, "GET ne:0");
    assert_int_equal(r->type, REDIS_REPLY_STRING);
    assert_int_equal(r->len, 1024);
    freeReplyObject(r);
    EXPECT_INT(c, 1, "EXISTS ne:1");
    r = CMD(c, "DBSIZE");
    long long keys = r->integer;
    freeReplyObject(r);
    assert_true(keys > 1000 && keys < 24000);
    /* delete half: writes work again */
    for (long long i = 0; i < keys / 2; i++)
        redisAppendCommand(c, "DEL ne:%lld", i);
    for (long long i = 0; i < keys / 2; i++) {
        r = NULL;
        assert_int_equal(redisGetReply(c, (void **)&r), REDIS_OK);
        assert_int_equal(r->type, REDIS_REPLY_INTEGER);
        assert_int_equal(r->integer, 1);
        freeReplyObject(r);
    }
    EXPECT_OK(c, "SET another v");
    EXPECT_INT(c, 1, "INCR counter");
    redisFree(c);
    stop_ok();
}

/* ping_first = 0: the connection may still sit in the listen backlog
 * when SIGTERM lands; its client sent everything, so it is in flight too. */
static void sigterm_answers_pipeline(int ping_first)
{
    enum { N = 2000 };
    static const char incr[] = "*2\r\n$4\r\nINCR\r\n$3\r\nsig\r\n";
    start(NULL, NULL, NULL);
    size_t il = sizeof(incr) - 1;
    char *batch = malloc(il * N);
    for (int i = 0; i < N; i++)
        memcpy(batch + (size_t)i * il, incr, il);
    int fd = harness_raw_connect(srv.port, HARNESS_WAIT_MS);
    assert_true(fd >= 0);
    if (ping_first) {   /* the server has surely accepted this connection */
        char pong[8];
        int eof0;
        assert_int_equal(harness_write_all(fd, "PING\r\n", 6), 0);
        assert_int_equal(harness_read_until(fd, pong, 7, HARNESS_WAIT_MS, &eof0), 7);
        assert_memory_equal(pong, "+PONG\r\n", 7);
    }
    assert_int_equal(harness_write_all(fd, batch, il * N), 0);
    /* every byte is sent; terminate right away */
    assert_int_equal(kill(srv.pid, SIGTERM), 0);

    size_t cap = (size_t)N * 16, got;
    char *buf = malloc(cap);
    int eof;
    got = harness_read_until(fd, buf, cap, HARNESS_WAIT_MS, &eof);
    close(fd);
    int st = harness_wait_exit(&srv, 10000);

    /* replies :1 .. :N in order, nothing else */
    size_t off = 0;
    int replies = 0;
    for (int i = 1; i <= N && off < got; i++) {
        char want[24];
        int wl = snprintf(want, sizeof(want), ":%d\r\n", i);
        if (got - off < (size_t)wl || memcmp(buf + off, want, (size_t)wl) != 0)
            break;
        off += (size_t)wl;
        replies++;
    }
    if (replies != N || off != got)
        fprintf(stderr, "got %d of %d replies (%zu bytes, %zu parsed), eof=%d\n",
                replies, N, got, off, eof);
    /* Answering all of it is mmcache's own promise. Redis acts on SIGTERM
     * in its next serverCron and answers only what it read by then (it
     * reads 16 KB per turn): against it, an in-order prefix with nothing
     * after it (seen: 890 of 2,000 on a loaded box). */
    if (!harness_is_redis())
        assert_int_equal(replies, N);
    assert_int_equal(off, got);
    assert_true(eof);                   /* and then the server closed it */
    if (st != 0)
        harness_print_log(&srv);
    assert_int_equal(st, 0);
    free(batch);
    free(buf);
}

static void test_sigterm_answers_pipeline(void **state)
{
    sigterm_answers_pipeline(1);
}

static void test_sigterm_answers_backlog(void **state)
{
    sigterm_answers_pipeline(0);
}

/*
 * A client that pipelines GETs of a 1 MB value and never reads is dropped
 * once its pending output passes client-output-buffer-limit, and the
 * server serves others meanwhile. Timing: until the server checks the
 * limit as each reply is built (issue 15), it builds the replies of a
 * whole read before checking: under TSan on the shared 2-core host that
 * took 11 s for 200 MB, and up to 16 s for 96 MB beside two CPU-bound
 * processes (29 s with other builds running too). So twice the limit of
 * replies (not more), and generous bounds on the waits, which only stop
 * a hung test: the checks are that the drop happens and that the reader
 * got less than it asked for.
 */
static void test_slow_reader_disconnected(void **state)
{
    static const char *const mm[] = {"--client-output-buffer-limit", "32mb", NULL};
    static const char *const rd[] = {"--client-output-buffer-limit",
                                     "normal 32mb 0 0", NULL};
    enum { GETS = 64 };                 /* 64 MB of replies if never cut */
    const size_t vlen = 1 << 20;
    start(NULL, mm, rd);
    redisContext *c = harness_connect(&srv);
    assert_non_null(c);
    char *v = malloc(vlen);
    memset(v, 'q', vlen);
    EXPECT_OK(c, "SET big %b", v, vlen);

    /* Kernel buffers on both sides absorb a few MB: far below the 64 MB
     * of replies asked for, twice the 32 MB limit. (A tiny SO_RCVBUF would
     * make the final drain crawl at a few KB per round trip, so the
     * default is kept.) */
    int fd = harness_idle_client(srv.port);
    assert_true(fd >= 0);
    /* counted before the GETs go: else "back to one client" below could
     * be seen before the server had even accepted the reader */
    assert_int_equal(wait_clients(c, 2, HARNESS_WAIT_MS), 2);
    static const char get[] = "*2\r\n$3\r\nGET\r\n$3\r\nbig\r\n";
    long long t0 = harness_now_ms();
    for (int i = 0; i < GETS; i++)
        assert_int_equal(harness_write_all(fd, get, sizeof(get) - 1), 0);

    /* the server drops it without our reading a byte ... */
    assert_int_equal(wait_clients(c, 1, 90000), 1);
    fprintf(stderr, "slow reader dropped %lld ms after its GETs were sent\n",
            harness_now_ms() - t0);
    /* ... and keeps serving others, big replies included */
    redisReply *r = CMD(c, "GET big");
    assert_int_equal(r->len, vlen);
    freeReplyObject(r);
    EXPECT_STATUS(c, "PONG", "PING");

    size_t total = 0;
    assert_true(harness_wait_closed(fd, HARNESS_WAIT_MS, &total));
    fprintf(stderr, "slow reader got %zu bytes before the close\n", total);
    assert_true(total < (size_t)GETS * vlen);
    close(fd);
    redisFree(c);
    free(v);
    stop_ok();
}

static void test_shutdown_command(void **state)
{
    start(NULL, NULL, NULL);
    redisContext *c = harness_connect(&srv);
    assert_non_null(c);
    EXPECT_OK(c, "SET k v");
    redisReply *r = redisCommand(c, "SHUTDOWN");
    /* Redis closes without a reply; an error reply would be a refusal */
    if (r) {
        assert_int_not_equal(r->type, REDIS_REPLY_ERROR);
        freeReplyObject(r);
    }
    int st = harness_wait_exit(&srv, 10000);
    redisFree(c);
    assert_int_equal(st, 0);
}

static void test_sigterm_idle_exit_0(void **state)
{
    start(NULL, NULL, NULL);
    redisContext *c = harness_connect(&srv);   /* one idle client open */
    assert_non_null(c);
    EXPECT_OK(c, "SET k v");
    stop_ok();
    redisFree(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_maxclients, teardown),
        cmocka_unit_test_teardown(test_idle_timeout, teardown),
        cmocka_unit_test_teardown(test_maxmemory_allkeys_lru, teardown),
        cmocka_unit_test_teardown(test_maxmemory_noeviction, teardown),
        cmocka_unit_test_teardown(test_sigterm_answers_pipeline, teardown),
        cmocka_unit_test_teardown(test_sigterm_answers_backlog, teardown),
        cmocka_unit_test_teardown(test_slow_reader_disconnected, teardown),
        cmocka_unit_test_teardown(test_shutdown_command, teardown),
        cmocka_unit_test_teardown(test_sigterm_idle_exit_0, teardown),
    };
    int failed = cmocka_run_group_tests_name("integration/lifecycle", tests,
                                             NULL, NULL);
    return harness_finish(failed);
}
