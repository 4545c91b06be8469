/*
 * test_setops: the set commands on one key (cache/setops.c) in each of the
 * three encodings: SADD/SREM replies and the empty set's deletion,
 * SMISMEMBER, SPOP's and SRANDMEMBER's contracts (how many, distinct or
 * not, always members, SPOP removing exactly what it returned), SSCAN (a
 * compact set whole in one call; a table scanned completely across
 * resizes), and maxmemory: SADD evicts other keys, or is refused under
 * noeviction, never leaving a half-built key.
 */
#include "test_util.h"

#include "t_set.h"
#include "set_util.h"

/* Key `k` as a set of `size` members: integers 0..size-1, or "m<i>"
 * (with_strings), in whatever encoding that gives. */
static void make(struct cache *c, const char *k, int size, bool with_strings)
{
    char m[32];
    struct cache_str s = {m, 0};
    uint64_t added;

    for (int i = 0; i < size; i++) {
        s.len = (size_t)snprintf(m, sizeof(m), with_strings ? "m%d" : "%d", i);
        assert_int_equal(cache_sadd(c, S(k), &s, 1, 1, &added), CACHE_OK);
        assert_int_equal(added, 1);
    }
}

/* Index of a member of make()'s sets, or -1. */
static int index_of(const char *s, size_t len, bool with_strings)
{
    char buf[32];
    if (len == 0 || len >= sizeof(buf))
        return -1;
    memcpy(buf, s, len);
    buf[len] = 0;
    return atoi(with_strings ? buf + 1 : buf);
}

struct shape {
    const char *key, *enc;
    int size;
    bool strings;
};
static const struct shape shapes[] = {
    {"is", "intset", 10, false},
    {"lp", "listpack", 10, true},
    {"ht", "hashtable", 300, true},
};

static struct cache *with_shapes(void)
{
    struct cache *c = mk(4, 0, CACHE_ALLKEYS_LRU);
    limits(c, 64, 32, 64);
    for (size_t i = 0; i < 3; i++) {
        make(c, shapes[i].key, shapes[i].size, shapes[i].strings);
        assert_string_equal(enc_of(c, shapes[i].key), shapes[i].enc);
    }
    return c;
}

static void test_sadd_srem_smismember(void **st)
{
    struct cache *c = mk(2, 0, CACHE_ALLKEYS_LRU);
    struct cache_str ms[5] = {{S("a")}, {S("b")}, {S("a")}, {S("1")}, {S("")}};
    unsigned char is[5];
    uint64_t n;

    assert_int_equal(cache_sadd(c, S("s"), ms, 5, 1, &n), CACHE_OK);
    assert_int_equal(n, 4);                                  /* "a" twice counts once */
    assert_int_equal(cache_sadd(c, S("s"), ms, 0, 1, &n), CACHE_OK);
    assert_int_equal(n, 0);
    struct cache_str q[4] = {{S("a")}, {S("zz")}, {S("")}, {S("1")}};
    assert_int_equal(cache_smismember(c, S("s"), q, 4, 1, is), CACHE_OK);
    assert_memory_equal(is, "\1\0\1\1", 4);
    assert_int_equal(cache_smismember(c, S("nokey"), q, 4, 1, is), CACHE_NOTFOUND);
    assert_memory_equal(is, "\0\0\0\0", 4);
    assert_int_equal(cache_srem(c, S("s"), ms, 5, 1, &n), CACHE_OK);
    assert_int_equal(n, 4);
    assert_int_equal(cache_exists(c, S("s"), 1), CACHE_NOTFOUND);
    assert_int_equal(cache_srem(c, S("s"), ms, 5, 1, &n), CACHE_OK);
    assert_int_equal(n, 0);
    ASSERT_INV(c);
    cache_destroy(c);
}

static void test_spop(void **st)
{
    struct cache *c = with_shapes();

    for (size_t i = 0; i < 3; i++) {
        const struct shape *sh = &shapes[i];
        char seen[300] = {0};
        int left = sh->size;
        uint64_t counts[] = {0, 1, 3, 7, 1000};
        for (size_t j = 0; j < 5; j++) {
            struct cache_keys out = {0};
            const char *s;
            size_t pos = 0, len;
            uint64_t want = counts[j] < (uint64_t)left ? counts[j] : (uint64_t)left;
            assert_int_equal(cache_spop(c, S(sh->key), counts[j], 1, &out),
                             left ? CACHE_OK : CACHE_NOTFOUND);
            assert_int_equal(out.count, want);
            while ((s = cache_keys_next(&out, &pos, &len)) != NULL) {
                int idx = index_of(s, len, sh->strings);
                assert_true(idx >= 0 && idx < sh->size);
                assert_false(seen[idx]);                     /* popped once */
                seen[idx] = 1;
                assert_int_equal(cache_sismember(c, S(sh->key), s, len, 1),   /* gone */
                                 left > (int)want ? CACHE_NOELEM : CACHE_NOTFOUND);
            }
            left -= (int)want;
            cache_keys_free(&out);
            ASSERT_INV(c);
        }
        assert_int_equal(left, 0);
        assert_int_equal(cache_exists(c, S(sh->key), 1), CACHE_NOTFOUND);   /* emptied: gone */
    }
    struct cache_keys out = {0};
    assert_int_equal(cache_spop(c, S("nokey"), 3, 1, &out), CACHE_NOTFOUND);
    assert_int_equal(set(c, "str", "v", 1), CACHE_OK);
    assert_int_equal(cache_spop(c, S("str"), 0, 1, &out), CACHE_E_WRONGTYPE);
    assert_int_equal(out.count, 0);
    cache_destroy(c);
}

