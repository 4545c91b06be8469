/*
 * shard.c: shard locking, hashing, item lifetime and memory accounting.
 *
 * An item is reachable from exactly three places of its shard: one bucket
 * chain, the LRU list, and (if it has a TTL) the TTL index. The helpers
 * here keep the three, the counters and the memory accounting in step; no
 * other file links or frees an item.
 */
#include <errno.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <xxhash.h>

#include "cache_int.h"

/* The monotonic clock of the contended path only: an uncontended lock
 * reads no clock. */
static uint64_t shard_wait_clock_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* The contended exclusive lock, after a failed trylock: blocks, then
 * counts the wait and its time for the lock-wait profile. Out of line and
 * cold so that the uncontended path keeps today's code (no clock, no
 * saved registers). The counters are added holding the lock (load +
 * store, like every exclusive-side counter). */
static void __attribute__((noinline, cold)) shard_lock_contended(struct shard *s)
{
    uint64_t t0 = shard_wait_clock_ns();

    if (s->rw)
        pthread_rwlock_wrlock(&s->rwlock);
    else
        pthread_mutex_lock(&s->lock);
    CTR_ADD_LOCKED(s->lock_waits, 1);
    CTR_ADD_LOCKED(s->lock_wait_ns, shard_wait_clock_ns() - t0);
}

#ifndef NDEBUG
/* Shared holds of rw shards by this thread (the debug lock check). */
static _Thread_local int rd_held;   /* owned by: its thread */
#endif

/* BUG 13 (mutex copied by value): the helper takes the shard by value, so
 * `s` is a copy on this stack frame and the mutex it locks is the copy's.
 * The copy of an unlocked mutex is itself unlocked, so every caller gets
 * in at once and the real shard is not excluded at all. (A copy made while
 * the real mutex was held would be locked forever: that caller hangs.) */
static void __attribute__((noinline)) shard_lock_copy(struct shard s)
{
    pthread_mutex_lock(&s.lock);
}

static void __attribute__((noinline)) shard_unlock_copy(struct shard s)
{
    pthread_mutex_unlock(&s.lock);
}

/* The by-value calls live here, out of line and cold, so that the copy's
 * 256-byte, 64-aligned argument area is this frame's, not the correct
 * path's: cache__shard_lock stays a small leaf when no bug is selected. */
static void __attribute__((noinline, cold)) shard_lock_bug13(struct shard *s)
{
    shard_lock_copy(*s);
}

static void __attribute__((noinline, cold)) shard_unlock_bug13(struct shard *s)
{
    shard_unlock_copy(*s);
}

/* The shard lock, with bug 13's site when `lab` (a constant at each
 * use): cache__shard_lock is the lock every caller takes; the _nolab pair
 * is for a caller that already knows 13 and 16 are not selected
 * (INJECT_ANY), so its correct path passes no site. */
static inline __attribute__((always_inline)) void shard_lock_as(struct shard *s, bool lab)
{
    if (__builtin_expect(cache__txn_cur != NULL, 0) && cache__txn_enter(s))
        return;   /* the open transaction holds it for this thread */
#ifndef NDEBUG
    /* Inside a transaction a blocking lock must come after every shard it
     * holds (docs/locking.md); below that, cache__shard_lock_other's
     * trylock is the only way in. A second lock of a held shard is bug
     * 17's recursive lock, whose self-deadlock is the lesson. */
    assert(cache__txn_cur == NULL || cache__txn_cur->m.n == 0 ||
           s->id > cache__txn_cur->m.ids[cache__txn_cur->m.n - 1] || cache__txn_holds(s));
#endif

    if (__builtin_expect(s->rw, 0)) {
        /* Control 16: the exclusive side of the reader-writer lock. */
        if (lab)
            (void)INJECT(16);
        if (pthread_rwlock_trywrlock(&s->rwlock) != 0)
            shard_lock_contended(s);
    } else if (!lab || !INJECT(13)) {
        if (pthread_mutex_trylock(&s->lock) != 0)
            shard_lock_contended(s);
    } else {
        /* BUG 13: passes *s by value: locks a copy (see shard_lock_copy). */
        shard_lock_bug13(s);
    }
#ifndef NDEBUG
    s->owner = pthread_self();
    s->owned = true;
#endif
    cache__lock_depth_inc();
}

