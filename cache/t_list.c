/*
 * t_list.c: the list type: its two encodings behind one interface
 * (t_list.h), conversion, and its entry in the type registry (object.c).
 * The commands on lists are in listops.c; the nodes in quicklist.c.
 */
#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#include "t_list.h"

static inline unsigned char *lp_of(struct item *it)
{
    return (unsigned char *)item_val(it);
}

static inline const unsigned char *clp_of(const struct item *it)
{
    return (const unsigned char *)item_cval(it);
}

struct cache__quicklist *cache__list_ql(const struct item *it)
{
    assert(it->type == CACHE_TYPE_LIST && it->enc == CACHE__ENC_QUICKLIST);
    return cache__item_ptr(it);
}

static int64_t list_fill(const struct shard *s)
{
    return atomic_load_explicit(&s->c->list_lp_size, memory_order_relaxed);
}

struct item *cache__list_new(uint64_t h, const char *key, size_t klen)
{
    return cache__item_new_lp(h, key, klen, CACHE_TYPE_LIST);
}

uint64_t cache__list_len(const struct item *it)
{
    if (it->enc == CACHE__ENC_LISTPACK)
        return cache__lp_count(clp_of(it));
    return cache__list_ql(it)->count;
}

static const unsigned char *lp_at(const struct item *it, const struct cache__lpos *p)
{
    return p->node ? p->node->lp : clp_of(it);
}

/* ---- walking ------------------------------------------------------------ */

/* The node holding index i (0 <= i < count) and i's offset in it, walking
 * from the nearer end. */
static struct cache__qnode *ql_locate(const struct cache__quicklist *ql, uint64_t i,
                                      uint64_t *off)
{
    struct cache__qnode *n;

    if (i < ql->count / 2) {
        for (n = ql->head; i >= cache__lp_count(n->lp); n = n->next)
            i -= cache__lp_count(n->lp);
        *off = i;
        return n;
    }
    uint64_t from_end = ql->count - 1 - i;   /* 0: the last entry */
    for (n = ql->tail; from_end >= cache__lp_count(n->lp); n = n->prev)
        from_end -= cache__lp_count(n->lp);
    *off = cache__lp_count(n->lp) - 1 - from_end;
    return n;
}

bool cache__list_seek(const struct item *it, long long i, struct cache__lpos *p)
{
    long long len = (long long)cache__list_len(it);

    p->node = NULL;
    p->pos = 0;
    if (i < 0)
        i += len;
    if (i < 0 || i >= len)
        return false;
    if (it->enc == CACHE__ENC_LISTPACK) {
        p->pos = cache__lp_seek(clp_of(it), i);
        return true;
    }
    uint64_t off;
    p->node = ql_locate(cache__list_ql(it), (uint64_t)i, &off);
    p->pos = cache__lp_seek(p->node->lp, (long long)off);
    return true;
}

/* One entry toward the tail or the head, across nodes. */
static bool step(const struct item *it, struct cache__lpos *p, bool toward_tail)
{
    const unsigned char *lp = lp_at(it, p);
    size_t np = toward_tail ? cache__lp_next(lp, p->pos) : cache__lp_prev(lp, p->pos);
    struct cache__qnode *n = !p->node ? NULL : toward_tail ? p->node->next : p->node->prev;

    if (np) {
        p->pos = np;
        return true;
    }
    if (n) {
        p->node = n;
        p->pos = toward_tail ? cache__lp_first(n->lp) : cache__lp_last(n->lp);
        return true;
    }
    p->pos = 0;
    return false;
}

bool cache__list_next(const struct item *it, struct cache__lpos *p)
{
    return step(it, p, true);
}

bool cache__list_prev(const struct item *it, struct cache__lpos *p)
{
    return step(it, p, false);
}

void cache__list_get(const struct item *it, const struct cache__lpos *p,
                     struct cache__lp_ent *e)
{
    cache__lp_get(lp_at(it, p), p->pos, e);
}

