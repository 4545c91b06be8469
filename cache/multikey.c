/*
 * multikey.c: RENAME, COPY, MSET: atomic across shards; and the locking
 * of any number of keys' shards (cache__mlock), which MSET and the set
 * commands on several keys (setmulti.c) use.
 *
 * Lock order (docs/locking.md): the shards involved are locked in
 * ascending index order, each once. No eviction happens while more than
 * one shard lock is held: a write that needs room unlocks everything,
 * evicts one shard lock at a time (cache__evict_others) and retries.
 */
#include <stdlib.h>
#include <string.h>

#include "cache_int.h"
#include "multikey.h"

static void lock_pair(struct shard *a, struct shard *b)
{
    if (a == b) {
        cache__shard_lock(a);
    } else if (a->id < b->id) {
        cache__shard_lock(a);
        cache__shard_lock(b);
    } else {
        cache__shard_lock(b);
        cache__shard_lock(a);
    }
}

static void unlock_pair(struct shard *a, struct shard *b)
{
    if (a != b)
        cache__shard_unlock(b);
    cache__shard_unlock(a);
}

/* A list or a sorted set linked at a key (RENAME's or COPY's
 * destination) serves the clients blocked on that key, as Redis's dbAdd
 * does. Context: ss and sd locked (they may be one shard). */
static void list_ready_locked(struct shard *ss, struct shard *sd, struct item *it,
                              int64_t now, struct cache__serve *sv)
{
    if ((it->type != CACHE_TYPE_LIST && it->type != CACHE_TYPE_ZSET) ||
        !cache__has_blocked_locked(sd))
        return;
    sv->held = sv->heldv;
    sv->heldv[0] = ss->id < sd->id ? ss->id : sd->id;
    sv->heldv[1] = ss->id < sd->id ? sd->id : ss->id;
    sv->nheld = ss == sd ? 1 : 2;
    /* The item keeps 32 bits of its hash: the blocked-key index wants all. */
    size_t klen = item_klen(it);
    cache__serve_key_locked(sd, sv, cache__hash(sd->c, item_key(it), klen),
                            item_key(it), klen, now);
}

/* RENAME moves the allocation itself (realloc for the new key length), so
 * a large value is not copied under the locks. Like Redis, RENAME is not
 * refused for memory: it adds at most the key length difference. */
int cache_rename(struct cache *c, const char *src, size_t slen,
                 const char *dst, size_t dlen, int nx, int64_t now)
{
    uint64_t hs = cache__hash(c, src, slen), hd = cache__hash(c, dst, dlen);
    struct shard *ss = cache__shard_of(c, hs), *sd = cache__shard_of(c, hd);
    struct cache__serve sv;
    int rc = CACHE_OK;

    if (dlen > CACHE_MAX_STRING)
        return CACHE_E_TOOBIG;
    cache__serve_begin(&sv, NULL, 0);
    lock_pair(ss, sd);
    struct item *it = cache__lookup_locked(ss, hs, src, slen, now);
    if (!it) {
        rc = CACHE_NOTFOUND;
        goto out_unlock;
    }
    if (cache__same_key(src, slen, dst, dlen)) {
        rc = nx ? CACHE_NOTSET : CACHE_OK;
        goto out_unlock;
    }
    struct item *dit = cache__lookup_locked(sd, hd, dst, dlen, now);
    if (dit && nx) {
        rc = CACHE_NOTSET;
        goto out_unlock;
    }
    int64_t at = cache__expire_of_locked(ss, it);
    if (at && !(dit && dit->has_ttl) &&
        (rc = cache__ttl_reserve_locked(sd)) != CACHE_OK)
        goto out_unlock;
    size_t vlen = it->vlen, sroom = item_key_room(slen), droom = item_key_room(dlen);
    size_t newsize = ITEM_HDR + droom + vlen;
    struct item *moved = it;
    cache__detach_locked(ss, it);   /* drops its TTL entry: `at` keeps it */
    if (droom <= sroom) {
        memmove(it->data + droom, it->data + sroom, vlen);
        if (droom < sroom) {
            struct item *r = realloc(it, newsize);
            if (r)
                moved = r;   /* a failed shrink keeps the bigger block */
        }
    } else {
        struct item *r = realloc(it, newsize);
        if (!r) {
            /* Could not grow: put src back; dst is untouched. */
            cache__link_locked(ss, it, now);
            cache__set_expire_locked(ss, it, at);   /* its own entry was freed */
            rc = CACHE_E_NOMEM;
            goto out_unlock;
        }
        moved = r;
        memmove(moved->data + droom, moved->data + sroom, vlen);
    }
    if (dit)
        cache__delete_locked(sd, dit, CACHE__WHY_SERVER_DEL);
    item_set_key(moved, dst, dlen);
    moved->node.hash = (uint32_t)hd;
    cache__link_locked(sd, moved, now);
    cache__set_expire_locked(sd, moved, at);
    cache__shard_tidy_locked(ss);
    cache__shard_tidy_locked(sd);
    list_ready_locked(ss, sd, moved, now, &sv);
out_unlock:
    unlock_pair(ss, sd);
    cache__serve_end(c, &sv, now);
    return rc;
}

