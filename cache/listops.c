/*
 * listops.c: the list commands (cache.h, "Lists") over the list type's
 * interface (t_list.h). LMPOP, LMOVE and the blocking pops are in
 * cache/blocking/.
 *
 * Every function: hash the key once, lock its shard, look the key up
 * (lazy expiry; WRONGTYPE for another type), do the whole command, copy
 * out what the caller needs, unlock. Pushes first reserve an estimate of
 * what they may add (evicting per policy, never the list being written;
 * `retry:` when the lock had to be dropped to evict elsewhere), then
 * charge exactly what they did, and before unlocking hand the new
 * elements to clients blocked on the key (cache/blocking/).
 */
#include <stdlib.h>
#include <string.h>

#include "t_list.h"

/* An upper bound of what an element adds beside its bytes in a listpack
 * (tag, length, backlen, and a node's share of rounding). */
#define ELEM_OVERHEAD 16

/* Bytes adding `add` element bytes to `it` (NULL: a new key) may take:
 * the elements, a node's header, and when a compact list may convert, a
 * node as big as it. Only the maxmemory check uses it. */
static int64_t push_estimate(struct shard *s, const struct item *it, size_t klen,
                             uint64_t add, size_t n)
{
    int64_t need = (int64_t)(add + n * ELEM_OVERHEAD + CACHE__QNODE_HDR + 64);

    if (!it)
        return need + (int64_t)(ITEM_HDR + item_key_room(klen) + CACHE__LP_HDR +
                                cache__table_grow_cost_locked(s));
    if (it->enc == CACHE__ENC_LISTPACK)
        need += (int64_t)cache__item_size(it);
    return need;
}

int cache_lpush(struct cache *c, const char *key, size_t klen, int where,
                const struct cache_str *elems, size_t n, int xx, int64_t now,
                uint64_t *len)
{
    uint64_t h = cache__hash(c, key, klen), add = 0;
    struct shard *s = cache__shard_of(c, h);
    struct cache__serve sv;
    struct item *it;
    int rc, tries = 0;

    *len = 0;
    if (klen > CACHE_MAX_STRING)
        return CACHE_E_TOOBIG;
    for (size_t i = 0; i < n; i++) {
        if (elems[i].len > CACHE_MAX_STRING)
            return CACHE_E_TOOBIG;
        add += elems[i].len;
    }
    cache__shard_lock(s);
retry:
    it = cache__lookup_type_locked(s, h, key, klen, now, CACHE_TYPE_LIST, &rc);
    if (rc == CACHE_E_WRONGTYPE || (!it && xx))
        goto out_unlock;
    rc = cache__reserve_or_evict_locked(s, push_estimate(s, it, klen, add, n), it,
                                        now, &tries);
    if (rc == CACHE__AGAIN)
        goto retry;
    if (rc != CACHE_OK)
        goto out_unlock;
    if (!it) {
        if (!(it = cache__list_new(h, key, klen))) {
            rc = CACHE_E_NOMEM;
            goto out_unlock;
        }
        cache__link_locked(s, it, now);
    }
    for (size_t i = 0; i < n && rc == CACHE_OK; i++) {
        struct cache__lp_key k;
        cache__lp_key_str(&k, elems[i].s, elems[i].len);
        rc = cache__list_push_locked(s, &it, where, &k);
    }
    /* The length the pusher sees is before any blocked client takes its
     * share, as in Redis (which serves them after the command). */
    *len = cache__list_len(it);
    cache__coll_write_done_locked(s, it, cache__list_len(it), now);
    cache__serve_begin1(&sv, s);
    cache__serve_key_locked(s, &sv, h, key, klen, now);
    cache__shard_unlock(s);
    cache__serve_end(c, &sv, now);
    return rc;
out_unlock:
    cache__shard_unlock(s);
    return rc == CACHE_NOTFOUND ? CACHE_OK : rc;
}

int cache_lpop(struct cache *c, const char *key, size_t klen, int where,
               uint64_t count, int64_t now, struct cache_keys *out)
{
    uint64_t h = cache__hash(c, key, klen);
    struct shard *s = cache__shard_of(c, h);
    int rc;

    cache__shard_lock(s);
    struct item *it = cache__lookup_type_locked(s, h, key, klen, now,
                                                CACHE_TYPE_LIST, &rc);
    if (it && count > 0) {
        rc = cache__list_pop_locked(s, &it, where, count, out);
        cache__coll_write_done_locked(s, it, cache__list_len(it), now);
    }
    cache__shard_unlock(s);
    return rc;
}

/* Redis's range rules: [*start, *end] within [0, len), false if empty. */
static bool clamp_range(long long len, long long *start, long long *end)
{
    if (*start < 0)
        *start += len;
    if (*end < 0)
        *end += len;
    if (*start < 0)
        *start = 0;
    if (*start > *end || *start >= len)
        return false;
    if (*end >= len)
        *end = len - 1;
    return true;
}

