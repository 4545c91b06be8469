/*
 * serve.c: serving the clients blocked on a key that just got elements,
 * under the lock the writer holds; what must wait until no lock is held
 * (a move into a shard not held, a give-back, the wakes) is finished by
 * cache__serve_end. The design: blocking_int.h.
 */
#include <stdlib.h>

#include "blocking_int.h"

/* ---- moving one element ------------------------------------------------- */

/* Pushes the records of `elems` (in order) to key's `where` end, the list
 * created when missing. OK, WRONGTYPE (nothing pushed), E_NOMEM (some may
 * be). Context: s locked. No maxmemory reservation: the elements were
 * just taken out of a list (a move, a give-back), the bytes already
 * counted once. */
int cache__push_records_locked(struct shard *s, uint64_t h, const char *key,
                               size_t klen, int where, const struct cache_keys *elems,
                               int64_t now)
{
    int rc;
    struct item *it = cache__lookup_type_locked(s, h, key, klen, now,
                                                CACHE_TYPE_LIST, &rc);
    const char *e;
    size_t pos = 0, len;

    if (rc == CACHE_E_WRONGTYPE)
        return rc;
    if (!it) {
        if (!(it = cache__list_new(h, key, klen)))
            return CACHE_E_NOMEM;
        cache__link_locked(s, it, now);
    }
    rc = CACHE_OK;
    while (rc == CACHE_OK && (e = cache_keys_next(elems, &pos, &len)) != NULL) {
        struct cache__lp_key k;
        cache__lp_key_str(&k, e, len);
        rc = cache__list_push_locked(s, &it, where, &k);
    }
    if (cache__list_len(it) == 0)
        cache__delete_locked(s, it, CACHE__WHY_SERVER_DEL);
    else
        cache__lru_bump_locked(s, it, now);
    return rc;
}

/* Puts popped elements back where they came from (a client gone before
 * its reply; a move whose destination turned out to be of another type),
 * and serves the key's waiters from them. Context: no shard lock held. */
void cache__give_back(struct cache *c, struct cache__serve *sv, struct cache_bpop *w,
                      int64_t now)
{
    const struct cache__bent *e = &w->ent[w->served];
    struct shard *s = cache__shard_of(c, e->h);

    cache__shard_lock(s);
    /* A key turned into another type meanwhile cannot take them back:
     * they are dropped (documented: docs/locking.md). */
    if (cache__bkind_back_locked(s, e, w, now) == CACHE_OK) {
        unsigned held = s->id;
        const unsigned *ph = sv->held;
        size_t nh = sv->nheld;
        sv->held = &held;
        sv->nheld = 1;
        cache__serve_key_locked(s, sv, e->h, e->key, e->klen, now);
        sv->held = ph;
        sv->nheld = nh;
    }
    cache__shard_unlock(s);
}

/* ---- serving ------------------------------------------------------------ */

void cache__serve_begin(struct cache__serve *sv, const unsigned *held, size_t nheld)
{
    sv->wakes = sv->moves = sv->ready = NULL;
    sv->wakes_tail = &sv->wakes;
    sv->moves_tail = &sv->moves;
    sv->held = held;
    sv->nheld = nheld;
}

void cache__serve_begin1(struct cache__serve *sv, const struct shard *s)
{
    sv->one = s->id;
    cache__serve_begin(sv, &sv->one, 1);
}

bool cache__txn_defer_serve(struct cache__serve *sv)
{
    struct cache_txn *t = cache__txn_cur;

    if (sv->moves) {
        *t->moves_tail = sv->moves;
        t->moves_tail = sv->moves_tail;
    }
    if (sv->wakes) {
        *t->wakes_tail = sv->wakes;
        t->wakes_tail = sv->wakes_tail;
    }
    cache__serve_begin(sv, NULL, 0);
    return true;
}

static bool held(const struct cache__serve *sv, const struct shard *s)
{
    for (size_t i = 0; i < sv->nheld; i++)
        if (sv->held[i] == s->id)
            return true;
    return false;
}

/* Queues w on a FIFO list: wakes go out in the order waits were served. */
static void enqueue(struct cache_bpop ***tail, struct cache_bpop *w)
{
    w->snext = NULL;
    **tail = w;
    *tail = &w->snext;
}

static void to_wake(struct cache__serve *sv, struct cache_bpop *w)
{
    enqueue(&sv->wakes_tail, w);
}

/* Serves a claimed move from *itp (the list of its source key, in s):
 * the destination's shard is held, so the element moves at once (or the
 * wait ends with WRONGTYPE and the element stays); else it is taken out
 * and the move finishes in cache__serve_end. */
