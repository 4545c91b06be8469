/*
 * Tests of config/persist.c: Redis's persistence directives are accepted
 * by the config file and the flags with any value and ignored (no setting
 * changes, no file or directory is touched, the working directory stays),
 * each is remembered for the one start-up warning, CONFIG GET's answers
 * are a Redis without persistence's, and a CONFIG SET is accepted only
 * when it changes nothing.
 */
#include <limits.h>
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

#include "config.h"

#define BIT(name) (1u << cfg_persist_index(name))

/* Every setting of a equals b's, as CONFIG GET shows them. */
static void assert_same_settings(const struct cfg *a, const struct cfg *b)
{
    char va[CFG_VALUE_MAX], vb[CFG_VALUE_MAX];
    for (size_t i = 0; cfg_names[i] != NULL; i++) {
        cfg_get(a, cfg_names[i], va, sizeof(va));
        cfg_get(b, cfg_names[i], vb, sizeof(vb));
        if (strcmp(va, vb) != 0)
            fail_msg("%s: '%s', want '%s'", cfg_names[i], va, vb);
    }
}

static void test_file_accepts_and_ignores(void **s)
{
    (void)s;
    char path[] = "/tmp/mmcache-test-persist-XXXXXX", dir[64], cwd[PATH_MAX], cwd2[PATH_MAX];
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    snprintf(dir, sizeof(dir), "/tmp/mmcache-persist-nodir-%d", (int)getpid());
    char text[2048];
    /* Debian's redis.conf persistence lines, save points, and paths an
     * attacker would like written to */
    int n = snprintf(text, sizeof(text),
        "save 900 1 300 10 60 10000\nsave \"\"\nappendonly yes\nappendfsync always\n"
        "appendfilename \"appendonly.aof\"\nappenddirname \"appendonlydir\"\n"
        "dir %s/sub\ndbfilename ../../../etc/passwd\nrdbcompression yes\nrdbchecksum yes\n"
        "rdb-del-sync-files no\nstop-writes-on-bgsave-error yes\nno-appendfsync-on-rewrite no\n"
        "auto-aof-rewrite-percentage 100\nauto-aof-rewrite-min-size 64mb\n"
        "aof-load-truncated yes\naof-use-rdb-preamble yes\naof-timestamp-enabled no\n"
        "aof-rewrite-incremental-fsync yes\nrdb-save-incremental-fsync yes\nport 7000\n", dir);
    assert_true(n > 0 && (size_t)n < sizeof(text));
    assert_int_equal(write(fd, text, (size_t)n), n);
    close(fd);

    struct cfg c, want;
    char err[CFG_ERRLEN] = "";
    assert_non_null(getcwd(cwd, sizeof(cwd)));
    cfg_defaults(&c);
    int rc = cfg_load_file(&c, path, err, sizeof(err));
    unlink(path);
    if (rc != 0)
        fail_msg("load: %s", err);
    cfg_defaults(&want);
    want.port = 7000;
    assert_same_settings(&c, &want);
    /* every directive remembered, for the warning */
    for (int i = 0; cfg_persist_name(i) != NULL; i++)
        if (!(c.persist_ignored & (1u << i)))
            fail_msg("%s not noted", cfg_persist_name(i));
    /* nothing touched: no directory made, none entered */
    struct stat st;
    assert_int_equal(stat(dir, &st), -1);
    assert_non_null(getcwd(cwd2, sizeof(cwd2)));
    assert_string_equal(cwd, cwd2);
}

static int argc_of(char **v)
{
    int n = 0;
    while (v[n])
        n++;
    return n;
}

