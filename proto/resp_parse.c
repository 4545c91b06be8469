/*
 * Incremental RESP2 request parser, behaving as Redis 7's
 * processMultibulkBuffer() / processInlineBuffer() (networking.c).
 *
 * Why copy Redis's quirks rather than a clean grammar: clients and test
 * suites written against Redis depend on them. Checked against a real
 * redis-server 7.0.15 (see tests/proto/test_resp_parse.c):
 *  - a header line ends at the first '\r'; the byte after it is skipped
 *    unchecked, and so are the two bytes after a bulk's payload;
 *  - header and inline searches stop at a NUL byte (Redis uses strchr on
 *    its NUL-terminated query buffer), so a NUL before the line end stalls
 *    the request until the 64 KiB "too big" limit fires;
 *  - "too big" fires when the unparsed bytes of the line exceed 64 KiB and
 *    no line end was found in them: like Redis, what is accepted depends on
 *    how much the caller presents at once (Redis reads 16 KiB at a time);
 *  - "*0" and negative counts are empty commands, skipped without reply;
 *  - argv[0] "post" or "host:" (compared as a C string, any case) means an
 *    HTTP request reached us: close without a reply.
 *
 * Positions are offsets from the start of the current command, because the
 * caller may move its buffer between calls (proto.h). Nothing is copied:
 * bulk arguments point into the buffer, inline ones are unescaped in place.
 *
 * Context: any thread; a parser belongs to one connection and its thread.
 */
#include "proto.h"

#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum {
    ST_IDLE = 0,        /* between commands */
    ST_INLINE,          /* waiting for the '\n' of an inline command */
    ST_MBULK_COUNT,     /* waiting for the "*N\r\n" line */
    ST_MBULK_ARGS,      /* reading "$len\r\n" headers and payloads */
};

/* Internal result of one step: the public codes plus "command complete". */
enum step { STEP_DONE, STEP_MORE, STEP_ERR };

/* Past this many argv slots, a finished command's arrays are given back. */
#define ARGV_KEEP 1024

void proto_parser_init(struct proto_parser *p)
{
    memset(p, 0, sizeof(*p));
    p->bulk_len = -1;
    p->max_bulk_len = PROTO_BULK_MAX_DEFAULT;
}

void proto_parser_free(struct proto_parser *p)
{
    free(p->argoff);
    free(p->argv);
    p->argoff = NULL;
    p->argv = NULL;
    p->argcap = 0;
    proto_parser_reset(p);
}

void proto_parser_reset(struct proto_parser *p)
{
    p->state = ST_IDLE;
    p->mbulk_left = 0;
    p->bulk_len = -1;
    p->scan = 0;
    p->pos = 0;
    p->argc = 0;
    p->err = PROTO_E_NONE;
    p->err_char = 0;
}

static enum step fail(struct proto_parser *p, enum proto_err e)
{
    p->err = e;
    return STEP_ERR;
}

/* Record argument [off, off+len) of the current command, growing the
 * arrays geometrically. argv is grown with argoff so that PROTO_CMD never
 * has to allocate. */
static int add_arg(struct proto_parser *p, size_t off, size_t len)
{
    if (p->argc == p->argcap) {
        size_t ncap = p->argcap ? p->argcap * 2 : 8;
        void *no, *nv;

        if (ncap > SIZE_MAX / sizeof(*p->argv))
            return -ENOMEM;
        no = realloc(p->argoff, ncap * sizeof(*p->argoff));
        if (!no)
            return -ENOMEM;
        p->argoff = no;
        nv = realloc(p->argv, ncap * sizeof(*p->argv));
        if (!nv)
            return -ENOMEM;     /* argoff is bigger than argcap says: harmless */
        p->argv = nv;
        p->argcap = ncap;
    }
    p->argoff[p->argc].off = off;
    p->argoff[p->argc].len = len;
    p->argc++;
    return 0;
}

