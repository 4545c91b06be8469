/*
 * The check dispatch runs before every handler (Redis's ACLSelectorCheckCmd
 * for the root selector): may this user run this command, with these keys?
 *
 * Keys are found from the table's first/last/step and judged with the
 * row's key flags (commands.def): a command that reads values needs a
 * pattern granting R (~ or %R~), one that writes needs W, one that does
 * neither (EXISTS, TYPE) any pattern that matches.
 *
 * Context: any thread; the rules are immutable while checked.
 */
#include <strings.h>

#include "acl.h"
#include "acl_int.h"

/* SET k v ... GET reads the old value too (Redis's setGetKeys). */
static bool has_get_arg(size_t argc, const struct proto_arg *argv)
{
    for (size_t i = 3; i < argc; i++)
        if (argv[i].len == 3 && strncasecmp(argv[i].ptr, "get", 3) == 0)
            return true;
    return false;
}

static bool key_allowed(const struct srv_acl_rules *r, const struct proto_arg *key,
                        unsigned need)
{
    for (size_t i = 0; i < r->nkeys; i++) {
        const struct srv_acl_pattern *p = r->keys[i];

        if ((p->perm & need) == need &&
            srv_glob_match(p->text, p->len, key->ptr, key->len, 0))
            return true;
    }
    return false;
}

enum srv_acl_verdict srv_acl_rules_check(const struct srv_acl_rules *r,
                                         const struct srv_command *cmd,
                                         size_t argc, const struct proto_arg *argv,
                                         size_t *pos)
{
    unsigned need = 0;
    long last;

    /* AUTH, HELLO, QUIT and RESET run whatever the user's commands. */
    if (!(r->flags & SRV_ACL_ALLCOMMANDS) && !(cmd->flags & CMD_NO_AUTH) &&
        !bit_get(r->cmds, cmd->id))
        return SRV_ACL_DENIED_CMD;
    if ((r->flags & SRV_ACL_ALLKEYS) || cmd->first_key <= 0)
        return SRV_ACL_OK;
    if (cmd->flags & CMD_KEY_READ)
        need |= SRV_ACL_KEY_READ;
    if (cmd->flags & CMD_KEY_WRITE)
        need |= SRV_ACL_KEY_WRITE;
    if ((cmd->flags & CMD_KEY_GETARG) && has_get_arg(argc, argv))
        need |= SRV_ACL_KEY_READ;
    /* Redis's legacy key range: a negative last counts from the end. */
    last = cmd->last_key < 0 ? (long)argc + cmd->last_key : cmd->last_key;
    for (long i = cmd->first_key; i <= last && i < (long)argc; i += cmd->key_step) {
        /* (srv_commands_init asserts key_step > 0 for a row with keys) */
        /* RENAME's and COPY's destination is only written */
        unsigned k = (cmd->flags & CMD_KEY_DEST) && i == last ? SRV_ACL_KEY_WRITE : need;

        if (!key_allowed(r, &argv[i], k)) {
            *pos = (size_t)i;
            return SRV_ACL_DENIED_KEY;
        }
    }
    return SRV_ACL_OK;
}
