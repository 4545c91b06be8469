/*
 * Tests of config/config.c: the settings table (every directive: a valid
 * value round-trips through cfg_set/cfg_get, each kind of invalid value
 * gives its exact message and leaves the field alone), names and
 * liveness, memory units, and the command line (flags, the config file
 * argument, --help/--version).
 */
#define _GNU_SOURCE   /* memmem */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "config.h"

#define NAMES 55   /* settings in cfg_names */

/* ---- helpers ----------------------------------------------------------------- */

/* cfg_set(name, value) on the defaults succeeds and CONFIG GET then shows
 * `shown`. */
static void set_ok(const char *name, const char *value, const char *shown)
{
    struct cfg c;
    char err[CFG_ERRLEN] = "", buf[128];
    cfg_defaults(&c);
    int rc = cfg_set(&c, name, value, err, sizeof(err));
    if (rc != 0)
        fail_msg("cfg_set(%s, '%s') = %d: %s", name, value, rc, err);
    assert_int_equal(cfg_get(&c, name, buf, sizeof(buf)), 0);
    if (strcmp(buf, shown) != 0)
        fail_msg("%s '%s': CONFIG GET shows '%s', want '%s'", name, value, buf, shown);
}

/* cfg_set(name, value) fails with exactly `msg` and changes nothing. */
static void set_bad(const char *name, const char *value, const char *msg)
{
    struct cfg c, before;
    char err[CFG_ERRLEN] = "";
    cfg_defaults(&c);
    before = c;
    int rc = cfg_set(&c, name, value, err, sizeof(err));
    if (rc != -1)
        fail_msg("cfg_set(%s, '%s') = %d, want -1", name, value, rc);
    if (strcmp(err, msg) != 0)
        fail_msg("cfg_set(%s, '%s'):\n got  \"%s\"\n want \"%s\"", name, value, err, msg);
    assert_memory_equal(&c, &before, sizeof(c));
}

static void int_range_msg(char *buf, size_t cap, long long min, long long max, const char *got)
{
    snprintf(buf, cap, "argument must be an integer between %lld and %lld inclusive (got '%s')",
             min, max, got);
}

/* An integer setting: min and max are accepted, one past either end, a
 * non-number, trailing garbage, blanks and overflow are refused. */
static void check_int_setting(const char *name, long long min, long long max)
{
    static const char *const junk[] = {
        "abc", "", "12x", "1 ", " 1", "+1", "1.5", "0x10", "99999999999999999999", "-",
    };
    char v[64], msg[CFG_ERRLEN];
    snprintf(v, sizeof(v), "%lld", min);
    set_ok(name, v, v);
    snprintf(v, sizeof(v), "%lld", max);
    set_ok(name, v, v);
    snprintf(v, sizeof(v), "%lld", min - 1);
    int_range_msg(msg, sizeof(msg), min, max, v);
    set_bad(name, v, msg);
    snprintf(v, sizeof(v), "%lld", max + 1);
    int_range_msg(msg, sizeof(msg), min, max, v);
    set_bad(name, v, msg);
    for (size_t i = 0; i < sizeof(junk) / sizeof(junk[0]); i++) {
        int_range_msg(msg, sizeof(msg), min, max, junk[i]);
        set_bad(name, junk[i], msg);
    }
}

static void mem_msg(char *buf, size_t cap, long long at_least, const char *got)
{
    if (at_least)
        snprintf(buf, cap, "argument must be a memory value like 512mb or 1gb (units b, k, kb, "
                 "m, mb, g, gb), at least %lld bytes (got '%s')", at_least, got);
    else
        snprintf(buf, cap, "argument must be a memory value like 512mb or 1gb (units b, k, kb, "
                 "m, mb, g, gb) (got '%s')", got);
}

/* A memory setting: units, the bounds, and what is refused. */
static void check_mem_setting(const char *name, long long at_least)
{
    static const char *const junk[] = {
        "abc", "", "12xb", "-1", "1.5gb", "1 gb", " 1", "+1", "0x10", "gb",
        "9223372036854775808",   /* INT64_MAX + 1 */
        "99999999999999999999",  /* past uint64 */
        "99999999999gb",         /* overflows when multiplied */
    };
    char msg[CFG_ERRLEN];
    set_ok(name, "1gb", "1073741824");
    set_ok(name, "1GB", "1073741824");
    set_ok(name, "2g", "2000000000");
    set_ok(name, "100mb", "104857600");
    set_ok(name, "3m", "3000000");
    set_ok(name, "9223372036854775807", "9223372036854775807");
    if (at_least) {
        char v[32];
        snprintf(v, sizeof(v), "%lld", at_least);
        set_ok(name, v, v);
        set_ok(name, "1mb", "1048576");
        snprintf(v, sizeof(v), "%lld", at_least - 1);
        mem_msg(msg, sizeof(msg), at_least, v);
        set_bad(name, v, msg);
        mem_msg(msg, sizeof(msg), at_least, "1m");   /* 1000000 < 1mb */
        set_bad(name, "1m", msg);
        mem_msg(msg, sizeof(msg), at_least, "0");
        set_bad(name, "0", msg);
    } else {
        set_ok(name, "0", "0");
        set_ok(name, "1", "1");
        set_ok(name, "1b", "1");
        set_ok(name, "1k", "1000");
        set_ok(name, "1kb", "1024");
    }
    for (size_t i = 0; i < sizeof(junk) / sizeof(junk[0]); i++) {
        mem_msg(msg, sizeof(msg), at_least, junk[i]);
        set_bad(name, junk[i], msg);
    }
}

/* ---- the table ---------------------------------------------------------------- */

static void test_defaults(void **s)
{
    (void)s;
    struct cfg c;
    cfg_defaults(&c);
    assert_int_equal(c.generation, 0);
    assert_string_equal(c.bind, "127.0.0.1");
    assert_int_equal(c.port, 6379);
    assert_int_equal(c.threads, cfg_default_threads(cfg_usable_cpus()));   /* test_threads.c */
    assert_int_equal(c.shards, 1024);
    assert_int_equal(c.maxmemory, 0);
    assert_int_equal(c.policy, CFG_ALLKEYS_LRU);
    assert_int_equal(c.maxclients, 10000);
    assert_int_equal(c.timeout, 0);
    assert_int_equal(c.loglevel, CFG_LOG_NOTICE);
    assert_int_equal(c.client_query_buffer_limit, 1024ULL * 1024 * 1024);
    assert_int_equal(c.obuf_limits[CFG_OBUF_NORMAL].hard, 256ULL * 1024 * 1024);
    assert_int_equal(c.obuf_limits[CFG_OBUF_NORMAL].soft, 0);
    assert_int_equal(c.obuf_limits[CFG_OBUF_NORMAL].soft_seconds, 0);
    assert_int_equal(c.proto_max_bulk_len, 512LL * 1024 * 1024);
    assert_int_equal(c.hz, 10);
    assert_int_equal(c.loader_max_value_size, 16ULL * 1024 * 1024);
    assert_int_equal(c.loader_timeout_ms, 1000);
    /* the levers: Redis 7.0's defaults, and the bug lab local-only */
    assert_int_equal(c.enable_debug_command, CFG_LEVER_NO);
    assert_int_equal(c.enable_protected_configs, CFG_LEVER_NO);
    assert_int_equal(c.enable_bug_lab, CFG_LEVER_LOCAL);
}

