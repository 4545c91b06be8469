/*
 * mmcache: main() wires the modules together: settings, the cache, the
 * worker threads, and the acceptor loop on the main thread.
 */

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "acceptor.h"
#include "acl.h"
#include "inject.h"
#include "loader.h"
#include "srv.h"
#include "worker.h"

#define SHUTDOWN_JOIN_S 10   /* last-resort bound on waiting for workers */

struct srv srv;   /* fields documented in srv.h */

/* jemalloc's options, read at its first allocation (MALLOC_CONF in the
 * environment adds to them; sanitizer builds do not link jemalloc and
 * ignore this). Immutable. One arena for every thread: with jemalloc's
 * default of an arena per thread, an item freed on one worker goes back to
 * the arena of the worker that allocated it, and a refill on another
 * worker takes fresh pages, so deleting half the keys and refilling cost
 * 1.45x the RSS of a fresh fill (loadtest/bench-memory; 0.96x with one
 * arena). Each thread's tcache keeps most malloc/free calls off the
 * arena's lock. */
const char *malloc_conf = "narenas:1";

static enum cache_policy to_cache_policy(enum cfg_policy p)
{
    switch (p) {
    case CFG_VOLATILE_LRU: return CACHE_VOLATILE_LRU;
    case CFG_ALLKEYS_RANDOM: return CACHE_ALLKEYS_RANDOM;
    case CFG_NOEVICTION: return CACHE_NOEVICTION;
    case CFG_ALLKEYS_LFU: return CACHE_ALLKEYS_LFU;
    case CFG_VOLATILE_LFU: return CACHE_VOLATILE_LFU;
    case CFG_VOLATILE_RANDOM: return CACHE_VOLATILE_RANDOM;
    case CFG_VOLATILE_TTL: return CACHE_VOLATILE_TTL;
    default: return CACHE_ALLKEYS_LRU;
    }
}

static void make_run_id(void)
{
    unsigned char r[20];
    if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r))
        for (size_t i = 0; i < sizeof(r); i++)
            r[i] = (unsigned char)(rand() ^ (int)time(NULL));
    for (size_t i = 0; i < sizeof(r); i++)
        sprintf(srv.run_id + 2 * i, "%02x", r[i]);
}

static int join_workers(void)
{
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += SHUTDOWN_JOIN_S;
    int stuck = 0;
    for (unsigned i = 0; i < srv.nworkers; i++) {
        if (pthread_timedjoin_np(srv.workers[i].thread, NULL, &deadline) != 0) {
            srv_log(CFG_LOG_WARNING, "Worker %u did not stop within %d s", i, SHUTDOWN_JOIN_S);
            stuck = 1;
        } else {
            srv_stop_guard_joined(i);
        }
    }
    return stuck;
}

/* The value types' settings as the cache takes them: plain values. */
static void apply_types(const struct cfg *c)
{
    struct cache_type_limits l = {
        .hash_max_listpack_entries = (uint64_t)c->hash_max_listpack_entries,
        .hash_max_listpack_value = (uint64_t)c->hash_max_listpack_value,
        .set_max_intset_entries = (uint64_t)c->set_max_intset_entries,
        .set_max_listpack_entries = (uint64_t)c->set_max_listpack_entries,
        .set_max_listpack_value = (uint64_t)c->set_max_listpack_value,
        .list_max_listpack_size = c->list_max_listpack_size,
        .zset_max_listpack_entries = (uint64_t)c->zset_max_listpack_entries,
        .zset_max_listpack_value = (uint64_t)c->zset_max_listpack_value,
    };
    cache_set_type_limits(srv.cache, &l);
    cache_set_lfu(srv.cache, c->lfu_log_factor, c->lfu_decay_time, c->maxmemory_samples);
    cache_set_lazyfree(srv.cache,
                       (c->lazyfree_lazy_eviction ? CACHE_LAZY_EVICTION : 0) |
                       (c->lazyfree_lazy_expire ? CACHE_LAZY_EXPIRE : 0) |
                       (c->lazyfree_lazy_server_del ? CACHE_LAZY_SERVER_DEL : 0) |
                       (c->lazyfree_lazy_user_del ? CACHE_LAZY_USER_DEL : 0));
}

