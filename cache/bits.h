/*
 * bits.h: the bit-level primitives of the bitmap commands (bits.c), on
 * plain byte arrays: no items, no locks. Bits are numbered as Redis
 * numbers them: bit 0 is the most significant bit of byte 0, so a string
 * reads as one long big-endian bit array.
 *
 * The cache's bitmap operations (bitops.c, bitmulti.c) call these under
 * the key's shard lock; tests/cache/test_bits.c checks each against a
 * one-bit-at-a-time model.
 *
 * Context: any thread; pure functions.
 */
#ifndef MMCACHE_BITS_H
#define MMCACHE_BITS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cache.h"

/* Bit i of p (the caller keeps i inside the array). */
static inline int cache__bit_get(const unsigned char *p, uint64_t i)
{
    return (p[i >> 3] >> (7 - (i & 7))) & 1;
}

static inline void cache__bit_put(unsigned char *p, uint64_t i, int on)
{
    unsigned char m = (unsigned char)(1u << (7 - (i & 7)));
    p[i >> 3] = on ? (unsigned char)(p[i >> 3] | m) : (unsigned char)(p[i >> 3] & ~m);
}

/* Set bits in n bytes. Uses the CPU's popcount instruction where it has
 * one (a 512 MB string in tens of milliseconds, not hundreds). */
uint64_t cache__popcount(const unsigned char *p, size_t n);

/* Set bits among bits [from, to] (inclusive; to < 8 * the array's size). */
uint64_t cache__bitcount_range(const unsigned char *p, uint64_t from, uint64_t to);

/* The first bit equal to `bit` among bits [from, to], or -1. */
int64_t cache__bitpos_range(const unsigned char *p, uint64_t from, uint64_t to, int bit);

/* BITCOUNT's and BITPOS's range over a string of len bytes, by Redis
 * 7.0's rules (negative indexes from the end, clamped to the string;
 * BYTE or BIT units): false when it is empty, else the bits [*from, *to].
 * With no range given, the whole string. */
bool cache__bitrange_resolve(size_t len, const struct cache_bitrange *r,
                             uint64_t *from, uint64_t *to);

/* ---- BITFIELD ---------------------------------------------------------------
 * A field is `bits` bits (1..64) at bit offset off, most significant bit
 * first; bits past len bytes read as 0 (GET past the end). Writes need
 * the array to hold the whole field. */
uint64_t cache__bf_get_u(const unsigned char *p, size_t len, uint64_t off, unsigned bits);
int64_t cache__bf_get_i(const unsigned char *p, size_t len, uint64_t off, unsigned bits);
void cache__bf_set(unsigned char *p, uint64_t off, unsigned bits, uint64_t v);

/* Would value + incr overflow a field of `bits` bits (unsigned 1..63,
 * signed 1..64)? 0: no; 1 up, -1 down, with *limit the value to store
 * instead by `ow` (CACHE_BF_WRAP: wrapped around; CACHE_BF_SAT: the
 * bound; CACHE_BF_FAIL: untouched). Redis 7.0's rules, value for value:
 * an unsigned SET of a negative number is a huge one (so SAT stores the
 * maximum), and a value already out of range counts as overflowing. */
int cache__bf_overflow_u(uint64_t value, int64_t incr, unsigned bits, int ow,
                         uint64_t *limit);
int cache__bf_overflow_i(int64_t value, int64_t incr, unsigned bits, int ow,
                         int64_t *limit);

/* ---- BITOP ------------------------------------------------------------------
 * dst[0..len) = op over the sources, each src[j] of srclen[j] bytes read
 * as zero-padded to len (NULL with length 0: a missing key). NOT takes
 * one source. dst may not overlap a source. */
void cache__bitop(int op, unsigned char *dst, size_t len,
                  const unsigned char *const *src, const size_t *srclen, size_t n);

#endif
