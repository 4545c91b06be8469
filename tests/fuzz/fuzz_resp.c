/*
 * Fuzz target for proto: the parser fed three ways, the writer, numbers.
 *
 * The parser's promise is that how bytes are split across reads does not
 * matter: the input is fed whole, byte by byte, and in pseudo-random
 * splits derived from the input, and all three must yield the same
 * commands and the same end (need-more with the same leftover, the same
 * error, or a silent close). Every chunk arrives in a freshly malloc'd
 * copy of the unconsumed bytes, so a parser keeping a pointer instead of an
 * offset reads freed memory and ASan reports it.
 *
 * Only inputs up to 64 KiB are compared across splits: beyond that the
 * "too big" errors depend on how much is presented at once, as in Redis.
 *
 * Each command is also re-encoded with the writer (array of bulks) and the
 * encoding parsed back; number helpers run over every argument.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                            \
    do {                                                                       \
        if (!(cond)) {                                                         \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__,  \
                    #cond);                                                    \
            abort();                                                           \
        }                                                                      \
    } while (0)

/* What one way of feeding produced. */
struct run {
    struct proto_buf log;       /* the commands, RESP-encoded by the writer */
    size_t ncmd;
    enum proto_rc last;
    enum proto_err err;
    char err_char;
    size_t leftover;
};

enum mode { WHOLE, BYTES, SPLITS };

static uint64_t fnv1a(const uint8_t *d, size_t n)
{
    uint64_t h = 14695981039346656037ULL;
    size_t i;

    for (i = 0; i < n; i++)
        h = (h ^ d[i]) * 1099511628211ULL;
    return h;
}

static size_t next_chunk(enum mode m, uint64_t *rng)
{
    if (m == WHOLE)
        return SIZE_MAX;
    if (m == BYTES)
        return 1;
    *rng ^= *rng << 13;
    *rng ^= *rng >> 7;
    *rng ^= *rng << 17;
    /* mostly short reads, sometimes long ones */
    return (*rng & 7) ? 1 + (*rng >> 8) % 16 : 1 + (*rng >> 8) % 4096;
}

/* The writer and number helpers over one parsed command. */
static void exercise_writer(struct run *r, size_t argc, const struct proto_arg *argv)
{
    struct proto_buf tmp;
    size_t i;

    CHECK(proto_add_array(&r->log, (long long)argc) == 0);
    for (i = 0; i < argc; i++)
        CHECK(proto_add_bulk(&r->log, argv[i].ptr, argv[i].len) == 0);

    proto_buf_init(&tmp);
    for (i = 0; i < argc; i++) {
        long long v;
        long double d;
        char s[PROTO_LD_STR_MAX];
        size_t n;

        if (proto_str2ll(argv[i].ptr, argv[i].len, &v) == 0) {
            /* canonical form: formatting gives back the same bytes */
            n = proto_ll2str(s, sizeof(s), v);
            CHECK(n == argv[i].len && memcmp(s, argv[i].ptr, n) == 0);
            CHECK(proto_add_int(&tmp, v) == 0);
            CHECK(proto_add_bulk_ll(&tmp, v) == 0);
        }
        if (proto_str2ld(argv[i].ptr, argv[i].len, &d) == 0) {
            n = proto_ld2str(s, sizeof(s), d);
            CHECK(n > 0 && n < sizeof(s));
            if (!isinf(d))
                CHECK(proto_str2ld(s, n, &d) == 0);
        }
        /* error text from client bytes must stay one line */
        tmp.len = 0;
        CHECK(proto_add_errorf(&tmp, "ERR arg '%.*s'", (int)argv[i].len, argv[i].ptr) == 0);
        CHECK(tmp.len >= 3 && tmp.data[0] == '-');
        CHECK(memchr(tmp.data, '\r', tmp.len - 2) == NULL);
        CHECK(memchr(tmp.data, '\n', tmp.len - 1) == NULL);
        tmp.len = 0;
        CHECK(proto_add_simple(&tmp, "OK") == 0);
        CHECK(proto_add_null(&tmp) == 0);
        CHECK(proto_add_null_array(&tmp) == 0);
    }
    proto_buf_free(&tmp);
}

static void feed(const uint8_t *data, size_t size, long long max_bulk, enum mode m,
                 struct run *r)
{
    struct proto_parser p;
    char *buf = NULL;
    size_t have = 0, off = 0;
    uint64_t rng = fnv1a(data, size) | 1;

