/*
 * Log-linear latency histogram arithmetic (the idea of HdrHistogram, in a
 * few lines): see hist.h.
 *
 * A value v < 2^p has bucket v. A larger value with its highest set bit at
 * position e keeps its p bits below that one: the bucket is identified by
 * (e, those p bits), so each power-of-two range [2^e, 2^(e+1)) has 2^p
 * buckets of width 2^(e-p). hist_index itself is inline in hist.h (the
 * server counts every command's time with it).
 */
#include <math.h>

#include "hist.h"

uint64_t hist_bucket_low(unsigned p, size_t i)
{
    size_t sub = (size_t)1 << p, shift;

    if (i < sub)
        return i;
    shift = i / sub - 1;
    return (uint64_t)(sub + i % sub) << shift;
}

uint64_t hist_bucket_high(unsigned p, size_t i)
{
    size_t sub = (size_t)1 << p, shift;

    if (i < sub)
        return i;
    shift = i / sub - 1;
    /* written so that the last bucket ends at UINT64_MAX without overflow */
    return hist_bucket_low(p, i) + ((((uint64_t)1 << shift) - 1));
}

uint64_t hist_percentile(unsigned p, const uint64_t *buckets, size_t n, uint64_t count,
                         double pct)
{
    uint64_t rank, seen = 0;

    if (count == 0 || n == 0)
        return 0;
    /* the rank-th smallest value, 1-based; the epsilon keeps 50% of 10
     * values at rank 5 despite 0.5 * 10 being computed as 5.000000001 */
    if (pct >= 100)
        rank = count;
    else if (pct <= 0)
        rank = 1;
    else
        rank = (uint64_t)ceil(pct / 100.0 * (double)count - 1e-9);
    if (rank < 1)
        rank = 1;
    for (size_t i = 0; i < n; i++) {
        seen += buckets[i];
        if (seen >= rank)
            return hist_bucket_high(p, i);
    }
    return hist_bucket_high(p, n - 1);   /* the buckets held fewer than count */
}