/* ---- descriptors for maxclients (Redis's adjustOpenFilesLimit) ---------- */

/* Descriptors the server keeps beyond one per client: Redis's 32, plus
 * each worker loop's own (epoll, eventfds, libuv's spare: 5) and one per
 * loader thread (a file or an origin connection). */
static rlim_t reserved_fds(const struct cfg *cfg)
{
    return 32 + 5 * (rlim_t)cfg->threads + cfg->loader_threads;
}

/* Raise the soft RLIMIT_NOFILE towards `want` (up to the hard limit,
 * which an unprivileged process may always reach). Returns the soft
 * limit now, 0 when it cannot be read; *err is the errno of a refusal. */
static rlim_t raise_nofile(rlim_t want, int *err)
{
    struct rlimit rl;
    *err = 0;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return 0;
    if (rl.rlim_cur >= want)
        return rl.rlim_cur;
    struct rlimit nl = {want, rl.rlim_max};
    if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < want) {
        nl.rlim_cur = rl.rlim_max;
        *err = EPERM;   /* the hard limit is lower: root could raise it, we do not */
    }
    if (nl.rlim_cur > rl.rlim_cur && setrlimit(RLIMIT_NOFILE, &nl) != 0) {
        *err = errno;
        return rl.rlim_cur;
    }
    return nl.rlim_cur > rl.rlim_cur ? nl.rlim_cur : rl.rlim_cur;
}

/* At start, as Redis does: raise the descriptor limit to fit maxclients,
 * or lower maxclients to fit the limit, saying so in Redis's words; later
 * CONFIG SETs are capped where the hard limit would run out (config
 * refuses more, "try with N"). -1 when not even the server's own
 * descriptors fit. Context: main thread, before other threads. */
static int fit_maxclients(const struct cfg *cfg)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0) {
        srv_log(CFG_LOG_WARNING, "Cannot read the open files limit: %s; maxclients %u unchecked",
                strerror(errno), cfg->maxclients);
        return 0;
    }
    rlim_t reserved = reserved_fds(cfg), need = cfg->maxclients + reserved, old = rl.rlim_cur;
    int err;
    rlim_t now = raise_nofile(need, &err);
    if (now > old)
        srv_log(CFG_LOG_NOTICE, "Increased maximum number of open files to %llu (it was "
                "originally set to %llu).", (unsigned long long)now, (unsigned long long)old);
    if (now <= reserved) {
        srv_log(CFG_LOG_WARNING, "Your current 'ulimit -n' of %llu is not enough for the server "
                "to start. Please increase your open file limit to at least %llu. Exiting.",
                (unsigned long long)now, (unsigned long long)reserved + 1);
        return -1;
    }
    if (now < need) {
        srv_log(CFG_LOG_WARNING, "You requested maxclients of %u requiring at least %llu max "
                "file descriptors.", cfg->maxclients, (unsigned long long)need);
        srv_log(CFG_LOG_WARNING, "Server can't set maximum open files to %llu because of OS "
                "error: %s.", (unsigned long long)need, strerror(err ? err : EPERM));
        srv_log(CFG_LOG_WARNING, "Current maximum open files is %llu. maxclients has been "
                "reduced to %llu to compensate for low ulimit. If you need higher maxclients "
                "increase 'ulimit -n'.", (unsigned long long)now,
                (unsigned long long)(now - reserved));
    }
    /* The most a CONFIG SET may ask for: what the hard limit holds (the
     * apply hook raises the soft limit as far as it must). */
    rlim_t hard = now < need ? now : rl.rlim_max;
    if (hard != RLIM_INFINITY && hard - reserved < 1000000)
        cfg_cap_maxclients((unsigned)(hard - reserved));
    return 0;
}

/* cfg_apply_fn: a new snapshot was published (reload, CONFIG SET). Runs
 * under the config update lock, so the cache sees limits in generation
 * order. Lowering maxmemory evicts down to it here. */
