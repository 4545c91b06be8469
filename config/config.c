/*
 * Settings: defaults, validation, command-line flags, and the published
 * snapshot. One table describes every directive so that flags, CONFIG GET
 * and (later) the config file share one parser and one set of messages.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

enum cfg_kind { K_STR, K_INT, K_MEM, K_POLICY, K_LOGLEVEL };

struct cfg_desc {
    const char *name;
    enum cfg_kind kind;
    size_t off;            /* offsetof(struct cfg, field) */
    long long min, max;    /* K_INT / K_MEM bounds */
    const char *help;
};

#define F(field) offsetof(struct cfg, field)
static const struct cfg_desc descs[] = {
    {"bind", K_STR, F(bind), 0, 0, "address to listen on (IPv4 or IPv6)"},
    {"port", K_INT, F(port), 1, 65535, "TCP port"},
    {"threads", K_INT, F(threads), 1, 256, "worker threads (default: number of cores)"},
    {"shards", K_INT, F(shards), 1, 65536, "cache shards, a power of two"},
    {"maxmemory", K_MEM, F(maxmemory), 0, INT64_MAX, "memory limit for data (0 = none); k/kb/m/mb/g/gb"},
    {"maxmemory-policy", K_POLICY, F(policy), 0, 0, "allkeys-lru | volatile-lru | allkeys-random | noeviction"},
    {"maxclients", K_INT, F(maxclients), 1, 1000000, "maximum connected clients"},
    {"timeout", K_INT, F(timeout), 0, INT32_MAX, "close clients idle this many seconds (0 = never)"},
    {"loglevel", K_LOGLEVEL, F(loglevel), 0, 0, "debug | verbose | notice | warning"},
    {"client-query-buffer-limit", K_MEM, F(client_query_buffer_limit), 1024 * 1024, INT64_MAX, "max unparsed input per client"},
    {"client-output-buffer-limit", K_MEM, F(client_output_buffer_limit), 0, INT64_MAX, "max pending output per client (0 = none)"},
    {"proto-max-bulk-len", K_MEM, F(proto_max_bulk_len), 1024 * 1024, INT64_MAX, "max bulk string length in a request"},
    {"hz", K_INT, F(hz), 1, 500, "active expiry cycles per second"},
};
#undef F
#define NDESC (sizeof(descs) / sizeof(descs[0]))

const char *const cfg_names[] = {
    "bind", "port", "threads", "shards", "maxmemory", "maxmemory-policy",
    "maxclients", "timeout", "loglevel", "client-query-buffer-limit",
    "client-output-buffer-limit", "proto-max-bulk-len", "hz", NULL,
};

static const char *const policy_names[] = {"allkeys-lru", "volatile-lru", "allkeys-random", "noeviction"};
static const char *const level_names[] = {"debug", "verbose", "notice", "warning"};

const char *cfg_policy_name(enum cfg_policy p) { return policy_names[p]; }
const char *cfg_loglevel_name(enum cfg_loglevel l) { return level_names[l]; }

