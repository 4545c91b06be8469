/* Worker threads (worker.c). */
#ifndef MMCACHE_WORKER_H
#define MMCACHE_WORKER_H

#include <stdbool.h>

#include "srv.h"

/* Context: main thread, before srv_workers_start. */
int srv_worker_init(struct srv_worker *w, unsigned id);
/* Start a thread for each of srv.workers and wait (spinning: microseconds)
 * until every one runs. 0 or a negative errno (the threads created run).
 * Context: main thread, once, under the start-up bug selection (10, 12). */
int srv_workers_start(void);
/* Hand an accepted socket to w. false if its ring is full (fd not taken).
 * Context: the acceptor thread only (the ring's single producer). */
bool srv_worker_handoff(struct srv_worker *w, int fd);
/* Ask w to drain and exit. Context: the acceptor thread. */
void srv_worker_stop(struct srv_worker *w);
/* The stop handshake: wait (spinning) until every worker, told to stop,
 * has adopted the sockets left in its ring and stopped reading: one loop
 * pass each. Context: the acceptor, after srv_worker_stop for all, under
 * the selection of a current snapshot (bug 1). Blocks while a worker is
 * stuck (the watchdog names it). */
void srv_workers_wait_stop_seen(void);
/* How many worker threads have counted themselves in the start latch
 * (the stop guard's report). Context: any thread. */
unsigned srv_workers_started(void);
/* Context: after the worker thread was joined. */
void srv_worker_destroy(struct srv_worker *w);

#endif
