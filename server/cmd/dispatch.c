/*
 * Command dispatch: the static command table, a case-insensitive lookup
 * that neither allocates nor scans the table, Redis's arity and
 * unknown-command errors, and the per-request bookkeeping (config snapshot,
 * last command, the commands counter).
 *
 * Context: srv_commands_init() on the main thread before workers start;
 * everything else on the worker that owns the connection.
 */
#include <assert.h>
#include <ctype.h>
#include <stdint.h>
#include <string.h>

#include "commands.h"
#include "inject.h"
#include "srv.h"

/* The rows of commands.def. Not const: srv_commands_init() adds the
 * categories the flags imply, once, before the workers start; immutable
 * after that (thread creation orders the writes before every reader). */
struct srv_command srv_command_table[] = {
#define CMD(name, arity, flags, cats, fk, lk, ks, fn) \
    { #name, arity, flags, cats, fk, lk, ks, fn },
#include "commands.def"
#undef CMD
};
const size_t srv_command_count =
    sizeof(srv_command_table) / sizeof(srv_command_table[0]);

const char *const srv_acl_category_names[ACL_BIT_COUNT] = {
#define ACLCAT(k, name) name,
#include "acl_categories.def"
#undef ACLCAT
};

/* Redis's setImplicitACLCategories: the categories a command's flags
 * imply, so that a row names only its group's. */
static uint64_t implied_categories(unsigned flags)
{
    uint64_t cats = 0;

    if (flags & CMD_WRITE)
        cats |= ACL_WRITE;
    if (flags & CMD_READONLY)
        cats |= ACL_READ;
    if (flags & CMD_ADMIN)
        cats |= ACL_ADMIN | ACL_DANGEROUS;
    cats |= (flags & CMD_FAST) ? ACL_FAST : ACL_SLOW;
    return cats;
}

/* ---- lookup ----------------------------------------------------------------
 * An open-addressing table of indexes into srv_command_table, keyed by the
 * lower-cased name. Built once before the workers start and read-only
 * afterwards (thread creation orders the writes before every reader). */

#define CMD_NAME_MAX 32         /* longer names are never commands */
#define CMD_SLOTS    256        /* power of two, > 2 * srv_command_count */

static struct {
    int16_t idx;                /* -1: empty */
    uint8_t len;
} cmd_slots[CMD_SLOTS];         /* immutable after srv_commands_init() */

static uint32_t name_hash(const char *s, size_t n)
{
    uint32_t h = 2166136261u;   /* FNV-1a */

    for (size_t i = 0; i < n; i++)
        h = (h ^ (uint8_t)s[i]) * 16777619u;
    return h;
}

void srv_commands_init(void)
{
    static_assert(CMD_SLOTS >= 2 * (sizeof(srv_command_table) /
                                    sizeof(srv_command_table[0])),
                  "grow CMD_SLOTS");
    for (size_t i = 0; i < CMD_SLOTS; i++)
        cmd_slots[i].idx = -1;
    for (size_t i = 0; i < srv_command_count; i++) {
        struct srv_command *cmd = &srv_command_table[i];
        size_t len = strlen(cmd->name);
        uint32_t h = name_hash(cmd->name, len) & (CMD_SLOTS - 1);

        cmd->categories |= implied_categories(cmd->flags);
        assert(len < CMD_NAME_MAX);
        while (cmd_slots[h].idx >= 0)
            h = (h + 1) & (CMD_SLOTS - 1);
        cmd_slots[h].idx = (int16_t)i;
        cmd_slots[h].len = (uint8_t)len;
    }
}

/* Find a command by name in any case; NULL if there is none. */
static const struct srv_command *lookup(const char *name, size_t len)
{
    char low[CMD_NAME_MAX];
    uint32_t h;

    if (len == 0 || len >= CMD_NAME_MAX)
        return NULL;
    for (size_t i = 0; i < len; i++)
        low[i] = (char)tolower((unsigned char)name[i]);
    h = name_hash(low, len) & (CMD_SLOTS - 1);
    while (cmd_slots[h].idx >= 0) {
        const struct srv_command *cmd = &srv_command_table[cmd_slots[h].idx];

        if (cmd_slots[h].len == len && memcmp(cmd->name, low, len) == 0)
            return cmd;
        h = (h + 1) & (CMD_SLOTS - 1);
    }
    return NULL;
}

static int arity_ok(int arity, size_t argc)
{
    return arity > 0 ? argc == (size_t)arity : argc >= (size_t)-arity;
}

/* Redis 7: -ERR unknown command 'foo', with args beginning with: 'a' 'b'
 * The name is cut at 128 bytes, and the quoted arguments stop once the
 * list reaches 128 bytes (each one cut to what is left of that). */
static void reply_unknown(struct srv_conn *c, size_t argc,
                          const struct proto_arg *argv)
{
    char args[128 + 2 * 128 + 8];
    size_t len = 0;

    for (size_t i = 1; i < argc && len < 128; i++) {
        size_t n = argv[i].len < 128 - len ? argv[i].len : 128 - len;

        args[len++] = '\'';
        memcpy(args + len, argv[i].ptr, n);
        len += n;
        args[len++] = '\'';
        args[len++] = ' ';
    }
    /* Arguments are binary: stop at a NUL like Redis's %s does. */
    srv_reply_errorf(c, "ERR unknown command '%.*s', with args beginning with: %.*s",
                     (int)(argv[0].len < 128 ? argv[0].len : 128), argv[0].ptr,
                     (int)len, args);
}

/* ---- the commands counter, and the bug lab's wrong ways to keep it -------- */

/* Bug 2's shared counters: see struct srv_shared_stats (guarded by nothing). */
struct srv_shared_stats srv_shared_stats;

#define STAT_BUGS ((1u << 2) | (1u << 15) | (1u << 23))

/* Count one command while bug 2, 15 or 23 is selected; the correct
 * counter is the worker's own single-writer srv_stats.commands.
 * Context: the worker w. */
static void __attribute__((noinline, cold)) count_command_lab(struct srv_worker *w)
{
    if (INJECT(2)) {
        /* BUG 2 (counter increment): one counter for every worker, bumped
         * with a plain ++ (load, add, store). Two workers that load the
         * same value both store value+1: one command is lost. Amplified:
         * sched_yield between the load and the store. */
        uint64_t n = srv_shared_stats.commands;
        if (INJECT_AMPLIFY())
            inject_window();
        srv_shared_stats.commands = n + 1;
    } else if (INJECT(15)) {
        /* BUG 15 (misaligned 64-bit atomic): an atomic add on a counter
         * that a packed layout put across a cache-line boundary. On x86-64
         * the locked RMW becomes a split lock: the CPU locks the bus (every
         * core's memory accesses wait), thousands of cycles per command. */
        __atomic_fetch_add(srv_split_commands(&w->split), 1, __ATOMIC_RELAXED);
    } else if (INJECT(23)) {
        /* BUG 23 (unaligned atomic load), writer side: the owner counts
         * in a uint64_t where a packed layout put it, across a cache line
         * (struct srv_stats_split), with the same atomic store of load+1
         * as SRV_STAT_ADD. Across a line the 8-byte store is two stores,
         * and INFO's atomic load (info.c, split_commands) two loads. The
         * correct counter is the aligned srv_stats.commands below. */
        __atomic_store_n(srv_split_commands(&w->split),
                         __atomic_load_n(srv_split_commands(&w->split), __ATOMIC_RELAXED) + 1,
                         __ATOMIC_RELAXED);
    } else {
        SRV_STAT_ADD(&w->stats, commands, 1);
    }
}

/* ---- the request context ------------------------------------------------- */

void srv_dispatch(struct srv_conn *c, size_t argc, struct proto_arg *argv)
{
    const struct srv_command *cmd;

    if (argc == 0)
        return;
    cmd = lookup(argv[0].ptr, argv[0].len);
    if (cmd == NULL) {
        reply_unknown(c, argc, argv);
        return;
    }
    if (!arity_ok(cmd->arity, argc)) {
        srv_reply_errorf(c, "ERR wrong number of arguments for '%s' command",
                         cmd->name);
        return;
    }
    /* Stored before the handler, as Redis does, so CLIENT INFO shows
     * itself; a container command overwrites it with "client|info". */
    atomic_store_explicit(&c->last_cmd, cmd->name, memory_order_relaxed);
    /* The one snapshot this request sees, from start to reply, however
     * many reloads happen meanwhile. A fresh one per request, so a
     * pipelined command right after CONFIG SET sees the new setting. */
    const struct cfg *cfg = cfg_read_lock();
    c->cfg = cfg;
    inject_enter(cfg_inject_mask(cfg));   /* the bug lab's choice for this request */
    /* Redis's denyoom rule: under noeviction, once memory is over the
     * limit every write command is refused, even one that would not grow
     * (the cache itself refuses the writes that would). */
    if ((cmd->flags & CMD_DENYOOM) && cfg->maxmemory &&
        cfg->policy == CFG_NOEVICTION && cache_over_maxmemory(srv.cache))
        srv_reply_error(c, SRV_ERR_OOM);
    else
        cmd->fn(c, argc, argv);
    c->cfg = NULL;
    cfg_read_unlock(cfg);
    /* The thread's bug selection is still this request's (inject_enter
     * above): one predictable branch when none of the stats bugs is on. */
    if (__builtin_expect((inject_mask() & STAT_BUGS) == 0, 1))
        SRV_STAT_ADD(&c->w->stats, commands, 1);
    else
        count_command_lab(c->w);
}

/* ---- helpers shared by the handlers ---------------------------------------- */

int srv__arg_is(const struct proto_arg *a, const char *lit)
{
    size_t n = strlen(lit);

    if (a->len != n)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (tolower((unsigned char)a->ptr[i]) != lit[i])
            return 0;
    return 1;
}

int srv__arg_ll(struct srv_conn *c, const struct proto_arg *a, long long *out,
                const char *err)
{
    if (proto_str2ll(a->ptr, a->len, out) == 0)
        return 0;
    srv_reply_error(c, err != NULL ? err : SRV_ERR_NOTINT);
    return -1;
}

int srv__arg_int(struct srv_conn *c, const struct proto_arg *a, int *out)
{
    long long v;

    if (srv__arg_ll(c, a, &v, NULL) < 0)
        return -1;
    if (v < INT32_MIN || v > INT32_MAX) {
        srv_reply_error(c, "ERR value is out of range, value must between "
                           "-2147483648 and 2147483647");
        return -1;
    }
    *out = (int)v;
    return 0;
}

void srv__arg_cstr(const struct proto_arg *a, char *buf, size_t cap)
{
    size_t n = a->len < cap - 1 ? a->len : cap - 1;

    memcpy(buf, a->ptr, n);
    buf[n] = '\0';
}

/* BUG 2 (counter increment): keyspace hits/misses on counters shared by
 * every worker, plain ++ (see count_command_lab). Out of line and cold:
 * the correct path stays a leaf. */
static void __attribute__((noinline, cold)) stat_lookup_lab(int found)
{
    uint64_t *ctr = found ? &srv_shared_stats.hits : &srv_shared_stats.misses;
    uint64_t n = *ctr;
    if (INJECT_AMPLIFY())
        inject_window();
    *ctr = n + 1;
}

void srv__stat_lookup(struct srv_conn *c, int found)
{
    if (!INJECT(2)) {
        if (found)
            SRV_STAT_ADD(&c->w->stats, hits, 1);
        else
            SRV_STAT_ADD(&c->w->stats, misses, 1);
    } else {
        stat_lookup_lab(found);
    }
}

void srv__subcommand(struct srv_conn *c, size_t argc, struct proto_arg *argv,
                     const struct srv_subcommand *subs, size_t n,
                     const char *upper)
{
    for (size_t i = 0; i < n; i++) {
        if (!srv__arg_is(&argv[1], subs[i].name))
            continue;
        if (!arity_ok(subs[i].arity, argc)) {
            srv_reply_errorf(c, "ERR wrong number of arguments for '%s' command",
                             subs[i].fullname);
            return;
        }
        atomic_store_explicit(&c->last_cmd, subs[i].fullname,
                              memory_order_relaxed);
        subs[i].fn(c, argc, argv);
        return;
    }
    srv_reply_errorf(c, "ERR unknown subcommand '%.*s'. Try %s HELP.",
                     (int)(argv[1].len < 128 ? argv[1].len : 128), argv[1].ptr,
                     upper);
}
