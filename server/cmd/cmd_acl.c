/*
 * AUTH and ACL SETUSER / GETUSER / DELUSER / LIST / USERS / WHOAMI / CAT /
 * LOG / DRYRUN / GENPASS / LOAD / SAVE / HELP, with Redis 7.0's replies and
 * error texts. The users and their rules are server/acl/'s.
 *
 * Context: the conn's worker thread, inside srv_dispatch().
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "acl.h"
#include "commands.h"

#define GENPASS_MAX_BITS 4096

/* AUTH / HELLO AUTH failed: log it (object: the command as typed). */
static void auth_failed(struct srv_conn *c, const struct proto_arg *cmd,
                        const struct proto_arg *user)
{
    srv_acl_log_add(c, SRV_ACL_DENIED_AUTH, SRV_ACL_CTX_TOPLEVEL, cmd->ptr, cmd->len,
                    user->ptr, user->len);
}

int srv__auth(struct srv_conn *c, const struct proto_arg *cmd, const struct proto_arg *user,
              const struct proto_arg *pass)
{
    if (srv_acl_authenticate(c, user->ptr, user->len, pass->ptr, pass->len) == 0)
        return 0;
    auth_failed(c, cmd, user);
    srv_reply_error(c, "WRONGPASS invalid username-password pair or user is disabled.");
    return -1;
}

/* AUTH [username] password */
SRV_HANDLER(srv_cmd_auth)
{
    static const struct proto_arg deflt = { "default", 7 };

    if (argc > 3) {
        srv_reply_error(c, SRV_ERR_SYNTAX);
        return;
    }
    /* Redis keeps the old error for AUTH <password> with no password set */
    if (argc == 2 && atomic_load_explicit(&srv_acl_default_is_nopass, memory_order_relaxed)) {
        srv_reply_error(c, "ERR AUTH <password> called without any password configured for "
                           "the default user. Are you sure your configuration is correct?");
        return;
    }
    if (srv__auth(c, &argv[0], argc == 2 ? &deflt : &argv[1], &argv[argc - 1]) == 0)
        srv_reply_ok(c);
}

/* ---- ACL --------------------------------------------------------------------------- */

/* Redis's addReplySubcommandSyntaxError, for a subcommand given too many
 * arguments for its own rules. */
static void reply_sub_syntax(struct srv_conn *c, const struct proto_arg *argv)
{
    srv_reply_errorf(c, "ERR unknown subcommand or wrong number of arguments for '%.*s'. "
                        "Try ACL HELP.", (int)strnlen(argv[1].ptr, argv[1].len < 128 ? argv[1].len : 128),
                     argv[1].ptr);
}

SRV_HANDLER(srv_cmd_acl_setuser)
{
    size_t bad = 0;
    int rc;

    if (srv_acl_has_spaces(argv[2].ptr, argv[2].len)) {
        srv_reply_error(c, "ERR Usernames can't contain spaces or null characters");
        return;
    }
    rc = srv_acl_setuser(argv[2].ptr, argv[2].len, argc - 3, argv + 3, &bad);
    if (rc == -ENOMEM && bad == argc - 3)
        srv_reply_error(c, SRV_ERR_NOMEM);
    else if (rc < 0)   /* Redis prints the word as a C string */
        srv_reply_errorf(c, "ERR Error in ACL SETUSER modifier '%.*s': %s",
                         (int)strnlen(argv[3 + bad].ptr, argv[3 + bad].len), argv[3 + bad].ptr,
                         srv_acl_strerror(rc));
    else
        srv_reply_ok(c);
}

SRV_HANDLER(srv_cmd_acl_deluser)
{
    int n = srv_acl_deluser(argc - 2, argv + 2);

    if (n == -EPERM) {
        srv_reply_error(c, "ERR The 'default' user cannot be removed");
        return;
    }
    if (n < 0) {
        srv_reply_error(c, SRV_ERR_NOMEM);
        return;
    }
    /* deleting one's own user: the reply goes out, then the connection */
    if (srv_acl_conn_user_deleted(c))
        c->flags |= CONN_CLOSE_AFTER_REPLY;
    srv_reply_int(c, n);
}

/* A described part of a user as a bulk string. */
static void reply_part(struct srv_conn *c, int (*part)(const struct srv_acl_rules *,
                                                       struct proto_buf *),
                       const struct srv_acl_rules *r)
{
    struct proto_buf b;

    proto_buf_init(&b);
    if (part(r, &b) < 0)
        srv_reply_error(c, SRV_ERR_NOMEM);   /* the stream is closed after it */
    else
        srv_reply_bulk(c, b.data, b.len);
    proto_buf_free(&b);
}

