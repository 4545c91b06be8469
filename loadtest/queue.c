/*
 * queue: the list checker. On each client thread one producer LPUSHes
 * tagged elements (writer = the producer, seq = 0, 1, 2, ...) to the
 * queue keys <prefix>:q:0 and :1 (seq s of producer p goes to key
 * (s + p) % 2), and two consumers take them from the other end, one with
 * RPOP, one with BRPOP (50 ms timeout).
 *
 * Every element popped must be an intact tagged element of the key it
 * came from, pushed by a producer of this run (a seq it sent), popped
 * once (a second pop of it is a duplicate), and, per consumer, the
 * elements of one producer and key come out in the order pushed (a
 * queue hands out the oldest first). At the end each list is read back
 * (LRANGE): what is left must be elements never popped, newest first
 * per producer, all newer than every popped one of that producer and
 * key; and every acknowledged push must have been popped or be left
 * (else it was lost). Pops sent but never answered (a lost connection)
 * may have taken an element: that many missing ones are excused.
 *
 * Context: producers and consumers on their client threads; init, free
 * and the final check on main (final after the threads are joined).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ld_int.h"

#define BRPOP_TIMEOUT "0.05"
#define EMPTY_PAUSE_NS 1000000ull    /* a pop that found nothing: 1 ms */

int ld__queue_init(struct ld_run *r)
{
    r->q_nprod = r->o->threads;
    r->q_sent = calloc(r->q_nprod, sizeof(*r->q_sent));
    r->q_popped = calloc((size_t)r->q_nprod * LD_QUEUE_MAX, sizeof(*r->q_popped));
    return r->q_sent && r->q_popped ? 0 : -1;
}

void ld__queue_free(struct ld_run *r)
{
    free(r->q_sent);
    free(r->q_popped);
}

static unsigned key_of(uint32_t producer, uint64_t seq)
{
    return (unsigned)((seq + producer) % LD_QUEUE_KEYS);
}

void ld__queue_issue(struct ld_conn *c)
{
    struct ld_thread *t = c->t;
    struct ld_run *r = t->run;
    char key[LD_PREFIX_MAX + 32];

    if (c->kind == LD_CONN_QPUSH) {
        if (c->seq >= LD_QUEUE_MAX)
            return;   /* pushed all it may: the consumers drain */
        uint64_t seq = c->seq++;
        unsigned k = key_of(c->id, seq);
        size_t klen = ld__key(r, key, 'q', k);
        size_t vlen = ld_tag_encode(t->scratch, t->scratch_cap, key, klen, c->id, seq, 0);
        struct ld_req *q = ld__req_push(c, LD_K_LPUSH);
        q->seq = seq;
        q->keys[0] = k;
        /* release: pairs with the acquire in check_elem() */
        atomic_store_explicit(&r->q_sent[c->id], seq + 1, memory_order_release);
        ld__out_array(c, 3);
        ld__out_bulk(c, "LPUSH", 5);
        ld__out_bulk(c, key, klen);
        ld__out_bulk(c, t->scratch, vlen);
        return;
    }
    unsigned k = c->q_next++ % LD_QUEUE_KEYS;
    size_t klen = ld__key(r, key, 'q', k);
    struct ld_req *q = ld__req_push(c, c->q_block ? LD_K_BRPOP : LD_K_RPOP);
    q->keys[0] = k;
    ld__out_array(c, c->q_block ? 3 : 2);
    ld__out_bulk(c, c->q_block ? "BRPOP" : "RPOP", c->q_block ? 5 : 4);
    ld__out_bulk(c, key, klen);
    if (c->q_block)
        ld__out_bulk(c, BRPOP_TIMEOUT, strlen(BRPOP_TIMEOUT));
}

