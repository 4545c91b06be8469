/* evict.c: maxmemory, policies, accounting. */
#include "test_util.h"

static uint64_t evicted(struct cache *c)
{
    struct cache_stats st;
    cache_stats(c, &st);
    return st.evicted_keys;
}

static const char V100[] =
    "0123456789012345678901234567890123456789012345678901234567890123456789"
    "012345678901234567890123456789";

/* Fills one shard until the first eviction; returns the number of keys. */
static int fill(struct cache *c, int64_t now)
{
    char k[32];
    int i;
    for (i = 0; evicted(c) == 0; i++) {
        snprintf(k, sizeof(k), "k%04d", i);
        assert_int_equal(cache_set(c, S(k), S(V100), 0, 0, now + i * 1000,
                                   NULL, NULL), CACHE_OK);
    }
    return i;
}

static void test_lru_order(void **state)
{
    struct cache *c = mk(1, 64 * 1024, CACHE_ALLKEYS_LRU);
    char k[32];
    int n = fill(c, 1000000);
    /* k0000 was the least recent: it went first. */
    assert_null(get(c, "k0000", 1000000 + n * 1000));
    /* Read k0001 (now recent), then write until one more goes: it must be
     * k0002, not k0001. */
    int64_t now = 1000000 + (int64_t)n * 1000 + 5000;
    assert_non_null(get(c, "k0001", now));
    uint64_t ev = evicted(c);
    for (int i = n; evicted(c) == ev; i++) {
        snprintf(k, sizeof(k), "k%04d", i);
        assert_int_equal(cache_set(c, S(k), S(V100), 0, 0, now, NULL, NULL),
                         CACHE_OK);
    }
    assert_non_null(get(c, "k0001", now));
    assert_null(get(c, "k0002", now));
    ASSERT_INV(c);
    cache_destroy(c);
}

static void test_volatile_skips_persistent(void **state)
{
    struct cache *c = mk(1, 64 * 1024, CACHE_VOLATILE_LRU);
    char k[32];
    int64_t now = 1000;
    /* Persistent keys first (the LRU tail), then keys with a TTL. */
    for (int i = 0; i < 50; i++) {
        snprintf(k, sizeof(k), "p%03d", i);
        assert_int_equal(set(c, k, V100, now), CACHE_OK);
    }
    for (int i = 0; evicted(c) == 0; i++) {
        snprintf(k, sizeof(k), "t%04d", i);
        assert_int_equal(set_ex(c, k, V100, now + 1000000, now), CACHE_OK);
    }
    for (int i = 0; i < 50; i++) {
        snprintf(k, sizeof(k), "p%03d", i);
        assert_non_null(get(c, k, now));
    }
    assert_null(get(c, "t0000", now));
    /* Only persistent keys left to give: writes fail with OOM. */
    int rc = CACHE_OK;
    for (int i = 0; i < 10000 && rc == CACHE_OK; i++) {
        snprintf(k, sizeof(k), "q%05d", i);
        rc = set(c, k, V100, now);
    }
    assert_int_equal(rc, CACHE_E_OOM);
    for (int i = 0; i < 50; i++) {
        snprintf(k, sizeof(k), "p%03d", i);
        assert_non_null(get(c, k, now));
    }
    assert_true(used(c) <= 64 * 1024);
    ASSERT_INV(c);
    cache_destroy(c);
}

static void test_noeviction(void **state)
{
    struct cache *c = mk(4, 32 * 1024, CACHE_NOEVICTION);
    char k[32];
    int rc = CACHE_OK, i;
    for (i = 0; rc == CACHE_OK; i++) {
        snprintf(k, sizeof(k), "k%d", i);
        rc = set(c, k, V100, 1);
    }
    assert_int_equal(rc, CACHE_E_OOM);
    uint64_t keys = cache_dbsize(c), mem = used(c);
    assert_int_equal(keys, (uint64_t)(i - 1));
    /* The failed key is absent; nothing else changed. */
    assert_null(get(c, k, 1));
    /* At the limit now (the conservative estimate says over): every write
     * that adds memory is refused, as Redis does once over maxmemory. */
    assert_true(mem > 32 * 1024 * 9 / 10);
    assert_true(cache_over_maxmemory(c));
    assert_int_equal(set(c, "new", "v", 1), CACHE_E_OOM);
    assert_int_equal(cache_append(c, S("k1"), S(V100), 1, &(size_t){0}),
                     CACHE_E_OOM);
    assert_string_equal(get(c, "k1", 1), V100);
    assert_int_equal(evicted(c), 0);
    assert_int_equal(cache_dbsize(c), keys);
    assert_true(used(c) <= mem);
    /* Deletes never fail. */
    assert_int_equal(cache_del(c, S("k1"), 1), CACHE_OK);
    for (int j = 0; j < i; j++) {   /* emptied: under the limit again */
        snprintf(k, sizeof(k), "k%d", j);
        cache_del(c, k, strlen(k), 1);
    }
    assert_false(cache_over_maxmemory(c));
    assert_int_equal(set(c, "new", "v", 1), CACHE_OK);
    ASSERT_INV(c);
    cache_destroy(c);
}

