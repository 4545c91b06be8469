/*
 * Reply helpers: every reply a handler writes goes through these, onto the
 * connection's output buffer. If the buffer cannot grow, the reply stream
 * can no longer be kept in step with the requests, so the connection is
 * marked to close once what it already holds is flushed.
 *
 * Context: the conn's worker thread (c->out is owned by it); no locks.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "commands.h"
#include "srv.h"

static int reply_done(struct srv_conn *c, int rc)
{
    if (rc < 0)
        c->flags |= CONN_CLOSE_AFTER_REPLY;
    return rc;
}

int srv_reply_ok(struct srv_conn *c)
{
    return reply_done(c, proto_add_raw(&c->out, "+OK\r\n", 5));
}

int srv_reply_simple(struct srv_conn *c, const char *s)
{
    return reply_done(c, proto_add_simple(&c->out, s));
}

int srv_reply_error(struct srv_conn *c, const char *s)
{
    return reply_done(c, proto_add_error(&c->out, s));
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
    rc = proto_add_error(&c->out, msg);
    if (msg != small)
        free(msg);
    return reply_done(c, rc);
}

int srv_reply_int(struct srv_conn *c, long long v)
{
    return reply_done(c, proto_add_int(&c->out, v));
}

int srv_reply_bulk(struct srv_conn *c, const void *p, size_t n)
{
    return reply_done(c, proto_add_bulk(&c->out, p, n));
}

int srv_reply_bulk_cstr(struct srv_conn *c, const char *s)
{
    return reply_done(c, proto_add_bulk_cstr(&c->out, s));
}

int srv_reply_null(struct srv_conn *c)
{
    return reply_done(c, proto_add_null(&c->out));
}

int srv_reply_null_array(struct srv_conn *c)
{
    return reply_done(c, proto_add_null_array(&c->out));
}

int srv_reply_array(struct srv_conn *c, long long n)
{
    return reply_done(c, proto_add_array(&c->out, n));
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

bool srv__reply_stop(struct srv_conn *c)
{
    if (c->flags & (CONN_CLOSE_AFTER_REPLY | CONN_CLOSING))
        return true;
    uint64_t lim = c->cfg->client_output_buffer_limit;
    if (lim && c->out.len - c->out_sent + c->wbuf.len > lim) {
        /* conn.c closes it after this request without sending the rest,
         * exactly as it would have once the reply was complete. */
        c->flags |= CONN_CLOSE_AFTER_REPLY;
        return true;
    }
    return false;
}
