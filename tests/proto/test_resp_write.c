/*
 * Tests for proto/resp_write.c: exact bytes of each encoder, growth, and
 * that an error line can never carry a \r or \n (protocol injection).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "proto.h"

static void expect_buf(struct proto_buf *b, const char *bytes, size_t n)
{
    assert_int_equal(b->len, n);
    assert_memory_equal(b->data, bytes, n);
    b->len = 0;
}

#define EXPECT(b, lit) expect_buf((b), lit, sizeof(lit) - 1)

static void test_simple_types(void **state)
{
    struct proto_buf b;

    (void)state;
    proto_buf_init(&b);
    assert_int_equal(proto_add_simple(&b, "OK"), 0);
    EXPECT(&b, "+OK\r\n");
    assert_int_equal(proto_add_error(&b, "ERR unknown command"), 0);
    EXPECT(&b, "-ERR unknown command\r\n");
    assert_int_equal(proto_add_null(&b), 0);
    EXPECT(&b, "$-1\r\n");
    assert_int_equal(proto_add_null_array(&b), 0);
    EXPECT(&b, "*-1\r\n");
    assert_int_equal(proto_add_array(&b, 0), 0);
    EXPECT(&b, "*0\r\n");
    assert_int_equal(proto_add_array(&b, 3), 0);
    EXPECT(&b, "*3\r\n");
    assert_int_equal(proto_add_raw(&b, "+PONG\r\n", 7), 0);
    EXPECT(&b, "+PONG\r\n");
    proto_buf_free(&b);
    assert_null(b.data);
}

static void test_integers(void **state)
{
    static const long long vals[] = { 0, 1, -1, 2, 9, 10, 99, 100, 101, 65535, -1000000,
                                      LLONG_MAX, LLONG_MIN };
    struct proto_buf b;
    char ref[64];
    size_t i;
    int n;

    (void)state;
    proto_buf_init(&b);
    for (i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
        assert_int_equal(proto_add_int(&b, vals[i]), 0);
        n = snprintf(ref, sizeof(ref), ":%lld\r\n", vals[i]);
        expect_buf(&b, ref, (size_t)n);
        assert_int_equal(proto_add_bulk_ll(&b, vals[i]), 0);
        n = snprintf(ref, sizeof(ref), "$%d\r\n%lld\r\n", snprintf(NULL, 0, "%lld", vals[i]),
                     vals[i]);
        expect_buf(&b, ref, (size_t)n);
    }
    /* every value around each digit-count edge against snprintf */
    for (long long v = -100005; v <= 100005; v += 7) {
        assert_int_equal(proto_add_int(&b, v), 0);
        n = snprintf(ref, sizeof(ref), ":%lld\r\n", v);
        expect_buf(&b, ref, (size_t)n);
    }
    proto_buf_free(&b);
}

static void test_bulk(void **state)
{
    struct proto_buf b;
    char *big;
    const size_t bign = 100000;

    (void)state;
    proto_buf_init(&b);
    assert_int_equal(proto_add_bulk(&b, "hello", 5), 0);
    EXPECT(&b, "$5\r\nhello\r\n");
    assert_int_equal(proto_add_bulk(&b, "", 0), 0);
    EXPECT(&b, "$0\r\n\r\n");
    assert_int_equal(proto_add_bulk(&b, NULL, 0), 0);
    EXPECT(&b, "$0\r\n\r\n");
    assert_int_equal(proto_add_bulk(&b, "a\0b\r\n", 5), 0);   /* binary safe */
    EXPECT(&b, "$5\r\na\0b\r\n\r\n");
    assert_int_equal(proto_add_bulk_cstr(&b, "abc"), 0);
    EXPECT(&b, "$3\r\nabc\r\n");
    assert_int_equal(proto_add_bulk_cstr(&b, NULL), 0);
    EXPECT(&b, "$-1\r\n");

    big = malloc(bign);
    assert_non_null(big);
    memset(big, 'x', bign);
    assert_int_equal(proto_add_bulk(&b, big, bign), 0);
    assert_int_equal(b.len, 9 + bign + 2);
    assert_memory_equal(b.data, "$100000\r\n", 9);
    assert_memory_equal(b.data + 9, big, bign);
    assert_memory_equal(b.data + 9 + bign, "\r\n", 2);
    free(big);
    proto_buf_free(&b);
}

