/*
 * What the transaction checkers (bank.c, msum.c) share: MULTI and EXEC
 * requests, reading replies, and the set-up. The set-up first asks the
 * server for MULTI on the control connection: a server that refuses it
 * (mmcache before issue 19: "ERR unknown command 'MULTI'") fails both
 * checkers with its own answer, and their clients never start, so no
 * half-understood transaction runs against it. Then each checker's keys
 * are reset: every account to LD_BANK_INITIAL, the transfer logs and the
 * counters deleted.
 *
 * Keys: accounts <prefix>:b:<i>, the transfer clients' logs <prefix>:l:<id>,
 * the counters <prefix>:m:<i>. No hash tags: where a server shards by a
 * hash of the whole key (mmcache: XXH3 with a seed drawn at start-up, the
 * shard from its high bits), these keys fall on shards a client cannot
 * choose; with S shards two given keys share one with chance 1/S (mmcache's
 * default 1024 shards: 16 accounts on 16 distinct shards with chance
 * about 0.89, and each transfer crosses two shards with chance 1023/1024).
 *
 * Context: ld__txn_setup main thread (control connection); the rest the
 * connection's client thread.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ld_int.h"

void ld__txn_cmd(struct ld_conn *c, uint8_t kind, const char *name)
{
    ld__req_push(c, kind);
    ld__out_array(c, 1);
    ld__out_bulk(c, name, strlen(name));
}

struct ld_req *ld__txn_read_issue(struct ld_conn *c, char kind, unsigned n, bool mget,
                                  uint8_t mget_kind)
{
    char key[LD_PREFIX_MAX + 32];
    struct ld_req *q;

    if (mget) {
        q = ld__req_push(c, mget_kind);
        ld__out_array(c, 1 + n);
        ld__out_bulk(c, "MGET", 4);
        for (unsigned i = 0; i < n; i++)
            ld__out_bulk(c, key, ld__coll_key(c->t->run, key, kind, i));
        return q;
    }
    ld__txn_cmd(c, LD_K_MULTI, "MULTI");
    for (unsigned i = 0; i < n; i++) {
        ld__req_push(c, LD_K_QUEUED);
        ld__coll_cmd(c, 2, "GET", kind, i);
    }
    q = ld__req_push(c, LD_K_EXEC);
    ld__out_array(c, 1);
    ld__out_bulk(c, "EXEC", 4);
    return q;
}

bool ld__txn_status(const redisReply *rep, const char *want)
{
    return rep->type == REDIS_REPLY_STATUS && strcmp(rep->str, want) == 0;
}

bool ld__txn_int(const redisReply *rep, int64_t *out)
{
    char *end;
    long long v;

    if (rep->type == REDIS_REPLY_INTEGER) {
        *out = rep->integer;
        return true;
    }
    if (rep->type != REDIS_REPLY_STRING || rep->len == 0 || rep->len > 20)
        return false;
    v = strtoll(rep->str, &end, 10);
    if (end != rep->str + rep->len)
        return false;
    *out = v;
    return true;
}

void ld__txn_show(char *buf, size_t cap, const redisReply *rep)
{
    static const char *const types[] = { "?", "string", "array", "integer", "nil",
                                         "status", "error" };
    char ex[64];

    if (rep->type == REDIS_REPLY_INTEGER) {
        snprintf(buf, cap, "integer %lld", rep->integer);
        return;
    }
    if (rep->type == REDIS_REPLY_ARRAY) {
        snprintf(buf, cap, "array of %zu", rep->elements);
        return;
    }
    ld_excerpt(ex, sizeof(ex), rep->str ? rep->str : "", rep->str ? rep->len : 0, 48);
    snprintf(buf, cap, "%s '%s'", rep->type >= 1 && rep->type <= 6 ? types[rep->type]
             : "type ?", ex);
}

/* One command on the control connection that must answer `want` (a
 * status) or an integer (want NULL). 1 yes, 0 no (why in err), -1 lost. */
