/*
 * test_protocol: raw-socket tests of what the server does with malformed,
 * inline, fragmented and hostile input. Every protocol error is checked
 * byte for byte (Redis 7's text) together with the close that follows it.
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
#include "harness.h"

static struct harness_server srv;

static int group_setup(void **state)
{
    return harness_start(&srv, NULL, NULL, NULL);
}

static int group_teardown(void **state)
{
    int st = harness_stop(&srv, 10000);
    if (st != 0)
        fprintf(stderr, "server exit status %d after SIGTERM (want 0)\n", st);
    return st == 0 ? 0 : -1;
}

static void show(const char *what, const char *p, size_t n)
{
    fprintf(stderr, "  %s (%zu bytes): \"", what, n);
    for (size_t i = 0; i < n && i < 300; i++) {
        unsigned char ch = (unsigned char)p[i];
        if (ch == '\r')
            fputs("\\r", stderr);
        else if (ch == '\n')
            fputs("\\n", stderr);
        else if (ch < 32 || ch > 126)
            fprintf(stderr, "\\x%02x", ch);
        else
            fputc(ch, stderr);
    }
    fputs(n > 300 ? "...\"\n" : "\"\n", stderr);
}

/*
 * Send `in` on a fresh connection; expect exactly `want` back.
 * closed=1: the server must then close the connection.
 * closed=0: the server must keep it open (nothing more within 200 ms).
 */
static void exchange(const char *in, size_t inlen, const char *want,
                     size_t wantlen, int closed)
{
    char *buf = malloc(wantlen + 64);
    int eof = 0;
    int fd = harness_raw_connect(srv.port, HARNESS_WAIT_MS);
    assert_true(fd >= 0);
    assert_int_equal(harness_write_all(fd, in, inlen), 0);
    size_t got = harness_read_until(fd, buf, wantlen, HARNESS_WAIT_MS, &eof);
    if (!eof) {
        /* anything more? closed: wait for the close; open: a short look */
        got += harness_read_until(fd, buf + got, 64, closed ? HARNESS_WAIT_MS : 200, &eof);
    }
    int ok = got == wantlen && memcmp(buf, want, wantlen) == 0 &&
             eof == closed;
    if (!ok) {
        show("sent", in, inlen);
        show("expected", want, wantlen);
        show("got", buf, got);
        fprintf(stderr, "  connection %s, expected %s\n",
                eof ? "closed" : "open", closed ? "closed" : "open");
    }
    close(fd);
    free(buf);
    assert_true(ok);
}

#define EXCHANGE(in, want, closed) \
    exchange((in), sizeof(in) - 1, (want), sizeof(want) - 1, (closed))

/* ---- protocol errors: exact reply, then close ---- */

static void test_invalid_multibulk_length(void **state)
{
    EXCHANGE("*abc\r\n", "-ERR Protocol error: invalid multibulk length\r\n", 1);
    EXCHANGE("*2147483648\r\n", "-ERR Protocol error: invalid multibulk length\r\n", 1);
    EXCHANGE("*1x\r\n", "-ERR Protocol error: invalid multibulk length\r\n", 1);
}

static void test_multibulk_count_over_1m(void **state)
{
    /* Redis 7 accepts any count up to INT_MAX (the 1024*1024 cap of
     * Redis <= 6 is gone): the server waits for the arguments, replies
     * nothing and keeps the connection. */
    EXCHANGE("*1048577\r\n", "", 0);
    EXCHANGE("*2000000\r\n$4\r\nPING\r\n", "", 0);
}

static void test_invalid_bulk_length(void **state)
{
    EXCHANGE("*1\r\n$536870913\r\n", "-ERR Protocol error: invalid bulk length\r\n", 1);
    EXCHANGE("*1\r\n$99999999999\r\n", "-ERR Protocol error: invalid bulk length\r\n", 1);
    EXCHANGE("*1\r\n$-5\r\n", "-ERR Protocol error: invalid bulk length\r\n", 1);
    EXCHANGE("*1\r\n$abc\r\n", "-ERR Protocol error: invalid bulk length\r\n", 1);
    /* 512 MB exactly is allowed: the server waits for the data */
    EXCHANGE("*1\r\n$536870912\r\n", "", 0);
}

static void test_expected_dollar(void **state)
{
    EXCHANGE("*1\r\n+PING\r\n", "-ERR Protocol error: expected '$', got '+'\r\n", 1);
    EXCHANGE("*2\r\n$4\r\nECHO\r\n:1\r\n",
             "-ERR Protocol error: expected '$', got ':'\r\n", 1);
}

