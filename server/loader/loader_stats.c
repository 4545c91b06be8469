/*
 * The loader's figures: counters, a latency histogram of origin calls, and
 * INFO's "# Loader" section.
 *
 * The histogram (hist.h) has 8 buckets per power of two of microseconds,
 * so a percentile is within 12.5% of the true value. Loader threads add to
 * it with relaxed fetch_add; INFO sums it. A percentile read while loads
 * finish may mix counts from a moment apart, which is fine for a figure.
 */
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "hist.h"
#include "loader_int.h"
#include "srv.h"

struct loader_counters loader_stats;

/* The project's histogram (hist.h) at precision 3: 8 buckets per power of
 * two of microseconds, up to 2^40 us (about 12 days; longer calls count in
 * the last bucket). */
#define HIST_P 3
#define HIST_N HIST_NBUCKETS(HIST_P, 40)
static _Atomic uint64_t hist[HIST_N];  /* atomic: relaxed; loader threads add, INFO reads */

/* CONFIG RESETSTAT: the counters' values at the reset, shown as 0 after.
 * Writers never reset (they are many); readers subtract, as info.c does. */
#define NCOUNTERS (sizeof(struct loader_counters) / sizeof(_Atomic uint64_t))
static pthread_mutex_t base_lock = PTHREAD_MUTEX_INITIALIZER;   /* lock order: leaf */
static uint64_t base[NCOUNTERS];       /* guarded by: base_lock */
static uint64_t hist_base[HIST_N];     /* guarded by: base_lock */

void loader_record_latency(uint64_t us)
{
    atomic_fetch_add_explicit(&hist[hist_index_max(HIST_P, HIST_N, us)], 1, memory_order_relaxed);
}

static void read_all(uint64_t *counters, uint64_t *h)
{
    _Atomic uint64_t *c = (_Atomic uint64_t *)&loader_stats;
    pthread_mutex_lock(&base_lock);
    for (size_t i = 0; i < NCOUNTERS; i++) {
        uint64_t v = atomic_load_explicit(&c[i], memory_order_relaxed);
        counters[i] = v >= base[i] ? v - base[i] : 0;
    }
    for (size_t i = 0; i < HIST_N; i++) {
        uint64_t v = atomic_load_explicit(&hist[i], memory_order_relaxed);
        h[i] = v >= hist_base[i] ? v - hist_base[i] : 0;
    }
    pthread_mutex_unlock(&base_lock);
}

void srv_loader_resetstat(void)
{
    _Atomic uint64_t *c = (_Atomic uint64_t *)&loader_stats;
    pthread_mutex_lock(&base_lock);
    for (size_t i = 0; i < NCOUNTERS; i++)
        base[i] = atomic_load_explicit(&c[i], memory_order_relaxed);
    for (size_t i = 0; i < HIST_N; i++)
        hist_base[i] = atomic_load_explicit(&hist[i], memory_order_relaxed);
    pthread_mutex_unlock(&base_lock);
}

void srv_loader_info(struct proto_buf *b, int *rc, const struct cfg *cfg)
{
    uint64_t k[NCOUNTERS], h[HIST_N], total = 0;
    struct loader_pool_info pi;
    struct sf_stats sf;
    char line[2 * CFG_VALUE_MAX + 512], spec[CFG_VALUE_MAX];
    read_all(k, h);
    cfg_loader_spec(cfg, spec, sizeof(spec));
    for (size_t i = 0; i < HIST_N; i++)
        total += h[i];
    loader_pool_info(&pi);
    sf_stats(loader_sf, &sf);
#define K(field) k[offsetof(struct loader_counters, field) / sizeof(_Atomic uint64_t)]
    int n = snprintf(line, sizeof(line),
        "# Loader\r\n"
        "loader_origin:%s\r\n"
        "loader_origin_in_use:%s\r\n"
        "loader_threads:%u\r\n"
        "loader_pool_inits:%" PRIu64 "\r\n"
        "loader_loads_started:%" PRIu64 "\r\n"
        "loader_loads_joined:%" PRIu64 "\r\n"
        "loader_origin_calls:%" PRIu64 "\r\n"
        "loader_cache_rechecks:%" PRIu64 "\r\n"
        "loader_not_found:%" PRIu64 "\r\n"
        "loader_errors:%" PRIu64 "\r\n"
        "loader_timeouts:%" PRIu64 "\r\n"
        "loader_rejected:%" PRIu64 "\r\n"
        "loader_negative_hits:%" PRIu64 "\r\n"
        "loader_negative_entries:%" PRIu64 "\r\n"
        "loader_inflight:%" PRIu64 "\r\n"
        "loader_queued_or_running:%" PRIu64 "\r\n"
        "loader_latency_p50_usec:%" PRIu64 "\r\n"
        "loader_latency_p99_usec:%" PRIu64 "\r\n",
        spec,
        pi.origin[0] ? pi.origin : "none", pi.threads, pi.inits,
        K(started), K(joined), K(origin_calls), K(cache_rechecks), K(not_found),
        K(errors), K(timeouts), K(rejected), K(negative_hits), sf.negative, sf.loading,
        pi.pending, hist_percentile(HIST_P, h, HIST_N, total, 50),
        hist_percentile(HIST_P, h, HIST_N, total, 99));
#undef K
    if (*rc == 0 && proto_buf_append(b, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1))
        *rc = -1;
}
