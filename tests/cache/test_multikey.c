/* multikey.c: RENAME, COPY, MSET/MSETNX across shards. */
#include "test_util.h"

static void test_rename(void **state)
{
    struct cache *c = mk(16, 0, CACHE_ALLKEYS_LRU);
    int64_t at;
    char k[32];
    assert_int_equal(cache_rename(c, S("a"), S("b"), 0, 1), CACHE_NOTFOUND);
    assert_int_equal(cache_rename(c, S("a"), S("a"), 0, 1), CACHE_NOTFOUND);
    assert_int_equal(set_ex(c, "a", "va", 9000, 1), CACHE_OK);
    assert_int_equal(cache_rename(c, S("a"), S("a"), 0, 1), CACHE_OK);
    assert_int_equal(cache_rename(c, S("a"), S("a"), 1, 1), CACHE_NOTSET);
    /* Over many key pairs (same and different shards, longer and shorter
     * names), the value and TTL move. */
    for (int i = 0; i < 200; i++) {
        const char *from = i % 2 ? "renamed-to-a-longer-name" : "a";
        snprintf(k, sizeof(k), i % 2 ? "a" : "renamed-to-a-longer-name");
        (void)k;
        assert_int_equal(cache_rename(c, S(from), S(k), 0, 1), CACHE_OK);
        assert_null(get(c, from, 1));
        assert_string_equal(get(c, k, 1), "va");
        assert_int_equal(cache_ttl(c, S(k), 1, &at), CACHE_OK);
        assert_int_equal(at, 9000);
    }
    assert_int_equal(cache_dbsize(c), 1);
    for (int i = 0; i < 100; i++) {
        char d[32];
        snprintf(d, sizeof(d), "dst%d", i);
        assert_int_equal(cache_rename(c, S("a"), S(d), 0, 1), CACHE_OK);
        assert_int_equal(cache_rename(c, S(d), S("a"), 0, 1), CACHE_OK);
    }
    /* Overwrites dst (and its TTL), NX refuses. */
    assert_int_equal(set(c, "b", "vb", 1), CACHE_OK);
    assert_int_equal(cache_rename(c, S("a"), S("b"), 1, 1), CACHE_NOTSET);
    assert_string_equal(get(c, "a", 1), "va");
    assert_int_equal(set(c, "a", "plain", 1), CACHE_OK);
    assert_int_equal(set_ex(c, "b", "vb", 5000, 1), CACHE_OK);
    assert_int_equal(cache_rename(c, S("a"), S("b"), 0, 1), CACHE_OK);
    assert_string_equal(get(c, "b", 1), "plain");
    assert_int_equal(cache_ttl(c, S("b"), 1, &at), CACHE_OK);
    assert_int_equal(at, 0);
    assert_int_equal(cache_dbsize(c), 1);
    /* Expired src is missing. */
    assert_int_equal(set_ex(c, "e", "v", 10, 1), CACHE_OK);
    assert_int_equal(cache_rename(c, S("e"), S("f"), 0, 10), CACHE_NOTFOUND);
    ASSERT_INV(c);
    cache_destroy(c);
}

static void test_copy(void **state)
{
    struct cache *c = mk(16, 0, CACHE_ALLKEYS_LRU);
    int64_t at;
    assert_int_equal(cache_copy(c, S("a"), S("b"), 0, 1), CACHE_NOTFOUND);
    assert_int_equal(set_ex(c, "a", "va", 9000, 1), CACHE_OK);
    assert_int_equal(cache_copy(c, S("a"), S("b"), 0, 1), CACHE_OK);
    assert_string_equal(get(c, "a", 1), "va");
    assert_string_equal(get(c, "b", 1), "va");
    assert_int_equal(cache_ttl(c, S("b"), 1, &at), CACHE_OK);
    assert_int_equal(at, 9000);
    assert_int_equal(set(c, "a", "v2", 1), CACHE_OK);
    assert_int_equal(cache_copy(c, S("a"), S("b"), 0, 1), CACHE_NOTSET);
    assert_string_equal(get(c, "b", 1), "va");
    assert_int_equal(cache_copy(c, S("a"), S("b"), 1, 1), CACHE_OK);
    assert_string_equal(get(c, "b", 1), "v2");
    assert_int_equal(cache_ttl(c, S("b"), 1, &at), CACHE_OK);
    assert_int_equal(at, 0);
    assert_int_equal(cache_copy(c, S("a"), S("a"), 0, 1), CACHE_NOTSET);
    assert_int_equal(cache_copy(c, S("a"), S("a"), 1, 1), CACHE_OK);
    ASSERT_INV(c);
    cache_destroy(c);
}

