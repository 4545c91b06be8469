/* Connection lifecycle (conn.c). Context: the owning worker thread only. */
#ifndef MMCACHE_CONN_H
#define MMCACHE_CONN_H

#include "srv.h"

/* A worker's read buffer (w->rbuf): the most one read takes in. */
#define CONN_RBUF_SIZE (16 * 1024)

/* Take ownership of an accepted socket: 0 or a negative errno (the caller
 * then still owns fd). */
int conn_accept(struct srv_worker *w, int fd);
/* Write pending replies (try-write first; libuv waits only if the kernel
 * is full). Closes the conn when it was asked to close after its replies.
 * (output.c) */
void conn_flush(struct srv_conn *c);
/* The output queue of a new conn / of one being freed (output.c). */
void conn_out_init(struct srv_conn *c);
void conn_out_free(struct srv_conn *c);
/* A paused conn (a GET waited for a load) may go on: run the commands it
 * sent meanwhile, then flush. */
void conn_resume(struct srv_conn *c);
/* Idempotent: the only way a connection is closed. */
void conn_close(struct srv_conn *c);
/* The same after handing the kernel what it takes now of the replies
 * not yet written (no waiting): for a peer that only half-closed, or a
 * killed client, so that a reply already made (a blocking pop's element)
 * is not dropped with the connection. (output.c) */
void conn_close_flushed(struct srv_conn *c);
/* Shutdown: answer what was already received, then close. */
void conn_drain(struct srv_conn *c);

#endif