static void test_bounded_after_many_writes(void **state)
{
    unsigned shards[] = {1, 4, 64};
    for (unsigned si = 0; si < 3; si++) {
        uint64_t max = 256 * 1024;
        struct cache *c = mk(shards[si], max, CACHE_ALLKEYS_LRU);
        char k[32], v[600];
        memset(v, 'x', sizeof(v));
        for (int i = 0; i < 20000; i++) {
            snprintf(k, sizeof(k), "k%d", i % 5000);
            size_t vl = (size_t)(i * 7919) % sizeof(v);
            int rc = cache_set(c, S(k), v, vl, 0, i % 3 ? 0 : 1000000, 1,
                               NULL, NULL);
            assert_int_equal(rc, CACHE_OK);
            if (i % 5 == 0)
                cache_append(c, S(k), "abc", 3, 1, &(size_t){0});
            assert_true(used(c) <= max);
        }
        assert_true(evicted(c) > 0);
        assert_true(used(c) > max / 2);
        ASSERT_INV(c);
        cache_destroy(c);
    }
}

static void test_set_limits_evicts_down(void **state)
{
    struct cache *c = mk(8, 0, CACHE_ALLKEYS_LRU);
    char k[32];
    for (int i = 0; i < 5000; i++) {
        snprintf(k, sizeof(k), "k%d", i);
        assert_int_equal(set(c, k, V100, 1), CACHE_OK);
    }
    assert_true(used(c) > 500 * 1024);
    cache_set_limits(c, 200 * 1024, CACHE_ALLKEYS_RANDOM, 1);
    assert_true(used(c) <= 200 * 1024);
    assert_true(evicted(c) > 0);
    struct cache_stats st;
    cache_stats(c, &st);
    assert_int_equal(st.maxmemory, 200 * 1024);
    assert_int_equal(st.keys, cache_dbsize(c));
    /* Random policy keeps working under the limit. */
    for (int i = 5000; i < 8000; i++) {
        snprintf(k, sizeof(k), "k%d", i);
        assert_int_equal(set(c, k, V100, 1), CACHE_OK);
        assert_true(used(c) <= 200 * 1024);
    }
    ASSERT_INV(c);
    /* A value larger than maxmemory fails without evicting anything. */
    uint64_t keys = cache_dbsize(c);
    char *big = calloc(1, 300 * 1024);
    assert_int_equal(cache_set(c, S("big"), big, 300 * 1024, 0, 0, 1, NULL, NULL),
                     CACHE_E_OOM);
    assert_int_equal(cache_dbsize(c), keys);
    free(big);
    /* Lifting the limit. */
    cache_set_limits(c, 0, CACHE_ALLKEYS_LRU, 0);
    for (int i = 0; i < 3000; i++) {
        snprintf(k, sizeof(k), "n%d", i);
        assert_int_equal(set(c, k, V100, 1), CACHE_OK);
    }
    assert_int_equal(cache_dbsize(c), keys + 3000);
    ASSERT_INV(c);
    cache_destroy(c);
}

static void test_memory_usage(void **state)
{
    struct cache *c = mk(1, 0, CACHE_ALLKEYS_LRU);
    size_t b = 0;
    uint64_t before = used(c);
    assert_int_equal(set(c, "k", V100, 1), CACHE_OK);
    assert_int_equal(cache_memory_usage(c, S("k"), 1, &b), CACHE_OK);
    assert_true(b >= ITEM_HDR + 1 + 100);
    assert_int_equal(used(c) - before, b);
    assert_int_equal(cache_memory_usage(c, S("x"), 1, &b), CACHE_NOTFOUND);
    cache_destroy(c);
}

/* cache_evict_ns_take: only writes that evict add time, on the thread
 * that evicted, and taking it clears it; for the own-shard loop, the
 * other shards' walk and the sampled policies' rounds alike. */
static void test_evict_time(void **state)
{
    enum cache_policy pol[] = {CACHE_ALLKEYS_LRU, CACHE_ALLKEYS_LFU};
    for (unsigned p = 0; p < 2; p++) {
        struct cache *c = mk(4, 64 * 1024, pol[p]);
        char k[32];
        (void)cache_evict_ns_take();
        assert_int_equal(cache_set(c, S("k"), S(V100), 0, 0, 1, NULL, NULL), CACHE_OK);
        assert_int_equal(cache_evict_ns_take(), 0);   /* fits: no clock read, nothing */
        uint64_t ns = 0;
        for (int i = 0; evicted(c) < 200; i++) {
            snprintf(k, sizeof(k), "k%d", i);
            assert_int_equal(cache_set(c, S(k), S(V100), 0, 0, 1, NULL, NULL), CACHE_OK);
            ns += cache_evict_ns_take();
        }
        assert_true(ns > 0);
        assert_int_equal(cache_evict_ns_take(), 0);
        cache_destroy(c);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lru_order),
        cmocka_unit_test(test_volatile_skips_persistent),
        cmocka_unit_test(test_noeviction),
        cmocka_unit_test(test_bounded_after_many_writes),
        cmocka_unit_test(test_set_limits_evicts_down),
        cmocka_unit_test(test_memory_usage),
        cmocka_unit_test(test_evict_time),
    };
    return cmocka_run_group_tests_name("cache_evict", tests, NULL, NULL);
}
