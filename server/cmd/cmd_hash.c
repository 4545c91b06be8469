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

#define NOW(c) ((c)->w->now_ms)

/* Fields named by argv[first..argc): views, no copies. */
struct fieldv {
    struct cache_str small[16];
    struct cache_str *f;
    size_t n;
};

static int fields_of(struct srv_conn *c, struct proto_arg *argv, size_t first,
                     size_t argc, struct fieldv *fv)
{
    fv->n = argc - first;
    fv->f = fv->small;
    if (fv->n > sizeof(fv->small) / sizeof(fv->small[0]) &&
        !(fv->f = malloc(fv->n * sizeof(*fv->f)))) {
        srv_reply_error(c, SRV_ERR_NOMEM);
        return -1;
    }
    for (size_t i = 0; i < fv->n; i++) {
        fv->f[i].s = argv[first + i].ptr;
        fv->f[i].len = argv[first + i].len;
    }
    return 0;
}

static void fields_free(struct fieldv *fv)
{
    if (fv->f != fv->small)
        free(fv->f);
}

/* An array of the records in k (nil records as nil), stopping early when
 * the connection is going away. */
static void reply_records(struct srv_conn *c, const struct cache_keys *k)
{
    const char *s;
    size_t pos = 0, len;

    srv_reply_array(c, (long long)k->count);
    while ((s = cache_keys_next(k, &pos, &len)) != NULL && !srv_reply_closing(c)) {
        if (len == CACHE_KEYS_NIL)
            srv_reply_null(c);
        else
            srv_reply_bulk(c, s, len);
    }
}

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
    struct fieldv fv;

    if (fields_of(c, argv, 2, argc, &fv) < 0)
        return;
    int rc = cache_hmget(srv.cache, argv[1].ptr, argv[1].len, fv.f, fv.n, NOW(c), &out);
    srv__stat_rc(c, rc);
    if (rc < 0)
        srv__reply_cache_err(c, rc);
    else
        reply_records(c, &out);
    cache_keys_free(&out);
    fields_free(&fv);
}

static void getall_generic(struct srv_conn *c, const struct proto_arg *key, int what)
{
    struct cache_keys out = { 0 };
    int rc = cache_hgetall(srv.cache, key->ptr, key->len, what, NOW(c), &out);

    srv__stat_rc(c, rc);
    if (rc < 0)
        srv__reply_cache_err(c, rc);
    else
        reply_records(c, &out);   /* a missing key: the empty array */
    cache_keys_free(&out);
}

SRV_HANDLER(srv_cmd_hgetall) { getall_generic(c, &argv[1], CACHE_H_FIELDS | CACHE_H_VALUES); }
SRV_HANDLER(srv_cmd_hkeys)   { getall_generic(c, &argv[1], CACHE_H_FIELDS); }
SRV_HANDLER(srv_cmd_hvals)   { getall_generic(c, &argv[1], CACHE_H_VALUES); }

