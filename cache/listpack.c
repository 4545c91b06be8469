/*
 * listpack.c: see listpack.h for the format and the rules.
 *
 * Why our own and not Redis's bytes: the block carries no end marker (the
 * header's byte count ends it) and a 32-bit count (no "unknown" count to
 * recompute past 65535 entries); the entry encodings are the same idea
 * (a tag byte that says integer or string and how long, then a backward
 * length) because that idea is what makes small entries cost 2 bytes of
 * overhead and lets a walk go both ways.
 */
#include <assert.h>
#include <string.h>

#include "cache_int.h"
#include "listpack.h"

/* Tags (first byte of an entry). */
#define T_UINT7_MAX 0x7F
#define T_STR6      0x80   /* 10llllll */
#define T_INT13     0xC0   /* 110xxxxx */
#define T_STR12     0xE0   /* 1110llll */
#define T_INT16     0xF0
#define T_INT24     0xF1
#define T_INT32     0xF2
#define T_INT64     0xF3
#define T_STR32     0xF4

static inline uint32_t rd32(const unsigned char *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;   /* the hosts we build for are little-endian */
}

static inline void wr32(unsigned char *p, uint32_t v)
{
    memcpy(p, &v, 4);
}

static inline void set_bytes(unsigned char *lp, size_t n) { wr32(lp, (uint32_t)n); }
static inline void set_count(unsigned char *lp, uint32_t n) { wr32(lp + 4, n); }

size_t cache__lp_bytes(const unsigned char *lp) { return rd32(lp); }
uint32_t cache__lp_count(const unsigned char *lp) { return rd32(lp + 4); }

void cache__lp_init(unsigned char *buf)
{
    set_bytes(buf, CACHE__LP_HDR);
    set_count(buf, 0);
}

void cache__lp_key_str(struct cache__lp_key *k, const char *s, size_t len)
{
    long long v;

    k->s = s;
    k->len = len;
    k->isint = len <= 20 && cache__string2ll(s, len, &v);
    k->v = k->isint ? v : 0;
}

void cache__lp_key_int(struct cache__lp_key *k, int64_t v)
{
    k->s = NULL;
    k->len = 0;
    k->isint = true;
    k->v = v;
}

/* ---- sizes ------------------------------------------------------------- */

static size_t backlen_size(size_t l)
{
    if (l < (1u << 7))
        return 1;
    if (l < (1u << 14))
        return 2;
    if (l < (1u << 21))
        return 3;
    if (l < (1u << 28))
        return 4;
    return 5;
}

/* Bytes of [encoding + data] for k. */
static size_t body_size(const struct cache__lp_key *k)
{
    if (k->isint) {
        int64_t v = k->v;
        if (v >= 0 && v <= T_UINT7_MAX)
            return 1;
        if (v >= -4096 && v <= 4095)
            return 2;
        if (v >= INT16_MIN && v <= INT16_MAX)
            return 3;
        if (v >= -(1 << 23) && v < (1 << 23))
            return 4;
        if (v >= INT32_MIN && v <= INT32_MAX)
            return 5;
        return 9;
    }
    if (k->len < 64)
        return 1 + k->len;
    if (k->len < 4096)
        return 2 + k->len;
    return 5 + k->len;
}

size_t cache__lp_encoded_size(const struct cache__lp_key *k)
{
    size_t b = body_size(k);
    return b + backlen_size(b);
}

/* Bytes of [encoding + data] of the entry starting at p. */
static size_t body_at(const unsigned char *p)
{
    unsigned char t = p[0];

    if (t <= T_UINT7_MAX)
        return 1;
    if ((t & 0xC0) == T_STR6)
        return 1 + (t & 0x3F);
    if ((t & 0xE0) == T_INT13)
        return 2;
    if ((t & 0xF0) == T_STR12)
        return 2 + (((size_t)(t & 0x0F) << 8) | p[1]);
    switch (t) {
    case T_INT16: return 3;
    case T_INT24: return 4;
    case T_INT32: return 5;
    case T_INT64: return 9;
    case T_STR32: return 5 + (size_t)rd32(p + 1);
    }
    assert(!"listpack: bad entry tag");
    return 1;
}

size_t cache__lp_entry_size(const unsigned char *lp, size_t pos)
{
    size_t b = body_at(lp + pos);
    return b + backlen_size(b);
}

size_t cache__lp_insert_need(const struct cache__lp_key *k)
{
    return cache__lp_encoded_size(k);
}

long long cache__lp_replace_need(const unsigned char *lp, size_t pos,
                                 const struct cache__lp_key *k)
{
    return (long long)cache__lp_encoded_size(k) -
           (long long)cache__lp_entry_size(lp, pos);
}

/* ---- encode / decode --------------------------------------------------- */

static void put_int(unsigned char *p, int64_t v, unsigned nbytes)
{
    uint64_t u = (uint64_t)v;
    for (unsigned i = 0; i < nbytes; i++)
        p[i] = (unsigned char)(u >> (8 * i));
}

