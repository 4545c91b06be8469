/*
 * The acceptor: the main thread's libuv loop owns the listening socket, the
 * signal watchers and the ops/sec sampler. Accepted sockets go to a worker
 * through that worker's SPSC ring (this thread is every ring's only
 * producer) plus uv_async_send.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "acceptor.h"
#include "inject.h"
#include "metrics.h"
#include "srv.h"
#include "worker.h"

#define ACCEPT_BACKOFF_MS 100
#define OPS_SAMPLES 16
#define SAMPLE_MS 100

/* All owned by: the acceptor (main) thread. */
static uv_loop_t *loop;
static int listen_fd = -1;
static int reserve_fd = -1;        /* spare fd, given up to shed a connection on EMFILE */
static uv_poll_t listen_poll;
static uv_signal_t sig_hup;           /* SIGTERM/SIGINT: the stop guard (lab/stopguard.c) */
static uv_timer_t sampler;
static uv_timer_t backoff;         /* restarts accepting after a pause */
static uv_timer_t reload;          /* due while a SIGHUP awaits its reload */
static unsigned next_worker;
static int stopping;
/* A client can make accept fail at any rate (connect in a loop past the
 * descriptor limit): one line a second, with a count. */
static struct srv_log_throttle accept_errors;
static struct {
    uint64_t last_cmds;
    int64_t last_ms;
    uint64_t samples[OPS_SAMPLES];
    unsigned idx;
} ops;

int srv__listen_open(const char *bind_addr, int port, char *err, size_t errlen)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICHOST};
    struct addrinfo *res;
    char portstr[16];
    snprintf(portstr, sizeof(portstr), "%d", port);
    int rc = getaddrinfo(bind_addr, portstr, &hints, &res);
    if (rc) {
        snprintf(err, errlen, "bad bind address '%s': %s", bind_addr, gai_strerror(rc));
        return -1;
    }
    int fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(err, errlen, "socket: %s", strerror(errno));
        freeaddrinfo(res);
        return -1;
    }
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (res->ai_family == AF_INET6)
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
    if (bind(fd, res->ai_addr, res->ai_addrlen) < 0 || listen(fd, 511) < 0) {
        snprintf(err, errlen, "%s:%d: %s", bind_addr, port, strerror(errno));
        close(fd);
        freeaddrinfo(res);
        return -1;
    }
    freeaddrinfo(res);
    return fd;
}

static void reject(int fd, const char *msg)
{
    /* Best effort, like Redis: the socket is new, so its buffer has room. */
    ssize_t n = send(fd, msg, strlen(msg), MSG_DONTWAIT | MSG_NOSIGNAL);
    (void)n;
    close(fd);
    atomic_fetch_add_explicit(&srv.rejected_conns, 1, memory_order_relaxed);
}

static void handoff(int fd)
{
    const struct cfg *cfg = cfg_read_lock();
    unsigned maxclients = cfg->maxclients;
    cfg_read_unlock(cfg);
    unsigned n = atomic_fetch_add_explicit(&srv.nclients, 1, memory_order_relaxed);
    if (n >= maxclients) {
        atomic_fetch_sub_explicit(&srv.nclients, 1, memory_order_relaxed);
        reject(fd, "-ERR max number of clients reached\r\n");
        return;
    }
    /* Round robin; a full ring (a worker far behind) passes to the next. */
    for (unsigned tries = 0; tries < srv.nworkers; tries++) {
        struct srv_worker *w = &srv.workers[next_worker++ % srv.nworkers];
        if (srv_worker_handoff(w, fd))
            return;
    }
    atomic_fetch_sub_explicit(&srv.nclients, 1, memory_order_relaxed);
    srv_log_throttled(&accept_errors, CFG_LOG_WARNING,
                      "All worker queues are full: dropping a connection");
    reject(fd, "-ERR server busy\r\n");
}

static void on_listen_readable(uv_poll_t *h, int status, int events);

static void on_backoff(uv_timer_t *t)
{
    (void)t;
    if (reserve_fd < 0)
        reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    struct cache_stats cs;
    cache_stats(srv.cache, &cs);
    srv.used_memory_startup = cs.used_memory;
    atomic_store_explicit(&srv.used_memory_peak, cs.used_memory, memory_order_relaxed);
    if (!stopping)
        uv_poll_start(&listen_poll, UV_READABLE, on_listen_readable);
}

