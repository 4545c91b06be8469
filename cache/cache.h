/*
 * cache: a sharded hash table of typed values (strings, hashes; lists,
 * sets and sorted sets to come) with TTLs, a per-shard LRU, per-shard
 * locks, memory accounting, eviction and a lazy-free thread.
 *
 * Knows nothing of sockets, RESP or config files. Every operation takes
 * plain values and returns plain values; time is passed in by the caller as
 * absolute Unix milliseconds (`now`), which keeps expiry deterministic in
 * tests. Values are copied out into caller-owned buffers while the shard
 * lock is held, so no item pointer ever leaves the module. A collection
 * command asks for a plain result ("the fields and values of hash K") and
 * gets plain strings back (struct cache_keys). Value model, encodings and
 * memory rules: docs/types.md.
 *
 * Thread safety: every function may be called from any thread at any time
 * unless its Context line says otherwise. Locks never leave the module and
 * no caller code runs under a shard lock. Lock order: docs/locking.md.
 */
#ifndef MMCACHE_CACHE_H
#define MMCACHE_CACHE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct cache;

enum cache_policy {
    CACHE_ALLKEYS_LRU = 0,   /* default for a cache */
    CACHE_VOLATILE_LRU,
    CACHE_ALLKEYS_RANDOM,
    CACHE_NOEVICTION,
    CACHE_ALLKEYS_LFU,       /* the lowest access frequency among sampled keys */
    CACHE_VOLATILE_LFU,      /* the same among keys with a TTL */
    CACHE_VOLATILE_RANDOM,   /* a random key with a TTL */
    CACHE_VOLATILE_TTL,      /* the soonest to expire among sampled keys with a TTL */
};

/* Results. Non-negative: outcomes; negative: errors. */
enum cache_rc {
    CACHE_OK = 0,
    CACHE_NOTFOUND = 1,     /* no such key (or it had expired) */
    CACHE_NOTSET = 2,       /* a condition (NX, XX, GT, LT, ...) was not met */
    CACHE_NOELEM = 3,       /* the key exists, the element (a field) does not */
    CACHE_E_NOMEM = -1,     /* malloc failed: nothing changed */
    CACHE_E_OOM = -2,       /* over maxmemory and the policy cannot make room */
    CACHE_E_NOTINT = -3,    /* value is not an integer or out of range */
    CACHE_E_OVERFLOW = -4,  /* increment or decrement would overflow */
    CACHE_E_NOTFLOAT = -5,  /* value is not a valid float */
    CACHE_E_NANINF = -6,    /* increment would produce NaN or Infinity */
    CACHE_E_TOOBIG = -7,    /* string exceeds maximum allowed size */
    CACHE_E_WRONGTYPE = -8, /* the key holds another type: nothing changed */
    CACHE_E_NAN = -9,       /* a score would be NaN (inf + -inf): nothing changed */
};

/* The type a key holds, numbered as Redis's OBJ_* (TYPE, SCAN TYPE). */
enum cache_type {
    CACHE_TYPE_STRING = 0,
    CACHE_TYPE_LIST = 1,
    CACHE_TYPE_SET = 2,
    CACHE_TYPE_ZSET = 3,
    CACHE_TYPE_HASH = 4,
    CACHE_TYPE_COUNT
};
/* HLEN, LLEN, SCARD, ZCARD: the number of elements of the collection at
 * key if it holds `type` (enum cache_type, not a string). OK /
 * NOTFOUND (*n 0) / WRONGTYPE. */
int cache_card(struct cache *c, int type, const char *key, size_t klen, int64_t now,
               uint64_t *n);
/* "string", "list", "set", "zset", "hash"; "none" for anything else. */
const char *cache_type_name(int type);
/* The type named s (any case), or -1. */
int cache_type_from_name(const char *s, size_t len);

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

/* A caller-owned list of byte strings copied out of the cache: keys (KEYS,
 * SCAN) or a collection's elements (fields and values alternating for
 * HGETALL), packed as [uint32_t len][bytes] records. A missing element
 * (HMGET of an absent field) is a record of length CACHE_KEYS_NIL. */
