/*
 * A connection's replies on their way to the kernel. Replies are appended
 * to c->out (reply.c); once it holds SRV_OUT_CHUNK bytes and the next
 * reply does not fit, it is sealed into a chunk at the tail of c->outq and
 * a new c->out begun. So a large pending output is a list of chunks, as
 * Redis's reply list is: it never grows by realloc (which copies all of
 * it, and for a moment holds it twice), and what is pending is known
 * exactly (c->out.len + c->outq_bytes) for the output limit.
 *
 * A flush (once per loop pass, see worker.c's check hook) tries the write
 * at once: usually the socket has room and the batch costs one syscall,
 * with no chunk made. What the kernel does not take is sealed and handed
 * to libuv (uv_write, up to OUT_MAX_BUFS chunks at a time) to wait for
 * writability; new replies meanwhile go to a new c->out.
 *
 * Context: the conn's worker thread; no locks.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>

#include "conn.h"
#include "srv.h"

#define OUT_MAX_BUFS 64        /* chunks per write */
#define OUT_KEEP_BUF (64 * 1024)   /* a c->out above this is freed once written */

struct srv_out_chunk {
    struct srv_out_chunk *next;
    char *data;                /* a former c->out's buffer */
    size_t len;                /* bytes in data */
    size_t off;                /* bytes of them written */
};

void conn_out_init(struct srv_conn *c)
{
    proto_buf_init(&c->out);
    c->outq = NULL;
    c->outq_tail = &c->outq;
    c->outq_bytes = 0;
    c->wq_n = 0;
}

int srv_out_seal(struct srv_conn *c)
{
    if (!c->out.len)
        return 0;
    struct srv_out_chunk *k = malloc(sizeof(*k));
    if (!k)
        return -ENOMEM;   /* the caller grows c->out instead */
    *k = (struct srv_out_chunk){.data = c->out.data, .len = c->out.len};
    *c->outq_tail = k;
    c->outq_tail = &k->next;
    c->outq_bytes += k->len;
    proto_buf_init(&c->out);
    return 0;
}

static struct srv_out_chunk *pop(struct srv_conn *c)
{
    struct srv_out_chunk *k = c->outq;
    c->outq = k->next;
    if (!c->outq)
        c->outq_tail = &c->outq;
    c->outq_bytes -= k->len - k->off;
    return k;
}

static void chunk_free(struct srv_out_chunk *k)
{
    free(k->data);
    free(k);
}

void conn_out_free(struct srv_conn *c)
{
    while (c->outq)
        chunk_free(pop(c));
    proto_buf_free(&c->out);
    c->wq_n = 0;
}

/* Up to OUT_MAX_BUFS of the queue's unwritten bytes, oldest first. */
static unsigned gather(struct srv_conn *c, uv_buf_t *bufs, size_t *total)
{
    unsigned n = 0;
    *total = 0;
    for (struct srv_out_chunk *k = c->outq; k && n < OUT_MAX_BUFS; k = k->next) {
        bufs[n++] = uv_buf_init(k->data + k->off, (unsigned)(k->len - k->off));
        *total += k->len - k->off;
    }
    return n;
}

/* `n` bytes of the queue went out: drop what is done, note where the
 * first unfinished chunk stands. */
static void consume(struct srv_conn *c, size_t n)
{
    SRV_STAT_ADD(&c->w->stats, net_out, (uint64_t)n);
    while (n && c->outq) {
        struct srv_out_chunk *k = c->outq;
        size_t left = k->len - k->off;
        if (n < left) {
            k->off += n;
            c->outq_bytes -= n;
            return;
        }
        n -= left;
        k->off = k->len;
        chunk_free(pop(c));
    }
}

static void on_write(uv_write_t *req, int status);

/* Write the queue: what the kernel takes now, the rest through libuv
 * (at once when the kernel just said it is full: !try_first). 0 when all
 * of it is out or a write is in flight (CONN_WRITING); -1 when the conn
 * was closed. */
static int write_queue(struct srv_conn *c, bool try_first)
{
    uv_buf_t bufs[OUT_MAX_BUFS];
    size_t total;
    while (c->outq) {
        unsigned n = gather(c, bufs, &total);
        int w = try_first ? uv_try_write((uv_stream_t *)&c->tcp, bufs, n) : UV_EAGAIN;
        try_first = true;
        if (w < 0 && w != UV_EAGAIN) {
            conn_close(c);
            return -1;
        }
        if (w > 0)
            consume(c, (size_t)w);
        if (w > 0 && (size_t)w == total)
            continue;   /* all of these went: the next ones, if any */
        /* The kernel is full: libuv waits for writability. The chunks
         * stay at the head of the queue, untouched, until on_write. */
        n = gather(c, bufs, &total);
        c->wreq.data = c;
        if (uv_write(&c->wreq, (uv_stream_t *)&c->tcp, bufs, n, on_write) < 0) {
            conn_close(c);
            return -1;
        }
        c->wq_n = n;
        c->flags |= CONN_WRITING;
        return 0;
    }
    return 0;
}

