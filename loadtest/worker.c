/*
 * A client thread: one epoll loop over its connections. Load connections
 * keep --pipeline requests outstanding until their share of --requests is
 * issued or the run is told to stop; the checkers' connections send one
 * request at a time, paced, while any load connection is still running.
 * Every connection leaves the loop by finishing (nothing outstanding) or
 * by being lost; a stalled one is lost at --reply-timeout, so the loop
 * always ends.
 *
 * Context: its own thread; touches only its connections, the run's
 * atomics and (through check.c) the run's lock.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>

#include "ld_int.h"

#define MAX_EVENTS 256
#define TICK_NS 1000000ull           /* timeouts and pacing: every 1 ms */

void ld__conn_issue(struct ld_conn *c, uint64_t now)
{
    struct ld_run *r = c->t->run;
    bool stop = atomic_load_explicit(&r->stop, memory_order_relaxed);

    if (c->state != LD_CS_OPEN)
        return;
    if (c->kind == LD_CONN_LOAD) {
        while (!stop && c->count < c->cap && c->budget > 0 && c->state == LD_CS_OPEN)
            ld__load_issue(c);
        if ((stop || c->budget == 0) && c->count == 0) {
            ld__conn_close(c);
            return;
        }
    } else {
        /* checkers watch the workload: they end when it has ended */
        if (stop || atomic_load_explicit(&r->load_active, memory_order_relaxed) == 0) {
            if (c->count == 0)
                ld__conn_close(c);
            return;
        }
        if (c->kind == LD_CONN_HASH || c->kind == LD_CONN_SET || c->kind == LD_CONN_ZSET) {
            /* the collection checkers' clients keep their pipeline full */
            while (c->count < c->cap && c->state == LD_CS_OPEN) {
                if (c->kind == LD_CONN_HASH)
                    ld__hash_issue(c);
                else if (c->kind == LD_CONN_SET)
                    ld__set_issue(c);
                else
                    ld__zset_issue(c);
            }
        } else if (c->count == 0 && now >= c->next_ns) {
            if (c->kind == LD_CONN_INFO)
                ld__info_issue(c);
            else if (c->kind == LD_CONN_QPUSH || c->kind == LD_CONN_QPOP)
                ld__queue_issue(c);
            else if (c->kind == LD_CONN_BANK || c->kind == LD_CONN_AUDIT)
                ld__bank_issue(c);      /* one transaction (or WATCH step) at a time */
            else if (c->kind == LD_CONN_MSUM_W || c->kind == LD_CONN_MSUM_R)
                ld__msum_issue(c);
            else
                ld__cfg_issue(c);
        }
    }
    if (c->out_len > c->out_off)
        ld__conn_flush(c);
}

/* Connect deadlines, reply deadlines, paced requests, the stop flag. */
static void tick(struct ld_thread *t, uint64_t now)
{
    uint64_t reply_ns = (uint64_t)t->run->o->reply_timeout_ms * 1000000ull;

    for (unsigned i = 0; i < t->nconns; i++) {
        struct ld_conn *c = &t->conns[i];

        if (c->state == LD_CS_CONNECTING && now > c->deadline_ns)
            ld__conn_lost(c, "connect timeout", "no connection after %u ms",
                          t->run->o->connect_timeout_ms);
        if (c->state != LD_CS_OPEN)
            continue;
        /* sent_ns may be a little after `now`: requests issued this pass */
        if (c->count > 0 && now > c->fifo[c->head].sent_ns + reply_ns) {
            ld__conn_lost(c, "reply timeout", "no reply to %s within %u ms "
                          "(%u requests outstanding)",
                          ld__kind_name(c->fifo[c->head].kind),
                          t->run->o->reply_timeout_ms, c->count);
            continue;
        }
        ld__conn_issue(c, now);
    }
}

static bool all_closed(const struct ld_thread *t)
{
    for (unsigned i = 0; i < t->nconns; i++)
        if (t->conns[i].state != LD_CS_CLOSED)
            return false;
    return true;
}

void *ld__thread_main(void *arg)
{
    struct ld_thread *t = arg;
    struct epoll_event evs[MAX_EVENTS];
    uint64_t last_tick = 0;
    int wait_ms = 10;

    for (unsigned i = 0; i < t->nconns; i++) {
        ld__conn_start(&t->conns[i]);
        if (t->conns[i].kind != LD_CONN_LOAD)
            wait_ms = 1;            /* paced checker requests */
    }
    while (!all_closed(t)) {
        int n = epoll_wait(t->epfd, evs, MAX_EVENTS, wait_ms);
        uint64_t now;

        if (n < 0 && errno != EINTR) {
            for (unsigned i = 0; i < t->nconns; i++)
                ld__conn_lost(&t->conns[i], "epoll", "epoll_wait: %s", strerror(errno));
            break;
        }
        now = ld__now_ns();
        for (int i = 0; i < n; i++) {
            struct ld_conn *c = evs[i].data.ptr;

            ld__conn_event(c, evs[i].events);
            ld__conn_issue(c, now);
        }
        if (now - last_tick >= TICK_NS) {
            tick(t, now);
            last_tick = now;
        }
    }
    atomic_fetch_sub_explicit(&t->run->threads_active, 1, memory_order_relaxed);
    return NULL;
}
