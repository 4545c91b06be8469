/*
 * The check dispatch runs before every handler (Redis's ACLSelectorCheckCmd
 * for the root selector): may this user run this command, with these keys?
 *
 * Keys are found from the table's first/last/step and judged with the
 * row's key flags (commands.def): a command that reads values needs a
 * pattern granting R (~ or %R~), one that writes needs W, one that does
 * neither (EXISTS, TYPE) any pattern that matches; a destination only
 * written (RENAME's last key, SINTERSTORE's first) needs W alone, and the
 * keys of LMPOP, BLMPOP and SINTERCARD follow their count.
 *
 * Context: any thread; the rules are immutable while checked.
 */
#include <strings.h>

#include "acl.h"
#include "acl_int.h"

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

/* srv_command_keys' walk: the first key the rules do not allow stops it. */
struct key_check {
    const struct srv_acl_rules *r;
    const struct proto_arg *argv;
    size_t pos;
};

static int check_key(void *arg, size_t idx, unsigned kflags)
{
    struct key_check *kc = arg;
    unsigned need = (kflags & SRV_KEY_R ? SRV_ACL_KEY_READ : 0) |
                    (kflags & SRV_KEY_W ? SRV_ACL_KEY_WRITE : 0);

    if (key_allowed(kc->r, &kc->argv[idx], need))
        return 0;
    kc->pos = idx;
    return 1;
}

enum srv_acl_verdict srv_acl_rules_check(const struct srv_acl_rules *r,
                                         const struct srv_command *cmd,
                                         size_t argc, const struct proto_arg *argv,
                                         size_t *pos)
{
    struct key_check kc = { r, argv, 0 };

    /* AUTH, HELLO, QUIT and RESET run whatever the user's commands. */
    if (!(r->flags & SRV_ACL_ALLCOMMANDS) && !(cmd->flags & CMD_NO_AUTH) &&
        !bit_get(r->cmds, cmd->id))
        return SRV_ACL_DENIED_CMD;
    if ((r->flags & SRV_ACL_ALLKEYS) || srv_command_keys(cmd, argc, argv, check_key, &kc) == 0)
        return SRV_ACL_OK;
    *pos = kc.pos;
    return SRV_ACL_DENIED_KEY;
}
