/*
 * table.c: a chained hash table with incremental resize, for the shard's
 * keys and for the large encodings of collections (a hash's fields, a
 * set's members): one table, two kinds of entries.
 *
 * Redis dict style: ht[0] is the table; when it must grow (load factor
 * max_load: 1, or 2 for the shard's key table) or shrink (under 1/8
 * full), ht[1] is allocated at the new size and rehashidx walks ht[0],
 * moving a bucket's whole chain per step. Every lookup moves one bucket
 * (the shard's on every key lookup, a collection's on every element
 * lookup), active expiry moves more of the shard's, so no single
 * operation pays for the whole resize even with millions of entries.
 * While rehashing, new entries go to ht[1] and lookups search both
 * tables; buckets of ht[0] below rehashidx are empty.
 *
 * Entries embed a struct cache__tnode (next link + hash) as their first
 * member; the table never looks past it. Bucket index is the low bits of
 * the stored hash (a key's shard came from the high bits), so moving an
 * entry never rehashes it.
 *
 * Accounting: bucket arrays are counted in t->bucket_bytes and, when `s`
 * is not NULL, charged to the shard as they are allocated and freed. A
 * table being built outside any shard (a COPY's new collection, before it
 * is linked) passes s = NULL: the bytes reach the shard when the owning
 * item is linked (cache__item_mem counts them).
 *
 * Context: s's lock held (when s is not NULL); a NULL s means the table is
 * private to the calling thread.
 */
#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#include "cache_int.h"

#define TABLE_MIN_SIZE 4u

static void charge(struct shard *s, struct cache__ctable *t, int64_t delta)
{
    t->bucket_bytes = (size_t)((int64_t)t->bucket_bytes + delta);
    if (s)
        cache__mem_add_locked(s, delta);
}

static int tab_alloc(struct shard *s, struct cache__ctable *t,
                     struct cache__tab *tb, uint64_t size)
{
    struct cache__tnode **b = calloc(size, sizeof(*b));
    if (!b)
        return -1;
    tb->b = b;
    tb->mask = size - 1;
    tb->used = 0;
    charge(s, t, (int64_t)malloc_usable_size(b));
    return 0;
}

static void tab_release(struct shard *s, struct cache__ctable *t,
                        struct cache__tab *tb)
{
    if (tb->b) {
        charge(s, t, -(int64_t)malloc_usable_size(tb->b));
        free(tb->b);
    }
    memset(tb, 0, sizeof(*tb));
}

static inline uint64_t tab_size(const struct cache__tab *tb)
{
    return tb->b ? tb->mask + 1 : 0;
}

static uint64_t next_pow2(uint64_t n)
{
    uint64_t p = TABLE_MIN_SIZE;
    while (p < n)
        p <<= 1;
    return p;
}

int cache__ct_init(struct shard *s, struct cache__ctable *t, uint64_t hint)
{
    if (s)
        ASSERT_LOCKED(s);
    memset(t, 0, sizeof(*t));
    t->rehashidx = -1;
    t->max_load = 1;
    return tab_alloc(s, t, &t->ht[0], next_pow2(hint));
}

void cache__ct_free(struct shard *s, struct cache__ctable *t)
{
    if (s)
        ASSERT_LOCKED(s);
    tab_release(s, t, &t->ht[0]);
    tab_release(s, t, &t->ht[1]);
    t->rehashidx = -1;
}

/* Starts a resize to `size` buckets. Allocation failure is not an error:
 * the table just stays at its size (longer chains, still correct). */
static void start_resize(struct shard *s, struct cache__ctable *t, uint64_t size)
{
    if (t->rehashidx >= 0 || size == tab_size(&t->ht[0]))
        return;
    if (!t->ht[0].b) {   /* empty after a failed init: allocate directly */
        (void)tab_alloc(s, t, &t->ht[0], size);
        return;
    }
    if (tab_alloc(s, t, &t->ht[1], size) != 0)
        return;
    t->rehashidx = 0;
}

