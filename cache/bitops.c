/*
 * bitops.c: the bit commands on one key: GETBIT, SETBIT, BITCOUNT, BITPOS,
 * BITFIELD (and BITFIELD_RO). BITOP, on several keys, is in bitmulti.c;
 * the bit arithmetic itself in bits.c.
 *
 * Each call holds the key's shard lock for the whole command and copies
 * nothing out but numbers. A write that reaches past the end grows the
 * string first with zero bytes (cache__str_resize_locked: room checked
 * against maxmemory before anything is allocated, a large one allocated
 * and touched with the lock dropped; Redis's sds slack for a string that
 * grows, none for a new one), keeping its TTL.
 *
 * Lock hold: BITCOUNT and BITPOS read at most the whole string, a word at
 * a time under the lock, as Redis reads it on its one thread: a 512 MB
 * string is about 30 ms on a machine with POPCNT (docs/types.md has the
 * figures). Everything else is O(1) or O(ops) under the lock.
 */
#include <stdlib.h>

#include "bits.h"
#include "cache_int.h"
#include "t_string.h"

int cache_getbit(struct cache *c, const char *key, size_t klen, uint64_t offset,
                 int64_t now, int *bit)
{
    uint64_t h = cache__hash(c, key, klen);
    struct shard *s = cache__shard_of(c, h);
    int rc;

    cache__shard_lock(s);
    struct item *it = cache__lookup_read_locked(s, h, key, klen, now,
                                                CACHE_TYPE_STRING, &rc);
    *bit = it && (offset >> 3) < it->vlen
           ? cache__bit_get((const unsigned char *)item_val(it), offset) : 0;
    cache__shard_unlock(s);
    return rc;
}

/*
 * Context: s locked; may drop and retake it (CACHE__AGAIN). The string at
 * key (it, or NULL when missing) made at least `len` bytes long, zero
 * padded; a use of the key either way.
 */
static int grow_locked(struct shard *s, uint64_t h, const char *key, size_t klen,
                       struct item **itp, uint64_t len, int64_t now, int *tries,
                       struct item **pre)
{
    struct item *it = *itp;

    if (len > CACHE_MAX_STRING + 8)   /* a 64-bit field at the last bit offset */
        return CACHE_E_TOOBIG;
    if (it && it->vlen >= len) {
        cache__lru_bump_locked(s, it, now);
        return CACHE_OK;
    }
    /* A new string is exactly as long as asked; one that grows gets
     * room to grow more (Redis: sdsnewlen, sdsgrowzero). */
    return cache__str_resize_locked(s, h, key, klen, it, (size_t)len,
                                    it ? cache__str_slack((size_t)len) : 0, now,
                                    tries, pre, itp);
}

int cache_setbit(struct cache *c, const char *key, size_t klen, uint64_t offset,
                 int on, int64_t now, int *old)
{
    uint64_t h = cache__hash(c, key, klen);
    struct shard *s = cache__shard_of(c, h);
    struct item *it, *pre = NULL;
    int rc, tries = 0;

    cache__shard_lock(s);
retry:
    if (!(it = cache__lookup_type_locked(s, h, key, klen, now, CACHE_TYPE_STRING, &rc)) &&
        rc == CACHE_E_WRONGTYPE)
        goto out_unlock;
    rc = grow_locked(s, h, key, klen, &it, (offset >> 3) + 1, now, &tries, &pre);
    if (rc == CACHE__AGAIN)
        goto retry;
    if (rc != CACHE_OK)
        goto out_unlock;
    unsigned char *p = (unsigned char *)item_val(it);
    *old = cache__bit_get(p, offset);
    cache__bit_put(p, offset, on);
out_unlock:
    cache__shard_unlock(s);
    free(pre);
    return rc;
}

/* BITCOUNT and BITPOS: the string at key under its lock, with the range
 * resolved against it. *it NULL: missing (rc NOTFOUND) or WRONGTYPE;
 * *empty: the range holds no bit. */
static struct shard *range_begin(struct cache *c, const char *key, size_t klen,
                                 const struct cache_bitrange *r, int64_t now,
                                 struct item **it, bool *empty, uint64_t *from,
                                 uint64_t *to, int *rc)
{
    uint64_t h = cache__hash(c, key, klen);
    struct shard *s = cache__shard_of(c, h);

    cache__shard_lock(s);
    *it = cache__lookup_read_locked(s, h, key, klen, now, CACHE_TYPE_STRING, rc);
    *empty = !*it || !cache__bitrange_resolve((*it)->vlen, r, from, to);
    return s;
}

int cache_bitcount(struct cache *c, const char *key, size_t klen,
                   const struct cache_bitrange *r, int64_t now, uint64_t *count)
{
    struct item *it;
    uint64_t from, to;
    bool empty;
    int rc;
    struct shard *s = range_begin(c, key, klen, r, now, &it, &empty, &from, &to, &rc);

    *count = empty ? 0
             : cache__bitcount_range((const unsigned char *)item_val(it), from, to);
    cache__shard_unlock(s);
    return rc;
}