static inline __attribute__((always_inline)) void shard_unlock_as(struct shard *s, bool lab)
{
    if (__builtin_expect(cache__txn_cur != NULL, 0) && cache__txn_leave(s))
        return;
#ifndef NDEBUG
    assert(cache__shard_held(s));
    s->owned = false;
#endif
    if (__builtin_expect(s->rw, 0))
        pthread_rwlock_unlock(&s->rwlock);
    else if (!lab || !INJECT(13))
        pthread_mutex_unlock(&s->lock);
    else
        shard_unlock_bug13(s);   /* BUG 13: unlocks another copy */
    /* After the unlock: a large value deleted under the lock is freed
     * once this thread holds no shard lock (lazyfree.c). */
    cache__lock_depth_dec();
}

/* Context: any thread; blocks. Counts an acquisition that had to wait
 * (trylock failed) for the mutex profile. */
void cache__shard_lock(struct shard *s) { shard_lock_as(s, true); }
void cache__shard_unlock(struct shard *s) { shard_unlock_as(s, true); }
void cache__shard_lock_nolab(struct shard *s) { shard_lock_as(s, false); }
void cache__shard_unlock_nolab(struct shard *s) { shard_unlock_as(s, false); }

/* Context: any thread; blocks. Shared hold on an rw shard (control 16),
 * the plain exclusive lock otherwise. */
void cache__shard_rdlock(struct shard *s)
{
    if (!s->rw) {
        cache__shard_lock(s);
        return;
    }
    if (__builtin_expect(cache__txn_cur != NULL, 0) && cache__txn_enter(s))
        return;
    /* Control 16: readers share the lock. lock_waits takes a fetch_add
     * here: two readers may count at once (writers, which exclude
     * readers, keep their plain load+store). */
    (void)INJECT(16);
    if (pthread_rwlock_tryrdlock(&s->rwlock) != 0) {
        uint64_t t0 = shard_wait_clock_ns();
        pthread_rwlock_rdlock(&s->rwlock);
        atomic_fetch_add_explicit(&s->lock_waits, 1, memory_order_relaxed);
        atomic_fetch_add_explicit(&s->lock_wait_ns, shard_wait_clock_ns() - t0,
                                  memory_order_relaxed);
    }
#ifndef NDEBUG
    rd_held++;
#endif
}

void cache__shard_rdunlock(struct shard *s)
{
    if (!s->rw) {
        cache__shard_unlock(s);
        return;
    }
    if (__builtin_expect(cache__txn_cur != NULL, 0) && cache__txn_leave(s))
        return;
#ifndef NDEBUG
    assert(rd_held > 0);
    rd_held--;
#endif
    pthread_rwlock_unlock(&s->rwlock);
}

#ifndef NDEBUG
/* Only meaningful for the calling thread's own locks: a thread that holds
 * the lock reads fields it wrote itself. A shared hold of an rw shard has
 * no owner: any shared hold by this thread counts (a writer cannot be in). */
bool cache__shard_held(const struct shard *s)
{
    if (cache__txn_cur != NULL && cache__txn_holds(s))
        return true;
    if (s->owned && pthread_equal(s->owner, pthread_self()))
        return true;
    return s->rw && rd_held > 0;
}
#endif

bool cache__shard_lock_other(struct shard *s)
{
    struct cache_txn *t = cache__txn_cur;

    if (__builtin_expect(t == NULL, 1) || cache__txn_holds(s) || t->m.n == 0 ||
        s->id > t->m.ids[t->m.n - 1]) {
        cache__shard_lock(s);   /* in order, or one of the transaction's */
        return true;
    }
    if (s->rw ? pthread_rwlock_trywrlock(&s->rwlock) != 0
              : pthread_mutex_trylock(&s->lock) != 0)
        return false;
#ifndef NDEBUG
    s->owner = pthread_self();
    s->owned = true;
#endif
    cache__lock_depth_inc();
    return true;
}

