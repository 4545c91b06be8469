/*
 * test_config_cmds: the settings as a user meets them through commands.
 * CONFIG GET (several patterns, globs, case, each setting once), CONFIG
 * SET (one and several pairs, all or nothing, every error form), a lower
 * maxmemory evicting at once, timeout and loglevel taking effect, CONFIG
 * REWRITE keeping the operator's file, CONFIG RESETSTAT.
 * (test_config_file.c has the config file itself: SIGHUP reload, start-up
 * errors, flags over the file, the shipped mmcache.conf.)
 *
 * Each test starts its own server (config_fixture.h). Under
 * MMCACHE_TEST_AGAINST=redis the same expectations run against
 * redis-server 7, which is how they are shown to be Redis's; what only
 * mmcache has (INFO's config_* fields, its log lines) is skipped there
 * with a note, and where the two legitimately differ the test branches on
 * harness_is_redis() and says why.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <cmocka.h>

#include "check.h"
#include "config.h"
#include "config_fixture.h"
#include "harness.h"

#define MB4 (4LL * 1024 * 1024)

/* Value of `name` in a CONFIG GET reply (names compared without case), or
 * NULL. Fails when the name is there twice. */
static const char *reply_value(const redisReply *r, const char *name)
{
    const char *v = NULL;
    assert_int_equal(r->type, REDIS_REPLY_ARRAY);
    assert_int_equal(r->elements % 2, 0);
    for (size_t i = 0; i + 1 < r->elements; i += 2) {
        if (strcasecmp(r->element[i]->str, name) != 0)
            continue;
        if (v)
            fail_msg("CONFIG GET shows '%s' twice", name);
        v = r->element[i + 1]->str;
    }
    return v;
}

/*
 * A CONFIG SET error. The form, "ERR CONFIG SET failed (possibly related to
 * argument 'NAME') - WHY", is Redis's; WHY is each server's own: mmcache
 * says what it got and what is allowed, Redis says less. Both are checked
 * exactly, each against its own server.
 */
#define EXPECT_SET_ERR(c, arg, mm_why, redis_why, ...)                      \
    do {                                                                    \
        char want_[600];                                                    \
        snprintf(want_, sizeof(want_),                                      \
                 "ERR CONFIG SET failed (possibly related to argument '%s') - %s", \
                 (arg), harness_is_redis() ? (redis_why) : (mm_why));       \
        EXPECT_ERR(c, want_, __VA_ARGS__);                                  \
    } while (0)

/* ---- 1. CONFIG GET ------------------------------------------------------- */

