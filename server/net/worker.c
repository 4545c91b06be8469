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
#include <sched.h>      /* sched_yield, where spin_relax has no asm */
#include <sys/syscall.h>
#include <unistd.h>

#include "acl.h"
#include "blocked.h"
#include "conn.h"
#include "timehist.h"
#include "inject.h"
#include "loader.h"
#include "ring.h"
#include "srv.h"
#include "worker.h"

#define WORKER_RING_CAP 4096
#define WORKER_TICK_MS 100
#define WORKER_IDLE_SHRINK_MS 2000   /* idle this long: the reply buffer is freed */
#define WORKER_DRAIN_MS 3000   /* shutdown: longest wait for slow readers */
#define WORKER_STOP_SEEN_MS 5000   /* shutdown: longest wait for a worker to see the stop */

/* One turn of a spin-wait: a pause, and every 64 turns the CPU to another
 * thread (the one we wait for may need it: 2 cores, busy workers). Both
 * are asm that touches no memory, which is true of pause and of
 * sched_yield: so the compiler sees the loop body as it is and may hoist a
 * plain load out of the loop condition (bugs 1 and 12 show what that
 * does), where an atomic load is re-read every turn. sched_yield() through
 * libc would be an opaque call, after which every plain load is redone. */
static inline void spin_relax(unsigned *turns)
{
#if defined(__x86_64__)
    __asm__ __volatile__("pause" :::);
    if ((++*turns & 63) == 0) {
        long r;
        __asm__ __volatile__("syscall" : "=a"(r) : "0"((long)SYS_sched_yield) : "rcx", "r11");
        (void)r;
    }
#else
    if ((++*turns & 63) == 0)
        sched_yield();   /* a call: here bugs 1 and 12 only show under TSan */
#endif
}

/* The start latch (srv_workers_start): worker threads that have read their
 * start argument and are about to run their loop. atomic: release by each
 * worker thread, acquire by the main thread's wait. */
static _Atomic unsigned workers_started;
/* The main thread's start-up bug selection, which worker threads work under
 * outside requests until their first tick. Immutable once srv_workers_start
 * created the first thread (pthread_create orders the write before the
 * threads' reads). */
static uint32_t workers_start_mask;

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
    srv_blocked_worker_close(w);
}

/* conn_accept fails when memory or descriptors run out: any rate. */
static struct srv_log_throttle adopt_errors;

