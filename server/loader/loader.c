/*
 * The loader, worker side: a GET that missed registers a wait on the key's
 * singleflight call, the connection pauses, and the answer comes back to
 * this worker's loop as an event (seed task 17).
 *
 * A wait ends exactly once, in one of three ways, all on the owning worker:
 *   - the load completed: the completer (a loader thread) pushed the wait on
 *     this worker's completion list and woke the loop (on_loaded);
 *   - its timer fired first and sf_leave took it out of the call
 *     (on_timeout: "-ERR loader timeout");
 *   - the connection closed first and sf_leave took it out
 *     (srv_loader_conn_closed).
 * When sf_leave comes too late (the completer already took the wait), the
 * completion is on its way through the list, and that path ends the wait;
 * a closed connection then just gets no reply (wait->c is NULL).
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "conn.h"
#include "inject.h"
#include "loader_int.h"
#include "srv.h"

struct sf_table *loader_sf;

/* One client waiting for one load. */
struct loader_wait {
    struct sf_waiter sf;            /* its links: guarded by the call's stripe lock */
    struct sf_call *call;           /* owned by: worker; the reference sf_join gave */
    struct srv_worker *w;           /* immutable */
    struct srv_conn *c;             /* owned by: worker; NULL once c closed */
    uv_timer_t timer;               /* owned by: worker */
    struct loader_wait *done_next;  /* guarded by: w->done_lock */
    uint32_t inject_mask;           /* owned by: worker; the GET's bug-lab selection */
};
_Static_assert(offsetof(struct loader_wait, sf) == 0, "on_call_done casts sf back");

int srv_loader_init(void)
{
    loader_sf = sf_create(&(struct sf_opts){ .nstripes = 64, .max_negative = 4096 });
    return loader_sf ? 0 : -ENOMEM;
}

void srv_loader_shutdown(void)
{
    loader_pool_shutdown();
    sf_destroy(loader_sf);
    loader_sf = NULL;
}

/* sf_waiter.done: runs on the completer's thread, under the call's stripe
 * lock. Only hands the wait to its worker. The wake is sent before
 * done_lock is released: once the worker has taken the wait from the list
 * (under done_lock), this thread no longer touches the worker, so a worker
 * whose last wait ended may close its handles and exit at once. */
static void on_call_done(struct sf_waiter *sw, struct sf_call *call)
{
    struct loader_wait *lw = (struct loader_wait *)sw;   /* sf is the first member */
    struct srv_worker *w = lw->w;
    (void)call;   /* lw->call is the same call, with the same reference */
    pthread_mutex_lock(&w->done_lock);
    lw->done_next = w->done_head;
    w->done_head = lw;
    uv_async_send(&w->loaded);
    pthread_mutex_unlock(&w->done_lock);
}

static void free_wait(uv_handle_t *h)
{
    free(h->data);
}

/* The wait is over: release everything it holds. */
static void wait_end(struct loader_wait *lw)
{
    uv_timer_stop(&lw->timer);
    sf_call_put(lw->call);
    lw->w->waits--;
    uv_close((uv_handle_t *)&lw->timer, free_wait);
}

/* BUG 25 (mutable value in a context): frames the GET reply in the loaded
 * value's own buffer, to send it in one piece without a copy - grows it,
 * moves the value behind "$<len>\r\n", puts "\r\n" after it, appends
 * the frame to the output - and then puts the value back where it was, as
 * if the buffer were this waiter's for that moment. It is the call's,
 * shared by every waiter of the load: one waiter alone always finds it
 * as it was (so one worker never shows the bug), but a waiter on another
 * worker that reads it meanwhile sends "$<len>\r\nkey:..." cut to <len>
 * bytes as the value, or reads a buffer the realloc moved. */
static void reply_framed_in_place(struct srv_conn *c, struct sf_call *call)
{
    size_t len;
    void **slot = sf_call_value_slot(call, &len);
    char hdr[32];
    int h = snprintf(hdr, sizeof(hdr), "$%zu\r\n", len);
    char *buf = realloc(*slot, (size_t)h + len + 2);
    if (!buf) {
        srv_reply_error(c, SRV_ERR_NOMEM);
        return;
    }
    *slot = buf;
    memmove(buf + h, buf, len);
    memcpy(buf, hdr, (size_t)h);
    memcpy(buf + h + len, "\r\n", 2);
    if (proto_add_raw(&c->out, buf, (size_t)h + len + 2) < 0)
        c->flags |= CONN_CLOSE_AFTER_REPLY;
    inject_window();                  /* amplifier: framed a while longer */
    memmove(buf, buf + h, len);       /* "ours again": put the value back */
}

/* Write the outcome of a finished call as a GET reply. */
static void reply_outcome(struct srv_conn *c, struct sf_call *call)
{
    size_t len;
    const void *v;
    switch (sf_call_status(call)) {
    case SF_VALUE:
        if (!INJECT(25)) {
            v = sf_call_value(call, &len);
            srv_reply_bulk(c, v, len);   /* a copy into this client's output */
        } else {
            reply_framed_in_place(c, call);   /* BUG 25: frames the shared buffer, see above */
        }
        break;
    case SF_NOTFOUND:
        srv_reply_null(c);
        break;
    default:
        if (strcmp(sf_call_error(call), LOADER_TIMEOUT_MSG) == 0) {
            LOADER_COUNT(timeouts);
            srv_reply_error(c, "ERR loader timeout");
        } else {
            srv_reply_errorf(c, "ERR loader: %s", sf_call_error(call));
        }
        break;
    }
}

