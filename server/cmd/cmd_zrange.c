/*
 * Sorted set commands over a range: ZRANGE (BYSCORE BYLEX REV LIMIT
 * WITHSCORES), ZRANGESTORE and the older forms ZREVRANGE ZRANGEBYSCORE
 * ZREVRANGEBYSCORE ZRANGEBYLEX ZREVRANGEBYLEX; ZCOUNT ZLEXCOUNT;
 * ZREMRANGEBYRANK ZREMRANGEBYSCORE ZREMRANGEBYLEX. As Redis 7.0's
 * zrangeGenericCommand: the options first (each old form allows only
 * its own), then the conflicts, then the range, then the key.
 *
 * A range's members are copied under the key's shard lock, at most as
 * many bytes as the client may be sent (its output limit); a reply that
 * could not be sent whole is cut there and the connection closed, as
 * LRANGE's (docs/types.md). LIMIT's count only bounds the range.
 *
 * Context: the conn's worker thread, inside srv_dispatch().
 */
#include <stdint.h>

#include "commands.h"
#include "srv.h"

static const char err_float[] = "ERR min or max is not a float";
static const char err_lex[] = "ERR min or max not valid string range item";

/* zslParseRange: "(" makes an end exclusive; what follows is a number as
 * strtod reads a C string (proto_str2d_range). */
static int parse_score_end(const struct proto_arg *a, double *v, int *ex)
{
    *ex = a->len > 0 && a->ptr[0] == '(';
    return proto_str2d_range(a->ptr + *ex, a->len - (size_t)*ex, v);
}

static int parse_score(const struct proto_arg *min, const struct proto_arg *max,
                       struct cache_zscore_range *r)
{
    return parse_score_end(min, &r->min, &r->minex) == 0 &&
                   parse_score_end(max, &r->max, &r->maxex) == 0 ? 0 : -1;
}

/* zslParseLexRangeItem: "(x" "[x" "-" "+" (Redis reads the C string: "+"
 * followed by a NUL is "+"). */
static int parse_lex_end(const struct proto_arg *a, struct cache_zlex_bound *b)
{
    b->s = a->ptr + 1;
    b->len = a->len ? a->len - 1 : 0;
    if (a->len == 0)
        return -1;
    switch (a->ptr[0]) {
    case '+':
    case '-':
        b->kind = a->ptr[0] == '+' ? CACHE_ZLEX_PLUS : CACHE_ZLEX_MINUS;
        return a->len == 1 || a->ptr[1] == '\0' ? 0 : -1;
    case '(':
        b->kind = CACHE_ZLEX_EXCL;
        return 0;
    case '[':
        b->kind = CACHE_ZLEX_INCL;
        return 0;
    default:
        return -1;
    }
}

static int parse_lex(const struct proto_arg *min, const struct proto_arg *max,
                     struct cache_zlex_range *r)
{
    return parse_lex_end(min, &r->min) == 0 && parse_lex_end(max, &r->max) == 0 ? 0 : -1;
}

/* The range's ends from min and max (already swapped for REV) by r->by:
 * 0, or -1 after the error reply. */
static int parse_range(struct srv_conn *c, const struct proto_arg *min,
                       const struct proto_arg *max, struct cache_zrange *r)
{
    if (r->by == CACHE_ZBY_RANK)
        return srv__arg_ll(c, min, &r->start, NULL) < 0 ||
                       srv__arg_ll(c, max, &r->end, NULL) < 0 ? -1 : 0;
    if (r->by == CACHE_ZBY_SCORE ? parse_score(min, max, &r->score) != 0
                                 : parse_lex(min, max, &r->lex) != 0) {
        srv_reply_error(c, r->by == CACHE_ZBY_SCORE ? err_float : err_lex);
        return -1;
    }
    return 0;
}

#define AUTO -1

/* Redis's zrangeGenericCommand: argv[first] is the source, min and max
 * follow it; store: ZRANGESTORE into argv[1]; by and rev AUTO when the
 * command's options may set them (ZRANGE, ZRANGESTORE). */
