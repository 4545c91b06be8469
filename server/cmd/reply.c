/*
 * Reply helpers: every reply a handler writes goes through these, onto the
 * connection's output buffer. If the buffer cannot grow, the reply stream
 * can no longer be kept in step with the requests, so the connection is
 * marked to close once what it already holds is flushed. Each append first
 * checks the client's output limit (srv.h): over it, nothing more is kept
 * and the client is closed at the end of the batch.
 *
 * Context: the conn's worker thread (c->out is owned by it); no locks.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "srv.h"

#define REPLY_FRAME 32   /* the most a reply adds around its payload ("$<len>\r\n...\r\n") */

/* Over the limit: nothing more for this client. What it holds is dropped
 * at once (it would never be read in time), the rest of its pipeline is
 * not run, and conn.c closes it at the end of the batch, as Redis closes
 * a CLIENT_CLOSE_ASAP client before its next write. */
static void close_asap(struct srv_conn *c, size_t pending, const char *which)
{
    /* clients can get here at any rate: one line a second */
    static struct srv_log_throttle over_limit;
    c->flags |= CONN_CLOSE_ASAP;
    proto_buf_free(&c->out);   /* the queue goes with the conn, at the end of the batch */
    srv_log_throttled(&over_limit, CFG_LOG_WARNING, "Client id=%llu addr=%s scheduled to be "
                      "closed ASAP for overcoming of output buffer limits (%s limit, %zu "
                      "bytes pending).", (unsigned long long)c->id, c->addr, which, pending);
}

/* May n more bytes of reply be appended? The limit holds as a reply is
 * built, not only once a batch is done: 1000 pipelined GETs of a large
 * value, or one MGET of many, stop at the limit. */
static int reply_room(struct srv_conn *c, size_t n)
{
    if (c->flags & CONN_CLOSE_ASAP)
        return -EPIPE;
    /* A full out becomes a chunk rather than grow by realloc (which
     * copies all of it, and for a moment holds it twice). */
    if (n > c->out.cap - c->out.len && c->out.len >= SRV_OUT_CHUNK)
        srv_out_seal(c);
    const struct cfg_obuf_limit *l = &c->obuf_limit;
    if (!l->hard && !l->soft)
        return 0;
    size_t pending = srv_reply_pending(c);
    pending = n > SIZE_MAX - pending ? SIZE_MAX : pending + n;
    if (l->hard && pending > l->hard) {
        close_asap(c, pending, "hard");
        return -EPIPE;
    }
    if (!l->soft || pending <= l->soft) {
        c->obuf_soft_since = 0;
        return 0;
    }
    /* Over the soft limit: allowed for soft_seconds (Redis's rule: closed
     * once it has been over for longer than that). */
    if (!c->obuf_soft_since)
        c->obuf_soft_since = c->w->now_ms ? c->w->now_ms : 1;
    else if (c->w->now_ms - c->obuf_soft_since > (int64_t)l->soft_seconds * 1000) {
        close_asap(c, pending, "soft");
        return -EPIPE;
    }
    return 0;
}

static int reply_done(struct srv_conn *c, int rc)
{
    if (rc == -ENOMEM)
        c->flags |= CONN_CLOSE_AFTER_REPLY;
    return rc;
}

/* The check, then the append: `add` is evaluated only when it may go on. */
#define REPLY(c, n, add) (reply_room((c), (n)) < 0 ? -EPIPE : reply_done((c), (add)))

int srv_reply_ok(struct srv_conn *c)
{
    return REPLY(c, 5, proto_add_raw(&c->out, "+OK\r\n", 5));
}

int srv__reply_raw(struct srv_conn *c, const void *p, size_t n)
{
    return REPLY(c, n, proto_add_raw(&c->out, p, n));
}

int srv_reply_simple(struct srv_conn *c, const char *s)
{
    return REPLY(c, strlen(s) + REPLY_FRAME, proto_add_simple(&c->out, s));
}

