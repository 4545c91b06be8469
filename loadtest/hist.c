/*
 * mmcache-load's latency histogram: the project's one (hist/hist.h) with
 * its count, min and max, in plain fields.
 *
 * Context: single-threaded per histogram; each client thread records into
 * its own and the main thread merges them after joining.
 */
#include <string.h>

#include "ld.h"

void ld_hist_init(struct ld_hist *h)
{
    memset(h, 0, sizeof(*h));
    h->min = UINT64_MAX;
}

void ld_hist_record(struct ld_hist *h, uint64_t v)
{
    h->buckets[hist_index(LD_HIST_PBITS, v)]++;
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
    uint64_t v;

    if (h->count == 0)
        return 0;
    if (pct <= 0)
        return h->min;
    if (pct >= 100)
        return h->max;
    v = hist_percentile(LD_HIST_PBITS, h->buckets, LD_HIST_NBUCKETS, h->count, pct);
    if (v > h->max)
        v = h->max;
    if (v < h->min)
        v = h->min;
    return v;
}
