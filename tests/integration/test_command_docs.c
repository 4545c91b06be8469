/*
 * test_command_docs: COMMAND DOCS, LIST, INFO and COUNT from the one
 * command table. The reply's shape is Redis 7.0's (RESP2: a flat array of
 * name, docs; each docs a flat map; arguments an array of flat maps), so
 * fields are looked up by name, and the same file passes under
 * MMCACHE_TEST_AGAINST=redis. The texts are ours: only their presence is
 * checked. redis-cli's use of them: test_redis_cli.sh (help set).
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
#include "cmd_fixture.h"
#include "harness.h"

/* The value after `field` in a flat map, or NULL. */
static const redisReply *map_get(const redisReply *m, const char *field)
{
    assert_int_equal(m->type, REDIS_REPLY_ARRAY);
    assert_int_equal(m->elements % 2, 0);
    for (size_t i = 0; i < m->elements; i += 2) {
        assert_int_equal(m->element[i]->type, REDIS_REPLY_STRING);
        if (strcmp(m->element[i]->str, field) == 0)
            return m->element[i + 1];
    }
    return NULL;
}

static const char *map_str(const redisReply *m, const char *field)
{
    const redisReply *v = map_get(m, field);

    assert_non_null(v);
    assert_int_equal(v->type, REDIS_REPLY_STRING);
    return v->str;
}

/* The argument named `name` in an arguments array. */
static const redisReply *arg_named(const redisReply *args, const char *name)
{
    assert_int_equal(args->type, REDIS_REPLY_ARRAY);
    for (size_t i = 0; i < args->elements; i++)
        if (strcmp(map_str(args->element[i], "name"), name) == 0)
            return args->element[i];
    fail_msg("no argument '%s'", name);
    return NULL;
}

/* The argument that carries `token` (Redis and we name some differently). */
static const redisReply *arg_with_token(const redisReply *args, const char *token)
{
    for (size_t i = 0; i < args->elements; i++) {
        const redisReply *t = map_get(args->element[i], "token");

        if (t != NULL && strcmp(t->str, token) == 0)
            return args->element[i];
    }
    fail_msg("no argument with token '%s'", token);
    return NULL;
}

static int has_flag(const redisReply *arg, const char *flag)
{
    const redisReply *f = map_get(arg, "flags");

    for (size_t i = 0; f != NULL && i < f->elements; i++)
        if (strcmp(f->element[i]->str, flag) == 0)
            return 1;
    return 0;
}

/* Every documented command has the four fields Redis always sends. */
static void check_docs_fields(const char *name, const redisReply *docs)
{
    static const char *const fields[] = {"summary", "since", "group", "complexity"};

    for (size_t i = 0; i < 4; i++) {
        const redisReply *v = map_get(docs, fields[i]);

        if (v == NULL && i == 3 && harness_is_redis())
            continue;   /* Redis leaves it out of a few (MONITOR) */
        if (v == NULL || v->type != REDIS_REPLY_STRING || v->len == 0)
            fail_msg("COMMAND DOCS %s: no %s", name, fields[i]);
    }
}

/* ---- raw replies: COMMAND DOCS nests deeper than hiredis 0.14 reads
 * (7 levels; CLIENT KILL's filter alone takes 10), so the every-command
 * check reads the RESP itself. */

/* Where the RESP value at p ends, or NULL when [p, end) holds only part. */
static const char *resp_end(const char *p, const char *end)
{
    const char *nl = p < end ? memchr(p, '\n', (size_t)(end - p)) : NULL;
    long long n;

    if (nl == NULL)
        return NULL;
    n = strtoll(p + 1, NULL, 10);
    if (*p == '$')
        return n < 0 ? nl + 1 : end - (nl + 1) >= n + 2 ? nl + 1 + n + 2 : NULL;
    if (*p == '*') {
        const char *q = nl + 1;

        for (long long i = 0; i < n && q != NULL; i++)
            q = resp_end(q, end);
        return q;
    }
    return nl + 1;
}

/* A bulk string at *p: its bytes and length; *p moves past it. */
static const char *resp_bulk(const char **p, long long *len)
{
    const char *nl = strchr(*p, '\n');

    assert_int_equal(**p, '$');
    *len = strtoll(*p + 1, NULL, 10);
    *p = nl + 1 + *len + 2;
    return nl + 1;
}

/* COMMAND DOCS name over fd: the docs map has summary, since, group and
 * (mmcache always, Redis nearly always) complexity, each a non-empty bulk. */
