/*
 * Tests of config/bugs.c and the inject-bug / bug-amplify settings: the
 * catalogue is whole (25 ids, two controls, every text filled in), the
 * value's grammar and messages, the list and the banner, and that the bugs
 * which act only at start-up cannot be switched by CONFIG SET or a reload
 * while the others can. Its own process: cfg_init keeps process-wide state.
 */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "config.h"
#include "inject.h"
#include "skip.h"

#define BIT(n) (1u << (n))

static void test_catalogue_whole(void **s)
{
    (void)s;
    int controls = 0, startup = 0;
    for (int id = 1; id <= CFG_BUG_MAX; id++) {
        const struct cfg_bug *b = cfg_bug(id);
        if (!b)
            fail_msg("bug %d is not in the catalogue", id);
        assert_int_equal(b->id, id);
        assert_true(strlen(b->slug) > 2 && strlen(b->title) > 5);
        assert_true(strlen(b->site) > 10 && strlen(b->symptom) > 5 && strlen(b->scenario) > 5);
        assert_null(strchr(b->slug, ' '));
        /* the site names a file of the project */
        assert_true(strncmp(b->site, "server/", 7) == 0 || strncmp(b->site, "cache/", 6) == 0 ||
                    strncmp(b->site, "config/", 7) == 0);
        for (int j = 1; j < id; j++)
            if (strcmp(cfg_bug(j)->slug, b->slug) == 0)
                fail_msg("bugs %d and %d share the name %s", j, id, b->slug);
        controls += b->control;
        startup += !b->live;
    }
    assert_null(cfg_bug(0));
    assert_null(cfg_bug(26));
    assert_null(cfg_bug(-1));
    /* the two controls of the source material */
    assert_int_equal(controls, 2);
    assert_true(cfg_bug(16)->control && cfg_bug(24)->control);
    /* the start-up-only mask is exactly the rows with live 0 */
    uint32_t m = cfg_bugs_startup_only();
    for (int id = 1; id <= CFG_BUG_MAX; id++)
        assert_int_equal((m >> id) & 1u, !cfg_bug(id)->live);
    assert_int_equal(__builtin_popcount(m), startup);
    assert_int_equal(m & ~INJECT_BUGS_MASK, 0);
}

static void test_parse_and_format(void **s)
{
    (void)s;
    static const struct { const char *in; uint32_t mask; const char *out; } ok[] = {
        {"13", BIT(13), "13"},
        {"0", 0, "none"},
        {"none", 0, "none"},
        {"NONE", 0, "none"},
        {"", 0, "none"},
        {"3,13", BIT(3) | BIT(13), "3,13"},
        {"13, 3", BIT(3) | BIT(13), "3,13"},
        {"13 3", BIT(3) | BIT(13), "3,13"},
        {"1,25", BIT(1) | BIT(25), "1,25"},
        {"013", BIT(13), "13"},
        {"mutex-copied", BIT(13), "13"},
        {"Mutex-Copied,2", BIT(2) | BIT(13), "2,13"},
        {"13,13", BIT(13), "13"},
        {"0,5", BIT(5), "5"},
    };
    char err[CFG_ERRLEN], buf[128];
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        uint32_t m = 0xdead;
        if (cfg_bugs_parse(ok[i].in, &m, err, sizeof(err)))
            fail_msg("'%s' refused: %s", ok[i].in, err);
        assert_int_equal(m, ok[i].mask);
        cfg_bugs_format(m, buf, sizeof(buf));
        assert_string_equal(buf, ok[i].out);
    }
    static const struct { const char *in; const char *bad; } no[] = {
        {"26", "26"}, {"-1", "-1"}, {"13,99", "99"}, {"list", "list"}, {"1.5", "1.5"},
        {"mutex", "mutex"}, {"99999999999999999999", "99999999999999999999"},
    };
    for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
        uint32_t m = BIT(7);
        if (cfg_bugs_parse(no[i].in, &m, err, sizeof(err)) != -1)
            fail_msg("'%s' accepted", no[i].in);
        char want[CFG_ERRLEN];
        snprintf(want, sizeof(want), "unknown bug '%s': valid bugs are 1..25 by number or "
                 "name, or none (mmcache --inject-bug=list shows them)", no[i].bad);
        assert_string_equal(err, want);
        assert_int_equal(m, BIT(7));   /* unchanged */
    }
    /* sites that replace one another */
    uint32_t both = BIT(7);
    assert_int_equal(cfg_bugs_parse("16,13", &both, err, sizeof(err)), -1);
    assert_string_equal(err, "bugs 13 and 16 cannot be combined: both replace the shard lock "
                             "(choose one)");
    assert_int_equal(both, BIT(7));
    /* every slug names its own id */
    for (int id = 1; id <= CFG_BUG_MAX; id++) {
        uint32_t m;
        assert_int_equal(cfg_bugs_parse(cfg_bug(id)->slug, &m, err, sizeof(err)), 0);
        assert_int_equal(m, BIT(id));
    }
}