uint64_t cache__hash(const struct cache *c, const char *key, size_t klen)
{
    return XXH3_64bits_withSeed(key, klen, c->seed);
}

/* vcap >= vlen: room to allocate for the value (APPEND/SETRANGE slack).
 * The room past vlen reads as zero bytes: calloc, whose fresh pages of a
 * large value (SETBIT at bit 2^32-1) are not touched until written. */
struct item *cache__item_new(uint64_t h, const char *key, size_t klen,
                             const char *val, size_t vlen, size_t vcap)
{
    struct item *it;

    if (vcap < vlen)
        vcap = vlen;
    size_t hdr = ITEM_HDR + item_key_room(klen);
    it = vcap > vlen ? calloc(1, hdr + vcap) : malloc(hdr + vcap);
    if (!it)
        return NULL;
    it->node.tnext = NULL;
    it->node.hash = (uint32_t)h;
    it->node.aux = (uint32_t)CACHE__LFU_INIT << 24;   /* item_lfu; clock 0 */
    it->prev = it->next = NULL;
    it->vlen = (uint32_t)vlen;
    it->type = CACHE_TYPE_STRING;
    it->enc = CACHE__ENC_RAW;
    it->has_ttl = 0;
    it->spare = 0;
    char *v = item_set_key(it, key, klen);
    if (vlen)
        memcpy(v, val, vlen);
    return it;
}

/* Context: shard lock held. */
void cache__mem_add_locked(struct shard *s, int64_t delta)
{
    ASSERT_LOCKED(s);
    CTR_ADD_LOCKED(s->mem, delta);
    int64_t pending = (int64_t)RLX_LOAD(s->mem) - s->mem_flushed;
    int64_t batch = atomic_load_explicit(&s->c->mem_batch, memory_order_relaxed);
    if (pending >= batch || pending <= -batch)
        cache__mem_flush_locked(s);
}

void cache__link_locked(struct shard *s, struct item *it, int64_t now)
{
    ASSERT_LOCKED(s);
    cache__table_add_locked(s, it);
    cache__lru_push_locked(s, it, now);
    assert(!it->has_ttl);
    CTR_ADD_LOCKED(s->count, 1);
    cache__mem_add_locked(s, (int64_t)cache__item_size(it));
}

static void unlink_locked(struct shard *s, struct item *it)
{
    cache__table_remove_locked(s, it);
    cache__lru_unlink_locked(s, it);
    if (it->has_ttl)
        cache__ttl_remove_locked(s, it);
    CTR_ADD_LOCKED(s->count, -1);
    cache__mem_add_locked(s, -(int64_t)cache__item_size(it));
}

void cache__detach_locked(struct shard *s, struct item *it)
{
    ASSERT_LOCKED(s);
    unlink_locked(s, it);
}

void cache__delete_locked(struct shard *s, struct item *it, enum cache__why why)
{
    ASSERT_LOCKED(s);
    unlink_locked(s, it);
    cache__item_release_locked(s, it, why);
}

/* nw is linked with no TTL: the caller gives it one after, with
 * cache__set_expire_locked (old's entry is freed first, so a replace that
 * keeps a TTL never needs to reserve). */
void cache__replace_locked(struct shard *s, struct item *old,
                           struct item *nw, int64_t now)
{
    ASSERT_LOCKED(s);
    assert(item_hash(old) == item_hash(nw));
    if (cache__lfu_on(s->c)) {
        /* An overwrite is an access of the key, which keeps its count (as
         * Redis's dbOverwrite keeps it): decay from old's last access. */
        nw->node.aux = old->node.aux;   /* its counter and last access */
        cache__lfu_hit_locked(s, nw, now);
    }
    unlink_locked(s, old);
    cache__item_release_locked(s, old, CACHE__WHY_SERVER_DEL);
    cache__link_locked(s, nw, now);
}

