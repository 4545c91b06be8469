/*
 * INFO's persistence, replication, cpu, commandstats and errorstats
 * sections: their field names and formats are Redis 7.0's (every test but
 * the per-worker one also runs under MMCACHE_TEST_AGAINST=redis, which is
 * how the expected names below are checked), the counters count what
 * Redis counts (calls, rejected before the handler, failed in it; error
 * replies by their first word), CONFIG RESETSTAT starts them again, and
 * calls counted on two workers are summed.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "check.h"
#define CMD_FIXTURE_MM_ARGS "--threads", "2",
#include "cmd_fixture.h"
#include "blocking_util.h"
#include "harness.h"

/* INFO's text for `sections` (space separated, "" for none); the caller
 * frees it. */
static char *info(redisContext *x, const char *sections)
{
    char cmd[256];
    snprintf(cmd, sizeof(cmd), "INFO %s", sections);   /* hiredis splits it at spaces */
    redisReply *r = CMD(x, cmd);
    assert_int_equal(r->type, REDIS_REPLY_STRING);
    char *s = strdup(r->str);
    freeReplyObject(r);
    assert_non_null(s);
    return s;
}

/* The field names of an INFO text, in order, each followed by ','. */
static void field_names(const char *text, char *out, size_t cap)
{
    size_t used = 0;
    out[0] = '\0';
    for (const char *p = text; *p && used < cap;) {
        const char *eol = strstr(p, "\r\n");
        size_t n = eol ? (size_t)(eol - p) : strlen(p);
        const char *colon = memchr(p, ':', n);
        if (p[0] != '#' && colon != NULL)
            used += (size_t)snprintf(out + used, cap - used, "%.*s,", (int)(colon - p), p);
        p += n + (eol ? 2 : 0);
    }
}

static void expect_fields(const char *section, const char *want)
{
    char names[4096];
    char *text = info(c, section);
    field_names(text, names, sizeof(names));
    if (strcmp(names, want) != 0)
        fail_msg("INFO %s fields:\n got  %s\n want %s", section, names, want);
    free(text);
}

/* A field's value as text ("" when absent). */
static void field(const char *text, const char *name, char *out, size_t cap)
{
    char key[128];
    snprintf(key, sizeof(key), "\r\n%s:", name);
    const char *p = strstr(text, key);
    out[0] = '\0';
    if (p == NULL && strncmp(text, key + 2, strlen(key + 2)) == 0)
        p = text - 2;
    if (p != NULL) {
        p += strlen(key);
        snprintf(out, cap, "%.*s", (int)strcspn(p, "\r"), p);
    }
}

static void test_persistence_replication(void **state)
{
    expect_fields("persistence",
        "loading,async_loading,current_cow_peak,current_cow_size,current_cow_size_age,"
        "current_fork_perc,current_save_keys_processed,current_save_keys_total,"
        "rdb_changes_since_last_save,rdb_bgsave_in_progress,rdb_last_save_time,"
        "rdb_last_bgsave_status,rdb_last_bgsave_time_sec,rdb_current_bgsave_time_sec,"
        "rdb_saves,rdb_last_cow_size,rdb_last_load_keys_expired,rdb_last_load_keys_loaded,"
        "aof_enabled,aof_rewrite_in_progress,aof_rewrite_scheduled,aof_last_rewrite_time_sec,"
        "aof_current_rewrite_time_sec,aof_last_bgrewrite_status,aof_rewrites,"
        "aof_rewrites_consecutive_failures,aof_last_write_status,aof_last_cow_size,"
        "module_fork_in_progress,module_fork_last_cow_size,");
    expect_fields("replication",
        "role,connected_slaves,master_failover_state,master_replid,master_replid2,"
        "master_repl_offset,second_repl_offset,repl_backlog_active,repl_backlog_size,"
        "repl_backlog_first_byte_offset,repl_backlog_histlen,");
    char *text = info(c, "persistence replication");
    char v[128];
    field(text, "aof_enabled", v, sizeof(v));
    assert_string_equal(v, "0");
    field(text, "rdb_saves", v, sizeof(v));
    assert_string_equal(v, "0");
    field(text, "role", v, sizeof(v));
    assert_string_equal(v, "master");
    field(text, "master_replid", v, sizeof(v));
    assert_int_equal(strlen(v), 40);
    assert_int_equal(strspn(v, "0123456789abcdef"), 40);
    /* the last save is the start, as LASTSAVE says */
    redisReply *r = CMD(c, "LASTSAVE");
    field(text, "rdb_last_save_time", v, sizeof(v));
    assert_int_equal(atoll(v), r->integer);
    freeReplyObject(r);
    free(text);
}

