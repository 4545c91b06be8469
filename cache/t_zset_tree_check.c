/*
 * t_zset_tree_check.c: the B+ tree's structural check (cache__zt_check,
 * t_zset_tree.h), for debug.c and the tests; apart from the tree's code
 * so that neither file is long.
 */
#include <malloc.h>
#include <stdio.h>

#include "t_zset_tree.h"

typedef struct cache__zt_leaf leaf_t;
typedef struct cache__zt_inner inner_t;
typedef struct cache__zmember zmem_t;

struct check {
    const struct cache__ztree *t;
    const leaf_t *prev_leaf;   /* the leaf before, in order */
    const zmem_t *prev;        /* the member before, in order */
    size_t bytes;
    char *why;
    size_t cap;
};

static int fail(struct check *k, const char *what)
{
    snprintf(k->why, k->cap, "zset tree: %s", what);
    return -1;
}

/* The subtree at node, `levels` above its leaves: *count its members. */
static int check_rec(struct check *k, const void *node, unsigned levels, bool root,
                     uint64_t *count)
{
    k->bytes += malloc_usable_size((void *)node);
    if (levels == 0) {
        const leaf_t *lf = node;
        if (lf->n == 0 || lf->n > CACHE__ZT_LEAF || lf->prev != k->prev_leaf ||
            (k->prev_leaf ? k->prev_leaf->next != lf : k->t->first != lf))
            return fail(k, "leaf fill or chain");
        for (uint32_t j = 0; j < lf->n; j++) {
            const zmem_t *m = lf->e[j];
            if (k->prev && cache__zt_cmp(m->score, m->data, m->len, k->prev) <= 0)
                return fail(k, "members out of order");
            k->prev = m;
        }
        k->prev_leaf = lf;
        *count = lf->n;
        return 0;
    }
    const inner_t *in = node;
    if (in->n == 0 || in->n > CACHE__ZT_INNER || (root && in->n < 2))
        return fail(k, "inner fill");
    *count = 0;
    for (uint32_t j = 0; j < in->n; j++) {
        uint64_t c;
        if (check_rec(k, in->kid[j], levels - 1, false, &c) != 0)
            return -1;
        if (c != in->cnt[j] || in->min[j] != cache__zt_min_of(in->kid[j], levels == 1))
            return fail(k, "inner count or min");
        *count += c;
    }
    return 0;
}

int cache__zt_check(const struct cache__ztree *t, char *why, size_t cap)
{
    struct check k = {.t = t, .why = why, .cap = cap};
    uint64_t count = 0;

    if (!t->root)
        return t->count == 0 && t->bytes == 0 && !t->first && !t->last ? 0
               : fail(&k, "empty tree with members, bytes or leaves");
    if (check_rec(&k, t->root, t->height, true, &count) != 0)
        return -1;
    if (count != t->count || k.bytes != t->bytes || k.prev_leaf != t->last ||
        k.prev_leaf->next || t->first->prev)
        return fail(&k, "count, bytes or ends");
    return 0;
}
