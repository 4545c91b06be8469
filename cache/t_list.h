/*
 * t_list.h: the list type's one interface over its two encodings
 * (t_list.c), used by the list operations (listops.c), blocking pops
 * (blocking.c) and the tests.
 *
 *   CACHE__ENC_LISTPACK   the item's value area is one listpack of the
 *                         elements, head first, inline (Redis 7.2's
 *                         compact list)
 *   CACHE__ENC_QUICKLIST  the value area points to a struct
 *                         cache__quicklist (quicklist.h): a chain of
 *                         listpack nodes, each capped
 *
 * A compact list converts to a quicklist when a write would take it past
 * what one node may hold under list-max-listpack-size (the limit
 * covers a node's whole allocation: cache__ql_allows), never back.
 *
 * Positions (struct cache__lpos) name an entry by its node (NULL in a
 * compact list) and its offset in that node's listpack: offsets survive
 * the item or node moving, so a position stays valid across a write to
 * another node. After a write that touched its node, only the position
 * the write returns is valid.
 *
 * Memory: every node allocated, grown, shrunk or freed is charged to the
 * shard as it happens (quicklist.c), so the shard's total stays exact
 * after each call.
 *
 * Context: the lock of the item's shard (the `s` passed) for writes and
 * for reads of a linked item; functions taking `struct item **itp` may
 * move the item (a compact list grows in place) and store its new address
 * there.
 */
#ifndef MMCACHE_T_LIST_H
#define MMCACHE_T_LIST_H

#include "cache_int.h"
#include "listpack.h"
#include "quicklist.h"

struct cache__lpos {
    struct cache__qnode *node;   /* NULL: the compact listpack */
    size_t pos;                  /* offset of the entry; 0 = none */
};

/* An empty compact list under key (unlinked, unaccounted). */
struct item *cache__list_new(uint64_t h, const char *key, size_t klen);
uint64_t cache__list_len(const struct item *it);
struct cache__quicklist *cache__list_ql(const struct item *it);

/* Walking. seek: index i (negative: from the tail, -1 the last); false
 * when out of range. next/prev: false (pos 0) past the end. */
bool cache__list_seek(const struct item *it, long long i, struct cache__lpos *p);
bool cache__list_next(const struct item *it, struct cache__lpos *p);
bool cache__list_prev(const struct item *it, struct cache__lpos *p);
void cache__list_get(const struct item *it, const struct cache__lpos *p,
                     struct cache__lp_ent *e);
bool cache__list_eq(const struct item *it, const struct cache__lpos *p,
                    const struct cache__lp_key *k);
/* Appends the entry's bytes to out as a record. */
int cache__list_copy(const struct item *it, const struct cache__lpos *p,
                     struct cache_keys *out);

/* Writes. All return 0 or CACHE_E_NOMEM (nothing changed). */
int cache__list_push_locked(struct shard *s, struct item **itp, int where,
                            const struct cache__lp_key *k);
/* Inserts k before (after = 0) or after the entry at *p. */
int cache__list_insert_locked(struct shard *s, struct item **itp,
                              const struct cache__lpos *p, int after,
                              const struct cache__lp_key *k);
/* LSET: replaces the entry at index i (in range). */
int cache__list_replace_locked(struct shard *s, struct item **itp, long long i,
                               const struct cache__lp_key *k);
/* Deletes the entry at *p; *p then names the entry that followed it
 * toward the tail (toward_tail) or toward the head, or pos 0. The caller
 * deletes a list left empty. */
void cache__list_delete_locked(struct shard *s, struct item **itp,
                               struct cache__lpos *p, int toward_tail);
/* Deletes n entries from index start on (both in range). */
void cache__list_del_range_locked(struct shard *s, struct item **itp,
                                  uint64_t start, uint64_t n);
/* Copies min(n, len) elements from the `where` end into out, in the
 * order they come off, then removes them. On CACHE_E_NOMEM nothing is
 * removed (out may hold some records). */
int cache__list_pop_locked(struct shard *s, struct item **itp, int where,
                           uint64_t n, struct cache_keys *out);

#endif
