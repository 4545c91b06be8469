/*
 * Internal to the command layer (dispatch.c, reply.c, cmd_*.c, info.c):
 * handler prototypes and the small helpers every handler shares, so that
 * "parse an integer or reply the error" is written once.
 *
 * Context: everything here runs on the worker that owns the connection,
 * inside srv_dispatch(); nothing here takes a lock of its own.
 */
#ifndef MMCACHE_COMMANDS_H
#define MMCACHE_COMMANDS_H

#include <stddef.h>

#include "srv.h"

/* ---- the request context ------------------------------------------------- */

/* A handler that needs a setting reads c->cfg: the one snapshot that
 * srv_dispatch() took for this request (see struct srv_conn). */

/* ---- argument helpers ----------------------------------------------------- */

/* Case-insensitive compare of an argument with a lower-case literal. */
int srv__arg_is(const struct proto_arg *a, const char *lit);

/* Parse a as a long long. On failure reply `err` (SRV_ERR_NOTINT when NULL)
 * and return -1; the handler then just returns. */
int srv__arg_ll(struct srv_conn *c, const struct proto_arg *a, long long *out,
                const char *err);
/* Same for a value that must fit an int (Redis's getIntFromObjectOrReply:
 * out-of-range integers get Redis's range message). */
int srv__arg_int(struct srv_conn *c, const struct proto_arg *a, int *out);

/* Copy an argument into a NUL-terminated buffer (truncates). */
void srv__arg_cstr(const struct proto_arg *a, char *buf, size_t cap);

/* Reply Redis's error for a negative cache_rc (CACHE_E_OOM -> the OOM
 * error under noeviction, CACHE_E_NOTINT -> SRV_ERR_NOTINT, ...). */
void srv__reply_cache_err(struct srv_conn *c, int rc);
/* OK: the value in c->w->scratch as a bulk; NOTFOUND: null; else the error. */
void srv__reply_value_or_null(struct srv_conn *c, int rc);

/* Keyspace hit/miss for a read lookup (Redis counts one per key read). */
void srv__stat_lookup(struct srv_conn *c, int found);

/* ---- subcommands ---------------------------------------------------------- */

/* A container command (CONFIG, CLIENT, ...) has its subcommands as rows of
 * commands.def (SUBCMD): dispatch resolves argv[1] among them, so each
 * subcommand handler is a handler like any other. */
/* AUTH's check for AUTH and HELLO AUTH (cmd_acl.c): 0 when c is now the
 * user; else -1 after logging the failure (object: cmd as typed) and
 * replying WRONGPASS. */
int srv__auth(struct srv_conn *c, const struct proto_arg *cmd, const struct proto_arg *user,
              const struct proto_arg *pass);

/* Reply a HELP array: a header line and the given lines, as status strings. */
void srv__reply_help(struct srv_conn *c, const char *upper,
                     const char *const *lines);

/* ---- handlers --------------------------------------------------------------- */

#define SRV_HANDLER(name) \
    void name(struct srv_conn *c, size_t argc, struct proto_arg *argv)

/* One prototype per row of commands.def. */
#define CMD(name, arity, flags, cats, fk, lk, ks, fn) SRV_HANDLER(fn);
#define SUBCMD(parent, name, arity, flags, cats, fk, lk, ks, fn) SRV_HANDLER(fn);
#include "commands.def"
#undef SUBCMD
#undef CMD

#endif
