/*
 * t_zset.c: the sorted set type: its two encodings behind one interface
 * (t_zset.h), the compact encoding's use of its block (zpack.h),
 * conversion to the large one
 * (t_zset_big.c), building a set from sorted records (the STORE
 * commands), and its entry in the type registry (object.c). The commands
 * are in zsetops.c, zsetrange.c and zsetmulti.c.
 */
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "t_zset.h"
#include "zpack.h"

static inline unsigned char *val_of(struct item *it)
{
    return (unsigned char *)item_val(it);
}

static inline const unsigned char *cval_of(const struct item *it)
{
    return (const unsigned char *)item_cval(it);
}

struct cache__zset_big *cache__zset_big(const struct item *it)
{
    assert(it->type == CACHE_TYPE_ZSET && it->enc == CACHE__ENC_SKIPLIST);
    return cache__item_ptr(it);
}

size_t cache__zset_card(const struct item *it)
{
    if (it->enc == CACHE__ENC_ZPACK)
        return cache__zp_count(cval_of(it));
    return (size_t)cache__zset_big(it)->tree.count;
}

/* The thresholds, each read once per decision (a CONFIG SET racing a
 * write applies either value). */
struct limits {
    uint64_t entries, value;
};

static void limits_of(struct cache *c, struct limits *l)
{
    l->entries = atomic_load_explicit(&c->zset_lp_entries, memory_order_relaxed);
    l->value = atomic_load_explicit(&c->zset_lp_value, memory_order_relaxed);
}

int cache__zset_push(struct cache_keys *out, const struct cache__zent *e)
{
    int rc = cache__keys_push(out, e->s, e->len);
    return rc == CACHE_OK ? cache__keys_push(out, (const char *)&e->score, sizeof(double)) : rc;
}

/* ---- the compact encoding (zpack.h) ----------------------------------------- */

static inline size_t zp_bytes(const struct item *it)
{
    return it->vlen;
}

void cache__zset_zp_ent(const struct item *it, size_t pos, struct cache__zent *e)
{
    struct cache__zp_pair p;

    cache__zp_get(cval_of(it), pos, &p);
    e->s = p.m;
    e->len = p.len;
    e->score = p.score;
}

static size_t zp_find(const struct item *it, const char *m, size_t len)
{
    return cache__zp_find(cval_of(it), zp_bytes(it), m, len);
}

/* (score, m) against the pair at pos: <0, 0, >0 as cache__zt_cmp. */
static int zp_cmp(const struct item *it, size_t pos, double score, const char *m, size_t len)
{
    struct cache__zent z;

    cache__zset_zp_ent(it, pos, &z);
    if (score != z.score)
        return score < z.score ? -1 : 1;
    size_t l = len < z.len ? len : z.len;
    int c = memcmp(m, z.s, l);
    return c ? c : (len > z.len) - (len < z.len);
}

/* Inserts (m, score) at its place; m is not there. */
static int zp_insert(struct shard *s, struct item **itp, const char *m, size_t len, double score)
{
    size_t bytes = zp_bytes(*itp), need = cache__zp_pair_size(len, score);

    if (cache__item_room_locked(s, itp, bytes + need) != CACHE_OK)
        return CACHE_E_NOMEM;
    size_t pos = cache__zp_first(cval_of(*itp), bytes);
    while (pos && zp_cmp(*itp, pos, score, m, len) > 0)
        pos = cache__zp_next(cval_of(*itp), bytes, pos);
    cache__zp_insert(val_of(*itp), bytes, pos ? pos : bytes, m, len, score);
    (*itp)->vlen = (uint32_t)(bytes + need);
    return CACHE_OK;
}

/* Removes n pairs from pos on; shrink: give memory back. */
static void zp_delete(struct shard *s, struct item **itp, size_t pos, uint32_t n, bool shrink)
{
    (*itp)->vlen -= (uint32_t)cache__zp_delete(val_of(*itp), zp_bytes(*itp), pos, n);
    if (shrink)
        (void)cache__item_room_locked(s, itp, (*itp)->vlen);
}

