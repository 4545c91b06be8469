/* lfu.c: the LFU counter (log increment, decay), OBJECT's view, and the
 * sampling policies of evict.c (allkeys-lfu, volatile-ttl,
 * volatile-random). */
#include "test_util.h"

static const char V100[] =
    "0123456789012345678901234567890123456789012345678901234567890123456789"
    "012345678901234567890123456789";

static unsigned freq(struct cache *c, const char *k, int64_t now)
{
    struct cache_object_info o;

    assert_int_equal(cache_object(c, S(k), now, &o), CACHE_OK);
    return o.freq;
}

static uint64_t evicted(struct cache *c)
{
    struct cache_stats st;
    cache_stats(c, &st);
    return st.evicted_keys;
}

/* ---- the counter ---- */

static void test_incr_edges(void **state)
{
    (void)state;
    /* factor 0: every hit counts, up to 255 and no further */
    unsigned n = CACHE__LFU_INIT;
    for (int i = 0; i < 300; i++)
        n = cache__lfu_incr(n, 0, UINT64_MAX);
    assert_int_equal(n, 255);
    /* at or below the initial value a hit always counts, whatever the draw */
    assert_int_equal(cache__lfu_incr(0, 10, UINT64_MAX), 1);
    assert_int_equal(cache__lfu_incr(CACHE__LFU_INIT, 10, UINT64_MAX), CACHE__LFU_INIT + 1);
    /* above it, a draw of 0 always counts, the highest draw never */
    assert_int_equal(cache__lfu_incr(100, 10, 0), 101);
    assert_int_equal(cache__lfu_incr(100, 10, UINT64_MAX), 100);
    /* the largest factor Redis allows: no overflow, p tiny but valid */
    assert_int_equal(cache__lfu_incr(254, INT32_MAX, 0), 255);
    assert_int_equal(cache__lfu_incr(254, INT32_MAX, UINT64_MAX), 254);
    /* p = 1/(10*10+1): a draw just under it counts, one over it does not */
    uint64_t edge = (uint64_t)((1.0 / 101.0) * 0x1.0p64);
    assert_int_equal(cache__lfu_incr(CACHE__LFU_INIT + 10, 10, edge - 4096), CACHE__LFU_INIT + 11);
    assert_int_equal(cache__lfu_incr(CACHE__LFU_INIT + 10, 10, edge + 4096), CACHE__LFU_INIT + 10);
}

/* Many hits: the counter grows like a logarithm, slower for a larger
 * factor; a huge factor stops it just above the initial value. */
static void test_incr_log_scale(void **state)
{
    static const int factors[] = {1, 10, 100, INT32_MAX};
    unsigned got[4];

    (void)state;
    rnd_seed(TEST_RNG_SEED);
    for (int f = 0; f < 4; f++) {
        unsigned n = CACHE__LFU_INIT;
        for (int i = 0; i < 100000; i++)
            n = cache__lfu_incr(n, factors[f], rnd());
        got[f] = n;
    }
    /* factor 1: ~sqrt(2*100000) = 447 -> saturated; factor 10: ~sqrt(2e4)=141+5 */
    assert_int_equal(got[0], 255);
    assert_in_range(got[1], 120, 170);
    assert_in_range(got[2], 35, 60);
    assert_int_equal(got[3], CACHE__LFU_INIT + 1);
}

static void test_decay(void **state)
{
    (void)state;
    assert_int_equal(cache__lfu_decay(10, 0, 1), 10);
    assert_int_equal(cache__lfu_decay(10, 59999, 1), 10);
    assert_int_equal(cache__lfu_decay(10, 60000, 1), 9);
    assert_int_equal(cache__lfu_decay(10, 9 * 60000, 1), 1);
    assert_int_equal(cache__lfu_decay(10, 10 * 60000, 1), 0);
    assert_int_equal(cache__lfu_decay(10, UINT32_MAX, 1), 0);
    assert_int_equal(cache__lfu_decay(10, 5 * 60000, 2), 8);
    /* 0 (and, clamped, a negative time) never decays */
    assert_int_equal(cache__lfu_decay(10, UINT32_MAX, 0), 10);
    assert_int_equal(cache__lfu_decay(10, UINT32_MAX, -1), 10);
    assert_int_equal(cache__lfu_decay(200, UINT32_MAX, INT32_MAX), 200);
}

/* ---- through the cache ---- */

/* A hit counts under an LFU policy only; OBJECT reads without counting;
 * the counter decays with the time since the last access. */
