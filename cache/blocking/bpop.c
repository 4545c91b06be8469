/*
 * bpop.c: the requests: LMPOP, LMOVE/RPOPLPUSH and the blocking pops
 * check their keys and pop (or move) at once, or append their wait to
 * every key's wait list, under the same locks; the owner later cancels
 * its wait or takes its outcome. The design: blocking_int.h.
 */
#include <stdlib.h>

#include "blocking_int.h"
#include "multikey.h"

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
    w->zset = r->zset != 0;
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
    bool self = w->dh == e->h && cache__same_key(w->dst, w->dlen, e->key, e->klen);

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
        rc = cache__push_records_locked(sd, w->dh, w->dst, w->dlen, w->to, &el, now);
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
                                                    cache__bkind_type(w), &rc);
        if (rc == CACHE_E_WRONGTYPE)
            return rc;
        if (!it)
            continue;
        if (w->dst)
            return move_now_locked(s, sv, it, e, w, now, out);
        if ((rc = cache__keys_push(out, e->key, e->klen)) != CACHE_OK ||
            (rc = cache__bkind_pop_locked(s, &it, w, out)) != CACHE_OK)
            return rc;
        cache__coll_write_done_locked(s, it, cache__bkind_len(it), now);
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
        struct cache__bkey *b = cache__bkey_get(s, e->h, e->key, e->klen);
        if (!b)
            return CACHE_E_NOMEM;
        if (b->tail && b->tail->w == w)
            continue;   /* the key was named twice: one place in line */
        cache__bent_append(b, e);
    }
    return CACHE_OK;
}

int cache_bpop(struct cache *c, const struct cache_bpop_req *r, int64_t now,
               struct cache_keys *out, struct cache_bpop **hp)
{
    size_t nh = r->nkeys + (r->dst ? 1 : 0);
    uint64_t hsmall[16], *hs = hsmall;
    struct cache_mlock lk = {0};
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
        cache__bpop_unlink_all(c, w);   /* a partial registration */
out_free:
    if (!*hp)
        free(w);
    if (hs != hsmall)
        free(hs);
    cache__mlock_free(&lk);
    return rc;
}

int cache_bpop_take(struct cache *c, struct cache_bpop *w, int giveback,
                    struct cache_keys *out, int64_t now)
{
    int rc = w->rc;

    assert(atomic_load_explicit(&w->state, memory_order_acquire) == BP_SERVED);
    cache__bpop_unlink_all(c, w);   /* the entries on its other keys */
    if (rc == CACHE_OK && giveback && !w->dst) {
        struct cache__serve sv;
        cache__serve_begin(&sv, NULL, 0);
        cache__give_back(c, &sv, w, now);
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
