/*
 * A client connection, owned end to end by one worker thread: read into the
 * query buffer, parse every complete command, dispatch, append replies to
 * the output buffer, and flush once per loop pass (see worker.c's check
 * hook), so a pipelined batch costs one read and one write.
 *
 * Lifecycle (seed task 18): OPEN -> [CLOSE_AFTER_REPLY] -> CLOSING -> freed.
 * conn_close() is the only way to CLOSING and is idempotent, so the read
 * path, the write path, timeouts and shutdown may all ask for a close; the
 * memory is freed once, in on_close(), after libuv is done with the handle.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include "blocked.h"
#include "conn.h"
#include "inject.h"
#include "loader.h"
#include "srv.h"

#define CONN_READ_CHUNK (16 * 1024)
#define CONN_KEEP_BUF (64 * 1024)   /* buffers above this are freed when idle */

static void on_close(uv_handle_t *h)
{
    struct srv_conn *c = h->data;
    struct srv_worker *w = c->w;

    pthread_mutex_lock(&w->reg_lock);
    if (c->prev)
        c->prev->next = c->next;
    else
        w->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    free(c->name);
    pthread_mutex_unlock(&w->reg_lock);

    proto_parser_free(&c->parser);
    proto_buf_free(&c->out);
    proto_buf_free(&c->wbuf);
    free(c->in);
    SRV_STAT_ADD(&w->stats, clients, -1);
    atomic_fetch_sub_explicit(&srv.nclients, 1, memory_order_relaxed);
    free(c);
}

void conn_close(struct srv_conn *c)
{
    if (c->flags & CONN_CLOSING)
        return;
    c->flags |= CONN_CLOSING;
    srv_loader_conn_closed(c);
    srv_blocked_conn_closed(c);
    srv_log(CFG_LOG_VERBOSE, "Client closed connection id=%llu addr=%s",
            (unsigned long long)c->id, c->addr);
    uv_close((uv_handle_t *)&c->tcp, on_close);
}

void conn_close_flushed(struct srv_conn *c)
{
    size_t left = c->out.len - c->out_sent;

    if (left && !(c->flags & (CONN_CLOSING | CONN_WRITING))) {
        uv_buf_t b = uv_buf_init(c->out.data + c->out_sent, (unsigned)left);
        int n = uv_try_write((uv_stream_t *)&c->tcp, &b, 1);
        if (n > 0)
            SRV_STAT_ADD(&c->w->stats, net_out, (uint64_t)n);
    }
    conn_close(c);
}

/* Queue the conn for the end-of-pass flush. */
static void conn_want_flush(struct srv_conn *c)
{
    if (c->flags & (CONN_PENDING | CONN_CLOSING))
        return;
    c->flags |= CONN_PENDING;
    c->pending_next = c->w->pending;
    c->w->pending = c;
}

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
    struct srv_conn *c = h->data;
    (void)hint;
    if (c->in_cap - c->in_len < CONN_READ_CHUNK) {
        if (c->in_start) {   /* compact: the parser keeps offsets, not pointers */
            memmove(c->in, c->in + c->in_start, c->in_len - c->in_start);
            c->in_len -= c->in_start;
            c->in_start = 0;
        }
        if (c->in_cap - c->in_len < CONN_READ_CHUNK) {
            size_t ncap = c->in_cap * 2;
            if (ncap < c->in_len + CONN_READ_CHUNK)
                ncap = c->in_len + CONN_READ_CHUNK;
            char *n = realloc(c->in, ncap);
            if (!n) {
                buf->base = NULL;   /* libuv reports UV_ENOBUFS: we close */
                buf->len = 0;
                return;
            }
            c->in = n;
            c->in_cap = ncap;
        }
    }
    buf->base = c->in + c->in_len;
    buf->len = c->in_cap - c->in_len;
}

