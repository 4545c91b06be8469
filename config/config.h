/*
 * config: the server's settings, their defaults, validation, the config
 * file, and the immutable snapshot every request reads.
 *
 * Where a setting comes from, lowest to highest: defaults < the config file
 * < command-line flags. The result is validated whole into a struct cfg
 * and published as an immutable snapshot. Readers enter an RCU read-side
 * section (cfg_read_lock), use the one snapshot they got to the end of
 * their request, and leave (cfg_read_unlock). A change (SIGHUP reload,
 * CONFIG SET) builds a complete new struct, swaps the pointer atomically,
 * and frees the old one only after an RCU grace period (liburcu, memb
 * flavour): see docs/config.md.
 *
 * Knows nothing of sockets or the cache: whoever must act on a new
 * snapshot (the server resizing the cache) registers an apply hook.
 */
#ifndef MMCACHE_CONFIG_H
#define MMCACHE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum cfg_policy { CFG_ALLKEYS_LRU = 0, CFG_VOLATILE_LRU, CFG_ALLKEYS_RANDOM, CFG_NOEVICTION,
                  CFG_ALLKEYS_LFU, CFG_VOLATILE_LFU, CFG_VOLATILE_RANDOM, CFG_VOLATILE_TTL,
                  CFG_POLICY_COUNT };
enum cfg_loglevel { CFG_LOG_DEBUG = 0, CFG_LOG_VERBOSE, CFG_LOG_NOTICE, CFG_LOG_WARNING };
/* Where misses are loaded from: `loader none|synthetic|redis HOST:PORT|file DIR`. */
enum cfg_loader { CFG_LOADER_NONE = 0, CFG_LOADER_SYNTHETIC, CFG_LOADER_REDIS, CFG_LOADER_FILE };
#define CFG_LOADER_ARGLEN 1024   /* "host:port" or an absolute directory */
/* loader-timeout-ms at most: a minute. Each waiting client holds its
 * connection, and each load a loader thread, for that long. */
#define CFG_LOADER_TIMEOUT_MAX_MS 60000

/* Redis 7.0's `no | yes | local` for the dangerous levers: never, from
 * any client, or only from a local one (127.0.0.1, ::1). */
enum cfg_lever { CFG_LEVER_NO = 0, CFG_LEVER_YES, CFG_LEVER_LOCAL };

/* Which lever a setting sits behind for CONFIG SET: none; Redis's
 * enable-protected-configs (settings naming a path or an address); the
 * bug lab's enable-bug-lab (switching a bug live). A start-up flag, the
 * config file and a SIGHUP reload are the operator's and pass always. */
enum cfg_guard { CFG_GUARD_NONE = 0, CFG_GUARD_PROTECTED, CFG_GUARD_BUG_LAB, CFG_GUARD_COUNT };
#define CFG_GUARD_BIT(g) (1u << (g))
#define CFG_GUARDS_ALL ((1u << CFG_GUARD_COUNT) - 1)

/* Redis's client-output-buffer-limit classes. Only `normal` applies here
 * (no replicas, no pub/sub); the others are kept for CONFIG GET/SET and
 * config files written for Redis. */
enum cfg_obuf_class { CFG_OBUF_NORMAL = 0, CFG_OBUF_REPLICA, CFG_OBUF_PUBSUB, CFG_OBUF_CLASSES };
struct cfg_obuf_limit {
    uint64_t hard;          /* bytes pending: over it the client is closed at once; 0 = none */
    uint64_t soft;          /* bytes pending: over it for longer than soft_seconds, closed; 0 = none */
    unsigned soft_seconds;
};

#define CFG_ERRLEN 512   /* room for any message this module writes */
#define CFG_PCTL_MAX 16       /* latency-tracking-info-percentiles: at most this many */
#define CFG_SECRET_MAX 1024   /* bytes of requirepass (CONFIG SET takes values up to 1024) */
#define CFG_PATH_MAX 1024     /* bytes of a file name setting (aclfile) */

