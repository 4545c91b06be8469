/*
 * keyspec.c: the keys a command names, from its row in commands.def (the
 * one table): what ACL key patterns judge (acl/match.c), what MULTI/EXEC
 * and the multi-key commands lock (multi.c), and COMMAND GETKEYS /
 * GETKEYSANDFLAGS.
 */
#include <string.h>
#include <strings.h>

#include "commands.h"
#include "srv.h"

/* SET k v ... GET reads the old value too (Redis's setGetKeys). */
static bool has_get_arg(size_t argc, const struct proto_arg *argv)
{
    for (size_t i = 3; i < argc; i++)
        if (argv[i].len == 3 && strncasecmp(argv[i].ptr, "get", 3) == 0)
            return true;
    return false;
}

/* Where cmd's keys are in argv: [*first, *last] by *step; false when it
 * has none. A KN row's count (LMPOP numkeys ...) that is no number or
 * runs past the arguments gives none, as Redis's key-spec walk does: the
 * handler then refuses the command before any key is used. A KN row with
 * a destination first (ZUNIONSTORE dst numkeys key ...) has its count
 * right after the destination; its range is the sources. */
static bool key_range(const struct srv_command *cmd, size_t argc,
                      const struct proto_arg *argv, long *first, long *last, long *step)
{
    long long n;
    long at = cmd->first_key + ((cmd->flags & CMD_KEY_FIRSTDEST) ? 1 : 0);

    *step = cmd->key_step;
    if (!(cmd->flags & CMD_KEY_NUMKEYS)) {
        *first = cmd->first_key;
        /* Redis's legacy key range: a negative last counts from the end. */
        *last = cmd->last_key < 0 ? (long)argc + cmd->last_key : cmd->last_key;
        return true;
    }
    if ((size_t)at >= argc || proto_str2ll(argv[at].ptr, argv[at].len, &n) != 0 ||
        n < 1 || (unsigned long long)n > argc - (size_t)at - 1)
        return false;
    *first = at + 1;
    *last = at + (long)n;
    return true;
}

/* How the key at argv[i] of [first, last] is used, given what the row
 * says of its keys (need): RENAME's and COPY's destination (the last key),
 * SINTERSTORE's (the first) are only written. */
static unsigned key_use(const struct srv_command *cmd, unsigned need, long i, long first,
                        long last)
{
    if (((cmd->flags & CMD_KEY_DEST) && i == last) ||
        ((cmd->flags & CMD_KEY_FIRSTDEST) && !(cmd->flags & CMD_KEY_NUMKEYS) && i == first))
        return SRV_KEY_W;
    return need;
}

unsigned srv_command_one_key(const struct srv_command *cmd)
{
    /* A negative last_key counts from the end (DEL k ...), a KN row's keys
     * follow its count: how many keys those name depends on argv. */
    if (cmd->first_key <= 0 || cmd->last_key != cmd->first_key ||
        (cmd->flags & CMD_KEY_NUMKEYS))
        return 0;
    return SRV_KEY_ONE | (key_use(cmd, (cmd->flags & CMD_KEY_WRITE) ? SRV_KEY_W : 0,
                                  cmd->first_key, cmd->first_key, cmd->last_key) &
                          SRV_KEY_W);
}

int srv_command_keys(const struct srv_command *cmd, size_t argc,
                     const struct proto_arg *argv, srv_key_fn *fn, void *arg)
{
    unsigned need = 0;
    long first, last, step;
    int rc;

    if (cmd->first_key <= 0 || !key_range(cmd, argc, argv, &first, &last, &step))
        return 0;
    /* ZUNIONSTORE's destination, before its counted sources: written */
    if ((cmd->flags & CMD_KEY_NUMKEYS) && (cmd->flags & CMD_KEY_FIRSTDEST) &&
        (rc = fn(arg, (size_t)cmd->first_key, SRV_KEY_W)) != 0)
        return rc;
    if (cmd->flags & CMD_KEY_READ)
        need |= SRV_KEY_R;
    if (cmd->flags & CMD_KEY_WRITE)
        need |= SRV_KEY_W;
    if ((cmd->flags & CMD_KEY_GETARG) && has_get_arg(argc, argv))
        need |= SRV_KEY_R;
    for (long i = first; i <= last && i < (long)argc; i += step) {
        /* (srv_commands_init asserts key_step > 0 for a row with keys) */
        if ((rc = fn(arg, (size_t)i, key_use(cmd, need, i, first, last))) != 0)
            return rc;
    }
    return 0;
}

/* ---- COMMAND GETKEYS / GETKEYSANDFLAGS ------------------------------------ */

struct getkeys {
    struct srv_conn *c;
    const struct proto_arg *argv;
    const struct srv_command *cmd;
    bool flags;
    long long n;
};