SRV_HANDLER(srv_cmd_acl_getuser)
{
    struct srv_acl_rules *r = srv_acl_user_rules(argv[2].ptr, argv[2].len);
    const char *flags[5];
    char hex[2 * SRV_ACL_DIGEST_LEN + 1];
    long long nflags = 0;

    if (r == NULL) {
        srv_reply_null(c);    /* Redis 7.0: nil for an unknown user */
        return;
    }
    srv_acl_rules_flag_names(r, flags);
    while (flags[nflags] != NULL)
        nflags++;
    srv_reply_array(c, 12);
    srv_reply_bulk_cstr(c, "flags");
    srv_reply_array(c, nflags);
    for (long long i = 0; i < nflags; i++)
        srv_reply_bulk_cstr(c, flags[i]);
    srv_reply_bulk_cstr(c, "passwords");
    srv_reply_array(c, (long long)r->npass);
    for (size_t i = 0; i < r->npass; i++) {
        srv_acl_hex(r->pass[i], hex);
        srv_reply_bulk_cstr(c, hex);
    }
    srv_reply_bulk_cstr(c, "commands");
    reply_part(c, srv_acl_rules_describe_cmds, r);
    srv_reply_bulk_cstr(c, "keys");
    reply_part(c, srv_acl_rules_describe_keys, r);
    srv_reply_bulk_cstr(c, "channels");
    reply_part(c, srv_acl_rules_describe_chans, r);
    srv_reply_bulk_cstr(c, "selectors");
    srv_reply_array(c, 0);
    srv_acl_rules_unref(r);
}

/* ACL LIST (lines) and ACL USERS (names), sorted by name. */
static void list_users(struct srv_conn *c, bool lines)
{
    struct srv_acl_staged st;

    if (srv_acl_snapshot(&st) < 0) {
        srv_reply_error(c, SRV_ERR_NOMEM);
        return;
    }
    srv_reply_array(c, (long long)st.n);
    for (size_t i = 0; i < st.n; i++) {
        struct proto_buf b;

        if (!lines) {
            srv_reply_bulk(c, st.names[i], st.lens[i]);
            continue;
        }
        proto_buf_init(&b);
        if (proto_buf_append(&b, "user ", 5) < 0 || proto_buf_append(&b, st.names[i], st.lens[i]) < 0 ||
            proto_buf_append(&b, " ", 1) < 0 || srv_acl_rules_describe(st.rules[i], &b) < 0)
            srv_reply_error(c, SRV_ERR_NOMEM);
        else
            srv_reply_bulk(c, b.data, b.len);
        proto_buf_free(&b);
    }
    srv_acl__staged_free(&st);
}

SRV_HANDLER(srv_cmd_acl_list)
{
    list_users(c, true);
}

SRV_HANDLER(srv_cmd_acl_users)
{
    list_users(c, false);
}

SRV_HANDLER(srv_cmd_acl_whoami)
{
    srv_reply_bulk(c, srv_acl_user_name(c->acl.user), srv_acl_user_name_len(c->acl.user));
}

/* ACL CAT [category]: the categories, or every command (subcommands by
 * their full name) in one. */
SRV_HANDLER(srv_cmd_acl_cat)
{
    uint64_t cat = 0;
    long long n = 0;

    if (argc == 2) {
        srv_reply_array(c, ACL_BIT_COUNT);
        for (int bit = 0; bit < ACL_BIT_COUNT; bit++)
            srv_reply_bulk_cstr(c, srv_acl_category_names[bit]);
        return;
    }
    if (argc > 3) {
        reply_sub_syntax(c, argv);
        return;
    }
    for (int bit = 0; bit < ACL_BIT_COUNT; bit++)
        if (srv__arg_is(&argv[2], srv_acl_category_names[bit]))
            cat = 1ull << bit;
    if (cat == 0) {
        srv_reply_errorf(c, "ERR Unknown category '%.*s'",
                         (int)(argv[2].len < 128 ? argv[2].len : 128), argv[2].ptr);
        return;
    }
    for (size_t i = 0; i < srv_command_count; i++)
        n += (srv_command_table[i].categories & cat) != 0;
    srv_reply_array(c, n);
    for (size_t i = 0; i < srv_command_count; i++)
        if (srv_command_table[i].categories & cat)
            srv_reply_bulk_cstr(c, srv_command_table[i].fullname);
}

/* ACL LOG [count | RESET] */
SRV_HANDLER(srv_cmd_acl_log)
{
    long long count = 10;

    if (argc > 3) {
        reply_sub_syntax(c, argv);
        return;
    }
    if (argc == 3 && srv__arg_is(&argv[2], "reset")) {
        srv_acl_log_reset();
        srv_reply_ok(c);
        return;
    }
    if (argc == 3 && srv__arg_ll(c, &argv[2], &count, NULL) < 0)
        return;
    srv_acl_log_reply(c, count);
}