size_t cache__ct_grow_cost(const struct cache__ctable *t)
{
    const struct cache__tab *t0 = &t->ht[0];
    if (t->rehashidx >= 0 || !t0->b || t0->used + 1 <= tab_size(t0) * t->max_load)
        return 0;
    return (size_t)tab_size(t0) * 2 * sizeof(struct cache__tnode *);
}

int cache__ct_add(struct shard *s, struct cache__ctable *t, struct cache__tnode *n)
{
    struct cache__tab *tb;

    if (s)
        ASSERT_LOCKED(s);
    if (t->rehashidx < 0 && t->ht[0].used + 1 > tab_size(&t->ht[0]) * t->max_load)
        start_resize(s, t, next_pow2((t->ht[0].used + t->max_load) / t->max_load));
    if (t->rehashidx >= 0)
        cache__ct_rehash(s, t, 1);
    tb = t->rehashidx >= 0 ? &t->ht[1] : &t->ht[0];
    if (!tb->b && tab_alloc(s, t, tb, TABLE_MIN_SIZE) != 0)
        return -1;   /* no table at all (allocation failures) */
    uint64_t i = n->hash & tb->mask;
    n->tnext = tb->b[i];
    tb->b[i] = n;
    tb->used++;
    return 0;
}

void cache__ct_remove(struct shard *s, struct cache__ctable *t,
                      struct cache__tnode *n)
{
    if (s)
        ASSERT_LOCKED(s);
    for (int k = 0; k <= (t->rehashidx >= 0); k++) {
        struct cache__tab *tb = &t->ht[k];
        if (!tb->b)
            continue;
        for (struct cache__tnode **pp = &tb->b[n->hash & tb->mask]; *pp;
             pp = &(*pp)->tnext) {
            if (*pp == n) {
                *pp = n->tnext;
                n->tnext = NULL;
                tb->used--;
                return;
            }
        }
    }
    assert(!"entry not in its table");
}

/* Moves up to nbuckets non-empty buckets of ht[0] into ht[1], visiting at
 * most 10x as many empty ones, and finishes the resize when ht[0] is
 * empty. */
void cache__ct_rehash(struct shard *s, struct cache__ctable *t, unsigned nbuckets)
{
    unsigned empty_visits = nbuckets * 10;
    struct cache__tab *t0 = &t->ht[0], *t1 = &t->ht[1];

    if (s)
        ASSERT_LOCKED(s);
    if (t->rehashidx < 0)
        return;
    while (nbuckets-- && t0->used != 0) {
        while (t0->b[t->rehashidx] == NULL) {
            t->rehashidx++;
            if (--empty_visits == 0)
                return;
        }
        struct cache__tnode *n = t0->b[t->rehashidx];
        while (n) {
            struct cache__tnode *next = n->tnext;
            uint64_t i = n->hash & t1->mask;
            n->tnext = t1->b[i];
            t1->b[i] = n;
            t0->used--;
            t1->used++;
            n = next;
        }
        t0->b[t->rehashidx] = NULL;
        t->rehashidx++;
    }
    if (t0->used == 0) {
        tab_release(s, t, t0);
        *t0 = *t1;
        memset(t1, 0, sizeof(*t1));
        t->rehashidx = -1;
    }
}

void cache__ct_maybe_shrink(struct shard *s, struct cache__ctable *t)
{
    const struct cache__tab *t0 = &t->ht[0];

    if (s)
        ASSERT_LOCKED(s);
    if (t->rehashidx >= 0 || tab_size(t0) <= TABLE_MIN_SIZE)
        return;
    if (t0->used * 8 < tab_size(t0))
        start_resize(s, t, next_pow2(t0->used / t->max_load));
}

/* A random entry, near-uniform: random buckets until a non-empty one,
 * then a random element of its chain. NULL when empty (or, with a very
 * sparse table, after 100 empty draws: the caller falls back). */
