/*
 * t_set.c: the set type: its three encodings behind one interface
 * (t_set.h), the conversions between them, building a set from a list of
 * members (the STORE commands), and its entry in the type registry
 * (object.c). The commands on sets are in setops.c and setmulti.c.
 */
#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#include "t_set.h"

/* Past this many 8-byte members an intset would pass 1 GiB (Redis's
 * safety limit for compact blocks): the cap whatever the setting says. */
#define IS_CAP ((uint64_t)(CACHE__LP_MAX - CACHE__IS_HDR) / 8)

static inline unsigned char *val_of(struct item *it)
{
    return (unsigned char *)item_val(it);
}

static inline const unsigned char *cval_of(const struct item *it)
{
    return (const unsigned char *)item_cval(it);
}

struct cache__set_ht *cache__set_table(const struct item *it)
{
    assert(it->type == CACHE_TYPE_SET && it->enc == CACHE__ENC_TABLE);
    return cache__item_ptr(it);
}

/* The thresholds, each read once per decision (a CONFIG SET racing a
 * write applies either value). */
struct limits {
    uint64_t is_max, lp_max, lp_value;
};

static void limits_of(struct cache *c, struct limits *l)
{
    l->is_max = atomic_load_explicit(&c->set_is_entries, memory_order_relaxed);
    l->lp_max = atomic_load_explicit(&c->set_lp_entries, memory_order_relaxed);
    l->lp_value = atomic_load_explicit(&c->set_lp_value, memory_order_relaxed);
    if (l->is_max > IS_CAP)
        l->is_max = IS_CAP;
}

void cache__smem_str(struct cache__smem *m, const char *s, size_t len)
{
    cache__lp_key_str(&m->k, s, len);
}

void cache__smem_int(struct cache__smem *m, int64_t v)
{
    m->k.isint = true;
    m->k.v = v;
    m->k.len = (size_t)cache__ll2string(m->buf, sizeof(m->buf), v);
    m->k.s = m->buf;
}

size_t cache__set_card(const struct item *it)
{
    switch (it->enc) {
    case CACHE__ENC_INTSET: return cache__is_count(cval_of(it));
    case CACHE__ENC_LISTPACK: return cache__lp_count(cval_of(it));
    default: return (size_t)cache__ct_count(&cache__set_table(it)->t);
    }
}

/* ---- conversions ------------------------------------------------------ */

/* Grows or shrinks a linked item's value room. */
static int room(struct shard *s, struct item **itp, size_t bytes)
{
    struct item *nw = cache__item_resize_locked(s, *itp, bytes);
    if (!nw)
        return CACHE_E_NOMEM;
    *itp = nw;
    return CACHE_OK;
}

/* A compact set's members into a new private table sized for `hint`. */
static struct cache__set_ht *table_of(struct cache *c, const struct item *it,
                                      size_t hint)
{
    size_t n = cache__set_card(it);
    struct cache__set_ht *h = cache__set_ht_new(hint > n ? hint : n);
    struct cache__siter i;
    struct cache__smem m;

    if (!h)
        return NULL;
    cache__set_iter(it, &i);
    while (cache__set_next(&i, &m)) {
        if (cache__set_ht_insert(c, NULL, h, m.k.s, m.k.len) < 0) {
            cache__set_ht_free(h);
            return NULL;
        }
    }
    return h;
}

/* Intset or listpack to table (a no-op for a table). */
static int to_table(struct shard *s, struct item **itp, size_t hint)
{
    struct item *it = *itp;

    if (it->enc == CACHE__ENC_TABLE)
        return CACHE_OK;
    struct cache__set_ht *h = table_of(s->c, it, hint);
    if (!h)
        return CACHE_E_NOMEM;
    /* The value area (at least a compact block's 8-byte header) now holds
     * the pointer; the table's bytes reach the shard now. */
    it->enc = CACHE__ENC_TABLE;
    cache__item_set_ptr(it, h);
    cache__mem_add_locked(s, (int64_t)(h->bytes + h->t.bucket_bytes));
    *itp = cache__item_resize_locked(s, it, sizeof(void *));   /* a shrink cannot fail */
    return CACHE_OK;
}

