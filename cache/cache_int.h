/*
 * cache_int.h: the cache module's private structures and helpers.
 *
 * Only files under cache/ and tests/cache/ include this header.
 *
 * Synchronisation in one paragraph (full lock order: docs/locking.md):
 * every item and every field of a shard tagged "guarded by: lock" is only
 * read or written while holding that shard's mutex. The per-shard counters
 * that INFO sums (count, nttl, mem, evicted, expired, lock_waits) are
 * _Atomic and written only under the shard lock with a relaxed load+store
 * (no read-modify-write needed, the lock serialises writers); any thread
 * may read them with a relaxed load and sees a value that some moment of
 * the shard had, never a torn one. Nothing orders one counter against
 * another: a reader summing them gets an approximate snapshot, by design.
 */
#ifndef MMCACHE_CACHE_INT_H
#define MMCACHE_CACHE_INT_H

#include <assert.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "cache.h"
#include "inject.h"

/* ---- Tables (table.c) -----------------------------------------------------
 * Every entry a table holds (an item in a shard, a field of a hash, a
 * member of a set) starts with this. Guarded by the lock of the shard the
 * table belongs to. */
struct cache__tnode {
    struct cache__tnode *tnext;   /* guarded by: shard lock; bucket chain */
    uint32_t hash;                /* immutable while linked: the low 32 bits
                                     of the entry's 64-bit hash, all a table
                                     uses (buckets come from the low bits, a
                                     table never has 2^32 buckets) */
    uint32_t aux;                 /* guarded by: shard lock; the entry kind's
                                     own word, in what would be padding (an
                                     item's LRU clock and LFU counter) */
};

struct cache__tab {
    struct cache__tnode **b;      /* bucket array, NULL if size 0 */
    uint64_t mask;                /* size - 1 (size is a power of two) */
    uint64_t used;                /* entries in this table */
};

/* A chained table with incremental resize (table.c). */
struct cache__ctable {
    struct cache__tab ht[2];      /* ht[1] only while rehashing */
    int64_t rehashidx;            /* -1 when not rehashing */
    size_t bucket_bytes;          /* usable bytes of the bucket arrays */
    unsigned max_load;            /* grows past this many entries per bucket
                                     (1; the shard's key table 2: table.c) */
};

/* ---- Items ---------------------------------------------------------------
 * One allocation: header, key bytes, value bytes. Every field is guarded
 * by the lock of the shard whose table holds it; an item is never
 * reachable from two shards.
 *
 * The value area holds, by type and encoding (object.c, docs/types.md):
 * a string's bytes; a compact collection's block (listpack, intset)
 * inline, vlen its length; or, for a large encoding, a pointer to the
 * collection (vlen = sizeof(void *)), read with item_ptr(). Code outside
 * object.c and the t_*.c files asks item_type()/item_enc(), never the
 * fields, so the header's layout can change (issue 22's compact items)
 * without touching the types. */
struct item {
    struct cache__tnode node;  /* the shard's key table: chain, hash; node.aux
                                  is the LRU/LFU word (item_lru, item_lfu) */
    struct item *prev;      /* guarded by: shard lock; LRU, toward head */
    struct item *next;      /* guarded by: shard lock; LRU, toward tail */
    uint32_t vlen;          /* guarded by: shard lock (APPEND grows in place) */
    uint8_t klen8;          /* guarded by: shard lock (RENAME rewrites it);
                               the key's length, or ITEM_KLEN_LONG: a 4-byte
                               length precedes the key (item_klen) */
    uint8_t type : 3;       /* guarded by: shard lock; enum cache_type */
    uint8_t enc : 3;        /* guarded by: shard lock; enum cache__enc */
    uint8_t has_ttl : 1;    /* guarded by: shard lock; the shard's TTL index
                               holds this item's expiry (expire.c) */
    uint8_t spare : 1;      /* unused */
    char data[];            /* [4-byte key length,] key, then value */
};

/* The header's bytes: allocations use this, not sizeof (which pads to 40).
 * 38 bytes: a 10-byte key with a 32-byte value is 80, jemalloc's class. */
#define ITEM_HDR offsetof(struct item, data)
#define ITEM_KLEN_LONG 255u

/* The bytes before the value for a key of klen (its length's too). */
static inline size_t item_key_room(size_t klen)
{
    return klen < ITEM_KLEN_LONG ? klen : klen + sizeof(uint32_t);
}
static inline size_t item_klen(const struct item *it)
{
    uint32_t n;
    if (it->klen8 < ITEM_KLEN_LONG)
        return it->klen8;
    memcpy(&n, it->data, sizeof(n));
    return n;
}
/* Writes the key (and a long key's length) at the start of data;
 * returns where the value starts. */
