/*
 * setops.c: the set commands on one key (cache.h, "Sets") over the set
 * type's interface (t_set.h). The commands on several keys (SMOVE and
 * the SINTER/SUNION/SDIFF family) are in setmulti.c.
 *
 * Every function: hash the key once, lock its shard, look the key up
 * (lazy expiry; WRONGTYPE for another type), do the whole command, copy
 * out what the caller needs, unlock. SADD first reserves an estimate of
 * the memory it may add (evicting per policy, never the set being
 * written), then charges exactly what it did; when it had to drop the
 * lock to evict elsewhere it starts over from the lookup (`retry:`).
 */
#include <stdlib.h>
#include <string.h>

#include "t_set.h"

/* An upper bound of what one member adds beside its bytes: a table node's
 * header and rounding with its share of the buckets, or listpack tags. */
#define MEMBER_OVERHEAD 64

static int64_t sadd_estimate(struct shard *s, const struct item *it, size_t klen,
                             const struct cache_str *m, size_t n)
{
    int64_t need = 0;
    size_t maxlen = 0;
    bool any_string = false;
    struct cache__smem sm;

    for (size_t i = 0; i < n; i++) {
        need += (int64_t)(m[i].len + MEMBER_OVERHEAD);
        maxlen = m[i].len > maxlen ? m[i].len : maxlen;
        if (it && it->enc == CACHE__ENC_INTSET && !any_string) {
            cache__smem_str(&sm, m[i].s, m[i].len);
            any_string = !sm.k.isint;
        }
    }
    if (!it)
        return need + (int64_t)(ITEM_HDR + item_key_room(klen) + CACHE__IS_HDR +
                                cache__table_grow_cost_locked(s));
    if (it->enc == CACHE__ENC_TABLE)
        return need + (int64_t)cache__ct_grow_cost(&cache__set_table(it)->t);
    if (cache__set_may_convert(s, it, n, maxlen, any_string))   /* a table as big again */
        need += (int64_t)(cache__item_size(it) + cache__set_card(it) * MEMBER_OVERHEAD);
    return need;
}

static bool member_too_big(const struct cache_str *m, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (m[i].len > CACHE_MAX_STRING)
            return true;
    return false;
}

int cache_sadd(struct cache *c, const char *key, size_t klen,
               const struct cache_str *members, size_t n, int64_t now,
               uint64_t *added)
{
    uint64_t h = cache__hash(c, key, klen);
    struct shard *s = cache__shard_of(c, h);
    struct cache__smem m;
    int rc, tries = 0;

    *added = 0;
    if (n == 0)
        return CACHE_OK;
    if (klen > CACHE_MAX_STRING || member_too_big(members, n))
        return CACHE_E_TOOBIG;
    cache__shard_lock(s);
retry:;
    struct item *it = cache__lookup_type_locked(s, h, key, klen, now, CACHE_TYPE_SET, &rc);
    if (rc == CACHE_E_WRONGTYPE)
        goto out_unlock;
    rc = cache__reserve_or_evict_locked(s, sadd_estimate(s, it, klen, members, n), it,
                                        now, &tries);
    if (rc == CACHE__AGAIN)
        goto retry;
    if (rc != CACHE_OK)
        goto out_unlock;
    if (!it) {
        cache__smem_str(&m, members[0].s, members[0].len);
        if (!(it = cache__set_new(c, h, key, klen, &m, n))) {
            rc = CACHE_E_NOMEM;
            goto out_unlock;
        }
        cache__link_locked(s, it, now);
    } else {
        cache__set_maybe_convert_locked(s, &it, n);
    }
    for (size_t i = 0; i < n; i++) {
        cache__smem_str(&m, members[i].s, members[i].len);
        int r = cache__set_add_locked(s, &it, &m);
        if (r < 0) {
            rc = r;
            break;
        }
        *added += (uint64_t)r;
    }
    cache__coll_write_done_locked(s, it, cache__set_card(it), now);
out_unlock:
    cache__shard_unlock(s);
    return rc;
}

int cache_srem(struct cache *c, const char *key, size_t klen,
               const struct cache_str *members, size_t n, int64_t now,
               uint64_t *removed)
{
    uint64_t h = cache__hash(c, key, klen);
    struct shard *s = cache__shard_of(c, h);
    struct cache__smem m;
    int rc;

    *removed = 0;
    cache__shard_lock(s);
    struct item *it = cache__lookup_type_locked(s, h, key, klen, now, CACHE_TYPE_SET, &rc);
    if (it) {
        for (size_t i = 0; i < n && cache__set_card(it) > 0; i++) {
            cache__smem_str(&m, members[i].s, members[i].len);
            *removed += (uint64_t)cache__set_rem_locked(s, &it, &m);
        }
        cache__coll_write_done_locked(s, it, cache__set_card(it), now);
    }
    cache__shard_unlock(s);
    return rc == CACHE_E_WRONGTYPE ? rc : CACHE_OK;
}