/* One snapshot. Immutable once published: readers share it without locks. */
struct cfg {
    uint64_t generation;            /* 1 for the first snapshot, +1 per publish */
    /* fixed at start-up (a reload keeps the running value) */
    char bind[64];
    int port;
    int metrics_port;               /* 0 = no metrics listener (server/metrics/) */
    unsigned threads;
    unsigned shards;
    /* live: a reload or CONFIG SET changes them for the next request */
    uint64_t maxmemory;             /* bytes, 0 = unlimited */
    enum cfg_policy policy;
    int lfu_log_factor;             /* LFU counter's slowness, 0..INT_MAX (cache/lfu.c) */
    int lfu_decay_time;             /* minutes per counter decrement, 0 = none */
    int maxmemory_samples;          /* keys weighed per eviction, 1..INT_MAX (used up to 64) */
    unsigned maxclients;
    unsigned timeout;               /* idle seconds, 0 = never */
    enum cfg_loglevel loglevel;
    uint64_t client_query_buffer_limit;   /* bytes */
    struct cfg_obuf_limit obuf_limits[CFG_OBUF_CLASSES];   /* client-output-buffer-limit */
    long long proto_max_bulk_len;
    unsigned hz;                    /* active expiry cycles per second */
    /* the read-through loader (docs/loader.md); live except loader_threads */
    enum cfg_loader loader;
    char loader_arg[CFG_LOADER_ARGLEN];   /* redis: "host:port"; file: absolute dir; else "" */
    unsigned loader_timeout_ms;     /* a waiting client gets an error after this */
    unsigned loader_ttl;            /* seconds a loaded value is kept, 0 = no expiry */
    unsigned loader_negative_ttl;   /* seconds a miss or error is remembered, 0 = not */
    unsigned loader_max_inflight;   /* distinct keys loading at once */
    unsigned loader_threads;        /* fixed at start-up: loader pool size */
    unsigned loader_synthetic_latency_ms;
    unsigned loader_synthetic_value_size;  /* values are padded to this length */
    double loader_synthetic_error_rate;    /* 0..1: share of loads that fail */
    uint64_t loader_max_value_size; /* bytes: a longer origin answer is refused while read */
    /* the value types' compact encodings (docs/types.md): live, applied
     * to each key at its next write */
    long long hash_max_listpack_entries;
    long long hash_max_listpack_value;   /* bytes of a field or a value */
    long long set_max_intset_entries;
    long long set_max_listpack_entries;
    long long set_max_listpack_value;
    long long list_max_listpack_size;    /* -1..-5: 4..64 KiB per node; n > 0: entries */
    long long zset_max_listpack_entries;
    long long zset_max_listpack_value;
    /* lazy free (Redis 7.0's lazyfree-lazy-*): live */
    bool lazyfree_lazy_eviction;
    bool lazyfree_lazy_expire;
    bool lazyfree_lazy_server_del;
    bool lazyfree_lazy_user_del;
    bool lazyfree_lazy_user_flush;
    /* the bug lab (docs/bugs.md): live, except the bugs that act only at
     * start-up (cfg_bug_live) */
    uint32_t inject_bugs;           /* bit N = bug N injected (N = 1..25); 0 = none */
    bool bug_amplify;               /* widen race windows (the catalogue's amplifiers) */
    bool bug_misalign;              /* bugs 15, 23: their counter across a cache line (yes)
                                       or aligned (no: the differential); start-up only */
    /* the levers (fixed at start-up, as Redis's are) */
    enum cfg_lever enable_debug_command;      /* DEBUG */
    enum cfg_lever enable_protected_configs;  /* CONFIG SET of CFG_GUARD_PROTECTED settings */
    enum cfg_lever enable_bug_lab;            /* CONFIG SET of CFG_GUARD_BUG_LAB settings */
    /* authentication (server/acl/): requirepass is the default user's
     * password ("" = none, the user is nopass), applied when it changes;
     * the users themselves live in the ACL, not in snapshots */
    char requirepass[CFG_SECRET_MAX + 1];
    bool protected_mode;            /* no password: only 127.0.0.1 and ::1 may connect */
    char aclfile[CFG_PATH_MAX + 1]; /* fixed at start-up: ACL LOAD / SAVE's file, "" = none */
    unsigned acllog_max_len;        /* ACL LOG entries kept */
    /* introspection (Redis 7.0's; server/cmd/latency.c, slowlog.c): live */
    bool latency_tracking;          /* INFO latencystats: per-command histograms */
    unsigned latency_pctl_n;        /* latency-tracking-info-percentiles: how many */
    double latency_pctls[CFG_PCTL_MAX];   /* ... and each, 0..100 */
    long long slowlog_log_slower_than;    /* usec; < 0: off, 0: every command */
    unsigned slowlog_max_len;       /* SLOWLOG entries kept */
    long long latency_monitor_threshold;  /* ms; 0: LATENCY records nothing */
    /* bit i: persistence directive cfg_persist_name(i) was in the file or
     * the flags, and ignored (config/persist.c); start-up logs them once */
    uint32_t persist_ignored;
};