/* Parse and run every complete command in the query buffer. */
static void conn_process(struct srv_conn *c, const struct cfg *cfg)
{
    c->parser.max_bulk_len = cfg->proto_max_bulk_len;
    while (!(c->flags & (CONN_CLOSE_AFTER_REPLY | CONN_CLOSING | CONN_WAITING |
                         CONN_BLOCKED))) {
        size_t used = 0, argc;
        struct proto_arg *argv;
        enum proto_rc rc = proto_parse(&c->parser, c->in + c->in_start,
                                       c->in_len - c->in_start, &used, &argc, &argv);
        c->in_start += used;
        if (rc == PROTO_CMD) {
            srv_dispatch(c, argc, argv);
            continue;
        }
        if (rc == PROTO_NEED_MORE)
            break;
        if (rc == PROTO_ERR) {
            char msg[128];
            srv_reply_error(c, proto_strerror(&c->parser, msg, sizeof(msg)));
            srv_log(CFG_LOG_VERBOSE, "Protocol error (%s) from client: id=%llu addr=%s",
                    msg, (unsigned long long)c->id, c->addr);
            c->flags |= CONN_CLOSE_AFTER_REPLY;
            break;
        }
        /* PROTO_CLOSE_SILENT: an HTTP request sent to us (cross-protocol
         * scripting): Redis closes without a word, and so do we. */
        srv_log(CFG_LOG_WARNING, "Possible SECURITY ATTACK detected. It looks like "
                "somebody is sending POST or Host: commands to mmcache. Connection aborted.");
        conn_close(c);
        return;
    }
    /* Unparsed input over the limit: a request that never ends, or a
     * client pipelining while its GET waits for a load. */
    if (!(c->flags & (CONN_CLOSE_AFTER_REPLY | CONN_CLOSING)) &&
        c->in_len - c->in_start > cfg->client_query_buffer_limit) {
        srv_log(CFG_LOG_WARNING, "Closing client that reached max query buffer length: "
                "id=%llu addr=%s qbuf=%zu", (unsigned long long)c->id, c->addr,
                c->in_len - c->in_start);
        conn_close(c);
        return;
    }
    if (c->in_start == c->in_len) {
        c->in_start = c->in_len = 0;
        if (c->in_cap > CONN_KEEP_BUF) {   /* a big request passed: give it back */
            free(c->in);
            c->in = NULL;
            c->in_cap = 0;
        }
    }
    if (c->flags & CONN_CLOSE_AFTER_REPLY)
        uv_read_stop((uv_stream_t *)&c->tcp);
    size_t pending = c->out.len - c->out_sent + c->wbuf.len;
    if (cfg->client_output_buffer_limit && pending > cfg->client_output_buffer_limit) {
        srv_log(CFG_LOG_WARNING, "Client id=%llu addr=%s scheduled to be closed for "
                "overcoming of output buffer limits (%zu bytes pending).",
                (unsigned long long)c->id, c->addr, pending);
        conn_close(c);
        return;
    }
    if (c->out.len > c->out_sent || (c->flags & CONN_CLOSE_AFTER_REPLY))
        conn_want_flush(c);
}

void conn_resume(struct srv_conn *c)
{
    if (c->flags & CONN_CLOSING)
        return;
    const struct cfg *cfg = cfg_read_lock();
    conn_process(c, cfg);
    cfg_read_unlock(cfg);
    conn_want_flush(c);   /* the answer of the GET that waited, at least */
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    struct srv_conn *c = s->data;
    (void)buf;
    if (nread < 0) {   /* EOF, reset, or ENOBUFS */
        if (!INJECT(18)) {
            /* A peer that only shut its sending side still reads: the
             * replies already made for it go out (a served blocking
             * pop's element among them), as far as the kernel takes
             * them now. */
            if (nread == UV_EOF)
                conn_close_flushed(c);
            else
                conn_close(c);
        } else {
            /* BUG 18 (closing from the receiver): the reader closes the
             * handle itself, past conn_close's CLOSING state. The sender
             * does not know: a reply in flight is cancelled (on_write) or
             * one queued for this pass's flush fails (conn_flush), and,
             * seeing no CLOSING flag, it closes the handle a second time:
             * libuv's assertion, or the conn freed twice. */
            srv_loader_conn_closed(c);
            srv_blocked_conn_closed(c);
            uv_close((uv_handle_t *)&c->tcp, on_close);
        }
        return;
    }
    if (nread == 0)
        return;
    struct srv_worker *w = c->w;
    c->in_len += (size_t)nread;
    w->now_ms = srv_now_ms();
    atomic_store_explicit(&c->last_ms, w->now_ms, memory_order_relaxed);
    SRV_STAT_ADD(&w->stats, net_in, (uint64_t)nread);
    /* The buffer limits for this batch; each request takes its own too. */
    const struct cfg *cfg = cfg_read_lock();
    conn_process(c, cfg);
    cfg_read_unlock(cfg);
}