static void test_names_live_canonical(void **s)
{
    (void)s;
    static const struct { const char *name; bool live; const char *other_case; } want[NAMES] = {
        {"bind", false, "BIND"},
        {"port", false, "Port"},
        {"threads", false, "THREADS"},
        {"shards", false, "sHaRdS"},
        {"maxmemory", true, "MAXMEMORY"},
        {"maxmemory-policy", true, "MaxMemory-Policy"},
        {"maxclients", true, "MAXCLIENTS"},
        {"timeout", true, "TimeOut"},
        {"loglevel", true, "LOGLEVEL"},
        {"client-query-buffer-limit", true, "Client-Query-Buffer-Limit"},
        {"client-output-buffer-limit", true, "CLIENT-OUTPUT-BUFFER-LIMIT"},
        {"proto-max-bulk-len", true, "Proto-Max-Bulk-Len"},
        {"hz", true, "HZ"},
        {"loader", true, "Loader"},
        {"loader-timeout-ms", true, "LOADER-TIMEOUT-MS"},
        {"loader-ttl", true, "Loader-TTL"},
        {"loader-negative-ttl", true, "loader-NEGATIVE-ttl"},
        {"loader-max-inflight", true, "Loader-Max-Inflight"},
        {"loader-threads", false, "LOADER-THREADS"},
        {"loader-synthetic-latency-ms", true, "Loader-Synthetic-Latency-MS"},
        {"loader-synthetic-value-size", true, "LOADER-SYNTHETIC-VALUE-SIZE"},
        {"loader-synthetic-error-rate", true, "loader-synthetic-ERROR-rate"},
        {"loader-max-value-size", true, "Loader-Max-Value-Size"},
        {"hash-max-listpack-entries", true, "HASH-MAX-LISTPACK-ENTRIES"},
        {"hash-max-listpack-value", true, "Hash-Max-Listpack-Value"},
        {"set-max-intset-entries", true, "SET-max-intset-ENTRIES"},
        {"set-max-listpack-entries", true, "Set-Max-Listpack-Entries"},
        {"set-max-listpack-value", true, "set-MAX-listpack-value"},
        {"list-max-listpack-size", true, "List-Max-Listpack-Size"},
        {"zset-max-listpack-entries", true, "ZSET-MAX-LISTPACK-ENTRIES"},
        {"zset-max-listpack-value", true, "zset-max-LISTPACK-value"},
        {"lazyfree-lazy-eviction", true, "LAZYFREE-LAZY-EVICTION"},
        {"lazyfree-lazy-expire", true, "Lazyfree-Lazy-Expire"},
        {"lazyfree-lazy-server-del", true, "lazyfree-LAZY-server-del"},
        {"lazyfree-lazy-user-del", true, "LazyFree-Lazy-User-Del"},
        {"lazyfree-lazy-user-flush", true, "LAZYFREE-lazy-USER-flush"},
        {"inject-bug", true, "Inject-Bug"},
        {"bug-amplify", true, "BUG-AMPLIFY"},
        {"bug-misalign", false, "Bug-Misalign"},
        {"enable-debug-command", false, "Enable-Debug-Command"},
        {"enable-protected-configs", false, "ENABLE-PROTECTED-CONFIGS"},
        {"enable-bug-lab", false, "enable-BUG-lab"},
        {"requirepass", true, "RequirePass"},
        {"protected-mode", true, "PROTECTED-MODE"},
        {"aclfile", false, "AclFile"},
        {"acllog-max-len", true, "ACLLOG-MAX-LEN"},
        {"maxmemory-samples", true, "MaxMemory-Samples"},
        {"lfu-log-factor", true, "LFU-LOG-FACTOR"},
        {"lfu-decay-time", true, "lfu-Decay-Time"},
        {"metrics-port", false, "Metrics-Port"},
        {"latency-tracking", true, "Latency-Tracking"},
        {"latency-tracking-info-percentiles", true, "LATENCY-TRACKING-INFO-PERCENTILES"},
        {"slowlog-log-slower-than", true, "SlowLog-Log-Slower-Than"},
        {"slowlog-max-len", true, "SLOWLOG-max-len"},
        {"latency-monitor-threshold", true, "Latency-Monitor-Threshold"},
    };
    size_t n = 0;
    while (cfg_names[n])
        n++;
    assert_int_equal(n, NAMES);
    for (size_t i = 0; i < NAMES; i++) {
        assert_string_equal(cfg_names[i], want[i].name);
        assert_string_equal(cfg_canonical_name(want[i].name), want[i].name);
        assert_string_equal(cfg_canonical_name(want[i].other_case), want[i].name);
        if (cfg_is_live(want[i].name) != want[i].live)
            fail_msg("cfg_is_live(%s) != %d", want[i].name, want[i].live);
        assert_true(cfg_is_live(want[i].other_case) == want[i].live);
    }
    assert_null(cfg_canonical_name("nope"));
    assert_null(cfg_canonical_name(""));
    assert_null(cfg_canonical_name("maxmemory "));
    assert_null(cfg_canonical_name("max"));
    assert_false(cfg_is_live("nope"));
}

/* Names are case-insensitive for cfg_set and cfg_get too. */
static void test_names_case_insensitive(void **s)
{
    (void)s;
    struct cfg c;
    char err[CFG_ERRLEN], buf[64];
    cfg_defaults(&c);
    assert_int_equal(cfg_set(&c, "MAXMEMORY", "2mb", err, sizeof(err)), 0);
    assert_int_equal(c.maxmemory, 2 * 1024 * 1024);
    assert_int_equal(cfg_set(&c, "Maxmemory-Policy", "NoEviction", err, sizeof(err)), 0);
    assert_int_equal(c.policy, CFG_NOEVICTION);
    assert_int_equal(cfg_get(&c, "MaxMemory", buf, sizeof(buf)), 0);
    assert_string_equal(buf, "2097152");
    assert_int_equal(cfg_get(&c, "MAXMEMORY-POLICY", buf, sizeof(buf)), 0);
    assert_string_equal(buf, "noeviction");
}

