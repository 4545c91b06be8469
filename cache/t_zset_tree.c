/*
 * t_zset_tree.c: the B+ tree ordering a large sorted set's members
 * (t_zset_tree.h has the layout and why).
 *
 * Every change walks one path from the root to a leaf (struct path), and
 * then back up it fixing what the path's inner nodes say about the child
 * below: its member count and its smallest member; a split's new node is
 * carried up into the parent, a node left empty or under a quarter full
 * is dropped, merged or refilled from its sibling.
 */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "t_zset_tree.h"

#define LCAP CACHE__ZT_LEAF
#define ICAP CACHE__ZT_INNER

typedef struct cache__zt_leaf leaf_t;
typedef struct cache__zt_inner inner_t;
typedef struct cache__zmember zmem_t;

/* The nodes from the root (0) to a leaf (height): at an inner level the
 * child taken, at the leaf the slot. */
struct path {
    void *node[CACHE__ZT_MAXH + 1];
    uint32_t idx[CACHE__ZT_MAXH + 1];
};

static void charge(struct shard *s, struct cache__ztree *t, void *node, int sign)
{
    int64_t d = sign * (int64_t)malloc_usable_size(node);

    t->bytes = (size_t)((int64_t)t->bytes + d);
    if (s)
        cache__mem_add_locked(s, d);
}

static void node_free(struct shard *s, struct cache__ztree *t, void *node)
{
    charge(s, t, node, -1);
    free(node);
}

static inline uint32_t n_of(void *node, bool leaf)
{
    return leaf ? ((leaf_t *)node)->n : ((inner_t *)node)->n;
}

static uint64_t count_of(void *node, bool leaf)
{
    if (leaf)
        return ((leaf_t *)node)->n;
    const inner_t *in = node;
    uint64_t c = 0;
    for (uint32_t j = 0; j < in->n; j++)
        c += in->cnt[j];
    return c;
}

void cache__zt_init(struct cache__ztree *t)
{
    memset(t, 0, sizeof(*t));
}

static void free_rec(void *node, unsigned levels)
{
    if (levels > 0) {
        inner_t *in = node;
        for (uint32_t j = 0; j < in->n; j++)
            free_rec(in->kid[j], levels - 1);
    }
    free(node);
}

void cache__zt_free(struct shard *s, struct cache__ztree *t)
{
    if (t->root)
        free_rec(t->root, t->height);
    if (s)
        cache__mem_add_locked(s, -(int64_t)t->bytes);
    cache__zt_init(t);
}

/* ---- finding ----------------------------------------------------------- */

/* The path to where (score, s) is or would go: the last child whose
 * smallest member is not after it; in the leaf the first member not
 * before it. *rank: how many members are before that slot. */
static void descend(const struct cache__ztree *t, double score, const char *s, size_t len,
                    struct path *p, uint64_t *rank)
{
    void *n = t->root;
    uint64_t r = 0;

