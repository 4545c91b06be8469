/*
 * The Prometheus endpoint: with metrics-port set, the acceptor's loop
 * also listens there (on bind's address) and answers GET /metrics in the
 * text exposition format (expose.c builds it, http.c serves it).
 *
 * Why the acceptor's loop and not a thread of its own: a scrape comes
 * every few seconds and reads only what INFO reads (relaxed per-worker
 * counters, per-shard stats), so it costs the loop well under a
 * millisecond; the loop already holds an RCU registration (the config
 * snapshot), and nothing needs handing across threads. A slow or hostile
 * HTTP client cannot hold the loop: every read and write is non-blocking,
 * requests are capped in size and time, connections in number.
 */
#ifndef MMCACHE_SRV_METRICS_H
#define MMCACHE_SRV_METRICS_H

#include "srv.h"

/* Limits an HTTP client meets (http.c). */
#define SRV_METRICS_MAX_CONNS 16        /* beyond: accepted and closed at once */
#define SRV_METRICS_MAX_REQUEST 8192    /* bytes of request head: beyond, 431 */
#define SRV_METRICS_DEADLINE_MS 5000    /* accept to reply written, else closed */

/* Listen on cfg's bind address, metrics-port (nothing when it is 0).
 * 0 or -1 with err set. Context: main thread, with the acceptor's loop. */
int srv_metrics_init(uv_loop_t *loop, const struct cfg *cfg, char *err, size_t errlen);
/* Stop listening and close every HTTP connection (shutdown), so the loop
 * can end. Context: main thread (the acceptor's loop). */
void srv_metrics_close(void);

/* The exposition text (expose.c) appended to b. 0 or -ENOMEM.
 * Context: a thread registered with RCU, outside a read-side section. */
int srv_metrics_expose(struct proto_buf *b);

#endif
