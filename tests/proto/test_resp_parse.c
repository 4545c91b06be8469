/*
 * Tests for proto/resp_parse.c.
 *
 * Every expected reply and every quirk below was observed on a real
 * redis-server 7.0.15 by sending the same raw bytes over a socket
 * (python3, one connection per case): the parser must match it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "proto.h"

/* ---- harness: feed input in chunks, log commands ------------------------ */

struct result {
    char log[1 << 18];          /* "len:bytes,...;" per command */
    size_t loglen;
    size_t ncmd;
    enum proto_rc last;         /* NEED_MORE, ERR or CLOSE_SILENT */
    char msg[128];              /* proto_strerror on ERR */
    size_t leftover;            /* bytes kept unconsumed at the end */
};

static void log_cmd(struct result *r, size_t argc, const struct proto_arg *argv)
{
    size_t i;

    for (i = 0; i < argc; i++) {
        int n = snprintf(r->log + r->loglen, sizeof(r->log) - r->loglen, "%zu:", argv[i].len);
        r->loglen += (size_t)n;
        assert_true(r->loglen + argv[i].len + 2 < sizeof(r->log));
        memcpy(r->log + r->loglen, argv[i].ptr, argv[i].len);
        r->loglen += argv[i].len;
        r->log[r->loglen++] = ',';
    }
    r->log[r->loglen++] = ';';
    r->log[r->loglen] = '\0';
    r->ncmd++;
}

/* Chunk size for step k: 0 = everything left. */
typedef size_t chunker(size_t k, uint64_t *rng);

static size_t all_at_once(size_t k, uint64_t *rng) { (void)k; (void)rng; return 0; }
static size_t byte_by_byte(size_t k, uint64_t *rng) { (void)k; (void)rng; return 1; }
static size_t random_split(size_t k, uint64_t *rng)
{
    *rng ^= *rng << 13;
    *rng ^= *rng >> 7;
    *rng ^= *rng << 17;
    (void)k;
    return 1 + (size_t)(*rng % 23);
}

/*
 * Simulates a connection: unconsumed bytes live in a malloc block that is
 * replaced by a fresh copy before every call, so a parser that kept a
 * pointer instead of an offset reads freed memory (ASan) or stale bytes.
 */
static void feed(const char *in, size_t n, long long max_bulk, chunker *next,
                 uint64_t seed, struct result *r)
{
    struct proto_parser p;
    char *buf = NULL;
    size_t have = 0, off = 0, k = 0;
    uint64_t rng = seed ? seed : 88172645463325252ULL;

    memset(r, 0, sizeof(*r));
    proto_parser_init(&p);
    if (max_bulk)
        p.max_bulk_len = max_bulk;
    r->last = PROTO_NEED_MORE;
    while (off < n || k == 0) {
        size_t c = next(k++, &rng);
        char *nb;

        if (c == 0 || c > n - off)
            c = n - off;
        nb = malloc(have + c + 1);
        assert_non_null(nb);
        if (have)
            memcpy(nb, buf, have);
        memcpy(nb + have, in + off, c);
        free(buf);
        buf = nb;
        have += c;
        off += c;
        for (;;) {
            size_t used = 0, argc = 0, i;
            struct proto_arg *argv = NULL;
            enum proto_rc rc = proto_parse(&p, buf, have, &used, &argc, &argv);

            assert_true(used <= have);
            if (rc == PROTO_CMD) {
                assert_true(used > 0 && argc > 0);
                for (i = 0; i < argc; i++) {
                    assert_true(argv[i].ptr >= buf);
                    assert_true(argv[i].ptr + argv[i].len <= buf + used);
                }
                log_cmd(r, argc, argv);
            }
            memmove(buf, buf + used, have - used);
            have -= used;
            if (rc == PROTO_CMD)
                continue;
            r->last = rc;
            if (rc == PROTO_ERR) {
                proto_strerror(&p, r->msg, sizeof(r->msg));
                goto out;
            }
            if (rc == PROTO_CLOSE_SILENT)
                goto out;
            break;
        }
    }
out:
    r->leftover = have;
    free(buf);
    proto_parser_free(&p);
}

