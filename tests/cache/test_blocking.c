/*
 * test_blocking: blocked clients in the cache (cache/blocking.c): the
 * wait lists, serving in the order clients blocked, one key serving many
 * waiters, a wait on several keys served once, cancel against serve,
 * give-back of a client gone, BLMOVE chains within a shard and across
 * shards, a move to a key of another type, BLMPOP's count, RENAME/COPY
 * serving, the wake called with no shard lock held, and the lost wake-up
 * race (a waiter registering while an element arrives), checked by the
 * invariant checker (a non-empty list with a client still waiting).
 */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <unistd.h>

#include "test_util.h"

/* A test waiter: its wake records the order it came in. */
struct tw {
    struct cache *c;
    struct cache_bpop *h;
    atomic_int woken;
    int order;
};
static atomic_int wake_seq;
static struct cache *locks_of;   /* the cache whose shards the wake probes */

static void tw_wake(void *arg)
{
    struct tw *t = arg;
    /* No shard lock may be held here: every shard is free to take. (The
     * tests are single-threaded, so a busy lock would be our own.) */
    if (locks_of)
        for (unsigned i = 0; i < locks_of->nshards; i++) {
            struct shard *s = &locks_of->shards[i];
            assert_int_equal(pthread_mutex_trylock(&s->lock), 0);
            pthread_mutex_unlock(&s->lock);
        }
    t->order = atomic_fetch_add(&wake_seq, 1);
    atomic_store(&t->woken, 1);
}

static int block_on(struct cache *c, struct tw *t, const char *const *keys, size_t n,
                    int from, uint64_t count, const char *dst, int to)
{
    struct cache_str k[8];
    struct cache_keys out = {0};
    for (size_t i = 0; i < n; i++) {
        k[i].s = keys[i];
        k[i].len = strlen(keys[i]);
    }
    struct cache_bpop_req r = {.keys = k, .nkeys = n, .from = from, .count = count,
                               .dst = dst, .dlen = dst ? strlen(dst) : 0, .to = to,
                               .wake = tw_wake, .arg = t};
    memset(t, 0, sizeof(*t));
    t->c = c;
    int rc = cache_bpop(c, &r, 1, &out, &t->h);
    cache_keys_free(&out);
    return rc;
}

static int push(struct cache *c, const char *k, const char *v)
{
    struct cache_str e = {S(v)};
    uint64_t len;
    int rc = cache_lpush(c, S(k), CACHE_LIST_TAIL, &e, 1, 0, 1, &len);
    return rc < 0 ? rc : (int)len;
}

/* The outcome of a served wait as "key:elem elem" (or "elem" for a move). */
static const char *take(struct cache *c, struct tw *t, int giveback)
{
    static char buf[256];
    struct cache_keys out = {0};
    const char *s;
    size_t pos = 0, len, used = 0;
    assert_int_equal(atomic_load(&t->woken), 1);
    int rc = cache_bpop_take(c, t->h, giveback, &out, 1);
    if (rc != CACHE_OK) {
        snprintf(buf, sizeof(buf), "rc %d", rc);
        return buf;
    }
    buf[0] = 0;
    for (int i = 0; (s = cache_keys_next(&out, &pos, &len)) != NULL; i++)
        used += (size_t)snprintf(buf + used, sizeof(buf) - used, "%s%.*s",
                                 i == 0 ? "" : i == 1 ? ":" : " ", (int)len, s);
    cache_keys_free(&out);
    return buf;
}

static const char *range(struct cache *c, const char *k)
{
    static char buf[256];
    struct cache_keys out = {0};
    uint64_t total;
    const char *s;
    size_t pos = 0, len, used = 0;
    (void)cache_lrange(c, S(k), 0, -1, SIZE_MAX, 1, &out, &total);
    buf[0] = 0;
    while ((s = cache_keys_next(&out, &pos, &len)) != NULL)
        used += (size_t)snprintf(buf + used, sizeof(buf) - used, "%s%.*s",
                                 used ? " " : "", (int)len, s);
    cache_keys_free(&out);
    return buf;
}

static const char *const K[] = {"k"};

/* Served in the order they blocked; one push of two serves two; the
 * pusher's length counts before they took theirs. */
