/*
 * zsetops.c: the sorted set commands on one key (cache.h, "Sorted sets")
 * over the type's interface (t_zset.h): ZADD (ZINCRBY), ZREM, ZSCORE,
 * ZMSCORE, ZCARD, ZRANK, ZPOPMIN/ZPOPMAX, ZRANDMEMBER, ZSCAN. The ranges
 * are in zsetrange.c, the commands on several keys in zsetmulti.c.
 *
 * Every function: hash the key once, lock its shard, look the key up
 * (lazy expiry; WRONGTYPE for another type), do the whole command, copy
 * out what the caller needs, unlock. ZADD first reserves an estimate of
 * the memory it may add (evicting per policy, never the set being
 * written) and serves the clients blocked on the key before unlocking
 * (cache/blocking/).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "t_zset.h"

/* An upper bound of what one member adds beside its bytes: a node's
 * header and rounding, a tree slot and its share of the buckets, or the
 * listpack's tags and score. */
#define MEMBER_OVERHEAD 80

static int64_t zadd_estimate(struct shard *s, const struct item *it, size_t klen,
                             const struct cache_zpair *p, size_t n)
{
    int64_t need = 0;

    for (size_t i = 0; i < n; i++)
        need += (int64_t)(p[i].len + MEMBER_OVERHEAD);
    if (!it)
        return need + (int64_t)(ITEM_HDR + item_key_room(klen) + sizeof(void *) +
                                cache__table_grow_cost_locked(s));
    if (it->enc == CACHE__ENC_SKIPLIST)
        return need + (int64_t)cache__ct_grow_cost(&cache__zset_big(it)->t);
    /* a compact set may become a table and tree as big again */
    return need + (int64_t)(cache__item_size(it) + cache__zset_card(it) * MEMBER_OVERHEAD);
}

/* Context: s locked, the key just written. Its blocked clients are
 * served once the caller unlocks (cache__serve_end). */
static void serve_locked(struct shard *s, struct cache__serve *sv, uint64_t h,
                         const char *key, size_t klen, int64_t now)
{
    cache__serve_begin1(sv, s);
    cache__serve_key_locked(s, sv, h, key, klen, now);
}

int cache_zadd(struct cache *c, const char *key, size_t klen, const struct cache_zpair *p,
               size_t n, int flags, int64_t now, struct cache_zadd_result *r)
{
    uint64_t h = cache__hash(c, key, klen);
    struct shard *s = cache__shard_of(c, h);
    struct cache__serve sv;
    int rc, tries = 0;

    memset(r, 0, sizeof(*r));
    if (n == 0)
        return CACHE_OK;
    if (klen > CACHE_MAX_STRING)
        return CACHE_E_TOOBIG;
    for (size_t i = 0; i < n; i++)
        if (p[i].len > CACHE_MAX_STRING)
            return CACHE_E_TOOBIG;
    cache__serve_begin(&sv, NULL, 0);
    cache__shard_lock(s);
retry:;
    struct item *it = cache__lookup_type_locked(s, h, key, klen, now, CACHE_TYPE_ZSET, &rc);
    if (rc == CACHE_E_WRONGTYPE || (!it && (flags & CACHE_ZADD_XX))) {
        rc = rc == CACHE_E_WRONGTYPE ? rc : CACHE_OK;
        goto out_unlock;
    }
    rc = cache__reserve_or_evict_locked(s, zadd_estimate(s, it, klen, p, n), it, now, &tries);
    if (rc == CACHE__AGAIN)
        goto retry;
    if (rc != CACHE_OK)
        goto out_unlock;
    if (!it) {
        if (!(it = cache__zset_new(c, h, key, klen, p[0].len))) {
            rc = CACHE_E_NOMEM;
            goto out_unlock;
        }
        cache__link_locked(s, it, now);
    }
    for (size_t i = 0; i < n; i++) {
        int out;
        rc = cache__zset_add_locked(s, &it, p[i].score, p[i].m, p[i].len, flags, &out,
                                    &r->score);
        if (rc != CACHE_OK)
            break;
        r->added += (out & CACHE__ZADD_ADDED) != 0;
        r->updated += (out & CACHE__ZADD_UPDATED) != 0;
        r->processed += !(out & CACHE__ZADD_NOP);
    }
    cache__coll_write_done_locked(s, it, cache__zset_card(it), now);
    if (r->added)
        serve_locked(s, &sv, h, key, klen, now);
out_unlock:
    cache__shard_unlock(s);
    cache__serve_end(c, &sv, now);
    return rc;
}

