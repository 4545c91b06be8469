/*
 * cache.c: creation, limits, stats and whole-keyspace operations.
 *
 * The operation files: strops.c (the string type), t_hash.c (hashes),
 * keyops.c (DEL, EXISTS, TYPE, ... on any type), expire.c (TTLs, active
 * expiry), multikey.c (RENAME, COPY, MSET), scan.c (SCAN, KEYS,
 * RANDOMKEY). Internals: shard.c, table.c, lru.c, evict.c, object.c (the
 * value model), lazyfree.c, listpack.c, intset.c.
 */
#include <errno.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "cache_int.h"

#define MEM_BATCH_MAX (64 * 1024)

static int64_t mem_batch_for(uint64_t maxmemory, unsigned nshards)
{
    if (maxmemory == 0)
        return MEM_BATCH_MAX;
    uint64_t b = maxmemory / ((uint64_t)nshards * 64);
    return b > MEM_BATCH_MAX ? MEM_BATCH_MAX : (int64_t)b;
}

static uint64_t random_seed(void)
{
    uint64_t seed = 0;
    size_t got = 0;

    while (got < sizeof(seed)) {
        ssize_t r = getrandom((char *)&seed + got, sizeof(seed) - got, 0);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        got += (size_t)r;
    }
    return seed ? seed : 0x9E3779B97F4A7C15ull ^ (uint64_t)(uintptr_t)&seed;
}

struct cache *cache_create(const struct cache_opts *o)
{
    struct cache *c;
    unsigned bits = 0;

    if (!o || o->nshards == 0 || o->nshards > 65536 ||
        (o->nshards & (o->nshards - 1)) != 0 || o->policy > CACHE_VOLATILE_TTL) {
        errno = EINVAL;
        return NULL;
    }
    while ((1u << bits) < o->nshards)
        bits++;
    c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    if (posix_memalign((void **)&c->shards, 64,
                       sizeof(struct shard) * o->nshards) != 0) {
        free(c);
        errno = ENOMEM;
        return NULL;
    }
    memset(c->shards, 0, sizeof(struct shard) * o->nshards);
    c->nshards = o->nshards;
    c->shard_bits = bits;
    c->seed = o->seed ? o->seed : random_seed();
    atomic_init(&c->maxmemory, o->maxmemory);
    atomic_init(&c->policy, (int)o->policy);
    atomic_init(&c->mem_batch, mem_batch_for(o->maxmemory, o->nshards));
    atomic_init(&c->mem_global, 0);
    cache_set_lfu(c, 10, 1, 5);   /* Redis's defaults */
    struct cache_type_limits lim;
    cache_type_limits_default(&lim);
    cache_set_type_limits(c, &lim);
    if (cache__lazy_init(c) != 0) {
        free(c->shards);
        free(c);
        errno = ENOMEM;
        return NULL;
    }
    /* Adaptive: a contended shard lock spins briefly before sleeping.
     * Critical sections are a lookup and a copy, so the holder is usually
     * done within the spin, and the waiter saves two futex calls (measured:
     * MSET from two workers made one futex call per 6 requests). */
    pthread_mutexattr_t attr;
    pthread_mutexattr_init(&attr);
    pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_ADAPTIVE_NP);
    /* Control 16 (RWMutex read during write): the shard lock becomes a
     * reader-writer lock, used correctly: pure reads (KEYS, SCAN, a GET
     * that needs no LRU move) share it, everything that writes (a GET's
     * LRU move included) takes it exclusively. Chosen here, once, from the
     * creating thread's selection: every thread must agree on the kind. */
    bool rw = INJECT(16);
    pthread_rwlockattr_t rwattr;
    pthread_rwlockattr_init(&rwattr);
    /* Writers first: a stream of KEYS must not starve SETs. */
    pthread_rwlockattr_setkind_np(&rwattr,
                                  PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    for (unsigned i = 0; i < c->nshards; i++) {
        struct shard *s = &c->shards[i];
        s->rw = rw;
        if (rw)
            pthread_rwlock_init(&s->rwlock, &rwattr);
        else
            pthread_mutex_init(&s->lock, &attr);
        s->c = c;
        s->id = i;
        cache__shard_lock(s);
        int rc = cache__table_init_locked(s);
        cache__shard_unlock(s);
        if (rc != 0) {
            pthread_mutexattr_destroy(&attr);
            pthread_rwlockattr_destroy(&rwattr);
            c->nshards = i + 1;
            cache_destroy(c);
            errno = ENOMEM;
            return NULL;
        }
    }
    pthread_mutexattr_destroy(&attr);
    pthread_rwlockattr_destroy(&rwattr);
    return c;
}

