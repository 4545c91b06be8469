/*
 * INFO: Redis's text format ("# Section\r\nfield:value\r\n", sections
 * separated by a blank line), for the sections a cache has: server,
 * clients, memory, stats, keyspace.
 *
 * Every number is read at the moment INFO runs: per-worker counters are
 * summed with relaxed loads (srv_stats_sum), cache figures come from
 * cache_stats(); each only grows between two INFOs (CONFIG RESETSTAT
 * aside), so a client polling INFO never sees a total go backwards. The
 * text is built into the caller's buffer, never a shared one.
 *
 * Context: any worker, inside srv_dispatch() (settings come from the
 * request's config snapshot).
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/utsname.h>
#include <unistd.h>

#ifdef MMCACHE_JEMALLOC
#include <jemalloc/jemalloc.h>
#endif

#include "commands.h"
#include "conn.h"   /* CONN_RBUF_SIZE */
#include "loader.h"
#include "inject.h"
#include "srv.h"

enum {
    SEC_SERVER = 1 << 0, SEC_CLIENTS = 1 << 1, SEC_MEMORY = 1 << 2,
    SEC_STATS = 1 << 3, SEC_KEYSPACE = 1 << 4, SEC_LOADER = 1 << 5,
    SEC_BUGS = 1 << 6, SEC_PERSISTENCE = 1 << 7, SEC_REPLICATION = 1 << 8,
    SEC_CPU = 1 << 9, SEC_COMMANDSTATS = 1 << 10, SEC_ERRORSTATS = 1 << 11,
    SEC_CLUSTER = 1 << 12, SEC_LATENCYSTATS = 1 << 13,
    SEC_ALL = (1 << 14) - 1,
    /* Redis's "default": all but the per-command sections */
    SEC_DEFAULT = SEC_ALL & ~(SEC_COMMANDSTATS | SEC_LATENCYSTATS),
};

