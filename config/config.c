/*
 * Settings: their defaults, validation, and the command line. One table
 * describes every setting so that flags, the config file, CONFIG GET and
 * CONFIG SET share one parser and one set of messages.
 */
#include "config.h"
#include "config_int.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <sys/stat.h>
#include <arpa/inet.h>
#include <netinet/in.h>

enum cfg_kind { K_ADDR, K_INT, K_UINT, K_LL, K_MEM, K_MEMLL, K_POLICY, K_LOGLEVEL, K_LOADER, K_RATIO,
                K_BUGS, K_BOOL, K_LEVER, K_OBUF, K_STRING, K_PCTLS };

struct cfg_desc {
    const char *name;
    enum cfg_kind kind;
    size_t off;            /* offsetof(struct cfg, field) */
    long long min, max;    /* K_INT / K_UINT / K_LL / K_MEM bounds */
    bool live;             /* a running server can change it */
    const char *help;
    enum cfg_guard guard;  /* the lever CONFIG SET of it sits behind */
};

/* Guards, for the rows below. OPEN: none. PROT: Redis's PROTECTED_CONFIG, a setting
 * that names a path or an address (a client that sets it makes the server
 * read files or connect where it says). LAB: the bug lab's switches. */
#define OPEN CFG_GUARD_NONE
#define PROT CFG_GUARD_PROTECTED
#define LAB CFG_GUARD_BUG_LAB