/* ---- conversion ---------------------------------------------------------- */

static int to_big(struct shard *s, struct item **itp)
{
    /* the value area must take the pointer: a block of one short pair is
     * smaller than one */
    if (cache__item_vcap(*itp) < sizeof(void *) &&
        cache__item_room_locked(s, itp, sizeof(void *)) != CACHE_OK)
        return CACHE_E_NOMEM;
    struct item *it = *itp;
    struct cache__zset_big *z = cache__zbig_new(cache__zset_card(it) + 1);
    struct cache__zent e;

    if (!z)
        return CACHE_E_NOMEM;
    for (size_t p = cache__zp_first(cval_of(it), zp_bytes(it)); p;
         p = cache__zp_next(cval_of(it), zp_bytes(it), p)) {
        cache__zset_zp_ent(it, p, &e);
        if (cache__zbig_insert(s->c, NULL, z, e.s, e.len, e.score, true) != CACHE_OK) {
            cache__zbig_free(z);
            return CACHE_E_NOMEM;
        }
    }
    /* The value area now holds the pointer; the set's bytes reach the
     * shard now. */
    it->enc = CACHE__ENC_SKIPLIST;
    cache__item_set_ptr(it, z);
    cache__mem_add_locked(s, (int64_t)(z->bytes + z->t.bucket_bytes + z->tree.bytes));
    *itp = cache__item_resize_locked(s, it, sizeof(void *));   /* a shrink cannot fail */
    return CACHE_OK;
}

/* An empty compact set (unlinked, unaccounted). */
static struct item *zp_new(uint64_t h, const char *key, size_t klen)
{
    struct item *it = cache__item_new(h, key, klen, NULL, 0, CACHE__ZP_HDR);

    if (!it)
        return NULL;
    it->type = CACHE_TYPE_ZSET;
    it->enc = CACHE__ENC_ZPACK;
    cache__zp_init(val_of(it));
    it->vlen = CACHE__ZP_HDR;
    return it;
}

struct item *cache__zset_new(struct cache *c, uint64_t h, const char *key, size_t klen,
                             size_t first_len)
{
    struct limits l;

    limits_of(c, &l);
    if (l.entries == 0 || first_len > l.value) {
        struct cache__zset_big *z = cache__zbig_new(0);
        return z ? cache__zset_item_of_big(h, key, klen, z) : NULL;
    }
    return zp_new(h, key, klen);
}

/* ---- reading and writing members ------------------------------------------- */

bool cache__zset_score_locked(struct shard *s, const struct item *it, const char *m,
                              size_t len, double *score)
{
    ASSERT_LOCKED(s);
    if (it->enc == CACHE__ENC_ZPACK) {
        struct cache__zent e;
        size_t pos = zp_find(it, m, len);
        if (pos) {
            cache__zset_zp_ent(it, pos, &e);
            *score = e.score;
        }
        return pos != 0;
    }
    struct cache__zmember *n = cache__zbig_find(s->c, s, cache__zset_big(it), m, len);
    if (n)
        *score = n->score;
    return n != NULL;
}

/* What ZADD's flags make of a member already there with score cur: NOP,
 * or the score it gets (*score, an increment added). E_NAN: the sum. */
static int existing(int flags, double cur, double *score, int *out)
{
    if (flags & CACHE_ZADD_NX) {
        *out = CACHE__ZADD_NOP;
        return CACHE_OK;
    }
    if (flags & CACHE_ZADD_INCR) {
        *score += cur;
        if (isnan(*score))
            return CACHE_E_NAN;
    }
    if (((flags & CACHE_ZADD_LT) && *score >= cur) || ((flags & CACHE_ZADD_GT) && *score <= cur))
        *out = CACHE__ZADD_NOP;
    return CACHE_OK;
}

