/*
 * Worker threads: each runs its own libuv loop and owns the connections the
 * acceptor hands it through its SPSC ring. Nothing on the request path
 * takes a lock shared with other workers except the cache's shard locks.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conn.h"
#include "loader.h"
#include "ring.h"
#include "srv.h"
#include "worker.h"

#define WORKER_RING_CAP 4096
#define WORKER_TICK_MS 100
#define WORKER_DRAIN_MS 3000   /* shutdown: longest wait for slow readers */

extern _Thread_local char srv_log_role;

/* Once per loop pass, after the poll phase: one write per connection that
 * got replies in this pass (reply batching). */
static void on_check(uv_check_t *h)
{
    struct srv_worker *w = h->data;
    struct srv_conn *c = w->pending;
    w->pending = NULL;
    while (c) {
        struct srv_conn *next = c->pending_next;
        c->flags &= ~CONN_PENDING;
        conn_flush(c);
        c = next;
    }
}

static void worker_close_handles(struct srv_worker *w)
{
    uv_close((uv_handle_t *)&w->wake, NULL);
    uv_close((uv_handle_t *)&w->flush, NULL);
    uv_close((uv_handle_t *)&w->tick, NULL);
    srv_loader_worker_close(w);
}

/* Take every socket waiting in the ring. */
static void worker_adopt(struct srv_worker *w)
{
    int fd;
    while (srv_ring_pop(w->ring, &fd)) {
        if (conn_accept(w, fd) < 0) {
            srv_log(CFG_LOG_WARNING, "Error registering fd %d on worker %u", fd, w->id);
            close(fd);
            atomic_fetch_sub_explicit(&srv.nclients, 1, memory_order_relaxed);
        }
    }
}

static void worker_begin_drain(struct srv_worker *w)
{
    /* Sockets handed over just before the stop are clients too: adopt
     * them so that what they already sent is answered. */
    worker_adopt(w);
    /* conn_drain may close (and on_close unlink) only later, in the close
     * phase, so walking the list here is safe. */
    for (struct srv_conn *c = w->conns; c; c = c->next)
        conn_drain(c);
}

static void on_wake(uv_async_t *h)
{
    struct srv_worker *w = h->data;
    if (atomic_load_explicit(&w->stopping, memory_order_acquire)) {
        if (w->stopping == 1) {   /* first time we see it; owned transition */
            atomic_store_explicit(&w->stopping, 2, memory_order_relaxed);
            w->stop_ms = srv_now_ms();
            worker_begin_drain(w);
        }
        return;
    }
    worker_adopt(w);
}

static void worker_tick(struct srv_worker *w, const struct cfg *cfg);

static void on_tick(uv_timer_t *h)
{
    const struct cfg *cfg = cfg_read_lock();
    worker_tick(h->data, cfg);
    cfg_read_unlock(cfg);
}

static void worker_tick(struct srv_worker *w, const struct cfg *cfg)
{
    w->now_ms = srv_now_ms();

    if (atomic_load_explicit(&w->stopping, memory_order_acquire)) {
        /* Every connection drained and closed, and no load still owes this
         * worker a completion (a loader thread would wake a closed handle). */
        if (!w->conns && !w->waits) {
            worker_close_handles(w);
        } else if (w->stop_ms && w->now_ms - w->stop_ms > WORKER_DRAIN_MS) {
            /* Clients that do not read their replies must not hold the
             * shutdown hostage: after the bound, close what is left. */
            for (struct srv_conn *c = w->conns; c; c = c->next)
                conn_close(c);
        }
        return;
    }

    /* Active expiry: this worker's share of the shards, cfg->hz times a
     * second (the tick runs at 10 Hz; higher hz samples more per tick). */
    unsigned ns = cache_nshards(srv.cache);
    unsigned first = ns * w->id / srv.nworkers;
    unsigned last = ns * (w->id + 1) / srv.nworkers;
    if (last > first)
        cache_active_expire(srv.cache, first, last - first, 2 * cfg->hz, w->now_ms);
    srv_loader_tick(w);

    /* Idle timeout, checked once a second. */
    if (cfg->timeout && w->now_ms / 1000 != (w->now_ms - WORKER_TICK_MS) / 1000) {
        int64_t limit = (int64_t)cfg->timeout * 1000;
        for (struct srv_conn *c = w->conns; c; c = c->next) {
            if (c->flags & CONN_CLOSING)
                continue;
            if (w->now_ms - atomic_load_explicit(&c->last_ms, memory_order_relaxed) > limit) {
                srv_log(CFG_LOG_VERBOSE, "Closing idle client id=%llu",
                        (unsigned long long)c->id);
                conn_close(c);
            }
        }
    }
}

static void *worker_main(void *arg)
{
    struct srv_worker *w = arg;
    char name[16];
    snprintf(name, sizeof(name), "mmc-worker-%u", w->id);
    pthread_setname_np(pthread_self(), name);
    srv_log_role = 'W';
    cfg_thread_register();   /* this thread reads config snapshots */
    uv_run(&w->loop, UV_RUN_DEFAULT);
    uv_loop_close(&w->loop);
    cfg_thread_unregister();
    return NULL;
}

