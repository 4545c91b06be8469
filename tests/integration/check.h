/*
 * check: reply assertions for the integration tests. Each macro sends one
 * command (hiredis format string) and fails the current cmocka test with
 * the command and the reply it got when the reply is not the expected one.
 *
 * Include after <cmocka.h>.
 */
#ifndef MMCACHE_CHECK_H
#define MMCACHE_CHECK_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "harness.h"

enum chk_kind { CHK_STATUS, CHK_ERROR, CHK_INT, CHK_BULK, CHK_NIL };

static inline const char *chk_type_name(int t)
{
    switch (t) {
    case REDIS_REPLY_STATUS: return "status";
    case REDIS_REPLY_ERROR: return "error";
    case REDIS_REPLY_INTEGER: return "integer";
    case REDIS_REPLY_STRING: return "bulk";
    case REDIS_REPLY_NIL: return "nil";
    case REDIS_REPLY_ARRAY: return "array";
    default: return "?";
    }
}

static inline void chk_describe(const redisReply *r, char *out, size_t cap)
{
    if (!r) {
        snprintf(out, cap, "(no reply)");
        return;
    }
    switch (r->type) {
    case REDIS_REPLY_INTEGER:
        snprintf(out, cap, "integer %lld", r->integer);
        break;
    case REDIS_REPLY_NIL:
        snprintf(out, cap, "nil");
        break;
    case REDIS_REPLY_ARRAY:
        snprintf(out, cap, "array of %zu", r->elements);
        break;
    default:
        snprintf(out, cap, "%s \"%.*s\"%s", chk_type_name(r->type),
                 (int)(r->len > 200 ? 200 : r->len), r->str,
                 r->len > 200 ? "..." : "");
    }
}

/* Returns 1 when the reply matches; prints a diagnosis otherwise. */
static inline int chk_reply(const char *file, int line, redisContext *c,
                     enum chk_kind kind, const char *str, size_t slen,
                     long long n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    redisReply *r = redisvCommand(c, fmt, ap);
    va_end(ap);
    int ok = 0;
    if (r) {
        switch (kind) {
        case CHK_STATUS:
            ok = r->type == REDIS_REPLY_STATUS && r->len == slen &&
                 memcmp(r->str, str, slen) == 0;
            break;
        case CHK_ERROR:
            ok = r->type == REDIS_REPLY_ERROR && r->len == slen &&
                 memcmp(r->str, str, slen) == 0;
            break;
        case CHK_BULK:
            ok = r->type == REDIS_REPLY_STRING && r->len == slen &&
                 memcmp(r->str, str, slen) == 0;
            break;
        case CHK_INT:
            ok = r->type == REDIS_REPLY_INTEGER && r->integer == n;
            break;
        case CHK_NIL:
            ok = r->type == REDIS_REPLY_NIL;
            break;
        }
    }
    if (!ok) {
        char got[300];
        chk_describe(r, got, sizeof(got));
        fprintf(stderr, "%s:%d: command `%s`\n  expected ", file, line, fmt);
        switch (kind) {
        case CHK_INT: fprintf(stderr, "integer %lld\n", n); break;
        case CHK_NIL: fprintf(stderr, "nil\n"); break;
        default:
            fprintf(stderr, "%s \"%.*s\"\n",
                    kind == CHK_STATUS ? "status" :
                    kind == CHK_ERROR ? "error" : "bulk",
                    (int)(slen > 200 ? 200 : slen), str);
        }
        fprintf(stderr, "  got      %s%s%s\n", got, c->err ? " / " : "",
                c->err ? c->errstr : "");
    }
    if (r)
        freeReplyObject(r);
    return ok;
}

#define CHK_(kind, s, sl, n, c, ...)                                        \
    do {                                                                    \
        if (!chk_reply(__FILE__, __LINE__, (c), (kind), (s), (sl), (n),     \
                       __VA_ARGS__))                                        \
            fail_msg("unexpected reply (see above)");                       \
    } while (0)

#define EXPECT_STATUS(c, s, ...) CHK_(CHK_STATUS, (s), strlen(s), 0, c, __VA_ARGS__)
#define EXPECT_OK(c, ...) EXPECT_STATUS(c, "OK", __VA_ARGS__)
#define EXPECT_ERR(c, s, ...) CHK_(CHK_ERROR, (s), strlen(s), 0, c, __VA_ARGS__)
#define EXPECT_INT(c, n, ...) CHK_(CHK_INT, "", 0, (n), c, __VA_ARGS__)
#define EXPECT_BULK(c, s, ...) CHK_(CHK_BULK, (s), strlen(s), 0, c, __VA_ARGS__)
#define EXPECT_BULKN(c, s, sl, ...) CHK_(CHK_BULK, (s), (sl), 0, c, __VA_ARGS__)
#define EXPECT_NIL(c, ...) CHK_(CHK_NIL, "", 0, 0, c, __VA_ARGS__)

/* Send a command and return its reply; fails the test when there is none
 * (connection error). Caller frees. */
#define CMD(c, ...)                                                         \
    ({                                                                      \
        redisReply *r_ = redisCommand((c), __VA_ARGS__);                    \
        if (!r_)                                                            \
            fail_msg("no reply to `%s`: %s", #__VA_ARGS__, (c)->errstr);    \
        r_;                                                                 \
    })

/* The reply to a command that answers an array of bulk strings, joined
 * with ',' ((nil) for a nil) into a static buffer. */
static inline const char *chk_joined(redisContext *c, const char *cmd)
{
    static char out[8192];
    redisReply *r = CMD(c, cmd);
    size_t used = 0;
    out[0] = '\0';
    assert_int_equal(r->type, REDIS_REPLY_ARRAY);
    for (size_t i = 0; i < r->elements && used < sizeof(out); i++)
        used += (size_t)snprintf(out + used, sizeof(out) - used, "%s%s", i ? "," : "",
                                 r->element[i]->type == REDIS_REPLY_NIL ? "(nil)" : r->element[i]->str);
    freeReplyObject(r);
    return out;
}

/* The harness's file helpers (harness.h), failing the test when they
 * fail. chk_read_file's text is the caller's to free. */
static inline char *chk_read_file(const char *path)
{
    char *text = harness_read_file(path);
    if (!text)
        fail_msg("cannot read %s", path);
    return text;
}

static inline void chk_write_file(const char *path, const char *text)
{
    if (harness_write_file(path, text) != 0)
        fail_msg("cannot write %s", path);
}

#endif