static void test_flags_accept_and_ignore(void **s)
{
    (void)s;
    char *argv[] = {"mmcache", "--save", "", "--appendonly", "yes", "--dir=/nonexistent/x",
                    "--DBFILENAME", "/etc/shadow", "--port", "7001", NULL};
    struct cfg c, want;
    char err[CFG_ERRLEN] = "";
    int exit_now;
    cfg_defaults(&c);
    if (cfg_parse_args(&c, argc_of(argv), argv, err, sizeof(err), &exit_now) != 0)
        fail_msg("flags: %s", err);
    assert_int_equal(exit_now, 0);
    cfg_defaults(&want);
    want.port = 7001;
    assert_same_settings(&c, &want);
    assert_int_equal(c.persist_ignored,
                     BIT("save") | BIT("appendonly") | BIT("dir") | BIT("dbfilename"));
    /* a persistence directive still needs its value, as any flag */
    char *bad[] = {"mmcache", "--appendonly", NULL};
    cfg_defaults(&c);
    assert_int_equal(cfg_parse_args(&c, 2, bad, err, sizeof(err), &exit_now), -1);
    assert_string_equal(err, "flag '--appendonly' needs a value");
}

/* What CONFIG GET answers: a Redis that saves nothing. */
static void test_values(void **s)
{
    (void)s;
    char v[CFG_VALUE_MAX], cwd[PATH_MAX];
    struct { const char *name, *want; } rows[] = {
        {"save", ""}, {"appendonly", "no"}, {"APPENDFSYNC", "everysec"},
        {"dbfilename", "dump.rdb"}, {"auto-aof-rewrite-min-size", "67108864"},
        {"rdbcompression", "yes"},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        int k = cfg_persist_index(rows[i].name);
        assert_true(k >= 0);
        cfg_persist_value(k, v, sizeof(v));
        assert_string_equal(v, rows[i].want);
    }
    assert_non_null(getcwd(cwd, sizeof(cwd)));
    cfg_persist_value(cfg_persist_index("dir"), v, sizeof(v));
    assert_string_equal(v, cwd);
    /* settings and unknown names are not persistence directives */
    assert_int_equal(cfg_persist_index("port"), -1);
    assert_int_equal(cfg_persist_index("daemonize"), -1);
    assert_int_equal(cfg_persist_index("saves"), -1);
    assert_null(cfg_persist_name(-1));
    /* no name is both a setting and a persistence directive */
    for (int i = 0; cfg_persist_name(i) != NULL; i++)
        assert_null(cfg_canonical_name(cfg_persist_name(i)));
}

/* CONFIG SET: what is already true is accepted, the rest refused. */
static void test_check_set(void **s)
{
    (void)s;
    char err[CFG_ERRLEN], cwd[PATH_MAX];
    assert_int_equal(cfg_persist_check_set(cfg_persist_index("save"), "", err, sizeof(err)), 0);
    assert_int_equal(cfg_persist_check_set(cfg_persist_index("appendonly"), "NO", err,
                                           sizeof(err)), 0);
    assert_non_null(getcwd(cwd, sizeof(cwd)));
    assert_int_equal(cfg_persist_check_set(cfg_persist_index("dir"), cwd, err, sizeof(err)), 0);

    assert_int_equal(cfg_persist_check_set(cfg_persist_index("appendonly"), "yes", err,
                                           sizeof(err)), -1);
    assert_string_equal(err, "mmcache keeps no data on disk: 'appendonly' stays 'no'");
    assert_int_equal(cfg_persist_check_set(cfg_persist_index("save"), "900 1", err,
                                           sizeof(err)), -1);
    assert_string_equal(err, "mmcache keeps no data on disk: 'save' stays ''");
    assert_int_equal(cfg_persist_check_set(cfg_persist_index("dbfilename"), "x.rdb", err,
                                           sizeof(err)), -1);
    assert_int_equal(cfg_persist_check_set(cfg_persist_index("dir"), "/tmp/elsewhere", err,
                                           sizeof(err)), -1);
}

static void test_describe(void **s)
{
    (void)s;
    char buf[512];
    cfg_persist_describe(BIT("dir") | BIT("save") | BIT("appendonly"), buf, sizeof(buf));
    assert_string_equal(buf, "save, appendonly, dir");
    cfg_persist_describe(0, buf, sizeof(buf));
    assert_string_equal(buf, "");
    cfg_persist_describe(~0u, buf, 8);   /* cut, still a string */
    assert_int_equal(strlen(buf), 7);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_file_accepts_and_ignores),
        cmocka_unit_test(test_flags_accept_and_ignore),
        cmocka_unit_test(test_values),
        cmocka_unit_test(test_check_set),
        cmocka_unit_test(test_describe),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