/* What inject_enter() takes for a unit of work under snapshot c
 * (config/inject.h): the bugs plus the amplify bit. */
#define CFG_INJECT_AMPLIFY_BIT (1u << 31)
static inline uint32_t cfg_inject_mask(const struct cfg *c)
{
    return c->inject_bugs | (c->bug_amplify ? CFG_INJECT_AMPLIFY_BIT : 0u);
}

/* ---- settings (config.c) ---------------------------------------------------- */

void cfg_defaults(struct cfg *c);

/*
 * `threads`' default (threads.c): for ncpus usable CPUs, one worker on up
 * to 2, else ncpus - 1 (at most the setting's 256). A worker that shares
 * its core with the client beside it, the acceptor or the kernel's network
 * work waits for its turn with all its connections (issue 22: on 2 cores,
 * 2 workers beside the client had p99 2x to 3x Redis's, 1 worker about
 * Redis's; figures in README, "`threads`: the default").
 */
unsigned cfg_default_threads(long ncpus);
/* The CPUs this process may run on (its affinity mask), or the online
 * CPUs if the mask cannot be read. */
long cfg_usable_cpus(void);

/*
 * One setting by name (case-insensitive; also CONFIG GET/SET's names).
 * On error returns -1 and writes to err what is wrong and what is allowed,
 * without the name ("argument must be an integer between 0 and 10
 * inclusive (got 'x')"), so each caller can say where it came from.
 * -2: no such setting.
 */
int cfg_set(struct cfg *c, const char *name, const char *value, char *err, size_t errlen);

/* Room for any value cfg_get writes (the longest is a loader spec). */
#define CFG_VALUE_MAX (CFG_LOADER_ARGLEN + 16)
/* Value of `name` as CONFIG GET shows it. -1 for unknown names. */
int cfg_get(const struct cfg *c, const char *name, char *buf, size_t cap);
/* Value of `name` as CONFIG REWRITE writes it: as cfg_get, but sizes in
 * Redis 7.0's units where they divide evenly ("256mb", "1gb", "64kb"; its
 * rewriteConfigFormatMemory), client-output-buffer-limit's too. */
int cfg_get_for_file(const struct cfg *c, const char *name, char *buf, size_t cap);
/* Directive names in canonical order, NULL-terminated. */
extern const char *const cfg_names[];

/* Redis's persistence directives (config/persist.c): accepted by the file
 * and the flags with any value, ignored, never stored; not settings.
 * cfg_persist_index: the directive's index, or -1 when name is not one.
 * cfg_persist_name: the i-th one's name, NULL past the last.
 * cfg_persist_value: what CONFIG GET answers for the i-th (for `dir`, the
 * working directory). cfg_persist_check_set: 0 when a CONFIG SET to value
 * changes nothing, else -1 and why in err. cfg_persist_describe: the names
 * of a persist_ignored mask, comma separated.
 * Context: any thread; no locks; touch no file. */
int cfg_persist_index(const char *name);
const char *cfg_persist_name(int i);
void cfg_persist_value(int i, char *buf, size_t cap);
int cfg_persist_check_set(int i, const char *value, char *err, size_t errlen);
void cfg_persist_describe(uint32_t mask, char *buf, size_t cap);
/* Settings whose value is several words (`loader redis HOST:PORT`): the
 * config file joins them with a space; a flag or CONFIG SET passes them as
 * one argument ("redis 127.0.0.1:6380"). */
bool cfg_takes_words(const char *name);
/* false for settings a running server cannot change (bind, port, ...). */
bool cfg_is_live(const char *name);
/* The lever CONFIG SET of `name` sits behind (CFG_GUARD_NONE for most, and
 * for unknown names). */
