/*
 * The workload: GET/SET/INCR/DEL/MGET in the --ratio mix, and the checks
 * that ride on their replies (tagged values, INCR sequences).
 *
 * Keys: <prefix>:k:<n> hold tagged values (GET, SET, DEL, MGET);
 * <prefix>:c:<i> are the shared counters every client INCRs,
 * <prefix>:c:p<id> a client's own counter. INCR never touches a tagged
 * key, so the two checkers cannot disturb each other.
 *
 * What a read can prove, with several writers racing on a key: the value
 * is nil or an intact value *of this key*, written by a writer of this run
 * with a seq that writer really sent. One more check is safe: a client
 * that had its own SET of seq s acknowledged before it sent a GET must not
 * read back one of its own older values (the "own" cache in the
 * connection remembers the last acknowledged SET for a few keys).
 *
 * Context: the connection's client thread.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ld_int.h"

size_t ld__key(const struct ld_run *r, char *buf, char kind, uint64_t n)
{
    size_t plen = strlen(r->o->prefix), len;

    memcpy(buf, r->o->prefix, plen);
    len = plen;
    buf[len++] = ':';
    buf[len++] = kind == 'k' || kind == 'q' || kind == 'y' || kind == 'x' || kind == 'w'
               ? kind : 'c';
    buf[len++] = ':';
    if (kind == 'p')
        buf[len++] = 'p';
    len += ld__u64_str(buf + len, n);
    buf[len] = '\0';
    return len;
}

static enum ld_op choose_op(struct ld_thread *t)
{
    const unsigned *w = t->run->o->ratio;
    unsigned sum = 0, x;

    for (int i = 0; i < LD_NOPS; i++)
        sum += w[i];
    x = (unsigned)(ld_rand(&t->rng) % sum);
    for (int i = 0; i < LD_NOPS; i++) {
        if (x < w[i])
            return (enum ld_op)i;
        x -= w[i];
    }
    return LD_GET;
}

static void out_key(struct ld_conn *c, char kind, uint64_t n)
{
    char key[LD_PREFIX_MAX + 32];

    ld__out_bulk(c, key, ld__key(c->t->run, key, kind, n));
}

static void out_cmd(struct ld_conn *c, unsigned argc, const char *name)
{
    ld__out_array(c, argc);
    ld__out_bulk(c, name, strlen(name));
}

void ld__load_issue(struct ld_conn *c)
{
    struct ld_thread *t = c->t;
    struct ld_run *r = t->run;
    enum ld_op op;
    struct ld_req *q;
    uint32_t key;
    char kbuf[LD_PREFIX_MAX + 32];
    size_t klen, vlen;

    if (c->budget != UINT64_MAX)
        c->budget--;
    if (r->o->bench != LD_BENCH_MIX) {
        ld__bench_issue(c);
        return;
    }
    op = choose_op(t);
    q = ld__req_push(c, (uint8_t)op);
    key = (uint32_t)ld_dist_next(&r->dist, &t->rng);
    q->keys[0] = key;
    switch (op) {
    case LD_GET:
        /* the last own SET of this key acknowledged before this GET */
        if (c->own[key % LD_OWN_CACHE].key == key)
            q->seq = c->own[key % LD_OWN_CACHE].seq;
        out_cmd(c, 2, "GET");
        out_key(c, 'k', key);
        break;
    case LD_SET:
        q->seq = ++c->seq;
        /* release: pairs with the acquire in check_writer() */
        atomic_store_explicit(&r->max_seq[c->id], q->seq, memory_order_release);
        klen = ld__key(r, kbuf, 'k', key);
        vlen = ld_tag_encode(t->scratch, t->scratch_cap, kbuf, klen, c->id, q->seq,
                             r->o->value_size);
        out_cmd(c, 3, "SET");
        ld__out_bulk(c, kbuf, klen);
        ld__out_bulk(c, t->scratch, vlen);
        break;
    case LD_INCR:
        out_cmd(c, 2, "INCR");
        if (ld_rand(&t->rng) & 1) {
            q->counter = LD_PRIVATE;
            out_key(c, 'p', c->id);
        } else {
            q->counter = (uint32_t)(ld_rand(&t->rng) % r->o->counters);
            out_key(c, 'c', q->counter);
        }
        break;
    case LD_DEL:
        out_cmd(c, 2, "DEL");
        out_key(c, 'k', key);
        break;
    case LD_MGET:
        q->nkeys = (uint8_t)r->o->mget_keys;
        out_cmd(c, 1 + q->nkeys, "MGET");
        for (unsigned i = 0; i < q->nkeys; i++) {
            if (i > 0)
                q->keys[i] = (uint32_t)ld_dist_next(&r->dist, &t->rng);
            out_key(c, 'k', q->keys[i]);
        }
        break;
    case LD_NOPS:
        break;
    }
}

