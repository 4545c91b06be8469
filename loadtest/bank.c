/*
 * bank: money moves between LD_BANK_ACCOUNTS accounts (<prefix>:b:<i>,
 * each LD_BANK_INITIAL at the start; keys in txn.c) and must never be
 * made or lost.
 *
 * Transfer clients (LD_BANK_CONNS per client thread, ids 0..nbank-1) each
 * run one transfer at a time, of 1..100 from one random account to
 * another, half of them as
 *   MULTI / DECRBY from amt / INCRBY to amt / INCR log / EXEC
 * and half as an optimistic WATCH loop
 *   WATCH from to / GET from / GET to, then
 *   MULTI / SET from (bal-amt) / SET to (bal+amt) / INCR log / EXEC
 * repeated from the WATCH while EXEC answers nil (another client touched
 * an account); a loop that has not committed after LD_BANK_MAX_TRIES tries
 * is a failure (a WATCH that never lets go, or a livelock). Every reply is
 * checked: +OK for MULTI, +QUEUED per queued command, EXEC an array of the
 * queued commands' replies (nil only after a WATCH).
 *
 * The log: <prefix>:l:<id> is INCRed inside each of the client's
 * transactions, so it counts the client's committed transfers and EXEC's
 * last element must be exactly one more than the transfers it had
 * acknowledged before. A client has one transfer in flight, so when its
 * connection is lost after sending EXEC, the log read at the end says
 * whether that "unknown" transfer committed (log = acknowledged + 1) or
 * not (log = acknowledged): the final balances are then exactly
 * LD_BANK_INITIAL + the sum of the committed transfers' amounts.
 *
 * Auditors (one per client thread) read every account, alternately in one
 * MULTI (GET each, EXEC) and with one MGET: in every audit the balances
 * must sum to LD_BANK_ACCOUNTS * LD_BANK_INITIAL. A server that lets an
 * audit see half a transfer, or a WATCH that lets a stale SET through,
 * fails here.
 *
 * Context: the client's thread; ld__bank_final main, after the join.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ld_int.h"

#define TOTAL ((int64_t)LD_BANK_ACCOUNTS * LD_BANK_INITIAL)

enum phase { P_IDLE, P_READ, P_EXEC };

/* Owned by: the connection's thread (main reads it after the join). */
struct bank_model {
    /* the transfer in flight */
    enum phase phase;
    bool watch;                      /* WATCH loop, else plain MULTI */
    unsigned from, to, tries;
    int64_t amt, bal[2];             /* WATCH: the balances read */
    /* committed, as this client saw them */
    uint64_t acked, by_multi, by_watch, nil_execs, gave_up, max_tries;
    int64_t delta[LD_BANK_ACCOUNTS];
    /* a transfer whose EXEC reply never came (at most one: the last) */
    bool unknown;
    unsigned u_from, u_to;
    int64_t u_amt;
    /* auditor */
    bool mget_next;
    uint64_t audits_multi, audits_mget;
};

int ld__bank_init(struct ld_conn *c, uint32_t id)
{
    c->id = id;
    c->model = calloc(1, sizeof(struct bank_model));
    return c->model ? 0 : -1;
}

static void out_int(struct ld_conn *c, int64_t v)
{
    char buf[24];
    size_t n = 0;

    if (v < 0) {
        buf[n++] = '-';
        v = -v;
    }
    n += ld__u64_str(buf + n, (uint64_t)v);
    ld__out_bulk(c, buf, n);
}

/* A queued command on account n (or log id, kind 'l'), with an amount. */
static void queued(struct ld_conn *c, const char *name, char kind, unsigned n,
                   bool with_amt, int64_t amt)
{
    ld__req_push(c, LD_K_QUEUED);
    ld__coll_cmd(c, with_amt ? 3 : 2, name, kind, n);
    if (with_amt)
        out_int(c, amt);
}

static void send_exec(struct ld_conn *c, struct bank_model *m)
{
    queued(c, "INCR", 'l', c->id, false, 0);
    ld__txn_cmd(c, LD_K_EXEC, "EXEC");
    m->phase = P_EXEC;
}

static void new_transfer(struct ld_conn *c, struct bank_model *m)
{
    uint64_t *rng = &c->t->rng;

    m->from = (unsigned)(ld_rand(rng) % LD_BANK_ACCOUNTS);
    m->to = (m->from + 1 + (unsigned)(ld_rand(rng) % (LD_BANK_ACCOUNTS - 1))) % LD_BANK_ACCOUNTS;
    m->amt = 1 + (int64_t)(ld_rand(rng) % 100);
    m->watch = ld_rand(rng) & 1;
    m->tries = 0;
}