static void zrange_generic(struct srv_conn *c, size_t argc, struct proto_arg *argv,
                           size_t first, bool store, int by, int rev)
{
    struct cache_zrange r = {.limit = -1};
    size_t minidx = first + 1, maxidx = first + 2;
    bool limit = false;

    for (size_t j = first + 3; j < argc; j++) {
        if (!store && srv__arg_is(&argv[j], "withscores")) {
            r.withscores = 1;
        } else if (srv__arg_is(&argv[j], "limit") && argc - j - 1 >= 2) {
            if (srv__arg_ll(c, &argv[j + 1], &r.offset, NULL) < 0 ||
                srv__arg_ll(c, &argv[j + 2], &r.limit, NULL) < 0)
                return;
            limit = true;
            j += 2;
        } else if (rev == AUTO && srv__arg_is(&argv[j], "rev")) {
            rev = 1;
        } else if (by == AUTO && srv__arg_is(&argv[j], "bylex")) {
            by = CACHE_ZBY_LEX;
        } else if (by == AUTO && srv__arg_is(&argv[j], "byscore")) {
            by = CACHE_ZBY_SCORE;
        } else {
            srv_reply_error(c, SRV_ERR_SYNTAX);
            return;
        }
    }
    r.rev = rev == 1;
    r.by = by == AUTO ? CACHE_ZBY_RANK : by;
    if (limit && r.by == CACHE_ZBY_RANK) {
        srv_reply_error(c, "ERR syntax error, LIMIT is only supported in combination with "
                           "either BYSCORE or BYLEX");
        return;
    }
    if (r.withscores && r.by == CACHE_ZBY_LEX) {
        srv_reply_error(c, "ERR syntax error, WITHSCORES not supported in combination with "
                           "BYLEX");
        return;
    }
    if (r.rev && r.by != CACHE_ZBY_RANK) {   /* the range is given as max, min */
        minidx = first + 2;
        maxidx = first + 1;
    }
    if (parse_range(c, &argv[minidx], &argv[maxidx], &r) < 0)
        return;
    struct cache_keys out = {0};
    uint64_t n;
    int rc = store ? cache_zrangestore(srv.cache, argv[1].ptr, argv[1].len, argv[first].ptr,
                                       argv[first].len, &r, NOW(c), &n)
                   : cache_zrange(srv.cache, argv[first].ptr, argv[first].len, &r,
                                  srv__copy_bound(c), NOW(c), &out, &n);
    srv__stat_rc(c, rc);
    if (rc < 0)
        srv__reply_cache_err(c, rc);
    else if (store)
        srv_reply_int(c, (long long)n);
    else if (r.withscores)
        srv__reply_zrecs(c, &out, n, true);
    else
        srv__reply_records_cut(c, &out, n);   /* a missing key: the empty array */
    cache_keys_free(&out);
}

SRV_HANDLER(srv_cmd_zrange) { zrange_generic(c, argc, argv, 1, false, AUTO, AUTO); }
SRV_HANDLER(srv_cmd_zrangestore) { zrange_generic(c, argc, argv, 2, true, AUTO, AUTO); }
SRV_HANDLER(srv_cmd_zrevrange) { zrange_generic(c, argc, argv, 1, false, CACHE_ZBY_RANK, 1); }
SRV_HANDLER(srv_cmd_zrangebyscore) { zrange_generic(c, argc, argv, 1, false, CACHE_ZBY_SCORE, 0); }
SRV_HANDLER(srv_cmd_zrevrangebyscore) { zrange_generic(c, argc, argv, 1, false, CACHE_ZBY_SCORE, 1); }
SRV_HANDLER(srv_cmd_zrangebylex) { zrange_generic(c, argc, argv, 1, false, CACHE_ZBY_LEX, 0); }
SRV_HANDLER(srv_cmd_zrevrangebylex) { zrange_generic(c, argc, argv, 1, false, CACHE_ZBY_LEX, 1); }

/* ---- ZCOUNT, ZLEXCOUNT, ZREMRANGEBY* -------------------------------------------------- */

/* The range of argv[2], argv[3] by `by`, then the key; remove: delete it. */
static void range_count(struct srv_conn *c, struct proto_arg *argv, int by, bool remove)
{
    struct cache_zrange r = {.by = by, .limit = -1};
    uint64_t n;

    if (parse_range(c, &argv[2], &argv[3], &r) < 0)
        return;
    int rc = remove ? cache_zremrange(srv.cache, argv[1].ptr, argv[1].len, &r, NOW(c), &n)
                    : cache_zcount(srv.cache, argv[1].ptr, argv[1].len, &r, NOW(c), &n);
    if (!remove)
        srv__stat_rc(c, rc);
    if (rc < 0)
        srv__reply_cache_err(c, rc);
    else
        srv_reply_int(c, (long long)n);   /* a missing key: 0 */
}

SRV_HANDLER(srv_cmd_zcount) { (void)argc; range_count(c, argv, CACHE_ZBY_SCORE, false); }
SRV_HANDLER(srv_cmd_zlexcount) { (void)argc; range_count(c, argv, CACHE_ZBY_LEX, false); }
SRV_HANDLER(srv_cmd_zremrangebyrank) { (void)argc; range_count(c, argv, CACHE_ZBY_RANK, true); }
SRV_HANDLER(srv_cmd_zremrangebyscore) { (void)argc; range_count(c, argv, CACHE_ZBY_SCORE, true); }
SRV_HANDLER(srv_cmd_zremrangebylex) { (void)argc; range_count(c, argv, CACHE_ZBY_LEX, true); }