static void test_unknown_setting(void **s)
{
    (void)s;
    struct cfg c, before;
    char err[CFG_ERRLEN], buf[64] = "untouched";
    cfg_defaults(&c);
    before = c;
    assert_int_equal(cfg_set(&c, "nope", "1", err, sizeof(err)), -2);
    assert_string_equal(err, "unknown setting 'nope'");
    assert_int_equal(cfg_set(&c, "", "1", err, sizeof(err)), -2);
    assert_string_equal(err, "unknown setting ''");
    assert_memory_equal(&c, &before, sizeof(c));
    assert_int_equal(cfg_get(&c, "nope", buf, sizeof(buf)), -1);
    assert_string_equal(buf, "untouched");
}

static void test_bind(void **s)
{
    (void)s;
    static const char *const good[] = {
        "127.0.0.1", "0.0.0.0", "10.1.2.3", "255.255.255.255", "::", "::1", "fe80::1",
        "2001:db8::ff00:42:8329", "::ffff:192.0.2.1",
        "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255",   /* 45: the longest form */
    };
    static const char *const bad[] = {
        "localhost", "example.com", "", "127.1", "1.2.3.256", "1.2.3.4.5", "127.0.0.1 ",
        " 127.0.0.1", "127.0.0.1:6379", "fe80::1%eth0", ":::", "[::1]", "*",
    };
    char msg[CFG_ERRLEN];
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        set_ok("bind", good[i], good[i]);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(msg, sizeof(msg), "argument must be one IPv4 or IPv6 address, e.g. 127.0.0.1, "
                 "0.0.0.0 or ::1 (got '%s')", bad[i]);
        set_bad("bind", bad[i], msg);
    }
    /* too long for the field: 64 characters (the field holds 63) */
    char lng[65];
    memset(lng, '1', 64);
    lng[64] = 0;
    snprintf(msg, sizeof(msg), "argument must be one IPv4 or IPv6 address, e.g. 127.0.0.1, "
             "0.0.0.0 or ::1 (got '%s')", lng);
    set_bad("bind", lng, msg);
}

static void test_int_settings(void **s)
{
    (void)s;
    check_int_setting("port", 1, 65535);
    check_int_setting("threads", 1, 256);
    check_int_setting("maxclients", 1, 1000000);
    check_int_setting("timeout", 0, 2147483647);
    check_int_setting("hz", 1, 500);
    set_ok("port", "7000", "7000");
    set_ok("timeout", "-0", "0");
}

/* shards: 1..65536 and a power of two. */
static void test_shards(void **s)
{
    (void)s;
    char v[16], msg[CFG_ERRLEN];
    for (unsigned p = 1; p <= 65536; p *= 2) {
        snprintf(v, sizeof(v), "%u", p);
        set_ok("shards", v, v);
    }
    static const char *const npot[] = {"3", "48", "1000", "1023", "65535"};
    for (size_t i = 0; i < sizeof(npot) / sizeof(npot[0]); i++) {
        snprintf(msg, sizeof(msg), "argument must be a power of two (got '%s')", npot[i]);
        set_bad("shards", npot[i], msg);
    }
    static const char *const range[] = {"0", "-2", "131072", "abc", "64k", ""};
    for (size_t i = 0; i < sizeof(range) / sizeof(range[0]); i++) {
        int_range_msg(msg, sizeof(msg), 1, 65536, range[i]);
        set_bad("shards", range[i], msg);
    }
}

static void test_memory_settings(void **s)
{
    (void)s;
    check_mem_setting("maxmemory", 0);
    check_mem_setting("loader-max-value-size", 0);
    check_mem_setting("client-query-buffer-limit", 1024 * 1024);
    check_mem_setting("proto-max-bulk-len", 1024 * 1024);
}

static void test_policy(void **s)
{
    (void)s;
    static const char *const names[] = {"allkeys-lru", "volatile-lru", "allkeys-random", "noeviction",
                                        "allkeys-lfu", "volatile-lfu", "volatile-random", "volatile-ttl"};
    static const char *const upper[] = {"ALLKEYS-LRU", "Volatile-LRU", "AllKeys-Random", "NOEVICTION",
                                        "ALLKEYS-LFU", "Volatile-LFU", "VOLATILE-random", "Volatile-Ttl"};
    struct cfg c;
    char err[CFG_ERRLEN], msg[CFG_ERRLEN];
    for (int i = 0; i < CFG_POLICY_COUNT; i++) {
        set_ok("maxmemory-policy", names[i], names[i]);
        set_ok("maxmemory-policy", upper[i], names[i]);
        assert_string_equal(cfg_policy_name((enum cfg_policy)i), names[i]);
        cfg_defaults(&c);
        assert_int_equal(cfg_set(&c, "maxmemory-policy", names[i], err, sizeof(err)), 0);
        assert_int_equal(c.policy, i);
    }
    assert_int_equal(CFG_VOLATILE_LRU, 1);
    assert_int_equal(CFG_NOEVICTION, 3);
    static const char *const bad[] = {"lfu", "", "allkeys-lfu2", "allkeys_lru", " allkeys-lru", "noeviction!"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(msg, sizeof(msg), "argument must be one of the following: allkeys-lru, "
                 "volatile-lru, allkeys-random, noeviction, allkeys-lfu, volatile-lfu, "
                 "volatile-random, volatile-ttl (got '%s')", bad[i]);
        set_bad("maxmemory-policy", bad[i], msg);
    }
}

static void test_loglevel(void **s)
{
    (void)s;
    static const char *const names[] = {"debug", "verbose", "notice", "warning"};
    static const char *const upper[] = {"DEBUG", "Verbose", "NOTICE", "WarNing"};
    struct cfg c;
    char err[CFG_ERRLEN], msg[CFG_ERRLEN];
    for (int i = 0; i < 4; i++) {
        set_ok("loglevel", names[i], names[i]);
        set_ok("loglevel", upper[i], names[i]);
        assert_string_equal(cfg_loglevel_name((enum cfg_loglevel)i), names[i]);
        cfg_defaults(&c);
        assert_int_equal(cfg_set(&c, "loglevel", names[i], err, sizeof(err)), 0);
        assert_int_equal(c.loglevel, i);
    }
    static const char *const bad[] = {"info", "", "warn", "2", "notice "};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(msg, sizeof(msg), "argument must be one of the following: debug, verbose, "
                 "notice, warning (got '%s')", bad[i]);
        set_bad("loglevel", bad[i], msg);
    }
}

/* Every directive: set a non-default value on one struct, read every
 * setting back, and check only that one field moved. */
