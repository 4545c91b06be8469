/*
 * Log-linear latency histogram (the idea of HdrHistogram, in a few lines).
 *
 * A value v < 2^P (P = LD_HIST_PBITS) has bucket v. A larger value with its
 * highest set bit at position e keeps its P bits below that one: the bucket
 * is identified by (e, those P bits), so each power-of-two range [2^e,
 * 2^(e+1)) has 2^P buckets of width 2^(e-P). Bucket order is value order,
 * which is what makes percentiles a prefix sum.
 *
 * Context: single-threaded per histogram; each client thread records into
 * its own and the main thread merges them after joining.
 */
#include <math.h>
#include <string.h>

#include "ld.h"

void ld_hist_init(struct ld_hist *h)
{
    memset(h, 0, sizeof(*h));
    h->min = UINT64_MAX;
}

size_t ld_hist_index(uint64_t v)
{
    unsigned e, shift;

    if (v < LD_HIST_SUB)
        return (size_t)v;
    e = 63u - (unsigned)__builtin_clzll(v);       /* e >= P */
    shift = e - LD_HIST_PBITS;
    /* (v >> shift) is in [2^P, 2^(P+1)): the leading 1 plus P bits */
    return (size_t)(shift + 1) * LD_HIST_SUB + (size_t)((v >> shift) - LD_HIST_SUB);
}

uint64_t ld_hist_bucket_low(size_t i)
{
    size_t shift;

    if (i < LD_HIST_SUB)
        return i;
    shift = i / LD_HIST_SUB - 1;
    return (uint64_t)(LD_HIST_SUB + i % LD_HIST_SUB) << shift;
}

uint64_t ld_hist_bucket_high(size_t i)
{
    size_t shift;

    if (i < LD_HIST_SUB)
        return i;
    shift = i / LD_HIST_SUB - 1;
    /* written so that the last bucket ends at UINT64_MAX without overflow */
    return ld_hist_bucket_low(i) + ((((uint64_t)1 << shift) - 1));
}

void ld_hist_record(struct ld_hist *h, uint64_t v)
{
    h->buckets[ld_hist_index(v)]++;
    h->count++;
    if (v < h->min)
        h->min = v;
    if (v > h->max)
        h->max = v;
}

void ld_hist_merge(struct ld_hist *dst, const struct ld_hist *src)
{
    if (src->count == 0)
        return;
    for (size_t i = 0; i < LD_HIST_NBUCKETS; i++)
        dst->buckets[i] += src->buckets[i];
    dst->count += src->count;
    if (src->min < dst->min)
        dst->min = src->min;
    if (src->max > dst->max)
        dst->max = src->max;
}

uint64_t ld_hist_percentile(const struct ld_hist *h, double pct)
{
    uint64_t rank, seen = 0;

    if (h->count == 0)
        return 0;
    if (pct <= 0)
        return h->min;
    if (pct >= 100)
        return h->max;
    /* the rank-th smallest value, 1-based; the epsilon keeps 50% of 10
     * values at rank 5 despite 0.5 * 10 being computed as 5.000000001 */
    rank = (uint64_t)ceil(pct / 100.0 * (double)h->count - 1e-9);
    if (rank < 1)
        rank = 1;
    for (size_t i = 0; i < LD_HIST_NBUCKETS; i++) {
        seen += h->buckets[i];
        if (seen >= rank) {
            uint64_t v = ld_hist_bucket_high(i);

            if (v > h->max)
                v = h->max;
            if (v < h->min)
                v = h->min;
            return v;
        }
    }
    return h->max;    /* not reached: the buckets sum to count */
}