void ld__load_unsure(struct ld_conn *c, const struct ld_req *q)
{
    struct ld_tstats *st = &c->t->st;

    if (q->kind == LD_INCR) {
        if (q->counter == LD_PRIVATE)
            c->priv_unsure++;
        else
            st->incr_unsure[q->counter]++;
    } else if (q->kind == LD_GET) {
        st->unsure_keys++;
    } else if (q->kind == LD_MGET) {
        st->unsure_keys += q->nkeys;
    }
}

void ld__reply_error(struct ld_conn *c, const struct ld_req *q, const redisReply *rep,
                     const char *key)
{
    char kind[64];
    size_t w = strcspn(rep->str, " ");

    snprintf(kind, sizeof(kind), "%.*s (%s)", (int)(w < 24 ? w : 24), rep->str,
             ld__kind_name(q->kind));
    atomic_fetch_add_explicit(&c->t->run->errors, 1, memory_order_relaxed);
    ld__error(c->t->run, kind, "%s %s: %s", ld__kind_name(q->kind), key, rep->str);
}

static void error_reply(struct ld_conn *c, const struct ld_req *q, const redisReply *rep)
{
    char key[LD_PREFIX_MAX + 32];

    if (q->kind == LD_INCR)
        ld__key(c->t->run, key, q->counter == LD_PRIVATE ? 'p' : 'c',
                q->counter == LD_PRIVATE ? c->id : q->counter);
    else
        ld__key(c->t->run, key, 'k', q->keys[0]);
    ld__reply_error(c, q, rep, key);
}

bool ld__reply_double(const redisReply *e, double *d)
{
    char buf[64], *end;

    if (e->type != REDIS_REPLY_STRING || e->len == 0 || e->len >= sizeof(buf))
        return false;
    memcpy(buf, e->str, e->len);
    buf[e->len] = '\0';
    *d = strtod(buf, &end);
    return *end == '\0';
}

void ld__reply_unexpected(struct ld_conn *c, const struct ld_req *q, const redisReply *rep)
{
    char ex[80];

    ld_excerpt(ex, sizeof(ex), rep->str != NULL ? rep->str : "",
               rep->str != NULL ? rep->len : 0, 40);
    ld__conn_lost(c, "unexpected reply", "%s answered with reply type %d (%lld '%s')",
                  ld__kind_name(q->kind), rep->type, rep->integer, ex);
}

/* The value read names a writer and a seq: did this run write them? */
static void check_writer(struct ld_conn *c, enum ld_check chk, const char *cmd,
                         const char *key, const struct ld_tag_info *in,
                         _Atomic uint64_t *max_seq, uint32_t nwriters, uint64_t own_min)
{
    struct ld_run *r = c->t->run;
    uint64_t max;

    if (in->writer >= nwriters) {
        ld__fail(r, chk, "%s %s: expected a writer of this run (0..%u), got writer %u "
                 "seq %llu", cmd, key, nwriters - 1, in->writer, (unsigned long long)in->seq);
        return;
    }
    /* acquire: pairs with the release before the value's SET/HSET was sent */
    max = atomic_load_explicit(&max_seq[in->writer], memory_order_acquire);
    if (in->seq == 0 || in->seq > max)
        ld__fail(r, chk, "%s %s: expected a seq writer %u sent (1..%llu), got seq %llu",
                 cmd, key, in->writer, (unsigned long long)max, (unsigned long long)in->seq);
    else if (in->writer == c->id && in->seq < own_min)
        ld__fail(r, chk, "%s %s: expected this client's seq %llu or a newer value "
                 "(acknowledged before the %s), got its older seq %llu", cmd, key,
                 (unsigned long long)own_min, cmd, (unsigned long long)in->seq);
}

void ld__check_tagged(struct ld_conn *c, enum ld_check chk, const char *cmd,
                      const char *key, size_t klen, const char *val, size_t len,
                      _Atomic uint64_t *max_seq, uint32_t nwriters, uint64_t own_min)
{
    struct ld_run *r = c->t->run;
    struct ld_tag_info in;
    char ex[160], other[80];
    enum ld_tag_status st = ld_tag_verify(val, len, key, klen, &in);

    if (st == LD_TAG_OK) {
        check_writer(c, chk, cmd, key, &in, max_seq, nwriters, own_min);
        return;
    }
    ld_excerpt(ex, sizeof(ex), val, len, 48);
    if (st == LD_TAG_WRONG_KEY) {
        ld_excerpt(other, sizeof(other), in.other_key, in.other_key_len, 64);
        ld__fail(r, chk, "%s %s: expected a value of %s or nil, got a value of %s "
                 "(cross-talk): '%s'", cmd, key, key, other, ex);
    } else {
        ld__fail(r, chk, "%s %s: expected an intact tagged value or nil, got %zu bytes, "
                 "%s: '%s'", cmd, key, len, ld_tag_status_str(st), ex);
    }
}

