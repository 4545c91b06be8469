/*
 * server/cmd/keyspec.c: srv_command_one_key, the request path's shortcut
 * past the key walk (srv__run locks and marks for WATCH the one key it
 * names), agrees with the walk itself, srv_command_keys, on every row of
 * the command table and every argument count: same key, same "written".
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "srv.h"

/* The server library's process state lives in main.c, which is not in
 * it; the command table refers to it. Unused here. */
struct srv srv;

static int setup(void **state)
{
    (void)state;
    srv_commands_init();
    return 0;
}

struct seen {
    size_t n, idx;
    unsigned kflags;
};

static int see(void *arg, size_t idx, unsigned kflags)
{
    struct seen *s = arg;

    if (s->n++ == 0) {
        s->idx = idx;
        s->kflags = kflags;
    }
    return 0;
}

#define MAXARGC 10

/* Every row that says "one key" names exactly argv[first_key] in every
 * call that has it, written exactly when the walk says so. */
static void test_one_key_is_the_walk(void **state)
{
    struct proto_arg argv[MAXARGC];
    size_t rows = 0;

    (void)state;
    for (size_t i = 0; i < MAXARGC; i++)
        argv[i] = (struct proto_arg){ .ptr = i == 3 ? "get" : "2", .len = i == 3 ? 3 : 1 };
    for (size_t r = 0; r < srv_command_count; r++) {
        const struct srv_command *cmd = &srv_command_table[r];

        assert_int_equal(cmd->one_key, srv_command_one_key(cmd));
        if (cmd->one_key == 0)
            continue;
        rows++;
        for (size_t argc = (size_t)cmd->first_key + 1; argc <= MAXARGC; argc++) {
            struct seen s = {0};

            srv_command_keys(cmd, argc, argv, see, &s);
            if (s.n != 1 || s.idx != (size_t)cmd->first_key ||
                (s.kflags & SRV_KEY_W) != (cmd->one_key & SRV_KEY_W))
                fail_msg("%s, %zu arguments: the walk saw %zu keys, the first at %zu "
                         "(flags %u); one_key says %d (flags %u)", cmd->fullname, argc, s.n,
                         s.idx, s.kflags, cmd->first_key, cmd->one_key);
        }
    }
    assert_true(rows > 50);   /* the string, hash, list... commands */
}

static const struct srv_command *row(const char *fullname)
{
    for (size_t r = 0; r < srv_command_count; r++)
        if (strcmp(srv_command_table[r].fullname, fullname) == 0)
            return &srv_command_table[r];
    fail_msg("no row %s", fullname);
    return NULL;
}

/* The rows the request path meets most, and rows whose keys depend on
 * the arguments (the walk decides those). */
static void test_rows(void **state)
{
    (void)state;
    assert_int_equal(row("get")->one_key, SRV_KEY_ONE);
    assert_int_equal(row("set")->one_key, SRV_KEY_ONE | SRV_KEY_W);
    assert_int_equal(row("incr")->one_key, SRV_KEY_ONE | SRV_KEY_W);
    assert_int_equal(row("hset")->one_key, SRV_KEY_ONE | SRV_KEY_W);
    assert_int_equal(row("object|freq")->one_key, SRV_KEY_ONE);
    assert_int_equal(row("del")->one_key, 0);      /* DEL k ...: last_key -1 */
    assert_int_equal(row("mget")->one_key, 0);
    assert_int_equal(row("mset")->one_key, 0);
    assert_int_equal(row("rename")->one_key, 0);   /* two keys */
    assert_int_equal(row("lmpop")->one_key, 0);    /* numkeys */
    assert_int_equal(row("ping")->one_key, 0);     /* none */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_key_is_the_walk),
        cmocka_unit_test(test_rows),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
