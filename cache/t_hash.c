/*
 * t_hash.c: the hash type: its two encodings behind one interface
 * (t_hash.h), conversion between them, and its entry in the type
 * registry (object.c). The commands on hashes are in hashops.c.
 */
#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#include "t_hash.h"

#define NODE_HDR offsetof(struct cache__hfield, data)

static inline unsigned char *lp_of(struct item *it)
{
    return (unsigned char *)item_val(it);
}

static inline const unsigned char *clp_of(const struct item *it)
{
    return (const unsigned char *)item_cval(it);
}

struct cache__hash_ht *cache__hash_table(const struct item *it)
{
    assert(it->type == CACHE_TYPE_HASH && it->enc == CACHE__ENC_TABLE);
    return cache__item_ptr(it);
}

struct item *cache__hash_new(uint64_t h, const char *key, size_t klen)
{
    return cache__item_new_lp(h, key, klen, CACHE_TYPE_HASH);
}

size_t cache__hash_len(const struct item *it)
{
    if (it->enc == CACHE__ENC_LISTPACK)
        return cache__lp_count(clp_of(it)) / 2;
    return (size_t)cache__ct_count(&cache__hash_table(it)->t);
}

/* ---- the table encoding ---------------------------------------------- */

/* Charges a change of the table's own bytes to it and to the shard (NULL
 * while the table is being built, unlinked). */
static void ht_charge(struct shard *s, struct cache__hash_ht *h, int64_t delta)
{
    h->bytes = (size_t)((int64_t)h->bytes + delta);
    if (s)
        cache__mem_add_locked(s, delta);
}

static bool field_eq(const struct cache__tnode *n, const void *arg)
{
    const struct cache__lookup_key *k = arg;
    const struct cache__hfield *f = (const struct cache__hfield *)n;
    return f->flen == k->len && memcmp(f->data, k->s, k->len) == 0;
}

static uint64_t field_hash(const struct cache *c, const char *f, size_t flen)
{
    return cache__hash(c, f, flen);
}

static struct cache__hfield *node_new(uint64_t fh, const char *f, size_t flen,
                                      const char *v, size_t vlen)
{
    struct cache__hfield *n = malloc(NODE_HDR + flen + vlen);
    if (!n)
        return NULL;
    n->node.tnext = NULL;
    n->node.hash = fh;
    n->flen = (uint32_t)flen;
    n->vlen = (uint32_t)vlen;
    memcpy(n->data, f, flen);
    if (vlen)
        memcpy(n->data + flen, v, vlen);
    return n;
}

static struct cache__hfield *ht_find(struct shard *s, struct cache__hash_ht *h,
                                     uint64_t fh, const char *f, size_t flen)
{
    struct cache__lookup_key k = {f, flen};

    cache__ct_rehash(s, &h->t, 1);   /* lookups pay for the resize */
    return (struct cache__hfield *)cache__ct_find(&h->t, fh, field_eq, &k);
}

static int ht_set(struct shard *s, struct item *it, const char *f, size_t flen,
                  const char *v, size_t vlen)
{
    struct cache__hash_ht *h = cache__hash_table(it);
    uint64_t fh = field_hash(s->c, f, flen);
    struct cache__hfield *old = ht_find(s, h, fh, f, flen), *n;

    if (old && NODE_HDR + flen + vlen <= malloc_usable_size(old)) {
        if (vlen)
            memcpy(old->data + flen, v, vlen);
        old->vlen = (uint32_t)vlen;
        return 0;
    }
    if (!(n = node_new(fh, f, flen, v, vlen)))
        return CACHE_E_NOMEM;
    if (cache__ct_add(s, &h->t, &n->node) != 0) {
        free(n);
        return CACHE_E_NOMEM;
    }
    ht_charge(s, h, (int64_t)malloc_usable_size(n));
    if (!old)
        return 1;
    cache__ct_remove(s, &h->t, &old->node);
    ht_charge(s, h, -(int64_t)malloc_usable_size(old));
    free(old);
    return 0;
}

