/*
 * proto: RESP2 request parsing and reply encoding over plain byte buffers.
 *
 * Knows nothing of sockets or the cache. All functions are pure with
 * respect to their arguments: a parser or buffer is owned by one thread
 * (in mmcache, the worker that owns the connection) and needs no lock.
 */
#ifndef MMCACHE_PROTO_H
#define MMCACHE_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Redis 7 limits, used as defaults. */
#define PROTO_INLINE_MAX      (64 * 1024)          /* inline request without '\n' */
/* Arguments per command. Redis 6 capped this at 1024*1024; Redis 7.0
 * (checked against 7.0.15) accepts up to INT_MAX, and so do we. The argv
 * array still grows only as arguments actually arrive. */
#define PROTO_MBULK_MAX       2147483647LL         /* INT_MAX */
#define PROTO_BULK_MAX_DEFAULT (512LL * 1024 * 1024) /* proto-max-bulk-len */
/* Redis's limits for a client that has yet to authenticate (since
 * CVE-2021-32675): so few bytes cannot make the server allocate much. */
#define PROTO_UNAUTH_MBULK_MAX 10
#define PROTO_UNAUTH_BULK_MAX  16384

/* One argument of a parsed command. Points into the caller's buffer:
 * valid until the caller moves or overwrites the bytes it parsed. */
struct proto_arg {
    const char *ptr;
    size_t len;
};

/* Result of proto_parse(). */
enum proto_rc {
    PROTO_CMD = 0,        /* one complete command in cmd; *used bytes consumed */
    PROTO_NEED_MORE,      /* incomplete: keep buf[*used..len), call again with more appended */
    PROTO_ERR,            /* protocol error: reply proto_strerror(), then close */
    PROTO_CLOSE_SILENT,   /* cross-protocol attack (POST / Host:): close, no reply */
};

/* Protocol errors, each with Redis 7's exact message (proto_strerror). */
enum proto_err {
    PROTO_E_NONE = 0,
    PROTO_E_MBULK_LEN,        /* invalid multibulk length */
    PROTO_E_BULK_LEN,         /* invalid bulk length */
    PROTO_E_EXPECTED_DOLLAR,  /* expected '$', got 'x' */
    PROTO_E_INLINE_TOO_BIG,   /* too big inline request */
    PROTO_E_MBULK_TOO_BIG,    /* too big mbulk count string */
    PROTO_E_BULK_TOO_BIG,     /* too big bulk count string */
    PROTO_E_UNBALANCED,       /* unbalanced quotes in request */
    PROTO_E_NOMEM,            /* allocation failure */
    PROTO_E_UNAUTH_MBULK,     /* unauthenticated multibulk length */
    PROTO_E_UNAUTH_BULK,      /* unauthenticated bulk length */
};

/*
 * Incremental parser state for one connection. Zero-initialise it with
 * proto_parser_init(), free it with proto_parser_free().
 *
 * Contract with the caller: after PROTO_NEED_MORE, the next call passes a
 * buffer that starts at the same byte as the previous call's buf + *used
 * and holds at least the bytes seen before (the caller may have moved the
 * bytes, e.g. compacted or realloc'd its buffer: positions are kept as
 * offsets, never pointers). The parser remembers how far it got so a large
 * bulk argument arriving in many reads is not rescanned each time.
 *
 * Owned by: the thread that owns the connection.
 */
struct proto_parser {
    int state;                 /* internal */
    long long mbulk_left;      /* arguments still to read */
    long long bulk_len;        /* length of the bulk being read, -1 if none */
    size_t scan;               /* offset from command start already scanned */
    size_t pos;                /* offset from command start of the next element */
    size_t argc;               /* arguments complete so far */
    size_t argcap;
    struct { size_t off, len; } *argoff;   /* offsets from command start */
    struct proto_arg *argv;    /* filled on PROTO_CMD, argcap entries */
    enum proto_err err;        /* set on PROTO_ERR */
    char err_char;             /* the offending byte for PROTO_E_EXPECTED_DOLLAR */
    long long max_bulk_len;    /* proto-max-bulk-len, default PROTO_BULK_MAX_DEFAULT */
    bool unauth;               /* the peer must still authenticate: at most
                                  PROTO_UNAUTH_MBULK_MAX arguments of at most
                                  PROTO_UNAUTH_BULK_MAX bytes (set by the caller
                                  before each call; default false) */
};

void proto_parser_init(struct proto_parser *p);
void proto_parser_free(struct proto_parser *p);
/* Drop any partial state (e.g. after the caller discarded its buffer). */
void proto_parser_reset(struct proto_parser *p);