static void check_docs_raw(int fd, const char *name)
{
    static char buf[1 << 20];
    char req[256];
    size_t have = 0;
    const char *p, *end;
    long long pairs, len;
    int found = 0;

    snprintf(req, sizeof(req), "*3\r\n$7\r\nCOMMAND\r\n$4\r\nDOCS\r\n$%zu\r\n%s\r\n",
             strlen(name), name);
    assert_int_equal(harness_write_all(fd, req, strlen(req)), 0);
    do {
        ssize_t n = read(fd, buf + have, sizeof(buf) - 1 - have);

        if (n <= 0)
            fail_msg("COMMAND DOCS %s: no whole reply", name);
        have += (size_t)n;
        buf[have] = '\0';
    } while ((end = resp_end(buf, buf + have)) == NULL);
    assert_true(end == buf + have);
    if (strncmp(buf, "*2\r\n", 4) != 0)
        fail_msg("COMMAND DOCS %s: %.20s", name, buf);
    p = buf + 4;
    resp_bulk(&p, &len);
    assert_int_equal(*p, '*');
    pairs = strtoll(p + 1, NULL, 10) / 2;
    p = strchr(p, '\n') + 1;
    for (long long i = 0; i < pairs; i++) {
        const char *key = resp_bulk(&p, &len);
        int want = (len == 7 && memcmp(key, "summary", 7) == 0) ||
                   (len == 5 && memcmp(key, "since", 5) == 0) ||
                   (len == 5 && memcmp(key, "group", 5) == 0) ||
                   (len == 10 && memcmp(key, "complexity", 10) == 0);

        if (want) {
            resp_bulk(&p, &len);
            if (len <= 0)
                fail_msg("COMMAND DOCS %s: an empty field", name);
            found++;
        } else {
            p = resp_end(p, end);
        }
    }
    if (found < 4 && !(harness_is_redis() && found == 3))
        fail_msg("COMMAND DOCS %s: %d of its 4 fields", name, found);
}

static void test_docs_set(void **state)
{
    redisReply *r = CMD(c, "COMMAND DOCS set");
    const redisReply *docs, *args, *a;

    assert_int_equal(r->type, REDIS_REPLY_ARRAY);
    assert_int_equal(r->elements, 2);
    assert_string_equal(r->element[0]->str, "set");
    docs = r->element[1];
    check_docs_fields("set", docs);
    assert_string_equal(map_str(docs, "since"), "1.0.0");
    assert_string_equal(map_str(docs, "group"), "string");
    args = map_get(docs, "arguments");
    assert_non_null(args);
    a = arg_named(args, "key");
    assert_string_equal(map_str(a, "type"), "key");
    assert_int_equal(map_get(a, "key_spec_index")->integer, 0);
    assert_false(has_flag(a, "optional"));
    assert_string_equal(map_str(arg_named(args, "value"), "type"), "string");
    a = arg_named(args, "condition");
    assert_string_equal(map_str(a, "type"), "oneof");
    assert_true(has_flag(a, "optional"));
    a = arg_named(map_get(a, "arguments"), "nx");
    assert_string_equal(map_str(a, "type"), "pure-token");
    assert_string_equal(map_str(a, "token"), "NX");
    a = arg_named(args, "get");
    assert_string_equal(map_str(a, "token"), "GET");
    assert_true(has_flag(a, "optional"));
    a = arg_named(args, "expiration");
    a = arg_named(map_get(a, "arguments"), "seconds");
    assert_string_equal(map_str(a, "type"), "integer");
    assert_string_equal(map_str(a, "token"), "EX");
    freeReplyObject(r);
}

/* key [key ...]: one argument flagged multiple; a block of pairs. */
static void test_docs_multiple_and_block(void **state)
{
    redisReply *r = CMD(c, "COMMAND DOCS del mset");
    const redisReply *a;

    assert_int_equal(r->elements, 4);
    a = arg_named(map_get(r->element[1], "arguments"), "key");
    assert_true(has_flag(a, "multiple"));
    a = map_get(r->element[3], "arguments")->element[0];   /* the pairs */
    assert_string_equal(map_str(a, "type"), "block");
    assert_true(has_flag(a, "multiple"));
    assert_string_equal(map_str(arg_named(map_get(a, "arguments"), "key"), "type"), "key");
    freeReplyObject(r);
    /* ZRANGE's LIMIT: a block that carries the token */
    r = CMD(c, "COMMAND DOCS zrange");
    a = arg_with_token(map_get(r->element[1], "arguments"), "LIMIT");
    assert_string_equal(map_str(a, "type"), "block");
    assert_string_equal(map_str(a, "token"), "LIMIT");
    assert_int_equal(map_get(a, "arguments")->elements, 2);
    freeReplyObject(r);
}

/* A container's docs list its subcommands' docs, keyed by full name; a
 * full name asks for one subcommand; unknown names are left out. */
