/*
 * debug.c: cache__check_invariants(), the structural check that the tests
 * (property, stress) run after operations.
 */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>

#include "cache_int.h"

#define FAIL(...) do { fprintf(stderr, "cache invariant: " __VA_ARGS__); \
                       fputc('\n', stderr); return -1; } while (0)

static int check_shard_locked(struct cache *c, struct shard *s)
{
    uint64_t in_tables = 0, in_lru = 0, with_ttl = 0, mem = 0;
    uint64_t count = RLX_LOAD(s->count), nttl = RLX_LOAD(s->nttl);
    char why[160];

    /* Tables: every item hashes to this shard and to its bucket. */
    const struct cache__ctable *kt = &s->kt;
    for (int t = 0; t < 2; t++) {
        const struct cache__tab *tb = &kt->ht[t];
        uint64_t used = 0;
        if (t == 1 && kt->rehashidx < 0) {
            if (tb->b || tb->used)
                FAIL("shard %u: ht[1] set while not rehashing", s->id);
            continue;
        }
        if (!tb->b)
            continue;
        mem += malloc_usable_size(tb->b);
        for (uint64_t i = 0; i <= tb->mask; i++) {
            if (t == 0 && kt->rehashidx >= 0 && (int64_t)i < kt->rehashidx &&
                tb->b[i])
                FAIL("shard %u: rehashed bucket %lu not empty", s->id,
                     (unsigned long)i);
            for (struct cache__tnode *n = tb->b[i]; n; n = n->tnext) {
                struct item *it = cache__item_of(n);
                size_t klen = item_klen(it);
                uint64_t h = cache__hash(c, item_key(it), klen);
                if ((item_hash(it) & tb->mask) != i)
                    FAIL("shard %u: item in wrong bucket", s->id);
                if (cache__shard_of(c, h) != s)
                    FAIL("shard %u: item of another shard", s->id);
                if ((uint32_t)h != item_hash(it))
                    FAIL("shard %u: stale hash", s->id);
                if ((klen < ITEM_KLEN_LONG) != (it->klen8 < ITEM_KLEN_LONG))
                    FAIL("shard %u: key length encoded wrong", s->id);
                if (cache__table_find_locked(s, h, item_key(it), klen) != it)
                    FAIL("shard %u: duplicate key", s->id);
                used++;
                mem += cache__item_size(it);
                with_ttl += it->has_ttl;
                if (cache__item_check(it) != 0)
                    FAIL("shard %u: value of key '%.*s' (type %d, encoding %d) broken",
                         s->id, (int)(klen > 64 ? 64 : klen), item_key(it),
                         (int)it->type, (int)it->enc);
            }
        }
        if (used != tb->used)
            FAIL("shard %u: ht[%d].used %lu, counted %lu", s->id, t,
                 (unsigned long)tb->used, (unsigned long)used);
        in_tables += used;
    }
    if (kt->bucket_bytes != (kt->ht[0].b ? malloc_usable_size(kt->ht[0].b) : 0) +
                            (kt->ht[1].b ? malloc_usable_size(kt->ht[1].b) : 0))
        FAIL("shard %u: bucket_bytes wrong", s->id);
    /* LRU: a proper doubly linked list holding exactly the table's items
     * (each found by its key, so each table item is in it exactly once). */
    struct item *prev = NULL;
    for (struct item *it = s->lru_head; it; prev = it, it = it->next) {
        if (it->prev != prev)
            FAIL("shard %u: LRU prev link broken", s->id);
        if (cache__table_find_locked(s, item_hash(it), item_key(it), item_klen(it)) != it)
            FAIL("shard %u: LRU item not in table", s->id);
        if (++in_lru > in_tables)
            FAIL("shard %u: LRU longer than table (cycle?)", s->id);
    }
    if (s->lru_tail != prev)
        FAIL("shard %u: LRU tail wrong", s->id);
    if (in_lru != in_tables || count != in_tables)
        FAIL("shard %u: count %lu, table %lu, lru %lu", s->id,
             (unsigned long)count, (unsigned long)in_tables,
             (unsigned long)in_lru);
    if (with_ttl != nttl)
        FAIL("shard %u: nttl %lu, counted %lu", s->id, (unsigned long)nttl,
             (unsigned long)with_ttl);
    if (cache__ttl_check_locked(s, why, sizeof(why)) != 0)
        FAIL("shard %u: %s", s->id, why);
    if (s->ttl)
        mem += malloc_usable_size(s->ttl);
    if (cache__blocking_check_locked(s, why, sizeof(why)) != 0)
        FAIL("shard %u: %s", s->id, why);
    if (mem != RLX_LOAD(s->mem))
        FAIL("shard %u: mem %lu, counted %lu", s->id,
             (unsigned long)RLX_LOAD(s->mem), (unsigned long)mem);
    return 0;
}

int cache__check_invariants(struct cache *c)
{
    int64_t flushed = 0;

    for (unsigned i = 0; i < c->nshards; i++) {
        struct shard *s = &c->shards[i];
        cache__shard_lock(s);
        int rc = check_shard_locked(c, s);
        flushed += s->mem_flushed;
        cache__shard_unlock(s);
        if (rc)
            return rc;
    }
    /* Only exact when no writer runs concurrently (tests call it so). */
    if (flushed != atomic_load_explicit(&c->mem_global, memory_order_relaxed))
        FAIL("mem_global %ld != sum of flushed %ld",
             (long)atomic_load_explicit(&c->mem_global, memory_order_relaxed),
             (long)flushed);
    return 0;
}
