/*
 * What the handlers of the collection types (cmd_hash.c, cmd_list.c,
 * cmd_blocking.c, cmd_set.c, cmd_zset.c ...) share:
 * views of their element arguments, replies that grow with a collection
 * (built element by element, stopping once the connection is going to be
 * closed: srv_reply_closing), a sorted set's scores as Redis prints them,
 * random draws from a copied collection, and the HSCAN/SSCAN/ZSCAN
 * command.
 *
 * Context: the conn's worker thread, inside srv_dispatch().
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>

#include "commands.h"
#include "srv.h"

int srv__strv(struct srv_conn *c, const struct proto_arg *argv, size_t first,
              size_t argc, struct srv_strv *sv)
{
    sv->n = argc - first;
    sv->v = sv->small;
    if (sv->n > sizeof(sv->small) / sizeof(sv->small[0]) &&
        !(sv->v = malloc(sv->n * sizeof(*sv->v)))) {
        srv_reply_error(c, SRV_ERR_NOMEM);
        return -1;
    }
    for (size_t i = 0; i < sv->n; i++) {
        sv->v[i].s = argv[first + i].ptr;
        sv->v[i].len = argv[first + i].len;
    }
    return 0;
}

size_t srv__copy_bound(const struct srv_conn *c)
{
    uint64_t lim = c->obuf_limit.hard;
    return lim && lim < SIZE_MAX ? (size_t)lim : SIZE_MAX;
}

void srv__reply_card(struct srv_conn *c, const struct proto_arg *argv, int type)
{
    uint64_t n;
    int rc = cache_card(srv.cache, type, argv[1].ptr, argv[1].len, NOW(c), &n);

    srv__stat_rc(c, rc);
    if (rc < 0)
        srv__reply_cache_err(c, rc);
    else
        srv_reply_int(c, (long long)n);
}

void srv__strv_free(struct srv_strv *sv)
{
    if (sv->v != sv->small)
        free(sv->v);
}

void srv__members_write(struct srv_conn *c, size_t argc, struct proto_arg *argv,
                        srv_members_write_fn *fn)
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

int srv__pop_count(struct srv_conn *c, size_t argc, const struct proto_arg *argv,
                   long long *count)
{
    static const char positive[] = "ERR value is out of range, must be positive";

    *count = 1;
    if (argc > 3) {
        srv_reply_error(c, SRV_ERR_SYNTAX);
        return -1;
    }
    if (argc == 3 && srv__arg_ll(c, &argv[2], count, positive) < 0)
        return -1;
    if (*count < 0) {
        srv_reply_error(c, positive);
        return -1;
    }
    return 0;
}

int srv__arg_rand_count(struct srv_conn *c, const struct proto_arg *a, long long *count)
{
    if (srv__arg_ll(c, a, count, NULL) < 0)
        return -1;
    if (*count < -LLONG_MAX) {
        srv_reply_errorf(c, "ERR value is out of range, value must between %lld and %lld",
                         -LLONG_MAX, LLONG_MAX);
        return -1;
    }
    return 0;
}

int srv__rand_args(struct srv_conn *c, size_t argc, const struct proto_arg *argv,
                   const char *opt, long long *count, int *with)
{
    *count = 1;
    *with = 0;
    if (argc < 3)
        return 0;
    if (srv__arg_rand_count(c, &argv[2], count) < 0)
        return -1;
    if (argc > 4 || (argc == 4 && !srv__arg_is(&argv[3], opt))) {
        srv_reply_error(c, SRV_ERR_SYNTAX);
        return -1;
    }
    *with = argc == 4;
    /* Redis 7.0's bound: the reply's length, count * 2, must not overflow. */
    if (*with && (*count < -LLONG_MAX / 2 || *count > LLONG_MAX / 2)) {
        srv_reply_error(c, "ERR value is out of range");
        return -1;
    }
    return 0;
}

void srv__reply_score(struct srv_conn *c, double d)
{
    char buf[PROTO_D_STR_MAX];
    size_t n = proto_d2str(buf, sizeof(buf), d);

    srv_reply_bulk(c, buf, n);
}

/* One record: a score record (a double's 8 bytes, every second one of a
 * scored collection) as Redis prints it, else its bytes. */
static void reply_rec(struct srv_conn *c, const char *s, size_t len, bool score)
{
    if (score)
        srv__reply_score(c, cache_keys_score(s));
    else
        srv_reply_bulk(c, s, len);
}

