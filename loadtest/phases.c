/*
 * The set-up main runs on its control connection before the client
 * threads start (final.c has what runs after they are joined).
 *
 * Set-up: delete this prefix's keys and counters (so runs repeat and a
 * value from an earlier run cannot pass for this run's), --fill every key,
 * read the config baseline, and last the INFO baseline for the stats
 * checker: from then on every command this tool sends is counted.
 *
 * Final: the counters against the INCRs acknowledged, INFO against the
 * commands counted, then the config restored. The stats checker's
 * expectation, calibrated against redis-server 7.0: a command counts in
 * total_commands_processed once it has run, so an INFO does not see itself
 * but the next INFO does; error replies count, unknown commands do not;
 * GET and every key of MGET count one keyspace hit or miss, SET/INCR/DEL
 * none.
 *
 * Context: main thread; client threads are not running.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ld_int.h"

#define BATCH 256                     /* commands per pipelined write */
#define DEL_KEYS 512                  /* keys per DEL */
#define BATCH_BYTES (4u << 20)

/* ---- batches of formatted commands ---- */
struct batch {
    char *cmd[BATCH];
    int len[BATCH];
    unsigned n;
    size_t bytes;
};

static int batch_add(struct batch *b, int argc, const char **argv, const size_t *lens)
{
    int len = redisFormatCommandArgv(&b->cmd[b->n], argc, argv, lens);

    if (len < 0)
        return -ENOMEM;
    b->len[b->n++] = len;
    b->bytes += (size_t)len;
    return 0;
}

static bool batch_full(const struct batch *b)
{
    return b->n == BATCH || b->bytes >= BATCH_BYTES;
}

static int batch_run(struct ld_ctl *k, struct batch *b,
                     int (*check)(void *, unsigned, const redisReply *), void *arg,
                     char *err, size_t cap)
{
    int rc = b->n > 0 ? ld__ctl_pipeline(k, b->cmd, b->len, b->n, check, arg, err, cap) : 0;

    for (unsigned i = 0; i < b->n; i++)
        redisFreeCommand(b->cmd[i]);
    b->n = 0;
    b->bytes = 0;
    return rc;
}

static int want_int(void *arg, unsigned i, const redisReply *rep)
{
    return rep->type == REDIS_REPLY_INTEGER ? 0 : -1;
}

static int want_ok(void *arg, unsigned i, const redisReply *rep)
{
    return rep->type == REDIS_REPLY_STATUS ? 0 : -1;
}

/* DEL keys of one kind ('k', 'c', 'p') numbered 0..n-1, DEL_KEYS at a time. */
static int del_range(struct ld_run *r, struct ld_ctl *k, char kind, uint64_t n,
                     char *err, size_t cap)
{
    char keys[DEL_KEYS][LD_PREFIX_MAX + 32];     /* 48 KiB of stack */
    const char *argv[DEL_KEYS + 1];
    size_t lens[DEL_KEYS + 1];
    struct batch b = { .n = 0 };
    uint64_t i = 0;

    argv[0] = "DEL";
    lens[0] = 3;
    while (i < n) {
        unsigned m = 0;

        for (; m < DEL_KEYS && i < n; m++, i++) {
            lens[m + 1] = ld__key(r, keys[m], kind, i);
            argv[m + 1] = keys[m];
        }
        if (batch_add(&b, (int)m + 1, argv, lens) < 0)
            return -1;
        if ((batch_full(&b) || i == n) && batch_run(k, &b, want_int, NULL, err, cap) < 0)
            return -1;
    }
    return 0;
}

static int fill(struct ld_run *r, struct ld_ctl *k, char *err, size_t cap)
{
    size_t vcap = r->o->value_size + 256;
    char *val = malloc(vcap), key[LD_PREFIX_MAX + 32];
    struct batch b = { .n = 0 };
    int rc = 0;

    if (val == NULL)
        return -1;
    /* the filler is writer `nload`, seq 1 (release: pairs with check_writer) */
    atomic_store_explicit(&r->max_seq[r->nload], 1, memory_order_release);
    for (uint64_t i = 0; rc == 0 && i < r->o->keyspace; i++) {
        const char *argv[3] = { "SET", key, val };
        size_t lens[3] = { 3, ld__key(r, key, 'k', i), 0 };

        lens[2] = ld_tag_encode(val, vcap, key, lens[1], r->nload, 1, r->o->value_size);
        rc = batch_add(&b, 3, argv, lens);
        if (rc == 0 && (batch_full(&b) || i + 1 == r->o->keyspace))
            rc = batch_run(k, &b, want_ok, NULL, err, cap);
    }
    free(val);
    return rc;
}

/* A server that hangs up on CONFIG or INFO is most likely a proxy:
 * twemproxy closes the connection on any command it does not forward. */
static const char *proxy_hint(const char *err)
{
    return strstr(err, "closed the connection") != NULL
           ? " (a proxy such as twemproxy closes the connection on CONFIG and INFO: "
             "with --proxy, mmcache-load runs only the checkers a proxy can serve)"
           : "";
}