static void test_object_freq_and_idle(void **state)
{
    struct cache *c = mk(4, 0, CACHE_ALLKEYS_LRU);
    struct cache_object_info o;
    int64_t now = 1000000;

    (void)state;
    cache_set_lfu(c, 0, 1, 5);   /* factor 0: each hit counts */
    assert_int_equal(cache_object(c, S("nokey"), now, &o), CACHE_NOTFOUND);
    assert_int_equal(set(c, "k", "v", now), CACHE_OK);
    assert_int_equal(freq(c, "k", now), CACHE__LFU_INIT);
    assert_non_null(get(c, "k", now));   /* LRU policy: not counted */
    assert_int_equal(freq(c, "k", now), CACHE__LFU_INIT);
    cache_set_limits(c, 0, CACHE_ALLKEYS_LFU, now);
    for (int i = 0; i < 3; i++)
        assert_non_null(get(c, "k", now));
    assert_int_equal(freq(c, "k", now), CACHE__LFU_INIT + 3);
    assert_int_equal(freq(c, "k", now), CACHE__LFU_INIT + 3);   /* OBJECT did not count */
    assert_int_equal(cache_object(c, S("k"), now + 5000, &o), CACHE_OK);
    /* 5 s, at the LRU clock's resolution (256 ms ticks: cache_int.h) */
    assert_in_range(o.idle_ms, 5000 - (1u << CACHE_LRU_TICK_SHIFT) + 1,
                    5000 + (1u << CACHE_LRU_TICK_SHIFT) - 1);
    assert_string_equal(o.encoding, "embstr");
    /* two idle minutes: two less, and the next hit starts from there */
    assert_int_equal(freq(c, "k", now + 120000), CACHE__LFU_INIT + 1);
    assert_non_null(get(c, "k", now + 120000));
    assert_int_equal(freq(c, "k", now + 120000), CACHE__LFU_INIT + 2);
    /* an overwrite counts as a hit and keeps the count */
    assert_int_equal(set(c, "k", "w", now + 120000), CACHE_OK);
    assert_int_equal(freq(c, "k", now + 120000), CACHE__LFU_INIT + 3);
    /* settings out of range are clamped, not trusted */
    cache_set_lfu(c, -5, -1, 0);
    assert_int_equal(freq(c, "k", now + 100 * 60000), CACHE__LFU_INIT + 3);
    cache_destroy(c);
}

/* Ten hot keys read 20 times each at `hot_at`, 0 factor (every read
 * counts), one-minute decay, 16 samples. */
static struct cache *hot_cache(unsigned nshards, uint64_t maxmem, int64_t hot_at)
{
    struct cache *c = mk(nshards, maxmem, CACHE_ALLKEYS_LFU);
    char k[32];

    cache_set_lfu(c, 0, 1, 16);
    for (int i = 0; i < 10; i++) {
        snprintf(k, sizeof(k), "hot%d", i);
        assert_int_equal(set(c, k, V100, hot_at), CACHE_OK);
        for (int j = 0; j < 20; j++)
            assert_non_null(get(c, k, hot_at));
    }
    return c;
}

static void expect_hot_kept(struct cache *c, int64_t now)
{
    char k[32];

    for (int i = 0; i < 10; i++) {
        snprintf(k, sizeof(k), "hot%d", i);
        if (get(c, k, now) == NULL)
            fail_msg("%s was evicted", k);
    }
}

/* allkeys-lfu keeps the keys read often and evicts the ones never read,
 * even though the hot keys are the least recently used. */
static void test_allkeys_lfu_keeps_hot(void **state)
{
    int64_t now = 1000;
    struct cache *c = hot_cache(1, 64 * 1024, now);
    char k[32];

    (void)state;
    for (int i = 0; evicted(c) < 200; i++) {
        snprintf(k, sizeof(k), "cold%05d", i);
        assert_int_equal(set(c, k, V100, now + 1 + i), CACHE_OK);
    }
    expect_hot_kept(c, now + 100000);
    ASSERT_INV(c);
    cache_destroy(c);
}

/* The caller's clock steps back 10 s (CLOCK_REALTIME: NTP, a resumed VM)
 * after the hot keys were read: they are idle 0, not 49.7 days, keep
 * their counts and outlive the keys written after the step (before the
 * fix every one of them decayed to 0 and went first: CI's
 * integration/test_object). A read after the step re-stamps the item. */