static void transfer_issue(struct ld_conn *c, struct bank_model *m)
{
    if (m->phase == P_READ) {        /* both balances read: write them */
        ld__txn_cmd(c, LD_K_MULTI, "MULTI");
        queued(c, "SET", 'b', m->from, true, m->bal[0] - m->amt);
        queued(c, "SET", 'b', m->to, true, m->bal[1] + m->amt);
        send_exec(c, m);
        return;
    }
    if (m->tries == 0)
        new_transfer(c, m);
    m->tries++;
    if (m->watch) {
        char a[LD_PREFIX_MAX + 32], b[LD_PREFIX_MAX + 32];

        ld__req_push(c, LD_K_WATCH);
        ld__out_array(c, 3);
        ld__out_bulk(c, "WATCH", 5);
        ld__out_bulk(c, a, ld__coll_key(c->t->run, a, 'b', m->from));
        ld__out_bulk(c, b, ld__coll_key(c->t->run, b, 'b', m->to));
        for (unsigned i = 0; i < 2; i++) {
            ld__req_push(c, LD_K_BGET)->keys[0] = i;
            ld__coll_cmd(c, 2, "GET", 'b', i == 0 ? m->from : m->to);
        }
        m->phase = P_READ;
        return;
    }
    ld__txn_cmd(c, LD_K_MULTI, "MULTI");
    queued(c, "DECRBY", 'b', m->from, true, m->amt);
    queued(c, "INCRBY", 'b', m->to, true, m->amt);
    send_exec(c, m);
}

static void audit_issue(struct ld_conn *c, struct bank_model *m)
{
    m->mget_next = !m->mget_next;
    ld__txn_read_issue(c, 'b', LD_BANK_ACCOUNTS, m->mget_next, LD_K_AUDIT_MGET);
}

void ld__bank_issue(struct ld_conn *c)
{
    if (c->kind == LD_CONN_AUDIT)
        audit_issue(c, c->model);
    else
        transfer_issue(c, c->model);
}

void ld__bank_unsure(struct ld_conn *c, const struct ld_req *q)
{
    struct bank_model *m = c->model;

    if (c->kind == LD_CONN_BANK && q->kind == LD_K_EXEC && !m->unknown) {
        m->unknown = true;
        m->u_from = m->from;
        m->u_to = m->to;
        m->u_amt = m->amt;
    }
}

/* A reply this checker cannot go on from: the failure, and the
 * connection closed (its transfer, if EXEC was sent, becomes unknown). */
static void give_up(struct ld_conn *c, const struct ld_req *q, const redisReply *rep,
                    const char *expected)
{
    struct bank_model *m = c->model;
    char got[128];

    ld__txn_show(got, sizeof(got), rep);
    if (c->kind == LD_CONN_AUDIT)
        ld__fail(c->t->run, LD_CHK_BANK, "auditor (thread %u): %s: expected %s, got %s",
                 c->t->idx, ld__kind_name(q->kind), expected, got);
    else
        ld__fail(c->t->run, LD_CHK_BANK, "transfer client %u, %s of %lld from account %u "
                 "to %u: %s: expected %s, got %s", c->id, m->watch ? "WATCH loop" : "MULTI",
                 (long long)m->amt, m->from, m->to, ld__kind_name(q->kind), expected, got);
    if (c->kind == LD_CONN_BANK && m->phase == P_EXEC)
        ld__bank_unsure(c, &(struct ld_req){ .kind = LD_K_EXEC });
    ld__conn_close(c);
}

/* Sum the balances of an audit's array; false when one is not a number. */
static void audit_check(struct ld_conn *c, const char *how, const redisReply *rep)
{
    char list[LD_LINE / 2];
    size_t off = 0;
    int64_t sum = 0;

    for (size_t i = 0; i < rep->elements; i++) {
        int64_t v;

        if (!ld__txn_int(rep->element[i], &v)) {
            char got[96];

            ld__txn_show(got, sizeof(got), rep->element[i]);
            ld__fail(c->t->run, LD_CHK_BANK, "audit by %s: account %zu: expected a "
                     "balance, got %s", how, i, got);
            return;
        }
        sum += v;
        if (off < sizeof(list) - 24)
            off += (size_t)snprintf(list + off, sizeof(list) - off, "%s%lld", i ? " " : "",
                                    (long long)v);
    }
    if (sum != TOTAL)
        ld__fail(c->t->run, LD_CHK_BANK, "audit by %s: expected the %d balances to sum to "
                 "%lld, got %lld (%+lld: money %s); balances %s", how, LD_BANK_ACCOUNTS,
                 (long long)TOTAL, (long long)sum, (long long)(sum - TOTAL),
                 sum > TOTAL ? "made" : "lost", list);
}

