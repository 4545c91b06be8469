/*
 * Tests of config/file.c: splitting a line the way Redis reads its config
 * file, loading files (format, every directive, every error message with
 * file, line, directive and what is allowed), the documented example
 * mmcache.conf, and CONFIG REWRITE (comments and order kept, values
 * replaced in place, duplicates dropped, missing settings appended, and
 * the result loads back to the same settings).
 */
#include <errno.h>
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

#ifndef MMCACHE_CONF
#error "MMCACHE_CONF: the path of the documented mmcache.conf (set by CMake)"
#endif

/* ---- temp files ---------------------------------------------------------------- */

/* The test's file, made empty by setup and removed by teardown. */
static char path[64];

static int setup_file(void **s)
{
    (void)s;
    strcpy(path, "/tmp/mmcache-test-file-XXXXXX");
    int fd = mkstemp(path);
    if (fd < 0)
        return -1;
    close(fd);
    return 0;
}

static int teardown_file(void **s)
{
    (void)s;
    unlink(path);
    return 0;
}

static void write_file(const char *p, const char *text)
{
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
    assert_int_equal(fclose(f), 0);
}

/* The whole file as a string; the caller frees it. */
static char *read_file(const char *p)
{
    FILE *f = fopen(p, "r");
    assert_non_null(f);
    char *buf = calloc(1, 1 << 20);
    assert_non_null(buf);
    size_t n = fread(buf, 1, (1 << 20) - 1, f);
    buf[n] = 0;
    fclose(f);
    return buf;
}

/* Load `text` (written to the test's file) onto the defaults. */
static int load(struct cfg *c, const char *text, char *err, size_t errlen)
{
    write_file(path, text);
    cfg_defaults(c);
    strcpy(err, "(no message)");
    return cfg_load_file(c, path, err, errlen);
}

/* Loading `text` fails with "<path>:<line>: <msg>", the message exactly. */
static void load_bad(const char *text, int line, const char *msg)
{
    struct cfg c;
    char err[CFG_ERRLEN], want[CFG_ERRLEN + 256];
    assert_int_equal(load(&c, text, err, sizeof(err)), -1);
    snprintf(want, sizeof(want), "%s:%d: %s", path, line, msg);
    if (strcmp(err, want) != 0)
        fail_msg("loading \"%s\":\n got  \"%s\"\n want \"%s\"", text, err, want);
}

/* ---- cfg_split_line ---------------------------------------------------------------- */

static int split(const char *line, char buf[512], char **argv, int max)
{
    snprintf(buf, 512, "%s", line);
    return cfg_split_line(buf, argv, max);
}

static void test_split_plain(void **s)
{
    (void)s;
    char buf[512], *argv[8];
    assert_int_equal(split("port 6379", buf, argv, 8), 2);
    assert_string_equal(argv[0], "port");
    assert_string_equal(argv[1], "6379");
    assert_int_equal(split("  \ta \t b\tc   ", buf, argv, 8), 3);
    assert_string_equal(argv[0], "a");
    assert_string_equal(argv[1], "b");
    assert_string_equal(argv[2], "c");
    assert_int_equal(split("", buf, argv, 8), 0);
    assert_int_equal(split("  \t ", buf, argv, 8), 0);
    /* a quote inside a word is just a character */
    assert_int_equal(split("a\"b c'd", buf, argv, 8), 2);
    assert_string_equal(argv[0], "a\"b");
    assert_string_equal(argv[1], "c'd");
    /* backslashes outside quotes are kept */
    assert_int_equal(split("a\\nb", buf, argv, 8), 1);
    assert_string_equal(argv[0], "a\\nb");
}

static void test_split_double_quotes(void **s)
{
    (void)s;
    char buf[512], *argv[8];
    assert_int_equal(split("bind \"a b\"", buf, argv, 8), 2);
    assert_string_equal(argv[1], "a b");
    /* every escape */
    assert_int_equal(split("\"\\n\\r\\t\\b\\a\\\\\\\"\\x41\\x7a\\xfF\\x00z\"", buf, argv, 8), 1);
    assert_memory_equal(argv[0], "\n\r\t\b\a\\\"Az\xff\0z", 13);
    /* an unknown escape is the character; \x without two hex digits is "x" */
    assert_int_equal(split("\"\\q\\'\\x4\\xZZ\\x\"", buf, argv, 8), 1);
    assert_string_equal(argv[0], "q'x4xZZx");
    /* empty, adjacent to blanks, single quotes inside */
    assert_int_equal(split("\"\" \"it's\"\t\"x\"", buf, argv, 8), 3);
    assert_string_equal(argv[0], "");
    assert_string_equal(argv[1], "it's");
    assert_string_equal(argv[2], "x");
}

static void test_split_single_quotes(void **s)
{
    (void)s;
    char buf[512], *argv[8];
    assert_int_equal(split("x 'a b'", buf, argv, 8), 2);
    assert_string_equal(argv[1], "a b");
    assert_int_equal(split("'it\\'s'", buf, argv, 8), 1);
    assert_string_equal(argv[0], "it's");
    /* no other escapes in single quotes */
    assert_int_equal(split("'a\\nb\\x41\"'", buf, argv, 8), 1);
    assert_string_equal(argv[0], "a\\nb\\x41\"");
    assert_int_equal(split("''", buf, argv, 8), 1);
    assert_string_equal(argv[0], "");
}

static void test_split_errors(void **s)
{
    (void)s;
    char buf[512], *argv[8];
    static const char *const bad[] = {
        "\"abc", "'abc", "port \"6379", "\"abc\\\"", "'abc\\'", "\"abc\\",
        "\"a\"b", "'a'b", "x \"a\"\"b\"", "\"a\"'b'",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (split(bad[i], buf, argv, 8) != -1)
            fail_msg("cfg_split_line accepted [%s]", bad[i]);
    }
    /* too many arguments: max is the limit, max + 1 fails */
    assert_int_equal(split("a b c", buf, argv, 3), 3);
    assert_int_equal(split("a b c d", buf, argv, 3), -1);
    assert_int_equal(split("a b c ", buf, argv, 3), 3);
    assert_int_equal(split("a \"b\" 'c' \"d\"", buf, argv, 3), -1);
}

/* ---- cfg_load_file: the format ---------------------------------------------------- */

static void test_load_format(void **s)
{
    (void)s;
    struct cfg c, want;
    char err[CFG_ERRLEN];
    const char *text =
        "# a comment\r\n"
        "\r\n"
        "   \t port 7000\r\n"
        "  # an indented comment with \"quotes' in it\n"
        "\t\n"
        "MAXMEMORY 100mb\n"
        "maxmemory-policy \"volatile-lru\"\n"
        "LogLevel 'warning'\r\n"
        "timeout 5\n"
        "bind \"::1\"\n"
        "timeout 6\n"
        "hz 20";   /* no newline at the end */
    assert_int_equal(load(&c, text, err, sizeof(err)), 0);
    cfg_defaults(&want);
    want.port = 7000;
    want.maxmemory = 100 * 1024 * 1024;
    want.policy = CFG_VOLATILE_LRU;
    want.loglevel = CFG_LOG_WARNING;
    want.timeout = 6;   /* the last line wins */
    strcpy(want.bind, "::1");
    want.hz = 20;
    assert_memory_equal(&c, &want, sizeof(c));
}

