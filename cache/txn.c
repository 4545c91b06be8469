/*
 * txn.c: a transaction's shard locks (cache_txn_lock / cache_txn_unlock).
 *
 * EXEC, and every multi-key or writing command outside one, locks the
 * shards of all the keys it declares at once, in ascending index order
 * (docs/locking.md, "Transactions"), then runs ordinary cache calls. Those
 * calls lock and unlock their own shards as always; on this thread a
 * shard of the open transaction is already held, so its "lock" only marks
 * it taken by the call (inner[i]) and its "unlock" clears that: the real
 * locks are released once, at cache_txn_unlock. A second lock of a shard
 * a call already took is real (and hangs, as a non-recursive mutex must:
 * bug 17's site still deadlocks inside a transaction).
 */
#include <stdlib.h>

#include "cache_int.h"
#include "multikey.h"

_Thread_local struct cache_txn *cache__txn_cur;   /* owned by: its thread */

/* Index of s in t's sorted ids, or -1. */
static long slot_of(const struct cache_txn *t, unsigned id)
{
    size_t lo = 0, hi = t->m.n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (t->m.ids[mid] == id)
            return (long)mid;
        if (t->m.ids[mid] < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

bool cache__txn_holds(const struct shard *s)
{
    return cache__txn_cur != NULL && slot_of(cache__txn_cur, s->id) >= 0;
}

bool cache__txn_enter(const struct shard *s)
{
    struct cache_txn *t = cache__txn_cur;
    long i = slot_of(t, s->id);

    if (i < 0 || t->inner[i])
        return false;
    t->inner[i] = 1;
    return true;
}

bool cache__txn_leave(const struct shard *s)
{
    struct cache_txn *t = cache__txn_cur;
    long i = slot_of(t, s->id);

    if (i < 0 || !t->inner[i])
        return false;
    t->inner[i] = 0;
    return true;
}

static void txn_free(struct cache_txn *t)
{
    if (t->inner != t->small_inner)
        free(t->inner);
    t->inner = NULL;
    cache__mlock_free(&t->m);
}

int cache_txn_lock(struct cache *c, struct cache_txn *t, const struct cache_str *keys,
                   size_t n, int all)
{
    size_t cap = all ? c->nshards : n;

    assert(cache__txn_cur == NULL);
    t->m.ids = cap <= CACHE__MLOCK_SMALL ? t->m.small : malloc(cap * sizeof(*t->m.ids));
    t->inner = cap <= CACHE__MLOCK_SMALL ? t->small_inner : calloc(cap ? cap : 1, 1);
    if (t->m.ids == NULL || t->inner == NULL) {
        if (t->inner != t->small_inner)
            free(t->inner);
        t->inner = NULL;
        if (t->m.ids != t->m.small)
            free(t->m.ids);
        return CACHE_E_NOMEM;
    }
    for (size_t i = 0; i < cap; i++)
        t->m.ids[i] = all ? (unsigned)i : cache__shard_of(c, cache__hash(c, keys[i].s,
                                                                         keys[i].len))->id;
    t->m.n = cap;
    if (!all && cap > 1)   /* one key: one shard, in order already */
        cache__mlock_sort(&t->m);
    for (size_t i = 0; i < t->m.n; i++)
        t->inner[i] = 0;
    t->wakes = t->moves = NULL;
    t->wakes_tail = &t->wakes;
    t->moves_tail = &t->moves;
    cache__mlock_lock(c, &t->m);   /* for real: no transaction open yet */
    cache__txn_cur = t;
    return CACHE_OK;
}

void cache_txn_unlock(struct cache *c, struct cache_txn *t, int64_t now)
{
    struct cache__serve sv;

    assert(cache__txn_cur == t);
    cache__txn_cur = NULL;
    cache__mlock_unlock(c, &t->m);   /* the last unlock frees deferred values */
    txn_free(t);
    if (t->wakes == NULL && t->moves == NULL)
        return;
    /* What the calls inside served: moves into shards not held, then the
     * wakes, with no lock held, as cache__serve_end always does. */
    cache__serve_begin(&sv, NULL, 0);
    sv.wakes = t->wakes;
    sv.wakes_tail = t->wakes != NULL ? t->wakes_tail : &sv.wakes;
    sv.moves = t->moves;
    sv.moves_tail = t->moves != NULL ? t->moves_tail : &sv.moves;
    cache__serve_end(c, &sv, now);
}