void srv__reply_zrecs(struct srv_conn *c, const struct cache_keys *k, uint64_t total,
                      bool withscores)
{
    const char *s;
    size_t pos = 0, len, n = 0;

    srv_reply_array(c, (long long)(withscores ? 2 * total : total));
    while ((s = cache_keys_next(k, &pos, &len)) != NULL && !srv_reply_closing(c)) {
        srv_reply_bulk(c, s, len);
        s = cache_keys_next(k, &pos, &len);
        if (withscores)
            srv__reply_score(c, cache_keys_score(s));
        n++;
    }
    if (n < total)   /* the array said more than there is: the stream cannot go on */
        c->flags |= CONN_CLOSE_AFTER_REPLY;
}

void srv__reply_records_cut(struct srv_conn *c, const struct cache_keys *k, uint64_t total)
{
    const char *s;
    size_t pos = 0, len;

    srv_reply_array(c, (long long)total);
    while ((s = cache_keys_next(k, &pos, &len)) != NULL && !srv_reply_closing(c)) {
        if (len == CACHE_KEYS_NIL)
            srv_reply_null(c);
        else
            srv_reply_bulk(c, s, len);
    }
    /* The array said more than there is: the stream cannot go on. */
    if (k->count < total)
        c->flags |= CONN_CLOSE_AFTER_REPLY;
}

void srv__reply_draws(struct srv_conn *c, const struct cache_keys *all,
                      unsigned long long picks, size_t per, bool scored)
{
    size_t n = all->count / per, pos = 0, len;
    size_t *at = malloc(n * sizeof(*at));

    if (!at) {
        srv_reply_error(c, SRV_ERR_NOMEM);
        return;
    }
    for (size_t i = 0; i < n; i++) {   /* where each group starts */
        at[i] = pos;
        for (size_t k = 0; k < per; k++)
            (void)cache_keys_next(all, &pos, &len);
    }
    srv_reply_array(c, (long long)(picks * per));
    while (picks-- > 0 && !srv_reply_closing(c)) {
        size_t p = at[cache_rand() % n];
        for (size_t k = 0; k < per; k++) {
            const char *s = cache_keys_next(all, &p, &len);
            reply_rec(c, s, len, scored && k == 1);
        }
    }
    free(at);
}

/* The page, filtered by MATCH on each group's first record (a member, a
 * field): two passes, since RESP wants the count first. */
static void reply_matching(struct srv_conn *c, const struct cache_keys *out, size_t per,
                           bool scored, const struct proto_arg *pat)
{
    const char *s[2];
    size_t pos = 0, len[2];
    long long n = 0;

    for (int pass = 0; pass < 2; pass++) {
        pos = 0;
        if (pass == 1)
            srv_reply_array(c, n);
        while (!(pass == 1 && srv_reply_closing(c))) {
            size_t k = 0;
            while (k < per && (s[k] = cache_keys_next(out, &pos, &len[k])) != NULL)
                k++;
            if (k < per)
                break;
            if (!srv_glob_match(pat->ptr, pat->len, s[0], len[0], 0))
                continue;
            if (pass == 0)
                n += (long long)per;
            for (k = 0; pass == 1 && k < per; k++)
                reply_rec(c, s[k], len[k], scored && k == 1);
        }
    }
}

/* HSCAN / SSCAN key cursor [MATCH pattern] [COUNT count]. Redis checks the
 * cursor, then the key (a missing one answers the empty scan whatever the
 * options), then the options. */
void srv__collection_scan(struct srv_conn *c, size_t argc, struct proto_arg *argv,
                          srv_collection_scan_fn *fn, size_t per, bool scored)
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
    int rc = fn(srv.cache, argv[1].ptr, argv[1].len, cursor, err ? 1 : (size_t)count,
                c->w->now_ms, &out, &next);
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
        snprintf(buf, sizeof(buf), "%llu", (unsigned long long)next);
        srv_reply_array(c, 2);
        srv_reply_bulk_cstr(c, buf);
        if (scored && (pat == NULL || (pat->len == 1 && pat->ptr[0] == '*')))
            srv__reply_zrecs(c, &out, out.count / 2, true);
        else if (pat == NULL || (pat->len == 1 && pat->ptr[0] == '*'))
            srv__reply_records(c, &out);
        else
            reply_matching(c, &out, per, scored, pat);
    }
    cache_keys_free(&out);
}