struct cache_keys {
    char *buf;
    size_t len, cap;
    size_t count;
};
#define CACHE_KEYS_NIL UINT32_MAX
/* Iterate: pos starts at 0; returns NULL at the end. A nil record gives
 * a non-NULL pointer and *klen == CACHE_KEYS_NIL. */
const char *cache_keys_next(const struct cache_keys *k, size_t *pos, size_t *klen);
void cache_keys_free(struct cache_keys *k);

struct cache *cache_create(const struct cache_opts *o);   /* NULL on ENOMEM/EINVAL */
void cache_destroy(struct cache *c);   /* Context: no other thread uses c */

/* Live limits (config reload). If the new maxmemory is below the current
 * use, evicts down to it (per policy, idle times and LFU counters as of
 * `now`, the caller's clock like every other call's) before returning. */
void cache_set_limits(struct cache *c, uint64_t maxmemory, enum cache_policy policy,
                      int64_t now);

/* The LFU counter's settings (Redis's lfu-log-factor, lfu-decay-time) and
 * how many keys the sampling policies (the LFU ones, volatile-ttl) weigh
 * per eviction (maxmemory-samples, used up to CACHE_EVICT_SAMPLES_MAX).
 * Context: any thread; relaxed stores, a racing eviction uses either. */
#define CACHE_EVICT_SAMPLES_MAX 64
void cache_set_lfu(struct cache *c, int log_factor, int decay_minutes, int samples);

/* OBJECT: how key is kept, without counting as an access. */
struct cache_object_info {
    int type;                /* enum cache_type */
    const char *encoding;    /* OBJECT ENCODING's name, a static string */
    uint64_t idle_ms;        /* since the last access (1 s resolution: lru.c) */
    unsigned freq;           /* the LFU counter, decayed to now (0..255) */
};
/* OK with *o filled, or NOTFOUND. Context: any thread; takes key's shard lock. */
int cache_object(struct cache *c, const char *key, size_t klen, int64_t now,
                 struct cache_object_info *o);
/* Whether the policy keeps LFU counters (OBJECT FREQ answers, IDLETIME not). */
int cache_policy_is_lfu(enum cache_policy p);

/* Thresholds of the compact encodings (Redis's directives of the same
 * names, docs/types.md). A collection converts to its large encoding when
 * it grows past them; a change applies to the next write of each key.
 * Context: any thread; relaxed stores, an operation racing a change uses
 * either value. */
struct cache_type_limits {
    uint64_t hash_max_listpack_entries;   /* 128 */
    uint64_t hash_max_listpack_value;     /* 64 bytes */
    uint64_t set_max_intset_entries;      /* 512 */
    uint64_t set_max_listpack_entries;    /* 128 */
    uint64_t set_max_listpack_value;      /* 64 */
    int64_t list_max_listpack_size;       /* -2: 8 KiB per node; n > 0: entries */
    uint64_t zset_max_listpack_entries;   /* 128 */
    uint64_t zset_max_listpack_value;     /* 64 */
};
void cache_type_limits_default(struct cache_type_limits *l);
void cache_set_type_limits(struct cache *c, const struct cache_type_limits *l);

/* Which deletes of a large value (more than 64 allocations to free) run
 * on the lazy-free thread instead of the deleting thread: Redis's
 * lazyfree-lazy-* settings. UNLINK and cache_flush(async) always do.
 * Either way a large value is freed after its shard lock is released, so
 * it never stalls other clients of the shard. */
#define CACHE_LAZY_EVICTION   0x01   /* lazyfree-lazy-eviction */
#define CACHE_LAZY_EXPIRE     0x02   /* lazyfree-lazy-expire */
#define CACHE_LAZY_SERVER_DEL 0x04   /* lazyfree-lazy-server-del: overwrites */
#define CACHE_LAZY_USER_DEL   0x08   /* lazyfree-lazy-user-del: DEL */
void cache_set_lazyfree(struct cache *c, unsigned flags);

/* True when a maxmemory is set and memory use is over it, by the same
 * conservative estimate the write path uses (it may say "over" up to about
 * 1/64 of maxmemory early, never late). One relaxed load: cheap enough to
 * ask before every write command (Redis's denyoom rule under noeviction). */
