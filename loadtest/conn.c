/*
 * One non-blocking client connection: connect with a deadline, an output
 * buffer of formatted requests, a FIFO of what each outstanding request
 * expects, and hiredis's reader for the replies. A connection that fails
 * (refused, reset, EOF, unparsable or unsolicited reply, reply timeout) is
 * "lost": the failure is recorded once, every outstanding request becomes
 * "unsure" (it may or may not have run, which the counter and stats
 * checkers then allow for), and the connection is not reopened.
 *
 * Context: the connection's client thread only.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "ld_int.h"

#define READ_CHUNK 65536

const char *ld__kind_name(uint8_t kind)
{
    switch (kind) {
    case LD_K_INFO: return "INFO";
    case LD_K_CFG_GET: return "CONFIG GET";
    case LD_K_CFG_SET: return "CONFIG SET";
    case LD_K_LPUSH: return "LPUSH";
    case LD_K_RPOP: return "RPOP";
    case LD_K_BRPOP: return "BRPOP";
    case LD_K_HSET: return "HSET";
    case LD_K_HGET: return "HGET";
    case LD_K_HINCRBY: return "HINCRBY";
    case LD_K_HGETALL: return "HGETALL";
    case LD_K_SADD: return "SADD";
    case LD_K_SREM: return "SREM";
    case LD_K_SISMEMBER: return "SISMEMBER";
    case LD_K_SMEMBERS: return "SMEMBERS";
    case LD_K_ZADD: case LD_K_ZQADD: return "ZADD";
    case LD_K_ZINCRBY: return "ZINCRBY";
    case LD_K_ZREM: return "ZREM";
    case LD_K_ZSCORE: return "ZSCORE";
    case LD_K_ZRANGE: return "ZRANGE";
    case LD_K_ZPOPMIN: return "ZPOPMIN";
    case LD_K_BZPOPMIN: return "BZPOPMIN";
    case LD_K_MULTI: return "MULTI";
    case LD_K_QUEUED: return "a queued command";
    case LD_K_EXEC: return "EXEC";
    case LD_K_WATCH: return "WATCH";
    case LD_K_BGET: return "GET";
    case LD_K_AUDIT_MGET: case LD_K_MS_MGET: case LD_K_B_MGET: return "MGET";
    case LD_K_B_MSET: return "MSET";
    case LD_K_MS_INCRBY: return "INCRBY";
    default: break;
    }
    switch ((enum ld_op)kind) {
    case LD_GET: return "GET";
    case LD_SET: return "SET";
    case LD_INCR: return "INCR";
    case LD_DEL: return "DEL";
    case LD_MGET: return "MGET";
    case LD_NOPS: break;
    }
    return "?";
}

int ld__conn_init(struct ld_conn *c, struct ld_thread *t, enum ld_conn_kind kind)
{
    const struct ld_opts *o = t->run->o;

    memset(c, 0, sizeof(*c));
    c->t = t;
    c->kind = kind;
    c->fd = -1;
    c->state = LD_CS_IDLE;
    c->cap = kind == LD_CONN_LOAD || kind == LD_CONN_HASH || kind == LD_CONN_SET ||
             kind == LD_CONN_ZSET ? o->pipeline : kind >= LD_CONN_BANK ? LD_TXN_PIPE : 1;
    /* a --bench request is several commands, pushed whole: room for each */
    if (kind == LD_CONN_LOAD)
        c->cap *= ld_bench_cmds(o->bench);
    c->priv_last = 0;
    c->cfg_last_k = LD_GEN_NONE;
    for (unsigned i = 0; i < LD_OWN_CACHE; i++)
        c->own[i].key = UINT32_MAX;
    c->rd = redisReaderCreate();
    c->fifo = calloc(c->cap, sizeof(*c->fifo));
    c->out_cap = 4096;
    c->out = malloc(c->out_cap);
    if (kind == LD_CONN_LOAD)
        c->shared_last = calloc(o->counters, sizeof(*c->shared_last));
    /* (a queue's producers: one per client thread) */
    if (kind == LD_CONN_QPOP && (c->q_last = malloc((size_t)o->threads * LD_QUEUE_KEYS *
                                                    sizeof(uint64_t))))
        memset(c->q_last, 0xff, (size_t)o->threads * LD_QUEUE_KEYS * sizeof(uint64_t));
    if (c->rd == NULL || c->fifo == NULL || c->out == NULL ||
        (kind == LD_CONN_LOAD && c->shared_last == NULL) ||
        (kind == LD_CONN_QPOP && c->q_last == NULL)) {
        ld__conn_free(c);
        return -ENOMEM;
    }
    return 0;
}

