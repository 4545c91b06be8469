/*
 * t_zset.h: the sorted set type's one interface over its two encodings,
 * used by the sorted set commands (zsetops.c, zsetrange.c, zsetmulti.c),
 * the blocking pops (blocking/) and the tests.
 *
 *   CACHE__ENC_ZPACK     the item's value area is a zpack (zpack.h): the
 *                        (member, score) pairs in order, inline; OBJECT
 *                        ENCODING says "listpack", Redis's name for it
 *   CACHE__ENC_SKIPLIST  the value area points to a struct
 *                        cache__zset_big (t_zset_big.c): a table of member
 *                        nodes (member -> score, for ZSCORE, ZADD, ZREM)
 *                        and a B+ tree of the same nodes in order
 *                        (t_zset_tree.h: ranks and ranges). OBJECT
 *                        ENCODING says "skiplist", the name Redis's tools
 *                        know for a large sorted set.
 *
 * The order is Redis's: by score, then by the member's bytes (memcmp, a
 * prefix first). Conversions follow Redis 7.0's zsetAdd and never go
 * back: a compact set takes a new member only while it then holds at most
 * zset-max-listpack-entries members, none longer than
 * zset-max-listpack-value bytes (checked before inserting, so no compact
 * set ever exceeds them); else it becomes a table and tree first. A new
 * key starts compact unless zset-max-listpack-entries is 0 or its first
 * member is too long.
 *
 * A score in the compact block is an integer when it is integral and
 * within +-(2^63-1)/2 (Redis's double2ll: so -0 reads back 0 there, as in
 * Redis's listpack), else the double's 8 bytes; in a member node it is
 * the double itself (-0 stays -0, as in Redis's skiplist).
 *
 * Records: the commands copy a member out as a record of its bytes and
 * its score as a record of the double's 8 bytes (cache.h,
 * cache_keys_score); the server formats it.
 *
 * Memory and context as for hashes (t_hash.h): every change is charged to
 * the shard as it happens; every function expects the lock of the item's
 * shard held (the `s` passed); functions taking `struct item **itp` may
 * move the item and store its new address there.
 */
#ifndef MMCACHE_T_ZSET_H
#define MMCACHE_T_ZSET_H

#include "cache_int.h"
#include "listpack.h"   /* CACHE__LP_MAX: the compact blocks' limit */
#include "t_zset_tree.h"

struct cache__zset_big {
    size_t bytes;               /* guarded by: shard lock; usable sizes of this
                                   header and every member node (buckets:
                                   t.bucket_bytes; tree nodes: tree.bytes) */
    struct cache__ctable t;     /* guarded by: shard lock; member -> node */
    struct cache__ztree tree;   /* guarded by: shard lock; the same nodes in order */
};

/* A member read back: its bytes (valid until the set changes; in buf for
 * a set's integer member, zsetmulti.c's sources) and its score. */
struct cache__zent {
    const char *s;
    size_t len;
    double score;
    char buf[CACHE__LP_INTBUF];
};

/* A position in either encoding, with its rank (0 from the lowest). */
struct cache__zpos {
    bool ok;                    /* false: no member (past an end) */
    uint64_t rank;
    size_t lp;                  /* compact: the pair's offset in the block */
    struct cache__zt_pos tp;    /* tree */
};

/* The compact block's pair at offset pos, read as an entry. */
void cache__zset_zp_ent(const struct item *it, size_t pos, struct cache__zent *e);

/* ZADD's flags (cache.h's CACHE_ZADD_*) in; what happened out. */
#define CACHE__ZADD_ADDED   0x01
#define CACHE__ZADD_UPDATED 0x02
#define CACHE__ZADD_NOP     0x04

struct cache__zset_big *cache__zset_big(const struct item *it);
size_t cache__zset_card(const struct item *it);
/* An empty sorted set under key (unlinked, unaccounted), compact
 * unless the thresholds say a member of first_len bytes cannot be in one. */
struct item *cache__zset_new(struct cache *c, uint64_t h, const char *key, size_t klen,
                             size_t first_len);

/* The member's score: true, or false when it is not a member. */
bool cache__zset_score_locked(struct shard *s, const struct item *it, const char *m,
                              size_t len, double *score);
/* Redis's zsetAdd: OK with *out (CACHE__ZADD_*) and *newscore (the score
 * it has now, when not NOP), CACHE_E_NAN (an increment gave NaN: nothing
 * changed), CACHE_E_NOMEM (nothing changed). */
int cache__zset_add_locked(struct shard *s, struct item **itp, double score, const char *m,
                           size_t len, int flags, int *out, double *newscore);
/* 1: removed, 0: not a member. The caller deletes a set left empty. */
int cache__zset_del_locked(struct shard *s, struct item **itp, const char *m, size_t len);
/* Removes the members of ranks [first, last] (last < card): how many. */
uint64_t cache__zset_del_ranks_locked(struct shard *s, struct item **itp, uint64_t first,
                                      uint64_t last);

