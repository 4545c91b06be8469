/*
 * Upstreams for test_origin_redis.c: a real redis-server on a free
 * loopback port (fork+exec, killed by PID, never by name), a listener that
 * never answers, and a fake server whose first reply comes late.
 * Header-only: one test executable uses it. Include after <cmocka.h>
 * (black_hole asserts).
 */
#ifndef MMCACHE_TEST_ORIGIN_UPSTREAM_H
#define MMCACHE_TEST_ORIGIN_UPSTREAM_H

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#include "origin_fixture.h"

#define REDIS_BIN "/usr/bin/redis-server"

struct fixture {
    pid_t pid;            /* the upstream, 0 when stopped */
    int port;
    char addr[64];        /* "127.0.0.1:PORT" */
    struct origin *o;
};

/* Bind 127.0.0.1:0 and read the port back. Another process may take it
 * before redis-server binds it: upstream_start() retries with a new one. */
static inline int free_port(void)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(sa);
    int port = -1, fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
        getsockname(fd, (struct sockaddr *)&sa, &len) == 0)
        port = ntohs(sa.sin_port);
    if (fd >= 0)
        close(fd);
    return port;
}

static inline redisContext *client(int port)
{
    redisContext *c = redisConnectWithTimeout("127.0.0.1", port, (struct timeval){1, 0});
    if (c && !c->err && redisSetTimeout(c, (struct timeval){2, 0}) == REDIS_OK)
        return c;
    if (c)
        redisFree(c);
    return NULL;
}

static inline bool pings(int port)
{
    redisContext *c = client(port);
    redisReply *r = c ? redisCommand(c, "PING") : NULL;
    bool ok = r && r->type == REDIS_REPLY_STATUS && strcmp(r->str, "PONG") == 0;
    if (r)
        freeReplyObject(r);
    if (c)
        redisFree(c);
    return ok;
}

/* Start redis-server on `port` (0: a free one), wait until it answers. */
static inline int upstream_start(struct fixture *f, int port)
{
    for (int attempt = 0; attempt < 5; attempt++) {
        int p = port ? port : free_port();
        char pbuf[16];
        snprintf(pbuf, sizeof(pbuf), "%d", p);
        pid_t pid = fork();
        if (pid < 0)
            return -1;
        if (pid == 0) {
            int nul = open("/dev/null", O_RDWR);
            dup2(nul, 0);
            dup2(nul, 1);
            dup2(nul, 2);
            prctl(PR_SET_PDEATHSIG, SIGKILL);   /* never outlive a crashed test */
            execl(REDIS_BIN, REDIS_BIN, "--port", pbuf, "--bind", "127.0.0.1", "-::1",
                  "--save", "", "--appendonly", "no", "--daemonize", "no", (char *)NULL);
            _exit(127);
        }
        for (int64_t end = origin_now_ms() + 5000; origin_now_ms() < end;) {
            if (waitpid(pid, NULL, WNOHANG) == pid)
                break;   /* exited: port taken? try another */
            if (pings(p)) {
                f->pid = pid;
                f->port = p;
                snprintf(f->addr, sizeof(f->addr), "127.0.0.1:%d", p);
                return 0;
            }
            origin_sleep_ms(10, NULL);
        }
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
    }
    return -1;
}

static inline void upstream_stop(struct fixture *f)
{
    if (f->pid > 0) {
        kill(f->pid, SIGKILL);
        waitpid(f->pid, NULL, 0);
        f->pid = 0;
    }
}

/* A listener that never accepts: the kernel completes the handshake (the
 * connection waits in the backlog), the GET is sent, and nothing ever
 * answers, like a hung upstream. */
static inline int black_hole(int backlog, int *port)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(sa);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(listen(fd, backlog), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
    *port = ntohs(sa.sin_port);
    return fd;
}

/* ---- a fake upstream whose first reply comes late ------------------------- */

#define SLOW_CONNS 8

struct slow {
    int lfd;
    _Atomic bool stop;          /* atomic: release by the test, acquire here */
    _Atomic int requests;       /* atomic: relaxed; numbers the replies */
    pthread_t acceptor, conn[SLOW_CONNS];
    _Atomic int nconn;          /* atomic: written by acceptor, read after join */
};

struct slow_conn {
    struct slow *s;
    int fd;
};