int cache_over_maxmemory(struct cache *c);

/* How long the calling thread spent evicting (nanoseconds) since its last
 * call, then 0 again: every eviction adds its time to a counter owned by
 * the thread that evicts (thread-local: no synchronisation), so a server
 * reads it after a command to learn what that command's writes spent
 * making room (LATENCY's eviction-cycle). The clock is read only by a
 * write that evicts; the common path costs this one thread-local load.
 * Own-shard victims too big to free under the lock (lazyfree.c) are freed
 * after the write's unlock and not counted. Context: any thread. */
extern _Thread_local uint64_t cache__evict_ns;   /* owned by: its thread */
static inline uint64_t cache_evict_ns_take(void)
{
    uint64_t ns = cache__evict_ns;

    if (ns)
        cache__evict_ns = 0;
    return ns;
}

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
/* APPEND: E_TOOBIG when the result would pass max bytes (the caller's
 * proto-max-bulk-len; never more than CACHE_MAX_STRING). A missing key is
 * created, even with an empty val. */
int cache_append_max(struct cache *c, const char *key, size_t klen,
                     const char *val, size_t vlen, size_t max, int64_t now,
                     size_t *newlen);
static inline int cache_append(struct cache *c, const char *key, size_t klen,
                               const char *val, size_t vlen, int64_t now,
                               size_t *newlen)
{
    return cache_append_max(c, key, klen, val, vlen, CACHE_MAX_STRING, now, newlen);
}
int cache_strlen(struct cache *c, const char *key, size_t klen, int64_t now,
                 size_t *len);                     /* missing: NOTFOUND, 0 */
/* GETRANGE with Redis's negative-index rules; missing key: NOTFOUND,
 * empty. */
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
/* UNLINK: as DEL, but a large value is always freed by the lazy-free
 * thread. */
int cache_unlink(struct cache *c, const char *key, size_t klen, int64_t now);
/* TYPE / OBJECT ENCODING: OK with *type (enum cache_type) and *encoding
 * (Redis's name: "listpack", "hashtable", ...; a static string), or
 * NOTFOUND. Either pointer may be NULL. */
int cache_type(struct cache *c, const char *key, size_t klen, int64_t now,
               int *type, const char **encoding);
int cache_exists(struct cache *c, const char *key, size_t klen, int64_t now);
int cache_touch(struct cache *c, const char *key, size_t klen, int64_t now);  /* exists + LRU bump */
/* Bytes the key takes: its item and everything its value owns (allocator
 * usable sizes), exactly what memory accounting charges for it. */
int cache_memory_usage(struct cache *c, const char *key, size_t klen,
                       int64_t now, size_t *bytes);

/* ---- Multi-key operations (atomic: shards locked in index order) -------- */

/* RENAME / RENAMENX (nx=1): NOTFOUND if src missing, NOTSET if nx and dst
 * exists. The TTL moves with the value (of any type). src == dst: OK
 * (NOTSET with nx). */
int cache_rename(struct cache *c, const char *src, size_t slen,
                 const char *dst, size_t dlen, int nx, int64_t now);
/* COPY: NOTFOUND if src missing, NOTSET if dst exists and !replace. A
 * deep copy of any type, its TTL included. */
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

/* ---- Hashes (hashops.c) ---------------------------------------------------
 * Each call is atomic: one shard lock for the whole command. A missing key
 * reads as an empty hash; a key of another type gives CACHE_E_WRONGTYPE
 * and changes nothing. A hash whose last field is deleted is deleted. */

struct cache_str {
    const char *s;
    size_t len;
};

/* HSET / HMSET (flags 0) and HSETNX (CACHE_HSET_NX, one pair: only if the
 * field is new): pairs as {key = field, val = value}, created key and
 * all. *added: how many fields were new. OK, WRONGTYPE, E_OOM, E_TOOBIG,
 * E_NOMEM (pairs before the failure stay set, as a partial HSET would in
 * a Redis that survived its malloc failing). */
#define CACHE_HSET_NX 0x01
int cache_hset(struct cache *c, const char *key, size_t klen,
               const struct cache_kv *fv, size_t n, int flags, int64_t now,
               uint64_t *added);
