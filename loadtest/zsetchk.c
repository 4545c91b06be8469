/*
 * zset: each client ZADDs, ZINCRBYs and ZREMs its own members of shared
 * sorted sets; ZSCORE and ZRANGE agree with its model. (The checker's
 * other part, ZPOPMIN and BZPOPMIN across consumers handing out each
 * member exactly once, is queue.c's check on sorted sets.)
 *
 * The checker's clients (LD_COLL_CONNS per client thread, ids
 * 0..nzset-1) share LD_COLL_KEYS keys <prefix>:z:<n>. Client id owns NM
 * members of each key that no other client touches, so its model (which
 * of them are in, and their scores) says exactly what the server must
 * answer about them, whatever the others do meanwhile: ZADD ... CH must
 * count what the model adds or changes (NX, XX, GT and LT as Redis has
 * them), ZINCRBY must answer the model's new score, ZREM what the model
 * removes, ZSCORE the model's score or nil; a ZRANGE 0 -1 WITHSCORES
 * must be in order (by score, then member bytes), hold each member once,
 * every one of this run, and show exactly this client's members with
 * their scores. At the end each key is read once more against every
 * client's model. Scores are multiples of 1/4 of modest size, so every
 * sum is exact and a reply's %.17g reads back to the very double.
 *
 * Key 0 holds few members (a listpack), keys 1 and 2 more (a skiplist
 * past 128), key 3 also members of 70 bytes (a skiplist). The anchor,
 * member "anchor" with score 0, keeps each key alive: every read is one
 * keyspace hit.
 *
 * Context: the client's thread; ld__zset_final main, after the join.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ld_int.h"

#define NM 32
#define KEY_MAX (LD_PREFIX_MAX + 32)
#define MEMBER_MAX 96

/* What a ZRANGE's reply must show of the client's members: the model as
 * it was when the ZRANGE was sent (later requests are pipelined behind
 * it). One per slot of the connection's request ring. */
struct zset_snap {
    uint32_t in;
    double score[NM];
};

/* Owned by: the client's thread (main reads it after the join). */
struct zset_model {
    uint32_t in[LD_COLL_KEYS];               /* its members in each key, as sent */
    double score[LD_COLL_KEYS][NM];
    bool unsure[LD_COLL_KEYS];               /* a write that may or may not have run */
    uint64_t writes, checks, ranges;
    struct zset_snap snap[];                 /* [the connection's pipeline] */
};

int ld__zset_init(struct ld_conn *c, uint32_t id)
{
    c->id = id;
    c->model = calloc(1, sizeof(struct zset_model) + c->cap * sizeof(struct zset_snap));
    return c->model ? 0 : -1;
}

/* How many members of each key a client uses: few in key 0. */
static unsigned members_in(unsigned k)
{
    return k == 0 ? 4 : NM;
}