static int zp_add(struct shard *s, struct item **itp, double score, const char *m, size_t len,
                  int flags, int *out, double *newscore)
{
    size_t pos = zp_find(*itp, m, len);
    struct cache__zent e;
    struct limits l;

    if (pos) {
        cache__zset_zp_ent(*itp, pos, &e);
        double cur = e.score;
        int rc = existing(flags, cur, &score, out);
        if (rc != CACHE_OK || *out == CACHE__ZADD_NOP)
            return rc;
        *newscore = score;
        if (score == cur)
            return CACHE_OK;
        /* room for the new pair first, so that nothing is lost on ENOMEM */
        size_t bytes = zp_bytes(*itp);
        if (cache__item_room_locked(s, itp, bytes + cache__zp_pair_size(len, score)) != CACHE_OK)
            return CACHE_E_NOMEM;
        zp_delete(s, itp, zp_find(*itp, m, len), 1, false);   /* the room stays */
        (void)zp_insert(s, itp, m, len, score);                /* cannot fail: it is there */
        *out = CACHE__ZADD_UPDATED;
        return CACHE_OK;
    }
    if (flags & CACHE_ZADD_XX) {
        *out = CACHE__ZADD_NOP;
        return CACHE_OK;
    }
    limits_of(s->c, &l);
    if (cache__zset_card(*itp) + 1 > l.entries || len > l.value ||
        zp_bytes(*itp) + len + 32 > CACHE__LP_MAX)
        return CACHE__AGAIN;   /* the caller converts, then adds */
    if (zp_insert(s, itp, m, len, score) != CACHE_OK)
        return CACHE_E_NOMEM;
    *newscore = score;
    *out = CACHE__ZADD_ADDED;
    return CACHE_OK;
}

int cache__zset_add_locked(struct shard *s, struct item **itp, double score, const char *m,
                           size_t len, int flags, int *out, double *newscore)
{
    ASSERT_LOCKED(s);
    int rc;

    *out = 0;
    if (isnan(score))
        return CACHE_E_NAN;
    if ((*itp)->enc == CACHE__ENC_ZPACK) {
        rc = zp_add(s, itp, score, m, len, flags, out, newscore);
        if (rc != CACHE__AGAIN)
            return rc;
        if ((rc = to_big(s, itp)) != CACHE_OK)
            return rc;
    }
    struct cache__zset_big *z = cache__zset_big(*itp);
    struct cache__zmember *n = cache__zbig_find(s->c, s, z, m, len);
    if (n) {
        if ((rc = existing(flags, n->score, &score, out)) != CACHE_OK || *out == CACHE__ZADD_NOP)
            return rc;
        *newscore = score;
        if (score != n->score) {
            if (cache__zbig_rescore(s, z, n, score) != CACHE_OK)
                return CACHE_E_NOMEM;
            *out = CACHE__ZADD_UPDATED;
        }
        return CACHE_OK;
    }
    if (flags & CACHE_ZADD_XX) {
        *out = CACHE__ZADD_NOP;
        return CACHE_OK;
    }
    if ((rc = cache__zbig_insert(s->c, s, z, m, len, score, false)) != CACHE_OK)
        return rc;
    *newscore = score;
    *out = CACHE__ZADD_ADDED;
    return CACHE_OK;
}

int cache__zset_del_locked(struct shard *s, struct item **itp, const char *m, size_t len)
{
    ASSERT_LOCKED(s);
    if ((*itp)->enc == CACHE__ENC_ZPACK) {
        size_t pos = zp_find(*itp, m, len);
        if (pos)
            zp_delete(s, itp, pos, 1, true);
        return pos != 0;
    }
    struct cache__zset_big *z = cache__zset_big(*itp);
    struct cache__zmember *n = cache__zbig_find(s->c, s, z, m, len);
    if (n)
        cache__zbig_delete(s, z, n);
    return n != NULL;
}

