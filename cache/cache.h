/*
 * cache: a sharded hash table of binary-safe string items with TTLs, a
 * per-shard LRU, per-shard locks, memory accounting and eviction.
 *
 * Knows nothing of sockets, RESP or config files. Every operation takes
 * plain values and returns plain values; time is passed in by the caller as
 * absolute Unix milliseconds (`now`), which keeps expiry deterministic in
 * tests. Values are copied out into caller-owned buffers while the shard
 * lock is held, so no item pointer ever leaves the module.
 *
 * Thread safety: every function may be called from any thread at any time
 * unless its Context line says otherwise. Locks never leave the module and
 * no caller code runs under a shard lock. Lock order: docs/locking.md.
 */
#ifndef MMCACHE_CACHE_H
#define MMCACHE_CACHE_H

#include <stddef.h>
#include <stdint.h>

struct cache;

enum cache_policy {
    CACHE_ALLKEYS_LRU = 0,   /* default for a cache */
    CACHE_VOLATILE_LRU,
    CACHE_ALLKEYS_RANDOM,
    CACHE_NOEVICTION,
};

/* Results. Non-negative: outcomes; negative: errors. */
enum cache_rc {
    CACHE_OK = 0,
    CACHE_NOTFOUND = 1,     /* no such key (or it had expired) */
    CACHE_NOTSET = 2,       /* a condition (NX, XX, GT, LT, ...) was not met */
    CACHE_E_NOMEM = -1,     /* malloc failed: nothing changed */
    CACHE_E_OOM = -2,       /* over maxmemory and the policy cannot make room */
    CACHE_E_NOTINT = -3,    /* value is not an integer or out of range */
    CACHE_E_OVERFLOW = -4,  /* increment or decrement would overflow */
    CACHE_E_NOTFLOAT = -5,  /* value is not a valid float */
    CACHE_E_NANINF = -6,    /* increment would produce NaN or Infinity */
    CACHE_E_TOOBIG = -7,    /* string exceeds maximum allowed size */
};

#define CACHE_MAX_STRING (512ULL * 1024 * 1024)

struct cache_opts {
    unsigned nshards;          /* power of two, 1..65536 */
    uint64_t maxmemory;        /* bytes, 0 = unlimited */
    enum cache_policy policy;
    uint64_t seed;             /* hash seed; 0 = pick a random one */
};

/* A caller-owned growable buffer that the cache copies values into.
 * Zero-initialise; the cache grows it with realloc; the caller frees data. */
struct cache_val {
    char *data;
    size_t len;
    size_t cap;
};

/* A caller-owned list of keys: packed as [uint32_t len][bytes] records. */
struct cache_keys {
    char *buf;
    size_t len, cap;
    size_t count;
};
/* Iterate: pos starts at 0; returns NULL at the end. */
const char *cache_keys_next(const struct cache_keys *k, size_t *pos, size_t *klen);
void cache_keys_free(struct cache_keys *k);

struct cache *cache_create(const struct cache_opts *o);   /* NULL on ENOMEM/EINVAL */
void cache_destroy(struct cache *c);   /* Context: no other thread uses c */

/* Live limits (config reload). If the new maxmemory is below the current
 * use, evicts down to it (per policy) before returning. */
void cache_set_limits(struct cache *c, uint64_t maxmemory, enum cache_policy policy);

/* True when a maxmemory is set and memory use is over it, by the same
 * conservative estimate the write path uses (it may say "over" up to about
 * 1/64 of maxmemory early, never late). One relaxed load: cheap enough to
 * ask before every write command (Redis's denyoom rule under noeviction). */
int cache_over_maxmemory(struct cache *c);

/* ---- Single-key operations ---------------------------------------------- */

int cache_get(struct cache *c, const char *key, size_t klen, int64_t now,
              struct cache_val *out);                       /* OK / NOTFOUND */

#define CACHE_SET_NX      0x01
#define CACHE_SET_XX      0x02
#define CACHE_SET_KEEPTTL 0x04
#define CACHE_SET_GET     0x08   /* copy the old value into *old */
/* expire_at: absolute ms, 0 = no TTL (ignored with KEEPTTL). An expire_at
 * <= now stores nothing and deletes the key (Redis's behaviour for a past
 * EXAT/PXAT). With CACHE_SET_GET, *old_found tells whether an old value
 * existed and old holds it. Returns OK, NOTSET (NX/XX not met), E_OOM, E_NOMEM. */
int cache_set(struct cache *c, const char *key, size_t klen,
              const char *val, size_t vlen, int flags, int64_t expire_at,
              int64_t now, struct cache_val *old, int *old_found);

int cache_getdel(struct cache *c, const char *key, size_t klen, int64_t now,
                 struct cache_val *out);                    /* OK / NOTFOUND */

enum cache_getex_mode { CACHE_GETEX_KEEP = 0, CACHE_GETEX_EXPIRE, CACHE_GETEX_PERSIST };
int cache_getex(struct cache *c, const char *key, size_t klen, int mode,
                int64_t expire_at, int64_t now, struct cache_val *out);

/* INCRBY/DECRBY: a missing key counts as 0; the TTL is kept. */
int cache_incr(struct cache *c, const char *key, size_t klen, long long delta,
               int64_t now, long long *result);