bool cache__list_eq(const struct item *it, const struct cache__lpos *p,
                    const struct cache__lp_key *k)
{
    return cache__lp_eq(lp_at(it, p), p->pos, k);
}

int cache__list_copy(const struct item *it, const struct cache__lpos *p,
                     struct cache_keys *out)
{
    struct cache__lp_ent e;
    char buf[CACHE__LP_INTBUF];
    size_t len;

    cache__list_get(it, p, &e);
    const char *s = cache__lp_ent_str(&e, buf, &len);
    return cache__keys_push(out, s, len);
}

/* ---- conversion ---------------------------------------------------------- */

/* Compact to quicklist: the listpack becomes the one node. */
static int to_quicklist(struct shard *s, struct item **itp)
{
    struct item *it = *itp;
    size_t bytes = cache__lp_bytes(lp_of(it));
    struct cache__quicklist *ql = cache__ql_new();

    if (!ql)
        return CACHE_E_NOMEM;
    struct cache__qnode *n = cache__ql_node_new(NULL, ql, bytes);
    if (!n) {
        cache__ql_free(ql);
        return CACHE_E_NOMEM;
    }
    memcpy(n->lp, lp_of(it), bytes);
    cache__ql_link(ql, n, NULL);
    ql->count = cache__lp_count(n->lp);
    it->enc = CACHE__ENC_QUICKLIST;
    cache__item_set_ptr(it, ql);
    cache__mem_add_locked(s, (int64_t)ql->bytes);
    *itp = cache__item_resize_locked(s, it, sizeof(void *));   /* a shrink cannot fail */
    return CACHE_OK;
}

/* The compact list may take `grow` more bytes and `add` more entries;
 * else it converts. 1: stays compact, 0: now a quicklist, or an error. */
static int compact_or_convert(struct shard *s, struct item **itp, long long grow,
                              uint64_t add)
{
    const unsigned char *lp = lp_of(*itp);
    size_t bytes = (size_t)((long long)cache__lp_bytes(lp) + grow);

    if (cache__ql_fits(list_fill(s), CACHE__QNODE_HDR + bytes, cache__lp_count(lp) + add))
        return 1;
    return to_quicklist(s, itp);
}

/* ---- writes ------------------------------------------------------------- */

/* Inserts k at offset `at` of a compact list (SIZE_MAX: at the end):
 * 1 done, 0 the list became a quicklist first (the caller goes on
 * there, positions unchanged), or an error. */
static int compact_insert(struct shard *s, struct item **itp, size_t at,
                          const struct cache__lp_key *k)
{
    size_t need = cache__lp_insert_need(k);
    int rc = compact_or_convert(s, itp, (long long)need, 1);

    if (rc != 1)
        return rc;
    size_t bytes = cache__lp_bytes(lp_of(*itp));
    if (cache__item_room_locked(s, itp, bytes + need) != CACHE_OK)
        return CACHE_E_NOMEM;
    cache__lp_insert(lp_of(*itp), at == SIZE_MAX ? bytes : at, k);
    (*itp)->vlen = (uint32_t)(bytes + need);
    return 1;
}

int cache__list_push_locked(struct shard *s, struct item **itp, int where,
                            const struct cache__lp_key *k)
{
    ASSERT_LOCKED(s);
    size_t need = cache__lp_insert_need(k);
    int rc;

    if ((*itp)->enc == CACHE__ENC_LISTPACK &&
        (rc = compact_insert(s, itp, where == CACHE_LIST_HEAD ? CACHE__LP_HDR : SIZE_MAX,
                             k)) != 0)
        return rc < 0 ? rc : CACHE_OK;
    struct cache__quicklist *ql = cache__list_ql(*itp);
    struct cache__qnode *n = where == CACHE_LIST_HEAD ? ql->head : ql->tail;
    if (n && cache__ql_allows(list_fill(s), cache__ql_node_need(n) + need,
                              cache__lp_count(n->lp) + 1)) {
        size_t bytes = cache__lp_bytes(n->lp);
        if (cache__ql_node_room(s, ql, &n, bytes + need) != CACHE_OK)
            return CACHE_E_NOMEM;
        cache__lp_insert(n->lp, where == CACHE_LIST_HEAD ? CACHE__LP_HDR : bytes, k);
    } else {
        if (!(n = cache__ql_node_new(s, ql, CACHE__LP_HDR + need)))
            return CACHE_E_NOMEM;
        cache__lp_insert(n->lp, CACHE__LP_HDR, k);
        cache__ql_link(ql, n, where == CACHE_LIST_HEAD ? NULL : ql->tail);
    }
    ql->count++;
    return CACHE_OK;
}

