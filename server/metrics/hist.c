/*
 * The log-linear bucket arithmetic of hist.h (the idea of HdrHistogram):
 * values below 8 have a bucket each; from 2^p up, the next three bits
 * after the leading one pick one of 8 buckets.
 */
#include "hist.h"

unsigned srv_hist_bucket(uint64_t v)
{
    if (v < SRV_HIST_SUB)
        return (unsigned)v;
    unsigned p = 63 - (unsigned)__builtin_clzll(v);                 /* v in [2^p, 2^(p+1)) */
    unsigned sub = (unsigned)(v >> (p - 3)) & (SRV_HIST_SUB - 1);   /* next 3 bits */
    unsigned b = (p - 2) * SRV_HIST_SUB + sub;
    return b < SRV_HIST_N ? b : SRV_HIST_N - 1;
}

uint64_t srv_hist_top(unsigned b)
{
    if (b < SRV_HIST_SUB)
        return b;
    unsigned p = b / SRV_HIST_SUB + 2, sub = b % SRV_HIST_SUB;
    return ((uint64_t)(SRV_HIST_SUB + sub + 1) << (p - 3)) - 1;
}

uint64_t srv_hist_percentile(const uint64_t *h, uint64_t total, double q)
{
    if (total == 0)
        return 0;
    uint64_t want = (uint64_t)(q * (double)total + 0.5), seen = 0;
    if (want == 0)
        want = 1;
    for (unsigned b = 0; b < SRV_HIST_N; b++) {
        seen += h[b];
        if (seen >= want)
            return srv_hist_top(b);
    }
    return srv_hist_top(SRV_HIST_N - 1);
}
