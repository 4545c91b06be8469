/*
 * hash: HSET / HGET / HINCRBY / HGETALL of tagged fields, checked like
 * `tagged`.
 *
 * The checker's clients (LD_COLL_CONNS per client thread, ids 0..nhash-1)
 * share LD_COLL_KEYS hash keys <prefix>:h:<n>. In each:
 *   f0..f15   tagged fields any client HSETs: the value is a tagged value
 *             (tagged.c) whose key is "<hash key>/<field>", so a read
 *             proves it belongs to this field of this hash, is whole, and
 *             was written by a client of this run with a seq it sent;
 *   c<id>     client id's own counter, bumped only by its HINCRBY: each
 *             reply must be exactly one more than the one before, an
 *             HGETALL must show the count of HINCRBYs sent before it, and
 *             at the end the field equals the acknowledged HINCRBYs;
 *   anchor    set at the start, never removed: the key always exists, so
 *             every HGET and HGETALL is one keyspace hit.
 * As for GET: a client that had its own HSET of seq s acknowledged before
 * an HGET of that field must not read back one of its own older values.
 * An HGETALL must show each field once, and nothing but these fields.
 *
 * Context: the client's thread; ld__hash_final main, after the join.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ld_int.h"

#define NF 16
#define KEY_MAX (LD_PREFIX_MAX + 32)

/* Owned by: the client's thread (main reads it after the join). */
struct hash_model {
    uint64_t seq;                          /* last HSET seq sent */
    uint64_t own[LD_COLL_KEYS][NF];        /* seq of its last acknowledged HSET */
    uint64_t ctr_sent[LD_COLL_KEYS];       /* its HINCRBYs sent, per key */
    uint64_t ctr_acked[LD_COLL_KEYS];
    uint64_t ctr_unsure[LD_COLL_KEYS];
    uint64_t sets, values, nils, incrs, getalls;
};

int ld__hash_init(struct ld_conn *c, uint32_t id)
{
    c->id = id;
    c->model = calloc(1, sizeof(struct hash_model));
    return c->model ? 0 : -1;
}

/* "<hash key>/f<i>": what a field's tagged value names as its key. */
static size_t tag_key(const struct ld_run *r, char *buf, unsigned k, unsigned f)
{
    size_t len = ld__coll_key(r, buf, 'h', k);

    len += (size_t)snprintf(buf + len, KEY_MAX + 8 - len, "/f%u", f);
    return len;
}

static void out_field(struct ld_conn *c, char kind, unsigned n)
{
    char f[24];

    f[0] = kind;
    ld__out_bulk(c, f, 1 + ld__u64_str(f + 1, n));
}

void ld__hash_issue(struct ld_conn *c)
{
    struct hash_model *m = c->model;
    struct ld_thread *t = c->t;
    unsigned k = (unsigned)(ld_rand(&t->rng) % LD_COLL_KEYS);
    unsigned f = (unsigned)(ld_rand(&t->rng) % NF), x = (unsigned)(ld_rand(&t->rng) % 100);
    struct ld_req *q;

    if (x < 35) {
        char tk[KEY_MAX + 8];
        q = ld__req_push(c, LD_K_HSET);
        q->seq = ++m->seq;
        /* release: pairs with the acquire in ld__check_tagged() */
        atomic_store_explicit(&t->run->hash_max_seq[c->id], q->seq, memory_order_release);
        /* the last key's values are 40 bytes longer: past the default
         * hash-max-listpack-value at the default --value-size, a table */
        size_t size = t->run->o->value_size + (k == LD_COLL_KEYS - 1 ? 40 : 0);
        size_t vlen = ld_tag_encode(t->scratch, t->scratch_cap, tk, tag_key(t->run, tk, k, f),
                                    c->id, q->seq, size);
        ld__coll_cmd(c, 4, "HSET", 'h', k);
        out_field(c, 'f', f);
        ld__out_bulk(c, t->scratch, vlen);
    } else if (x < 70) {
        q = ld__req_push(c, LD_K_HGET);
        q->seq = m->own[k][f];
        ld__coll_cmd(c, 3, "HGET", 'h', k);
        out_field(c, 'f', f);
    } else if (x < 95) {
        q = ld__req_push(c, LD_K_HINCRBY);
        q->seq = ++m->ctr_sent[k];       /* the reply it must get */
        ld__coll_cmd(c, 4, "HINCRBY", 'h', k);
        out_field(c, 'c', c->id);
        ld__out_bulk(c, "1", 1);
    } else {
        q = ld__req_push(c, LD_K_HGETALL);
        q->seq = m->ctr_sent[k];         /* its counter as the HGETALL must see it */
        ld__coll_cmd(c, 2, "HGETALL", 'h', k);
    }
    q->keys[0] = k;
    q->keys[1] = f;
}

