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

#include "acl.h"
#include "blocked.h"
#include "conn.h"
#include "inject.h"
#include "loader.h"
#include "srv.h"

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
    srv_acl_conn_release(c);
    srv_multi_reset(c);   /* its watches leave their shards (no lock held here) */

    proto_parser_free(&c->parser);
    conn_out_free(c);
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
    srv_monitor_remove(c);
    srv_pause_conn_closed(c);
    srv_log(CFG_LOG_VERBOSE, "Client closed connection id=%llu addr=%s",
            (unsigned long long)c->id, c->addr);
    uv_close((uv_handle_t *)&c->tcp, on_close);
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

/*
 * The query buffer. Reads land in the worker's read buffer (w->rbuf),
 * shared by all its connections: one read is taken in whole before the
 * next begins, so it is free again by then. The bytes a batch leaves
 * unparsed (a command cut by the read) move to the connection's own
 * buffer, sized to them and grown geometrically, and the next read puts
 * them back in front of what it brings. So an idle connection holds no
 * query buffer and one in the middle of a command holds just its bytes
 * (3000 slow clients each sending a command in pieces cost 23 KB apiece
 * when every connection kept 16 KB of room to read into). Past half the
 * read buffer (a large value on its way) the connection reads into its
 * own buffer directly, as before.
 */
#define CONN_OWN_MIN 256            /* smallest own buffer */

/* Make the own buffer hold at least `need` bytes from in_start on,
 * compacting first. 0, or -ENOMEM. */
static int own_reserve(struct srv_conn *c, size_t need)
{
    size_t pending = c->in_len - c->in_start;
    if (c->in_start) {   /* compact: the parser keeps offsets, not pointers */
        memmove(c->in, c->in + c->in_start, pending);
        c->in_len = pending;
        c->in_start = 0;
    }
    if (c->in_cap >= need)
        return 0;
    size_t ncap = c->in_cap ? c->in_cap * 2 : CONN_OWN_MIN;
    while (ncap < need)
        ncap *= 2;
    char *n = realloc(c->in, ncap);
    if (!n)
        return -ENOMEM;
    c->in = n;
    c->in_cap = ncap;
    return 0;
}

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
    struct srv_conn *c = h->data;
    struct srv_worker *w = c->w;
    size_t pending = c->in_len - c->in_start;
    (void)hint;
    if (pending <= CONN_RBUF_SIZE / 2) {
        /* copied, not moved: the own buffer keeps them until the read is in */
        if (pending)
            memcpy(w->rbuf, c->in + c->in_start, pending);
        buf->base = w->rbuf + pending;
        buf->len = CONN_RBUF_SIZE - pending;
        return;
    }
    if (own_reserve(c, pending + CONN_RBUF_SIZE) < 0) {
        buf->base = NULL;   /* libuv reports UV_ENOBUFS: we close */
        buf->len = 0;
        return;
    }
    buf->base = c->in + c->in_len;
    buf->len = c->in_cap - c->in_len;
}

/* After a batch run from the read buffer: what it left unparsed goes to
 * the own buffer (an empty one is freed), and the conn reads its own
 * buffer again. */
static void own_take_rest(struct srv_conn *c, char *own, size_t own_cap)
{
    size_t rest = c->in_len - c->in_start;
    const char *from = c->in + c->in_start;
    c->in = own;
    c->in_cap = own_cap;
    c->in_start = c->in_len = 0;
    if (rest == 0) {
        free(c->in);
        c->in = NULL;
        c->in_cap = 0;
        return;
    }
    /* an own buffer far larger than the rest is given back first */
    if (c->in_cap > 4 * (rest > CONN_OWN_MIN ? rest : CONN_OWN_MIN)) {
        free(c->in);
        c->in = NULL;
        c->in_cap = 0;
    }
    if (own_reserve(c, rest) < 0) {
        conn_close(c);   /* the stream cannot be kept: like a failed read */
        return;
    }
    memcpy(c->in, from, rest);
    c->in_len = rest;
}

static void conn_process(struct srv_conn *c, const struct cfg *cfg);

/* `n` bytes came in at `base` (from on_alloc): run them. */
static void conn_read_done(struct srv_conn *c, const char *base, size_t n, const struct cfg *cfg)
{
    struct srv_worker *w = c->w;
    if (base < w->rbuf || base >= w->rbuf + CONN_RBUF_SIZE) {
        c->in_len += n;   /* into the own buffer */
        conn_process(c, cfg);
        return;
    }
    char *own = c->in;
    size_t own_cap = c->in_cap;
    c->in = w->rbuf;
    c->in_cap = CONN_RBUF_SIZE;
    c->in_len = (size_t)(base - w->rbuf) + n;   /* the pending bytes, then the new */
    c->in_start = 0;
    conn_process(c, cfg);
    own_take_rest(c, own, own_cap);
}