static void test_get_patterns(void **state)
{
    static const char *const args[] = {"--maxmemory", "100mb", "--timeout", "300", NULL};
    start(args, NULL, NULL);
    redisContext *c = harness_connect(&srv);
    assert_non_null(c);

    /* several patterns in one call, a glob among them */
    redisReply *r = CMD(c, "CONFIG GET maxmemory time*");
    assert_int_equal(r->elements, 4);
    assert_string_equal(reply_value(r, "maxmemory"), "104857600");
    assert_string_equal(reply_value(r, "timeout"), "300");
    freeReplyObject(r);

    /* globs: *, ?, [..]; matched names come back in lower case */
    r = CMD(c, "CONFIG GET maxmemory*");
    assert_string_equal(reply_value(r, "maxmemory"), "104857600");
    assert_non_null(reply_value(r, "maxmemory-policy"));
    for (size_t i = 0; i < r->elements; i += 2)
        assert_int_equal(strncmp(r->element[i]->str, "maxmemory", 9), 0);
    if (!harness_is_redis())   /* Redis has more maxmemory-* settings */
        assert_int_equal(r->elements, 6);   /* maxmemory, -policy, -samples */
    freeReplyObject(r);
    r = CMD(c, "CONFIG GET [t]imeo?t h?");
    assert_int_equal(r->elements, 4);
    assert_string_equal(reply_value(r, "timeout"), "300");
    assert_non_null(reply_value(r, "hz"));
    freeReplyObject(r);
    r = CMD(c, "CONFIG GET MAXMEM*");
    assert_string_equal(reply_value(r, "maxmemory"), "104857600");
    for (size_t i = 0; i < r->elements; i += 2)
        assert_int_equal(strncmp(r->element[i]->str, "maxmem", 6), 0);
    freeReplyObject(r);

    /* an exact name: any case, echoed back as typed (Redis 7.0 does) */
    EXPECT_CONFIG(c, "TIMEOUT", "300");
    EXPECT_CONFIG(c, "MaxMemory", "104857600");
    /* a backslash is no glob: "tim\eout" is an unknown exact name */
    r = CMD(c, "CONFIG GET %s", "tim\\eout");
    assert_int_equal(r->elements, 0);
    freeReplyObject(r);

    /* each setting once, however many patterns match it */
    r = CMD(c, "CONFIG GET timeout TIMEOUT time* * maxmemory");
    for (size_t i = 0; i < r->elements; i += 2)
        for (size_t j = i + 2; j < r->elements; j += 2)
            if (strcasecmp(r->element[i]->str, r->element[j]->str) == 0)
                fail_msg("CONFIG GET shows '%s' twice", r->element[i]->str);
    assert_string_equal(reply_value(r, "timeout"), "300");
    if (!harness_is_redis()) {
        size_t n = 0;
        while (cfg_names[n])
            n++;
        /* every setting, databases, and the persistence directives */
        size_t np = 0;
        while (cfg_persist_name((int)np))
            np++;
        assert_int_equal(r->elements, 2 * (n + 1 + np));
    }
    freeReplyObject(r);
    r = CMD(c, "CONFIG GET timeout timeout");
    assert_int_equal(r->elements, 2);
    freeReplyObject(r);

    /* the settings mmcache answers for Redis tools */
    r = CMD(c, "CONFIG GET save appendonly databases");
    assert_int_equal(r->elements, 6);
    assert_string_equal(reply_value(r, "save"), "");
    assert_string_equal(reply_value(r, "appendonly"), "no");
    assert_string_equal(reply_value(r, "databases"), "1");
    freeReplyObject(r);
    EXPECT_ERR(c, "ERR wrong number of arguments for 'config|get' command", "CONFIG GET");
    redisFree(c);
    stop_ok();
}

/* A setting that is mmcache's own: Redis 7.0 has no shards, loader, bug
 * lab or metrics endpoint (Prometheus reads it through redis_exporter),
 * and its io-threads is another setting with another meaning;
 * set-max-listpack-* came with Redis 7.2's listpack sets (docs/types.md).
 * A new setting of mmcache's own goes here, or the redis-server run fails. */
static int own_setting(const char *name)
{
    static const char *const own[] = {"threads", "shards", "loader", "inject-bug",
                                      "bug-amplify", "bug-misalign", "enable-bug-lab",
                                      "set-max-listpack-entries", "set-max-listpack-value",
                                      "metrics-port", NULL};
    if (strncmp(name, "loader-", 7) == 0)
        return 1;
    for (size_t i = 0; own[i]; i++)
        if (strcmp(name, own[i]) == 0)
            return 1;
    return 0;
}

static void test_get_every_setting(void **state)
{
    start(NULL, NULL, NULL);
    redisContext *c = harness_connect(&srv);
    assert_non_null(c);
    for (size_t i = 0; cfg_names[i]; i++) {
        const char *name = cfg_names[i];
        if (harness_is_redis() && own_setting(name))
            continue;
        redisReply *r = CMD(c, "CONFIG GET %s", name);
        if (r->type != REDIS_REPLY_ARRAY || r->elements != 2)
            fail_msg("CONFIG GET %s: not one pair", name);
        assert_string_equal(r->element[0]->str, name);
        /* requirepass and aclfile are "" unless set, as in Redis */
        if (r->element[1]->len == 0 && strcmp(name, "requirepass") != 0 &&
            strcmp(name, "aclfile") != 0)
            fail_msg("CONFIG GET %s: empty value", name);
        freeReplyObject(r);
    }
    char port[16];
    snprintf(port, sizeof(port), "%d", srv.port);
    EXPECT_CONFIG(c, "port", port);
    EXPECT_CONFIG(c, "bind", "127.0.0.1");
    redisFree(c);
    stop_ok();
}