/* Feeds in all three ways and checks they agree; returns the whole-buffer result. */
static void feed3(const char *in, size_t n, long long max_bulk, struct result *r)
{
    static struct result b, s;
    uint64_t seed;

    feed(in, n, max_bulk, all_at_once, 0, r);
    feed(in, n, max_bulk, byte_by_byte, 0, &b);
    assert_int_equal(r->last, b.last);
    assert_int_equal(r->loglen, b.loglen);
    assert_memory_equal(r->log, b.log, r->loglen);
    assert_string_equal(r->msg, b.msg);
    /* after an error or a close the rest was never looked at */
    if (r->last == PROTO_NEED_MORE)
        assert_int_equal(r->leftover, b.leftover);
    for (seed = 1; seed <= 5; seed++) {
        feed(in, n, max_bulk, random_split, seed * 0x9E3779B97F4A7C15ULL, &s);
        assert_int_equal(r->last, s.last);
        assert_int_equal(r->loglen, s.loglen);
        assert_memory_equal(r->log, s.log, r->loglen);
        assert_string_equal(r->msg, s.msg);
        if (r->last == PROTO_NEED_MORE)
            assert_int_equal(r->leftover, s.leftover);
    }
}

#define S(lit) lit, sizeof(lit) - 1

static void expect(const char *in, size_t n, const char *log, enum proto_rc last,
                   const char *msg)
{
    static struct result r;

    feed3(in, n, 0, &r);
    assert_string_equal(r.log, log);
    assert_int_equal(r.last, last);
    assert_string_equal(r.msg, msg ? msg : "");
}

/* ---- multibulk ----------------------------------------------------------- */

static void test_mbulk_basic(void **state)
{
    (void)state;
    expect(S("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nvalue\r\n"),
           "3:SET,1:k,5:value,;", PROTO_NEED_MORE, NULL);
    /* an empty bulk */
    expect(S("*2\r\n$4\r\nECHO\r\n$0\r\n\r\n"), "4:ECHO,0:,;", PROTO_NEED_MORE, NULL);
}

static void test_mbulk_empty_commands_skipped(void **state)
{
    (void)state;
    /* Redis: "*0", "*-1", "*-5" produce no reply and the next command runs */
    expect(S("*0\r\n*-1\r\n*-5\r\n*1\r\n$4\r\nPING\r\n"), "4:PING,;", PROTO_NEED_MORE, NULL);
}

static void test_mbulk_unchecked_terminators(void **state)
{
    (void)state;
    /* Redis skips the 2 bytes after a payload and the byte after a header's
     * '\r' without looking at them: both pipelines give two PONGs / one. */
    expect(S("*1\r\n$4\r\nPINGXY*1\r\n$4\r\nPING\r\n"), "4:PING,;4:PING,;",
           PROTO_NEED_MORE, NULL);
    expect(S("*1\rX$4\r\nPING\r\n"), "4:PING,;", PROTO_NEED_MORE, NULL);
    expect(S("*1\r\n$4\rXPING\r\n"), "4:PING,;", PROTO_NEED_MORE, NULL);
}

static void test_mbulk_binary_safe(void **state)
{
    static const char in[] = "*2\r\n$4\r\nECHO\r\n$8\r\na\0b\r\n\r\nc\r\n";
    static struct result r;

    (void)state;
    feed3(in, sizeof(in) - 1, 0, &r);
    assert_int_equal(r.ncmd, 1);
    assert_int_equal(r.loglen, sizeof("4:ECHO,8:a\0b\r\n\r\nc,;") - 1);
    assert_memory_equal(r.log, "4:ECHO,8:a\0b\r\n\r\nc,;", r.loglen);
}

static void test_mbulk_count_limit(void **state)
{
    (void)state;
    /* Redis 7.0.15 accepts counts up to INT_MAX (Redis 6 stopped at 1M). */
    expect(S("*1048577\r\n"), "", PROTO_NEED_MORE, NULL);
    expect(S("*2147483647\r\n"), "", PROTO_NEED_MORE, NULL);
    expect(S("*2147483648\r\n"), "", PROTO_ERR, "ERR Protocol error: invalid multibulk length");
}

