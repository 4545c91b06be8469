/*
 * server/acl/rules.c: Redis 7.0's rule words applied to one user, their
 * errors, the passwords, and the text ACL LIST shows. Expected lines were
 * read from redis-server 7.0.15 for the same words (where they involve
 * only commands both servers have). A property test checks that what
 * ACL LIST writes rebuilds the same user, for random rule sequences.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "acl.h"

/* The server library's process state lives in main.c, which is not in
 * it; the command table refers to it. Unused here. */
struct srv srv;

static int setup(void **state)
{
    (void)state;
    srv_commands_init();
    return 0;
}

/* Apply space-separated words; the rc of the first that fails. */
static int apply(struct srv_acl_rules *r, const char *words)
{
    char *buf = strdup(words), *save = NULL;
    int rc = 0;

    assert_non_null(buf);
    for (char *w = strtok_r(buf, " ", &save); w && rc == 0; w = strtok_r(NULL, " ", &save))
        rc = srv_acl_rules_apply(r, w, strlen(w));
    free(buf);
    return rc;
}

/* describe() into a static buffer. */
static const char *describe(const struct srv_acl_rules *r)
{
    static char out[4096];
    struct proto_buf b;

    proto_buf_init(&b);
    assert_int_equal(srv_acl_rules_describe(r, &b), 0);
    snprintf(out, sizeof(out), "%.*s", (int)b.len, b.data);
    proto_buf_free(&b);
    return out;
}

static void expect_line(const char *words, const char *want)
{
    struct srv_acl_rules *r = srv_acl_rules_new();

    assert_non_null(r);
    assert_int_equal(apply(r, words), 0);
    if (strcmp(describe(r), want) != 0)
        fail_msg("rules `%s`\n  want `%s`\n  got  `%s`", words, want, describe(r));
    srv_acl_rules_unref(r);
}

static void test_describe_like_redis(void **state)
{
    (void)state;
    expect_line("", "off resetchannels -@all");
    expect_line("reset", "off sanitize-payload resetchannels -@all");
    expect_line("on >pw ~cache:* +@all -@dangerous +get -config|set",
                "on #30c952fab122c3f9759f02a6d95c3758b246b4fee239957b2d4fee46e26170c4 "
                "~cache:* resetchannels +@all -@dangerous");
    expect_line("%RW~a %R~a ~b %W~b &ch allchannels", "off ~a ~b &* -@all");
    expect_line("on nopass >x", "on #2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881 "
                                "resetchannels -@all");
    expect_line(">p nopass >q <q", "off resetchannels -@all");
    expect_line("%R", "off %R~ resetchannels -@all");
    expect_line("%R~r:* %W~w:* ~x", "off %R~r:* %W~w:* ~x resetchannels -@all");
    expect_line("allkeys resetkeys ~k", "off ~k resetchannels -@all");
    expect_line("+@all -get", "off resetchannels +@all -get");
    expect_line("-@all +get", "off resetchannels -@all +get");
    expect_line("+config|get", "off resetchannels -@all +config|get");
    expect_line("+@all -config +config|get", "off resetchannels +@all -config +config|get");
    expect_line("allcommands nocommands", "off resetchannels -@all");
    expect_line("ON Off On NoPass", "on nopass resetchannels -@all");
    expect_line("skip-sanitize-payload", "off skip-sanitize-payload resetchannels -@all");

    struct srv_acl_rules *d = srv_acl_rules_new_default();
    assert_string_equal(describe(d), "on nopass ~* &* +@all");
    srv_acl_rules_unref(d);
}

static void expect_err(const char *words, int want)
{
    struct srv_acl_rules *r = srv_acl_rules_new();
    int rc = apply(r, words);

    if (rc != want)
        fail_msg("rules `%s`: rc %d (%s), want %d (%s)", words, rc, srv_acl_strerror(rc),
                 want, srv_acl_strerror(want));
    srv_acl_rules_unref(r);
}