/* One element popped from key k: intact, pushed, once, in order. */
static void check_elem(struct ld_conn *c, const char *cmd, unsigned k, const char *v,
                       size_t len)
{
    struct ld_run *r = c->t->run;
    char key[LD_PREFIX_MAX + 32], ex[80];
    size_t klen = ld__key(r, key, 'q', k);
    struct ld_tag_info info;
    enum ld_tag_status st = ld_tag_verify(v, len, key, klen, &info);

    if (st != LD_TAG_OK) {
        ld_excerpt(ex, sizeof(ex), v, len, 60);
        ld__fail(r, LD_CHK_QUEUE, "%s %s: %s: '%s'", cmd, key, ld_tag_status_str(st), ex);
        return;
    }
    /* acquire: pairs with the release in ld__queue_issue() */
    if (info.writer >= r->q_nprod || info.seq >= LD_QUEUE_MAX ||
        info.seq >= atomic_load_explicit(&r->q_sent[info.writer], memory_order_acquire) ||
        key_of(info.writer, info.seq) != k) {
        ld__fail(r, LD_CHK_QUEUE, "%s %s: element p%u:%llu was never pushed to this key",
                 cmd, key, info.writer, (unsigned long long)info.seq);
        return;
    }
    uint8_t before = atomic_fetch_add_explicit(
        &r->q_popped[(size_t)info.writer * LD_QUEUE_MAX + info.seq], 1, memory_order_relaxed);
    if (before > 0)
        ld__fail(r, LD_CHK_QUEUE, "%s: element p%u:%llu popped more than once (duplicated)",
                 key, info.writer, (unsigned long long)info.seq);
    uint64_t *last = &c->q_last[info.writer * LD_QUEUE_KEYS + k];
    if (*last != UINT64_MAX && info.seq <= *last)
        ld__fail(r, LD_CHK_QUEUE, "%s: producer %u's element %llu came out after its "
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
        ld__fail(c->t->run, LD_CHK_QUEUE, "%s: unexpected reply (type %d '%s')",
                 ld__kind_name(q->kind), rep->type, ex);
}

void ld__queue_reply(struct ld_conn *c, const struct ld_req *q, const redisReply *rep)
{
    struct ld_tstats *st = &c->t->st;

    if (q->kind == LD_K_LPUSH) {
        if (rep->type == REDIS_REPLY_INTEGER && rep->integer >= 1)
            c->q_acked++;
        else
            unexpected(c, q, rep);
        return;
    }
    if (rep->type == REDIS_REPLY_NIL) {
        c->next_ns = ld__now_ns() + EMPTY_PAUSE_NS;   /* nothing there: not a busy loop */
        return;
    }
    if (q->kind == LD_K_RPOP && rep->type == REDIS_REPLY_STRING) {
        st->q_popped++;
        check_elem(c, "RPOP", q->keys[0], rep->str, rep->len);
        return;
    }
    if (q->kind == LD_K_BRPOP && rep->type == REDIS_REPLY_ARRAY && rep->elements == 2 &&
        rep->element[0]->type == REDIS_REPLY_STRING &&
        rep->element[1]->type == REDIS_REPLY_STRING) {
        char key[LD_PREFIX_MAX + 32];
        size_t klen = ld__key(c->t->run, key, 'q', q->keys[0]);
        if (rep->element[0]->len != klen || memcmp(rep->element[0]->str, key, klen) != 0)
            ld__fail(c->t->run, LD_CHK_QUEUE, "BRPOP %s answered for key '%.*s'", key,
                     (int)(rep->element[0]->len < 60 ? rep->element[0]->len : 60),
                     rep->element[0]->str);
        st->q_bpopped++;
        check_elem(c, "BRPOP", q->keys[0], rep->element[1]->str, rep->element[1]->len);
        return;
    }
    unexpected(c, q, rep);
}

void ld__queue_unsure(struct ld_conn *c, const struct ld_req *q)
{
    if (q->kind == LD_K_LPUSH)
        c->q_unsure++;
    else
        c->t->st.q_unsure_pops++;
}

/* ---- the end: what is left in the lists ---------------------------------- */

struct qfinal {
    uint8_t *left;              /* [nprod * LD_QUEUE_MAX]: still in a list */
    uint64_t *min_left;         /* [nprod * keys]: oldest left, UINT64_MAX none */
    uint64_t nleft;
};

/* One list, head first (newest first): each element intact, not popped,
 * and newer than the one after it of the same producer. */
static void read_list(struct ld_run *r, unsigned k, const redisReply *rep, struct qfinal *f)
{
    char key[LD_PREFIX_MAX + 32], ex[80];
    size_t klen = ld__key(r, key, 'q', k);
    uint64_t *prev = malloc(r->q_nprod * sizeof(uint64_t));

    if (prev == NULL)
        return;
    for (unsigned p = 0; p < r->q_nprod; p++)
        prev[p] = UINT64_MAX;
    for (size_t i = 0; i < rep->elements; i++) {
        const redisReply *e = rep->element[i];
        struct ld_tag_info info;
        enum ld_tag_status st = e->type == REDIS_REPLY_STRING
            ? ld_tag_verify(e->str, e->len, key, klen, &info) : LD_TAG_NOT_TAGGED;
        if (st != LD_TAG_OK || info.writer >= r->q_nprod || info.seq >= LD_QUEUE_MAX) {
            ld_excerpt(ex, sizeof(ex), e->str ? e->str : "", e->str ? e->len : 0, 60);
            ld__fail(r, LD_CHK_QUEUE, "LRANGE %s: element %zu: %s: '%s'", key, i,
                     st != LD_TAG_OK ? ld_tag_status_str(st) : "not of this run", ex);
            continue;
        }
        size_t at = (size_t)info.writer * LD_QUEUE_MAX + info.seq;
        if (atomic_load_explicit(&r->q_popped[at], memory_order_relaxed) || f->left[at])
            ld__fail(r, LD_CHK_QUEUE, "%s: element p%u:%llu is still in the list after "
                     "being popped, or twice in it (duplicated)", key, info.writer,
                     (unsigned long long)info.seq);
        f->left[at] = 1;
        f->nleft++;
        if (prev[info.writer] != UINT64_MAX && info.seq >= prev[info.writer])
            ld__fail(r, LD_CHK_QUEUE, "%s: producer %u's element %llu lies before its "
                     "element %llu, toward the tail (out of the order pushed)", key,
                     info.writer, (unsigned long long)info.seq,
                     (unsigned long long)prev[info.writer]);
        prev[info.writer] = info.seq;
        uint64_t *m = &f->min_left[info.writer * LD_QUEUE_KEYS + k];
        if (info.seq < *m)
            *m = info.seq;
    }
    free(prev);
}

/* Acknowledged pushes neither popped nor left; popped elements newer
 * than one still left (a queue hands out the oldest first). */
static void account(struct ld_run *r, struct qfinal *f, uint64_t unsure_pops,
                    uint64_t *pushed, uint64_t *lost)
{
    for (unsigned p = 0; p < r->q_nprod; p++) {
        const struct ld_conn *pc = NULL;
        for (unsigned j = 0; j < r->threads[p].nconns; j++)
            if (r->threads[p].conns[j].kind == LD_CONN_QPUSH)
                pc = &r->threads[p].conns[j];
        uint64_t acked = pc ? pc->q_acked : 0, sent = pc ? pc->seq : 0;
        *pushed += acked;
        for (uint64_t seq = 0; seq < sent; seq++) {
            size_t at = (size_t)p * LD_QUEUE_MAX + seq;
            unsigned k = key_of(p, seq);
            bool popped = atomic_load_explicit(&r->q_popped[at], memory_order_relaxed);
            if (popped && seq > f->min_left[p * LD_QUEUE_KEYS + k])
                ld__fail(r, LD_CHK_QUEUE, "element p%u:%llu was popped while the older "
                         "p%u:%llu is still in the list (out of the order pushed)", p,
                         (unsigned long long)seq, p,
                         (unsigned long long)f->min_left[p * LD_QUEUE_KEYS + k]);
            if (!popped && !f->left[at] && seq < acked) {
                ++*lost;
                if (*lost > unsure_pops)
                    ld__fail(r, LD_CHK_QUEUE, "element p%u:%llu (LPUSH acknowledged) was "
                             "lost: neither popped nor in the list", p,
                             (unsigned long long)seq);
            }
        }
    }
}

void ld__queue_final(struct ld_run *r, struct ld_ctl *k)
{
    struct ld_checker *ck = &r->chk[LD_CHK_QUEUE];
    struct qfinal f = { .nleft = 0 };
    uint64_t pushed = 0, lost = 0, popped = 0, bpopped = 0, unsure_pops = 0;
    char err[LD_LINE], key[LD_PREFIX_MAX + 32];

    f.left = calloc((size_t)r->q_nprod * LD_QUEUE_MAX, 1);
    f.min_left = malloc(r->q_nprod * LD_QUEUE_KEYS * sizeof(uint64_t));
    if (f.left == NULL || f.min_left == NULL)
        goto out_free;
    for (unsigned i = 0; i < r->q_nprod * LD_QUEUE_KEYS; i++)
        f.min_left[i] = UINT64_MAX;
    for (unsigned i = 0; i < r->o->threads; i++) {
        popped += r->threads[i].st.q_popped;
        bpopped += r->threads[i].st.q_bpopped;
        unsure_pops += r->threads[i].st.q_unsure_pops;
    }
    for (unsigned q = 0; q < LD_QUEUE_KEYS; q++) {
        const char *argv[4] = { "LRANGE", key, "0", "-1" };
        ld__key(r, key, 'q', q);
        redisReply *rep = k != NULL ? ld__ctl_cmd(k, err, sizeof(err), 4, argv) : NULL;
        if (rep == NULL || rep->type != REDIS_REPLY_ARRAY) {
            ld__skip(r, LD_CHK_QUEUE, "could not read %s at the end: %s", key,
                     rep == NULL ? (k ? err : "no control connection")
                     : rep->type == REDIS_REPLY_ERROR ? rep->str : "not an array");
            if (rep)
                freeReplyObject(rep);
            goto out_free;
        }
        r->ctl_commands++;   /* a read: a hit or a miss, as Redis counts LRANGE */
        if (rep->elements)
            r->ctl_hits++;
        else
            r->ctl_misses++;
        read_list(r, q, rep, &f);
        freeReplyObject(rep);
    }
    account(r, &f, unsure_pops, &pushed, &lost);
    if (lost <= unsure_pops)
        lost = 0;
    snprintf(ck->detail, sizeof(ck->detail), "%llu pushes acknowledged by %u producers, "
             "%llu popped (%llu by RPOP, %llu by BRPOP), %llu left in the lists%s%s",
             (unsigned long long)pushed, r->q_nprod, (unsigned long long)(popped + bpopped),
             (unsigned long long)popped, (unsigned long long)bpopped,
             (unsigned long long)f.nleft, lost ? "; lost: " : "",
             lost ? "see below" : "");
out_free:
    free(f.left);
    free(f.min_left);
}