static void test_mbulk_errors(void **state)
{
    static const struct { const char *in; const char *msg; } cases[] = {
        { "*x\r\n", "ERR Protocol error: invalid multibulk length" },
        { "*\r\n", "ERR Protocol error: invalid multibulk length" },
        { "*+1\r\n$4\r\nPING\r\n", "ERR Protocol error: invalid multibulk length" },
        { "*01\r\n$4\r\nPING\r\n", "ERR Protocol error: invalid multibulk length" },
        { "*1 \r\n", "ERR Protocol error: invalid multibulk length" },
        { "*1\r\n$-1\r\n", "ERR Protocol error: invalid bulk length" },
        { "*1\r\n$x\r\n", "ERR Protocol error: invalid bulk length" },
        { "*1\r\n$\r\n", "ERR Protocol error: invalid bulk length" },
        { "*1\r\n$+4\r\nPING\r\n", "ERR Protocol error: invalid bulk length" },
        { "*1\r\n$04\r\nPING\r\n", "ERR Protocol error: invalid bulk length" },
        { "*1\r\n$99999999999999999999\r\n", "ERR Protocol error: invalid bulk length" },
        { "*1\r\n$999999999999999999999\r\n", "ERR Protocol error: invalid bulk length" },
        { "*1\r\n$536870913\r\n", "ERR Protocol error: invalid bulk length" },
        { "*1\r\nx4\r\nPING\r\n", "ERR Protocol error: expected '$', got 'x'" },
        /* Redis turns \r / \n in an error reply into spaces */
        { "*1\r\n\r\n", "ERR Protocol error: expected '$', got ' '" },
        { "*1\r\n\n\r\n", "ERR Protocol error: expected '$', got ' '" },
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        expect(cases[i].in, strlen(cases[i].in), "", PROTO_ERR, cases[i].msg);
    /* commands before the error still come out, in order */
    expect(S("*1\r\n$4\r\nPING\r\nPING\r\n*1\r\n$x\r\n"), "4:PING,;4:PING,;", PROTO_ERR,
           "ERR Protocol error: invalid bulk length");
}

static void test_mbulk_waits_for_line_end(void **state)
{
    (void)state;
    /* the '$' check waits for the '\r' and the byte after it, as Redis does */
    expect(S("*1\r\nx"), "", PROTO_NEED_MORE, NULL);
    expect(S("*1\r\nx\r"), "", PROTO_NEED_MORE, NULL);
    expect(S("*1\r"), "", PROTO_NEED_MORE, NULL);
    expect(S("*2\r\n$4\r\nECHO\r\n$3\r\nab"), "", PROTO_NEED_MORE, NULL);
}

static void test_nul_stalls_header(void **state)
{
    static struct result r;
    char *big;

    (void)state;
    /* Redis finds line ends with strchr: a NUL first means never (no
     * reply, connection kept), until more than 64 KiB pile up. */
    expect(S("PING\0\r\n"), "", PROTO_NEED_MORE, NULL);
    expect(S("*1\0\r\n"), "", PROTO_NEED_MORE, NULL);
    expect(S("*1\r\n$4\0\r\nPING\r\n"), "", PROTO_NEED_MORE, NULL);

    big = malloc(70010);
    assert_non_null(big);
    memcpy(big, "PING\0", 5);
    memset(big + 5, 'a', 70000);
    big[70005] = '\n';
    feed(big, 70006, 0, all_at_once, 0, &r);
    assert_int_equal(r.last, PROTO_ERR);
    assert_string_equal(r.msg, "ERR Protocol error: too big inline request");
    feed(big, 65536, 0, all_at_once, 0, &r);
    assert_int_equal(r.last, PROTO_NEED_MORE);
    feed(big, 65537, 0, all_at_once, 0, &r);
    assert_int_equal(r.last, PROTO_ERR);
    free(big);
}

static void test_too_big_limits(void **state)
{
    static struct result r;
    char *big = malloc(80000);

    (void)state;
    assert_non_null(big);

    /* inline: 65536 bytes without '\n' wait, 65537 fail */
    memset(big, 'a', 80000);
    feed(big, 65536, 0, all_at_once, 0, &r);
    assert_int_equal(r.last, PROTO_NEED_MORE);
    feed(big, 65537, 0, all_at_once, 0, &r);
    assert_int_equal(r.last, PROTO_ERR);
    assert_string_equal(r.msg, "ERR Protocol error: too big inline request");
    /* a longer line whose '\n' is already there is accepted, as Redis
     * accepts a 70000-byte line that arrives in one go */
    memcpy(big, "ECHO ", 5);
    big[70005] = '\n';
    feed(big, 70006, 0, all_at_once, 0, &r);
    assert_int_equal(r.ncmd, 1);
    assert_int_equal(r.last, PROTO_NEED_MORE);

    /* "*" + 65535 digits waits, + 65536 fails */
    big[0] = '*';
    memset(big + 1, '1', 79999);
    feed(big, 65536, 0, all_at_once, 0, &r);
    assert_int_equal(r.last, PROTO_NEED_MORE);
    feed(big, 65537, 0, all_at_once, 0, &r);
    assert_int_equal(r.last, PROTO_ERR);
    assert_string_equal(r.msg, "ERR Protocol error: too big mbulk count string");

    /* "$" header: counted from the header start, not the command start */
    memcpy(big, "*1\r\n$", 5);
    feed(big, 4 + 65536, 0, all_at_once, 0, &r);
    assert_int_equal(r.last, PROTO_NEED_MORE);
    feed(big, 4 + 65537, 0, all_at_once, 0, &r);
    assert_int_equal(r.last, PROTO_ERR);
    assert_string_equal(r.msg, "ERR Protocol error: too big bulk count string");
    feed(big, 4 + 65537, 0, byte_by_byte, 0, &r);
    assert_string_equal(r.msg, "ERR Protocol error: too big bulk count string");
    free(big);
}

/* ---- inline -------------------------------------------------------------- */

static void test_inline_basic(void **state)
{
    (void)state;
    expect(S("PING\n"), "4:PING,;", PROTO_NEED_MORE, NULL);
    expect(S("PING\r\n"), "4:PING,;", PROTO_NEED_MORE, NULL);
    expect(S("  \r\nPING\r\n"), "4:PING,;", PROTO_NEED_MORE, NULL);
    expect(S("\n\nPING\n\r\n"), "4:PING,;", PROTO_NEED_MORE, NULL);
    expect(S("SET  k\t v \r\n"), "3:SET,1:k,1:v,;", PROTO_NEED_MORE, NULL);
    /* a lone \r splits arguments (ECHO got 3 args in Redis) */
    expect(S("ECHO a\rb\n"), "4:ECHO,1:a,1:b,;", PROTO_NEED_MORE, NULL);
    /* \v is blank before an argument but not inside one */
    expect(S("ECHO a\vb\r\n"), "4:ECHO,3:a\vb,;", PROTO_NEED_MORE, NULL);
    expect(S("\vECHO x\r\n"), "4:ECHO,1:x,;", PROTO_NEED_MORE, NULL);
    expect(S("PING"), "", PROTO_NEED_MORE, NULL);
}

static void test_inline_quotes(void **state)
{
    static const struct { const char *in; const char *log; } ok[] = {
        { "ECHO \"a\\x41\\n\\q\"\r\n", "4:ECHO,4:aA\nq,;" },
        { "ECHO 'a\\'b\\n'\r\n", "4:ECHO,5:a'b\\n,;" },
        { "ECHO a\"b c\"\r\n", "4:ECHO,4:ab c,;" },
        { "ECHO \"a\"\tx\r\n", "4:ECHO,1:a,1:x,;" },
        { "ECHO \"a\"\v\r\n", "4:ECHO,1:a,;" },
        { "ECHO \"\\x4g\"\r\n", "4:ECHO,3:x4g,;" },
        { "ECHO \"\"\r\n", "4:ECHO,0:,;" },
        { "ECHO \"\\t\\r\\b\\a\\\\\\\"\"\n", "4:ECHO,6:\t\r\b\a\\\",;" },
        { "ECHO \"\xff\"\n", "4:ECHO,1:\xff,;" },
        { "ECHO \"\\x00\"\n", "4:ECHO,1:\0,;" },
    };
    static const char *bad[] = {
        "ECHO \"ab\"c\r\n", "ECHO 'ab'c\r\n", "ECHO \"ab\r\n", "ECHO 'ab\r\n",
        "ECHO \"a\\\"\r\n", "ECHO ''x\r\n", "ECHO \"\"''\r\n",
    };
    static struct result r;
    size_t i;

    (void)state;
    /* the last case unescapes to a NUL: compared as bytes */
    for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        feed3(ok[i].in, strlen(ok[i].in), 0, &r);
        assert_int_equal(r.last, PROTO_NEED_MORE);
        assert_int_equal(r.ncmd, 1);
        if (i + 1 < sizeof(ok) / sizeof(ok[0]))
            assert_string_equal(r.log, ok[i].log);
    }
    assert_int_equal(r.loglen, 12);
    assert_memory_equal(r.log, "4:ECHO,1:\0,;", 12);
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        expect(bad[i], strlen(bad[i]), "", PROTO_ERR,
               "ERR Protocol error: unbalanced quotes in request");
}

