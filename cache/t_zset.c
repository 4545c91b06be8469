/*
 * t_zset.c: the sorted set type: its two encodings behind one interface
 * (t_zset.h), the listpack encoding itself, conversion to the large one
 * (t_zset_big.c), building a set from sorted records (the STORE
 * commands), and its entry in the type registry (object.c). The commands
 * are in zsetops.c, zsetrange.c and zsetmulti.c.
 */
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "t_zset.h"

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
    if (it->enc == CACHE__ENC_LISTPACK)
        return cache__lp_count(cval_of(it)) / 2;
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

/* ---- the listpack encoding ------------------------------------------------ */

/* How a score is stored: Redis's double2ll range as an integer, else the
 * double's bytes. */
static void score_key(struct cache__lp_key *k, double v, char raw[sizeof(double)])
{
    if (v >= (double)(-LLONG_MAX / 2) && v <= (double)(LLONG_MAX / 2) &&
        (double)(long long)v == v) {
        cache__lp_key_int(k, (long long)v);
        return;
    }
    memcpy(raw, &v, sizeof(v));
    k->s = raw;
    k->len = sizeof(v);
    k->isint = false;   /* its bytes, whatever they look like */
    k->v = 0;
}

static double lp_score(const unsigned char *lp, size_t pos)
{
    struct cache__lp_ent e;
    double d;

    cache__lp_get(lp, pos, &e);
    if (!e.s)
        return (double)e.v;
    memcpy(&d, e.s, sizeof(d));
    return d;
}

/* The member at entry pos and the score after it. */
static void lp_ent(const unsigned char *lp, size_t pos, struct cache__zent *z)
{
    struct cache__lp_ent e;

    cache__lp_get(lp, pos, &e);
    z->s = cache__lp_ent_str(&e, z->buf, &z->len);
    z->score = lp_score(lp, cache__lp_next(lp, pos));
}

static size_t lp_find(const unsigned char *lp, const char *m, size_t len)
{
    struct cache__lp_key k;

    if (cache__lp_count(lp) == 0)
        return 0;
    cache__lp_key_str(&k, m, len);
    return cache__lp_find(lp, cache__lp_first(lp), &k, 1);
}

/* (score, m) against the member at pos: <0, 0, >0 as cache__zt_cmp. */
static int lp_cmp(const unsigned char *lp, size_t pos, double score, const char *m, size_t len)
{
    struct cache__zent z;

    lp_ent(lp, pos, &z);
    if (score != z.score)
        return score < z.score ? -1 : 1;
    size_t l = len < z.len ? len : z.len;
    int c = memcmp(m, z.s, l);
    return c ? c : (len > z.len) - (len < z.len);
}

static size_t lp_pair_need(const char *m, size_t len, double score)
{
    struct cache__lp_key km, ks;
    char raw[sizeof(double)];

    cache__lp_key_str(&km, m, len);
    score_key(&ks, score, raw);
    return cache__lp_insert_need(&km) + cache__lp_insert_need(&ks);
}

/* Inserts (m, score) at its place; m is not there. */
static int lp_insert(struct shard *s, struct item **itp, const char *m, size_t len, double score)
{
    size_t bytes = cache__lp_bytes(cval_of(*itp));
    struct cache__lp_key km, ks;
    char raw[sizeof(double)];

    if (cache__item_room_locked(s, itp, bytes + lp_pair_need(m, len, score)) != CACHE_OK)
        return CACHE_E_NOMEM;
    unsigned char *lp = val_of(*itp);
    size_t pos = cache__lp_first(lp);
    while (pos && lp_cmp(lp, pos, score, m, len) > 0)
        pos = cache__lp_next(lp, cache__lp_next(lp, pos));
    if (!pos)
        pos = cache__lp_bytes(lp);   /* after every member */
    cache__lp_key_str(&km, m, len);
    score_key(&ks, score, raw);
    pos = cache__lp_insert(lp, pos, &km);
    cache__lp_insert(lp, pos + cache__lp_entry_size(lp, pos), &ks);
    (*itp)->vlen = (uint32_t)cache__lp_bytes(lp);
    return CACHE_OK;
}

