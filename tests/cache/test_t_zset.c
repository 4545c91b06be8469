/*
 * test_t_zset: the sorted set type (cache/t_zset.c, t_zset_big.c,
 * t_zset_pos.c).
 *
 * Unit tests pin the two encodings and the conversion (Redis 7.0's rules:
 * a new member that would take a listpack past zset-max-listpack-entries,
 * or is longer than zset-max-listpack-value, converts it first; a new key
 * is a skiplist when entries is 0 or its first member is too long; never
 * back), how -0 reads back in each encoding (as in Redis), WRONGTYPE both
 * ways, NaN from an increment, memory accounting (MEMORY USAGE equals what
 * the shard is charged as the set grows and shrinks through both
 * encodings; DEL gives it all back), COPY/RENAME of each encoding, the
 * encoding of a STORE's result, and that a large set is freed off the
 * shard lock. The property test against a model is test_zset_property.c.
 */
#include <math.h>
#include <time.h>

#include "test_util.h"

#include "t_zset.h"
#include "zset_util.h"

static void test_basic_and_wrongtype(void **st)
{
    struct cache *c = mk(4, 0, CACHE_ALLKEYS_LRU);
    struct cache_val v = {0};

    (void)st;
    assert_int_equal(zadd1(c, "z", 1, "a", 0), 1);
    assert_int_equal(zadd1(c, "z", 2, "a", 0), 0);         /* an update is not an add */
    assert_true(zscore1(c, "z", "a") == 2);
    assert_true(isnan(zscore1(c, "z", "b")));
    assert_int_equal(zadd1(c, "z", 5, "1", 0), 1);          /* an integer member */
    assert_true(isnan(zscore1(c, "z", "01")));              /* not "1" */
    assert_int_equal(zcard(c, "z"), 2);
    assert_int_equal(zcard(c, "nokey"), 0);
    assert_int_equal(set(c, "str", "x", 1), CACHE_OK);
    assert_int_equal(zadd1(c, "str", 1, "a", 0), CACHE_E_WRONGTYPE);
    assert_int_equal(zrem1(c, "str", "a"), CACHE_E_WRONGTYPE);
    double d;
    assert_int_equal(cache_zscore(c, S("str"), S("a"), 1, &d), CACHE_E_WRONGTYPE);
    assert_int_equal(cache_get(c, S("z"), 1, &v), CACHE_E_WRONGTYPE);
    struct cache_str m = {S("a")};
    uint64_t n;
    assert_int_equal(cache_sadd(c, S("z"), &m, 1, 1, &n), CACHE_E_WRONGTYPE);
    int type;
    assert_int_equal(cache_type(c, S("z"), 1, &type, NULL), CACHE_OK);
    assert_int_equal(type, CACHE_TYPE_ZSET);
    assert_string_equal(cache_type_name(type), "zset");
    /* the last member out: the key goes */
    assert_int_equal(zrem1(c, "z", "a"), 1);
    assert_int_equal(zrem1(c, "z", "1"), 1);
    assert_int_equal(cache_exists(c, S("z"), 1), CACHE_NOTFOUND);
    ASSERT_INV(c);
    free(v.data);
    cache_destroy(c);
}

/* INCR of inf by -inf: "resulting score is not a number (NaN)", nothing
 * changed; every other flag as zsetAdd. */
