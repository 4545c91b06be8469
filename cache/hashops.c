/*
 * hashops.c: the hash commands (cache.h, "Hashes") over the hash type's
 * interface (t_hash.h).
 *
 * Every function: hash the key once, lock its shard, look the key up
 * (lazy expiry; WRONGTYPE for another type), do the whole command, copy
 * out what the caller needs, unlock. Writes first reserve an estimate of
 * the memory they may add (evicting per policy, never the hash being
 * written), then charge exactly what they did; a write that had to drop
 * the lock to evict elsewhere starts over from the lookup (`retry:`).
 */
#include <stdlib.h>
#include <string.h>

#include "t_hash.h"

/* An upper bound of what a node or a listpack pair adds beside its bytes
 * (node header + allocator rounding, or tags + backlens). */
#define PAIR_OVERHEAD 48

uint64_t cache_rand(void)
{
    return cache__rand();
}

/* Bytes adding these pairs to `it` (NULL: a new key) may take. Only the
 * maxmemory check uses it; accounting charges what really happens. */
static int64_t hset_estimate(struct shard *s, const struct item *it, size_t klen,
                             const struct cache_kv *fv, size_t n)
{
    int64_t need = 0;
    bool long_pair = false;

    for (size_t i = 0; i < n; i++) {
        need += (int64_t)(fv[i].klen + fv[i].vlen + PAIR_OVERHEAD);
        long_pair |= it && cache__hash_too_long(s, it, fv[i].klen, fv[i].vlen);
    }
    if (!it)
        return need + (int64_t)(ITEM_HDR + item_key_room(klen) + CACHE__LP_HDR +
                                cache__table_grow_cost_locked(s));
    if (it->enc == CACHE__ENC_TABLE)
        return need + (int64_t)cache__ct_grow_cost(&cache__hash_table(it)->t);
    uint64_t maxn = atomic_load_explicit(&s->c->hash_lp_entries, memory_order_relaxed);
    if (long_pair || cache__hash_len(it) + n > maxn)   /* may convert: a table as big again */
        need += (int64_t)(cache__item_size(it) +
                          cache__hash_len(it) * PAIR_OVERHEAD);
    return need;
}

/* Context: s locked. The hash item for a write, created (empty, linked)
 * when missing, after reserving `need` bytes. CACHE__AGAIN: the lock was
 * dropped, redo the lookup. */
static int hash_for_write(struct shard *s, uint64_t h, const char *key,
                          size_t klen, int64_t now, const struct cache_kv *fv,
                          size_t n, int *tries, struct item **itp)
{
    int rc;
    struct item *it = cache__lookup_type_locked(s, h, key, klen, now,
                                                CACHE_TYPE_HASH, &rc);

    if (rc == CACHE_E_WRONGTYPE)
        return rc;
    int64_t need = hset_estimate(s, it, klen, fv, n);
    rc = cache__reserve_or_evict_locked(s, need, it, now, tries);
    if (rc != CACHE_OK)
        return rc;
    if (!it) {
        if (!(it = cache__hash_new(h, key, klen)))
            return CACHE_E_NOMEM;
        cache__link_locked(s, it, now);
    }
    *itp = it;
    return CACHE_OK;
}

static bool pair_too_big(const struct cache_kv *fv, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (fv[i].klen > CACHE_MAX_STRING || fv[i].vlen > CACHE_MAX_STRING)
            return true;
    return false;
}