/* ---- POST / Host: -------------------------------------------------------- */

static void test_http_close_silent(void **state)
{
    (void)state;
    expect(S("POST / HTTP/1.1\r\n"), "", PROTO_CLOSE_SILENT, NULL);
    expect(S("Host: x\r\n"), "", PROTO_CLOSE_SILENT, NULL);
    expect(S("*1\r\n$4\r\npOsT\r\n"), "", PROTO_CLOSE_SILENT, NULL);
    expect(S("*1\r\n$5\r\nHOST:\r\n"), "", PROTO_CLOSE_SILENT, NULL);
    /* Redis compares with strcasecmp: a NUL ends argv[0] */
    expect(S("*2\r\n$6\r\npost\0x\r\n$1\r\na\r\n"), "", PROTO_CLOSE_SILENT, NULL);
    /* earlier commands come out first */
    expect(S("PING\r\nhost: x\r\nPING\r\n"), "4:PING,;", PROTO_CLOSE_SILENT, NULL);
    /* near misses are ordinary commands */
    expect(S("POSTS\r\nHOST\r\n\"post\"x y\r\n"), "5:POSTS,;4:HOST,;", PROTO_ERR,
           "ERR Protocol error: unbalanced quotes in request");
    expect(S("GET post\r\n"), "3:GET,4:post,;", PROTO_NEED_MORE, NULL);
}

