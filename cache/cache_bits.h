/*
 * cache_bits.h: the bitmap and LCS part of the cache's interface (cache.h
 * includes it; it is a file of its own only so that neither is long).
 */
#ifndef MMCACHE_CACHE_BITS_H
#define MMCACHE_CACHE_BITS_H

#include "cache.h"

/* ---- Bitmaps (bitops.c, bitmulti.c) and LCS (lcs.c) ---------------------
 * The bit commands on string values, bits numbered as Redis does (bit 0
 * is the top bit of byte 0). A missing key reads as an empty string, all
 * zero bits; a key of another type gives CACHE_E_WRONGTYPE and changes
 * nothing. A write past the end grows the string with zero bytes, the
 * new room checked against maxmemory before it is allocated (E_OOM). */

/* BITCOUNT's and BITPOS's range as the client gave it, resolved against
 * the string's length under its lock by Redis 7.0's rules. */
struct cache_bitrange {
    long long start, end;
    int given;        /* a start was given (else the whole string) */
    int end_given;    /* an end was given (BITCOUNT: with the start) */
    int bit;          /* BIT units, else BYTE */
};
/* GETBIT: *bit (0 past the end). OK / NOTFOUND (*bit 0) / WRONGTYPE. */
int cache_getbit(struct cache *c, const char *key, size_t klen, uint64_t offset,
                 int64_t now, int *bit);
/* SETBIT: *old = the bit before. OK, WRONGTYPE, E_OOM, E_NOMEM. */
int cache_setbit(struct cache *c, const char *key, size_t klen, uint64_t offset,
                 int on, int64_t now, int *old);
/* BITCOUNT: OK / NOTFOUND (*count 0) / WRONGTYPE. */
int cache_bitcount(struct cache *c, const char *key, size_t klen,
                   const struct cache_bitrange *r, int64_t now, uint64_t *count);
/* BITPOS: the first bit equal to `bit` in the range, or -1; looking for a
 * 0 with no end given, the bit past the range when all are 1 (the string
 * reads as zero-padded). OK / NOTFOUND (*pos: 0 looking for a 0, else -1)
 * / WRONGTYPE. */
int cache_bitpos(struct cache *c, const char *key, size_t klen, int bit,
                 const struct cache_bitrange *r, int64_t now, int64_t *pos);

/* BITOP op dst src...: dst becomes the result, as long as the longest
 * source (shorter ones and missing keys read as zero bytes), its TTL
 * dropped, whatever it held; an all-empty result deletes dst. One instant
 * of every key: all their shards locked together (docs/locking.md).
 * *len: the result's length; *hits and *misses: the sources found and missing.
 * OK / WRONGTYPE (a source of another type) / E_OOM / E_NOMEM. */
struct cache_str;
enum cache_bitop_kind { CACHE_BITOP_AND, CACHE_BITOP_OR, CACHE_BITOP_XOR, CACHE_BITOP_NOT };
int cache_bitop(struct cache *c, int op, const char *dst, size_t dlen,
                const struct cache_str *srcs, size_t n, int64_t now, size_t *len,
                uint64_t *hits, uint64_t *misses);

/* BITFIELD's operations, run in order under one lock. A field is `bits`
 * bits (signed 1..64, unsigned 1..63) at bit `offset`. */
enum cache_bf_kind { CACHE_BF_GET, CACHE_BF_SET, CACHE_BF_INCRBY };
enum cache_bf_overflow { CACHE_BF_WRAP, CACHE_BF_SAT, CACHE_BF_FAIL };
struct cache_bfop {
    uint64_t offset;
    int64_t value;     /* SET's value, INCRBY's increment */
    uint8_t kind;      /* enum cache_bf_kind */
    uint8_t ow;        /* enum cache_bf_overflow, for SET and INCRBY */
    uint8_t bits;
    uint8_t sign;      /* 1: signed (i), 0: unsigned (u) */
};
struct cache_bfres {
    int64_t v;         /* GET: the field; SET: the old value; INCRBY: the new */
    int nil;           /* an overflow that FAIL refused: nothing written */
};
/* With a SET or INCRBY among ops, the string is first grown to hold the
 * furthest field written (even when FAIL then refuses every write, as
 * Redis does); with GETs alone nothing is written. OK / WRONGTYPE / E_OOM
 * / E_NOMEM; *found: the key existed (a keyspace hit). */
int cache_bitfield(struct cache *c, const char *key, size_t klen,
                   const struct cache_bfop *ops, size_t n, int64_t now,
                   struct cache_bfres *res, int *found);

/* LCS a b: the longest common subsequence of two strings, looked up
 * together (both shards locked). */
struct cache_lcs_req {
    uint64_t max_table;     /* refuse (E_TOOBIG) when Redis's DP table,
                               (alen+1)*(blen+1)*4 bytes, would pass this */
    int want_str;           /* the subsequence itself */
    int want_idx;           /* its matching ranges */
    long long minmatchlen;  /* ranges shorter than this are left out */
};
struct cache_lcs_match {
    uint32_t a_start, a_end, b_start, b_end;   /* inclusive, as Redis */
};
struct cache_lcs_result {
    uint64_t len;                    /* the LCS's length */
    struct cache_val str;            /* want_str: the LCS */
    struct cache_lcs_match *m;       /* want_idx: ranges, from the strings' end */
    size_t nm;
    int found_a, found_b;            /* which keys existed (keyspace hits) */
};
/* A missing key is the empty string. OK / WRONGTYPE (either is not a
 * string) / E_TOOBIG / E_NOMEM. The caller frees str.data and m. */
int cache_lcs(struct cache *c, const char *a, size_t alen, const char *b,
              size_t blen, const struct cache_lcs_req *req, int64_t now,
              struct cache_lcs_result *res);

#endif
