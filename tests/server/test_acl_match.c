/*
 * server/acl/match.c: which commands and keys a user's rules allow, with
 * the keys found from the command table and judged by its key flags. The
 * expectations are Redis 7.0's (ACL DRYRUN against redis-server 7.0.15
 * gives the same answers; tests/integration/test_acl.c checks some of
 * them end to end on both servers).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "acl.h"

/* The server library's process state lives in main.c, which is not in
 * it; the command table refers to it. Unused here. */
struct srv srv;

static int setup(void **state)
{
    (void)state;
    srv_commands_init();
    return 0;
}

static struct srv_acl_rules *user(const char *words)
{
    struct srv_acl_rules *r = srv_acl_rules_new();
    char buf[1024], *save = NULL;

    snprintf(buf, sizeof(buf), "%s", words);
    for (char *w = strtok_r(buf, " ", &save); w; w = strtok_r(NULL, " ", &save))
        assert_int_equal(srv_acl_rules_apply(r, w, strlen(w)), 0);
    return r;
}

/* The verdict for a command line; *pos the refused key's index. */
static enum srv_acl_verdict check(const struct srv_acl_rules *r, const char *line, size_t *pos)
{
    char buf[512], *save = NULL;
    struct proto_arg argv[16];
    size_t argc = 0;
    const struct srv_command *cmd, *container;

    snprintf(buf, sizeof(buf), "%s", line);
    for (char *w = strtok_r(buf, " ", &save); w && argc < 16; w = strtok_r(NULL, " ", &save))
        argv[argc++] = (struct proto_arg){ w, strlen(w) };
    cmd = srv_command_resolve(argc, argv, &container);
    assert_non_null(cmd);
    *pos = 0;
    return srv_acl_rules_check(r, cmd, argc, argv, pos);
}

#define ALLOW(r, line) do { size_t p_; \
        if (check((r), (line), &p_) != SRV_ACL_OK) fail_msg("`%s` refused", (line)); } while (0)
#define DENY_CMD(r, line) do { size_t p_; \
        if (check((r), (line), &p_) != SRV_ACL_DENIED_CMD) fail_msg("`%s`: want a command refusal", (line)); } while (0)
#define DENY_KEY(r, line, at) do { size_t p_; \
        if (check((r), (line), &p_) != SRV_ACL_DENIED_KEY || p_ != (at)) \
            fail_msg("`%s`: want key %d refused, got verdict/pos %zu", (line), (at), p_); } while (0)

static void test_commands_and_categories(void **state)
{
    (void)state;
    struct srv_acl_rules *r = user("-@all +get ~*");
    ALLOW(r, "get k");
    DENY_CMD(r, "set k v");
    DENY_CMD(r, "config get maxmemory");
    srv_acl_rules_unref(r);

    r = user("+@all -config|set ~*");
    ALLOW(r, "config get maxmemory");
    DENY_CMD(r, "config set maxmemory 1");
    ALLOW(r, "set k v");
    srv_acl_rules_unref(r);

    r = user("+@all -config +config|get ~*");
    ALLOW(r, "config get x");
    DENY_CMD(r, "config set a b");
    DENY_CMD(r, "config resetstat");
    srv_acl_rules_unref(r);

    r = user("+@all -@dangerous ~*");
    ALLOW(r, "get k");
    ALLOW(r, "client id");
    DENY_CMD(r, "keys *");
    DENY_CMD(r, "flushall");
    DENY_CMD(r, "config get x");          /* @admin is @dangerous */
    DENY_CMD(r, "client list");
    DENY_CMD(r, "info");
    DENY_CMD(r, "debug sleep 0");
    srv_acl_rules_unref(r);

    r = user("-@all +@read ~*");
    ALLOW(r, "get k");
    ALLOW(r, "memory usage k");
    DENY_CMD(r, "del k");
    srv_acl_rules_unref(r);

    /* a container rule takes its subcommands along */
    r = user("-@all +client ~*");
    ALLOW(r, "client id");
    ALLOW(r, "client list");
    srv_acl_rules_unref(r);
}

