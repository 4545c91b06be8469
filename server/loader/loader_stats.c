/*
 * The loader's figures: counters, a latency histogram of origin calls, and
 * INFO's "# Loader" section.
 *
 * The histogram is log-linear: 8 buckets per power of two of microseconds,
 * so a percentile is within 12.5% of the true value. Loader threads add to
 * it with relaxed fetch_add; INFO sums it. A percentile read while loads
 * finish may mix counts from a moment apart, which is fine for a figure.
 */
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "loader_int.h"
#include "srv.h"

struct loader_counters loader_stats;

#define HIST_SUB 8                     /* buckets per power of two */
#define HIST_POW 40                    /* up to 2^40 us, about 12 days */
#define HIST_N (HIST_SUB * HIST_POW)
static _Atomic uint64_t hist[HIST_N];  /* atomic: relaxed; loader threads add, INFO reads */

/* CONFIG RESETSTAT: the counters' values at the reset, shown as 0 after.
 * Writers never reset (they are many); readers subtract, as info.c does. */
#define NCOUNTERS (sizeof(struct loader_counters) / sizeof(_Atomic uint64_t))
static pthread_mutex_t base_lock = PTHREAD_MUTEX_INITIALIZER;   /* lock order: leaf */
static uint64_t base[NCOUNTERS];       /* guarded by: base_lock */
static uint64_t hist_base[HIST_N];     /* guarded by: base_lock */

static unsigned bucket_of(uint64_t us)
{
    if (us < HIST_SUB)
        return (unsigned)us;
    unsigned p = 63 - (unsigned)__builtin_clzll(us);      /* us in [2^p, 2^(p+1)) */
    unsigned sub = (unsigned)(us >> (p - 3)) & (HIST_SUB - 1);   /* next 3 bits */
    unsigned b = (p - 2) * HIST_SUB + sub;
    return b < HIST_N ? b : HIST_N - 1;
}

/* The largest value that falls in bucket b. */
static uint64_t bucket_top(unsigned b)
{
    if (b < HIST_SUB)
        return b;
    unsigned p = b / HIST_SUB + 2, sub = b % HIST_SUB;
    return ((uint64_t)(HIST_SUB + sub + 1) << (p - 3)) - 1;
}

void loader_record_latency(uint64_t us)
{
    atomic_fetch_add_explicit(&hist[bucket_of(us)], 1, memory_order_relaxed);
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

static uint64_t percentile(const uint64_t *h, uint64_t total, double q)
{
    if (total == 0)
        return 0;
    uint64_t want = (uint64_t)(q * (double)total + 0.5), seen = 0;
    if (want == 0)
        want = 1;
    for (unsigned b = 0; b < HIST_N; b++) {
        seen += h[b];
        if (seen >= want)
            return bucket_top(b);
    }
    return bucket_top(HIST_N - 1);
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
        pi.pending, percentile(h, total, 0.50), percentile(h, total, 0.99));
#undef K
    if (*rc == 0 && proto_buf_append(b, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1))
        *rc = -1;
}