static int64_t get_int(const unsigned char *p, unsigned nbytes)
{
    uint64_t u = 0;
    for (unsigned i = 0; i < nbytes; i++)
        u |= (uint64_t)p[i] << (8 * i);
    if (nbytes < 8) {   /* sign-extend */
        uint64_t sign = 1ull << (8 * nbytes - 1);
        u = (u ^ sign) - sign;
    }
    return (int64_t)u;
}

/* Writes the entry for k at p (body then backlen); returns its size. */
static size_t encode(unsigned char *p, const struct cache__lp_key *k)
{
    size_t b = body_size(k);

    if (k->isint) {
        int64_t v = k->v;
        switch (b) {
        case 1: p[0] = (unsigned char)v; break;
        case 2: {
            uint16_t u = (uint16_t)v & 0x1FFF;
            p[0] = (unsigned char)(T_INT13 | (u >> 8));
            p[1] = (unsigned char)u;
            break;
        }
        case 3: p[0] = T_INT16; put_int(p + 1, v, 2); break;
        case 4: p[0] = T_INT24; put_int(p + 1, v, 3); break;
        case 5: p[0] = T_INT32; put_int(p + 1, v, 4); break;
        default: p[0] = T_INT64; put_int(p + 1, v, 8); break;
        }
    } else if (k->len < 64) {
        p[0] = (unsigned char)(T_STR6 | k->len);
        memcpy(p + 1, k->s, k->len);
    } else if (k->len < 4096) {
        p[0] = (unsigned char)(T_STR12 | (k->len >> 8));
        p[1] = (unsigned char)k->len;
        memcpy(p + 2, k->s, k->len);
    } else {
        p[0] = T_STR32;
        wr32(p + 1, (uint32_t)k->len);
        memcpy(p + 5, k->s, k->len);
    }
    /* backlen: most significant group first, high bit set on every byte
     * but the leftmost, so a reader from the right stops at bit 7 == 0. */
    size_t n = backlen_size(b);
    for (size_t i = 0; i < n; i++) {
        unsigned shift = (unsigned)(7 * (n - 1 - i));
        unsigned char d = (unsigned char)((b >> shift) & 0x7F);
        p[b + i] = (unsigned char)(i == 0 ? d : (d | 0x80));
    }
    return b + n;
}

void cache__lp_get(const unsigned char *lp, size_t pos, struct cache__lp_ent *e)
{
    const unsigned char *p = lp + pos;
    unsigned char t = p[0];

    e->s = NULL;
    e->len = 0;
    if (t <= T_UINT7_MAX) {
        e->v = t;
    } else if ((t & 0xC0) == T_STR6) {
        e->s = (const char *)p + 1;
        e->len = t & 0x3F;
    } else if ((t & 0xE0) == T_INT13) {
        uint16_t u = (uint16_t)(((t & 0x1F) << 8) | p[1]);
        e->v = (int16_t)(u << 3) >> 3;
    } else if ((t & 0xF0) == T_STR12) {
        e->s = (const char *)p + 2;
        e->len = ((size_t)(t & 0x0F) << 8) | p[1];
    } else if (t == T_STR32) {
        e->s = (const char *)p + 5;
        e->len = rd32(p + 1);
    } else {
        unsigned n = t == T_INT16 ? 2 : t == T_INT24 ? 3 : t == T_INT32 ? 4 : 8;
        e->v = get_int(p + 1, n);
    }
}

const char *cache__lp_ent_str(const struct cache__lp_ent *e,
                              char buf[CACHE__LP_INTBUF], size_t *len)
{
    if (e->s) {
        *len = e->len;
        return e->s;
    }
    *len = (size_t)cache__ll2string(buf, CACHE__LP_INTBUF, e->v);
    return buf;
}

size_t cache__lp_ent_strlen(const struct cache__lp_ent *e)
{
    char buf[CACHE__LP_INTBUF];
    size_t len;

    (void)cache__lp_ent_str(e, buf, &len);
    return len;
}

bool cache__lp_eq(const unsigned char *lp, size_t pos, const struct cache__lp_key *k)
{
    struct cache__lp_ent e;

    cache__lp_get(lp, pos, &e);
    if (e.s == NULL)
        return k->isint && k->v == e.v;
    return !k->isint && e.len == k->len && memcmp(e.s, k->s, e.len) == 0;
}

/* ---- walking ----------------------------------------------------------- */

size_t cache__lp_first(const unsigned char *lp)
{
    return cache__lp_bytes(lp) > CACHE__LP_HDR ? CACHE__LP_HDR : 0;
}

size_t cache__lp_next(const unsigned char *lp, size_t pos)
{
    size_t n = pos + cache__lp_entry_size(lp, pos);
    return n < cache__lp_bytes(lp) ? n : 0;
}

/* The body length stored in the backlen that ends just before `end`;
 * *blen gets the backlen's own size. */
static size_t read_backlen(const unsigned char *lp, size_t end, size_t *blen)
{
    size_t v = 0, n = 0;
    unsigned shift = 0;
    unsigned char d;

    do {
        d = lp[end - 1 - n];
        v |= (size_t)(d & 0x7F) << shift;
        shift += 7;
        n++;
    } while ((d & 0x80) && n < 5);
    *blen = n;
    return v;
}

