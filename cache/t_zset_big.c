/*
 * t_zset_big.c: the sorted set's large encoding (t_zset.h): a table of
 * member nodes, one allocation each (table.c's chained table with
 * incremental resize, as hashes and sets use it: member -> score in O(1)),
 * and the B+ tree of the same nodes in order (t_zset_tree.c). A member
 * costs its node (28 bytes of header and its bytes, rounded by the
 * allocator), a tree slot (8 bytes) and its share of the buckets.
 *
 * Context: `s` is the shard the set belongs to, locked, or NULL for a set
 * being built (then only the calling thread can reach it).
 */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "t_zset.h"

#define NODE_HDR offsetof(struct cache__zmember, data)

static void charge(struct shard *s, struct cache__zset_big *z, int64_t delta)
{
    z->bytes = (size_t)((int64_t)z->bytes + delta);
    if (s)
        cache__mem_add_locked(s, delta);
}

static bool member_eq(const struct cache__tnode *n, const void *arg)
{
    const struct cache__lookup_key *k = arg;
    const struct cache__zmember *m = (const struct cache__zmember *)n;
    return m->len == k->len && memcmp(m->data, k->s, k->len) == 0;
}

static void member_key(const struct cache__tnode *n, struct cache__lookup_key *k)
{
    const struct cache__zmember *m = (const struct cache__zmember *)n;
    k->s = m->data;
    k->len = m->len;
}

struct cache__zset_big *cache__zbig_new(uint64_t hint)
{
    struct cache__zset_big *z = malloc(sizeof(*z));

    if (!z)
        return NULL;
    if (cache__ct_init(NULL, &z->t, hint) != 0) {
        free(z);
        return NULL;
    }
    cache__zt_init(&z->tree);
    z->bytes = malloc_usable_size(z);
    return z;
}

void cache__zbig_free(struct cache__zset_big *z)
{
    cache__zt_free(NULL, &z->tree);
    cache__ct_free_nodes(&z->t);
    free(z);
}

struct cache__zmember *cache__zbig_find(struct cache *c, struct shard *s,
                                        struct cache__zset_big *z, const char *m, size_t len)
{
    struct cache__lookup_key k = {m, len};

    cache__ct_rehash(s, &z->t, 1);   /* lookups pay for the resize */
    return (struct cache__zmember *)cache__ct_find(&z->t, cache__hash(c, m, len), member_eq, &k);
}

struct cache__zmember *cache__zmember_new(uint64_t h, const char *m, size_t len, double score)
{
    struct cache__zmember *n = malloc(NODE_HDR + len);

    if (!n)
        return NULL;
    n->node.tnext = NULL;
    n->node.hash = h;
    n->score = score;
    n->len = (uint32_t)len;
    memcpy(n->data, m, len);
    return n;
}

/* Links a new node in the table and the tree; nothing changed on ENOMEM. */
static int link_node(struct shard *s, struct cache__zset_big *z, struct cache__zmember *n,
                     bool append)
{
    if (cache__ct_add(s, &z->t, &n->node) != 0) {
        free(n);
        return CACHE_E_NOMEM;
    }
    if ((append ? cache__zt_append(s, &z->tree, n) : cache__zt_insert(s, &z->tree, n)) != 0) {
        cache__ct_remove(s, &z->t, &n->node);
        free(n);
        return CACHE_E_NOMEM;
    }
    charge(s, z, (int64_t)malloc_usable_size(n));
    return CACHE_OK;
}

int cache__zbig_insert(struct cache *c, struct shard *s, struct cache__zset_big *z,
                       const char *m, size_t len, double score, bool append)
{
    struct cache__zmember *n = cache__zmember_new(cache__hash(c, m, len), m, len, score);

    return n ? link_node(s, z, n, append) : CACHE_E_NOMEM;
}