/* COPY: src == dst is an error in Redis ("source and destination objects
 * are the same"), which the server reports before calling; here it is
 * NOTFOUND if missing, NOTSET without replace, a no-op OK with replace. */
int cache_copy(struct cache *c, const char *src, size_t slen,
               const char *dst, size_t dlen, int replace, int64_t now)
{
    uint64_t hs = cache__hash(c, src, slen), hd = cache__hash(c, dst, dlen);
    struct shard *ss = cache__shard_of(c, hs), *sd = cache__shard_of(c, hd);
    struct item *nw = NULL;
    struct cache__serve sv;
    int rc, tries = 0;

    if (dlen > CACHE_MAX_STRING)
        return CACHE_E_TOOBIG;
    cache__serve_begin(&sv, NULL, 0);
retry:
    rc = CACHE_OK;
    lock_pair(ss, sd);
    struct item *it = cache__lookup_locked(ss, hs, src, slen, now);
    if (!it) {
        rc = CACHE_NOTFOUND;
        goto out_unlock;
    }
    if (cache__same_key(src, slen, dst, dlen)) {
        rc = replace ? CACHE_OK : CACHE_NOTSET;
        goto out_unlock;
    }
    struct item *dit = cache__lookup_locked(sd, hd, dst, dlen, now);
    if (dit && !replace) {
        rc = CACHE_NOTSET;
        goto out_unlock;
    }
    /* A deep copy of any type (a large hash: every field), built under
     * both locks like Redis's COPY; a retry after eviction builds it
     * again from the source as it is then. */
    nw = cache__item_dup(it, hd, dst, dlen);
    if (!nw) {
        rc = CACHE_E_NOMEM;
        goto out_unlock;
    }
    int64_t at = cache__expire_of_locked(ss, it);
    bool need_slot = at && !(dit && dit->has_ttl);
    int64_t need = (int64_t)cache__item_size(nw) +
                   (dit ? -(int64_t)cache__item_size(dit)
                        : (int64_t)cache__table_grow_cost_locked(sd)) +
                   (need_slot ? (int64_t)cache__ttl_grow_cost_locked(sd) : 0);
    enum cache__admit adm = cache__admit_locked(sd, need);
    if (adm != CACHE__FITS) {
        unlock_pair(ss, sd);
        cache__item_destroy(nw);   /* unlocked: it may be large */
        nw = NULL;
        if (adm == CACHE__REFUSE || tries++ >= CACHE_EVICT_TRIES ||
            cache__evict_others(c, NULL, need, now) != CACHE_OK)
            return CACHE_E_OOM;
        goto retry;
    }
    if (need_slot && (rc = cache__ttl_reserve_locked(sd)) != CACHE_OK)
        goto out_unlock;
    if (dit)
        cache__replace_locked(sd, dit, nw, now);
    else
        cache__link_locked(sd, nw, now);
    cache__set_expire_locked(sd, nw, at);
    list_ready_locked(ss, sd, nw, now, &sv);
    nw = NULL;
out_unlock:
    unlock_pair(ss, sd);
    cache__serve_end(c, &sv, now);
    if (nw)
        cache__item_destroy(nw);
    return rc;
}

static int cmp_uint(const void *a, const void *b)
{
    unsigned x = *(const unsigned *)a, y = *(const unsigned *)b;
    return x < y ? -1 : x > y;
}

int cache__mlock_init(struct cache *c, struct cache_mlock *m, const uint64_t *hash,
                      size_t n)
{
    m->ids = n <= CACHE__MLOCK_SMALL ? m->small : malloc(n * sizeof(*m->ids));
    m->n = 0;
    if (!m->ids)
        return CACHE_E_NOMEM;
    for (size_t i = 0; i < n; i++)
        m->ids[i] = cache__shard_of(c, hash[i])->id;
    m->n = n;
    cache__mlock_sort(m);
    return CACHE_OK;
}

void cache__mlock_sort(struct cache_mlock *m)
{
    size_t n = m->n;

    if (n <= CACHE__MLOCK_SMALL) {
        /* The common few shards (a one-key write is one): an insertion
         * sort in place costs less than qsort's call per compare. */
        for (size_t i = 1; i < n; i++) {
            unsigned v = m->ids[i];
            size_t j = i;

            for (; j > 0 && m->ids[j - 1] > v; j--)
                m->ids[j] = m->ids[j - 1];
            m->ids[j] = v;
        }
    } else {
        qsort(m->ids, n, sizeof(*m->ids), cmp_uint);
    }
    m->n = 0;
    for (size_t i = 0; i < n; i++)
        if (m->n == 0 || m->ids[m->n - 1] != m->ids[i])
            m->ids[m->n++] = m->ids[i];
}

