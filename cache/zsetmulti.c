/*
 * zsetmulti.c: the sorted set commands on several keys, atomic across
 * shards: ZUNION, ZINTER, ZDIFF, their STORE forms and ZINTERCARD
 * (cache_zsetop), and ZRANGESTORE.
 *
 * As setmulti.c: every call locks the shards of all its keys at once, in
 * ascending shard index (cache__mlock, docs/locking.md), and does the
 * whole command before unlocking, so a result reflects one instant of
 * its sources and a STORE's destination is replaced in one step; a STORE
 * whose result does not fit under maxmemory unlocks everything, evicts
 * one shard at a time and starts over. A STORE serves the clients
 * blocked on its destination (BZPOPMIN ...) before unlocking.
 *
 * The arithmetic is Redis's (zunionInterDiffGenericCommand): sources of
 * ZUNION and ZINTER are taken smallest first (stably), a score times its
 * weight that is NaN (inf * 0) counts 0, a SUM that is NaN (inf + -inf)
 * is 0; a set's members score 1. The result is ordered like any sorted
 * set, so only the floating-point sums depend on that order, and they
 * are summed in Redis's.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "t_set.h"
#include "t_zset.h"
#include "multikey.h"

/* ---- sources: sorted sets or sets ------------------------------------------- */

struct src {
    struct item *it;                /* NULL: missing */
    struct shard *s;
    double weight;
    size_t idx;                     /* its place among the keys (a stable sort) */
};

static size_t src_card(const struct src *x)
{
    if (!x->it)
        return 0;
    return x->it->type == CACHE_TYPE_ZSET ? cache__zset_card(x->it) : cache__set_card(x->it);
}

/* Iteration over a source: members with their scores (a set's score 1). */
struct src_iter {
    const struct src *x;
    struct cache__zpos zp;
    struct cache__siter si;
};

static void src_iter(const struct src *x, struct src_iter *i)
{
    i->x = x;
    if (x->it->type == CACHE_TYPE_ZSET)
        cache__zset_at(x->it, 0, &i->zp);
    else
        cache__set_iter(x->it, &i->si);
}

static bool src_next(struct src_iter *i, struct cache__zent *e)
{
    if (i->x->it->type == CACHE_TYPE_ZSET) {
        if (!i->zp.ok)
            return false;
        cache__zset_get(i->x->it, &i->zp, e);
        cache__zset_next(i->x->it, &i->zp);
        return true;
    }
    struct cache__smem m;
    if (!cache__set_next(&i->si, &m))
        return false;
    memcpy(e->buf, m.buf, sizeof(e->buf));
    e->s = m.k.s == m.buf ? e->buf : m.k.s;
    e->len = m.k.len;
    e->score = 1.0;
    return true;
}

static bool src_score(const struct src *x, const struct cache__zent *e, double *score)
{
    if (!x->it)
        return false;
    if (x->it->type == CACHE_TYPE_ZSET)
        return cache__zset_score_locked(x->s, x->it, e->s, e->len, score);
    struct cache__smem m;
    cache__smem_str(&m, e->s, e->len);
    *score = 1.0;
    return cache__set_has_locked(x->s, x->it, &m);
}

static int cmp_card(const void *a, const void *b)
{
    const struct src *x = a, *y = b;
    size_t cx = src_card(x), cy = src_card(y);
    return cx != cy ? (cx < cy ? -1 : 1) : (x->idx > y->idx) - (x->idx < y->idx);
}

static void aggregate(double *target, double v, int how)
{
    if (how == CACHE_ZAGG_SUM) {
        *target += v;
        if (isnan(*target))
            *target = 0.0;   /* inf + -inf */
    } else if (how == CACHE_ZAGG_MIN) {
        *target = v < *target ? v : *target;
    } else {
        *target = v > *target ? v : *target;
    }
}

/* ---- the result: a private table of member nodes --------------------------- */

struct zop_run {
    struct cache *c;
    const struct cache_zsetop *op;
    uint64_t *hash;                 /* the sources', then (STORE) the destination's */
    struct src *src;
    struct cache__ctable acc;       /* the result's members (no shard's) */
    bool acc_init;
    struct cache_keys recs;         /* STORE: the result in order */
    uint64_t card;
    int64_t now;
    struct cache_zsetop_result *res;
    struct item *nw;                /* STORE: the destination being built */
};