int cache_bitpos(struct cache *c, const char *key, size_t klen, int bit,
                 const struct cache_bitrange *r, int64_t now, int64_t *pos)
{
    struct item *it;
    uint64_t from, to;
    bool empty;
    int rc;
    struct shard *s = range_begin(c, key, klen, r, now, &it, &empty, &from, &to, &rc);

    if (!it) {
        /* a missing key is an endless run of 0 bits */
        *pos = bit ? -1 : 0;
    } else if (empty) {
        *pos = -1;   /* an empty range holds neither a 0 nor a 1 */
    } else {
        *pos = cache__bitpos_range((const unsigned char *)item_val(it), from, to, bit);
        /* No 0 bit and no end given: the string reads as zero-padded,
         * so the answer is the first bit past the range (Redis). */
        if (*pos < 0 && bit == 0 && !r->end_given)
            *pos = (int64_t)to + 1;
    }
    cache__shard_unlock(s);
    return rc;
}

/* ---- BITFIELD -------------------------------------------------------------------- */

/* One SET or INCRBY on p (which holds the field), Redis's bitfieldGeneric
 * case for case. */
static void bf_write(unsigned char *p, size_t len, const struct cache_bfop *op,
                     struct cache_bfres *res)
{
    int over;

    if (op->sign) {
        int64_t old = cache__bf_get_i(p, len, op->offset, op->bits), nv, wrapped = 0;
        if (op->kind == CACHE_BF_INCRBY) {
            over = cache__bf_overflow_i(old, op->value, op->bits, op->ow, &wrapped);
            nv = over ? wrapped : (int64_t)((uint64_t)old + (uint64_t)op->value);
            res->v = nv;
        } else {
            nv = op->value;
            over = cache__bf_overflow_i(nv, 0, op->bits, op->ow, &wrapped);
            if (over)
                nv = wrapped;
            res->v = old;
        }
        res->nil = over && op->ow == CACHE_BF_FAIL;
        if (!res->nil)
            cache__bf_set(p, op->offset, op->bits, (uint64_t)nv);
    } else {
        uint64_t old = cache__bf_get_u(p, len, op->offset, op->bits), nv, wrapped = 0;
        if (op->kind == CACHE_BF_INCRBY) {
            nv = old + (uint64_t)op->value;
            over = cache__bf_overflow_u(old, op->value, op->bits, op->ow, &wrapped);
            if (over)
                nv = wrapped;
            res->v = (int64_t)nv;
        } else {
            nv = (uint64_t)op->value;
            over = cache__bf_overflow_u(nv, 0, op->bits, op->ow, &wrapped);
            if (over)
                nv = wrapped;
            res->v = (int64_t)old;
        }
        res->nil = over && op->ow == CACHE_BF_FAIL;
        if (!res->nil)
            cache__bf_set(p, op->offset, op->bits, nv);
    }
}

static void bf_run(unsigned char *p, size_t len, const struct cache_bfop *ops,
                   size_t n, struct cache_bfres *res)
{
    for (size_t i = 0; i < n; i++) {
        const struct cache_bfop *op = &ops[i];
        res[i].nil = 0;
        if (op->kind != CACHE_BF_GET)
            bf_write(p, len, op, &res[i]);
        else if (op->sign)
            res[i].v = cache__bf_get_i(p, len, op->offset, op->bits);
        else
            res[i].v = (int64_t)cache__bf_get_u(p, len, op->offset, op->bits);
    }
}

int cache_bitfield(struct cache *c, const char *key, size_t klen,
                   const struct cache_bfop *ops, size_t n, int64_t now,
                   struct cache_bfres *res, int *found)
{
    uint64_t h = cache__hash(c, key, klen);
    struct shard *s = cache__shard_of(c, h);
    uint64_t reach = 0;   /* bytes the furthest written field needs */
    bool writes = false;
    struct item *it, *pre = NULL;
    int rc = CACHE_OK, tries = 0;

    for (size_t i = 0; i < n; i++) {
        if (ops[i].kind == CACHE_BF_GET)
            continue;
        writes = true;
        uint64_t end = ((ops[i].offset + ops[i].bits - 1) >> 3) + 1;
        if (end > reach)
            reach = end;
    }
    cache__shard_lock(s);
retry:
    it = cache__lookup_type_locked(s, h, key, klen, now, CACHE_TYPE_STRING, &rc);
    *found = rc != CACHE_NOTFOUND;
    if (rc == CACHE_E_WRONGTYPE)
        goto out_unlock;
    rc = CACHE_OK;
    if (writes) {
        rc = grow_locked(s, h, key, klen, &it, reach, now, &tries, &pre);
        if (rc == CACHE__AGAIN)
            goto retry;
        if (rc != CACHE_OK)
            goto out_unlock;
    } else if (it) {
        cache__lru_touch_locked(s, it, now);
    }
    bf_run(it ? (unsigned char *)item_val(it) : NULL, it ? it->vlen : 0, ops, n, res);
out_unlock:
    cache__shard_unlock(s);
    free(pre);
    return rc;
}
