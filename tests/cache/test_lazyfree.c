/*
 * test_lazyfree: who frees a large value (cache/lazyfree.c), and that the
 * accounting stays exact: used_memory drops when the key leaves the
 * keyspace, the pending counters return to 0 once the thread is done.
 * Also eviction of hashes under maxmemory (a hash grown by HSET is
 * charged as it grows and can be the victim).
 */
#include <time.h>
#include <unistd.h>

#include "test_util.h"

static void big_hash(struct cache *c, const char *key, int fields)
{
    struct cache_kv kv[64];
    uint64_t added;

    for (int i = 0; i < fields;) {
        int n = 0;
        for (; n < 64 && i < fields; n++, i++) {
            static char fb[64][32];
            snprintf(fb[n], sizeof(fb[n]), "field:%d", i);
            kv[n].key = fb[n];
            kv[n].klen = strlen(fb[n]);
            kv[n].val = "value";
            kv[n].vlen = 5;
        }
        assert_int_equal(cache_hset(c, S(key), kv, (size_t)n, 0, 1, &added), CACHE_OK);
    }
}

static struct cache_stats stats(struct cache *c)
{
    struct cache_stats st;
    cache_stats(c, &st);
    return st;
}

/* Waits (bounded, 10 s) until the lazy-free thread has nothing pending. */
static void wait_idle(struct cache *c)
{
    for (int i = 0; i < 10000 && stats(c).lazyfree_pending; i++)
        usleep(1000);
    assert_int_equal(stats(c).lazyfree_pending, 0);
    assert_int_equal(stats(c).lazyfree_pending_bytes, 0);
}

static void test_unlink_and_del(void **st)
{
    struct cache *c = mk(4, 0, CACHE_ALLKEYS_LRU);
    uint64_t base = used(c);

    big_hash(c, "a", 5000);
    big_hash(c, "b", 5000);
    big_hash(c, "small", 10);
    /* UNLINK: handed over, out of used_memory at once */
    assert_int_equal(cache_unlink(c, S("a"), 1), CACHE_OK);
    wait_idle(c);
    assert_int_equal(stats(c).lazyfreed, 1);
    /* DEL with lazyfree-lazy-user-del off: the deleting thread frees it */
    assert_int_equal(cache_del(c, S("b"), 1), CACHE_OK);
    assert_int_equal(stats(c).lazyfreed, 1);
    /* a small value is freed on the spot, even by UNLINK */
    assert_int_equal(cache_unlink(c, S("small"), 1), CACHE_OK);
    assert_int_equal(stats(c).lazyfreed, 1);
    /* with the setting, DEL goes lazy too */
    cache_set_lazyfree(c, CACHE_LAZY_USER_DEL);
    big_hash(c, "b", 5000);
    assert_int_equal(cache_del(c, S("b"), 1), CACHE_OK);
    wait_idle(c);
    assert_int_equal(stats(c).lazyfreed, 2);
    ASSERT_INV(c);
    assert_true(used(c) <= base + 4096);
    cache_destroy(c);
}

/* Overwrite (server del), expiry and eviction pick their own settings. */
static void test_settings_by_kind(void **st)
{
    struct cache *c = mk(1, 0, CACHE_ALLKEYS_LRU);

    big_hash(c, "h", 1000);
    assert_int_equal(set(c, "h", "x", 1), CACHE_OK);   /* overwrite, setting off */
    assert_int_equal(stats(c).lazyfreed, 0);
    cache_set_lazyfree(c, CACHE_LAZY_SERVER_DEL | CACHE_LAZY_EXPIRE | CACHE_LAZY_EVICTION);
    assert_int_equal(cache_del(c, S("h"), 1), CACHE_OK);   /* the string */
    big_hash(c, "h", 1000);
    assert_int_equal(set(c, "h", "x", 1), CACHE_OK);
    wait_idle(c);
    assert_int_equal(stats(c).lazyfreed, 1);
    big_hash(c, "e", 1000);
    assert_int_equal(cache_expire(c, S("e"), 100, 0, 1), CACHE_OK);
    assert_int_equal(cache_exists(c, S("e"), 200), CACHE_NOTFOUND);   /* lazy expiry */
    wait_idle(c);
    assert_int_equal(stats(c).lazyfreed, 2);
    ASSERT_INV(c);
    cache_destroy(c);
}

static void test_flush_async(void **st)
{
    struct cache *c = mk(4, 0, CACHE_ALLKEYS_LRU);
    uint64_t base = used(c);
    char k[32];

    for (int i = 0; i < 1000; i++) {
        snprintf(k, sizeof(k), "s%d", i);
        set(c, k, "value", 1);
    }
    big_hash(c, "h", 3000);
    cache_flush(c, 1);
    assert_int_equal(cache_dbsize(c), 0);
    assert_true(used(c) <= base + 1024);
    wait_idle(c);
    assert_int_equal(stats(c).lazyfreed, 1001);
    ASSERT_INV(c);
    /* FLUSHALL SYNC frees here, nothing is handed over */
    big_hash(c, "h", 3000);
    cache_flush(c, 0);
    assert_int_equal(stats(c).lazyfreed, 1001);
    assert_int_equal(cache_dbsize(c), 0);
    ASSERT_INV(c);
    cache_destroy(c);
}

/* A hash grown by HSET is charged as it grows: under maxmemory the cache
 * evicts (other keys, or the big hash itself) and stays within bounds. */
static void test_eviction_of_hashes(void **st)
{
    const uint64_t max = 4 << 20;
    struct cache *c = mk(4, max, CACHE_ALLKEYS_LRU);
    char key[32], f[32];
    uint64_t added;

    cache_set_lazyfree(c, CACHE_LAZY_EVICTION);
    big_hash(c, "giant", 20000);   /* ~1.3 MB: the LRU tail */
    for (int i = 0; i < 20000; i++) {
        snprintf(key, sizeof(key), "h%d", i);
        for (int j = 0; j < 10; j++) {
            snprintf(f, sizeof(f), "field%d", j);
            struct cache_kv kv = {S(f), S("some value, 20 bytes")};
            int rc = cache_hset(c, S(key), &kv, 1, 0, 2, &added);
            assert_int_equal(rc, CACHE_OK);
        }
        assert_true(used(c) <= max + 64 * 1024);
    }
    assert_true(stats(c).evicted_keys > 0);
    assert_int_equal(cache_exists(c, S("giant"), 3), CACHE_NOTFOUND);
    wait_idle(c);
    assert_true(stats(c).lazyfreed >= 1);
    ASSERT_INV(c);
    cache_destroy(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unlink_and_del),
        cmocka_unit_test(test_settings_by_kind),
        cmocka_unit_test(test_flush_async),
        cmocka_unit_test(test_eviction_of_hashes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
