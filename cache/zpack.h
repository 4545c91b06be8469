/*
 * zpack.h: the compact encoding of a small sorted set: its (member, score)
 * pairs in order in one contiguous block, inline in the item.
 *
 *   block  [u32 count] pair pair ...     (its size: the item's vlen)
 *   pair   [varint member length][member bytes][score]
 *   score  one tag byte, then its data:
 *            0x00..0xBF  the integer 0..191, no data
 *            0xC0..0xC4  an integer in 1, 2, 3, 4 or 8 bytes (little
 *                        endian, sign-extended)
 *            0xC5        a double's 8 bytes
 *
 * A score is an integer exactly when Redis's double2ll would store it as
 * one in its listpack (integral, within +-(2^63-1)/2), so -0 reads back 0
 * here, as in Redis 7.0's listpack.
 *
 * Why not the listpack (listpack.h) that hashes and lists use: a
 * listpack entry pays a backlen byte so that it can be walked backwards,
 * and a sorted set's pair is two entries: 2 bytes a pair, and 8 of header,
 * where this block spends none and 4. For 100,000 sorted sets of 10
 * members ("member:N", integer scores) that is 24 bytes a set, which is
 * what takes the item into the next allocator size class (docs/types.md,
 * "Sorted sets"). What the backlen bought is done by forward walks here:
 * a reverse range collects the positions first; the last member of a
 * range is the last one a forward walk meets.
 *
 * Positions are byte offsets from the block's start (0: none), so they
 * survive a realloc of the block. Nothing here allocates: a caller makes
 * room first (cache__zp_pair_size). Context: pure functions on
 * caller-owned memory; the caller holds whatever lock guards the block.
 */
#ifndef MMCACHE_ZPACK_H
#define MMCACHE_ZPACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CACHE__ZP_HDR 4u

/* A pair read back: the member's bytes point into the block. */
struct cache__zp_pair {
    const char *m;
    size_t len;
    double score;
};

void cache__zp_init(unsigned char *zp);
uint32_t cache__zp_count(const unsigned char *zp);
/* The first pair (0 when empty) and the next one (0 past the last). */
size_t cache__zp_first(const unsigned char *zp, size_t bytes);
size_t cache__zp_next(const unsigned char *zp, size_t bytes, size_t pos);
/* The pair at rank r (< count): a walk. */
size_t cache__zp_seek(const unsigned char *zp, size_t bytes, uint64_t r);
void cache__zp_get(const unsigned char *zp, size_t pos, struct cache__zp_pair *p);
/* Member m's pair, or 0. */
size_t cache__zp_find(const unsigned char *zp, size_t bytes, const char *m, size_t len);
/* Bytes a pair of a member of len bytes with this score takes. */
size_t cache__zp_pair_size(size_t len, double score);
/* In place: a pair before the one at pos (pos == bytes: at the end), the
 * block having room for cache__zp_pair_size more; returns its position.
 * Delete: n pairs from pos on; returns the bytes the block lost. */
size_t cache__zp_insert(unsigned char *zp, size_t bytes, size_t pos, const char *m,
                        size_t len, double score);
size_t cache__zp_delete(unsigned char *zp, size_t bytes, size_t pos, uint32_t n);
/* Structural check of a block of `bytes` bytes: every pair whole, the
 * count right (no order check: the type does that). 0 or -1. */
int cache__zp_validate(const unsigned char *zp, size_t bytes);

#endif
