/*
 * RESP2 reply encoding into a growable buffer.
 *
 * Every reply goes through here, so each encoder reserves its whole size
 * once and writes with memcpy and a table-driven integer formatter (no
 * snprintf on the hot path). The buffer grows geometrically, so a run of
 * small replies costs amortised O(1) reallocations.
 *
 * Failure leaves b->len and the bytes before it untouched (the capacity
 * may have grown): a caller can report -ENOMEM without a half-written
 * reply in the stream.
 *
 * Context: any thread; a proto_buf belongs to one connection and its thread.
 */
#include "proto.h"
#include "proto_int.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BUF_MIN_CAP 64

/* Replies common enough to be plain copies. */
static const char rep_null[] = "$-1\r\n";
static const char rep_null_array[] = "*-1\r\n";
static const char rep_zero[] = ":0\r\n";
static const char rep_one[] = ":1\r\n";
static const char rep_empty_array[] = "*0\r\n";

void proto_buf_init(struct proto_buf *b)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}

void proto_buf_free(struct proto_buf *b)
{
    free(b->data);
    proto_buf_init(b);
}

int proto_buf_reserve(struct proto_buf *b, size_t n)
{
    size_t need, ncap;
    char *nd;

    if (b->cap - b->len >= n)
        return 0;
    if (n > SIZE_MAX - b->len)
        return -ENOMEM;
    need = b->len + n;
    ncap = b->cap < BUF_MIN_CAP ? BUF_MIN_CAP : b->cap;
    while (ncap < need)
        ncap = ncap > SIZE_MAX / 2 ? need : ncap * 2;
    nd = realloc(b->data, ncap);
    if (!nd)
        return -ENOMEM;
    b->data = nd;
    b->cap = ncap;
    return 0;
}

int proto_buf_append(struct proto_buf *b, const void *p, size_t n)
{
    if (proto_buf_reserve(b, n) < 0)
        return -ENOMEM;
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    return 0;
}

int proto_add_raw(struct proto_buf *b, const void *p, size_t n)
{
    return proto_buf_append(b, p, n);
}

/* The escape of byte ch in proto_add_repr ("\\n"), NULL when it is
 * printed as itself or as \xHH. */
static const char *repr_escape(unsigned char ch)
{
    switch (ch) {
    case '\\': return "\\\\";
    case '"': return "\\\"";
    case '\n': return "\\n";
    case '\r': return "\\r";
    case '\t': return "\\t";
    case '\a': return "\\a";
    case '\b': return "\\b";
    default: return NULL;
    }
}

size_t proto_repr_len(const char *p, size_t n)
{
    size_t len = 2;

    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)p[i];
        len += repr_escape(ch) ? 2 : (ch >= ' ' && ch <= '~') ? 1 : 4;
    }
    return len;
}

int proto_add_repr(struct proto_buf *b, const char *p, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    char *d;

    if (proto_buf_reserve(b, proto_repr_len(p, n)) < 0)
        return -ENOMEM;
    d = b->data + b->len;
    *d++ = '"';
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)p[i];
        const char *e = repr_escape(ch);

        if (e != NULL) {
            *d++ = e[0];
            *d++ = e[1];
        } else if (ch >= ' ' && ch <= '~') {
            *d++ = (char)ch;
        } else {
            *d++ = '\\';
            *d++ = 'x';
            *d++ = hex[ch >> 4];
            *d++ = hex[ch & 15];
        }
    }
    *d++ = '"';
    b->len = (size_t)(d - b->data);
    return 0;
}

/* Error and status lines end at the first \r or \n a client sees, so any
 * inside the text would inject protocol: Redis turns them into spaces. */
static void map_crlf(char *s, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (s[i] == '\r' || s[i] == '\n')
            s[i] = ' ';
}

/* "<type>s\r\n" with s made single-line. */
static int add_line(struct proto_buf *b, char type, const char *s, size_t n)
{
    char *d;

    if (n > SIZE_MAX - 3 || proto_buf_reserve(b, n + 3) < 0)
        return -ENOMEM;
    d = b->data + b->len;
    d[0] = type;
    memcpy(d + 1, s, n);
    map_crlf(d + 1, n);
    d[n + 1] = '\r';
    d[n + 2] = '\n';
    b->len += n + 3;
    return 0;
}

