/*
 * ACL: users, their rules, and the check dispatch runs on every command,
 * as Redis 7.0 does them (acl.c there): on/off, passwords kept as SHA-256
 * digests, commands and categories (+@all -@dangerous +get -config|set),
 * key patterns (~p, %R~p, %W~p), channel patterns (kept and shown only:
 * there is no pub/sub), ACL LOG, and the `default` user that requirepass
 * sets.
 *
 * Two layers:
 *  - rules.c, match.c: one user's rules (struct srv_acl_rules): built by
 *    applying Redis's rule words one at a time to a private copy, then
 *    frozen: immutable and reference counted from then on. Pure: no
 *    locks, no I/O; tests/server/test_acl_*.c drive them directly.
 *  - users.c, log.c: the users every worker shares, how connections refer
 *    to them, AUTH, and the ACL log (see "Synchronisation" there and in
 *    docs/locking.md).
 *
 * Names: srv_acl_ (server-wide), srv_acl__ internal to server/acl/.
 */
#ifndef MMCACHE_ACL_H
#define MMCACHE_ACL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "srv.h"

#define SRV_ACL_DIGEST_LEN 32          /* SHA-256 */
#define SRV_ACL_CMD_WORDS (SRV_COMMAND_MAX / 64)

/* User flags, in the order ACL LIST prints them (Redis's ACLUserFlags). */
#define SRV_ACL_ON             0x01
#define SRV_ACL_NOPASS         0x02
#define SRV_ACL_SKIP_SANITIZE  0x04    /* skip-sanitize-payload: shown, no effect */
#define SRV_ACL_SANITIZE       0x08    /* sanitize-payload: shown, no effect */
/* Selector flags (one selector, the root: no (...) selectors). */
#define SRV_ACL_ALLKEYS        0x10    /* ~* / allkeys */
#define SRV_ACL_ALLCHANNELS    0x20    /* &* / allchannels */
#define SRV_ACL_ALLCOMMANDS    0x40    /* every bit set, and no removal since +@all */
#define SRV_ACL_FUTURE         0x80    /* built from +@all: ACL LIST starts with +@all */

/* A key or channel pattern. */
struct srv_acl_pattern {
    unsigned perm;                 /* keys: SRV_ACL_KEY_READ | SRV_ACL_KEY_WRITE */
    size_t len;
    char text[];                   /* not NUL-terminated as far as matching goes */
};
#define SRV_ACL_KEY_READ  1
#define SRV_ACL_KEY_WRITE 2

/*
 * One user's rules. Mutable only while private to its builder (between
 * srv_acl_rules_new/copy and the moment it is shared); immutable after,
 * and freed when the last reference goes.
 */
struct srv_acl_rules {
    _Atomic unsigned refs;         /* atomic: acq_rel on the decrement that frees
                                      (pairs with the other holders' decrements);
                                      relaxed on increments by a holder */
    unsigned flags;                /* SRV_ACL_* */
    uint64_t cmds[SRV_ACL_CMD_WORDS];   /* bit srv_command.id: may run it */
    size_t npass;
    unsigned char (*pass)[SRV_ACL_DIGEST_LEN];
    size_t nkeys, nchans;
    struct srv_acl_pattern **keys, **chans;
};

/* ---- rules.c ------------------------------------------------------------- */

/* A new user's rules: off, no password, no commands, no keys, no
 * channels (Redis 7.0's acl-pubsub-default resetchannels). NULL on OOM. */
struct srv_acl_rules *srv_acl_rules_new(void);
/* The default user's: on nopass ~* &* +@all. */
struct srv_acl_rules *srv_acl_rules_new_default(void);
/* A private, mutable copy (refs 1). NULL on OOM. */
struct srv_acl_rules *srv_acl_rules_copy(const struct srv_acl_rules *r);
void srv_acl_rules_ref(struct srv_acl_rules *r);
void srv_acl_rules_unref(struct srv_acl_rules *r);   /* NULL is fine */

