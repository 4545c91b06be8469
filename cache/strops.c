/*
 * strops.c: single-key operations with Redis 7 string semantics.
 *
 * Every function: hash the key once, lock its shard, look it up (one
 * incremental rehash step, lazy expiry), do the operation, copy out what
 * the caller needs, unlock. A write that adds memory reserves it first
 * (evict.c) and may loop back to `retry:` when it had to drop the lock to
 * evict from other shards.
 */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cache_int.h"
#include "t_string.h"

#define GREEDY_MAX (1024 * 1024)   /* APPEND/SETRANGE slack cap, as sds */

static inline int64_t insert_cost(const struct shard *s, const struct item *old)
{
    return old ? -(int64_t)cache__item_size(old)
               : (int64_t)cache__table_grow_cost_locked(s);
}

/* A string whose new zero room is at least this is prepared: allocated,
 * and its pages touched, with no lock held (see cache_int.h). */
#define PREPARE_MIN (1024 * 1024)

int cache__str_resize_locked(struct shard *s, uint64_t h, const char *key,
                             size_t klen, struct item *old, size_t newlen,
                             size_t slack, int64_t now, int *tries,
                             struct item **pre, struct item **itp)
{
    struct item *nw;
    int rc;

    if (old && newlen <= cache__item_vcap(old)) {
        if (newlen > old->vlen)   /* the room past vlen may hold old bytes */
            memset(item_val(old) + old->vlen, 0, newlen - old->vlen);
        old->vlen = (uint32_t)newlen;
        cache__lru_bump_locked(s, old, now);
        *itp = old;
        return CACHE_OK;
    }
    /* Room first, by the size asked for (the allocator's usable size is
     * at least that): a value that cannot fit (a SETBIT at bit 2^32-1
     * under a 100 MB maxmemory) is refused before anything is allocated,
     * and eviction makes room before the new value takes it. */
    int64_t est = (int64_t)(ITEM_HDR + item_key_room(klen) + newlen + slack) +
                  insert_cost(s, old);
    if ((rc = cache__reserve_or_evict_locked(s, est, old, now, tries)) != CACHE_OK)
        return rc;
    size_t keep = old ? (old->vlen < newlen ? old->vlen : newlen) : 0;
    if (pre && newlen - keep >= PREPARE_MIN) {
        if (!*pre || !cache__str_prepared_fits(*pre, newlen + slack)) {
            struct item *p = *pre;
            cache__shard_unlock(s);
            free(p);
            if ((p = cache__item_new(h, key, klen, NULL, 0, newlen + slack)))
                memset(item_val(p), 0, newlen + slack);   /* the page faults, here */
            *pre = p;
            cache__shard_lock(s);
            return p ? CACHE__AGAIN : CACHE_E_NOMEM;
        }
        nw = *pre;   /* all zeros: only old's bytes to copy */
        *pre = NULL;
        if (keep)
            memcpy(item_val(nw), item_val(old), keep);
    } else if (!(nw = cache__item_new(h, key, klen, old ? item_val(old) : NULL, keep,
                                      newlen + slack))) {
        return CACHE_E_NOMEM;
    }
    nw->vlen = (uint32_t)newlen;
    int64_t need = (int64_t)cache__item_size(nw) + insert_cost(s, old);
    rc = cache__reserve_or_evict_locked(s, need, old, now, tries);
    if (rc != CACHE_OK) {
        free(nw);
        return rc;
    }
    if (old) {
        int64_t at = cache__expire_of_locked(s, old);
        cache__replace_locked(s, old, nw, now);
        cache__set_expire_locked(s, nw, at);   /* old's entry was freed first */
    } else {
        cache__link_locked(s, nw, now);
    }
    *itp = nw;
    return CACHE_OK;
}

size_t cache__str_slack(size_t newlen)
{
    return newlen < GREEDY_MAX ? newlen : GREEDY_MAX;
}

/* Control 16: a GET under the shared lock of an rw shard, when it stays a
 * pure read: no resize in progress (a lookup would move a bucket), the
 * item live (an expired one is deleted) and inside its LRU bump window (a
 * bump moves it). False otherwise: the caller redoes it exclusively. */