static void lp_delete_pairs(struct shard *s, struct item **itp, size_t pos, uint32_t pairs)
{
    cache__lp_delete(val_of(*itp), pos, 2 * pairs);
    (*itp)->vlen = (uint32_t)cache__lp_bytes(cval_of(*itp));
    (void)cache__item_room_locked(s, itp, (*itp)->vlen);   /* may give memory back */
}

/* ---- conversion ---------------------------------------------------------- */

static int to_big(struct shard *s, struct item **itp)
{
    struct item *it = *itp;
    const unsigned char *lp = cval_of(it);
    struct cache__zset_big *z = cache__zbig_new(cache__zset_card(it) + 1);
    struct cache__zent e;

    if (!z)
        return CACHE_E_NOMEM;
    for (size_t p = cache__lp_first(lp); p; p = cache__lp_next(lp, cache__lp_next(lp, p))) {
        lp_ent(lp, p, &e);
        if (cache__zbig_insert(s->c, NULL, z, e.s, e.len, e.score, true) != CACHE_OK) {
            cache__zbig_free(z);
            return CACHE_E_NOMEM;
        }
    }
    /* The value area (at least a listpack's 8-byte header) now holds the
     * pointer; the set's bytes reach the shard now. */
    it->enc = CACHE__ENC_SKIPLIST;
    cache__item_set_ptr(it, z);
    cache__mem_add_locked(s, (int64_t)(z->bytes + z->t.bucket_bytes + z->tree.bytes));
    *itp = cache__item_resize_locked(s, it, sizeof(void *));   /* a shrink cannot fail */
    return CACHE_OK;
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
    return cache__item_new_lp(h, key, klen, CACHE_TYPE_ZSET);
}

/* ---- reading and writing members ------------------------------------------- */

