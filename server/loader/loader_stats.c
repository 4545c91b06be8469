/*
 * The loader's figures: counters, a latency histogram of origin calls, and
 * INFO's "# Loader" section.
 *
 * The histogram is the server's one for /metrics (metrics/timehist.h:
 * hist/'s buckets, 8 per power of two, of microseconds, and their sum).
 * Loader threads add to it with relaxed fetch_add; INFO sums it. A
 * percentile read while loads finish may mix counts from a moment apart,
 * which is fine for a figure.
 */
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "timehist.h"
#include "loader_int.h"
#include "srv.h"

struct loader_counters loader_stats;

#define HIST_N SRV_HIST_N
static _Atomic uint64_t hist[SRV_HIST_SLOTS];  /* atomic: relaxed; loader threads add, INFO reads */

/* CONFIG RESETSTAT: the counters' values at the reset, shown as 0 after.
 * Writers never reset (they are many); readers subtract, as info.c does. */
#define NCOUNTERS (sizeof(struct loader_counters) / sizeof(_Atomic uint64_t))
static pthread_mutex_t base_lock = PTHREAD_MUTEX_INITIALIZER;   /* lock order: leaf */
static uint64_t base[NCOUNTERS];       /* guarded by: base_lock */
static uint64_t hist_base[SRV_HIST_SLOTS];     /* guarded by: base_lock */

void loader_record_latency(uint64_t us)
{
    srv_hist_add(hist, us);
}

static void read_all(uint64_t *counters, uint64_t *h)
{
    _Atomic uint64_t *c = (_Atomic uint64_t *)&loader_stats;
    pthread_mutex_lock(&base_lock);
    for (size_t i = 0; i < NCOUNTERS; i++) {
        uint64_t v = atomic_load_explicit(&c[i], memory_order_relaxed);
        counters[i] = v >= base[i] ? v - base[i] : 0;
    }
    for (size_t i = 0; i < SRV_HIST_SLOTS; i++) {
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
    for (size_t i = 0; i < SRV_HIST_SLOTS; i++)
        hist_base[i] = atomic_load_explicit(&hist[i], memory_order_relaxed);
    pthread_mutex_unlock(&base_lock);
}

void srv_loader_info(struct proto_buf *b, int *rc, const struct cfg *cfg)
{
    uint64_t k[NCOUNTERS], h[SRV_HIST_SLOTS], total = 0;
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
        pi.pending, hist_percentile(SRV_HIST_P, h, HIST_N, total, 50),
        hist_percentile(SRV_HIST_P, h, HIST_N, total, 99));
#undef K
    if (*rc == 0 && proto_buf_append(b, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1))
        *rc = -1;
}

void srv_loader_figures(struct srv_loader_figures *f)
{
    uint64_t k[NCOUNTERS];

    read_all(k, f->hist);
#define K(field) k[offsetof(struct loader_counters, field) / sizeof(_Atomic uint64_t)]
    f->started = K(started);
    f->joined = K(joined);
    f->origin_calls = K(origin_calls);
    f->errors = K(errors);
    f->timeouts = K(timeouts);
#undef K
}
