/*
 * `loader redis HOST:PORT`: a miss is loaded with GET from an upstream
 * Redis (hiredis, blocking contexts). Connections are opened on demand and
 * kept in a small pool, so a busy loader does not pay a TCP handshake per
 * miss.
 *
 * The deadline bounds every step: the connect (redisConnectWithTimeout),
 * the write (redisSetTimeout), and the wait for the reply, which polls in
 * slices of at most 10 ms checking *cancel between them, so a hung upstream
 * costs a load its deadline and shutdown 10 ms. Not bounded: the connect
 * does not see *cancel (the deadline still ends it), and name resolution
 * (getaddrinfo inside hiredis) sees neither: prefer an address.
 *
 * A connection that saw any error (I/O, timeout, cancel, protocol, a reply
 * too long or of the wrong shape, bytes past the reply) is freed, never
 * pooled: after a timeout its reply may still arrive, and would answer the
 * next GET sent on it.
 *
 * The upstream is not trusted with the server's memory: what it sends is
 * checked as it is read (check_reply), and a value longer than
 * max_value_len is refused from its header on, without reading it.
 *
 * hiredis writes with write(2): the process must ignore SIGPIPE (main.c
 * does), or writing to a pooled connection the upstream closed kills it.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#include "origin.h"
#include "origin_kind.h"

/* Idle connections kept; beyond that a finished load closes its own.
 * The loader pool is small, so this is rarely reached. */
#define REDIS_POOL_MAX 64
#define REDIS_SLICE_MS 10   /* how late a reply wait may notice *cancel */

struct origin_redis {
    struct origin head;             /* immutable after create (origin.c fills it) */
    char host[CFG_LOADER_ARGLEN];   /* immutable after create: no brackets */
    int port;                       /* immutable after create */
    /* A leaf lock, held only to push or pop one pointer: never across I/O. */
    pthread_mutex_t lock;
    redisContext *idle[REDIS_POOL_MAX];   /* guarded by: lock; a stack */
    unsigned nidle;                       /* guarded by: lock */
};

static struct origin *redis_create(const char *arg, uint64_t epoch, char *err,
                                   size_t errlen)
{
    struct origin_redis *r = calloc(1, sizeof(*r));
    if (!r) {
        snprintf(err, errlen, "redis: out of memory");
        return NULL;
    }
    if (origin__parse_hostport("redis", arg, r->host, sizeof(r->host), &r->port,
                               err, errlen) != 0) {
        free(r);
        return NULL;
    }
    pthread_mutex_init(&r->lock, NULL);
    return &r->head;
}

static redisContext *pool_pop(struct origin_redis *r)
{
    redisContext *c = NULL;
    pthread_mutex_lock(&r->lock);
    if (r->nidle > 0)
        c = r->idle[--r->nidle];
    pthread_mutex_unlock(&r->lock);
    return c;
}

/* A stack, so the most recently used connection goes out first: the one
 * least likely to have been closed by the upstream's idle timeout. */
static void pool_push(struct origin_redis *r, redisContext *c)
{
    pthread_mutex_lock(&r->lock);
    if (r->nidle < REDIS_POOL_MAX) {
        r->idle[r->nidle++] = c;
        c = NULL;
    }
    pthread_mutex_unlock(&r->lock);
    if (c)
        redisFree(c);   /* outside the lock: close(2) is I/O */
}

static struct timeval ms_to_tv(int64_t ms)
{
    if (ms < 1)
        ms = 1;   /* hiredis treats a zero timeout as none */
    return (struct timeval){.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};
}

/* hiredis reports a socket timeout as the errno text of EAGAIN (a read or
 * write under SO_RCVTIMEO/SO_SNDTIMEO) or of ETIMEDOUT (its connect). */
static bool is_timeout(const redisContext *c)
{
#ifdef REDIS_ERR_TIMEOUT   /* hiredis >= 1.0 has a code for it */
    if (c->err == REDIS_ERR_TIMEOUT)
        return true;
#endif
    return c->err == REDIS_ERR_IO && (strcmp(c->errstr, strerror(EAGAIN)) == 0 ||
                                      strcmp(c->errstr, strerror(ETIMEDOUT)) == 0);
}

static enum origin_rc conn_error(const struct origin_redis *r, const redisContext *c,
                                 struct origin_result *out)
{
    if (is_timeout(c))
        return origin__errf(out, "%s: timeout", r->head.spec);
    return origin__errf(out, "%s: %s", r->head.spec, c->errstr);
}

static redisContext *conn_open(struct origin_redis *r, int64_t deadline_ms,
                               struct origin_result *out)
{
    int64_t left = deadline_ms - origin_now_ms();
    if (left <= 0) {
        origin__errf(out, "%s: timeout", r->head.spec);
        return NULL;
    }
    redisContext *c = redisConnectWithTimeout(r->host, r->port, ms_to_tv(left));
    if (!c) {
        origin__errf(out, "%s: out of memory", r->head.spec);
        return NULL;
    }
    /* Keepalive: a pooled connection whose peer vanished silently (a NAT
     * or firewall dropped it) then errors while idle and is retried,
     * instead of costing a load its whole deadline. */
    if (!c->err)
        redisEnableKeepAlive(c);   /* sets c->err if it fails */
    if (c->err) {
        conn_error(r, c, out);
        redisFree(c);
        return NULL;
    }
    return c;
}