int cache__zbig_rescore(struct shard *s, struct cache__zset_big *z, struct cache__zmember *n,
                        double score)
{
    struct cache__zt_pos p, q;

    /* Still between its neighbours: the order holds as it is. */
    cache__zt_find(&z->tree, n, &p);
    q = p;
    cache__zt_prev(&q);
    bool after_prev = !q.leaf || cache__zt_cmp(score, n->data, n->len, cache__zt_get(&q)) > 0;
    q = p;
    cache__zt_next(&q);
    bool before_next = !q.leaf || cache__zt_cmp(score, n->data, n->len, cache__zt_get(&q)) < 0;
    if (after_prev && before_next) {
        n->score = score;
        return CACHE_OK;
    }
    /* Else a new node goes in at the new place before the old one comes
     * out: a split that cannot be allocated leaves the set as it was. */
    struct cache__zmember *nw = cache__zmember_new(n->node.hash, n->data, n->len, score);
    if (!nw || cache__zt_insert(s, &z->tree, nw) != 0) {
        free(nw);
        return CACHE_E_NOMEM;
    }
    cache__zt_remove(s, &z->tree, n);
    cache__ct_remove(s, &z->t, &n->node);
    (void)cache__ct_add(s, &z->t, &nw->node);   /* the table has buckets: cannot fail */
    charge(s, z, (int64_t)malloc_usable_size(nw) - (int64_t)malloc_usable_size(n));
    free(n);
    return CACHE_OK;
}

void cache__zbig_delete(struct shard *s, struct cache__zset_big *z, struct cache__zmember *n)
{
    cache__zt_remove(s, &z->tree, n);
    cache__ct_remove(s, &z->t, &n->node);
    charge(s, z, -(int64_t)malloc_usable_size(n));
    free(n);
    cache__ct_maybe_shrink(s, &z->t);
}

struct item *cache__zset_item_of_big(uint64_t h, const char *key, size_t klen,
                                     struct cache__zset_big *z)
{
    struct item *it = cache__item_new(h, key, klen, NULL, 0, sizeof(void *));

    if (!it) {
        cache__zbig_free(z);
        return NULL;
    }
    it->type = CACHE_TYPE_ZSET;
    it->enc = CACHE__ENC_SKIPLIST;
    cache__item_set_ptr(it, z);
    return it;
}

int cache__zbig_dup(const struct cache__zset_big *src, struct cache__zset_big **dst)
{
    struct cache__zset_big *d = cache__zbig_new(src->tree.count);
    struct cache__zt_pos p = {.leaf = src->tree.first};

    if (!d)
        return CACHE_E_NOMEM;
    for (; p.leaf; cache__zt_next(&p)) {
        const struct cache__zmember *n = cache__zt_get(&p);
        struct cache__zmember *c = cache__zmember_new(n->node.hash, n->data, n->len, n->score);
        if (!c || link_node(NULL, d, c, true) != CACHE_OK) {
            cache__zbig_free(d);
            return CACHE_E_NOMEM;
        }
    }
    *dst = d;
    return CACHE_OK;
}

int cache__zbig_check(const struct cache__zset_big *z)
{
    struct cache__zt_pos p = {.leaf = z->tree.first};
    size_t bytes, n;
    char why[128];

    if (cache__ct_check_nodes(&z->t, member_eq, member_key, &bytes, &n) != 0 ||
        bytes + malloc_usable_size((void *)z) != z->bytes || n != z->tree.count || n == 0)
        return -1;
    if (cache__zt_check(&z->tree, why, sizeof(why)) != 0) {
        fprintf(stderr, "%s\n", why);
        return -1;
    }
    for (; p.leaf; cache__zt_next(&p)) {   /* the tree holds the table's nodes */
        const struct cache__zmember *m = cache__zt_get(&p);
        struct cache__lookup_key k = {m->data, m->len};
        if (cache__ct_find(&z->t, m->node.hash, member_eq, &k) != &m->node || m->score != m->score)
            return -1;
    }
    return 0;
}
