/* shard.c: the item's layout (issue 22's compact item: cache_int.h).
 * A 38-byte header; a key shorter than 255 bytes right after it, a
 * longer one after its 4-byte length; the value after the key. Every
 * operation that moves or rewrites the key (APPEND's realloc, RENAME
 * between short and long keys) keeps key, value and TTL; the debug check
 * (cache__check_invariants) recomputes each key's hash from the bytes
 * the header says are the key, so a wrong offset fails it.
 * And the shard lock's wait profile (lock_waits, lock_wait_ns) with its
 * top-N ranking (cache_lock_wait_top), as INFO shows it. */
#include <pthread.h>
#include <sched.h>

#include "test_util.h"

static char *key_of(size_t len, char fill)
{
    char *k = malloc(len + 1);
    assert_non_null(k);
    memset(k, fill, len);
    for (size_t i = 0; i < len; i += 97)
        k[i] = (char)('a' + (i / 97) % 26);   /* not all one byte */
    k[len] = 0;
    return k;
}

/* The key the cache holds for k (the only one): its bytes from KEYS. */
static void assert_only_key(struct cache *c, const char *k, size_t klen)
{
    struct cache_keys ks = {0};
    size_t pos = 0, n;
    assert_int_equal(cache_keys(c, 1, &ks), CACHE_OK);
    assert_int_equal(ks.count, 1);
    const char *got = cache_keys_next(&ks, &pos, &n);
    assert_non_null(got);
    assert_int_equal(n, klen);
    assert_memory_equal(got, k, klen);
    cache_keys_free(&ks);
}

static void test_header(void **state)
{
    (void)state;
    /* 10-byte key + 32-byte value = 80: jemalloc's 80-byte class. */
    assert_int_equal(ITEM_HDR, 38);
    assert_int_equal(ITEM_HDR + 10 + 32, 80);
    struct item *it = cache__item_new(0x1234567890abcdefull, "0123456789", 10,
                                      "value", 5, 5);
    assert_non_null(it);
    assert_int_equal(item_hash(it), 0x90abcdefu);
    assert_int_equal(item_klen(it), 10);
    assert_ptr_equal(item_key(it), it->data);
    assert_memory_equal(item_val(it), "value", 5);
    assert_int_equal(it->type, CACHE_TYPE_STRING);
    assert_int_equal(it->has_ttl, 0);
    assert_int_equal(item_lfu(it), CACHE__LFU_INIT);
    /* The LRU clock and the LFU counter share a word without touching. */
    item_set_lru(it, (int64_t)0xfffffff00);
    assert_int_equal(item_lfu(it), CACHE__LFU_INIT);
    item_set_lfu(it, 255);
    assert_int_equal(item_lru(it), cache__lru_clock((int64_t)0xfffffff00));
    assert_int_equal(item_idle_ms(it, (int64_t)0xfffffff00 + 5120), 5120);
    free(it);
    /* A long key: its length first. */
    char *k = key_of(300, 'x');
    it = cache__item_new(1, k, 300, "v", 1, 1);
    assert_non_null(it);
    assert_int_equal(it->klen8, ITEM_KLEN_LONG);
    assert_int_equal(item_klen(it), 300);
    assert_ptr_equal(item_key(it), it->data + 4);
    assert_memory_equal(item_key(it), k, 300);
    assert_ptr_equal(item_val(it), it->data + 304);
    free(it);
    free(k);
}

/* Keys around the 255-byte boundary and far past it: SET, GET, APPEND
 * past the allocation, TTL, KEYS, DEL. */