/* How a round trip ended: a reply; a broken connection (worth one retry
 * on a fresh one when it came from the pool: GET is idempotent, and
 * conn_open fails at once if no time is left); or the deadline or cancel,
 * which no retry fixes. out->err says why; the caller frees c. */
enum trip { TRIP_REPLY, TRIP_BROKEN, TRIP_FAILED };

/* Wait until c's fd is readable, the deadline passes or *cancel is set. */
static enum trip await_readable(const struct origin_redis *r, const redisContext *c,
                                int64_t deadline_ms, const _Atomic bool *cancel,
                                struct origin_result *out)
{
    for (;;) {
        /* acquire: pairs with the release store of whoever sets *cancel */
        if (cancel && atomic_load_explicit(cancel, memory_order_acquire)) {
            origin__errf(out, "%s: cancelled", r->head.spec);
            return TRIP_FAILED;
        }
        int64_t left = deadline_ms - origin_now_ms();
        if (left <= 0) {
            origin__errf(out, "%s: timeout", r->head.spec);
            return TRIP_FAILED;
        }
        struct pollfd pfd = {.fd = c->fd, .events = POLLIN};
        int n = poll(&pfd, 1, (int)(left < REDIS_SLICE_MS ? left : REDIS_SLICE_MS));
        if (n > 0)
            return TRIP_REPLY;   /* readable, or an error read() will report */
        if (n < 0 && errno != EINTR) {
            origin__errf(out, "%s: poll: %s", r->head.spec, strerror(errno));
            return TRIP_FAILED;
        }
    }
}

#define REDIS_LINE_MAX 4096   /* an error line, or a bulk's "$<len>", at most */
#define REDIS_READ_CHUNK (16 * 1024)

/*
 * What the upstream sent for one GET, checked as it is read, before
 * hiredis is given it: the answer is "$<len>\r\n<len bytes>\r\n",
 * "$-1\r\n" or "-<error>\r\n". A hostile or broken upstream that sends
 * another type (an array of a billion elements), declares a bulk longer
 * than max_value_len (400 MB), or sends more bytes than its answer holds,
 * is refused at once: the server never holds more than about
 * max_value_len of it. Each round trip starts on a fresh stream (a
 * connection is pooled only with nothing left unread), so byte 0 is the
 * answer's first.
 */
struct answer {
    char head[REDIS_LINE_MAX];  /* the first line, as far as it came */
    size_t hlen;
    bool head_done;             /* the first line is in: `expect` is known */
    uint64_t expect;            /* bytes the whole answer takes */
    uint64_t got;               /* bytes read so far */
};

static enum trip check_answer(const struct origin_redis *r, struct answer *a, const char *buf,
                              size_t n, uint64_t max, struct origin_result *out)
{
    a->got += n;
    if (!a->head_done) {
        size_t take = n < sizeof(a->head) - a->hlen ? n : sizeof(a->head) - a->hlen;
        memcpy(a->head + a->hlen, buf, take);
        a->hlen += take;
        if (a->head[0] != '$' && a->head[0] != '-') {
            unsigned char t = (unsigned char)a->head[0];
            origin__errf(out, "%s: unexpected reply type '%c' to GET", r->head.spec,
                         t >= 32 && t < 127 ? t : '?');
            return TRIP_FAILED;
        }
        const char *nl = memchr(a->head, '\n', a->hlen);
        if (!nl) {
            if (a->hlen < sizeof(a->head))
                return TRIP_REPLY;   /* the line is still coming */
            origin__errf(out, "%s: reply line longer than %d bytes", r->head.spec,
                         REDIS_LINE_MAX);
            return TRIP_FAILED;
        }
        a->head_done = true;
        a->expect = (uint64_t)(nl - a->head) + 1;
        if (a->head[0] == '$') {
            char *end;
            errno = 0;
            long long len = strtoll(a->head + 1, &end, 10);
            if (errno || end == a->head + 1 || *end != '\r' || len < -1) {
                origin__errf(out, "%s: bad bulk length in the reply to GET", r->head.spec);
                return TRIP_FAILED;
            }
            if (len > 0 && (uint64_t)len > max) {
                origin__too_large(out, (uint64_t)len);
                return TRIP_FAILED;
            }
            if (len >= 0)
                a->expect += (uint64_t)len + 2;
        }
    }
    if (a->got > a->expect) {
        origin__errf(out, "%s: more bytes than the reply to GET", r->head.spec);
        return TRIP_FAILED;
    }
    return TRIP_REPLY;
}

/* Read what the socket has (poll said it is readable), check it, give it
 * to hiredis's reader. */