bool cache__zset_score_locked(struct shard *s, const struct item *it, const char *m,
                              size_t len, double *score)
{
    ASSERT_LOCKED(s);
    if (it->enc == CACHE__ENC_LISTPACK) {
        const unsigned char *lp = cval_of(it);
        size_t pos = lp_find(lp, m, len);
        if (pos)
            *score = lp_score(lp, cache__lp_next(lp, pos));
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

static int lp_add(struct shard *s, struct item **itp, double score, const char *m, size_t len,
                  int flags, int *out, double *newscore)
{
    const unsigned char *lp = cval_of(*itp);
    size_t pos = lp_find(lp, m, len);
    struct limits l;

    if (pos) {
        double cur = lp_score(lp, cache__lp_next(lp, pos));
        int rc = existing(flags, cur, &score, out);
        if (rc != CACHE_OK || *out == CACHE__ZADD_NOP)
            return rc;
        *newscore = score;
        if (score == cur)
            return CACHE_OK;
        /* room for the new pair first, so that nothing is lost on ENOMEM */
        size_t bytes = cache__lp_bytes(lp);
        if (cache__item_room_locked(s, itp, bytes + lp_pair_need(m, len, score)) != CACHE_OK)
            return CACHE_E_NOMEM;
        unsigned char *v = val_of(*itp);
        cache__lp_delete(v, lp_find(v, m, len), 2);   /* no shrink: the room stays */
        (*itp)->vlen = (uint32_t)cache__lp_bytes(v);
        (void)lp_insert(s, itp, m, len, score);        /* cannot fail: the room is there */
        *out = CACHE__ZADD_UPDATED;
        return CACHE_OK;
    }
    if (flags & CACHE_ZADD_XX) {
        *out = CACHE__ZADD_NOP;
        return CACHE_OK;
    }
    limits_of(s->c, &l);
    if (cache__lp_count(lp) / 2 + 1 > l.entries || len > l.value ||
        cache__lp_bytes(lp) + len + 32 > CACHE__LP_MAX)
        return CACHE__AGAIN;   /* the caller converts, then adds */
    if (lp_insert(s, itp, m, len, score) != CACHE_OK)
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
    if ((*itp)->enc == CACHE__ENC_LISTPACK) {
        rc = lp_add(s, itp, score, m, len, flags, out, newscore);
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
    if ((*itp)->enc == CACHE__ENC_LISTPACK) {
        size_t pos = lp_find(cval_of(*itp), m, len);
        if (pos)
            lp_delete_pairs(s, itp, pos, 1);
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
    if ((*itp)->enc == CACHE__ENC_LISTPACK) {
        size_t pos = cache__lp_seek(cval_of(*itp), (long long)(2 * first));
        lp_delete_pairs(s, itp, pos, (uint32_t)(last - first + 1));
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
    if (it->enc == CACHE__ENC_LISTPACK) {
        const unsigned char *lp = cval_of(it);
        size_t pos = lp_find(lp, m, len);
        uint64_t r = 0;
        if (!pos)
            return false;
        for (size_t p = cache__lp_first(lp); p != pos; p = cache__lp_next(lp, p))
            r++;
        *rank = r / 2;
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
    if ((*itp)->enc == CACHE__ENC_LISTPACK) {   /* copy them out, then one delete */
        cache__zset_at(*itp, where == CACHE_ZMAX ? card - 1 : 0, &p);
        for (; k < count && rc == CACHE_OK; k++) {
            cache__zset_get(*itp, &p, &e);
            if ((rc = cache__zset_push(out, &e)) != CACHE_OK)
                break;
            if (where == CACHE_ZMAX)
                cache__zset_prev(*itp, &p);
            else
                cache__zset_next(*itp, &p);
        }
        if (k > 0)
            cache__zset_del_ranks_locked(s, itp, where == CACHE_ZMAX ? card - k : 0,
                                         where == CACHE_ZMAX ? card - 1 : k - 1);
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
    size_t pos = 0, len, slen, n = 0, maxlen = 0, lpbytes = CACHE__LP_HDR;
    const char *m, *sc;
    struct limits l;
    struct item *it;

    while ((m = cache_keys_next(recs, &pos, &len)) != NULL) {
        sc = cache_keys_next(recs, &pos, &slen);
        n++;
        maxlen = len > maxlen ? len : maxlen;
        lpbytes += lp_pair_need(m, len, cache_keys_score(sc));
    }
    limits_of(c, &l);
    if (n == 0)
        return NULL;
    bool lp = n <= l.entries && maxlen <= l.value && lpbytes <= CACHE__LP_MAX;
    struct cache__zset_big *z = lp ? NULL : cache__zbig_new(n);
    if (lp) {
        if (!(it = cache__item_new(h, key, klen, NULL, 0, lpbytes)))
            return NULL;
        it->type = CACHE_TYPE_ZSET;
        it->enc = CACHE__ENC_LISTPACK;
        cache__lp_init(val_of(it));
    } else if (!z) {
        return NULL;
    }
    for (pos = 0; (m = cache_keys_next(recs, &pos, &len)) != NULL;) {
        double score = cache_keys_score(cache_keys_next(recs, &pos, &slen));
        if (lp) {
            struct cache__lp_key km, ks;
            char raw[sizeof(double)];
            unsigned char *v = val_of(it);
            cache__lp_key_str(&km, m, len);
            score_key(&ks, score, raw);
            cache__lp_insert(v, cache__lp_bytes(v), &km);
            cache__lp_insert(v, cache__lp_bytes(v), &ks);
        } else if (cache__zbig_insert(c, NULL, z, m, len, score, true) != CACHE_OK) {
            cache__zbig_free(z);
            return NULL;
        }
    }
    if (!lp)
        return cache__zset_item_of_big(h, key, klen, z);
    it->vlen = (uint32_t)lpbytes;
    return it;
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

/* A listpack set: pairs, in strict order, no member twice. */
static int lp_check(const struct item *it)
{
    const unsigned char *v = cval_of(it);
    struct cache__zent prev, e;
    uint32_t count = cache__lp_count(v);

    if (it->vlen != cache__lp_bytes(v) || cache__lp_validate(v, it->vlen) != 0 ||
        count == 0 || count % 2 != 0)
        return -1;
    for (size_t p = cache__lp_first(v); p; p = cache__lp_next(v, cache__lp_next(v, p))) {
        lp_ent(v, p, &e);
        if (isnan(e.score) || lp_find(v, e.s, e.len) != p)
            return -1;   /* no member twice (the first of its bytes is this one) */
        if (p != cache__lp_first(v) && lp_cmp(v, p, prev.score, prev.s, prev.len) >= 0)
            return -1;
        prev = e;
        if (prev.s == e.buf)
            prev.s = prev.buf;
    }
    return 0;
}

static int zset_check(const struct item *it)
{
    if (it->enc == CACHE__ENC_LISTPACK)
        return lp_check(it);
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