/* Until c authenticates, Redis's small limits (acl.h): the parser's, and
 * a cap on pending output below the normal class's hard limit (reply.c
 * checks c->obuf_limit per reply). Set before each command while c must
 * authenticate, so that an AUTH lifts them for the commands pipelined
 * after it. */
static inline void conn_auth_limits(struct srv_conn *c, const struct cfg_obuf_limit *normal)
{
    bool unauth = srv_acl_auth_required(c);
    size_t cap = __builtin_expect(unauth, 0) ? srv_acl_output_cap(c) : 0;

    c->parser.unauth = unauth;
    c->obuf_limit = *normal;
    if (cap && (!normal->hard || normal->hard > cap))
        c->obuf_limit.hard = cap;
}

/* Parse and run every complete command in the query buffer. */
static void conn_process(struct srv_conn *c, const struct cfg *cfg)
{
    const struct cfg_obuf_limit normal = cfg->obuf_limits[CFG_OBUF_NORMAL];

    c->parser.max_bulk_len = cfg->proto_max_bulk_len;
    c->obuf_limit = normal;   /* reply.c checks it per reply */
    while (!(c->flags & (CONN_CLOSE_AFTER_REPLY | CONN_CLOSING | CONN_WAITING |
                         CONN_CLOSE_ASAP | CONN_BLOCKED | CONN_PAUSED))) {
        size_t used = 0, argc;
        struct proto_arg *argv;
        if (c->in_start == c->in_len)
            break;   /* nothing to parse (and maybe no buffer at all) */
        /* An authenticated client (or one that needs no password) passes
         * on two flag tests; the limits are set while it must AUTH, and
         * lifted once, after. */
        if (__builtin_expect(c->parser.unauth || srv_acl_auth_required(c), 0))
            conn_auth_limits(c, &normal);
        enum proto_rc rc = proto_parse(&c->parser, c->in + c->in_start,
                                       c->in_len - c->in_start, &used, &argc, &argv);
        c->in_start += used;
        if (rc == PROTO_CMD) {
            if (__builtin_expect(atomic_load_explicit(&srv_pause_until_ms,
                                                      memory_order_relaxed) != 0, 0) &&
                srv__pause_holds(c, argc, argv)) {
                c->in_start -= used;   /* parsed again when the pause ends */
                break;
            }
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
    /* Over its output limit (reply.c): what it sent after is not run,
     * what it was owed was dropped; it goes now. */
    if (c->flags & CONN_CLOSE_ASAP) {
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
    if (c->in_start == c->in_len && c->in != c->w->rbuf) {
        c->in_start = c->in_len = 0;
        free(c->in);   /* drained: the next read goes to the read buffer */
        c->in = NULL;
        c->in_cap = 0;
    }
    if (c->flags & CONN_CLOSE_AFTER_REPLY)
        uv_read_stop((uv_stream_t *)&c->tcp);
    srv_conn_publish_mem(c);
    if (c->out.len || c->outq || (c->flags & CONN_CLOSE_AFTER_REPLY))
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
    w->now_ms = srv_now_ms();
    atomic_store_explicit(&c->last_ms, w->now_ms, memory_order_relaxed);
    SRV_STAT_ADD(&w->stats, net_in, (uint64_t)nread);
    SRV_STAT_ADD(&w->stats, reads, 1);
    SRV_PEAK_NOTE(&w->peak_in[0], c->in_len - c->in_start + (uint64_t)nread);
    /* The buffer limits for this batch; each request takes its own too. */
    const struct cfg *cfg = cfg_read_lock();
    conn_read_done(c, buf->base, (size_t)nread, cfg);
    cfg_read_unlock(cfg);
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
    conn_out_init(c);
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
    srv_acl_conn_init(c);   /* the default user */

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

    /* Protected mode (Redis's clientAcceptHandler): no password, not a
     * local peer: the DENIED text, then closed, nothing read. */
    const struct cfg *cfg = cfg_read_lock();
    bool refuse = srv_acl_protected_refuses(c, cfg);
    cfg_read_unlock(cfg);
    if (refuse) {
        atomic_fetch_add_explicit(&srv.rejected_conns, 1, memory_order_relaxed);
        srv_reply_error(c, srv_acl_denied_msg);
        c->flags |= CONN_CLOSE_AFTER_REPLY;
        conn_want_flush(c);
        return 0;
    }

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
        on_alloc((uv_handle_t *)&c->tcp, CONN_RBUF_SIZE, &b);
        if (!b.base)
            break;
        ssize_t n = recv(c->fd, b.base, b.len, MSG_DONTWAIT);
        if (n <= 0)
            break;
        c->w->now_ms = srv_now_ms();
        conn_read_done(c, b.base, (size_t)n, cfg);
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