/* HGET: OK (out holds the value), NOTFOUND (no key), NOELEM (no such
 * field), WRONGTYPE. */
int cache_hget(struct cache *c, const char *key, size_t klen, const char *field,
               size_t flen, int64_t now, struct cache_val *out);
/* HMGET: one record per field, nil for an absent one (all nil for a
 * missing key). OK or WRONGTYPE (or E_NOMEM). */
int cache_hmget(struct cache *c, const char *key, size_t klen,
                const struct cache_str *fields, size_t n, int64_t now,
                struct cache_keys *out);
/* HGETALL (FIELDS|VALUES), HKEYS (FIELDS), HVALS (VALUES): field and value
 * records alternate when both are asked for. OK / NOTFOUND / WRONGTYPE. */
#define CACHE_H_FIELDS 0x01
#define CACHE_H_VALUES 0x02
int cache_hgetall(struct cache *c, const char *key, size_t klen, int what,
                  int64_t now, struct cache_keys *out);
/* HDEL: *deleted = fields removed. OK / WRONGTYPE. */
int cache_hdel(struct cache *c, const char *key, size_t klen,
               const struct cache_str *fields, size_t n, int64_t now,
               uint64_t *deleted);
/* HEXISTS (OK / NOTFOUND / NOELEM), HSTRLEN (0 if absent). */
int cache_hexists(struct cache *c, const char *key, size_t klen,
                  const char *field, size_t flen, int64_t now);
int cache_hstrlen(struct cache *c, const char *key, size_t klen,
                  const char *field, size_t flen, int64_t now, size_t *len);
/* HINCRBY: a missing field counts as 0. E_NOTINT (the value is not an
 * integer), E_OVERFLOW. */
int cache_hincrby(struct cache *c, const char *key, size_t klen,
                  const char *field, size_t flen, long long delta, int64_t now,
                  long long *result);
/* HINCRBYFLOAT: result formatted as Redis does into buf (cap >=
 * CACHE_LD_MAX_CHARS). E_NOTFLOAT (the value is not a float), E_NANINF. */
int cache_hincrbyfloat(struct cache *c, const char *key, size_t klen,
                       const char *field, size_t flen, long double delta,
                       int64_t now, char *buf, size_t cap, size_t *reslen);
/* HRANDFIELD key count [WITHVALUES]: fields (and values) as records.
 * count >= 0: min(count, len) distinct fields; count < 0: -count picks
 * that may repeat. When -count exceeds the hash's size, the whole hash is
 * copied instead (memory bounded by the hash, not by the count) and
 * *sample says so: the caller then draws -count picks from it (cache_rand).
 * OK / NOTFOUND / WRONGTYPE. */
int cache_hrandfield(struct cache *c, const char *key, size_t klen,
                     long long count, int withvalues, int64_t now,
                     struct cache_keys *out, int *sample);
/* HSCAN: field,value records from `cursor` on; *next = 0 when done. A
 * compact hash comes whole in one call (as Redis); a table visits about
 * `count` fields' buckets, with SCAN's guarantee (every field present for
 * the whole scan returned at least once). OK / NOTFOUND / WRONGTYPE. */
int cache_hscan(struct cache *c, const char *key, size_t klen, uint64_t cursor,
                size_t count, int64_t now, struct cache_keys *out,
                uint64_t *next);

/* ---- Sets (setops.c, setmulti.c) -------------------------------------------
 * As hashes: each call is atomic (the commands on several keys lock all
 * their keys' shards at once, in index order); a missing key reads as the
 * empty set; a key of another type gives CACHE_E_WRONGTYPE and changes
 * nothing; a set whose last member goes is deleted. Members come back as
 * records (an integer member as its decimal digits). */

/* SADD: *added = members that were new. OK, WRONGTYPE, E_OOM, E_TOOBIG,
 * E_NOMEM (members before the failure stay added). */
int cache_sadd(struct cache *c, const char *key, size_t klen,
               const struct cache_str *members, size_t n, int64_t now,
               uint64_t *added);