/* used_cpu_*: seconds with 6 decimals, as getrusage gives them. */
static void test_cpu(void **state)
{
    static const char *const names[] = {"used_cpu_sys", "used_cpu_user",
                                        "used_cpu_sys_children", "used_cpu_user_children"};
    char *text = info(c, "cpu");
    char v[64];
    assert_non_null(strstr(text, "# CPU\r\n"));
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        field(text, names[i], v, sizeof(v));
        size_t dot = strspn(v, "0123456789");
        if (dot == 0 || v[dot] != '.' || strlen(v + dot + 1) != 6 ||
            strspn(v + dot + 1, "0123456789") != 6)
            fail_msg("%s:%s is not seconds.micros", names[i], v);
    }
    free(text);
}

/* One INFO commandstats line: "calls=C,usec=U,usec_per_call=F,rejected_calls=R,failed_calls=X". */
static void expect_cmdstat(const char *text, const char *name, long long calls,
                           long long rejected, long long failed)
{
    char key[64], v[256];
    long long gc, gu, gr, gf;
    double per;
    int end = 0;
    snprintf(key, sizeof(key), "cmdstat_%s", name);
    field(text, key, v, sizeof(v));
    if (sscanf(v, "calls=%lld,usec=%lld,usec_per_call=%lf,rejected_calls=%lld,failed_calls=%lld%n",
               &gc, &gu, &per, &gr, &gf, &end) != 5 || v[end] != '\0')
        fail_msg("%s: '%s' is not Redis's format", key, v);
    if (gc != calls || gr != rejected || gf != failed)
        fail_msg("%s: %s; want calls=%lld rejected_calls=%lld failed_calls=%lld", key, v, calls,
                 rejected, failed);
    const char *dot = strstr(v, "usec_per_call=");
    dot = strchr(dot, '.');
    assert_true(dot != NULL && dot[3] == ',');   /* two decimals */
}

static void test_commandstats_errorstats(void **state)
{
    EXPECT_OK(c, "CONFIG RESETSTAT");
    EXPECT_OK(c, "SET k v");
    EXPECT_BULK(c, "v", "GET k");
    EXPECT_ERR(c, "ERR wrong number of arguments for 'get' command", "GET");
    EXPECT_ERR(c, "WRONGTYPE Operation against a key holding the wrong kind of value",
               "LPUSH k x");
    redisReply *r = CMD(c, "NOSUCHCOMMAND");   /* errorstats only: no command */
    freeReplyObject(r);
    EXPECT_OK(c, "CONFIG SET maxmemory 0");
    char *text = info(c, "commandstats");
    assert_non_null(strstr(text, "# Commandstats\r\n"));
    expect_cmdstat(text, "set", 1, 0, 0);
    expect_cmdstat(text, "get", 1, 1, 0);
    expect_cmdstat(text, "lpush", 1, 0, 1);
    expect_cmdstat(text, "config|resetstat", 1, 0, 0);
    expect_cmdstat(text, "config|set", 1, 0, 0);
    assert_null(strstr(text, "nosuchcommand"));
    free(text);
    expect_fields("errorstats", "errorstat_ERR,errorstat_WRONGTYPE,");
    text = info(c, "errorstats");
    assert_non_null(strstr(text, "errorstat_ERR:count=2\r\n"));
    assert_non_null(strstr(text, "errorstat_WRONGTYPE:count=1\r\n"));
    free(text);
    assert_int_equal(harness_info_ll(c, "total_error_replies"), 3);
    /* default INFO leaves commandstats out, "all" has it */
    text = info(c, "");
    assert_null(strstr(text, "# Commandstats"));
    assert_non_null(strstr(text, "# Errorstats"));
    free(text);
    text = info(c, "all");
    assert_non_null(strstr(text, "# Commandstats"));
    free(text);

    /* RESETSTAT: only itself is left */
    EXPECT_OK(c, "CONFIG RESETSTAT");
    expect_fields("commandstats", "cmdstat_config|resetstat,");
    expect_fields("errorstats", "");
    assert_int_equal(harness_info_ll(c, "total_error_replies"), 0);
    EXPECT_ERR(c, "WRONGTYPE Operation against a key holding the wrong kind of value",
               "LPUSH k x");
    text = info(c, "commandstats errorstats");
    expect_cmdstat(text, "lpush", 1, 0, 1);
    assert_non_null(strstr(text, "errorstat_WRONGTYPE:count=1\r\n"));
    free(text);
}