static bool get_shared(struct shard *s, uint64_t h, const char *key,
                       size_t klen, int64_t now, struct cache_val *out,
                       int *rc)
{
    bool done = false;

    cache__shard_rdlock(s);
    if (s->kt.rehashidx < 0) {
        struct item *it = cache__table_find_locked(s, h, key, klen);
        if (!it) {
            *rc = CACHE_NOTFOUND;
            done = true;
        } else if (!item_expired(s, it, now) && !cache__lfu_on(s->c) &&
                   item_idle_ticks(it, now) < CACHE_LRU_BUMP_TICKS) {
            *rc = it->type != CACHE_TYPE_STRING ? CACHE_E_WRONGTYPE
                  : cache__val_copy(out, item_val(it), it->vlen);
            done = true;
        }
    }
    cache__shard_rdunlock(s);
    return done;
}

/* GET's correct path; `lab` (a constant at each use) says whether the
 * shard lock passes bug 13's site. */
static inline __attribute__((always_inline)) int get_locked(struct shard *s, uint64_t h,
                                                            const char *key, size_t klen,
                                                            int64_t now, struct cache_val *out,
                                                            bool lab)
{
    int rc = CACHE_NOTFOUND;
    if (lab)
        cache__shard_lock(s);
    else
        cache__shard_lock_nolab(s);
    struct item *it = cache__lookup_locked(s, h, key, klen, now);
    if (it) {
        cache__lru_touch_locked(s, it, now);
        rc = it->type != CACHE_TYPE_STRING ? CACHE_E_WRONGTYPE
             : cache__val_copy(out, item_val(it), it->vlen);
    }
    if (lab)
        cache__shard_unlock(s);
    else
        cache__shard_unlock_nolab(s);
    return rc;
}

int cache_get(struct cache *c, const char *key, size_t klen, int64_t now,
              struct cache_val *out)
{
    uint64_t h = cache__hash(c, key, klen);
    struct shard *s = cache__shard_of(c, h);
    int rc = CACHE_NOTFOUND;

    /* None of this path's bugs selected (the cost-when-off case): one
     * branch, then the correct path with no site on the way. */
    if (!INJECT_ANY(INJECT_BIT(4) | CACHE__LOCK_BUGS))
        return get_locked(s, h, key, klen, now, out, false);
    if (__builtin_expect(s->rw, 0) && get_shared(s, h, key, klen, now, out, &rc))
        return rc;
    if (!INJECT(4)) {
        rc = get_locked(s, h, key, klen, now, out, true);
    } else {
        /* BUG 4 (read while writing): "a GET only reads", so it looks the
         * key up and copies the value without the shard lock. Meanwhile a
         * SET, DEL or eviction on another worker unlinks and frees the
         * item (or a resize moves its chain): the copy reads freed memory,
         * which the allocator may already have given to another value. */
        struct item *it = cache__table_find_locked(s, h, key, klen);
        if (it && !item_expired(s, it, now) && it->type == CACHE_TYPE_STRING) {
            inject_window();
            rc = cache__val_copy(out, item_val(it), it->vlen);
        }
    }
    return rc;
}

/* Bug 3's detector: Go's runtime "hashWriting" check. A plain flag on the
 * shard, racy on purpose exactly as Go's h.flags is: best effort, it
 * catches two unlocked writers that overlap, and costs the correct path
 * nothing (only bug 3's unlocked SET calls these). Go's runtime throws
 * there; the lab says so once and runs on, so that what the bug does to
 * the table (lost SETs, keys the LRU no longer lists, a crash) is what a
 * scenario shows, the detector's line only an extra signal. */
static _Atomic int map_said;   /* atomic: relaxed; the first detection logs, once */

static void map_overlap(const struct shard *s)
{
    if (atomic_exchange_explicit(&map_said, 1, memory_order_relaxed) == 0)
        fprintf(stderr, "concurrent map writes (shard %u): two unlocked SETs in one shard at "
                "once (Go's runtime throws here: 'fatal error: concurrent map writes'; the "
                "lab runs on)\n", s->id);
}

static void map_write_begin(struct shard *s)
{
    if (s->map_writing)
        map_overlap(s);
    s->map_writing = 1;
}

static void map_write_end(struct shard *s)
{
    if (!s->map_writing)
        map_overlap(s);
    s->map_writing = 0;
}

/* SET's body; `lab` (a constant at each use, see cache_set) says whether
 * its path passes the sites of bugs 3 and 13: with it false the compiler
 * drops them, and the correct path runs with no site on the way. */