/* ---- reads ------------------------------------------------------------------ */

static int push_member(struct cache_keys *out, const struct cache__smem *m)
{
    return cache__keys_push(out, m->k.s, m->k.len);
}

static int push_all(const struct item *it, struct cache_keys *out)
{
    struct cache__siter i;
    struct cache__smem m;
    int rc = CACHE_OK;

    cache__set_iter(it, &i);
    while (rc == CACHE_OK && cache__set_next(&i, &m))
        rc = push_member(out, &m);
    return rc;
}

int cache_smembers(struct cache *c, const char *key, size_t klen, int64_t now,
                   struct cache_keys *out)
{
    uint64_t h = cache__hash(c, key, klen);
    struct shard *s = cache__shard_of(c, h);
    int rc;

    cache__shard_lock(s);
    struct item *it = cache__lookup_read_locked(s, h, key, klen, now, CACHE_TYPE_SET, &rc);
    if (it)
        rc = push_all(it, out);
    cache__shard_unlock(s);
    return rc;
}

int cache_sismember(struct cache *c, const char *key, size_t klen,
                    const char *member, size_t mlen, int64_t now)
{
    uint64_t h = cache__hash(c, key, klen);
    struct shard *s = cache__shard_of(c, h);
    struct cache__smem m;
    int rc;

    cache__smem_str(&m, member, mlen);
    cache__shard_lock(s);
    struct item *it = cache__lookup_read_locked(s, h, key, klen, now, CACHE_TYPE_SET, &rc);
    if (it && !cache__set_has_locked(s, it, &m))
        rc = CACHE_NOELEM;
    cache__shard_unlock(s);
    return rc;
}

int cache_smismember(struct cache *c, const char *key, size_t klen,
                     const struct cache_str *members, size_t n, int64_t now,
                     unsigned char *is)
{
    uint64_t h = cache__hash(c, key, klen);
    struct shard *s = cache__shard_of(c, h);
    struct cache__smem m;
    int rc;

    memset(is, 0, n);
    cache__shard_lock(s);
    struct item *it = cache__lookup_read_locked(s, h, key, klen, now, CACHE_TYPE_SET, &rc);
    for (size_t i = 0; it && i < n; i++) {
        cache__smem_str(&m, members[i].s, members[i].len);
        is[i] = cache__set_has_locked(s, it, &m);
    }
    cache__shard_unlock(s);
    return rc;
}

/* ---- SPOP ------------------------------------------------------------------- */

int cache_spop(struct cache *c, const char *key, size_t klen, uint64_t count,
               int64_t now, struct cache_keys *out)
{
    uint64_t h = cache__hash(c, key, klen);
    struct shard *s = cache__shard_of(c, h);
    struct cache__smem m;
    int rc;

    cache__shard_lock(s);
    struct item *it = cache__lookup_type_locked(s, h, key, klen, now, CACHE_TYPE_SET, &rc);
    if (!it || count == 0)
        goto out_unlock;
    if (count >= cache__set_card(it)) {
        /* the whole set: copied out, then the key goes (Redis's dbDelete) */
        if ((rc = push_all(it, out)) == CACHE_OK) {
            cache__delete_locked(s, it, CACHE__WHY_SERVER_DEL);
            cache__shard_tidy_locked(s);
        }
        goto out_unlock;
    }
    for (uint64_t i = 0; i < count && rc == CACHE_OK; i++) {
        cache__set_random(it, &m);
        if ((rc = push_member(out, &m)) == CACHE_OK)   /* m points into the set */
            (void)cache__set_rem_locked(s, &it, &m);
    }
    cache__coll_write_done_locked(s, it, cache__set_card(it), now);
out_unlock:
    cache__shard_unlock(s);
    return rc;
}

/* ---- SRANDMEMBER -------------------------------------------------------------- */

/* `want` of the `size` members, each subset equally likely, in set order
 * (Knuth's selection sampling: one pass, no memory). */