    memset(r, 0, sizeof(*r));
    proto_buf_init(&r->log);
    proto_parser_init(&p);
    p.max_bulk_len = max_bulk;
    r->last = PROTO_NEED_MORE;
    do {
        size_t c = next_chunk(m, &rng);
        char *nb;

        if (c > size - off)
            c = size - off;
        if (m == BYTES && buf) {
            /* One block, appended to in place: a fresh copy per byte would
             * make this mode quadratic. The other modes move the bytes. */
            memcpy(buf + have, data + off, c);
        } else {
            /* A fresh block of exact size: stale pointers and overreads
             * both show up under ASan. */
            nb = malloc(m == BYTES ? (size ? size : 1) : (have + c ? have + c : 1));
            CHECK(nb != NULL);
            if (have)
                memcpy(nb, buf, have);
            if (c)
                memcpy(nb + have, data + off, c);
            free(buf);
            buf = nb;
        }
        have += c;
        off += c;
        for (;;) {
            size_t used = SIZE_MAX, argc = 0, i;
            struct proto_arg *argv = NULL;
            enum proto_rc rc = proto_parse(&p, buf, have, &used, &argc, &argv);

            CHECK(used <= have);
            if (rc == PROTO_CMD || rc == PROTO_CLOSE_SILENT) {
                CHECK(argc > 0 && used > 0);
                for (i = 0; i < argc; i++) {
                    CHECK(argv[i].ptr >= buf);
                    CHECK(argv[i].len <= used);
                    CHECK(argv[i].ptr + argv[i].len <= buf + used);
                }
            }
            if (rc == PROTO_CMD) {
                exercise_writer(r, argc, argv);
                r->ncmd++;
                memmove(buf, buf + used, have - used);
                have -= used;
                continue;
            }
            r->last = rc;
            if (rc != PROTO_NEED_MORE) {
                r->err = p.err;
                r->err_char = p.err_char;
                goto out;
            }
            memmove(buf, buf + used, have - used);
            have -= used;
            break;
        }
    } while (off < size);
out:
    if (r->last == PROTO_ERR) {
        char msg[128];

        CHECK(r->err != PROTO_E_NONE);
        proto_strerror(&p, msg, sizeof(msg));
        CHECK(strncmp(msg, "ERR Protocol error: ", 20) == 0 || r->err == PROTO_E_NOMEM);
        CHECK(strchr(msg, '\r') == NULL && strchr(msg, '\n') == NULL);
    }
    r->leftover = have;
    free(buf);
    proto_parser_free(&p);
}

/* The writer's log parses back into the same commands, re-encoded identically. */
static void check_roundtrip(const struct run *r)
{
    struct proto_parser p;
    struct proto_buf again;
    char *copy;
    size_t off = 0, n = 0;

    if (r->ncmd == 0)
        return;
    copy = malloc(r->log.len);
    CHECK(copy != NULL);
    memcpy(copy, r->log.data, r->log.len);
    proto_parser_init(&p);
    proto_buf_init(&again);
    for (;;) {
        size_t used, argc, i;
        struct proto_arg *argv;
        enum proto_rc rc = proto_parse(&p, copy + off, r->log.len - off, &used, &argc, &argv);

        if (rc == PROTO_NEED_MORE)
            break;
        CHECK(rc == PROTO_CMD);
        CHECK(proto_add_array(&again, (long long)argc) == 0);
        for (i = 0; i < argc; i++)
            CHECK(proto_add_bulk(&again, argv[i].ptr, argv[i].len) == 0);
        off += used;
        n++;
    }
    CHECK(off == r->log.len && n == r->ncmd);
    CHECK(again.len == r->log.len && memcmp(again.data, r->log.data, again.len) == 0);
    proto_buf_free(&again);
    proto_parser_free(&p);
    free(copy);
}

static void same(const struct run *a, const struct run *b)
{
    CHECK(a->ncmd == b->ncmd);
    CHECK(a->log.len == b->log.len);
    CHECK(a->log.len == 0 || memcmp(a->log.data, b->log.data, a->log.len) == 0);
    CHECK(a->last == b->last);
    CHECK(a->err == b->err);
    CHECK(a->err_char == b->err_char);
    if (a->last == PROTO_NEED_MORE)
        CHECK(a->leftover == b->leftover);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct run whole, bytes, splits;
    /* A small proto-max-bulk-len now and then, so its check is reached. */
    long long max_bulk = (size && (data[size - 1] & 0x0f) == 0x0f) ? 16 : PROTO_BULK_MAX_DEFAULT;

    feed(data, size, max_bulk, WHOLE, &whole);
    check_roundtrip(&whole);
    if (size <= PROTO_INLINE_MAX) {
        feed(data, size, max_bulk, BYTES, &bytes);
        same(&whole, &bytes);
        feed(data, size, max_bulk, SPLITS, &splits);
        same(&whole, &splits);
        proto_buf_free(&bytes.log);
        proto_buf_free(&splits.log);
    }
    proto_buf_free(&whole.log);
    return 0;
}
