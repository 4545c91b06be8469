/*
 * SLOWLOG GET/LEN/RESET/HELP: the commands slower than
 * slowlog-log-slower-than microseconds, newest first, at most
 * slowlog-max-len of them, in Redis 7.0's entry shape: id, unix time,
 * duration in usec, the arguments, the client's address and name.
 *
 * One log for the whole server, guarded by slowlog_lock (a leaf: nothing
 * else is taken under it). Every worker pushes the entries of its own
 * connections; an entry is built (copied, truncated) before the lock is
 * taken, so the lock covers list links and the id only, and entries
 * trimmed off the end are freed after it is released. SLOWLOG GET
 * formats its reply under the lock (the entries must not be freed
 * meanwhile); a push on another worker waits for that, which only a
 * command already slow pays.
 *
 * Memory is bounded whatever a client sends: an entry keeps at most
 * SLOWLOG_MAX_ARGC arguments of at most SLOWLOG_MAX_STRING bytes each (as
 * Redis does; the last kept argument says how many more there were) and
 * the client name cut at SLOWLOG_MAX_STRING bytes (Redis keeps it whole;
 * a name may be as long as a bulk string), and there are at most
 * slowlog-max-len (<= 1000000) entries after each push.
 *
 * Context: the handlers and srv__slowlog_push on the calling worker.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "commands.h"
#include "srv.h"

#define SLOWLOG_MAX_ARGC 32
#define SLOWLOG_MAX_STRING 128

struct slowlog_entry {
    struct slowlog_entry *newer, *older;   /* guarded by: slowlog_lock */
    uint64_t id;                   /* guarded by: slowlog_lock (set at the push) */
    /* immutable once pushed: */
    int64_t time_s;
    uint64_t usec;
    char addr[64];
    char *name;                    /* points into data; NULL: no name */
    size_t name_len;
    unsigned argc;                 /* kept arguments, <= SLOWLOG_MAX_ARGC */
    size_t arg_len[SLOWLOG_MAX_ARGC];
    char *arg[SLOWLOG_MAX_ARGC];   /* each points into data */
    char data[];
};

static pthread_mutex_t slowlog_lock = PTHREAD_MUTEX_INITIALIZER;   /* lock order: leaf */
static struct slowlog_entry *newest, *oldest;   /* guarded by: slowlog_lock */
static size_t slowlog_len;         /* guarded by: slowlog_lock */
static uint64_t next_id;           /* guarded by: slowlog_lock */

bool srv__arg_redacted(const struct srv_command *cmd, size_t i, const struct proto_arg *argv)
{
    if (strcmp(cmd->fullname, "auth") == 0)
        return i > 0;
    if (strcmp(cmd->fullname, "hello") == 0)
        for (size_t k = 1; k < i; k++)
            if (srv__arg_is(&argv[k], "auth") && i - k <= 2)
                return true;
    return false;
}

/* Argument i as kept: its bytes (cut) and what is said after them. */
static size_t arg_kept(const struct srv_command *cmd, size_t argc, const struct proto_arg *argv,
                       size_t i, unsigned kept, const char **p, size_t *n, char *tail, size_t cap)
{
    tail[0] = '\0';
    if (kept != argc && i == kept - 1) {
        *p = "";
        *n = 0;
        snprintf(tail, cap, "... (%zu more arguments)", argc - kept + 1);
    } else if (srv__arg_redacted(cmd, i, argv)) {
        *p = "(redacted)";
        *n = strlen(*p);
    } else {
        *p = argv[i].ptr;
        *n = argv[i].len;
        if (*n > SLOWLOG_MAX_STRING) {
            snprintf(tail, cap, "... (%zu more bytes)", *n - SLOWLOG_MAX_STRING);
            *n = SLOWLOG_MAX_STRING;
        }
    }
    return *n + strlen(tail);
}

static struct slowlog_entry *entry_new(const struct srv_conn *c, const struct srv_command *cmd,
                                       size_t argc, const struct proto_arg *argv, uint64_t usec)
{
    unsigned kept = argc > SLOWLOG_MAX_ARGC ? SLOWLOG_MAX_ARGC : (unsigned)argc;
    size_t name_len = c->name ? strlen(c->name) : 0, size = 0;
    char tail[64];
    const char *p;
    size_t n;

    if (name_len > SLOWLOG_MAX_STRING)
        name_len = SLOWLOG_MAX_STRING;
    for (unsigned i = 0; i < kept; i++)
        size += arg_kept(cmd, argc, argv, i, kept, &p, &n, tail, sizeof(tail));
    struct slowlog_entry *e = malloc(sizeof(*e) + size + name_len);
    if (e == NULL)
        return NULL;
    e->time_s = (int64_t)time(NULL);
    e->usec = usec;
    memcpy(e->addr, c->addr, sizeof(e->addr));
    e->argc = kept;
    char *d = e->data;
    for (unsigned i = 0; i < kept; i++) {
        size_t len = arg_kept(cmd, argc, argv, i, kept, &p, &n, tail, sizeof(tail));
        e->arg[i] = d;
        e->arg_len[i] = len;
        memcpy(d, p, n);
        memcpy(d + n, tail, len - n);
        d += len;
    }
    /* the owner reads its own conn's name without the lock (srv.h) */
    e->name = c->name ? d : NULL;
    e->name_len = name_len;
    if (name_len)
        memcpy(d, c->name, name_len);
    return e;
}