int proto_add_simple(struct proto_buf *b, const char *s)
{
    return add_line(b, '+', s, strlen(s));
}

int proto_add_error(struct proto_buf *b, const char *s)
{
    return add_line(b, '-', s, strlen(s));
}

int proto_add_errorf(struct proto_buf *b, const char *fmt, ...)
{
    char small[256];
    va_list ap;
    int n;
    size_t start, end;
    char *text, *big = NULL;
    int rc;

    va_start(ap, fmt);
    n = vsnprintf(small, sizeof(small), fmt, ap);
    va_end(ap);
    if (n < 0)
        return -EINVAL;
    text = small;
    if ((size_t)n >= sizeof(small)) {
        big = malloc((size_t)n + 1);
        if (!big)
            return -ENOMEM;
        va_start(ap, fmt);
        vsnprintf(big, (size_t)n + 1, fmt, ap);
        va_end(ap);
        text = big;
    }
    /* As Redis's addReplyErrorFormat: trim line ends at both ends, then
     * map the ones inside to spaces (add_line does the mapping). */
    start = 0;
    end = (size_t)n;
    while (start < end && (text[start] == '\r' || text[start] == '\n'))
        start++;
    while (end > start && (text[end - 1] == '\r' || text[end - 1] == '\n'))
        end--;
    rc = add_line(b, '-', text + start, end - start);
    free(big);
    return rc;
}

/* "<type><v>\r\n" for a header or integer reply. */
static int add_ll_line(struct proto_buf *b, char type, long long v)
{
    char *d;
    size_t n;

    if (proto_buf_reserve(b, 1 + PROTO__LL_MAX_CHARS + 2) < 0)
        return -ENOMEM;
    d = b->data + b->len;
    d[0] = type;
    n = 1 + proto__ll_fmt(d + 1, v);
    d[n] = '\r';
    d[n + 1] = '\n';
    b->len += n + 2;
    return 0;
}

int proto_add_int(struct proto_buf *b, long long v)
{
    if (v == 0)
        return proto_buf_append(b, rep_zero, sizeof(rep_zero) - 1);
    if (v == 1)
        return proto_buf_append(b, rep_one, sizeof(rep_one) - 1);
    return add_ll_line(b, ':', v);
}

int proto_add_array(struct proto_buf *b, long long n)
{
    if (n == 0)
        return proto_buf_append(b, rep_empty_array, sizeof(rep_empty_array) - 1);
    return add_ll_line(b, '*', n);
}

int proto_add_null(struct proto_buf *b)
{
    return proto_buf_append(b, rep_null, sizeof(rep_null) - 1);
}

int proto_add_null_array(struct proto_buf *b)
{
    return proto_buf_append(b, rep_null_array, sizeof(rep_null_array) - 1);
}

int proto_add_bulk(struct proto_buf *b, const void *p, size_t n)
{
    size_t hdr = 1 + proto__digits10(n) + 2;
    char *d;

    if (n > SIZE_MAX - hdr - 2 || proto_buf_reserve(b, hdr + n + 2) < 0)
        return -ENOMEM;
    d = b->data + b->len;
    d[0] = '$';
    proto__u64_fmt(d + 1, n);
    d[hdr - 2] = '\r';
    d[hdr - 1] = '\n';
    if (n)
        memcpy(d + hdr, p, n);
    d[hdr + n] = '\r';
    d[hdr + n + 1] = '\n';
    b->len += hdr + n + 2;
    return 0;
}

int proto_add_bulk_cstr(struct proto_buf *b, const char *s)
{
    if (!s)
        return proto_add_null(b);   /* as Redis's addReplyBulkCString */
    return proto_add_bulk(b, s, strlen(s));
}

int proto_add_bulk_ll(struct proto_buf *b, long long v)
{
    char tmp[PROTO__LL_MAX_CHARS];

    return proto_add_bulk(b, tmp, proto__ll_fmt(tmp, v));
}
