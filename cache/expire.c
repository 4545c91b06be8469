/*
 * expire.c: TTLs. Lazy expiry lives in cache__lookup_locked (shard.c);
 * this file keeps the per-shard TTL index and does active expiry.
 *
 * TTL index: the expiry of an item is not in the item (most keys of a
 * cache have none, and 12 bytes per item were a sixth of a small one;
 * issue 22) but in its shard's index, an open-addressing table of
 * {item address, expire_at} with linear probing, kept at most 3/4 full;
 * the item only carries the has_ttl bit, so a GET of a key without a TTL
 * never looks here. Add, find and remove are O(1) expected (remove shifts
 * the following run back, so no tombstones). An item whose allocation
 * moves (realloc: RENAME, a compact encoding's resize) is re-keyed. Active
 * expiry walks the slots with a rotating hand, a small batch per lock
 * hold, so a shard is never stalled and every TTL'd item is examined about
 * once per lap (a remove's backward shift can carry an entry past the
 * hand; the next lap sees it). Volatile eviction samples random slots. The
 * table's memory is accounted with the shard's. Growing rehashes the
 * whole table at once: with the default 1024 shards that is a few
 * thousand entries at most per million TTL'd keys.
 */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>

#include "cache_int.h"

#define TTL_MIN_CAP 16u
#define EXPIRE_BATCH 32u     /* items examined per lock hold */

static uint32_t ttl_home(const struct shard *s, uintptr_t key)
{
    /* Fibonacci hashing of the address (its low 4 bits are always 0). */
    uint64_t x = (uint64_t)(key >> 4) * 0x9e3779b97f4a7c15ull;
    return (uint32_t)(x >> 32) & (s->ttl_cap - 1);
}

static bool ttl_fits(uint32_t n, uint32_t cap)
{
    return (uint64_t)n * 4 <= (uint64_t)cap * 3;
}

/* Rebuilds the index with cap slots. CACHE_E_NOMEM leaves it as it was. */
static int ttl_resize(struct shard *s, uint32_t cap)
{
    struct cache__ttl_ent *old = s->ttl, *t = calloc(cap, sizeof(*t));
    uint32_t oldcap = s->ttl_cap;
    size_t before = old ? malloc_usable_size(old) : 0;

    if (!t)
        return CACHE_E_NOMEM;
    s->ttl = t;
    s->ttl_cap = cap;
    for (uint32_t i = 0; i < oldcap; i++) {
        if (!old[i].key)
            continue;
        uint32_t j = ttl_home(s, old[i].key);
        while (t[j].key)
            j = (j + 1) & (cap - 1);
        t[j] = old[i];
    }
    free(old);
    s->ttl_hand = 0;
    cache__mem_add_locked(s, (int64_t)malloc_usable_size(t) - (int64_t)before);
    return CACHE_OK;
}

/* Context: shard lock held. Ensures room for one more; CACHE_E_NOMEM if not. */
int cache__ttl_reserve_locked(struct shard *s)
{
    uint32_t n = (uint32_t)RLX_LOAD(s->nttl);

    ASSERT_LOCKED(s);
    if (s->ttl && ttl_fits(n + 1, s->ttl_cap))
        return CACHE_OK;
    if (s->ttl_cap >= (1u << 31))
        return CACHE_E_NOMEM;
    return ttl_resize(s, s->ttl ? s->ttl_cap * 2 : TTL_MIN_CAP);
}

size_t cache__ttl_grow_cost_locked(const struct shard *s)
{
    if (s->ttl && ttl_fits((uint32_t)RLX_LOAD(s->nttl) + 1, s->ttl_cap))
        return 0;
    return (s->ttl ? s->ttl_cap * 2 : TTL_MIN_CAP) * sizeof(struct cache__ttl_ent);
}

/* The slot holding key, or ttl_cap if none. */
static uint32_t ttl_find(const struct shard *s, uintptr_t key)
{
    if (!s->ttl)
        return s->ttl_cap;
    for (uint32_t i = ttl_home(s, key);; i = (i + 1) & (s->ttl_cap - 1)) {
        if (s->ttl[i].key == key)
            return i;
        if (!s->ttl[i].key)
            return s->ttl_cap;
    }
}

static void ttl_insert(struct shard *s, uintptr_t key, int64_t at)
{
    uint32_t i = ttl_home(s, key);

    while (s->ttl[i].key)
        i = (i + 1) & (s->ttl_cap - 1);
    s->ttl[i].key = key;
    s->ttl[i].at = at;
}

/* Empties slot i, shifting back every entry of the run after it that may
 * move (whose home is not in (i, j]), so lookups never stop early. */