/* The conn's GET was answered: run what it sent meanwhile. */
static void conn_continue(struct srv_conn *c)
{
    c->wait = NULL;
    c->flags &= ~CONN_WAITING;
    conn_resume(c);
}

/* uv_async: loads finished for waits of this worker. */
static void on_loaded(uv_async_t *h)
{
    struct srv_worker *w = h->data;
    pthread_mutex_lock(&w->done_lock);
    struct loader_wait *lw = w->done_head;
    w->done_head = NULL;
    pthread_mutex_unlock(&w->done_lock);
    w->now_ms = srv_now_ms();
    while (lw) {
        struct loader_wait *next = lw->done_next;
        struct srv_conn *c = lw->c;
        if (c) {
            inject_enter(lw->inject_mask);   /* answered under its GET's selection */
            reply_outcome(c, lw->call);
            conn_continue(c);
        }
        wait_end(lw);
        lw = next;
    }
}

static void on_timeout(uv_timer_t *t)
{
    struct loader_wait *lw = t->data;
    if (!sf_leave(loader_sf, lw->call, &lw->sf))
        return;   /* completed meanwhile: on_loaded answers it */
    LOADER_COUNT(timeouts);
    struct srv_conn *c = lw->c;
    if (c) {
        lw->w->now_ms = srv_now_ms();
        srv_reply_error(c, "ERR loader timeout");
        conn_continue(c);
    }
    wait_end(lw);
}

void srv_loader_conn_closed(struct srv_conn *c)
{
    struct loader_wait *lw = c->wait;
    if (!lw)
        return;
    c->wait = NULL;
    lw->c = NULL;
    if (sf_leave(loader_sf, lw->call, &lw->sf))
        wait_end(lw);
    /* else: the completion is queued for this worker and ends the wait */
}

void srv_loader_get(struct srv_conn *c, const char *key, size_t klen)
{
    const struct cfg *cfg = c->cfg;
    struct srv_worker *w = c->w;
    if (klen > LOADER_MAX_KEY) {
        srv_reply_null(c);
        return;
    }
    struct loader_wait *lw = calloc(1, sizeof(*lw));
    if (!lw) {
        srv_reply_error(c, SRV_ERR_NOMEM);
        return;
    }
    lw->w = w;
    lw->inject_mask = inject_mask();   /* this request's, set by srv_dispatch */
    lw->sf.done = on_call_done;
    struct sf_call *call = NULL;
    bool lead = false;
    switch (sf_join(loader_sf, key, klen, origin_now_ms(), cfg->loader_max_inflight,
                    &lw->sf, &call)) {
    case SF_NEGATIVE:
        LOADER_COUNT(negative_hits);
        reply_outcome(c, call);
        sf_call_put(call);
        free(lw);
        return;
    case SF_FULL:
        LOADER_COUNT(rejected);
        srv_reply_errorf(c, "ERR loader: too many keys loading (loader-max-inflight is %u)",
                         cfg->loader_max_inflight);
        free(lw);
        return;
    case SF_NOMEM:
        srv_reply_error(c, SRV_ERR_NOMEM);
        free(lw);
        return;
    case SF_JOINED:
        LOADER_COUNT(joined);
        break;
    case SF_LEAD:
        LOADER_COUNT(started);
        lead = true;
        break;
    }
    /* Registered: from here the wait ends through on_loaded, on_timeout
     * or srv_loader_conn_closed, all on this thread, so finishing the
     * set-up below cannot race with any of them. */
    lw->call = call;
    lw->c = c;
    c->wait = lw;
    c->flags |= CONN_WAITING;
    w->waits++;
    uv_timer_init(&w->loop, &lw->timer);
    lw->timer.data = lw;
    uv_timer_start(&lw->timer, on_timeout, cfg->loader_timeout_ms, 0);
    if (lead)   /* even a load that fails at once answers through on_loaded */
        loader_start(call, cfg);
}

int srv_loader_worker_init(struct srv_worker *w)
{
    pthread_mutex_init(&w->done_lock, NULL);
    w->done_head = NULL;
    w->waits = 0;
    int rc = uv_async_init(&w->loop, &w->loaded, on_loaded);
    w->loaded.data = w;
    return rc;
}

void srv_loader_worker_close(struct srv_worker *w)
{
    uv_close((uv_handle_t *)&w->loaded, NULL);
}

void srv_loader_worker_destroy(struct srv_worker *w)
{
    pthread_mutex_destroy(&w->done_lock);
}

void srv_loader_tick(struct srv_worker *w)
{
    unsigned n = sf_nstripes(loader_sf);
    unsigned first = n * w->id / srv.nworkers, last = n * (w->id + 1) / srv.nworkers;
    if (last > first)
        sf_sweep(loader_sf, first, last - first, origin_now_ms());
}
