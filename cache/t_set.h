/*
 * t_set.h: the set type's one interface over its three encodings
 * (t_set.c), used by the set commands (setops.c, setmulti.c) and the
 * tests.
 *
 *   CACHE__ENC_INTSET    the item's value area is an intset (intset.h),
 *                        inline: every member a canonical int64
 *   CACHE__ENC_LISTPACK  the value area is a listpack of members, inline
 *   CACHE__ENC_TABLE     the value area points to a struct cache__set_ht:
 *                        a cache__ctable of member nodes (one allocation
 *                        per member: node header and bytes)
 *
 * Conversions follow Redis 7.2 (the first Redis with listpack sets), and
 * never go back: an intset takes integers until it holds more than
 * set-max-intset-entries (then a table); a non-integer member turns it
 * into a listpack if the listpack would hold at most
 * set-max-listpack-entries members none longer than
 * set-max-listpack-value bytes (the integers' digits included), else into
 * a table; a listpack takes a new member only within the same limits
 * (checked before inserting, so no listpack ever exceeds them), else it
 * becomes a table. A new key starts in the encoding its first member and
 * the number of members being added call for (Redis's setTypeCreate).
 *
 * Memory and context as for hashes (t_hash.h): every change is charged to
 * the shard as it happens; every function expects the lock of the item's
 * shard held (the `s` passed); functions taking `struct item **itp` may
 * move the item and store its new address there.
 */
#ifndef MMCACHE_T_SET_H
#define MMCACHE_T_SET_H

#include "cache_int.h"
#include "intset.h"
#include "listpack.h"

struct cache__smember {
    struct cache__tnode node;   /* hash of the member */
    uint32_t len;               /* immutable while linked */
    char data[];
};

struct cache__set_ht {
    size_t bytes;               /* guarded by: shard lock; usable sizes of this
                                   header and every node (buckets: t.bucket_bytes) */
    struct cache__ctable t;     /* guarded by: shard lock */
};

/* A member, to look for or read back: its bytes (k.s, k.len, always set)
 * and whether they are a canonical int64 (k.isint, k.v), which is how an
 * intset or a listpack stores it. An integer's digits live in buf. */
struct cache__smem {
    struct cache__lp_key k;
    char buf[CACHE__LP_INTBUF];
};
void cache__smem_str(struct cache__smem *m, const char *s, size_t len);
void cache__smem_int(struct cache__smem *m, int64_t v);

/* An empty set under key (unlinked, unaccounted), in the encoding a set
 * created by adding `hint` members, the first being `first`, starts in. */
struct item *cache__set_new(struct cache *c, uint64_t h, const char *key, size_t klen,
                            const struct cache__smem *first, size_t hint);
size_t cache__set_card(const struct item *it);

bool cache__set_has_locked(struct shard *s, const struct item *it,
                           const struct cache__smem *m);
/* 1: added, 0: already a member, CACHE_E_NOMEM: nothing changed. */
int cache__set_add_locked(struct shard *s, struct item **itp, const struct cache__smem *m);
/* 1: removed, 0: not a member. The caller deletes a set left empty. */
int cache__set_rem_locked(struct shard *s, struct item **itp, const struct cache__smem *m);
/* Before adding `hint` members to a compact set: a table now if they
 * cannot fit (Redis's setTypeMaybeConvert; ENOMEM leaves it, still
 * correct). */
void cache__set_maybe_convert_locked(struct shard *s, struct item **itp, size_t hint);
/* Might adding n members, the longest maxlen bytes, some of them not
 * integers (any_string), convert it? For the memory estimate only. */
bool cache__set_may_convert(struct shard *s, const struct item *it, size_t n,
                            size_t maxlen, bool any_string);

/* Iteration over any encoding; the set must not change meanwhile. */
struct cache__siter {
    const struct item *it;
    uint32_t idx;               /* intset: the next index */
    size_t pos;                 /* listpack: the next entry's position */
    bool started;               /* table: ci is positioned */
    struct cache__ct_iter ci;   /* table */
};
void cache__set_iter(const struct item *it, struct cache__siter *i);
bool cache__set_next(struct cache__siter *i, struct cache__smem *m);

/* A member drawn at random (the set is not empty). */
void cache__set_random(const struct item *it, struct cache__smem *m);
/* The idx-th member of a compact set (idx < card), in O(1) for an
 * intset; pos (listpack) is an entry position from cache__set_positions. */
void cache__set_compact_at(const struct item *it, uint32_t idx, size_t pos,
                           struct cache__smem *m);
/* A compact listpack set's entry positions, into a caller array of card. */
void cache__set_positions(const struct item *it, size_t *pos);
const struct cache__smember *cache__set_random_node(const struct item *it);
struct cache__set_ht *cache__set_table(const struct item *it);

/* A set item (unlinked, unaccounted) holding exactly the records of
 * `members`, all distinct, in the encoding adding them all at once to a
 * new key gives. NULL on ENOMEM or when members is empty. */
struct item *cache__set_build(struct cache *c, uint64_t h, const char *key,
                              size_t klen, const struct cache_keys *members);

/* ---- the table encoding (t_set_table.c) ----------------------------------
 * s: the shard the table belongs to, locked, which every change is
 * charged to; or NULL for a private table (SUNION's de-duplication, a set
 * being built), charged to nothing. c hashes the members. */
struct cache__set_ht *cache__set_ht_new(uint64_t hint);
void cache__set_ht_free(struct cache__set_ht *h);
bool cache__set_ht_has(struct cache *c, struct shard *s, struct cache__set_ht *h,
                       const char *m, size_t len);
/* add: 1 new, 0 already there; insert: m is known to be new (1). Both
 * CACHE_E_NOMEM with nothing changed. del: 1 removed, 0 not there. */
int cache__set_ht_add(struct cache *c, struct shard *s, struct cache__set_ht *h,
                      const char *m, size_t len);
int cache__set_ht_insert(struct cache *c, struct shard *s, struct cache__set_ht *h,
                         const char *m, size_t len);
int cache__set_ht_del(struct shard *s, struct cache__set_ht *h, const char *m, size_t len);
/* A set item (unlinked, unaccounted) holding t; t is freed on ENOMEM. */
struct item *cache__set_item_of_table(uint64_t h, const char *key, size_t klen,
                                      struct cache__set_ht *t);
int cache__set_ht_dup(const struct cache__set_ht *src, struct cache__set_ht **dst);
int cache__set_ht_check(const struct cache__set_ht *h);   /* debug.c: 0 or -1 */

#endif
