/*
 * fake_txn: MULTI / EXEC / DISCARD / WATCH / UNWATCH for the fake RESP
 * server, enough for mmcache-load's bank and monotonic-sum checkers, with
 * Redis 7.0's replies for what they use. The server has one thread, so a
 * correct EXEC (all queued commands run back to back) is atomic by
 * construction; WATCH compares each watched key's version (bumped by every
 * write of a string key, 0 while missing) at EXEC. Faults:
 *   txn-interleave  an EXEC runs its queued commands one per event-loop
 *                   turn, other clients' commands running in between
 *                   (what a server that takes no locks across them does)
 *   txn-half        an EXEC runs every queued command and answers as if it
 *                   had, then the second one's write is undone (half a
 *                   transfer, half a pair of increments)
 *   watch-ignore    an EXEC whose watched keys changed runs anyway
 * (mget-torn, an MGET that answers its last key's value from before that
 * key's last write, is in fake_server.c.)
 *
 * Context: the fake server's one thread.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fake_server.h"

static unsigned long long key_ver(const char *k, size_t n)
{
    struct item *it = *fake_find(k, n);

    return it != NULL ? it->ver : 0;
}

static void unwatch(struct conn *c)
{
    for (size_t i = 0; i < c->nwatch; i++)
        free(c->watch[i].key);
    free(c->watch);
    c->watch = NULL;
    c->nwatch = 0;
}

static void drop_queue(struct conn *c)
{
    for (size_t i = 0; i < c->nqueued; i++)
        freeReplyObject(c->queue[i]);
    c->nqueued = 0;
    c->step = 0;
    c->in_multi = false;
}

void fake_txn_free(struct conn *c)
{
    drop_queue(c);
    free(c->queue);
    c->queue = NULL;
    unwatch(c);
}

static void do_watch(struct conn *c, redisReply **a, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        struct watched *w;

        c->watch = realloc(c->watch, (c->nwatch + 1) * sizeof(*c->watch));
        w = &c->watch[c->nwatch++];
        w->key = malloc(a[i]->len ? a[i]->len : 1);
        memcpy(w->key, a[i]->str, a[i]->len);
        w->klen = a[i]->len;
        w->ver = key_ver(a[i]->str, a[i]->len);
    }
    out(c, "+OK\r\n", 5);
}

static bool dirty(const struct conn *c)
{
    for (size_t i = 0; i < c->nwatch; i++)
        if (key_ver(c->watch[i].key, c->watch[i].klen) != c->watch[i].ver)
            return true;
    return false;
}

static bool is_write(const redisReply *r)
{
    static const char *const names[] = { "SET", "INCR", "INCRBY", "DECRBY", NULL };

    for (const char *const *p = names; *p; p++)
        if (strcasecmp(r->element[0]->str, *p) == 0)
            return r->elements >= 2;
    return false;
}

static void run_queued(struct conn *c, size_t i)
{
    c->in_exec = true;
    fake_run(c, c->queue[i]);
    c->in_exec = false;
}

static void exec(struct conn *c)
{
    bool changed = dirty(c);

    c->in_multi = false;               /* what runs now runs, not queues */
    unwatch(c);
    if (changed && !turn(F_WATCH_IGNORE)) {
        out(c, "*-1\r\n", 5);
        drop_queue(c);
        return;
    }
    outf(c, "*%zu\r\n", c->nqueued);
    if (c->nqueued >= 2 && turn(F_TXN_INTERLEAVE)) {
        run_queued(c, 0);
        c->step = 1;                   /* the rest: fake_txn_step, turn by turn */
        return;
    }
    for (size_t i = 0; i < c->nqueued; i++)
        run_queued(c, i);
    if (c->nqueued >= 2 && is_write(c->queue[1]) && turn(F_TXN_HALF))
        fake_undo_write(c->queue[1]->element[1]->str, c->queue[1]->element[1]->len);
    drop_queue(c);
}

bool fake_txn_step(struct conn *c)
{
    if (c->step == 0)
        return false;
    run_queued(c, c->step++);
    if (c->step < c->nqueued)
        return true;
    drop_queue(c);
    return false;
}

bool fake_txn_run(struct conn *c, redisReply *r)
{
    const char *name = r->element[0]->str;

    if (strcasecmp(name, "MULTI") == 0) {
        if (c->in_multi)
            out(c, "-ERR MULTI calls can not be nested\r\n", 36);
        else
            out(c, "+OK\r\n", 5);
        c->in_multi = true;
    } else if (strcasecmp(name, "EXEC") == 0 || strcasecmp(name, "DISCARD") == 0) {
        if (!c->in_multi) {
            outf(c, "-ERR %s without MULTI\r\n", name[0] == 'E' || name[0] == 'e'
                 ? "EXEC" : "DISCARD");
        } else if (name[0] == 'E' || name[0] == 'e') {
            exec(c);
        } else {
            unwatch(c);
            drop_queue(c);
            out(c, "+OK\r\n", 5);
        }
    } else if (strcasecmp(name, "WATCH") == 0 && r->elements >= 2) {
        if (c->in_multi)
            out(c, "-ERR WATCH inside MULTI is not allowed\r\n", 40);
        else
            do_watch(c, r->element, r->elements);
    } else if (strcasecmp(name, "UNWATCH") == 0 && !c->in_multi) {
        unwatch(c);
        out(c, "+OK\r\n", 5);
    } else if (c->in_multi) {
        if (c->nqueued == c->qcap) {
            c->qcap = c->qcap ? 2 * c->qcap : 16;
            c->queue = realloc(c->queue, c->qcap * sizeof(*c->queue));
        }
        c->queue[c->nqueued++] = r;
        c->took = true;
        out(c, "+QUEUED\r\n", 9);
    } else {
        return false;
    }
    return true;
}
