/*
 * keyops.c: single-key operations that work on a key of any type: DEL,
 * UNLINK, EXISTS, TOUCH, TYPE, MEMORY USAGE. (TTLs: expire.c; RENAME and
 * COPY: multikey.c.)
 */
#include "cache_int.h"
#include "t_hash.h"
#include "t_list.h"
#include "t_set.h"

static int del_generic(struct cache *c, const char *key, size_t klen,
                       int64_t now, enum cache__why why)
{
    uint64_t h = cache__hash(c, key, klen);
    struct shard *s = cache__shard_of(c, h);
    int rc = CACHE_NOTFOUND;

    cache__shard_lock(s);
    struct item *it = cache__lookup_locked(s, h, key, klen, now);
    if (it) {
        cache__delete_locked(s, it, why);
        cache__shard_tidy_locked(s);
        rc = CACHE_OK;
    }
    cache__shard_unlock(s);   /* a large value is freed after this */
    return rc;
}

int cache_del(struct cache *c, const char *key, size_t klen, int64_t now)
{
    return del_generic(c, key, klen, now, CACHE__WHY_USER_DEL);
}

int cache_unlink(struct cache *c, const char *key, size_t klen, int64_t now)
{
    return del_generic(c, key, klen, now, CACHE__WHY_UNLINK);
}

int cache_type(struct cache *c, const char *key, size_t klen, int64_t now,
               int *type, const char **encoding)
{
    uint64_t h = cache__hash(c, key, klen);
    struct shard *s = cache__shard_of(c, h);

    cache__shard_lock(s);
    struct item *it = cache__lookup_locked(s, h, key, klen, now);
    if (it) {
        if (type)
            *type = it->type;
        if (encoding)
            *encoding = cache__enc_name(it);
    }
    cache__shard_unlock(s);
    return it ? CACHE_OK : CACHE_NOTFOUND;
}

/* Elements of a collection item (enum cache_type's collections). */
static uint64_t card_of(const struct item *it)
{
    switch (it->type) {
    case CACHE_TYPE_HASH: return cache__hash_len(it);
    case CACHE_TYPE_LIST: return cache__list_len(it);
    case CACHE_TYPE_SET: return cache__set_card(it);
    default: return 0;
    }
}

int cache_card(struct cache *c, int type, const char *key, size_t klen, int64_t now,
               uint64_t *n)
{
    uint64_t h = cache__hash(c, key, klen);
    struct shard *s = cache__shard_of(c, h);
    int rc;

    cache__shard_lock(s);
    struct item *it = cache__lookup_read_locked(s, h, key, klen, now, type, &rc);
    *n = it ? card_of(it) : 0;
    cache__shard_unlock(s);
    return rc;
}

int cache_exists(struct cache *c, const char *key, size_t klen, int64_t now)
{
    uint64_t h = cache__hash(c, key, klen);
    struct shard *s = cache__shard_of(c, h);

    cache__shard_lock(s);
    struct item *it = cache__lookup_locked(s, h, key, klen, now);
    cache__shard_unlock(s);
    return it ? CACHE_OK : CACHE_NOTFOUND;
}

int cache_touch(struct cache *c, const char *key, size_t klen, int64_t now)
{
    uint64_t h = cache__hash(c, key, klen);
    struct shard *s = cache__shard_of(c, h);

    cache__shard_lock(s);
    struct item *it = cache__lookup_locked(s, h, key, klen, now);
    if (it)
        cache__lru_bump_locked(s, it, now);
    cache__shard_unlock(s);
    return it ? CACHE_OK : CACHE_NOTFOUND;
}

int cache_memory_usage(struct cache *c, const char *key, size_t klen,
                       int64_t now, size_t *bytes)
{
    uint64_t h = cache__hash(c, key, klen);
    struct shard *s = cache__shard_of(c, h);

    cache__shard_lock(s);
    struct item *it = cache__lookup_locked(s, h, key, klen, now);
    if (it)
        *bytes = cache__item_size(it);
    cache__shard_unlock(s);
    return it ? CACHE_OK : CACHE_NOTFOUND;
}