uint64_t cache__zset_del_ranks_locked(struct shard *s, struct item **itp, uint64_t first,
                                      uint64_t last)
{
    ASSERT_LOCKED(s);
    if ((*itp)->enc == CACHE__ENC_ZPACK) {
        size_t pos = cache__zp_seek(cval_of(*itp), zp_bytes(*itp), first);
        zp_delete(s, itp, pos, (uint32_t)(last - first + 1), true);
        return last - first + 1;
    }
    struct cache__zset_big *z = cache__zset_big(*itp);
    struct cache__zt_pos p;
    for (uint64_t k = first; k <= last; k++) {
        cache__zt_at(&z->tree, first, &p);
        cache__zbig_delete(s, z, cache__zt_get(&p));
    }
    return last - first + 1;
}

bool cache__zset_rank_locked(struct shard *s, const struct item *it, const char *m,
                             size_t len, uint64_t *rank)
{
    ASSERT_LOCKED(s);
    if (it->enc == CACHE__ENC_ZPACK) {
        size_t pos = zp_find(it, m, len), p = cache__zp_first(cval_of(it), zp_bytes(it));
        uint64_t r = 0;
        if (!pos)
            return false;
        for (; p != pos; p = cache__zp_next(cval_of(it), zp_bytes(it), p))
            r++;
        *rank = r;
        return true;
    }
    struct cache__zset_big *z = cache__zset_big(it);
    struct cache__zmember *n = cache__zbig_find(s->c, s, z, m, len);
    struct cache__zt_pos p;
    if (!n)
        return false;
    cache__zt_find(&z->tree, n, &p);
    *rank = p.rank;
    return true;
}

int cache__zset_push_all(const struct item *it, int withscores, struct cache_keys *out)
{
    struct cache__zpos p;
    struct cache__zent e;
    int rc = CACHE_OK;

    for (cache__zset_at(it, 0, &p); p.ok && rc == CACHE_OK; cache__zset_next(it, &p)) {
        cache__zset_get(it, &p, &e);
        rc = withscores ? cache__zset_push(out, &e) : cache__keys_push(out, e.s, e.len);
    }
    return rc;
}

int cache__zset_pop_locked(struct shard *s, struct item **itp, int where, uint64_t count,
                           struct cache_keys *out)
{
    ASSERT_LOCKED(s);
    struct cache__zpos p;
    struct cache__zent e;
    uint64_t card = cache__zset_card(*itp), k = 0;
    int rc = CACHE_OK;

    if (count > card)
        count = card;
    if ((*itp)->enc == CACHE__ENC_ZPACK) {   /* copy them out, then one delete */
        uint64_t first = where == CACHE_ZMAX ? card - count : 0;
        struct cache__zpos *v = count ? malloc(count * sizeof(*v)) : NULL;
        if (count && !v)
            return CACHE_E_NOMEM;
        cache__zset_at(*itp, first, &p);
        for (uint64_t i = 0; i < count; i++, cache__zset_next(*itp, &p))
            v[i] = p;
        for (; k < count && rc == CACHE_OK; k++) {   /* ZPOPMAX: the highest first */
            cache__zset_get(*itp, &v[where == CACHE_ZMAX ? count - 1 - k : k], &e);
            rc = cache__zset_push(out, &e);
        }
        free(v);
        if (rc != CACHE_OK)
            return rc;
        if (count > 0)
            cache__zset_del_ranks_locked(s, itp, first, first + count - 1);
        return rc;
    }
    struct cache__zset_big *z = cache__zset_big(*itp);
    for (; k < count && rc == CACHE_OK; k++) {
        struct cache__zmember *m = where == CACHE_ZMAX ? z->tree.last->e[z->tree.last->n - 1]
                                                       : z->tree.first->e[0];
        e.s = m->data;
        e.len = m->len;
        e.score = m->score;
        if ((rc = cache__zset_push(out, &e)) == CACHE_OK)
            cache__zbig_delete(s, z, m);
    }
    return rc;
}

/* ---- building a set from sorted records ------------------------------------ */

