/*
 * test_zset_blocking: the sorted set pops on the blocking machinery
 * (cache/blocking/kinds.c): ZMPOP at once, BZPOP* waits served by ZADD in
 * the order they blocked with the wake outside every shard lock, a wait
 * for a list and one for a sorted set on one key each served only by
 * their own type, the give-back of a client gone (each member with its
 * score, a member added again meanwhile keeping its newer score), and the
 * lost wake-up race (a BZPOPMIN registering while ZADD arrives), checked
 * by the invariant checker (a non-empty sorted set with a client of its
 * kind still waiting).
 */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <unistd.h>

#include "test_util.h"

#include "blocking_util.h"
#include "zset_util.h"

static const char *const K[] = {"z"};

static int zblock(struct cache *c, struct tw *t, const char *const *keys, size_t n, int where,
                  uint64_t count)
{
    return block_on_kind(c, t, keys, n, where, count, NULL, 0, 1);
}

static void test_at_once_and_served(void **st)
{
    struct cache *c = mk(4, 0, CACHE_ALLKEYS_LRU);
    struct tw a, b, d;
    struct cache_keys out = {0};

    (void)st;
    locks_of = c;
    assert_int_equal(zadd1(c, "z", 2, "b", 0), 1);
    assert_int_equal(zadd1(c, "z", 1, "a", 0), 1);
    struct cache_str k = {S("z")};
    struct cache_bpop_req r = {.keys = &k, .nkeys = 1, .from = CACHE_ZMAX, .count = 5,
                               .zset = 1};
    struct cache_bpop *h;
    assert_int_equal(cache_bpop(c, &r, 1, &out, &h), CACHE_OK);   /* ZMPOP: at once */
    assert_int_equal(out.count, 5);                                 /* key, b, 2, a, 1 */
    cache_keys_free(&out);
    assert_int_equal(cache_exists(c, S("z"), 1), CACHE_NOTFOUND);
    assert_int_equal(cache_bpop(c, &r, 1, &out, &h), CACHE_NOTFOUND);
    /* three waits, served in the order they came */
    assert_int_equal(zblock(c, &a, K, 1, CACHE_ZMIN, 1), CACHE_BLOCKED);
    assert_int_equal(zblock(c, &b, K, 1, CACHE_ZMAX, 2), CACHE_BLOCKED);
    assert_int_equal(zblock(c, &d, K, 1, CACHE_ZMIN, 1), CACHE_BLOCKED);
    struct cache_zpair p[4] = {{1, S("a")}, {2, S("b")}, {3, S("c")}, {4, S("d")}};
    struct cache_zadd_result res;
    assert_int_equal(cache_zadd(c, S("z"), p, 4, 0, 1, &res), CACHE_OK);
    assert_int_equal(res.added, 4);   /* counted before the waits took theirs */
    assert_string_equal(take(c, &a, 0), "z:a=1");
    assert_string_equal(take(c, &b, 0), "z:d=4 c=3");
    assert_string_equal(take(c, &d, 0), "z:b=2");
    assert_true(a.order < b.order && b.order < d.order);
    assert_int_equal(cache_exists(c, S("z"), 1), CACHE_NOTFOUND);
    ASSERT_INV(c);
    locks_of = NULL;
    cache_destroy(c);
}

/* A list's wait and a sorted set's on one key: each served by its type. */
static void test_type_of_wait(void **st)
{
    struct cache *c = mk(2, 0, CACHE_ALLKEYS_LRU);
    struct tw l, z;
    struct cache_str e = {S("x")};
    uint64_t len;

    (void)st;
    assert_int_equal(block_on(c, &l, K, 1, CACHE_LIST_HEAD, 1, NULL, 0), CACHE_BLOCKED);
    assert_int_equal(zblock(c, &z, K, 1, CACHE_ZMIN, 1), CACHE_BLOCKED);
    assert_int_equal(cache_lpush(c, S("z"), CACHE_LIST_TAIL, &e, 1, 0, 1, &len), CACHE_OK);
    assert_int_equal(atomic_load(&l.woken), 1);
    assert_int_equal(atomic_load(&z.woken), 0);
    assert_string_equal(take(c, &l, 0), "z:x");
    assert_int_equal(zadd1(c, "z", 7, "m", 0), 1);
    assert_string_equal(take(c, &z, 0), "z:m=7");
    assert_int_equal(block_on(c, &l, K, 1, CACHE_LIST_HEAD, 1, NULL, 0), CACHE_BLOCKED);
    assert_int_equal(zadd1(c, "z", 1, "n", 0), 1);               /* the list's wait stays */
    assert_int_equal(atomic_load(&l.woken), 0);
    ASSERT_INV(c);
    assert_int_equal(cache_bpop_cancel(c, l.h), CACHE_OK);
    cache_destroy(c);
}

/* A client gone after it was served: its members go back, each with its
 * score, to the next waiter if there is one; one added again meanwhile
 * keeps the newer score. */