/* Bytes a listpack of an intset's members takes. */
static size_t intset_lp_bytes(const unsigned char *is)
{
    size_t bytes = CACHE__LP_HDR;
    struct cache__lp_key k;

    for (uint32_t i = 0; i < cache__is_count(is); i++) {
        cache__lp_key_int(&k, cache__is_get(is, i));
        bytes += cache__lp_insert_need(&k);
    }
    return bytes;
}

static int intset_to_lp(struct shard *s, struct item **itp)
{
    const unsigned char *is = cval_of(*itp);
    size_t bytes = intset_lp_bytes(is);
    unsigned char *lp = malloc(bytes);
    struct cache__lp_key k;

    if (!lp)
        return CACHE_E_NOMEM;
    cache__lp_init(lp);
    for (uint32_t i = 0; i < cache__is_count(is); i++) {
        cache__lp_key_int(&k, cache__is_get(is, i));
        cache__lp_insert(lp, cache__lp_bytes(lp), &k);
    }
    if (room(s, itp, bytes) != CACHE_OK) {
        free(lp);
        return CACHE_E_NOMEM;
    }
    memcpy(val_of(*itp), lp, bytes);
    (*itp)->enc = CACHE__ENC_LISTPACK;
    (*itp)->vlen = (uint32_t)bytes;
    free(lp);
    return CACHE_OK;
}

/* Decimal length of the intset's longest member (its smallest or its
 * largest), 0 when empty. */
static size_t intset_max_digits(const unsigned char *is)
{
    uint32_t n = cache__is_count(is);
    char buf[CACHE__LP_INTBUF];

    if (n == 0)
        return 0;
    size_t a = (size_t)cache__ll2string(buf, sizeof(buf), cache__is_get(is, 0));
    size_t b = (size_t)cache__ll2string(buf, sizeof(buf), cache__is_get(is, n - 1));
    return a > b ? a : b;
}

/* Could a listpack of `n` members, the longest `maxlen` bytes, in
 * `bytes` bytes, take one more member of `len` bytes? */
static bool lp_takes(const struct limits *l, size_t n, size_t maxlen, size_t bytes,
                     size_t len)
{
    return n < l->lp_max && len <= l->lp_value && maxlen <= l->lp_value &&
           bytes + len + 16 <= CACHE__LP_MAX;
}

bool cache__set_may_convert(struct shard *s, const struct item *it, size_t n,
                            size_t maxlen, bool any_string)
{
    struct limits l;

    limits_of(s->c, &l);
    switch (it->enc) {
    case CACHE__ENC_INTSET:
        return any_string || cache__set_card(it) + n > l.is_max;
    case CACHE__ENC_LISTPACK:
        return maxlen > l.lp_value || cache__set_card(it) + n > l.lp_max;
    default:
        return false;
    }
}

void cache__set_maybe_convert_locked(struct shard *s, struct item **itp, size_t hint)
{
    ASSERT_LOCKED(s);
    struct limits l;

    limits_of(s->c, &l);
    if (((*itp)->enc == CACHE__ENC_INTSET && hint > l.is_max) ||
        ((*itp)->enc == CACHE__ENC_LISTPACK && hint > l.lp_max))
        (void)to_table(s, itp, hint);
}

/* ---- the compact encodings --------------------------------------------- */

static int intset_add(struct shard *s, struct item **itp, int64_t v)
{
    uint32_t pos;

    if (cache__is_find(cval_of(*itp), v, &pos))
        return 0;
    if (room(s, itp, cache__is_add_need(cval_of(*itp), v)) != CACHE_OK)
        return CACHE_E_NOMEM;
    cache__is_add(val_of(*itp), v);
    (*itp)->vlen = (uint32_t)cache__is_bytes(cval_of(*itp));
    return 1;
}

static int lp_append(struct shard *s, struct item **itp, const struct cache__lp_key *k)
{
    size_t bytes = cache__lp_bytes(cval_of(*itp));

    if (room(s, itp, bytes + cache__lp_insert_need(k)) != CACHE_OK)
        return CACHE_E_NOMEM;
    cache__lp_insert(val_of(*itp), bytes, k);
    (*itp)->vlen = (uint32_t)cache__lp_bytes(cval_of(*itp));
    return 1;
}

static size_t lp_pos_of(const unsigned char *lp, const struct cache__lp_key *k)
{
    return cache__lp_find(lp, cache__lp_first(lp), k, 0);
}