/* ---- buffer handling ----------------------------------------------------- */

static void test_pipeline_many(void **state)
{
    static const char one[] = "*2\r\n$4\r\nINCR\r\n$3\r\nctr\r\nINCR ctr\r\n";
    const size_t reps = 2000;
    size_t n = (sizeof(one) - 1) * reps, i, off = 0, cmds = 0;
    char *in = malloc(n);
    struct proto_parser p;

    (void)state;
    assert_non_null(in);
    for (i = 0; i < reps; i++)
        memcpy(in + i * (sizeof(one) - 1), one, sizeof(one) - 1);
    proto_parser_init(&p);
    for (;;) {
        size_t used, argc;
        struct proto_arg *argv;
        enum proto_rc rc = proto_parse(&p, in + off, n - off, &used, &argc, &argv);

        if (rc == PROTO_NEED_MORE) {
            assert_int_equal(used, 0);
            break;
        }
        assert_int_equal(rc, PROTO_CMD);
        assert_int_equal(argc, 2);
        assert_memory_equal(argv[0].ptr, "INCR", 4);
        assert_memory_equal(argv[1].ptr, "ctr", 3);
        off += used;
        cmds++;
    }
    assert_int_equal(cmds, 2 * reps);
    assert_int_equal(off, n);
    proto_parser_free(&p);
    free(in);
}

static void test_used_counts_skipped_lines(void **state)
{
    struct proto_parser p;
    char in[] = "\r\n\r\n*0\r\n*1\r\n$4\r\nPI";
    size_t used = 99, argc;
    struct proto_arg *argv;

    (void)state;
    proto_parser_init(&p);
    assert_int_equal(proto_parse(&p, in, sizeof(in) - 1, &used, &argc, &argv),
                     PROTO_NEED_MORE);
    assert_int_equal(used, 8);     /* two blank lines and "*0\r\n" may go */
    /* the caller drops them and presents the rest, moved */
    {
        char more[] = "*1\r\n$4\r\nPING\r\n";

        assert_int_equal(proto_parse(&p, more, sizeof(more) - 1, &used, &argc, &argv),
                         PROTO_CMD);
        assert_int_equal(used, sizeof(more) - 1);
        assert_int_equal(argc, 1);
        assert_ptr_equal(argv[0].ptr, more + 8);
    }
    proto_parser_free(&p);
}