/* A GET or MGET element; returns 0 or -1 when the reply type is wrong. */
static int check_read(struct ld_conn *c, const struct ld_req *q, uint32_t keyn,
                      const redisReply *v)
{
    struct ld_run *r = c->t->run;
    char key[LD_PREFIX_MAX + 32];
    size_t klen;

    if (v->type == REDIS_REPLY_NIL) {
        c->t->st.misses++;
        return 0;
    }
    if (v->type != REDIS_REPLY_STRING)
        return -1;
    c->t->st.hits++;
    if (!ld__on(r, LD_CHK_TAGGED))
        return 0;
    klen = ld__key(r, key, 'k', keyn);
    /* writers: the clients, and the filler (nload); own writes matter to GET */
    ld__check_tagged(c, LD_CHK_TAGGED, ld__kind_name(q->kind), key, klen, v->str, v->len,
                     r->max_seq, r->nload + 1, q->kind == LD_GET ? q->seq : 0);
    return 0;
}

/* Keep a reply for the counter checker's duplicate count (final.c); past
 * the cap, or out of memory, the rest are not kept (fewer found, none
 * made up). */
static void seen_add(struct ld_vals *s, int64_t v)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 4096;
        int64_t *nv;
        if (cap > LD_INCR_SEEN_MAX || (nv = realloc(s->v, cap * sizeof(*nv))) == NULL)
            return;
        s->v = nv;
        s->cap = cap;
    }
    s->v[s->n++] = v;
}

static void on_incr(struct ld_conn *c, const struct ld_req *q, long long v)
{
    struct ld_run *r = c->t->run;
    char key[LD_PREFIX_MAX + 32];

    if (q->counter == LD_PRIVATE) {
        /* only this client touches it, in order: each reply is the next */
        if (ld__on(r, LD_CHK_COUNTER) && v != c->priv_last + 1) {
            ld__key(r, key, 'p', c->id);
            ld__fail(r, LD_CHK_COUNTER, "INCR %s (this client's own counter): "
                     "expected %lld, got %lld", key, (long long)c->priv_last + 1, v);
        }
        c->priv_last = v;
        c->priv_acked++;
        return;
    }
    if (ld__on(r, LD_CHK_COUNTER) && v <= c->shared_last[q->counter]) {
        ld__key(r, key, 'c', q->counter);
        ld__fail(r, LD_CHK_COUNTER, "INCR %s: expected more than this client's previous "
                 "reply %lld, got %lld", key, (long long)c->shared_last[q->counter], v);
    }
    c->shared_last[q->counter] = v;
    c->t->st.incr_acked[q->counter]++;
    if (ld__on(r, LD_CHK_COUNTER))
        seen_add(&c->t->st.incr_seen[q->counter], v);
}

static void own_written(struct ld_conn *c, uint32_t key, uint64_t seq)
{
    c->own[key % LD_OWN_CACHE].key = key;
    c->own[key % LD_OWN_CACHE].seq = seq;
}

void ld__load_reply(struct ld_conn *c, const struct ld_req *q, const redisReply *rep)
{
    if (q->kind >= LD_NOPS) {
        ld__bench_reply(c, q, rep);
        return;
    }
    if (rep->type == REDIS_REPLY_ERROR) {
        error_reply(c, q, rep);
        return;
    }
    switch ((enum ld_op)q->kind) {
    case LD_GET:
        if (check_read(c, q, q->keys[0], rep) < 0)
            ld__reply_unexpected(c, q, rep);
        return;
    case LD_SET:
        if (rep->type != REDIS_REPLY_STATUS || strcmp(rep->str, "OK") != 0)
            ld__reply_unexpected(c, q, rep);
        else
            own_written(c, q->keys[0], q->seq);
        return;
    case LD_INCR:
        if (rep->type != REDIS_REPLY_INTEGER)
            ld__reply_unexpected(c, q, rep);
        else
            on_incr(c, q, rep->integer);
        return;
    case LD_DEL:
        if (rep->type != REDIS_REPLY_INTEGER || rep->integer < 0 || rep->integer > 1)
            ld__reply_unexpected(c, q, rep);
        return;
    case LD_MGET:
        if (rep->type != REDIS_REPLY_ARRAY || rep->elements != q->nkeys) {
            ld__reply_unexpected(c, q, rep);
            return;
        }
        for (unsigned i = 0; i < q->nkeys; i++)
            if (check_read(c, q, q->keys[i], rep->element[i]) < 0) {
                ld__reply_unexpected(c, q, rep->element[i]);
                return;
            }
        return;
    case LD_NOPS:
        break;
    }
}
