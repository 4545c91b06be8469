/*
 * List commands: LPUSH RPUSH LPUSHX RPUSHX LPOP RPOP LLEN LRANGE LINDEX
 * LSET LINSERT LREM LTRIM LPOS, as Redis 7.0 (RESP2): the same checks in
 * the same order, so the same error wins (some commands parse their
 * numbers before looking the key up, some after: as Redis's t_list.c).
 * The multi-key and blocking ones are in cmd_blocking.c.
 *
 * Each handler makes one cache call (atomic under the key's shard lock)
 * and gets plain strings back. LRANGE copies at most the output limit's
 * worth under the lock (a reply past client-output-buffer-limit closes
 * the connection anyway) and writes element by element, stopping once
 * the connection is going to be closed (srv_reply_closing).
 *
 * Context: the conn's worker thread, inside srv_dispatch().
 */
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "srv.h"

#define ERR_POSITIVE "ERR value is out of range, must be positive"

static void push_generic(struct srv_conn *c, size_t argc, struct proto_arg *argv,
                         int where, int xx)
{
    struct srv_strv e;
    uint64_t len;

    if (srv__strv(c, argv, 2, argc, &e) < 0)
        return;
    int rc = cache_lpush(srv.cache, argv[1].ptr, argv[1].len, where, e.v, e.n,
                         xx, NOW(c), &len);
    if (rc < 0)
        srv__reply_cache_err(c, rc);
    else
        srv_reply_int(c, (long long)len);
    srv__strv_free(&e);
}

SRV_HANDLER(srv_cmd_lpush)  { push_generic(c, argc, argv, CACHE_LIST_HEAD, 0); }
SRV_HANDLER(srv_cmd_rpush)  { push_generic(c, argc, argv, CACHE_LIST_TAIL, 0); }
SRV_HANDLER(srv_cmd_lpushx) { push_generic(c, argc, argv, CACHE_LIST_HEAD, 1); }
SRV_HANDLER(srv_cmd_rpushx) { push_generic(c, argc, argv, CACHE_LIST_TAIL, 1); }

/* A count that must be >= 0 (Redis's getPositiveLongFromObjectOrReply:
 * anything else, not a number included, gets `err`). */
static int arg_positive(struct srv_conn *c, const struct proto_arg *a, long long *out,
                        const char *err)
{
    if (proto_str2ll(a->ptr, a->len, out) == 0 && *out >= 0)
        return 0;
    srv_reply_error(c, err);
    return -1;
}

static void pop_generic(struct srv_conn *c, size_t argc, struct proto_arg *argv, int where)
{
    struct cache_keys out = {0};
    long long count = 1;

    if (argc > 3) {
        srv_reply_errorf(c, "ERR wrong number of arguments for '%s' command",
                         where == CACHE_LIST_HEAD ? "lpop" : "rpop");
        return;
    }
    if (argc == 3 && arg_positive(c, &argv[2], &count, ERR_POSITIVE) < 0)
        return;
    int rc = cache_lpop(srv.cache, argv[1].ptr, argv[1].len, where, (uint64_t)count,
                        NOW(c), &out);
    if (rc < 0)
        srv__reply_cache_err(c, rc);
    else if (rc == CACHE_NOTFOUND && argc == 3)
        srv_reply_null_array(c);
    else if (rc == CACHE_NOTFOUND)
        srv_reply_null(c);
    else if (argc == 3)
        srv__reply_records(c, &out);   /* count 0: the empty array */
    else
        srv_reply_bulk(c, out.buf + sizeof(uint32_t), out.len - sizeof(uint32_t));
    cache_keys_free(&out);
}

SRV_HANDLER(srv_cmd_lpop) { pop_generic(c, argc, argv, CACHE_LIST_HEAD); }
SRV_HANDLER(srv_cmd_rpop) { pop_generic(c, argc, argv, CACHE_LIST_TAIL); }

SRV_HANDLER(srv_cmd_llen)
{
    srv__reply_card(c, argv, CACHE_TYPE_LIST);
}

SRV_HANDLER(srv_cmd_lrange)
{
    struct cache_keys out = {0};
    long long start, end;
    uint64_t total;

    if (srv__arg_ll(c, &argv[2], &start, NULL) < 0 || srv__arg_ll(c, &argv[3], &end, NULL) < 0)
        return;
    int rc = cache_lrange(srv.cache, argv[1].ptr, argv[1].len, start, end, srv__copy_bound(c),
                          NOW(c), &out, &total);
    srv__stat_rc(c, rc);
    if (rc < 0)
        srv__reply_cache_err(c, rc);
    else
        srv__reply_records_cut(c, &out, total);   /* a missing key: the empty array */
    cache_keys_free(&out);
}

/* LINDEX and LSET look the key up before they parse the index (Redis's
 * order): a key that is missing or of another type answers first. 0 when
 * the index is good, else the reply is written. */
static int index_after_lookup(struct srv_conn *c, struct proto_arg *argv, long long *idx,
                              int missing_is_error)
{
    if (proto_str2ll(argv[2].ptr, argv[2].len, idx) == 0)
        return 0;
    int type;
    int rc = cache_type(srv.cache, argv[1].ptr, argv[1].len, NOW(c), &type, NULL);
    if (rc == CACHE_NOTFOUND && missing_is_error)
        srv_reply_error(c, SRV_ERR_NOKEY);
    else if (rc == CACHE_NOTFOUND)
        srv_reply_null(c);
    else if (type != CACHE_TYPE_LIST)
        srv_reply_error(c, SRV_ERR_WRONGTYPE);
    else
        srv_reply_error(c, SRV_ERR_NOTINT);
    return -1;
}

