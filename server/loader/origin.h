/*
 * Origins: where a cache miss is loaded from (the `loader` directive).
 * Each kind is a small module behind this one interface (origin_synthetic.c,
 * origin_redis.c, origin_file.c), so another kind (HTTP, SQL) is one more
 * file and one line in origin.c's table; the cache and the singleflight
 * never see an origin.
 *
 * An origin is created from the config's `loader` spec, shared by the
 * loader threads (load may run on several threads at once: each kind
 * guards its own shared state), reference counted, and destroyed when the
 * last load using it returns after a reload replaced it.
 *
 * Loads block (they run on the loader pool, never on a worker's loop), but
 * each is bounded: it returns by `deadline_ms` (CLOCK_MONOTONIC ms, see
 * origin_now_ms) with ORIGIN_ERROR "timeout" at worst, and sooner when
 * *cancel becomes true (shutdown). Two limits to that, both in
 * origin_redis.c: a connect does not watch *cancel (the deadline still
 * ends it), and resolving a host name (getaddrinfo) watches neither.
 *
 * The redis kind writes to sockets with write(2): the process must ignore
 * SIGPIPE (main.c does).
 */
#ifndef MMCACHE_ORIGIN_H
#define MMCACHE_ORIGIN_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"

enum origin_rc {
    ORIGIN_VALUE = 0,       /* out->data/len hold the value */
    ORIGIN_NOTFOUND,        /* the origin has no such key: a miss */
    ORIGIN_ERROR,           /* out->err says why ("connection refused") */
};

/* What a load returns. With ORIGIN_VALUE, data is malloc'd by the origin
 * and owned by the caller afterwards (free it; it may be non-NULL with
 * len 0); otherwise data is NULL and len 0. err is "" unless ORIGIN_ERROR,
 * then a message without the "loader: " prefix, at most ORIGIN_ERRLEN-1
 * bytes, naming the origin where it helps ("redis 10.0.0.5:6379: timeout").
 * err is for the server's log: it may name paths and addresses, and tells
 * a refused connection from a reset one. A client is told `pub` instead, a
 * static text that says nothing of the server ("value too large",
 * "synthetic error"), or when NULL that the origin failed. */
#define ORIGIN_ERRLEN 256
struct origin_result {
    char *data;
    size_t len;
    char err[ORIGIN_ERRLEN];
    const char *pub;
};

/* The settings of one load, copied from the request's config snapshot by
 * the worker that started it (so a load never reads a snapshot). */
struct origin_params {
    int64_t deadline_ms;          /* origin_now_ms() clock */
    unsigned synthetic_latency_ms;
    unsigned synthetic_value_size;
    double synthetic_error_rate;  /* 0..1 */
    uint64_t max_value_len;       /* larger values are an error, "value too
                                     large (N bytes)", found out before they are
                                     read whole; 0 allows only "" */
};

struct origin;

struct origin_ops {
    const char *kind;             /* "synthetic", "redis", "file": cfg_loader_name's */
    /* Build from the spec's argument (e.g. "127.0.0.1:6380", "/srv/data";
     * "" when none, never NULL). No network I/O here (a redis origin
     * connects on its first load). Returns the kind's struct, zeroed head
     * first: origin_create fills the head. NULL with err on failure. */
    struct origin *(*create)(const char *arg, uint64_t epoch, char *err, size_t errlen);
    enum origin_rc (*load)(struct origin *o, const char *key, size_t klen,
                           const struct origin_params *p,
                           const _Atomic bool *cancel,
                           struct origin_result *out);
    void (*destroy)(struct origin *o);
};

/* Common head of every origin; each kind embeds it first. */
struct origin {
    const struct origin_ops *ops;   /* immutable */
    enum cfg_loader kind;           /* immutable */
    char spec[CFG_LOADER_ARGLEN + 16];   /* immutable: "redis 127.0.0.1:6380", "synthetic":
                                            ops->kind, then " arg" unless arg is "" */
    uint64_t epoch;                 /* immutable: config generation it was built for */
    _Atomic unsigned refs;          /* atomic: relaxed on get (the caller holds one);
                                       acq_rel on put (last one frees) */
};

/* Create an origin for kind/arg. epoch is stamped into synthetic values
 * ("key:<key>:v<epoch>"). refs starts at 1. NULL with err on failure;
 * CFG_LOADER_NONE has no origin (NULL, err ""). Context: any thread. */
struct origin *origin_create(enum cfg_loader kind, const char *arg,
                             uint64_t epoch, char *err, size_t errlen);
/* Take / drop a reference; the put that drops the last one destroys o
 * (closing a redis kind's pooled connections). origin_put(NULL) does
 * nothing. Context: any thread holding a reference; get never blocks, the
 * last put may close sockets. */
void origin_get(struct origin *o);
void origin_put(struct origin *o);

/* Run one load (see struct origin_ops). Checked here for every kind: on
 * entry, ORIGIN_ERROR "cancelled" if *cancel is set and "timeout" if
 * deadline_ms is reached (the kind is not called); on return, a value
 * longer than max_value_len becomes "value too large (N bytes)" and is
 * freed. cancel may
 * be NULL (never cancelled); it is read with acquire loads, so set it with
 * a release store. Context: any thread holding a reference; blocks up to
 * deadline_ms. */
enum origin_rc origin_load(struct origin *o, const char *key, size_t klen,
                           const struct origin_params *p,
                           const _Atomic bool *cancel, struct origin_result *out);
/* origin_load with a kind's code given by the caller: `ops` must be
 * o->ops, the code of o's own kind (which is what origin_load uses). The
 * loader passes the ops it took with o (bug 19 passes another kind's). */
enum origin_rc origin_load_as(const struct origin_ops *ops, struct origin *o,
                              const char *key, size_t klen,
                              const struct origin_params *p,
                              const _Atomic bool *cancel, struct origin_result *out);
/* The code of a kind; NULL for CFG_LOADER_NONE or an unknown kind. */
const struct origin_ops *origin_kind_ops(enum cfg_loader kind);

/* CLOCK_MONOTONIC in ms, the clock of deadline_ms. */
int64_t origin_now_ms(void);

/* Sleep up to ms, in short slices (10 ms), returning early (false) when
 * *cancel becomes true (already true: at once, even for ms <= 0); true
 * when the full time passed. cancel may be NULL. For origins that wait. */
bool origin_sleep_ms(int64_t ms, const _Atomic bool *cancel);

/* Is key safe as a file name inside a directory: 1..255 bytes of
 * [A-Za-z0-9._-], not "." or "..", not starting with '.'. */
bool origin_key_is_safe_filename(const char *key, size_t klen);

/* The kinds, defined by their own files. */
extern const struct origin_ops origin_synthetic_ops;
extern const struct origin_ops origin_redis_ops;
extern const struct origin_ops origin_file_ops;

#endif
