/* expire.c: lazy and active expiry, TTL, PERSIST, EXPIRE flags. */
#include "test_util.h"

static uint64_t expired(struct cache *c)
{
    struct cache_stats st;
    cache_stats(c, &st);
    return st.expired_keys;
}

static void test_lazy(void **state)
{
    struct cache *c = mk(4, 0, CACHE_ALLKEYS_LRU);
    int64_t at;
    assert_int_equal(set_ex(c, "k", "v", 2000, 1000), CACHE_OK);
    assert_string_equal(get(c, "k", 1999), "v");
    assert_int_equal(cache_ttl(c, S("k"), 1999, &at), CACHE_OK);
    assert_int_equal(at, 2000);
    assert_int_equal(cache_dbsize(c), 1);
    /* Due at exactly expire_at. */
    assert_null(get(c, "k", 2000));
    assert_int_equal(cache_dbsize(c), 0);
    assert_int_equal(expired(c), 1);
    assert_int_equal(cache_ttl(c, S("k"), 2000, &at), CACHE_NOTFOUND);
    /* Every operation sees an expired key as missing. */
    assert_int_equal(set_ex(c, "n", "5", 3000, 1000), CACHE_OK);
    long long r;
    assert_int_equal(cache_incr(c, S("n"), 1, 3000, &r), CACHE_OK);
    assert_int_equal(r, 1);
    assert_int_equal(cache_ttl(c, S("n"), 3000, &at), CACHE_OK);
    assert_int_equal(at, 0);   /* a new key, no TTL */
    assert_int_equal(set_ex(c, "e", "v", 3000, 1000), CACHE_OK);
    assert_int_equal(cache_exists(c, S("e"), 3001), CACHE_NOTFOUND);
    assert_int_equal(set_ex(c, "e", "v", 3000, 1000), CACHE_OK);
    assert_int_equal(cache_set(c, S("e"), S("w"), CACHE_SET_NX, 0, 3001, NULL,
                               NULL), CACHE_OK);
    ASSERT_INV(c);
    cache_destroy(c);
}

static void test_active(void **state)
{
    struct cache *c = mk(4, 0, CACHE_ALLKEYS_LRU);
    char k[32];
    for (int i = 0; i < 1000; i++) {
        snprintf(k, sizeof(k), "k%d", i);
        /* even keys due at 5000, odd ones at 50000, every 10th none */
        if (i % 10 == 0)
            assert_int_equal(set(c, k, "v", 1000), CACHE_OK);
        else
            assert_int_equal(set_ex(c, k, "v", i % 2 ? 50000 : 5000, 1000),
                             CACHE_OK);
    }
    assert_int_equal(cache_active_expire(c, 0, 4, 10000, 4999), 0);
    uint64_t total = 0, d;
    /* Bounded batches: 8 samples per shard per call. */
    while ((d = cache_active_expire(c, 0, 4, 8, 6000)) > 0) {
        assert_true(d <= 4 * 8);
        total += d;
        ASSERT_INV(c);
    }
    /* The hand laps: keep going until a full lap finds nothing. */
    total += cache_active_expire(c, 0, 4, 100000, 6000);
    assert_int_equal(total, 400);   /* even, not multiple of 10 */
    assert_int_equal(cache_dbsize(c), 600);
    for (int i = 0; i < 1000; i++) {
        snprintf(k, sizeof(k), "k%d", i);
        int live = i % 10 == 0 || i % 2 == 1;
        assert_int_equal(cache_exists(c, S(k), 6000),
                         live ? CACHE_OK : CACHE_NOTFOUND);
    }
    ASSERT_INV(c);
    cache_destroy(c);
}

static void test_active_range(void **state)
{
    struct cache *c = mk(4, 0, CACHE_ALLKEYS_LRU);
    char k[32];
    for (int i = 0; i < 400; i++) {
        snprintf(k, sizeof(k), "k%d", i);
        assert_int_equal(set_ex(c, k, "v", 2000, 1000), CACHE_OK);
    }
    uint64_t in1 = RLX_LOAD(c->shards[1].nttl);
    assert_true(in1 > 0);
    assert_int_equal(cache_active_expire(c, 1, 1, 100000, 3000), in1);
    assert_int_equal(RLX_LOAD(c->shards[1].nttl), 0);
    assert_int_equal(cache_dbsize(c), 400 - in1);
    /* Wraps around the shard count. */
    assert_int_equal(cache_active_expire(c, 3, 4, 100000, 3000), 400 - in1);
    assert_int_equal(cache_dbsize(c), 0);
    ASSERT_INV(c);
    cache_destroy(c);
}

