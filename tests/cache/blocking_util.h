/*
 * Helpers of the cache's blocking pop tests (test_blocking.c,
 * test_zset_blocking.c): a waiter whose wake records its order and checks
 * that no shard lock is held, blocking one, and its outcome as text
 * ("key:elem elem"; a sorted set's "key:member=score"). Include after
 * test_util.h.
 */
#ifndef MMCACHE_TEST_BLOCKING_UTIL_H
#define MMCACHE_TEST_BLOCKING_UTIL_H

#include <pthread.h>
#include <stdatomic.h>

/* A test waiter: its wake records the order it came in. */
struct tw {
    struct cache *c;
    struct cache_bpop *h;
    atomic_int woken;
    int order;
    int zset;            /* a sorted set pop: its outcome has scores */
};
static atomic_int wake_seq;
static struct cache *locks_of;   /* the cache whose shards the wake probes */

static __attribute__((unused)) void tw_wake(void *arg)
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

static __attribute__((unused)) int block_on_kind(struct cache *c, struct tw *t,
                                                 const char *const *keys, size_t n, int from,
                                                 uint64_t count, const char *dst, int to,
                                                 int zset)
{
    struct cache_str k[8];
    struct cache_keys out = {0};
    for (size_t i = 0; i < n; i++) {
        k[i].s = keys[i];
        k[i].len = strlen(keys[i]);
    }
    struct cache_bpop_req r = {.keys = k, .nkeys = n, .from = from, .count = count,
                               .dst = dst, .dlen = dst ? strlen(dst) : 0, .to = to,
                               .wake = tw_wake, .arg = t, .zset = zset};
    memset(t, 0, sizeof(*t));
    t->c = c;
    t->zset = zset;
    int rc = cache_bpop(c, &r, 1, &out, &t->h);
    cache_keys_free(&out);
    return rc;
}

/* A list wait (BLPOP, BLMPOP, BLMOVE). */
static __attribute__((unused)) int block_on(struct cache *c, struct tw *t,
                                            const char *const *keys, size_t n, int from,
                                            uint64_t count, const char *dst, int to)
{
    return block_on_kind(c, t, keys, n, from, count, dst, to, 0);
}

/* The outcome of a served wait as "key:elem elem" (or "elem" for a move). */
static __attribute__((unused)) const char *take(struct cache *c, struct tw *t, int giveback)
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
    for (int i = 0; (s = cache_keys_next(&out, &pos, &len)) != NULL; i++) {
        if (t->zset && i > 0 && i % 2 == 0)   /* a score record */
            used += (size_t)snprintf(buf + used, sizeof(buf) - used, "=%g",
                                     cache_keys_score(s));
        else
            used += (size_t)snprintf(buf + used, sizeof(buf) - used, "%s%.*s",
                                     i == 0 ? "" : i == 1 ? ":" : " ", (int)len, s);
    }
    cache_keys_free(&out);
    return buf;
}

#endif
