/*
 * The read-through loader: a GET that misses asks the configured origin
 * (docs/loader.md). However many clients miss one key at once, one load
 * runs (cache/singleflight.h) and every client gets its answer.
 *
 * Threads: the worker that owns a connection registers its wait and
 * answers it; loads run on a bounded pool of loader threads (origin calls
 * block, a worker's loop never does); a finished load hands each waiter to
 * its own worker through that worker's completion list and uv_async_send.
 * Pipelined commands behind a waiting GET wait too, so replies keep order.
 */
#ifndef MMCACHE_LOADER_H
#define MMCACHE_LOADER_H

#include <stddef.h>

#include "timehist.h"
#include "srv.h"

/* Longest key a miss loads (a longer one is a plain miss: nil). */
#define LOADER_MAX_KEY 1024

/* Context: main thread, before the workers start. 0 or -ENOMEM. */
int srv_loader_init(void);
/* Context: main thread, after every worker was joined and before the
 * cache is destroyed: cancels what is queued, waits for loads running
 * (each is bounded by its deadline), joins the threads, frees it all. */
void srv_loader_shutdown(void);

/* The `loader` spec changed (the config apply hook): drop the origin in
 * use, so the next load builds one from the new spec, stamped with the
 * new generation. Loads in flight keep theirs. Context: any thread. */
void srv_loader_spec_changed(void);

/* Per worker: the completion handle and list (srv_worker_init/destroy). */
int srv_loader_worker_init(struct srv_worker *w);
void srv_loader_worker_close(struct srv_worker *w);
void srv_loader_worker_destroy(struct srv_worker *w);

/*
 * Answer a GET of key that missed the cache, with the loader configured in
 * c->cfg (not none): from a remembered miss or error at once, or, usually,
 * later from the origin. In that case c waits (CONN_WAITING): nothing more
 * of its input is run until the answer is written. Context: c's worker,
 * inside srv_dispatch.
 */
void srv_loader_get(struct srv_conn *c, const char *key, size_t klen);

/* c is closing: give up its wait, if any. Context: c's worker. */
void srv_loader_conn_closed(struct srv_conn *c);

/* Periodic housekeeping (remembered misses that expired), for this
 * worker's share. Context: w's thread. */
void srv_loader_tick(struct srv_worker *w);

/* INFO's "# Loader" section, and CONFIG RESETSTAT for its counters. */
void srv_loader_info(struct proto_buf *b, int *rc, const struct cfg *cfg);
void srv_loader_resetstat(void);
/* The loader's counters and origin-call histogram (us), less CONFIG
 * RESETSTAT's baseline, for /metrics. Context: any thread. */
struct srv_loader_figures {
    uint64_t started, joined, origin_calls, errors, timeouts;
    uint64_t hist[SRV_HIST_SLOTS];
};
void srv_loader_figures(struct srv_loader_figures *f);

#endif
