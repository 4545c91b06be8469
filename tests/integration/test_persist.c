/*
 * Redis's persistence directives against the real server: a redis.conf's
 * `save`, `appendonly`, `dir`, ... start mmcache with one warning and
 * change nothing on disk; CONFIG GET answers what a cache without
 * persistence has, CONFIG SET accepts only what is already true; SAVE,
 * BGSAVE and BGREWRITEAOF are errors, not a false OK. What Redis does too
 * (the file is read, `CONFIG SET save ""` and `appendonly no` are OK) also
 * runs under MMCACHE_TEST_AGAINST=redis.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "check.h"
#include "config.h"
#include "config_fixture.h"
#include "harness.h"

#define DEBIAN_CONF "/etc/redis/redis.conf"

/* The persistence lines of Debian 12's redis.conf (redis-server 7.0.15),
 * as written there, and a save point it leaves commented out. */
static const char debian_lines[] =
    "save 3600 1 300 100 60 10000\n"
    "stop-writes-on-bgsave-error yes\nrdbcompression yes\nrdbchecksum yes\n"
    "dbfilename dump.rdb\nrdb-del-sync-files no\n"
    "appendonly no\nappendfilename \"appendonly.aof\"\nappenddirname \"appendonlydir\"\n"
    "appendfsync everysec\nno-appendfsync-on-rewrite no\nauto-aof-rewrite-percentage 100\n"
    "auto-aof-rewrite-min-size 64mb\naof-load-truncated yes\naof-use-rdb-preamble yes\n"
    "aof-timestamp-enabled no\naof-rewrite-incremental-fsync yes\n"
    "rdb-save-incremental-fsync yes\n";

/* How many times the log holds needle. */
static int log_count(const char *needle)
{
    char *text = read_file(srv.log);
    int n = 0;
    for (const char *p = text; (p = strstr(p, needle)) != NULL; p++)
        n++;
    free(text);
    return n;
}

static const char *const warning = "mmcache keeps no data on disk: ignoring the persistence "
                                   "directives ";

static void test_redis_conf_persistence(void **state)
{
    char conf[PATH_MAX], text[PATH_MAX + 2048], rdb[PATH_MAX + 16];
    path_in_dir(conf, sizeof(conf), "persist.conf");
    path_in_dir(rdb, sizeof(rdb), "x.rdb");
    /* dir: this group's directory, which exists (Redis chdir()s there) */
    snprintf(text, sizeof(text), "%sdir %s\ndbfilename x.rdb\nsave 900 1\nhz 11\n",
             debian_lines, dir);
    write_file(conf, text);
    start_file(conf, NULL);
    redisContext *c = harness_connect(&srv);
    assert_non_null(c);
    EXPECT_CONFIG(c, "hz", "11");   /* the settings around them are read */
    /* Redis: the harness's --save '' --appendonly no; mmcache: always so */
    EXPECT_CONFIG(c, "save", "");
    EXPECT_CONFIG(c, "appendonly", "no");
    /* the lines scripts run to switch persistence off on a cache */
    EXPECT_OK(c, "CONFIG SET save %s", "");
    EXPECT_OK(c, "CONFIG SET appendonly no");
    EXPECT_OK(c, "SET k v");
    if (!harness_is_redis()) {
        EXPECT_CONFIG(c, "dbfilename", "dump.rdb");
        EXPECT_CONFIG(c, "auto-aof-rewrite-min-size", "67108864");
        /* asking for persistence is refused, not a false OK */
        EXPECT_ERR(c, "ERR CONFIG SET failed (possibly related to argument 'appendonly') - "
                      "mmcache keeps no data on disk: 'appendonly' stays 'no'",
                   "CONFIG SET appendonly yes");
        EXPECT_ERR(c, "ERR CONFIG SET failed (possibly related to argument 'save') - "
                      "mmcache keeps no data on disk: 'save' stays ''",
                   "CONFIG SET hz 12 save %s", "900 1");
        EXPECT_CONFIG(c, "hz", "11");   /* all or nothing */
        EXPECT_ERR(c, "ERR CONFIG SET failed (possibly related to argument 'dbfilename') - "
                      "mmcache keeps no data on disk: 'dbfilename' stays 'dump.rdb'",
                   "CONFIG SET dbfilename x.rdb");
        EXPECT_ERR(c, "ERR Unknown option or number of arguments for CONFIG SET - 'nosuch'",
                   "CONFIG SET appendonly yes nosuch 1");
        EXPECT_OK(c, "CONFIG SET save %s hz 13", "");
        EXPECT_CONFIG(c, "hz", "13");
        EXPECT_ERR(c, "ERR mmcache keeps no data on disk: SAVE is not supported "
                      "(the cache is empty after a restart)", "SAVE");
        EXPECT_ERR(c, "ERR mmcache keeps no data on disk: BGSAVE is not supported "
                      "(the cache is empty after a restart)", "BGSAVE");
        EXPECT_ERR(c, "ERR mmcache keeps no data on disk: BGSAVE is not supported "
                      "(the cache is empty after a restart)", "BGSAVE SCHEDULE");
        EXPECT_ERR(c, "ERR mmcache keeps no data on disk: BGREWRITEAOF is not supported "
                      "(the cache is empty after a restart)", "BGREWRITEAOF");
        EXPECT_ERR(c, "ERR syntax error", "BGSAVE NOW");
        /* one warning, naming each directive once */
        EXPECT_LOG(&srv, "# mmcache keeps no data on disk: ignoring the persistence directives "
                         "save, appendonly, appendfsync, appendfilename, appenddirname, "
                         "dbfilename, dir, rdbcompression");
        assert_int_equal(log_count(warning), 1);
    }
    redisFree(c);
    stop_ok();
    /* and nothing was written where the file pointed (Redis: --save '') */
    struct stat st;
    assert_int_equal(stat(rdb, &st), -1);
}

