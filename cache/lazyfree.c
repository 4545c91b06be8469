/*
 * lazyfree.c: freeing large values without stalling anyone else.
 *
 * A value that takes many allocations to free (a hash of a million
 * fields) is never freed while a shard lock is held. A delete under the
 * lock (DEL, an overwrite, expiry, eviction, FLUSHALL) unlinks the item,
 * takes its bytes out of the shard's accounting at once, and hands it to
 * cache__item_release_locked(), which:
 *
 *  - frees it on the spot when it is small (at most CACHE__LAZYFREE_EFFORT
 *    allocations: cheaper than any hand-over);
 *  - otherwise puts it on one of two lists owned by the calling thread:
 *    "sync" (the thread frees it itself) or "async" (the lazy-free thread
 *    frees it), by the kind of delete and the lazyfree-lazy-* settings.
 *
 * The lists are drained when the thread releases its last shard lock
 * (cache__shard_unlock counts the locks a thread holds), so whichever way
 * a big value goes, no other client waiting for that shard waits for the
 * free: with "sync" only the deleting thread (a worker: its own clients)
 * pays, as in Redis with the lazyfree settings off, where every client
 * would pay.
 *
 * The lazy-free thread is started on first use and owns a queue of
 * chains: each entry is an item heading a chain linked through `next`
 * (one item for a DEL, a whole shard's LRU list for FLUSHALL ASYNC).
 * Queue links go through the item's node.tnext (free once unlinked).
 *
 * Accounting: used_memory drops at hand-over (the bytes leave the shard
 * when the key leaves the keyspace); what the thread has yet to free is
 * counted in lazy_pending / lazy_pending_bytes (INFO: lazyfree_pending_
 * objects) until it is freed. Rationale and the bound: docs/types.md.
 *
 * Lock order: the queue lock is a leaf, and it is never taken while a
 * shard lock is held (the hand-over happens at the last unlock).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cache_int.h"

/* Exclusive shard locks this thread holds, and what it must free once it
 * holds none. owned by: each thread (thread-local). */
static _Thread_local unsigned lock_depth;
static _Thread_local struct item *defer_sync;     /* chain via node.tnext */
static _Thread_local struct item *defer_async;    /* chain via node.tnext */
static _Thread_local struct cache *defer_cache;   /* whose lazy-free thread */

void cache__lock_depth_inc(void)
{
    lock_depth++;
}

/* Context: called by cache__shard_unlock after the unlock. */
void cache__lock_depth_dec(void)
{
    assert(lock_depth > 0);
    if (--lock_depth == 0 && (defer_sync || defer_async))
        cache__lazy_drain();
}

static bool lazy_for(struct cache *c, enum cache__why why)
{
    unsigned f = atomic_load_explicit(&c->lazy_flags, memory_order_relaxed);

    switch (why) {
    case CACHE__WHY_UNLINK:
    case CACHE__WHY_FLUSH_ASYNC: return true;
    case CACHE__WHY_USER_DEL: return f & CACHE_LAZY_USER_DEL;
    case CACHE__WHY_SERVER_DEL: return f & CACHE_LAZY_SERVER_DEL;
    case CACHE__WHY_EXPIRE: return f & CACHE_LAZY_EXPIRE;
    case CACHE__WHY_EVICT: return f & CACHE_LAZY_EVICTION;
    case CACHE__WHY_FLUSH_SYNC: return false;
    }
    return false;
}

static void enqueue(struct cache *c, struct item *head, uint64_t n, uint64_t bytes);

void cache__item_release_locked(struct shard *s, struct item *it,
                                enum cache__why why)
{
    if (cache__item_effort(it) <= CACHE__LAZYFREE_EFFORT) {
        cache__item_destroy(it);
        return;
    }
    bool lazy = lazy_for(s->c, why);
    if (lock_depth == 0) {
        /* No lock to wait for (a path that runs unlocked, e.g. bug 3's
         * SET): hand over or free right here. */
        if (lazy) {
            it->next = NULL;
            enqueue(s->c, it, 1, cache__item_size(it));
        } else {
            cache__item_destroy(it);
        }
        return;
    }
    assert(defer_cache == NULL || defer_cache == s->c);
    defer_cache = s->c;
    struct item **list = lazy ? &defer_async : &defer_sync;
    it->node.tnext = *list ? &(*list)->node : NULL;
    *list = it;
}

