/*
 * queue: the list checker, and the same check for sorted sets (the zset
 * checker's ZPOPMIN part). On each client thread one producer pushes
 * tagged elements (writer = the producer, seq = 0, 1, 2, ...) to the
 * queue keys <prefix>:q:0 and :1 (a sorted set's: :y:), seq s of
 * producer p to key (s + p) % 2, and two consumers take them, one
 * without blocking, one blocking (50 ms timeout):
 *
 *   list        LPUSH key elem; RPOP key / BRPOP key 0.05 (the tail:
 *               the oldest first)
 *   sorted set  ZADD key seq elem; ZPOPMIN key / BZPOPMIN key 0.05 (the
 *               lowest score: per producer the oldest first)
 *
 * Every element popped must be an intact tagged element of the key it
 * came from, pushed by a producer of this run (a seq it sent; a sorted
 * set's with its seq as its score), popped once (a second pop of it is
 * a duplicate), and, per consumer, the elements of one producer and key
 * come out in the order pushed. At the end each key is read back
 * (LRANGE / ZRANGE WITHSCORES): what is left must be elements never
 * popped, in the order pushed per producer, all newer than every popped
 * one of that producer and key; and every acknowledged push must have
 * been popped or be left (else it was lost). Pops sent but never
 * answered (a lost connection) may have taken an element: that many
 * missing ones are excused.
 *
 * Context: producers and consumers on their client threads; init, free
 * and the final check on main (final after the threads are joined).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ld_int.h"

#define BPOP_TIMEOUT "0.05"
#define EMPTY_PAUSE_NS 1000000ull    /* a pop that found nothing: 1 ms */

/* What differs between the two queues. */
static const struct qspec {
    enum ld_check chk;
    char key;                        /* the keys' kind letter (ld__key) */
    const char *push, *pop, *bpop, *range;
    uint8_t kpush, kpop, kbpop;
    bool scored;                     /* a sorted set: scores are the seqs */
} specs[LD_NQUEUES] = {
    [LD_Q_LIST] = {LD_CHK_QUEUE, 'q', "LPUSH", "RPOP", "BRPOP", "LRANGE",
                   LD_K_LPUSH, LD_K_RPOP, LD_K_BRPOP, false},
    [LD_Q_ZSET] = {LD_CHK_ZSET, 'y', "ZADD", "ZPOPMIN", "BZPOPMIN", "ZRANGE",
                   LD_K_ZQADD, LD_K_ZPOPMIN, LD_K_BZPOPMIN, true},
};

int ld__queue_init(struct ld_run *r, enum ld_queue which)
{
    struct ld_queue_state *qs = &r->q[which];

    qs->nprod = r->o->threads;
    qs->sent = calloc(qs->nprod, sizeof(*qs->sent));
    qs->popped = calloc((size_t)qs->nprod * LD_QUEUE_MAX, sizeof(*qs->popped));
    return qs->sent && qs->popped ? 0 : -1;
}

void ld__queue_free(struct ld_run *r)
{
    for (int w = 0; w < LD_NQUEUES; w++) {
        free(r->q[w].sent);
        free(r->q[w].popped);
    }
}

static unsigned key_of(uint32_t producer, uint64_t seq)
{
    return (unsigned)((seq + producer) % LD_QUEUE_KEYS);
}

void ld__queue_issue(struct ld_conn *c)
{
    struct ld_thread *t = c->t;
    struct ld_run *r = t->run;
    const struct qspec *sp = &specs[c->q_which];
    char key[LD_PREFIX_MAX + 32];

    if (c->kind == LD_CONN_QPUSH) {
        if (c->seq >= LD_QUEUE_MAX)
            return;   /* pushed all it may: the consumers drain */
        uint64_t seq = c->seq++;
        unsigned k = key_of(c->id, seq);
        size_t klen = ld__key(r, key, sp->key, k);
        size_t vlen = ld_tag_encode(t->scratch, t->scratch_cap, key, klen, c->id, seq, 0);
        struct ld_req *q = ld__req_push(c, sp->kpush);
        q->seq = seq;
        q->keys[0] = k;
        /* release: pairs with the acquire in check_elem() */
        atomic_store_explicit(&r->q[c->q_which].sent[c->id], seq + 1, memory_order_release);
        ld__out_array(c, sp->scored ? 4 : 3);
        ld__out_bulk(c, sp->push, strlen(sp->push));
        ld__out_bulk(c, key, klen);
        if (sp->scored)
            ld__out_u64(c, seq);
        ld__out_bulk(c, t->scratch, vlen);
        return;
    }
    unsigned k = c->q_next++ % LD_QUEUE_KEYS;
    size_t klen = ld__key(r, key, sp->key, k);
    struct ld_req *q = ld__req_push(c, c->q_block ? sp->kbpop : sp->kpop);
    const char *cmd = c->q_block ? sp->bpop : sp->pop;
    q->keys[0] = k;
    ld__out_array(c, c->q_block ? 3 : 2);
    ld__out_bulk(c, cmd, strlen(cmd));
    ld__out_bulk(c, key, klen);
    if (c->q_block)
        ld__out_bulk(c, BPOP_TIMEOUT, strlen(BPOP_TIMEOUT));
}

