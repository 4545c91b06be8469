/*
 * Multi-key and blocking pops: the lists' LMOVE RPOPLPUSH LMPOP and BLPOP
 * BRPOP BLMOVE BRPOPLPUSH BLMPOP, the sorted sets' ZMPOP and BZPOPMIN
 * BZPOPMAX BZMPOP, as Redis 7.0 (RESP2), all through one cache call
 * (cache_bpop: every shard involved locked in index order, so a pop from
 * several keys and a move between two are atomic).
 *
 * A blocking command that finds nothing to pop blocks its connection
 * (server/net/blocked.c): the wait is registered in the cache under the
 * same locks as the check, and answered later on this worker, by a push
 * on any worker, its timeout, CLIENT UNBLOCK, or not at all when the
 * connection closes first.
 *
 * Context: the conn's worker thread, inside srv_dispatch() (the reply of
 * a served wait: on_unblocked in blocked.c).
 */
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "blocked.h"
#include "commands.h"
#include "srv.h"

void srv__reply_popped(struct srv_conn *c, int kind, int rc, const struct cache_keys *out)
{
    const char *s;
    size_t pos = 0, len;

    if (rc < 0) {
        srv__reply_cache_err(c, rc);
        return;
    }
    if (rc != CACHE_OK) {   /* nothing, or the timeout: Redis's null array */
        srv_reply_null_array(c);
        return;
    }
    if (kind == SRV_BPOP_MOVE) {
        s = cache_keys_next(out, &pos, &len);
        srv_reply_bulk(c, s, len);
        return;
    }
    if (kind == SRV_BPOP_ZPOP || kind == SRV_BPOP_ZMPOP) {
        /* the key, then member and score records */
        bool nested = kind == SRV_BPOP_ZMPOP;
        srv_reply_array(c, nested ? 2 : 1 + (long long)out->count - 1);
        s = cache_keys_next(out, &pos, &len);
        srv_reply_bulk(c, s, len);
        if (nested)
            srv_reply_array(c, ((long long)out->count - 1) / 2);
        while ((s = cache_keys_next(out, &pos, &len)) != NULL && !srv_reply_closing(c)) {
            if (nested)
                srv_reply_array(c, 2);
            srv_reply_bulk(c, s, len);
            s = cache_keys_next(out, &pos, &len);
            srv__reply_score(c, cache_keys_score(s));
        }
        return;
    }
    srv_reply_array(c, 2);
    s = cache_keys_next(out, &pos, &len);
    srv_reply_bulk(c, s, len);   /* the key */
    if (kind == SRV_BPOP_MPOP)
        srv_reply_array(c, (long long)out->count - 1);
    while ((s = cache_keys_next(out, &pos, &len)) != NULL && !srv_reply_closing(c))
        srv_reply_bulk(c, s, len);
}

/* LEFT / RIGHT, or the syntax error. */
static int arg_where(struct srv_conn *c, const struct proto_arg *a, int *where)
{
    if (srv__arg_is(a, "left")) {
        *where = CACHE_LIST_HEAD;
    } else if (srv__arg_is(a, "right")) {
        *where = CACHE_LIST_TAIL;
    } else {
        srv_reply_error(c, SRV_ERR_SYNTAX);
        return -1;
    }
    return 0;
}

/* Redis's getTimeoutFromObjectOrReply in seconds: a float, times 1000,
 * truncated to a long long (x86's conversion of what does not fit is
 * LLONG_MIN: "negative", as Redis answers for 1e30 or inf); 0 blocks for
 * ever. *deadline: absolute ms, 0 = never. */
static int arg_timeout(struct srv_conn *c, const struct proto_arg *a, int64_t *deadline)
{
    long double t;

    if (proto_str2ld(a->ptr, a->len, &t) != 0) {
        srv_reply_error(c, "ERR timeout is not a float or out of range");
        return -1;
    }
    t *= 1000.0L;
    long long ms = t >= 9223372036854775807.0L || t < -9223372036854775807.0L
                       ? LLONG_MIN : (long long)t;
    if (ms < 0) {
        srv_reply_error(c, "ERR timeout is negative");
        return -1;
    }
    int64_t now = srv_now_ms();
    *deadline = ms == 0 || ms > INT64_MAX - now ? 0 : now + ms;
    return 0;
}

/* Runs r: an immediate answer, or (blocking) the connection waits. */
static void run(struct srv_conn *c, struct cache_bpop_req *r, enum srv_bpop_kind kind,
                bool blocking, int64_t deadline)
{
    struct cache_keys out = {0};
    struct cache_bpop *h;
    struct srv_blocked *b = NULL;

    if (c->flags & CONN_EXEC)
        blocking = false;   /* inside EXEC nothing waits: the timeout's answer now */
    if (blocking) {
        if (!(b = srv_blocked_new(c, kind))) {
            srv_reply_error(c, SRV_ERR_NOMEM);
            return;
        }
        r->wake = srv_blocked_wake;
        r->arg = b;
    }
    int rc = cache_bpop(srv.cache, r, NOW(c), &out, &h);
    if (rc == CACHE_BLOCKED) {
        srv_block(b, h, deadline);
    } else {
        srv_blocked_free(b);
        if (rc == CACHE_NOTFOUND && kind == SRV_BPOP_MOVE)
            srv_reply_null(c);   /* LMOVE of a missing key: a null bulk */
        else
            srv__reply_popped(c, kind, rc, &out);
    }
    cache_keys_free(&out);
}

