/*
 * --bench txn and --bench mget-mset: the two workloads redis-benchmark
 * cannot send, for loadtest/bench-vs-redis. One "request" of the run
 * (--requests, --pipeline count these) is several commands:
 *
 *   txn        MULTI, INCR <prefix>:x:<a>, INCR <prefix>:x:<b>, EXEC, with a
 *              and b two distinct keys of the keyspace. The client cannot
 *              choose shards (mmcache hashes the whole key with a seed drawn
 *              at start-up), so with S shards a and b share one with chance
 *              1/S (1/1024 by default): nearly every transaction crosses two.
 *   mget-mset  MSET of LD_BENCH_KEYS keys <prefix>:w:<n> (--value-size
 *              bytes each), then MGET of the same keys.
 *
 * Replies are checked, cheaply: +OK, +QUEUED, +QUEUED, then EXEC's array
 * of two integers >= 1; MSET's +OK, then MGET's array of LD_BENCH_KEYS
 * strings of --value-size bytes (no client deletes these keys, and every
 * writer writes that size). A request whose last reply checks out counts
 * in st.bench_done; the report prints it, so a test can compare it with
 * --requests. Error replies are counted as errors (the run fails unless
 * --allow-errors); any other reply loses the connection.
 *
 * Context: the connection's client thread.
 */
#include <string.h>

#include "ld_int.h"

static uint32_t other_key(struct ld_thread *t, uint32_t a)
{
    uint32_t b;

    if (t->run->o->keyspace < 2)
        return a;
    do
        b = (uint32_t)ld_dist_next(&t->run->dist, &t->rng);
    while (b == a);
    return b;
}

static void out_cmd_key(struct ld_conn *c, unsigned argc, const char *name, char kind,
                        uint32_t n)
{
    char key[LD_PREFIX_MAX + 32];

    ld__out_array(c, argc);
    ld__out_bulk(c, name, strlen(name));
    ld__out_bulk(c, key, ld__key(c->t->run, key, kind, n));
}

static void issue_txn(struct ld_conn *c)
{
    struct ld_thread *t = c->t;
    uint32_t a = (uint32_t)ld_dist_next(&t->run->dist, &t->rng), b = other_key(t, a);
    struct ld_req *q;

    ld__txn_cmd(c, LD_K_MULTI, "MULTI");
    q = ld__req_push(c, LD_K_QUEUED);
    q->keys[0] = a;
    out_cmd_key(c, 2, "INCR", 'x', a);
    q = ld__req_push(c, LD_K_QUEUED);
    q->keys[0] = b;
    out_cmd_key(c, 2, "INCR", 'x', b);
    q = ld__req_push(c, LD_K_EXEC);
    q->nkeys = 2;
    q->keys[0] = a;
    q->keys[1] = b;
    ld__out_array(c, 1);
    ld__out_bulk(c, "EXEC", 4);
}

static void issue_mget_mset(struct ld_conn *c)
{
    struct ld_thread *t = c->t;
    struct ld_run *r = t->run;
    struct ld_req *set = ld__req_push(c, LD_K_B_MSET), *get;
    char key[LD_PREFIX_MAX + 32];
    size_t vlen = r->o->value_size;

    /* the value: any bytes of the right size (the scratch buffer has
     * --value-size + 256 bytes, room for a tagged value) */
    memset(t->scratch, 'v', vlen);
    set->nkeys = LD_BENCH_KEYS;
    for (unsigned i = 0; i < LD_BENCH_KEYS; i++)
        set->keys[i] = (uint32_t)ld_dist_next(&r->dist, &t->rng);
    ld__out_array(c, 1 + 2 * LD_BENCH_KEYS);
    ld__out_bulk(c, "MSET", 4);
    for (unsigned i = 0; i < LD_BENCH_KEYS; i++) {
        ld__out_bulk(c, key, ld__key(r, key, 'w', set->keys[i]));
        ld__out_bulk(c, t->scratch, vlen);
    }
    get = ld__req_push(c, LD_K_B_MGET);
    get->nkeys = LD_BENCH_KEYS;
    memcpy(get->keys, set->keys, sizeof(get->keys[0]) * LD_BENCH_KEYS);
    ld__out_array(c, 1 + LD_BENCH_KEYS);
    ld__out_bulk(c, "MGET", 4);
    for (unsigned i = 0; i < LD_BENCH_KEYS; i++)
        ld__out_bulk(c, key, ld__key(r, key, 'w', get->keys[i]));
}

void ld__bench_issue(struct ld_conn *c)
{
    if (c->t->run->o->bench == LD_BENCH_TXN)
        issue_txn(c);
    else
        issue_mget_mset(c);
}

/* Does the reply of request q check out? */
static bool reply_ok(const struct ld_conn *c, const struct ld_req *q, const redisReply *rep)
{
    size_t vlen = c->t->run->o->value_size;

    switch (q->kind) {
    case LD_K_MULTI:
    case LD_K_B_MSET:
        return ld__txn_status(rep, "OK");
    case LD_K_QUEUED:
        return ld__txn_status(rep, "QUEUED");
    case LD_K_EXEC:
        return rep->type == REDIS_REPLY_ARRAY && rep->elements == 2 &&
               rep->element[0]->type == REDIS_REPLY_INTEGER && rep->element[0]->integer >= 1 &&
               rep->element[1]->type == REDIS_REPLY_INTEGER && rep->element[1]->integer >= 1;
    case LD_K_B_MGET:
        if (rep->type != REDIS_REPLY_ARRAY || rep->elements != LD_BENCH_KEYS)
            return false;
        for (unsigned i = 0; i < LD_BENCH_KEYS; i++)
            if (rep->element[i]->type != REDIS_REPLY_STRING || rep->element[i]->len != vlen)
                return false;
        return true;
    default:
        return false;
    }
}

void ld__bench_reply(struct ld_conn *c, const struct ld_req *q, const redisReply *rep)
{
    char key[LD_PREFIX_MAX + 32];

    if (rep->type == REDIS_REPLY_ERROR) {
        ld__key(c->t->run, key, q->kind == LD_K_B_MSET || q->kind == LD_K_B_MGET ? 'w' : 'x',
                q->keys[0]);
        ld__reply_error(c, q, rep, key);
        return;
    }
    if (!reply_ok(c, q, rep)) {
        ld__reply_unexpected(c, q, rep);
        return;
    }
    if (q->kind == LD_K_EXEC || q->kind == LD_K_B_MGET)
        c->t->st.bench_done++;
}
