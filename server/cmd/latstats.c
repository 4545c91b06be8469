/*
 * INFO latencystats: per-command latency percentiles (Redis 7.0's
 * latency-tracking), in the project's histogram (hist.h).
 *
 * Each worker keeps one histogram per command it ran (struct
 * srv_lathist, allocated on its first call: a server that runs GET and SET
 * holds two per worker, not one per command of the table). The owner is
 * the only writer of its buckets (store of load+1, as SRV_STAT_ADD);
 * INFO on any worker sums the workers' buckets with relaxed loads into a
 * plain array and walks it. A call INFO catches halfway counts or not:
 * a percentile needs no more.
 *
 * CONFIG RESETSTAT cannot store into another worker's single-writer
 * buckets, nor keep a baseline of them (a copy of every histogram): it
 * bumps reset_gen instead. A worker that sees reset_gen move (on its next
 * recorded call) zeroes its own histograms, then publishes the generation
 * in w->lat_gen; until then INFO skips that worker's histograms, which
 * are the old period's. Redis shows no line for a command after a reset,
 * nor do we until it runs again.
 *
 * Context: srv__latstat_record on the calling worker; the rest on any
 * worker.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hist.h"
#include "srv.h"

/* Precision 6 (a bucket is within 1/64, 1.6%, of its values; Redis keeps
 * 2 significant digits) over ns up to 2^40 (18 minutes; a longer call
 * counts in the last bucket): 2240 buckets, 17.5 KiB a histogram. */
#define LAT_P 6
#define LAT_NB HIST_NBUCKETS(LAT_P, 40)

struct srv_lathist {
    _Atomic uint64_t b[LAT_NB];   /* atomic: relaxed; the owner worker writes (store of
                                     load+1, or 0 at a reset), INFO sums */
};

/* atomic: relaxed for the bump (CONFIG RESETSTAT's fetch_add) and the
 * owner's check; a worker's histograms are published for a generation by
 * the release store to w->lat_gen (see srv__latstat_record). */
static _Atomic uint64_t reset_gen;

#define LOAD(x) atomic_load_explicit(&(x), memory_order_relaxed)

int srv_latstats_worker_init(struct srv_worker *w)
{
    w->lat = calloc(srv_command_count, sizeof(*w->lat));
    return w->lat != NULL ? 0 : -ENOMEM;
}

void srv_latstats_worker_destroy(struct srv_worker *w)
{
    for (size_t i = 0; w->lat != NULL && i < srv_command_count; i++)
        free(atomic_load_explicit(&w->lat[i], memory_order_relaxed));
    free(w->lat);
}

/* A reset was asked for since this worker last looked: zero its own
 * histograms, then say so (release: pairs with the acquire in sum_cmd; a
 * reader that sees gen sees the zeros). */
static void __attribute__((noinline, cold)) reset_own(struct srv_worker *w, uint64_t gen)
{
    for (size_t i = 0; i < srv_command_count; i++) {
        struct srv_lathist *h = atomic_load_explicit(&w->lat[i], memory_order_relaxed);

        for (size_t k = 0; h != NULL && k < LAT_NB; k++)
            atomic_store_explicit(&h->b[k], 0, memory_order_relaxed);
    }
    atomic_store_explicit(&w->lat_gen, gen, memory_order_release);
}

void srv__latstat_record(struct srv_worker *w, const struct srv_command *cmd, uint64_t ns)
{
    uint64_t gen = atomic_load_explicit(&reset_gen, memory_order_relaxed);
    struct srv_lathist *h = atomic_load_explicit(&w->lat[cmd->id], memory_order_relaxed);

    if (__builtin_expect(gen != LOAD(w->lat_gen), 0))
        reset_own(w, gen);
    if (__builtin_expect(h == NULL, 0)) {
        h = calloc(1, sizeof(*h));
        if (h == NULL)
            return;   /* not tracked this time; the call itself went on */
        /* release: pairs with the acquire in sum_cmd (the zeroed buckets
         * are seen before the pointer) */
        atomic_store_explicit(&w->lat[cmd->id], h, memory_order_release);
    }
    SRV_STAT_ADD(h, b[hist_index_max(LAT_P, LAT_NB, ns)], 1);
}

/* Command i's buckets over every worker of the current period; their sum. */
static uint64_t sum_cmd(size_t i, uint64_t gen, uint64_t *sum)
{
    uint64_t total = 0;

    memset(sum, 0, LAT_NB * sizeof(*sum));
    for (unsigned w = 0; w < srv.nworkers; w++) {
        struct srv_worker *wk = &srv.workers[w];
        /* acquire: pairs with the release in reset_own / srv__latstat_record */
        if (atomic_load_explicit(&wk->lat_gen, memory_order_acquire) != gen)
            continue;   /* not reset yet: the old period's */
        struct srv_lathist *h = atomic_load_explicit(&wk->lat[i], memory_order_acquire);
        for (size_t k = 0; h != NULL && k < LAT_NB; k++) {
            uint64_t n = LOAD(h->b[k]);
            sum[k] += n;
            total += n;
        }
    }
    return total;
}

void srv_latstats_info(struct proto_buf *b, int *rc, const struct cfg *cfg)
{
    uint64_t *sum = malloc(LAT_NB * sizeof(*sum));
    uint64_t gen = atomic_load_explicit(&reset_gen, memory_order_relaxed);

    if (sum == NULL) {
        *rc = -ENOMEM;
        return;
    }
    srv__infof(b, rc, "# Latencystats\r\n");
    for (size_t i = 0; i < srv_command_count && *rc == 0; i++) {
        uint64_t total = sum_cmd(i, gen, sum);
        char line[512];
        size_t used;

        if (total == 0)
            continue;
        used = (size_t)snprintf(line, sizeof(line), "latency_percentiles_usec_%s:",
                                srv_command_table[i].fullname);
        for (unsigned k = 0; k < cfg->latency_pctl_n && used < sizeof(line); k++) {
            char pct[64];
            uint64_t ns = hist_percentile(LAT_P, sum, LAT_NB, total, cfg->latency_pctls[k]);

            cfg_pctl_format(cfg->latency_pctls[k], pct, sizeof(pct));
            used += (size_t)snprintf(line + used, sizeof(line) - used, "%sp%s=%.3f",
                                     k ? "," : "", pct, (double)ns / 1000.0);
        }
        srv__infof(b, rc, "%s\r\n", line);
    }
    free(sum);
}

void srv_latstats_resetstat(void)
{
    atomic_fetch_add_explicit(&reset_gen, 1, memory_order_relaxed);
}