#define F(field) offsetof(struct cfg, field)
static const struct cfg_desc descs[] = {
    {"bind", K_ADDR, F(bind), 0, 0, false, "address to listen on (IPv4 or IPv6)", OPEN},
    {"port", K_INT, F(port), 1, 65535, false, "TCP port", OPEN},
    {"threads", K_UINT, F(threads), 1, 256, false, "worker threads (default: usable cores less one, at least 1)", OPEN},
    {"shards", K_UINT, F(shards), 1, 65536, false, "cache shards, a power of two", OPEN},
    {"maxmemory", K_MEM, F(maxmemory), 0, INT64_MAX, true, "memory limit for data (0 = none); k/kb/m/mb/g/gb", OPEN},
    {"maxmemory-policy", K_POLICY, F(policy), 0, 0, true, "allkeys-lru | volatile-lru | allkeys-random | noeviction | allkeys-lfu | volatile-lfu | volatile-random | volatile-ttl", OPEN},
    {"maxmemory-samples", K_INT, F(maxmemory_samples), 1, INT32_MAX, true, "keys weighed per eviction by the LFU policies and volatile-ttl (at most 64 are)", OPEN},
    {"lfu-log-factor", K_INT, F(lfu_log_factor), 0, INT32_MAX, true, "LFU policies: the higher, the more hits a key needs to raise its counter", OPEN},
    {"lfu-decay-time", K_INT, F(lfu_decay_time), 0, INT32_MAX, true, "LFU policies: minutes without access per counter decrement (0 = never)", OPEN},
    {"maxclients", K_UINT, F(maxclients), 1, 1000000, true, "maximum connected clients", OPEN},
    {"timeout", K_UINT, F(timeout), 0, INT32_MAX, true, "close clients idle this many seconds (0 = never)", OPEN},
    {"loglevel", K_LOGLEVEL, F(loglevel), 0, 0, true, "debug | verbose | notice | warning", OPEN},
    {"client-query-buffer-limit", K_MEM, F(client_query_buffer_limit), 1024 * 1024, INT64_MAX, true, "max unparsed input per client", OPEN},
    {"client-output-buffer-limit", K_OBUF, F(obuf_limits), 0, 0, true, "normal <hard> <soft> <soft-seconds> (Redis's form), or one size: max pending output per client (0 = none)", OPEN},
    {"proto-max-bulk-len", K_MEMLL, F(proto_max_bulk_len), 1024 * 1024, INT64_MAX, true, "max bulk string length in a request", OPEN},
    {"hz", K_UINT, F(hz), 1, 500, true, "active expiry cycles per second", OPEN},
    {"loader", K_LOADER, F(loader), 0, 0, true, "where misses load from: none | synthetic | redis HOST:PORT | file DIR", PROT},
    {"loader-timeout-ms", K_UINT, F(loader_timeout_ms), 1, CFG_LOADER_TIMEOUT_MAX_MS, true, "a client waiting for a load gets an error after this", OPEN},
    {"loader-ttl", K_UINT, F(loader_ttl), 0, INT32_MAX, true, "seconds a loaded value stays cached (0 = no expiry)", OPEN},
    {"loader-negative-ttl", K_UINT, F(loader_negative_ttl), 0, INT32_MAX, true, "seconds a miss or load error is remembered (0 = not)", OPEN},
    {"loader-max-inflight", K_UINT, F(loader_max_inflight), 1, 1000000, true, "keys loading at once; beyond it GET gets an error", OPEN},
    {"loader-threads", K_UINT, F(loader_threads), 1, 1024, false, "loader threads (origin calls block there, never on a worker)", OPEN},
    {"loader-synthetic-latency-ms", K_UINT, F(loader_synthetic_latency_ms), 0, CFG_LOADER_TIMEOUT_MAX_MS, true, "synthetic origin: time each load takes", OPEN},
    {"loader-synthetic-value-size", K_UINT, F(loader_synthetic_value_size), 0, 64 * 1024 * 1024, true, "synthetic origin: values padded to this many bytes", OPEN},
    {"loader-synthetic-error-rate", K_RATIO, F(loader_synthetic_error_rate), 0, 1, true, "synthetic origin: share of loads that fail, 0..1", OPEN},
    {"loader-max-value-size", K_MEM, F(loader_max_value_size), 0, INT64_MAX, true, "longest value taken from an origin (also capped by proto-max-bulk-len)", OPEN},
    {"hash-max-listpack-entries", K_LL, F(hash_max_listpack_entries), 0, INT64_MAX, true, "a hash with more fields becomes a hash table", OPEN},
    {"hash-max-listpack-value", K_LL, F(hash_max_listpack_value), 0, INT64_MAX, true, "a hash with a longer field or value becomes a hash table", OPEN},
    {"set-max-intset-entries", K_LL, F(set_max_intset_entries), 0, INT64_MAX, true, "a set of integers with more members leaves the intset encoding", OPEN},
    {"set-max-listpack-entries", K_LL, F(set_max_listpack_entries), 0, INT64_MAX, true, "a set with more members becomes a hash table", OPEN},
    {"set-max-listpack-value", K_LL, F(set_max_listpack_value), 0, INT64_MAX, true, "a set with a longer member becomes a hash table", OPEN},
    {"list-max-listpack-size", K_LL, F(list_max_listpack_size), INT32_MIN, INT32_MAX, true, "list node size: -1..-5 = 4..64 KiB, n > 0 = n entries", OPEN},
    {"zset-max-listpack-entries", K_LL, F(zset_max_listpack_entries), 0, INT64_MAX, true, "a sorted set with more members leaves the listpack encoding", OPEN},
    {"zset-max-listpack-value", K_LL, F(zset_max_listpack_value), 0, INT64_MAX, true, "a sorted set with a longer member leaves the listpack encoding", OPEN},
    {"lazyfree-lazy-eviction", K_BOOL, F(lazyfree_lazy_eviction), 0, 0, true, "free large evicted values on the lazy-free thread (yes | no)", OPEN},
    {"lazyfree-lazy-expire", K_BOOL, F(lazyfree_lazy_expire), 0, 0, true, "free large expired values on the lazy-free thread (yes | no)", OPEN},
    {"lazyfree-lazy-server-del", K_BOOL, F(lazyfree_lazy_server_del), 0, 0, true, "free large overwritten values on the lazy-free thread (yes | no)", OPEN},
    {"lazyfree-lazy-user-del", K_BOOL, F(lazyfree_lazy_user_del), 0, 0, true, "DEL frees large values on the lazy-free thread, like UNLINK (yes | no)", OPEN},
    {"lazyfree-lazy-user-flush", K_BOOL, F(lazyfree_lazy_user_flush), 0, 0, true, "FLUSHALL without SYNC/ASYNC is ASYNC (yes | no)", OPEN},
    {"inject-bug", K_BUGS, F(inject_bugs), 0, 0, true, "bug lab: inject bug N (or N,M; none; list prints the catalogue)", LAB},
    {"bug-amplify", K_BOOL, F(bug_amplify), 0, 0, true, "bug lab: widen race windows (yes | no)", LAB},
    {"bug-misalign", K_BOOL, F(bug_misalign), 0, 0, false, "bug lab: bugs 15 and 23 keep their counter across a cache line (yes) or aligned (no: their differential)", LAB},
    {"enable-debug-command", K_LEVER, F(enable_debug_command), 0, 0, false, "who may run DEBUG: no | yes | local (local clients only)", OPEN},
    {"enable-protected-configs", K_LEVER, F(enable_protected_configs), 0, 0, false, "who may CONFIG SET settings naming a path or address (loader): no | yes | local", OPEN},
    {"enable-bug-lab", K_LEVER, F(enable_bug_lab), 0, 0, false, "who may switch inject-bug / bug-amplify by CONFIG SET: no | yes | local", OPEN},
    {"requirepass", K_STRING, F(requirepass), 0, CFG_SECRET_MAX, true, "password of the default user (\"\" = none: every client is it)", OPEN},
    {"protected-mode", K_BOOL, F(protected_mode), 0, 0, true, "with no password, refuse clients other than 127.0.0.1 and ::1 (yes | no)", OPEN},
    {"aclfile", K_STRING, F(aclfile), 0, CFG_PATH_MAX, false, "ACL users file, read at start-up and by ACL LOAD, written by ACL SAVE", PROT},
    {"acllog-max-len", K_UINT, F(acllog_max_len), 0, 1000000, true, "ACL LOG entries kept", OPEN},
    {"metrics-port", K_INT, F(metrics_port), 0, 65535, false, "Prometheus GET /metrics over HTTP on bind's address (0 = off)", OPEN},
    {"latency-tracking", K_BOOL, F(latency_tracking), 0, 0, true, "INFO latencystats: per-command latency percentiles (yes | no)", OPEN},
    {"latency-tracking-info-percentiles", K_PCTLS, F(latency_pctls), 0, 0, true, "the percentiles INFO latencystats shows, e.g. \"50 99 99.9\"", OPEN},
    {"slowlog-log-slower-than", K_LL, F(slowlog_log_slower_than), -1, INT64_MAX, true, "SLOWLOG keeps commands slower than this many microseconds (-1 = none, 0 = all)", OPEN},
    {"slowlog-max-len", K_UINT, F(slowlog_max_len), 0, 1000000, true, "SLOWLOG entries kept", OPEN},
    {"latency-monitor-threshold", K_LL, F(latency_monitor_threshold), 0, INT64_MAX, true, "LATENCY records events of at least this many milliseconds (0 = none)", OPEN},
};
#undef F
#undef OPEN
#undef PROT
#undef LAB
#define NDESC (sizeof(descs) / sizeof(descs[0]))
_Static_assert(CFG_VALUE_MAX > CFG_SECRET_MAX && CFG_VALUE_MAX > CFG_PATH_MAX,
               "cfg_get's buffers hold every string setting");