static void test_errors_single_line(void **state)
{
    struct proto_buf b;
    char longmsg[1000];

    (void)state;
    proto_buf_init(&b);
    /* \r and \n inside become spaces; at the ends they are trimmed (Redis) */
    assert_int_equal(proto_add_errorf(&b, "ERR bad key '%s'", "a\r\n+OK"), 0);
    EXPECT(&b, "-ERR bad key 'a  +OK'\r\n");
    assert_int_equal(proto_add_errorf(&b, "ERR x%s", "\r\n"), 0);
    EXPECT(&b, "-ERR x\r\n");
    assert_int_equal(proto_add_errorf(&b, "%s", "\nERR y"), 0);
    EXPECT(&b, "-ERR y\r\n");
    assert_int_equal(proto_add_errorf(&b, "ERR %d args", 3), 0);
    EXPECT(&b, "-ERR 3 args\r\n");
    assert_int_equal(proto_add_error(&b, "ERR a\nb\rc"), 0);
    EXPECT(&b, "-ERR a b c\r\n");
    assert_int_equal(proto_add_simple(&b, "a\r\nb"), 0);
    EXPECT(&b, "+a  b\r\n");

    /* longer than the formatter's stack buffer */
    memset(longmsg, 'z', sizeof(longmsg) - 1);
    longmsg[sizeof(longmsg) - 1] = '\0';
    longmsg[500] = '\n';
    assert_int_equal(proto_add_errorf(&b, "ERR %s", longmsg), 0);
    assert_int_equal(b.len, 1 + 4 + 999 + 2);
    assert_null(memchr(b.data, '\n', b.len - 1));
    assert_null(memchr(b.data, '\r', b.len - 2));
    proto_buf_free(&b);
}

static void test_growth_geometric(void **state)
{
    struct proto_buf b;
    size_t i, reallocs = 0, cap = 0;

    (void)state;
    proto_buf_init(&b);
    for (i = 0; i < 100000; i++) {
        assert_int_equal(proto_add_int(&b, (long long)i), 0);
        if (b.cap != cap) {
            reallocs++;
            cap = b.cap;
        }
    }
    assert_true(reallocs < 20);
    assert_true(b.cap >= b.len);
    /* appended in order */
    assert_memory_equal(b.data, ":0\r\n:1\r\n:2\r\n", 12);
    assert_int_equal(proto_buf_reserve(&b, 0), 0);
    assert_int_equal(proto_buf_reserve(&b, SIZE_MAX), -ENOMEM);
    assert_int_equal(proto_add_bulk(&b, "x", SIZE_MAX - 2), -ENOMEM);
    assert_int_equal(proto_buf_append(&b, NULL, 0), 0);
    proto_buf_free(&b);
    proto_buf_free(&b);
}

/* Redis's sdscatrepr, byte for byte: each escape, a printable run, the
 * edges of the printable range, and the length said beforehand. */
static void test_repr(void **state)
{
    static const struct { const char *in; size_t n; const char *out; } cases[] = {
        {"", 0, "\"\""},
        {"a b~", 4, "\"a b~\""},
        {"\\\"\n\r\t\a\b", 7, "\"\\\\\\\"\\n\\r\\t\\a\\b\""},
        {"\x00\x1f\x7f\xff", 4, "\"\\x00\\x1f\\x7f\\xff\""},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct proto_buf b;
        proto_buf_init(&b);
        assert_int_equal(proto_add_repr(&b, cases[i].in, cases[i].n), 0);
        assert_int_equal(b.len, strlen(cases[i].out));
        assert_memory_equal(b.data, cases[i].out, b.len);
        assert_int_equal(proto_repr_len(cases[i].in, cases[i].n), b.len);
        proto_buf_free(&b);
    }
}

static void test_reply_reparses(void **state)
{
    /* A command encoded as an array of bulks parses back to itself. */
    struct proto_buf b;
    struct proto_parser p;
    size_t used, argc;
    struct proto_arg *argv;

    (void)state;
    proto_buf_init(&b);
    proto_parser_init(&p);
    assert_int_equal(proto_add_array(&b, 3), 0);
    assert_int_equal(proto_add_bulk_cstr(&b, "SET"), 0);
    assert_int_equal(proto_add_bulk(&b, "k\r\n", 3), 0);
    assert_int_equal(proto_add_bulk_ll(&b, -42), 0);
    assert_int_equal(proto_parse(&p, b.data, b.len, &used, &argc, &argv), PROTO_CMD);
    assert_int_equal(used, b.len);
    assert_int_equal(argc, 3);
    assert_memory_equal(argv[1].ptr, "k\r\n", 3);
    assert_int_equal(argv[2].len, 3);
    assert_memory_equal(argv[2].ptr, "-42", 3);
    proto_parser_free(&p);
    proto_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_simple_types),
        cmocka_unit_test(test_integers),
        cmocka_unit_test(test_bulk),
        cmocka_unit_test(test_errors_single_line),
        cmocka_unit_test(test_growth_geometric),
        cmocka_unit_test(test_reply_reparses),
        cmocka_unit_test(test_repr),
    };

    return cmocka_run_group_tests_name("proto_resp_write", tests, NULL, NULL);
}