static inline char *item_set_key(struct item *it, const char *key, size_t klen)
{
    char *p = it->data;
    if (klen < ITEM_KLEN_LONG) {
        it->klen8 = (uint8_t)klen;
    } else {
        uint32_t n = (uint32_t)klen;
        it->klen8 = ITEM_KLEN_LONG;
        memcpy(p, &n, sizeof(n));
        p += sizeof(n);
    }
    memcpy(p, key, klen);
    return p + klen;
}
static inline char *item_key(struct item *it)
{
    return it->data + (it->klen8 < ITEM_KLEN_LONG ? 0 : sizeof(uint32_t));
}
static inline const char *item_ckey(const struct item *it)
{
    return it->data + (it->klen8 < ITEM_KLEN_LONG ? 0 : sizeof(uint32_t));
}
static inline size_t item_voff(const struct item *it)
{
    return it->klen8 < ITEM_KLEN_LONG ? it->klen8 : item_key_room(item_klen(it));
}
static inline char *item_val(struct item *it) { return it->data + item_voff(it); }
static inline const char *item_cval(const struct item *it) { return it->data + item_voff(it); }
/* The low 32 bits of the key's hash: enough for its bucket and a quick
 * compare, not for its shard (cache__hash the key for that). */
static inline uint32_t item_hash(const struct item *it) { return it->node.hash; }
static inline struct item *cache__item_of(const struct cache__tnode *n)
{
    return (struct item *)(void *)((char *)(uintptr_t)n - offsetof(struct item, node));
}

/* The LRU/LFU word (node.aux): the low 24 bits are the LRU clock, the
 * caller's `now` in units of 2^CACHE_LRU_TICK_SHIFT ms (256 ms; wraps
 * after 49.7 days, like 32 bits of ms); the high 8 bits the LFU counter
 * (lfu.c). Idle times are computed modulo 2^24 ticks (lru.c). */
#define CACHE_LRU_TICK_SHIFT 8
#define CACHE_LRU_CLOCK_MASK 0xffffffu
static inline uint32_t cache__lru_clock(int64_t now)
{
    return (uint32_t)((uint64_t)now >> CACHE_LRU_TICK_SHIFT) & CACHE_LRU_CLOCK_MASK;
}
static inline uint32_t item_lru(const struct item *it) { return it->node.aux & CACHE_LRU_CLOCK_MASK; }
static inline unsigned item_lfu(const struct item *it) { return it->node.aux >> 24; }
static inline void item_set_lru(struct item *it, int64_t now)
{
    it->node.aux = (it->node.aux & ~CACHE_LRU_CLOCK_MASK) | cache__lru_clock(now);
}
static inline void item_set_lfu(struct item *it, unsigned counter)
{
    it->node.aux = (it->node.aux & CACHE_LRU_CLOCK_MASK) | ((uint32_t)counter << 24);
}
/* Ticks since it's last LRU bump. The counter above the clock's bits
 * does not need masking off first: a borrow only runs upward. */
static inline uint32_t item_idle_ticks(const struct item *it, int64_t now)
{
    return (cache__lru_clock(now) - it->node.aux) & CACHE_LRU_CLOCK_MASK;
}
/* A stamp up to a day ahead of `now`: the caller's clock went back
 * (CLOCK_REALTIME stepped: NTP, a resumed VM) after the item was touched.
 * Counted modulo 2^24 such an item would look idle for 49.7 days less
 * the step: its LFU counter decays to 0 and the hottest keys become the
 * first victims (all 50 of a test's hot keys, after a 10 s step). */
#define CACHE_LRU_AHEAD_TICKS ((uint32_t)(86400000u >> CACHE_LRU_TICK_SHIFT))
/* Milliseconds since it's last LRU bump, at the clock's resolution; 0 if
 * the stamp is ahead of `now` (above). Bump decisions use the raw ticks:
 * a touch after the step re-stamps the item with the earlier time. */
static inline uint32_t item_idle_ms(const struct item *it, int64_t now)
{
    uint32_t ticks = item_idle_ticks(it, now);

    if (ticks > CACHE_LRU_CLOCK_MASK - CACHE_LRU_AHEAD_TICKS)
        return 0;
    return ticks << CACHE_LRU_TICK_SHIFT;
}

static inline bool cache__same_key(const char *a, size_t alen, const char *b, size_t blen)
{
    return alen == blen && memcmp(a, b, alen) == 0;
}

/* ---- Shards --------------------------------------------------------------- */

struct shard {
    /* The shard lock: a mutex, or (bug-lab control 16, chosen once at
     * cache_create and immutable after) a reader-writer lock. */
    union {
        pthread_mutex_t lock;     /* lock order: 2 (ascending shard index
                                     among shard locks), docs/locking.md */
        pthread_rwlock_t rwlock;  /* same lock, when rw (control 16) */
    };
#ifndef NDEBUG
    pthread_t owner;        /* guarded by: lock; debug owner check */
    bool owned;             /* guarded by: lock */
#endif
    /* Protected by lock: */
    struct cache__ctable kt;   /* guarded by: lock; the keys */
    struct item *lru_head;  /* guarded by: lock; most recently used */
    struct item *lru_tail;  /* guarded by: lock; eviction end */
    struct cache__ttl_ent *ttl;  /* guarded by: lock; the expiry of every item
                               with a TTL, open addressing by item address
                               (expire.c); NULL until the first */
    uint32_t ttl_cap;       /* guarded by: lock; slots, a power of two */
    uint32_t ttl_hand;      /* guarded by: lock; active expiry position */
    int64_t mem_flushed;    /* guarded by: lock; part of mem already added
                               to cache->mem_global */
    struct cache__ctable *bkeys;  /* guarded by: lock; keys with clients blocked
                               on them (blocking/), NULL until the first */
    struct cache_watch *watches;  /* guarded by: lock; WATCHed keys of this shard
                               (watch.c), NULL when none */