/*
 * Apply one rule word (Redis's ACLSetUser) to a private r. 0, or a
 * negative errno that srv_acl_strerror() turns into Redis's text:
 * -ENOENT unknown command or category, -EINVAL syntax, -EEXIST a key
 * pattern after ~*, -EISDIR a channel pattern after &*, -ENODEV removing
 * a password the user does not have, -EBADMSG a malformed #hash, -ECHILD
 * a first argument of a subcommand, -ENOMEM. On error r is unchanged for
 * all but -ENOMEM (the caller then drops r).
 * Context: any thread; srv_commands_init() has run.
 */
int srv_acl_rules_apply(struct srv_acl_rules *r, const char *op, size_t len);
const char *srv_acl_strerror(int rc);

/* "on #<hex> ~* &* +@all": ACL LIST's line after "user <name> ". */
int srv_acl_rules_describe(const struct srv_acl_rules *r, struct proto_buf *b);
/* ACL GETUSER's parts: the command rules ("+@all -@dangerous"), the key
 * patterns ("~* " or "%R~a ~b"), the channel patterns. */
int srv_acl_rules_describe_cmds(const struct srv_acl_rules *r, struct proto_buf *b);
int srv_acl_rules_describe_keys(const struct srv_acl_rules *r, struct proto_buf *b);
int srv_acl_rules_describe_chans(const struct srv_acl_rules *r, struct proto_buf *b);
/* The flag words of r in ACL LIST's order, NULL-terminated (at most 4). */
void srv_acl_rules_flag_names(const struct srv_acl_rules *r, const char *names[5]);

/* SHA-256 of a password, and its 64-char lower-case hex. */
void srv_acl_digest(const void *pw, size_t len, unsigned char out[SRV_ACL_DIGEST_LEN]);
void srv_acl_hex(const unsigned char d[SRV_ACL_DIGEST_LEN], char out[2 * SRV_ACL_DIGEST_LEN + 1]);
/* Does pw match one of r's passwords (or r is nopass)? Every stored
 * digest is compared, each in constant time (CRYPTO_memcmp). */
bool srv_acl_rules_password_ok(const struct srv_acl_rules *r, const void *pw, size_t len);

/* Usernames and patterns hold no blank and no NUL (Redis's rule). */
bool srv_acl_has_spaces(const char *s, size_t len);

/* ---- match.c ------------------------------------------------------------- */

enum srv_acl_verdict {
    SRV_ACL_OK = 0,
    SRV_ACL_DENIED_CMD,            /* "this user has no permissions to run the '%s' command" */
    SRV_ACL_DENIED_KEY,            /* "... to access one of the keys used as arguments" */
    SRV_ACL_DENIED_AUTH,           /* (ACL LOG only) a failed AUTH / HELLO AUTH */
};

/* Does r let cmd run with these arguments? On a key refusal *pos is the
 * index in argv of the key refused. Context: any thread; r immutable. */
enum srv_acl_verdict srv_acl_rules_check(const struct srv_acl_rules *r,
                                         const struct srv_command *cmd,
                                         size_t argc, const struct proto_arg *argv,
                                         size_t *pos);
/* The dispatch fast path: every command, every key. */
static inline bool srv_acl_rules_unrestricted(const struct srv_acl_rules *r)
{
    return (r->flags & (SRV_ACL_ALLCOMMANDS | SRV_ACL_ALLKEYS)) ==
           (SRV_ACL_ALLCOMMANDS | SRV_ACL_ALLKEYS);
}

/* ---- the users (users.c) --------------------------------------------------- */

/* Bumped (release, under the ACL lock) by every change to a user or the
 * set; a connection refreshes its rules when it moved. */
extern _Atomic uint64_t srv_acl_generation;
/* atomic: relaxed, written under the ACL lock with each change: the
 * default user has a password or is off (Redis's authRequired), and
 * whether it is nopass (protected mode). Nothing is published through
 * them; a reader racing a change sees the old or the new state. */