static void test_huge_bulk_in_chunks(void **state)
{
    const size_t big = 8 * 1024 * 1024;
    char hdr[64];
    int hl = snprintf(hdr, sizeof(hdr), "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$%zu\r\n", big);
    size_t total = (size_t)hl + big + 2, fed = 0, have = 0, calls = 0;
    char *buf = NULL;
    struct proto_parser p;
    size_t used, argc;
    struct proto_arg *argv;
    enum proto_rc rc = PROTO_NEED_MORE;

    (void)state;
    proto_parser_init(&p);
    while (fed < total) {
        size_t c = total - fed < 65536 ? total - fed : 65536, i;
        char *nb = malloc(have + c);    /* a new block every read */

        assert_non_null(nb);
        if (have)
            memcpy(nb, buf, have);
        for (i = 0; i < c; i++) {
            size_t at = fed + i;
            nb[have + i] = at < (size_t)hl ? hdr[at] :
                           at < (size_t)hl + big ? (char)('a' + at % 26) : "\r\n"[at - hl - big];
        }
        free(buf);
        buf = nb;
        have += c;
        fed += c;
        rc = proto_parse(&p, buf, have, &used, &argc, &argv);
        calls++;
        if (rc == PROTO_NEED_MORE) {
            /* after the header, the parser only waits for the length */
            if (fed > (size_t)hl)
                assert_int_equal(p.pos, (size_t)hl);
            memmove(buf, buf + used, have - used);
            have -= used;
        }
    }
    assert_int_equal(rc, PROTO_CMD);
    assert_int_equal(argc, 3);
    assert_int_equal(argv[2].len, big);
    assert_int_equal(argv[2].ptr[0], 'a' + (size_t)hl % 26);
    assert_int_equal(used, total);
    assert_true(calls > 100);
    free(buf);
    proto_parser_free(&p);
}

static void test_max_bulk_len_override(void **state)
{
    (void)state;
    static struct result r;

    /* proto-max-bulk-len 1mb: 1048576 allowed, one more refused (Redis) */
    feed3(S("*1\r\n$1048576\r\n"), 1048576, &r);
    assert_int_equal(r.last, PROTO_NEED_MORE);
    feed3(S("*1\r\n$1048577\r\n"), 1048576, &r);
    assert_int_equal(r.last, PROTO_ERR);
    assert_string_equal(r.msg, "ERR Protocol error: invalid bulk length");
    feed3(S("*1\r\n$5\r\nhello\r\n"), 4, &r);
    assert_int_equal(r.last, PROTO_ERR);
    feed3(S("*1\r\n$4\r\nPING\r\n"), 4, &r);
    assert_string_equal(r.log, "4:PING,;");
}

/* One whole-buffer parse with the unauthenticated limits on or off. */
static enum proto_rc parse_once(const char *in, size_t n, bool unauth, char *msg, size_t cap)
{
    struct proto_parser p;
    char *buf = malloc(n + 1);
    size_t used = 0, argc = 0;
    struct proto_arg *argv = NULL;
    enum proto_rc rc;

    assert_non_null(buf);
    memcpy(buf, in, n);
    proto_parser_init(&p);
    p.unauth = unauth;
    rc = proto_parse(&p, buf, n, &used, &argc, &argv);
    proto_strerror(&p, msg, cap);
    proto_parser_free(&p);
    free(buf);
    return rc;
}

/* Before AUTH: 10 arguments of 16 KB at most, with Redis's own errors
 * (CVE-2021-32675); the ordinary limits are checked first. */
static void test_unauth_limits(void **state)
{
    (void)state;
    char msg[128];

    assert_int_equal(parse_once(S("*11\r\n"), true, msg, sizeof(msg)), PROTO_ERR);
    assert_string_equal(msg, "ERR Protocol error: unauthenticated multibulk length");
    assert_int_equal(parse_once(S("*11\r\n"), false, msg, sizeof(msg)), PROTO_NEED_MORE);
    assert_int_equal(parse_once(S("*10\r\n$16384\r\n"), true, msg, sizeof(msg)), PROTO_NEED_MORE);
    assert_int_equal(parse_once(S("*10\r\n$16385\r\n"), true, msg, sizeof(msg)), PROTO_ERR);
    assert_string_equal(msg, "ERR Protocol error: unauthenticated bulk length");
    assert_int_equal(parse_once(S("*1\r\n$16385\r\n"), false, msg, sizeof(msg)), PROTO_NEED_MORE);
    /* invalid before unauthenticated */
    assert_int_equal(parse_once(S("*2147483648\r\n"), true, msg, sizeof(msg)), PROTO_ERR);
    assert_string_equal(msg, "ERR Protocol error: invalid multibulk length");
    assert_int_equal(parse_once(S("*1\r\n$-5\r\n"), true, msg, sizeof(msg)), PROTO_ERR);
    assert_string_equal(msg, "ERR Protocol error: invalid bulk length");
    /* small commands go through */
    assert_int_equal(parse_once(S("*2\r\n$4\r\nAUTH\r\n$2\r\npw\r\n"), true, msg, sizeof(msg)),
                     PROTO_CMD);
}