static void audit_reply(struct ld_conn *c, const struct ld_req *q, const redisReply *rep)
{
    struct bank_model *m = c->model;

    if (q->kind == LD_K_MULTI || q->kind == LD_K_QUEUED) {
        if (!ld__txn_status(rep, q->kind == LD_K_MULTI ? "OK" : "QUEUED"))
            give_up(c, q, rep, q->kind == LD_K_MULTI ? "+OK" : "+QUEUED");
        return;
    }
    if (rep->type != REDIS_REPLY_ARRAY || rep->elements != LD_BANK_ACCOUNTS) {
        give_up(c, q, rep, "an array of every balance");
        return;
    }
    if (q->kind == LD_K_EXEC) {
        m->audits_multi++;
        audit_check(c, "MULTI/EXEC", rep);
    } else {
        m->audits_mget++;
        audit_check(c, "MGET", rep);
    }
}

/* EXEC's array: the queued commands' replies, the log's INCR last. */
static void exec_reply(struct ld_conn *c, struct bank_model *m, const struct ld_req *q,
                       const redisReply *rep)
{
    int64_t v[3], log;
    bool ok = rep->type == REDIS_REPLY_ARRAY && rep->elements == 3 &&
              ld__txn_int(rep->element[2], &log);

    for (int i = 0; ok && i < 2; i++)
        ok = m->watch ? ld__txn_status(rep->element[i], "OK")
                      : ld__txn_int(rep->element[i], &v[i]);
    if (rep->type == REDIS_REPLY_NIL && m->watch) {
        m->nil_execs++;          /* an account changed since the WATCH: again */
        m->phase = P_IDLE;
        if (m->tries >= LD_BANK_MAX_TRIES) {
            m->gave_up++;
            m->tries = 0;
            ld__fail(c->t->run, LD_CHK_BANK, "transfer client %u: WATCH retry loop of "
                     "account %u to %u did not commit in %d tries (EXEC answered nil "
                     "each time)", c->id, m->from, m->to, LD_BANK_MAX_TRIES);
        }
        return;
    }
    if (!ok) {
        give_up(c, q, rep, m->watch ? "[+OK, +OK, log] or nil" : "[balance, balance, log]");
        return;
    }
    if ((uint64_t)log != m->acked + 1)
        ld__fail(c->t->run, LD_CHK_BANK, "transfer client %u: its log INCR in EXEC: "
                 "expected %llu (its transfers committed before, plus this one), got %lld",
                 c->id, (unsigned long long)m->acked + 1, (long long)log);
    m->delta[m->from] -= m->amt;
    m->delta[m->to] += m->amt;
    m->acked++;
    if (m->watch)
        m->by_watch++;
    else
        m->by_multi++;
    if (m->tries > m->max_tries)
        m->max_tries = m->tries;
    m->tries = 0;
    m->phase = P_IDLE;
}

void ld__bank_reply(struct ld_conn *c, const struct ld_req *q, const redisReply *rep)
{
    struct bank_model *m = c->model;

    if (c->kind == LD_CONN_AUDIT) {
        audit_reply(c, q, rep);
        return;
    }
    switch (q->kind) {
    case LD_K_MULTI:
    case LD_K_WATCH:
        if (!ld__txn_status(rep, "OK"))
            give_up(c, q, rep, "+OK");
        return;
    case LD_K_QUEUED:
        if (!ld__txn_status(rep, "QUEUED"))
            give_up(c, q, rep, "+QUEUED");
        return;
    case LD_K_BGET:
        if (!ld__txn_int(rep, &m->bal[q->keys[0]]))
            give_up(c, q, rep, "a balance");
        return;
    case LD_K_EXEC:
        exec_reply(c, m, q, rep);
        return;
    default:
        give_up(c, q, rep, "nothing");
    }
}

/* ---- the end: the balances against the committed transfers ---- */

struct bank_sum {
    int64_t want[LD_BANK_ACCOUNTS];
    uint64_t acked, by_multi, by_watch, nil_execs, gave_up, max_tries;
    uint64_t audits_multi, audits_mget, unknown, unknown_in;
};

