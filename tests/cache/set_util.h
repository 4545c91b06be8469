/*
 * Helpers shared by the set tests (test_t_set.c, test_set_property.c,
 * test_setops.c): thresholds, one-member SADD/SREM, a key's encoding and
 * size. Include after test_util.h.
 */
#ifndef MMCACHE_TEST_SET_UTIL_H
#define MMCACHE_TEST_SET_UTIL_H

static inline void limits(struct cache *c, uint64_t is_max, uint64_t lp_max, uint64_t lp_value)
{
    struct cache_type_limits l;
    cache_type_limits_default(&l);
    l.set_max_intset_entries = is_max;
    l.set_max_listpack_entries = lp_max;
    l.set_max_listpack_value = lp_value;
    cache_set_type_limits(c, &l);
}

static inline int sadd1(struct cache *c, const char *k, const char *m)
{
    struct cache_str s = {S(m)};
    uint64_t added;
    int rc = cache_sadd(c, S(k), &s, 1, 1, &added);
    return rc < 0 ? rc : (int)added;
}

static inline int srem1(struct cache *c, const char *k, const char *m)
{
    struct cache_str s = {S(m)};
    uint64_t n;
    int rc = cache_srem(c, S(k), &s, 1, 1, &n);
    return rc < 0 ? rc : (int)n;
}

static inline const char *enc_of(struct cache *c, const char *k)
{
    const char *e = NULL;
    int t;
    if (cache_type(c, S(k), 1, &t, &e) != CACHE_OK)
        return "none";
    return e;
}

static inline uint64_t card(struct cache *c, const char *k)
{
    uint64_t n;
    assert_true(cache_card(c, CACHE_TYPE_SET, S(k), 1, &n) >= 0);
    return n;
}

static inline void fill_ints(struct cache *c, const char *k, int from, int to)
{
    char m[32];
    for (int i = from; i < to; i++) {
        snprintf(m, sizeof(m), "%d", i);
        assert_int_equal(sadd1(c, k, m), 1);
    }
}

#endif
