/*
 * listpack.h: the compact encoding of small collections: a sequence of
 * strings and integers in one contiguous block, walkable both ways.
 *
 * Layout (all multi-byte numbers little-endian, read with memcpy: a
 * listpack may sit at any address, e.g. inside an item after its key):
 *
 *   [u32 bytes][u32 count] entry entry ...
 *   entry = [encoding + data][backlen]
 *
 * The first byte of an entry says what it holds:
 *   0xxxxxxx            uint 0..127, no data
 *   10llllll            string of 0..63 bytes
 *   110xxxxx x          int -4096..4095 (13-bit two's complement)
 *   1110llll l          string of 64..4095 bytes (12-bit length)
 *   0xF0 / F1 / F2 / F3 int16 / int24 / int32 / int64, 2/3/4/8 bytes
 *   0xF4 llll           string, 32-bit length
 * backlen is the byte length of [encoding + data], base 128, written so
 * that it reads right to left: the last byte carries the low 7 bits, a
 * set high bit says another byte follows to the left. Entries under 128
 * bytes pay one byte for it; it is what lets a list pop from its tail.
 *
 * A string is stored as an integer exactly when it is the canonical
 * decimal form of an int64 (cache__string2ll: no '+', no leading zero, no
 * "-0"), so one value has one encoding and comparing is exact: an entry
 * stored as a string never equals a canonical integer string.
 *
 * Positions are byte offsets from the start of the block (0 = none), so
 * they survive a realloc of the block. Nothing here allocates: an
 * operation that grows the block needs the caller to have made room first
 * (cache__lp_insert_need, cache__lp_replace_need), which is what lets a
 * listpack live inline in an item (t_hash.c) or in its own allocation (a
 * quicklist node) alike. A listpack is at most CACHE__LP_MAX bytes; the
 * types convert to their large encoding before that.
 *
 * Context: pure functions on caller-owned memory; the caller holds
 * whatever lock guards the block.
 */
#ifndef MMCACHE_LISTPACK_H
#define MMCACHE_LISTPACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CACHE__LP_HDR 8u                       /* bytes, count */
#define CACHE__LP_MAX (1u << 30)               /* as Redis's safety limit */
#define CACHE__LP_INTBUF 21                    /* room for "-9223372036854775808" */

/* A value to store or look for: a string, classified once. */
struct cache__lp_key {
    const char *s;
    size_t len;
    bool isint;        /* s is a canonical int64: stored as v */
    int64_t v;
};

/* An entry read back: an integer or a pointer into the block. */
struct cache__lp_ent {
    const char *s;     /* NULL for an integer */
    size_t len;
    int64_t v;
};

void cache__lp_key_str(struct cache__lp_key *k, const char *s, size_t len);
void cache__lp_key_int(struct cache__lp_key *k, int64_t v);

/* Writes an empty listpack into buf (CACHE__LP_HDR bytes). */
void cache__lp_init(unsigned char *buf);
size_t cache__lp_bytes(const unsigned char *lp);
uint32_t cache__lp_count(const unsigned char *lp);

size_t cache__lp_first(const unsigned char *lp);            /* 0 if empty */
size_t cache__lp_last(const unsigned char *lp);             /* 0 if empty */
size_t cache__lp_next(const unsigned char *lp, size_t pos); /* 0 at the end */
size_t cache__lp_prev(const unsigned char *lp, size_t pos); /* 0 at the start */
/* The entry at index i (negative: from the end, -1 the last); 0 if out of
 * range. Walks from the nearer end. */
size_t cache__lp_seek(const unsigned char *lp, long long i);

void cache__lp_get(const unsigned char *lp, size_t pos, struct cache__lp_ent *e);
/* The entry as bytes: an integer is formatted into buf. */
const char *cache__lp_ent_str(const struct cache__lp_ent *e, char buf[CACHE__LP_INTBUF],
                              size_t *len);
/* String length of the entry (an integer's decimal length). */
size_t cache__lp_ent_strlen(const struct cache__lp_ent *e);
bool cache__lp_eq(const unsigned char *lp, size_t pos, const struct cache__lp_key *k);
/* From pos on, compare every (skip+1)-th entry with k (skip 1: the fields
 * of a field,value listpack). The position found, or 0. */
size_t cache__lp_find(const unsigned char *lp, size_t pos,
                      const struct cache__lp_key *k, unsigned skip);

/* Bytes of the entry at pos, backlen included. */
size_t cache__lp_entry_size(const unsigned char *lp, size_t pos);
/* Bytes an entry holding k takes. */
size_t cache__lp_encoded_size(const struct cache__lp_key *k);

/* Growth in bytes that inserting k / replacing pos by k needs (may be
 * negative for a replace). */
size_t cache__lp_insert_need(const struct cache__lp_key *k);
long long cache__lp_replace_need(const unsigned char *lp, size_t pos,
                                 const struct cache__lp_key *k);

/* In place. insert: before the entry at pos (pos == bytes: append); the
 * block must have room for bytes + insert_need. Returns the new entry's
 * position. replace: same room rule (bytes + replace_need); returns pos.
 * delete: n entries from pos on (fewer if the end comes first); returns
 * how many. */
size_t cache__lp_insert(unsigned char *lp, size_t pos, const struct cache__lp_key *k);
size_t cache__lp_replace(unsigned char *lp, size_t pos, const struct cache__lp_key *k);
uint32_t cache__lp_delete(unsigned char *lp, size_t pos, uint32_t n);

/* Full structural check of a block of `bytes` bytes (tests, debug.c):
 * header, every entry's encoding, bounds and backlen, the count. 0 or -1. */
int cache__lp_validate(const unsigned char *lp, size_t bytes);

#endif
