/*
 * Concurrent hash writers on shared keys (meant to run under TSan):
 * threads HSET/HDEL/HINCRBY/HGETALL/HRANDFIELD/HSCAN/COPY/RENAME/UNLINK
 * the same few keys, with thresholds small enough that conversions happen
 * under contention, a small maxmemory (eviction, lazily freed), SETs that
 * turn hashes into strings and back (WRONGTYPE races), and a thread that
 * changes the limits and lazy-free settings and runs active expiry.
 *
 * Checks: no lost update (each thread's counter field, bumped only by
 * HINCRBY, ends at the count of its acknowledged increments), every value
 * read back is whole (a checksum), and the cache's invariants hold.
 */
#include <pthread.h>
#include <stdatomic.h>

#include "test_util.h"

#define NTHREADS 4
#define OPS 20000
#define NKEYS 6

static atomic_int stop_bg;
static const char *const keys[NKEYS] = {"h0", "h1", "h2", "h3", "h4", "h5"};

static uint64_t xs(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* "<sum>:" + payload, checkable by any reader */
static size_t mkval(char *buf, uint64_t *r)
{
    size_t n = xs(r) % 120;
    unsigned sum = 0;
    char payload[128];
    for (size_t i = 0; i < n; i++) {
        payload[i] = (char)('a' + xs(r) % 26);
        sum += (unsigned char)payload[i];
    }
    int h = sprintf(buf, "%u:", sum);
    memcpy(buf + h, payload, n);
    return (size_t)h + n;
}

static void checkval(const char *v, size_t len)
{
    unsigned sum = 0, want;
    char tmp[16];
    const char *colon = memchr(v, ':', len < 12 ? len : 12);
    if (!colon)
        return;   /* a counter */
    size_t h = (size_t)(colon - v);
    memcpy(tmp, v, h);
    tmp[h] = 0;
    want = (unsigned)strtoul(tmp, NULL, 10);
    for (size_t i = h + 1; i < len; i++)
        sum += (unsigned char)v[i];
    assert_int_equal(sum, want);
}

static void check_records(const struct cache_keys *k, int pairs)
{
    const char *s;
    size_t pos = 0, len, n = 0;
    while ((s = cache_keys_next(k, &pos, &len)) != NULL)
        if (!pairs || n++ % 2 == 1)
            if (len != CACHE_KEYS_NIL)
                checkval(s, len);
}

struct arg {
    struct cache *c;
    int id;
    long incrs;   /* acknowledged HINCRBYs of this thread's counter */
};

static void *writer(void *p)
{
    struct arg *a = p;
    struct cache *c = a->c;
    uint64_t r = 0x9E3779B97F4A7C15ull * (uint64_t)(a->id + 1);
    char f[32], v[160], ctr[16];
    struct cache_val out = {0};
    uint64_t n;
    long long res;

    snprintf(ctr, sizeof(ctr), "ctr:%d", a->id);
    for (int i = 0; i < OPS; i++) {
        const char *k = keys[xs(&r) % NKEYS];
        int64_t now = 1000 + i;
        snprintf(f, sizeof(f), "f%u", (unsigned)(xs(&r) % 300));
        struct cache_kv kv = {S(f), v, mkval(v, &r)};
        struct cache_keys ks = {0};
        int sample, rc;
        switch (xs(&r) % 14) {
        case 0: case 1: case 2:
            rc = cache_hset(c, S(k), &kv, 1, 0, now, &n);
            assert_true(rc == CACHE_OK || rc == CACHE_E_WRONGTYPE || rc == CACHE_E_OOM);
            break;
        case 3: {
            struct cache_str d = {S(f)};
            (void)cache_hdel(c, S(k), &d, 1, now, &n);
            break;
        }
        case 4:
            /* the counters live in their own key: never a string */
            rc = cache_hincrby(c, S("counters"), S(ctr), 1, now, &res);
            if (rc == CACHE_OK)
                a->incrs++;
            else
                assert_int_equal(rc, CACHE_E_OOM);
            break;
        case 5:
            if (cache_hgetall(c, S(k), CACHE_H_FIELDS | CACHE_H_VALUES, now, &ks) == CACHE_OK)
                check_records(&ks, 1);
            break;
        case 6:
            if (cache_hget(c, S(k), S(f), now, &out) == CACHE_OK)
                checkval(out.data, out.len);
            break;
        case 7:
            if (cache_hrandfield(c, S(k), (long long)(xs(&r) % 20) - 10, 1, now, &ks,
                                 &sample) == CACHE_OK)
                check_records(&ks, 1);
            break;
        case 8: {
            uint64_t cur = 0;
            int guard = 0;
            do {
                struct cache_keys page = {0};
                if (cache_hscan(c, S(k), cur, 5, now, &page, &cur) != CACHE_OK)
                    cur = 0;
                check_records(&page, 1);
                cache_keys_free(&page);
            } while (cur != 0 && ++guard < 1000);
            break;
        }
        case 9:
            (void)cache_copy(c, S(k), S(keys[xs(&r) % NKEYS]), 1, now);
            break;
        case 10:
            (void)cache_rename(c, S(k), S(keys[xs(&r) % NKEYS]), 0, now);
            break;
        case 11:
            if (xs(&r) % 8 == 0)
                (void)cache_unlink(c, S(k), now);
            else
                (void)cache_expire(c, S(k), now + (int64_t)(xs(&r) % 50), 0, now);
            break;
        case 12:
            if (xs(&r) % 16 == 0)
                (void)cache_set(c, S(k), S("a string"), 0, 0, now, NULL, NULL);
            break;
        default: {
            struct cache_str fs[3] = {{S(f)}, {S("f1")}, {S("f2")}};
            if (cache_hmget(c, S(k), fs, 3, now, &ks) == CACHE_OK)
                check_records(&ks, 0);
            break;
        }
        }
        cache_keys_free(&ks);
    }
    free(out.data);
    return NULL;
}

static void *background(void *p)
{
    struct cache *c = p;
    uint64_t r = 42;
    int64_t now = 1000;
    while (!atomic_load(&stop_bg)) {
        struct cache_type_limits l;
        cache_type_limits_default(&l);
        l.hash_max_listpack_entries = 1 + xs(&r) % 64;
        l.hash_max_listpack_value = 4 + xs(&r) % 128;
        cache_set_type_limits(c, &l);
        cache_set_lazyfree(c, (unsigned)(xs(&r) % 16));
        cache_active_expire(c, 0, cache_nshards(c), 20, now += 10);
    }
    return NULL;
}

static void stress(unsigned nshards)
{
    struct cache *c = mk(nshards, 2 << 20, CACHE_ALLKEYS_LRU);
    pthread_t th[NTHREADS], bg;
    struct arg args[NTHREADS];

    atomic_store(&stop_bg, 0);
    assert_int_equal(pthread_create(&bg, NULL, background, c), 0);
    for (int i = 0; i < NTHREADS; i++) {
        args[i] = (struct arg){c, i, 0};
        assert_int_equal(pthread_create(&th[i], NULL, writer, &args[i]), 0);
    }
    for (int i = 0; i < NTHREADS; i++)
        pthread_join(th[i], NULL);
    atomic_store(&stop_bg, 1);
    pthread_join(bg, NULL);
    ASSERT_INV(c);
    /* no lost update; "counters" is small and recent: never evicted */
    struct cache_val v = {0};
    for (int i = 0; i < NTHREADS; i++) {
        char ctr[16];
        snprintf(ctr, sizeof(ctr), "ctr:%d", i);
        if (args[i].incrs == 0)
            continue;
        assert_int_equal(cache_hget(c, S("counters"), S(ctr), 1, &v), CACHE_OK);
        char num[32];
        memcpy(num, v.data, v.len);
        num[v.len] = 0;
        assert_int_equal(atol(num), args[i].incrs);
    }
    free(v.data);
    cache_destroy(c);
}

static void test_hash_stress_1(void **state) { stress(1); }
static void test_hash_stress_8(void **state) { stress(8); }

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hash_stress_1),
        cmocka_unit_test(test_hash_stress_8),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
