/*
 * test_t_set: the set type (cache/t_set.c, cache/t_set_table.c).
 *
 * Unit tests pin the three encodings and every conversion between them
 * (Redis 7.2's rules), WRONGTYPE both ways, memory accounting (MEMORY
 * USAGE equals what the shard is charged, as the set grows through every
 * encoding; DEL gives it all back), COPY/RENAME of each encoding and
 * building a set from a list of members (the STORE commands), and that a
 * large set is freed off the shard lock. The property test against a
 * model is test_set_property.c.
 */
#include <limits.h>
#include <time.h>

#include "test_util.h"

#include "t_set.h"
#include "set_util.h"

static void test_basic_and_wrongtype(void **st)
{
    struct cache *c = mk(4, 0, CACHE_ALLKEYS_LRU);
    struct cache_val v = {0};

    assert_int_equal(sadd1(c, "s", "1"), 1);
    assert_int_equal(sadd1(c, "s", "1"), 0);
    assert_int_equal(sadd1(c, "s", "a"), 1);
    assert_int_equal(cache_sismember(c, S("s"), S("a"), 1), CACHE_OK);
    assert_int_equal(cache_sismember(c, S("s"), S("b"), 1), CACHE_NOELEM);
    assert_int_equal(cache_sismember(c, S("s"), S("01"), 1), CACHE_NOELEM);   /* not "1" */
    assert_int_equal(cache_sismember(c, S("nokey"), S("a"), 1), CACHE_NOTFOUND);
    assert_int_equal(card(c, "s"), 2);
    assert_int_equal(card(c, "nokey"), 0);
    assert_int_equal(set(c, "str", "x", 1), CACHE_OK);
    assert_int_equal(sadd1(c, "str", "a"), CACHE_E_WRONGTYPE);
    assert_int_equal(srem1(c, "str", "a"), CACHE_E_WRONGTYPE);
    assert_int_equal(cache_sismember(c, S("str"), S("a"), 1), CACHE_E_WRONGTYPE);
    assert_int_equal(cache_get(c, S("s"), 1, &v), CACHE_E_WRONGTYPE);
    long long r;
    assert_int_equal(cache_incr(c, S("s"), 1, 1, &r), CACHE_E_WRONGTYPE);
    struct cache_kv kv = {S("f"), S("v")};
    uint64_t n;
    assert_int_equal(cache_hset(c, S("s"), &kv, 1, 0, 1, &n), CACHE_E_WRONGTYPE);
    assert_int_equal(card(c, "s"), 2);
    /* the last member out: the key goes */
    assert_int_equal(srem1(c, "s", "1"), 1);
    assert_int_equal(srem1(c, "s", "a"), 1);
    assert_int_equal(cache_exists(c, S("s"), 1), CACHE_NOTFOUND);
    ASSERT_INV(c);
    free(v.data);
    cache_destroy(c);
}