/* ---- 2. CONFIG SET ------------------------------------------------------- */

static void test_set_success(void **state)
{
    static const char *const args[] = {"--maxmemory", "100mb", NULL};
    start(args, NULL, NULL);
    redisContext *c = harness_connect(&srv);
    redisContext *c2 = harness_connect(&srv);
    assert_non_null(c);
    assert_non_null(c2);
    long long gen = generation(c);
    if (!harness_is_redis())
        assert_true(gen >= 1);

    /* one pair: seen by the next command here and on another connection */
    EXPECT_OK(c, "CONFIG SET timeout 100");
    EXPECT_CONFIG(c, "timeout", "100");
    EXPECT_CONFIG(c2, "timeout", "100");
    if (!harness_is_redis())
        assert_int_equal(generation(c), gen + 1);

    /* several pairs: one new generation for the lot */
    EXPECT_OK(c, "CONFIG SET timeout 200 maxmemory 50mb maxmemory-policy allkeys-random hz 20");
    for (int i = 0; i < 2; i++) {
        redisContext *x = i ? c2 : c;
        EXPECT_CONFIG(x, "timeout", "200");
        EXPECT_CONFIG(x, "maxmemory", "52428800");
        EXPECT_CONFIG(x, "maxmemory-policy", "allkeys-random");
        EXPECT_CONFIG(x, "hz", "20");
    }
    assert_int_equal(harness_info_ll(c2, "maxmemory"), 50LL * 1024 * 1024);
    if (!harness_is_redis())
        assert_int_equal(generation(c2), gen + 2);

    /* names and words in any case; memory units */
    EXPECT_OK(c, "CONFIG SET MAXMEMORY 1GB maxmemory-policy ALLKEYS-LRU");
    EXPECT_CONFIG(c, "maxmemory", "1073741824");
    EXPECT_CONFIG(c, "maxmemory-policy", "allkeys-lru");
    EXPECT_OK(c, "CONFIG SET maxmemory 100k");
    EXPECT_CONFIG(c2, "maxmemory", "100000");
    EXPECT_OK(c, "CONFIG SET maxmemory 0 maxclients 500");
    EXPECT_CONFIG(c2, "maxclients", "500");
    assert_int_equal(harness_info_ll(c2, "maxclients"), 500);
    if (!harness_is_redis())
        assert_int_equal(generation(c), gen + 5);

    /* a command pipelined right behind the SET sees the new value */
    redisAppendCommand(c, "CONFIG SET timeout 321");
    redisAppendCommand(c, "CONFIG GET timeout");
    redisReply *r;
    assert_int_equal(redisGetReply(c, (void **)&r), REDIS_OK);
    assert_int_equal(r->type, REDIS_REPLY_STATUS);
    freeReplyObject(r);
    assert_int_equal(redisGetReply(c, (void **)&r), REDIS_OK);
    assert_string_equal(reply_value(r, "timeout"), "321");
    freeReplyObject(r);

    /* all or nothing: a bad second pair leaves the first unapplied */
    gen = generation(c);
    EXPECT_SET_ERR(c, "maxmemory",
                   "argument must be a memory value like 512mb or 1gb (units b, k, kb, m, mb, g, gb) (got 'bogus')",
                   "argument must be a memory value",
                   "CONFIG SET timeout 100 maxmemory bogus");
    EXPECT_CONFIG(c, "timeout", "321");
    EXPECT_CONFIG(c2, "timeout", "321");
    EXPECT_CONFIG(c, "maxmemory", "0");
    assert_int_equal(generation(c), gen);
    redisFree(c2);
    redisFree(c);
    stop_ok();
}

