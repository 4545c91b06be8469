/*
 * CLIENT PAUSE timeout [WRITE|ALL] / CLIENT UNPAUSE (Redis 7.0's): until
 * the deadline, the commands it covers (all, or those with the write
 * flag) are not run; each waiting client keeps its command unparsed and
 * runs it when the pause ends (its worker's tick, within 100 ms, or the
 * UNPAUSE's own worker at once). A pause never shortens or narrows an
 * earlier one, as in Redis.
 *
 * One difference, on purpose: CLIENT UNPAUSE itself is never paused
 * (Redis 7.0 holds it under PAUSE ALL, so a long pause can only be
 * waited out).
 *
 * pause_until_ms is what the command path reads (one relaxed load per
 * command; 0: no pause). pause_all says which commands; PAUSE writes it
 * before the deadline (release), the check reads the deadline with
 * acquire first. pause_lock (a leaf) serialises PAUSE and UNPAUSE.
 */
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "conn.h"
#include "srv.h"

_Atomic int64_t srv_pause_until_ms;   /* see above */
static _Atomic bool pause_all;        /* atomic: release/acquire through srv_pause_until_ms */
static pthread_mutex_t pause_lock = PTHREAD_MUTEX_INITIALIZER;   /* lock order: leaf */

int srv_pause(int64_t until_ms, bool all)
{
    pthread_mutex_lock(&pause_lock);
    int64_t cur = atomic_load_explicit(&srv_pause_until_ms, memory_order_relaxed);
    bool active = cur > srv_now_ms();
    bool was_all = atomic_load_explicit(&pause_all, memory_order_relaxed);

    atomic_store_explicit(&pause_all, all || (active && was_all), memory_order_relaxed);
    /* release: pairs with the acquire in srv__pause_holds (pause_all first) */
    atomic_store_explicit(&srv_pause_until_ms, active && cur > until_ms ? cur : until_ms,
                          memory_order_release);
    pthread_mutex_unlock(&pause_lock);
    return 0;
}

void srv_unpause(void)
{
    pthread_mutex_lock(&pause_lock);
    atomic_store_explicit(&srv_pause_until_ms, 0, memory_order_release);
    atomic_store_explicit(&pause_all, false, memory_order_relaxed);
    pthread_mutex_unlock(&pause_lock);
}

bool srv__pause_holds(struct srv_conn *c, size_t argc, const struct proto_arg *argv)
{
    int64_t until = atomic_load_explicit(&srv_pause_until_ms, memory_order_acquire);
    const struct srv_command *cmd, *container;

    if (until == 0 || until <= srv_now_ms())
        return false;
    cmd = srv_command_resolve(argc, argv, &container);
    if (cmd == NULL || strcmp(cmd->fullname, "client|unpause") == 0)
        return false;   /* an unknown command is answered; UNPAUSE must get through */
    if (!atomic_load_explicit(&pause_all, memory_order_relaxed) && !(cmd->flags & CMD_WRITE))
        return false;
    if (!(c->flags & CONN_PAUSED)) {
        c->flags |= CONN_PAUSED;
        c->w->npaused++;
    }
    return true;
}

void srv_pause_tick(struct srv_worker *w)
{
    int64_t until = atomic_load_explicit(&srv_pause_until_ms, memory_order_acquire);

    if (w->npaused == 0 || (until != 0 && until > srv_now_ms()))
        return;
    /* this worker is the only writer of its client list: no reg_lock */
    for (struct srv_conn *c = w->conns, *next; c && w->npaused; c = next) {
        next = c->next;
        if (!(c->flags & CONN_PAUSED))
            continue;
        c->flags &= ~CONN_PAUSED;
        w->npaused--;
        conn_resume(c);
    }
}

void srv_pause_conn_closed(struct srv_conn *c)
{
    if (c->flags & CONN_PAUSED) {
        c->flags &= ~CONN_PAUSED;
        c->w->npaused--;
    }
}

/* CLIENT PAUSE timeout [WRITE|ALL] */
SRV_HANDLER(srv_cmd_client_pause)
{
    bool all = true;
    long long ms;

    if (argc > 4) {
        srv_reply_error(c, "ERR unknown subcommand or wrong number of arguments for 'pause'. "
                           "Try CLIENT HELP.");
        return;
    }
    if (argc == 4) {
        if (srv__arg_is(&argv[3], "write")) {
            all = false;
        } else if (!srv__arg_is(&argv[3], "all")) {
            srv_reply_error(c, "ERR CLIENT PAUSE mode must be WRITE or ALL");
            return;
        }
    }
    if (srv__arg_ll(c, &argv[2], &ms, "ERR timeout is not an integer or out of range") < 0)
        return;
    if (ms < 0) {
        srv_reply_error(c, "ERR timeout is negative");
        return;
    }
    int64_t now = srv_now_ms();
    /* Redis 7.0 answers OK to any size (its sum overflows); ours
     * saturates: paused until UNPAUSE */
    srv_pause(ms == 0 ? 0 : ms > INT64_MAX - now ? INT64_MAX : now + ms, all);
    srv_reply_ok(c);
}

/* CLIENT UNPAUSE: paused clients on this worker go on at once, the
 * others' at their worker's next tick. */
SRV_HANDLER(srv_cmd_client_unpause)
{
    srv_unpause();
    srv_reply_ok(c);
    srv_pause_tick(c->w);
}