static void test_expire_flags(void **state)
{
    struct cache *c = mk(1, 0, CACHE_ALLKEYS_LRU);
    int64_t at;
    int64_t now = 1000;
    assert_int_equal(cache_expire(c, S("k"), 5000, 0, now), CACHE_NOTFOUND);
    assert_int_equal(set(c, "k", "v", now), CACHE_OK);
    /* No TTL: XX fails, GT fails (infinite), LT succeeds, NX succeeds. */
    assert_int_equal(cache_expire(c, S("k"), 5000, CACHE_EXP_XX, now), CACHE_NOTSET);
    assert_int_equal(cache_expire(c, S("k"), 5000, CACHE_EXP_GT, now), CACHE_NOTSET);
    assert_int_equal(cache_expire(c, S("k"), 5000, CACHE_EXP_LT, now), CACHE_OK);
    assert_int_equal(cache_persist(c, S("k"), now), CACHE_OK);
    assert_int_equal(cache_persist(c, S("k"), now), CACHE_NOTSET);
    assert_int_equal(cache_expire(c, S("k"), 5000, CACHE_EXP_NX, now), CACHE_OK);
    assert_int_equal(cache_expire(c, S("k"), 6000, CACHE_EXP_NX, now), CACHE_NOTSET);
    /* With TTL 5000. */
    assert_int_equal(cache_expire(c, S("k"), 5000, CACHE_EXP_GT, now), CACHE_NOTSET);
    assert_int_equal(cache_expire(c, S("k"), 6000, CACHE_EXP_GT, now), CACHE_OK);
    assert_int_equal(cache_expire(c, S("k"), 7000, CACHE_EXP_LT, now), CACHE_NOTSET);
    assert_int_equal(cache_expire(c, S("k"), 6000, CACHE_EXP_LT, now), CACHE_NOTSET);
    assert_int_equal(cache_expire(c, S("k"), 4000, CACHE_EXP_LT | CACHE_EXP_XX, now),
                     CACHE_OK);
    assert_int_equal(cache_ttl(c, S("k"), now, &at), CACHE_OK);
    assert_int_equal(at, 4000);
    assert_int_equal(cache_expire(c, S("k"), 9000, 0, now), CACHE_OK);
    assert_int_equal(cache_ttl(c, S("k"), now, &at), CACHE_OK);
    assert_int_equal(at, 9000);
    /* A time in the past deletes the key (and says OK). */
    assert_int_equal(cache_expire(c, S("k"), now, 0, now), CACHE_OK);
    assert_int_equal(cache_exists(c, S("k"), now), CACHE_NOTFOUND);
    assert_int_equal(cache_persist(c, S("k"), now), CACHE_NOTFOUND);
    /* TTL of a key without one. */
    assert_int_equal(set(c, "p", "v", now), CACHE_OK);
    assert_int_equal(cache_ttl(c, S("p"), now, &at), CACHE_OK);
    assert_int_equal(at, 0);
    struct cache_stats st;
    cache_stats(c, &st);
    assert_int_equal(st.expires, 0);
    ASSERT_INV(c);
    cache_destroy(c);
}

static void test_getex(void **state)
{
    struct cache *c = mk(1, 0, CACHE_ALLKEYS_LRU);
    struct cache_val v = {0};
    int64_t at;
    assert_int_equal(cache_getex(c, S("k"), CACHE_GETEX_KEEP, 0, 1, &v), CACHE_NOTFOUND);
    assert_int_equal(set(c, "k", "v", 1), CACHE_OK);
    assert_int_equal(cache_getex(c, S("k"), CACHE_GETEX_EXPIRE, 100, 1, &v), CACHE_OK);
    assert_int_equal(cache_ttl(c, S("k"), 1, &at), CACHE_OK);
    assert_int_equal(at, 100);
    assert_int_equal(cache_getex(c, S("k"), CACHE_GETEX_KEEP, 0, 1, &v), CACHE_OK);
    assert_int_equal(cache_ttl(c, S("k"), 1, &at), CACHE_OK);
    assert_int_equal(at, 100);
    assert_int_equal(cache_getex(c, S("k"), CACHE_GETEX_PERSIST, 0, 1, &v), CACHE_OK);
    assert_int_equal(cache_ttl(c, S("k"), 1, &at), CACHE_OK);
    assert_int_equal(at, 0);
    /* A past time returns the value and deletes the key. */
    assert_int_equal(cache_getex(c, S("k"), CACHE_GETEX_EXPIRE, 1, 1, &v), CACHE_OK);
    assert_int_equal(v.len, 1);
    assert_memory_equal(v.data, "v", 1);
    assert_int_equal(cache_exists(c, S("k"), 1), CACHE_NOTFOUND);
    free(v.data);
    ASSERT_INV(c);
    cache_destroy(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lazy),
        cmocka_unit_test(test_active),
        cmocka_unit_test(test_active_range),
        cmocka_unit_test(test_expire_flags),
        cmocka_unit_test(test_getex),
    };
    return cmocka_run_group_tests_name("cache_expire", tests, NULL, NULL);
}
