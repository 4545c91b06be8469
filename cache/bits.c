/*
 * bits.c: the bit-level primitives of the bitmap commands (bits.h).
 *
 * The loops that may run over a whole 512 MB string (popcount, bitpos,
 * bitop) go a 64-bit word at a time, a BITFIELD field (at most 64 bits,
 * 9 bytes) a byte at a time; everything else as plainly as the rule it
 * implements.
 */
#include <string.h>

#include "bits.h"

/* ---- popcount -------------------------------------------------------------------- */

/* Four independent sums, so the CPU overlaps the popcounts. Inlined into
 * both entry points below: in popcount_hw the builtin becomes the POPCNT
 * instruction, in popcount_sw a portable bit trick. */
static inline __attribute__((always_inline)) uint64_t
popcount_body(const unsigned char *p, size_t n)
{
    uint64_t a = 0, b = 0, c = 0, d = 0;
    size_t i = 0;

    for (; i + 32 <= n; i += 32) {
        uint64_t w[4];
        memcpy(w, p + i, sizeof(w));
        a += (uint64_t)__builtin_popcountll(w[0]);
        b += (uint64_t)__builtin_popcountll(w[1]);
        c += (uint64_t)__builtin_popcountll(w[2]);
        d += (uint64_t)__builtin_popcountll(w[3]);
    }
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, sizeof(w));
        a += (uint64_t)__builtin_popcountll(w);
    }
    for (; i < n; i++)
        b += (uint64_t)__builtin_popcount(p[i]);
    return a + b + c + d;
}

static uint64_t popcount_sw(const unsigned char *p, size_t n)
{
    return popcount_body(p, n);
}

#if defined(__x86_64__) && defined(__GNUC__)
__attribute__((target("popcnt"))) static uint64_t popcount_hw(const unsigned char *p, size_t n)
{
    return popcount_body(p, n);
}
#endif

uint64_t cache__popcount(const unsigned char *p, size_t n)
{
#if defined(__x86_64__) && defined(__GNUC__)
    if (__builtin_cpu_supports("popcnt"))
        return popcount_hw(p, n);
#endif
    return popcount_sw(p, n);
}

/* The bits of one byte from bit a to bit b (0..7, MSB first), as a mask. */
static inline unsigned char byte_mask(unsigned a, unsigned b)
{
    return (unsigned char)((0xFFu >> a) & (0xFFu << (7 - b)));
}

uint64_t cache__bitcount_range(const unsigned char *p, uint64_t from, uint64_t to)
{
    uint64_t fb = from >> 3, tb = to >> 3;

    if (fb == tb)
        return (uint64_t)__builtin_popcount(p[fb] & byte_mask(from & 7, to & 7));
    return (uint64_t)__builtin_popcount(p[fb] & byte_mask(from & 7, 7)) +
           cache__popcount(p + fb + 1, (size_t)(tb - fb - 1)) +
           (uint64_t)__builtin_popcount(p[tb] & byte_mask(0, to & 7));
}

/* ---- bitpos ---------------------------------------------------------------------- */

/* The first bit equal to `bit` in byte b, masked to bits [a, z]; or -1. */
static int byte_find(unsigned char b, int bit, unsigned a, unsigned z)
{
    unsigned x = (unsigned)(bit ? b : (unsigned char)~b) & byte_mask(a, z);

    return x ? __builtin_clz(x) - (int)(8 * sizeof(unsigned) - 8) : -1;
}