static void ttl_delete_slot(struct shard *s, uint32_t i)
{
    uint32_t mask = s->ttl_cap - 1, j = i;

    for (;;) {
        j = (j + 1) & mask;
        if (!s->ttl[j].key)
            break;
        uint32_t home = ttl_home(s, s->ttl[j].key);
        /* Cyclically, home in (i, j] means the entry must stay. */
        if (i <= j ? (i < home && home <= j) : (i < home || home <= j))
            continue;
        s->ttl[i] = s->ttl[j];
        i = j;
    }
    s->ttl[i].key = 0;
    s->ttl[i].at = 0;
}

int64_t cache__expire_of_locked(const struct shard *s, const struct item *it)
{
    if (!it->has_ttl)
        return 0;
    uint32_t i = ttl_find(s, (uintptr_t)it);
    assert(i < s->ttl_cap);
    return i < s->ttl_cap ? s->ttl[i].at : 0;
}

static void ttl_maybe_shrink(struct shard *s)
{
    uint32_t n = (uint32_t)RLX_LOAD(s->nttl);

    if (s->ttl_cap <= TTL_MIN_CAP || n >= s->ttl_cap / 8)
        return;
    (void)ttl_resize(s, s->ttl_cap / 2);   /* on failure keep the bigger one */
}

void cache__ttl_remove_locked(struct shard *s, struct item *it)
{
    uint32_t i = ttl_find(s, (uintptr_t)it);

    ASSERT_LOCKED(s);
    assert(it->has_ttl && i < s->ttl_cap);
    ttl_delete_slot(s, i);
    it->has_ttl = 0;
    RLX_STORE(s->nttl, RLX_LOAD(s->nttl) - 1);
    ttl_maybe_shrink(s);
}

void cache__ttl_moved_locked(struct shard *s, uintptr_t old, struct item *nw)
{
    uint32_t i = ttl_find(s, old);

    ASSERT_LOCKED(s);
    assert(nw->has_ttl && i < s->ttl_cap);
    int64_t at = s->ttl[i].at;
    ttl_delete_slot(s, i);
    ttl_insert(s, (uintptr_t)nw, at);
}

void cache__ttl_free_locked(struct shard *s)
{
    ASSERT_LOCKED(s);
    if (s->ttl) {
        cache__mem_add_locked(s, -(int64_t)malloc_usable_size(s->ttl));
        free(s->ttl);
    }
    s->ttl = NULL;
    s->ttl_cap = 0;
    s->ttl_hand = 0;
    RLX_STORE(s->nttl, 0);
}

void cache__set_expire_locked(struct shard *s, struct item *it, int64_t at)
{
    ASSERT_LOCKED(s);
    if (it->has_ttl && at) {
        uint32_t i = ttl_find(s, (uintptr_t)it);
        assert(i < s->ttl_cap);
        if (i < s->ttl_cap)
            s->ttl[i].at = at;
    } else if (it->has_ttl) {
        cache__ttl_remove_locked(s, it);
    } else if (at) {
        uint64_t n = RLX_LOAD(s->nttl);
        assert(s->ttl && ttl_fits((uint32_t)n + 1, s->ttl_cap));
        ttl_insert(s, (uintptr_t)it, at);
        it->has_ttl = 1;
        RLX_STORE(s->nttl, n + 1);
    }
}

struct item *cache__ttl_random_locked(const struct shard *s)
{
    if (RLX_LOAD(s->nttl) == 0)
        return NULL;
    /* At least 1/8 full (ttl_maybe_shrink): a few probes on average. */
    for (uint32_t i = (uint32_t)cache__rand() & (s->ttl_cap - 1);;
         i = (i + 1) & (s->ttl_cap - 1))
        if (s->ttl[i].key)
            return (struct item *)s->ttl[i].key;
}

/* Examines up to `budget` TTL'd items (and 4 x budget slots) from the hand
 * on; deletes due ones. */
static uint64_t expire_batch_locked(struct shard *s, unsigned budget, int64_t now)
{
    uint64_t deleted = 0;
    unsigned slots = budget * 4;

    ASSERT_LOCKED(s);
    while (budget && slots-- && RLX_LOAD(s->nttl) != 0) {
        if (s->ttl_hand >= s->ttl_cap)
            s->ttl_hand = 0;
        struct cache__ttl_ent *e = &s->ttl[s->ttl_hand];
        if (!e->key) {
            s->ttl_hand++;
            continue;
        }
        budget--;
        if (e->at <= now) {
            /* The run after it shifts back into this slot: look at it
             * next. A shrink restarts the hand. */
            cache__delete_locked(s, (struct item *)e->key, CACHE__WHY_EXPIRE);
            CTR_ADD_LOCKED(s->expired, 1);
            deleted++;
        } else {
            s->ttl_hand++;
        }
    }
    return deleted;
}