size_t cache__lp_prev(const unsigned char *lp, size_t pos)
{
    size_t blen;

    if (pos <= CACHE__LP_HDR)
        return 0;
    size_t body = read_backlen(lp, pos, &blen);
    return pos - blen - body;
}

size_t cache__lp_last(const unsigned char *lp)
{
    size_t end = cache__lp_bytes(lp);
    return end > CACHE__LP_HDR ? cache__lp_prev(lp, end) : 0;
}

size_t cache__lp_seek(const unsigned char *lp, long long i)
{
    long long n = cache__lp_count(lp);
    size_t pos;

    if (i < 0)
        i += n;
    if (i < 0 || i >= n)
        return 0;
    if (i <= n / 2) {
        pos = cache__lp_first(lp);
        while (i-- > 0)
            pos = cache__lp_next(lp, pos);
    } else {
        pos = cache__lp_last(lp);
        for (long long j = n - 1; j > i; j--)
            pos = cache__lp_prev(lp, pos);
    }
    return pos;
}

size_t cache__lp_find(const unsigned char *lp, size_t pos,
                      const struct cache__lp_key *k, unsigned skip)
{
    while (pos != 0) {
        if (cache__lp_eq(lp, pos, k))
            return pos;
        for (unsigned j = 0; j <= skip && pos != 0; j++)
            pos = cache__lp_next(lp, pos);
    }
    return 0;
}

/* ---- in-place edits ---------------------------------------------------- */

size_t cache__lp_insert(unsigned char *lp, size_t pos, const struct cache__lp_key *k)
{
    size_t bytes = cache__lp_bytes(lp), need = cache__lp_encoded_size(k);

    assert(pos >= CACHE__LP_HDR && pos <= bytes);
    assert(bytes + need <= CACHE__LP_MAX);
    memmove(lp + pos + need, lp + pos, bytes - pos);
    encode(lp + pos, k);
    set_bytes(lp, bytes + need);
    set_count(lp, cache__lp_count(lp) + 1);
    return pos;
}

size_t cache__lp_replace(unsigned char *lp, size_t pos, const struct cache__lp_key *k)
{
    size_t bytes = cache__lp_bytes(lp);
    size_t old = cache__lp_entry_size(lp, pos), nw = cache__lp_encoded_size(k);

    if (nw != old)
        memmove(lp + pos + nw, lp + pos + old, bytes - pos - old);
    encode(lp + pos, k);
    set_bytes(lp, bytes - old + nw);
    return pos;
}

uint32_t cache__lp_delete(unsigned char *lp, size_t pos, uint32_t n)
{
    size_t bytes = cache__lp_bytes(lp), end = pos;
    uint32_t done = 0;

    while (done < n && end < bytes) {
        end += cache__lp_entry_size(lp, end);
        done++;
    }
    memmove(lp + pos, lp + end, bytes - end);
    set_bytes(lp, bytes - (end - pos));
    set_count(lp, cache__lp_count(lp) - done);
    return done;
}

/* ---- validation -------------------------------------------------------- */

/* Like body_at, but checks the tag and bounds; 0 when broken. */
static size_t body_checked(const unsigned char *p, size_t room)
{
    unsigned char t = p[0];
    size_t need;

    if (t <= T_UINT7_MAX || (t & 0xC0) == T_STR6 || (t & 0xE0) == T_INT13 ||
        t == T_INT16 || t == T_INT24 || t == T_INT32 || t == T_INT64) {
        need = body_at(p);
    } else if ((t & 0xF0) == T_STR12) {
        if (room < 2)
            return 0;
        need = body_at(p);
    } else if (t == T_STR32) {
        if (room < 5)
            return 0;
        need = 5 + (size_t)rd32(p + 1);
    } else {
        return 0;
    }
    return need <= room ? need : 0;
}

int cache__lp_validate(const unsigned char *lp, size_t bytes)
{
    size_t pos = CACHE__LP_HDR;
    uint32_t n = 0;

    if (bytes < CACHE__LP_HDR || cache__lp_bytes(lp) != bytes || bytes > CACHE__LP_MAX)
        return -1;
    while (pos < bytes) {
        size_t body = body_checked(lp + pos, bytes - pos);
        if (body == 0)
            return -1;
        size_t bl = backlen_size(body), blen;
        if (pos + body + bl > bytes)
            return -1;
        if (read_backlen(lp, pos + body + bl, &blen) != body || blen != bl)
            return -1;
        /* A string that reads as a canonical integer must have been
         * stored as one (the one-value-one-encoding rule). */
        struct cache__lp_ent e;
        cache__lp_get(lp, pos, &e);
        if (e.s) {
            struct cache__lp_key k;
            cache__lp_key_str(&k, e.s, e.len);
            if (k.isint)
                return -1;
        }
        pos += body + bl;
        n++;
    }
    return n == cache__lp_count(lp) ? 0 : -1;
}