static void test_errors(void **state)
{
    (void)state;
    expect_err("<nope", -ENODEV);
    expect_err("!0000000000000000000000000000000000000000000000000000000000000000", -ENODEV);
    expect_err("#abc", -EBADMSG);
    expect_err("#30C952FAB122C3F9759F02A6D95C3758B246B4FEE239957B2D4FEE46E26170C4", -EBADMSG);
    expect_err("+nosuch", -ENOENT);
    expect_err("-nosuch", -ENOENT);
    expect_err("+", -ENOENT);
    expect_err("+@nosuch", -ENOENT);
    expect_err("+@", -ENOENT);
    expect_err("bogus", -EINVAL);
    expect_err("allkeys ~x", -EEXIST);
    expect_err("allchannels &x", -EISDIR);
    expect_err("+config|", -EINVAL);
    expect_err("+config|get|x", -ECHILD);
    expect_err("-select|0", -ENOENT);
    expect_err("+config|nosuch", -ENOENT);
    expect_err("%X~a", -EINVAL);
    expect_err("%~a", -EINVAL);
    expect_err("%RR~a", -EINVAL);
    expect_err("(+get ~x)", -EINVAL);   /* selectors are not kept */
    assert_string_equal(srv_acl_strerror(-ENOENT), "Unknown command or category name in ACL");

    /* a pattern with a blank or a NUL is refused */
    struct srv_acl_rules *r = srv_acl_rules_new();
    assert_int_equal(srv_acl_rules_apply(r, "~a b", 4), -EINVAL);
    assert_int_equal(srv_acl_rules_apply(r, "~a\0b", 4), -EINVAL);
    assert_int_equal(srv_acl_rules_apply(r, "&a\tb", 4), -EINVAL);
    assert_string_equal(describe(r), "off resetchannels -@all");   /* unchanged */
    srv_acl_rules_unref(r);
}

static void test_passwords(void **state)
{
    (void)state;
    struct srv_acl_rules *r = srv_acl_rules_new();

    assert_false(srv_acl_rules_password_ok(r, "", 0));     /* none set, not nopass */
    assert_int_equal(apply(r, ">one >two"), 0);
    assert_true(srv_acl_rules_password_ok(r, "one", 3));
    assert_true(srv_acl_rules_password_ok(r, "two", 3));
    assert_false(srv_acl_rules_password_ok(r, "three", 5));
    assert_false(srv_acl_rules_password_ok(r, "on", 2));
    /* the whole digest is compared: passwords whose digests share the
     * first byte, or the last, with a stored one are refused */
    unsigned char want[SRV_ACL_DIGEST_LEN], got[SRV_ACL_DIGEST_LEN];
    srv_acl_digest("one", 3, want);
    for (int at = 0; at < SRV_ACL_DIGEST_LEN; at += SRV_ACL_DIGEST_LEN - 1) {
        int found = 0;
        for (int i = 0; i < 100000 && !found; i++) {
            char guess[16];
            int n = snprintf(guess, sizeof(guess), "g%d", i);
            srv_acl_digest(guess, (size_t)n, got);
            if (got[at] == want[at]) {
                found = 1;
                assert_false(srv_acl_rules_password_ok(r, guess, (size_t)n));
            }
        }
        assert_true(found);
    }
    /* binary passwords: the whole length counts */
    assert_int_equal(srv_acl_rules_apply(r, ">a\0b", 4), 0);
    assert_true(srv_acl_rules_password_ok(r, "a\0b", 3));
    assert_false(srv_acl_rules_password_ok(r, "a", 1));
    /* removal by digest */
    unsigned char d[SRV_ACL_DIGEST_LEN];
    char hex[2 * SRV_ACL_DIGEST_LEN + 2];
    srv_acl_digest("one", 3, d);
    hex[0] = '!';
    srv_acl_hex(d, hex + 1);
    assert_int_equal(srv_acl_rules_apply(r, hex, strlen(hex)), 0);
    assert_false(srv_acl_rules_password_ok(r, "one", 3));
    assert_int_equal(srv_acl_rules_apply(r, hex, strlen(hex)), -ENODEV);
    /* the same password twice is kept once */
    assert_int_equal(apply(r, ">two >two"), 0);
    assert_int_equal(r->npass, 2);
    assert_int_equal(apply(r, "nopass"), 0);
    assert_true(srv_acl_rules_password_ok(r, "anything", 8));
    assert_int_equal(r->npass, 0);
    assert_int_equal(apply(r, "resetpass"), 0);
    assert_false(srv_acl_rules_password_ok(r, "anything", 8));
    srv_acl_rules_unref(r);
}