/* SREM: *removed. OK / WRONGTYPE. */
int cache_srem(struct cache *c, const char *key, size_t klen,
               const struct cache_str *members, size_t n, int64_t now,
               uint64_t *removed);
/* SMEMBERS: every member. OK / NOTFOUND / WRONGTYPE. */
int cache_smembers(struct cache *c, const char *key, size_t klen, int64_t now,
                   struct cache_keys *out);
/* SISMEMBER: OK (a member), NOELEM, NOTFOUND, WRONGTYPE. */
int cache_sismember(struct cache *c, const char *key, size_t klen,
                    const char *member, size_t mlen, int64_t now);
/* SMISMEMBER: is[i] = 1 when members[i] is one, else 0. OK / NOTFOUND
 * (all 0) / WRONGTYPE. */
int cache_smismember(struct cache *c, const char *key, size_t klen,
                     const struct cache_str *members, size_t n, int64_t now,
                     unsigned char *is);
/* SPOP: min(count, card) members removed at random, as records (count 0:
 * none, the key only checked). OK / NOTFOUND / WRONGTYPE. */
int cache_spop(struct cache *c, const char *key, size_t klen, uint64_t count,
               int64_t now, struct cache_keys *out);
/* SRANDMEMBER key count: as HRANDFIELD (count >= 0: distinct members;
 * < 0: -count draws that may repeat; past the set's size the whole set
 * is copied instead and *sample says so: the caller draws from it).
 * OK / NOTFOUND / WRONGTYPE. */
int cache_srandmember(struct cache *c, const char *key, size_t klen,
                      long long count, int64_t now, struct cache_keys *out,
                      int *sample);
/* SSCAN: as HSCAN, member records (a compact set whole, cursor 0). */
int cache_sscan(struct cache *c, const char *key, size_t klen, uint64_t cursor,
                size_t count, int64_t now, struct cache_keys *out,
                uint64_t *next);
/* SMOVE: OK (moved; or src == dst and it is a member), NOELEM (not a
 * member of src), NOTFOUND (no src), WRONGTYPE (src, or an existing dst,
 * of another type). No other client ever sees the member in both keys or
 * in neither. */
int cache_smove(struct cache *c, const char *src, size_t slen, const char *dst,
                size_t dlen, const char *member, size_t mlen, int64_t now);

/* SINTER, SUNION, SDIFF, SINTERSTORE, SUNIONSTORE, SDIFFSTORE, SINTERCARD:
 * one call, every key's shard locked for all of it, so the result (and a
 * STORE's destination) reflects one instant. Sources are looked up in
 * order: a missing one is the empty set, the first of another type ends
 * the call with WRONGTYPE. A STORE replaces its destination (any type,
 * its TTL dropped; it may be a source) with the result, or deletes it
 * when the result is empty. */
enum cache_setop_kind { CACHE_SINTER, CACHE_SUNION, CACHE_SDIFF };
struct cache_setop {
    int op;                          /* enum cache_setop_kind */
    const struct cache_str *keys;    /* the sources */
    size_t nkeys;                    /* >= 1 */
    const char *dst;                 /* STORE: the destination; else NULL */
    size_t dlen;
    int card_only;                   /* SINTERCARD: count, no members */
    uint64_t limit;                  /* SINTERCARD LIMIT: stop counting there; 0 none */
};
struct cache_setop_result {
    struct cache_keys members;       /* the result (not for STORE or card_only) */
    uint64_t card;                   /* its size (STORE: the destination's) */
    uint64_t hits, misses;           /* sources looked up, found / missing */
};
/* OK / WRONGTYPE / E_OOM (STORE) / E_TOOBIG / E_NOMEM. */
int cache_setop(struct cache *c, const struct cache_setop *op, int64_t now,
                struct cache_setop_result *res);

/* A random number from the calling thread's generator (not for security). */
uint64_t cache_rand(void);

/* ---- Lists (listops.c) ---------------------------------------------------
 * Each call is atomic: the key's shard lock for the whole command (both
 * keys' for LMOVE, every key's for LMPOP, locked in shard index order). A
 * missing key reads as an empty list; a key of another type gives
 * CACHE_E_WRONGTYPE and changes nothing. A list whose last element goes
 * is deleted. A write that adds elements to a list serves the clients
 * blocked on that key (cache_bpop) before it returns. */