int srv_reply_error(struct srv_conn *c, const char *s)
{
    srv__errstat_count(c, s);
    return REPLY(c, strlen(s) + REPLY_FRAME, proto_add_error(&c->out, s));
}

int srv_reply_errorf(struct srv_conn *c, const char *fmt, ...)
{
    char small[256], *msg = small;
    va_list ap;
    int n, rc;

    va_start(ap, fmt);
    n = vsnprintf(small, sizeof(small), fmt, ap);
    va_end(ap);
    if (n < 0)
        return reply_done(c, -ENOMEM);
    if ((size_t)n >= sizeof(small)) {
        msg = malloc((size_t)n + 1);
        if (msg == NULL)
            return reply_done(c, -ENOMEM);
        va_start(ap, fmt);
        vsnprintf(msg, (size_t)n + 1, fmt, ap);
        va_end(ap);
    }
    /* An error reply is one line: Redis turns CR and LF into spaces so a
     * client-supplied name cannot break the protocol. */
    for (char *p = msg; *p; p++)
        if (*p == '\r' || *p == '\n')
            *p = ' ';
    srv__errstat_count(c, msg);
    rc = REPLY(c, (size_t)n + REPLY_FRAME, proto_add_error(&c->out, msg));
    if (msg != small)
        free(msg);
    return rc;
}

int srv_reply_int(struct srv_conn *c, long long v)
{
    return REPLY(c, REPLY_FRAME, proto_add_int(&c->out, v));
}

int srv_reply_bulk(struct srv_conn *c, const void *p, size_t n)
{
    return REPLY(c, n + REPLY_FRAME, proto_add_bulk(&c->out, p, n));
}

int srv_reply_bulk_cstr(struct srv_conn *c, const char *s)
{
    return REPLY(c, strlen(s) + REPLY_FRAME, proto_add_bulk_cstr(&c->out, s));
}

int srv_reply_null(struct srv_conn *c)
{
    return REPLY(c, 5, proto_add_null(&c->out));
}

int srv_reply_null_array(struct srv_conn *c)
{
    return REPLY(c, 5, proto_add_null_array(&c->out));
}

int srv_reply_array(struct srv_conn *c, long long n)
{
    return REPLY(c, REPLY_FRAME, proto_add_array(&c->out, n));
}

void srv__reply_cache_err(struct srv_conn *c, int rc)
{
    switch (rc) {
    case CACHE_E_OOM:
        srv_reply_error(c, SRV_ERR_OOM);
        break;
    case CACHE_E_NOTINT:
        srv_reply_error(c, SRV_ERR_NOTINT);
        break;
    case CACHE_E_OVERFLOW:
        srv_reply_error(c, SRV_ERR_OVERFLOW);
        break;
    case CACHE_E_NOTFLOAT:
        srv_reply_error(c, SRV_ERR_NOTFLOAT);
        break;
    case CACHE_E_NANINF:
        srv_reply_error(c, "ERR increment would produce NaN or Infinity");
        break;
    case CACHE_E_WRONGTYPE:
        srv_reply_error(c, SRV_ERR_WRONGTYPE);
        break;
    case CACHE_E_NAN:
        srv_reply_error(c, "ERR resulting score is not a number (NaN)");
        break;
    case CACHE_E_TOOBIG:
        srv_reply_error(c, "ERR string exceeds maximum allowed size (proto-max-bulk-len)");
        break;
    case CACHE_E_NOMEM:
    default:
        srv_reply_error(c, SRV_ERR_NOMEM);
        break;
    }
}

void srv__reply_help(struct srv_conn *c, const char *upper,
                     const char *const *lines)
{
    char head[128];
    long long n = 0;

    while (lines[n] != NULL)
        n++;
    snprintf(head, sizeof(head),
             "%s <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
             upper);
    srv_reply_array(c, n + 3);
    srv_reply_simple(c, head);
    for (long long i = 0; i < n; i++)
        srv_reply_simple(c, lines[i]);
    srv_reply_simple(c, "HELP");
    srv_reply_simple(c, "    Prints this help.");
}