enum cfg_guard cfg_guard_of(const char *name);
/* The setting that is guard g's lever ("enable-protected-configs"), and
 * its value in c. */
const char *cfg_guard_setting(enum cfg_guard g);
enum cfg_lever cfg_guard_lever(const struct cfg *c, enum cfg_guard g);
/* May a client change settings behind g? local: it is a local client. */
static inline bool cfg_lever_allows(enum cfg_lever l, bool local)
{
    return l == CFG_LEVER_YES || (l == CFG_LEVER_LOCAL && local);
}
/* The guards whose settings such a client may change under c
 * (CFG_GUARD_BIT each, CFG_GUARD_NONE's always included). */
unsigned cfg_guards_allowed(const struct cfg *c, bool local);
/* Settings whose value is a secret (requirepass): logs show it redacted. */
bool cfg_is_sensitive(const char *name);
/* The canonical spelling of a setting's name, NULL if unknown. */
const char *cfg_canonical_name(const char *name);

/* "512mb" / "1gb" / "100k" / "42": Redis's memory units. 0 or -1. */
int cfg_parse_memory(const char *s, uint64_t *out);
const char *cfg_policy_name(enum cfg_policy p);
const char *cfg_loglevel_name(enum cfg_loglevel l);
const char *cfg_loader_name(enum cfg_loader k);
const char *cfg_lever_name(enum cfg_lever l);
/* A percentile of latency-tracking-info-percentiles as Redis prints it
 * ("%f" less trailing zeros: "99.9", "50"), for CONFIG GET and INFO. */
void cfg_pctl_format(double pct, char *buf, size_t cap);
/* The `loader` setting as one string, "none" or "redis 127.0.0.1:6380":
 * what CONFIG GET shows, INFO prints and an origin's spec is compared with. */
void cfg_loader_spec(const struct cfg *c, char *buf, size_t cap);

/* ---- the bug catalogue (bugs.c, bugs.def) ---------------------------------- */

#define CFG_BUG_MAX 25
struct cfg_bug {
    int id;                 /* 1..25, the source numbering */
    const char *slug;       /* "mutex-copied" */
    const char *title;      /* "mutex copied by value" */
    const char *site;       /* file and function of the site (INJECT with this id) */
    const char *symptom;    /* what a user sees */
    const char *amplifier;  /* what bug-amplify adds; "" = none */
    bool live;              /* false: only at start-up */
    bool control;           /* looks wrong, is correct */
    const char *scenario;   /* what loadtest/bugs/<id> drives */
};
/* NULL for an id outside the catalogue. */
const struct cfg_bug *cfg_bug(int id);
/*
 * "13", "3,13", "mutex-copied", "0" / "none" / "" (no bug) into a mask
 * (bit N = bug N). -1 with err listing the valid ids for an unknown one.
 */
int cfg_bugs_parse(const char *s, uint32_t *mask, char *err, size_t errlen);
/* Mask of the bugs that act only at start-up (CONFIG SET refuses them,
 * a reload keeps their running value). */
uint32_t cfg_bugs_startup_only(void);
/* "none" or "3,13". */
void cfg_bugs_format(uint32_t mask, char *buf, size_t cap);
/* `mmcache --inject-bug=list`: the catalogue as a table. */
void cfg_bugs_print(FILE *out);
/* One line a server logs when bug `id` is switched on: "INJECTED BUG 13
 * (mutex copied by value): <site>. Expect: <symptom>." */
void cfg_bug_banner(int id, char *buf, size_t cap);

/* ---- command line (config.c) ---------------------------------------------------- */

/*
 * The config file named on the command line: `--config FILE`,
 * `--config=FILE`, or a first argument not starting with "--" (like
 * redis-server). *path is NULL when there is none. -1 with err on a
 * malformed command line.
 */
int cfg_args_file(int argc, char **argv, const char **path, char *err, size_t errlen);

/*
 * Apply command-line flags (`--port 7000`, `--port=7000`) to c, skipping
 * the config file argument. Returns 0, or -1 with a message naming the
 * flag and what is allowed. `--help` / `--version` set *exit_now (1 / 2).
 */