int64_t cache__bitpos_range(const unsigned char *p, uint64_t from, uint64_t to, int bit)
{
    uint64_t fb = from >> 3, tb = to >> 3;
    const uint64_t skipw = bit ? 0 : UINT64_MAX;   /* a word with no such bit */
    const unsigned char skipb = (unsigned char)skipw;
    int k;

    if (fb == tb) {
        k = byte_find(p[fb], bit, from & 7, to & 7);
        return k < 0 ? -1 : (int64_t)(fb * 8 + (uint64_t)k);
    }
    if ((k = byte_find(p[fb], bit, from & 7, 7)) >= 0)
        return (int64_t)(fb * 8 + (uint64_t)k);
    /* The middle bytes, 32 at a time while none holds such a bit: the
     * scan of a 512 MB string runs at memory speed under the lock. */
    uint64_t i = fb + 1;
    for (; i + 32 <= tb; i += 32) {
        uint64_t w[4];
        memcpy(w, p + i, sizeof(w));
        if (bit ? (w[0] | w[1] | w[2] | w[3]) != skipw : (w[0] & w[1] & w[2] & w[3]) != skipw)
            break;
    }
    for (; i < tb; i++)
        if (p[i] != skipb)
            return (int64_t)(i * 8 + (uint64_t)byte_find(p[i], bit, 0, 7));
    k = byte_find(p[tb], bit, 0, to & 7);
    return k < 0 ? -1 : (int64_t)(tb * 8 + (uint64_t)k);
}

/* ---- ranges ---------------------------------------------------------------------- */

bool cache__bitrange_resolve(size_t len, const struct cache_bitrange *r,
                             uint64_t *from, uint64_t *to)
{
    long long totlen = (long long)len, start = 0, end = totlen - 1;

    if (r->given) {
        /* Redis 7.0's bitcountCommand / bitposCommand, rule for rule. */
        if (r->bit)
            totlen <<= 3;
        start = r->start;
        end = r->end_given ? r->end : totlen - 1;
        if (start < 0)
            start = totlen + start;
        if (end < 0)
            end = totlen + end;
        if (start < 0)
            start = 0;
        if (end < 0)
            end = 0;
        if (end >= totlen)
            end = totlen - 1;
    }
    if (start > end)
        return false;
    *from = r->given && r->bit ? (uint64_t)start : (uint64_t)start * 8;
    *to = r->given && r->bit ? (uint64_t)end : (uint64_t)end * 8 + 7;
    return true;
}

/* ---- BITFIELD -------------------------------------------------------------------- */

/* A field spans at most 9 bytes: they are read (and written) whole, as
 * one big-endian number, rather than bit by bit, so that a BITFIELD of
 * many operations holds its lock for as short a time as can be. */
static inline unsigned field_tail(uint64_t off, unsigned bits)
{
    return 7 - (unsigned)((off + bits - 1) & 7);   /* bits after it in its last byte */
}

uint64_t cache__bf_get_u(const unsigned char *p, size_t len, uint64_t off, unsigned bits)
{
    unsigned __int128 acc = 0;

    for (uint64_t b = off >> 3; b <= (off + bits - 1) >> 3; b++)
        acc = (acc << 8) | (b < len ? p[b] : 0);
    acc >>= field_tail(off, bits);
    return bits >= 64 ? (uint64_t)acc : (uint64_t)acc & ((1ULL << bits) - 1);
}

int64_t cache__bf_get_i(const unsigned char *p, size_t len, uint64_t off, unsigned bits)
{
    uint64_t v = cache__bf_get_u(p, len, off, bits);

    if (bits < 64 && (v & (1ULL << (bits - 1))))
        v |= UINT64_MAX << bits;   /* two's complement: extend the sign */
    return (int64_t)v;
}

void cache__bf_set(unsigned char *p, uint64_t off, unsigned bits, uint64_t v)
{
    uint64_t first = off >> 3, last = (off + bits - 1) >> 3;
    unsigned tail = field_tail(off, bits);
    unsigned __int128 acc = 0;
    unsigned __int128 mask = (unsigned __int128)(bits >= 64 ? UINT64_MAX : (1ULL << bits) - 1)
                             << tail;

    for (uint64_t b = first; b <= last; b++)
        acc = (acc << 8) | p[b];
    acc = (acc & ~mask) | (((unsigned __int128)v << tail) & mask);
    for (uint64_t b = last + 1; b-- > first;) {
        p[b] = (unsigned char)acc;
        acc >>= 8;
    }
}

