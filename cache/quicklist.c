/*
 * quicklist.c: the chain of listpack nodes behind a large list. See
 * quicklist.h for the layout and the accounting rule.
 */
#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#include "quicklist.h"

/* Redis 7.0's optimization_level and SIZE_SAFETY_LIMIT, FILL_MAX. */
static const size_t size_levels[] = {4096, 8192, 16384, 32768, 65536};
#define SIZE_SAFETY 8192u
#define FILL_MAX 32767

bool cache__ql_fits(int64_t fill, size_t bytes, uint64_t count)
{
    if (fill < 0) {
        int64_t i = -fill - 1;
        if (i > 4)
            i = 4;
        return bytes <= size_levels[i];
    }
    if (fill > FILL_MAX)
        fill = FILL_MAX;
    return bytes <= SIZE_SAFETY && count <= (uint64_t)fill;
}

bool cache__ql_allows(int64_t fill, size_t bytes, uint64_t count)
{
    return count <= 1 || cache__ql_fits(fill, bytes, count);
}

static void charge(struct shard *s, struct cache__quicklist *ql, int64_t delta)
{
    ql->bytes = (size_t)((int64_t)ql->bytes + delta);
    if (s)
        cache__mem_add_locked(s, delta);
}

struct cache__quicklist *cache__ql_new(void)
{
    struct cache__quicklist *ql = calloc(1, sizeof(*ql));
    if (ql)
        ql->bytes = malloc_usable_size(ql);
    return ql;
}

void cache__ql_free(struct cache__quicklist *ql)
{
    struct cache__qnode *n = ql->head, *next;

    for (; n; n = next) {
        next = n->next;
        free(n);
    }
    free(ql);
}

struct cache__qnode *cache__ql_node_new(struct shard *s, struct cache__quicklist *ql,
                                        size_t lp_room)
{
    if (lp_room < CACHE__LP_HDR)
        lp_room = CACHE__LP_HDR;
    struct cache__qnode *n = malloc(CACHE__QNODE_HDR + lp_room);
    if (!n)
        return NULL;
    n->prev = n->next = NULL;
    cache__lp_init(n->lp);
    charge(s, ql, (int64_t)malloc_usable_size(n));
    return n;
}

void cache__ql_link(struct cache__quicklist *ql, struct cache__qnode *n,
                    struct cache__qnode *after)
{
    n->prev = after;
    n->next = after ? after->next : ql->head;
    if (n->next)
        n->next->prev = n;
    else
        ql->tail = n;
    if (after)
        after->next = n;
    else
        ql->head = n;
    ql->nnodes++;
}

/* After a realloc moved n: its neighbours (or the ends) point at it. */
static void relink(struct cache__quicklist *ql, struct cache__qnode *n)
{
    if (n->prev)
        n->prev->next = n;
    else
        ql->head = n;
    if (n->next)
        n->next->prev = n;
    else
        ql->tail = n;
}

static int resize(struct shard *s, struct cache__quicklist *ql,
                  struct cache__qnode **np, size_t want)
{
    size_t before = malloc_usable_size(*np);
    struct cache__qnode *n = realloc(*np, want);

    if (!n)
        return CACHE_E_NOMEM;
    relink(ql, n);
    charge(s, ql, (int64_t)malloc_usable_size(n) - (int64_t)before);
    *np = n;
    return CACHE_OK;
}

int cache__ql_node_room(struct shard *s, struct cache__quicklist *ql,
                        struct cache__qnode **np, size_t lp_bytes)
{
    size_t want = CACHE__QNODE_HDR + lp_bytes;

    if (want <= malloc_usable_size(*np))
        return CACHE_OK;
    return resize(s, ql, np, want);
}

void cache__ql_node_fit(struct shard *s, struct cache__quicklist *ql,
                        struct cache__qnode **np)
{
    size_t need = cache__ql_node_need(*np);

    /* Half, not a quarter as items do: a list drained by pops shrinks a
     * node a few times, not once per pop. */
    if (need + 64 < malloc_usable_size(*np) / 2)
        (void)resize(s, ql, np, need);   /* a failed shrink is harmless */
}