static void test_flags_and_nan(void **st)
{
    struct cache *c = mk(1, 0, CACHE_ALLKEYS_LRU);
    struct cache_zpair p = {INFINITY, S("a")};
    struct cache_zadd_result r;

    (void)st;
    for (int big = 0; big < 2; big++) {
        zlimits(c, big ? 0 : 128, 64);
        cache_del(c, S("z"), 1);
        p.score = INFINITY;
        assert_int_equal(cache_zadd(c, S("z"), &p, 1, 0, 1, &r), CACHE_OK);
        p.score = -INFINITY;
        assert_int_equal(cache_zadd(c, S("z"), &p, 1, CACHE_ZADD_INCR, 1, &r), CACHE_E_NAN);
        assert_true(zscore1(c, "z", "a") == INFINITY);
        p.score = 1;
        assert_int_equal(cache_zadd(c, S("z"), &p, 1, CACHE_ZADD_GT, 1, &r), CACHE_OK);
        assert_int_equal(r.processed, 0);                   /* 1 is not > inf */
        assert_int_equal(cache_zadd(c, S("z"), &p, 1, CACHE_ZADD_LT | CACHE_ZADD_INCR, 1, &r),
                         CACHE_OK);
        assert_int_equal(r.processed, 0);                   /* inf + 1 is not < inf */
        assert_int_equal(cache_zadd(c, S("z"), &p, 1, CACHE_ZADD_LT, 1, &r), CACHE_OK);
        assert_int_equal(r.updated, 1);
        assert_int_equal(cache_zadd(c, S("z"), &p, 1, CACHE_ZADD_INCR | CACHE_ZADD_XX, 1, &r),
                         CACHE_OK);
        assert_true(r.score == 2 && r.processed == 1);
        p.m = "b";
        assert_int_equal(cache_zadd(c, S("z"), &p, 1, CACHE_ZADD_XX, 1, &r), CACHE_OK);
        assert_int_equal(r.processed, 0);                   /* XX: no new member */
        assert_int_equal(cache_zadd(c, S("z"), &p, 1, CACHE_ZADD_NX, 1, &r), CACHE_OK);
        assert_int_equal(r.added, 1);
        assert_int_equal(cache_zadd(c, S("z"), &p, 1, CACHE_ZADD_NX, 1, &r), CACHE_OK);
        assert_int_equal(r.processed, 0);
        assert_string_equal(zenc_of(c, "z"), big ? "skiplist" : "listpack");
        p.m = "a";
        ASSERT_INV(c);
    }
    assert_int_equal(cache_zadd(c, S("nokey"), &p, 1, CACHE_ZADD_XX, 1, &r), CACHE_OK);
    assert_int_equal(cache_exists(c, S("nokey"), 1), CACHE_NOTFOUND);   /* XX creates nothing */
    cache_destroy(c);
}

static void fill(struct cache *c, const char *k, int from, int to)
{
    char m[32];
    for (int i = from; i < to; i++) {
        snprintf(m, sizeof(m), "m%d", i);
        assert_int_equal(zadd1(c, k, i, m, 0), 1);
    }
}

static void test_conversions(void **st)
{
    struct cache *c = mk(1, 0, CACHE_ALLKEYS_LRU);

    (void)st;
    zlimits(c, 4, 8);
    fill(c, "a", 0, 4);
    assert_string_equal(zenc_of(c, "a"), "listpack");
    assert_int_equal(zadd1(c, "a", 3.5, "m3", 0), 0);        /* an update does not convert */
    assert_string_equal(zenc_of(c, "a"), "listpack");
    fill(c, "a", 4, 5);                                       /* a 5th: skiplist */
    assert_string_equal(zenc_of(c, "a"), "skiplist");
    fill(c, "b", 0, 1);
    assert_int_equal(zadd1(c, "b", 1, "123456789", 0), 1);   /* 9 > 8 bytes */
    assert_string_equal(zenc_of(c, "b"), "skiplist");
    assert_int_equal(zadd1(c, "c", 1, "123456789", 0), 1);   /* the first member too long */
    assert_string_equal(zenc_of(c, "c"), "skiplist");
    zlimits(c, 0, 64);
    fill(c, "d", 0, 1);
    assert_string_equal(zenc_of(c, "d"), "skiplist");        /* entries 0: never a listpack */
    /* never back */
    zlimits(c, 128, 64);
    for (int i = 0; i < 4; i++) {
        char m[8];
        snprintf(m, sizeof(m), "m%d", i);
        assert_int_equal(zrem1(c, "a", m), 1);
    }
    assert_string_equal(zenc_of(c, "a"), "skiplist");
    assert_int_equal(zcard(c, "a"), 1);
    /* a block of one short pair is smaller than the pointer it becomes */
    zlimits(c, 1, 64);
    assert_int_equal(zadd1(c, "t", 1, "a", 0), 1);
    assert_string_equal(zenc_of(c, "t"), "listpack");
    assert_int_equal(zadd1(c, "t", 2, "b", 0), 1);
    assert_string_equal(zenc_of(c, "t"), "skiplist");
    assert_true(zscore1(c, "t", "a") == 1);
    /* the order survives the conversion */
    struct cache_keys out = {0};
    zlimits(c, 3, 64);
    assert_int_equal(zadd1(c, "e", 2, "x", 0), 1);
    assert_int_equal(zadd1(c, "e", 1, "y", 0), 1);
    assert_int_equal(zadd1(c, "e", 1, "b", 0), 1);
    assert_int_equal(zadd1(c, "e", 0, "z", 0), 1);
    zall(c, "e", &out);
    const char *s;
    size_t pos = 0, len;
    const char *want[] = {"z", "b", "y", "x"};
    for (int i = 0; i < 4; i++) {
        s = cache_keys_next(&out, &pos, &len);
        assert_memory_equal(s, want[i], len);
        (void)cache_keys_next(&out, &pos, &len);
    }
    cache_keys_free(&out);
    ASSERT_INV(c);
    cache_destroy(c);
}

