/*
 * COMMAND DOCS from docs.def: each row's argument line, written as the
 * usage line a user reads, is parsed once at start-up into the argument
 * tree Redis 7.0 sends (name, type, key_spec_index, token, flags,
 * arguments), which redis-cli turns back into its `help` line and its
 * hints.
 *
 * The argument language (see docs.def's header for examples):
 *   name            an argument of type string
 *   name:type       type: key, string, integer, double, pattern, unix-time
 *   TOKEN           a pure token (name: the token in lower case)
 *   TOKEN unit      the token comes before the next unit (an argument, a
 *                   ( ) or a { }), which takes it
 *   [ units ]       optional: one unit, or a block of several
 *   ( a | b ... )   one of the alternatives (a block when one has several units)
 *   { units }       a block
 *   label=group     names a ( ), [ ] or { } group (else its token's name)
 *   unit...         may be repeated
 *
 * Context: srv_docs_init() on the main thread before the workers start;
 * the tree is immutable after that and read by any worker.
 */
#include <ctype.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "docs.h"
#include "srv.h"

struct doc_row {
    const char *name, *group, *since, *summary, *complexity, *args;
};

static const struct doc_row doc_rows[] = {
#define DOC(name, group, since, summary, complexity, args) \
    { name, group, since, summary, complexity, args },
#include "docs.def"
#undef DOC
};
#define DOC_ROWS (sizeof(doc_rows) / sizeof(doc_rows[0]))

enum arg_type { T_STRING, T_KEY, T_INTEGER, T_DOUBLE, T_PATTERN, T_UNIX_TIME,
                T_PURE_TOKEN, T_ONEOF, T_BLOCK };
static const char *const type_names[] = {
    "string", "key", "integer", "double", "pattern", "unix-time",
    "pure-token", "oneof", "block",
};

#define F_OPTIONAL 1u
#define F_MULTIPLE 2u

struct doc_arg {
    const char *name;     /* in the arena */
    const char *token;    /* in the arena, or NULL */
    uint8_t type;         /* enum arg_type */
    uint8_t flags;        /* F_* */
    int16_t key_spec;     /* a key's index among the command's keys, else -1 */
    uint16_t first, n;    /* children: args[first .. first+n) */
};

struct cmd_docs {
    struct srv_doc_info info;
    uint16_t first;       /* top-level arguments: args[first .. first+nargs) */
    bool present;
};

#define ARGS_MAX   4096
#define ARENA_MAX  (64 * 1024)
#define LIST_MAX   32     /* units in one sequence or alternatives in one ( ) */

/* All immutable after srv_docs_init(). */
static struct doc_arg args[ARGS_MAX];
static size_t nargs_used;
static char arena[ARENA_MAX];
static size_t arena_used;
static struct cmd_docs docs[SRV_COMMAND_MAX];

/* ---- parsing (start-up only) ------------------------------------------------ */

struct parser {
    const char *p;
    const char *row;      /* the command, for the error */
    int keys;             /* key arguments so far */
};

static _Noreturn void bad(const struct parser *ps, const char *why)
{
    srv_log(CFG_LOG_WARNING, "docs.def: row '%s': %s at \"%.20s\"", ps->row, why, ps->p);
    abort();
}

static const char *intern(const struct parser *ps, const char *s, size_t n, bool lower)
{
    char *out = arena + arena_used;

    if (arena_used + n + 1 > ARENA_MAX)
        bad(ps, "grow ARENA_MAX");
    for (size_t i = 0; i < n; i++)
        out[i] = lower ? (char)tolower((unsigned char)s[i]) : s[i];
    out[n] = '\0';
    arena_used += n + 1;
    return out;
}

static void skip_space(struct parser *ps)
{
    while (*ps->p == ' ')
        ps->p++;
}

static bool word_char(char ch)
{
    return isalnum((unsigned char)ch) || ch == '-' || ch == '_';
}

static size_t word_len(const char *s)
{
    size_t n = 0;

    while (word_char(s[n]))
        n++;
    return n;
}

static bool is_token(const char *s, size_t n)
{
    if (n == 0 || !isupper((unsigned char)s[0]))
        return false;
    for (size_t i = 0; i < n; i++)
        if (islower((unsigned char)s[i]))
            return false;
    return true;
}

static int parse_type(const char *s, size_t n)
{
    for (int t = T_STRING; t <= T_UNIX_TIME; t++)
        if (strlen(type_names[t]) == n && memcmp(type_names[t], s, n) == 0)
            return t;
    return -1;
}

