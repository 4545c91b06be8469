/*
 * blocking.c: multi-key pops and moves (LMPOP, LMOVE, RPOPLPUSH) and the
 * blocking ones (BLPOP BRPOP BLMPOP BLMOVE BRPOPLPUSH), type-agnostic in
 * its waiting part so that the sorted sets' BZPOP* can use it.
 *
 * The design (docs/locking.md, "Blocking pops", has the argument):
 *
 *  - A key with blocked clients has a wait list, a FIFO of entries, in
 *    its shard's `bkeys` table, guarded by that shard's lock: the lock
 *    that also guards the key's value. A client blocked on n keys has one
 *    entry on each, all in one allocation, its struct cache_bpop.
 *  - cache_bpop locks every shard involved (index order), checks the keys
 *    and either pops or appends its entries, before unlocking. A push
 *    takes the same lock, and before unlocking hands what it pushed to
 *    the waiters of the key, first come first served. Checking and
 *    waiting are one critical section, pushing and serving another, on
 *    the same lock: no element can arrive unseen between them (the lost
 *    wake-up).
 *  - A wait is claimed exactly once: the serving thread CASes its state
 *    WAITING -> SERVED under the shard lock, the owner's timeout or
 *    disconnect CASes WAITING -> CANCELLED without it. Whoever wins owns
 *    what follows; the loser backs off (the owner then waits for the
 *    wake, which is on its way).
 *  - The server's wake callback is never called under a shard lock: the
 *    served waits are collected in a struct cache__serve and woken by
 *    cache__serve_end once every lock is released. A served move whose
 *    destination lives in a shard the server does not hold is finished
 *    there too, before its wake.
 *
 * Context: any thread; the owner of a cache_bpop is the one thread that
 * created it (a worker), and only it cancels or takes it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "t_list.h"

enum { BP_WAITING = 0, BP_SERVED, BP_CANCELLED };

/* A key with blocked clients. */
struct cache__bkey {
    struct cache__tnode node;          /* hash: the key's */
    struct cache__bent *head, *tail;   /* guarded by: shard lock; the FIFO */
    uint32_t klen;                     /* immutable */
    char key[];                        /* immutable */
};

/* One wait on one key. */
struct cache__bent {
    struct cache__bent *prev, *next;   /* guarded by: the key's shard lock */
    struct cache__bkey *bk;            /* guarded by: same; NULL once unlinked */
    struct cache_bpop *w;              /* immutable */
    const char *key;                   /* immutable: bytes in w's allocation */
    size_t klen;                       /* immutable */
    uint64_t h;                        /* immutable: the key's hash */
};

struct cache_bpop {
    /* WAITING -> SERVED by a serving thread (CAS under the shard lock of
     * the key it serves), or WAITING -> CANCELLED by the owner (CAS, no
     * lock). acq_rel: the winner's later writes are its own; the pairing
     * that publishes the result is the wake's (the server's lock between
     * the serving thread and the owner). */
    _Atomic int state;
    int from, to;                      /* immutable */
    uint64_t count;                    /* immutable */
    void (*wake)(void *arg);           /* immutable */
    void *arg;                         /* immutable */
    /* The serving thread's lists (struct cache__serve), between its claim
     * and the wake. owned by: the thread that claimed it. */
    struct cache_bpop *snext, *rnext;
    /* The outcome: written by the claiming thread before the wake, read
     * by the owner after it. */
    int rc;
    uint32_t served;                   /* the key it was served from */
    struct cache_keys res;             /* the popped elements */
    const char *dst;                   /* immutable: a move's destination */
    size_t dlen;
    uint64_t dh;
    size_t nkeys;                      /* immutable */
    struct cache__bent ent[];          /* one per key; key bytes follow */
};

/* ---- wait lists -------------------------------------------------------- */