#define CACHE_LIST_HEAD 0   /* LEFT */
#define CACHE_LIST_TAIL 1   /* RIGHT */

/* LPUSH/RPUSH (xx 0) and LPUSHX/RPUSHX (xx 1: only an existing list):
 * *len is the length after the push (0: xx and no key). OK, WRONGTYPE,
 * E_OOM, E_TOOBIG, E_NOMEM (elements before the failure stay pushed). */
int cache_lpush(struct cache *c, const char *key, size_t klen, int where,
                const struct cache_str *elems, size_t n, int xx, int64_t now,
                uint64_t *len);
/* LPOP/RPOP: up to count elements from the `where` end into out, in the
 * order they come off. OK / NOTFOUND / WRONGTYPE. */
int cache_lpop(struct cache *c, const char *key, size_t klen, int where,
               uint64_t count, int64_t now, struct cache_keys *out);
/* LRANGE with Redis's index rules: *total is the range's length; its
 * elements are copied into out until max_bytes of them (the caller's
 * output limit: a reply past it could not be sent whole anyway), so
 * out->count < *total says it was cut. OK / NOTFOUND / WRONGTYPE. */
int cache_lrange(struct cache *c, const char *key, size_t klen, long long start,
                 long long end, size_t max_bytes, int64_t now,
                 struct cache_keys *out, uint64_t *total);
/* LINDEX: OK (out), NOTFOUND, NOELEM (out of range), WRONGTYPE. */
int cache_lindex(struct cache *c, const char *key, size_t klen, long long index,
                 int64_t now, struct cache_val *out);
/* LSET: OK, NOTFOUND, NOELEM (index out of range), WRONGTYPE, E_OOM. */
int cache_lset(struct cache *c, const char *key, size_t klen, long long index,
               const char *val, size_t vlen, int64_t now);
/* LINSERT: *len = the new length, -1 when the pivot is not there, 0 when
 * the key is missing. OK, WRONGTYPE, E_OOM. */
int cache_linsert(struct cache *c, const char *key, size_t klen, int after,
                  const char *pivot, size_t plen, const char *val, size_t vlen,
                  int64_t now, long long *len);
/* LREM: count > 0 from the head, < 0 from the tail, 0 all. */
int cache_lrem(struct cache *c, const char *key, size_t klen, long long count,
               const char *val, size_t vlen, int64_t now, uint64_t *removed);
int cache_ltrim(struct cache *c, const char *key, size_t klen, long long start,
                long long end, int64_t now);   /* OK (missing too) / WRONGTYPE */
/* LPOS: the indexes of matches into out (an array of int64_t, out->len in
 * bytes). rank != 0 (negative: from the tail, Redis's wrapping kept),
 * count 0 = all (the caller maps "no COUNT" to 1), maxlen 0 = all.
 * OK / NOTFOUND / WRONGTYPE. */
int cache_lpos(struct cache *c, const char *key, size_t klen, const char *val,
               size_t vlen, long long rank, long long count, long long maxlen,
               int64_t now, struct cache_val *out);

/* ---- Blocking pops and multi-key pops (blocking/) ------------------------
 * LMPOP, LMOVE/RPOPLPUSH and the blocking BLPOP BRPOP BLMPOP BLMOVE
 * BRPOPLPUSH share one request. Keys are checked in order as Redis does
 * (the first that is not a list: WRONGTYPE; the first non-empty list is
 * popped); every shard involved is locked in index order for the whole
 * call, so the pop (and for a move, the push to dst) is atomic. */