void cache__lazy_drain(void)
{
    struct item *it, *next;
    struct cache *c = defer_cache;

    for (it = defer_sync, defer_sync = NULL; it; it = next) {
        next = it->node.tnext ? cache__item_of(it->node.tnext) : NULL;
        cache__item_destroy(it);
    }
    for (it = defer_async, defer_async = NULL; it; it = next) {
        next = it->node.tnext ? cache__item_of(it->node.tnext) : NULL;
        it->next = NULL;
        enqueue(c, it, 1, cache__item_size(it));
    }
    defer_cache = NULL;
}

/* ---- the lazy-free thread ------------------------------------------------ */

static void free_chain(struct cache *c, struct item *it)
{
    while (it) {
        struct item *next = it->next;
        uint64_t bytes = cache__item_size(it);
        cache__item_destroy(it);
        atomic_fetch_sub_explicit(&c->lazy_pending, 1, memory_order_relaxed);
        atomic_fetch_sub_explicit(&c->lazy_pending_bytes, bytes, memory_order_relaxed);
        atomic_fetch_add_explicit(&c->lazy_freed, 1, memory_order_relaxed);
        it = next;
    }
}

static void *lazy_main(void *arg)
{
    struct cache *c = arg;

    pthread_mutex_lock(&c->lazy_lock);
    for (;;) {
        while (!c->lazy_head && !c->lazy_stop)
            pthread_cond_wait(&c->lazy_cond, &c->lazy_lock);
        struct item *head = c->lazy_head;
        if (!head)
            break;   /* stopping, and nothing left */
        c->lazy_head = head->node.tnext ? cache__item_of(head->node.tnext) : NULL;
        pthread_mutex_unlock(&c->lazy_lock);
        free_chain(c, head);
        pthread_mutex_lock(&c->lazy_lock);
    }
    pthread_mutex_unlock(&c->lazy_lock);
    return NULL;
}

/* Hands a chain of n items (linked by ->next) of `bytes` bytes to the
 * thread, starting it on first use; frees here if it cannot start.
 * Context: no shard lock held (or an unlocked path). */
static void enqueue(struct cache *c, struct item *head, uint64_t n, uint64_t bytes)
{
    atomic_fetch_add_explicit(&c->lazy_pending, n, memory_order_relaxed);
    atomic_fetch_add_explicit(&c->lazy_pending_bytes, bytes, memory_order_relaxed);
    pthread_mutex_lock(&c->lazy_lock);
    if (!c->lazy_started && !c->lazy_stop) {
        if (pthread_create(&c->lazy_thread, NULL, lazy_main, c) == 0)
            c->lazy_started = true;
    }
    if (!c->lazy_started) {
        pthread_mutex_unlock(&c->lazy_lock);
        free_chain(c, head);
        return;
    }
    /* FIFO would need a tail pointer; the order of frees is unobservable
     * but for the pending counters, so push at the head. */
    head->node.tnext = c->lazy_head ? &c->lazy_head->node : NULL;
    c->lazy_head = head;
    pthread_cond_signal(&c->lazy_cond);
    pthread_mutex_unlock(&c->lazy_lock);
}

void cache__lazy_hand_chain(struct cache *c, struct item *head, uint64_t n,
                            uint64_t bytes)
{
    if (head)
        enqueue(c, head, n, bytes);
}

int cache__lazy_init(struct cache *c)
{
    c->lazy_head = NULL;
    c->lazy_started = c->lazy_stop = false;
    atomic_init(&c->lazy_flags, 0);
    atomic_init(&c->lazy_pending, 0);
    atomic_init(&c->lazy_pending_bytes, 0);
    atomic_init(&c->lazy_freed, 0);
    if (pthread_mutex_init(&c->lazy_lock, NULL) != 0)
        return -1;
    if (pthread_cond_init(&c->lazy_cond, NULL) != 0) {
        pthread_mutex_destroy(&c->lazy_lock);
        return -1;
    }
    return 0;
}

/* Context: no other thread uses c. Lets the thread free what is queued,
 * then joins it. */
void cache__lazy_stop(struct cache *c)
{
    pthread_mutex_lock(&c->lazy_lock);
    c->lazy_stop = true;
    bool started = c->lazy_started;
    pthread_cond_signal(&c->lazy_cond);
    pthread_mutex_unlock(&c->lazy_lock);
    if (started)
        pthread_join(c->lazy_thread, NULL);
    pthread_cond_destroy(&c->lazy_cond);
    pthread_mutex_destroy(&c->lazy_lock);
}

void cache_set_lazyfree(struct cache *c, unsigned flags)
{
    atomic_store_explicit(&c->lazy_flags, flags, memory_order_relaxed);
}