static void apply_cfg(const struct cfg *next, const struct cfg *prev, void *arg)
{
    (void)arg;
    if (next->maxmemory != prev->maxmemory || next->policy != prev->policy)
        cache_set_limits(srv.cache, next->maxmemory, to_cache_policy(next->policy),
                         srv_now_ms());
    apply_types(next);   /* a few relaxed stores: cheaper than comparing */
    if (next->loader != prev->loader || strcmp(next->loader_arg, prev->loader_arg) != 0)
        srv_loader_spec_changed();
    if (next->maxclients > prev->maxclients) {   /* within the cap: the hard limit allows it */
        int err;
        raise_nofile(next->maxclients + reserved_fds(next), &err);
    }
    /* Redis applies requirepass when it changes (CONFIG SET, here also a
     * reload): the default user's passwords become it */
    if (strcmp(next->requirepass, prev->requirepass) != 0 &&
        srv_acl_set_default_password(next->requirepass) < 0)
        srv_log(CFG_LOG_WARNING, "Out of memory setting the default user's password");
    srv_bugs_changed(next, prev);
    srv_latency_set_threshold(next->latency_monitor_threshold);
}

int main(int argc, char **argv)
{
    char err[CFG_ERRLEN];

    /* The main thread reads snapshots too (start-up, the acceptor). */
    cfg_thread_register();
    int rc = cfg_init(argc, argv, err, sizeof(err));
    if (rc == 2)
        printf("mmcache v=%s redis_version=%s\n", MMCACHE_VERSION, SRV_VERSION);
    if (rc > 0)
        return 0;   /* --help, --version, --inject-bug=list */
    if (rc < 0) {
        fprintf(stderr, "mmcache: %s\nTry 'mmcache --help'.\n", err);
        return 1;
    }
    /* Settings fixed for the life of the process are copied out once;
     * everything live is read per request from a snapshot. */
    const struct cfg *cur = cfg_read_lock();
    struct cfg cfg = *cur;
    cfg_read_unlock(cur);

    signal(SIGPIPE, SIG_IGN);   /* a peer that went away is an error return, not a signal */
    signal(SIGHUP, SIG_IGN);    /* no reload before the acceptor's handler: not an exit */
    /* Before any other thread: SIGTERM/SIGINT go to the stop guard. */
    rc = srv_stop_guard_start();
    if (rc) {
        fprintf(stderr, "mmcache: cannot start the stop guard thread: %s\n", strerror(-rc));
        return 1;
    }
    srv.pid = getpid();
    srv.start_ms = srv_now_ms();
    atomic_init(&srv.next_client_id, 1);
    make_run_id();
    ssize_t n = readlink("/proc/self/exe", srv.executable, sizeof(srv.executable) - 1);
    srv.executable[n > 0 ? n : 0] = 0;

    srv_log(CFG_LOG_NOTICE, "oO0OoO0OoO0Oo mmcache is starting oO0OoO0OoO0Oo");
    srv_log(CFG_LOG_NOTICE, "mmcache version=%s (Redis protocol %s), pid=%d, just started",
            MMCACHE_VERSION, SRV_VERSION, (int)srv.pid);
    if (cfg_file()[0])
        srv_log(CFG_LOG_NOTICE, "Configuration loaded from %s (kill -HUP %d reloads it)",
                cfg_file(), (int)srv.pid);
    else
        srv_log(CFG_LOG_NOTICE, "No config file given: defaults and flags only "
                "(mmcache /path/to/mmcache.conf to use one)");
    if (cfg.persist_ignored) {
        char names[512];
        cfg_persist_describe(cfg.persist_ignored, names, sizeof(names));
        srv_log(CFG_LOG_WARNING, "mmcache keeps no data on disk: ignoring the persistence "
                "directives %s (SAVE and BGSAVE are refused; restarting empties the cache)",
                names);
    }
    if (fit_maxclients(&cfg) < 0)
        return 1;

    /* The main thread works under the start-up selection (start-up-only
     * bugs act here: worker creation, lock kinds). */
    inject_thread_start();
    inject_enter(cfg_inject_mask(&cfg));
    srv_bugs_startup(&cfg);

    struct cache_opts co = {.nshards = cfg.shards, .maxmemory = cfg.maxmemory,
                            .policy = to_cache_policy(cfg.policy), .seed = 0};
    srv.cache = cache_create(&co);
    if (!srv.cache) {
        srv_log(CFG_LOG_WARNING, "Could not create the cache (out of memory?)");
        return 1;
    }
    apply_types(&cfg);
    srv_commands_init();
    if (srv_acl_init(&cfg, err, sizeof(err)) < 0) {
        srv_log(CFG_LOG_WARNING, "%s", err);
        return 1;
    }
    if (srv_loader_init()) {
        srv_log(CFG_LOG_WARNING, "Could not create the loader (out of memory?)");
        return 1;
    }
    cfg_set_apply_hook(apply_cfg, NULL);
    srv_latency_set_threshold(cfg.latency_monitor_threshold);

    uv_loop_t *loop = uv_default_loop();
    if (srv_acceptor_init(loop, &cfg, err, sizeof(err))) {
        srv_log(CFG_LOG_WARNING, "Failed listening on %s:%d (tcp): %s. Aborting.",
                cfg.bind, cfg.port, err);
        return 1;
    }

    srv.nworkers = cfg.threads;
    srv.split_off = cfg.bug_misalign ? SRV_SPLIT_MISALIGNED : SRV_SPLIT_ALIGNED;
    srv.workers = aligned_alloc(SRV_CACHELINE, sizeof(struct srv_worker) * cfg.threads);
    if (!srv.workers) {
        srv_log(CFG_LOG_WARNING, "Out of memory creating workers");
        return 1;
    }
    for (unsigned i = 0; i < srv.nworkers; i++) {
        rc = srv_worker_init(&srv.workers[i], i);
        if (rc) {
            srv_log(CFG_LOG_WARNING, "Could not set up worker %u: %s", i, uv_strerror(rc));
            return 1;
        }
    }
    srv_stop_phase("starting the worker threads");
    rc = srv_workers_start();
    if (rc) {
        srv_log(CFG_LOG_WARNING, "Could not start the worker threads: %s", strerror(-rc));
        return 1;
    }
    if (srv_watchdog_start())
        srv_log(CFG_LOG_WARNING, "Could not start the watchdog thread: running without it");
    srv_acceptor_start();
    srv_stop_guard_serving();
    srv_log(CFG_LOG_NOTICE, "Server initialized: %u worker threads, %u shards, maxmemory %llu (%s)",
            cfg.threads, cfg.shards, (unsigned long long)cfg.maxmemory, cfg_policy_name(cfg.policy));
    srv_log(CFG_LOG_NOTICE, "Ready to accept connections tcp %s:%d", cfg.bind, srv.port);

    uv_run(loop, UV_RUN_DEFAULT);   /* returns once shutdown has begun */

    srv_stop_phase("waiting for the workers to finish their connections and exit");
    int stuck = join_workers();
    srv_stop_phase("stopping the watchdog");
    srv_watchdog_stop();
    srv_acceptor_cleanup();
    if (stuck) {
        srv_log(CFG_LOG_WARNING, "Exiting with workers still running");
        return 1;
    }
    uv_loop_close(loop);
    srv_stop_guard_workers_gone();
    for (unsigned i = 0; i < srv.nworkers; i++)
        srv_worker_destroy(&srv.workers[i]);
    free(srv.workers);
    cfg_set_apply_hook(NULL, NULL);
    /* Loads still running write to the cache: they end first. */
    srv_stop_phase("stopping the loader threads");
    srv_loader_shutdown();
    srv_stop_phase("freeing the cache");
    srv_teardown_guard_begin();
    cache_destroy(srv.cache);
    srv_teardown_guard_end();
    srv_stop_phase("freeing the config snapshots");
    /* Snapshots retired by the last reloads are freed by liburcu's
     * call_rcu thread: wait for it, then free the current one. */
    cfg_reclaim_barrier();
    cfg_snapshot_shutdown();
    srv_log(CFG_LOG_WARNING, "mmcache is now ready to exit, bye bye...");
    cfg_thread_unregister();
    return 0;
}