struct cache__tnode *cache__ct_random(const struct cache__ctable *t)
{
    if (cache__ct_count(t) == 0)
        return NULL;
    for (int tries = 0; tries < 100; tries++) {
        uint64_t r = cache__rand();
        struct cache__tnode *head;
        if (t->rehashidx >= 0) {
            uint64_t s0 = tab_size(&t->ht[0]), s1 = tab_size(&t->ht[1]);
            uint64_t lo = (uint64_t)t->rehashidx;
            uint64_t i = lo + r % (s0 + s1 - lo);
            head = i < s0 ? t->ht[0].b[i] : t->ht[1].b[i - s0];
        } else {
            head = t->ht[0].b[r & t->ht[0].mask];
        }
        if (!head)
            continue;
        unsigned n = 0;
        for (struct cache__tnode *e = head; e; e = e->tnext)
            n++;
        unsigned k = (unsigned)(cache__rand() % n);
        while (k--)
            head = head->tnext;
        return head;
    }
    return NULL;
}

/* Every entry, bucket by bucket (the order of a full SCAN). */
struct cache__tnode *cache__ct_first(const struct cache__ctable *t,
                                     struct cache__ct_iter *it)
{
    it->table = 0;
    it->bucket = 0;
    it->next = NULL;
    return cache__ct_next(t, it);
}

struct cache__tnode *cache__ct_next(const struct cache__ctable *t,
                                    struct cache__ct_iter *it)
{
    struct cache__tnode *n = it->next;

    while (!n) {
        const struct cache__tab *tb = &t->ht[it->table];
        if (it->bucket >= tab_size(tb)) {
            if (it->table == 1 || t->rehashidx < 0)
                return NULL;
            it->table = 1;
            it->bucket = 0;
            continue;
        }
        n = tb->b[it->bucket++];
    }
    it->next = n->tnext;
    return n;
}

static inline uint64_t rev(uint64_t v)
{
    v = ((v >> 1) & 0x5555555555555555ull) | ((v & 0x5555555555555555ull) << 1);
    v = ((v >> 2) & 0x3333333333333333ull) | ((v & 0x3333333333333333ull) << 2);
    v = ((v >> 4) & 0x0F0F0F0F0F0F0F0Full) | ((v & 0x0F0F0F0F0F0F0F0Full) << 4);
    return __builtin_bswap64(v);
}

static void emit_bucket(struct cache__tnode *n, cache__ct_scan_fn fn, void *arg,
                        int *stop)
{
    for (; n; n = n->tnext)
        if (fn(arg, n) != 0)
            *stop = 1;
}

/* One step of Redis's dictScan: emits the bucket(s) at reverse-binary
 * cursor v (in both tables while rehashing) and returns the next cursor,
 * 0 when the table is done. Entries present for a whole scan are emitted
 * at least once whatever resizes happen between steps, because the
 * cursor's high-order bits are incremented first (the low bits select the
 * bucket of the smaller table, whose expansion in the larger one shares
 * them). */
uint64_t cache__ct_scan(const struct cache__ctable *t, uint64_t v,
                        cache__ct_scan_fn fn, void *arg, int *stop)
{
    if (t->rehashidx < 0) {
        const struct cache__tab *t0 = &t->ht[0];
        if (!t0->b)
            return 0;
        uint64_t m0 = t0->mask;
        emit_bucket(t0->b[v & m0], fn, arg, stop);
        v |= ~m0;
        v = rev(v);
        v++;
        v = rev(v);
        return v;
    }
    const struct cache__tab *t0 = &t->ht[0], *t1 = &t->ht[1];
    if (tab_size(t0) > tab_size(t1)) {
        const struct cache__tab *tmp = t0;
        t0 = t1;
        t1 = tmp;
    }
    uint64_t m0 = t0->mask, m1 = t1->mask;
    emit_bucket(t0->b[v & m0], fn, arg, stop);
    do {
        emit_bucket(t1->b[v & m1], fn, arg, stop);
        v |= ~m1;
        v = rev(v);
        v++;
        v = rev(v);
    } while (v & (m0 ^ m1));
    return v;
}