static void test_docs_subcommands(void **state)
{
    redisReply *r = CMD(c, "COMMAND DOCS config nosuch config|get CONFIG|SET nosuch|get");
    const redisReply *subs;
    int found = 0;

    assert_int_equal(r->type, REDIS_REPLY_ARRAY);
    assert_int_equal(r->elements, 6);
    assert_string_equal(r->element[0]->str, "config");
    subs = map_get(r->element[1], "subcommands");
    assert_non_null(subs);
    for (size_t i = 0; i < subs->elements; i += 2) {
        check_docs_fields(subs->element[i]->str, subs->element[i + 1]);
        found += strcmp(subs->element[i]->str, "config|get") == 0;
    }
    assert_int_equal(found, 1);
    assert_string_equal(r->element[2]->str, "config|get");
    assert_non_null(map_get(r->element[3], "arguments"));
    assert_string_equal(r->element[4]->str, "config|set");
    freeReplyObject(r);
    r = CMD(c, "COMMAND DOCS nosuch");
    assert_int_equal(r->type, REDIS_REPLY_ARRAY);
    assert_int_equal(r->elements, 0);
    freeReplyObject(r);
}

/* Every name COMMAND LIST gives is documented; top-level names are
 * COMMAND COUNT. (COMMAND DOCS with no names nests deeper than hiredis
 * 0.14 reads; redis-cli's help, built from it, is test_redis_cli.sh's.) */
static void test_every_command_documented(void **state)
{
    redisReply *list = CMD(c, "COMMAND LIST");
    redisReply *count = CMD(c, "COMMAND COUNT");
    int fd = harness_raw_connect(srv.port, 5000);
    long long top = 0;

    assert_true(fd >= 0);
    assert_int_equal(list->type, REDIS_REPLY_ARRAY);
    assert_true(list->elements > 100);
    for (size_t i = 0; i < list->elements; i++) {
        const char *name = list->element[i]->str;
        check_docs_raw(fd, name);
        top += strchr(name, '|') == NULL;
    }
    close(fd);
    assert_int_equal(count->integer, top);
    freeReplyObject(list);
    freeReplyObject(count);
}

/* FILTERBY ACLCAT lists exactly the commands COMMAND INFO puts in it. */
static void test_list_filterby(void **state)
{
    redisReply *r = CMD(c, "COMMAND LIST FILTERBY ACLCAT hash");
    redisReply *all = CMD(c, "COMMAND LIST");
    size_t hash = 0;

    assert_true(r->elements >= 15);
    for (size_t i = 0; i < all->elements; i++) {
        const char *name = all->element[i]->str;
        redisReply *info = CMD(c, "COMMAND INFO %s", name);
        const redisReply *cats = info->element[0]->element[6];
        int in = 0, listed = 0;

        for (size_t j = 0; j < cats->elements; j++)
            in |= strcmp(cats->element[j]->str, "@hash") == 0;
        for (size_t j = 0; j < r->elements; j++)
            listed |= strcmp(r->element[j]->str, name) == 0;
        if (in != listed)
            fail_msg("%s: @hash %d, listed %d", name, in, listed);
        hash += in;
        freeReplyObject(info);
    }
    assert_int_equal(hash, r->elements);
    freeReplyObject(r);
    freeReplyObject(all);
    r = CMD(c, "COMMAND LIST FILTERBY ACLCAT HASH");   /* any case */
    assert_int_equal(r->elements, hash);
    freeReplyObject(r);
    r = CMD(c, "COMMAND LIST FILTERBY ACLCAT nosuchcategory");
    assert_int_equal(r->type, REDIS_REPLY_ARRAY);
    assert_int_equal(r->elements, 0);
    freeReplyObject(r);
    r = CMD(c, "COMMAND LIST FILTERBY MODULE nosuchmodule");
    assert_int_equal(r->elements, 0);
    freeReplyObject(r);
    r = CMD(c, "COMMAND LIST FILTERBY PATTERN config|g*");
    assert_int_equal(r->elements, 1);
    assert_string_equal(r->element[0]->str, "config|get");
    freeReplyObject(r);
    EXPECT_ERR(c, "ERR syntax error", "COMMAND LIST FILTERBY nosuch x");
    EXPECT_ERR(c, "ERR syntax error", "COMMAND LIST FILTERBY ACLCAT");
    EXPECT_ERR(c, "ERR syntax error", "COMMAND LIST x");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup(f, test_setup)
        T(test_docs_set),
        T(test_docs_multiple_and_block),
        T(test_docs_subcommands),
        T(test_every_command_documented),
        T(test_list_filterby),
#undef T
    };
    int failed = cmocka_run_group_tests_name("integration/command_docs", tests,
                                             group_setup, group_teardown);
    return harness_finish(failed);
}