struct item *cache__lookup_locked(struct shard *s, uint64_t h,
                                  const char *key, size_t klen, int64_t now)
{
    struct item *it;

    ASSERT_LOCKED(s);
    if (s->kt.rehashidx >= 0)
        cache__table_rehash_locked(s, 1);
    it = cache__table_find_locked(s, h, key, klen);
    if (it && item_expired(s, it, now)) {
        /* Lazy expiry: an expired key behaves as missing. */
        cache__delete_locked(s, it, CACHE__WHY_EXPIRE);
        CTR_ADD_LOCKED(s->expired, 1);
        cache__shard_tidy_locked(s);
        return NULL;
    }
    return it;
}

void cache__shard_tidy_locked(struct shard *s)
{
    ASSERT_LOCKED(s);
    cache__table_maybe_shrink_locked(s);
}

/* Frees every item (a large value once the lock is released) and the
 * tables, then starts over empty. */
void cache__shard_clear_locked(struct shard *s)
{
    struct item *it, *next;

    ASSERT_LOCKED(s);
    for (it = s->lru_head; it; it = next) {
        next = it->next;
        cache__mem_add_locked(s, -(int64_t)cache__item_size(it));
        cache__item_release_locked(s, it, CACHE__WHY_FLUSH_SYNC);
    }
    s->lru_head = s->lru_tail = NULL;
    RLX_STORE(s->count, 0);
    cache__ttl_free_locked(s);
    cache__table_free_locked(s);
    (void)cache__table_init_locked(s);   /* ENOMEM: stays size 0, grows on add */
}

int cache__val_copy(struct cache_val *out, const char *p, size_t n)
{
    if (out->cap < n || !out->data) {
        size_t cap = n < 64 ? 64 : n;
        char *d = realloc(out->data, cap);
        if (!d)
            return CACHE_E_NOMEM;
        out->data = d;
        out->cap = cap;
    }
    if (n)
        memcpy(out->data, p, n);
    out->len = n;
    return CACHE_OK;
}

static int keys_reserve(struct cache_keys *k, size_t need)
{
    if (need > k->cap) {
        size_t cap = k->cap ? k->cap * 2 : 256;
        while (cap < need)
            cap *= 2;
        char *b = realloc(k->buf, cap);
        if (!b)
            return CACHE_E_NOMEM;
        k->buf = b;
        k->cap = cap;
    }
    return CACHE_OK;
}

int cache__keys_push(struct cache_keys *k, const char *key, size_t klen)
{
    size_t need = k->len + sizeof(uint32_t) + klen;
    uint32_t l32 = (uint32_t)klen;

    if (keys_reserve(k, need) != CACHE_OK)
        return CACHE_E_NOMEM;
    memcpy(k->buf + k->len, &l32, sizeof(l32));
    memcpy(k->buf + k->len + sizeof(l32), key, klen);
    k->len = need;
    k->count++;
    return CACHE_OK;
}

int cache__keys_push_nil(struct cache_keys *k)
{
    uint32_t l32 = CACHE_KEYS_NIL;

    if (keys_reserve(k, k->len + sizeof(l32)) != CACHE_OK)
        return CACHE_E_NOMEM;
    memcpy(k->buf + k->len, &l32, sizeof(l32));
    k->len += sizeof(l32);
    k->count++;
    return CACHE_OK;
}

/* Per-thread xorshift64*: random victims and RANDOMKEY. Not for security;
 * the hash seed comes from getrandom(). */
static _Thread_local uint64_t rng_state;   /* owned by: its thread */

uint64_t cache__rand(void)
{
    uint64_t x = rng_state;

    if (x == 0) {
        if (getrandom(&x, sizeof(x), GRND_NONBLOCK) != sizeof(x) || x == 0)
            x = (uint64_t)(uintptr_t)&rng_state ^ 0x9E3779B97F4A7C15ull;
    }
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    rng_state = x;
    return x * 0x2545F4914F6CDD1Dull;
}