extern _Atomic bool srv_acl_default_needs_auth;
extern _Atomic bool srv_acl_default_is_nopass;

const char *srv_acl_user_name(const struct srv_acl_user *u);
size_t srv_acl_user_name_len(const struct srv_acl_user *u);

/* ACL SETUSER: create or change a user, all of its words or none. 0, or
 * srv_acl_rules_apply's error for words[*bad]. Context: any thread. */
int srv_acl_setuser(const char *name, size_t len, size_t nwords,
                    const struct proto_arg *words, size_t *bad);
/* ACL DELUSER: how many existed; -EPERM (nothing deleted) when one is
 * "default". Their clients are closed by each worker's next tick. */
int srv_acl_deluser(size_t n, const struct proto_arg *names);
/* requirepass: the default user's passwords become pw ("" = nopass). */
int srv_acl_set_default_password(const char *pw);
/* A counted reference to a user's rules (NULL: no such user). */
struct srv_acl_rules *srv_acl_user_rules(const char *name, size_t len);

/* A set of users built apart (ACL LOAD, user lines) or copied out
 * (ACL LIST, SAVE): names in order, each with counted rules. */
struct srv_acl_staged {
    size_t n, cap;
    char **names;                  /* NUL-terminated copies */
    size_t *lens;
    struct srv_acl_rules **rules;  /* NULL once moved into the ACL */
};
int srv_acl__staged_reserve(struct srv_acl_staged *st, size_t n);
void srv_acl__staged_free(struct srv_acl_staged *st);
/* Every user, sorted by name, as ACL LIST shows them. */
int srv_acl_snapshot(struct srv_acl_staged *out);
/* Make the users those of st (see users.c); consumes st's rules and
 * default_rules. */
int srv_acl__replace(struct srv_acl_staged *st, struct srv_acl_rules *default_rules);
int srv_acl__init_default(void);

/* A connection: the default user at accept and on RESET; released when
 * it is freed. Context: the connection's worker. */
void srv_acl_conn_init(struct srv_conn *c);
void srv_acl_conn_reset(struct srv_conn *c);
void srv_acl_conn_release(struct srv_conn *c);
/* Take the user's current rules; -1 after closing c when its user was
 * deleted. */
int srv_acl_refresh(struct srv_conn *c);
/* AUTH / HELLO AUTH: 0 and c is now that user, or -EACCES (no such user,
 * off, or no password matches). The caller logs and replies. */
int srv_acl_authenticate(struct srv_conn *c, const char *name, size_t nlen, const char *pw,
                         size_t plen);
bool srv_acl_conn_user_deleted(const struct srv_conn *c);
/* Close w's clients of deleted users (from its tick). Context: w. */
void srv_acl_sweep(struct srv_worker *w);

/* ---- the check on every command (gate.c) ------------------------------------ */

/* Where a refusal happened, for ACL LOG (Redis's ACL_LOG_CTX_*). */
enum srv_acl_ctx { SRV_ACL_CTX_TOPLEVEL = 0, SRV_ACL_CTX_MULTI };

/* Redis's authRequired(c): the default user needs a password and c has
 * not authenticated. */
static inline bool srv_acl_auth_required(const struct srv_conn *c)
{
    return !c->acl.authenticated &&
           atomic_load_explicit(&srv_acl_default_needs_auth, memory_order_relaxed);
}

/* The full check of cmd for c's user: 0, or -1 after replying Redis's
 * NOPERM error and logging the refusal (ACL LOG, with ctx). EXEC runs it
 * again for each queued command (SRV_ACL_CTX_MULTI), as Redis does. Context: c's worker, c's rules fresh (srv_acl_gate). */
int srv_acl_check(struct srv_conn *c, const struct srv_command *cmd, size_t argc,
                  const struct proto_arg *argv, enum srv_acl_ctx ctx);

