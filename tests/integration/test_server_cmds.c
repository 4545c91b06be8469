/*
 * test_server_cmds: connection and server commands (PING/ECHO, unknown
 * commands and wrong arity, SELECT, INFO and its counters, CLIENT, HELLO,
 * CONFIG GET, COMMAND/TIME/DEBUG/MEMORY, QUIT), through hiredis against
 * one server started for the group. Expected replies and error strings are
 * Redis 7's: the same file passes under MMCACHE_TEST_AGAINST=redis.
 *
 * Each test starts from an empty keyspace (cmd_fixture.h).
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "check.h"
#include "cmd_fixture.h"
#include "harness.h"

/* ---- connection, errors ---- */

static void test_ping_echo(void **state)
{
    EXPECT_STATUS(c, "PONG", "PING");
    EXPECT_BULK(c, "hello", "PING hello");
    EXPECT_ERR(c, "ERR wrong number of arguments for 'ping' command", "PING a b");
    EXPECT_BULK(c, "x y", "ECHO %s", "x y");
    EXPECT_BULK(c, "", "ECHO %s", "");
    EXPECT_ERR(c, "ERR wrong number of arguments for 'echo' command", "ECHO");
    EXPECT_ERR(c, "ERR wrong number of arguments for 'echo' command", "ECHO a b");
}

static void test_unknown_command(void **state)
{
    EXPECT_ERR(c, "ERR unknown command 'foo', with args beginning with: 'a' 'b' ",
               "foo a b");
    EXPECT_ERR(c, "ERR unknown command 'FOO', with args beginning with: ", "FOO");
    /* the connection is still usable */
    EXPECT_STATUS(c, "PONG", "PING");
}

