/*
 * cache_zset.h: the sorted set part of the cache's interface (cache.h
 * includes it; it is a file of its own only so that neither is long).
 */
#ifndef MMCACHE_CACHE_ZSET_H
#define MMCACHE_CACHE_ZSET_H

#include "cache.h"

/* ---- Sorted sets (zsetops.c, zsetrange.c, zsetmulti.c) ---------------------
 * As sets: each call is atomic (the commands on several keys lock all
 * their keys' shards at once, in index order); a missing key reads as the
 * empty sorted set; a key of another type gives CACHE_E_WRONGTYPE and
 * changes nothing; a sorted set whose last member goes is deleted. The
 * order is by score, then by the member's bytes. Results come back as
 * records: a member's bytes, then (where scores are asked for) its score
 * as a record of the 8 bytes of a double, which cache_keys_score reads. */

static inline double cache_keys_score(const char *rec)
{
    double d;
    memcpy(&d, rec, sizeof(d));
    return d;
}

/* ZADD: pairs of score and member, in order. Flags as Redis's options
 * (CH is the caller's: it counts added + updated). INCR: one pair; *r
 * gets the member's score after it (r->processed 0: NX, XX, GT or LT
 * left it alone). OK, WRONGTYPE, E_NAN (INCR made NaN: nothing changed),
 * E_OOM, E_TOOBIG, E_NOMEM (pairs before the failure stay). */
#define CACHE_ZADD_NX   0x01
#define CACHE_ZADD_XX   0x02
#define CACHE_ZADD_GT   0x04
#define CACHE_ZADD_LT   0x08
#define CACHE_ZADD_INCR 0x10
struct cache_zpair {
    double score;
    const char *m;
    size_t len;
};
struct cache_zadd_result {
    uint64_t added, updated, processed;
    double score;                   /* INCR: the score now */
};
int cache_zadd(struct cache *c, const char *key, size_t klen, const struct cache_zpair *p,
               size_t n, int flags, int64_t now, struct cache_zadd_result *r);
/* ZREM: *removed. OK / WRONGTYPE. */
int cache_zrem(struct cache *c, const char *key, size_t klen, const struct cache_str *members,
               size_t n, int64_t now, uint64_t *removed);
/* ZSCORE: OK, NOTFOUND (no key), NOELEM (not a member), WRONGTYPE. */
int cache_zscore(struct cache *c, const char *key, size_t klen, const char *m, size_t mlen,
                 int64_t now, double *score);
/* ZMSCORE: found[i] says whether members[i] is one, scores[i] its score.
 * OK / NOTFOUND (none found) / WRONGTYPE. */
int cache_zmscore(struct cache *c, const char *key, size_t klen, const struct cache_str *members,
                  size_t n, int64_t now, double *scores, unsigned char *found);
/* ZCARD is cache_card(c, CACHE_TYPE_ZSET, ...) (cache.h). */
/* ZRANK / ZREVRANK (rev): OK, NOTFOUND, NOELEM, WRONGTYPE. */
int cache_zrank(struct cache *c, const char *key, size_t klen, const char *m, size_t mlen,
                int rev, int64_t now, uint64_t *rank);

/* Ranges: by rank (indexes, negative from the end), by score (Redis's
 * "(" ends exclusive) or by member bytes (ZRANGEBYLEX's "[a" "(a" "-" "+";
 * meaningful when all scores are equal, as in Redis). */
struct cache_zscore_range {
    double min, max;
    int minex, maxex;
};
enum { CACHE_ZLEX_INCL, CACHE_ZLEX_EXCL, CACHE_ZLEX_MINUS, CACHE_ZLEX_PLUS };
struct cache_zlex_bound {
    const char *s;                  /* INCL, EXCL: the bytes */
    size_t len;
    int kind;
};
struct cache_zlex_range {
    struct cache_zlex_bound min, max;
};
enum { CACHE_ZBY_RANK, CACHE_ZBY_SCORE, CACHE_ZBY_LEX };
struct cache_zrange {
    int by;                         /* CACHE_ZBY_* */
    int rev;                        /* from the highest */
    long long start, end;           /* RANK */
    struct cache_zscore_range score;   /* SCORE */
    struct cache_zlex_range lex;    /* LEX */
    long long offset, limit;        /* SCORE, LEX: LIMIT; limit < 0: none */
    int withscores;
};
/* ZRANGE and its forms: member (and score) records in the range's order;
 * *total is how many members the range has (after LIMIT); they are
 * copied until max_bytes of them (the caller's output limit), so fewer
 * records than total say the copy was cut. OK / NOTFOUND / WRONGTYPE. */