static void test_set_errors(void **state)
{
    start(NULL, NULL, NULL);
    redisContext *c = harness_connect(&srv);
    assert_non_null(c);
    long long gen = generation(c);

    /* not an integer, out of range */
    EXPECT_SET_ERR(c, "timeout",
                   "argument must be an integer between 0 and 2147483647 inclusive (got 'abc')",
                   "argument couldn't be parsed into an integer", "CONFIG SET timeout abc");
    EXPECT_SET_ERR(c, "timeout",
                   "argument must be an integer between 0 and 2147483647 inclusive (got '-1')",
                   "argument must be between 0 and 2147483647 inclusive", "CONFIG SET timeout -1");
    EXPECT_SET_ERR(c, "maxclients",
                   "argument must be an integer between 1 and 1000000 inclusive (got '0')",
                   "argument must be between 1 and 4294967295 inclusive", "CONFIG SET maxclients 0");
    /* memory values */
    EXPECT_SET_ERR(c, "maxmemory",
                   "argument must be a memory value like 512mb or 1gb (units b, k, kb, m, mb, g, gb) (got '5x')",
                   "argument must be a memory value", "CONFIG SET maxmemory 5x");
    EXPECT_SET_ERR(c, "maxmemory",
                   "argument must be a memory value like 512mb or 1gb (units b, k, kb, m, mb, g, gb) (got '-1')",
                   "argument must be a memory value", "CONFIG SET maxmemory -1");
    /* words */
    EXPECT_SET_ERR(c, "maxmemory-policy",
                   "argument must be one of the following: allkeys-lru, volatile-lru, "
                   "allkeys-random, noeviction, allkeys-lfu, volatile-lfu, volatile-random, "
                   "volatile-ttl (got 'sometimes')",
                   "argument(s) must be one of the following: volatile-lru, volatile-lfu, "
                   "volatile-random, volatile-ttl, allkeys-lru, allkeys-lfu, allkeys-random, noeviction",
                   "CONFIG SET maxmemory-policy sometimes");
    EXPECT_SET_ERR(c, "loglevel",
                   "argument must be one of the following: debug, verbose, notice, warning (got 'LOUD')",
                   "argument(s) must be one of the following: debug, verbose, notice, warning",
                   "CONFIG SET loglevel LOUD");
    /* unknown names are reported before any value is looked at */
    EXPECT_ERR(c, "ERR Unknown option or number of arguments for CONFIG SET - 'foo'",
               "CONFIG SET foo bar");
    EXPECT_ERR(c, "ERR Unknown option or number of arguments for CONFIG SET - 'foo'",
               "CONFIG SET timeout abc foo bar");
    EXPECT_ERR(c, "ERR Unknown option or number of arguments for CONFIG SET - 'foo'",
               "CONFIG SET timeout 5 foo bar");
    /* the same setting twice, whatever the case: named as typed the 2nd time */
    EXPECT_SET_ERR(c, "TIMEOUT", "duplicate parameter", "duplicate parameter",
                   "CONFIG SET timeout 1 TIMEOUT 2");
    /* arity: an odd count of arguments, too few */
    EXPECT_ERR(c, "ERR syntax error", "CONFIG SET timeout 1 maxmemory");
    EXPECT_ERR(c, "ERR wrong number of arguments for 'config|set' command", "CONFIG SET timeout");
    EXPECT_ERR(c, "ERR wrong number of arguments for 'config|set' command", "CONFIG SET");

    /* settings a running server cannot change. Redis 7 moves its listener
     * on CONFIG SET port/bind and has no threads/shards; its immutable ones
     * (daemonize, io-threads) are unknown names to mmcache. */
    if (harness_is_redis()) {
        EXPECT_SET_ERR(c, "daemonize", "", "can't set immutable config", "CONFIG SET daemonize yes");
        EXPECT_SET_ERR(c, "io-threads", "", "can't set immutable config", "CONFIG SET io-threads 2");
    } else {
        char why[200];
        snprintf(why, sizeof(why), "can't set immutable config (restart with --port to change it from %d)",
                 srv.port);
        EXPECT_SET_ERR(c, "port", why, "", "CONFIG SET port 1234");
        EXPECT_SET_ERR(c, "bind",
                       "can't set immutable config (restart with --bind to change it from 127.0.0.1)",
                       "", "CONFIG SET bind 0.0.0.0");
        redisReply *r = CMD(c, "CONFIG GET threads");
        snprintf(why, sizeof(why), "can't set immutable config (restart with --threads to change it from %s)",
                 r->element[1]->str);
        freeReplyObject(r);
        EXPECT_SET_ERR(c, "threads", why, "", "CONFIG SET threads 3");
        EXPECT_SET_ERR(c, "shards",
                       "can't set immutable config (restart with --shards to change it from 1024)",
                       "", "CONFIG SET shards 64");
        /* immutable comes first: the value is not even read */
        EXPECT_SET_ERR(c, "shards",
                       "can't set immutable config (restart with --shards to change it from 1024)",
                       "", "CONFIG SET shards 48");
        /* in a batch too (the live pair before it is not applied); the
         * name as typed, the flag's canonical */
        snprintf(why, sizeof(why), "can't set immutable config (restart with --port to change it from %d)",
                 srv.port);
        EXPECT_SET_ERR(c, "PORT", why, "", "CONFIG SET timeout 9 PORT 1");
    }

    /* nothing above changed anything */
    EXPECT_CONFIG(c, "timeout", "0");
    EXPECT_CONFIG(c, "maxclients", "10000");
    EXPECT_CONFIG(c, "loglevel", "notice");
    if (!harness_is_redis())
        assert_int_equal(generation(c), gen);
    redisFree(c);
    stop_ok();
}

