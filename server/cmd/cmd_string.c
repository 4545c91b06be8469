/*
 * String commands: GET/SET and friends, counters, APPEND, ranges.
 *
 * Each handler parses and validates its arguments exactly as Redis 7 does
 * (same checks in the same order, so the same error wins), makes one cache
 * call, and writes the reply. Values come out of the cache into this
 * worker's own scratch buffers, never a shared one.
 *
 * Context: the conn's worker thread, inside srv_dispatch().
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "loader.h"
#include "srv.h"

/* ---- SET / GETEX option parsing (Redis's parseExtendedStringArguments) ---- */

enum {
    OPT_NX = 1 << 0, OPT_XX = 1 << 1, OPT_GET = 1 << 2, OPT_KEEPTTL = 1 << 3,
    OPT_PERSIST = 1 << 4, OPT_EX = 1 << 5, OPT_PX = 1 << 6, OPT_EXAT = 1 << 7,
    OPT_PXAT = 1 << 8,
};
#define OPT_ANY_EXPIRE (OPT_EX | OPT_PX | OPT_EXAT | OPT_PXAT)

/* Parse the options from argv[first]. SET takes NX XX GET KEEPTTL, GETEX
 * takes PERSIST, both take one of EX PX EXAT PXAT (repeating the same one
 * is allowed, the last wins, as in Redis). Replies the syntax error. */
static int parse_string_opts(struct srv_conn *c, size_t argc,
                             struct proto_arg *argv, size_t first, int is_set,
                             unsigned *flags, const struct proto_arg **expire)
{
    static const struct { const char *name; unsigned flag; } expires[] = {
        { "ex", OPT_EX }, { "px", OPT_PX }, { "exat", OPT_EXAT }, { "pxat", OPT_PXAT },
    };

    *flags = 0;
    *expire = NULL;
    for (size_t j = first; j < argc; j++) {
        const struct proto_arg *a = &argv[j];
        int has_next = j + 1 < argc, matched = 0;

        if (is_set && srv__arg_is(a, "nx") && !(*flags & OPT_XX)) {
            *flags |= OPT_NX;
            continue;
        }
        if (is_set && srv__arg_is(a, "xx") && !(*flags & OPT_NX)) {
            *flags |= OPT_XX;
            continue;
        }
        if (is_set && srv__arg_is(a, "get")) {
            *flags |= OPT_GET;
            continue;
        }
        if (is_set && srv__arg_is(a, "keepttl") &&
            !(*flags & (OPT_PERSIST | OPT_ANY_EXPIRE))) {
            *flags |= OPT_KEEPTTL;
            continue;
        }
        if (!is_set && srv__arg_is(a, "persist") &&
            !(*flags & (OPT_KEEPTTL | OPT_ANY_EXPIRE))) {
            *flags |= OPT_PERSIST;
            continue;
        }
        for (size_t k = 0; k < sizeof(expires) / sizeof(expires[0]); k++) {
            unsigned others = (OPT_ANY_EXPIRE & ~expires[k].flag) |
                              OPT_KEEPTTL | OPT_PERSIST;

            if (srv__arg_is(a, expires[k].name) && !(*flags & others) && has_next) {
                *flags |= expires[k].flag;
                *expire = &argv[++j];
                matched = 1;
                break;
            }
        }
        if (!matched) {
            srv_reply_error(c, SRV_ERR_SYNTAX);
            return -1;
        }
    }
    return 0;
}

/* Turn an EX/PX/EXAT/PXAT argument into an absolute time in ms, checked
 * as Redis's getExpireMillisecondsOrReply does. Returns 0, EXP_NOTINT or
 * EXP_INVALID without replying (GETEX needs to decide that later). */
enum { EXP_NOTINT = -1, EXP_INVALID = -2 };

static int expire_parse(const struct proto_arg *arg, unsigned flags,
                        int64_t now, int64_t *at)
{
    int seconds = (flags & (OPT_EX | OPT_EXAT)) != 0;
    int relative = (flags & (OPT_EX | OPT_PX)) != 0;
    long long v;

    if (proto_str2ll(arg->ptr, arg->len, &v) < 0)
        return EXP_NOTINT;
    if (v <= 0 || (seconds && v > LLONG_MAX / 1000))
        return EXP_INVALID;
    if (seconds)
        v *= 1000;
    if (relative && __builtin_add_overflow(v, (long long)now, &v))
        return EXP_INVALID;
    *at = v;
    return 0;
}