/*
 * Parse at most one command from buf[0..len).
 *
 * PROTO_CMD: argc and argv describe the command (argv owned by the parser,
 * valid until the next call), *used is the number of bytes it spanned
 * (including any empty lines before it). Inline commands are unescaped in
 * place, which is why buf is not const.
 * PROTO_NEED_MORE: *used bytes may be dropped (blank lines skipped); the
 * rest must be presented again (see the contract above).
 * PROTO_ERR: p->err says which; the connection must be closed after the
 * error reply. PROTO_CLOSE_SILENT: close without a reply.
 * An inline line that is empty or only spaces is skipped (Redis does so).
 */
enum proto_rc proto_parse(struct proto_parser *p, char *buf, size_t len,
                          size_t *used, size_t *argc, struct proto_arg **argv);

/* The error reply text for p->err, without "-" and "\r\n", e.g.
 * "ERR Protocol error: expected '$', got 'x'". Written into out (cap >= 64). */
const char *proto_strerror(const struct proto_parser *p, char *out, size_t cap);

/* ---- Reply encoding ------------------------------------------------------ */

/* A growable byte buffer. Owned by one thread. */
struct proto_buf {
    char *data;
    size_t len;
    size_t cap;
};

void proto_buf_init(struct proto_buf *b);
void proto_buf_free(struct proto_buf *b);
/* Make room for n more bytes; 0 or -ENOMEM. */
int proto_buf_reserve(struct proto_buf *b, size_t n);
int proto_buf_append(struct proto_buf *b, const void *p, size_t n);

/* Each returns 0 or -ENOMEM (the buffer is unchanged on failure). */
int proto_add_simple(struct proto_buf *b, const char *s);            /* +s\r\n */
int proto_add_error(struct proto_buf *b, const char *s);             /* -s\r\n (s includes the ERR/OOM prefix) */
/* As Redis: \r and \n at the ends of the text are cut, inside it they
 * become spaces. Also -EINVAL if vsnprintf fails on fmt. */
int proto_add_errorf(struct proto_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int proto_add_int(struct proto_buf *b, long long v);                 /* :v\r\n */
int proto_add_bulk(struct proto_buf *b, const void *p, size_t n);    /* $n\r\n...\r\n */
int proto_add_bulk_cstr(struct proto_buf *b, const char *s);
int proto_add_bulk_ll(struct proto_buf *b, long long v);             /* integer as a bulk string */
int proto_add_null(struct proto_buf *b);                             /* $-1\r\n */
int proto_add_null_array(struct proto_buf *b);                       /* *-1\r\n */
int proto_add_array(struct proto_buf *b, long long n);               /* *n\r\n */
int proto_add_raw(struct proto_buf *b, const void *p, size_t n);     /* pre-encoded bytes */
/* Redis's sdscatrepr: p in double quotes, with \\ \" \n \r \t \a \b
 * escaped and every other byte outside ' '..'~' as \xHH (MONITOR's form).
 * proto_repr_len: how many bytes proto_add_repr appends. */
size_t proto_repr_len(const char *p, size_t n);
int proto_add_repr(struct proto_buf *b, const char *p, size_t n);

/* Shared helpers for numbers in RESP and in commands (Redis's rules:
 * no leading '+', no spaces, no leading zeros except "0", fits in 64 bits). */
int proto_str2ll(const char *s, size_t n, long long *out);  /* 0 ok, -1 not an integer */
int proto_str2ld(const char *s, size_t n, long double *out); /* 0 ok, -1 not a float/NaN */
/* Format a long double as Redis does for INCRBYFLOAT (ld2string's human
 * mode: "%.17Lf", then trailing zeros and '.' cut, "-0" -> "0"). Returns
 * the length, 0 if cap is too small; cap >= PROTO_LD_STR_MAX always fits. */
#define PROTO_LD_STR_MAX 5120   /* Redis's MAX_LONG_DOUBLE_CHARS */
size_t proto_ld2str(char *buf, size_t cap, long double v);
/* Redis's getDoubleFromObject() for a score or a weight: strtod over the
 * whole of s[0..n), no leading space, no NaN, no overflow to +-inf nor
 * underflow to 0 ("inf" itself is accepted). 0 ok, -1 not a float. */
int proto_str2d(const char *s, size_t n, double *out);
/* Redis's zslParseRange() for one end of a score range (the '(' already
 * taken off): strtod over the text up to its first NUL, which must all
 * be consumed; only NaN is refused (so "", " 1", "1e999" are numbers, as
 * in Redis). 0 ok, -1 not a float. */
int proto_str2d_range(const char *s, size_t n, double *out);
/* A score as Redis 7.0 replies it (addReplyDouble, RESP2): "inf", "-inf",
 * else printf's "%.17g" (1.1 prints "1.1000000000000001"). Returns the
 * length; cap >= PROTO_D_STR_MAX always fits. */
#define PROTO_D_STR_MAX 32
size_t proto_d2str(char *buf, size_t cap, double v);
/* Decimal text of v, NUL-terminated; returns the length, 0 if it does not
 * fit (cap >= 21 always does). */
size_t proto_ll2str(char *buf, size_t cap, long long v);

#endif
