/*
 * Sorted set commands on several keys: ZUNION ZINTER ZDIFF, their STORE
 * forms and ZINTERCARD, as Redis 7.0's zunionInterDiffGenericCommand:
 * numkeys (its errors), then the sources' types (WRONGTYPE wins over a
 * bad option, and those lookups count as keyspace hits and misses), then
 * WEIGHTS, AGGREGATE, WITHSCORES or LIMIT, each only where the command
 * takes it. One cache call does the rest under every key's shard lock
 * (cache/zsetmulti.c); a reply is bounded by the output limit as a
 * range's is.
 *
 * Context: the conn's worker thread, inside srv_dispatch().
 */
#include <stdint.h>
#include <stdlib.h>

#include "commands.h"
#include "srv.h"

/* The options after the keys, from argv[j]: 0, or -1 with *err (a
 * static string) or a reply already written (*err NULL). */
static int parse_options(struct srv_conn *c, size_t argc, struct proto_arg *argv, size_t j,
                         struct cache_zsetop *op, double *weights, int *withscores,
                         const char **err)
{
    bool diff = op->op == CACHE_ZDIFF, card = op->card_only;

    *err = SRV_ERR_SYNTAX;
    while (j < argc) {
        size_t left = argc - j;
        if (!diff && !card && left >= op->nkeys + 1 && srv__arg_is(&argv[j], "weights")) {
            for (size_t i = 0; i < op->nkeys; i++) {
                const struct proto_arg *w = &argv[j + 1 + i];
                if (proto_str2d(w->ptr, w->len, &weights[i]) != 0) {
                    *err = "ERR weight value is not a float";
                    return -1;
                }
            }
            op->weights = weights;
            j += op->nkeys + 1;
        } else if (!diff && !card && left >= 2 && srv__arg_is(&argv[j], "aggregate")) {
            const struct proto_arg *a = &argv[j + 1];
            if (srv__arg_is(a, "sum"))
                op->aggregate = CACHE_ZAGG_SUM;
            else if (srv__arg_is(a, "min"))
                op->aggregate = CACHE_ZAGG_MIN;
            else if (srv__arg_is(a, "max"))
                op->aggregate = CACHE_ZAGG_MAX;
            else
                return -1;
            j += 2;
        } else if (!op->dst && !card && srv__arg_is(&argv[j], "withscores")) {
            *withscores = 1;
            j++;
        } else if (card && left >= 2 && srv__arg_is(&argv[j], "limit")) {
            long long limit;
            if (proto_str2ll(argv[j + 1].ptr, argv[j + 1].len, &limit) != 0 || limit < 0) {
                *err = "ERR LIMIT can't be negative";
                return -1;
            }
            op->limit = (uint64_t)limit;
            j += 2;
        } else {
            return -1;
        }
    }
    return 0;
}

/* argv[numkeys_at] is numkeys, the keys follow it; store: into argv[1];
 * name: the command's, for Redis's numkeys message. */
static void zsetop_generic(struct srv_conn *c, size_t argc, struct proto_arg *argv,
                           const char *name, int kind, bool store, bool card_only)
{
    size_t numkeys_at = store ? 2 : 1;
    struct cache_zsetop op = {.op = kind, .card_only = card_only};
    struct cache_zsetop_result res = {0};
    struct srv_strv keys = {0};
    long long numkeys;
    int withscores = 0;
    const char *err = NULL;
    double *weights = NULL;

    if (srv__arg_ll(c, &argv[numkeys_at], &numkeys, NULL) < 0)
        return;
    if (numkeys < 1) {
        srv_reply_errorf(c, "ERR at least 1 input key is needed for '%s' command", name);
        return;
    }
    if ((unsigned long long)numkeys > argc - numkeys_at - 1) {
        srv_reply_error(c, SRV_ERR_SYNTAX);
        return;
    }
    if (srv__strv(c, argv, numkeys_at + 1, numkeys_at + 1 + (size_t)numkeys, &keys) < 0)
        return;
    op.keys = keys.v;
    op.nkeys = keys.n;
    if (store) {
        op.dst = argv[1].ptr;
        op.dlen = argv[1].len;
    }
    if (!(weights = malloc(op.nkeys * sizeof(*weights)))) {
        srv_reply_error(c, SRV_ERR_NOMEM);
        goto out_free;
    }
    /* Redis looks the sources up before it reads the options: an option
     * error is told only when no source is of another type. */
    op.types_only = parse_options(c, argc, argv, numkeys_at + 1 + op.nkeys, &op, weights,
                                  &withscores, &err) < 0;
    op.max_bytes = srv__copy_bound(c);
    int rc = cache_zsetop(srv.cache, &op, NOW(c), &res);
    srv__stat_lookups(c, res.hits, res.misses);   /* the sources looked up */
    if (rc < 0)
        srv__reply_cache_err(c, rc);
    else if (op.types_only)
        srv_reply_error(c, err);
    else if (store || card_only)
        srv_reply_int(c, (long long)res.card);
    else
        srv__reply_zrecs(c, &res.recs, res.card, withscores);
    cache_keys_free(&res.recs);
out_free:
    free(weights);
    srv__strv_free(&keys);
}

SRV_HANDLER(srv_cmd_zunion) { zsetop_generic(c, argc, argv, "zunion", CACHE_ZUNION, false, false); }
SRV_HANDLER(srv_cmd_zinter) { zsetop_generic(c, argc, argv, "zinter", CACHE_ZINTER, false, false); }
SRV_HANDLER(srv_cmd_zdiff) { zsetop_generic(c, argc, argv, "zdiff", CACHE_ZDIFF, false, false); }
SRV_HANDLER(srv_cmd_zintercard)
{
    zsetop_generic(c, argc, argv, "zintercard", CACHE_ZINTER, false, true);
}
SRV_HANDLER(srv_cmd_zunionstore)
{
    zsetop_generic(c, argc, argv, "zunionstore", CACHE_ZUNION, true, false);
}
SRV_HANDLER(srv_cmd_zinterstore)
{
    zsetop_generic(c, argc, argv, "zinterstore", CACHE_ZINTER, true, false);
}
SRV_HANDLER(srv_cmd_zdiffstore)
{
    zsetop_generic(c, argc, argv, "zdiffstore", CACHE_ZDIFF, true, false);
}