static void expire_reply_err(struct srv_conn *c, int rc, const char *cmd)
{
    if (rc == EXP_NOTINT)
        srv_reply_error(c, SRV_ERR_NOTINT);
    else
        srv_reply_errorf(c, "ERR invalid expire time in '%s' command", cmd);
}

/* expire_parse(), replying the error. */
static int expire_at_ms(struct srv_conn *c, const struct proto_arg *arg,
                        unsigned flags, const char *cmd, int64_t *at)
{
    int rc = expire_parse(arg, flags, NOW(c), at);

    if (rc < 0)
        expire_reply_err(c, rc, cmd);
    return rc;
}

/* ---- GET / SET family ------------------------------------------------------ */

void srv__reply_value_or_null(struct srv_conn *c, int rc)
{
    if (rc == CACHE_OK)
        srv_reply_bulk(c, c->w->scratch.data, c->w->scratch.len);
    else if (rc == CACHE_NOTFOUND)
        srv_reply_null(c);
    else
        srv__reply_cache_err(c, rc);
}

SRV_HANDLER(srv_cmd_get)
{
    int rc = cache_get(srv.cache, argv[1].ptr, argv[1].len, NOW(c), &c->w->scratch);

    srv__stat_rc(c, rc);
    /* A miss with a loader configured asks the origin (the reply may come
     * later, from this worker's loop). Only GET reads through. */
    if (rc == CACHE_NOTFOUND && c->cfg->loader != CFG_LOADER_NONE && !(c->flags & CONN_EXEC))
        srv_loader_get(c, argv[1].ptr, argv[1].len);
    else
        srv__reply_value_or_null(c, rc);
}

/* The common tail of SET, SETNX, SETEX, PSETEX and GETSET. With OPT_GET the
 * reply is the old value (or nil) whether or not the write happened. */
static void set_generic(struct srv_conn *c, const struct proto_arg *key,
                        const struct proto_arg *val, unsigned opts,
                        int64_t expire_at, int setnx_reply)
{
    int flags = 0, old_found = 0, rc;

    if (opts & OPT_NX)
        flags |= CACHE_SET_NX;
    if (opts & OPT_XX)
        flags |= CACHE_SET_XX;
    if (opts & OPT_KEEPTTL)
        flags |= CACHE_SET_KEEPTTL;
    if (opts & OPT_GET)
        flags |= CACHE_SET_GET;
    rc = cache_set(srv.cache, key->ptr, key->len, val->ptr, val->len, flags,
                   expire_at, NOW(c), &c->w->scratch, &old_found);
    if (rc < 0) {
        if (rc == CACHE_E_WRONGTYPE)   /* GET looked it up: a hit, as Redis counts */
            srv__stat_lookup(c, 1);
        srv__reply_cache_err(c, rc);
    } else if (opts & OPT_GET) {
        srv__stat_lookup(c, old_found);
        srv__reply_value_or_null(c, old_found ? CACHE_OK : CACHE_NOTFOUND);
    } else if (setnx_reply) {
        srv_reply_int(c, rc == CACHE_OK);
    } else if (rc == CACHE_OK) {
        srv_reply_ok(c);
    } else {
        srv_reply_null(c);
    }
}

/* SET key value [NX|XX] [GET] [EX s|PX ms|EXAT s|PXAT ms|KEEPTTL] */
SRV_HANDLER(srv_cmd_set)
{
    const struct proto_arg *expire;
    unsigned opts;
    int64_t at = 0;

    if (parse_string_opts(c, argc, argv, 3, 1, &opts, &expire) < 0)
        return;
    if (expire != NULL && expire_at_ms(c, expire, opts, "set", &at) < 0)
        return;
    set_generic(c, &argv[1], &argv[2], opts, at, 0);
}

SRV_HANDLER(srv_cmd_setnx)
{
    set_generic(c, &argv[1], &argv[2], OPT_NX, 0, 1);
}

/* SETEX key seconds value / PSETEX key ms value */
static void setex_generic(struct srv_conn *c, struct proto_arg *argv,
                          unsigned unit, const char *cmd)
{
    int64_t at;

    if (expire_at_ms(c, &argv[2], unit, cmd, &at) < 0)
        return;
    set_generic(c, &argv[1], &argv[3], 0, at, 0);
}

SRV_HANDLER(srv_cmd_setex)  { setex_generic(c, argv, OPT_EX, "setex"); }
SRV_HANDLER(srv_cmd_psetex) { setex_generic(c, argv, OPT_PX, "psetex"); }

SRV_HANDLER(srv_cmd_getset)
{
    set_generic(c, &argv[1], &argv[2], OPT_GET, 0, 0);
}