void cache_destroy(struct cache *c)
{
    if (!c)
        return;
    for (unsigned i = 0; i < c->nshards; i++) {
        struct shard *s = &c->shards[i];
        cache__shard_lock(s);
        cache__shard_clear_locked(s);
        cache__table_free_locked(s);
        cache__blocking_free_locked(s);
        cache__shard_unlock(s);
        if (s->rw)
            pthread_rwlock_destroy(&s->rwlock);
        else
            pthread_mutex_destroy(&s->lock);
    }
    cache__lazy_stop(c);                /* after the last hand-over */
    cache_keys_free(&c->keys_shared);   /* bug 8's buffer, if it ran */
    free(c->shards);
    free(c);
}

unsigned cache_nshards(const struct cache *c)
{
    return c->nshards;
}

/* Context: any thread (config reload); takes each shard lock in turn. */
void cache_set_limits(struct cache *c, uint64_t maxmemory,
                      enum cache_policy policy, int64_t now)
{
    atomic_store_explicit(&c->policy, (int)policy, memory_order_relaxed);
    atomic_store_explicit(&c->mem_batch, mem_batch_for(maxmemory, c->nshards),
                          memory_order_relaxed);
    atomic_store_explicit(&c->maxmemory, maxmemory, memory_order_relaxed);
    /* Make the global estimate exact under the new, smaller batch. */
    for (unsigned i = 0; i < c->nshards; i++) {
        cache__shard_lock(&c->shards[i]);
        cache__mem_flush_locked(&c->shards[i]);
        cache__shard_unlock(&c->shards[i]);
    }
    if (maxmemory)
        (void)cache__evict_others(c, NULL, 0, now);
}

uint64_t cache_dbsize(struct cache *c)
{
    uint64_t n = 0;
    for (unsigned i = 0; i < c->nshards; i++)
        n += RLX_LOAD(c->shards[i].count);
    return n;
}

/* FLUSHALL ASYNC, one shard, in O(1) under its lock: the whole LRU list
 * (every item) leaves as one chain for the lazy-free thread, the arrays
 * are freed here. The items' bytes are the shard's exact total less its
 * arrays, so nothing is walked. */
static void flush_async_locked(struct shard *s, struct item **head,
                               uint64_t *n, uint64_t *bytes)
{
    uint64_t items = RLX_LOAD(s->count);
    uint64_t mem = RLX_LOAD(s->mem) - s->kt.bucket_bytes -
                   (s->ttl ? malloc_usable_size(s->ttl) : 0);

    *head = s->lru_head;
    *n = items;
    *bytes = mem;
    s->lru_head = s->lru_tail = NULL;
    RLX_STORE(s->count, 0);
    cache__mem_add_locked(s, -(int64_t)mem);
    cache__ttl_free_locked(s);
    cache__table_free_locked(s);
    (void)cache__table_init_locked(s);   /* ENOMEM: stays size 0, grows on add */
}

void cache_flush(struct cache *c, int async)
{
    for (unsigned i = 0; i < c->nshards; i++) {
        struct shard *s = &c->shards[i];
        struct item *head = NULL;
        uint64_t n = 0, bytes = 0;
        cache__shard_lock(s);
        cache__watch_flush_locked(s);   /* before the keys go */
        if (async)
            flush_async_locked(s, &head, &n, &bytes);
        else
            cache__shard_clear_locked(s);
        cache__mem_flush_locked(s);
        cache__shard_unlock(s);
        cache__lazy_hand_chain(c, head, n, bytes);
    }
}

void cache_type_limits_default(struct cache_type_limits *l)
{
    l->hash_max_listpack_entries = 128;
    l->hash_max_listpack_value = 64;
    l->set_max_intset_entries = 512;
    l->set_max_listpack_entries = 128;
    l->set_max_listpack_value = 64;
    l->list_max_listpack_size = -2;
    l->zset_max_listpack_entries = 128;
    l->zset_max_listpack_value = 64;
}

