/*
 * Helpers shared by the sorted set tests (test_t_zset.c,
 * test_zset_property.c, test_zsetops.c, test_zset_stress.c): thresholds,
 * one-pair ZADD, a key's encoding and size, a whole set read back. Include
 * after test_util.h.
 */
#ifndef MMCACHE_TEST_ZSET_UTIL_H
#define MMCACHE_TEST_ZSET_UTIL_H

#include <math.h>

static inline void zlimits(struct cache *c, uint64_t entries, uint64_t value)
{
    struct cache_type_limits l;
    cache_type_limits_default(&l);
    l.zset_max_listpack_entries = entries;
    l.zset_max_listpack_value = value;
    cache_set_type_limits(c, &l);
}

/* ZADD key [flags] score member: the number added, or the error. */
static inline int zadd1(struct cache *c, const char *k, double score, const char *m, int flags)
{
    struct cache_zpair p = {score, S(m)};
    struct cache_zadd_result r;
    int rc = cache_zadd(c, S(k), &p, 1, flags, 1, &r);
    return rc < 0 ? rc : (int)r.added;
}

static inline int zrem1(struct cache *c, const char *k, const char *m)
{
    struct cache_str s = {S(m)};
    uint64_t n;
    int rc = cache_zrem(c, S(k), &s, 1, 1, &n);
    return rc < 0 ? rc : (int)n;
}

static inline const char *zenc_of(struct cache *c, const char *k)
{
    const char *e = NULL;
    int t;
    if (cache_type(c, S(k), 1, &t, &e) != CACHE_OK)
        return "none";
    return e;
}

static inline uint64_t zcard(struct cache *c, const char *k)
{
    uint64_t n;
    assert_true(cache_card(c, CACHE_TYPE_ZSET, S(k), 1, &n) >= 0);
    return n;
}

/* The score of m, or NAN when not a member. */
static inline double zscore1(struct cache *c, const char *k, const char *m)
{
    double d;
    int rc = cache_zscore(c, S(k), S(m), 1, &d);
    assert_true(rc >= 0);
    return rc == CACHE_OK ? d : NAN;
}

/* ZRANGE k 0 -1 WITHSCORES into out. */
static inline void zall(struct cache *c, const char *k, struct cache_keys *out)
{
    struct cache_zrange r = {.by = CACHE_ZBY_RANK, .start = 0, .end = -1, .limit = -1,
                             .withscores = 1};
    uint64_t total;
    out->len = out->count = 0;
    assert_true(cache_zrange(c, S(k), &r, SIZE_MAX, 1, out, &total) >= 0);
    assert_int_equal(out->count, 2 * total);
}

#endif