static void test_settings(void **s)
{
    (void)s;
    struct cfg c;
    char err[CFG_ERRLEN], buf[CFG_VALUE_MAX];
    cfg_defaults(&c);
    assert_int_equal(c.inject_bugs, 0);
    assert_true(c.bug_amplify);
    assert_int_equal(cfg_inject_mask(&c), INJECT_AMPLIFY_BIT);
    assert_int_equal(cfg_set(&c, "inject-bug", "13", err, sizeof(err)), 0);
    assert_int_equal(cfg_inject_mask(&c), BIT(13) | INJECT_AMPLIFY_BIT);
    assert_int_equal(cfg_set(&c, "bug-amplify", "NO", err, sizeof(err)), 0);
    assert_int_equal(cfg_inject_mask(&c), BIT(13));
    cfg_get(&c, "bug-amplify", buf, sizeof(buf));
    assert_string_equal(buf, "no");
    assert_int_equal(cfg_set(&c, "bug-amplify", "1", err, sizeof(err)), -1);
    assert_string_equal(err, "argument must be 'yes' or 'no' (got '1')");
    assert_false(c.bug_amplify);
    assert_int_equal(cfg_set(&c, "inject-bug", "list", err, sizeof(err)), -1);
    assert_int_equal(c.inject_bugs, BIT(13));
}

/* --inject-bug=list: prints nothing itself, asks the caller to list. */
static void test_list_flag(void **s)
{
    (void)s;
    struct cfg c;
    char err[CFG_ERRLEN];
    int exit_now;
    char *av[] = {"mmcache", "--port", "7000", "--inject-bug=list", "--port", "x", NULL};
    cfg_defaults(&c);
    assert_int_equal(cfg_parse_args(&c, 6, av, err, sizeof(err), &exit_now), 0);
    assert_int_equal(exit_now, 3);
    char *av2[] = {"mmcache", "--inject-bug", "LIST", NULL};
    assert_int_equal(cfg_parse_args(&c, 3, av2, err, sizeof(err), &exit_now), 0);
    assert_int_equal(exit_now, 3);
    char *av3[] = {"mmcache", "--inject-bug", "30", NULL};
    assert_int_equal(cfg_parse_args(&c, 3, av3, err, sizeof(err), &exit_now), -1);
    assert_string_equal(err, "flag --inject-bug: unknown bug '30': valid bugs are 1..25 by "
                             "number or name, or none (mmcache --inject-bug=list shows them)");
}

/* The printed catalogue names every bug, its switch and the controls. */
static void test_print_and_banner(void **s)
{
    (void)s;
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    assert_non_null(f);
    cfg_bugs_print(f);
    fclose(f);
    for (int id = 1; id <= CFG_BUG_MAX; id++) {
        const struct cfg_bug *b = cfg_bug(id);
        char row[256];
        snprintf(row, sizeof(row), "\n%3d  %-24s %-8s %s", id, b->slug,
                 b->live ? "live" : "start-up", b->title);
        if (!strstr(text, row))
            fail_msg("no row for bug %d: [%s]", id, row + 1);
    }
    assert_non_null(strstr(text, "[CONTROL: correct code]"));
    free(text);

    char line[1024];
    cfg_bug_banner(13, line, sizeof(line));
    char want[1024];
    snprintf(want, sizeof(want), "INJECTED BUG 13 (mutex copied by value): %s. Expect: %s.",
             cfg_bug(13)->site, cfg_bug(13)->symptom);
    assert_memory_equal(line, want, strlen(want));
    cfg_bug_banner(16, line, sizeof(line));
    assert_non_null(strstr(line, "[control: correct code]"));
}