static void test_error_after_good_commands(void **state)
{
    /* what was read before the bad bytes is executed and answered */
    EXCHANGE("PING\r\n*1\r\n$3\r\nSET\r\n*1\r\n+x\r\n",
             "+PONG\r\n-ERR wrong number of arguments for 'set' command\r\n"
             "-ERR Protocol error: expected '$', got '+'\r\n", 1);
    EXCHANGE("*3\r\n$3\r\nSET\r\n$5\r\nproto\r\n$1\r\n1\r\n*x\r\n",
             "+OK\r\n-ERR Protocol error: invalid multibulk length\r\n", 1);
    redisContext *c = harness_connect(&srv);
    assert_non_null(c);
    EXPECT_BULK(c, "1", "GET proto");
    redisFree(c);
}

static void test_too_big_count_strings(void **state)
{
    enum { N = 70000 };
    char *in = malloc(N + 8);
    static const char mb[] = "-ERR Protocol error: too big mbulk count string\r\n";
    static const char bb[] = "-ERR Protocol error: too big bulk count string\r\n";
    in[0] = '*';
    memset(in + 1, '1', N);
    exchange(in, N + 1, mb, sizeof(mb) - 1, 1);
    memcpy(in, "*1\r\n$", 5);
    memset(in + 5, '1', N);
    exchange(in, N + 5, bb, sizeof(bb) - 1, 1);
    free(in);
}

static void test_too_big_inline(void **state)
{
    enum { N = 70000 };         /* over 64 KiB with no newline */
    static const char want[] = "-ERR Protocol error: too big inline request\r\n";
    char *in = malloc(N);
    memset(in, 'a', N);
    exchange(in, N, want, sizeof(want) - 1, 1);
    free(in);
}

static void test_unbalanced_quotes(void **state)
{
    EXCHANGE("set k \"abc\r\n",
             "-ERR Protocol error: unbalanced quotes in request\r\n", 1);
    EXCHANGE("set k \"a\"b\r\n",
             "-ERR Protocol error: unbalanced quotes in request\r\n", 1);
    EXCHANGE("set k 'abc\r\n",
             "-ERR Protocol error: unbalanced quotes in request\r\n", 1);
}

/* ---- inline commands ---- */

static void test_inline_commands(void **state)
{
    EXCHANGE("PING\r\n", "+PONG\r\n", 0);
    EXCHANGE("PING\n", "+PONG\r\n", 0);
    EXCHANGE("\r\n\r\nping\r\n", "+PONG\r\n", 0);     /* empty lines skipped */
    EXCHANGE("set ik \"a b\"\r\nget ik\r\nstrlen ik\r\n",
             "+OK\r\n$3\r\na b\r\n:3\r\n", 0);
    EXCHANGE("set ik2 \"\\x41\\tb\\n\"\r\nget ik2\r\n",
             "+OK\r\n$4\r\nA\tb\n\r\n", 0);
    EXCHANGE("echo 'c \"d'\r\n", "$4\r\nc \"d\r\n", 0);
    EXCHANGE("  echo    x   \r\n", "$1\r\nx\r\n", 0);
    EXCHANGE("nosuch a\r\n",
             "-ERR unknown command 'nosuch', with args beginning with: 'a' \r\n", 0);
    /* inline and multibulk mixed in one stream */
    EXCHANGE("PING\r\n*2\r\n$4\r\nECHO\r\n$2\r\nhi\r\nPING\r\n",
             "+PONG\r\n$2\r\nhi\r\n+PONG\r\n", 0);
}

static void test_inline_near_limit(void **state)
{
    /* a 60000-byte inline argument, under the 64 KiB limit, works */
    enum { N = 60000 };
    char *in = malloc(N + 16), *want = malloc(N + 32);
    memcpy(in, "ECHO ", 5);
    memset(in + 5, 'z', N);
    memcpy(in + 5 + N, "\r\n", 2);
    int hl = sprintf(want, "$%d\r\n", N);
    memset(want + hl, 'z', N);
    memcpy(want + hl + N, "\r\n", 2);
    exchange(in, N + 7, want, (size_t)hl + N + 2, 0);
    free(in);
    free(want);
}