/* Copy a sequence's units into args[], contiguous as the reply walks them. */
static uint16_t store(const struct parser *ps, const struct doc_arg *units, size_t n)
{
    size_t first = nargs_used;

    if (nargs_used + n > ARGS_MAX)
        bad(ps, "grow ARGS_MAX");
    memcpy(&args[first], units, n * sizeof(*units));
    nargs_used += n;
    return (uint16_t)first;
}

static size_t parse_seq(struct parser *ps, struct doc_arg *out);

/* A block of the n units in seq, or the unit itself when n is 1. */
static void group_of(struct parser *ps, struct doc_arg *seq, size_t n,
                     const char *label, struct doc_arg *out)
{
    if (n == 1 && label == NULL) {
        *out = seq[0];
        return;
    }
    if (n == 0)
        bad(ps, "empty group");
    *out = (struct doc_arg){ .name = label, .type = T_BLOCK, .key_spec = -1,
                             .first = store(ps, seq, n), .n = (uint16_t)n };
}

/* One unit, with its label, token, brackets and "...". */
static void parse_unit(struct parser *ps, struct doc_arg *out)
{
    struct doc_arg seq[LIST_MAX];
    const char *label = NULL, *token = NULL;
    size_t n = word_len(ps->p);

    if (n > 0 && ps->p[n] == '=') {
        label = intern(ps, ps->p, n, false);
        ps->p += n + 1;
        n = word_len(ps->p);
    }
    if (is_token(ps->p, n)) {
        const char *after = ps->p + n;

        while (*after == ' ')
            after++;
        token = intern(ps, ps->p, n, false);
        if (islower((unsigned char)*after) || *after == '(' || *after == '{') {
            ps->p = after;
            parse_unit(ps, out);
            out->token = token;
            if (out->name == NULL)
                out->name = intern(ps, token, n, true);
            return;
        }
        ps->p += n;
        *out = (struct doc_arg){ .name = intern(ps, token, n, true), .token = token,
                                 .type = T_PURE_TOKEN, .key_spec = -1 };
    } else if (*ps->p == '[' || *ps->p == '{') {
        char close = *ps->p == '[' ? ']' : '}';
        bool optional = *ps->p == '[';

        ps->p++;
        n = parse_seq(ps, seq);
        if (*ps->p != close)
            bad(ps, "unclosed group");
        ps->p++;
        if (optional)
            group_of(ps, seq, n, label, out);
        else
            *out = (struct doc_arg){ .name = label, .type = T_BLOCK, .key_spec = -1,
                                     .first = store(ps, seq, n), .n = (uint16_t)n };
        if (optional)
            out->flags |= F_OPTIONAL;
    } else if (*ps->p == '(') {
        struct doc_arg alts[LIST_MAX];
        size_t nalts = 0;

        do {
            ps->p++;
            if (nalts == LIST_MAX)
                bad(ps, "grow LIST_MAX");
            n = parse_seq(ps, seq);
            group_of(ps, seq, n, n > 1 ? seq[0].name : NULL, &alts[nalts++]);
        } while (*ps->p == '|');
        if (*ps->p != ')')
            bad(ps, "unclosed ( )");
        ps->p++;
        *out = (struct doc_arg){ .name = label, .type = T_ONEOF, .key_spec = -1,
                                 .first = store(ps, alts, nalts), .n = (uint16_t)nalts };
    } else if (n > 0 && islower((unsigned char)*ps->p)) {
        int type = T_STRING;

        *out = (struct doc_arg){ .name = intern(ps, ps->p, n, false), .key_spec = -1 };
        ps->p += n;
        if (*ps->p == ':') {
            size_t tn = word_len(++ps->p);

            if ((type = parse_type(ps->p, tn)) < 0)
                bad(ps, "unknown type");
            ps->p += tn;
        }
        out->type = (uint8_t)type;
        if (type == T_KEY)
            out->key_spec = (int16_t)ps->keys++;
    } else {
        bad(ps, "expected an argument");
    }
    if (strncmp(ps->p, "...", 3) == 0) {
        out->flags |= F_MULTIPLE;
        ps->p += 3;
    }
}

/* Units up to the end, a closing bracket or a '|'. */
static size_t parse_seq(struct parser *ps, struct doc_arg *out)
{
    size_t n = 0;

    for (skip_space(ps); *ps->p != '\0' && !strchr("])}|", *ps->p); skip_space(ps)) {
        if (n == LIST_MAX)
            bad(ps, "grow LIST_MAX");
        parse_unit(ps, &out[n]);
        if (out[n].name == NULL && out[n].token == NULL)
            bad(ps, "a group needs a label= or a token");
        n++;
    }
    return n;
}

