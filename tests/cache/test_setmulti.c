/*
 * test_setmulti: the set commands on several keys (cache/setmulti.c):
 * SMOVE's cases in Redis's order of checks; SINTER/SUNION/SDIFF with
 * missing keys, repeated keys and keys of another type (and the lookups
 * Redis would count); the STORE forms with the destination among the
 * sources, of another type, with a TTL, and an empty result deleting it;
 * SINTERCARD's LIMIT; and a STORE under maxmemory, which evicts one shard
 * at a time with no lock held and retries, or is refused. Keys are spread
 * over 8 shards, so most calls lock several.
 */
#include "test_util.h"

#include "t_set.h"

static void sadd(struct cache *c, const char *k, const char *members)
{
    char buf[256], *save = NULL;
    uint64_t n;

    snprintf(buf, sizeof(buf), "%s", members);
    for (char *m = strtok_r(buf, " ", &save); m; m = strtok_r(NULL, " ", &save)) {
        struct cache_str s = {S(m)};
        assert_int_equal(cache_sadd(c, S(k), &s, 1, 1, &n), CACHE_OK);
    }
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The records as one sorted, space-separated string. */
static const char *joined(const struct cache_keys *k)
{
    static char out[4096];
    char *items[512];
    const char *s;
    size_t pos = 0, len, n = 0, used = 0;

    while ((s = cache_keys_next(k, &pos, &len)) != NULL && n < 512)
        items[n++] = strndup(s, len);
    qsort(items, n, sizeof(items[0]), cmp_str);
    out[0] = 0;
    for (size_t i = 0; i < n; i++) {
        used += (size_t)snprintf(out + used, sizeof(out) - used, "%s%s", i ? " " : "", items[i]);
        free(items[i]);
    }
    return out;
}

static const char *members(struct cache *c, const char *k)
{
    struct cache_keys out = {0};
    static char buf[4096];
    int rc = cache_smembers(c, S(k), 1, &out);
    snprintf(buf, sizeof(buf), "%s", rc == CACHE_OK ? joined(&out) : "(none)");
    cache_keys_free(&out);
    return buf;
}

/* Runs op over the space-separated keys; the result joined, or "ERR". */
static const char *run(struct cache *c, int kind, const char *keys, const char *dst,
                       int card_only, uint64_t limit, struct cache_setop_result *r)
{
    char buf[256], *save = NULL;
    struct cache_str ks[16];
    size_t n = 0;
    static char out[4096];

    snprintf(buf, sizeof(buf), "%s", keys);
    for (char *k = strtok_r(buf, " ", &save); k; k = strtok_r(NULL, " ", &save))
        ks[n++] = (struct cache_str){S(k)};
    struct cache_setop op = {.op = kind, .keys = ks, .nkeys = n, .dst = dst,
                             .dlen = dst ? strlen(dst) : 0, .card_only = card_only,
                             .limit = limit};
    memset(r, 0, sizeof(*r));
    int rc = cache_setop(c, &op, 1, r);
    if (rc != CACHE_OK)
        snprintf(out, sizeof(out), "rc %d", rc);
    else
        snprintf(out, sizeof(out), "%s", joined(&r->members));
    cache_keys_free(&r->members);
    return out;
}

static void test_smove(void **st)
{
    struct cache *c = mk(8, 0, CACHE_ALLKEYS_LRU);

    sadd(c, "a", "1 2 x");
    assert_int_equal(set(c, "str", "v", 1), CACHE_OK);
    assert_int_equal(cache_smove(c, S("nokey"), S("str"), S("1"), 1), CACHE_NOTFOUND);
    assert_int_equal(cache_smove(c, S("a"), S("str"), S("9"), 1), CACHE_E_WRONGTYPE);
    assert_int_equal(cache_smove(c, S("str"), S("a"), S("1"), 1), CACHE_E_WRONGTYPE);
    assert_int_equal(cache_smove(c, S("a"), S("b"), S("9"), 1), CACHE_NOELEM);
    assert_int_equal(cache_exists(c, S("b"), 1), CACHE_NOTFOUND);   /* not created */
    assert_int_equal(cache_smove(c, S("a"), S("a"), S("1"), 1), CACHE_OK);
    assert_int_equal(cache_smove(c, S("a"), S("a"), S("9"), 1), CACHE_NOELEM);
    assert_int_equal(cache_smove(c, S("a"), S("b"), S("1"), 1), CACHE_OK);   /* creates b */
    assert_string_equal(members(c, "b"), "1");
    assert_int_equal(cache_smove(c, S("a"), S("b"), S("x"), 1), CACHE_OK);   /* b: a listpack now */
    sadd(c, "a", "1");
    assert_int_equal(cache_smove(c, S("a"), S("b"), S("1"), 1), CACHE_OK);   /* already in b */
    assert_string_equal(members(c, "a"), "2");
    assert_string_equal(members(c, "b"), "1 x");
    assert_int_equal(cache_smove(c, S("a"), S("b"), S("2"), 1), CACHE_OK);   /* a emptied */
    assert_int_equal(cache_exists(c, S("a"), 1), CACHE_NOTFOUND);
    assert_string_equal(members(c, "b"), "1 2 x");
    ASSERT_INV(c);
    cache_destroy(c);
}

static void test_sinter_sunion_sdiff(void **st)
{
    struct cache *c = mk(8, 0, CACHE_ALLKEYS_LRU);
    struct cache_setop_result r;

    sadd(c, "a", "1 2 3 x y");
    sadd(c, "b", "2 3 4 y");
    sadd(c, "cc", "3 y z");
    assert_int_equal(set(c, "str", "v", 1), CACHE_OK);
    assert_string_equal(run(c, CACHE_SINTER, "a b cc", NULL, 0, 0, &r), "3 y");
    assert_int_equal(r.card, 2);
    assert_int_equal(r.hits, 3);
    assert_string_equal(run(c, CACHE_SINTER, "a a", NULL, 0, 0, &r), "1 2 3 x y");
    assert_string_equal(run(c, CACHE_SINTER, "a nokey b", NULL, 0, 0, &r), "");
    assert_int_equal(r.hits, 2);
    assert_int_equal(r.misses, 1);
    /* WRONGTYPE after a missing key, and the lookups up to it counted */
    assert_string_equal(run(c, CACHE_SINTER, "nokey str a", NULL, 0, 0, &r), "rc -8");
    assert_int_equal(r.hits, 1);
    assert_int_equal(r.misses, 1);
    assert_string_equal(run(c, CACHE_SUNION, "a b nokey cc", NULL, 0, 0, &r),
                        "1 2 3 4 x y z");
    assert_int_equal(r.card, 7);
    assert_string_equal(run(c, CACHE_SUNION, "nokey", NULL, 0, 0, &r), "");
    assert_string_equal(run(c, CACHE_SUNION, "a str", NULL, 0, 0, &r), "rc -8");
    assert_string_equal(run(c, CACHE_SDIFF, "a b", NULL, 0, 0, &r), "1 x");
    assert_string_equal(run(c, CACHE_SDIFF, "a b cc nokey", NULL, 0, 0, &r), "1 x");
    assert_string_equal(run(c, CACHE_SDIFF, "a b a", NULL, 0, 0, &r), "");   /* sameset */
    assert_string_equal(run(c, CACHE_SDIFF, "nokey a", NULL, 0, 0, &r), "");
    assert_string_equal(run(c, CACHE_SDIFF, "nokey str", NULL, 0, 0, &r), "rc -8");
    /* SINTERCARD */
    assert_string_equal(run(c, CACHE_SINTER, "a b", NULL, 1, 0, &r), "");
    assert_int_equal(r.card, 3);
    assert_string_equal(run(c, CACHE_SINTER, "a b", NULL, 1, 2, &r), "");
    assert_int_equal(r.card, 2);
    assert_string_equal(run(c, CACHE_SINTER, "a b", NULL, 1, 100, &r), "");
    assert_int_equal(r.card, 3);
    assert_string_equal(run(c, CACHE_SINTER, "a nokey", NULL, 1, 0, &r), "");
    assert_int_equal(r.card, 0);
    ASSERT_INV(c);
    cache_destroy(c);
}

static void test_store(void **st)
{
    struct cache *c = mk(8, 0, CACHE_ALLKEYS_LRU);
    struct cache_setop_result r;
    int64_t exp;

    sadd(c, "a", "1 2 3 x");
    sadd(c, "b", "2 3 4");
    assert_string_equal(run(c, CACHE_SINTER, "a b", "d", 0, 0, &r), "");
    assert_int_equal(r.card, 2);
    assert_string_equal(members(c, "d"), "2 3");
    /* the destination among the sources */
    assert_string_equal(run(c, CACHE_SUNION, "a b", "a", 0, 0, &r), "");
    assert_int_equal(r.card, 5);
    assert_string_equal(members(c, "a"), "1 2 3 4 x");
    assert_string_equal(run(c, CACHE_SDIFF, "a b", "b", 0, 0, &r), "");
    assert_string_equal(members(c, "b"), "1 x");
    /* a destination of another type, with a TTL: replaced, TTL gone */
    assert_int_equal(set_ex(c, "str", "v", 100000, 1), CACHE_OK);
    assert_string_equal(run(c, CACHE_SINTER, "a b", "str", 0, 0, &r), "");
    assert_string_equal(members(c, "str"), "1 x");
    assert_int_equal(cache_ttl(c, S("str"), 1, &exp), CACHE_OK);
    assert_int_equal(exp, 0);
    /* an empty result deletes the destination, whatever it was */
    assert_int_equal(set(c, "s2", "v", 1), CACHE_OK);
    assert_string_equal(run(c, CACHE_SINTER, "a nokey", "s2", 0, 0, &r), "");
    assert_int_equal(r.card, 0);
    assert_int_equal(cache_exists(c, S("s2"), 1), CACHE_NOTFOUND);
    assert_string_equal(run(c, CACHE_SDIFF, "a a", "a", 0, 0, &r), "");
    assert_int_equal(cache_exists(c, S("a"), 1), CACHE_NOTFOUND);
    /* a source of another type: nothing stored, the destination kept */
    assert_int_equal(set(c, "s3", "v", 1), CACHE_OK);
    assert_string_equal(run(c, CACHE_SUNION, "b s3", "b", 0, 0, &r), "rc -8");
    assert_string_equal(members(c, "b"), "1 x");
    ASSERT_INV(c);
    cache_destroy(c);
}

/* A STORE that does not fit evicts (no lock held while it does) and
 * retries; under noeviction over the limit it is refused. */
static void test_store_maxmemory(void **st)
{
    /* volatile-lru with TTLs on the padding only: the sets cannot be the
     * ones evicted */
    struct cache *c = mk(8, 512 * 1024, CACHE_VOLATILE_LRU);
    struct cache_setop_result r;
    char k[32], v[200];
    uint64_t n;

    memset(v, 'v', sizeof(v) - 1);
    v[sizeof(v) - 1] = 0;
    for (int i = 0; i < 3000; i++) {
        snprintf(k, sizeof(k), "pad%d", i);
        assert_int_equal(set_ex(c, k, v, 1000000, 1), CACHE_OK);
    }
    for (int i = 0; i < 2000; i++) {
        char m[32];
        struct cache_str ms = {m, (size_t)snprintf(m, sizeof(m), "member:%d", i)};
        assert_int_equal(cache_sadd(c, S("{s}big"), &ms, 1, 1, &n), CACHE_OK);
    }
    assert_string_equal(run(c, CACHE_SUNION, "{s}big", "copy", 0, 0, &r), "");
    assert_int_equal(r.card, 2000);
    struct cache_stats stt;
    cache_stats(c, &stt);
    assert_true(stt.evicted_keys > 0);
    ASSERT_INV(c);
    cache_destroy(c);

    c = mk(1, 256 * 1024, CACHE_NOEVICTION);   /* one shard: one view of "over" */
    sadd(c, "x", "1 2 3");
    int rc = CACHE_OK;
    for (int i = 0; i < 100000 && rc == CACHE_OK; i++) {
        snprintf(k, sizeof(k), "pad%d", i);
        rc = set(c, k, v, 1);
    }
    assert_int_equal(rc, CACHE_E_OOM);
    assert_string_equal(run(c, CACHE_SUNION, "x", "y", 0, 0, &r), "rc -2");
    assert_int_equal(cache_exists(c, S("y"), 1), CACHE_NOTFOUND);
    assert_string_equal(run(c, CACHE_SINTER, "x nokey", "x", 0, 0, &r), "");   /* deleting is fine */
    assert_int_equal(cache_exists(c, S("x"), 1), CACHE_NOTFOUND);
    ASSERT_INV(c);
    cache_destroy(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_smove),
        cmocka_unit_test(test_sinter_sunion_sdiff),
        cmocka_unit_test(test_store),
        cmocka_unit_test(test_store_maxmemory),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
