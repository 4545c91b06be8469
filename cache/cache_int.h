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

#include "cache.h"
#include "inject.h"

/* ---- Items ---------------------------------------------------------------
 * One allocation: header, key bytes, value bytes (binary safe, no NUL).
 * Every field is guarded by the lock of the shard whose table holds it;
 * an item is never reachable from two shards. */
struct item {
    struct item *hnext;     /* guarded by: shard lock; bucket chain */
    struct item *prev;      /* guarded by: shard lock; LRU, toward head */
    struct item *next;      /* guarded by: shard lock; LRU, toward tail */
    uint64_t hash;          /* immutable after init: xxh3 of the key */
    int64_t expire_at;      /* guarded by: shard lock; abs ms, 0 = none */
    uint32_t klen;          /* immutable after init */
    uint32_t vlen;          /* guarded by: shard lock (APPEND grows in place) */
    uint32_t ttl_idx;       /* guarded by: shard lock; slot in shard->ttl */
    uint32_t lru_ms;        /* guarded by: shard lock; low 32 bits of the
                               `now` of the last LRU bump, see lru.c */
    char data[];            /* key, then value */
};

#define ITEM_NO_TTL UINT32_MAX

static inline char *item_key(struct item *it) { return it->data; }
static inline char *item_val(struct item *it) { return it->data + it->klen; }

static inline bool item_expired(const struct item *it, int64_t now)
{
    return it->expire_at != 0 && it->expire_at <= now;
}

/* ---- Shards --------------------------------------------------------------- */

struct table {
    struct item **b;        /* bucket array, NULL if size 0 */
    uint64_t mask;          /* size - 1 (size is a power of two) */
    uint64_t used;          /* items in this table */
};

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
    struct table ht[2];     /* guarded by: lock; ht[1] only while rehashing */
    int64_t rehashidx;      /* guarded by: lock; -1 when not rehashing */
    struct item *lru_head;  /* guarded by: lock; most recently used */
    struct item *lru_tail;  /* guarded by: lock; eviction end */
    struct item **ttl;      /* guarded by: lock; items with a TTL, unordered */
    uint32_t ttl_cap;       /* guarded by: lock */
    uint32_t ttl_hand;      /* guarded by: lock; active expiry position */
    int64_t mem_flushed;    /* guarded by: lock; part of mem already added
                               to cache->mem_global */

    /* Written only under lock (relaxed load + store), read anywhere with
     * relaxed loads (stats, eviction's cheap "anything to evict?" test). */
    _Atomic uint64_t count;       /* atomic: relaxed; items in the table */
    _Atomic uint64_t nttl;        /* atomic: relaxed; items with a TTL */
    _Atomic uint64_t mem;         /* atomic: relaxed; exact usable bytes */
    _Atomic uint64_t evicted;     /* atomic: relaxed */
    _Atomic uint64_t expired;     /* atomic: relaxed; lazy + active */
    _Atomic uint64_t lock_waits;  /* atomic: relaxed; trylock failed */

    struct cache *c;        /* immutable after init */
    uint32_t id;            /* immutable after init */
    bool rw;                /* immutable after init: rwlock, not lock */
    /* Bug lab 3 only: Go's "hashWriting" flag. Not synchronised, on
     * purpose (as in Go's runtime): touched only by the unlocked SET of
     * bug 3, never by the correct code. */
    int map_writing;
} __attribute__((aligned(64)));

struct cache {
    struct shard *shards;   /* immutable after init (the array itself) */
    unsigned nshards;       /* immutable after init */
    unsigned shard_bits;    /* immutable after init: log2(nshards) */
    uint64_t seed;          /* immutable after init */
    _Atomic uint64_t maxmemory;  /* atomic: relaxed; a reload racing a
                                    write may apply either limit */
    _Atomic int policy;          /* atomic: relaxed; same */
    _Atomic int64_t mem_batch;   /* atomic: relaxed; flush threshold */
    /* Sum of every shard's mem_flushed. Each shard adds its pending delta
     * with one relaxed fetch_add once it reaches mem_batch bytes, so this
     * global is written once per ~mem_batch bytes, not once per operation.
     * Relaxed is enough: it is an estimate checked against maxmemory, and
     * no other data is published through it. */
    _Atomic int64_t mem_global __attribute__((aligned(64)));
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

struct item *cache__item_new(uint64_t h, const char *key, size_t klen,
                             const char *val, size_t vlen, size_t vcap);
size_t cache__item_size(const struct item *it);   /* malloc_usable_size */
size_t cache__item_vcap(const struct item *it);   /* value room in place */
void cache__mem_add_locked(struct shard *s, int64_t delta);

/* Links a fully built item everywhere (table, LRU head, TTL index) and
 * accounts it. TTL capacity must have been reserved if it->expire_at. */
void cache__link_locked(struct shard *s, struct item *it, int64_t now);
/* Unlinks and frees; no shrink (callers call cache__shard_tidy_locked). */
void cache__delete_locked(struct shard *s, struct item *it);
/* Unlinks without freeing (RENAME moves the allocation). */
void cache__detach_locked(struct shard *s, struct item *it);
/* Swaps `old` for `nw` (same key): nw takes the LRU head. */
void cache__replace_locked(struct shard *s, struct item *old,
                           struct item *nw, int64_t now);
/* Lookup with one incremental rehash step and lazy expiry. */
struct item *cache__lookup_locked(struct shard *s, uint64_t h,
                                  const char *key, size_t klen, int64_t now);
/* After deletes: maybe start a shrink. */
void cache__shard_tidy_locked(struct shard *s);
void cache__shard_clear_locked(struct shard *s);

int cache__val_copy(struct cache_val *out, const char *p, size_t n);
int cache__keys_push(struct cache_keys *k, const char *key, size_t klen);
uint64_t cache__rand(void);

/* ---- table.c: chained hash table with incremental (two-table) resize ---- */

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
void cache__lru_push_locked(struct shard *s, struct item *it, int64_t now);
void cache__lru_unlink_locked(struct shard *s, struct item *it);
void cache__lru_touch_locked(struct shard *s, struct item *it, int64_t now);
void cache__lru_bump_locked(struct shard *s, struct item *it, int64_t now);

/* ---- expire.c ------------------------------------------------------------- */

int cache__ttl_reserve_locked(struct shard *s);
void cache__ttl_add_locked(struct shard *s, struct item *it);
void cache__ttl_remove_locked(struct shard *s, struct item *it);
void cache__ttl_free_locked(struct shard *s);
/* Sets it's expiry (0 = persist) keeping the TTL index right; needs a
 * reserved slot when going from none to some. */
void cache__set_expire_locked(struct shard *s, struct item *it, int64_t at);

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

/* ---- numfmt.c: Redis's number rules (private copies; cache must not
 * depend on proto) ------------------------------------------------------- */

#define CACHE__LONG_STR_SIZE 21
int cache__string2ll(const char *s, size_t slen, long long *value);
int cache__ll2string(char *dst, size_t dstlen, long long v);
int cache__string2ld(const char *s, size_t slen, long double *dp);
int cache__ld2string(char *buf, size_t len, long double value);

/* ---- debug.c -------------------------------------------------------------- */

/* Context: any thread; takes each shard lock in turn. Checks: every table
 * item is in the LRU exactly once and vice versa, list length == count,
 * table used counts, TTL index consistent with expire_at, memory sum ==
 * accounted, hashes in the right shard and bucket. 0 or -1 (and prints). */
int cache__check_invariants(struct cache *c);

#endif