/* accept() cannot make progress right now (no descriptor to spare, no
 * memory): the listener stays readable, so polling it again at once would
 * spin. Stop watching it for a moment instead. */
static void pause_accepting(const char *why)
{
    srv_log_throttled(&accept_errors, CFG_LOG_WARNING, "Error accepting a client connection: "
                      "%s; pausing accepts for %d ms", why, ACCEPT_BACKOFF_MS);
    uv_poll_stop(&listen_poll);
    uv_timer_start(&backoff, on_backoff, ACCEPT_BACKOFF_MS, 0);
}

static void on_listen_readable(uv_poll_t *h, int status, int events)
{
    (void)h; (void)events;
    if (status < 0)
        return;
    for (int i = 0; i < 256; i++) {   /* bounded: keep the loop responsive */
        int fd = accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd >= 0) {
            handoff(fd);
            continue;
        }
        if (errno == EINTR || errno == ECONNABORTED)
            continue;
        if ((errno == EMFILE || errno == ENFILE) && reserve_fd >= 0) {
            /* Out of descriptors: the pending connection would keep the
             * (level-triggered) listener readable forever and spin us.
             * Free the reserve, accept and drop it, take the reserve back. */
            close(reserve_fd);
            fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
            if (fd >= 0)
                reject(fd, "-ERR max number of clients reached\r\n");
            /* Another thread (a sanitizer's runtime, say) may have taken
             * the slot meanwhile: then the next EMFILE pauses instead. */
            reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    struct cache_stats cs;
    cache_stats(srv.cache, &cs);
    srv.used_memory_startup = cs.used_memory;
    atomic_store_explicit(&srv.used_memory_peak, cs.used_memory, memory_order_relaxed);
            srv_log_throttled(&accept_errors, CFG_LOG_WARNING, "Error accepting a client "
                              "connection: %s (out of file descriptors: raise ulimit -n)",
                              strerror(EMFILE));
            continue;
        }
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return;
        pause_accepting(strerror(errno));   /* EMFILE with no reserve, ENOBUFS, ... */
        return;
    }
}

static void begin_shutdown(const char *why)
{
    if (stopping)
        return;
    stopping = 1;
    srv_stop_guard_arm();   /* a stop that cannot finish ends hard, and says why */
    srv_log(CFG_LOG_WARNING, "%s, shutting down: answering requests already received...", why);
    /* Connections the kernel already completed are waiting in the listen
     * backlog: their clients count them as in flight, so take them too;
     * the workers answer what they sent before closing them. */
    on_listen_readable(&listen_poll, 0, UV_READABLE);
    uv_poll_stop(&listen_poll);
    uv_close((uv_handle_t *)&listen_poll, NULL);
    close(listen_fd);
    listen_fd = -1;
    srv_metrics_close();
    uv_close((uv_handle_t *)&sig_hup, NULL);
    /* libuv gave SIGHUP back its default action, which ends the process:
     * a reload sent during the stop (a logrotate, a reload script) killed
     * it by signal, status 129 and no log line, even the stop guard's. */
    signal(SIGHUP, SIG_IGN);
    uv_close((uv_handle_t *)&sampler, NULL);
    uv_close((uv_handle_t *)&backoff, NULL);
    uv_close((uv_handle_t *)&reload, NULL);   /* a reload still due: the exit wins */
    uv_close((uv_handle_t *)&srv.shutdown_async, NULL);
    for (unsigned i = 0; i < srv.nworkers; i++)
        srv_worker_stop(&srv.workers[i]);
    /* The stop handshake runs under a current snapshot's bug selection
     * (bug 1 is live: CONFIG SET inject-bug 1, then SIGTERM). */
    const struct cfg *cfg = cfg_read_lock();
    inject_enter(cfg_inject_mask(cfg));
    cfg_read_unlock(cfg);
    srv_stop_phase("waiting for the workers to see the stop");
    srv_workers_wait_stop_seen();
    srv_stop_phase("draining the client connections");
    srv_log(CFG_LOG_NOTICE, "All %u workers stopped reading; draining %u client connections",
            srv.nworkers, atomic_load_explicit(&srv.nclients, memory_order_relaxed));
    /* The loop now has no handles left and uv_run returns to main(). */
}