static void test_srandmember(void **st)
{
    struct cache *c = with_shapes();

    for (size_t i = 0; i < 3; i++) {
        const struct shape *sh = &shapes[i];
        int size = sh->size;
        long long counts[] = {0, 1, 3, size / 3, size - 1, size, size + 5, -1, -7,
                              -(long long)size, -(long long)size - 9};
        for (size_t j = 0; j < sizeof(counts) / sizeof(counts[0]); j++) {
            struct cache_keys out = {0};
            long long cnt = counts[j];
            int sample;
            char seen[300] = {0};
            const char *s;
            size_t pos = 0, len;
            assert_int_equal(cache_srandmember(c, S(sh->key), cnt, 1, &out, &sample), CACHE_OK);
            size_t want = cnt >= 0 ? (size_t)(cnt < size ? cnt : size)
                                   : (size_t)(-cnt > size ? size : -cnt);
            assert_int_equal(sample, cnt < 0 && -cnt > size);
            assert_int_equal(out.count, want);
            while ((s = cache_keys_next(&out, &pos, &len)) != NULL) {
                int idx = index_of(s, len, sh->strings);
                assert_true(idx >= 0 && idx < size);
                if (cnt >= 0 || sample)
                    assert_false(seen[idx]);                 /* distinct */
                seen[idx] = 1;
            }
            cache_keys_free(&out);
        }
        assert_int_equal(cache_card(c, CACHE_TYPE_SET, S(sh->key), 1, &(uint64_t){0}), CACHE_OK);
    }
    /* a positive count draws every subset: over many draws of 1 of 10,
     * each member comes up */
    int hits[10] = {0};
    for (int n = 0; n < 2000; n++) {
        struct cache_keys out = {0};
        int sample;
        size_t pos = 0, len;
        assert_int_equal(cache_srandmember(c, S("is"), 1, 1, &out, &sample), CACHE_OK);
        const char *s = cache_keys_next(&out, &pos, &len);
        hits[index_of(s, len, false)]++;
        cache_keys_free(&out);
    }
    for (int i = 0; i < 10; i++)
        assert_true(hits[i] > 100);
    struct cache_keys out = {0};
    int sample;
    assert_int_equal(cache_srandmember(c, S("nokey"), 5, 1, &out, &sample), CACHE_NOTFOUND);
    assert_int_equal(out.count, 0);
    cache_destroy(c);
}

static void test_sscan(void **st)
{
    struct cache *c = with_shapes();
    struct cache_keys out = {0};
    uint64_t cur;
    char m[32];

    for (size_t i = 0; i < 2; i++) {           /* compact: whole, cursor 0 */
        assert_int_equal(cache_sscan(c, S(shapes[i].key), 0, 1, 1, &out, &cur), CACHE_OK);
        assert_int_equal(cur, 0);
        assert_int_equal(out.count, (size_t)shapes[i].size);
        cache_keys_free(&out);
    }
    /* a table: every member present throughout is returned, across resizes */
    char seen[2000] = {0};
    int calls = 0, extra = 300;
    cur = 0;
    do {
        const char *s;
        size_t pos = 0, len;
        assert_int_equal(cache_sscan(c, S("ht"), cur, 10, 1, &out, &cur), CACHE_OK);
        while ((s = cache_keys_next(&out, &pos, &len)) != NULL)
            seen[index_of(s, len, true)] = 1;
        cache_keys_free(&out);
        for (int k = 0; k < 40 && extra < 2000; k++, extra++) {   /* grow meanwhile */
            struct cache_str ms = {m, (size_t)snprintf(m, sizeof(m), "m%d", extra)};
            uint64_t n;
            assert_int_equal(cache_sadd(c, S("ht"), &ms, 1, 1, &n), CACHE_OK);
        }
        calls++;
    } while (cur != 0);
    for (int i = 0; i < 300; i++)
        assert_true(seen[i]);
    assert_true(calls > 10);
    assert_int_equal(cache_sscan(c, S("nokey"), 0, 10, 1, &out, &cur), CACHE_NOTFOUND);
    cache_destroy(c);
}

/* SADD under maxmemory: evicts others (allkeys-lru), or is refused with
 * nothing half made (noeviction). */
static void test_sadd_maxmemory(void **st)
{
    struct cache *c = mk(4, 256 * 1024, CACHE_ALLKEYS_LRU);
    char k[32], m[64];
    uint64_t n;

    for (int i = 0; i < 20000; i++) {
        snprintf(k, sizeof(k), "s%d", i % 200);
        struct cache_str ms = {m, (size_t)snprintf(m, sizeof(m), "member-%d-with-some-bytes", i)};
        assert_int_equal(cache_sadd(c, S(k), &ms, 1, 1, &n), CACHE_OK);
    }
    assert_true(used(c) <= 256 * 1024 + 64 * 1024);
    struct cache_stats stt;
    cache_stats(c, &stt);
    assert_true(stt.evicted_keys > 0);
    ASSERT_INV(c);
    cache_destroy(c);

    c = mk(1, 64 * 1024, CACHE_NOEVICTION);
    int rc = CACHE_OK, i;
    for (i = 0; i < 100000 && rc == CACHE_OK; i++) {
        snprintf(k, sizeof(k), "n%d", i);
        struct cache_str ms = {m, (size_t)snprintf(m, sizeof(m), "member-%d", i)};
        rc = cache_sadd(c, S(k), &ms, 1, 1, &n);
    }
    assert_int_equal(rc, CACHE_E_OOM);
    assert_int_equal(cache_exists(c, S(k), 1), CACHE_NOTFOUND);   /* nothing half made */
    ASSERT_INV(c);
    cache_destroy(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sadd_srem_smismember),
        cmocka_unit_test(test_spop),
        cmocka_unit_test(test_srandmember),
        cmocka_unit_test(test_sscan),
        cmocka_unit_test(test_sadd_maxmemory),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
