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

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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

/* A SCAN-family cursor, parsed as Redis's strtoul() does: an optional
 * sign (a negative cursor wraps), decimal digits, no overflow. On failure
 * reply "ERR invalid cursor" and return -1. */
int srv__arg_cursor(struct srv_conn *c, const struct proto_arg *a, uint64_t *out);

/* Copy an argument into a NUL-terminated buffer (truncates). */
void srv__arg_cstr(const struct proto_arg *a, char *buf, size_t cap);

/* The time a command sees: the worker's clock, read once per loop turn
 * (Redis's cached mstime), so every key of one command expires alike. */
#define NOW(c) ((c)->w->now_ms)

/* Reply Redis's error for a negative cache_rc (CACHE_E_OOM -> the OOM
 * error under noeviction, CACHE_E_NOTINT -> SRV_ERR_NOTINT, ...). */
void srv__reply_cache_err(struct srv_conn *c, int rc);
/* OK: the value in c->w->scratch as a bulk; NOTFOUND: null; else the error. */
void srv__reply_value_or_null(struct srv_conn *c, int rc);

/* Keyspace hit/miss for a read lookup (Redis counts one per key read). */
void srv__stat_lookup(struct srv_conn *c, int found);
/* Several keys' lookups at once (SINTER, ZUNION: the sources looked up). */
void srv__stat_lookups(struct srv_conn *c, uint64_t hits, uint64_t misses);
/* The same from a cache result: a key of the wrong type was found (a
 * hit); errors count nothing. */
void srv__stat_rc(struct srv_conn *c, int rc);

/* The reply of a [B]LMPOP, BLPOP/BRPOP or BLMOVE/BRPOPLPUSH from its
 * cache_bpop outcome (kind: enum srv_bpop_kind in net/blocked.h): rc < 0
 * an error, NOTFOUND the null array (nothing, or the timeout), OK the
 * elements in the command's shape. cmd_blocking.c; blocked.c answers a
 * served wait with it. */
void srv__reply_popped(struct srv_conn *c, int kind, int rc, const struct cache_keys *out);

/* ---- collections (collection.c): what the collection handlers share ------- */

/* HLEN, LLEN, SCARD, ZCARD of argv[1], a collection of `type`: a read (a
 * keyspace hit or miss, as Redis counts), 0 for a missing key. */
void srv__reply_card(struct srv_conn *c, const struct proto_arg *argv, int type);
/* The most bytes a range read may copy for c: its output hard limit (no
 * more could be sent), SIZE_MAX when it has none. */
size_t srv__copy_bound(const struct srv_conn *c);
/* SADD, SREM, ZREM, HDEL: key member [member ...] -> fn, whose count is
 * the reply. */
typedef int srv_members_write_fn(struct cache *, const char *, size_t, const struct cache_str *,
                                 size_t, int64_t, uint64_t *);
void srv__members_write(struct srv_conn *c, size_t argc, struct proto_arg *argv,
                        srv_members_write_fn *fn);

/* Views of argv[first..argc) as cache strings (fields, members), no
 * copies. On allocation failure replies the error and returns -1. */
struct srv_strv {
    struct cache_str small[16];
    struct cache_str *v;
    size_t n;
};
int srv__strv(struct srv_conn *c, const struct proto_arg *argv, size_t first,
              size_t argc, struct srv_strv *sv);
void srv__strv_free(struct srv_strv *sv);
/* An array of `total` elements, the records in k (nil records as nil),
 * stopping early when the connection is going away. total > k->count: the
 * copy was cut at the output limit (LRANGE), and the connection is closed
 * after what could be sent. */
void srv__reply_records_cut(struct srv_conn *c, const struct cache_keys *k, uint64_t total);
/* The array of exactly the records in k. */
static inline void srv__reply_records(struct srv_conn *c, const struct cache_keys *k)
{
    srv__reply_records_cut(c, k, k->count);
}
/* `picks` draws with repeats from a copy of a whole collection, `all`,
 * whose elements are groups of `per` records (a field and its value: 2;
 * scored: a member and its score record): the copy bounds the memory,
 * the output limit the reply. */
void srv__reply_draws(struct srv_conn *c, const struct cache_keys *all,
                      unsigned long long picks, size_t per, bool scored);
/* SPOP / ZPOPMIN / ZPOPMAX key [count]: *count (1 without one), a count
 * that is no integer or negative gets Redis's "must be positive". 0, or
 * -1 after replying. */
int srv__pop_count(struct srv_conn *c, size_t argc, const struct proto_arg *argv,
                   long long *count);
/* A random draw's count (SRANDMEMBER, HRANDFIELD, ZRANDMEMBER): an
 * integer from -LLONG_MAX on, or Redis's errors. 0, or -1 after replying. */
int srv__arg_rand_count(struct srv_conn *c, const struct proto_arg *a, long long *count);
/* HRANDFIELD / ZRANDMEMBER key [count [opt]] (opt: "withvalues",
 * "withscores"), checked in Redis's order: the count, the option, then
 * with the option half the count's range. *count 1 without one. 0, or -1
 * after replying. */
int srv__rand_args(struct srv_conn *c, size_t argc, const struct proto_arg *argv,
                   const char *opt, long long *count, int *with);
/* A sorted set's score as Redis 7.0 replies it: a bulk of "inf", "-inf"
 * or printf's "%.17g" (proto_d2str). */
void srv__reply_score(struct srv_conn *c, double d);
/* The members of k (member records each followed by its score record),
 * with their scores when withscores: an array of total members (twice
 * that with scores); fewer in k: cut at the output limit, the connection
 * is closed after what could be sent (as srv__reply_records_cut). */
void srv__reply_zrecs(struct srv_conn *c, const struct cache_keys *k, uint64_t total,
                      bool withscores);
/* HSCAN, SSCAN and ZSCAN: key cursor [MATCH pattern] [COUNT count] over
 * fn, whose elements are groups of `per` records, MATCH applying to the
 * first; scored: the second is a score record (ZSCAN). */
typedef int srv_collection_scan_fn(struct cache *c, const char *key, size_t klen,
                                   uint64_t cursor, size_t count, int64_t now,
                                   struct cache_keys *out, uint64_t *next);
void srv__collection_scan(struct srv_conn *c, size_t argc, struct proto_arg *argv,
                          srv_collection_scan_fn *fn, size_t per, bool scored);

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