static size_t member(char *buf, unsigned k, unsigned id, unsigned i)
{
    if (k == 3 && i >= NM - 8)
        return (size_t)snprintf(buf, MEMBER_MAX, "L%u.%u.%s", id, i,
                                "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
    return (size_t)snprintf(buf, MEMBER_MAX, "m%u.%u", id, i);
}

/* Which member of which client m is in key k: 0, -1 for the anchor, or
 * -2 when it is no member of this run (checked byte for byte). */
static int decode(const char *m, size_t len, unsigned k, unsigned n, unsigned *id, unsigned *i)
{
    char buf[MEMBER_MAX], want[MEMBER_MAX];

    if (len == 6 && memcmp(m, "anchor", 6) == 0)
        return -1;
    if (len < 2 || len >= MEMBER_MAX)
        return -2;
    memcpy(buf, m, len);
    buf[len] = '\0';
    if (sscanf(buf + 1, "%u.%u", id, i) != 2 || *id >= n || *i >= members_in(k) ||
        member(want, k, *id, *i) != len || memcmp(want, m, len) != 0)
        return -2;
    return 0;
}


static void out_member(struct ld_conn *c, unsigned k, unsigned i)
{
    char m[MEMBER_MAX];

    ld__out_bulk(c, m, member(m, k, c->id, i));
}

static void out_score(struct ld_conn *c, double d)
{
    char buf[32];

    ld__out_bulk(c, buf, (size_t)snprintf(buf, sizeof(buf), "%.17g", d));
}

/* The model's ZADD of member i with score d under flags (bit 0 NX, 1 XX,
 * 2 GT, 3 LT): 1 when CH counts it (added or changed). */
static unsigned model_add(struct zset_model *m, unsigned k, unsigned i, double d, unsigned fl)
{
    bool in = m->in[k] >> i & 1;

    if ((in && (fl & 1)) || (!in && (fl & 2)))
        return 0;
    if (!in) {
        m->in[k] |= 1u << i;
        m->score[k][i] = d;
        return 1;
    }
    if (((fl & 4) && d <= m->score[k][i]) || ((fl & 8) && d >= m->score[k][i]) ||
        d == m->score[k][i])
        return 0;
    m->score[k][i] = d;
    return 1;
}

static void issue_zadd(struct ld_conn *c, struct zset_model *m, unsigned k)
{
    static const char *const fname[4] = {"NX", "XX", "GT", "LT"};   /* bits 0..3 */
    static const unsigned flags[] = {0, 0, 1, 2, 4, 8, 2 | 4};
    struct ld_thread *t = c->t;
    unsigned fl = flags[ld_rand(&t->rng) % 7], n = 1 + (unsigned)(ld_rand(&t->rng) % 3);
    unsigned idx[3], ch = 0;
    double sc[3];
    struct ld_req *q = ld__req_push(c, LD_K_ZADD);

    for (unsigned j = 0; j < n; j++) {
        idx[j] = (unsigned)(ld_rand(&t->rng) % members_in(k));
        sc[j] = (double)((int64_t)(ld_rand(&t->rng) % 256) - 128) / 4.0;
        ch += model_add(m, k, idx[j], sc[j], fl);
    }
    q->seq = ch;   /* the reply it must get */
    ld__coll_cmd(c, 3 + (unsigned)__builtin_popcount(fl) + 2 * n, "ZADD", 'z', k);
    ld__out_bulk(c, "CH", 2);
    for (unsigned b = 0; b < 4; b++)
        if (fl >> b & 1)
            ld__out_bulk(c, fname[b], 2);
    for (unsigned j = 0; j < n; j++) {
        out_score(c, sc[j]);
        out_member(c, k, idx[j]);
    }
}

void ld__zset_issue(struct ld_conn *c)
{
    struct zset_model *m = c->model;
    struct ld_thread *t = c->t;
    unsigned k = (unsigned)(ld_rand(&t->rng) % LD_COLL_KEYS);
    unsigned x = (unsigned)(ld_rand(&t->rng) % 100);
    unsigned i = (unsigned)(ld_rand(&t->rng) % members_in(k));
    struct ld_req *q;

    if (x < 40) {
        issue_zadd(c, m, k);
        q = &c->fifo[(c->head + c->count - 1) % c->cap];
    } else if (x < 60) {                 /* ZINCRBY: the new score is the reply */
        double inc = (double)((int64_t)(ld_rand(&t->rng) % 16) - 8) / 2.0;
        double now = (m->in[k] >> i & 1 ? m->score[k][i] : 0) + inc;
        q = ld__req_push(c, LD_K_ZINCRBY);
        m->in[k] |= 1u << i;
        m->score[k][i] = now;
        memcpy(&q->seq, &now, sizeof(now));
        ld__coll_cmd(c, 4, "ZINCRBY", 'z', k);
        out_score(c, inc);
        out_member(c, k, i);
    } else if (x < 70) {
        q = ld__req_push(c, LD_K_ZREM);
        q->seq = m->in[k] >> i & 1;
        m->in[k] &= ~(1u << i);
        ld__coll_cmd(c, 3, "ZREM", 'z', k);
        out_member(c, k, i);
    } else if (x < 85) {
        q = ld__req_push(c, LD_K_ZSCORE);
        q->gen = m->in[k] >> i & 1;
        memcpy(&q->seq, &m->score[k][i], sizeof(double));
        ld__coll_cmd(c, 3, "ZSCORE", 'z', k);
        out_member(c, k, i);
    } else {
        q = ld__req_push(c, LD_K_ZRANGE);
        unsigned slot = (c->head + c->count - 1) % c->cap;
        m->snap[slot].in = m->in[k];
        memcpy(m->snap[slot].score, m->score[k], sizeof(m->snap[slot].score));
        q->keys[2] = slot;
        ld__coll_cmd(c, 5, "ZRANGE", 'z', k);
        ld__out_bulk(c, "0", 1);
        ld__out_bulk(c, "-1", 2);
        ld__out_bulk(c, "WITHSCORES", 10);
    }
    q->keys[0] = k;
    q->keys[1] = i;
}

void ld__zset_unsure(struct ld_conn *c, const struct ld_req *q)
{
    struct zset_model *m = c->model;

    if (q->kind == LD_K_ZADD || q->kind == LD_K_ZINCRBY || q->kind == LD_K_ZREM)
        m->unsure[q->keys[0]] = true;
}

/* Member bytes compared as Redis orders them: memcmp, a prefix first. */
static int member_cmp(const redisReply *a, const redisReply *b)
{
    size_t n = a->len < b->len ? a->len : b->len;
    int c = memcmp(a->str, b->str, n);
    return c ? c : (a->len > b->len) - (a->len < b->len);
}

/* A ZRANGE ... WITHSCORES of key k: in order, each member once, each of
 * this run; got_in/got_score: what it says of every client. 0, or -1 when
 * it is no array of pairs. */
static int scan_range(struct ld_run *r, const redisReply *rep, unsigned k, uint32_t *got_in,
                      double (*got_score)[NM])
{
    char key[KEY_MAX], ex[80];
    const redisReply *prev = NULL;
    double prev_score = 0;
    unsigned id, i;

    if (rep->type != REDIS_REPLY_ARRAY || rep->elements % 2 != 0)
        return -1;
    ld__coll_key(r, key, 'z', k);
    for (size_t j = 0; j < rep->elements; j += 2) {
        const redisReply *e = rep->element[j];
        double d;
        int dec = e->type == REDIS_REPLY_STRING ? decode(e->str, e->len, k, r->nzset, &id, &i)
                                                : -2;
        bool ok = ld__reply_double(rep->element[j + 1], &d);
        if (dec == -2 || !ok || (dec == 0 && (got_in[id] >> i & 1))) {
            ld_excerpt(ex, sizeof(ex), e->str ? e->str : "", e->str ? e->len : 0, 40);
            ld__fail(r, LD_CHK_ZSET, "ZRANGE %s: expected members of this run's clients with "
                     "scores, each once, got '%s'%s", key, ex, dec == 0 && ok ? " twice" : "");
            continue;
        }
        if (prev && (d < prev_score || (d == prev_score && member_cmp(prev, e) >= 0)))
            ld__fail(r, LD_CHK_ZSET, "ZRANGE %s: '%.*s' (score %.17g) comes after '%.*s' (score "
                     "%.17g): out of order", key, (int)e->len, e->str, d, (int)prev->len,
                     prev->str, prev_score);
        prev = e;
        prev_score = d;
        if (dec == 0) {
            got_in[id] |= 1u << i;
            got_score[id][i] = d;
        }
    }
    return 0;
}

/* Client id's members and scores as read (got_*) against its model
 * (want_*). */
static bool same_members(struct ld_run *r, unsigned k, unsigned id, uint32_t want_in,
                         const double *want_score, uint32_t got_in, const double *got_score,
                         const char *when)
{
    char key[KEY_MAX];

    for (unsigned i = 0; i < members_in(k); i++) {
        bool want = want_in >> i & 1, got = got_in >> i & 1;
        if (want == got && (!want || got_score[i] == want_score[i]))
            continue;
        ld__coll_key(r, key, 'z', k);
        ld__fail(r, LD_CHK_ZSET, "ZRANGE %s %s: client %u's member %u: expected %s%.17g, got "
                 "%s%.17g", key, when, id, i, want ? "score " : "none, ",
                 want ? want_score[i] : 0.0, got ? "score " : "none, ", got ? got_score[i] : 0);
        return false;
    }
    return true;
}

void ld__zset_reply(struct ld_conn *c, const struct ld_req *q, const redisReply *rep)
{
    struct zset_model *m = c->model;
    struct ld_run *r = c->t->run;
    unsigned k = q->keys[0];
    char key[KEY_MAX], mb[MEMBER_MAX];
    double want, got;

    if (rep->type == REDIS_REPLY_ERROR) {
        ld__coll_error(c, q, rep);
        return;
    }
    ld__coll_key(r, key, 'z', k);
    member(mb, k, c->id, q->keys[1]);
    switch (q->kind) {
    case LD_K_ZRANGE: {
        uint32_t *in = calloc(r->nzset, sizeof(uint32_t));
        double (*sc)[NM] = calloc(r->nzset, sizeof(*sc));
        c->t->st.coll_hits++;                 /* the key always exists: anchor */
        m->ranges++;
        if (in == NULL || sc == NULL || scan_range(r, rep, k, in, sc) < 0)
            ld__reply_unexpected(c, q, rep);
        else
            same_members(r, k, c->id, m->snap[q->keys[2]].in, m->snap[q->keys[2]].score,
                         in[c->id], sc[c->id], "(this client's)");
        free(in);
        free(sc);
        return;
    }
    case LD_K_ZSCORE:
        c->t->st.coll_hits++;
        m->checks++;
        memcpy(&want, &q->seq, sizeof(want));
        if ((rep->type == REDIS_REPLY_NIL && !q->gen) ||
            (q->gen && ld__reply_double(rep, &got) && got == want))
            return;
        if (rep->type != REDIS_REPLY_NIL && rep->type != REDIS_REPLY_STRING) {
            ld__reply_unexpected(c, q, rep);
            return;
        }
        ld__fail(r, LD_CHK_ZSET, "ZSCORE %s %s (this client's member): expected %s%.17g, got "
                 "'%.*s'", key, mb, q->gen ? "" : "nil, not ", want,
                 rep->str ? (int)(rep->len < 40 ? rep->len : 40) : 3, rep->str ? rep->str : "nil");
        return;
    case LD_K_ZINCRBY:
        m->writes++;
        memcpy(&want, &q->seq, sizeof(want));
        if (!ld__reply_double(rep, &got)) {
            ld__reply_unexpected(c, q, rep);
            return;
        }
        if (got != want)
            ld__fail(r, LD_CHK_ZSET, "ZINCRBY %s %s (this client's member): expected %.17g, "
                     "got %.17g", key, mb, want, got);
        return;
    default:                                  /* ZADD ... CH, ZREM: a count */
        m->writes++;
        if (rep->type != REDIS_REPLY_INTEGER) {
            ld__reply_unexpected(c, q, rep);
            return;
        }
        if ((uint64_t)rep->integer != q->seq)
            ld__fail(r, LD_CHK_ZSET, "%s %s (this client's members): expected %llu, got %lld",
                     ld__kind_name(q->kind), key, (unsigned long long)q->seq, rep->integer);
    }
}

/* ---- the end of the run: each key against every client's model ---- */

void ld__zset_final(struct ld_run *r, struct ld_ctl *k)
{
    const struct zset_model **models = calloc(r->nzset, sizeof(*models));
    uint32_t *in = calloc(r->nzset, sizeof(uint32_t));
    double (*sc)[NM] = calloc(r->nzset, sizeof(*sc));
    uint64_t writes = 0, checks = 0, ranges = 0, bad = 0;
    char key[KEY_MAX], err[LD_LINE];
    const char *argv[] = { "ZRANGE", key, "0", "-1", "WITHSCORES" };

    if (models == NULL || in == NULL || sc == NULL)
        goto out_free;
    for (unsigned i = 0; i < r->o->threads; i++)
        for (unsigned j = 0; j < r->threads[i].nconns; j++) {
            const struct ld_conn *c = &r->threads[i].conns[j];
            if (c->kind != LD_CONN_ZSET)
                continue;
            models[c->id] = c->model;
            writes += models[c->id]->writes;
            checks += models[c->id]->checks;
            ranges += models[c->id]->ranges;
        }
    for (unsigned n = 0; n < LD_COLL_KEYS; n++) {
        redisReply *rep;
        ld__coll_key(r, key, 'z', n);
        if (k == NULL || (rep = ld__ctl_cmd(k, err, sizeof(err), 5, argv)) == NULL) {
            ld__skip(r, LD_CHK_ZSET, "could not read the sorted sets at the end");
            break;
        }
        r->ctl_commands++;
        r->ctl_hits++;
        memset(in, 0, r->nzset * sizeof(uint32_t));
        if (scan_range(r, rep, n, in, sc) < 0)
            bad++;
        for (unsigned id = 0; id < r->nzset; id++)   /* an unanswered write: unknown */
            if (!models[id]->unsure[n])
                bad += !same_members(r, n, id, models[id]->in[n], models[id]->score[n], in[id],
                                     sc[id], "at the end");
        freeReplyObject(rep);
    }
    snprintf(r->chk[LD_CHK_ZSET].detail, sizeof(r->chk[LD_CHK_ZSET].detail),
             "%u clients, %d keys: %llu ZADD/ZINCRBY/ZREMs, %llu ZSCOREs, %llu ZRANGEs "
             "checked; %s", r->nzset, LD_COLL_KEYS, (unsigned long long)writes,
             (unsigned long long)checks, (unsigned long long)ranges,
             bad ? "the keys at the end differ" : "the keys at the end as the models say");
out_free:
    free(models);
    free(in);
    free(sc);
}