static void test_mset(void **state)
{
    struct cache *c = mk(16, 0, CACHE_ALLKEYS_LRU);
    int64_t at;
    struct cache_kv kv[64];
    char keys[64][16], vals[64][16];
    for (int i = 0; i < 64; i++) {
        snprintf(keys[i], sizeof(keys[i]), "m%d", i);
        snprintf(vals[i], sizeof(vals[i]), "v%d", i);
        kv[i] = (struct cache_kv){keys[i], strlen(keys[i]), vals[i], strlen(vals[i])};
    }
    assert_int_equal(cache_mset(c, kv, 0, 0, 1), CACHE_OK);
    assert_int_equal(set_ex(c, "m3", "old", 9000, 1), CACHE_OK);
    assert_int_equal(cache_mset(c, kv, 64, 1, 1), CACHE_NOTSET);
    assert_int_equal(cache_dbsize(c), 1);   /* all or nothing */
    assert_int_equal(cache_mset(c, kv, 64, 0, 1), CACHE_OK);
    for (int i = 0; i < 64; i++)
        assert_string_equal(get(c, keys[i], 1), vals[i]);
    assert_int_equal(cache_ttl(c, S("m3"), 1, &at), CACHE_OK);
    assert_int_equal(at, 0);   /* TTL cleared */
    /* Repeated key: the last value wins. */
    struct cache_kv dup[3] = {{S("d"), S("1")}, {S("e"), S("x")}, {S("d"), S("2")}};
    assert_int_equal(cache_mset(c, dup, 3, 1, 1), CACHE_OK);
    assert_string_equal(get(c, "d", 1), "2");
    assert_int_equal(cache_mset(c, dup, 3, 1, 1), CACHE_NOTSET);
    ASSERT_INV(c);
    cache_destroy(c);
}

static void test_mset_copy_oom(void **state)
{
    struct cache *c = mk(1, 16 * 1024, CACHE_NOEVICTION);   /* one LRU */
    char big[4096];
    memset(big, 'x', sizeof(big));
    struct cache_kv kv[8];
    char keys[8][8];
    for (int i = 0; i < 8; i++) {
        snprintf(keys[i], sizeof(keys[i]), "k%d", i);
        kv[i] = (struct cache_kv){keys[i], strlen(keys[i]), big, sizeof(big)};
    }
    /* Redis's noeviction rule: the write that crosses the limit goes
     * through (memory was under it before), every later one is refused. */
    assert_int_equal(cache_mset(c, kv, 8, 0, 1), CACHE_OK);
    assert_int_equal(cache_dbsize(c), 8);
    assert_true(used(c) > 16 * 1024);
    struct cache_kv more = {"new", 3, big, sizeof(big)};
    assert_int_equal(cache_mset(c, &more, 1, 0, 1), CACHE_E_OOM);
    assert_int_equal(cache_dbsize(c), 8);
    char d[16] = "c0";
    assert_int_equal(cache_copy(c, S("k0"), S(d), 0, 1), CACHE_E_OOM);
    assert_int_equal(cache_dbsize(c), 8);
    ASSERT_INV(c);
    /* With eviction, the same writes succeed and stay bounded. */
    cache_set_limits(c, 16 * 1024, CACHE_ALLKEYS_LRU, 1);
    assert_int_equal(cache_mset(c, kv, 3, 0, 1), CACHE_OK);
    for (int i = 0; i < 10; i++) {
        snprintf(d, sizeof(d), "c%d", i);
        assert_non_null(get(c, "k2", 10000 + i * 2000));   /* keep it hot */
        assert_int_equal(cache_copy(c, S("k2"), S(d), 1, 10000 + i * 2000),
                         CACHE_OK);
    }
    struct cache_stats st;
    cache_stats(c, &st);
    assert_true(st.used_memory <= 16 * 1024);
    assert_true(st.evicted_keys > 0);
    ASSERT_INV(c);
    cache_destroy(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rename),
        cmocka_unit_test(test_copy),
        cmocka_unit_test(test_mset),
        cmocka_unit_test(test_mset_copy_oom),
    };
    return cmocka_run_group_tests_name("cache_multikey", tests, NULL, NULL);
}