static enum trip read_answer(struct origin_redis *r, redisContext *c, struct answer *a,
                             uint64_t max, struct origin_result *out)
{
    char buf[REDIS_READ_CHUNK];
    ssize_t n;
    do
        n = read(c->fd, buf, sizeof(buf));
    while (n < 0 && errno == EINTR);
    if (n <= 0) {
        origin__errf(out, "%s: %s", r->head.spec, n == 0 ? "Server closed the connection"
                                                          : strerror(errno));
        return TRIP_BROKEN;
    }
    enum trip t = check_answer(r, a, buf, (size_t)n, max, out);
    if (t != TRIP_REPLY)
        return t;
    if (redisReaderFeed(c->reader, buf, (size_t)n) != REDIS_OK) {
        origin__errf(out, "%s: out of memory", r->head.spec);
        return TRIP_FAILED;
    }
    return TRIP_REPLY;
}

static enum trip round_trip(struct origin_redis *r, redisContext *c, const char *key,
                            size_t klen, int64_t deadline_ms, uint64_t max,
                            const _Atomic bool *cancel, redisReply **reply,
                            struct origin_result *out)
{
    /* Bounds the blocking write; reads only happen once poll says so. */
    if (redisSetTimeout(c, ms_to_tv(deadline_ms - origin_now_ms())) != REDIS_OK ||
        redisAppendCommand(c, "GET %b", key, klen) != REDIS_OK)
        goto out_broken;
    int done = 0;
    do {
        if (redisBufferWrite(c, &done) != REDIS_OK)
            goto out_broken;
    } while (!done);

    void *rep = NULL;
    struct answer *a = calloc(1, sizeof(*a));
    if (!a) {
        origin__errf(out, "%s: out of memory", r->head.spec);
        return TRIP_FAILED;
    }
    enum trip t = TRIP_REPLY;
    for (;;) {
        if (redisGetReplyFromReader(c, &rep) != REDIS_OK) {
            t = TRIP_FAILED;   /* a protocol error: the stream is lost */
            conn_error(r, c, out);
            break;
        }
        if (rep)
            break;
        if ((t = await_readable(r, c, deadline_ms, cancel, out)) != TRIP_REPLY ||
            (t = read_answer(r, c, a, max, out)) != TRIP_REPLY)
            break;
    }
    free(a);
    *reply = rep;
    return t;
out_broken:
    conn_error(r, c, out);
    return TRIP_BROKEN;
}

static enum origin_rc map_reply(const struct origin_redis *r, redisReply *rep,
                                struct origin_result *out)
{
    switch (rep->type) {
    case REDIS_REPLY_STRING:
        /* The value is taken from the reply, not copied: hiredis made it
         * with malloc, and freeReplyObject frees a NULL str. */
        out->data = rep->str;
        out->len = rep->len;
        rep->str = NULL;
        rep->len = 0;
        return ORIGIN_VALUE;
    case REDIS_REPLY_NIL:
        return ORIGIN_NOTFOUND;
    case REDIS_REPLY_ERROR:   /* "WRONGTYPE ...", "NOAUTH ...": the upstream's words */
        return origin__errf(out, "%s: %.*s", r->head.spec, (int)rep->len, rep->str);
    default:                  /* not an answer to GET: a proxy or a bug upstream */
        return origin__errf(out, "%s: unexpected reply type %d to GET", r->head.spec,
                            rep->type);
    }
}

static enum origin_rc redis_load(struct origin *o, const char *key, size_t klen,
                                 const struct origin_params *p,
                                 const _Atomic bool *cancel,
                                 struct origin_result *out)
{
    struct origin_redis *r = (struct origin_redis *)o;
    /* A pooled connection may have died while idle (upstream restart,
     * idle timeout), and then so has every pooled one: the one retry uses
     * a fresh connection, whose failure is final. */
    redisContext *c = pool_pop(r);
    for (bool pooled = c != NULL;; pooled = false, c = NULL) {
        if (!c && !(c = conn_open(r, p->deadline_ms, out)))
            return ORIGIN_ERROR;
        redisReply *rep = NULL;
        enum trip t = round_trip(r, c, key, klen, p->deadline_ms, p->max_value_len, cancel,
                                 &rep, out);
        if (t == TRIP_REPLY) {
            enum origin_rc rc = map_reply(r, rep, out);
            freeReplyObject(rep);
            pool_push(r, c);   /* in sync: an error reply is still a reply */
            return rc;
        }
        redisFree(c);
        if (t == TRIP_FAILED || !pooled)
            return ORIGIN_ERROR;
    }
}

static void redis_destroy(struct origin *o)
{
    struct origin_redis *r = (struct origin_redis *)o;
    /* The last reference is gone, so no load is running: no lock needed,
     * but every idle connection is ours to close. */
    for (unsigned i = 0; i < r->nidle; i++)
        redisFree(r->idle[i]);
    pthread_mutex_destroy(&r->lock);
    free(r);
}

const struct origin_ops origin_redis_ops = {
    .kind = "redis",
    .create = redis_create,
    .load = redis_load,
    .destroy = redis_destroy,
};
