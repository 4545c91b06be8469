/*
 * set: each client SADDs and SREMs its own members; SISMEMBER and SMEMBERS
 * agree with its model.
 *
 * The checker's clients (LD_COLL_CONNS per client thread, ids 0..nset-1)
 * share LD_COLL_KEYS set keys <prefix>:s:<n>. Client id owns 48 members of
 * each key, members no other client touches, so its model (one bit per
 * member per key) says exactly what the server must answer about them,
 * whatever the other clients do to theirs meanwhile: SADD and SREM must
 * count exactly the members the model adds or removes, SISMEMBER must say
 * what the model says, and SMEMBERS must show exactly the client's model,
 * every other member well-formed (a member of some client of this run,
 * byte for byte) and each member once. At the end each key is read once
 * more against every client's model.
 *
 * The members are chosen so that the sets live in every encoding while
 * the clients race: key 0 holds integers only (an intset), keys 1 and 2
 * integers and short strings (a listpack, a table past 128 members), key
 * 3 also strings of 70 bytes (a table). The anchor, the integer -1, keeps
 * each key alive (every read is one keyspace hit) and integer-only.
 *
 * Context: the client's thread; ld__set_final main, after the join.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ld_int.h"

#define NM 48
#define KEY_MAX (LD_PREFIX_MAX + 32)
#define MEMBER_MAX 96

/* Owned by: the client's thread (main reads it after the join). */
struct set_model {
    uint64_t mask[LD_COLL_KEYS];           /* its members in each key, as sent */
    bool unsure[LD_COLL_KEYS];             /* a write that may or may not have run */
    uint64_t writes, checks, smembers;
};

int ld__set_init(struct ld_conn *c, uint32_t id)
{
    c->id = id;
    c->model = calloc(1, sizeof(struct set_model));
    return c->model ? 0 : -1;
}

