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

/* A container command (CONFIG, CLIENT, ...) routes argv[1] through one of
 * these tables. `fullname` is "config|get", what Redis prints in errors and
 * CLIENT LIST's cmd=. */
struct srv_subcommand {
    const char *name;       /* lower case, e.g. "get" */
    const char *fullname;   /* "config|get" */
    int arity;              /* Redis's, counting the container: CONFIG GET p = 3 */
    srv_cmd_fn *fn;
};
/* Look argv[1] up in subs[0..n) and run it, or reply Redis's "unknown
 * subcommand" / arity error. `upper` is the container in upper case, for
 * "Try CONFIG HELP.". */
void srv__subcommand(struct srv_conn *c, size_t argc, struct proto_arg *argv,
                     const struct srv_subcommand *subs, size_t n,
                     const char *upper);
/* Reply a HELP array: a header line and the given lines, as status strings. */
void srv__reply_help(struct srv_conn *c, const char *upper,
                     const char *const *lines);

/* ---- handlers --------------------------------------------------------------- */

#define SRV_HANDLER(name) \
    void name(struct srv_conn *c, size_t argc, struct proto_arg *argv)

/* cmd_string.c */
SRV_HANDLER(srv_cmd_get);
SRV_HANDLER(srv_cmd_set);
SRV_HANDLER(srv_cmd_setnx);
SRV_HANDLER(srv_cmd_setex);
SRV_HANDLER(srv_cmd_psetex);
SRV_HANDLER(srv_cmd_getset);
SRV_HANDLER(srv_cmd_getdel);
SRV_HANDLER(srv_cmd_getex);
SRV_HANDLER(srv_cmd_mget);
SRV_HANDLER(srv_cmd_mset);
SRV_HANDLER(srv_cmd_msetnx);
SRV_HANDLER(srv_cmd_incr);
SRV_HANDLER(srv_cmd_decr);
SRV_HANDLER(srv_cmd_incrby);
SRV_HANDLER(srv_cmd_decrby);
SRV_HANDLER(srv_cmd_incrbyfloat);
SRV_HANDLER(srv_cmd_append);
SRV_HANDLER(srv_cmd_strlen);
SRV_HANDLER(srv_cmd_getrange);
SRV_HANDLER(srv_cmd_setrange);

/* cmd_keys.c */
SRV_HANDLER(srv_cmd_del);
SRV_HANDLER(srv_cmd_exists);
SRV_HANDLER(srv_cmd_touch);
SRV_HANDLER(srv_cmd_expire);
SRV_HANDLER(srv_cmd_pexpire);
SRV_HANDLER(srv_cmd_expireat);
SRV_HANDLER(srv_cmd_pexpireat);
SRV_HANDLER(srv_cmd_ttl);
SRV_HANDLER(srv_cmd_pttl);
SRV_HANDLER(srv_cmd_expiretime);
SRV_HANDLER(srv_cmd_pexpiretime);
SRV_HANDLER(srv_cmd_persist);
SRV_HANDLER(srv_cmd_type);
SRV_HANDLER(srv_cmd_rename);
SRV_HANDLER(srv_cmd_renamenx);
SRV_HANDLER(srv_cmd_copy);
SRV_HANDLER(srv_cmd_keys);
SRV_HANDLER(srv_cmd_scan);
SRV_HANDLER(srv_cmd_randomkey);
SRV_HANDLER(srv_cmd_dbsize);
SRV_HANDLER(srv_cmd_flushall);
SRV_HANDLER(srv_cmd_select);
SRV_HANDLER(srv_cmd_memory);

/* cmd_server.c */
SRV_HANDLER(srv_cmd_ping);
SRV_HANDLER(srv_cmd_echo);
SRV_HANDLER(srv_cmd_info);
SRV_HANDLER(srv_cmd_config);
SRV_HANDLER(srv_cmd_command);
SRV_HANDLER(srv_cmd_shutdown);
SRV_HANDLER(srv_cmd_time);
SRV_HANDLER(srv_cmd_debug);
SRV_HANDLER(srv_cmd_lastsave);
SRV_HANDLER(srv_cmd_save);
SRV_HANDLER(srv_cmd_bgsave);
SRV_HANDLER(srv_cmd_function);
SRV_HANDLER(srv_cmd_script);
SRV_HANDLER(srv_cmd_wait);

/* cmd_client.c */
SRV_HANDLER(srv_cmd_client);
SRV_HANDLER(srv_cmd_hello);
SRV_HANDLER(srv_cmd_quit);
SRV_HANDLER(srv_cmd_reset);

#endif