static void test_conversions(void **st)
{
    struct cache *c = mk(1, 0, CACHE_ALLKEYS_LRU);

    limits(c, 4, 6, 8);
    fill_ints(c, "i", 0, 4);
    assert_string_equal(enc_of(c, "i"), "intset");
    fill_ints(c, "i", 4, 5);                               /* 5 > 4 integers */
    assert_string_equal(enc_of(c, "i"), "hashtable");

    fill_ints(c, "l", 0, 3);
    assert_int_equal(sadd1(c, "l", "abc"), 1);             /* a string: listpack */
    assert_string_equal(enc_of(c, "l"), "listpack");
    assert_int_equal(sadd1(c, "l", "9"), 1);               /* integers stay in it */
    assert_int_equal(sadd1(c, "l", "x"), 1);
    assert_int_equal(card(c, "l"), 6);
    assert_string_equal(enc_of(c, "l"), "listpack");
    assert_int_equal(sadd1(c, "l", "y"), 1);               /* a 7th: table */
    assert_string_equal(enc_of(c, "l"), "hashtable");

    assert_int_equal(sadd1(c, "v", "a"), 1);
    assert_string_equal(enc_of(c, "v"), "listpack");       /* a string first */
    assert_int_equal(sadd1(c, "v", "123456789"), 1);       /* 9 > 8 bytes */
    assert_string_equal(enc_of(c, "v"), "hashtable");

    /* an intset whose integers are too long for a listpack: a table */
    assert_int_equal(sadd1(c, "w", "-12345678"), 1);       /* 9 digits */
    assert_int_equal(sadd1(c, "w", "a"), 1);
    assert_string_equal(enc_of(c, "w"), "hashtable");
    /* an intset full up to the listpack's size: a table */
    fill_ints(c, "f", 0, 4);
    limits(c, 4, 4, 8);
    assert_int_equal(sadd1(c, "f", "a"), 1);
    assert_string_equal(enc_of(c, "f"), "hashtable");

    /* never back: deleting down to one member keeps the table */
    for (int i = 0; i < 4; i++) {
        char m[8];
        snprintf(m, sizeof(m), "%d", i);
        assert_int_equal(srem1(c, "i", m), 1);
    }
    assert_int_equal(card(c, "i"), 1);
    assert_string_equal(enc_of(c, "i"), "hashtable");

    /* a new key sized by its first SADD (Redis 7.2's setTypeCreate) */
    limits(c, 4, 4, 8);
    struct cache_str many[6] = {{S("1")}, {S("2")}, {S("3")}, {S("4")}, {S("5")}, {S("6")}};
    uint64_t added;
    assert_int_equal(cache_sadd(c, S("big"), many, 6, 1, &added), CACHE_OK);
    assert_int_equal(added, 6);
    assert_string_equal(enc_of(c, "big"), "hashtable");
    /* and an existing compact one converted before a big SADD */
    assert_int_equal(sadd1(c, "pre", "1"), 1);
    assert_int_equal(cache_sadd(c, S("pre"), many, 6, 1, &added), CACHE_OK);
    assert_int_equal(added, 5);
    assert_string_equal(enc_of(c, "pre"), "hashtable");

    /* canonical integers only: "007", "+1", "-0" are strings */
    limits(c, 512, 128, 64);
    assert_int_equal(sadd1(c, "canon", "7"), 1);
    assert_string_equal(enc_of(c, "canon"), "intset");
    assert_int_equal(sadd1(c, "canon", "007"), 1);
    assert_string_equal(enc_of(c, "canon"), "listpack");
    assert_int_equal(sadd1(c, "canon", "-0"), 1);
    assert_int_equal(sadd1(c, "canon", "+1"), 1);
    assert_int_equal(card(c, "canon"), 4);
    assert_int_equal(cache_sismember(c, S("canon"), S("7"), 1), CACHE_OK);
    assert_int_equal(cache_sismember(c, S("canon"), S("0"), 1), CACHE_NOELEM);
    /* integers of every width in one intset */
    const char *wide[] = {"1", "-40000", "3000000000", "-9223372036854775808",
                          "9223372036854775807"};
    for (size_t i = 0; i < 5; i++)
        assert_int_equal(sadd1(c, "wide", wide[i]), 1);
    assert_string_equal(enc_of(c, "wide"), "intset");
    for (size_t i = 0; i < 5; i++)
        assert_int_equal(cache_sismember(c, S("wide"), S(wide[i]), 1), CACHE_OK);
    assert_int_equal(cache_sismember(c, S("wide"), S("9223372036854775808"), 1), CACHE_NOELEM);
    ASSERT_INV(c);
    cache_destroy(c);
}

/* MEMORY USAGE is what the shard is charged, through all three encodings;
 * DEL gives every byte back. */
static void test_memory_accounting(void **st)
{
    struct cache *c = mk(1, 0, CACHE_ALLKEYS_LRU);
    uint64_t base = used(c);
    char m[32];
    size_t usage;

    limits(c, 64, 128, 64);
    for (int i = 0; i < 3000; i++) {
        if (i < 100)
            snprintf(m, sizeof(m), "%d", i * 7);              /* intset */
        else
            snprintf(m, sizeof(m), "member:%d", i);           /* listpack, then table */
        assert_int_equal(sadd1(c, "s", m), 1);
        assert_int_equal(cache_memory_usage(c, S("s"), 1, &usage), CACHE_OK);
        assert_int_equal(used(c) - base, usage);
        if (i % 97 == 0)
            ASSERT_INV(c);
    }
    assert_string_equal(enc_of(c, "s"), "hashtable");
    assert_true(used(c) > base + 3000 * 10);
    for (int i = 100; i < 2000; i++) {                        /* shrinking is charged too */
        snprintf(m, sizeof(m), "member:%d", i);
        assert_int_equal(srem1(c, "s", m), 1);
    }
    assert_int_equal(cache_memory_usage(c, S("s"), 1, &usage), CACHE_OK);
    assert_int_equal(used(c) - base, usage);
    ASSERT_INV(c);
    assert_int_equal(cache_del(c, S("s"), 1), CACHE_OK);
    ASSERT_INV(c);
    assert_true(used(c) <= base + 64);
    cache_destroy(c);
}

/* COPY is deep for every encoding, RENAME moves a table whole. */
static void test_copy_rename(void **st)
{
    struct cache *c = mk(8, 0, CACHE_ALLKEYS_LRU);
    char m[32];

    limits(c, 8, 16, 64);
    fill_ints(c, "is", 0, 5);
    fill_ints(c, "lp", 0, 3);
    assert_int_equal(sadd1(c, "lp", "x"), 1);
    for (int i = 0; i < 50; i++) {
        snprintf(m, sizeof(m), "m%d", i);
        assert_int_equal(sadd1(c, "ht", m), 1);
    }
    const char *src[] = {"is", "lp", "ht"}, *enc[] = {"intset", "listpack", "hashtable"};
    for (int i = 0; i < 3; i++) {
        char dst[16];
        snprintf(dst, sizeof(dst), "%s.copy", src[i]);
        assert_int_equal(cache_copy(c, S(src[i]), S(dst), 0, 1), CACHE_OK);
        assert_string_equal(enc_of(c, dst), enc[i]);
        assert_int_equal(card(c, dst), card(c, src[i]));
        assert_int_equal(sadd1(c, dst, "new"), 1);             /* the copy is its own */
        assert_int_equal(cache_sismember(c, S(src[i]), S("new"), 1), CACHE_NOELEM);
    }
    ASSERT_INV(c);
    assert_int_equal(cache_rename(c, S("ht"), S("moved"), 0, 1), CACHE_OK);
    assert_int_equal(cache_sismember(c, S("moved"), S("m49"), 1), CACHE_OK);
    assert_int_equal(cache_rename(c, S("is"), S("lp"), 0, 1), CACHE_OK);   /* over a set */
    assert_string_equal(enc_of(c, "lp"), "intset");
    ASSERT_INV(c);
    cache_destroy(c);
}