static int ht_del(struct shard *s, struct item *it, const char *f, size_t flen)
{
    struct cache__hash_ht *h = cache__hash_table(it);
    struct cache__hfield *n = ht_find(s, h, field_hash(s->c, f, flen), f, flen);

    if (!n)
        return 0;
    cache__ct_remove(s, &h->t, &n->node);
    ht_charge(s, h, -(int64_t)malloc_usable_size(n));
    free(n);
    cache__ct_maybe_shrink(s, &h->t);
    return 1;
}

static void ht_free(struct cache__hash_ht *h)
{
    cache__ct_free_nodes(&h->t);
    free(h);
}

/* An empty table sized for n fields, unaccounted (s = NULL). */
static struct cache__hash_ht *ht_new(uint64_t n)
{
    struct cache__hash_ht *h = malloc(sizeof(*h));
    if (!h)
        return NULL;
    if (cache__ct_init(NULL, &h->t, n) != 0) {
        free(h);
        return NULL;
    }
    h->bytes = malloc_usable_size(h);
    return h;
}

/* Adds a node to a table being built (no lookup: fields are distinct). */
static int ht_build_add(struct cache__hash_ht *h, const struct cache *c,
                        const char *f, size_t flen, const char *v, size_t vlen)
{
    struct cache__hfield *n = node_new(field_hash(c, f, flen), f, flen, v, vlen);
    if (!n)
        return -1;
    if (cache__ct_add(NULL, &h->t, &n->node) != 0) {
        free(n);
        return -1;
    }
    h->bytes += malloc_usable_size(n);
    return 0;
}

/* ---- conversion --------------------------------------------------------- */

bool cache__hash_too_long(struct shard *s, const struct item *it, size_t flen,
                          size_t vlen)
{
    uint64_t maxv = atomic_load_explicit(&s->c->hash_lp_value, memory_order_relaxed);

    if (it->enc != CACHE__ENC_LISTPACK)
        return false;
    return flen > maxv || vlen > maxv ||
           it->vlen + flen + vlen + 2 * 10 > CACHE__LP_MAX;
}

int cache__hash_convert_locked(struct shard *s, struct item **itp)
{
    ASSERT_LOCKED(s);
    struct item *it = *itp;
    struct cache__hiter i;
    struct cache__hval f, v;

    if (it->enc != CACHE__ENC_LISTPACK)
        return CACHE_OK;
    struct cache__hash_ht *h = ht_new(cache__hash_len(it));
    if (!h)
        return CACHE_E_NOMEM;
    cache__hash_iter(it, &i);
    while (cache__hash_next(&i, &f, &v)) {
        if (ht_build_add(h, s->c, f.s, f.len, v.s, v.len) != 0) {
            ht_free(h);
            return CACHE_E_NOMEM;
        }
    }
    /* The value area (a listpack: at least its 8-byte header) now holds
     * the pointer; the table's bytes reach the shard now. */
    it->enc = CACHE__ENC_TABLE;
    cache__item_set_ptr(it, h);
    cache__mem_add_locked(s, (int64_t)(h->bytes + h->t.bucket_bytes));
    *itp = cache__item_resize_locked(s, it, sizeof(void *));   /* a shrink cannot fail */
    return CACHE_OK;
}

/* ---- the listpack encoding ---------------------------------------------- */