/* Member i of client id in key k. */
static size_t member(char *buf, unsigned k, unsigned id, unsigned i)
{
    if (k == 0 || i < NM / 2)
        return (size_t)snprintf(buf, MEMBER_MAX, "%u", (id + 1) * 1000 + i);
    if (k == 3 && i >= NM - 8)
        return (size_t)snprintf(buf, MEMBER_MAX, "L%u.%u.%s", id, i,
                                "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
    return (size_t)snprintf(buf, MEMBER_MAX, "s%u.%u", id, i);
}

/* Which member of which client m is in key k: 0, -1 for the anchor, or
 * -2 when it is no member of this run (checked byte for byte). */
static int decode(const char *m, size_t len, unsigned k, unsigned nset, unsigned *id,
                  unsigned *i)
{
    char buf[MEMBER_MAX];

    if (len == 2 && memcmp(m, "-1", 2) == 0)
        return -1;
    if (len == 0 || len >= MEMBER_MAX)
        return -2;
    memcpy(buf, m, len);
    buf[len] = '\0';
    if (m[0] >= '1' && m[0] <= '9') {
        unsigned long v = strtoul(buf, NULL, 10);
        *id = (unsigned)(v / 1000) - 1;
        *i = (unsigned)(v % 1000);
    } else if (sscanf(buf + 1, "%u.%u", id, i) != 2) {
        return -2;
    }
    char want[MEMBER_MAX];
    if (*id >= nset || *i >= NM || member(want, k, *id, *i) != len || memcmp(want, m, len))
        return -2;
    return 0;
}

static void out_member(struct ld_conn *c, unsigned k, unsigned i)
{
    char m[MEMBER_MAX];

    ld__out_bulk(c, m, member(m, k, c->id, i));
}

void ld__set_issue(struct ld_conn *c)
{
    struct set_model *m = c->model;
    struct ld_thread *t = c->t;
    unsigned k = (unsigned)(ld_rand(&t->rng) % LD_COLL_KEYS);
    unsigned x = (unsigned)(ld_rand(&t->rng) % 100);
    struct ld_req *q;

    if (x < 65) {                       /* SADD or SREM of 1..3 members */
        unsigned n = 1 + (unsigned)(ld_rand(&t->rng) % 3), idx[3];
        uint64_t chosen = 0;
        bool add = x < 35;
        for (unsigned j = 0; j < n; j++) {
            idx[j] = (unsigned)(ld_rand(&t->rng) % NM);
            chosen |= 1ull << idx[j];
        }
        q = ld__req_push(c, add ? LD_K_SADD : LD_K_SREM);
        /* the reply it must get: the members it really adds / removes */
        q->seq = (uint64_t)__builtin_popcountll(add ? chosen & ~m->mask[k] : chosen & m->mask[k]);
        m->mask[k] = add ? m->mask[k] | chosen : m->mask[k] & ~chosen;
        ld__coll_cmd(c, 2 + n, add ? "SADD" : "SREM", 's', k);
        for (unsigned j = 0; j < n; j++)
            out_member(c, k, idx[j]);
    } else if (x < 90) {
        unsigned i = (unsigned)(ld_rand(&t->rng) % NM);
        q = ld__req_push(c, LD_K_SISMEMBER);
        q->seq = m->mask[k] >> i & 1;
        q->keys[1] = i;
        ld__coll_cmd(c, 3, "SISMEMBER", 's', k);
        out_member(c, k, i);
    } else {
        q = ld__req_push(c, LD_K_SMEMBERS);
        q->seq = m->mask[k];
        ld__coll_cmd(c, 2, "SMEMBERS", 's', k);
    }
    q->keys[0] = k;
}

void ld__set_unsure(struct ld_conn *c, const struct ld_req *q)
{
    struct set_model *m = c->model;

    if (q->kind == LD_K_SADD || q->kind == LD_K_SREM)
        m->unsure[q->keys[0]] = true;
    else
        c->t->st.unsure_keys++;
}

static const char *mask_str(char *buf, size_t cap, uint64_t mask)
{
    size_t len = 0;

    buf[0] = '\0';
    for (unsigned i = 0; i < NM && len + 4 < cap; i++)
        if (mask >> i & 1)
            len += (size_t)snprintf(buf + len, cap - len, "%s%u", len ? "," : "", i);
    return len ? buf : "none";
}

/* An SMEMBERS reply of key k: each member once, each of some client of
 * this run; seen[id] gets client id's members. 0, or -1 when the reply is
 * not an array. */
static int scan_members(struct ld_run *r, const redisReply *rep, unsigned k, uint64_t *seen)
{
    char key[KEY_MAX], ex[80];
    unsigned id, i;

    if (rep->type != REDIS_REPLY_ARRAY)
        return -1;
    ld__coll_key(r, key, 's', k);
    for (size_t j = 0; j < rep->elements; j++) {
        const redisReply *e = rep->element[j];
        int d = e->type == REDIS_REPLY_STRING ? decode(e->str, e->len, k, r->nset, &id, &i) : -2;
        if (d == -1)
            continue;
        if (d == 0 && !(seen[id] >> i & 1)) {
            seen[id] |= 1ull << i;
            continue;
        }
        ld_excerpt(ex, sizeof(ex), e->str ? e->str : "", e->str ? e->len : 0, 40);
        ld__fail(r, LD_CHK_SET, "SMEMBERS %s: expected members of this run's clients, each "
                 "once, got '%s'%s", key, ex, d == 0 ? " twice" : "");
    }
    return 0;
}

/* Client id's members as read (got) against its model (want). */
static bool same_members(struct ld_run *r, unsigned k, unsigned id, uint64_t want,
                         uint64_t got, const char *when)
{
    char key[KEY_MAX], a[160], b[160];

    if (got == want)
        return true;
    ld__coll_key(r, key, 's', k);
    ld__fail(r, LD_CHK_SET, "SMEMBERS %s %s: expected client %u's members {%s}, got {%s}",
             key, when, id, mask_str(a, sizeof(a), want), mask_str(b, sizeof(b), got));
    return false;
}

void ld__set_reply(struct ld_conn *c, const struct ld_req *q, const redisReply *rep)
{
    struct set_model *m = c->model;
    struct ld_run *r = c->t->run;
    unsigned k = q->keys[0];
    char key[KEY_MAX], mb[MEMBER_MAX];

    if (rep->type == REDIS_REPLY_ERROR) {
        ld__coll_error(c, q, rep);
        return;
    }
    if (q->kind == LD_K_SMEMBERS) {
        c->t->st.coll_hits++;                 /* the key always exists: anchor */
        m->smembers++;
        uint64_t *seen = calloc(r->nset, sizeof(uint64_t));
        if (seen == NULL || scan_members(r, rep, k, seen) < 0)
            ld__reply_unexpected(c, q, rep);
        else
            same_members(r, k, c->id, q->seq, seen[c->id], "(this client's)");
        free(seen);
        return;
    }
    if (rep->type != REDIS_REPLY_INTEGER) {
        ld__reply_unexpected(c, q, rep);
        return;
    }
    if (q->kind == LD_K_SISMEMBER) {
        c->t->st.coll_hits++;
        m->checks++;
    } else {
        m->writes++;
    }
    if ((uint64_t)rep->integer == q->seq)
        return;
    ld__coll_key(r, key, 's', k);
    if (q->kind == LD_K_SISMEMBER) {
        member(mb, k, c->id, q->keys[1]);
        ld__fail(r, LD_CHK_SET, "SISMEMBER %s %s (this client's member): expected %llu, "
                 "got %lld", key, mb, (unsigned long long)q->seq, rep->integer);
    } else {
        ld__fail(r, LD_CHK_SET, "%s %s (this client's members): expected %llu %s, got %lld",
                 ld__kind_name(q->kind), key, (unsigned long long)q->seq,
                 q->kind == LD_K_SADD ? "added" : "removed", rep->integer);
    }
}

/* ---- the end of the run: each key against every client's model ---- */

void ld__set_final(struct ld_run *r, struct ld_ctl *k)
{
    const struct set_model **models = calloc(r->nset, sizeof(*models));
    uint64_t *seen = calloc(r->nset, sizeof(uint64_t));
    uint64_t writes = 0, checks = 0, smembers = 0, bad = 0;
    char key[KEY_MAX], err[LD_LINE];
    const char *argv[] = { "SMEMBERS", key };

    if (models == NULL || seen == NULL)
        goto out_free;
    for (unsigned i = 0; i < r->o->threads; i++)
        for (unsigned j = 0; j < r->threads[i].nconns; j++) {
            const struct ld_conn *c = &r->threads[i].conns[j];
            if (c->kind != LD_CONN_SET)
                continue;
            models[c->id] = c->model;
            writes += models[c->id]->writes;
            checks += models[c->id]->checks;
            smembers += models[c->id]->smembers;
        }
    for (unsigned n = 0; n < LD_COLL_KEYS; n++) {
        redisReply *rep;
        ld__coll_key(r, key, 's', n);
        if (k == NULL || (rep = ld__ctl_cmd(k, err, sizeof(err), 2, argv)) == NULL) {
            ld__skip(r, LD_CHK_SET, "could not read the sets at the end");
            break;
        }
        r->ctl_commands++;
        r->ctl_hits++;
        memset(seen, 0, r->nset * sizeof(uint64_t));
        if (scan_members(r, rep, n, seen) < 0)
            bad++;
        for (unsigned id = 0; id < r->nset; id++)   /* an unanswered write: unknown */
            if (!models[id]->unsure[n])
                bad += !same_members(r, n, id, models[id]->mask[n], seen[id], "at the end");
        freeReplyObject(rep);
    }
    snprintf(r->chk[LD_CHK_SET].detail, sizeof(r->chk[LD_CHK_SET].detail),
             "%u clients, %d sets: %llu SADD/SREM counts, %llu SISMEMBERs and %llu "
             "SMEMBERS checked against each client's model; %s", r->nset, LD_COLL_KEYS,
             (unsigned long long)writes, (unsigned long long)checks,
             (unsigned long long)smembers, bad ? "the sets at the end differ from the models"
             : "every set at the end as the models say");
out_free:
    free(models);
    free(seen);
}
