/*
 * The project's one latency histogram: log-linear, HDR-style bucket
 * arithmetic and the percentile walk, for whoever keeps the counts
 * (mmcache-load's per-thread histograms, the server's per-command
 * latencystats, the loader's origin calls). It owns no storage and no
 * threads: a caller keeps its buckets where its synchronisation rule
 * says (plain, or atomics it sums into a plain array before asking for a
 * percentile).
 *
 * Precision p: values below 2^p have a bucket each; above, each power of
 * two [2^e, 2^(e+1)) is split into 2^p equal buckets of width 2^(e-p), so
 * a bucket is at most 1/2^p of its values wide (p = 7: < 0.8%). Bucket
 * order is value order, which makes a percentile a prefix sum.
 *
 * Context: pure functions, any thread.
 */
#ifndef MMCACHE_HIST_H
#define MMCACHE_HIST_H

#include <stddef.h>
#include <stdint.h>

/* How many buckets hold every value below 2^bits at precision p
 * (p <= bits <= 64): 64 bits at p = 7 is 7424. */
#define HIST_NBUCKETS(p, bits) ((size_t)((bits) + 1u - (p)) << (p))

/* The bucket of v at precision p (0 < p < 64). A caller whose array ends
 * below 2^64 clamps: hist_index_max(). Inline: the server's request path
 * counts every command's time with it (twice, latencystats and /metrics).
 * A value v < 2^p has bucket v; a larger one with its highest set bit at
 * e keeps its p bits below that one (see hist.c). */
static inline size_t hist_index(unsigned p, uint64_t v)
{
    uint64_t sub = (uint64_t)1 << p;
    unsigned shift;

    if (v < sub)
        return (size_t)v;
    shift = 63u - (unsigned)__builtin_clzll(v) - p;   /* e - p, e >= p */
    /* (v >> shift) is in [2^p, 2^(p+1)): the leading 1 plus p bits */
    return (size_t)(shift + 1) * sub + (size_t)((v >> shift) - sub);
}
/* The same, but at most n - 1: the last of n buckets also holds every
 * larger value. */
static inline size_t hist_index_max(unsigned p, size_t n, uint64_t v)
{
    size_t i = hist_index(p, v);
    return i < n ? i : n - 1;
}
/* The lowest and the highest value that fall in bucket i at precision p. */
uint64_t hist_bucket_low(unsigned p, size_t i);
uint64_t hist_bucket_high(unsigned p, size_t i);
/* The value at percentile pct (0 < pct < 100) of n buckets holding count
 * values at precision p: the highest value of the bucket that holds the
 * ceil(pct% * count)-th smallest (at least the 1st). 0 when count is 0;
 * pct <= 0 is the 1st value's bucket, pct >= 100 the last one's. */
uint64_t hist_percentile(unsigned p, const uint64_t *buckets, size_t n, uint64_t count,
                         double pct);

#endif