static int lp_set(struct shard *s, struct item **itp, const char *f, size_t flen,
                  const char *v, size_t vlen)
{
    struct cache__lp_key fk, vk;
    unsigned char *lp = lp_of(*itp);
    size_t bytes = cache__lp_bytes(lp);

    cache__lp_key_str(&fk, f, flen);
    cache__lp_key_str(&vk, v, vlen);
    size_t fpos = cache__lp_find(lp, cache__lp_first(lp), &fk, 1);
    if (fpos) {
        size_t vpos = cache__lp_next(lp, fpos);
        long long grow = cache__lp_replace_need(lp, vpos, &vk);
        if (grow > 0 && cache__item_room_locked(s, itp, bytes + (size_t)grow) != CACHE_OK)
            return CACHE_E_NOMEM;
        lp = lp_of(*itp);
        cache__lp_replace(lp, vpos, &vk);
        (*itp)->vlen = (uint32_t)cache__lp_bytes(lp);
        if (grow < 0)
            (void)cache__item_room_locked(s, itp, (*itp)->vlen);   /* may give memory back */
        return 0;
    }
    size_t need = cache__lp_insert_need(&fk) + cache__lp_insert_need(&vk);
    if (cache__item_room_locked(s, itp, bytes + need) != CACHE_OK)
        return CACHE_E_NOMEM;
    lp = lp_of(*itp);
    size_t at = cache__lp_insert(lp, bytes, &fk);
    cache__lp_insert(lp, at + cache__lp_entry_size(lp, at), &vk);
    (*itp)->vlen = (uint32_t)cache__lp_bytes(lp);
    return 1;
}

static int lp_del(struct shard *s, struct item **itp, const char *f, size_t flen)
{
    struct cache__lp_key fk;
    unsigned char *lp = lp_of(*itp);

    cache__lp_key_str(&fk, f, flen);
    size_t fpos = cache__lp_find(lp, cache__lp_first(lp), &fk, 1);
    if (!fpos)
        return 0;
    cache__lp_delete(lp, fpos, 2);
    (*itp)->vlen = (uint32_t)cache__lp_bytes(lp);
    (void)cache__item_room_locked(s, itp, (*itp)->vlen);
    return 1;
}

static void lp_val(const unsigned char *lp, size_t pos, struct cache__hval *v)
{
    struct cache__lp_ent e;

    cache__lp_get(lp, pos, &e);
    v->s = cache__lp_ent_str(&e, v->buf, &v->len);
}

/* ---- the interface -------------------------------------------------------- */

bool cache__hash_get_locked(struct shard *s, struct item *it, const char *f,
                            size_t flen, struct cache__hval *v)
{
    ASSERT_LOCKED(s);
    if (it->enc == CACHE__ENC_LISTPACK) {
        struct cache__lp_key fk;
        const unsigned char *lp = clp_of(it);
        cache__lp_key_str(&fk, f, flen);
        size_t fpos = cache__lp_find(lp, cache__lp_first(lp), &fk, 1);
        if (!fpos)
            return false;
        lp_val(lp, cache__lp_next(lp, fpos), v);
        return true;
    }
    struct cache__hfield *n = ht_find(s, cache__hash_table(it),
                                      field_hash(s->c, f, flen), f, flen);
    if (!n)
        return false;
    v->s = n->data + n->flen;
    v->len = n->vlen;
    return true;
}

int cache__hash_set_locked(struct shard *s, struct item **itp, const char *f,
                           size_t flen, const char *v, size_t vlen)
{
    ASSERT_LOCKED(s);
    int rc;

    if (cache__hash_too_long(s, *itp, flen, vlen) &&
        (rc = cache__hash_convert_locked(s, itp)) != CACHE_OK)
        return rc;
    if ((*itp)->enc != CACHE__ENC_LISTPACK)
        return ht_set(s, *itp, f, flen, v, vlen);
    rc = lp_set(s, itp, f, flen, v, vlen);
    uint64_t maxn = atomic_load_explicit(&s->c->hash_lp_entries, memory_order_relaxed);
    if (rc == 1 && cache__hash_len(*itp) > maxn)
        (void)cache__hash_convert_locked(s, itp);   /* ENOMEM: stays a listpack, still correct */
    return rc;
}

int cache__hash_del_locked(struct shard *s, struct item **itp, const char *f,
                           size_t flen)
{
    ASSERT_LOCKED(s);
    if ((*itp)->enc == CACHE__ENC_LISTPACK)
        return lp_del(s, itp, f, flen);
    return ht_del(s, *itp, f, flen);
}

void cache__hash_iter(const struct item *it, struct cache__hiter *i)
{
    i->it = it;
    i->pos = it->enc == CACHE__ENC_LISTPACK ? cache__lp_first(clp_of(it)) : 0;
    i->started = false;
}

