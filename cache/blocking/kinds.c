/*
 * kinds.c: what the blocking pops need from the types they pop: a list
 * (BLPOP BRPOP BLMPOP BLMOVE BRPOPLPUSH, LMPOP LMOVE) or a sorted set
 * (BZPOPMIN BZPOPMAX BZMPOP, ZMPOP). A wait is for one kind (w->zset); a
 * key serves only the waits of its own type, the others wait on (Redis:
 * a BLPOP on a key that becomes a sorted set keeps waiting).
 */
#include <math.h>
#include <stdlib.h>

#include "blocking_int.h"
#include "t_zset.h"

int cache__bkind_type(const struct cache_bpop *w)
{
    return w->zset ? CACHE_TYPE_ZSET : CACHE_TYPE_LIST;
}

bool cache__bkind_fits(const struct cache_bpop *w, const struct item *it)
{
    return it->type == cache__bkind_type(w);
}

size_t cache__bkind_len(const struct item *it)
{
    if (it->type == CACHE_TYPE_ZSET)
        return cache__zset_card(it);
    return it->type == CACHE_TYPE_LIST ? cache__list_len(it) : 0;
}

int cache__bkind_pop_locked(struct shard *s, struct item **itp, const struct cache_bpop *w,
                            struct cache_keys *out)
{
    if (w->zset)
        return cache__zset_pop_locked(s, itp, w->from, w->count, out);
    return cache__list_pop_locked(s, itp, w->from, w->count, out);
}

/* A served sorted set pop's members back into the key, each with the
 * score it had, unless the member is there again (a newer score wins).
 * OK, WRONGTYPE (the key is something else now: dropped), E_NOMEM.
 * Context: s locked. No maxmemory reservation: they were just popped. */
static int zset_back_locked(struct shard *s, const struct cache__bent *e,
                            const struct cache_keys *recs, int64_t now)
{
    int rc, out;
    struct item *it = cache__lookup_type_locked(s, e->h, e->key, e->klen, now,
                                                CACHE_TYPE_ZSET, &rc);
    const char *m, *sc;
    size_t pos = 0, len, slen;
    double score;

    if (rc == CACHE_E_WRONGTYPE)
        return rc;
    if (!it) {
        cache_keys_next(recs, &pos, &len);
        if (!(it = cache__zset_new(s->c, e->h, e->key, e->klen, len)))
            return CACHE_E_NOMEM;
        cache__link_locked(s, it, now);
        pos = 0;
    }
    rc = CACHE_OK;
    while (rc == CACHE_OK && (m = cache_keys_next(recs, &pos, &len)) != NULL) {
        sc = cache_keys_next(recs, &pos, &slen);
        rc = cache__zset_add_locked(s, &it, cache_keys_score(sc), m, len, CACHE_ZADD_NX, &out,
                                    &score);
    }
    cache__coll_write_done_locked(s, it, cache__zset_card(it), now);
    return rc;
}

/* A list pop's elements back at the end they came from, in reverse, so
 * the list reads as before the pop. */
static int list_back_locked(struct shard *s, const struct cache__bent *e,
                            const struct cache_bpop *w, int64_t now)
{
    struct cache_keys rev = {0};
    size_t n = 0, pos = 0, len;
    const char *p, **v = malloc(w->res.count * sizeof(*v) + 1);
    size_t *l = malloc(w->res.count * sizeof(*l) + 1);
    int rc = CACHE_E_NOMEM;

    while (v && l && (p = cache_keys_next(&w->res, &pos, &len)) != NULL) {
        v[n] = p;
        l[n++] = len;
    }
    while (n > 0 && v && l) {
        n--;
        if (cache__keys_push(&rev, v[n], l[n]) != CACHE_OK)
            break;
    }
    if (v && l)
        rc = cache__push_records_locked(s, e->h, e->key, e->klen, w->from, &rev, now);
    free(v);
    free(l);
    cache_keys_free(&rev);
    return rc;
}

int cache__bkind_back_locked(struct shard *s, const struct cache__bent *e,
                             const struct cache_bpop *w, int64_t now)
{
    return w->zset ? zset_back_locked(s, e, &w->res, now) : list_back_locked(s, e, w, now);
}