/* A sorted set's element's score: its seq, exactly. */
static bool score_is(const redisReply *s, uint64_t seq)
{
    double d;
    return ld__reply_double(s, &d) && d == (double)seq;
}

/* One element popped from key k: intact, pushed, once, in order (and
 * with its seq as its score: score, for a sorted set). */
static void check_elem(struct ld_conn *c, const char *cmd, unsigned k, const redisReply *v,
                       const redisReply *score)
{
    struct ld_run *r = c->t->run;
    const struct qspec *sp = &specs[c->q_which];
    struct ld_queue_state *qs = &r->q[c->q_which];
    char key[LD_PREFIX_MAX + 32], ex[80];
    size_t klen = ld__key(r, key, sp->key, k);
    struct ld_tag_info info;
    enum ld_tag_status st = ld_tag_verify(v->str, v->len, key, klen, &info);

    if (st != LD_TAG_OK) {
        ld_excerpt(ex, sizeof(ex), v->str, v->len, 60);
        ld__fail(r, sp->chk, "%s %s: %s: '%s'", cmd, key, ld_tag_status_str(st), ex);
        return;
    }
    /* acquire: pairs with the release in ld__queue_issue() */
    if (info.writer >= qs->nprod || info.seq >= LD_QUEUE_MAX ||
        info.seq >= atomic_load_explicit(&qs->sent[info.writer], memory_order_acquire) ||
        key_of(info.writer, info.seq) != k) {
        ld__fail(r, sp->chk, "%s %s: element p%u:%llu was never pushed to this key",
                 cmd, key, info.writer, (unsigned long long)info.seq);
        return;
    }
    if (score && !score_is(score, info.seq))
        ld__fail(r, sp->chk, "%s %s: element p%u:%llu came with score '%.*s', not %llu", cmd,
                 key, info.writer, (unsigned long long)info.seq,
                 (int)(score->len < 40 ? score->len : 40), score->str ? score->str : "",
                 (unsigned long long)info.seq);
    uint8_t before = atomic_fetch_add_explicit(
        &qs->popped[(size_t)info.writer * LD_QUEUE_MAX + info.seq], 1, memory_order_relaxed);
    if (before > 0)
        ld__fail(r, sp->chk, "%s: element p%u:%llu popped more than once (duplicated)",
                 key, info.writer, (unsigned long long)info.seq);
    uint64_t *last = &c->q_last[info.writer * LD_QUEUE_KEYS + k];
    if (*last != UINT64_MAX && info.seq <= *last)
        ld__fail(r, sp->chk, "%s: producer %u's element %llu came out after its "
                 "element %llu (out of the order pushed)", key, info.writer,
                 (unsigned long long)info.seq, (unsigned long long)*last);
    if (*last == UINT64_MAX || info.seq > *last)
        *last = info.seq;
}

static void unexpected(struct ld_conn *c, const struct ld_req *q, const redisReply *rep)
{
    char ex[80];

    ld_excerpt(ex, sizeof(ex), rep->str != NULL ? rep->str : "", rep->str ? rep->len : 0, 60);
    if (rep->type == REDIS_REPLY_ERROR)
        ld__error(c->t->run, ld__kind_name(q->kind), "%s: %s", ld__kind_name(q->kind), ex);
    else
        ld__fail(c->t->run, specs[c->q_which].chk, "%s: unexpected reply (type %d '%s')",
                 ld__kind_name(q->kind), rep->type, ex);
}

static bool is_str(const redisReply *e)
{
    return e->type == REDIS_REPLY_STRING;
}