/*
 * Find the first byte c in s[*scan..n), stopping at a NUL as strchr does.
 * Returns its offset, or -1; either way *scan records how far the search
 * got, so the next call with more bytes resumes there. Once a NUL is hit
 * *scan stays on it, and the line can never complete (as in Redis).
 */
static long long find_byte(const char *s, size_t n, size_t *scan, char c)
{
    size_t from = *scan;
    const char *hit, *nul;
    size_t lim;

    if (from >= n)
        return -1;
    hit = memchr(s + from, c, n - from);
    lim = hit ? (size_t)(hit - s) : n;
    nul = memchr(s + from, '\0', lim - from);
    if (nul) {
        *scan = (size_t)(nul - s);
        return -1;
    }
    if (!hit) {
        *scan = n;
        return -1;
    }
    *scan = (size_t)(hit - s);
    return (long long)*scan;
}

static int is_space(char c)
{
    /* isspace() in the C locale, without its sign-extension pitfall. */
    return c == ' ' || (c >= '\t' && c <= '\r');
}

static int hex_val(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/*
 * Redis's sdssplitargs() over s[0..n), writing each unescaped argument in
 * place over its own source text (the output is never longer than the
 * input, so the write cursor never passes the read cursor). s holds no NUL
 * (find_byte stopped at one), so "end of line" plays the part of sds's
 * terminating NUL.
 */
static enum step split_inline(struct proto_parser *p, char *s, size_t n)
{
    size_t i = 0;

#define AT(k) ((k) < n ? s[(k)] : '\0')
    for (;;) {
        size_t start, w;
        int inq = 0, insq = 0, done = 0;

        while (i < n && is_space(s[i]))
            i++;
        if (i == n)
            return STEP_DONE;
        start = w = i;
        while (!done) {
            char c = AT(i);

            if (inq) {
                if (c == '\\' && AT(i + 1) == 'x' && hex_val(AT(i + 2)) >= 0 &&
                    hex_val(AT(i + 3)) >= 0) {
                    s[w++] = (char)(hex_val(s[i + 2]) * 16 + hex_val(s[i + 3]));
                    i += 3;
                } else if (c == '\\' && AT(i + 1)) {
                    char e;

                    i++;
                    switch (s[i]) {
                    case 'n': e = '\n'; break;
                    case 'r': e = '\r'; break;
                    case 't': e = '\t'; break;
                    case 'b': e = '\b'; break;
                    case 'a': e = '\a'; break;
                    default: e = s[i]; break;
                    }
                    s[w++] = e;
                } else if (c == '"') {
                    /* The closing quote must end the argument. */
                    if (AT(i + 1) && !is_space(AT(i + 1)))
                        return fail(p, PROTO_E_UNBALANCED);
                    done = 1;
                } else if (!c) {
                    return fail(p, PROTO_E_UNBALANCED);
                } else {
                    s[w++] = c;
                }
            } else if (insq) {
                if (c == '\\' && AT(i + 1) == '\'') {
                    i++;
                    s[w++] = '\'';
                } else if (c == '\'') {
                    if (AT(i + 1) && !is_space(AT(i + 1)))
                        return fail(p, PROTO_E_UNBALANCED);
                    done = 1;
                } else if (!c) {
                    return fail(p, PROTO_E_UNBALANCED);
                } else {
                    s[w++] = c;
                }
            } else {
                switch (c) {
                case ' ': case '\n': case '\r': case '\t': case '\0':
                    done = 1;
                    break;
                case '"':
                    inq = 1;
                    break;
                case '\'':
                    insq = 1;
                    break;
                default:
                    s[w++] = c;
                    break;
                }
            }
            if (i < n)
                i++;
        }
        if (add_arg(p, start, w - start) < 0)
            return fail(p, PROTO_E_NOMEM);
    }
#undef AT
}

static enum step parse_inline(struct proto_parser *p, char *s, size_t n,
                              size_t *consumed)
{
    long long nl = find_byte(s, n, &p->scan, '\n');
    size_t line;

    if (nl < 0) {
        if (n > PROTO_INLINE_MAX)
            return fail(p, PROTO_E_INLINE_TOO_BIG);
        return STEP_MORE;
    }
    line = (size_t)nl;
    if (line > 0 && s[line - 1] == '\r')
        line--;                 /* "\r\n" or a lone "\n", as Redis accepts */
    *consumed = (size_t)nl + 1;
    return split_inline(p, s, line);
}

/*
 * Find the '\r' ending the header line that starts at p->pos, with Redis's
 * conditions: searched from where the last call stopped, "too big" when
 * more than PROTO_INLINE_MAX bytes from the line start hold none, and one
 * more byte needed after it (skipped unchecked, as Redis skips it).
 */
static enum step header_line(struct proto_parser *p, const char *s, size_t n,
                             enum proto_err too_big, size_t *cr)
{
    long long r;

    if (p->scan < p->pos)
        p->scan = p->pos;
    r = find_byte(s, n, &p->scan, '\r');
    if (r < 0) {
        if (n - p->pos > PROTO_INLINE_MAX)
            return fail(p, too_big);
        return STEP_MORE;
    }
    if ((size_t)r + 1 >= n)
        return STEP_MORE;
    *cr = (size_t)r;
    return STEP_DONE;
}

static enum step parse_mbulk(struct proto_parser *p, const char *s, size_t n,
                             size_t *consumed)
{
    enum step st;
    size_t cr;
    long long ll;

    if (p->state == ST_MBULK_COUNT) {
        st = header_line(p, s, n, PROTO_E_MBULK_TOO_BIG, &cr);
        if (st != STEP_DONE)
            return st;
        if (proto_str2ll(s + 1, cr - 1, &ll) < 0 || ll > PROTO_MBULK_MAX)
            return fail(p, PROTO_E_MBULK_LEN);
        if (ll > PROTO_UNAUTH_MBULK_MAX && p->unauth)
            return fail(p, PROTO_E_UNAUTH_MBULK);
        p->pos = cr + 2;
        p->scan = p->pos;
        if (ll <= 0) {          /* "*0", "*-1": an empty command */
            *consumed = p->pos;
            return STEP_DONE;
        }
        p->mbulk_left = ll;
        p->bulk_len = -1;
        p->state = ST_MBULK_ARGS;
    }
    while (p->mbulk_left > 0) {
        size_t avail;

        if (p->bulk_len < 0) {
            st = header_line(p, s, n, PROTO_E_BULK_TOO_BIG, &cr);
            if (st != STEP_DONE)
                return st;
            if (s[p->pos] != '$') {
                p->err_char = s[p->pos];
                return fail(p, PROTO_E_EXPECTED_DOLLAR);
            }
            if (proto_str2ll(s + p->pos + 1, cr - p->pos - 1, &ll) < 0 ||
                ll < 0 || ll > p->max_bulk_len)
                return fail(p, PROTO_E_BULK_LEN);
            if (ll > PROTO_UNAUTH_BULK_MAX && p->unauth)
                return fail(p, PROTO_E_UNAUTH_BULK);
            p->pos = cr + 2;
            p->scan = p->pos;
            p->bulk_len = ll;
        }
        /* The payload needs no scan: only its length is checked, so a big
         * bulk arriving in many reads costs O(1) per call. */
        avail = n - p->pos;
        if (avail < 2 || (unsigned long long)(avail - 2) < (unsigned long long)p->bulk_len)
            return STEP_MORE;
        if (add_arg(p, p->pos, (size_t)p->bulk_len) < 0)
            return fail(p, PROTO_E_NOMEM);
        p->pos += (size_t)p->bulk_len + 2;
        p->scan = p->pos;
        p->bulk_len = -1;
        p->mbulk_left--;
    }
    *consumed = p->pos;
    return STEP_DONE;
}

/* argv[0] as Redis's strcasecmp() sees it: up to its first NUL. */
static int is_http(const struct proto_arg *a)
{
    size_t l = strnlen(a->ptr, a->len);

    return (l == 4 && strncasecmp(a->ptr, "post", 4) == 0) ||
           (l == 5 && strncasecmp(a->ptr, "host:", 5) == 0);
}

static void start_command(struct proto_parser *p, char first)
{
    /* A huge command passed: give its arrays back rather than keep
     * megabytes per idle connection. */
    if (p->argcap > ARGV_KEEP) {
        free(p->argoff);
        free(p->argv);
        p->argoff = NULL;
        p->argv = NULL;
        p->argcap = 0;
    }
    p->state = first == '*' ? ST_MBULK_COUNT : ST_INLINE;
    p->mbulk_left = 0;
    p->bulk_len = -1;
    p->scan = 0;
    p->pos = 0;
    p->argc = 0;
}

enum proto_rc proto_parse(struct proto_parser *p, char *buf, size_t len,
                          size_t *used, size_t *argc, struct proto_arg **argv)
{
    size_t base = 0;    /* start of the current command in buf */

    /* The caller must present at least the bytes of a partial command it
     * was told to keep (proto.h); fewer would put offsets past the end. */
    assert(p->state == ST_IDLE || len >= p->scan);
    if (len == 0) {     /* buf may be NULL: do no arithmetic on it */
        *used = 0;
        return PROTO_NEED_MORE;
    }
    for (;;) {
        char *s = buf + base;
        size_t n = len - base, consumed = 0, i;
        enum step st;

        if (p->state == ST_IDLE) {
            if (n == 0)
                break;
            start_command(p, s[0]);
        }
        if (p->state == ST_INLINE)
            st = parse_inline(p, s, n, &consumed);
        else
            st = parse_mbulk(p, s, n, &consumed);
        if (st == STEP_MORE)
            break;
        if (st == STEP_ERR) {
            *used = base;
            return PROTO_ERR;
        }
        base += consumed;
        p->state = ST_IDLE;
        if (p->argc == 0)
            continue;           /* blank line or "*0": no command, no reply */
        for (i = 0; i < p->argc; i++) {
            p->argv[i].ptr = s + p->argoff[i].off;
            p->argv[i].len = p->argoff[i].len;
        }
        *used = base;
        *argc = p->argc;
        *argv = p->argv;
        return is_http(&p->argv[0]) ? PROTO_CLOSE_SILENT : PROTO_CMD;
    }
    *used = base;
    return PROTO_NEED_MORE;
}

const char *proto_strerror(const struct proto_parser *p, char *out, size_t cap)
{
    const char *msg;

    switch (p->err) {
    case PROTO_E_NONE:          msg = "ERR no error"; break;
    case PROTO_E_MBULK_LEN:     msg = "ERR Protocol error: invalid multibulk length"; break;
    case PROTO_E_BULK_LEN:      msg = "ERR Protocol error: invalid bulk length"; break;
    case PROTO_E_INLINE_TOO_BIG: msg = "ERR Protocol error: too big inline request"; break;
    case PROTO_E_MBULK_TOO_BIG: msg = "ERR Protocol error: too big mbulk count string"; break;
    case PROTO_E_BULK_TOO_BIG:  msg = "ERR Protocol error: too big bulk count string"; break;
    case PROTO_E_UNBALANCED:    msg = "ERR Protocol error: unbalanced quotes in request"; break;
    case PROTO_E_NOMEM:         msg = "OOM out of memory while reading the request"; break;
    case PROTO_E_UNAUTH_MBULK:  msg = "ERR Protocol error: unauthenticated multibulk length"; break;
    case PROTO_E_UNAUTH_BULK:   msg = "ERR Protocol error: unauthenticated bulk length"; break;
    case PROTO_E_EXPECTED_DOLLAR: {
        /* Redis maps \r and \n in an error reply to spaces. */
        char c = p->err_char == '\r' || p->err_char == '\n' ? ' ' : p->err_char;

        snprintf(out, cap, "ERR Protocol error: expected '$', got '%c'", c);
        return out;
    }
    default:                    msg = "ERR Protocol error"; break;
    }
    snprintf(out, cap, "%s", msg);
    return out;
}
