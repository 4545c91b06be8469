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
#include <stdlib.h>
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

/* Redis 7.0's error replies that several test files expect, byte for byte
 * (taken from redis-server, not from mmcache's own sources). */
#define WRONGTYPE "WRONGTYPE Operation against a key holding the wrong kind of value"
#define WRONGPASS "WRONGPASS invalid username-password pair or user is disabled."
#define NOPERM_KEYS "NOPERM this user has no permissions to access one of the keys used as arguments"

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

/* ---- arrays ---------------------------------------------------------------- */

static inline int chk_cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* One element as text: a string, "(nil)", an integer, "[a b]" for a
 * nested array. Caller frees. */
static inline char *chk_elem(const redisReply *e)
{
    char *s = NULL;

    switch (e->type) {
    case REDIS_REPLY_NIL: return strdup("(nil)");
    case REDIS_REPLY_INTEGER:
        if (asprintf(&s, "%lld", e->integer) < 0)
            s = NULL;
        return s;
    case REDIS_REPLY_ARRAY: {
        size_t cap = 64, used = 1;
        s = malloc(cap);
        strcpy(s, "[");
        for (size_t i = 0; i < e->elements; i++) {
            char *x = chk_elem(e->element[i]);
            size_t n = strlen(x) + 2;
            if (used + n + 1 > cap)
                s = realloc(s, cap = 2 * (used + n + 1));
            used += (size_t)sprintf(s + used, "%s%s", i ? " " : "", x);
            free(x);
        }
        strcpy(s + used, "]");
        return s;
    }
    default:
        return strndup(e->str, e->len);
    }
}

/* The reply's elements as one string, "a b (nil) c" (sep between them);
 * pairs: "f=v f=v". sorted: in sorted order (for orders a hash or set does
 * not define). */
static inline void chk_join_sep(const redisReply *r, int pairs, int sorted, const char *sep,
                                char *out, size_t cap)
{
    char *items[4096];
    size_t n = 0, used = 0;

    assert_int_equal(r->type, REDIS_REPLY_ARRAY);
    for (size_t i = 0; i < r->elements && n < 4096; i += pairs ? 2 : 1) {
        char *s = chk_elem(r->element[i]);
        if (pairs) {
            char *v = chk_elem(r->element[i + 1]), *p;
            assert_true(asprintf(&p, "%s=%s", s, v) > 0);
            free(s);
            free(v);
            s = p;
        }
        items[n++] = s;
    }
    if (sorted)
        qsort(items, n, sizeof(items[0]), chk_cmp_str);
    out[0] = 0;
    for (size_t i = 0; i < n; i++) {
        used += (size_t)snprintf(out + used, used < cap ? cap - used : 0, "%s%s",
                                 i ? sep : "", items[i]);
        free(items[i]);
    }
}

static inline void chk_joined(const redisReply *r, int pairs, int sorted, char *out,
                              size_t cap)
{
    chk_join_sep(r, pairs, sorted, " ", out, cap);
}

/* The reply to a command that answers an array (ACL LIST's lines hold
 * blanks), joined with ',' into a static buffer. */
static inline const char *chk_joined_cmd(redisContext *c, const char *cmd)
{
    static char out[8192];
    redisReply *r = CMD(c, cmd);

    chk_join_sep(r, 0, 0, ",", out, sizeof(out));
    freeReplyObject(r);
    return out;
}

/* Every key a whole SCAN with `opts` (e.g. "COUNT 100 TYPE hash") returns,
 * sorted, space-separated, into out. A SCAN is iterated to cursor 0: COUNT
 * bounds one call's work, not what it covers (mmcache's keys lie in 1024
 * shards, placed by a hash seeded at start). */
static inline void chk_scan_all(redisContext *c, const char *opts, char *out, size_t cap)
{
    char *items[4096], fmt[256], cursor[32] = "0";
    size_t n = 0, used = 0;

    snprintf(fmt, sizeof(fmt), "SCAN %%s %s", opts);
    do {
        redisReply *r = redisCommand(c, fmt, cursor);
        assert_non_null(r);
        assert_int_equal(r->type, REDIS_REPLY_ARRAY);
        assert_int_equal(r->elements, 2);
        snprintf(cursor, sizeof(cursor), "%s", r->element[0]->str);
        for (size_t i = 0; i < r->element[1]->elements && n < 4096; i++)
            items[n++] = chk_elem(r->element[1]->element[i]);
        freeReplyObject(r);
    } while (strcmp(cursor, "0") != 0);
    qsort(items, n, sizeof(items[0]), chk_cmp_str);
    out[0] = 0;
    for (size_t i = 0; i < n; i++) {
        used += (size_t)snprintf(out + used, used < cap ? cap - used : 0, "%s%s",
                                 i ? " " : "", items[i]);
        free(items[i]);
    }
}

/* The array reply, joined as chk_joined does, must be `want`. */
#define EXPECT_ARRAY(c, want, pairs, sorted, ...)                             \
    do {                                                                      \
        char got_[8192];                                                      \
        redisReply *ra_ = CMD(c, __VA_ARGS__);                                \
        chk_joined(ra_, pairs, sorted, got_, sizeof(got_));                   \
        if (strcmp(got_, want) != 0)                                          \
            fail_msg("`%s`:\n  got  \"%s\"\n  want \"%s\"", #__VA_ARGS__,     \
                     got_, want);                                             \
        freeReplyObject(ra_);                                                 \
    } while (0)

/* Waits (bounded, 5 s) until INFO says n clients are blocked. */
static inline void chk_wait_blocked(redisContext *c, long long n)
{
    long long got = -1;
    for (int i = 0; i < 500; i++) {
        got = harness_info_ll(c, "blocked_clients");
        if (got == n)
            return;
        harness_sleep_ms(10);
    }
    fail_msg("blocked_clients is %lld, want %lld", got, n);
}

/* A test group's server with no options and a connection to it (adm),
 * started and stopped: 0, or -1 as cmocka's group setup wants. */
static inline int chk_group_start(struct harness_server *s, redisContext **adm)
{
    if (harness_start(s, NULL, NULL, NULL) != 0)
        return -1;
    *adm = harness_connect(s);
    return *adm ? 0 : -1;
}

static inline int chk_group_stop(struct harness_server *s, redisContext **adm)
{
    if (*adm)
        redisFree(*adm);
    *adm = NULL;
    return s->pid && harness_stop(s, 10000) != 0 ? -1 : 0;
}

/* An ACL test's fresh start, through the default user's adm: every other
 * user deleted, the keyspace (and, with log, ACL LOG) emptied. -1 when
 * adm has no server. */
static inline int chk_acl_reset(redisContext *adm, int log)
{
    redisReply *r = redisCommand(adm, "ACL USERS");
    if (r == NULL)
        return -1;
    for (size_t i = 0; i < r->elements; i++)
        if (strcmp(r->element[i]->str, "default") != 0)
            freeReplyObject(redisCommand(adm, "ACL DELUSER %s", r->element[i]->str));
    freeReplyObject(r);
    if (log)
        freeReplyObject(redisCommand(adm, "ACL LOG RESET"));
    freeReplyObject(redisCommand(adm, "FLUSHALL"));
    return 0;
}

/* A new connection to s, authenticated as user/pw. */
static inline redisContext *chk_connect_as(struct harness_server *s, const char *user,
                                           const char *pw)
{
    redisContext *c = harness_connect(s);
    assert_non_null(c);
    EXPECT_OK(c, "AUTH %s %s", user, pw);
    return c;
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