/* Client m's log at the end says whether its unknown transfer committed. */
static void reconcile(struct ld_run *r, struct ld_ctl *k, uint32_t id,
                      const struct bank_model *m, struct bank_sum *s)
{
    char key[LD_PREFIX_MAX + 32], err[LD_LINE];
    const char *argv[2] = { "GET", key };
    redisReply *rep;
    int64_t log = 0;

    ld__coll_key(r, key, 'l', id);
    rep = k ? ld__ctl_cmd(k, err, sizeof(err), 2, argv) : NULL;
    if (rep == NULL) {
        ld__skip(r, LD_CHK_BANK, "could not read the transfer logs at the end: %s",
                 k ? err : "no control connection");
        return;
    }
    if (rep->type != REDIS_REPLY_NIL && !ld__txn_int(rep, &log))
        log = -1;
    freeReplyObject(rep);
    if (log < 0 || (uint64_t)log < m->acked ||
        (uint64_t)log > m->acked + m->unknown) {
        ld__fail(r, LD_CHK_BANK, "transfer client %u: its log %s: expected %llu%s (its "
                 "acknowledged transfers), got %lld", id, key, (unsigned long long)m->acked,
                 m->unknown ? " or one more (its unanswered EXEC)" : "", (long long)log);
        return;
    }
    s->unknown += m->unknown;
    if (m->unknown && (uint64_t)log == m->acked + 1) {
        s->unknown_in++;
        s->want[m->u_from] -= m->u_amt;
        s->want[m->u_to] += m->u_amt;
    }
}

static void final_balances(struct ld_run *r, struct ld_ctl *k, const struct bank_sum *s,
                           uint64_t *wrong, int64_t *sum)
{
    redisReply *rep = ld__txn_read_all(r, k, 'b', LD_BANK_ACCOUNTS, LD_CHK_BANK, "accounts");

    if (rep == NULL) {
        *wrong = UINT64_MAX;
        return;
    }
    for (unsigned i = 0; i < LD_BANK_ACCOUNTS; i++) {
        char key[LD_PREFIX_MAX + 32];
        int64_t v = 0;
        bool num = ld__txn_int(rep->element[i], &v);

        *sum += v;
        if (num && v == s->want[i])
            continue;
        (*wrong)++;
        ld__coll_key(r, key, 'b', i);
        ld__fail(r, LD_CHK_BANK, "account %s at the end: expected %lld (%d + the committed "
                 "transfers), got %s%lld", key, (long long)s->want[i], LD_BANK_INITIAL,
                 num ? "" : "not a number: ", (long long)v);
    }
    freeReplyObject(rep);
}

void ld__bank_final(struct ld_run *r, struct ld_ctl *k)
{
    struct bank_sum s = { .acked = 0 };
    uint64_t wrong = 0;
    int64_t sum = 0;

    if (!r->txn_ok)
        return;
    for (unsigned i = 0; i < LD_BANK_ACCOUNTS; i++)
        s.want[i] = LD_BANK_INITIAL;
    for (unsigned i = 0; i < r->o->threads; i++)
        for (unsigned j = 0; j < r->threads[i].nconns; j++) {
            const struct ld_conn *c = &r->threads[i].conns[j];
            const struct bank_model *m = c->model;

            if (c->kind == LD_CONN_AUDIT) {
                s.audits_multi += m->audits_multi;
                s.audits_mget += m->audits_mget;
            }
            if (c->kind != LD_CONN_BANK)
                continue;
            for (unsigned a = 0; a < LD_BANK_ACCOUNTS; a++)
                s.want[a] += m->delta[a];
            s.acked += m->acked;
            s.by_multi += m->by_multi;
            s.by_watch += m->by_watch;
            s.nil_execs += m->nil_execs;
            s.gave_up += m->gave_up;
            if (m->max_tries > s.max_tries)
                s.max_tries = m->max_tries;
            reconcile(r, k, c->id, m, &s);
        }
    final_balances(r, k, &s, &wrong, &sum);
    if (wrong == UINT64_MAX)
        return;
    snprintf(r->chk[LD_CHK_BANK].detail, sizeof(r->chk[LD_CHK_BANK].detail),
             "%d accounts, %u clients: %llu transfers committed (%llu MULTI, %llu WATCH; "
             "%llu EXEC nil retries, longest loop %llu tries, %llu gave up), %llu unknown "
             "(%llu committed); %llu audits (%llu MULTI, %llu MGET); final total %lld of "
             "%lld, %llu accounts off", LD_BANK_ACCOUNTS, r->nbank,
             (unsigned long long)s.acked, (unsigned long long)s.by_multi,
             (unsigned long long)s.by_watch, (unsigned long long)s.nil_execs,
             (unsigned long long)s.max_tries, (unsigned long long)s.gave_up,
             (unsigned long long)s.unknown, (unsigned long long)s.unknown_in,
             (unsigned long long)(s.audits_multi + s.audits_mget),
             (unsigned long long)s.audits_multi, (unsigned long long)s.audits_mget,
             (long long)sum, (long long)TOTAL, (unsigned long long)wrong);
}
