/*
 * monotonic-sum: counters on many shards (<prefix>:m:<i>, LD_MSUM_COUNTERS
 * of them; keys in txn.c) that only grow, read as a sum.
 *
 * Writers (LD_MSUM_WRITERS per client thread) add 2 at a time, one
 * request in flight: half as INCRBY <c> 2, half as
 *   MULTI / INCR <c1> / INCR <c2> / EXEC
 * on two different counters. So every state a transaction leaves behind
 * sums to an even number, and only a read that sees half of a MULTI pair
 * can sum to an odd one.
 *
 * Readers (one per client thread) read every counter, alternately with
 * one MGET and in one MULTI (GET each, EXEC), and check, per reader:
 *   - the sum is even (the read saw whole transactions);
 *   - the sum never goes down, nor does any one counter (a stale or torn
 *     read of a counter that only grows);
 *   - the sum is at least what the writers had acknowledged when the read
 *     was sent (msum_acked: an acknowledged increment is visible to every
 *     read that starts after it).
 * At the end the counters must sum to the acknowledged increments, plus
 * up to those of requests never answered.
 *
 * Context: the client's thread; ld__msum_final main, after the join.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ld_int.h"

/* Owned by: the connection's thread (main reads it after the join). */
struct msum_model {
    /* writer */
    uint64_t acked, unsure, singles, pairs;
    /* reader */
    bool mget_next, have;
    uint64_t reads_mget, reads_multi, last_sum, last[LD_MSUM_COUNTERS];
};

int ld__msum_init(struct ld_conn *c, uint32_t id)
{
    c->id = id;
    c->model = calloc(1, sizeof(struct msum_model));
    return c->model ? 0 : -1;
}

static void writer_issue(struct ld_conn *c)
{
    uint64_t *rng = &c->t->rng;
    unsigned a = (unsigned)(ld_rand(rng) % LD_MSUM_COUNTERS);

    if (ld_rand(rng) & 1) {
        ld__req_push(c, LD_K_MS_INCRBY);
        ld__coll_cmd(c, 3, "INCRBY", 'm', a);
        ld__out_bulk(c, "2", 1);
        return;
    }
    unsigned b = (a + 1 + (unsigned)(ld_rand(rng) % (LD_MSUM_COUNTERS - 1))) % LD_MSUM_COUNTERS;
    ld__txn_cmd(c, LD_K_MULTI, "MULTI");
    ld__req_push(c, LD_K_QUEUED);
    ld__coll_cmd(c, 2, "INCR", 'm', a);
    ld__req_push(c, LD_K_QUEUED);
    ld__coll_cmd(c, 2, "INCR", 'm', b);
    ld__txn_cmd(c, LD_K_EXEC, "EXEC");
}

static void reader_issue(struct ld_conn *c)
{
    struct msum_model *m = c->model;
    /* relaxed: see msum_acked in ld_int.h */
    uint64_t acked = atomic_load_explicit(&c->t->run->msum_acked, memory_order_relaxed);

    m->mget_next = !m->mget_next;
    ld__txn_read_issue(c, 'm', LD_MSUM_COUNTERS, m->mget_next, LD_K_MS_MGET)->seq = acked;
}

void ld__msum_issue(struct ld_conn *c)
{
    if (c->kind == LD_CONN_MSUM_W)
        writer_issue(c);
    else
        reader_issue(c);
}

void ld__msum_unsure(struct ld_conn *c, const struct ld_req *q)
{
    if (c->kind == LD_CONN_MSUM_W && (q->kind == LD_K_MS_INCRBY || q->kind == LD_K_EXEC))
        ((struct msum_model *)c->model)->unsure += 2;
}

static void unexpected(struct ld_conn *c, const struct ld_req *q, const redisReply *rep,
                       const char *expected)
{
    char got[128];

    ld__txn_show(got, sizeof(got), rep);
    ld__fail(c->t->run, LD_CHK_MSUM, "%s %u: %s: expected %s, got %s",
             c->kind == LD_CONN_MSUM_W ? "writer" : "reader", c->id,
             ld__kind_name(q->kind), expected, got);
    if (c->kind == LD_CONN_MSUM_W)      /* its one write in flight: unknown */
        ((struct msum_model *)c->model)->unsure += 2;
    ld__conn_close(c);
}

static void ack(struct ld_conn *c, struct msum_model *m)
{
    m->acked += 2;
    atomic_fetch_add_explicit(&c->t->run->msum_acked, 2, memory_order_relaxed);
}