static void on_reload(uv_timer_t *t)
{
    (void)t;
    srv_stop_phase("reloading the config (SIGHUP)");
    srv_config_reload();
    srv_stop_phase("serving");
}

static void on_sighup(uv_signal_t *h, int signum)
{
    (void)h;
    (void)signum;
    /* In the loop, not in the signal handler, and not in this callback
     * either: libuv runs the callbacks of every signal queued in its
     * pipe before it polls again, so a reload per SIGHUP let a storm
     * faster than a reload keep this thread from accept() for as long as
     * it lasted. The SIGHUPs of one pass share one reload at the loop's
     * next turn, and every turn polls for I/O: accepts wait for one
     * reload at most. It starts after each of them arrived, so it reads
     * the file as they found it or newer: what each one asked for. */
    uv_timer_start(&reload, on_reload, 0, 0);
}

/* SHUTDOWN, or the stop guard passing on SIGTERM/SIGINT. */
static void on_shutdown_async(uv_async_t *h)
{
    (void)h;
    int sig = srv_stop_signal();
    begin_shutdown(sig == SIGINT ? "Received SIGINT" : sig == SIGTERM ? "Received SIGTERM"
                                                                     : "User requested shutdown");
}

void srv_request_shutdown(void)
{
    uv_async_send(&srv.shutdown_async);
}

/* instantaneous_ops_per_sec as Redis computes it: the mean of the last 16
 * rates sampled every 100 ms. */
static void on_sample(uv_timer_t *h)
{
    (void)h;
    struct srv_stats st;
    srv_stats_sum(&st);
    int64_t now = (int64_t)uv_now(loop);
    int64_t dt = now - ops.last_ms;
    if (dt <= 0)
        return;
    ops.samples[ops.idx++ % OPS_SAMPLES] = (st.commands - ops.last_cmds) * 1000 / (uint64_t)dt;
    struct cache_stats cs;   /* used_memory_peak: sampled here, its one writer */
    cache_stats(srv.cache, &cs);
    if (cs.used_memory > atomic_load_explicit(&srv.used_memory_peak, memory_order_relaxed))
        atomic_store_explicit(&srv.used_memory_peak, cs.used_memory, memory_order_relaxed);
    ops.last_cmds = st.commands;
    ops.last_ms = now;
    uint64_t sum = 0;
    for (int i = 0; i < OPS_SAMPLES; i++)
        sum += ops.samples[i];
    atomic_store_explicit(&srv.ops_per_sec, sum / OPS_SAMPLES, memory_order_relaxed);
}

int srv_acceptor_init(uv_loop_t *l, const struct cfg *cfg, char *err, size_t errlen)
{
    loop = l;
    listen_fd = srv__listen_open(cfg->bind, cfg->port, err, errlen);
    if (listen_fd < 0)
        return -1;
    if (srv_metrics_init(loop, cfg, err, errlen) < 0) {
        close(listen_fd);
        listen_fd = -1;
        return -1;
    }
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    getsockname(listen_fd, (struct sockaddr *)&ss, &sl);
    srv.port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                              : ((struct sockaddr_in *)&ss)->sin_port);
    reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    struct cache_stats cs;
    cache_stats(srv.cache, &cs);
    srv.used_memory_startup = cs.used_memory;
    atomic_store_explicit(&srv.used_memory_peak, cs.used_memory, memory_order_relaxed);
    uv_poll_init_socket(loop, &listen_poll, listen_fd);
    uv_async_init(loop, &srv.shutdown_async, on_shutdown_async);
    uv_signal_init(loop, &sig_hup);
    uv_timer_init(loop, &sampler);
    uv_timer_init(loop, &backoff);
    uv_timer_init(loop, &reload);
    ops.last_ms = (int64_t)uv_now(loop);
    return 0;
}

void srv_acceptor_start(void)
{
    uv_poll_start(&listen_poll, UV_READABLE, on_listen_readable);
    uv_signal_start(&sig_hup, on_sighup, SIGHUP);
    uv_timer_start(&sampler, on_sample, SAMPLE_MS, SAMPLE_MS);
}

void srv_acceptor_cleanup(void)
{
    if (reserve_fd >= 0)
        close(reserve_fd);
    reserve_fd = -1;
}
