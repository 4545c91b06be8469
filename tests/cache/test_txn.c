/* txn.c and watch.c: a transaction's shard locks, held across cache calls;
 * WATCHed keys marked by writes, FLUSHALL, expiry and deletes. */
#include <pthread.h>
#include <unistd.h>

#include "test_util.h"

static struct cache_str keys8[8] = {
    { S("k0") }, { S("k1") }, { S("k2") }, { S("k3") },
    { S("k4") }, { S("k5") }, { S("k6") }, { S("k7") },
};

/* Calls inside run as usual on the held shards (several times each), and
 * the shards are really held: a writer on another thread waits for the
 * unlock. */
static void *set_k0(void *arg)
{
    assert_int_equal(set(arg, "k0", "other", 1), CACHE_OK);
    return NULL;
}

static void test_calls_inside(void **state)
{
    struct cache *c = mk(16, 0, CACHE_ALLKEYS_LRU);
    struct cache_txn t;
    pthread_t th;

    assert_int_equal(cache_txn_lock(c, &t, keys8, 8, 0), CACHE_OK);
    for (int round = 0; round < 3; round++)
        for (int i = 0; i < 8; i++) {
            assert_int_equal(cache_set(c, keys8[i].s, keys8[i].len, S("v"), 0, 0, 1, NULL,
                                       NULL), CACHE_OK);
            assert_string_equal(get(c, keys8[i].s, 1), "v");
        }
    assert_int_equal(cache_rename(c, S("k1"), S("k2"), 0, 1), CACHE_OK);
    assert_int_equal(pthread_create(&th, NULL, set_k0, c), 0);
    usleep(100 * 1000);
    assert_string_equal(get(c, "k0", 1), "v");   /* the writer still waits */
    cache_txn_unlock(c, &t, 1);
    pthread_join(th, NULL);
    assert_string_equal(get(c, "k0", 1), "other");
    ASSERT_INV(c);
    cache_destroy(c);
}

/* Random key lists, repeats included, of 1 to 20 keys (the in-place sort
 * up to CACHE_MLOCK_SMALL, qsort above): the shards held are each key's
 * shard, once each, ascending (the lock order), and each really is held. */
static void test_lock_order(void **state)
{
    struct cache *c = mk(16, 0, CACHE_ALLKEYS_LRU);
    unsigned seed = 21;

    for (int round = 0; round < 500; round++) {
        struct cache_str keys[20];
        char names[20][8];
        bool want[16] = {0};
        size_t n = 1 + (size_t)rand_r(&seed) % 20, distinct = 0;
        struct cache_txn t;

        for (size_t i = 0; i < n; i++) {
            snprintf(names[i], sizeof(names[i]), "k%d", rand_r(&seed) % 40);
            keys[i] = (struct cache_str){ names[i], strlen(names[i]) };
            unsigned id = cache__shard_of(c, cache__hash(c, keys[i].s, keys[i].len))->id;
            distinct += !want[id];
            want[id] = true;
        }
        assert_int_equal(cache_txn_lock(c, &t, keys, n, 0), CACHE_OK);
        bool ok = t.m.n == distinct;
        for (size_t i = 0; ok && i < t.m.n; i++)
            ok = want[t.m.ids[i]] && (i == 0 || t.m.ids[i - 1] < t.m.ids[i]) &&
                 cache__txn_holds(&c->shards[t.m.ids[i]]);
        cache_txn_unlock(c, &t, 1);   /* first: a failure leaves no shard held */
        if (!ok)
            fail_msg("%zu keys on %zu shards: held %zu, not each once ascending", n, distinct,
                     t.m.n);
    }
    cache_destroy(c);
}

/* Every shard: the whole-keyspace calls run inside too. */
static void test_all_shards(void **state)
{
    /* 16: TSan's deadlock detector follows at most 64 locks held at once */
    struct cache *c = mk(16, 0, CACHE_ALLKEYS_LRU);
    struct cache_txn t;
    struct cache_keys k = {0};

    assert_int_equal(set(c, "a", "1", 1), CACHE_OK);
    assert_int_equal(cache_txn_lock(c, &t, NULL, 0, 1), CACHE_OK);
    assert_int_equal(cache_keys(c, 1, &k), CACHE_OK);
    assert_int_equal(k.count, 1);
    cache_flush(c, 0);
    assert_int_equal(cache_dbsize(c), 0);
    assert_int_equal(set(c, "b", "2", 1), CACHE_OK);
    cache_txn_unlock(c, &t, 1);
    cache_keys_free(&k);
    assert_string_equal(get(c, "b", 1), "2");
    cache_destroy(c);
}

/* Two threads each writing big values in transactions over different
 * key sets of a cache over its limit: eviction inside a transaction
 * never waits out of order (a deadlock would hang this test). */
struct ev {
    struct cache *c;
    int base;
};