static void config_baseline(struct ld_run *r, struct ld_ctl *k)
{
    const char *argv[] = { "CONFIG", "GET", "timeout", "maxmemory" };
    char err[LD_LINE];
    redisReply *rep = ld__ctl_cmd(k, err, sizeof(err), 4, argv);
    int64_t kt, km;

    if (rep == NULL) {
        ld__skip(r, LD_CHK_CONFIG, "CONFIG GET at set-up failed: %s%s", err, proxy_hint(err));
        return;
    }
    if (rep->type == REDIS_REPLY_ERROR) {
        ld__skip(r, LD_CHK_CONFIG, "server refused CONFIG GET: %s", rep->str);
    } else if (rep->type == REDIS_REPLY_ARRAY && rep->elements == 4) {
        for (size_t i = 0; i + 1 < 4; i += 2) {
            const redisReply *n = rep->element[i], *v = rep->element[i + 1];

            if (n->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING)
                continue;
            if (strcasecmp(n->str, "timeout") == 0)
                r->cfg_base_timeout = strtoull(v->str, NULL, 10);
            else if (strcasecmp(n->str, "maxmemory") == 0)
                r->cfg_base_maxmem = strtoull(v->str, NULL, 10);
        }
        kt = ld__cfg_gen(r->cfg_base_timeout, LD_CFG_TIMEOUT_BASE);
        km = ld__cfg_gen(r->cfg_base_maxmem, LD_CFG_MAXMEM_BASE);
        r->cfg_base_k = (kt == km && kt != LD_GEN_NONE) ? kt : 0;
        r->cfg_base_ok = true;
    } else {
        ld__skip(r, LD_CHK_CONFIG, "CONFIG GET timeout maxmemory: unexpected reply type %d",
                 rep->type);
    }
    freeReplyObject(rep);
}

/* INFO's counters for the stats checker: 0, or -1 with err filled. */
int ld__read_info(struct ld_ctl *k, uint64_t out[3], long long *clients, char *err,
                     size_t cap)
{
    static const char *const names[3] = {
        "total_commands_processed", "keyspace_hits", "keyspace_misses",
    };
    const char *argv[] = { "INFO" };
    redisReply *rep = ld__ctl_cmd(k, err, cap, 1, argv);
    uint64_t c = 0;
    int rc = 0;

    if (rep == NULL)
        return -1;
    if (rep->type != REDIS_REPLY_STRING) {
        snprintf(err, cap, "INFO: %s", rep->type == REDIS_REPLY_ERROR ? rep->str : "not a string");
        freeReplyObject(rep);
        return -1;
    }
    for (int i = 0; i < 3 && rc == 0; i++)
        if (ld__info_field(rep->str, rep->len, names[i], &out[i]) < 0) {
            snprintf(err, cap, "INFO has no number in %s", names[i]);
            rc = -1;
        }
    if (clients != NULL)
        *clients = ld__info_field(rep->str, rep->len, "connected_clients", &c) == 0
                   ? (long long)c : -1;
    freeReplyObject(rep);
    return rc;
}

int ld__setup(struct ld_run *r, struct ld_ctl *k)
{
    char err[LD_LINE];

    if (del_range(r, k, 'k', r->o->keyspace, err, sizeof(err)) < 0 ||
        del_range(r, k, 'c', r->o->counters, err, sizeof(err)) < 0 ||
        del_range(r, k, 'p', r->nload, err, sizeof(err)) < 0 ||
        del_range(r, k, 'q', LD_QUEUE_KEYS, err, sizeof(err)) < 0 ||
        del_range(r, k, 'y', LD_QUEUE_KEYS, err, sizeof(err)) < 0) {
        ld__error(r, "set-up", "deleting the prefix's keys: %s", err);
        return -1;
    }
    if (r->o->fill && fill(r, k, err, sizeof(err)) < 0) {
        ld__error(r, "set-up", "--fill: %s", err);
        return -1;
    }
    if ((ld__on(r, LD_CHK_HASH) && ld__hash_setup(r, k, err, sizeof(err)) < 0) ||
        (ld__on(r, LD_CHK_SET) && ld__set_setup(r, k, err, sizeof(err)) < 0) ||
        (ld__on(r, LD_CHK_ZSET) && ld__zset_setup(r, k, err, sizeof(err)) < 0)) {
        ld__error(r, "set-up", "the hash, set and zset checkers' keys: %s", err);
        return -1;
    }
    if ((r->o->checks & LD_CHK_TXN_MASK) && ld__txn_setup(r, k, err, sizeof(err)) < 0) {
        ld__error(r, "set-up", "the transaction checkers' keys: %s", err);
        return -1;
    }
    if (ld__on(r, LD_CHK_STATS) && (r->o->checks & LD_CHK_TXN_MASK))
        ld__skip(r, LD_CHK_STATS, "not with bank or monotonic-sum: their transactions' "
                 "commands are not counted");
    if (ld__on(r, LD_CHK_CONFIG))
        config_baseline(r, k);
    if (ld__on(r, LD_CHK_STATS) &&
        ld__read_info(k, r->info_base, &r->base_clients, err, sizeof(err)) < 0)
        ld__skip(r, LD_CHK_STATS, "no INFO baseline: %s%s", err, proxy_hint(err));
    r->ctl_commands = 0;
    r->ctl_hits = r->ctl_misses = 0;
    return 0;
}
