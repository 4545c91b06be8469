/*
 * t_zset_tree.h: the ordered index of a large sorted set (t_zset_tree.c):
 * a B+ tree of pointers to member nodes, ordered by (score, member bytes),
 * with each inner slot counting the members below it, so that a rank, a
 * member at a rank and the number of members in a range are O(log n).
 *
 * Why a B+ tree and not Redis's skiplist (docs/types.md, "Sorted sets"):
 * Redis spends a skiplist node per member (score, member pointer,
 * backward link and 1.33 levels of forward link and span on average:
 * ~48 bytes with rounding) besides its dict entry. Here a member costs one
 * 8-byte slot in a leaf of 61 (full when filled in order, ~70% when filled
 * at random), and the inner levels add about 1/30 of that: the member's
 * own node (t_zset.h) carries its score, and the tree only points at it,
 * as Dragonfly's B+ tree does. A leaf is one 512-byte allocation and a
 * walk in order touches one leaf per 61 members.
 *
 *  leaf   prev/next links (the leaves in order, for walking both ways), n,
 *         then up to CACHE__ZT_LEAF member pointers in order
 *  inner  n, then per child: the child, the smallest member under it, and
 *         how many members are under it
 *
 * Inserting splits a full node in two halves, except at the ends of the
 * tree (a member after every other one, or before), where the full node
 * stays full and the new one starts with the new member: members added in
 * order (timestamps, counters) fill every leaf. Removing merges a node
 * that fell under a quarter full with a sibling, or takes members from
 * it. The nodes a split needs are allocated before anything changes, so
 * CACHE_E_NOMEM leaves the tree as it was; removing never allocates.
 *
 * Memory: every node's usable size is in `bytes`, and charged to the
 * shard passed (NULL: a tree not in any shard yet).
 *
 * Context: the caller holds the lock of the shard the tree belongs to (or
 * the tree is private to the calling thread); nothing here locks.
 */
#ifndef MMCACHE_T_ZSET_TREE_H
#define MMCACHE_T_ZSET_TREE_H

#include <string.h>

#include "cache_int.h"

/* A member of a large sorted set: one allocation, linked in the set's
 * member table (node) and pointed at by one slot of its tree. */
struct cache__zmember {
    struct cache__tnode node;   /* guarded by: shard lock; hash of the member */
    double score;               /* guarded by: shard lock; never NaN */
    uint32_t len;               /* immutable */
    char data[];                /* immutable: the member's bytes */
};

#define CACHE__ZT_LEAF 61        /* a leaf is 512 bytes */
#define CACHE__ZT_INNER 42       /* an inner node is 1016 bytes (1 KiB class) */
#define CACHE__ZT_MAXH 32        /* levels: far beyond any memory's worth */

struct cache__zt_leaf {
    struct cache__zt_leaf *prev, *next;
    uint32_t n;
    struct cache__zmember *e[CACHE__ZT_LEAF];
};

struct cache__zt_inner {
    uint32_t n;
    void *kid[CACHE__ZT_INNER];
    struct cache__zmember *min[CACHE__ZT_INNER];
    uint64_t cnt[CACHE__ZT_INNER];
};

struct cache__ztree {
    void *root;                     /* NULL when empty */
    unsigned height;                /* inner levels above the leaves */
    uint64_t count;
    struct cache__zt_leaf *first, *last;
    size_t bytes;                   /* usable sizes of every node */
};

/* A position: a leaf and a slot in it, and the rank of that member. */
struct cache__zt_pos {
    struct cache__zt_leaf *leaf;    /* NULL: no member */
    uint32_t idx;
    uint64_t rank;
};

/* The order: score, then the bytes as memcmp (a prefix first). */
static inline int cache__zt_cmp(double score, const char *s, size_t len,
                                const struct cache__zmember *m)
{
    if (score < m->score)
        return -1;
    if (score > m->score)
        return 1;
    size_t l = len < m->len ? len : m->len;
    int c = memcmp(s, m->data, l);
    return c ? c : (len > m->len) - (len < m->len);
}

void cache__zt_init(struct cache__ztree *t);
/* Frees the nodes, not the members. */
void cache__zt_free(struct shard *s, struct cache__ztree *t);
/* m is not in the tree. 0 or CACHE_E_NOMEM (nothing changed). */
int cache__zt_insert(struct shard *s, struct cache__ztree *t, struct cache__zmember *m);
/* m comes after every member in the tree (building from sorted input). */
int cache__zt_append(struct shard *s, struct cache__ztree *t, struct cache__zmember *m);
/* m is in the tree, at its place for m->score: taken out. */
void cache__zt_remove(struct shard *s, struct cache__ztree *t, const struct cache__zmember *m);

/* The position of m (in the tree), with its rank. */
void cache__zt_find(const struct cache__ztree *t, const struct cache__zmember *m,
                    struct cache__zt_pos *p);
/* The member at rank r (< count). */
void cache__zt_at(const struct cache__ztree *t, uint64_t r, struct cache__zt_pos *p);
/* Bounds by a predicate that holds for a prefix of the order (`before`:
 * the member is before the range) or a suffix (`after`): the first member
 * for which before() is false / the last for which after() is false; the
 * position's leaf is NULL when there is none. */
typedef bool (*cache__zt_pred)(const struct cache__zmember *m, const void *arg);
void cache__zt_lower(const struct cache__ztree *t, cache__zt_pred before, const void *arg,
                     struct cache__zt_pos *p);
void cache__zt_upper(const struct cache__ztree *t, cache__zt_pred after, const void *arg,
                     struct cache__zt_pos *p);

/* A node's smallest member (leaf: levels == 0 below it). */
static inline struct cache__zmember *cache__zt_min_of(void *node, bool leaf)
{
    return leaf ? ((struct cache__zt_leaf *)node)->e[0]
                : ((struct cache__zt_inner *)node)->min[0];
}

static inline struct cache__zmember *cache__zt_get(const struct cache__zt_pos *p)
{
    return p->leaf ? p->leaf->e[p->idx] : NULL;
}
/* Steps along the order; the leaf goes NULL past an end. */
static inline void cache__zt_next(struct cache__zt_pos *p)
{
    if (++p->idx >= p->leaf->n) {
        p->leaf = p->leaf->next;
        p->idx = 0;
    }
    p->rank++;
}
static inline void cache__zt_prev(struct cache__zt_pos *p)
{
    if (p->idx == 0) {
        p->leaf = p->leaf->prev;
        p->idx = p->leaf ? p->leaf->n - 1 : 0;
    } else {
        p->idx--;
    }
    p->rank--;
}

/* debug.c and the tests: the order, every count and min, the leaf chain,
 * the fill, the bytes. 0 or -1 (why says which). */
int cache__zt_check(const struct cache__ztree *t, char *why, size_t cap);

#endif