    for (unsigned l = 0; l < t->height; l++) {
        inner_t *in = n;
        uint32_t lo = 1, hi = in->n;
        while (lo < hi) {
            uint32_t mid = (lo + hi) / 2;
            if (cache__zt_cmp(score, s, len, in->min[mid]) < 0)
                hi = mid;
            else
                lo = mid + 1;
        }
        for (uint32_t j = 0; j < lo - 1; j++)
            r += in->cnt[j];
        p->node[l] = in;
        p->idx[l] = lo - 1;
        n = in->kid[lo - 1];
    }
    leaf_t *lf = n;
    uint32_t lo = 0, hi = lf->n;
    while (lo < hi) {
        uint32_t mid = (lo + hi) / 2;
        if (cache__zt_cmp(score, s, len, lf->e[mid]) > 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    p->node[t->height] = lf;
    p->idx[t->height] = lo;
    *rank = r + lo;
}

void cache__zt_find(const struct cache__ztree *t, const zmem_t *m, struct cache__zt_pos *p)
{
    struct path path;

    descend(t, m->score, m->data, m->len, &path, &p->rank);
    p->leaf = path.node[t->height];
    p->idx = path.idx[t->height];
    assert(p->leaf->e[p->idx] == m);
}

void cache__zt_at(const struct cache__ztree *t, uint64_t r, struct cache__zt_pos *p)
{
    void *n = t->root;

    assert(r < t->count);
    p->rank = r;
    for (unsigned l = 0; l < t->height; l++) {
        inner_t *in = n;
        uint32_t j = 0;
        while (r >= in->cnt[j]) {
            r -= in->cnt[j];
            j++;
        }
        n = in->kid[j];
    }
    p->leaf = n;
    p->idx = (uint32_t)r;
}

/* The first slot where `past` holds, past being false for a prefix of the
 * order and true after it: *leaf (the leaf it is in, or the last leaf
 * when it holds nowhere) and *pos in it (n: beyond the leaf's members),
 * *rank the members before that slot. */
static void first_past(const struct cache__ztree *t, bool (*past)(const zmem_t *, const void *),
                       const void *arg, leaf_t **leaf, uint32_t *pos, uint64_t *rank)
{
    void *n = t->root;
    uint64_t r = 0;

    for (unsigned l = 0; l < t->height; l++) {
        inner_t *in = n;
        uint32_t lo = 1, hi = in->n;
        while (lo < hi) {   /* the first child from 1 whose min is past */
            uint32_t mid = (lo + hi) / 2;
            if (past(in->min[mid], arg))
                hi = mid;
            else
                lo = mid + 1;
        }
        for (uint32_t j = 0; j < lo - 1; j++)
            r += in->cnt[j];
        n = in->kid[lo - 1];
    }
    leaf_t *lf = n;
    uint32_t lo = 0, hi = lf->n;
    while (lo < hi) {
        uint32_t mid = (lo + hi) / 2;
        if (past(lf->e[mid], arg))
            hi = mid;
        else
            lo = mid + 1;
    }
    *leaf = lf;
    *pos = lo;
    *rank = r + lo;
}

struct negated {
    cache__zt_pred pred;
    const void *arg;
};

static bool not_pred(const zmem_t *m, const void *arg)
{
    const struct negated *x = arg;
    return !x->pred(m, x->arg);
}

void cache__zt_lower(const struct cache__ztree *t, cache__zt_pred before, const void *arg,
                     struct cache__zt_pos *p)
{
    struct negated x = {before, arg};
    leaf_t *lf;
    uint32_t pos;

    p->leaf = NULL;
    if (!t->root)
        return;
    first_past(t, not_pred, &x, &lf, &pos, &p->rank);
    p->leaf = pos < lf->n ? lf : lf->next;   /* past this leaf: the next one's first */
    p->idx = pos < lf->n ? pos : 0;
}

void cache__zt_upper(const struct cache__ztree *t, cache__zt_pred after, const void *arg,
                     struct cache__zt_pos *p)
{
    leaf_t *lf;
    uint32_t pos;
    uint64_t rank;

    p->leaf = NULL;
    if (!t->root)
        return;
    first_past(t, after, arg, &lf, &pos, &rank);
    if (pos > 0) {
        p->leaf = lf;
        p->idx = pos - 1;
    } else if (lf->prev) {   /* before this leaf: the previous one's last */
        p->leaf = lf->prev;
        p->idx = lf->prev->n - 1;
    }
    p->rank = rank - 1;
}

/* ---- inserting ---------------------------------------------------------- */

static void inner_put(inner_t *in, uint32_t at, void *kid, zmem_t *min, uint64_t cnt)
{
    memmove(&in->kid[at + 1], &in->kid[at], (in->n - at) * sizeof(in->kid[0]));
    memmove(&in->min[at + 1], &in->min[at], (in->n - at) * sizeof(in->min[0]));
    memmove(&in->cnt[at + 1], &in->cnt[at], (in->n - at) * sizeof(in->cnt[0]));
    in->kid[at] = kid;
    in->min[at] = min;
    in->cnt[at] = cnt;
    in->n++;
}

static void inner_drop(inner_t *in, uint32_t at)
{
    in->n--;
    memmove(&in->kid[at], &in->kid[at + 1], (in->n - at) * sizeof(in->kid[0]));
    memmove(&in->min[at], &in->min[at + 1], (in->n - at) * sizeof(in->min[0]));
    memmove(&in->cnt[at], &in->cnt[at + 1], (in->n - at) * sizeof(in->cnt[0]));
}

/* How many of the LCAP + 1 (or ICAP + 1) members a full node splits into
 * stay in the left one: all but the new one when it goes after every
 * other member of the tree, only the new one when before every other
 * member; else half. */
static uint32_t split_keep(uint32_t cap, uint32_t pos, bool rightmost, bool leftmost)
{
    if (pos == cap && rightmost)
        return cap;
    if (pos == 0 && leftmost)
        return 1;
    return (cap + 1) / 2;
}

static void split_leaf(struct cache__ztree *t, leaf_t *l, leaf_t *r, uint32_t pos, zmem_t *m)
{
    zmem_t *all[LCAP + 1];
    uint32_t keep = split_keep(LCAP, pos, !l->next, !l->prev);

    memcpy(all, l->e, pos * sizeof(all[0]));
    all[pos] = m;
    memcpy(&all[pos + 1], &l->e[pos], (LCAP - pos) * sizeof(all[0]));
    memcpy(l->e, all, keep * sizeof(all[0]));
    memcpy(r->e, &all[keep], (LCAP + 1 - keep) * sizeof(all[0]));
    l->n = keep;
    r->n = LCAP + 1 - keep;
    r->prev = l;
    r->next = l->next;
    if (l->next)
        l->next->prev = r;
    else
        t->last = r;
    l->next = r;
}

static void split_inner(inner_t *l, inner_t *r, uint32_t pos, void *kid, zmem_t *min,
                        uint64_t cnt, bool rightmost)
{
    void *kids[ICAP + 1];
    zmem_t *mins[ICAP + 1];
    uint64_t cnts[ICAP + 1];
    uint32_t keep = split_keep(ICAP, pos, rightmost, false);

    memcpy(kids, l->kid, pos * sizeof(kids[0]));
    memcpy(mins, l->min, pos * sizeof(mins[0]));
    memcpy(cnts, l->cnt, pos * sizeof(cnts[0]));
    kids[pos] = kid;
    mins[pos] = min;
    cnts[pos] = cnt;
    memcpy(&kids[pos + 1], &l->kid[pos], (ICAP - pos) * sizeof(kids[0]));
    memcpy(&mins[pos + 1], &l->min[pos], (ICAP - pos) * sizeof(mins[0]));
    memcpy(&cnts[pos + 1], &l->cnt[pos], (ICAP - pos) * sizeof(cnts[0]));
    memcpy(l->kid, kids, keep * sizeof(kids[0]));
    memcpy(l->min, mins, keep * sizeof(mins[0]));
    memcpy(l->cnt, cnts, keep * sizeof(cnts[0]));
    memcpy(r->kid, &kids[keep], (ICAP + 1 - keep) * sizeof(kids[0]));
    memcpy(r->min, &mins[keep], (ICAP + 1 - keep) * sizeof(mins[0]));
    memcpy(r->cnt, &cnts[keep], (ICAP + 1 - keep) * sizeof(cnts[0]));
    l->n = keep;
    r->n = ICAP + 1 - keep;
}

/* The nodes a split along p needs: a leaf if the leaf is full, an inner
 * node for every full one above it, a root if all are full. */
static int prealloc(const struct cache__ztree *t, const struct path *p, void **pre,
                    unsigned *npre)
{
    unsigned h = t->height, k = 0;
    bool split = ((leaf_t *)p->node[h])->n == LCAP;

    if (split) {
        if (!(pre[k++] = calloc(1, sizeof(leaf_t))))
            goto out_nomem;
        for (unsigned l = h; l-- > 0 && split;)
            split = ((inner_t *)p->node[l])->n == ICAP;
        for (unsigned l = h; l-- > 0;) {
            if (((inner_t *)p->node[l])->n < ICAP)
                break;
            if (!(pre[k++] = malloc(sizeof(inner_t))))
                goto out_nomem;
        }
        if (split && !(pre[k++] = malloc(sizeof(inner_t))))   /* a new root */
            goto out_nomem;
    }
    *npre = k;
    return CACHE_OK;
out_nomem:
    while (k-- > 0)
        free(pre[k]);
    return CACHE_E_NOMEM;
}

static int first_leaf(struct shard *s, struct cache__ztree *t, zmem_t *m)
{
    leaf_t *lf = calloc(1, sizeof(*lf));

    if (!lf)
        return CACHE_E_NOMEM;
    charge(s, t, lf, 1);
    lf->e[0] = m;
    lf->n = 1;
    t->root = t->first = t->last = lf;
    t->height = 0;
    t->count = 1;
    return CACHE_OK;
}

static int insert_at(struct shard *s, struct cache__ztree *t, struct path *p, zmem_t *m)
{
    void *pre[CACHE__ZT_MAXH + 2];
    unsigned h = t->height, npre, k = 0;
    bool rightmost[CACHE__ZT_MAXH + 1];

    if (prealloc(t, p, pre, &npre) != CACHE_OK)
        return CACHE_E_NOMEM;
    rightmost[0] = true;
    for (unsigned l = 0; l < h; l++)
        rightmost[l + 1] = rightmost[l] && p->idx[l] == ((inner_t *)p->node[l])->n - 1;
    leaf_t *lf = p->node[h];
    uint32_t pos = p->idx[h];
    void *carry = NULL;   /* a new right sibling of the node just below */
    if (lf->n < LCAP) {
        memmove(&lf->e[pos + 1], &lf->e[pos], (lf->n - pos) * sizeof(lf->e[0]));
        lf->e[pos] = m;
        lf->n++;
    } else {
        carry = pre[k++];
        split_leaf(t, lf, carry, pos, m);
    }
    t->count++;
    for (unsigned l = h; l-- > 0;) {
        inner_t *in = p->node[l];
        uint32_t i = p->idx[l];
        bool leafkid = l + 1 == h;
        void *child = p->node[l + 1];
        in->min[i] = cache__zt_min_of(child, leafkid);
        if (!carry) {
            in->cnt[i]++;
            continue;
        }
        in->cnt[i] = count_of(child, leafkid);
        zmem_t *cmin = cache__zt_min_of(carry, leafkid);
        uint64_t ccnt = count_of(carry, leafkid);
        if (in->n < ICAP) {
            inner_put(in, i + 1, carry, cmin, ccnt);
            carry = NULL;
        } else {
            inner_t *r = pre[k++];
            split_inner(in, r, i + 1, carry, cmin, ccnt, rightmost[l]);
            carry = r;
        }
    }
    if (carry) {   /* the root split: a new root above both halves */
        inner_t *root = pre[k++];
        bool leafkid = h == 0;
        root->n = 2;
        root->kid[0] = t->root;
        root->kid[1] = carry;
        root->min[0] = cache__zt_min_of(t->root, leafkid);
        root->min[1] = cache__zt_min_of(carry, leafkid);
        root->cnt[0] = count_of(t->root, leafkid);
        root->cnt[1] = count_of(carry, leafkid);
        t->root = root;
        t->height++;
        assert(t->height < CACHE__ZT_MAXH);
    }
    assert(k == npre);
    for (unsigned j = 0; j < npre; j++)
        charge(s, t, pre[j], 1);
    return CACHE_OK;
}

int cache__zt_insert(struct shard *s, struct cache__ztree *t, zmem_t *m)
{
    struct path p;
    uint64_t rank;

    if (!t->root)
        return first_leaf(s, t, m);
    descend(t, m->score, m->data, m->len, &p, &rank);
    return insert_at(s, t, &p, m);
}

int cache__zt_append(struct shard *s, struct cache__ztree *t, zmem_t *m)
{
    struct path p;
    void *n = t->root;

    if (!n)
        return first_leaf(s, t, m);
    for (unsigned l = 0; l < t->height; l++) {
        inner_t *in = n;
        p.node[l] = in;
        p.idx[l] = in->n - 1;
        n = in->kid[in->n - 1];
    }
    p.node[t->height] = n;
    p.idx[t->height] = ((leaf_t *)n)->n;
    assert(cache__zt_cmp(m->score, m->data, m->len, t->last->e[t->last->n - 1]) > 0);
    return insert_at(s, t, &p, m);
}

/* ---- removing ----------------------------------------------------------- */

static void leaf_unlink(struct cache__ztree *t, leaf_t *lf)
{
    if (lf->prev)
        lf->prev->next = lf->next;
    else
        t->first = lf->next;
    if (lf->next)
        lf->next->prev = lf->prev;
    else
        t->last = lf->prev;
}

/* Moves the first k entries of r to the end of l (k > 0), or the last -k
 * entries of l to the front of r (k < 0); siblings, l before r. */
static void shift(void *l, void *r, int k, bool leaf)
{
    if (leaf) {
        leaf_t *a = l, *b = r;
        if (k > 0) {
            memcpy(&a->e[a->n], b->e, (size_t)k * sizeof(a->e[0]));
            memmove(b->e, &b->e[k], (b->n - (uint32_t)k) * sizeof(b->e[0]));
        } else {
            k = -k;
            memmove(&b->e[k], b->e, b->n * sizeof(b->e[0]));
            memcpy(b->e, &a->e[a->n - (uint32_t)k], (size_t)k * sizeof(b->e[0]));
            k = -k;
        }
        a->n = (uint32_t)((int)a->n + k);
        b->n = (uint32_t)((int)b->n - k);
        return;
    }
    inner_t *a = l, *b = r;
    if (k > 0) {
        for (int j = 0; j < k; j++)
            inner_put(a, a->n, b->kid[j], b->min[j], b->cnt[j]);
        for (int j = 0; j < k; j++)
            inner_drop(b, 0);
    } else {
        for (int j = 0; j < -k; j++) {
            uint32_t last = a->n - 1;
            inner_put(b, 0, a->kid[last], a->min[last], a->cnt[last]);
            inner_drop(a, last);
        }
    }
}

/* After a removal below in->kid[i]: a child left empty goes; one under a
 * quarter full merges with a sibling (when both fit in three quarters of
 * a node) or takes half of the sibling's surplus. */
static void fix_child(struct shard *s, struct cache__ztree *t, inner_t *in, uint32_t i,
                      bool leaf)
{
    void *c = in->kid[i];
    uint32_t cap = leaf ? LCAP : ICAP;

    if (n_of(c, leaf) == 0) {
        if (leaf)
            leaf_unlink(t, c);
        node_free(s, t, c);
        inner_drop(in, i);
        return;
    }
    in->min[i] = cache__zt_min_of(c, leaf);
    if (n_of(c, leaf) >= cap / 4 || in->n < 2)
        return;
    uint32_t a = i + 1 < in->n ? i : i - 1, b = a + 1;
    void *l = in->kid[a], *r = in->kid[b];
    uint32_t ln = n_of(l, leaf), rn = n_of(r, leaf);
    if (ln + rn <= cap * 3 / 4) {
        shift(l, r, (int)rn, leaf);
        in->cnt[a] += in->cnt[b];
        if (leaf)
            leaf_unlink(t, r);
        node_free(s, t, r);
        inner_drop(in, b);
    } else {
        shift(l, r, (int)((ln + rn) / 2) - (int)ln, leaf);
        in->cnt[a] = count_of(l, leaf);
        in->cnt[b] = count_of(r, leaf);
        in->min[b] = cache__zt_min_of(r, leaf);
    }
    in->min[a] = cache__zt_min_of(l, leaf);
}

void cache__zt_remove(struct shard *s, struct cache__ztree *t, const zmem_t *m)
{
    struct path p;
    uint64_t rank;
    unsigned h = t->height;

    descend(t, m->score, m->data, m->len, &p, &rank);
    leaf_t *lf = p.node[h];
    uint32_t pos = p.idx[h];
    assert(pos < lf->n && lf->e[pos] == m);
    lf->n--;
    memmove(&lf->e[pos], &lf->e[pos + 1], (lf->n - pos) * sizeof(lf->e[0]));
    t->count--;
    for (unsigned l = h; l-- > 0;) {
        inner_t *in = p.node[l];
        in->cnt[p.idx[l]]--;
        fix_child(s, t, in, p.idx[l], l + 1 == h);
    }
    /* a root with one child hands over to it; an empty tree has no nodes */
    while (t->height > 0 && ((inner_t *)t->root)->n <= 1) {
        inner_t *root = t->root;
        t->root = root->n ? root->kid[0] : NULL;
        t->height = root->n ? t->height - 1 : 0;
        node_free(s, t, root);
    }
    if (t->root && t->height == 0 && ((leaf_t *)t->root)->n == 0) {
        node_free(s, t, t->root);
        t->root = NULL;
    }
    if (!t->root)
        t->first = t->last = NULL;
}