static void test_giveback(void **st)
{
    struct cache *c = mk(4, 0, CACHE_ALLKEYS_LRU);
    struct tw a, b;

    (void)st;
    assert_int_equal(zblock(c, &a, K, 1, CACHE_ZMIN, 2), CACHE_BLOCKED);
    struct cache_zpair p[3] = {{1.5, S("a")}, {2, S("b")}, {3, S("c")}};
    struct cache_zadd_result res;
    assert_int_equal(cache_zadd(c, S("z"), p, 3, 0, 1, &res), CACHE_OK);
    assert_int_equal(zadd1(c, "z", 9, "b", 0), 1);              /* b again, newer */
    assert_string_equal(take(c, &a, 1), "");                    /* gone: back they go */
    assert_true(zscore1(c, "z", "a") == 1.5);
    assert_true(zscore1(c, "z", "b") == 9);
    assert_int_equal(zcard(c, "z"), 3);
    /* given back to a key with a waiter: the waiter gets them */
    static const char *const q[] = {"q"};
    assert_int_equal(zblock(c, &a, q, 1, CACHE_ZMAX, 1), CACHE_BLOCKED);
    assert_int_equal(zadd1(c, "q", 5, "x", 0), 1);
    assert_int_equal(zblock(c, &b, q, 1, CACHE_ZMAX, 1), CACHE_BLOCKED);
    assert_string_equal(take(c, &a, 1), "");
    assert_string_equal(take(c, &b, 0), "q:x=5");
    /* back to a key that became another type: dropped */
    assert_int_equal(zblock(c, &a, q, 1, CACHE_ZMAX, 1), CACHE_BLOCKED);
    assert_int_equal(zadd1(c, "q", 5, "y", 0), 1);
    assert_int_equal(set(c, "q", "str", 1), CACHE_OK);
    assert_string_equal(take(c, &a, 1), "");
    assert_string_equal(get(c, "q", 1), "str");
    ASSERT_INV(c);
    cache_destroy(c);
}

/* ---- the lost wake-up race ---------------------------------------------- */

struct race {
    struct cache *c;
    atomic_uint arrived;   /* a spinning two-thread barrier */
    atomic_uint phase;
    int iters;
    atomic_int lost;
};

static void spin_barrier(struct race *r)
{
    unsigned ph = atomic_load(&r->phase), turns = 0;
    if (atomic_fetch_add(&r->arrived, 1) == 1) {
        atomic_store(&r->arrived, 0);
        atomic_store(&r->phase, ph + 1);
        return;
    }
    while (atomic_load(&r->phase) == ph)
        if (++turns % 1024 == 0)
            sched_yield();
}

static void *race_adder(void *p)
{
    struct race *r = p;
    uint64_t x = 0x2545F4914F6CDD1Dull;
    for (int i = 0; i < r->iters; i++) {
        spin_barrier(r);
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        for (volatile unsigned j = 0, n = (unsigned)(x % 1500); j < n; j++)
            ;
        (void)zadd1(r->c, i % 2 ? "k" : "j", 1, "e", 0);
        spin_barrier(r);
        spin_barrier(r);   /* the checker's turn */
    }
    return NULL;
}

static void test_lost_wakeup_race(void **st)
{
    static const char *const jk[] = {"j", "k"};
    const char *env = getenv("MMCACHE_RACE_ITERS");
    struct race r = {.c = mk(2, 0, CACHE_ALLKEYS_LRU), .iters = env ? atoi(env) : 50000};
    pthread_t th;

    (void)st;
    pthread_create(&th, NULL, race_adder, &r);
    for (int i = 0; i < r.iters; i++) {
        struct tw t;
        spin_barrier(&r);
        int rc = zblock(r.c, &t, jk, 2, CACHE_ZMIN, 1);
        spin_barrier(&r);   /* the ZADD is done */
        if (cache__check_invariants(r.c) != 0)
            atomic_fetch_add(&r.lost, 1);
        if (rc == CACHE_BLOCKED) {
            if (cache_bpop_cancel(r.c, t.h) != CACHE_OK) {
                assert_int_equal(atomic_load(&t.woken), 1);
                assert_string_equal(take(r.c, &t, 0) + 1, ":e=1");
            } else if (zcard(r.c, "j") + zcard(r.c, "k") != 0) {
                atomic_fetch_add(&r.lost, 1);   /* not served: it must not be there */
            }
        }
        cache_del(r.c, S("j"), 1);
        cache_del(r.c, S("k"), 1);
        spin_barrier(&r);
    }
    pthread_join(th, NULL);
    assert_int_equal(atomic_load(&r.lost), 0);
    cache_destroy(r.c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_at_once_and_served),
        cmocka_unit_test(test_type_of_wait),
        cmocka_unit_test(test_giveback),
        cmocka_unit_test(test_lost_wakeup_race),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
