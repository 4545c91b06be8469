/*
 * Server and connection commands: PING, ECHO, INFO, COMMAND,
 * CLIENT, HELLO, QUIT, RESET, SHUTDOWN, TIME, DEBUG, and the persistence
 * and scripting commands a cache answers trivially so that Redis tools
 * (redis-cli, redis-benchmark) work unchanged.
 *
 * Context: the conn's worker thread, inside srv_dispatch().
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "commands.h"
#include "docs.h"
#include "srv.h"

#define NSUBS(t) (sizeof(t) / sizeof((t)[0]))

SRV_HANDLER(srv_cmd_ping)
{
    if (argc > 2)
        srv_reply_error(c, "ERR wrong number of arguments for 'ping' command");
    else if (argc == 2)
        srv_reply_bulk(c, argv[1].ptr, argv[1].len);
    else
        srv_reply_simple(c, "PONG");
}

SRV_HANDLER(srv_cmd_echo)
{
    srv_reply_bulk(c, argv[1].ptr, argv[1].len);
}

/* INFO [section ...]: the text is built apart, then sent as one bulk. */
SRV_HANDLER(srv_cmd_info)
{
    struct proto_buf b;

    proto_buf_init(&b);
    if (srv_info(c->cfg, &b, argc - 1, argv + 1) < 0)
        srv_reply_error(c, SRV_ERR_NOMEM);
    else
        srv_reply_bulk(c, b.data, b.len);
    proto_buf_free(&b);
}

/* ---- COMMAND -------------------------------------------------------------------- */

/* COMMAND INFO / DOCS take a top-level name or a full one ("config|get"). */
static const struct srv_command *command_find(const struct proto_arg *name)
{
    return srv_command_by_fullname(name->ptr, name->len);
}

/* Top-level commands (rows that are not a container's subcommand). */
static long long command_top_count(void)
{
    long long n = 0;

    for (size_t i = 0; i < srv_command_count; i++)
        n += srv_command_table[i].parent == NULL;
    return n;
}

/* One entry of COMMAND / COMMAND INFO, Redis 7's ten fields: a container
 * lists its subcommands, each an entry of its own, in the tenth. Tips and
 * key specs are left empty. */
static void command_reply_info(struct srv_conn *c, const struct srv_command *cmd)
{
    static const struct { unsigned flag; const char *name; } flags[] = {
        { CMD_WRITE, "write" }, { CMD_READONLY, "readonly" },
        { CMD_DENYOOM, "denyoom" }, { CMD_ADMIN, "admin" },
        { CMD_NOSCRIPT, "noscript" }, { CMD_BLOCKING, "blocking" },   /* Redis's order */
        { CMD_FAST, "fast" }, { CMD_NO_AUTH, "no_auth" },
        { CMD_KEY_NUMKEYS, "movablekeys" },
    };
    /* A KN row's first_key is where its count is: Redis shows 0 0 0, or
     * the destination's 1 1 1 for ZUNIONSTORE dst numkeys key ... */
    bool movable = (cmd->flags & CMD_KEY_NUMKEYS) && !(cmd->flags & CMD_KEY_FIRSTDEST);
    long long nflags = 0;

    for (size_t i = 0; i < NSUBS(flags); i++)
        nflags += (cmd->flags & flags[i].flag) != 0;
    srv_reply_array(c, 10);
    srv_reply_bulk_cstr(c, cmd->fullname);
    srv_reply_int(c, cmd->arity);
    srv_reply_array(c, nflags);
    for (size_t i = 0; i < NSUBS(flags); i++)
        if (cmd->flags & flags[i].flag)
            srv_reply_simple(c, flags[i].name);
    srv_reply_int(c, movable ? 0 : cmd->first_key);
    srv_reply_int(c, movable ? 0 : (cmd->flags & CMD_KEY_NUMKEYS) ? cmd->first_key
                                                                   : cmd->last_key);
    srv_reply_int(c, movable ? 0 : cmd->key_step);
    srv_reply_array(c, __builtin_popcountll(cmd->categories));
    for (int bit = 0; bit < ACL_BIT_COUNT; bit++) {
        char cat[32];

        if (cmd->categories & (1ull << bit)) {
            snprintf(cat, sizeof(cat), "@%s", srv_acl_category_names[bit]);
            srv_reply_simple(c, cat);
        }
    }
    srv_reply_array(c, 0);
    srv_reply_array(c, 0);
    srv_reply_array(c, cmd->nsubs);
    for (unsigned i = 0; i < cmd->nsubs; i++)
        command_reply_info(c, &cmd->subs[i]);
}