/* ---- the interface ---------------------------------------------------- */

struct item *cache__set_new(struct cache *c, uint64_t h, const char *key, size_t klen,
                            const struct cache__smem *first, size_t hint)
{
    struct limits l;
    struct item *it;

    limits_of(c, &l);
    if (hint > l.lp_max && !(first->k.isint && hint <= l.is_max)) {
        struct cache__set_ht *t = cache__set_ht_new(hint);
        return t ? cache__set_item_of_table(h, key, klen, t) : NULL;
    }
    /* Both compact headers are 8 bytes: room enough for the first member
     * is grown by the first add. */
    if (!(it = cache__item_new(h, key, klen, NULL, 0, CACHE__IS_HDR)))
        return NULL;
    it->type = CACHE_TYPE_SET;
    if (first->k.isint && hint <= l.is_max) {
        it->enc = CACHE__ENC_INTSET;
        cache__is_init(val_of(it));
    } else {
        it->enc = CACHE__ENC_LISTPACK;
        cache__lp_init(val_of(it));
    }
    it->vlen = CACHE__IS_HDR;
    return it;
}

bool cache__set_has_locked(struct shard *s, const struct item *it,
                           const struct cache__smem *m)
{
    ASSERT_LOCKED(s);
    uint32_t pos;

    switch (it->enc) {
    case CACHE__ENC_INTSET:
        return m->k.isint && cache__is_find(cval_of(it), m->k.v, &pos);
    case CACHE__ENC_LISTPACK:
        return lp_pos_of(cval_of(it), &m->k) != 0;
    default:
        return cache__set_ht_has(s->c, s, cache__set_table(it), m->k.s, m->k.len);
    }
}

int cache__set_add_locked(struct shard *s, struct item **itp, const struct cache__smem *m)
{
    ASSERT_LOCKED(s);
    struct limits l;
    int rc;

    limits_of(s->c, &l);
    switch ((*itp)->enc) {
    case CACHE__ENC_INTSET: {
        const unsigned char *is = cval_of(*itp);
        if (m->k.isint) {
            rc = intset_add(s, itp, m->k.v);
            if (rc == 1 && cache__set_card(*itp) > l.is_max)
                (void)to_table(s, itp, 0);   /* ENOMEM: stays an intset, still correct */
            return rc;
        }
        /* A string: every integer's digits must fit a listpack too. */
        if (lp_takes(&l, cache__is_count(is), intset_max_digits(is), intset_lp_bytes(is),
                     m->k.len))
            rc = intset_to_lp(s, itp);
        else
            rc = to_table(s, itp, cache__is_count(is) + 1);
        if (rc != CACHE_OK)
            return rc;
        if ((*itp)->enc == CACHE__ENC_LISTPACK)
            return lp_append(s, itp, &m->k);
        break;
    }
    case CACHE__ENC_LISTPACK: {
        const unsigned char *lp = cval_of(*itp);
        if (lp_pos_of(lp, &m->k))
            return 0;
        if (lp_takes(&l, cache__lp_count(lp), 0, cache__lp_bytes(lp), m->k.len))
            return lp_append(s, itp, &m->k);
        if ((rc = to_table(s, itp, cache__lp_count(lp) + 1)) != CACHE_OK)
            return rc;
        break;
    }
    default:
        break;
    }
    return cache__set_ht_add(s->c, s, cache__set_table(*itp), m->k.s, m->k.len);
}

int cache__set_rem_locked(struct shard *s, struct item **itp, const struct cache__smem *m)
{
    ASSERT_LOCKED(s);
    struct item *it = *itp;

    switch (it->enc) {
    case CACHE__ENC_INTSET:
        if (!m->k.isint || !cache__is_remove(val_of(it), m->k.v))
            return 0;
        it->vlen = (uint32_t)cache__is_bytes(cval_of(it));
        break;
    case CACHE__ENC_LISTPACK: {
        size_t pos = lp_pos_of(cval_of(it), &m->k);
        if (!pos)
            return 0;
        cache__lp_delete(val_of(it), pos, 1);
        it->vlen = (uint32_t)cache__lp_bytes(cval_of(it));
        break;
    }
    default:
        return cache__set_ht_del(s, cache__set_table(it), m->k.s, m->k.len);
    }
    (void)room(s, itp, it->vlen);   /* may give memory back; a failed shrink is fine */
    return 1;
}