int cache_lrange(struct cache *c, const char *key, size_t klen, long long start,
                 long long end, size_t max_bytes, int64_t now,
                 struct cache_keys *out, uint64_t *total)
{
    uint64_t h = cache__hash(c, key, klen);
    struct shard *s = cache__shard_of(c, h);
    struct cache__lpos p;
    int rc;

    *total = 0;
    cache__shard_lock(s);
    struct item *it = cache__lookup_read_locked(s, h, key, klen, now, CACHE_TYPE_LIST, &rc);
    if (it && clamp_range((long long)cache__list_len(it), &start, &end)) {
        *total = (uint64_t)(end - start + 1);
        size_t base = out->len;
        (void)cache__list_seek(it, start, &p);
        for (uint64_t i = 0; i < *total && rc == CACHE_OK; i++) {
            if (out->len - base > max_bytes)
                break;   /* the rest could not be sent: the caller closes */
            rc = cache__list_copy(it, &p, out);
            cache__list_next(it, &p);
        }
    }
    cache__shard_unlock(s);
    return rc;
}

int cache_lindex(struct cache *c, const char *key, size_t klen, long long index,
                 int64_t now, struct cache_val *out)
{
    uint64_t h = cache__hash(c, key, klen);
    struct shard *s = cache__shard_of(c, h);
    struct cache__lpos p;
    struct cache__lp_ent e;
    char buf[CACHE__LP_INTBUF];
    size_t len;
    int rc;

    cache__shard_lock(s);
    struct item *it = cache__lookup_read_locked(s, h, key, klen, now, CACHE_TYPE_LIST, &rc);
    if (it) {
        if (cache__list_seek(it, index, &p)) {
            cache__list_get(it, &p, &e);
            const char *v = cache__lp_ent_str(&e, buf, &len);
            rc = cache__val_copy(out, v, len);
        } else {
            rc = CACHE_NOELEM;
        }
    }
    cache__shard_unlock(s);
    return rc;
}

int cache_lset(struct cache *c, const char *key, size_t klen, long long index,
               const char *val, size_t vlen, int64_t now)
{
    uint64_t h = cache__hash(c, key, klen);
    struct shard *s = cache__shard_of(c, h);
    struct cache__lp_key k;
    int rc, tries = 0;

    if (vlen > CACHE_MAX_STRING)
        return CACHE_E_TOOBIG;
    cache__shard_lock(s);
retry:;
    struct item *it = cache__lookup_type_locked(s, h, key, klen, now,
                                                CACHE_TYPE_LIST, &rc);
    if (!it)
        goto out_unlock;
    /* A full node may split: a node's worth on top of the value. */
    rc = cache__reserve_or_evict_locked(s, push_estimate(s, it, klen, vlen, 1) + 8192,
                                        it, now, &tries);
    if (rc == CACHE__AGAIN)
        goto retry;
    if (rc == CACHE_OK) {
        cache__lp_key_str(&k, val, vlen);
        rc = cache__list_replace_locked(s, &it, index, &k);
        cache__lru_bump_locked(s, it, now);
    }
out_unlock:
    cache__shard_unlock(s);
    return rc;
}

int cache_linsert(struct cache *c, const char *key, size_t klen, int after,
                  const char *pivot, size_t plen, const char *val, size_t vlen,
                  int64_t now, long long *len)
{
    uint64_t h = cache__hash(c, key, klen);
    struct shard *s = cache__shard_of(c, h);
    struct cache__lp_key pk, k;
    struct cache__lpos p;
    int rc, tries = 0;

    *len = 0;
    if (vlen > CACHE_MAX_STRING)
        return CACHE_E_TOOBIG;
    cache__lp_key_str(&pk, pivot, plen);
    cache__lp_key_str(&k, val, vlen);
    cache__shard_lock(s);
retry:;
    struct item *it = cache__lookup_type_locked(s, h, key, klen, now,
                                                CACHE_TYPE_LIST, &rc);
    if (!it)
        goto out_unlock;
    bool found = cache__list_seek(it, 0, &p);
    while (found && !cache__list_eq(it, &p, &pk))
        found = cache__list_next(it, &p);
    if (!found) {
        *len = -1;
        goto out_unlock;
    }
    rc = cache__reserve_or_evict_locked(s, push_estimate(s, it, klen, vlen, 1) + 8192,
                                        it, now, &tries);
    if (rc == CACHE__AGAIN)
        goto retry;   /* the lock was dropped: find the pivot again */
    if (rc == CACHE_OK && (rc = cache__list_insert_locked(s, &it, &p, after, &k)) == CACHE_OK)
        *len = (long long)cache__list_len(it);
    cache__lru_bump_locked(s, it, now);
out_unlock:
    cache__shard_unlock(s);
    return rc == CACHE_NOTFOUND ? CACHE_OK : rc;
}

