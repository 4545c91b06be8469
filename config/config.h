/*
 * config: the server's settings, their defaults and validation.
 *
 * Today settings come from command-line flags (defaults < flags) and are
 * fixed after start-up: main() builds one struct cfg, validates it and
 * publishes it with cfg_publish() before any worker starts; from then on it
 * is immutable and every thread reads it through cfg_current(). The
 * RCU-style reload (file, SIGHUP, CONFIG SET) will publish new snapshots
 * through the same two calls.
 *
 * Knows nothing of sockets or the cache.
 */
#ifndef MMCACHE_CONFIG_H
#define MMCACHE_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum cfg_policy { CFG_ALLKEYS_LRU = 0, CFG_VOLATILE_LRU, CFG_ALLKEYS_RANDOM, CFG_NOEVICTION };
enum cfg_loglevel { CFG_LOG_DEBUG = 0, CFG_LOG_VERBOSE, CFG_LOG_NOTICE, CFG_LOG_WARNING };

struct cfg {
    uint64_t generation;            /* 1 for the first snapshot */
    /* fixed at start-up */
    char bind[64];
    int port;
    unsigned threads;
    unsigned shards;
    /* may change live once reload exists */
    uint64_t maxmemory;             /* bytes, 0 = unlimited */
    enum cfg_policy policy;
    unsigned maxclients;
    unsigned timeout;               /* idle seconds, 0 = never */
    enum cfg_loglevel loglevel;
    uint64_t client_query_buffer_limit;   /* bytes */
    uint64_t client_output_buffer_limit;  /* bytes pending per client, 0 = none */
    long long proto_max_bulk_len;
    unsigned hz;                    /* active expiry cycles per second */
};

void cfg_defaults(struct cfg *c);

/*
 * Apply command-line flags (`--port 7000`, `--port=7000`) to c.
 * Returns 0, or -1 with a message naming the flag and what is allowed in
 * err. Flags that only print (`--help`, `--version`) set *exit_now.
 */
int cfg_parse_args(struct cfg *c, int argc, char **argv, char *err,
                   size_t errlen, int *exit_now);

/* One directive by name (also CONFIG GET's names): 0, or -1 with err. */
int cfg_set(struct cfg *c, const char *name, const char *value, char *err,
            size_t errlen);

/* Write the value of directive `name` into buf as CONFIG GET shows it.
 * Returns -1 for unknown names. */
int cfg_get(const struct cfg *c, const char *name, char *buf, size_t cap);
/* Directive names in canonical order, NULL-terminated (for CONFIG GET *). */
extern const char *const cfg_names[];

/* "512mb" / "1gb" / "100k" / "42": Redis's memory units. 0 or -1. */
int cfg_parse_memory(const char *s, uint64_t *out);
const char *cfg_policy_name(enum cfg_policy p);
const char *cfg_loglevel_name(enum cfg_loglevel l);

/*
 * The current snapshot. cfg_publish() copies *c, stamps a generation and
 * makes it current; until reload exists it is called once, before threads
 * start (the thread creation orders it before every reader).
 * Context: cfg_current from any thread; cfg_publish from the main thread.
 */
const struct cfg *cfg_current(void);
int cfg_publish(const struct cfg *c);

void cfg_usage(FILE *out);

#endif