/* Redis 7.0: a listpack keeps -0 as the integer 0; a skiplist keeps -0. */
static void test_negative_zero(void **st)
{
    struct cache *c = mk(1, 0, CACHE_ALLKEYS_LRU);

    (void)st;
    assert_int_equal(zadd1(c, "lp", -0.0, "a", 0), 1);
    assert_false(signbit(zscore1(c, "lp", "a")));
    zlimits(c, 0, 64);
    assert_int_equal(zadd1(c, "sl", -0.0, "a", 0), 1);
    assert_true(signbit(zscore1(c, "sl", "a")));
    /* scores that are no integers stay exact in a listpack */
    zlimits(c, 128, 64);
    assert_int_equal(zadd1(c, "f", 0.1, "a", 0), 1);
    assert_int_equal(zadd1(c, "f", 1e300, "b", 0), 1);
    assert_int_equal(zadd1(c, "f", 4611686018427387904.0, "c", 0), 1);   /* 2^62: past double2ll */
    assert_true(zscore1(c, "f", "a") == 0.1);
    assert_true(zscore1(c, "f", "b") == 1e300);
    assert_true(zscore1(c, "f", "c") == 4611686018427387904.0);
    ASSERT_INV(c);
    cache_destroy(c);
}

static void test_memory_accounting(void **st)
{
    struct cache *c = mk(1, 0, CACHE_ALLKEYS_LRU);
    uint64_t base = used(c);
    char m[32];
    size_t usage;

    (void)st;
    for (int i = 0; i < 4000; i++) {
        snprintf(m, sizeof(m), "member:%d", i);
        assert_int_equal(zadd1(c, "z", (double)(i % 13) + 0.25, m, 0), 1);
        assert_int_equal(cache_memory_usage(c, S("z"), 1, &usage), CACHE_OK);
        assert_int_equal(used(c) - base, usage);
        if (i % 97 == 0)
            ASSERT_INV(c);
    }
    assert_string_equal(zenc_of(c, "z"), "skiplist");
    for (int i = 0; i < 3000; i++) {   /* moving members is charged too */
        snprintf(m, sizeof(m), "member:%d", i);
        assert_int_equal(zadd1(c, "z", (double)(i % 7), m, CACHE_ZADD_INCR), 0);
    }
    for (int i = 100; i < 3500; i++) {   /* and shrinking */
        snprintf(m, sizeof(m), "member:%d", i);
        assert_int_equal(zrem1(c, "z", m), 1);
    }
    assert_int_equal(cache_memory_usage(c, S("z"), 1, &usage), CACHE_OK);
    assert_int_equal(used(c) - base, usage);
    ASSERT_INV(c);
    assert_int_equal(cache_del(c, S("z"), 1), CACHE_OK);
    ASSERT_INV(c);
    assert_true(used(c) <= base + 64);
    cache_destroy(c);
}

/* COPY is deep for both encodings, RENAME moves a set whole. */
static void test_copy_rename(void **st)
{
    struct cache *c = mk(8, 0, CACHE_ALLKEYS_LRU);
    struct cache_keys a = {0}, b = {0};

    (void)st;
    zlimits(c, 16, 64);
    fill(c, "small", 0, 10);
    fill(c, "big", 0, 500);
    for (int i = 0; i < 2; i++) {
        const char *src = i ? "big" : "small";
        assert_int_equal(cache_copy(c, S(src), S("copy"), 1, 1), CACHE_OK);
        assert_string_equal(zenc_of(c, "copy"), i ? "skiplist" : "listpack");
        zall(c, src, &a);
        zall(c, "copy", &b);
        assert_int_equal(a.len, b.len);
        assert_memory_equal(a.buf, b.buf, a.len);
        assert_int_equal(zadd1(c, "copy", 1, "new", 0), 1);   /* the copy is its own */
        assert_true(isnan(zscore1(c, src, "new")));
        assert_int_equal(cache_rename(c, S("copy"), S("moved"), 0, 1), CACHE_OK);
        assert_int_equal(zcard(c, "moved"), (i ? 500 : 10) + 1);
        ASSERT_INV(c);
    }
    cache_keys_free(&a);
    cache_keys_free(&b);
    cache_destroy(c);
}