/* The arithmetic is Redis's checkUnsignedBitfieldOverflow and
 * checkSignedBitfieldOverflow, differences and all, done in uint64_t so
 * that what wraps in Redis wraps here too, without undefined behaviour
 * (the conversions back to int64_t are modular in GCC and Clang). */
int cache__bf_overflow_u(uint64_t value, int64_t incr, unsigned bits, int ow,
                         uint64_t *limit)
{
    uint64_t max = bits >= 64 ? UINT64_MAX : (1ULL << bits) - 1;
    int64_t maxincr = (int64_t)(max - value);
    int64_t minincr = (int64_t)(0 - value);
    int dir;

    if (value > max || (incr > 0 && incr > maxincr))
        dir = 1;
    else if (incr < 0 && incr < minincr)
        dir = -1;
    else
        return 0;
    if (ow == CACHE_BF_WRAP)
        *limit = (value + (uint64_t)incr) & (bits >= 64 ? UINT64_MAX : max);
    else if (ow == CACHE_BF_SAT)
        *limit = dir > 0 ? max : 0;
    return dir;
}

int cache__bf_overflow_i(int64_t value, int64_t incr, unsigned bits, int ow,
                         int64_t *limit)
{
    int64_t max = bits >= 64 ? INT64_MAX : (int64_t)((1ULL << (bits - 1)) - 1);
    int64_t min = -max - 1;
    int64_t maxincr = (int64_t)((uint64_t)max - (uint64_t)value);
    int64_t minincr = (int64_t)((uint64_t)min - (uint64_t)value);
    int dir;

    if (value > max || (bits != 64 && incr > maxincr) ||
        (value >= 0 && incr > 0 && incr > maxincr))
        dir = 1;
    else if (value < min || (bits != 64 && incr < minincr) ||
             (value < 0 && incr < 0 && incr < minincr))
        dir = -1;
    else
        return 0;
    if (ow == CACHE_BF_WRAP) {
        uint64_t c = (uint64_t)value + (uint64_t)incr;
        if (bits < 64) {
            uint64_t high = UINT64_MAX << bits;
            c = (c & (1ULL << (bits - 1))) ? c | high : c & ~high;
        }
        *limit = (int64_t)c;
    } else if (ow == CACHE_BF_SAT) {
        *limit = dir > 0 ? max : min;
    }
    return dir;
}

/* ---- BITOP ----------------------------------------------------------------------- */

/* dst[0..n) op= s[0..n), a word at a time. */
static void combine(int op, unsigned char *dst, const unsigned char *s, size_t n)
{
    size_t i = 0;

    for (; i + 8 <= n; i += 8) {
        uint64_t a, b;
        memcpy(&a, dst + i, 8);
        memcpy(&b, s + i, 8);
        a = op == CACHE_BITOP_AND ? a & b : op == CACHE_BITOP_OR ? a | b : a ^ b;
        memcpy(dst + i, &a, 8);
    }
    for (; i < n; i++)
        dst[i] = (unsigned char)(op == CACHE_BITOP_AND ? dst[i] & s[i]
                                 : op == CACHE_BITOP_OR ? dst[i] | s[i] : dst[i] ^ s[i]);
}

void cache__bitop(int op, unsigned char *dst, size_t len,
                  const unsigned char *const *src, const size_t *srclen, size_t n)
{
    size_t l0 = srclen[0] < len ? srclen[0] : len;

    if (l0)
        memcpy(dst, src[0], l0);
    memset(dst + l0, 0, len - l0);
    if (op == CACHE_BITOP_NOT) {
        for (size_t i = 0; i < len; i++)
            dst[i] = (unsigned char)~dst[i];
        return;
    }
    for (size_t j = 1; j < n; j++) {
        size_t l = srclen[j] < len ? srclen[j] : len;
        if (l)
            combine(op, dst, src[j], l);
        if (op == CACHE_BITOP_AND)   /* past its end a source is zeros */
            memset(dst + l, 0, len - l);
    }
}
