/*
 * Concurrent SMOVE between two sets on different shards (meant to run
 * under TSan): movers move members back and forth, both directions at
 * once, while readers check, with the commands that read both keys at one
 * instant, that the total membership never changes: SINTERCARD of the two
 * is always 0 (a member never in both), SUNION always all N (never in
 * neither), SUNIONSTORE's destination always N. A background thread
 * changes the set thresholds meanwhile, so the sets convert between
 * intset, listpack and table while members move (and other threads SADD
 * and SPOP a third set on the same shards). At the end: every member in
 * exactly one of the two sets, and the cache's invariants hold.
 */
#include <pthread.h>
#include <stdatomic.h>

#include "test_util.h"

#define N 96
#define MOVERS 3
#define READERS 2
#define OPS 20000

static atomic_int stop_bg;
static char ka[32], kb[32], kc[32];
static char members[N][16];

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
    long moved;
};

static void *mover(void *p)
{
    struct arg *a = p;
    uint64_t r = 0x9E3779B97F4A7C15ull * (uint64_t)(a->id + 1);

    for (int i = 0; i < OPS; i++) {
        const char *m = members[xs(&r) % N];
        bool ab = xs(&r) & 1;
        int rc = cache_smove(a->c, S(ab ? ka : kb), S(ab ? kb : ka), S(m), 1);
        if (rc == CACHE_NOELEM || rc == CACHE_NOTFOUND)   /* it is on the other side */
            rc = cache_smove(a->c, S(ab ? kb : ka), S(ab ? ka : kb), S(m), 1);
        if (rc == CACHE_OK)
            a->moved++;
        else
            assert_true(rc == CACHE_NOELEM || rc == CACHE_NOTFOUND);
        if (i % 16 == 0) {   /* a third set on the same shards */
            struct cache_str s = {S(m)};
            struct cache_keys out = {0};
            uint64_t n;
            assert_int_equal(cache_sadd(a->c, S(kc), &s, 1, 1, &n), CACHE_OK);
            (void)cache_spop(a->c, S(kc), 1, 1, &out);
            cache_keys_free(&out);
        }
    }
    return NULL;
}

static uint64_t setop(struct cache *c, int kind, const char *dst, int card_only)
{
    struct cache_str keys[2] = {{S(ka)}, {S(kb)}};
    struct cache_setop op = {.op = kind, .keys = keys, .nkeys = 2, .dst = dst,
                             .dlen = dst ? strlen(dst) : 0, .card_only = card_only};
    struct cache_setop_result r = {0};
    assert_int_equal(cache_setop(c, &op, 1, &r), CACHE_OK);
    if (!dst && !card_only)
        assert_int_equal(r.members.count, r.card);
    cache_keys_free(&r.members);
    return r.card;
}

static void *reader(void *p)
{
    struct arg *a = p;
    char dst[32];

    snprintf(dst, sizeof(dst), "union%d", a->id);
    for (int i = 0; i < OPS / 4; i++) {
        uint64_t both = setop(a->c, CACHE_SINTER, NULL, 1);
        uint64_t all = setop(a->c, CACHE_SUNION, NULL, 0);
        uint64_t stored = setop(a->c, CACHE_SUNION, dst, 0), n = 0;
        assert_int_equal(cache_card(a->c, CACHE_TYPE_SET, S(dst), 1, &n), CACHE_OK);
        if (both != 0 || all != N || stored != N || n != N) {
            /* said before failing: a cmocka failure off the main thread
             * may not get to print its own message */
            fprintf(stderr, "reader %d: %llu members in both sets, %llu in either "
                    "(SUNIONSTORE %llu, SCARD %llu), want 0 and %d\n", a->id,
                    (unsigned long long)both, (unsigned long long)all,
                    (unsigned long long)stored, (unsigned long long)n, N);
            fail();
        }
    }
    return NULL;
}

static void *background(void *p)
{
    struct cache *c = p;
    uint64_t r = 7;

    while (!atomic_load(&stop_bg)) {
        struct cache_type_limits l;
        cache_type_limits_default(&l);
        l.set_max_intset_entries = 1 + xs(&r) % 64;
        l.set_max_listpack_entries = 1 + xs(&r) % 64;
        l.set_max_listpack_value = 4 + xs(&r) % 16;
        cache_set_type_limits(c, &l);
        cache_set_lazyfree(c, (unsigned)(xs(&r) % 16));
    }
    return NULL;
}

/* Key names whose shards differ (a and b; unless there is one shard), c on
 * a's shard. */
static void pick_keys(struct cache *c)
{
    snprintf(ka, sizeof(ka), "a");
    struct shard *sa = cache__shard_of(c, cache__hash(c, S(ka)));
    for (int i = 0;; i++) {
        snprintf(kb, sizeof(kb), "b%d", i);
        if (cache_nshards(c) == 1 || cache__shard_of(c, cache__hash(c, S(kb))) != sa)
            break;
    }
    for (int i = 0;; i++) {
        snprintf(kc, sizeof(kc), "c%d", i);
        if (cache__shard_of(c, cache__hash(c, S(kc))) == sa)
            break;
    }
}

static void stress(unsigned nshards)
{
    struct cache *c = mk(nshards, 0, CACHE_ALLKEYS_LRU);
    pthread_t th[MOVERS + READERS], bg;
    struct arg args[MOVERS + READERS];
    long moved = 0;

    pick_keys(c);
    for (int i = 0; i < N; i++) {   /* integers and strings: every encoding */
        if (i % 2)
            snprintf(members[i], sizeof(members[i]), "%d", i * 1000);
        else
            snprintf(members[i], sizeof(members[i]), "m%d", i);
        struct cache_str s = {S(members[i])};
        uint64_t n;
        assert_int_equal(cache_sadd(c, S(i % 3 ? ka : kb), &s, 1, 1, &n), CACHE_OK);
    }
    atomic_store(&stop_bg, 0);
    assert_int_equal(pthread_create(&bg, NULL, background, c), 0);
    for (int i = 0; i < MOVERS + READERS; i++) {
        args[i] = (struct arg){c, i, 0};
        assert_int_equal(pthread_create(&th[i], NULL, i < MOVERS ? mover : reader, &args[i]), 0);
    }
    for (int i = 0; i < MOVERS + READERS; i++) {
        pthread_join(th[i], NULL);
        moved += args[i].moved;
    }
    atomic_store(&stop_bg, 1);
    pthread_join(bg, NULL);
    assert_true(moved > OPS);
    for (int i = 0; i < N; i++) {
        int ina = cache_sismember(c, S(ka), S(members[i]), 1) == CACHE_OK;
        int inb = cache_sismember(c, S(kb), S(members[i]), 1) == CACHE_OK;
        assert_int_equal(ina + inb, 1);
    }
    ASSERT_INV(c);
    cache_destroy(c);
}

static void test_two_shards(void **st) { stress(8); }
static void test_one_shard(void **st) { stress(1); }

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_two_shards),
        cmocka_unit_test(test_one_shard),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