static void test_load_empty_and_comments_only(void **s)
{
    (void)s;
    struct cfg c, def;
    char err[CFG_ERRLEN];
    cfg_defaults(&def);
    assert_int_equal(load(&c, "", err, sizeof(err)), 0);
    assert_memory_equal(&c, &def, sizeof(c));
    assert_int_equal(load(&c, "\n\n# port 1\n   # hz 0\n\r\n", err, sizeof(err)), 0);
    assert_memory_equal(&c, &def, sizeof(c));
}

/* The loader applies onto what it is given: settings without a line keep
 * the caller's values (this is how defaults < file works). */
static void test_load_keeps_unmentioned(void **s)
{
    (void)s;
    struct cfg c;
    char err[CFG_ERRLEN];
    write_file(path, "hz 30\n");
    cfg_defaults(&c);
    c.port = 7777;
    c.timeout = 99;
    assert_int_equal(cfg_load_file(&c, path, err, sizeof(err)), 0);
    assert_int_equal(c.hz, 30);
    assert_int_equal(c.port, 7777);
    assert_int_equal(c.timeout, 99);
}

/* Every directive, each set to a value that is not its default. */
static void test_load_every_directive(void **s)
{
    (void)s;
    struct cfg c;
    char err[CFG_ERRLEN];
    const char *text =
        "bind 10.0.0.1\n"
        "port 7001\n"
        "threads 3\n"
        "shards 64\n"
        "maxmemory 2gb\n"
        "maxmemory-policy allkeys-random\n"
        "maxclients 50\n"
        "timeout 300\n"
        "loglevel debug\n"
        "client-query-buffer-limit 2mb\n"
        "client-output-buffer-limit 0\n"
        "proto-max-bulk-len 1gb\n"
        "hz 100\n";
    assert_int_equal(load(&c, text, err, sizeof(err)), 0);
    assert_string_equal(c.bind, "10.0.0.1");
    assert_int_equal(c.port, 7001);
    assert_int_equal(c.threads, 3);
    assert_int_equal(c.shards, 64);
    assert_int_equal(c.maxmemory, 2ULL << 30);
    assert_int_equal(c.policy, CFG_ALLKEYS_RANDOM);
    assert_int_equal(c.maxclients, 50);
    assert_int_equal(c.timeout, 300);
    assert_int_equal(c.loglevel, CFG_LOG_DEBUG);
    assert_int_equal(c.client_query_buffer_limit, 2ULL << 20);
    assert_int_equal(c.obuf_limits[CFG_OBUF_NORMAL].hard, 0);
    assert_int_equal(c.proto_max_bulk_len, 1LL << 30);
    assert_int_equal(c.hz, 100);
}

/* The documented mmcache.conf: it loads, names every directive (threads
 * commented out: its default depends on the machine), and every value in
 * it is the default. Loaded over a struct where every setting differs
 * from its default, so each line must take effect. */
static void test_documented_file(void **s)
{
    (void)s;
    struct cfg c, def;
    char err[CFG_ERRLEN];
    static const char *const other[][2] = {
        {"bind", "::1"}, {"port", "1"}, {"threads", "7"}, {"shards", "2"},
        {"maxmemory", "1"}, {"maxmemory-policy", "noeviction"}, {"maxclients", "1"},
        {"timeout", "1"}, {"loglevel", "debug"}, {"client-query-buffer-limit", "2mb"},
        {"client-output-buffer-limit", "1"}, {"proto-max-bulk-len", "2mb"}, {"hz", "1"},
        {"loader", "synthetic"}, {"loader-timeout-ms", "5"}, {"loader-ttl", "0"},
        {"loader-negative-ttl", "9"}, {"loader-max-inflight", "3"}, {"loader-threads", "2"},
        {"loader-synthetic-latency-ms", "7"}, {"loader-synthetic-value-size", "100"},
        {"loader-synthetic-error-rate", "0.5"}, {"loader-max-value-size", "1"},
        {"hash-max-listpack-entries", "1"},
        {"hash-max-listpack-value", "2"}, {"set-max-intset-entries", "3"},
        {"set-max-listpack-entries", "4"}, {"set-max-listpack-value", "5"},
        {"list-max-listpack-size", "6"}, {"zset-max-listpack-entries", "7"},
        {"zset-max-listpack-value", "8"}, {"lazyfree-lazy-eviction", "no"},
        {"lazyfree-lazy-expire", "no"}, {"lazyfree-lazy-server-del", "no"},
        {"lazyfree-lazy-user-del", "no"}, {"lazyfree-lazy-user-flush", "no"},
        {"inject-bug", "13"}, {"bug-amplify", "no"}, {"bug-misalign", "no"},
        {"enable-debug-command", "yes"},
        {"enable-protected-configs", "local"}, {"enable-bug-lab", "no"},
        {"requirepass", "pw"}, {"protected-mode", "no"}, {"aclfile", "/x"},
        {"acllog-max-len", "1"},
        {"maxmemory-samples", "10"}, {"lfu-log-factor", "1"}, {"lfu-decay-time", "5"}, {"metrics-port", "9121"},
        {"latency-tracking", "no"}, {"latency-tracking-info-percentiles", "99"},
        {"slowlog-log-slower-than", "-1"}, {"slowlog-max-len", "5"},
        {"latency-monitor-threshold", "100"},
    };
    cfg_defaults(&def);
    cfg_defaults(&c);
    size_t n = 0;
    for (; cfg_names[n]; n++) {
        char now[CFG_VALUE_MAX], dv[CFG_VALUE_MAX];
        assert_string_equal(other[n][0], cfg_names[n]);
        assert_int_equal(cfg_set(&c, other[n][0], other[n][1], err, sizeof(err)), 0);
        cfg_get(&c, cfg_names[n], now, sizeof(now));
        cfg_get(&def, cfg_names[n], dv, sizeof(dv));
        assert_string_not_equal(now, dv);
    }
    assert_int_equal(n, sizeof(other) / sizeof(other[0]));
    int rc = cfg_load_file(&c, MMCACHE_CONF, err, sizeof(err));
    if (rc)
        fail_msg("%s", err);
    assert_int_equal(c.threads, 7);   /* commented out: not touched */
    c.threads = def.threads;
    assert_memory_equal(&c, &def, sizeof(c));

    /* each directive has exactly one line; threads only as "# threads N" */
    char *text = read_file(MMCACHE_CONF);
    for (size_t i = 0; cfg_names[i]; i++) {
        int active = 0, commented = 0;
        char *save, *line;
        char *copy = strdup(text);
        for (line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
            char *argv[8];
            const char *p = line;
            int hash = *p == '#';
            p += hash;
            char lb[512];
            snprintf(lb, sizeof(lb), "%s", p);
            int argc = cfg_split_line(lb, argv, 8);
            bool fits = argc == 2 || (argc > 2 && cfg_takes_words(cfg_names[i]));
            if (fits && strcmp(argv[0], cfg_names[i]) == 0)
                hash ? commented++ : active++;
        }
        free(copy);
        if (strcmp(cfg_names[i], "threads") == 0) {
            assert_int_equal(active, 0);
            assert_int_equal(commented, 1);
        } else if (active != 1) {
            fail_msg("mmcache.conf has %d lines for %s", active, cfg_names[i]);
        }
    }
    free(text);
}