static void test_every_directive_round_trips(void **s)
{
    (void)s;
    static const char *const value[NAMES][2] = {   /* as set, as CONFIG GET shows it */
        {"::1", "::1"}, {"7001", "7001"}, {"3", "3"}, {"64", "64"},
        {"100mb", "104857600"}, {"volatile-lru", "volatile-lru"}, {"123", "123"},
        {"300", "300"}, {"debug", "debug"}, {"2gb", "2147483648"},
        {"1k", "normal 1000 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60"},
        {"1mb", "1048576"}, {"42", "42"}, {"Redis [::1]:6380", "redis [::1]:6380"},
        {"77", "77"}, {"0", "0"}, {"5", "5"}, {"8", "8"}, {"4", "4"}, {"250", "250"},
        {"128", "128"}, {".25", "0.25"}, {"1kb", "1024"},
        {"0", "0"}, {"1000000", "1000000"}, {"9223372036854775807", "9223372036854775807"},
        {"7", "7"}, {"65", "65"}, {"-5", "-5"}, {"256", "256"}, {"32", "32"},
        {"no", "no"}, {"NO", "no"}, {"No", "no"}, {"no", "no"}, {"nO", "no"},
        {"13, 3", "3,13"}, {"No", "no"}, {"NO", "no"}, {"Yes", "yes"}, {"local", "local"},
        {"no", "no"}, {"s3cret pass", "s3cret pass"}, {"NO", "no"},
        {"/etc/users.acl", "/etc/users.acl"}, {"7", "7"},
        {"64", "64"}, {"2147483647", "2147483647"}, {"0", "0"}, {"9121", "9121"},
        {"No", "no"}, {"50  99.990", "50 99.99"}, {"-1", "-1"}, {"0", "0"}, {"100", "100"},
    };
    struct cfg def, c;
    char err[CFG_ERRLEN], buf[CFG_VALUE_MAX], dv[CFG_VALUE_MAX];
    cfg_defaults(&def);
    for (size_t i = 0; i < NAMES; i++) {
        c = def;
        assert_int_equal(cfg_set(&c, cfg_names[i], value[i][0], err, sizeof(err)), 0);
        for (size_t j = 0; j < NAMES; j++) {
            assert_int_equal(cfg_get(&c, cfg_names[j], buf, sizeof(buf)), 0);
            cfg_get(&def, cfg_names[j], dv, sizeof(dv));
            if (i == j) {
                assert_string_equal(buf, value[i][1]);
                assert_string_not_equal(buf, dv);   /* the test value is not the default */
            } else {
                assert_string_equal(buf, dv);
            }
            /* what CONFIG GET shows is accepted back unchanged */
            struct cfg again = def;
            char back[CFG_VALUE_MAX];
            assert_int_equal(cfg_set(&again, cfg_names[j], buf, err, sizeof(err)), 0);
            cfg_get(&again, cfg_names[j], back, sizeof(back));
            assert_string_equal(back, buf);
        }
    }
    /* and into the right fields */
    c = def;
    for (size_t i = 0; i < NAMES; i++)
        assert_int_equal(cfg_set(&c, cfg_names[i], value[i][0], err, sizeof(err)), 0);
    assert_string_equal(c.bind, "::1");
    assert_int_equal(c.port, 7001);
    assert_int_equal(c.threads, 3);
    assert_int_equal(c.shards, 64);
    assert_int_equal(c.maxmemory, 104857600);
    assert_int_equal(c.policy, CFG_VOLATILE_LRU);
    assert_int_equal(c.maxclients, 123);
    assert_int_equal(c.timeout, 300);
    assert_int_equal(c.loglevel, CFG_LOG_DEBUG);
    assert_int_equal(c.client_query_buffer_limit, 2147483648ULL);
    assert_int_equal(c.obuf_limits[CFG_OBUF_NORMAL].hard, 1000);
    assert_int_equal(c.proto_max_bulk_len, 1048576);
    assert_int_equal(c.hz, 42);
    assert_int_equal(c.loader, CFG_LOADER_REDIS);
    assert_string_equal(c.loader_arg, "[::1]:6380");
    assert_int_equal(c.loader_timeout_ms, 77);
    assert_int_equal(c.loader_ttl, 0);
    assert_int_equal(c.loader_negative_ttl, 5);
    assert_int_equal(c.loader_max_inflight, 8);
    assert_int_equal(c.loader_threads, 4);
    assert_int_equal(c.loader_synthetic_latency_ms, 250);
    assert_int_equal(c.loader_synthetic_value_size, 128);
    assert_true(c.loader_synthetic_error_rate == 0.25);
    assert_int_equal(c.loader_max_value_size, 1024);
    assert_int_equal(c.hash_max_listpack_entries, 0);
    assert_int_equal(c.hash_max_listpack_value, 1000000);
    assert_int_equal(c.set_max_intset_entries, INT64_MAX);
    assert_int_equal(c.set_max_listpack_entries, 7);
    assert_int_equal(c.set_max_listpack_value, 65);
    assert_int_equal(c.list_max_listpack_size, -5);
    assert_int_equal(c.zset_max_listpack_entries, 256);
    assert_int_equal(c.zset_max_listpack_value, 32);
    assert_true(!c.lazyfree_lazy_eviction && !c.lazyfree_lazy_expire &&
                !c.lazyfree_lazy_server_del && !c.lazyfree_lazy_user_del &&
                !c.lazyfree_lazy_user_flush);
    assert_int_equal(c.inject_bugs, (1u << 3) | (1u << 13));
    assert_false(c.bug_amplify);
    assert_false(c.bug_misalign);
    assert_int_equal(c.enable_debug_command, CFG_LEVER_YES);
    assert_int_equal(c.enable_protected_configs, CFG_LEVER_LOCAL);
    assert_int_equal(c.enable_bug_lab, CFG_LEVER_NO);
    assert_string_equal(c.requirepass, "s3cret pass");
    assert_false(c.protected_mode);
    assert_string_equal(c.aclfile, "/etc/users.acl");
    assert_int_equal(c.acllog_max_len, 7);
}

/* The levers: no | yes | local, which settings sit behind which, and what
 * a local or a remote client may change. */