static void test_empty_and_negative_multibulk(void **state)
{
    /* *0 and *-1 are skipped without a reply */
    EXCHANGE("*0\r\n*-1\r\n*1\r\n$4\r\nPING\r\n", "+PONG\r\n", 0);
    EXCHANGE("*2\r\n$4\r\nECHO\r\n$0\r\n\r\n", "$0\r\n\r\n", 0);
}

/* ---- fragmentation ---- */

static void test_split_byte_by_byte(void **state)
{
    static const char in[] =
        "*3\r\n$3\r\nSET\r\n$5\r\nsplit\r\n$12\r\nhello\r\nworld\r\n"
        "*2\r\n$3\r\nGET\r\n$5\r\nsplit\r\n"
        "PING\r\n";
    static const char want[] = "+OK\r\n$12\r\nhello\r\nworld\r\n+PONG\r\n";
    char buf[128];
    int eof;
    int fd = harness_raw_connect(srv.port, HARNESS_WAIT_MS);
    assert_true(fd >= 0);
    for (size_t i = 0; i < sizeof(in) - 1; i++) {
        assert_int_equal(harness_write_all(fd, in + i, 1), 0);
        harness_sleep_ms(1);
    }
    size_t got = harness_read_until(fd, buf, sizeof(want) - 1, HARNESS_WAIT_MS, &eof);
    if (got != sizeof(want) - 1 || memcmp(buf, want, got) != 0)
        show("got", buf, got);
    assert_int_equal(got, sizeof(want) - 1);
    assert_memory_equal(buf, want, got);
    assert_int_equal(eof, 0);
    close(fd);
}

static void test_split_big_bulk(void **state)
{
    /* a 1 MB value arriving in 997-byte writes */
    size_t n = 1 << 20;
    char hdr[64];
    int hl = snprintf(hdr, sizeof(hdr), "*3\r\n$3\r\nSET\r\n$3\r\nbig\r\n$%zu\r\n", n);
    size_t total = (size_t)hl + n + 2;
    char *in = malloc(total);
    memcpy(in, hdr, (size_t)hl);
    for (size_t i = 0; i < n; i++)
        in[hl + i] = (char)('A' + i % 61);
    memcpy(in + hl + n, "\r\n", 2);
    int fd = harness_raw_connect(srv.port, HARNESS_WAIT_MS);
    assert_true(fd >= 0);
    for (size_t off = 0; off < total; off += 997) {
        size_t len = total - off < 997 ? total - off : 997;
        assert_int_equal(harness_write_all(fd, in + off, len), 0);
    }
    char buf[8];
    int eof;
    assert_int_equal(harness_read_until(fd, buf, 5, HARNESS_WAIT_MS, &eof), 5);
    assert_memory_equal(buf, "+OK\r\n", 5);
    close(fd);
    redisContext *c = harness_connect(&srv);
    redisReply *r = CMD(c, "GET big");
    assert_int_equal(r->len, n);
    assert_true(memcmp(r->str, in + hl, n) == 0);
    freeReplyObject(r);
    redisFree(c);
    free(in);
}

/* ---- cross-protocol scripting guard ---- */

static void test_http_closes_silently(void **state)
{
    EXCHANGE("POST / HTTP/1.1\r\nHost: example.com\r\n\r\n", "", 1);
    EXCHANGE("Host: example.com\r\n", "", 1);
    EXCHANGE("*2\r\n$5\r\nHost:\r\n$1\r\nx\r\n", "", 1);
    /* the server is fine afterwards */
    EXCHANGE("PING\r\n", "+PONG\r\n", 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_invalid_multibulk_length),
        cmocka_unit_test(test_multibulk_count_over_1m),
        cmocka_unit_test(test_invalid_bulk_length),
        cmocka_unit_test(test_expected_dollar),
        cmocka_unit_test(test_error_after_good_commands),
        cmocka_unit_test(test_too_big_count_strings),
        cmocka_unit_test(test_too_big_inline),
        cmocka_unit_test(test_unbalanced_quotes),
        cmocka_unit_test(test_inline_commands),
        cmocka_unit_test(test_inline_near_limit),
        cmocka_unit_test(test_empty_and_negative_multibulk),
        cmocka_unit_test(test_split_byte_by_byte),
        cmocka_unit_test(test_split_big_bulk),
        cmocka_unit_test(test_http_closes_silently),
    };
    int failed = cmocka_run_group_tests_name("integration/protocol", tests,
                                             group_setup, group_teardown);
    return harness_finish(failed);
}