static void *evict_loop(void *arg)
{
    struct ev *e = arg;
    char big[4096], name[2][16];
    struct cache_str ks[2];

    memset(big, 'x', sizeof(big));
    for (int round = 0; round < 3000; round++) {
        struct cache_txn t;
        for (int i = 0; i < 2; i++) {
            snprintf(name[i], sizeof(name[i]), "e%d", e->base + (round * 2 + i) % 512);
            ks[i] = (struct cache_str){ name[i], strlen(name[i]) };
        }
        assert_int_equal(cache_txn_lock(e->c, &t, ks, 2, 0), CACHE_OK);
        for (int i = 0; i < 2; i++)
            (void)cache_set(e->c, ks[i].s, ks[i].len, big, sizeof(big), 0, 0, 1, NULL, NULL);
        cache_txn_unlock(e->c, &t, 1);
    }
    return NULL;
}

static void test_evict_inside(void **state)
{
    /* room for a few values in 64 shards: a write's own shard is mostly
     * empty, so it evicts from the others while holding its two */
    /* every evicting policy: the sampled ones (LFU, volatile-ttl) lock
     * several shards per eviction, and must not wait below the held ones
     * (shard.c asserts the order in debug builds) */
    static const int policies[] = { CACHE_ALLKEYS_LRU, CACHE_ALLKEYS_RANDOM,
                                    CACHE_ALLKEYS_LFU, CACHE_VOLATILE_LFU };
    for (size_t p = 0; p < sizeof(policies) / sizeof(policies[0]); p++) {
        struct cache *c = mk(64, 64 * 1024, policies[p]);
        struct ev e[2] = { { c, 0 }, { c, 100000 } };
        pthread_t th[2];

        for (int i = 0; i < 2; i++)
            assert_int_equal(pthread_create(&th[i], NULL, evict_loop, &e[i]), 0);
        for (int i = 0; i < 2; i++)
            pthread_join(th[i], NULL);
        if (policies[p] != CACHE_VOLATILE_LFU)   /* nothing volatile to evict */
            assert_true(used(c) <= 256 * 1024);   /* a transaction may overshoot by its own writes */
        ASSERT_INV(c);
        cache_destroy(c);
    }
}

/* dirty is set by a touch of the key (not of another), by FLUSHALL when
 * the key existed; a key that expires, is deleted or appears is stale. */
static bool touched(struct cache *c, const char *key, const char *watched)
{
    _Atomic bool dirty = false;
    struct cache_watch *w = cache_watch_new(c, S(watched), &dirty);
    struct cache_str k = { S(key) };
    struct cache_txn t;

    assert_non_null(w);
    cache_watch_add(c, w, 1);
    assert_int_equal(cache_txn_lock(c, &t, &k, 1, 0), CACHE_OK);
    cache_watch_touch(c, S(key));
    cache_txn_unlock(c, &t, 1);
    cache_watch_del(c, w);
    free(w);
    return atomic_load(&dirty);
}

static bool stale_after(struct cache *c, const char *key, void (*change)(struct cache *),
                        int64_t now)
{
    _Atomic bool dirty = false;
    struct cache_watch *w = cache_watch_new(c, S(key), &dirty);
    struct cache_str k = { S(key) };
    struct cache_txn t;
    bool stale;

    cache_watch_add(c, w, 1);
    change(c);
    assert_int_equal(cache_txn_lock(c, &t, &k, 1, 0), CACHE_OK);
    stale = cache_watch_stale(c, w, now) || atomic_load(&dirty);
    cache_txn_unlock(c, &t, now);
    cache_watch_del(c, w);
    free(w);
    return stale;
}

static void nothing(struct cache *c) { (void)c; }
static void del_w(struct cache *c) { assert_int_equal(cache_del(c, S("w"), 1), CACHE_OK); }
static void set_w(struct cache *c) { assert_int_equal(set(c, "w", "new", 1), CACHE_OK); }
static void flush(struct cache *c) { cache_flush(c, 0); }

static void test_watch(void **state)
{
    struct cache *c = mk(16, 0, CACHE_ALLKEYS_LRU);

    assert_true(touched(c, "w", "w"));
    assert_false(touched(c, "other", "w"));
    assert_int_equal(set_ex(c, "w", "1", 50, 1), CACHE_OK);
    assert_false(stale_after(c, "w", nothing, 10));
    assert_true(stale_after(c, "w", nothing, 60));   /* expired since */
    assert_int_equal(set(c, "w", "1", 1), CACHE_OK);
    assert_true(stale_after(c, "w", del_w, 1));
    assert_true(stale_after(c, "w", set_w, 1));      /* appeared */
    assert_true(stale_after(c, "w", flush, 1));      /* existed: flushed */
    assert_false(stale_after(c, "w", flush, 1));     /* did not exist */
    cache_destroy(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lock_order),   /* first: the others hang on a bad order */
        cmocka_unit_test(test_calls_inside),
        cmocka_unit_test(test_all_shards),
        cmocka_unit_test(test_evict_inside),
        cmocka_unit_test(test_watch),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
