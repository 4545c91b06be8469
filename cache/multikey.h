/*
 * multikey.h: the commands on several keys (setmulti.c, zsetmulti.c,
 * bitmulti.c, lcs.c, the blocking pops' requests) lock their keys' shards
 * together through multikey.c.
 */
#ifndef MMCACHE_MULTIKEY_H
#define MMCACHE_MULTIKEY_H

#include "cache_int.h"

/* ---- multikey.c: the shards of several keys, locked together --------------
 * The shard ids of the keys, sorted and de-duplicated: locking them in
 * that order is the lock order (docs/locking.md), for any number of keys.
 * Multi-key writes never evict while holding them: unlock, evict one shard
 * at a time (cache__evict_others), retry. */
#define CACHE__MLOCK_SMALL CACHE_MLOCK_SMALL   /* struct cache_mlock: cache.h */
/* CACHE_OK or CACHE_E_NOMEM (nothing to free then). */
int cache__mlock_init(struct cache *c, struct cache_mlock *m, const uint64_t *hash,
                      size_t n);
void cache__mlock_free(struct cache_mlock *m);
/* m->ids[0..m->n) sorted and de-duplicated in place (m->n shrinks). */
void cache__mlock_sort(struct cache_mlock *m);
/* The hashes of keys[0..n) and, with dst, of dst after them (n + 1): one
 * malloc'd array for cache__mlock_init, or NULL (ENOMEM). */
uint64_t *cache__hash_keys(struct cache *c, const struct cache_str *keys, size_t n,
                           const char *dst, size_t dlen);
void cache__mlock_lock(struct cache *c, const struct cache_mlock *m);
void cache__mlock_unlock(struct cache *c, const struct cache_mlock *m);
/* A multi-key command with these locks: attempt() runs with every shard
 * of m locked and sv begun on them (a STORE serves its destination's
 * blocked clients through it); after the unlock the wakes go out and
 * done() drops what the attempt built. An attempt that returns
 * CACHE__AGAIN (over maxmemory, *need bytes) runs again after evicting one
 * shard at a time, at most CACHE_EVICT_TRIES times (then CACHE_E_OOM).
 * Context: no shard lock held. */
struct cache__serve;
typedef int cache__mlock_attempt_fn(void *arg, struct cache__serve *sv, int64_t *need);
int cache__mlock_run(struct cache *c, const struct cache_mlock *m, int64_t now,
                     cache__mlock_attempt_fn *attempt, void (*done)(void *arg), void *arg);

#endif