int cache_zrem(struct cache *c, const char *key, size_t klen, const struct cache_str *members,
               size_t n, int64_t now, uint64_t *removed)
{
    uint64_t h = cache__hash(c, key, klen);
    struct shard *s = cache__shard_of(c, h);
    int rc;

    *removed = 0;
    cache__shard_lock(s);
    struct item *it = cache__lookup_type_locked(s, h, key, klen, now, CACHE_TYPE_ZSET, &rc);
    if (it) {
        for (size_t i = 0; i < n && cache__zset_card(it) > 0; i++)
            *removed += (uint64_t)cache__zset_del_locked(s, &it, members[i].s, members[i].len);
        cache__coll_write_done_locked(s, it, cache__zset_card(it), now);
    }
    cache__shard_unlock(s);
    return rc == CACHE_E_WRONGTYPE ? rc : CACHE_OK;
}

/* ---- reads -------------------------------------------------------------------- */

int cache_zscore(struct cache *c, const char *key, size_t klen, const char *m, size_t mlen,
                 int64_t now, double *score)
{
    uint64_t h = cache__hash(c, key, klen);
    struct shard *s = cache__shard_of(c, h);
    int rc;

    cache__shard_lock(s);
    struct item *it = cache__lookup_read_locked(s, h, key, klen, now, CACHE_TYPE_ZSET, &rc);
    if (it && !cache__zset_score_locked(s, it, m, mlen, score))
        rc = CACHE_NOELEM;
    cache__shard_unlock(s);
    return rc;
}

int cache_zmscore(struct cache *c, const char *key, size_t klen, const struct cache_str *members,
                  size_t n, int64_t now, double *scores, unsigned char *found)
{
    uint64_t h = cache__hash(c, key, klen);
    struct shard *s = cache__shard_of(c, h);
    int rc;

    memset(found, 0, n);
    cache__shard_lock(s);
    struct item *it = cache__lookup_read_locked(s, h, key, klen, now, CACHE_TYPE_ZSET, &rc);
    for (size_t i = 0; it && i < n; i++)
        found[i] = cache__zset_score_locked(s, it, members[i].s, members[i].len, &scores[i]);
    cache__shard_unlock(s);
    return rc;
}

int cache_zrank(struct cache *c, const char *key, size_t klen, const char *m, size_t mlen,
                int rev, int64_t now, uint64_t *rank)
{
    uint64_t h = cache__hash(c, key, klen);
    struct shard *s = cache__shard_of(c, h);
    int rc;

    cache__shard_lock(s);
    struct item *it = cache__lookup_read_locked(s, h, key, klen, now, CACHE_TYPE_ZSET, &rc);
    if (it && !cache__zset_rank_locked(s, it, m, mlen, rank))
        rc = CACHE_NOELEM;
    else if (it && rev)
        *rank = cache__zset_card(it) - 1 - *rank;
    cache__shard_unlock(s);
    return rc;
}

/* ---- ZPOPMIN, ZPOPMAX -------------------------------------------------------------- */

int cache_zpop(struct cache *c, const char *key, size_t klen, int where, uint64_t count,
               int64_t now, struct cache_keys *out)
{
    uint64_t h = cache__hash(c, key, klen);
    struct shard *s = cache__shard_of(c, h);
    int rc;

    cache__shard_lock(s);
    struct item *it = cache__lookup_type_locked(s, h, key, klen, now, CACHE_TYPE_ZSET, &rc);
    if (it && count > 0) {
        rc = cache__zset_pop_locked(s, &it, where, count, out);
        cache__coll_write_done_locked(s, it, cache__zset_card(it), now);
    }
    cache__shard_unlock(s);
    return rc;
}

/* ---- ZRANDMEMBER --------------------------------------------------------------------- */

static int push_rank(const struct item *it, uint64_t rank, int withscores,
                     struct cache_keys *out)
{
    struct cache__zpos p;
    struct cache__zent e;