int cache_hset(struct cache *c, const char *key, size_t klen,
               const struct cache_kv *fv, size_t n, int flags, int64_t now,
               uint64_t *added)
{
    uint64_t h = cache__hash(c, key, klen);
    struct shard *s = cache__shard_of(c, h);
    struct cache__hval v;
    struct item *it;
    int rc, tries = 0;

    *added = 0;
    if (klen > CACHE_MAX_STRING || pair_too_big(fv, n))
        return CACHE_E_TOOBIG;
    cache__shard_lock(s);
retry:
    rc = hash_for_write(s, h, key, klen, now, fv, n, &tries, &it);
    if (rc == CACHE__AGAIN)
        goto retry;
    if (rc != CACHE_OK)
        goto out_unlock;
    if ((flags & CACHE_HSET_NX) && cache__hash_get_locked(s, it, fv[0].key, fv[0].klen, &v))
        goto out_unlock;   /* the field exists: nothing to do, *added = 0 */
    /* A pair too long for a listpack converts the hash before the first
     * insert, so no listpack ever holds one (Redis's hashTypeTryConversion). */
    for (size_t i = 0; i < n && it->enc == CACHE__ENC_LISTPACK; i++)
        if (cache__hash_too_long(s, it, fv[i].klen, fv[i].vlen) &&
            (rc = cache__hash_convert_locked(s, &it)) != CACHE_OK)
            goto out_done;
    for (size_t i = 0; i < n; i++) {
        int r = cache__hash_set_locked(s, &it, fv[i].key, fv[i].klen, fv[i].val, fv[i].vlen);
        if (r < 0) {
            rc = r;
            break;
        }
        *added += (uint64_t)r;
    }
out_done:
    cache__coll_write_done_locked(s, it, cache__hash_len(it), now);
out_unlock:
    cache__shard_unlock(s);
    return rc;
}

/* ---- reads ---------------------------------------------------------------- */

int cache_hget(struct cache *c, const char *key, size_t klen, const char *field,
               size_t flen, int64_t now, struct cache_val *out)
{
    uint64_t h = cache__hash(c, key, klen);
    struct shard *s = cache__shard_of(c, h);
    struct cache__hval v;
    int rc;

    cache__shard_lock(s);
    struct item *it = cache__lookup_read_locked(s, h, key, klen, now, CACHE_TYPE_HASH, &rc);
    if (it)
        rc = cache__hash_get_locked(s, it, field, flen, &v)
                 ? cache__val_copy(out, v.s, v.len) : CACHE_NOELEM;
    cache__shard_unlock(s);
    return rc;
}

int cache_hmget(struct cache *c, const char *key, size_t klen,
                const struct cache_str *fields, size_t n, int64_t now,
                struct cache_keys *out)
{
    uint64_t h = cache__hash(c, key, klen);
    struct shard *s = cache__shard_of(c, h);
    struct cache__hval v;
    int rc;

    cache__shard_lock(s);
    struct item *it = cache__lookup_read_locked(s, h, key, klen, now, CACHE_TYPE_HASH, &rc);
    if (rc == CACHE_E_WRONGTYPE)
        goto out_unlock;
    rc = CACHE_OK;
    for (size_t i = 0; i < n && rc == CACHE_OK; i++) {
        if (it && cache__hash_get_locked(s, it, fields[i].s, fields[i].len, &v))
            rc = cache__keys_push(out, v.s, v.len);
        else
            rc = cache__keys_push_nil(out);
    }
out_unlock:
    cache__shard_unlock(s);
    return rc;
}

static int push_pair(struct cache_keys *out, int what, const struct cache__hval *f,
                     const struct cache__hval *v)
{
    int rc = CACHE_OK;

    if (what & CACHE_H_FIELDS)
        rc = cache__keys_push(out, f->s, f->len);
    if (rc == CACHE_OK && (what & CACHE_H_VALUES))
        rc = cache__keys_push(out, v->s, v->len);
    return rc;
}

int cache_hgetall(struct cache *c, const char *key, size_t klen, int what,
                  int64_t now, struct cache_keys *out)
{
    uint64_t h = cache__hash(c, key, klen);
    struct shard *s = cache__shard_of(c, h);
    struct cache__hiter i;
    struct cache__hval f, v;
    int rc;

    cache__shard_lock(s);
    struct item *it = cache__lookup_read_locked(s, h, key, klen, now, CACHE_TYPE_HASH, &rc);
    if (it) {
        cache__hash_iter(it, &i);
        while (rc == CACHE_OK && cache__hash_next(&i, &f, &v))
            rc = push_pair(out, what, &f, &v);
    }
    cache__shard_unlock(s);
    return rc;
}

