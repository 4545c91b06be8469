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

/* The TTL index (expire.c) against a model: random SET / SET EX / SET
 * KEEPTTL / EXPIRE / PERSIST / GETEX EX / GETEX PERSIST / APPEND (a new,
 * bigger item) / HSET (a compact hash grown in place or moved by
 * realloc) / RENAME (the TTL moves with the allocation) / DEL on one
 * shard, so the index grows and shrinks through many sizes. After each
 * step TTL answers what the model says; the debug check (every entry
 * findable, of a live item with has_ttl, as many as INFO's expires) runs
 * every 64 steps. Then everything falls due and active expiry alone must
 * reap exactly the keys that had a TTL. */
#define NK 400
static void test_ttl_index_model(void **state)
{
    struct cache *c = mk(1, 0, CACHE_ALLKEYS_LRU);
    int64_t ttl[NK] = {0}, at, now = 1000;
    bool present[NK] = {0}, hash[NK] = {0};
    struct cache_val v = {0};
    char k[32], k2[32];
    size_t n;
    (void)state;
    rnd_seed(7);
    for (int step = 0; step < 30000; step++) {
        int i = (int)(rnd() % NK), op = (int)(rnd() % 11);
        int64_t t = now + 1000000 + (int64_t)(rnd() % 1000000);
        snprintf(k, sizeof(k), "key:%d", i);
        switch (op) {
        case 0:   /* SET: no TTL */
            assert_int_equal(set(c, k, "v", now), CACHE_OK);
            present[i] = true, hash[i] = false, ttl[i] = 0;
            break;
        case 1:   /* SET EX */
            assert_int_equal(set_ex(c, k, "v", t, now), CACHE_OK);
            present[i] = true, hash[i] = false, ttl[i] = t;
            break;
        case 2:   /* SET KEEPTTL */
            assert_int_equal(cache_set(c, S(k), S("w"), CACHE_SET_KEEPTTL, 0, now, NULL,
                                       NULL), CACHE_OK);
            if (!present[i])
                ttl[i] = 0;
            present[i] = true, hash[i] = false;
            break;
        case 3:   /* EXPIRE */
            assert_int_equal(cache_expire(c, S(k), t, 0, now),
                             present[i] ? CACHE_OK : CACHE_NOTFOUND);
            if (present[i])
                ttl[i] = t;
            break;
        case 4:   /* PERSIST */
            assert_int_equal(cache_persist(c, S(k), now),
                             !present[i] ? CACHE_NOTFOUND : ttl[i] ? CACHE_OK : CACHE_NOTSET);
            ttl[i] = 0;
            break;
        case 5:   /* GETEX EX / PERSIST */
            if (hash[i])
                break;
            assert_int_equal(cache_getex(c, S(k), (rnd() & 1) ? CACHE_GETEX_EXPIRE
                                         : CACHE_GETEX_PERSIST, t, now, &v),
                             present[i] ? CACHE_OK : CACHE_NOTFOUND);
            /* the mode was drawn above: read it back from the cache */
            if (present[i])
                assert_int_equal(cache_ttl(c, S(k), now, &ttl[i]), CACHE_OK);
            break;
        case 6:   /* APPEND: a bigger value, soon a new item */
            if (hash[i])
                break;
            assert_int_equal(cache_append(c, S(k), S("0123456789abcdef0123456789"), now,
                                          &n), CACHE_OK);
            if (!present[i])
                ttl[i] = 0;
            present[i] = true;
            if (n > 4000) {   /* start over small, with a TTL */
                ttl[i] = ttl[i] ? ttl[i] : t;
                assert_int_equal(set_ex(c, k, "v", ttl[i], now), CACHE_OK);
            }
            break;
        case 7: { /* HSET: a compact hash that grows */
            if (present[i] && !hash[i])
                break;
            char f[32];
            snprintf(f, sizeof(f), "f%u", (unsigned)(rnd() % 64));
            struct cache_kv fv = {f, strlen(f), "value-of-a-field", 16};
            uint64_t added;
            assert_int_equal(cache_hset(c, S(k), &fv, 1, 0, now, &added), CACHE_OK);
            if (!present[i])
                ttl[i] = 0;
            present[i] = true, hash[i] = true;
            break;
        }
        case 8:   /* RENAME i -> j */
        case 9: {
            int j = (int)(rnd() % NK);
            snprintf(k2, sizeof(k2), "key:%d", j);
            int rc = cache_rename(c, S(k), S(k2), 0, now);
            assert_int_equal(rc, present[i] ? CACHE_OK : CACHE_NOTFOUND);
            if (present[i] && i != j) {
                present[j] = true, hash[j] = hash[i], ttl[j] = ttl[i];
                present[i] = false, hash[i] = false, ttl[i] = 0;
            }
            break;
        }
        default:  /* DEL */
            assert_int_equal(cache_del(c, S(k), now), present[i] ? CACHE_OK : CACHE_NOTFOUND);
            present[i] = false, hash[i] = false, ttl[i] = 0;
            break;
        }
        if (present[i]) {
            assert_int_equal(cache_ttl(c, S(k), now, &at), CACHE_OK);
            assert_int_equal(at, ttl[i]);
        } else {
            assert_int_equal(cache_ttl(c, S(k), now, &at), CACHE_NOTFOUND);
        }
        if (step % 64 == 0) {
            uint64_t with = 0;
            for (int x = 0; x < NK; x++)
                with += present[x] && ttl[x];
            struct cache_stats st;
            cache_stats(c, &st);
            assert_int_equal(st.expires, with);
            ASSERT_INV(c);
        }
    }
    uint64_t with = 0, keys = 0, reaped = 0, d;
    for (int x = 0; x < NK; x++)
        with += present[x] && ttl[x], keys += present[x];
    assert_int_equal(cache_dbsize(c), keys);
    while ((d = cache_active_expire(c, 0, 1, 64, now + 3000000)) > 0)
        reaped += d;
    assert_int_equal(reaped, with);
    assert_int_equal(cache_dbsize(c), keys - with);
    /* Emptied, the index has shrunk back to its smallest (16 slots). */
    assert_int_equal(c->shards[0].ttl_cap, 16);
    ASSERT_INV(c);
    free(v.data);
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
        cmocka_unit_test(test_ttl_index_model),
    };
    return cmocka_run_group_tests_name("cache_expire", tests, NULL, NULL);
}
