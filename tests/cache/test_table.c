/* table.c: insert/lookup/delete, incremental growth and shrink. */
#include "test_util.h"

static uint64_t tsize(const struct cache__tab *t) { return t->b ? t->mask + 1 : 0; }

static void test_insert_lookup_delete(void **state)
{
    struct cache *c = mk(1, 0, CACHE_ALLKEYS_LRU);
    char k[32], v[32];
    for (int i = 0; i < 1000; i++) {
        snprintf(k, sizeof(k), "key:%d", i);
        snprintf(v, sizeof(v), "val:%d", i);
        assert_int_equal(set(c, k, v, 1), CACHE_OK);
    }
    assert_int_equal(cache_dbsize(c), 1000);
    for (int i = 0; i < 1000; i++) {
        snprintf(k, sizeof(k), "key:%d", i);
        snprintf(v, sizeof(v), "val:%d", i);
        assert_string_equal(get(c, k, 1), v);
    }
    assert_null(get(c, "nope", 1));
    for (int i = 0; i < 1000; i += 2) {
        snprintf(k, sizeof(k), "key:%d", i);
        assert_int_equal(cache_del(c, S(k), 1), CACHE_OK);
        assert_int_equal(cache_del(c, S(k), 1), CACHE_NOTFOUND);
    }
    assert_int_equal(cache_dbsize(c), 500);
    for (int i = 0; i < 1000; i++) {
        snprintf(k, sizeof(k), "key:%d", i);
        assert_int_equal(cache_exists(c, S(k), 1),
                         i % 2 ? CACHE_OK : CACHE_NOTFOUND);
    }
    ASSERT_INV(c);
    cache_destroy(c);
}

static void test_binary_keys(void **state)
{
    struct cache *c = mk(4, 0, CACHE_ALLKEYS_LRU);
    const char k1[] = {'a', 0, 'b'}, k2[] = {'a', 0, 'c'};
    const char v[] = {0, 1, 0, 2};
    struct cache_val out = {0};
    assert_int_equal(cache_set(c, k1, 3, v, 4, 0, 0, 1, NULL, NULL), CACHE_OK);
    assert_int_equal(cache_get(c, k2, 3, 1, &out), CACHE_NOTFOUND);
    assert_int_equal(cache_get(c, k1, 3, 1, &out), CACHE_OK);
    assert_int_equal(out.len, 4);
    assert_memory_equal(out.data, v, 4);
    assert_int_equal(cache_set(c, "", 0, "", 0, 0, 0, 1, NULL, NULL), CACHE_OK);
    assert_int_equal(cache_get(c, "", 0, 1, &out), CACHE_OK);
    assert_int_equal(out.len, 0);
    free(out.data);
    ASSERT_INV(c);
    cache_destroy(c);
}

/* Growth is incremental: right after crossing load factor 1 both tables
 * exist, and each operation moves only a bucket or so. */
static void test_incremental_grow_and_shrink(void **state)
{
    struct cache *c = mk(1, 0, CACHE_ALLKEYS_LRU);
    struct shard *s = &c->shards[0];
    char k[32];
    int saw_rehash = 0;
    uint64_t maxsize = 0;

    for (int i = 0; i < 100000; i++) {
        snprintf(k, sizeof(k), "k%d", i);
        assert_int_equal(set(c, k, "v", 1), CACHE_OK);
        if (s->kt.rehashidx >= 0) {
            saw_rehash++;
            /* Two tables, the new one twice the old one. */
            assert_int_equal(tsize(&s->kt.ht[1]), tsize(&s->kt.ht[0]) * 2);
        }
        if (i % 9973 == 0)
            ASSERT_INV(c);
    }
    assert_true(saw_rehash > 1000);   /* resizes spread over many ops */
    ASSERT_INV(c);
    /* Load factor stays at most max_load (2 keys a bucket) and above a
     * quarter of it once rehashing is done. */
    while (s->kt.rehashidx >= 0)
        (void)get(c, "k1", 1);
    maxsize = tsize(&s->kt.ht[0]);
    assert_int_equal(s->kt.max_load, 2);
    assert_true(maxsize * 2 >= 100000 && maxsize <= 2 * 100000);
    for (int i = 0; i < 100000; i++) {
        snprintf(k, sizeof(k), "k%d", i);
        assert_string_equal(get(c, k, 1), "v");
    }
    /* Delete nearly everything: the table shrinks, also incrementally. */
    for (int i = 0; i < 99990; i++) {
        snprintf(k, sizeof(k), "k%d", i);
        assert_int_equal(cache_del(c, S(k), 1), CACHE_OK);
    }
    for (int i = 0; i < 10000 && s->kt.rehashidx >= 0; i++)
        (void)get(c, "k99995", 1);
    assert_true(tsize(&s->kt.ht[0]) < maxsize / 64);
    for (int i = 99990; i < 100000; i++) {
        snprintf(k, sizeof(k), "k%d", i);
        assert_string_equal(get(c, k, 1), "v");
    }
    ASSERT_INV(c);
    cache_flush(c, 0);
    assert_int_equal(cache_dbsize(c), 0);
    ASSERT_INV(c);
    cache_destroy(c);
}

/* A rehash step moves a bounded amount of work. */
static void test_rehash_step_bounded(void **state)
{
    struct cache *c = mk(1, 0, CACHE_ALLKEYS_LRU);
    struct shard *s = &c->shards[0];
    char k[32];
    int i = 0;
    for (;; i++) {
        snprintf(k, sizeof(k), "k%d", i);
        assert_int_equal(set(c, k, "v", 1), CACHE_OK);
        if (s->kt.rehashidx >= 0 && tsize(&s->kt.ht[0]) >= 65536)
            break;
    }
    cache__shard_lock(s);
    uint64_t before = s->kt.ht[0].used;
    cache__table_rehash_locked(s, 1);
    /* One bucket: a chain, a handful of items at load factor 1. */
    assert_true(before - s->kt.ht[0].used < 32);
    cache__shard_unlock(s);
    ASSERT_INV(c);
    cache_destroy(c);
}

static void test_create_invalid(void **state)
{
    struct cache_opts o = {.nshards = 3};
    assert_null(cache_create(&o));
    o.nshards = 0;
    assert_null(cache_create(&o));
    o.nshards = 131072;
    assert_null(cache_create(&o));
    o.nshards = 65536;
    struct cache *c = cache_create(&o);   /* random seed */
    assert_non_null(c);
    assert_int_equal(cache_nshards(c), 65536);
    assert_int_equal(set(c, "a", "b", 1), CACHE_OK);
    assert_string_equal(get(c, "a", 1), "b");
    cache_destroy(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_insert_lookup_delete),
        cmocka_unit_test(test_binary_keys),
        cmocka_unit_test(test_incremental_grow_and_shrink),
        cmocka_unit_test(test_rehash_step_bounded),
        cmocka_unit_test(test_create_invalid),
    };
    return cmocka_run_group_tests_name("cache_table", tests, NULL, NULL);
}