static bool node_eq(const struct cache__tnode *n, const void *arg)
{
    const struct cache__lookup_key *k = arg;
    const struct cache__zmember *m = (const struct cache__zmember *)n;
    return m->len == k->len && memcmp(m->data, k->s, k->len) == 0;
}

/* The result's node for e, added with score when new (*added). */
static struct cache__zmember *acc_get(struct zop_run *r, const struct cache__zent *e,
                                      double score, bool *added)
{
    uint64_t h = cache__hash(r->c, e->s, e->len);
    struct cache__lookup_key k = {e->s, e->len};
    struct cache__zmember *n = (struct cache__zmember *)cache__ct_find(&r->acc, h, node_eq, &k);

    *added = false;
    if (n)
        return n;
    if (!(n = cache__zmember_new(h, e->s, e->len, score)))
        return NULL;
    if (cache__ct_add(NULL, &r->acc, &n->node) != 0) {
        free(n);
        return NULL;
    }
    *added = true;
    return n;
}

static int do_union(struct zop_run *r)
{
    struct src_iter i;
    struct cache__zent e;
    bool added;

    for (size_t j = 0; j < r->op->nkeys; j++) {
        if (src_card(&r->src[j]) == 0)
            continue;
        for (src_iter(&r->src[j], &i); src_next(&i, &e);) {
            double score = r->src[j].weight * e.score;
            if (isnan(score))
                score = 0;
            struct cache__zmember *n = acc_get(r, &e, score, &added);
            if (!n)
                return CACHE_E_NOMEM;
            if (!added)
                aggregate(&n->score, score, r->op->aggregate);
        }
    }
    return CACHE_OK;
}

static int do_inter(struct zop_run *r)
{
    size_t nk = r->op->nkeys;
    struct src_iter i;
    struct cache__zent e;
    bool added;

    if (src_card(&r->src[0]) == 0)
        return CACHE_OK;   /* sorted by size: the smallest is empty */
    for (src_iter(&r->src[0], &i); src_next(&i, &e);) {
        double score = r->src[0].weight * e.score, v;
        size_t j;
        if (isnan(score))
            score = 0;
        for (j = 1; j < nk; j++) {
            if (r->src[j].it == r->src[0].it)
                v = e.score;   /* the same key again: its own score */
            else if (!src_score(&r->src[j], &e, &v))
                break;
            aggregate(&score, v * r->src[j].weight, r->op->aggregate);
        }
        if (j < nk)
            continue;
        if (r->op->card_only) {
            if (++r->card, r->op->limit && r->card >= r->op->limit)
                break;
        } else if (!acc_get(r, &e, score, &added)) {
            return CACHE_E_NOMEM;
        }
    }
    return CACHE_OK;
}

/* Members of the first source in none of the others; the first key named
 * again takes everything away. */
static int do_diff(struct zop_run *r)
{
    struct src_iter i;
    struct cache__zent e;
    double v;
    bool added;

    if (src_card(&r->src[0]) == 0)
        return CACHE_OK;
    for (size_t j = 1; j < r->op->nkeys; j++)
        if (r->src[j].it == r->src[0].it)
            return CACHE_OK;
    for (src_iter(&r->src[0], &i); src_next(&i, &e);) {
        bool other = false;
        for (size_t j = 1; j < r->op->nkeys && !other; j++)
            other = src_score(&r->src[j], &e, &v);
        if (!other && !acc_get(r, &e, e.score, &added))
            return CACHE_E_NOMEM;
    }
    return CACHE_OK;
}

static int cmp_node(const void *a, const void *b)
{
    const struct cache__zmember *x = *(const struct cache__zmember *const *)a;
    const struct cache__zmember *y = *(const struct cache__zmember *const *)b;
    return cache__zt_cmp(x->score, x->data, x->len, y);
}

/* The result's members in order, as records into out, until max_bytes. */
static int acc_emit(struct zop_run *r, struct cache_keys *out, size_t max_bytes)
{
    size_t n = (size_t)cache__ct_count(&r->acc), k = 0;
    struct cache__zmember **v = malloc((n ? n : 1) * sizeof(*v));
    struct cache__ct_iter ci;
    int rc = CACHE_OK;

    if (!v)
        return CACHE_E_NOMEM;
    for (struct cache__tnode *t = cache__ct_first(&r->acc, &ci); t; t = cache__ct_next(&r->acc, &ci))
        v[k++] = (struct cache__zmember *)t;
    qsort(v, n, sizeof(*v), cmp_node);
    for (k = 0; k < n && rc == CACHE_OK && out->len + v[k]->len <= max_bytes; k++) {
        struct cache__zent e = {.s = v[k]->data, .len = v[k]->len, .score = v[k]->score};
        rc = cache__zset_push(out, &e);
    }
    r->card = n;
    free(v);
    return rc;
}

