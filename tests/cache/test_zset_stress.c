/*
 * Concurrent sorted set writers and readers on keys of different shards
 * (meant to run under TSan): incrementers ZINCRBY their own member of a
 * shared set, so that each member's score ends exactly at its count of
 * increments, while the set converts between listpack and skiplist (a
 * background thread changes the thresholds) and others ZADD and ZPOPMIN
 * members of it; storers ZUNIONSTORE into one destination from one of
 * two sources whose members differ by prefix, and readers check that the
 * destination always holds one whole source (a STORE is atomic across
 * shards), that every range they read is in order and that ZCOUNT agrees
 * with ZCARD. At the end: the counts exact, the cache's invariants hold.
 */
#include <pthread.h>
#include <stdatomic.h>

#include "test_util.h"

#include "zset_util.h"

#define INCRS 3
#define STORERS 2
#define READERS 2
#define OPS 20000
#define SRC 120

static atomic_int stop_bg;
static char kz[32], ka[32], kb[32], kd[32];

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

static void *incrementer(void *p)
{
    struct arg *a = p;
    char me[16], other[32];

    snprintf(me, sizeof(me), "inc%d", a->id);
    for (int i = 0; i < OPS; i++) {
        struct cache_zpair p1 = {1, S(me)};
        struct cache_zadd_result res;
        assert_int_equal(cache_zadd(a->c, S(kz), &p1, 1, CACHE_ZADD_INCR, 1, &res), CACHE_OK);
        if (i % 8 == 0) {   /* others come and go beside it: each pop follows its
                             * own add, so there is always one below the counters */
            snprintf(other, sizeof(other), "o%d.%d", a->id, i);
            assert_int_equal(zadd1(a->c, kz, -1.0 - (double)(i % 100), other, 0), 1);
            struct cache_keys out = {0};
            assert_int_equal(cache_zpop(a->c, S(kz), CACHE_ZMIN, 1, 1, &out), CACHE_OK);
            assert_int_equal(out.count, 2);
            assert_true(strncmp(out.buf + sizeof(uint32_t), "inc", 3) != 0 ||
                        !"an incrementer's member popped before the others");
            cache_keys_free(&out);
        }
    }
    return NULL;
}

static void *storer(void *p)
{
    struct arg *a = p;
    struct cache_str src = {a->id ? kb : ka, strlen(a->id ? kb : ka)};
    struct cache_zsetop op = {.op = CACHE_ZUNION, .keys = &src, .nkeys = 1, .dst = kd,
                              .dlen = strlen(kd), .max_bytes = SIZE_MAX};

    for (int i = 0; i < OPS / 10; i++) {
        struct cache_zsetop_result res = {0};
        assert_int_equal(cache_zsetop(a->c, &op, 1, &res), CACHE_OK);
        assert_int_equal(res.card, SRC);
    }
    return NULL;
}

static void *reader(void *p)
{
    struct arg *a = p;
    struct cache_keys out = {0};

    for (int i = 0; i < OPS / 10; i++) {
        zall(a->c, kd, &out);
        size_t pos = 0, len, n = 0;
        const char *s;
        char first = 0;
        double prev = -1;
        while ((s = cache_keys_next(&out, &pos, &len)) != NULL) {
            if (n++ == 0)
                first = s[0];
            assert_int_equal(s[0], first);   /* one source, whole */
            double sc = cache_keys_score(cache_keys_next(&out, &pos, &len));
            assert_true(sc >= prev);
            prev = sc;
        }
        assert_true(n == 0 || n == SRC);
        uint64_t card = zcard(a->c, kz), count;
        struct cache_zrange all = {.by = CACHE_ZBY_SCORE, .score = {-INFINITY, INFINITY, 0, 0},
                                   .limit = -1};
        assert_true(cache_zcount(a->c, S(kz), &all, 1, &count) >= 0);
        (void)card;   /* another writer may run between the two */
    }
    cache_keys_free(&out);
    return NULL;
}

static void *thresholds(void *p)
{
    struct cache *c = p;
    uint64_t r = 7;
    while (!atomic_load(&stop_bg)) {
        zlimits(c, xs(&r) % 2 ? 4 : 128, 64);
        sched_yield();
    }
    return NULL;
}

static void test_stress(void **st)
{
    struct cache *c = mk(64, 0, CACHE_ALLKEYS_LRU);
    pthread_t th[INCRS + STORERS + READERS], bg;
    struct arg args[INCRS + STORERS + READERS];
    int n = 0;

    (void)st;
    /* keys on different shards */
    snprintf(kz, sizeof(kz), "z");
    for (int i = 0; i < 1000; i++) {
        snprintf(ka, sizeof(ka), "a%d", i);
        if (cache__shard_of(c, cache__hash(c, S(ka))) != cache__shard_of(c, cache__hash(c, S(kz))))
            break;
    }
    snprintf(kb, sizeof(kb), "b");
    snprintf(kd, sizeof(kd), "d");
    for (int i = 0; i < SRC; i++) {
        char m[16];
        snprintf(m, sizeof(m), "a%03d", i);
        assert_int_equal(zadd1(c, ka, i, m, 0), 1);
        snprintf(m, sizeof(m), "b%03d", i);
        assert_int_equal(zadd1(c, kb, i, m, 0), 1);
    }
    pthread_create(&bg, NULL, thresholds, c);
    for (int i = 0; i < INCRS; i++, n++) {
        args[n] = (struct arg){c, i};
        pthread_create(&th[n], NULL, incrementer, &args[n]);
    }
    for (int i = 0; i < STORERS; i++, n++) {
        args[n] = (struct arg){c, i};
        pthread_create(&th[n], NULL, storer, &args[n]);
    }
    for (int i = 0; i < READERS; i++, n++) {
        args[n] = (struct arg){c, i};
        pthread_create(&th[n], NULL, reader, &args[n]);
    }
    for (int i = 0; i < n; i++)
        pthread_join(th[i], NULL);
    atomic_store(&stop_bg, 1);
    pthread_join(bg, NULL);
    for (int i = 0; i < INCRS; i++) {
        char me[16];
        snprintf(me, sizeof(me), "inc%d", i);
        assert_true(zscore1(c, kz, me) == OPS);
    }
    ASSERT_INV(c);
    cache_destroy(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stress),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