const char *const cfg_names[] = {
    "bind", "port", "threads", "shards", "maxmemory", "maxmemory-policy",
    "maxclients", "timeout", "loglevel", "client-query-buffer-limit",
    "client-output-buffer-limit", "proto-max-bulk-len", "hz", "loader",
    "loader-timeout-ms", "loader-ttl", "loader-negative-ttl", "loader-max-inflight",
    "loader-threads", "loader-synthetic-latency-ms", "loader-synthetic-value-size",
    "loader-synthetic-error-rate", "loader-max-value-size", "hash-max-listpack-entries",
    "hash-max-listpack-value", "set-max-intset-entries", "set-max-listpack-entries",
    "set-max-listpack-value", "list-max-listpack-size", "zset-max-listpack-entries",
    "zset-max-listpack-value", "lazyfree-lazy-eviction", "lazyfree-lazy-expire",
    "lazyfree-lazy-server-del", "lazyfree-lazy-user-del", "lazyfree-lazy-user-flush",
    "inject-bug", "bug-amplify", "bug-misalign", "enable-debug-command",
    "enable-protected-configs", "enable-bug-lab", "requirepass", "protected-mode", "aclfile",
    "acllog-max-len", "maxmemory-samples", "lfu-log-factor", "lfu-decay-time", "metrics-port",
    "latency-tracking", "latency-tracking-info-percentiles", "slowlog-log-slower-than",
    "slowlog-max-len", "latency-monitor-threshold", NULL,
};

