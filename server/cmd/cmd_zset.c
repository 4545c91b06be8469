/*
 * Sorted set commands on one key: ZADD ZINCRBY ZREM ZCARD ZSCORE ZMSCORE
 * ZRANK ZREVRANK ZPOPMIN ZPOPMAX ZRANDMEMBER ZSCAN, as Redis 7.0 (RESP2):
 * the same checks in the same order, so the same error wins, the same
 * keyspace hits and misses, and scores printed as Redis 7.0 prints them
 * ("%.17g", "inf", "-inf": srv__reply_score). The ranges are in
 * cmd_zrange.c, the commands on several keys in cmd_zmulti.c, ZMPOP and
 * the blocking pops in cmd_blocking.c.
 *
 * Each handler makes one cache call, atomic under the key's shard lock.
 * Replies that grow with a set are built member by member and stop once
 * the connection is going to be closed (srv_reply_closing).
 *
 * Context: the conn's worker thread, inside srv_dispatch().
 */
#include <limits.h>
#include <stdlib.h>

#include "commands.h"
#include "srv.h"

/* ---- ZADD, ZINCRBY ------------------------------------------------------------ */

/* Redis's zaddGenericCommand from argv[2] on: the options (ZINCRBY reads
 * them too, so "ZINCRBY k nx m" is a syntax error as in Redis), the pairs,
 * the option conflicts, then every score before the key is looked at. */
static void zadd_generic(struct srv_conn *c, size_t argc, struct proto_arg *argv, int flags)
{
    static const struct { const char *name; int flag; } opts[] = {
        {"nx", CACHE_ZADD_NX}, {"xx", CACHE_ZADD_XX}, {"gt", CACHE_ZADD_GT},
        {"lt", CACHE_ZADD_LT}, {"incr", CACHE_ZADD_INCR}, {"ch", 0},
    };
    struct cache_zpair small[16], *p = small;
    struct cache_zadd_result r;
    size_t i = 2;
    bool ch = false;

    for (; i < argc; i++) {
        size_t k = 0;
        while (k < sizeof(opts) / sizeof(opts[0]) && !srv__arg_is(&argv[i], opts[k].name))
            k++;
        if (k == sizeof(opts) / sizeof(opts[0]))
            break;
        flags |= opts[k].flag;
        ch |= opts[k].flag == 0;
    }
    size_t n = (argc - i) / 2;
    if ((argc - i) % 2 || n == 0) {
        srv_reply_error(c, SRV_ERR_SYNTAX);
        return;
    }
    if ((flags & CACHE_ZADD_NX) && (flags & CACHE_ZADD_XX)) {
        srv_reply_error(c, "ERR XX and NX options at the same time are not compatible");
        return;
    }
    if (((flags & CACHE_ZADD_GT) && (flags & (CACHE_ZADD_NX | CACHE_ZADD_LT))) ||
        ((flags & CACHE_ZADD_LT) && (flags & CACHE_ZADD_NX))) {
        srv_reply_error(c, "ERR GT, LT, and/or NX options at the same time are not compatible");
        return;
    }
    if ((flags & CACHE_ZADD_INCR) && n > 1) {
        srv_reply_error(c, "ERR INCR option supports a single increment-element pair");
        return;
    }
    if (n > sizeof(small) / sizeof(small[0]) && !(p = malloc(n * sizeof(*p)))) {
        srv_reply_error(c, SRV_ERR_NOMEM);
        return;
    }
    for (size_t k = 0; k < n; k++, i += 2) {
        if (proto_str2d(argv[i].ptr, argv[i].len, &p[k].score) != 0) {
            srv_reply_error(c, SRV_ERR_NOTFLOAT);
            goto out_free;
        }
        p[k].m = argv[i + 1].ptr;
        p[k].len = argv[i + 1].len;
    }
    int rc = cache_zadd(srv.cache, argv[1].ptr, argv[1].len, p, n, flags, NOW(c), &r);
    if (rc < 0)
        srv__reply_cache_err(c, rc);
    else if (!(flags & CACHE_ZADD_INCR))
        srv_reply_int(c, (long long)(ch ? r.added + r.updated : r.added));
    else if (r.processed)
        srv__reply_score(c, r.score);
    else
        srv_reply_null(c);
out_free:
    if (p != small)
        free(p);
}

SRV_HANDLER(srv_cmd_zadd) { zadd_generic(c, argc, argv, 0); }
SRV_HANDLER(srv_cmd_zincrby) { zadd_generic(c, argc, argv, CACHE_ZADD_INCR); }

SRV_HANDLER(srv_cmd_zrem) { srv__members_write(c, argc, argv, cache_zrem); }

/* ---- reads -------------------------------------------------------------------- */

SRV_HANDLER(srv_cmd_zcard)
{
    srv__reply_card(c, argv, CACHE_TYPE_ZSET);
}