/* A node that cannot take one more entry: put k in a neighbour with room
 * (inserting at the node's edge), else split the node at `at` and put k
 * at the end of the first half, the start of the second, or a node of
 * its own between them; then merge small neighbours (Redis does the
 * same, so LINSERTs into full nodes do not fragment the list). */
static int ql_insert_full(struct shard *s, struct cache__quicklist *ql,
                          struct cache__qnode *n, size_t at,
                          const struct cache__lp_key *k, int64_t fill)
{
    size_t need = cache__lp_insert_need(k), bytes = cache__lp_bytes(n->lp);
    struct cache__qnode *t = NULL, *after = n;

    if (at == bytes && n->next &&
        cache__ql_allows(fill, cache__ql_node_need(n->next) + need,
                         cache__lp_count(n->next->lp) + 1)) {
        t = n->next;
        at = CACHE__LP_HDR;
    } else if (at == CACHE__LP_HDR && n->prev &&
               cache__ql_allows(fill, cache__ql_node_need(n->prev) + need,
                                cache__lp_count(n->prev->lp) + 1)) {
        t = n->prev;
        at = cache__lp_bytes(t->lp);
    }
    if (t) {
        if (cache__ql_node_room(s, ql, &t, cache__lp_bytes(t->lp) + need) != CACHE_OK)
            return CACHE_E_NOMEM;
        cache__lp_insert(t->lp, at, k);
        ql->count++;
        return CACHE_OK;
    }
    if (at == CACHE__LP_HDR)
        after = n->prev;   /* before the node: k gets a node of its own */
    else if (at < bytes && !cache__ql_split(s, ql, n, at))
        return CACHE_E_NOMEM;
    if (!(t = cache__ql_node_new(s, ql, CACHE__LP_HDR + need)))
        return CACHE_E_NOMEM;   /* a split without its insert is still a valid list */
    cache__lp_insert(t->lp, CACHE__LP_HDR, k);
    cache__ql_link(ql, t, after);
    ql->count++;
    /* Merge the new node into its neighbours where they fit. */
    struct cache__qnode *merged = cache__ql_try_merge(s, ql, t->prev, fill);
    (void)cache__ql_try_merge(s, ql, merged ? merged : t, fill);
    return CACHE_OK;
}

int cache__list_insert_locked(struct shard *s, struct item **itp,
                              const struct cache__lpos *p, int after,
                              const struct cache__lp_key *k)
{
    ASSERT_LOCKED(s);
    size_t need = cache__lp_insert_need(k);
    struct cache__lpos q = *p;
    int rc;

    if ((*itp)->enc == CACHE__ENC_LISTPACK) {
        size_t at = after ? q.pos + cache__lp_entry_size(lp_of(*itp), q.pos) : q.pos;
        if ((rc = compact_insert(s, itp, at, k)) != 0)
            return rc < 0 ? rc : CACHE_OK;
        q.node = cache__list_ql(*itp)->head;   /* the listpack became this node */
    }
    struct cache__quicklist *ql = cache__list_ql(*itp);
    struct cache__qnode *n = q.node;
    int64_t fill = list_fill(s);
    size_t at = after ? q.pos + cache__lp_entry_size(n->lp, q.pos) : q.pos;
    if (!cache__ql_allows(fill, cache__ql_node_need(n) + need, cache__lp_count(n->lp) + 1))
        return ql_insert_full(s, ql, n, at, k, fill);
    if (cache__ql_node_room(s, ql, &n, cache__lp_bytes(n->lp) + need) != CACHE_OK)
        return CACHE_E_NOMEM;
    cache__lp_insert(n->lp, at, k);
    ql->count++;
    return CACHE_OK;
}