void ld__conn_free(struct ld_conn *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    if (c->rd != NULL)
        redisReaderFree(c->rd);
    c->rd = NULL;
    free(c->fifo);
    free(c->out);
    free(c->shared_last);
    free(c->q_last);
    c->q_last = NULL;
    free(c->model);
    c->model = NULL;
    c->fifo = NULL;
    c->out = NULL;
    c->shared_last = NULL;
}

static void set_out(struct ld_conn *c, bool want)
{
    struct epoll_event ev = { .events = EPOLLIN | (want ? EPOLLOUT : 0), .data.ptr = c };

    if (c->want_out == want)
        return;
    c->want_out = want;
    epoll_ctl(c->t->epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

static void finished(struct ld_conn *c)
{
    c->state = LD_CS_CLOSED;
    if (c->fd >= 0)
        close(c->fd);          /* also leaves the epoll set */
    c->fd = -1;
    c->count = 0;
    if (c->kind == LD_CONN_LOAD)
        atomic_fetch_sub_explicit(&c->t->run->load_active, 1, memory_order_relaxed);
}

void ld__conn_close(struct ld_conn *c)
{
    if (c->state != LD_CS_CLOSED)
        finished(c);
}

static const char *conn_label(const struct ld_conn *c, char *buf, size_t cap)
{
    static const char *const names[] = { "client", "info poller", "config reader",
                                         "config writer", "queue producer",
                                         "queue consumer", "hash client", "set client",
                                         "zset client", "transfer client", "auditor",
                                         "sum writer", "sum reader" };

    if (c->kind == LD_CONN_LOAD || c->kind == LD_CONN_HASH || c->kind == LD_CONN_SET ||
        c->kind == LD_CONN_ZSET || c->kind >= LD_CONN_BANK)
        snprintf(buf, cap, "%s %u", names[c->kind], c->id);
    else
        snprintf(buf, cap, "%s (thread %u)", names[c->kind], c->t->idx);
    return buf;
}

void ld__conn_lost(struct ld_conn *c, const char *kind, const char *fmt, ...)
{
    struct ld_run *r = c->t->run;
    char msg[LD_LINE - 64], label[48];
    va_list ap;

    if (c->state == LD_CS_CLOSED)
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    conn_label(c, label, sizeof(label));
    atomic_fetch_add_explicit(&r->conn_failures, 1, memory_order_relaxed);
    ld__error(r, kind, "%s: %s", label, msg);
    if (ld__on(r, LD_CHK_LIVENESS))
        ld__fail(r, LD_CHK_LIVENESS, "%s: %s", label, msg);
    for (unsigned i = 0; i < c->count; i++) {
        const struct ld_req *q = &c->fifo[(c->head + i) % c->cap];

        c->t->st.unsure++;
        if (c->kind == LD_CONN_LOAD)
            ld__load_unsure(c, q);
        else if (c->kind == LD_CONN_QPUSH || c->kind == LD_CONN_QPOP)
            ld__queue_unsure(c, q);
        else if (c->kind == LD_CONN_HASH)
            ld__hash_unsure(c, q);
        else if (c->kind == LD_CONN_SET)
            ld__set_unsure(c, q);
        else if (c->kind == LD_CONN_ZSET)
            ld__zset_unsure(c, q);
        else if (c->kind == LD_CONN_BANK || c->kind == LD_CONN_AUDIT)
            ld__bank_unsure(c, q);
        else if (c->kind == LD_CONN_MSUM_W || c->kind == LD_CONN_MSUM_R)
            ld__msum_unsure(c, q);
    }
    finished(c);
}

int ld__conn_start(struct ld_conn *c)
{
    struct ld_run *r = c->t->run;
    struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT, .data.ptr = c };
    int one = 1;

    c->fd = socket(r->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0) {
        ld__conn_lost(c, "connect", "socket: %s", strerror(errno));
        return -1;
    }
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    c->state = LD_CS_CONNECTING;
    c->deadline_ns = ld__now_ns() + (uint64_t)r->o->connect_timeout_ms * 1000000ull;
    if (connect(c->fd, (const struct sockaddr *)&r->addr, r->addrlen) < 0 &&
        errno != EINPROGRESS) {
        ld__conn_lost(c, "connect", "connect to %s:%d: %s", r->o->host, r->o->port,
                      strerror(errno));
        return -1;
    }
    c->want_out = true;
    if (epoll_ctl(c->t->epfd, EPOLL_CTL_ADD, c->fd, &ev) < 0) {
        ld__conn_lost(c, "connect", "epoll_ctl: %s", strerror(errno));
        return -1;
    }
    return 0;
}

static int out_reserve(struct ld_conn *c, size_t more)
{
    size_t need = c->out_len + more, cap = c->out_cap;
    char *p;

    if (need <= cap)
        return 0;
    if (c->out_off > 0) {        /* compact first: written bytes are dead */
        memmove(c->out, c->out + c->out_off, c->out_len - c->out_off);
        c->out_len -= c->out_off;
        c->out_off = 0;
        need = c->out_len + more;
    }
    while (cap < need)
        cap *= 2;
    if (cap == c->out_cap)
        return 0;
    p = realloc(c->out, cap);
    if (p == NULL)
        return -ENOMEM;
    c->out = p;
    c->out_cap = cap;
    return 0;
}

static void out_raw(struct ld_conn *c, const char *p, size_t n)
{
    if (out_reserve(c, n) < 0) {
        ld__conn_lost(c, "out of memory", "cannot grow the output buffer");
        return;
    }
    memcpy(c->out + c->out_len, p, n);
    c->out_len += n;
}

size_t ld__u64_str(char *buf, uint64_t v)
{
    char tmp[24];
    size_t n = 0, i;

    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v > 0);
    for (i = 0; i < n; i++)
        buf[i] = tmp[n - 1 - i];
    return n;
}