/* ---- 3. a lower maxmemory evicts at once --------------------------------- */

static void test_set_maxmemory_evicts(void **state)
{
    static const char *const args[] = {"--maxmemory-policy", "allkeys-lru", NULL};
    start(args, NULL, NULL);
    redisContext *c = harness_connect(&srv);
    assert_non_null(c);
    char err[256] = "";
    assert_int_equal(harness_fill(c, "ev", 20000, 1000, err, sizeof(err), NULL, 0), 0);
    assert_true(harness_info_ll(c, "used_memory") > 4 * MB4);
    assert_int_equal(harness_info_ll(c, "evicted_keys"), 0);

    EXPECT_OK(c, "CONFIG SET maxmemory 4mb");
    long long used = harness_info_ll(c, "used_memory");
    if (harness_is_redis()) {
        /* Redis evicts for at most ~0.5 ms per command (eviction
         * tenacity) and finishes in a background timer: poll. mmcache
         * evicts inside CONFIG SET, before the OK. The slack is the
         * working memory of the INFO that measures (HARNESS_MEM_SLACK). */
        long long deadline = harness_now_ms() + 5000;
        while (used > MB4 + HARNESS_MEM_SLACK && harness_now_ms() < deadline) {
            harness_sleep_ms(20);
            used = harness_info_ll(c, "used_memory");
        }
        assert_true(used <= MB4 + HARNESS_MEM_SLACK);
    } else if (used > MB4) {
        fail_msg("right after CONFIG SET maxmemory 4mb: used_memory %lld > %lld", used, MB4);
    }
    /* Redis's timer may still be evicting: DBSIZE between two equal
     * evicted_keys readings is a consistent pair (seen 19,995 + 5 against
     * redis-server when read once each). */
    long long evicted, keys, again = harness_info_ll(c, "evicted_keys");
    redisReply *r;
    for (int tries = 0;; tries++) {
        evicted = again;
        r = CMD(c, "DBSIZE");
        keys = r->integer;
        freeReplyObject(r);
        again = harness_info_ll(c, "evicted_keys");
        if (again == evicted || tries == 100)
            break;
        harness_sleep_ms(20);
    }
    assert_int_equal(again, evicted);
    assert_true(evicted > 0);
    assert_true(keys > 0 && keys < 20000);
    assert_int_equal(keys + evicted, 20000);
    /* writes go on, and stay within the limit */
    assert_int_equal(harness_fill(c, "ev2", 2000, 1000, err, sizeof(err), NULL, 0), 0);
    if (!harness_is_redis())
        assert_true(harness_info_ll(c, "used_memory") <= MB4);

    /* noeviction: a lower limit evicts nothing, writes are refused */
    EXPECT_OK(c, "CONFIG SET maxmemory 0");
    assert_int_equal(harness_fill(c, "ne", 6000, 1000, err, sizeof(err), NULL, 0), 0);
    r = CMD(c, "DBSIZE");
    keys = r->integer;
    freeReplyObject(r);
    evicted = harness_info_ll(c, "evicted_keys");
    EXPECT_OK(c, "CONFIG SET maxmemory-policy noeviction maxmemory 4mb");
    EXPECT_INT(c, keys, "DBSIZE");
    assert_int_equal(harness_info_ll(c, "evicted_keys"), evicted);
    EXPECT_ERR(c, "OOM command not allowed when used memory > 'maxmemory'.", "SET more v");
    EXPECT_ERR(c, "OOM command not allowed when used memory > 'maxmemory'.", "INCR counter");
    assert_true(harness_fill(c, "oom", 100, 10, err, sizeof(err), NULL, 0) == 100);
    assert_string_equal(err, "OOM command not allowed when used memory > 'maxmemory'.");
    r = CMD(c, "GET ne:1");                 /* reads still work */
    assert_int_equal(r->type, REDIS_REPLY_STRING);
    freeReplyObject(r);
    EXPECT_INT(c, keys, "DBSIZE");
    /* lifting the limit lets writes in again */
    EXPECT_OK(c, "CONFIG SET maxmemory 0");
    EXPECT_OK(c, "SET more v");
    redisFree(c);
    stop_ok();
}