/* One read of every counter: whole, never lower, not stale. */
static void check_read(struct ld_conn *c, struct msum_model *m, const char *how,
                       const struct ld_req *q, const redisReply *rep)
{
    struct ld_run *r = c->t->run;
    uint64_t v[LD_MSUM_COUNTERS], sum = 0;

    for (unsigned i = 0; i < LD_MSUM_COUNTERS; i++) {
        int64_t x = 0;

        if (rep->element[i]->type != REDIS_REPLY_NIL &&
            (!ld__txn_int(rep->element[i], &x) || x < 0)) {
            unexpected(c, q, rep->element[i], "a count or nil");
            return;
        }
        v[i] = (uint64_t)x;
        sum += v[i];
    }
    if (sum % 2 != 0)
        ld__fail(r, LD_CHK_MSUM, "reader %u, %s: expected an even sum (whole MULTI "
                 "pairs), got %llu: half of a transaction seen", c->id, how,
                 (unsigned long long)sum);
    if (m->have && sum < m->last_sum)
        ld__fail(r, LD_CHK_MSUM, "reader %u, %s: expected the sum %llu or more (its "
                 "previous read), got %llu (went down by %llu)", c->id, how,
                 (unsigned long long)m->last_sum, (unsigned long long)sum,
                 (unsigned long long)(m->last_sum - sum));
    for (unsigned i = 0; m->have && i < LD_MSUM_COUNTERS; i++)
        if (v[i] < m->last[i])
            ld__fail(r, LD_CHK_MSUM, "reader %u, %s: counter %u: expected %llu or more "
                     "(its previous read), got %llu", c->id, how, i,
                     (unsigned long long)m->last[i], (unsigned long long)v[i]);
    if (sum < q->seq)
        ld__fail(r, LD_CHK_MSUM, "reader %u, %s: expected the sum %llu or more (increments "
                 "acknowledged before the read was sent), got %llu (stale)", c->id, how,
                 (unsigned long long)q->seq, (unsigned long long)sum);
    memcpy(m->last, v, sizeof(v));
    m->last_sum = sum;
    m->have = true;
}

void ld__msum_reply(struct ld_conn *c, const struct ld_req *q, const redisReply *rep)
{
    struct msum_model *m = c->model;
    bool reader = c->kind == LD_CONN_MSUM_R;

    switch (q->kind) {
    case LD_K_MULTI:
    case LD_K_QUEUED:
        if (!ld__txn_status(rep, q->kind == LD_K_MULTI ? "OK" : "QUEUED"))
            unexpected(c, q, rep, q->kind == LD_K_MULTI ? "+OK" : "+QUEUED");
        return;
    case LD_K_MS_INCRBY:
        if (rep->type != REDIS_REPLY_INTEGER || rep->integer < 2)
            unexpected(c, q, rep, "the counter, 2 or more");
        else {
            m->singles++;
            ack(c, m);
        }
        return;
    case LD_K_EXEC:
    case LD_K_MS_MGET:
        if (rep->type != REDIS_REPLY_ARRAY ||
            rep->elements != (reader ? LD_MSUM_COUNTERS : 2)) {
            unexpected(c, q, rep, reader ? "an array of every counter"
                                         : "an array of the two INCRs' replies");
            return;
        }
        if (reader) {
            if (q->kind == LD_K_EXEC)
                m->reads_multi++;
            else
                m->reads_mget++;
            check_read(c, m, q->kind == LD_K_EXEC ? "MULTI/EXEC" : "MGET", q, rep);
        } else if (rep->element[0]->type != REDIS_REPLY_INTEGER ||
                   rep->element[1]->type != REDIS_REPLY_INTEGER) {
            unexpected(c, q, rep, "[integer, integer]");
        } else {
            m->pairs++;
            ack(c, m);
        }
        return;
    default:
        unexpected(c, q, rep, "nothing");
    }
}

/* ---- the end: the counters against the acknowledged increments ---- */

void ld__msum_final(struct ld_run *r, struct ld_ctl *k)
{
    struct msum_model s = { .acked = 0 };
    uint64_t sum = 0;
    redisReply *rep;

    if (!r->txn_ok)
        return;
    for (unsigned i = 0; i < r->o->threads; i++)
        for (unsigned j = 0; j < r->threads[i].nconns; j++) {
            const struct ld_conn *c = &r->threads[i].conns[j];
            const struct msum_model *m = c->model;

            if (c->kind != LD_CONN_MSUM_W && c->kind != LD_CONN_MSUM_R)
                continue;
            s.acked += m->acked;
            s.unsure += m->unsure;
            s.singles += m->singles;
            s.pairs += m->pairs;
            s.reads_mget += m->reads_mget;
            s.reads_multi += m->reads_multi;
        }
    rep = ld__txn_read_all(r, k, 'm', LD_MSUM_COUNTERS, LD_CHK_MSUM, "counters");
    if (rep == NULL)
        return;
    for (unsigned i = 0; i < LD_MSUM_COUNTERS; i++) {
        int64_t v = 0;

        if (rep->element[i]->type != REDIS_REPLY_NIL && !ld__txn_int(rep->element[i], &v))
            v = -1;
        sum += (uint64_t)(v < 0 ? 0 : v);
    }
    if (sum < s.acked || sum > s.acked + s.unsure)
        ld__fail(r, LD_CHK_MSUM, "the counters at the end: expected them to sum to %llu%s "
                 "(increments acknowledged), got %llu (%s %llu)", (unsigned long long)s.acked,
                 s.unsure ? "+unanswered" : "", (unsigned long long)sum,
                 sum < s.acked ? "lost" : "extra", (unsigned long long)(sum < s.acked
                 ? s.acked - sum : sum - s.acked - s.unsure));
    snprintf(r->chk[LD_CHK_MSUM].detail, sizeof(r->chk[LD_CHK_MSUM].detail),
             "%d counters, %u writers: %llu increments acknowledged (%llu INCRBY 2, %llu "
             "MULTI pairs), final sum %llu; %llu sums read (%llu MGET, %llu MULTI) by %u "
             "readers", LD_MSUM_COUNTERS, r->o->threads * LD_MSUM_WRITERS,
             (unsigned long long)s.acked, (unsigned long long)s.singles,
             (unsigned long long)s.pairs, (unsigned long long)sum,
             (unsigned long long)(s.reads_mget + s.reads_multi),
             (unsigned long long)s.reads_mget, (unsigned long long)s.reads_multi,
             r->o->threads);
    freeReplyObject(rep);
}