static void test_fifo(void **st)
{
    struct cache *c = mk(4, 0, CACHE_ALLKEYS_LRU);
    struct tw a, b, d;
    locks_of = c;
    assert_int_equal(block_on(c, &a, K, 1, CACHE_LIST_HEAD, 1, NULL, 0), CACHE_BLOCKED);
    assert_int_equal(block_on(c, &b, K, 1, CACHE_LIST_HEAD, 1, NULL, 0), CACHE_BLOCKED);
    assert_int_equal(block_on(c, &d, K, 1, CACHE_LIST_HEAD, 1, NULL, 0), CACHE_BLOCKED);
    assert_int_equal(cache_blocked_keys(c), 1);
    struct cache_str e[2] = {{S("x")}, {S("y")}};
    uint64_t len;
    assert_int_equal(cache_lpush(c, S("k"), CACHE_LIST_TAIL, e, 2, 0, 1, &len), CACHE_OK);
    assert_int_equal(len, 2);
    assert_int_equal(atomic_load(&a.woken) + atomic_load(&b.woken), 2);
    assert_int_equal(atomic_load(&d.woken), 0);
    assert_true(a.order < b.order);
    assert_string_equal(take(c, &a, 0), "k:x");
    assert_string_equal(take(c, &b, 0), "k:y");
    assert_int_equal(cache_exists(c, S("k"), 1), CACHE_NOTFOUND);
    ASSERT_INV(c);
    assert_int_equal(cache_bpop_cancel(c, d.h), CACHE_OK);
    assert_int_equal(cache_blocked_keys(c), 0);
    ASSERT_INV(c);
    locks_of = NULL;
    cache_destroy(c);
}

/* A wait on several keys is served once, by the first push; its other
 * entries go when it is taken. Keys are checked in order when popping
 * now; BLMPOP's count; a wrong type among the keys. */
static void test_multi_key_and_count(void **st)
{
    struct cache *c = mk(16, 0, CACHE_ALLKEYS_LRU);
    static const char *const ks[] = {"a", "b", "c"};
    struct tw t, u;
    locks_of = c;
    assert_int_equal(block_on(c, &t, ks, 3, CACHE_LIST_HEAD, 1, NULL, 0), CACHE_BLOCKED);
    assert_int_equal(cache_blocked_keys(c), 3);
    push(c, "b", "1");
    push(c, "c", "2");   /* nobody waits any more: stays */
    assert_string_equal(take(c, &t, 0), "b:1");
    assert_int_equal(cache_blocked_keys(c), 0);
    assert_string_equal(range(c, "c"), "2");
    /* popped now: the first non-empty in key order */
    push(c, "b", "3");
    assert_int_equal(block_on(c, &t, ks, 3, CACHE_LIST_HEAD, 1, NULL, 0), CACHE_OK);
    assert_string_equal(range(c, "b"), "");
    /* a string before the non-empty list: WRONGTYPE, after it: popped */
    assert_int_equal(set(c, "a", "str", 1), CACHE_OK);
    assert_int_equal(block_on(c, &t, ks, 3, CACHE_LIST_HEAD, 1, NULL, 0), CACHE_E_WRONGTYPE);
    static const char *const ks2[] = {"c", "a"};
    assert_int_equal(block_on(c, &t, ks2, 2, CACHE_LIST_HEAD, 1, NULL, 0), CACHE_OK);
    /* BLMPOP count 3 from the tail of 5 */
    static const char *const ks3[] = {"m"};
    assert_int_equal(block_on(c, &u, ks3, 1, CACHE_LIST_TAIL, 3, NULL, 0), CACHE_BLOCKED);
    struct cache_str e[5] = {{S("1")}, {S("2")}, {S("3")}, {S("4")}, {S("5")}};
    uint64_t len;
    assert_int_equal(cache_lpush(c, S("m"), CACHE_LIST_TAIL, e, 5, 0, 1, &len), CACHE_OK);
    assert_string_equal(take(c, &u, 0), "m:5 4 3");
    assert_string_equal(range(c, "m"), "1 2");
    /* the same key named twice waits once */
    static const char *const kk[] = {"z", "z"};
    assert_int_equal(block_on(c, &u, kk, 2, CACHE_LIST_HEAD, 1, NULL, 0), CACHE_BLOCKED);
    push(c, "z", "q");
    assert_string_equal(take(c, &u, 0), "z:q");
    ASSERT_INV(c);
    locks_of = NULL;
    cache_destroy(c);
}