static int pick_by_scan(const struct item *it, size_t size, size_t want,
                        struct cache_keys *out)
{
    struct cache__siter i;
    struct cache__smem m;
    int rc = CACHE_OK;

    cache__set_iter(it, &i);
    for (size_t seen = 0; rc == CACHE_OK && want > 0 && cache__set_next(&i, &m); seen++) {
        if (cache__rand() % (size - seen) < want) {
            rc = push_member(out, &m);
            want--;
        }
    }
    return rc;
}

/* A few distinct members of a large table (want <= size / 3). */
struct draw_ctx {
    struct cache_keys *out;
    int rc;
};

static int push_node(void *arg, struct cache__tnode *n)
{
    struct draw_ctx *x = arg;
    const struct cache__smember *m = (const struct cache__smember *)n;

    x->rc = cache__keys_push(x->out, m->data, m->len);
    return x->rc != CACHE_OK;
}

static int pick_by_draws(const struct item *it, size_t want, struct cache_keys *out)
{
    struct draw_ctx x = {out, CACHE_OK};
    int rc = cache__ct_random_distinct(&cache__set_table(it)->t, want, push_node, &x);

    return rc != CACHE_OK ? rc : x.rc;
}

/* `picks` members drawn independently (repeats allowed), picks <= size. */
static int pick_with_repeats(const struct item *it, size_t size, size_t picks,
                             struct cache_keys *out)
{
    struct cache__smem m;
    size_t *pos = NULL;
    int rc = CACHE_OK;

    /* a listpack's positions once, then O(1) draws */
    if (it->enc == CACHE__ENC_LISTPACK) {
        if (!(pos = malloc(size * sizeof(*pos))))
            return CACHE_E_NOMEM;
        cache__set_positions(it, pos);
    }
    while (picks-- > 0 && rc == CACHE_OK) {
        if (it->enc == CACHE__ENC_TABLE) {
            const struct cache__smember *n = cache__set_random_node(it);
            cache__smem_str(&m, n->data, n->len);
        } else {
            uint32_t idx = (uint32_t)(cache__rand() % size);
            cache__set_compact_at(it, idx, pos ? pos[idx] : 0, &m);
        }
        rc = push_member(out, &m);
    }
    free(pos);
    return rc;
}

int cache_srandmember(struct cache *c, const char *key, size_t klen,
                      long long count, int64_t now, struct cache_keys *out,
                      int *sample)
{
    uint64_t h = cache__hash(c, key, klen);
    struct shard *s = cache__shard_of(c, h);
    int rc;

    *sample = 0;
    cache__shard_lock(s);
    struct item *it = cache__lookup_read_locked(s, h, key, klen, now, CACHE_TYPE_SET, &rc);
    if (!it)
        goto out_unlock;
    size_t size = cache__set_card(it);
    /* -LLONG_MIN does not exist; the server refuses it before calling. */
    unsigned long long want = count >= 0 ? (unsigned long long)count
                                         : (unsigned long long)-(count + 1) + 1;
    if (count < 0 && want <= size) {
        rc = pick_with_repeats(it, size, (size_t)want, out);
    } else if (want >= size) {
        *sample = count < 0;
        rc = push_all(it, out);
    } else if (it->enc == CACHE__ENC_TABLE && want * 3 <= size) {
        rc = pick_by_draws(it, (size_t)want, out);
    } else {
        rc = pick_by_scan(it, size, (size_t)want, out);
    }
out_unlock:
    cache__shard_unlock(s);
    return rc;
}

/* ---- SSCAN -------------------------------------------------------------------- */

int cache_sscan(struct cache *c, const char *key, size_t klen, uint64_t cursor,
                size_t count, int64_t now, struct cache_keys *out,
                uint64_t *next)
{
    uint64_t h = cache__hash(c, key, klen);
    struct shard *s = cache__shard_of(c, h);
    int rc;

    *next = 0;
    cache__shard_lock(s);
    struct item *it = cache__lookup_read_locked(s, h, key, klen, now, CACHE_TYPE_SET, &rc);
    if (!it)
        goto out_unlock;
    if (it->enc != CACHE__ENC_TABLE) {   /* a compact set comes whole, as in Redis */
        rc = push_all(it, out);
        goto out_unlock;
    }
    struct draw_ctx x = {out, CACHE_OK};
    int stop = 0;
    cursor = cache__ct_scan_page(&cache__set_table(it)->t, cursor, count, push_node, &x,
                                 &stop);
    rc = x.rc;
    *next = cursor;
out_unlock:
    cache__shard_unlock(s);
    return rc;
}