/* ---- 4. timeout and loglevel take effect --------------------------------- */

static void test_set_timeout_loglevel(void **state)
{
    start(NULL, NULL, NULL);
    redisContext *c = harness_connect(&srv);
    assert_non_null(c);
    int idle = harness_idle_client(srv.port);
    assert_true(idle >= 0);

    /* timeout 0: the idle client stays */
    size_t n;
    assert_false(harness_wait_closed(idle, 1200, &n));
    /* timeout 1: closed, without a word; this busy one stays */
    EXPECT_OK(c, "CONFIG SET timeout 1");
    assert_true(harness_wait_idle_closed(c, idle, HARNESS_WAIT_MS) >= 0);
    close(idle);
    EXPECT_OK(c, "CONFIG SET timeout 0");
    EXPECT_STATUS(c, "PONG", "PING");

    EXPECT_OK(c, "CONFIG SET loglevel verbose");
    EXPECT_CONFIG(c, "loglevel", "verbose");
    if (harness_is_redis()) {   /* the rest reads mmcache's log lines */
        EXPECT_OK(c, "CONFIG SET loglevel notice");
        redisFree(c);
        stop_ok();
        HARNESS_MMCACHE_ONLY("loglevel's effect on the log lines");
    }
    /* verbose logs each accepted client; warning does not, nor notices */
    char needle[128];
    for (int level = 0; level < 2; level++) {
        redisContext *x = harness_connect(&srv);
        assert_non_null(x);
        redisReply *r = CMD(x, "CLIENT ID");   /* answered after the accept was logged */
        snprintf(needle, sizeof(needle), " id=%lld on worker", r->integer);
        freeReplyObject(r);
        redisFree(x);
        if (level == 0) {
            EXPECT_LOG(&srv, needle);
            EXPECT_OK(c, "CONFIG SET loglevel warning");
            EXPECT_LOG(&srv, ": loglevel=verbose (config generation");
            EXPECT_NOT_IN_LOG(&srv, ": loglevel=warning (");   /* that SET's own notice */
        } else {
            harness_sleep_ms(100);
            EXPECT_NOT_IN_LOG(&srv, needle);
        }
    }
    EXPECT_OK(c, "CONFIG SET loglevel notice");
    EXPECT_LOG(&srv, ": loglevel=notice (config generation");
    redisFree(c);
    stop_ok();
}