static const char *const policy_names[CFG_POLICY_COUNT] = {
    "allkeys-lru", "volatile-lru", "allkeys-random", "noeviction",
    "allkeys-lfu", "volatile-lfu", "volatile-random", "volatile-ttl",
};
static const char *const level_names[] = {"debug", "verbose", "notice", "warning"};
static const char *const loader_names[] = {"none", "synthetic", "redis", "file"};
static const char *const lever_names[] = {"no", "yes", "local"};

const char *cfg_policy_name(enum cfg_policy p) { return policy_names[p]; }
const char *cfg_loglevel_name(enum cfg_loglevel l) { return level_names[l]; }
const char *cfg_loader_name(enum cfg_loader k) { return loader_names[k]; }
const char *cfg_lever_name(enum cfg_lever l) { return lever_names[l]; }

void cfg_loader_spec(const struct cfg *c, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s%s%s", loader_names[c->loader], c->loader_arg[0] ? " " : "",
             c->loader_arg);
}

void cfg_defaults(struct cfg *c)
{
    memset(c, 0, sizeof(*c));
    strcpy(c->bind, "127.0.0.1");
    c->port = 6379;
    c->threads = cfg_default_threads(cfg_usable_cpus());
    /* Many small shards: two workers running 10-key MSETs collide on a
     * shard lock far less often (64 shards: ~125k MSET/s from 2 workers,
     * 1024: ~225k), for ~170 KB more at idle. */
    c->shards = 1024;
    c->maxmemory = 0;
    c->policy = CFG_ALLKEYS_LRU;
    c->lfu_log_factor = 10;         /* Redis's defaults */
    c->lfu_decay_time = 1;
    c->maxmemory_samples = 5;
    c->maxclients = 10000;
    c->timeout = 0;
    c->loglevel = CFG_LOG_NOTICE;
    c->client_query_buffer_limit = 1024ULL * 1024 * 1024;
    /* normal: Redis has no limit by default; a cache that any client can
     * ask for 1000 large values at once keeps one (Redis's replica hard
     * limit). The other two classes are Redis's defaults. */
    c->obuf_limits[CFG_OBUF_NORMAL] = (struct cfg_obuf_limit){256ULL << 20, 0, 0};
    c->obuf_limits[CFG_OBUF_REPLICA] = (struct cfg_obuf_limit){256ULL << 20, 64ULL << 20, 60};
    c->obuf_limits[CFG_OBUF_PUBSUB] = (struct cfg_obuf_limit){32ULL << 20, 8ULL << 20, 60};
    c->proto_max_bulk_len = 512LL * 1024 * 1024;
    c->hz = 10;
    c->loader = CFG_LOADER_NONE;
    c->loader_timeout_ms = 1000;
    c->loader_ttl = 300;
    c->loader_negative_ttl = 0;
    c->loader_max_inflight = 1024;
    c->loader_threads = 8;
    c->loader_synthetic_latency_ms = 0;
    c->loader_synthetic_value_size = 0;
    c->loader_synthetic_error_rate = 0;
    c->loader_max_value_size = 16ULL << 20;
    c->hash_max_listpack_entries = 128;   /* Redis 7.0's defaults */
    c->hash_max_listpack_value = 64;
    c->set_max_intset_entries = 512;
    c->set_max_listpack_entries = 128;
    c->set_max_listpack_value = 64;
    c->list_max_listpack_size = -2;
    c->zset_max_listpack_entries = 128;
    c->zset_max_listpack_value = 64;
    c->inject_bugs = 0;
    c->bug_amplify = true;
    c->bug_misalign = true;
    c->enable_debug_command = CFG_LEVER_NO;       /* Redis 7.0's default */
    c->enable_protected_configs = CFG_LEVER_NO;   /* Redis 7.0's default */
    /* The lab's point is switching bugs live, from the machine it runs on;
     * a client elsewhere must not crash the server with one. */
    c->enable_bug_lab = CFG_LEVER_LOCAL;
    c->protected_mode = true;   /* requirepass and aclfile: "" (memset) */
    c->acllog_max_len = 128;
    c->latency_tracking = true;           /* Redis 7.0's defaults */
    c->latency_pctl_n = 3;
    c->latency_pctls[0] = 50;
    c->latency_pctls[1] = 99;
    c->latency_pctls[2] = 99.9;
    c->slowlog_log_slower_than = 10000;
    c->slowlog_max_len = 128;
    c->latency_monitor_threshold = 0;
    /* Large values are freed off the request path by default: Redis 7.0
     * defaults these to no (a DEL, expiry or eviction of a million-field
     * hash stops clients for its free); Valkey 8.0 made them yes
     * (valkey-io/valkey#913) for that reason, and so do we. "no" keeps
     * Redis 7.0's behaviour for whoever wants it. */
    c->lazyfree_lazy_eviction = true;
    c->lazyfree_lazy_expire = true;
    c->lazyfree_lazy_server_del = true;
    c->lazyfree_lazy_user_del = true;
    c->lazyfree_lazy_user_flush = true;
}