/* ---- reading ------------------------------------------------------------ */

void cache__set_iter(const struct item *it, struct cache__siter *i)
{
    i->it = it;
    i->idx = 0;
    i->pos = it->enc == CACHE__ENC_LISTPACK ? cache__lp_first(cval_of(it)) : 0;
    i->started = false;
}

static void lp_member(const unsigned char *lp, size_t pos, struct cache__smem *m)
{
    struct cache__lp_ent e;

    cache__lp_get(lp, pos, &e);
    if (e.s == NULL) {
        cache__smem_int(m, e.v);
    } else {
        /* stored as a string: never a canonical integer */
        m->k.s = e.s;
        m->k.len = e.len;
        m->k.isint = false;
        m->k.v = 0;
    }
}

static void node_member(const struct cache__smember *n, struct cache__smem *m)
{
    cache__smem_str(m, n->data, n->len);
}

bool cache__set_next(struct cache__siter *i, struct cache__smem *m)
{
    const unsigned char *v = cval_of(i->it);

    switch (i->it->enc) {
    case CACHE__ENC_INTSET:
        if (i->idx >= cache__is_count(v))
            return false;
        cache__smem_int(m, cache__is_get(v, i->idx++));
        return true;
    case CACHE__ENC_LISTPACK:
        if (!i->pos)
            return false;
        lp_member(v, i->pos, m);
        i->pos = cache__lp_next(v, i->pos);
        return true;
    default: {
        const struct cache__ctable *t = &cache__set_table(i->it)->t;
        struct cache__tnode *n = i->started ? cache__ct_next(t, &i->ci)
                                            : cache__ct_first(t, &i->ci);
        i->started = true;
        if (!n)
            return false;
        node_member((const struct cache__smember *)n, m);
        return true;
    }
    }
}

void cache__set_compact_at(const struct item *it, uint32_t idx, size_t pos,
                           struct cache__smem *m)
{
    if (it->enc == CACHE__ENC_INTSET)
        cache__smem_int(m, cache__is_get(cval_of(it), idx));
    else
        lp_member(cval_of(it), pos, m);
}

void cache__set_positions(const struct item *it, size_t *pos)
{
    const unsigned char *lp = cval_of(it);
    size_t k = 0;

    for (size_t p = cache__lp_first(lp); p; p = cache__lp_next(lp, p))
        pos[k++] = p;
}

void cache__set_random(const struct item *it, struct cache__smem *m)
{
    size_t n = cache__set_card(it);

    switch (it->enc) {
    case CACHE__ENC_INTSET:
        cache__smem_int(m, cache__is_get(cval_of(it), (uint32_t)(cache__rand() % n)));
        break;
    case CACHE__ENC_LISTPACK:
        lp_member(cval_of(it), cache__lp_seek(cval_of(it), (long long)(cache__rand() % n)), m);
        break;
    default:
        node_member(cache__set_random_node(it), m);
    }
}

/* ---- building a set from a list of members ---------------------------- */

struct build_stats {
    size_t n, maxlen, lp_bytes, is_bytes;
    bool allint;
};

static void build_scan(const struct cache_keys *members, struct build_stats *b)
{
    struct cache__smem m;
    const char *s;
    size_t pos = 0, len;

    memset(b, 0, sizeof(*b));
    b->allint = true;
    b->lp_bytes = CACHE__LP_HDR;
    while ((s = cache_keys_next(members, &pos, &len)) != NULL) {
        cache__smem_str(&m, s, len);
        b->n++;
        b->allint &= m.k.isint;
        b->maxlen = len > b->maxlen ? len : b->maxlen;
        b->lp_bytes += cache__lp_insert_need(&m.k);
    }
    b->is_bytes = CACHE__IS_HDR + 8 * b->n;
}

/* Fills a compact block of `enc` in place (room already made). */
static void build_compact(unsigned char *v, int enc, const struct cache_keys *members)
{
    struct cache__smem m;
    const char *s;
    size_t pos = 0, len;

    if (enc == CACHE__ENC_INTSET)
        cache__is_init(v);
    else
        cache__lp_init(v);
    while ((s = cache_keys_next(members, &pos, &len)) != NULL) {
        cache__smem_str(&m, s, len);
        if (enc == CACHE__ENC_INTSET)
            cache__is_add(v, m.k.v);
        else
            cache__lp_insert(v, cache__lp_bytes(v), &m.k);
    }
}

