/*
 * t_zset_pos.c: positions in a sorted set of either encoding (t_zset.h):
 * by rank, walking both ways, and the first and last member of a score
 * or lexicographic range, with Redis's rules for the ends of a range
 * (zslParseRange's exclusive ends, sdscmplex's "-" and "+").
 *
 * A listpack is walked (at most zset-max-listpack-entries members); the
 * tree is searched (O(log n)) and carries each member's rank.
 */
#include <string.h>

#include "t_zset.h"
#include "zpack.h"

static inline const unsigned char *cval_of(const struct item *it)
{
    return (const unsigned char *)item_cval(it);
}

/* ---- ranges ----------------------------------------------------------------- */

bool cache__zscore_gte_min(double v, const struct cache_zscore_range *r)
{
    return r->minex ? v > r->min : v >= r->min;
}

bool cache__zscore_lte_max(double v, const struct cache_zscore_range *r)
{
    return r->maxex ? v < r->max : v <= r->max;
}

/* Redis's sdscmplex: "-" below every string, "+" above. */
static int lex_cmp(const char *s, size_t len, const struct cache_zlex_bound *b)
{
    if (b->kind == CACHE_ZLEX_MINUS)
        return 1;
    if (b->kind == CACHE_ZLEX_PLUS)
        return -1;
    size_t l = len < b->len ? len : b->len;
    int c = memcmp(s, b->s, l);
    return c ? c : (len > b->len) - (len < b->len);
}

static bool lex_ex(const struct cache_zlex_bound *b)
{
    return b->kind != CACHE_ZLEX_INCL;   /* "-" and "+" are exclusive in Redis */
}

bool cache__zlex_gte_min(const char *s, size_t len, const struct cache_zlex_range *r)
{
    int c = lex_cmp(s, len, &r->min);
    return lex_ex(&r->min) ? c > 0 : c >= 0;
}

bool cache__zlex_lte_max(const char *s, size_t len, const struct cache_zlex_range *r)
{
    int c = lex_cmp(s, len, &r->max);
    return lex_ex(&r->max) ? c < 0 : c <= 0;
}

/* min against max as sdscmplex compares two bounds. */
static int bounds_cmp(const struct cache_zlex_range *r)
{
    const struct cache_zlex_bound *a = &r->min, *b = &r->max;

    if (a->kind >= CACHE_ZLEX_MINUS && a->kind == b->kind)
        return 0;
    if (a->kind == CACHE_ZLEX_MINUS || b->kind == CACHE_ZLEX_PLUS)
        return -1;
    if (a->kind == CACHE_ZLEX_PLUS || b->kind == CACHE_ZLEX_MINUS)
        return 1;
    return -lex_cmp(b->s, b->len, a);
}

/* ---- the compact encoding ---------------------------------------------------- */

static inline size_t zp_bytes(const struct item *it)
{
    return it->vlen;
}

static void zp_set(struct cache__zpos *p, size_t pos, uint64_t rank)
{
    p->ok = pos != 0;
    p->lp = pos;
    p->rank = rank;
}

/* ---- walking ------------------------------------------------------------------- */

static void tree_set(struct cache__zpos *p, const struct cache__zt_pos *tp)
{
    p->ok = tp->leaf != NULL;
    p->tp = *tp;
    p->rank = tp->rank;
}

void cache__zset_at(const struct item *it, uint64_t rank, struct cache__zpos *p)
{
    *p = (struct cache__zpos){0};   /* every field set: positions are copied whole */
    if (rank >= cache__zset_card(it)) {
        p->ok = false;
        return;
    }
    if (it->enc == CACHE__ENC_ZPACK) {
        zp_set(p, cache__zp_seek(cval_of(it), zp_bytes(it), rank), rank);
        return;
    }
    struct cache__zt_pos tp;
    cache__zt_at(&cache__zset_big(it)->tree, rank, &tp);
    tree_set(p, &tp);
}

void cache__zset_get(const struct item *it, const struct cache__zpos *p, struct cache__zent *e)
{
    assert(p->ok);
    if (it->enc == CACHE__ENC_ZPACK) {
        cache__zset_zp_ent(it, p->lp, e);
        return;
    }
    const struct cache__zmember *m = cache__zt_get(&p->tp);
    e->s = m->data;
    e->len = m->len;
    e->score = m->score;
}

void cache__zset_next(const struct item *it, struct cache__zpos *p)
{
    if (it->enc == CACHE__ENC_ZPACK) {
        zp_set(p, cache__zp_next(cval_of(it), zp_bytes(it), p->lp), p->rank + 1);
        return;
    }
    cache__zt_next(&p->tp);
    tree_set(p, &p->tp);
}