int cfg_parse_memory(const char *s, uint64_t *out)
{
    char *end;
    if (!*s || !isdigit((unsigned char)*s))
        return -1;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno)
        return -1;
    static const struct { const char *suf; uint64_t mul; } units[] = {
        {"", 1}, {"b", 1}, {"k", 1000}, {"kb", 1024}, {"m", 1000 * 1000},
        {"mb", 1024 * 1024}, {"g", 1000ULL * 1000 * 1000}, {"gb", 1024ULL * 1024 * 1024},
    };
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        if (strcasecmp(end, units[i].suf) == 0) {
            if (v > UINT64_MAX / units[i].mul)
                return -1;
            *out = v * units[i].mul;
            return 0;
        }
    }
    return -1;
}

static const struct cfg_desc *find(const char *name)
{
    for (size_t i = 0; i < NDESC; i++)
        if (strcasecmp(descs[i].name, name) == 0)
            return &descs[i];
    return NULL;
}

bool cfg_takes_words(const char *name)
{
    const struct cfg_desc *d = find(name);
    return d && (d->kind == K_LOADER || d->kind == K_OBUF);
}

bool cfg_is_live(const char *name)
{
    const struct cfg_desc *d = find(name);
    return d && d->live;
}

enum cfg_guard cfg_guard_of(const char *name)
{
    const struct cfg_desc *d = find(name);
    return d ? d->guard : CFG_GUARD_NONE;
}

const char *cfg_guard_setting(enum cfg_guard g)
{
    return g == CFG_GUARD_PROTECTED ? "enable-protected-configs"
         : g == CFG_GUARD_BUG_LAB ? "enable-bug-lab" : "";
}

enum cfg_lever cfg_guard_lever(const struct cfg *c, enum cfg_guard g)
{
    return g == CFG_GUARD_PROTECTED ? c->enable_protected_configs
         : g == CFG_GUARD_BUG_LAB ? c->enable_bug_lab : CFG_LEVER_YES;
}

unsigned cfg_guards_allowed(const struct cfg *c, bool local)
{
    unsigned allowed = 0;
    for (int g = 0; g < CFG_GUARD_COUNT; g++)
        if (cfg_lever_allows(cfg_guard_lever(c, (enum cfg_guard)g), local))
            allowed |= CFG_GUARD_BIT(g);
    return allowed;
}

bool cfg_is_sensitive(const char *name)
{
    const struct cfg_desc *d = find(name);
    return d && d->off == offsetof(struct cfg, requirepass);
}

const char *cfg_canonical_name(const char *name)
{
    const struct cfg_desc *d = find(name);
    return d ? d->name : NULL;
}

int cfg__pick(const char *const *names, int n, const char *v)
{
    for (int i = 0; i < n; i++)
        if (strcasecmp(names[i], v) == 0)
            return i;
    return -1;
}

/* "a, b, c": the allowed words, for messages. */
static void join(char *buf, size_t cap, const char *const *names, int n)
{
    size_t used = 0;
    buf[0] = 0;
    for (int i = 0; i < n && used < cap; i++)
        used += (size_t)snprintf(buf + used, cap - used, "%s%s", i ? ", " : "", names[i]);
}

