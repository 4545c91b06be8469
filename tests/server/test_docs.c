/*
 * docs.c and docs.def: every command and subcommand in commands.def has
 * its COMMAND DOCS row (a command added later without one fails here),
 * with every field filled in, and every row's argument line parses
 * (srv_commands_init aborts on one that does not).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "docs.h"
#include "srv.h"

struct srv srv;   /* the server library wants it; main.c defines it in the binary */

static int setup(void **state)
{
    (void)state;
    srv_commands_init();
    return 0;
}

static void test_every_command_has_docs(void **state)
{
    size_t missing = 0;

    (void)state;
    for (size_t i = 0; i < srv_command_count; i++) {
        const struct srv_command *cmd = &srv_command_table[i];
        const struct srv_doc_info *d = srv_docs_of(cmd);

        if (d == NULL) {
            fprintf(stderr, "no docs.def row for '%s'\n", cmd->fullname);
            missing++;
            continue;
        }
        assert_non_null(d->summary);
        assert_true(strlen(d->summary) >= 10);
        assert_true(strlen(d->since) >= 5);     /* "x.y.z" */
        assert_true(strlen(d->complexity) > 0);
        assert_true(strlen(d->group) > 0);
    }
    assert_int_equal(missing, 0);
}

/* The groups are Redis's words, which redis-cli shows and sorts by. */
static void test_groups_are_redis_groups(void **state)
{
    static const char *const groups[] = {
        "string", "bitmap", "hash", "list", "set", "sorted-set", "generic",
        "server", "connection", "scripting", "transactions", "pubsub",
        "hyperloglog", "geo", "stream", "cluster",
    };

    (void)state;
    for (size_t i = 0; i < srv_command_count; i++) {
        const struct srv_doc_info *d = srv_docs_of(&srv_command_table[i]);
        int found = 0;

        for (size_t g = 0; d != NULL && g < sizeof(groups) / sizeof(groups[0]); g++)
            found |= strcmp(d->group, groups[g]) == 0;
        if (!found)
            fprintf(stderr, "'%s': group not Redis's\n", srv_command_table[i].fullname);
        assert_true(found);
    }
}

/* A command that takes arguments (arity other than 1, or -1 for a
 * container) documents some; one that takes none documents none. */
static void test_arguments_match_arity(void **state)
{
    (void)state;
    for (size_t i = 0; i < srv_command_count; i++) {
        const struct srv_command *cmd = &srv_command_table[i];
        const struct srv_doc_info *d = srv_docs_of(cmd);
        int words = cmd->parent != NULL ? 2 : 1;   /* "config get" */
        int min = cmd->arity < 0 ? -cmd->arity : cmd->arity;

        if (d == NULL || cmd->nsubs > 0)
            continue;
        if (min > words && d->nargs == 0)
            fail_msg("'%s' takes arguments but documents none", cmd->fullname);
        if (cmd->arity == words && d->nargs != 0)
            fail_msg("'%s' takes no arguments but documents some", cmd->fullname);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_command_has_docs),
        cmocka_unit_test(test_groups_are_redis_groups),
        cmocka_unit_test(test_arguments_match_arity),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