struct cache_bpop;   /* one blocked client's wait, owned by its caller */
struct cache_bpop_req {
    const struct cache_str *keys;   /* the source keys, in order */
    size_t nkeys;
    int from;                       /* CACHE_LIST_HEAD / TAIL */
    uint64_t count;                 /* elements at most (1 but for [B]LMPOP) */
    const char *dst;                /* a move (LMOVE, BLMOVE): nkeys is 1 */
    size_t dlen;
    int to;
    /* A sorted set pop (ZMPOP, BZPOPMIN, BZPOPMAX, BZMPOP): from is
     * CACHE_ZMIN / CACHE_ZMAX, the keys must be sorted sets, and out gets
     * member and score records. */
    int zset;
    /* Blocking: called exactly once if the wait is served (an element was
     * handed to it, or it ended with an error), from whichever thread
     * served it, with no cache lock held; never after cache_bpop_cancel
     * returned OK. NULL: do not block (LMPOP, LMOVE). */
    void (*wake)(void *arg);
    void *arg;
};
#define CACHE_BLOCKED 4   /* cache_bpop: the caller waits (*hp is its wait) */
/* OK: popped now: out holds the key then the elements (a pop), or the one
 * element (a move). NOTFOUND: nothing to pop and no wake given. BLOCKED:
 * *hp is the wait; the caller owns it and ends it with cache_bpop_cancel
 * or, after the wake, cache_bpop_take. WRONGTYPE, E_NOMEM. */
int cache_bpop(struct cache *c, const struct cache_bpop_req *r, int64_t now,
               struct cache_keys *out, struct cache_bpop **hp);
/* Ends a wait that was not served: OK (h is freed; no wake will come) or
 * NOTSET (it was served meanwhile: the wake is coming, take it then).
 * Context: h's owner, no cache lock held. */
int cache_bpop_cancel(struct cache *c, struct cache_bpop *h);
/* After the wake: the outcome into out as cache_bpop's OK (or the error
 * the wait ended with: WRONGTYPE for a move whose dst became another
 * type, E_NOMEM), and frees h. giveback: the client is gone; the popped
 * elements go back to the end of the key they came from, as if never
 * popped (a move's element already is in dst). Context: as cancel. */
int cache_bpop_take(struct cache *c, struct cache_bpop *h, int giveback,
                    struct cache_keys *out, int64_t now);
/* Keys that have clients blocked on them now (tests). Context: any
 * thread; takes each shard lock in turn. */
uint64_t cache_blocked_keys(struct cache *c);

/* ---- Transactions: several commands under one set of shard locks (txn.c) --
 * docs/locking.md, "Transactions". cache_txn_lock locks the shards of
 * keys[0..n) (every shard with `all`) in ascending index order, each once,
 * and makes them this thread's: until cache_txn_unlock, every cache call
 * on this thread finds those shards already held (its own lock and unlock
 * of one of them cost nothing), so the calls in between are one atomic
 * step for every other thread. A call may touch only keys of held
 * shards; eviction then takes another shard only when that cannot wait
 * out of order (a higher index, or a trylock), and blocked clients served
 * meanwhile are woken (and cross-shard moves finished) at the unlock.
 * Context: no shard lock held, no transaction open on this thread. */
#define CACHE_MLOCK_SMALL 8
struct cache_mlock {
    unsigned *ids;                /* sorted, unique; small or allocated */
    size_t n;
    unsigned small[CACHE_MLOCK_SMALL];
};
struct cache_bpop;
struct cache_txn {                /* owned by: the thread that locked it */
    struct cache_mlock m;         /* the shards held, ascending */
    uint8_t *inner;               /* per m.ids[i]: 1 while a call inside holds it */
    uint8_t small_inner[CACHE_MLOCK_SMALL];
    /* serves deferred to the unlock (blocking/serve.c's lists, FIFO) */
    struct cache_bpop *wakes, **wakes_tail, *moves, **moves_tail;
};
/* CACHE_OK, or CACHE_E_NOMEM with nothing locked. */
int cache_txn_lock(struct cache *c, struct cache_txn *t, const struct cache_str *keys,
                   size_t n, int all);
void cache_txn_unlock(struct cache *c, struct cache_txn *t, int64_t now);

/* ---- WATCH (watch.c) --------------------------------------------------------
 * A watched key: its owner (a client) allocates it, adds it to the key's
 * shard, and removes it before freeing it. Any thread that changes the key
 * under a transaction's lock sets *dirty (cache_watch_touch), and so does
 * FLUSHALL for every key; whether it still exists as it did when watched
 * (not expired, evicted, deleted or created by anything else since) is
 * cache_watch_stale's to say. */