/* ---- cfg_load_file: every error message --------------------------------------------- */

static void test_load_missing_file(void **s)
{
    (void)s;
    struct cfg c, def;
    char err[CFG_ERRLEN], want[CFG_ERRLEN];
    char missing[96];
    snprintf(missing, sizeof(missing), "%s.does-not-exist", path);
    cfg_defaults(&c);
    cfg_defaults(&def);
    assert_int_equal(cfg_load_file(&c, missing, err, sizeof(err)), -1);
    snprintf(want, sizeof(want), "%s: cannot open the config file: No such file or directory", missing);
    assert_string_equal(err, want);
    assert_memory_equal(&c, &def, sizeof(c));
    /* a directory opens but cannot be read */
    assert_int_equal(cfg_load_file(&c, "/tmp", err, sizeof(err)), -1);
    assert_string_equal(err, "/tmp: cannot read the config file: Is a directory");
}

static void test_load_too_large(void **s)
{
    (void)s;
    struct cfg c;
    char err[CFG_ERRLEN], want[CFG_ERRLEN];
    size_t n = 1024 * 1024 + 1;
    char *text = malloc(n + 1);
    assert_non_null(text);
    memset(text, '\n', n);
    text[n] = 0;
    assert_int_equal(load(&c, text, err, sizeof(err)), -1);
    snprintf(want, sizeof(want), "%s: cannot read the config file: larger than 1 MB", path);
    assert_string_equal(err, want);
    text[n - 1] = 0;   /* exactly 1 MB of blank lines is fine */
    assert_int_equal(load(&c, text, err, sizeof(err)), 0);
    free(text);
}

static void test_load_unknown_directive(void **s)
{
    (void)s;
    load_bad("# comment\n\nmaxmem 100mb\n", 3,
             "unknown directive 'maxmem' (directives: bind, port, threads, ...; "
             "see mmcache.conf or mmcache --help)");
    load_bad("daemonize yes\n", 1,
             "unknown directive 'daemonize' (directives: bind, port, threads, ...; "
             "see mmcache.conf or mmcache --help)");
    load_bad("\"port\"x 1\n", 1, "'port': unbalanced quotes or too many arguments");
}

static void test_load_wrong_arg_count(void **s)
{
    (void)s;
    load_bad("port 1 2\n", 1, "'port' takes exactly one value (got 2)");
    load_bad("hz 10\nPORT\n", 2, "'port' takes exactly one value (got 0)");
    load_bad("\n\nbind 127.0.0.1 ::1\n", 3, "'bind' takes exactly one value (got 2)");
    load_bad("maxmemory 1 2 3 4 5 6 7\n", 1, "'maxmemory' takes exactly one value (got 7)");
    /* a comment after a value is not a comment (as in Redis) */
    load_bad("timeout 0 # never\n", 1, "'timeout' takes exactly one value (got 3)");
    /* more words than the parser keeps */
    load_bad("maxmemory 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n", 1,
             "'maxmemory': unbalanced quotes or too many arguments");
}

static void test_load_bad_quotes(void **s)
{
    (void)s;
    load_bad("port 1\nmaxmemory \"unbalanced\n", 2, "'maxmemory': unbalanced quotes or too many arguments");
    load_bad("maxmemory 'x\n", 1, "'maxmemory': unbalanced quotes or too many arguments");
    load_bad("LOGLEVEL \"debug\"x\n", 1, "'loglevel': unbalanced quotes or too many arguments");
    load_bad("  \"no such\n", 1, "'no': unbalanced quotes or too many arguments");
}

/* A bad value on each directive: "<file>:<line>: '<directive>': <what is
 * allowed> (got '<value>')". */
/* 1025 bytes: one more than a string setting takes */
#define LONG_64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define LONG_1025 LONG_64 LONG_64 LONG_64 LONG_64 LONG_64 LONG_64 LONG_64 LONG_64 \
    LONG_64 LONG_64 LONG_64 LONG_64 LONG_64 LONG_64 LONG_64 LONG_64 "x"