SRV_HANDLER(srv_cmd_getdel)
{
    int rc = cache_getdel(srv.cache, argv[1].ptr, argv[1].len, NOW(c), &c->w->scratch);

    srv__stat_rc(c, rc);
    srv__reply_value_or_null(c, rc);
}

/* GETEX key [EX s|PX ms|EXAT s|PXAT ms|PERSIST] */
SRV_HANDLER(srv_cmd_getex)
{
    const struct proto_arg *expire;
    int mode = CACHE_GETEX_KEEP, rc;
    unsigned opts;
    int64_t at = 0;

    if (parse_string_opts(c, argc, argv, 2, 0, &opts, &expire) < 0)
        return;
    if (expire != NULL) {
        /* Redis looks the key up first: a missing key is nil even when
         * the expire time is bad. Only that rare path pays a second call. */
        rc = expire_parse(expire, opts, NOW(c), &at);
        if (rc < 0) {
            int type;
            int found = cache_type(srv.cache, argv[1].ptr, argv[1].len, NOW(c), &type, NULL);
            srv__stat_lookup(c, found == CACHE_OK);
            if (found == CACHE_NOTFOUND)
                srv_reply_null(c);
            else if (type != CACHE_TYPE_STRING)
                srv_reply_error(c, SRV_ERR_WRONGTYPE);
            else
                expire_reply_err(c, rc, "getex");
            return;
        }
        mode = CACHE_GETEX_EXPIRE;
    } else if (opts & OPT_PERSIST) {
        mode = CACHE_GETEX_PERSIST;
    }
    rc = cache_getex(srv.cache, argv[1].ptr, argv[1].len, mode, at, NOW(c),
                     &c->w->scratch);
    srv__stat_rc(c, rc);
    srv__reply_value_or_null(c, rc);
}

SRV_HANDLER(srv_cmd_mget)
{
    srv_reply_array(c, (long long)(argc - 1));
    /* Stops once the client is over its output limit: no more copies of
     * values it will never get. */
    for (size_t i = 1; i < argc && !srv_reply_closing(c); i++) {
        int rc = cache_get(srv.cache, argv[i].ptr, argv[i].len, NOW(c),
                           &c->w->scratch);

        srv__stat_rc(c, rc);
        /* Inside an array an error would break the reply: a failed read
         * is reported as nil, like a miss, and so is a key of another
         * type (Redis's MGET). */
        if (rc == CACHE_OK)
            srv_reply_bulk(c, c->w->scratch.data, c->w->scratch.len);
        else
            srv_reply_null(c);
    }
}

/* MSET / MSETNX: all pairs become visible together (one cache call). */
static void mset_generic(struct srv_conn *c, size_t argc,
                         struct proto_arg *argv, int nx)
{
    struct cache_kv small[32], *kv = small;
    size_t n = (argc - 1) / 2;
    int rc;

    if ((argc - 1) % 2 != 0) {
        srv_reply_errorf(c, "ERR wrong number of arguments for '%s' command",
                         nx ? "msetnx" : "mset");
        return;
    }
    if (n > sizeof(small) / sizeof(small[0])) {
        kv = malloc(n * sizeof(*kv));
        if (kv == NULL) {
            srv_reply_error(c, SRV_ERR_NOMEM);
            return;
        }
    }
    for (size_t i = 0; i < n; i++) {
        kv[i].key = argv[1 + 2 * i].ptr;
        kv[i].klen = argv[1 + 2 * i].len;
        kv[i].val = argv[2 + 2 * i].ptr;
        kv[i].vlen = argv[2 + 2 * i].len;
    }
    rc = cache_mset(srv.cache, kv, n, nx, NOW(c));
    if (rc < 0)
        srv__reply_cache_err(c, rc);
    else if (nx)
        srv_reply_int(c, rc == CACHE_OK);
    else
        srv_reply_ok(c);
    if (kv != small)
        free(kv);
}

SRV_HANDLER(srv_cmd_mset)   { mset_generic(c, argc, argv, 0); }
SRV_HANDLER(srv_cmd_msetnx) { mset_generic(c, argc, argv, 1); }

/* ---- counters ---------------------------------------------------------------- */

static void incr_generic(struct srv_conn *c, const struct proto_arg *key,
                         long long delta)
{
    long long result;
    int rc = cache_incr(srv.cache, key->ptr, key->len, delta, NOW(c), &result);

    if (rc < 0)
        srv__reply_cache_err(c, rc);
    else
        srv_reply_int(c, result);
}

SRV_HANDLER(srv_cmd_incr) { incr_generic(c, &argv[1], 1); }
SRV_HANDLER(srv_cmd_decr) { incr_generic(c, &argv[1], -1); }