/*
 * Dispatch's gate, before any handler: refresh c's rules if the ACL
 * changed, refuse with NOAUTH until c authenticates (AUTH, HELLO, QUIT and
 * RESET excepted), then check the user's rules. 0 to run the command; -1
 * when it was refused (replied) or c was closed. With +@all ~* and nothing
 * changed it costs a load, two compares and a flag test.
 * Context: c's worker, inside srv_dispatch.
 */
static inline int srv_acl_gate(struct srv_conn *c, const struct srv_command *cmd, size_t argc,
                               const struct proto_arg *argv)
{
    /* acquire: pairs with the release in users.c's changed_locked */
    if (__builtin_expect(atomic_load_explicit(&srv_acl_generation, memory_order_acquire) !=
                         c->acl.gen, 0) && srv_acl_refresh(c) < 0)
        return -1;
    if (__builtin_expect(srv_acl_auth_required(c), 0) && !(cmd->flags & CMD_NO_AUTH)) {
        srv_reply_error(c, "NOAUTH Authentication required.");
        return -1;
    }
    if (__builtin_expect(srv_acl_rules_unrestricted(c->acl.rules), 1))
        return 0;
    return srv_acl_check(c, cmd, argc, argv, SRV_ACL_CTX_TOPLEVEL);
}

/* Protected mode at accept: true when c must get Redis's DENIED error
 * and be closed (not local, protected-mode yes, the default user nopass). */
bool srv_acl_protected_refuses(const struct srv_conn *c, const struct cfg *cfg);
extern const char srv_acl_denied_msg[];
/* The output a client that must authenticate and never did may have
 * pending (Redis's 1 KB since CVE-2025-21605), or 0 for no such cap. The
 * output-limit checks consult it. */
size_t srv_acl_output_cap(const struct srv_conn *c);

/* ---- ACL LOG (log.c) ---------------------------------------------------------- */

/* Remember a refusal: reason, context, the object refused (a command's
 * full name, a key, or for AUTH the command's argv[0]) and the user. Like
 * entries within 60 s are counted together. Keeps cfg->acllog_max_len.
 * Context: c's worker. */
void srv_acl_log_add(struct srv_conn *c, enum srv_acl_verdict reason, enum srv_acl_ctx ctx,
                     const char *object, size_t olen, const char *user, size_t ulen);
/* ACL LOG [count]: the newest count entries as Redis 7.0 replies them. */
void srv_acl_log_reply(struct srv_conn *c, long long count);
void srv_acl_log_reset(void);

/* ---- users from files (store.c) ------------------------------------------------- */

/* Start-up: the default user, requirepass, then the config file's user
 * lines or the aclfile (not both). 0, or -1 with err (the server exits).
 * Context: main thread, before the workers. */
int srv_acl_init(const struct cfg *cfg, char *err, size_t errlen);
/* ACL LOAD: replace the users by the aclfile's, all or nothing. 0, or -1
 * with Redis's error text in *err (malloc'd; the caller frees). */
int srv_acl_load_file(const char *path, char **err);
/* ACL SAVE: every user, one line each, into path (temp file + rename). */
int srv_acl_save_file(const char *path);
/* "user NAME DESCR" for every user, NULL-terminated (CONFIG REWRITE);
 * srv_acl_free_lines frees it. NULL on OOM. */
char **srv_acl_lines(void);
/* The user lines CONFIG REWRITE writes: none when an aclfile holds the
 * users (Redis drops them then) or when there is only the default user
 * as requirepass makes it (what no line says already); else every user. */
char **srv_acl_config_lines(const struct cfg *cfg);
void srv_acl_free_lines(char **lines);
/* SIGHUP, after the config reload: the user lines again, applied when
 * they changed since start-up or the last reload. pre: check the file's
 * user lines before the config is reloaded (0 or -1 with err). */
int srv_acl_reload_check(const struct cfg *cfg, char *err, size_t errlen);
void srv_acl_reload_apply(void);

#endif
