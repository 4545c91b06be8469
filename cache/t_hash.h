/*
 * t_hash.h: the hash type's one interface over its two encodings
 * (t_hash.c), used by the hash operations (hashops.c) and the tests.
 *
 *   CACHE__ENC_LISTPACK  the item's value area is a listpack of field,
 *                        value, field, value ... (listpack.h), inline
 *   CACHE__ENC_TABLE     the value area points to a struct cache__hash_ht:
 *                        a cache__ctable of field nodes (one allocation
 *                        per field: node header, field, value)
 *
 * A listpack hash converts to a table when it would hold more than
 * hash-max-listpack-entries fields or a field or value longer than
 * hash-max-listpack-value bytes (never back, as in Redis).
 *
 * Memory: a linked hash item is charged cache__item_size(): the item's
 * usable size (listpack inline) plus, for a table, the header's, every
 * node's and the bucket arrays' usable sizes (ext_bytes). Every change
 * below charges the shard as it happens, so the shard's total stays
 * exact after each call.
 *
 * Context: every function expects the lock of the item's shard held (the
 * `s` passed); functions taking `struct item **itp` may move the item (a
 * listpack grows in place) and store its new address there.
 */
#ifndef MMCACHE_T_HASH_H
#define MMCACHE_T_HASH_H

#include "cache_int.h"
#include "listpack.h"

struct cache__hfield {
    struct cache__tnode node;   /* hash of the field */
    uint32_t flen, vlen;        /* guarded by: shard lock */
    char data[];                /* field, then value */
};

struct cache__hash_ht {
    size_t bytes;               /* guarded by: shard lock; usable sizes of this
                                   header and every node (buckets: t.bucket_bytes) */
    struct cache__ctable t;     /* guarded by: shard lock */
};

/* A field or value read back: bytes that stay valid until the hash
 * changes, or a listpack integer formatted into buf. */
struct cache__hval {
    const char *s;
    size_t len;
    char buf[CACHE__LP_INTBUF];
};

/* An empty listpack hash under key (unlinked, unaccounted). */
struct item *cache__hash_new(uint64_t h, const char *key, size_t klen);
size_t cache__hash_len(const struct item *it);

bool cache__hash_get_locked(struct shard *s, struct item *it, const char *f,
                            size_t flen, struct cache__hval *v);
/* 1: field added, 0: value replaced, CACHE_E_NOMEM: nothing changed.
 * Converts to a table first when the pair is too long for a listpack,
 * and after adding when the hash has too many fields. */
int cache__hash_set_locked(struct shard *s, struct item **itp, const char *f,
                           size_t flen, const char *v, size_t vlen);
/* 1: removed, 0: no such field. The caller deletes a hash left empty. */
int cache__hash_del_locked(struct shard *s, struct item **itp, const char *f,
                           size_t flen);
/* Listpack to table (a no-op for a table). 0 or CACHE_E_NOMEM. */
int cache__hash_convert_locked(struct shard *s, struct item **itp);
/* Would adding fields of these lengths convert a listpack hash? */
bool cache__hash_too_long(struct shard *s, const struct item *it, size_t flen, size_t vlen);

/* Iteration over either encoding; the hash must not change meanwhile. */
struct cache__hiter {
    const struct item *it;
    size_t pos;                 /* listpack: the next field's position */
    bool started;               /* table: ci is positioned */
    struct cache__ct_iter ci;   /* table */
};
void cache__hash_iter(const struct item *it, struct cache__hiter *i);
bool cache__hash_next(struct cache__hiter *i, struct cache__hval *f,
                      struct cache__hval *v);

/* The n-th pair of a listpack hash / a random node of a table hash. */
void cache__hash_lp_pair(const struct item *it, size_t pos, struct cache__hval *f,
                         struct cache__hval *v);
struct cache__hfield *cache__hash_random_node(const struct item *it);
void cache__hash_node_vals(const struct cache__hfield *n, struct cache__hval *f,
                           struct cache__hval *v);
struct cache__hash_ht *cache__hash_table(const struct item *it);

#endif