void ld__queue_reply(struct ld_conn *c, const struct ld_req *q, const redisReply *rep)
{
    struct ld_tstats *st = &c->t->st;
    const struct qspec *sp = &specs[c->q_which];
    bool block = q->kind == sp->kbpop;
    const char *cmd = block ? sp->bpop : sp->pop;
    size_t at = block, n = (sp->scored ? 2 : 1) + at;   /* [key,] elem[, score] */

    if (q->kind == sp->kpush) {
        if (rep->type == REDIS_REPLY_INTEGER && rep->integer >= 1)
            c->q_acked++;
        else
            unexpected(c, q, rep);
        return;
    }
    if (rep->type == REDIS_REPLY_NIL ||
        (rep->type == REDIS_REPLY_ARRAY && rep->elements == 0 && sp->scored && !block)) {
        c->next_ns = ld__now_ns() + EMPTY_PAUSE_NS;   /* nothing there: not a busy loop */
        return;
    }
    if (!block && !sp->scored && is_str(rep)) {       /* RPOP: the element itself */
        st->q_popped[c->q_which]++;
        check_elem(c, cmd, q->keys[0], rep, NULL);
        return;
    }
    if (rep->type != REDIS_REPLY_ARRAY || rep->elements != n || !is_str(rep->element[at])) {
        unexpected(c, q, rep);
        return;
    }
    if (block) {
        char key[LD_PREFIX_MAX + 32];
        size_t klen = ld__key(c->t->run, key, sp->key, q->keys[0]);
        const redisReply *kr = rep->element[0];
        if (!is_str(kr) || kr->len != klen || memcmp(kr->str, key, klen) != 0)
            ld__fail(c->t->run, sp->chk, "%s %s answered for key '%.*s'", cmd, key,
                     (int)(kr->len < 60 ? kr->len : 60), kr->str ? kr->str : "");
        st->q_bpopped[c->q_which]++;
    } else {
        st->q_popped[c->q_which]++;
    }
    check_elem(c, cmd, q->keys[0], rep->element[at], sp->scored ? rep->element[at + 1] : NULL);
}

void ld__queue_unsure(struct ld_conn *c, const struct ld_req *q)
{
    if (q->kind == specs[c->q_which].kpush)
        c->q_unsure++;
    else
        c->t->st.q_unsure_pops[c->q_which]++;
}

/* ---- the end: what is left in the keys ----------------------------------- */

struct qfinal {
    const struct qspec *sp;
    struct ld_queue_state *qs;
    uint8_t *left;              /* [nprod * LD_QUEUE_MAX]: still in a key */
    uint64_t *min_left;         /* [nprod * keys]: oldest left, UINT64_MAX none */
    uint64_t nleft;
};

/* One key read back (a list head first, newest first; a sorted set in
 * order, oldest first per producer): each element intact, not popped,
 * and in the order pushed against the one before of its producer. */
static void read_key(struct ld_run *r, unsigned k, const redisReply *rep, struct qfinal *f)
{
    char key[LD_PREFIX_MAX + 32], ex[80];
    size_t klen = ld__key(r, key, f->sp->key, k), step = f->sp->scored ? 2 : 1;
    uint64_t *prev = malloc(f->qs->nprod * sizeof(uint64_t));

    if (prev == NULL)
        return;
    for (unsigned p = 0; p < f->qs->nprod; p++)
        prev[p] = UINT64_MAX;
    for (size_t i = 0; i + step <= rep->elements; i += step) {
        const redisReply *e = rep->element[i];
        struct ld_tag_info info;
        enum ld_tag_status st = is_str(e) ? ld_tag_verify(e->str, e->len, key, klen, &info)
                                          : LD_TAG_NOT_TAGGED;
        if (st != LD_TAG_OK || info.writer >= f->qs->nprod || info.seq >= LD_QUEUE_MAX ||
            (f->sp->scored && !score_is(rep->element[i + 1], info.seq))) {
            ld_excerpt(ex, sizeof(ex), e->str ? e->str : "", e->str ? e->len : 0, 60);
            ld__fail(r, f->sp->chk, "%s %s: element %zu: %s: '%s'", f->sp->range, key, i / step,
                     st != LD_TAG_OK ? ld_tag_status_str(st) : "not of this run or its score",
                     ex);
            continue;
        }
        size_t at = (size_t)info.writer * LD_QUEUE_MAX + info.seq;
        if (atomic_load_explicit(&f->qs->popped[at], memory_order_relaxed) || f->left[at])
            ld__fail(r, f->sp->chk, "%s: element p%u:%llu is still in the key after being "
                     "popped, or twice in it (duplicated)", key, info.writer,
                     (unsigned long long)info.seq);
        f->left[at] = 1;
        f->nleft++;
        bool out_of_order = prev[info.writer] != UINT64_MAX &&
                            (f->sp->scored ? info.seq <= prev[info.writer]
                                           : info.seq >= prev[info.writer]);
        if (out_of_order)
            ld__fail(r, f->sp->chk, "%s: producer %u's element %llu lies after its element "
                     "%llu (out of the order pushed)", key, info.writer,
                     (unsigned long long)info.seq, (unsigned long long)prev[info.writer]);
        prev[info.writer] = info.seq;
        uint64_t *m = &f->min_left[info.writer * LD_QUEUE_KEYS + k];
        if (info.seq < *m)
            *m = info.seq;
    }
    free(prev);
}

/* Acknowledged pushes neither popped nor left; popped elements newer
 * than one still left (a queue hands out the oldest first). */