static void test_copy_is_independent(void **state)
{
    (void)state;
    struct srv_acl_rules *a = srv_acl_rules_new();

    assert_int_equal(apply(a, "on >pw ~a:* &c +@string"), 0);
    struct srv_acl_rules *b = srv_acl_rules_copy(a);
    assert_non_null(b);
    char want[4096];
    snprintf(want, sizeof(want), "%s", describe(a));
    assert_string_equal(describe(b), want);
    assert_int_equal(apply(b, "resetkeys resetchannels resetpass -@all off"), 0);
    assert_string_equal(describe(a), want);
    srv_acl_rules_unref(a);
    assert_string_equal(describe(b), "off resetchannels -@all");
    srv_acl_rules_unref(b);
}

/* ---- property: ACL LIST's words rebuild the same user ---------------------- */

static const char *random_word(unsigned *seed)
{
    static char buf[64];
    static const char *const fixed[] = {
        "+@all", "-@all", "allcommands", "nocommands", "on", "off", "nopass", "resetpass",
        "~*", "allkeys", "resetkeys", "&*", "resetchannels", ">pw1", ">pw2", "reset",
    };
    unsigned k = (unsigned)rand_r(seed) % 6;

    if (k == 0)
        return fixed[(unsigned)rand_r(seed) % (sizeof(fixed) / sizeof(fixed[0]))];
    if (k == 1 || k == 2) {     /* a category */
        int bit = rand_r(seed) % ACL_BIT_COUNT;
        snprintf(buf, sizeof(buf), "%c@%s", k == 1 ? '+' : '-', srv_acl_category_names[bit]);
        return buf;
    }
    if (k == 3 || k == 4) {     /* a command or subcommand */
        const struct srv_command *cmd =
            &srv_command_table[(unsigned)rand_r(seed) % srv_command_count];
        snprintf(buf, sizeof(buf), "%c%s", k == 3 ? '+' : '-', cmd->fullname);
        return buf;
    }
    snprintf(buf, sizeof(buf), "%s~k%d:*", (const char *[]){"", "%R", "%W", "%RW"}[rand_r(seed) % 4],
             rand_r(seed) % 3);
    return buf;
}

static void test_describe_round_trip(void **state)
{
    (void)state;
    unsigned seed = 12345;

    for (int iter = 0; iter < 3000; iter++) {
        struct srv_acl_rules *r = srv_acl_rules_new();
        char words[2048] = "";
        int n = 1 + rand_r(&seed) % 12;

        for (int i = 0; i < n; i++) {
            const char *w = random_word(&seed);
            if (srv_acl_rules_apply(r, w, strlen(w)) == 0) {
                strncat(words, w, sizeof(words) - strlen(words) - 2);
                strcat(words, " ");
            }
        }
        char line[4096];
        snprintf(line, sizeof(line), "%s", describe(r));
        struct srv_acl_rules *back = srv_acl_rules_new();
        assert_int_equal(apply(back, line), 0);
        if (memcmp(back->cmds, r->cmds, sizeof(r->cmds)) != 0 ||
            strcmp(describe(back), line) != 0 ||
            (back->flags & ~SRV_ACL_ALLCOMMANDS) != (r->flags & ~SRV_ACL_ALLCOMMANDS))
            fail_msg("rules `%s`\n  described `%s`\n  rebuilt   `%s`", words, line,
                     describe(back));
        srv_acl_rules_unref(back);
        srv_acl_rules_unref(r);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_describe_like_redis),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_passwords),
        cmocka_unit_test(test_copy_is_independent),
        cmocka_unit_test(test_describe_round_trip),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