static void test_long_keys(void **state)
{
    static const size_t lens[] = {0, 1, 10, 254, 255, 256, 1000, 70000};
    (void)state;
    for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
        struct cache *c = mk(4, 0, CACHE_ALLKEYS_LRU);
        size_t kl = lens[i], n;
        char *k = key_of(kl, 'k');
        struct cache_val v = {0};
        int64_t at;
        assert_int_equal(cache_set(c, k, kl, S("hello"), 0, 0, 1, NULL, NULL), CACHE_OK);
        ASSERT_INV(c);
        assert_int_equal(cache_get(c, k, kl, 1, &v), CACHE_OK);
        assert_int_equal(v.len, 5);
        assert_memory_equal(v.data, "hello", 5);
        /* APPEND far past the allocation: a new item, key copied. */
        /* The first APPEND leaves as much room again (strops.c's slack);
         * the second needs more than that: a new item again, now with a
         * TTL to carry. */
        static char big[8000];
        memset(big, 'b', sizeof(big));
        assert_int_equal(cache_append(c, k, kl, big, 3000, 2, &n), CACHE_OK);
        assert_int_equal(n, 5 + 3000);
        assert_int_equal(cache_expire(c, k, kl, 100000, 0, 2), CACHE_OK);
        assert_int_equal(cache_append(c, k, kl, big, sizeof(big), 3, &n), CACHE_OK);
        ASSERT_INV(c);
        assert_int_equal(cache_get(c, k, kl, 3, &v), CACHE_OK);
        assert_int_equal(v.len, 5 + 3000 + sizeof(big));
        assert_memory_equal(v.data, "hello", 5);
        assert_memory_equal(v.data + 5, big, 3000);
        assert_memory_equal(v.data + 5 + 3000, big, sizeof(big));
        assert_int_equal(cache_ttl(c, k, kl, 3, &at), CACHE_OK);
        assert_int_equal(at, 100000);   /* APPEND's new item kept the TTL */
        assert_only_key(c, k, kl);
        assert_int_equal(cache_del(c, k, kl, 4), CACHE_OK);
        assert_int_equal(cache_dbsize(c), 0);
        ASSERT_INV(c);
        free(v.data);
        free(k);
        cache_destroy(c);
    }
}

/* RENAME between short and long keys moves the allocation (shrinking or
 * growing it); the value, the TTL and the key's new bytes survive. */
static void test_rename_lengths(void **state)
{
    static const size_t lens[] = {3, 254, 255, 600, 20, 300, 255, 5};
    struct cache *c = mk(4, 0, CACHE_ALLKEYS_LRU);
    struct cache_val v = {0};
    char *prev = NULL;
    size_t prevlen = 0;
    int64_t at;
    (void)state;
    char val[200];
    for (size_t i = 0; i < sizeof(val); i++)
        val[i] = (char)('0' + i % 10);
    for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
        char *k = key_of(lens[i], (char)('A' + i));
        if (!prev) {
            assert_int_equal(cache_set(c, k, lens[i], val, sizeof(val), 0, 500000, 1,
                                       NULL, NULL), CACHE_OK);
        } else {
            assert_int_equal(cache_rename(c, prev, prevlen, k, lens[i], 0, 1), CACHE_OK);
            free(prev);
        }
        ASSERT_INV(c);
        assert_only_key(c, k, lens[i]);
        assert_int_equal(cache_get(c, k, lens[i], 1, &v), CACHE_OK);
        assert_int_equal(v.len, sizeof(val));
        assert_memory_equal(v.data, val, sizeof(val));
        assert_int_equal(cache_ttl(c, k, lens[i], 1, &at), CACHE_OK);
        assert_int_equal(at, 500000);
        prev = k;
        prevlen = lens[i];
    }
    free(prev);
    free(v.data);
    cache_destroy(c);
}

/* The lock-wait profile's ranking (cache_lock_wait_rank) on given
 * counters: most time waited first, ties by waits then by lower id, the
 * least waited dropped once full. */