static void test_levers(void **s)
{
    (void)s;
    static const char *const names[] = {"enable-debug-command", "enable-protected-configs",
                                        "enable-bug-lab"};
    char msg[CFG_ERRLEN];
    for (size_t i = 0; i < 3; i++) {
        set_ok(names[i], "no", "no");
        set_ok(names[i], "YES", "yes");
        set_ok(names[i], "Local", "local");
        static const char *const bad[] = {"", "1", "true", "remote", "local "};
        for (size_t j = 0; j < sizeof(bad) / sizeof(bad[0]); j++) {
            snprintf(msg, sizeof(msg), "argument must be one of the following: no, yes, "
                     "local (got '%s')", bad[j]);
            set_bad(names[i], bad[j], msg);
        }
        assert_false(cfg_is_live(names[i]));   /* immutable, as Redis's are */
        assert_int_equal(cfg_guard_of(names[i]), CFG_GUARD_NONE);
    }
    assert_int_equal(cfg_guard_of("loader"), CFG_GUARD_PROTECTED);
    assert_int_equal(cfg_guard_of("LOADER"), CFG_GUARD_PROTECTED);
    assert_int_equal(cfg_guard_of("inject-bug"), CFG_GUARD_BUG_LAB);
    assert_int_equal(cfg_guard_of("bug-amplify"), CFG_GUARD_BUG_LAB);
    /* the settings that name a path or an address are all protected */
    for (size_t i = 0; cfg_names[i]; i++) {
        bool names_place = strcmp(cfg_names[i], "loader") == 0 || strcmp(cfg_names[i], "bind") == 0;
        if (names_place && cfg_is_live(cfg_names[i]))
            assert_int_equal(cfg_guard_of(cfg_names[i]), CFG_GUARD_PROTECTED);
    }
    assert_int_equal(cfg_guard_of("maxmemory"), CFG_GUARD_NONE);
    assert_int_equal(cfg_guard_of("no-such-setting"), CFG_GUARD_NONE);
    assert_string_equal(cfg_guard_setting(CFG_GUARD_PROTECTED), "enable-protected-configs");
    assert_string_equal(cfg_guard_setting(CFG_GUARD_BUG_LAB), "enable-bug-lab");

    struct cfg c;
    cfg_defaults(&c);   /* protected: no, bug lab: local */
    unsigned none = CFG_GUARD_BIT(CFG_GUARD_NONE);
    assert_int_equal(cfg_guards_allowed(&c, false), none);
    assert_int_equal(cfg_guards_allowed(&c, true), none | CFG_GUARD_BIT(CFG_GUARD_BUG_LAB));
    c.enable_protected_configs = CFG_LEVER_LOCAL;
    c.enable_bug_lab = CFG_LEVER_NO;
    assert_int_equal(cfg_guards_allowed(&c, false), none);
    assert_int_equal(cfg_guards_allowed(&c, true), none | CFG_GUARD_BIT(CFG_GUARD_PROTECTED));
    c.enable_protected_configs = CFG_LEVER_YES;
    c.enable_bug_lab = CFG_LEVER_YES;
    assert_int_equal(cfg_guards_allowed(&c, false), CFG_GUARDS_ALL);
    assert_false(cfg_lever_allows(CFG_LEVER_NO, true));
    assert_false(cfg_lever_allows(CFG_LEVER_LOCAL, false));
    assert_true(cfg_lever_allows(CFG_LEVER_LOCAL, true));
    assert_true(cfg_lever_allows(CFG_LEVER_YES, false));
}

/* client-output-buffer-limit: Redis's `class hard soft seconds` groups,
 * its messages, "" as a no-op, and the single size mmcache took before. */
static void test_output_buffer_limit(void **s)
{
    (void)s;
    const char *name = "client-output-buffer-limit";
    set_ok(name, "normal 10mb 5mb 10",
           "normal 10485760 5242880 10 slave 268435456 67108864 60 pubsub 33554432 8388608 60");
    set_ok(name, "NORMAL 0 0 0",
           "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60");
    set_ok(name, "replica 1mb 1mb 1 pubsub 2 3 4",
           "normal 268435456 0 0 slave 1048576 1048576 1 pubsub 2 3 4");
    set_ok(name, "slave 1 2 3",
           "normal 268435456 0 0 slave 1 2 3 pubsub 33554432 8388608 60");
    set_ok(name, "normal 1kb 0 0 normal 2kb 0 0",   /* the last one wins, as in Redis */
           "normal 2048 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60");
    set_ok(name, "  normal\t1k  2k 3 ",
           "normal 1000 2000 3 slave 268435456 67108864 60 pubsub 33554432 8388608 60");
    set_ok(name, "", "normal 268435456 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60");
    set_ok(name, "32mb", "normal 33554432 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60");
    set_ok(name, "0", "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60");

    static const char *const nargs[] = {"normal 1mb", "normal 1 1", "normal 1 1 1 pubsub", "a b c d e"};
    for (size_t i = 0; i < sizeof(nargs) / sizeof(nargs[0]); i++)
        set_bad(name, nargs[i], "Wrong number of arguments in buffer limit configuration.");
    static const char *const cls[] = {"foo 1 1 1", "normal 1 1 1 master 1 1 1", "replicas 1 1 1"};
    for (size_t i = 0; i < sizeof(cls) / sizeof(cls[0]); i++)
        set_bad(name, cls[i], "Invalid client class specified in buffer limit configuration.");
    static const char *const num[] = {
        "normal x 1 1", "normal -1 1 1", "normal 1 1 -1", "normal 1 1 1.5", "normal 1 1mb 1s",
        "normal 99999999999999999999 0 0", "normal 1 1 2147483648", "pubsub 1 1 1 normal 1 1 x",
    };
    for (size_t i = 0; i < sizeof(num) / sizeof(num[0]); i++)
        set_bad(name, num[i], "Error in hard, soft or soft_seconds setting in buffer limit "
                "configuration.");
    char msg[CFG_ERRLEN];
    static const char *const one[] = {"abc", "-1", "1.5mb"};
    for (size_t i = 0; i < sizeof(one) / sizeof(one[0]); i++) {
        snprintf(msg, sizeof(msg), "argument must be 'normal <hard> <soft> <soft-seconds>' or one "
                 "memory value like 256mb (got '%s')", one[i]);
        set_bad(name, one[i], msg);
    }
    /* into the right fields */
    struct cfg c;
    char err[CFG_ERRLEN];
    cfg_defaults(&c);
    assert_int_equal(cfg_set(&c, name, "normal 3 2 1", err, sizeof(err)), 0);
    assert_int_equal(c.obuf_limits[CFG_OBUF_NORMAL].hard, 3);
    assert_int_equal(c.obuf_limits[CFG_OBUF_NORMAL].soft, 2);
    assert_int_equal(c.obuf_limits[CFG_OBUF_NORMAL].soft_seconds, 1);
    assert_true(cfg_takes_words(name));
}

/* Every timeout and sleep a setting gives has a sane upper bound. */
static void test_time_caps(void **s)
{
    (void)s;
    check_int_setting("loader-timeout-ms", 1, CFG_LOADER_TIMEOUT_MAX_MS);
    check_int_setting("loader-synthetic-latency-ms", 0, CFG_LOADER_TIMEOUT_MAX_MS);
    assert_true(CFG_LOADER_TIMEOUT_MAX_MS <= 60000);
}

/* requirepass: any text up to 1024 bytes (CONFIG SET's limit), "" for
 * none, and shown redacted in logs. */
