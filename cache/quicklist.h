/*
 * quicklist.h: the large encoding of lists: a doubly linked chain of
 * nodes, each one allocation holding its links and a listpack
 * (listpack.h), each capped by list-max-listpack-size (Redis 7.0's
 * rules, cache__ql_allows). t_list.c builds the list type on it; this
 * file only owns the nodes: making them, growing and shrinking them in
 * place, linking, freeing, and the accounting of every byte.
 *
 * Why one allocation per node: Redis's quicklistNode (32 bytes) points to
 * a separate listpack allocation; here the 16 bytes of links sit in front
 * of the listpack, so a node costs one allocation and 16 + 8 bytes of
 * header. The size limit applies to the whole allocation (links
 * included), so a full -2 node is exactly one 8 KiB jemalloc size class.
 *
 * Accounting: ql->bytes is the usable size of the header and of every
 * node, kept as they change, so the list's ext_bytes is O(1). With `s`
 * not NULL the same deltas are charged to the shard (whose lock is held);
 * a quicklist being built outside any shard passes s = NULL (its bytes
 * reach the shard when its item is linked).
 *
 * Context: the lock of the shard that holds the list's key, or a list no
 * other thread can reach.
 */
#ifndef MMCACHE_QUICKLIST_H
#define MMCACHE_QUICKLIST_H

#include "cache_int.h"
#include "listpack.h"

struct cache__qnode {
    struct cache__qnode *prev, *next;   /* guarded by: shard lock */
    unsigned char lp[];                 /* guarded by: shard lock; a listpack */
};
#define CACHE__QNODE_HDR offsetof(struct cache__qnode, lp)

struct cache__quicklist {
    struct cache__qnode *head, *tail;   /* guarded by: shard lock */
    uint64_t count;                     /* guarded by: shard lock; elements */
    uint64_t nnodes;                    /* guarded by: shard lock */
    size_t bytes;                       /* guarded by: shard lock; usable size of
                                           this header and of every node */
};

/* May a node (or a compact list) take `bytes` bytes of allocation (links
 * included) holding `count` entries, under list-max-listpack-size `fill`?
 * -1..-5: at most 4, 8, 16, 32, 64 KiB (below -5: 64 KiB); n >= 0: at
 * most n entries (capped at 32767) and 8 KiB. One entry is always
 * allowed (an element larger than the limit gets a node of its own). */
bool cache__ql_allows(int64_t fill, size_t bytes, uint64_t count);
/* The same without the one-entry exception: may a compact list (one
 * listpack inline in its item) be this big? (Redis 7.2's
 * quicklistNodeExceedsLimit: one element over the limit converts.) */
bool cache__ql_fits(int64_t fill, size_t bytes, uint64_t count);

/* An empty quicklist (no node), unaccounted; NULL on ENOMEM. */
struct cache__quicklist *cache__ql_new(void);
/* Frees every node and the header (no accounting: the caller already
 * took the list's bytes out of its shard, or it never was in one). */
void cache__ql_free(struct cache__quicklist *ql);

/* A new node with an empty listpack and room for lp_room bytes of it,
 * charged, not linked. NULL on ENOMEM. */
struct cache__qnode *cache__ql_node_new(struct shard *s, struct cache__quicklist *ql,
                                        size_t lp_room);
/* Links n after `after` (NULL: at the head). */
void cache__ql_link(struct cache__quicklist *ql, struct cache__qnode *n,
                    struct cache__qnode *after);
/* Makes room for a listpack of lp_bytes in *np; the node may move (its
 * neighbours and the head/tail are relinked). 0 or CACHE_E_NOMEM (the
 * node is unchanged). */
int cache__ql_node_room(struct shard *s, struct cache__quicklist *ql,
                        struct cache__qnode **np, size_t lp_bytes);
/* Gives memory back when the listpack uses under half of the node. */
void cache__ql_node_fit(struct shard *s, struct cache__quicklist *ql,
                        struct cache__qnode **np);
/* Unlinks and frees a node (the caller fixes ql->count). */
void cache__ql_node_del(struct shard *s, struct cache__quicklist *ql,
                        struct cache__qnode *n);
/* Bytes of the node's allocation its listpack needs (links included). */
static inline size_t cache__ql_node_need(const struct cache__qnode *n)
{
    return CACHE__QNODE_HDR + cache__lp_bytes(n->lp);
}
/* Appends the entries of a's next node to a and frees that node when the
 * two fit in one. The merged node (a may have moved), or NULL. */
struct cache__qnode *cache__ql_try_merge(struct shard *s, struct cache__quicklist *ql,
                                         struct cache__qnode *a, int64_t fill);
/* Splits n before the entry at pos: the entries from pos on move to a new
 * node linked after n. The new node, or NULL on ENOMEM (n unchanged). */
struct cache__qnode *cache__ql_split(struct shard *s, struct cache__quicklist *ql,
                                     struct cache__qnode *n, size_t pos);

/* A deep copy, unaccounted (COPY). NULL on ENOMEM, nothing left behind. */
struct cache__quicklist *cache__ql_dup(const struct cache__quicklist *ql);
/* Structural check (debug.c): links, every listpack, counts, limits of
 * one-entry-at-least, and bytes == what it owns. 0 or -1. */
int cache__ql_check(const struct cache__quicklist *ql);

#endif
