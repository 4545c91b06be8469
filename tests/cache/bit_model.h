/*
 * The bitmap tests' model (test_bits.c, test_bitops.c): bits one at a
 * time, and Redis 7.0's BITCOUNT/BITPOS range as its source reads,
 * written apart from cache/bits.c so that each checks the other.
 */
#ifndef MMCACHE_TEST_BIT_MODEL_H
#define MMCACHE_TEST_BIT_MODEL_H

#include <stdbool.h>
#include <stdint.h>

static inline int model_bit(const unsigned char *p, uint64_t i)
{
    return (p[i / 8] >> (7 - i % 8)) & 1;
}

/* Bits [*from, *to] of a len-byte string, or false when none. */
static inline bool model_range(long long len, bool given, long long s, long long e, bool endg,
                               bool isbit, uint64_t *from, uint64_t *to)
{
    long long totlen = len;
    if (!given) {
        s = 0;
        e = len - 1;
    } else {
        if (!endg)
            e = isbit ? (totlen << 3) + 7 : totlen - 1;
        if (isbit)
            totlen <<= 3;
        if (s < 0) s = totlen + s;
        if (e < 0) e = totlen + e;
        if (s < 0) s = 0;
        if (e < 0) e = 0;
        if (e >= totlen) e = totlen - 1;
    }
    if (s > e)
        return false;
    *from = isbit && given ? (uint64_t)s : (uint64_t)s * 8;
    *to = isbit && given ? (uint64_t)e : (uint64_t)e * 8 + 7;
    return true;
}

#endif