static void test_requirepass(void **s)
{
    (void)s;
    struct cfg c;
    char err[CFG_ERRLEN], buf[CFG_VALUE_MAX], big[1026];
    cfg_defaults(&c);
    assert_string_equal(c.requirepass, "");
    assert_true(c.protected_mode);
    memset(big, 'p', 1024);
    big[1024] = '\0';
    assert_int_equal(cfg_set(&c, "requirepass", big, err, sizeof(err)), 0);
    assert_int_equal(cfg_get(&c, "requirepass", buf, sizeof(buf)), 0);
    assert_string_equal(buf, big);
    big[1024] = 'p';
    big[1025] = '\0';
    assert_int_equal(cfg_set(&c, "requirepass", big, err, sizeof(err)), -1);
    assert_string_equal(err, "argument must be at most 1024 bytes");   /* no echo */
    assert_int_equal(cfg_set(&c, "requirepass", "", err, sizeof(err)), 0);
    assert_string_equal(c.requirepass, "");
    assert_true(cfg_is_sensitive("requirepass"));
    assert_true(cfg_is_sensitive("REQUIREPASS"));
    assert_false(cfg_is_sensitive("aclfile"));
    assert_false(cfg_is_sensitive("nope"));
}

/* The loader spec: each kind, its argument, and what is refused. */
static void test_loader_spec(void **s)
{
    (void)s;
    struct cfg c;
    char err[CFG_ERRLEN], buf[CFG_VALUE_MAX], dir[] = "/tmp/mmcache-spec-XXXXXX";
    assert_non_null(mkdtemp(dir));
    static const char *const good[][2] = {
        {"none", "none"}, {"SYNTHETIC", "synthetic"}, {"redis 127.0.0.1:6380", "redis 127.0.0.1:6380"},
        {"redis   localhost:1", "redis localhost:1"}, {"redis [::1]:65535", "redis [::1]:65535"},
        {"file /", "file /"},
    };
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        cfg_defaults(&c);
        if (cfg_set(&c, "loader", good[i][0], err, sizeof(err)))
            fail_msg("loader '%s': %s", good[i][0], err);
        cfg_get(&c, "loader", buf, sizeof(buf));
        assert_string_equal(buf, good[i][1]);
    }
    /* a relative directory is kept absolute */
    char cwd[512], want[1200];
    assert_non_null(getcwd(cwd, sizeof(cwd)));
    assert_int_equal(chdir("/tmp"), 0);
    snprintf(buf, sizeof(buf), "file %s", dir + 5);
    assert_int_equal(cfg_set(&c, "loader", buf, err, sizeof(err)), 0);
    assert_int_equal(chdir(cwd), 0);
    assert_int_equal(c.loader, CFG_LOADER_FILE);
    assert_string_equal(c.loader_arg, dir);
    snprintf(want, sizeof(want), "file %s", dir);
    cfg_get(&c, "loader", buf, sizeof(buf));
    assert_string_equal(buf, want);

    static const char *const bad[][2] = {
        {"", "argument must be one of: none, synthetic, redis HOST:PORT, file DIR (got '')"},
        {"none x", "'none' takes no argument (got 'none x')"},
        {"synthetic 1", "'synthetic' takes no argument (got 'synthetic 1')"},
        {"redis", "'redis' needs HOST:PORT"}, {"redis :6380", "'redis' needs HOST:PORT"},
        {"redis host:0", "'redis' needs HOST:PORT"}, {"redis host:65536", "'redis' needs HOST:PORT"},
        {"redis host:12x", "'redis' needs HOST:PORT"}, {"redis ::1:6380", "'redis' needs HOST:PORT"},
        {"redis [::1]6380", "'redis' needs HOST:PORT"}, {"redis a b:1", "'redis' needs HOST:PORT"},
        {"file", "'file' needs a directory"},
        {"file /nonexistent/mmcache", "'file' needs an existing directory: '/nonexistent/mmcache': "
                                      "No such file or directory"},
        {"file /etc/hostname", "'file' needs an existing directory: '/etc/hostname': not a directory"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        cfg_defaults(&c);
        assert_int_equal(cfg_set(&c, "loader", "synthetic", err, sizeof(err)), 0);
        if (cfg_set(&c, "loader", bad[i][0], err, sizeof(err)) != -1)
            fail_msg("loader '%s' accepted", bad[i][0]);
        if (strncmp(err, bad[i][1], strlen(bad[i][1])) != 0)
            fail_msg("loader '%s': got '%s', want '%s...'", bad[i][0], err, bad[i][1]);
        assert_int_equal(c.loader, CFG_LOADER_SYNTHETIC);   /* unchanged */
    }
    rmdir(dir);
}

/* The error rate is a plain decimal from 0 to 1. */
static void test_ratio(void **s)
{
    (void)s;
    struct cfg c;
    char err[CFG_ERRLEN];
    cfg_defaults(&c);
    static const char *const ok[] = {"0", "1", "0.5", ".5", "1.0", "0.000001"};
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
        assert_int_equal(cfg_set(&c, "loader-synthetic-error-rate", ok[i], err, sizeof(err)), 0);
    assert_true(c.loader_synthetic_error_rate == 0.000001);
    static const char *const no[] = {"", "-0.1", "1.01", "2", "nan", "inf", "1e-3", " 0.5",
                                     "0.5 ", "+0.5", "0x1", "."};
    for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
        if (cfg_set(&c, "loader-synthetic-error-rate", no[i], err, sizeof(err)) != -1)
            fail_msg("error rate '%s' accepted", no[i]);
    assert_true(c.loader_synthetic_error_rate == 0.000001);
}

/* An error message cut to the caller's buffer stays a C string. */
static void test_small_error_buffer(void **s)
{
    (void)s;
    struct cfg c;
    char err[16];
    memset(err, 'X', sizeof(err));
    cfg_defaults(&c);
    assert_int_equal(cfg_set(&c, "port", "0", err, sizeof(err)), -1);
    assert_string_equal(err, "argument must b");
}

static void test_memory_units(void **s)
{
    (void)s;
    static const struct { const char *in; uint64_t v; } ok[] = {
        {"0", 0}, {"42", 42}, {"42b", 42}, {"42B", 42}, {"1k", 1000}, {"1K", 1000},
        {"1kb", 1024}, {"1KB", 1024}, {"1kB", 1024}, {"1m", 1000000}, {"2mb", 2097152},
        {"2MB", 2097152}, {"1g", 1000000000}, {"1gb", 1073741824}, {"3GB", 3221225472ULL},
        {"18446744073709551615", UINT64_MAX}, {"17179869183gb", 17179869183ULL << 30},
    };
    static const char *const bad[] = {
        "", "-1", "+1", " 1", "1 ", "k", "1.5k", "1kk", "1t", "1tb", "1kbb", "0x10",
        "18446744073709551616", "17179869184gb", "99999999999999999999",
    };
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        uint64_t v = 12345;
        if (cfg_parse_memory(ok[i].in, &v) != 0)
            fail_msg("cfg_parse_memory('%s') failed", ok[i].in);
        assert_int_equal(v, ok[i].v);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        uint64_t v = 12345;
        if (cfg_parse_memory(bad[i], &v) != -1)
            fail_msg("cfg_parse_memory('%s') accepted it", bad[i]);
        assert_int_equal(v, 12345);
    }
}