/* LMOVE / BLMOVE / RPOPLPUSH / BRPOPLPUSH: src, dst at argv[1], argv[2]. */
static void move_generic(struct srv_conn *c, struct proto_arg *argv, int from, int to,
                         bool blocking, int64_t deadline)
{
    struct cache_str src = {argv[1].ptr, argv[1].len};
    struct cache_bpop_req r = {.keys = &src, .nkeys = 1, .from = from, .count = 1,
                               .dst = argv[2].ptr, .dlen = argv[2].len, .to = to};
    run(c, &r, SRV_BPOP_MOVE, blocking, deadline);
}

SRV_HANDLER(srv_cmd_lmove)
{
    int from, to;

    if (arg_where(c, &argv[3], &from) < 0 || arg_where(c, &argv[4], &to) < 0)
        return;
    move_generic(c, argv, from, to, false, 0);
}

SRV_HANDLER(srv_cmd_rpoplpush)
{
    move_generic(c, argv, CACHE_LIST_TAIL, CACHE_LIST_HEAD, false, 0);
}

SRV_HANDLER(srv_cmd_blmove)
{
    int from, to;
    int64_t deadline;

    if (arg_where(c, &argv[3], &from) < 0 || arg_where(c, &argv[4], &to) < 0 ||
        arg_timeout(c, &argv[5], &deadline) < 0)
        return;
    move_generic(c, argv, from, to, true, deadline);
}

SRV_HANDLER(srv_cmd_brpoplpush)
{
    int64_t deadline;

    if (arg_timeout(c, &argv[3], &deadline) < 0)
        return;
    move_generic(c, argv, CACHE_LIST_TAIL, CACHE_LIST_HEAD, true, deadline);
}

/* BLPOP / BRPOP (BZPOPMIN / BZPOPMAX: zset) key [key ...] timeout */
static void bpop_generic(struct srv_conn *c, size_t argc, struct proto_arg *argv, int from,
                         bool zset)
{
    struct srv_strv k;
    int64_t deadline;

    if (arg_timeout(c, &argv[argc - 1], &deadline) < 0 ||
        srv__strv(c, argv, 1, argc - 1, &k) < 0)
        return;
    struct cache_bpop_req r = {.keys = k.v, .nkeys = k.n, .from = from, .count = 1,
                               .zset = zset};
    run(c, &r, zset ? SRV_BPOP_ZPOP : SRV_BPOP_POP, true, deadline);
    srv__strv_free(&k);
}

SRV_HANDLER(srv_cmd_blpop) { bpop_generic(c, argc, argv, CACHE_LIST_HEAD, false); }
SRV_HANDLER(srv_cmd_brpop) { bpop_generic(c, argc, argv, CACHE_LIST_TAIL, false); }

SRV_HANDLER(srv_cmd_bzpopmin) { bpop_generic(c, argc, argv, CACHE_ZMIN, true); }
SRV_HANDLER(srv_cmd_bzpopmax) { bpop_generic(c, argc, argv, CACHE_ZMAX, true); }

/* MIN / MAX, or the syntax error. */
static int arg_minmax(struct srv_conn *c, const struct proto_arg *a, int *where)
{
    if (srv__arg_is(a, "min")) {
        *where = CACHE_ZMIN;
    } else if (srv__arg_is(a, "max")) {
        *where = CACHE_ZMAX;
    } else {
        srv_reply_error(c, SRV_ERR_SYNTAX);
        return -1;
    }
    return 0;
}

/* [B]LMPOP / [B]ZMPOP [timeout] numkeys key [key ...] LEFT|RIGHT (MIN|MAX)
 * [COUNT count], from argv[first] (numkeys), parsed in Redis's order:
 * numkeys, the end, the options, then (blocking) the timeout. */
static void mpop_generic(struct srv_conn *c, size_t argc, struct proto_arg *argv,
                         size_t first, bool blocking, bool zset)
{
    long long numkeys, count = -1;
    int where;
    int64_t deadline = 0;

    if (proto_str2ll(argv[first].ptr, argv[first].len, &numkeys) != 0 || numkeys < 1) {
        srv_reply_error(c, "ERR numkeys should be greater than 0");
        return;
    }
    if ((unsigned long long)numkeys >= argc - first - 1) {
        srv_reply_error(c, SRV_ERR_SYNTAX);
        return;
    }
    size_t where_idx = first + (size_t)numkeys + 1;
    if ((zset ? arg_minmax : arg_where)(c, &argv[where_idx], &where) < 0)
        return;
    for (size_t j = where_idx + 1; j < argc; j++) {
        if (count == -1 && srv__arg_is(&argv[j], "count") && j + 1 < argc) {
            j++;
            if (proto_str2ll(argv[j].ptr, argv[j].len, &count) != 0 || count < 1) {
                srv_reply_error(c, "ERR count should be greater than 0");
                return;
            }
        } else {
            srv_reply_error(c, SRV_ERR_SYNTAX);
            return;
        }
    }
    if (blocking && arg_timeout(c, &argv[1], &deadline) < 0)
        return;
    struct srv_strv k;
    if (srv__strv(c, argv, first + 1, first + 1 + (size_t)numkeys, &k) < 0)
        return;
    struct cache_bpop_req r = {.keys = k.v, .nkeys = k.n, .from = where,
                               .count = count == -1 ? 1 : (uint64_t)count, .zset = zset};
    run(c, &r, zset ? SRV_BPOP_ZMPOP : SRV_BPOP_MPOP, blocking, deadline);
    srv__strv_free(&k);
}

SRV_HANDLER(srv_cmd_lmpop)  { mpop_generic(c, argc, argv, 1, false, false); }
SRV_HANDLER(srv_cmd_blmpop) { mpop_generic(c, argc, argv, 2, true, false); }
SRV_HANDLER(srv_cmd_zmpop)  { mpop_generic(c, argc, argv, 1, false, true); }
SRV_HANDLER(srv_cmd_bzmpop) { mpop_generic(c, argc, argv, 2, true, true); }