void ld__hash_unsure(struct ld_conn *c, const struct ld_req *q)
{
    struct hash_model *m = c->model;

    if (q->kind == LD_K_HINCRBY)
        m->ctr_unsure[q->keys[0]]++;
    else if (q->kind == LD_K_HGET || q->kind == LD_K_HGETALL)
        c->t->st.unsure_keys++;
}

/* A field's value as read: nil, or a tagged value of that very field. */
static void check_value(struct ld_conn *c, const char *cmd, unsigned k, unsigned f,
                        const char *val, size_t len, uint64_t own_min)
{
    char tk[KEY_MAX + 8];
    struct ld_run *r = c->t->run;

    ((struct hash_model *)c->model)->values++;
    ld__check_tagged(c, LD_CHK_HASH, cmd, tk, tag_key(r, tk, k, f), val, len,
                     r->hash_max_seq, r->nhash, own_min);
}

/* "<letter><decimal>" below `limit`: the number, else -1. */
static long field_num(const char *s, size_t len, char letter, unsigned limit)
{
    char *end;

    if (len < 2 || len > 12 || s[0] != letter || s[1] < '0' || s[1] > '9')
        return -1;
    unsigned long v = strtoul(s + 1, &end, 10);
    return end == s + len && v < limit ? (long)v : -1;
}

static void check_counter(struct ld_conn *c, const struct ld_req *q, long id,
                          const redisReply *v, char *key)
{
    struct ld_run *r = c->t->run;
    char *end = NULL;
    long long n = v->type == REDIS_REPLY_STRING ? strtoll(v->str, &end, 10) : -1;

    if (end == NULL || *end != '\0' || n < 0)
        ld__fail(r, LD_CHK_HASH, "HGETALL %s: expected a count in field c%ld, got type %d",
                 key, id, v->type);
    else if (id == (long)c->id && (uint64_t)n != q->seq)
        ld__fail(r, LD_CHK_HASH, "HGETALL %s: expected this client's counter c%ld = %llu "
                 "(its HINCRBYs sent before), got %lld", key, id,
                 (unsigned long long)q->seq, n);
}

static void on_getall(struct ld_conn *c, const struct ld_req *q, const redisReply *rep)
{
    struct ld_run *r = c->t->run;
    uint64_t seen_f = 0;
    unsigned char *seen_c = calloc(r->nhash, 1);
    bool own = false;
    char key[KEY_MAX];

    ld__coll_key(r, key, 'h', q->keys[0]);
    if (seen_c == NULL || rep->elements % 2 != 0) {
        free(seen_c);
        ld__reply_unexpected(c, q, rep);
        return;
    }
    ((struct hash_model *)c->model)->getalls++;
    for (size_t i = 0; i < rep->elements; i += 2) {
        const redisReply *f = rep->element[i], *v = rep->element[i + 1];
        long n;
        if (f->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING) {
            ld__fail(r, LD_CHK_HASH, "HGETALL %s: expected field, value strings, got "
                     "types %d, %d", key, f->type, v->type);
        } else if ((n = field_num(f->str, f->len, 'f', NF)) >= 0 && !(seen_f >> n & 1)) {
            seen_f |= 1ull << n;
            check_value(c, "HGETALL", q->keys[0], (unsigned)n, v->str, v->len, 0);
        } else if ((n = field_num(f->str, f->len, 'c', r->nhash)) >= 0 && !seen_c[n]) {
            seen_c[n] = 1;
            own |= n == (long)c->id;
            check_counter(c, q, n, v, key);
        } else if (!(f->len == 6 && memcmp(f->str, "anchor", 6) == 0)) {
            char ex[80];
            ld_excerpt(ex, sizeof(ex), f->str, f->len, 40);
            ld__fail(r, LD_CHK_HASH, "HGETALL %s: expected fields f0..f%d, c0..c%u and "
                     "anchor, each once, got '%s'", key, NF - 1, r->nhash - 1, ex);
        }
    }
    if (!own && q->seq > 0)
        ld__fail(r, LD_CHK_HASH, "HGETALL %s: expected this client's counter c%u = %llu, "
                 "got no such field", key, c->id, (unsigned long long)q->seq);
    free(seen_c);
}