static void test_load_bad_value_every_directive(void **s)
{
    (void)s;
    static const char *const mem = "argument must be a memory value like 512mb or 1gb "
                                   "(units b, k, kb, m, mb, g, gb)";
    static const struct { const char *line; const char *msg; } cases[] = {
        {"bind localhost", "'bind': argument must be one IPv4 or IPv6 address, e.g. 127.0.0.1, "
                           "0.0.0.0 or ::1 (got 'localhost')"},
        {"port 65536", "'port': argument must be an integer between 1 and 65535 inclusive (got '65536')"},
        {"threads 0", "'threads': argument must be an integer between 1 and 256 inclusive (got '0')"},
        {"shards 100", "'shards': argument must be a power of two (got '100')"},
        {"shards 0", "'shards': argument must be an integer between 1 and 65536 inclusive (got '0')"},
        {"maxmemory 12xb", NULL},
        {"maxmemory-policy lfu", "'maxmemory-policy': argument must be one of the following: "
                                 "allkeys-lru, volatile-lru, allkeys-random, noeviction, allkeys-lfu, "
                                 "volatile-lfu, volatile-random, volatile-ttl (got 'lfu')"},
        {"maxclients 1000001", "'maxclients': argument must be an integer between 1 and 1000000 "
                               "inclusive (got '1000001')"},
        {"timeout abc", "'timeout': argument must be an integer between 0 and 2147483647 "
                        "inclusive (got 'abc')"},
        {"loglevel info", "'loglevel': argument must be one of the following: debug, verbose, "
                          "notice, warning (got 'info')"},
        {"client-query-buffer-limit 1000", NULL},
        {"client-output-buffer-limit normal 1mb 0", "'client-output-buffer-limit': Wrong number of "
                                                    "arguments in buffer limit configuration."},
        {"proto-max-bulk-len 1m", NULL},
        {"hz 501", "'hz': argument must be an integer between 1 and 500 inclusive (got '501')"},
        {"TimeOut 5x", "'timeout': argument must be an integer between 0 and 2147483647 "
                       "inclusive (got '5x')"},
        {"timeout \"\"", "'timeout': argument must be an integer between 0 and 2147483647 "
                         "inclusive (got '')"},
        {"port \" 80\"", "'port': argument must be an integer between 1 and 65535 inclusive (got ' 80')"},
        {"loader memcached", "'loader': argument must be one of: none, synthetic, redis HOST:PORT, "
                             "file DIR (got 'memcached')"},
        {"loader redis localhost", "'loader': 'redis' needs HOST:PORT, e.g. redis 127.0.0.1:6380 "
                                   "or redis [::1]:6380 (got 'redis localhost')"},
        {"loader-timeout-ms 0", "'loader-timeout-ms': argument must be an integer between 1 and "
                                "60000 inclusive (got '0')"},
        {"loader-ttl -1", "'loader-ttl': argument must be an integer between 0 and 2147483647 "
                          "inclusive (got '-1')"},
        {"loader-negative-ttl x", "'loader-negative-ttl': argument must be an integer between 0 "
                                  "and 2147483647 inclusive (got 'x')"},
        {"loader-max-inflight 0", "'loader-max-inflight': argument must be an integer between 1 "
                                  "and 1000000 inclusive (got '0')"},
        {"loader-threads 1025", "'loader-threads': argument must be an integer between 1 and "
                                "1024 inclusive (got '1025')"},
        {"loader-synthetic-latency-ms 60001", "'loader-synthetic-latency-ms': argument must be "
                                                "an integer between 0 and 60000 inclusive "
                                                "(got '60001')"},
        {"loader-synthetic-value-size 1e3", "'loader-synthetic-value-size': argument must be an "
                                            "integer between 0 and 67108864 inclusive (got '1e3')"},
        {"loader-synthetic-error-rate 1.5", "'loader-synthetic-error-rate': argument must be a "
                                            "number between 0 and 1, e.g. 0.05 (got '1.5')"},
        {"hash-max-listpack-entries -1", "'hash-max-listpack-entries': argument must be an "
                                         "integer between 0 and 9223372036854775807 inclusive "
                                         "(got '-1')"},
        {"hash-max-listpack-value 1k", "'hash-max-listpack-value': argument must be an integer "
                                       "between 0 and 9223372036854775807 inclusive (got '1k')"},
        {"set-max-intset-entries 9223372036854775808", "'set-max-intset-entries': argument must "
                                                       "be an integer between 0 and "
                                                       "9223372036854775807 inclusive (got "
                                                       "'9223372036854775808')"},
        {"set-max-listpack-entries x", "'set-max-listpack-entries': argument must be an integer "
                                       "between 0 and 9223372036854775807 inclusive (got 'x')"},
        {"set-max-listpack-value -5", "'set-max-listpack-value': argument must be an integer "
                                      "between 0 and 9223372036854775807 inclusive (got '-5')"},
        {"list-max-listpack-size 2147483648", "'list-max-listpack-size': argument must be an "
                                              "integer between -2147483648 and 2147483647 "
                                              "inclusive (got '2147483648')"},
        {"zset-max-listpack-entries 1.5", "'zset-max-listpack-entries': argument must be an "
                                          "integer between 0 and 9223372036854775807 inclusive "
                                          "(got '1.5')"},
        {"zset-max-listpack-value +1", "'zset-max-listpack-value': argument must be an integer "
                                       "between 0 and 9223372036854775807 inclusive (got '+1')"},
        {"lazyfree-lazy-eviction 1", "'lazyfree-lazy-eviction': argument must be 'yes' or 'no' "
                                     "(got '1')"},
        {"lazyfree-lazy-expire on", "'lazyfree-lazy-expire': argument must be 'yes' or 'no' "
                                    "(got 'on')"},
        {"lazyfree-lazy-server-del y", "'lazyfree-lazy-server-del': argument must be 'yes' or "
                                       "'no' (got 'y')"},
        {"lazyfree-lazy-user-del true", "'lazyfree-lazy-user-del': argument must be 'yes' or "
                                        "'no' (got 'true')"},
        {"lazyfree-lazy-user-flush 0", "'lazyfree-lazy-user-flush': argument must be 'yes' or "
                                       "'no' (got '0')"},
        {"inject-bug 26", "'inject-bug': unknown bug '26': valid bugs are 1..25 by number or "
                          "name, or none (mmcache --inject-bug=list shows them)"},
        {"bug-amplify maybe", "'bug-amplify': argument must be 'yes' or 'no' (got 'maybe')"},
        {"bug-misalign 63", "'bug-misalign': argument must be 'yes' or 'no' (got '63')"},
        {"loader-max-value-size 1q", NULL},
        {"enable-debug-command on", "'enable-debug-command': argument must be one of the "
                                    "following: no, yes, local (got 'on')"},
        {"enable-protected-configs 1", "'enable-protected-configs': argument must be one of the "
                                       "following: no, yes, local (got '1')"},
        {"enable-bug-lab remote", "'enable-bug-lab': argument must be one of the following: no, "
                                  "yes, local (got 'remote')"},
        {"requirepass " LONG_1025, "'requirepass': argument must be at most 1024 bytes"},
        {"protected-mode 1", "'protected-mode': argument must be 'yes' or 'no' (got '1')"},
        {"aclfile " LONG_1025, "'aclfile': argument must be at most 1024 bytes"},
        {"acllog-max-len -1", "'acllog-max-len': argument must be an integer between 0 and "
                              "1000000 inclusive (got '-1')"},
        {"maxmemory-samples 0", "'maxmemory-samples': argument must be an integer between 1 and "
                                "2147483647 inclusive (got '0')"},
        {"lfu-log-factor -1", "'lfu-log-factor': argument must be an integer between 0 and "
                              "2147483647 inclusive (got '-1')"},
        {"lfu-decay-time 2147483648", "'lfu-decay-time': argument must be an integer between 0 and "
                                      "2147483647 inclusive (got '2147483648')"},
        {"metrics-port 65536", "'metrics-port': argument must be an integer between 0 and "
                               "65535 inclusive (got '65536')"},
        {"latency-tracking 1", "'latency-tracking': argument must be 'yes' or 'no' (got '1')"},
        {"latency-tracking-info-percentiles 101", "'latency-tracking-info-percentiles': "
                                                  "latency-tracking-info-percentiles parameters "
                                                  "should sit between [0.0,100.0]"},
        {"slowlog-log-slower-than -2", "'slowlog-log-slower-than': argument must be an integer "
                                       "between -1 and 9223372036854775807 inclusive (got '-2')"},
        {"slowlog-max-len -1", "'slowlog-max-len': argument must be an integer between 0 and "
                               "1000000 inclusive (got '-1')"},
        {"latency-monitor-threshold -1", "'latency-monitor-threshold': argument must be an "
                                         "integer between 0 and 9223372036854775807 inclusive "
                                         "(got '-1')"},
    };
    char msg[CFG_ERRLEN], text[2048];
    bool seen[64] = {false};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char name[64];
        sscanf(cases[i].line, "%63s", name);
        const char *canon = cfg_canonical_name(name);
        assert_non_null(canon);
        for (size_t j = 0; cfg_names[j]; j++)
            if (strcmp(cfg_names[j], canon) == 0)
                seen[j] = true;
        if (cases[i].msg) {
            snprintf(msg, sizeof(msg), "%s", cases[i].msg);
        } else {   /* a memory setting */
            const char *v = strchr(cases[i].line, ' ') + 1;
            bool at_least = strcmp(canon, "client-query-buffer-limit") == 0 ||
                            strcmp(canon, "proto-max-bulk-len") == 0;
            snprintf(msg, sizeof(msg), "'%s': %s%s (got '%s')", canon, mem,
                     at_least ? ", at least 1048576 bytes" : "", v);
        }
        /* on line 3, after a comment and a valid line */
        snprintf(text, sizeof(text), "# test\nhz 11\n%s\nport 1\n", cases[i].line);
        load_bad(text, 3, msg);
    }
    for (size_t j = 0; cfg_names[j]; j++)
        if (!seen[j])
            fail_msg("no bad-value case for %s", cfg_names[j]);
}