/* ---- the command line ---------------------------------------------------------------- */

/* argv from a NULL-terminated list, "mmcache" in front. */
#define ARGV(...) ((char *[]){"mmcache", __VA_ARGS__, NULL})
#define ARGC(v) argc_of(v)

static int argc_of(char **v)
{
    int n = 0;
    while (v[n])
        n++;
    return n;
}

static int parse(struct cfg *c, char *err, size_t errlen, int *exit_now, char **argv)
{
    cfg_defaults(c);
    strcpy(err, "(no message)");
    return cfg_parse_args(c, argc_of(argv), argv, err, errlen, exit_now);
}

static void test_flags_both_forms(void **s)
{
    (void)s;
    struct cfg c;
    char err[CFG_ERRLEN];
    int ex = -1;
    assert_int_equal(parse(&c, err, sizeof err, &ex,
                           ARGV("--port", "7000", "--maxmemory=1gb", "--maxmemory-policy",
                                "noeviction", "--threads=3", "--BIND", "::1", "--Hz=50",
                                "--loglevel=warning")), 0);
    assert_int_equal(ex, 0);
    assert_int_equal(c.port, 7000);
    assert_int_equal(c.maxmemory, 1024ULL * 1024 * 1024);
    assert_int_equal(c.policy, CFG_NOEVICTION);
    assert_int_equal(c.threads, 3);
    assert_string_equal(c.bind, "::1");
    assert_int_equal(c.hz, 50);
    assert_int_equal(c.loglevel, CFG_LOG_WARNING);
    /* the last of two flags wins */
    assert_int_equal(parse(&c, err, sizeof err, &ex, ARGV("--timeout", "5", "--timeout=6")), 0);
    assert_int_equal(c.timeout, 6);
    /* every directive is a flag */
    for (size_t i = 0; cfg_names[i]; i++) {
        char flag[64], buf[128];
        struct cfg def;
        cfg_defaults(&def);
        cfg_get(&def, cfg_names[i], buf, sizeof(buf));
        snprintf(flag, sizeof(flag), "--%s", cfg_names[i]);
        assert_int_equal(parse(&c, err, sizeof err, &ex, ARGV(flag, buf)), 0);
        assert_memory_equal(&c, &def, sizeof(c));
    }
    /* no flags at all */
    char *none[] = {"mmcache", NULL};
    assert_int_equal(parse(&c, err, sizeof err, &ex, none), 0);
    assert_int_equal(ex, 0);
}

static void test_flag_errors(void **s)
{
    (void)s;
    struct cfg c;
    char err[CFG_ERRLEN];
    int ex;
    assert_int_equal(parse(&c, err, sizeof err, &ex, ARGV("--port", "70000")), -1);
    assert_string_equal(err, "flag --port: argument must be an integer between 1 and 65535 "
                        "inclusive (got '70000')");
    assert_int_equal(parse(&c, err, sizeof err, &ex, ARGV("--shards=48")), -1);
    assert_string_equal(err, "flag --shards: argument must be a power of two (got '48')");
    assert_int_equal(parse(&c, err, sizeof err, &ex, ARGV("--maxmemory-policy", "lfu")), -1);
    assert_string_equal(err, "flag --maxmemory-policy: argument must be one of the following: "
                        "allkeys-lru, volatile-lru, allkeys-random, noeviction, allkeys-lfu, "
                        "volatile-lfu, volatile-random, volatile-ttl (got 'lfu')");
    assert_int_equal(parse(&c, err, sizeof err, &ex, ARGV("--maxmemory", "12xb")), -1);
    assert_string_equal(err, "flag --maxmemory: argument must be a memory value like 512mb or "
                        "1gb (units b, k, kb, m, mb, g, gb) (got '12xb')");
    assert_int_equal(parse(&c, err, sizeof err, &ex, ARGV("--bind=localhost")), -1);
    assert_string_equal(err, "flag --bind: argument must be one IPv4 or IPv6 address, e.g. "
                        "127.0.0.1, 0.0.0.0 or ::1 (got 'localhost')");
    assert_int_equal(parse(&c, err, sizeof err, &ex, ARGV("--timeout=")), -1);
    assert_string_equal(err, "flag --timeout: argument must be an integer between 0 and "
                        "2147483647 inclusive (got '')");
    assert_int_equal(parse(&c, err, sizeof err, &ex, ARGV("--bogus", "1")), -1);
    assert_string_equal(err, "unknown flag '--bogus' (mmcache --help lists them)");
    assert_int_equal(parse(&c, err, sizeof err, &ex, ARGV("--bogus=1")), -1);
    assert_string_equal(err, "unknown flag '--bogus' (mmcache --help lists them)");
    assert_int_equal(parse(&c, err, sizeof err, &ex, ARGV("--port")), -1);
    assert_string_equal(err, "flag '--port' needs a value");
    assert_int_equal(parse(&c, err, sizeof err, &ex, ARGV("--port", "7000", "--hz")), -1);
    assert_string_equal(err, "flag '--hz' needs a value");
    /* a name too long for any setting */
    char lng[100];
    memset(lng, 'a', sizeof(lng) - 1);
    lng[0] = lng[1] = '-';
    lng[sizeof(lng) - 1] = 0;
    assert_int_equal(parse(&c, err, sizeof err, &ex, ARGV(lng, "1")), -1);
    char want[CFG_ERRLEN];
    snprintf(want, sizeof(want), "unknown flag '%s'", lng);
    assert_string_equal(err, want);
    /* a word where a flag should be: only the first argument may be a file */
    assert_int_equal(parse(&c, err, sizeof err, &ex, ARGV("--port=7000", "port")), -1);
    assert_string_equal(err, "unexpected argument 'port' (settings are --name value; a config "
                        "file may only be the first argument)");
    assert_int_equal(parse(&c, err, sizeof err, &ex, ARGV("--port", "7000", "a.conf")), -1);
    assert_string_equal(err, "unexpected argument 'a.conf' (settings are --name value; a config "
                        "file may only be the first argument)");
    /* the first error stops the parse */
    assert_int_equal(parse(&c, err, sizeof err, &ex, ARGV("--port", "0", "--bogus", "1")), -1);
    assert_string_equal(err, "flag --port: argument must be an integer between 1 and 65535 "
                        "inclusive (got '0')");
}

