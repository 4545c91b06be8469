/*
 * le32.h: the 32-bit header fields of the compact blocks (listpack.c,
 * intset.c, zpack.c), read and written at any alignment: a block sits
 * inline in an item's value area, after the key, so a field is rarely
 * 4-byte aligned. Stored in host order; the hosts we build for are
 * little-endian, and no block leaves the process.
 */
#ifndef MMCACHE_LE32_H
#define MMCACHE_LE32_H

#include <stdint.h>
#include <string.h>

static inline uint32_t cache__rd32(const unsigned char *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

static inline void cache__wr32(unsigned char *p, uint32_t v)
{
    memcpy(p, &v, 4);
}

#endif