static void serve_move(struct shard *s, struct cache__serve *sv, struct item **itp,
                       const struct cache__bent *e, struct cache_bpop *w, int64_t now)
{
    struct cache *c = s->c;
    struct shard *sd = cache__shard_of(c, w->dh);

    if (!held(sv, sd)) {
        w->rc = cache__list_pop_locked(s, itp, w->from, 1, &w->res);
        enqueue(&sv->moves_tail, w);
        return;
    }
    int rc;
    struct item *dit = cache__lookup_type_locked(sd, w->dh, w->dst, w->dlen, now,
                                                 CACHE_TYPE_LIST, &rc);
    (void)dit;
    if (rc == CACHE_E_WRONGTYPE) {
        w->rc = rc;   /* Redis: the client gets WRONGTYPE, the element stays */
        to_wake(sv, w);
        return;
    }
    if ((w->rc = cache__list_pop_locked(s, itp, w->from, 1, &w->res)) == CACHE_OK) {
        bool self = w->dh == e->h && cache__same_key(w->dst, w->dlen, e->key, e->klen);
        if (self) {   /* a rotation: back onto the same list */
            struct cache__lp_key k;
            size_t pos = 0, len;
            const char *p = cache_keys_next(&w->res, &pos, &len);
            cache__lp_key_str(&k, p, len);
            w->rc = cache__list_push_locked(s, itp, w->to, &k);
        } else {
            w->rc = cache__push_records_locked(sd, w->dh, w->dst, w->dlen, w->to, &w->res, now);
            w->rnext = sv->ready;   /* its waiters, once this key is done */
            sv->ready = w;
        }
    }
    to_wake(sv, w);
}

/* Serves the waiters of one key while it has elements: those waiting for
 * its type, in the order they came; the others wait on. */
static void serve_one(struct shard *s, struct cache__serve *sv, uint64_t h,
                      const char *key, size_t klen, int64_t now)
{
    struct cache__bkey *b = cache__bkey_find(s, h, key, klen);
    struct cache__bent *e, *next;

    if (!b)
        return;
    struct item *it = cache__lookup_locked(s, h, key, klen, now);
    for (e = b->head; it && e; e = next) {
        struct cache_bpop *w = e->w;
        next = e->next;
        if (!cache__bkind_fits(w, it))
            continue;
        cache__bent_unlink(e);
        if (!cache__bpop_claim(w))
            continue;   /* cancelled by its owner, who will find it unlinked */
        w->served = (uint32_t)(e - w->ent);
        if (w->dst) {
            serve_move(s, sv, &it, e, w, now);
        } else {
            w->rc = cache__bkind_pop_locked(s, &it, w, &w->res);
            to_wake(sv, w);
        }
        if (cache__bkind_len(it) == 0) {
            cache__delete_locked(s, it, CACHE__WHY_SERVER_DEL);
            cache__shard_tidy_locked(s);
            it = NULL;
        }
    }
    cache__bkey_drop_if_empty(s, b);
}

void cache__serve_key_locked(struct shard *s, struct cache__serve *sv, uint64_t h,
                             const char *key, size_t klen, int64_t now)
{
    ASSERT_LOCKED(s);
    if (!cache__has_blocked_locked(s) && !sv->ready)
        return;
    if (cache__has_blocked_locked(s))
        serve_one(s, sv, h, key, klen, now);
    /* Moves into held shards: their destinations' waiters next (a loop,
     * not recursion: a chain of BLMOVEs is as long as clients make it). */
    struct cache_bpop *w;
    while ((w = sv->ready) != NULL) {
        sv->ready = w->rnext;
        struct shard *sd = cache__shard_of(s->c, w->dh);
        if (w->rc == CACHE_OK && cache__has_blocked_locked(sd))
            serve_one(sd, sv, w->dh, w->dst, w->dlen, now);
    }
}

/* A move whose destination's shard was not held: push it there now. */
static void finish_move(struct cache *c, struct cache__serve *sv, struct cache_bpop *w,
                        int64_t now)
{
    struct shard *sd = cache__shard_of(c, w->dh);
    unsigned id = sd->id;
    int rc = w->rc;

    if (rc == CACHE_OK) {
        cache__shard_lock(sd);
        rc = cache__push_records_locked(sd, w->dh, w->dst, w->dlen, w->to, &w->res, now);
        if (rc == CACHE_OK) {
            sv->held = &id;
            sv->nheld = 1;
            cache__serve_key_locked(sd, sv, w->dh, w->dst, w->dlen, now);
            sv->nheld = 0;
        }
        cache__shard_unlock(sd);
        /* Another type there (WRONGTYPE, as Redis answers), or no memory
         * for it: the element goes back where it came from. */
        if (rc != CACHE_OK)
            cache__give_back(c, sv, w, now);
    }
    w->rc = rc;
    to_wake(sv, w);
}

void cache__serve_end(struct cache *c, struct cache__serve *sv, int64_t now)
{
    struct cache_bpop *w;

    if (__builtin_expect(cache__txn_cur != NULL, 0) && cache__txn_defer_serve(sv))
        return;   /* its locks are still held: at cache_txn_unlock */
    sv->held = NULL;
    sv->nheld = 0;
    while ((w = sv->moves) != NULL) {
        if (!(sv->moves = w->snext))
            sv->moves_tail = &sv->moves;
        finish_move(c, sv, w, now);
    }
    /* Last, with every element where it goes: the wakes. After its wake a
     * wait belongs to its owner again (it may be freed at once). */
    w = sv->wakes;
    sv->wakes = NULL;
    sv->wakes_tail = &sv->wakes;
    while (w) {
        struct cache_bpop *next = w->snext;
        w->wake(w->arg);
        w = next;
    }
}
