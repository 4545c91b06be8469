/*
 * The server's one latency histogram: log-linear, 8 buckets per power of
 * two, so a percentile is within 12.5% of the true value. Values are
 * plain integers in whatever unit the caller counts (the loader: us;
 * command times: ns). The loader's origin calls (loader_stats.c) and each
 * worker's command times (dispatch.c) count into one; INFO reads
 * percentiles of them, /metrics (metrics/expose.c) cumulative buckets.
 */
#ifndef MMCACHE_SRV_HIST_H
#define MMCACHE_SRV_HIST_H

#include <stdatomic.h>
#include <stdint.h>

#define SRV_HIST_SUB 8                          /* buckets per power of two */
#define SRV_HIST_POW 40                         /* up to 2^40 units */
#define SRV_HIST_N (SRV_HIST_SUB * SRV_HIST_POW)
/* A histogram is SRV_HIST_SLOTS counters: the SRV_HIST_N buckets, then
 * the sum of every value counted (Prometheus's _sum). */
#define SRV_HIST_SUM SRV_HIST_N
#define SRV_HIST_SLOTS (SRV_HIST_N + 1)

/* The bucket that v falls in; the largest value that falls in bucket b. */
unsigned srv_hist_bucket(uint64_t v);
uint64_t srv_hist_top(unsigned b);
/* The top of the bucket holding the q-th quantile of h's `total` counts
 * (0 when empty). Context: any; h is the caller's copy. */
uint64_t srv_hist_percentile(const uint64_t *h, uint64_t total, double q);

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
