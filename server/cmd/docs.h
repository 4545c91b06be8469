/*
 * COMMAND DOCS: the documentation of every row of commands.def, kept in
 * its own table (docs.def, keyed by the full name) so that adding a
 * command and documenting it touch different lines.
 */
#ifndef MMCACHE_SRV_DOCS_H
#define MMCACHE_SRV_DOCS_H

#include <stddef.h>

struct srv_command;
struct srv_conn;

/* Parse docs.def's argument lines and attach each row to its command.
 * A row that does not parse is a programmer error: it is logged and the
 * process aborts, so no build with a broken row gets past its first test.
 * Context: main thread, from srv_commands_init(), before workers start;
 * everything it builds is immutable after. */
void srv_docs_init(void);

/* The documented fields of cmd, NULL when docs.def has no row for it. */
struct srv_doc_info {
    const char *summary, *since, *group, *complexity;
    size_t nargs;   /* top-level arguments */
};
const struct srv_doc_info *srv_docs_of(const struct srv_command *cmd);

/* One COMMAND DOCS entry (the docs map, not the name before it), RESP2's
 * flat array as Redis 7.0 sends it: summary, since, group, complexity,
 * arguments (when the command takes any), subcommands (a container's).
 * A command without docs gets an empty map. Context: c's worker. */
void srv_docs_reply(struct srv_conn *c, const struct srv_command *cmd);

#endif