static void test_lock_wait_rank(void **state)
{
    (void)state;
    static const struct cache_shard_wait in[] = {
        {0, 0, 0}, {1, 5, 900}, {2, 9, 100}, {3, 1, 900}, {4, 2, 5000},
        {5, 5, 900}, {6, 0, 0}, {7, 7, 50},
    };
    static const unsigned want[] = {4, 1, 5, 3, 2};   /* 1 and 5 tie: lower id */
    struct cache_shard_wait top[5];
    size_t n = 0;

    for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++)
        cache_lock_wait_rank(top, &n, 5, in[i]);
    assert_int_equal(n, 5);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(top[i].shard, want[i]);
        assert_int_equal(top[i].wait_ns, in[want[i]].wait_ns);
        assert_int_equal(top[i].waits, in[want[i]].waits);
    }
    /* fewer shards than places: all of them, zeros last by id */
    n = 0;
    cache_lock_wait_rank(top, &n, 5, in[6]);
    cache_lock_wait_rank(top, &n, 5, in[0]);
    cache_lock_wait_rank(top, &n, 5, in[7]);
    assert_int_equal(n, 3);
    assert_int_equal(top[0].shard, 7);
    assert_int_equal(top[1].shard, 0);
    assert_int_equal(top[2].shard, 6);
    n = 0;
    cache_lock_wait_rank(top, &n, 0, in[4]);   /* no places: nothing kept */
    assert_int_equal(n, 0);
}

#define HAMMER_SHARD 3
#define HAMMER_ITERS 200000

/* Takes the shard's lock over and over, yielding while it holds it so
 * the other thread's trylock fails (even on one free CPU). Stops early
 * once the shard has counted enough waits. */
static void *hammer(void *arg)
{
    struct shard *s = arg;

    for (int i = 0; i < HAMMER_ITERS; i++) {
        cache__shard_lock(s);
        sched_yield();
        cache__shard_unlock(s);
        if (atomic_load_explicit(&s->lock_waits, memory_order_relaxed) >= 100)
            break;
    }
    return NULL;
}

/* Two threads on one shard's lock: that shard, and only it, counts waits
 * and time waited, and it ranks first; the rest follow by id. Only "> 0"
 * is asserted of the time: no thresholds. */
static void test_lock_wait_contended(void **state)
{
    (void)state;
    struct cache *c = mk(8, 0, CACHE_NOEVICTION);
    struct shard *s = &c->shards[HAMMER_SHARD];
    pthread_t th[2];

    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&th[i], NULL, hammer, s), 0);
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_join(th[i], NULL), 0);

    struct cache_stats st;
    cache_stats(c, &st);
    struct cache_shard_wait top[5];
    assert_int_equal(cache_lock_wait_top(c, NULL, top, 5), 5);
    assert_int_equal(top[0].shard, HAMMER_SHARD);
    assert_true(top[0].waits > 0);
    assert_true(top[0].wait_ns > 0);
    assert_int_equal(top[0].waits, st.lock_waits);   /* nobody else waited */
    static const unsigned rest[] = {0, 1, 2, 4};
    for (size_t i = 1; i < 5; i++) {
        assert_int_equal(top[i].shard, rest[i - 1]);
        assert_int_equal(top[i].waits, 0);
        assert_int_equal(top[i].wait_ns, 0);
    }

    /* Against a baseline read now (CONFIG RESETSTAT's): every shard at 0,
     * the hot one too, so the ranking falls back to shard ids. */
    struct cache_shard_wait base[8];
    cache_lock_wait_read(c, base);
    assert_int_equal(base[HAMMER_SHARD].shard, HAMMER_SHARD);
    assert_int_equal(base[HAMMER_SHARD].waits, top[0].waits);
    assert_int_equal(base[HAMMER_SHARD].wait_ns, top[0].wait_ns);
    assert_int_equal(cache_lock_wait_top(c, base, top, 5), 5);
    for (size_t i = 0; i < 5; i++) {
        assert_int_equal(top[i].shard, i);
        assert_int_equal(top[i].waits, 0);
        assert_int_equal(top[i].wait_ns, 0);
    }
    cache_destroy(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_header),
        cmocka_unit_test(test_long_keys),
        cmocka_unit_test(test_rename_lengths),
        cmocka_unit_test(test_lock_wait_rank),
        cmocka_unit_test(test_lock_wait_contended),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