/* A STORE's result: a listpack when it fits the thresholds, else not. */
static void test_build(void **st)
{
    struct cache *c = mk(4, 0, CACHE_ALLKEYS_LRU);
    struct cache_zsetop_result r = {0};
    struct cache_str src = {S("src")};
    struct cache_zsetop op = {.op = CACHE_ZUNION, .keys = &src, .nkeys = 1, .dst = "dst",
                              .dlen = 3};

    (void)st;
    zlimits(c, 8, 64);
    fill(c, "src", 0, 6);
    assert_int_equal(zadd1(c, "dst", 1, "old", 0), 1);
    assert_int_equal(cache_expire(c, S("dst"), 100000, 0, 1), CACHE_OK);
    assert_int_equal(cache_zsetop(c, &op, 1, &r), CACHE_OK);
    assert_int_equal(r.card, 6);
    assert_string_equal(zenc_of(c, "dst"), "listpack");
    int64_t at;
    assert_int_equal(cache_ttl(c, S("dst"), 1, &at), CACHE_OK);
    assert_int_equal(at, 0);                                 /* the TTL went with the old value */
    fill(c, "src", 6, 9);                                     /* 9 > 8: a skiplist */
    assert_int_equal(cache_zsetop(c, &op, 1, &r), CACHE_OK);
    assert_string_equal(zenc_of(c, "dst"), "skiplist");
    assert_int_equal(set(c, "other", "x", 1), CACHE_OK);
    op.dst = "other";
    op.dlen = 5;
    assert_int_equal(cache_zsetop(c, &op, 1, &r), CACHE_OK);   /* any type is replaced */
    assert_string_equal(zenc_of(c, "other"), "skiplist");
    src.s = "nokey";
    src.len = 5;
    assert_int_equal(cache_zsetop(c, &op, 1, &r), CACHE_OK);   /* empty: deleted */
    assert_int_equal(cache_exists(c, S("other"), 1), CACHE_NOTFOUND);
    ASSERT_INV(c);
    cache_destroy(c);
}

static void test_lazy_free(void **st)
{
    struct cache *c = mk(4, 0, CACHE_ALLKEYS_LRU);
    uint64_t base = used(c);

    (void)st;
    fill(c, "big", 0, 5000);
    fill(c, "small", 0, 10);
    assert_int_equal(cache_unlink(c, S("big"), 1), CACHE_OK);
    assert_int_equal(lazyfreed(c), 1);
    assert_int_equal(cache_unlink(c, S("small"), 1), CACHE_OK);   /* small: on the spot */
    assert_int_equal(lazyfreed(c), 1);
    ASSERT_INV(c);
    assert_true(used(c) <= base + 4096);
    cache_destroy(c);
}

/* noeviction over the limit refuses ZADD; an LRU policy evicts for it. */
static void test_maxmemory(void **st)
{
    struct cache *c = mk(4, 200000, CACHE_NOEVICTION);
    char m[32];
    int rc = CACHE_OK, i;

    (void)st;
    for (i = 0; i < 100000 && rc == CACHE_OK; i++) {
        snprintf(m, sizeof(m), "member:%d", i);
        struct cache_zpair p = {i, S(m)};
        struct cache_zadd_result r;
        rc = cache_zadd(c, S("z"), &p, 1, 0, 1, &r);
    }
    assert_int_equal(rc, CACHE_E_OOM);
    assert_true(i > 100);
    ASSERT_INV(c);
    cache_destroy(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_basic_and_wrongtype),
        cmocka_unit_test(test_flags_and_nan),
        cmocka_unit_test(test_conversions),
        cmocka_unit_test(test_negative_zero),
        cmocka_unit_test(test_memory_accounting),
        cmocka_unit_test(test_copy_rename),
        cmocka_unit_test(test_build),
        cmocka_unit_test(test_lazy_free),
        cmocka_unit_test(test_maxmemory),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