void cache__zset_prev(const struct item *it, struct cache__zpos *p)
{
    if (it->enc == CACHE__ENC_ZPACK) {   /* a walk from the start: see zpack.h */
        if (p->rank == 0)
            p->ok = false;
        else
            zp_set(p, cache__zp_seek(cval_of(it), zp_bytes(it), p->rank - 1), p->rank - 1);
        return;
    }
    cache__zt_prev(&p->tp);
    tree_set(p, &p->tp);
}

/* ---- the ends of a range --------------------------------------------------------- */

/* A score or a lex range, as the walks and the tree's searches see it. */
struct rng {
    bool lex;
    const struct cache_zscore_range *sr;
    const struct cache_zlex_range *lr;
};

static bool before(const struct rng *g, double score, const char *s, size_t len)
{
    return g->lex ? !cache__zlex_gte_min(s, len, g->lr) : !cache__zscore_gte_min(score, g->sr);
}

static bool after(const struct rng *g, double score, const char *s, size_t len)
{
    return g->lex ? !cache__zlex_lte_max(s, len, g->lr) : !cache__zscore_lte_max(score, g->sr);
}

static bool tree_before(const struct cache__zmember *m, const void *arg)
{
    return before(arg, m->score, m->data, m->len);
}

static bool tree_after(const struct cache__zmember *m, const void *arg)
{
    return after(arg, m->score, m->data, m->len);
}

/* Redis's zslIsInRange / zslIsInLexRange: an empty range, or one the set
 * lies wholly beside (its last member before it, its first after it). */
static bool maybe_in(const struct item *it, const struct rng *g)
{
    struct cache__zpos p;
    struct cache__zent e;

    if (g->lex) {
        int c = bounds_cmp(g->lr);
        if (c > 0 || (c == 0 && (lex_ex(&g->lr->min) || lex_ex(&g->lr->max))))
            return false;
    } else if (g->sr->min > g->sr->max ||
               (g->sr->min == g->sr->max && (g->sr->minex || g->sr->maxex))) {
        return false;
    }
    if (cache__zset_card(it) == 0)
        return false;
    cache__zset_at(it, cache__zset_card(it) - 1, &p);
    cache__zset_get(it, &p, &e);
    if (before(g, e.score, e.s, e.len))
        return false;
    cache__zset_at(it, 0, &p);
    cache__zset_get(it, &p, &e);
    return !after(g, e.score, e.s, e.len);
}

/* The first member not before the range, if it is not past it; or (last)
 * the last member not past it, if it is not before it. */
static void end_in(const struct item *it, const struct rng *g, bool last, struct cache__zpos *p)
{
    bool (*out)(const struct rng *, double, const char *, size_t) = last ? after : before;
    bool (*beyond)(const struct rng *, double, const char *, size_t) = last ? before : after;
    struct cache__zent e;

    p->ok = false;
    if (!maybe_in(it, g))
        return;
    if (it->enc == CACHE__ENC_ZPACK) {
        /* first: the first member not out; last: the last one not out,
         * which a forward walk meets last (what Redis's backward walk of
         * its listpack finds first, even for lex ranges over mixed scores) */
        const unsigned char *zp = cval_of(it);
        uint64_t rank = 0;
        size_t pos = cache__zp_first(zp, zp_bytes(it));
        p->ok = false;
        for (; pos; pos = cache__zp_next(zp, zp_bytes(it), pos), rank++) {
            cache__zset_zp_ent(it, pos, &e);
            if (out(g, e.score, e.s, e.len))
                continue;
            zp_set(p, pos, rank);
            if (!last)
                break;
        }
    } else {
        struct cache__zt_pos tp;
        const struct cache__ztree *t = &cache__zset_big(it)->tree;
        if (last)
            cache__zt_upper(t, tree_after, g, &tp);
        else
            cache__zt_lower(t, tree_before, g, &tp);
        tree_set(p, &tp);
    }
    if (p->ok) {
        cache__zset_get(it, p, &e);
        p->ok = !beyond(g, e.score, e.s, e.len);
    }
}

void cache__zset_first_score(const struct item *it, const struct cache_zscore_range *r,
                             struct cache__zpos *p)
{
    struct rng g = {.lex = false, .sr = r};
    end_in(it, &g, false, p);
}

void cache__zset_last_score(const struct item *it, const struct cache_zscore_range *r,
                            struct cache__zpos *p)
{
    struct rng g = {.lex = false, .sr = r};
    end_in(it, &g, true, p);
}

void cache__zset_first_lex(const struct item *it, const struct cache_zlex_range *r,
                           struct cache__zpos *p)
{
    struct rng g = {.lex = true, .lr = r};
    end_in(it, &g, false, p);
}

void cache__zset_last_lex(const struct item *it, const struct cache_zlex_range *r,
                          struct cache__zpos *p)
{
    struct rng g = {.lex = true, .lr = r};
    end_in(it, &g, true, p);
}