int cache_zrange(struct cache *c, const char *key, size_t klen, const struct cache_zrange *r,
                 size_t max_bytes, int64_t now, struct cache_keys *out, uint64_t *total);
/* ZRANGESTORE: dst becomes the range of src (any type it held, its TTL
 * dropped), or is deleted when the range is empty; *card its size. OK,
 * WRONGTYPE (src), E_OOM, E_TOOBIG, E_NOMEM. */
int cache_zrangestore(struct cache *c, const char *dst, size_t dlen, const char *src,
                      size_t slen, const struct cache_zrange *r, int64_t now, uint64_t *card);
/* ZCOUNT (by score) / ZLEXCOUNT (by lex; r->by says which). */
int cache_zcount(struct cache *c, const char *key, size_t klen, const struct cache_zrange *r,
                 int64_t now, uint64_t *count);
/* ZREMRANGEBYRANK / BYSCORE / BYLEX: *removed. OK / NOTFOUND / WRONGTYPE. */
int cache_zremrange(struct cache *c, const char *key, size_t klen, const struct cache_zrange *r,
                    int64_t now, uint64_t *removed);

/* ZPOPMIN / ZPOPMAX: up to count members from that end, member and score
 * records. OK / NOTFOUND / WRONGTYPE. (ZMPOP and the blocking pops go
 * through cache_bpop.) */
#define CACHE_ZMIN 0
#define CACHE_ZMAX 1
int cache_zpop(struct cache *c, const char *key, size_t klen, int where, uint64_t count,
               int64_t now, struct cache_keys *out);
/* ZRANDMEMBER key count [WITHSCORES]: as SRANDMEMBER (member records,
 * each followed by its score record with withscores; a negative count
 * past the set's size copies the whole set and says *sample). */
int cache_zrandmember(struct cache *c, const char *key, size_t klen, long long count,
                      int withscores, int64_t now, struct cache_keys *out, int *sample);
/* ZSCAN: member and score records, as HSCAN (a listpack set whole). */
int cache_zscan(struct cache *c, const char *key, size_t klen, uint64_t cursor, size_t count,
                int64_t now, struct cache_keys *out, uint64_t *next);

/* ZUNION, ZINTER, ZDIFF, their STORE forms and ZINTERCARD, over sorted
 * sets and sets (a set's members score 1), every key's shard locked for
 * all of it. Sources are looked up in order, the first of another type
 * ends the call with WRONGTYPE (types_only: nothing else is done, for the
 * caller's own argument errors, which Redis reports after that check). */
enum { CACHE_ZUNION, CACHE_ZINTER, CACHE_ZDIFF };
enum { CACHE_ZAGG_SUM, CACHE_ZAGG_MIN, CACHE_ZAGG_MAX };
struct cache_zsetop {
    int op;
    const struct cache_str *keys;
    size_t nkeys;                   /* >= 1 */
    const double *weights;          /* NULL: all 1 */
    int aggregate;                  /* CACHE_ZAGG_* */
    const char *dst;                /* STORE: the destination; else NULL */
    size_t dlen;
    int card_only;                  /* ZINTERCARD */
    uint64_t limit;                 /* ZINTERCARD LIMIT; 0 none */
    int types_only;
    size_t max_bytes;               /* the result's records copied at most */
};
struct cache_zsetop_result {
    struct cache_keys recs;         /* member and score records, in order */
    uint64_t card;                  /* the result's size (STORE: dst's) */
    uint64_t hits, misses;          /* sources looked up, found / missing */
};
int cache_zsetop(struct cache *c, const struct cache_zsetop *op, int64_t now,
                 struct cache_zsetop_result *res);

#endif
