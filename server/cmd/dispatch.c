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
#include <strings.h>

#include "acl.h"
#include "commands.h"
#include "docs.h"
#include "inject.h"
#include "timehist.h"
#include "srv.h"

/* The rows of commands.def. Not const: srv_commands_init() adds the
 * categories the flags imply, links containers to their subcommands and
 * notes the one-key rows (one_key), once, before the workers start;
 * immutable after that (thread creation orders the writes before every
 * reader). */
struct srv_command srv_command_table[] = {
#define CMD(name, arity, flags, cats, fk, lk, ks, fn) \
    { #name, #name, arity, flags, cats, fk, lk, ks, fn, NULL, NULL, NULL, 0, 0, 0 },
#define SUBCMD(parent, name, arity, flags, cats, fk, lk, ks, fn) \
    { #name, #parent "|" #name, arity, flags, cats, fk, lk, ks, fn, #parent, \
      NULL, NULL, 0, 0, 0 },
#include "commands.def"
#undef SUBCMD
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
#define CMD_SLOTS    512        /* power of two, > 2 * srv_command_count */

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
    struct srv_command *container = NULL;

    static_assert(CMD_SLOTS >= 2 * (sizeof(srv_command_table) /
                                    sizeof(srv_command_table[0])),
                  "grow CMD_SLOTS");
    static_assert(sizeof(srv_command_table) / sizeof(srv_command_table[0]) <
                  SRV_COMMAND_MAX, "grow SRV_COMMAND_MAX");
    for (size_t i = 0; i < CMD_SLOTS; i++)
        cmd_slots[i].idx = -1;
    for (size_t i = 0; i < srv_command_count; i++) {
        struct srv_command *cmd = &srv_command_table[i];
        size_t len = strlen(cmd->name);
        uint32_t h = name_hash(cmd->name, len) & (CMD_SLOTS - 1);

        cmd->id = (unsigned)i;
        cmd->one_key = srv_command_one_key(cmd);
        cmd->categories |= implied_categories(cmd->flags);
        assert(len < CMD_NAME_MAX);
        assert(cmd->first_key <= 0 || cmd->key_step > 0);   /* the ACL key walk */
        if (cmd->parent_name != NULL) {
            /* A SUBCMD row follows its container or a sibling. */
            assert(container && strcmp(container->name, cmd->parent_name) == 0);
            cmd->parent = container;
            if (container->subs == NULL)
                container->subs = cmd;
            container->nsubs++;
            continue;   /* found through its container, not by name */
        }
        container = cmd;
        while (cmd_slots[h].idx >= 0)
            h = (h + 1) & (CMD_SLOTS - 1);
        cmd_slots[h].idx = (int16_t)i;
        cmd_slots[h].len = (uint8_t)len;
    }
    srv_docs_init();
}

/* The lookup, inlined into srv_dispatch's resolve (the command path) and
 * wrapped by srv_command_lookup for the others. */
static inline const struct srv_command *lookup(const char *name, size_t len)
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

const struct srv_command *srv_command_lookup(const char *name, size_t len)
{
    return lookup(name, len);
}

/* A container's subcommand by name, any case: a few rows, scanned. */
static const struct srv_command *find_sub(const struct srv_command *container,
                                          const char *name, size_t len)
{
    for (unsigned i = 0; i < container->nsubs; i++) {
        const struct srv_command *sub = &container->subs[i];

        if (strlen(sub->name) == len && strncasecmp(sub->name, name, len) == 0)
            return sub;
    }
    return NULL;
}

static inline const struct srv_command *resolve(size_t argc, const struct proto_arg *argv,
                                                const struct srv_command **container)
{
    const struct srv_command *cmd = lookup(argv[0].ptr, argv[0].len);

    *container = NULL;
    /* Redis: a container given no subcommand is itself (its arity then
     * decides), given one it is that subcommand or nothing. */
    if (cmd == NULL || __builtin_expect(cmd->nsubs == 0, 1) || argc < 2)
        return cmd;
    *container = cmd;
    return find_sub(cmd, argv[1].ptr, argv[1].len);
}

const struct srv_command *srv_command_resolve(size_t argc, const struct proto_arg *argv,
                                              const struct srv_command **container)
{
    return resolve(argc, argv, container);
}

const struct srv_command *srv_command_by_fullname(const char *name, size_t len)
{
    const char *bar = memchr(name, '|', len);
    const struct srv_command *cmd;

    if (bar == NULL)
        return lookup(name, len);
    cmd = lookup(name, (size_t)(bar - name));
    if (cmd == NULL || cmd->nsubs == 0)
        return NULL;
    return find_sub(cmd, bar + 1, len - (size_t)(bar - name) - 1);
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

/* Redis 7: -ERR unknown subcommand 'foo'. Try CONFIG HELP. */
static void reply_unknown_sub(struct srv_conn *c, const struct srv_command *container,
                              const struct proto_arg *sub)
{
    char upper[CMD_NAME_MAX];
    size_t i;

    for (i = 0; container->name[i] != '\0'; i++)
        upper[i] = (char)toupper((unsigned char)container->name[i]);
    upper[i] = '\0';
    srv_reply_errorf(c, "ERR unknown subcommand '%.*s'. Try %s HELP.",
                     (int)(sub->len < 128 ? sub->len : 128), sub->ptr, upper);
}

/* A container's own row: its arity (-2) sends a call without a subcommand
 * to the arity error, and one with a subcommand runs that subcommand, so
 * this is never reached; should a row ever let it be, the client gets
 * Redis's unknown-subcommand reply rather than nothing. */
SRV_HANDLER(srv_cmd_container)
{
    const struct srv_command *cmd = srv_command_lookup(argv[0].ptr, argv[0].len);

    if (cmd != NULL && argc >= 2)
        reply_unknown_sub(c, cmd, &argv[1]);
    else
        srv_reply_errorf(c, "ERR wrong number of arguments for '%.*s' command",
                         (int)(argv[0].len < 128 ? argv[0].len : 128), argv[0].ptr);
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

/* Redis 7.0's protected commands (CMD_PROTECTED; DEBUG is the only one
 * here, MODULE the other there): refused unless enable-debug-command
 * allows this client, with Redis's words. processCommand checks it after
 * the arity and before authentication and the ACL, so a client that has
 * not authenticated is told DEBUG is off rather than NOAUTH, and where the
 * lever allows the client, the ACL still decides (NOPERM). */
static bool __attribute__((cold)) protected_refused(struct srv_conn *c, const struct cfg *cfg)
{
    if (cfg_lever_allows(cfg->enable_debug_command, c->local))
        return false;
    srv_reply_error(c, "ERR DEBUG command not allowed. If the enable-debug-command option is "
                       "set to \"local\", you can run it from a local connection, otherwise "
                       "you need to set this option in the configuration file, and then "
                       "restart the server.");
    return true;
}

/* INFO commandstats: a call that ran, how long, and whether it replied an
 * error (the worker's error count moved since `errors`). Each counter is
 * the worker's own: no read-modify-write (struct srv_cmdstat). Then INFO
 * latencystats, SLOWLOG and LATENCY when the call was slower than their
 * thresholds (a compare each when it was not), and MONITOR. */
void srv__count_call(struct srv_conn *c, const struct srv_command *cmd, uint64_t t0,
                     uint64_t errors, size_t argc, const struct proto_arg *argv)
{
    struct srv_worker *w = c->w;
    const struct cfg *cfg = c->cfg;   /* the snapshot dispatch holds for this call */
    struct srv_cmdstat *cs = &w->cmdstats[cmd->id];
    uint64_t ns = srv_mono_ns() - t0;

    SRV_STAT_ADD(cs, ns, ns);
    srv_hist_add_owned(w->cmd_hist, ns);   /* /metrics: mmcache_command_duration_seconds */
    if (cfg->latency_tracking)
        srv__latstat_record(w, cmd, ns);
    if (__builtin_expect(cfg->slowlog_log_slower_than >= 0 &&
                         ns / 1000 >= (uint64_t)cfg->slowlog_log_slower_than, 0))
        srv__slowlog_push(c, cfg, cmd, argc, argv, ns / 1000);
    if (__builtin_expect(cfg->latency_monitor_threshold > 0 &&
                         ns / 1000000 >= (uint64_t)cfg->latency_monitor_threshold, 0))
        srv_latency_sample(cmd->flags & CMD_FAST ? SRV_LAT_FAST_COMMAND : SRV_LAT_COMMAND,
                           ns / 1000000);
    srv_latency_eviction();   /* what this call's writes spent evicting */
    /* acquire: pairs with the release in srv_monitor_add/remove */
    if (__builtin_expect(atomic_load_explicit(&srv_monitors, memory_order_acquire) != 0, 0))
        srv__monitor_feed(c, cmd, argc, argv);
    SRV_STAT_ADD(cs, calls, 1);
    if (atomic_load_explicit(&w->errstats->replied, memory_order_relaxed) != errors)
        SRV_STAT_ADD(cs, failed, 1);
}

void srv_dispatch(struct srv_conn *c, size_t argc, struct proto_arg *argv)
{
    const struct srv_command *cmd, *container;

    if (argc == 0)
        return;
    cmd = resolve(argc, argv, &container);
    if (__builtin_expect(c->flags & CONN_MULTI, 0) &&
        (cmd == NULL || !arity_ok(cmd->arity, argc)))
        srv_multi_reject(c);   /* refused while queueing: EXEC aborts */
    if (cmd == NULL) {
        if (container != NULL)
            reply_unknown_sub(c, container, &argv[1]);
        else
            reply_unknown(c, argc, argv);
        return;
    }
    if (!arity_ok(cmd->arity, argc)) {
        srv_reply_errorf(c, "ERR wrong number of arguments for '%s' command",
                         cmd->fullname);
        SRV_STAT_ADD(&c->w->cmdstats[cmd->id], rejected, 1);   /* as Redis counts it */
        return;
    }
    /* Stored before the handler, as Redis does, so CLIENT INFO shows
     * itself ("client|info"). */
    atomic_store_explicit(&c->last_cmd, cmd->fullname, memory_order_relaxed);
    /* The one snapshot this request sees, from start to reply, however
     * many reloads happen meanwhile. A fresh one per request, so a
     * pipelined command right after CONFIG SET sees the new setting. */
    struct srv_worker *w = c->w;
    uint64_t ran = 0;   /* when the handler started; 0: it did not run */
    uint64_t errors = atomic_load_explicit(&w->errstats->replied, memory_order_relaxed);
    const struct cfg *cfg = cfg_read_lock();
    c->cfg = cfg;
    inject_enter(cfg_inject_mask(cfg));   /* the bug lab's choice for this request */
    /* DEBUG's lever, then authentication and the user's rules, in
     * Redis's order: a refused command reaches no handler (no loader
     * call, no cache). */
    if (__builtin_expect(cmd->flags & CMD_PROTECTED, 0) && protected_refused(c, cfg))
        ;   /* replied: its lever does not allow this client */
    else if (srv_acl_gate(c, cmd, argc, argv) < 0)
        ;   /* replied NOAUTH / NOPERM, or closed (its user was deleted) */
    /* Redis's denyoom rule: under noeviction, once memory is over the
     * limit every write command is refused, even one that would not grow
     * (the cache itself refuses the writes that would). */
    else if ((cmd->flags & CMD_DENYOOM) && cfg->maxmemory &&
             cfg->policy == CFG_NOEVICTION && cache_over_maxmemory(srv.cache))
        srv_reply_error(c, SRV_ERR_OOM);
    else
        ran = srv_mono_ns();
    if (ran && __builtin_expect(c->flags & CONN_MULTI, 0) &&
        srv_multi_queue(c, cmd, argc, argv)) {
        ;   /* queued: it runs (and counts) in EXEC */
    } else if (ran) {
        srv__run(c, cmd, argc, argv);
        srv__count_call(c, cmd, ran, errors, argc, argv);
    } else {
        SRV_STAT_ADD(&w->cmdstats[cmd->id], rejected, 1);   /* refused before the handler */
        if (c->flags & CONN_MULTI)
            srv_multi_reject(c);
    }
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

int srv__arg_cursor(struct srv_conn *c, const struct proto_arg *a, uint64_t *out)
{
    size_t i = 0;
    uint64_t v = 0;
    int neg = 0;

    if (a->len > 0 && isspace((unsigned char)a->ptr[0]))
        goto invalid;
    if (a->len > 0 && (a->ptr[0] == '+' || a->ptr[0] == '-'))
        neg = a->ptr[i++] == '-';
    if (i == a->len && a->len > 0)
        goto invalid;   /* a sign alone */
    for (; i < a->len; i++) {
        unsigned d = (unsigned char)a->ptr[i] - '0';

        if (d > 9 || v > (UINT64_MAX - d) / 10)
            goto invalid;
        v = v * 10 + d;
    }
    *out = neg ? (uint64_t)0 - v : v;
    return 0;
invalid:
    srv_reply_error(c, "ERR invalid cursor");
    return -1;
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

void srv__stat_lookups(struct srv_conn *c, uint64_t hits, uint64_t misses)
{
    if (!INJECT(2)) {   /* one add each, not one per key */
        SRV_STAT_ADD(&c->w->stats, hits, hits);
        SRV_STAT_ADD(&c->w->stats, misses, misses);
        return;
    }
    for (uint64_t i = 0; i < hits; i++)
        srv__stat_lookup(c, 1);
    for (uint64_t i = 0; i < misses; i++)
        srv__stat_lookup(c, 0);
}

void srv__stat_rc(struct srv_conn *c, int rc)
{
    if (rc == CACHE_OK || rc == CACHE_NOTFOUND || rc == CACHE_NOELEM ||
        rc == CACHE_E_WRONGTYPE)
        srv__stat_lookup(c, rc != CACHE_NOTFOUND);
}