SRV_HANDLER(srv_cmd_hlen)
{
    uint64_t len;
    int rc = cache_hlen(srv.cache, argv[1].ptr, argv[1].len, NOW(c), &len);

    if (rc < 0)
        srv__reply_cache_err(c, rc);
    else
        srv_reply_int(c, (long long)len);
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
    struct fieldv fv;
    uint64_t n;

    if (fields_of(c, argv, 2, argc, &fv) < 0)
        return;
    int rc = cache_hdel(srv.cache, argv[1].ptr, argv[1].len, fv.f, fv.n, NOW(c), &n);
    if (rc < 0)
        srv__reply_cache_err(c, rc);
    else
        srv_reply_int(c, (long long)n);
    fields_free(&fv);
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

/* -count picks with repeats, drawn from a copy of the whole hash (the
 * cache hands one over when the count exceeds its size): the copy's size
 * bounds the memory, the output limit bounds the reply. */
static void reply_draws(struct srv_conn *c, const struct cache_keys *all,
                        unsigned long long picks, int withvalues)
{
    size_t per = withvalues ? 2 : 1, n = all->count / per, pos = 0, len;
    size_t *at = malloc(n * sizeof(*at));

    if (!at) {
        srv_reply_error(c, SRV_ERR_NOMEM);
        return;
    }
    for (size_t i = 0; i < n; i++) {   /* where each pair starts */
        at[i] = pos;
        for (size_t k = 0; k < per; k++)
            (void)cache_keys_next(all, &pos, &len);
    }
    srv_reply_array(c, (long long)(picks * per));
    while (picks-- > 0 && !srv_reply_closing(c)) {
        size_t p = at[cache_rand() % n];
        for (size_t k = 0; k < per; k++) {
            const char *s = cache_keys_next(all, &p, &len);
            srv_reply_bulk(c, s, len);
        }
    }
    free(at);
}

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
        reply_draws(c, &out, (unsigned long long)-(count + 1) + 1, withvalues);
    else
        reply_records(c, &out);
    cache_keys_free(&out);
}

/* ---- HSCAN ------------------------------------------------------------------------ */

/* HSCAN key cursor [MATCH pattern] [COUNT count]. Redis checks the cursor,
 * then the key (a missing one answers the empty scan whatever the
 * options), then the options. */
SRV_HANDLER(srv_cmd_hscan)
{
    const struct proto_arg *pat = NULL;
    const char *err = NULL;
    struct cache_keys out = { 0 };
    long long count = 10;
    uint64_t cursor, next;
    char buf[24];

    if (srv__arg_cursor(c, &argv[2], &cursor) < 0)
        return;
    for (size_t i = 3; i < argc && !err; i += 2) {
        if (srv__arg_is(&argv[i], "count") && i + 1 < argc) {
            if (proto_str2ll(argv[i + 1].ptr, argv[i + 1].len, &count) < 0)
                err = SRV_ERR_NOTINT;
            else if (count < 1)
                err = SRV_ERR_SYNTAX;
        } else if (srv__arg_is(&argv[i], "match") && i + 1 < argc) {
            pat = &argv[i + 1];
        } else {
            err = SRV_ERR_SYNTAX;
        }
    }
    int rc = cache_hscan(srv.cache, argv[1].ptr, argv[1].len, cursor,
                         err ? 1 : (size_t)count, NOW(c), &out, &next);
    srv__stat_rc(c, rc);
    if (rc < 0) {
        srv__reply_cache_err(c, rc);
    } else if (rc == CACHE_NOTFOUND) {
        srv_reply_array(c, 2);
        srv_reply_bulk_cstr(c, "0");
        srv_reply_array(c, 0);
    } else if (err) {
        srv_reply_error(c, err);
    } else {
        const char *f, *v;
        size_t pos = 0, flen, vlen;
        long long n = 0;
        snprintf(buf, sizeof(buf), "%llu", (unsigned long long)next);
        srv_reply_array(c, 2);
        srv_reply_bulk_cstr(c, buf);
        if (pat == NULL || (pat->len == 1 && pat->ptr[0] == '*')) {
            reply_records(c, &out);
        } else {   /* two passes: RESP wants the count first */
            while ((f = cache_keys_next(&out, &pos, &flen)) &&
                   (v = cache_keys_next(&out, &pos, &vlen)))
                n += 2 * srv_glob_match(pat->ptr, pat->len, f, flen, 0);
            srv_reply_array(c, n);
            pos = 0;
            while ((f = cache_keys_next(&out, &pos, &flen)) &&
                   (v = cache_keys_next(&out, &pos, &vlen)) && !srv_reply_closing(c)) {
                if (srv_glob_match(pat->ptr, pat->len, f, flen, 0)) {
                    srv_reply_bulk(c, f, flen);
                    srv_reply_bulk(c, v, vlen);
                }
            }
        }
    }
    cache_keys_free(&out);
}
