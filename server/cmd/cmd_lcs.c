/*
 * LCS key1 key2 [LEN] [IDX] [MINMATCHLEN len] [WITHMATCHLEN], as Redis 7.0
 * (RESP2). Redis looks both keys up before it reads the options, so a key
 * of another type wins over a syntax error: the options are parsed first
 * here, and only when they are bad are the keys' types asked.
 *
 * The limit on the work: Redis's own (cache/lcs.c): refused when its DP
 * table of (len1+1) x (len2+1) 4-byte cells would pass proto-max-bulk-len,
 * and never more than at the default 512 MB whatever that setting says.
 *
 * Context: the conn's worker thread, inside srv_dispatch().
 */
#include <stdlib.h>

#include "commands.h"
#include "srv.h"

#define ERR_NOT_STRINGS "ERR The specified keys must contain string values"

struct lcs_opts {
    bool len, idx, withmatchlen;
    long long minmatchlen;
};

/* NULL, or the error the options earn. */
static const char *lcs_args(size_t argc, const struct proto_arg *argv, struct lcs_opts *o)
{
    for (size_t j = 3; j < argc; j++) {
        if (srv__arg_is(&argv[j], "idx")) {
            o->idx = true;
        } else if (srv__arg_is(&argv[j], "len")) {
            o->len = true;
        } else if (srv__arg_is(&argv[j], "withmatchlen")) {
            o->withmatchlen = true;
        } else if (srv__arg_is(&argv[j], "minmatchlen") && j + 1 < argc) {
            if (proto_str2ll(argv[j + 1].ptr, argv[j + 1].len, &o->minmatchlen) < 0)
                return SRV_ERR_NOTINT;
            if (o->minmatchlen < 0)
                o->minmatchlen = 0;
            j++;
        } else {
            return SRV_ERR_SYNTAX;
        }
    }
    if (o->len && o->idx)
        return "ERR If you want both the length and indexes, please just use IDX.";
    return NULL;
}

/* Bad options: the keys' types first, as Redis looked them up first. */
static void lcs_bad_args(struct srv_conn *c, const struct proto_arg *argv, const char *err)
{
    bool strings = true;

    for (int k = 1; k <= 2; k++) {
        int type = -1;
        int rc = cache_type(srv.cache, argv[k].ptr, argv[k].len, NOW(c), &type, NULL);
        srv__stat_lookup(c, rc == CACHE_OK);
        strings &= rc != CACHE_OK || type == CACHE_TYPE_STRING;
    }
    srv_reply_error(c, strings ? err : ERR_NOT_STRINGS);
}

static void reply_matches(struct srv_conn *c, const struct cache_lcs_result *res, bool withlen)
{
    srv_reply_array(c, 4);
    srv_reply_bulk_cstr(c, "matches");
    srv_reply_array(c, (long long)res->nm);
    for (size_t i = 0; i < res->nm && !srv_reply_closing(c); i++) {
        const struct cache_lcs_match *m = &res->m[i];
        srv_reply_array(c, withlen ? 3 : 2);
        srv_reply_array(c, 2);
        srv_reply_int(c, m->a_start);
        srv_reply_int(c, m->a_end);
        srv_reply_array(c, 2);
        srv_reply_int(c, m->b_start);
        srv_reply_int(c, m->b_end);
        if (withlen)
            srv_reply_int(c, (long long)m->a_end - m->a_start + 1);
    }
    srv_reply_bulk_cstr(c, "len");
    srv_reply_int(c, (long long)res->len);
}

SRV_HANDLER(srv_cmd_lcs)
{
    struct lcs_opts o = {0};
    struct cache_lcs_result res;
    const char *err = lcs_args(argc, argv, &o);

    if (err) {
        lcs_bad_args(c, argv, err);
        return;
    }
    uint64_t max = (uint64_t)c->cfg->proto_max_bulk_len;
    struct cache_lcs_req req = {
        .max_table = max < CACHE_MAX_STRING ? max : CACHE_MAX_STRING,
        .want_str = !o.len && !o.idx,
        .want_idx = o.idx,
        .minmatchlen = o.minmatchlen,
    };
    int rc = cache_lcs(srv.cache, argv[1].ptr, argv[1].len, argv[2].ptr, argv[2].len, &req,
                       NOW(c), &res);
    srv__stat_lookup(c, res.found_a);
    srv__stat_lookup(c, res.found_b);
    if (rc == CACHE_E_WRONGTYPE)
        srv_reply_error(c, ERR_NOT_STRINGS);
    else if (rc == CACHE_E_TOOBIG)
        srv_reply_error(c, "ERR Insufficient memory, transient memory for LCS exceeds "
                           "proto-max-bulk-len");
    else if (rc < 0)
        srv_reply_error(c, "ERR Insufficient memory, failed allocating transient memory for LCS");
    else if (o.idx)
        reply_matches(c, &res, o.withmatchlen);
    else if (o.len)
        srv_reply_int(c, (long long)res.len);
    else
        srv_reply_bulk(c, res.str.data ? res.str.data : "", res.str.len);
    free(res.str.data);
    free(res.m);
}
