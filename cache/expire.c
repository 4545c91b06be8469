/*
 * expire.c: TTLs. Lazy expiry lives in cache__lookup_locked (shard.c);
 * this file keeps the per-shard TTL index and does active expiry.
 *
 * TTL index: an unordered array of the shard's items that have a TTL; each
 * such item stores its slot (ttl_idx), so add and remove are O(1) (remove
 * moves the last entry into the hole). Active expiry walks the array with
 * a rotating hand, a small batch per lock hold, so a shard is never stalled
 * and every TTL'd item is examined once per lap. The array's memory is
 * accounted with the shard's.
 */
#include <malloc.h>
#include <stdlib.h>

#include "cache_int.h"

#define TTL_MIN_CAP 16u
#define EXPIRE_BATCH 32u     /* items examined per lock hold */

/* Context: shard lock held. Ensures one free slot; CACHE_E_NOMEM if not. */
int cache__ttl_reserve_locked(struct shard *s)
{
    uint32_t n = (uint32_t)RLX_LOAD(s->nttl);

    ASSERT_LOCKED(s);
    if (n < s->ttl_cap)
        return CACHE_OK;
    uint32_t cap = s->ttl_cap ? s->ttl_cap * 2 : TTL_MIN_CAP;
    size_t before = s->ttl ? malloc_usable_size(s->ttl) : 0;
    struct item **t = realloc(s->ttl, cap * sizeof(*t));
    if (!t)
        return CACHE_E_NOMEM;
    s->ttl = t;
    s->ttl_cap = cap;
    cache__mem_add_locked(s, (int64_t)malloc_usable_size(t) - (int64_t)before);
    return CACHE_OK;
}

size_t cache__ttl_grow_cost_locked(const struct shard *s)
{
    if (RLX_LOAD(s->nttl) < s->ttl_cap)
        return 0;
    return (s->ttl_cap ? s->ttl_cap : TTL_MIN_CAP) * sizeof(struct item *);
}

void cache__ttl_add_locked(struct shard *s, struct item *it)
{
    uint32_t n = (uint32_t)RLX_LOAD(s->nttl);

    ASSERT_LOCKED(s);
    assert(it->ttl_idx == ITEM_NO_TTL && n < s->ttl_cap);
    s->ttl[n] = it;
    it->ttl_idx = n;
    RLX_STORE(s->nttl, n + 1);
}

static void ttl_maybe_shrink(struct shard *s)
{
    uint32_t n = (uint32_t)RLX_LOAD(s->nttl);

    if (s->ttl_cap <= TTL_MIN_CAP || n >= s->ttl_cap / 4)
        return;
    uint32_t cap = s->ttl_cap / 2;
    size_t before = malloc_usable_size(s->ttl);
    struct item **t = realloc(s->ttl, cap * sizeof(*t));
    if (!t)
        return;   /* keep the bigger array */
    s->ttl = t;
    s->ttl_cap = cap;
    cache__mem_add_locked(s, (int64_t)malloc_usable_size(t) - (int64_t)before);
}

void cache__ttl_remove_locked(struct shard *s, struct item *it)
{
    uint32_t n = (uint32_t)RLX_LOAD(s->nttl);
    uint32_t i = it->ttl_idx;

    ASSERT_LOCKED(s);
    assert(i < n && s->ttl[i] == it);
    s->ttl[i] = s->ttl[n - 1];
    s->ttl[i]->ttl_idx = i;
    it->ttl_idx = ITEM_NO_TTL;
    RLX_STORE(s->nttl, n - 1);
    ttl_maybe_shrink(s);
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
    if (at && it->ttl_idx == ITEM_NO_TTL)
        cache__ttl_add_locked(s, it);
    else if (!at && it->ttl_idx != ITEM_NO_TTL)
        cache__ttl_remove_locked(s, it);
    it->expire_at = at;
}

/* Examines up to `budget` TTL'd items from the hand on; deletes due ones. */
static uint64_t expire_batch_locked(struct shard *s, unsigned budget, int64_t now)
{
    uint64_t deleted = 0;

    ASSERT_LOCKED(s);
    while (budget--) {
        uint32_t n = (uint32_t)RLX_LOAD(s->nttl);
        if (n == 0)
            break;
        if (s->ttl_hand >= n)
            s->ttl_hand = 0;
        struct item *it = s->ttl[s->ttl_hand];
        if (item_expired(it, now)) {
            /* The last entry moves into this slot: look at it next. */
            cache__delete_locked(s, it, CACHE__WHY_EXPIRE);
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
    int64_t cur = it->expire_at;   /* 0 = none = infinite for GT/LT */
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
    else if (it->expire_at == 0)
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
        *expire_at = it->expire_at;
    cache__shard_unlock(s);
    return rc;
}
