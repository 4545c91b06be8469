/*
 * zsetrange.c: the sorted set commands over a range of one key: ZRANGE
 * (BYSCORE, BYLEX, REV, LIMIT, WITHSCORES) and the older forms that the
 * server maps onto it, ZCOUNT, ZLEXCOUNT, ZREMRANGEBYRANK/SCORE/LEX; and
 * the range resolution that ZRANGESTORE (zsetmulti.c) shares.
 *
 * A range is resolved to its first member and its length with Redis's
 * rules (genericZrangebyrankCommand's index clamping; a LIMIT offset
 * past the range, or negative, gives nothing; a negative count is no
 * limit), by ranks: O(log n) in the tree whatever the range's size. The
 * copy is then bounded by the caller's output limit, so ZRANGE 0 -1 of a
 * huge set stops copying where the client could not be sent more.
 */
#include <stdlib.h>
#include <string.h>

#include "t_zset.h"

int cache__zset_range_locked(const struct item *it, const struct cache_zrange *r,
                             struct cache__zpos *first, uint64_t *n)
{
    uint64_t card = cache__zset_card(it);
    struct cache__zpos a, b;

    *n = 0;
    if (r->by == CACHE_ZBY_RANK) {
        long long llen = (long long)card, start = r->start, end = r->end;
        if (start < 0)
            start += llen;
        if (end < 0)
            end += llen;
        if (start < 0)
            start = 0;
        if (start > end || start >= llen)
            return 0;
        if (end >= llen)
            end = llen - 1;
        *n = (uint64_t)(end - start + 1);
        cache__zset_at(it, r->rev ? card - 1 - (uint64_t)start : (uint64_t)start, first);
        return 0;
    }
    if (r->by == CACHE_ZBY_SCORE) {
        cache__zset_first_score(it, &r->score, &a);
        cache__zset_last_score(it, &r->score, &b);
    } else {
        cache__zset_first_lex(it, &r->lex, &a);
        cache__zset_last_lex(it, &r->lex, &b);
    }
    if (!a.ok || !b.ok || b.rank < a.rank || r->offset < 0)
        return 0;
    uint64_t inrange = b.rank - a.rank + 1;
    if ((uint64_t)r->offset >= inrange)
        return 0;
    *n = inrange - (uint64_t)r->offset;
    if (r->limit >= 0 && (uint64_t)r->limit < *n)
        *n = (uint64_t)r->limit;
    cache__zset_at(it, r->rev ? b.rank - (uint64_t)r->offset : a.rank + (uint64_t)r->offset,
                   first);
    return 0;
}

int cache__zset_copy_range(const struct item *it, const struct cache_zrange *r,
                           struct cache__zpos *p, uint64_t n, size_t max_bytes, int withscores,
                           struct cache_keys *out)
{
    struct cache__zent e;
    int rc = CACHE_OK;

    if (r->rev && n > 0 && it->enc == CACHE__ENC_ZPACK) {
        /* a compact set walks forwards only (zpack.h): the positions first */
        struct cache__zpos *v = malloc(n * sizeof(*v));
        if (!v)
            return CACHE_E_NOMEM;
        cache__zset_at(it, p->rank - (n - 1), &v[0]);
        for (uint64_t i = 1; i < n; i++) {
            v[i] = v[i - 1];
            cache__zset_next(it, &v[i]);
        }
        for (uint64_t i = 0; i < n && rc == CACHE_OK; i++) {
            cache__zset_get(it, &v[n - 1 - i], &e);
            if (out->len + e.len > max_bytes)
                break;
            rc = withscores ? cache__zset_push(out, &e) : cache__keys_push(out, e.s, e.len);
        }
        free(v);
        return rc;
    }
    for (uint64_t i = 0; i < n && rc == CACHE_OK; i++) {
        cache__zset_get(it, p, &e);
        if (out->len + e.len > max_bytes)
            break;   /* the client could not be sent more: the reply is cut */
        rc = withscores ? cache__zset_push(out, &e) : cache__keys_push(out, e.s, e.len);
        if (r->rev)
            cache__zset_prev(it, p);
        else
            cache__zset_next(it, p);
    }
    return rc;
}

int cache_zrange(struct cache *c, const char *key, size_t klen, const struct cache_zrange *r,
                 size_t max_bytes, int64_t now, struct cache_keys *out, uint64_t *total)
{
    uint64_t h = cache__hash(c, key, klen);
    struct shard *s = cache__shard_of(c, h);
    struct cache__zpos p;
    int rc;

    *total = 0;
    cache__shard_lock(s);
    struct item *it = cache__lookup_read_locked(s, h, key, klen, now, CACHE_TYPE_ZSET, &rc);
    if (it) {
        cache__zset_range_locked(it, r, &p, total);
        rc = cache__zset_copy_range(it, r, &p, *total, max_bytes, r->withscores, out);
    }
    cache__shard_unlock(s);
    return rc;
}

/* The whole of r, in order: ZCOUNT and ZREMRANGEBY* know no REV or LIMIT. */
static void whole(struct cache_zrange *all, const struct cache_zrange *r)
{
    *all = *r;
    all->rev = 0;
    all->offset = 0;
    all->limit = -1;
}

int cache_zcount(struct cache *c, const char *key, size_t klen, const struct cache_zrange *r,
                 int64_t now, uint64_t *count)
{
    uint64_t h = cache__hash(c, key, klen);
    struct shard *s = cache__shard_of(c, h);
    struct cache_zrange all;
    struct cache__zpos p;
    int rc;

    *count = 0;
    whole(&all, r);
    cache__shard_lock(s);
    struct item *it = cache__lookup_read_locked(s, h, key, klen, now, CACHE_TYPE_ZSET, &rc);
    if (it) {
        cache__zset_range_locked(it, &all, &p, count);
    }
    cache__shard_unlock(s);
    return rc;
}

int cache_zremrange(struct cache *c, const char *key, size_t klen, const struct cache_zrange *r,
                    int64_t now, uint64_t *removed)
{
    uint64_t h = cache__hash(c, key, klen), n;
    struct shard *s = cache__shard_of(c, h);
    struct cache_zrange fwd;
    struct cache__zpos p;
    int rc;

    *removed = 0;
    whole(&fwd, r);
    cache__shard_lock(s);
    struct item *it = cache__lookup_type_locked(s, h, key, klen, now, CACHE_TYPE_ZSET, &rc);
    if (it) {
        cache__zset_range_locked(it, &fwd, &p, &n);
        if (n > 0)
            *removed = cache__zset_del_ranks_locked(s, &it, p.rank, p.rank + n - 1);
        cache__coll_write_done_locked(s, it, cache__zset_card(it), now);
    }
    cache__shard_unlock(s);
    return rc;
}