static void test_clock_steps_back(void **state)
{
    const int64_t t = 10 * 60000, back = t - 10000;
    struct cache *c = hot_cache(64, 64 * 1024, t);
    struct cache_object_info o;
    char k[32];

    (void)state;
    assert_int_equal(freq(c, "hot0", back), CACHE__LFU_INIT + 20);
    assert_int_equal(cache_object(c, S("hot0"), back, &o), CACHE_OK);
    assert_int_equal(o.idle_ms, 0);
    for (int i = 0; evicted(c) < 200; i++) {
        snprintf(k, sizeof(k), "cold%05d", i);
        assert_int_equal(set(c, k, V100, back + i), CACHE_OK);
    }
    expect_hot_kept(c, back + 1000);
    /* that read re-stamped hot0 with the earlier clock: 5 s idle now */
    assert_int_equal(cache_object(c, S("hot0"), back + 6000, &o), CACHE_OK);
    assert_in_range(o.idle_ms, 5000 - (1u << CACHE_LRU_TICK_SHIFT) + 1,
                    5000 + (1u << CACHE_LRU_TICK_SHIFT) - 1);
    /* a stamp more than a day ahead is taken as a very old one */
    assert_int_equal(freq(c, "hot1", t - 2 * 86400000LL), 0);
    ASSERT_INV(c);
    cache_destroy(c);
}

/* Lowering maxmemory below the use (CONFIG SET maxmemory) evicts by the
 * policy as of the caller's `now`: the hot keys stay (Redis 7.0 keeps 50
 * of 50 in the same test by hand; with the evictor's clock at 0 every
 * counter had decayed and mmcache kept 1 of 50). */
static void test_lower_maxmemory_keeps_hot(void **state)
{
    const int64_t t = 1796600000000;   /* a wall clock's ms (December 2026) */
    struct cache *c = hot_cache(64, 0, t);
    char k[32];

    (void)state;
    for (int i = 0; i < 2000; i++) {
        snprintf(k, sizeof(k), "cold%05d", i);
        assert_int_equal(set(c, k, V100, t + 1000), CACHE_OK);
    }
    uint64_t before = used(c);
    cache_set_limits(c, before / 4, CACHE_ALLKEYS_LFU, t + 2000);
    assert_true(used(c) <= before / 4);
    assert_true(evicted(c) > 1000);
    expect_hot_kept(c, t + 3000);
    ASSERT_INV(c);
    cache_destroy(c);
}

/* volatile-ttl and volatile-random evict only keys with a TTL;
 * volatile-ttl the soonest to expire among its samples, so the key that
 * expires last outlives the others. */
static void test_volatile_ttl_and_random(void **state)
{
    static const enum cache_policy policies[] = {CACHE_VOLATILE_TTL, CACHE_VOLATILE_RANDOM};
    char k[32];

    (void)state;
    for (int p = 0; p < 2; p++) {
        struct cache *c = mk(1, 64 * 1024, policies[p]);
        int64_t now = 1000;

        cache_set_lfu(c, 10, 1, 64);
        for (int i = 0; i < 20; i++) {
            snprintf(k, sizeof(k), "t%03d", i);
            assert_int_equal(set_ex(c, k, V100, now + 1000000 + i * 1000, now), CACHE_OK);
        }
        int i;
        for (i = 0; evicted(c) < 10; i++) {
            snprintf(k, sizeof(k), "p%05d", i);
            assert_int_equal(set(c, k, V100, now), CACHE_OK);
        }
        for (int j = 0; j < i; j++) {
            snprintf(k, sizeof(k), "p%05d", j);
            if (get(c, k, now) == NULL)
                fail_msg("policy %d evicted %s, which has no TTL", p, k);
        }
        if (policies[p] == CACHE_VOLATILE_TTL)
            assert_non_null(get(c, "t019", now));
        /* no TTL'd key left: nothing more to evict, writes are refused */
        int rc = CACHE_OK;
        for (int j = 0; j < 10000 && rc == CACHE_OK; j++) {
            snprintf(k, sizeof(k), "q%05d", j);
            rc = set(c, k, V100, now);
        }
        assert_int_equal(rc, CACHE_E_OOM);
        ASSERT_INV(c);
        cache_destroy(c);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_incr_edges),
        cmocka_unit_test(test_incr_log_scale),
        cmocka_unit_test(test_decay),
        cmocka_unit_test(test_object_freq_and_idle),
        cmocka_unit_test(test_allkeys_lfu_keeps_hot),
        cmocka_unit_test(test_clock_steps_back),
        cmocka_unit_test(test_lower_maxmemory_keeps_hot),
        cmocka_unit_test(test_volatile_ttl_and_random),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