/* ---- live switching: its own cfg_init ------------------------------------------ */

static char conf[64] = "/tmp/mmcache-test-bugs-XXXXXX";
static int startup_bug;   /* a bug that acts only at start-up, if any */
static int live_bug = 13;

static void write_conf(const char *text)
{
    FILE *f = fopen(conf, "w");
    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
}

static void notes(void *arg, const char *msg)
{
    snprintf((char *)arg, CFG_ERRLEN, "%s", msg);
}

static uint32_t running_bugs(void)
{
    const struct cfg *c = cfg_read_lock();
    uint32_t m = c->inject_bugs;
    cfg_read_unlock(c);
    return m;
}

static void test_live_switching(void **s)
{
    (void)s;
    char err[CFG_ERRLEN] = "", note[CFG_ERRLEN] = "", text[128];
    for (int id = 1; id <= CFG_BUG_MAX && !startup_bug; id++)
        if (!cfg_bug(id)->live)
            startup_bug = id;
    if (!startup_bug)
        TEST_SKIP("every bug is live: no start-up-only bug to refuse");
    static char *av[3];
    av[0] = "mmcache";
    av[1] = conf;
    av[2] = NULL;
    snprintf(text, sizeof(text), "port 7010\ninject-bug %d\n", startup_bug);
    write_conf(text);
    assert_int_equal(cfg_init(2, av, err, sizeof(err)), 0);
    assert_int_equal(running_bugs(), BIT(startup_bug));

    /* a live bug joins; the start-up one stays */
    const char *names[] = {"inject-bug"};
    char val[16];
    snprintf(val, sizeof(val), "%d,%d", startup_bug, live_bug);
    const char *vals[] = {val};
    size_t bad = 99;
    if (cfg_config_set(1, names, vals, CFG_GUARDS_ALL, &bad, err, sizeof(err)))
        fail_msg("CONFIG SET inject-bug %s: %s", val, err);
    assert_int_equal(running_bugs(), BIT(startup_bug) | BIT(live_bug));
    /* dropping the start-up bug is refused, and changes nothing */
    vals[0] = "none";
    assert_int_equal(cfg_config_set(1, names, vals, CFG_GUARDS_ALL, &bad, err, sizeof(err)), -1);
    assert_int_equal(bad, 0);
    char want[CFG_ERRLEN];
    snprintf(want, sizeof(want), "bug %d (%s) acts only at start-up: restart with "
             "--inject-bug=%d", startup_bug, cfg_bug(startup_bug)->title, startup_bug);
    assert_string_equal(err, want);
    assert_int_equal(running_bugs(), BIT(startup_bug) | BIT(live_bug));

    /* a reload whose file drops the start-up bug and names another live one keeps the
     * start-up bug, says so, and switches the live ones */
    snprintf(text, sizeof(text), "port 7010\ninject-bug %d\n", live_bug + 1);
    write_conf(text);
    assert_int_equal(cfg_reload(err, sizeof(err), notes, note), 0);
    assert_int_equal(running_bugs(), BIT(startup_bug) | BIT(live_bug + 1));
    snprintf(want, sizeof(want), "inject-bug: bugs that act only at start-up cannot be switched "
             "by a reload; running with %d,%d (restart to apply)", startup_bug, live_bug + 1);
    assert_string_equal(note, want);
    /* and the file can switch live bugs off */
    snprintf(text, sizeof(text), "port 7010\ninject-bug %d\n", startup_bug);
    write_conf(text);
    assert_int_equal(cfg_reload(err, sizeof(err), notes, note), 0);
    assert_int_equal(running_bugs(), BIT(startup_bug));
}

static int setup(void **s)
{
    (void)s;
    int fd = mkstemp(conf);
    if (fd < 0)
        return -1;
    close(fd);
    cfg_thread_register();
    return 0;
}

static int teardown(void **s)
{
    (void)s;
    unlink(conf);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_catalogue_whole),
        cmocka_unit_test(test_parse_and_format),
        cmocka_unit_test(test_settings),
        cmocka_unit_test(test_list_flag),
        cmocka_unit_test(test_print_and_banner),
        cmocka_unit_test(test_live_switching),
    };
    return test_exit_code(cmocka_run_group_tests_name("config/bugs", tests, setup, teardown));
}