    /* Written only under lock (relaxed load + store), read anywhere with
     * relaxed loads (stats, eviction's cheap "anything to evict?" test). */
    _Atomic uint64_t count;       /* atomic: relaxed; items in the table */
    _Atomic uint64_t nttl;        /* atomic: relaxed; items with a TTL */
    _Atomic uint64_t mem;         /* atomic: relaxed; exact usable bytes */
    _Atomic uint64_t evicted;     /* atomic: relaxed */
    _Atomic uint64_t expired;     /* atomic: relaxed; lazy + active */
    _Atomic uint64_t lock_waits;  /* atomic: relaxed; trylock failed */
    _Atomic uint64_t lock_wait_ns;  /* atomic: relaxed; monotonic ns spent in
                               the blocking lock after a failed trylock.
                               Same pattern as lock_waits: added under the
                               exclusive lock (load + store), by fetch_add
                               on the shared rdlock path; read by INFO
                               (cache_lock_wait_top). Relaxed is enough: a
                               statistic, ordered with nothing, and each
                               read sees some whole recent value. Kept
                               on line 3, beside lock_waits: a line the
                               uncontended path touches anyway, written
                               only after a wait. */

    struct cache *c;        /* immutable after init */
    uint32_t id;            /* immutable after init */
    bool rw;                /* immutable after init: rwlock, not lock */
    /* Bug lab 3 only: Go's "hashWriting" flag. Not synchronised, on
     * purpose (as in Go's runtime): touched only by the unlocked SET of
     * bug 3, never by the correct code. One byte, so that it fits in the
     * padding after rw and a release shard stays 256 bytes, four lines
     * (an int here spilled into a fifth: 320 bytes a shard). */
    unsigned char map_writing;
} __attribute__((aligned(64)));
#ifdef NDEBUG
/* Four cache lines a shard (1024 shards: 256 KiB): a field that would add a
 * fifth goes in a cold place, not here (see lock_wait_ns). */
_Static_assert(sizeof(struct shard) <= 256, "a release shard is four cache lines");
#endif

struct cache {
    struct shard *shards;   /* immutable after init (the array itself) */
    unsigned nshards;       /* immutable after init */
    unsigned shard_bits;    /* immutable after init: log2(nshards) */
    uint64_t seed;          /* immutable after init */
    _Atomic uint64_t maxmemory;  /* atomic: relaxed; a reload racing a
                                    write may apply either limit */
    _Atomic int policy;          /* atomic: relaxed; same */
    _Atomic int lfu_log_factor;  /* atomic: relaxed; a reload racing a hit uses either */
    _Atomic int lfu_decay_min;   /* atomic: relaxed; same */
    _Atomic int evict_samples;   /* atomic: relaxed; same, 1..CACHE_EVICT_SAMPLES_MAX */
    _Atomic int64_t mem_batch;   /* atomic: relaxed; flush threshold */
    /* Sum of every shard's mem_flushed. Each shard adds its pending delta
     * with one relaxed fetch_add once it reaches mem_batch bytes, so this
     * global is written once per ~mem_batch bytes, not once per operation.
     * Relaxed is enough: it is an estimate checked against maxmemory, and
     * no other data is published through it. */
    _Atomic int64_t mem_global __attribute__((aligned(64)));
    /* The compact encodings' thresholds (cache_set_type_limits). */
    _Atomic uint64_t hash_lp_entries;  /* atomic: relaxed; a reload racing a write may apply either */
    _Atomic uint64_t hash_lp_value;    /* atomic: relaxed; same */
    _Atomic uint64_t set_is_entries;   /* atomic: relaxed; same */
    _Atomic uint64_t set_lp_entries;   /* atomic: relaxed; same */
    _Atomic uint64_t set_lp_value;     /* atomic: relaxed; same */
    _Atomic int64_t list_lp_size;      /* atomic: relaxed; same */
    _Atomic uint64_t zset_lp_entries;  /* atomic: relaxed; same */
    _Atomic uint64_t zset_lp_value;    /* atomic: relaxed; same */
    /* WATCHed keys in every shard (watch.c): changed only under the
     * key's shard lock; atomic: relaxed. A writer loads it holding the
     * written key's shard lock, so it sees every watch of that key added
     * before its lock (the add's unlock ordered it) and may skip the
     * shard's list when it is 0: what it misses was watched after it. */
    _Atomic uint64_t nwatches;
    /* Lazy free (lazyfree.c). */
    _Atomic unsigned lazy_flags;       /* atomic: relaxed; CACHE_LAZY_*, either value on a race */
    pthread_mutex_t lazy_lock;         /* lock order: a leaf, never under a shard lock */
    pthread_cond_t lazy_cond;          /* with lazy_lock: work arrived, or stop */
    struct item *lazy_head;            /* guarded by: lazy_lock; chains to free */
    pthread_t lazy_thread;             /* guarded by: lazy_lock (set once) */
    bool lazy_started;                 /* guarded by: lazy_lock */
    bool lazy_stop;                    /* guarded by: lazy_lock */
    _Atomic uint64_t lazy_pending;     /* atomic: relaxed; counters for INFO only */
    _Atomic uint64_t lazy_pending_bytes;  /* atomic: relaxed; same */
    _Atomic uint64_t lazy_freed;       /* atomic: relaxed; same */
    /* Bug lab 8 only: the KEYS buffer shared by every caller. Guarded by:
     * nothing (that is the bug; each append holds *a* shard lock, not one
     * lock for the buffer). Never touched by the correct code. */
    struct cache_keys keys_shared;
};