/* cfg_parse_args leaves the config file arguments to cfg_args_file. */
static void test_flags_skip_config_file(void **s)
{
    (void)s;
    struct cfg c;
    char err[CFG_ERRLEN];
    int ex;
    assert_int_equal(parse(&c, err, sizeof err, &ex,
                           ARGV("my.conf", "--port", "7000", "--config", "x.conf",
                                "--config=y.conf", "--CONFIG", "z.conf", "--hz", "20")), 0);
    assert_int_equal(c.port, 7000);
    assert_int_equal(c.hz, 20);
    c.port = 6379;
    c.hz = 10;
    struct cfg def;
    cfg_defaults(&def);
    assert_memory_equal(&c, &def, sizeof(c));
}

static void test_help_version(void **s)
{
    (void)s;
    struct cfg c;
    char err[CFG_ERRLEN];
    int ex;
    assert_int_equal(parse(&c, err, sizeof err, &ex, ARGV("--help")), 0);
    assert_int_equal(ex, 1);
    assert_int_equal(parse(&c, err, sizeof err, &ex, ARGV("-h")), 0);
    assert_int_equal(ex, 1);
    assert_int_equal(parse(&c, err, sizeof err, &ex, ARGV("--version")), 0);
    assert_int_equal(ex, 2);
    assert_int_equal(parse(&c, err, sizeof err, &ex, ARGV("-v")), 0);
    assert_int_equal(ex, 2);
    /* after other flags and a config file; before a bad flag */
    assert_int_equal(parse(&c, err, sizeof err, &ex, ARGV("a.conf", "--port", "7000", "--help")), 0);
    assert_int_equal(ex, 1);
    assert_int_equal(parse(&c, err, sizeof err, &ex, ARGV("--version", "--bogus")), 0);
    assert_int_equal(ex, 2);
    /* not as a flag's value */
    assert_int_equal(parse(&c, err, sizeof err, &ex, ARGV("--port", "--help")), -1);
    assert_int_equal(ex, 0);
    assert_string_equal(err, "flag --port: argument must be an integer between 1 and 65535 "
                        "inclusive (got '--help')");
}

static void args_file_ok(char **argv, const char *want)
{
    const char *path = "(unset)";
    char err[CFG_ERRLEN] = "";
    int rc = cfg_args_file(argc_of(argv), argv, &path, err, sizeof(err));
    if (rc != 0)
        fail_msg("cfg_args_file = %d: %s", rc, err);
    if (want && !path)
        fail_msg("no config file found, want '%s'", want);
    if (want)
        assert_string_equal(path, want);
    else
        assert_null(path);
}

static void args_file_bad(char **argv, const char *msg)
{
    const char *path = "(unset)";
    char err[CFG_ERRLEN] = "";
    assert_int_equal(cfg_args_file(argc_of(argv), argv, &path, err, sizeof(err)), -1);
    assert_string_equal(err, msg);
}

static void test_args_file(void **s)
{
    (void)s;
    char *none[] = {"mmcache", NULL};
    args_file_ok(none, NULL);
    args_file_ok(ARGV("--port", "7000"), NULL);
    args_file_ok(ARGV("a.conf"), "a.conf");
    args_file_ok(ARGV("/etc/mmcache.conf", "--port", "7000"), "/etc/mmcache.conf");
    args_file_ok(ARGV("--config", "b.conf"), "b.conf");
    args_file_ok(ARGV("--port", "7000", "--config", "b.conf", "--hz=5"), "b.conf");
    args_file_ok(ARGV("--config=c.conf"), "c.conf");
    args_file_ok(ARGV("--hz=5", "--config=c.conf"), "c.conf");
    /* flag names are case-insensitive, --config too */
    args_file_ok(ARGV("--CONFIG", "d.conf"), "d.conf");
    args_file_ok(ARGV("--Config=e.conf"), "e.conf");
    /* a flag's value is not a file, nor is a word after the first argument */
    args_file_ok(ARGV("--port", "a.conf"), NULL);
    args_file_ok(ARGV("--port=7000", "a.conf"), NULL);
    args_file_ok(ARGV("-h"), NULL);
    args_file_ok(ARGV("-v"), NULL);

    args_file_bad(ARGV("a.conf", "--config", "b.conf"),
                  "more than one config file ('a.conf' and 'b.conf')");
    args_file_bad(ARGV("--config=a.conf", "--config", "b.conf"),
                  "more than one config file ('a.conf' and 'b.conf')");
    args_file_bad(ARGV("--config", "a.conf", "--config=a.conf"),
                  "more than one config file ('a.conf' and 'a.conf')");
    args_file_bad(ARGV("--config"), "flag '--config' needs a value (a file)");
    args_file_bad(ARGV("--port", "7000", "--config"), "flag '--config' needs a value (a file)");
    args_file_bad(ARGV("--config="), "flag '--config' needs a value (a file)");
    args_file_bad(ARGV("--config", ""), "flag '--config' needs a value (a file)");
}

/* --help lists every setting, and says which need a restart. */
static void test_usage(void **s)
{
    (void)s;
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    assert_non_null(f);
    cfg_usage(f);
    fclose(f);
    assert_non_null(strstr(text, "Usage: mmcache [FILE] [--config FILE]"));
    for (size_t i = 0; cfg_names[i]; i++) {
        char flag[64];
        snprintf(flag, sizeof(flag), "\n  --%s ", cfg_names[i]);
        char *at = strstr(text, flag);
        if (!at) {
            fail_msg("--help does not list %s", cfg_names[i]);
            return;   /* not reached: tells the compiler at is not NULL */
        }
        char *eol = strchr(at + 1, '\n');
        assert_non_null(eol);
        bool restart = memmem(at, (size_t)(eol - at), "[restart to change]", 19) != NULL;
        assert_true(restart == !cfg_is_live(cfg_names[i]));
    }
    assert_non_null(strstr(text, "  --config FILE"));
    assert_non_null(strstr(text, "  --help"));
    assert_non_null(strstr(text, "  --version"));
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_names_live_canonical),
        cmocka_unit_test(test_names_case_insensitive),
        cmocka_unit_test(test_unknown_setting),
        cmocka_unit_test(test_bind),
        cmocka_unit_test(test_int_settings),
        cmocka_unit_test(test_shards),
        cmocka_unit_test(test_memory_settings),
        cmocka_unit_test(test_policy),
        cmocka_unit_test(test_loglevel),
        cmocka_unit_test(test_every_directive_round_trips),
        cmocka_unit_test(test_levers),
        cmocka_unit_test(test_output_buffer_limit),
        cmocka_unit_test(test_time_caps),
        cmocka_unit_test(test_requirepass),
        cmocka_unit_test(test_loader_spec),
        cmocka_unit_test(test_ratio),
        cmocka_unit_test(test_small_error_buffer),
        cmocka_unit_test(test_memory_units),
        cmocka_unit_test(test_flags_both_forms),
        cmocka_unit_test(test_flag_errors),
        cmocka_unit_test(test_flags_skip_config_file),
        cmocka_unit_test(test_help_version),
        cmocka_unit_test(test_args_file),
        cmocka_unit_test(test_usage),
    };
    return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