int cache_hexists(struct cache *c, const char *key, size_t klen,
                  const char *field, size_t flen, int64_t now)
{
    uint64_t h = cache__hash(c, key, klen);
    struct shard *s = cache__shard_of(c, h);
    struct cache__hval v;
    int rc;

    cache__shard_lock(s);
    struct item *it = cache__lookup_read_locked(s, h, key, klen, now, CACHE_TYPE_HASH, &rc);
    if (it && !cache__hash_get_locked(s, it, field, flen, &v))
        rc = CACHE_NOELEM;
    cache__shard_unlock(s);
    return rc;
}

int cache_hstrlen(struct cache *c, const char *key, size_t klen,
                  const char *field, size_t flen, int64_t now, size_t *len)
{
    uint64_t h = cache__hash(c, key, klen);
    struct shard *s = cache__shard_of(c, h);
    struct cache__hval v;
    int rc;

    *len = 0;
    cache__shard_lock(s);
    struct item *it = cache__lookup_read_locked(s, h, key, klen, now, CACHE_TYPE_HASH, &rc);
    if (it && cache__hash_get_locked(s, it, field, flen, &v))
        *len = v.len;
    cache__shard_unlock(s);
    return rc == CACHE_E_WRONGTYPE ? rc : CACHE_OK;
}

/* ---- HDEL, HINCRBY, HINCRBYFLOAT ------------------------------------------ */

int cache_hdel(struct cache *c, const char *key, size_t klen,
               const struct cache_str *fields, size_t n, int64_t now,
               uint64_t *deleted)
{
    uint64_t h = cache__hash(c, key, klen);
    struct shard *s = cache__shard_of(c, h);
    int rc;

    *deleted = 0;
    cache__shard_lock(s);
    struct item *it = cache__lookup_type_locked(s, h, key, klen, now,
                                                CACHE_TYPE_HASH, &rc);
    if (it) {
        for (size_t i = 0; i < n && cache__hash_len(it) > 0; i++)
            *deleted += (uint64_t)cache__hash_del_locked(s, &it, fields[i].s, fields[i].len);
        cache__coll_write_done_locked(s, it, cache__hash_len(it), now);
    }
    cache__shard_unlock(s);
    return rc == CACHE_E_WRONGTYPE ? rc : CACHE_OK;
}

/* The read-modify-write of HINCRBY/HINCRBYFLOAT: `fn` turns the field's
 * current value (NULL: absent) into the new one in buf, or fails. */
typedef int (*incr_fn)(const struct cache__hval *cur, void *arg, char *buf,
                       size_t cap, size_t *len);

static int hincr_generic(struct cache *c, const char *key, size_t klen,
                         const char *field, size_t flen, int64_t now,
                         incr_fn fn, void *arg, char *buf, size_t cap,
                         size_t *len)
{
    uint64_t h = cache__hash(c, key, klen);
    struct shard *s = cache__shard_of(c, h);
    struct cache_kv fv = {field, flen, NULL, CACHE_LD_MAX_CHARS};
    struct cache__hval v;
    struct item *it;
    int rc, tries = 0;

    if (klen > CACHE_MAX_STRING || flen > CACHE_MAX_STRING)
        return CACHE_E_TOOBIG;
    cache__shard_lock(s);
retry:
    rc = hash_for_write(s, h, key, klen, now, &fv, 1, &tries, &it);
    if (rc == CACHE__AGAIN)
        goto retry;
    if (rc != CACHE_OK)
        goto out_unlock;
    bool found = cache__hash_get_locked(s, it, field, flen, &v);
    rc = fn(found ? &v : NULL, arg, buf, cap, len);
    if (rc == CACHE_OK) {
        int r = cache__hash_set_locked(s, &it, field, flen, buf, *len);
        rc = r < 0 ? r : CACHE_OK;
    }
    cache__coll_write_done_locked(s, it, cache__hash_len(it), now);
out_unlock:
    cache__shard_unlock(s);
    return rc;
}