/* Answers each request (read in one go: they are tiny) with "r<n>",
 * n counting every request the server saw; the first waits 300 ms. */
static inline void *slow_conn_main(void *arg)
{
    struct slow_conn *c = arg;
    char buf[512];
    while (read(c->fd, buf, sizeof(buf)) > 0) {
        int n = atomic_fetch_add_explicit(&c->s->requests, 1, memory_order_relaxed);
        if (n == 0)
            origin_sleep_ms(300, NULL);
        char rep[32];
        int len = snprintf(rep, sizeof(rep), "$2\r\nr%d\r\n", n);
        if (write(c->fd, rep, (size_t)len) != len)
            break;
    }
    close(c->fd);
    free(c);
    return NULL;
}

static inline void *slow_accept_main(void *arg)
{
    struct slow *s = arg;
    while (!atomic_load_explicit(&s->stop, memory_order_acquire)) {
        struct pollfd pfd = {.fd = s->lfd, .events = POLLIN};
        if (poll(&pfd, 1, 10) <= 0)
            continue;
        int fd = accept(s->lfd, NULL, NULL);
        int n = atomic_load_explicit(&s->nconn, memory_order_relaxed);
        if (fd < 0 || n == SLOW_CONNS) {
            if (fd >= 0)
                close(fd);
            continue;
        }
        struct slow_conn *c = malloc(sizeof(*c));
        c->s = s;
        c->fd = fd;
        pthread_create(&s->conn[n], NULL, slow_conn_main, c);
        atomic_store_explicit(&s->nconn, n + 1, memory_order_relaxed);
    }
    return NULL;
}

/* ---- a hostile upstream: any answer, any size ------------------------------ */

/* Answers every GET on every connection with `answer` (answer_len bytes),
 * then, when `stream` is set, with filler for as long as the peer takes
 * it (up to 1 GB): an upstream that claims or sends a huge value. Counts
 * connections and bytes sent. */
struct hostile {
    int lfd, port;
    const char *answer;
    size_t answer_len;
    bool stream;
    _Atomic bool stop;               /* atomic: release by the test, acquire here */
    _Atomic int conns;               /* atomic: relaxed; counted, read after join */
    _Atomic long long sent;          /* atomic: relaxed; bytes written, read after join */
    pthread_t tid;
};

static inline void hostile_serve(struct hostile *h, int fd)
{
    char buf[512], fill[64 * 1024];
    memset(fill, 'x', sizeof(fill));
    while (read(fd, buf, sizeof(buf)) > 0) {
        if (write(fd, h->answer, h->answer_len) != (ssize_t)h->answer_len)
            break;
        atomic_fetch_add_explicit(&h->sent, (long long)h->answer_len, memory_order_relaxed);
        for (long long n = 0; h->stream && n < (1LL << 30); n += (long long)sizeof(fill)) {
            ssize_t w = write(fd, fill, sizeof(fill));
            if (w <= 0)
                break;
            atomic_fetch_add_explicit(&h->sent, w, memory_order_relaxed);
        }
    }
    close(fd);
}

static inline void *hostile_main(void *arg)
{
    struct hostile *h = arg;
    signal(SIGPIPE, SIG_IGN);
    while (!atomic_load_explicit(&h->stop, memory_order_acquire)) {
        struct pollfd pfd = {.fd = h->lfd, .events = POLLIN};
        if (poll(&pfd, 1, 10) <= 0)
            continue;
        int fd = accept(h->lfd, NULL, NULL);
        if (fd < 0)
            continue;
        atomic_fetch_add_explicit(&h->conns, 1, memory_order_relaxed);
        hostile_serve(h, fd);   /* one connection at a time is enough here */
    }
    return NULL;
}

static inline void hostile_start(struct hostile *h, const char *answer, size_t len, bool stream)
{
    memset(h, 0, sizeof(*h));
    h->answer = answer;
    h->answer_len = len;
    h->stream = stream;
    h->lfd = black_hole(16, &h->port);
    assert_int_equal(pthread_create(&h->tid, NULL, hostile_main, h), 0);
}

static inline void hostile_stop(struct hostile *h)
{
    atomic_store_explicit(&h->stop, true, memory_order_release);
    pthread_join(h->tid, NULL);
    close(h->lfd);
}

#endif