/* ---- positions ------------------------------------------------------------ */

/* The member m: its rank (false when not a member). */
bool cache__zset_rank_locked(struct shard *s, const struct item *it, const char *m,
                             size_t len, uint64_t *rank);
void cache__zset_at(const struct item *it, uint64_t rank, struct cache__zpos *p);
void cache__zset_get(const struct item *it, const struct cache__zpos *p, struct cache__zent *e);
void cache__zset_next(const struct item *it, struct cache__zpos *p);
void cache__zset_prev(const struct item *it, struct cache__zpos *p);
/* The first member in range / the last (p->ok false: none). The lex
 * bounds assume one score for all, as Redis's do. */
void cache__zset_first_score(const struct item *it, const struct cache_zscore_range *r,
                             struct cache__zpos *p);
void cache__zset_last_score(const struct item *it, const struct cache_zscore_range *r,
                            struct cache__zpos *p);
void cache__zset_first_lex(const struct item *it, const struct cache_zlex_range *r,
                           struct cache__zpos *p);
void cache__zset_last_lex(const struct item *it, const struct cache_zlex_range *r,
                          struct cache__zpos *p);
/* zsetrange.c: the range r of it: its first member (in r's direction)
 * and how many it has (LIMIT applied). Returns 0. */
int cache__zset_range_locked(const struct item *it, const struct cache_zrange *r,
                             struct cache__zpos *first, uint64_t *n);
/* Copies n members from p on, in r's direction, until max_bytes. */
int cache__zset_copy_range(const struct item *it, const struct cache_zrange *r,
                           struct cache__zpos *p, uint64_t n, size_t max_bytes, int withscores,
                           struct cache_keys *out);
bool cache__zscore_gte_min(double v, const struct cache_zscore_range *r);
bool cache__zscore_lte_max(double v, const struct cache_zscore_range *r);
bool cache__zlex_gte_min(const char *s, size_t len, const struct cache_zlex_range *r);
bool cache__zlex_lte_max(const char *s, size_t len, const struct cache_zlex_range *r);

/* ---- building ------------------------------------------------------------- */

/* A sorted set item (unlinked, unaccounted) holding the (member, score)
 * records of recs, which are distinct members already in order, in the
 * encoding Redis gives a STORE's result (compact if it fits the
 * thresholds). NULL on ENOMEM or when recs is empty. */
struct item *cache__zset_build(struct cache *c, uint64_t h, const char *key, size_t klen,
                               const struct cache_keys *recs);
/* Pushes m and its score as two records. */
int cache__zset_push(struct cache_keys *out, const struct cache__zent *e);
/* Every member in order (and its score, withscores). */
int cache__zset_push_all(const struct item *it, int withscores, struct cache_keys *out);
/* ZPOPMIN / ZPOPMAX (where: CACHE_ZMIN / ZMAX): up to count members off
 * that end, as member and score records, in the order they come off. OK
 * or E_NOMEM (the members copied out are gone, the rest stay). The caller
 * deletes a set left empty. */
int cache__zset_pop_locked(struct shard *s, struct item **itp, int where, uint64_t count,
                           struct cache_keys *out);

/* ---- the large encoding (t_zset_big.c) --------------------------------------
 * s: the shard the set belongs to, locked, which every change is charged
 * to; or NULL for one being built (charged to nothing). */
struct cache__zset_big *cache__zbig_new(uint64_t hint);
/* A member node, linked nowhere (h: cache__hash of m). NULL on ENOMEM. */
struct cache__zmember *cache__zmember_new(uint64_t h, const char *m, size_t len, double score);
void cache__zbig_free(struct cache__zset_big *z);
struct cache__zmember *cache__zbig_find(struct cache *c, struct shard *s,
                                        struct cache__zset_big *z, const char *m, size_t len);
/* A new member (not there yet) in order: 0 or CACHE_E_NOMEM (nothing
 * changed). append: it comes after every member (building in order). */
int cache__zbig_insert(struct cache *c, struct shard *s, struct cache__zset_big *z,
                       const char *m, size_t len, double score, bool append);
/* A member's new score (not equal to its old one): moves it in the tree
 * (n may be freed: a new node takes its place). 0, or CACHE_E_NOMEM with
 * nothing changed. */
int cache__zbig_rescore(struct shard *s, struct cache__zset_big *z, struct cache__zmember *n,
                        double score);
void cache__zbig_delete(struct shard *s, struct cache__zset_big *z, struct cache__zmember *n);
/* A sorted set item (unlinked, unaccounted) holding z; z is freed on ENOMEM. */
struct item *cache__zset_item_of_big(uint64_t h, const char *key, size_t klen,
                                     struct cache__zset_big *z);
int cache__zbig_dup(const struct cache__zset_big *src, struct cache__zset_big **dst);
int cache__zbig_check(const struct cache__zset_big *z);   /* debug.c: 0 or -1 */

#endif
