/*
 * object.c: the value model. A key's item carries its value's type and
 * encoding (docs/types.md); this file holds what every type shares:
 *
 *  - the registry of types (cache__types): the few operations that the
 *    generic code (delete, lazy free, COPY, memory accounting, the
 *    invariant checker, OBJECT ENCODING) needs from a value whose
 *    encoding keeps data outside the item;
 *  - item sizes (what memory accounting charges for a key);
 *  - growing or shrinking a linked item in place (a compact encoding
 *    lives inline in its item, so an HSET may move the item);
 *  - deep copy (COPY).
 *
 * How to add a type: docs/types.md, "Adding a type".
 */
#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#include "cache_int.h"
#include "listpack.h"

/* Types whose encodings keep nothing outside the item need no entry. */
const struct cache__type *const cache__types[CACHE_TYPE_COUNT] = {
    [CACHE_TYPE_HASH] = &cache__type_hash,
    [CACHE_TYPE_LIST] = &cache__type_list,
    [CACHE_TYPE_SET] = &cache__type_set,
    [CACHE_TYPE_ZSET] = &cache__type_zset,
};

static const char *const type_names[CACHE_TYPE_COUNT] = {
    [CACHE_TYPE_STRING] = "string", [CACHE_TYPE_LIST] = "list",
    [CACHE_TYPE_SET] = "set", [CACHE_TYPE_ZSET] = "zset",
    [CACHE_TYPE_HASH] = "hash",
};

const char *cache_type_name(int type)
{
    return type >= 0 && type < CACHE_TYPE_COUNT ? type_names[type] : "none";
}

int cache_type_from_name(const char *s, size_t len)
{
    for (int t = 0; t < CACHE_TYPE_COUNT; t++)
        if (strlen(type_names[t]) == len && strncasecmp(type_names[t], s, len) == 0)
            return t;
    return -1;
}

/* What OBJECT ENCODING says. Strings: Redis picks "int" for a canonical
 * integer, "embstr" up to 44 bytes, "raw" beyond; mmcache stores every
 * string the same way, but answers as Redis would so that tools which
 * read the encoding see the familiar names. */
const char *cache__enc_name(const struct item *it)
{
    switch (it->enc) {
    case CACHE__ENC_RAW: {
        long long v;
        if (it->vlen <= 20 && cache__string2ll(item_cval(it), it->vlen, &v))
            return "int";
        return it->vlen <= 44 ? "embstr" : "raw";
    }
    case CACHE__ENC_LISTPACK: return "listpack";
    case CACHE__ENC_INTSET: return "intset";
    case CACHE__ENC_TABLE: return "hashtable";
    case CACHE__ENC_QUICKLIST: return "quicklist";
    case CACHE__ENC_SKIPLIST: return "skiplist";
    case CACHE__ENC_ZPACK: return "listpack";   /* what Redis calls a small sorted set */
    }
    return "unknown";
}

static inline const struct cache__type *ext_type(const struct item *it)
{
    if (!cache__item_has_ext(it))
        return NULL;
    const struct cache__type *t = cache__types[it->type];
    assert(t != NULL);
    return t;
}

void *cache__item_ptr(const struct item *it)
{
    void *p;
    memcpy(&p, item_cval(it), sizeof(p));   /* the value area is unaligned */
    return p;
}

void cache__item_set_ptr(struct item *it, void *p)
{
    memcpy(item_val(it), &p, sizeof(p));
    it->vlen = sizeof(p);
}

size_t cache__item_size(const struct item *it)
{
    const struct cache__type *t = ext_type(it);
    return malloc_usable_size((void *)it) + (t ? t->ext_bytes(it) : 0);
}

size_t cache__item_vcap(const struct item *it)
{
    return malloc_usable_size((void *)it) - ITEM_HDR - item_voff(it);
}

size_t cache__item_effort(const struct item *it)
{
    const struct cache__type *t = ext_type(it);
    return t ? t->free_effort(it) : 1;
}

void cache__item_destroy(struct item *it)
{
    const struct cache__type *t = ext_type(it);
    if (t)
        t->free_ext(it);
    free(it);
}

/* Context: s locked, it linked in s. The allocation follows vcap when it
 * must grow, or when it would shrink by more than a quarter (a compact
 * encoding that lost entries gives memory back; small wiggles do not
 * cost a realloc). A moved item is relinked: its bucket chain, LRU
 * neighbours and TTL slot all point at the new address. */
struct item *cache__item_resize_locked(struct shard *s, struct item *it,
                                       size_t vcap)
{
    size_t before = malloc_usable_size(it);
    size_t want = ITEM_HDR + item_voff(it) + vcap;
    uintptr_t was = (uintptr_t)it;   /* the TTL index's key for it */

    ASSERT_LOCKED(s);
    if (want <= before && want + want / 4 + 16 >= before)
        return it;
    cache__table_remove_locked(s, it);
    struct item *nw = realloc(it, want);
    if (!nw) {
        cache__table_add_locked(s, it);
        return want <= before ? it : NULL;   /* a failed shrink is harmless */
    }
    if (nw->prev)
        nw->prev->next = nw;
    else
        s->lru_head = nw;
    if (nw->next)
        nw->next->prev = nw;
    else
        s->lru_tail = nw;
    if (nw->has_ttl && (uintptr_t)nw != was)
        cache__ttl_moved_locked(s, was, nw);
    cache__table_add_locked(s, nw);
    cache__mem_add_locked(s, (int64_t)malloc_usable_size(nw) - (int64_t)before);
    return nw;
}

struct item *cache__item_new_lp(uint64_t h, const char *key, size_t klen, int type)
{
    struct item *it = cache__item_new(h, key, klen, NULL, 0, CACHE__LP_HDR);
    if (!it)
        return NULL;
    it->type = (uint8_t)type;
    it->enc = CACHE__ENC_LISTPACK;
    cache__lp_init((unsigned char *)item_val(it));
    it->vlen = CACHE__LP_HDR;
    return it;
}

int cache__item_room_locked(struct shard *s, struct item **itp, size_t vcap)
{
    struct item *nw = cache__item_resize_locked(s, *itp, vcap);
    if (!nw)
        return CACHE_E_NOMEM;
    *itp = nw;
    return CACHE_OK;
}

struct item *cache__item_dup(const struct item *src, uint64_t h,
                             const char *key, size_t klen)
{
    struct item *nw = cache__item_new(h, key, klen, item_cval(src), src->vlen,
                                      src->vlen);
    if (!nw)
        return NULL;
    nw->type = src->type;
    nw->enc = src->enc;
    const struct cache__type *t = ext_type(src);
    if (t && t->dup_ext(src, nw) != CACHE_OK) {
        free(nw);   /* dup_ext left nothing behind */
        return NULL;
    }
    return nw;
}

int cache__item_check(const struct item *it)
{
    if (it->type >= CACHE_TYPE_COUNT)
        return -1;
    if (cache__item_has_ext(it) ? it->vlen != sizeof(void *)
                                : it->vlen > cache__item_vcap(it))
        return -1;
    if (it->type == CACHE_TYPE_STRING)
        return it->enc == CACHE__ENC_RAW ? 0 : -1;
    const struct cache__type *t = cache__types[it->type];
    return t ? t->check(it) : -1;
}

void cache__coll_write_done_locked(struct shard *s, struct item *it, uint64_t len,
                                   int64_t now)
{
    if (len == 0) {
        cache__delete_locked(s, it, CACHE__WHY_SERVER_DEL);
        cache__shard_tidy_locked(s);
    } else {
        cache__lru_bump_locked(s, it, now);
    }
}
