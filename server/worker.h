/* Worker threads (worker.c). */
#ifndef MMCACHE_WORKER_H
#define MMCACHE_WORKER_H

#include <stdbool.h>

#include "srv.h"

/* Context: main thread, before srv_worker_start. */
int srv_worker_init(struct srv_worker *w, unsigned id);
int srv_worker_start(struct srv_worker *w);
/* Hand an accepted socket to w. false if its ring is full (fd not taken).
 * Context: the acceptor thread only (the ring's single producer). */
bool srv_worker_handoff(struct srv_worker *w, int fd);
/* Ask w to drain and exit. Context: the acceptor thread. */
void srv_worker_stop(struct srv_worker *w);
/* Context: after the worker thread was joined. */
void srv_worker_destroy(struct srv_worker *w);

#endif
