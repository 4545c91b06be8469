/*
 * t_set_table.c: the set's large encoding (t_set.h): a table of member
 * nodes, one allocation each (table.c's generic chained table with
 * incremental resize, as hashes use it). Also the private tables of the
 * commands on several keys (SUNION's de-duplication) and of a set being
 * built, which belong to no shard and are charged to nothing until an
 * item holding them is linked.
 *
 * Context: `s` is the shard the table belongs to, locked, or NULL for a
 * private table (then only the calling thread can reach it).
 */
#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#include "t_set.h"

#define NODE_HDR offsetof(struct cache__smember, data)

static void ht_charge(struct shard *s, struct cache__set_ht *h, int64_t delta)
{
    h->bytes = (size_t)((int64_t)h->bytes + delta);
    if (s)
        cache__mem_add_locked(s, delta);
}

static bool member_eq(const struct cache__tnode *n, const void *arg)
{
    const struct cache__lookup_key *k = arg;
    const struct cache__smember *m = (const struct cache__smember *)n;
    return m->len == k->len && memcmp(m->data, k->s, k->len) == 0;
}

static void member_key(const struct cache__tnode *n, struct cache__lookup_key *k)
{
    const struct cache__smember *m = (const struct cache__smember *)n;
    k->s = m->data;
    k->len = m->len;
}

static size_t node_size(const struct cache__tnode *n)
{
    return NODE_HDR + ((const struct cache__smember *)n)->len;
}

static struct cache__smember *ht_find(struct shard *s, struct cache__set_ht *h,
                                      uint64_t mh, const char *m, size_t len)
{
    struct cache__lookup_key k = {m, len};

    cache__ct_rehash(s, &h->t, 1);   /* lookups pay for the resize */
    return (struct cache__smember *)cache__ct_find(&h->t, mh, member_eq, &k);
}

/* Links a new node for m, hashed mh (no lookup). */
static int ht_link(struct shard *s, struct cache__set_ht *h, uint64_t mh,
                   const char *m, size_t len)
{
    struct cache__smember *n = malloc(NODE_HDR + len);

    if (!n)
        return CACHE_E_NOMEM;
    n->node.tnext = NULL;
    n->node.hash = mh;
    n->len = (uint32_t)len;
    memcpy(n->data, m, len);
    if (cache__ct_add(s, &h->t, &n->node) != 0) {
        free(n);
        return CACHE_E_NOMEM;
    }
    ht_charge(s, h, (int64_t)malloc_usable_size(n));
    return 1;
}

struct cache__set_ht *cache__set_ht_new(uint64_t hint)
{
    struct cache__set_ht *h = malloc(sizeof(*h));
    if (!h)
        return NULL;
    if (cache__ct_init(NULL, &h->t, hint) != 0) {
        free(h);
        return NULL;
    }
    h->bytes = malloc_usable_size(h);
    return h;
}

void cache__set_ht_free(struct cache__set_ht *h)
{
    cache__ct_free_nodes(&h->t);
    free(h);
}

bool cache__set_ht_has(struct cache *c, struct shard *s, struct cache__set_ht *h,
                       const char *m, size_t len)
{
    return ht_find(s, h, cache__hash(c, m, len), m, len) != NULL;
}

int cache__set_ht_insert(struct cache *c, struct shard *s, struct cache__set_ht *h,
                         const char *m, size_t len)
{
    return ht_link(s, h, cache__hash(c, m, len), m, len);
}

int cache__set_ht_add(struct cache *c, struct shard *s, struct cache__set_ht *h,
                      const char *m, size_t len)
{
    uint64_t mh = cache__hash(c, m, len);

    if (ht_find(s, h, mh, m, len))
        return 0;
    return ht_link(s, h, mh, m, len);
}

int cache__set_ht_del(struct shard *s, struct cache__set_ht *h, const char *m, size_t len)
{
    struct cache__smember *n = ht_find(s, h, cache__hash(s->c, m, len), m, len);

    if (!n)
        return 0;
    cache__ct_remove(s, &h->t, &n->node);
    ht_charge(s, h, -(int64_t)malloc_usable_size(n));
    free(n);
    cache__ct_maybe_shrink(s, &h->t);
    return 1;
}

const struct cache__smember *cache__set_random_node(const struct item *it)
{
    const struct cache__smember *n;

    /* A sparse table's unlucky draws come back NULL: draw again. */
    while (!(n = (const struct cache__smember *)cache__ct_random(&cache__set_table(it)->t)))
        ;
    return n;
}

struct item *cache__set_item_of_table(uint64_t h, const char *key, size_t klen,
                                      struct cache__set_ht *t)
{
    struct item *it = cache__item_new(h, key, klen, NULL, 0, sizeof(void *));

    if (!it) {
        cache__set_ht_free(t);
        return NULL;
    }
    it->type = CACHE_TYPE_SET;
    it->enc = CACHE__ENC_TABLE;
    cache__item_set_ptr(it, t);
    return it;
}

int cache__set_ht_dup(const struct cache__set_ht *src, struct cache__set_ht **dst)
{
    struct cache__set_ht *d = malloc(sizeof(*d));
    size_t bytes;

    if (!d)
        return CACHE_E_NOMEM;
    if (cache__ct_dup_nodes(&src->t, &d->t, node_size, &bytes) != CACHE_OK) {
        free(d);
        return CACHE_E_NOMEM;
    }
    d->bytes = malloc_usable_size(d) + bytes;
    *dst = d;
    return CACHE_OK;
}

int cache__set_ht_check(const struct cache__set_ht *h)
{
    size_t bytes, n;

    if (cache__ct_check_nodes(&h->t, member_eq, member_key, &bytes, &n) != 0)
        return -1;
    return bytes + malloc_usable_size((void *)h) == h->bytes && n > 0 ? 0 : -1;
}