uint64_t *cache__hash_keys(struct cache *c, const struct cache_str *keys, size_t n,
                           const char *dst, size_t dlen)
{
    uint64_t *h = malloc((n + (dst != NULL)) * sizeof(*h));

    for (size_t j = 0; h && j < n; j++)
        h[j] = cache__hash(c, keys[j].s, keys[j].len);
    if (h && dst)
        h[n] = cache__hash(c, dst, dlen);
    return h;
}

void cache__mlock_free(struct cache_mlock *m)
{
    if (m->ids != m->small)
        free(m->ids);
    m->ids = NULL;
}

void cache__mlock_lock(struct cache *c, const struct cache_mlock *m)
{
    for (size_t i = 0; i < m->n; i++)   /* ascending: lock order */
        cache__shard_lock(&c->shards[m->ids[i]]);
}

void cache__mlock_unlock(struct cache *c, const struct cache_mlock *m)
{
    for (size_t i = m->n; i-- > 0;)
        cache__shard_unlock(&c->shards[m->ids[i]]);
}

int cache__mlock_run(struct cache *c, const struct cache_mlock *m, int64_t now,
                     cache__mlock_attempt_fn *attempt, void (*done)(void *arg), void *arg)
{
    struct cache__serve sv;
    int64_t need = 0;
    int rc, tries = 0;

    for (;;) {
        cache__mlock_lock(c, m);
        cache__serve_begin(&sv, m->ids, m->n);
        rc = attempt(arg, &sv, &need);
        cache__mlock_unlock(c, m);
        cache__serve_end(c, &sv, now);
        done(arg);
        if (rc != CACHE__AGAIN)
            return rc;
        if (tries++ >= CACHE_EVICT_TRIES || cache__evict_others(c, NULL, need, now) != CACHE_OK)
            return CACHE_E_OOM;
    }
}

struct mset_ctx {
    uint64_t *hash;
    struct item **items;
    struct cache_mlock lk;   /* the keys' shards */
};

int cache_mset(struct cache *c, const struct cache_kv *kv, size_t n, int nx,
               int64_t now)
{
    struct mset_ctx m = {0};
    int rc = CACHE_OK, tries = 0;
    size_t i;

    if (n == 0)
        return CACHE_OK;
    for (i = 0; i < n; i++)
        if (kv[i].klen > CACHE_MAX_STRING || kv[i].vlen > CACHE_MAX_STRING)
            return CACHE_E_TOOBIG;
    m.hash = malloc(n * sizeof(*m.hash));
    m.items = calloc(n, sizeof(*m.items));
    if (!m.hash || !m.items) {
        rc = CACHE_E_NOMEM;
        goto out_free;
    }
    /* Hash and build every item before taking any lock. */
    for (i = 0; i < n; i++) {
        m.hash[i] = cache__hash(c, kv[i].key, kv[i].klen);
        m.items[i] = cache__item_new(m.hash[i], kv[i].key, kv[i].klen,
                                     kv[i].val, kv[i].vlen, kv[i].vlen);
        if (!m.items[i]) {
            rc = CACHE_E_NOMEM;
            goto out_free;
        }
    }
    if ((rc = cache__mlock_init(c, &m.lk, m.hash, n)) != CACHE_OK)
        goto out_free;

retry:
    cache__mlock_lock(c, &m.lk);
    int64_t need = 0;
    for (i = 0; i < n; i++) {
        struct shard *s = cache__shard_of(c, m.hash[i]);
        struct item *old = cache__lookup_locked(s, m.hash[i], kv[i].key,
                                                kv[i].klen, now);
        if (old && nx) {
            rc = CACHE_NOTSET;
            goto out_unlock;
        }
        need += (int64_t)cache__item_size(m.items[i]) -
                (old ? (int64_t)cache__item_size(old) : 0);
    }
    struct shard *first = &c->shards[m.lk.ids[0]];
    enum cache__admit adm = cache__admit_locked(first, need);
    if (adm != CACHE__FITS) {
        cache__mlock_unlock(c, &m.lk);
        if (adm == CACHE__REFUSE || tries++ >= CACHE_EVICT_TRIES ||
            cache__evict_others(c, NULL, need, now) != CACHE_OK) {
            rc = CACHE_E_OOM;
            goto out_free;
        }
        goto retry;
    }
    /* In argument order, so a repeated key ends with its last value. MSET
     * clears TTLs, so no TTL slot is needed. */
    for (i = 0; i < n; i++) {
        struct shard *s = cache__shard_of(c, m.hash[i]);
        struct item *old = cache__table_find_locked(s, m.hash[i], kv[i].key,
                                                    kv[i].klen);
        if (old)
            cache__replace_locked(s, old, m.items[i], now);
        else
            cache__link_locked(s, m.items[i], now);
        m.items[i] = NULL;
    }
out_unlock:
    cache__mlock_unlock(c, &m.lk);
out_free:
    if (m.items)
        for (i = 0; i < n; i++)
            free(m.items[i]);
    free(m.hash);
    free(m.items);
    if (m.lk.ids)
        cache__mlock_free(&m.lk);
    return rc;
}