/* The dir the server runs in is CONFIG GET dir's answer: a file cannot
 * move it (Redis chdir()s there; mmcache never does, so a path that does
 * not exist starts it all the same and nothing is created). */
static void test_dir_never_touched(void **state)
{
    HARNESS_MMCACHE_ONLY("Redis chdir()s to dir and refuses one that does not exist");
    char conf[PATH_MAX], nodir[PATH_MAX], cwd[PATH_MAX], text[PATH_MAX * 2];
    path_in_dir(conf, sizeof(conf), "dir.conf");
    path_in_dir(nodir, sizeof(nodir), "nodir");
    snprintf(text, sizeof(text), "dir %s/sub\ndbfilename ../../etc/passwd\nappendonly yes\n",
             nodir);
    write_file(conf, text);
    start_file(conf, NULL);
    redisContext *c = harness_connect(&srv);
    assert_non_null(c);
    assert_non_null(getcwd(cwd, sizeof(cwd)));   /* the harness starts it here */
    EXPECT_CONFIG(c, "dir", cwd);
    EXPECT_CONFIG(c, "appendonly", "no");
    EXPECT_OK(c, "CONFIG SET dir %s", cwd);   /* what is already so */
    redisFree(c);
    stop_ok();
    struct stat st;
    assert_int_equal(stat(nodir, &st), -1);
}

/* The persistence lines of the machine's own redis.conf, if it has one,
 * and Debian 12's copy otherwise, start mmcache. */
static void test_stock_redis_conf(void **state)
{
    HARNESS_MMCACHE_ONLY("the warning and which directives mmcache ignores");
    char conf[PATH_MAX], line[4096], *words[64];
    char *text = calloc(1, 1 << 20);
    size_t used = 0;
    int from_host = 0;
    assert_non_null(text);
    FILE *f = fopen(DEBIAN_CONF, "r");
    while (f && fgets(line, sizeof(line), f) && used + sizeof(line) < (1 << 20)) {
        char copy[sizeof(line)];
        snprintf(copy, sizeof(copy), "%s", line);
        if (cfg_split_line(copy, words, 64) >= 1 && words[0][0] != '#' &&
            cfg_persist_index(words[0]) >= 0) {
            used += (size_t)snprintf(text + used, (1 << 20) - used, "%s", line);
            from_host++;
        }
    }
    if (f)
        fclose(f);
    if (from_host == 0)
        snprintf(text, 1 << 20, "%s", debian_lines);
    print_message("persistence lines from %s: %d\n", from_host ? DEBIAN_CONF : "Debian 12's copy",
                  from_host ? from_host : 18);
    path_in_dir(conf, sizeof(conf), "stock.conf");
    write_file(conf, text);
    free(text);
    start_file(conf, NULL);
    EXPECT_LOG(&srv, warning);
    assert_int_equal(log_count(warning), 1);
    stop_ok();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_teardown(f, teardown)
        T(test_redis_conf_persistence),
        T(test_dir_never_touched),
        T(test_stock_redis_conf),
#undef T
    };
    int failed = cmocka_run_group_tests_name("integration/persist", tests, group_setup,
                                             group_teardown);
    return harness_finish(failed);
}