static void account(struct ld_run *r, struct qfinal *f, enum ld_queue which,
                    uint64_t unsure_pops, uint64_t *pushed, uint64_t *lost)
{
    for (unsigned p = 0; p < f->qs->nprod; p++) {
        const struct ld_conn *pc = NULL;
        for (unsigned j = 0; j < r->threads[p].nconns; j++)
            if (r->threads[p].conns[j].kind == LD_CONN_QPUSH &&
                r->threads[p].conns[j].q_which == which)
                pc = &r->threads[p].conns[j];
        uint64_t acked = pc ? pc->q_acked : 0, sent = pc ? pc->seq : 0;
        *pushed += acked;
        for (uint64_t seq = 0; seq < sent; seq++) {
            size_t at = (size_t)p * LD_QUEUE_MAX + seq;
            unsigned k = key_of(p, seq);
            bool popped = atomic_load_explicit(&f->qs->popped[at], memory_order_relaxed);
            if (popped && seq > f->min_left[p * LD_QUEUE_KEYS + k])
                ld__fail(r, f->sp->chk, "element p%u:%llu was popped while the older "
                         "p%u:%llu is still in the key (out of the order pushed)", p,
                         (unsigned long long)seq, p,
                         (unsigned long long)f->min_left[p * LD_QUEUE_KEYS + k]);
            if (!popped && !f->left[at] && seq < acked) {
                ++*lost;
                if (*lost > unsure_pops)
                    ld__fail(r, f->sp->chk, "element p%u:%llu (%s acknowledged) was lost: "
                             "neither popped nor in the key", p, (unsigned long long)seq,
                             f->sp->push);
            }
        }
    }
}

void ld__queue_final(struct ld_run *r, struct ld_ctl *k, enum ld_queue which)
{
    struct qfinal f = {.sp = &specs[which], .qs = &r->q[which]};
    struct ld_checker *ck = &r->chk[f.sp->chk];
    uint64_t pushed = 0, lost = 0, popped = 0, bpopped = 0, unsure_pops = 0;
    char err[LD_LINE], key[LD_PREFIX_MAX + 32];

    f.left = calloc((size_t)f.qs->nprod * LD_QUEUE_MAX, 1);
    f.min_left = malloc(f.qs->nprod * LD_QUEUE_KEYS * sizeof(uint64_t));
    if (f.left == NULL || f.min_left == NULL)
        goto out_free;
    for (unsigned i = 0; i < f.qs->nprod * LD_QUEUE_KEYS; i++)
        f.min_left[i] = UINT64_MAX;
    for (unsigned i = 0; i < r->o->threads; i++) {
        popped += r->threads[i].st.q_popped[which];
        bpopped += r->threads[i].st.q_bpopped[which];
        unsure_pops += r->threads[i].st.q_unsure_pops[which];
    }
    for (unsigned q = 0; q < LD_QUEUE_KEYS; q++) {
        const char *argv[5] = { f.sp->range, key, "0", "-1", "WITHSCORES" };
        ld__key(r, key, f.sp->key, q);
        redisReply *rep = k != NULL ? ld__ctl_cmd(k, err, sizeof(err), f.sp->scored ? 5 : 4,
                                                  argv) : NULL;
        if (rep == NULL || rep->type != REDIS_REPLY_ARRAY) {
            ld__skip(r, f.sp->chk, "could not read %s at the end: %s", key,
                     rep == NULL ? (k ? err : "no control connection")
                     : rep->type == REDIS_REPLY_ERROR ? rep->str : "not an array");
            if (rep)
                freeReplyObject(rep);
            goto out_free;
        }
        r->ctl_commands++;   /* a read: a hit or a miss, as Redis counts it */
        if (rep->elements)
            r->ctl_hits++;
        else
            r->ctl_misses++;
        read_key(r, q, rep, &f);
        freeReplyObject(rep);
    }
    account(r, &f, which, unsure_pops, &pushed, &lost);
    if (lost <= unsure_pops)
        lost = 0;
    char part[LD_LINE / 2 - 2], before[LD_LINE / 2];
    snprintf(part, sizeof(part), "%llu pushes acknowledged by %u producers, %llu popped "
             "(%llu by %s, %llu by %s), %llu left%s%s", (unsigned long long)pushed,
             f.qs->nprod, (unsigned long long)(popped + bpopped), (unsigned long long)popped,
             f.sp->pop, (unsigned long long)bpopped, f.sp->bpop, (unsigned long long)f.nleft,
             lost ? "; lost: " : "", lost ? "see below" : "");
    /* the zset checker's own part of the detail comes first */
    snprintf(before, sizeof(before), "%.*s", (int)sizeof(before) - 1, ck->detail);   /* cut */
    snprintf(ck->detail, sizeof(ck->detail), "%s%s%s", before, before[0] ? "; " : "", part);
out_free:
    free(f.left);
    free(f.min_left);
}
