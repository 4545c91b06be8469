/*
 * test_listops: what the list commands of cache/listops.c promise beyond
 * the type's own tests (test_t_list.c): LRANGE copies at most max_bytes
 * of elements (the caller's output limit) under the shard lock, says how
 * long the range really is, and copies it whole when it fits.
 */
#include "test_util.h"

#define ELEM "element-of-32-bytes-0123456789ab"

static void fill(struct cache *c, const char *key, int n)
{
    struct cache_str e = {S(ELEM)};
    uint64_t len;
    for (int i = 0; i < n; i++)
        assert_int_equal(cache_lpush(c, S(key), CACHE_LIST_TAIL, &e, 1, 0, 1, &len), CACHE_OK);
    assert_int_equal(len, (uint64_t)n);
}

/* The copy stops soon after max_bytes: the reply could not be sent
 * whole anyway, and a huge range must not be copied under the lock. */
static void test_lrange_copy_bounded(void **state)
{
    (void)state;
    struct cache *c = mk(4, 0, CACHE_ALLKEYS_LRU);
    fill(c, "l", 10000);   /* ~320 KB of elements, over many nodes */

    struct cache_keys out = {0};
    uint64_t total = 0;
    assert_int_equal(cache_lrange(c, S("l"), 0, -1, 4096, 1, &out, &total), CACHE_OK);
    assert_int_equal(total, 10000);                       /* what the range is */
    assert_true(out.count > 4096 / 64 && out.count < 4096 / 32 + 2);   /* what was copied */
    assert_true(out.len < 2 * 4096 + 64);
    cache_keys_free(&out);

    /* a range under the bound comes whole, in order */
    memset(&out, 0, sizeof(out));
    assert_int_equal(cache_lrange(c, S("l"), 10, 19, 4096, 1, &out, &total), CACHE_OK);
    assert_int_equal(total, 10);
    assert_int_equal(out.count, 10);
    size_t pos = 0, len;
    const char *s;
    while ((s = cache_keys_next(&out, &pos, &len)) != NULL)
        assert_memory_equal(s, ELEM, len);
    cache_keys_free(&out);

    /* no bound: all of it */
    memset(&out, 0, sizeof(out));
    assert_int_equal(cache_lrange(c, S("l"), 0, -1, SIZE_MAX, 1, &out, &total), CACHE_OK);
    assert_int_equal(out.count, 10000);
    cache_keys_free(&out);

    /* a missing key: nothing, total 0 */
    memset(&out, 0, sizeof(out));
    assert_int_equal(cache_lrange(c, S("nokey"), 0, -1, 4096, 1, &out, &total), CACHE_NOTFOUND);
    assert_int_equal(total, 0);
    assert_int_equal(out.count, 0);
    cache_keys_free(&out);
    ASSERT_INV(c);
    cache_destroy(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lrange_copy_bounded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