/* Served before the owner's cancel: the cancel says so and the outcome
 * is taken; a client gone before its reply gives its elements back to
 * the end they came from, to the next waiter if there is one. */
static void test_cancel_and_giveback(void **st)
{
    struct cache *c = mk(4, 0, CACHE_ALLKEYS_LRU);
    struct tw a, b;
    assert_int_equal(block_on(c, &a, K, 1, CACHE_LIST_HEAD, 2, NULL, 0), CACHE_BLOCKED);
    struct cache_str e[3] = {{S("1")}, {S("2")}, {S("3")}};
    uint64_t len;
    assert_int_equal(cache_lpush(c, S("k"), CACHE_LIST_TAIL, e, 3, 0, 1, &len), CACHE_OK);
    assert_int_equal(cache_bpop_cancel(c, a.h), CACHE_NOTSET);
    assert_string_equal(range(c, "k"), "3");
    assert_string_equal(take(c, &a, 1), "");   /* gone: back they go */
    assert_string_equal(range(c, "k"), "1 2 3");
    /* given back to a key that has a waiter: the waiter gets them */
    static const char *const k2[] = {"q"};
    assert_int_equal(block_on(c, &a, k2, 1, CACHE_LIST_TAIL, 1, NULL, 0), CACHE_BLOCKED);
    push(c, "q", "x");
    assert_int_equal(block_on(c, &b, k2, 1, CACHE_LIST_TAIL, 1, NULL, 0), CACHE_BLOCKED);
    assert_string_equal(take(c, &a, 1), "");
    assert_int_equal(atomic_load(&b.woken), 1);
    assert_string_equal(take(c, &b, 0), "q:x");
    assert_int_equal(cache_exists(c, S("q"), 1), CACHE_NOTFOUND);
    ASSERT_INV(c);
    cache_destroy(c);
}

/* BLMOVE chains a -> b -> c -> BLPOP, in one shard (served under the
 * pusher's lock) and over many (moves finished after it); a destination
 * of another type answers WRONGTYPE and the element goes to the next. */
static void chain(unsigned nshards)
{
    struct cache *c = mk(nshards, 0, CACHE_ALLKEYS_LRU);
    static const char *const ka[] = {"a"}, *const kb[] = {"b"}, *const kc[] = {"c"};
    struct tw w1, w2, w3, w4;
    locks_of = c;
    assert_int_equal(block_on(c, &w1, ka, 1, CACHE_LIST_TAIL, 1, "b", CACHE_LIST_HEAD),
                     CACHE_BLOCKED);
    assert_int_equal(block_on(c, &w2, kb, 1, CACHE_LIST_TAIL, 1, "c", CACHE_LIST_HEAD),
                     CACHE_BLOCKED);
    assert_int_equal(block_on(c, &w3, kc, 1, CACHE_LIST_HEAD, 1, NULL, 0), CACHE_BLOCKED);
    push(c, "a", "x");
    assert_string_equal(take(c, &w1, 0), "x");
    assert_string_equal(take(c, &w2, 0), "x");
    assert_string_equal(take(c, &w3, 0), "c:x");
    assert_int_equal(cache_dbsize(c), 0);
    /* a cycle a -> b, b -> a: the element ends in a, each served once */
    assert_int_equal(block_on(c, &w1, ka, 1, CACHE_LIST_TAIL, 1, "b", CACHE_LIST_HEAD),
                     CACHE_BLOCKED);
    assert_int_equal(block_on(c, &w2, kb, 1, CACHE_LIST_TAIL, 1, "a", CACHE_LIST_HEAD),
                     CACHE_BLOCKED);
    push(c, "a", "y");
    assert_string_equal(take(c, &w1, 0), "y");
    assert_string_equal(take(c, &w2, 0), "y");
    assert_string_equal(range(c, "a"), "y");
    /* dst a string: WRONGTYPE for the mover, the element to the next */
    assert_int_equal(set(c, "s", "v", 1), CACHE_OK);
    static const char *const kd[] = {"d"};
    assert_int_equal(block_on(c, &w1, kd, 1, CACHE_LIST_TAIL, 1, "s", CACHE_LIST_HEAD),
                     CACHE_BLOCKED);
    assert_int_equal(block_on(c, &w4, kd, 1, CACHE_LIST_HEAD, 1, NULL, 0), CACHE_BLOCKED);
    push(c, "d", "z");
    char want[32];
    snprintf(want, sizeof(want), "rc %d", CACHE_E_WRONGTYPE);
    assert_string_equal(take(c, &w1, 0), want);
    assert_string_equal(take(c, &w4, 0), "d:z");
    ASSERT_INV(c);
    locks_of = NULL;
    cache_destroy(c);
}

