/*
 * Internal to the loader files (loader.c: the worker side; loader_pool.c:
 * the threads, the origin in use and the loads; loader_stats.c: counters
 * and INFO).
 */
#ifndef MMCACHE_LOADER_INT_H
#define MMCACHE_LOADER_INT_H

#include <stdatomic.h>
#include <stdint.h>

#include "loader.h"
#include "origin.h"
#include "singleflight.h"

/* The singleflight table of every load: created by srv_loader_init before
 * the workers start (thread creation publishes it), freed by
 * srv_loader_shutdown after they stopped. The table is thread safe. */
extern struct sf_table *loader_sf;

/*
 * Start the load of `call` (the caller leads it): take the origin that
 * cfg names and queue the load on the pool, which is created on first use.
 * On failure the call is completed at once with the reason, so its
 * waiters are answered either way. Context: a worker, in a request.
 */
void loader_start(struct sf_call *call, const struct cfg *cfg);

/* The outcome of a load that ran out of time (its deadline passed, or it
 * waited in the queue that long): answered "-ERR loader timeout", exactly
 * what a waiter's own timer answers, so a client sees one message for a
 * timeout whichever comes first. */
#define LOADER_TIMEOUT_MSG "timeout"
/* A failed load's text for its clients when the origin has no public one. */
#define LOADER_ORIGIN_FAILED "origin error"

/* Process-wide counters. Several threads add to each (atomic fetch_add,
 * relaxed: they are figures, nothing is ordered by them). */
struct loader_counters {
    _Atomic uint64_t started;        /* loads led (new singleflight calls) */
    _Atomic uint64_t joined;         /* misses that joined a load in flight */
    _Atomic uint64_t negative_hits;  /* misses answered by a remembered miss/error */
    _Atomic uint64_t rejected;       /* misses refused: loader-max-inflight */
    _Atomic uint64_t errors;         /* loads that ended in an error */
    _Atomic uint64_t timeouts;       /* clients answered "loader timeout" */
    _Atomic uint64_t origin_calls;   /* loads that reached the origin */
    _Atomic uint64_t cache_rechecks; /* loads answered by the cache on re-check */
    _Atomic uint64_t not_found;      /* loads the origin had no value for */
};
extern struct loader_counters loader_stats;
#define LOADER_COUNT(field) \
    atomic_fetch_add_explicit(&loader_stats.field, 1, memory_order_relaxed)

/* One origin call took `us` microseconds (latency histogram). */
void loader_record_latency(uint64_t us);

/* Figures of the pool for INFO. */
struct loader_pool_info {
    unsigned threads;       /* 0 until the first load created the pool */
    uint64_t inits;         /* times the pool was created (1 at most) */
    uint64_t pending;       /* loads queued or running */
    char origin[CFG_LOADER_ARGLEN + 16];   /* the origin last used, "" if none */
};
void loader_pool_info(struct loader_pool_info *out);

/* Wait for every load queued or running, then stop the threads. */
void loader_pool_shutdown(void);

#endif
