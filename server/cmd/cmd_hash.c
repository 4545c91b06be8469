/*
 * Hash commands: HSET HSETNX HMSET HGET HMGET HGETALL HDEL HEXISTS HLEN
 * HKEYS HVALS HSTRLEN HINCRBY HINCRBYFLOAT HRANDFIELD HSCAN, as Redis 7.0
 * (RESP2): the same checks in the same order, so the same error wins.
 *
 * Each handler makes one cache call (atomic under the key's shard lock)
 * and gets plain strings back; replies that can grow with the hash are
 * built element by element and stop early once the connection is going
 * to be closed (srv_reply_closing: an allocation failed or the
 * output passed client-output-buffer-limit).
 *
 * Context: the conn's worker thread, inside srv_dispatch().
 */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "srv.h"

/* ---- HSET, HMSET, HSETNX ------------------------------------------------------ */

static void hset_generic(struct srv_conn *c, size_t argc, struct proto_arg *argv,
                         const char *name, int flags, int reply_ok)
{
    struct cache_kv small[16], *kv = small;
    size_t n = (argc - 2) / 2;
    uint64_t added;

    if ((argc - 2) % 2 != 0) {
        srv_reply_errorf(c, "ERR wrong number of arguments for '%s' command", name);
        return;
    }
    if (n > sizeof(small) / sizeof(small[0]) && !(kv = malloc(n * sizeof(*kv)))) {
        srv_reply_error(c, SRV_ERR_NOMEM);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        kv[i].key = argv[2 + 2 * i].ptr;
        kv[i].klen = argv[2 + 2 * i].len;
        kv[i].val = argv[3 + 2 * i].ptr;
        kv[i].vlen = argv[3 + 2 * i].len;
    }
    int rc = cache_hset(srv.cache, argv[1].ptr, argv[1].len, kv, n, flags, NOW(c),
                        &added);
    if (rc < 0)
        srv__reply_cache_err(c, rc);
    else if (reply_ok)
        srv_reply_ok(c);
    else
        srv_reply_int(c, (long long)added);
    if (kv != small)
        free(kv);
}

SRV_HANDLER(srv_cmd_hset)   { hset_generic(c, argc, argv, "hset", 0, 0); }
SRV_HANDLER(srv_cmd_hmset)  { hset_generic(c, argc, argv, "hmset", 0, 1); }
SRV_HANDLER(srv_cmd_hsetnx) { hset_generic(c, argc, argv, "hsetnx", CACHE_HSET_NX, 0); }

/* ---- reads ---------------------------------------------------------------------- */

SRV_HANDLER(srv_cmd_hget)
{
    int rc = cache_hget(srv.cache, argv[1].ptr, argv[1].len, argv[2].ptr,
                        argv[2].len, NOW(c), &c->w->scratch);

    srv__stat_rc(c, rc);
    srv__reply_value_or_null(c, rc == CACHE_NOELEM ? CACHE_NOTFOUND : rc);
}

SRV_HANDLER(srv_cmd_hmget)
{
    struct cache_keys out = { 0 };
    struct srv_strv fv;

    if (srv__strv(c, argv, 2, argc, &fv) < 0)
        return;
    int rc = cache_hmget(srv.cache, argv[1].ptr, argv[1].len, fv.v, fv.n, NOW(c), &out);
    srv__stat_rc(c, rc);
    if (rc < 0)
        srv__reply_cache_err(c, rc);
    else
        srv__reply_records(c, &out);
    cache_keys_free(&out);
    srv__strv_free(&fv);
}

static void getall_generic(struct srv_conn *c, const struct proto_arg *key, int what)
{
    struct cache_keys out = { 0 };
    int rc = cache_hgetall(srv.cache, key->ptr, key->len, what, NOW(c), &out);

    srv__stat_rc(c, rc);
    if (rc < 0)
        srv__reply_cache_err(c, rc);
    else
        srv__reply_records(c, &out);   /* a missing key: the empty array */
    cache_keys_free(&out);
}

SRV_HANDLER(srv_cmd_hgetall) { getall_generic(c, &argv[1], CACHE_H_FIELDS | CACHE_H_VALUES); }
SRV_HANDLER(srv_cmd_hkeys)   { getall_generic(c, &argv[1], CACHE_H_FIELDS); }
SRV_HANDLER(srv_cmd_hvals)   { getall_generic(c, &argv[1], CACHE_H_VALUES); }

SRV_HANDLER(srv_cmd_hlen)
{
    srv__reply_card(c, argv, CACHE_TYPE_HASH);
}

SRV_HANDLER(srv_cmd_hexists)
{
    int rc = cache_hexists(srv.cache, argv[1].ptr, argv[1].len, argv[2].ptr,
                           argv[2].len, NOW(c));

    srv__stat_rc(c, rc);
    if (rc < 0)
        srv__reply_cache_err(c, rc);
    else
        srv_reply_int(c, rc == CACHE_OK);
}

