/*
 * table.c: a shard's chained hash table with incremental resize.
 *
 * Redis dict style: ht[0] is the table; when it must grow (load factor 1)
 * or shrink (under 1/8 full), ht[1] is allocated at the new size and
 * rehashidx walks ht[0], moving a bucket's whole chain per step. Every
 * lookup on the shard moves one bucket, active expiry moves more, so no
 * single operation pays for the whole resize even with one shard and
 * millions of keys. While rehashing, new items go to ht[1] and lookups
 * search both tables; buckets of ht[0] below rehashidx are empty.
 *
 * Bucket index is the low bits of the item's stored hash (the shard came
 * from the high bits), so moving an item never rehashes its key.
 *
 * Context: every function here expects the shard lock held.
 */
#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#include "cache_int.h"

#define TABLE_MIN_SIZE 4u

static int table_alloc(struct shard *s, struct table *t, uint64_t size)
{
    struct item **b = calloc(size, sizeof(*b));
    if (!b)
        return -1;
    t->b = b;
    t->mask = size - 1;
    t->used = 0;
    cache__mem_add_locked(s, (int64_t)malloc_usable_size(b));
    return 0;
}

static void table_release(struct shard *s, struct table *t)
{
    if (t->b) {
        cache__mem_add_locked(s, -(int64_t)malloc_usable_size(t->b));
        free(t->b);
    }
    memset(t, 0, sizeof(*t));
}

static inline uint64_t table_size(const struct table *t)
{
    return t->b ? t->mask + 1 : 0;
}

int cache__table_init_locked(struct shard *s)
{
    ASSERT_LOCKED(s);
    memset(s->ht, 0, sizeof(s->ht));
    s->rehashidx = -1;
    return table_alloc(s, &s->ht[0], TABLE_MIN_SIZE);
}

void cache__table_free_locked(struct shard *s)
{
    ASSERT_LOCKED(s);
    table_release(s, &s->ht[0]);
    table_release(s, &s->ht[1]);
    s->rehashidx = -1;
}

static uint64_t next_pow2(uint64_t n)
{
    uint64_t p = TABLE_MIN_SIZE;
    while (p < n)
        p <<= 1;
    return p;
}

/* Starts a resize to `size` buckets. Allocation failure is not an error:
 * the table just stays at its size (longer chains, still correct). */
static void table_start_resize(struct shard *s, uint64_t size)
{
    if (s->rehashidx >= 0 || size == table_size(&s->ht[0]))
        return;
    if (!s->ht[0].b) {   /* empty after a failed init: allocate directly */
        (void)table_alloc(s, &s->ht[0], size);
        return;
    }
    if (table_alloc(s, &s->ht[1], size) != 0)
        return;
    s->rehashidx = 0;
}

static bool keq(const struct item *it, uint64_t h, const char *key, size_t klen)
{
    return it->hash == h && it->klen == klen &&
           memcmp(it->data, key, klen) == 0;
}

struct item *cache__table_find_locked(struct shard *s, uint64_t h,
                                      const char *key, size_t klen)
{
    ASSERT_LOCKED(s);
    for (int t = 0; t <= (s->rehashidx >= 0); t++) {
        const struct table *tb = &s->ht[t];
        if (!tb->b)
            continue;
        for (struct item *it = tb->b[h & tb->mask]; it; it = it->hnext)
            if (keq(it, h, key, klen))
                return it;
    }
    return NULL;
}

/* Bytes a new item's add could allocate for the table (a growth). */
size_t cache__table_grow_cost_locked(const struct shard *s)
{
    const struct table *t0 = &s->ht[0];
    if (s->rehashidx >= 0 || !t0->b || t0->used + 1 <= table_size(t0))
        return 0;
    return (size_t)table_size(t0) * 2 * sizeof(struct item *);
}

void cache__table_add_locked(struct shard *s, struct item *it)
{
    struct table *t;

    ASSERT_LOCKED(s);
    if (s->rehashidx < 0 && s->ht[0].used + 1 > table_size(&s->ht[0]))
        table_start_resize(s, next_pow2(s->ht[0].used + 1));
    if (s->rehashidx >= 0)
        cache__table_rehash_locked(s, 1);
    t = s->rehashidx >= 0 ? &s->ht[1] : &s->ht[0];
    if (!t->b) {
        /* No table at all (allocation failures): one last try. */
        if (table_alloc(s, t, TABLE_MIN_SIZE) != 0)
            abort();   /* cannot index the item; ENOMEM this deep is fatal */
    }
    uint64_t i = it->hash & t->mask;
    it->hnext = t->b[i];
    t->b[i] = it;
    t->used++;
}