static int set_int(const struct cfg_desc *d, char *field, const char *value, char *err, size_t errlen)
{
    char *end;
    errno = 0;
    long long v = strtoll(value, &end, 10);
    /* strtoll would skip leading blanks and a '+': refuse them as the
     * memory parser and Redis do, so " 5" fails like "5 " */
    bool digits = isdigit((unsigned char)value[0]) || value[0] == '-';
    if (!digits || errno || end == value || *end || v < d->min || v > d->max) {
        snprintf(err, errlen, "argument must be an integer between %lld and %lld inclusive (got '%s')",
                 d->min, d->max, value);
        return -1;
    }
    if (d->off == offsetof(struct cfg, shards) && (v & (v - 1))) {
        snprintf(err, errlen, "argument must be a power of two (got '%s')", value);
        return -1;
    }
    if (d->kind == K_INT)
        *(int *)field = (int)v;
    else if (d->kind == K_LL)
        *(long long *)field = v;
    else
        *(unsigned *)field = (unsigned)v;
    return 0;
}

static int set_mem(const struct cfg_desc *d, char *field, const char *value, char *err, size_t errlen)
{
    uint64_t v;
    if (cfg_parse_memory(value, &v) || v < (uint64_t)d->min || v > (uint64_t)d->max) {
        if (d->min > 0)
            snprintf(err, errlen, "argument must be a memory value like 512mb or 1gb "
                     "(units b, k, kb, m, mb, g, gb), at least %lld bytes (got '%s')", d->min, value);
        else
            snprintf(err, errlen, "argument must be a memory value like 512mb or 1gb "
                     "(units b, k, kb, m, mb, g, gb) (got '%s')", value);
        return -1;
    }
    if (d->kind == K_MEMLL)
        *(long long *)field = (long long)v;
    else
        *(uint64_t *)field = v;
    return 0;
}

static int set_addr(char *field, size_t cap, const char *value, char *err, size_t errlen)
{
    unsigned char a[sizeof(struct in6_addr)];
    if (strlen(value) >= cap ||
        (inet_pton(AF_INET, value, a) != 1 && inet_pton(AF_INET6, value, a) != 1)) {
        snprintf(err, errlen, "argument must be one IPv4 or IPv6 address, "
                 "e.g. 127.0.0.1, 0.0.0.0 or ::1 (got '%s')", value);
        return -1;
    }
    strcpy(field, value);
    return 0;
}

/* 0..1, as a plain decimal ("0.05", "1", ".5"); no exponents, no NaN. */
static int set_ratio(double *field, const char *value, char *err, size_t errlen)
{
    char *end;
    bool ok = (isdigit((unsigned char)value[0]) || value[0] == '.') &&
              strspn(value, "0123456789.") == strlen(value);
    errno = 0;
    double v = ok ? strtod(value, &end) : -1;
    if (!ok || errno || *end || !(v >= 0 && v <= 1)) {
        snprintf(err, errlen, "argument must be a number between 0 and 1, e.g. 0.05 (got '%s')",
                 value);
        return -1;
    }
    *field = v;
    return 0;
}

