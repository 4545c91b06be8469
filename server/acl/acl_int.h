/*
 * Internal to server/acl/: the command bitmap of a user's rules (bit
 * srv_command.id set: the user may run it), shared by rules.c (applying
 * rules) and describe.c (writing them back).
 */
#ifndef MMCACHE_ACL_INT_H
#define MMCACHE_ACL_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "acl.h"

static inline void bit_set(uint64_t *w, unsigned id, bool on)
{
    if (on)
        w[id / 64] |= 1ull << (id % 64);
    else
        w[id / 64] &= ~(1ull << (id % 64));
}

static inline bool bit_get(const uint64_t *w, unsigned id)
{
    return (w[id / 64] >> (id % 64)) & 1;
}

/* Redis's ACLChangeSelectorPerm: a container takes its subcommands along. */
static inline void change_perm(uint64_t *w, const struct srv_command *cmd, bool allow)
{
    bit_set(w, cmd->id, allow);
    for (unsigned i = 0; i < cmd->nsubs; i++)
        bit_set(w, cmd->subs[i].id, allow);
}

/* Every row (subcommands too) of the category. */
static inline void change_category(uint64_t *w, uint64_t cat, bool allow)
{
    for (size_t i = 0; i < srv_command_count; i++)
        if (srv_command_table[i].categories & cat)
            change_perm(w, &srv_command_table[i], allow);
}

static inline void all_commands(uint64_t *w, bool allow)
{
    memset(w, 0, SRV_ACL_CMD_WORDS * sizeof(*w));
    for (size_t i = 0; allow && i < srv_command_count; i++)
        bit_set(w, (unsigned)i, true);
}

#endif