static void test_no_auth_commands_always_run(void **state)
{
    (void)state;
    struct srv_acl_rules *r = user("nocommands");
    ALLOW(r, "hello 2");
    ALLOW(r, "quit");
    ALLOW(r, "reset");
    DENY_CMD(r, "ping");
    srv_acl_rules_unref(r);
}

static void test_key_patterns(void **state)
{
    (void)state;
    struct srv_acl_rules *r = user("+@all ~cache:*");
    ALLOW(r, "get cache:1");
    DENY_KEY(r, "get other", 1);
    ALLOW(r, "mget cache:a cache:b");
    DENY_KEY(r, "mget cache:a x cache:b", 2);
    DENY_KEY(r, "mset cache:a 1 other 2", 3);
    ALLOW(r, "mset cache:a 1 cache:b other");   /* values are not keys */
    ALLOW(r, "ping");                            /* no keys at all */
    DENY_KEY(r, "memory usage other", 2);
    ALLOW(r, "memory usage cache:x");
    DENY_KEY(r, "rename cache:a b", 2);
    srv_acl_rules_unref(r);

    r = user("+@all");                           /* no pattern: no key */
    DENY_KEY(r, "exists k", 1);
    ALLOW(r, "dbsize");
    srv_acl_rules_unref(r);

    r = user("+@all ~a?[bc]\\*");
    ALLOW(r, "get axb*");
    DENY_KEY(r, "get axbz", 1);
    srv_acl_rules_unref(r);
}

static void test_read_write_patterns(void **state)
{
    (void)state;
    struct srv_acl_rules *r = user("+@all %R~r:* %W~w:* %RW~rw:*");
    ALLOW(r, "get r:1");
    DENY_KEY(r, "get w:1", 1);
    ALLOW(r, "set w:1 v");
    DENY_KEY(r, "set r:1 v", 1);
    DENY_KEY(r, "set w:1 v GET", 1);             /* GET reads the old value */
    ALLOW(r, "set rw:1 v get");
    ALLOW(r, "set w:1 v EX 10");
    ALLOW(r, "exists w:1 r:1");                  /* reads no value */
    ALLOW(r, "type w:1");
    DENY_KEY(r, "incr w:1", 1);                  /* reads and writes */
    ALLOW(r, "incr rw:1");
    ALLOW(r, "del w:1");
    DENY_KEY(r, "del r:1", 1);
    ALLOW(r, "ttl r:1");
    ALLOW(r, "append w:1 x");
    ALLOW(r, "copy r:1 w:1");                    /* source read, destination written */
    DENY_KEY(r, "copy w:1 r:1", 1);
    DENY_KEY(r, "copy r:1 r:2", 2);
    DENY_KEY(r, "rename r:1 w:1", 1);            /* the source is deleted: written */
    ALLOW(r, "rename rw:1 w:2");
    ALLOW(r, "getdel rw:1");
    DENY_KEY(r, "getdel r:1", 1);
    srv_acl_rules_unref(r);
}

static void test_unrestricted_fast_path(void **state)
{
    (void)state;
    struct srv_acl_rules *r = srv_acl_rules_new_default();
    assert_true(srv_acl_rules_unrestricted(r));
    srv_acl_rules_unref(r);
    r = user("+@all ~*");
    assert_true(srv_acl_rules_unrestricted(r));
    srv_acl_rules_unref(r);
    /* a removal ends it, even when the bit comes back */
    r = user("+@all ~* -get +get");
    assert_false(srv_acl_rules_unrestricted(r));
    ALLOW(r, "get k");
    srv_acl_rules_unref(r);
    r = user("+@all ~k*");
    assert_false(srv_acl_rules_unrestricted(r));
    srv_acl_rules_unref(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_commands_and_categories),
        cmocka_unit_test(test_no_auth_commands_always_run),
        cmocka_unit_test(test_key_patterns),
        cmocka_unit_test(test_read_write_patterns),
        cmocka_unit_test(test_unrestricted_fast_path),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