static bool bkey_eq(const struct cache__tnode *n, const void *arg)
{
    const struct cache__lookup_key *k = arg;
    const struct cache__bkey *b = (const struct cache__bkey *)n;
    return b->klen == k->len && memcmp(b->key, k->s, k->len) == 0;
}

static struct cache__bkey *bkey_find(struct shard *s, uint64_t h, const char *key,
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
static struct cache__bkey *bkey_get(struct shard *s, uint64_t h, const char *key,
                                    size_t klen)
{
    struct cache__bkey *b = bkey_find(s, h, key, klen);

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

static void bkey_drop_if_empty(struct shard *s, struct cache__bkey *b)
{
    if (b->head)
        return;
    cache__ct_remove(NULL, s->bkeys, &b->node);
    cache__ct_maybe_shrink(NULL, s->bkeys);
    free(b);
}

static void bent_append(struct cache__bkey *b, struct cache__bent *e)
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

static void bent_unlink(struct cache__bent *e)
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
static void unlink_all(struct cache *c, struct cache_bpop *w)
{
    for (size_t i = 0; i < w->nkeys; i++) {
        struct cache__bent *e = &w->ent[i];
        struct shard *s = cache__shard_of(c, e->h);
        cache__shard_lock(s);
        struct cache__bkey *b = e->bk;
        if (b) {
            bent_unlink(e);
            bkey_drop_if_empty(s, b);
        }
        cache__shard_unlock(s);
    }
}

static bool claim(struct cache_bpop *w)
{
    int want = BP_WAITING;
    return atomic_compare_exchange_strong_explicit(&w->state, &want, BP_SERVED,
                                                   memory_order_acq_rel,
                                                   memory_order_acquire);
}

/* ---- moving one element ------------------------------------------------- */

static bool same_key(const char *a, size_t alen, const char *b, size_t blen)
{
    return alen == blen && memcmp(a, b, alen) == 0;
}

/* Pushes the records of `elems` (in order) to key's `where` end, the list
 * created when missing. OK, WRONGTYPE (nothing pushed), E_NOMEM (some may
 * be). Context: s locked. No maxmemory reservation: the elements were
 * just taken out of a list (a move, a give-back), the bytes already
 * counted once. */
static int push_records_locked(struct shard *s, uint64_t h, const char *key,
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

/* Puts popped elements back at the end they came from, in reverse, so
 * the list reads as before the pop (a client gone before its reply; a
 * move whose destination turned out to be of another type). The key's
 * waiters are served from them. Context: no shard lock held. */
static void give_back(struct cache *c, struct cache__serve *sv, struct cache_bpop *w,
                      int64_t now)
{
    const struct cache__bent *e = &w->ent[w->served];
    struct shard *s = cache__shard_of(c, e->h);
    struct cache_keys rev = {0};
    size_t n = 0, pos = 0, len;
    const char *p, **v = malloc(w->res.count * sizeof(*v) + 1);
    size_t *l = malloc(w->res.count * sizeof(*l) + 1);

    /* Reverse the records: the last popped goes back first. */
    while (v && l && (p = cache_keys_next(&w->res, &pos, &len)) != NULL) {
        v[n] = p;
        l[n++] = len;
    }
    while (n > 0 && v && l) {
        n--;
        if (cache__keys_push(&rev, v[n], l[n]) != CACHE_OK)
            break;
    }
    free(v);
    free(l);
    cache__shard_lock(s);
    /* A key turned into another type meanwhile cannot take them back:
     * they are dropped (documented: docs/locking.md). */
    if (push_records_locked(s, e->h, e->key, e->klen, w->from, &rev, now) == CACHE_OK) {
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
    cache_keys_free(&rev);
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
        bool self = w->dh == e->h && same_key(w->dst, w->dlen, e->key, e->klen);
        if (self) {   /* a rotation: back onto the same list */
            struct cache__lp_key k;
            size_t pos = 0, len;
            const char *p = cache_keys_next(&w->res, &pos, &len);
            cache__lp_key_str(&k, p, len);
            w->rc = cache__list_push_locked(s, itp, w->to, &k);
        } else {
            w->rc = push_records_locked(sd, w->dh, w->dst, w->dlen, w->to, &w->res, now);
            w->rnext = sv->ready;   /* its waiters, once this key is done */
            sv->ready = w;
        }
    }
    to_wake(sv, w);
}

/* Serves the waiters of one key while its list has elements. */
static void serve_one(struct shard *s, struct cache__serve *sv, uint64_t h,
                      const char *key, size_t klen, int64_t now)
{
    struct cache__bkey *b = bkey_find(s, h, key, klen);
    int rc;

    if (!b)
        return;
    struct item *it = cache__lookup_type_locked(s, h, key, klen, now, CACHE_TYPE_LIST, &rc);
    while (it && b->head) {
        struct cache__bent *e = b->head;
        struct cache_bpop *w = e->w;
        bent_unlink(e);
        if (!claim(w))
            continue;   /* cancelled by its owner, who will find it unlinked */
        w->served = (uint32_t)(e - w->ent);
        if (w->dst) {
            serve_move(s, sv, &it, e, w, now);
        } else {
            w->rc = cache__list_pop_locked(s, &it, w->from, w->count, &w->res);
            to_wake(sv, w);
        }
        if (cache__list_len(it) == 0) {
            cache__delete_locked(s, it, CACHE__WHY_SERVER_DEL);
            cache__shard_tidy_locked(s);
            it = NULL;
        }
    }
    bkey_drop_if_empty(s, b);
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
        rc = push_records_locked(sd, w->dh, w->dst, w->dlen, w->to, &w->res, now);
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
            give_back(c, sv, w, now);
    }
    w->rc = rc;
    to_wake(sv, w);
}

void cache__serve_end(struct cache *c, struct cache__serve *sv, int64_t now)
{
    struct cache_bpop *w;

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

/* ---- the requests -------------------------------------------------------- */

/* A wait for r, its keys copied in (one allocation), hashes set. */
static struct cache_bpop *bpop_new(const struct cache_bpop_req *r, struct cache *c)
{
    size_t bytes = sizeof(struct cache_bpop) + r->nkeys * sizeof(struct cache__bent) +
                   r->dlen;
    for (size_t i = 0; i < r->nkeys; i++)
        bytes += r->keys[i].len;
    struct cache_bpop *w = calloc(1, bytes);
    if (!w)
        return NULL;
    atomic_init(&w->state, BP_WAITING);
    w->from = r->from;
    w->to = r->to;
    w->count = r->count;
    w->wake = r->wake;
    w->arg = r->arg;
    w->nkeys = r->nkeys;
    char *p = (char *)&w->ent[r->nkeys];
    for (size_t i = 0; i < r->nkeys; i++) {
        struct cache__bent *e = &w->ent[i];
        memcpy(p, r->keys[i].s, r->keys[i].len);
        e->w = w;
        e->key = p;
        e->klen = r->keys[i].len;
        e->h = cache__hash(c, p, e->klen);
        p += e->klen;
    }
    if (r->dst) {
        memcpy(p, r->dst, r->dlen);
        w->dst = p;
        w->dlen = r->dlen;
        w->dh = cache__hash(c, p, r->dlen);
    }
    return w;
}

/* Context: both keys' shards locked (sv's held); *itp is the non-empty
 * source list. LMOVE: one element from it to dst, then dst's waiters. */
static int move_now_locked(struct shard *s, struct cache__serve *sv, struct item *it,
                           const struct cache__bent *e, const struct cache_bpop *w,
                           int64_t now, struct cache_keys *out)
{
    struct shard *sd = cache__shard_of(s->c, w->dh);
    struct cache_keys el = {0};
    int rc;
    bool self = w->dh == e->h && same_key(w->dst, w->dlen, e->key, e->klen);

    (void)cache__lookup_type_locked(sd, w->dh, w->dst, w->dlen, now,
                                    CACHE_TYPE_LIST, &rc);
    if (rc == CACHE_E_WRONGTYPE)
        return rc;
    if ((rc = cache__list_pop_locked(s, &it, w->from, 1, &el)) != CACHE_OK ||
        (rc = cache__keys_push(out, el.buf + sizeof(uint32_t),
                               el.len - sizeof(uint32_t))) != CACHE_OK)
        goto out_free;
    if (self) {   /* a rotation: the list is never empty in between */
        struct cache__lp_key k;
        cache__lp_key_str(&k, el.buf + sizeof(uint32_t), el.len - sizeof(uint32_t));
        rc = cache__list_push_locked(s, &it, w->to, &k);
    } else {
        rc = push_records_locked(sd, w->dh, w->dst, w->dlen, w->to, &el, now);
    }
    if (rc != CACHE_OK) {   /* no memory for it in dst: back where it was */
        struct cache__lp_key k;
        cache__lp_key_str(&k, el.buf + sizeof(uint32_t), el.len - sizeof(uint32_t));
        (void)cache__list_push_locked(s, &it, w->from, &k);
    }
    cache__coll_write_done_locked(s, it, cache__list_len(it), now);
    /* Last, when nothing of src is in use: dst's waiters (a chain of
     * BLMOVEs may come back to src). */
    if (rc == CACHE_OK && !self)
        cache__serve_key_locked(sd, sv, w->dh, w->dst, w->dlen, now);
out_free:
    cache_keys_free(&el);
    return rc;
}

/* Context: every shard of w's keys (and dst's) locked. The first
 * non-empty list of w's keys, popped (or moved) into out. */
static int pop_now_locked(struct cache *c, struct cache__serve *sv,
                          const struct cache_bpop *w, int64_t now,
                          struct cache_keys *out)
{
    for (size_t j = 0; j < w->nkeys; j++) {
        const struct cache__bent *e = &w->ent[j];
        struct shard *s = cache__shard_of(c, e->h);
        int rc;
        struct item *it = cache__lookup_type_locked(s, e->h, e->key, e->klen, now,
                                                    CACHE_TYPE_LIST, &rc);
        if (rc == CACHE_E_WRONGTYPE)
            return rc;
        if (!it)
            continue;
        if (w->dst)
            return move_now_locked(s, sv, it, e, w, now, out);
        if ((rc = cache__keys_push(out, e->key, e->klen)) != CACHE_OK ||
            (rc = cache__list_pop_locked(s, &it, w->from, w->count, out)) != CACHE_OK)
            return rc;
        cache__coll_write_done_locked(s, it, cache__list_len(it), now);
        return CACHE_OK;
    }
    return CACHE_NOTFOUND;
}

/* Context: every shard of w's keys locked; none of them has elements.
 * Appends w to each distinct key's wait list. */
static int wait_locked(struct cache *c, struct cache_bpop *w)
{
    for (size_t j = 0; j < w->nkeys; j++) {
        struct cache__bent *e = &w->ent[j];
        struct shard *s = cache__shard_of(c, e->h);
        struct cache__bkey *b = bkey_get(s, e->h, e->key, e->klen);
        if (!b)
            return CACHE_E_NOMEM;
        if (b->tail && b->tail->w == w)
            continue;   /* the key was named twice: one place in line */
        bent_append(b, e);
    }
    return CACHE_OK;
}

int cache_bpop(struct cache *c, const struct cache_bpop_req *r, int64_t now,
               struct cache_keys *out, struct cache_bpop **hp)
{
    size_t nh = r->nkeys + (r->dst ? 1 : 0);
    uint64_t hsmall[16], *hs = hsmall;
    struct cache__mlock lk = {0};
    struct cache__serve sv;
    int rc;

    *hp = NULL;
    struct cache_bpop *w = bpop_new(r, c);
    if (nh > 16)
        hs = malloc(nh * sizeof(*hs));
    if (!w || !hs) {
        rc = CACHE_E_NOMEM;
        goto out_free;
    }
    for (size_t j = 0; j < r->nkeys; j++)
        hs[j] = w->ent[j].h;
    if (r->dst)
        hs[r->nkeys] = w->dh;
    if ((rc = cache__mlock_init(c, &lk, hs, nh)) != CACHE_OK)
        goto out_free;
    cache__mlock_lock(c, &lk);
    cache__serve_begin(&sv, lk.ids, lk.n);
    rc = pop_now_locked(c, &sv, w, now, out);
    if (rc == CACHE_NOTFOUND && r->wake) {
        rc = wait_locked(c, w);
        if (rc == CACHE_OK) {
            rc = CACHE_BLOCKED;
            *hp = w;
        } else {
            atomic_store_explicit(&w->state, BP_CANCELLED, memory_order_relaxed);
        }
    }
    cache__mlock_unlock(c, &lk);
    cache__serve_end(c, &sv, now);
    if (rc == CACHE_E_NOMEM && *hp == NULL && w)
        unlink_all(c, w);   /* a partial registration */
out_free:
    if (!*hp)
        free(w);
    if (hs != hsmall)
        free(hs);
    cache__mlock_free(&lk);
    return rc;
}

int cache_bpop_cancel(struct cache *c, struct cache_bpop *w)
{
    int want = BP_WAITING;

    if (!atomic_compare_exchange_strong_explicit(&w->state, &want, BP_CANCELLED,
                                                 memory_order_acq_rel,
                                                 memory_order_acquire))
        return CACHE_NOTSET;
    unlink_all(c, w);
    free(w);
    return CACHE_OK;
}

int cache_bpop_take(struct cache *c, struct cache_bpop *w, int giveback,
                    struct cache_keys *out, int64_t now)
{
    int rc = w->rc;

    assert(atomic_load_explicit(&w->state, memory_order_acquire) == BP_SERVED);
    unlink_all(c, w);   /* the entries on its other keys */
    if (rc == CACHE_OK && giveback && !w->dst) {
        struct cache__serve sv;
        cache__serve_begin(&sv, NULL, 0);
        give_back(c, &sv, w, now);
        cache__serve_end(c, &sv, now);
    } else if (rc == CACHE_OK && !giveback) {
        const struct cache__bent *e = &w->ent[w->served];
        const char *p;
        size_t pos = 0, len;
        if (!w->dst)
            rc = cache__keys_push(out, e->key, e->klen);
        while (rc == CACHE_OK && (p = cache_keys_next(&w->res, &pos, &len)) != NULL)
            rc = cache__keys_push(out, p, len);
    }
    cache_keys_free(&w->res);
    free(w);
    return rc;
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
        bool waiting = false;
        if (!b->head) {
            snprintf(why, cap, "empty wait list kept");
            return -1;
        }
        for (const struct cache__bent *e = b->head; e; prev = e, e = e->next) {
            if (e->bk != b || e->prev != prev || e->h != b->node.hash ||
                !same_key(e->key, e->klen, b->key, b->klen)) {
                snprintf(why, cap, "wait list of '%.*s' broken", (int)b->klen, b->key);
                return -1;
            }
            waiting |= atomic_load_explicit(&e->w->state, memory_order_relaxed) == BP_WAITING;
        }
        struct item *it = cache__table_find_locked(s, b->node.hash, b->key, b->klen);
        if (b->tail != prev) {
            snprintf(why, cap, "wait list tail of '%.*s' wrong", (int)b->klen, b->key);
            return -1;
        }
        if (waiting && it && it->type == CACHE_TYPE_LIST && cache__list_len(it) > 0) {
            snprintf(why, cap, "lost wake-up: '%.*s' holds %lu elements and a client "
                     "still waits on it", (int)b->klen, b->key,
                     (unsigned long)cache__list_len(it));
            return -1;
        }
    }
    return 0;
}
