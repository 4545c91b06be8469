/*
 * The bit commands under concurrency (meant to run under TSan):
 *
 * - BITOP sees one instant of its sources. Writers keep two keys on
 *   different shards equal (MSET of both at once, random lengths and
 *   bytes); BITOP XOR of the two must then be empty, every time: a BITOP
 *   that read one key before a write and the other after would leave a
 *   non-zero byte. LCS IDX of the two, which holds both shards too, must
 *   be one range covering all of both. A fourth thread TOUCHes each key
 *   under its own shard's lock alone, so that TSan sees a reader that
 *   forgot one of the two locks.
 * - SETBIT and BITFIELD from several threads on one string: each thread
 *   owns its own bits, sets them all (growing the string as they go), and
 *   at the end BITCOUNT counts every one of them exactly.
 *
 * At the end the cache's invariants hold.
 */
#include <pthread.h>
#include <stdatomic.h>

#include "test_util.h"

#define OPS 20000
#define SETTERS 3
#define BITS_EACH 3000

static char ka[32], kb[32], kd[32];
static atomic_int writers_done;

static uint64_t xs(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

struct arg {
    struct cache *c;
    int id;
};

static void *writer(void *p)
{
    struct arg *a = p;
    uint64_t r = 0x9E3779B97F4A7C15ull * (uint64_t)(a->id + 1);
    char v[4096];

    for (int i = 0; i < OPS; i++) {
        size_t len = 1 + xs(&r) % sizeof(v);
        for (size_t j = 0; j < len; j++)
            v[j] = (char)xs(&r);
        struct cache_kv kv[2] = {{S(ka), v, len}, {S(kb), v, len}};
        assert_int_equal(cache_mset(a->c, kv, 2, 0, 1), CACHE_OK);
    }
    atomic_fetch_add(&writers_done, 1);
    return NULL;
}

static void *xorer(void *p)
{
    struct arg *a = p;
    struct cache_str src[2] = {{S(ka)}, {S(kb)}};
    struct cache_val v = {0};
    uint64_t hits, misses;
    size_t len;

    while (atomic_load(&writers_done) < 2) {
        assert_int_equal(cache_bitop(a->c, CACHE_BITOP_XOR, S(kd), src, 2, 1, &len, &hits,
                                     &misses), CACHE_OK);
        if (cache_get(a->c, S(kd), 1, &v) == CACHE_OK)
            for (size_t j = 0; j < v.len; j++)
                assert_int_equal(v.data[j], 0);   /* a == b at the instant read */
        /* LCS of two equal strings: one range, all of both */
        struct cache_lcs_req req = {.max_table = 512u << 20, .want_idx = 1};
        struct cache_lcs_result res;
        assert_int_equal(cache_lcs(a->c, S(ka), S(kb), &req, 1, &res), CACHE_OK);
        if (res.len) {
            assert_int_equal(res.nm, 1);
            assert_int_equal(res.m[0].a_start, 0);
            assert_int_equal(res.m[0].b_start, 0);
            assert_int_equal(res.m[0].a_end, res.len - 1);
            assert_int_equal(res.m[0].b_end, res.len - 1);
        }
        free(res.m);
    }
    free(v.data);
    return NULL;
}

/* Writes to each key's shard alone (TOUCH moves it in its shard's LRU):
 * a reader that holds only the other key's lock races with these, which
 * TSan sees (MSET holds both locks, so it would not show that). */
static void *toucher(void *p)
{
    struct arg *a = p;

    while (atomic_load(&writers_done) < 2) {
        (void)cache_touch(a->c, S(ka), 1);
        (void)cache_touch(a->c, S(kb), 1 + (int64_t)CACHE_LRU_BUMP_MS * 2);
    }
    return NULL;
}

static void *setter(void *p)
{
    struct arg *a = p;
    uint64_t r = 7 + (uint64_t)a->id;
    int old;

    for (uint64_t i = 0; i < BITS_EACH; i++) {
        uint64_t bit = i * SETTERS + (uint64_t)a->id;   /* this thread's bits */
        if (xs(&r) & 1) {
            assert_int_equal(cache_setbit(a->c, S("shared"), bit, 1, 1, &old), CACHE_OK);
        } else {
            struct cache_bfop op = {.kind = CACHE_BF_SET, .bits = 1, .offset = bit, .value = 1};
            struct cache_bfres res;
            int found;
            assert_int_equal(cache_bitfield(a->c, S("shared"), &op, 1, 1, &res, &found),
                             CACHE_OK);
            old = (int)res.v;
        }
        assert_int_equal(old, 0);   /* nobody else touches this bit */
    }
    return NULL;
}

static void test_bitop_one_instant(void **state)
{
    struct cache *c = mk(4, 0, CACHE_ALLKEYS_LRU);
    pthread_t t[4];
    struct arg args[4];

    /* two keys on different shards, the destinations anywhere */
    snprintf(ka, sizeof(ka), "a");
    for (int i = 0; i < 1000; i++) {
        snprintf(kb, sizeof(kb), "b%d", i);
        if (cache__shard_of(c, cache__hash(c, S(ka))) != cache__shard_of(c, cache__hash(c, S(kb))))
            break;
    }
    snprintf(kd, sizeof(kd), "d");
    atomic_store(&writers_done, 0);
    for (int i = 0; i < 4; i++) {
        args[i] = (struct arg){c, i};
        assert_int_equal(pthread_create(&t[i], NULL, i < 2 ? writer : i == 2 ? xorer : toucher,
                                        &args[i]), 0);
    }
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    assert_int_equal(cache__check_invariants(c), 0);
    cache_destroy(c);
}

static void test_setbit_own_bits(void **state)
{
    struct cache *c = mk(2, 0, CACHE_ALLKEYS_LRU);
    pthread_t t[SETTERS];
    struct arg args[SETTERS];
    struct cache_bitrange whole = {0};
    uint64_t n;

    for (int i = 0; i < SETTERS; i++) {
        args[i] = (struct arg){c, i};
        assert_int_equal(pthread_create(&t[i], NULL, setter, &args[i]), 0);
    }
    for (int i = 0; i < SETTERS; i++)
        pthread_join(t[i], NULL);
    assert_int_equal(cache_bitcount(c, S("shared"), &whole, 1, &n), CACHE_OK);
    assert_int_equal(n, SETTERS * BITS_EACH);
    assert_int_equal(cache__check_invariants(c), 0);
    cache_destroy(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bitop_one_instant),
        cmocka_unit_test(test_setbit_own_bits),
    };
    return cmocka_run_group_tests_name("cache/bit_stress", tests, NULL, NULL);
}