/* Calls on two workers (two connections, each on its own) are one sum. */
static void test_summed_across_workers(void **state)
{
    HARNESS_MMCACHE_ONLY("mmcache's workers");
    redisContext *a = on_worker(0), *b = on_worker(1);
    EXPECT_OK(c, "CONFIG RESETSTAT");
    for (int i = 0; i < 3; i++)
        EXPECT_STATUS(a, "PONG", "PING");
    for (int i = 0; i < 4; i++)
        EXPECT_STATUS(b, "PONG", "PING");
    /* PING's arity is -1: its handler refuses two arguments (failed);
     * GET's arity refuses none before it runs (rejected) */
    EXPECT_ERR(a, "ERR wrong number of arguments for 'ping' command", "PING 1 2");
    EXPECT_ERR(b, "ERR wrong number of arguments for 'ping' command", "PING 1 2");
    EXPECT_ERR(b, "ERR wrong number of arguments for 'ping' command", "PING 1 2");
    EXPECT_ERR(a, "ERR wrong number of arguments for 'get' command", "GET");
    EXPECT_ERR(b, "ERR wrong number of arguments for 'get' command", "GET");
    char *text = info(b, "commandstats errorstats");
    expect_cmdstat(text, "ping", 10, 0, 3);
    expect_cmdstat(text, "get", 0, 2, 0);
    assert_non_null(strstr(text, "errorstat_ERR:count=5\r\n"));
    free(text);
    redisFree(a);
    redisFree(b);
}

/* The fields redis_exporter turns into metrics (tests/integration/
 * test_redis_exporter.sh counts them), each a number; the read counter
 * counts reads, the peak is at least the current use. */
static void test_exporter_fields(void **state)
{
    static const char *const names[] = {
        "used_memory_peak", "used_memory_startup", "used_memory_overhead",
        "used_memory_dataset", "used_memory_lua", "used_memory_scripts",
        "number_of_cached_scripts", "mem_fragmentation_ratio", "mem_fragmentation_bytes",
        "mem_not_counted_for_evict", "mem_clients_slaves", "mem_clients_normal",
        "active_defrag_running", "cluster_connections", "clients_in_timeout_table",
        "tracking_clients", "client_recent_max_input_buffer",
        "client_recent_max_output_buffer", "total_reads_processed", "total_writes_processed",
        "expired_stale_perc", "expired_time_cap_reached_count", "sync_full", "sync_partial_ok",
        "sync_partial_err", "latest_fork_usec", "migrate_cached_sockets",
        "slave_expires_tracked_keys", "active_defrag_hits", "active_defrag_misses",
        "active_defrag_key_hits", "active_defrag_key_misses", "tracking_total_keys",
        "tracking_total_items", "tracking_total_prefixes", "unexpected_error_replies",
        "pubsub_channels", "pubsub_patterns", "io_threaded_reads_processed",
        "io_threaded_writes_processed", "dump_payload_sanitizations",
        "used_cpu_sys_main_thread", "used_cpu_user_main_thread", "cluster_enabled",
    };
    char v[64], *end;
    char *text = info(c, "all");
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        field(text, names[i], v, sizeof(v));
        strtod(v, &end);
        if (v[0] == '\0' || *end != '\0')
            fail_msg("INFO all: %s:'%s' is not a number", names[i], v);
    }
    field(text, "total_reads_processed", v, sizeof(v));
    long long reads = atoll(v);
    field(text, "used_memory_peak", v, sizeof(v));
    long long peak = atoll(v);
    field(text, "used_memory", v, sizeof(v));
    assert_true(peak >= atoll(v));
    free(text);
    for (int i = 0; i < 3; i++)
        EXPECT_STATUS(c, "PONG", "PING");
    text = info(c, "stats");
    field(text, "total_reads_processed", v, sizeof(v));
    if (atoll(v) < reads + 4)   /* 3 PINGs and this INFO, each read on its own */
        fail_msg("total_reads_processed %lld -> %s after 4 requests", reads, v);
    free(text);
}

/* mmcache's lock-wait profile: right after shard_lock_waits, five
 * "shard_lock_wait_top:shard=S,waits=W,wait_us=U" lines (the default has
 * more shards than that), distinct shards, most time waited first. */
static void test_lock_wait_top(void **state)
{
    (void)state;
    HARNESS_MMCACHE_ONLY("INFO shard_lock_wait_top");
    char *text = info(c, "stats");
    const char *p = strstr(text, "\r\nshard_lock_waits:");
    assert_non_null(p);
    p = strstr(p + 2, "\r\n") + 2;
    unsigned seen[5];
    unsigned long long prev_us = ~0ull;
    int lines = 0;
    for (; strncmp(p, "shard_lock_wait_top:", 20) == 0; lines++) {
        unsigned shard;
        unsigned long long w, us;
        int end = 0;
        if (sscanf(p, "shard_lock_wait_top:shard=%u,waits=%llu,wait_us=%llu%n",
                   &shard, &w, &us, &end) != 3 || end == 0 ||
            strncmp(p + end, "\r\n", 2) != 0)
            fail_msg("malformed line: %.*s", (int)strcspn(p, "\r"), p);
        assert_true(lines < 5);
        assert_true(us <= prev_us);   /* ranked by ns: equal us may hold any waits */
        for (int i = 0; i < lines; i++)
            assert_int_not_equal(seen[i], shard);
        seen[lines] = shard;
        prev_us = us;
        (void)w;
        p += end + 2;
    }
    assert_int_equal(lines, 5);
    free(text);
}