/* Relaxed counter helpers: the caller holds the shard lock (sole writer). */
#define RLX_LOAD(x) atomic_load_explicit(&(x), memory_order_relaxed)
#define RLX_STORE(x, v) atomic_store_explicit(&(x), (v), memory_order_relaxed)
#define CTR_ADD_LOCKED(x, d) RLX_STORE(x, RLX_LOAD(x) + (uint64_t)(d))

/* Internal result: the own shard cannot make room, try other shards. */
#define CACHE__AGAIN 100

/* Why a key is deleted: picks the lazyfree-lazy-* setting that decides
 * whether a large value is freed by the lazy-free thread. */
enum cache__why {
    CACHE__WHY_USER_DEL,     /* DEL */
    CACHE__WHY_UNLINK,       /* UNLINK: always lazy */
    CACHE__WHY_SERVER_DEL,   /* overwritten (SET, RENAME's destination, ...) */
    CACHE__WHY_EXPIRE,       /* lazy or active expiry */
    CACHE__WHY_EVICT,        /* maxmemory eviction */
    CACHE__WHY_FLUSH_SYNC,   /* FLUSHALL SYNC */
    CACHE__WHY_FLUSH_ASYNC,  /* FLUSHALL ASYNC: always lazy */
};

/* ---- shard.c: locking, hashing, item lifetime, accounting ---------------- */

void cache__shard_lock(struct shard *s);
void cache__shard_unlock(struct shard *s);
/* The same for a caller that has seen INJECT_ANY(CACHE__LOCK_BUGS) false:
 * no bug-lab site on the way (cache_get, cache_set). */
#define CACHE__LOCK_BUGS (INJECT_BIT(13) | INJECT_BIT(16))
void cache__shard_lock_nolab(struct shard *s);
void cache__shard_unlock_nolab(struct shard *s);
/* Shared (read) hold: only pure reads (no rehash step, no expiry delete,
 * no LRU move, no counter store) may run under it. On a mutex shard it is
 * the exclusive lock. */
void cache__shard_rdlock(struct shard *s);
void cache__shard_rdunlock(struct shard *s);
/* Eviction's lock of a shard other than the one it writes: inside a
 * transaction, one it does not hold is waited for only above its highest
 * held index (the lock order) and otherwise only tried; false: skip it. */
bool cache__shard_lock_other(struct shard *s);

/* txn.c: the transaction open on this thread (cache_txn_lock), NULL when
 * none; owned by: its thread. cache__txn_enter / _leave: s is one of its
 * shards, taken or given back by a call inside it (no real lock); false:
 * lock or unlock for real. */
extern _Thread_local struct cache_txn *cache__txn_cur;
bool cache__txn_enter(const struct shard *s);
bool cache__txn_leave(const struct shard *s);
bool cache__txn_holds(const struct shard *s);
/* cache__serve_end inside a transaction: its wakes and moves wait for the
 * unlock; true when sv was taken over that way. */
struct cache__serve;
bool cache__txn_defer_serve(struct cache__serve *sv);
/* watch.c. Context: s locked. FLUSHALL: every watched key of s dirty. */
void cache__watch_flush_locked(struct shard *s);
#ifndef NDEBUG
bool cache__shard_held(const struct shard *s);
/* The bug-lab sites that deliberately touch a shard without its lock
 * (3, 4, 14): the debug lock assertion stands aside for them so a
 * sanitizer build shows what the race does, not the assertion. */
#define CACHE__UNLOCKED_BUGS ((1u << 3) | (1u << 4) | (1u << 14))
#define ASSERT_LOCKED(s) \
    assert((inject_mask() & CACHE__UNLOCKED_BUGS) || cache__shard_held(s))
#else
#define ASSERT_LOCKED(s) ((void)(s))
#endif

uint64_t cache__hash(const struct cache *c, const char *key, size_t klen);
static inline struct shard *cache__shard_of(struct cache *c, uint64_t h)
{
    /* Shard from the high bits, bucket from the low bits. */
    unsigned i = c->shard_bits ? (unsigned)(h >> (64 - c->shard_bits)) : 0;
    return &c->shards[i];
}

/* A string item (type and encoding can be changed before it is linked). */
struct item *cache__item_new(uint64_t h, const char *key, size_t klen,
                             const char *val, size_t vlen, size_t vcap);
/* Bytes the key takes in all: the item's usable size plus what its value
 * owns outside it (object.c). What the shard is charged for it. */
size_t cache__item_size(const struct item *it);
size_t cache__item_vcap(const struct item *it);   /* value room in place */
void cache__mem_add_locked(struct shard *s, int64_t delta);

/* Links a fully built item (table, LRU head) and accounts it, with no
 * TTL: give it one after, with cache__set_expire_locked (reserved first). */
