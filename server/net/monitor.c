/*
 * MONITOR: every command any worker runs, as Redis 7.0 shows it
 * ("+<unix time>.<usec> [0 <addr>] \"cmd\" \"arg\"", each argument in
 * Redis's sdscatrepr quoting), to every monitoring client, each worker's
 * commands in the order it ran them. As in Redis, a command is shown
 * after it ran (those refused before it are not), admin commands are not
 * shown, and AUTH's secrets are "(redacted)".
 *
 * A monitoring connection belongs to its worker like any other: only that
 * worker appends to its output. So a worker that runs a command formats
 * the line once and appends it to each monitor's queue (under
 * monitor_lock, so one worker's lines enter every queue in its order),
 * then wakes the monitor's worker (its `unblocked` async, as CLIENT KILL
 * does), which moves the queue into the connection's output
 * (srv_monitor_drain).
 *
 * Memory: a queue never holds more than the monitor's hard output limit
 * (client-output-buffer-limit normal, as of its MONITOR): a monitor that
 * would pass it is marked over, its queue dropped, and its worker closes
 * it; the output it was moved into obeys the same limit (reply.c). So a
 * monitor that never reads costs at most twice its limit, and none of it
 * once it is closed. A line too big for a monitor is never formatted for
 * it.
 *
 * Cost when nobody monitors: one acquire load of srv_monitors per call.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "commands.h"
#include "conn.h"
#include "srv.h"

struct srv_monitor {
    struct srv_conn *c;            /* immutable; only c's worker touches c */
    size_t limit;                  /* immutable: bytes a queue may hold, 0 = no limit */
    struct proto_buf q;            /* guarded by: monitor_lock; framed lines not yet moved */
    bool over;                     /* guarded by: monitor_lock; passed the limit: close */
    struct srv_monitor *next;      /* guarded by: monitor_lock (the list of all) */
    struct srv_monitor *wnext;     /* owned by: c's worker (its list, w->monitors) */
};

static pthread_mutex_t monitor_lock = PTHREAD_MUTEX_INITIALIZER;   /* lock order: leaf */
static struct srv_monitor *monitors;   /* guarded by: monitor_lock */
/* atomic: release by add/remove after the list changed under
 * monitor_lock, acquire by the feed's check (pairs with them); the list
 * itself is read under the lock. */
_Atomic unsigned srv_monitors;

int srv_monitor_add(struct srv_conn *c, size_t limit)
{
    struct srv_monitor *m = calloc(1, sizeof(*m));

    if (m == NULL)
        return -ENOMEM;
    m->c = c;
    m->limit = limit;
    c->monitor = m;
    atomic_store_explicit(&c->is_monitor, true, memory_order_relaxed);
    m->wnext = c->w->monitors;
    c->w->monitors = m;
    pthread_mutex_lock(&monitor_lock);
    m->next = monitors;
    monitors = m;
    atomic_fetch_add_explicit(&srv_monitors, 1, memory_order_release);
    pthread_mutex_unlock(&monitor_lock);
    return 0;
}

void srv_monitor_remove(struct srv_conn *c)
{
    struct srv_monitor *m = c->monitor;

    if (m == NULL)
        return;
    pthread_mutex_lock(&monitor_lock);
    for (struct srv_monitor **p = &monitors; *p; p = &(*p)->next)
        if (*p == m) {
            *p = m->next;
            break;
        }
    atomic_fetch_sub_explicit(&srv_monitors, 1, memory_order_release);
    pthread_mutex_unlock(&monitor_lock);
    for (struct srv_monitor **p = &c->w->monitors; *p; p = &(*p)->wnext)
        if (*p == m) {
            *p = m->wnext;
            break;
        }
    proto_buf_free(&m->q);
    free(m);
    c->monitor = NULL;
    atomic_store_explicit(&c->is_monitor, false, memory_order_relaxed);
}

