/* scan.c: SCAN completeness across resizes, KEYS, RANDOMKEY. */
#include "test_util.h"

static int key_index(const char *k, size_t klen)
{
    char buf[32];
    if (klen >= sizeof(buf) || klen < 2 || k[0] != 'k')
        return -1;
    memcpy(buf, k, klen);
    buf[klen] = 0;
    return atoi(buf + 1);
}

/* Every key present for the whole scan is returned at least once, while
 * other keys are inserted (growth) and deleted (shrink) between calls. */
static void scan_while_resizing(unsigned nshards, int grow)
{
    enum { N = 3000, EXTRA = 40000 };
    struct cache *c = mk(nshards, 0, CACHE_ALLKEYS_LRU);
    char k[32];
    unsigned char *seen = calloc(N, 1);
    int extra = 0;

    for (int i = 0; i < N; i++) {
        snprintf(k, sizeof(k), "k%d", i);
        assert_int_equal(set(c, k, "v", 1), CACHE_OK);
    }
    if (!grow) {   /* many extra keys to delete during the scan */
        for (int i = 0; i < EXTRA; i++) {
            snprintf(k, sizeof(k), "x%d", i);
            assert_int_equal(set(c, k, "v", 1), CACHE_OK);
        }
    }
    uint64_t cur = 0;
    int calls = 0;
    do {
        struct cache_keys out = {0};
        int err;
        cur = cache_scan(c, cur, 10, -1, 1, &out, &err);
        assert_int_equal(err, 0);
        size_t pos = 0, kl;
        const char *key;
        while ((key = cache_keys_next(&out, &pos, &kl))) {
            int i = key_index(key, kl);
            if (i >= 0 && i < N)
                seen[i] = 1;
        }
        cache_keys_free(&out);
        for (int j = 0; j < 100 && extra < EXTRA; j++, extra++) {
            snprintf(k, sizeof(k), "x%d", extra);
            if (grow)
                assert_int_equal(set(c, k, "v", 1), CACHE_OK);
            else
                assert_int_equal(cache_del(c, S(k), 1), CACHE_OK);
        }
        calls++;
    } while (cur != 0);
    for (int i = 0; i < N; i++)
        if (!seen[i])
            fail_msg("key k%d never returned by SCAN (%u shards)", i, nshards);
    assert_true(calls > 10);
    free(seen);
    ASSERT_INV(c);
    cache_destroy(c);
}

static void test_scan_grow_1(void **state) { scan_while_resizing(1, 1); }
static void test_scan_grow_4(void **state) { scan_while_resizing(4, 1); }
static void test_scan_shrink_1(void **state) { scan_while_resizing(1, 0); }
static void test_scan_shrink_8(void **state) { scan_while_resizing(8, 0); }

static void test_scan_skips_expired_and_keys(void **state)
{
    struct cache *c = mk(4, 0, CACHE_ALLKEYS_LRU);
    assert_int_equal(set(c, "k1", "v", 1000), CACHE_OK);
    assert_int_equal(set_ex(c, "k2", "v", 2000, 1000), CACHE_OK);
    struct cache_keys out = {0};
    assert_int_equal(cache_keys(c, 3000, &out), CACHE_OK);
    assert_int_equal(out.count, 1);
    size_t pos = 0, kl;
    const char *key = cache_keys_next(&out, &pos, &kl);
    assert_int_equal(kl, 2);
    assert_memory_equal(key, "k1", 2);
    assert_null(cache_keys_next(&out, &pos, &kl));
    cache_keys_free(&out);
    int err;
    uint64_t cur = 0;
    size_t total = 0;
    do {
        cur = cache_scan(c, cur, 100, -1, 3000, &out, &err);
        assert_int_equal(err, 0);
    } while (cur);
    total = out.count;
    assert_int_equal(total, 1);
    cache_keys_free(&out);
    cache_destroy(c);
}

/* Empty shards cost one visit each, so a scan over many mostly empty
 * shards ends in a handful of calls, and still returns every key. */
static void test_scan_many_empty_shards(void **state)
{
    struct cache *c = mk(1024, 0, CACHE_ALLKEYS_LRU);
    assert_int_equal(set(c, "a", "1", 1), CACHE_OK);
    assert_int_equal(set(c, "b", "2", 1), CACHE_OK);
    assert_int_equal(set(c, "c", "3", 1), CACHE_OK);
    struct cache_keys k = {0};
    uint64_t cur = 0;
    int calls = 0, err;
    do {
        cur = cache_scan(c, cur, 10, -1, 1, &k, &err);
        assert_int_equal(err, 0);
        calls++;
    } while (cur != 0);
    assert_int_equal(k.count, 3);
    assert_true(calls <= 11);   /* 1024 shards / 100 visits per call */
    cache_keys_free(&k);
    cache_destroy(c);
}

static void test_randomkey(void **state)
{
    struct cache *c = mk(1, 0, CACHE_ALLKEYS_LRU);
    struct cache_val v = {0};
    assert_int_equal(cache_randomkey(c, 1, &v), CACHE_NOTFOUND);
    assert_int_equal(set(c, "only", "v", 1), CACHE_OK);
    assert_int_equal(cache_randomkey(c, 1, &v), CACHE_OK);
    assert_int_equal(v.len, 4);
    assert_memory_equal(v.data, "only", 4);
    /* An expired key is reaped, not returned. */
    assert_int_equal(set_ex(c, "gone", "v", 5, 1), CACHE_OK);
    for (int i = 0; i < 50; i++) {
        assert_int_equal(cache_randomkey(c, 10, &v), CACHE_OK);
        assert_memory_equal(v.data, "only", 4);
    }
    assert_int_equal(cache_dbsize(c), 1);
    free(v.data);
    ASSERT_INV(c);
    cache_destroy(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scan_grow_1),
        cmocka_unit_test(test_scan_grow_4),
        cmocka_unit_test(test_scan_shrink_1),
        cmocka_unit_test(test_scan_shrink_8),
        cmocka_unit_test(test_scan_many_empty_shards),
        cmocka_unit_test(test_scan_skips_expired_and_keys),
        cmocka_unit_test(test_randomkey),
    };
    return cmocka_run_group_tests_name("cache_scan", tests, NULL, NULL);
}