static void out_header(struct ld_conn *c, char type, uint64_t n)
{
    char buf[32];
    size_t len = 1;

    buf[0] = type;
    len += ld__u64_str(buf + 1, n);
    buf[len++] = '\r';
    buf[len++] = '\n';
    out_raw(c, buf, len);
}

void ld__out_array(struct ld_conn *c, unsigned n) { out_header(c, '*', n); }

void ld__out_bulk(struct ld_conn *c, const char *p, size_t n)
{
    out_header(c, '$', n);
    out_raw(c, p, n);
    out_raw(c, "\r\n", 2);
}

void ld__out_u64(struct ld_conn *c, uint64_t v)
{
    char buf[24];

    ld__out_bulk(c, buf, ld__u64_str(buf, v));
}

struct ld_req *ld__req_push(struct ld_conn *c, uint8_t kind)
{
    struct ld_req *q = &c->fifo[(c->head + c->count) % c->cap];

    c->count++;
    q->kind = kind;
    q->nkeys = 0;
    q->seq = 0;
    q->gen = 0;
    q->sent_ns = ld__now_ns();
    return q;
}

int ld__conn_flush(struct ld_conn *c)
{
    while (c->state == LD_CS_OPEN && c->out_off < c->out_len) {
        ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
                         MSG_NOSIGNAL);

        if (n > 0) {
            c->out_off += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            set_out(c, true);
            return 0;
        }
        ld__conn_lost(c, errno == ECONNRESET || errno == EPIPE ? "reset" : "write error",
                      "write: %s, %u requests outstanding", strerror(errno), c->count);
        return -1;
    }
    c->out_off = c->out_len = 0;
    if (c->state == LD_CS_OPEN)
        set_out(c, false);
    return 0;
}