/* Take every socket waiting in the ring. */
static void worker_adopt(struct srv_worker *w)
{
    int fd;
    while (srv_ring_pop(w->ring, &fd)) {
        if (conn_accept(w, fd) < 0) {
            srv_log_throttled(&adopt_errors, CFG_LOG_WARNING,
                              "Error registering fd %d on worker %u", fd, w->id);
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

/* The first time this worker sees the stop (from on_wake, or from the tick
 * when the tick runs first): adopt the ring, start draining, and say so to
 * the acceptor's stop handshake. Context: the worker, after an acquire load
 * of w->stopping saw it non-zero. */
static void worker_see_stop(struct srv_worker *w)
{
    if (atomic_load_explicit(&w->stopping, memory_order_relaxed) != 1)
        return;   /* seen before: 2 is our own (owned) transition */
    atomic_store_explicit(&w->stopping, 2, memory_order_relaxed);
    w->stop_ms = srv_mono_ms();
    worker_begin_drain(w);
    /* Bug 1's plain copy is stored on both paths (one store, at shutdown):
     * only the acceptor's selection then decides whether the handshake
     * polls it, so a live switch cannot make the two sides disagree. */
    w->stop_seen_plain = true;
    /* release: pairs with the acquire in srv_workers_wait_stop_seen */
    atomic_store_explicit(&w->stop_seen, true, memory_order_release);
}

static void on_wake(uv_async_t *h)
{
    struct srv_worker *w = h->data;
    if (atomic_load_explicit(&w->stopping, memory_order_acquire)) {
        worker_see_stop(w);
        return;
    }
    worker_adopt(w);
}

static void worker_tick(struct srv_worker *w, const struct cfg *cfg);

static void on_tick(uv_timer_t *h)
{
    struct srv_worker *w = h->data;
    /* The watchdog's evidence that this loop turns (single writer). */
    atomic_store_explicit(&w->heartbeat,
        atomic_load_explicit(&w->heartbeat, memory_order_relaxed) + 1, memory_order_relaxed);
    const struct cfg *cfg = cfg_read_lock();
    /* Code that runs outside a request (EOF, write completions, the tick)
     * works under the current selection from here on. */
    inject_enter(cfg_inject_mask(cfg));
    worker_tick(w, cfg);
    cfg_read_unlock(cfg);
}

static void worker_tick(struct srv_worker *w, const struct cfg *cfg)
{
    w->now_ms = srv_now_ms();

    if (atomic_load_explicit(&w->stopping, memory_order_acquire)) {
        /* The tick ran before the wake in this loop pass: the stop is
         * seen here (the wake handle may be closed below). */
        worker_see_stop(w);
        /* Every connection drained and closed, and no load or served pop
         * still owes this worker a completion (a loader or a pushing
         * thread would wake a closed handle). */
        if (!w->conns && !w->waits && !w->nblocked) {
            worker_close_handles(w);
        } else if (w->stop_ms && srv_mono_ms() - w->stop_ms > WORKER_DRAIN_MS) {
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
    if (last > first) {
        uint64_t t0 = srv_mono_ns();
        cache_active_expire(srv.cache, first, last - first, 2 * cfg->hz, w->now_ms);
        srv_latency_sample(SRV_LAT_EXPIRE_CYCLE, (srv_mono_ns() - t0) / 1000000);
    }
    srv_loader_tick(w);
    srv_pause_tick(w);   /* a pause that ended: its clients go on */
    srv_acl_sweep(w);   /* clients of users deleted since the last tick */

    /* Every 4 s: a new window of the recent peaks (INFO clients). */
    if (w->now_ms / 4000 != (w->now_ms - WORKER_TICK_MS) / 4000) {
        atomic_store_explicit(&w->peak_in[1], atomic_load_explicit(&w->peak_in[0],
                              memory_order_relaxed), memory_order_relaxed);
        atomic_store_explicit(&w->peak_out[1], atomic_load_explicit(&w->peak_out[0],
                              memory_order_relaxed), memory_order_relaxed);
        atomic_store_explicit(&w->peak_in[0], 0, memory_order_relaxed);
        atomic_store_explicit(&w->peak_out[0], 0, memory_order_relaxed);
    }

    /* Once a second: the idle timeout, and idle connections give back
     * their reply buffer (Redis shrinks idle clients' buffers the same
     * way): a connection that sits idle holds no buffer at all. */
    if (w->now_ms / 1000 != (w->now_ms - WORKER_TICK_MS) / 1000) {
        int64_t limit = (int64_t)cfg->timeout * 1000;
        for (struct srv_conn *c = w->conns; c; c = c->next) {
            if (c->flags & CONN_CLOSING)
                continue;
            int64_t idle = w->now_ms - atomic_load_explicit(&c->last_ms, memory_order_relaxed);
            if (cfg->timeout && idle > limit) {
                srv_log(CFG_LOG_VERBOSE, "Closing idle client id=%llu",
                        (unsigned long long)c->id);
                conn_close(c);
            } else if (idle > WORKER_IDLE_SHRINK_MS && c->out.cap && !c->out.len) {
                proto_buf_free(&c->out);
            }
        }
    }
}

/* The worker thread, once it knows which worker it is. */
static void *worker_run(struct srv_worker *w)
{
    char name[16];
    snprintf(name, sizeof(name), "mmc-worker-%u", w->id);
    pthread_setname_np(pthread_self(), name);
    srv_log_role = 'W';
    cfg_thread_register();   /* this thread reads config snapshots */
    /* Bug 12's amplifier (acts only while bug 12 is selected): this thread
     * gets going late, as on a busy machine, so the main thread's first
     * (and, hoisted, only) read of the latch sees it not yet counted. It
     * sleeps rather than spins: on 2 cores, spinning workers took the CPU
     * from the main thread, which then read the latch after they counted. */
    if (INJECT_SELECTED(12) && INJECT_AMPLIFY())
        usleep(20 * 1000);
    /* Running: count for the start latch. release: pairs with the acquire
     * in srv_workers_start. */
    atomic_fetch_add_explicit(&workers_started, 1, memory_order_release);
    uv_run(&w->loop, UV_RUN_DEFAULT);
    uv_loop_close(&w->loop);
    cfg_thread_unregister();
    atomic_store_explicit(&w->exited, true, memory_order_relaxed);
    return NULL;
}

/* arg: the worker (its value, given when the thread was created). */
static void *worker_main(void *arg)
{
    inject_thread_start();
    inject_enter(workers_start_mask);
    return worker_run(arg);
}

/* BUG 10's thread entry: arg is the address of srv_workers_start's loop
 * variable, read whenever this thread gets to run. */
static void *worker_main_byref(void *arg)
{
    inject_thread_start();
    inject_enter(workers_start_mask);
    /* Amplifier: start a little later, as a thread does on a busy machine:
     * give the CPU back and sleep 2 ms, so that the creator (which may need
     * this core) runs its loop on before this thread reads w. A busy spin
     * here could keep the creator off a 2-core machine instead. */
    if (INJECT_AMPLIFY()) {
        inject_window();
        usleep(2000);
    }
    return worker_run(*(struct srv_worker *const *)arg);
}

int srv_worker_init(struct srv_worker *w, unsigned id)
{
    memset(w, 0, sizeof(*w));
    w->id = id;
    w->ring = srv_ring_create(WORKER_RING_CAP);
    w->rbuf = malloc(CONN_RBUF_SIZE);
    w->cmdstats = calloc(srv_command_count, sizeof(*w->cmdstats));
    w->errstats = calloc(1, sizeof(*w->errstats));
    w->cmd_hist = calloc(SRV_HIST_SLOTS, sizeof(*w->cmd_hist));
    if (!w->ring || !w->rbuf || !w->cmdstats || !w->errstats || !w->cmd_hist ||
        srv_latstats_worker_init(w) < 0)
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
    if ((rc = srv_blocked_worker_init(w)) != 0)
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

int srv_workers_start(void)
{
    struct srv_worker *w;   /* the loop's variable: the worker being started */
    unsigned created = 0;
    int rc = 0;

    workers_start_mask = inject_mask();
    for (unsigned i = 0; i < srv.nworkers; i++) {
        w = &srv.workers[i];
        if (!INJECT(10)) {
            rc = pthread_create(&w->thread, NULL, worker_main, w);
        } else {
            /* BUG 10 (loop variable captured): hands the thread the address
             * of the loop variable w, not its value (Go's `go func() {
             * w.run() }()` before 1.22). The thread reads w when it gets to
             * run, after the loop has moved w on: two threads run one
             * worker's loop and an earlier worker has none, so the sockets
             * handed to it are never answered. */
            rc = pthread_create(&w->thread, NULL, worker_main_byref, &w);
        }
        if (rc)
            break;
        created++;
    }
    /* The start latch: every thread has read its argument (and w may go
     * out of scope) and is about to run its loop. Thread start-up takes
     * microseconds, so this spins. */
    unsigned turns = 0;
    if (!INJECT(12)) {
        while (atomic_load_explicit(&workers_started, memory_order_acquire) < created)
            spin_relax(&turns);
    } else {
        /* BUG 12 (atomic write, non-atomic read): the counter the threads
         * bump atomically is read through a plain pointer cast. Nothing
         * says another thread writes it, so gcc -O3 loads it once before
         * the loop and spins on that value forever: start-up never ends. */
        while (*(const unsigned *)&workers_started < created)
            spin_relax(&turns);
    }
    return -rc;
}

unsigned srv_workers_started(void)
{
    return atomic_load_explicit(&workers_started, memory_order_relaxed);
}

void srv_workers_wait_stop_seen(void)
{
    unsigned turns = 0;
    /* A worker stuck in a long command (or a real deadlock) must not hold
     * the shutdown forever: after the bound, go on; main's timed join then
     * reports it and exits 1. */
    int64_t deadline = srv_mono_ms() + WORKER_STOP_SEEN_MS;
    for (unsigned i = 0; i < srv.nworkers; i++) {
        struct srv_worker *w = &srv.workers[i];
        if (!INJECT(1)) {
            /* acquire: pairs with the release in worker_see_stop */
            while (!atomic_load_explicit(&w->stop_seen, memory_order_acquire)) {
                spin_relax(&turns);
                if ((turns & 4095) == 0 && srv_mono_ms() > deadline) {
                    srv_log(CFG_LOG_WARNING, "Worker %u has not seen the stop within %d s: "
                            "shutting down without it", i, WORKER_STOP_SEEN_MS / 1000);
                    break;
                }
            }
        } else {
            /* BUG 1 (unsynchronised flag): polls a plain bool. Nothing says
             * another thread writes it, so gcc -O3 loads it once before the
             * loop and spins on that value: the stop is never seen as
             * acknowledged and SIGTERM never completes. */
            while (!w->stop_seen_plain)
                spin_relax(&turns);
        }
    }
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
    srv_blocked_worker_destroy(w);
    free(w->scratch.data);
    free(w->scratch2.data);
    free(w->rbuf);
    free(w->cmdstats);
    free(w->errstats);
    free(w->cmd_hist);
    srv_latstats_worker_destroy(w);
}

void srv_stats_sum(struct srv_stats *out)
{
    memset(out, 0, sizeof(*out));
#define SUM(f) out->f += atomic_load_explicit(&s->f, memory_order_relaxed)
    for (unsigned i = 0; i < srv.nworkers; i++) {
        struct srv_stats *s = &srv.workers[i].stats;
        SUM(commands); SUM(hits); SUM(misses); SUM(conns_received);
        SUM(net_in); SUM(net_out); SUM(clients); SUM(blocked); SUM(reads); SUM(writes);
    }
#undef SUM
}

int srv_client_format(struct proto_buf *b, const struct srv_conn *c, int64_t now_ms, int self)
{
    char line[640];
    int64_t last = atomic_load_explicit(&c->last_ms, memory_order_relaxed);
    const char *cmd = atomic_load_explicit(&c->last_cmd, memory_order_relaxed);
    /* Buffer sizes are owned by c's worker: read as it last published
     * them (CLIENT LIST and INFO publish the caller's own first). */
    size_t qbuf = atomic_load_explicit(&c->mem.qbuf, memory_order_relaxed);
    size_t qfree = atomic_load_explicit(&c->mem.qbuf_free, memory_order_relaxed);
    size_t rbs = atomic_load_explicit(&c->mem.rbs, memory_order_relaxed);
    size_t omem = atomic_load_explicit(&c->mem.omem, memory_order_relaxed);
    size_t totmem = atomic_load_explicit(&c->mem.totmem, memory_order_relaxed);
    char flags[8], *f = flags;
    if (atomic_load_explicit(&c->is_blocked, memory_order_relaxed))
        *f++ = 'b';
    if (atomic_load_explicit(&c->is_monitor, memory_order_relaxed))
        *f++ = 'O';
    if (atomic_load_explicit(&c->no_evict, memory_order_relaxed))
        *f++ = 'e';
    if (f == flags)
        *f++ = 'N';
    *f = '\0';
    int n = snprintf(line, sizeof(line),
        "id=%" PRIu64 " addr=%s laddr=%s fd=%d name=%s age=%" PRId64
        " idle=%" PRId64 " flags=%s db=0 sub=0 psub=0 ssub=0 multi=-1 qbuf=%zu"
        " qbuf-free=%zu argv-mem=0 multi-mem=0 rbs=%zu rbp=0 obl=0 oll=0 omem=%zu"
        " tot-mem=%zu events=r cmd=%s user=%.128s redir=-1 resp=2 worker=%u\n",
        c->id, c->addr, c->laddr, c->fd, c->name ? c->name : "",
        (now_ms - c->ctime_ms) / 1000, (now_ms - last) / 1000,
        flags, qbuf, qfree, rbs, omem, totmem, cmd, srv_acl_user_name(c->acl.user), c->w->id);
    return proto_buf_append(b, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
}

static bool client_matches(const struct srv_conn *c, const struct srv_client_filter *f,
                           int op, const struct srv_conn *caller)
{
    if (f->id && c->id != f->id)
        return false;
    if (f->addr && strcmp(c->addr, f->addr) != 0)
        return false;
    if (f->laddr && strcmp(c->laddr, f->laddr) != 0)
        return false;
    /* c->acl.user is written under reg_lock, which the caller holds */
    if (f->user && (srv_acl_user_name_len(c->acl.user) != f->user_len ||
                    memcmp(srv_acl_user_name(c->acl.user), f->user, f->user_len) != 0))
        return false;
    if (c == caller && f->skipme)
        return false;
    /* its close is on its way (the worker closes it on its next pass): as
     * in Redis, where the kill is done when KILL replies, a second KILL
     * finds no such client */
    if (c->kill_posted)
        return false;
    if (f->maxage_s && (srv_now_ms() - c->ctime_ms) / 1000 <= f->maxage_s)
        return false;   /* ctime_ms: immutable after accept */
    return op == SRV_CONN_KILL || atomic_load_explicit(&c->is_blocked, memory_order_relaxed);
}

unsigned srv_clients_act(const struct srv_client_filter *f, int op,
                         const struct srv_conn *caller, bool *self)
{
    unsigned n = 0;

    *self = false;
    for (unsigned i = 0; i < srv.nworkers; i++) {
        struct srv_worker *w = &srv.workers[i];
        pthread_mutex_lock(&w->reg_lock);
        for (struct srv_conn *c = w->conns; c; c = c->next) {
            if (!client_matches(c, f, op, caller))
                continue;
            if (c == caller)
                *self = true;
            else if (srv_conn_post(w, c->id, op) != 0)
                continue;   /* no memory to ask: not counted */
            if (op == SRV_CONN_KILL)
                c->kill_posted = true;
            n++;
        }
        pthread_mutex_unlock(&w->reg_lock);
    }
    return n;
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
