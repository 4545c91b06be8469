/*
 * test_config_file: the config file. The SIGHUP reload (good file, bad
 * file, no file, a setting that cannot change live, a port named only in
 * the file), start-up with a file: flags that override it, errors that
 * stop the server before it listens; and the shipped mmcache.conf naming
 * every setting with its default. (test_config_cmds.c has the CONFIG
 * commands.)
 *
 * Each test starts its own server (config_fixture.h). Almost all of this
 * is mmcache's own: under MMCACHE_TEST_AGAINST=redis those tests are
 * skipped with a note; test_file_then_flags runs against redis-server too
 * (its file as the first argument), without the reload part.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "check.h"
#include "config.h"
#include "config_fixture.h"
#include "harness.h"

#define RELOAD_BOUND_MS 5000

/* A text field of INFO into buf ("" when missing). */
static void info_str(redisContext *c, const char *field, char *buf, size_t cap)
{
    redisReply *r = CMD(c, "INFO");
    size_t flen = strlen(field);
    buf[0] = '\0';
    for (const char *p = r->str; p && *p;) {
        if (strncmp(p, field, flen) == 0 && p[flen] == ':') {
            const char *e = strstr(p, "\r\n");
            size_t n = e ? (size_t)(e - p - flen - 1) : strlen(p + flen + 1);
            snprintf(buf, cap, "%.*s", (int)n, p + flen + 1);
            break;
        }
        p = strchr(p, '\n');
        if (p)
            p++;
    }
    freeReplyObject(r);
}

/* SIGHUP, then wait (bounded) until INFO shows a new generation or one
 * more refused reload. */
static void sighup_and_wait(redisContext *c, long long gen, long long fails)
{
    assert_int_equal(kill(srv.pid, SIGHUP), 0);
    long long deadline = harness_now_ms() + RELOAD_BOUND_MS;
    while (harness_now_ms() < deadline) {
        if (generation(c) > gen || harness_info_ll(c, "config_reload_failures") > fails)
            return;
        harness_sleep_ms(10);
    }
    harness_print_log(&srv);
    fail_msg("SIGHUP: no new generation and no failure within %d ms", RELOAD_BOUND_MS);
}

/* Exit status of pid within bound_ms, or -1 (then it is killed). */
static int wait_status(pid_t pid, int bound_ms)
{
    struct harness_server s = {.pid = pid};
    long long t0 = harness_now_ms();
    int st = harness_wait_exit(&s, bound_ms);
    return harness_now_ms() - t0 >= bound_ms ? -1 : st;
}

/* ---- 1. SIGHUP reload (mmcache) ------------------------------------------ */

