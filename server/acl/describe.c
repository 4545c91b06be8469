/*
 * A user's rules as text: the line ACL LIST, ACL SAVE and CONFIG REWRITE
 * write (Redis's ACLDescribeUser) and ACL GETUSER's parts. The command
 * rules come from the bitmap alone, with Redis's algorithm: start from
 * +@all or -@all, add the categories that fit best, then the single
 * commands that still differ; so the words rebuild the same bitmap.
 *
 * Context: any thread; the rules are not written while described.
 */
#include <limits.h>
#include <string.h>

#include "acl.h"
#include "acl_int.h"

/* How many rows of the category w allows and denies. */
static void count_category(const uint64_t *w, uint64_t cat, unsigned *on, unsigned *off)
{
    *on = *off = 0;
    for (size_t i = 0; i < srv_command_count; i++) {
        if (!(srv_command_table[i].categories & cat))
            continue;
        if (bit_get(w, (unsigned)i))
            (*on)++;
        else
            (*off)++;
    }
}

static int add_rule(struct proto_buf *b, char sign, const char *at, const char *name)
{
    int rc = proto_buf_append(b, &sign, 1);

    if (rc == 0 && at != NULL)
        rc = proto_buf_append(b, at, strlen(at));
    if (rc == 0)
        rc = proto_buf_append(b, name, strlen(name));
    return rc ? rc : proto_buf_append(b, " ", 1);
}

/* The single commands that still differ from what the rules so far give
 * (fake), each applied to fake as it is written, containers first. */
static int describe_singles(const struct srv_acl_rules *r, uint64_t *fake, struct proto_buf *b)
{
    int rc = 0;

    for (size_t i = 0; i < srv_command_count && rc == 0; i++) {
        const struct srv_command *cmd = &srv_command_table[i];
        bool user = bit_get(r->cmds, cmd->id);

        if (user == bit_get(fake, cmd->id))
            continue;
        rc = add_rule(b, user ? '+' : '-', NULL, cmd->fullname);
        change_perm(fake, cmd, user);
    }
    return rc;
}

/* Redis's ACLDescribeSelectorCommandRules: the commands part of a rule
 * line that rebuilds exactly this bitmap. Starts at +@all (the rules came
 * from +@all: future commands too) or -@all; then, while some category has
 * more commands agreeing with the bitmap than not, the one with the fewest
 * disagreements (ties: the most agreements) is added (-@all) or removed
 * (+@all) and taken out of the count; then single commands. */
int srv_acl_rules_describe_cmds(const struct srv_acl_rules *r, struct proto_buf *b)
{
    bool additive = !(r->flags & SRV_ACL_FUTURE);
    uint64_t fake[SRV_ACL_CMD_WORDS], temp[SRV_ACL_CMD_WORDS];
    bool applied[ACL_BIT_COUNT] = { false };
    int rc = proto_buf_append(b, additive ? "-@all " : "+@all ", 6);

    all_commands(fake, !additive);
    memcpy(temp, r->cmds, sizeof(temp));
    while (rc == 0) {
        int best = -1;
        unsigned mindiff = UINT_MAX, maxsame = 0;

        for (int j = 0; j < ACL_BIT_COUNT; j++) {
            unsigned on, off, diff, same;

            if (applied[j])
                continue;
            count_category(temp, 1ull << j, &on, &off);
            diff = additive ? off : on;
            same = additive ? on : off;
            if (same > diff && (diff < mindiff || (diff == mindiff && same > maxsame))) {
                best = j;
                mindiff = diff;
                maxsame = same;
            }
        }
        if (best < 0)
            break;
        change_category(fake, 1ull << best, additive);
        change_category(temp, 1ull << best, !additive);
        rc = add_rule(b, additive ? '+' : '-', "@", srv_acl_category_names[best]);
        applied[best] = true;
    }
    if (rc == 0)
        rc = describe_singles(r, fake, b);
    if (rc == 0)
        b->len--;                       /* the last space */
    return rc;
}

static int describe_pattern(struct proto_buf *b, const struct srv_acl_pattern *p, bool key)
{
    const char *prefix = !key ? "&"
                       : p->perm == (SRV_ACL_KEY_READ | SRV_ACL_KEY_WRITE) ? "~"
                       : p->perm == SRV_ACL_KEY_READ ? "%R~" : "%W~";
    int rc = proto_buf_append(b, prefix, strlen(prefix));

    return rc ? rc : proto_buf_append(b, p->text, p->len);
}

static int describe_list(struct proto_buf *b, struct srv_acl_pattern *const *p, size_t n,
                         bool key)
{
    int rc = 0;

    for (size_t i = 0; i < n && rc == 0; i++) {
        if (i > 0)
            rc = proto_buf_append(b, " ", 1);
        if (rc == 0)
            rc = describe_pattern(b, p[i], key);
    }
    return rc;
}

int srv_acl_rules_describe_keys(const struct srv_acl_rules *r, struct proto_buf *b)
{
    if (r->flags & SRV_ACL_ALLKEYS)
        return proto_buf_append(b, "~*", 2);
    return describe_list(b, r->keys, r->nkeys, true);
}

int srv_acl_rules_describe_chans(const struct srv_acl_rules *r, struct proto_buf *b)
{
    if (r->flags & SRV_ACL_ALLCHANNELS)
        return proto_buf_append(b, "&*", 2);
    return describe_list(b, r->chans, r->nchans, false);
}

void srv_acl_rules_flag_names(const struct srv_acl_rules *r, const char *names[5])
{
    size_t n = 0;

    names[n++] = r->flags & SRV_ACL_ON ? "on" : "off";
    if (r->flags & SRV_ACL_NOPASS)
        names[n++] = "nopass";
    if (r->flags & SRV_ACL_SKIP_SANITIZE)
        names[n++] = "skip-sanitize-payload";
    if (r->flags & SRV_ACL_SANITIZE)
        names[n++] = "sanitize-payload";
    names[n] = NULL;
}

int srv_acl_rules_describe(const struct srv_acl_rules *r, struct proto_buf *b)
{
    const char *flags[5];
    char hex[2 * SRV_ACL_DIGEST_LEN + 1];
    int rc = 0;

    srv_acl_rules_flag_names(r, flags);
    for (size_t i = 0; flags[i] != NULL && rc == 0; i++) {
        rc = proto_buf_append(b, flags[i], strlen(flags[i]));
        if (rc == 0)
            rc = proto_buf_append(b, " ", 1);
    }
    for (size_t i = 0; i < r->npass && rc == 0; i++) {
        srv_acl_hex(r->pass[i], hex);
        rc = proto_buf_append(b, "#", 1);
        if (rc == 0)
            rc = proto_buf_append(b, hex, 2 * SRV_ACL_DIGEST_LEN);
        if (rc == 0)
            rc = proto_buf_append(b, " ", 1);
    }
    if (rc == 0 && (r->flags & SRV_ACL_ALLKEYS || r->nkeys)) {
        rc = srv_acl_rules_describe_keys(r, b);
        if (rc == 0)
            rc = proto_buf_append(b, " ", 1);
    }
    if (rc == 0 && !(r->flags & SRV_ACL_ALLCHANNELS))
        rc = proto_buf_append(b, "resetchannels ", 14);
    if (rc == 0 && (r->flags & SRV_ACL_ALLCHANNELS || r->nchans)) {
        rc = srv_acl_rules_describe_chans(r, b);
        if (rc == 0)
            rc = proto_buf_append(b, " ", 1);
    }
    return rc ? rc : srv_acl_rules_describe_cmds(r, b);
}