SRV_HANDLER(srv_cmd_zscore)
{
    double score;
    int rc = cache_zscore(srv.cache, argv[1].ptr, argv[1].len, argv[2].ptr, argv[2].len,
                          NOW(c), &score);

    srv__stat_rc(c, rc);
    if (rc < 0)
        srv__reply_cache_err(c, rc);
    else if (rc == CACHE_OK)
        srv__reply_score(c, score);
    else
        srv_reply_null(c);
}

SRV_HANDLER(srv_cmd_zmscore)
{
    struct srv_strv mv;
    double small[32], *scores = small;
    unsigned char fsmall[32], *found = fsmall;

    if (srv__strv(c, argv, 2, argc, &mv) < 0)
        return;
    if (mv.n > sizeof(small) / sizeof(small[0]) &&
        (!(scores = malloc(mv.n * sizeof(*scores))) || !(found = malloc(mv.n)))) {
        srv_reply_error(c, SRV_ERR_NOMEM);
        goto out_free;
    }
    int rc = cache_zmscore(srv.cache, argv[1].ptr, argv[1].len, mv.v, mv.n, NOW(c), scores,
                           found);
    srv__stat_rc(c, rc);
    if (rc < 0) {
        srv__reply_cache_err(c, rc);
    } else {
        srv_reply_array(c, (long long)mv.n);
        for (size_t i = 0; i < mv.n; i++) {
            if (found[i])
                srv__reply_score(c, scores[i]);
            else
                srv_reply_null(c);
        }
    }
out_free:
    if (scores != small)
        free(scores);
    if (found != fsmall)
        free(found);
    srv__strv_free(&mv);
}

static void rank_generic(struct srv_conn *c, struct proto_arg *argv, int rev)
{
    uint64_t rank;
    int rc = cache_zrank(srv.cache, argv[1].ptr, argv[1].len, argv[2].ptr, argv[2].len, rev,
                         NOW(c), &rank);

    srv__stat_rc(c, rc);
    if (rc < 0)
        srv__reply_cache_err(c, rc);
    else if (rc == CACHE_OK)
        srv_reply_int(c, (long long)rank);
    else
        srv_reply_null(c);
}

SRV_HANDLER(srv_cmd_zrank) { (void)argc; rank_generic(c, argv, 0); }
SRV_HANDLER(srv_cmd_zrevrank) { (void)argc; rank_generic(c, argv, 1); }

/* ---- ZPOPMIN, ZPOPMAX ------------------------------------------------------------ */

/* ZPOPMIN/ZPOPMAX key [count]: a flat array of member, score. */
static void zpop_generic(struct srv_conn *c, size_t argc, struct proto_arg *argv, int where)
{
    struct cache_keys out = { 0 };
    long long count;

    if (srv__pop_count(c, argc, argv, &count) < 0)
        return;
    int rc = cache_zpop(srv.cache, argv[1].ptr, argv[1].len, where, (uint64_t)count, NOW(c),
                        &out);
    if (rc < 0)
        srv__reply_cache_err(c, rc);
    else
        srv__reply_zrecs(c, &out, out.count / 2, true);   /* missing: the empty array */
    cache_keys_free(&out);
}

SRV_HANDLER(srv_cmd_zpopmin) { zpop_generic(c, argc, argv, CACHE_ZMIN); }
SRV_HANDLER(srv_cmd_zpopmax) { zpop_generic(c, argc, argv, CACHE_ZMAX); }

/* ---- ZRANDMEMBER ------------------------------------------------------------------- */

/* ZRANDMEMBER key [count [WITHSCORES]]: the count first (Redis's range,
 * -LONG_MAX..LONG_MAX), then the options, then with scores half the
 * range, then the key. */
SRV_HANDLER(srv_cmd_zrandmember)
{
    struct cache_keys out = { 0 };
    long long count;
    int sample, withscores;

    if (srv__rand_args(c, argc, argv, "withscores", &count, &withscores) < 0)
        return;
    int rc = cache_zrandmember(srv.cache, argv[1].ptr, argv[1].len, count, withscores, NOW(c),
                               &out, &sample);
    srv__stat_rc(c, rc);
    if (rc < 0) {
        srv__reply_cache_err(c, rc);
    } else if (argc < 3) {
        const char *s;
        size_t pos = 0, len;
        if (rc == CACHE_NOTFOUND || (s = cache_keys_next(&out, &pos, &len)) == NULL)
            srv_reply_null(c);
        else
            srv_reply_bulk(c, s, len);
    } else if (sample) {
        srv__reply_draws(c, &out, (unsigned long long)-(count + 1) + 1, withscores ? 2 : 1,
                         withscores);
    } else if (withscores) {
        srv__reply_zrecs(c, &out, out.count / 2, true);
    } else {
        srv__reply_records(c, &out);
    }
    cache_keys_free(&out);
}

SRV_HANDLER(srv_cmd_zscan)
{
    srv__collection_scan(c, argc, argv, cache_zscan, 2, true);
}
