/*
 * intset.h: the compact encoding of a set of integers: one block holding
 * the members sorted, each at the narrowest width (2, 4 or 8 bytes) that
 * every member fits, as Redis's intset.
 *
 * Layout: [u32 width][u32 count] member member ... (native-endian; read
 * with memcpy, so the block may sit at any address, e.g. inline in an
 * item after its key). Lookup is a binary search; adding keeps the order
 * with one memmove, and a member too wide for the current width first
 * widens every member in place (an "upgrade", never undone).
 *
 * Like listpack.h, nothing here allocates: the caller makes room for
 * cache__is_add_need() bytes first, so the set may live inline in an item
 * or in its own allocation.
 *
 * Context: pure functions on caller-owned memory; the caller holds
 * whatever lock guards the block.
 */
#ifndef MMCACHE_INTSET_H
#define MMCACHE_INTSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CACHE__IS_HDR 8u

void cache__is_init(unsigned char *buf);               /* empty, width 2 */
size_t cache__is_bytes(const unsigned char *is);
uint32_t cache__is_count(const unsigned char *is);
int64_t cache__is_get(const unsigned char *is, uint32_t i);   /* i < count */

/* Found: true with *pos its index; else false with *pos where it would go. */
bool cache__is_find(const unsigned char *is, int64_t v, uint32_t *pos);
/* Bytes the block takes after adding v (its current size if v is in). */
size_t cache__is_add_need(const unsigned char *is, int64_t v);
/* In place, with room for cache__is_add_need(is, v) bytes: true if added,
 * false if it was already a member. */
bool cache__is_add(unsigned char *is, int64_t v);
/* In place (the block shrinks by one member's width): true if removed. */
bool cache__is_remove(unsigned char *is, int64_t v);

/* Checks the header, the width (the narrowest that fits the extremes, or
 * wider after an upgrade is fine) and strict order. 0 or -1. */
int cache__is_validate(const unsigned char *is, size_t bytes);

#endif
