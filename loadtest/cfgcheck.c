/*
 * config: while the configuration changes, every CONFIG GET must show one
 * generation. The convention (loadtest/README.md): generation k sets
 * timeout = 3600 + k and maxmemory = 2^40 + k, so each field says which
 * generation it came from and a snapshot mixing two generations ("timeout
 * of 17, maxmemory of 16") is caught on sight.
 *
 * Readers (one per client thread) send CONFIG GET timeout maxmemory back
 * to back. With --config-writer one connection on thread 0 sends
 * CONFIG SET timeout <3600+k> maxmemory <2^40+k> for k = base+1, base+2...
 * (one atomic multi-parameter CONFIG SET, as Redis 7 has it). Beyond
 * "one generation per snapshot", a reader checks that generations never go
 * backwards on its connection, and that a CONFIG GET sent after the writer
 * had generation k acknowledged shows k or later.
 *
 * A server that refuses CONFIG SET gets the checker "skipped", with its
 * error, instead of a failure: CONFIG SET may simply not exist yet.
 *
 * Context: the reader's or writer's client thread.
 */
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <string.h>

#include "ld_int.h"

int64_t ld__cfg_gen(uint64_t value, uint64_t base)
{
    if (value < base || value - base > (uint64_t)INT64_MAX)
        return LD_GEN_NONE;
    return (int64_t)(value - base);
}

void ld__cfg_issue(struct ld_conn *c)
{
    struct ld_run *r = c->t->run;
    struct ld_req *q;

    if (c->kind == LD_CONN_CFG_READ) {
        q = ld__req_push(c, LD_K_CFG_GET);
        q->gen = atomic_load_explicit(&r->cfg_acked_k, memory_order_relaxed);
        ld__out_array(c, 4);
        ld__out_bulk(c, "CONFIG", 6);
        ld__out_bulk(c, "GET", 3);
        ld__out_bulk(c, "timeout", 7);
        ld__out_bulk(c, "maxmemory", 9);
        return;
    }
    q = ld__req_push(c, LD_K_CFG_SET);
    q->gen = ++c->cfg_k;
    ld__out_array(c, 6);
    ld__out_bulk(c, "CONFIG", 6);
    ld__out_bulk(c, "SET", 3);
    ld__out_bulk(c, "timeout", 7);
    ld__out_u64(c, LD_CFG_TIMEOUT_BASE + (uint64_t)q->gen);
    ld__out_bulk(c, "maxmemory", 9);
    ld__out_u64(c, LD_CFG_MAXMEM_BASE + (uint64_t)q->gen);
}

static void on_set(struct ld_conn *c, const struct ld_req *q, const redisReply *rep)
{
    struct ld_run *r = c->t->run;

    c->next_ns = ld__now_ns() + (uint64_t)r->o->config_interval_ms * 1000000ull;
    if (rep->type == REDIS_REPLY_STATUS) {
        atomic_store_explicit(&r->cfg_acked_k, q->gen, memory_order_relaxed);
        c->t->st.cfg_sets++;
        return;
    }
    c->next_ns = UINT64_MAX;        /* the writer is done */
    if (rep->type != REDIS_REPLY_ERROR) {
        ld__conn_lost(c, "unexpected reply", "CONFIG SET answered with reply type %d",
                      rep->type);
        return;
    }
    if (c->t->st.cfg_sets == 0) {
        atomic_store_explicit(&r->cfg_refused, true, memory_order_relaxed);
        ld__skip(r, LD_CHK_CONFIG, "server refused CONFIG SET: %s", rep->str);
    } else {
        ld__fail(r, LD_CHK_CONFIG, "CONFIG SET generation %lld: expected OK as for the "
                 "%llu before it, got '%s'", (long long)q->gen,
                 (unsigned long long)c->t->st.cfg_sets, rep->str);
    }
}

/* The (timeout, maxmemory) pair of a CONFIG GET reply; -1 if malformed. */
static int parse_get(const redisReply *rep, uint64_t *timeout, uint64_t *maxmem)
{
    int have = 0;

    if (rep->type != REDIS_REPLY_ARRAY || rep->elements != 4)
        return -1;
    for (size_t i = 0; i + 1 < rep->elements; i += 2) {
        const redisReply *name = rep->element[i], *val = rep->element[i + 1];
        unsigned long long v;
        char *end;

        if (name->type != REDIS_REPLY_STRING || val->type != REDIS_REPLY_STRING ||
            val->len == 0)
            return -1;
        v = strtoull(val->str, &end, 10);
        if (*end != '\0')
            return -1;
        if (strcasecmp(name->str, "timeout") == 0) {
            *timeout = v;
            have |= 1;
        } else if (strcasecmp(name->str, "maxmemory") == 0) {
            *maxmem = v;
            have |= 2;
        }
    }
    return have == 3 ? 0 : -1;
}

static void gen_str(char *buf, size_t cap, int64_t k)
{
    if (k == LD_GEN_NONE)
        snprintf(buf, cap, "outside the convention");
    else
        snprintf(buf, cap, "generation %lld", (long long)k);
}

static void on_get(struct ld_conn *c, const struct ld_req *q, const redisReply *rep)
{
    struct ld_run *r = c->t->run;
    uint64_t t = 0, m = 0;
    int64_t kt, km, k;

    if (rep->type == REDIS_REPLY_ERROR) {
        ld__skip(r, LD_CHK_CONFIG, "server refused CONFIG GET: %s", rep->str);
        c->next_ns = UINT64_MAX;
        return;
    }
    if (parse_get(rep, &t, &m) < 0) {
        ld__fail(r, LD_CHK_CONFIG, "CONFIG GET timeout maxmemory: expected the two "
                 "fields, got a malformed reply (type %d, %zu elements)", rep->type,
                 rep->type == REDIS_REPLY_ARRAY ? (size_t)rep->elements : (size_t)0);
        return;
    }
    c->t->st.cfg_gets++;
    kt = ld__cfg_gen(t, LD_CFG_TIMEOUT_BASE);
    km = ld__cfg_gen(m, LD_CFG_MAXMEM_BASE);
    if (t == r->cfg_base_timeout && m == r->cfg_base_maxmem)
        k = r->cfg_base_k;           /* the settings before the run */
    else if (kt == km)
        k = kt;                      /* one generation, or both outside it */
    else {
        char a[40], b[40];

        gen_str(a, sizeof(a), kt);
        gen_str(b, sizeof(b), km);
        ld__fail(r, LD_CHK_CONFIG, "CONFIG GET: expected fields of one generation, got "
                 "timeout=%llu (%s) with maxmemory=%llu (%s)", (unsigned long long)t, a,
                 (unsigned long long)m, b);
        return;
    }
    if (k == LD_GEN_NONE)
        return;                      /* changed from outside, off the convention */
    if (c->cfg_last_k != LD_GEN_NONE && k < c->cfg_last_k)
        ld__fail(r, LD_CHK_CONFIG, "CONFIG GET on one connection: expected generation "
                 "%lld or later, got %lld (went backwards)", (long long)c->cfg_last_k,
                 (long long)k);
    else if (k < q->gen)
        ld__fail(r, LD_CHK_CONFIG, "CONFIG GET sent after CONFIG SET of generation %lld "
                 "was acknowledged: expected %lld or later, got %lld (stale)",
                 (long long)q->gen, (long long)q->gen, (long long)k);
    c->cfg_last_k = k;
}

void ld__cfg_reply(struct ld_conn *c, const struct ld_req *q, const redisReply *rep)
{
    if (q->kind == LD_K_CFG_SET)
        on_set(c, q, rep);
    else
        on_get(c, q, rep);
}