int cache_lrem(struct cache *c, const char *key, size_t klen, long long count,
               const char *val, size_t vlen, int64_t now, uint64_t *removed)
{
    uint64_t h = cache__hash(c, key, klen);
    struct shard *s = cache__shard_of(c, h);
    struct cache__lp_key k;
    struct cache__lpos p;
    int rc;

    *removed = 0;
    cache__lp_key_str(&k, val, vlen);
    /* Redis negates a negative count in a long: LLONG_MIN stays negative,
     * which never equals a count of removals, so it removes them all. */
    int toward_tail = count >= 0;
    uint64_t want = toward_tail ? (uint64_t)count : 0 - (uint64_t)count;
    if (count == INT64_MIN)
        want = 0;
    cache__shard_lock(s);
    struct item *it = cache__lookup_type_locked(s, h, key, klen, now,
                                                CACHE_TYPE_LIST, &rc);
    if (!it)
        goto out_unlock;
    bool more = cache__list_seek(it, toward_tail ? 0 : -1, &p);
    while (more) {
        if (cache__list_eq(it, &p, &k)) {
            cache__list_delete_locked(s, &it, &p, toward_tail);
            more = p.pos != 0;
            if (++*removed == want)
                break;
        } else {
            more = toward_tail ? cache__list_next(it, &p) : cache__list_prev(it, &p);
        }
    }
    cache__coll_write_done_locked(s, it, cache__list_len(it), now);
out_unlock:
    cache__shard_unlock(s);
    return rc == CACHE_NOTFOUND ? CACHE_OK : rc;
}

int cache_ltrim(struct cache *c, const char *key, size_t klen, long long start,
                long long end, int64_t now)
{
    uint64_t h = cache__hash(c, key, klen);
    struct shard *s = cache__shard_of(c, h);
    int rc;

    cache__shard_lock(s);
    struct item *it = cache__lookup_type_locked(s, h, key, klen, now,
                                                CACHE_TYPE_LIST, &rc);
    if (!it)
        goto out_unlock;
    uint64_t len = cache__list_len(it), ltrim, rtrim;
    if (clamp_range((long long)len, &start, &end)) {
        ltrim = (uint64_t)start;
        rtrim = len - (uint64_t)end - 1;
    } else {
        ltrim = len;
        rtrim = 0;
    }
    cache__list_del_range_locked(s, &it, 0, ltrim);
    cache__list_del_range_locked(s, &it, len - ltrim - rtrim, rtrim);
    cache__coll_write_done_locked(s, it, cache__list_len(it), now);
out_unlock:
    cache__shard_unlock(s);
    return rc == CACHE_NOTFOUND ? CACHE_OK : rc;
}

static int push_index(struct cache_val *out, int64_t v)
{
    if (out->len + sizeof(v) > out->cap) {
        size_t cap = out->cap ? out->cap * 2 : 64;
        char *d = realloc(out->data, cap);
        if (!d)
            return CACHE_E_NOMEM;
        out->data = d;
        out->cap = cap;
    }
    memcpy(out->data + out->len, &v, sizeof(v));
    out->len += sizeof(v);
    return CACHE_OK;
}

int cache_lpos(struct cache *c, const char *key, size_t klen, const char *val,
               size_t vlen, long long rank, long long count, long long maxlen,
               int64_t now, struct cache_val *out)
{
    uint64_t h = cache__hash(c, key, klen);
    struct shard *s = cache__shard_of(c, h);
    struct cache__lp_key k;
    struct cache__lpos p;
    int rc;

    out->len = 0;
    cache__lp_key_str(&k, val, vlen);
    /* As Redis: a negative rank walks from the tail; -LLONG_MIN wraps to
     * itself, which every match count passes. */
    int toward_tail = rank > 0;
    if (rank < 0)
        rank = rank == INT64_MIN ? rank : -rank;
    cache__shard_lock(s);
    struct item *it = cache__lookup_read_locked(s, h, key, klen, now, CACHE_TYPE_LIST, &rc);
    if (!it)
        goto out_unlock;
    long long llen = (long long)cache__list_len(it), index = 0, matches = 0, found = 0;
    bool more = cache__list_seek(it, toward_tail ? 0 : -1, &p);
    while (more && (maxlen == 0 || index < maxlen) && rc == CACHE_OK) {
        if (cache__list_eq(it, &p, &k) && ++matches >= rank) {
            rc = push_index(out, toward_tail ? index : llen - index - 1);
            if (count && ++found >= count)
                break;
        }
        index++;
        more = toward_tail ? cache__list_next(it, &p) : cache__list_prev(it, &p);
    }
out_unlock:
    cache__shard_unlock(s);
    return rc;
}
