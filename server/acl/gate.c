/*
 * What a client meets before its commands run: protected mode at accept,
 * NOAUTH until it authenticates (acl.h's srv_acl_gate), NOPERM when its
 * user's rules refuse a command or a key, and the small output cap of a
 * client that has never authenticated. Redis 7.0's texts throughout.
 *
 * Context: the connection's worker.
 */
#include <string.h>

#include "acl.h"

/* Redis 7.0's text, word for word (its typos too): clients match on it. */
const char srv_acl_denied_msg[] =
    "DENIED Redis is running in protected mode because protected mode is enabled and no "
    "password is set for the default user. In this mode connections are only accepted from "
    "the loopback interface. If you want to connect from external computers to Redis you "
    "may adopt one of the following solutions: 1) Just disable protected mode sending the "
    "command 'CONFIG SET protected-mode no' from the loopback interface by connecting to "
    "Redis from the same host the server is running, however MAKE SURE Redis is not "
    "publicly accessible from internet if you do so. Use CONFIG REWRITE to make this change "
    "permanent. 2) Alternatively you can just disable the protected mode by editing the "
    "Redis configuration file, and setting the protected mode option to 'no', and then "
    "restarting the server. 3) If you started the server manually just for testing, "
    "restart it with the '--protected-mode no' option. 4) Setup a an authentication "
    "password for the default user. NOTE: You only need to do one of the above things in "
    "order for the server to start accepting connections from the outside.";

/* Redis 7.2.8's REPLY_BUFFER_SIZE_UNAUTHENTICATED_CLIENT (CVE-2025-21605). */
#define ACL_UNAUTH_OUTPUT_CAP 1024

bool srv_acl_protected_refuses(const struct srv_conn *c, const struct cfg *cfg)
{
    /* Redis's clientAcceptHandler: only the default user's nopass counts */
    return cfg->protected_mode && !c->local &&
           atomic_load_explicit(&srv_acl_default_is_nopass, memory_order_relaxed);
}

size_t srv_acl_output_cap(const struct srv_conn *c)
{
    return srv_acl_auth_required(c) && !c->acl.ever_authenticated ? ACL_UNAUTH_OUTPUT_CAP : 0;
}

int srv_acl_check(struct srv_conn *c, const struct srv_command *cmd, size_t argc,
                  const struct proto_arg *argv, enum srv_acl_ctx ctx)
{
    size_t pos = 0;
    enum srv_acl_verdict v = srv_acl_rules_check(c->acl.rules, cmd, argc, argv, &pos);
    const struct srv_acl_user *u = c->acl.user;

    if (v == SRV_ACL_OK)
        return 0;
    if (v == SRV_ACL_DENIED_CMD)
        srv_acl_log_add(c, v, ctx, cmd->fullname, strlen(cmd->fullname),
                        srv_acl_user_name(u), srv_acl_user_name_len(u));
    else
        srv_acl_log_add(c, v, ctx, argv[pos].ptr, argv[pos].len, srv_acl_user_name(u),
                        srv_acl_user_name_len(u));
    if (ctx == SRV_ACL_CTX_MULTI)   /* Redis's execCommand words */
        srv_reply_errorf(c, "NOPERM ACLs rules changed between the moment the transaction was "
                            "accumulated and the EXEC call. This command is no longer allowed "
                            "for the following reason: %s",
                         v == SRV_ACL_DENIED_CMD
                             ? "no permission to execute the command or subcommand"
                             : "no permission to access one of the keys used as arguments");
    else if (v == SRV_ACL_DENIED_CMD)
        srv_reply_errorf(c, "NOPERM this user has no permissions to run the '%s' command",
                         cmd->fullname);
    else
        srv_reply_error(c, "NOPERM this user has no permissions to access one of the keys "
                           "used as arguments");
    return -1;
}