int srv__infof(struct proto_buf *b, int *rc, const char *fmt, ...)
{
    char line[512];
    va_list ap;
    int n;

    if (*rc < 0)
        return *rc;
    if (!INJECT(21)) {
        va_start(ap, fmt);
        n = vsnprintf(line, sizeof(line), fmt, ap);
        va_end(ap);
        if (n < 0)
            return 0;
        *rc = proto_buf_append(b, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
    } else {
        /* BUG 21 (shared bytes.Buffer): one line buffer for every worker
         * ("static, to keep INFO off the stack"), no lock. Another worker's
         * INFO can format its line into it between our vsnprintf and our
         * copy: we send its bytes (n of them: its line, its NUL, older
         * leftovers). Amplified: sched_yield between format and copy. */
        static char shared_line[512];   /* guarded by: NOTHING (bug 21) */
        va_start(ap, fmt);
        n = vsnprintf(shared_line, sizeof(shared_line), fmt, ap);
        va_end(ap);
        if (n < 0)
            return 0;
        if (INJECT_AMPLIFY())
            inject_window();
        *rc = proto_buf_append(b, shared_line, (size_t)n < sizeof(shared_line) ?
                               (size_t)n : sizeof(shared_line) - 1);
    }
    return *rc;
}

/* Redis's bytesToHuman: 1023B, 1.50K, 2.29M, ... */
static void human(char *buf, size_t cap, uint64_t n)
{
    static const char units[] = "KMGTP";
    double d = (double)n;
    int u = -1;

    if (n < 1024) {
        snprintf(buf, cap, "%lluB", (unsigned long long)n);
        return;
    }
    while (d >= 1024 && u < 4) {
        d /= 1024;
        u++;
    }
    snprintf(buf, cap, "%.2f%c", d, units[u]);
}

static void info_server(struct proto_buf *b, int *rc, const struct cfg *cfg)
{
    struct utsname un;
    int64_t uptime = (srv_now_ms() - srv.start_ms) / 1000;

    if (uname(&un) != 0)
        memset(&un, 0, sizeof(un));
    srv__infof(b, rc, "# Server\r\n");
    srv__infof(b, rc, "redis_version:%s\r\n", SRV_VERSION);
    srv__infof(b, rc, "mmcache_version:%s\r\n", MMCACHE_VERSION);
    srv__infof(b, rc, "redis_mode:standalone\r\n");
    srv__infof(b, rc, "os:%s %s %s\r\n", un.sysname, un.release, un.machine);
    srv__infof(b, rc, "arch_bits:%d\r\n", (int)sizeof(void *) * 8);
    srv__infof(b, rc, "multiplexing_api:epoll\r\n");
    srv__infof(b, rc, "gcc_version:%d.%d.%d\r\n", __GNUC__, __GNUC_MINOR__,
         __GNUC_PATCHLEVEL__);
    srv__infof(b, rc, "process_id:%ld\r\n", (long)srv.pid);
    srv__infof(b, rc, "run_id:%s\r\n", srv.run_id);
    srv__infof(b, rc, "tcp_port:%d\r\n", srv.port);
    srv__infof(b, rc, "uptime_in_seconds:%lld\r\n", (long long)uptime);
    srv__infof(b, rc, "uptime_in_days:%lld\r\n", (long long)uptime / 86400);
    srv__infof(b, rc, "hz:%u\r\n", cfg->hz);
    srv__infof(b, rc, "executable:%s\r\n", srv.executable);
    srv__infof(b, rc, "io_threads_active:0\r\n");
    srv__infof(b, rc, "mmcache_threads:%u\r\n", srv.nworkers);
    /* The config: this request's snapshot, and how reloads went. */
    struct cfg_reload_stats rs;
    cfg_reload_stats(&rs);
    srv__infof(b, rc, "config_file:%s\r\n", cfg_file());
    srv__infof(b, rc, "config_generation:%llu\r\n", (unsigned long long)cfg->generation);
    srv__infof(b, rc, "config_last_reload_ok:%d\r\n", rs.last_ok ? 1 : 0);
    srv__infof(b, rc, "config_reload_failures:%llu\r\n", (unsigned long long)rs.failures);
    srv__infof(b, rc, "config_last_reload_time:%lld\r\n", (long long)rs.last_time);
    srv_watchdog_info(b, rc);   /* watchdog_stalled_workers, watchdog_stalls_total */
}

static void info_clients(struct proto_buf *b, int *rc, const struct cfg *cfg)
{
    srv__infof(b, rc, "# Clients\r\n");
    srv__infof(b, rc, "connected_clients:%u\r\n",
         atomic_load_explicit(&srv.nclients, memory_order_relaxed));
    srv__infof(b, rc, "maxclients:%u\r\n", cfg->maxclients);
    struct srv_stats st;
    srv_stats_sum(&st);
    srv__infof(b, rc, "cluster_connections:0\r\n");   /* no cluster bus */
    uint64_t in = 0, out = 0;
    for (unsigned i = 0; i < srv.nworkers; i++)
        for (int k = 0; k < 2; k++) {
            uint64_t a = atomic_load_explicit(&srv.workers[i].peak_in[k], memory_order_relaxed);
            uint64_t o = atomic_load_explicit(&srv.workers[i].peak_out[k], memory_order_relaxed);
            in = a > in ? a : in;
            out = o > out ? o : out;
        }
    srv__infof(b, rc, "client_recent_max_input_buffer:%llu\r\n", (unsigned long long)in);
    srv__infof(b, rc, "client_recent_max_output_buffer:%llu\r\n", (unsigned long long)out);
    srv__infof(b, rc, "blocked_clients:%llu\r\n", (unsigned long long)st.blocked);
    /* Redis counts the blocked clients that have a timeout; here every
     * blocked client, with or without one: an upper bound. */
    srv__infof(b, rc, "clients_in_timeout_table:%llu\r\n", (unsigned long long)st.blocked);
    srv__infof(b, rc, "tracking_clients:0\r\n");   /* no CLIENT TRACKING */
}

/* Resident set size from /proc/self/statm (pages). 0 if unreadable. */
static uint64_t rss_bytes(void)
{
    unsigned long size, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");

    if (f == NULL)
        return 0;
    if (fscanf(f, "%lu %lu", &size, &resident) != 2)
        resident = 0;
    fclose(f);
    return (uint64_t)resident * (uint64_t)sysconf(_SC_PAGESIZE);
}

/* Redis's ratio fields: 0 when the divisor is. */
static double ratio(uint64_t a, uint64_t b)
{
    return b ? (double)a / (double)b : 0.0;
}

/* jemalloc's own figures, and Redis's ratios of them. */
static void info_allocator(struct proto_buf *b, int *rc)
{
#ifdef MMCACHE_JEMALLOC
    /* jemalloc's stats are a snapshot refreshed by writing "epoch". */
    uint64_t epoch = 1;
    size_t allocated = 0, active = 0, resident = 0, sz = sizeof(epoch);

    mallctl("epoch", &epoch, &sz, &epoch, sz);
    sz = sizeof(size_t);
    mallctl("stats.allocated", &allocated, &sz, NULL, 0);
    sz = sizeof(size_t);
    mallctl("stats.active", &active, &sz, NULL, 0);
    sz = sizeof(size_t);
    mallctl("stats.resident", &resident, &sz, NULL, 0);
    srv__infof(b, rc, "allocator_allocated:%zu\r\n", allocated);
    srv__infof(b, rc, "allocator_active:%zu\r\n", active);
    srv__infof(b, rc, "allocator_resident:%zu\r\n", resident);
    srv__infof(b, rc, "allocator_frag_ratio:%.2f\r\n", ratio(active, allocated));
    srv__infof(b, rc, "allocator_frag_bytes:%lld\r\n", (long long)active - (long long)allocated);
    srv__infof(b, rc, "allocator_rss_ratio:%.2f\r\n", ratio(resident, active));
    srv__infof(b, rc, "allocator_rss_bytes:%lld\r\n", (long long)resident - (long long)active);
    srv__infof(b, rc, "mem_allocator:jemalloc-5.3.0\r\n");
#else
    srv__infof(b, rc, "mem_allocator:libc\r\n");
#endif
}

/*
 * The rest of Redis 7.0's memory fields, as they stand here. Overhead is
 * what the cache used before any client (its empty tables) plus each
 * connection's fixed structure and each worker's read buffer; dataset is
 * used_memory less its start-up part. used_memory is what the cache
 * charges (keys, values, tables): the client part of the overhead lies
 * beside it, not within it as in Redis, so used - overhead would hide up
 * to that much data. mem_clients_normal counts those fixed parts only, not a
 * connection's pending input or replies (their owner alone may read
 * them). No Lua, no scripts, no replicas, no AOF, no defrag: 0.
 */
static void info_memory_more(struct proto_buf *b, int *rc, uint64_t used, uint64_t rss)
{
    char h[32];
    uint64_t peak = atomic_load_explicit(&srv.used_memory_peak, memory_order_relaxed);
    uint64_t clients = (uint64_t)atomic_load_explicit(&srv.nclients, memory_order_relaxed) *
                       sizeof(struct srv_conn) + (uint64_t)srv.nworkers * CONN_RBUF_SIZE;
    uint64_t overhead = srv.used_memory_startup + clients;
    uint64_t dataset = used > srv.used_memory_startup ? used - srv.used_memory_startup : 0;

    if (used > peak)
        peak = used;   /* between two samples */
    human(h, sizeof(h), peak);
    srv__infof(b, rc, "used_memory_peak:%llu\r\nused_memory_peak_human:%s\r\n",
               (unsigned long long)peak, h);
    srv__infof(b, rc, "used_memory_startup:%llu\r\n", (unsigned long long)srv.used_memory_startup);
    srv__infof(b, rc, "used_memory_overhead:%llu\r\n", (unsigned long long)overhead);
    srv__infof(b, rc, "used_memory_dataset:%llu\r\n", (unsigned long long)dataset);
    srv__infof(b, rc, "used_memory_lua:0\r\nused_memory_scripts:0\r\nnumber_of_cached_scripts:0\r\n");
    srv__infof(b, rc, "mem_fragmentation_ratio:%.2f\r\n", ratio(rss, used));
    srv__infof(b, rc, "mem_fragmentation_bytes:%lld\r\n", (long long)rss - (long long)used);
    srv__infof(b, rc, "mem_not_counted_for_evict:0\r\nmem_clients_slaves:0\r\n");
    srv__infof(b, rc, "mem_clients_normal:%llu\r\n", (unsigned long long)clients);
    srv__infof(b, rc, "active_defrag_running:0\r\n");
}

static void info_memory(struct proto_buf *b, int *rc, const struct cfg *cfg,
                        const struct cache_stats *st)
{
    char h[32];
    uint64_t rss = rss_bytes();

    srv__infof(b, rc, "# Memory\r\n");
    human(h, sizeof(h), st->used_memory);
    srv__infof(b, rc, "used_memory:%llu\r\n", (unsigned long long)st->used_memory);
    srv__infof(b, rc, "used_memory_human:%s\r\n", h);
    human(h, sizeof(h), rss);
    srv__infof(b, rc, "used_memory_rss:%llu\r\n", (unsigned long long)rss);
    srv__infof(b, rc, "used_memory_rss_human:%s\r\n", h);
    human(h, sizeof(h), cfg->maxmemory);
    srv__infof(b, rc, "maxmemory:%llu\r\n", (unsigned long long)cfg->maxmemory);
    srv__infof(b, rc, "maxmemory_human:%s\r\n", h);
    srv__infof(b, rc, "maxmemory_policy:%s\r\n", cfg_policy_name(cfg->policy));
    /* Values handed to the lazy-free thread leave used_memory at once;
     * until freed they are here (docs/types.md). */
    srv__infof(b, rc, "lazyfree_pending_objects:%llu\r\n",
               (unsigned long long)st->lazyfree_pending);
    srv__infof(b, rc, "lazyfree_pending_bytes:%llu\r\n",
               (unsigned long long)st->lazyfree_pending_bytes);
    srv__infof(b, rc, "lazyfreed_objects:%llu\r\n", (unsigned long long)st->lazyfreed);
    info_memory_more(b, rc, st->used_memory, rss);
    info_allocator(b, rc);
}

/*
 * The counters CONFIG RESETSTAT zeroes. Their writers (each worker, each
 * shard) are never reset: one thread must not store into another's
 * single-writer counter. RESETSTAT records what they read at that moment
 * as a baseline and INFO shows the difference. Both read the counters
 * under base_lock, so a later INFO reads each counter at or after the value
 * the baseline holds (per-location coherence), and no figure goes
 * negative.
 */
#define COUNTERS_N (sizeof(struct srv_counters) / sizeof(uint64_t))
/* lock order: leaf (takes nothing but the cache's shard-stat reads, which
 * are lock-free, and, once, the allocator's calloc). */
static pthread_mutex_t base_lock = PTHREAD_MUTEX_INITIALIZER;
static struct srv_counters base;   /* guarded by: base_lock */
/* The lock-wait profile's baseline, per shard: guarded by: base_lock (the
 * pointer and the entries); NULL until the first RESETSTAT, then
 * cache_nshards entries (a count immutable after init), kept till exit.
 * Taken with base.lock_waits, so the total and the per-shard lines start
 * again from 0 together (Redis 7.0's RESETSTAT zeroes all of INFO stats). */
static struct cache_shard_wait *wait_base;

/* An 8-byte load performed as x86-64 performs it: one access per cache
 * line the 8 bytes touch, and, only when they touch two, sched_yield
 * between the two (inject_window: the amplifier of bug 23). A counter
 * inside one line is one access: no window, whatever the amplifier. */
static uint64_t load_per_line(const uint64_t *ctr)
{
    const unsigned char *p = (const unsigned char *)ctr;
    size_t first = SRV_CACHELINE - (uintptr_t)p % SRV_CACHELINE;   /* bytes left in p's line */
    uint64_t v = 0;

    if (first >= sizeof(v))
        return __atomic_load_n(ctr, __ATOMIC_RELAXED);
    memcpy(&v, p, first);
    inject_window();
    memcpy((unsigned char *)&v + first, p + first, sizeof(v) - first);
    return v;
}

/* The commands counted in the workers' misaligned counters (bugs 15, 23;
 * 0 unless one of them ran). */
static uint64_t split_commands(void)
{
    uint64_t total = 0;

    for (unsigned i = 0; i < srv.nworkers; i++) {
        const uint64_t *ctr = srv_split_commands(&srv.workers[i].split);

        if (!INJECT(23)) {
            /* No bug-23 writer: what bug 15's locked adds counted, or 0. */
            total += __atomic_load_n(ctr, __ATOMIC_RELAXED);
        } else if (!INJECT_AMPLIFY()) {
            /* BUG 23 (unaligned atomic load), reader side: a plain 8-byte
             * load of a counter that its worker keeps where a packed
             * layout put it, across a cache line (bug-misalign), and
             * stores into meanwhile. On x86-64 it is the very instruction
             * an atomic load would be, and that is single-copy atomic only
             * when aligned: across a line the CPU makes it one access per
             * line, so the low byte from before a carry can meet bytes
             * 1..7 from after it (or the reverse): a value off by up to
             * 255, and the next INFO goes backwards. */
            total += *ctr;
        } else {
            /* BUG 23, amplified: the same load as the CPU splits it, with
             * sched_yield between its two accesses (see load_per_line). */
            total += load_per_line(ctr);
        }
    }
    return total;
}

static void counters_raw(struct srv_counters *k)
{
    struct srv_stats sum;
    struct cache_stats st;

    srv_stats_sum(&sum);
    cache_stats(srv.cache, &st);
    k->conns_received = sum.conns_received;
    /* Bug 2's shared counters and bugs 15/23's misaligned ones hold what
     * was counted while those bugs were on (0 otherwise). */
    k->commands = sum.commands + split_commands() +
        __atomic_load_n(&srv_shared_stats.commands, __ATOMIC_RELAXED);
    k->net_in = sum.net_in;
    k->net_out = sum.net_out;
    k->rejected = atomic_load_explicit(&srv.rejected_conns, memory_order_relaxed);
    k->expired = st.expired_keys;
    k->evicted = st.evicted_keys;
    k->hits = sum.hits + __atomic_load_n(&srv_shared_stats.hits, __ATOMIC_RELAXED);
    k->misses = sum.misses + __atomic_load_n(&srv_shared_stats.misses, __ATOMIC_RELAXED);
    k->lock_waits = st.lock_waits;
}

void srv_info_counters(struct srv_counters *k)
{
    pthread_mutex_lock(&base_lock);
    counters_raw(k);
    uint64_t *v = (uint64_t *)k;
    const uint64_t *b0 = (const uint64_t *)&base;
    for (size_t i = 0; i < COUNTERS_N; i++)
        v[i] = v[i] >= b0[i] ? v[i] - b0[i] : 0;
    pthread_mutex_unlock(&base_lock);
}

void srv_info_resetstat(void)
{
    pthread_mutex_lock(&base_lock);
    uint64_t lock_waits = base.lock_waits;
    counters_raw(&base);
    if (wait_base == NULL)
        wait_base = calloc(cache_nshards(srv.cache), sizeof(*wait_base));
    bool waits_reset = wait_base != NULL;
    if (waits_reset)
        cache_lock_wait_read(srv.cache, wait_base);
    else   /* keep the total on the per-shard lines' baseline: one profile */
        base.lock_waits = lock_waits;
    pthread_mutex_unlock(&base_lock);
    if (!waits_reset)   /* logged outside base_lock: it stays a leaf */
        srv_log(CFG_LOG_WARNING, "CONFIG RESETSTAT: out of memory: shard lock waits not reset");
    srv_loader_resetstat();
    srv_cmdstats_resetstat();
    srv_latstats_resetstat();
    inject_tried_reset();
}

size_t srv_info_lock_wait_top(struct cache_shard_wait top[SRV_LOCK_WAIT_TOP])
{
    pthread_mutex_lock(&base_lock);
    size_t n = cache_lock_wait_top(srv.cache, wait_base, top, SRV_LOCK_WAIT_TOP);
    pthread_mutex_unlock(&base_lock);
    return n;
}

static void info_lock_wait_top(struct proto_buf *b, int *rc)
{
    struct cache_shard_wait top[SRV_LOCK_WAIT_TOP];
    size_t n = srv_info_lock_wait_top(top);

    for (size_t i = 0; i < n; i++)
        srv__infof(b, rc, "shard_lock_wait_top:shard=%u,waits=%llu,wait_us=%llu\r\n",
                   top[i].shard, (unsigned long long)top[i].waits,
                   (unsigned long long)(top[i].wait_ns / 1000));
}

static void info_stats(struct proto_buf *b, int *rc)
{
    struct srv_counters k;

    srv_info_counters(&k);
#define U(x) ((unsigned long long)(x))
    srv__infof(b, rc, "# Stats\r\n");
    srv__infof(b, rc, "total_connections_received:%llu\r\n", U(k.conns_received));
    srv__infof(b, rc, "total_commands_processed:%llu\r\n", U(k.commands));
    srv__infof(b, rc, "instantaneous_ops_per_sec:%llu\r\n",
         U(atomic_load_explicit(&srv.ops_per_sec, memory_order_relaxed)));
    srv__infof(b, rc, "total_net_input_bytes:%llu\r\n", U(k.net_in));
    srv__infof(b, rc, "total_net_output_bytes:%llu\r\n", U(k.net_out));
    srv__infof(b, rc, "rejected_connections:%llu\r\n", U(k.rejected));
    srv__infof(b, rc, "expired_keys:%llu\r\n", U(k.expired));
    srv__infof(b, rc, "evicted_keys:%llu\r\n", U(k.evicted));
    srv__infof(b, rc, "keyspace_hits:%llu\r\n", U(k.hits));
    srv__infof(b, rc, "keyspace_misses:%llu\r\n", U(k.misses));
    srv__infof(b, rc, "shard_lock_waits:%llu\r\n", U(k.lock_waits));
    info_lock_wait_top(b, rc);
    srv__infof(b, rc, "total_error_replies:%llu\r\n", U(srv_errstats_total()));
    struct srv_stats sum;
    srv_stats_sum(&sum);
    srv__infof(b, rc, "total_reads_processed:%llu\r\n", U(sum.reads));
    srv__infof(b, rc, "total_writes_processed:%llu\r\n", U(sum.writes));
    /* What Redis 7.0 counts for what mmcache has not: no replicas, fork,
     * MIGRATE, defrag, tracking, pub/sub, RESTORE or io-threads (workers
     * do their own I/O); and active expiry here has no time cap. */
    srv__infof(b, rc, "expired_stale_perc:0.00\r\nexpired_time_cap_reached_count:0\r\n");
    srv__infof(b, rc, "sync_full:0\r\nsync_partial_ok:0\r\nsync_partial_err:0\r\n");
    srv__infof(b, rc, "latest_fork_usec:0\r\nmigrate_cached_sockets:0\r\n");
    srv__infof(b, rc, "slave_expires_tracked_keys:0\r\n");
    srv__infof(b, rc, "active_defrag_hits:0\r\nactive_defrag_misses:0\r\n");
    srv__infof(b, rc, "active_defrag_key_hits:0\r\nactive_defrag_key_misses:0\r\n");
    srv__infof(b, rc, "tracking_total_keys:0\r\ntracking_total_items:0\r\n");
    srv__infof(b, rc, "tracking_total_prefixes:0\r\nunexpected_error_replies:0\r\n");
    srv__infof(b, rc, "pubsub_channels:0\r\npubsub_patterns:0\r\n");
    srv__infof(b, rc, "io_threaded_reads_processed:0\r\nio_threaded_writes_processed:0\r\n");
    srv__infof(b, rc, "dump_payload_sanitizations:0\r\n");
#undef U
}

/* What a Redis that never saved reports: nothing loading or saving, no
 * AOF; the last "save" is the start (LASTSAVE says so too). Writes since
 * then are not counted (no dirty counter): rdb_changes_since_last_save
 * stays 0. */
static void info_persistence(struct proto_buf *b, int *rc)
{
    srv__infof(b, rc, "# Persistence\r\n");
    srv__infof(b, rc, "loading:0\r\nasync_loading:0\r\n");
    srv__infof(b, rc, "current_cow_peak:0\r\ncurrent_cow_size:0\r\ncurrent_cow_size_age:0\r\n");
    srv__infof(b, rc, "current_fork_perc:0.00\r\n");
    srv__infof(b, rc, "current_save_keys_processed:0\r\ncurrent_save_keys_total:0\r\n");
    srv__infof(b, rc, "rdb_changes_since_last_save:0\r\nrdb_bgsave_in_progress:0\r\n");
    srv__infof(b, rc, "rdb_last_save_time:%lld\r\n", (long long)(srv.start_ms / 1000));
    srv__infof(b, rc, "rdb_last_bgsave_status:ok\r\nrdb_last_bgsave_time_sec:-1\r\n");
    srv__infof(b, rc, "rdb_current_bgsave_time_sec:-1\r\nrdb_saves:0\r\nrdb_last_cow_size:0\r\n");
    srv__infof(b, rc, "rdb_last_load_keys_expired:0\r\nrdb_last_load_keys_loaded:0\r\n");
    srv__infof(b, rc, "aof_enabled:0\r\naof_rewrite_in_progress:0\r\naof_rewrite_scheduled:0\r\n");
    srv__infof(b, rc, "aof_last_rewrite_time_sec:-1\r\naof_current_rewrite_time_sec:-1\r\n");
    srv__infof(b, rc, "aof_last_bgrewrite_status:ok\r\naof_rewrites:0\r\n");
    srv__infof(b, rc, "aof_rewrites_consecutive_failures:0\r\naof_last_write_status:ok\r\n");
    srv__infof(b, rc, "aof_last_cow_size:0\r\nmodule_fork_in_progress:0\r\n");
    srv__infof(b, rc, "module_fork_last_cow_size:0\r\n");
}

/* A master without replicas, and without a backlog (none is kept: 0).
 * The replication id is the run id, random per start as Redis's is. */
static void info_replication(struct proto_buf *b, int *rc)
{
    srv__infof(b, rc, "# Replication\r\n");
    srv__infof(b, rc, "role:master\r\nconnected_slaves:0\r\n");
    srv__infof(b, rc, "master_failover_state:no-failover\r\n");
    srv__infof(b, rc, "master_replid:%s\r\n", srv.run_id);
    srv__infof(b, rc, "master_replid2:0000000000000000000000000000000000000000\r\n");
    srv__infof(b, rc, "master_repl_offset:0\r\nsecond_repl_offset:-1\r\n");
    srv__infof(b, rc, "repl_backlog_active:0\r\nrepl_backlog_size:0\r\n");
    srv__infof(b, rc, "repl_backlog_first_byte_offset:0\r\nrepl_backlog_histlen:0\r\n");
}

static void cpu_line(struct proto_buf *b, int *rc, const char *name, const struct timeval *tv)
{
    srv__infof(b, rc, "%s:%ld.%06ld\r\n", name, (long)tv->tv_sec, (long)tv->tv_usec);
}

/* The main (acceptor) thread's system and user time, from
 * /proc/self/task/<pid>/stat (INFO runs on a worker: RUSAGE_THREAD would
 * be the worker's). Zeros when unreadable. */
static void main_thread_cpu(struct timeval *sys, struct timeval *user)
{
    char path[64], line[1024];
    unsigned long ut = 0, st = 0;
    long hz = sysconf(_SC_CLK_TCK);
    FILE *f;

    memset(sys, 0, sizeof(*sys));
    memset(user, 0, sizeof(*user));
    snprintf(path, sizeof(path), "/proc/self/task/%ld/stat", (long)srv.pid);
    if ((f = fopen(path, "r")) == NULL)
        return;
    char *end = fgets(line, sizeof(line), f) ? strrchr(line, ')') : NULL;   /* after comm */
    fclose(f);
    /* fields 3.. after ") ": state ppid pgrp session tty tpgid flags minflt
     * cminflt majflt cmajflt utime stime */
    if (end == NULL || hz <= 0 ||
        sscanf(end + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
        return;
    user->tv_sec = (time_t)(ut / (unsigned long)hz);
    user->tv_usec = (suseconds_t)(ut % (unsigned long)hz * 1000000 / (unsigned long)hz);
    sys->tv_sec = (time_t)(st / (unsigned long)hz);
    sys->tv_usec = (suseconds_t)(st % (unsigned long)hz * 1000000 / (unsigned long)hz);
}

/* getrusage: the process and its children (none: nothing is forked).
 * Redis's *_main_thread fields are the main thread's, which here accepts
 * and reloads (commands run on the workers); each worker's CPU time comes
 * from its thread's CPU clock, user and system together (mmcache's own
 * fields), skipped for a worker that has ended (its clock goes when it is
 * joined). */
static void info_cpu(struct proto_buf *b, int *rc)
{
    struct rusage self, children;

    if (getrusage(RUSAGE_SELF, &self) != 0)
        memset(&self, 0, sizeof(self));
    if (getrusage(RUSAGE_CHILDREN, &children) != 0)
        memset(&children, 0, sizeof(children));
    srv__infof(b, rc, "# CPU\r\n");
    cpu_line(b, rc, "used_cpu_sys", &self.ru_stime);
    cpu_line(b, rc, "used_cpu_user", &self.ru_utime);
    cpu_line(b, rc, "used_cpu_sys_children", &children.ru_stime);
    cpu_line(b, rc, "used_cpu_user_children", &children.ru_utime);
    struct timeval msys, muser;
    main_thread_cpu(&msys, &muser);
    cpu_line(b, rc, "used_cpu_sys_main_thread", &msys);
    cpu_line(b, rc, "used_cpu_user_main_thread", &muser);
    for (unsigned i = 0; i < srv.nworkers; i++) {
        if (atomic_load_explicit(&srv.workers[i].exited, memory_order_relaxed))
            continue;
        int64_t ns = srv_thread_cpu_ns(srv.workers[i].thread);
        if (ns >= 0)
            srv__infof(b, rc, "mmcache_used_cpu_worker%u:%lld.%06lld\r\n", i,
                       (long long)(ns / 1000000000), (long long)(ns % 1000000000 / 1000));
    }
}

static void info_keyspace(struct proto_buf *b, int *rc, const struct cache_stats *st)
{
    srv__infof(b, rc, "# Keyspace\r\n");
    if (st->keys > 0)
        srv__infof(b, rc, "db0:keys=%llu,expires=%llu,avg_ttl=0\r\n",
             (unsigned long long)st->keys, (unsigned long long)st->expires);
}

/* Which sections the arguments ask for; none means "default". */
static unsigned parse_sections(size_t nsec, const struct proto_arg *sections)
{
    static const struct { const char *name; unsigned bits; } names[] = {
        { "server", SEC_SERVER }, { "clients", SEC_CLIENTS },
        { "memory", SEC_MEMORY }, { "stats", SEC_STATS },
        { "keyspace", SEC_KEYSPACE }, { "loader", SEC_LOADER }, { "bugs", SEC_BUGS },
        { "persistence", SEC_PERSISTENCE }, { "replication", SEC_REPLICATION },
        { "cpu", SEC_CPU }, { "commandstats", SEC_COMMANDSTATS },
        { "errorstats", SEC_ERRORSTATS }, { "cluster", SEC_CLUSTER },
        { "latencystats", SEC_LATENCYSTATS },
        { "default", SEC_DEFAULT },
        { "all", SEC_ALL }, { "everything", SEC_ALL },
    };
    unsigned want = 0;

    if (nsec == 0)
        return SEC_DEFAULT;
    for (size_t i = 0; i < nsec; i++)
        for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); k++)
            if (srv__arg_is(&sections[i], names[k].name))
                want |= names[k].bits;
    return want;
}

int srv_info(const struct cfg *cfg, struct proto_buf *b, size_t nsec,
             struct proto_arg *sections)
{
    unsigned want = parse_sections(nsec, sections);
    struct cache_stats st;
    int rc = 0;
    bool first = true;

    if (want & (SEC_MEMORY | SEC_KEYSPACE))
        cache_stats(srv.cache, &st);
    /* Fixed order, whatever order they were asked in (as Redis). */
#define SECTION(bit, call)                                  \
    if (want & (bit)) {                                     \
        if (!first)                                         \
            srv__infof(b, &rc, "\r\n");                           \
        first = false;                                      \
        call;                                               \
    }
    SECTION(SEC_SERVER, info_server(b, &rc, cfg));
    SECTION(SEC_CLIENTS, info_clients(b, &rc, cfg));
    SECTION(SEC_MEMORY, info_memory(b, &rc, cfg, &st));
    SECTION(SEC_PERSISTENCE, info_persistence(b, &rc));
    SECTION(SEC_STATS, info_stats(b, &rc));
    SECTION(SEC_REPLICATION, info_replication(b, &rc));
    SECTION(SEC_CPU, info_cpu(b, &rc));
    SECTION(SEC_LOADER, srv_loader_info(b, &rc, cfg));
    SECTION(SEC_BUGS, srv_bugs_info(b, &rc, cfg));
    SECTION(SEC_COMMANDSTATS, srv_cmdstats_info(b, &rc));
    SECTION(SEC_ERRORSTATS, srv_errstats_info(b, &rc));
    SECTION(SEC_CLUSTER, srv__infof(b, &rc, "# Cluster\r\ncluster_enabled:0\r\n"));
    SECTION(SEC_LATENCYSTATS, srv_latstats_info(b, &rc, cfg));
    SECTION(SEC_KEYSPACE, info_keyspace(b, &rc, &st));
#undef SECTION
    return rc;
}