/* ---- 5. CONFIG REWRITE --------------------------------------------------- */

static const char rewrite_conf[] =
    "# mmcache test config: comments stay\n"
    "# a second comment\n"
    "\n"
    "maxmemory 100mb\n"
    "# the idle timeout\n"
    "timeout 0\n"
    "hz 10\n";

static void test_rewrite(void **state)
{
    static const char *const names[] = {"timeout", "maxmemory", "maxmemory-policy",
                                        "hz", "maxclients", "loglevel",
                                        "client-query-buffer-limit"};
    enum { NNAMES = sizeof(names) / sizeof(names[0]) };
    char conf[PATH_MAX], want[1024], values[NNAMES][64], v[64];
    path_in_dir(conf, sizeof(conf), "rewrite.conf");
    write_file(conf, rewrite_conf);
    start_file(conf, NULL);
    redisContext *c = harness_connect(&srv);
    assert_non_null(c);
    EXPECT_CONFIG(c, "maxmemory", "104857600");
    EXPECT_OK(c, "CONFIG SET timeout 42");
    EXPECT_OK(c, "CONFIG SET client-query-buffer-limit 2gb");
    EXPECT_OK(c, "CONFIG REWRITE");

    /* comments, the blank line and the order kept; timeout replaced in
     * place; "maxmemory 100mb" as written (it still says the running value) */
    char *text = read_file(conf);
    snprintf(want, sizeof(want), "%.*s", (int)(sizeof(rewrite_conf) - 1), rewrite_conf);
    char *t = strstr(want, "timeout 0");
    memcpy(t, "timeout 42\nhz 10\n", strlen("timeout 42\nhz 10\n") + 1);
    if (strncmp(text, want, strlen(want)) != 0)
        fail_msg("rewritten file:\n%s\nwant it to begin with:\n%s", text, want);
    /* what the file lacked and differs from the defaults is appended: the
     * port the harness gave with --port */
    char port_line[64];
    snprintf(port_line, sizeof(port_line), "\nport %d\n", srv.port);
    const char *gen = strstr(text, "\n# Generated by CONFIG REWRITE\n");
    if (!gen || !strstr(gen, port_line))
        fail_msg("rewritten file lacks the generated port line:\n%s", text);
    /* a size in Redis 7.0's units, as its rewriteConfigFormatMemory writes
     * it (CONFIG GET says 2147483648) */
    if (!strstr(gen, "\nclient-query-buffer-limit 2gb\n"))
        fail_msg("rewritten file lacks \"client-query-buffer-limit 2gb\":\n%s", text);
    if (!harness_is_redis()) {
        /* Redis also writes its save/dir/user lines and a blank line
         * before the header; mmcache, only what differs from its defaults */
        snprintf(want + strlen(want), sizeof(want) - strlen(want),
                 "# Generated by CONFIG REWRITE\nport %d\nclient-query-buffer-limit 2gb\n",
                 srv.port);
        assert_string_equal(text, want);
        /* a second REWRITE with nothing changed leaves the file as it is
         * (Redis adds a blank line each time) */
        EXPECT_OK(c, "CONFIG REWRITE");
        char *again = read_file(conf);
        assert_string_equal(again, text);
        free(again);
    }
    free(text);

    /* a server started on the rewritten file runs with the same settings */
    for (size_t i = 0; i < NNAMES; i++)
        config_value(c, names[i], values[i], sizeof(values[i]));
    redisFree(c);
    stop_ok();
    start_file(conf, NULL);
    c = harness_connect(&srv);
    assert_non_null(c);
    for (size_t i = 0; i < NNAMES; i++) {
        config_value(c, names[i], v, sizeof(v));
        if (strcmp(v, values[i]) != 0)
            fail_msg("after a restart on the rewritten file, %s is %s (was %s)",
                     names[i], v, values[i]);
    }
    EXPECT_CONFIG(c, "timeout", "42");
    redisFree(c);
    stop_ok();

    /* no file to rewrite */
    start(NULL, NULL, NULL);
    c = harness_connect(&srv);
    assert_non_null(c);
    EXPECT_ERR(c, "ERR The server is running without a config file", "CONFIG REWRITE");
    EXPECT_ERR(c, "ERR wrong number of arguments for 'config|rewrite' command", "CONFIG REWRITE x");
    redisFree(c);
    stop_ok();
}