SRV_HANDLER(srv_cmd_incrby)
{
    long long delta;

    if (srv__arg_ll(c, &argv[2], &delta, NULL) == 0)
        incr_generic(c, &argv[1], delta);
}

SRV_HANDLER(srv_cmd_decrby)
{
    long long delta;

    if (srv__arg_ll(c, &argv[2], &delta, NULL) < 0)
        return;
    if (delta == LLONG_MIN) {   /* -delta does not exist */
        srv_reply_error(c, "ERR decrement would overflow");
        return;
    }
    incr_generic(c, &argv[1], -delta);
}

SRV_HANDLER(srv_cmd_incrbyfloat)
{
    char buf[CACHE_LD_MAX_CHARS];   /* %.17Lf of 1e400 is 401 digits */
    long double delta;
    size_t len;
    int rc;

    if (proto_str2ld(argv[2].ptr, argv[2].len, &delta) < 0) {
        /* Redis checks the key's type before it reads the increment */
        int type = CACHE_TYPE_STRING;
        (void)cache_type(srv.cache, argv[1].ptr, argv[1].len, NOW(c), &type, NULL);
        srv_reply_error(c, type == CACHE_TYPE_STRING ? SRV_ERR_NOTFLOAT : SRV_ERR_WRONGTYPE);
        return;
    }
    rc = cache_incrbyfloat(srv.cache, argv[1].ptr, argv[1].len, delta, NOW(c),
                           buf, sizeof(buf), &len);
    if (rc < 0)
        srv__reply_cache_err(c, rc);
    else
        srv_reply_bulk(c, buf, len);
}

/* ---- APPEND, STRLEN, ranges ------------------------------------------------- */

SRV_HANDLER(srv_cmd_append)
{
    size_t len;
    int rc = cache_append_max(srv.cache, argv[1].ptr, argv[1].len, argv[2].ptr, argv[2].len,
                              (size_t)c->cfg->proto_max_bulk_len, NOW(c), &len);

    if (rc < 0)
        srv__reply_cache_err(c, rc);
    else
        srv_reply_int(c, (long long)len);
}

SRV_HANDLER(srv_cmd_strlen)
{
    size_t len;
    int rc = cache_strlen(srv.cache, argv[1].ptr, argv[1].len, NOW(c), &len);

    srv__stat_rc(c, rc);   /* a missing key is 0 */
    if (rc < 0)
        srv__reply_cache_err(c, rc);
    else
        srv_reply_int(c, (long long)len);
}

/* GETRANGE key start end (also SUBSTR) */
SRV_HANDLER(srv_cmd_getrange)
{
    long long start, end;
    int rc;

    if (srv__arg_ll(c, &argv[2], &start, NULL) < 0 ||
        srv__arg_ll(c, &argv[3], &end, NULL) < 0)
        return;
    rc = cache_getrange(srv.cache, argv[1].ptr, argv[1].len, start, end, NOW(c),
                        &c->w->scratch);
    srv__stat_rc(c, rc);   /* a missing key is "" */
    if (rc < 0)
        srv__reply_cache_err(c, rc);
    else
        srv_reply_bulk(c, c->w->scratch.data, c->w->scratch.len);
}

/* SETRANGE key offset value */
SRV_HANDLER(srv_cmd_setrange)
{
    const struct cfg *cfg = c->cfg;
    long long offset;
    size_t len;
    int rc;

    if (srv__arg_ll(c, &argv[2], &offset, NULL) < 0)
        return;
    if (offset < 0) {
        srv_reply_error(c, "ERR offset is out of range");
        return;
    }
    /* Redis checks offset + len against proto-max-bulk-len after the
     * key's type (an empty value never grows the string, so it is
     * exempt); the type is asked only on this rare path. */
    if (argv[3].len > 0 &&
        (unsigned long long)offset + argv[3].len > (unsigned long long)cfg->proto_max_bulk_len) {
        int type = CACHE_TYPE_STRING;
        (void)cache_type(srv.cache, argv[1].ptr, argv[1].len, NOW(c), &type, NULL);
        srv__reply_cache_err(c, type == CACHE_TYPE_STRING ? CACHE_E_TOOBIG
                                                          : CACHE_E_WRONGTYPE);
        return;
    }
    rc = cache_setrange(srv.cache, argv[1].ptr, argv[1].len, (size_t)offset,
                        argv[3].ptr, argv[3].len, NOW(c), &len);
    if (rc < 0)
        srv__reply_cache_err(c, rc);
    else
        srv_reply_int(c, (long long)len);
}