/* A page of a collection's scan (HSCAN, SSCAN): steps from cursor v until
 * about `count` entries were emitted or, Redis's bound, 10 * count steps
 * were taken. Returns the next cursor (0: done). */
struct scan_page {
    cache__ct_scan_fn fn;
    void *arg;
    size_t emitted;
};

static int page_emit(void *arg, struct cache__tnode *n)
{
    struct scan_page *p = arg;

    p->emitted++;
    return p->fn(p->arg, n);
}

uint64_t cache__ct_scan_page(const struct cache__ctable *t, uint64_t v, size_t count,
                             cache__ct_scan_fn fn, void *arg, int *stop)
{
    struct scan_page p = {fn, arg, 0};
    size_t steps = 0;

    if (count == 0)
        count = 1;
    do {
        v = cache__ct_scan(t, v, page_emit, &p, stop);
    } while (v != 0 && !*stop && p.emitted < count && ++steps < count * 10);
    return v;
}

/* ---- a collection's nodes (a hash's fields, a set's members) ------------
 * Each entry of such a table is one allocation of its own: free() frees
 * it, and its owner counts the nodes' usable sizes beside the buckets. */

void cache__ct_free_nodes(struct cache__ctable *t)
{
    struct cache__ct_iter ci;
    struct cache__tnode *n = cache__ct_first(t, &ci);

    while (n) {
        struct cache__tnode *next = cache__ct_next(t, &ci);
        free(n);
        n = next;
    }
    cache__ct_free(NULL, t);
}

int cache__ct_dup_nodes(const struct cache__ctable *src, struct cache__ctable *dst,
                        size_t (*node_size)(const struct cache__tnode *), size_t *bytes)
{
    struct cache__ct_iter ci;

    *bytes = 0;
    if (cache__ct_init(NULL, dst, cache__ct_count(src)) != 0)
        return CACHE_E_NOMEM;
    for (struct cache__tnode *n = cache__ct_first(src, &ci); n; n = cache__ct_next(src, &ci)) {
        size_t size = node_size(n);
        struct cache__tnode *c = malloc(size);
        if (c) {
            memcpy(c, n, size);
            c->tnext = NULL;
        }
        if (!c || cache__ct_add(NULL, dst, c) != 0) {
            free(c);
            cache__ct_free_nodes(dst);
            return CACHE_E_NOMEM;
        }
        *bytes += malloc_usable_size(c);
    }
    return CACHE_OK;
}

int cache__ct_check_nodes(const struct cache__ctable *t, cache__ct_eq_fn eq,
                          void (*key_of)(const struct cache__tnode *, struct cache__lookup_key *),
                          size_t *bytes, size_t *count)
{
    struct cache__ct_iter ci;
    struct cache__lookup_key k;
    size_t buckets = 0;

    *bytes = *count = 0;
    for (struct cache__tnode *e = cache__ct_first(t, &ci); e; e = cache__ct_next(t, &ci)) {
        key_of(e, &k);
        if (cache__ct_find(t, e->hash, eq, &k) != e)
            return -1;   /* a key twice, or in the wrong bucket */
        *bytes += malloc_usable_size(e);
        (*count)++;
    }
    for (int i = 0; i < 2; i++)
        if (t->ht[i].b)
            buckets += malloc_usable_size(t->ht[i].b);
    return buckets == t->bucket_bytes && *count == cache__ct_count(t) ? 0 : -1;
}

/* `want` distinct entries drawn at random, each handed to fn (non-zero
 * stops): for a few out of many (want <= count / 3, so a draw rarely
 * repeats one already taken; a repeat is drawn again). The entries taken
 * are remembered in a small open-addressing set of pointers. 0, or
 * CACHE_E_NOMEM. */