static void test_load_reports_first_bad_line(void **s)
{
    (void)s;
    load_bad("port 7000\n"
             "# comment\r\n"
             "timeout -1\r\n"
             "bogus 1\n"
             "port 0\n"
             "hz \"unbalanced\n", 3,
             "'timeout': argument must be an integer between 0 and 2147483647 inclusive (got '-1')");
    load_bad("\n\n\n\n\nbogus 1\ntimeout -1\n", 6,
             "unknown directive 'bogus' (directives: bind, port, threads, ...; "
             "see mmcache.conf or mmcache --help)");
}

/* ---- CONFIG REWRITE ------------------------------------------------------------------ */

static int rewrite(const struct cfg *c, const char *p)
{
    char err[CFG_ERRLEN] = "";
    int rc = cfg_rewrite_file(c, p, err, sizeof(err));
    if (rc)
        print_error("cfg_rewrite_file: %s\n", err);
    return rc;
}

static void assert_no_temp_left(const char *p)
{
    char tmp[512];
    struct stat st;
    snprintf(tmp, sizeof(tmp), "%s.rewrite-%d", p, (int)getpid());
    assert_int_equal(stat(tmp, &st), -1);
}

static void test_rewrite_in_place(void **s)
{
    (void)s;
    struct cfg c;
    char err[CFG_ERRLEN];
    write_file(path,
               "# top comment\n"
               "port 6379\n"
               "\n"
               "# memory\n"
               "MaxMemory   100MB\n"
               "timeout 10\n"
               "  # indented comment\n"
               "timeout 20\n"
               "hz 10\n"
               "\t\n"
               "loglevel \"notice\"\n");
    cfg_defaults(&c);
    assert_int_equal(cfg_load_file(&c, path, err, sizeof(err)), 0);
    assert_int_equal(c.timeout, 20);
    c.port = 7000;                 /* changed: replaced in place */
    c.timeout = 30;                /* changed: first line replaced, second dropped */
    c.maxclients = 500;            /* no line, not default: appended */
    c.policy = CFG_NOEVICTION;     /* no line, not default: appended */
    /* maxmemory 104857600 = "100MB", hz 10 and loglevel notice: kept */
    assert_int_equal(rewrite(&c, path), 0);
    char *got = read_file(path);
    assert_string_equal(got,
                        "# top comment\n"
                        "port 7000\n"
                        "\n"
                        "# memory\n"
                        "MaxMemory   100MB\n"
                        "timeout 30\n"
                        "  # indented comment\n"
                        "hz 10\n"
                        "\t\n"
                        "loglevel \"notice\"\n"
                        "# Generated by CONFIG REWRITE\n"
                        "maxmemory-policy noeviction\n"
                        "maxclients 500\n");
    free(got);
    assert_no_temp_left(path);

    /* it loads back to the same settings; a second rewrite changes nothing */
    struct cfg back;
    cfg_defaults(&back);
    assert_int_equal(cfg_load_file(&back, path, err, sizeof(err)), 0);
    assert_memory_equal(&back, &c, sizeof(c));
    char *before = read_file(path);
    assert_int_equal(rewrite(&back, path), 0);
    char *after = read_file(path);
    assert_string_equal(after, before);
    free(before);
    free(after);
}

/* A duplicate that already says the current value stays; the later ones go. */
static void test_rewrite_duplicates(void **s)
{
    (void)s;
    struct cfg c;
    write_file(path, "hz 20\nport 7000\nhz 20\nHZ 30\nhz 20\n");
    cfg_defaults(&c);
    c.hz = 20;
    c.port = 7000;
    assert_int_equal(rewrite(&c, path), 0);
    char *got = read_file(path);
    assert_string_equal(got, "hz 20\nport 7000\n");
    free(got);
}

/* Lines the rewriter does not understand are the operator's: kept. A
 * directive line with the wrong number of values is replaced. CRLF
 * becomes LF. */
static void test_rewrite_keeps_foreign_lines(void **s)
{
    (void)s;
    struct cfg c;
    write_file(path, "include other.conf\r\nport 1 2\r\nhz 10\r\n# end");
    cfg_defaults(&c);
    assert_int_equal(rewrite(&c, path), 0);
    char *got = read_file(path);
    assert_string_equal(got, "include other.conf\nport 6379\nhz 10\n# end\n");
    free(got);
}

/* Every setting changed and no line for any: all appended, in canonical
 * order, and the file loads back to exactly c. */
/* A writer that may not change the settings behind a lever: their lines
 * stay exactly as they were (every one of them), none is added, and the
 * rest is rewritten as usual. */
static void test_rewrite_guarded(void **s)
{
    (void)s;
    char err[CFG_ERRLEN];
    struct cfg c;
    cfg_defaults(&c);
    assert_int_equal(cfg_set(&c, "inject-bug", "13", err, sizeof(err)), 0);
    assert_int_equal(cfg_set(&c, "bug-amplify", "no", err, sizeof(err)), 0);
    assert_int_equal(cfg_set(&c, "loader", "synthetic", err, sizeof(err)), 0);
    assert_int_equal(cfg_set(&c, "hz", "20", err, sizeof(err)), 0);
    write_file(path, "# lab\ninject-bug none\nhz 10\ninject-bug 2\nloader none\n");
    unsigned open_only = CFG_GUARD_BIT(CFG_GUARD_NONE);
    assert_int_equal(cfg_rewrite_file_guarded(&c, path, open_only, NULL, err, sizeof(err)), 0);
    char *got = read_file(path);
    assert_string_equal(got, "# lab\ninject-bug none\nhz 20\ninject-bug 2\nloader none\n");
    free(got);
    /* the bug lab's settings allowed: those are written, loader is not */
    unsigned lab = open_only | CFG_GUARD_BIT(CFG_GUARD_BUG_LAB);
    assert_int_equal(cfg_rewrite_file_guarded(&c, path, lab, NULL, err, sizeof(err)), 0);
    got = read_file(path);
    assert_string_equal(got, "# lab\ninject-bug 13\nhz 20\nloader none\n"
                             "# Generated by CONFIG REWRITE\nbug-amplify no\n");
    free(got);
    /* no line for a guarded setting: none is added */
    write_file(path, "hz 1\n");
    assert_int_equal(cfg_rewrite_file_guarded(&c, path, 0, NULL, err, sizeof(err)), 0);
    got = read_file(path);
    assert_string_equal(got, "hz 20\n");
    free(got);
    /* everyone's writer: all of it */
    assert_int_equal(cfg_rewrite_file(&c, path, err, sizeof(err)), 0);
    got = read_file(path);
    assert_string_equal(got, "hz 20\n# Generated by CONFIG REWRITE\nloader synthetic\n"
                             "inject-bug 13\nbug-amplify no\n");
    free(got);
    /* a later rewrite that adds more: under the same header, not a second */
    assert_int_equal(cfg_set(&c, "timeout", "5", err, sizeof(err)), 0);
    assert_int_equal(cfg_rewrite_file(&c, path, err, sizeof(err)), 0);
    got = read_file(path);
    assert_string_equal(got, "hz 20\n# Generated by CONFIG REWRITE\nloader synthetic\n"
                             "inject-bug 13\nbug-amplify no\ntimeout 5\n");
    free(got);
}

