/*
 * intset.c: see intset.h.
 */
#include <assert.h>
#include <string.h>

#include "intset.h"

static inline uint32_t rd32(const unsigned char *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

static inline void wr32(unsigned char *p, uint32_t v)
{
    memcpy(p, &v, 4);
}

static inline uint32_t width_of(const unsigned char *is) { return rd32(is); }

uint32_t cache__is_count(const unsigned char *is) { return rd32(is + 4); }

size_t cache__is_bytes(const unsigned char *is)
{
    return CACHE__IS_HDR + (size_t)width_of(is) * cache__is_count(is);
}

void cache__is_init(unsigned char *buf)
{
    wr32(buf, 2);
    wr32(buf + 4, 0);
}

static uint32_t width_for(int64_t v)
{
    if (v >= INT16_MIN && v <= INT16_MAX)
        return 2;
    if (v >= INT32_MIN && v <= INT32_MAX)
        return 4;
    return 8;
}

static int64_t get_w(const unsigned char *is, uint32_t w, uint32_t i)
{
    const unsigned char *p = is + CACHE__IS_HDR + (size_t)i * w;
    int16_t a;
    int32_t b;
    int64_t c;

    switch (w) {
    case 2: memcpy(&a, p, 2); return a;
    case 4: memcpy(&b, p, 4); return b;
    default: memcpy(&c, p, 8); return c;
    }
}

static void set_w(unsigned char *is, uint32_t w, uint32_t i, int64_t v)
{
    unsigned char *p = is + CACHE__IS_HDR + (size_t)i * w;
    int16_t a = (int16_t)v;
    int32_t b = (int32_t)v;

    switch (w) {
    case 2: memcpy(p, &a, 2); break;
    case 4: memcpy(p, &b, 4); break;
    default: memcpy(p, &v, 8); break;
    }
}

int64_t cache__is_get(const unsigned char *is, uint32_t i)
{
    assert(i < cache__is_count(is));
    return get_w(is, width_of(is), i);
}

bool cache__is_find(const unsigned char *is, int64_t v, uint32_t *pos)
{
    uint32_t w = width_of(is), lo = 0, hi = cache__is_count(is);

    if (width_for(v) > w) {   /* wider than any member: out of range */
        *pos = v < 0 ? 0 : hi;
        return false;
    }
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        int64_t m = get_w(is, w, mid);
        if (m == v) {
            *pos = mid;
            return true;
        }
        if (m < v)
            lo = mid + 1;
        else
            hi = mid;
    }
    *pos = lo;
    return false;
}

size_t cache__is_add_need(const unsigned char *is, int64_t v)
{
    uint32_t pos, w = width_of(is), nw = width_for(v);

    if (cache__is_find(is, v, &pos))
        return cache__is_bytes(is);
    if (nw < w)
        nw = w;
    return CACHE__IS_HDR + (size_t)nw * (cache__is_count(is) + 1);
}

/* Widens every member to w (from the last, so nothing is overwritten
 * before it is read) leaving a hole at index `hole` for the new one. */
static void upgrade(unsigned char *is, uint32_t w, uint32_t hole)
{
    uint32_t ow = width_of(is), n = cache__is_count(is);

    for (uint32_t i = n; i-- > 0;)
        set_w(is, w, i >= hole ? i + 1 : i, get_w(is, ow, i));
    wr32(is, w);
}

bool cache__is_add(unsigned char *is, int64_t v)
{
    uint32_t pos, w = width_of(is), n = cache__is_count(is);

    if (cache__is_find(is, v, &pos))
        return false;
    if (width_for(v) > w) {
        /* v is below every member or above every member. */
        w = width_for(v);
        upgrade(is, w, pos);
    } else {
        unsigned char *p = is + CACHE__IS_HDR + (size_t)pos * w;
        memmove(p + w, p, (size_t)(n - pos) * w);
    }
    set_w(is, w, pos, v);
    wr32(is + 4, n + 1);
    return true;
}

bool cache__is_remove(unsigned char *is, int64_t v)
{
    uint32_t pos, w = width_of(is), n = cache__is_count(is);

    if (!cache__is_find(is, v, &pos))
        return false;
    unsigned char *p = is + CACHE__IS_HDR + (size_t)pos * w;
    memmove(p, p + w, (size_t)(n - pos - 1) * w);
    wr32(is + 4, n - 1);
    return true;
}

int cache__is_validate(const unsigned char *is, size_t bytes)
{
    if (bytes < CACHE__IS_HDR)
        return -1;
    uint32_t w = width_of(is), n = cache__is_count(is);
    if ((w != 2 && w != 4 && w != 8) || bytes != cache__is_bytes(is))
        return -1;
    for (uint32_t i = 1; i < n; i++)
        if (get_w(is, w, i - 1) >= get_w(is, w, i))
            return -1;
    return 0;
}