void cache__link_locked(struct shard *s, struct item *it, int64_t now);
/* Unlinks and frees (a large value after the lock is released, maybe on
 * the lazy-free thread: lazyfree.c); no shrink (callers call
 * cache__shard_tidy_locked). */
void cache__delete_locked(struct shard *s, struct item *it, enum cache__why why);
/* Unlinks without freeing (RENAME moves the allocation). */
void cache__detach_locked(struct shard *s, struct item *it);
/* Swaps `old` for `nw` (same key): nw takes the LRU head; old is freed
 * as an overwrite (CACHE__WHY_SERVER_DEL). */
void cache__replace_locked(struct shard *s, struct item *old,
                           struct item *nw, int64_t now);
/* Lookup with one incremental rehash step and lazy expiry. */
struct item *cache__lookup_locked(struct shard *s, uint64_t h,
                                  const char *key, size_t klen, int64_t now);
/* After deletes: maybe start a shrink. */
void cache__shard_tidy_locked(struct shard *s);
/* Ends a write to a collection that now holds `len` elements: one left
 * empty (a new key that got nothing, the last element removed) is
 * deleted, as Redis deletes an empty collection; else it is marked used.
 * Context: s locked. (object.c) */
void cache__coll_write_done_locked(struct shard *s, struct item *it, uint64_t len,
                                   int64_t now);
void cache__shard_clear_locked(struct shard *s);

int cache__val_copy(struct cache_val *out, const char *p, size_t n);
int cache__keys_push(struct cache_keys *k, const char *key, size_t klen);
int cache__keys_push_nil(struct cache_keys *k);
uint64_t cache__rand(void);

/* ---- table.c: chained hash table with incremental (two-table) resize ----
 * The generic table: `s` is the shard to charge bucket arrays to and whose
 * lock is held, or NULL for a table not yet in any shard. */

int cache__ct_init(struct shard *s, struct cache__ctable *t, uint64_t hint);
void cache__ct_free(struct shard *s, struct cache__ctable *t);   /* buckets only */
int cache__ct_add(struct shard *s, struct cache__ctable *t, struct cache__tnode *n);
void cache__ct_remove(struct shard *s, struct cache__ctable *t, struct cache__tnode *n);
void cache__ct_rehash(struct shard *s, struct cache__ctable *t, unsigned nbuckets);
void cache__ct_maybe_shrink(struct shard *s, struct cache__ctable *t);
size_t cache__ct_grow_cost(const struct cache__ctable *t);
struct cache__tnode *cache__ct_random(const struct cache__ctable *t);
typedef int (*cache__ct_scan_fn)(void *arg, struct cache__tnode *n);
uint64_t cache__ct_scan(const struct cache__ctable *t, uint64_t v,
                        cache__ct_scan_fn fn, void *arg, int *stop);
/* Plain iteration over every entry; the table must not change meanwhile
 * (removing the entry just returned is fine). */
struct cache__ct_iter {
    int table;
    uint64_t bucket;
    struct cache__tnode *next;
};
struct cache__tnode *cache__ct_first(const struct cache__ctable *t, struct cache__ct_iter *it);
struct cache__tnode *cache__ct_next(const struct cache__ctable *t, struct cache__ct_iter *it);

/* A page of a collection's scan: about `count` entries (HSCAN, SSCAN). */
uint64_t cache__ct_scan_page(const struct cache__ctable *t, uint64_t v, size_t count,
                             cache__ct_scan_fn fn, void *arg, int *stop);
/* `want` distinct entries at random (want <= count / 3), each to fn. */
int cache__ct_random_distinct(const struct cache__ctable *t, size_t want,
                              cache__ct_scan_fn fn, void *arg);

static inline uint64_t cache__ct_count(const struct cache__ctable *t)
{
    return t->ht[0].used + t->ht[1].used;
}

/* Lookup by hash with the entry kind's own equality (inlined where eq is
 * a known static function). */
struct cache__lookup_key {
    const char *s;
    size_t len;
};
static inline struct cache__tnode *
cache__ct_find(const struct cache__ctable *t, uint64_t h,
               bool (*eq)(const struct cache__tnode *, const void *),
               const void *arg)
{
    for (int k = 0; k <= (t->rehashidx >= 0); k++) {
        const struct cache__tab *tb = &t->ht[k];
        if (!tb->b)
            continue;
        for (struct cache__tnode *n = tb->b[(uint32_t)h & tb->mask]; n; n = n->tnext)
            if (n->hash == (uint32_t)h && eq(n, arg))
                return n;
    }
    return NULL;
}

/* A collection's table of nodes, each its own allocation (a hash's
 * fields, a set's members; table.c): free them all with the buckets;
 * deep-copy into dst (unaccounted; *bytes = the copies' usable sizes);
 * debug.c's check (each node where its hash puts it and the first with
 * its key, the buckets' bytes; *bytes = the nodes' usable sizes). */
typedef bool (*cache__ct_eq_fn)(const struct cache__tnode *, const void *);
void cache__ct_free_nodes(struct cache__ctable *t);
int cache__ct_dup_nodes(const struct cache__ctable *src, struct cache__ctable *dst,
                        size_t (*node_size)(const struct cache__tnode *), size_t *bytes);