static inline __attribute__((always_inline)) int set_as(struct cache *c, const char *key,
                                                        size_t klen, const char *val,
                                                        size_t vlen, int flags,
                                                        int64_t expire_at, int64_t now,
                                                        struct cache_val *old, int *old_found,
                                                        bool lab)
{
    uint64_t h;
    struct shard *s;
    struct item *nw, *cur;
    int rc, tries = 0;

    if (vlen > CACHE_MAX_STRING || klen > CACHE_MAX_STRING)
        return CACHE_E_TOOBIG;
    h = cache__hash(c, key, klen);
    s = cache__shard_of(c, h);
    /* Built before locking: the copy of a large value runs unlocked. */
    nw = cache__item_new(h, key, klen, val, vlen, vlen);
    if (!nw)
        return CACHE_E_NOMEM;
    if (old_found)
        *old_found = 0;

    bool locked = !lab || !INJECT(3);
    if (locked) {
        if (lab)
            cache__shard_lock(s);
        else
            cache__shard_lock_nolab(s);
    } else {
        /* BUG 3 (concurrent map writes): the SET looks up, unlinks the old
         * item and links the new one into the shard's table, LRU and TTL
         * index without the shard lock. Two SETs in one shard interleave
         * their pointer updates: lost keys, a key twice, a broken chain or
         * list, a double free. Go-style detector: map_write_begin/end. */
        map_write_begin(s);
    }
retry:
    cur = cache__lookup_locked(s, h, key, klen, now);
    if (!locked)
        inject_window();   /* BUG 3 amplifier: between lookup and insert */
    if (flags & CACHE_SET_GET) {
        if (cur && cur->type != CACHE_TYPE_STRING) {
            rc = CACHE_E_WRONGTYPE;   /* SET ... GET on a hash: nothing set */
            goto out_unlock;
        }
        if (old_found)
            *old_found = cur != NULL;
        if (cur && old &&
            (rc = cache__val_copy(old, item_val(cur), cur->vlen)) != CACHE_OK)
            goto out_unlock;
    }
    if (((flags & CACHE_SET_NX) && cur) || ((flags & CACHE_SET_XX) && !cur)) {
        rc = CACHE_NOTSET;
        goto out_unlock;
    }
    int64_t exp = expire_at;
    if (flags & CACHE_SET_KEEPTTL) {
        exp = cur ? cache__expire_of_locked(s, cur) : 0;
    } else if (expire_at != 0 && expire_at <= now) {
        /* A past EXAT/PXAT: the key ends up deleted, nothing is stored. */
        if (cur) {
            cache__delete_locked(s, cur, CACHE__WHY_SERVER_DEL);
            cache__shard_tidy_locked(s);
        }
        rc = CACHE_OK;
        goto out_unlock;
    }
    bool need_slot = exp && !(cur && cur->has_ttl);
    int64_t need = (int64_t)cache__item_size(nw) + insert_cost(s, cur) +
                   (need_slot ? (int64_t)cache__ttl_grow_cost_locked(s) : 0);
    rc = cache__reserve_or_evict_locked(s, need, cur, now, &tries);
    if (rc == CACHE__AGAIN)
        goto retry;
    if (rc != CACHE_OK)
        goto out_unlock;
    if (need_slot && (rc = cache__ttl_reserve_locked(s)) != CACHE_OK)
        goto out_unlock;
    if (cur)
        cache__replace_locked(s, cur, nw, now);
    else
        cache__link_locked(s, nw, now);
    if (exp)   /* cur's entry was freed first */
        cache__set_expire_locked(s, nw, exp);
    nw = NULL;
out_unlock:
    if (locked && lab)
        cache__shard_unlock(s);
    else if (locked)
        cache__shard_unlock_nolab(s);
    else
        map_write_end(s);
    free(nw);
    return rc;
}

int cache_set(struct cache *c, const char *key, size_t klen,
              const char *val, size_t vlen, int flags, int64_t expire_at,
              int64_t now, struct cache_val *old, int *old_found)
{
    /* None of this path's bugs selected (the cost-when-off case): one
     * branch, then the correct path with no site on the way. */
    if (!INJECT_ANY(INJECT_BIT(3) | CACHE__LOCK_BUGS))
        return set_as(c, key, klen, val, vlen, flags, expire_at, now, old, old_found, false);
    return set_as(c, key, klen, val, vlen, flags, expire_at, now, old, old_found, true);
}

int cache_getdel(struct cache *c, const char *key, size_t klen, int64_t now,
                 struct cache_val *out)
{
    uint64_t h = cache__hash(c, key, klen);
    struct shard *s = cache__shard_of(c, h);
    int rc = CACHE_NOTFOUND;