void cache__table_remove_locked(struct shard *s, struct item *it)
{
    ASSERT_LOCKED(s);
    for (int t = 0; t <= (s->rehashidx >= 0); t++) {
        struct table *tb = &s->ht[t];
        if (!tb->b)
            continue;
        for (struct item **pp = &tb->b[it->hash & tb->mask]; *pp;
             pp = &(*pp)->hnext) {
            if (*pp == it) {
                *pp = it->hnext;
                it->hnext = NULL;
                tb->used--;
                return;
            }
        }
    }
    assert(!"item not in its shard's table");
}

/* Moves up to nbuckets non-empty buckets of ht[0] into ht[1], visiting at
 * most 10x as many empty ones, and finishes the resize when ht[0] is
 * empty. */
void cache__table_rehash_locked(struct shard *s, unsigned nbuckets)
{
    unsigned empty_visits = nbuckets * 10;
    struct table *t0 = &s->ht[0], *t1 = &s->ht[1];

    ASSERT_LOCKED(s);
    if (s->rehashidx < 0)
        return;
    while (nbuckets-- && t0->used != 0) {
        while (t0->b[s->rehashidx] == NULL) {
            s->rehashidx++;
            if (--empty_visits == 0)
                return;
        }
        struct item *it = t0->b[s->rehashidx];
        while (it) {
            struct item *next = it->hnext;
            uint64_t i = it->hash & t1->mask;
            it->hnext = t1->b[i];
            t1->b[i] = it;
            t0->used--;
            t1->used++;
            it = next;
        }
        t0->b[s->rehashidx] = NULL;
        s->rehashidx++;
    }
    if (t0->used == 0) {
        table_release(s, t0);
        *t0 = *t1;
        memset(t1, 0, sizeof(*t1));
        s->rehashidx = -1;
    }
}

void cache__table_maybe_shrink_locked(struct shard *s)
{
    const struct table *t0 = &s->ht[0];

    ASSERT_LOCKED(s);
    if (s->rehashidx >= 0 || table_size(t0) <= TABLE_MIN_SIZE)
        return;
    if (t0->used * 8 < table_size(t0))
        table_start_resize(s, next_pow2(t0->used));
}

/* A random item, near-uniform: random buckets until a non-empty one, then
 * a random element of its chain. Falls back to the LRU head. */
struct item *cache__table_random_locked(struct shard *s)
{
    ASSERT_LOCKED(s);
    if (RLX_LOAD(s->count) == 0)
        return NULL;
    for (int tries = 0; tries < 100; tries++) {
        uint64_t r = cache__rand();
        struct item *head;
        if (s->rehashidx >= 0) {
            uint64_t s0 = table_size(&s->ht[0]), s1 = table_size(&s->ht[1]);
            uint64_t lo = (uint64_t)s->rehashidx;
            uint64_t i = lo + r % (s0 + s1 - lo);
            head = i < s0 ? s->ht[0].b[i] : s->ht[1].b[i - s0];
        } else {
            head = s->ht[0].b[r & s->ht[0].mask];
        }
        if (!head)
            continue;
        unsigned n = 0;
        for (struct item *it = head; it; it = it->hnext)
            n++;
        unsigned k = (unsigned)(cache__rand() % n);
        while (k--)
            head = head->hnext;
        return head;
    }
    return s->lru_head;
}

static inline uint64_t rev(uint64_t v)
{
    v = ((v >> 1) & 0x5555555555555555ull) | ((v & 0x5555555555555555ull) << 1);
    v = ((v >> 2) & 0x3333333333333333ull) | ((v & 0x3333333333333333ull) << 2);
    v = ((v >> 4) & 0x0F0F0F0F0F0F0F0Full) | ((v & 0x0F0F0F0F0F0F0F0Full) << 4);
    return __builtin_bswap64(v);
}

static void emit_bucket(struct item *it, cache__scan_fn fn, void *arg, int *stop)
{
    for (; it; it = it->hnext)
        if (fn(arg, it) != 0)
            *stop = 1;
}

/* One step of Redis's dictScan: emits the bucket(s) at reverse-binary
 * cursor v (in both tables while rehashing) and returns the next cursor,
 * 0 when the table is done. Items present for a whole scan are emitted at
 * least once whatever resizes happen between steps, because the cursor's
 * high-order bits are incremented first (the low bits select the bucket of
 * the smaller table, whose expansion in the larger one shares them). */
uint64_t cache__table_scan_locked(struct shard *s, uint64_t v,
                                  cache__scan_fn fn, void *arg, int *stop)
{
    ASSERT_LOCKED(s);
    if (s->rehashidx < 0) {
        const struct table *t0 = &s->ht[0];
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
    const struct table *t0 = &s->ht[0], *t1 = &s->ht[1];
    if (table_size(t0) > table_size(t1)) {
        const struct table *tmp = t0;
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