/* The line of one call, framed as a status reply, into b. */
static int format_line(struct proto_buf *b, const struct srv_conn *c,
                       const struct srv_command *cmd, size_t argc, const struct proto_arg *argv)
{
    struct timeval tv;
    char head[128];
    int rc;

    gettimeofday(&tv, NULL);
    snprintf(head, sizeof(head), "+%ld.%06ld [0 %s] ", (long)tv.tv_sec, (long)tv.tv_usec, c->addr);
    rc = proto_add_raw(b, head, strlen(head));
    for (size_t i = 0; i < argc && rc == 0; i++) {
        if (srv__arg_redacted(cmd, i, argv))
            rc = proto_add_raw(b, "\"(redacted)\"", 12);
        else
            rc = proto_add_repr(b, argv[i].ptr, argv[i].len);
        if (rc == 0 && i + 1 < argc)
            rc = proto_add_raw(b, " ", 1);
    }
    return rc == 0 ? proto_add_raw(b, "\r\n", 2) : rc;
}

/* Mark m over its limit: its queue goes, its worker closes it. */
static void over_locked(struct srv_monitor *m)
{
    m->over = true;
    proto_buf_free(&m->q);
    uv_async_send(&m->c->w->unblocked);
}

void srv__monitor_feed(struct srv_conn *c, const struct srv_command *cmd, size_t argc,
                       const struct proto_arg *argv)
{
    struct proto_buf line;
    size_t len = 64 + strlen(c->addr) + 2;   /* the head and the frame, at most */
    bool wanted = false;

    if (cmd->flags & CMD_ADMIN)
        return;   /* as Redis: too dangerous to show */
    for (size_t i = 0; i < argc; i++)
        len += (srv__arg_redacted(cmd, i, argv) ? 12 : proto_repr_len(argv[i].ptr, argv[i].len)) + 1;
    /* Who can take it? A line longer than a monitor's limit closes it
     * unformatted; none left, no line at all. */
    pthread_mutex_lock(&monitor_lock);
    for (struct srv_monitor *m = monitors; m; m = m->next) {
        if (!m->over && m->limit && len > m->limit)
            over_locked(m);
        wanted |= !m->over;
    }
    pthread_mutex_unlock(&monitor_lock);
    if (!wanted)
        return;
    proto_buf_init(&line);
    if (format_line(&line, c, cmd, argc, argv) < 0) {
        proto_buf_free(&line);
        return;   /* out of memory: the monitors miss this line, the command went on */
    }
    pthread_mutex_lock(&monitor_lock);
    for (struct srv_monitor *m = monitors; m; m = m->next) {
        if (m->over)
            continue;
        if ((m->limit && m->q.len + line.len > m->limit) ||
            proto_buf_append(&m->q, line.data, line.len) < 0) {
            over_locked(m);
            continue;
        }
        if (m->q.len == line.len)   /* the queue was empty: its worker must come */
            uv_async_send(&m->c->w->unblocked);
    }
    pthread_mutex_unlock(&monitor_lock);
    proto_buf_free(&line);
}

/* Move c's queued lines into its output and write them; close it if it
 * went over its limit. Context: c's worker. */
static void drain_one(struct srv_conn *c)
{
    struct srv_monitor *m = c->monitor;
    struct proto_buf q;
    bool over;

    pthread_mutex_lock(&monitor_lock);
    q = m->q;
    over = m->over;
    proto_buf_init(&m->q);
    pthread_mutex_unlock(&monitor_lock);
    if (over) {
        srv_log(CFG_LOG_WARNING, "MONITOR client id=%llu addr=%s closed: it fell behind by "
                "more than its output limit", (unsigned long long)c->id, c->addr);
        c->flags |= CONN_CLOSE_ASAP;
    } else if (q.len) {
        srv__reply_raw(c, q.data, q.len);
    }
    proto_buf_free(&q);
    conn_flush(c);
}

void srv_monitor_drain(struct srv_worker *w)
{
    struct srv_monitor *m, *next;

    for (m = w->monitors; m; m = next) {
        next = m->wnext;   /* drain_one may close m->c, which frees m */
        drain_one(m->c);
    }
}

/* MONITOR: this connection sees every command from now on. A second
 * MONITOR on it is answered with nothing, as Redis answers it. */
SRV_HANDLER(srv_cmd_monitor)
{
    if (c->monitor != NULL)
        return;
    if (srv_monitor_add(c, c->obuf_limit.hard) < 0) {
        srv_reply_error(c, SRV_ERR_NOMEM);
        return;
    }
    srv_reply_ok(c);
}