struct item *cache__set_build(struct cache *c, uint64_t h, const char *key,
                              size_t klen, const struct cache_keys *members)
{
    struct build_stats b;
    struct limits l;
    struct item *it;

    build_scan(members, &b);
    limits_of(c, &l);
    if (b.n == 0)
        return NULL;
    int enc = b.allint && b.n <= l.is_max ? CACHE__ENC_INTSET
            : !b.allint && b.n <= l.lp_max && b.maxlen <= l.lp_value &&
              b.lp_bytes <= CACHE__LP_MAX ? CACHE__ENC_LISTPACK : CACHE__ENC_TABLE;
    if (enc != CACHE__ENC_TABLE) {
        size_t cap = enc == CACHE__ENC_INTSET ? b.is_bytes : b.lp_bytes;
        if (!(it = cache__item_new(h, key, klen, NULL, 0, cap)))
            return NULL;
        it->type = CACHE_TYPE_SET;
        it->enc = (uint8_t)enc;
        build_compact(val_of(it), enc, members);
        it->vlen = (uint32_t)(enc == CACHE__ENC_INTSET ? cache__is_bytes(val_of(it)) : cap);
        struct item *fit = realloc(it, ITEM_HDR + item_key_room(klen) + it->vlen);   /* unlinked */
        return fit ? fit : it;
    }
    struct cache__set_ht *t = cache__set_ht_new(b.n);
    const char *s;
    size_t pos = 0, len;
    if (!t)
        return NULL;
    while ((s = cache_keys_next(members, &pos, &len)) != NULL) {
        if (cache__set_ht_insert(c, NULL, t, s, len) < 0) {
            cache__set_ht_free(t);
            return NULL;
        }
    }
    return cache__set_item_of_table(h, key, klen, t);
}

/* ---- the type registry entry (object.c) -------------------------------- */

static size_t set_ext_bytes(const struct item *it)
{
    const struct cache__set_ht *h = cache__set_table(it);
    return h->bytes + h->t.bucket_bytes;
}

static size_t set_free_effort(const struct item *it)
{
    return (size_t)cache__ct_count(&cache__set_table(it)->t) + 1;
}

static void set_free_ext(struct item *it)
{
    cache__set_ht_free(cache__set_table(it));
}

static int set_dup_ext(const struct item *src, struct item *dst)
{
    struct cache__set_ht *d;

    if (cache__set_ht_dup(cache__set_table(src), &d) != CACHE_OK)
        return CACHE_E_NOMEM;
    cache__item_set_ptr(dst, d);
    return CACHE_OK;
}

static int compact_check(const struct item *it)
{
    const unsigned char *v = cval_of(it);

    if (it->enc == CACHE__ENC_INTSET)
        return it->vlen == cache__is_bytes(v) && cache__is_validate(v, it->vlen) == 0 &&
               cache__is_count(v) > 0 ? 0 : -1;
    if (it->vlen != cache__lp_bytes(v) || cache__lp_validate(v, it->vlen) != 0 ||
        cache__lp_count(v) == 0)
        return -1;
    /* no member twice (small sets only: the check is quadratic) */
    if (cache__lp_count(v) > 1024)
        return 0;
    struct cache__smem m;
    for (size_t p = cache__lp_first(v); p; p = cache__lp_next(v, p)) {
        lp_member(v, p, &m);
        if (lp_pos_of(v, &m.k) != p)
            return -1;
    }
    return 0;
}

static int set_check(const struct item *it)
{
    if (it->enc == CACHE__ENC_INTSET || it->enc == CACHE__ENC_LISTPACK)
        return compact_check(it);
    if (it->enc != CACHE__ENC_TABLE)
        return -1;
    return cache__set_ht_check(cache__set_table(it));
}

const struct cache__type cache__type_set = {
    .ext_bytes = set_ext_bytes,
    .free_effort = set_free_effort,
    .free_ext = set_free_ext,
    .dup_ext = set_dup_ext,
    .check = set_check,
};