struct cache_watch {
    struct cache_watch *wnext;    /* guarded by: the key's shard lock (its list) */
    _Atomic bool *dirty;        /* immutable: the owner's flag; written true under
                                     the shard lock (relaxed), read by the owner
                                     holding that lock (cache_txn_lock) */
    uint64_t hash;                /* immutable */
    bool existed;                 /* immutable once added: live when watched */
    size_t klen;                  /* immutable */
    char key[];
};
/* NULL on ENOMEM. Context: any; the cache is not touched. */
struct cache_watch *cache_watch_new(struct cache *c, const char *key, size_t klen,
                                    _Atomic bool *dirty);
/* Context: no shard lock held (or inside a transaction holding its shard). */
void cache_watch_add(struct cache *c, struct cache_watch *w, int64_t now);
void cache_watch_del(struct cache *c, struct cache_watch *w);
/* Context: inside a transaction holding the key's shard. */
bool cache_watch_stale(struct cache *c, const struct cache_watch *w, int64_t now);
void cache_watch_touch(struct cache *c, const char *key, size_t klen);

/* ---- Whole-keyspace operations ------------------------------------------ */

uint64_t cache_dbsize(struct cache *c);     /* live keys (may include not yet reaped expired ones) */
/* FLUSHALL. async: each shard's keys are handed to the lazy-free thread
 * at once (the shard is empty when its lock is released); sync: freed
 * here (a large value after its shard lock is released). */
void cache_flush(struct cache *c, int async);
int cache_randomkey(struct cache *c, int64_t now, struct cache_val *out);  /* OK / NOTFOUND */
/* All live keys, shard by shard (each shard copied under its lock). */
int cache_keys(struct cache *c, int64_t now, struct cache_keys *out);
/* SCAN: returns the next cursor (0 = done). Guarantees every key present
 * for the whole scan is returned at least once, across resizes (Redis's
 * reverse-binary cursor, per shard; low bits of the cursor pick the shard).
 * Visits about `count` buckets' worth of keys; with type >= 0 only keys of
 * that type (enum cache_type) are returned. */
uint64_t cache_scan(struct cache *c, uint64_t cursor, size_t count, int type,
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
    uint64_t lazyfree_pending;   /* values handed to the lazy-free thread, not yet freed */
    uint64_t lazyfree_pending_bytes;  /* their bytes (already out of used_memory) */
    uint64_t lazyfreed;     /* values the lazy-free thread has freed */
};
/* Sums per-shard counters; each read is atomic, so each field only grows
 * (or shrinks, for sizes) by what happened, never tears. */
void cache_stats(struct cache *c, struct cache_stats *st);

/* The lock-wait profile: one shard's contended acquisitions and the time
 * they spent in the blocking lock. */
struct cache_shard_wait {
    unsigned shard;
    uint64_t waits;
    uint64_t wait_ns;
};
/* Offers `cand` to top[0..*n), kept most waited first: by wait_ns, then
 * waits, both descending, then shard id ascending (a total order, so the
 * same counters always give the same ranking); at most `max` kept, the
 * least waited dropped. Context: any thread; pure. */
void cache_lock_wait_rank(struct cache_shard_wait *top, size_t *n, size_t max,
                          struct cache_shard_wait cand);
/* The `max` shards that waited longest, ranked as above, into top; returns
 * how many (max, or nshards when fewer). `base`: NULL, or nshards entries
 * indexed by shard id (a cache_lock_wait_read earlier) subtracted from each
 * shard's counters first: the profile since that moment (CONFIG RESETSTAT's
 * baseline). Reads each counter with a relaxed load, locking nothing.
 * Context: any thread. */
size_t cache_lock_wait_top(struct cache *c, const struct cache_shard_wait *base,
                           struct cache_shard_wait *top, size_t max);
/* Every shard's counters now, into all[0..cache_nshards(c)), all[i] being
 * shard i's. Context: any thread; relaxed loads, no lock. */
void cache_lock_wait_read(struct cache *c, struct cache_shard_wait *all);

/* The sorted sets' and the bit commands' parts of this interface. */
#include "cache_zset.h"
#include "cache_bits.h"

#endif