static void on_reply(struct ld_conn *c, redisReply *rep)
{
    struct ld_thread *t = c->t;
    struct ld_req q;
    uint64_t now;

    if (c->count == 0) {
        char ex[80];

        ld_excerpt(ex, sizeof(ex), rep->str != NULL ? rep->str : "", rep->str != NULL ? rep->len : 0, 40);
        ld__conn_lost(c, "protocol", "reply with no request outstanding (type %d '%s')",
                      rep->type, ex);
        return;
    }
    q = c->fifo[c->head];          /* a copy: the handlers may push */
    c->head = (c->head + 1) % c->cap;
    c->count--;
    now = ld__now_ns();
    t->st.last_reply_ns = now;
    /* Redis does not count a command it does not know; neither do we. */
    if (!(rep->type == REDIS_REPLY_ERROR && strncmp(rep->str, "ERR unknown command", 19) == 0))
        t->st.commands++;
    switch (c->kind) {
    case LD_CONN_LOAD:
        ld_hist_record(&t->st.lat, now - q.sent_ns);
        atomic_fetch_add_explicit(&t->st.ops, 1, memory_order_relaxed);
        if (q.kind < LD_NOPS)
            t->st.by_op[q.kind]++;
        ld__load_reply(c, &q, rep);
        break;
    case LD_CONN_INFO:
        ld__info_reply(c, rep);
        break;
    case LD_CONN_CFG_READ:
    case LD_CONN_CFG_WRITE:
        ld__cfg_reply(c, &q, rep);
        break;
    case LD_CONN_QPUSH:
    case LD_CONN_QPOP:
        ld__queue_reply(c, &q, rep);
        break;
    case LD_CONN_HASH:
        ld__hash_reply(c, &q, rep);
        break;
    case LD_CONN_SET:
        ld__set_reply(c, &q, rep);
        break;
    case LD_CONN_ZSET:
        ld__zset_reply(c, &q, rep);
        break;
    case LD_CONN_BANK:
    case LD_CONN_AUDIT:
        ld__bank_reply(c, &q, rep);
        break;
    case LD_CONN_MSUM_W:
    case LD_CONN_MSUM_R:
        ld__msum_reply(c, &q, rep);
        break;
    }
}

static void on_readable(struct ld_conn *c)
{
    char buf[READ_CHUNK];

    while (c->state == LD_CS_OPEN) {
        ssize_t n = read(c->fd, buf, sizeof(buf));
        void *rep;

        if (n == 0) {
            ld__conn_lost(c, "eof", "server closed the connection, %u requests outstanding",
                          c->count);
            return;
        }
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return;
            ld__conn_lost(c, errno == ECONNRESET ? "reset" : "read error",
                          "read: %s, %u requests outstanding", strerror(errno), c->count);
            return;
        }
        if (redisReaderFeed(c->rd, buf, (size_t)n) != REDIS_OK) {
            ld__conn_lost(c, "out of memory", "reader buffer");
            return;
        }
        while (c->state == LD_CS_OPEN) {
            if (redisReaderGetReply(c->rd, &rep) != REDIS_OK) {
                ld__conn_lost(c, "protocol", "unparsable reply: %s", c->rd->errstr);
                return;
            }
            if (rep == NULL)
                break;
            on_reply(c, rep);
            freeReplyObject(rep);
        }
        if ((size_t)n < sizeof(buf))
            return;                 /* drained: skip the EAGAIN round trip */
    }
}

void ld__conn_event(struct ld_conn *c, uint32_t events)
{
    if (c->state == LD_CS_CONNECTING) {
        int err = 0;
        socklen_t len = sizeof(err);

        if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
            err = errno;
        if (err != 0) {
            ld__conn_lost(c, "connect", "connect to %s:%d: %s", c->t->run->o->host,
                          c->t->run->o->port, strerror(err));
            return;
        }
        if (!(events & (EPOLLOUT | EPOLLIN)))
            return;
        c->state = LD_CS_OPEN;
        set_out(c, false);
    }
    if (c->state != LD_CS_OPEN)
        return;
    if (events & (EPOLLIN | EPOLLHUP | EPOLLERR))
        on_readable(c);
    if (c->state == LD_CS_OPEN && (events & EPOLLOUT))
        ld__conn_flush(c);
}
