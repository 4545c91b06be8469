/*
 * The server's time histograms that /metrics exports: the project's one
 * bucket arithmetic (hist/hist.h) at precision 3 (8 buckets per power of
 * two, a bucket within 12.5% of its values) over values up to 2^40 units,
 * plus one slot for the sum of every value counted (Prometheus's _sum,
 * which hist/ does not keep). Values are plain integers in whatever unit
 * the caller counts (the loader: us; command times: ns). The loader's
 * origin calls (loader_stats.c) and each worker's command times
 * (dispatch.c) count into one; INFO reads percentiles of them
 * (hist_percentile), /metrics (metrics/expose.c) cumulative buckets.
 */
#ifndef MMCACHE_SRV_TIMEHIST_H
#define MMCACHE_SRV_TIMEHIST_H

#include <stdatomic.h>
#include <stdint.h>

#include "hist.h"

#define SRV_HIST_P 3                                   /* hist/ precision */
#define SRV_HIST_N HIST_NBUCKETS(SRV_HIST_P, 40)       /* up to 2^40 units */
/* A histogram is SRV_HIST_SLOTS counters: the SRV_HIST_N buckets, then
 * the sum of every value counted (Prometheus's _sum). */
#define SRV_HIST_SUM SRV_HIST_N
#define SRV_HIST_SLOTS (SRV_HIST_N + 1)

static inline size_t srv_hist_bucket(uint64_t v)
{
    return hist_index_max(SRV_HIST_P, SRV_HIST_N, v);
}

/* Count v in h. Many writers (loader threads): a relaxed fetch_add. */
static inline void srv_hist_add(_Atomic uint64_t *h, uint64_t v)
{
    atomic_fetch_add_explicit(&h[srv_hist_bucket(v)], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&h[SRV_HIST_SUM], v, memory_order_relaxed);
}

/* Count v in h whose only writer is the caller (a worker's own): a store
 * of load+1, no locked RMW on the request path; readers load relaxed. */
static inline void srv_hist_add_owned(_Atomic uint64_t *h, uint64_t v)
{
    _Atomic uint64_t *slot = &h[srv_hist_bucket(v)];
    atomic_store_explicit(slot, atomic_load_explicit(slot, memory_order_relaxed) + 1,
                          memory_order_relaxed);
    atomic_store_explicit(&h[SRV_HIST_SUM],
                          atomic_load_explicit(&h[SRV_HIST_SUM], memory_order_relaxed) + v,
                          memory_order_relaxed);
}

#endif