int cfg_set(struct cfg *c, const char *name, const char *value, char *err, size_t errlen)
{
    const struct cfg_desc *d = find(name);
    if (!d) {
        snprintf(err, errlen, "unknown setting '%s'", name);
        return -2;
    }
    char *field = (char *)c + d->off;
    char words[192];
    int i;
    switch (d->kind) {
    case K_ADDR:
        return set_addr(field, sizeof(c->bind), value, err, errlen);
    case K_INT:
    case K_UINT:
    case K_LL:
        return set_int(d, field, value, err, errlen);
    case K_MEM:
    case K_MEMLL:
        return set_mem(d, field, value, err, errlen);
    case K_POLICY:
        if ((i = cfg__pick(policy_names, CFG_POLICY_COUNT, value)) < 0) {
            join(words, sizeof(words), policy_names, CFG_POLICY_COUNT);
            snprintf(err, errlen, "argument must be one of the following: %s (got '%s')", words, value);
            return -1;
        }
        c->policy = (enum cfg_policy)i;
        return 0;
    case K_LOADER:
        return cfg__set_loader(c, value, err, errlen);
    case K_RATIO:
        return set_ratio((double *)(void *)field, value, err, errlen);
    case K_BUGS:
        return cfg_bugs_parse(value, &c->inject_bugs, err, errlen);
    case K_LEVER:
        if ((i = cfg__pick(lever_names, 3, value)) < 0) {
            join(words, sizeof(words), lever_names, 3);
            snprintf(err, errlen, "argument must be one of the following: %s (got '%s')", words, value);
            return -1;
        }
        *(enum cfg_lever *)(void *)field = (enum cfg_lever)i;
        return 0;
    case K_OBUF:
        return cfg__set_obuf(c, value, err, errlen);
    case K_PCTLS:
        return cfg__set_pctls(c, value, err, errlen);
    case K_STRING:
        if (strlen(value) > (size_t)d->max) {
            snprintf(err, errlen, "argument must be at most %lld bytes", d->max);
            return -1;
        }
        /* the whole field, so that equal settings are equal bytes */
        strncpy(field, value, (size_t)d->max + 1);
        return 0;
    case K_BOOL:
        if (strcasecmp(value, "yes") == 0)
            *(bool *)field = true;
        else if (strcasecmp(value, "no") == 0)
            *(bool *)field = false;
        else {
            snprintf(err, errlen, "argument must be 'yes' or 'no' (got '%s')", value);
            return -1;
        }
        return 0;
    case K_LOGLEVEL:
        if ((i = cfg__pick(level_names, 4, value)) < 0) {
            join(words, sizeof(words), level_names, 4);
            snprintf(err, errlen, "argument must be one of the following: %s (got '%s')", words, value);
            return -1;
        }
        c->loglevel = (enum cfg_loglevel)i;
        return 0;
    }
    return -1;
}

/* cfg_get and cfg_get_for_file: `file` writes sizes in units. */
static int get_value(const struct cfg *c, const char *name, char *buf, size_t cap, bool file)
{
    const struct cfg_desc *d = find(name);
    if (!d)
        return -1;
    const char *field = (const char *)c + d->off;
    switch (d->kind) {
    case K_ADDR: snprintf(buf, cap, "%s", field); break;
    case K_INT: snprintf(buf, cap, "%d", *(const int *)field); break;
    case K_UINT: snprintf(buf, cap, "%u", *(const unsigned *)field); break;
    case K_LL: snprintf(buf, cap, "%lld", *(const long long *)field); break;
    case K_MEM:
        if (file)
            cfg__format_size(*(const uint64_t *)field, buf, cap);
        else
            snprintf(buf, cap, "%" PRIu64, *(const uint64_t *)field);
        break;
    case K_MEMLL:   /* never negative: its minimum is 1 MB */
        if (file)
            cfg__format_size((uint64_t)*(const long long *)field, buf, cap);
        else
            snprintf(buf, cap, "%lld", *(const long long *)field);
        break;
    case K_POLICY: snprintf(buf, cap, "%s", policy_names[c->policy]); break;
    case K_LOGLEVEL: snprintf(buf, cap, "%s", level_names[c->loglevel]); break;
    case K_LOADER: cfg_loader_spec(c, buf, cap); break;
    case K_RATIO: snprintf(buf, cap, "%g", *(const double *)(const void *)field); break;
    case K_BUGS: cfg_bugs_format(c->inject_bugs, buf, cap); break;
    case K_BOOL: snprintf(buf, cap, "%s", *(const bool *)field ? "yes" : "no"); break;
    case K_LEVER:
        snprintf(buf, cap, "%s", lever_names[*(const enum cfg_lever *)(const void *)field]);
        break;
    case K_OBUF: cfg__obuf_format(c, buf, cap, file); break;
    case K_PCTLS: cfg__pctls_format(c, buf, cap); break;
    case K_STRING: snprintf(buf, cap, "%s", field); break;
    }
    return 0;
}

int cfg_get(const struct cfg *c, const char *name, char *buf, size_t cap)
{
    return get_value(c, name, buf, cap, false);
}