    cache__zset_at(it, rank, &p);
    cache__zset_get(it, &p, &e);
    return withscores ? cache__zset_push(out, &e) : cache__keys_push(out, e.s, e.len);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* `want` distinct ranks of `size` (want < size), drawn at random, then
 * shuffled: a set as big as the answer, whatever the set's size. */
static int distinct_ranks(size_t size, size_t want, uint64_t **out)
{
    uint64_t *r = malloc(want * sizeof(*r));
    size_t have = 0;

    if (!r)
        return CACHE_E_NOMEM;
    while (have < want) {   /* draw the missing ones, sort, drop repeats */
        while (have < want)
            r[have++] = cache__rand() % size;
        qsort(r, have, sizeof(*r), cmp_u64);
        size_t k = 0;
        for (size_t i = 0; i < have; i++)
            if (k == 0 || r[k - 1] != r[i])
                r[k++] = r[i];
        have = k;
    }
    for (size_t i = want; i > 1; i--) {
        size_t j = cache__rand() % i;
        uint64_t t = r[i - 1];
        r[i - 1] = r[j];
        r[j] = t;
    }
    *out = r;
    return CACHE_OK;
}

int cache_zrandmember(struct cache *c, const char *key, size_t klen, long long count,
                      int withscores, int64_t now, struct cache_keys *out, int *sample)
{
    uint64_t h = cache__hash(c, key, klen), *ranks = NULL;
    struct shard *s = cache__shard_of(c, h);
    int rc;

    *sample = 0;
    cache__shard_lock(s);
    struct item *it = cache__lookup_read_locked(s, h, key, klen, now, CACHE_TYPE_ZSET, &rc);
    if (!it)
        goto out_unlock;
    size_t size = cache__zset_card(it);
    /* -LLONG_MIN does not exist; the server refuses it before calling. */
    unsigned long long want = count >= 0 ? (unsigned long long)count
                                         : (unsigned long long)-(count + 1) + 1;
    if (count < 0 && want <= size) {
        for (unsigned long long i = 0; i < want && rc == CACHE_OK; i++)
            rc = push_rank(it, cache__rand() % size, withscores, out);
    } else if (want >= size) {   /* all of it, in order */
        *sample = count < 0;
        rc = cache__zset_push_all(it, withscores, out);
    } else if ((rc = distinct_ranks(size, (size_t)want, &ranks)) == CACHE_OK) {
        for (size_t i = 0; i < want && rc == CACHE_OK; i++)
            rc = push_rank(it, ranks[i], withscores, out);
    }
out_unlock:
    cache__shard_unlock(s);
    free(ranks);
    return rc;
}

/* ---- ZSCAN --------------------------------------------------------------------------- */

struct scan_ctx {
    struct cache_keys *out;
    int rc;
};

static int push_node(void *arg, struct cache__tnode *n)
{
    struct scan_ctx *x = arg;
    const struct cache__zmember *m = (const struct cache__zmember *)n;
    struct cache__zent e = {.s = m->data, .len = m->len, .score = m->score};

    x->rc = cache__zset_push(x->out, &e);
    return x->rc != CACHE_OK;
}

int cache_zscan(struct cache *c, const char *key, size_t klen, uint64_t cursor, size_t count,
                int64_t now, struct cache_keys *out, uint64_t *next)
{
    uint64_t h = cache__hash(c, key, klen);
    struct shard *s = cache__shard_of(c, h);
    int rc;

    *next = 0;
    cache__shard_lock(s);
    struct item *it = cache__lookup_read_locked(s, h, key, klen, now, CACHE_TYPE_ZSET, &rc);
    if (!it)
        goto out_unlock;
    if (it->enc == CACHE__ENC_ZPACK) {   /* a small set comes whole, as in Redis */
        rc = cache__zset_push_all(it, 1, out);
        goto out_unlock;
    }
    struct scan_ctx x = {out, CACHE_OK};
    int stop = 0;
    *next = cache__ct_scan_page(&cache__zset_big(it)->t, cursor, count, push_node, &x, &stop);
    rc = x.rc;
out_unlock:
    cache__shard_unlock(s);
    return rc;
}