/* INCRBYFLOAT: result formatted as Redis does into buf. "%.17Lf" of a
 * large long double is long (1e400 has 401 digits), so pass
 * cap >= CACHE_LD_MAX_CHARS; a smaller buffer that cannot hold the result
 * gets CACHE_E_TOOBIG with nothing changed. */
#define CACHE_LD_MAX_CHARS 5120   /* Redis's MAX_LONG_DOUBLE_CHARS */
int cache_incrbyfloat(struct cache *c, const char *key, size_t klen,
                      long double delta, int64_t now, char *buf, size_t cap,
                      size_t *reslen);
int cache_append(struct cache *c, const char *key, size_t klen,
                 const char *val, size_t vlen, int64_t now, size_t *newlen);
int cache_strlen(struct cache *c, const char *key, size_t klen, int64_t now,
                 size_t *len);                               /* missing: OK, 0 */
/* GETRANGE with Redis's negative-index rules; missing key: OK, empty. */
int cache_getrange(struct cache *c, const char *key, size_t klen,
                   long long start, long long end, int64_t now,
                   struct cache_val *out);
/* SETRANGE: zero-pads; a missing key with an empty val is not created. */
int cache_setrange(struct cache *c, const char *key, size_t klen,
                   size_t offset, const char *val, size_t vlen, int64_t now,
                   size_t *newlen);

#define CACHE_EXP_NX 0x01   /* only if no TTL */
#define CACHE_EXP_XX 0x02   /* only if a TTL */
#define CACHE_EXP_GT 0x04   /* only if greater (no TTL counts as infinite) */
#define CACHE_EXP_LT 0x08   /* only if less */
/* EXPIRE family with absolute expire_at (ms). An expire_at <= now deletes
 * the key. OK (set or deleted) / NOTFOUND / NOTSET (condition failed). */
int cache_expire(struct cache *c, const char *key, size_t klen,
                 int64_t expire_at, int flags, int64_t now);
int cache_persist(struct cache *c, const char *key, size_t klen,
                  int64_t now);          /* OK removed / NOTSET had none / NOTFOUND */
/* OK with *expire_at = 0 for no TTL, or NOTFOUND. */
int cache_ttl(struct cache *c, const char *key, size_t klen, int64_t now,
              int64_t *expire_at);
int cache_del(struct cache *c, const char *key, size_t klen, int64_t now);
int cache_exists(struct cache *c, const char *key, size_t klen, int64_t now);
int cache_touch(struct cache *c, const char *key, size_t klen, int64_t now);  /* exists + LRU bump */
/* Bytes the key's item takes (allocator usable size). */
int cache_memory_usage(struct cache *c, const char *key, size_t klen,
                       int64_t now, size_t *bytes);

/* ---- Multi-key operations (atomic: shards locked in index order) -------- */

/* RENAME / RENAMENX (nx=1): NOTFOUND if src missing, NOTSET if nx and dst
 * exists. The TTL moves with the value. src == dst: OK (NOTSET with nx). */
int cache_rename(struct cache *c, const char *src, size_t slen,
                 const char *dst, size_t dlen, int nx, int64_t now);
/* COPY: NOTFOUND if src missing, NOTSET if dst exists and !replace. */
int cache_copy(struct cache *c, const char *src, size_t slen,
               const char *dst, size_t dlen, int replace, int64_t now);

struct cache_kv {
    const char *key; size_t klen;
    const char *val; size_t vlen;
};
/* MSET (nx=0) / MSETNX (nx=1: NOTSET and nothing written if any exists).
 * All pairs become visible together. Clears TTLs like SET. */
int cache_mset(struct cache *c, const struct cache_kv *kv, size_t n, int nx,
               int64_t now);

/* ---- Whole-keyspace operations ------------------------------------------ */

uint64_t cache_dbsize(struct cache *c);     /* live keys (may include not yet reaped expired ones) */
void cache_flush(struct cache *c);
int cache_randomkey(struct cache *c, int64_t now, struct cache_val *out);  /* OK / NOTFOUND */
/* All live keys, shard by shard (each shard copied under its lock). */
int cache_keys(struct cache *c, int64_t now, struct cache_keys *out);
/* SCAN: returns the next cursor (0 = done). Guarantees every key present
 * for the whole scan is returned at least once, across resizes (Redis's
 * reverse-binary cursor, per shard; low bits of the cursor pick the shard).
 * Visits about `count` buckets' worth of keys. */
uint64_t cache_scan(struct cache *c, uint64_t cursor, size_t count,
                    int64_t now, struct cache_keys *out, int *err);

/* Active expiry: sample up to `samples` TTL'd keys in each shard of
 * [first, first+n) and delete those that are past due, holding each shard
 * lock only for a bounded batch. Returns how many were deleted. */
uint64_t cache_active_expire(struct cache *c, unsigned first, unsigned n,
                             unsigned samples, int64_t now);
unsigned cache_nshards(const struct cache *c);

struct cache_stats {
    uint64_t keys;          /* items in the table */
    uint64_t expires;       /* items with a TTL */
    uint64_t used_memory;   /* sum of usable sizes of items and tables */
    uint64_t maxmemory;
    uint64_t evicted_keys;
    uint64_t expired_keys;  /* lazy + active */
    uint64_t lock_waits;    /* shard lock acquisitions that had to wait */
};
/* Sums per-shard counters; each read is atomic, so each field only grows
 * (or shrinks, for sizes) by what happened, never tears. */
void cache_stats(struct cache *c, struct cache_stats *st);

#endif