void srv__slowlog_push(struct srv_conn *c, const struct cfg *cfg, const struct srv_command *cmd,
                       size_t argc, const struct proto_arg *argv, uint64_t usec)
{
    struct slowlog_entry *e = entry_new(c, cmd, argc, argv, usec), *drop = NULL;

    if (e == NULL)
        return;   /* not logged: the command itself went on */
    pthread_mutex_lock(&slowlog_lock);
    e->id = next_id++;
    e->older = newest;
    e->newer = NULL;
    if (newest != NULL)
        newest->newer = e;
    newest = e;
    if (oldest == NULL)
        oldest = e;
    slowlog_len++;
    while (slowlog_len > cfg->slowlog_max_len) {   /* unlink the oldest, free them later */
        struct slowlog_entry *o = oldest;
        oldest = o->newer;
        if (oldest != NULL)
            oldest->older = NULL;
        else
            newest = NULL;
        o->older = drop;
        drop = o;
        slowlog_len--;
    }
    pthread_mutex_unlock(&slowlog_lock);
    while (drop != NULL) {
        struct slowlog_entry *o = drop;
        drop = o->older;
        free(o);
    }
}

static void reply_entry(struct srv_conn *c, const struct slowlog_entry *e)
{
    srv_reply_array(c, 6);
    srv_reply_int(c, (long long)e->id);
    srv_reply_int(c, (long long)e->time_s);
    srv_reply_int(c, (long long)e->usec);
    srv_reply_array(c, e->argc);
    for (unsigned i = 0; i < e->argc; i++)
        srv_reply_bulk(c, e->arg[i], e->arg_len[i]);
    srv_reply_bulk_cstr(c, e->addr);
    srv_reply_bulk(c, e->name ? e->name : "", e->name_len);
}

/* SLOWLOG GET [count]: count newest entries (10 without one, -1: all). */
SRV_HANDLER(srv_cmd_slowlog_get)
{
    long long count = 10;

    if (argc > 3) {
        srv_reply_errorf(c, "ERR unknown subcommand or wrong number of arguments for "
                            "'%.*s'. Try SLOWLOG HELP.", (int)argv[1].len, argv[1].ptr);
        return;
    }
    if (argc == 3 && (proto_str2ll(argv[2].ptr, argv[2].len, &count) < 0 || count < -1)) {
        srv_reply_error(c, "ERR count should be greater than or equal to -1");
        return;
    }
    pthread_mutex_lock(&slowlog_lock);
    if (count == -1 || (unsigned long long)count > slowlog_len)
        count = (long long)slowlog_len;
    srv_reply_array(c, count);
    const struct slowlog_entry *e = newest;
    for (long long i = 0; i < count && !srv_reply_closing(c); i++, e = e->older)
        reply_entry(c, e);
    pthread_mutex_unlock(&slowlog_lock);
}

SRV_HANDLER(srv_cmd_slowlog_len)
{
    size_t n;

    pthread_mutex_lock(&slowlog_lock);
    n = slowlog_len;
    pthread_mutex_unlock(&slowlog_lock);
    srv_reply_int(c, (long long)n);
}

SRV_HANDLER(srv_cmd_slowlog_reset)
{
    struct slowlog_entry *e;

    pthread_mutex_lock(&slowlog_lock);
    e = newest;
    newest = oldest = NULL;
    slowlog_len = 0;
    pthread_mutex_unlock(&slowlog_lock);
    while (e != NULL) {
        struct slowlog_entry *o = e;
        e = o->older;
        free(o);
    }
    srv_reply_ok(c);
}

SRV_HANDLER(srv_cmd_slowlog_help)
{
    static const char *const lines[] = {
        "GET [<count>]",
        "    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
        "    Entries are made of:",
        "    id, timestamp, time in microseconds, arguments array, client IP and port,",
        "    client name",
        "LEN",
        "    Return the length of the slowlog.",
        "RESET",
        "    Reset the slowlog.",
        NULL,
    };
    srv__reply_help(c, "SLOWLOG", lines);
}