/* The STORE commands' builder: the encoding a new key holding those
 * members would have. */
static void test_build(void **st)
{
    struct cache *c = mk(1, 0, CACHE_ALLKEYS_LRU);
    struct cache_keys k = {0};
    char m[32];

    limits(c, 4, 6, 8);
    struct {
        const char *members[8];
        const char *enc;
    } cases[] = {
        {{"1", "2", "3", "4"}, "intset"},
        {{"1", "2", "3", "4", "5"}, "hashtable"},
        {{"1", "a", "3"}, "listpack"},
        {{"a", "b", "c", "d", "e", "f"}, "listpack"},
        {{"a", "b", "c", "d", "e", "f", "g"}, "hashtable"},
        {{"a", "123456789"}, "hashtable"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        size_t n = 0;
        for (; n < 8 && cases[i].members[n]; n++)
            assert_int_equal(cache__keys_push(&k, S(cases[i].members[n])), CACHE_OK);
        struct item *it = cache__set_build(c, 1, S("k"), &k);
        assert_non_null(it);
        assert_string_equal(cache__enc_name(it), cases[i].enc);
        assert_int_equal(cache__set_card(it), n);
        assert_int_equal(cache__item_check(it), 0);
        cache__item_destroy(it);
        cache_keys_free(&k);
    }
    assert_null(cache__set_build(c, 1, S("k"), &k));           /* empty: no set */
    for (int i = 0; i < 1000; i++) {
        snprintf(m, sizeof(m), "%d", i);
        cache__keys_push(&k, S(m));
    }
    struct item *it = cache__set_build(c, 1, S("k"), &k);
    assert_string_equal(cache__enc_name(it), "hashtable");
    assert_int_equal(cache__item_check(it), 0);
    cache__item_destroy(it);
    cache_keys_free(&k);
    cache_destroy(c);
}

/* A large set is freed off the shard lock like a large hash: by the
 * lazy-free thread for UNLINK, and for an overwrite (a STORE's
 * destination) with lazyfree-lazy-server-del; a small one on the spot. */
static uint64_t lazyfreed(struct cache *c)
{
    struct cache_stats st;
    for (int i = 0; i < 10000; i++) {       /* bounded: 10 s */
        cache_stats(c, &st);
        if (st.lazyfree_pending == 0)
            break;
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
    assert_int_equal(st.lazyfree_pending, 0);
    return st.lazyfreed;
}

static void big_set(struct cache *c, const char *k, int n)
{
    char m[32];
    for (int i = 0; i < n; i++) {
        snprintf(m, sizeof(m), "member:%d", i);
        assert_int_equal(sadd1(c, k, m), 1);
    }
}

static void test_lazy_free(void **st)
{
    struct cache *c = mk(4, 0, CACHE_ALLKEYS_LRU);
    uint64_t base = used(c);
    struct cache_setop_result r = {0};

    big_set(c, "big", 5000);
    fill_ints(c, "small", 0, 10);
    assert_int_equal(cache_unlink(c, S("big"), 1), CACHE_OK);
    assert_int_equal(lazyfreed(c), 1);
    assert_int_equal(cache_unlink(c, S("small"), 1), CACHE_OK);   /* small: on the spot */
    assert_int_equal(lazyfreed(c), 1);
    cache_set_lazyfree(c, CACHE_LAZY_SERVER_DEL);
    big_set(c, "big", 5000);
    fill_ints(c, "small", 0, 10);
    struct cache_str src = {S("small")};
    struct cache_setop op = {.op = CACHE_SUNION, .keys = &src, .nkeys = 1, .dst = "big",
                             .dlen = 3};
    assert_int_equal(cache_setop(c, &op, 1, &r), CACHE_OK);        /* over the big set */
    assert_int_equal(lazyfreed(c), 2);
    assert_string_equal(enc_of(c, "big"), "intset");
    ASSERT_INV(c);
    assert_int_equal(cache_del(c, S("big"), 1), CACHE_OK);
    assert_int_equal(cache_del(c, S("small"), 1), CACHE_OK);
    assert_true(used(c) <= base + 4096);
    cache_destroy(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_basic_and_wrongtype),
        cmocka_unit_test(test_conversions),
        cmocka_unit_test(test_memory_accounting),
        cmocka_unit_test(test_copy_rename),
        cmocka_unit_test(test_build),
        cmocka_unit_test(test_lazy_free),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