void ld__hash_reply(struct ld_conn *c, const struct ld_req *q, const redisReply *rep)
{
    struct hash_model *m = c->model;
    struct ld_run *r = c->t->run;
    unsigned k = q->keys[0];
    char key[KEY_MAX];

    if (rep->type == REDIS_REPLY_ERROR) {
        ld__coll_error(c, q, rep);
        return;
    }
    switch (q->kind) {
    case LD_K_HSET:
        if (rep->type != REDIS_REPLY_INTEGER || rep->integer < 0 || rep->integer > 1)
            break;
        m->own[k][q->keys[1]] = q->seq;
        m->sets++;
        return;
    case LD_K_HGET:
        c->t->st.coll_hits++;                 /* the key always exists: anchor */
        if (rep->type == REDIS_REPLY_NIL)
            m->nils++;
        else if (rep->type == REDIS_REPLY_STRING)
            check_value(c, "HGET", k, q->keys[1], rep->str, rep->len, q->seq);
        else
            ld__reply_unexpected(c, q, rep);
        return;
    case LD_K_HINCRBY:
        if (rep->type != REDIS_REPLY_INTEGER)
            break;
        if ((uint64_t)rep->integer != q->seq) {
            ld__coll_key(r, key, 'h', k);
            ld__fail(r, LD_CHK_HASH, "HINCRBY %s c%u (this client's own counter): "
                     "expected %llu, got %lld", key, c->id, (unsigned long long)q->seq,
                     rep->integer);
        }
        m->ctr_acked[k]++;
        m->incrs++;
        return;
    case LD_K_HGETALL:
        c->t->st.coll_hits++;
        if (rep->type != REDIS_REPLY_ARRAY)
            break;
        on_getall(c, q, rep);
        return;
    default:
        return;
    }
    ld__reply_unexpected(c, q, rep);
}

/* ---- the end of the run: every counter equals its acknowledged HINCRBYs ---- */

static int final_key(struct ld_run *r, struct ld_ctl *k, unsigned n,
                     const struct hash_model *const *models, uint64_t *wrong)
{
    char key[KEY_MAX], err[LD_LINE];
    const char *argv[] = { "HGETALL", key };
    redisReply *rep;

    ld__coll_key(r, key, 'h', n);
    if (k == NULL || (rep = ld__ctl_cmd(k, err, sizeof(err), 2, argv)) == NULL)
        return -1;
    r->ctl_commands++;
    r->ctl_hits++;
    for (unsigned id = 0; id < r->nhash; id++) {
        uint64_t lo = models[id]->ctr_acked[n], hi = lo + models[id]->ctr_unsure[n];
        long long got = 0;
        char want[16];
        snprintf(want, sizeof(want), "c%u", id);
        for (size_t i = 0; rep->type == REDIS_REPLY_ARRAY && i + 1 < rep->elements; i += 2)
            if (rep->element[i]->type == REDIS_REPLY_STRING &&
                strcmp(rep->element[i]->str, want) == 0)
                got = rep->element[i + 1]->type == REDIS_REPLY_STRING
                      ? strtoll(rep->element[i + 1]->str, NULL, 10) : -1;
        if (got < 0 || (uint64_t)got < lo || (uint64_t)got > hi) {
            (*wrong)++;
            ld__fail(r, LD_CHK_HASH, "counter %s c%u: expected %llu%s (HINCRBYs acknowledged), "
                     "got %lld", key, id, (unsigned long long)lo, hi > lo ? "+unanswered" : "",
                     got);
        }
    }
    freeReplyObject(rep);
    return 0;
}

void ld__hash_final(struct ld_run *r, struct ld_ctl *k)
{
    const struct hash_model **models = calloc(r->nhash, sizeof(*models));
    struct hash_model sum = { 0 };
    uint64_t wrong = 0;

    if (models == NULL)
        return;
    for (unsigned i = 0; i < r->o->threads; i++)
        for (unsigned j = 0; j < r->threads[i].nconns; j++) {
            const struct ld_conn *c = &r->threads[i].conns[j];
            const struct hash_model *m = c->model;
            if (c->kind != LD_CONN_HASH)
                continue;
            models[c->id] = m;
            sum.sets += m->sets;
            sum.values += m->values;
            sum.nils += m->nils;
            sum.incrs += m->incrs;
            sum.getalls += m->getalls;
        }
    for (unsigned n = 0; n < LD_COLL_KEYS; n++)
        if (final_key(r, k, n, models, &wrong) < 0) {
            ld__skip(r, LD_CHK_HASH, "could not read the hashes at the end");
            break;
        }
    snprintf(r->chk[LD_CHK_HASH].detail, sizeof(r->chk[LD_CHK_HASH].detail),
             "%u clients, %d hashes: %llu HSETs, %llu values verified (+%llu nil), "
             "%llu HGETALLs, %llu HINCRBYs acknowledged, %s", r->nhash, LD_COLL_KEYS,
             (unsigned long long)sum.sets, (unsigned long long)sum.values,
             (unsigned long long)sum.nils, (unsigned long long)sum.getalls,
             (unsigned long long)sum.incrs,
             wrong ? "counters wrong at the end" : "every counter exact at the end");
    free(models);
}