int cache__ct_check_nodes(const struct cache__ctable *t, cache__ct_eq_fn eq,
                          void (*key_of)(const struct cache__tnode *, struct cache__lookup_key *),
                          size_t *bytes, size_t *count);

/* The shard's key table (items). */
int cache__table_init_locked(struct shard *s);
void cache__table_free_locked(struct shard *s);
struct item *cache__table_find_locked(struct shard *s, uint64_t h,
                                      const char *key, size_t klen);
void cache__table_add_locked(struct shard *s, struct item *it);
void cache__table_remove_locked(struct shard *s, struct item *it);
void cache__table_rehash_locked(struct shard *s, unsigned nbuckets);
void cache__table_maybe_shrink_locked(struct shard *s);
size_t cache__table_grow_cost_locked(const struct shard *s);
struct item *cache__table_random_locked(struct shard *s);
typedef int (*cache__scan_fn)(void *arg, struct item *it);
uint64_t cache__table_scan_locked(struct shard *s, uint64_t v,
                                  cache__scan_fn fn, void *arg, int *stop);

/* ---- lru.c ---------------------------------------------------------------- */

#define CACHE_LRU_BUMP_MS 1000u
/* The same window in whole ticks of the item's clock (cache_int.h):
 * idle_ms >= 1000 on a clock of 256 ms steps is idle_ticks >= 4. */
#define CACHE_LRU_BUMP_TICKS ((CACHE_LRU_BUMP_MS + (1u << CACHE_LRU_TICK_SHIFT) - 1) >> \
                              CACHE_LRU_TICK_SHIFT)
void cache__lru_push_locked(struct shard *s, struct item *it, int64_t now);
void cache__lru_unlink_locked(struct shard *s, struct item *it);
void cache__lru_touch_locked(struct shard *s, struct item *it, int64_t now);
void cache__lru_bump_locked(struct shard *s, struct item *it, int64_t now);

/* ---- lfu.c ---------------------------------------------------------------- */

#define CACHE__LFU_INIT 5u   /* a new item's counter */
/* An LFU policy is on (relaxed load of the policy). */
bool cache__lfu_on(const struct cache *c);
/* The counter after idle_ms without access (pure: unit tests). */
unsigned cache__lfu_decay(unsigned counter, uint32_t idle_ms, int decay_minutes);
/* The counter after one hit, rnd a uniform 64-bit random (pure). */
unsigned cache__lfu_incr(unsigned counter, int log_factor, uint64_t rnd);
/* it's counter decayed to now, not stored. */
unsigned cache__lfu_now_locked(const struct cache *c, const struct item *it, int64_t now);
/* A hit: decay to now, then count it. Call before lru_ms moves. */
void cache__lfu_hit_locked(struct shard *s, struct item *it, int64_t now);

/* ---- expire.c ------------------------------------------------------------- */

/* The TTL index entry: an item's address (0: a free slot) and expiry. */
struct cache__ttl_ent {
    uintptr_t key;          /* guarded by: shard lock */
    int64_t at;             /* guarded by: shard lock; abs ms */
};
/* Ensures the index takes one more item; CACHE_E_NOMEM if it cannot. */
int cache__ttl_reserve_locked(struct shard *s);
void cache__ttl_free_locked(struct shard *s);
/* it's expiry (abs ms), 0 if it has none. */
int64_t cache__expire_of_locked(const struct shard *s, const struct item *it);
/* Sets it's expiry (0 = persist) keeping the TTL index right; needs a
 * reserved slot when going from none to some. `it` must be linked. */
void cache__set_expire_locked(struct shard *s, struct item *it, int64_t at);
/* Drops it's entry (unlink), keeping has_ttl clear. */
void cache__ttl_remove_locked(struct shard *s, struct item *it);
/* The item at `old` (its address before a realloc) now lives at nw. */
void cache__ttl_moved_locked(struct shard *s, uintptr_t old, struct item *nw);
/* debug.c: every entry findable, an item of s (by its key) with has_ttl,
 * a non-zero expiry, as many as nttl, at most 3/4 full. -1 with why. */
int cache__ttl_check_locked(const struct shard *s, char *why, size_t len);
/* A TTL'd item at random (NULL if none). */
struct item *cache__ttl_random_locked(const struct shard *s);

static inline bool item_expired(const struct shard *s, const struct item *it, int64_t now)
{
    return it->has_ttl && cache__expire_of_locked(s, it) <= now;
}

/* ---- evict.c -------------------------------------------------------------- */

/* Makes room for `need` more bytes in shard s (held), evicting from s only,
 * never `protect`. 0, CACHE_E_OOM, or CACHE__AGAIN (try other shards
 * after unlocking s). */
int cache__reserve_locked(struct shard *s, int64_t need,
                          const struct item *protect, int64_t now);
/* Context: no shard lock held. Evicts from shards other than `skip`
 * (NULL: any), one shard lock at a time. 0 or CACHE_E_OOM. */
int cache__evict_others(struct cache *c, const struct shard *skip,
                        int64_t need, int64_t now);
void cache__mem_flush_locked(struct shard *s);
bool cache__over_locked(struct shard *s, int64_t need);
/* The one place that decides, for a write adding `need` bytes to s, whether
 * it fits, must be refused (noeviction over the limit, or larger than
 * maxmemory itself), or may go ahead after evicting. */