static void test_sighup_reload(void **state)
{
    HARNESS_MMCACHE_ONLY("SIGHUP reload");
    char conf[PATH_MAX], needle[PATH_MAX + 300], s[PATH_MAX];
    path_in_dir(conf, sizeof(conf), "reload.conf");
    write_file(conf, "# version 1\ntimeout 10\nmaxmemory 100mb\nloglevel notice\n");
    const char *const mm[] = {"--config", conf, NULL};
    start(NULL, mm, NULL);
    redisContext *c = harness_connect(&srv);
    assert_non_null(c);
    char port[16];
    snprintf(port, sizeof(port), "%d", srv.port);
    long long gen = generation(c), fails = harness_info_ll(c, "config_reload_failures");
    assert_int_equal(gen, 1);
    assert_int_equal(fails, 0);
    assert_int_equal(harness_info_ll(c, "config_last_reload_ok"), 1);
    info_str(c, "config_file", s, sizeof(s));
    assert_string_equal(s, conf);
    EXPECT_CONFIG(c, "timeout", "10");
    EXPECT_CONFIG(c, "maxmemory", "104857600");

    /* a valid new file: live settings change, fixed ones keep running */
    write_file(conf, "# version 2\ntimeout 20\nmaxmemory 200mb\nhz 20\nport 1\nshards 512\n");
    long long before = (long long)time(NULL);
    sighup_and_wait(c, gen, fails);
    assert_int_equal(generation(c), gen + 1);
    EXPECT_CONFIG(c, "timeout", "20");              /* same connection: same port */
    EXPECT_CONFIG(c, "maxmemory", "209715200");
    EXPECT_CONFIG(c, "hz", "20");
    EXPECT_CONFIG(c, "port", port);
    EXPECT_CONFIG(c, "shards", "1024");
    assert_int_equal(harness_info_ll(c, "tcp_port"), srv.port);
    assert_int_equal(harness_info_ll(c, "maxmemory"), 200LL * 1024 * 1024);
    assert_int_equal(harness_info_ll(c, "config_last_reload_ok"), 1);
    assert_int_equal(harness_info_ll(c, "config_reload_failures"), 0);
    long long when = harness_info_ll(c, "config_last_reload_time");
    assert_true(when >= before - 1 && when <= (long long)time(NULL) + 1);
    redisContext *c2 = harness_connect(&srv);      /* still listening there */
    assert_non_null(c2);
    EXPECT_CONFIG(c2, "timeout", "20");
    redisFree(c2);
    EXPECT_LOG(&srv, "Reload: shards: the new config says 512, but shards cannot change while "
               "running; keeping 1024 (restart to apply)");
    EXPECT_LOG(&srv, "Reload: timeout: 10 -> 20");
    EXPECT_LOG(&srv, "Config reloaded: now generation 2");
    /* The harness gave --port, and flags win over the file on a reload as
     * at start-up: the port did not change, so there is nothing to keep.
     * (test_sighup_port_kept starts a server whose port is in the file.) */
    EXPECT_NOT_IN_LOG(&srv, "Reload: port:");

    /* an invalid file changes nothing and says which line is wrong */
    gen = generation(c);
    write_file(conf, "# version 3\ntimeout 30\ntimeout abc\nmaxmemory 1mb\n");
    sighup_and_wait(c, gen, 0);
    assert_int_equal(harness_info_ll(c, "config_reload_failures"), 1);
    assert_int_equal(harness_info_ll(c, "config_last_reload_ok"), 0);
    assert_int_equal(generation(c), gen);
    EXPECT_CONFIG(c, "timeout", "20");
    EXPECT_CONFIG(c, "maxmemory", "209715200");
    snprintf(needle, sizeof(needle), "Config reload FAILED, still running generation 2: %s:3: "
             "'timeout': argument must be an integer between 0 and 2147483647 inclusive "
             "(got 'abc')", conf);
    EXPECT_LOG(&srv, needle);

    /* shards that is no power of two: refused like any invalid value,
     * though shards would be kept running anyway */
    write_file(conf, "# version 3b\ntimeout 30\nshards 48\n");
    sighup_and_wait(c, gen, 1);
    assert_int_equal(harness_info_ll(c, "config_reload_failures"), 2);
    assert_int_equal(generation(c), gen);
    EXPECT_CONFIG(c, "timeout", "20");
    EXPECT_CONFIG(c, "shards", "1024");
    snprintf(needle, sizeof(needle), "Config reload FAILED, still running generation 2: %s:3: "
             "'shards': argument must be a power of two (got '48')", conf);
    EXPECT_LOG(&srv, needle);

    /* valid again: the file is read afresh from the defaults, so a
     * CONFIG SET made meanwhile and a line now gone both go back */
    EXPECT_OK(c, "CONFIG SET maxclients 77");
    gen = generation(c);
    write_file(conf, "# version 4\ntimeout 40\n");
    sighup_and_wait(c, gen, 2);
    assert_int_equal(generation(c), gen + 1);
    assert_int_equal(harness_info_ll(c, "config_last_reload_ok"), 1);
    assert_int_equal(harness_info_ll(c, "config_reload_failures"), 2);
    EXPECT_CONFIG(c, "timeout", "40");
    EXPECT_CONFIG(c, "maxmemory", "0");
    EXPECT_CONFIG(c, "hz", "10");
    EXPECT_CONFIG(c, "maxclients", "10000");
    EXPECT_STATUS(c, "PONG", "PING");
    redisFree(c);
    stop_ok();
}

/* A port named only in the file: a reload asking for another one keeps
 * the running port, says so, and the new one never opens. The test runs
 * this server itself: the harness always passes --port. */