static void test_rewrite_missing_file_created(void **s)
{
    (void)s;
    char dir[64] = "/tmp/mmcache-test-dir-XXXXXX", p[128], err[CFG_ERRLEN];
    assert_non_null(mkdtemp(dir));
    snprintf(p, sizeof(p), "%s/new.conf", dir);
    struct cfg c, back;
    cfg_defaults(&c);
    c.threads = c.threads == 3 ? 5 : 3;
    static const char *const set[][2] = {
        {"bind", "::1"}, {"port", "7001"}, {"shards", "64"}, {"maxmemory", "100mb"},
        {"maxmemory-policy", "volatile-lru"}, {"maxclients", "123"}, {"timeout", "300"},
        {"loglevel", "debug"}, {"client-query-buffer-limit", "2gb"},
        {"client-output-buffer-limit", "1k"}, {"proto-max-bulk-len", "1mb"}, {"hz", "42"},
    };
    for (size_t i = 0; i < sizeof(set) / sizeof(set[0]); i++)
        assert_int_equal(cfg_set(&c, set[i][0], set[i][1], err, sizeof(err)), 0);
    assert_int_equal(rewrite(&c, p), 0);
    char *got = read_file(p);
    char want[1024];
    snprintf(want, sizeof(want),
             "# Generated by CONFIG REWRITE\n"
             "bind ::1\n"
             "port 7001\n"
             "threads %u\n"
             "shards 64\n"
             "maxmemory 100mb\n"
             "maxmemory-policy volatile-lru\n"
             "maxclients 123\n"
             "timeout 300\n"
             "loglevel debug\n"
             "client-query-buffer-limit 2gb\n"
             "client-output-buffer-limit normal 1000 0 0 slave 256mb 64mb 60 pubsub 32mb 8mb 60\n"
             "proto-max-bulk-len 1mb\n"
             "hz 42\n", c.threads);
    assert_string_equal(got, want);
    free(got);
    cfg_defaults(&back);
    assert_int_equal(cfg_load_file(&back, p, err, sizeof(err)), 0);
    assert_memory_equal(&back, &c, sizeof(c));
    assert_no_temp_left(p);
    unlink(p);

    /* the defaults: an empty file */
    cfg_defaults(&c);
    assert_int_equal(rewrite(&c, p), 0);
    got = read_file(p);
    assert_string_equal(got, "");
    free(got);
    unlink(p);
    assert_int_equal(rmdir(dir), 0);
}

/* client-output-buffer-limit on two lines, one class each: both lines
 * say what runs, so both stay (a later line is not a repeat here: it was
 * dropped, and the pubsub limit was lost at the next restart). Once a
 * class changes, one line with every class replaces them. Either way the
 * file loads back to the running settings. */
/* After a rewrite of c: the file reads `want` and loads back to c. */
static void expect_rewritten(const struct cfg *c, const char *want)
{
    char err[CFG_ERRLEN];
    struct cfg back;

    assert_int_equal(rewrite(c, path), 0);
    char *got = read_file(path);
    assert_string_equal(got, want);
    free(got);
    cfg_defaults(&back);
    assert_int_equal(cfg_load_file(&back, path, err, sizeof(err)), 0);
    assert_memory_equal(&back, c, sizeof(*c));
}

static void test_rewrite_obuf_lines(void **s)
{
    (void)s;
    static const char conf[] = "client-output-buffer-limit normal 256mb 0 0\n"
                               "hz 10\n"
                               "client-output-buffer-limit pubsub 64mb 16mb 60\n";
    char err[CFG_ERRLEN];
    struct cfg c;

    write_file(path, conf);
    cfg_defaults(&c);
    assert_int_equal(cfg_load_file(&c, path, err, sizeof(err)), 0);
    assert_int_equal(c.obuf_limits[CFG_OBUF_PUBSUB].hard, 64u << 20);
    c.timeout = 5;
    expect_rewritten(&c, "client-output-buffer-limit normal 256mb 0 0\n"
                         "hz 10\n"
                         "client-output-buffer-limit pubsub 64mb 16mb 60\n"
                         "# Generated by CONFIG REWRITE\n"
                         "timeout 5\n");
    assert_int_equal(cfg_set(&c, "client-output-buffer-limit", "pubsub 128mb 16mb 60", err,
                             sizeof(err)), 0);
    expect_rewritten(&c, "client-output-buffer-limit normal 256mb 0 0 slave 256mb 64mb 60 "
                         "pubsub 128mb 16mb 60\n"
                         "hz 10\n"
                         "# Generated by CONFIG REWRITE\n"
                         "timeout 5\n");
}

/* Sizes as Redis 7.0's CONFIG REWRITE writes them (checked against
 * redis-server 7.0.15: maxmemory 256mb, client-output-buffer-limit normal
 * 1gb 64mb 60, proto-max-bulk-len 3000000): the largest of gb, mb, kb
 * that divides the value, else bytes; CONFIG GET keeps bytes. */
static void test_rewrite_sizes(void **s)
{
    (void)s;
    static const char *const cases[][2] = {
        {"0", "0"}, {"1023", "1023"}, {"1024", "1kb"}, {"1536", "1536"}, {"1k", "1000"},
        {"3000000", "3000000"}, {"256mb", "256mb"}, {"1025mb", "1025mb"}, {"1024mb", "1gb"},
        {"3gb", "3gb"}, {"1073742848", "1048577kb"}, {"9223372036854775807", "9223372036854775807"},
    };
    char err[CFG_ERRLEN], v[CFG_VALUE_MAX];
    struct cfg c;

    cfg_defaults(&c);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_int_equal(cfg_set(&c, "maxmemory", cases[i][0], err, sizeof(err)), 0);
        assert_int_equal(cfg_get_for_file(&c, "maxmemory", v, sizeof(v)), 0);
        assert_string_equal(v, cases[i][1]);
    }
    assert_int_equal(cfg_set(&c, "maxmemory", "256mb", err, sizeof(err)), 0);
    assert_int_equal(cfg_get(&c, "maxmemory", v, sizeof(v)), 0);
    assert_string_equal(v, "268435456");
    assert_int_equal(cfg_set(&c, "proto-max-bulk-len", "2gb", err, sizeof(err)), 0);
    assert_int_equal(cfg_get_for_file(&c, "proto-max-bulk-len", v, sizeof(v)), 0);
    assert_string_equal(v, "2gb");
    assert_int_equal(cfg_set(&c, "client-output-buffer-limit", "normal 1gb 64mb 60", err,
                             sizeof(err)), 0);
    assert_int_equal(cfg_get_for_file(&c, "client-output-buffer-limit", v, sizeof(v)), 0);
    assert_string_equal(v, "normal 1gb 64mb 60 slave 256mb 64mb 60 pubsub 32mb 8mb 60");
    assert_int_equal(cfg_get(&c, "client-output-buffer-limit", v, sizeof(v)), 0);
    assert_string_equal(v, "normal 1073741824 67108864 60 slave 268435456 67108864 60 "
                           "pubsub 33554432 8388608 60");
    assert_int_equal(cfg_get_for_file(&c, "hz", v, sizeof(v)), 0);
    assert_string_equal(v, "10");
    assert_int_equal(cfg_get_for_file(&c, "no-such-setting", v, sizeof(v)), -1);
}

