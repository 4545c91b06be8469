/*
 * The metrics endpoint's HTTP/1.1 server, on the acceptor's loop (see
 * metrics.h for why there). Requests are parsed by nodejs's http_parser
 * (libhttp-parser-dev); one request per connection, answered with
 * "Connection: close":
 *   GET or HEAD /metrics (a query string is ignored)  200, the exposition
 *   another path                                      404
 *   another method                                    405, Allow: GET, HEAD
 *   anything http_parser refuses                      400
 *   a head over SRV_METRICS_MAX_REQUEST bytes         431
 * Against a hostile client: at most SRV_METRICS_MAX_CONNS connections
 * (more are accepted and closed at once, so the backlog never fills with
 * them), a request head capped in bytes, and one deadline from accept to
 * the reply written: a client that sends headers forever, a byte at a
 * time, or never reads its reply, is closed when it passes.
 *
 * Everything here is owned by: the acceptor (main) thread.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <http_parser.h>

#include "acceptor.h"
#include "metrics.h"

struct mconn {
    uv_tcp_t tcp;                  /* tcp.data = this */
    uv_timer_t deadline;           /* closes the connection when it fires */
    http_parser parser;
    size_t got;                    /* bytes of request read */
    char path[16];                 /* the URL's path, when it fits */
    size_t path_len;
    bool path_long;                /* the path did not fit: it is not /metrics */
    bool complete;                 /* the parser saw the whole request */
    bool closing;
    unsigned handles;              /* tcp and deadline not yet closed */
    uv_write_t wr;
    uv_shutdown_t sd;
    struct proto_buf resp;
    struct mconn *prev, *next;
};

static uv_tcp_t listener;
static bool listening;
static struct mconn *conns;        /* open connections */
static unsigned nconns;
static char rbuf[2048];            /* every read lands here: parsed before the next */
static http_parser_settings settings;

static void on_closed(uv_handle_t *h)
{
    struct mconn *m = h->data;

    if (--m->handles > 0)
        return;
    proto_buf_free(&m->resp);
    free(m);
}

static void conn_close(struct mconn *m)
{
    if (m->closing)
        return;
    m->closing = true;
    if (m->prev != NULL)
        m->prev->next = m->next;
    else
        conns = m->next;
    if (m->next != NULL)
        m->next->prev = m->prev;
    nconns--;
    uv_close((uv_handle_t *)&m->tcp, on_closed);
    uv_close((uv_handle_t *)&m->deadline, on_closed);
}

static void on_deadline(uv_timer_t *t)
{
    conn_close(t->data);
}

/* After the reply, what the client still sends is read and dropped
 * until it closes (or the deadline): closing a socket with unread input
 * sends a reset, which can destroy the reply before the client reads it
 * (a lingering close, as HTTP servers do). */
static void on_drain(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    (void)buf;
    if (nread < 0)
        conn_close(s->data);
}

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf);

static void on_shut(uv_shutdown_t *sd, int status)
{
    struct mconn *m = sd->data;

    if (m->closing)
        return;
    if (status < 0 || uv_read_start((uv_stream_t *)&m->tcp, on_alloc, on_drain) != 0)
        conn_close(m);
}

static void on_written(uv_write_t *wr, int status)
{
    struct mconn *m = wr->data;

    if (m->closing)
        return;
    m->sd.data = m;
    if (status < 0 || uv_shutdown(&m->sd, (uv_stream_t *)&m->tcp, on_shut) != 0)
        conn_close(m);
}

static const char *reason(int status)
{
    switch (status) {
    case 200: return "OK";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 431: return "Request Header Fields Too Large";
    default: return "Bad Request";
    }
}

/* Answer and close once written. The body is built first, then the head
 * is put in front of it (its Content-Length known). */
static void respond(struct mconn *m, int status)
{
    struct proto_buf body;
    char head[256];
    int rc = 0;

    uv_read_stop((uv_stream_t *)&m->tcp);
    proto_buf_init(&body);
    if (status == 200)
        rc = srv_metrics_expose(&body);
    else
        rc = proto_buf_append(&body, reason(status), strlen(reason(status)));
    if (rc == 0 && status != 200)
        rc = proto_buf_append(&body, "\n", 1);
    if (rc < 0) {   /* out of memory: nothing sensible to say */
        proto_buf_free(&body);
        conn_close(m);
        return;
    }
    bool head_only = status == 200 && m->parser.method == HTTP_HEAD;
    int n = snprintf(head, sizeof(head),
                     "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n%s"
                     "Connection: close\r\n\r\n", status, reason(status),
                     status == 200 ? "text/plain; version=0.0.4; charset=utf-8" : "text/plain",
                     body.len, status == 405 ? "Allow: GET, HEAD\r\n" : "");
    if (proto_buf_append(&m->resp, head, (size_t)n) < 0 ||
        (!head_only && proto_buf_append(&m->resp, body.data, body.len) < 0)) {
        proto_buf_free(&body);
        conn_close(m);
        return;
    }
    proto_buf_free(&body);
    uv_buf_t buf = uv_buf_init(m->resp.data, (unsigned)m->resp.len);
    m->wr.data = m;
    if (uv_write(&m->wr, (uv_stream_t *)&m->tcp, &buf, 1, on_written) != 0)
        conn_close(m);
}

static int on_url(http_parser *p, const char *at, size_t len)
{
    struct mconn *m = p->data;

    if (m->path_len + len >= sizeof(m->path)) {
        m->path_long = true;
        return 0;
    }
    memcpy(m->path + m->path_len, at, len);
    m->path_len += len;
    return 0;
}