int cache__list_replace_locked(struct shard *s, struct item **itp, long long i,
                               const struct cache__lp_key *k)
{
    ASSERT_LOCKED(s);
    struct cache__lpos p;
    int rc;

    if (!cache__list_seek(*itp, i, &p))
        return CACHE_NOELEM;
    if ((*itp)->enc == CACHE__ENC_LISTPACK) {
        long long grow = cache__lp_replace_need(lp_of(*itp), p.pos, k);
        if ((rc = compact_or_convert(s, itp, grow, 0)) < 0)
            return rc;
        if (rc == 1) {
            size_t bytes = (size_t)((long long)cache__lp_bytes(lp_of(*itp)) + grow);
            if (grow > 0 && cache__item_room_locked(s, itp, bytes) != CACHE_OK)
                return CACHE_E_NOMEM;
            cache__lp_replace(lp_of(*itp), p.pos, k);
            (*itp)->vlen = (uint32_t)bytes;
            if (grow < 0)
                (void)cache__item_room_locked(s, itp, bytes);   /* may give memory back */
            return CACHE_OK;
        }
        p.node = cache__list_ql(*itp)->head;
    }
    struct cache__quicklist *ql = cache__list_ql(*itp);
    struct cache__qnode *n = p.node;
    long long grow = cache__lp_replace_need(n->lp, p.pos, k);
    size_t bytes = (size_t)((long long)cache__lp_bytes(n->lp) + grow);
    if (grow <= 0 || cache__lp_count(n->lp) == 1 ||
        cache__ql_allows(list_fill(s), CACHE__QNODE_HDR + bytes, cache__lp_count(n->lp))) {
        if (grow > 0 && cache__ql_node_room(s, ql, &n, bytes) != CACHE_OK)
            return CACHE_E_NOMEM;
        cache__lp_replace(n->lp, p.pos, k);
        if (grow < 0)
            cache__ql_node_fit(s, ql, &n);
        return CACHE_OK;
    }
    /* The node is full: insert the new value after the old one (which
     * may split the node), then delete the old one. Its index is i. */
    if (i < 0)
        i += (long long)ql->count;
    if ((rc = cache__list_insert_locked(s, itp, &p, 1, k)) != CACHE_OK)
        return rc;
    (void)cache__list_seek(*itp, i, &p);
    cache__list_delete_locked(s, itp, &p, 1);
    return CACHE_OK;
}

void cache__list_delete_locked(struct shard *s, struct item **itp,
                               struct cache__lpos *p, int toward_tail)
{
    ASSERT_LOCKED(s);
    if ((*itp)->enc == CACHE__ENC_LISTPACK) {
        unsigned char *lp = lp_of(*itp);
        size_t prev = cache__lp_prev(lp, p->pos);
        cache__lp_delete(lp, p->pos, 1);
        (*itp)->vlen = (uint32_t)cache__lp_bytes(lp);
        if (!toward_tail)
            p->pos = prev;
        else if (p->pos >= (*itp)->vlen)
            p->pos = 0;
        (void)cache__item_room_locked(s, itp, (*itp)->vlen);   /* may give memory back */
        return;
    }
    struct cache__quicklist *ql = cache__list_ql(*itp);
    struct cache__qnode *n = p->node;
    size_t prev = cache__lp_prev(n->lp, p->pos);
    cache__lp_delete(n->lp, p->pos, 1);
    ql->count--;
    if (cache__lp_count(n->lp) == 0) {
        struct cache__qnode *to = toward_tail ? n->next : n->prev;
        cache__ql_node_del(s, ql, n);
        p->node = to;
        p->pos = !to ? 0 : toward_tail ? cache__lp_first(to->lp) : cache__lp_last(to->lp);
        return;
    }
    cache__ql_node_fit(s, ql, &n);
    p->node = n;
    if (toward_tail) {
        if (p->pos >= cache__lp_bytes(n->lp)) {
            p->node = n->next;
            p->pos = n->next ? cache__lp_first(n->next->lp) : 0;
        }
    } else if (prev) {
        p->pos = prev;
    } else {
        p->node = n->prev;
        p->pos = n->prev ? cache__lp_last(n->prev->lp) : 0;
    }
}