int cfg_parse_args(struct cfg *c, int argc, char **argv, char *err,
                   size_t errlen, int *exit_now);

void cfg_usage(FILE *out);

/* ---- the config file (file.c) ----------------------------------------------- */

/*
 * Apply the directives of file `path` to c, in order (the last of two
 * lines for one setting wins). Returns 0, or -1 with err naming the file,
 * the line, the directive and what is allowed
 * ("mmcache.conf:12: 'timeout': argument must be ...").
 * Context: any thread; blocks on file I/O.
 */
int cfg_load_file(struct cfg *c, const char *path, char *err, size_t errlen);

/*
 * CONFIG REWRITE: write c back to `path`. Comments, blank lines and the
 * order of directives are kept; a directive line whose value changed is
 * replaced in place, a repeated one is dropped, settings that differ from
 * the defaults and had no line are appended. Written to a temporary file
 * then renamed over `path` (in place when `path` cannot be replaced, e.g. a
 * bind-mounted file). 0, or -1 with err.
 * Context: any thread; blocks on file I/O.
 */
int cfg_rewrite_file(const struct cfg *c, const char *path, char *err, size_t errlen);
/*
 * The same for a writer that may not change the settings behind some
 * levers (CONFIG REWRITE from a client that could not CONFIG SET them):
 * only guards in `allowed` (CFG_GUARD_BIT each) are written; the file's
 * lines for the others stay as they are, and none is added. And the
 * file's `user` lines become `users` (each a whole line without its
 * newline, "user alice on ..."; NULL-terminated): the first user line is
 * replaced by them, later ones dropped, and they are appended when the
 * file had none. users == NULL keeps the user lines as they are; an empty
 * list drops them (Redis does so when an aclfile holds the users).
 */
int cfg_rewrite_file_guarded(const struct cfg *c, const char *path, unsigned allowed,
                             const char *const *users, char *err, size_t errlen);

/*
 * Replace the file at path with data: a temporary file renamed over it
 * (keeping its permissions), or, where that cannot be done (a bind-mounted
 * file), rewritten in place. 0, or -1 with err. CONFIG REWRITE's and ACL
 * SAVE's way of writing. Context: any thread; blocks on file I/O.
 */
int cfg_replace_file(const char *path, const char *data, size_t len, char *err, size_t errlen);

/*
 * The `user NAME RULE ...` lines of the config file at path, in order:
 * fn gets each line's words after "user" (argv[0] the name) and its line
 * number; a non-zero return stops the walk and is returned. cfg_load_file
 * skips these lines (the server's ACL reads them with this). -1 with err
 * for a file that cannot be read or a line with unbalanced quotes.
 * Context: any thread; blocks on file I/O.
 */
typedef int cfg_user_line_fn(void *arg, int lineno, int argc, char **argv);
int cfg_file_users(const char *path, cfg_user_line_fn *fn, void *arg, char *err,
                   size_t errlen);

/*
 * Split one line into arguments the way Redis reads its config file:
 * blanks separate, "double quotes" take \n \r \t \b \a \\ \" \xHH escapes,
 * 'single quotes' take \'. Writes at most max pointers into argv, pointing
 * into buf (a copy of the line it may modify). Returns the count, or -1
 * for unbalanced quotes or too many arguments.
 */
int cfg_split_line(char *buf, char **argv, int max);

/* ---- snapshots (snapshot.c) ------------------------------------------------- */

/*
 * Every thread that calls cfg_read_lock must be registered first (liburcu
 * tracks readers per thread). Context: the thread itself.
 */
void cfg_thread_register(void);
void cfg_thread_unregister(void);

/*
 * Enter a read-side section and return the current snapshot; it stays
 * valid, and unchanged, until the matching cfg_read_unlock. Sections may
 * nest and are cheap (no atomic read-modify-write, no fence on x86: the
 * memb flavour puts the cost on the writer). Never block in one.
 * Context: a registered thread.
 */
const struct cfg *cfg_read_lock(void);
void cfg_read_unlock(const struct cfg *c);

/*
 * The first snapshot, before any reader thread exists.
 * Context: main thread, once.
 */
int cfg_publish_initial(const struct cfg *c);