void cache__ql_node_del(struct shard *s, struct cache__quicklist *ql,
                        struct cache__qnode *n)
{
    if (n->prev)
        n->prev->next = n->next;
    else
        ql->head = n->next;
    if (n->next)
        n->next->prev = n->prev;
    else
        ql->tail = n->prev;
    ql->nnodes--;
    charge(s, ql, -(int64_t)malloc_usable_size(n));
    free(n);
}

struct cache__qnode *cache__ql_try_merge(struct shard *s, struct cache__quicklist *ql,
                                         struct cache__qnode *a, int64_t fill)
{
    struct cache__qnode *b = a ? a->next : NULL;

    if (!b)
        return NULL;
    size_t abytes = cache__lp_bytes(a->lp), body = cache__lp_bytes(b->lp) - CACHE__LP_HDR;
    uint64_t cnt = (uint64_t)cache__lp_count(a->lp) + cache__lp_count(b->lp);
    if (!cache__ql_allows(fill, CACHE__QNODE_HDR + abytes + body, cnt) ||
        cache__ql_node_room(s, ql, &a, abytes + body) != CACHE_OK)
        return NULL;
    b = a->next;   /* a may have moved; b did not */
    memcpy(a->lp + abytes, b->lp + CACHE__LP_HDR, body);
    /* The listpack header is [u32 bytes][u32 count]: rewrite both. */
    uint32_t nb = (uint32_t)(abytes + body), nc = (uint32_t)cnt;
    memcpy(a->lp, &nb, 4);
    memcpy(a->lp + 4, &nc, 4);
    cache__ql_node_del(s, ql, b);
    return a;
}

struct cache__qnode *cache__ql_split(struct shard *s, struct cache__quicklist *ql,
                                     struct cache__qnode *n, size_t pos)
{
    size_t bytes = cache__lp_bytes(n->lp), tail = bytes - pos;
    uint32_t moved = 0;

    for (size_t p = pos; p && p < bytes; p = cache__lp_next(n->lp, p))
        moved++;
    struct cache__qnode *m = cache__ql_node_new(s, ql, CACHE__LP_HDR + tail);
    if (!m)
        return NULL;
    memcpy(m->lp + CACHE__LP_HDR, n->lp + pos, tail);
    uint32_t mb = (uint32_t)(CACHE__LP_HDR + tail);
    memcpy(m->lp, &mb, 4);
    memcpy(m->lp + 4, &moved, 4);
    uint32_t nb = (uint32_t)pos, nc = cache__lp_count(n->lp) - moved;
    memcpy(n->lp, &nb, 4);
    memcpy(n->lp + 4, &nc, 4);
    cache__ql_link(ql, m, n);
    return m;
}

struct cache__quicklist *cache__ql_dup(const struct cache__quicklist *ql)
{
    struct cache__quicklist *d = cache__ql_new();

    if (!d)
        return NULL;
    for (const struct cache__qnode *n = ql->head; n; n = n->next) {
        size_t need = cache__ql_node_need(n);
        struct cache__qnode *c = malloc(need);
        if (!c) {
            cache__ql_free(d);
            return NULL;
        }
        memcpy(c->lp, n->lp, need - CACHE__QNODE_HDR);
        d->bytes += malloc_usable_size(c);
        cache__ql_link(d, c, d->tail);
    }
    d->count = ql->count;
    return d;
}

int cache__ql_check(const struct cache__quicklist *ql)
{
    size_t bytes = malloc_usable_size((void *)ql);
    uint64_t count = 0, nodes = 0;
    const struct cache__qnode *prev = NULL;

    for (const struct cache__qnode *n = ql->head; n; prev = n, n = n->next) {
        size_t lpb = cache__lp_bytes(n->lp), usable = malloc_usable_size((void *)n);
        if (n->prev != prev || CACHE__QNODE_HDR + lpb > usable ||
            cache__lp_validate(n->lp, lpb) != 0 || cache__lp_count(n->lp) == 0)
            return -1;
        bytes += usable;
        count += cache__lp_count(n->lp);
        if (++nodes > ql->nnodes)
            return -1;   /* a cycle, or nnodes wrong */
    }
    return prev == ql->tail && nodes == ql->nnodes && count == ql->count &&
           bytes == ql->bytes && count > 0 ? 0 : -1;
}
