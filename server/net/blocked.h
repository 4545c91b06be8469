/*
 * Blocked clients (blocked.c): a connection whose blocking pop found
 * nothing waits, paused (CONN_BLOCKED: it runs nothing more), on its own
 * worker. Its wait in the cache (struct cache_bpop) ends exactly once,
 * on that worker, in one of four ways:
 *
 *   - served: a push on any worker handed it elements and called
 *     srv_blocked_wake, which queues it on the owning worker's list and
 *     wakes that worker's loop (uv_async_send); the worker writes the
 *     reply and lets the connection go on;
 *   - timed out: its timer cancels the wait (a nil reply);
 *   - the connection closed (or was killed, or the server is shutting
 *     down): the wait is cancelled; if it was served meanwhile, the
 *     elements go back to their list (cache_bpop_take's give-back);
 *   - CLIENT UNBLOCK: like a timeout, or with an error.
 *
 * A cancel that loses to a serve just waits for the wake, which is on its
 * way. Ownership of a blocked connection never leaves its worker; the
 * only thing another thread touches is the wait's place on the worker's
 * list (under blk_lock). docs/locking.md, "Blocking pops".
 *
 * Context: the owning worker, except srv_blocked_wake (any thread, no
 * shard lock held: the cache calls it after unlocking).
 */
#ifndef MMCACHE_BLOCKED_H
#define MMCACHE_BLOCKED_H

#include "srv.h"

/* The reply a served or ended wait gets (commands.h's srv__reply_popped). */
enum srv_bpop_kind {
    SRV_BPOP_POP,    /* BLPOP, BRPOP: [key, element] */
    SRV_BPOP_MPOP,   /* BLMPOP: [key, [elements]] */
    SRV_BPOP_MOVE,   /* BLMOVE, BRPOPLPUSH: the element */
};

struct srv_blocked;

/* A wait record for c, made before cache_bpop (it is the wake's argument:
 * a push on another worker may serve the wait before cache_bpop returns).
 * NULL on ENOMEM. */
struct srv_blocked *srv_blocked_new(struct srv_conn *c, enum srv_bpop_kind kind);
/* cache_bpop did not block: the record is not needed. */
void srv_blocked_free(struct srv_blocked *b);
/* cache_bpop returned CACHE_BLOCKED with h: c waits until deadline_ms
 * (absolute, 0 = for ever). */
void srv_block(struct srv_blocked *b, struct cache_bpop *h, int64_t deadline_ms);
/* The cache's wake callback (struct cache_bpop_req.wake). */
void srv_blocked_wake(void *arg);
/* c is closing: end its wait, if any. */
void srv_blocked_conn_closed(struct srv_conn *c);

/* Posts op (SRV_CONN_*) for connection id to its worker w, which runs
 * it from its loop. 0 or -ENOMEM. Context: any worker (w->blk_lock is a
 * leaf: callers may hold a worker's reg_lock). */
int srv_conn_post(struct srv_worker *w, uint64_t id, int op);

/* Per worker: the wake handle and list (srv_worker_init/close/destroy). */
int srv_blocked_worker_init(struct srv_worker *w);
void srv_blocked_worker_close(struct srv_worker *w);
void srv_blocked_worker_destroy(struct srv_worker *w);

#endif
