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

#endif