static int incr_ll(const struct cache__hval *cur, void *arg, char *buf,
                   size_t cap, size_t *len)
{
    long long *v = arg;
    int rc = cache__incr_ll(cur ? cur->s : NULL, cur ? cur->len : 0, *v, v);

    if (rc == CACHE_OK)
        *len = (size_t)cache__ll2string(buf, cap, *v);
    return rc;
}

int cache_hincrby(struct cache *c, const char *key, size_t klen,
                  const char *field, size_t flen, long long delta, int64_t now,
                  long long *result)
{
    char buf[CACHE__LONG_STR_SIZE];
    size_t len;
    long long v = delta;
    int rc = hincr_generic(c, key, klen, field, flen, now, incr_ll, &v, buf,
                           sizeof(buf), &len);
    if (rc == CACHE_OK)
        *result = v;
    return rc;
}

static int incr_ld(const struct cache__hval *cur, void *arg, char *buf,
                   size_t cap, size_t *len)
{
    return cache__incr_ld(cur ? cur->s : NULL, cur ? cur->len : 0,
                          *(long double *)arg, buf, cap, len);
}

int cache_hincrbyfloat(struct cache *c, const char *key, size_t klen,
                       const char *field, size_t flen, long double delta,
                       int64_t now, char *buf, size_t cap, size_t *reslen)
{
    int rc = hincr_generic(c, key, klen, field, flen, now, incr_ld, &delta, buf,
                           cap, reslen);
    if (rc == CACHE_OK)
        buf[*reslen] = '\0';
    return rc;
}

/* ---- HRANDFIELD ------------------------------------------------------------- */

/* Pushes every pair: the answer to a count >= the size. */
static int push_all(const struct item *it, int what, struct cache_keys *out)
{
    struct cache__hiter i;
    struct cache__hval f, v;
    int rc = CACHE_OK;

    cache__hash_iter(it, &i);
    while (rc == CACHE_OK && cache__hash_next(&i, &f, &v))
        rc = push_pair(out, what, &f, &v);
    return rc;
}

/* `want` of the `size` pairs, each subset equally likely, in hash order
 * (Knuth's selection sampling: one pass, no memory). */
static int push_subset_scan(const struct item *it, size_t size, size_t want,
                            int what, struct cache_keys *out)
{
    struct cache__hiter i;
    struct cache__hval f, v;
    int rc = CACHE_OK;

    cache__hash_iter(it, &i);
    for (size_t seen = 0; rc == CACHE_OK && want > 0 &&
                          cache__hash_next(&i, &f, &v); seen++) {
        if (cache__rand() % (size - seen) < want) {
            rc = push_pair(out, what, &f, &v);
            want--;
        }
    }
    return rc;
}

/* A few out of a large table (want <= size / 3): distinct random nodes. */
struct draw_ctx {
    int what;
    struct cache_keys *out;
    int rc;
};

static int push_node(void *arg, struct cache__tnode *n)
{
    struct draw_ctx *x = arg;
    struct cache__hval f, v;

    cache__hash_node_vals((const struct cache__hfield *)n, &f, &v);
    x->rc = push_pair(x->out, x->what, &f, &v);
    return x->rc != CACHE_OK;
}

static int push_subset_draw(const struct item *it, size_t want, int what,
                            struct cache_keys *out)
{
    struct draw_ctx x = {what, out, CACHE_OK};
    int rc = cache__ct_random_distinct(&cache__hash_table(it)->t, want, push_node, &x);

    return rc != CACHE_OK ? rc : x.rc;
}

/* `picks` pairs drawn independently (repeats allowed), picks <= size. */
static int push_draws(const struct item *it, size_t size, size_t picks, int what,
                      struct cache_keys *out)
{
    struct cache__hval f, v;
    int rc = CACHE_OK;