enum cache__admit { CACHE__FITS, CACHE__REFUSE, CACHE__EVICT };
enum cache__admit cache__admit_locked(struct shard *s, int64_t need);
#define CACHE_EVICT_TRIES 3
int cache__reserve_or_evict_locked(struct shard *s, int64_t need,
                                   const struct item *protect, int64_t now,
                                   int *tries);
/* Bytes the TTL index would allocate to take one more item. */
size_t cache__ttl_grow_cost_locked(const struct shard *s);

/* ---- object.c: the value model (docs/types.md) -------------------------- */

/* How a value is stored. Inline encodings keep everything in the item's
 * value area; the others (from CACHE__ENC_TABLE on, but ZPACK) keep a
 * pointer there to a structure the type owns. */
enum cache__enc {
    CACHE__ENC_RAW = 0,       /* string bytes */
    CACHE__ENC_LISTPACK,      /* inline listpack.h block (hash, list, set) */
    CACHE__ENC_INTSET,        /* inline intset.h block (set) */
    CACHE__ENC_TABLE,         /* pointer: a cache__ctable of entries (hash, set) */
    CACHE__ENC_QUICKLIST,     /* pointer: a chain of listpacks (list; t_list.c) */
    CACHE__ENC_SKIPLIST,      /* pointer: an ordered index (zset; t_zset_big.c) */
    CACHE__ENC_ZPACK,         /* inline zpack.h block (zset): OBJECT ENCODING "listpack" */
};

/* The header's bit-fields hold these (struct item); its size is what
 * puts a 10-byte key with a 32-byte value in jemalloc's 80-byte class. */
_Static_assert(CACHE_TYPE_COUNT <= 8 && CACHE__ENC_ZPACK < 8, "type/enc fit 3 bits");
_Static_assert(offsetof(struct item, data) == 38, "the item header is 38 bytes");

static inline bool cache__item_has_ext(const struct item *it)
{
    return it->enc >= CACHE__ENC_TABLE && it->enc != CACHE__ENC_ZPACK;
}

/* What generic code needs from a type whose value may live outside its
 * item. Every function gets an item of that type; those marked "ext" only
 * for a pointer encoding. None takes a lock: the caller holds the item's
 * shard lock, or the item is unreachable (lazy free, a COPY being built). */
struct cache__type {
    /* ext: bytes the value owns outside the item (usable sizes), as
     * accounted to the shard while the item is linked. O(1). */
    size_t (*ext_bytes)(const struct item *it);
    /* ext: allocations that freeing the value takes (lazy free's test
     * against CACHE__LAZYFREE_EFFORT). O(1). */
    size_t (*free_effort)(const struct item *it);
    /* ext: frees what the value owns outside the item, not the item. */
    void (*free_ext)(struct item *it);
    /* ext: COPY. dst's value area holds a copy of src's (the pointer);
     * make dst own a deep copy, unaccounted (dst is linked later). 0 or
     * CACHE_E_NOMEM with nothing left allocated. */
    int (*dup_ext)(const struct item *src, struct item *dst);
    /* debug.c: the value's structural check (every encoding of the type,
     * inline ones included), and for a pointer encoding that ext_bytes
     * matches what it really owns. 0 or -1. */
    int (*check)(const struct item *it);
};
extern const struct cache__type cache__type_hash;
extern const struct cache__type cache__type_list;
extern const struct cache__type cache__type_set;
extern const struct cache__type cache__type_zset;
extern const struct cache__type *const cache__types[CACHE_TYPE_COUNT];

/* Frees taking more allocations than this go to the lazy-free thread when
 * the setting for that kind of delete says so (Redis's LAZYFREE_THRESHOLD). */
#define CACHE__LAZYFREE_EFFORT 64

const char *cache__enc_name(const struct item *it);
void *cache__item_ptr(const struct item *it);          /* pointer encodings */
void cache__item_set_ptr(struct item *it, void *p);
size_t cache__item_effort(const struct item *it);
/* Frees the value and the item. Context: it is unreachable. */
void cache__item_destroy(struct item *it);
/* Makes room for vcap value bytes in a linked item; NULL on ENOMEM (it is
 * unchanged). The item may move: use the returned pointer. */
struct item *cache__item_resize_locked(struct shard *s, struct item *it, size_t vcap);
/* The same through *itp: 0 or CACHE_E_NOMEM (*itp unchanged). */
int cache__item_room_locked(struct shard *s, struct item **itp, size_t vcap);
/* A new item of `type` holding an empty listpack inline (a compact
 * collection's start), unlinked, unaccounted. */
struct item *cache__item_new_lp(uint64_t h, const char *key, size_t klen, int type);
/* A deep copy of src under another key (COPY), not linked, not accounted. */
struct item *cache__item_dup(const struct item *src, uint64_t h,
                             const char *key, size_t klen);
int cache__item_check(const struct item *it);

/* Lookup for a typed operation: the live item of key if it has `type`;
 * NULL with *rc = CACHE_NOTFOUND (missing) or CACHE_E_WRONGTYPE. */