/* ---- STORE -------------------------------------------------------------------- */

/* dst becomes the sorted set of recs (in order), or goes when it is
 * empty; its blocked clients are served (sv). CACHE__AGAIN: over
 * maxmemory, the locks must be dropped to evict (*need bytes); what was
 * built is left in *nwp, for the caller to free once unlocked. */
static int store(struct cache *c, uint64_t hd, const char *dst, size_t dlen,
                 const struct cache_keys *recs, int64_t now, struct cache__serve *sv,
                 struct item **nwp, int64_t *need)
{
    struct shard *sd = cache__shard_of(c, hd);
    struct item *dit = cache__lookup_locked(sd, hd, dst, dlen, now), *nw;

    if (recs->count == 0) {
        if (dit) {
            cache__delete_locked(sd, dit, CACHE__WHY_SERVER_DEL);
            cache__shard_tidy_locked(sd);
        }
        return CACHE_OK;
    }
    if (!(nw = *nwp = cache__zset_build(c, hd, dst, dlen, recs)))
        return CACHE_E_NOMEM;
    *need = (int64_t)cache__item_size(nw) -
            (dit ? (int64_t)cache__item_size(dit) : -(int64_t)cache__table_grow_cost_locked(sd));
    enum cache__admit adm = cache__admit_locked(sd, *need);
    if (adm != CACHE__FITS) {
        cache__mem_flush_locked(sd);   /* seen by the shards that will evict */
        return adm == CACHE__REFUSE ? CACHE_E_OOM : CACHE__AGAIN;
    }
    *nwp = NULL;
    if (dit)
        cache__replace_locked(sd, dit, nw, now);   /* the old value, its TTL too, goes */
    else
        cache__link_locked(sd, nw, now);
    cache__serve_key_locked(sd, sv, hd, dst, dlen, now);
    return CACHE_OK;
}

/* ---- ZUNION, ZINTER, ZDIFF, their STORE forms, ZINTERCARD ------------------------- */

/* Looks the sources up in order; WRONGTYPE at the first that is neither
 * a sorted set nor a set (the keys before it counted, as Redis counts
 * its lookups). */
static int lookup_sources(struct zop_run *r, int64_t now, struct cache_zsetop_result *res)
{
    const struct cache_zsetop *op = r->op;

    res->hits = res->misses = 0;
    for (size_t j = 0; j < op->nkeys; j++) {
        struct src *x = &r->src[j];
        x->s = cache__shard_of(r->c, r->hash[j]);
        x->it = cache__lookup_locked(x->s, r->hash[j], op->keys[j].s, op->keys[j].len, now);
        x->weight = op->weights ? op->weights[j] : 1.0;
        x->idx = j;
        if (!x->it) {
            res->misses++;
            continue;
        }
        res->hits++;
        if (x->it->type != CACHE_TYPE_ZSET && x->it->type != CACHE_TYPE_SET)
            return CACHE_E_WRONGTYPE;
        cache__lru_touch_locked(x->s, x->it, now);
    }
    return CACHE_OK;
}

static int run_locked(struct zop_run *r, int64_t now, struct cache_zsetop_result *res,
                      struct cache__serve *sv, struct item **nw, int64_t *need)
{
    const struct cache_zsetop *op = r->op;
    int rc = lookup_sources(r, now, res);

    if (rc != CACHE_OK || op->types_only)
        return rc;
    if (cache__ct_init(NULL, &r->acc, 16) != 0)
        return CACHE_E_NOMEM;
    r->acc_init = true;
    if (op->op != CACHE_ZDIFF)
        qsort(r->src, op->nkeys, sizeof(*r->src), cmp_card);   /* smallest first */
    switch (op->op) {
    case CACHE_ZUNION: rc = do_union(r); break;
    case CACHE_ZINTER: rc = do_inter(r); break;
    default: rc = do_diff(r); break;
    }
    if (rc != CACHE_OK || op->card_only)
        return rc;
    if (!op->dst)
        return acc_emit(r, &res->recs, op->max_bytes);
    if ((rc = acc_emit(r, &r->recs, SIZE_MAX)) != CACHE_OK)
        return rc;
    return store(r->c, r->hash[op->nkeys], op->dst, op->dlen, &r->recs, now, sv, nw, need);
}

