/*
 * Blocked clients: see blocked.h for the four ways a wait ends. This file
 * is the worker's side; the wait lists and the hand-over of elements are
 * the cache's (cache/blocking/).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "blocked.h"
#include "commands.h"
#include "conn.h"

struct srv_blocked {
    struct cache_bpop *h;           /* owned by: worker; NULL once ended */
    struct srv_conn *c;             /* owned by: worker; NULL once c closed */
    struct srv_worker *w;           /* immutable */
    enum srv_bpop_kind kind;        /* immutable */
    bool timer_on;                  /* owned by: worker */
    uv_timer_t timer;               /* owned by: worker */
    struct srv_blocked *done_next;  /* guarded by: w->blk_lock */
};

struct srv_blocked *srv_blocked_new(struct srv_conn *c, enum srv_bpop_kind kind)
{
    struct srv_blocked *b = calloc(1, sizeof(*b));
    if (b) {
        b->c = c;
        b->w = c->w;
        b->kind = kind;
    }
    return b;
}

void srv_blocked_free(struct srv_blocked *b)
{
    free(b);
}

static void run_connreqs(struct srv_worker *w, struct srv_connreq *r);

static void free_on_close(uv_handle_t *h)
{
    free(h->data);
}

/* The wait is over: the record goes (with its timer, closed first). */
static void wait_end(struct srv_blocked *b)
{
    struct srv_worker *w = b->w;

    w->nblocked--;
    if (b->timer_on) {
        uv_timer_stop(&b->timer);
        uv_close((uv_handle_t *)&b->timer, free_on_close);
    } else {
        free(b);
    }
}

/* c may go on: it is no longer blocked; run what it sent meanwhile. */
static void conn_unblock(struct srv_conn *c, bool resume)
{
    c->blocked = NULL;
    c->flags &= ~CONN_BLOCKED;
    atomic_store_explicit(&c->is_blocked, false, memory_order_relaxed);
    SRV_STAT_ADD(&c->w->stats, blocked, -1);
    if (resume)
        conn_resume(c);
}

/* Writes c's reply from its wait's outcome, under a config snapshot as a
 * handler's (c->cfg); the output limit is the one of c's last batch
 * (c->obuf_limit), checked per reply as it is built. */
static void reply(struct srv_conn *c, enum srv_bpop_kind kind, int rc,
                  const struct cache_keys *out)
{
    const struct cfg *cfg = cfg_read_lock();
    c->cfg = cfg;
    srv__reply_popped(c, (int)kind, rc, out);
    c->cfg = NULL;
    cfg_read_unlock(cfg);
}

static void on_timeout(uv_timer_t *t)
{
    struct srv_blocked *b = t->data;

    if (cache_bpop_cancel(srv.cache, b->h) != CACHE_OK)
        return;   /* served meanwhile: the wake is coming, it answers */
    b->h = NULL;
    struct srv_conn *c = b->c;
    c->w->now_ms = srv_now_ms();
    reply(c, b->kind, CACHE_NOTFOUND, NULL);   /* the timeout's nil */
    conn_unblock(c, true);
    wait_end(b);
}

void srv_block(struct srv_blocked *b, struct cache_bpop *h, int64_t deadline_ms)
{
    struct srv_conn *c = b->c;
    struct srv_worker *w = c->w;

    b->h = h;
    c->blocked = b;
    c->flags |= CONN_BLOCKED;
    atomic_store_explicit(&c->is_blocked, true, memory_order_relaxed);
    SRV_STAT_ADD(&w->stats, blocked, 1);
    w->nblocked++;
    if (deadline_ms) {
        int64_t left = deadline_ms - srv_now_ms();
        uv_timer_init(&w->loop, &b->timer);
        b->timer.data = b;
        b->timer_on = true;
        uv_timer_start(&b->timer, on_timeout, left > 0 ? (uint64_t)left : 0, 0);
    }
}

/* Runs on the serving thread with no shard lock held. The wake is sent
 * before blk_lock is released: once the worker has taken the record
 * (under blk_lock), this thread no longer touches the worker, so a worker
 * whose last wait ended may close its handles and exit at once. */
void srv_blocked_wake(void *arg)
{
    struct srv_blocked *b = arg;
    struct srv_worker *w = b->w;

    pthread_mutex_lock(&w->blk_lock);
    b->done_next = w->blk_done;
    w->blk_done = b;
    uv_async_send(&w->unblocked);
    pthread_mutex_unlock(&w->blk_lock);
}