static void test_sighup_port_kept(void **state)
{
    HARNESS_MMCACHE_ONLY("SIGHUP reload");
    char conf[PATH_MAX], text[256], needle[256];
    path_in_dir(conf, sizeof(conf), "port.conf");
    memset(&srv, 0, sizeof(srv));
    path_in_dir(srv.log, sizeof(srv.log), "port.log");
    int other = harness_free_port();
    for (int attempt = 0; attempt < 5 && srv.pid == 0; attempt++) {
        int port = harness_free_port();
        assert_true(port > 0 && other > 0);
        if (port == other)
            continue;
        snprintf(text, sizeof(text), "bind 127.0.0.1\nport %d\ntimeout 10\n", port);
        write_file(conf, text);
        const char *const args[] = {conf, NULL};
        pid_t pid = harness_spawn_mmcache(args, srv.log);
        assert_true(pid > 0);
        harness_await_ready(&srv, pid, port);   /* -1: port taken, again */
    }
    if (srv.pid == 0) {
        harness_print_log(&srv);
        fail_msg("mmcache %s did not come up", conf);
    }
    redisContext *c = harness_connect(&srv);
    assert_non_null(c);
    long long gen = generation(c);
    snprintf(text, sizeof(text), "bind 127.0.0.1\nport %d\ntimeout 11\n", other);
    write_file(conf, text);
    sighup_and_wait(c, gen, 0);
    assert_int_equal(generation(c), gen + 1);
    EXPECT_CONFIG(c, "timeout", "11");
    snprintf(needle, sizeof(needle), "%d", srv.port);
    EXPECT_CONFIG(c, "port", needle);
    snprintf(needle, sizeof(needle), "Reload: port: the new config says %d, but port cannot change "
             "while running; keeping %d (restart to apply)", other, srv.port);
    EXPECT_LOG(&srv, needle);
    redisContext *c2 = harness_connect(&srv);     /* still there */
    assert_non_null(c2);
    EXPECT_STATUS(c2, "PONG", "PING");
    redisFree(c2);
    assert_false(harness_ping(other));
    redisFree(c);
    stop_ok();
}

static void test_sighup_without_file(void **state)
{
    HARNESS_MMCACHE_ONLY("SIGHUP reload");
    start(NULL, NULL, NULL);
    redisContext *c = harness_connect(&srv);
    assert_non_null(c);
    char s[64] = "x";
    info_str(c, "config_file", s, sizeof(s));
    assert_string_equal(s, "");
    EXPECT_OK(c, "CONFIG SET timeout 5");
    long long gen = generation(c);
    assert_int_equal(kill(srv.pid, SIGHUP), 0);
    EXPECT_LOG(&srv, "Nothing to reload: no config file was given at start-up "
               "(mmcache FILE or --config FILE)");
    assert_int_equal(generation(c), gen);
    assert_int_equal(harness_info_ll(c, "config_reload_failures"), 0);
    assert_int_equal(harness_info_ll(c, "config_last_reload_ok"), 1);
    EXPECT_CONFIG(c, "timeout", "5");
    EXPECT_STATUS(c, "PONG", "PING");
    EXPECT_OK(c, "SET k v");
    redisFree(c);
    stop_ok();
}

/* ---- 2. start-up with a config file -------------------------------------- */

/* Flags override the file (both servers: the file as the first argument). */
static void test_file_then_flags(void **state)
{
    char conf[PATH_MAX], s[PATH_MAX];
    path_in_dir(conf, sizeof(conf), "flags.conf");
    write_file(conf, "# flags win\ntimeout 5\nmaxmemory 10mb\n");
    static const char *const args[] = {"--timeout", "7", NULL};
    start_file(conf, args);
    redisContext *c = harness_connect(&srv);
    assert_non_null(c);
    EXPECT_CONFIG(c, "timeout", "7");
    EXPECT_CONFIG(c, "maxmemory", "10485760");
    if (!harness_is_redis()) {
        info_str(c, "config_file", s, sizeof(s));
        assert_string_equal(s, conf);
        /* and on a reload too */
        long long gen = generation(c);
        write_file(conf, "timeout 6\nmaxmemory 20mb\n");
        sighup_and_wait(c, gen, 0);
        EXPECT_CONFIG(c, "timeout", "7");
        EXPECT_CONFIG(c, "maxmemory", "20971520");
    }
    redisFree(c);
    stop_ok();
}

struct bad_start {
    const char *file;        /* NULL: a file that does not exist */
    const char *text;
    const char *msg;         /* after "mmcache: <path>" */
};