int cfg_get_for_file(const struct cfg *c, const char *name, char *buf, size_t cap)
{
    return get_value(c, name, buf, cap, true);
}

void cfg_usage(FILE *out)
{
    fprintf(out, "Usage: mmcache [FILE] [--config FILE] [--name value | --name=value]...\n\n"
            "Settings come from the defaults, then the config FILE, then the flags.\n"
            "kill -HUP reloads FILE (see mmcache.conf for every directive).\n\nSettings:\n");
    for (size_t i = 0; i < NDESC; i++)
        fprintf(out, "  --%-28s %s%s\n", descs[i].name, descs[i].help,
                descs[i].live ? "" : " [restart to change]");
    fprintf(out, "  --%-28s %s\n  --%-28s %s\n  --%-28s %s\n", "config FILE",
            "read settings from FILE (also: FILE as the first argument)",
            "help", "print this and exit", "version", "print the version and exit");
}

/* Is argv[i] the config file (first argument not a flag)? */
static bool is_positional_file(int argc, char **argv, int i)
{
    return i == 1 && i < argc && strncmp(argv[i], "--", 2) != 0 &&
           strcmp(argv[i], "-h") != 0 && strcmp(argv[i], "-v") != 0;
}

int cfg_args_file(int argc, char **argv, const char **path, char *err, size_t errlen)
{
    *path = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *p = NULL;
        if (is_positional_file(argc, argv, i))
            p = a;
        else if (strcasecmp(a, "--config") == 0) {
            if (i + 1 >= argc) {
                snprintf(err, errlen, "flag '--config' needs a value (a file)");
                return -1;
            }
            p = argv[++i];
        } else if (strncasecmp(a, "--config=", 9) == 0)
            p = a + 9;
        else if (strncmp(a, "--", 2) == 0 && !strchr(a, '='))
            i++;   /* skip this flag's value */
        if (!p)
            continue;
        if (*path) {
            snprintf(err, errlen, "more than one config file ('%s' and '%s')", *path, p);
            return -1;
        }
        if (!*p) {
            snprintf(err, errlen, "flag '--config' needs a value (a file)");
            return -1;
        }
        *path = p;
    }
    return 0;
}

int cfg_parse_args(struct cfg *c, int argc, char **argv, char *err, size_t errlen, int *exit_now)
{
    *exit_now = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            *exit_now = 1;
            return 0;
        }
        if (strcmp(a, "--version") == 0 || strcmp(a, "-v") == 0) {
            *exit_now = 2;
            return 0;
        }
        if (is_positional_file(argc, argv, i))
            continue;
        if (strncmp(a, "--", 2) != 0) {
            snprintf(err, errlen, "unexpected argument '%s' (settings are --name value; "
                     "a config file may only be the first argument)", a);
            return -1;
        }
        char name[64];
        const char *value;
        const char *eq = strchr(a + 2, '=');
        size_t nlen = eq ? (size_t)(eq - a - 2) : strlen(a + 2);
        if (nlen >= sizeof(name)) {
            snprintf(err, errlen, "unknown flag '%s'", a);
            return -1;
        }
        memcpy(name, a + 2, nlen);
        name[nlen] = 0;
        if (eq) {
            value = eq + 1;
        } else if (i + 1 < argc) {
            value = argv[++i];
        } else {
            snprintf(err, errlen, "flag '--%s' needs a value", name);
            return -1;
        }
        if (strcasecmp(name, "config") == 0)
            continue;   /* read by cfg_args_file */
        if (strcasecmp(name, "inject-bug") == 0 && strcasecmp(value, "list") == 0) {
            *exit_now = 3;
            return 0;
        }
        int persist = cfg_persist_index(name);
        if (persist >= 0) {
            c->persist_ignored |= 1u << persist;   /* `--save ""`: any value, never read */
            continue;
        }
        char e[CFG_ERRLEN];
        int rc = cfg_set(c, name, value, e, sizeof(e));
        if (rc == -2) {
            snprintf(err, errlen, "unknown flag '--%s' (mmcache --help lists them)", name);
            return -1;
        }
        if (rc) {
            snprintf(err, errlen, "flag --%s: %s", name, e);
            return -1;
        }
    }
    return 0;
}