SRV_HANDLER(srv_cmd_hstrlen)
{
    size_t len;
    int rc = cache_hstrlen(srv.cache, argv[1].ptr, argv[1].len, argv[2].ptr,
                           argv[2].len, NOW(c), &len);

    if (rc < 0)
        srv__reply_cache_err(c, rc);
    else
        srv_reply_int(c, (long long)len);
}

/* ---- HDEL, HINCRBY, HINCRBYFLOAT ------------------------------------------------ */

SRV_HANDLER(srv_cmd_hdel)
{
    struct srv_strv fv;
    uint64_t n;

    if (srv__strv(c, argv, 2, argc, &fv) < 0)
        return;
    int rc = cache_hdel(srv.cache, argv[1].ptr, argv[1].len, fv.v, fv.n, NOW(c), &n);
    if (rc < 0)
        srv__reply_cache_err(c, rc);
    else
        srv_reply_int(c, (long long)n);
    srv__strv_free(&fv);
}

SRV_HANDLER(srv_cmd_hincrby)
{
    long long delta, result;

    if (srv__arg_ll(c, &argv[3], &delta, NULL) < 0)
        return;
    int rc = cache_hincrby(srv.cache, argv[1].ptr, argv[1].len, argv[2].ptr,
                           argv[2].len, delta, NOW(c), &result);
    if (rc == CACHE_E_NOTINT)
        srv_reply_error(c, "ERR hash value is not an integer");
    else if (rc < 0)
        srv__reply_cache_err(c, rc);
    else
        srv_reply_int(c, result);
}

SRV_HANDLER(srv_cmd_hincrbyfloat)
{
    char buf[CACHE_LD_MAX_CHARS];
    long double delta;
    size_t len;

    if (proto_str2ld(argv[3].ptr, argv[3].len, &delta) < 0) {
        srv_reply_error(c, SRV_ERR_NOTFLOAT);
        return;
    }
    if (isnan(delta) || isinf(delta)) {
        srv_reply_error(c, "ERR value is NaN or Infinity");
        return;
    }
    int rc = cache_hincrbyfloat(srv.cache, argv[1].ptr, argv[1].len, argv[2].ptr,
                                argv[2].len, delta, NOW(c), buf, sizeof(buf), &len);
    if (rc == CACHE_E_NOTFLOAT)
        srv_reply_error(c, "ERR hash value is not a float");
    else if (rc < 0)
        srv__reply_cache_err(c, rc);
    else
        srv_reply_bulk(c, buf, len);
}

/* ---- HRANDFIELD ------------------------------------------------------------------ */

/* HRANDFIELD key [count [WITHVALUES]] */
SRV_HANDLER(srv_cmd_hrandfield)
{
    struct cache_keys out = { 0 };
    long long count = 1;
    int withvalues = 0, sample, rc;

    if (argc >= 3) {
        if (srv__arg_ll(c, &argv[2], &count, NULL) < 0)
            return;
        if (count < -LLONG_MAX) {
            srv_reply_errorf(c, "ERR value is out of range, value must between %lld and %lld",
                             -LLONG_MAX, LLONG_MAX);
            return;
        }
        if (argc > 4 || (argc == 4 && !srv__arg_is(&argv[3], "withvalues"))) {
            srv_reply_error(c, SRV_ERR_SYNTAX);
            return;
        }
        withvalues = argc == 4;
        /* Redis 7.0's bound: the reply's length, count * 2, must not overflow. */
        if (withvalues && (count < -LLONG_MAX / 2 || count > LLONG_MAX / 2)) {
            srv_reply_error(c, "ERR value is out of range");
            return;
        }
    }
    rc = cache_hrandfield(srv.cache, argv[1].ptr, argv[1].len, argc >= 3 ? count : 1,
                          withvalues, NOW(c), &out, &sample);
    srv__stat_rc(c, rc);
    if (rc < 0)
        srv__reply_cache_err(c, rc);
    else if (argc < 3 && rc == CACHE_NOTFOUND)
        srv_reply_null(c);
    else if (argc < 3)
        srv_reply_bulk(c, out.buf + sizeof(uint32_t), out.len - sizeof(uint32_t));
    else if (sample)
        srv__reply_draws(c, &out, (unsigned long long)-(count + 1) + 1,
                         withvalues ? 2 : 1);
    else
        srv__reply_records(c, &out);
    cache_keys_free(&out);
}

/* ---- HSCAN ------------------------------------------------------------------------ */

SRV_HANDLER(srv_cmd_hscan)
{
    srv__collection_scan(c, argc, argv, cache_hscan, 2);
}
