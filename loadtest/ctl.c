/*
 * The control connection: main's own blocking connection for the set-up
 * (clean the prefix, fill, baselines) and the final reads (counters, INFO,
 * restoring the config). Blocking keeps these phases straight-line code;
 * every wait is bounded by --connect-timeout / --reply-timeout through
 * SO_SNDTIMEO/SO_RCVTIMEO, so a stalled server cannot hang the end of a run.
 *
 * Context: main thread only.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ld_int.h"

struct ld_ctl {
    int fd;
    redisReader *rd;
    char dead[LD_LINE];       /* non-empty: failed once, later calls fail at once */
};

static void *nope(char *err, size_t cap, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(err, cap, fmt, ap);
    va_end(ap);
    return NULL;
}

/* connect() with a deadline: non-blocking connect, poll, then blocking. */
static int connect_bounded(int fd, const struct ld_run *r)
{
    struct pollfd p = { .fd = fd, .events = POLLOUT };
    int flags = fcntl(fd, F_GETFL), err = 0, n;
    socklen_t len = sizeof(err);

    fcntl(fd, F_SETFL, flags | O_NONBLOCK);
    if (connect(fd, (const struct sockaddr *)&r->addr, r->addrlen) < 0) {
        if (errno != EINPROGRESS)
            return -errno;
        do
            n = poll(&p, 1, (int)r->o->connect_timeout_ms);
        while (n < 0 && errno == EINTR);
        if (n == 0)
            return -ETIMEDOUT;
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
            return -errno;
        if (err != 0)
            return -err;
    }
    fcntl(fd, F_SETFL, flags);
    return 0;
}

struct ld_ctl *ld__ctl_open(struct ld_run *r, char *err, size_t cap)
{
    struct ld_ctl *k = calloc(1, sizeof(*k));
    struct timeval tv = {
        .tv_sec = r->o->reply_timeout_ms / 1000,
        .tv_usec = (r->o->reply_timeout_ms % 1000) * 1000,
    };
    int one = 1, rc;

    if (k == NULL)
        return nope(err, cap, "out of memory");
    k->fd = socket(r->addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    k->rd = redisReaderCreate();
    if (k->fd < 0 || k->rd == NULL) {
        ld__ctl_close(k);
        return nope(err, cap, "socket: %s", strerror(errno));
    }
    rc = connect_bounded(k->fd, r);
    if (rc < 0) {
        ld__ctl_close(k);
        return nope(err, cap, "connect to %s:%d: %s", r->o->host, r->o->port, strerror(-rc));
    }
    setsockopt(k->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    setsockopt(k->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(k->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    return k;
}

void ld__ctl_close(struct ld_ctl *k)
{
    if (k == NULL)
        return;
    if (k->fd >= 0)
        close(k->fd);
    if (k->rd != NULL)
        redisReaderFree(k->rd);
    free(k);
}

static int send_all(struct ld_ctl *k, const char *p, size_t n, char *err, size_t cap)
{
    while (n > 0) {
        ssize_t w = send(k->fd, p, n, MSG_NOSIGNAL);

        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            snprintf(err, cap, "write: %s", w < 0 && errno == EAGAIN ? "timed out" : strerror(errno));
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* The next reply, reading as needed. */
static redisReply *next_reply(struct ld_ctl *k, char *err, size_t cap)
{
    char buf[16384];
    void *rep = NULL;

    for (;;) {
        ssize_t n;

        if (redisReaderGetReply(k->rd, &rep) != REDIS_OK)
            return nope(err, cap, "unparsable reply: %s", k->rd->errstr);
        if (rep != NULL)
            return rep;
        n = read(k->fd, buf, sizeof(buf));
        if (n < 0 && errno == EINTR)
            continue;
        if (n == 0)
            return nope(err, cap, "server closed the connection");
        if (n < 0)
            return nope(err, cap, "read: %s", errno == EAGAIN ? "no reply within --reply-timeout"
                                                               : strerror(errno));
        if (redisReaderFeed(k->rd, buf, (size_t)n) != REDIS_OK)
            return nope(err, cap, "reader: out of memory");
    }
}

/* A stalled server would cost a --reply-timeout per later command: after
 * the first failure the connection is given up for the rest of the run. */
static bool gave_up(struct ld_ctl *k, char *err, size_t cap)
{
    if (k->dead[0] == '\0')
        return false;
    snprintf(err, cap, "control connection lost earlier: %s", k->dead);
    return true;
}

static void give_up(struct ld_ctl *k, const char *err)
{
    snprintf(k->dead, sizeof(k->dead), "%s", err);
}

redisReply *ld__ctl_cmd(struct ld_ctl *k, char *err, size_t cap, int argc,
                        const char **argv)
{
    char *cmd;
    int len;
    redisReply *rep = NULL;

    if (gave_up(k, err, cap))
        return NULL;
    len = redisFormatCommandArgv(&cmd, argc, argv, NULL);
    if (len < 0)
        return nope(err, cap, "out of memory");
    if (send_all(k, cmd, (size_t)len, err, cap) == 0)
        rep = next_reply(k, err, cap);
    redisFreeCommand(cmd);
    if (rep == NULL)
        give_up(k, err);
    return rep;
}

int ld__ctl_pipeline(struct ld_ctl *k, char **cmds, const int *lens, unsigned n,
                     int (*check)(void *arg, unsigned i, const redisReply *rep),
                     void *arg, char *err, size_t cap)
{
    size_t total = 0, off = 0;
    char *buf;
    int rc = 0;

    if (gave_up(k, err, cap))
        return -1;
    for (unsigned i = 0; i < n; i++)
        total += (size_t)lens[i];
    if (total == 0)
        return 0;
    buf = malloc(total);
    if (buf == NULL) {
        snprintf(err, cap, "out of memory");
        return -1;
    }
    for (unsigned i = 0; i < n; i++) {
        memcpy(buf + off, cmds[i], (size_t)lens[i]);
        off += (size_t)lens[i];
    }
    /* the batches are small enough (see phases.c) for the socket buffers
     * to take the whole write while replies queue up on the other side */
    rc = send_all(k, buf, total, err, cap);
    free(buf);
    if (rc < 0) {
        give_up(k, err);
        return -1;
    }
    /* read every reply, even after a refused one, to stay in step */
    for (unsigned i = 0; i < n; i++) {
        redisReply *rep = next_reply(k, err, cap);

        if (rep == NULL) {
            give_up(k, err);
            return -1;
        }
        if (check != NULL && check(arg, i, rep) != 0 && rc == 0) {
            snprintf(err, cap, "unexpected reply to batch command %u (type %d%s%s)", i,
                     rep->type, rep->type == REDIS_REPLY_ERROR ? ": " : "",
                     rep->type == REDIS_REPLY_ERROR ? rep->str : "");
            rc = -1;
        }
        freeReplyObject(rep);
    }
    return rc;
}