static int on_message_complete(http_parser *p)
{
    struct mconn *m = p->data;

    m->complete = true;
    http_parser_pause(p, 1);   /* one request a connection: what follows is not read */
    return 0;
}

/* Another method is answered at its head: its body, whatever its size,
 * is not waited for (nor counted against the head's cap). */
static int on_headers_complete(http_parser *p)
{
    if (p->method != HTTP_GET && p->method != HTTP_HEAD)
        on_message_complete(p);
    return 0;
}

static int judge(struct mconn *m)
{
    if (m->parser.method != HTTP_GET && m->parser.method != HTTP_HEAD)
        return 405;
    m->path[m->path_len] = '\0';
    size_t plen = strcspn(m->path, "?");
    if (m->path_long || plen != strlen("/metrics") || memcmp(m->path, "/metrics", plen) != 0)
        return 404;
    return 200;
}

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
    (void)h;
    (void)hint;
    *buf = uv_buf_init(rbuf, sizeof(rbuf));
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    struct mconn *m = s->data;

    if (nread < 0) {
        conn_close(m);
        return;
    }
    if (nread == 0)
        return;
    m->got += (size_t)nread;
    if (m->got > SRV_METRICS_MAX_REQUEST) {
        respond(m, 431);
        return;
    }
    size_t used = http_parser_execute(&m->parser, &settings, buf->base, (size_t)nread);
    enum http_errno e = HTTP_PARSER_ERRNO(&m->parser);
    if (m->complete)
        respond(m, judge(m));
    else if (e == HPE_HEADER_OVERFLOW)
        respond(m, 431);
    else if (e != HPE_OK || used != (size_t)nread)
        respond(m, 400);
}

/* Too many connections, or no memory for one: accept it and close it at
 * once, so it neither waits in the backlog nor is retried there. libuv
 * has already accepted the socket and stops watching the listener until
 * uv_accept takes it, so it must be taken into a handle: a small one of
 * its own, or the static spare when even that cannot be had. Were the
 * spare still closing too (two allocation failures within one loop pass),
 * the endpoint would stop accepting for good: said in the log. */
static uv_tcp_t spare;
static bool spare_busy;

static void on_shed_closed(uv_handle_t *h)
{
    if (h == (uv_handle_t *)&spare)
        spare_busy = false;
    else
        free(h);
}

static void shed(uv_stream_t *server)
{
    uv_tcp_t *t = malloc(sizeof(*t));

    if (t == NULL) {
        if (spare_busy) {
            srv_log(CFG_LOG_WARNING, "metrics: out of memory: no longer accepting HTTP connections");
            return;
        }
        t = &spare;
        spare_busy = true;
    }
    uv_tcp_init(server->loop, t);
    uv_accept(server, (uv_stream_t *)t);
    uv_close((uv_handle_t *)t, on_shed_closed);
}

static void on_connection(uv_stream_t *server, int status)
{
    struct mconn *m;

    if (status < 0)
        return;
    if (nconns >= SRV_METRICS_MAX_CONNS || (m = calloc(1, sizeof(*m))) == NULL) {
        shed(server);
        return;
    }
    uv_tcp_init(server->loop, &m->tcp);
    uv_timer_init(server->loop, &m->deadline);
    m->tcp.data = m->deadline.data = m;
    m->handles = 2;
    proto_buf_init(&m->resp);
    m->next = conns;
    if (conns != NULL)
        conns->prev = m;
    conns = m;
    nconns++;
    if (uv_accept(server, (uv_stream_t *)&m->tcp) != 0) {
        conn_close(m);
        return;
    }
    http_parser_init(&m->parser, HTTP_REQUEST);
    m->parser.data = m;
    uv_timer_start(&m->deadline, on_deadline, SRV_METRICS_DEADLINE_MS, 0);
    if (uv_read_start((uv_stream_t *)&m->tcp, on_alloc, on_read) != 0)
        conn_close(m);
}

int srv_metrics_init(uv_loop_t *loop, const struct cfg *cfg, char *err, size_t errlen)
{
    if (cfg->metrics_port == 0)
        return 0;
    int fd = srv__listen_open(cfg->bind, cfg->metrics_port, err, errlen);
    if (fd < 0)
        return -1;
    http_parser_settings_init(&settings);
    settings.on_url = on_url;
    settings.on_headers_complete = on_headers_complete;
    settings.on_message_complete = on_message_complete;
    uv_tcp_init(loop, &listener);
    int rc = uv_tcp_open(&listener, fd);
    if (rc == 0)
        rc = uv_listen((uv_stream_t *)&listener, 64, on_connection);
    if (rc != 0) {
        snprintf(err, errlen, "metrics-port %d: %s", cfg->metrics_port, uv_strerror(rc));
        uv_close((uv_handle_t *)&listener, NULL);   /* closes fd */
        return -1;
    }
    listening = true;
    srv_log(CFG_LOG_NOTICE, "Metrics for Prometheus on http://%s%s%s:%d/metrics",
            strchr(cfg->bind, ':') ? "[" : "", cfg->bind, strchr(cfg->bind, ':') ? "]" : "",
            cfg->metrics_port);
    return 0;
}

void srv_metrics_close(void)
{
    if (listening)
        uv_close((uv_handle_t *)&listener, NULL);
    listening = false;
    while (conns != NULL)
        conn_close(conns);
}