int srv_worker_init(struct srv_worker *w, unsigned id)
{
    memset(w, 0, sizeof(*w));
    w->id = id;
    w->ring = srv_ring_create(WORKER_RING_CAP);
    if (!w->ring)
        return -ENOMEM;
    pthread_mutex_init(&w->reg_lock, NULL);
    int rc = uv_loop_init(&w->loop);
    if (rc)
        return rc;
    /* Handles are set up here, on the main thread, before the worker
     * thread exists: pthread_create orders these writes before its reads. */
    uv_async_init(&w->loop, &w->wake, on_wake);
    w->wake.data = w;
    uv_check_init(&w->loop, &w->flush);
    w->flush.data = w;
    uv_check_start(&w->flush, on_check);
    uv_timer_init(&w->loop, &w->tick);
    w->tick.data = w;
    uv_timer_start(&w->tick, on_tick, WORKER_TICK_MS, WORKER_TICK_MS);
    if ((rc = srv_loader_worker_init(w)) != 0)
        return rc;
    /* libuv opens a spare descriptor (/dev/null) for each loop the first
     * time a stream is created on it. Left to a worker's first connection,
     * that open can take the slot the acceptor frees to shed a connection
     * on EMFILE, and the acceptor's own spare is then lost. Make libuv
     * take it now, before any connection. */
    uv_tcp_init(&w->loop, &w->prime);
    uv_close((uv_handle_t *)&w->prime, NULL);
    return 0;
}

int srv_worker_start(struct srv_worker *w)
{
    return -pthread_create(&w->thread, NULL, worker_main, w);
}

bool srv_worker_handoff(struct srv_worker *w, int fd)
{
    if (!srv_ring_push(w->ring, fd))
        return false;
    uv_async_send(&w->wake);
    return true;
}

void srv_worker_stop(struct srv_worker *w)
{
    /* release: pairs with the acquire loads in on_wake/on_tick */
    atomic_store_explicit(&w->stopping, 1, memory_order_release);
    uv_async_send(&w->wake);
}

void srv_worker_destroy(struct srv_worker *w)
{
    srv_ring_destroy(w->ring);
    pthread_mutex_destroy(&w->reg_lock);
    srv_loader_worker_destroy(w);
    free(w->scratch.data);
    free(w->scratch2.data);
}

void srv_stats_sum(struct srv_stats *out)
{
    memset(out, 0, sizeof(*out));
#define SUM(f) out->f += atomic_load_explicit(&s->f, memory_order_relaxed)
    for (unsigned i = 0; i < srv.nworkers; i++) {
        struct srv_stats *s = &srv.workers[i].stats;
        SUM(commands); SUM(hits); SUM(misses); SUM(conns_received);
        SUM(net_in); SUM(net_out); SUM(clients);
    }
#undef SUM
}

int srv_client_format(struct proto_buf *b, const struct srv_conn *c, int64_t now_ms, int self)
{
    char line[640];
    int64_t last = atomic_load_explicit(&c->last_ms, memory_order_relaxed);
    const char *cmd = atomic_load_explicit(&c->last_cmd, memory_order_relaxed);
    /* Buffer sizes are owned by c's worker: shown for the caller's own
     * connection only, 0 for the others (reading them would race). */
    size_t qbuf = self ? c->in_len - c->in_start : 0;
    size_t qfree = self ? c->in_cap - c->in_len : 0;
    size_t omem = self ? c->out.len - c->out_sent + c->wbuf.len : 0;
    int n = snprintf(line, sizeof(line),
        "id=%" PRIu64 " addr=%s laddr=%s fd=%d name=%s age=%" PRId64
        " idle=%" PRId64 " flags=N db=0 sub=0 psub=0 ssub=0 multi=-1 qbuf=%zu"
        " qbuf-free=%zu argv-mem=0 multi-mem=0 rbs=%zu rbp=0 obl=0 oll=0 omem=%zu"
        " tot-mem=0 events=r cmd=%s user=default redir=-1 resp=2 worker=%u\n",
        c->id, c->addr, c->laddr, c->fd, c->name ? c->name : "",
        (now_ms - c->ctime_ms) / 1000, (now_ms - last) / 1000, qbuf, qfree,
        self ? c->in_cap : 0, omem, cmd, c->w->id);
    return proto_buf_append(b, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
}

int srv_clients_list(struct proto_buf *b, int64_t now_ms)
{
    int rc = 0;
    for (unsigned i = 0; i < srv.nworkers && rc == 0; i++) {
        struct srv_worker *w = &srv.workers[i];
        pthread_mutex_lock(&w->reg_lock);
        for (struct srv_conn *c = w->conns; c && rc == 0; c = c->next)
            rc = srv_client_format(b, c, now_ms, 0);
        pthread_mutex_unlock(&w->reg_lock);
    }
    return rc;
}
