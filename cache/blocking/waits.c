/*
 * waits.c: the wait lists of blocked clients (one FIFO of entries per key
 * in its shard's `bkeys` table, guarded by the shard lock), the claim that
 * ends a wait exactly once, cancelling, and the debug check that no
 * wake-up was lost. The design: blocking_int.h.
 */
#include <stdio.h>
#include <stdlib.h>

#include "blocking_int.h"

/* ---- wait lists -------------------------------------------------------- */

static bool bkey_eq(const struct cache__tnode *n, const void *arg)
{
    const struct cache__lookup_key *k = arg;
    const struct cache__bkey *b = (const struct cache__bkey *)n;
    return b->klen == k->len && memcmp(b->key, k->s, k->len) == 0;
}

struct cache__bkey *cache__bkey_find(struct shard *s, uint64_t h, const char *key,
                                     size_t klen)
{
    struct cache__lookup_key k = {key, klen};

    if (!s->bkeys)
        return NULL;
    return (struct cache__bkey *)cache__ct_find(s->bkeys, h, bkey_eq, &k);
}

/* The wait list of key, created if missing. NULL on ENOMEM. The wait
 * lists are the server's bookkeeping, not data: not charged to the shard
 * (Redis counts them as client memory, not used_memory's dataset). */
struct cache__bkey *cache__bkey_get(struct shard *s, uint64_t h, const char *key,
                                    size_t klen)
{
    struct cache__bkey *b = cache__bkey_find(s, h, key, klen);

    if (b)
        return b;
    if (!s->bkeys) {
        struct cache__ctable *t = malloc(sizeof(*t));
        if (!t || cache__ct_init(NULL, t, 4) != 0) {
            free(t);
            return NULL;
        }
        s->bkeys = t;
    }
    if (!(b = malloc(sizeof(*b) + klen)))
        return NULL;
    b->node.tnext = NULL;
    b->node.hash = h;
    b->head = b->tail = NULL;
    b->klen = (uint32_t)klen;
    memcpy(b->key, key, klen);
    if (cache__ct_add(NULL, s->bkeys, &b->node) != 0) {
        free(b);
        return NULL;
    }
    return b;
}

void cache__bkey_drop_if_empty(struct shard *s, struct cache__bkey *b)
{
    if (b->head)
        return;
    cache__ct_remove(NULL, s->bkeys, &b->node);
    cache__ct_maybe_shrink(NULL, s->bkeys);
    free(b);
}

void cache__bent_append(struct cache__bkey *b, struct cache__bent *e)
{
    e->bk = b;
    e->next = NULL;
    e->prev = b->tail;
    if (b->tail)
        b->tail->next = e;
    else
        b->head = e;
    b->tail = e;
}

void cache__bent_unlink(struct cache__bent *e)
{
    struct cache__bkey *b = e->bk;

    if (e->prev)
        e->prev->next = e->next;
    else
        b->head = e->next;
    if (e->next)
        e->next->prev = e->prev;
    else
        b->tail = e->prev;
    e->bk = NULL;
    e->prev = e->next = NULL;
}

/* Takes every entry of w off its wait list, one shard lock at a time.
 * Context: no shard lock held; w is no longer WAITING, so no serving
 * thread will claim it: an entry still linked is only skipped. */
void cache__bpop_unlink_all(struct cache *c, struct cache_bpop *w)
{
    for (size_t i = 0; i < w->nkeys; i++) {
        struct cache__bent *e = &w->ent[i];
        struct shard *s = cache__shard_of(c, e->h);
        cache__shard_lock(s);
        struct cache__bkey *b = e->bk;
        if (b) {
            cache__bent_unlink(e);
            cache__bkey_drop_if_empty(s, b);
        }
        cache__shard_unlock(s);
    }
}

bool cache__bpop_claim(struct cache_bpop *w)
{
    int want = BP_WAITING;
    return atomic_compare_exchange_strong_explicit(&w->state, &want, BP_SERVED,
                                                   memory_order_acq_rel,
                                                   memory_order_acquire);
}

int cache_bpop_cancel(struct cache *c, struct cache_bpop *w)
{
    int want = BP_WAITING;

    if (!atomic_compare_exchange_strong_explicit(&w->state, &want, BP_CANCELLED,
                                                 memory_order_acq_rel,
                                                 memory_order_acquire))
        return CACHE_NOTSET;
    cache__bpop_unlink_all(c, w);
    free(w);
    return CACHE_OK;
}

uint64_t cache_blocked_keys(struct cache *c)
{
    uint64_t n = 0;

    for (unsigned i = 0; i < c->nshards; i++) {
        struct shard *s = &c->shards[i];
        cache__shard_lock(s);
        if (s->bkeys)
            n += cache__ct_count(s->bkeys);
        cache__shard_unlock(s);
    }
    return n;
}

void cache__blocking_free_locked(struct shard *s)
{
    struct cache__ct_iter ci;

    if (!s->bkeys)
        return;
    struct cache__tnode *n = cache__ct_first(s->bkeys, &ci);
    while (n) {
        struct cache__tnode *next = cache__ct_next(s->bkeys, &ci);
        free(n);   /* waits still on it belong to their owners */
        n = next;
    }
    cache__ct_free(NULL, s->bkeys);
    free(s->bkeys);
    s->bkeys = NULL;
}

/* debug.c: every wait list is a proper FIFO of entries that point back at
 * it, and no key that is a non-empty list has a client still waiting on
 * it: the lost wake-up, caught in the act. 0 or -1 (and says which). */
int cache__blocking_check_locked(struct shard *s, char *why, size_t cap)
{
    struct cache__ct_iter ci;

    if (!s->bkeys)
        return 0;
    for (struct cache__tnode *n = cache__ct_first(s->bkeys, &ci); n;
         n = cache__ct_next(s->bkeys, &ci)) {
        struct cache__bkey *b = (struct cache__bkey *)n;
        const struct cache__bent *prev = NULL;
        struct item *it = cache__table_find_locked(s, b->node.hash, b->key, b->klen);
        bool waiting = false;
        if (!b->head) {
            snprintf(why, cap, "empty wait list kept");
            return -1;
        }
        for (const struct cache__bent *e = b->head; e; prev = e, e = e->next) {
            if (e->bk != b || e->prev != prev || (uint32_t)e->h != b->node.hash ||
                !cache__same_key(e->key, e->klen, b->key, b->klen)) {
                snprintf(why, cap, "wait list of '%.*s' broken", (int)b->klen, b->key);
                return -1;
            }
            /* a wait for this key's type, still waiting */
            waiting |= atomic_load_explicit(&e->w->state, memory_order_relaxed) == BP_WAITING &&
                       it && cache__bkind_fits(e->w, it);
        }
        if (b->tail != prev) {
            snprintf(why, cap, "wait list tail of '%.*s' wrong", (int)b->klen, b->key);
            return -1;
        }
        if (waiting && it && cache__bkind_len(it) > 0) {
            snprintf(why, cap, "lost wake-up: '%.*s' holds %lu elements and a client "
                     "still waits on it", (int)b->klen, b->key,
                     (unsigned long)cache__bkind_len(it));
            return -1;
        }
    }
    return 0;
}