static int zop_attempt(void *arg, struct cache__serve *sv, int64_t *need)
{
    struct zop_run *r = arg;

    r->card = 0;
    cache_keys_free(&r->res->recs);
    return run_locked(r, r->now, r->res, sv, &r->nw, need);
}

/* Drops what one attempt built. Context: no shard lock held (a result
 * may be large). */
static void zop_done(void *arg)
{
    struct zop_run *r = arg;

    if (r->nw)
        cache__item_destroy(r->nw);
    r->nw = NULL;
    if (r->acc_init)
        cache__ct_free_nodes(&r->acc);
    r->acc_init = false;
    cache_keys_free(&r->recs);
}

int cache_zsetop(struct cache *c, const struct cache_zsetop *op, int64_t now,
                 struct cache_zsetop_result *res)
{
    size_t n = op->nkeys + (op->dst != NULL);
    struct zop_run r = {.c = c, .op = op, .now = now, .res = res};
    struct cache_mlock lk = {0};
    int rc = CACHE_E_NOMEM;

    res->card = 0;
    if (op->dst && op->dlen > CACHE_MAX_STRING)
        return CACHE_E_TOOBIG;
    r.hash = cache__hash_keys(c, op->keys, op->nkeys, op->dst, op->dlen);
    r.src = malloc(op->nkeys * sizeof(*r.src));
    if (!r.hash || !r.src)
        goto out_free;
    if ((rc = cache__mlock_init(c, &lk, r.hash, n)) != CACHE_OK)
        goto out_free;
    rc = cache__mlock_run(c, &lk, now, zop_attempt, zop_done, &r);
    res->card = r.card;
    cache__mlock_free(&lk);
out_free:
    free(r.hash);
    free(r.src);
    return rc;
}

/* ---- ZRANGESTORE ----------------------------------------------------------------- */

struct rstore {
    struct cache *c;
    const char *dst, *src;
    size_t dlen, slen;
    uint64_t hash[2];               /* src's, dst's */
    const struct cache_zrange *r;
    int64_t now;
    uint64_t card;
    struct cache_keys recs;
    struct item *nw;
};

static int rstore_attempt(void *arg, struct cache__serve *sv, int64_t *need)
{
    struct rstore *x = arg;
    struct shard *ss = cache__shard_of(x->c, x->hash[0]);
    struct cache_zrange fwd = *x->r;
    struct cache__zpos p;
    uint64_t n = 0;
    int rc;

    struct item *it = cache__lookup_type_locked(ss, x->hash[0], x->src, x->slen, x->now,
                                                CACHE_TYPE_ZSET, &rc);
    if (rc == CACHE_E_WRONGTYPE)
        return rc;
    if (it) {
        cache__lru_touch_locked(ss, it, x->now);
        cache__zset_range_locked(it, x->r, &p, &n);
        /* a reversed range is copied from its lowest member up: the set
         * it makes is ordered anyway */
        if (x->r->rev && n > 0)
            cache__zset_at(it, p.rank - (n - 1), &p);
        fwd.rev = 0;
        if ((rc = cache__zset_copy_range(it, &fwd, &p, n, SIZE_MAX, 1, &x->recs)) != CACHE_OK)
            return rc;
    }
    x->card = n;
    return store(x->c, x->hash[1], x->dst, x->dlen, &x->recs, x->now, sv, &x->nw, need);
}

static void rstore_done(void *arg)
{
    struct rstore *x = arg;

    if (x->nw)
        cache__item_destroy(x->nw);
    x->nw = NULL;
    cache_keys_free(&x->recs);
}

int cache_zrangestore(struct cache *c, const char *dst, size_t dlen, const char *src,
                      size_t slen, const struct cache_zrange *r, int64_t now, uint64_t *card)
{
    struct rstore x = {.c = c, .dst = dst, .dlen = dlen, .src = src, .slen = slen, .r = r,
                       .now = now};
    struct cache_mlock lk;
    int rc;

    *card = 0;
    if (dlen > CACHE_MAX_STRING)
        return CACHE_E_TOOBIG;
    x.hash[0] = cache__hash(c, src, slen);
    x.hash[1] = cache__hash(c, dst, dlen);
    if ((rc = cache__mlock_init(c, &lk, x.hash, 2)) != CACHE_OK)
        return rc;
    rc = cache__mlock_run(c, &lk, now, rstore_attempt, rstore_done, &x);
    *card = x.card;
    cache__mlock_free(&lk);
    return rc;
}