static int count_key(void *arg, size_t idx, unsigned kflags)
{
    (void)idx;
    (void)kflags;
    ((struct getkeys *)arg)->n++;
    return 0;
}

static bool name_has(const struct srv_command *cmd, const char *part)
{
    return strstr(cmd->name, part) != NULL;
}

/* Redis 7.0's words for how a key is used (its key specs' flags), from
 * the row's flags and, where Redis's words differ between commands of the
 * same row flags, the kind of command: a key only read is RO access
 * (EXISTS and TYPE, neither read nor written: RO); one read and written
 * RW access update, or RW access delete where elements or the key go
 * (pops, GETDEL, a move's source); one only written OW update when it is
 * replaced whole (SET, MSET, a destination), RM delete (DEL, UNLINK), RW
 * insert (pushes, SADD, APPEND, a move's destination), RW delete
 * (removals), else RW update. */
static int key_words(const struct srv_command *cmd, unsigned kflags, size_t idx,
                     const char *v[3])
{
    bool dest = ((cmd->flags & CMD_KEY_DEST) && idx > 1) ||
                ((cmd->flags & CMD_KEY_FIRSTDEST) && idx == (size_t)cmd->first_key);
    bool coll = !(cmd->categories & (ACL_STRING | ACL_KEYSPACE | ACL_BITMAP));

    if (kflags == 0)
        return v[0] = "RO", 1;
    if (kflags == SRV_KEY_R)
        return v[0] = "RO", v[1] = "access", 2;
    if (kflags & SRV_KEY_R) {
        bool gone = name_has(cmd, "pop") || name_has(cmd, "getdel") ||
                    (cmd->flags & CMD_KEY_DEST);
        return v[0] = "RW", v[1] = "access", v[2] = gone ? "delete" : "update", 3;
    }
    if (strcmp(cmd->name, "del") == 0 || strcmp(cmd->name, "unlink") == 0)
        return v[0] = "RM", v[1] = "delete", 2;
    v[0] = "RW";
    if (dest && !(coll && (cmd->flags & CMD_KEY_DEST)))
        return v[0] = "OW", v[1] = "update", 2;
    if (dest || name_has(cmd, "push") || name_has(cmd, "insert") ||
        strcmp(cmd->name, "sadd") == 0 || strcmp(cmd->name, "append") == 0)
        v[1] = "insert";
    else if (!coll && (strcmp(cmd->name, "set") == 0 || name_has(cmd, "mset") ||
                       name_has(cmd, "setex")))
        return v[0] = "OW", v[1] = "update", 2;
    else if (coll && (name_has(cmd, "rem") || name_has(cmd, "del") || name_has(cmd, "trim")))
        v[1] = "delete";
    else
        v[1] = "update";
    return 2;
}

static int reply_key(void *arg, size_t idx, unsigned kflags)
{
    struct getkeys *g = arg;

    if (g->flags) {
        srv_reply_array(g->c, 2);
        const char *v[3];
        int n = key_words(g->cmd, kflags, idx, v);

        srv_reply_bulk(g->c, g->argv[idx].ptr, g->argv[idx].len);
        srv_reply_array(g->c, n);
        for (int i = 0; i < n; i++)
            srv_reply_simple(g->c, v[i]);
    } else {
        srv_reply_bulk(g->c, g->argv[idx].ptr, g->argv[idx].len);
    }
    return 0;
}

static void getkeys(struct srv_conn *c, size_t argc, struct proto_arg *argv, bool flags)
{
    const struct srv_command *container;
    const struct srv_command *cmd = srv_command_resolve(argc - 2, argv + 2, &container);
    struct getkeys g = { .c = c, .argv = argv + 2, .cmd = cmd, .flags = flags };

    if (cmd == NULL) {
        srv_reply_error(c, "ERR Invalid command specified");
        return;
    }
    if (cmd->arity > 0 ? (long)(argc - 2) != cmd->arity : (long)(argc - 2) < -cmd->arity) {
        srv_reply_error(c, "ERR Invalid number of arguments specified for command");
        return;
    }
    srv_command_keys(cmd, argc - 2, argv + 2, count_key, &g);
    if (g.n == 0) {
        srv_reply_error(c, cmd->first_key > 0 ? "ERR Invalid arguments specified for command"
                                              : "ERR The command has no key arguments");
        return;
    }
    srv_reply_array(c, g.n);
    srv_command_keys(cmd, argc - 2, argv + 2, reply_key, &g);
}

/* COMMAND GETKEYS command [arg ...] */
SRV_HANDLER(srv_cmd_command_getkeys)
{
    getkeys(c, argc, argv, false);
}

/* COMMAND GETKEYSANDFLAGS command [arg ...] */
SRV_HANDLER(srv_cmd_command_getkeysandflags)
{
    getkeys(c, argc, argv, true);
}
