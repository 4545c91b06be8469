/* Shared helpers for the cache tests. */
#ifndef MMCACHE_TEST_CACHE_UTIL_H
#define MMCACHE_TEST_CACHE_UTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "cache.h"
#include "cache_int.h"

/* The cache tests' one random source: xorshift64, reproducible. A file
 * may pick its own start with #define TEST_RNG_SEED before including
 * this; rnd_seed() restarts it. Context: the cmocka thread only (a
 * stress test's threads keep their own). */
#ifndef TEST_RNG_SEED
#define TEST_RNG_SEED 0x2545F4914F6CDD1Dull
#endif
static inline uint64_t *rnd_state(void)
{
    static uint64_t s = TEST_RNG_SEED;
    return &s;
}
static inline void rnd_seed(uint64_t seed)
{
    *rnd_state() = seed ? seed : TEST_RNG_SEED;   /* xorshift never leaves 0 */
}
/* list-max-listpack-size for the lists of c (the other limits default). */
static inline void set_list_fill(struct cache *c, int64_t fill)
{
    struct cache_type_limits l;
    cache_type_limits_default(&l);
    l.list_max_listpack_size = fill;
    cache_set_type_limits(c, &l);
}

static inline uint64_t rnd(void)
{
    uint64_t *s = rnd_state();
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static inline struct cache *mk(unsigned nshards, uint64_t maxmem,
                               enum cache_policy p)
{
    struct cache_opts o = {.nshards = nshards, .maxmemory = maxmem,
                           .policy = p, .seed = 12345};
    struct cache *c = cache_create(&o);
    assert_non_null(c);
    return c;
}

#define S(x) x, strlen(x)

static inline int set(struct cache *c, const char *k, const char *v, int64_t now)
{
    return cache_set(c, S(k), S(v), 0, 0, now, NULL, NULL);
}

static inline int set_ex(struct cache *c, const char *k, const char *v,
                         int64_t exp, int64_t now)
{
    return cache_set(c, S(k), S(v), 0, exp, now, NULL, NULL);
}

/* Returns a static copy of the value or NULL if missing. */
static inline const char *get(struct cache *c, const char *k, int64_t now)
{
    static struct cache_val v;
    static char buf[65536];
    int rc = cache_get(c, S(k), now, &v);
    if (rc == CACHE_NOTFOUND)
        return NULL;
    assert_int_equal(rc, CACHE_OK);
    assert_true(v.len < sizeof(buf));
    memcpy(buf, v.data, v.len);
    buf[v.len] = 0;
    return buf;
}

#define ASSERT_INV(c) assert_int_equal(cache__check_invariants(c), 0)

static inline uint64_t used(struct cache *c)
{
    struct cache_stats st;
    cache_stats(c, &st);
    return st.used_memory;
}

#endif