/* The documented file: with the defaults it comes back byte for byte;
 * with every setting changed, every line is updated in place (threads
 * appended, its line being a comment) and it loads back to the same. */
static void test_rewrite_documented_file(void **s)
{
    (void)s;
    char err[CFG_ERRLEN];
    char *orig = read_file(MMCACHE_CONF);
    write_file(path, orig);
    struct cfg c, back;
    cfg_defaults(&c);
    assert_int_equal(rewrite(&c, path), 0);
    char *got = read_file(path);
    assert_string_equal(got, orig);
    free(got);

    c.threads = c.threads == 3 ? 5 : 3;
    static const char *const set[][2] = {
        {"bind", "0.0.0.0"}, {"port", "7002"}, {"shards", "16"}, {"maxmemory", "1gb"},
        {"maxmemory-policy", "allkeys-random"}, {"maxclients", "99"}, {"timeout", "60"},
        {"loglevel", "warning"}, {"client-query-buffer-limit", "1mb"},
        {"client-output-buffer-limit", "0"}, {"proto-max-bulk-len", "1gb"}, {"hz", "100"},
        {"loader", "redis 127.0.0.1:6380"}, {"loader-timeout-ms", "250"}, {"loader-ttl", "0"},
        {"loader-negative-ttl", "2"}, {"loader-max-inflight", "16"}, {"loader-threads", "3"},
        {"loader-synthetic-latency-ms", "200"}, {"loader-synthetic-value-size", "64"},
        {"loader-synthetic-error-rate", "0.25"}, {"loader-max-value-size", "1mb"},
        {"inject-bug", "16"}, {"bug-amplify", "no"}, {"bug-misalign", "no"},
        {"enable-debug-command", "local"},
        {"enable-protected-configs", "yes"}, {"enable-bug-lab", "no"},
    };
    for (size_t i = 0; i < sizeof(set) / sizeof(set[0]); i++)
        assert_int_equal(cfg_set(&c, set[i][0], set[i][1], err, sizeof(err)), 0);
    assert_int_equal(rewrite(&c, path), 0);
    got = read_file(path);
    /* the same lines, in the same order, but for the values */
    char want[16384];
    snprintf(want, sizeof(want), "%s", orig);
    static const char *const edits[][2] = {
        {"\nbind 127.0.0.1\n", "\nbind 0.0.0.0\n"},
        {"\nport 6379\n", "\nport 7002\n"},
        {"\nshards 1024\n", "\nshards 16\n"},
        {"\nmaxmemory 0\n", "\nmaxmemory 1gb\n"},
        {"\nmaxmemory-policy allkeys-lru\n", "\nmaxmemory-policy allkeys-random\n"},
        {"\nmaxclients 10000\n", "\nmaxclients 99\n"},
        {"\ntimeout 0\n", "\ntimeout 60\n"},
        {"\nloglevel notice\n", "\nloglevel warning\n"},
        {"\nclient-query-buffer-limit 1gb\n", "\nclient-query-buffer-limit 1mb\n"},
        {"\nclient-output-buffer-limit normal 256mb 0 0\n",
         "\nclient-output-buffer-limit normal 0 0 0 slave 256mb 64mb 60 pubsub 32mb 8mb 60\n"},
        {"\nproto-max-bulk-len 512mb\n", "\nproto-max-bulk-len 1gb\n"},
        {"\nhz 10\n", "\nhz 100\n"},
        /* a setting of several words is written as words, unquoted */
        {"\nloader none\n", "\nloader redis 127.0.0.1:6380\n"},
        {"\nloader-timeout-ms 1000\n", "\nloader-timeout-ms 250\n"},
        {"\nloader-ttl 300\n", "\nloader-ttl 0\n"},
        {"\nloader-negative-ttl 0\n", "\nloader-negative-ttl 2\n"},
        {"\nloader-max-inflight 1024\n", "\nloader-max-inflight 16\n"},
        {"\nloader-threads 8\n", "\nloader-threads 3\n"},
        {"\nloader-synthetic-latency-ms 0\n", "\nloader-synthetic-latency-ms 200\n"},
        {"\nloader-synthetic-value-size 0\n", "\nloader-synthetic-value-size 64\n"},
        {"\nloader-synthetic-error-rate 0\n", "\nloader-synthetic-error-rate 0.25\n"},
        {"\nloader-max-value-size 16mb\n", "\nloader-max-value-size 1mb\n"},
        {"\ninject-bug none\n", "\ninject-bug 16\n"},
        {"\nbug-amplify yes\n", "\nbug-amplify no\n"},
        {"\nbug-misalign yes\n", "\nbug-misalign no\n"},
        {"\nenable-debug-command no\n", "\nenable-debug-command local\n"},
        {"\nenable-protected-configs no\n", "\nenable-protected-configs yes\n"},
    };
    for (size_t i = 0; i < sizeof(edits) / sizeof(edits[0]); i++) {
        char *at = strstr(want, edits[i][0]);
        if (!at) {
            fail_msg("mmcache.conf has no line [%s]", edits[i][0] + 1);
            return;   /* not reached: tells the compiler at is not NULL below */
        }
        char rest[16384];
        snprintf(rest, sizeof(rest), "%s", at + strlen(edits[i][0]));
        snprintf(at, sizeof(want) - (size_t)(at - want), "%s%s", edits[i][1], rest);
    }
    /* enable-bug-lab is the last line and has its newline */
    char *last = strstr(want, "\nenable-bug-lab local\n");
    assert_non_null(last);
    assert_string_equal(last, "\nenable-bug-lab local\n");
    snprintf(last, sizeof(want) - (size_t)(last - want),
             "\nenable-bug-lab no\n# Generated by CONFIG REWRITE\nthreads %u\n", c.threads);
    assert_string_equal(got, want);
    free(got);
    cfg_defaults(&back);
    assert_int_equal(cfg_load_file(&back, path, err, sizeof(err)), 0);
    assert_memory_equal(&back, &c, sizeof(c));
    free(orig);
}

/* A value with blanks, quotes, backslashes or control characters is
 * written quoted and escaped, and the reader gives back the same bytes.
 * No valid setting has such a value today (bind is an address), so the
 * struct is written directly: the load then fails on the address, and
 * its message shows the value came back intact. */
