/*
 * zpack.c: see zpack.h for the format and why.
 */
#include <limits.h>
#include <string.h>

#include "le32.h"
#include "zpack.h"

#define T_SMALL_MAX 0xBF          /* tags 0..0xBF: the integer itself */
#define T_INT8 0xC0               /* then 0xC1 int16, 0xC2 int24, 0xC3 int32 */
#define T_INT64 0xC4
#define T_DOUBLE 0xC5

static const unsigned int_width[] = {1, 2, 3, 4};

void cache__zp_init(unsigned char *zp)
{
    cache__wr32(zp, 0);
}

uint32_t cache__zp_count(const unsigned char *zp)
{
    return cache__rd32(zp);
}

/* ---- varint: 7 bits a byte, low first, a set high bit says more ---- */

static size_t varint_size(size_t v)
{
    size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}

static size_t varint_put(unsigned char *p, size_t v)
{
    size_t n = 0;
    while (v >= 0x80) {
        p[n++] = (unsigned char)(v | 0x80);
        v >>= 7;
    }
    p[n++] = (unsigned char)v;
    return n;
}

static size_t varint_get(const unsigned char *p, size_t *v)
{
    size_t n = 0, r = 0;
    unsigned shift = 0;
    do {
        r |= (size_t)(p[n] & 0x7F) << shift;
        shift += 7;
    } while (p[n++] & 0x80);
    *v = r;
    return n;
}

/* ---- scores ---- */

/* Redis's double2ll: an integral score within +-(2^63-1)/2 is an integer. */
static bool as_int(double d, long long *v)
{
    if (d != d || d < (double)(-LLONG_MAX / 2) || d > (double)(LLONG_MAX / 2) ||
        (double)(long long)d != d)
        return false;
    *v = (long long)d;
    return true;
}

/* The bytes of an integer in the narrowest tag: 0 (embedded) or 1..4, 8. */
static unsigned int_bytes(long long v)
{
    if (v >= 0 && v <= T_SMALL_MAX)
        return 0;
    for (unsigned k = 0; k < 4; k++) {
        long long lim = 1LL << (8 * int_width[k] - 1);
        if (v >= -lim && v < lim)
            return int_width[k];
    }
    return 8;
}

static size_t score_size(double d)
{
    long long v;
    return as_int(d, &v) ? 1 + int_bytes(v) : 1 + sizeof(double);
}

static size_t score_put(unsigned char *p, double d)
{
    long long v;
    if (!as_int(d, &v)) {
        p[0] = T_DOUBLE;
        memcpy(p + 1, &d, sizeof(d));
        return 1 + sizeof(d);
    }
    unsigned nb = int_bytes(v);
    if (nb == 0) {
        p[0] = (unsigned char)v;
        return 1;
    }
    p[0] = nb == 8 ? T_INT64 : (unsigned char)(T_INT8 + nb - 1);   /* widths 1..4 */
    uint64_t u = (uint64_t)v;
    for (unsigned i = 0; i < nb; i++)
        p[1 + i] = (unsigned char)(u >> (8 * i));
    return 1 + nb;
}

static size_t score_get(const unsigned char *p, double *d)
{
    if (p[0] <= T_SMALL_MAX) {
        *d = (double)p[0];
        return 1;
    }
    if (p[0] == T_DOUBLE) {
        memcpy(d, p + 1, sizeof(*d));
        return 1 + sizeof(*d);
    }
    unsigned nb = p[0] == T_INT64 ? 8 : int_width[p[0] - T_INT8];
    uint64_t u = 0;
    for (unsigned i = 0; i < nb; i++)
        u |= (uint64_t)p[1 + i] << (8 * i);
    if (nb < 8 && (u >> (8 * nb - 1)) & 1)
        u |= ~0ull << (8 * nb);   /* sign-extend */
    *d = (double)(long long)u;
    return 1 + nb;
}

/* ---- pairs ---- */

size_t cache__zp_pair_size(size_t len, double score)
{
    return varint_size(len) + len + score_size(score);
}

/* Bytes of the pair at pos. */
static size_t pair_bytes(const unsigned char *zp, size_t pos)
{
    size_t len, n = varint_get(zp + pos, &len);
    double d;
    return n + len + score_get(zp + pos + n + len, &d);
}

size_t cache__zp_first(const unsigned char *zp, size_t bytes)
{
    return bytes > CACHE__ZP_HDR ? CACHE__ZP_HDR : 0;
}

size_t cache__zp_next(const unsigned char *zp, size_t bytes, size_t pos)
{
    size_t n = pos + pair_bytes(zp, pos);
    return n < bytes ? n : 0;
}

size_t cache__zp_seek(const unsigned char *zp, size_t bytes, uint64_t r)
{
    size_t pos = cache__zp_first(zp, bytes);
    while (pos && r-- > 0)
        pos = cache__zp_next(zp, bytes, pos);
    return pos;
}

void cache__zp_get(const unsigned char *zp, size_t pos, struct cache__zp_pair *p)
{
    size_t n = varint_get(zp + pos, &p->len);
    p->m = (const char *)zp + pos + n;
    score_get(zp + pos + n + p->len, &p->score);
}

size_t cache__zp_find(const unsigned char *zp, size_t bytes, const char *m, size_t len)
{
    struct cache__zp_pair p;

    for (size_t pos = cache__zp_first(zp, bytes); pos; pos = cache__zp_next(zp, bytes, pos)) {
        cache__zp_get(zp, pos, &p);
        if (p.len == len && memcmp(p.m, m, len) == 0)
            return pos;
    }
    return 0;
}

size_t cache__zp_insert(unsigned char *zp, size_t bytes, size_t pos, const char *m,
                        size_t len, double score)
{
    size_t need = cache__zp_pair_size(len, score);

    memmove(zp + pos + need, zp + pos, bytes - pos);
    size_t n = varint_put(zp + pos, len);
    memcpy(zp + pos + n, m, len);
    score_put(zp + pos + n + len, score);
    cache__wr32(zp, cache__rd32(zp) + 1);
    return pos;
}

size_t cache__zp_delete(unsigned char *zp, size_t bytes, size_t pos, uint32_t n)
{
    size_t end = pos;
    uint32_t k = 0;

    for (; k < n && end < bytes; k++)
        end += pair_bytes(zp, end);
    memmove(zp + pos, zp + end, bytes - end);
    cache__wr32(zp, cache__rd32(zp) - k);
    return end - pos;
}

int cache__zp_validate(const unsigned char *zp, size_t bytes)
{
    size_t pos = CACHE__ZP_HDR;
    uint32_t k = 0;

    if (bytes < CACHE__ZP_HDR)
        return -1;
    while (pos < bytes) {
        size_t len = 0, n = 0;
        unsigned shift = 0;
        do {   /* the varint, bounded */
            if (pos + n >= bytes || shift > 56)
                return -1;
            len |= (size_t)(zp[pos + n] & 0x7F) << shift;
            shift += 7;
        } while (zp[pos + n++] & 0x80);
        if (len > bytes || pos + n + len >= bytes)
            return -1;
        unsigned char tag = zp[pos + n + len];
        size_t sc = tag <= T_SMALL_MAX ? 1 : tag == T_DOUBLE ? 9 : tag == T_INT64 ? 9
                  : tag <= T_INT8 + 3 ? 1 + int_width[tag - T_INT8] : 0;
        if (sc == 0 || pos + n + len + sc > bytes)
            return -1;
        pos += n + len + sc;
        k++;
    }
    return k == cache__rd32(zp) ? 0 : -1;
}