static void on_write(uv_write_t *req, int status)
{
    struct srv_conn *c = req->data;
    c->flags &= ~CONN_WRITING;
    c->wbuf.len = 0;   /* keep the memory for the next time a write blocks */
    if (c->flags & CONN_CLOSING)
        return;
    if (status < 0) {
        conn_close(c);
        return;
    }
    conn_flush(c);
}

void conn_flush(struct srv_conn *c)
{
    if (c->flags & (CONN_CLOSING | CONN_WRITING))
        return;
    size_t left = c->out.len - c->out_sent;
    if (left) {
        /* Try the write now: usually the socket has room and this is the
         * only syscall the batch costs (no epoll_ctl, no write request). */
        uv_buf_t b = uv_buf_init(c->out.data + c->out_sent, (unsigned)left);
        int n = uv_try_write((uv_stream_t *)&c->tcp, &b, 1);
        if (n < 0 && n != UV_EAGAIN) {
            conn_close(c);
            return;
        }
        if (n > 0) {
            SRV_STAT_ADD(&c->w->stats, net_out, (uint64_t)n);
            c->out_sent += (size_t)n;
            left -= (size_t)n;
        }
        if (left == 0) {
            c->out.len = c->out_sent = 0;
            if (c->out.cap > CONN_KEEP_BUF)
                proto_buf_free(&c->out);   /* a big reply passed: give it back */
        } else {
            /* The kernel is full: hand the rest to libuv, which waits for
             * writability. Swap buffers so new replies go to `out` while
             * the in-flight bytes stay put in `wbuf`. */
            struct proto_buf t = c->wbuf;
            c->wbuf = c->out;
            c->out = t;
            c->out.len = 0;
            size_t off = c->out_sent;
            c->out_sent = 0;
            b = uv_buf_init(c->wbuf.data + off, (unsigned)left);
            c->wreq.data = c;
            if (uv_write(&c->wreq, (uv_stream_t *)&c->tcp, &b, 1, on_write) < 0) {
                conn_close(c);
                return;
            }
            SRV_STAT_ADD(&c->w->stats, net_out, (uint64_t)left);
            c->flags |= CONN_WRITING;
            return;
        }
    }
    /* A conn that waits for a load still owes that reply (shutdown drain
     * asks to close after replying; the load's answer comes first). */
    if ((c->flags & CONN_CLOSE_AFTER_REPLY) && !(c->flags & CONN_WAITING))
        conn_close(c);
}

/* Redis 7.0's notion of a local client (protected mode, and the
 * enable-*-command "local" levers): a peer of exactly 127.0.0.1 or ::1.
 * The rest of 127.0.0.0/8 is not local, as in Redis. */
static bool peer_is_local(const struct sockaddr_storage *ss)
{
    if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)ss;
        return memcmp(&a->sin6_addr, &in6addr_loopback, sizeof(a->sin6_addr)) == 0;
    }
    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *a = (const struct sockaddr_in *)ss;
        return a->sin_addr.s_addr == htonl(INADDR_LOOPBACK);
    }
    return false;
}

/* "ip:port" for IPv4, "[ip]:port" for IPv6. */
static void format_addr(const struct sockaddr_storage *ss, char *out, size_t cap)
{
    char ip[INET6_ADDRSTRLEN] = "?";
    if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)ss;
        uv_ip6_name(a, ip, sizeof(ip));
        snprintf(out, cap, "[%s]:%d", ip, ntohs(a->sin6_port));
    } else {
        const struct sockaddr_in *a = (const struct sockaddr_in *)ss;
        uv_ip4_name(a, ip, sizeof(ip));
        snprintf(out, cap, "%s:%d", ip, ntohs(a->sin_port));
    }
}

