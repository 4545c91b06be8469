/*
 * watch.c: WATCHed keys (docs/locking.md, "Transactions").
 *
 * Each shard keeps a list of the watches on its keys, guarded by its lock.
 * A write to a watched key happens under a transaction's lock of the key's
 * shard (the server runs every writing command as one), which then calls
 * cache_watch_touch under that same lock: the watcher's dirty flag is set
 * before any later holder of the lock can look at it, so EXEC, which
 * checks it holding every watched key's shard, never misses a write that
 * came before it and never sees one that comes after. Changes no command
 * makes (expiry, eviction, a read-through load) are found by comparing
 * the key's existence with what it was when watched.
 */
#include <stdlib.h>
#include <string.h>

#include "cache_int.h"

struct cache_watch *cache_watch_new(struct cache *c, const char *key, size_t klen,
                                    _Atomic bool *dirty)
{
    struct cache_watch *w = malloc(sizeof(*w) + klen);

    if (w == NULL)
        return NULL;
    w->wnext = NULL;
    w->dirty = dirty;
    w->hash = cache__hash(c, key, klen);
    w->existed = false;
    w->klen = klen;
    memcpy(w->key, key, klen);
    return w;
}

void cache_watch_add(struct cache *c, struct cache_watch *w, int64_t now)
{
    struct shard *s = cache__shard_of(c, w->hash);

    cache__shard_lock(s);
    w->existed = cache__lookup_locked(s, w->hash, w->key, w->klen, now) != NULL;
    w->wnext = s->watches;
    s->watches = w;
    atomic_fetch_add_explicit(&c->nwatches, 1, memory_order_relaxed);
    cache__shard_unlock(s);
}

void cache_watch_del(struct cache *c, struct cache_watch *w)
{
    struct shard *s = cache__shard_of(c, w->hash);

    cache__shard_lock(s);
    for (struct cache_watch **p = &s->watches; *p; p = &(*p)->wnext)
        if (*p == w) {
            *p = w->wnext;
            atomic_fetch_sub_explicit(&c->nwatches, 1, memory_order_relaxed);
            break;
        }
    cache__shard_unlock(s);
}

bool cache_watch_stale(struct cache *c, const struct cache_watch *w, int64_t now)
{
    struct shard *s = cache__shard_of(c, w->hash);
    bool exists;

    assert(cache__txn_holds(s));
    cache__shard_lock(s);
    exists = cache__lookup_locked(s, w->hash, w->key, w->klen, now) != NULL;
    cache__shard_unlock(s);
    return exists != w->existed;
}

void cache_watch_touch(struct cache *c, const char *key, size_t klen)
{
    if (atomic_load_explicit(&c->nwatches, memory_order_relaxed) == 0)
        return;   /* nothing watched before our lock (struct cache) */

    uint64_t h = cache__hash(c, key, klen);
    struct shard *s = cache__shard_of(c, h);

    assert(cache__txn_holds(s));
    cache__shard_lock(s);
    for (struct cache_watch *w = s->watches; w; w = w->wnext)
        if (w->hash == h && cache__same_key(w->key, w->klen, key, klen))
            atomic_store_explicit(w->dirty, true, memory_order_relaxed);
    cache__shard_unlock(s);
}

/* As Redis's touchAllWatchedKeysInDb: only keys that exist are changed by
 * the flush (an expired one not yet reaped still counts, as there). */
void cache__watch_flush_locked(struct shard *s)
{
    ASSERT_LOCKED(s);
    for (struct cache_watch *w = s->watches; w; w = w->wnext)
        if (cache__table_find_locked(s, w->hash, w->key, w->klen))
            atomic_store_explicit(w->dirty, true, memory_order_relaxed);
}