int cache__ct_random_distinct(const struct cache__ctable *t, size_t want,
                              cache__ct_scan_fn fn, void *arg)
{
    size_t cap = 16;
    while (cap < want * 2)
        cap <<= 1;
    const struct cache__tnode **taken = calloc(cap, sizeof(*taken));

    if (!taken)
        return CACHE_E_NOMEM;
    while (want > 0) {
        struct cache__tnode *n = cache__ct_random(t);
        if (!n)
            continue;   /* a sparse table's unlucky draws: draw again */
        size_t j = (size_t)((uintptr_t)n >> 4) * 0x9E3779B97F4A7C15ull & (cap - 1);
        while (taken[j] && taken[j] != n)
            j = (j + 1) & (cap - 1);
        if (taken[j])
            continue;
        taken[j] = n;
        want--;
        if (fn(arg, n) != 0)
            break;
    }
    free(taken);
    return CACHE_OK;
}

/* ---- the shard's key table --------------------------------------------- */

/* Two keys per bucket before growing: the buckets cost 4 to 8 bytes a
 * key instead of 8 to 16 (a tenth of a small item: issue 22), for chains
 * of 1 to 2 on average; a lookup compares the 32-bit hash in each node
 * before its key. */
#define KEY_TABLE_MAX_LOAD 2u

int cache__table_init_locked(struct shard *s)
{
    ASSERT_LOCKED(s);
    int rc = cache__ct_init(s, &s->kt, TABLE_MIN_SIZE);
    s->kt.max_load = KEY_TABLE_MAX_LOAD;
    return rc;
}

void cache__table_free_locked(struct shard *s)
{
    ASSERT_LOCKED(s);
    cache__ct_free(s, &s->kt);
}

static bool item_keq(const struct cache__tnode *n, const void *arg)
{
    const struct cache__lookup_key *k = arg;
    const struct item *it = cache__item_of(n);
    /* A short key is right after the header: one byte and a memcmp. */
    if (k->len < ITEM_KLEN_LONG)
        return it->klen8 == k->len && memcmp(it->data, k->s, k->len) == 0;
    return item_klen(it) == k->len && memcmp(item_ckey(it), k->s, k->len) == 0;
}

struct item *cache__table_find_locked(struct shard *s, uint64_t h,
                                      const char *key, size_t klen)
{
    struct cache__lookup_key k = {key, klen};

    ASSERT_LOCKED(s);
    struct cache__tnode *n = cache__ct_find(&s->kt, h, item_keq, &k);
    return n ? cache__item_of(n) : NULL;
}

size_t cache__table_grow_cost_locked(const struct shard *s)
{
    return cache__ct_grow_cost(&s->kt);
}

void cache__table_add_locked(struct shard *s, struct item *it)
{
    ASSERT_LOCKED(s);
    if (cache__ct_add(s, &s->kt, &it->node) != 0)
        abort();   /* cannot index the item; ENOMEM this deep is fatal */
}

void cache__table_remove_locked(struct shard *s, struct item *it)
{
    cache__ct_remove(s, &s->kt, &it->node);
}

void cache__table_rehash_locked(struct shard *s, unsigned nbuckets)
{
    cache__ct_rehash(s, &s->kt, nbuckets);
}

void cache__table_maybe_shrink_locked(struct shard *s)
{
    cache__ct_maybe_shrink(s, &s->kt);
}

/* A random item; falls back to the LRU head when the draws find none. */
struct item *cache__table_random_locked(struct shard *s)
{
    ASSERT_LOCKED(s);
    if (RLX_LOAD(s->count) == 0)
        return NULL;
    struct cache__tnode *n = cache__ct_random(&s->kt);
    return n ? cache__item_of(n) : s->lru_head;
}

struct scan_adapter {
    cache__scan_fn fn;
    void *arg;
};

static int scan_item(void *arg, struct cache__tnode *n)
{
    struct scan_adapter *a = arg;
    return a->fn(a->arg, cache__item_of(n));
}

uint64_t cache__table_scan_locked(struct shard *s, uint64_t v,
                                  cache__scan_fn fn, void *arg, int *stop)
{
    struct scan_adapter a = {fn, arg};

    ASSERT_LOCKED(s);
    return cache__ct_scan(&s->kt, v, scan_item, &a, stop);
}