/* Every top-level command's entry (COMMAND, COMMAND INFO). */
static void command_reply_all(struct srv_conn *c)
{
    srv_reply_array(c, command_top_count());
    for (size_t i = 0; i < srv_command_count; i++)
        if (srv_command_table[i].parent == NULL)
            command_reply_info(c, &srv_command_table[i]);
}

SRV_HANDLER(srv_cmd_command_count)
{
    srv_reply_int(c, command_top_count());
}

/* COMMAND INFO [name ...]: nil for names we do not have. */
SRV_HANDLER(srv_cmd_command_info)
{
    if (argc == 2) {
        command_reply_all(c);
        return;
    }
    srv_reply_array(c, (long long)(argc - 2));
    for (size_t i = 2; i < argc; i++) {
        const struct srv_command *cmd = command_find(&argv[i]);

        if (cmd != NULL)
            command_reply_info(c, cmd);
        else
            srv_reply_null(c);
    }
}

/* COMMAND DOCS [name ...]: a map name -> docs (docs.def, docs.c); a
 * container's docs hold its subcommands'. Unknown names are left out, as
 * Redis leaves them. */
SRV_HANDLER(srv_cmd_command_docs)
{
    long long n = 0;

    if (argc == 2) {
        srv_reply_array(c, command_top_count() * 2);
        for (size_t i = 0; i < srv_command_count; i++) {
            if (srv_command_table[i].parent != NULL)
                continue;
            srv_reply_bulk_cstr(c, srv_command_table[i].name);
            srv_docs_reply(c, &srv_command_table[i]);
        }
        return;
    }
    for (size_t i = 2; i < argc; i++)
        n += command_find(&argv[i]) != NULL;
    srv_reply_array(c, n * 2);
    for (size_t i = 2; i < argc; i++) {
        const struct srv_command *cmd = command_find(&argv[i]);

        if (cmd != NULL) {
            srv_reply_bulk_cstr(c, cmd->fullname);
            srv_docs_reply(c, cmd);
        }
    }
}

/* An ACL category's bit by name, any case; 0 for a name there is none of
 * (Redis then lists nothing). */
static uint64_t command_category(const struct proto_arg *name)
{
    for (int bit = 0; bit < ACL_BIT_COUNT; bit++)
        if (srv__arg_is(name, srv_acl_category_names[bit]))
            return 1ull << bit;
    return 0;
}

/* COMMAND LIST [FILTERBY MODULE m | ACLCAT cat | PATTERN p]: every
 * command and subcommand by its full name, as Redis 7 lists them. There
 * are no modules, so MODULE lists nothing. */
SRV_HANDLER(srv_cmd_command_list)
{
    const struct proto_arg *pat = NULL;
    uint64_t cat = 0;
    long long n = 0;

    if (argc == 5 && srv__arg_is(&argv[2], "filterby")) {
        if (srv__arg_is(&argv[3], "pattern")) {
            pat = &argv[4];
        } else if (srv__arg_is(&argv[3], "aclcat")) {
            if ((cat = command_category(&argv[4])) == 0) {
                srv_reply_array(c, 0);
                return;
            }
        } else if (srv__arg_is(&argv[3], "module")) {
            srv_reply_array(c, 0);
            return;
        } else {
            srv_reply_error(c, SRV_ERR_SYNTAX);
            return;
        }
    } else if (argc != 2) {
        srv_reply_error(c, SRV_ERR_SYNTAX);
        return;
    }
    for (int pass = 0; pass < 2; pass++) {
        if (pass == 1)
            srv_reply_array(c, n);
        for (size_t i = 0; i < srv_command_count; i++) {
            const struct srv_command *cmd = &srv_command_table[i];
            const char *name = cmd->fullname;

            if (pat != NULL && !srv_glob_match(pat->ptr, pat->len, name, strlen(name), 1))
                continue;
            if (cat != 0 && !(cmd->categories & cat))
                continue;
            if (pass == 0)
                n++;
            else
                srv_reply_bulk_cstr(c, name);
        }
    }
}

