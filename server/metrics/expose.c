/*
 * /metrics: the Prometheus text exposition format (version 0.0.4), built
 * from the same figures INFO reads: per-command counters summed over the
 * workers (cmd/cmdstats.c), the stats counters (cmd/info.c), the cache's
 * stats and lock-wait profile, the config snapshot and reload record, the
 * loader's counters, the workers' command-time histograms and the
 * loader's origin-call one (metrics/timehist.h), and the bug lab's
 * selection and tried counts.
 *
 * Every line goes through srv__infof, INFO's one formatter (512 bytes a
 * line at most: a command name is short, labels are ours).
 *
 * Context: the acceptor's loop (http.c), registered with RCU.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "timehist.h"
#include "inject.h"
#include "loader.h"
#include "metrics.h"

/* Histogram buckets shown: one per power of two of the unit, from 2^lo to
 * 2^hi (the fine buckets of timehist.h, 8 per power, are summed into them). */
struct hist_shape {
    const char *name, *help;
    double unit_s;      /* seconds per unit counted: 1e-9 for ns, 1e-6 for us */
    unsigned lo, hi;
};

static void help_type(struct proto_buf *b, int *rc, const char *name, const char *type,
                      const char *help)
{
    srv__infof(b, rc, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void one(struct proto_buf *b, int *rc, const char *name, const char *type,
                const char *help, unsigned long long v)
{
    help_type(b, rc, name, type, help);
    srv__infof(b, rc, "%s %llu\n", name, v);
}

/* h: SRV_HIST_SLOTS counts. A bucket le=2^k counts the values below 2^k
 * (values are integers: <= 2^k - 1, the top of a fine bucket). */
static void histogram(struct proto_buf *b, int *rc, const struct hist_shape *sh,
                      const uint64_t *h)
{
    uint64_t cum = 0;
    unsigned fine = 0;

    help_type(b, rc, sh->name, "histogram", sh->help);
    for (unsigned k = sh->lo; k <= sh->hi; k++) {
        uint64_t bound = (uint64_t)1 << k;
        for (; fine < SRV_HIST_N && hist_bucket_high(SRV_HIST_P, fine) < bound; fine++)
            cum += h[fine];
        srv__infof(b, rc, "%s_bucket{le=\"%.9g\"} %llu\n", sh->name,
                   (double)bound * sh->unit_s, (unsigned long long)cum);
    }
    for (; fine < SRV_HIST_N; fine++)
        cum += h[fine];
    srv__infof(b, rc, "%s_bucket{le=\"+Inf\"} %llu\n", sh->name, (unsigned long long)cum);
    srv__infof(b, rc, "%s_sum %.9f\n", sh->name, (double)h[SRV_HIST_SUM] * sh->unit_s);
    srv__infof(b, rc, "%s_count %llu\n", sh->name, (unsigned long long)cum);
}

/* Per command: the INFO commandstats figures, for commands that ran. */
static void commands(struct proto_buf *b, int *rc)
{
    static const struct { const char *name, *type, *help; } fam[] = {
        {"mmcache_commands_total", "counter", "Calls of each command (INFO commandstats calls)."},
        {"mmcache_commands_duration_seconds_total", "counter", "Time spent running each command."},
        {"mmcache_commands_rejected_calls_total", "counter", "Calls refused before the command ran."},
        {"mmcache_commands_failed_calls_total", "counter", "Calls whose reply was an error."},
    };
    struct srv_cmdsum *sum = malloc(srv_command_count * sizeof(*sum));

    if (sum == NULL) {
        *rc = -ENOMEM;
        return;
    }
    srv_cmdstats_read(sum);
    for (size_t f = 0; f < sizeof(fam) / sizeof(fam[0]); f++) {
        help_type(b, rc, fam[f].name, fam[f].type, fam[f].help);
        for (size_t i = 0; i < srv_command_count; i++) {
            const struct srv_cmdsum *s = &sum[i];
            if (s->calls == 0 && s->rejected == 0 && s->failed == 0)
                continue;
            const char *cmd = srv_command_table[i].fullname;
            if (f == 1)
                srv__infof(b, rc, "%s{cmd=\"%s\"} %.9f\n", fam[f].name, cmd, (double)s->ns / 1e9);
            else
                srv__infof(b, rc, "%s{cmd=\"%s\"} %llu\n", fam[f].name, cmd,
                           (unsigned long long)(f == 0 ? s->calls : f == 2 ? s->rejected : s->failed));
        }
    }
    free(sum);
}

static void command_times(struct proto_buf *b, int *rc)
{
    static const struct hist_shape sh = {"mmcache_command_duration_seconds",
        "Time each command took to run, all commands (1 us to 8.6 s buckets).", 1e-9, 10, 33};
    uint64_t *h = calloc(SRV_HIST_SLOTS, sizeof(*h));

    if (h == NULL) {
        *rc = -ENOMEM;
        return;
    }
    for (unsigned w = 0; w < srv.nworkers; w++)
        for (size_t i = 0; i < SRV_HIST_SLOTS; i++)
            h[i] += atomic_load_explicit(&srv.workers[w].cmd_hist[i], memory_order_relaxed);
    histogram(b, rc, &sh, h);
    free(h);
}

static void stats(struct proto_buf *b, int *rc)
{
    struct srv_counters k;
    struct cache_stats st;

    srv_info_counters(&k);
    cache_stats(srv.cache, &st);
    one(b, rc, "mmcache_commands_processed_total", "counter", "Commands run, all workers.", k.commands);
    one(b, rc, "mmcache_keyspace_hits_total", "counter", "Reads that found their key.", k.hits);
    one(b, rc, "mmcache_keyspace_misses_total", "counter", "Reads that did not find their key.", k.misses);
    one(b, rc, "mmcache_expired_keys_total", "counter", "Keys removed because their TTL passed.", k.expired);
    one(b, rc, "mmcache_evicted_keys_total", "counter", "Keys evicted to stay under maxmemory.", k.evicted);
    one(b, rc, "mmcache_connections_received_total", "counter", "Client connections accepted.", k.conns_received);
    one(b, rc, "mmcache_rejected_connections_total", "counter", "Client connections refused (maxclients).", k.rejected);
    one(b, rc, "mmcache_net_input_bytes_total", "counter", "Bytes read from clients.", k.net_in);
    one(b, rc, "mmcache_net_output_bytes_total", "counter", "Bytes written to clients.", k.net_out);
    one(b, rc, "mmcache_shard_lock_waits_total", "counter", "Shard lock acquisitions that had to wait.", k.lock_waits);
    one(b, rc, "mmcache_connected_clients", "gauge", "Client connections open now.",
        atomic_load_explicit(&srv.nclients, memory_order_relaxed));
    one(b, rc, "mmcache_keys", "gauge", "Keys in the cache.", st.keys);
    one(b, rc, "mmcache_keys_with_expiry", "gauge", "Keys that have a TTL.", st.expires);
    one(b, rc, "mmcache_memory_used_bytes", "gauge", "Memory the cache's data uses (used_memory).", st.used_memory);
}

/* The lock-wait profile (INFO's shard_lock_wait_top lines): the shards that
 * waited longest since start or CONFIG RESETSTAT, one labelled sample
 * each. Only the top: a sample per shard would be thousands of lines. */
static void lock_wait_top(struct proto_buf *b, int *rc)
{
    struct cache_shard_wait top[SRV_LOCK_WAIT_TOP];
    size_t n = srv_info_lock_wait_top(top);

    help_type(b, rc, "mmcache_shard_lock_top_waits_total", "counter",
              "Lock waits of the shards that waited longest (INFO shard_lock_wait_top).");
    for (size_t i = 0; i < n; i++)
        srv__infof(b, rc, "mmcache_shard_lock_top_waits_total{shard=\"%u\"} %llu\n",
                   top[i].shard, (unsigned long long)top[i].waits);
    help_type(b, rc, "mmcache_shard_lock_top_wait_seconds_total", "counter",
              "Time those shards' lock acquisitions spent waiting.");
    for (size_t i = 0; i < n; i++)
        srv__infof(b, rc, "mmcache_shard_lock_top_wait_seconds_total{shard=\"%u\"} %.9f\n",
                   top[i].shard, (double)top[i].wait_ns / 1e9);
}

static void config(struct proto_buf *b, int *rc)
{
    struct cfg_reload_stats rs;
    const struct cfg *cfg = cfg_read_lock();
    uint64_t gen = cfg->generation, maxmem = cfg->maxmemory;

    cfg_read_unlock(cfg);
    cfg_reload_stats(&rs);
    one(b, rc, "mmcache_memory_max_bytes", "gauge", "The maxmemory setting (0 = none).", maxmem);
    one(b, rc, "mmcache_config_generation", "gauge", "Config snapshots published since start (1 = the first).", gen);
    one(b, rc, "mmcache_config_reload_failures_total", "counter", "Config reloads refused.", rs.failures);
    one(b, rc, "mmcache_config_last_reload_ok", "gauge", "1 when the last reload (or start-up) succeeded.", rs.last_ok);
}

static void loader(struct proto_buf *b, int *rc)
{
    static const struct hist_shape sh = {"mmcache_loader_origin_duration_seconds",
        "Time each origin call of the loader took (1 ms..16 s buckets, 1 us finest).", 1e-6, 0, 24};
    struct srv_loader_figures *f = malloc(sizeof(*f));

    if (f == NULL) {
        *rc = -ENOMEM;
        return;
    }
    srv_loader_figures(f);
    one(b, rc, "mmcache_loader_loads_total", "counter", "Loads a miss started (singleflight leaders).", f->started);
    one(b, rc, "mmcache_loader_singleflight_joins_total", "counter", "Misses that joined a load already in flight.", f->joined);
    one(b, rc, "mmcache_loader_origin_calls_total", "counter", "Loads that called the origin.", f->origin_calls);
    one(b, rc, "mmcache_loader_errors_total", "counter", "Loads that ended in an error.", f->errors);
    one(b, rc, "mmcache_loader_timeouts_total", "counter", "Clients answered a loader timeout.", f->timeouts);
    histogram(b, rc, &sh, f->hist);
    free(f);
}

/* The bug lab: which bugs are selected, and how often each bugged path ran. */
static void bugs(struct proto_buf *b, int *rc)
{
    uint32_t sel = srv_bugs_selected();

    help_type(b, rc, "mmcache_bug_injected", "gauge", "1 for each bug-lab bug selected (inject-bug).");
    for (int id = 1; id <= INJECT_MAX; id++)
        srv__infof(b, rc, "mmcache_bug_injected{bug=\"%d\"} %d\n", id, (sel & INJECT_BIT(id)) ? 1 : 0);
    help_type(b, rc, "mmcache_bug_tried_total", "counter", "Times each bug's bugged path ran.");
    for (int id = 1; id <= INJECT_MAX; id++)
        srv__infof(b, rc, "mmcache_bug_tried_total{bug=\"%d\"} %llu\n", id,
                   (unsigned long long)inject_tried(id));
}

int srv_metrics_expose(struct proto_buf *b)
{
    int rc = 0;

    commands(b, &rc);
    command_times(b, &rc);
    stats(b, &rc);
    lock_wait_top(b, &rc);
    config(b, &rc);
    loader(b, &rc);
    bugs(b, &rc);
    return rc < 0 ? -ENOMEM : 0;
}