static inline struct item *cache__lookup_type_locked(struct shard *s, uint64_t h,
                                                     const char *key, size_t klen,
                                                     int64_t now, int type, int *rc)
{
    struct item *it = cache__lookup_locked(s, h, key, klen, now);
    if (!it) {
        *rc = CACHE_NOTFOUND;
        return NULL;
    }
    if (it->type != type) {
        *rc = CACHE_E_WRONGTYPE;
        return NULL;
    }
    *rc = CACHE_OK;
    return it;
}

/* The same for a read that counts as a use (LRU touched). */
static inline struct item *cache__lookup_read_locked(struct shard *s, uint64_t h,
                                                     const char *key, size_t klen,
                                                     int64_t now, int type, int *rc)
{
    struct item *it = cache__lookup_type_locked(s, h, key, klen, now, type, rc);
    if (it)
        cache__lru_touch_locked(s, it, now);
    return it;
}

/* ---- blocking/: serving blocked clients -----------------------------------
 * A write that adds elements to a list hands them to the clients blocked
 * on the key, in the order they blocked, under the lock it holds; what
 * must happen once no lock is held (a move into a key of a shard not
 * held, the wake calls) is collected in a struct cache__serve and done by
 * cache__serve_end. docs/locking.md, "Blocking pops". */
struct cache_bpop;
struct cache__serve {
    struct cache_bpop *wakes;   /* served: wake once no lock is held (FIFO) */
    struct cache_bpop **wakes_tail;
    struct cache_bpop *moves;   /* served moves whose dst's shard is not held (FIFO) */
    struct cache_bpop **moves_tail;
    struct cache_bpop *ready;   /* served moves whose dst (in a held shard) may
                                   have waiters of its own */
    const unsigned *held;       /* the shard indexes this thread holds */
    size_t nheld;
    unsigned one;               /* held storage for a single shard */
    unsigned heldv[2];          /* held storage for a pair (RENAME, COPY) */
};
/* Context: the caller holds exactly held[0..nheld) (ascending). */
void cache__serve_begin(struct cache__serve *sv, const unsigned *held, size_t nheld);
void cache__serve_begin1(struct cache__serve *sv, const struct shard *s);
/* Context: s locked, one of sv's held. The list `key` just got elements:
 * serve its blocked clients while it has some. */
void cache__serve_key_locked(struct shard *s, struct cache__serve *sv, uint64_t h,
                             const char *key, size_t klen, int64_t now);
static inline bool cache__has_blocked_locked(const struct shard *s)
{
    return s->bkeys && cache__ct_count(s->bkeys) > 0;
}
/* Context: no shard lock held. Finishes the moves, then wakes. */
void cache__serve_end(struct cache *c, struct cache__serve *sv, int64_t now);
/* cache_destroy: frees what is left of the wait lists. */
void cache__blocking_free_locked(struct shard *s);
/* debug.c: the wait lists' structure, and no lost wake-up (a non-empty
 * list with a client still waiting on it). 0, or -1 with why. */
int cache__blocking_check_locked(struct shard *s, char *why, size_t cap);

/* ---- lazyfree.c ------------------------------------------------------------ */

/* Context: s locked (or an unlocked bug-lab path); it already unlinked
 * and unaccounted. Frees a small value now, defers a large one to the
 * thread's last shard unlock (docs/types.md, "Freeing"). */
void cache__item_release_locked(struct shard *s, struct item *it, enum cache__why why);
/* Called by cache__shard_lock / cache__shard_unlock (after unlocking). */
void cache__lock_depth_inc(void);
void cache__lock_depth_dec(void);
/* Context: no shard lock held. Frees or hands over the deferred values. */
void cache__lazy_drain(void);
/* Context: no shard lock held. n items chained by ->next, `bytes` in all. */
void cache__lazy_hand_chain(struct cache *c, struct item *head, uint64_t n,
                            uint64_t bytes);
int cache__lazy_init(struct cache *c);
void cache__lazy_stop(struct cache *c);

/* ---- numfmt.c: Redis's number rules (private copies; cache must not
 * depend on proto) ------------------------------------------------------- */

#define CACHE__LONG_STR_SIZE 21
int cache__string2ll(const char *s, size_t slen, long long *value);
int cache__ll2string(char *dst, size_t dstlen, long long v);
int cache__string2ld(const char *s, size_t slen, long double *dp);
int cache__ld2string(char *buf, size_t len, long double value);
/* INCRBY / INCRBYFLOAT on a stored value (cur NULL: absent, 0), for every
 * type that has them: OK, E_NOTINT / E_NOTFLOAT, E_OVERFLOW / E_NANINF,
 * E_TOOBIG (buf under CACHE_LD_MAX_CHARS). */
int cache__incr_ll(const char *cur, size_t len, long long delta, long long *out);
int cache__incr_ld(const char *cur, size_t len, long double delta, char *buf,
                   size_t cap, size_t *outlen);

/* ---- debug.c -------------------------------------------------------------- */

/* Context: any thread; takes each shard lock in turn. Checks: every table
 * item is in the LRU exactly once and vice versa, list length == count,
 * table used counts, TTL index consistent with expire_at, memory sum ==
 * accounted, hashes in the right shard and bucket. 0 or -1 (and prints). */
int cache__check_invariants(struct cache *c);

#endif