/* uv_async: waits of this worker were served. */
static void on_unblocked(uv_async_t *a)
{
    struct srv_worker *w = a->data;

    pthread_mutex_lock(&w->blk_lock);
    struct srv_blocked *b = w->blk_done;
    struct srv_connreq *reqs = w->creq;
    w->blk_done = NULL;
    w->creq = NULL;
    pthread_mutex_unlock(&w->blk_lock);
    w->now_ms = srv_now_ms();
    /* The list is newest first: answer in the order they were served. */
    struct srv_blocked *rev = NULL;
    while (b) {
        struct srv_blocked *next = b->done_next;
        b->done_next = rev;
        rev = b;
        b = next;
    }
    for (b = rev; b;) {
        struct srv_blocked *next = b->done_next;
        struct srv_conn *c = b->c;
        struct cache_keys out = {0};
        /* A client gone before its reply: what it was handed goes back. */
        int rc = cache_bpop_take(srv.cache, b->h, c == NULL, &out, w->now_ms);
        b->h = NULL;
        if (c) {
            reply(c, b->kind, rc, &out);
            conn_unblock(c, true);
        }
        cache_keys_free(&out);
        wait_end(b);
        b = next;
    }
    /* After the serves: an UNBLOCK that raced a serve finds it done. */
    run_connreqs(w, reqs);
    srv_monitor_drain(w);   /* the same async says MONITOR lines wait */
}

void srv_blocked_conn_closed(struct srv_conn *c)
{
    struct srv_blocked *b = c->blocked;

    if (!b)
        return;
    b->c = NULL;
    conn_unblock(c, false);
    if (cache_bpop_cancel(srv.cache, b->h) == CACHE_OK) {
        b->h = NULL;
        wait_end(b);
    }
    /* else: served meanwhile; on_unblocked gives the elements back */
}

/* CLIENT UNBLOCK: c's wait ends as a timeout (nil) or with the error;
 * nothing when it was served meanwhile (its reply is on its way). */
static void unblock(struct srv_conn *c, const char *error)
{
    struct srv_blocked *b = c->blocked;

    if (!b || cache_bpop_cancel(srv.cache, b->h) != CACHE_OK)
        return;
    b->h = NULL;
    if (error)
        srv_reply_error(c, error);
    else
        reply(c, b->kind, CACHE_NOTFOUND, NULL);
    conn_unblock(c, true);
    wait_end(b);
}

/* ---- requests from other workers about this worker's connections ---- */

struct srv_connreq {
    uint64_t id;                    /* immutable */
    int op;                         /* immutable: SRV_CONN_* */
    struct srv_connreq *next;       /* guarded by: w->blk_lock */
};

int srv_conn_post(struct srv_worker *w, uint64_t id, int op)
{
    struct srv_connreq *r = malloc(sizeof(*r));

    if (!r)
        return -ENOMEM;
    r->id = id;
    r->op = op;
    pthread_mutex_lock(&w->blk_lock);
    r->next = w->creq;
    w->creq = r;
    uv_async_send(&w->unblocked);
    pthread_mutex_unlock(&w->blk_lock);
    return 0;
}

/* Context: w's thread, the only writer of its client list (so it reads
 * the list without reg_lock). */
static void run_connreqs(struct srv_worker *w, struct srv_connreq *r)
{
    while (r) {
        struct srv_connreq *next = r->next;
        struct srv_conn *c = w->conns;
        while (c && c->id != r->id)
            c = c->next;
        if (c && !(c->flags & CONN_CLOSING)) {
            if (r->op == SRV_CONN_KILL)
                conn_close_flushed(c);   /* a reply already made still goes */
            else
                unblock(c, r->op == SRV_CONN_UNBLOCK_ERR
                               ? "UNBLOCKED client unblocked via CLIENT UNBLOCK" : NULL);
        }
        free(r);
        r = next;
    }
}

int srv_blocked_worker_init(struct srv_worker *w)
{
    pthread_mutex_init(&w->blk_lock, NULL);
    w->blk_done = NULL;
    w->creq = NULL;
    w->nblocked = 0;
    int rc = uv_async_init(&w->loop, &w->unblocked, on_unblocked);
    w->unblocked.data = w;
    return rc;
}

void srv_blocked_worker_close(struct srv_worker *w)
{
    uv_close((uv_handle_t *)&w->unblocked, NULL);
}

void srv_blocked_worker_destroy(struct srv_worker *w)
{
    run_connreqs(w, w->creq);   /* none left, normally: frees them */
    w->creq = NULL;
    pthread_mutex_destroy(&w->blk_lock);
}