    cache__shard_lock(s);
    struct item *it = cache__lookup_type_locked(s, h, key, klen, now,
                                                CACHE_TYPE_STRING, &rc);
    if (it && (rc = cache__val_copy(out, item_val(it), it->vlen)) == CACHE_OK) {
        cache__delete_locked(s, it, CACHE__WHY_USER_DEL);
        cache__shard_tidy_locked(s);
    }
    cache__shard_unlock(s);
    return rc;
}

int cache_getex(struct cache *c, const char *key, size_t klen, int mode,
                int64_t expire_at, int64_t now, struct cache_val *out)
{
    uint64_t h = cache__hash(c, key, klen);
    struct shard *s = cache__shard_of(c, h);
    int rc = CACHE_NOTFOUND;

    cache__shard_lock(s);
    struct item *it = cache__lookup_type_locked(s, h, key, klen, now,
                                                CACHE_TYPE_STRING, &rc);
    if (!it)
        goto out_unlock;
    if ((rc = cache__val_copy(out, item_val(it), it->vlen)) != CACHE_OK)
        goto out_unlock;
    if (mode == CACHE_GETEX_EXPIRE) {
        if (expire_at <= now) {
            cache__delete_locked(s, it, CACHE__WHY_EXPIRE);
            cache__shard_tidy_locked(s);
            goto out_unlock;
        }
        if (!it->has_ttl &&
            (rc = cache__ttl_reserve_locked(s)) != CACHE_OK)
            goto out_unlock;
        cache__set_expire_locked(s, it, expire_at);
    } else if (mode == CACHE_GETEX_PERSIST) {
        cache__set_expire_locked(s, it, 0);
    }
    cache__lru_touch_locked(s, it, now);
out_unlock:
    cache__shard_unlock(s);
    return rc;
}

int cache_incr(struct cache *c, const char *key, size_t klen, long long delta,
               int64_t now, long long *result)
{
    uint64_t h = cache__hash(c, key, klen);
    struct shard *s = cache__shard_of(c, h);
    char buf[CACHE__LONG_STR_SIZE];
    struct item *it;
    int rc, tries = 0;

    cache__shard_lock(s);
retry:
    it = cache__lookup_locked(s, h, key, klen, now);
    long long v;
    if (it && it->type != CACHE_TYPE_STRING) {
        rc = CACHE_E_WRONGTYPE;
        goto out_unlock;
    }
    if ((rc = cache__incr_ll(it ? item_val(it) : NULL, it ? it->vlen : 0, delta,
                             &v)) != CACHE_OK)
        goto out_unlock;
    size_t len = (size_t)cache__ll2string(buf, sizeof(buf), v);
    rc = cache__str_resize_locked(s, h, key, klen, it, len, 0, now, &tries, NULL, &it);
    if (rc == CACHE__AGAIN)
        goto retry;
    if (rc != CACHE_OK)
        goto out_unlock;
    memcpy(item_val(it), buf, len);
    *result = v;
out_unlock:
    cache__shard_unlock(s);
    return rc;
}

int cache_incrbyfloat(struct cache *c, const char *key, size_t klen,
                      long double delta, int64_t now, char *buf, size_t cap,
                      size_t *reslen)
{
    uint64_t h = cache__hash(c, key, klen);
    struct shard *s = cache__shard_of(c, h);
    char tmp[CACHE_LD_MAX_CHARS];
    struct item *it;
    int rc, tries = 0;

    cache__shard_lock(s);
retry:
    it = cache__lookup_locked(s, h, key, klen, now);
    size_t len;
    if (it && it->type != CACHE_TYPE_STRING) {
        rc = CACHE_E_WRONGTYPE;
        goto out_unlock;
    }
    rc = cache__incr_ld(it ? item_val(it) : NULL, it ? it->vlen : 0, delta, tmp,
                        cap < sizeof(tmp) ? cap : sizeof(tmp), &len);
    if (rc != CACHE_OK)
        goto out_unlock;
    rc = cache__str_resize_locked(s, h, key, klen, it, len, 0, now, &tries, NULL, &it);
    if (rc == CACHE__AGAIN)
        goto retry;
    if (rc != CACHE_OK)
        goto out_unlock;
    memcpy(item_val(it), tmp, len);
    memcpy(buf, tmp, len);
    buf[len] = '\0';
    *reslen = len;
out_unlock:
    cache__shard_unlock(s);
    return rc;
}