/* ACL DRYRUN user command [arg ...]: would the user be allowed? */
SRV_HANDLER(srv_cmd_acl_dryrun)
{
    const struct srv_command *cmd, *container;
    struct srv_acl_rules *r = srv_acl_user_rules(argv[2].ptr, argv[2].len);
    size_t pos = 0;

    if (r == NULL) {
        srv_reply_errorf(c, "ERR User '%.*s' not found", (int)strnlen(argv[2].ptr, argv[2].len),
                         argv[2].ptr);
        return;
    }
    cmd = srv_command_resolve(argc - 3, argv + 3, &container);
    if (cmd == NULL) {
        srv_reply_errorf(c, "ERR Command '%.*s' not found", (int)strnlen(argv[3].ptr, argv[3].len),
                         argv[3].ptr);
    } else if (cmd->arity > 0 ? argc - 3 != (size_t)cmd->arity : argc - 3 < (size_t)-cmd->arity) {
        srv_reply_errorf(c, "ERR wrong number of arguments for '%s' command", cmd->fullname);
    } else {
        switch (srv_acl_rules_check(r, cmd, argc - 3, argv + 3, &pos)) {
        case SRV_ACL_OK:
            srv_reply_ok(c);
            break;
        case SRV_ACL_DENIED_CMD: {
            char msg[256];
            int n = snprintf(msg, sizeof(msg), "This user has no permissions to run the "
                             "'%s' command", cmd->fullname);
            srv_reply_bulk(c, msg, (size_t)n);
            break;
        }
        default: {
            struct proto_buf b;

            proto_buf_init(&b);
            if (proto_buf_append(&b, "This user has no permissions to access the '", 44) < 0 ||
                proto_buf_append(&b, argv[3 + pos].ptr, argv[3 + pos].len) < 0 ||
                proto_buf_append(&b, "' key", 5) < 0)
                srv_reply_error(c, SRV_ERR_NOMEM);
            else
                srv_reply_bulk(c, b.data, b.len);
            proto_buf_free(&b);
        }
        }
    }
    srv_acl_rules_unref(r);
}

/* ACL GENPASS [bits]: bits of randomness (default 256) as hex. */
SRV_HANDLER(srv_cmd_acl_genpass)
{
    unsigned char raw[GENPASS_MAX_BITS / 8];
    char hex[GENPASS_MAX_BITS / 4 + 1];
    long long bits = 256;
    static const char digits[] = "0123456789abcdef";

    if (argc > 3) {
        reply_sub_syntax(c, argv);
        return;
    }
    if (argc == 3 && srv__arg_ll(c, &argv[2], &bits, NULL) < 0)
        return;
    if (bits <= 0 || bits > GENPASS_MAX_BITS) {
        srv_reply_errorf(c, "ERR ACL GENPASS argument must be the number of bits for the "
                            "output password, a positive number up to %d", GENPASS_MAX_BITS);
        return;
    }
    size_t chars = (size_t)(bits + 3) / 4;
    if (RAND_bytes(raw, (int)((chars + 1) / 2)) != 1) {
        srv_reply_error(c, "ERR no randomness available");
        return;
    }
    for (size_t i = 0; i < chars; i++)
        hex[i] = digits[(raw[i / 2] >> (i % 2 ? 0 : 4)) & 15];
    srv_reply_bulk(c, hex, chars);
}

static bool no_aclfile(struct srv_conn *c)
{
    if (c->cfg->aclfile[0] != '\0')
        return false;
    srv_reply_error(c, "ERR This Redis instance is not configured to use an ACL file. You may "
                       "want to specify users via the ACL SETUSER command and then issue a "
                       "CONFIG REWRITE (assuming you have a Redis configuration file set) in "
                       "order to store users in the Redis configuration.");
    return true;
}

SRV_HANDLER(srv_cmd_acl_load)
{
    char *err = NULL;

    if (no_aclfile(c))
        return;
    if (srv_acl_load_file(c->cfg->aclfile, &err) == 0) {
        srv_log(CFG_LOG_NOTICE, "ACL LOAD by client id=%llu: users loaded from %s",
                (unsigned long long)c->id, c->cfg->aclfile);
        srv_reply_ok(c);
    } else {
        srv_reply_errorf(c, "ERR %s", err);
    }
    free(err);
}

SRV_HANDLER(srv_cmd_acl_save)
{
    if (no_aclfile(c))
        return;
    if (srv_acl_save_file(c->cfg->aclfile) == 0)
        srv_reply_ok(c);
    else
        srv_reply_error(c, "ERR There was an error trying to save the ACLs. Please check the "
                           "server logs for more information");
}

SRV_HANDLER(srv_cmd_acl_help)
{
    static const char *const lines[] = {
        "CAT [<category>]",
        "    List all commands that belong to <category>, or all command categories",
        "    when no category is specified.",
        "DELUSER <username> [<username> ...]",
        "    Delete a list of users.",
        "DRYRUN <username> <command> [<arg> ...]",
        "    Returns whether the user can execute the given command without executing the command.",
        "GETUSER <username>",
        "    Get the user's details.",
        "GENPASS [<bits>]",
        "    Generate a secure 256-bit user password. The optional `bits` argument can",
        "    be used to specify a different size.",
        "LIST",
        "    Show users details in config file format.",
        "LOAD",
        "    Reload users from the ACL file.",
        "LOG [<count> | RESET]",
        "    Show the ACL log entries.",
        "SAVE",
        "    Save the current config to the ACL file.",
        "SETUSER <username> <attribute> [<attribute> ...]",
        "    Create or modify a user with the specified attributes.",
        "USERS",
        "    List all the registered usernames.",
        "WHOAMI",
        "    Return the current connection username.",
        NULL,
    };
    srv__reply_help(c, "ACL", lines);
}