static void test_rewrite_quotes_round_trip(void **s)
{
    (void)s;
    struct cfg c, back;
    char err[CFG_ERRLEN], want[CFG_ERRLEN];
    const char *value = "a b\t\"q\"\\'\x01\x7f";
    cfg_defaults(&c);
    strcpy(c.bind, value);
    assert_int_equal(rewrite(&c, path), 0);
    char *got = read_file(path);
    assert_string_equal(got, "# Generated by CONFIG REWRITE\n"
                             "bind \"a b\\x09\\\"q\\\"\\\\'\\x01\\x7f\"\n");
    /* the tokenizer undoes it */
    char *argv[8], *nl = strchr(got, '\n') + 1;
    nl[strlen(nl) - 1] = 0;
    assert_int_equal(cfg_split_line(nl, argv, 8), 2);
    assert_string_equal(argv[0], "bind");
    assert_string_equal(argv[1], value);
    free(got);
    /* and so does the loader */
    cfg_defaults(&back);
    assert_int_equal(cfg_load_file(&back, path, err, sizeof(err)), -1);
    snprintf(want, sizeof(want), "%s:2: 'bind': argument must be one IPv4 or IPv6 address, "
             "e.g. 127.0.0.1, 0.0.0.0 or ::1 (got '%s')", path, value);
    assert_string_equal(err, want);
    /* an empty value is quoted too (replacing the line in place) */
    c.bind[0] = 0;
    assert_int_equal(rewrite(&c, path), 0);
    got = read_file(path);
    assert_string_equal(got, "# Generated by CONFIG REWRITE\nbind \"\"\n");
    free(got);
}

static void test_rewrite_errors(void **s)
{
    (void)s;
    struct cfg c;
    char err[CFG_ERRLEN];
    cfg_defaults(&c);
    c.port = 7000;
    assert_int_equal(cfg_rewrite_file(&c, "/nonexistent-dir-mmcache/x.conf", err, sizeof(err)), -1);
    assert_string_equal(err, "cannot write /nonexistent-dir-mmcache/x.conf: No such file or directory");
}

/* ---- user lines (the ACL's) ------------------------------------------------------ */

struct seen_users {
    int n;
    char text[8][256];   /* "line:name rule rule" */
};

static int collect_user(void *arg, int lineno, int argc, char **argv)
{
    struct seen_users *u = arg;
    size_t used = (size_t)snprintf(u->text[u->n], sizeof(u->text[0]), "%d:", lineno);
    for (int i = 0; i < argc; i++)
        used += (size_t)snprintf(u->text[u->n] + used, sizeof(u->text[0]) - used, "%s%s",
                                 i ? " " : "", argv[i]);
    return ++u->n == 3 ? 7 : 0;   /* the walk stops on the third */
}

/* `user` lines are skipped by the settings and handed out by
 * cfg_file_users, with any number of words, in order. */
static void test_user_lines(void **s)
{
    (void)s;
    struct cfg c;
    char err[CFG_ERRLEN];
    struct seen_users u = {0};
    /* "username" is no user line: an unknown directive to the settings */
    write_file(path, "hz 11\nuser alice on\nusername 1\n");
    cfg_defaults(&c);
    assert_int_equal(cfg_load_file(&c, path, err, sizeof(err)), -1);
    assert_non_null(strstr(err, ":3: unknown directive 'username'"));
    write_file(path, "hz 11\n"
                     "user alice on >a b c d e f g h i j k l m n\n"
                     "  USER bob \"on\" '~x y'\n"
                     "# user commented out\n"
                     "user carol\nuser dave\n");
    cfg_defaults(&c);
    assert_int_equal(cfg_load_file(&c, path, err, sizeof(err)), 0);
    assert_int_equal(c.hz, 11);
    assert_int_equal(cfg_file_users(path, collect_user, &u, err, sizeof(err)), 7);
    assert_int_equal(u.n, 3);
    assert_string_equal(u.text[0], "2:alice on >a b c d e f g h i j k l m n");
    assert_string_equal(u.text[1], "3:bob on ~x y");
    assert_string_equal(u.text[2], "5:carol");

    write_file(path, "user\n");
    assert_int_equal(cfg_file_users(path, collect_user, &u, err, sizeof(err)), -1);
    assert_non_null(strstr(err, ":1: 'user' needs a user name"));
    write_file(path, "port 1\nuser a \"on\n");
    assert_int_equal(cfg_file_users(path, collect_user, &u, err, sizeof(err)), -1);
    assert_non_null(strstr(err, ":2: 'user': unbalanced quotes"));
    assert_int_equal(cfg_file_users("/nonexistent-mmcache.conf", collect_user, &u, err,
                                    sizeof(err)), -1);
}

/* CONFIG REWRITE with the running users: they take the first user line's
 * place, the others go; none before: appended; NULL: kept; empty: gone. */
static void test_rewrite_users(void **s)
{
    (void)s;
    struct cfg c;
    char err[CFG_ERRLEN];
    const char *const two[] = {"user default on nopass ~* &* +@all",
                               "user alice on #ab resetchannels -@all +get", NULL};
    const char *const none[] = {NULL};
    cfg_defaults(&c);
    write_file(path, "# top\nuser old1 on\nhz 10\nuser old2 off\n# end\n");
    assert_int_equal(cfg_rewrite_file_guarded(&c, path, CFG_GUARDS_ALL, two, err, sizeof(err)), 0);
    char *got = read_file(path);
    assert_string_equal(got, "# top\nuser default on nopass ~* &* +@all\n"
                             "user alice on #ab resetchannels -@all +get\nhz 10\n# end\n");
    free(got);
    write_file(path, "hz 10\nuser x on\n");
    assert_int_equal(cfg_rewrite_file(&c, path, err, sizeof(err)), 0);
    got = read_file(path);
    assert_string_equal(got, "hz 10\nuser x on\n");
    free(got);
    assert_int_equal(cfg_rewrite_file_guarded(&c, path, CFG_GUARDS_ALL, none, err, sizeof(err)), 0);
    got = read_file(path);
    assert_string_equal(got, "hz 10\n");
    free(got);
    assert_int_equal(cfg_rewrite_file_guarded(&c, path, CFG_GUARDS_ALL, two, err, sizeof(err)), 0);
    got = read_file(path);
    assert_string_equal(got, "hz 10\n# Generated by CONFIG REWRITE\n"
                             "user default on nopass ~* &* +@all\n"
                             "user alice on #ab resetchannels -@all +get\n");
    free(got);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup_file, teardown_file)
    const struct CMUnitTest tests[] = {
        T(test_split_plain),
        T(test_split_double_quotes),
        T(test_split_single_quotes),
        T(test_split_errors),
        T(test_load_format),
        T(test_load_empty_and_comments_only),
        T(test_load_keeps_unmentioned),
        T(test_load_every_directive),
        T(test_documented_file),
        T(test_load_missing_file),
        T(test_load_too_large),
        T(test_load_unknown_directive),
        T(test_load_wrong_arg_count),
        T(test_rewrite_guarded),
        T(test_load_bad_quotes),
        T(test_load_bad_value_every_directive),
        T(test_load_reports_first_bad_line),
        T(test_rewrite_in_place),
        T(test_rewrite_duplicates),
        T(test_rewrite_keeps_foreign_lines),
        T(test_rewrite_missing_file_created),
        T(test_rewrite_sizes),
        T(test_rewrite_obuf_lines),
        T(test_rewrite_documented_file),
        T(test_rewrite_quotes_round_trip),
        T(test_rewrite_errors),
        T(test_user_lines),
        T(test_rewrite_users),
    };
#undef T
    return cmocka_run_group_tests_name("config/file", tests, NULL, NULL);
}
