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

/* Where cmd's keys are in argv: [*first, *last] by *step; false when it
 * has none to check. A KN row's count (LMPOP numkeys ...) that is no
 * number or runs past the arguments gives none, as Redis's key-spec walk
 * does: the handler then refuses the command before any key is used. */
static bool key_range(const struct srv_command *cmd, size_t argc,
                      const struct proto_arg *argv, long *first, long *last, long *step)
{
    long long n;

    *step = cmd->key_step;
    if (!(cmd->flags & CMD_KEY_NUMKEYS)) {
        *first = cmd->first_key;
        /* Redis's legacy key range: a negative last counts from the end. */
        *last = cmd->last_key < 0 ? (long)argc + cmd->last_key : cmd->last_key;
        return true;
    }
    if ((size_t)cmd->first_key >= argc ||
        proto_str2ll(argv[cmd->first_key].ptr, argv[cmd->first_key].len, &n) != 0 ||
        n < 1 || (unsigned long long)n > argc - (size_t)cmd->first_key - 1)
        return false;
    *first = cmd->first_key + 1;
    *last = cmd->first_key + (long)n;
    return true;
}

enum srv_acl_verdict srv_acl_rules_check(const struct srv_acl_rules *r,
                                         const struct srv_command *cmd,
                                         size_t argc, const struct proto_arg *argv,
                                         size_t *pos)
{
    unsigned need = 0;
    long first, last, step;

    /* AUTH, HELLO, QUIT and RESET run whatever the user's commands. */
    if (!(r->flags & SRV_ACL_ALLCOMMANDS) && !(cmd->flags & CMD_NO_AUTH) &&
        !bit_get(r->cmds, cmd->id))
        return SRV_ACL_DENIED_CMD;
    if ((r->flags & SRV_ACL_ALLKEYS) || cmd->first_key <= 0 ||
        !key_range(cmd, argc, argv, &first, &last, &step))
        return SRV_ACL_OK;
    if (cmd->flags & CMD_KEY_READ)
        need |= SRV_ACL_KEY_READ;
    if (cmd->flags & CMD_KEY_WRITE)
        need |= SRV_ACL_KEY_WRITE;
    if ((cmd->flags & CMD_KEY_GETARG) && has_get_arg(argc, argv))
        need |= SRV_ACL_KEY_READ;
    for (long i = first; i <= last && i < (long)argc; i += step) {
        /* (srv_commands_init asserts key_step > 0 for a row with keys) */
        /* RENAME's and COPY's destination (the last key), SINTERSTORE's
         * (the first) are only written */
        unsigned k = need;

        if (((cmd->flags & CMD_KEY_DEST) && i == last) ||
            ((cmd->flags & CMD_KEY_FIRSTDEST) && i == first))
            k = SRV_ACL_KEY_WRITE;
        if (!key_allowed(r, &argv[i], k)) {
            *pos = (size_t)i;
            return SRV_ACL_DENIED_KEY;
        }
    }
    return SRV_ACL_OK;
}