/* ---- 6. CONFIG RESETSTAT ------------------------------------------------- */

static void test_resetstat(void **state)
{
    start(NULL, NULL, NULL);
    redisContext *c = harness_connect(&srv);
    assert_non_null(c);
    EXPECT_OK(c, "SET k v");
    for (int i = 0; i < 3; i++)
        EXPECT_BULK(c, "v", "GET k");
    EXPECT_NIL(c, "GET missing1");
    EXPECT_NIL(c, "GET missing2");
    EXPECT_STATUS(c, "PONG", "PING");
    assert_int_equal(harness_info_ll(c, "keyspace_hits"), 3);
    assert_int_equal(harness_info_ll(c, "keyspace_misses"), 2);
    assert_true(harness_info_ll(c, "total_commands_processed") >= 8);

    EXPECT_OK(c, "CONFIG RESETSTAT");
    /* Counted once it has run, as in Redis 7: RESETSTAT itself is the one
     * command counted since the reset; this INFO is not yet. */
    redisReply *r = CMD(c, "INFO stats");
    assert_non_null(strstr(r->str, "\r\ntotal_commands_processed:1\r\n"));
    assert_non_null(strstr(r->str, "\r\nkeyspace_hits:0\r\n"));
    assert_non_null(strstr(r->str, "\r\nkeyspace_misses:0\r\n"));
    assert_non_null(strstr(r->str, "\r\ntotal_connections_received:0\r\n"));
    assert_non_null(strstr(r->str, "\r\nevicted_keys:0\r\n"));
    assert_non_null(strstr(r->str, "\r\nexpired_keys:0\r\n"));
    freeReplyObject(r);
    /* and they count again from there */
    EXPECT_BULK(c, "v", "GET k");
    EXPECT_NIL(c, "GET missing1");
    EXPECT_BULK(c, "v", "GET k");
    assert_int_equal(harness_info_ll(c, "keyspace_hits"), 2);
    assert_int_equal(harness_info_ll(c, "keyspace_misses"), 1);
    /* RESETSTAT, INFO stats, 3 GETs, 2 INFOs: the 3rd INFO sees 7 */
    assert_int_equal(harness_info_ll(c, "total_commands_processed"), 7);
    redisContext *c2 = harness_connect(&srv);
    assert_non_null(c2);
    assert_int_equal(harness_info_ll(c2, "total_connections_received"), 1);
    redisFree(c2);
    /* the data is untouched */
    EXPECT_INT(c, 1, "DBSIZE");
    redisFree(c);
    stop_ok();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_teardown(f, teardown)
        T(test_get_patterns),
        T(test_get_every_setting),
        T(test_set_success),
        T(test_set_errors),
        T(test_set_maxmemory_evicts),
        T(test_set_timeout_loglevel),
        T(test_rewrite),
        T(test_resetstat),
#undef T
    };
    int failed = cmocka_run_group_tests_name("integration/config_cmds", tests,
                                             group_setup, group_teardown);
    return harness_finish(failed);
}