void cfg_defaults(struct cfg *c)
{
    memset(c, 0, sizeof(*c));
    strcpy(c->bind, "127.0.0.1");
    c->port = 6379;
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    c->threads = n > 0 ? (unsigned)n : 1;
    /* Many small shards: two workers running 10-key MSETs collide on a
     * shard lock far less often (64 shards: ~125k MSET/s from 2 workers,
     * 1024: ~225k), for ~170 KB more at idle. */
    c->shards = 1024;
    c->maxmemory = 0;
    c->policy = CFG_ALLKEYS_LRU;
    c->maxclients = 10000;
    c->timeout = 0;
    c->loglevel = CFG_LOG_NOTICE;
    c->client_query_buffer_limit = 1024ULL * 1024 * 1024;
    c->client_output_buffer_limit = 256ULL * 1024 * 1024;
    c->proto_max_bulk_len = 512LL * 1024 * 1024;
    c->hz = 10;
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

static int pick(const char *const *names, int n, const char *v)
{
    for (int i = 0; i < n; i++)
        if (strcasecmp(names[i], v) == 0)
            return i;
    return -1;
}

int cfg_set(struct cfg *c, const char *name, const char *value, char *err, size_t errlen)
{
    const struct cfg_desc *d = find(name);
    if (!d) {
        snprintf(err, errlen, "unknown setting '%s'", name);
        return -1;
    }
    char *field = (char *)c + d->off;
    switch (d->kind) {
    case K_STR:
        if (strlen(value) == 0 || strlen(value) >= sizeof(c->bind)) {
            snprintf(err, errlen, "'%s': bad value '%s' (%s)", d->name, value, d->help);
            return -1;
        }
        strcpy(field, value);
        return 0;
    case K_INT: {
        char *end;
        errno = 0;
        long long v = strtoll(value, &end, 10);
        if (errno || end == value || *end || v < d->min || v > d->max) {
            snprintf(err, errlen, "'%s': bad value '%s' (an integer from %lld to %lld: %s)",
                     d->name, value, d->min, d->max, d->help);
            return -1;
        }
        if (strcmp(d->name, "shards") == 0 && (v & (v - 1))) {
            snprintf(err, errlen, "'shards': bad value '%s' (must be a power of two)", value);
            return -1;
        }
        if (strcmp(d->name, "port") == 0)
            *(int *)field = (int)v;
        else
            *(unsigned *)field = (unsigned)v;
        return 0;
    }
    case K_MEM: {
        uint64_t v;
        if (cfg_parse_memory(value, &v) || v < (uint64_t)d->min || v > (uint64_t)d->max) {
            snprintf(err, errlen, "'%s': bad value '%s' (%s, at least %lld)", d->name, value,
                     d->help, d->min);
            return -1;
        }
        if (d->off == offsetof(struct cfg, proto_max_bulk_len))
            *(long long *)field = (long long)v;
        else
            *(uint64_t *)field = v;
        return 0;
    }
    case K_POLICY: {
        int p = pick(policy_names, 4, value);
        if (p < 0) {
            snprintf(err, errlen, "'%s': bad value '%s' (%s)", d->name, value, d->help);
            return -1;
        }
        c->policy = (enum cfg_policy)p;
        return 0;
    }
    case K_LOGLEVEL: {
        int l = pick(level_names, 4, value);
        if (l < 0) {
            snprintf(err, errlen, "'%s': bad value '%s' (%s)", d->name, value, d->help);
            return -1;
        }
        c->loglevel = (enum cfg_loglevel)l;
        return 0;
    }
    }
    return -1;
}

int cfg_get(const struct cfg *c, const char *name, char *buf, size_t cap)
{
    const struct cfg_desc *d = find(name);
    if (!d)
        return -1;
    const char *field = (const char *)c + d->off;
    switch (d->kind) {
    case K_STR: snprintf(buf, cap, "%s", field); break;
    case K_INT:
        if (strcmp(d->name, "port") == 0)
            snprintf(buf, cap, "%d", *(const int *)field);
        else
            snprintf(buf, cap, "%u", *(const unsigned *)field);
        break;
    case K_MEM:
        if (d->off == offsetof(struct cfg, proto_max_bulk_len))
            snprintf(buf, cap, "%lld", *(const long long *)field);
        else
            snprintf(buf, cap, "%" PRIu64, *(const uint64_t *)field);
        break;
    case K_POLICY: snprintf(buf, cap, "%s", policy_names[c->policy]); break;
    case K_LOGLEVEL: snprintf(buf, cap, "%s", level_names[c->loglevel]); break;
    }
    return 0;
}

void cfg_usage(FILE *out)
{
    fprintf(out, "Usage: mmcache [--name value | --name=value]...\n\nSettings:\n");
    for (size_t i = 0; i < NDESC; i++)
        fprintf(out, "  --%-28s %s\n", descs[i].name, descs[i].help);
    fprintf(out, "  --%-28s %s\n  --%-28s %s\n", "help", "print this and exit",
            "version", "print the version and exit");
}

int cfg_parse_args(struct cfg *c, int argc, char **argv, char *err, size_t errlen, int *exit_now)
{
    *exit_now = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            cfg_usage(stdout);
            *exit_now = 1;
            return 0;
        }
        if (strcmp(a, "--version") == 0 || strcmp(a, "-v") == 0) {
            *exit_now = 2;
            return 0;
        }
        if (strncmp(a, "--", 2) != 0) {
            snprintf(err, errlen, "unexpected argument '%s' (settings are --name value)", a);
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
        char e[256];
        if (cfg_set(c, name, value, e, sizeof(e))) {
            snprintf(err, errlen, "flag --%s: %s", name, e);
            return -1;
        }
    }
    return 0;
}

/* The published snapshot. Until reload exists it is written once by
 * cfg_publish() on the main thread before any worker is created;
 * pthread_create orders that write before every reader. The pointer is
 * still an atomic with release/acquire so that reload can reuse it.
 * atomic: release in cfg_publish, pairs with the acquire in cfg_current. */
static _Atomic(struct cfg *) current;

const struct cfg *cfg_current(void)
{
    return atomic_load_explicit(&current, memory_order_acquire);
}

int cfg_publish(const struct cfg *c)
{
    struct cfg *n = malloc(sizeof(*n));
    if (!n)
        return -ENOMEM;
    *n = *c;
    struct cfg *old = atomic_load_explicit(&current, memory_order_relaxed);
    n->generation = old ? old->generation + 1 : 1;
    atomic_store_explicit(&current, n, memory_order_release);
    /* Reclaiming `old` needs a grace period (the reload issue brings RCU);
     * with one publish at start-up there is no old snapshot to free. */
    return 0;
}