/* A stats field's value in an INFO text. */
static unsigned long long stat_of(const char *text, const char *field)
{
    char key[64];
    snprintf(key, sizeof(key), "\r\n%s:", field);
    const char *p = strstr(text, key);
    assert_non_null(p);
    return strtoull(p + strlen(key), NULL, 10);
}

/* The shard_lock_wait_top lines of an INFO text: sums of their waits and
 * wait_us, and how many there are. */
static int wait_top_sums(const char *text, unsigned long long *waits, unsigned long long *us)
{
    int lines = 0;
    *waits = *us = 0;
    for (const char *p = text; (p = strstr(p, "\r\nshard_lock_wait_top:")) != NULL; lines++) {
        unsigned shard;
        unsigned long long w, u;
        p += 2;
        assert_int_equal(sscanf(p, "shard_lock_wait_top:shard=%u,waits=%llu,wait_us=%llu",
                                &shard, &w, &u), 3);
        *waits += w;
        *us += u;
    }
    return lines;
}

struct setter {
    redisContext *x;
    _Atomic int *stop;
};
static char hot_val[64 * 1024];   /* immutable once the setters start */

/* SETs of one 64 KiB value to one key, 16 a round, until told to stop:
 * two of these on two workers collide on that key's shard lock (the copy
 * of the value is made holding it). */
static void *set_same_key(void *arg)
{
    struct setter *st = arg;
    while (!atomic_load(st->stop)) {
        for (int i = 0; i < 16; i++)
            redisAppendCommand(st->x, "SET lockwait:hot %b", hot_val, sizeof(hot_val));
        for (int i = 0; i < 16; i++) {
            void *r = NULL;
            if (redisGetReply(st->x, &r) != REDIS_OK)
                return NULL;
            freeReplyObject(r);
        }
    }
    return NULL;
}

/* CONFIG RESETSTAT starts the lock-wait profile again, all of it, as Redis
 * 7.0's starts all of INFO stats: after two workers waited on one shard,
 * shard_lock_waits and every shard_lock_wait_top line read 0. Waits are
 * made, not assumed: should none happen within the bound (a machine that
 * never runs the two workers at once), the test says so and skips. */
static void test_lock_wait_resetstat(void **state)
{
    (void)state;
    HARNESS_MMCACHE_ONLY("INFO shard_lock_wait_top");
    _Atomic int stop = 0;
    memset(hot_val, 'v', sizeof(hot_val));
    struct setter st[2] = {{on_worker(0), &stop}, {on_worker(1), &stop}};
    pthread_t th[2];
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&th[i], NULL, set_same_key, &st[i]), 0);
    unsigned long long total = 0;
    for (long long end = harness_now_ms() + 30000; total == 0 && harness_now_ms() < end;) {
        harness_sleep_ms(50);
        char *text = info(c, "stats");
        total = stat_of(text, "shard_lock_waits");
        free(text);
    }
    atomic_store(&stop, 1);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(pthread_join(th[i], NULL), 0);
        redisFree(st[i].x);
    }
    if (total == 0)
        TEST_SKIP("no shard lock wait in 30 s: nothing to reset");

    unsigned long long w, us;
    char *text = info(c, "stats");
    assert_int_equal(wait_top_sums(text, &w, &us), 5);
    assert_true(w > 0);   /* the hot key's shard is among them */
    free(text);
    EXPECT_OK(c, "CONFIG RESETSTAT");
    text = info(c, "stats");
    assert_int_equal(stat_of(text, "shard_lock_waits"), 0);
    assert_int_equal(wait_top_sums(text, &w, &us), 5);
    assert_int_equal(w, 0);
    assert_int_equal(us, 0);
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_persistence_replication, test_setup),
        cmocka_unit_test_setup(test_cpu, test_setup),
        cmocka_unit_test_setup(test_commandstats_errorstats, test_setup),
        cmocka_unit_test_setup(test_summed_across_workers, test_setup),
        cmocka_unit_test_setup(test_exporter_fields, test_setup),
        cmocka_unit_test_setup(test_lock_wait_top, test_setup),
        cmocka_unit_test_setup(test_lock_wait_resetstat, test_setup),
    };
    int failed = cmocka_run_group_tests_name("integration/info_sections", tests, group_setup,
                                             group_teardown);
    return harness_finish(failed);
}