static void test_wrong_arity(void **state)
{
    static const char *const cases[][2] = {
        {"GET", "get"},          {"GET a b", "get"},     {"SET k", "set"},
        {"MSET a", "mset"},      {"MSET a b c", "mset"}, {"DEL", "del"},
        {"INCR", "incr"},        {"INCRBY k", "incrby"}, {"EXPIRE k", "expire"},
        {"TTL", "ttl"},          {"MGET", "mget"},       {"SETEX k 10", "setex"},
        {"GETRANGE k 0", "getrange"}, {"RENAME a", "rename"},
        {"STRLEN", "strlen"},    {"APPEND k", "append"}, {"EXISTS", "exists"},
        {"DBSIZE x", "dbsize"},  {"SELECT", "select"},   {"MSETNX a", "msetnx"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char want[128];
        snprintf(want, sizeof(want),
                 "ERR wrong number of arguments for '%s' command", cases[i][1]);
        EXPECT_ERR(c, want, cases[i][0]);
    }
}

static void test_select(void **state)
{
    EXPECT_OK(c, "SELECT 0");
    EXPECT_ERR(c, "ERR DB index is out of range", "SELECT 1");
    EXPECT_ERR(c, "ERR value is not an integer or out of range", "SELECT abc");
    EXPECT_OK(c, "SET k v");            /* still on db 0 */
    EXPECT_BULK(c, "v", "GET k");
}

/* ---- server and connection commands ---- */

static int info_has(const char *info, const char *field)
{
    size_t fl = strlen(field);
    for (const char *p = info; p && *p;) {
        if (strncmp(p, field, fl) == 0 && p[fl] == ':')
            return 1;
        p = strchr(p, '\n');
        if (p)
            p++;
    }
    return 0;
}

static void test_info_fields(void **state)
{
    static const char *const fields[] = {
        "redis_version", "process_id", "tcp_port", "connected_clients",
        "used_memory", "maxmemory", "mem_allocator",
        "total_commands_processed", "instantaneous_ops_per_sec",
        "keyspace_hits", "keyspace_misses", "evicted_keys", "expired_keys",
    };
    EXPECT_OK(c, "MSET a 1 b 2 c 3");
    EXPECT_OK(c, "SET t v EX 100");
    redisReply *r = CMD(c, "INFO");
    assert_true(r->type == REDIS_REPLY_STRING);
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
        if (!info_has(r->str, fields[i]))
            fail_msg("INFO lacks %s", fields[i]);
    assert_non_null(strstr(r->str, "\r\ndb0:keys=4,expires=1,"));
    freeReplyObject(r);
    assert_int_equal(harness_info_ll(c, "process_id"), srv.pid);
    assert_int_equal(harness_info_ll(c, "tcp_port"), srv.port);
    assert_int_equal(harness_info_ll(c, "maxmemory"), 100LL * 1024 * 1024);
    assert_true(harness_info_ll(c, "used_memory") > 0);
    assert_true(harness_info_ll(c, "connected_clients") >= 1);
    long long cmds = harness_info_ll(c, "total_commands_processed");
    EXPECT_STATUS(c, "PONG", "PING");
    EXPECT_STATUS(c, "PONG", "PING");
    /* the INFO itself counts once it has run: at least 2 more, at most 3 */
    long long cmds2 = harness_info_ll(c, "total_commands_processed");
    assert_true(cmds2 - cmds >= 2 && cmds2 - cmds <= 3);

    /* sections */
    r = CMD(c, "INFO keyspace");
    assert_non_null(strstr(r->str, "# Keyspace"));
    assert_null(strstr(r->str, "used_memory:"));
    freeReplyObject(r);
    r = CMD(c, "INFO server");
    assert_non_null(strstr(r->str, "redis_version:"));
    freeReplyObject(r);
}

static void test_info_hits_misses(void **state)
{
    EXPECT_OK(c, "MSET h1 a h2 b");
    long long hits = harness_info_ll(c, "keyspace_hits");
    long long misses = harness_info_ll(c, "keyspace_misses");
    assert_true(hits >= 0 && misses >= 0);
    EXPECT_BULK(c, "a", "GET h1");
    EXPECT_BULK(c, "a", "GET h1");
    EXPECT_BULK(c, "b", "GET h2");
    EXPECT_NIL(c, "GET nope1");
    EXPECT_NIL(c, "GET nope2");
    assert_int_equal(harness_info_ll(c, "keyspace_hits") - hits, 3);
    assert_int_equal(harness_info_ll(c, "keyspace_misses") - misses, 2);
    /* writes and PINGs move neither */
    EXPECT_OK(c, "SET h3 c");
    EXPECT_STATUS(c, "PONG", "PING");
    assert_int_equal(harness_info_ll(c, "keyspace_hits") - hits, 3);
    assert_int_equal(harness_info_ll(c, "keyspace_misses") - misses, 2);
}

static void test_expired_keys_counter(void **state)
{
    long long before = harness_info_ll(c, "expired_keys");
    EXPECT_OK(c, "SET x1 v PX 50");
    EXPECT_OK(c, "SET x2 v PX 50");
    harness_sleep_ms(200);
    EXPECT_NIL(c, "GET x1");
    EXPECT_NIL(c, "GET x2");
    assert_int_equal(harness_info_ll(c, "expired_keys") - before, 2);
}

static void test_client_commands(void **state)
{
    redisContext *c2 = harness_connect(&srv);
    assert_non_null(c2);
    EXPECT_NIL(c2, "CLIENT GETNAME");
    EXPECT_OK(c2, "CLIENT SETNAME worker-7");
    EXPECT_BULK(c2, "worker-7", "CLIENT GETNAME");
    EXPECT_ERR(c2, "ERR Client names cannot contain spaces, newlines or special characters.",
               "CLIENT SETNAME %s", "a b");
    EXPECT_BULK(c2, "worker-7", "CLIENT GETNAME");
    redisReply *r = CMD(c2, "CLIENT ID");
    assert_int_equal(r->type, REDIS_REPLY_INTEGER);
    long long id = r->integer;
    assert_true(id > 0);
    freeReplyObject(r);
    r = CMD(c, "CLIENT ID");
    assert_true(r->integer != id);
    freeReplyObject(r);

    r = CMD(c, "CLIENT LIST");
    assert_int_equal(r->type, REDIS_REPLY_STRING);
    char want[64];
    snprintf(want, sizeof(want), "id=%lld addr=127.0.0.1:", id);
    char *line = strstr(r->str, want);
    assert_non_null(line);
    char *eol = strchr(line, '\n');
    assert_non_null(eol);
    *eol = '\0';
    assert_non_null(strstr(line, " name=worker-7 "));
    freeReplyObject(r);
    /* empty name clears it */
    EXPECT_OK(c2, "CLIENT SETNAME %s", "");
    EXPECT_NIL(c2, "CLIENT GETNAME");
    redisFree(c2);
}

static void test_hello(void **state)
{
    redisReply *r = CMD(c, "HELLO 2");
    assert_int_equal(r->type, REDIS_REPLY_ARRAY);
    assert_true(r->elements >= 10 && r->elements % 2 == 0);
    int have_proto = 0, have_id = 0, have_version = 0;
    for (size_t i = 0; i + 1 < r->elements; i += 2) {
        const char *k = r->element[i]->str;
        redisReply *v = r->element[i + 1];
        if (strcmp(k, "proto") == 0) {
            assert_int_equal(v->type, REDIS_REPLY_INTEGER);
            assert_int_equal(v->integer, 2);
            have_proto = 1;
        } else if (strcmp(k, "id") == 0) {
            assert_int_equal(v->type, REDIS_REPLY_INTEGER);
            have_id = 1;
        } else if (strcmp(k, "version") == 0) {
            have_version = 1;
        }
    }
    assert_true(have_proto && have_id && have_version);
    freeReplyObject(r);
    EXPECT_ERR(c, "NOPROTO unsupported protocol version", "HELLO 4");
    EXPECT_STATUS(c, "PONG", "PING");   /* still RESP2 */
}

static void test_config_get(void **state)
{
    redisReply *r = CMD(c, "CONFIG GET maxmemory");
    assert_int_equal(r->type, REDIS_REPLY_ARRAY);
    assert_int_equal(r->elements, 2);
    assert_string_equal(r->element[0]->str, "maxmemory");
    assert_string_equal(r->element[1]->str, "104857600");
    freeReplyObject(r);
    r = CMD(c, "CONFIG GET maxmemory-policy");
    assert_int_equal(r->elements, 2);
    freeReplyObject(r);
    r = CMD(c, "CONFIG GET no-such-setting");
    assert_int_equal(r->type, REDIS_REPLY_ARRAY);
    assert_int_equal(r->elements, 0);
    freeReplyObject(r);
    EXPECT_ERR(c, "ERR wrong number of arguments for 'config|get' command", "CONFIG GET");
}

static void test_command_time_debug_memory(void **state)
{
    redisReply *r = CMD(c, "COMMAND");
    assert_int_equal(r->type, REDIS_REPLY_ARRAY);
    size_t ncmds = r->elements;
    int have_get = 0;
    for (size_t i = 0; i < r->elements; i++) {
        redisReply *e = r->element[i];
        assert_int_equal(e->type, REDIS_REPLY_ARRAY);
        if (strcmp(e->element[0]->str, "get") == 0) {
            have_get = 1;
            assert_int_equal(e->element[1]->integer, 2);     /* arity */
        }
    }
    assert_true(have_get && ncmds >= 50);
    freeReplyObject(r);
    EXPECT_INT(c, (long long)ncmds, "COMMAND COUNT");

    r = CMD(c, "TIME");
    assert_int_equal(r->type, REDIS_REPLY_ARRAY);
    assert_int_equal(r->elements, 2);
    long long secs = atoll(r->element[0]->str);
    long long usecs = atoll(r->element[1]->str);
    assert_true(llabs(secs - (long long)time(NULL)) <= 2);
    assert_true(usecs >= 0 && usecs < 1000000);
    freeReplyObject(r);

    long long t0 = harness_now_ms();
    EXPECT_OK(c, "DEBUG SLEEP 0.2");
    assert_true(harness_now_ms() - t0 >= 190);
    EXPECT_OK(c, "DEBUG SLEEP 0");

    EXPECT_OK(c, "SET m %s", "0123456789012345678901234567890123456789");
    r = CMD(c, "MEMORY USAGE m");
    assert_int_equal(r->type, REDIS_REPLY_INTEGER);
    assert_true(r->integer >= 40 && r->integer < 4096);
    freeReplyObject(r);
    EXPECT_NIL(c, "MEMORY USAGE missing");
}

/* Containers and their subcommands, resolved as Redis 7 does. */
static void test_subcommands(void **state)
{
    EXPECT_ERR(c, "ERR unknown subcommand 'foo'. Try CONFIG HELP.", "CONFIG foo");
    EXPECT_ERR(c, "ERR unknown subcommand 'nope'. Try COMMAND HELP.", "COMMAND nope");
    EXPECT_ERR(c, "ERR unknown subcommand 'x'. Try CLIENT HELP.", "client x y z");
    EXPECT_ERR(c, "ERR wrong number of arguments for 'config' command", "CONFIG");
    EXPECT_ERR(c, "ERR wrong number of arguments for 'client|id' command", "CLIENT ID x");
    EXPECT_ERR(c, "ERR wrong number of arguments for 'memory|usage' command", "MEMORY usage");

    redisReply *r = CMD(c, "COMMAND INFO config|get CONFIG nosuch|get");
    assert_int_equal(r->type, REDIS_REPLY_ARRAY);
    assert_int_equal(r->elements, 3);
    redisReply *get = r->element[0], *conf = r->element[1];
    assert_string_equal(get->element[0]->str, "config|get");
    assert_int_equal(get->element[1]->integer, -3);
    assert_string_equal(conf->element[0]->str, "config");
    assert_true(conf->elements >= 10);
    int have_get = 0;
    for (size_t i = 0; i < conf->element[9]->elements; i++)
        have_get |= strcmp(conf->element[9]->element[i]->element[0]->str, "config|get") == 0;
    assert_true(have_get);
    assert_int_equal(r->element[2]->type, REDIS_REPLY_NIL);
    freeReplyObject(r);

    r = CMD(c, "COMMAND INFO memory|usage");   /* its key is argv[2] */
    assert_int_equal(r->element[0]->element[3]->integer, 2);
    assert_int_equal(r->element[0]->element[4]->integer, 2);
    freeReplyObject(r);

    /* COMMAND COUNT counts top-level commands; COMMAND LIST names the
     * subcommands too */
    r = CMD(c, "COMMAND COUNT");
    long long count = r->integer;
    freeReplyObject(r);
    r = CMD(c, "COMMAND LIST");
    assert_true((long long)r->elements > count);
    int have_sub = 0;
    for (size_t i = 0; i < r->elements; i++)
        have_sub |= strcmp(r->element[i]->str, "client|info") == 0;
    assert_true(have_sub);
    freeReplyObject(r);

    r = CMD(c, "CLIENT INFO");
    assert_non_null(strstr(r->str, " cmd=client|info "));
    freeReplyObject(r);
}

static void test_quit(void **state)
{
    redisContext *c2 = harness_connect(&srv);
    assert_non_null(c2);
    EXPECT_OK(c2, "QUIT");
    redisReply *r = redisCommand(c2, "PING");
    assert_null(r);                     /* the server closed it */
    assert_true(c2->err == REDIS_ERR_EOF || c2->err == REDIS_ERR_IO);
    redisFree(c2);
}

/* The harness's stand-in for a remote client: a socket bound to
 * 127.0.0.2 is seen by the server as coming from there (the tests of
 * protected mode and the local-only levers rely on it). */
static void test_client_from_other_address(void **state)
{
    /* In protected mode (on by default, no password) both servers refuse
     * it (test_auth.c checks that). */
    EXPECT_OK(c, "CONFIG SET protected-mode no");
    redisContext *c2 = harness_connect_from(&srv, "127.0.0.2");
    assert_non_null(c2);
    redisReply *r = CMD(c2, "CLIENT INFO");
    assert_int_equal(r->type, REDIS_REPLY_STRING);
    assert_non_null(strstr(r->str, " addr=127.0.0.2:"));
    freeReplyObject(r);
    r = CMD(c, "CLIENT INFO");
    assert_non_null(strstr(r->str, " addr=127.0.0.1:"));
    freeReplyObject(r);
    redisFree(c2);
    EXPECT_OK(c, "CONFIG SET protected-mode yes");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup(f, test_setup)
        T(test_ping_echo),
        T(test_unknown_command),
        T(test_wrong_arity),
        T(test_select),
        T(test_info_fields),
        T(test_info_hits_misses),
        T(test_expired_keys_counter),
        T(test_client_commands),
        T(test_hello),
        T(test_config_get),
        T(test_command_time_debug_memory),
        T(test_subcommands),
        T(test_quit),
        T(test_client_from_other_address),
#undef T
    };
    int failed = cmocka_run_group_tests_name("integration/server_cmds", tests,
                                             group_setup, group_teardown);
    return harness_finish(failed);
}