void cache__hash_node_vals(const struct cache__hfield *n, struct cache__hval *f,
                           struct cache__hval *v)
{
    f->s = n->data;
    f->len = n->flen;
    if (v) {
        v->s = n->data + n->flen;
        v->len = n->vlen;
    }
}

bool cache__hash_next(struct cache__hiter *i, struct cache__hval *f,
                      struct cache__hval *v)
{
    if (i->it->enc == CACHE__ENC_LISTPACK) {
        const unsigned char *lp = clp_of(i->it);
        if (!i->pos)
            return false;
        cache__hash_lp_pair(i->it, i->pos, f, v);
        i->pos = cache__lp_next(lp, cache__lp_next(lp, i->pos));
        return true;
    }
    const struct cache__ctable *t = &cache__hash_table(i->it)->t;
    struct cache__tnode *n = i->started ? cache__ct_next(t, &i->ci)
                                        : cache__ct_first(t, &i->ci);
    i->started = true;
    if (!n)
        return false;
    cache__hash_node_vals((const struct cache__hfield *)n, f, v);
    return true;
}

void cache__hash_lp_pair(const struct item *it, size_t pos, struct cache__hval *f,
                         struct cache__hval *v)
{
    const unsigned char *lp = clp_of(it);
    lp_val(lp, pos, f);
    if (v)
        lp_val(lp, cache__lp_next(lp, pos), v);
}

struct cache__hfield *cache__hash_random_node(const struct item *it)
{
    return (struct cache__hfield *)cache__ct_random(&cache__hash_table(it)->t);
}

/* ---- the type registry entry (object.c) ---------------------------------- */

static size_t hash_ext_bytes(const struct item *it)
{
    const struct cache__hash_ht *h = cache__hash_table(it);
    return h->bytes + h->t.bucket_bytes;
}

static size_t hash_free_effort(const struct item *it)
{
    return (size_t)cache__ct_count(&cache__hash_table(it)->t) + 1;
}

static void hash_free_ext(struct item *it)
{
    ht_free(cache__hash_table(it));
}

static size_t node_size(const struct cache__tnode *n)
{
    const struct cache__hfield *f = (const struct cache__hfield *)n;
    return NODE_HDR + f->flen + f->vlen;
}

static int hash_dup_ext(const struct item *src, struct item *dst)
{
    struct cache__hash_ht *d = malloc(sizeof(*d));
    size_t bytes;

    if (!d)
        return CACHE_E_NOMEM;
    if (cache__ct_dup_nodes(&cache__hash_table(src)->t, &d->t, node_size, &bytes) != CACHE_OK) {
        free(d);
        return CACHE_E_NOMEM;
    }
    d->bytes = malloc_usable_size(d) + bytes;
    cache__item_set_ptr(dst, d);
    return CACHE_OK;
}

static void field_key(const struct cache__tnode *n, struct cache__lookup_key *k)
{
    const struct cache__hfield *f = (const struct cache__hfield *)n;
    k->s = f->data;
    k->len = f->flen;
}

static int hash_check(const struct item *it)
{
    if (it->enc == CACHE__ENC_LISTPACK) {
        const unsigned char *lp = clp_of(it);
        if (it->vlen != cache__lp_bytes(lp) || cache__lp_validate(lp, it->vlen) != 0)
            return -1;
        return cache__lp_count(lp) % 2 == 0 && cache__lp_count(lp) > 0 ? 0 : -1;
    }
    if (it->enc != CACHE__ENC_TABLE)
        return -1;
    const struct cache__hash_ht *h = cache__hash_table(it);
    size_t bytes, n;
    if (cache__ct_check_nodes(&h->t, field_eq, field_key, &bytes, &n) != 0)
        return -1;
    return bytes + malloc_usable_size((void *)h) == h->bytes && n > 0 ? 0 : -1;
}

const struct cache__type cache__type_hash = {
    .ext_bytes = hash_ext_bytes,
    .free_effort = hash_free_effort,
    .free_ext = hash_free_ext,
    .dup_ext = hash_dup_ext,
    .check = hash_check,
};