void cache__list_del_range_locked(struct shard *s, struct item **itp,
                                  uint64_t start, uint64_t n)
{
    ASSERT_LOCKED(s);
    if (n == 0)
        return;
    if ((*itp)->enc == CACHE__ENC_LISTPACK) {
        unsigned char *lp = lp_of(*itp);
        cache__lp_delete(lp, cache__lp_seek(lp, (long long)start), (uint32_t)n);
        (*itp)->vlen = (uint32_t)cache__lp_bytes(lp);
        (void)cache__item_room_locked(s, itp, (*itp)->vlen);
        return;
    }
    struct cache__quicklist *ql = cache__list_ql(*itp);
    uint64_t off;
    struct cache__qnode *node = ql_locate(ql, start, &off), *next;
    for (; n > 0 && node; node = next, off = 0) {
        uint64_t cnt = cache__lp_count(node->lp), k = cnt - off < n ? cnt - off : n;
        next = node->next;
        if (off == 0 && k == cnt) {
            cache__ql_node_del(s, ql, node);   /* whole nodes: one free each */
        } else {
            cache__lp_delete(node->lp, cache__lp_seek(node->lp, (long long)off), (uint32_t)k);
            cache__ql_node_fit(s, ql, &node);
        }
        ql->count -= k;
        n -= k;
    }
}

int cache__list_pop_locked(struct shard *s, struct item **itp, int where,
                           uint64_t n, struct cache_keys *out)
{
    uint64_t len = cache__list_len(*itp);
    struct cache__lpos p;

    if (n > len)
        n = len;
    if (n == 0)
        return CACHE_OK;
    (void)cache__list_seek(*itp, where == CACHE_LIST_HEAD ? 0 : -1, &p);
    for (uint64_t i = 0; i < n; i++) {
        if (cache__list_copy(*itp, &p, out) != CACHE_OK)
            return CACHE_E_NOMEM;
        if (where == CACHE_LIST_HEAD)
            cache__list_next(*itp, &p);
        else
            cache__list_prev(*itp, &p);
    }
    cache__list_del_range_locked(s, itp, where == CACHE_LIST_HEAD ? 0 : len - n, n);
    return CACHE_OK;
}

/* ---- the type registry entry (object.c) ---------------------------------- */

static size_t list_ext_bytes(const struct item *it)
{
    return cache__list_ql(it)->bytes;
}

static size_t list_free_effort(const struct item *it)
{
    return (size_t)cache__list_ql(it)->nnodes + 1;
}

static void list_free_ext(struct item *it)
{
    cache__ql_free(cache__list_ql(it));
}

static int list_dup_ext(const struct item *src, struct item *dst)
{
    struct cache__quicklist *d = cache__ql_dup(cache__list_ql(src));

    if (!d)
        return CACHE_E_NOMEM;
    cache__item_set_ptr(dst, d);
    return CACHE_OK;
}

static int list_check(const struct item *it)
{
    if (it->enc == CACHE__ENC_LISTPACK) {
        const unsigned char *lp = clp_of(it);
        if (it->vlen != cache__lp_bytes(lp) || cache__lp_validate(lp, it->vlen) != 0)
            return -1;
        return cache__lp_count(lp) > 0 ? 0 : -1;
    }
    if (it->enc != CACHE__ENC_QUICKLIST)
        return -1;
    return cache__ql_check(cache__list_ql(it));
}

const struct cache__type cache__type_list = {
    .ext_bytes = list_ext_bytes,
    .free_effort = list_free_effort,
    .free_ext = list_free_ext,
    .dup_ext = list_dup_ext,
    .check = list_check,
};