SRV_HANDLER(srv_cmd_command_help)
{
    static const char *const lines[] = {
        "(no subcommand)",
        "    Return details about all Redis commands.",
        "COUNT",
        "    Return the total number of commands in this Redis server.",
        "LIST",
        "    Return a list of all commands in this Redis server.",
        "INFO [<command-name> ...]",
        "    Return details about multiple Redis commands.",
        "    If no command names are given, documentation details for all",
        "    commands are returned.",
        "DOCS [<command-name> ...]",
        "    Return documentation details about multiple Redis commands.",
        "    If no command names are given, documentation details for all",
        "    commands are returned.",
        NULL,
    };
    srv__reply_help(c, "COMMAND", lines);
}

/* COMMAND alone (with a subcommand, dispatch runs that instead). */
SRV_HANDLER(srv_cmd_command)
{
    command_reply_all(c);
}

/* ---- SHUTDOWN, TIME, DEBUG, persistence, scripting, WAIT ---------------------- */

/* SHUTDOWN [NOSAVE|SAVE] [NOW] [FORCE] [ABORT]: nothing to save, so every
 * form shuts down gracefully. Like Redis, no reply: the server goes away. */
SRV_HANDLER(srv_cmd_shutdown)
{
    bool nosave = false, save = false, abort = false, other = false;

    for (size_t i = 1; i < argc; i++) {
        if (srv__arg_is(&argv[i], "nosave"))
            nosave = true;
        else if (srv__arg_is(&argv[i], "save"))
            save = true;
        else if (srv__arg_is(&argv[i], "now") || srv__arg_is(&argv[i], "force"))
            other = true;
        else if (srv__arg_is(&argv[i], "abort"))
            abort = true;
        else {
            srv_reply_error(c, SRV_ERR_SYNTAX);
            return;
        }
    }
    if ((abort && (nosave || save || other)) || (nosave && save)) {
        srv_reply_error(c, SRV_ERR_SYNTAX);
        return;
    }
    if (abort) {
        srv_reply_error(c, "ERR No shutdown in progress.");
        return;
    }
    srv_log(CFG_LOG_WARNING, "User requested shutdown...");
    srv_request_shutdown();
}

SRV_HANDLER(srv_cmd_time)
{
    struct timeval tv;
    char sec[24], usec[24];

    gettimeofday(&tv, NULL);
    snprintf(sec, sizeof(sec), "%lld", (long long)tv.tv_sec);
    snprintf(usec, sizeof(usec), "%ld", (long)tv.tv_usec);
    srv_reply_array(c, 2);
    srv_reply_bulk_cstr(c, sec);
    srv_reply_bulk_cstr(c, usec);
}

/* DEBUG SLEEP's bound: long enough for any test of a stalled server, and
 * a worker never sleeps longer than that whatever a client asks. */
#define DEBUG_SLEEP_MAX_S 3600
#define DEBUG_SLEEP_SLICE_MS 100   /* how late a sleeping worker sees a shutdown */

/* Sleep up to secs (finite, 0..DEBUG_SLEEP_MAX_S) against the monotonic
 * clock, in slices, ending early once the worker is told to stop: SIGTERM
 * during DEBUG SLEEP still shuts down within a slice. Never retries a
 * failing nanosleep, so it cannot spin. */
static void debug_sleep(struct srv_worker *w, double secs)
{
    struct timespec now, end;

    clock_gettime(CLOCK_MONOTONIC, &end);
    long long ns = (long long)(secs * 1e9);   /* <= 3.6e12: no overflow */
    end.tv_sec += (time_t)(ns / 1000000000);
    end.tv_nsec += (long)(ns % 1000000000);
    if (end.tv_nsec >= 1000000000) {
        end.tv_sec++;
        end.tv_nsec -= 1000000000;
    }
    /* acquire: pairs with the release in srv_worker_stop */
    while (!atomic_load_explicit(&w->stopping, memory_order_acquire)) {
        clock_gettime(CLOCK_MONOTONIC, &now);
        long long left = (long long)(end.tv_sec - now.tv_sec) * 1000000000LL +
                         (end.tv_nsec - now.tv_nsec);
        if (left <= 0)
            break;
        if (left > DEBUG_SLEEP_SLICE_MS * 1000000LL)
            left = DEBUG_SLEEP_SLICE_MS * 1000000LL;
        struct timespec ts = { 0, (long)left };
        if (nanosleep(&ts, NULL) != 0 && errno != EINTR)
            break;
    }
}