    if (it->enc == CACHE__ENC_TABLE) {
        while (picks > 0 && rc == CACHE_OK) {
            const struct cache__hfield *n = cache__hash_random_node(it);
            if (!n)
                continue;
            cache__hash_node_vals(n, &f, &v);
            rc = push_pair(out, what, &f, &v);
            picks--;
        }
        return rc;
    }
    /* A listpack: index its fields once, then draw indexes. */
    size_t *pos = malloc(size * sizeof(*pos));
    if (!pos)
        return CACHE_E_NOMEM;
    struct cache__hiter i;
    cache__hash_iter(it, &i);
    for (size_t k = 0; k < size; k++) {
        pos[k] = i.pos;
        cache__hash_next(&i, &f, &v);
    }
    while (picks-- > 0 && rc == CACHE_OK) {
        cache__hash_lp_pair(it, pos[cache__rand() % size], &f, &v);
        rc = push_pair(out, what, &f, &v);
    }
    free(pos);
    return rc;
}

int cache_hrandfield(struct cache *c, const char *key, size_t klen,
                     long long count, int withvalues, int64_t now,
                     struct cache_keys *out, int *sample)
{
    uint64_t h = cache__hash(c, key, klen);
    struct shard *s = cache__shard_of(c, h);
    int what = CACHE_H_FIELDS | (withvalues ? CACHE_H_VALUES : 0);
    int rc;

    *sample = 0;
    cache__shard_lock(s);
    struct item *it = cache__lookup_read_locked(s, h, key, klen, now, CACHE_TYPE_HASH, &rc);
    if (!it)
        goto out_unlock;
    size_t size = cache__hash_len(it);
    /* -LLONG_MIN does not exist; the server refuses it before calling. */
    unsigned long long want = count >= 0 ? (unsigned long long)count
                                         : (unsigned long long)-(count + 1) + 1;
    if (count < 0 && want <= size) {
        rc = push_draws(it, size, (size_t)want, what, out);
    } else if (want >= size) {
        *sample = count < 0;
        rc = push_all(it, what, out);
    } else if (it->enc == CACHE__ENC_TABLE && want * 3 <= size) {
        rc = push_subset_draw(it, (size_t)want, what, out);
    } else {
        rc = push_subset_scan(it, size, (size_t)want, what, out);
    }
out_unlock:
    cache__shard_unlock(s);
    return rc;
}

/* ---- HSCAN -------------------------------------------------------------------- */

struct hscan_ctx {
    struct cache_keys *out;
    int err;
};

static int hscan_emit(void *arg, struct cache__tnode *n)
{
    struct hscan_ctx *x = arg;
    struct cache__hval f, v;

    cache__hash_node_vals((const struct cache__hfield *)n, &f, &v);
    if (push_pair(x->out, CACHE_H_FIELDS | CACHE_H_VALUES, &f, &v) != CACHE_OK) {
        x->err = CACHE_E_NOMEM;
        return 1;
    }
    return 0;
}

int cache_hscan(struct cache *c, const char *key, size_t klen, uint64_t cursor,
                size_t count, int64_t now, struct cache_keys *out,
                uint64_t *next)
{
    uint64_t h = cache__hash(c, key, klen);
    struct shard *s = cache__shard_of(c, h);
    int rc;

    *next = 0;
    cache__shard_lock(s);
    struct item *it = cache__lookup_read_locked(s, h, key, klen, now, CACHE_TYPE_HASH, &rc);
    if (!it)
        goto out_unlock;
    if (it->enc == CACHE__ENC_LISTPACK) {
        rc = push_all(it, CACHE_H_FIELDS | CACHE_H_VALUES, out);
        goto out_unlock;
    }
    struct hscan_ctx x = {out, 0};
    int stop = 0;
    cursor = cache__ct_scan_page(&cache__hash_table(it)->t, cursor, count, hscan_emit, &x,
                                 &stop);
    rc = x.err;
    *next = cursor;
out_unlock:
    cache__shard_unlock(s);
    return rc;
}