static void test_startup_errors(void **state)
{
    static const struct bad_start cases[] = {
        {"unknown.conf", "# bad\nport 7000\nfoo bar\n",
         ":3: unknown directive 'foo' (directives: bind, port, threads, ...; "
         "see mmcache.conf or mmcache --help)"},
        {"value.conf", "# bad\n\ntimeout abc\n",
         ":3: 'timeout': argument must be an integer between 0 and 2147483647 inclusive (got 'abc')"},
        {"memory.conf", "maxmemory 12xb\n",
         ":1: 'maxmemory': argument must be a memory value like 512mb or 1gb "
         "(units b, k, kb, m, mb, g, gb) (got '12xb')"},
        {"quotes.conf", "timeout 1\nbind \"127.0.0.1\n",
         ":2: 'bind': unbalanced quotes or too many arguments"},
        {"values.conf", "timeout 1 2\n", ":1: 'timeout' takes exactly one value (got 2)"},
        {"shards.conf", "shards 48\n", ":1: 'shards': argument must be a power of two (got '48')"},
        {NULL, NULL, ": cannot open the config file: No such file or directory"},
    };
    HARNESS_MMCACHE_ONLY("the start-up messages");
    char conf[PATH_MAX], out[PATH_MAX], want[PATH_MAX + 300], port[16];
    path_in_dir(out, sizeof(out), "startup.out");
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct bad_start *k = &cases[i];
        path_in_dir(conf, sizeof(conf), k->file ? k->file : "missing.conf");
        if (k->text)
            write_file(conf, k->text);
        int p = harness_free_port();
        snprintf(port, sizeof(port), "%d", p);
        /* both spellings of the file argument */
        const char *const with_flag[] = {"--config", conf, "--port", port, "--bind", "127.0.0.1", NULL};
        const char *const positional[] = {conf, "--port", port, NULL};
        pid_t pid = harness_spawn_mmcache(i % 2 ? positional : with_flag, out);
        assert_true(pid > 0);
        int st = wait_status(pid, 10000);
        char *text = read_file(out);
        snprintf(want, sizeof(want), "mmcache: %s%s\nTry 'mmcache --help'.\n", conf, k->msg);
        if (st != 1 || strcmp(text, want) != 0)
            fail_msg("case %zu: exit status %d (want 1), output:\n%s\nwant:\n%s", i, st, text, want);
        /* it stopped before listening */
        assert_null(strstr(text, "Ready to accept"));
        assert_false(harness_ping(p));
        free(text);
    }
}

/* The shipped mmcache.conf names every setting with its default: a
 * server started on it runs with what a server without a file has. */
static void test_example_conf(void **state)
{
    HARNESS_MMCACHE_ONLY("the shipped mmcache.conf");
    char *text = read_file(MMCACHE_EXAMPLE_CONF);
    for (size_t i = 0; cfg_names[i]; i++) {
        char line[80], commented[80];
        snprintf(line, sizeof(line), "\n%s ", cfg_names[i]);
        snprintf(commented, sizeof(commented), "\n# %s ", cfg_names[i]);
        if (!strstr(text, line) && !strstr(text, commented))
            fail_msg("mmcache.conf has no line for '%s'", cfg_names[i]);
    }
    free(text);

    char defaults[32][128], v[128];
    start(NULL, NULL, NULL);
    redisContext *c = harness_connect(&srv);
    assert_non_null(c);
    for (size_t i = 0; cfg_names[i] && i < 32; i++)
        config_value(c, cfg_names[i], defaults[i], sizeof(defaults[i]));
    redisFree(c);
    stop_ok();
    start_file(MMCACHE_EXAMPLE_CONF, NULL);
    c = harness_connect(&srv);
    assert_non_null(c);
    for (size_t i = 0; cfg_names[i] && i < 32; i++) {
        if (strcmp(cfg_names[i], "port") == 0)
            continue;                   /* the harness's, different each time */
        if (strcmp(cfg_names[i], "threads") == 0)
            continue;   /* the harness gives a file-less start --threads 2 */
        config_value(c, cfg_names[i], v, sizeof(v));
        if (strcmp(v, defaults[i]) != 0)
            fail_msg("mmcache.conf sets %s to %s; the default is %s", cfg_names[i], v, defaults[i]);
    }
    redisFree(c);
    stop_ok();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_teardown(f, teardown)
        T(test_sighup_reload),
        T(test_sighup_port_kept),
        T(test_sighup_without_file),
        T(test_file_then_flags),
        T(test_startup_errors),
        T(test_example_conf),
#undef T
    };
    int failed = cmocka_run_group_tests_name("integration/config_file", tests,
                                             group_setup, group_teardown);
    return harness_finish(failed);
}