void cache_set_type_limits(struct cache *c, const struct cache_type_limits *l)
{
    atomic_store_explicit(&c->hash_lp_entries, l->hash_max_listpack_entries, memory_order_relaxed);
    atomic_store_explicit(&c->hash_lp_value, l->hash_max_listpack_value, memory_order_relaxed);
    atomic_store_explicit(&c->set_is_entries, l->set_max_intset_entries, memory_order_relaxed);
    atomic_store_explicit(&c->set_lp_entries, l->set_max_listpack_entries, memory_order_relaxed);
    atomic_store_explicit(&c->set_lp_value, l->set_max_listpack_value, memory_order_relaxed);
    atomic_store_explicit(&c->list_lp_size, l->list_max_listpack_size, memory_order_relaxed);
    atomic_store_explicit(&c->zset_lp_entries, l->zset_max_listpack_entries, memory_order_relaxed);
    atomic_store_explicit(&c->zset_lp_value, l->zset_max_listpack_value, memory_order_relaxed);
}

void cache_stats(struct cache *c, struct cache_stats *st)
{
    memset(st, 0, sizeof(*st));
    for (unsigned i = 0; i < c->nshards; i++) {
        const struct shard *s = &c->shards[i];
        st->keys += RLX_LOAD(s->count);
        st->expires += RLX_LOAD(s->nttl);
        st->used_memory += RLX_LOAD(s->mem);
        st->evicted_keys += RLX_LOAD(s->evicted);
        st->expired_keys += RLX_LOAD(s->expired);
        st->lock_waits += RLX_LOAD(s->lock_waits);
    }
    st->maxmemory = atomic_load_explicit(&c->maxmemory, memory_order_relaxed);
    st->lazyfree_pending = atomic_load_explicit(&c->lazy_pending, memory_order_relaxed);
    st->lazyfree_pending_bytes = atomic_load_explicit(&c->lazy_pending_bytes,
                                                      memory_order_relaxed);
    st->lazyfreed = atomic_load_explicit(&c->lazy_freed, memory_order_relaxed);
}

static int shard_wait_cmp(const void *pa, const void *pb)
{
    const struct cache_shard_wait *a = pa, *b = pb;

    if (a->wait_ns != b->wait_ns)
        return a->wait_ns > b->wait_ns ? -1 : 1;
    if (a->waits != b->waits)
        return a->waits > b->waits ? -1 : 1;
    return a->shard < b->shard ? -1 : a->shard > b->shard;
}

void cache_lock_wait_rank(struct cache_shard_wait *top, size_t *n, size_t max,
                          struct cache_shard_wait cand)
{
    size_t i = *n;

    if (i == max) {   /* full: cand must beat the last to get in */
        if (max == 0 || shard_wait_cmp(&cand, &top[max - 1]) >= 0)
            return;
        i--;
    } else {
        (*n)++;
    }
    for (; i > 0 && shard_wait_cmp(&cand, &top[i - 1]) < 0; i--)
        top[i] = top[i - 1];
    top[i] = cand;
}

static struct cache_shard_wait shard_wait_read(const struct cache *c, unsigned i)
{
    const struct shard *s = &c->shards[i];

    return (struct cache_shard_wait){ .shard = i, .waits = RLX_LOAD(s->lock_waits),
                                      .wait_ns = RLX_LOAD(s->lock_wait_ns) };
}

void cache_lock_wait_read(struct cache *c, struct cache_shard_wait *all)
{
    for (unsigned i = 0; i < c->nshards; i++)
        all[i] = shard_wait_read(c, i);
}

/* A counter less its baseline; 0, not a wrap, should a baseline ever be
 * ahead (it cannot: each counter only grows). */
static uint64_t since(uint64_t v, uint64_t base)
{
    return v >= base ? v - base : 0;
}

size_t cache_lock_wait_top(struct cache *c, const struct cache_shard_wait *base,
                           struct cache_shard_wait *top, size_t max)
{
    size_t n = 0;

    for (unsigned i = 0; i < c->nshards; i++) {
        struct cache_shard_wait w = shard_wait_read(c, i);
        if (base != NULL) {
            w.waits = since(w.waits, base[i].waits);
            w.wait_ns = since(w.wait_ns, base[i].wait_ns);
        }
        cache_lock_wait_rank(top, &n, max, w);
    }
    return n;
}

const char *cache_keys_next(const struct cache_keys *k, size_t *pos,
                            size_t *klen)
{
    uint32_t l32;

    if (*pos + sizeof(l32) > k->len)
        return NULL;
    memcpy(&l32, k->buf + *pos, sizeof(l32));
    const char *key = k->buf + *pos + sizeof(l32);
    if (l32 == CACHE_KEYS_NIL) {
        *pos += sizeof(l32);
        *klen = CACHE_KEYS_NIL;
        return key;
    }
    *pos += sizeof(l32) + l32;
    *klen = l32;
    return key;
}

void cache_keys_free(struct cache_keys *k)
{
    free(k->buf);
    memset(k, 0, sizeof(*k));
}