static int ctl_expect(struct ld_ctl *k, int argc, const char **argv, const char *want,
                      char *err, size_t cap)
{
    redisReply *rep = ld__ctl_cmd(k, err, cap, argc, argv);
    int ok;

    if (rep == NULL)
        return -1;
    ok = want ? ld__txn_status(rep, want) : rep->type == REDIS_REPLY_INTEGER;
    if (!ok) {
        char got[96];

        ld__txn_show(got, sizeof(got), rep);
        snprintf(err, cap, "%s answered %s", argv[0], got);
    }
    freeReplyObject(rep);
    return ok;
}

/* Delete keys <prefix>:<kind>:0..n-1, or SET each to `val`. */
static int reset_keys(struct ld_run *r, struct ld_ctl *k, char kind, unsigned n,
                      const char *val, char *err, size_t cap)
{
    char key[LD_PREFIX_MAX + 32];

    for (unsigned i = 0; i < n; i++) {
        const char *argv[3] = { val ? "SET" : "DEL", key, val };

        ld__coll_key(r, key, kind, i);
        if (ctl_expect(k, val ? 3 : 2, argv, val ? "OK" : NULL, err, cap) != 1)
            return -1;
    }
    return 0;
}

redisReply *ld__txn_read_all(struct ld_run *r, struct ld_ctl *k, char kind, unsigned n,
                             enum ld_check chk, const char *what)
{
    char keys[LD_BANK_ACCOUNTS][LD_PREFIX_MAX + 32], err[LD_LINE];
    const char *argv[1 + LD_BANK_ACCOUNTS] = { "MGET" };
    redisReply *rep;

    _Static_assert(LD_MSUM_COUNTERS <= LD_BANK_ACCOUNTS, "room for every key");
    for (unsigned i = 0; i < n && i < LD_BANK_ACCOUNTS; i++) {
        ld__coll_key(r, keys[i], kind, i);
        argv[1 + i] = keys[i];
    }
    rep = k ? ld__ctl_cmd(k, err, sizeof(err), 1 + (int)n, argv) : NULL;
    if (rep != NULL && rep->type == REDIS_REPLY_ARRAY && rep->elements == n)
        return rep;
    ld__skip(r, chk, "could not read the %s at the end: %s", what,
             rep == NULL ? (k ? err : "no control connection") : "not an array");
    if (rep != NULL)
        freeReplyObject(rep);
    return NULL;
}

int ld__txn_setup(struct ld_run *r, struct ld_ctl *k, char *err, size_t cap)
{
    const char *multi[] = { "MULTI" }, *discard[] = { "DISCARD" };
    char why[LD_LINE], init[24];
    int rc = ctl_expect(k, 1, multi, "OK", why, sizeof(why));

    if (rc < 0) {
        snprintf(err, cap, "MULTI: %s", why);
        return -1;
    }
    if (rc == 0) {
        for (int c = LD_CHK_BANK; c <= LD_CHK_MSUM; c++) {
            if (!ld__on(r, (enum ld_check)c))
                continue;
            ld__fail(r, (enum ld_check)c, "the server does not support MULTI: %s "
                     "(expected +OK)", why);
            snprintf(r->chk[c].detail, sizeof(r->chk[c].detail), "not run: the server "
                     "does not support MULTI");
        }
        return 0;
    }
    if (ctl_expect(k, 1, discard, "OK", why, sizeof(why)) != 1) {
        snprintf(err, cap, "DISCARD after MULTI: %s", why);
        return -1;
    }
    snprintf(init, sizeof(init), "%d", LD_BANK_INITIAL);
    if ((ld__on(r, LD_CHK_BANK) &&
         (reset_keys(r, k, 'b', LD_BANK_ACCOUNTS, init, err, cap) < 0 ||
          reset_keys(r, k, 'l', r->nbank, NULL, err, cap) < 0)) ||
        (ld__on(r, LD_CHK_MSUM) &&
         reset_keys(r, k, 'm', LD_MSUM_COUNTERS, NULL, err, cap) < 0))
        return -1;
    r->txn_ok = true;
    return 0;
}
