/* lru.c: order, the bump window, TOUCH. */
#include "test_util.h"

static const char *tail_key(struct cache *c, char *buf)
{
    struct item *t = c->shards[0].lru_tail;
    memcpy(buf, item_key(t), item_klen(t));
    buf[item_klen(t)] = 0;
    return buf;
}

static void test_order_and_window(void **state)
{
    struct cache *c = mk(1, 0, CACHE_ALLKEYS_LRU);
    char buf[64];
    assert_int_equal(set(c, "a", "1", 1000), CACHE_OK);
    assert_int_equal(set(c, "b", "1", 1000), CACHE_OK);
    assert_int_equal(set(c, "c", "1", 1000), CACHE_OK);
    assert_string_equal(tail_key(c, buf), "a");
    /* A read inside the window does not move the item. */
    assert_non_null(get(c, "a", 1500));
    assert_string_equal(tail_key(c, buf), "a");
    /* A read a window later does. */
    assert_non_null(get(c, "a", 2000));
    assert_string_equal(tail_key(c, buf), "b");
    /* TOUCH always bumps. */
    assert_int_equal(cache_touch(c, S("b"), 2001), CACHE_OK);
    assert_string_equal(tail_key(c, buf), "c");
    assert_int_equal(cache_touch(c, S("zz"), 2001), CACHE_NOTFOUND);
    /* A write always bumps. */
    assert_int_equal(set(c, "c", "2", 2002), CACHE_OK);
    assert_string_equal(tail_key(c, buf), "a");
    ASSERT_INV(c);
    cache_destroy(c);
}

static void test_wraparound(void **state)
{
    struct cache *c = mk(1, 0, CACHE_ALLKEYS_LRU);
    char buf[64];
    int64_t t0 = 0xFFFFFF00ll;   /* just before the 32-bit ms wrap */
    assert_int_equal(set(c, "a", "1", t0), CACHE_OK);
    assert_int_equal(set(c, "b", "1", t0), CACHE_OK);
    assert_non_null(get(c, "a", t0 + 2000));   /* crosses the wrap */
    assert_string_equal(tail_key(c, buf), "b");
    cache_destroy(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_order_and_window),
        cmocka_unit_test(test_wraparound),
    };
    return cmocka_run_group_tests_name("cache_lru", tests, NULL, NULL);
}