static void on_write(uv_write_t *req, int status)
{
    struct srv_conn *c = req->data;
    c->flags &= ~CONN_WRITING;
    if (c->flags & CONN_CLOSING)
        return;   /* on_close frees the queue */
    if (status < 0) {
        conn_close(c);
        return;
    }
    /* the chunks of this write went out, all of them */
    size_t done = 0;
    struct srv_out_chunk *k = c->outq;
    for (unsigned i = 0; i < c->wq_n && k; i++, k = k->next)
        done += k->len - k->off;
    c->wq_n = 0;
    consume(c, done);
    conn_flush(c);
}

/* What the kernel takes now of the pending output, queue first, then
 * c->out: never waits, never closes. */
static void write_now(struct srv_conn *c)
{
    uv_buf_t bufs[OUT_MAX_BUFS];
    size_t total;
    while (c->outq) {
        unsigned n = gather(c, bufs, &total);
        int w = uv_try_write((uv_stream_t *)&c->tcp, bufs, n);
        if (w <= 0)
            return;
        consume(c, (size_t)w);
        if ((size_t)w < total)
            return;   /* the kernel is full */
    }
    if (c->out.len) {
        uv_buf_t b = uv_buf_init(c->out.data, (unsigned)c->out.len);
        int w = uv_try_write((uv_stream_t *)&c->tcp, &b, 1);
        if (w > 0)
            SRV_STAT_ADD(&c->w->stats, net_out, (uint64_t)w);
    }
}

void conn_close_flushed(struct srv_conn *c)
{
    /* A write in flight holds the queue's head: what follows it cannot
     * overtake it. A client over its limit was owed nothing more. */
    if (!(c->flags & (CONN_CLOSING | CONN_WRITING | CONN_CLOSE_ASAP)))
        write_now(c);
    conn_close(c);
}

static void flush(struct srv_conn *c);

void conn_flush(struct srv_conn *c)
{
    flush(c);
    if (!(c->flags & CONN_CLOSING))
        srv_conn_publish_mem(c);   /* what the write left */
}

static void flush(struct srv_conn *c)
{
    if (c->flags & CONN_CLOSE_ASAP) {   /* marked outside a batch (a loaded value) */
        conn_close(c);
        return;
    }
    if (c->flags & (CONN_CLOSING | CONN_WRITING))
        return;
    if (c->out.len || c->outq) {
        SRV_STAT_ADD(&c->w->stats, writes, 1);
        SRV_PEAK_NOTE(&c->w->peak_out[0], srv_reply_pending(c));
    }
    bool try_first = true;
    if (!c->outq && c->out.len) {
        /* The usual case: nothing queued, try the write now (no epoll_ctl,
         * no write request, no chunk). */
        uv_buf_t b = uv_buf_init(c->out.data, (unsigned)c->out.len);
        int n = uv_try_write((uv_stream_t *)&c->tcp, &b, 1);
        if (n < 0 && n != UV_EAGAIN) {
            conn_close(c);
            return;
        }
        if (n > 0)
            SRV_STAT_ADD(&c->w->stats, net_out, (uint64_t)n);
        if (n > 0 && (size_t)n == c->out.len) {
            c->out.len = 0;
            if (c->out.cap > OUT_KEEP_BUF)
                proto_buf_free(&c->out);   /* a big reply passed: give it back */
        } else {
            if (srv_out_seal(c) < 0) {   /* cannot keep the rest: the stream is lost */
                conn_close(c);
                return;
            }
            c->outq->off = n > 0 ? (size_t)n : 0;   /* the only chunk */
            c->outq_bytes -= c->outq->off;
            try_first = false;   /* the kernel is full: straight to libuv */
        }
    } else if (c->out.len && srv_out_seal(c) < 0) {
        conn_close(c);
        return;
    }
    if (write_queue(c, try_first) < 0 || c->outq)
        return;   /* closed, or the rest is in flight */
    /* A conn that waits for a load still owes that reply (shutdown drain
     * asks to close after replying; the load's answer comes first). */
    if ((c->flags & CONN_CLOSE_AFTER_REPLY) && !(c->flags & CONN_WAITING))
        conn_close(c);
}
