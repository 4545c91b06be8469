/*
 * Set commands: SADD SREM SMEMBERS SISMEMBER SMISMEMBER SCARD SPOP
 * SRANDMEMBER SMOVE SINTER SUNION SDIFF SINTERSTORE SUNIONSTORE SDIFFSTORE
 * SINTERCARD SSCAN, as Redis 7.0 (RESP2): the same checks in the same
 * order, so the same error wins, and the same keyspace hits and misses.
 *
 * Each handler makes one cache call, atomic under the key's shard lock, or
 * for the commands on several keys under all their shards' locks
 * (cache/setmulti.c). Replies that grow with a set are built member by
 * member and stop once the connection is going to be closed
 * (srv_reply_closing).
 *
 * Context: the conn's worker thread, inside srv_dispatch().
 */
#include <limits.h>
#include <stdlib.h>

#include "commands.h"
#include "srv.h"

/* ---- SADD, SREM ------------------------------------------------------------- */

typedef int members_write_fn(struct cache *, const char *, size_t, const struct cache_str *,
                             size_t, int64_t, uint64_t *);

static void members_write(struct srv_conn *c, size_t argc, struct proto_arg *argv,
                          members_write_fn *fn)
{
    struct srv_strv mv;
    uint64_t n;

    if (srv__strv(c, argv, 2, argc, &mv) < 0)
        return;
    int rc = fn(srv.cache, argv[1].ptr, argv[1].len, mv.v, mv.n, NOW(c), &n);
    if (rc < 0)
        srv__reply_cache_err(c, rc);
    else
        srv_reply_int(c, (long long)n);
    srv__strv_free(&mv);
}

SRV_HANDLER(srv_cmd_sadd) { members_write(c, argc, argv, cache_sadd); }
SRV_HANDLER(srv_cmd_srem) { members_write(c, argc, argv, cache_srem); }

/* ---- reads -------------------------------------------------------------------- */

SRV_HANDLER(srv_cmd_smembers)
{
    struct cache_keys out = { 0 };
    int rc = cache_smembers(srv.cache, argv[1].ptr, argv[1].len, NOW(c), &out);

    srv__stat_rc(c, rc);
    if (rc < 0)
        srv__reply_cache_err(c, rc);
    else
        srv__reply_records(c, &out);   /* a missing key: the empty array */
    cache_keys_free(&out);
}

SRV_HANDLER(srv_cmd_sismember)
{
    int rc = cache_sismember(srv.cache, argv[1].ptr, argv[1].len, argv[2].ptr,
                             argv[2].len, NOW(c));

    srv__stat_rc(c, rc);
    if (rc < 0)
        srv__reply_cache_err(c, rc);
    else
        srv_reply_int(c, rc == CACHE_OK);
}

SRV_HANDLER(srv_cmd_smismember)
{
    struct srv_strv mv;
    unsigned char small[64], *is = small;

    if (srv__strv(c, argv, 2, argc, &mv) < 0)
        return;
    if (mv.n > sizeof(small) && !(is = malloc(mv.n))) {
        srv_reply_error(c, SRV_ERR_NOMEM);
        goto out_free;
    }
    int rc = cache_smismember(srv.cache, argv[1].ptr, argv[1].len, mv.v, mv.n, NOW(c), is);
    srv__stat_rc(c, rc);
    if (rc < 0) {
        srv__reply_cache_err(c, rc);
    } else {
        srv_reply_array(c, (long long)mv.n);
        for (size_t i = 0; i < mv.n; i++)
            srv_reply_int(c, is[i]);
    }
    if (is != small)
        free(is);
out_free:
    srv__strv_free(&mv);
}

SRV_HANDLER(srv_cmd_scard)
{
    srv__reply_card(c, argv, CACHE_TYPE_SET);
}

/* ---- SPOP, SRANDMEMBER ----------------------------------------------------------- */

/* The one member of a count-less SPOP/SRANDMEMBER, or nil. */
static void reply_one(struct srv_conn *c, int rc, const struct cache_keys *out)
{
    const char *s;
    size_t pos = 0, len;

    if (rc < 0)
        srv__reply_cache_err(c, rc);
    else if (rc == CACHE_NOTFOUND || (s = cache_keys_next(out, &pos, &len)) == NULL)
        srv_reply_null(c);
    else
        srv_reply_bulk(c, s, len);
}

/* SPOP key [count]: the count is parsed first (any failure is Redis's
 * "must be positive"), then the key's type is checked, then a count of 0
 * answers the empty array. */
SRV_HANDLER(srv_cmd_spop)
{
    static const char positive[] = "ERR value is out of range, must be positive";
    struct cache_keys out = { 0 };
    long long count = 1;

    if (argc > 3) {
        srv_reply_error(c, SRV_ERR_SYNTAX);
        return;
    }
    if (argc == 3 && (srv__arg_ll(c, &argv[2], &count, positive) < 0))
        return;
    if (count < 0) {
        srv_reply_error(c, positive);
        return;
    }
    int rc = cache_spop(srv.cache, argv[1].ptr, argv[1].len, (uint64_t)count, NOW(c), &out);
    if (argc == 2)
        reply_one(c, rc, &out);
    else if (rc < 0)
        srv__reply_cache_err(c, rc);
    else
        srv__reply_records(c, &out);   /* a missing key: the empty array */
    cache_keys_free(&out);
}