uint64_t cache_active_expire(struct cache *c, unsigned first, unsigned n,
                             unsigned samples, int64_t now)
{
    uint64_t deleted = 0;

    if (n > c->nshards)
        n = c->nshards;
    for (unsigned j = 0; j < n; j++) {
        struct shard *s = &c->shards[(first + j) & (c->nshards - 1)];
        unsigned left = samples;
        do {
            unsigned batch = left < EXPIRE_BATCH ? left : EXPIRE_BATCH;
            cache__shard_lock(s);
            /* Idle shards finish their resize here too. */
            cache__table_rehash_locked(s, 16);
            uint64_t d = expire_batch_locked(s, batch, now);
            if (d)
                cache__shard_tidy_locked(s);
            bool empty = RLX_LOAD(s->nttl) == 0;
            cache__shard_unlock(s);
            deleted += d;
            left -= batch;
            if (empty)
                break;
        } while (left > 0);
    }
    return deleted;
}

/* ---- Public TTL operations ----------------------------------------------- */

int cache_expire(struct cache *c, const char *key, size_t klen,
                 int64_t expire_at, int flags, int64_t now)
{
    uint64_t h = cache__hash(c, key, klen);
    struct shard *s = cache__shard_of(c, h);
    int rc = CACHE_OK;

    cache__shard_lock(s);
    struct item *it = cache__lookup_locked(s, h, key, klen, now);
    if (!it) {
        rc = CACHE_NOTFOUND;
        goto out_unlock;
    }
    int64_t cur = cache__expire_of_locked(s, it);   /* 0 = none = infinite for GT/LT */
    if (((flags & CACHE_EXP_NX) && cur != 0) ||
        ((flags & CACHE_EXP_XX) && cur == 0) ||
        ((flags & CACHE_EXP_GT) && (cur == 0 || expire_at <= cur)) ||
        ((flags & CACHE_EXP_LT) && cur != 0 && expire_at >= cur)) {
        rc = CACHE_NOTSET;
        goto out_unlock;
    }
    if (expire_at <= now) {
        cache__delete_locked(s, it, CACHE__WHY_EXPIRE);
        cache__shard_tidy_locked(s);
        goto out_unlock;
    }
    if (cur == 0 && (rc = cache__ttl_reserve_locked(s)) != CACHE_OK)
        goto out_unlock;
    cache__set_expire_locked(s, it, expire_at);
out_unlock:
    cache__shard_unlock(s);
    return rc;
}

int cache_persist(struct cache *c, const char *key, size_t klen, int64_t now)
{
    uint64_t h = cache__hash(c, key, klen);
    struct shard *s = cache__shard_of(c, h);
    int rc = CACHE_OK;

    cache__shard_lock(s);
    struct item *it = cache__lookup_locked(s, h, key, klen, now);
    if (!it)
        rc = CACHE_NOTFOUND;
    else if (!it->has_ttl)
        rc = CACHE_NOTSET;
    else
        cache__set_expire_locked(s, it, 0);
    cache__shard_unlock(s);
    return rc;
}

int cache_ttl(struct cache *c, const char *key, size_t klen, int64_t now,
              int64_t *expire_at)
{
    uint64_t h = cache__hash(c, key, klen);
    struct shard *s = cache__shard_of(c, h);
    int rc = CACHE_OK;

    cache__shard_lock(s);
    struct item *it = cache__lookup_locked(s, h, key, klen, now);
    if (!it)
        rc = CACHE_NOTFOUND;
    else
        *expire_at = cache__expire_of_locked(s, it);
    cache__shard_unlock(s);
    return rc;
}

int cache__ttl_check_locked(const struct shard *s, char *why, size_t len)
{
    uint64_t n = 0;

    for (uint32_t i = 0; i < s->ttl_cap; i++) {
        const struct cache__ttl_ent *e = &s->ttl[i];
        if (!e->key)
            continue;
        n++;
        struct item *it = (struct item *)e->key;
        const char *bad = ttl_find(s, e->key) != i ? "TTL entry not findable"
                          : !it->has_ttl ? "TTL entry of an item without has_ttl"
                          : e->at == 0 ? "TTL entry with no expiry"
                          : cache__table_find_locked((struct shard *)(uintptr_t)s,
                                                     item_hash(it), item_key(it),
                                                     item_klen(it)) != it
                          ? "TTL entry of an item not in the table" : NULL;
        if (bad) {
            snprintf(why, len, "%s (slot %u)", bad, i);
            return -1;
        }
    }
    if (n != RLX_LOAD(s->nttl) || (s->ttl && !ttl_fits((uint32_t)n, s->ttl_cap))) {
        snprintf(why, len, "TTL index holds %lu, nttl %lu, %u slots", (unsigned long)n,
                 (unsigned long)RLX_LOAD(s->nttl), s->ttl_cap);
        return -1;
    }
    return 0;
}