struct item *cache__zset_build(struct cache *c, uint64_t h, const char *key, size_t klen,
                               const struct cache_keys *recs)
{
    size_t pos = 0, len, slen, n = 0, maxlen = 0, zbytes = CACHE__ZP_HDR;
    const char *m, *sc;
    struct limits l;
    struct item *it = NULL;

    while ((m = cache_keys_next(recs, &pos, &len)) != NULL) {
        sc = cache_keys_next(recs, &pos, &slen);
        n++;
        maxlen = len > maxlen ? len : maxlen;
        zbytes += cache__zp_pair_size(len, cache_keys_score(sc));
    }
    limits_of(c, &l);
    if (n == 0)
        return NULL;
    bool compact = n <= l.entries && maxlen <= l.value && zbytes <= CACHE__LP_MAX;
    struct cache__zset_big *z = compact ? NULL : cache__zbig_new(n);
    if (compact) {
        if (!(it = cache__item_new(h, key, klen, NULL, 0, zbytes)))
            return NULL;
        it->type = CACHE_TYPE_ZSET;
        it->enc = CACHE__ENC_ZPACK;
        cache__zp_init(val_of(it));
        it->vlen = CACHE__ZP_HDR;
    } else if (!z) {
        return NULL;
    }
    for (pos = 0; (m = cache_keys_next(recs, &pos, &len)) != NULL;) {
        double score = cache_keys_score(cache_keys_next(recs, &pos, &slen));
        if (compact) {   /* in order: each at the end */
            cache__zp_insert(val_of(it), it->vlen, it->vlen, m, len, score);
            it->vlen += (uint32_t)cache__zp_pair_size(len, score);
        } else if (cache__zbig_insert(c, NULL, z, m, len, score, true) != CACHE_OK) {
            cache__zbig_free(z);
            return NULL;
        }
    }
    return compact ? it : cache__zset_item_of_big(h, key, klen, z);
}

/* ---- the type registry entry (object.c) ------------------------------------- */

static size_t zset_ext_bytes(const struct item *it)
{
    const struct cache__zset_big *z = cache__zset_big(it);
    return z->bytes + z->t.bucket_bytes + z->tree.bytes;
}

static size_t zset_free_effort(const struct item *it)
{
    const struct cache__zset_big *z = cache__zset_big(it);
    return (size_t)z->tree.count + z->tree.count / CACHE__ZT_LEAF + 1;
}

static void zset_free_ext(struct item *it)
{
    cache__zbig_free(cache__zset_big(it));
}

static int zset_dup_ext(const struct item *src, struct item *dst)
{
    struct cache__zset_big *d;

    if (cache__zbig_dup(cache__zset_big(src), &d) != CACHE_OK)
        return CACHE_E_NOMEM;
    cache__item_set_ptr(dst, d);
    return CACHE_OK;
}

/* A compact set: whole pairs, in strict order, no member twice. */
static int zp_check(const struct item *it)
{
    const unsigned char *v = cval_of(it);
    struct cache__zent prev = {0}, e;
    size_t bytes = zp_bytes(it);

    if (cache__zp_validate(v, bytes) != 0 || cache__zp_count(v) == 0)
        return -1;
    for (size_t p = cache__zp_first(v, bytes); p; p = cache__zp_next(v, bytes, p)) {
        cache__zset_zp_ent(it, p, &e);
        if (isnan(e.score) || zp_find(it, e.s, e.len) != p)
            return -1;   /* no member twice (the first of its bytes is this one) */
        if (p != cache__zp_first(v, bytes) && zp_cmp(it, p, prev.score, prev.s, prev.len) >= 0)
            return -1;
        prev = e;
    }
    return 0;
}

static int zset_check(const struct item *it)
{
    if (it->enc == CACHE__ENC_ZPACK)
        return zp_check(it);
    if (it->enc != CACHE__ENC_SKIPLIST)
        return -1;
    return cache__zbig_check(cache__zset_big(it));
}

const struct cache__type cache__type_zset = {
    .ext_bytes = zset_ext_bytes,
    .free_effort = zset_free_effort,
    .free_ext = zset_free_ext,
    .dup_ext = zset_dup_ext,
    .check = zset_check,
};