int cache_append_max(struct cache *c, const char *key, size_t klen,
                     const char *val, size_t vlen, size_t max, int64_t now,
                     size_t *newlen)
{
    uint64_t h = cache__hash(c, key, klen);
    struct shard *s = cache__shard_of(c, h);
    struct item *it;
    int rc, tries = 0;

    cache__shard_lock(s);
retry:
    it = cache__lookup_locked(s, h, key, klen, now);
    if (it && it->type != CACHE_TYPE_STRING) {
        rc = CACHE_E_WRONGTYPE;
        goto out_unlock;
    }
    size_t oldlen = it ? it->vlen : 0;
    if (max > CACHE_MAX_STRING)
        max = CACHE_MAX_STRING;
    if (vlen > max || oldlen + vlen > max) {
        rc = CACHE_E_TOOBIG;
        goto out_unlock;
    }
    size_t len = oldlen + vlen;
    rc = cache__str_resize_locked(s, h, key, klen, it, len,
                                  it ? cache__str_slack(len) : 0, now, &tries, NULL, &it);
    if (rc == CACHE__AGAIN)
        goto retry;
    if (rc != CACHE_OK)
        goto out_unlock;
    if (vlen)
        memcpy(item_val(it) + oldlen, val, vlen);
    *newlen = len;
out_unlock:
    cache__shard_unlock(s);
    return rc;
}

int cache_strlen(struct cache *c, const char *key, size_t klen, int64_t now,
                 size_t *len)
{
    uint64_t h = cache__hash(c, key, klen);
    struct shard *s = cache__shard_of(c, h);
    int rc;

    cache__shard_lock(s);
    struct item *it = cache__lookup_read_locked(s, h, key, klen, now,
                                                CACHE_TYPE_STRING, &rc);
    *len = it ? it->vlen : 0;
    cache__shard_unlock(s);
    return rc;
}

int cache_getrange(struct cache *c, const char *key, size_t klen,
                   long long start, long long end, int64_t now,
                   struct cache_val *out)
{
    uint64_t h = cache__hash(c, key, klen);
    struct shard *s = cache__shard_of(c, h);
    int rc;

    out->len = 0;
    cache__shard_lock(s);
    struct item *it = cache__lookup_read_locked(s, h, key, klen, now,
                                                CACHE_TYPE_STRING, &rc);
    if (!it)
        goto out_unlock;   /* NOTFOUND: a missing key reads as "" */
    long long len = it->vlen;
    /* Redis 7.0 getrangeCommand, rule for rule. */
    if (start < 0 && end < 0 && start > end)
        goto out_unlock;
    if (start < 0)
        start = len + start;
    if (end < 0)
        end = len + end;
    if (start < 0)
        start = 0;
    if (end < 0)
        end = 0;
    if (end >= len)
        end = len - 1;
    if (start > end || len == 0)
        goto out_unlock;
    rc = cache__val_copy(out, item_val(it) + start, (size_t)(end - start + 1));
out_unlock:
    cache__shard_unlock(s);
    return rc;
}

int cache_setrange(struct cache *c, const char *key, size_t klen,
                   size_t offset, const char *val, size_t vlen, int64_t now,
                   size_t *newlen)
{
    uint64_t h = cache__hash(c, key, klen);
    struct shard *s = cache__shard_of(c, h);
    struct item *it, *pre = NULL;   /* a large gap's string, prepared unlocked */
    int rc = CACHE_OK, tries = 0;

    cache__shard_lock(s);
retry:
    it = cache__lookup_locked(s, h, key, klen, now);
    if (it && it->type != CACHE_TYPE_STRING) {
        rc = CACHE_E_WRONGTYPE;
        goto out_unlock;
    }
    size_t oldlen = it ? it->vlen : 0;
    if (vlen == 0) {   /* nothing to write: no key is created */
        *newlen = oldlen;
        goto out_unlock;
    }
    if (offset > CACHE_MAX_STRING || vlen > CACHE_MAX_STRING - offset) {
        rc = CACHE_E_TOOBIG;
        goto out_unlock;
    }
    size_t len = offset + vlen > oldlen ? offset + vlen : oldlen;
    rc = cache__str_resize_locked(s, h, key, klen, it, len,
                                  it && len > oldlen ? cache__str_slack(len) : 0,
                                  now, &tries, &pre, &it);
    if (rc == CACHE__AGAIN)
        goto retry;
    if (rc != CACHE_OK)
        goto out_unlock;
    memcpy(item_val(it) + offset, val, vlen);   /* the gap before it is zeroed */
    *newlen = len;
out_unlock:
    cache__shard_unlock(s);
    free(pre);   /* prepared, then not needed after all */
    return rc;
}