SRV_HANDLER(srv_cmd_lindex)
{
    long long idx;

    if (index_after_lookup(c, argv, &idx, 0) < 0)
        return;
    int rc = cache_lindex(srv.cache, argv[1].ptr, argv[1].len, idx, NOW(c), &c->w->scratch);
    srv__stat_rc(c, rc);
    srv__reply_value_or_null(c, rc == CACHE_NOELEM ? CACHE_NOTFOUND : rc);
}

SRV_HANDLER(srv_cmd_lset)
{
    long long idx;

    if (index_after_lookup(c, argv, &idx, 1) < 0)
        return;
    int rc = cache_lset(srv.cache, argv[1].ptr, argv[1].len, idx, argv[3].ptr,
                        argv[3].len, NOW(c));
    if (rc == CACHE_NOTFOUND)
        srv_reply_error(c, SRV_ERR_NOKEY);
    else if (rc == CACHE_NOELEM)
        srv_reply_error(c, "ERR index out of range");
    else if (rc < 0)
        srv__reply_cache_err(c, rc);
    else
        srv_reply_ok(c);
}

SRV_HANDLER(srv_cmd_linsert)
{
    int after;
    long long len;

    if (srv__arg_is(&argv[2], "after")) {
        after = 1;
    } else if (srv__arg_is(&argv[2], "before")) {
        after = 0;
    } else {
        srv_reply_error(c, SRV_ERR_SYNTAX);
        return;
    }
    int rc = cache_linsert(srv.cache, argv[1].ptr, argv[1].len, after, argv[3].ptr,
                           argv[3].len, argv[4].ptr, argv[4].len, NOW(c), &len);
    if (rc < 0)
        srv__reply_cache_err(c, rc);
    else
        srv_reply_int(c, len);
}

SRV_HANDLER(srv_cmd_lrem)
{
    long long count;
    uint64_t removed;

    if (srv__arg_ll(c, &argv[2], &count, NULL) < 0)
        return;
    int rc = cache_lrem(srv.cache, argv[1].ptr, argv[1].len, count, argv[3].ptr,
                        argv[3].len, NOW(c), &removed);
    if (rc < 0)
        srv__reply_cache_err(c, rc);
    else
        srv_reply_int(c, (long long)removed);
}

SRV_HANDLER(srv_cmd_ltrim)
{
    long long start, end;

    if (srv__arg_ll(c, &argv[2], &start, NULL) < 0 || srv__arg_ll(c, &argv[3], &end, NULL) < 0)
        return;
    int rc = cache_ltrim(srv.cache, argv[1].ptr, argv[1].len, start, end, NOW(c));
    if (rc < 0)
        srv__reply_cache_err(c, rc);
    else
        srv_reply_ok(c);
}

/* LPOS key element [RANK rank] [COUNT num-matches] [MAXLEN len] */
SRV_HANDLER(srv_cmd_lpos)
{
    long long rank = 1, count = -1, maxlen = 0;   /* count -1: not given */

    for (size_t j = 3; j < argc; j++) {
        bool more = j + 1 < argc;
        if (srv__arg_is(&argv[j], "rank") && more) {
            if (srv__arg_ll(c, &argv[++j], &rank, NULL) < 0)
                return;
            if (rank == 0) {
                srv_reply_error(c, "ERR RANK can't be zero: use 1 to start from the "
                                   "first match, 2 from the second ... or use negative "
                                   "to start from the end of the list");
                return;
            }
        } else if (srv__arg_is(&argv[j], "count") && more) {
            if (arg_positive(c, &argv[++j], &count, "ERR COUNT can't be negative") < 0)
                return;
        } else if (srv__arg_is(&argv[j], "maxlen") && more) {
            if (arg_positive(c, &argv[++j], &maxlen, "ERR MAXLEN can't be negative") < 0)
                return;
        } else {
            srv_reply_error(c, SRV_ERR_SYNTAX);
            return;
        }
    }
    struct cache_val *out = &c->w->scratch;
    int rc = cache_lpos(srv.cache, argv[1].ptr, argv[1].len, argv[2].ptr, argv[2].len,
                        rank, count < 0 ? 1 : count, maxlen, NOW(c), out);
    srv__stat_rc(c, rc);
    if (rc < 0) {
        srv__reply_cache_err(c, rc);
        return;
    }
    size_t n = rc == CACHE_OK ? out->len / sizeof(int64_t) : 0;
    if (count < 0) {
        int64_t v;
        if (n == 0) {
            srv_reply_null(c);
        } else {
            memcpy(&v, out->data, sizeof(v));
            srv_reply_int(c, v);
        }
        return;
    }
    srv_reply_array(c, (long long)n);
    for (size_t i = 0; i < n && !srv_reply_closing(c); i++) {
        int64_t v;
        memcpy(&v, out->data + i * sizeof(v), sizeof(v));
        srv_reply_int(c, v);
    }
}