int conn_accept(struct srv_worker *w, int fd)
{
    struct srv_conn *c = calloc(1, sizeof(*c));
    if (!c)
        return -ENOMEM;
    c->w = w;
    c->fd = fd;
    proto_parser_init(&c->parser);
    proto_buf_init(&c->out);
    proto_buf_init(&c->wbuf);
    if (uv_tcp_init(&w->loop, &c->tcp) < 0 || uv_tcp_open(&c->tcp, fd) < 0) {
        proto_parser_free(&c->parser);
        free(c);
        return -EINVAL;
    }
    c->tcp.data = c;
    uv_tcp_nodelay(&c->tcp, 1);
    c->id = atomic_fetch_add_explicit(&srv.next_client_id, 1, memory_order_relaxed);
    struct sockaddr_storage ss;
    int len = sizeof(ss);
    if (uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&ss, &len) == 0) {
        format_addr(&ss, c->addr, sizeof(c->addr));
        c->local = peer_is_local(&ss);
    }
    len = sizeof(ss);
    if (uv_tcp_getsockname(&c->tcp, (struct sockaddr *)&ss, &len) == 0)
        format_addr(&ss, c->laddr, sizeof(c->laddr));
    w->now_ms = srv_now_ms();
    c->ctime_ms = w->now_ms;
    atomic_store_explicit(&c->last_ms, w->now_ms, memory_order_relaxed);
    atomic_store_explicit(&c->last_cmd, "NULL", memory_order_relaxed);

    /* Publish to CLIENT LIST readers: the fields above are written before
     * the lock is released, so a reader that finds c under it sees them. */
    pthread_mutex_lock(&w->reg_lock);
    c->next = w->conns;
    if (w->conns)
        w->conns->prev = c;
    w->conns = c;
    pthread_mutex_unlock(&w->reg_lock);
    SRV_STAT_ADD(&w->stats, clients, 1);
    SRV_STAT_ADD(&w->stats, conns_received, 1);

    if (uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) < 0) {
        conn_close(c);
        return 0;
    }
    c->flags |= CONN_READING;
    srv_log(CFG_LOG_VERBOSE, "Accepted %s id=%llu on worker %u", c->addr,
            (unsigned long long)c->id, w->id);
    return 0;
}

void conn_drain(struct srv_conn *c)
{
    if (c->flags & CONN_CLOSING)
        return;
    uv_read_stop((uv_stream_t *)&c->tcp);
    /* Answer what the client already sent: read what the kernel holds for
     * us without waiting (libuv's reading is stopped, so we own the fd). */
    const struct cfg *cfg = cfg_read_lock();
    while (!(c->flags & (CONN_CLOSE_AFTER_REPLY | CONN_CLOSING))) {
        uv_buf_t b;
        on_alloc((uv_handle_t *)&c->tcp, CONN_READ_CHUNK, &b);
        if (!b.base)
            break;
        ssize_t n = recv(c->fd, b.base, b.len, MSG_DONTWAIT);
        if (n <= 0)
            break;
        c->in_len += (size_t)n;
        c->w->now_ms = srv_now_ms();
        conn_process(c, cfg);
    }
    cfg_read_unlock(cfg);
    if (c->flags & CONN_CLOSING)
        return;
    c->flags |= CONN_CLOSE_AFTER_REPLY;
    conn_want_flush(c);
}

int srv_conn_setname(struct srv_conn *c, const char *name, size_t len)
{
    char *n = NULL;
    if (name && len) {
        n = malloc(len + 1);
        if (!n)
            return -ENOMEM;
        memcpy(n, name, len);
        n[len] = 0;
    }
    pthread_mutex_lock(&c->w->reg_lock);
    free(c->name);
    c->name = n;
    pthread_mutex_unlock(&c->w->reg_lock);
    return 0;
}