static void test_blmove_chains(void **st)
{
    chain(1);
    chain(64);
}

/* A list renamed or copied onto a key serves its waiters (Redis's dbAdd). */
static void test_rename_serves(void **st)
{
    struct cache *c = mk(8, 0, CACHE_ALLKEYS_LRU);
    struct tw a, b;
    assert_int_equal(block_on(c, &a, K, 1, CACHE_LIST_HEAD, 1, NULL, 0), CACHE_BLOCKED);
    push(c, "src", "1");
    push(c, "src", "2");
    assert_int_equal(cache_rename(c, S("src"), S("k"), 0, 1), CACHE_OK);
    assert_string_equal(take(c, &a, 0), "k:1");
    assert_int_equal(block_on(c, &b, K, 1, CACHE_LIST_HEAD, 5, NULL, 0), CACHE_OK);
    assert_int_equal(block_on(c, &b, K, 1, CACHE_LIST_HEAD, 5, NULL, 0), CACHE_BLOCKED);
    push(c, "src", "3");
    assert_int_equal(cache_copy(c, S("src"), S("k"), 0, 1), CACHE_OK);
    assert_string_equal(take(c, &b, 0), "k:3");
    assert_string_equal(range(c, "src"), "3");
    ASSERT_INV(c);
    cache_destroy(c);
}

/* ---- the lost wake-up race ---------------------------------------------- */

struct race {
    struct cache *c;
    atomic_uint arrived;   /* a spinning two-thread barrier: both threads */
    atomic_uint phase;     /* leave it within nanoseconds of each other */
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
            sched_yield();   /* a loaded box: let the other thread run */
}

static void *race_pusher(void *p)
{
    struct race *r = p;
    uint64_t x = 0x9E3779B97F4A7C15ull;
    for (int i = 0; i < r->iters; i++) {
        spin_barrier(r);
        /* A random head start for the waiter (0 to ~2 us), so the push
         * lands before, during and after its check-and-wait. */
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        for (volatile unsigned j = 0, n = (unsigned)(x % 1500); j < n; j++)
            ;
        push(r->c, i % 2 ? "k" : "j", "e");
        spin_barrier(r);
        spin_barrier(r);   /* the checker's turn */
    }
    return NULL;
}

/* Each round: a waiter blocks on j, k while an element is pushed to one
 * of them at the same moment. The element must end with the waiter, or
 * the waiter must have popped it at once: a waiter left blocked beside
 * a non-empty list is a lost wake-up (the invariant checker says so). */
static void test_lost_wakeup_race(void **st)
{
    static const char *const jk[] = {"j", "k"};
    struct race r = {.c = mk(2, 0, CACHE_ALLKEYS_LRU), .iters = 100000};
    pthread_t th;
    pthread_create(&th, NULL, race_pusher, &r);
    for (int i = 0; i < r.iters; i++) {
        struct tw t;
        spin_barrier(&r);
        int rc = block_on(r.c, &t, jk, 2, CACHE_LIST_HEAD, 1, NULL, 0);
        spin_barrier(&r);   /* the push is done */
        if (cache__check_invariants(r.c) != 0)
            atomic_fetch_add(&r.lost, 1);
        if (rc == CACHE_BLOCKED) {
            if (cache_bpop_cancel(r.c, t.h) != CACHE_OK) {
                assert_int_equal(atomic_load(&t.woken), 1);
                assert_string_equal(take(r.c, &t, 0) + 1, ":e");
            } else {
                uint64_t n1, n2;   /* not served: the element must not be there */
                cache_card(r.c, CACHE_TYPE_LIST, S("j"), 1, &n1);
                cache_card(r.c, CACHE_TYPE_LIST, S("k"), 1, &n2);
                if (n1 + n2)
                    atomic_fetch_add(&r.lost, 1);
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
        cmocka_unit_test(test_fifo),
        cmocka_unit_test(test_multi_key_and_count),
        cmocka_unit_test(test_cancel_and_giveback),
        cmocka_unit_test(test_blmove_chains),
        cmocka_unit_test(test_rename_serves),
        cmocka_unit_test(test_lost_wakeup_race),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