static void test_many_args_then_small(void **state)
{
    const size_t nargs = 5000;
    size_t cap = nargs * 8 + 64, n = 0, i, used, argc;
    char *in = malloc(cap);
    struct proto_parser p;
    struct proto_arg *argv;

    (void)state;
    assert_non_null(in);
    n += (size_t)sprintf(in + n, "*%zu\r\n", nargs);
    for (i = 0; i < nargs; i++)
        n += (size_t)sprintf(in + n, "$1\r\n%c\r\n", (int)('a' + i % 26));
    n += (size_t)sprintf(in + n, "PING\r\n");
    proto_parser_init(&p);
    assert_int_equal(proto_parse(&p, in, n, &used, &argc, &argv), PROTO_CMD);
    assert_int_equal(argc, nargs);
    assert_int_equal(argv[nargs - 1].ptr[0], 'a' + (nargs - 1) % 26);
    assert_int_equal(proto_parse(&p, in + used, n - used, &used, &argc, &argv), PROTO_CMD);
    assert_int_equal(argc, 1);
    assert_true(p.argcap <= 1024);  /* the big arrays were given back */
    proto_parser_free(&p);
    free(in);
}

static void test_reset_and_empty(void **state)
{
    struct proto_parser p;
    size_t used = 7, argc;
    struct proto_arg *argv;
    char in[] = "*1\r\n$4\r\nPI";
    char other[] = "PING\r\n";

    (void)state;
    proto_parser_init(&p);
    assert_int_equal(proto_parse(&p, NULL, 0, &used, &argc, &argv), PROTO_NEED_MORE);
    assert_int_equal(used, 0);
    assert_int_equal(proto_parse(&p, in, sizeof(in) - 1, &used, &argc, &argv),
                     PROTO_NEED_MORE);
    proto_parser_reset(&p);     /* caller dropped its buffer */
    assert_int_equal(proto_parse(&p, other, sizeof(other) - 1, &used, &argc, &argv), PROTO_CMD);
    assert_int_equal(argc, 1);
    proto_parser_free(&p);
    proto_parser_free(&p);      /* idempotent */
}

static void test_strerror(void **state)
{
    struct proto_parser p;
    char out[64];

    (void)state;
    proto_parser_init(&p);
    p.err = PROTO_E_EXPECTED_DOLLAR;
    p.err_char = '\n';
    assert_string_equal(proto_strerror(&p, out, sizeof(out)),
                        "ERR Protocol error: expected '$', got ' '");
    p.err_char = '#';
    assert_string_equal(proto_strerror(&p, out, sizeof(out)),
                        "ERR Protocol error: expected '$', got '#'");
    p.err = PROTO_E_NOMEM;
    assert_true(strncmp(proto_strerror(&p, out, sizeof(out)), "OOM ", 4) == 0);
    proto_parser_free(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mbulk_basic),
        cmocka_unit_test(test_mbulk_empty_commands_skipped),
        cmocka_unit_test(test_mbulk_unchecked_terminators),
        cmocka_unit_test(test_mbulk_binary_safe),
        cmocka_unit_test(test_mbulk_count_limit),
        cmocka_unit_test(test_mbulk_errors),
        cmocka_unit_test(test_mbulk_waits_for_line_end),
        cmocka_unit_test(test_nul_stalls_header),
        cmocka_unit_test(test_too_big_limits),
        cmocka_unit_test(test_inline_basic),
        cmocka_unit_test(test_inline_quotes),
        cmocka_unit_test(test_http_close_silent),
        cmocka_unit_test(test_pipeline_many),
        cmocka_unit_test(test_used_counts_skipped_lines),
        cmocka_unit_test(test_huge_bulk_in_chunks),
        cmocka_unit_test(test_max_bulk_len_override),
        cmocka_unit_test(test_unauth_limits),
        cmocka_unit_test(test_many_args_then_small),
        cmocka_unit_test(test_reset_and_empty),
        cmocka_unit_test(test_strerror),
    };

    return cmocka_run_group_tests_name("proto_resp_parse", tests, NULL, NULL);
}