SRV_HANDLER(srv_cmd_srandmember)
{
    struct cache_keys out = { 0 };
    long long count = 1;
    int sample;

    if (argc > 3) {
        srv_reply_error(c, SRV_ERR_SYNTAX);
        return;
    }
    if (argc == 3) {
        if (srv__arg_ll(c, &argv[2], &count, NULL) < 0)
            return;
        if (count < -LLONG_MAX) {
            srv_reply_errorf(c, "ERR value is out of range, value must between %lld and %lld",
                             -LLONG_MAX, LLONG_MAX);
            return;
        }
    }
    int rc = cache_srandmember(srv.cache, argv[1].ptr, argv[1].len, count, NOW(c), &out,
                               &sample);
    srv__stat_rc(c, rc);
    if (argc == 2)
        reply_one(c, rc, &out);
    else if (rc < 0)
        srv__reply_cache_err(c, rc);
    else if (sample)
        srv__reply_draws(c, &out, (unsigned long long)-(count + 1) + 1, 1);
    else
        srv__reply_records(c, &out);
    cache_keys_free(&out);
}

/* ---- SMOVE ------------------------------------------------------------------------ */

SRV_HANDLER(srv_cmd_smove)
{
    int rc = cache_smove(srv.cache, argv[1].ptr, argv[1].len, argv[2].ptr, argv[2].len,
                         argv[3].ptr, argv[3].len, NOW(c));

    if (rc < 0)
        srv__reply_cache_err(c, rc);
    else
        srv_reply_int(c, rc == CACHE_OK);
}

/* ---- SINTER, SUNION, SDIFF, their STORE forms, SINTERCARD --------------------------- */

/* Runs op over argv[first..first+nkeys) (into argv[1] for a STORE) and
 * replies: the members, the destination's size, or the count. */
static void setop(struct srv_conn *c, struct proto_arg *argv, size_t first, size_t nkeys,
                  struct cache_setop *op)
{
    struct cache_setop_result res = { 0 };
    struct srv_strv keys;

    if (srv__strv(c, argv, first, first + nkeys, &keys) < 0)
        return;
    op->keys = keys.v;
    op->nkeys = keys.n;
    int rc = cache_setop(srv.cache, op, NOW(c), &res);
    /* Redis counts one lookup per source read, up to a wrong type. */
    for (uint64_t i = 0; i < res.hits; i++)
        srv__stat_lookup(c, 1);
    for (uint64_t i = 0; i < res.misses; i++)
        srv__stat_lookup(c, 0);
    if (rc < 0)
        srv__reply_cache_err(c, rc);
    else if (op->dst || op->card_only)
        srv_reply_int(c, (long long)res.card);
    else
        srv__reply_records(c, &res.members);
    cache_keys_free(&res.members);
    srv__strv_free(&keys);
}

static void setop_read(struct srv_conn *c, size_t argc, struct proto_arg *argv, int kind)
{
    struct cache_setop op = { .op = kind };

    setop(c, argv, 1, argc - 1, &op);
}

static void setop_store(struct srv_conn *c, size_t argc, struct proto_arg *argv, int kind)
{
    struct cache_setop op = { .op = kind, .dst = argv[1].ptr, .dlen = argv[1].len };

    setop(c, argv, 2, argc - 2, &op);
}

SRV_HANDLER(srv_cmd_sinter)      { setop_read(c, argc, argv, CACHE_SINTER); }
SRV_HANDLER(srv_cmd_sunion)      { setop_read(c, argc, argv, CACHE_SUNION); }
SRV_HANDLER(srv_cmd_sdiff)       { setop_read(c, argc, argv, CACHE_SDIFF); }
SRV_HANDLER(srv_cmd_sinterstore) { setop_store(c, argc, argv, CACHE_SINTER); }
SRV_HANDLER(srv_cmd_sunionstore) { setop_store(c, argc, argv, CACHE_SUNION); }
SRV_HANDLER(srv_cmd_sdiffstore)  { setop_store(c, argc, argv, CACHE_SDIFF); }

/* SINTERCARD numkeys key [key ...] [LIMIT limit]: Redis's messages, which
 * also answer an argument that is not a number at all. */
SRV_HANDLER(srv_cmd_sintercard)
{
    struct cache_setop op = { .op = CACHE_SINTER, .card_only = 1 };
    long long numkeys, limit = 0;

    if (srv__arg_ll(c, &argv[1], &numkeys, "ERR numkeys should be greater than 0") < 0)
        return;
    if (numkeys < 1) {
        srv_reply_error(c, "ERR numkeys should be greater than 0");
        return;
    }
    if ((unsigned long long)numkeys > argc - 2) {
        srv_reply_error(c, "ERR Number of keys can't be greater than number of args");
        return;
    }
    for (size_t j = 2 + (size_t)numkeys; j < argc; j++) {
        if (srv__arg_is(&argv[j], "limit") && j + 1 < argc) {
            j++;
            if (srv__arg_ll(c, &argv[j], &limit, "ERR LIMIT can't be negative") < 0)
                return;
            if (limit < 0) {
                srv_reply_error(c, "ERR LIMIT can't be negative");
                return;
            }
        } else {
            srv_reply_error(c, SRV_ERR_SYNTAX);
            return;
        }
    }
    op.limit = (uint64_t)limit;
    setop(c, argv, 2, (size_t)numkeys, &op);
}

SRV_HANDLER(srv_cmd_sscan)
{
    srv__collection_scan(c, argc, argv, cache_sscan, 1);
}