/* DEBUG, once dispatch found enable-debug-command allows this client (it
 * is CMD_PROTECTED). DEBUG SLEEP <seconds> blocks this worker, as Redis
 * blocks its only thread; the other workers keep serving. Anything else
 * is unknown. */
SRV_HANDLER(srv_cmd_debug)
{
    if (srv__arg_is(&argv[1], "sleep") && argc == 3) {
        char buf[64];
        double secs;

        srv__arg_cstr(&argv[2], buf, sizeof(buf));
        secs = strtod(buf, NULL);       /* Redis's parse: junk means 0 */
        if (!(secs <= DEBUG_SLEEP_MAX_S)) {   /* also NaN */
            srv_reply_errorf(c, "ERR DEBUG SLEEP takes at most %d seconds", DEBUG_SLEEP_MAX_S);
            return;
        }
        if (secs > 0)
            debug_sleep(c->w, secs);
        srv_reply_ok(c);
        return;
    }
    if (srv__arg_is(&argv[1], "help") && argc == 2) {
        static const char *const lines[] = {
            "SLEEP <seconds>",
            "    Stop the server for <seconds>. Decimals allowed.",
            NULL,
        };
        srv__reply_help(c, "DEBUG", lines);
        return;
    }
    srv_reply_errorf(c, "ERR unknown subcommand or wrong number of arguments for "
                        "'%.*s'. Try DEBUG HELP.",
                     (int)(argv[1].len < 128 ? argv[1].len : 128), argv[1].ptr);
}

/* No persistence: the last "save" is the start of the process. */
SRV_HANDLER(srv_cmd_lastsave)
{
    srv_reply_int(c, srv.start_ms / 1000);
}

/* SAVE, BGSAVE, BGREWRITEAOF: an error, not an OK that would tell a
 * backup script its data is on disk. The error's prefix is ERR so that
 * clients treat it as a failed command, not as a retryable state. */
#define SRV_ERR_NO_DISK "ERR mmcache keeps no data on disk: %s is not supported " \
                        "(the cache is empty after a restart)"

SRV_HANDLER(srv_cmd_save)
{
    srv_reply_errorf(c, SRV_ERR_NO_DISK, "SAVE");
}

SRV_HANDLER(srv_cmd_bgsave)
{
    if (argc > 2 || (argc == 2 && !srv__arg_is(&argv[1], "schedule")))
        srv_reply_error(c, SRV_ERR_SYNTAX);
    else
        srv_reply_errorf(c, SRV_ERR_NO_DISK, "BGSAVE");
}

SRV_HANDLER(srv_cmd_bgrewriteaof)
{
    srv_reply_errorf(c, SRV_ERR_NO_DISK, "BGREWRITEAOF");
}

/* FUNCTION FLUSH / SCRIPT FLUSH [ASYNC|SYNC]: there are no scripts. */
static void flush_scripts(struct srv_conn *c, size_t argc,
                          struct proto_arg *argv, const char *err)
{
    if (argc > 3 || (argc == 3 && !srv__arg_is(&argv[2], "sync") &&
                     !srv__arg_is(&argv[2], "async")))
        srv_reply_error(c, err);
    else
        srv_reply_ok(c);
}

SRV_HANDLER(srv_cmd_function_flush)
{
    flush_scripts(c, argc, argv, "ERR FUNCTION FLUSH only supports SYNC|ASYNC option");
}

SRV_HANDLER(srv_cmd_script_flush)
{
    flush_scripts(c, argc, argv, "ERR SCRIPT FLUSH only support SYNC|ASYNC option");
}

/* WAIT numreplicas timeout: no replicas, so 0 at once. */
SRV_HANDLER(srv_cmd_wait)
{
    long long timeout, n;

    if (srv__arg_ll(c, &argv[1], &n, NULL) < 0 ||
        srv__arg_ll(c, &argv[2], &timeout,
                    "ERR timeout is not an integer or out of range") < 0)
        return;
    if (timeout < 0)
        srv_reply_error(c, "ERR timeout is negative");
    else
        srv_reply_int(c, 0);
}