static const struct doc_row *row_of(const struct srv_command *cmd)
{
    const struct doc_row *found = NULL;

    for (size_t i = 0; i < DOC_ROWS; i++) {
        if (strcmp(doc_rows[i].name, cmd->fullname) != 0)
            continue;
        if (found != NULL) {
            srv_log(CFG_LOG_WARNING, "docs.def: two rows for '%s'", cmd->fullname);
            abort();
        }
        found = &doc_rows[i];
    }
    return found;
}

void srv_docs_init(void)
{
    for (size_t i = 0; i < srv_command_count; i++) {
        const struct srv_command *cmd = &srv_command_table[i];
        const struct doc_row *row = row_of(cmd);
        struct parser ps;
        struct doc_arg seq[LIST_MAX];
        size_t n;

        if (row == NULL)
            continue;   /* COMMAND DOCS: an empty map; tests/server/test_docs fails */
        ps = (struct parser){ .p = row->args, .row = row->name };
        n = parse_seq(&ps, seq);
        if (*ps.p != '\0')
            bad(&ps, "unbalanced bracket");
        docs[cmd->id] = (struct cmd_docs){
            .info = { row->summary, row->since, row->group, row->complexity, n },
            .first = store(&ps, seq, n),
            .present = true,
        };
    }
}

const struct srv_doc_info *srv_docs_of(const struct srv_command *cmd)
{
    return docs[cmd->id].present ? &docs[cmd->id].info : NULL;
}

/* ---- the reply ------------------------------------------------------------------ */

static void reply_args(struct srv_conn *c, uint16_t first, size_t n)
{
    srv_reply_array(c, (long long)n);
    for (size_t i = first; i < first + n; i++) {
        const struct doc_arg *a = &args[i];
        long long fields = 2 + (a->key_spec >= 0) + (a->token != NULL) +
                           (a->flags != 0) + (a->n > 0);

        srv_reply_array(c, fields * 2);
        srv_reply_bulk_cstr(c, "name");
        srv_reply_bulk_cstr(c, a->name);
        srv_reply_bulk_cstr(c, "type");
        srv_reply_bulk_cstr(c, type_names[a->type]);
        if (a->key_spec >= 0) {
            srv_reply_bulk_cstr(c, "key_spec_index");
            srv_reply_int(c, a->key_spec);
        }
        if (a->token != NULL) {
            srv_reply_bulk_cstr(c, "token");
            srv_reply_bulk_cstr(c, a->token);
        }
        if (a->flags != 0) {
            srv_reply_bulk_cstr(c, "flags");
            srv_reply_array(c, __builtin_popcount(a->flags));
            if (a->flags & F_OPTIONAL)
                srv_reply_simple(c, "optional");
            if (a->flags & F_MULTIPLE)
                srv_reply_simple(c, "multiple");
        }
        if (a->n > 0) {
            srv_reply_bulk_cstr(c, "arguments");
            reply_args(c, a->first, a->n);
        }
    }
}

void srv_docs_reply(struct srv_conn *c, const struct srv_command *cmd)
{
    const struct cmd_docs *d = &docs[cmd->id];
    long long fields;

    if (!d->present) {
        srv_reply_array(c, 0);
        return;
    }
    fields = 4 + (d->info.nargs > 0) + (cmd->nsubs > 0);
    srv_reply_array(c, fields * 2);
    srv_reply_bulk_cstr(c, "summary");
    srv_reply_bulk_cstr(c, d->info.summary);
    srv_reply_bulk_cstr(c, "since");
    srv_reply_bulk_cstr(c, d->info.since);
    srv_reply_bulk_cstr(c, "group");
    srv_reply_bulk_cstr(c, d->info.group);
    srv_reply_bulk_cstr(c, "complexity");
    srv_reply_bulk_cstr(c, d->info.complexity);
    if (d->info.nargs > 0) {
        srv_reply_bulk_cstr(c, "arguments");
        reply_args(c, d->first, d->info.nargs);
    }
    if (cmd->nsubs > 0) {
        srv_reply_bulk_cstr(c, "subcommands");
        srv_reply_array(c, (long long)cmd->nsubs * 2);
        for (unsigned i = 0; i < cmd->nsubs; i++) {
            srv_reply_bulk_cstr(c, cmd->subs[i].fullname);
            srv_docs_reply(c, &cmd->subs[i]);
        }
    }
}