/*
 * Called with each newly published snapshot, while the update lock is
 * held, so that hooks see snapshots in generation order (the server sets
 * the cache's maxmemory from it). The hook must not publish.
 */
typedef void cfg_apply_fn(const struct cfg *next, const struct cfg *prev, void *arg);
void cfg_set_apply_hook(cfg_apply_fn *fn, void *arg);

/*
 * Publish a copy of *next as the new current snapshot (generation +1),
 * run the apply hook, and retire the old one: it is freed once every
 * read-side section that might hold it has ended. Publishers are
 * serialised by the update lock inside. Never blocks on readers.
 * Context: a registered thread; may be inside its own read-side section
 * (CONFIG SET is), since it never waits for a grace period.
 */
int cfg_publish(const struct cfg *next);

/*
 * Wait until every retired snapshot has been freed. Context: a
 * registered thread outside any read-side section; blocks.
 */
void cfg_reclaim_barrier(void);

/* Free the current snapshot at exit, after cfg_reclaim_barrier. */
void cfg_snapshot_shutdown(void);

/* Snapshots allocated and not yet freed (tests, INFO). */
uint64_t cfg_snapshots_live(void);
/* Test hook: called with each snapshot just before it is freed. */
extern void (*cfg_free_hook)(const struct cfg *c);

/* The current log level, for loggers on any thread (registered or not):
 * a relaxed copy kept up to date by cfg_publish. */
enum cfg_loglevel cfg_loglevel_now(void);

/* ---- start-up, reload and CONFIG SET (reload.c) ----------------------------- */

/* Messages about what a reload did (kept settings, changes), for the log. */
typedef void cfg_note_fn(void *arg, const char *msg);

/*
 * Start-up: defaults < the config file < flags, validated and published
 * as generation 1. Remembers argv and the file for reloads. Returns 0;
 * 1 after printing the usage for --help; 2 for --version (the caller
 * prints it); CFG_INIT_LISTED after printing the bug catalogue for
 * --inject-bug=list; or -1 with err.
 * Context: main thread, before any other thread exists.
 */
int cfg_init(int argc, char **argv, char *err, size_t errlen);
/* cfg_init's return for `--inject-bug=list` (after printing the catalogue). */
#define CFG_INIT_LISTED 3

/* The config file given at start-up, absolute; "" when none. Immutable
 * after cfg_init. */
const char *cfg_file(void);

/*
 * Reload: rebuild from defaults < file < flags, keep the running value of
 * every setting that cannot change live (noting each that differs), and
 * publish. An invalid file changes nothing: -1, the error in err. Without
 * a config file: -2. Counted in cfg_reload_stats either way (except -2).
 * Context: a registered thread outside any read-side section; blocks on
 * file I/O.
 */
int cfg_reload(char *err, size_t errlen, cfg_note_fn *note, void *arg);

/*
 * CONFIG SET name value [name value ...]: all or nothing. On error returns
 * -1 and *bad is the index of the pair at fault, err says why (Redis's
 * wording: "duplicate parameter", "can't set immutable config", "can't set
 * protected config" and which setting allows it, ...); -2: pair *bad
 * names no setting. Settings behind a guard not in `allowed`
 * (cfg_guards_allowed) are refused.
 * Context: a registered thread outside any read-side section.
 */
int cfg_config_set(size_t n, const char *const *names, const char *const *values,
                   unsigned allowed, size_t *bad, char *err, size_t errlen);

/*
 * The most clients the process can hold open descriptors for (the server
 * works it out from RLIMIT_NOFILE at start-up, as Redis does): every
 * snapshot from now on has maxclients at most `cap` (a reload lowers a
 * larger value from the file, saying so; CONFIG SET refuses one with
 * Redis's "try with N"). If the current snapshot's maxclients is larger,
 * a lowered copy is published. 0 = no cap. Returns the maxclients now in
 * force. Context: main thread, before other threads read snapshots.
 */
unsigned cfg_cap_maxclients(unsigned cap);

struct cfg_reload_stats {
    bool last_ok;          /* the last reload (or start-up) succeeded */
    uint64_t failures;     /* reloads refused since start */
    int64_t last_time;     /* unix seconds of the last attempt (start-up at first) */
};
void cfg_reload_stats(struct cfg_reload_stats *out);

#endif
